/*
 * semihost.c: test-only exits through Arm semihosting, which QEMU turns into
 * its own exit code when run with -semihosting-config enable=on. From
 * Thumb state the trap is `svc #0xab` (QEMU takes it before the SVC
 * exception, from any privileged mode). The exit is SYS_EXIT_EXTENDED:
 * the 32-bit SYS_EXIT carries no exit code. Built only with
 * CONFIG_SEMIHOSTING; called only when the test runner asked for it on the
 * command line (on real hardware the SVC would end in a crash report).
 * Leaves out: every other semihosting call.
 */
#include <stdint.h>

#include <arch/cpu.h>

#define SYS_WRITE0 0x04
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static __attribute__((noinline)) uint32_t semihost_call(uint32_t op, uintptr_t arg)
{
	register uint32_t r0 __asm__("r0") = op;
	register uintptr_t r1 __asm__("r1") = arg;
	__asm__ volatile("svc #0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

void arch_semihost_exit(int code)
{
	uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
	semihost_call(SYS_EXIT_EXTENDED, (uintptr_t)block);
	arch_halt();
}

void arch_semihost_write0(const char *s)
{
	semihost_call(SYS_WRITE0, (uintptr_t)s);
}
