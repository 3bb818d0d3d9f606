/*
 * gicv3.c: the ARM GICv3 interrupt controller: distributor (reg 0), the
 * redistributor of this CPU (found in reg 1 by affinity), and the CPU
 * interface through system registers (arch/irq.h). Works with a single
 * security state (QEMU's default, DS=1) and as non-secure EL1 under
 * firmware or Xen. Every SPI is routed to this CPU, group 1, one priority.
 * Leaves out: LPIs/ITS, SGIs between CPUs, priorities.
 */
#include <errno.h>

#include <arch/cpu.h>
#include <arch/irq.h>
#include <board.h>

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ICPENDR 0x0280
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IROUTER 0x6000
#define CTLR_RWP (1u << 31)

#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_SGI 0x10000 /* the SGI/PPI frame */
#define GICR_IGROUPR0 (GICR_SGI + 0x0080)
#define GICR_ISENABLER0 (GICR_SGI + 0x0100)
#define GICR_ICENABLER0 (GICR_SGI + 0x0180)
#define GICR_IPRIORITYR (GICR_SGI + 0x0400)
#define GICR_ICFGR1 (GICR_SGI + 0x0c04)

struct gicv3 {
	uintptr_t d, r;
	unsigned int nirq;
};
static struct gicv3 gic;

static void wait_rwp(uintptr_t reg)
{
	for (unsigned int i = 0; i < 1000000 && (mmio_read32(reg) & CTLR_RWP); i++)
		;
}

static int gicv3_enable(struct device *dev, unsigned int irq, unsigned int flags)
{
	struct gicv3 *g = dev->priv;
	if (irq >= g->nirq)
		return -EINVAL;
	if (irq < 32) {
		if (irq >= 16) {
			uint32_t v = mmio_read32(g->r + GICR_ICFGR1);
			unsigned int shift = (irq - 16) * 2 + 1;
			v = (flags & IRQ_EDGE) ? v | (1u << shift) : v & ~(1u << shift);
			mmio_write32(g->r + GICR_ICFGR1, v);
		}
		mmio_write8(g->r + GICR_IPRIORITYR + irq, 0xa0);
		mmio_write32(g->r + GICR_ISENABLER0, 1u << irq);
		return 0;
	}
	uintptr_t cfg = g->d + GICD_ICFGR + (irq / 16) * 4;
	uint32_t v = mmio_read32(cfg);
	unsigned int shift = (irq % 16) * 2 + 1;
	v = (flags & IRQ_EDGE) ? v | (1u << shift) : v & ~(1u << shift);
	mmio_write32(cfg, v);
	mmio_write8(g->d + GICD_IPRIORITYR + irq, 0xa0);
	uint64_t mpidr = arch_cpu_mpidr();
	uint64_t aff = (mpidr & 0xffffffull) | ((mpidr >> 32) & 0xff) << 32;
	mmio_write64(g->d + GICD_IROUTER + irq * 8, aff);
	mmio_write32(g->d + GICD_ISENABLER + (irq / 32) * 4, 1u << (irq % 32));
	return 0;
}

static void gicv3_disable(struct device *dev, unsigned int irq)
{
	struct gicv3 *g = dev->priv;
	if (irq >= g->nirq)
		return;
	if (irq < 32) {
		mmio_write32(g->r + GICR_ICENABLER0, 1u << irq);
		wait_rwp(g->r);
	} else {
		mmio_write32(g->d + GICD_ICENABLER + (irq / 32) * 4, 1u << (irq % 32));
		wait_rwp(g->d + GICD_CTLR);
	}
}

static unsigned int gicv3_ack(struct device *dev)
{
	(void)dev;
	return (unsigned int)(gicv3_read_iar1() & 0xffffff);
}

static void gicv3_eoi(struct device *dev, unsigned int irq)
{
	(void)dev;
	gicv3_write_eoir1(irq);
}

static const struct irqchip_ops gicv3_ops = {
	.enable = gicv3_enable,
	.disable = gicv3_disable,
	.ack = gicv3_ack,
	.eoi = gicv3_eoi,
};

/* This CPU's redistributor: walk the frames in reg 1 comparing affinity. */
static int find_redist(struct device *dev, struct gicv3 *g)
{
	uintptr_t base;
	uint64_t size;
	int err = board_dev_map(dev, 1, &base, &size);
	if (err)
		return err;
	uint64_t mpidr = arch_cpu_mpidr();
	uint32_t aff = (uint32_t)((mpidr & 0xffffff) | (((mpidr >> 32) & 0xff) << 24));
	for (uintptr_t r = base; r + 0x20000 <= base + size;) {
		uint64_t typer = mmio_read64(r + GICR_TYPER);
		if ((uint32_t)(typer >> 32) == aff) {
			g->r = r;
			return 0;
		}
		if (typer & (1u << 4)) /* Last */
			break;
		r += (typer & (1u << 1)) ? 0x40000 : 0x20000; /* VLPIS: two more frames */
	}
	return -ENODEV;
}

static int gicv3_probe(struct device *dev)
{
	struct gicv3 *g = &gic;
	int err;
#ifndef ARCH_HAS_GICV3_SYSREGS
	return -ENOTSUP;
#endif
	if (g->d)
		return -EBUSY;
	if ((err = board_dev_map(dev, 0, &g->d, NULL)) || (err = find_redist(dev, g)))
		return err;
	g->nirq = ((mmio_read32(g->d + GICD_TYPER) & 0x1f) + 1) * 32;
	if (g->nirq > 1020)
		g->nirq = 1020;

	/* Distributor: everything off, group 1, affinity routing on. */
	mmio_write32(g->d + GICD_CTLR, 0);
	wait_rwp(g->d + GICD_CTLR);
	for (unsigned int i = 32; i < g->nirq; i += 32) {
		mmio_write32(g->d + GICD_ICENABLER + i / 8, 0xffffffffu);
		mmio_write32(g->d + GICD_ICPENDR + i / 8, 0xffffffffu);
		mmio_write32(g->d + GICD_IGROUPR + i / 8, 0xffffffffu);
	}
	wait_rwp(g->d + GICD_CTLR);
	mmio_write32(g->d + GICD_CTLR, (1u << 4) | (1u << 1) | (1u << 0));
	wait_rwp(g->d + GICD_CTLR);

	/* Redistributor: awake, SGIs/PPIs off and in group 1. */
	mmio_write32(g->r + GICR_WAKER, mmio_read32(g->r + GICR_WAKER) & ~(1u << 1));
	for (unsigned int i = 0; i < 1000000 && (mmio_read32(g->r + GICR_WAKER) & (1u << 2)); i++)
		;
	mmio_write32(g->r + GICR_ICENABLER0, 0xffffffffu);
	mmio_write32(g->r + GICR_IGROUPR0, 0xffffffffu);
	wait_rwp(g->r);

	/* CPU interface. */
	gicv3_write_sre(gicv3_read_sre() | 1);
	if (!(gicv3_read_sre() & 1))
		return -ENOTSUP; /* system register access refused from above */
	gicv3_write_pmr(0xf0);
	gicv3_write_bpr1(0);
	gicv3_write_ctlr(0);
	gicv3_write_igrpen1(1);
	arch_isb();
	dev->priv = g;
	return irqchip_register(dev, &gicv3_ops);
}

DRIVER(gicv3, gicv3_probe, "arm,gic-v3");
