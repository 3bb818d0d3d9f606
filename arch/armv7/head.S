/*
 * head.S: the first instructions, in ARM state. A zImage-style header (so
 * Xen's arm32 domain builder, U-Boot's bootz and QEMU's -kernel take the
 * image as they take a Linux zImage), then: mask interrupts, drop from HYP
 * to SVC if entered there (Hearth is never a hypervisor), turn on VFP/NEON,
 * apply our own R_ARM_RELATIVE relocations (the image is linked at 0 as a
 * static PIE), zero bss, set up a stack per mode (thread code on the SVC
 * stack with an unmapped guard page below it; IRQs on their own stack;
 * aborts and undefined instructions on the exception stack, so a stack
 * overflow still gets a report), build the identity map (LPAE), turn the
 * MMU and caches on and enter C (Thumb-2).
 * Assumes the Linux ARM boot protocol: r0 = 0, r1 = machine type
 * (0xffffffff for DT), r2 = physical address of the DTB, SVC or HYP mode,
 * MMU and D-cache off. Leaves out: Monitor-mode entry, secondary CPUs,
 * big-endian, CPUs without LPAE or the virtualization extensions.
 */
#define R_ARM_RELATIVE 23

#define MODE_FIQ 0x11
#define MODE_IRQ 0x12
#define MODE_SVC 0x13
#define MODE_ABT 0x17
#define MODE_HYP 0x1a
#define MODE_UND 0x1b
#define PSR_AIF 0x1c0

	.syntax unified
	.arch armv7-a
	.arch_extension virt
	.arch_extension mp
	.fpu neon-vfpv4
	.arm

/* reg = run-time address of sym, without a relocation (works before ours
 * are applied): a PC-relative offset fixed at link time. */
.macro addr reg, sym
	ldr	\reg, 1001f
1000:	add	\reg, pc, \reg
	b	1002f
1001:	.word	\sym - (1000b + 8)
1002:
.endm

	.section .head, "ax"
	.globl _start
_start:
	.rept	8
	mov	r0, r0			/* 0x00-0x1c: as a zImage, room for a loader */
	.endr
	b	entry			/* 0x20 */
	.word	0x016f2818		/* 0x24: zImage magic */
	.word	0			/* 0x28: start: 0 = runs wherever loaded */
	.word	__image_file_end - _start /* 0x2c: end = bytes to load (no bss) */
	.word	0x04030201		/* 0x30: little-endian */

entry:
	cpsid	aif
	mov	r10, r2			/* DTB */
	adr	r11, _start		/* where we run */
	mov	r9, #1			/* entered at PL1 */
	mrs	r0, cpsr
	and	r0, r0, #0x1f
	cmp	r0, #MODE_HYP
	bne	at_pl1

	/* HYP: leave nothing trapped, give PL1 the timers and the GIC's
	 * system registers, and drop to SVC with the MMU still off. */
	mov	r9, #2
	mov	r0, #0
	mcr	p15, 4, r0, c1, c1, 0	/* HCR: no traps, no stage 2 */
	mcr	p15, 4, r0, c1, c1, 3	/* HSTR */
	ldr	r0, =0x33ff
	mcr	p15, 4, r0, c1, c1, 2	/* HCPTR: cp10/cp11 (VFP, NEON) untrapped */
	mrc	p15, 4, r0, c14, c1, 0
	orr	r0, r0, #3
	mcr	p15, 4, r0, c14, c1, 0	/* CNTHCTL: PL1 may use the physical timer */
	mov	r0, #0
	mov	r1, #0
	mcrr	p15, 4, r0, r1, c14	/* CNTVOFF = 0: virtual == physical count */
	mcrr	p15, 6, r0, r1, c2	/* VTTBR */
	mrc	p15, 0, r0, c0, c0, 0
	mcr	p15, 4, r0, c0, c0, 0	/* VPIDR = MIDR */
	mrc	p15, 0, r0, c0, c0, 5
	mcr	p15, 4, r0, c0, c0, 5	/* VMPIDR = MPIDR */
	mrc	p15, 0, r0, c0, c1, 1	/* ID_PFR1.GIC: system register interface? */
	lsrs	r0, r0, #28
	beq	1f
	mrc	p15, 4, r0, c12, c9, 5	/* ICC_HSRE */
	orr	r0, r0, #0xf		/* SRE, DFB, DIB, Enable (for PL1) */
	mcr	p15, 4, r0, c12, c9, 5
	isb
1:	mrc	p15, 0, r0, c1, c0, 0	/* SCTLR: MMU, caches, alignment off */
	ldr	r1, =0x40003007		/* TE, V, I, C, A, M */
	bic	r0, r0, r1
	mcr	p15, 0, r0, c1, c0, 0
	mov	r0, #(MODE_SVC | PSR_AIF)
	msr	spsr_cxsf, r0		/* HYP's own SPSR (spsr_hyp is for other modes) */
	adr	r0, at_pl1
	msr	elr_hyp, r0
	isb
	eret

