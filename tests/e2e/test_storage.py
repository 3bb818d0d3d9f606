#!/usr/bin/python3
"""test_storage.py: the store on virtio-blk in QEMU, observed from outside.

Kill-and-reboot: a writer commits numbered records and prints "ACK n" after
each commit returns; QEMU is killed with SIGKILL at a random moment; the next
boot from the same image must pass PRAGMA integrity_check and hold every
ACKed record, with no gaps (several rounds, legacy and modern virtio-mmio).
Data written in one boot is read in the next. Bad disks: all zero (formats),
random garbage, truncated, a newer format version, damaged superblocks,
read-only (formatted: opens read-only; empty: refused): each gives its one
clear line, the boot goes on, and the image's hash is unchanged where
nothing may be written. No disk at all: one line, the boot goes on.
E2E_ONLY=name,... runs a subset; STORAGE_SEED=N fixes the random kill times.
"""
import hashlib
import os
import random
import re
import shutil
import signal
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Boot, Runner, check, qemu_cmd  # noqa: E402

TMP = tempfile.mkdtemp(prefix="hearth-storage-")
SEED = int(os.environ.get("STORAGE_SEED", str(int(time.time()))))
RNG = random.Random(SEED)
MiB = 1024 * 1024


def disk(name, size=16 * MiB, fill=None):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        if fill is None:
            f.truncate(size)
        else:
            f.write(fill(size))
    return path


def drive(path, readonly=False, modern=False):
    ro = ",readonly=on" if readonly else ""
    extra = ["-drive", f"file={path},if=none,format=raw,id=d0{ro}",
             "-device", "virtio-blk-device,drive=d0"]
    if modern:
        extra += ["-global", "virtio-mmio.force-legacy=false"]
    return extra


def boot(path, test, readonly=False, modern=False, timeout=60, **qemu_kw):
    """qemu_kw: more qemu_cmd keywords (test_armv7 passes the ARMv7 image's)."""
    return Boot(qemu_cmd(mem="64M", args=f"hearth.test={test}",
                         extra=drive(path, readonly, modern), **qemu_kw), timeout=timeout)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def store_line(b):
    m = re.search(r"^store: .*$", b.text(), re.M)
    check(m is not None, "no 'store:' line at boot", b)
    return m.group(0)


def check_boot(path, modern=False, **qemu_kw):
    """Boots store-check; returns (max, count)."""
    b = boot(path, "store-check", modern=modern, **qemu_kw)
    code = b.wait_exit()
    m = re.search(r"STORE-CHECK integrity=(\w+) max=(\d+) count=(\d+)", b.text())
    check(m is not None, "no STORE-CHECK line", b)
    check(m.group(1) == "ok", f"integrity {m.group(1)}", b)
    check(code == 0, f"store-check exit code {code}", b)
    return int(m.group(2)), int(m.group(3)), b


def write_records(path, n, modern=False, **qemu_kw):
    b = boot(path, f"store-writer:{n}", modern=modern, **qemu_kw)
    code = b.wait_exit()
    check(code == 0 and "STORE-WRITER done" in b.text(), f"writer exit code {code}", b)
    return b


def formatted_image(name, records=30):
    path = disk(name)
    write_records(path, records)
    return path


def kill_rounds(modern):
    path = disk(f"kill-{'v2' if modern else 'v1'}.img", 32 * MiB)
    acked = 0
    for rnd in range(4):
        b = boot(path, "store-writer", modern=modern)
        b.wait_for("ACK ")
        time.sleep(RNG.uniform(0.05, 1.5))
        b.proc.send_signal(signal.SIGKILL)
        b.proc.wait()
        b._read(0.2)  # whatever was still in the pipe
        acks = [int(x) for x in re.findall(r"^ACK (\d+)", b.text(), re.M)]
        check(acks, f"round {rnd}: no ACK before the kill", b)
        last = acks[-1]
        check(last > acked, f"round {rnd}: the writer did not get past {acked}", b)
        mx, count, cb = check_boot(path, modern)
        check(mx >= last, f"round {rnd} (seed {SEED}): ACKed record {last} missing, "
              f"store ends at {mx}", cb)
        check(count == mx, f"round {rnd}: {count} records for 1..{mx}: a gap", cb)
        acked = mx
    print(f"  {'modern' if modern else 'legacy'}: 4 kills, {acked} records, seed {SEED}")


def test_kill_and_reboot_legacy():
    kill_rounds(False)


def test_kill_and_reboot_modern():
    kill_rounds(True)


