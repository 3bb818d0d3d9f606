/*
 * arch/mmu.h: the identity map. Physical == virtual everywhere (DMA and the
 * Xen 1:1 dom0 rely on it). RAM is normal cacheable and never executable
 * except the image's text; MMIO is device memory, mapped when a driver asks.
 * Leaves out: unmapping (nothing is ever unmapped) and non-identity maps.
 */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdint.h>

enum mmu_attr {
	MMU_RAM,      /* normal write-back, read-write, execute-never */
	MMU_RAM_RO,   /* normal write-back, read-only, execute-never */
	MMU_TEXT,     /* normal write-back, read-only, executable */
	MMU_DEVICE,   /* device nGnRE, read-write, execute-never */
};

/* Maps [pa, pa + size) 1:1 with (attr); pages already mapped are left as
 * they are (so the image keeps its permissions inside a RAM bank). Returns
 * 0, -ENOMEM when out of page tables, -ERANGE beyond the address space. */
int arch_mmu_map(uint64_t pa, uint64_t size, enum mmu_attr attr);
/* Leaves [pa, pa + size) unmapped forever (guard pages). Call before mapping
 * the region around it. */
int arch_mmu_guard(uint64_t pa, uint64_t size);
/* Largest physical address the map can hold. */
uint64_t arch_mmu_limit(void);
/* Page tables used so far, and the pool's size (for the boot report). */
void arch_mmu_usage(unsigned int *used, unsigned int *total);

#endif
