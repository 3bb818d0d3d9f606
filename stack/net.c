/*
 * net.c: lwIP on Hearth's netdevs. Each netdev becomes an lwIP netif; frames
 * cross the boundary by copy (netdev_deliver -> pbuf, pbuf -> netdev tx).
 * IPv4 by DHCP or a static address (Kconfig, overridden by bootargs
 * hearth.ip=ADDR/PREFIX|dhcp, hearth.gw=, hearth.dns=), IPv6 link-local and
 * SLAAC, DNS, SNTP (sets the wall clock; server from DHCP, Kconfig or
 * hearth.ntp=), mDNS (NAME.local and an _https._tcp service). lwIP's timers
 * run from the event loop: a poller checks them and a loop timer wakes the
 * loop when the next one is due.
 * Assumes NO_SYS=1: nothing here runs in interrupt context.
 * Leaves out: several default routes, DHCPv6, VLANs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/apps/mdns.h"
#include "lwip/apps/sntp.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include <board.h>

#include "stack.h"

#define MAX_NIFS 4

struct nif {
	struct netif netif;
	struct netdev *nd;
	bool dhcp;
};

#define LEASE_WARN_NS 20000000000ull

static struct nif nifs[MAX_NIFS];
static ip_addr_t static_dns;
static bool have_static_dns;
static size_t nnifs;
static struct loop_poller timer_poller;
static struct loop_timer lwip_timer, lease_timer;
static bool sntp_synced;
static void (*change_fn)(void);
static netif_ext_callback_t ext_cb;

uint32_t stack_rand32(void)
{
	uint32_t r;
	if (stack_random(&r, sizeof(r)) && rng_read(&r, sizeof(r)))
		r = (uint32_t)time_now_ns() * 2654435761u; /* only before any rng: boot order bug */
	return r;
}

uint32_t sys_now(void)
{
	return (uint32_t)time_now_ms();
}

void stack_sntp_set_time(uint32_t sec, uint32_t frac)
{
	/* NTP era 0 seconds to Unix seconds (valid until 2106), as lwIP does. */
	uint32_t unix_sec = sec + 2085978496u;
	int64_t ns = (int64_t)unix_sec * 1000000000ll + (int64_t)(((uint64_t)frac * 1000000000ull) >> 32);
	bool first = !sntp_synced;
	time_wall_set(ns);
	sntp_synced = true;
	if (first)
		printf("net: clock set by SNTP: %" PRIu32 " (Unix time)\n", unix_sec);
}

/* ---- frames in and out ---- */

static err_t nif_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct nif *n = netif->state;
	uint8_t frame[1536];
	if (p->tot_len > sizeof(frame)) {
		n->nd->stats.tx_dropped++;
		return ERR_BUF;
	}
	pbuf_copy_partial(p, frame, p->tot_len, 0);
	int err = n->nd->ops->tx(n->nd, frame, p->tot_len);
	if (err) {
		n->nd->stats.tx_dropped++;
		return err == -EAGAIN ? ERR_MEM : ERR_IF;
	}
	return ERR_OK;
}

static void nif_rx(struct netdev *nd, const void *frame, size_t len)
{
	struct nif *n = nd->stack_priv;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (!p) {
		nd->stats.rx_dropped++;
		return;
	}
	pbuf_take(p, frame, (u16_t)len);
	if (n->netif.input(p, &n->netif) != ERR_OK) {
		pbuf_free(p);
		nd->stats.rx_dropped++;
	}
}

static void nif_link_changed(struct netdev *nd)
{
	struct nif *n = nd->stack_priv;
	if (nd->link_up)
		netif_set_link_up(&n->netif);
	else
		netif_set_link_down(&n->netif);
}

static err_t nif_init(struct netif *netif)
{
	struct nif *n = netif->state;
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->hwaddr_len = 6;
	memcpy(netif->hwaddr, n->nd->mac, 6);
	netif->mtu = n->nd->mtu;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = nif_linkoutput;
#if LWIP_NETIF_HOSTNAME
	netif->hostname = CONFIG_NET_HOSTNAME;
#endif
	return ERR_OK;
}

/* ---- timers ---- */

static void lwip_timer_fired(struct loop_timer *t)
{
	(void)t; /* the poller runs right after: it does the work */
}

/* A DHCP interface still without an address LEASE_WARN_NS after boot says
 * so once, with what went over the wire: the owner sees why nothing answers. */
