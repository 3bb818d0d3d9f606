/*
 * board.c: bring-up in order (check the DTB, memory, probe every driver,
 * require the devices Hearth cannot run without), the boot report, and the
 * ways to stop: power off, reset, halt, panic. A missing or malformed DTB or
 * a missing required device ends boot with one line saying what is missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libfdt.h>

#include <arch/cpu.h>
#include <board.h>

#include "core.h"

static const void *g_fdt;
int board_semihosting;
static uint64_t boot_done_ns;

const void *board_fdt(void)
{
	return g_fdt;
}

static void say(const char *s)
{
	console_write(s, strlen(s));
}

static void sayf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sayf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say(buf);
}

static void cannot_boot(const char *what) __attribute__((noreturn));
static void cannot_boot(const char *what)
{
	sayf("hearth: cannot boot: %s\n", what);
	board_halt(2);
}

void board_init(const void *fdt)
{
	char buf[64];

	if (!fdt)
#ifdef __arm__
		cannot_boot("no device tree was passed (r2 = 0); boot with a DTB");
#else
		cannot_boot("no device tree was passed (x0 = 0); boot with a DTB");
#endif
	int err = board_dt_check(fdt, fdt_totalsize(fdt) <= (8u << 20) ? fdt_totalsize(fdt) : 0);
	if (err) {
		char msg[128];
		snprintf(msg, sizeof(msg), "the device tree at %p is malformed: %s", fdt,
			 board_dt_strerror(err));
		cannot_boot(msg);
	}
	g_fdt = fdt;
	/* Under Xen the board's UART belongs to Xen (dom0) or is not there
	 * at all (a domU): until a console binds, say nothing. */
	if (fdt_node_offset_by_compatible(fdt, -1, "xen,xen") >= 0)
		board_early_console_off();
	const char *args = board_dt_bootargs(fdt);
	if (board_bootarg(args, "hearth.semihosting", buf, sizeof(buf)) >= 0)
		board_semihosting = 1;

	err = board_memory_init(fdt);
	if (err == -ENOENT)
		cannot_boot("no memory node (device_type = \"memory\") in the device tree");
	if (err)
		cannot_boot("the memory layout in the device tree is unusable");

	board_probe_all(fdt);
	if (!rng_ready())
		board_seed_rng(fdt);
	/* Devices Hearth cannot run without. */
#ifndef CONFIG_ARCH_HOST
	if (!board_irqchip_present())
		cannot_boot("no interrupt controller in the device tree (GICv2 or GICv3, status okay)");
#endif
	if (!clock_ready())
		cannot_boot("no timer in the device tree (arm,armv8-timer)");
	boot_done_ns = time_now_ns();
}

static void print_line(const char *s)
{
	say(s);
	size_t n = strlen(s);
	if (!n || s[n - 1] != '\n')
		say("\n");
}

struct report_ctx {
	struct device *devs;
	size_t ndevs;
};

static void report_node(void *arg, const struct binding *b, int depth)
{
	struct report_ctx *c = arg;
	const struct device *dev = NULL;
	for (size_t i = 0; i < c->ndevs; i++)
		if (c->devs[i].node == b->node && c->devs[i].drv)
			dev = &c->devs[i];
	board_print_binding(g_fdt, b, depth, dev, print_line);
}

void board_report(void)
{
	char cpu[96];
	extern const struct driver __start_hearth_drivers[], __stop_hearth_drivers[];
	const struct driver *table[64];
	size_t n = 0;

	arch_cpu_describe(cpu, sizeof(cpu));
	sayf("\nHearth %s (%s) for %s\n", HEARTH_VERSION, HEARTH_GITREV, CONFIG_BOARD_NAME);
	sayf("  model:    %s\n", board_dt_model(g_fdt));
	if (arch_current_el())
		sayf("  cpu:      %s, EL%d (entered at EL%d)\n", cpu, arch_current_el(),
		     arch_entry_el());
	else
		sayf("  cpu:      %s\n", cpu);
	board_memory_report();
	say("  bootargs: \"");
	say(board_dt_bootargs(g_fdt));
	say("\"\n");
	if (time_wall_valid()) {
		time_t t = (time_t)(time_wall_ns() / 1000000000);
		struct tm tm;
		gmtime_r(&t, &tm);
		sayf("  time:     %04d-%02d-%02d %02d:%02d:%02d UTC\n", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	} else {
		say("  time:     unknown (no RTC; SNTP will set it)\n");
	}
	sayf("  entropy:  %s\n", rng_ready() ? "ok" : "NONE (no rng device)");
	say("  devices:\n");
	for (const struct driver *d = __start_hearth_drivers; d < __stop_hearth_drivers && n < 64; d++)
		table[n++] = d;
	struct report_ctx c;
	c.ndevs = board_devices(&c.devs);
	board_bind_walk(g_fdt, table, n, report_node, &c);
	sayf("Hearth booted in %" PRIu64 " ms\n", boot_done_ns / 1000000u);
}

void board_poweroff(void)
{
	board_power_op(0);
	arch_halt();
}

void board_reset(void)
{
	board_power_op(1);
	arch_halt();
}

void board_halt(int code)
{
#ifdef CONFIG_SEMIHOSTING
	if (board_semihosting)
		arch_semihost_exit(code);
#endif
#ifdef CONFIG_ARCH_HOST
	arch_host_exit(code);
#endif
	if (code == 0)
		board_poweroff();
#if defined(CONFIG_PANIC_RESET)
	say("hearth: resetting\n");
	board_power_op(1);
#elif defined(CONFIG_PANIC_POWEROFF)
	say("hearth: powering off\n");
	board_power_op(0);
#endif
	say("hearth: halted\n");
	arch_halt();
}

void panic(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sayf("\nhearth: panic: %s\n", buf);
	arch_backtrace((uintptr_t)__builtin_frame_address(0), print_line);
	board_halt(71);
}
