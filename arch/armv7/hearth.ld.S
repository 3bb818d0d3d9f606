/*
 * hearth.ld: the ARMv7 image layout. Linked at 0 as a static PIE; head.S
 * applies the R_ARM_RELATIVE relocations (REL format: the addend is the
 * word in place) wherever the loader put us. Text is page-aligned so the
 * MMU can map it read-only + executable and everything after it
 * execute-never. The zImage header's "end" is __image_file_end: what a
 * loader copies. bss then holds the TLS block, a guard page, the main (SVC)
 * stack, the IRQ stack and the exception stack (abort, undefined, FIQ).
 * Preprocessed with the board's autoconf.h into
 * build/<board>/arch/armv7/hearth.ld.
 */
OUTPUT_FORMAT("elf32-littlearm")
OUTPUT_ARCH(arm)
ENTRY(_start)

PHDRS
{
	text PT_LOAD FLAGS(5);
	rodata PT_LOAD FLAGS(4);
	data PT_LOAD FLAGS(6);
	tls PT_TLS;
	dynamic PT_DYNAMIC;
}

SECTIONS
{
	. = 0;
	__image_start = .;
	.head : { KEEP(*(.head)) } :text
	.text : {
		*(.text.boot)
		*(.text .text.*)
		*(.glue_7 .glue_7t .vfp11_veneer .v4_bx)
	} :text
	. = ALIGN(4096);
	__text_end = .;

	.rodata : { *(.rodata .rodata.*) } :rodata
	.hearth_drivers : ALIGN(8) {
		__start_hearth_drivers = .;
		KEEP(*(hearth_drivers))
		__stop_hearth_drivers = .;
		__start_hearth_virtio = .;
		KEEP(*(hearth_virtio))
		__stop_hearth_virtio = .;
	} :rodata
	.init_array : ALIGN(4) {
		PROVIDE(__preinit_array_start = .);
		KEEP(*(.preinit_array))
		PROVIDE(__preinit_array_end = .);
		PROVIDE(__init_array_start = .);
		KEEP(*(SORT_BY_INIT_PRIORITY(.init_array.*)))
		KEEP(*(.init_array))
		PROVIDE(__init_array_end = .);
		PROVIDE(__fini_array_start = .);
		KEEP(*(SORT_BY_INIT_PRIORITY(.fini_array.*)))
		KEEP(*(.fini_array))
		PROVIDE(__fini_array_end = .);
	} :rodata
	/* EHABI unwind tables (sorted by ld) for the crash report's backtrace. */
	.ARM.exidx : ALIGN(4) {
		__exidx_start = .;
		*(.ARM.exidx .ARM.exidx.*)
		__exidx_end = .;
	} :rodata
	.ARM.extab : ALIGN(4) { *(.ARM.extab .ARM.extab.*) } :rodata
	.rel.dyn : ALIGN(4) { *(.rel .rel.*) } :rodata
	/* Outside the section: ld sizes it only after placing the symbols inside. */
	__rel_start = ADDR(.rel.dyn);
	__rel_end = ADDR(.rel.dyn) + SIZEOF(.rel.dyn);
	.dynsym : { *(.dynsym) } :rodata
	.dynstr : { *(.dynstr) } :rodata
	.hash : { *(.hash) } :rodata
	.gnu.hash : { *(.gnu.hash) } :rodata
	.dynamic : { *(.dynamic) } :rodata :dynamic
	. = ALIGN(4096);
	__rodata_end = .;

	.data : {
		*(.data .data.*)
		*(.got .got.*)
		*(.got.plt)
	} :data
	.tdata : ALIGN(8) {
		__tdata_start = .;
		*(.tdata .tdata.*)
		__tdata_end = .;
	} :data :tls
	__tdata_source = __tdata_start;
	__tdata_size = SIZEOF(.tdata);
	. = ALIGN(16);
	__image_file_end = .;

	.tbss (NOLOAD) : ALIGN(8) {
		__bss_start = .;
		__tbss_start = .;
		*(.tbss .tbss.*)
		*(.tcommon)
		__tbss_end = .;
	} :data :tls
	__tbss_offset = __tbss_start - __tdata_start;
	__tbss_size = SIZEOF(.tbss);
	.tbss_space (NOLOAD) : {
		. = ADDR(.tbss) + SIZEOF(.tbss);
	} :data
	.bss (NOLOAD) : ALIGN(16) {
		*(.bss .bss.*)
		*(COMMON)
		. = ALIGN(16);
		__tls_block = .;
		. += 1024;
		. = ALIGN(4096);
		__stack_guard = .;
		. += 4096;
		__stack_bottom = .;
		. += CONFIG_STACK_SIZE;
		__stack_top = .;
		__irq_stack_bottom = .;
		. += CONFIG_EXCEPTION_STACK_SIZE;
		__irq_stack_top = .;
		. += CONFIG_EXCEPTION_STACK_SIZE;
		__exc_stack_top = .;
		. = ALIGN(16);
		__bss_end = .;
	} :data
	. = ALIGN(4096);
	__image_end = .;
	__image_size = __image_end - __image_start;

	__tls_align = MAX(ALIGNOF(.tdata), ALIGNOF(.tbss));
	__tls_size = __tbss_end - __tdata_start;
	/* ARM's TLS variant 1: an 8-byte TCB at the thread pointer. */
	__arm32_tls_tcb_offset = MAX(8, __tls_align);

	/DISCARD/ : {
		*(.note .note.*)
		*(.eh_frame .eh_frame.*)
		*(.interp)
		*(.comment)
	}
}
ASSERT(__tls_align <= 8, "TLS alignment above 8: runtime.c assumes the block at TP + 8")
ASSERT(__tbss_end - __tdata_start + 8 <= 1024, "TLS block too small: grow __tls_block in hearth.ld.S")
