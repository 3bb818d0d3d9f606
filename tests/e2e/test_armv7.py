#!/usr/bin/python3
"""test_armv7.py: the ARMv7 image (BOARD=cubieboard2: Cortex-A7, Thumb-2) on
QEMU's 32-bit virt machine, observed from outside like the aarch64 suites.

The file is a zImage (magic, start, end as loaders read them); the boot report
(CPU, memory, GICv2 and GICv3, the ARMv7 timer, the virtio devices, entropy)
and its binding table against the host tool hearth-dt on QEMU's 32-bit DTB;
entry in HYP mode dropping to SVC; an Allwinner H3 board (QEMU's orangepi-pc
with Linux's DTB: the A20's 16550 UART and GIC-400); timer interrupts against
the host clock; deliberate faults give a readable crash report whose PC
symbolizes to the faulting function and whose backtrace (the unwind tables)
names every caller, and the semihosting exit codes; HTTPS over the forwarded
port with the certificate the console printed (test_net's own checks, on this
image); data written on a virtio-blk disk survives a reboot (test_storage's
helpers); `make run BOARD=cubieboard2`. E2E_ONLY=name,... runs a subset.
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import (ARMV7, IMAGE_ARMV7, ROOT, Boot, MakeRun, Runner, check, free_port,  # noqa: E402
                     qemu_cmd)
import test_net  # noqa: E402
import test_storage  # noqa: E402

ELF = os.path.join(ROOT, "build", "cubieboard2", "hearth.elf")
TMP = tempfile.mkdtemp(prefix="hearth-armv7-")
MiB = 1024 * 1024


def symbol(offset):
    """The function at an image offset (the image is linked at 0)."""
    out = subprocess.run(["arm-none-eabi-addr2line", "-f", "-e", ELF, offset],
                         capture_output=True, text=True).stdout
    return out.split("\n")[0]


def test_armv7_image_is_a_zimage():
    data = open(IMAGE_ARMV7, "rb").read()
    magic, start, end, endian = struct.unpack_from("<IIII", data, 0x24)
    check(magic == 0x016F2818, f"zImage magic at 0x24 is {magic:#x}")
    check(start == 0, f"start at 0x28 is {start:#x}: not position-independent")
    check(end == len(data), f"end at 0x2c is {end}, the file has {len(data)} bytes")
    check(endian == 0x04030201, f"endianness word {endian:#x}")
    # The first instruction branches (ARM state, as loaders enter it).
    check(data[0x23] == 0xEA, "no ARM branch at 0x20")
    hdr = subprocess.run(["arm-none-eabi-readelf", "-hA", ELF], capture_output=True,
                         text=True).stdout
    check("DYN (Position-Independent Executable file)" in hdr, f"not a static PIE:\n{hdr}")
    check("Tag_THUMB_ISA_use: Thumb-2" in hdr and "Tag_ABI_VFP_args: VFP registers" in hdr,
          f"not Thumb-2 hard-float:\n{hdr}")


def banner_checks(b, mem_mib, gic_driver, entered):
    text = b.text()
    check(re.search(r"^Hearth \d+\.\d+\.\d+ \(\w+\) for cubieboard2$", text, re.M) is not None,
          "no banner line", b)
    check(re.search(rf"cpu:\s+Cortex-A7 r\d+p\d+ \(armv7, Thumb-2\), EL1 \(entered at EL{entered}\)",
                    text) is not None, "cpu line wrong", b)
    check(re.search(rf"memory:\s+0x40000000-0x[0-9a-f]+ \({mem_mib} MiB\)", text) is not None,
          f"memory line does not say {mem_mib} MiB", b)
    check(re.search(r"image:\s+0x4[0-9a-f]+-0x4[0-9a-f]+ \(\d+ KiB with stacks\); page tables \d+/\d+",
                    text) is not None, "no image line", b)
    check(re.search(rf"-> {gic_driver} \[ok\]", text) is not None, f"{gic_driver} not bound", b)
    check("/timer  arm,armv7-timer  -> arch_timer [ok]" in text, "timer not bound", b)
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
    check(int(m.group(1)) >= ms, f"guest slept {m.group(1)} ms < {ms}", b)
    check(int(m.group(3)) >= 1, "the sleep ended without a timer interrupt", b)
    host_ms = (t1 - t0) * 1000
    check(0.9 * ms <= host_ms <= 1.6 * ms + 400, f"host measured {host_ms:.0f} ms for {ms} ms", b)


def test_armv7_boot_report_gicv2_virtio():
    disk = test_storage.disk("report.img")
    b = Boot(qemu_cmd(gic=2, mem="64M", args="hearth.test=sleep:500",
                      extra=test_storage.drive(disk) +
                      ["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"],
                      **ARMV7))
    sleep_checks(b, 500)
    check(b.wait_exit() == 0, "exit code", b)
    banner_checks(b, 64, "gicv2", 1)
    text = b.text()
    check(text.count("-> virtio_mmio [ok]") == 3, "rng, net and blk: 3 virtio transports bound", b)
    check(re.search(r"^store: vda: formatted an empty disk", text, re.M) is not None,
          "the disk was not formatted", b)
    check("net: eth0 MAC 52:54:00:12:34:56" in text, "no network device", b)


def binding_lines(lines):
    """The binding table (the part both firmware and hearth-dt print), /chosen
    left out (QEMU fills it in for the boot only)."""
    out = []
    for line in lines:
        m = re.match(r"^\s+(/\S*)\s\s(\S+)\s\s->\s(\S+)", line)
        if m and not m.group(1).startswith("/chosen"):
            out.append(m.groups())
    return out


def test_armv7_bindings_match_hearth_dt():
    tool = os.path.join(ROOT, "build", "tools", "hearth-dt")
    check(os.path.exists(tool), f"{tool} missing (make tools)")
    dtb = os.path.join(TMP, "virt-arm.dtb")
    subprocess.run(["qemu-system-arm", "-M", f"virt,gic-version=2,dumpdtb={dtb}", "-cpu",
                    "cortex-a7", "-m", "64M", "-display", "none", "-device", "virtio-rng-device"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b = Boot(qemu_cmd(gic=2, mem="64M", args="hearth.test=exit:0", **ARMV7))
    check(b.wait_exit() == 0, "exit code", b)
    fw = binding_lines(b.lines())
    host = binding_lines(subprocess.run([tool, dtb], capture_output=True, text=True,
                                        check=True).stdout.splitlines())
    check(len(fw) > 20, f"firmware printed only {len(fw)} binding lines", b)
    check(fw == host, "firmware and hearth-dt disagree:\n" +
          "\n".join(f"{a} | {c}" for a, c in zip(fw, host) if a != c), b)


def test_armv7_hyp_entry_gicv3():
    b = Boot(qemu_cmd(machine="virt,virtualization=on", gic=3, mem="128M",
                      args="hearth.test=sleep:200", **ARMV7))
    sleep_checks(b, 200)
    check(b.wait_exit() == 0, "exit code", b)
    banner_checks(b, 128, "gicv3", 2)


def test_armv7_no_dtb():
    # QEMU's generic loader starts the CPU at the image with r2 = 0: no DTB.
    cmd = qemu_cmd(gic=2, mem="64M", **{**ARMV7, "kernel": None}) + [
        "-device", f"loader,file={IMAGE_ARMV7},addr=0x40200000,cpu-num=0"]
    b = Boot(cmd, timeout=30)
    try:
        b.wait_for("hearth: cannot boot: no device tree was passed (r2 = 0)")
        lines = [x for x in b.lines() if x.strip()]
        check(lines[0].startswith("hearth: cannot boot"), "more than one line before it", b)
    finally:
        b.kill()


def test_armv7_exit_code_through_semihosting():
    b = Boot(qemu_cmd(gic=2, mem="32M", args="hearth.test=exit:42", **ARMV7))
    check(b.wait_exit() == 42, "semihosting exit code 42 not seen", b)


def crash_case(how, want, pc_in):
    b = Boot(qemu_cmd(gic=2, mem="64M", args=f"hearth.crash={how}", **ARMV7))
    rc = b.wait_exit()
    text = b.text()
    check(f"CRASH-NOW {how}" in text, "the fault was not reached", b)
    check(rc == 70, f"exit code {rc}, want 70", b)
    for w in ["in SVC mode, Thumb state", "PC   0x", "CPSR", "r12 ", "sp  ", "lr  ",
              "backtrace", "*** end of crash report ***"] + want:
        check(w in text, f"crash report lacks {w!r}", b)
    m = re.search(r"^PC\s+0x[0-9a-f]+\s+\(image \+(0x[0-9a-f]+)\)", text, re.M)
    check(m is not None, "no PC image offset", b)
    check(symbol(m.group(1)) == pc_in, f"PC symbolizes to {symbol(m.group(1))!r}, want {pc_in!r}", b)
    frames = re.findall(r"#(\d+)\s+0x[0-9a-f]+\s+\(image \+(0x[0-9a-f]+)\)", text)
    check(len(frames) >= 3, "backtrace shorter than 3 frames", b)
    # The unwind tables lead through every caller down to the entry from head.S.
    names = [symbol(f) for _, f in frames]
    check(names[0] == pc_in and names[-2:] == ["hearth_main", "arch_start"],
          f"backtrace does not lead back through the callers: {names}", b)
    check("stale" not in text, "the backtrace fell back to a stack scan", b)
    return text


def test_armv7_crash_null_pointer():
    crash_case("null", ["*** HEARTH CRASH: data abort ***", "a NULL pointer", "on a read",
                        "translation fault (unmapped)", "DFSR 0x", "DFAR 0x00000008"], "crash")


def test_armv7_crash_undefined_instruction():
    crash_case("undef", ["*** HEARTH CRASH: undefined instruction ***", "instruction deff (Thumb)"],
               "crash")


def test_armv7_crash_stack_overflow():
    text = crash_case("stack", ["*** HEARTH CRASH: data abort ***", "STACK OVERFLOW", "on a write"],
                      "recurse")
    m = re.search(r"#1\s.*\n\s+\(the line above (\d+) more times\)", text)
    check(m is not None and int(m.group(1)) > 50, "the recursion is not folded into one line")


def test_armv7_crash_panic():
    b = Boot(qemu_cmd(gic=2, mem="64M", args="hearth.crash=panic", **ARMV7))
    rc = b.wait_exit()
    check(rc == 71, f"exit code {rc}, want 71", b)
    check("hearth: panic: deliberate panic" in b.text(), "no panic line", b)
    frames = re.findall(r"#\d+\s+0x[0-9a-f]+\s+\(image \+(0x[0-9a-f]+)\)", b.text())
    names = [symbol(f) for f in frames]
    check(names == ["crash", "hearth_main", "arch_start"],
          f"the panic's backtrace is not its callers: {names}", b)


def h3_dtb():
    """Orange Pi PC's DTB (Allwinner H3) from Debian's armhf kernel package,
    the one third_party.lock pins for the A20's (tests/unit/fetch-dtbs.sh)."""
    pkg = next(line.split()[2] for line in open(os.path.join(ROOT, "third_party.lock"))
               if re.match(r"deb armhf linux-image-\S+-armmp ", line))
    dest = os.path.join(ROOT, "build", "dtbs", "sun8i-h3-orangepi-pc.dtb")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    subprocess.run([os.path.join(ROOT, "scripts", "fetch-deb-file.sh"), "armhf", pkg,
                    "./usr/lib/linux-image-*/sun8i-h3-orangepi-pc.dtb", dest], check=True)
    return dest


