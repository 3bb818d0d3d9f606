#!/bin/sh
# xen-dom0.sh: the Linux dom0 that runs Hearth as a Xen PV domU, all from
# Debian bookworm packages pinned in third_party.lock: arm64 for the QEMU
# runs and tests (the default), armhf for the Cubieboard2's SD card.
#
#   xen-dom0.sh [--arch arm64|armhf] COMMAND ...
#
#   xen-dom0.sh hypervisor   fetch Xen (build/xen/xen-4.17-arm64); print its path
#   xen-dom0.sh base         make build/xen/dom0/: vmlinuz (Debian's arm64 kernel,
#                            an uncompressed Image), base.cpio (the dom0's
#                            initramfs) and linux-domu.cpio (Debian's same kernel
#                            and a tiny initramfs, to run Linux as the domU)
#   xen-dom0.sh initrd OUT [--image IMG] [--args ARGS] [--disk | --data-disk ID]
#                          [--echo] [--start hearth|linux|none] [--linux]
#                            write OUT = base.cpio + (with --linux) linux-domu.cpio
#                            + a small per-run cpio: Hearth's image IMG, the xl
#                            configs (/etc/xen/hearth.cfg with bootargs ARGS and,
#                            with --disk, dom0's /dev/vda as xvda) and what /init
#                            starts (default hearth).
#
# --arch armhf (scripts/sdcard.sh): the same commands write build/xen-armhf/:
# xen-4.17-armhf, dom0/vmlinuz (Debian's armmp-lpae zImage: Xen needs an LPAE
# dom0 on 32-bit ARM) and dom0/base.cpio (no Linux domU). Its modules drive
# the A20's GMAC and SD controller (and virtio, for QEMU's virt machine in
# the SD card's test). Its /init also waits for eth0 and the disks, gives the
# domU a MAC made from eth0's (Xen's 00:16:3e prefix and eth0's last three
# bytes, so every board differs), keeps a DHCP client running for dom0, and,
# with `initrd --data-disk ID`, gives the domU as xvda partition 2 of the disk
# whose MBR holds the 4 bytes ID at offset 440 (the SD card's disk
# identifier), found at boot whatever Linux calls that disk.
#
# The base is cached: rebuilt only when this script, mkcpio.py or the pins of
# its packages change (build/xen/dom0/stamp). Hearth's image changes every
# build, so it rides in the per-run cpio: the kernel unpacks concatenated cpio
# archives one after the other.
#
# Inside the dom0, /init loads the Xen backend and virtio modules, starts
# xenstored and xenconsoled (--log=guest), bridges eth0 into xenbr0 with a
# DHCP lease (QEMU user net: 10.0.2.15; the domU's MAC 00:16:3e:48:45:01
# then gets 10.0.2.16), starts the domU with `domu start NAME`, which relays the
# guest console to dom0's console as "[UPTIME] NAME| TEXT" and prints
# "dom0: [UPTIME] domU NAME ended" when it is gone, and then reads commands
# from its console (hvc0, i.e. Xen's serial input):
#   "@ID COMMAND"  ->  "dom0@ID| OUTPUT LINE"...  then  "dom0@ID rc=STATUS"
# (a line without "@ID " gets the id cN). Uses Debian's binaries unmodified;
# the hotplug scripts (Debian's need bash), udhcpc's script and /init are ours.
# Leaves out: an SMP dom0, persistent xenstore, anything but vif and phy disks.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
arch=arm64
if [ "$1" = --arch ]; then
	arch=$2
	shift 2
fi
case $arch in
arm64)
	xendir=$top/build/xen
	kver=6.1.0-50-arm64
	triplet=aarch64-linux-gnu
	ldso=ld-linux-aarch64.so.1
	# Dom0's modules (their dependencies come from each module's modinfo).
	DOM0_MODS="xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc virtio_mmio \
virtio_net virtio_blk virtio-rng bridge xen-netback xen-blkback"
	;;
armhf)
	xendir=$top/build/xen-armhf
	kver=6.1.0-50-armmp-lpae
	triplet=arm-linux-gnueabihf
	ldso=ld-linux-armhf.so.3
	# The A20's GMAC (dwmac-sunxi; the Cubieboard2's DT enables it, not the
	# EMAC) with its PHY's driver first (a PHY binds when the MAC probes), the
	# SD controller, and virtio for QEMU.
	DOM0_MODS="xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc realtek \
dwmac-sunxi sunxi-mmc virtio_mmio virtio_net virtio_blk bridge xen-netback xen-blkback"
	;;
