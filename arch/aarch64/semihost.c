/*
 * semihost.c: test-only exits through Arm semihosting (hlt #0xf000), which
 * QEMU turns into its own exit code when run with -semihosting-config
 * enable=on. Built only with CONFIG_SEMIHOSTING; called only when the test
 * runner asked for it on the command line (on real hardware the instruction
 * would fault). Leaves out: every other semihosting call.
 */
#include <stdint.h>

#include <arch/cpu.h>

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static __attribute__((noinline)) uint64_t semihost_call(uint64_t op, uint64_t arg)
{
	uint64_t ret;
	__asm__ volatile("mov x0, %1\n mov x1, %2\n hlt #0xf000\n mov %0, x0"
			 : "=r"(ret)
			 : "r"(op), "r"(arg)
			 : "x0", "x1", "memory");
	return ret;
}

void arch_semihost_exit(int code)
{
	uint64_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint64_t)(int64_t)code};
	semihost_call(SYS_EXIT, (uint64_t)(uintptr_t)block);
	arch_halt();
}

void arch_semihost_write0(const char *s)
{
	semihost_call(SYS_WRITE0, (uint64_t)(uintptr_t)s);
}
