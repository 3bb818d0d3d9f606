#!/usr/bin/python3
"""test_release_capture.py: what the image puts on the wire during the
release flow, and a push that survives a restart (issue 6).

1. test_capture: test_release.py's whole story (one boot), run again with
   QEMU's filter-dump on the user-net netdev and the bootarg
   hearth.test.txlog (CONFIG_TEST_HOOKS: the HTTPS client prints every
   request head and body, base64, with the body's length and SHA-256, before
   TLS encrypts it), plus health records that no policy ever allows and
   denied attempts to push and pull them. The pcap is parsed by hand
   (pcap records, Ethernet, IPv4, TCP/UDP). It checks: every TCP connection
   the device opens to the service (10.0.2.2:SERVICE_PORT) is one audited
   push release, one TX-BODY, one push the service got (same SHA-256 in all
   three); no TCP payload from the device starts with an HTTP method or
   "HTTP/1."; every TCP stream the device sends is whole TLS records
   (type 0x14-0x17, version 0x0303); no health marker (titles, category
   names) appears in any cleartext body or head nor in any packet.
2. test_restart_mid_push: a fresh disk; two pushes interrupted by SIGKILL of
   QEMU, each followed by a boot from the same disk: (a) the first
   connection to the service stalls in a relay before the service got
   anything; (b) the service records the request but holds its answer.
   After each reboot the delivery is retried, and in the end every
   persisted delivery is 'sent', arrived, was applied exactly once per
   delivery id (a retry the service already had is logged as a duplicate),
   and no id came with two different bodies.
"""
import base64
import hashlib
import json
import os
import re
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Runner, check, free_port  # noqa: E402
import test_release as tr  # noqa: E402

recommender = tr.recommender
DEVICE_IP = "10.0.2.15"
HOST_IP = "10.0.2.2"
PCAP = os.path.join(tr.TMP, "capture.pcap")

HEALTH = [  # (id, time, payload): never allowed for anyone
    ("h1", tr.DAY1 + 3600 * 7, {"title": "ZZ-cardiology-visit", "bpm": 171, "note": "arrhythmia"}),
    ("h2", tr.DAY1 + 3600 * 8, {"title": "ZZ-insulin-dose", "bpm": 88, "note": "glucose"}),
    ("h3", tr.DAY2 + 3600 * 9, {"title": "ZZ-insulin-dose", "bpm": 90, "note": "glucose"}),
]
MARKERS = ["ZZ-cardiology-visit", "ZZ-insulin-dose", "arrhythmia", "glucose", "health.vitals",
           '"bpm"']
HTTP_STARTS = (b"GET ", b"POST ", b"PUT ", b"DELETE ", b"HEAD ", b"OPTIONS ", b"PATCH ",
               b"CONNECT ", b"TRACE ", b"HTTP/1.")


# ---- pcap, by hand ---------------------------------------------------------------

def read_pcap(path):
    """[(ts, frame bytes)] from a classic pcap file (Ethernet link type)."""
    with open(path, "rb") as f:
        data = f.read()
    check(len(data) >= 24, f"pcap {path} too short ({len(data)} bytes)")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise AssertionError(f"not a pcap: magic {magic.hex()}")
    _, _, _, _, _, linktype = struct.unpack(e + "HHiIII", data[4:24])
    check(linktype == 1, f"pcap link type {linktype}, want 1 (Ethernet)")
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            break  # a record cut short by the end of the capture
        out.append((sec + frac / 1e6, data[off:off + incl]))
        off += incl
    return out


