/*
 * netfront.c: the Xen PV network frontend as a netdev (eth0). It finds its
 * vif under xenstore's device/vif, reads the MAC the toolstack wrote,
 * waits for the backend (netback) to publish its features, and connects:
 * one-page TX and RX rings granted to the backend, one event channel,
 * request-rx-copy (the backend copies into our pages; required by Linux
 * netback) and feature-no-csum-offload (every packet carries full
 * checksums both ways). RX_BUFS whole pages stay posted for receive, each
 * granted writable once and reposted after its frame is handed up; TX_BUFS
 * pages, granted read-only once, carry one frame each (a frame never crosses
 * a page, as netback requires).
 *
 * The backend can go away and come back (xl network-detach/attach, a
 * netback restart): a watch on its state and on device/vif notices, the
 * frontend closes its side, ends every grant (a page the backend still maps
 * is never reused: it is counted as stuck and replaced), and connects again
 * to whichever vif appears next, under the same eth0. Counters for the
 * grants, posted buffers and ring slots go to the metrics.
 *
 * Assumes one vif is used (the first listed). Leaves out: scatter-gather,
 * GSO and checksum offload, multiple queues, split event channels.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "xen.h"

#define RX_BUFS 64
#define TX_BUFS 64
#define CONNECT_TIMEOUT_NS 10000000000ull

#define NETTXF_more_data 4u
#define NETRXF_csum_blank 2u
#define NETRXF_more_data 4u
#define NETRXF_extra_info 8u
#define NETIF_RSP_NULL 1

struct tx_req {
	uint32_t gref;
	uint16_t offset, flags, id, size;
};
struct tx_rsp {
	uint16_t id;
	int16_t status;
};
union tx_slot {
	struct tx_req req;
	struct tx_rsp rsp;
};
struct rx_req {
	uint16_t id, pad;
	uint32_t gref;
};
struct rx_rsp {
	uint16_t id, offset, flags;
	int16_t status;
};
union rx_slot {
	struct rx_req req;
	struct rx_rsp rsp;
};
_Static_assert(sizeof(union tx_slot) == 12 && sizeof(union rx_slot) == 8, "netif layouts");

#define TX_RING 256u /* (4096 - 64) / 12 -> 256 */
#define RX_RING 256u /* (4096 - 64) / 8 -> 256 */
struct tx_sring {
	struct xen_sring_hdr h;
	union tx_slot ring[TX_RING];
};
struct rx_sring {
	struct xen_sring_hdr h;
	union rx_slot ring[RX_RING];
};

enum nf_state { NF_IDLE, NF_CONNECTED };

struct netfront {
	struct netdev nd;
	bool registered;
	enum nf_state state;
	char dir[48];
	char backend[96];
	char be_state[112];
	uint16_t be_id;
	unsigned int port;
	struct tx_sring *tx;
	struct rx_sring *rx;
	int tx_ring_ref, rx_ring_ref;
	uint8_t *rx_pages, *tx_pages; /* RX_BUFS / TX_BUFS pages */
	int rx_ref[RX_BUFS], tx_ref[TX_BUFS];
	bool tx_busy[TX_BUFS];
	unsigned int tx_inflight;
	uint32_t tx_prod, tx_cons, rx_prod, rx_cons;
	bool rx_skip;       /* dropping the rest of a multi-slot frame */
	bool rx_delivering; /* one buffer is up in the stack right now */
	uint64_t connects, disconnects, stuck_pages, tx_errors, rx_csum_blank, pages;
};

static struct netfront nf;

static void nf_event(unsigned int port, void *arg)
{
	(void)port;
	(void)arg;
	loop_wake();
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned int v = 0;
		for (int j = 0; j < 2; j++) {
			char c = *s++;
			unsigned int d = c >= '0' && c <= '9'   ? (unsigned int)(c - '0')
					 : c >= 'a' && c <= 'f' ? (unsigned int)(c - 'a' + 10)
					 : c >= 'A' && c <= 'F' ? (unsigned int)(c - 'A' + 10)
								: 16u;
			if (d > 15)
				return -EINVAL;
			v = v * 16 + d;
		}
		mac[i] = (uint8_t)v;
		if (*s++ != (i == 5 ? 0 : ':'))
			return -EINVAL;
	}
	return (mac[0] & 1) ? -EINVAL : 0; /* a multicast address is no NIC's */
}

