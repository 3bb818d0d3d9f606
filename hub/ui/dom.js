// dom.js: building the page without innerHTML (no markup from data, ever),
// small charts as SVG (attributes, not inline styles: the CSP allows no
// style attributes), and formatting.
const SVG = 'http://www.w3.org/2000/svg';

export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, kids);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

export function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const k of kids.flat()) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

let uid = 0;
// A labelled control: returns [label, control] with the label's for= set.
export function field(label, control, hint) {
  if (!control.id) control.id = 'f' + ++uid;
  const kids = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hid = control.id + '-hint';
    control.setAttribute('aria-describedby', hid);
    kids.push(h('div', { class: 'muted', id: hid }, hint));
  }
  return kids;
}

export function input(attrs) { return h('input', { type: 'text', ...attrs }); }

export function select(options, value, attrs) {
  return h('select', attrs, options.map((o) => {
    const [v, t] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === value }, t);
  }));
}

// Horizontal bar chart of [label, value] rows (SVG with a text alternative).
export function barChart(title, rows, unit = '') {
  if (!rows.length) return h('p', { class: 'muted' }, `${title}: nothing.`);
  const max = Math.max(1, ...rows.map((r) => r[1]));
  const rowH = 22, labelW = 140, barW = 220, W = labelW + barW + 50;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${rows.length * rowH + 4}`,
    width: '100%', role: 'img', 'aria-label': title + ': ' +
      rows.map((r) => `${r[0]} ${r[1]}${unit}`).join(', ') });
  rows.forEach(([label, v], i) => {
    const y = i * rowH + 2;
    svg.append(s('text', { x: 0, y: y + 15 }, String(label).slice(0, 24)));
    svg.append(s('rect', { class: 'bar' + (i % 2 ? ' b2' : ''), x: labelW, y: y + 3,
      width: Math.max(1, (v / max) * barW), height: rowH - 8, rx: 2 }));
    svg.append(s('text', { x: labelW + (v / max) * barW + 6, y: y + 15 }, `${v}${unit}`));
  });
  return h('figure', {}, h('figcaption', {}, title), svg);
}

export function badge(text) { return h('span', { class: 'badge ' + text }, text); }

export function table(headers, rows, caption) {
  return h('div', { class: 'scroll' }, h('table', {},
    caption ? h('caption', { class: 'muted' }, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}

export function when(ns) {
  if (!ns) return '';
  const d = new Date(Number(ns) / 1e6);
  return isNaN(d) ? '' : d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 3500);
}

export function errorBox(e) {
  return h('p', { class: 'error', role: 'alert' }, e && e.message ? e.message : String(e));
}
