#!/usr/bin/python3
"""test_release.py: the release pipeline end to end, against the real image
in QEMU with a disk and user networking, and the reference service
(services/recommender/recommender.py) on the host.

One boot, one story: a device ingests viewing records; the owner imports
the recommender's manifest (which only PROPOSES a policy: a pull before
accepting it is denied); a simulation shows what would leave; the owner
accepts; the service pulls and receives exactly the transformed data (title
dropped, times generalized to the day, groups under k = 2 suppressed) and a
push delivers the same, once, with an idempotency id; a forbid policy stops
it; a budget (@noise + @budget) stops it once spent; an @ask policy parks
the request until the owner approves it through the API; every decision is
in the audit log and the chain verifies. The service's log must hold exactly
what the hub released and nothing else.
"""
import json
import os
import re
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Boot, Runner, check, free_port, qemu_cmd  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "services", "recommender"))
import recommender  # noqa: E402

TMP = tempfile.mkdtemp(prefix="hearth-release-")
DAY1 = 1717200000  # 2024-06-01T00:00:00Z
DAY2 = DAY1 + 86400


class Hub:
    """One boot of the image with a disk. disk: its path (default TMP/disk.img);
    fresh: start from an empty disk (else boot what is on it, and give owner,
    the token the first boot printed); extra, args: more QEMU options and
    bootargs (the capture test adds a filter-dump and hearth.test.txlog)."""

    def __init__(self, disk=None, fresh=True, extra=(), args="", owner=None):
        self.disk = disk or os.path.join(TMP, "disk.img")
        if fresh:
            with open(self.disk, "wb") as f:
                f.truncate(64 << 20)
        self.https = free_port()
        self.boot = Boot(qemu_cmd(mem="64M", net={443: self.https}, args=args, extra=[
            "-drive", f"file={self.disk},if=none,format=raw,id=d0",
            "-device", "virtio-blk-device,drive=d0"] + list(extra)), timeout=600)
        self.boot.wait_for("hearth: serving https://", timeout=60)
        m = re.search(r"owner API token (hto_[0-9a-f]+)", self.boot.text())
        check(m is not None or owner, "no owner token on the console", self.boot)
        self.owner = owner or m.group(1)
        self.url = f"https://127.0.0.1:{self.https}"
        self.ctx = ssl._create_unverified_context()  # the device's self-signed cert

    def drain(self):
        """Reads what the console printed so far (for failure reports)."""
        while self.boot._read(0.2):
            pass
        return self.boot

    def call(self, method, path, body=None, token=None):
        token = self.owner if token is None else token
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        r = urllib.request.Request(self.url + path, method=method, headers=headers,
                                   data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(r, context=self.ctx, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw or b"null")
            except ValueError:
                return e.code, raw.decode("utf-8", "replace")


HUB = None
HUB_OPTS = {}  # Hub() options for the flow (test_release_capture.py sets some)
SVC = None
SVC_PORT = free_port()
LOG = os.path.join(TMP, "recommender.jsonl")
CRED = None

RECORDS = [  # (id, time, title, genre, duration)
    ("r1", DAY1 + 3600 * 20, "Heat", "drama", 100),
    ("r2", DAY1 + 3600 * 21, "Ran", "drama", 160),
    ("r3", DAY1 + 3600 * 22, "Alien", "drama", 117),
    ("r4", DAY1 + 3600 * 19, "Airplane!", "comedy", 88),          # alone: suppressed
    ("r5", DAY2 + 3600 * 10, "Koyaanisqatsi", "documentary", 86),
    ("r6", DAY2 + 3600 * 11, "Baraka", "documentary", 96),
]
# What k >= 2 groups by (genre, day) must look like; nothing else.
EXPECTED = [
    {"genre": "documentary", "time": "2024-06-02T00:00:00Z", "count": 2, "sum_duration": 182},
    {"genre": "drama", "time": "2024-06-01T00:00:00Z", "count": 3, "sum_duration": 377},
]
TITLES = [r[2] for r in RECORDS]


def log_entries():
    if not os.path.exists(LOG):
        return []
    with open(LOG) as f:
        return [json.loads(line) for line in f if line.strip()]


def pull(approval=None):
    return recommender.pull(HUB.url, CRED, "viewing.history", "recommendation", LOG,
                            approval=approval)


def norm(groups):
    return sorted(groups, key=lambda g: (g.get("genre"), g.get("time")))


def test_setup_and_ingest():
    global HUB, SVC
    SVC = recommender.serve(os.path.join(TMP, "svc"), SVC_PORT, LOG)
    HUB = Hub(**HUB_OPTS)
    st, dev = HUB.call("POST", "/api/v1/devices", {"name": "living-room-tv"})
    check(st in (200, 201) and "token" in dev, f"device: {st} {dev}", HUB.drain())
    recs = [{"id": i, "category": "viewing.history", "time": t,
             "payload": {"title": title, "genre": g, "duration": d}}
            for i, t, title, g, d in RECORDS]
    st, out = HUB.call("POST", "/api/v1/records", {"records": recs}, token=dev["token"])
    check(st in (200, 201), f"ingest: {st} {out}", HUB.drain())


def test_import_proposes_only():
    global CRED
    m = recommender.manifest(os.path.join(TMP, "svc"), "10.0.2.2", SVC_PORT)
    st, out = HUB.call("POST", "/api/v1/services/import", m)
    check(st == 201, f"import: {st} {out}", HUB.drain())
    CRED = out["credential"]
    check(CRED.startswith("hts_recommender."), f"credential {CRED}")
    prop = out["proposed"][0]
    check(prop["active"] is False, "the proposal is active")
    for frag in ('@transform("keep(time, genre, duration); generalize(time, day)")',
                 '@aggregate("count, sum(duration) by genre, time; k >= 2")',
                 'principal == Hearth::Service::"recommender"',
                 'context.purpose == "recommendation"'):
        check(frag in prop["text"], f"proposal lacks {frag}:\n{prop['text']}")
    st, lst = HUB.call("GET", "/api/v1/services")
    check(st == 200 and [s["id"] for s in lst["services"]] == ["recommender"], f"{st} {lst}")
    check("credential" not in json.dumps(lst), "a credential in the service list")
    # Nothing is shared before the owner accepts.
    st, body = pull()
    check(st == 403 and body["decision"] == "deny", f"pull before accept: {st} {body}", HUB.drain())
    # A wrong credential is refused outright.
    st, body = recommender.pull(HUB.url, CRED[:-4] + "0000", "viewing.history",
                                "recommendation", os.path.join(TMP, "junk.jsonl"))
    check(st == 401, f"wrong credential: {st} {body}")


def test_simulate_then_accept_and_pull():
    pid = "recommender.viewing.history"
    # Simulating the proposal (text given) shows what would leave, and writes nothing.
    st, pols = HUB.call("GET", "/api/v1/policies")
    text = [p for p in pols["policies"] if p["id"] == pid][0]["text"]
    st, audit0 = HUB.call("GET", "/api/v1/audit")
    st, sim = HUB.call("POST", "/api/v1/policies/simulate",
                       {"service": "recommender", "category": "viewing.history",
                        "purpose": "recommendation", "text": text})
    check(st == 200 and sim["decision"] == "allow", f"simulate: {st} {sim}", HUB.drain())
    check(norm(sim["records"]) == EXPECTED, f"simulated {sim}", HUB.drain())
    st, audit1 = HUB.call("GET", "/api/v1/audit")
    check(json.dumps(audit0) == json.dumps(audit1), "simulate wrote to the audit log")
    # Accept, pull.
    st, out = HUB.call("POST", f"/api/v1/policies/{pid}/accept")
    check(st == 200 and out["active"], f"accept: {st} {out}", HUB.drain())
    st, body = pull()
    check(st == 200 and body["decision"] == "allow", f"pull: {st} {body}", HUB.drain())
    check(norm(body["records"]) == EXPECTED, f"released {body['records']}, want {EXPECTED}")
    raw = json.dumps(body)
    for t in TITLES + ["comedy", "title"]:
        check(t not in raw, f"{t!r} left the hub: {raw}")
    check(body["reasons"] == [f"{pid}@2"] or body["reasons"][0].startswith(pid),
          f"reasons {body['reasons']}")


def test_push_delivers_once():
    n0 = len(log_entries())
    st, out = HUB.call("POST", "/api/v1/deliveries", {"service": "recommender",
                                                      "category": "viewing.history",
                                                      "purpose": "recommendation"})
    check(st == 202 and out["delivery"], f"push: {st} {out}", HUB.drain())
    did = out["delivery"]
    end = time.monotonic() + 60
    while time.monotonic() < end:
        got = [e for e in log_entries()[n0:] if e["kind"] == "push"]
        if got:
            break
        time.sleep(0.5)
    check(got, "no push arrived", HUB.drain())
    check(len(got) == 1 and got[0]["delivery"] == did and not got[0]["duplicate"],
          f"pushes {got}")
    check(norm(got[0]["body"]) == EXPECTED, f"pushed {got[0]['body']}")
    end = time.monotonic() + 20
    while time.monotonic() < end:
        st, ds = HUB.call("GET", "/api/v1/deliveries")
        d = [x for x in ds["deliveries"] if x["id"] == did][0]
        if d["state"] == "sent":
            break
        time.sleep(0.5)
    check(d["state"] == "sent" and d["attempts"] == 1, f"delivery {d}", HUB.drain())


def test_forbid_stops_it():
    forbid = ('forbid (principal == Hearth::Service::"recommender", action, '
              'resource in Hearth::Category::"viewing");')
    st, out = HUB.call("POST", "/api/v1/policies", {"id": "no-viewing", "text": forbid})
    check(st == 201, f"forbid: {st} {out}", HUB.drain())
    st, body = pull()
    check(st == 403 and body["decision"] == "deny" and body["reasons"] == ["no-viewing@1"],
          f"pull under forbid: {st} {body}")
    check("records" not in body, "records with a deny")
    st, out = HUB.call("DELETE", "/api/v1/policies/no-viewing")
    check(st == 200, f"delete forbid: {st} {out}")
    st, body = pull()
    check(st == 200, f"pull after the forbid went: {st} {body}")


def test_bad_policy_rejected_with_position():
    st, out = HUB.call("POST", "/api/v1/policies/validate",
                       {"text": 'permit (principal, action, resource)\nwhen { context.nope };'})
    check(st == 200 and out["valid"] is False and out["errors"][0]["line"] == 2,
          f"validate: {st} {out}")
    st, out = HUB.call("POST", "/api/v1/policies", {"id": "bad", "text": "permit (principal,"})
    check(st == 400 and out["errors"][0]["line"] == 1, f"bad policy stored: {st} {out}")


def test_budget_stops_it():
    pid = "recommender.viewing.history"
    text = ('@transform("keep(time, genre, duration); generalize(time, day)")\n'
            '@aggregate("count, sum(duration) by genre, time; k >= 2")\n'
            '@noise("laplace; epsilon = 1; sensitivity = 200")\n'
            '@budget("epsilon 2 per 30d")\n'
            'permit (principal == Hearth::Service::"recommender", '
            'action == Hearth::Action::"share", resource in Hearth::Category::"viewing.history")\n'
            'when { context.purpose == "recommendation" };')
    st, out = HUB.call("POST", "/api/v1/policies", {"id": pid, "service": "recommender",
                                                    "text": text})
    check(st == 201, f"budget policy: {st} {out}", HUB.drain())

    def account():
        """The recommender's epsilon account over 30 days, as GET /budgets gives it."""
        st, b = HUB.call("GET", "/api/v1/budgets")
        check(st == 200, f"budgets: {st} {b}")
        es = [e for e in b["entries"] if e["service"] == "recommender" and e["kind"] == "epsilon"]
        check(len(es) == 1, f"one epsilon account for the recommender: {b}")
        return es[0]

    # Before anything is spent the hub shows the limit the policy sets.
    e = account()
    check(e["limit"] == 2 and e["window_s"] == 30 * 86400 and e["spent"] == 0
          and e["remaining"] == 2, f"budget before spending: {e}")
    st, body = pull()  # count + sum at epsilon 1 each: 2, the whole budget
    check(st == 200 and body["epsilon"] == 2, f"first noised pull: {st} {body}", HUB.drain())
    st, body = pull()
    check(st == 403 and body["error"]["code"] == "budget_spent", f"over budget: {st} {body}")
    e = account()
    check(e["spent"] == 2 and e["limit"] == 2 and e["remaining"] == 0
          and e["window_s"] == 30 * 86400, f"budget after spending: {e}")
    # The limit follows the active policy: a larger budget leaves room again.
    st, out = HUB.call("POST", "/api/v1/policies", {"id": pid, "service": "recommender",
                                                    "text": text.replace("epsilon 2 per", "epsilon 5 per")})
    check(st == 201, f"larger budget: {st} {out}")
    e = account()
    check(e["limit"] == 5 and e["remaining"] == 3 and e["spent"] == 2, f"budget of 5: {e}")


def test_ask_waits_for_approval():
    pid = "recommender.viewing.history"
    text = ('@transform("keep(time, genre, duration); generalize(time, day)")\n'
            '@aggregate("count, sum(duration) by genre, time; k >= 2")\n'
            '@ask("owner")\n'
            'permit (principal == Hearth::Service::"recommender", '
            'action == Hearth::Action::"share", resource in Hearth::Category::"viewing.history")\n'
            'when { context.purpose == "recommendation" };')
    st, out = HUB.call("POST", "/api/v1/policies", {"id": pid, "service": "recommender",
                                                    "text": text})
    check(st == 201, f"ask policy: {st} {out}", HUB.drain())
    st, body = pull()
    check(st == 202 and body["decision"] == "ask", f"ask: {st} {body}", HUB.drain())
    aid = body["approval"]
    st, again = pull()
    check(st == 202 and again["approval"] == aid, f"second ask: {st} {again}")
    st, lst = HUB.call("GET", "/api/v1/approvals")
    pend = [a for a in lst["approvals"] if a["state"] == "pending"]
    check([a["id"] for a in pend] == [aid], f"approvals {lst}")
    st, out = HUB.call("POST", f"/api/v1/approvals/{aid}/approve")
    check(st == 200 and out["state"] == "approved", f"approve: {st} {out}", HUB.drain())
    st, body = pull(approval=aid)
    check(st == 200 and norm(body["records"]) == EXPECTED, f"approved pull: {st} {body}")


def test_service_log_matches_audit():
    st, v = HUB.call("GET", "/api/v1/audit/verify")
    check(st == 200 and v["ok"] is True, f"verify: {st} {v}", HUB.drain())
    st, a = HUB.call("GET", "/api/v1/audit")
    entries = a.get("entries", a) if isinstance(a, dict) else a
    rel = [e for e in entries if e.get("service") == "recommender"]
    decisions = [e["decision"] for e in rel]
    for d in ("allow", "deny", "ask"):
        check(d in decisions, f"no {d} in the audit log: {decisions}")
    # What the service got = the allowed releases in the audit log, by hash.
    allowed = [e for e in rel if e["decision"] == "allow"]
    got = [e for e in log_entries() if (e["kind"] == "push") or
           (e["kind"] == "pull" and e["status"] == 200)]
    check(len(got) == len(allowed), f"service got {len(got)} releases, audit has {len(allowed)}")
    for e in log_entries():
        raw = json.dumps(e)
        for t in TITLES:
            check(t not in raw, f"title {t!r} reached the service: {raw}")


def main():
    r = Runner()
    r.only = None  # one story: the steps depend on each other
    try:
        for fn in (test_setup_and_ingest, test_import_proposes_only,
                   test_simulate_then_accept_and_pull, test_push_delivers_once,
                   test_forbid_stops_it, test_bad_policy_rejected_with_position,
                   test_budget_stops_it, test_ask_waits_for_approval,
                   test_service_log_matches_audit):
            r.run(fn)
            if r.failed:
                break
    finally:
        if HUB:
            HUB.boot.kill()
        if SVC:
            SVC.shutdown()
    r.finish()


if __name__ == "__main__":
    main()
