/*
 * arch/irq.h: the CPU side of the interrupt controller: the GICv3 CPU
 * interface system registers (GICv2's CPU interface is memory-mapped and
 * lives in its driver), as aarch64 system registers or ARMv7 cp15
 * registers. Only meaningful on ARM; the host has no GIC.
 */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H

#include <stdint.h>

#if defined(__aarch64__)
#define ARCH_HAS_GICV3_SYSREGS 1
static inline uint64_t gicv3_read_iar1(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, S3_0_C12_C12_0" : "=r"(v)); /* ICC_IAR1_EL1 */
	return v;
}
static inline void gicv3_write_eoir1(uint64_t v)
{
	__asm__ volatile("msr S3_0_C12_C12_1, %0" ::"r"(v)); /* ICC_EOIR1_EL1 */
}
static inline void gicv3_write_pmr(uint64_t v)
{
	__asm__ volatile("msr S3_0_C4_C6_0, %0" ::"r"(v)); /* ICC_PMR_EL1 */
}
static inline void gicv3_write_bpr1(uint64_t v)
{
	__asm__ volatile("msr S3_0_C12_C12_3, %0" ::"r"(v)); /* ICC_BPR1_EL1 */
}
static inline void gicv3_write_igrpen1(uint64_t v)
{
	__asm__ volatile("msr S3_0_C12_C12_7, %0" ::"r"(v)); /* ICC_IGRPEN1_EL1 */
}
static inline void gicv3_write_ctlr(uint64_t v)
{
	__asm__ volatile("msr S3_0_C12_C12_4, %0" ::"r"(v)); /* ICC_CTLR_EL1 */
}
static inline uint64_t gicv3_read_sre(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, S3_0_C12_C12_5" : "=r"(v)); /* ICC_SRE_EL1 */
	return v;
}
static inline void gicv3_write_sre(uint64_t v)
{
	__asm__ volatile("msr S3_0_C12_C12_5, %0\n isb" ::"r"(v));
}
static inline uint64_t arch_cpu_mpidr(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(v));
	return v;
}
static inline void arch_isb(void) { __asm__ volatile("isb" ::: "memory"); }
#elif defined(__arm__)
/* ARMv7-A: the AArch32 views of the same registers, through cp15 (a 32-bit
 * guest of Xen on a GICv3 host sees a GICv3). All are 32 bits wide. */
#define ARCH_HAS_GICV3_SYSREGS 1
#define GICV3_CP15_READ(crn, crm, op2)                                                     \
	({                                                                                 \
		uint32_t v_;                                                               \
		__asm__ volatile("mrc p15, 0, %0, " #crn ", " #crm ", " #op2 : "=r"(v_));  \
		v_;                                                                        \
	})
#define GICV3_CP15_WRITE(crn, crm, op2, v)                                                 \
	__asm__ volatile("mcr p15, 0, %0, " #crn ", " #crm ", " #op2 ::"r"((uint32_t)(v)) : "memory")
static inline uint64_t gicv3_read_iar1(void) { return GICV3_CP15_READ(c12, c12, 0); }
static inline void gicv3_write_eoir1(uint64_t v) { GICV3_CP15_WRITE(c12, c12, 1, v); }
static inline void gicv3_write_pmr(uint64_t v) { GICV3_CP15_WRITE(c4, c6, 0, v); }
static inline void gicv3_write_bpr1(uint64_t v) { GICV3_CP15_WRITE(c12, c12, 3, v); }
static inline void gicv3_write_igrpen1(uint64_t v) { GICV3_CP15_WRITE(c12, c12, 7, v); }
static inline void gicv3_write_ctlr(uint64_t v) { GICV3_CP15_WRITE(c12, c12, 4, v); }
static inline uint64_t gicv3_read_sre(void) { return GICV3_CP15_READ(c12, c12, 5); }
static inline void gicv3_write_sre(uint64_t v)
{
	GICV3_CP15_WRITE(c12, c12, 5, v);
	__asm__ volatile("isb" ::: "memory");
}
/* MPIDR's affinity fields Aff2..Aff0 sit where aarch64 has them; no Aff3. */
static inline uint64_t arch_cpu_mpidr(void) { return GICV3_CP15_READ(c0, c0, 5); }
static inline void arch_isb(void) { __asm__ volatile("isb" ::: "memory"); }
#endif

#endif
