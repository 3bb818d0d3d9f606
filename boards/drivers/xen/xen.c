/*
 * xen.c: Hearth as a Xen/ARM guest, bound to the DT's /hypervisor node
 * ("xen,xen"). The probe maps shared_info, starts event channels on the
 * upcall interrupt the node names and the grant table in the region its
 * first reg entry gives; then it tells dom0 from a domU by the xenstore HVM
 * params: a domU (it has a xenstore page) gets xenstore, the PV console ring,
 * and the PV devices xenstore lists (netfront, blkfront); dom0 (no xenstore
 * page: nobody runs xenstored for it) gets the console_io hypercall console.
 * Also the wall clock Xen keeps in shared_info (an rtc), and the hypercall.
 * On bare hardware or QEMU there is no /hypervisor node: nothing here runs.
 *
 * Assumes one vCPU, the identity map, Xen 4.17's ABI. Leaves out: suspend
 * and resume, SMP (VCPUOP_register_vcpu_info), the domU console_io (a
 * release build of Xen refuses it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/timer.h>
#include <board.h>

#include "../../core/core.h"
#include "xen.h"

#define XENMEM_add_to_physmap 7
#define XENMAPSPACE_shared_info 0
#define HVMOP_get_param 1
#define CONSOLEIO_write 0
#define XENVER_version 0

/* Its own function: register variables must not meet another call. */
#if defined(__aarch64__)
__attribute__((noinline)) long xen_hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
					     unsigned long a2, unsigned long a3)
{
	register unsigned long x0 __asm__("x0") = a0;
	register unsigned long x1 __asm__("x1") = a1;
	register unsigned long x2 __asm__("x2") = a2;
	register unsigned long x3 __asm__("x3") = a3;
	register unsigned long x16 __asm__("x16") = nr;
	__asm__ volatile("hvc #0xea1"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x16)
			 :
			 : "memory");
	return (long)x0;
}
#elif defined(__arm__)
__attribute__((noinline)) long xen_hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
					     unsigned long a2, unsigned long a3)
{
	register unsigned long r0 __asm__("r0") = a0;
	register unsigned long r1 __asm__("r1") = a1;
	register unsigned long r2 __asm__("r2") = a2;
	register unsigned long r3 __asm__("r3") = a3;
	register unsigned long r12 __asm__("r12") = nr;
	__asm__ volatile(".arch_extension virt\n\thvc #0xea1" /* ARM or Thumb-2 encoding */
			 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r12)
			 :
			 : "memory");
	return (long)r0;
}
#endif

int xen_errno_name(const char *name)
{
	static const struct {
		const char *name;
		int err;
	} map[] = {{"EINVAL", EINVAL}, {"EACCES", EACCES}, {"EEXIST", EEXIST}, {"EISDIR", EISDIR},
		   {"ENOENT", ENOENT}, {"ENOMEM", ENOMEM}, {"ENOSPC", ENOSPC}, {"EIO", EIO},
		   {"ENOTEMPTY", ENOTEMPTY}, {"ENOSYS", ENOSYS}, {"EROFS", EROFS}, {"EBUSY", EBUSY},
		   {"EAGAIN", EAGAIN}, {"EISCONN", EISCONN}, {"E2BIG", E2BIG}, {"EPERM", EPERM}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(name, map[i].name))
			return -map[i].err;
	return -EIO;
}

/* ---- shared_info: event words and the wall clock ---- */
_Static_assert(sizeof(struct xen_vcpu_info) == 48, "vcpu_info layout");
_Static_assert(__builtin_offsetof(struct xen_shared_info, evtchn_mask) == 560, "shared_info layout");
_Static_assert(__builtin_offsetof(struct xen_shared_info, wc_sec_hi) == 1084, "shared_info layout");

static uint8_t shared_page[XEN_PAGE] __attribute__((aligned(XEN_PAGE)));
struct xen_shared_info *xen_shared = (struct xen_shared_info *)shared_page;

static int map_shared_info(void)
{
	struct {
		uint16_t domid, size;
		uint32_t space;
		uint64_t idx, gpfn;
	} xatp = {DOMID_SELF, 0, XENMAPSPACE_shared_info, 0, (uintptr_t)shared_page / XEN_PAGE};
	_Static_assert(sizeof(xatp) == 24, "xen_add_to_physmap layout");
	long r = xen_hypercall(XEN_memory_op, XENMEM_add_to_physmap, (uintptr_t)&xatp, 0, 0);
	return r < 0 ? (int)r : 0;
}

