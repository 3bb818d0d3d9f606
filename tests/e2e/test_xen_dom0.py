#!/usr/bin/python3
"""test_xen_dom0.py: the same qemu-virt image as Xen's dom0.

Xen 4.17 for arm64 (Debian's xen-hypervisor-4.17-arm64, fetched and pinned
like every other third-party file) boots inside QEMU with EL2; Hearth is its
dom0 with the virtio devices (1:1 memory, so virtio DMA works unchanged) and
its console on the console_io hypercall. Checked from outside: the boot
report through Xen's console, and HTTPS health through the forwarded
virtio-net. Also: on bare QEMU the Xen driver binds to nothing (no
/hypervisor node, so no hypercall is ever made). The PV domU is
test_xen_domu.py's.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import IMAGE, ROOT, Boot, Runner, check, free_port, qemu_cmd  # noqa: E402

XEN = os.path.join(ROOT, "build", "xen", "xen-4.17-arm64")


def fetch_xen():
    if not os.path.exists(XEN):
        subprocess.run([os.path.join(ROOT, "scripts", "fetch-deb-file.sh"), "arm64",
                        "xen-hypervisor-4.17-arm64", "./boot/xen-4.17-arm64", XEN], check=True)


def test_dom0_serves_https():
    fetch_xen()
    port = free_port()
    cmd = ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=3", "-cpu", "cortex-a57",
           "-m", "1G", "-smp", "1", "-display", "none", "-serial", "stdio", "-monitor", "none",
           "-no-reboot", "-kernel", XEN,
           "-append", "console=dtuart dtuart=/pl011@9000000 dom0_mem=128M loglvl=all guest_loglvl=all",
           "-device", f"guest-loader,addr=0x49000000,kernel={IMAGE},bootargs=hearth.testapi",
           "-device", "virtio-rng-device",
           "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:443",
           "-device", "virtio-net-device,netdev=n0"]
    b = Boot(cmd, timeout=240)
    try:
        b.wait_for("hearth: serving https://", timeout=180)
        text = b.text()
        check("/hypervisor  xen,xen-4.17  -> xen [ok]" in text,
              "the dom0 console is not the console_io hypercall", b)
        check(re.search(r"memory:\s+0x70000000-0x78000000 \(128 MiB\)", text) is not None,
              "dom0's 1:1 memory bank (dom0_mem=128M) not reported", b)
        check("-> pl011" not in text, "a PL011 bound under Xen (Xen keeps the UART)", b)
        check("xen: Xen 4.17, dom0" in text, "the Xen driver did not report dom0", b)
        r = subprocess.run(["curl", "-sSk", "--max-time", "30", f"https://127.0.0.1:{port}/api/v1/health"],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"no HTTPS from dom0: {r.stderr}", b)
        h = json.loads(r.stdout)
        check(h["status"] == "ok" and h["network"]["ipv4"] == "10.0.2.15", f"health: {h}", b)
    finally:
        b.kill()


def test_bare_qemu_takes_no_xen_path():
    b = Boot(qemu_cmd(mem="64M", args="hearth.test=exit:0"))
    rc = b.wait_exit()
    check(rc == 0, f"exit {rc}", b)
    check("-> xen " not in b.text() and "/hypervisor" not in b.text(),
          "Xen paths on bare QEMU", b)
    check("-> pl011 [ok]" in b.text(), "bare QEMU console is not the PL011", b)


if __name__ == "__main__":
    r = Runner()
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            r.run(fn)
    r.finish()
