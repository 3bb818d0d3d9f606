#!/usr/bin/python3
"""test_boot.py: boot tests of the real qemu-virt image, observed from outside.

GICv2 and GICv3, 32 MB and 1 GB, 1 and 4 CPUs, legacy and modern virtio-mmio,
entry at EL1 and EL2; timer interrupts (a guest sleep measured against the host
clock); the binding table against the host tool hearth-dt on the same DTB;
deliberate faults and their crash reports (symbolized with addr2line);
missing/malformed DTBs and a missing interrupt controller; `make run` in the
background with stdin not a terminal. E2E_ONLY=name,... runs a subset.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import IMAGE, ROOT, Boot, MakeRun, Runner, check, dump_dtb, free_port, qemu_cmd  # noqa: E402

ELF = os.path.join(ROOT, "build", "qemu-virt", "hearth.elf")
HEARTH_DT = os.path.join(ROOT, "build", "tools", "hearth-dt")
TMP = tempfile.mkdtemp(prefix="hearth-e2e-")


def banner_checks(b, mem_mib, gic_driver, entered_el=None):
    text = b.text()
    check(re.search(r"^Hearth \d+\.\d+\.\d+ \(\w+\) for qemu-virt$", text, re.M) is not None,
          "no banner line", b)
    check("model:    linux,dummy-virt" in text, "no model line", b)
    check(re.search(r"cpu:\s+Cortex-A57 r\d+p\d+ \(aarch64\), EL1", text) is not None,
          "cpu line wrong", b)
    if entered_el:
        check(f"(entered at EL{entered_el})" in text, f"not entered at EL{entered_el}", b)
    check(re.search(rf"memory:\s+0x40000000-0x[0-9a-f]+ \({mem_mib} MiB\)", text) is not None,
          f"memory line does not say {mem_mib} MiB", b)
    check(re.search(rf"-> {gic_driver} \[ok\]", text) is not None, f"{gic_driver} not bound", b)
    check("-> arch_timer [ok]" in text, "timer not bound", b)
    check("-> pl011 [ok]" in text, "console not bound", b)
    check("-> psci [ok]" in text, "psci not bound", b)
    check("-> pl031 [ok]" in text, "RTC not bound", b)
    check("entropy:  ok" in text, "no entropy (virtio-rng)", b)
    check(re.search(r"time:\s+20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC", text) is not None,
          "no wall-clock time from the RTC", b)


def sleep_checks(b, ms):
    t0 = b.wait_for("SLEEP-START")
    t1 = b.wait_for("SLEEP-END")
    m = re.search(r"SLEEP-END ms=(\d+) asked=(\d+) irqs=(\d+)", b.text())
    check(m is not None, "no SLEEP-END line", b)
    guest_ms, irqs = int(m.group(1)), int(m.group(3))
    host_ms = (t1 - t0) * 1000
    check(guest_ms >= ms, f"guest slept {guest_ms} ms < {ms}", b)
    check(irqs >= 1, "the sleep ended without a timer interrupt", b)
    # The host sees the two lines about `ms` apart; a wide tolerance for TCG
    # on a loaded machine, but a timer that fires early or never is caught.
    check(0.9 * ms <= host_ms <= 1.6 * ms + 400,
          f"host measured {host_ms:.0f} ms for a {ms} ms sleep", b)


def test_gicv2_32m_sleep():
    b = Boot(qemu_cmd(gic=2, mem="32M", args="hearth.test=sleep:1000"))
    b.wait_for("Hearth booted")
    sleep_checks(b, 1000)
    rc = b.wait_exit()
    check(rc == 0, f"exit code {rc}, want 0", b)
    banner_checks(b, 32, "gicv2")


def test_gicv3_1g_smp4_modern_virtio():
    b = Boot(qemu_cmd(gic=3, mem="1G", smp=4, args="hearth.test=sleep:500",
                      extra=["-global", "virtio-mmio.force-legacy=false"]))
    sleep_checks(b, 500)
    rc = b.wait_exit()
    check(rc == 0, f"exit code {rc}", b)
    banner_checks(b, 1024, "gicv3")
    check(b.text().count("/cpus/cpu@") == 4, "4 CPU nodes expected", b)
    check("/virtio_mmio@a003e00  virtio,mmio  -> virtio_mmio [ok]" in b.text(),
          "the modern virtio-rng transport is not bound", b)


def test_el2_entry_gicv3():
    b = Boot(qemu_cmd(machine="virt,virtualization=on", gic=3, mem="256M",
                      args="hearth.test=sleep:200"))
    sleep_checks(b, 200)
    check(b.wait_exit() == 0, "exit code", b)
    banner_checks(b, 256, "gicv3", entered_el=2)


def test_el2_entry_gicv2():
    b = Boot(qemu_cmd(machine="virt,virtualization=on", gic=2, mem="64M",
                      args="hearth.test=sleep:200"))
    sleep_checks(b, 200)
    check(b.wait_exit() == 0, "exit code", b)
    banner_checks(b, 64, "gicv2", entered_el=2)


def test_exit_code_through_semihosting():
    b = Boot(qemu_cmd(args="hearth.test=exit:42"))
    check(b.wait_exit() == 42, "semihosting exit code 42 not seen", b)


def binding_lines(lines):
    """The binding table (the part both firmware and hearth-dt print)."""
    out = []
    for line in lines:
        m = re.match(r"^\s+(/\S*)\s\s(\S+)\s\s->\s(\S+)", line)
        if m:
            out.append(m.groups())
    return out


def test_bindings_match_hearth_dt():
    check(os.path.exists(HEARTH_DT), f"{HEARTH_DT} missing (make tools)")
    for gic, mem, smp in ((2, "32M", 1), (3, "1G", 4)):
        dtb = os.path.join(TMP, f"virt-{gic}-{mem}-{smp}.dtb")
        dump_dtb(dtb, gic=gic, mem=mem, smp=smp)
        b = Boot(qemu_cmd(gic=gic, mem=mem, smp=smp, args="hearth.test=exit:0"))
        check(b.wait_exit() == 0, "exit code", b)
        fw = binding_lines(b.lines())
        tool = subprocess.run([HEARTH_DT, dtb], capture_output=True, text=True, check=True)
        host = binding_lines(tool.stdout.splitlines())
        check(len(fw) > 20, f"firmware printed only {len(fw)} binding lines", b)
        # The firmware's DTB has /chosen filled in by QEMU; compare the rest.
        fw = [x for x in fw if not x[0].startswith("/chosen")]
        host = [x for x in host if not x[0].startswith("/chosen")]
        check(fw == host, "firmware and hearth-dt disagree:\n" +
              "\n".join(f"{a} | {c}" for a, c in zip(fw, host) if a != c), b)


def crash_case(how, want):
    b = Boot(qemu_cmd(mem="64M", args=f"hearth.crash={how}"))
    rc = b.wait_exit()
    text = b.text()
    check(f"CRASH-NOW {how}" in text, "the fault was not reached", b)
    if how == "panic":
        check(rc == 71, f"exit code {rc}, want 71", b)
        check("hearth: panic: deliberate panic" in text, "no panic line", b)
        check(re.search(r"#1\s+0x[0-9a-f]+\s+\(image \+0x[0-9a-f]+\)", text) is not None,
              "no backtrace", b)
        return
    check(rc == 70, f"exit code {rc}, want 70", b)
    for w in ["*** HEARTH CRASH: synchronous exception ***", "ESR_EL1", "FAR_EL1", "ELR_EL1",
              "x29 ", "x30 ", "backtrace", "*** end of crash report ***"] + want:
        check(w in text, f"crash report lacks {w!r}", b)
    m = re.search(r"ELR_EL1\s+0x[0-9a-f]+\s+\(image \+(0x[0-9a-f]+)\)", text)
    check(m is not None, "no ELR image offset", b)
    # The report's image offset must symbolize to where the fault really is.
    sym = subprocess.run(["aarch64-linux-gnu-addr2line", "-f", "-e", ELF, m.group(1)],
                         capture_output=True, text=True).stdout.split("\n")[0]
    expect = "recurse" if how == "stack" else "crash"
    check(sym == expect, f"ELR symbolizes to {sym!r}, want {expect!r}", b)
    frames = re.findall(r"#(\d+)\s+0x[0-9a-f]+\s+\(image \+(0x[0-9a-f]+)\)", text)
    check(len(frames) >= 3, "backtrace shorter than 3 frames", b)
    names = subprocess.run(["aarch64-linux-gnu-addr2line", "-f", "-e", ELF] +
                           [f for _, f in frames[:8]], capture_output=True,
                           text=True).stdout.split("\n")[0::2]
    check("hearth_main" in names or "hub_testhooks_start" in names or "recurse" in names,
          f"backtrace does not lead back to the caller: {names}", b)


def test_crash_null_pointer():
    crash_case("null", ["exception class 0x25: data abort", "a NULL pointer", "on a read"])


def test_crash_undefined_instruction():
    crash_case("undef", ["exception class 0x00: unknown reason (undefined instruction)"])


def test_crash_stack_overflow():
    crash_case("stack", ["exception class 0x25: data abort", "STACK OVERFLOW"])


def test_crash_panic():
    crash_case("panic", [])


def test_no_dtb():
    # The generic loader starts the CPU at the image with x0 = 0: no DTB.
    cmd = qemu_cmd(kernel=None, mem="64M") + [
        "-device", f"loader,file={IMAGE},addr=0x40200000,cpu-num=0"]
    b = Boot(cmd, timeout=30)
    try:
        b.wait_for("hearth: cannot boot: no device tree was passed")
        time.sleep(0.3)
        lines = [x for x in b.lines() if x.strip()]
        check(lines[0].startswith("hearth: cannot boot"), "more than one line before it", b)
    finally:
        b.kill()


def test_no_interrupt_controller():
    dtb = os.path.join(TMP, "nogic.dtb")
    dump_dtb(dtb, gic=3, mem="64M")
    subprocess.run(["fdtput", "-r", dtb, "/intc@8000000"], check=True)
    b = Boot(qemu_cmd(gic=3, mem="64M", extra=["-dtb", dtb]))
    rc = b.wait_exit()
    check("hearth: cannot boot: no interrupt controller in the device tree" in b.text(),
          "no clear line about the missing GIC", b)
    check(rc == 2, f"exit code {rc}, want 2", b)


def corrupt_a_property_name(path):
    """Points one property's name offset far outside the strings block: QEMU
    copies the blob without walking it, Hearth must refuse it."""
    data = bytearray(open(path, "rb").read())
    off_struct, off_strings = struct.unpack(">II", data[8:16])
    size_struct = struct.unpack(">I", data[36:40])[0]
    pos, end, hits = off_struct, off_struct + size_struct, 0
    while pos < end:
        tok = struct.unpack(">I", data[pos:pos + 4])[0]
        pos += 4
        if tok == 1:  # BEGIN_NODE: name, NUL-terminated, padded
            name_end = data.index(b"\0", pos)
            name = bytes(data[pos:name_end])
            pos = (name_end + 1 + 3) & ~3
            in_timer = name == b"timer"
        elif tok == 3:  # PROP: len, nameoff, value
            length = struct.unpack(">I", data[pos:pos + 4])[0]
            if in_timer:
                struct.pack_into(">I", data, pos + 4, 0x7ffffff0)
                hits += 1
                break
            pos = (pos + 8 + length + 3) & ~3
        elif tok in (2, 4):
            in_timer = False
        elif tok == 9:
            break
    assert hits == 1, "no property found in /timer"
    open(path, "wb").write(data)
    del off_strings


def test_malformed_dtb():
    dtb = os.path.join(TMP, "bad.dtb")
    dump_dtb(dtb, gic=3, mem="64M")
    corrupt_a_property_name(dtb)
    # Its bootargs cannot be trusted either (no semihosting exit): the test
    # ends on the line, which must be the first and only thing said.
    b = Boot(qemu_cmd(gic=3, mem="64M", extra=["-dtb", dtb]), timeout=30)
    try:
        b.wait_for("hearth: cannot boot: the device tree at 0x")
        time.sleep(0.3)
        lines = [x for x in b.lines() if x.strip()]
        check(re.match(r"hearth: cannot boot: the device tree at 0x[0-9a-f]+ is malformed: \w",
                       lines[0]) is not None, "no clear line about the malformed DTB", b)
        check(not any("Hearth booted" in x for x in lines), "booted anyway", b)
    finally:
        b.kill()


def test_make_run_in_background():
    # As a script would: stdin not a terminal, output to a pipe.
    b = MakeRun({"HEARTH_MEM": "64M", "HEARTH_DISK": "none", "HEARTH_HTTPS_PORT": str(free_port()),
                 "HEARTH_HTTP_PORT": str(free_port())})
    try:
        b.wait_for("hearth: running")
        time.sleep(2)
        check(b.alive(), "make run stopped on its own", b)
        banner_checks(b, 64, "gicv3")
    finally:
        b.kill()


if __name__ == "__main__":
    r = Runner()
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            r.run(fn)
    r.finish()