def parse(frame):
    """A dict for an IPv4 TCP/UDP frame, else None."""
    if len(frame) < 14:
        return None
    etype = struct.unpack(">H", frame[12:14])[0]
    p = frame[14:]
    if etype == 0x8100 and len(p) >= 4:  # one VLAN tag
        etype, p = struct.unpack(">H", p[2:4])[0], p[4:]
    if etype != 0x0800 or len(p) < 20:
        return None
    ihl = (p[0] & 0x0F) * 4
    total = struct.unpack(">H", p[2:4])[0]
    proto = p[9]
    src, dst = socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20])
    body = p[ihl:total]
    if proto == 6 and len(body) >= 20:
        sport, dport, seq, ack, offf = struct.unpack(">HHIIH", body[:14])
        hl = (offf >> 12) * 4
        flags = offf & 0x1FF
        return {"proto": "tcp", "src": src, "dst": dst, "sport": sport, "dport": dport,
                "seq": seq, "syn": bool(flags & 0x02), "ack": bool(flags & 0x10),
                "fin": bool(flags & 0x01), "rst": bool(flags & 0x04), "payload": body[hl:]}
    if proto == 17 and len(body) >= 8:
        sport, dport = struct.unpack(">HH", body[:4])
        return {"proto": "udp", "src": src, "dst": dst, "sport": sport, "dport": dport,
                "payload": body[8:]}
    return {"proto": proto, "src": src, "dst": dst, "payload": body}


def streams(pkts, src):
    """{(sport, dst, dport, isn): bytes} of every TCP stream (src) sent,
    reassembled by sequence number (retransmissions folded)."""
    flows = {}
    for p in pkts:
        if p["proto"] != "tcp" or p["src"] != src:
            continue
        k = (p["sport"], p["dst"], p["dport"])
        if p["syn"]:
            flows[k] = {"isn": p["seq"], "segs": {}}
            continue
        f = flows.get(k)
        if f is None or not p["payload"]:
            continue
        off = (p["seq"] - f["isn"] - 1) & 0xFFFFFFFF
        f["segs"].setdefault(off, p["payload"])
    out = {}
    for k, f in flows.items():
        buf = b""
        for off in sorted(f["segs"]):
            seg = f["segs"][off]
            check(off <= len(buf), f"gap in the stream {k} at {len(buf)} (next segment {off})")
            buf += seg[len(buf) - off:]
        out[k + (f["isn"],)] = buf
    return out


def tls_records(buf, what):
    """Walks buf as TLS records; returns how many."""
    n, off = 0, 0
    while off < len(buf):
        check(len(buf) - off >= 5, f"{what}: {len(buf) - off} bytes left, not a TLS record")
        typ, ver, ln = buf[off], struct.unpack(">H", buf[off + 1:off + 3])[0], \
            struct.unpack(">H", buf[off + 3:off + 5])[0]
        check(0x14 <= typ <= 0x17, f"{what}: record type {typ:#x} at {off}: {buf[off:off + 32]!r}")
        check(ver == 0x0303, f"{what}: record version {ver:#06x} at {off}")
        off += 5 + ln
        n += 1
    check(off == len(buf), f"{what}: the last record runs {off - len(buf)} bytes past the end")
    return n


# ---- the console's TX lines ---------------------------------------------------------

def tx_lines(text):
    heads, bodies = [], []
    for line in text.splitlines():
        m = re.search(r"TX-HEAD host=(\S+) port=(\d+) bytes=(\d+) b64=(\S+)", line)
        if m:
            heads.append({"host": m.group(1), "port": int(m.group(2)), "bytes": int(m.group(3)),
                          "raw": base64.b64decode(m.group(4)) if m.group(4) != "-" else None})
        m = re.search(r"TX-BODY host=(\S+) port=(\d+) path=(\S+) bytes=(\d+) sha256=([0-9a-f]{64}) "
                      r"b64=(\S+)", line)
        if m:
            bodies.append({"host": m.group(1), "port": int(m.group(2)), "path": m.group(3),
                           "bytes": int(m.group(4)), "sha256": m.group(5),
                           "raw": base64.b64decode(m.group(6)) if m.group(6) != "-" else None})
    return heads, bodies


def audit_entries(hub):
    st, a = hub.call("GET", "/api/v1/audit")
    check(st == 200, f"audit: {st} {a}")
    return a.get("entries", a) if isinstance(a, dict) else a


def obligations(e):
    o = e.get("obligations")
    if isinstance(o, str):
        try:
            o = json.loads(o)
        except ValueError:
            o = [o]
    return o or []


def wait_until(fn, timeout, what, hub=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.3)
    check(False, f"timed out: {what}", hub.drain() if hub else None)


# ---- 1. the capture ------------------------------------------------------------------

