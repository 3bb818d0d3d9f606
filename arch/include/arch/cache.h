/*
 * arch/cache.h: data-cache maintenance by address, for memory shared with
 * devices that do not snoop and for code written before the MMU is on.
 * On the host these are no-ops.
 */
#ifndef ARCH_CACHE_H
#define ARCH_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Write back and invalidate [p, p + len) to the point of coherency. */
void arch_dcache_clean_inval(const void *p, size_t len);
/* Invalidate [p, p + len) (discards dirty lines: only for buffers a device
 * wrote or memory written with the caches off). */
void arch_dcache_inval(const void *p, size_t len);

#endif
