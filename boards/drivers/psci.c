/*
 * psci.c: power control through PSCI: SYSTEM_OFF and SYSTEM_RESET, by hvc
 * or smc as the DT's method says (aarch64, or the 32-bit SMC convention on
 * ARMv7). PSCI 0.1 (compatible "arm,psci") has no
 * system calls: power off then halts the CPU. Leaves out: CPU_ON (one CPU),
 * suspend.
 */
#include <errno.h>
#include <string.h>

#include <libfdt.h>

#include <arch/cpu.h>
#include <board.h>

#define PSCI_VERSION 0x84000000u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u

static int use_smc;
static int has_system;

/* Separate functions: the register variables must not meet another call. */
#if defined(__arm__)
/* SMC32 calling convention: function id in r0, result in r0, r1-r3 may be
 * clobbered (r12 too, to be safe against firmware that uses it). */
static __attribute__((noinline)) uint64_t call_hvc(uint64_t fn)
{
	register uint32_t r0 __asm__("r0") = (uint32_t)fn;
	__asm__ volatile(".arch_extension virt\n\thvc #0"
			 : "+r"(r0)
			 :
			 : "r1", "r2", "r3", "r12", "memory");
	return r0;
}

static __attribute__((noinline)) uint64_t call_smc(uint64_t fn)
{
	register uint32_t r0 __asm__("r0") = (uint32_t)fn;
	__asm__ volatile(".arch_extension sec\n\tsmc #0"
			 : "+r"(r0)
			 :
			 : "r1", "r2", "r3", "r12", "memory");
	return r0;
}
#else
static __attribute__((noinline)) uint64_t call_hvc(uint64_t fn)
{
	register uint64_t x0 __asm__("x0") = fn;
	__asm__ volatile("hvc #0"
			 : "+r"(x0)
			 :
			 : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
			   "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	return x0;
}

static __attribute__((noinline)) uint64_t call_smc(uint64_t fn)
{
	register uint64_t x0 __asm__("x0") = fn;
	__asm__ volatile("smc #0"
			 : "+r"(x0)
			 :
			 : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
			   "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	return x0;
}
#endif

static uint64_t psci(uint64_t fn)
{
	return use_smc ? call_smc(fn) : call_hvc(fn);
}

static void psci_off(struct device *dev)
{
	(void)dev;
	if (has_system)
		psci(PSCI_SYSTEM_OFF);
}

static void psci_reset(struct device *dev)
{
	(void)dev;
	if (has_system)
		psci(PSCI_SYSTEM_RESET);
}

static const struct power_ops psci_ops = {
	.off = psci_off,
	.reset = psci_reset,
};

static int psci_probe(struct device *dev)
{
	int len;
	const char *m = fdt_getprop(dev->fdt, dev->node, "method", &len);
	if (!m || len < 4)
		return -ENOENT;
	if (!strncmp(m, "smc", (size_t)len))
		use_smc = 1;
	else if (strncmp(m, "hvc", (size_t)len))
		return -EINVAL;
	/* 0.2 and later have SYSTEM_OFF/RESET; the DT says which we have. */
	has_system = board_driver_match(dev->fdt, dev->node, dev->drv) <
		     2; /* "arm,psci-1.0" or "arm,psci-0.2" */
	if (has_system && (psci(PSCI_VERSION) & 0x80000000u))
		has_system = 0;
	return power_register(dev, &psci_ops);
}

DRIVER(psci, psci_probe, "arm,psci-1.0", "arm,psci-0.2", "arm,psci");
