/*
 * head.S: the first instructions. A Linux arm64 Image header (so QEMU's
 * -kernel, Xen and U-Boot load it anywhere 2 MiB-aligned or not), then:
 * mask interrupts, drop from EL2 to EL1 (Hearth is never a hypervisor),
 * apply our own R_AARCH64_RELATIVE relocations (the image is linked at 0 as
 * a static PIE), zero bss, set up the two stacks (thread code on SP_EL0,
 * exceptions on SP_EL1 so a stack overflow still gets a report), build the
 * early identity map, turn the MMU and caches on and enter C.
 * Assumes: x0 = physical address of the DTB (or 0), the Linux boot protocol
 * (MMU off, D-cache off or cleaned). Leaves out: EL3 entry, secondary CPUs.
 */
#define R_AARCH64_RELATIVE 1027

	.section .head, "ax"
	.globl _start
_start:
	b	entry			/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	__image_size		/* image_size: file + bss + stacks */
	.quad	0xa			/* flags: little-endian, 4K pages, anywhere */
	.quad	0, 0, 0			/* reserved */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* no PE header */

	.text
	.section .text.boot, "ax"
entry:
	msr	daifset, #0xf
	mov	x19, x0			/* DTB */
	adr	x20, _start		/* where we run */
	mrs	x21, CurrentEL
	ubfx	x21, x21, #2, #2	/* entry exception level */
	cmp	x21, #2
	b.eq	drop_el2
	cmp	x21, #1
	b.eq	at_el1
	/* EL3 (or EL0, impossible): unsupported, nothing to print with yet. */
1:	wfe
	b	1b

drop_el2:
	mov	x0, #(1 << 31)		/* HCR_EL2.RW: EL1 is AArch64, no traps */
	msr	hcr_el2, x0
	mrs	x0, cnthctl_el2
	orr	x0, x0, #3		/* EL1 may use the physical counter/timer */
	msr	cnthctl_el2, x0
	msr	cntvoff_el2, xzr	/* virtual count == physical count */
	mrs	x0, id_aa64pfr0_el1
	ubfx	x0, x0, #24, #4		/* GIC system registers present? */
	cbz	x0, 2f
	mrs	x0, S3_4_C12_C9_5	/* ICC_SRE_EL2 */
	orr	x0, x0, #0xf		/* SRE, DFB, DIB, Enable (for EL1) */
	msr	S3_4_C12_C9_5, x0
	isb
2:	msr	vttbr_el2, xzr
	mov	x0, #0x33ff		/* CPTR_EL2: no FP/SIMD traps */
	msr	cptr_el2, x0
	msr	hstr_el2, xzr
	mrs	x0, midr_el1
	msr	vpidr_el2, x0
	mrs	x0, mpidr_el1
	msr	vmpidr_el2, x0
	mov	x0, #0x0800
	movk	x0, #0x30d0, lsl #16	/* SCTLR_EL1 RES1 bits, MMU and caches off */
	msr	sctlr_el1, x0
	mov	x0, #0x3c5		/* EL1h, DAIF masked */
	msr	spsr_el2, x0
	adr	x0, at_el1
	msr	elr_el2, x0
	eret

at_el1:
	mov	x0, #(3 << 20)		/* CPACR_EL1.FPEN: FP/SIMD for C code */
	msr	cpacr_el1, x0
	isb

	/* Relocate: *(base + off) = base + addend for every RELATIVE entry. */
	adrp	x0, __rela_start
	add	x0, x0, :lo12:__rela_start
	adrp	x1, __rela_end
	add	x1, x1, :lo12:__rela_end
3:	cmp	x0, x1
	b.hs	4f
	ldp	x2, x3, [x0], #16	/* r_offset, r_info */
	ldr	x4, [x0], #8		/* r_addend */
	cbz	w3, 3b			/* R_AARCH64_NONE: padding the linker left */
	cmp	w3, #R_AARCH64_RELATIVE
	b.ne	reloc_bad
	add	x4, x4, x20
	str	x4, [x20, x2]
	b	3b
reloc_bad:				/* check-relocs.sh rejects such images */
	wfe
	b	reloc_bad

4:	/* Zero bss (16-byte aligned by the linker script). */
	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __bss_end
	add	x1, x1, :lo12:__bss_end
5:	cmp	x0, x1
	b.hs	6f
	stp	xzr, xzr, [x0], #16
	b	5b

6:	/* Exceptions on SP_EL1, everything else on SP_EL0. */
	adrp	x0, __exc_stack_top
	add	x0, x0, :lo12:__exc_stack_top
	mov	sp, x0
	msr	spsel, #0
	adrp	x0, __stack_top
	add	x0, x0, :lo12:__stack_top
	mov	sp, x0
	mov	x29, xzr
	mov	x30, xzr

	adrp	x0, arch_entry_el_saved
	str	x21, [x0, :lo12:arch_entry_el_saved]

	/* Early identity map: the image, the DTB, the early console. */
	mov	x0, x19
	bl	arch_mmu_early		/* returns TTBR0 */
	mov	x22, x0
	ldr	x0, =0x44ff0400		/* MAIR: 0 nGnRnE, 1 nGnRE, 2 normal WB, 3 normal NC */
	msr	mair_el1, x0
	mrs	x1, id_aa64mmfr0_el1
	and	x1, x1, #7		/* PARange -> TCR_EL1.IPS */
	/* T0SZ=25 (39-bit VA), IRGN0/ORGN0 WBWA, SH0 inner, TG0 4K, EPD1 */
	ldr	x0, =((25) | (1 << 8) | (1 << 10) | (3 << 12) | (0 << 14) | (1 << 23))
	orr	x0, x0, x1, lsl #32
	msr	tcr_el1, x0
	msr	ttbr0_el1, x22
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	mrs	x0, sctlr_el1
	mov	x1, #(1 << 0) | (1 << 2)	/* M, C */
	orr	x1, x1, #(1 << 12)		/* I */
	orr	x0, x0, x1
	bic	x0, x0, #(1 << 1)		/* A: unaligned accesses allowed */
	msr	sctlr_el1, x0
	isb
	ic	iallu
	dsb	nsh
	isb

	adrp	x0, vectors
	add	x0, x0, :lo12:vectors
	msr	vbar_el1, x0
	isb

	mov	x0, x19
	bl	arch_start		/* does not return */
7:	wfe
	b	7b

	.data
	.balign 8
	.globl arch_entry_el_saved
arch_entry_el_saved:
	.quad 0
