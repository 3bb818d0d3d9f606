#!/usr/bin/python3
"""test_release_schedule.py: pushes as scheduled deliveries (issue 6 item 4).

One boot with a fresh disk and test_release.py's helpers (Hub, the reference
recommender, the viewing records). The recommender's manifest, with
"push_every": "4s" on its request, is imported and its proposed policy
accepted; then, without any owner action:
  - at least 2 pushes arrive within ~15 s, no two deliveries closer than the
    period (minus a tolerance), each one an audited allow (push, same
    SHA-256, same delivery id) carrying exactly the transformed data;
  - a forbid policy stops them (the scheduled attempt is audited as a deny);
  - after the accepted policy is deleted no push arrives any more.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Runner, check  # noqa: E402
import test_release as tr  # noqa: E402

recommender = tr.recommender
PERIOD = 4.0
TOL = 0.75  # the scheduler's clock reads and the push loop's own delay
PID = "recommender.viewing.history"


def pushes():
    return [e for e in tr.log_entries() if e["kind"] == "push"]


def audit_entries():
    st, a = tr.HUB.call("GET", "/api/v1/audit")
    check(st == 200, f"audit: {st} {a}", tr.HUB.drain())
    return a.get("entries", a) if isinstance(a, dict) else a


def deliveries():
    st, ds = tr.HUB.call("GET", "/api/v1/deliveries")
    check(st == 200, f"deliveries: {st} {ds}", tr.HUB.drain())
    return ds["deliveries"]


def settle(timeout=20):
    """Waits until every delivery made so far has arrived; returns their ids."""
    end = time.monotonic() + timeout
    while True:
        ids = [d["id"] for d in deliveries()]
        got = {p["delivery"] for p in pushes()}
        if set(ids) <= got or time.monotonic() > end:
            check(set(ids) <= got, f"deliveries {ids} never arrived (got {got})", tr.HUB.drain())
            return ids
        time.sleep(0.3)


def test_setup():
    tr.test_setup_and_ingest()
    m = recommender.manifest(os.path.join(tr.TMP, "svc"), "10.0.2.2", tr.SVC_PORT)
    # A malformed period is refused at import, nothing stored.
    bad = json.loads(json.dumps(m))
    bad["requests"][0]["push_every"] = "4 parsecs"
    st, out = tr.HUB.call("POST", "/api/v1/services/import", bad)
    check(st == 400 and out["error"]["code"] == "bad_manifest", f"bad push_every: {st} {out}")
    m["requests"][0]["push_every"] = "4s"
    st, out = tr.HUB.call("POST", "/api/v1/services/import", m)
    check(st == 201, f"import: {st} {out}", tr.HUB.drain())
    # Proposed only: nothing is pushed before the owner accepts.
    time.sleep(PERIOD + 2)
    check(not pushes() and not deliveries(), f"pushed before accept: {pushes()}", tr.HUB.drain())


def test_scheduled_pushes():
    st, out = tr.HUB.call("POST", f"/api/v1/policies/{PID}/accept")
    check(st == 200 and out["active"], f"accept: {st} {out}", tr.HUB.drain())
    t0 = time.monotonic()
    arrived = {}  # delivery id -> monotonic arrival (as polled)
    while time.monotonic() - t0 < 15:
        for p in pushes():
            arrived.setdefault(p["delivery"], time.monotonic())
        time.sleep(0.2)
    got = pushes()
    check(len(got) >= 2, f"{len(got)} scheduled pushes in 15 s", tr.HUB.drain())
    check(len(got) <= 15 / (PERIOD - TOL) + 1, f"too many pushes: {len(got)}", tr.HUB.drain())
    for p in got:
        check(not p["duplicate"], f"duplicate push {p}")
        check(tr.norm(p["body"]) == tr.EXPECTED, f"pushed {p['body']}")
        raw = json.dumps(p)
        for t in tr.TITLES:
            check(t not in raw, f"title {t!r} reached the service")
    # Each push is an audited allow of a push with its delivery id and hash;
    # audited decisions (the time the delivery was made) are a period apart.
    allows = [e for e in audit_entries() if e["service"] == "recommender"
              and e["decision"] == "allow"]
    times = []
    for p in got:
        match = [e for e in allows if p["delivery"] in json.dumps(e["obligations"])
                 and "sha256:" + p["sha256"] in json.dumps(e["obligations"])
                 and "push" in json.dumps(e["obligations"])]
        check(len(match) == 1, f"push {p['delivery']} has {len(match)} audited allows: {allows}")
        times.append(match[0]["time_ns"] / 1e9)
    times.sort()
    gaps = [b - a for a, b in zip(times, times[1:])]
    check(all(g >= PERIOD - TOL for g in gaps), f"pushes closer than the period: {gaps}")
    print(f"  {len(got)} scheduled pushes in 15 s; audited gaps {[round(g, 2) for g in gaps]}")
    arr = sorted(arrived.values())
    agaps = [b - a for a, b in zip(arr, arr[1:])]
    check(all(g >= PERIOD - 2 * TOL for g in agaps), f"arrivals closer than the period: {agaps}")


def test_forbid_then_delete_stops_it():
    forbid = ('forbid (principal == Hearth::Service::"recommender", action, '
              'resource in Hearth::Category::"viewing");')
    st, out = tr.HUB.call("POST", "/api/v1/policies", {"id": "no-viewing", "text": forbid})
    check(st == 201, f"forbid: {st} {out}", tr.HUB.drain())
    ids = settle()  # one may have been made just before the forbid
    n0 = len(pushes())
    time.sleep(2 * PERIOD + 1)
    check(len(pushes()) == n0 and [d["id"] for d in deliveries()] == ids,
          f"pushed under a forbid: {pushes()[n0:]}", tr.HUB.drain())
    denies = [e for e in audit_entries() if e["service"] == "recommender"
              and e["decision"] == "deny" and "push" in json.dumps(e["obligations"])]
    check(denies and any("no-viewing@1" in json.dumps(e["policies"]) for e in denies),
          f"the scheduled attempt under the forbid is not audited: {denies}", tr.HUB.drain())
    # Without the accepted policy the subscription is not even attempted.
    st, out = tr.HUB.call("DELETE", f"/api/v1/policies/{PID}")
    check(st == 200, f"delete policy: {st} {out}", tr.HUB.drain())
    st, out = tr.HUB.call("DELETE", "/api/v1/policies/no-viewing")
    check(st == 200, f"delete forbid: {st} {out}", tr.HUB.drain())
    n1, a1 = len(pushes()), len(audit_entries())
    time.sleep(3 * PERIOD)
    check(len(pushes()) == n1 and [d["id"] for d in deliveries()] == ids,
          f"pushed after the policy was deleted: {pushes()[n1:]}", tr.HUB.drain())
    check(len(audit_entries()) == a1, "scheduled attempts without a policy", tr.HUB.drain())
    st, v = tr.HUB.call("GET", "/api/v1/audit/verify")
    check(st == 200 and v["ok"] is True, f"verify: {st} {v}", tr.HUB.drain())


def main():
    r = Runner()
    r.only = None  # one story
    try:
        for fn in (test_setup, test_scheduled_pushes, test_forbid_then_delete_stops_it):
            r.run(fn)
            if r.failed:
                break
    finally:
        if tr.HUB:
            tr.HUB.boot.kill()
        if tr.SVC:
            tr.SVC.shutdown()
    r.finish()


if __name__ == "__main__":
    main()
