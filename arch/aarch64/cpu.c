/*
 * cpu.c: identification for the boot report (MIDR decoded for the cores we
 * expect to meet) and where the image lies. Leaves out: feature probing
 * beyond what the banner shows.
 */
#include <stdio.h>

#include <arch/cpu.h>

extern char __image_start[], __image_end[];
extern uint64_t arch_entry_el_saved;

static const char *part_name(unsigned int impl, unsigned int part)
{
	if (impl != 0x41)
		return NULL;
	switch (part) {
	case 0xc07: return "Cortex-A7";
	case 0xc0f: return "Cortex-A15";
	case 0xd03: return "Cortex-A53";
	case 0xd04: return "Cortex-A35";
	case 0xd05: return "Cortex-A55";
	case 0xd07: return "Cortex-A57";
	case 0xd08: return "Cortex-A72";
	case 0xd09: return "Cortex-A73";
	case 0xd0a: return "Cortex-A75";
	case 0xd0b: return "Cortex-A76";
	case 0xd0c: return "Neoverse-N1";
	case 0xd40: return "Neoverse-V1";
	case 0xd49: return "Neoverse-N2";
	default: return NULL;
	}
}

void arch_cpu_describe(char *buf, size_t len)
{
	uint64_t midr;
	__asm__ volatile("mrs %0, midr_el1" : "=r"(midr));
	unsigned int impl = (midr >> 24) & 0xff, part = (midr >> 4) & 0xfff;
	unsigned int var = (midr >> 20) & 0xf, rev = midr & 0xf;
	const char *name = part_name(impl, part);
	if (name)
		snprintf(buf, len, "%s r%up%u (aarch64)", name, var, rev);
	else
		snprintf(buf, len, "implementer %#x part %#x r%up%u (aarch64)", impl, part, var, rev);
}

int arch_current_el(void)
{
	uint64_t el;
	__asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
	return (int)((el >> 2) & 3);
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
