/*
 * gnttab.c: grant table v1. The frames are mapped (XENMEM_add_to_physmap,
 * XENMAPSPACE_grant_table) at the start of the region the /hypervisor
 * node's first reg entry reserves, and mapped normal write-back in our page
 * tables. Free refs are a singly linked free list (refs 0-7 are the
 * toolstack's). Ending a grant never forces it: while the peer has the page
 * mapped (GTF_reading/GTF_writing) the ref and page stay out of use and the
 * caller is told -EBUSY; otherwise the flags are cleared with a 16-bit
 * compare-and-swap so a racing mapping is seen.
 * Leaves out: grant table v2, transfers, growing the table at run time.
 */
#include <errno.h>
#include <stdio.h>

#include <arch/cpu.h>
#include <arch/mmu.h>
#include <board.h>

#include "xen.h"

#define XENMEM_add_to_physmap 7
#define XENMAPSPACE_grant_table 1
#define GNTTABOP_query_size 6

#define GTF_permit_access 1u
#define GTF_readonly 4u
#define GTF_reading 8u
#define GTF_writing 16u

#define WANT_FRAMES 4u /* 2048 entries: rings, 2 x 64 net buffers, 11 blk pages */

struct grant_entry {
	volatile uint16_t flags;
	volatile uint16_t domid;
	volatile uint32_t frame;
};

static struct grant_entry *table;
static unsigned int nr_entries;
static int free_head = -1;
static int next_free[WANT_FRAMES * (XEN_PAGE / sizeof(struct grant_entry))];
static struct gnttab_stats st;

int gnttab_init(struct device *dev)
{
	uint64_t base, size;
	int err = board_dt_reg(dev->fdt, dev->node, 0, &base, &size);
	if (err)
		return err;
	struct {
		uint16_t dom;
		uint16_t pad;
		uint32_t nr_frames, max_nr_frames;
		int16_t status;
		uint16_t pad2;
	} q = {DOMID_SELF, 0, 0, 0, 0, 0};
	_Static_assert(sizeof(q) == 16, "gnttab_query_size layout");
	long r = xen_hypercall(XEN_grant_table_op, GNTTABOP_query_size, (uintptr_t)&q, 1, 0);
	if (r < 0 || q.status != 0)
		return r < 0 ? (int)r : -EIO;
	unsigned int frames = WANT_FRAMES;
	if (frames > q.max_nr_frames)
		frames = q.max_nr_frames;
	if ((uint64_t)frames * XEN_PAGE > size)
		frames = (unsigned int)(size / XEN_PAGE);
	if (!frames || (base & (XEN_PAGE - 1)))
		return -EINVAL;
	for (unsigned int i = 0; i < frames; i++) {
		struct {
			uint16_t domid, size;
			uint32_t space;
			uint64_t idx, gpfn;
		} xatp = {DOMID_SELF, 0, XENMAPSPACE_grant_table, i, base / XEN_PAGE + i};
		r = xen_hypercall(XEN_memory_op, XENMEM_add_to_physmap, (uintptr_t)&xatp, 0, 0);
		if (r < 0) {
			if (i == 0)
				return (int)r;
			frames = i;
			break;
		}
	}
	if ((err = arch_mmu_map(base, (uint64_t)frames * XEN_PAGE, MMU_RAM)))
		return err;
	table = (struct grant_entry *)(uintptr_t)base;
	nr_entries = frames * (XEN_PAGE / sizeof(struct grant_entry));
	for (int i = (int)nr_entries - 1; i >= GNTTAB_RESERVED; i--) {
		next_free[i] = free_head;
		free_head = i;
	}
	st.capacity = nr_entries - GNTTAB_RESERVED;
	return 0;
}

int gnttab_grant(uint16_t domid, uint64_t gfn, bool readonly)
{
	if (free_head < 0)
		return -ENOSPC;
	if (gfn > UINT32_MAX)
		return -ERANGE;
	int ref = free_head;
	free_head = next_free[ref];
	table[ref].domid = domid;
	table[ref].frame = (uint32_t)gfn;
	arch_wmb();
	table[ref].flags = (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0));
	st.in_use++;
	st.granted++;
	return ref;
}

int gnttab_end(int ref)
{
	if (ref < GNTTAB_RESERVED || (unsigned int)ref >= nr_entries)
		return -EINVAL;
	uint16_t flags = table[ref].flags;
	if (!(flags & 3u))
		return -EINVAL; /* not granted */
	do {
		if (flags & (GTF_reading | GTF_writing)) {
			st.busy++;
			return -EBUSY;
		}
	} while (!__atomic_compare_exchange_n(&table[ref].flags, &flags, 0, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST));
	arch_mb();
	next_free[ref] = free_head;
	free_head = ref;
	st.in_use--;
	st.ended++;
	return 0;
}

void gnttab_stats(struct gnttab_stats *out)
{
	*out = st;
}
