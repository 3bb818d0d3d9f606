/*
 * vfs.c: the "hearth" SQLite VFS. Maps SQLite's main database and its
 * rollback journal onto the store's disk (disk.c) and keeps every other file
 * SQLite asks for in memory. xSync is store_disk_sync: when it returns, all
 * data written before and the files' lengths are on stable storage.
 * xSectorSize is the device's sector size; xDeviceCharacteristics claims
 * only POWERSAFE_OVERWRITE (a sector write is atomic, and the VFS rewrites a
 * partly written sector with its old bytes), never atomic multi-sector
 * writes or ordered writes. Randomness from the board's rng, time from its
 * wall clock. Locks are recorded, not enforced: one connection, one thread.
 * Assumes the SQLite amalgamation of this build (3.40.1, SQLITE_OS_OTHER on
 * the firmware; the host benchmark registers it next to the unix VFS).
 * Leaves out: WAL/shared memory, mmap, several connections or processes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "sqlite3.h"
#include "vfs.h"

static struct store_disk *disk;

void store_vfs_attach(struct store_disk *d)
{
	disk = d;
}

struct hfile {
	sqlite3_file base;
	int which; /* DISK_DB, DISK_JOURNAL, or -1: a memory file */
	int lock;
	uint8_t *mem;
	size_t mlen, mcap;
};

static int which_file(const char *name)
{
	static const char journal[] = STORE_DB_PATH "-journal";
	if (!name)
		return -1;
	if (!strcmp(name, STORE_DB_PATH))
		return DISK_DB;
	if (!strcmp(name, journal))
		return DISK_JOURNAL;
	return -2; /* a named file we do not keep */
}

/* ---- io methods ---- */

static int x_close(sqlite3_file *f)
{
	struct hfile *h = (struct hfile *)f;
	free(h->mem);
	h->mem = NULL;
	return SQLITE_OK;
}

static int x_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct hfile *h = (struct hfile *)f;
	if (amt < 0 || off < 0)
		return SQLITE_IOERR_READ;
	if (h->which < 0) {
		size_t n = (uint64_t)off >= h->mlen ? 0 : h->mlen - (size_t)off;
		if (n > (size_t)amt)
			n = (size_t)amt;
		if (n)
			memcpy(buf, h->mem + off, n);
		if (n < (size_t)amt) {
			memset((uint8_t *)buf + n, 0, (size_t)amt - n);
			return SQLITE_IOERR_SHORT_READ;
		}
		return SQLITE_OK;
	}
	if (!disk)
		return SQLITE_IOERR_READ;
	size_t got;
	int err = store_disk_read(disk, h->which, (uint64_t)off, buf, (size_t)amt, &got);
	if (err == -ENODATA)
		return SQLITE_IOERR_SHORT_READ;
	return err ? SQLITE_IOERR_READ : SQLITE_OK;
}

static int mem_reserve(struct hfile *h, size_t need)
{
	if (need <= h->mcap)
		return 0;
	size_t cap = h->mcap ? h->mcap : 4096;
	while (cap < need)
		cap *= 2;
	uint8_t *p = realloc(h->mem, cap);
	if (!p)
		return -ENOMEM;
	memset(p + h->mcap, 0, cap - h->mcap);
	h->mem = p;
	h->mcap = cap;
	return 0;
}

static int x_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct hfile *h = (struct hfile *)f;
	if (amt < 0 || off < 0)
		return SQLITE_IOERR_WRITE;
	if (h->which < 0) {
		size_t end = (size_t)off + (size_t)amt;
		if (mem_reserve(h, end))
			return SQLITE_IOERR_NOMEM;
		memcpy(h->mem + off, buf, (size_t)amt);
		if (end > h->mlen)
			h->mlen = end;
		return SQLITE_OK;
	}
	if (!disk)
		return SQLITE_IOERR_WRITE;
	int err = store_disk_write(disk, h->which, (uint64_t)off, buf, (size_t)amt);
	if (err == -ENOSPC)
		return SQLITE_FULL;
	if (err == -EROFS)
		return SQLITE_READONLY;
	return err ? SQLITE_IOERR_WRITE : SQLITE_OK;
}

static int x_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct hfile *h = (struct hfile *)f;
	if (size < 0)
		return SQLITE_IOERR_TRUNCATE;
	if (h->which < 0) {
		if (mem_reserve(h, (size_t)size))
			return SQLITE_IOERR_NOMEM;
		if ((size_t)size < h->mlen)
			memset(h->mem + size, 0, h->mlen - (size_t)size);
		h->mlen = (size_t)size;
		return SQLITE_OK;
	}
	if (!disk)
		return SQLITE_IOERR_TRUNCATE;
	int err = store_disk_truncate(disk, h->which, (uint64_t)size);
	if (err == -ENOSPC)
		return SQLITE_FULL;
	return err ? SQLITE_IOERR_TRUNCATE : SQLITE_OK;
}

static int x_sync(sqlite3_file *f, int flags)
{
	struct hfile *h = (struct hfile *)f;
	(void)flags; /* NORMAL, FULL and DATAONLY all get a full barrier */
	if (h->which < 0)
		return SQLITE_OK;
	if (!disk)
		return SQLITE_IOERR_FSYNC;
	return store_disk_sync(disk) ? SQLITE_IOERR_FSYNC : SQLITE_OK;
}

static int x_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct hfile *h = (struct hfile *)f;
	if (h->which < 0)
		*size = (sqlite3_int64)h->mlen;
	else if (disk)
		*size = (sqlite3_int64)disk->f[h->which].len;
	else
		return SQLITE_IOERR_FSTAT;
	return SQLITE_OK;
}

