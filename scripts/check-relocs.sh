#!/bin/sh
# check-relocs.sh ELF: the image relocates itself and only knows its
# architecture's RELATIVE relocation (R_AARCH64_RELATIVE, R_ARM_RELATIVE);
# any other dynamic relocation would be silently wrong at run time, so
# refuse the build instead. binutils' readelf reads either architecture.
set -e
elf=$1
bad=$(aarch64-linux-gnu-readelf -rW "$elf" | awk '/^ *[0-9a-f]+ +[0-9a-f]+ +R_/ &&
	$3 != "R_AARCH64_RELATIVE" && $3 != "R_AARCH64_NONE" &&
	$3 != "R_ARM_RELATIVE" && $3 != "R_ARM_NONE" {print $3}' | sort -u)
if [ -n "$bad" ]; then
	echo "check-relocs: $elf has relocations head.S cannot apply: $bad" >&2
	exit 1
fi
