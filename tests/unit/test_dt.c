/*
 * test_dt.c: unit tests of boards/core/dt.c and bind.c against real DTBs
 * (QEMU virt dumps and Debian's Allwinner A20 Cubieboard2 DTB, fetched by
 * tests/unit/fetch-dtbs.sh into build/dtbs/), small trees built here with
 * libfdt's read-write API for the cases real DTBs do not have, and malformed
 * blobs derived from the real ones (truncations, bad headers, broken
 * structure, 5000 seeded random mutations run through every helper).
 *
 * Assumes it runs from the repository root (or gets the DTB directory as
 * argv[1]) under ASan + UBSan, which turn any out-of-bounds read into a
 * failure; a missing DTB is a failure, never a skip. Every blob sits in a
 * buffer of exactly its length. Leaves out: probing (driver.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "board.h"

#include "check.h"

#define CHECK_INT(got, want, what)                                                                 \
	do {                                                                                       \
		long long g_ = (got), w_ = (want);                                                 \
		CHECK(g_ == w_, "%s: got %lld, want %lld", what, g_, w_);                          \
	} while (0)

#define CHECK_HEX(got, want, what)                                                                 \
	do {                                                                                       \
		uint64_t g_ = (got), w_ = (want);                                                  \
		CHECK(g_ == w_, "%s: got 0x%" PRIx64 ", want 0x%" PRIx64, what, g_, w_);           \
	} while (0)

#define CHECK_STR(got, want, what)                                                                 \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		CHECK(g_ && !strcmp(g_, w_), "%s: got \"%s\", want \"%s\"", what,                  \
		      g_ ? g_ : "(null)", w_);                                                     \
	} while (0)

/* bind.c calls this for probed devices; the firmware's is in driver.c. */
const char *board_status_str(int status)
{
	return status == 0 ? "ok" : status == -ENODEV ? "no device" : "failed";
}

/* ------------------------------------------------------------------ */
/* Blobs                                                               */

static const char *dtb_dir = "build/dtbs";

struct blob {
	void *fdt;
	size_t len;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "test_dt: out of memory\n");
		exit(1);
	}
	return p;
}

static void *dup_exact(const void *src, size_t len)
{
	void *p = xmalloc(len);

	memcpy(p, src, len);
	return p;
}

static struct blob load(const char *name)
{
	char path[512];
	struct blob b = {NULL, 0};
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dtb_dir, name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr,
			"test_dt: FAIL: missing %s: run tests/unit/fetch-dtbs.sh "
			"(make -f tests/tools.mk unit does)\n",
			path);
		exit(1);
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "test_dt: FAIL: cannot size %s\n", path);
		exit(1);
	}
	b.len = (size_t)n;
	b.fdt = xmalloc(b.len);
	if (fread(b.fdt, 1, b.len, f) != b.len) {
		fprintf(stderr, "test_dt: FAIL: short read on %s\n", path);
		exit(1);
	}
	fclose(f);
	return b;
}

/* The same tree without free space, in an exactly sized buffer. */
static struct blob packed(struct blob in)
{
	size_t room = fdt_totalsize(in.fdt);
	void *tmp = xmalloc(room);
	struct blob b;

	if (fdt_open_into(in.fdt, tmp, (int)room) || fdt_pack(tmp)) {
		fprintf(stderr, "test_dt: FAIL: fdt_open_into/fdt_pack\n");
		exit(1);
	}
	b.len = fdt_totalsize(tmp);
	b.fdt = dup_exact(tmp, b.len);
	free(tmp);
	return b;
}

static int at(const void *fdt, const char *path)
{
	int node = fdt_path_offset(fdt, path);

	CHECK(node >= 0, "no node %s (%s)", path, fdt_strerror(node));
	return node;
}

static void check_reg(const void *fdt, const char *path, int index, uint64_t addr, uint64_t size)
{
	uint64_t a = 0, s = 0;
	int err = board_dt_reg(fdt, at(fdt, path), index, &a, &s);

	CHECK(err == 0, "reg %s[%d]: %s", path, index, board_dt_strerror(err));
	if (!err) {
		CHECK(a == addr, "reg %s[%d] address 0x%" PRIx64 ", want 0x%" PRIx64, path, index,
		      a, addr);
		CHECK(s == size, "reg %s[%d] size 0x%" PRIx64 ", want 0x%" PRIx64, path, index, s,
		      size);
	}
}

static void check_reg_err(const void *fdt, const char *path, int index, int want)
{
	uint64_t a, s;
	int err = board_dt_reg(fdt, at(fdt, path), index, &a, &s);

	CHECK(err == want, "reg %s[%d]: got %d (%s), want %d (%s)", path, index, err,
	      board_dt_strerror(err), want, board_dt_strerror(want));
}

static void check_irq(const void *fdt, const char *path, int index, unsigned int irq,
		      unsigned int flags, const char *parent)
{
	struct dt_irq out = {0, 0, -1};
	int err = board_dt_irq(fdt, at(fdt, path), index, &out);

	CHECK(err == 0, "irq %s[%d]: %s", path, index, board_dt_strerror(err));
	if (!err) {
		CHECK(out.irq == irq, "irq %s[%d] = %u, want %u", path, index, out.irq, irq);
		CHECK(out.flags == flags, "irq %s[%d] flags %u, want %u", path, index, out.flags,
		      flags);
		CHECK(out.parent == at(fdt, parent), "irq %s[%d] parent offset %d, want %s", path,
		      index, out.parent, parent);
	}
}

static void check_irq_err(const void *fdt, const char *path, int index, int want)
{
	struct dt_irq out;
	int err = board_dt_irq(fdt, at(fdt, path), index, &out);

	CHECK(err == want, "irq %s[%d]: got %d (%s), want %d (%s)", path, index, err,
	      board_dt_strerror(err), want, board_dt_strerror(want));
}

static void check_compatible(const void *fdt, const char *path, const char *compat)
{
	CHECK(fdt_node_check_compatible(fdt, at(fdt, path), compat) == 0,
	      "%s is not compatible with %s", path, compat);
}

