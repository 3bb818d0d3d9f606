/*
 * cache.c: data-cache maintenance by virtual address (== physical here)
 * through cp15 (DCCIMVAC, DCIMVAC), using the line size from CTR.
 * Leaves out: set/way operations.
 */
#include <arch/cache.h>

static uintptr_t line_size(void)
{
	uint32_t ctr;
	__asm__ volatile("mrc p15, 0, %0, c0, c0, 1" : "=r"(ctr));
	return (uintptr_t)4 << ((ctr >> 16) & 0xf);
}

void arch_dcache_clean_inval(const void *p, size_t len)
{
	uintptr_t l = line_size(), a = (uintptr_t)p & ~(l - 1), end = (uintptr_t)p + len;
	for (; a < end; a += l)
		__asm__ volatile("mcr p15, 0, %0, c7, c14, 1" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

void arch_dcache_inval(const void *p, size_t len)
{
	uintptr_t l = line_size(), a = (uintptr_t)p & ~(l - 1), end = (uintptr_t)p + len;
	for (; a < end; a += l)
		__asm__ volatile("mcr p15, 0, %0, c7, c6, 1" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}