def ingest_health():
    hub = tr.HUB
    st, dev = hub.call("POST", "/api/v1/devices", {"name": "wrist-watch"})
    check(st in (200, 201), f"device: {st} {dev}", hub.drain())
    recs = [{"id": i, "category": "health.vitals", "time": t, "payload": p} for i, t, p in HEALTH]
    st, out = hub.call("POST", "/api/v1/records", {"records": recs}, token=dev["token"])
    check(st in (200, 201), f"ingest health: {st} {out}", hub.drain())


def denied_health():
    """No policy allows health: a push and a pull of it are denied."""
    hub = tr.HUB
    st, out = hub.call("POST", "/api/v1/deliveries", {"service": "recommender",
                                                      "category": "health.vitals",
                                                      "purpose": "recommendation"})
    check(st == 403 and out.get("decision") == "deny", f"health push: {st} {out}", hub.drain())
    st, body = recommender.pull(hub.url, tr.CRED, "health.vitals", "recommendation", tr.LOG)
    check(st == 403 and body.get("decision") == "deny", f"health pull: {st} {body}", hub.drain())


def test_capture():
    tr.HUB_OPTS = {"args": "hearth.test.txlog",
                   "extra": ["-object", f"filter-dump,id=f0,netdev=n0,file={PCAP}"]}
    steps = [tr.test_setup_and_ingest, ingest_health, tr.test_import_proposes_only,
             denied_health, tr.test_simulate_then_accept_and_pull, tr.test_push_delivers_once,
             tr.test_forbid_stops_it, tr.test_bad_policy_rejected_with_position,
             tr.test_budget_stops_it, tr.test_ask_waits_for_approval, denied_health,
             tr.test_service_log_matches_audit]
    try:
        for step in steps:
            try:
                step()
            except AssertionError as e:
                raise AssertionError(f"flow step {step.__name__}: {e}") from None
        hub = tr.HUB
        entries = audit_entries(hub)
        st, ds = hub.call("GET", "/api/v1/deliveries")
        deliveries = ds["deliveries"]
        hub.drain()
    finally:
        if tr.HUB:
            tr.HUB.boot.kill()  # SIGTERM: QEMU closes the pcap
        if tr.SVC:
            tr.SVC.shutdown()
            tr.SVC.server_close()
    console = tr.HUB.boot.text()

    pushes = [e for e in entries if e.get("service") == "recommender" and e["decision"] == "allow"
              and "push" in obligations(e)]
    got = [e for e in tr.log_entries() if e["kind"] == "push"]
    check(len(pushes) >= 1 and len(got) == len(pushes) and len(deliveries) == len(pushes),
          f"audited pushes {len(pushes)}, deliveries {len(deliveries)}, service got {len(got)}")
    health_audit = [e for e in entries if e.get("category", "").startswith("health")]
    check(health_audit and all(e["decision"] == "deny" for e in health_audit),
          f"health decisions {[e['decision'] for e in health_audit]}")

    # The cleartext, before TLS.
    heads, bodies = tx_lines(console)
    check(len(bodies) == len(pushes), f"{len(bodies)} TX-BODY lines for {len(pushes)} pushes:\n"
          + "\n".join(line for line in console.splitlines() if line.startswith("TX-")))
    audit_sha = sorted(x[len("sha256:"):] for e in pushes for x in obligations(e)
                       if x.startswith("sha256:"))
    check(sorted(b["sha256"] for b in bodies) == audit_sha == sorted(d["sha256"] for d in deliveries)
          == sorted(g["sha256"] for g in got),
          f"body hashes: console {[b['sha256'] for b in bodies]}, audit {audit_sha}, "
          f"service {[g['sha256'] for g in got]}")
    for b in bodies:
        check(b["host"] == HOST_IP and b["port"] == tr.SVC_PORT and b["raw"] is not None,
              f"TX-BODY {b}")
        check(hashlib.sha256(b["raw"]).hexdigest() == b["sha256"] and len(b["raw"]) == b["bytes"],
              f"TX-BODY hash/length mismatch {b}")
        check(tr.norm(json.loads(b["raw"])) == tr.EXPECTED, f"pushed cleartext {b['raw']!r}")
    for h in heads:
        check(h["raw"] is not None and h["raw"].startswith(b"POST /hearth/push HTTP/1.1\r\n"),
              f"TX-HEAD {h}")
    for m in MARKERS + tr.TITLES:
        for x in heads + bodies:
            check(m.encode() not in (x["raw"] or b""), f"{m!r} in a cleartext request: {x['raw']!r}")

    # The wire.
    frames = read_pcap(PCAP)
    pkts = [p for p in (parse(f) for _, f in frames) if p]
    check(len(pkts) > 50, f"only {len(pkts)} IPv4 packets captured")
    sent = [p for p in pkts if p["src"] == DEVICE_IP]
    syns = {(p["sport"], p["seq"]) for p in sent if p["proto"] == "tcp" and p["syn"]
            and not p["ack"] and p["dst"] == HOST_IP and p["dport"] == tr.SVC_PORT}
    check(len(syns) == len(pushes),
          f"{len(syns)} connections to the service, {len(pushes)} audited pushes")
    other = {(p["dst"], p["dport"]) for p in sent if p["proto"] == "tcp" and p["syn"]
             and not p["ack"]} - {(HOST_IP, tr.SVC_PORT)}
    check(not other, f"the device opened other TCP connections: {other}")
    for p in sent:
        if p["proto"] == "tcp" and p["payload"]:
            check(not p["payload"].startswith(HTTP_STARTS),
                  f"plaintext HTTP from the device: {p['payload'][:80]!r}")
        # Packets are mostly ciphertext: a short marker ("Ran", a title) turns
        # up there by chance now and then, so only markers of 8 bytes or more
        # are looked for here; the cleartext check above covers them all.
        for m in MARKERS + tr.TITLES:
            if len(m) >= 8:
                check(m.encode() not in p["payload"], f"{m!r} in a packet from the device {p}")
    all_streams = streams(pkts, DEVICE_IP)
    svc_streams = {k: v for k, v in all_streams.items() if k[1] == HOST_IP and k[2] == tr.SVC_PORT}
    check(len(svc_streams) == len(pushes), f"{len(svc_streams)} streams to the service")
    nrec = 0
    for k, buf in all_streams.items():
        if buf:
            nrec += tls_records(buf, f"stream {k}")
    for k, buf in svc_streams.items():
        check(len(buf) > 0 and buf[0] == 0x16, f"stream {k} does not start with a handshake")
    served = [k for k in all_streams if k[0] == 443]
    check(served, "no HTTPS answers from the device in the capture")
    print(f"  capture: {len(frames)} frames, {len(all_streams)} device TCP streams "
          f"({len(svc_streams)} to the service), {nrec} TLS records, "
          f"{len(bodies)} TX-BODY", flush=True)