static int count_cpus(const void *fdt)
{
	int cpus = at(fdt, "/cpus"), node, n = 0, len;
	const char *type;

	fdt_for_each_subnode(node, fdt, cpus)
	{
		type = fdt_getprop(fdt, node, "device_type", &len);
		if (type && len == 4 && !strcmp(type, "cpu"))
			n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* QEMU virt                                                           */

static void check_memory(const void *fdt, uint64_t base, uint64_t size, const char *what)
{
	struct mem_region r[4];
	int n = board_dt_memory(fdt, r, 4);

	CHECK_INT(n, 1, what);
	if (n == 1) {
		CHECK_HEX(r[0].base, base, what);
		CHECK_HEX(r[0].size, size, what);
	}
}

/* What every virt machine has, whatever the GIC. */
static void check_virt_common(const void *fdt, const char *what)
{
	struct mem_region r[4];
	char buf[64];
	int uart = at(fdt, "/pl011@9000000");

	CHECK_INT(board_dt_check(fdt, fdt_totalsize(fdt)), 0, what);
	CHECK_STR(board_dt_model(fdt), "linux,dummy-virt", what);
	CHECK_INT(board_dt_reserved(fdt, r, 4), 0, what);
	CHECK_INT(board_dt_stdout(fdt), uart, what);
	CHECK(board_dt_enabled(fdt, uart), "%s: pl011 disabled", what);

	/* The console: reg, SPI 1 -> INTID 33, level-high. */
	check_reg(fdt, "/pl011@9000000", 0, 0x9000000, 0x1000);
	check_reg_err(fdt, "/pl011@9000000", 1, -ENOENT);
	check_irq(fdt, "/pl011@9000000", 0, 33, IRQ_LEVEL, "/intc@8000000");
	check_irq_err(fdt, "/pl011@9000000", 1, -ENOENT);
	check_irq(fdt, "/pl031@9010000", 0, 34, IRQ_LEVEL, "/intc@8000000");
	check_irq(fdt, "/pl061@9030000", 0, 39, IRQ_LEVEL, "/intc@8000000");
	/* virtio-mmio: SPI 16.. edge-rising. */
	check_reg(fdt, "/virtio_mmio@a000000", 0, 0xa000000, 0x200);
	check_irq(fdt, "/virtio_mmio@a000000", 0, 48, IRQ_EDGE, "/intc@8000000");
	check_irq(fdt, "/virtio_mmio@a003e00", 0, 32 + 47, IRQ_EDGE, "/intc@8000000");
	/* Generic timer PPIs: secure 13, non-secure 14, virtual 11, hyp 10. */
	check_irq(fdt, "/timer", 0, 29, IRQ_LEVEL, "/intc@8000000");
	check_irq(fdt, "/timer", 1, 30, IRQ_LEVEL, "/intc@8000000");
	check_irq(fdt, "/timer", 2, 27, IRQ_LEVEL, "/intc@8000000");
	check_irq(fdt, "/timer", 3, 26, IRQ_LEVEL, "/intc@8000000");
	check_irq_err(fdt, "/timer", 4, -ENOENT);
	check_irq(fdt, "/pmu", 0, 23, IRQ_LEVEL, "/intc@8000000");
	/* 64-bit addresses, two-entry reg. */
	check_reg(fdt, "/pcie@10000000", 0, 0x4010000000ull, 0x10000000);
	check_reg(fdt, "/flash@0", 1, 0x4000000, 0x4000000);
	check_reg(fdt, "/fw-cfg@9020000", 0, 0x9020000, 0x18);
	/* A cpu's reg is an MPIDR, not an address: /cpus has no ranges. */
	check_reg_err(fdt, "/cpus/cpu@0", 0, -ENOENT);
	check_reg_err(fdt, "/psci", 0, -ENOENT);
	check_irq_err(fdt, "/psci", 0, -ENOENT);
	check_reg_err(fdt, "/", 0, -ENOENT);

	CHECK_INT(board_dt_path(fdt, uart, buf, sizeof(buf)), 0, what);
	CHECK_STR(buf, "/pl011@9000000", what);
	CHECK_INT(board_dt_path(fdt, uart, buf, 8), -ENOSPC, what);
	CHECK_INT(board_dt_path(fdt, 0, buf, sizeof(buf)), 0, what);
	CHECK_STR(buf, "/", what);
	CHECK_INT(board_dt_path(fdt, -1, buf, sizeof(buf)), -EINVAL, what);
	CHECK_INT(board_dt_path(fdt, 3, buf, sizeof(buf)), -EINVAL, what);
	CHECK_INT(board_dt_reg(fdt, 3, 0, NULL, NULL), -EINVAL, what);
	CHECK_INT(board_dt_irq(fdt, uart, -1, NULL), -EINVAL, what);
}

static void test_virt_gicv2(void)
{
	struct blob b = load("virt-gicv2.dtb");
	const void *fdt = b.fdt;

	CHECK_INT(board_dt_check(fdt, b.len), 0, "virt-gicv2");
	check_virt_common(fdt, "virt-gicv2");
	check_memory(fdt, 0x40000000, 0x10000000, "virt-gicv2 memory (-m 256M)");
	CHECK_STR(board_dt_bootargs(fdt), "", "virt-gicv2 bootargs");
	CHECK_INT(count_cpus(fdt), 1, "virt-gicv2 cpus");
	check_compatible(fdt, "/intc@8000000", "arm,cortex-a15-gic");
	check_reg(fdt, "/intc@8000000", 0, 0x8000000, 0x10000); /* distributor */
	check_reg(fdt, "/intc@8000000", 1, 0x8010000, 0x10000); /* cpu interface */
	check_reg_err(fdt, "/intc@8000000", 2, -ENOENT);
	/* Through the GIC node's empty ranges. */
	check_reg(fdt, "/intc@8000000/v2m@8020000", 0, 0x8020000, 0x1000);
	free(b.fdt);
}

static void test_virt_gicv3(void)
{
	static const char *const names[] = {"virt-gicv3.dtb", "virt-el2.dtb"};
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct blob b = load(names[i]);
		const void *fdt = b.fdt;

		CHECK_INT(board_dt_check(fdt, b.len), 0, names[i]);
		check_virt_common(fdt, names[i]);
		check_memory(fdt, 0x40000000, 0x10000000, names[i]);
		check_compatible(fdt, "/intc@8000000", "arm,gic-v3");
		check_reg(fdt, "/intc@8000000", 0, 0x8000000, 0x10000);	 /* GICD */
		check_reg(fdt, "/intc@8000000", 1, 0x80a0000, 0xf60000); /* GICR */
		check_reg(fdt, "/intc@8000000/its@8080000", 0, 0x8080000, 0x20000);
		/* With EL2, the GIC's maintenance interrupt, PPI 9, from itself. */
		if (i == 1)
			check_irq(fdt, "/intc@8000000", 0, 25, IRQ_LEVEL, "/intc@8000000");
		else
			check_irq_err(fdt, "/intc@8000000", 0, -ENOENT);
		free(b.fdt);
	}
}

static void test_virt_sizes(void)
{
	struct blob b = load("virt-32m.dtb");

	CHECK_INT(board_dt_check(b.fdt, b.len), 0, "virt-32m");
	check_memory(b.fdt, 0x40000000, 0x2000000, "virt-32m memory (-m 32M)");
	free(b.fdt);
	b = load("virt-1g.dtb");
	CHECK_INT(board_dt_check(b.fdt, b.len), 0, "virt-1g");
	check_memory(b.fdt, 0x40000000, 0x40000000, "virt-1g memory (-m 1G)");
	free(b.fdt);
	b = load("virt-smp4.dtb");
	CHECK_INT(board_dt_check(b.fdt, b.len), 0, "virt-smp4");
	CHECK_INT(count_cpus(b.fdt), 4, "virt-smp4 cpu nodes");
	check_reg_err(b.fdt, "/cpus/cpu@3", 0, -ENOENT);
	check_virt_common(b.fdt, "virt-smp4");
	free(b.fdt);
}

static void test_virt_bootargs(void)
{
	struct blob b = load("virt-bootargs.dtb");
	const char *args;
	char val[32];

	CHECK_INT(board_dt_check(b.fdt, b.len), 0, "virt-bootargs");
	args = board_dt_bootargs(b.fdt);
	CHECK_STR(args, "console=ttyAMA0 hearth.test=sleep:200 quiet", "bootargs");
	CHECK_INT(board_bootarg(args, "hearth.test", val, sizeof(val)), 9, "hearth.test");
	CHECK_STR(val, "sleep:200", "hearth.test value");
	CHECK_INT(board_bootarg(args, "console", val, sizeof(val)), 7, "console");
	CHECK_STR(val, "ttyAMA0", "console value");
	CHECK_INT(board_bootarg(args, "quiet", val, sizeof(val)), 0, "quiet");
	CHECK_STR(val, "", "quiet value");
	CHECK_INT(board_bootarg(args, "hearth", val, sizeof(val)), -ENOENT, "hearth");
	CHECK_INT(board_dt_stdout(b.fdt), at(b.fdt, "/pl011@9000000"), "stdout");
	free(b.fdt);
}

/* ------------------------------------------------------------------ */
/* Allwinner A20 Cubieboard2 (Debian's Linux 6.1 DTB)                  */

static void test_a20(void)
{
	struct blob b = load("sun7i-a20-cubieboard2.dtb");
	const void *fdt = b.fdt;
	const char *gic = "/soc/interrupt-controller@1c81000";
	struct mem_region r[4];
	size_t room = b.len + 4096;
	void *ub;
	int node;

	CHECK_INT(board_dt_check(fdt, b.len), 0, "a20 check");
	CHECK(strstr(board_dt_model(fdt), "Cubieboard2") != NULL, "model %s", board_dt_model(fdt));
	check_compatible(fdt, gic, "arm,gic-400");
	/* Debian's DTB leaves /memory to U-Boot: no banks, no reserved
	 * regions (the CMA pool has no reg). */
	CHECK_INT(board_dt_memory(fdt, r, 4), 0, "a20 memory banks before U-Boot");
	CHECK_INT(board_dt_reserved(fdt, r, 4), 0, "a20 reserved");
	/* stdout-path = "serial0:115200n8", an alias with options. */
	CHECK_INT(board_dt_stdout(fdt), at(fdt, "/soc/serial@1c28000"), "a20 stdout");
	CHECK_STR(board_dt_bootargs(fdt), "", "a20 bootargs");

	check_reg(fdt, "/soc/serial@1c28000", 0, 0x1c28000, 0x400);
	check_irq(fdt, "/soc/serial@1c28000", 0, 33, IRQ_LEVEL, gic);
	check_irq(fdt, "/soc/serial@1c29c00", 0, 32 + 0x14, IRQ_LEVEL, gic);
	CHECK(board_dt_enabled(fdt, at(fdt, "/soc/serial@1c28000")), "uart0 enabled");
	CHECK(!board_dt_enabled(fdt, at(fdt, "/soc/serial@1c28400")), "uart1 disabled");
	check_reg(fdt, gic, 1, 0x1c82000, 0x2000);
	check_irq(fdt, gic, 0, 25, IRQ_LEVEL, gic);
	/* armv7-timer PPIs with the GICv2 CPU mask in the flags (0xf08). */
	check_irq(fdt, "/timer", 0, 29, IRQ_LEVEL, gic);
	check_irq(fdt, "/timer", 2, 27, IRQ_LEVEL, gic);
	check_irq(fdt, "/timer", 3, 26, IRQ_LEVEL, gic);
	check_irq(fdt, "/soc/hstimer@1c60000", 3, 32 + 0x54, IRQ_LEVEL, gic);
	/* Translation through nested, non-identity ranges. */
	check_reg(fdt, "/soc/system-control@1c00000/sram@10000/sram-section@0", 0, 0x10000, 0x1000);
	check_reg(fdt, "/soc/system-control@1c00000/sram@1d00000/sram-section@0", 0, 0x1d00000,
		  0x80000);
	check_reg(fdt, "/soc/system-control@1c00000/sram@0/sram-section@8000", 0, 0x8000, 0x4000);
	/* An I2C device: an address on a bus without ranges, and a 2-cell
	 * interrupt through the NMI controller. */
	check_reg_err(fdt, "/soc/i2c@1c2ac00/pmic@34", 0, -ENOENT);
	check_irq(fdt, "/soc/i2c@1c2ac00/pmic@34", 0, 0, IRQ_LEVEL,
		  "/soc/interrupt-controller@1c00030");
	check_irq(fdt, "/soc/interrupt-controller@1c00030", 0, 32, IRQ_LEVEL, gic);

	/* What U-Boot does before booting us: a memory node and a reservation. */
	ub = xmalloc(room);
	CHECK_INT(fdt_open_into(fdt, ub, (int)room), 0, "open_into");
	node = fdt_add_subnode(ub, 0, "memory@40000000");
	CHECK(node >= 0, "add memory node: %s", fdt_strerror(node));
	CHECK_INT(fdt_setprop_string(ub, node, "device_type", "memory"), 0, "device_type");
	CHECK_INT(fdt_setprop_u32(ub, node, "reg", 0x40000000), 0, "reg");
	CHECK_INT(fdt_appendprop_u32(ub, node, "reg", 0x40000000), 0, "reg size");
	CHECK_INT(fdt_add_mem_rsv(ub, 0x4f000000, 0x100000), 0, "memreserve");
	CHECK_INT(board_dt_check(ub, room), 0, "a20 after U-Boot");
	CHECK_INT(board_dt_memory(ub, r, 4), 1, "a20 memory banks after U-Boot");
	CHECK_HEX(r[0].base, 0x40000000, "a20 bank base");
	CHECK_HEX(r[0].size, 0x40000000, "a20 bank size");
	CHECK_INT(board_dt_reserved(ub, r, 4), 1, "a20 reserved after U-Boot");
	CHECK_HEX(r[0].base, 0x4f000000, "a20 memreserve base");
	CHECK_HEX(r[0].size, 0x100000, "a20 memreserve size");
	free(ub);
	free(b.fdt);
}

/* ------------------------------------------------------------------ */
/* Small trees for what real DTBs lack                                 */

#define TREE_SIZE 16384

static void *tree_new(void)
{
	void *t = xmalloc(TREE_SIZE);

	if (fdt_create_empty_tree(t, TREE_SIZE)) {
		fprintf(stderr, "test_dt: FAIL: fdt_create_empty_tree\n");
		exit(1);
	}
	return t;
}

/* Adds the node at (path) (its parent must exist). */
static void mk(void *t, const char *path)
{
	const char *slash = strrchr(path, '/');
	int parent = slash == path ? 0 : fdt_path_offset_namelen(t, path, (int)(slash - path));
	int err = parent < 0 ? parent : fdt_add_subnode(t, parent, slash + 1);

	if (err < 0) {
		fprintf(stderr, "test_dt: FAIL: building %s: %s\n", path, fdt_strerror(err));
		exit(1);
	}
}

/* Sets (name) of (path) to (n) cells. */
static void cells(void *t, const char *path, const char *name, int n, ...)
{
	fdt32_t v[32];
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n && i < 32; i++)
		v[i] = cpu_to_fdt32(va_arg(ap, uint32_t));
	va_end(ap);
	if (fdt_setprop(t, fdt_path_offset(t, path), name, v, (int)sizeof(v[0]) * n)) {
		fprintf(stderr, "test_dt: FAIL: setting %s %s\n", path, name);
		exit(1);
	}
}