static void lease_check(struct loop_timer *t)
{
	(void)t;
	for (size_t i = 0; i < nnifs; i++) {
		struct nif *n = &nifs[i];
		if (!n->dhcp || !ip4_addr_isany_val(*netif_ip4_addr(&n->netif)))
			continue;
		struct dhcp *d = netif_dhcp_data(&n->netif);
		printf("net: %s: no DHCP lease yet (link %s; %" PRIu64 " frames sent, %" PRIu64
		       " received, %" PRIu64 " dropped, %" PRIu64 " tx busy; DHCP state %d, try %d); still trying\n",
		       n->nd->name, n->nd->link_up ? "up" : "down", n->nd->stats.tx_packets,
		       n->nd->stats.rx_packets, n->nd->stats.rx_dropped + n->nd->stats.tx_dropped,
		       n->nd->stats.tx_busy, d ? d->state : -1, d ? d->tries : -1);
	}
}

static void timers_poll(void *arg)
{
	(void)arg;
	sys_check_timeouts();
	u32_t sleep = sys_timeouts_sleeptime();
	if (sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		sleep = 1000;
	loop_timer_arm(&lwip_timer, time_now_ns() + (uint64_t)sleep * 1000000u);
}

/* ---- status ---- */

static const char *ifname(struct netif *netif)
{
	struct nif *n = netif->state;
	return n && n->nd ? n->nd->name : "?";
}

static void report(struct netif *netif, netif_nsc_reason_t reason,
		   const netif_ext_callback_args_t *args)
{
	(void)args;
	char a[48], m[16], g[16];
	if (reason & (LWIP_NSC_IPV4_ADDRESS_CHANGED | LWIP_NSC_IPV4_SETTINGS_CHANGED)) {
		if (!ip4_addr_isany_val(*netif_ip4_addr(netif))) {
			ip4addr_ntoa_r(netif_ip4_addr(netif), a, sizeof(a));
			ip4addr_ntoa_r(netif_ip4_netmask(netif), m, sizeof(m));
			ip4addr_ntoa_r(netif_ip4_gw(netif), g, sizeof(g));
			printf("net: %s IPv4 %s netmask %s gateway %s\n", ifname(netif), a, m, g);
		}
	}
	if (reason & LWIP_NSC_IPV6_ADDR_STATE_CHANGED) {
		for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
			if (ip6_addr_isvalid(netif_ip6_addr_state(netif, i)) && args &&
			    args->ipv6_addr_state_changed.addr_index == i) {
				ip6addr_ntoa_r(netif_ip6_addr(netif, i), a, sizeof(a));
				printf("net: %s IPv6 %s\n", ifname(netif), a);
			}
		}
	}
	/* The first query went out before there was an address: ask again now
	 * rather than after SNTP's retry timeout. */
	if (!sntp_synced && (reason & LWIP_NSC_IPV4_ADDRESS_CHANGED) &&
	    !ip4_addr_isany_val(*netif_ip4_addr(netif)) && sntp_enabled()) {
		sntp_stop();
		sntp_init();
	}
	/* DHCP hands out DNS servers; a configured one wins. */
	if (have_static_dns && (reason & (LWIP_NSC_IPV4_ADDRESS_CHANGED | LWIP_NSC_IPV4_SETTINGS_CHANGED)))
		dns_setserver(0, &static_dns);
	if ((reason & (LWIP_NSC_IPV4_ADDRESS_CHANGED | LWIP_NSC_IPV6_ADDR_STATE_CHANGED |
		       LWIP_NSC_IPV4_SETTINGS_CHANGED)) &&
	    change_fn)
		change_fn();
}

void stack_net_on_change(void (*fn)(void))
{
	change_fn = fn;
}

void stack_net_status(struct net_status *st)
{
	memset(st, 0, sizeof(*st));
	if (!nnifs)
		return;
	struct nif *n = &nifs[0];
	struct netif *netif = &n->netif;
	snprintf(st->ifname, sizeof(st->ifname), "%s", n->nd->name);
	const uint8_t *mac = n->nd->mac;
	snprintf(st->mac, sizeof(st->mac), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	ip4addr_ntoa_r(netif_ip4_addr(netif), st->ipv4, sizeof(st->ipv4));
	ip4addr_ntoa_r(netif_ip4_netmask(netif), st->netmask, sizeof(st->netmask));
	ip4addr_ntoa_r(netif_ip4_gw(netif), st->gateway, sizeof(st->gateway));
	int k = 0;
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES && k < 2; i++)
		if (ip6_addr_isvalid(netif_ip6_addr_state(netif, i)))
			ip6addr_ntoa_r(netif_ip6_addr(netif, i), st->ipv6[k++], sizeof(st->ipv6[0]));
	st->up = netif_is_link_up(netif) && !ip4_addr_isany_val(*netif_ip4_addr(netif));
	st->dhcp = n->dhcp;
	st->time_synced = sntp_synced;
}

/* ---- configuration ---- */

static int parse_prefix(const char *s, ip4_addr_t *addr, ip4_addr_t *mask)
{
	char buf[48];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	char *slash = strchr(buf, '/');
	int prefix = 24;
	if (slash) {
		*slash = 0;
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (*end || v < 1 || v > 32)
			return -EINVAL;
		prefix = (int)v;
	}
	if (!ip4addr_aton(buf, addr))
		return -EINVAL;
	ip4_addr_set_u32(mask, lwip_htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix)));
	return 0;
}

