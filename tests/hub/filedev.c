/*
 * filedev.c: a file-backed block device and board stubs for the hub's host
 * tests (filedev.h), and the one hub function they stub.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filedev.h"
#include "session.h"

#define SECTOR 512u

static int fd_io(struct blkdev *bd, uint64_t sector, void *buf, size_t count, int wr)
{
	struct filedev *f = bd->priv;
	if (sector > bd->sectors || count > bd->sectors - sector)
		return -ERANGE;
	size_t len = count * SECTOR;
	off_t off = (off_t)(sector * SECTOR);
	uint8_t *p = buf;
	while (len) {
		ssize_t n = wr ? pwrite(f->fd, p, len, off) : pread(f->fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	if (wr)
		bd->stats.writes++;
	else
		bd->stats.reads++;
	return 0;
}

static int fd_read(struct blkdev *bd, uint64_t sector, void *buf, size_t count)
{
	return fd_io(bd, sector, buf, count, 0);
}

static int fd_write(struct blkdev *bd, uint64_t sector, const void *buf, size_t count)
{
	return fd_io(bd, sector, (void *)(uintptr_t)buf, count, 1);
}

static int fd_flush(struct blkdev *bd)
{
	struct filedev *f = bd->priv;
	bd->stats.flushes++;
	if (f->sync && fdatasync(f->fd) < 0)
		return -errno;
	return 0;
}

static const struct blkdev_ops fd_ops = {.read = fd_read, .write = fd_write, .flush = fd_flush};

static int attach(struct filedev *f)
{
	off_t size = lseek(f->fd, 0, SEEK_END);
	if (size < 0)
		return -errno;
	memset(&f->bd, 0, sizeof(f->bd));
	f->bd.ops = &fd_ops;
	f->bd.priv = f;
	f->bd.name = "testdisk";
	f->bd.sector_size = SECTOR;
	f->bd.sectors = (uint64_t)size / SECTOR;
	f->bd.volatile_cache = true;
	return 0;
}

int filedev_create(struct filedev *f, uint64_t bytes, bool sync)
{
	const char *dir = getenv("TMPDIR");
	snprintf(f->path, sizeof(f->path), "%s/hearth-hub-test-XXXXXX", dir && *dir ? dir : "/tmp");
	f->sync = sync;
	f->fd = mkstemp(f->path);
	if (f->fd < 0)
		return -errno;
	if (ftruncate(f->fd, (off_t)bytes) < 0) {
		int err = -errno;
		filedev_remove(f);
		return err;
	}
	return attach(f);
}

int filedev_reopen(struct filedev *f)
{
	f->fd = open(f->path, O_RDWR | O_CLOEXEC);
	return f->fd < 0 ? -errno : attach(f);
}

void filedev_close(struct filedev *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

void filedev_remove(struct filedev *f)
{
	filedev_close(f);
	unlink(f->path);
}

/* ---- board stubs ---- */

int64_t stub_wall_ns;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

int rng_read(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		rng_state ^= rng_state >> 12;
		rng_state ^= rng_state << 25;
		rng_state ^= rng_state >> 27;
		uint64_t v = rng_state * 0x2545f4914f6cdd1dull;
		size_t n = len < 8 ? len : 8;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return 0;
}

bool rng_ready(void)
{
	return true;
}

uint64_t time_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t time_now_ms(void)
{
	return time_now_ns() / 1000000u;
}

int64_t time_wall_ns(void)
{
	struct timespec ts;
	if (stub_wall_ns)
		return stub_wall_ns;
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

/* ---- the hub function outside the tested set ---- */

/* hub/auth.c asks session.c about browser sessions (owner requests without
 * a token); the tests here make no HTTP requests: there is none. */
int hub_session_check(const struct http_req *req)
{
	(void)req;
	return -ENOENT;
}
