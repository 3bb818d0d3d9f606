#!/usr/bin/python3
"""test_net.py: the network and HTTPS server of the real image in QEMU, from outside.

QEMU user networking forwards free host ports to the device's 443 and 80.
Checked with curl, openssl and Python's ssl module: the certificate against
the fingerprint and pin the console printed; keep-alive and pipelining; 1 MB
bodies up and down; every malformed request gets its status and the server
keeps serving; 200 concurrent connections are served or refused cleanly;
an idle connection is closed on time; TLS 1.2 with ECDHE+AEAD only; the
port-80 redirect; DHCP, DNS and SNTP against host-side responders; and
`make run`'s forwarded URL. E2E_ONLY=name,... runs a subset.
"""
import hashlib
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Boot, MakeRun, Runner, check, free_port, qemu_cmd  # noqa: E402

TMP = tempfile.mkdtemp(prefix="hearth-net-")


class Device:
    """One booted image with HTTPS and HTTP forwarded to free host ports."""

    def __init__(self, args="hearth.testapi", mem="64M", **kw):
        self.https, self.http = free_port(), free_port()
        self.boot = Boot(qemu_cmd(mem=mem, args=args, net={443: self.https, 80: self.http},
                                  semihosting=False, **kw), timeout=240)
        # A guard against a hang, not a timing check: generous for loaded CI.
        self.boot.wait_for("hearth: serving https://", timeout=180)
        text = self.boot.text()
        self.fingerprint = re.search(r"fingerprint ([0-9A-F:]{95})", text).group(1)
        self.pin = re.search(r"public key pin (sha256//\S+)", text).group(1)

    def ctx(self):
        c = ssl.create_default_context()
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
        return c

    def tls(self, timeout=20):
        s = socket.create_connection(("127.0.0.1", self.https), timeout=timeout)
        return self.ctx().wrap_socket(s, server_hostname="hearth.local")

    def request(self, raw, timeout=20):
        """Sends raw bytes on a new TLS connection; returns all bytes until close or timeout."""
        s = self.tls(timeout)
        s.sendall(raw)
        return read_all(s)

    def get(self, path):
        s = self.tls()
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: hearth.local\r\nConnection: close\r\n\r\n".encode())
        return parse_responses(read_all(s))[0]

    def stop(self):
        self.boot.kill()


def read_all(s, limit=1 << 24):
    out = b""
    try:
        while len(out) < limit:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ssl.SSLError, ConnectionResetError):
        pass
    s.close()
    return out


