/*
 * bench_store.c: inserts per second through Hearth's VFS on a file-backed
 * blkdev (pread/pwrite/fdatasync, like the host board's host_blk) against
 * SQLite's own unix VFS on the same file system, same pragmas (rollback
 * journal PERSIST, synchronous FULL, exclusive locking), side by side.
 * Prints both rates and their ratio; never fails on a time.
 * usage: bench_store DIR [SINGLE_TXNS [BATCH_ROWS]]
 * Leaves out: QEMU/virtio-blk numbers (a boot-based bench, to come).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../hub/store/disk.h"
#include "../../hub/store/vfs.h"
#include "faultdev.h"
#include "sqlite3.h"

struct fblk {
	struct blkdev bd;
	int fd;
};

static int f_read(struct blkdev *bd, uint64_t s, void *buf, size_t n)
{
	struct fblk *f = (struct fblk *)bd;
	return pread(f->fd, buf, n * 512, (off_t)(s * 512)) == (ssize_t)(n * 512) ? 0 : -EIO;
}

static int f_write(struct blkdev *bd, uint64_t s, const void *buf, size_t n)
{
	struct fblk *f = (struct fblk *)bd;
	return pwrite(f->fd, buf, n * 512, (off_t)(s * 512)) == (ssize_t)(n * 512) ? 0 : -EIO;
}

static int f_flush(struct blkdev *bd)
{
	struct fblk *f = (struct fblk *)bd;
	return fdatasync(f->fd) ? -errno : 0;
}

static const struct blkdev_ops fops = {.read = f_read, .write = f_write, .flush = f_flush};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		fprintf(stderr, "bench: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
		exit(1);
	}
}

/* Returns {single-row txns/s, batched rows/s}. */
static void run(const char *path, const char *vfs, int single, int batch, double out[2])
{
	sqlite3 *db;
	sqlite3_stmt *st;
	must(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), db, "open");
	must(sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=PERSIST;"
			      "PRAGMA synchronous=FULL; CREATE TABLE r(n INTEGER PRIMARY KEY, p BLOB);",
			  NULL, NULL, NULL), db, "setup");
	must(sqlite3_prepare_v2(db, "INSERT INTO r(p) VALUES (randomblob(200))", -1, &st, NULL), db,
	     "prepare");
	double t0 = now();
	for (int i = 0; i < single; i++) {
		must(sqlite3_step(st), db, "insert");
		sqlite3_reset(st);
	}
	double t1 = now();
	must(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), db, "begin");
	for (int i = 0; i < batch; i++) {
		must(sqlite3_step(st), db, "insert");
		sqlite3_reset(st);
		if (i % 1000 == 999) {
			must(sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL), db, "commit");
		}
	}
	must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
	double t2 = now();
	sqlite3_finalize(st);
	sqlite3_close(db);
	out[0] = single / (t1 - t0);
	out[1] = batch / (t2 - t1);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [SINGLE_TXNS [BATCH_ROWS]]\n", argv[0]);
		return 2;
	}
	int single = argc > 2 ? atoi(argv[2]) : 300;
	int batch = argc > 3 ? atoi(argv[3]) : 20000;
	char unixdb[512], img[512];
	snprintf(unixdb, sizeof(unixdb), "%s/bench-unix.db", argv[1]);
	snprintf(img, sizeof(img), "%s/bench-disk.img", argv[1]);
	unlink(unixdb);
	unlink(img);
	char j[600];
	snprintf(j, sizeof(j), "%s-journal", unixdb);
	unlink(j);

	struct fblk f = {0};
	f.fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (f.fd < 0 || ftruncate(f.fd, 64 << 20)) {
		perror(img);
		return 1;
	}
	f.bd.ops = &fops;
	f.bd.name = "bench";
	f.bd.sector_size = 512;
	f.bd.sectors = (64 << 20) / 512;
	f.bd.volatile_cache = true;
	struct store_disk d;
	if (store_disk_format(&d, &f.bd, 0)) {
		fprintf(stderr, "bench: cannot format %s\n", img);
		return 1;
	}
	store_vfs_attach(&d);
	store_vfs_register(0);

	double h[2], u[2];
	run(STORE_DB_PATH, STORE_VFS_NAME, single, batch, h);
	run(unixdb, "unix", single, batch, u);
	printf("%-28s %14s %14s %8s\n", "inserts per second", "hearth VFS", "unix VFS", "ratio");
	printf("%-28s %14.0f %14.0f %8.2f\n", "single-row transactions", h[0], u[0], h[0] / u[0]);
	printf("%-28s %14.0f %14.0f %8.2f\n", "batched (1000 per commit)", h[1], u[1], h[1] / u[1]);
	printf("(%d single-row commits, %d batched rows; files in %s; ratio > 1: ours is faster)\n",
	       single, batch, argv[1]);
	store_disk_release(&d);
	close(f.fd);
	unlink(unixdb);
	unlink(img);
	unlink(j);
	return 0;
}