/* Ends one grant; a page the backend still maps is written off. */
static void end_grant(int *ref, bool *stuck)
{
	if (*ref < 0)
		return;
	if (gnttab_end(*ref) == -EBUSY)
		*stuck = true;
	*ref = -1;
}

static void release(void)
{
	bool stuck = false;
	end_grant(&nf.tx_ring_ref, &stuck);
	end_grant(&nf.rx_ring_ref, &stuck);
	for (int i = 0; i < RX_BUFS; i++)
		end_grant(&nf.rx_ref[i], &stuck);
	for (int i = 0; i < TX_BUFS; i++)
		end_grant(&nf.tx_ref[i], &stuck);
	if (stuck) {
		/* Never reuse what the backend may still write: replace it all. */
		nf.stuck_pages += 2 + RX_BUFS + TX_BUFS;
		nf.tx = NULL;
		nf.rx = NULL;
		nf.rx_pages = nf.tx_pages = NULL;
		printf("netfront: the backend kept pages mapped; %d pages written off\n",
		       2 + RX_BUFS + TX_BUFS);
	}
}

static int alloc_pages(void)
{
	if (!nf.tx)
		nf.tx = aligned_alloc(XEN_PAGE, XEN_PAGE);
	if (!nf.rx)
		nf.rx = aligned_alloc(XEN_PAGE, XEN_PAGE);
	if (!nf.rx_pages)
		nf.rx_pages = aligned_alloc(XEN_PAGE, (size_t)RX_BUFS * XEN_PAGE);
	if (!nf.tx_pages)
		nf.tx_pages = aligned_alloc(XEN_PAGE, (size_t)TX_BUFS * XEN_PAGE);
	if (!nf.tx || !nf.rx || !nf.rx_pages || !nf.tx_pages)
		return -ENOMEM;
	nf.pages = 2 + RX_BUFS + TX_BUFS;
	return 0;
}

static int grant_all(void)
{
	uint16_t be = nf.be_id;
	memset(nf.tx, 0, XEN_PAGE);
	memset(nf.rx, 0, XEN_PAGE);
	nf.tx->h.req_event = nf.tx->h.rsp_event = 1;
	nf.rx->h.req_event = nf.rx->h.rsp_event = 1;
	if ((nf.tx_ring_ref = gnttab_grant(be, (uintptr_t)nf.tx / XEN_PAGE, false)) < 0 ||
	    (nf.rx_ring_ref = gnttab_grant(be, (uintptr_t)nf.rx / XEN_PAGE, false)) < 0)
		return -ENOSPC;
	for (int i = 0; i < RX_BUFS; i++)
		if ((nf.rx_ref[i] = gnttab_grant(be, (uintptr_t)(nf.rx_pages + (size_t)i * XEN_PAGE) / XEN_PAGE,
						 false)) < 0)
			return -ENOSPC;
	for (int i = 0; i < TX_BUFS; i++)
		if ((nf.tx_ref[i] = gnttab_grant(be, (uintptr_t)(nf.tx_pages + (size_t)i * XEN_PAGE) / XEN_PAGE,
						 true)) < 0)
			return -ENOSPC;
	return 0;
}

static int publish(void)
{
	char tx[12], rx[12], port[12], state[4];
	snprintf(tx, sizeof(tx), "%d", nf.tx_ring_ref);
	snprintf(rx, sizeof(rx), "%d", nf.rx_ring_ref);
	snprintf(port, sizeof(port), "%u", nf.port);
	snprintf(state, sizeof(state), "%d", XB_CONNECTED);
	const struct xenbus_kv kv[] = {
		{"tx-ring-ref", tx}, {"rx-ring-ref", rx}, {"event-channel", port},
		{"request-rx-copy", "1"}, {"feature-rx-notify", "1"},
		{"feature-no-csum-offload", "1"}, {"state", state},
	};
	return xenbus_publish(nf.dir, kv, sizeof(kv) / sizeof(kv[0]));
}

static void post_rx_all(void)
{
	for (int i = 0; i < RX_BUFS; i++) {
		union rx_slot *s = &nf.rx->ring[nf.rx_prod++ & (RX_RING - 1)];
		s->req.id = (uint16_t)i;
		s->req.pad = 0;
		s->req.gref = (uint32_t)nf.rx_ref[i];
	}
	if (xen_ring_push(&nf.rx->h, nf.rx_prod))
		evtchn_notify(nf.port);
}

