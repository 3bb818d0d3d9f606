/*
 * host_console.c: the host board's console: stdout for output, stdin
 * (non-blocking) for input. Leaves out: terminal modes.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <board.h>

static void hc_write(struct device *dev, const char *buf, size_t len)
{
	(void)dev;
	while (len) {
		ssize_t n = write(1, buf, len);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static int hc_read_byte(struct device *dev)
{
	(void)dev;
	struct pollfd p = {.fd = 0, .events = POLLIN};
	unsigned char c;
	if (poll(&p, 1, 0) != 1 || read(0, &c, 1) != 1)
		return -EAGAIN;
	return c;
}

static const struct console_ops hc_ops = {
	.write = hc_write,
	.read_byte = hc_read_byte,
};

static int hc_probe(struct device *dev)
{
	return console_register(dev, &hc_ops);
}

DRIVER(host_console, hc_probe, "hearth,host-console");
