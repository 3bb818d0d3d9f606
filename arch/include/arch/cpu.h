/*
 * arch/cpu.h: the CPU interface every layer above arch/ may use: interrupt
 * masking, idle, barriers, MMIO accessors, identification, the crash path and
 * the test-only semihosting exit. Implemented per architecture in
 * arch/<arch>/; the host "CPU" is a Linux process.
 * Leaves out: SMP (one CPU), user mode.
 */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stddef.h>
#include <stdint.h>

#if defined(__aarch64__)
static inline unsigned long arch_irq_save(void)
{
	unsigned long f;
	__asm__ volatile("mrs %0, daif\n msr daifset, #2" : "=r"(f)::"memory");
	return f;
}
static inline void arch_irq_restore(unsigned long f)
{
	__asm__ volatile("msr daif, %0" ::"r"(f) : "memory");
}
static inline void arch_irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void arch_irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline void arch_wfi(void) { __asm__ volatile("dsb sy\n wfi" ::: "memory"); }
static inline void arch_mb(void) { __asm__ volatile("dsb sy" ::: "memory"); }
static inline void arch_rmb(void) { __asm__ volatile("dsb ld" ::: "memory"); }
static inline void arch_wmb(void) { __asm__ volatile("dsb st" ::: "memory"); }
static inline void arch_dma_mb(void) { __asm__ volatile("dmb sy" ::: "memory"); }
#elif defined(__arm__)
/* ARMv7-A: CPSR.I masks IRQs; restore puts back only the control byte. */
static inline unsigned long arch_irq_save(void)
{
	unsigned long f;
	__asm__ volatile("mrs %0, cpsr\n cpsid i" : "=r"(f)::"memory");
	return f;
}
static inline void arch_irq_restore(unsigned long f)
{
	__asm__ volatile("msr cpsr_c, %0" ::"r"(f) : "memory");
}
static inline void arch_irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void arch_irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void arch_wfi(void) { __asm__ volatile("dsb sy\n wfi" ::: "memory"); }
static inline void arch_mb(void) { __asm__ volatile("dsb sy" ::: "memory"); }
static inline void arch_rmb(void) { __asm__ volatile("dsb sy" ::: "memory"); } /* no dsb ld in v7 */
static inline void arch_wmb(void) { __asm__ volatile("dsb st" ::: "memory"); }
static inline void arch_dma_mb(void) { __asm__ volatile("dmb sy" ::: "memory"); }
#else
unsigned long arch_irq_save(void);
void arch_irq_restore(unsigned long f);
void arch_irq_enable(void);
void arch_irq_disable(void);
void arch_wfi(void);
static inline void arch_mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void arch_rmb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void arch_wmb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void arch_dma_mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif

/* MMIO: single accesses of the named width, never merged or split. */
#if defined(__arm__)
/* ARMv7: plain ldr/str [rN] only. A hypervisor that emulates the register
 * (Xen's vGIC, a vPL011) decodes the access from the fault syndrome, which
 * says nothing for writeback addressing or ldrd/strd: the compiler must not
 * pick those. 64-bit registers are two 32-bit accesses, low word first (the
 * GIC allows that for GICR_TYPER and GICD_IROUTER, the only ones used). */
static inline uint32_t mmio_read32(uintptr_t a)
{
	uint32_t v;
	__asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline void mmio_write32(uintptr_t a, uint32_t v)
{
	__asm__ volatile("str %0, [%1]" ::"r"(v), "r"(a) : "memory");
}
static inline uint16_t mmio_read16(uintptr_t a)
{
	uint16_t v;
	__asm__ volatile("ldrh %0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline void mmio_write16(uintptr_t a, uint16_t v)
{
	__asm__ volatile("strh %0, [%1]" ::"r"(v), "r"(a) : "memory");
}
static inline uint8_t mmio_read8(uintptr_t a)
{
	uint8_t v;
	__asm__ volatile("ldrb %0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline void mmio_write8(uintptr_t a, uint8_t v)
{
	__asm__ volatile("strb %0, [%1]" ::"r"(v), "r"(a) : "memory");
}
static inline uint64_t mmio_read64(uintptr_t a)
{
	uint32_t lo = mmio_read32(a);
	return ((uint64_t)mmio_read32(a + 4) << 32) | lo;
}
static inline void mmio_write64(uintptr_t a, uint64_t v)
{
	mmio_write32(a, (uint32_t)v);
	mmio_write32(a + 4, (uint32_t)(v >> 32));
}
#else
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint16_t mmio_read16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline void mmio_write16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint64_t mmio_read64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void mmio_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
#endif

/* arch/<arch>/cpu.c */
/* "Cortex-A57 r1p0", the exception level and similar, for the banner. */
void arch_cpu_describe(char *buf, size_t len);
/* Exception level Hearth runs at (1 or 2), 0 on the host. ARMv7 answers
 * with the privilege level: 1 for SVC (PL1), 2 for HYP (PL2). */
int arch_current_el(void);
/* Exception level the image was entered at (before any drop). */
int arch_entry_el(void);
/* Where the image sits: [start, end) including bss and stacks. */
void arch_image_range(uintptr_t *start, uintptr_t *end);

/* arch/<arch>/semihost.c: only with CONFIG_SEMIHOSTING (tests). */
void arch_semihost_exit(int code) __attribute__((noreturn));
void arch_semihost_write0(const char *s);

/* arch/host: the process exits with (code). */
void arch_host_exit(int code) __attribute__((noreturn));

/* arch/<arch>/traps.c: stop the CPU for good (interrupts off, WFI). */
void arch_halt(void) __attribute__((noreturn));
/* Prints a backtrace starting at (fp) through (out): frame records on
 * aarch64; on ARMv7 (Thumb-2 has no walkable frame chain) the return
 * addresses found on the stack from (fp) up. */
void arch_backtrace(uintptr_t fp, void (*out)(const char *line));

/* The program (hub/main.c): called by each arch's start with the DTB;
 * its return value is the exit code for board_halt. */
int hearth_main(const void *fdt);

#endif