static void be_watch(const char *path, void *arg);

/* Connects to the vif at (dir); 0 or -errno, with one line saying why not. */
static int connect(const char *dir)
{
	char path[96], val[XS_MAX_VALUE];
	int err;
	uint8_t mac[6];
	snprintf(nf.dir, sizeof(nf.dir), "%s", dir);
	if ((err = xenbus_backend(dir, nf.backend, sizeof(nf.backend), &nf.be_id))) {
		printf("netfront: %s: no usable backend (%d)\n", dir, err);
		return err;
	}
	snprintf(path, sizeof(path), "%s/mac", dir);
	if ((err = xs_read(0, path, val, sizeof(val))) < 0 || (err = parse_mac(val, mac))) {
		printf("netfront: %s/mac: %s; not connecting\n", dir,
		       err == -E2BIG ? "value too long" : err == -EINVAL ? "not a MAC address" : "unreadable");
		return err;
	}
	int s = xenbus_wait_state(nf.backend, 1u << XB_INITWAIT | 1u << XB_CONNECTED, CONNECT_TIMEOUT_NS);
	if (s < 0) {
		printf("netfront: %s: backend %s not ready (%d)\n", dir, nf.backend, s);
		return s;
	}
	if (!xenbus_feature(nf.backend, "feature-rx-copy")) {
		printf("netfront: %s: backend lacks feature-rx-copy\n", dir);
		return -EOPNOTSUPP;
	}
	if ((err = alloc_pages()) || (err = grant_all()) ||
	    (err = evtchn_alloc_unbound(nf.be_id, &nf.port))) {
		printf("netfront: %s: setup failed (%d)\n", dir, err);
		release();
		return err;
	}
	nf.tx_prod = nf.tx_cons = nf.rx_prod = nf.rx_cons = 0;
	nf.rx_skip = false;
	memset(nf.tx_busy, 0, sizeof(nf.tx_busy));
	nf.tx_inflight = 0;
	if ((err = evtchn_bind(nf.port, nf_event, &nf)) || (err = publish())) {
		printf("netfront: %s: publishing to xenstore failed (%d)\n", dir, err);
		goto undo;
	}
	s = xenbus_wait_state(nf.backend, 1u << XB_CONNECTED | 1u << XB_CLOSING | 1u << XB_CLOSED,
			      CONNECT_TIMEOUT_NS);
	if (s != XB_CONNECTED) {
		printf("netfront: %s: backend did not connect (%s)\n", dir,
		       s < 0 ? "timeout or gone" : xenbus_state_name(s));
		err = s < 0 ? s : -ECONNREFUSED;
		goto undo;
	}
	if (nf.registered && memcmp(mac, nf.nd.mac, 6))
		printf("netfront: %s: MAC changed; eth0 keeps its first one\n", dir);
	memcpy(nf.nd.mac, mac, 6);
	post_rx_all();
	nf.state = NF_CONNECTED;
	nf.connects++;
	snprintf(nf.be_state, sizeof(nf.be_state), "%s/state", nf.backend);
	xs_watch(nf.be_state, be_watch, &nf);
	printf("netfront: %s connected to %s (domain %u), mac %02x:%02x:%02x:%02x:%02x:%02x\n", dir,
	       nf.backend, nf.be_id, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return 0;
undo:
	xenbus_write_state(dir, XB_CLOSED);
	evtchn_close(nf.port);
	release();
	return err;
}

static void disconnect(const char *why)
{
	if (nf.state != NF_CONNECTED)
		return;
	nf.state = NF_IDLE;
	nf.disconnects++;
	printf("netfront: %s: %s; disconnecting\n", nf.dir, why);
	netdev_set_link(&nf.nd, false);
	xs_unwatch(nf.be_state, be_watch, &nf);
	/* Closed tells netback to unmap the rings; wait for it to finish. */
	xenbus_write_state(nf.dir, XB_CLOSED);
	xenbus_wait_state(nf.backend, 1u << XB_CLOSED | 1u << XB_UNKNOWN, 5000000000ull);
	evtchn_close(nf.port);
	release();
}

static void scan(void)
{
	char list[XS_MAX_VALUE];
	int n = xs_directory(0, "device/vif", list, sizeof(list));
	if (n <= 0)
		return;
	for (const char *p = list; n-- > 0; p += strlen(p) + 1) {
		char dir[48];
		if (strlen(p) > 16)
			continue;
		snprintf(dir, sizeof(dir), "device/vif/%s", p);
		int s = xenbus_read_state(dir);
		if (s != XB_INITIALISING && s != XB_UNKNOWN && s != XB_CLOSED)
			continue;
		if (connect(dir) == 0) {
			if (!nf.registered) {
				nf.registered = true;
				netdev_register(&nf.nd);
			}
			netdev_set_link(&nf.nd, true);
			return;
		}
	}
}

static void be_watch(const char *path, void *arg)
{
	(void)path;
	(void)arg;
	if (nf.state != NF_CONNECTED)
		return;
	int s = xenbus_read_state(nf.backend);
	if (s == -ENOENT || s == XB_CLOSING || s == XB_CLOSED)
		disconnect(s == -ENOENT ? "backend gone" : "backend closing");
}

static void vif_watch(const char *path, void *arg)
{
	(void)path;
	(void)arg;
	if (nf.state == NF_CONNECTED) {
		if (xenbus_read_state(nf.dir) == -ENOENT)
			disconnect("device removed");
		else
			be_watch(NULL, NULL);
	}
	if (nf.state == NF_IDLE)
		scan();
}

static void tx_reclaim(void)
{
	for (;;) {
		uint32_t prod = nf.tx->h.rsp_prod;
		arch_rmb();
		if (prod - nf.tx_cons > nf.tx_prod - nf.tx_cons) { /* more answers than requests */
			disconnect("tx ring index out of range");
			return;
		}
		while (nf.tx_cons != prod) {
			struct tx_rsp r = nf.tx->ring[nf.tx_cons++ & (TX_RING - 1)].rsp;
			if (r.status == NETIF_RSP_NULL)
				continue;
			if (r.id >= TX_BUFS || !nf.tx_busy[r.id]) {
				nf.tx_errors++;
				continue;
			}
			if (r.status != 0)
				nf.nd.stats.tx_dropped++;
			nf.tx_busy[r.id] = false;
			nf.tx_inflight--;
		}
		if (!xen_ring_final_check(&nf.tx->h, nf.tx_cons))
			return;
	}
}

static int nf_tx(struct netdev *nd, const void *frame, size_t len)
{
	(void)nd;
	if (nf.state != NF_CONNECTED)
		return -ENETDOWN;
	if (len > 1514 + 4)
		return -EMSGSIZE;
	tx_reclaim();
	if (nf.state != NF_CONNECTED)
		return -ENETDOWN; /* the backend broke the ring: disconnected */
	int id = -1;
	for (int i = 0; i < TX_BUFS; i++)
		if (!nf.tx_busy[(nf.tx_prod + (uint32_t)i) % TX_BUFS]) {
			id = (int)((nf.tx_prod + (uint32_t)i) % TX_BUFS);
			break;
		}
	if (id < 0 || nf.tx_prod - nf.tx_cons >= TX_RING) {
		nf.nd.stats.tx_busy++;
		return -EAGAIN;
	}
	memcpy(nf.tx_pages + (size_t)id * XEN_PAGE, frame, len);
	struct tx_req *r = &nf.tx->ring[nf.tx_prod++ & (TX_RING - 1)].req;
	r->gref = (uint32_t)nf.tx_ref[id];
	r->offset = 0;
	r->flags = 0;
	r->id = (uint16_t)id;
	r->size = (uint16_t)len;
	nf.tx_busy[id] = true;
	nf.tx_inflight++;
	if (xen_ring_push(&nf.tx->h, nf.tx_prod))
		evtchn_notify(nf.port);
	nf.nd.stats.tx_packets++;
	nf.nd.stats.tx_bytes += len;
	return 0;
}

static void nf_poll(struct netdev *nd)
{
	(void)nd;
	if (nf.state != NF_CONNECTED)
		return;
	bool posted = false;
	for (;;) {
		uint32_t prod = nf.rx->h.rsp_prod;
		arch_rmb();
		if (prod - nf.rx_cons > nf.rx_prod - nf.rx_cons) { /* more answers than buffers */
			disconnect("rx ring index out of range");
			return;
		}
		while (nf.rx_cons != prod) {
			struct rx_rsp r = nf.rx->ring[nf.rx_cons++ & (RX_RING - 1)].rsp;
			if (r.id >= RX_BUFS) {
				nf.nd.stats.rx_errors++;
				continue;
			}
			bool more = (r.flags & (NETRXF_more_data | NETRXF_extra_info)) != 0;
			if (r.flags & NETRXF_csum_blank)
				nf.rx_csum_blank++;
			if (nf.rx_skip || more || r.status <= 0 ||
			    (uint32_t)r.offset + (uint32_t)r.status > XEN_PAGE) {
				nf.nd.stats.rx_errors++;
			} else {
				nf.rx_delivering = true;
				netdev_deliver(&nf.nd, nf.rx_pages + (size_t)r.id * XEN_PAGE + r.offset,
					       (size_t)r.status);
				nf.rx_delivering = false;
				if (nf.state != NF_CONNECTED)
					return;
			}
			nf.rx_skip = more;
			union rx_slot *s = &nf.rx->ring[nf.rx_prod++ & (RX_RING - 1)];
			s->req.id = r.id;
			s->req.pad = 0;
			s->req.gref = (uint32_t)nf.rx_ref[r.id];
			posted = true;
		}
		if (!xen_ring_final_check(&nf.rx->h, nf.rx_cons))
			break;
	}
	if (posted && xen_ring_push(&nf.rx->h, nf.rx_prod))
		evtchn_notify(nf.port);
	tx_reclaim();
}

static const struct netdev_ops nf_ops = {
	.tx = nf_tx,
	.poll = nf_poll,
};

int netfront_start(struct device *dev)
{
	for (int i = 0; i < RX_BUFS; i++)
		nf.rx_ref[i] = -1;
	for (int i = 0; i < TX_BUFS; i++)
		nf.tx_ref[i] = -1;
	nf.tx_ring_ref = nf.rx_ring_ref = -1;
	nf.nd.dev = dev;
	nf.nd.ops = &nf_ops;
	nf.nd.priv = &nf;
	nf.nd.mtu = 1500;
	char list[XS_MAX_VALUE];
	int n = xs_directory(0, "device/vif", list, sizeof(list));
	if (n > 0) {
		/* A vif exists: eth0 exists, even while its backend is not up. */
		scan();
		if (!nf.registered) {
			nf.registered = true;
			netdev_register(&nf.nd);
		}
	}
	return xs_watch("device/vif", vif_watch, &nf);
}

int netfront_metrics(char *buf, size_t len)
{
	return snprintf(buf, len,
			"# HELP hearth_xen_netfront_connected 1 while the vif is connected.\n"
			"# TYPE hearth_xen_netfront_connected gauge\nhearth_xen_netfront_connected %d\n"
			"# HELP hearth_xen_netfront_rx_buffers Receive buffers: posted to the backend, in the stack now.\n"
			"# TYPE hearth_xen_netfront_rx_buffers gauge\n"
			"hearth_xen_netfront_rx_buffers{state=\"posted\"} %" PRIu32 "\n"
			"hearth_xen_netfront_rx_buffers{state=\"in_use\"} %d\n"
			"# HELP hearth_xen_netfront_tx_inflight Transmit slots awaiting the backend.\n"
			"# TYPE hearth_xen_netfront_tx_inflight gauge\nhearth_xen_netfront_tx_inflight %u\n"
			"# HELP hearth_xen_netfront_pages Pages the frontend owns for rings and buffers.\n"
			"# TYPE hearth_xen_netfront_pages gauge\nhearth_xen_netfront_pages %" PRIu64 "\n"
			"# HELP hearth_xen_netfront_stuck_pages Pages written off because the backend kept them.\n"
			"# TYPE hearth_xen_netfront_stuck_pages counter\nhearth_xen_netfront_stuck_pages %" PRIu64 "\n"
			"# HELP hearth_xen_netfront_connects_total Connections to a backend.\n"
			"# TYPE hearth_xen_netfront_connects_total counter\nhearth_xen_netfront_connects_total %" PRIu64 "\n"
			"# HELP hearth_xen_netfront_disconnects_total Backends that went away.\n"
			"# TYPE hearth_xen_netfront_disconnects_total counter\nhearth_xen_netfront_disconnects_total %" PRIu64 "\n",
			nf.state == NF_CONNECTED, nf.state == NF_CONNECTED ? nf.rx_prod - nf.rx_cons : 0u,
			nf.rx_delivering,
			nf.tx_inflight, nf.pages, nf.stuck_pages, nf.connects, nf.disconnects);
}
