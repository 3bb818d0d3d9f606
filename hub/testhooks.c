/*
 * testhooks.c: scenarios for the end-to-end tests, chosen on the kernel
 * command line, that do nothing unless asked for:
 *   hearth.test=sleep:MS   sleep MS milliseconds on a loop timer and print
 *                          the measured time and timer interrupts taken,
 *                          then stop (exit code 0, or 1 when it was early)
 *   hearth.test=exit:N     stop at once with exit code N
 *   hearth.crash=null|undef|stack|panic   a deliberate fault, for the crash
 *                          report: NULL read, undefined instruction, stack
 *                          overflow, panic()
 * Leaves out: anything a product would run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "hub.h"

static struct loop_timer sleep_timer;
static uint64_t sleep_start, sleep_ms, sleep_irqs;

static void sleep_done(struct loop_timer *t)
{
	(void)t;
	uint64_t took = time_now_ns() - sleep_start;
	printf("SLEEP-END ms=%" PRIu64 " asked=%" PRIu64 " irqs=%" PRIu64 "\n", took / 1000000u,
	       sleep_ms, board_irq_total() - sleep_irqs);
	loop_stop(took >= sleep_ms * 1000000u ? 0 : 1);
}

static volatile int sink;
/* volatile, so the compiler cannot see the NULL coming. */
static volatile int *volatile null_ptr = (volatile int *)8;

static volatile int depth_limit = 1 << 30;

/* Recursion the compiler cannot prove infinite (depth_limit is volatile). */
static int recurse(int n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	if (n >= depth_limit)
		return pad[0];
	return recurse(n + 1) + pad[0];
}

static void crash(const char *how)
{
	printf("CRASH-NOW %s\n", how);
	if (!strcmp(how, "null"))
		sink = *null_ptr;
	else if (!strcmp(how, "undef"))
#ifdef __aarch64__
		__asm__ volatile("udf #0"); /* permanently undefined */
#else
		__builtin_trap();
#endif
	else if (!strcmp(how, "stack"))
		sink = recurse(0);
	else if (!strcmp(how, "panic"))
		panic("deliberate panic from hearth.crash=panic");
	printf("hearth: unknown hearth.crash=%s (null, undef, stack, panic)\n", how);
}

int hub_testhooks_start(const char *bootargs)
{
	char v[64];
	if (board_bootarg(bootargs, "hearth.crash", v, sizeof(v)) > 0)
		crash(v);
	if (board_bootarg(bootargs, "hearth.test", v, sizeof(v)) <= 0)
		return 0;
	if (!strncmp(v, "sleep:", 6)) {
		sleep_ms = strtoull(v + 6, NULL, 10);
		sleep_timer.fn = sleep_done;
		printf("SLEEP-START ms=%" PRIu64 "\n", sleep_ms);
		sleep_start = time_now_ns();
		sleep_irqs = board_irq_total();
		loop_timer_arm(&sleep_timer, sleep_start + sleep_ms * 1000000u);
		return 1;
	}
	if (!strncmp(v, "exit:", 5)) {
		int code = atoi(v + 5);
		printf("TEST-EXIT %d\n", code);
		board_halt(code);
	}
	printf("hearth: unknown hearth.test=%s\n", v);
	return 0;
}
