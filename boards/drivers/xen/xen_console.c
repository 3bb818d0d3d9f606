/*
 * xen_console.c: the console of Hearth as Xen's dom0: the console_io
 * hypercall (HYPERVISOR_console_io, CONSOLEIO_write), bound to the DT's
 * /hypervisor node ("xen,xen"). Only a dom0 may use it on a release build of
 * Xen; a domU's console (the PV ring or vpl011) comes with the Xen issue.
 * Assumes aarch64 (hvc #0xEA1, hypercall number in x16).
 * Leaves out: reading from the console, domU consoles.
 */
#include <errno.h>

#include <libfdt.h>

#include <board.h>

#define HYPERVISOR_console_io 18
#define CONSOLEIO_write 0

/* Its own function: the register variables must not meet another call. */
static __attribute__((noinline)) long console_io(unsigned long cmd, unsigned long len, const char *buf)
{
	register unsigned long x0 __asm__("x0") = cmd;
	register unsigned long x1 __asm__("x1") = len;
	register const char *x2 __asm__("x2") = buf;
	register unsigned long x16 __asm__("x16") = HYPERVISOR_console_io;
	__asm__ volatile("hvc #0xea1" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x16) : "memory");
	return (long)x0;
}

static void xc_write(struct device *dev, const char *buf, size_t len)
{
	(void)dev;
	while (len) {
		size_t n = len > 256 ? 256 : len;
		if (console_io(CONSOLEIO_write, n, buf) < 0)
			return;
		buf += n;
		len -= n;
	}
}

static const struct console_ops xc_ops = {
	.write = xc_write,
};

static int xc_probe(struct device *dev)
{
	/* Only when the DT names no console of its own (dom0: Xen kept the UART). */
	if (board_dt_stdout(dev->fdt) >= 0)
		return -EBUSY;
	return console_register(dev, &xc_ops);
}

DRIVER(xen_console, xc_probe, "xen,xen");
