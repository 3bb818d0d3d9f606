#!/usr/bin/python3
"""recommender.py: a reference third-party service for Hearth (Python 3
standard library only; openssl makes its certificate).

It plays a recommender: it publishes its manifest (manifest.json, with its
endpoint and certificate pin filled in), receives pushes from Hearth over
HTTPS at /hearth/push (its own self-signed certificate; Hearth is given the
certificate and its pin), makes pulls with the credential Hearth issued
(POST /api/v1/share), and records exactly what it got, one JSON object per
line, to a log file:
  {"kind": "push", "delivery": ID, "duplicate": false, "body": [...]}
  {"kind": "pull", "status": 200, "body": {...}}

Commands and options (defaults in brackets; --dir and --log default to
build/recommender/ in the repository, so state stays out of the tree):
  manifest  print the manifest to import into Hearth
            --dir D             certificate and key, made once [build/recommender]
            --endpoint-host H   how the hub reaches this service [10.0.2.2: the host
                                as seen from QEMU's user network]
            --port P            the port `serve` listens on [4443]
  serve     receive pushes at https://HOST:PORT/hearth/push until killed
            --dir D, --port P   as above (the same D and P as the manifest)
            --host A            the address to listen on [127.0.0.1; QEMU's user
                                network delivers 10.0.2.2 to the host's loopback]
            --log F             what it got, appended [build/recommender/got.jsonl]
  pull      POST /api/v1/share once, print and log the answer
            --hearth URL        the hub [https://127.0.0.1:8443, `make run`'s port]
            --pin sha256//...   the hub's public key pin (the console prints it);
                                without it the hub's certificate is not checked
            --credential hts_...  the service credential the import answered
            --category C, --purpose P  [viewing.history, recommendation]
            --approval N        redeem an approved @ask request
            --log F             as above

  recommender.py manifest --port 4443 > build/recommender/manifest.json
  recommender.py serve --port 4443
  recommender.py pull --pin sha256//... --credential hts_recommender...

A push with an Idempotency-Key already seen is answered 200 and logged as a
duplicate (so a test can tell a retry from a second release); every push
entry also has the SHA-256 of the raw body it came with. serve(hold=N,
hold_seconds=S) records the first N pushes at once but answers them S
seconds late (the restart test kills Hearth in between).
Leaves out: real recommendations; TLS client authentication.
"""
import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
STATE = os.path.normpath(os.path.join(HERE, "..", "..", "build", "recommender"))


