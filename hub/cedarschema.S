/* cedarschema.S: policy/hearth.cedarschema embedded in the image as the
 * NUL-terminated string hearth_cedarschema (hub/policies.c validates
 * policies against it). */
	.section .rodata.cedarschema,"a"
	.globl hearth_cedarschema
hearth_cedarschema:
	.incbin "policy/hearth.cedarschema"
	.byte 0
	.section .note.GNU-stack,"",%progbits
