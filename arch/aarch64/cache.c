/*
 * cache.c: data-cache maintenance by virtual address (== physical here),
 * using the line size from CTR_EL0. Leaves out: set/way operations.
 */
#include <arch/cache.h>

static uintptr_t line_size(void)
{
	uint64_t ctr;
	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	return (uintptr_t)4 << ((ctr >> 16) & 0xf);
}

void arch_dcache_clean_inval(const void *p, size_t len)
{
	uintptr_t l = line_size(), a = (uintptr_t)p & ~(l - 1), end = (uintptr_t)p + len;
	for (; a < end; a += l)
		__asm__ volatile("dc civac, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

void arch_dcache_inval(const void *p, size_t len)
{
	uintptr_t l = line_size(), a = (uintptr_t)p & ~(l - 1), end = (uintptr_t)p + len;
	for (; a < end; a += l)
		__asm__ volatile("dc ivac, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}
