/*
 * disk.h: the store's on-disk layout on a blkdev (hub/store internal; only
 * vfs.c and store.c include it). Two files live on the disk, SQLite's main
 * database and its rollback journal, in one data area: the database grows
 * up from the start of the area, the journal grows down from its end, block
 * by block. Their lengths live in a versioned, checksummed superblock kept in
 * two copies that are written alternately, each write fenced by flushes.
 * Assumes one user of the disk and that a single sector write is atomic.
 * Leaves out: other files (temp files are in memory), growing a store onto
 * a bigger disk, data checksums (SQLite's integrity_check covers structure).
 */
#ifndef STORE_DISK_H
#define STORE_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <board.h>

#define DISK_FORMAT_VERSION 1u
#define DISK_BLOCK 4096u               /* layout unit, at least the sector size */
#define DISK_RESERVED (64u * 1024u)     /* superblocks + room for later metadata */
#define DISK_MIN_BYTES (512u * 1024u)   /* smaller disks are refused */
#define DISK_SB_SIZE 512u

enum { DISK_DB, DISK_JOURNAL, DISK_NFILES };

struct disk_file {
	uint64_t len, dlen;     /* current and durable (in the newest superblock) */
	bool exists, dexists;
};

struct store_disk {
	struct blkdev *bd;
	uint32_t bs, ss;        /* block and sector size, bytes */
	uint64_t disk_bytes;    /* as formatted */
	uint64_t area_start, area_end; /* bytes, block aligned */
	uint64_t seq;           /* of the newest valid superblock */
	uint32_t version;
	int64_t format_ns;
	bool read_only;
	struct disk_file f[DISK_NFILES];
	uint8_t *sec;           /* one sector of bounce buffer */
	uint8_t *cache;         /* last partially written/read sector */
	uint64_t cache_lba;
	bool cache_valid;
	uint64_t sb_writes, syncs;
	char why[200];          /* what mount found, in words */
};

/* What the disk holds (store_disk_mount's negative returns). */
#define DISK_E_BLANK (-ENODATA)        /* all zero where looked: may be formatted */
#define DISK_E_FOREIGN (-EILSEQ)       /* not ours and not empty */
#define DISK_E_NEWER (-EPROTONOSUPPORT) /* ours, a newer format */
#define DISK_E_DAMAGED (-EBADMSG)      /* ours, no valid superblock */
#define DISK_E_TRUNCATED (-EFBIG)      /* ours, the device is smaller than the store */
#define DISK_E_SMALL (-ENOSPC)         /* too small to hold a store */

/* Reads the superblocks of (bd) into (d). 0 when a valid store is there;
 * else one of DISK_E_* or -EIO, with d->why saying it in words. Writes
 * nothing. (d) is the caller's; release with store_disk_release. */
int store_disk_mount(struct store_disk *d, struct blkdev *bd);
/* Formats (bd) (only after mount said DISK_E_BLANK) and leaves it mounted. */
int store_disk_format(struct store_disk *d, struct blkdev *bd, int64_t now_ns);
void store_disk_release(struct store_disk *d);

/* File I/O. Reads beyond the end give -ENODATA after zero-filling; writes
 * beyond the area's free space give -ENOSPC. */
int store_disk_read(struct store_disk *d, int f, uint64_t off, void *buf, size_t len,
		    size_t *got);
int store_disk_write(struct store_disk *d, int f, uint64_t off, const void *buf, size_t len);
int store_disk_truncate(struct store_disk *d, int f, uint64_t size);
/* Everything written before is durable, and so are the files' lengths. */
int store_disk_sync(struct store_disk *d);
/* Removes (f) (length 0, does not exist), durably. */
int store_disk_delete(struct store_disk *d, int f);
void store_disk_create(struct store_disk *d, int f);

uint64_t store_disk_used(const struct store_disk *d);
uint64_t store_disk_free(const struct store_disk *d);

/* CRC-32 (IEEE 802.3), as zlib computes it. */
uint32_t store_crc32(const void *buf, size_t len);

#endif