def test_data_survives_reboot():
    path = disk("survive.img")
    b = write_records(path, 25)
    check("formatted an empty disk" in store_line(b), "the first boot did not format", b)
    mx, count, cb = check_boot(path)
    check(mx == 25 and count == 25, f"second boot sees {mx}/{count}, wrote 25", cb)
    check("formatted" not in store_line(cb), "the second boot formatted again", cb)
    write_records(path, 40)
    mx, count, cb = check_boot(path)
    check(mx == 40 and count == 40, f"third boot sees {mx}/{count}, wrote 40", cb)


def refused(path, words, readonly=False):
    before = sha(path)
    b = boot(path, "exit:0", readonly=readonly)
    code = b.wait_exit()
    line = store_line(b)
    for w in words:
        check(w in line, f"store line lacks {w!r}: {line}", b)
    check(code == 0 and "TEST-EXIT 0" in b.text(), "the boot did not go on", b)
    check(sha(path) == before, "the disk image changed", b)
    return b


def test_zero_disk_formats():
    path = disk("zero.img", 8 * MiB)
    b = boot(path, "exit:0")
    b.wait_exit()
    line = store_line(b)
    check("formatted an empty disk" in line and "integrity ok" in line, line, b)
    with open(path, "rb") as f:
        check(f.read(8) == b"HEARTHST", "no superblock written", b)


def test_garbage_disk_refused():
    path = disk("garbage.img", 8 * MiB, fill=lambda n: RNG.randbytes(n))
    refused(path, ["not a Hearth store and not empty", "left untouched",
                   "storage unavailable"])


def test_small_nonzero_disk_refused():
    # A disk that is zero except for one sector in the middle: not ours.
    def fill(n):
        data = bytearray(n)
        data[n // 2:n // 2 + 512] = b"\x5a" * 512
        return bytes(data)
    refused(disk("speck.img", 8 * MiB, fill=fill), ["not a Hearth store", "left untouched"])


def test_truncated_disk_refused():
    path = formatted_image("trunc.img")
    with open(path, "r+b") as f:
        f.truncate(4 * MiB)
    refused(path, ["truncated", "left untouched", "storage unavailable"])


def test_newer_format_refused():
    path = formatted_image("newer.img")
    with open(path, "r+b") as f:
        for off in (0, 4096):
            f.seek(off + 8)
            f.write(struct.pack("<I", 2))
    refused(path, ["store format 2 is newer than this firmware's (1)", "left untouched"])


def test_damaged_superblocks_refused():
    path = formatted_image("damaged.img")
    with open(path, "r+b") as f:
        for off in (0, 4096):
            f.seek(off + 64)
            f.write(b"\xff" * 8)  # lengths changed, checksums not
    refused(path, ["both superblocks are damaged", "left untouched"])


def test_readonly_disk():
    path = formatted_image("ro.img", records=12)
    b = refused(path, ["(read-only)", "integrity ok"], readonly=True)
    before = sha(path)
    cb = boot(path, "store-check", readonly=True)
    code = cb.wait_exit()
    check("STORE-CHECK integrity=ok max=12 count=12" in cb.text() and code == 0,
          "read-only store-check", cb)
    wb = boot(path, "store-writer:5", readonly=True)
    wb.wait_exit()
    check("STORE-WRITER done" not in wb.text(), "wrote to a read-only disk", wb)
    check(sha(path) == before, "the read-only image changed", wb)
    del b


def test_readonly_empty_disk_refused():
    path = disk("ro-empty.img", 8 * MiB)
    refused(path, ["read-only disk holds no store", "storage unavailable"], readonly=True)


def test_no_disk():
    b = Boot(qemu_cmd(mem="64M", args="hearth.test=exit:0"))
    code = b.wait_exit()
    check("store: no disk (no block device): storage unavailable" in b.text(),
          "no 'no disk' line", b)
    check(code == 0, "the boot did not go on without a disk", b)


def main():
    r = Runner()
    print(f"test_storage: seed {SEED} (STORAGE_SEED={SEED} repeats the kill times)")
    for t in (test_no_disk, test_zero_disk_formats, test_data_survives_reboot,
              test_kill_and_reboot_legacy, test_kill_and_reboot_modern,
              test_garbage_disk_refused, test_small_nonzero_disk_refused,
              test_truncated_disk_refused, test_newer_format_refused,
              test_damaged_superblocks_refused, test_readonly_disk,
              test_readonly_empty_disk_refused):
        r.run(t)
    shutil.rmtree(TMP, ignore_errors=True)
    r.finish()


if __name__ == "__main__":
    main()