int xen_hvm_get(unsigned int index, uint64_t *value)
{
	struct {
		uint16_t domid, pad;
		uint32_t index;
		uint64_t value;
	} p = {DOMID_SELF, 0, index, 0};
	long r = xen_hypercall(XEN_hvm_op, HVMOP_get_param, (uintptr_t)&p, 0, 0);
	if (r < 0)
		return (int)r;
	*value = p.value;
	return 0;
}

int xen_wait(bool (*done)(void *arg), void *arg, uint64_t deadline_ns)
{
	for (;;) {
		unsigned long f = arch_irq_save();
		if (done(arg)) {
			arch_irq_restore(f);
			return 0;
		}
		if (time_now_ns() >= deadline_ns) {
			arch_irq_restore(f);
			return -ETIMEDOUT;
		}
		/* Xen's WFI trap returns as soon as an event is pending, masked
		 * or not; the restore lets the upcall run. */
		board_clock_idle(deadline_ns);
		arch_irq_restore(f);
	}
}

/* The wall clock: Xen's idea of UTC at our creation (seconds granularity)
 * plus the virtual counter, which starts near 0 when the domain does. Zero
 * until dom0 has set Xen's time. */
static int xen_rtc_read(struct device *dev, int64_t *unix_seconds)
{
	(void)dev;
	uint32_t v, sec, hi;
	int tries = 0;
	do {
		v = xen_shared->wc_version;
		arch_rmb();
		sec = xen_shared->wc_sec;
		hi = xen_shared->wc_sec_hi;
		arch_rmb();
	} while (((v & 1) || v != xen_shared->wc_version) && ++tries < 1000);
	int64_t base = (int64_t)(((uint64_t)hi << 32) | sec);
	if (base < 1000000000) /* before 2001: dom0 never set the time */
		return -ENODATA;
	*unix_seconds = base + (int64_t)(time_now_ns() / 1000000000u);
	return 0;
}

static const struct rtc_ops xen_rtc_ops = {.read = xen_rtc_read};

/* ---- dom0: the console_io console ---- */
static void cio_write(struct device *dev, const char *buf, size_t len)
{
	(void)dev;
	while (len) {
		size_t n = len > 256 ? 256 : len;
		if (xen_hypercall(XEN_console_io, CONSOLEIO_write, n, (uintptr_t)buf, 0) < 0)
			return;
		buf += n;
		len -= n;
	}
}

static const struct console_ops cio_ops = {.write = cio_write};

/* The toolstack's shutdown requests (xl shutdown / reboot): acknowledged
 * by clearing the node, then the loop stops and the board powers off
 * (PSCI SYSTEM_OFF; Xen then applies on_poweroff) or resets. Every commit
 * the store made is already on disk, so nothing is lost by stopping here. */
static void shutdown_watch(const char *path, void *arg)
{
	(void)path;
	(void)arg;
	char req[32];
	int n = xs_read(0, "control/shutdown", req, sizeof(req));
	if (n <= 0)
		return;
	xs_write(0, "control/shutdown", "");
	if (!strcmp(req, "poweroff") || !strcmp(req, "halt")) {
		printf("xen: the toolstack asked to power off\n");
		loop_stop(0);
	} else if (!strcmp(req, "reboot")) {
		printf("xen: the toolstack asked to reboot\n");
		board_reset();
	} else {
		printf("xen: shutdown request '%s' not supported; ignored\n", req);
	}
}

static int xen_version_major_minor(void)
{
	return (int)xen_hypercall(XEN_xen_version, XENVER_version, 0, 0, 0);
}

