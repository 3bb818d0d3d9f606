/*
 * vectors.S: the ARMv7 exception vectors (VBAR, ARM state: SCTLR.TE = 0).
 * IRQs are handled in IRQ mode on their own stack: they save the registers
 * C may clobber, every VFP/NEON register and FPSCR (C code anywhere may use
 * them), call the board's dispatcher and return to the interrupted code.
 * Everything else is fatal: undefined instruction, SVC (Hearth makes none:
 * QEMU's semihosting takes its own before they trap), prefetch and data
 * aborts, FIQ. Those save r0-r12, the interrupted mode's sp and lr, the
 * exception's lr and SPSR, and call the crash report.
 * The frame layout matches struct trap_frame in traps.c.
 * Leaves out: nested IRQs, FIQs (unused), user mode.
 */
#define KIND_UNDEF	0
#define KIND_SVC	1
#define KIND_PABT	2
#define KIND_DABT	3
#define KIND_FIQ	5
#define KIND_RESET	6
#define KIND_HYP	7

	.syntax unified
	.arch armv7-a
	.fpu neon-vfpv4
	.arm

	.text
	.balign 32
	.globl vectors
vectors:
	b	fatal_reset
	b	fatal_undef
	b	fatal_svc
	b	fatal_pabt
	b	fatal_dabt
	b	fatal_hyp
	b	irq_entry
	b	fatal_fiq

.macro fatal name, kind
fatal_\name:
	sub	sp, sp, #20		/* sp, lr of the interrupted mode, lr, spsr, pad */
	stmfd	sp!, {r0-r12}
	mov	r0, #\kind
	b	fatal_common
.endm

	fatal	reset, KIND_RESET
	fatal	undef, KIND_UNDEF
	fatal	svc, KIND_SVC
	fatal	pabt, KIND_PABT
	fatal	dabt, KIND_DABT
	fatal	hyp, KIND_HYP
	fatal	fiq, KIND_FIQ

fatal_common:
	mov	r4, r0
	mrs	r3, spsr
	str	lr, [sp, #15 * 4]
	str	r3, [sp, #16 * 4]
	/* The interrupted mode's banked sp and lr: visit it (user mode's
	 * registers are the system mode's), interrupts masked. */
	and	r1, r3, #0x1f
	cmp	r1, #0x10
	moveq	r1, #0x1f
	mrs	r5, cpsr
	bic	r2, r5, #0x1f
	orr	r2, r2, r1
	orr	r2, r2, #0xc0
	msr	cpsr_c, r2
	mov	r6, sp
	mov	r7, lr
	msr	cpsr_c, r5
	str	r6, [sp, #13 * 4]
	str	r7, [sp, #14 * 4]
	mov	r0, sp
	mov	r1, r4
	mov	fp, #0
	bl	arch_trap_fatal		/* does not return */
	b	.

irq_entry:
	sub	lr, lr, #4		/* the instruction to return to */
	stmfd	sp!, {r0-r3, r12, lr}	/* what a C call may clobber */
	mrs	r0, spsr
	vmrs	r1, fpscr
	push	{r0, r1}
	vpush	{d0-d15}
	vpush	{d16-d31}
	bl	board_irq_dispatch
	vpop	{d16-d31}
	vpop	{d0-d15}
	pop	{r0, r1}
	msr	spsr_cxsf, r0
	vmsr	fpscr, r1
	ldmfd	sp!, {r0-r3, r12, pc}^	/* and CPSR = SPSR */
