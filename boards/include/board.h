/*
 * board.h: the board layer's interface. Device-tree helpers, the driver model
 * (drivers declare DT compatibles and a probe; the core binds them), the device
 * classes (ops structs: console, irqchip, clock, rtc, rng, power), interrupt
 * dispatch, wall-clock time and the event loop everything above runs on.
 *
 * Assumes a flattened device tree (libfdt) describes the machine, also on the
 * host board (an embedded DTS). Leaves out: network and block classes (they
 * arrive with the stack and storage layers), SMP (one CPU runs Hearth).
 */
#ifndef BOARD_H
#define BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Driver model (boards/core/driver.c)                                 */

struct device;
struct dt_irq;

/* Aligned as each DRIVER() entry is, so the section is an array of them
 * (on 32-bit the three pointers alone would make a 12-byte stride). */
struct __attribute__((aligned(8))) driver {
	const char *name;
	const char *const *compat; /* NULL-terminated, most specific first */
	/* 0: bound; -ENODEV: nothing behind the node (not an error);
	 * -EAGAIN: a dependency (e.g. the interrupt parent) is not ready yet,
	 * probe again later; other negative errno: failed. */
	int (*probe)(struct device *dev);
};

/* One per DT node that has a compatible string. */
struct device {
	const void *fdt;
	int node;
	const struct driver *drv; /* the driver matched by compatible, or NULL */
	int status;               /* probe result, or 1 while not yet probed */
	void *priv;               /* the driver's state */
};

/*
 * DRIVER(name, probe, "compat", ...): declares a driver. Keep each use on
 * one line: scripts/gen-driver-table.sh reads these lines to build the same
 * table into the host tool hearth-dt.
 */
