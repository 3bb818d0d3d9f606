#!/usr/bin/python3
"""test_xen_domu.py: the qemu-virt image as a Xen PV domU next to a Linux dom0.

Xen 4.17 and a Linux dom0 (scripts/xen-dom0.sh, all from Debian) run in
QEMU; dom0 starts Hearth as an unprivileged PV domU with a vif on a bridge
and dom0's virtio disk as its xvda. Everything is seen from outside: the
console dom0 relays, HTTPS through QEMU's forward to the domU's 10.0.2.16,
the disk image, and dom0's own tools (xl, xenstore-*) driven through its
console.

Boot one (fresh disk): the PV devices come up; the HTTPS suite of the network
issue (certificate against the console, keep-alive and pipelining, 1 MB up and
down, malformed requests); the whole release flow of test_release.py; 10,000
requests through netfront with the grant, ring and buffer counters unchanged;
the vif detached (the backend goes away), bogus vifs with malformed and
oversized xenstore values refused with clear lines, the vif attached again
and served; `xl shutdown` powers Hearth off. Boot two (same disk): the data
and the certificate survived; then the image as a domU with a vPL011
(vuart = "sbsa_uart") takes that UART as its console. Last, the ARMv7
(Cubieboard2) image runs as a 32-bit PV domU of the same arm64 Xen.
"""
import hashlib
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Runner, XenDomU, check  # noqa: E402
import test_net  # noqa: E402
import test_release  # noqa: E402

TMP = tempfile.mkdtemp(prefix="hearth-domu-")
DISK = os.path.join(TMP, "disk.img")
ARGS = "hearth.testapi hearth.http.idle_ms=3000 hearth.http.header_ms=2000"
ARMV7_IMAGE = os.path.join(ROOT, "build", "cubieboard2", "hearth.img")
X = None      # the running XenDomU
FIRST = {}    # what boot one printed: fingerprint, owner token


def boot(fresh):
    global X
    if fresh:
        with open(DISK, "wb") as f:
            f.truncate(64 << 20)
    X = XenDomU(args=ARGS, disk=DISK, timeout=1500)
    X.wait_for("hearth: serving https://", timeout=300)
    return X


def metrics():
    ctx = ssl._create_unverified_context()
    import urllib.request
    r = urllib.request.Request(f"https://127.0.0.1:{X.https_port}/api/v1/metrics",
                               headers={"Authorization": "Bearer " + FIRST["owner"]})
    for attempt in range(3):  # a handshake under a loaded emulator can be slow
        try:
            with urllib.request.urlopen(r, context=ctx, timeout=60) as resp:
                text = resp.read().decode()
            break
        except OSError as e:
            if attempt == 2:
                raise
            print(f"metrics: retrying after {e!r}", flush=True)
    out = {}
    for line in text.splitlines():
        m = re.match(r"(hearth_\w+(?:\{[^}]*\})?) (\d+)$", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def test_pv_devices_come_up():
    b = boot(fresh=True)
    text = b.text()
    check(re.search(r"hearth\| xen: Xen 4\.17, domU \d+, PV console", text) is not None, "no domU line", b)
    check("netfront: device/vif/0 connected" in text and "mac 00:16:3e:48:45:01" in text,
          "netfront did not connect", b)
    check(re.search(r"blkfront: device/vbd/51712 connected .*: 131072 sectors, flush by FLUSH_DISKCACHE",
                    text) is not None, "blkfront did not connect (64 MiB, flush)", b)
    check("seeded from /chosen/rng-seed (128 bytes)" in text, "no entropy from the toolstack's seed", b)
    check("store: vda: formatted an empty disk" in text, "the fresh disk was not formatted", b)
    check("/hypervisor  xen,xen-4.17  -> xen [ok]" in text, "the Xen driver did not bind", b)
    check("virtio" not in text.split("Hearth booted")[0].split("devices:")[-1],
          "a virtio device in a PV domU's boot table", b)
    FIRST["fingerprint"] = re.search(r"fingerprint ([0-9A-F:]{95})", text).group(1)
    FIRST["pin"] = re.search(r"public key pin (sha256//\S+)", text).group(1)
    FIRST["owner"] = re.search(r"owner API token (hto_[0-9a-f]+)", text).group(1)


class DomUDevice(test_net.Device):
    """test_net's Device, attached to the running domU instead of booting QEMU."""

    def __init__(self):  # noqa: D107 - no boot here
        self.https, self.http = X.https_port, X.http_port
        self.boot = X
        self.fingerprint, self.pin = FIRST["fingerprint"], FIRST["pin"]


def test_https_through_netfront():
    test_net.DEV = DomUDevice()
    d = test_net.dev()
    pem = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.https}",
                          "-servername", "hearth.local"], input=b"", capture_output=True,
                         timeout=60).stdout
    der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem,
                         capture_output=True, check=True).stdout
    fp = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    check(fp == d.fingerprint, f"served certificate {fp} != console {d.fingerprint}", X)
    r = subprocess.run(["curl", "-sSk", "--max-time", "30", "--pinnedpubkey", d.pin,
                        f"https://127.0.0.1:{d.https}/api/v1/health"], capture_output=True, text=True)
    check(r.returncode == 0, f"curl with the console's pin failed: {r.stderr}", X)
    h = json.loads(r.stdout)
    check(h["status"] == "ok" and h["network"]["ipv4"] == "10.0.2.16" and h["network"]["dhcp"],
          f"health through netfront: {h}", X)
    check(h["storage"]["state"] == "ok" and h["storage"]["device"] == "vda", f"storage: {h}", X)
    check(h["time"]["wall_clock"] is True, f"no wall clock from Xen's shared_info: {h['time']}", X)
    for fn in (test_net.test_keep_alive_and_pipelining, test_net.test_one_megabyte_up_and_down,
               test_net.test_malformed_requests, test_net.test_idle_connection_closed_on_time):
        fn()


