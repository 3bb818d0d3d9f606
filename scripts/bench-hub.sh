#!/bin/sh
# bench-hub.sh: the hub's two rates, records ingested per second (POST
# /api/v1/records, device token, batches) and records released per second
# (POST /api/v1/share: decide + transform + audit), against a baseline of
# plain SQLite inserts and selects of the same records, as ratios:
#   baseline: Debian's python3 sqlite3 on a file in build/bench/hub (a table
#             like the hub's records, the hub's pragmas, BATCH per commit);
#   host:     build/host-bench/hearth (no sanitizers, -O2, like bench-net.sh)
#             on a fresh file disk, through libslirp's forwarded port;
#   qemu:     the image in QEMU (TCG) with a fresh virtio-blk disk.
# The driver is scripts/bench/hub.py (one keep-alive HTTPS connection).
# Environment: BENCH_HUB_RECORDS (2000), BENCH_HUB_BATCH (100),
# BENCH_HUB_PULLS (5). Figures, never pass/fail.
set -e
cd "$(dirname "$0")/.."
N=${BENCH_HUB_RECORDS:-2000} BATCH=${BENCH_HUB_BATCH:-100} PULLS=${BENCH_HUB_PULLS:-5}
B=build/bench/hub PY=/usr/bin/python3
rm -rf "$B" && mkdir -p "$B"
make -s BOARD=host O=build/host-bench olddefconfig >/dev/null
sed -i 's/^CONFIG_HOST_SANITIZE=y/# CONFIG_HOST_SANITIZE is not set/' build/host-bench/.config
make -s BOARD=host O=build/host-bench >/dev/null
make -s BOARD=qemu-virt >/dev/null
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }


$PY scripts/bench/hub.py sqlite "$B/baseline.db" "$N" "$BATCH" "$PULLS" > "$B/baseline.txt"

truncate -s 64M "$B/host-disk.img"
HP=$(port)
build/host-bench/hearth "hearth.hostfwd=tcp:127.0.0.1:$HP-:443" "hearth.disk=$B/host-disk.img" \
	> "$B/host.log" 2>&1 &
H_PID=$!
truncate -s 64M "$B/qemu-disk.img"
QP=$(port)
qemu-system-aarch64 -M virt -cpu cortex-a57 -m 256M -display none -serial "file:$B/qemu.log" \
	-monitor none -no-reboot -device virtio-rng-device \
	-drive "file=$B/qemu-disk.img,if=none,format=raw,id=d0" -device virtio-blk-device,drive=d0 \
	-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$QP-:443" -device virtio-net-device,netdev=n0 \
	-kernel build/qemu-virt/hearth.img 2>>"$B/qemu.err" &
Q_PID=$!
trap 'kill $H_PID $Q_PID 2>/dev/null || true' EXIT

$PY scripts/bench/hub.py hearth "https://127.0.0.1:$HP" "$B/host.log" "$N" "$BATCH" "$PULLS" \
	> "$B/host.txt" || echo "bench-hub: the host run failed (see $B/host.log)"
kill $H_PID 2>/dev/null || true
$PY scripts/bench/hub.py hearth "https://127.0.0.1:$QP" "$B/qemu.log" "$N" "$BATCH" "$PULLS" \
	> "$B/qemu.txt" || echo "bench-hub: the QEMU run failed (see $B/qemu.log)"

fig() { awk -v k="$1" '$1 == k {print $2}' "$2" 2>/dev/null; }
awk -v n="$N" -v b="$BATCH" -v p="$PULLS" \
	-v si="$(fig ingest $B/baseline.txt)" -v sr="$(fig release $B/baseline.txt)" \
	-v hi="$(fig ingest $B/host.txt)" -v hr="$(fig release $B/host.txt)" \
	-v qi="$(fig ingest $B/qemu.txt)" -v qr="$(fig release $B/qemu.txt)" 'BEGIN {
	printf "%d viewing records, batches of %d; %d pulls of all of them\n", n, b, p
	printf "records ingested/s:  SQLite inserts %.0f | Hearth host %.0f (ratio %.3f) | Hearth in QEMU %.0f (ratio %.4f)\n", si, hi, (si ? hi / si : 0), qi, (si ? qi / si : 0)
	printf "records released/s:  SQLite selects %.0f | Hearth host %.0f (ratio %.3f) | Hearth in QEMU %.0f (ratio %.4f)\n", sr, hr, (sr ? hr / sr : 0), qr, (sr ? qr / sr : 0)
}'
