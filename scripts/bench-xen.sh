#!/bin/sh
# bench-xen.sh: Hearth as a Xen PV domU against Debian's Linux kernel as the
# same kind of domU, side by side under one dom0 (scripts/xen-dom0.sh: Xen 4.17
# in QEMU TCG, a Linux dom0 with netback). Each run, dom0 starts one domU with
# `domu start`, which stamps dom0's /proc/uptime just before `xl create`; dom0
# stamps every relayed console line as it arrives. Reported per guest, the mean
# over BENCH_XEN_RUNS runs (default 3) of:
#   create -> ready   `xl create` to Hearth's "hearth: serving https://" line,
#                     and to the Linux domU's first line from its /init
#   of which toolstack  until `domu start` has the domain built and unpaused
#                     (`xl create -p`, attach to its console, `xl unpause`)
# and the ratio Hearth / Linux of create -> ready. Neither domU has a disk; both
# have the same vif (MAC 00:16:3e:48:45:01), 128 MB and one vCPU.
# Then HTTPS requests/s through netfront (Hearth as the domU, QEMU's forward to
# 10.0.2.16, dom0's bridge and netback) against the same image's virtio-net on
# bare QEMU: wrk, 4 keep-alive connections, DURATION s (default 5), a 16 KiB
# body, as in bench-net.sh. Reports only; never fails on a time.
# Leaves out: the Linux domU's own network bring-up.
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh --quiet
dpkg-query -W -f='${db:Status-Abbrev}' wrk 2>/dev/null | grep -q '^ii' ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
make -s BOARD=qemu-virt
exec /usr/bin/python3 - "${BENCH_XEN_RUNS:-3}" "${DURATION:-5}" <<'PY'
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.getcwd(), "tests", "e2e"))
from harness import Boot, XenDomU, free_port, qemu_cmd  # noqa: E402

runs = int(sys.argv[1])
guests = [("linux", XenDomU.LINUX_MARKER), ("hearth", "hearth: serving https://")]
ready = {g: [] for g, _ in guests}
xl = {g: [] for g, _ in guests}
b = XenDomU(autostart="none", linux=True, timeout=120 + runs * 120)
try:
    t = b.wait_for(XenDomU.READY, timeout=180)
    print(f"dom0 ready: {b.wait_uptime(XenDomU.READY):.2f} s of dom0 uptime, "
          f"{t:.1f} s after QEMU started")
    for i in range(runs):
        for name, marker in guests:
            m = b.mark()
            rc, out = b.dom0(f"domu start {name}", timeout=120)
            if rc != 0:
                raise SystemExit(f"bench-xen: domu start {name} failed ({rc}): {out}")
            t0 = b.wait_uptime(f"xl create {name}", after=m)
            t1 = b.wait_uptime(f"domU {name} created", after=m)
            try:
                t2 = b.wait_uptime(marker, after=m, timeout=120)
            except AssertionError:
                raise SystemExit(f"bench-xen: the {name} domU did not print {marker!r} in 120 s")
            xl[name].append(t1 - t0)
            ready[name].append(t2 - t0)
            print(f"run {i + 1}: {name:6s} create -> ready {t2 - t0:.2f} s (toolstack {t1 - t0:.2f} s)")
            b.dom0(f"xl destroy {name}", timeout=60)
            b.wait_uptime(f"domU {name} ended", after=m, timeout=60)
finally:
    b.kill()
mean = {g: sum(v) / len(v) for g, v in ready.items()}
for g, _ in guests:
    print(f"{g} domU: create -> ready {mean[g]:.2f} s, of which toolstack "
          f"{sum(xl[g]) / len(xl[g]):.2f} s (mean of {runs})")
print(f"Hearth to HTTPS-ready / Linux to its init, as Xen PV domUs: ratio {mean['hearth'] / mean['linux']:.2f}")

duration = int(sys.argv[2])
PATH = "/api/v1/test/blob?size=16384"


def rps(port):
    out = subprocess.run(["wrk", "-t1", "-c4", f"-d{duration}s", f"https://127.0.0.1:{port}{PATH}"],
                         capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    return float(m.group(1)) if m else 0.0


x = XenDomU(args="hearth.testapi", timeout=400)
try:
    x.wait_for("hearth: serving https://", timeout=300)
    netfront = rps(x.https_port)
finally:
    x.kill()
port = free_port()
q = Boot(qemu_cmd(mem="128M", args="hearth.testapi", net={443: port}, semihosting=False), timeout=300)
try:
    q.wait_for("hearth: serving https://", timeout=180)
    virtio = rps(port)
finally:
    q.kill()
print(f"HTTPS requests/s (16 KiB body, 4 keep-alive connections): netfront under Xen {netfront:.0f}, "
      f"virtio-net on bare QEMU {virtio:.0f}: ratio {netfront / virtio if virtio else 0:.2f}")
PY
