/*
 * virtio_blk.c: the virtio block device as a blkdev. Requests are
 * synchronous: one request (header, data, status) is posted, the device is
 * notified, and the caller sleeps (WFI, bounded by a deadline on the clock)
 * until the used ring returns it. The interrupt handler only acknowledges
 * and counts; completion is read from the used ring, so a wait also works
 * before the event loop has unmasked interrupts (the boot-time store open).
 * Honours VIRTIO_BLK_F_FLUSH (and reports a volatile cache only then),
 * VIRTIO_BLK_F_RO, VIRTIO_BLK_F_BLK_SIZE and VIRTIO_BLK_F_SIZE_MAX; capacity
 * from config offset 0 in 512-byte units. Legacy (v1) and modern (v2).
 * Assumes identity-mapped coherent DMA (the caller's buffer is used as is).
 * Leaves out: several requests in flight, discard/write-zeroes, multiqueue,
 * topology hints, the writeback toggle (CONFIG_WCE).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "../../core/core.h"
#include "virtio.h"

#define F_SIZE_MAX (1ull << 1)
#define F_RO (1ull << 5)
#define F_BLK_SIZE (1ull << 6)
#define F_FLUSH (1ull << 9)

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4

#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_BLK_SIZE 20

#define MAX_XFER (128u * 1024u) /* bytes per request */
#define TIMEOUT_NS 30000000000ull

struct vblk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector; /* in 512-byte units, whatever the block size */
};

struct vblk {
	struct blkdev bd;
	struct virtio_dev *vd;
	struct virtq q;
	uint32_t max_xfer;
	unsigned int shift; /* log2(sector_size / 512) */
	bool dead;          /* a request timed out: the device is not trusted again */
	volatile uint64_t irqs;
	struct vblk_hdr hdr __attribute__((aligned(16)));
	volatile uint8_t status;
};

static void vblk_irq(void *arg)
{
	struct vblk *b = arg;
	virtio_irq_ack(b->vd);
	b->irqs++;
}

/* Posts one request and sleeps until the device returns it. */
static int submit(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	if (b->dead)
		return -EIO;
	struct virtq_buf bufs[3];
	unsigned int n = 0;
	b->hdr.type = type;
	b->hdr.reserved = 0;
	b->hdr.sector = sector << b->shift;
	b->status = 0xff;
	bufs[n++] = (struct virtq_buf){&b->hdr, sizeof(b->hdr), false};
	if (len)
		bufs[n++] = (struct virtq_buf){buf, len, type == T_IN};
	bufs[n++] = (struct virtq_buf){(void *)&b->status, 1, true};
	int err = virtq_add(&b->q, bufs, n, b);
	if (err)
		return err;
	virtq_kick(b->vd, &b->q);
	uint64_t deadline = time_now_ns() + TIMEOUT_NS;
	for (;;) {
		unsigned long f = arch_irq_save();
		void *c = virtq_get(&b->q, NULL);
		if (c) {
			arch_irq_restore(f);
			break;
		}
		if (time_now_ns() >= deadline) {
			arch_irq_restore(f);
			b->dead = true;
			printf("%s: request type %u timed out; device disabled\n", b->bd.name,
			       (unsigned int)type);
			return -ETIMEDOUT;
		}
		/* Sleeps until an interrupt is pending (even while masked). With
		 * interrupts masked (at boot) nobody else acknowledges ours. */
		board_clock_idle(deadline);
		virtio_irq_ack(b->vd);
		arch_irq_restore(f);
	}
	arch_rmb();
	switch (b->status) {
	case S_OK:
		return 0;
	case S_UNSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

static int xfer(struct blkdev *bd, uint32_t type, uint64_t sector, uint8_t *buf, size_t count)
{
	struct vblk *b = bd->priv;
	if (sector > bd->sectors || count > bd->sectors - sector)
		return -ERANGE;
	if (type == T_OUT && bd->read_only)
		return -EROFS;
	size_t per = b->max_xfer / bd->sector_size;
	while (count) {
		size_t n = count < per ? count : per;
		int err = submit(b, type, sector, buf, (uint32_t)(n * bd->sector_size));
		if (err) {
			bd->stats.errors++;
			return err;
		}
		if (type == T_IN) {
			bd->stats.reads++;
			bd->stats.read_bytes += n * bd->sector_size;
		} else {
			bd->stats.writes++;
			bd->stats.write_bytes += n * bd->sector_size;
		}
		sector += n;
		buf += n * bd->sector_size;
		count -= n;
	}
	return 0;
}

static int vblk_read(struct blkdev *bd, uint64_t sector, void *buf, size_t count)
{
	return xfer(bd, T_IN, sector, buf, count);
}

static int vblk_write(struct blkdev *bd, uint64_t sector, const void *buf, size_t count)
{
	/* The device only reads the buffer of an OUT request. */
	return xfer(bd, T_OUT, sector, (uint8_t *)(uintptr_t)buf, count);
}

static int vblk_flush(struct blkdev *bd)
{
	struct vblk *b = bd->priv;
	if (!(b->vd->features & F_FLUSH))
		return 0; /* no volatile cache: a completed write is durable */
	bd->stats.flushes++;
	int err = submit(b, T_FLUSH, 0, NULL, 0);
	if (err)
		bd->stats.errors++;
	return err;
}

static const struct blkdev_ops vblk_ops = {
	.read = vblk_read,
	.write = vblk_write,
	.flush = vblk_flush,
};

static int vblk_probe(struct virtio_dev *vd)
{
	struct vblk *b = aligned_alloc(64, sizeof(*b));
	int err;
	if (!b)
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	b->vd = vd;
	if ((err = virtio_negotiate(vd, F_SIZE_MAX | F_RO | F_BLK_SIZE | F_FLUSH)))
		goto fail;
	uint32_t bs = 512;
	if (vd->features & F_BLK_SIZE) {
		bs = virtio_config32(vd, CFG_BLK_SIZE);
		if (bs < 512 || bs > 65536 || (bs & (bs - 1))) {
			err = -ENOTSUP;
			goto fail;
		}
	}
	uint64_t cap = virtio_config32(vd, CFG_CAPACITY) |
		       (uint64_t)virtio_config32(vd, CFG_CAPACITY + 4) << 32;
	b->max_xfer = MAX_XFER;
	if (vd->features & F_SIZE_MAX) {
		uint32_t sm = virtio_config32(vd, CFG_SIZE_MAX);
		if (sm && sm < b->max_xfer)
			b->max_xfer = sm;
	}
	if (b->max_xfer < bs)
		b->max_xfer = bs; /* one block per request, whatever size_max says */
	while ((512u << b->shift) < bs)
		b->shift++;
	if ((err = virtq_setup(vd, &b->q, 0, 16)))
		goto fail;
	b->bd.dev = vd->dev;
	b->bd.ops = &vblk_ops;
	b->bd.priv = b;
	b->bd.sector_size = bs;
	b->bd.sectors = cap >> b->shift;
	b->bd.read_only = (vd->features & F_RO) != 0;
	b->bd.volatile_cache = (vd->features & F_FLUSH) != 0;
	/* Routed before the device may raise it (see virtio_net.c). */
	if ((err = irq_attach(vd->irq.irq, vd->irq.flags, vblk_irq, b)))
		goto fail;
	virtio_driver_ok(vd);
	vd->dev->priv = b;
	return blkdev_register(&b->bd);
fail:
	free(b);
	return err;
}

VIRTIO_DRIVER(virtio_blk, VIRTIO_ID_BLOCK, vblk_probe);
