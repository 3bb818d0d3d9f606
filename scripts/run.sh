#!/bin/sh
# run.sh BOARD BUILDDIR: boots the built image the way `make run` does.
#   qemu-virt: QEMU aarch64 virt, console on this terminal (Ctrl-A X quits);
#              when stdin is not a terminal the console is output-only and
#              QEMU keeps running (so scripts can start it in the background).
#   host:      the Linux process, console on stdout; its user-mode network
#              forwards 127.0.0.1:HEARTH_HTTPS_PORT (8443) to the device's 443
#              and 127.0.0.1:HEARTH_HTTP_PORT (8080) to its 80.
# Environment: HEARTH_ARGS (kernel command line), HEARTH_MEM (default 256M),
# HEARTH_GIC (2 or 3, default 3), HEARTH_QEMU_EXTRA (more QEMU options),
# HEARTH_HTTPS_PORT / HEARTH_HTTP_PORT (host ports forwarded to the device's
# 443 and 80 on 127.0.0.1; default 8443 and 8080),
# HEARTH_DISK (the disk image; default BUILDDIR/disk.img, created empty,
# HEARTH_DISK_SIZE bytes (64M), on first run; "none" for no disk).
set -e
board=$1 out=$2
disk=${HEARTH_DISK:-$out/disk.img}
if [ "$disk" != none ] && [ ! -e "$disk" ]; then
	mkdir -p "$(dirname "$disk")"
	truncate -s "${HEARTH_DISK_SIZE:-64M}" "$disk"
	echo "run.sh: created $disk (${HEARTH_DISK_SIZE:-64M}, all zero: Hearth formats it at boot)" >&2
fi
case "$board" in
qemu-virt)
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
	# shellcheck disable=SC2086
	exec qemu-system-aarch64 -M virt,gic-version=${HEARTH_GIC:-3} -cpu cortex-a57 \
		-m "${HEARTH_MEM:-256M}" -smp 1 -display none $con -no-reboot \
		-device virtio-rng-device $net $drive \
		-kernel "$out/hearth.img" -append "hearth.https_port=$https ${HEARTH_ARGS:-}" ${HEARTH_QEMU_EXTRA:-}
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
