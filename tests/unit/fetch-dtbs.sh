#!/bin/sh
# fetch-dtbs.sh [OUTDIR]: puts the real DTBs the unit tests read into
# build/dtbs/ (or OUTDIR): QEMU virt machines dumped by the installed
# qemu-system-aarch64 (GICv2/v3, 1 and 4 CPUs, 32 MiB/256 MiB/1 GiB, EL2, a
# command line), and the Allwinner A20 Cubieboard2 DTB from Debian's armhf
# kernel package (pinned in third_party.lock, via scripts/fetch-deb-file.sh).
#
# Assumes qemu-system-arm (Debian's package with qemu-system-aarch64) and apt
# access to Debian bookworm. Cached: QEMU dumps are redone only when the QEMU
# version or this script changes, the A20 DTB only when its pin changes; a
# second run downloads nothing. Nothing here is committed.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build/dtbs}
mkdir -p "$out"

qemu=qemu-system-aarch64
command -v $qemu >/dev/null || {
	echo "fetch-dtbs: $qemu not found (Debian package qemu-system-arm; scripts/deps.sh)" >&2
	exit 1
}

# The QEMU dumps are valid for one QEMU version and one version of this list.
stamp="$($qemu --version | head -n 1) / $(sha256sum <"$0" | cut -c1-16)"
[ -f "$out/qemu.stamp" ] && [ "$(cat "$out/qemu.stamp")" = "$stamp" ] && fresh=1 || fresh=0

# dump NAME QEMU-ARGS...: build/dtbs/NAME.dtb from -machine dumpdtb.
dump() {
	name=$1
	shift
	[ $fresh = 1 ] && [ -f "$out/$name.dtb" ] && return 0
	echo "  DTB     $name.dtb (QEMU)"
	rm -f "$out/$name.dtb.tmp"
	if ! $qemu "$@" -display none -serial none -monitor none \
		-machine dumpdtb="$out/$name.dtb.tmp" >"$out/$name.log" 2>&1 ||
		[ ! -s "$out/$name.dtb.tmp" ]; then
		echo "fetch-dtbs: $qemu $* failed:" >&2
		cat "$out/$name.log" >&2
		exit 1
	fi
	rm -f "$out/$name.log"
	mv "$out/$name.dtb.tmp" "$out/$name.dtb"
}

virt="-cpu cortex-a57 -smp 1"
dump virt-gicv2 -M virt,gic-version=2 $virt -m 256M
dump virt-gicv3 -M virt,gic-version=3 $virt -m 256M
dump virt-smp4 -M virt,gic-version=2 -cpu cortex-a57 -smp 4 -m 256M
dump virt-32m -M virt,gic-version=2 $virt -m 32M
dump virt-1g -M virt,gic-version=2 $virt -m 1G
dump virt-el2 -M virt,virtualization=on,gic-version=3 $virt -m 256M
# QEMU writes /chosen/bootargs only with -kernel: any small file does.
[ -f "$out/dummy-kernel.bin" ] || head -c 4096 /dev/zero >"$out/dummy-kernel.bin"
dump virt-bootargs -M virt,gic-version=2 $virt -m 256M -kernel "$out/dummy-kernel.bin" \
	-append "console=ttyAMA0 hearth.test=sleep:200 quiet"
echo "$stamp" >"$out/qemu.stamp"

# Allwinner A20 Cubieboard2, from Debian's armhf multiplatform kernel.
pkg=$(awk '$1 == "deb" && $2 == "armhf" && $3 ~ /^linux-image-.*-armmp$/ {print $3; exit}' \
	"$top/third_party.lock")
[ -n "$pkg" ] || { echo "fetch-dtbs: no armhf linux-image-*-armmp in third_party.lock" >&2; exit 1; }
"$top/scripts/fetch-deb-file.sh" armhf "$pkg" './usr/lib/linux-image-*/sun7i-a20-cubieboard2.dtb' \
	"$out/sun7i-a20-cubieboard2.dtb"
