/*
 * loop.c: the event loop. One thread: run the pollers, fire due timers,
 * then idle until the next deadline or an interrupt (loop_wake). Timers are
 * a sorted singly-linked list owned by their callers (no allocation).
 * Assumes interrupt handlers only call loop_wake and touch their own state.
 * Leaves out: priorities, fairness between pollers.
 */
#include <board.h>

#include <arch/cpu.h>

#include "core.h"

static struct loop_timer *timers;
static struct loop_poller *pollers;
static volatile bool woken;
static volatile bool stopping;
static int stop_code;

void loop_timer_cancel(struct loop_timer *t)
{
	if (!t->armed)
		return;
	for (struct loop_timer **p = &timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

void loop_timer_arm(struct loop_timer *t, uint64_t deadline_ns)
{
	loop_timer_cancel(t);
	t->deadline = deadline_ns;
	struct loop_timer **p = &timers;
	while (*p && (*p)->deadline <= deadline_ns)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
	t->armed = true;
}

void loop_poller_add(struct loop_poller *p)
{
	p->next = pollers;
	pollers = p;
}

void loop_wake(void)
{
	woken = true;
}

void loop_stop(int code)
{
	stop_code = code;
	stopping = true;
}

int loop_run(void)
{
	stopping = false;
	arch_irq_enable();
	while (!stopping) {
		woken = false;
		for (struct loop_poller *p = pollers; p; p = p->next)
			p->fn(p->arg);
		uint64_t now = time_now_ns();
		while (timers && timers->deadline <= now) {
			struct loop_timer *t = timers;
			timers = t->next;
			t->next = NULL;
			t->armed = false;
			t->fn(t);
			if (stopping)
				break;
		}
		if (stopping)
			break;
		/* Idle with interrupts masked between the check and the wait, so
		 * a wake-up that lands in between is not lost (WFI still wakes
		 * on a pending interrupt while masked). */
		unsigned long f = arch_irq_save();
		if (!woken) {
			uint64_t deadline = timers ? timers->deadline : UINT64_MAX;
			board_clock_idle(deadline);
		}
		arch_irq_restore(f);
	}
	return stop_code;
}
