/*
 * console.c: a domU's PV console: the xencons ring page and event channel
 * the HVM params name, served by xenconsoled in dom0. Output is copied into
 * the 2 KiB out ring and always notified; when the ring is full the writer
 * waits for xenconsoled (bounded, so a dead backend cannot hang a crash
 * report: the rest of the line is then dropped and counted). Input is read
 * a byte at a time from the 1 KiB in ring.
 * Leaves out: a second console, flow control beyond waiting.
 */
#include <errno.h>
#include <string.h>

#include <arch/cpu.h>
#include <arch/mmu.h>
#include <board.h>

#include "xen.h"

#define IN_SIZE 1024u
#define OUT_SIZE 2048u
#define FULL_WAIT_NS 2000000000ull

struct xencons {
	char in[IN_SIZE];
	char out[OUT_SIZE];
	volatile uint32_t in_cons, in_prod, out_cons, out_prod;
};
_Static_assert(sizeof(struct xencons) == 3088, "xencons_interface layout");

static struct xencons *cons;
static unsigned int port;
static bool stalled; /* xenconsoled stopped reading: drop instead of waiting */
static uint64_t dropped;

static void cons_event(unsigned int p, void *arg)
{
	(void)p;
	(void)arg;
	loop_wake();
}

static bool has_room(void *arg)
{
	(void)arg;
	return cons->out_prod - cons->out_cons < OUT_SIZE;
}

static void cons_write(struct device *dev, const char *buf, size_t len)
{
	(void)dev;
	while (len) {
		uint32_t c = cons->out_cons, p = cons->out_prod;
		arch_mb();
		if (p - c >= OUT_SIZE) {
			if (stalled || xen_wait(has_room, NULL, time_now_ns() + FULL_WAIT_NS)) {
				stalled = true;
				dropped += len;
				return;
			}
			continue;
		}
		stalled = false;
		size_t room = OUT_SIZE - (p - c);
		size_t n = len < room ? len : room;
		for (size_t i = 0; i < n; i++)
			cons->out[(p + i) & (OUT_SIZE - 1)] = buf[i];
		arch_wmb();
		cons->out_prod = p + (uint32_t)n;
		evtchn_notify(port);
		buf += n;
		len -= n;
	}
}

static int cons_getc(struct device *dev)
{
	(void)dev;
	uint32_t c = cons->in_cons, p = cons->in_prod;
	arch_rmb();
	if (c == p)
		return -EAGAIN;
	int ch = (unsigned char)cons->in[c & (IN_SIZE - 1)];
	arch_mb();
	cons->in_cons = c + 1;
	evtchn_notify(port);
	return ch;
}

static const struct console_ops cons_ops = {
	.write = cons_write,
	.read_byte = cons_getc,
};

int xen_console_ring_init(struct device *dev)
{
	uint64_t pfn, evt;
	int err;
	if ((err = xen_hvm_get(HVM_PARAM_CONSOLE_PFN, &pfn)) ||
	    (err = xen_hvm_get(HVM_PARAM_CONSOLE_EVTCHN, &evt)))
		return err;
	if (!pfn || pfn == ~0ull || !evt || evt >= 4096)
		return -ENODEV;
	if ((err = arch_mmu_map(pfn * XEN_PAGE, XEN_PAGE, MMU_RAM)))
		return err;
	cons = (struct xencons *)(uintptr_t)(pfn * XEN_PAGE);
	port = (unsigned int)evt;
	if ((err = evtchn_bind(port, cons_event, NULL)))
		return err;
	return console_register(dev, &cons_ops);
}

uint64_t xen_console_dropped(void)
{
	return dropped;
}
