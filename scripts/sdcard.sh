#!/bin/sh
# sdcard.sh BOARD OUTDIR [IMAGE]: the flashable SD card image of a board,
# OUTDIR/hearth-BOARD.img, with Hearth's image IMAGE (default
# OUTDIR/hearth.img) as a Xen PV domU. Only BOARD=cubieboard2 (Allwinner A20).
#
# The card, every third-party byte from Debian bookworm (third_party.lock):
#   8 KiB     U-Boot with its SPL (u-boot-sunxi, Cubieboard2 build): the A20's
#             boot ROM looks for the SPL's "eGON.BT0" header there
#   1 MiB     partition 1, FAT, bootable: boot.scr (compiled from boot.cmd,
#             also on the card), Xen (xen-hypervisor-4.17-armhf), the A20's
#             DTB and dom0's kernel (linux-image-*-armmp-lpae), dom0's
#             initramfs (scripts/xen-dom0.sh --arch armhf, gzip), which holds
#             Hearth's image; U-Boot keeps its environment here (uboot.env)
#   next      partition 2, type 0xda (no filesystem), all zero: Hearth's disk,
#             the domU's xvda; Hearth formats it on first boot
# The MBR's disk identifier is 0x68747248, the bytes "Hrth" at offset 440:
# dom0 finds the data partition by it.
#
# FAT rather than ext4 for partition 1: U-Boot's sunxi build keeps its
# environment in a FAT file (ENV_IS_IN_FAT), and any computer can read and
# edit the partition (boot.cmd, Xen's command line) without Linux.
#
# U-Boot runs boot.scr through its distro boot (it scans the bootable
# partition). The script loads the four files at fixed addresses that this
# script works out from their sizes (2 MiB aligned, in RAM at 0x40000000),
# writes the Xen boot modules into the DTB's /chosen (Xen's device-tree boot
# protocol), and starts Xen with bootz: Debian's Xen for armhf is a zImage,
# and Xen boots by Linux's zImage protocol, in HYP mode, which U-Boot's
# sunxi build enters (ARMV7_VIRT).
#
# Also writes OUTDIR/hearth-BOARD-update.img: the same bytes up to the data
# partition. Written over a card that holds this layout, it replaces U-Boot,
# Xen, dom0 and Hearth and keeps Hearth's data (docs/flashing.md).
#
# Environment: SDCARD_BOOT_MB (64) and SDCARD_DATA_MB (256) size the
# partitions; SDCARD_HEARTH_ARGS are Hearth's bootargs; SDCARD_XEN_ARGS and
# SDCARD_DOM0_ARGS are added to Xen's and dom0's command lines.
# Needs no root: the image is a sparse file; sfdisk, mkfs.fat and mtools work
# on files. Leaves out: other boards, a bmap, growing the data partition.
set -e
board=$1 out=$2 image=${3:-$2/hearth.img}
[ -n "$out" ] || { echo "usage: $0 BOARD OUTDIR [IMAGE]" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "sdcard: $*" >&2; exit 1; }
[ "$board" = cubieboard2 ] || die "no SD card for board '$board' (only cubieboard2)"
[ -f "$image" ] || die "no Hearth image $image (make BOARD=$board builds it)"

kver=6.1.0-50-armmp-lpae
dtb=sun7i-a20-cubieboard2.dtb
uboot_dir=Cubieboard2
boot_mb=${SDCARD_BOOT_MB:-64}
data_mb=${SDCARD_DATA_MB:-256}
disk_id=0x68747248 # "Hrth"
RAM_START=$((0x40000000))
RAM_SIZE=$((0x40000000))
# Below this the loads leave the rest of RAM to U-Boot (it sits at the top,
# with a 64 MiB heap) and to where it copies the DTB before starting Xen.
LOAD_LIMIT=$((0x60000000))
XEN_ARGS="console=dtuart dtuart=serial0 dom0_mem=256M${SDCARD_XEN_ARGS:+ $SDCARD_XEN_ARGS}"
# clk_ignore_unused: dom0 does not see the UART Xen keeps, and would turn
# off its clock as unused. quiet: the serial line is slow, and the lines
# that matter to an owner are Hearth's (dom0's /init prints its own).
DOM0_ARGS="console=hvc0 clk_ignore_unused panic=10 quiet${SDCARD_DOM0_ARGS:+ $SDCARD_DOM0_ARGS}"

work=$out/sdcard
rm -rf "$work/boot"
mkdir -p "$work/boot"

