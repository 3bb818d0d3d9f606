/*
 * netdev.c: the network device class. Drivers register a struct netdev
 * (MAC, MTU, ops); the stack finds them here and attaches its receive and
 * link callbacks. Frames are copied at this boundary in both directions, so
 * neither side holds the other's buffers. A registered device's poll op is
 * run from the event loop. Leaves out: offloads, multiple queues.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <board.h>

#define MAX_NETDEVS 4
static struct netdev *devs[MAX_NETDEVS];
static size_t ndevs;
static struct loop_poller pollers[MAX_NETDEVS];

static void poll_one(void *arg)
{
	struct netdev *nd = arg;
	nd->ops->poll(nd);
}

int netdev_register(struct netdev *nd)
{
	static const char *const names[MAX_NETDEVS] = {"eth0", "eth1", "eth2", "eth3"};
	if (!nd->ops || !nd->ops->tx || !nd->ops->poll)
		panic("netdev %s: tx and poll ops are required",
		      nd->dev && nd->dev->drv ? nd->dev->drv->name : "?");
	if (ndevs >= MAX_NETDEVS)
		return -ENOSPC;
	if (!nd->mtu)
		nd->mtu = 1500;
	nd->name = names[ndevs];
	pollers[ndevs].fn = poll_one;
	pollers[ndevs].arg = nd;
	loop_poller_add(&pollers[ndevs]);
	devs[ndevs++] = nd;
	return 0;
}

size_t netdev_count(void)
{
	return ndevs;
}

struct netdev *netdev_get(size_t i)
{
	return i < ndevs ? devs[i] : NULL;
}

void netdev_deliver(struct netdev *nd, const void *frame, size_t len)
{
	if (len < 14 || len > (size_t)nd->mtu + 18u) {
		nd->stats.rx_errors++;
		return;
	}
	nd->stats.rx_packets++;
	nd->stats.rx_bytes += len;
	if (nd->rx)
		nd->rx(nd, frame, len);
	else
		nd->stats.rx_dropped++;
}

void netdev_set_link(struct netdev *nd, bool up)
{
	if (nd->link_up == up)
		return;
	nd->link_up = up;
	if (nd->link_changed)
		nd->link_changed(nd);
}
