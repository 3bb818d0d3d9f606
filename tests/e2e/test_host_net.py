#!/usr/bin/python3
"""test_host_net.py: the host board's user-mode network (libslirp). The same
lwIP stack, TLS and HTTP server as the image, in a Linux process under
ASan+UBSan: DHCP gets 10.0.2.15 from slirp, host ports are forwarded in by
the bootarg hearth.hostfwd=, and curl talks to the device from outside.
SIGTERM and SIGINT end the process cleanly (exit 0, no sanitizer report)."""
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Boot, Runner, check  # noqa: E402

HOST = os.path.join(ROOT, "build", "host", "hearth")
READY = "hearth: serving https://"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(extra=()):
    """A host Hearth forwarding two free ports; returns (boot, https, http)."""
    https, http = free_port(), free_port()
    fwd = f"hearth.hostfwd=tcp:127.0.0.1:{https}-:443,tcp:127.0.0.1:{http}-:80"
    b = Boot([HOST, fwd] + list(extra), timeout=60)
    return b, https, http


def curl(*args, timeout=15):
    p = subprocess.run(["curl", "-sk", "--max-time", str(timeout)] + list(args),
                       capture_output=True, text=True, timeout=timeout + 5)
    return p


def sanitizer_clean(b):
    t = b.text()
    return "AddressSanitizer" not in t and "LeakSanitizer" not in t and "runtime error" not in t


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(b, sig):
    b.proc.send_signal(sig)
    return b.wait_exit()


def test_host_net_health_over_https():
    b, https, http = start()
    try:
        b.wait_for(READY, timeout=30)
        check(f"host-net: forwarding tcp 127.0.0.1:{https} -> device:443" in b.text(),
              "forwarding line", b)
        check("net: eth0 IPv4 10.0.2.15 netmask 255.255.255.0 gateway 10.0.2.2" in b.text(),
              "no DHCP lease line", b)
        p = curl(f"https://127.0.0.1:{https}/api/v1/health")
        check(p.returncode == 0, f"curl failed ({p.returncode}): {p.stderr}", b)
        h = json.loads(p.stdout)
        check(h.get("status") == "ok" and h.get("board") == "host", f"health: {p.stdout}", b)
        n = h.get("network", {})
        check(n.get("ipv4") == "10.0.2.15" and n.get("dhcp") is True and n.get("up") is True,
              f"network section: {n}", b)
        check(n.get("gateway") == "10.0.2.2" and n.get("netmask") == "255.255.255.0",
              f"network section: {n}", b)
        check(n.get("mac") == "52:54:00:12:34:56", f"mac: {n}", b)
        # SLAAC from slirp's router advertisements (prefix fec0::/64), once
        # duplicate address detection is over.
        b.wait_for("net: eth0 IPv6 FEC0::", timeout=20)
        p = curl(f"https://127.0.0.1:{https}/api/v1/health")
        n = json.loads(p.stdout).get("network", {})
        check(any(a.upper().startswith("FEC0::") for a in n.get("ipv6", [])),
              f"no SLAAC address: {n}", b)
        # The redirect server on the other forwarded port.
        p = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                 f"http://127.0.0.1:{http}/api/v1/health")
        code, _, loc = p.stdout.partition(" ")
        check(code == "301" and loc.startswith("https://"), f"redirect: {p.stdout!r}", b)
        rc = stop(b, signal.SIGTERM)
        check(rc == 0, f"exit {rc} after SIGTERM", b)
        check("hearth: Terminated: stopping" in b.text(), "no stopping line", b)
        check(sanitizer_clean(b), "sanitizer report", b)
    finally:
        b.kill()


def test_host_net_concurrent_and_idle():
    """A burst of parallel TLS connections through slirp all get answers;
    afterwards the process idles in ppoll instead of spinning; SIGINT ends
    it cleanly."""
    b, https, _ = start()
    try:
        b.wait_for(READY, timeout=30)
        results = []

        def one():
            p = curl("-o", "/dev/null", "-w", "%{http_code}",
                     f"https://127.0.0.1:{https}/api/v1/health", timeout=20)
            results.append(p.stdout)

        burst = 64
        threads = [threading.Thread(target=one) for _ in range(burst)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Refused-when-full (503) is a clean answer too; nothing may hang or reset.
        check(len(results) == burst and all(r in ("200", "503") for r in results),
              f"answers: {results}", b)
        check(results.count("200") >= 16, f"too few served: {results}", b)
        p = curl(f"https://127.0.0.1:{https}/api/v1/health")
        check('"status":"ok"' in p.stdout, f"not serving after the burst: {p.stdout}", b)
        time.sleep(0.5)
        c0 = cpu_seconds(b.proc.pid)
        time.sleep(2.0)
        used = cpu_seconds(b.proc.pid) - c0
        check(used < 0.5, f"busy while idle: {used:.2f} s of CPU in 2 s", b)
        rc = stop(b, signal.SIGINT)
        check(rc == 0, f"exit {rc} after SIGINT", b)
        check("hearth: Interrupt: stopping" in b.text(), "no stopping line", b)
        check(sanitizer_clean(b), "sanitizer report", b)
    finally:
        b.kill()


def test_host_net_listen_backlog():
    """slirp listens with a backlog of 1; the driver widens it, so a burst
    of clients waits in the host's accept queue instead of in SYN
    retransmissions. Seen from outside: with the process stopped, the
    kernel still completes handshakes, as many as the backlog allows."""
    b, https, _ = start()
    socks = []
    try:
        b.wait_for(READY, timeout=30)
        os.kill(b.proc.pid, signal.SIGSTOP)
        try:
            for _ in range(32):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", https))
                socks.append(s)
            pending, done = list(socks), 0
            end = time.monotonic() + 3
            while pending and time.monotonic() < end:
                _, w, _ = select.select([], pending, [], 0.2)
                for s in w:
                    pending.remove(s)
                    done += s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        finally:
            for s in socks:
                s.close()
            os.kill(b.proc.pid, signal.SIGCONT)
        check(done >= 24, f"only {done} of 32 connections queued while stopped", b)
        p = curl(f"https://127.0.0.1:{https}/api/v1/health")
        check('"status":"ok"' in p.stdout, f"not serving afterwards: {p.stdout}", b)
        rc = stop(b, signal.SIGTERM)
        check(rc == 0 and sanitizer_clean(b), f"exit {rc}", b)
    finally:
        b.kill()


def test_host_net_bad_forwards():
    """A port already taken and malformed rules get a clear line each; the
    device boots anyway."""
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        fwd = (f"hearth.hostfwd=tcp:127.0.0.1:{port}-:443,sctp:1-:2,"
               "tcp:127.0.0.1:99999-:80,tcp:nowhere:1-:2")
        b = Boot([HOST, fwd, "hearth.test=exit:0"], timeout=30)
        try:
            rc = b.wait_exit()
            t = b.text()
            check(rc == 0, f"exit {rc}", b)
            check(f"host-net: cannot forward tcp 127.0.0.1:{port}" in t, "busy port", b)
            for bad in ("sctp:1-:2", "tcp:127.0.0.1:99999-:80", "tcp:nowhere:1-:2"):
                check(f"host-net: bad forwarding rule '{bad}'" in t, f"rule {bad}", b)
            check("-> host_net [ok]" in t, "host_net not bound", b)
            check(sanitizer_clean(b), "sanitizer report", b)
        finally:
            b.kill()


if __name__ == "__main__":
    r = Runner()
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            r.run(fn)
    r.finish()
