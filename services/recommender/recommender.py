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

  recommender.py manifest --dir D --endpoint-host 10.0.2.2 --port 4443
  recommender.py serve --dir D --port 4443 --log got.jsonl
  recommender.py pull --hearth https://127.0.0.1:8443 --credential hts_... \
      --category viewing.history --purpose recommendation --log got.jsonl

A push with an Idempotency-Key already seen is answered 200 and logged as a
duplicate (so a test can tell a retry from a second release).
Leaves out: real recommendations; TLS client authentication.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


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


def pin_of(cert):
    """sha256//BASE64 of the certificate's SubjectPublicKeyInfo."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


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
        log.write({"kind": "push", "delivery": key, "duplicate": dup,
                   "service": self.headers.get("X-Hearth-Service"), "body": body})
        out = json.dumps({"received": key, "duplicate": dup}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def serve(d, port, log_path, host="0.0.0.0"):
    """Starts the HTTPS server in a thread; returns the server."""
    cert, key = make_cert(d)
    httpd = http.server.ThreadingHTTPServer((host, port), Handler)
    httpd.log = Log(log_path)
    httpd.handle_error = lambda request, address: None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def pull(hearth, credential, category, purpose, log_path, approval=None, cafile=None, pin=None):
    """POST /api/v1/share; logs and returns (status, body). The hub's
    certificate is self-signed: give its file (cafile); without one the
    connection is not verified (demo only)."""
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
    if cafile:
        ctx.check_hostname = False
    req = {"category": category, "purpose": purpose}
    if approval:
        req["approval"] = approval
    r = urllib.request.Request(hearth + "/api/v1/share", data=json.dumps(req).encode(),
                               method="POST", headers={"Authorization": "Bearer " + credential,
                                                       "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, context=ctx, timeout=30) as resp:
            status, body = resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        status, body = e.code, json.loads(e.read() or b"null")
    Log(log_path).write({"kind": "pull", "status": status, "body": body})
    return status, body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("manifest")
    m.add_argument("--dir", default=os.path.join(HERE, "state"))
    m.add_argument("--endpoint-host", default="10.0.2.2")
    m.add_argument("--port", type=int, default=4443)
    s = sub.add_parser("serve")
    s.add_argument("--dir", default=os.path.join(HERE, "state"))
    s.add_argument("--port", type=int, default=4443)
    s.add_argument("--log", default="recommender.jsonl")
    p = sub.add_parser("pull")
    p.add_argument("--hearth", default="https://127.0.0.1:8443")
    p.add_argument("--credential", required=True)
    p.add_argument("--category", default="viewing.history")
    p.add_argument("--purpose", default="recommendation")
    p.add_argument("--approval", type=int)
    p.add_argument("--log", default="recommender.jsonl")
    a = ap.parse_args()
    if a.cmd == "manifest":
        print(json.dumps(manifest(a.dir, a.endpoint_host, a.port), indent=2))
    elif a.cmd == "serve":
        serve(a.dir, a.port, a.log)
        print(f"recommender: https://0.0.0.0:{a.port}/hearth/push, pin "
              f"{pin_of(make_cert(a.dir)[0])}, logging to {a.log}", flush=True)
        threading.Event().wait()
    else:
        status, body = pull(a.hearth, a.credential, a.category, a.purpose, a.log, a.approval)
        print(status, json.dumps(body, indent=2))
        sys.exit(0 if status == 200 else 1)


if __name__ == "__main__":
    main()
