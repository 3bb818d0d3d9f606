#!/usr/bin/python3
"""test_host.py: the host board (Hearth as a Linux process, under ASan+UBSan)
goes through the same DT-driven bring-up and event loop as the firmware."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Runner, check  # noqa: E402

HOST = os.path.join(ROOT, "build", "host", "hearth")


def run(args, timeout=30):
    t0 = time.monotonic()
    p = subprocess.run([HOST] + args, capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - t0


def test_host_boot_and_sleep():
    p, took = run(["hearth.test=sleep:300"])
    out = p.stdout
    check(p.returncode == 0, f"exit {p.returncode}\n{out}\n{p.stderr}")
    check(re.search(r"^Hearth \S+ \(\w+\) for host$", out, re.M) is not None, "banner\n" + out)
    for drv in ("host_console", "host_clock", "host_rng"):
        check(f"-> {drv} [ok]" in out, f"{drv} not bound\n{out}")
    m = re.search(r"SLEEP-END ms=(\d+)", out)
    check(m is not None and int(m.group(1)) >= 300, "sleep\n" + out)
    check(took >= 0.3, f"returned after {took:.2f} s")
    check("ERROR: AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr,
          "sanitizer report\n" + p.stderr)


def test_host_exit_code():
    p, _ = run(["hearth.test=exit:7"])
    check(p.returncode == 7, f"exit {p.returncode}")


def test_host_crash_report():
    p, _ = run(["hearth.crash=null"])
    check(p.returncode == 70, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    check("*** HEARTH CRASH: signal 11" in p.stderr, "no crash report\n" + p.stderr)


if __name__ == "__main__":
    r = Runner()
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            r.run(fn)
    r.finish()
