/*
 * virtio_net.c: the virtio network device as a netdev. Interrupt-driven:
 * the handler acknowledges and wakes the loop; the loop's poll (on every
 * pass: a lost interrupt delays a frame by a tick, never stalls) hands every
 * received frame to the stack, reposts its buffer, and reclaims transmit
 * slots. RX_BUFS receive buffers stay posted; TX_BUFS transmit slots, each
 * with its own copy of the frame. MAC and link status from the device's
 * config space when it offers them. Legacy (v1) and modern (v2) transports.
 * Leaves out: checksum/segmentation offload, mergeable receive buffers,
 * multiqueue, the control queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "virtio.h"

#define F_MAC (1ull << 5)
#define F_STATUS (1ull << 16)
#define F_ANY_LAYOUT (1ull << 27)
#define STATUS_LINK_UP 1

#define RX_BUFS 64
#define TX_BUFS 32
#define BUF_SIZE 2048 /* header + 1514-byte frame, rounded */

struct vnet {
	struct netdev nd;
	struct virtio_dev *vd;
	struct virtq rxq, txq;
	size_t hdr_len; /* 10 legacy, 12 with VERSION_1 */
	uint8_t *rx_mem, *tx_mem;
	uint8_t tx_busy[TX_BUFS];
	unsigned int tx_next;
	volatile bool pending;
	uint64_t irqs;
};

static int post_rx(struct vnet *v, unsigned int i)
{
	struct virtq_buf b = {v->rx_mem + (size_t)i * BUF_SIZE, BUF_SIZE, true};
	return virtq_add(&v->rxq, &b, 1, (void *)(uintptr_t)(i + 1));
}

static int vnet_tx(struct netdev *nd, const void *frame, size_t len)
{
	struct vnet *v = nd->priv;
	if (len > BUF_SIZE - v->hdr_len)
		return -EMSGSIZE;
	/* Find a free slot, reclaiming completed ones first. */
	void *c;
	while ((c = virtq_get(&v->txq, NULL)) != NULL)
		v->tx_busy[(uintptr_t)c - 1] = 0;
	unsigned int i, n;
	for (n = 0, i = v->tx_next; n < TX_BUFS && v->tx_busy[i]; n++)
		i = (i + 1) % TX_BUFS;
	if (n == TX_BUFS) {
		nd->stats.tx_busy++;
		return -EAGAIN;
	}
	uint8_t *buf = v->tx_mem + (size_t)i * BUF_SIZE;
	memset(buf, 0, v->hdr_len);
	memcpy(buf + v->hdr_len, frame, len);
	struct virtq_buf b = {buf, (uint32_t)(v->hdr_len + len), false};
	int err = virtq_add(&v->txq, &b, 1, (void *)(uintptr_t)(i + 1));
	if (err) {
		nd->stats.tx_busy++;
		return -EAGAIN;
	}
	v->tx_busy[i] = 1;
	v->tx_next = (i + 1) % TX_BUFS;
	virtq_kick(v->vd, &v->txq);
	nd->stats.tx_packets++;
	nd->stats.tx_bytes += len;
	return 0;
}

static void vnet_poll(struct netdev *nd)
{
	struct vnet *v = nd->priv;
	/* The rings are checked on every pass, not only after an interrupt:
	 * an interrupt that is lost (an edge that came while the line was
	 * already high) then costs a timer tick, never a dead interface. */
	bool irq = v->pending;
	v->pending = false;
	void *c;
	uint32_t len;
	unsigned int reposted = 0;
	while ((c = virtq_get(&v->rxq, &len)) != NULL) {
		unsigned int i = (unsigned int)((uintptr_t)c - 1);
		if (i < RX_BUFS && len > v->hdr_len && len <= BUF_SIZE)
			netdev_deliver(nd, v->rx_mem + (size_t)i * BUF_SIZE + v->hdr_len,
				       len - v->hdr_len);
		else
			nd->stats.rx_errors++;
		if (i < RX_BUFS && post_rx(v, i) == 0)
			reposted++;
	}
	if (reposted)
		virtq_kick(v->vd, &v->rxq);
	while ((c = virtq_get(&v->txq, NULL)) != NULL)
		v->tx_busy[(uintptr_t)c - 1] = 0;
	if (irq && (v->vd->features & F_STATUS))
		netdev_set_link(nd, virtio_config8(v->vd, 6) & STATUS_LINK_UP);
}

static void vnet_irq(void *arg)
{
	struct vnet *v = arg;
	virtio_irq_ack(v->vd);
	v->irqs++;
	v->pending = true;
	loop_wake();
}

static const struct netdev_ops vnet_ops = {
	.tx = vnet_tx,
	.poll = vnet_poll,
};

static int vnet_probe(struct virtio_dev *vd)
{
	struct vnet *v = calloc(1, sizeof(*v));
	int err;
	if (!v)
		return -ENOMEM;
	v->vd = vd;
	if ((err = virtio_negotiate(vd, F_MAC | F_STATUS | F_ANY_LAYOUT)))
		goto fail;
	v->hdr_len = (vd->features & VIRTIO_F_VERSION_1) ? 12 : 10;
	if ((err = virtq_setup(vd, &v->rxq, 0, RX_BUFS)) || (err = virtq_setup(vd, &v->txq, 1, TX_BUFS)))
		goto fail;
	v->rx_mem = aligned_alloc(64, (size_t)RX_BUFS * BUF_SIZE);
	v->tx_mem = aligned_alloc(64, (size_t)TX_BUFS * BUF_SIZE);
	if (!v->rx_mem || !v->tx_mem) {
		err = -ENOMEM;
		goto fail;
	}
	if (vd->features & F_MAC) {
		for (int i = 0; i < 6; i++)
			v->nd.mac[i] = virtio_config8(vd, (unsigned int)i);
	} else {
		/* A locally administered address from the rng. */
		if (rng_read(v->nd.mac, 6))
			memcpy(v->nd.mac, "\x02\x00\x00\x00\x00\x01", 6);
		v->nd.mac[0] = (uint8_t)((v->nd.mac[0] & 0xfe) | 0x02);
	}
	for (unsigned int i = 0; i < v->rxq.num && i < RX_BUFS; i++)
		post_rx(v, i);
	v->nd.dev = vd->dev;
	v->nd.ops = &vnet_ops;
	v->nd.priv = v;
	v->nd.mtu = 1500;
	v->nd.link_up = (vd->features & F_STATUS) ? (virtio_config8(vd, 6) & STATUS_LINK_UP) : true;
	/* The interrupt is routed (and its trigger type set) before the device
	 * may raise it: an edge that came first would be lost for good. */
	if ((err = irq_attach(vd->irq.irq, vd->irq.flags, vnet_irq, v)))
		goto fail;
	virtio_driver_ok(vd);
	virtq_kick(vd, &v->rxq);
	vd->dev->priv = v;
	return netdev_register(&v->nd);
fail:
	free(v->rx_mem);
	free(v->tx_mem);
	free(v);
	return err;
}

VIRTIO_DRIVER(virtio_net, VIRTIO_ID_NET, vnet_probe);