def test_armv7_allwinner_h3():
    # The closest QEMU has to the A20: an Allwinner H3 (Cortex-A7) with the same
    # DesignWare 16550 UART and GIC-400 at the same addresses, entered in HYP,
    # its devices from Linux's own DTB for the board; no virtio, no rng.
    extra = ["-dtb", h3_dtb()]
    b = Boot(qemu_cmd(machine="orangepi-pc", gic=None, mem="1G", smp=4, rng=False,
                      args="hearth.test=sleep:300", extra=extra, **ARMV7))
    sleep_checks(b, 300)
    check(b.wait_exit() == 0, "exit code", b)
    text = b.text()
    for want in ["model:    Xunlong Orange Pi PC", "/soc/serial@1c28000  snps,dw-apb-uart  -> ns16550 [ok]",
                 "arm,gic-400  -> gicv2 [ok]", "/timer  arm,armv7-timer  -> arch_timer [ok]",
                 "-> psci [ok]", "entropy:  NONE"]:
        check(want in text, f"no {want!r}", b)
    check(re.search(r"cpu:\s+Cortex-A7 r\d+p\d+ \(armv7, Thumb-2\), EL1 \(entered at EL2\)", text)
          is not None, "cpu line wrong", b)
    check(re.search(r"memory:\s+0x40000000-0x80000000 \(1024 MiB\)", text) is not None,
          "memory line wrong", b)
    # A crash report through the 16550.
    b = Boot(qemu_cmd(machine="orangepi-pc", gic=None, mem="1G", smp=4, rng=False,
                      args="hearth.crash=null", extra=extra, **ARMV7))
    check(b.wait_exit() == 70, "crash exit code", b)
    check("*** HEARTH CRASH: data abort ***" in b.text() and "*** end of crash report ***" in b.text(),
          "no crash report on the 16550", b)


