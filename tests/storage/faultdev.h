/*
 * faultdev.h: a RAM block device for the storage tests that can lose power.
 * Writes stay pending (visible to reads, not durable) until a flush. After
 * a chosen number of operations the device "loses power": it fails every
 * later call, and fdev_survivor() gives the image a fresh boot would see:
 * the durable image plus a random subset of the pending writes, some of
 * them torn between sectors (a sector itself is written whole or not).
 * Also the stubs of the board functions the store uses (time, rng, the
 * blkdev class), so the tests link hub/store without the board layer.
 * Leaves out: read errors on a live device, latent sector corruption.
 */
#ifndef FAULTDEV_H
#define FAULTDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <board.h>

struct fdev_write {
	uint64_t lba;
	size_t n;
	uint8_t *data;
};

struct faultdev {
	struct blkdev bd;
	uint8_t *durable, *view;
	struct fdev_write *pending;
	size_t npending, cap;
	long ops_left; /* < 0: never cut */
	bool dead;
	uint64_t ops, flushes;
};

/* A device of (sectors) sectors of (ss) bytes, all zero or from (image). */
void fdev_init(struct faultdev *f, uint32_t ss, uint64_t sectors, const uint8_t *image);
void fdev_free(struct faultdev *f);
/* Cut the power after (ops) more calls (reads, writes, flushes). */
void fdev_arm(struct faultdev *f, long ops);
/* The image after power loss (malloc'd, caller frees). (mode) 0: a random
 * subset survives, some writes torn; 1: nothing pending survives; 2: all. */
uint8_t *fdev_survivor(struct faultdev *f, uint64_t *rng, int mode);
size_t fdev_bytes(const struct faultdev *f);

/* A small, seedable PRNG (xorshift64*), also behind the rng_read stub. */
uint64_t prng_next(uint64_t *s);
void stub_rng_seed(uint64_t seed);

#endif
