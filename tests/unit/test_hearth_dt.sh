#!/bin/sh
# test_hearth_dt.sh [HEARTH-DT]: tests the host tool and its driver-table
# generator from outside: exit codes and output on a real DTB, a missing file,
# malformed files; gen-driver-table.sh on a fixture of DRIVER lines (and on
# none, and on lines it must refuse), built into a second hearth-dt.
#
# Assumes the repository root as working directory, build/dtbs/ filled by
# fetch-dtbs.sh, and CC/CFLAGS/LDFLAGS/LDLIBS from tests/tools.mk (defaults
# below otherwise). Leaves out: the firmware side of the binding table (the
# QEMU e2e test compares the two).
set -u
tool=${1:-build/tools/hearth-dt}
dtb=build/dtbs/virt-gicv2.dtb
CC=${CC:-gcc}
CFLAGS=${CFLAGS:--std=gnu11 -g -O1 -fsanitize=address,undefined -Wall -Wextra -Werror -Iboards/include}
LDFLAGS=${LDFLAGS:--fsanitize=address,undefined}
LDLIBS=${LDLIBS:--lfdt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

bad() {
	echo "test_hearth_dt: FAIL: $*" >&2
	fail=1
}

# run NAME WANT-STATUS CMD...: runs CMD, output in $tmp/NAME.out/.err.
run() {
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	got=$?
	[ "$got" = "$want" ] || {
		bad "$name: exit status $got, want $want"
		sed 's/^/    /' "$tmp/$name.err" >&2
	}
}

# has NAME TEXT [out|err]: the output contains the fixed string TEXT.
has() {
	grep -qF -- "$2" "$tmp/$1.${3:-out}" || bad "$1: no \"$2\" in std${3:-out}"
}

[ -f "$dtb" ] || { bad "missing $dtb: run tests/unit/fetch-dtbs.sh"; exit 1; }
[ -x "$tool" ] || { bad "missing $tool: make -f tests/tools.mk tools"; exit 1; }

# A real DTB, and two at once.
run good 0 "$tool" "$dtb"
has good "== $dtb"
has good "model:    linux,dummy-virt"
has good "memory:   0x40000000-0x4fffffff (256 MiB)"
has good "reserved: none"
has good "stdout:   /pl011@9000000"
has good "  /pl011@9000000  arm,pl011  -> "
has good "  /  linux,dummy-virt  -> core"
has good "    /memory@40000000  -  -> core"
run two 0 "$tool" "$dtb" build/dtbs/sun7i-a20-cubieboard2.dtb
has two "model:    Cubietech Cubieboard2"
has two "stdout:   /soc/serial@1c28000"
has two "      /soc/serial@1c28400  snps,dw-apb-uart  -> disabled"
run bootargs 0 "$tool" build/dtbs/virt-bootargs.dtb
has bootargs 'bootargs: "console=ttyAMA0 hearth.test=sleep:200 quiet"'

# Failures: exit 1 and a message naming the file and the reason.
run missing 1 "$tool" "$tmp/nosuch.dtb"
has missing "nosuch.dtb: No such file or directory" err
head -c 100 "$dtb" >"$tmp/short.dtb"
run short 1 "$tool" "$tmp/short.dtb"
has short "short.dtb: not a valid DTB: totalsize exceeds the buffer" err
: >"$tmp/empty.dtb"
run empty 1 "$tool" "$tmp/empty.dtb"
has empty "empty.dtb: not a valid DTB: shorter than a DTB header" err
printf 'hello, this is no device tree at all, just some text\n' >"$tmp/text.dtb"
run text 1 "$tool" "$tmp/text.dtb"
has text "text.dtb: not a valid DTB: bad magic" err
head -c 5000000 /dev/zero >"$tmp/big.dtb"
run big 1 "$tool" "$tmp/big.dtb"
has big "big.dtb: larger than 4 MiB" err
# One bad file among good ones: the good ones are still shown.
run mixed 1 "$tool" "$tmp/short.dtb" "$dtb"
has mixed "  /pl011@9000000  arm,pl011  -> "
run usage 2 "$tool"
has usage "usage: hearth-dt" err

# gen-driver-table.sh on a fixture.
cat >"$tmp/fixture.c" <<'EOF'
/* DRIVER(not_me, x, "in a comment"); does not start the line */
#define DRIVER(a, b, ...) nothing
	DRIVER(fix_pl011, fix_probe, "arm,pl011", "arm,sbsa-uart");
DRIVER(fix_virtio, fix_probe, "virtio,mmio"); /* trailing comment */
DRIVER(fix_gic,fix_probe,"arm,cortex-a15-gic","arm,gic-400");
VIRTIO_DRIVER(fix_rng, 4, rng_probe);
EOF
build_with() {
	$CC $CFLAGS -c "$1" -o "$tmp/table.o" &&
		$CC $CFLAGS -c boards/core/hearth-dt.c -o "$tmp/hearth-dt.o" &&
		$CC $CFLAGS -c boards/core/dt.c -o "$tmp/dt.o" &&
		$CC $CFLAGS -c boards/core/bind.c -o "$tmp/bind.o" &&
		$CC $LDFLAGS "$tmp/hearth-dt.o" "$tmp/dt.o" "$tmp/bind.o" "$tmp/table.o" \
			$LDLIBS -o "$tmp/hearth-dt"
}
if scripts/gen-driver-table.sh "$tmp/table.c" "$tmp/fixture.c" && build_with "$tmp/table.c"; then
	grep -q "hearth_dt_ndrivers = 3;" "$tmp/table.c" || bad "fixture: want 3 drivers"
	run fixture 0 "$tmp/hearth-dt" "$dtb"
	has fixture "    /pl011@9000000  arm,pl011  -> fix_pl011"
	has fixture "    /virtio_mmio@a000000  virtio,mmio  -> fix_virtio"
	has fixture "    /intc@8000000  arm,cortex-a15-gic  -> fix_gic"
	has fixture "    /pl031@9010000  arm,pl031  -> unbound"
else
	bad "fixture: generating or building the table failed"
fi
# No drivers at all.
if scripts/gen-driver-table.sh "$tmp/table.c" && build_with "$tmp/table.c"; then
	run nodrivers 0 "$tmp/hearth-dt" "$dtb"
	has nodrivers "    /pl011@9000000  arm,pl011  -> unbound"
else
	bad "no drivers: generating or building the table failed"
fi
# Lines the generator must refuse rather than drop.
printf 'DRIVER(split, probe,\n\t"arm,pl011");\n' >"$tmp/split.c"
printf 'DRIVER(none, probe);\n' >"$tmp/none.c"
printf 'DRIVER(twice, p, "a");\nDRIVER(twice, p, "b");\n' >"$tmp/twice.c"
for f in split none twice; do
	if scripts/gen-driver-table.sh "$tmp/table.c" "$tmp/$f.c" 2>"$tmp/$f.err"; then
		bad "gen-driver-table accepted $f.c"
	else
		has "$f" "$f.c:" err
	fi
done

[ $fail = 0 ] && echo "test_hearth_dt: all passed"
exit $fail
