/*
 * net.c: the hub's side of networking: start the stack, and when the first
 * IPv4 address arrives make (or reissue) the TLS identity for it, print the
 * certificate fingerprint and the URL, and start serving. A later address
 * change reissues the certificate (same key) and says so.
 * Leaves out: serving before an address exists (there is no one to serve).
 */
#include <stdio.h>
#include <string.h>

#include <board.h>

#include "../stack/stack.h"
#include "hub.h"
#include "lwip/dns.h"
#ifdef CONFIG_STORE
#include "store/store.h"

static int kv_load(const char *key, void *buf, size_t *len)
{
	return store_kv_get(key, buf, len);
}

static int kv_save(const char *key, const void *buf, size_t len)
{
	return store_kv_put(key, buf, &len);
}

static const struct tls_persist persist = {kv_load, kv_save};
#endif

static bool tls_ok, identity_done;
static char last_ipv4[16];

static void on_change(void)
{
	struct net_status st;
	char fp[100], pin[64];
	stack_net_status(&st);
	if (!st.up || !strcmp(st.ipv4, last_ipv4))
		return;
	snprintf(last_ipv4, sizeof(last_ipv4), "%s", st.ipv4);
	if (!tls_ok)
		return;
	int err = identity_done ? stack_tls_reissue() : 0;
	if (!err)
		err = stack_tls_identity(fp, sizeof(fp), pin, sizeof(pin));
	if (err) {
		printf("hearth: no TLS identity (%d): HTTPS is off\n", err);
		return;
	}
	printf("hearth: TLS certificate SHA-256 fingerprint %s\n", fp);
	printf("hearth: TLS public key pin %s\n", pin);
	if (!identity_done) {
		if (hub_api_start() == 0)
			printf("hearth: serving https://%s/ and https://" CONFIG_NET_HOSTNAME ".local/\n",
			       st.ipv4);
	} else {
		stack_httpd_retls();
		printf("hearth: address changed: certificate reissued\n");
	}
	identity_done = true;
}

#ifdef CONFIG_TEST_HOOKS
/* hearth.test=dns:NAME: resolve NAME once the network is up, print
 * DNS-OK NAME ADDR or DNS-ERR NAME (for the end-to-end tests). */
static char dns_name[80];
static struct loop_timer dns_timer;

static void dns_found(const char *name, const ip_addr_t *addr, void *arg)
{
	(void)arg;
	char a[48];
	if (addr)
		printf("DNS-OK %s %s\n", name, ipaddr_ntoa_r(addr, a, sizeof(a)));
	else
		printf("DNS-ERR %s\n", name);
}

static void dns_try(struct loop_timer *t)
{
	struct net_status st;
	ip_addr_t addr;
	stack_net_status(&st);
	if (!st.up) {
		loop_timer_arm(t, time_now_ns() + 100000000ull);
		return;
	}
	err_t e = dns_gethostbyname(dns_name, &addr, dns_found, NULL);
	if (e == ERR_OK)
		dns_found(dns_name, &addr, NULL);
	else if (e != ERR_INPROGRESS)
		printf("DNS-ERR %s\n", dns_name);
}
#endif

void hub_net_start(const char *bootargs)
{
	if (stack_net_init(bootargs))
		return;
	tls_ok = stack_tls_init() == 0;
#ifdef CONFIG_STORE
	struct store_status ss;
	if (store_status(&ss) == 0 && (ss.state == STORE_OK || ss.state == STORE_READONLY))
		stack_tls_set_persist(&persist);
#endif
	stack_net_on_change(on_change);
#ifdef CONFIG_TEST_HOOKS
	char v[80];
	if (board_bootarg(bootargs, "hearth.test", v, sizeof(v)) > 4 && !strncmp(v, "dns:", 4)) {
		snprintf(dns_name, sizeof(dns_name), "%s", v + 4);
		dns_timer.fn = dns_try;
		loop_timer_arm(&dns_timer, time_now_ns());
	}
#endif
}
