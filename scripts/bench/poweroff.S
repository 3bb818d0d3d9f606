/* poweroff.S: the boot benchmark's peer: a Linux arm64 Image that does
 * nothing but PSCI SYSTEM_OFF, so QEMU's own start-up cost is measured. */
	.globl _start
_start:
	b	1f
	.long	0
	.quad	0, 4096, 0xa, 0, 0, 0
	.ascii	"ARM\x64"
	.long	0
1:	movz	w0, #0x8
	movk	w0, #0x8400, lsl #16
	hvc	#0
2:	wfi
	b	2b
