/*
 * cc.h: what lwIP needs from the compiler and C library: picolibc on the
 * firmware, glibc on the host. Diagnostics go to printf; a failed lwIP
 * assertion (an internal invariant, never a packet's fault) panics.
 */
#ifndef HEARTH_LWIP_CC_H
#define HEARTH_LWIP_CC_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_TIMEVAL_PRIVATE 0

void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define LWIP_PLATFORM_DIAG(x) \
	do {                  \
		printf x;     \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) panic("lwIP assertion \"%s\" at %s:%d", x, __FILE__, __LINE__)

#endif
