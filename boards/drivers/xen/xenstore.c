/*
 * xenstore.c: the xenstore client over the shared ring page and event
 * channel the HVM params name. One request at a time (the loop is one
 * thread): a request is streamed into the 1 KiB request ring, and the reply
 * with our req_id is streamed out of the response ring; watch events that
 * arrive meanwhile are queued and handed to their watchers from the event
 * loop, never inside a request. Replies are checked: a length beyond
 * XENSTORE_PAYLOAD_MAX is a protocol error (the connection is then out of
 * step and no longer used), a reply longer than the caller's buffer is
 * drained and reported as -E2BIG, an XS_ERROR's errno name becomes -errno.
 * Assumes xenstored is the only peer on the ring. Leaves out: reconnection
 * after a xenstored restart (server feature "reconnect"), permissions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arch/cpu.h>
#include <arch/mmu.h>
#include <board.h>

#include "xen.h"

#define XS_DIRECTORY 1
#define XS_READ 2
#define XS_WATCH 4
#define XS_UNWATCH 5
#define XS_TRANSACTION_START 6
#define XS_TRANSACTION_END 7
#define XS_WRITE 11
#define XS_RM 13
#define XS_WATCH_EVENT 15
#define XS_ERROR 16

#define PAYLOAD_MAX 4096u
#define RING 1024u
#define TIMEOUT_NS 10000000000ull
#define QUEUE 16
#define EVENT_PATH 256

struct xs_ring {
	char req[RING];
	char rsp[RING];
	volatile uint32_t req_cons, req_prod, rsp_cons, rsp_prod;
	volatile uint32_t server_features, connection, error;
};

struct xs_hdr {
	uint32_t type, req_id, tx_id, len;
};

static struct xs_ring *ring;
static unsigned int port;
static bool broken;
static uint32_t next_id = 1;
static int domid = -1;
static struct xs_stats st;

static struct {
	const char *path;
	xs_watch_fn fn;
	void *arg;
} watches[XS_MAX_WATCHES];

static struct {
	char path[EVENT_PATH];
	unsigned int watch;
} queue[QUEUE];
static unsigned int q_head, q_tail;
static struct loop_poller poller;

static void xs_event(unsigned int p, void *arg)
{
	(void)p;
	(void)arg;
	loop_wake();
}

static bool can_write(void *arg)
{
	(void)arg;
	return ring->req_prod - ring->req_cons < RING;
}

static bool can_read(void *arg)
{
	(void)arg;
	return ring->rsp_prod != ring->rsp_cons;
}

static int ring_write(const void *data, size_t len)
{
	const char *p = data;
	uint64_t deadline = time_now_ns() + TIMEOUT_NS;
	while (len) {
		int err = xen_wait(can_write, NULL, deadline);
		if (err)
			return err;
		uint32_t cons = ring->req_cons, prod = ring->req_prod;
		arch_mb();
		if (prod - cons > RING)
			return -EPROTO;
		size_t n = RING - (prod - cons);
		size_t off = prod & (RING - 1);
		if (n > RING - off)
			n = RING - off;
		if (n > len)
			n = len;
		memcpy(&ring->req[off], p, n);
		arch_wmb();
		ring->req_prod = prod + (uint32_t)n;
		evtchn_notify(port);
		p += n;
		len -= n;
	}
	return 0;
}

/* Reads (len) bytes into (data), or drops them when data is NULL. */
static int ring_read(void *data, size_t len)
{
	char *p = data;
	uint64_t deadline = time_now_ns() + TIMEOUT_NS;
	while (len) {
		int err = xen_wait(can_read, NULL, deadline);
		if (err)
			return err;
		uint32_t cons = ring->rsp_cons, prod = ring->rsp_prod;
		arch_rmb();
		if (prod - cons > RING)
			return -EPROTO;
		size_t n = prod - cons;
		size_t off = cons & (RING - 1);
		if (n > RING - off)
			n = RING - off;
		if (n > len)
			n = len;
		if (p) {
			memcpy(p, &ring->rsp[off], n);
			p += n;
		}
		arch_mb();
		ring->rsp_cons = cons + (uint32_t)n;
		evtchn_notify(port);
		len -= n;
	}
	return 0;
}

static void fail(int err)
{
	if (!broken)
		printf("xenstore: connection lost (%d); PV devices stay as they are\n", err);
	broken = true;
}

