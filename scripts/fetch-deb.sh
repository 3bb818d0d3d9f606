#!/bin/sh
# fetch-deb.sh ARCH PACKAGE DEST: downloads Debian's binary package PACKAGE for
# ARCH (e.g. libfdt-dev for arm64) without touching the system's apt setup or
# its architectures, checks it against third_party.lock, and extracts it into
# DEST. The .deb is cached under build/debs/.
# Assumes the system's apt sources reach Debian bookworm.
set -e
arch=$1 pkg=$2 dest=$3
[ -n "$dest" ] || { echo "usage: $0 ARCH PACKAGE DEST" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
file=$("$top/scripts/deb-download.sh" "$arch" "$pkg")
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
dpkg-deb -x "$file" "$dest.tmp/root"
# Flatten the multiarch layout: include/ and lib/.
mkdir -p "$dest.tmp/include" "$dest.tmp/lib"
[ -d "$dest.tmp/root/usr/include" ] && cp -r "$dest.tmp/root/usr/include/." "$dest.tmp/include/"
for d in "$dest.tmp"/root/usr/lib/*/ "$dest.tmp/root/usr/lib/"; do
	[ -d "$d" ] && find "$d" -maxdepth 1 -name '*.a' -exec cp {} "$dest.tmp/lib/" \;
done
rm -rf "$dest"
mv "$dest.tmp" "$dest"
