/*
 * host_net.c: the host board's network device: a user-mode network from
 * Debian's libslirp (10.0.2.0/24, gateway 10.0.2.2, DHCP server handing out
 * 10.0.2.15, DNS relay 10.0.2.3, IPv6 prefix fec0::/64 by router
 * advertisement), so the same lwIP stack runs in the host process. Frames
 * the stack sends go to slirp_input; frames slirp sends land in a bounded
 * ring (full: dropped and counted) that the netdev's poll delivers. The same
 * poll runs slirp's sockets (poll(2) with no wait) and TCP timers; its other
 * timers become loop timers; the host clock's idle wakes on its sockets
 * (host.h). The bootarg hearth.hostfwd=RULE[,RULE...] forwards host ports
 * into the device, RULE being tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT
 * (HOSTADDR empty: every address; GUESTADDR empty: the DHCP address), e.g.
 * hearth.hostfwd=tcp:127.0.0.1:8443-:443,tcp:127.0.0.1:8080-:80.
 * Assumes one thread, and the clock bound before this node (DT order).
 * Leaves out: IPv6 forwarding rules, TFTP/BOOTP files, slirp_cleanup at
 * exit (the process ends; its sockets go with it), several host networks.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <slirp/libslirp.h>
#include <sys/socket.h>

#include <board.h>

#include "host.h"

#define RX_SLOTS 256     /* frames slirp may queue between two polls */
#define SLOT_SIZE 1536   /* an Ethernet frame of a 1500-byte MTU, rounded */
#define POLL_FDS 1024    /* sockets watched per poll; more wait for later */
#define FWD_ARG_MAX 1024 /* the hearth.hostfwd= value */

struct hnet {
	struct netdev nd;
	Slirp *slirp;
	struct host_poll idle_src;
	struct loop_timer wake;      /* slirp's TCP timers want a poll by then */
	uint8_t (*rx_buf)[SLOT_SIZE]; /* RX_SLOTS frames */
	uint16_t rx_len[RX_SLOTS];
	unsigned int rx_head, rx_count;
	struct pollfd fds[POLL_FDS];
	size_t nfds;
	uint64_t rx_ring_full;
};

/* A slirp timer (the IPv6 router advertisements) on the event loop. */
struct htimer {
	struct loop_timer lt;
	SlirpTimerCb cb;
	void *cb_opaque;
};

/* slirp_pollfds_fill's add_poll writes into one of these. */
struct fill_ctx {
	struct pollfd *fds;
	size_t max, n;
};

/* ---- slirp -> device ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct hnet *h = opaque;
	if (len > SLOT_SIZE) {
		h->nd.stats.rx_errors++;
		return (ssize_t)len;
	}
	if (h->rx_count == RX_SLOTS) {
		h->rx_ring_full++;
		h->nd.stats.rx_dropped++;
		return (ssize_t)len; /* TCP retransmits; slirp wants no error here */
	}
	unsigned int i = (h->rx_head + h->rx_count) % RX_SLOTS;
	memcpy(h->rx_buf[i], buf, len);
	h->rx_len[i] = (uint16_t)len;
	h->rx_count++;
	loop_wake(); /* deliver before idling */
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	printf("host-net: slirp: guest error: %s\n", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return (int64_t)time_now_ns();
}

static void htimer_fired(struct loop_timer *lt)
{
	struct htimer *t = (struct htimer *)(void *)((char *)lt - offsetof(struct htimer, lt));
	t->cb(t->cb_opaque);
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	(void)opaque;
	struct htimer *t = calloc(1, sizeof(*t));
	if (!t)
		panic("host-net: out of memory for a slirp timer");
	t->lt.fn = htimer_fired;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	(void)opaque;
	struct htimer *t = timer;
	loop_timer_cancel(&t->lt);
	free(t);
}

/* (expire_ms) is on cb_clock_get_ns's clock, in milliseconds. */
static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	struct htimer *t = timer;
	loop_timer_arm(&t->lt, expire_ms > 0 ? (uint64_t)expire_ms * 1000000u : 0);
}

/* Sockets are found afresh by slirp_pollfds_fill on every poll. */
static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	(void)opaque;
	loop_wake();
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

/* ---- slirp's sockets ---- */