#define DRIVER(name_, probe_, ...)                                            \
	static const char *const name_##_compat[] = {__VA_ARGS__, NULL};       \
	const struct driver name_##_driver                                     \
		__attribute__((used, section("hearth_drivers"), aligned(8))) = { \
			#name_, name_##_compat, probe_}

/* What the core decided for one node (pure; used by firmware and hearth-dt). */
enum bind_state {
	BIND_NONE,     /* no compatible property: not a device */
	BIND_CORE,     /* handled by the core: memory, chosen, cpus, reserved-memory */
	BIND_DISABLED, /* status is not "okay" */
	BIND_UNBOUND,  /* has a compatible no driver knows */
	BIND_DRIVER,   /* matched a driver */
};

struct binding {
	int node;
	enum bind_state state;
	const struct driver *drv;
	int match; /* index of the compatible string that matched */
};

/* Index of the first compatible string of (node) that (drv) lists, or -1. */
int board_driver_match(const void *fdt, int node, const struct driver *drv);
/* Binding decision for one node against a table of drivers. */
struct binding board_bind_node(const void *fdt, int node,
			       const struct driver *const *drv, size_t ndrv);
/* Walks the whole tree calling (fn) per node in DT order, with its depth. */
int board_bind_walk(const void *fdt, const struct driver *const *drv, size_t ndrv,
		    void (*fn)(void *arg, const struct binding *b, int depth),
		    void *arg);
/* Writes one line of the binding table (no trailing newline) to (out). */
void board_print_binding(const void *fdt, const struct binding *b, int depth,
			 const struct device *dev, void (*out)(const char *line));

/* Maps the (index)th reg region of (dev) as device memory; gives its
 * address (identity-mapped) and size. */
int board_dev_map(struct device *dev, int index, uintptr_t *va, uint64_t *size);
/* The (index)th interrupt of (dev); -EAGAIN while its controller is not up. */
int board_dev_irq(struct device *dev, int index, struct dt_irq *out);

/* Firmware only: bind and probe every node of (fdt), deferring -EAGAIN. */
int board_probe_all(const void *fdt);
/* The devices the firmware made, for the boot report. */
size_t board_devices(struct device **out);
/* Printable form of a probe status. */
const char *board_status_str(int status);

/* ------------------------------------------------------------------ */
/* Device-tree helpers (boards/core/dt.c). All return 0 or -errno.     */
/* Every helper but board_dt_check, board_dt_strerror and board_bootarg  */
/* assumes the blob passed board_dt_check (libfdt trusts totalsize).     */

/* Validates a DTB that may be at most (maxlen) bytes: magic, version, every
 * block inside totalsize, a structure block that walks to its end. */
int board_dt_check(const void *fdt, size_t maxlen);
/* Short English reason for a board_dt_check failure. */
const char *board_dt_strerror(int err);

/* CPU-physical address and size of the (index)th reg entry of (node),
 * translated through the parents' ranges. */
int board_dt_reg(const void *fdt, int node, int index, uint64_t *addr,
		 uint64_t *size);

#define IRQ_EDGE 1u
#define IRQ_LEVEL 2u
struct dt_irq {
	unsigned int irq;   /* GIC INTID (SPI n -> 32 + n, PPI n -> 16 + n); for a
			     * non-GIC parent, that controller's own number */
	unsigned int flags; /* IRQ_EDGE, IRQ_LEVEL, or 0 when the specifier has none */
	int parent;         /* the interrupt controller's node */
};
/* The (index)th entry of (node)'s interrupts, via interrupt-parent. */
int board_dt_irq(const void *fdt, int node, int index, struct dt_irq *out);

struct mem_region {
	uint64_t base;
	uint64_t size;
};
/* Memory banks (device_type = "memory"); returns the count or -errno
 * (-ENOSPC with the first (max) in out[] when there are more). */
int board_dt_memory(const void *fdt, struct mem_region *out, int max);
/* /memreserve/ entries and /reserved-memory children; count or -errno. */
int board_dt_reserved(const void *fdt, struct mem_region *out, int max);

/* /chosen/bootargs or "" when absent. */
const char *board_dt_bootargs(const void *fdt);
/* Node offset of /chosen/stdout-path (aliases and ":opts" handled) or -errno. */
int board_dt_stdout(const void *fdt);
/* The root's model (or its first compatible, or "unknown"). */
const char *board_dt_model(const void *fdt);
/* Full path of (node) into (buf). */
int board_dt_path(const void *fdt, int node, char *buf, size_t len);
/* true when status is absent, "okay" or "ok". */
bool board_dt_enabled(const void *fdt, int node);

/* Value of "key=" in a bootargs string (word-separated), copied into buf.
 * Returns the length, or -ENOENT. A bare "key" gives "". */
int board_bootarg(const char *bootargs, const char *key, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Device classes (boards/core/classes.c). Registration checks the     */
/* required ops and panics at boot when a driver forgot one.           */

struct console_ops {
	void (*write)(struct device *dev, const char *buf, size_t len); /* required */
	int (*read_byte)(struct device *dev); /* optional: a byte, or -EAGAIN */
};
int console_register(struct device *dev, const struct console_ops *ops);
/* Writes to the bound console, or to the early console before one is bound. */
void console_write(const char *buf, size_t len);
int console_getc(void);

struct irqchip_ops {
	int (*enable)(struct device *dev, unsigned int irq, unsigned int flags); /* required */
	void (*disable)(struct device *dev, unsigned int irq);                   /* required */
	unsigned int (*ack)(struct device *dev); /* required: INTID, >= 1020 spurious */
	void (*eoi)(struct device *dev, unsigned int irq); /* required */
};
int irqchip_register(struct device *dev, const struct irqchip_ops *ops);
bool irqchip_ready(int node); /* has the controller at (node) registered? */

typedef void (*irq_handler)(void *arg);
/* Routes INTID (irq) to (fn) and unmasks it. */
int irq_attach(unsigned int irq, unsigned int flags, irq_handler fn, void *arg);
void irq_detach(unsigned int irq);
/* Called by the arch IRQ vector with interrupts masked. */
void board_irq_dispatch(void);
/* Interrupts taken since boot (for tests and metrics). */
uint64_t board_irq_count(unsigned int irq);
uint64_t board_irq_total(void);

struct clock_ops {
	uint64_t (*now_ns)(struct device *dev);                      /* required: monotonic */
	void (*set_deadline)(struct device *dev, uint64_t abs_ns);   /* required: one-shot */
	void (*idle)(struct device *dev, uint64_t abs_ns);           /* required: wait for work */
};
int clock_register(struct device *dev, const struct clock_ops *ops);
bool clock_ready(void);

struct rtc_ops {
	int (*read)(struct device *dev, int64_t *unix_seconds); /* required */
};
int rtc_register(struct device *dev, const struct rtc_ops *ops);

struct rng_ops {
	int (*read)(struct device *dev, void *buf, size_t len); /* required: all or -errno */
};
int rng_register(struct device *dev, const struct rng_ops *ops);
/* Fills (buf) from the bound rng; -ENODEV when there is none. */
int rng_read(void *buf, size_t len);
bool rng_ready(void);

struct power_ops {
	void (*off)(struct device *dev);   /* required */
	void (*reset)(struct device *dev); /* required */
};
int power_register(struct device *dev, const struct power_ops *ops);

/* Network devices (boards/core/netdev.c). The driver owns its rings; the
 * stack attaches a receive callback and sends whole Ethernet frames. */
struct netdev;
struct netdev_ops {
	/* Copies (frame) into the device's transmit ring: 0, -EAGAIN when the
	 * ring is full (the caller may retry or drop), -EMSGSIZE when too big. */
	int (*tx)(struct netdev *nd, const void *frame, size_t len); /* required */
	/* Delivers completed receive and transmit work (from the loop). */
	void (*poll)(struct netdev *nd); /* required */
};
struct netdev_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_busy;
};
struct netdev {
	struct device *dev;
	const struct netdev_ops *ops;
	const char *name;     /* "eth0", ... (set by netdev_register) */
	uint8_t mac[6];
	uint16_t mtu;         /* payload bytes, 1500 */
	bool link_up;
	struct netdev_stats stats;
	/* Set by the stack: called from ops->poll with each received frame;
	 * the buffer is the driver's and valid only during the call. */
	void (*rx)(struct netdev *nd, const void *frame, size_t len);
	void (*link_changed)(struct netdev *nd);
	void *stack_priv;
	void *priv; /* the driver's */
};
/* (nd) must live forever; its mac, mtu, ops and dev are filled in. */
int netdev_register(struct netdev *nd);
size_t netdev_count(void);
struct netdev *netdev_get(size_t i);
/* For drivers: deliver a frame / a link change to the stack. */
void netdev_deliver(struct netdev *nd, const void *frame, size_t len);
void netdev_set_link(struct netdev *nd, bool up);

/* Block devices (boards/core/blkdev.c). Synchronous: a call returns when
 * the device has completed it (the driver sleeps on its interrupt). */
struct blkdev;
struct blkdev_ops {
	/* Reads/writes (count) sectors at (sector); 0 or -errno (-EIO, -EROFS,
	 * -ERANGE beyond the end). */
	int (*read)(struct blkdev *bd, uint64_t sector, void *buf, size_t count);        /* required */
	int (*write)(struct blkdev *bd, uint64_t sector, const void *buf, size_t count); /* required */
	/* Returns when every write completed before it is on stable storage. */
	int (*flush)(struct blkdev *bd); /* required */
};
struct blkdev_stats {
	uint64_t reads, writes, flushes, errors;
	uint64_t read_bytes, write_bytes;
};
struct blkdev {
	struct device *dev;
	const struct blkdev_ops *ops;
	const char *name;     /* "vda", ... (set by blkdev_register) */
	uint32_t sector_size; /* bytes, a power of two >= 512 */
	uint64_t sectors;     /* capacity */
	bool read_only;
	bool volatile_cache;  /* writes need a flush to be durable */
	struct blkdev_stats stats;
	void *priv; /* the driver's */
};
/* (bd) must live forever; ops, sector_size and sectors are filled in. */
int blkdev_register(struct blkdev *bd);
size_t blkdev_count(void);
struct blkdev *blkdev_get(size_t i);

/* Driver counters for the metrics endpoint (boards/core/classes.c): a
 * source writes Prometheus text lines into buf and returns their length. */
struct board_metrics {
	int (*fn)(char *buf, size_t len);
	struct board_metrics *next;
};
void board_metrics_add(struct board_metrics *m); /* (m) lives forever */
/* Every source's lines into (buf) (whole sources only); the length. */
size_t board_metrics(char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Time (boards/core/time.c)                                           */

uint64_t time_now_ns(void);  /* monotonic since boot */
uint64_t time_now_ms(void);
/* Wall clock: seconds + ns since the Unix epoch; 0 before any source. */
int64_t time_wall_ns(void);
/* Sets the wall clock (RTC at boot, SNTP later). */
void time_wall_set(int64_t unix_ns);
bool time_wall_valid(void);

/* ------------------------------------------------------------------ */
/* Event loop (boards/core/loop.c)                                     */

struct loop_timer {
	uint64_t deadline; /* ns, monotonic */
	void (*fn)(struct loop_timer *t);
	struct loop_timer *next;
	bool armed;
};
/* (t) must stay alive while armed; re-arming moves it. */
void loop_timer_arm(struct loop_timer *t, uint64_t deadline_ns);
void loop_timer_cancel(struct loop_timer *t);

/* Called once per loop iteration (e.g. lwIP timeouts, driver rx). */
struct loop_poller {
	void (*fn)(void *arg);
	void *arg;
	struct loop_poller *next;
};
void loop_poller_add(struct loop_poller *p);
/* From interrupt context: there is work, do not idle. */
void loop_wake(void);
/* Runs until loop_stop(code); returns the code. */
int loop_run(void);
void loop_stop(int code);

/* ------------------------------------------------------------------ */
/* Board bring-up and the end of the world (boards/core/board.c)       */

/* Checks (fdt), probes everything, sets up time. Ends boot with one clear
 * line (and board_halt) when a required device is missing. */
void board_init(const void *fdt);
const void *board_fdt(void);
/* Prints the boot report: banner and binding table. */
void board_report(void);

void board_poweroff(void) __attribute__((noreturn));
void board_reset(void) __attribute__((noreturn));
/* Stops after a fatal error: the Kconfig'd panic action. */
void board_halt(int code) __attribute__((noreturn));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
