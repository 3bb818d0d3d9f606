#!/usr/bin/python3
"""test_websec.py: first run and web security of the real image, from outside.

One image on a fresh disk with user networking, talked to over HTTPS with
Python's ssl and http.client only: the claim code printed on the console
(wrong codes refused and rate limited, a weak password refused, the right
code works once), the session cookie's flags, whoami, logout, expiry (a
second boot with a short idle timeout), password change, every
state-changing operation of docs/api.yaml refused without a session and
with a session but without its CSRF token, the Host allowlist (DNS
rebinding), the security headers on every kind of response, the login
limiter (engages, answers 429 with Retry-After, recovers), and the factory
reset bootarg. See docs/security.md. E2E_ONLY=name,... runs a subset.
"""
import http.client
import json
import os
import re
import socket
import ssl
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Boot, Runner, check, free_port, qemu_cmd  # noqa: E402

TMP = tempfile.mkdtemp(prefix="hearth-websec-")
DISK = os.path.join(TMP, "disk.img")
PASSWORD = "correct horse 42"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class Hub:
    """One boot of the image on DISK with HTTPS forwarded to a free port."""

    def __init__(self, args=""):
        self.port = free_port()
        extra = ["-drive", f"file={DISK},if=none,format=raw,id=d0",
                 "-device", "virtio-blk-device,drive=d0"]
        self.boot = Boot(qemu_cmd(mem="64M", args=args, net={443: self.port},
                                  semihosting=False, extra=extra), timeout=900)
        self.boot.wait_for("hearth: serving https://", timeout=90)
        text = self.boot.text()
        m = re.search(r"hearth: claim code ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}) \(open https://", text)
        self.claim_code = m.group(1) if m else None
        m = re.search(r"hearth: owner API token (hto_[0-9a-f]{64})\b", text)
        self.token = m.group(1) if m else None

    def call(self, method, path, body=None, cookie=None, csrf=None, token=None, headers=None,
             raw=None):
        """(status, parsed JSON or bytes, response) of one request on a new connection."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        # Connect (TCP + TLS handshake, no request sent yet) with up to three
        # tries: an emulated guest under load has stalled a handshake once in
        # CI. A retry is printed, so it stays visible; a request is never sent
        # twice.
        last = None
        for attempt in range(3):
            c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=40)
            try:
                c.connect()
                break
            except (socket.timeout, ssl.SSLError, ConnectionError) as e:
                c.close()
                last = e
                print(f"  (TLS connect try {attempt + 1} to the device failed: {e})", flush=True)
        else:
            raise last
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = f"hearth_session={cookie}"
        if csrf:
            h["X-CSRF-Token"] = csrf
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h["Content-Type"] = "application/json"
        target = path if path == "/" or path.startswith("/api/") else "/api/v1" + path
        c.request(method, target, body=data, headers=h)
        r = c.getresponse()
        text = r.read()
        c.close()
        ctype = r.getheader("Content-Type", "")
        out = json.loads(text) if ctype.startswith("application/json") and text else text
        return r.status, out, r

    def stop(self):
        self.boot.kill()


HUB = None
STATE = {}


def hub(args=None):
    """The running hub; (args) given: reboot the same disk with those bootargs."""
    global HUB
    if args is not None and HUB is not None:
        HUB.stop()
        HUB = None
    if HUB is None or not HUB.boot.alive():
        if not os.path.exists(DISK):
            with open(DISK, "wb") as f:
                f.truncate(64 << 20)
        HUB = Hub(args or "")
        if HUB.token:
            STATE["token"] = HUB.token
    return HUB


def code_of(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def session_cookie(r):
    """(value, attributes lower-cased) of the hearth_session Set-Cookie."""
    for k, v in r.getheaders():
        if k.lower() == "set-cookie" and v.startswith("hearth_session="):
            parts = [p.strip() for p in v.split(";")]
            return parts[0].split("=", 1)[1], [p.lower() for p in parts[1:]]
    return None, []


def login(h, password=PASSWORD):
    st, body, r = h.call("POST", "/session", {"password": password})
    check(st == 201 and body.get("authenticated") is True, f"login: {st} {body!r}", h.boot)
    cookie, _ = session_cookie(r)
    check(cookie and re.fullmatch(r"[0-9a-f]{64}", cookie), f"login cookie: {r.getheaders()}")
    check(re.fullmatch(r"[0-9a-f]{64}", body["csrf_token"]), f"csrf token: {body!r}")
    return cookie, body["csrf_token"]


def until_429(fn, what, limit=8):
    """Calls fn() (a failing attempt) until the limiter answers 429; returns
    (attempts, Retry-After seconds)."""
    for i in range(1, limit + 1):
        st, body, r = fn()
        if st == 429:
            check(code_of(body) == "too_many_attempts", f"{what}: 429 body {body!r}")
            ra = r.getheader("Retry-After")
            check(ra and ra.isdigit() and 1 <= int(ra) <= 60, f"{what}: Retry-After {ra!r}")
            return i, int(ra)
    raise AssertionError(f"{what}: no 429 after {limit} failed attempts")


def engage(fn, what, at_least=3):
    """Failing attempts (fn) until the limiter answers 429 with a delay of at
    least (at_least) s, so that the next request surely falls inside it even
    on a slow, loaded host. Returns (attempts before the first 429, delay)."""
    first, ra = until_429(fn, what)
    while ra < at_least:
        time.sleep(ra + 0.2)
        _, ra = until_429(fn, what)
    return first, ra


def test_claim_flow():
    h = hub()
    check(h.claim_code, "a fresh device prints a claim code on the console", h.boot)
    check(h.token, "the owner API token is still printed at first boot", h.boot)
    st, body, _ = h.call("GET", "/setup")
    check(st == 200 and body.get("claimed") is False, f"setup before claim: {st} {body!r}")
    st, body, _ = h.call("GET", "/session")
    check(st == 200 and body == {"authenticated": False, "claimed": False}, f"whoami: {body!r}")
    st, body, _ = h.call("POST", "/session", {"password": PASSWORD})
    check(st == 409 and code_of(body) == "not_claimed", f"login before claim: {st} {body!r}")
    # a wrong code, then the claim limiter engages and recovers
    wrong = "2222-2222-2222-2222" if h.claim_code != "2222-2222-2222-2222" else "3333-3333-3333-3333"
    st, body, _ = h.call("POST", "/setup", {"claim_code": wrong, "password": PASSWORD})
    check(st == 403 and code_of(body) == "wrong_claim_code", f"wrong claim code: {st} {body!r}")
    n, ra = engage(lambda: h.call("POST", "/setup", {"claim_code": wrong, "password": PASSWORD}),
                   "claim limiter")
    check(n >= 2, f"the claim limiter engaged after only {n + 1} attempts")
    st, body, _ = h.call("POST", "/setup", {"claim_code": h.claim_code, "password": PASSWORD})
    check(st == 429, f"the right code is held back during the back-off too: {st} {body!r}")
    time.sleep(ra + 0.3)
    # weak passwords: refused, and the code stays valid
    for weak in ("Short1!", "alllowercaseletters", "AAAAAAAAAAAAAAAA", "123456789012345"):
        st, body, _ = h.call("POST", "/setup", {"claim_code": h.claim_code, "password": weak})
        check(st == 422 and code_of(body) == "weak_password", f"weak {weak!r}: {st} {body!r}")
    st, body, _ = h.call("POST", "/setup", {"claim_code": h.claim_code})
    check(st == 400, f"claim without a password: {st} {body!r}")
    # the right code (lower case, without dashes: still the code)
    st, body, r = h.call("POST", "/setup", {"claim_code": h.claim_code.replace("-", "").lower(),
                                            "password": PASSWORD})
    check(st == 201 and body.get("claimed") is True and body.get("authenticated") is True,
          f"claim: {st} {body!r}", h.boot)
    cookie, attrs = session_cookie(r)
    check(cookie and {"secure", "httponly", "samesite=strict", "path=/"} <= set(attrs),
          f"claim cookie flags: {attrs}")
    check(re.fullmatch(r"[0-9a-f]{64}", body.get("csrf_token", "")), f"claim csrf: {body!r}")
    h.boot.wait_for("hearth: claimed")
    # the session from the claim works at once
    st, who, _ = h.call("GET", "/session", cookie=cookie)
    check(st == 200 and who.get("authenticated") and who["csrf_token"] == body["csrf_token"],
          f"whoami after claim: {who!r}")
    # once only
    st, body, _ = h.call("POST", "/setup", {"claim_code": h.claim_code, "password": "other pass 123"})
    check(st == 409 and code_of(body) == "already_claimed", f"second claim: {st} {body!r}")
    st, body, _ = h.call("GET", "/setup")
    check(st == 200 and body == {"claimed": True}, f"setup after claim: {body!r}")
    # the console's owner token still works next to the password
    st, body, _ = h.call("GET", "/devices", token=STATE["token"])
    check(st == 200, f"owner bearer token after claim: {st} {body!r}")
    STATE["claimed"] = True


def need_claimed():
    if not STATE.get("claimed"):
        test_claim_flow()
    return hub()


def test_session_login_logout():
    h = need_claimed()
    st, body, r = h.call("POST", "/session", {"password": "not the password 1"})
    check(st == 401 and code_of(body) == "wrong_password", f"wrong password: {st} {body!r}")
    check(session_cookie(r)[0] is None, "no cookie for a wrong password")
    st, body, r = h.call("POST", "/session", {"password": PASSWORD})
    check(st == 201, f"login: {st} {body!r}")
    cookie, attrs = session_cookie(r)
    check({"secure", "httponly", "samesite=strict", "path=/"} <= set(attrs), f"flags: {attrs}")
    max_age = [a for a in attrs if a.startswith("max-age=")]
    check(max_age and 0 < int(max_age[0][8:]) <= 7 * 86400, f"Max-Age: {attrs}")
    check(not any(a.startswith("domain=") for a in attrs), f"no Domain attribute: {attrs}")
    csrf = body["csrf_token"]
    check(cookie not in json.dumps(body), "the session id is only in the cookie")
    st, who, _ = h.call("GET", "/session", cookie=cookie)
    check(who.get("authenticated") and who.get("csrf_token") == csrf, f"whoami: {who!r}")
    # GETs with the cookie alone; state changes need the CSRF token
    st, body, _ = h.call("GET", "/devices", cookie=cookie)
    check(st == 200, f"GET with a session: {st} {body!r}")
    st, body, _ = h.call("POST", "/devices", {"name": "no-csrf"}, cookie=cookie)
    check(st == 403 and code_of(body) == "csrf_required", f"POST without CSRF: {st} {body!r}")
    st, body, _ = h.call("POST", "/devices", {"name": "bad-csrf"}, cookie=cookie, csrf="0" * 64)
    check(st == 403 and code_of(body) == "csrf_required", f"POST with a wrong CSRF: {st} {body!r}")
    st, body, _ = h.call("POST", "/devices", {"name": "with-csrf"}, cookie=cookie, csrf=csrf)
    check(st == 201 and body.get("token", "").startswith("htd_"), f"POST with CSRF: {st} {body!r}")
    st, devs, _ = h.call("GET", "/devices", cookie=cookie)
    names = json.dumps(devs)
    check("with-csrf" in names and "no-csrf" not in names and "bad-csrf" not in names,
          f"only the CSRF-carrying request acted: {devs!r}")
    # a forged cookie
    st, body, _ = h.call("GET", "/devices", cookie="ab" * 32)
    check(st == 401 and code_of(body) == "session_expired", f"unknown session: {st} {body!r}")
    # logout: needs the token too, then the cookie is dead
    st, body, _ = h.call("DELETE", "/session", cookie=cookie)
    check(st == 403 and code_of(body) == "csrf_required", f"logout without CSRF: {st} {body!r}")
    st, body, r = h.call("DELETE", "/session", cookie=cookie, csrf=csrf)
    cleared, attrs = session_cookie(r)
    check(st == 200 and cleared == "" and "max-age=0" in attrs, f"logout: {st} {attrs}")
    st, body, _ = h.call("GET", "/devices", cookie=cookie)
    check(st == 401, f"a logged-out cookie: {st} {body!r}")
    st, who, _ = h.call("GET", "/session", cookie=cookie)
    check(who.get("authenticated") is False, f"whoami after logout: {who!r}")


def test_state_changing_walk():
    """Every POST/PUT/PATCH/DELETE of docs/api.yaml: refused without a session
    and with a session but without its CSRF token; and nothing changed."""
    h = need_claimed()
    spec = yaml.safe_load(open(os.path.join(ROOT, "docs", "api.yaml")))
    cookie, csrf = login(h)
    def snapshot():
        return [h.call("GET", p, token=STATE["token"])[1]
                for p in ("/devices", "/categories", "/services", "/policies", "/approvals",
                          "/deliveries")]
    before = snapshot()
    n = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("post", "put", "patch", "delete"):
                continue
            if op.get("x-credentials") == "body":
                continue  # setup and login: the claim flow and the limiter test
            real = re.sub(r"\{[^}]+\}", "1", path)
            body = {} if method != "delete" else None
            secured = op.get("security", spec.get("security"))
            what = f"{method.upper()} {path}"
            n += 1
            if secured:
                st, resp, _ = h.call(method.upper(), real, body)
                check(st == 401, f"{what} without a session: {st} {resp!r}")
            st, resp, _ = h.call(method.upper(), real, body, cookie=cookie)
            schemes = {k for alt in (secured or [{"session": []}]) for k in alt}
            if "session" in schemes:
                check(st == 403 and code_of(resp) == "csrf_required",
                      f"{what} with a session, no CSRF: {st} {resp!r}")
            else:  # device or service tokens only: a session is no credential there
                check(st in (401, 403), f"{what} with a session cookie: {st} {resp!r}")
            st, resp, _ = h.call(method.upper(), real, body, cookie=cookie, csrf="f" * 64)
            check(st in (401, 403), f"{what} with a wrong CSRF token: {st} {resp!r}")
    check(n >= 15, f"only {n} state-changing operations in api.yaml")
    after = snapshot()
    check(before == after, f"nothing changed: {before!r} -> {after!r}")
    st, who, _ = h.call("GET", "/session", cookie=cookie)
    check(who.get("authenticated"), f"the session survived the walk: {who!r}")


def test_host_allowlist():
    h = need_claimed()
    st, health, _ = h.call("GET", "/health")
    ipv4 = health["network"]["ipv4"]
    for host in ["evil.example", "evil.example:443", "hearth.local.evil.example",
                 f"{ipv4}.nip.io", "attacker.hearth.local", "127.0.0.2", "[::2]:8443",
                 "localhost:80:80", "hearth.local:x"]:
        for path in ("/health", "/devices", "/"):
            st, body, r = h.call("GET", path, headers={"Host": host}, token=STATE["token"])
            check(st == 421 and code_of(body) == "host_not_allowed",
                  f"Host {host!r} {path}: {st} {body!r}")
            check(r.getheader("Content-Security-Policy") == CSP, "CSP on the 421")
        st, body, _ = h.call("POST", "/devices", {"name": "rebind"}, headers={"Host": host},
                             token=STATE["token"])
        check(st == 421, f"POST with Host {host!r}: {st}")
    for host in ["hearth.local", "HEARTH.LOCAL:8443", "hearth.local.", "localhost",
                 "localhost:12345", "127.0.0.1", f"127.0.0.1:{h.port}", "[::1]", "[::1]:8443",
                 ipv4, f"{ipv4}:443"]:
        st, body, _ = h.call("GET", "/health", headers={"Host": host})
        check(st == 200, f"Host {host!r} refused: {st} {body!r}")
    st, devs, _ = h.call("GET", "/devices", token=STATE["token"])
    check("rebind" not in json.dumps(devs), "a refused POST did nothing")


def test_security_headers():
    h = need_claimed()
    cases = [("GET", "/health", None, 200), ("GET", "/devices", None, 401),
             ("GET", "/api/v1/nope", None, 404), ("POST", "/session", {"password": 1}, 400),
             ("PUT", "/health", None, 405), ("GET", "/setup", None, 200)]
    for method, path, body, want in cases:
        st, _, r = h.call(method, path, body)
        check(st == want, f"{method} {path}: {st} (want {want})")
        hd = {k.lower(): v for k, v in r.getheaders()}
        what = f"{method} {path} ({st})"
        check(hd.get("content-security-policy") == CSP, f"{what}: CSP {hd.get('content-security-policy')!r}")
        check("unsafe-inline" not in hd["content-security-policy"], "no inline script")
        check(hd.get("x-content-type-options") == "nosniff", f"{what}: nosniff")
        check(hd.get("referrer-policy") == "no-referrer", f"{what}: referrer policy")
        check(hd.get("x-frame-options") == "DENY", f"{what}: X-Frame-Options")
        check(hd.get("strict-transport-security", "").startswith("max-age="), f"{what}: HSTS")
        check(hd.get("cache-control") == "no-store", f"{what}: Cache-Control {hd.get('cache-control')!r}")
    # a raw request without Host at all (HTTP/1.0): refused too
    s = socket.create_connection(("127.0.0.1", h.port), timeout=30)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s)
    t.sendall(b"GET /api/v1/health HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        d = t.recv(4096)
        if not d:
            break
        data += d
    t.close()
    check(data.startswith(b"HTTP/1.1 421"), f"no Host: {data[:80]!r}")


def test_login_limiter():
    h = need_claimed()
    t0 = time.monotonic()
    n, ra = engage(lambda: h.call("POST", "/session", {"password": "wrong password 99"}),
                   "login limiter")
    check(n >= 3, f"the limiter engaged after only {n} attempts (3 are free)")
    st, body, r = h.call("POST", "/session", {"password": PASSWORD})
    check(st == 429 and r.getheader("Retry-After"), f"the right password during the back-off: {st}")
    check(session_cookie(r)[0] is None, "no session during the back-off")
    # the bearer token (another door) is not locked by the password limiter
    st, _, _ = h.call("GET", "/devices", token=STATE["token"])
    check(st == 200, f"owner token during the back-off: {st}")
    # recovers: after Retry-After the owner gets in, which resets the counter
    time.sleep(int(r.getheader("Retry-After")) + 0.3)
    cookie, csrf = login(h)
    st, body, _ = h.call("POST", "/session", {"password": "wrong again 123"})
    check(st == 401, f"after a success the counter starts over: {st} {body!r}")
    check(time.monotonic() - t0 < 150, "the whole back-off stayed short")
    # the cap: the delay never grows past 60 s
    check(ra <= 60, f"Retry-After {ra} above the cap")


def test_password_change():
    h = need_claimed()
    cookie, csrf = login(h)
    new = "new battery staple 7"
    body = {"current_password": PASSWORD, "new_password": new}
    st, resp, _ = h.call("POST", "/password", body, cookie=cookie)
    check(st == 403 and code_of(resp) == "csrf_required", f"change without CSRF: {st} {resp!r}")
    st, resp, _ = h.call("POST", "/password", {"current_password": "wrong one 1234",
                                               "new_password": new}, cookie=cookie, csrf=csrf)
    check(st == 403 and code_of(resp) == "wrong_password", f"wrong current: {st} {resp!r}")
    st, resp, _ = h.call("POST", "/password", {"current_password": PASSWORD,
                                               "new_password": "weakweakweak"}, cookie=cookie, csrf=csrf)
    check(st == 422 and code_of(resp) == "weak_password", f"weak new: {st} {resp!r}")
    st, resp, r = h.call("POST", "/password", body, cookie=cookie, csrf=csrf)
    check(st == 200 and resp.get("authenticated"), f"change: {st} {resp!r}")
    newcookie, _ = session_cookie(r)
    check(newcookie and newcookie != cookie, "a new session after the change")
    st, _, _ = h.call("GET", "/devices", cookie=cookie)
    check(st == 401, f"the old session ended: {st}")
    st, _, _ = h.call("GET", "/devices", cookie=newcookie)
    check(st == 200, f"the new session works: {st}")
    st, resp, _ = h.call("POST", "/session", {"password": PASSWORD})
    check(st == 401, f"the old password no longer works: {st} {resp!r}")
    login(h, new)
    # and back, with the bearer token (no CSRF for bearer tokens)
    st, resp, _ = h.call("POST", "/password", {"current_password": new, "new_password": PASSWORD},
                         token=STATE["token"])
    check(st == 200, f"change back with the owner token: {st} {resp!r}")


def test_expiry_and_reboot():
    """A second boot: claimed, so no claim code; sessions end after the idle
    time (hearth.session_idle_s=3 here) and at reboot."""
    h = need_claimed()
    cookie, _ = login(h)
    h = hub("hearth.session_idle_s=3")
    check(not h.claim_code and "claim code" not in h.boot.text(),
          "a claimed device prints no claim code", h.boot)
    st, _, _ = h.call("GET", "/devices", cookie=cookie)
    check(st == 401, f"a session from before the reboot: {st}")
    cookie, csrf = login(h)
    st, _, _ = h.call("GET", "/devices", cookie=cookie)
    check(st == 200, "fresh session")
    time.sleep(1.5)
    st, _, _ = h.call("GET", "/devices", cookie=cookie)  # activity restarts the idle timer
    check(st == 200, "session still alive within the idle time")
    time.sleep(4)
    st, body, _ = h.call("GET", "/devices", cookie=cookie)
    check(st == 401 and code_of(body) == "session_expired", f"idle session: {st} {body!r}")
    st, who, _ = h.call("GET", "/session", cookie=cookie)
    check(who.get("authenticated") is False, f"whoami after expiry: {who!r}")


def test_factory_reset():
    h = need_claimed()
    old = STATE["token"]
    h = hub("hearth.factory_reset=please")
    check(not h.claim_code and "factory reset ignored" in h.boot.text(),
          "a wrong confirmation resets nothing", h.boot)
    h = hub("hearth.factory_reset=YES-ERASE-EVERYTHING")
    text = h.boot.text()
    check("hearth: factory reset: owner password" in text, "the reset is reported", h.boot)
    check(h.claim_code and h.token and h.token != old,
          "a new claim code and a new owner token after the reset", h.boot)
    st, body, _ = h.call("GET", "/setup")
    check(body == {"claimed": False} or body.get("claimed") is False, f"unclaimed: {body!r}")
    st, _, _ = h.call("GET", "/devices", token=old)
    check(st == 401, f"the old owner token is dead: {st}")
    st, devs, _ = h.call("GET", "/devices", token=h.token)
    check(st == 200 and "with-csrf" not in json.dumps(devs), f"devices erased: {devs!r}")
    st, body, _ = h.call("POST", "/session", {"password": PASSWORD})
    check(st == 409, f"the old password is gone: {st} {body!r}")
    # The audit log starts over with its chain head: it verifies right away.
    st, v, _ = h.call("GET", "/audit/verify", token=h.token)
    check(st == 200 and v.get("ok") is True, f"audit after the reset: {st} {v!r}")


def main():
    r = Runner()
    try:
        for t in (test_claim_flow, test_session_login_logout, test_state_changing_walk,
                  test_host_allowlist, test_security_headers, test_login_limiter,
                  test_password_change, test_expiry_and_reboot, test_factory_reset):
            r.run(t)
    finally:
        if HUB:
            HUB.stop()
    r.finish()


if __name__ == "__main__":
    main()
