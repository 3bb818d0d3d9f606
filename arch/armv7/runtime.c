/*
 * runtime.c: from head.S to the program. Sets up picolibc's TLS block (errno
 * lives there), runs constructors and calls hearth_main with the DTB. The
 * libc hooks that need devices (stdio, time, entropy, heap) live in
 * boards/core/picolibc.c. Leaves out: secondary CPUs.
 */
#include <arch/cpu.h>
#include <board.h>

#include <string.h>

extern char __tls_block[], __tdata_start[], __tdata_end[], __tbss_start[], __tbss_end[];
void __libc_init_array(void);

/*
 * TLS, ARM variant 1: the thread pointer (TPIDRURO, what picolibc's
 * __aeabi_read_tp reads) points at an 8-byte TCB and the block follows
 * (hearth.ld.S keeps the alignment at 8 or less). As on aarch64, done here
 * rather than with picolibc's _init_tls: only differences of
 * section-relative symbols, which a PIE does not relocate.
 */
static __attribute__((no_stack_protector)) void tls_init(void)
{
	char *block = __tls_block + 8;
	memcpy(block, __tdata_start, (size_t)(__tdata_end - __tdata_start));
	memset(block + (__tbss_start - __tdata_start), 0, (size_t)(__tbss_end - __tbss_start));
	__asm__ volatile("mcr p15, 0, %0, c13, c0, 3" ::"r"(__tls_block) : "memory");
}
void arch_start(const void *dtb) __attribute__((noreturn));

__attribute__((no_stack_protector)) void arch_start(const void *dtb)
{
	tls_init();
	__libc_init_array();
	board_halt(hearth_main(dtb));
}