# ---- 2. restart in the middle of a push -----------------------------------------------

class StallOnce:
    """A TCP relay to the service: its first connection is accepted and never
    relayed (the push stalls before the service got anything); the later
    ones are relayed both ways."""

    def __init__(self, target_port):
        self.target = target_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.n = 0
        self.stalled = threading.Event()
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _pipe(self, a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.n += 1
            if self.n == 1:
                self.held.append(c)
                self.stalled.set()
                continue
            u = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c), daemon=True).start()

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


def test_restart_mid_push():
    tmp = os.path.join(tr.TMP, "restart")
    os.makedirs(tmp, exist_ok=True)
    disk = os.path.join(tmp, "disk.img")
    log = os.path.join(tmp, "svc.jsonl")
    port = free_port()
    svc = recommender.serve(os.path.join(tmp, "svc"), port, log)
    relay = StallOnce(port)
    hubs = []

    def entries():
        if not os.path.exists(log):
            return []
        with open(log) as f:
            return [json.loads(x) for x in f if x.strip()]

    def push(hub):
        st, out = hub.call("POST", "/api/v1/deliveries", {"service": "recommender",
                                                          "category": "viewing.history",
                                                          "purpose": "recommendation"})
        check(st == 202 and out.get("delivery"), f"push: {st} {out}", hub.drain())
        return out["delivery"]

    def sigkill(hub):
        hub.boot.proc.kill()  # SIGKILL: no clean shutdown of anything
        hub.boot.proc.wait()

    def wait_sent(hub, did):
        def sent():
            st, ds = hub.call("GET", "/api/v1/deliveries")
            d = [x for x in ds["deliveries"] if x["id"] == did]
            return d[0] if d and d[0]["state"] == "sent" else None
        return wait_until(sent, 90, f"delivery {did} sent after the reboot", hub)

    try:
        hub = tr.Hub(disk=disk)
        hubs.append(hub)
        st, dev = hub.call("POST", "/api/v1/devices", {"name": "tv"})
        check(st in (200, 201), f"device: {st} {dev}", hub.drain())
        recs = [{"id": i, "category": "viewing.history", "time": t,
                 "payload": {"title": title, "genre": g, "duration": d}}
                for i, t, title, g, d in tr.RECORDS]
        st, out = hub.call("POST", "/api/v1/records", {"records": recs}, token=dev["token"])
        check(st in (200, 201), f"ingest: {st} {out}", hub.drain())
        m = recommender.manifest(os.path.join(tmp, "svc"), HOST_IP, relay.port)
        st, out = hub.call("POST", "/api/v1/services/import", m)
        check(st == 201, f"import: {st} {out}", hub.drain())
        st, out = hub.call("POST", "/api/v1/policies/recommender.viewing.history/accept")
        check(st == 200, f"accept: {st} {out}", hub.drain())
        owner = hub.owner

        # (a) persisted, then stalled before the service got anything; SIGKILL.
        da = push(hub)
        check(relay.stalled.wait(30), "the push never connected", hub.drain())
        time.sleep(0.5)
        check(not entries(), f"the service got something: {entries()}")
        sigkill(hub)
        hub = tr.Hub(disk=disk, fresh=False, owner=owner)
        hubs.append(hub)
        d = wait_sent(hub, da)
        got = [e for e in entries() if e["delivery"] == da]
        check(len(got) == 1 and not got[0]["duplicate"] and got[0]["sha256"] == d["sha256"],
              f"after reboot (a): {got} vs {d}", hub.drain())

        # (b) the service records it but holds its answer; SIGKILL meanwhile.
        with svc.log.lock:  # the next push the service gets is held
            svc.hold = {"count": 1, "seconds": 20, "event": svc.held}
        db = push(hub)
        check(svc.held.wait(30), "the held push never arrived", hub.drain())
        sigkill(hub)
        hub = tr.Hub(disk=disk, fresh=False, owner=owner)
        hubs.append(hub)
        wait_sent(hub, db)

        st, ds = hub.call("GET", "/api/v1/deliveries")
        persisted = ds["deliveries"]
        check({x["id"] for x in persisted} == {da, db}, f"deliveries {persisted}")
        log_now = entries()
        for x in persisted:
            check(x["state"] == "sent", f"delivery {x}")
            arr = [e for e in log_now if e["delivery"] == x["id"]]
            check(arr, f"delivery {x['id']} never arrived")
            check(sum(1 for e in arr if not e["duplicate"]) == 1,
                  f"delivery {x['id']} applied {sum(1 for e in arr if not e['duplicate'])} times")
            check({e["sha256"] for e in arr} == {x["sha256"]},
                  f"delivery {x['id']} arrived with different bodies: {arr}")
            for e in arr:
                check(tr.norm(e["body"]) == tr.EXPECTED, f"body {e['body']}")
        arr_b = [e for e in log_now if e["delivery"] == db]
        check(len(arr_b) == 2 and arr_b[1]["duplicate"],
              f"(b) should be retried and seen as a duplicate: {arr_b}")
        check(len(log_now) == len([e for x in persisted for e in log_now if e["delivery"] == x["id"]]),
              f"the service got pushes that are no delivery: {log_now}")
        st, v = hub.call("GET", "/api/v1/audit/verify")
        check(st == 200 and v["ok"] is True, f"verify: {st} {v}", hub.drain())
        print(f"  restart: (a) {da} arrived once after the reboot; (b) {db} applied once, "
              f"retried {len(arr_b) - 1}x as a duplicate", flush=True)
    finally:
        for h in hubs:
            h.boot.kill()
        relay.close()
        svc.shutdown()
        svc.server_close()


def main():
    r = Runner()
    r.run(test_capture)
    r.run(test_restart_mid_push)
    r.finish()


if __name__ == "__main__":
    main()
