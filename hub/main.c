/*
 * main.c: Hearth's init order and main loop. The same on every board:
 * bring the board up from its device tree, reseed the stack canary from the
 * rng once it exists, print the boot report, then run the event loop.
 * Leaves out (for now): policy, web UI.
 */
#include <stdint.h>
#include <stdio.h>

#include <arch/cpu.h>
#include <board.h>

#include "hub.h"
#ifdef CONFIG_STORE
#include "store/store.h"
#endif
#ifdef CONFIG_NET
#include "../stack/stack.h"
#endif

extern uintptr_t __stack_chk_guard;

/* No canary here: it changes while this frame is live. */
__attribute__((no_stack_protector)) int hearth_main(const void *fdt)
{
	board_init(fdt);
#ifndef CONFIG_ARCH_HOST /* glibc seeds its own canary */
	uintptr_t canary;
	if (rng_read(&canary, sizeof(canary)) == 0)
		__stack_chk_guard = canary;
#endif
	board_report();
#ifdef CONFIG_STORE
	store_open(); /* one line either way; without a disk the hub runs on */
#endif
#ifdef CONFIG_NET
	hub_net_start(board_dt_bootargs(fdt));
#endif
#ifdef CONFIG_TEST_HOOKS
	hub_testhooks_start(board_dt_bootargs(fdt));
#endif
	printf("hearth: running\n");
	return loop_run();
}