*)
	echo "xen-dom0: --arch arm64|armhf" >&2
	exit 2
	;;
esac
dom0=$xendir/dom0
XEN=$xendir/xen-4.17-$arch
PKGS="linux-image-$kver busybox-static xen-utils-4.17 xenstore-utils \
libxenmisc4.17 libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 \
libxenstore4 libxentoollog1 libxentoolcore1 libxendevicemodel1 libxenhypfs1 \
libyajl2 libc6 zlib1g libuuid1 libfdt1 libgcc-s1"
DOMU_MODS="xen-netfront"
# The Xen programs dom0 runs (their libraries: NEEDED entries, transitively).
XEN_BINS="xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper"
# Any binutils readelf reads both ELF classes; CROSS_COMPILE may name a
# bare-metal toolchain when the board is 32-bit.
READELF=${CROSS_COMPILE:-aarch64-linux-gnu-}readelf
[ "$arch" = arm64 ] || READELF=aarch64-linux-gnu-readelf

die() { echo "xen-dom0: $*" >&2; exit 1; }

hypervisor() {
	"$top/scripts/fetch-deb-file.sh" "$arch" "xen-hypervisor-4.17-$arch" "./boot/xen-4.17-$arch" "$XEN"
}

stamp() {
	{
		sha256sum "$top/scripts/xen-dom0.sh" "$top/scripts/mkcpio.py" | cut -d' ' -f1
		for p in $PKGS; do
			awk -v a="$arch" -v p="$p" '$1=="deb" && $2==a && $3==p' "$top/third_party.lock"
		done
	} | sha256sum | cut -d' ' -f1
}

# --- pieces of the base ------------------------------------------------------

# find_lib NAME: the library NAME in the extracted packages.
find_lib() {
	for d in "lib/$triplet" "usr/lib/$triplet"; do
		[ -e "$pk/$d/$1" ] && { echo "$pk/$d/$1"; return 0; }
	done
	return 1
}

# add_libs ELF...: copies the libraries the ELF files need, transitively.
add_libs() {
	queue="$*"
	while [ -n "$queue" ]; do
		# shellcheck disable=SC2086
		set -- $queue
		f=$1
		shift
		queue="$*"
		for lib in $("$READELF" -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case " $libs_seen " in *" $lib "*) continue ;; esac
			libs_seen="$libs_seen $lib"
			p=$(find_lib "$lib") || die "$f needs $lib, which no pinned package has"
			cp -L "$p" "$root/lib/$triplet/$lib"
			queue="$queue $p"
		done
	done
}

# add_module NAME: copies module NAME after the modules it depends on, and
# appends it to the load order.
add_module() {
	n=$(echo "$1" | tr - _)
	case " $mods_seen " in *" $n "*) return 0 ;; esac
	mods_seen="$mods_seen $n"
	p=$(awk -v n="$n" '$1==n {print $2; exit}' "$tmp/modindex")
	[ -n "$p" ] || die "no module $1 in linux-image-$kver"
	for d in $(tr '\0' '\n' <"$p" | sed -n 's/^depends=//p' | tr , ' '); do
		add_module "$d"
	done
	# $1 and $p may have changed in the calls above: look the file up again.
	p=$(awk -v n="$(echo "$1" | tr - _)" '$1==n {print $2; exit}' "$tmp/modindex")
	cp "$p" "$root/lib/modules/"
	basename "$p" >>"$root/etc/modules.load"
}

add_busybox() {
	mkdir -p "$root/bin"
	cp "$pk/bin/busybox" "$root/bin/busybox"
}

write_udhcpc_script() {
	mkdir -p "$root/usr/share/udhcpc"
	cat >"$root/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
# udhcpc's hook: configure $interface from the lease (busybox's variables).
case $1 in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -z "$router" ] || ip route replace default via "${router%% *}" dev "$interface"
	: >/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
	echo "udhcpc: $interface has $ip/${mask:-24} (router ${router:-none})"
	;;
