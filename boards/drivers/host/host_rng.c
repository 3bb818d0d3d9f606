/*
 * host_rng.c: the host board's entropy: getrandom(2).
 */
#include <errno.h>
#include <sys/random.h>

#include <board.h>

static int hrng_read(struct device *dev, void *buf, size_t len)
{
	(void)dev;
	unsigned char *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const struct rng_ops hrng_ops = {
	.read = hrng_read,
};

static int hrng_probe(struct device *dev)
{
	return rng_register(dev, &hrng_ops);
}

DRIVER(host_rng, hrng_probe, "hearth,host-rng");
