/*
 * virtio.h: the virtio-mmio transport (legacy v1 and v2) as the virtio
 * device drivers see it: feature negotiation, split virtqueues, notify,
 * interrupt acknowledge, device config space. Device drivers declare
 * themselves with VIRTIO_DRIVER(name, device id, probe).
 * Assumes identity-mapped, cache-coherent DMA (QEMU, Xen dom0 1:1).
 * Leaves out: packed rings, event index, indirect descriptors.
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include <board.h>

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4
#define VIRTIO_F_VERSION_1 (1ull << 32)

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

struct virtq {
	unsigned int index, num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	volatile struct vring_used *used;
	uint16_t last_used;
	uint16_t free_head;
	unsigned int nfree;
	void **cookie; /* per head descriptor */
};

struct virtio_dev {
	struct device *dev;
	uintptr_t base;
	unsigned int version; /* 1 legacy, 2 modern */
	unsigned int id;
	uint64_t features; /* negotiated */
	struct dt_irq irq;
};

/* One buffer of a request: (write) means the device writes it. */
struct virtq_buf {
	void *addr;
	uint32_t len;
	bool write;
};

/* Aligned as each VIRTIO_DRIVER() entry is: the section is an array. */
struct __attribute__((aligned(8))) virtio_driver {
	const char *name;
	unsigned int id;
	int (*probe)(struct virtio_dev *vd);
};
#define VIRTIO_DRIVER(name_, id_, probe_)                                            \
	const struct virtio_driver name_##_virtio                                      \
		__attribute__((used, section("hearth_virtio"), aligned(8))) = {#name_, id_, \
									       probe_}

/* Offers (wanted) and the transport's own features; sets vd->features and
 * FEATURES_OK. -ENOTSUP when the device refuses. */
int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted);
/* Sets up queue (index) with at most (max) entries. */
int virtq_setup(struct virtio_dev *vd, struct virtq *q, unsigned int index, unsigned int max);
/* Adds one request of (n) buffers; -ENOSPC when the ring is full. */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned int n, void *cookie);
void virtq_kick(struct virtio_dev *vd, struct virtq *q);
/* Next completed request's cookie and written length, or NULL. */
void *virtq_get(struct virtq *q, uint32_t *len);
void virtio_driver_ok(struct virtio_dev *vd);
/* Reads and acknowledges the interrupt status. */
uint32_t virtio_irq_ack(struct virtio_dev *vd);
uint8_t virtio_config8(struct virtio_dev *vd, unsigned int off);
uint32_t virtio_config32(struct virtio_dev *vd, unsigned int off);

#endif
