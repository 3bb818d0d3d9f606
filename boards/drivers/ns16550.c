/*
 * ns16550.c: a 16550-style UART as the console: the Allwinner A20's and
 * H3's (Synopsys DesignWare APB UART, registers 4 bytes apart, 32-bit
 * accesses) and plain 16550s. Register spacing and access width from the
 * DT's reg-shift and reg-io-width. Transmit by polling (the console must work
 * with interrupts off, in crash reports); receive by polling too (getc).
 * Assumes the firmware (U-Boot) set the baud rate and line format. Leaves
 * out: interrupt-driven receive, flow control, the DesignWare busy-detect
 * quirk (only the line control register, which is never written, has it).
 */
#include <errno.h>

#include <libfdt.h>

#include <arch/cpu.h>
#include <board.h>

#define RBR_THR 0 /* receive buffer / transmit holding */
#define LSR 5     /* line status */
#define LSR_DR (1u << 0)
#define LSR_THRE (1u << 5)

struct ns16550 {
	uintptr_t base;
	unsigned int shift, width;
};
static struct ns16550 uart;

static unsigned int rd(const struct ns16550 *u, unsigned int reg)
{
	uintptr_t a = u->base + ((uintptr_t)reg << u->shift);
	return u->width == 4 ? mmio_read32(a) : mmio_read8(a);
}

static void wr(const struct ns16550 *u, unsigned int reg, unsigned int v)
{
	uintptr_t a = u->base + ((uintptr_t)reg << u->shift);
	if (u->width == 4)
		mmio_write32(a, v);
	else
		mmio_write8(a, (uint8_t)v);
}

static void ns16550_write(struct device *dev, const char *buf, size_t len)
{
	const struct ns16550 *u = dev->priv;
	for (size_t i = 0; i < len; i++) {
		unsigned int spins = 0;
		while (!(rd(u, LSR) & LSR_THRE) && ++spins < 1000000)
			;
		wr(u, RBR_THR, (unsigned char)buf[i]);
	}
}

static int ns16550_getc(struct device *dev)
{
	const struct ns16550 *u = dev->priv;
	if (!(rd(u, LSR) & LSR_DR))
		return -EAGAIN;
	return (int)(rd(u, RBR_THR) & 0xff);
}

static const struct console_ops ns16550_ops = {
	.write = ns16550_write,
	.read_byte = ns16550_getc,
};

static int u32_prop(const struct device *dev, const char *name, unsigned int dflt,
		    unsigned int *out)
{
	int len;
	const fdt32_t *p = fdt_getprop(dev->fdt, dev->node, name, &len);
	if (!p) {
		*out = dflt;
		return 0;
	}
	if (len != 4)
		return -EINVAL;
	*out = fdt32_to_cpu(*p);
	return 0;
}

static int ns16550_probe(struct device *dev)
{
	struct ns16550 *u = &uart;
	int out = board_dt_stdout(dev->fdt);
	/* The console is the stdout-path node; without one, the first UART. */
	if (out >= 0 && out != dev->node)
		return -EBUSY;
	if (u->base)
		return -EBUSY;
	int err = u32_prop(dev, "reg-shift", 0, &u->shift);
	if (!err)
		err = u32_prop(dev, "reg-io-width", 1, &u->width);
	if (err || u->shift > 2 || (u->width != 1 && u->width != 4))
		return -EINVAL;
	uint64_t size;
	if ((err = board_dev_map(dev, 0, &u->base, &size)))
		return err;
	if (size < ((uint64_t)(LSR + 1) << u->shift)) {
		u->base = 0;
		return -EINVAL;
	}
	dev->priv = u;
	return console_register(dev, &ns16550_ops);
}

DRIVER(ns16550, ns16550_probe, "snps,dw-apb-uart", "ns16550a", "ns16550");
