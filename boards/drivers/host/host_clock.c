/*
 * host_clock.c: the host board's clock (CLOCK_MONOTONIC), its one-shot
 * deadline (the loop sleeps in ppoll until it) and its RTC (CLOCK_REALTIME).
 * Idle also wakes when a descriptor of a registered source (host.h: the
 * user-mode network, the signal self-pipe) is ready; at most IDLE_FDS of
 * them are watched, the rest only at the next deadline (at most 1 s away).
 * Leaves out: telling the sources which descriptor woke it (they poll).
 */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include <board.h>

#include "host.h"

#define IDLE_FDS 1024 /* the default RLIMIT_NOFILE */

static uint64_t base_ns; /* monotonic time counts from the probe, like a boot */
static struct host_poll *sources;
static struct pollfd idle_fds[IDLE_FDS];

void host_poll_register(struct host_poll *hp)
{
	hp->next = sources;
	sources = hp;
}

static uint64_t raw_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t hclk_now(struct device *dev)
{
	(void)dev;
	return raw_now() - base_ns;
}

static void hclk_set_deadline(struct device *dev, uint64_t abs_ns)
{
	(void)dev;
	(void)abs_ns;
}

static void hclk_idle(struct device *dev, uint64_t abs_ns)
{
	uint64_t now = hclk_now(dev);
	uint64_t wait = abs_ns > now ? abs_ns - now : 0;
	if (wait > 1000000000ull)
		wait = 1000000000ull;
	struct timespec ts = {(time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull)};
	size_t n = 0;
	for (struct host_poll *hp = sources; hp && n < IDLE_FDS; hp = hp->next) {
		size_t k = hp->fill(hp, idle_fds + n, IDLE_FDS - n);
		n += k < IDLE_FDS - n ? k : IDLE_FDS - n;
	}
	ppoll(n ? idle_fds : NULL, (nfds_t)n, &ts, NULL); /* EINTR: a signal is work too */
}

static const struct clock_ops hclk_ops = {
	.now_ns = hclk_now,
	.set_deadline = hclk_set_deadline,
	.idle = hclk_idle,
};

static int hrtc_read(struct device *dev, int64_t *unix_seconds)
{
	(void)dev;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	*unix_seconds = ts.tv_sec;
	return 0;
}

static const struct rtc_ops hrtc_ops = {
	.read = hrtc_read,
};

static int hclk_probe(struct device *dev)
{
	base_ns = raw_now();
	int err = clock_register(dev, &hclk_ops);
	if (err)
		return err;
	return rtc_register(dev, &hrtc_ops);
}

DRIVER(host_clock, hclk_probe, "hearth,host-clock");