/* Sets (name) of (path) to (len) raw bytes (strings with or without NUL). */
static void bytes(void *t, const char *path, const char *name, const void *v, int len)
{
	if (fdt_setprop(t, fdt_path_offset(t, path), name, v, len)) {
		fprintf(stderr, "test_dt: FAIL: setting %s %s\n", path, name);
		exit(1);
	}
}

static void str(void *t, const char *path, const char *name, const char *s)
{
	bytes(t, path, name, s, (int)strlen(s) + 1);
}

/* Packs (t) into an exactly sized blob that board_dt_check must accept. */
static void *tree_done(void *t)
{
	void *b;
	int err;

	fdt_pack(t);
	b = dup_exact(t, fdt_totalsize(t));
	free(t);
	err = board_dt_check(b, fdt_totalsize(b));
	CHECK(err == 0, "synthetic tree rejected: %s", board_dt_strerror(err));
	return b;
}

static void test_translation(void)
{
	void *t = tree_new(), *f;

	cells(t, "/", "#address-cells", 1, 2);
	cells(t, "/", "#size-cells", 1, 2);
	mk(t, "/bus@f0000000");
	cells(t, "/bus@f0000000", "#address-cells", 1, 1);
	cells(t, "/bus@f0000000", "#size-cells", 1, 1);
	/* Two windows: 0..1M -> 0xf0000000, 2M..2M+4K -> 0x1_00000000. */
	cells(t, "/bus@f0000000", "ranges", 8, 0x0, 0x0, 0xf0000000, 0x100000, 0x200000, 0x1, 0x0,
	      0x1000);
	mk(t, "/bus@f0000000/dev@1000");
	cells(t, "/bus@f0000000/dev@1000", "reg", 4, 0x1000, 0x100, 0x200010, 0x10);
	mk(t, "/bus@f0000000/far@300000");
	cells(t, "/bus@f0000000/far@300000", "reg", 2, 0x300000, 0x10);
	mk(t, "/bus@f0000000/edge@100000"); /* one past the first window */
	cells(t, "/bus@f0000000/edge@100000", "reg", 2, 0x100000, 0x10);
	mk(t, "/bus@f0000000/sub@2000");
	cells(t, "/bus@f0000000/sub@2000", "#address-cells", 1, 1);
	cells(t, "/bus@f0000000/sub@2000", "#size-cells", 1, 1);
	cells(t, "/bus@f0000000/sub@2000", "ranges", 3, 0x0, 0x2000, 0x1000);
	mk(t, "/bus@f0000000/sub@2000/leaf@10");
	cells(t, "/bus@f0000000/sub@2000/leaf@10", "reg", 2, 0x10, 0x4);
	mk(t, "/bus@f0000000/i2c@3000");
	cells(t, "/bus@f0000000/i2c@3000", "#address-cells", 1, 1);
	cells(t, "/bus@f0000000/i2c@3000", "#size-cells", 1, 0);
	cells(t, "/bus@f0000000/i2c@3000", "reg", 2, 0x3000, 0x100);
	mk(t, "/bus@f0000000/i2c@3000/chip@50");
	cells(t, "/bus@f0000000/i2c@3000/chip@50", "reg", 1, 0x50);
	mk(t, "/bus@f0000000/badlen");
	cells(t, "/bus@f0000000/badlen", "reg", 3, 0x1000, 0x10, 0x2000);
	/* PCI-like: 3-cell child addresses, the top cell compared as bits. */
	mk(t, "/pci");
	cells(t, "/pci", "#address-cells", 1, 3);
	cells(t, "/pci", "#size-cells", 1, 2);
	cells(t, "/pci", "ranges", 7, 0x02000000, 0x0, 0x0, 0x0, 0x10000000, 0x0, 0x1000000);
	mk(t, "/pci/mem");
	cells(t, "/pci/mem", "reg", 5, 0x02000000, 0x0, 0x100, 0x0, 0x100);
	mk(t, "/pci/io");
	cells(t, "/pci/io", "reg", 5, 0x01000000, 0x0, 0x100, 0x0, 0x100);
	/* Identity ranges but an address with bits above 64: no CPU address. */
	mk(t, "/wide");
	cells(t, "/wide", "#address-cells", 1, 3);
	cells(t, "/wide", "#size-cells", 1, 1);
	bytes(t, "/wide", "ranges", NULL, 0);
	mk(t, "/wide/x");
	cells(t, "/wide/x", "reg", 4, 0x1, 0x0, 0x10, 0x4);
	mk(t, "/wide/y");
	cells(t, "/wide/y", "reg", 4, 0x0, 0x0, 0x10, 0x4);
	/* A window whose CPU side wraps past 2^64. */
	mk(t, "/ovf");
	cells(t, "/ovf", "#address-cells", 1, 2);
	cells(t, "/ovf", "#size-cells", 1, 2);
	cells(t, "/ovf", "ranges", 6, 0x0, 0x0, 0xffffffff, 0xffffff00, 0x0, 0x1000);
	mk(t, "/ovf/x");
	cells(t, "/ovf/x", "reg", 4, 0x0, 0x200, 0x0, 0x10);
	/* Bad cell counts and lengths. */
	mk(t, "/five");
	cells(t, "/five", "#address-cells", 1, 5);
	bytes(t, "/five", "ranges", NULL, 0);
	mk(t, "/five/c");
	cells(t, "/five/c", "reg", 6, 1, 2, 3, 4, 5, 6);
	mk(t, "/zero");
	cells(t, "/zero", "#address-cells", 1, 0);
	bytes(t, "/zero", "ranges", NULL, 0);
	mk(t, "/zero/c");
	cells(t, "/zero/c", "reg", 1, 1);
	mk(t, "/badranges");
	cells(t, "/badranges", "#address-cells", 1, 1);
	cells(t, "/badranges", "#size-cells", 1, 1);
	cells(t, "/badranges", "ranges", 3, 0x0, 0x0, 0x0);
	mk(t, "/badranges/c");
	cells(t, "/badranges/c", "reg", 2, 0x0, 0x4);
	mk(t, "/bigsize");
	cells(t, "/bigsize", "#address-cells", 1, 1);
	cells(t, "/bigsize", "#size-cells", 1, 3);
	bytes(t, "/bigsize", "ranges", NULL, 0);
	mk(t, "/bigsize/c");
	cells(t, "/bigsize/c", "reg", 4, 0x10, 0x1, 0x0, 0x0);
	mk(t, "/bigsize/d");
	cells(t, "/bigsize/d", "reg", 4, 0x10, 0x0, 0x1, 0x0);
	mk(t, "/shortcells");
	bytes(t, "/shortcells", "#address-cells", "\0\1", 2);
	bytes(t, "/shortcells", "ranges", NULL, 0);
	mk(t, "/shortcells/c");
	cells(t, "/shortcells/c", "reg", 3, 0x0, 0x10, 0x4);
	f = tree_done(t);

	check_reg(f, "/bus@f0000000/dev@1000", 0, 0xf0001000, 0x100);
	check_reg(f, "/bus@f0000000/dev@1000", 1, 0x100000010ull, 0x10);
	check_reg_err(f, "/bus@f0000000/dev@1000", 2, -ENOENT);
	check_reg_err(f, "/bus@f0000000/far@300000", 0, -ENOENT);
	check_reg_err(f, "/bus@f0000000/edge@100000", 0, -ENOENT);
	check_reg(f, "/bus@f0000000/sub@2000/leaf@10", 0, 0xf0002010, 0x4);
	check_reg(f, "/bus@f0000000/i2c@3000", 0, 0xf0003000, 0x100);
	check_reg_err(f, "/bus@f0000000/i2c@3000/chip@50", 0, -ENOENT);
	check_reg_err(f, "/bus@f0000000/badlen", 0, -EBADMSG);
	check_reg(f, "/pci/mem", 0, 0x10000100, 0x100);
	check_reg_err(f, "/pci/io", 0, -ENOENT);
	check_reg_err(f, "/wide/x", 0, -ERANGE);
	check_reg(f, "/wide/y", 0, 0x10, 0x4);
	check_reg_err(f, "/ovf/x", 0, -ERANGE);
	check_reg_err(f, "/five/c", 0, -EBADMSG);
	check_reg_err(f, "/zero/c", 0, -EBADMSG);
	check_reg_err(f, "/badranges/c", 0, -EBADMSG);
	check_reg_err(f, "/bigsize/c", 0, -ERANGE);
	check_reg(f, "/bigsize/d", 0, 0x10, 0x100000000ull);
	check_reg_err(f, "/shortcells/c", 0, -EBADMSG);
	free(f);
}

