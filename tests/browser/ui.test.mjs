// ui.test.mjs: the owner's web UI, driven in Debian's Chromium (headless)
// with playwright-core, against a freshly booted hub (tests/e2e/test_browser.py
// boots it and sets the environment):
//   HEARTH_URL          https://127.0.0.1:PORT
//   HEARTH_CLAIM_CODE   the code the console printed
//   HEARTH_MANIFEST     the reference service's manifest (JSON file)
//   HEARTH_PW_DIR       where `npm ci` put playwright-core (build/browser)
//   HEARTH_CHROMIUM     /usr/bin/chromium
//   HEARTH_SHOTS        where the screenshots go
// One story: claim, log out and in, add a device (its token shown once),
// ingest through the API, import the manifest and accept its proposal,
// validate and simulate in the policy editor, a release (the service pulls)
// seen on the dashboard (with its @rate meter) and in the audit log, an
// @ask policy with a @rate and its approval, inventory, export and delete,
// revoking the device, removing the service, settings and a password
// change (then logging in with the new one), logout. Fails on any
// console error, page error, failed request or HTTP error in the page.
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (k) => { if (!process.env[k]) throw new Error(`${k} is not set`); return process.env[k]; };
const URL0 = env('HEARTH_URL');
const SHOTS = env('HEARTH_SHOTS');
const require = createRequire(join(env('HEARTH_PW_DIR'), 'package.json'));
const { chromium } = require('playwright-core');

const PASSWORD = 'correct Horse battery 42';
const PASSWORD2 = 'staple Lantern orbit 7 ways';
const DAY1 = 1717200000;
const RECORDS = [
  ['r1', DAY1 + 3600 * 20, 'Heat', 'drama', 100], ['r2', DAY1 + 3600 * 21, 'Ran', 'drama', 160],
  ['r3', DAY1 + 3600 * 22, 'Alien', 'drama', 117], ['r4', DAY1 + 3600 * 19, 'Airplane!', 'comedy', 88],
  ['r5', DAY1 + 86400 + 36000, 'Koyaanisqatsi', 'documentary', 86],
  ['r6', DAY1 + 86400 + 39600, 'Baraka', 'documentary', 96],
];
const PID = 'recommender.viewing.history';

// ---- the outside world: a device and the service talk to the API directly
function call(method, path, body, token) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const u = new URL(URL0 + path);
    const req = httpsRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method,
      rejectUnauthorized: false, headers: { 'Content-Type': 'application/json',
        ...(token ? { Authorization: 'Bearer ' + token } : {}), ...(data ? { 'Content-Length': data.length } : {}) } },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const t = Buffer.concat(chunks).toString();
        let j = null;
        try { j = t ? JSON.parse(t) : null; } catch { j = t; }
        resolve({ status: res.statusCode, body: j });
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

function assert(cond, msg) { if (!cond) throw new Error('assertion failed: ' + msg); }

