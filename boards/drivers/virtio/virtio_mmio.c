/*
 * virtio_mmio.c: the virtio-mmio transport, legacy (version 1, QEMU's
 * default) and modern (version 2). Probes each "virtio,mmio" node, skips
 * empty slots (device id 0), and hands the device to the virtio driver that
 * claims its id. Virtqueues use the legacy contiguous layout, which both
 * versions accept. Assumes identity-mapped, coherent DMA.
 * Leaves out: shared memory regions, notification data, packed rings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "virtio.h"

#define MAGIC 0x000
#define VERSION 0x004
#define DEVICE_ID 0x008
#define DEVICE_FEATURES 0x010
#define DEVICE_FEATURES_SEL 0x014
#define DRIVER_FEATURES 0x020
#define DRIVER_FEATURES_SEL 0x024
#define GUEST_PAGE_SIZE 0x028 /* v1 */
#define QUEUE_SEL 0x030
#define QUEUE_NUM_MAX 0x034
#define QUEUE_NUM 0x038
#define QUEUE_ALIGN 0x03c /* v1 */
#define QUEUE_PFN 0x040   /* v1 */
#define QUEUE_READY 0x044 /* v2 */
#define QUEUE_NOTIFY 0x050
#define INTERRUPT_STATUS 0x060
#define INTERRUPT_ACK 0x064
#define STATUS 0x070
#define QUEUE_DESC_LOW 0x080
#define QUEUE_DESC_HIGH 0x084
#define QUEUE_DRIVER_LOW 0x090
#define QUEUE_DRIVER_HIGH 0x094
#define QUEUE_DEVICE_LOW 0x0a0
#define QUEUE_DEVICE_HIGH 0x0a4
#define CONFIG 0x100

#define S_ACKNOWLEDGE 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_FAILED 128

#define PAGE 4096u

extern const struct virtio_driver __start_hearth_virtio[], __stop_hearth_virtio[];

static uint32_t rd(struct virtio_dev *vd, unsigned int off)
{
	return mmio_read32(vd->base + off);
}

static void wr(struct virtio_dev *vd, unsigned int off, uint32_t v)
{
	mmio_write32(vd->base + off, v);
}

