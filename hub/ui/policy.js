// policy.js: the guided policy editor's model <-> Cedar text with Hearth's
// obligation annotations (docs/policy.md), and policies in plain language.

const q = (v) => JSON.stringify(String(v)); // a Cedar string literal
const list = (v) => String(v || '').split(',').map((x) => x.trim()).filter(Boolean);

export const UNITS = ['', 'hour', 'day', 'week', 'month', 'year'];

export function emptyModel() {
  return { service: '', category: '', purpose: '', mode: 'conditions', fields: '', timeField: 'time',
    granularity: '', aggregate: false, fns: 'count', by: '', k: 5, noise: false, epsilon: 1,
    sensitivity: 1, budget: '', rate: '', ask: '' };
}

// The Cedar text of a model. Throws Error with a message on a bad model.
export function toCedar(m) {
  if (!m.service || !m.category) throw new Error('choose a service and a category');
  const scope = `principal == Hearth::Service::${q(m.service)},\n  ` +
    (m.mode === 'deny' ? 'action,\n  ' : 'action == Hearth::Action::"share",\n  ') +
    `resource in Hearth::Category::${q(m.category)}`;
  if (m.mode === 'deny') return `// ${m.service} gets nothing from ${m.category}\nforbid (\n  ${scope}\n);\n`;
  const ann = [];
  if (m.mode === 'conditions') {
    const steps = [];
    const keep = list(m.fields);
    if (keep.length) steps.push(`keep(${keep.join(', ')})`);
    if (m.granularity) steps.push(`generalize(${m.timeField || 'time'}, ${m.granularity})`);
    if (steps.length) ann.push(`@transform(${q(steps.join('; '))})`);
    if (m.aggregate) {
      const fns = list(m.fns);
      if (!fns.length) throw new Error('an aggregation needs at least one function (count, sum(f), mean(f))');
      const by = list(m.by);
      const k = parseInt(m.k, 10);
      if (!(k >= 1)) throw new Error('k must be a whole number of at least 1');
      ann.push(`@aggregate(${q(fns.join(', ') + (by.length ? ' by ' + by.join(', ') : '') + '; k >= ' + k)})`);
    }
    if (m.noise) {
      const eps = Number(m.epsilon), sens = Number(m.sensitivity);
      if (!(eps > 0 && eps <= 100)) throw new Error('epsilon must be above 0 and at most 100');
      if (!(sens > 0)) throw new Error('sensitivity must be above 0');
      let n = `laplace; epsilon = ${eps}; sensitivity = ${sens}`;
      if (!m.aggregate) {
        if (!list(m.noiseFields).length) throw new Error('noise on raw records needs the fields to noise');
        n += `; fields = ${list(m.noiseFields).join(', ')}`;
      }
      ann.push(`@noise(${q(n)})`);
    }
    if (m.budget) {
      if (!m.noise) throw new Error('a privacy budget needs noise');
      ann.push(`@budget(${q('epsilon ' + m.budget)})`);
    }
    if (m.rate) ann.push(`@rate(${q(m.rate)})`);
    if (m.ask) ann.push(`@ask(${q(m.ask)})`);
  }
  const when = m.purpose ? `\nwhen { context.purpose == ${q(m.purpose)} }` : '';
  return (ann.length ? ann.join('\n') + '\n' : '') + `permit (\n  ${scope}\n)${when};\n`;
}

// Annotations of a policy text: {key: value} (the last one of a key wins).
export function annotations(text) {
  const out = {};
  const re = /@([A-Za-z_]\w*)\s*\(\s*"((?:[^"\\]|\\.)*)"\s*\)/g;
  let m;
  while ((m = re.exec(text))) {
    try { out[m[1]] = JSON.parse('"' + m[2] + '"'); } catch { out[m[1]] = m[2]; }
  }
  return out;
}

function scopeOf(text) {
  const svc = /principal\s*==\s*Hearth::Service::"([^"]*)"/.exec(text);
  const cat = /resource\s*(?:in|==)\s*Hearth::Category::"([^"]*)"/.exec(text);
  const pur = /context\.purpose\s*==\s*"([^"]*)"/.exec(text);
  return { service: svc ? svc[1] : '', category: cat ? cat[1] : '', purpose: pur ? pur[1] : '',
    forbid: /^\s*forbid\b/m.test(text.replace(/\/\/.*$/gm, '')) };
}

