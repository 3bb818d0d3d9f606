/*
 * arch/timer.h: the ARM generic timer as the CPU sees it: the virtual
 * counter and the EL1 virtual timer (what a guest under Xen gets too);
 * on ARMv7 the same timer through cp15.
 * Only on ARM; the host board's clock driver uses clock_gettime instead.
 */
#ifndef ARCH_TIMER_H
#define ARCH_TIMER_H

#include <stdint.h>

#if defined(__aarch64__)
#define ARCH_HAS_GENERIC_TIMER 1
static inline uint64_t arch_counter(void)
{
	uint64_t v;
	__asm__ volatile("isb\n mrs %0, cntvct_el0" : "=r"(v)::"memory");
	return v;
}
static inline uint64_t arch_counter_freq(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}
/* Fires the virtual timer interrupt when the counter reaches (cval). */
static inline void arch_timer_arm(uint64_t cval)
{
	__asm__ volatile("msr cntv_cval_el0, %0\n msr cntv_ctl_el0, %1\n isb" ::"r"(cval),
			 "r"((uint64_t)1)
			 : "memory");
}
static inline void arch_timer_disarm(void)
{
	__asm__ volatile("msr cntv_ctl_el0, %0\n isb" ::"r"((uint64_t)0) : "memory");
}
#elif defined(__arm__)
/* ARMv7-A with the generic timer: the same registers through cp15. */
#define ARCH_HAS_GENERIC_TIMER 1
static inline uint64_t arch_counter(void)
{
	uint64_t v;
	__asm__ volatile("isb\n mrrc p15, 1, %Q0, %R0, c14" : "=r"(v)::"memory"); /* CNTVCT */
	return v;
}
static inline uint64_t arch_counter_freq(void)
{
	uint32_t v;
	__asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(v)); /* CNTFRQ */
	return v;
}
static inline void arch_timer_arm(uint64_t cval)
{
	__asm__ volatile("mcrr p15, 3, %Q0, %R0, c14\n" /* CNTV_CVAL */
			 "mcr p15, 0, %1, c14, c3, 1\n isb" /* CNTV_CTL = ENABLE */
			 ::"r"(cval), "r"(1u)
			 : "memory");
}
static inline void arch_timer_disarm(void)
{
	__asm__ volatile("mcr p15, 0, %0, c14, c3, 1\n isb" ::"r"(0u) : "memory");
}
#endif

#endif