/* A watch event's payload: "path\0token\0". Queued for the loop. */
static int take_event(uint32_t len)
{
	char buf[EVENT_PATH + 16];
	size_t keep = len < sizeof(buf) ? len : sizeof(buf) - 1;
	int err = ring_read(buf, keep);
	if (!err && len > keep)
		err = ring_read(NULL, len - keep);
	if (err)
		return err;
	buf[keep] = 0;
	st.events++;
	size_t plen = strnlen(buf, keep);
	const char *token = plen + 1 < keep ? buf + plen + 1 : "";
	unsigned int w;
	if (token[0] != 'w' || (w = (unsigned int)(token[1] - '0')) >= XS_MAX_WATCHES || token[2] ||
	    plen >= EVENT_PATH || q_tail - q_head >= QUEUE) {
		st.events_dropped++;
		return 0;
	}
	memcpy(queue[q_tail % QUEUE].path, buf, plen + 1);
	queue[q_tail % QUEUE].watch = w;
	q_tail++;
	loop_wake();
	return 0;
}

/* One request; its reply payload into (out, cap) (NUL added when it fits).
 * Returns the payload length or -errno. */
static int talk(uint32_t type, uint32_t tx, const char *a, size_t alen, const char *b, size_t blen,
		char *out, size_t cap)
{
	if (!ring || broken)
		return -ENOTCONN;
	struct xs_hdr h = {type, next_id++, tx, (uint32_t)(alen + blen)};
	if (h.len > PAYLOAD_MAX)
		return -E2BIG;
	st.requests++;
	int err;
	if ((err = ring_write(&h, sizeof(h))) || (err = ring_write(a, alen)) ||
	    (blen && (err = ring_write(b, blen)))) {
		fail(err);
		return err;
	}
	for (;;) {
		struct xs_hdr r;
		if ((err = ring_read(&r, sizeof(r)))) {
			fail(err);
			return err;
		}
		if (r.len > PAYLOAD_MAX) {
			fail(-EPROTO);
			return -EPROTO;
		}
		if (r.type == XS_WATCH_EVENT) {
			if ((err = take_event(r.len))) {
				fail(err);
				return err;
			}
			continue;
		}
		if (r.req_id != h.req_id) { /* a stale reply: drop it */
			if ((err = ring_read(NULL, r.len))) {
				fail(err);
				return err;
			}
			continue;
		}
		char err_name[16];
		char *dst = r.type == XS_ERROR ? err_name : out;
		size_t dcap = r.type == XS_ERROR ? sizeof(err_name) : cap;
		size_t keep = r.len < dcap ? r.len : dcap;
		if ((err = ring_read(dst, keep)) || (r.len > keep && (err = ring_read(NULL, r.len - keep)))) {
			fail(err);
			return err;
		}
		if (r.type == XS_ERROR) {
			err_name[keep < sizeof(err_name) ? keep : sizeof(err_name) - 1] = 0;
			st.errors++;
			return xen_errno_name(err_name);
		}
		if (r.type != type) {
			st.errors++;
			return -EPROTO;
		}
		if (r.len >= cap) {
			st.errors++;
			return -E2BIG;
		}
		out[r.len] = 0;
		return (int)r.len;
	}
}

static int talk_path(uint32_t type, uint32_t tx, const char *path, char *out, size_t cap)
{
	return talk(type, tx, path, strlen(path) + 1, NULL, 0, out, cap);
}

int xs_read(uint32_t tx, const char *path, char *buf, size_t len)
{
	return talk_path(XS_READ, tx, path, buf, len);
}

int xs_write(uint32_t tx, const char *path, const char *value)
{
	char ok[4];
	int n = talk(XS_WRITE, tx, path, strlen(path) + 1, value, strlen(value), ok, sizeof(ok));
	return n < 0 ? n : 0;
}

int xs_rm(uint32_t tx, const char *path)
{
	char ok[4];
	int n = talk_path(XS_RM, tx, path, ok, sizeof(ok));
	return n < 0 ? n : 0;
}

int xs_directory(uint32_t tx, const char *path, char *buf, size_t len)
{
	int n = talk_path(XS_DIRECTORY, tx, path, buf, len);
	if (n < 0)
		return n;
	int count = 0;
	for (int i = 0; i < n; i++)
		if (!buf[i])
			count++;
	if (n && buf[n - 1])
		return -EPROTO; /* every name ends in NUL */
	return count;
}