def test_armv7_https():
    d = test_net.Device(args="hearth.testapi hearth.http.idle_ms=3000 hearth.http.header_ms=2000",
                        gic=2, **ARMV7)
    test_net.DEV = d
    try:
        status, _, body = d.get("/api/v1/health")
        h = json.loads(body)
        check(status == 200 and h["status"] == "ok" and h["board"] == "cubieboard2",
              f"health: {status} {h}", d.boot)
        check(h["network"]["ipv4"] == "10.0.2.15" and h["tls"]["fingerprint"] == d.fingerprint,
              f"health: {h}", d.boot)
        # test_net's checks, as they run on the aarch64 image: the served
        # certificate against the console's fingerprint and pin, keep-alive
        # and pipelining, 1 MB each way, every malformed request.
        test_net.test_certificate_matches_console()
        test_net.test_keep_alive_and_pipelining()
        test_net.test_one_megabyte_up_and_down()
        test_net.test_malformed_requests()
    finally:
        test_net.DEV = None
        d.stop()


def test_armv7_make_run():
    # `make run BOARD=cubieboard2` as a script starts it: the recipe in
    # scripts/run.sh, its forwarded ports, the redirect from the HTTP one.
    https, http = free_port(), free_port()
    b = MakeRun({"BOARD": "cubieboard2", "HEARTH_MEM": "64M", "HEARTH_DISK": "none",
                 "HEARTH_HTTPS_PORT": str(https), "HEARTH_HTTP_PORT": str(http)})
    try:
        b.wait_for("hearth: serving https://")
        check(re.search(r"cpu:\s+Cortex-A7 .*\(armv7, Thumb-2\)", b.text()) is not None,
              "make run did not boot the ARMv7 image", b)
        r = subprocess.run(["curl", "-sSkL", "--max-time", "20",
                            f"http://127.0.0.1:{http}/api/v1/health"], capture_output=True, text=True)
        check(r.returncode == 0 and json.loads(r.stdout)["board"] == "cubieboard2",
              f"health through the forwarded ports: {r.stdout} {r.stderr}", b)
    finally:
        b.kill()


def test_armv7_data_survives_reboot():
    path = test_storage.disk("armv7-survive.img", 16 * MiB)
    b = test_storage.write_records(path, 25, gic=2, **ARMV7)
    check("formatted an empty disk" in test_storage.store_line(b), "the first boot did not format", b)
    mx, count, cb = test_storage.check_boot(path, gic=2, **ARMV7)
    check(mx == 25 and count == 25, f"second boot sees {mx}/{count}, wrote 25", cb)
    check("formatted" not in test_storage.store_line(cb), "the second boot formatted again", cb)


if __name__ == "__main__":
    r = Runner()
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            r.run(fn)
    r.finish()