# --- the files -----------------------------------------------------------------
"$top/scripts/fetch-deb-file.sh" armhf u-boot-sunxi \
	"./usr/lib/u-boot/$uboot_dir/u-boot-sunxi-with-spl.bin" "$work/u-boot-sunxi-with-spl.bin"
"$top/scripts/fetch-deb-file.sh" armhf "linux-image-$kver" \
	"./usr/lib/linux-image-$kver/$dtb" "$work/$dtb"
xen=$("$top/scripts/xen-dom0.sh" --arch armhf hypervisor)
# --echo: a person types on the board's console.
"$top/scripts/xen-dom0.sh" --arch armhf initrd "$work/initrd.cpio" --image "$image" \
	--data-disk Hrth --echo --args "${SDCARD_HEARTH_ARGS:-}"
cp "$xen" "$work/boot/xen"
cp "$top/build/xen-armhf/dom0/vmlinuz" "$work/boot/vmlinuz"
cp "$work/$dtb" "$work/boot/$dtb"
gzip -6 -n -c "$work/initrd.cpio" >"$work/boot/initrd.gz"
rm -f "$work/initrd.cpio"

# --- where U-Boot loads them -------------------------------------------------------
size() { stat -c %s "$1"; }
align() { echo $((($1 + 0x1fffff) & ~0x1fffff)); }
hex() { printf '0x%08x' "$1"; }
# Xen runs where it is loaded: its footprint is the zImage header's end
# (offset 0x2c: the image and its bss), which bootz reserves too.
xen_end=$(od -An -tu4 -j44 -N4 "$work/boot/xen" | tr -d ' ')
[ "$xen_end" -ge "$(size "$work/boot/xen")" ] || die "xen: no zImage header"
# From RAM + 64 MiB up: clear of the addresses U-Boot uses itself before
# the script runs (scriptaddr 0x43100000, where boot.scr sits, and the other
# *_addr_r up to 0x43300000).
xen_addr=$((RAM_START + 0x04000000))
# The DTB grows by `fdt resize 8192` (rounded to 4 KiB).
fdt_addr=$(align $((xen_addr + xen_end)))
fdt_room=$(($(size "$work/boot/$dtb") + 8192 + 4096))
kernel_addr=$(align $((fdt_addr + fdt_room)))
kernel_size=$(size "$work/boot/vmlinuz")
initrd_addr=$(align $((kernel_addr + kernel_size)))
initrd_size=$(size "$work/boot/initrd.gz")
end=$((initrd_addr + initrd_size))
[ "$end" -le "$LOAD_LIMIT" ] && [ "$end" -le $((RAM_START + RAM_SIZE)) ] ||
	die "the files need RAM up to $(hex "$end"), past $(hex "$LOAD_LIMIT")"

# --- boot.cmd and boot.scr ------------------------------------------------------------
m_kernel=module@$(printf '%x' "$kernel_addr")
m_initrd=module@$(printf '%x' "$initrd_addr")
cat >"$work/boot/boot.cmd" <<EOF
# boot.cmd: Hearth's U-Boot script for the $board, compiled into boot.scr by
# scripts/sdcard.sh (mkimage -T script). U-Boot's distro boot runs boot.scr
# from the card's first partition; editing this file changes nothing until
# it is compiled again:
#   mkimage -A arm -O linux -T script -C none -d boot.cmd boot.scr
#
# It loads Xen, the A20's device tree, dom0's kernel and initramfs (which
# holds Hearth), describes dom0 to Xen in the device tree's /chosen (Xen's
# multiboot modules), and starts Xen with bootz (Xen for 32-bit ARM follows
# Linux's zImage protocol). RAM is $(hex "$RAM_START")-$(hex $((RAM_START + RAM_SIZE - 1))); the
# addresses were worked out from the files' sizes, 2 MiB aligned:
#   $(hex "$xen_addr")  xen            $(size "$work/boot/xen") bytes, $xen_end with its bss
#   $(hex "$fdt_addr")  $dtb  $(size "$work/boot/$dtb") bytes, room for $fdt_room
#   $(hex "$kernel_addr")  vmlinuz        $kernel_size bytes (dom0's kernel)
#   $(hex "$initrd_addr")  initrd.gz      $initrd_size bytes (dom0's initramfs)
# U-Boot itself sits at the top of RAM.
if test -z "\${devtype}"; then setenv devtype mmc; setenv devnum 0; setenv distro_bootpart 1; fi
setenv hearth_src "\${devtype} \${devnum}:\${distro_bootpart}"
echo "hearth: loading Xen, dom0 and Hearth from \${hearth_src}"
setenv hearth_ok 1
load \${hearth_src} $(hex "$xen_addr") xen || setenv hearth_ok 0
load \${hearth_src} $(hex "$fdt_addr") $dtb || setenv hearth_ok 0
load \${hearth_src} $(hex "$kernel_addr") vmlinuz || setenv hearth_ok 0
setenv hearth_kernel_size \${filesize}
load \${hearth_src} $(hex "$initrd_addr") initrd.gz || setenv hearth_ok 0
setenv hearth_initrd_size \${filesize}
if test "\${hearth_ok}" = 1; then
	echo "hearth: dom0 kernel 0x\${hearth_kernel_size} bytes, initramfs 0x\${hearth_initrd_size} bytes"
	fdt addr $(hex "$fdt_addr")
	fdt resize 8192
	fdt set /chosen \\#address-cells <1>
	fdt set /chosen \\#size-cells <1>
	fdt set /chosen xen,xen-bootargs "$XEN_ARGS"
	fdt set /chosen xen,dom0-bootargs "$DOM0_ARGS"
	fdt mknode /chosen $m_kernel
	fdt set /chosen/$m_kernel compatible "multiboot,kernel" "multiboot,module"
	fdt set /chosen/$m_kernel reg <$(hex "$kernel_addr") 0x\${hearth_kernel_size}>
	fdt mknode /chosen $m_initrd
	fdt set /chosen/$m_initrd compatible "multiboot,ramdisk" "multiboot,module"
	fdt set /chosen/$m_initrd reg <$(hex "$initrd_addr") 0x\${hearth_initrd_size}>
	echo "hearth: starting Xen"
	bootz $(hex "$xen_addr") - $(hex "$fdt_addr")
	echo "hearth: bootz returned: Xen did not start"