int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted)
{
	uint64_t offered;
	wr(vd, DEVICE_FEATURES_SEL, 0);
	offered = rd(vd, DEVICE_FEATURES);
	wr(vd, DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)rd(vd, DEVICE_FEATURES) << 32;
	if (vd->version >= 2)
		wanted |= VIRTIO_F_VERSION_1;
	uint64_t take = offered & wanted;
	if (vd->version >= 2 && !(take & VIRTIO_F_VERSION_1))
		return -ENOTSUP;
	wr(vd, DRIVER_FEATURES_SEL, 0);
	wr(vd, DRIVER_FEATURES, (uint32_t)take);
	wr(vd, DRIVER_FEATURES_SEL, 1);
	wr(vd, DRIVER_FEATURES, (uint32_t)(take >> 32));
	if (vd->version >= 2) {
		wr(vd, STATUS, rd(vd, STATUS) | S_FEATURES_OK);
		if (!(rd(vd, STATUS) & S_FEATURES_OK)) {
			wr(vd, STATUS, S_FAILED);
			return -ENOTSUP;
		}
	}
	vd->features = take;
	return 0;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int virtq_setup(struct virtio_dev *vd, struct virtq *q, unsigned int index, unsigned int max)
{
	wr(vd, QUEUE_SEL, index);
	if (vd->version >= 2 ? rd(vd, QUEUE_READY) : rd(vd, QUEUE_PFN))
		return -EBUSY;
	unsigned int num = rd(vd, QUEUE_NUM_MAX);
	if (!num)
		return -ENOENT;
	if (num > max)
		num = max;
	/* A power of two (the legacy layout requires it). */
	while (num & (num - 1))
		num &= num - 1;
	size_t avail_off = 16u * num;
	size_t used_off = align_up(avail_off + 6 + 2u * num, PAGE);
	size_t size = used_off + align_up(6 + 8u * num, PAGE);
	uint8_t *mem = aligned_alloc(PAGE, size);
	void **cookie = calloc(num, sizeof(void *));
	if (!mem || !cookie) {
		free(mem);
		free(cookie);
		return -ENOMEM;
	}
	memset(mem, 0, size);
	q->index = index;
	q->num = num;
	q->desc = (struct vring_desc *)mem;
	q->avail = (struct vring_avail *)(mem + avail_off);
	q->used = (volatile struct vring_used *)(mem + used_off);
	q->cookie = cookie;
	q->last_used = 0;
	for (unsigned int i = 0; i < num; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->nfree = num;

	wr(vd, QUEUE_NUM, num);
	uint64_t pa = (uintptr_t)mem;
	if (vd->version >= 2) {
		wr(vd, QUEUE_DESC_LOW, (uint32_t)pa);
		wr(vd, QUEUE_DESC_HIGH, (uint32_t)(pa >> 32));
		wr(vd, QUEUE_DRIVER_LOW, (uint32_t)(pa + avail_off));
		wr(vd, QUEUE_DRIVER_HIGH, (uint32_t)((pa + avail_off) >> 32));
		wr(vd, QUEUE_DEVICE_LOW, (uint32_t)(pa + used_off));
		wr(vd, QUEUE_DEVICE_HIGH, (uint32_t)((pa + used_off) >> 32));
		wr(vd, QUEUE_READY, 1);
	} else {
		if ((pa / PAGE) >> 32)
			return -ERANGE;
		wr(vd, QUEUE_ALIGN, PAGE);
		wr(vd, QUEUE_PFN, (uint32_t)(pa / PAGE));
	}
	return 0;
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned int n, void *cookie)
{
	if (!n || n > q->nfree)
		return -ENOSPC;
	uint16_t head = q->free_head, i = head, last = head;
	for (unsigned int k = 0; k < n; k++) {
		struct vring_desc *d = &q->desc[i];
		d->addr = (uintptr_t)bufs[k].addr;
		d->len = bufs[k].len;
		d->flags = (uint16_t)((bufs[k].write ? VRING_DESC_F_WRITE : 0) |
				      (k + 1 < n ? VRING_DESC_F_NEXT : 0));
		last = i;
		i = d->next;
	}
	q->free_head = q->desc[last].next;
	q->nfree -= n;
	q->cookie[head] = cookie;
	q->avail->ring[q->avail->idx % q->num] = head;
	arch_dma_mb(); /* descriptors before the index */
	q->avail->idx++;
	return 0;
}

void virtq_kick(struct virtio_dev *vd, struct virtq *q)
{
	arch_mb(); /* the index before the notify */
	wr(vd, QUEUE_NOTIFY, q->index);
}

void *virtq_get(struct virtq *q, uint32_t *len)
{
	if (q->last_used == q->used->idx)
		return NULL;
	arch_rmb(); /* the index before the element */
	volatile struct vring_used_elem *e = &q->used->ring[q->last_used % q->num];
	uint32_t id = e->id;
	if (len)
		*len = e->len;
	q->last_used++;
	if (id >= q->num)
		return NULL; /* a device bug: never trust its index */
	void *cookie = q->cookie[id];
	/* Return the chain to the free list. */
	uint16_t i = (uint16_t)id;
	unsigned int n = 1;
	while ((q->desc[i].flags & VRING_DESC_F_NEXT) && n < q->num) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = (uint16_t)id;
	q->nfree += n;
	return cookie;
}

void virtio_driver_ok(struct virtio_dev *vd)
{
	wr(vd, STATUS, rd(vd, STATUS) | S_DRIVER_OK);
}

uint32_t virtio_irq_ack(struct virtio_dev *vd)
{
	uint32_t s = rd(vd, INTERRUPT_STATUS);
	if (s)
		wr(vd, INTERRUPT_ACK, s);
	return s;
}

uint8_t virtio_config8(struct virtio_dev *vd, unsigned int off)
{
	return mmio_read8(vd->base + CONFIG + off);
}

uint32_t virtio_config32(struct virtio_dev *vd, unsigned int off)
{
	return mmio_read32(vd->base + CONFIG + off);
}

static int virtio_mmio_probe(struct device *dev)
{
	struct virtio_dev probe_vd = {0};
	struct virtio_dev *vd = &probe_vd;
	int err = board_dev_map(dev, 0, &vd->base, NULL);
	if (err)
		return err;
	if (rd(vd, MAGIC) != 0x74726976) /* "virt" */
		return -ENODEV;
	vd->version = rd(vd, VERSION);
	if (vd->version != 1 && vd->version != 2)
		return -ENOTSUP;
	vd->id = rd(vd, DEVICE_ID);
	if (!vd->id)
		return -ENODEV; /* an empty slot */
	const struct virtio_driver *drv = NULL;
	for (const struct virtio_driver *d = __start_hearth_virtio; d < __stop_hearth_virtio; d++)
		if (d->id == vd->id)
			drv = d;
	if (!drv)
		return -ENOTSUP;
	err = board_dev_irq(dev, 0, &vd->irq);
	if (err)
		return err;
	vd = malloc(sizeof(*vd));
	if (!vd)
		return -ENOMEM;
	*vd = probe_vd;
	vd->dev = dev;
	dev->priv = vd;
	wr(vd, STATUS, 0); /* reset */
	if (vd->version == 1)
		wr(vd, GUEST_PAGE_SIZE, PAGE);
	wr(vd, STATUS, S_ACKNOWLEDGE);
	wr(vd, STATUS, S_ACKNOWLEDGE | S_DRIVER);
	err = drv->probe(vd);
	if (err) {
		wr(vd, STATUS, S_FAILED);
		dev->priv = NULL;
		free(vd);
	}
	return err;
}

DRIVER(virtio_mmio, virtio_mmio_probe, "virtio,mmio");
