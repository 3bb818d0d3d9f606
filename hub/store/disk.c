/*
 * disk.c: the store's on-disk layout (see disk.h and docs/storage.md).
 *
 *   byte 0        superblock copy 0 (one sector)
 *   byte 4096     superblock copy 1 (one sector)
 *   ... 64 KiB    reserved (zero)
 *   area_start    database blocks 0, 1, 2, ...      (growing up)
 *        ...      free
 *   area_end      ... journal blocks 2, 1, 0        (growing down)
 *
 * A sync flushes the device (every data write before it is durable), then,
 * only when a file's length changed, writes the next superblock generation
 * into the older copy and flushes again. A torn superblock write leaves the
 * other copy, one generation older, which still describes durable data.
 * Assumes sector writes are atomic; a write of several sectors may tear
 * between sectors. Sector sizes up to 4096.
 * Leaves out: online resize, more than two files, data checksums.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "disk.h"

static const char magic[8] = {'H', 'E', 'A', 'R', 'T', 'H', 'S', 'T'};

#define SB_FLAG_DB 1u
#define SB_FLAG_JOURNAL 2u
#define SCAN_EDGE (1024u * 1024u)
#define SCAN_SAMPLES 64u

/* ---- CRC-32 ---- */

uint32_t store_crc32(const void *buf, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	const uint8_t *p = buf;
	uint32_t c = 0xffffffffu;
	while (len--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* ---- little-endian fields ---- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Superblock fields (byte offsets). */
#define SB_MAGIC 0
#define SB_VERSION 8
#define SB_SIZE 12
#define SB_SEQ 16
#define SB_BLOCK 24
#define SB_SECTOR 28
#define SB_DISK_BYTES 32
#define SB_AREA_START 40
#define SB_AREA_END 48
#define SB_FORMAT_NS 56
#define SB_DB_LEN 64
#define SB_JOURNAL_LEN 72
#define SB_FLAGS 80
#define SB_INCOMPAT 84
#define SB_CRC 508

static void sb_encode(const struct store_disk *d, uint64_t seq, uint8_t *b)
{
	memset(b, 0, d->ss);
	memcpy(b + SB_MAGIC, magic, sizeof(magic));
	put32(b + SB_VERSION, DISK_FORMAT_VERSION);
	put32(b + SB_SIZE, DISK_SB_SIZE);
	put64(b + SB_SEQ, seq);
	put32(b + SB_BLOCK, d->bs);
	put32(b + SB_SECTOR, d->ss);
	put64(b + SB_DISK_BYTES, d->disk_bytes);
	put64(b + SB_AREA_START, d->area_start);
	put64(b + SB_AREA_END, d->area_end);
	put64(b + SB_FORMAT_NS, (uint64_t)d->format_ns);
	put64(b + SB_DB_LEN, d->f[DISK_DB].len);
	put64(b + SB_JOURNAL_LEN, d->f[DISK_JOURNAL].len);
	put32(b + SB_FLAGS, (d->f[DISK_DB].exists ? SB_FLAG_DB : 0) |
				    (d->f[DISK_JOURNAL].exists ? SB_FLAG_JOURNAL : 0));
	put32(b + SB_INCOMPAT, 0);
	put32(b + SB_CRC, store_crc32(b, SB_CRC));
}

enum sb_kind { SB_NONE, SB_GOOD, SB_BAD, SB_NEWER };

static enum sb_kind sb_classify(const uint8_t *b)
{
	if (memcmp(b + SB_MAGIC, magic, sizeof(magic)))
		return SB_NONE;
	uint32_t v = get32(b + SB_VERSION);
	if (v > DISK_FORMAT_VERSION)
		return SB_NEWER;
	if (v != DISK_FORMAT_VERSION || get32(b + SB_CRC) != store_crc32(b, SB_CRC) ||
	    get32(b + SB_SIZE) != DISK_SB_SIZE || get32(b + SB_INCOMPAT) != 0)
		return SB_BAD;
	return SB_GOOD;
}

/* ---- raw sector I/O ---- */

static int dev_read(struct store_disk *d, uint64_t lba, void *buf, size_t n)
{
	return d->bd->ops->read(d->bd, lba, buf, n);
}

static int dev_write(struct store_disk *d, uint64_t lba, const void *buf, size_t n)
{
	if (d->read_only)
		return -EROFS;
	if (d->cache_valid && d->cache_lba >= lba && d->cache_lba < lba + n)
		d->cache_valid = false;
	return d->bd->ops->write(d->bd, lba, buf, n);
}

static int dev_flush(struct store_disk *d)
{
	if (d->read_only)
		return 0;
	return d->bd->ops->flush(d->bd);
}

/* Loads sector (lba) into the cache. */
static int cache_load(struct store_disk *d, uint64_t lba)
{
	if (d->cache_valid && d->cache_lba == lba)
		return 0;
	d->cache_valid = false;
	int err = dev_read(d, lba, d->cache, 1);
	if (err)
		return err;
	d->cache_lba = lba;
	d->cache_valid = true;
	return 0;
}

/* Byte-granular I/O at physical byte (p) within one block. */
static int phys_io(struct store_disk *d, uint64_t p, uint8_t *buf, size_t n, bool wr)
{
	uint64_t lba = p / d->ss;
	size_t o = (size_t)(p % d->ss);
	while (n) {
		int err;
		if (o == 0 && n >= d->ss) {
			size_t k = n / d->ss;
			err = wr ? dev_write(d, lba, buf, k) : dev_read(d, lba, buf, k);
			if (err)
				return err;
			lba += k;
			buf += k * d->ss;
			n -= k * d->ss;
			continue;
		}
		size_t m = d->ss - o < n ? d->ss - o : n;
		if ((err = cache_load(d, lba)))
			return err;
		if (wr) {
			memcpy(d->cache + o, buf, m);
			/* dev_write drops the cache: write from it, then keep it. */
			err = dev_write(d, lba, d->cache, 1);
			if (err)
				return err;
			d->cache_lba = lba;
			d->cache_valid = true;
		} else {
			memcpy(buf, d->cache + o, m);
		}
		lba++;
		o = 0;
		buf += m;
		n -= m;
	}
	return 0;
}

static uint64_t blocks(const struct store_disk *d, uint64_t bytes)
{
	return (bytes + d->bs - 1) / d->bs;
}

/* Blocks (f) may occupy for sure: its current or durable length. */
static uint64_t held(const struct store_disk *d, int f)
{
	uint64_t a = d->f[f].len, b = d->f[f].dlen;
	return blocks(d, a > b ? a : b);
}

static int file_io(struct store_disk *d, int f, uint64_t off, uint8_t *buf, size_t n, bool wr)
{
	uint64_t first = d->area_start / d->bs, last = d->area_end / d->bs - 1;
	while (n) {
		uint64_t blk = off / d->bs;
		size_t within = (size_t)(off % d->bs);
		size_t m = d->bs - within < n ? d->bs - within : n;
		uint64_t pblk = f == DISK_DB ? first + blk : last - blk;
		int err = phys_io(d, pblk * d->bs + within, buf, m, wr);
		if (err)
			return err;
		off += m;
		buf += m;
		n -= m;
	}
	return 0;
}

/* ---- files ---- */

int store_disk_read(struct store_disk *d, int f, uint64_t off, void *buf, size_t len,
		    size_t *got)
{
	uint64_t flen = d->f[f].len;
	size_t avail = off >= flen ? 0 : (flen - off < len ? (size_t)(flen - off) : len);
	*got = 0;
	if (avail) {
		int err = file_io(d, f, off, buf, avail, false);
		if (err)
			return err;
	}
	*got = avail;
	if (avail < len) {
		memset((uint8_t *)buf + avail, 0, len - avail);
		return -ENODATA;
	}
	return 0;
}

static int write_at(struct store_disk *d, int f, uint64_t off, const void *buf, size_t len)
{
	if (d->read_only)
		return -EROFS;
	uint64_t end = off + len;
	if (end < off)
		return -ENOSPC;
	uint64_t area = (d->area_end - d->area_start) / d->bs;
	uint64_t need = blocks(d, end);
	if (need > held(d, f))
		if (need + held(d, !f) > area)
			return -ENOSPC;
	int err = file_io(d, f, off, (uint8_t *)(uintptr_t)buf, len, true);
	if (err)
		return err;
	if (end > d->f[f].len)
		d->f[f].len = end;
	return 0;
}

static int zero_fill(struct store_disk *d, int f, uint64_t from, uint64_t to)
{
	static const uint8_t zeros[DISK_BLOCK];
	while (from < to) {
		size_t n = to - from < sizeof(zeros) ? (size_t)(to - from) : sizeof(zeros);
		int err = write_at(d, f, from, zeros, n);
		if (err)
			return err;
		from += n;
	}
	return 0;
}

int store_disk_write(struct store_disk *d, int f, uint64_t off, const void *buf, size_t len)
{
	if (d->read_only)
		return -EROFS;
	if (off > d->f[f].len) {
		/* A hole reads as zeros, as on a file system. */
		int err = zero_fill(d, f, d->f[f].len, off);
		if (err)
			return err;
	}
	d->f[f].exists = true;
	return write_at(d, f, off, buf, len);
}

int store_disk_truncate(struct store_disk *d, int f, uint64_t size)
{
	if (d->read_only)
		return -EROFS;
	if (size > d->f[f].len)
		return zero_fill(d, f, d->f[f].len, size);
	d->f[f].len = size;
	return 0;
}

static int sb_write(struct store_disk *d, uint64_t seq)
{
	uint8_t *b = malloc(d->ss);
	if (!b)
		return -ENOMEM;
	sb_encode(d, seq, b);
	int err = dev_write(d, (seq % 2) * DISK_BLOCK / d->ss, b, 1);
	free(b);
	d->sb_writes++;
	return err;
}

int store_disk_sync(struct store_disk *d)
{
	if (d->read_only)
		return 0;
	d->syncs++;
	int err = dev_flush(d);
	if (err)
		return err;
	bool changed = false;
	for (int f = 0; f < DISK_NFILES; f++)
		if (d->f[f].len != d->f[f].dlen || d->f[f].exists != d->f[f].dexists)
			changed = true;
	if (!changed)
		return 0;
	if ((err = sb_write(d, d->seq + 1)) || (err = dev_flush(d)))
		return err;
	d->seq++;
	for (int f = 0; f < DISK_NFILES; f++) {
		d->f[f].dlen = d->f[f].len;
		d->f[f].dexists = d->f[f].exists;
	}
	return 0;
}

int store_disk_delete(struct store_disk *d, int f)
{
	if (d->read_only)
		return -EROFS;
	d->f[f].len = 0;
	d->f[f].exists = false;
	return store_disk_sync(d);
}

void store_disk_create(struct store_disk *d, int f)
{
	if (!d->read_only)
		d->f[f].exists = true;
}

uint64_t store_disk_used(const struct store_disk *d)
{
	return (blocks(d, d->f[DISK_DB].len) + blocks(d, d->f[DISK_JOURNAL].len)) * d->bs;
}

uint64_t store_disk_free(const struct store_disk *d)
{
	uint64_t area = d->area_end - d->area_start, used = store_disk_used(d);
	return used < area ? area - used : 0;
}

/* ---- mount and format ---- */

static int prepare(struct store_disk *d, struct blkdev *bd)
{
	memset(d, 0, sizeof(*d));
	d->bd = bd;
	d->ss = bd->sector_size;
	d->bs = DISK_BLOCK;
	d->read_only = bd->read_only;
	if (d->ss > DISK_BLOCK || DISK_BLOCK % d->ss) {
		snprintf(d->why, sizeof(d->why), "sector size %u is not supported (at most %u)",
			 (unsigned int)d->ss, DISK_BLOCK);
		return -ENOTSUP;
	}
	d->cache = malloc(d->ss);
	return d->cache ? 0 : -ENOMEM;
}

void store_disk_release(struct store_disk *d)
{
	free(d->cache);
	d->cache = NULL;
	d->cache_valid = false;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Is the disk zero where a store or anything else would have written?
 * The first and last MiB and 64 sectors spread over the rest. */
static int scan_blank(struct store_disk *d, bool *blank)
{
	uint64_t nsec = d->bd->sectors;
	size_t chunk_sec = 65536 / d->ss;
	uint8_t *buf = malloc(65536);
	if (!buf)
		return -ENOMEM;
	uint64_t edge = SCAN_EDGE / d->ss;
	int err = 0;
	*blank = true;
	for (int pass = 0; pass < 2 && *blank && !err; pass++) {
		uint64_t start = pass == 0 ? 0 : (nsec > edge ? nsec - edge : 0);
		uint64_t end = pass == 0 ? (nsec < edge ? nsec : edge) : nsec;
		for (uint64_t s = start; s < end && *blank; s += chunk_sec) {
			size_t n = end - s < chunk_sec ? (size_t)(end - s) : chunk_sec;
			if ((err = dev_read(d, s, buf, n)))
				break;
			*blank = all_zero(buf, n * d->ss);
		}
	}
	for (uint64_t i = 0; i < SCAN_SAMPLES && *blank && !err && nsec; i++) {
		uint64_t s = nsec / SCAN_SAMPLES * i;
		if ((err = dev_read(d, s, buf, 1)))
			break;
		*blank = all_zero(buf, d->ss);
	}
	free(buf);
	return err;
}

int store_disk_mount(struct store_disk *d, struct blkdev *bd)
{
	int err = prepare(d, bd);
	if (err)
		return err;
	uint64_t cap = bd->sectors * d->ss;
	enum sb_kind kind[2] = {SB_NONE, SB_NONE};
	uint8_t *b[2] = {malloc(d->ss), malloc(d->ss)};
	if (!b[0] || !b[1]) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t lba = (uint64_t)i * DISK_BLOCK / d->ss;
		if (lba >= bd->sectors)
			continue;
		if ((err = dev_read(d, lba, b[i], 1))) {
			snprintf(d->why, sizeof(d->why), "cannot read the superblock (error %d)", err);
			goto out;
		}
		kind[i] = sb_classify(b[i]);
	}
	if (kind[0] == SB_NEWER || kind[1] == SB_NEWER) {
		const uint8_t *n = kind[0] == SB_NEWER ? b[0] : b[1];
		snprintf(d->why, sizeof(d->why),
			 "store format %u is newer than this firmware's (%u)",
			 (unsigned int)get32(n + SB_VERSION), DISK_FORMAT_VERSION);
		err = DISK_E_NEWER;
		goto out;
	}
	int pick = -1;
	for (int i = 0; i < 2; i++)
		if (kind[i] == SB_GOOD && (pick < 0 || get64(b[i] + SB_SEQ) > get64(b[pick] + SB_SEQ)))
			pick = i;
	if (pick < 0 && (kind[0] == SB_BAD || kind[1] == SB_BAD)) {
		snprintf(d->why, sizeof(d->why), "both superblocks are damaged");
		err = DISK_E_DAMAGED;
		goto out;
	}
	if (pick < 0) {
		bool blank;
		if ((err = scan_blank(d, &blank))) {
			snprintf(d->why, sizeof(d->why), "cannot read the disk (error %d)", err);
			goto out;
		}
		if (!blank) {
			snprintf(d->why, sizeof(d->why), "not a Hearth store and not empty");
			err = DISK_E_FOREIGN;
		} else if (cap < DISK_MIN_BYTES) {
			snprintf(d->why, sizeof(d->why), "empty but too small (%llu KiB, need %u KiB)",
				 (unsigned long long)(cap / 1024), DISK_MIN_BYTES / 1024);
			err = DISK_E_SMALL;
		} else {
			snprintf(d->why, sizeof(d->why), "empty (all zero)");
			err = DISK_E_BLANK;
		}
		goto out;
	}
	const uint8_t *s = b[pick];
	d->version = get32(s + SB_VERSION);
	d->seq = get64(s + SB_SEQ);
	d->disk_bytes = get64(s + SB_DISK_BYTES);
	d->area_start = get64(s + SB_AREA_START);
	d->area_end = get64(s + SB_AREA_END);
	d->format_ns = (int64_t)get64(s + SB_FORMAT_NS);
	uint32_t flags = get32(s + SB_FLAGS);
	d->f[DISK_DB].len = d->f[DISK_DB].dlen = get64(s + SB_DB_LEN);
	d->f[DISK_JOURNAL].len = d->f[DISK_JOURNAL].dlen = get64(s + SB_JOURNAL_LEN);
	d->f[DISK_DB].exists = d->f[DISK_DB].dexists = flags & SB_FLAG_DB;
	d->f[DISK_JOURNAL].exists = d->f[DISK_JOURNAL].dexists = flags & SB_FLAG_JOURNAL;
	if (get32(s + SB_BLOCK) != DISK_BLOCK || d->area_start != DISK_RESERVED ||
	    d->area_end % DISK_BLOCK || d->area_end <= d->area_start ||
	    d->area_end > d->disk_bytes ||
	    blocks(d, d->f[DISK_DB].len) + blocks(d, d->f[DISK_JOURNAL].len) >
		    (d->area_end - d->area_start) / d->bs) {
		snprintf(d->why, sizeof(d->why), "the superblock's layout is inconsistent");
		err = DISK_E_DAMAGED;
		goto out;
	}
	if (d->disk_bytes > cap) {
		snprintf(d->why, sizeof(d->why),
			 "the disk is %llu KiB but its store was formatted for %llu KiB (truncated)",
			 (unsigned long long)(cap / 1024), (unsigned long long)(d->disk_bytes / 1024));
		err = DISK_E_TRUNCATED;
		goto out;
	}
	snprintf(d->why, sizeof(d->why), "store format %u", (unsigned int)d->version);
	err = 0;
out:
	free(b[0]);
	free(b[1]);
	if (err)
		store_disk_release(d);
	return err;
}

int store_disk_format(struct store_disk *d, struct blkdev *bd, int64_t now_ns)
{
	int err = prepare(d, bd);
	if (err)
		return err;
	uint64_t cap = bd->sectors * d->ss;
	if (d->read_only) {
		err = -EROFS;
	} else if (cap < DISK_MIN_BYTES) {
		err = -ENOSPC;
	} else {
		d->version = DISK_FORMAT_VERSION;
		d->disk_bytes = cap / DISK_BLOCK * DISK_BLOCK;
		d->area_start = DISK_RESERVED;
		d->area_end = d->disk_bytes;
		d->format_ns = now_ns;
		/* Both copies say generation 1 (copy 1 is the one for odd
		 * generations); the next sync writes generation 2 into copy 0. */
		uint8_t *b = malloc(d->ss);
		if (!b) {
			err = -ENOMEM;
		} else {
			sb_encode(d, 1, b);
			err = dev_write(d, 0, b, 1);
			if (!err)
				err = dev_write(d, DISK_BLOCK / d->ss, b, 1);
			if (!err)
				err = dev_flush(d);
			free(b);
			d->seq = 1;
		}
	}
	if (err)
		store_disk_release(d);
	return err;
}
