/*
 * pl011.c: the ARM PL011 UART as the console. Transmit by polling (the
 * console must work with interrupts off, in crash reports); receive by
 * polling too (getc). Also the early console at CONFIG_EARLY_CONSOLE_PL011,
 * used before the DT is read and for the line that ends a failed boot.
 * Assumes the firmware or QEMU set the baud rate. Leaves out: interrupt-
 * driven receive, flow control.
 */
#include <errno.h>

#include <arch/cpu.h>
#include <board.h>

#include "../core/core.h"

#define UARTDR 0x000
#define UARTFR 0x018
#define FR_TXFF (1u << 5)
#define FR_RXFE (1u << 4)

static void tx(uintptr_t base, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned int spins = 0;
		while ((mmio_read32(base + UARTFR) & FR_TXFF) && ++spins < 1000000)
			;
		mmio_write32(base + UARTDR, (unsigned char)buf[i]);
	}
}

#if CONFIG_EARLY_CONSOLE_PL011
void board_early_write(const char *buf, size_t len)
{
	tx(CONFIG_EARLY_CONSOLE_PL011, buf, len);
}
#endif

static void pl011_write(struct device *dev, const char *buf, size_t len)
{
	tx((uintptr_t)dev->priv, buf, len);
}

static int pl011_getc(struct device *dev)
{
	uintptr_t base = (uintptr_t)dev->priv;
	if (mmio_read32(base + UARTFR) & FR_RXFE)
		return -EAGAIN;
	return (int)(mmio_read32(base + UARTDR) & 0xff);
}

static const struct console_ops pl011_ops = {
	.write = pl011_write,
	.read_byte = pl011_getc,
};

static int pl011_probe(struct device *dev)
{
	int out = board_dt_stdout(dev->fdt);
	/* The console is the stdout-path node; without one, the first UART. */
	if (out >= 0 && out != dev->node)
		return -EBUSY;
	uintptr_t base;
	int err = board_dev_map(dev, 0, &base, NULL);
	if (err)
		return err;
	dev->priv = (void *)base;
	return console_register(dev, &pl011_ops);
}

DRIVER(pl011, pl011_probe, "arm,pl011", "arm,sbsa-uart");
