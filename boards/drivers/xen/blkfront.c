/*
 * blkfront.c: the Xen PV block frontend as a blkdev. It connects to the
 * first vbd under xenstore's device/vbd: a one-page ring granted to the
 * backend (blkback), one event channel, protocol "arm-abi", then reads the
 * capacity, sector size, read-only flag and cache features the backend
 * publishes. Requests are synchronous, like virtio-blk's: up to eleven
 * pages per request through a bounce buffer whose pages are granted for
 * that request only (read-only for writes, writable for reads) and ended
 * when the response arrives. A flush is FLUSH_DISKCACHE when the backend
 * offers feature-flush-cache, else WRITE_BARRIER when it offers
 * feature-barrier; with neither the backend promised nothing is cached and
 * the device reports no volatile cache. A request that times out, or a
 * backend that closes, disables the device (every later call is -EIO): the
 * store then refuses work instead of guessing.
 * Assumes 512-byte sectors (no feature-large-sector-size). Leaves out:
 * indirect descriptors, persistent grants, several requests in flight,
 * discard, reconnecting to a new backend.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "xen.h"

#define OP_READ 0
#define OP_WRITE 1
#define OP_WRITE_BARRIER 2
#define OP_FLUSH_DISKCACHE 3
#define ST_OKAY 0
#define ST_EOPNOTSUPP (-2)

#define SEGS 11
#define SECT 512u
#define TIMEOUT_NS 30000000000ull
#define CONNECT_TIMEOUT_NS 10000000000ull
#define VDISK_READONLY 4u

struct blk_seg {
	uint32_t gref;
	uint8_t first, last;
	uint16_t pad;
};
struct blk_req {
	uint8_t op, nseg;
	uint16_t handle;
	uint32_t pad;
	uint64_t id, sector;
	struct blk_seg seg[SEGS];
};
struct blk_rsp {
	uint64_t id;
	uint8_t op, pad;
	int16_t status;
	uint32_t pad2;
};
union blk_slot {
	struct blk_req req;
	struct blk_rsp rsp;
};
_Static_assert(sizeof(struct blk_req) == 112 && sizeof(struct blk_rsp) == 16, "blkif layouts");

#define RING 32u
struct blk_sring {
	struct xen_sring_hdr h;
	union blk_slot ring[RING];
};

struct blkfront {
	struct blkdev bd;
	char dir[48], backend[96];
	uint16_t be_id, handle;
	unsigned int port;
	struct blk_sring *ring;
	int ring_ref;
	uint8_t *bounce; /* SEGS pages */
	uint32_t prod, cons;
	uint64_t next_id;
	int flush_op; /* -1: none */
	bool dead;
	uint64_t grants_stuck, timeouts;
};

static struct blkfront bf;

static void bf_event(unsigned int port, void *arg)
{
	(void)port;
	(void)arg;
	loop_wake();
}

static bool has_rsp(void *arg)
{
	(void)arg;
	return bf.ring->h.rsp_prod != bf.cons;
}

static void kill_device(const char *why)
{
	if (!bf.dead)
		printf("blkfront: %s: %s; device disabled\n", bf.dir, why);
	bf.dead = true;
}

/* One request over (nseg) pages of the bounce buffer; 0 or -errno. */
static int submit(uint8_t op, uint64_t sector, unsigned int nsect)
{
	if (bf.dead)
		return -EIO;
	unsigned int nseg = (nsect * SECT + XEN_PAGE - 1) / XEN_PAGE;
	int refs[SEGS];
	struct blk_req *r = &bf.ring->ring[bf.prod & (RING - 1)].req;
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->nseg = (uint8_t)nseg;
	r->handle = bf.handle;
	uint64_t id = ++bf.next_id;
	r->id = id;
	r->sector = sector;
	for (unsigned int i = 0; i < nseg; i++) {
		refs[i] = gnttab_grant(bf.be_id, (uintptr_t)(bf.bounce + (size_t)i * XEN_PAGE) / XEN_PAGE,
				       op != OP_READ);
		if (refs[i] < 0) {
			while (i--)
				gnttab_end(refs[i]);
			return -ENOSPC;
		}
		unsigned int left = nsect - i * (XEN_PAGE / SECT);
		r->seg[i].gref = (uint32_t)refs[i];
		r->seg[i].first = 0;
		r->seg[i].last = (uint8_t)((left < XEN_PAGE / SECT ? left : XEN_PAGE / SECT) - 1);
	}
	bf.prod++;
	if (xen_ring_push(&bf.ring->h, bf.prod))
		evtchn_notify(bf.port);
	int err = xen_wait(has_rsp, NULL, time_now_ns() + TIMEOUT_NS);
	if (err) {
		bf.timeouts++;
		kill_device("request timed out");
		return -ETIMEDOUT; /* the grants stay: the backend may still use them */
	}
	arch_rmb();
	struct blk_rsp rsp = bf.ring->ring[bf.cons & (RING - 1)].rsp;
	bf.cons++;
	xen_ring_final_check(&bf.ring->h, bf.cons);
	for (unsigned int i = 0; i < nseg; i++)
		if (gnttab_end(refs[i]) == -EBUSY) {
			bf.grants_stuck++;
			kill_device("backend kept a data page mapped");
		}
	/* (r) is gone: the response overwrote its slot. */
	if (rsp.id != id) {
		kill_device("response for another request");
		return -EIO;
	}
	if (bf.dead)
		return -EIO;
	return rsp.status == ST_OKAY ? 0 : rsp.status == ST_EOPNOTSUPP ? -EOPNOTSUPP : -EIO;
}