esac
exit 0
EOF
	chmod 755 "$root/usr/share/udhcpc/default.script"
}

# The middle of the armhf dom0's /init (write_dom0_files): a real board's
# devices, the domU's MAC and disk, the bridge and a DHCP client that stays.
write_board_init() {
	cat >>"$root/init" <<'EOF'
say "kernel command line: $(cat /proc/cmdline)"
# The board's drivers probe in the background: wait for them.
wait_for() { # SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS
	t=$(($1 * 10))
	shift
	until "$@"; do
		[ "$t" -gt 0 ] || return 1
		t=$((t - 1))
		sleep 0.1
	done
}
wait_for 10 test -e /sys/class/net/eth0 || say "no eth0 after 10 s: the domU has no network"
# The domU's MAC: Xen's prefix and the last three bytes of eth0's (U-Boot
# makes that one from the A20's chip id), so that each board has its own.
if read -r mac </sys/class/net/eth0/address 2>/dev/null; then
	sed -i "s/mac=00:16:3e:48:45:01/mac=00:16:3e:${mac#*:*:*:}/" /etc/xen/hearth.cfg
fi
# Hearth's disk: partition 2 of the disk whose MBR has the disk identifier
# $DATA_DISK (4 bytes at offset 440): the SD card, whatever its name.
data_part() {
	for d in /sys/block/*; do
		n=${d##*/}
		[ "$(dd if="/dev/$n" bs=1 skip=440 count=4 2>/dev/null)" = "$DATA_DISK" ] || continue
		for p in "$d/$n"*; do
			[ "$(cat "$p/partition" 2>/dev/null)" = 2 ] && echo "/dev/${p##*/}" && return 0
		done
	done
	return 1
}
if [ -n "$DATA_DISK" ]; then
	if wait_for 10 data_part >/dev/null; then
		part=$(data_part)
		ln -sf "$part" /dev/hearth-data
		say "data partition: $part (disk id $DATA_DISK), the domU's xvda"
	else
		sed -i '/^disk = /d' /etc/xen/hearth.cfg
		say "no partition 2 on a disk with id $DATA_DISK: the domU has no disk"
	fi
fi
# The bridge: eth0 and every domU vif. Dom0's DHCP client keeps running (it
# renews the lease); after 10 s without a lease it goes on trying in the
# background.
ip link set lo up
brctl addbr xenbr0
brctl addif xenbr0 eth0
ip link set eth0 up
ip link set xenbr0 up
udhcpc -i xenbr0 -b -t 5 -T 2 -s /usr/share/udhcpc/default.script >/tmp/udhcpc.log 2>&1 ||
	say "no DHCP client on xenbr0"
EOF
}

