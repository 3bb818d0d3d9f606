/*
 * blkdev.c: the block device class. Drivers register a struct blkdev
 * (sector size, capacity, read-only, volatile cache, ops); the store finds
 * them here by index. Devices are named vda, vdb, ... in registration (DT)
 * order. Registration checks the required ops and the geometry.
 * Assumes synchronous drivers (a call returns when the device completed it).
 * Leaves out: partitions, hot-plug, request queues, discard.
 */
#include <errno.h>
#include <stdio.h>

#include <board.h>

#define MAX_BLKDEVS 4
static struct blkdev *devs[MAX_BLKDEVS];
static size_t ndevs;

int blkdev_register(struct blkdev *bd)
{
	static const char *const names[MAX_BLKDEVS] = {"vda", "vdb", "vdc", "vdd"};
	const char *who = bd->dev && bd->dev->drv ? bd->dev->drv->name : "?";
	if (!bd->ops || !bd->ops->read || !bd->ops->write || !bd->ops->flush)
		panic("blkdev %s: read, write and flush ops are required", who);
	if (bd->sector_size < 512 || (bd->sector_size & (bd->sector_size - 1)))
		panic("blkdev %s: sector size %u is not a power of two >= 512", who,
		      (unsigned int)bd->sector_size);
	if (ndevs >= MAX_BLKDEVS)
		return -ENOSPC;
	bd->name = names[ndevs];
	devs[ndevs++] = bd;
	return 0;
}

size_t blkdev_count(void)
{
	return ndevs;
}

struct blkdev *blkdev_get(size_t i)
{
	return i < ndevs ? devs[i] : NULL;
}
