/*
 * xen.h: what the Xen/ARM guest drivers share: the hypercall, event
 * channels, grant tables, xenstore and the xenbus handshake. The ABI
 * constants and layouts are Xen 4.17's public interface (identical for arm32
 * and arm64 guests: xen_ulong_t and event words are 64-bit on both).
 *
 * Assumes one vCPU (vcpu_info[0] in shared_info), the identity map (a guest
 * virtual address is its IPA), and that the caller runs in the event loop's
 * thread (nothing here is called from an interrupt handler except the
 * event-channel handlers, which only set flags and wake the loop).
 * Leaves out: FIFO event channels, grant table v2, foreign mappings.
 */
#ifndef HEARTH_XEN_H
#define HEARTH_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- hypercalls ---- */
#define XEN_memory_op 12
#define XEN_xen_version 17
#define XEN_console_io 18
#define XEN_grant_table_op 20
#define XEN_sched_op 29
#define XEN_event_channel_op 32
#define XEN_hvm_op 34

#define DOMID_SELF 0x7ff0u
#define XEN_PAGE 4096u

long xen_hypercall(unsigned long nr, unsigned long a0, unsigned long a1, unsigned long a2,
		   unsigned long a3);

/* Xen's errno names, as xenstored sends them, to -errno (-EIO if unknown). */
int xen_errno_name(const char *name);

/* ---- shared_info (xen.c maps it) ---- */
struct xen_vcpu_info {
	volatile uint8_t upcall_pending;
	uint8_t pad[7];
	volatile uint64_t pending_sel;
	uint8_t time[32]; /* not maintained on ARM */
};
struct xen_shared_info {
	struct xen_vcpu_info vcpu[1];
	volatile uint64_t evtchn_pending[64];
	volatile uint64_t evtchn_mask[64];
	volatile uint32_t wc_version, wc_sec, wc_nsec, wc_sec_hi;
};
extern struct xen_shared_info *xen_shared;

/* ---- the core (xen.c) ---- */
struct device;
/* Our domain's id (from xenstore "domid"), -1 before xenstore is up. */
int xen_domid(void);
/* Reads an HVM param (HVM_PARAM_*); 0 or -errno. */
int xen_hvm_get(unsigned int index, uint64_t *value);
#define HVM_PARAM_STORE_PFN 1
#define HVM_PARAM_STORE_EVTCHN 2
#define HVM_PARAM_CONSOLE_PFN 17
#define HVM_PARAM_CONSOLE_EVTCHN 18
/* Waits (interrupts masked, WFI) until done(arg) or the deadline; the
 * event-channel upcall runs meanwhile. 0 or -ETIMEDOUT. */
int xen_wait(bool (*done)(void *arg), void *arg, uint64_t deadline_ns);

/* ---- event channels (evtchn.c) ---- */
typedef void (*evtchn_handler)(unsigned int port, void *arg);
int evtchn_init(struct device *dev);
/* Routes (port) to (fn) (called in interrupt context) and unmasks it. */
int evtchn_bind(unsigned int port, evtchn_handler fn, void *arg);
/* Masks (port) and forgets its handler (the port stays open). */
void evtchn_unbind(unsigned int port);
/* A fresh port for (remote) to bind to; 0 or -errno. */
int evtchn_alloc_unbound(uint16_t remote, unsigned int *port);
int evtchn_close(unsigned int port);
int evtchn_notify(unsigned int port);
uint64_t evtchn_upcalls(void);

/* ---- grant tables (gnttab.c) ---- */
#define GNTTAB_RESERVED 8
int gnttab_init(struct device *dev);
/* Grants (domid) access to the page at guest frame (gfn): a ref, or
 * -ENOSPC when the table is full. */
int gnttab_grant(uint16_t domid, uint64_t gfn, bool readonly);
/* Ends a grant: 0 and the ref is free again; -EBUSY while the peer still
 * has the page mapped (the ref and the page must then stay untouched; the
 * caller keeps them and may retry later). */
int gnttab_end(int ref);
struct gnttab_stats {
	unsigned int capacity; /* usable refs */
	unsigned int in_use;   /* granted now */
	uint64_t granted, ended, busy;
};
void gnttab_stats(struct gnttab_stats *out);

