#!/bin/sh
# fetch-deb-file.sh ARCH PACKAGE PATH-GLOB DEST: downloads Debian's binary
# package PACKAGE for ARCH at the version pinned in third_party.lock, checks its
# sha256, and extracts the one file matching PATH-GLOB (a tar wildcard on the
# package's paths, e.g. './usr/lib/linux-image-*/sun7i-a20-cubieboard2.dtb')
# into DEST. The sibling of fetch-deb.sh, for when a whole package is too much
# (a 40 MB kernel package for one DTB).
#
# Assumes the system's apt sources reach Debian bookworm; uses a private apt
# state per architecture (build/apt-ARCH, shared with fetch-deb.sh), never the
# system's. Caches the .deb under build/debs/ and remembers which pin DEST came
# from (DEST.pin): a second run with the same pin downloads and extracts nothing.
# Leaves out: more than one file per call, signature checks beyond apt's own.
set -e
arch=$1 pkg=$2 glob=$3 dest=$4
[ -n "$dest" ] || { echo "usage: $0 ARCH PACKAGE PATH-GLOB DEST" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
lock="$top/third_party.lock"
cache="$top/build/debs"
lists="$top/build/apt-$arch"

# The lock pins: deb ARCH PACKAGE VERSION SHA256
pin=$(awk -v a="$arch" -v p="$pkg" '$1=="deb" && $2==a && $3==p {print $4" "$5}' "$lock")
[ -n "$pin" ] || { echo "fetch-deb-file: $pkg:$arch is not in third_party.lock" >&2; exit 1; }
ver=${pin% *} sum=${pin#* }
stamp="$arch $pkg $ver $sum $glob"

# Already extracted from this very pin: nothing to do.
if [ -f "$dest" ] && [ -f "$dest.pin" ] && [ "$(cat "$dest.pin")" = "$stamp" ]; then
	exit 0
fi

file=$("$top/scripts/deb-download.sh" "$arch" "$pkg")

tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$file" | tar -x -C "$tmp" --wildcards "$glob" || {
	echo "fetch-deb-file: nothing in $pkg $ver matches '$glob'" >&2
	exit 1
}
n=$(find "$tmp" -type f | wc -l)
[ "$n" = 1 ] || { echo "fetch-deb-file: '$glob' matches $n files in $pkg, want 1" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
mv "$(find "$tmp" -type f)" "$dest"
echo "$stamp" >"$dest.pin"