static int xfer(struct blkdev *bd, uint8_t op, uint64_t sector, uint8_t *buf, size_t count)
{
	if (sector > bd->sectors || count > bd->sectors - sector)
		return -ERANGE;
	if (op == OP_WRITE && bd->read_only)
		return -EROFS;
	const size_t per = SEGS * (XEN_PAGE / SECT);
	while (count) {
		size_t n = count < per ? count : per;
		if (op == OP_WRITE)
			memcpy(bf.bounce, buf, n * SECT);
		int err = submit(op, sector, (unsigned int)n);
		if (err) {
			bd->stats.errors++;
			return err;
		}
		if (op == OP_READ) {
			memcpy(buf, bf.bounce, n * SECT);
			bd->stats.reads++;
			bd->stats.read_bytes += n * SECT;
		} else {
			bd->stats.writes++;
			bd->stats.write_bytes += n * SECT;
		}
		sector += n;
		buf += n * SECT;
		count -= n;
	}
	return 0;
}

static int bf_read(struct blkdev *bd, uint64_t sector, void *buf, size_t count)
{
	return xfer(bd, OP_READ, sector, buf, count);
}

static int bf_write(struct blkdev *bd, uint64_t sector, const void *buf, size_t count)
{
	return xfer(bd, OP_WRITE, sector, (uint8_t *)(uintptr_t)buf, count);
}

static int bf_flush(struct blkdev *bd)
{
	if (bf.flush_op < 0)
		return bf.dead ? -EIO : 0; /* no volatile cache was announced */
	bd->stats.flushes++;
	int err = submit((uint8_t)bf.flush_op, 0, 0);
	if (err)
		bd->stats.errors++;
	return err;
}

static const struct blkdev_ops bf_ops = {
	.read = bf_read,
	.write = bf_write,
	.flush = bf_flush,
};

static void be_watch(const char *path, void *arg)
{
	(void)path;
	(void)arg;
	int s = xenbus_read_state(bf.backend);
	if (s == -ENOENT || s == XB_CLOSING || s == XB_CLOSED)
		kill_device("backend closed");
}

static int publish(void)
{
	char ring[12], port[12], state[4];
	snprintf(ring, sizeof(ring), "%d", bf.ring_ref);
	snprintf(port, sizeof(port), "%u", bf.port);
	snprintf(state, sizeof(state), "%d", XB_INITIALISED);
	const struct xenbus_kv kv[] = {
		{"ring-ref", ring}, {"event-channel", port}, {"protocol", "arm-abi"}, {"state", state},
	};
	return xenbus_publish(bf.dir, kv, sizeof(kv) / sizeof(kv[0]));
}

