/*
 * filedev.h: the hub tests' block device: a temporary file in 512-byte
 * sectors (pread/pwrite; flush is fdatasync unless told not to), and the
 * board functions the hub's model, audit and store code call (clock, rng,
 * blkdev class), so the tests link hub/ and hub/store without the board
 * layer. hub_test_store_open() makes a fresh store on a new temporary file.
 * Assumes: a Linux host; TMPDIR (default /tmp) is writable.
 * Leaves out: power cuts (tests/storage/faultdev.c has them).
 */
#ifndef HUB_TEST_FILEDEV_H
#define HUB_TEST_FILEDEV_H

#include <stdbool.h>
#include <stdint.h>

#include <board.h>

struct filedev {
	struct blkdev bd;
	int fd;
	bool sync; /* flush does fdatasync */
	char path[256];
};

/* A new zero-filled file of (bytes) bytes under TMPDIR; 0 or -errno. */
int filedev_create(struct filedev *f, uint64_t bytes, bool sync);
/* Opens (f->path) again after filedev_close (a "reboot"). */
int filedev_reopen(struct filedev *f);
void filedev_close(struct filedev *f);
/* Closes and deletes the file. */
void filedev_remove(struct filedev *f);

/* The wall clock the stubs report: 0 means the host's real time. */
extern int64_t stub_wall_ns;

#endif
