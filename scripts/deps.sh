#!/bin/sh
# deps.sh: installs the Debian packages Hearth's build and tests need, and only
# those that are missing. Idempotent; when all is there it is one dpkg-query
# call (well under a second). Needs root (or sudo) only when something is missing.
# --quiet prints nothing unless it installs. chromium is for the browser tests
# (tests/browser/: playwright-core from npm drives it, with the machine's Node.js).
# u-boot-tools, fdisk, dosfstools and mtools build the Cubieboard2's SD card
# image in a file (scripts/sdcard.sh).
set -e
PKGS="make gcc libc6-dev gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu \
picolibc-aarch64-linux-gnu gcc-arm-none-eabi binutils-arm-none-eabi picolibc-arm-none-eabi \
device-tree-compiler python3 python3-kconfiglib \
libfdt-dev qemu-system-arm dpkg-dev curl ca-certificates xz-utils bc tcl \
libslirp-dev python3-yaml \
u-boot-tools fdisk dosfstools mtools \
chromium"

quiet=0
[ "$1" = "--quiet" ] && quiet=1

missing=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PKGS 2>/dev/null |
	awk '$2 != "ii" {print $1}')
# Packages dpkg has never heard of are not listed at all: add them.
known=$(dpkg-query -W -f='${Package}\n' $PKGS 2>/dev/null || true)
for p in $PKGS; do
	echo "$known" | grep -qx "$p" || missing="$missing $p"
done
missing=$(echo $missing)
if [ -z "$missing" ]; then
	[ $quiet = 1 ] || echo "deps: all Debian packages present"
	exit 0
fi
echo "deps: installing $missing"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