else
	echo "hearth: could not load every file from \${hearth_src}: not booting"
fi
EOF
# The legacy image's timestamp: the commit's, so that builds repeat.
epoch=$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)
SOURCE_DATE_EPOCH=$epoch mkimage -A arm -O linux -T script -C none -n "Hearth boot script" \
	-d "$work/boot/boot.cmd" "$work/boot/boot.scr" >/dev/null

# --- the FAT partition --------------------------------------------------------------
boot_start=$((1024 * 1024))
boot_size=$((boot_mb * 1024 * 1024))
data_start=$((boot_start + boot_size))
data_size=$((data_mb * 1024 * 1024))
total=$((data_start + data_size))
uboot_end=$((8192 + $(size "$work/u-boot-sunxi-with-spl.bin")))
[ "$uboot_end" -le "$boot_start" ] || die "U-Boot runs into partition 1"
rm -f "$work/boot.fat"
mkfs.fat -C -n HEARTH-BOOT --invariant -h $((boot_start / 512)) \
	"$work/boot.fat" $((boot_size / 1024)) >/dev/null
touch -d "@$epoch" "$work/boot/"*
MTOOLS_SKIP_CHECK=1 mcopy -m -i "$work/boot.fat" \
	"$work/boot/boot.scr" "$work/boot/boot.cmd" "$work/boot/xen" "$work/boot/$dtb" \
	"$work/boot/vmlinuz" "$work/boot/initrd.gz" ::/

# --- the card ------------------------------------------------------------------------
img=$out/hearth-$board.img
rm -f "$img.tmp"
truncate -s "$total" "$img.tmp"
sfdisk --quiet --no-reread --no-tell-kernel "$img.tmp" <<EOF
label: dos
label-id: $disk_id
unit: sectors

start=$((boot_start / 512)), size=$((boot_size / 512)), type=e, bootable
start=$((data_start / 512)), size=$((data_size / 512)), type=da
EOF
dd if="$work/u-boot-sunxi-with-spl.bin" of="$img.tmp" bs=1024 seek=8 conv=notrunc status=none
dd if="$work/boot.fat" of="$img.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$work/boot.fat"
mv "$img.tmp" "$img"
upd=$out/hearth-$board-update.img
rm -f "$upd"
dd if="$img" of="$upd.tmp" bs=1M count=$((data_start / 1048576)) conv=sparse status=none
mv "$upd.tmp" "$upd"
printf '  SDCARD  %s: %s MiB (U-Boot at 8 KiB, boot FAT %s MiB at 1 MiB, data %s MiB at %s MiB)\n' \
	"$img" $((total / 1048576)) "$boot_mb" "$data_mb" $((data_start / 1048576))
printf '          loads: xen %s, dtb %s, dom0 kernel %s, initramfs %s-%s\n' \
	"$(hex "$xen_addr")" "$(hex "$fdt_addr")" "$(hex "$kernel_addr")" "$(hex "$initrd_addr")" "$(hex "$end")"
