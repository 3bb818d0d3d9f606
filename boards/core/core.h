/*
 * core.h: what the files of boards/core share with each other and with the
 * drivers that provide the pieces (early console, heap). Not for layers above.
 */
#ifndef BOARDS_CORE_H
#define BOARDS_CORE_H

#include <stddef.h>
#include <stdint.h>

/* classes.c: the bound clock and power devices */
void board_clock_set_deadline(uint64_t abs_ns);
void board_clock_idle(uint64_t abs_ns);
void board_power_op(int reset);
int board_irqchip_present(void);
/* The board's early console (pl011.c provides it when configured). */
void board_early_write(const char *buf, size_t len);
/* The early console's UART is not ours (a Xen guest): never touch it. */
void board_early_console_off(void);

/* memory.c: maps RAM, picks the heap; returns 0 or -errno. */
int board_memory_init(const void *fdt);
void board_memory_report(void);

/* picolibc.c: the heap malloc grows into. */
void libc_heap_init(uintptr_t start, uintptr_t end);
void libc_heap_usage(size_t *used, size_t *total);

/* seed_rng.c: an rng from /chosen/rng-seed when no device gave one. */
int board_seed_rng(const void *fdt);

/* board.c: semihosting exit codes allowed (bootarg hearth.semihosting). */
extern int board_semihosting;

#endif
