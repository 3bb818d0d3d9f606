"""harness.py: boots the real Hearth image in QEMU and watches it from outside.

Every end-to-end test starts QEMU as a child process, reads the serial
console line by line (each line stamped with the host's monotonic clock when
it arrived), and ends it through a semihosting exit code, a marker line, or
by terminating QEMU. Nothing here talks to the guest except its console and
its command line. Runs under Debian's python3 with the standard library only.
"""
import os
import select
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IMAGE = os.path.join(ROOT, "build", "qemu-virt", "hearth.img")
QEMU = "qemu-system-aarch64"
# The ARMv7 image (BOARD=cubieboard2) on QEMU's 32-bit virt machine: pass
# **ARMV7 to qemu_cmd (or to anything that hands its keywords on to it).
IMAGE_ARMV7 = os.path.join(ROOT, "build", "cubieboard2", "hearth.img")
ARMV7 = {"qemu": "qemu-system-arm", "cpu": "cortex-a7", "kernel": IMAGE_ARMV7}


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def qemu_cmd(machine="virt", gic=3, mem="256M", smp=1, args="", extra=(),
             kernel=IMAGE, semihosting=True, rng=True, cpu="cortex-a57", net=None, guest_ip="",
             qemu=QEMU):
    """The QEMU command line for one boot of the image.
    net: None, or a dict of guest port -> host port to forward (user networking).
    qemu, cpu, kernel: another QEMU binary, CPU and image (**ARMV7: the ARMv7 one)."""
    m = f"{machine},gic-version={gic}" if gic else machine
    cmd = [qemu, "-M", m, "-cpu", cpu, "-m", mem, "-smp", str(smp),
           "-display", "none", "-serial", "stdio", "-monitor", "none",
           "-no-reboot"]
    if semihosting:
        cmd += ["-semihosting-config", "enable=on,target=native"]
        args = (args + " hearth.semihosting").strip()
    if rng:
        cmd += ["-device", "virtio-rng-device"]
    if net is not None:
        fwd = "".join(f",hostfwd=tcp:127.0.0.1:{h}-{guest_ip}:{g}" for g, h in net.items())
        cmd += ["-netdev", f"user,id=n0{fwd}", "-device", "virtio-net-device,netdev=n0"]
    if kernel:
        cmd += ["-kernel", kernel, "-append", args]
    cmd += list(extra)
    return cmd


class Boot:
    """One running QEMU; lines() yields (host_time, text) as they arrive."""

    def __init__(self, cmd, timeout=60):
        self.cmd = cmd
        self.deadline = time.monotonic() + timeout
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.log = []  # (t, line)
        self._buf = b""

    def _read(self, wait):
        r, _, _ = select.select([self.proc.stdout], [], [], wait)
        if not r:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return None
        now = time.monotonic() - self.start
        self._buf += chunk
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            text = line.decode("utf-8", "replace").rstrip("\r")
            self.log.append((now, text))
        return True

    def wait_for(self, marker, timeout=None):
        """Host time at which a line containing marker arrived; raises on timeout/exit."""
        end = self.deadline if timeout is None else min(self.deadline, time.monotonic() + timeout)
        seen = 0
        while True:
            for t, line in self.log[seen:]:
                if marker in line:
                    return t
            seen = len(self.log)
            left = end - time.monotonic()
            if left <= 0:
                # A boot that missed its line is not used again: stop it, so
                # it holds no disk lock or port for the tests after it.
                text = self.text()
                self.kill()
                raise AssertionError(f"no line with {marker!r} in time\n" + text)
            r = self._read(min(left, 0.2))
            if r is None:
                raise AssertionError(f"QEMU ended before {marker!r}\n" + self.text())

    def wait_exit(self):
        """QEMU's exit code, after draining its output."""
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise AssertionError("QEMU did not exit in time\n" + self.text())
            if self._read(min(left, 0.2)) is None:
                break
        return self.proc.wait(timeout=10)

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def text(self):
        return "\n".join(line for _, line in self.log) + self._buf.decode("utf-8", "replace")

    def lines(self):
        return [line for _, line in self.log]


class MakeRun(Boot):
    """`make run` as a script would start it: stdin not a terminal, output to
    a pipe, in its own process group (stop() ends QEMU and make together)."""

    def __init__(self, env_extra, timeout=240):
        env = dict(os.environ, **env_extra)
        self.cmd = ["make", "-s", "run"]
        self.start = time.monotonic()
        self.deadline = self.start + timeout
        self.log, self._buf = [], b""
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)