// A model from Cedar text (best effort: what the guided editor can show).
export function fromCedar(text) {
  const m = emptyModel();
  const sc = scopeOf(text);
  Object.assign(m, { service: sc.service, category: sc.category, purpose: sc.purpose });
  if (sc.forbid) { m.mode = 'deny'; return m; }
  const a = annotations(text);
  if (!Object.keys(a).some((k) => ['transform', 'aggregate', 'noise', 'budget', 'rate', 'ask'].includes(k))) {
    m.mode = 'allow';
    return m;
  }
  const t = a.transform || '';
  const keep = /keep\(([^)]*)\)/.exec(t);
  if (keep) m.fields = list(keep[1]).join(', ');
  const gen = /generalize\(\s*(\w+)\s*,\s*(hour|day|week|month|year)\s*\)/.exec(t);
  if (gen) { m.timeField = gen[1]; m.granularity = gen[2]; }
  if (a.aggregate) {
    m.aggregate = true;
    const ag = /^(.*?)(?:\bby\b(.*?))?(?:[;,]\s*k\s*>=\s*(\d+))?\s*$/.exec(a.aggregate);
    m.fns = list(ag[1]).join(', ');
    m.by = list(ag[2]).join(', ');
    m.k = ag[3] ? parseInt(ag[3], 10) : 1;
  }
  if (a.noise) {
    m.noise = true;
    const e = /epsilon\s*=\s*([\d.e-]+)/.exec(a.noise), s = /sensitivity\s*=\s*([\d.e-]+)/.exec(a.noise);
    const f = /fields\s*=\s*(.*)$/.exec(a.noise);
    if (e) m.epsilon = Number(e[1]);
    if (s) m.sensitivity = Number(s[1]);
    if (f) m.noiseFields = list(f[1]).join(', ');
  }
  if (a.budget) m.budget = a.budget.replace(/^\s*epsilon\s+/, '');
  if (a.rate) m.rate = a.rate;
  if (a.ask) m.ask = a.ask.trim();
  return m;
}

const UNIT_WORD = { hour: 'hour', day: 'day', week: 'week', month: 'month', year: 'year' };

// Plain-language sentences for a policy text.
export function describe(text) {
  const sc = scopeOf(text);
  const who = sc.service || 'any service', what = sc.category || 'any data';
  if (sc.forbid) return [`${who} never receives anything from ${what}.`];
  const out = [`${who} may receive ${what}` + (sc.purpose ? `, only for “${sc.purpose}”.` : '.')];
  const a = annotations(text);
  const t = a.transform || '';
  for (const step of t.split(';').map((x) => x.trim()).filter(Boolean)) {
    let m;
    if ((m = /^keep\((.*)\)$/.exec(step))) out.push(`Only these fields leave: ${list(m[1]).join(', ')}; everything else stays home.`);
    else if ((m = /^drop\((.*)\)$/.exec(step))) out.push(`These fields are removed: ${list(m[1]).join(', ')}.`);
    else if ((m = /^redact\((.*)\)$/.exec(step))) out.push(`These fields are blanked: ${list(m[1]).join(', ')}.`);
    else if ((m = /^generalize\(\s*(\w+)\s*,\s*(\w+)\s*\)$/.exec(step)) && UNIT_WORD[m[2]]) out.push(`${m[1]} is rounded down to the ${m[2]}.`);
    else if ((m = /^generalize\(\s*(\w+)\s*,\s*(\w+)\s+(\S+)\s*\)$/.exec(step))) out.push(`${m[1]} is coarsened (${m[2]} ${m[3]}).`);
    else if ((m = /^pseudonymize\((.*)\)$/.exec(step))) out.push(`These fields are replaced by pseudonyms: ${list(m[1]).join(', ')}.`);
    else if ((m = /^sample\((.*)\)$/.exec(step))) out.push(`Only a random ${Math.round(Number(m[1]) * 100)}% of records are sent.`);
    else if ((m = /^limit\((.*)\)$/.exec(step))) out.push(`At most ${m[1]} records per release.`);
    else out.push(`Transform: ${step}.`);
  }
  if (a.aggregate) {
    const ag = /^(.*?)(?:\bby\b(.*?))?(?:[;,]\s*k\s*>=\s*(\d+))?\s*$/.exec(a.aggregate);
    const fns = list(ag[1]).map((f) => f.replace(/^sum\((.*)\)$/, 'total $1').replace(/^mean\((.*)\)$/, 'average $1'));
    out.push(`No individual records: only ${fns.join(', ')}` + (ag[2] ? ` per ${list(ag[2]).join(' and ')}` : '') + '.');
    if (ag[3]) out.push(`Groups of fewer than ${ag[3]} records are left out.`);
  }
  if (a.noise) {
    const e = /epsilon\s*=\s*([\d.e-]+)/.exec(a.noise);
    out.push(`Numbers get random noise (differential privacy, epsilon ${e ? e[1] : '?'} per release).`);
  }
  if (a.budget) out.push(`Privacy budget: at most ${a.budget}.`);
  if (a.rate) out.push(`At most ${a.rate} releases.`);
  if (a.ask) out.push(/once/.test(a.ask) ? 'You approve the first request; later ones go without asking.' : 'Each release waits for your approval.');
  return out;
}
