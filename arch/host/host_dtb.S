/* host_dtb.S: the host board's device tree, compiled by dtc, built in. */
	.section .rodata
	.balign 8
	.globl host_dtb
host_dtb:
	.incbin HOST_DTB
	.globl host_dtb_end
host_dtb_end:
	.section .note.GNU-stack, "", %progbits
