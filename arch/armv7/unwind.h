/*
 * unwind.h: the EHABI table unwinder traps.c uses (unwind.c).
 */
#ifndef ARMV7_UNWIND_H
#define ARMV7_UNWIND_H

#include <stdint.h>

struct unwind_regs {
	uint32_t r[16];     /* r13 sp, r14 lr, r15 pc */
	int is_return;      /* r[15] is a return address, not the faulting pc */
};

/* From a frame's registers to its caller's (r[15] becomes the return
 * address). 0, or -1 when the frame has no usable unwind entry or a load
 * would leave the stacks; (s) is then unspecified. */
int unwind_step(struct unwind_regs *s);

#endif