at_pl1:
	cps	#MODE_SVC		/* whatever PL1 mode we came in */

	/* VFP and NEON for C code: CPACR cp10/cp11 full access, FPEXC.EN. */
	mrc	p15, 0, r0, c1, c0, 2
	orr	r0, r0, #(0xf << 20)
	mcr	p15, 0, r0, c1, c0, 2
	isb
	mov	r0, #(1 << 30)
	vmsr	fpexc, r0

	/* Relocate: *(base + off) += base for every RELATIVE entry. */
	addr	r0, __rel_start
	addr	r1, __rel_end
2:	cmp	r0, r1
	bhs	3f
	ldmia	r0!, {r2, r3}		/* r_offset, r_info */
	ands	r3, r3, #0xff
	beq	2b			/* R_ARM_NONE */
	cmp	r3, #R_ARM_RELATIVE
	bne	reloc_bad
	ldr	r4, [r11, r2]
	add	r4, r4, r11
	str	r4, [r11, r2]
	b	2b
reloc_bad:				/* check-relocs.sh rejects such images */
	wfe
	b	reloc_bad

3:	/* Zero bss (16-byte aligned by the linker script). */
	addr	r0, __bss_start
	addr	r1, __bss_end
	mov	r2, #0
	mov	r3, #0
	mov	r4, #0
	mov	r5, #0
4:	cmp	r0, r1
	stmialo	r0!, {r2-r5}
	blo	4b

	/* A stack per mode: IRQ, the fatal ones, and SVC for everything else. */
	addr	r0, __irq_stack_top
	cps	#MODE_IRQ
	mov	sp, r0
	addr	r0, __exc_stack_top
	cps	#MODE_ABT
	mov	sp, r0
	cps	#MODE_UND
	mov	sp, r0
	cps	#MODE_FIQ
	mov	sp, r0
	cps	#MODE_SVC
	addr	r0, __stack_top
	mov	sp, r0
	mov	fp, #0
	mov	lr, #0

	addr	r0, arch_entry_el_saved
	str	r9, [r0]

	/* Cortex-A7/A15: take part in coherency (ACTLR.SMP) before the caches
	 * go on. Non-secure firmware or a hypervisor may keep the bit
	 * read-only (set for us already): the write is then ignored. */
	mrc	p15, 0, r0, c0, c0, 0
	ubfx	r1, r0, #4, #12
	ubfx	r0, r0, #24, #8
	cmp	r0, #0x41
	bne	5f
	movw	r2, #0xc07
	cmp	r1, r2
	movwne	r2, #0xc0f
	cmpne	r1, r2
	bne	5f
	mrc	p15, 0, r0, c1, c0, 1
	tst	r0, #(1 << 6)
	orreq	r0, r0, #(1 << 6)
	mcreq	p15, 0, r0, c1, c0, 1
5:
	/* The identity map (mmu.c, Thumb, runs with the MMU off). */
	mov	r0, r10
	bl	arch_mmu_early		/* returns the L1 table's address */
	mov	r4, r0
	/* MAIR0: 0 strongly-ordered, 1 device, 2 normal WBWA, 3 normal NC. */
	ldr	r0, =0x44ff0400
	mcr	p15, 0, r0, c10, c2, 0
	mov	r0, #0
	mcr	p15, 0, r0, c10, c2, 1	/* MAIR1 */
	/* TTBCR: EAE (LPAE), T0SZ 0 (TTBR0 maps all 4 GiB), walks inner
	 * shareable and write-back cacheable, EPD1 (no TTBR1). */
	ldr	r0, =((1 << 31) | (1 << 23) | (3 << 12) | (1 << 10) | (1 << 8))
	mcr	p15, 0, r0, c2, c0, 2
	mov	r1, #0
	mcrr	p15, 0, r4, r1, c2	/* TTBR0, ASID 0 */
	isb
	mcr	p15, 0, r0, c8, c7, 0	/* TLBIALL */
	dsb	sy
	isb
	mrc	p15, 0, r0, c1, c0, 0
	ldr	r1, =0x1805		/* I, Z (branch prediction), C, M */
	orr	r0, r0, r1
	ldr	r1, =0x40002002		/* TE (exceptions in ARM state), V, A */
	bic	r0, r0, r1
	mcr	p15, 0, r0, c1, c0, 0
	isb
	mov	r0, #0
	mcr	p15, 0, r0, c7, c5, 0	/* ICIALLU */
	mcr	p15, 0, r0, c7, c5, 6	/* BPIALL */
	dsb	sy
	isb

	addr	r0, vectors
	mcr	p15, 0, r0, c12, c0, 0	/* VBAR */
	isb

	mov	r0, r10
	bl	arch_start		/* Thumb; does not return */
6:	wfe
	b	6b

	.ltorg

	.data
	.balign 4
	.globl arch_entry_el_saved
arch_entry_el_saved:
	.word 0
