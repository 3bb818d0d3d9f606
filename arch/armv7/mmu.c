/*
 * mmu.c: the 1:1 map (see arch/mmu.h) for ARMv7-A with LPAE: long
 * descriptors (64-bit, the same bit layout as aarch64's, so the table code
 * is arch/common/lpae.h), 32-bit virtual addresses, TTBR0 only. Level 1 has four 1 GiB entries; level 2 tables
 * hold 2 MiB blocks, level 3 tables 4 KiB pages. Tables come from a static
 * pool in bss. arch_mmu_early runs with the MMU off (head.S) and maps the
 * image with its real permissions, the DTB read-only and the early console;
 * RAM banks, MMIO and Xen's pages outside /memory are added later with the
 * MMU on. Only invalid entries are ever filled in, so no break-before-make
 * is needed; each 64-bit entry is written high word first, so the table
 * walker never sees a valid low word with a stale high one.
 * Compiled with -mno-unaligned-access and without library calls (Kbuild).
 * Leaves out: unmapping, addresses above 4 GiB (identity map: VA == PA),
 * the short-descriptor format.
 */
#include <stdint.h>

#include <arch/cpu.h>
#include <arch/mmu.h>

#define LPAE_LIMIT (1ull << 32)
#define LPAE_ADDR_MASK 0x000000fffffff000ull

#include "../common/lpae.h"

static uint64_t attr_bits(enum mmu_attr attr)
{
	switch (attr) {
	case MMU_RAM:
		return ATTR_IDX(MAIR_NORMAL) | SH_INNER | AF | PXN | XN;
	case MMU_RAM_RO:
		return ATTR_IDX(MAIR_NORMAL) | SH_INNER | AF | AP_RO | PXN | XN;
	case MMU_TEXT:
		return ATTR_IDX(MAIR_NORMAL) | SH_INNER | AF | AP_RO;
	case MMU_DEVICE:
	default:
		return ATTR_IDX(MAIR_DEVICE) | AF | PXN | XN;
	}
}

/* Fills an invalid entry: high word, then the low word with the valid bit. */
static void set_entry(uint64_t *e, uint64_t v)
{
	volatile uint32_t *w = (volatile uint32_t *)e;
	w[1] = (uint32_t)(v >> 32);
	if (mmu_on)
		__asm__ volatile("dmb ishst" ::: "memory");
	w[0] = (uint32_t)v;
	if (mmu_on)
		__asm__ volatile("dsb ishst\n isb" ::: "memory");
}

/* Called from head.S with the MMU off; returns the L1 table (for TTBR0). */
uint32_t arch_mmu_early(const void *dtb);
uint32_t arch_mmu_early(const void *dtb)
{
	uint32_t ctr, line;

	map_early(dtb);
	/* Tables were written with the caches off: drop any stale lines
	 * (DCIMVAC, by the smallest D-cache line CTR reports). */
	__asm__ volatile("mrc p15, 0, %0, c0, c0, 1" : "=r"(ctr));
	line = 4u << ((ctr >> 16) & 0xf);
	for (uintptr_t p = (uintptr_t)pool; p < (uintptr_t)pool + sizeof(pool); p += line)
		__asm__ volatile("mcr p15, 0, %0, c7, c6, 1" ::"r"(p) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
	mmu_on = 1;
	return (uint32_t)(uintptr_t)l1;
}
