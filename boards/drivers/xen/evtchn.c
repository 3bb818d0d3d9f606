/*
 * evtchn.c: 2-level event channels. Xen raises the upcall PPI the
 * /hypervisor node names when a port becomes pending; the handler clears
 * upcall_pending, swaps the selector word out, and runs each pending,
 * unmasked port's handler after clearing its pending bit (Xen only
 * re-raises on 0 -> 1 edges, so the order matters). Words are 64-bit on
 * arm32 as on arm64. Unmasking goes through EVTCHNOP_unmask while the mask
 * bit is still set, so Xen re-raises an event that arrived while masked.
 * Assumes one vCPU. Leaves out: the FIFO ABI, VIRQs, per-port priorities.
 */
#include <errno.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "xen.h"

#define EVTCHNOP_close 3
#define EVTCHNOP_send 4
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_unmask 9

#define NR_PORTS 4096u
#define MAX_BOUND 16

static struct {
	unsigned int port;
	evtchn_handler fn;
	void *arg;
} bound[MAX_BOUND];
static uint64_t upcalls;

static int op(unsigned int cmd, void *arg)
{
	return (int)xen_hypercall(XEN_event_channel_op, cmd, (uintptr_t)arg, 0, 0);
}

/* A port nobody bound (closed meanwhile) is ignored. */
static void dispatch(unsigned int port)
{
	for (int i = 0; i < MAX_BOUND; i++) {
		if (bound[i].fn && bound[i].port == port) {
			bound[i].fn(port, bound[i].arg);
			return;
		}
	}
}

static void upcall(void *arg)
{
	(void)arg;
	struct xen_shared_info *s = xen_shared;
	upcalls++;
	do {
		s->vcpu[0].upcall_pending = 0;
		arch_mb();
		uint64_t sel = __atomic_exchange_n(&s->vcpu[0].pending_sel, 0, __ATOMIC_SEQ_CST);
		while (sel) {
			unsigned int w = (unsigned int)__builtin_ctzll(sel);
			sel &= sel - 1;
			uint64_t bits;
			while ((bits = s->evtchn_pending[w] & ~s->evtchn_mask[w]) != 0) {
				unsigned int b = (unsigned int)__builtin_ctzll(bits);
				__atomic_fetch_and(&s->evtchn_pending[w], ~(1ull << b), __ATOMIC_SEQ_CST);
				dispatch(w * 64 + b);
			}
		}
	} while (s->vcpu[0].upcall_pending);
	loop_wake();
}

static void mask(unsigned int port)
{
	__atomic_fetch_or(&xen_shared->evtchn_mask[port / 64], 1ull << (port % 64), __ATOMIC_SEQ_CST);
}

int evtchn_init(struct device *dev)
{
	struct dt_irq irq;
	int err = board_dev_irq(dev, 0, &irq);
	if (err)
		return err;
	for (unsigned int w = 0; w < NR_PORTS / 64; w++)
		xen_shared->evtchn_mask[w] = ~0ull;
	arch_mb();
	return irq_attach(irq.irq, irq.flags, upcall, NULL);
}

int evtchn_bind(unsigned int port, evtchn_handler fn, void *arg)
{
	if (port == 0 || port >= NR_PORTS)
		return -EINVAL;
	int slot = -1;
	for (int i = 0; i < MAX_BOUND; i++) {
		if (bound[i].fn && bound[i].port == port)
			return -EBUSY;
		if (!bound[i].fn && slot < 0)
			slot = i;
	}
	if (slot < 0)
		return -ENOSPC;
	unsigned long f = arch_irq_save();
	bound[slot].port = port;
	bound[slot].arg = arg;
	bound[slot].fn = fn;
	arch_irq_restore(f);
	struct {
		uint32_t port;
	} u = {port};
	return op(EVTCHNOP_unmask, &u);
}

void evtchn_unbind(unsigned int port)
{
	if (port == 0 || port >= NR_PORTS)
		return;
	mask(port);
	unsigned long f = arch_irq_save();
	for (int i = 0; i < MAX_BOUND; i++)
		if (bound[i].fn && bound[i].port == port)
			bound[i].fn = NULL;
	arch_irq_restore(f);
}

int evtchn_alloc_unbound(uint16_t remote, unsigned int *port)
{
	struct {
		uint16_t dom, remote_dom;
		uint32_t port;
	} a = {DOMID_SELF, remote, 0};
	int err = op(EVTCHNOP_alloc_unbound, &a);
	if (err)
		return err;
	*port = a.port;
	return 0;
}

int evtchn_close(unsigned int port)
{
	evtchn_unbind(port);
	struct {
		uint32_t port;
	} c = {port};
	return op(EVTCHNOP_close, &c);
}

int evtchn_notify(unsigned int port)
{
	struct {
		uint32_t port;
	} s = {port};
	return op(EVTCHNOP_send, &s);
}

uint64_t evtchn_upcalls(void)
{
	return upcalls;
}
