// app.js: Hearth's owner UI, a single page with hash routes (#/dashboard,
// ...). Until the hub is claimed every route leads to #/setup; without a
// session to #/login.
import { api, get, post, del, setCsrf, loggedIn, restoreSession, tokenOf } from './api.js';
import { h, field, input, select, barChart, badge, table, when, toast, errorBox, append } from './dom.js';
import { emptyModel, toCedar, fromCedar, describe, UNITS } from './policy.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let claimed = null;

const PAGES = {
  setup: { title: 'Set up', page: setupPage, open: true },
  login: { title: 'Log in', page: loginPage, open: true },
  dashboard: { title: 'Dashboard', page: dashboardPage },
  services: { title: 'Services', page: servicesPage },
  policies: { title: 'Policies', page: policiesPage },
  data: { title: 'Data', page: dataPage },
  approvals: { title: 'Approvals', page: approvalsPage },
  audit: { title: 'Audit log', page: auditPage },
  devices: { title: 'Devices', page: devicesPage },
  settings: { title: 'Settings', page: settingsPage },
};

function go(route) { if (location.hash !== '#/' + route) location.hash = '#/' + route; else render(); }

async function render() {
  const [name, arg] = location.hash.replace(/^#\/?/, '').split('/');
  if (location.pathname !== '/') history.replaceState(null, '', '/' + location.hash); // /setup, /index.html
  let route = PAGES[name] ? name : 'dashboard';
  if (claimed === null) {
    try { claimed = (await get('/setup')).claimed !== false; } catch { claimed = true; }
  }
  if (!claimed) route = 'setup';
  else if (!loggedIn() && !(await restoreSession())) route = 'login';
  else if (PAGES[route].open) route = 'dashboard';
  if ('#/' + route !== location.hash.split('/').slice(0, 2).join('/')) {
    history.replaceState(null, '', '#/' + route);
  }
  nav.hidden = !loggedIn();
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === '#/' + route) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = PAGES[route].title + ' · Hearth';
  const view = h('div', { 'data-page': route });
  main.replaceChildren(h('h1', {}, PAGES[route].title), view);
  try {
    await PAGES[route].page(view, arg && decodeURIComponent(arg));
  } catch (e) {
    if (e.status !== 401) view.append(errorBox(e));
  }
  main.setAttribute('data-ready', route);
  if (render.focus) main.focus();
  render.focus = true;
}

window.addEventListener('hashchange', render);
// The link of the page already shown reloads it.
nav.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  if (a && a.getAttribute('href') === location.hash) { ev.preventDefault(); render(); }
});
window.addEventListener('hearth:logout', () => go('login'));
document.getElementById('logout').addEventListener('click', async () => {
  try { await del('/session'); } catch { /* gone anyway */ }
  setCsrf(null);
  toast('Logged out');
  go('login');
});

// A form whose submit runs fn(form); errors are shown in it, buttons are
// disabled meanwhile.
function form(attrs, kids, fn) {
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const f = h('form', { ...attrs, novalidate: true }, kids, out);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btns = f.querySelectorAll('button');
    btns.forEach((b) => { b.disabled = true; });
    out.replaceChildren();
    try { await fn(f, out, ev.submitter); } catch (e) { out.replaceChildren(errorBox(e)); }
    btns.forEach((b) => { b.disabled = false; });
  });
  return f;
}

function button(text, fn, cls) {
  const b = h('button', { type: 'button', class: cls });
  b.textContent = text;
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await fn(b); } catch (e) { toast(e.message); b.after(errorBox(e)); }
    b.disabled = false;
  });
  return b;
}

// ---------------------------------------------------------------- setup
async function setupPage(v) {
  const code = input({ name: 'claim_code', autocomplete: 'one-time-code', required: true, spellcheck: 'false' });
  const pw = input({ type: 'password', name: 'password', autocomplete: 'new-password', required: true });
  const pw2 = input({ type: 'password', name: 'password2', autocomplete: 'new-password', required: true });
  v.append(h('div', { class: 'card narrow' },
    h('p', {}, 'Welcome. This hub has no owner yet. Its console shows a one-time claim code at every boot; enter it and choose your password.'),
    form({ 'aria-label': 'Claim this hub' }, [
      field('Claim code', code, 'From the device console: “claim code …”.'),
      field('New password', pw, 'At least 12 characters of two kinds or more (letters, digits, others); a few words are easy to remember and hard to guess.'),
      field('Repeat the password', pw2),
      h('button', { type: 'submit' }, 'Claim this hub'),
    ], async () => {
      if (pw.value !== pw2.value) throw new Error('the two passwords differ');
      const r = await post('/setup', { claim_code: code.value.trim(), password: pw.value });
      setCsrf(tokenOf(r));
      claimed = true;
      if (!loggedIn()) await restoreSession();
      toast('Hub claimed: welcome');
      go('dashboard');
    })));
}

