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
# have the same vif (MAC 00:16:3e:48:45:01), 128 MB and one vCPU. Reports only;
# never fails on a time. Leaves out: the Linux domU's own network bring-up.
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh --quiet
make -s BOARD=qemu-virt
exec /usr/bin/python3 - "${BENCH_XEN_RUNS:-3}" <<'PY'
import os
import sys

sys.path.insert(0, os.path.join(os.getcwd(), "tests", "e2e"))
from harness import XenDomU  # noqa: E402

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
PY