# The dom0's own files: /init, the domU helper, the hotplug scripts.
write_dom0_files() {
	mkdir -p "$root/etc/xen/scripts" "$root/bin"
	cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# Hearth's test dom0: Xen's toolstack and backends, then the domU, then a
# command loop on the console. Written by scripts/xen-dom0.sh.
/bin/busybox --install -s
export PATH=/usr/lib/xen-4.17/bin:/usr/bin:/usr/sbin:/bin:/sbin
export LD_LIBRARY_PATH=/lib/aarch64-linux-gnu
say() { read -r up _ </proc/uptime; echo "dom0: [$up] $*"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run/xen /run/xenstored /var/lib/xen /var/log/xen/console /tmp
mount -t devpts devpts /dev/pts
say "init"
for m in $(cat /etc/modules.load); do
	insmod "/lib/modules/$m" || say "insmod $m failed"
done
mount -t xenfs xenfs /proc/xen || say "no xenfs"
AUTOSTART=hearth ECHO=0
[ ! -f /etc/hearth/run.conf ] || . /etc/hearth/run.conf
[ "$ECHO" = 1 ] || stty -echo 2>/dev/null || true
xenstored --pid-file=/run/xenstored.pid || say "xenstored failed"
xen-init-dom0 >/var/log/xen/xen-init-dom0.log 2>&1 || say "xen-init-dom0 failed"
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
	say "xenconsoled failed"
say "xenstored and xenconsoled up"
EOF
	if [ "$arch" = arm64 ]; then
		cat >>"$root/init" <<'EOF'
# The bridge: eth0 (QEMU's virtio-net) and every domU vif.
ip link set lo up
brctl addbr xenbr0
brctl addif xenbr0 eth0
ip link set eth0 up
ip link set xenbr0 up
# Dom0 leases first, so the domU gets the next address (10.0.2.16).
udhcpc -i xenbr0 -q -n -t 10 -T 1 -s /usr/share/udhcpc/default.script >/tmp/udhcpc.log 2>&1 ||
	say "no DHCP lease on xenbr0"
EOF
	else
		write_board_init
		sed -i -e "s|/lib/aarch64-linux-gnu|/lib/$triplet|" \
			-e "s|^# Hearth's test dom0:|# Hearth's dom0 on the board:|" "$root/init"
	fi
	cat >>"$root/init" <<'EOF'
say "network: $(ip -4 -o addr show xenbr0 | awk '{print $4}')"
say "ready: commands on this console as '@ID COMMAND', answers 'dom0@ID| ...' and 'dom0@ID rc=N'"
[ "$AUTOSTART" = none ] || domu start "$AUTOSTART" || true
cr=$(printf '\r')
n=0
while :; do
	if ! IFS= read -r line; then
		sleep 1
		continue
	fi
	line=${line%"$cr"}
	case $line in
	"") continue ;;
	@*" "*)
		id=${line%% *}
		id=${id#@}
		cmd=${line#* }
		;;
	*)
		n=$((n + 1))
		id=c$n
		cmd=$line
		;;
	esac
	(eval "$cmd") </dev/null >/tmp/cmd.out 2>&1
	rc=$?
	while IFS= read -r l; do echo "dom0@$id| $l"; done </tmp/cmd.out
	echo "dom0@$id rc=$rc"
done </dev/console
EOF
	chmod 755 "$root/init"

	cat >"$root/bin/domu" <<'EOF'
#!/bin/sh
# domu start NAME: xl create /etc/xen/NAME.cfg, then relay the guest's console
#   to dom0's console ("[UPTIME] NAME| TEXT") until the domain is gone
#   ("dom0: [UPTIME] domU NAME ended"); follows it across reboots.
# domu stop NAME: xl destroy NAME.
# domu log NAME: the console log xenconsoled keeps.
up() { read -r u _ </proc/uptime; echo "$u"; }
# console_tty DOMID: the pty xenconsoled made for the domain's console ("" if it died).
console_tty() {
	while :; do
		xenstore-read "/local/domain/$1/console/tty" 2>/dev/null && return 0
		xenstore-exists "/local/domain/$1" 2>/dev/null || return 0
		sleep 0.1
	done
}
relay() { # NAME DOMID, stdin the domain's console pty (or /dev/null)
	name=$1 id=$2 cr=$(printf '\r')
	while :; do
		while IFS= read -r l; do
			read -r u _ </proc/uptime
			echo "[$u] $name| ${l%"$cr"}"
		done
		# The console closed: the domain is gone, or rebooted with a new id.
		while [ "$(xl domid "$name" 2>/dev/null)" = "$id" ]; do sleep 0.5; done
		id=$(xl domid "$name" 2>/dev/null) || break
		t=$(console_tty "$id")
		if [ -n "$t" ]; then exec <"$t"; else exec </dev/null; fi
	done
	echo "dom0: [$(up)] domU $name ended"
}
case $1 in
start)
	name=$2 cfg=/etc/xen/$2.cfg
	[ -f "$cfg" ] || { echo "domu: no $cfg" >&2; exit 2; }
	if xl domid "$name" >/dev/null 2>&1; then
		echo "domu: $name is running already" >&2
		exit 1
	fi
	echo "dom0: [$(up)] xl create $name" >/dev/console
	# Paused until the relay holds the console pty: no early line is lost.
	xl create -p "$cfg" || { echo "dom0: [$(up)] xl create $name failed" >/dev/console; exit 1; }
	id=$(xl domid "$name")
	t=$(console_tty "$id")
	if [ -n "$t" ]; then exec 3<"$t"; else exec 3</dev/null; fi
	# Through a pipe: the stamps are taken as lines arrive, not as the
	# (slow) console takes them.
	relay "$name" "$id" <&3 2>&1 | cat >/dev/console &
	exec 3<&-
	xl unpause "$name"
	echo "dom0: [$(up)] domU $name created (domain $id)" >/dev/console
	;;
