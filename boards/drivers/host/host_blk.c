/*
 * host_blk.c: the host board's block device: a file (or a Linux block
 * device) named by the bootarg hearth.disk=PATH, in 512-byte sectors.
 * pread/pwrite go to the page cache; flush is fdatasync(2), which is what
 * makes them durable. A file that cannot be opened for writing is opened
 * read-only and registered as a read-only device.
 * Assumes the file's size is a multiple of 512 (a tail is ignored) and that
 * no other process writes it while Hearth runs.
 * Leaves out: O_DIRECT, discard, several disks (one hearth.disk= only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <board.h>

#define SECTOR 512u

struct hblk {
	struct blkdev bd;
	int fd;
};

static int hblk_io(struct blkdev *bd, uint64_t sector, void *buf, size_t count, int wr)
{
	struct hblk *h = bd->priv;
	if (sector > bd->sectors || count > bd->sectors - sector)
		return -ERANGE;
	if (wr && bd->read_only)
		return -EROFS;
	uint8_t *p = buf;
	size_t left = count * SECTOR;
	off_t off = (off_t)(sector * SECTOR);
	while (left) {
		ssize_t n = wr ? pwrite(h->fd, p, left, off) : pread(h->fd, p, left, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			bd->stats.errors++;
			return n < 0 ? -errno : -EIO;
		}
		p += n;
		off += n;
		left -= (size_t)n;
	}
	if (wr) {
		bd->stats.writes++;
		bd->stats.write_bytes += count * SECTOR;
	} else {
		bd->stats.reads++;
		bd->stats.read_bytes += count * SECTOR;
	}
	return 0;
}

static int hblk_read(struct blkdev *bd, uint64_t sector, void *buf, size_t count)
{
	return hblk_io(bd, sector, buf, count, 0);
}

static int hblk_write(struct blkdev *bd, uint64_t sector, const void *buf, size_t count)
{
	return hblk_io(bd, sector, (void *)(uintptr_t)buf, count, 1);
}

static int hblk_flush(struct blkdev *bd)
{
	struct hblk *h = bd->priv;
	bd->stats.flushes++;
	if (bd->read_only)
		return 0;
	while (fdatasync(h->fd) < 0) {
		if (errno != EINTR) {
			bd->stats.errors++;
			return -errno;
		}
	}
	return 0;
}

static const struct blkdev_ops hblk_ops = {
	.read = hblk_read,
	.write = hblk_write,
	.flush = hblk_flush,
};

static int hblk_probe(struct device *dev)
{
	char path[512];
	if (board_bootarg(board_dt_bootargs(dev->fdt), "hearth.disk", path, sizeof(path)) <= 0)
		return -ENODEV; /* no disk asked for */
	bool ro = false;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ro = true;
	}
	if (fd < 0) {
		int err = -errno;
		printf("host-blk: cannot open %s: %s\n", path, strerror(errno));
		return err;
	}
	struct stat st;
	off_t size;
	if (fstat(fd, &st) < 0 || (size = lseek(fd, 0, SEEK_END)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	struct hblk *h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	h->fd = fd;
	h->bd.dev = dev;
	h->bd.ops = &hblk_ops;
	h->bd.priv = h;
	h->bd.sector_size = SECTOR;
	h->bd.sectors = (uint64_t)size / SECTOR;
	h->bd.read_only = ro;
	h->bd.volatile_cache = true; /* the page cache */
	dev->priv = h;
	int err = blkdev_register(&h->bd);
	if (err) {
		close(fd);
		free(h);
		dev->priv = NULL;
	}
	return err;
}

DRIVER(host_blk, hblk_probe, "hearth,host-blk");