// ---------------------------------------------------------------- login
async function loginPage(v) {
  const pw = input({ type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  v.append(h('div', { class: 'card narrow' }, form({ 'aria-label': 'Log in' }, [
    field('Password', pw),
    h('button', { type: 'submit' }, 'Log in'),
  ], async () => {
    const r = await api('POST', '/session', { password: pw.value }, [429]);
    if (r.status === 429) throw new Error('Too many attempts: wait a little and try again.');
    setCsrf(tokenOf(r.body));
    pw.value = '';
    go('dashboard');
  })));
  pw.focus();
}

// ---------------------------------------------------------------- dashboard
const WINDOWS = [['day', 86400], ['week', 7 * 86400], ['month', 30 * 86400]];

async function fetchAudit(params) {
  const all = [];
  let after = 0;
  for (let i = 0; i < 20; i++) {
    const qs = new URLSearchParams({ ...params, limit: 1000, ...(after ? { after } : {}) });
    const r = await get('/audit?' + qs);
    all.push(...r.entries);
    if (r.entries.length < 1000) break;
    after = r.entries[r.entries.length - 1].id;
  }
  return all;
}

function span(w) {
  if (typeof w !== 'number') return String(w);
  for (const [u, n] of [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (w >= n && w % n === 0) return w === n ? u : `${w / n} ${u}s`;
  }
  return `${w} s`;
}

async function dashboardPage(v) {
  const health = await get('/health');
  const now = health.time && health.time.wall_clock ? health.time.unix : Math.floor(Date.now() / 1000);
  const [entries, approvals, budgets] = await Promise.all([
    fetchAudit({ since: now - 30 * 86400 }), get('/approvals'), get('/budgets')]);
  const released = entries.filter((e) => e.decision === 'allow' && e.service && e.service !== 'owner');
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': 'Period' });
  const charts = h('div', { class: 'charts' });
  const show = (name, secs) => {
    for (const b of tabs.children) b.setAttribute('aria-pressed', String(b.dataset.w === name));
    const since = (now - secs) * 1e9;
    const inWin = released.filter((e) => Number(e.time_ns) >= since);
    const sum = (key) => {
      const m = new Map();
      for (const e of inWin) m.set(e[key], (m.get(e[key]) || 0) + (Number(e.records) || 0));
      return [...m.entries()].sort((a, b) => b[1] - a[1]);
    };
    const count = new Map();
    for (const e of inWin) count.set(e.service, (count.get(e.service) || 0) + 1);
    charts.replaceChildren(
      h('div', { class: 'card' }, barChart(`Records released per service, last ${name}`, sum('service'))),
      h('div', { class: 'card' }, barChart(`Records released per category, last ${name}`, sum('category'))),
      h('div', { class: 'card' }, barChart(`Releases per service, last ${name}`, [...count.entries()])));
  };
  for (const [name, secs] of WINDOWS) {
    const b = h('button', { type: 'button', class: 'secondary', 'data-w': name, 'aria-pressed': 'false' }, `Last ${name}`);
    b.addEventListener('click', () => show(name, secs));
    tabs.append(b);
  }
  v.append(h('h2', {}, 'What left the home'), tabs, charts);
  show('day', 86400);

  // Limits, windows and what is left come from the hub (GET /budgets), which
  // reads them from the active policies with the pipeline's own parser.
  const meters = [];
  for (const e of budgets.entries || []) {
    const what = e.kind === 'rate' ? 'releases' : 'epsilon';
    const id = 'm' + meters.length;
    if (typeof e.limit !== 'number') {
      meters.push(h('p', { 'data-budget': `${e.service} ${e.kind}` },
        `${e.service}: ${what} ${e.spent} spent (per ${span(e.window_s)}); no active policy limits it now.`));
      continue;
    }
    const used = Math.max(0, Number((e.limit - e.remaining).toFixed(6)));
    const max = e.limit > 0 ? e.limit : 1;
    meters.push(h('div', { 'data-budget': `${e.service} ${e.kind}` },
      h('label', { for: id }, `${e.service}: ${what} ${used} of ${e.limit} (per ${span(e.window_s)}), ${e.remaining} left`),
      h('meter', { id, min: 0, max, value: used, high: max * 0.8, low: max * 0.5, optimum: 0 },
        `${used} of ${e.limit}`)));
  }
  v.append(h('h2', {}, 'Privacy budgets'), h('div', { class: 'card' },
    meters.length ? meters : h('p', { class: 'muted' }, 'No active policy sets a budget or rate.')));
  const pend = approvals.approvals.filter((a) => a.state === 'pending');
  v.append(h('h2', {}, 'Pending approvals'), h('div', { class: 'card' },
    pend.length ? approvalsTable(pend, () => render()) : h('p', { class: 'muted' }, 'Nothing is waiting for you.')));
}

// ---------------------------------------------------------------- approvals
function approvalsTable(list, after) {
  return table(['#', 'Service', 'Category', 'Purpose', 'Asked', 'State', ''], list.map((a) => [
    String(a.id), a.service, a.category, a.purpose, when(a.created_ns), badge(a.state),
    a.state === 'pending' ? h('span', {},
      button('Approve', async () => { await post(`/approvals/${a.id}/approve`); toast(`Approved #${a.id}`); after(); }),
      button('Deny', async () => { await post(`/approvals/${a.id}/deny`); toast(`Denied #${a.id}`); after(); }, 'secondary'))
      : '']));
}

async function approvalsPage(v) {
  const r = await get('/approvals');
  const list = r.approvals.slice().reverse();
  v.append(h('p', { class: 'muted' }, 'Requests under an @ask policy wait here for your decision.'),
    list.length ? approvalsTable(list, render) : h('p', {}, 'No requests yet.'));
}

// ---------------------------------------------------------------- services
function latest(policies) {
  const m = new Map();
  for (const p of policies) if (!m.has(p.id) || m.get(p.id).version < p.version) m.set(p.id, p);
  return [...m.values()];
}

function proposalCard(p, onAccept) {
  return h('div', { class: 'card' },
    h('h3', {}, p.id, ' ', badge(p.active ? 'active' : 'proposed')),
    h('ul', { class: 'plain' }, describe(p.text).map((t) => h('li', {}, t))),
    h('details', {}, h('summary', {}, 'Cedar text'), h('pre', {}, p.text)),
    p.active ? null : button(`Accept ${p.id}`, async () => {
      await post(`/policies/${encodeURIComponent(p.id)}/accept`);
      toast(`Accepted ${p.id}`);
      onAccept();
    }),
    h('a', { class: 'button secondary', href: `#/policies/${encodeURIComponent(p.id)}` }, 'Edit'));
}

async function servicesPage(v) {
  const [svcs, pols] = await Promise.all([get('/services'), get('/policies')]);
  const byService = {};
  for (const p of latest(pols.policies)) (byService[p.service] ||= []).push(p);
  v.append(h('h2', {}, 'Services'));
  if (!svcs.services.length) v.append(h('p', { class: 'muted' }, 'No services yet: import a manifest below.'));
  for (const s of svcs.services) {
    v.append(h('div', { class: 'card' },
      h('h3', {}, s.name || s.id, ' ', h('span', { class: 'muted' }, `(${s.id})`)),
      h('p', {}, `Endpoint: ${s.endpoint || '—'}`, h('br'), `Jurisdiction: ${s.jurisdiction || '—'}`,
        s.purposes ? [h('br'), `Purposes: ${[].concat(s.purposes).join(', ')}`] : null),
      (byService[s.id] || []).map((p) => proposalCard(p, render)),
      button(`Remove ${s.id}`, async () => {
        await del(`/services/${encodeURIComponent(s.id)}`);
        toast(`Removed ${s.id}`);
        render();
      }, 'danger')));
  }
  const text = h('textarea', { name: 'manifest', spellcheck: 'false' });
  const file = h('input', { type: 'file', accept: 'application/json,.json' });
  file.addEventListener('change', async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  v.append(h('h2', {}, 'Import a manifest'), h('div', { class: 'card' }, form({ 'aria-label': 'Import a manifest' }, [
    field('Manifest file', file),
    field('…or paste the manifest (JSON)', text),
    h('button', { type: 'submit' }, 'Import'),
  ], async (f, out) => {
    let m;
    try { m = JSON.parse(text.value); } catch (e) { throw new Error('the manifest is not valid JSON: ' + e.message); }
    const r = await post('/services/import', m);
    out.append(h('div', { class: 'card', 'data-imported': r.service && (r.service.id || r.service) },
      h('p', { class: 'ok' }, `Imported ${typeof r.service === 'object' ? r.service.id : r.service}.`),
      r.credential ? [h('p', {}, 'The service’s credential, shown only now: give it to the service.'),
        h('p', { class: 'secret', 'data-credential': '' }, r.credential)] : null,
      h('p', {}, 'Nothing is shared until you accept a proposed policy:'),
      (r.proposed || []).map((p) => proposalCard(p, () => toast('Accepted')))));
  })));
}

// ---------------------------------------------------------------- policies
async function policiesPage(v, editId) {
  const [pols, svcs, cats] = await Promise.all([get('/policies'), get('/services'), get('/categories')]);
  const all = latest(pols.policies).sort((a, b) => a.id.localeCompare(b.id));
  v.append(table(['Policy', 'Service', 'Version', 'State', 'In plain language', ''], all.map((p) => [
    p.id, p.service || '—', String(p.version), badge(p.active ? 'active' : 'proposed'),
    h('ul', { class: 'plain' }, describe(p.text).map((t) => h('li', {}, t))),
    h('span', {}, h('a', { href: `#/policies/${encodeURIComponent(p.id)}` }, `Edit ${p.id}`), ' ',
      button('Delete', async () => { await del(`/policies/${encodeURIComponent(p.id)}`); toast(`Deleted ${p.id}`); render(); }, 'secondary')),
  ]), 'Every policy (newest version)'));

  const cur = all.find((p) => p.id === editId);
  const m = cur ? fromCedar(cur.text) : emptyModel();
  if (!m.service && svcs.services[0]) m.service = svcs.services[0].id;
  if (!m.category) m.category = 'viewing.history';
  const svcOpts = svcs.services.map((s) => s.id);
  if (m.service && !svcOpts.includes(m.service)) svcOpts.push(m.service);
  const catOpts = cats.categories.map((c) => c.name);

  const ctl = {
    id: input({ name: 'id', value: editId || `${m.service}.${m.category}` }),
    service: select(svcOpts, m.service, { name: 'service' }),
    category: select(catOpts, m.category, { name: 'category' }),
    purpose: input({ name: 'purpose', value: m.purpose }),
    mode: select([['deny', 'Deny: nothing leaves'], ['allow', 'Allow as-is'], ['conditions', 'Allow with conditions']], m.mode, { name: 'mode' }),
    fields: input({ name: 'fields', value: m.fields }),
    timeField: input({ name: 'timeField', value: m.timeField }),
    granularity: select(UNITS.map((u) => [u, u || 'exact (no rounding)']), m.granularity, { name: 'granularity' }),
    aggregate: h('input', { type: 'checkbox', name: 'aggregate', checked: m.aggregate }),
    fns: input({ name: 'fns', value: m.fns }),
    by: input({ name: 'by', value: m.by }),
    k: h('input', { type: 'number', name: 'k', min: 1, value: m.k }),
    noise: h('input', { type: 'checkbox', name: 'noise', checked: m.noise }),
    epsilon: h('input', { type: 'number', name: 'epsilon', min: 0, step: 'any', value: m.epsilon }),
    sensitivity: h('input', { type: 'number', name: 'sensitivity', min: 0, step: 'any', value: m.sensitivity }),
    noiseFields: input({ name: 'noiseFields', value: m.noiseFields || '' }),
    budget: input({ name: 'budget', value: m.budget, placeholder: '2 per 30d' }),
    rate: input({ name: 'rate', value: m.rate, placeholder: '10 per day' }),
    ask: select([['', 'No'], ['owner', 'Ask me every time'], ['owner once', 'Ask me the first time']], m.ask, { name: 'ask' }),
  };
  const model = () => {
    const o = {};
    for (const [k, c] of Object.entries(ctl)) o[k] = c.type === 'checkbox' ? c.checked : c.value;
    return o;
  };
  const cond = h('div', {},
    h('fieldset', {}, h('legend', {}, 'Fields and granularity'),
      field('Fields that may leave (comma-separated; empty: all)', ctl.fields),
      h('div', { class: 'grid' }, h('div', {}, field('Time field', ctl.timeField)),
        h('div', {}, field('Round time to', ctl.granularity)))),
    h('fieldset', {}, h('legend', {}, 'Aggregation'),
      h('label', { class: 'inline' }, ctl.aggregate, 'Only aggregates, never single records'),
      field('Functions', ctl.fns, 'count, sum(field), mean(field)'),
      h('div', { class: 'grid' }, h('div', {}, field('Grouped by', ctl.by)), h('div', {}, field('Smallest group k', ctl.k)))),
    h('fieldset', {}, h('legend', {}, 'Noise and budget'),
      h('label', { class: 'inline' }, ctl.noise, 'Add Laplace noise'),
      h('div', { class: 'grid' }, h('div', {}, field('Epsilon per release', ctl.epsilon)),
        h('div', {}, field('Sensitivity', ctl.sensitivity)), h('div', {}, field('Noised fields (raw records)', ctl.noiseFields))),
      field('Budget (epsilon per window)', ctl.budget)),
    h('fieldset', {}, h('legend', {}, 'Frequency and approval'),
      field('At most (releases per window)', ctl.rate), field('Approval', ctl.ask)));

  const text = h('textarea', { name: 'cedar', spellcheck: 'false', 'aria-label': 'Cedar policy text', rows: 14 });
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const errs = h('ul', { class: 'errors', 'aria-live': 'polite' });
  const plain = h('ul', { class: 'plain' });
  const sim = h('div', { class: 'simulation', 'aria-live': 'polite' });
  const paintGutter = (bad = new Set()) => {
    const n = text.value.split('\n').length;
    gutter.replaceChildren(...Array.from({ length: n }, (_, i) =>
      h('div', { class: bad.has(i + 1) ? 'bad' : null }, String(i + 1))));
  };
  const regen = () => {
    cond.hidden = ctl.mode.value !== 'conditions';
    try {
      text.value = toCedar(model());
      errs.replaceChildren();
    } catch (e) { errs.replaceChildren(h('li', {}, e.message)); }
    plain.replaceChildren(...describe(text.value).map((t) => h('li', {}, t)));
    paintGutter();
  };
  for (const c of Object.values(ctl)) c.addEventListener(c.tagName === 'SELECT' || c.type === 'checkbox' ? 'change' : 'input', regen);
  ctl.service.addEventListener('change', () => { if (!editId) ctl.id.value = `${ctl.service.value}.${ctl.category.value}`; });
  ctl.category.addEventListener('change', () => { if (!editId) ctl.id.value = `${ctl.service.value}.${ctl.category.value}`; });
  text.addEventListener('input', () => {
    errs.replaceChildren();
    paintGutter();
    plain.replaceChildren(...describe(text.value).map((t) => h('li', {}, t)));
  });
  text.addEventListener('scroll', () => { gutter.scrollTop = text.scrollTop; });

  const validate = async () => {
    const r = await post('/policies/validate', { text: text.value });
    const bad = new Set((r.errors || []).map((e) => e.line));
    paintGutter(bad);
    errs.replaceChildren(...(r.errors || []).map((e) => h('li', { 'data-line': e.line },
      `line ${e.line}, column ${e.column}: ${e.message}`)));
    if (r.valid) errs.replaceChildren(h('li', { class: 'ok' }, 'Valid.'));
    return r.valid;
  };
  const simulate = async () => {
    const r = await api('POST', '/policies/simulate', { service: ctl.service.value, category: ctl.category.value,
      purpose: ctl.purpose.value, text: text.value }, [400, 403, 422, 429]);
    const b = r.body || {};
    if (b.error && !b.decision) { sim.replaceChildren(errorBox({ message: b.error.message })); return; }
    const recs = b.records || [];
    sim.replaceChildren(h('p', {}, 'Decision: ', badge(b.decision || 'deny'),
      b.needs_approval ? ' (waits for your approval)' : '',
      b.epsilon ? ` · epsilon ${b.epsilon}` : '', ` · ${recs.length} record(s) would leave now.`),
      b.reasons && b.reasons.length ? h('p', { class: 'muted' }, 'Because of: ' + b.reasons.join(', ')) : null,
      recs.length ? recordsTable(recs) : null,
      h('details', {}, h('summary', {}, 'Exactly what would be sent (JSON)'), h('pre', { 'data-sim-json': '' }, JSON.stringify(recs, null, 2))));
  };

  v.append(h('h2', {}, cur ? `Edit ${cur.id}` : 'New policy'), h('div', { class: 'card' }, form({ 'aria-label': 'Policy editor' }, [
    h('div', { class: 'grid' }, h('div', {}, field('Service', ctl.service)), h('div', {}, field('Category', ctl.category)),
      h('div', {}, field('Purpose', ctl.purpose, 'The purpose the service must state'))),
    field('What may leave', ctl.mode),
    cond,
    h('h3', {}, 'In plain language'), plain,
    h('h3', {}, 'Cedar (advanced: edit freely)'),
    h('div', { class: 'editor' }, gutter, text), errs,
    field('Policy id', ctl.id),
    h('button', { type: 'button', class: 'secondary', 'data-act': 'validate' }, 'Validate'),
    h('button', { type: 'button', class: 'secondary', 'data-act': 'simulate' }, 'Simulate'),
    h('button', { type: 'submit' }, 'Save and activate'),
    h('h3', {}, 'Simulation'), sim,
  ], async () => {
    if (!(await validate())) throw new Error('fix the errors first');
    const r = await api('POST', '/policies', { id: ctl.id.value, service: ctl.service.value, text: text.value }, [400]);
    if (r.status === 400) {
      const e = (r.body && r.body.errors) || [];
      paintGutter(new Set(e.map((x) => x.line)));
      errs.replaceChildren(...e.map((x) => h('li', {}, `line ${x.line}, column ${x.column}: ${x.message}`)));
      throw new Error((r.body && r.body.error && r.body.error.message) || 'rejected');
    }
    toast(`Saved ${r.body.id} version ${r.body.version}`);
  })));
  v.querySelector('[data-act=validate]').addEventListener('click', () => validate().catch((e) => toast(e.message)));
  v.querySelector('[data-act=simulate]').addEventListener('click', () => simulate().catch((e) => toast(e.message)));
  if (cur) {
    text.value = cur.text;
    cond.hidden = ctl.mode.value !== 'conditions';
    plain.replaceChildren(...describe(text.value).map((t) => h('li', {}, t)));
    paintGutter();
  } else regen();
}

function recordsTable(recs) {
  const keys = [...new Set(recs.flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : [])))].slice(0, 8);
  return table(keys, recs.slice(0, 200).map((r) => keys.map((k) => {
    const x = r[k];
    return x === undefined ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x);
  })));
}

// ---------------------------------------------------------------- data
async function dataPage(v) {
  const [cats, devs] = await Promise.all([get('/categories'), get('/devices')]);
  v.append(h('h2', {}, 'Devices'), table(['Device', 'Records', 'State'], devs.devices.map((d) =>
    [`${d.name} (#${d.id})`, String(d.records ?? '?'), badge(d.revoked ? 'revoked' : 'active')])));
  const inv = h('div', { 'aria-live': 'polite' });
  const download = (obj) => {
    const url = URL.createObjectURL(new Blob([JSON.stringify(obj, null, 1)], { type: 'application/json' }));
    const a = h('a', { href: url, download: `hearth-export-${new Date().toISOString().slice(0, 10)}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };
  // The inventory is the hub's own count (GET /records/summary): no record
  // leaves the store for it.
  const inventory = async () => {
    const s = await get('/records/summary');
    const t = (x) => (x === null || x === undefined ? '' : when(x * 1e9));
    inv.replaceChildren(table(['Category', 'Records', 'Oldest (UTC)', 'Newest (UTC)', 'Devices'],
      s.categories.map((c) => [c.category, String(c.count), t(c.oldest), t(c.newest),
        c.devices.map((d) => `${d.name || '#' + d.id} (${d.count})`).join(', ')]),
      `${s.totals.records} records in all`));
  };
  v.append(h('h2', {}, 'Inventory and export'), h('div', { class: 'card' }, inv,
    h('p', { class: 'muted' }, 'The export reads every record (and is recorded in the audit log).'),
    button('Export everything (JSON)', async () => {
      const ex = await get('/export');
      download(ex);
      toast(`Exported ${ex.records.length} records`);
    })));
  await inventory();

  const cat = select([['', 'any category'], ...cats.categories.map((c) => c.name)], '', { name: 'category' });
  const dev = select([['', 'any device'], ...devs.devices.map((d) => [String(d.id), d.name])], '', { name: 'device' });
  const from = h('input', { type: 'date', name: 'from' });
  const to = h('input', { type: 'date', name: 'to' });
  const all = h('input', { type: 'checkbox', name: 'all' });
  const sure = h('input', { type: 'checkbox', name: 'confirm', required: true });
  v.append(h('h2', {}, 'Delete records'), h('div', { class: 'card' }, form({ 'aria-label': 'Delete records' }, [
    h('div', { class: 'grid' }, h('div', {}, field('Category (with sub-categories)', cat)), h('div', {}, field('Device', dev)),
      h('div', {}, field('From (UTC, inclusive)', from)), h('div', {}, field('To (UTC, exclusive)', to))),
    h('label', { class: 'inline' }, all, 'Everything'),
    h('label', { class: 'inline' }, sure, 'I understand this cannot be undone'),
    h('button', { type: 'submit', class: 'danger' }, 'Delete'),
  ], async (f, out) => {
    if (!sure.checked) throw new Error('tick the confirmation first');
    const qs = new URLSearchParams();
    if (all.checked) qs.set('all', 'true');
    if (cat.value) qs.set('category', cat.value);
    if (dev.value) qs.set('device', dev.value);
    if (from.value) qs.set('from', String(Date.parse(from.value) / 1000));
    if (to.value) qs.set('to', String(Date.parse(to.value) / 1000));
    if (![...qs.keys()].length) throw new Error('choose what to delete (or tick Everything)');
    const r = await del('/records?' + qs);
    sure.checked = false;
    out.append(h('p', { class: 'ok', 'data-deleted': r.deleted }, `Deleted ${r.deleted} record(s).`));
    await inventory();
  })));
}

// ---------------------------------------------------------------- audit
async function auditPage(v) {
  const status = h('p', { 'aria-live': 'polite' }, 'Verifying the chain…');
  v.append(status);
  get('/audit/verify').then((r) => {
    status.replaceChildren(r.ok ? h('span', { class: 'ok', 'data-chain': 'ok' }, `Chain verified: ${r.entries ?? r.entries_checked} entries intact.`)
      : h('span', { class: 'error', 'data-chain': 'bad' }, `Chain broken at entry ${r.first_bad_id} (${r.reason}).`));
  }).catch((e) => status.replaceChildren(errorBox(e)));
  const svc = input({ name: 'service' });
  const cat = input({ name: 'category' });
  const dec = select([['', 'any'], 'allow', 'deny', 'ask'], '', { name: 'decision' });
  const since = h('input', { type: 'date', name: 'since' });
  const out = h('div', {});
  let after = 0;
  const load = async (more) => {
    const qs = new URLSearchParams({ limit: 100 });
    if (svc.value) qs.set('service', svc.value.trim());
    if (cat.value) qs.set('category', cat.value.trim());
    if (dec.value) qs.set('decision', dec.value);
    if (since.value) qs.set('since', String(Date.parse(since.value) / 1000));
    if (more && after) qs.set('after', after);
    const r = await get('/audit?' + qs);
    if (r.entries.length) after = r.entries[r.entries.length - 1].id;
    const rows = r.entries.map((e) => [String(e.id), when(e.time_ns), e.service, e.category || '', e.purpose || '',
      badge(e.decision), String(e.records ?? ''), (e.policies || []).join(', '), (e.obligations || []).join('; ')]);
    const t = table(['#', 'Time (UTC)', 'Service', 'Category', 'Purpose', 'Decision', 'Records', 'Policies', 'Obligations'], rows);
    if (more) out.append(t); else out.replaceChildren(t);
    moreBtn.hidden = r.entries.length < 100;
  };
  const moreBtn = button('More', () => load(true), 'secondary');
  v.append(h('div', { class: 'card' }, form({ 'aria-label': 'Filter the audit log' }, [
    h('div', { class: 'grid' }, h('div', {}, field('Service', svc)), h('div', {}, field('Category', cat)),
      h('div', {}, field('Decision', dec)), h('div', {}, field('Since (UTC)', since))),
    h('button', { type: 'submit' }, 'Filter'),
  ], () => load(false))), out, moreBtn);
  await load(false);
}

// ---------------------------------------------------------------- devices
async function devicesPage(v) {
  const r = await get('/devices');
  v.append(table(['#', 'Name', 'Created', 'Records', 'State', ''], r.devices.map((d) => [
    String(d.id), d.name, d.created_unix ? new Date(d.created_unix * 1000).toISOString().slice(0, 10) : '',
    String(d.records ?? ''), badge(d.revoked ? 'revoked' : 'active'),
    d.revoked ? '' : button(`Revoke ${d.name}`, async () => {
      await del(`/devices/${d.id}`);
      toast(`Revoked ${d.name}`);
      render();
    }, 'danger')])));
  const name = input({ name: 'name', required: true, maxlength: 64 });
  v.append(h('h2', {}, 'Add a device'), h('div', { class: 'card' }, form({ 'aria-label': 'Add a device' }, [
    field('Name', name, 'For example living-room-tv'),
    h('button', { type: 'submit' }, 'Add'),
  ], async (f, out) => {
    const d = await post('/devices', { name: name.value.trim() });
    out.append(h('p', {}, `Device #${d.id} added. Its ingestion token, shown only now:`),
      h('p', { class: 'secret', 'data-token': '' }, d.token));
  })));
}