static void test_interrupts(void)
{
	void *t = tree_new(), *f;

	cells(t, "/", "interrupt-parent", 1, 1);
	mk(t, "/gic");
	str(t, "/gic", "compatible", "arm,gic-400");
	bytes(t, "/gic", "interrupt-controller", NULL, 0);
	cells(t, "/gic", "#interrupt-cells", 1, 3);
	cells(t, "/gic", "phandle", 1, 1);
	mk(t, "/nmi");
	str(t, "/nmi", "compatible", "vendor,nmi");
	bytes(t, "/nmi", "interrupt-controller", NULL, 0);
	cells(t, "/nmi", "#interrupt-cells", 1, 2);
	cells(t, "/nmi", "interrupts", 3, 0, 0, 4);
	cells(t, "/nmi", "phandle", 1, 2);
	mk(t, "/one");
	bytes(t, "/one", "interrupt-controller", NULL, 0);
	cells(t, "/one", "#interrupt-cells", 1, 1);
	cells(t, "/one", "phandle", 1, 3);
	/* Three cells but not a GIC: Allwinner's pinctrl (bank, pin, flags). */
	mk(t, "/pinctrl");
	str(t, "/pinctrl", "compatible", "allwinner,sun7i-a20-pinctrl");
	bytes(t, "/pinctrl", "interrupt-controller", NULL, 0);
	cells(t, "/pinctrl", "#interrupt-cells", 1, 3);
	cells(t, "/pinctrl", "phandle", 1, 4);
	mk(t, "/nexus");
	cells(t, "/nexus", "#interrupt-cells", 1, 1);
	cells(t, "/nexus", "interrupt-map", 5, 1, 1, 0, 3, 4);
	cells(t, "/nexus", "phandle", 1, 5);
	mk(t, "/huge");
	bytes(t, "/huge", "interrupt-controller", NULL, 0);
	cells(t, "/huge", "#interrupt-cells", 1, 9);
	cells(t, "/huge", "phandle", 1, 6);
	mk(t, "/loop-a");
	cells(t, "/loop-a", "interrupt-parent", 1, 8);
	cells(t, "/loop-a", "phandle", 1, 7);
	mk(t, "/loop-b");
	cells(t, "/loop-b", "interrupt-parent", 1, 7);
	cells(t, "/loop-b", "phandle", 1, 8);
	mk(t, "/d1");
	cells(t, "/d1", "interrupts", 18, 0, 5, 1, 1, 3, 2, 0, 6, 4, 0, 7, 8, 0, 8, 0, 0, 9, 3);
	mk(t, "/spi-range");
	cells(t, "/spi-range", "interrupts", 18, 0, 987, 4, 0, 988, 4, 1, 15, 4, 1, 16, 4, 5, 0, 4,
	      2, 5, 4);
	mk(t, "/eppi");
	cells(t, "/eppi", "interrupts", 6, 3, 2, 4, 3, 64, 4);
	mk(t, "/to-nmi");
	cells(t, "/to-nmi", "interrupt-parent", 1, 2);
	cells(t, "/to-nmi", "interrupts", 4, 7, 2, 9, 8);
	mk(t, "/to-one");
	cells(t, "/to-one", "interrupt-parent", 1, 3);
	cells(t, "/to-one", "interrupts", 1, 42);
	mk(t, "/to-pinctrl");
	cells(t, "/to-pinctrl", "interrupt-parent", 1, 4);
	cells(t, "/to-pinctrl", "interrupts", 3, 1, 2, 4);
	mk(t, "/to-nexus");
	cells(t, "/to-nexus", "interrupt-parent", 1, 5);
	cells(t, "/to-nexus", "interrupts", 1, 1);
	mk(t, "/dangling");
	cells(t, "/dangling", "interrupt-parent", 1, 0x99);
	cells(t, "/dangling", "interrupts", 1, 1);
	mk(t, "/looping");
	cells(t, "/looping", "interrupt-parent", 1, 7);
	cells(t, "/looping", "interrupts", 1, 1);
	mk(t, "/short");
	cells(t, "/short", "interrupts", 2, 0, 1);
	mk(t, "/to-huge");
	cells(t, "/to-huge", "interrupt-parent", 1, 6);
	cells(t, "/to-huge", "interrupts", 9, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	mk(t, "/badparent");
	cells(t, "/badparent", "interrupt-parent", 2, 1, 2);
	cells(t, "/badparent", "interrupts", 3, 0, 1, 4);
	/* interrupts-extended wins over interrupts. */
	mk(t, "/ext");
	cells(t, "/ext", "interrupts-extended", 9, 1, 0, 9, 4, 2, 3, 1, 3, 77);
	cells(t, "/ext", "interrupts", 3, 0, 1, 4);
	mk(t, "/ext-short");
	cells(t, "/ext-short", "interrupts-extended", 3, 1, 0, 9);
	mk(t, "/ext-dangling");
	cells(t, "/ext-dangling", "interrupts-extended", 4, 0x99, 0, 9, 4);
	mk(t, "/ext-nocells");
	cells(t, "/ext-nocells", "interrupts-extended", 2, 7, 1);
	/* The GIC's first name. */
	mk(t, "/pl390");
	str(t, "/pl390", "compatible", "arm,pl390");
	bytes(t, "/pl390", "interrupt-controller", NULL, 0);
	cells(t, "/pl390", "#interrupt-cells", 1, 3);
	cells(t, "/pl390", "phandle", 1, 9);
	mk(t, "/to-pl390");
	cells(t, "/to-pl390", "interrupt-parent", 1, 9);
	cells(t, "/to-pl390", "interrupts", 3, 0, 3, 4);
	/* The parent's interrupt-parent applies to children. */
	mk(t, "/sub");
	cells(t, "/sub", "interrupt-parent", 1, 2);
	mk(t, "/sub/leaf");
	cells(t, "/sub/leaf", "interrupts", 2, 5, 4);
	f = tree_done(t);

	check_irq(f, "/nmi", 0, 32, IRQ_LEVEL, "/gic");
	check_irq(f, "/d1", 0, 37, IRQ_EDGE, "/gic");
	check_irq(f, "/d1", 1, 19, IRQ_EDGE, "/gic");
	check_irq(f, "/d1", 2, 38, IRQ_LEVEL, "/gic");
	check_irq(f, "/d1", 3, 39, IRQ_LEVEL, "/gic");
	check_irq(f, "/d1", 4, 40, 0, "/gic");
	check_irq(f, "/d1", 5, 41, IRQ_EDGE, "/gic");
	check_irq_err(f, "/d1", 6, -ENOENT);
	check_irq(f, "/spi-range", 0, 1019, IRQ_LEVEL, "/gic");
	check_irq_err(f, "/spi-range", 1, -EBADMSG);
	check_irq(f, "/spi-range", 2, 31, IRQ_LEVEL, "/gic");
	check_irq_err(f, "/spi-range", 3, -EBADMSG);
	check_irq_err(f, "/spi-range", 4, -EBADMSG);
	check_irq(f, "/spi-range", 5, 4101, IRQ_LEVEL, "/gic");
	check_irq(f, "/eppi", 0, 1058, IRQ_LEVEL, "/gic");
	check_irq_err(f, "/eppi", 1, -EBADMSG);
	check_irq(f, "/to-nmi", 0, 7, IRQ_EDGE, "/nmi");
	check_irq(f, "/to-nmi", 1, 9, IRQ_LEVEL, "/nmi");
	check_irq(f, "/to-one", 0, 42, 0, "/one");
	check_irq_err(f, "/to-pinctrl", 0, -ENOTSUP);
	check_irq_err(f, "/to-nexus", 0, -ENOTSUP);
	check_irq_err(f, "/dangling", 0, -EBADMSG);
	check_irq_err(f, "/looping", 0, -ELOOP);
	check_irq_err(f, "/short", 0, -EBADMSG);
	check_irq_err(f, "/to-huge", 0, -EBADMSG);
	check_irq_err(f, "/badparent", 0, -EBADMSG);
	check_irq(f, "/ext", 0, 41, IRQ_LEVEL, "/gic");
	check_irq(f, "/ext", 1, 3, IRQ_EDGE, "/nmi");
	check_irq(f, "/ext", 2, 77, 0, "/one");
	check_irq_err(f, "/ext", 3, -ENOENT);
	check_irq_err(f, "/ext-short", 0, -EBADMSG);
	check_irq_err(f, "/ext-dangling", 0, -EBADMSG);
	check_irq_err(f, "/ext-nocells", 0, -EBADMSG);
	check_irq(f, "/sub/leaf", 0, 5, IRQ_LEVEL, "/nmi");
	check_irq(f, "/to-pl390", 0, 35, IRQ_LEVEL, "/pl390");
	check_irq_err(f, "/gic", 0, -ENOENT);
	CHECK_INT(board_dt_irq(f, at(f, "/d1"), 0, NULL), 0, "irq with out == NULL");
	free(f);
}

static void test_chosen_model_status(void)
{
	static const struct {
		const char *path, *want;
	} stdouts[] = {
		{"serial0:115200n8", "/uart@0"},
		{"serial0", "/uart@0"},
		{"/uart@1", "/uart@1"},
		{"/uart@1:9600", "/uart@1"},
		{"serial1", NULL}, /* an alias naming an alias */
		{"unterm", NULL},  /* an alias without NUL */
		{"nosuch", NULL},
		{"/nosuch", NULL},
		{"", NULL},
		{":opts", NULL},
		{"uart@0", NULL}, /* a relative path is no alias */
	};
	void *t = tree_new(), *f;
	unsigned int i;
	char buf[32];

	str(t, "/", "model", "Test Board");
	bytes(t, "/", "compatible", "vendor,board\0vendor,soc", 24);
	mk(t, "/chosen");
	str(t, "/chosen", "bootargs", "a=b c hearth.test=sleep:200");
	mk(t, "/aliases");
	str(t, "/aliases", "serial0", "/uart@0");
	str(t, "/aliases", "serial1", "serial0");
	bytes(t, "/aliases", "unterm", "/uart@0", 7);
	mk(t, "/uart@0");
	mk(t, "/uart@1");
	mk(t, "/s-okay");
	str(t, "/s-okay", "status", "okay");
	mk(t, "/s-ok");
	str(t, "/s-ok", "status", "ok");
	mk(t, "/s-disabled");
	str(t, "/s-disabled", "status", "disabled");
	mk(t, "/s-fail");
	str(t, "/s-fail", "status", "fail");
	mk(t, "/s-unterminated");
	bytes(t, "/s-unterminated", "status", "okay", 4);
	mk(t, "/s-trailing");
	bytes(t, "/s-trailing", "status", "okay\0x", 7);
	mk(t, "/s-empty");
	bytes(t, "/s-empty", "status", NULL, 0);
	f = tree_done(t);

	CHECK_STR(board_dt_model(f), "Test Board", "model");
	CHECK_STR(board_dt_bootargs(f), "a=b c hearth.test=sleep:200", "bootargs");
	CHECK_INT(board_dt_stdout(f), -ENOENT, "no stdout-path");
	CHECK(board_dt_enabled(f, 0), "root without status is enabled");
	CHECK(board_dt_enabled(f, at(f, "/s-okay")), "okay");
	CHECK(board_dt_enabled(f, at(f, "/s-ok")), "ok");
	CHECK(!board_dt_enabled(f, at(f, "/s-disabled")), "disabled");
	CHECK(!board_dt_enabled(f, at(f, "/s-fail")), "fail");
	CHECK(!board_dt_enabled(f, at(f, "/s-unterminated")), "unterminated okay");
	CHECK(!board_dt_enabled(f, at(f, "/s-trailing")), "okay with trailing bytes");
	CHECK(!board_dt_enabled(f, at(f, "/s-empty")), "empty status");
	CHECK(!board_dt_enabled(f, -1), "bad offset");
	CHECK(!board_dt_enabled(f, 5), "offset inside a node");
	free(f);

	for (i = 0; i < sizeof(stdouts) / sizeof(stdouts[0]); i++) {
		t = tree_new();
		mk(t, "/chosen");
		mk(t, "/aliases");
		str(t, "/aliases", "serial0", "/uart@0");
		str(t, "/aliases", "serial1", "serial0");
		bytes(t, "/aliases", "unterm", "/uart@0", 7);
		mk(t, "/uart@0");
		mk(t, "/uart@1");
		str(t, "/chosen", "stdout-path", stdouts[i].path);
		f = tree_done(t);
		snprintf(buf, sizeof(buf), "stdout-path \"%s\"", stdouts[i].path);
		CHECK_INT(board_dt_stdout(f), stdouts[i].want ? at(f, stdouts[i].want) : -ENOENT,
			  buf);
		free(f);
	}

	/* linux,stdout-path as a fallback; an unterminated value is ignored. */
	t = tree_new();
	mk(t, "/chosen");
	mk(t, "/uart@1");
	str(t, "/chosen", "linux,stdout-path", "/uart@1");
	f = tree_done(t);
	CHECK_INT(board_dt_stdout(f), at(f, "/uart@1"), "linux,stdout-path");
	CHECK_STR(board_dt_model(f), "unknown", "no model, no compatible");
	CHECK_STR(board_dt_bootargs(f), "", "no bootargs");
	free(f);
	t = tree_new();
	mk(t, "/chosen");
	mk(t, "/uart@1");
	bytes(t, "/chosen", "stdout-path", "/uart@1", 7);
	bytes(t, "/chosen", "bootargs", "console=x", 9);
	bytes(t, "/", "model", "Unterminated", 12);
	bytes(t, "/", "compatible", "vendor,board\0", 13);
	f = tree_done(t);
	CHECK_INT(board_dt_stdout(f), -ENOENT, "unterminated stdout-path");
	CHECK_STR(board_dt_bootargs(f), "", "unterminated bootargs");
	CHECK_STR(board_dt_model(f), "vendor,board", "model falls back to compatible");
	free(f);
	t = tree_new();
	f = tree_done(t);
	CHECK_INT(board_dt_stdout(f), -ENOENT, "no /chosen");
	CHECK_STR(board_dt_bootargs(f), "", "no /chosen bootargs");
	free(f);
}

static void test_memory_reserved(void)
{
	void *t = tree_new(), *f;
	struct mem_region r[8];
	int n;

	cells(t, "/", "#address-cells", 1, 2);
	cells(t, "/", "#size-cells", 1, 2);
	fdt_add_mem_rsv(t, 0x1000, 0x2000);
	mk(t, "/memory@80000000");
	str(t, "/memory@80000000", "device_type", "memory");
	/* Two banks and an empty placeholder between them. */
	cells(t, "/memory@80000000", "reg", 12, 0, 0x80000000, 0, 0x10000000, 0, 0x90000000, 0, 0,
	      1, 0, 0, 0x1000);
	mk(t, "/memory@a0000000");
	str(t, "/memory@a0000000", "device_type", "memory");
	str(t, "/memory@a0000000", "status", "disabled");
	cells(t, "/memory@a0000000", "reg", 4, 0, 0xa0000000, 0, 0x100);
	mk(t, "/mem2");
	str(t, "/mem2", "device_type", "memory");
	cells(t, "/mem2", "reg", 4, 0, 0xc0000000, 0, 0x200);
	mk(t, "/notmem");
	str(t, "/notmem", "device_type", "memoryX");
	cells(t, "/notmem", "reg", 4, 0, 0xd0000000, 0, 0x200);
	mk(t, "/reserved-memory");
	cells(t, "/reserved-memory", "#address-cells", 1, 2);
	cells(t, "/reserved-memory", "#size-cells", 1, 2);
	bytes(t, "/reserved-memory", "ranges", NULL, 0);
	mk(t, "/reserved-memory/fw@8f000000");
	cells(t, "/reserved-memory/fw@8f000000", "reg", 4, 0, 0x8f000000, 0, 0x100000);
	bytes(t, "/reserved-memory/fw@8f000000", "no-map", NULL, 0);
	mk(t, "/reserved-memory/pool");
	str(t, "/reserved-memory/pool", "compatible", "shared-dma-pool");
	cells(t, "/reserved-memory/pool", "size", 2, 0, 0x400000);
	mk(t, "/reserved-memory/off@8e000000");
	cells(t, "/reserved-memory/off@8e000000", "reg", 4, 0, 0x8e000000, 0, 0x1000);
	str(t, "/reserved-memory/off@8e000000", "status", "disabled");
	mk(t, "/reserved-memory/two");
	cells(t, "/reserved-memory/two", "reg", 8, 0, 0x8d000000, 0, 0x1000, 0, 0x8c000000, 0,
	      0x1000);
	f = tree_done(t);

	/* fdt_add_subnode puts a new node before its siblings: DT order is the
	 * reverse of the order above. */
	n = board_dt_memory(f, r, 8);
	CHECK_INT(n, 3, "memory banks");
	if (n == 3) {
		CHECK_HEX(r[0].base, 0xc0000000, "bank 0 (mem2)");
		CHECK_HEX(r[0].size, 0x200, "bank 0 size");
		CHECK_HEX(r[1].base, 0x80000000, "bank 1");
		CHECK_HEX(r[1].size, 0x10000000, "bank 1 size");
		CHECK_HEX(r[2].base, 0x100000000ull, "bank 2, after the empty one");
		CHECK_HEX(r[2].size, 0x1000, "bank 2 size");
	}
	CHECK_INT(board_dt_memory(f, r, 2), -ENOSPC, "memory, max 2");
	CHECK_INT(board_dt_memory(f, NULL, 0), -ENOSPC, "memory, max 0");
	CHECK_INT(board_dt_memory(f, r, -1), -EINVAL, "memory, max -1");
	CHECK_INT(board_dt_memory(NULL, r, 8), -EINVAL, "memory, no fdt");

	n = board_dt_reserved(f, r, 8);
	CHECK_INT(n, 4, "reserved regions");
	if (n == 4) {
		CHECK_HEX(r[0].base, 0x1000, "memreserve");
		CHECK_HEX(r[0].size, 0x2000, "memreserve size");
		CHECK_HEX(r[1].base, 0x8d000000, "two[0]");
		CHECK_HEX(r[2].base, 0x8c000000, "two[1]");
		CHECK_HEX(r[3].base, 0x8f000000, "fw");
		CHECK_HEX(r[3].size, 0x100000, "fw size");
	}
	CHECK_INT(board_dt_reserved(f, r, 1), -ENOSPC, "reserved, max 1");
	CHECK_INT(board_dt_reserved(f, r, -1), -EINVAL, "reserved, max -1");
	free(f);

	/* A memory node whose reg cannot be read is an error, not a skip. */
	t = tree_new();
	mk(t, "/memory@0");
	str(t, "/memory@0", "device_type", "memory");
	cells(t, "/memory@0", "reg", 2, 0, 0x1000);
	f = tree_done(t);
	CHECK_INT(board_dt_memory(f, r, 8), -EBADMSG, "memory with a short reg");
	free(f);

	/* No CPU address for a bank, /reserved-memory without its required
	 * ranges: errors, never "no regions". */
	t = tree_new();
	mk(t, "/reserved-memory");
	mk(t, "/reserved-memory/fw");
	cells(t, "/reserved-memory/fw", "reg", 3, 0, 0x1000, 0x100);
	mk(t, "/i2c");
	mk(t, "/i2c/memory@0");
	str(t, "/i2c/memory@0", "device_type", "memory");
	cells(t, "/i2c/memory@0", "reg", 3, 0, 0x1000, 0x100);
	f = tree_done(t);
	CHECK_INT(board_dt_memory(f, r, 8), -EBADMSG, "memory on a bus without ranges");
	CHECK_INT(board_dt_reserved(f, r, 8), -EBADMSG, "/reserved-memory without ranges");
	free(f);
}

static void test_bootarg(void)
{
	const char *args = "a=b c hearth.test=sleep:200\tx=1  x=2 empty= \n";
	char buf[16];

	CHECK_INT(board_bootarg(args, "a", buf, sizeof(buf)), 1, "a");
	CHECK_STR(buf, "b", "a");
	CHECK_INT(board_bootarg(args, "c", buf, sizeof(buf)), 0, "bare c");
	CHECK_STR(buf, "", "bare c");
	CHECK_INT(board_bootarg(args, "hearth.test", buf, sizeof(buf)), 9, "hearth.test");
	CHECK_STR(buf, "sleep:200", "hearth.test");
	CHECK_INT(board_bootarg(args, "x", buf, sizeof(buf)), 1, "x, last wins");
	CHECK_STR(buf, "2", "x, last wins");
	CHECK_INT(board_bootarg(args, "empty", buf, sizeof(buf)), 0, "empty=");
	CHECK_STR(buf, "", "empty=");
	CHECK_INT(board_bootarg(args, "hearth", buf, sizeof(buf)), -ENOENT, "a prefix");
	CHECK_INT(board_bootarg(args, "b", buf, sizeof(buf)), -ENOENT, "a value");
	CHECK_INT(board_bootarg(args, "sleep:200", buf, sizeof(buf)), -ENOENT, "a value");
	CHECK_INT(board_bootarg(args, "hearth.test", buf, 9), -ENOSPC, "no room for NUL");
	CHECK_STR(buf, "", "cleared on -ENOSPC");
	CHECK_INT(board_bootarg(args, "hearth.test", buf, 10), 9, "just fits");
	CHECK_INT(board_bootarg(args, "hearth.test", NULL, 0), 9, "length query");
	CHECK_INT(board_bootarg(args, "a=b", buf, sizeof(buf)), -EINVAL, "key with =");
	CHECK_INT(board_bootarg(args, "", buf, sizeof(buf)), -EINVAL, "empty key");
	CHECK_INT(board_bootarg(args, NULL, buf, sizeof(buf)), -EINVAL, "NULL key");
	CHECK_INT(board_bootarg(args, "a", NULL, 4), -EINVAL, "NULL buffer");
	CHECK_INT(board_bootarg(NULL, "a", buf, sizeof(buf)), -ENOENT, "NULL bootargs");
	CHECK_INT(board_bootarg("", "a", buf, sizeof(buf)), -ENOENT, "empty bootargs");
	CHECK_INT(board_bootarg("   ", "a", buf, sizeof(buf)), -ENOENT, "blank bootargs");
}

/* ------------------------------------------------------------------ */
/* board_dt_check on malformed blobs                                   */

static void set32(void *fdt, size_t off, uint32_t v)
{
	fdt32_st((uint8_t *)fdt + off, v);
}

#define H(field) offsetof(struct fdt_header, field)

/* A copy of (b) with one header field changed, checked. */
static int check_with(struct blob b, size_t off, uint32_t v)
{
	void *m = dup_exact(b.fdt, b.len);
	int err;

	set32(m, off, v);
	err = board_dt_check(m, b.len);
	free(m);
	return err;
}

/* End of the last block: a totalsize from here up is fine. */
static size_t used_end(const void *fdt)
{
	size_t end = fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt);
	size_t s = fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt);

	return s > end ? s : end;
}

