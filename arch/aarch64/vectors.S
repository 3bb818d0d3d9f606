/*
 * vectors.S: the EL1 exception vector table. Thread code runs on SP_EL0, so
 * its exceptions arrive in the "current EL, SP0" slots and are handled on the
 * exception stack (SP_EL1); the "current EL, SPx" slots mean a fault inside a
 * handler and go straight to the crash report. IRQs save every general and
 * FP/SIMD register (C code anywhere may use SIMD) and call the board's
 * dispatcher. Leaves out: lower-EL entries (no EL0 here), FIQ (unused).
 * The frame layout matches struct trap_frame in traps.c.
 */
#define FRAME_SIZE	(18 * 16)	/* x0-x30, sp, elr, spsr, esr, far */
#define FP_SIZE		(32 * 16 + 16)

#define KIND_SYNC	0
#define KIND_IRQ	1
#define KIND_FIQ	2
#define KIND_SERROR	3
#define KIND_NESTED	4	/* + one of the above */
#define KIND_LOWER	8

.macro save_gprs
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #16 * 0]
	stp	x2, x3, [sp, #16 * 1]
	stp	x4, x5, [sp, #16 * 2]
	stp	x6, x7, [sp, #16 * 3]
	stp	x8, x9, [sp, #16 * 4]
	stp	x10, x11, [sp, #16 * 5]
	stp	x12, x13, [sp, #16 * 6]
	stp	x14, x15, [sp, #16 * 7]
	stp	x16, x17, [sp, #16 * 8]
	stp	x18, x19, [sp, #16 * 9]
	stp	x20, x21, [sp, #16 * 10]
	stp	x22, x23, [sp, #16 * 11]
	stp	x24, x25, [sp, #16 * 12]
	stp	x26, x27, [sp, #16 * 13]
	stp	x28, x29, [sp, #16 * 14]
.endm

.macro save_rest nested
	.if \nested
	add	x0, sp, #FRAME_SIZE
	.else
	mrs	x0, sp_el0
	.endif
	stp	x30, x0, [sp, #16 * 15]
	mrs	x0, elr_el1
	mrs	x1, spsr_el1
	stp	x0, x1, [sp, #16 * 16]
	mrs	x0, esr_el1
	mrs	x1, far_el1
	stp	x0, x1, [sp, #16 * 17]
.endm

.macro fatal kind
	.balign 0x80
	save_gprs
	save_rest (\kind & KIND_NESTED)
	mov	x0, sp
	mov	x1, #\kind
	/* Link the report's backtrace to the interrupted frame. */
	ldr	x29, [sp, #16 * 14 + 8]
	bl	arch_trap_fatal
	b	.
.endm

.macro irq_entry
	.balign 0x80
	b	irq_sp0
.endm

	.text
	.balign 2048
	.globl vectors
vectors:
	/* Current EL with SP0: thread code */
	fatal	KIND_SYNC
	irq_entry
	fatal	KIND_FIQ
	fatal	KIND_SERROR
	/* Current EL with SPx: inside a handler */
	fatal	(KIND_NESTED | KIND_SYNC)
	fatal	(KIND_NESTED | KIND_IRQ)
	fatal	(KIND_NESTED | KIND_FIQ)
	fatal	(KIND_NESTED | KIND_SERROR)
	/* Lower EL, AArch64 and AArch32: never used */
	fatal	(KIND_LOWER | KIND_SYNC)
	fatal	(KIND_LOWER | KIND_IRQ)
	fatal	(KIND_LOWER | KIND_FIQ)
	fatal	(KIND_LOWER | KIND_SERROR)
	fatal	(KIND_LOWER | KIND_SYNC)
	fatal	(KIND_LOWER | KIND_IRQ)
	fatal	(KIND_LOWER | KIND_FIQ)
	fatal	(KIND_LOWER | KIND_SERROR)

irq_sp0:
	save_gprs
	save_rest 0
	sub	sp, sp, #FP_SIZE
	stp	q0, q1, [sp, #32 * 0]
	stp	q2, q3, [sp, #32 * 1]
	stp	q4, q5, [sp, #32 * 2]
	stp	q6, q7, [sp, #32 * 3]
	stp	q8, q9, [sp, #32 * 4]
	stp	q10, q11, [sp, #32 * 5]
	stp	q12, q13, [sp, #32 * 6]
	stp	q14, q15, [sp, #32 * 7]
	stp	q16, q17, [sp, #32 * 8]
	stp	q18, q19, [sp, #32 * 9]
	stp	q20, q21, [sp, #32 * 10]
	stp	q22, q23, [sp, #32 * 11]
	stp	q24, q25, [sp, #32 * 12]
	stp	q26, q27, [sp, #32 * 13]
	stp	q28, q29, [sp, #32 * 14]
	stp	q30, q31, [sp, #32 * 15]
	mrs	x0, fpcr
	mrs	x1, fpsr
	add	x2, sp, #32 * 16
	stp	x0, x1, [x2]
	mov	x29, xzr
	bl	board_irq_dispatch
	add	x2, sp, #32 * 16
	ldp	x0, x1, [x2]
	msr	fpcr, x0
	msr	fpsr, x1
	ldp	q0, q1, [sp, #32 * 0]
	ldp	q2, q3, [sp, #32 * 1]
	ldp	q4, q5, [sp, #32 * 2]
	ldp	q6, q7, [sp, #32 * 3]
	ldp	q8, q9, [sp, #32 * 4]
	ldp	q10, q11, [sp, #32 * 5]
	ldp	q12, q13, [sp, #32 * 6]
	ldp	q14, q15, [sp, #32 * 7]
	ldp	q16, q17, [sp, #32 * 8]
	ldp	q18, q19, [sp, #32 * 9]
	ldp	q20, q21, [sp, #32 * 10]
	ldp	q22, q23, [sp, #32 * 11]
	ldp	q24, q25, [sp, #32 * 12]
	ldp	q26, q27, [sp, #32 * 13]
	ldp	q28, q29, [sp, #32 * 14]
	ldp	q30, q31, [sp, #32 * 15]
	add	sp, sp, #FP_SIZE
	ldp	x0, x1, [sp, #16 * 16]
	msr	elr_el1, x0
	msr	spsr_el1, x1
	ldp	x0, x1, [sp, #16 * 0]
	ldp	x2, x3, [sp, #16 * 1]
	ldp	x4, x5, [sp, #16 * 2]
	ldp	x6, x7, [sp, #16 * 3]
	ldp	x8, x9, [sp, #16 * 4]
	ldp	x10, x11, [sp, #16 * 5]
	ldp	x12, x13, [sp, #16 * 6]
	ldp	x14, x15, [sp, #16 * 7]
	ldp	x16, x17, [sp, #16 * 8]
	ldp	x18, x19, [sp, #16 * 9]
	ldp	x20, x21, [sp, #16 * 10]
	ldp	x22, x23, [sp, #16 * 11]
	ldp	x24, x25, [sp, #16 * 12]
	ldp	x26, x27, [sp, #16 * 13]
	ldp	x28, x29, [sp, #16 * 14]
	ldr	x30, [sp, #16 * 15]
	add	sp, sp, #FRAME_SIZE
	eret
