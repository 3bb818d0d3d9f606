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
lock="$top/third_party.lock"
cache="$top/build/debs"
lists="$top/build/apt-$arch"
mkdir -p "$cache" "$lists/partial"

# The lock pins: deb ARCH PACKAGE VERSION SHA256
pin=$(awk -v a="$arch" -v p="$pkg" '$1=="deb" && $2==a && $3==p {print $4" "$5}' "$lock")
[ -n "$pin" ] || { echo "fetch-deb: $pkg:$arch is not in third_party.lock" >&2; exit 1; }
ver=${pin% *} sum=${pin#* }
file="$cache/${pkg}_$(echo "$ver" | sed 's/^[0-9]*://')_$arch.deb"

exec 9>"$lists/.lock"
flock 9
if [ ! -f "$file" ] || ! echo "$sum  $file" | sha256sum -c --status; then
	o="-oAPT::Architecture=$arch -oAPT::Architectures=$arch -oDir::State::Lists=$lists -oDir::Cache=$top/build/apt-cache-$arch"
	mkdir -p "$top/build/apt-cache-$arch/archives/partial"
	if [ ! -f "$lists/.updated" ]; then
		echo "  FETCH   apt lists for $arch"
		apt-get $o update -qq && touch "$lists/.updated"
	fi
	echo "  FETCH   $pkg:$arch=$ver"
	(cd "$cache" && apt-get $o download -qq "$pkg=$ver") || {
		echo "fetch-deb: $pkg $ver for $arch is not on the mirror any more;" \
			"update third_party.lock (apt-cache $o policy $pkg)" >&2
		exit 1
	}
	echo "$sum  $file" | sha256sum -c --status || {
		echo "fetch-deb: $file does not match the sha256 in third_party.lock" >&2
		exit 1
	}
fi
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
