#!/bin/sh
# deb-download.sh ARCH PACKAGE: makes sure Debian's binary package PACKAGE for
# ARCH, at the version third_party.lock pins, is in build/debs/ with the
# pinned sha256, and prints its path. A private apt state per architecture
# (build/apt-ARCH), never the system's; one apt at a time (flock). ARCH "all"
# (an architecture-independent package, pinned as "deb all ...") is looked up
# through the armhf state.
# Used by fetch-deb.sh (whole package) and fetch-deb-file.sh (one file).
set -e
arch=$1 pkg=$2
[ -n "$pkg" ] || { echo "usage: $0 ARCH PACKAGE" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/build/debs"
aptarch=$arch
[ "$arch" != all ] || aptarch=armhf
lists="$top/build/apt-$aptarch"
mkdir -p "$cache" "$lists/partial"

# The lock pins: deb ARCH PACKAGE VERSION SHA256
pin=$(awk -v a="$arch" -v p="$pkg" '$1=="deb" && $2==a && $3==p {print $4" "$5}' "$top/third_party.lock")
[ -n "$pin" ] || { echo "deb-download: $pkg:$arch is not in third_party.lock" >&2; exit 1; }
ver=${pin% *} sum=${pin#* }
# apt names the file with the epoch's colon escaped (1:2.0 -> 1%3a2.0).
file="$cache/${pkg}_$(echo "$ver" | sed 's/:/%3a/')_$arch.deb"

exec 9>"$lists/.lock"
flock 9
if [ ! -f "$file" ] || ! echo "$sum  $file" | sha256sum -c --status; then
	o="-oAPT::Sandbox::User=root -oAPT::Architecture=$aptarch -oAPT::Architectures=$aptarch"
	o="$o -oDir::State::Lists=$lists -oDir::Cache=$top/build/apt-cache-$aptarch"
	mkdir -p "$top/build/apt-cache-$aptarch/archives/partial"
	if [ ! -f "$lists/.updated" ]; then
		echo "  FETCH   apt lists for $aptarch" >&2
		apt-get $o update -qq >&2 && touch "$lists/.updated"
	fi
	echo "  FETCH   $pkg:$arch=$ver" >&2
	(cd "$cache" && apt-get $o download -qq "$pkg=$ver" >&2) || {
		echo "deb-download: $pkg $ver for $arch is not on the mirror any more;" \
			"update third_party.lock (apt-cache $o policy $pkg)" >&2
		exit 1
	}
	echo "$sum  $file" | sha256sum -c --status || {
		echo "deb-download: $file does not match the sha256 in third_party.lock" >&2
		rm -f "$file"
		exit 1
	}
fi
echo "$file"
