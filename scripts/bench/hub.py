#!/usr/bin/python3
"""hub.py: the hub benchmark's driver (scripts/bench-hub.sh).

  hub.py hearth URL CONSOLE_LOG N BATCH PULLS
      against a running hub (a fresh disk): registers a device, a service
      and a policy that releases every record (keep + generalize, no
      aggregation), ingests N viewing records in batches of BATCH (POST
      /api/v1/records, device token), then pulls all N PULLS times (POST
      /api/v1/share: decide + transform + audit). Prints
      "ingest RATE" and "release RATE" (records per second).
  hub.py sqlite FILE N BATCH PULLS
      the baseline: the same records into a table like the hub's (same
      schema, index and pragmas) with plain INSERTs, BATCH per transaction,
      then PULLS plain SELECTs of all of them. Prints the same two lines.

One keep-alive HTTPS connection (the TLS handshake is not measured).
Figures only; nothing here passes or fails on a time.
"""
import http.client
import json
import os
import re
import sqlite3
import ssl
import sys
import time

GENRES = ["drama", "comedy", "documentary", "thriller", "animation"]
DAY = 1717200000  # 2024-06-01T00:00:00Z


def records(n):
    """The N records both sides store: (id, time, payload)."""
    return [(f"r{i}", DAY + 37 * i,
             {"title": f"Film number {i}", "genre": GENRES[i % len(GENRES)],
              "duration": 80 + i % 90})
            for i in range(n)]


class Hub:
    def __init__(self, url):
        m = re.match(r"https://([^:/]+):(\d+)", url)
        self.host, self.port = m.group(1), int(m.group(2))
        self.ctx = ssl._create_unverified_context()  # the hub's self-signed certificate
        self.conn = None

    def call(self, method, path, body, token):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                        timeout=600)
            try:
                data = json.dumps(body).encode()
                self.conn.request(method, path, body=data, headers={
                    "Authorization": "Bearer " + token, "Content-Type": "application/json"})
                r = self.conn.getresponse()
                return r.status, json.loads(r.read() or b"null")
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise


def owner_token(log, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(log, errors="replace") as f:
            text = f.read()
        m = re.search(r"owner API token (hto_[0-9a-f]+)", text)
        if m and "serving https" in text:
            return m.group(1)
        time.sleep(0.2)
    sys.exit(f"hub.py: no owner token in {log}")


def need(ok, what, st, out):
    if not ok:
        sys.exit(f"hub.py: {what}: {st} {json.dumps(out)[:300]}")


def hearth(url, log, n, batch, pulls):
    hub = Hub(url)
    owner = owner_token(log)
    st, dev = hub.call("POST", "/api/v1/devices", {"name": "bench-tv"}, owner)
    need(st in (200, 201), "device", st, dev)
    st, svc = hub.call("POST", "/api/v1/services", {
        "id": "bench", "name": "Benchmark", "endpoint": "https://10.0.2.2:9/none"}, owner)
    need(st == 201, "service", st, svc)
    text = ('@transform("keep(time, genre, duration); generalize(time, day)")\n'
            'permit (principal == Hearth::Service::"bench", action == Hearth::Action::"share", '
            'resource in Hearth::Category::"viewing.history")\n'
            'when { context.purpose == "bench" };')
    st, pol = hub.call("POST", "/api/v1/policies", {"id": "bench", "service": "bench",
                                                    "text": text}, owner)
    need(st == 201, "policy", st, pol)
    recs = records(n)
    t0 = time.monotonic()
    for i in range(0, n, batch):
        body = {"records": [{"id": rid, "category": "viewing.history", "time": t, "payload": p}
                            for rid, t, p in recs[i:i + batch]]}
        st, out = hub.call("POST", "/api/v1/records", body, dev["token"])
        need(st == 200 and out["stored"] == len(body["records"]), "ingest", st, out)
    ingest = n / (time.monotonic() - t0)
    t0 = time.monotonic()
    for _ in range(pulls):
        st, out = hub.call("POST", "/api/v1/share", {"category": "viewing.history",
                                                     "purpose": "bench"}, svc["credential"])
        need(st == 200 and len(out["records"]) == n, "share", st, out)
    release = n * pulls / (time.monotonic() - t0)
    print(f"ingest {ingest:.1f}")
    print(f"release {release:.1f}")


def baseline(path, n, batch, pulls):
    for suffix in ("", "-journal"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = PERSIST;"
        "PRAGMA synchronous = FULL; PRAGMA cache_size = -1024;"
        "CREATE TABLE records(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "device_id INTEGER NOT NULL, client_id TEXT NOT NULL, category TEXT NOT NULL, "
        "time_s INTEGER NOT NULL, payload TEXT NOT NULL CHECK(json_valid(payload) AND "
        "json_type(payload) = 'object'), created_ns INTEGER NOT NULL, "
        "UNIQUE(device_id, client_id));"
        "CREATE INDEX records_category_time ON records(category, time_s);")
    recs = records(n)
    t0 = time.monotonic()
    for i in range(0, n, batch):
        db.execute("BEGIN")
        db.executemany("INSERT INTO records(device_id, client_id, category, time_s, payload, "
                       "created_ns) VALUES (1, ?, 'viewing.history', ?, ?, ?)",
                       [(rid, t, json.dumps(p, separators=(",", ":")), time.time_ns())
                        for rid, t, p in recs[i:i + batch]])
        db.execute("COMMIT")
    ingest = n / (time.monotonic() - t0)
    t0 = time.monotonic()
    for _ in range(pulls):
        rows = db.execute("SELECT time_s, payload FROM records WHERE category = ? "
                          "ORDER BY time_s, seq", ("viewing.history",)).fetchall()
        if len(rows) != n:
            sys.exit(f"hub.py: baseline select gave {len(rows)} rows")
    release = n * pulls / (time.monotonic() - t0)
    db.close()
    print(f"ingest {ingest:.1f}")
    print(f"release {release:.1f}")


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "hearth":
        hearth(sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7]))
    elif len(sys.argv) == 6 and sys.argv[1] == "sqlite":
        baseline(sys.argv[2], *map(int, sys.argv[3:6]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