stop)
	xl destroy "$2"
	;;
log)
	cat "/var/log/xen/console/guest-$2.log"
	;;
*)
	echo "usage: domu start|stop|log NAME" >&2
	exit 2
	;;
esac
EOF
	chmod 755 "$root/bin/domu"

	cat >"$root/etc/xen/scripts/hearth-vif" <<'EOF'
#!/bin/sh
# libxl's vif hotplug script (plain sh): "online"/"offline", with the backend
# path in $XENBUS_PATH and the interface in $vif. Adds the vif to the bridge
# named in the backend, then reports hotplug-status, which netback waits for.
case $1 in
online | add)
	br=$(xenstore-read "$XENBUS_PATH/bridge" 2>/dev/null) || br=xenbr0
	if ip link set "$vif" up && brctl addif "$br" "$vif"; then
		xenstore-write "$XENBUS_PATH/hotplug-status" connected
	else
		xenstore-write "$XENBUS_PATH/hotplug-error" "cannot add $vif to $br" \
			"$XENBUS_PATH/hotplug-status" error
		exit 1
	fi
	;;
offline | remove)
	br=$(xenstore-read "$XENBUS_PATH/bridge" 2>/dev/null) || br=xenbr0
	brctl delif "$br" "$vif" 2>/dev/null
	ip link set "$vif" down 2>/dev/null
	xenstore-rm "$XENBUS_PATH/hotplug-status" 2>/dev/null
	;;
esac
exit 0
EOF
	cat >"$root/etc/xen/scripts/hearth-block" <<'EOF'
#!/bin/sh
# libxl's block hotplug script (plain sh) for phy: disks: "add"/"remove", the
# backend path in $XENBUS_PATH. blkback opens the device named by
# physical-device (MAJOR:MINOR in hex); libxl waits for hotplug-status.
case $1 in
add)
	dev=$(xenstore-read "$XENBUS_PATH/params")
	if [ -b "$dev" ]; then
		xenstore-write "$XENBUS_PATH/physical-device" "$(stat -L -c %t:%T "$dev")" \
			"$XENBUS_PATH/physical-device-path" "$dev" \
			"$XENBUS_PATH/hotplug-status" connected
	else
		xenstore-write "$XENBUS_PATH/hotplug-error" "$dev is not a block device" \
			"$XENBUS_PATH/hotplug-status" error
		exit 1
	fi
	;;
remove)
	xenstore-rm "$XENBUS_PATH/hotplug-status" 2>/dev/null
	;;
esac
exit 0
EOF
	chmod 755 "$root/etc/xen/scripts/hearth-vif" "$root/etc/xen/scripts/hearth-block"
	# libxl's default block script name, for `xl block-attach` without script=.
	ln -s hearth-block "$root/etc/xen/scripts/block"
	cat >"$root/etc/xen/xl.conf" <<'EOF'
# dom0_mem is fixed on Xen's command line: never balloon dom0 down.
autoballoon="off"
# `xl network-attach DOMAIN` without options: our bridge and our sh script.
vif.default.bridge="xenbr0"
vif.default.script="/etc/xen/scripts/hearth-vif"
EOF
}

# The Linux domU's initramfs (a file inside linux-domu.cpio).
write_linux_domu_files() {
	cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# A Linux PV domU for comparison with Hearth: the marker, then DHCP and a
# web server on 443 and 80 (plain HTTP). Written by scripts/xen-dom0.sh.
/bin/busybox --install -s
mount -t proc proc /proc
read -r up _ </proc/uptime
echo "linux-domu: init reached (uptime $up)"
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules.load); do insmod "/lib/modules/$m"; done
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -q -n -t 10 -T 1 -s /usr/share/udhcpc/default.script
mkdir -p /www
echo "linux-domu ok" >/www/index.html
httpd -p 443 -h /www
httpd -p 80 -h /www
echo "linux-domu: serving http on :443 and :80 ($(ip -4 -o addr show eth0 | awk '{print $4}'))"
while :; do sleep 3600; done
EOF
	chmod 755 "$root/init"
}

# skeleton DIR: the directories every initramfs here has.
skeleton() {
	root=$1
	mkdir -p "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/run" "$root/var" \
		"$root/etc" "$root/root" "$root/lib/modules" "$root/lib/$triplet" \
		"$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
	ln -s ../run "$root/var/run"
	: >"$root/etc/modules.load"
}

