/*
 * lpae.h: the identity map's table code that aarch64 (4 KiB granule, 39-bit)
 * and ARMv7 with LPAE share: long descriptors have the same layout on both.
 * Three levels (L1 1 GiB, L2 2 MiB blocks, L3 4 KiB pages) from a static pool
 * in bss; only invalid entries are ever filled in (no break-before-make);
 * guard ranges stay unmapped; and the early map of the image (its real
 * permissions), the DTB (read-only) and the early console.
 *
 * Included once, by arch/<arch>/mmu.c, after it defined:
 *   LPAE_LIMIT            the first address the map cannot hold
 *   LPAE_ADDR_MASK        the output-address bits of a descriptor
 *   static uint64_t attr_bits(enum mmu_attr)   the arch's attribute bits
 *   static void set_entry(uint64_t *e, uint64_t v)   fill an invalid entry
 * and it gets static helpers plus arch_mmu_map, arch_mmu_guard,
 * arch_mmu_limit and arch_mmu_usage. A header of definitions so that each
 * arch compiles it with its own MMU-off flags (mmu.o's CFLAGS in Kbuild).
 * Leaves out: unmapping, 16K/64K granules.
 */
#ifndef ARCH_COMMON_LPAE_H
#define ARCH_COMMON_LPAE_H

#include <errno.h>
#include <stdint.h>

#include <arch/mmu.h>

#define PAGE 4096ull
#define L2_BLOCK (1ull << 21)
#define DESC_VALID 1ull
#define DESC_TABLE 3ull /* at L1/L2 */
#define DESC_BLOCK 1ull /* at L1/L2 */
#define DESC_PAGE 3ull  /* at L3 */
#define ATTR_IDX(n) ((uint64_t)(n) << 2)
#define AP_RO (2ull << 6)
#define SH_INNER (3ull << 8)
#define AF (1ull << 10)
#define PXN (1ull << 53)
#define XN (1ull << 54) /* UXN on aarch64 */

/* MAIR indexes set in head.S */
#define MAIR_DEVICE 1 /* nGnRE */
#define MAIR_NORMAL 2

#define MAX_GUARDS 4

static uint64_t pool[CONFIG_MMU_TABLES][512] __attribute__((aligned(4096)));
static unsigned int pool_used;
static uint64_t *l1;
static struct {
	uint64_t base, end;
} guards[MAX_GUARDS];
static unsigned int nguards;
static int mmu_on;

static uint64_t attr_bits(enum mmu_attr attr);
static void set_entry(uint64_t *e, uint64_t v);

static uint64_t *table_alloc(void)
{
	if (pool_used >= CONFIG_MMU_TABLES)
		return 0;
	/* bss is zero: an all-invalid table. */
	return pool[pool_used++];
}

static int guarded(uint64_t base, uint64_t end)
{
	for (unsigned int i = 0; i < nguards; i++)
		if (base < guards[i].end && guards[i].base < end)
			return 1;
	return 0;
}

/* The table an L1/L2 entry points to, made if the entry is invalid; NULL if
 * the entry is a block (already mapped) or the pool is empty. */
static uint64_t *next_level(uint64_t *entry, int *err)
{
	if (!(*entry & DESC_VALID)) {
		uint64_t *t = table_alloc();
		if (!t) {
			*err = -ENOMEM;
			return 0;
		}
		set_entry(entry, (uint64_t)(uintptr_t)t | DESC_TABLE);
		return t;
	}
	if ((*entry & 3) == DESC_TABLE)
		return (uint64_t *)(uintptr_t)(*entry & LPAE_ADDR_MASK);
	return 0; /* a block: leave it as it is */
}

int arch_mmu_map(uint64_t pa, uint64_t size, enum mmu_attr attr)
{
	uint64_t addr = pa & ~(PAGE - 1);
	uint64_t end = (pa + size + PAGE - 1) & ~(PAGE - 1);
	uint64_t bits = attr_bits(attr);
	int err = 0;

	if (end < addr || end > LPAE_LIMIT)
		return -ERANGE;
	if (!l1 && !(l1 = table_alloc()))
		return -ENOMEM;
	while (addr < end) {
		uint64_t *l1e = &l1[(addr >> 30) & ((LPAE_LIMIT >> 30) - 1)];
		uint64_t *l2 = next_level(l1e, &err);
		if (!l2) {
			if (err)
				return err;
			addr = (addr | ((1ull << 30) - 1)) + 1;
			continue;
		}
		uint64_t *l2e = &l2[(addr >> 21) & 511];
		if (!(*l2e & DESC_VALID) && !(addr & (L2_BLOCK - 1)) &&
		    end - addr >= L2_BLOCK && !guarded(addr, addr + L2_BLOCK)) {
			set_entry(l2e, addr | bits | DESC_BLOCK);
			addr += L2_BLOCK;
			continue;
		}
		uint64_t *l3 = next_level(l2e, &err);
		if (!l3) {
			if (err)
				return err;
			addr = (addr | (L2_BLOCK - 1)) + 1;
			continue;
		}
		uint64_t *l3e = &l3[(addr >> 12) & 511];
		if (!(*l3e & DESC_VALID) && !guarded(addr, addr + PAGE))
			set_entry(l3e, addr | bits | DESC_PAGE);
		addr += PAGE;
	}
	return 0;
}

int arch_mmu_guard(uint64_t pa, uint64_t size)
{
	if (nguards >= MAX_GUARDS)
		return -ENOMEM;
	guards[nguards].base = pa & ~(PAGE - 1);
	guards[nguards].end = (pa + size + PAGE - 1) & ~(PAGE - 1);
	nguards++;
	return 0;
}

uint64_t arch_mmu_limit(void)
{
	return LPAE_LIMIT;
}

void arch_mmu_usage(unsigned int *used, unsigned int *total)
{
	*used = pool_used;
	*total = CONFIG_MMU_TABLES;
}

static uint32_t be32(const volatile uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];
extern char __stack_guard[], __stack_bottom[];

/* With the MMU off: the stack guard, the image with its real permissions,
 * the DTB read-only (when it looks like one), the early console. */
static void map_early(const void *dtb)
{
	uintptr_t start = (uintptr_t)__image_start;

	arch_mmu_guard((uintptr_t)__stack_guard, (uintptr_t)__stack_bottom - (uintptr_t)__stack_guard);
	arch_mmu_map(start, (uintptr_t)__text_end - start, MMU_TEXT);
	arch_mmu_map((uintptr_t)__text_end, (uintptr_t)__rodata_end - (uintptr_t)__text_end,
		     MMU_RAM_RO);
	arch_mmu_map((uintptr_t)__rodata_end, (uintptr_t)__image_end - (uintptr_t)__rodata_end,
		     MMU_RAM);
	if (dtb && !((uintptr_t)dtb & 3) && be32(dtb) == 0xd00dfeedu) {
		uint32_t total = be32((const uint8_t *)dtb + 4);
		if (total >= 40 && total <= (8u << 20))
			arch_mmu_map((uintptr_t)dtb, total, MMU_RAM_RO);
	}
#if CONFIG_EARLY_CONSOLE_PL011
	arch_mmu_map(CONFIG_EARLY_CONSOLE_PL011, PAGE, MMU_DEVICE);
#endif
}

#endif
