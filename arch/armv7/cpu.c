/*
 * cpu.c: identification for the boot report (MIDR decoded for the cores we
 * expect to meet), the privilege level (reported as an exception level:
 * SVC is PL1, HYP is PL2) and where the image lies. Leaves out: feature
 * probing beyond what the banner shows.
 */
#include <stdio.h>

#include <arch/cpu.h>

extern char __image_start[], __image_end[];
extern uint32_t arch_entry_el_saved;

static const char *part_name(unsigned int impl, unsigned int part)
{
	if (impl != 0x41)
		return NULL;
	switch (part) {
	case 0xc05: return "Cortex-A5";
	case 0xc07: return "Cortex-A7";
	case 0xc08: return "Cortex-A8";
	case 0xc09: return "Cortex-A9";
	case 0xc0d: return "Cortex-A12";
	case 0xc0e: return "Cortex-A17";
	case 0xc0f: return "Cortex-A15";
	case 0xd03: return "Cortex-A53";
	case 0xd07: return "Cortex-A57";
	case 0xd08: return "Cortex-A72";
	default: return NULL;
	}
}

void arch_cpu_describe(char *buf, size_t len)
{
	uint32_t midr;
	__asm__ volatile("mrc p15, 0, %0, c0, c0, 0" : "=r"(midr));
	unsigned int impl = (midr >> 24) & 0xff, part = (midr >> 4) & 0xfff;
	unsigned int var = (midr >> 20) & 0xf, rev = midr & 0xf;
	const char *name = part_name(impl, part);
	if (name)
		snprintf(buf, len, "%s r%up%u (armv7, Thumb-2)", name, var, rev);
	else
		snprintf(buf, len, "implementer %#x part %#x r%up%u (armv7, Thumb-2)", impl, part, var,
			 rev);
}

int arch_current_el(void)
{
	uint32_t cpsr;
	__asm__ volatile("mrs %0, cpsr" : "=r"(cpsr));
	return (cpsr & 0x1f) == 0x1a ? 2 : 1;
}

int arch_entry_el(void)
{
	return (int)arch_entry_el_saved;
}

void arch_image_range(uintptr_t *start, uintptr_t *end)
{
	*start = (uintptr_t)__image_start;
	*end = (uintptr_t)__image_end;
}
