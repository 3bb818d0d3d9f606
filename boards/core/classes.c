/*
 * classes.c: the device classes. A driver registers an ops struct for its
 * device; registration checks the required ops (a missing one is a
 * programming error, caught at boot) and refuses a second provider where
 * only one makes sense (console, clock, irqchip, rng, power). Also the
 * interrupt dispatcher the arch IRQ vector calls.
 * Assumes one CPU; interrupt handlers run with interrupts masked.
 * Leaves out: several consoles at once, interrupt priorities, chained
 * interrupt controllers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "core.h"

#define REQUIRE(ops, field)                                                     \
	do {                                                                    \
		if (!(ops)->field)                                              \
			panic("driver %s: " #field " op missing", dev->drv ? dev->drv->name : "?"); \
	} while (0)

/* Weak: the early console of the board (pl011.c), nothing elsewhere. */
__attribute__((weak)) void board_early_write(const char *buf, size_t len)
{
	(void)buf;
	(void)len;
}

static bool early_off;

void board_early_console_off(void)
{
	early_off = true;
}

static struct device *con_dev;
static const struct console_ops *con_ops;

int console_register(struct device *dev, const struct console_ops *ops)
{
	REQUIRE(ops, write);
	if (con_dev)
		return -EBUSY;
	con_dev = dev;
	con_ops = ops;
	return 0;
}

void console_write(const char *buf, size_t len)
{
	if (con_ops)
		con_ops->write(con_dev, buf, len);
	else if (!early_off)
		board_early_write(buf, len);
}

int console_getc(void)
{
	if (!con_ops || !con_ops->read_byte)
		return -EAGAIN;
	return con_ops->read_byte(con_dev);
}

/* ---- interrupts ---- */
#define MAX_IRQ 1024
static struct device *irq_dev;
static const struct irqchip_ops *irq_ops;
static struct {
	irq_handler fn;
	void *arg;
	uint64_t count;
} handlers[MAX_IRQ];
static uint64_t spurious, irq_total;

int irqchip_register(struct device *dev, const struct irqchip_ops *ops)
{
	REQUIRE(ops, enable);
	REQUIRE(ops, disable);
	REQUIRE(ops, ack);
	REQUIRE(ops, eoi);
	if (irq_dev)
		return -EBUSY;
	irq_dev = dev;
	irq_ops = ops;
	return 0;
}

int board_irqchip_present(void)
{
	return irq_dev != NULL;
}

bool irqchip_ready(int node)
{
	return irq_dev && irq_dev->node == node;
}

int irq_attach(unsigned int irq, unsigned int flags, irq_handler fn, void *arg)
{
	if (!irq_ops)
		return -EAGAIN;
	if (irq >= MAX_IRQ || !fn)
		return -EINVAL;
	if (handlers[irq].fn)
		return -EBUSY;
	unsigned long f = arch_irq_save();
	handlers[irq].fn = fn;
	handlers[irq].arg = arg;
	arch_irq_restore(f);
	return irq_ops->enable(irq_dev, irq, flags);
}

void irq_detach(unsigned int irq)
{
	if (!irq_ops || irq >= MAX_IRQ)
		return;
	irq_ops->disable(irq_dev, irq);
	unsigned long f = arch_irq_save();
	handlers[irq].fn = NULL;
	arch_irq_restore(f);
}

void board_irq_dispatch(void)
{
	if (!irq_ops)
		return;
	for (;;) {
		unsigned int irq = irq_ops->ack(irq_dev);
		if (irq >= 1020) /* spurious: nothing (more) pending */
			return;
		irq_total++;
		if (irq < MAX_IRQ && handlers[irq].fn) {
			handlers[irq].count++;
			handlers[irq].fn(handlers[irq].arg);
		} else {
			/* Nobody wants it: mask it so it cannot storm. */
			spurious++;
			irq_ops->disable(irq_dev, irq);
		}
		irq_ops->eoi(irq_dev, irq);
	}
}

uint64_t board_irq_total(void)
{
	return irq_total;
}

uint64_t board_irq_count(unsigned int irq)
{
	return irq < MAX_IRQ ? handlers[irq].count : spurious;
}

/* ---- single-provider classes ---- */
static struct device *clk_dev;
static const struct clock_ops *clk_ops;

int clock_register(struct device *dev, const struct clock_ops *ops)
{
	REQUIRE(ops, now_ns);
	REQUIRE(ops, set_deadline);
	REQUIRE(ops, idle);
	if (clk_dev)
		return -EBUSY;
	clk_dev = dev;
	clk_ops = ops;
	return 0;
}

bool clock_ready(void)
{
	return clk_ops != NULL;
}

uint64_t time_now_ns(void)
{
	return clk_ops ? clk_ops->now_ns(clk_dev) : 0;
}

void board_clock_set_deadline(uint64_t abs_ns)
{
	if (clk_ops)
		clk_ops->set_deadline(clk_dev, abs_ns);
}

void board_clock_idle(uint64_t abs_ns)
{
	if (clk_ops)
		clk_ops->idle(clk_dev, abs_ns);
}

static struct device *rtc_dev;
static const struct rtc_ops *rtc_ops_p;

int rtc_register(struct device *dev, const struct rtc_ops *ops)
{
	REQUIRE(ops, read);
	if (rtc_dev)
		return -EBUSY;
	rtc_dev = dev;
	rtc_ops_p = ops;
	int64_t s;
	if (ops->read(dev, &s) == 0 && s > 0)
		time_wall_set(s * 1000000000ll);
	return 0;
}

static struct board_metrics *metrics;

void board_metrics_add(struct board_metrics *m)
{
	m->next = metrics;
	metrics = m;
}

size_t board_metrics(char *buf, size_t len)
{
	size_t n = 0;
	for (struct board_metrics *m = metrics; m; m = m->next) {
		if (n >= len)
			break;
		int w = m->fn(buf + n, len - n);
		if (w > 0 && (size_t)w < len - n)
			n += (size_t)w;
	}
	if (n < len)
		buf[n] = 0;
	return n;
}

static struct device *rng_dev;
static const struct rng_ops *rng_ops_p;

int rng_register(struct device *dev, const struct rng_ops *ops)
{
	REQUIRE(ops, read);
	if (rng_dev)
		return -EBUSY;
	rng_dev = dev;
	rng_ops_p = ops;
	return 0;
}

bool rng_ready(void)
{
	return rng_ops_p != NULL;
}

int rng_read(void *buf, size_t len)
{
	if (!rng_ops_p)
		return -ENODEV;
	return rng_ops_p->read(rng_dev, buf, len);
}

static struct device *pwr_dev;
static const struct power_ops *pwr_ops;

int power_register(struct device *dev, const struct power_ops *ops)
{
	REQUIRE(ops, off);
	REQUIRE(ops, reset);
	if (pwr_dev)
		return -EBUSY;
	pwr_dev = dev;
	pwr_ops = ops;
	return 0;
}

void board_power_op(int reset)
{
	if (!pwr_ops)
		return;
	if (reset)
		pwr_ops->reset(pwr_dev);
	else
		pwr_ops->off(pwr_dev);
}