static void check_truncations(struct blob b, const char *what)
{
	size_t total = b.len, end = used_end(b.fdt), len;
	char msg[96];
	int k;

	for (k = 0; k < 257 + 100; k++) {
		void *m;
		int err, want;

		len = k < 257 ? (size_t)k : (total - 1) * (size_t)(k - 257) / 99;
		if (len >= total)
			continue;
		/* The buffer ends early; totalsize says more. */
		m = dup_exact(b.fdt, len);
		err = board_dt_check(m, len);
		want = len < 4 ? -ENODATA : len < 40 ? -ENODATA : -E2BIG;
		snprintf(msg, sizeof(msg), "%s truncated to %zu", what, len);
		CHECK_INT(err, want, msg);
		/* And with totalsize rewritten to match: blocks stick out. */
		if (len >= 40) {
			set32(m, H(totalsize), (uint32_t)len);
			err = board_dt_check(m, len);
			snprintf(msg, sizeof(msg), "%s cut to %zu, totalsize too", what, len);
			if (len >= end)
				CHECK_INT(err, 0, msg);
			else
				CHECK(err == -EOVERFLOW || err == -EBADMSG, "%s: got %d (%s)", msg,
				      err, board_dt_strerror(err));
		}
		free(m);
	}
}

/* Structure-block damage that the header cannot show. */
static void check_structure(struct blob b, const char *what)
{
	uint32_t soff = fdt_off_dt_struct(b.fdt), ssize = fdt_size_dt_struct(b.fdt);
	uint32_t stroff = fdt_off_dt_strings(b.fdt);
	struct {
		const char *name;
		size_t off;
		uint32_t v;
	} cases[] = {
		{"FDT_END first", soff, FDT_END},
		{"FDT_NOP before the root", soff, FDT_NOP},
		{"property before the root", soff, FDT_PROP},
		{"unknown tag", soff, 0x42},
		{"root never closed", soff + ssize - 8, FDT_NOP},
		{"second root", soff + ssize - 4, FDT_BEGIN_NODE},
		{"huge property length", soff + 12, 0x7fffffff},
		{"property length past the block", soff + 12, ssize},
		{"name offset past the strings", soff + 16, 0xffffff},
		{"name offset at the strings' end", soff + 16, fdt_size_dt_strings(b.fdt)},
		{"struct size cuts FDT_END", H(size_dt_struct), ssize - 4},
		{"struct size cuts a property", H(size_dt_struct), 24},
		{"strings size 0", H(size_dt_strings), 0},
		{"reserve map without end", H(off_mem_rsvmap), (stroff + 7) & ~7u},
	};
	unsigned int i;
	char msg[128];

	int next;

	/* The root's first tag is at soff, its name "" pads to 4, then (on
	 * these DTBs) a property: tag, len, nameoff. */
	CHECK(fdt_next_tag(b.fdt, 8, &next) == FDT_PROP, "%s: no property first", what);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = check_with(b, cases[i].off, cases[i].v);

		snprintf(msg, sizeof(msg), "%s: %s", what, cases[i].name);
		CHECK(err == -EBADMSG || err == -EOVERFLOW, "%s: got %d (%s)", msg, err,
		      board_dt_strerror(err));
	}
}

