/*
 * virtio_rng.c: the virtio entropy device as the board's rng. A read posts
 * one device-writable buffer and waits (polling, bounded by time) until the
 * device returns it, repeating until the caller's buffer is full. At probe a
 * first read must succeed and must not be constant, or the device is not
 * registered. Leaves out: interrupt-driven reads (entropy is read rarely:
 * the stack canary, TLS seeding).
 */
#include <errno.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "virtio.h"

#define CHUNK 64
#define TIMEOUT_NS 2000000000ull

struct vrng {
	struct virtio_dev *vd;
	struct virtq q;
	uint8_t buf[CHUNK] __attribute__((aligned(64)));
};
static struct vrng rng;

static void rng_irq(void *arg)
{
	virtio_irq_ack(arg);
}

static int rng_read_chunk(struct vrng *r, uint8_t *out, size_t len, size_t *got)
{
	struct virtq_buf b = {r->buf, (uint32_t)len, true};
	int err = virtq_add(&r->q, &b, 1, r);
	if (err)
		return err;
	virtq_kick(r->vd, &r->q);
	uint64_t start = time_now_ns();
	uint32_t n = 0;
	for (unsigned long spins = 0;; spins++) {
		if (virtq_get(&r->q, &n) == r)
			break;
		if ((clock_ready() && time_now_ns() - start > TIMEOUT_NS) ||
		    (!clock_ready() && spins > 100000000ul))
			return -ETIMEDOUT; /* the descriptor stays with the device */
	}
	if (n > len)
		return -EIO;
	memcpy(out, r->buf, n);
	*got = n;
	return 0;
}

static int vrng_read(struct device *dev, void *buf, size_t len)
{
	struct vrng *r = dev->priv;
	uint8_t *p = buf;
	int empty = 0;
	while (len) {
		size_t got = 0, want = len < CHUNK ? len : CHUNK;
		int err = rng_read_chunk(r, p, want, &got);
		if (err)
			return err;
		if (!got && ++empty > 16)
			return -EIO;
		p += got;
		len -= got;
	}
	return 0;
}

static const struct rng_ops vrng_ops = {
	.read = vrng_read,
};

static int vrng_probe(struct virtio_dev *vd)
{
	struct vrng *r = &rng;
	int err;
	if (r->vd)
		return -EBUSY;
	if ((err = virtio_negotiate(vd, 0)) || (err = virtq_setup(vd, &r->q, 0, 8)))
		return err;
	r->vd = vd;
	vd->dev->priv = r;
	/* Routed before the device may raise it (see virtio_net.c). */
	irq_attach(vd->irq.irq, vd->irq.flags, rng_irq, vd);
	virtio_driver_ok(vd);
	/* Health check: it answers and is not stuck on one value. */
	uint8_t sample[32];
	err = vrng_read(vd->dev, sample, sizeof(sample));
	if (err)
		return err;
	int same = 1;
	for (size_t i = 1; i < sizeof(sample); i++)
		same &= sample[i] == sample[0];
	if (same)
		return -EIO;
	return rng_register(vd->dev, &vrng_ops);
}

VIRTIO_DRIVER(virtio_rng, VIRTIO_ID_RNG, vrng_probe);