static int add_poll(int fd, int events, void *opaque)
{
	struct fill_ctx *c = opaque;
	if (c->n >= c->max)
		return -1; /* slirp skips it this round */
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	c->fds[c->n].fd = fd;
	c->fds[c->n].events = ev;
	c->fds[c->n].revents = 0;
	return (int)c->n++;
}

static int get_revents(int idx, void *opaque)
{
	struct hnet *h = opaque;
	if (idx < 0 || (size_t)idx >= h->nfds)
		return 0;
	short r = h->fds[idx].revents;
	int ev = 0;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/* For the host clock's idle: the same sockets, so a ready one wakes it. */
static size_t idle_fill(struct host_poll *hp, struct pollfd *fds, size_t max)
{
	struct hnet *h = (struct hnet *)(void *)((char *)hp - offsetof(struct hnet, idle_src));
	struct fill_ctx c = {fds, max, 0};
	uint32_t timeout = UINT32_MAX;
	slirp_pollfds_fill(h->slirp, &timeout, add_poll, &c);
	return c.n;
}

static void wake_fired(struct loop_timer *t)
{
	(void)t; /* the netdev's poll runs right after and does the work */
}

/* Runs slirp's sockets and TCP timers without waiting. */
static void run_slirp(struct hnet *h)
{
	struct fill_ctx c = {h->fds, POLL_FDS, 0};
	uint32_t timeout = UINT32_MAX;
	slirp_pollfds_fill(h->slirp, &timeout, add_poll, &c);
	h->nfds = c.n;
	int n = poll(h->fds, (nfds_t)h->nfds, 0);
	slirp_pollfds_poll(h->slirp, n < 0, get_revents, h);
	if (timeout != UINT32_MAX)
		loop_timer_arm(&h->wake, time_now_ns() + (uint64_t)timeout * 1000000u);
}

/* ---- netdev ops ---- */

static int hnet_tx(struct netdev *nd, const void *frame, size_t len)
{
	struct hnet *h = nd->priv;
	if (len > SLOT_SIZE)
		return -EMSGSIZE;
	slirp_input(h->slirp, frame, (int)len);
	nd->stats.tx_packets++;
	nd->stats.tx_bytes += len;
	loop_wake(); /* slirp may have new sockets or timers: poll it again */
	return 0;
}

static void hnet_poll(struct netdev *nd)
{
	struct hnet *h = nd->priv;
	run_slirp(h);
	/* Only the frames queued now: delivering makes the stack answer,
	 * slirp may queue more, and those wait for the next round. */
	for (unsigned int todo = h->rx_count; todo && h->rx_count; todo--) {
		unsigned int i = h->rx_head;
		h->rx_head = (h->rx_head + 1) % RX_SLOTS;
		h->rx_count--;
		netdev_deliver(nd, h->rx_buf[i], h->rx_len[i]);
	}
	if (h->rx_count)
		loop_wake();
}

static const struct netdev_ops hnet_ops = {
	.tx = hnet_tx,
	.poll = hnet_poll,
};

/* ---- forwarding rules ---- */

/* "ADDR:PORT" with ADDR possibly empty (0.0.0.0). 0 or -EINVAL. */
static int parse_endpoint(char *s, struct in_addr *addr, int *port)
{
	char *colon = strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || p < 1 || p > 65535)
		return -EINVAL;
	*port = (int)p;
	addr->s_addr = htonl(INADDR_ANY);
	if (*s && inet_pton(AF_INET, s, addr) != 1)
		return -EINVAL;
	return 0;
}

/*
 * slirp listens with a backlog of 1, so a burst of connections overflows the
 * host kernel's accept queue and the clients wait out SYN retransmissions
 * (1 s, 3 s, 7 s, ...). Linux lets listen(2) on a listening socket change
 * the backlog: find the new forwarding socket among slirp's and widen it.
 */
static void widen_backlog(struct hnet *h, struct in_addr addr, int port)
{
	struct fill_ctx c = {h->fds, POLL_FDS, 0};
	uint32_t timeout = UINT32_MAX;
	slirp_pollfds_fill(h->slirp, &timeout, add_poll, &c);
	for (size_t i = 0; i < c.n; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		int on = 0;
		socklen_t onlen = sizeof(on);
		if (getsockopt(c.fds[i].fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &onlen) || !on ||
		    getsockname(c.fds[i].fd, (struct sockaddr *)&sa, &len) || sa.sin_family != AF_INET ||
		    sa.sin_port != htons((uint16_t)port) || sa.sin_addr.s_addr != addr.s_addr)
			continue;
		listen(c.fds[i].fd, SOMAXCONN); /* failing, it keeps slirp's backlog */
	}
}

