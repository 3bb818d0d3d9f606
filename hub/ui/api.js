// api.js: the REST API (docs/api.yaml) from the browser. The session is an
// HttpOnly cookie the browser sends by itself; every state-changing request
// also carries the CSRF token the session answered (kept in memory only).
let csrf = null;

export class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error;
    super(e ? e.message || e.code : `HTTP ${status}`);
    this.status = status;
    this.code = e ? e.code : '';
    this.body = body;
  }
}

export function setCsrf(token) { csrf = token || null; }
export function loggedIn() { return csrf !== null; }

// Calls the API; resolves to the parsed JSON body of a 2xx answer (null when
// empty), rejects with ApiError. With ok (statuses that are not errors here,
// such as simulate's 403) it resolves to {status, body} for those and 2xx.
export async function api(method, path, body, ok = []) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch('/api/v1' + path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (ok.length && (r.ok || ok.includes(r.status))) return { status: r.status, body: data };
  if (!r.ok) {
    const err = new ApiError(r.status, data);
    if (r.status === 401 && !path.startsWith('/session') && !path.startsWith('/setup')) {
      csrf = null;
      window.dispatchEvent(new CustomEvent('hearth:logout'));
    }
    throw err;
  }
  return data;
}

export const get = (p) => api('GET', p);
export const post = (p, b = {}) => api('POST', p, b);
export const del = (p) => api('DELETE', p);

// The CSRF token of a session answer (the hub calls it csrf_token).
export function tokenOf(body) { return body ? body.csrf_token || body.csrf || null : null; }

// Session: resolves true when a session exists (and learns its CSRF token).
export async function restoreSession() {
  const r = await api('GET', '/session', undefined, [401, 403, 404]);
  const t = r.status === 200 && r.body && r.body.authenticated !== false ? tokenOf(r.body) : null;
  setCsrf(t);
  return t !== null;
}
