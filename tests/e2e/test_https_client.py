#!/usr/bin/python3
"""test_https_client.py: the device's HTTPS client (stack/https_client.c)
against host-side HTTPS servers, from outside.

Each case boots the real image in QEMU with user networking (the host is
10.0.2.2 from the guest) and the test hook hearth.test=fetch:URL,... ; the
console line FETCH-OK status= bytes= sha256= or FETCH-ERR REASON says what the
client did, and the exit code agrees. The test makes its own CAs and server
certificates with openssl at run time (ECDSA P-256), serves them with
Python's ssl module, and hands the test CA to the image as base64 DER in the
bootarg hearth.testca= (the hook's ca=test). Cases: the right CA (by address
and by name, SNI checked on the server), a wrong CA, the built-in bundle (which
does not know the test CA), a wrong name, a pin mismatch and the right pin,
Content-Length, chunked and read-to-close bodies, bodies over the limit
(either framing), a redirect returned as it is, POST, a server that never
answers (timeout), a closed port (refused) and a TLS 1.3-only server (no
handshake). E2E_ONLY=name,... runs a subset.
"""
import base64
import hashlib
import http.server
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Boot, check, qemu_cmd  # noqa: E402

TMP = tempfile.mkdtemp(prefix="hearth-httpsc-")
HOST = "10.0.2.2"  # the host, from the guest on QEMU's user network (and libslirp's)
HOST_BOARD = os.path.join(ROOT, "build", "host", "hearth")


def body_of(n, seed):
    return hashlib.shake_256(f"hearth-{seed}".encode()).digest(n)


BODY = body_of(5000, "body")
CHUNKED = body_of(30000, "chunked")
CLOSE = body_of(7000, "close")
BIG = body_of(70000, "big")  # the hook's default limit is 65536
POST = bytes(i % 251 for i in range(20000))  # what post=20000 sends


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, cwd=TMP,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(name):
    openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "30",
            "-subj", f"/CN=Hearth test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_leaf(name, ca, sans):
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
    with open(os.path.join(TMP, f"{name}.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                f"extendedKeyUsage=serverAuth\nsubjectAltName={sans}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "30", "-extfile", f"{name}.ext")


def spki_pin(name):
    """curl's sha256//BASE64 of the certificate's SubjectPublicKeyInfo."""
    pub = subprocess.run(["openssl", "x509", "-in", os.path.join(TMP, f"{name}.pem"),
                          "-pubkey", "-noout"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def der_b64(name):
    der = subprocess.run(["openssl", "x509", "-in", os.path.join(TMP, f"{name}.pem"),
                          "-outform", "DER"], check=True, capture_output=True).stdout
    return base64.b64encode(der).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_body(self, body, ctype="application/octet-stream"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_chunked(self, body, size=4093):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(body), size):
            part = body[i:i + size]
            self.wfile.write(b"%x;ext=1\r\n" % len(part) + part + b"\r\n")
        self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")

    def do_GET(self):
        self.server.seen.append(("GET", self.path, self.headers.get("Host")))
        if self.path == "/body":
            self.send_body(BODY)
        elif self.path == "/chunked":
            self.send_chunked(CHUNKED)
        elif self.path == "/close":
            # No length, no chunking: the body ends when the server closes.
            self.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + CLOSE)
            self.close_connection = True
        elif self.path == "/big":
            self.send_body(BIG)
        elif self.path == "/bigchunked":
            self.send_chunked(BIG)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/body")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_error(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        self.server.seen.append(("POST", self.path, self.headers.get("Host")))
        self.send_body(data)


class TLSServer:
    """A threaded HTTPS server on a free port with one certificate; records SNI."""

    def __init__(self, cert, tls13_only=False):
        self.httpd = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Handler)
        self.httpd.seen = []
        self.httpd.handle_error = lambda request, address: None  # clients that hang up
        self.sni = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(TMP, f"{cert}.pem"), os.path.join(TMP, f"{cert}.key"))
        if tls13_only:  # the device speaks TLS 1.2 only: no handshake possible
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.sni_callback = lambda sock, name, c: self.sni.append(name)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