/* ---- xenstore (xenstore.c) ---- */
#define XS_MAX_VALUE 1024 /* the longest value or listing we accept */
int xs_init(void);
bool xs_ready(void);
/* Each returns -errno (the daemon's error name mapped, -E2BIG when the
 * answer does not fit, -ETIMEDOUT, -EPROTO on a malformed reply). tx 0 is
 * no transaction. Paths are relative to /local/domain/<us> unless absolute. */
int xs_read(uint32_t tx, const char *path, char *buf, size_t len); /* length; NUL-terminated */
int xs_write(uint32_t tx, const char *path, const char *value);
/* Child names, each NUL-terminated, into buf; the count. */
int xs_directory(uint32_t tx, const char *path, char *buf, size_t len);
int xs_rm(uint32_t tx, const char *path);
int xs_tx_start(uint32_t *tx);
/* commit false aborts; -EAGAIN: retry the whole transaction. */
int xs_tx_end(uint32_t tx, bool commit);
/* An unsigned decimal value in [0, max]; -EINVAL when it is not one. */
int xs_read_uint(uint32_t tx, const char *path, uint64_t max, uint64_t *out);
typedef void (*xs_watch_fn)(const char *path, void *arg);
/* Watches (path) and below; (fn) runs from the event loop (and once right
 * away, as xenstored fires a new watch). At most XS_MAX_WATCHES. */
#define XS_MAX_WATCHES 8
int xs_watch(const char *path, xs_watch_fn fn, void *arg);
int xs_unwatch(const char *path, xs_watch_fn fn, void *arg);
struct xs_stats {
	uint64_t requests, errors, events, events_dropped;
};
void xs_stats(struct xs_stats *out);

/* ---- xenbus (xenbus.c): the frontend side of the handshake ---- */
enum xenbus_state {
	XB_UNKNOWN = 0,
	XB_INITIALISING = 1,
	XB_INITWAIT = 2,
	XB_INITIALISED = 3,
	XB_CONNECTED = 4,
	XB_CLOSING = 5,
	XB_CLOSED = 6,
};
const char *xenbus_state_name(int state);
/* The state at (dir)/state, or -errno. */
int xenbus_read_state(const char *dir);
int xenbus_write_state(const char *dir, int state);
/* Waits until (dir)/state is one of the states in (mask) (bit per state);
 * returns the state, -ETIMEDOUT, or -ENOENT when the node vanished. */
int xenbus_wait_state(const char *dir, unsigned int mask, uint64_t timeout_ns);
/* The frontend (dir)'s backend path and id; 0 or -errno. */
int xenbus_backend(const char *dir, char *backend, size_t len, uint16_t *domid);
/* Writes (dir)/key = value for each pair in one transaction, retried while
 * xenstored says EAGAIN; 0 or -errno. */
struct xenbus_kv {
	const char *key;
	const char *value;
};
int xenbus_publish(const char *dir, const struct xenbus_kv *kv, size_t n);
/* A "0"/"1" feature flag of the backend; absent means 0. */
bool xenbus_feature(const char *backend, const char *name);

/* ---- PV devices found in xenstore (netfront.c, blkfront.c, console) ---- */
int xen_console_ring_init(struct device *dev);
int netfront_start(struct device *dev);
int blkfront_start(struct device *dev);
/* Their counters, as Prometheus lines; the length written. */
int netfront_metrics(char *buf, size_t len);
int blkfront_metrics(char *buf, size_t len);
uint64_t xen_console_dropped(void);

/* ---- shared rings (io/ring.h), for the frontends ---- */
struct xen_sring_hdr {
	volatile uint32_t req_prod, req_event, rsp_prod, rsp_event;
	uint8_t pvt[4];
	uint8_t pad[44];
};
/* Size (entries) of a one-page ring whose entries are (entry) bytes. */
static inline unsigned int xen_ring_size(size_t entry)
{
	unsigned int n = 1;
	while ((n << 1) * entry <= XEN_PAGE - sizeof(struct xen_sring_hdr))
		n <<= 1;
	return n;
}
/* Publishes requests up to (prod); true when the backend wants an event. */
bool xen_ring_push(struct xen_sring_hdr *s, uint32_t prod);
/* After consuming up to (cons): true when more responses arrived meanwhile. */
bool xen_ring_final_check(struct xen_sring_hdr *s, uint32_t cons);


#endif
