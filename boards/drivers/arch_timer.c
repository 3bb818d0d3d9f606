/*
 * arch_timer.c: the ARM generic timer as the board's clock: the virtual
 * counter for monotonic time and the EL1 virtual timer (the third interrupt
 * of the DT node, what Xen gives guests as well) as a one-shot deadline for
 * the event loop. Frequency from CNTFRQ, or the node's clock-frequency when
 * firmware left CNTFRQ unset. Leaves out: the physical and hypervisor timers.
 */
#include <errno.h>

#include <libfdt.h>

#include <arch/cpu.h>
#include <arch/timer.h>
#include <board.h>

static uint64_t freq;

static uint64_t ticks_to_ns(uint64_t t)
{
	return (t / freq) * 1000000000ull + ((t % freq) * 1000000000ull) / freq;
}

static uint64_t ns_to_ticks(uint64_t ns)
{
	return (ns / 1000000000ull) * freq + ((ns % 1000000000ull) * freq) / 1000000000ull;
}

static uint64_t timer_now_ns(struct device *dev)
{
	(void)dev;
	return ticks_to_ns(arch_counter());
}

static void timer_set_deadline(struct device *dev, uint64_t abs_ns)
{
	(void)dev;
	if (abs_ns == UINT64_MAX)
		arch_timer_disarm();
	else
		arch_timer_arm(ns_to_ticks(abs_ns));
}

static void timer_idle(struct device *dev, uint64_t abs_ns)
{
	timer_set_deadline(dev, abs_ns);
	arch_wfi();
}

static void timer_irq(void *arg)
{
	(void)arg;
	/* One-shot: silence it until the loop arms the next deadline. */
	arch_timer_disarm();
	loop_wake();
}

static const struct clock_ops timer_ops = {
	.now_ns = timer_now_ns,
	.set_deadline = timer_set_deadline,
	.idle = timer_idle,
};

static int timer_probe(struct device *dev)
{
	struct dt_irq irq;
	/* interrupts: secure phys, non-secure phys, virtual, hypervisor */
	int err = board_dev_irq(dev, 2, &irq);
	if (err)
		return err;
	freq = arch_counter_freq();
	if (!freq) {
		int len;
		const fdt32_t *p = fdt_getprop(dev->fdt, dev->node, "clock-frequency", &len);
		if (!p || len != 4 || !fdt32_to_cpu(*p))
			return -EINVAL;
		freq = fdt32_to_cpu(*p);
	}
	arch_timer_disarm();
	err = irq_attach(irq.irq, irq.flags, timer_irq, NULL);
	if (err)
		return err;
	return clock_register(dev, &timer_ops);
}

DRIVER(arch_timer, timer_probe, "arm,armv8-timer", "arm,armv7-timer");