static int x_lock(sqlite3_file *f, int level)
{
	struct hfile *h = (struct hfile *)f;
	if (level > h->lock)
		h->lock = level;
	return SQLITE_OK;
}

static int x_unlock(sqlite3_file *f, int level)
{
	struct hfile *h = (struct hfile *)f;
	if (level < h->lock)
		h->lock = level;
	return SQLITE_OK;
}

static int x_check_reserved(sqlite3_file *f, int *out)
{
	(void)f;
	*out = 0; /* no other connection exists */
	return SQLITE_OK;
}

static int x_file_control(sqlite3_file *f, int op, void *arg)
{
	(void)f;
	(void)op;
	(void)arg;
	return SQLITE_NOTFOUND;
}

static int x_sector_size(sqlite3_file *f)
{
	struct hfile *h = (struct hfile *)f;
	return h->which >= 0 && disk ? (int)disk->ss : 512;
}

static int x_device_characteristics(sqlite3_file *f)
{
	(void)f;
	return SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

static const sqlite3_io_methods io_methods = {
	.iVersion = 1,
	.xClose = x_close,
	.xRead = x_read,
	.xWrite = x_write,
	.xTruncate = x_truncate,
	.xSync = x_sync,
	.xFileSize = x_file_size,
	.xLock = x_lock,
	.xUnlock = x_unlock,
	.xCheckReservedLock = x_check_reserved,
	.xFileControl = x_file_control,
	.xSectorSize = x_sector_size,
	.xDeviceCharacteristics = x_device_characteristics,
};

/* ---- the VFS ---- */

static int x_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	(void)vfs;
	struct hfile *h = (struct hfile *)f;
	memset(h, 0, sizeof(*h));
	h->which = which_file(name);
	if (h->which == -2)
		return SQLITE_CANTOPEN; /* e.g. a WAL or a super-journal: not used */
	if (h->which >= 0) {
		if (!disk)
			return SQLITE_CANTOPEN;
		bool exists = disk->f[h->which].exists;
		if (!exists && !(flags & SQLITE_OPEN_CREATE))
			return SQLITE_CANTOPEN;
		if (!exists && disk->read_only)
			return SQLITE_CANTOPEN;
		if (disk->read_only && (flags & SQLITE_OPEN_READWRITE)) {
			flags &= ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
			flags |= SQLITE_OPEN_READONLY;
		}
		if (!exists)
			store_disk_create(disk, h->which);
	}
	if (out_flags)
		*out_flags = flags;
	h->base.pMethods = &io_methods;
	return SQLITE_OK;
}

static int x_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	(void)sync_dir; /* always durable */
	int w = which_file(name);
	if (w < 0 || !disk)
		return SQLITE_OK; /* memory files vanish on close */
	return store_disk_delete(disk, w) ? SQLITE_IOERR_DELETE : SQLITE_OK;
}

static int x_access(sqlite3_vfs *vfs, const char *name, int what, int *out)
{
	(void)vfs;
	int w = which_file(name);
	*out = 0;
	if (w >= 0 && disk && disk->f[w].exists)
		*out = what == SQLITE_ACCESS_READWRITE ? !disk->read_only : 1;
	return SQLITE_OK;
}

static int x_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	size_t len = strlen(name);
	if (len + 1 > (size_t)n)
		return SQLITE_CANTOPEN;
	memcpy(out, name, len + 1);
	return SQLITE_OK;
}

static int x_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	if (n <= 0)
		return 0;
	if (rng_read(out, (size_t)n)) {
		/* No rng: SQLite only needs these to differ between runs
		 * (journal nonces, temp names); the clock is enough for that. */
		uint64_t t = time_now_ns() ^ (uint64_t)time_wall_ns();
		for (int i = 0; i < n; i++) {
			t = t * 6364136223846793005ull + 1442695040888963407ull;
			out[i] = (char)(t >> 56);
		}
	}
	return n;
}

static int x_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	uint64_t end = time_now_ns() + (uint64_t)(us > 0 ? us : 0) * 1000u;
	while (time_now_ns() < end)
		;
	return us;
}

/* Julian day number of the Unix epoch, in milliseconds. */
#define UNIX_EPOCH_JD_MS 210866760000000ll

static int x_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	*out = UNIX_EPOCH_JD_MS + time_wall_ns() / 1000000;
	return SQLITE_OK;
}

static int x_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	if (n > 0)
		out[0] = 0;
	return 0;
}

static sqlite3_vfs hearth_vfs = {
	.iVersion = 2,
	.szOsFile = sizeof(struct hfile),
	.mxPathname = 64,
	.zName = STORE_VFS_NAME,
	.xOpen = x_open,
	.xDelete = x_delete,
	.xAccess = x_access,
	.xFullPathname = x_full_pathname,
	.xRandomness = x_randomness,
	.xSleep = x_sleep,
	/* xCurrentTime (a double) stays NULL: SQLite only falls back to it
	 * without xCurrentTimeInt64, and our code is built without FP. */
	.xGetLastError = x_get_last_error,
	.xCurrentTimeInt64 = x_current_time_int64,
};

int store_vfs_register(int make_default)
{
	int rc = sqlite3_vfs_register(&hearth_vfs, make_default);
	return rc == SQLITE_OK ? 0 : -ENOMEM;
}

#if defined(SQLITE_OS_OTHER) && SQLITE_OS_OTHER
/* SQLite calls these from sqlite3_initialize / sqlite3_shutdown. */
int sqlite3_os_init(void)
{
	return sqlite3_vfs_register(&hearth_vfs, 1);
}

int sqlite3_os_end(void)
{
	return SQLITE_OK;
}
#endif
