/*
 * gicv2.c: the ARM GICv2 interrupt controller (GIC-400, Cortex-A15/A7 GIC),
 * also as Xen's virtual GIC. Distributor and CPU interface are both memory-
 * mapped (reg 0 and 1). Every interrupt goes to CPU 0, one priority, group
 * as the firmware left it. Leaves out: SGIs between CPUs, priorities,
 * the virtualization extension registers (reg 2 and 3).
 */
#include <errno.h>

#include <arch/cpu.h>
#include <board.h>

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ICPENDR 0x280
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_ICFGR 0xc00

#define GICC_CTLR 0x000
#define GICC_PMR 0x004
#define GICC_BPR 0x008
#define GICC_IAR 0x00c
#define GICC_EOIR 0x010

struct gicv2 {
	uintptr_t d, c;
	unsigned int nirq;
};
static struct gicv2 gic;

static int gicv2_enable(struct device *dev, unsigned int irq, unsigned int flags)
{
	struct gicv2 *g = dev->priv;
	if (irq >= g->nirq)
		return -EINVAL;
	if (irq >= 32) {
		uintptr_t cfg = g->d + GICD_ICFGR + (irq / 16) * 4;
		uint32_t v = mmio_read32(cfg);
		unsigned int shift = (irq % 16) * 2 + 1;
		if (flags & IRQ_EDGE)
			v |= 1u << shift;
		else
			v &= ~(1u << shift);
		mmio_write32(cfg, v);
		mmio_write8(g->d + GICD_ITARGETSR + irq, 1);
	}
	mmio_write8(g->d + GICD_IPRIORITYR + irq, 0xa0);
	mmio_write32(g->d + GICD_ISENABLER + (irq / 32) * 4, 1u << (irq % 32));
	return 0;
}

static void gicv2_disable(struct device *dev, unsigned int irq)
{
	struct gicv2 *g = dev->priv;
	if (irq < g->nirq)
		mmio_write32(g->d + GICD_ICENABLER + (irq / 32) * 4, 1u << (irq % 32));
}

static unsigned int gicv2_ack(struct device *dev)
{
	struct gicv2 *g = dev->priv;
	return mmio_read32(g->c + GICC_IAR) & 0x3ff;
}

static void gicv2_eoi(struct device *dev, unsigned int irq)
{
	struct gicv2 *g = dev->priv;
	mmio_write32(g->c + GICC_EOIR, irq);
}

static const struct irqchip_ops gicv2_ops = {
	.enable = gicv2_enable,
	.disable = gicv2_disable,
	.ack = gicv2_ack,
	.eoi = gicv2_eoi,
};

static int gicv2_probe(struct device *dev)
{
	struct gicv2 *g = &gic;
	int err;
	if (g->d)
		return -EBUSY;
	if ((err = board_dev_map(dev, 0, &g->d, NULL)) || (err = board_dev_map(dev, 1, &g->c, NULL)))
		return err;
	g->nirq = ((mmio_read32(g->d + GICD_TYPER) & 0x1f) + 1) * 32;
	if (g->nirq > 1020)
		g->nirq = 1020;
	mmio_write32(g->d + GICD_CTLR, 0);
	for (unsigned int i = 0; i < g->nirq; i += 32) {
		mmio_write32(g->d + GICD_ICENABLER + i / 8, 0xffffffffu);
		mmio_write32(g->d + GICD_ICPENDR + i / 8, 0xffffffffu);
	}
	mmio_write32(g->d + GICD_CTLR, 1);
	mmio_write32(g->c + GICC_PMR, 0xf0);
	mmio_write32(g->c + GICC_BPR, 0);
	mmio_write32(g->c + GICC_CTLR, 1);
	dev->priv = g;
	return irqchip_register(dev, &gicv2_ops);
}

DRIVER(gicv2, gicv2_probe, "arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a7-gic", "arm,cortex-a9-gic");
