/*
 * picolibc.c: the hooks picolibc expects from the system, backed by the
 * board's devices: stdio on the console, the heap malloc grows into
 * (sbrk over the region memory.c picked), gettimeofday from the wall clock,
 * getentropy from the rng, _exit and the kill/getpid pair abort() uses.
 * Only for picolibc builds (the host uses glibc).
 * Leaves out: files (there is no file system; storage is a block device).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <board.h>

#include "core.h"

static int con_putc(char c, FILE *f)
{
	(void)f;
	if (c == '\n')
		console_write("\r", 1);
	console_write(&c, 1);
	return (unsigned char)c;
}

static int con_getc(FILE *f)
{
	(void)f;
	int c = console_getc();
	return c < 0 ? EOF : c;
}

static FILE con_file = FDEV_SETUP_STREAM(con_putc, con_getc, NULL, _FDEV_SETUP_RW);
FILE *const stdin = &con_file;
FILE *const stdout = &con_file;
FILE *const stderr = &con_file;

static uintptr_t heap_start, heap_cur, heap_end;

void libc_heap_init(uintptr_t start, uintptr_t end)
{
	heap_start = heap_cur = start;
	heap_end = end;
}

void libc_heap_usage(size_t *used, size_t *total)
{
	*used = heap_cur - heap_start;
	*total = heap_end - heap_start;
}

void *sbrk(ptrdiff_t incr)
{
	if (!heap_start || (incr > 0 && (uintptr_t)incr > heap_end - heap_cur) ||
	    (incr < 0 && (uintptr_t)(-incr) > heap_cur - heap_start)) {
		errno = ENOMEM;
		return (void *)-1;
	}
	uintptr_t old = heap_cur;
	heap_cur += incr;
	return (void *)old;
}

int gettimeofday(struct timeval *tv, void *tz)
{
	(void)tz;
	int64_t ns = time_wall_ns();
	tv->tv_sec = ns / 1000000000;
	tv->tv_usec = (ns % 1000000000) / 1000;
	return 0;
}

int getentropy(void *buf, size_t len)
{
	if (len > 256) {
		errno = EIO;
		return -1;
	}
	int err = rng_read(buf, len);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

void _exit(int code)
{
	board_halt(code);
}

pid_t getpid(void)
{
	return 1;
}

int kill(pid_t pid, int sig)
{
	(void)pid;
	panic("abort() (signal %d)", sig);
}
