/*
 * memory.c: RAM from the device tree. Maps every bank as normal memory
 * (execute-never; the image keeps the permissions the early map gave it),
 * then gives malloc the largest stretch of RAM not used by the image, the
 * DTB or a reserved region. On the host the process has its own heap and
 * this only records the banks for the report.
 * Leaves out: more than 8 banks or 16 reserved regions (the rest ignored,
 * which only makes the heap smaller).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include <arch/cpu.h>
#include <arch/mmu.h>
#include <board.h>

#include "core.h"

#define MAX_BANKS 8
#define MAX_RESV 24
static struct mem_region banks[MAX_BANKS], resv[MAX_RESV];
static int nbanks, nresv;

#ifndef CONFIG_ARCH_HOST
static struct mem_region heap;

static void exclude(struct mem_region *r, int *n, uint64_t base, uint64_t size)
{
	if (*n < MAX_RESV) {
		r[*n].base = base;
		r[*n].size = size;
		(*n)++;
	}
}

static bool inside(uint64_t p, const struct mem_region *ex, int nex)
{
	for (int i = 0; i < nex; i++)
		if (p >= ex[i].base && p < ex[i].base + ex[i].size)
			return true;
	return false;
}

/* Largest piece of [b, e) left after cutting out every region in (ex): each
 * free piece starts at b or at the end of an excluded region. */
static void largest_free(uint64_t b, uint64_t e, const struct mem_region *ex, int nex,
			 struct mem_region *best)
{
	for (int c = -1; c < nex; c++) {
		uint64_t s = c < 0 ? b : ex[c].base + ex[c].size;
		if (s < b || s >= e || inside(s, ex, nex))
			continue;
		uint64_t end = e;
		for (int i = 0; i < nex; i++)
			if (ex[i].base > s && ex[i].base < end)
				end = ex[i].base;
		if (end - s > best->size) {
			best->base = s;
			best->size = end - s;
		}
	}
}

#endif

int board_memory_init(const void *fdt)
{
	nbanks = board_dt_memory(fdt, banks, MAX_BANKS);
	if (nbanks < 0)
		return nbanks;
	if (nbanks == 0)
		return -ENOENT;
	nresv = board_dt_reserved(fdt, resv, MAX_RESV - 2);
	if (nresv < 0)
		nresv = 0;
#ifndef CONFIG_ARCH_HOST
	uintptr_t is, ie;
	arch_image_range(&is, &ie);
	struct mem_region ex[MAX_RESV];
	int nex = 0;
	for (int i = 0; i < nresv; i++)
		exclude(ex, &nex, resv[i].base, resv[i].size);
	exclude(ex, &nex, is, ie - is);
	exclude(ex, &nex, (uintptr_t)fdt, fdt_totalsize(fdt));
	for (int i = 0; i < nbanks; i++) {
		if (banks[i].base + banks[i].size > arch_mmu_limit())
			continue; /* beyond what the map reaches: leave it out */
		int err = arch_mmu_map(banks[i].base, banks[i].size, MMU_RAM);
		if (err)
			return err;
		largest_free(banks[i].base, banks[i].base + banks[i].size, ex, nex, &heap);
	}
	if (heap.size < (1u << 20))
		return -ENOMEM;
	/* Page-align both ends. */
	uint64_t hb = (heap.base + 4095) & ~4095ull, he = (heap.base + heap.size) & ~4095ull;
	heap.base = hb;
	heap.size = he - hb;
	libc_heap_init((uintptr_t)hb, (uintptr_t)he);
#endif
	return 0;
}

void board_memory_report(void)
{
	char line[160];
	uint64_t total = 0;
	for (int i = 0; i < nbanks; i++) {
		total += banks[i].size;
		snprintf(line, sizeof(line), "  memory:   %#" PRIx64 "-%#" PRIx64 " (%" PRIu64 " MiB)\n",
			 banks[i].base, banks[i].base + banks[i].size, banks[i].size >> 20);
		console_write(line, strlen(line));
	}
	for (int i = 0; i < nresv; i++) {
		snprintf(line, sizeof(line), "  reserved: %#" PRIx64 "-%#" PRIx64 "\n", resv[i].base,
			 resv[i].base + resv[i].size);
		console_write(line, strlen(line));
	}
#ifndef CONFIG_ARCH_HOST
	uintptr_t is, ie;
	unsigned int used, pool;
	arch_image_range(&is, &ie);
	arch_mmu_usage(&used, &pool);
	snprintf(line, sizeof(line),
		 "  image:    %#" PRIxPTR "-%#" PRIxPTR " (%" PRIuPTR " KiB with stacks); page tables %u/%u\n",
		 is, ie, (ie - is) >> 10, used, pool);
	console_write(line, strlen(line));
	snprintf(line, sizeof(line), "  heap:     %#" PRIx64 "-%#" PRIx64 " (%" PRIu64 " KiB)\n",
		 heap.base, heap.base + heap.size, heap.size >> 10);
	console_write(line, strlen(line));
#endif
	(void)total;
}