// ---- the browser
const problems = [];
let step = 'start';
const userDir = mkdtempSync(join(tmpdir(), 'hearth-chromium-'));
rmSync(SHOTS, { recursive: true, force: true }); // this run's screenshots only
mkdirSync(SHOTS, { recursive: true });
const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: env('HEARTH_CHROMIUM'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  ignoreHTTPSErrors: true, // the hub's certificate is self-signed
  acceptDownloads: true,
  viewport: { width: 1200, height: 900 },
});
const page = ctx.pages()[0] || await ctx.newPage();
page.setDefaultTimeout(20000);
page.on('console', (m) => { if (process.env.HEARTH_UI_DEBUG) console.log('page:', m.type(), m.text()); if (m.type() === 'error') problems.push(`[${step}] console error: ${m.text()}`); });
page.on('pageerror', (e) => problems.push(`[${step}] page error: ${e.message}`));
page.on('requestfailed', (r) => {
  // A blob: download the page revokes is not a failed request of the hub's.
  if (!r.url().startsWith('blob:')) problems.push(`[${step}] request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
});
page.on('response', (r) => {
  if (process.env.HEARTH_UI_DEBUG) console.log('resp:', r.status(), r.request().method(), r.url());
  if (r.status() >= 400) problems.push(`[${step}] HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
});
let cspSeen = '';
page.on('response', (r) => {
  if (r.url() === URL0 + '/' && r.request().resourceType() === 'document') cspSeen = r.headers()['content-security-policy'] || '';
});

let n = 0;
async function shot(name) {
  n += 1;
  await page.screenshot({ path: join(SHOTS, `${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
}
async function ready(route) {
  await page.waitForSelector(`main[data-ready="${route}"]`);
  await page.waitForLoadState('networkidle');
}
async function nav(route) {
  step = route;
  await page.evaluate(() => document.getElementById('main').removeAttribute('data-ready'));
  await page.click(`nav a[href="#/${route}"]`);
  await ready(route);
}

let failed = null;
try {
  // 1. First run: every page leads to setup; the claim code from the console.
  step = 'setup';
  await page.goto(URL0 + '/#/dashboard');
  await ready('setup');
  assert(cspSeen.includes("script-src 'self'") || cspSeen === '', 'CSP header: ' + cspSeen);
  await shot('setup');
  await page.getByLabel('Claim code').fill(env('HEARTH_CLAIM_CODE'));
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Claim this hub' }).click();
  await ready('dashboard');

  // 2. Log out and back in.
  step = 'login';
  await page.getByRole('button', { name: 'Log out' }).click();
  await ready('login');
  await shot('login');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.keyboard.press('Enter'); // keyboard only
  await ready('dashboard');

  // 3. A device; its token is shown once.
  await nav('devices');
  await page.getByLabel('Name').fill('living-room-tv');
  await page.getByRole('button', { name: 'Add' }).click();
  const token = (await page.locator('[data-token]').textContent()).trim();
  assert(token.startsWith('htd_'), 'device token ' + token);
  await shot('devices');

  // 4. The device ingests through the API.
  step = 'ingest';
  const ing = await call('POST', '/api/v1/records', { records: RECORDS.map(([id, time, title, genre, duration]) =>
    ({ id, category: 'viewing.history', time, payload: { title, genre, duration } })) }, token);
  assert(ing.status === 200 || ing.status === 201, 'ingest ' + JSON.stringify(ing));

  // 5. Import the reference service's manifest; review; accept.
  await nav('services');
  await page.getByLabel('…or paste the manifest (JSON)').fill(readFileSync(env('HEARTH_MANIFEST'), 'utf8'));
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const cred = (await page.locator('[data-credential]').textContent()).trim();
  assert(cred.startsWith('hts_recommender.'), 'credential ' + cred);
  const card = page.locator('.result .card .card').first();
  const plain = await card.locator('ul.plain').textContent();
  assert(/Groups of fewer than 2 records are left out/.test(plain) && /rounded down to the day/.test(plain),
    'plain language: ' + plain);
  await shot('services-import');
  const denied = await call('POST', '/api/v1/share', { category: 'viewing.history', purpose: 'recommendation' }, cred);
  assert(denied.status === 403, 'pull before accepting: ' + denied.status);
  await card.getByRole('button', { name: `Accept ${PID}` }).click();
  await page.waitForSelector('#toast.show');
  await nav('services');
  await page.waitForSelector('.badge.active');
  await shot('services');

  // 6. The policy editor: a validation error shown at its line; simulate.
  step = 'policies';
  await page.goto(URL0 + `/#/policies/${PID}`);
  await ready('policies');
  const editor = page.getByLabel('Cedar policy text');
  const good = await editor.inputValue();
  await editor.fill('permit (principal, action, resource)\nwhen { context.nope };');
  await page.getByRole('button', { name: 'Validate' }).click();
  await page.waitForSelector('.errors li[data-line="2"]');
  assert(await page.locator('.editor .gutter .bad').textContent() === '2', 'error line marked');
  await shot('policies-error');
  await editor.fill(good);
  await page.getByRole('button', { name: 'Simulate' }).click();
  const sim = JSON.parse(await page.locator('[data-sim-json]').textContent());
  const key = (g) => `${g.genre} ${g.time} ${g.count} ${g.sum_duration}`;
  assert(JSON.stringify(sim.map(key).sort()) === JSON.stringify([
    'documentary 2024-06-02T00:00:00Z 2 182', 'drama 2024-06-01T00:00:00Z 3 377']), 'simulated ' + JSON.stringify(sim));
  await shot('policies-simulate');

  // 7. A release: the service pulls; the dashboard and the audit log show it.
  step = 'release';
  const rel = await call('POST', '/api/v1/share', { category: 'viewing.history', purpose: 'recommendation' }, cred);
  assert(rel.status === 200 && rel.body.records.length === 2, 'pull ' + JSON.stringify(rel));
  assert(!JSON.stringify(rel.body).includes('Heat'), 'a title left');
  await nav('dashboard');
  const chart = await page.locator('figure svg').first().getAttribute('aria-label');
  assert(/recommender 2/.test(chart), 'dashboard chart: ' + chart);
  // The manifest's proposal says @rate("100 per day"): the hub's limit, one spent.
  const rate1 = (await page.locator('[data-budget="recommender rate"]').textContent()).trim();
  assert(rate1.startsWith('recommender: releases 1 of 100 (per day), 99 left'), 'rate meter: ' + rate1);
  await shot('dashboard');
  await nav('audit');
  await page.waitForSelector('[data-chain="ok"]');
  const auditText = await page.locator('table').textContent();
  assert(auditText.includes('recommender') && auditText.includes('allow') && auditText.includes('deny'), 'audit rows');
  await page.getByLabel('Decision').selectOption('allow');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForFunction(() => !document.querySelector('tbody .badge.deny') &&
    document.querySelector('tbody .badge.allow'));
  await shot('audit');

  // 8. An @ask policy (guided editor), a pending request, the approval.
  step = 'approval';
  await page.goto(URL0 + `/#/policies/${PID}`);
  await ready('policies');
  await page.getByLabel('Approval').selectOption('owner');
  await page.getByLabel('At most (releases per window)').fill('10 per day');
  assert((await editor.inputValue()).includes('@ask("owner")'), 'ask in the text');
  assert((await editor.inputValue()).includes('@rate("10 per day")'), 'rate in the text');
  // An earlier toast may still be up: wait for this save's own one.
  await page.evaluate(() => document.getElementById('toast').classList.remove('show'));
  await page.getByRole('button', { name: 'Save and activate' }).click();
  await page.waitForFunction(() => {
    const t = document.querySelector('#toast.show');
    return t && t.textContent.startsWith('Saved ');
  });
  const ask = await call('POST', '/api/v1/share', { category: 'viewing.history', purpose: 'recommendation' }, cred);
  assert(ask.status === 202 && ask.body.approval, 'ask ' + JSON.stringify(ask));
  await nav('dashboard');
  assert((await page.locator('main').textContent()).includes('Approve'), 'pending approval on the dashboard');
  await nav('approvals');
  await shot('approvals-pending');
  await page.getByRole('button', { name: 'Approve' }).first().click();
  await page.waitForSelector('.badge.approved');
  await shot('approvals');
  const got = await call('POST', '/api/v1/share', { category: 'viewing.history', purpose: 'recommendation',
    approval: ask.body.approval }, cred);
  assert(got.status === 200 && got.body.records.length === 2, 'approved pull ' + JSON.stringify(got));
  // The dashboard's meter shows the hub's figures for the new @rate: the
  // account (recommender, releases per day) holds the pull of step 7 too,
  // so 2 of 10.
  await nav('dashboard');
  const meter = (await page.locator('[data-budget="recommender rate"]').textContent()).trim();
  assert(meter.startsWith('recommender: releases 2 of 10 (per day), 8 left'), 'rate meter: ' + meter);
  assert(await page.locator('[data-budget="recommender rate"] meter').getAttribute('value') === '2', 'meter value');
  await shot('dashboard-budgets');

  // 9. Data: inventory (the hub's summary, not an export), export, delete.
  const exports = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/v1/export') exports.push(step); });
  await nav('data');
  await page.waitForSelector('caption:has-text("6 records in all")');
  const invRow = await page.locator('tr:has(td:text-is("viewing.history"))').locator('td').allTextContents();
  assert(JSON.stringify(invRow) === JSON.stringify(['viewing.history', '6', '2024-06-01 19:00:00Z',
    '2024-06-02 11:00:00Z', 'living-room-tv (6)']), 'inventory row ' + JSON.stringify(invRow));
  assert(exports.length === 0, 'the inventory downloaded the export');
  const [dl] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export everything (JSON)' }).click()]);
  const exported = JSON.parse(readFileSync(await dl.path(), 'utf8'));
  assert(exported.format === 'hearth-export-v1' && exported.records.length === 6, 'export');
  await page.getByLabel('Everything').check();
  await page.getByLabel('I understand this cannot be undone').check();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.waitForSelector('[data-deleted="6"]');
  await page.waitForSelector('caption:has-text("0 records in all")');
  assert(exports.length === 1, 'one export, from the export button: ' + exports.length);
  await shot('data');

  // What the owner's API says now, asked from the page with its session.
  const owned = (path) => page.evaluate((p) => fetch('/api/v1' + p).then((r) => r.json()), path);

  // 10. Revoke the device: the page marks it, its token stops working.
  await nav('devices');
  await page.getByRole('button', { name: 'Revoke living-room-tv' }).click();
  await page.waitForSelector('tr:has(td:text-is("living-room-tv")) .badge.revoked');
  assert(await page.getByRole('button', { name: 'Revoke living-room-tv' }).count() === 0, 'revoke button still there');
  await shot('devices-revoked');
  const devs = await owned('/devices');
  assert(devs.devices.length === 1 && devs.devices[0].revoked === true, 'devices ' + JSON.stringify(devs));
  const late = await call('POST', '/api/v1/records', { records: [{ id: 'late', category: 'viewing.history',
    payload: { title: 'Late' } }] }, token);
  assert(late.status === 401 && late.body.error.code === 'token_revoked', 'revoked token ingests: ' + JSON.stringify(late));

  // 11. Remove the service: its card and policies go, its credential stops
  // working; the dashboard's rate account stays, with no limit now.
  await nav('services');
  await page.getByRole('button', { name: 'Remove recommender' }).click();
  await page.waitForSelector('text=No services yet: import a manifest below.');
  await shot('services-removed');
  const svcs = await owned('/services');
  const pols = await owned('/policies');
  assert(svcs.services.length === 0, 'services ' + JSON.stringify(svcs));
  assert(!pols.policies.some((p) => p.service === 'recommender'), 'policies ' + JSON.stringify(pols));
  const gone = await call('POST', '/api/v1/share', { category: 'viewing.history', purpose: 'recommendation' }, cred);
  assert(gone.status === 401, 'a removed service pulls: ' + JSON.stringify(gone));
  await nav('dashboard');
  const orphan = (await page.locator('[data-budget="recommender rate"]').textContent()).trim();
  assert(orphan === 'recommender: releases 2 spent (per day); no active policy limits it now.', 'rate after removal: ' + orphan);

  // 12. Settings (the certificate's fingerprint); change the password.
  await nav('settings');
  assert(/([0-9A-F]{2}:){31}[0-9A-F]{2}/.test(await page.locator('main').textContent()), 'fingerprint shown');
  await shot('settings');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password').fill(PASSWORD2);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.waitForSelector('.result .ok:has-text("Password changed.")');
  assert(await page.getByLabel('Current password').inputValue() === '', 'password fields cleared');
  await shot('settings-password');
  const old = await call('POST', '/api/v1/session', { password: PASSWORD });
  assert(old.status === 401 && old.body.error.code === 'wrong_password', 'old password: ' + JSON.stringify(old));
  // This page's session goes on (the answer gave it a new one).
  assert((await owned('/devices')).devices.length === 1, 'session after the change');
  step = 'relogin';
  await page.getByRole('button', { name: 'Log out' }).click();
  await ready('login');
  await page.getByLabel('Password').fill(PASSWORD2);
  await page.getByRole('button', { name: 'Log in' }).click();
  await ready('dashboard');
  await page.setViewportSize({ width: 390, height: 844 });
  await nav('dashboard');
  await shot('dashboard-phone');
  await page.setViewportSize({ width: 1200, height: 900 });

  // Keyboard only: Tab from the top of the page reaches the navigation,
  // Enter on the focused "Audit log" link opens that page.
  step = 'keyboard';
  await page.evaluate(() => { document.activeElement && document.activeElement.blur(); document.getElementById('main').removeAttribute('data-ready'); });
  let reached = false;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('href') === '#/audit');
  }
  assert(reached, 'Tab never reached the Audit log link');
  await page.keyboard.press('Enter');
  await ready('audit');
  step = 'logout';
  await page.getByRole('button', { name: 'Log out' }).click();
  await ready('login');
  const after = await call('GET', '/api/v1/devices');
  assert(after.status === 401, 'the API without a session: ' + after.status);
} catch (e) {
  failed = e;
  console.log('at', page.url(), 'main:', (await page.locator('main').textContent().catch(() => '')).slice(0, 300));
  await shot('failure').catch(() => {});
}
await ctx.close();
rmSync(userDir, { recursive: true, force: true });
for (const p of problems) console.log(p);
if (failed) console.log(`FAIL at step ${step}: ${failed.stack || failed}`);
if (failed || problems.length) process.exit(1);
console.log(`browser: all steps passed, ${n} screenshots in ${SHOTS}`);