static int connect(const char *dir)
{
	char path[128];
	uint64_t v, sectors, ssize = SECT, info = 0;
	int err;
	snprintf(bf.dir, sizeof(bf.dir), "%s", dir);
	if ((err = xenbus_backend(dir, bf.backend, sizeof(bf.backend), &bf.be_id)))
		return err;
	snprintf(path, sizeof(path), "%s/virtual-device", dir);
	if ((err = xs_read_uint(0, path, 0xffffffffu, &v)))
		return err;
	bf.handle = (uint16_t)v;
	int s = xenbus_wait_state(bf.backend, 1u << XB_INITWAIT | 1u << XB_CONNECTED, CONNECT_TIMEOUT_NS);
	if (s < 0)
		return s;
	bf.ring = aligned_alloc(XEN_PAGE, XEN_PAGE);
	bf.bounce = aligned_alloc(XEN_PAGE, (size_t)SEGS * XEN_PAGE);
	if (!bf.ring || !bf.bounce)
		return -ENOMEM;
	memset(bf.ring, 0, XEN_PAGE);
	bf.ring->h.req_event = bf.ring->h.rsp_event = 1;
	if ((bf.ring_ref = gnttab_grant(bf.be_id, (uintptr_t)bf.ring / XEN_PAGE, false)) < 0)
		return bf.ring_ref;
	if ((err = evtchn_alloc_unbound(bf.be_id, &bf.port)) ||
	    (err = evtchn_bind(bf.port, bf_event, &bf)) || (err = publish()))
		return err;
	s = xenbus_wait_state(bf.backend, 1u << XB_CONNECTED | 1u << XB_CLOSING | 1u << XB_CLOSED,
			      CONNECT_TIMEOUT_NS);
	if (s != XB_CONNECTED)
		return s < 0 ? s : -ECONNREFUSED;
	snprintf(path, sizeof(path), "%s/sectors", bf.backend);
	if ((err = xs_read_uint(0, path, UINT64_MAX / SECT, &sectors)))
		return err;
	snprintf(path, sizeof(path), "%s/sector-size", bf.backend);
	if (xs_read_uint(0, path, 65536, &ssize) == 0 && ssize != SECT)
		return -EOPNOTSUPP;
	snprintf(path, sizeof(path), "%s/info", bf.backend);
	xs_read_uint(0, path, 0xffffffffu, &info);
	bf.flush_op = xenbus_feature(bf.backend, "feature-flush-cache") ? OP_FLUSH_DISKCACHE
		      : xenbus_feature(bf.backend, "feature-barrier")   ? OP_WRITE_BARRIER
									  : -1;
	if ((err = xenbus_write_state(dir, XB_CONNECTED)))
		return err;
	bf.bd.ops = &bf_ops;
	bf.bd.priv = &bf;
	bf.bd.sector_size = SECT;
	bf.bd.sectors = sectors;
	bf.bd.read_only = (info & VDISK_READONLY) != 0;
	bf.bd.volatile_cache = bf.flush_op >= 0;
	static char be_state[112];
	snprintf(be_state, sizeof(be_state), "%s/state", bf.backend);
	xs_watch(be_state, be_watch, &bf);
	printf("blkfront: %s connected to %s: %" PRIu64 " sectors%s, flush by %s\n", dir, bf.backend,
	       sectors, bf.bd.read_only ? ", read-only" : "",
	       bf.flush_op == OP_FLUSH_DISKCACHE ? "FLUSH_DISKCACHE"
	       : bf.flush_op == OP_WRITE_BARRIER ? "WRITE_BARRIER"
						 : "nothing (no volatile cache)");
	return 0;
}

int blkfront_start(struct device *dev)
{
	char list[XS_MAX_VALUE];
	int n = xs_directory(0, "device/vbd", list, sizeof(list));
	if (n <= 0)
		return -ENODEV;
	char dir[48];
	if (strlen(list) > 16)
		return -EINVAL;
	snprintf(dir, sizeof(dir), "device/vbd/%s", list);
	bf.ring_ref = -1;
	bf.bd.dev = dev;
	int err = connect(dir);
	if (err) {
		printf("blkfront: %s: not connected (%d)\n", dir, err);
		xenbus_write_state(dir, XB_CLOSED);
		return err;
	}
	return blkdev_register(&bf.bd);
}

int blkfront_metrics(char *buf, size_t len)
{
	return snprintf(buf, len,
			"# HELP hearth_xen_blkfront_connected 1 while the vbd works.\n"
			"# TYPE hearth_xen_blkfront_connected gauge\nhearth_xen_blkfront_connected %d\n"
			"# HELP hearth_xen_blkfront_ring_inflight Requests awaiting the backend.\n"
			"# TYPE hearth_xen_blkfront_ring_inflight gauge\nhearth_xen_blkfront_ring_inflight %" PRIu32 "\n"
			"# HELP hearth_xen_blkfront_grants_stuck Data grants the backend did not give back.\n"
			"# TYPE hearth_xen_blkfront_grants_stuck counter\nhearth_xen_blkfront_grants_stuck %" PRIu64 "\n",
			bf.ring && !bf.dead, bf.prod - bf.cons, bf.grants_stuck);
}