class Silent:
    """Accepts TCP connections and never says a word (for timeouts)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            c, _ = self.sock.accept()
            self.conns.append(c)


def closed_port():
    s = socket.socket()
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- set-up: CAs, certificates, servers ----

make_ca("ca")
make_ca("otherca")
make_leaf("good", "ca", f"DNS:service.test,IP:{HOST}")
make_leaf("othername", "ca", "DNS:other.test,IP:10.9.9.9")
make_leaf("wrongca", "otherca", f"DNS:service.test,IP:{HOST}")
GOOD, OTHERNAME, WRONGCA = TLSServer("good"), TLSServer("othername"), TLSServer("wrongca")
TLS13 = TLSServer("good", tls13_only=True)
SILENT = Silent()
TESTCA = der_b64("ca")
GOOD_PIN = spki_pin("good")
OTHER_PIN = spki_pin("othername")


def fetch(url, opts="", extra_args=""):
    """Boots the image with the fetch hook; returns (boot, exit code, result line)."""
    arg = f"hearth.test=fetch:{url}{opts} hearth.testca={TESTCA} {extra_args}".strip()
    b = Boot(qemu_cmd(mem="64M", args=arg,
                      extra=["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]),
             timeout=60)
    rc = b.wait_exit()
    m = re.search(r"^(FETCH-(?:OK|ERR) .*)$", b.text(), re.M)
    check(m is not None, "no FETCH-OK/FETCH-ERR line", b)
    return b, rc, m.group(1)


def expect_ok(url, opts, body, status=200):
    b, rc, line = fetch(url, opts)
    want = f"FETCH-OK status={status} bytes={len(body)} sha256={hashlib.sha256(body).hexdigest()}"
    check(line == want, f"got {line!r}, want {want!r}", b)
    check(rc == 0, f"exit code {rc}, want 0", b)
    return b


def expect_err(url, opts, reason):
    b, rc, line = fetch(url, opts)
    check(line.startswith(f"FETCH-ERR {reason} "), f"got {line!r}, want FETCH-ERR {reason}", b)
    check(rc == 1, f"exit code {rc}, want 1", b)
    return b, line


# ---- cases ----

def test_right_ca_by_address():
    # An IPv4 literal: checked against the certificate's iPAddress SAN.
    expect_ok(f"https://{HOST}:{GOOD.port}/body", ",ca=test", BODY)


def test_right_ca_by_name_sni_chunked():
    # A name (connected to the host's address): dNSName check, sent as SNI.
    n = len(GOOD.sni)
    expect_ok(f"https://service.test:{GOOD.port}/chunked", f",ca=test,to={HOST}", CHUNKED)
    check("service.test" in GOOD.sni[n:], f"the server saw SNI {GOOD.sni[n:]}, not service.test")
    check(("GET", "/chunked", f"service.test:{GOOD.port}") in GOOD.httpd.seen,
          "the server did not see GET /chunked with the right Host")


def test_read_to_close_body():
    expect_ok(f"https://{HOST}:{GOOD.port}/close", ",ca=test", CLOSE)


def test_wrong_ca_refused():
    b, _ = expect_err(f"https://{HOST}:{WRONGCA.port}/body", ",ca=test", "untrusted")
    check(not WRONGCA.httpd.seen, "a request reached the server with the untrusted certificate", b)


def test_builtin_bundle_does_not_trust_test_ca():
    b, _ = expect_err(f"https://{HOST}:{GOOD.port}/body", "", "untrusted")
    m = re.search(r"https: CA bundle \(ca-certificates (\S+)\): (\d+) certificates, (\d+) skipped",
                  b.text())
    check(m is not None, "no CA bundle line", b)
    check(int(m.group(2)) >= 100, f"only {m.group(2)} CAs in the built-in bundle", b)


def test_wrong_name_refused():
    # Signed by the right CA, for other.test / 10.9.9.9.
    n = len(OTHERNAME.httpd.seen)
    expect_err(f"https://{HOST}:{OTHERNAME.port}/body", ",ca=test", "name-mismatch")
    expect_err(f"https://service.test:{OTHERNAME.port}/body", f",ca=test,to={HOST}",
               "name-mismatch")
    check(len(OTHERNAME.httpd.seen) == n, "a request reached the server with the wrong name")


def test_pin_mismatch_refused():
    b, _ = expect_err(f"https://{HOST}:{GOOD.port}/body", f",ca=test,pin={OTHER_PIN}",
                      "pin-mismatch")


def test_right_pin_accepted():
    expect_ok(f"https://{HOST}:{GOOD.port}/body", f",ca=test,pin={GOOD_PIN}", BODY)


def test_too_big_refused():
    expect_err(f"https://{HOST}:{GOOD.port}/big", ",ca=test", "too-big")
    expect_err(f"https://{HOST}:{GOOD.port}/bigchunked", ",ca=test", "too-big")
    # The same body fits a larger limit.
    expect_ok(f"https://{HOST}:{GOOD.port}/big", ",ca=test,max=70000", BIG)


def test_redirect_returned_as_is():
    b = expect_ok(f"https://{HOST}:{GOOD.port}/redirect", ",ca=test", b"", status=302)
    check("FETCH-HEADER location: /body" in b.text(), "no Location header reported", b)
    # Followed when asked for.
    expect_ok(f"https://{HOST}:{GOOD.port}/redirect", ",ca=test,redirects=1", BODY)


def test_post():
    expect_ok(f"https://{HOST}:{GOOD.port}/echo", ",ca=test,post=20000", POST)


def test_timeout_refused_tls_failed():
    b, line = expect_err(f"https://{HOST}:{SILENT.port}/body", ",ca=test,timeout=1500",
                         "tls-timeout")
    expect_err(f"https://{HOST}:{closed_port()}/body", ",ca=test", "refused")
    expect_err(f"https://{HOST}:{TLS13.port}/body", ",ca=test", "tls-failed")


def test_host_board_under_sanitizers():
    # The same client in the host build (libslirp network, ASan+UBSan): the
    # paths that copy and parse, and the refusals, without a sanitizer report.
    check(os.path.exists(HOST_BOARD), f"{HOST_BOARD} missing (make BOARD=host)")
    g = f"https://{HOST}:{GOOD.port}"
    cases = [(f"{g}/chunked", ",ca=test", f"FETCH-OK status=200 bytes={len(CHUNKED)} "
              f"sha256={hashlib.sha256(CHUNKED).hexdigest()}"),
             (f"{g}/echo", ",ca=test,post=20000", f"FETCH-OK status=200 bytes={len(POST)} "
              f"sha256={hashlib.sha256(POST).hexdigest()}"),
             (f"{g}/bigchunked", ",ca=test", "FETCH-ERR too-big "),
             (f"{g}/body", "", "FETCH-ERR untrusted "),
             (f"https://{HOST}:{OTHERNAME.port}/body", ",ca=test", "FETCH-ERR name-mismatch ")]
    for url, opts, want in cases:
        b = Boot([HOST_BOARD, f"hearth.test=fetch:{url}{opts}", f"hearth.testca={TESTCA}"],
                 timeout=30)
        rc = b.wait_exit()
        text = b.text()
        check(re.search(r"Sanitizer|runtime error", text) is None, "sanitizer report", b)
        line = re.search(r"^FETCH-(?:OK|ERR) .*$", text, re.M)
        check(line is not None and line.group(0).startswith(want),
              f"{url}{opts}: got {line and line.group(0)!r}, want {want!r}", b)
        check(rc == (0 if want.startswith("FETCH-OK") else 1), f"exit code {rc}", b)


def main():
    only = os.environ.get("E2E_ONLY")
    tests = [fn for name, fn in list(globals().items()) if name.startswith("test_") and callable(fn)
             and (not only or any(o in name for o in only.split(",")))]
    lock = threading.Lock()
    failed = []

    def run(fn):
        # The cases are independent (each boots its own QEMU): a few at a time.
        t0 = time.monotonic()
        try:
            fn()
            msg = f"PASS {fn.__name__} ({time.monotonic() - t0:.1f}s)"
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            failed.append(fn.__name__)
            msg = f"FAIL {fn.__name__} ({time.monotonic() - t0:.1f}s)\n{e}"
        with lock:
            print(msg, flush=True)

    with ThreadPoolExecutor(max_workers=1 if os.environ.get("E2E_SERIAL") else 4) as pool:
        list(pool.map(run, tests))
    if failed:
        print(f"{len(failed)} of {len(tests)} failed: {', '.join(failed)}")
        sys.exit(1)
    print(f"all {len(tests)} passed")


if __name__ == "__main__":
    main()