def make_cert(d, hosts=("10.0.2.2", "127.0.0.1")):
    """A self-signed ECDSA P-256 certificate for the hosts (made once in d)."""
    cert, key = os.path.join(d, "service.pem"), os.path.join(d, "service.key")
    if not os.path.exists(cert):
        os.makedirs(d, exist_ok=True)
        san = ",".join(f"IP:{h}" for h in hosts) + ",DNS:localhost"
        subprocess.run(["openssl", "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "30", "-subj", "/CN=Hearth reference recommender",
                        "-addext", f"subjectAltName={san}"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def pin_of_der(der_cert):
    """sha256//BASE64 of a DER certificate's SubjectPublicKeyInfo."""
    pub = subprocess.run(["openssl", "x509", "-inform", "DER", "-pubkey", "-noout"],
                         input=der_cert, check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def pin_of(cert):
    """sha256//BASE64 of the certificate's (a PEM file's) SubjectPublicKeyInfo."""
    with open(cert) as f:
        return pin_of_der(ssl.PEM_cert_to_DER_cert(f.read()))


def manifest(d, endpoint_host, port):
    """The manifest with this instance's endpoint, pin and certificate."""
    cert, _ = make_cert(d)
    with open(os.path.join(HERE, "manifest.json")) as f:
        m = json.load(f)
    m["endpoint"] = f"https://{endpoint_host}:{port}/hearth/push"
    m["pin"] = pin_of(cert)
    with open(cert) as f:
        m["ca"] = f.read()
    return m


class Log:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.seen = set()

    def write(self, entry):
        with self.lock, open(self.path, "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        if self.path != "/hearth/push":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        log = self.server.log
        key = self.headers.get("Idempotency-Key", "")
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        with log.lock:
            dup = key in log.seen
            log.seen.add(key)
            hold = self.server.hold
            held = hold is not None and hold["count"] > 0
            if held:
                hold["count"] -= 1
        log.write({"kind": "push", "delivery": key, "duplicate": dup,
                   "sha256": hashlib.sha256(data).hexdigest(),
                   "service": self.headers.get("X-Hearth-Service"), "body": body})
        if held:  # applied, but the answer is late (tests kill Hearth meanwhile)
            hold["event"].set()
            time.sleep(hold["seconds"])
        out = json.dumps({"received": key, "duplicate": dup}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def serve(d, port, log_path, host="0.0.0.0", hold=0, hold_seconds=0.0):
    """Starts the HTTPS server in a thread; returns the server. hold: the
    first (hold) pushes are recorded at once but answered only after
    hold_seconds; httpd.held (a threading.Event) is set when one arrives."""
    cert, key = make_cert(d)
    httpd = http.server.ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    httpd.log = Log(log_path)
    httpd.held = threading.Event()
    httpd.hold = {"count": hold, "seconds": hold_seconds, "event": httpd.held} if hold else None
    httpd.handle_error = lambda request, address: None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def pull(hearth, credential, category, purpose, log_path, approval=None, cafile=None, pin=None):
    """POST /api/v1/share; logs and returns (status, body). The hub's
    certificate is self-signed: give its public key pin (pin, checked before
    anything is sent) or its file (cafile); with neither the connection is
    not verified (tests and demos only)."""
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
    if cafile:
        ctx.check_hostname = False
    req = {"category": category, "purpose": purpose}
    if approval:
        req["approval"] = approval
    u = urllib.parse.urlsplit(hearth)
    conn = http.client.HTTPSConnection(u.hostname, u.port or 443, context=ctx, timeout=30)
    try:
        conn.connect()
        if pin:
            got = pin_of_der(conn.sock.getpeercert(binary_form=True))
            if got != pin:
                raise ConnectionError(f"the hub's public key pin is {got}, not {pin}")
        conn.request("POST", u.path.rstrip("/") + "/api/v1/share", body=json.dumps(req).encode(),
                     headers={"Authorization": "Bearer " + credential,
                              "Content-Type": "application/json"})
        resp = conn.getresponse()
        status, body = resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()
    Log(log_path).write({"kind": "pull", "status": status, "body": body})
    return status, body


def main():
    ap = argparse.ArgumentParser(description="A reference third-party service for Hearth.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    log = os.path.join(STATE, "got.jsonl")
    m = sub.add_parser("manifest", help="print the manifest to import into Hearth")
    m.add_argument("--dir", default=STATE, help="certificate and key (made once)")
    m.add_argument("--endpoint-host", default="10.0.2.2",
                   help="this host as the hub sees it (QEMU's user network: 10.0.2.2)")
    m.add_argument("--port", type=int, default=4443, help="the port serve listens on")
    s = sub.add_parser("serve", help="receive pushes until killed")
    s.add_argument("--dir", default=STATE, help="certificate and key (made once)")
    s.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    s.add_argument("--port", type=int, default=4443)
    s.add_argument("--log", default=log, help="what the service got (JSON lines, appended)")
    p = sub.add_parser("pull", help="POST /api/v1/share once")
    p.add_argument("--hearth", default="https://127.0.0.1:8443", help="the hub's URL")
    p.add_argument("--pin", help="the hub's public key pin, sha256//... (from its console)")
    p.add_argument("--credential", required=True, help="hts_... (from the manifest import)")
    p.add_argument("--category", default="viewing.history")
    p.add_argument("--purpose", default="recommendation")
    p.add_argument("--approval", type=int, help="an approved @ask request's id")
    p.add_argument("--log", default=log, help="what the service got (JSON lines, appended)")
    a = ap.parse_args()
    if a.cmd == "manifest":
        print(json.dumps(manifest(a.dir, a.endpoint_host, a.port), indent=2))
    elif a.cmd == "serve":
        os.makedirs(os.path.dirname(os.path.abspath(a.log)), exist_ok=True)
        serve(a.dir, a.port, a.log, a.host)
        print(f"recommender: https://{a.host}:{a.port}/hearth/push, pin "
              f"{pin_of(make_cert(a.dir)[0])}, logging to {a.log}", flush=True)
        threading.Event().wait()
    else:
        os.makedirs(os.path.dirname(os.path.abspath(a.log)), exist_ok=True)
        try:
            status, body = pull(a.hearth, a.credential, a.category, a.purpose, a.log, a.approval,
                                pin=a.pin)
        except OSError as e:
            sys.exit(f"recommender: {e}")
        print(status, json.dumps(body, indent=2))
        sys.exit(0 if status == 200 else 1)


if __name__ == "__main__":
    main()