/* One rule "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT". */
static int add_rule(struct hnet *h, char *rule)
{
	int udp;
	if (!strncmp(rule, "tcp:", 4))
		udp = 0;
	else if (!strncmp(rule, "udp:", 4))
		udp = 1;
	else
		return -EINVAL;
	char *host = rule + 4, *dash = strchr(host, '-');
	if (!dash)
		return -EINVAL;
	*dash = '\0';
	struct in_addr haddr, gaddr;
	int hport, gport;
	if (parse_endpoint(host, &haddr, &hport) || parse_endpoint(dash + 1, &gaddr, &gport))
		return -EINVAL;
	char hs[INET_ADDRSTRLEN], gs[INET_ADDRSTRLEN] = "";
	inet_ntop(AF_INET, &haddr, hs, sizeof(hs));
	if (gaddr.s_addr)
		inet_ntop(AF_INET, &gaddr, gs, sizeof(gs));
	if (slirp_add_hostfwd(h->slirp, udp, haddr, hport, gaddr, gport) < 0) {
		printf("host-net: cannot forward %s %s:%d (in use, or not ours to bind)\n",
		       udp ? "udp" : "tcp", hs, hport);
		return -EADDRINUSE;
	}
	if (!udp)
		widen_backlog(h, haddr, hport);
	printf("host-net: forwarding %s %s:%d -> %s:%d\n", udp ? "udp" : "tcp", hs, hport,
	       gs[0] ? gs : "device", gport);
	return 0;
}

static void add_forwards(struct hnet *h, const char *bootargs)
{
	char arg[FWD_ARG_MAX];
	int len = board_bootarg(bootargs, "hearth.hostfwd", arg, sizeof(arg));
	if (len == -ENOSPC)
		printf("host-net: hearth.hostfwd= longer than %d bytes: no forwarding\n",
		       FWD_ARG_MAX - 1);
	if (len <= 0)
		return;
	char *save = NULL;
	for (char *r = strtok_r(arg, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
		char shown[FWD_ARG_MAX];
		snprintf(shown, sizeof(shown), "%s", r);
		int err = add_rule(h, r);
		if (err == -EINVAL)
			printf("host-net: bad forwarding rule '%s' (want "
			       "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)\n",
			       shown);
	}
}

/* ---- probe ---- */

static int hnet_probe(struct device *dev)
{
	struct hnet *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->rx_buf = calloc(RX_SLOTS, SLOT_SIZE);
	if (!h->rx_buf) {
		free(h);
		return -ENOMEM;
	}
	SlirpConfig cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = 1;
	cfg.in_enabled = true;
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
	inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
	cfg.in6_enabled = true;
	inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
	cfg.vprefix_len = 64;
	inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
	inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
	cfg.vhostname = "hearth-host";
	cfg.if_mtu = 1500;
	cfg.if_mru = 1500;
	h->slirp = slirp_new(&cfg, &slirp_cbs, h);
	if (!h->slirp) {
		printf("host-net: slirp_new failed\n");
		free(h->rx_buf);
		free(h);
		return -EIO;
	}
	/* QEMU's first user-network MAC: each process has its own network. */
	memcpy(h->nd.mac, "\x52\x54\x00\x12\x34\x56", 6);
	h->nd.dev = dev;
	h->nd.ops = &hnet_ops;
	h->nd.priv = h;
	h->nd.mtu = 1500;
	h->nd.link_up = true;
	h->wake.fn = wake_fired;
	h->idle_src.fill = idle_fill;
	dev->priv = h;
	printf("host-net: libslirp %s, 10.0.2.0/24 (gateway 10.0.2.2, DNS 10.0.2.3)\n",
	       slirp_version_string());
	add_forwards(h, board_dt_bootargs(dev->fdt));
	int err = netdev_register(&h->nd);
	if (err)
		return err; /* (h) stays: slirp's sockets and timers point at it */
	host_poll_register(&h->idle_src);
	return 0;
}

DRIVER(host_net, hnet_probe, "hearth,host-slirp");