base() {
	mkdir -p "$dom0"
	want=$(stamp)
	if [ -f "$dom0/stamp" ] && [ "$(cat "$dom0/stamp")" = "$want" ] &&
		[ -f "$dom0/base.cpio" ] && [ -f "$dom0/vmlinuz" ] &&
		{ [ "$arch" != arm64 ] || [ -f "$dom0/linux-domu.cpio" ]; }; then
		return 0
	fi
	exec 8>"$dom0/.lock"
	flock 8
	# Someone else may have built it while we waited.
	if [ -f "$dom0/stamp" ] && [ "$(cat "$dom0/stamp")" = "$want" ]; then
		return 0
	fi
	echo "  DOM0    $dom0 (Debian's $arch kernel, busybox, Xen 4.17 tools)" >&2
	tmp=$dom0/tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	pk=$tmp/pkgs
	for p in $PKGS; do
		deb=$("$top/scripts/deb-download.sh" "$arch" "$p")
		dpkg-deb -x "$deb" "$pk"
	done
	find "$pk/lib/modules/$kver" -name '*.ko' | while read -r f; do
		echo "$(basename "$f" .ko | tr - _) $f"
	done >"$tmp/modindex"

	# Dom0.
	root=$tmp/dom0
	skeleton "$root"
	add_busybox
	mkdir -p "$root/usr/lib/xen-4.17/bin" "$root/usr/bin" "$root/var/lib/xenstored"
	for b in $XEN_BINS; do
		cp "$pk/usr/lib/xen-4.17/bin/$b" "$root/usr/lib/xen-4.17/bin/"
	done
	cp "$pk/usr/bin/xenstore" "$root/usr/bin/"
	for c in read write rm ls list exists watch chmod control; do
		ln -s xenstore "$root/usr/bin/xenstore-$c"
	done
	# The dynamic linker, where the programs' PT_INTERP says.
	cp -L "$pk/lib/$ldso" "$root/lib/$ldso"
	libs_seen=$ldso
	# shellcheck disable=SC2046
	add_libs $(for b in $XEN_BINS; do echo "$root/usr/lib/xen-4.17/bin/$b"; done) "$root/usr/bin/xenstore"
	# glibc's pthread_cancel (xl's threads) dlopens libgcc_s.
	cp -L "$(find_lib libgcc_s.so.1)" "$root/lib/$triplet/"
	mods_seen=
	for m in $DOM0_MODS; do add_module "$m"; done
	write_udhcpc_script
	write_dom0_files
	/usr/bin/python3 "$top/scripts/mkcpio.py" "$tmp/base.cpio" "$root" --dev /dev/console:c:5:1

	# The Linux domU (arm64 only): its own initramfs, then a cpio that puts the
	# kernel and that initramfs where dom0's /etc/xen/linux.cfg expects them.
	if [ "$arch" = arm64 ]; then
		root=$tmp/domu
		skeleton "$root"
		add_busybox
		mods_seen=
		for m in $DOMU_MODS; do add_module "$m"; done
		write_udhcpc_script
		write_linux_domu_files
		mkdir -p "$tmp/linux/etc/hearth/linux"
		/usr/bin/python3 "$top/scripts/mkcpio.py" "$tmp/linux/etc/hearth/linux/initrd" "$root" \
			--dev /dev/console:c:5:1
		cp "$pk/boot/vmlinuz-$kver" "$tmp/linux/etc/hearth/linux/Image"
		/usr/bin/python3 "$top/scripts/mkcpio.py" "$tmp/linux-domu.cpio" "$tmp/linux"
		mv "$tmp/linux-domu.cpio" "$dom0/"
	fi

	mv "$tmp/base.cpio" "$dom0/"
	cp "$pk/boot/vmlinuz-$kver" "$dom0/vmlinuz"
	echo "$want" >"$dom0/stamp"
	rm -rf "$tmp"
	trap - EXIT
	exec 8>&-
}