static void test_check(void)
{
	struct blob raw = load("virt-gicv2.dtb");
	struct blob blobs[2];
	const char *names[2] = {"virt-gicv2 packed", "a20"};
	static const int codes[] = {EINVAL, EFAULT,    ENODATA, ENOEXEC, EPROTONOSUPPORT,
				    E2BIG,  EOVERFLOW, EBADMSG, ENOENT,	 ENOSPC,
				    ERANGE, ELOOP,     ENOTSUP};
	unsigned int i, j;
	uint8_t *mis;

	blobs[0] = packed(raw);
	blobs[1] = load("sun7i-a20-cubieboard2.dtb");

	CHECK_INT(board_dt_check(NULL, 100), -EINVAL, "NULL");
	mis = xmalloc(raw.len + 8);
	memcpy(mis + 4, raw.fdt, raw.len);
	CHECK_INT(board_dt_check(mis + 4, raw.len), -EFAULT, "misaligned");
	free(mis);
	/* QEMU's 1 MiB blob is mostly free space: any cut past the strings is
	 * a valid, smaller DTB. */
	check_truncations(raw, "virt-gicv2 (1 MiB)");
	CHECK_INT(board_dt_check(raw.fdt, raw.len + 100), 0, "maxlen above totalsize");

	for (i = 0; i < 2; i++) {
		struct blob b = blobs[i];
		const char *w = names[i];

		CHECK_INT(board_dt_check(b.fdt, b.len), 0, w);
		check_truncations(b, w);
		CHECK_INT(check_with(b, H(magic), 0xd00dfeee), -ENOEXEC, "bad magic");
		CHECK_INT(check_with(b, H(magic), 0x2ff20112), -ENOEXEC, "sw magic");
		CHECK_INT(check_with(b, H(magic), 0xedfe0dd0), -ENOEXEC, "byte-swapped magic");
		CHECK_INT(check_with(b, H(version), 16), -EPROTONOSUPPORT, "version 16");
		CHECK_INT(check_with(b, H(version), 0), -EPROTONOSUPPORT, "version 0");
		CHECK_INT(check_with(b, H(last_comp_version), 18), -EPROTONOSUPPORT,
			  "last_comp_version 18");
		CHECK_INT(check_with(b, H(version), 18), 0, "version 18, compatible with 16");
		CHECK_INT(check_with(b, H(totalsize), (uint32_t)b.len + 1), -E2BIG,
			  "totalsize + 1");
		CHECK_INT(check_with(b, H(totalsize), 0xffffffff), -E2BIG, "totalsize 4G");
		CHECK_INT(check_with(b, H(totalsize), 39), -EOVERFLOW, "totalsize < header");
		CHECK_INT(check_with(b, H(off_mem_rsvmap), (uint32_t)b.len), -EOVERFLOW,
			  "rsvmap at the end");
		CHECK_INT(check_with(b, H(off_mem_rsvmap), 8), -EOVERFLOW, "rsvmap in header");
		CHECK_INT(check_with(b, H(off_mem_rsvmap), fdt_off_mem_rsvmap(b.fdt) + 4),
			  -EOVERFLOW, "rsvmap misaligned");
		CHECK_INT(check_with(b, H(off_dt_struct), (uint32_t)b.len), -EOVERFLOW,
			  "struct at the end");
		CHECK_INT(check_with(b, H(off_dt_struct), 0xfffffff0), -EOVERFLOW,
			  "struct offset wraps");
		CHECK_INT(check_with(b, H(off_dt_struct), 0), -EOVERFLOW, "struct at 0");
		CHECK_INT(check_with(b, H(off_dt_struct), fdt_off_dt_struct(b.fdt) + 2), -EOVERFLOW,
			  "struct misaligned");
		CHECK_INT(check_with(b, H(size_dt_struct), (uint32_t)b.len), -EOVERFLOW,
			  "struct size");
		CHECK_INT(check_with(b, H(size_dt_struct), 0xfffffffc), -EOVERFLOW,
			  "struct size wraps");
		CHECK_INT(check_with(b, H(size_dt_struct), 0), -EOVERFLOW, "struct size 0");
		CHECK_INT(check_with(b, H(off_dt_strings), (uint32_t)b.len + 1), -EOVERFLOW,
			  "strings past the end");
		CHECK_INT(check_with(b, H(size_dt_strings), 0xffffffff), -EOVERFLOW,
			  "strings size");
		check_structure(b, w);
	}

	/* Nesting: 64 levels below the root pass, 65 do not. */
	for (j = 64; j <= 65; j++) {
		void *t = tree_new(), *f;
		int node = 0;
		unsigned int d;

		for (d = 0; d < j; d++)
			node = fdt_add_subnode(t, node, "n");
		fdt_pack(t);
		f = dup_exact(t, fdt_totalsize(t));
		free(t);
		CHECK_INT(board_dt_check(f, fdt_totalsize(f)), j == 64 ? 0 : -EBADMSG,
			  j == 64 ? "depth 64" : "depth 65");
		free(f);
	}

	/* Each failure has its own words. */
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		CHECK(strcmp(board_dt_strerror(-codes[i]), "unknown error"), "no words for %d",
		      codes[i]);
		for (j = 0; j < i; j++)
			CHECK(strcmp(board_dt_strerror(-codes[i]), board_dt_strerror(-codes[j])),
			      "%d and %d read the same", codes[i], codes[j]);
	}
	CHECK_STR(board_dt_strerror(0), "ok", "strerror(0)");
	CHECK_STR(board_dt_strerror(-12345), "unknown error", "strerror(unknown)");
	CHECK_STR(board_dt_strerror(INT_MIN), "unknown error", "strerror(INT_MIN)");
	CHECK_STR(board_dt_strerror(EBADMSG), board_dt_strerror(-EBADMSG), "either sign");

	free(raw.fdt);
	free(blobs[0].fdt);
	free(blobs[1].fdt);
}

