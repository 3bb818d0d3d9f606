// bench.cjs: the reference side of `make -f tests/policy.mk bench`: times
// cedar-wasm (pinned in package.json) deciding requests against a policy
// set pre-parsed once (preparsePolicySet + statefulIsAuthorized), as
// hearth-policy's bench does with its loaded set. Assumes node_modules from
// `npm ci` under build/ (CEDAR_WASM_MODULES or --modules DIR). Leaves out
// schemas.
// usage: node bench.cjs --policies F --entities F --requests F [--seconds S]
'use strict';
const fs = require('fs');
const path = require('path');
const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const mods = arg('--modules', process.env.CEDAR_WASM_MODULES);
const cedar = require(path.join(mods, '@cedar-policy/cedar-wasm/nodejs'));
const policies = fs.readFileSync(arg('--policies'), 'utf8');
const entities = JSON.parse(fs.readFileSync(arg('--entities'), 'utf8'));
const requests = JSON.parse(fs.readFileSync(arg('--requests'), 'utf8'));
const seconds = parseFloat(arg('--seconds', '2'));

const pre = cedar.preparsePolicySet('bench', { staticPolicies: policies });
if (pre.type !== 'success') throw new Error(JSON.stringify(pre.errors));
const lat = [];
let allow = 0, n = 0;
const t0 = process.hrtime.bigint();
const end = t0 + BigInt(Math.round(seconds * 1e9));
for (;;) {
	const r = requests[n % requests.length];
	const a = process.hrtime.bigint();
	const ans = cedar.statefulIsAuthorized({
		principal: r.principal, action: r.action, resource: r.resource,
		context: r.context || {}, preparsedPolicySetId: 'bench', entities,
	});
	const b = process.hrtime.bigint();
	if (ans.type !== 'success') throw new Error(JSON.stringify(ans.errors));
	allow += ans.response.decision === 'allow';
	lat.push(Number(b - a));
	n++;
	if ((n & 15) === 0 && b > end) break;
}
const total = Number(process.hrtime.bigint() - t0);
lat.sort((x, y) => x - y);
console.log(JSON.stringify({
	decisions: n, per_second: Math.round(n / (total / 1e9)),
	p50_us: lat[Math.floor(n / 2)] / 1e3, p99_us: lat[Math.floor(n * 0.99)] / 1e3, allow,
}));
