/*
 * pl031.c: the ARM PL031 real-time clock, read once at boot to start the
 * wall clock (seconds since the Unix epoch in RTCDR). Leaves out: alarms,
 * writing the time back (SNTP corrects the wall clock in memory only).
 */
#include <errno.h>

#include <arch/cpu.h>
#include <board.h>

#define RTCDR 0x000
#define PERIPH_ID0 0xfe0

static int pl031_read(struct device *dev, int64_t *unix_seconds)
{
	*unix_seconds = mmio_read32((uintptr_t)dev->priv + RTCDR);
	return 0;
}

static const struct rtc_ops pl031_ops = {
	.read = pl031_read,
};

static int pl031_probe(struct device *dev)
{
	uintptr_t base;
	int err = board_dev_map(dev, 0, &base, NULL);
	if (err)
		return err;
	if ((mmio_read32(base + PERIPH_ID0) & 0xff) != 0x31)
		return -ENODEV;
	dev->priv = (void *)base;
	return rtc_register(dev, &pl031_ops);
}

DRIVER(pl031, pl031_probe, "arm,pl031");
