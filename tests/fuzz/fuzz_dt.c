/*
 * fuzz_dt.c: libFuzzer target for DTB input. Every input goes through
 * board_dt_check; what it accepts then goes through every helper of
 * boards/core/dt.c and bind.c on every node, the way the firmware and
 * hearth-dt use them. A crash, a sanitizer report or a helper breaking its
 * own contract (a count above max, an unterminated path) is a finding.
 *
 * Assumes clang's -fsanitize=fuzzer,address,undefined (tests/tools.mk
 * fuzz-dt); the input is copied into an exactly sized, 8-aligned buffer.
 * Leaves out: probing (driver.c), which needs devices.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "board.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *board_status_str(int status)
{
	return status ? "failed" : "ok";
}

static const char *const any_compat[] = {"arm,pl011",	"arm,primecell", "arm,gic-400",
					 "virtio,mmio", "simple-bus",	 NULL};
static const char *const other_compat[] = {"arm,cortex-a15-gic", "arm,gic-v3", "snps,dw-apb-uart",
					   NULL};
static const struct driver drv_a = {"a", any_compat, NULL};
static const struct driver drv_b = {"b", other_compat, NULL};
static const struct driver *const drivers[] = {&drv_a, &drv_b};

static void sink(const char *line)
{
	if (strlen(line) >= 512)
		abort();
}

static void on_node(void *arg, const struct binding *b, int depth)
{
	const void *fdt = arg;
	struct device dev = {fdt, b->node, b->drv, 0, NULL};
	struct dt_irq irq;
	uint64_t addr, size;
	char path[64];
	int i;

	board_print_binding(fdt, b, depth, (b->node & 1) ? &dev : NULL, sink);
	(void)board_bind_node(fdt, b->node, drivers, 2);
	(void)board_dt_enabled(fdt, b->node);
	if (board_dt_path(fdt, b->node, path, sizeof(path)) == 0 &&
	    !memchr(path, '\0', sizeof(path)))
		abort();
	for (i = 0; i < 3; i++) {
		(void)board_dt_reg(fdt, b->node, i, &addr, &size);
		(void)board_dt_irq(fdt, b->node, i, &irq);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem_region r[4];
	char val[16];
	void *fdt;
	int n;

	fdt = malloc(size ? size : 1);
	if (!fdt)
		return 0;
	memcpy(fdt, data, size);
	if (board_dt_check(fdt, size) == 0) {
		n = board_dt_memory(fdt, r, 4);
		if (n > 4)
			abort();
		n = board_dt_reserved(fdt, r, 4);
		if (n > 4)
			abort();
		(void)board_dt_model(fdt);
		(void)board_dt_stdout(fdt);
		(void)board_bootarg(board_dt_bootargs(fdt), "console", val, sizeof(val));
		(void)board_bind_walk(fdt, drivers, 2, on_node, fdt);
	}
	free(fdt);
	return 0;
}
