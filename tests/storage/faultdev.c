/*
 * faultdev.c: the power-losing RAM block device of the storage tests (see
 * faultdev.h), and the board stubs the store links against on the host.
 * Assumes one device per test at a time for the blkdev class stubs.
 * Leaves out: timing (the clock stubs read CLOCK_MONOTONIC/REALTIME).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faultdev.h"

uint64_t prng_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ull;
}

static int fdev_op(struct faultdev *f)
{
	if (f->dead)
		return -EIO;
	f->ops++;
	if (f->ops_left == 0) {
		f->dead = true; /* the power is gone */
		return -EIO;
	}
	if (f->ops_left > 0)
		f->ops_left--;
	return 0;
}

static int fdev_read(struct blkdev *bd, uint64_t lba, void *buf, size_t n)
{
	struct faultdev *f = (struct faultdev *)bd;
	int err = fdev_op(f);
	if (err)
		return err;
	if (lba > bd->sectors || n > bd->sectors - lba)
		return -ERANGE;
	memcpy(buf, f->view + lba * bd->sector_size, n * bd->sector_size);
	bd->stats.reads++;
	return 0;
}

static int fdev_write(struct blkdev *bd, uint64_t lba, const void *buf, size_t n)
{
	struct faultdev *f = (struct faultdev *)bd;
	int err = fdev_op(f);
	if (err)
		return err;
	if (lba > bd->sectors || n > bd->sectors - lba)
		return -ERANGE;
	if (bd->read_only)
		return -EROFS;
	size_t len = n * bd->sector_size;
	if (f->npending == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->pending = realloc(f->pending, f->cap * sizeof(*f->pending));
		if (!f->pending)
			abort();
	}
	struct fdev_write *w = &f->pending[f->npending++];
	w->lba = lba;
	w->n = n;
	w->data = malloc(len);
	if (!w->data)
		abort();
	memcpy(w->data, buf, len);
	memcpy(f->view + lba * bd->sector_size, buf, len);
	bd->stats.writes++;
	return 0;
}

static void drop_pending(struct faultdev *f)
{
	for (size_t i = 0; i < f->npending; i++)
		free(f->pending[i].data);
	f->npending = 0;
}

static int fdev_flush(struct blkdev *bd)
{
	struct faultdev *f = (struct faultdev *)bd;
	int err = fdev_op(f);
	if (err)
		return err;
	for (size_t i = 0; i < f->npending; i++) {
		struct fdev_write *w = &f->pending[i];
		memcpy(f->durable + w->lba * bd->sector_size, w->data, w->n * bd->sector_size);
	}
	drop_pending(f);
	f->flushes++;
	bd->stats.flushes++;
	return 0;
}

static const struct blkdev_ops fdev_ops = {
	.read = fdev_read,
	.write = fdev_write,
	.flush = fdev_flush,
};

void fdev_init(struct faultdev *f, uint32_t ss, uint64_t sectors, const uint8_t *image)
{
	memset(f, 0, sizeof(*f));
	size_t len = (size_t)(ss * sectors);
	f->durable = calloc(1, len ? len : 1);
	f->view = calloc(1, len ? len : 1);
	if (!f->durable || !f->view)
		abort();
	if (image && len) {
		memcpy(f->durable, image, len);
		memcpy(f->view, image, len);
	}
	f->bd.ops = &fdev_ops;
	f->bd.name = "fd0";
	f->bd.sector_size = ss;
	f->bd.sectors = sectors;
	f->bd.volatile_cache = true;
	f->ops_left = -1;
}

void fdev_free(struct faultdev *f)
{
	drop_pending(f);
	free(f->pending);
	free(f->durable);
	free(f->view);
	memset(f, 0, sizeof(*f));
}

void fdev_arm(struct faultdev *f, long ops)
{
	f->ops_left = ops;
}

size_t fdev_bytes(const struct faultdev *f)
{
	return (size_t)(f->bd.sector_size * f->bd.sectors);
}

uint8_t *fdev_survivor(struct faultdev *f, uint64_t *rng, int mode)
{
	size_t len = fdev_bytes(f), ss = f->bd.sector_size;
	uint8_t *img = malloc(len ? len : 1);
	if (!img)
		abort();
	memcpy(img, f->durable, len);
	if (mode == 1)
		return img;
	for (size_t i = 0; i < f->npending; i++) {
		struct fdev_write *w = &f->pending[i];
		unsigned int what = mode == 2 ? 1 : (unsigned int)(prng_next(rng) % 3);
		if (what == 0)
			continue; /* lost */
		for (size_t s = 0; s < w->n; s++) {
			/* what 2: torn; each sector of the write on its own */
			if (what == 2 && prng_next(rng) % 2)
				continue;
			memcpy(img + (w->lba + s) * ss, w->data + s * ss, ss);
		}
	}
	return img;
}

/* ---- board stubs ---- */

static uint64_t rng_state = 1;

void stub_rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 1;
}

int rng_read(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		uint64_t v = prng_next(&rng_state);
		size_t n = len < 8 ? len : 8;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return 0;
}

uint64_t time_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t time_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

size_t blkdev_count(void)
{
	return 0;
}

struct blkdev *blkdev_get(size_t i)
{
	(void)i;
	return NULL;
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}