def parse_responses(data):
    """Splits a byte stream into (status, headers, body) triples (Content-Length or chunked)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            n = int(hdrs["content-length"])
            body, data = rest[:n], rest[n:]
        elif hdrs.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                n = int(size_line.split(b";")[0], 16)
                if n == 0:
                    _, _, rest = rest.partition(b"\r\n")
                    break
                body += rest[:n]
                rest = rest[n + 2:]
            data = rest
        else:
            body, data = rest, b""
        out.append((status, hdrs, body))
    return out


DEV = None


def dev():
    global DEV
    if DEV is None or not DEV.boot.alive():
        DEV = Device(args="hearth.testapi hearth.http.idle_ms=3000 hearth.http.header_ms=2000")
    return DEV


def test_certificate_matches_console():
    d = dev()
    pem = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.https}",
                          "-servername", "hearth.local"], input=b"", capture_output=True,
                         timeout=30).stdout
    der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem,
                         capture_output=True, check=True).stdout
    fp = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    check(fp == d.fingerprint, f"served certificate {fp} != console {d.fingerprint}", d.boot)
    certfile = os.path.join(TMP, "device.pem")
    subprocess.run(["openssl", "x509", "-inform", "DER", "-out", certfile], input=der, check=True)
    text = subprocess.run(["openssl", "x509", "-in", certfile, "-noout", "-text"],
                          capture_output=True, text=True).stdout
    for want in ("DNS:hearth.local", "IP Address:127.0.0.1", "IP Address:10.0.2.15",
                 "ASN1 OID: prime256v1", "TLS Web Server Authentication"):
        check(want in text, f"certificate lacks {want}:\n{text}")
    # curl verifies the chain and the name against the device's own certificate...
    r = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", certfile, "--resolve",
                        f"hearth.local:{d.https}:127.0.0.1",
                        f"https://hearth.local:{d.https}/api/v1/health"],
                       capture_output=True, text=True)
    check(r.returncode == 0 and json.loads(r.stdout)["status"] == "ok",
          f"curl with the device certificate as CA failed: {r.stderr}")
    # ...and pins its public key as printed on the console.
    r = subprocess.run(["curl", "-sSk", "--max-time", "20", "--pinnedpubkey", d.pin,
                        f"https://127.0.0.1:{d.https}/api/v1/health"], capture_output=True, text=True)
    check(r.returncode == 0, f"curl with the console's pin failed: {r.stderr}")
    r = subprocess.run(["curl", "-sSk", "--max-time", "20", "--pinnedpubkey",
                        "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                        f"https://127.0.0.1:{d.https}/api/v1/health"], capture_output=True, text=True)
    check(r.returncode != 0, "curl accepted a wrong pin")


def test_health_json():
    d = dev()
    status, hdrs, body = d.get("/api/v1/health")
    check(status == 200 and hdrs.get("content-type", "").startswith("application/json"),
          f"health: {status} {hdrs}")
    h = json.loads(body)
    check(h["status"] == "ok" and h["board"] == "qemu-virt" and re.match(r"\d+\.\d+\.\d+", h["version"]),
          f"health fields: {h}")
    check(h["network"]["ipv4"] == "10.0.2.15" and h["network"]["dhcp"] is True,
          f"DHCP address not in health: {h['network']}")
    check(h["uptime_s"] >= 0 and "storage" in h, f"health: {h}")
    check("date" in hdrs, "no Date header")


def test_keep_alive_and_pipelining():
    d = dev()
    s = d.tls()
    # Keep-alive: three requests one after another on one connection.
    for i in range(3):
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hearth.local\r\n\r\n")
        buf = b""
        while True:
            buf += s.recv(65536)
            r = parse_responses(buf)
            if r and len(r[0][2]) == int(r[0][1]["content-length"]):
                break
        check(r[0][0] == 200, f"keep-alive request {i}: {r[0][0]}")
    # Pipelining: three at once, three answers in order.
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hearth.local\r\n\r\n"
              b"GET /nope HTTP/1.1\r\nHost: hearth.local\r\n\r\n"
              b"GET /api/v1/health HTTP/1.1\r\nHost: hearth.local\r\nConnection: close\r\n\r\n")
    r = parse_responses(read_all(s))
    check([x[0] for x in r] == [200, 404, 200], f"pipelined statuses {[x[0] for x in r]}")


def test_one_megabyte_up_and_down():
    d = dev()
    n = 1 << 20
    status, hdrs, body = d.get(f"/api/v1/test/blob?size={n}")
    want = bytes(((i * 31 + 7) & 0xff) for i in range(n))
    check(status == 200 and len(body) == n and body == want,
          f"download: status {status}, {len(body)} bytes, equal={body == want}")
    up = os.urandom(n)
    raw = (f"POST /api/v1/test/sink HTTP/1.1\r\nHost: hearth.local\r\nContent-Length: {n}\r\n"
           f"Connection: close\r\n\r\n").encode() + up
    r = parse_responses(d.request(raw, timeout=120))
    check(r and r[0][0] == 200, f"upload status {r[0][0] if r else None}")
    got = json.loads(r[0][2])
    check(got["bytes"] == n and got["sha256"] == hashlib.sha256(up).hexdigest(),
          f"upload seen as {got}")


MALFORMED = [
    (400, b"GET / HTTP/1.1\r\nHost h\r\n\r\n"),                       # header without colon
    (400, b"GET /\x01 HTTP/1.1\r\nHost: hearth.local\r\n\r\n"),                  # control char in target
    (411, b"POST /api/v1/test/sink HTTP/1.1\r\nHost: hearth.local\r\n\r\n"),     # body without length
    (413, b"POST /api/v1/test/sink HTTP/1.1\r\nHost: hearth.local\r\nContent-Length: 99999999999\r\n\r\n"),
    (414, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: hearth.local\r\n\r\n"),
    (431, b"GET / HTTP/1.1\r\nHost: hearth.local\r\n" + b"X-Filler: " + b"b" * 9000 + b"\r\n\r\n"),
    (501, b"POST /api/v1/test/sink HTTP/1.1\r\nHost: hearth.local\r\nTransfer-Encoding: gzip\r\n\r\n"),
    (505, b"GET / HTTP/2.0\r\nHost: hearth.local\r\n\r\n"),
]


def test_malformed_requests():
    d = dev()
    for want, raw in MALFORMED:
        r = parse_responses(d.request(raw))
        check(r and r[0][0] == want, f"{raw[:50]!r}...: got {r[0][0] if r else 'nothing'}, want {want}")
        status, _, _ = d.get("/api/v1/health")
        check(status == 200, f"not serving after {raw[:40]!r}")
    # 408: a head that never completes (the test boot sets hearth.http.header_ms=2000).
    s = d.tls()
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hearth.local\r\n")
    t0 = time.monotonic()
    r = parse_responses(read_all(s))
    check(r and r[0][0] == 408, f"incomplete head: {r[0][0] if r else 'nothing'}, want 408")
    check(time.monotonic() - t0 < 15, "408 came too late")


def test_idle_connection_closed_on_time():
    d = dev()  # hearth.http.idle_ms=3000
    s = d.tls(timeout=30)
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hearth.local\r\n\r\n")
    time.sleep(0.5)
    t0 = time.monotonic()
    data = read_all(s)
    took = time.monotonic() - t0
    check(parse_responses(data)[0][0] == 200, "no answer before the idle close")
    check(2.0 <= took <= 10.0, f"idle connection closed after {took:.1f} s, want about 3 s")


def test_200_concurrent_connections():
    # Default timeouts: 200 TLS handshakes under emulation take a while.
    d = Device(args="hearth.testapi")
    try:
        concurrent(d)
    finally:
        d.stop()


def concurrent(d):
    results = []
    lock = threading.Lock()

    def one():
        try:
            s = socket.create_connection(("127.0.0.1", d.https), timeout=90)
            s = d.ctx().wrap_socket(s, server_hostname="hearth.local")
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hearth.local\r\nConnection: close\r\n\r\n")
            r = parse_responses(read_all(s))
            res = r[0][0] if r else "closed"
        except (ConnectionResetError, ConnectionRefusedError, ssl.SSLError, BrokenPipeError,
                ConnectionAbortedError) as e:
            res = "refused:" + type(e).__name__
        except socket.timeout:
            res = "timeout"
        with lock:
            results.append(res)

    threads = [threading.Thread(target=one) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    served = sum(1 for r in results if r == 200)
    refused = sum(1 for r in results if r == 503 or r == "closed" or str(r).startswith("refused"))
    check(len(results) == 200, f"only {len(results)} of 200 finished")
    check("timeout" not in results, f"some hung: {results.count('timeout')}")
    check(served + refused == 200 and served >= 16,
          f"served {served}, refused {refused}, other {[r for r in results if r not in (200, 503)][:5]}")
    status, _, body = d.get("/api/v1/health")
    check(status == 200, "the device does not answer after 200 connections")
    print(f"  200 concurrent: {served} served, {refused} refused cleanly")


def test_tls_versions_and_suites():
    d = dev()

    def s_client(*args):
        p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.https}",
                            "-servername", "hearth.local", *args], input=b"",
                           capture_output=True, timeout=30)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    rc, out = s_client("-tls1_2")
    m = re.search(r"Cipher is (\S+)", out)
    check(rc == 0 and m and "ECDHE" in m.group(1) and ("GCM" in m.group(1) or "CHACHA" in m.group(1)),
          f"TLS 1.2 handshake: {m.group(1) if m else out[-400:]}")
    check("Protocol  : TLSv1.2" in out or "TLSv1.2" in out, "not TLS 1.2")
    for proto in ("-tls1", "-tls1_1"):
        rc, out = s_client(proto, "-cipher", "DEFAULT@SECLEVEL=0")
        check(re.search(r"Cipher is (?!\(NONE\))\S+", out) is None,
              f"{proto} accepted:\n{out[-300:]}")
    for suite in ("AES128-SHA", "AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-SHA",
                  "ECDHE-ECDSA-AES256-SHA384", "DHE-RSA-AES128-GCM-SHA256"):
        rc, out = s_client("-tls1_2", "-cipher", suite)
        check(re.search(r"Cipher is (?!\(NONE\))\S+", out) is None,
              f"non-ECDHE-AEAD suite {suite} accepted")
    rc, out = s_client("-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")
    check("ECDHE-ECDSA-CHACHA20-POLY1305" in out, "ChaCha20-Poly1305 not offered")
    # Session tickets: a second connection resumes the first one's session.
    sess = os.path.join(TMP, "tls.sess")
    rc, out = s_client("-tls1_2", "-sess_out", sess)
    check("TLS session ticket:" in out, "no session ticket issued")
    rc, out = s_client("-tls1_2", "-sess_in", sess)
    check("Reused, TLSv1.2" in out, f"session not resumed:\n{out[-400:]}")
    # No renegotiation: a client-initiated one (openssl's R command) ends the
    # connection instead of renegotiating; no request gets through after it.
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{d.https}", "-tls1_2"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.5)
        p.stdin.write(b"R\n")
        p.stdin.flush()
        time.sleep(1.5)
        p.stdin.write(b"GET /api/v1/health HTTP/1.1\r\nHost: hearth.local\r\n\r\n")
        p.stdin.flush()
        time.sleep(1.5)
    except BrokenPipeError:
        pass
    p.kill()
    out = p.stdout.read().decode(errors="replace")
    check("RENEGOTIATING" in out, "the renegotiation was not attempted")
    check('"status":"ok"' not in out, f"a request went through after renegotiation:\n{out[-300:]}")


def test_static_address_from_bootargs():
    # QEMU's user network accepts any address in 10.0.2.0/24: a static one
    # instead of DHCP, with its gateway and DNS server.
    d = Device(args="hearth.ip=10.0.2.77/24 hearth.gw=10.0.2.2 hearth.dns=10.0.2.3", guest_ip="10.0.2.77")
    try:
        text = d.boot.text()
        check("net: eth0 IPv4 10.0.2.77 netmask 255.255.255.0 gateway 10.0.2.2" in text,
              "static address not configured", d.boot)
        h = json.loads(d.get("/api/v1/health")[2])
        check(h["network"]["ipv4"] == "10.0.2.77" and h["network"]["dhcp"] is False,
              f"health network: {h['network']}", d.boot)
    finally:
        d.stop()
    # A malformed one falls back to DHCP and says so.
    d = Device(args="hearth.ip=10.0.2.300/99")
    try:
        check("bad static address '10.0.2.300/99'" in d.boot.text() and
              "net: eth0 IPv4 10.0.2.15" in d.boot.text(), "no DHCP fallback", d.boot)
    finally:
        d.stop()


def test_modern_virtio_net():
    d = Device(args="", extra=["-global", "virtio-mmio.force-legacy=false"])
    try:
        status, _, body = d.get("/api/v1/health")
        check(status == 200 and json.loads(body)["network"]["ipv4"] == "10.0.2.15",
              "health over modern (v2) virtio-net", d.boot)
    finally:
        d.stop()


def test_mdns_answers_hearth_local():
    # A unicast mDNS query forwarded to the device's UDP 5353 (QEMU's user
    # network has no multicast to the host): the answer names 10.0.2.15.
    up = free_port()
    cmd = qemu_cmd(mem="64M", semihosting=False) + [
        "-netdev", f"user,id=n0,hostfwd=udp:127.0.0.1:{up}-:5353",
        "-device", "virtio-net-device,netdev=n0"]
    b = Boot(cmd, timeout=60)
    try:
        b.wait_for("hearth: serving https://", timeout=40)
        q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + b"\x06hearth\x05local\x00" + \
            struct.pack(">HH", 1, 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        answer = None
        for _ in range(5):
            s.sendto(q, ("127.0.0.1", up))
            try:
                answer, _ = s.recvfrom(1500)
                break
            except socket.timeout:
                continue
        check(answer is not None, "no mDNS answer", b)
        check(answer[:2] == b"\x42\x42" and socket.inet_aton("10.0.2.15") in answer,
              f"mDNS answer does not give 10.0.2.15: {answer!r}", b)
    finally:
        b.kill()


def test_http_redirects_to_https():
    d = dev()
    s = socket.create_connection(("127.0.0.1", d.http), timeout=20)
    s.sendall(b"GET /setup?x=1 HTTP/1.1\r\nHost: hearth.local:8080\r\nConnection: close\r\n\r\n")
    r = parse_responses(read_all(s))
    check(r and r[0][0] == 301 and r[0][1].get("location") == "https://hearth.local/setup?x=1",
          f"redirect: {r[0][:2] if r else None}")


# ---- DNS and SNTP against host-side responders ---------------------------

def dns_responder(port, name, addr, stop):
    """Answers A queries for (name) with (addr); NXDOMAIN otherwise."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            q, peer = s.recvfrom(512)
        except socket.timeout:
            continue
        qid, flags, qd = struct.unpack(">HHH", q[:6])
        i, labels = 12, []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode())
            i += 1 + q[i]
        question = q[12:i + 5]
        qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
        if ".".join(labels) == name and qtype == 1:
            ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
            s.sendto(struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + ans, peer)
        else:
            s.sendto(struct.pack(">HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question, peer)
    s.close()


NTP_TIME = 1893456000  # 2030-01-01T00:00:00Z


def ntp_responder(port, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            q, peer = s.recvfrom(512)
        except socket.timeout:
            continue
        if len(q) < 48:
            continue
        ntp = NTP_TIME + 2208988800
        # LI 0, version 4, mode 4 (server), stratum 1; originate = client's transmit.
        pkt = bytes([0x24, 1, 6, 0xec]) + bytes(8) + b"TEST" + struct.pack(">II", ntp, 0) + \
            q[40:48] + struct.pack(">II", ntp, 0) + struct.pack(">II", ntp, 0)
        s.sendto(pkt, peer)
    s.close()


def test_dhcp_dns_sntp():
    # The guest reaches the host's loopback as 10.0.2.2 through QEMU's user
    # network: DNS on 53 and NTP on 123 there need root (CI runs as root).
    stop = threading.Event()
    try:
        threads = [threading.Thread(target=dns_responder, args=(53, "service.test", "10.0.2.2", stop)),
                   threading.Thread(target=ntp_responder, args=(123, stop))]
        for t in threads:
            t.start()
        time.sleep(0.3)
        d = Device(args="hearth.dns=10.0.2.2 hearth.ntp=10.0.2.2 hearth.test=dns:service.test")
        try:
            d.boot.wait_for("DNS-OK service.test 10.0.2.2", timeout=30)
            d.boot.wait_for("net: clock set by SNTP", timeout=30)
            check("net: eth0 IPv4 10.0.2.15" in d.boot.text(), "no DHCP address", d.boot)
            h = json.loads(d.get("/api/v1/health")[2])
            check(h["time"]["synced"] is True and abs(h["time"]["unix"] - NTP_TIME) < 120,
                  f"clock not from SNTP: {h['time']}", d.boot)
        finally:
            d.stop()
    finally:
        stop.set()


def test_fingerprint_survives_reboot():
    disk = os.path.join(TMP, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    drive = ["-drive", f"file={disk},if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0"]
    fps = []
    for boot in range(2):
        d = Device(args="", extra=drive)
        try:
            fps.append(d.fingerprint)
            check("store: " in d.boot.text(), "no store line", d.boot)
            h = json.loads(d.get("/api/v1/health")[2])
            check(h["storage"]["state"] == "ok", f"storage in health: {h['storage']}", d.boot)
        finally:
            d.stop()
    check(fps[0] == fps[1], f"fingerprint changed across a reboot: {fps}")


def test_make_run_serves_health():
    https, http = free_port(), free_port()
    b = MakeRun({"HEARTH_MEM": "64M", "HEARTH_HTTPS_PORT": str(https), "HEARTH_HTTP_PORT": str(http),
                 "HEARTH_DISK": "none"})
    try:
        b.wait_for("hearth: serving https://")
        check(f"https://127.0.0.1:{https}/" in b.text(), "make run did not print the URL", b)
        fp = re.search(r"fingerprint ([0-9A-F:]{95})", b.text()).group(1)
        pem = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{https}"], input=b"",
                             capture_output=True, timeout=30).stdout
        der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem,
                             capture_output=True).stdout
        check(":".join(f"{x:02X}" for x in hashlib.sha256(der).digest()) == fp,
              "make run's certificate does not match its console", b)
        r = subprocess.run(["curl", "-sSk", "--max-time", "20",
                            f"https://127.0.0.1:{https}/api/v1/health"], capture_output=True, text=True)
        check(r.returncode == 0 and json.loads(r.stdout)["status"] == "ok", f"health: {r.stderr}", b)
        # The forwarded HTTP port redirects to the forwarded HTTPS port.
        r = subprocess.run(["curl", "-sSkL", "--max-time", "20",
                            f"http://127.0.0.1:{http}/api/v1/health"], capture_output=True, text=True)
        check(r.returncode == 0 and json.loads(r.stdout)["status"] == "ok",
              f"redirect from the HTTP port: {r.stderr}", b)
    finally:
        b.kill()


if __name__ == "__main__":
    r = Runner()
    try:
        for name, fn in list(globals().items()):
            if name.startswith("test_") and callable(fn):
                r.run(fn)
    finally:
        if DEV:
            DEV.stop()
    r.finish()
