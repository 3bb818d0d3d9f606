#!/bin/sh
# bench.sh: `make bench`. Benchmarks report figures and ratios against a peer
# run side by side; they never pass or fail on an absolute time.
#   image size   the qemu-virt image against the 1.5 MB budget (DESIGN.md), and
#                the ARMv7 (Thumb-2) cubieboard2 image against it and the aarch64 one
#   boot         time from QEMU's start to the boot report's last line,
#                against the same QEMU started with no guest work at all
#                (an Image that powers off at once): the ratio is what
#                Hearth's own bring-up costs on top of QEMU's start-up.
# Then the network, storage, policy and hub benchmarks, each against its peer,
# and Hearth as a Xen PV domU against a Linux domU under the same dom0.
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh --quiet
make -s BOARD=qemu-virt
make -s BOARD=cubieboard2
img=build/qemu-virt/hearth.img
size=$(stat -c %s "$img")
echo "image size: $size bytes = $(awk -v s="$size" 'BEGIN{printf "%.1f%%", 100*s/1572864}') of the 1.5 MB budget"
size7=$(stat -c %s build/cubieboard2/hearth.img)
echo "image size, ARMv7 Thumb-2 (cubieboard2): $size7 bytes = $(awk -v s="$size7" 'BEGIN{printf "%.1f%%", 100*s/1572864}') of the budget, $(awk -v a="$size7" -v b="$size" 'BEGIN{printf "%.2f", a/b}') of the aarch64 image"

# The peer: an Image that only powers off (PSCI SYSTEM_OFF through hvc).
peer=build/bench/poweroff.img
mkdir -p build/bench
aarch64-linux-gnu-gcc -nostdlib -static -Wl,-Ttext=0 -Wl,--build-id=none \
	-o build/bench/poweroff.elf scripts/bench/poweroff.S
aarch64-linux-gnu-objcopy -O binary build/bench/poweroff.elf "$peer"
boot() { # IMAGE MARKER -> seconds to the marker
	/usr/bin/python3 - "$1" "$2" <<'PY'
import subprocess, sys, time
img, marker = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
p = subprocess.Popen(["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "64M",
    "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
    "-device", "virtio-rng-device", "-kernel", img, "-append", "hearth.test=exit:0"],
    stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
for line in p.stdout:
    if marker and marker.encode() in line:
        break
t = time.monotonic() - t0
p.kill(); p.wait()
print(f"{t:.4f}")
PY
}
n=5 h=0 q=0
for i in $(seq $n); do
	h=$(echo "$h + $(boot "$img" "Hearth booted")" | bc -l)
	q=$(echo "$q + $(boot "$peer" "")" | bc -l)
done
awk -v h="$h" -v q="$q" -v n="$n" 'BEGIN{printf "boot to report: %.3f s; QEMU with an empty guest: %.3f s; ratio %.2f (mean of %d)\n", h/n, q/n, h/q, n}'

echo
echo "== network (scripts/bench-net.sh)"
scripts/bench-net.sh || echo "bench-net failed"
echo
echo "== storage (scripts/bench-storage.sh)"
scripts/bench-storage.sh || echo "bench-storage failed"
echo
echo "== policy engine (make -f tests/policy.mk bench)"
make -s -f tests/policy.mk bench || echo "policy bench failed"
echo
echo "== hub (scripts/bench-hub.sh)"
scripts/bench-hub.sh || echo "bench-hub failed"
echo
echo "== Xen PV domU (scripts/bench-xen.sh)"
scripts/bench-xen.sh || echo "bench-xen failed"