static struct board_metrics xen_metrics_src, netfront_metrics_src, blkfront_metrics_src;
static int xen_probe(struct device *dev)
{
	struct dt_irq irq;
	int err = board_dev_irq(dev, 0, &irq);
	if (err == -EAGAIN || !clock_ready())
		return -EAGAIN; /* the GIC and the timer first */
	if (err)
		return err;
	int ver = xen_version_major_minor();
	if (ver < 0)
		return -ENODEV;
	if ((err = map_shared_info()))
		return err;
	if ((err = evtchn_init(dev)) || (err = gnttab_init(dev)))
		return err;
	uint64_t store_pfn = 0;
	bool domu = xen_hvm_get(HVM_PARAM_STORE_PFN, &store_pfn) == 0 && store_pfn != 0 &&
		    store_pfn != ~0ull;
	rtc_register(dev, &xen_rtc_ops);
	if (!domu) {
		/* Only when the DT names no console (Xen kept the UART). */
		if (board_dt_stdout(dev->fdt) < 0)
			console_register(dev, &cio_ops);
		printf("xen: Xen %d.%d, dom0 (console_io)\n", ver >> 16, ver & 0xffff);
		return 0;
	}
	if ((err = xs_init()))
		return err;
	/* board_metrics prints the sources newest first: the core's lead. */
	board_metrics_add(&blkfront_metrics_src);
	board_metrics_add(&netfront_metrics_src);
	board_metrics_add(&xen_metrics_src);
	/* The console first, so what follows is seen: the vPL011 when the
	 * toolstack gave one (vuart = "sbsa_uart"; the PL011 driver takes it),
	 * else the PV console ring. */
	const char *con = "PV console";
	int uart = fdt_node_offset_by_compatible(dev->fdt, -1, "arm,sbsa-uart");
	if (uart >= 0 && board_dt_enabled(dev->fdt, uart))
		con = "console on the vPL011";
	else if ((err = xen_console_ring_init(dev)))
		con = "no PV console";
	printf("xen: Xen %d.%d, domU %d, %s\n", ver >> 16, ver & 0xffff, xen_domid(), con);
	netfront_start(dev);
	blkfront_start(dev);
	/* Tell the toolstack we handle control/shutdown (else xl would have
	 * to destroy us). */
	xs_write(0, "control/feature-poweroff", "1");
	xs_write(0, "control/feature-reboot", "1");
	xs_watch("control/shutdown", shutdown_watch, NULL);
	return 0;
}

DRIVER(xen, xen_probe, "xen,xen");

/* ---- counters for /api/v1/metrics ---- */

static int xen_metrics_fn(char *buf, size_t len)
{
	struct gnttab_stats g;
	struct xs_stats x;
	gnttab_stats(&g);
	xs_stats(&x);
	int n = snprintf(buf, len,
			 "# HELP hearth_xen_grants Grant-table entries (capacity, in use now).\n"
			 "# TYPE hearth_xen_grants gauge\n"
			 "hearth_xen_grants{state=\"capacity\"} %u\nhearth_xen_grants{state=\"in_use\"} %u\n"
			 "# HELP hearth_xen_grant_ops_total Grants made, ended, and refused to end (peer busy).\n"
			 "# TYPE hearth_xen_grant_ops_total counter\n"
			 "hearth_xen_grant_ops_total{op=\"grant\"} %" PRIu64 "\n"
			 "hearth_xen_grant_ops_total{op=\"end\"} %" PRIu64 "\n"
			 "hearth_xen_grant_ops_total{op=\"busy\"} %" PRIu64 "\n"
			 "# HELP hearth_xen_events_total Event-channel upcalls.\n"
			 "# TYPE hearth_xen_events_total counter\nhearth_xen_events_total %" PRIu64 "\n"
			 "# HELP hearth_xen_xenstore_total Xenstore requests, error replies, watch events, dropped events.\n"
			 "# TYPE hearth_xen_xenstore_total counter\n"
			 "hearth_xen_xenstore_total{kind=\"request\"} %" PRIu64 "\n"
			 "hearth_xen_xenstore_total{kind=\"error\"} %" PRIu64 "\n"
			 "hearth_xen_xenstore_total{kind=\"event\"} %" PRIu64 "\n"
			 "hearth_xen_xenstore_total{kind=\"event_dropped\"} %" PRIu64 "\n"
			 "# HELP hearth_xen_console_dropped_bytes Console bytes dropped while xenconsoled was stalled.\n"
			 "# TYPE hearth_xen_console_dropped_bytes counter\nhearth_xen_console_dropped_bytes %" PRIu64 "\n",
			 g.capacity, g.in_use, g.granted, g.ended, g.busy, evtchn_upcalls(), x.requests,
			 x.errors, x.events, x.events_dropped, xen_console_dropped());
	return n > 0 && (size_t)n < len ? n : 0;
}

static struct board_metrics xen_metrics_src = {.fn = xen_metrics_fn};
static struct board_metrics netfront_metrics_src = {.fn = netfront_metrics};
static struct board_metrics blkfront_metrics_src = {.fn = blkfront_metrics};
