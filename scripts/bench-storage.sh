#!/bin/sh
# bench-storage.sh: inserts per second through Hearth's VFS on a file-backed
# blkdev against SQLite's unix VFS, same machine, same file system, same
# pragmas; prints both and the ratio (never gates anything on a time).
# Builds build/storage/bench/bench_store (-O2, no sanitizers) from the same
# SQLite amalgamation, compiled here with the unix VFS (not SQLITE_OS_OTHER).
# Environment: BENCH_DIR (where the files go; default build/storage/bench;
# put it on the file system you care about), BENCH_SINGLE, BENCH_BATCH.
set -e
cd "$(dirname "$0")/.."
B=build/storage/bench
dir=${BENCH_DIR:-$B}
make -s -f tests/storage.mk build/third_party/sqlite3-amalg/.stamp
mkdir -p "$B" "$dir"
A=build/third_party/sqlite3-amalg
opts="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_TEMP_STORE=3 \
-DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_DQS=0 -DSQLITE_MAX_MMAP_SIZE=0"
if [ ! -f $B/sqlite3.o ] || [ $A/sqlite3.c -nt $B/sqlite3.o ]; then
	echo "  HOSTCC  $A/sqlite3.c (unix VFS, -O2)"
	gcc -O2 -w $opts -c $A/sqlite3.c -o $B/sqlite3.o
fi
echo "  HOSTLD  $B/bench_store"
gcc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE $opts -Iboards/include -Iarch/include -I$A \
	tests/storage/bench_store.c hub/store/disk.c hub/store/vfs.c tests/storage/faultdev.c \
	$B/sqlite3.o -lm -o $B/bench_store
$B/bench_store "$dir" "${BENCH_SINGLE:-300}" "${BENCH_BATCH:-20000}"

# The same single-row commits through virtio-blk in QEMU (TCG): the image's
# store-writer test hook commits numbered records one transaction each and
# prints ACK n when each commit returned; the rate is timed from outside.
make -s BOARD=qemu-virt >/dev/null
truncate -s 0 "$B/qemu-disk.img" && truncate -s 32M "$B/qemu-disk.img"
/usr/bin/python3 - "$B/qemu-disk.img" "${BENCH_SINGLE:-300}" "$($B/bench_store "$dir" 100 1000 | awk '/^single-row/ {print $4}')" <<'PY'
import subprocess, sys, time
disk, n, unix = sys.argv[1], int(sys.argv[2]), float(sys.argv[3] or 0)
p = subprocess.Popen(["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "64M",
    "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
    "-device", "virtio-rng-device", "-drive", f"file={disk},if=none,format=raw,id=d0",
    "-device", "virtio-blk-device,drive=d0", "-kernel", "build/qemu-virt/hearth.img",
    "-append", f"hearth.test=store-writer:{n + 10}"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
t1 = tn = None
for line in p.stdout:
    if line.startswith(b"ACK 10\r") or line.strip() == b"ACK 10":
        t1 = time.monotonic()
    if line.strip() == f"ACK {n + 10}".encode():
        tn = time.monotonic()
        break
p.kill(); p.wait()
if t1 and tn:
    rate = n / (tn - t1)
    print(f"single-row transactions through virtio-blk in QEMU: {rate:.0f}/s; "
          f"ratio to the unix VFS on the host: {rate / unix:.2f}" if unix else f"{rate:.0f}/s")
else:
    print("QEMU store-writer run did not finish")
PY
