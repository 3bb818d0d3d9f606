/*
 * xenbus.c: the frontend's half of the xenbus handshake (state nodes,
 * backend lookup, feature flags) and the shared-ring index rules of
 * io/ring.h that netfront and blkfront both follow.
 * Leaves out: the backend side, multi-page rings.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "../../core/core.h"
#include "xen.h"

const char *xenbus_state_name(int state)
{
	static const char *const names[] = {"Unknown", "Initialising", "InitWait", "Initialised",
					    "Connected", "Closing", "Closed"};
	return state >= 0 && state <= 6 ? names[state] : "invalid";
}

int xenbus_read_state(const char *dir)
{
	char path[128];
	uint64_t v;
	snprintf(path, sizeof(path), "%s/state", dir);
	int err = xs_read_uint(0, path, 8, &v);
	return err ? err : (int)v;
}

int xenbus_write_state(const char *dir, int state)
{
	char path[128], val[4];
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(val, sizeof(val), "%d", state);
	return xs_write(0, path, val);
}

int xenbus_wait_state(const char *dir, unsigned int mask, uint64_t timeout_ns)
{
	uint64_t deadline = time_now_ns() + timeout_ns;
	for (;;) {
		int s = xenbus_read_state(dir);
		if (s == -ENOENT)
			return s;
		if (s >= 0 && (mask & (1u << s)))
			return s;
		if (s < 0 && s != -EINVAL)
			return s;
		if (time_now_ns() >= deadline)
			return -ETIMEDOUT;
		/* Backends move in milliseconds; a short sleep beats a watch
		 * here (watch events are only delivered from the loop). */
		uint64_t until = time_now_ns() + 2000000u;
		while (time_now_ns() < until)
			board_clock_idle(until);
	}
}

int xenbus_backend(const char *dir, char *backend, size_t len, uint16_t *domid)
{
	char path[128];
	uint64_t id;
	snprintf(path, sizeof(path), "%s/backend", dir);
	int n = xs_read(0, path, backend, len);
	if (n < 0)
		return n;
	if (n == 0 || backend[0] != '/' || memchr(backend, 0, (size_t)n))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/backend-id", dir);
	int err = xs_read_uint(0, path, 0x7fef, &id);
	if (err)
		return err;
	*domid = (uint16_t)id;
	return 0;
}

bool xenbus_feature(const char *backend, const char *name)
{
	char path[160];
	uint64_t v;
	snprintf(path, sizeof(path), "%s/%s", backend, name);
	return xs_read_uint(0, path, 1, &v) == 0 && v == 1;
}

int xenbus_publish(const char *dir, const struct xenbus_kv *kv, size_t n)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		uint32_t tx;
		int err = xs_tx_start(&tx);
		if (err)
			return err;
		for (size_t i = 0; i < n && !err; i++) {
			char path[128];
			snprintf(path, sizeof(path), "%s/%s", dir, kv[i].key);
			err = xs_write(tx, path, kv[i].value);
		}
		if (err) {
			xs_tx_end(tx, false);
			return err;
		}
		err = xs_tx_end(tx, true);
		if (err != -EAGAIN)
			return err;
	}
	return -EAGAIN;
}

bool xen_ring_push(struct xen_sring_hdr *s, uint32_t prod)
{
	uint32_t old = s->req_prod;
	arch_wmb();
	s->req_prod = prod;
	arch_mb();
	return (uint32_t)(prod - s->req_event) < (uint32_t)(prod - old);
}

bool xen_ring_final_check(struct xen_sring_hdr *s, uint32_t cons)
{
	if (s->rsp_prod != cons)
		return true;
	s->rsp_event = cons + 1;
	arch_mb();
	return s->rsp_prod != cons;
}