int xs_tx_start(uint32_t *tx)
{
	char id[16];
	int n = talk(XS_TRANSACTION_START, 0, "", 1, NULL, 0, id, sizeof(id));
	if (n < 0)
		return n;
	uint32_t v = 0;
	int i = 0;
	for (; i < n && id[i] >= '0' && id[i] <= '9'; i++)
		v = v * 10 + (uint32_t)(id[i] - '0');
	if (i == 0 || v == 0)
		return -EPROTO;
	*tx = v;
	return 0;
}

int xs_tx_end(uint32_t tx, bool commit)
{
	char ok[4];
	int n = talk(XS_TRANSACTION_END, tx, commit ? "T" : "F", 2, NULL, 0, ok, sizeof(ok));
	return n < 0 ? n : 0;
}

int xs_read_uint(uint32_t tx, const char *path, uint64_t max, uint64_t *out)
{
	char buf[24];
	int n = xs_read(tx, path, buf, sizeof(buf));
	if (n < 0)
		return n;
	uint64_t v = 0;
	if (n == 0)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
		unsigned int d = (unsigned int)(buf[i] - '0');
		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int xs_watch(const char *path, xs_watch_fn fn, void *arg)
{
	for (unsigned int i = 0; i < XS_MAX_WATCHES; i++) {
		if (watches[i].fn)
			continue;
		char token[3] = {'w', (char)('0' + i), 0};
		char ok[4];
		watches[i].path = path;
		watches[i].arg = arg;
		watches[i].fn = fn;
		int n = talk(XS_WATCH, 0, path, strlen(path) + 1, token, 3, ok, sizeof(ok));
		if (n < 0) {
			watches[i].fn = NULL;
			return n;
		}
		return 0;
	}
	return -ENOSPC;
}

int xs_unwatch(const char *path, xs_watch_fn fn, void *arg)
{
	for (unsigned int i = 0; i < XS_MAX_WATCHES; i++) {
		if (watches[i].fn != fn || watches[i].arg != arg || strcmp(watches[i].path, path))
			continue;
		char token[3] = {'w', (char)('0' + i), 0};
		char ok[4];
		watches[i].fn = NULL;
		int n = talk(XS_UNWATCH, 0, path, strlen(path) + 1, token, 3, ok, sizeof(ok));
		return n < 0 ? n : 0;
	}
	return -ENOENT;
}

/* From the loop: take unsolicited messages off the ring, run the watchers. */
static void xs_poll(void *arg)
{
	(void)arg;
	while (!broken && ring->rsp_prod != ring->rsp_cons) {
		struct xs_hdr r;
		int err = ring_read(&r, sizeof(r));
		if (!err && r.len > PAYLOAD_MAX)
			err = -EPROTO;
		if (!err)
			err = r.type == XS_WATCH_EVENT ? take_event(r.len) : ring_read(NULL, r.len);
		if (err)
			fail(err);
	}
	while (q_head != q_tail) {
		unsigned int i = q_head % QUEUE;
		char path[EVENT_PATH];
		memcpy(path, queue[i].path, sizeof(path));
		unsigned int w = queue[i].watch;
		q_head++;
		if (watches[w].fn)
			watches[w].fn(path, watches[w].arg);
	}
}

int xs_init(void)
{
	uint64_t pfn, evt;
	int err;
	if ((err = xen_hvm_get(HVM_PARAM_STORE_PFN, &pfn)) ||
	    (err = xen_hvm_get(HVM_PARAM_STORE_EVTCHN, &evt)))
		return err;
	if (!pfn || evt == 0 || evt >= 4096)
		return -ENODEV;
	if ((err = arch_mmu_map(pfn * XEN_PAGE, XEN_PAGE, MMU_RAM)))
		return err;
	ring = (struct xs_ring *)(uintptr_t)(pfn * XEN_PAGE);
	port = (unsigned int)evt;
	if ((err = evtchn_bind(port, xs_event, NULL)))
		return err;
	poller.fn = xs_poll;
	loop_poller_add(&poller);
	uint64_t id;
	if ((err = xs_read_uint(0, "domid", 0x7fef, &id)))
		return err;
	domid = (int)id;
	return 0;
}

bool xs_ready(void)
{
	return ring && !broken;
}

int xen_domid(void)
{
	return domid;
}

void xs_stats(struct xs_stats *out)
{
	*out = st;
}