# initrd OUT [options]: the per-run initramfs.
initrd() {
	out=$1
	shift
	image=$top/build/qemu-virt/hearth.img args='' disk=0 echo=0 start=hearth linux=0 datadisk=
	[ "$arch" = arm64 ] || image=$top/build/cubieboard2/hearth.img
	while [ $# -gt 0 ]; do
		case $1 in
		--image) image=$2 && shift ;;
		--args) args=$2 && shift ;;
		--disk) disk=1 ;;
		--data-disk) datadisk=$2 && shift ;;
		--echo) echo=1 ;;
		--start) start=$2 && shift ;;
		--linux) linux=1 ;;
		*) die "initrd: unknown option $1" ;;
		esac
		shift
	done
	case $start in hearth | none) ;; linux) linux=1 ;; *) die "--start hearth|linux|none" ;; esac
	case $args in *'"'* | *"'"*) die "bootargs may not contain quotes" ;; esac
	[ "$arch" = arm64 ] || [ "$linux" = 0 ] || die "no Linux domU for $arch"
	case $datadisk in
	"") ;;
	[A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9]) [ "$disk" = 0 ] || die "--disk or --data-disk" ;;
	*) die "--data-disk takes 4 letters or digits (the MBR disk identifier's bytes)" ;;
	esac
	[ -f "$image" ] || die "no Hearth image $image (make -j2 builds build/qemu-virt/hearth.img)"
	base
	mkdir -p "$(dirname "$out")"
	run=$out.run.$$
	rm -rf "$run"
	mkdir -p "$run/etc/hearth" "$run/etc/xen"
	trap 'rm -rf "$run"' EXIT
	cp "$image" "$run/etc/hearth/hearth.img"
	vif="'bridge=xenbr0,mac=00:16:3e:48:45:01,script=/etc/xen/scripts/hearth-vif'"
	{
		echo 'name = "hearth"'
		echo 'kernel = "/etc/hearth/hearth.img"'
		echo 'memory = 128'
		echo 'vcpus = 1'
		echo "vif = [ $vif ]"
		if [ "$disk" = 1 ]; then
			echo "disk = [ 'format=raw,vdev=xvda,access=rw,backendtype=phy,script=/etc/xen/scripts/hearth-block,target=/dev/vda' ]"
		fi
		if [ -n "$datadisk" ]; then
			# /init links /dev/hearth-data to the partition it finds.
			echo "disk = [ 'format=raw,vdev=xvda,access=rw,backendtype=phy,script=/etc/xen/scripts/hearth-block,target=/dev/hearth-data' ]"
		fi
		echo "extra = \"$args\""
		echo 'on_poweroff = "destroy"'
		if [ "$arch" = arm64 ]; then
			echo 'on_crash = "destroy"'
		else
			# A device nobody watches: a crashed Hearth comes back.
			echo 'on_crash = "restart"'
		fi
	} >"$run/etc/xen/hearth.cfg"
	[ "$arch" != arm64 ] || {
		echo 'name = "linux"'
		echo 'kernel = "/etc/hearth/linux/Image"'
		echo 'ramdisk = "/etc/hearth/linux/initrd"'
		echo 'memory = 128'
		echo 'vcpus = 1'
		echo "vif = [ $vif ]"
		echo 'extra = "console=hvc0 quiet"'
		echo 'on_poweroff = "destroy"'
		echo 'on_crash = "destroy"'
	} >"$run/etc/xen/linux.cfg"
	{
		echo "AUTOSTART=$start"
		echo "ECHO=$echo"
		[ -z "$datadisk" ] || echo "DATA_DISK=$datadisk"
	} >"$run/etc/hearth/run.conf"
	/usr/bin/python3 "$top/scripts/mkcpio.py" "$run.cpio" "$run"
	if [ "$linux" = 1 ]; then
		cat "$dom0/base.cpio" "$dom0/linux-domu.cpio" "$run.cpio" >"$out.tmp"
	else
		cat "$dom0/base.cpio" "$run.cpio" >"$out.tmp"
	fi
	mv "$out.tmp" "$out"
	rm -rf "$run" "$run.cpio"
	trap - EXIT
}

case $1 in
hypervisor)
	hypervisor
	echo "$XEN"
	;;
base)
	hypervisor
	base
	;;
initrd)
	shift
	[ $# -ge 1 ] || die "usage: $0 initrd OUT [options]"
	hypervisor
	initrd "$@"
	;;
*)
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