/* ------------------------------------------------------------------ */
/* Binding                                                             */

static const char *const primecell_c[] = {"arm,primecell", NULL};
static const char *const pl011_c[] = {"arm,pl011", "arm,sbsa-uart", NULL};
static const char *const virtio_c[] = {"virtio,mmio", NULL};
static const char *const gic_c[] = {"arm,gic-400", "arm,cortex-a15-gic", NULL};
static const char *const cpu_c[] = {"arm,cortex-a57", "arm,cortex-a7", NULL};
static const char *const uart_c[] = {"ns16550a", "snps,dw-apb-uart", NULL};
static const char *const fb_c[] = {"simple-framebuffer", NULL};
static const char *const pool_c[] = {"shared-dma-pool", NULL};
static const char *const escape_c[] = {"esc", NULL};
static const struct driver d_primecell = {"primecell", primecell_c, NULL};
static const struct driver d_pl011 = {"pl011", pl011_c, NULL};
static const struct driver d_virtio_a = {"virtio_a", virtio_c, NULL};
static const struct driver d_virtio_b = {"virtio_b", virtio_c, NULL};
static const struct driver d_gic = {"gic", gic_c, NULL};
static const struct driver d_cpu = {"cpu", cpu_c, NULL};
static const struct driver d_uart = {"uart", uart_c, NULL};
static const struct driver d_fb = {"fb", fb_c, NULL};
static const struct driver d_pool = {"pool", pool_c, NULL};
static const struct driver d_escape = {"esc", escape_c, NULL};
static const struct driver d_nocompat = {"nocompat", NULL, NULL};
static const struct driver *const table[] = {
	&d_primecell, &d_pl011, &d_virtio_a, &d_virtio_b, &d_gic,      &d_cpu,
	&d_uart,      &d_fb,	&d_pool,     &d_escape,	  &d_nocompat,
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

#define MAX_SEEN 512
struct seen {
	const void *fdt;
	int n;
	struct binding b[MAX_SEEN];
	int depth[MAX_SEEN];
};

static void collect(void *arg, const struct binding *b, int depth)
{
	struct seen *s = arg;

	if (s->n < MAX_SEEN) {
		s->b[s->n] = *b;
		s->depth[s->n] = depth;
	}
	s->n++;
}

static const struct binding *find(struct seen *s, const char *path)
{
	int node = at(s->fdt, path), i;

	for (i = 0; i < s->n && i < MAX_SEEN; i++)
		if (s->b[i].node == node)
			return &s->b[i];
	CHECK(0, "the walk never visited %s", path);
	return NULL;
}

static void expect(struct seen *s, const char *path, enum bind_state state,
		   const struct driver *drv, int match)
{
	const struct binding *b = find(s, path);

	if (!b)
		return;
	CHECK(b->state == state, "%s: state %d, want %d", path, b->state, state);
	CHECK(b->drv == drv, "%s: driver %s, want %s", path, b->drv ? b->drv->name : "none",
	      drv ? drv->name : "none");
	CHECK(b->match == match, "%s: match %d, want %d", path, b->match, match);
}

/* The walk visits every node once, in DT order, with its depth, and agrees
 * with board_bind_node. */
static void check_walk(struct seen *s, const char *what)
{
	int node, depth = -1, i = 0;

	for (node = fdt_next_node(s->fdt, -1, &depth); node >= 0 && depth >= 0;
	     node = fdt_next_node(s->fdt, node, &depth), i++) {
		struct binding one;

		if (i >= s->n || i >= MAX_SEEN)
			break;
		CHECK(s->b[i].node == node, "%s: visit %d is offset %d, want %d", what, i,
		      s->b[i].node, node);
		CHECK(s->depth[i] == depth, "%s: node %d depth %d, want %d", what, node,
		      s->depth[i], depth);
		one = board_bind_node(s->fdt, node, table, NTABLE);
		CHECK(one.state == s->b[i].state && one.drv == s->b[i].drv &&
			      one.match == s->b[i].match,
		      "%s: board_bind_node disagrees with the walk at %d", what, node);
	}
	CHECK(i == s->n, "%s: walk visited %d nodes, the tree has %d", what, s->n, i);
}

static char lines[MAX_SEEN][512];
static int nlines;

static void out_line(const char *line)
{
	if (nlines < MAX_SEEN)
		snprintf(lines[nlines], sizeof(lines[0]), "%s", line);
	nlines++;
}

static bool has_line(const char *want)
{
	int i;

	for (i = 0; i < nlines && i < MAX_SEEN; i++)
		if (!strcmp(lines[i], want))
			return true;
	return false;
}

static void print_node(void *arg, const struct binding *b, int depth)
{
	board_print_binding(arg, b, depth, NULL, out_line);
}

static void test_bind_virt(void)
{
	struct blob b = load("virt-gicv2.dtb");
	static struct seen s;
	const void *fdt = b.fdt;
	int uart = at(fdt, "/pl011@9000000");
	struct device dev = {fdt, uart, &d_pl011, 0, NULL};
	struct binding one;

	s.fdt = fdt;
	s.n = 0;
	CHECK_INT(board_bind_walk(fdt, table, NTABLE, collect, &s), 0, "walk");
	check_walk(&s, "virt");
	expect(&s, "/", BIND_CORE, NULL, -1);
	/* Earliest compatible wins over table order: "arm,pl011" is the
	 * node's first string, "arm,primecell" its second. */
	expect(&s, "/pl011@9000000", BIND_DRIVER, &d_pl011, 0);
	expect(&s, "/pl031@9010000", BIND_DRIVER, &d_primecell, 1);
	/* Two drivers, same string: the first in the table. */
	expect(&s, "/virtio_mmio@a000000", BIND_DRIVER, &d_virtio_a, 0);
	expect(&s, "/intc@8000000", BIND_DRIVER, &d_gic, 0);
	expect(&s, "/intc@8000000/v2m@8020000", BIND_UNBOUND, NULL, -1);
	expect(&s, "/memory@40000000", BIND_CORE, NULL, -1);
	expect(&s, "/chosen", BIND_CORE, NULL, -1);
	expect(&s, "/cpus", BIND_CORE, NULL, -1);
	expect(&s, "/cpus/cpu@0", BIND_CORE, NULL, -1); /* despite the cpu driver */
	expect(&s, "/cpus/cpu-map/socket0/cluster0/core0", BIND_CORE, NULL, -1);
	expect(&s, "/gpio-keys/poweroff", BIND_NONE, NULL, -1);
	expect(&s, "/psci", BIND_UNBOUND, NULL, -1);
	expect(&s, "/platform-bus@c000000", BIND_UNBOUND, NULL, -1);

	CHECK_INT(board_driver_match(fdt, uart, &d_primecell), 1, "primecell on pl011");
	CHECK_INT(board_driver_match(fdt, uart, &d_pl011), 0, "pl011 on pl011");
	CHECK_INT(board_driver_match(fdt, uart, &d_gic), -1, "gic on pl011");
	CHECK_INT(board_driver_match(fdt, uart, NULL), -1, "no driver");
	CHECK_INT(board_driver_match(fdt, uart, &d_nocompat), -1, "driver without compat");
	CHECK_INT(board_driver_match(fdt, -1, &d_pl011), -1, "bad node");
	one = board_bind_node(fdt, uart, NULL, 0);
	CHECK(one.state == BIND_UNBOUND && one.drv == NULL, "no drivers: unbound");
	one = board_bind_node(fdt, -4, table, NTABLE);
	CHECK(one.state == BIND_NONE && one.node == -4, "bad node: none");
	CHECK_INT(board_bind_walk(fdt, NULL, 3, collect, &s), -EINVAL, "NULL table, 3 drivers");
	CHECK_INT(board_bind_walk(fdt, table, NTABLE, NULL, &s), -EINVAL, "no callback");

	/* The boot-report lines. */
	nlines = 0;
	CHECK_INT(board_bind_walk(fdt, table, NTABLE, print_node, (void *)fdt), 0, "print walk");
	CHECK_INT(nlines, s.n, "one line per node");
	CHECK(has_line("  /  linux,dummy-virt  -> core"), "root line");
	CHECK(has_line("    /pl011@9000000  arm,pl011  -> pl011"), "pl011 line");
	CHECK(has_line("    /pl031@9010000  arm,pl031  -> primecell"), "pl031 line");
	CHECK(has_line("      /intc@8000000/v2m@8020000  arm,gic-v2m-frame  -> unbound"),
	      "v2m line");
	CHECK(has_line("      /gpio-keys/poweroff  -  -> -"), "poweroff line");
	CHECK(has_line("    /memory@40000000  -  -> core"), "memory line");
	nlines = 0;
	one = board_bind_node(fdt, uart, table, NTABLE);
	board_print_binding(fdt, &one, 1, &dev, out_line);
	CHECK(nlines == 1 && !strcmp(lines[0], "    /pl011@9000000  arm,pl011  -> pl011 [ok]"),
	      "with a device: \"%s\"", lines[0]);
	dev.status = -ENODEV;
	nlines = 0;
	board_print_binding(fdt, &one, 1, &dev, out_line);
	CHECK(nlines == 1 &&
		      !strcmp(lines[0], "    /pl011@9000000  arm,pl011  -> pl011 [no device]"),
	      "with a device: \"%s\"", lines[0]);
	nlines = 0;
	board_print_binding(fdt, &one, 1, NULL, NULL);
	board_print_binding(fdt, NULL, 1, NULL, out_line);
	CHECK_INT(nlines, 0, "no output without out or binding");
	free(b.fdt);
}

static void test_bind_a20(void)
{
	struct blob b = load("sun7i-a20-cubieboard2.dtb");
	static struct seen s;

	s.fdt = b.fdt;
	s.n = 0;
	CHECK_INT(board_bind_walk(b.fdt, table, NTABLE, collect, &s), 0, "walk a20");
	CHECK(s.n > 100 && s.n <= MAX_SEEN, "a20 nodes: %d", s.n);
	check_walk(&s, "a20");
	expect(&s, "/soc/serial@1c28000", BIND_DRIVER, &d_uart, 0);
	expect(&s, "/soc/serial@1c28400", BIND_DISABLED, NULL, -1);
	expect(&s, "/chosen", BIND_CORE, NULL, -1);
	/* /chosen's children are devices like any other (here disabled). */
	expect(&s, "/chosen/framebuffer-lcd0", BIND_DISABLED, NULL, -1);
	expect(&s, "/reserved-memory", BIND_CORE, NULL, -1);
	expect(&s, "/reserved-memory/default-pool", BIND_CORE, NULL, -1);
	expect(&s, "/aliases", BIND_CORE, NULL, -1);
	expect(&s, "/cpus/cpu@1", BIND_CORE, NULL, -1);
	expect(&s, "/thermal-zones", BIND_NONE, NULL, -1);
	expect(&s, "/soc", BIND_UNBOUND, NULL, -1);
	expect(&s, "/soc/interrupt-controller@1c81000", BIND_DRIVER, &d_gic, 0);
	free(b.fdt);
}

static void test_bind_odd(void)
{
	void *t = tree_new(), *f;
	static struct seen s;

	mk(t, "/unterm");
	bytes(t, "/unterm", "compatible", "arm,pl011", 9);
	mk(t, "/tail");
	bytes(t, "/tail", "compatible", "foo\0arm,pl011", 13);
	mk(t, "/later");
	bytes(t, "/later", "compatible", "foo\0\0arm,pl011", 15);
	mk(t, "/empty");
	bytes(t, "/empty", "compatible", NULL, 0);
	mk(t, "/emptyfirst");
	bytes(t, "/emptyfirst", "compatible", "\0arm,pl011", 11);
	mk(t, "/esc\x1b[31m");
	bytes(t, "/esc\x1b[31m", "compatible", "esc\0", 4);
	mk(t, "/cpus-not");
	str(t, "/cpus-not", "compatible", "arm,cortex-a7");
	mk(t, "/x");
	mk(t, "/x/chosen");
	str(t, "/x/chosen", "compatible", "arm,pl011");
	mk(t, "/memory@0");
	str(t, "/memory@0", "device_type", "memory");
	str(t, "/memory@0", "status", "disabled");
	f = tree_done(t);

	s.fdt = f;
	s.n = 0;
	CHECK_INT(board_bind_walk(f, table, NTABLE, collect, &s), 0, "walk odd");
	check_walk(&s, "odd");
	expect(&s, "/unterm", BIND_NONE, NULL, -1);
	expect(&s, "/tail", BIND_UNBOUND, NULL, -1);
	expect(&s, "/later", BIND_DRIVER, &d_pl011, 2);
	expect(&s, "/empty", BIND_NONE, NULL, -1);
	expect(&s, "/emptyfirst", BIND_DRIVER, &d_pl011, 1);
	expect(&s, "/cpus-not", BIND_DRIVER, &d_cpu, 0);
	expect(&s, "/x/chosen", BIND_DRIVER, &d_pl011, 0); /* only /chosen is core */
	expect(&s, "/memory@0", BIND_DISABLED, NULL, -1);
	nlines = 0;
	CHECK_INT(board_bind_walk(f, table, NTABLE, print_node, f), 0, "print odd");
	CHECK(has_line("    /esc?[31m  esc  -> esc"), "control characters replaced");
	CHECK(has_line("    /emptyfirst  \"\"  -> pl011"), "an empty first compatible");
	CHECK(has_line("    /unterm  -  -> -"), "an unterminated compatible");
	free(f);
}

/* ------------------------------------------------------------------ */
/* Random mutations: every helper on whatever board_dt_check accepts    */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static int sane_fails;

/* For mutants: counts a broken contract without inflating the check count. */
#define SANE(cond, ...)                                                                            \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			if (sane_fails++ < 20) {                                                   \
				fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);              \
				fprintf(stderr, __VA_ARGS__);                                      \
				fputc('\n', stderr);                                               \
			}                                                                          \
		}                                                                                  \
	} while (0)