def dump_dtb(path, machine="virt", gic=3, mem="256M", smp=1, extra=()):
    """The DTB QEMU would pass for this machine (same options as the boot)."""
    m = f"{machine},gic-version={gic},dumpdtb={path}"
    subprocess.run([QEMU, "-M", m, "-cpu", "cortex-a57", "-m", mem, "-smp", str(smp),
                    "-display", "none", "-device", "virtio-rng-device"] + list(extra),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Runner:
    """Collects named checks; prints PASS/FAIL per test and a summary."""

    def __init__(self):
        self.failed = []
        self.count = 0
        only = os.environ.get("E2E_ONLY")
        self.only = only.split(",") if only else None

    def run(self, fn):
        name = fn.__name__
        if self.only and not any(o in name for o in self.only):
            return
        self.count += 1
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            self.failed.append(name)
            print(f"FAIL {name} ({time.monotonic() - t0:.1f}s)\n{e}", flush=True)
            return
        print(f"PASS {name} ({time.monotonic() - t0:.1f}s)", flush=True)

    def finish(self):
        if self.failed:
            print(f"{len(self.failed)} of {self.count} failed: {', '.join(self.failed)}")
            sys.exit(1)
        print(f"all {self.count} passed")


def check(cond, msg, boot=None):
    if not cond:
        raise AssertionError(msg + (("\n--- console ---\n" + boot.text()) if boot else ""))


class XenDomU(Boot):
    """Xen 4.17 in QEMU with a Linux dom0 running the image as a PV domU:
    `scripts/run.sh xen-domu`, as `make run-xen-domu` starts it.

    The serial stream holds Xen's lines ("(XEN) ..."), dom0's ("dom0: [UPTIME] ...")
    and the domU's console relayed by dom0 ("[UPTIME] hearth| TEXT", so
    wait_for("hearth: serving https://") works as with Boot). The forwarded
    ports reach the domU (10.0.2.16): https_port -> 443, http_port -> 80.
    dom0(cmd) runs one shell command line in dom0 (xl, xenstore-*, domu ...).
    disk: a raw image for dom0's /dev/vda, given to the domU as xvda; None for none.
    autostart: what dom0 starts at boot: "hearth", "linux" (Debian's kernel as the
    domU, marker LINUX_MARKER) or "none"; linux=True adds the Linux domU anyway.
    """

    READY = "ready: commands on this console"
    LINUX_MARKER = "linux-domu: init reached"

    def __init__(self, args="", disk=None, https_port=None, http_port=None, autostart="hearth",
                 linux=False, image=IMAGE, timeout=300):
        import tempfile
        self.https_port = https_port or free_port()
        self.http_port = http_port or free_port()
        self._tmp = tempfile.mkdtemp(prefix="hearth-xen-")
        env = dict(os.environ, HEARTH_ARGS=args, HEARTH_DISK=disk or "none",
                   HEARTH_HTTPS_PORT=str(self.https_port), HEARTH_HTTP_PORT=str(self.http_port),
                   HEARTH_XEN_INITRD=os.path.join(self._tmp, "initrd.cpio"),
                   HEARTH_XEN_START=autostart, HEARTH_XEN_LINUX="1" if linux else "0")
        self.cmd = [os.path.join(ROOT, "scripts", "run.sh"), "xen-domu", os.path.dirname(image)]
        self.start = time.monotonic()
        self.deadline = self.start + timeout
        self.log, self._buf = [], b""
        self._seq = 0
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def dom0(self, cmd, timeout=60):
        """Runs cmd (one line of sh) in dom0; returns (exit status, its output).
        Waits for dom0's command loop first. Raises on timeout."""
        if "\n" in cmd or "\r" in cmd:
            raise ValueError("one command line at a time")
        self.wait_for(self.READY, timeout=timeout)
        self._seq += 1
        tag = f"dom0@h{self._seq}"
        seen = len(self.log)
        data = f"@h{self._seq} {cmd}\n".encode()
        # Xen keeps a small serial input ring for dom0: feed it in small bites.
        for i in range(0, len(data), 32):
            self.proc.stdin.write(data[i:i + 32])
            self.proc.stdin.flush()
            time.sleep(0.02)
        end = min(self.deadline, time.monotonic() + timeout)
        while True:
            for i in range(seen, len(self.log)):
                line = self.log[i][1]
                if line.startswith(tag + " rc="):
                    out = [l[len(tag) + 2:] for _, l in self.log[seen:i] if l.startswith(tag + "| ")]
                    return int(line[len(tag) + 4:]), "\n".join(out)
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"dom0 command {cmd!r} did not finish in time\n" + self.text())
            if self._read(min(left, 0.2)) is None:
                raise AssertionError(f"QEMU ended during dom0 command {cmd!r}\n" + self.text())

    @staticmethod
    def ended(name="hearth"):
        """The marker dom0 prints when domU name is gone (any way it went)."""
        return f"domU {name} ended"

    def mark(self):
        """A position in the log, for wait_uptime(after=...)."""
        return len(self.log)

    def wait_uptime(self, marker, after=0, timeout=None):
        """dom0's uptime stamp (seconds) on the first line with marker at or after
        log position after (dom0's own lines and relayed domU lines carry one)."""
        import re
        end = self.deadline if timeout is None else min(self.deadline, time.monotonic() + timeout)
        while True:
            for _, line in self.log[after:]:
                if marker in line:
                    m = re.search(r"\[(\d+\.\d+)\]", line)
                    if not m:
                        raise AssertionError(f"no dom0 time stamp on {line!r}")
                    return float(m.group(1))
            after = max(after, len(self.log))
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {marker!r} in time\n" + self.text())
            if self._read(min(left, 0.2)) is None:
                raise AssertionError(f"QEMU ended before {marker!r}\n" + self.text())

    def kill(self):
        import shutil
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self._tmp, ignore_errors=True)