class DomUHub(test_release.Hub):
    """test_release's Hub, attached to the running domU (fresh disk, its owner token)."""

    def __init__(self, **kw):  # noqa: D107 - no boot here
        self.disk = DISK
        self.boot = X
        self.https = X.https_port
        self.owner = FIRST["owner"]
        self.url = f"https://127.0.0.1:{self.https}"
        self.ctx = ssl._create_unverified_context()


def test_release_flow():
    test_release.Hub = DomUHub
    steps = (test_release.test_setup_and_ingest, test_release.test_import_proposes_only,
             test_release.test_simulate_then_accept_and_pull, test_release.test_push_delivers_once,
             test_release.test_forbid_stops_it, test_release.test_bad_policy_rejected_with_position,
             test_release.test_budget_stops_it, test_release.test_ask_waits_for_approval,
             test_release.test_service_log_matches_audit)
    try:
        for fn in steps:
            try:
                fn()
            except AssertionError as e:
                raise AssertionError(f"release step {fn.__name__}: {e}") from None
    finally:
        if test_release.SVC:
            test_release.SVC.shutdown()


def hammer(n_conns, per_conn, errors):
    """per_conn pipelined GETs (batches of 20) on each of n_conns TLS connections."""
    def one():
        try:
            d = test_net.dev()
            s = d.tls(timeout=60)
            left = per_conn
            while left:
                k = min(20, left)
                s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hearth.local\r\n\r\n" * k)
                buf, got = b"", []
                while len(got) < k:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise AssertionError("connection closed mid-batch")
                    buf += chunk
                    got = test_net.parse_responses(buf)
                    got = [r for r in got if len(r[2]) == int(r[1].get("content-length", -1))]
                if any(r[0] != 200 for r in got):
                    raise AssertionError(f"statuses {[r[0] for r in got]}")
                left -= k
            s.close()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            errors.append(repr(e))
    ts = [threading.Thread(target=one) for _ in range(n_conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


KEYS = ('hearth_xen_grants{state="in_use"}', "hearth_xen_netfront_pages",
        "hearth_xen_netfront_stuck_pages", "hearth_xen_blkfront_grants_stuck",
        'hearth_xen_grant_ops_total{op="busy"}')


def test_10000_requests_leak_nothing():
    before = metrics()
    errors = []
    hammer(4, 2500, errors)
    check(not errors, f"requests failed: {errors[:3]}", X)
    # And some writes, so blkfront's per-request grants are in the balance too.
    hub = DomUHub()
    for i in range(20):
        st, out = hub.call("POST", "/api/v1/test/audit", {
            "service": "leak-check", "category": "viewing.history", "purpose": "test",
            "decision": "deny", "records": i})
        check(st in (200, 201), f"audit append {i}: {st} {out}", X)
    after = metrics()
    for k in KEYS:
        check(before[k] == after[k], f"{k}: {before[k]} before, {after[k]} after 10,000 requests", X)
    posted = after['hearth_xen_netfront_rx_buffers{state="posted"}']
    in_use = after['hearth_xen_netfront_rx_buffers{state="in_use"}']
    check(posted + in_use == 64, f"receive buffers: {posted} posted + {in_use} in use != 64", X)
    check(after["hearth_xen_netfront_tx_inflight"] <= 64, f"tx slots: {after}", X)
    grants = after['hearth_xen_grants{state="in_use"}']
    check(grants == 2 + 64 + 64 + 1, f"grants in use: {grants} (want 131: rings and buffers)", X)
    check(after['hearth_xen_grant_ops_total{op="grant"}'] > before['hearth_xen_grant_ops_total{op="grant"}'],
          "the disk made no grants (blkfront grants per request)", X)


def dom0(cmd, ok=True):
    rc, out = X.dom0(cmd, timeout=120)
    if ok:
        check(rc == 0, f"dom0: {cmd!r} exited {rc}: {out}", X)
    return rc, out


def test_backend_away_bad_values_and_back():
    rc, domid = dom0("xl domid hearth")
    domid = domid.strip()
    mark = X.mark()
    dom0("xl network-detach hearth 0")
    X.wait_uptime("netfront: device/vif/0:", after=mark, timeout=120)
    X.wait_uptime("disconnecting", after=mark, timeout=60)
    # Bogus vifs written straight into the domU's xenstore directory: a value
    # too long for any MAC (2,000 bytes), then a malformed MAC, then a backend
    # path that is not a path. Each gets a clear line and no connection.
    base = f"/local/domain/{domid}/device/vif"
    cases = [("7", "/local/domain/0/backend/vif/%s/7" % domid, "a" * 2000, "value too long"),
             ("8", "/local/domain/0/backend/vif/%s/8" % domid, "zz:00:00:00:00:01", "not a MAC address"),
             ("9", "not-a-path", "00:16:3e:00:00:09", "no usable backend")]
    for n, backend, mac, want in cases:
        mark = X.mark()
        dom0(f"xenstore-write {base}/{n}/backend-id 0 {base}/{n}/backend '{backend}' "
             f"{base}/{n}/mac '{mac}' && xenstore-write {base}/{n}/state 1")
        X.wait_uptime(f"device/vif/{n}", after=mark, timeout=60)
        line = [l for _, l in X.log[mark:] if f"device/vif/{n}" in l and "hearth|" in l]
        check(any(want in l for l in line), f"vif {n}: want {want!r}, console said {line}", X)
        dom0(f"xenstore-rm {base}/{n}")
    try:
        test_net.dev().get("/api/v1/health")
        check(False, "HTTPS answered with the vif detached", X)
    except (OSError, IndexError, ssl.SSLError):
        pass
    mark = X.mark()
    dom0("xl network-attach hearth mac=00:16:3e:48:45:01")
    X.wait_uptime("netfront: device/vif/", after=mark, timeout=120)
    X.wait_uptime("connected to", after=mark, timeout=60)
    status = None
    for _ in range(30):
        try:
            status, _, body = test_net.dev().get("/api/v1/health")
            break
        except (OSError, IndexError, ssl.SSLError):
            time.sleep(2)
    check(status == 200, "no HTTPS after the vif came back", X)
    m = metrics()
    check(m["hearth_xen_netfront_connects_total"] == 2 and m["hearth_xen_netfront_disconnects_total"] == 1,
          f"connects/disconnects: {m}", X)
    check(m['hearth_xen_grants{state="in_use"}'] == 131 and m["hearth_xen_netfront_stuck_pages"] == 0,
          f"grants after reconnecting: {m}", X)


def test_xl_shutdown_powers_off():
    mark = X.mark()
    dom0("xl shutdown hearth")
    X.wait_uptime("the toolstack asked to power off", after=mark, timeout=120)
    X.wait_uptime(XenDomU.ended(), after=mark, timeout=120)
    X.kill()


def test_data_and_identity_survive_reboot():
    b = boot(fresh=False)
    text = b.text()
    check("formatted" not in text, "the second boot formatted the disk again", b)
    fp = re.search(r"fingerprint ([0-9A-F:]{95})", text).group(1)
    check(fp == FIRST["fingerprint"], f"certificate changed across reboots: {fp}", b)
    m = metrics()
    check(m["hearth_records"] == len(test_release.RECORDS),
          f"records after reboot: {m['hearth_records']}, want {len(test_release.RECORDS)}", b)
    check(m["hearth_audit_entries"] > 5, f"audit entries after reboot: {m['hearth_audit_entries']}", b)


def test_vpl011_console_when_present():
    """The same image with an emulated SBSA UART (xl's vuart = "sbsa_uart"):
    its console is the vPL011, through the PL011 driver."""
    mark = X.mark()
    dom0("xl destroy hearth")
    X.wait_uptime(XenDomU.ended(), after=mark, timeout=120)
    dom0("sed -e 's/^name.*/name = \"hearthv\"/' -e '/^disk/d' /etc/xen/hearth.cfg > /tmp/v.cfg"
         " && echo 'vuart = \"sbsa_uart\"' >> /tmp/v.cfg && xl create -q /tmp/v.cfg")
    text, end = "", time.monotonic() + 180
    while time.monotonic() < end and "hearth: serving https://" not in text:
        time.sleep(3)
        _, text = X.dom0("cat /var/log/xen/console/*hearthv*", timeout=60)
    check("hearth: serving https://" in text, f"no boot on the vPL011 console:\n{text}", X)
    check("sbsa-uart  -> pl011 [ok]" in text or re.search(r"arm,sbsa-uart\s+-> pl011 \[ok\]", text),
          f"the vPL011 is not the console:\n{text}", X)
    # The PL011 driver binds only as the console ([ok] means it registered
    # it), and the PV ring stayed silent.
    _, names = X.dom0("ls /var/log/xen/console", timeout=60)
    pv = [n for n in names.split() if "hearthv" in n and "vuart" not in n]
    for n in pv:
        _, log = X.dom0(f"cat /var/log/xen/console/{n}", timeout=60)
        check("Hearth booted" not in log, f"the boot report went to the PV console too ({n})", X)


def test_armv7_image_as_32bit_domu():
    """The Cubieboard2 (ARMv7, Thumb-2) image as a 32-bit PV domU of the same
    arm64 Xen: the same drivers, 32-bit, with a fresh disk."""
    global X
    X.kill()
    disk = os.path.join(TMP, "disk32.img")
    with open(disk, "wb") as f:
        f.truncate(32 << 20)
    X = XenDomU(args="hearth.testapi", disk=disk, image=ARMV7_IMAGE, timeout=600)
    X.wait_for("hearth: serving https://", timeout=300)
    text = X.text()
    check("(armv7, Thumb-2)" in text and "for cubieboard2" in text, "not the ARMv7 image", X)
    check("netfront: device/vif/0 connected" in text, "netfront (32-bit) did not connect", X)
    check(re.search(r"blkfront: device/vbd/51712 connected .*: 65536 sectors, flush by FLUSH_DISKCACHE",
                    text) is not None, "blkfront (32-bit) did not connect", X)
    check("store: vda: formatted an empty disk" in text, "no store on the 32-bit domU's disk", X)
    FIRST["owner"] = re.search(r"owner API token (hto_[0-9a-f]+)", text).group(1)
    m = metrics()
    check(m['hearth_xen_grants{state="in_use"}'] == 131 and m["hearth_xen_netfront_connected"] == 1
          and m["hearth_xen_blkfront_connected"] == 1, f"32-bit metrics: {m}", X)
    r = subprocess.run(["curl", "-sSk", "--max-time", "60", f"https://127.0.0.1:{X.https_port}/api/v1/health"],
                       capture_output=True, text=True)
    h = json.loads(r.stdout)
    check(h["network"]["ipv4"] == "10.0.2.16" and h["storage"]["state"] == "ok" and
          h["board"] == "cubieboard2", f"32-bit health: {h}", X)


def main():
    r = Runner()
    r.only = None  # one story
    try:
        for fn in (test_pv_devices_come_up, test_https_through_netfront, test_release_flow,
                   test_10000_requests_leak_nothing, test_backend_away_bad_values_and_back,
                   test_xl_shutdown_powers_off, test_data_and_identity_survive_reboot,
                   test_vpl011_console_when_present, test_armv7_image_as_32bit_domu):
            r.run(fn)
            if r.failed:
                break
    finally:
        if X:
            X.kill()
    r.finish()


if __name__ == "__main__":
    main()