static void setting(const char *bootargs, const char *key, const char *dflt, char *out, size_t len)
{
	if (board_bootarg(bootargs, key, out, len) < 0)
		snprintf(out, len, "%s", dflt);
}

int stack_net_init(const char *bootargs)
{
	char ip[40], gw[40], dns[40], ntp[64];
	setting(bootargs, "hearth.ip", CONFIG_NET_STATIC_IP, ip, sizeof(ip));
	setting(bootargs, "hearth.gw", CONFIG_NET_STATIC_GW, gw, sizeof(gw));
	setting(bootargs, "hearth.dns", CONFIG_NET_STATIC_DNS, dns, sizeof(dns));
	setting(bootargs, "hearth.ntp", CONFIG_NET_NTP_SERVER, ntp, sizeof(ntp));
	bool use_dhcp = !ip[0] || !strcmp(ip, "dhcp");

	if (!netdev_count()) {
		printf("net: no network device; networking is off\n");
		return -ENODEV;
	}
	lwip_init();
	netif_add_ext_callback(&ext_cb, report);

	ip4_addr_t addr, mask, gwa;
	ip4_addr_set_zero(&addr);
	ip4_addr_set_zero(&mask);
	ip4_addr_set_zero(&gwa);
	if (!use_dhcp) {
		if (parse_prefix(ip, &addr, &mask)) {
			printf("net: bad static address '%s' (want A.B.C.D/PREFIX); using DHCP\n", ip);
			use_dhcp = true;
			ip4_addr_set_zero(&addr);
			ip4_addr_set_zero(&mask);
		} else if (gw[0] && !ip4addr_aton(gw, &gwa)) {
			printf("net: bad gateway '%s'; none set\n", gw);
			ip4_addr_set_zero(&gwa);
		}
	}
	for (size_t i = 0; i < netdev_count() && nnifs < MAX_NIFS; i++) {
		struct nif *n = &nifs[nnifs];
		n->nd = netdev_get(i);
		n->nd->stack_priv = n;
		/* Only the first interface gets the static address; others DHCP. */
		bool stat = !use_dhcp && nnifs == 0;
		if (!netif_add(&n->netif, stat ? &addr : IP4_ADDR_ANY4, stat ? &mask : IP4_ADDR_ANY4,
			       stat ? &gwa : IP4_ADDR_ANY4, n, nif_init, ethernet_input)) {
			printf("net: %s: netif_add failed\n", n->nd->name);
			continue;
		}
		n->nd->rx = nif_rx;
		n->nd->link_changed = nif_link_changed;
		nnifs++;
		if (nnifs == 1)
			netif_set_default(&n->netif);
		netif_create_ip6_linklocal_address(&n->netif, 1);
		netif_set_ip6_autoconfig_enabled(&n->netif, 1);
		netif_set_up(&n->netif);
		if (n->nd->link_up)
			netif_set_link_up(&n->netif);
		n->dhcp = !stat;
		if (n->dhcp)
			dhcp_start(&n->netif);
		const uint8_t *m = n->nd->mac;
		printf("net: %s MAC %02x:%02x:%02x:%02x:%02x:%02x, %s, link %s\n", n->nd->name, m[0],
		       m[1], m[2], m[3], m[4], m[5], n->dhcp ? "DHCP" : ip,
		       n->nd->link_up ? "up" : "down");
	}
	if (!nnifs)
		return -ENODEV;
	if (dns[0]) {
		if (ipaddr_aton(dns, &static_dns)) {
			have_static_dns = true;
			dns_setserver(0, &static_dns);
		} else
			printf("net: bad DNS server '%s'\n", dns);
	}

	sntp_setoperatingmode(SNTP_OPMODE_POLL);
	if (ntp[0]) {
		static char ntp_name[64];
		snprintf(ntp_name, sizeof(ntp_name), "%s", ntp);
		sntp_setservername(0, ntp_name);
	} else {
		sntp_servermode_dhcp(1);
	}
	sntp_init();

	mdns_resp_init();
	for (size_t i = 0; i < nnifs; i++) {
		mdns_resp_add_netif(&nifs[i].netif, CONFIG_NET_HOSTNAME, 120);
		mdns_resp_add_service(&nifs[i].netif, CONFIG_NET_HOSTNAME, "_https", DNSSD_PROTO_TCP,
				      443, 120, NULL, NULL);
	}

	timer_poller.fn = timers_poll;
	loop_poller_add(&timer_poller);
	lwip_timer.fn = lwip_timer_fired;
	lease_timer.fn = lease_check;
	loop_timer_arm(&lease_timer, LEASE_WARN_NS);
	return 0;
}
