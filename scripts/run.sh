#!/bin/sh
# run.sh BOARD BUILDDIR: boots the built image the way `make run` does.
#   qemu-virt: QEMU aarch64 virt, console on this terminal (Ctrl-A X quits);
#              when stdin is not a terminal the console is output-only and
#              QEMU keeps running (so scripts can start it in the background).
#   cubieboard2: the ARMv7 image the same way, on QEMU's 32-bit virt machine
#              (qemu-system-arm, cortex-a7, GICv2 unless HEARTH_GIC=3), with the
#              same virtio-net, virtio-blk and virtio-rng.
#   host:      the Linux process, console on stdout; its user-mode network
#              forwards 127.0.0.1:HEARTH_HTTPS_PORT (8443) to the device's 443
#              and 127.0.0.1:HEARTH_HTTP_PORT (8080) to its 80.
#   xen:       Xen 4.17 (Debian's, fetched by scripts/xen-dom0.sh) in QEMU with
#              EL2, the image as its dom0 with the virtio devices; Xen's console
#              is the serial line. HEARTH_MEM is dom0_mem (default 128M);
#              HEARTH_XEN_ARGS adds to Xen's command line (also for xen-domu).
#   xen-domu:  Xen 4.17 with a Linux dom0 (scripts/xen-dom0.sh) that runs the
#              image as a PV domU (netfront, blkfront, PV console). The serial
#              line carries Xen, dom0 and the domU's console ("[T] hearth| ...");
#              dom0 takes commands on it ("@ID COMMAND"). The forwarded ports
#              reach the domU at 10.0.2.16. Also: HEARTH_XEN_INITRD (the per-run
#              initramfs, default build/xen-domu/initrd.cpio), HEARTH_XEN_START
#              (hearth, linux or none: what dom0 starts), HEARTH_XEN_LINUX=1 (put
#              the Linux domU in too), HEARTH_XEN_SMP (QEMU CPUs, default 1),
#              HEARTH_DOM0_ARGS (more dom0 kernel arguments; default quiet).
# Environment: HEARTH_ARGS (kernel command line), HEARTH_MEM (default 256M),
# HEARTH_GIC (2 or 3, default 3; 2 for cubieboard2), HEARTH_QEMU_EXTRA (more QEMU options),
# HEARTH_HTTPS_PORT / HEARTH_HTTP_PORT (host ports forwarded to the device's
# 443 and 80 on 127.0.0.1; default 8443 and 8080),
# HEARTH_DISK (the disk image; default BUILDDIR/disk.img, or
# build/xen-domu/disk.img for xen-domu, created empty,
# HEARTH_DISK_SIZE bytes (64M), on first run; "none" for no disk).
set -e
board=$1 out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$board" = xen-domu ]; then
	disk=${HEARTH_DISK:-$top/build/xen-domu/disk.img}
else
	disk=${HEARTH_DISK:-$out/disk.img}
fi
if [ "$disk" != none ] && [ ! -e "$disk" ]; then
	mkdir -p "$(dirname "$disk")"
	truncate -s "${HEARTH_DISK_SIZE:-64M}" "$disk"
	echo "run.sh: created $disk (${HEARTH_DISK_SIZE:-64M}, all zero: Hearth formats it at boot)" >&2
fi
case "$board" in
qemu-virt | cubieboard2)
	if [ -t 0 ]; then
		con="-serial mon:stdio"
	else
		con="-serial stdio -monitor none"
	fi
	https=${HEARTH_HTTPS_PORT:-8443} http=${HEARTH_HTTP_PORT:-8080}
	net="-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$https-:443,hostfwd=tcp:127.0.0.1:$http-:80"
	net="$net -device virtio-net-device,netdev=n0"
	echo "run.sh: Hearth will answer on https://127.0.0.1:$https/ (and http://127.0.0.1:$http/);" \
		"check the certificate fingerprint it prints against your browser's" >&2
	drive=
	[ "$disk" = none ] || drive="-drive file=$disk,if=none,format=raw,id=d0 -device virtio-blk-device,drive=d0"
	if [ "$board" = cubieboard2 ]; then
		# The ARMv7 image on QEMU's 32-bit virt machine; a GICv2 like the A20's.
		qemu="qemu-system-arm -M virt,gic-version=${HEARTH_GIC:-2} -cpu cortex-a7"
	else
		qemu="qemu-system-aarch64 -M virt,gic-version=${HEARTH_GIC:-3} -cpu cortex-a57"
	fi
	# shellcheck disable=SC2086
	exec $qemu \
		-m "${HEARTH_MEM:-256M}" -smp 1 -display none $con -no-reboot \
		-device virtio-rng-device $net $drive \
		-kernel "$out/hearth.img" -append "hearth.https_port=$https ${HEARTH_ARGS:-}" ${HEARTH_QEMU_EXTRA:-}
	;;
