// reference.cjs: runs the reference Cedar (@cedar-policy/cedar-wasm, pinned in
// package.json) on a batch of authorization cases, for Hearth's differential
// tests. Assumes node_modules was installed with `npm ci` under build/ and is
// found through NODE_PATH or --modules DIR. Leaves out schemas and templates.
//
// Input (stdin): a JSON array of cases
//   {"policies": "<cedar text>", "entities": [...], "principal": {type,id},
//    "action": {...}, "resource": {...}, "context": {...}}
// Output (stdout): one JSON line per case,
//   {"decision": "allow"|"deny", "reasons": [ids], "errors": [ids]}
// or {"failure": "<message>"} when cedar-wasm rejects the input (parse error).
'use strict';
const path = require('path');
let mods = process.env.CEDAR_WASM_MODULES;
const i = process.argv.indexOf('--modules');
if (i > 0) mods = process.argv[i + 1];
const cedar = require(path.join(mods, '@cedar-policy/cedar-wasm/nodejs'));

const input = require('fs').readFileSync(0, 'utf8');
const cases = JSON.parse(input);
const out = [];
for (const c of cases) {
	let ans;
	try {
		ans = cedar.isAuthorized({
			principal: c.principal, action: c.action,
			resource: c.resource, context: c.context || {},
			policies: { staticPolicies: c.policies },
			entities: c.entities || [],
		});
	} catch (e) {
		out.push(JSON.stringify({ failure: String(e) }));
		continue;
	}
	if (ans.type !== 'success') {
		out.push(JSON.stringify({ failure: ans.errors.map(e => e.message).join('; ') }));
		continue;
	}
	const d = ans.response.diagnostics;
	out.push(JSON.stringify({
		decision: ans.response.decision,
		reasons: d.reason.slice().sort(),
		errors: d.errors.map(e => e.policyId).sort(),
		messages: c.verbose ? d.errors.map(e => e.error.message) : undefined,
	}));
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
