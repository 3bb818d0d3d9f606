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
 * TLS, variant 1: TPIDR_EL0 points at a 16-byte TCB, the block follows.
 * Done here rather than with picolibc's _init_tls, which reads the sizes
 * as absolute linker symbols: in a PIE those get relocated like addresses.
 * Only differences of section-relative symbols are used.
 */
static __attribute__((no_stack_protector)) void tls_init(void)
{
	char *block = __tls_block + 16;
	memcpy(block, __tdata_start, (size_t)(__tdata_end - __tdata_start));
	memset(block + (__tbss_start - __tdata_start), 0, (size_t)(__tbss_end - __tbss_start));
	__asm__ volatile("msr tpidr_el0, %0" ::"r"(__tls_block) : "memory");
}
void arch_start(const void *dtb) __attribute__((noreturn));

__attribute__((no_stack_protector)) void arch_start(const void *dtb)
{
	tls_init();
	__libc_init_array();
	board_halt(hearth_main(dtb));
}