xen | xen-domu)
	if [ -t 0 ]; then
		con="-serial mon:stdio"
	else
		con="-serial stdio -monitor none"
	fi
	https=${HEARTH_HTTPS_PORT:-8443} http=${HEARTH_HTTP_PORT:-8080}
	drive=
	[ "$disk" = none ] || drive="-drive file=$disk,if=none,format=raw,id=d0 -device virtio-blk-device,drive=d0"
	xen=$("$top/scripts/xen-dom0.sh" hypervisor)
	xenargs="console=dtuart dtuart=/pl011@9000000"
	machine="-M virt,virtualization=on,gic-version=3 -cpu cortex-a57 -m 1G"
	if [ "$board" = xen ]; then
		echo "run.sh: Xen with Hearth as dom0; Hearth will answer on https://127.0.0.1:$https/" \
			"(and http://127.0.0.1:$http/)" >&2
		# shellcheck disable=SC2086
		exec qemu-system-aarch64 $machine -smp 1 -display none $con -no-reboot \
			-kernel "$xen" -append "$xenargs dom0_mem=${HEARTH_MEM:-128M} ${HEARTH_XEN_ARGS:-}" \
			-device "guest-loader,addr=0x49000000,kernel=$out/hearth.img,bootargs=hearth.https_port=$https ${HEARTH_ARGS:-}" \
			-device virtio-rng-device \
			-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$https-:443,hostfwd=tcp:127.0.0.1:$http-:80 \
			-device virtio-net-device,netdev=n0 $drive ${HEARTH_QEMU_EXTRA:-}
	fi
	initrd=${HEARTH_XEN_INITRD:-$top/build/xen-domu/initrd.cpio}
	set -- --image "$out/hearth.img" --args "hearth.https_port=$https ${HEARTH_ARGS:-}" \
		--start "${HEARTH_XEN_START:-hearth}"
	[ "$disk" = none ] || set -- "$@" --disk
	[ "${HEARTH_XEN_LINUX:-0}" = 0 ] || set -- "$@" --linux
	[ ! -t 0 ] || set -- "$@" --echo
	"$top/scripts/xen-dom0.sh" initrd "$initrd" "$@"
	echo "run.sh: Xen with a Linux dom0 and Hearth as its PV domU; Hearth will answer on" \
		"https://127.0.0.1:$https/ (and http://127.0.0.1:$http/) once its netfront is up;" \
		"dom0 runs the commands typed here (e.g. xl list)" >&2
	# shellcheck disable=SC2086
	exec qemu-system-aarch64 $machine -smp "${HEARTH_XEN_SMP:-1}" -display none $con -no-reboot \
		-kernel "$xen" -append "$xenargs dom0_mem=256M ${HEARTH_XEN_ARGS:-}" \
		-device "guest-loader,addr=0x42000000,kernel=$top/build/xen/dom0/vmlinuz,bootargs=console=hvc0 panic=-1 ${HEARTH_DOM0_ARGS:-quiet}" \
		-device "guest-loader,addr=0x4a000000,initrd=$initrd" \
		-device virtio-rng-device \
		-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$https-10.0.2.16:443,hostfwd=tcp:127.0.0.1:$http-10.0.2.16:80 \
		-device virtio-net-device,netdev=n0 $drive ${HEARTH_QEMU_EXTRA:-}
	;;
host)
	diskarg=
	[ "$disk" = none ] || diskarg="hearth.disk=$disk"
	# The user-mode network (libslirp): host ports to the device's 443 and 80.
	https_port=${HEARTH_HTTPS_PORT:-8443} http_port=${HEARTH_HTTP_PORT:-8080}
	fwd="hearth.hostfwd=tcp:127.0.0.1:$https_port-:443,tcp:127.0.0.1:$http_port-:80 hearth.https_port=$https_port"
	echo "run.sh: Hearth will answer on https://127.0.0.1:$https_port/ (and http://127.0.0.1:$http_port/);" \
		"check the certificate fingerprint it prints against your browser's" >&2
	# shellcheck disable=SC2086
	exec "$out/hearth" $fwd ${HEARTH_ARGS:-} $diskarg
	;;
*)
	echo "run.sh: no run recipe for board '$board'" >&2
	exit 1
	;;
esac
