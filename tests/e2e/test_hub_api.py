#!/usr/bin/python3
"""test_hub_api.py: the hub's data API on the real image in QEMU, from outside.

One image with a fresh disk and user networking, talked to over HTTPS with
Python's http.client: the owner token printed once at first boot; devices
and their tokens; batch ingestion (happy path; wrong, revoked and
wrong-kind tokens; malformed JSON; unknown category; oversized payload,
batch and body; duplicate ids) with clear JSON errors, checked through the
export to hold every accepted record exactly once; categories; deletion by
category, device and time; the records summary (exact counts and time
spans, equal to the export); metrics; every operation in docs/api.yaml without
credentials (401); the audit chain: verify, then one byte of one audit row
flipped in the disk image between boots, and verify names that row.
E2E_ONLY=name,... runs a subset.
"""
import http.client
import json
import os
import re
import ssl
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Boot, Runner, check, free_port, qemu_cmd  # noqa: E402

TMP = tempfile.mkdtemp(prefix="hearth-hub-")
DISK = os.path.join(TMP, "disk.img")


class Hub:
    """One boot of the image on DISK with HTTPS forwarded to a free port."""

    def __init__(self, owner=None):
        self.port = free_port()
        extra = ["-drive", f"file={DISK},if=none,format=raw,id=d0",
                 "-device", "virtio-blk-device,drive=d0"]
        self.boot = Boot(qemu_cmd(mem="64M", args="hearth.testapi", net={443: self.port},
                                  semihosting=False, extra=extra), timeout=600)
        self.boot.wait_for("hearth: serving https://", timeout=90)
        m = re.search(r"hearth: owner API token (hto_[0-9a-f]{64})\b", self.boot.text())
        self.printed_token = m.group(1) if m else None
        self.owner = owner or self.printed_token
        check(self.owner, "no owner token", self.boot)

    def call(self, method, path, body=None, token=None, raw=None, headers=None):
        """(status, parsed JSON or text, headers) of one request on a new connection."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=60)
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h["Content-Type"] = "application/json"
        c.request(method, "/api/v1" + path, body=data, headers=h)
        r = c.getresponse()
        text = r.read()
        c.close()
        ctype = r.getheader("Content-Type", "")
        out = json.loads(text) if ctype.startswith("application/json") and text else text
        return r.status, out, r

    def o(self, method, path, body=None, **kw):
        return self.call(method, path, body, token=self.owner, **kw)

    def stop(self):
        self.boot.kill()


HUB = None
STATE = {}


def hub():
    global HUB
    if HUB is None or not HUB.boot.alive():
        if not os.path.exists(DISK):
            with open(DISK, "wb") as f:
                f.truncate(64 << 20)
        HUB = Hub(owner=STATE.get("owner"))
        STATE.setdefault("owner", HUB.owner)
    return HUB


def err_code(resp):
    return resp.get("error", {}).get("code") if isinstance(resp, dict) else None


def expect_error(res, status, code, what):
    st, body, _ = res
    check(st == status and err_code(body) == code and body["error"].get("message"),
          f"{what}: want {status} {code}, got {st} {body!r}")


def new_device(h, name):
    st, body, _ = h.o("POST", "/devices", {"name": name})
    check(st == 201 and body["token"].startswith(f"htd_{body['id']}."), f"device: {st} {body}")
    return body["id"], body["token"]


def export(h):
    st, body, r = h.o("GET", "/export")
    check(st == 200, f"export: {st} {body!r}")
    if isinstance(body, (bytes, str)):
        body = json.loads(body)
    return body


def rec(i, cat="viewing.history", t=1700000000, **payload):
    return {"id": f"r{i}", "category": cat, "time": t + i,
            "payload": payload or {"title": f"Film {i}", "minutes": 90 + i}}


def test_owner_token_and_health():
    h = hub()
    check(h.printed_token and h.printed_token == h.owner, "first boot prints the owner token",
          h.boot)
    st, body, _ = h.call("GET", "/health")
    check(st == 200 and body["status"] == "ok" and body["storage"]["state"] == "ok",
          f"health: {st} {body}")
    st, body, _ = h.o("GET", "/categories")
    names = {c["name"] for c in body["categories"]}
    for want in ("viewing", "viewing.history", "listening.history", "browsing.history",
                 "location.visits", "health.activity", "purchases.orders", "contacts.people"):
        check(want in names, f"default category {want} missing: {sorted(names)}")
    parents = {c["name"]: c["parent"] for c in body["categories"]}
    check(parents["viewing.history"] == "viewing" and parents["viewing"] is None,
          f"hierarchy: {parents}")


def test_unauthenticated_walk():
    """Every operation of docs/api.yaml without credentials (and with a bad one): 401."""
    h = hub()
    spec = yaml.safe_load(open(os.path.join(ROOT, "docs", "api.yaml")))
    check(set(spec["components"]["securitySchemes"]) >= {"owner", "device", "service"},
          "security schemes owner, device, service")
    n = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            secured = op.get("security", spec.get("security"))
            if op.get("x-credentials") == "body":
                continue  # claim code / password in the body: test_websec.py
            real = re.sub(r"\{[^}]+\}", "1", path)
            body = {} if method in ("post", "put", "patch") else None
            st, resp, r = h.call(method.upper(), real, body)
            if secured == []:
                check(st == 200, f"{method} {path} is public but answered {st}")
                continue
            n += 1
            check(st == 401 and err_code(resp) == "unauthorized",
                  f"{method.upper()} {path} without a token: {st} {resp!r}")
            check("Bearer" in (r.getheader("WWW-Authenticate") or ""),
                  f"{method.upper()} {path}: no WWW-Authenticate")
            scheme = next(iter(secured[0]))
            wrong = {"owner": "hto_", "device": "htd_1.", "service": "hts_acme."}[scheme] + "0" * 64
            st, resp, _ = h.call(method.upper(), real, body, token=wrong)
            check(st == 401 and err_code(resp) == "invalid_token",
                  f"{method.upper()} {path} with a wrong token: {st} {resp!r}")
    check(n >= 11, f"only {n} authenticated operations in api.yaml")


def test_ingest_happy_and_duplicates():
    h = hub()
    dev, tok = new_device(h, "living-room-tv")
    STATE["tv"] = (dev, tok)
    batch = {"records": [rec(i) for i in range(1, 4)]}
    st, body, _ = h.call("POST", "/records", batch, token=tok)
    check(st == 200 and body["stored"] == 3 and body["duplicates"] == 0, f"ingest: {st} {body}")
    check([r["status"] for r in body["results"]] == ["stored"] * 3, f"results: {body}")
    # the same batch again, plus one new record: only the new one is stored
    batch["records"].append(rec(4))
    st, body, _ = h.call("POST", "/records", batch, token=tok)
    check(st == 200 and body["stored"] == 1 and body["duplicates"] == 3, f"retry: {st} {body}")
    # a duplicate inside one batch
    st, body, _ = h.call("POST", "/records", {"records": [rec(5), rec(5)]}, token=tok)
    check(st == 200 and body["stored"] == 1 and body["duplicates"] == 1, f"twice: {st} {body}")
    ex = export(h)
    mine = sorted((r["id"], r["payload"]["minutes"], r["time"]) for r in ex["records"]
                  if r["device"] == dev)
    check(mine == [(f"r{i}", 90 + i, 1700000000 + i) for i in range(1, 6)],
          f"export holds each record once: {mine}")


def test_ingest_bad_input():
    h = hub()
    dev, tok = new_device(h, "phone")
    good = {"records": [rec(100)]}
    expect_error(h.call("POST", "/records", good), 401, "unauthorized", "no token")
    expect_error(h.call("POST", "/records", good, token=f"htd_{dev}." + "0" * 64), 401,
                 "invalid_token", "wrong secret")
    expect_error(h.call("POST", "/records", good, token=f"htd_999.{tok.split('.')[1]}"), 401,
                 "invalid_token", "another device's id")
    expect_error(h.call("POST", "/records", good, token="garbage"), 401, "invalid_token",
                 "garbage token")
    expect_error(h.call("POST", "/records", good, token=h.owner), 403, "wrong_token_kind",
                 "owner token at the device endpoint")
    expect_error(h.call("POST", "/records", None, token=tok, raw=b'{"records":[{"id":'), 400,
                 "malformed_json", "truncated JSON")
    expect_error(h.call("POST", "/records", None, token=tok, raw=b"[1,2]"), 400,
                 "malformed_json", "not an object")
    expect_error(h.call("POST", "/records", {"records": []}, token=tok), 400, "empty_batch",
                 "empty batch")
    expect_error(h.call("POST", "/records", {"recs": []}, token=tok), 400, "invalid_batch",
                 "no records array")
    # one bad record rejects the whole batch: the good one beside it is not stored
    bad = {"records": [rec(101), rec(102, cat="viewing.nosuch")]}
    expect_error(h.call("POST", "/records", bad, token=tok), 422, "unknown_category",
                 "unknown category")
    expect_error(h.call("POST", "/records", {"records": [rec(103, cat="Bad Name")]}, token=tok),
                 422, "invalid_category", "bad category name")
    r = rec(104)
    r["payload"] = [1, 2]
    expect_error(h.call("POST", "/records", {"records": [r]}, token=tok), 422,
                 "payload_not_object", "payload array")
    r = rec(105)
    r["time"] = "yesterday"
    expect_error(h.call("POST", "/records", {"records": [r]}, token=tok), 422, "invalid_time",
                 "bad time")
    r = rec(106)
    del r["id"]
    expect_error(h.call("POST", "/records", {"records": [r]}, token=tok), 422, "invalid_id",
                 "no id")
    expect_error(h.call("POST", "/records", {"records": [rec(107, blob="x" * 9000)]}, token=tok),
                 413, "payload_too_large", "9000-byte payload")
    expect_error(h.call("POST", "/records", {"records": [rec(i) for i in range(200, 701)]},
                        token=tok), 413, "batch_too_large", "501 records")
    big = {"records": [rec(1000 + i, blob="y" * 8000) for i in range(140)]}
    expect_error(h.call("POST", "/records", big, token=tok), 413, "body_too_large",
                 "1.1 MB body")
    # nothing of the above was stored; the good batch still goes through
    ex = export(h)
    check(not [r for r in ex["records"] if r["device"] == dev],
          f"rejected batches stored something: {[r for r in ex['records'] if r['device'] == dev]}")
    st, body, _ = h.call("POST", "/records", {"records": [rec(101), rec(102)]}, token=tok)
    check(st == 200 and body["stored"] == 2, f"good batch after the bad ones: {st} {body}")
    # a batch at the limits is accepted whole
    r = rec(110, blob="z" * 8000)
    st, body, _ = h.call("POST", "/records", {"records": [r]}, token=tok)
    check(st == 200 and body["stored"] == 1, f"payload near the limit: {st} {body}")
    # revoke: the token stops working, the records stay
    st, body, _ = h.o("DELETE", f"/devices/{dev}")
    check(st == 200 and body["revoked"] is True, f"revoke: {st} {body}")
    expect_error(h.call("POST", "/records", {"records": [rec(111)]}, token=tok), 401,
                 "token_revoked", "revoked device")
    expect_error(h.o("DELETE", "/devices/9999"), 404, "unknown_device", "revoke unknown")
    st, body, _ = h.o("GET", "/devices")
    d = [x for x in body["devices"] if x["id"] == dev][0]
    check(d["revoked"] is True and d["records"] == 3 and "token" not in d,
          f"device list: {d}")
    ex = export(h)
    ids = sorted(r["id"] for r in ex["records"] if r["device"] == dev)
    check(ids == ["r101", "r102", "r110"], f"exactly the accepted records: {ids}")


def test_categories():
    h = hub()
    st, body, _ = h.o("POST", "/categories", {"name": "viewing.podcasts", "description": "shows"})
    check(st == 201 and body["parent"] == "viewing", f"add: {st} {body}")
    expect_error(h.o("POST", "/categories", {"name": "viewing.podcasts"}), 409,
                 "category_exists", "twice")
    expect_error(h.o("POST", "/categories", {"name": "nosuch.child"}), 422, "unknown_parent",
                 "no parent")
    expect_error(h.o("POST", "/categories", {"name": "Bad..name"}), 422, "invalid_category",
                 "bad name")
    st, body, _ = h.o("POST", "/categories", {"name": "hobbies"})
    check(st == 201 and body["parent"] is None, f"top-level: {st} {body}")
    dev, tok = STATE.get("tv") or new_device(h, "tv2")
    st, body, _ = h.call("POST", "/records", {"records": [rec(300, cat="viewing.podcasts")]},
                         token=tok)
    check(st == 200 and body["stored"] == 1, f"ingest into the new category: {st} {body}")


def test_delete_records():
    h = hub()
    dev, tok = new_device(h, "watch")
    recs = [rec(400 + i, cat="health.activity", t=1800000000) for i in range(5)]
    recs += [rec(410, cat="health.sleep", t=1800000000), rec(411, cat="location.visits")]
    st, body, _ = h.call("POST", "/records", {"records": recs}, token=tok)
    check(st == 200 and body["stored"] == 7, f"ingest: {st} {body}")
    expect_error(h.o("DELETE", "/records"), 400, "missing_filter", "no filter")
    expect_error(h.o("DELETE", "/records?category=nosuch"), 422, "unknown_category", "unknown")
    # time range within one category: records 1800000401..1800000402
    st, body, _ = h.o("DELETE", f"/records?category=health.activity&device={dev}"
                                "&from=1800000401&to=1800000403")
    check(st == 200 and body["deleted"] == 2, f"range delete: {st} {body}")
    # a parent category takes its sub-categories
    st, body, _ = h.o("DELETE", f"/records?category=health&device={dev}")
    check(st == 200 and body["deleted"] == 4, f"category delete: {st} {body}")
    ex = export(h)
    left = [r["id"] for r in ex["records"] if r["device"] == dev]
    check(left == ["r411"], f"left: {left}")
    st, body, _ = h.o("GET", "/audit?service=owner&category=health")
    check(st == 200 and [e["records"] for e in body["entries"] if e["purpose"] == "delete"]
          == [2, 4], f"deletions audited: {body}")


def test_records_summary():
    """GET /records/summary: exact counts and time spans for known records,
    the whole of it equal to what the export holds, owner only."""
    h = hub()
    st, body, _ = h.o("POST", "/categories", {"name": "summed"})
    check(st == 201, f"category: {st} {body}")
    st, body, _ = h.o("POST", "/categories", {"name": "summed.child"})
    check(st == 201, f"sub-category: {st} {body}")
    a, ta = new_device(h, "sum-a")
    b, tb = new_device(h, "sum-b")
    recs_a = [rec(500 + i, cat="summed", t=1600000000 + 1000 * i) for i in range(4)]
    recs_a += [rec(510, cat="summed.child", t=1650000000)]
    recs_b = [rec(520 + i, cat="summed", t=1500000000 + i) for i in range(3)]
    for tok, recs in ((ta, recs_a), (tb, recs_b)):
        st, body, _ = h.call("POST", "/records", {"records": recs}, token=tok)
        check(st == 200 and body["stored"] == len(recs), f"ingest: {st} {body}")
    st, s, _ = h.o("GET", "/records/summary")
    check(st == 200 and isinstance(s, dict), f"summary: {st} {s!r}")
    cats = {c["category"]: c for c in s["categories"]}
    # rec(i, t) has time t + i
    check(cats.get("summed") == {"category": "summed", "count": 7, "oldest": 1500000520,
                                 "newest": 1600003503,
                                 "devices": [{"id": a, "name": "sum-a", "count": 4},
                                             {"id": b, "name": "sum-b", "count": 3}]},
          f"summed: {cats.get('summed')}")
    check(cats.get("summed.child") == {"category": "summed.child", "count": 1,
                                       "oldest": 1650000510, "newest": 1650000510,
                                       "devices": [{"id": a, "name": "sum-a", "count": 1}]},
          f"summed.child: {cats.get('summed.child')}")
    # Everything else agrees with the export, record for record.
    ex = export(h)["records"]
    want = {}
    for r in ex:
        c = want.setdefault(r["category"], {"count": 0, "oldest": r["time"], "newest": r["time"],
                                            "devices": {}})
        c["count"] += 1
        c["oldest"] = min(c["oldest"], r["time"])
        c["newest"] = max(c["newest"], r["time"])
        c["devices"][r["device"]] = c["devices"].get(r["device"], 0) + 1
    got = {k: {"count": c["count"], "oldest": c["oldest"], "newest": c["newest"],
               "devices": {d["id"]: d["count"] for d in c["devices"]}} for k, c in cats.items()}
    check(got == want, f"summary {got}\nexport {want}")
    t = s["totals"]
    check(t["records"] == len(ex) and t["categories"] == len(want)
          and t["devices"] == len({r["device"] for r in ex})
          and t["oldest"] == min(r["time"] for r in ex) and t["newest"] == max(r["time"] for r in ex),
          f"totals {t}")
    # Deleting changes it at once.
    st, body, _ = h.o("DELETE", f"/records?category=summed&device={b}")
    check(st == 200 and body["deleted"] == 3, f"delete: {st} {body}")
    st, s, _ = h.o("GET", "/records/summary")
    c = [c for c in s["categories"] if c["category"] == "summed"][0]
    check(c["count"] == 4 and c["oldest"] == 1600000500 and [d["id"] for d in c["devices"]] == [a],
          f"after delete: {c}")
    check(s["totals"]["records"] == len(ex) - 3, f"totals after delete: {s['totals']}")
    # The owner's only.
    expect_error(h.call("GET", "/records/summary"), 401, "unauthorized", "summary, no token")
    expect_error(h.call("GET", "/records/summary", token=ta), 403, "wrong_token_kind",
                 "summary with a device token")
    expect_error(h.call("GET", "/records/summary", token="hto_" + "0" * 64), 401,
                 "invalid_token", "summary with a wrong owner token")


def test_metrics():
    h = hub()
    st, text, r = h.o("GET", "/metrics")
    check(st == 200 and r.getheader("Content-Type").startswith("text/plain"), f"metrics {st}")
    text = text.decode()
    vals = dict(re.findall(r"^(hearth_[a-z_]+(?:\{[^}]*\})?) (\d+)$", text, re.M))
    ex = export(h)
    check(int(vals.get("hearth_records", -1)) == len(ex["records"]),
          f"records {vals.get('hearth_records')} vs export {len(ex['records'])}\n{text}")
    for k in ("hearth_audit_entries", "hearth_http_connections_accepted_total",
              'hearth_storage_bytes{kind="used"}', 'hearth_devices{state="active"}'):
        check(k in vals, f"{k} missing:\n{text}")


def test_audit_chain_and_tamper():
    global HUB
    h = hub()
    marker = "tamper-target-" + os.urandom(6).hex()
    ids = []
    for i, purpose in enumerate(["recommendations", marker, "analytics"]):
        st, body, _ = h.call("POST", "/test/audit", {"service": "acme-recs",
                                                     "category": "viewing.history",
                                                     "purpose": purpose,
                                                     "decision": ["allow", "deny", "ask"][i],
                                                     "records": i})
        check(st == 201, f"test audit append: {st} {body}")
        ids.append(body["id"])
    st, body, _ = h.o("GET", "/audit/verify")
    check(st == 200 and body["ok"] is True and body["entries"] >= 3, f"verify: {body}")
    st, body, _ = h.o("GET", "/audit?service=acme-recs&decision=deny")
    check([e["purpose"] for e in body["entries"]] == [marker], f"audit filter: {body}")
    e = body["entries"][0]
    check(e["id"] == ids[1] and len(e["hash"]) == 64 and len(e["prev_hash"]) == 64,
          f"entry: {e}")
    st, body, _ = h.o("GET", "/audit?limit=0")
    check(st == 400, f"limit=0: {st}")
    records_before = len(export(h)["records"])
    h.stop()
    HUB = None
    # flip one byte of the marker in the raw disk image (every copy of it:
    # the journal may hold an old page too)
    with open(DISK, "r+b") as f:
        img = bytearray(f.read())
        pos = [m.start() for m in re.finditer(re.escape(marker.encode()), img)]
        check(pos, "marker not found in the disk image")
        for p in pos:
            img[p] ^= 0x01  # 't' -> 'u'
        f.seek(0)
        f.write(img)
    h = hub()
    check(h.printed_token is None, "the owner token is printed only on first boot", h.boot)
    st, body, _ = h.o("GET", "/audit/verify")
    check(st == 200 and body["ok"] is False and body["first_bad_id"] == ids[1]
          and body["reason"] == "hash", f"verify after tampering: {body}")
    check(len(export(h)["records"]) == records_before, "records survive the reboot")


def main():
    r = Runner()
    try:
        for t in (test_owner_token_and_health, test_unauthenticated_walk,
                  test_ingest_happy_and_duplicates, test_ingest_bad_input, test_categories,
                  test_delete_records, test_records_summary, test_metrics,
                  test_audit_chain_and_tamper):
            r.run(t)
    finally:
        if HUB:
            HUB.stop()
    r.finish()


if __name__ == "__main__":
    main()
