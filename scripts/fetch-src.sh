#!/bin/sh
# fetch-src.sh PACKAGE DEST: fetches Debian's source package PACKAGE at the
# version third_party.lock pins, checks its .dsc against the lock's sha256
# (dpkg-source then checks every tarball against the .dsc), and unpacks it
# into DEST. Uses a private apt configuration under build/ (bookworm,
# bookworm-updates, bookworm-security deb-src); the system's apt setup is not
# touched. Downloads are cached in build/srcs/.
set -e
pkg=$1 dest=$2
[ -n "$dest" ] || { echo "usage: $0 PACKAGE DEST" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
lock="$top/third_party.lock"
pin=$(awk -v p="$pkg" '$1=="src" && $2==p {print $3" "$4}' "$lock")
[ -n "$pin" ] || { echo "fetch-src: $pkg is not in third_party.lock" >&2; exit 1; }
ver=${pin% *} sum=${pin#* }
cache="$top/build/srcs"
apt="$top/build/apt-src"
mkdir -p "$cache" "$apt/lists/partial" "$apt/sources.list.d"
dsc="$cache/${pkg}_$(echo "$ver" | sed 's/^[0-9]*://').dsc"

# One apt at a time on the shared lists (parallel builds fetch in parallel).
exec 9>"$apt/.lock"
flock 9
if [ ! -f "$dsc" ] || ! echo "$sum  $dsc" | sha256sum -c --status; then
	cat > "$apt/sources.list.d/debian-src.sources" <<EOS
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	o="-oDir::Etc::SourceList=/dev/null -oDir::Etc::SourceParts=$apt/sources.list.d -oDir::State::Lists=$apt/lists"
	if [ ! -f "$apt/lists/.updated" ]; then
		echo "  FETCH   apt source lists"
		apt-get $o update -qq && touch "$apt/lists/.updated"
	fi
	echo "  FETCH   source $pkg=$ver"
	(cd "$cache" && apt-get $o source --download-only -qq "$pkg=$ver" >/dev/null 2>&1) || {
		echo "fetch-src: Debian no longer has $pkg $ver; pick the current revision" \
			"(apt-cache $o showsrc $pkg) and update third_party.lock" >&2
		exit 1
	}
	echo "$sum  $dsc" | sha256sum -c --status || {
		echo "fetch-src: $dsc does not match the sha256 in third_party.lock" >&2
		exit 1
	}
fi
rm -rf "$dest" "$dest.tmp"
mkdir -p "$(dirname "$dest")"
# The .dsc is pinned by hash above (no keyring needed for its signature);
# dpkg-source checks each tarball against the .dsc's sha256 sums.
if ! dpkg-source --require-strong-checksums -x "$dsc" "$dest.tmp" >"$cache/$pkg.unpack.log" 2>&1; then
	cat "$cache/$pkg.unpack.log" >&2
	echo "fetch-src: dpkg-source could not unpack $dsc" >&2
	exit 1
fi
mv "$dest.tmp" "$dest"
echo "  UNPACK  $pkg $ver -> $dest"