// ---------------------------------------------------------------- settings
async function settingsPage(v) {
  const s = await get('/health');
  const row = (k, x) => [k, x === undefined || x === null || x === '' ? '—' : String(x)];
  const n = s.network || {}, t = s.time || {}, st = s.storage || {};
  v.append(h('h2', {}, 'Device'), table(['', ''], [row('Version', `${s.version} (${s.git})`), row('Board', s.board),
    row('Uptime', `${s.uptime_s} s`)]));
  v.append(h('h2', {}, 'Certificate'), h('p', { class: 'muted' }, 'Compare with what your browser shows for this page before you trust it.'),
    table(['', ''], [row('SHA-256 fingerprint', s.tls && s.tls.fingerprint), row('Public key pin', s.tls && s.tls.pin)]));
  v.append(h('h2', {}, 'Network'), table(['', ''], [row('Interface', n.interface), row('MAC', n.mac),
    row('Link', n.up ? 'up' : 'down'), row('DHCP', n.dhcp ? 'yes' : 'no'), row('IPv4', n.ipv4),
    row('Netmask', n.netmask), row('Gateway', n.gateway), row('IPv6', (n.ipv6 || []).filter(Boolean).join(', '))]));
  v.append(h('h2', {}, 'Time'), table(['', ''], [row('Clock', t.wall_clock ? new Date(t.unix * 1000).toISOString() : 'not set'),
    row('Synchronised (SNTP)', t.synced ? 'yes' : 'no')]));
  v.append(h('h2', {}, 'Storage'), table(['', ''], [row('State', st.state), row('Used', st.used_bytes !== undefined ? `${st.used_bytes} of ${st.size_bytes} bytes` : ''),
    row('Last integrity check', st.last_integrity_check && st.last_integrity_check.unix ? new Date(st.last_integrity_check.unix * 1000).toISOString() : '')]));
  const cur = input({ type: 'password', name: 'current', autocomplete: 'current-password' });
  const pw = input({ type: 'password', name: 'new', autocomplete: 'new-password' });
  v.append(h('h2', {}, 'Password'), h('div', { class: 'card' }, form({ 'aria-label': 'Change the password' }, [
    field('Current password', cur), field('New password', pw),
    h('button', { type: 'submit' }, 'Change password'),
  ], async (f, out) => {
    const r = await post('/password', { current_password: cur.value, new_password: pw.value });
    if (tokenOf(r)) setCsrf(tokenOf(r));
    cur.value = pw.value = '';
    out.append(h('p', { class: 'ok' }, 'Password changed.'));
  })));
}

append(main, []);
render();