static void sink(const char *line)
{
	SANE(strlen(line) < 512, "line too long");
}

/* Every node is printed; one in (stride), from (phase), also goes through
 * reg, irq, path and bind_node (each a walk of the tree: all of them on
 * every node of every mutant would be quadratic and slow). */
struct exercise {
	const void *fdt;
	int index, stride, phase;
};

static void exercise_node(void *arg, const struct binding *b, int depth)
{
	struct exercise *x = arg;
	const void *fdt = x->fdt;
	struct device dev = {fdt, b->node, b->drv, 0, NULL};
	struct binding again;
	struct dt_irq irq;
	uint64_t addr, size;
	char path[48] = "";
	int i, err;

	board_print_binding(fdt, b, depth, (depth & 1) ? &dev : NULL, sink);
	(void)board_dt_enabled(fdt, b->node);
	if (x->index++ % x->stride != x->phase)
		return;
	again = board_bind_node(fdt, b->node, table, NTABLE);
	SANE(again.state == b->state, "bind_node and walk disagree on a mutant");
	err = board_dt_path(fdt, b->node, path, sizeof(path));
	SANE(err == 0 ? memchr(path, '\0', sizeof(path)) != NULL : path[0] == '\0',
	     "path result %d", err);
	for (i = 0; i < 3; i++) {
		err = board_dt_reg(fdt, b->node, i, &addr, &size);
		SANE(err <= 0, "reg returned %d", err);
		err = board_dt_irq(fdt, b->node, i, &irq);
		SANE(err <= 0, "irq returned %d", err);
	}
}

/* Every public function on an accepted blob; (stride) 1 = every node. */
static void exercise(const void *fdt, int stride)
{
	struct exercise x = {fdt, 0, stride, (int)(rnd() % (uint32_t)stride)};
	struct mem_region r[4];
	char val[16];
	int n, next;

	n = board_dt_memory(fdt, r, 4);
	SANE(n <= 4, "memory count %d above max", n);
	n = board_dt_reserved(fdt, r, 4);
	SANE(n <= 4, "reserved count %d above max", n);
	SANE(board_dt_model(fdt) != NULL, "model");
	n = board_dt_stdout(fdt);
	SANE(n < 0 || fdt_next_tag(fdt, n, &next) == FDT_BEGIN_NODE, "stdout %d not a node", n);
	(void)board_bootarg(board_dt_bootargs(fdt), "console", val, sizeof(val));
	n = board_bind_walk(fdt, table, NTABLE, exercise_node, &x);
	SANE(n == 0, "walk of an accepted blob: %d", n);
}

static void mutate(uint8_t *m, size_t len, size_t soff, size_t ssize)
{
	static const uint32_t interesting[] = {
		0, 1, 2, 3, 4, 9, 0x10, 0x100, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	};
	int k, nmut = 1 + (int)(rnd() % 4);

	for (k = 0; k < nmut; k++) {
		size_t pos;

		switch (rnd() % 6) {
		case 0: /* any byte */
			m[rnd() % len] = (uint8_t)rnd();
			break;
		case 1: /* one bit */
			m[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 2: /* a structure word: tags, lengths, name offsets, cells */
		case 3:
			pos = soff + 4 * (rnd() % (ssize / 4));
			fdt32_st(m + pos, interesting[rnd() % 12]);
			break;
		case 4: /* a cell nudged */
			pos = soff + 4 * (rnd() % (ssize / 4));
			fdt32_st(m + pos, fdt32_ld((const fdt32_t *)(m + pos)) + (rnd() % 3) - 1);
			break;
		default: /* a header field */
			pos = 4 * (1 + rnd() % 9);
			fdt32_st(m + pos, (rnd() & 1) ? interesting[rnd() % 12]
						      : fdt32_ld((const fdt32_t *)(m + pos)) +
								(rnd() % 17) - 8);
			break;
		}
	}
}

static void test_mutations(void)
{
	static const char *const names[] = {"virt-gicv2.dtb", "virt-gicv3.dtb",
					    "sun7i-a20-cubieboard2.dtb"};
	static const int count[] = {2000, 2000, 1000};
	int accepted = 0, rejected = 0, i, k;

	for (i = 0; i < 3; i++) {
		struct blob raw = load(names[i]);
		struct blob b = packed(raw);
		size_t soff = fdt_off_dt_struct(b.fdt), ssize = fdt_size_dt_struct(b.fdt);

		int nodes = 0, depth = -1, node, stride;

		free(raw.fdt);
		for (node = fdt_next_node(b.fdt, -1, &depth); node >= 0 && depth >= 0;
		     node = fdt_next_node(b.fdt, node, &depth))
			nodes++;
		stride = nodes / 24 + 1;
		exercise(b.fdt, 1);
		for (k = 0; k < count[i]; k++) {
			uint8_t *m = dup_exact(b.fdt, b.len);
			size_t len = b.len;

			mutate(m, len, soff, ssize);
			if (rnd() % 8 == 0) { /* and cut short, in a buffer cut too */
				uint8_t *cut;

				len = rnd() % len;
				cut = dup_exact(m, len);
				free(m);
				m = cut;
			}
			if (board_dt_check(m, len) == 0) {
				accepted++;
				exercise(m, stride);
			} else {
				rejected++;
			}
			free(m);
		}
		free(b.fdt);
	}
	printf("test_dt: mutations: %d accepted and exercised, %d rejected\n", accepted, rejected);
	/* Both sides must be well populated, or the test proves nothing. */
	CHECK(sane_fails == 0, "%d broken contracts on mutants (first 20 above)", sane_fails);
	CHECK(accepted >= 500, "only %d mutants accepted", accepted);
	CHECK(rejected >= 500, "only %d mutants rejected", rejected);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		dtb_dir = argv[1];
	test_virt_gicv2();
	test_virt_gicv3();
	test_virt_sizes();
	test_virt_bootargs();
	test_a20();
	test_translation();
	test_interrupts();
	test_chosen_model_status();
	test_memory_reserved();
	test_bootarg();
	test_check();
	test_bind_virt();
	test_bind_a20();
	test_bind_odd();
	test_mutations();
	printf("test_dt: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
