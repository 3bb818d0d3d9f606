/*
 * driver.c: binds drivers to device-tree nodes and probes them. Every node
 * with a compatible string gets a struct device; the binding decision is
 * bind.c's (shared with the hearth-dt host tool), the probing is here.
 * Probes that return -EAGAIN (a dependency such as the interrupt parent is
 * not up yet) are retried until a pass makes no progress.
 * Assumes one CPU and that probing happens once, at boot.
 * Leaves out: hot-plug, removal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include <arch/mmu.h>
#include <board.h>

extern const struct driver __start_hearth_drivers[], __stop_hearth_drivers[];

#define MAX_DEVICES 96
static struct device devices[MAX_DEVICES];
static size_t ndevices;
static const struct driver *table[64];
static size_t ntable;

const char *board_status_str(int status)
{
	switch (status) {
	case 0: return "ok";
	case 1: return "not probed";
	case -ENODEV: return "no device";
	case -EAGAIN: return "waiting for a dependency";
	case -ENOMEM: return "out of memory";
	case -EINVAL: return "bad device-tree data";
	case -ENOENT: return "missing device-tree property";
	case -EIO: return "device error";
	case -ENOTSUP: return "unsupported device";
	case -EBUSY: return "already provided by another device";
	case -ETIMEDOUT: return "device timed out";
	default: return "failed";
	}
}

static void collect(void *arg, const struct binding *b, int depth)
{
	(void)arg;
	(void)depth;
	if (b->state != BIND_DRIVER && b->state != BIND_UNBOUND)
		return;
	if (ndevices >= MAX_DEVICES)
		return;
	struct device *d = &devices[ndevices++];
	d->fdt = board_fdt();
	d->node = b->node;
	d->drv = b->state == BIND_DRIVER ? b->drv : NULL;
	d->status = 1;
}

int board_probe_all(const void *fdt)
{
	for (const struct driver *d = __start_hearth_drivers; d < __stop_hearth_drivers; d++)
		if (ntable < sizeof(table) / sizeof(table[0]))
			table[ntable++] = d;
	int err = board_bind_walk(fdt, table, ntable, collect, NULL);
	if (err)
		return err;
	if (ndevices >= MAX_DEVICES)
		printf("board: more than %d devices; the rest are ignored\n", MAX_DEVICES);

	for (int pass = 0; pass < 8; pass++) {
		int progress = 0, waiting = 0;
		for (size_t i = 0; i < ndevices; i++) {
			struct device *d = &devices[i];
			if (!d->drv || (d->status != 1 && d->status != -EAGAIN))
				continue;
			d->status = d->drv->probe(d);
			if (d->status == -EAGAIN)
				waiting++;
			else
				progress++;
		}
		if (!waiting || !progress)
			break;
	}
	return 0;
}

size_t board_devices(struct device **out)
{
	*out = devices;
	return ndevices;
}

int board_dev_map(struct device *dev, int index, uintptr_t *va, uint64_t *size)
{
	uint64_t addr, len;
	int err = board_dt_reg(dev->fdt, dev->node, index, &addr, &len);
	if (err)
		return err;
	if (!len || addr + len < addr)
		return -EINVAL;
#ifndef CONFIG_ARCH_HOST
	err = arch_mmu_map(addr, len, MMU_DEVICE);
	if (err)
		return err;
#endif
	*va = (uintptr_t)addr;
	if (size)
		*size = len;
	return 0;
}

int board_dev_irq(struct device *dev, int index, struct dt_irq *out)
{
	int err = board_dt_irq(dev->fdt, dev->node, index, out);
	if (err)
		return err;
	if (!irqchip_ready(out->parent))
		return -EAGAIN;
	return 0;
}
