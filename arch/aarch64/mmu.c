/*
 * mmu.c: the 1:1 map (see arch/mmu.h) for aarch64: 4 KiB granule, 39-bit
 * addresses, the table code shared with ARMv7 LPAE (arch/common/lpae.h).
 * arch_mmu_early runs with the MMU off and maps the image with its real
 * permissions, the DTB read-only and the early console; the rest (RAM banks,
 * MMIO) is added later with the MMU on.
 * Compiled with -mstrict-align and without library calls (see Kbuild).
 * Leaves out: >39-bit physical addresses.
 */
#include <stdint.h>

#include <arch/cpu.h>
#include <arch/mmu.h>

#define LPAE_LIMIT (1ull << 39)
#define LPAE_ADDR_MASK 0x0000fffffffff000ull

#include "../common/lpae.h"

static uint64_t attr_bits(enum mmu_attr attr)
{
	switch (attr) {
	case MMU_RAM:
		return ATTR_IDX(MAIR_NORMAL) | SH_INNER | AF | PXN | XN;
	case MMU_RAM_RO:
		return ATTR_IDX(MAIR_NORMAL) | SH_INNER | AF | AP_RO | PXN | XN;
	case MMU_TEXT:
		return ATTR_IDX(MAIR_NORMAL) | SH_INNER | AF | AP_RO | XN;
	case MMU_DEVICE:
	default:
		return ATTR_IDX(MAIR_DEVICE) | AF | PXN | XN;
	}
}

/* One 64-bit store; with the MMU on, make it visible to the walker. */
static void set_entry(uint64_t *e, uint64_t v)
{
	*e = v;
	if (mmu_on)
		__asm__ volatile("dsb ishst\n isb" ::: "memory");
}

/* Called from head.S with the MMU off; returns the TTBR0 value. */
uint64_t arch_mmu_early(const void *dtb);
uint64_t arch_mmu_early(const void *dtb)
{
	map_early(dtb);
	/* Tables were written with the caches off: drop any stale lines. */
	for (uintptr_t p = (uintptr_t)pool; p < (uintptr_t)pool + sizeof(pool); p += 64)
		__asm__ volatile("dc ivac, %0" ::"r"(p) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
	mmu_on = 1;
	return (uint64_t)(uintptr_t)l1;
}
