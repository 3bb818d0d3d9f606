/*
 * stack.h: the network and TLS layer's interface: bring the network up on
 * every netdev (lwIP), the device's TLS identity, and the state health
 * reports. Everything runs from the event loop.
 * The HTTP core itself is in http.h.
 */
#ifndef STACK_H
#define STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* stack/net.c */
/* Starts lwIP on every registered netdev: DHCP or the static address
 * (Kconfig, overridden by hearth.ip=/gw=/dns=), IPv6 link-local + SLAAC,
 * DNS, SNTP, mDNS. 0, or -ENODEV when there is no network device. */
int stack_net_init(const char *bootargs);
struct net_status {
	bool up;            /* link up and an IPv4 address */
	char ifname[8];
	char mac[18];
	char ipv4[16], netmask[16], gateway[16];
	char ipv6[2][48];   /* link-local, global (or "") */
	bool dhcp;
	bool time_synced;   /* SNTP has set the clock */
};
void stack_net_status(struct net_status *st);
/* Calls (fn) whenever an address is added or removed. */
void stack_net_on_change(void (*fn)(void));

/* stack/tls.c */
/* Checks the entropy source and seeds the DRBG; fails (-EIO) without a
 * working rng: then nothing is served over TLS. */
int stack_tls_init(void);
/* The device's identity: makes the ECDSA P-256 key on first use and a
 * self-signed certificate for hearth.local and the current addresses.
 * Fills the SHA-256 fingerprint of the certificate ("AB:CD:...") and the
 * SPKI pin ("sha256//base64"). 0 or -errno. */
int stack_tls_identity(char *fingerprint, size_t fplen, char *pin, size_t pinlen);
/* Where the identity is kept across boots (the hub gives its store):
 * load fills (buf) of (*len) bytes and sets *len, 0 or -errno (-ENOENT when
 * absent); save stores (len) bytes durably, 0 or -errno. Without these the
 * identity lives only in memory. Keys: "tls.key", "tls.cert", "tls.addrs". */
struct tls_persist {
	int (*load)(const char *key, void *buf, size_t *len);
	int (*save)(const char *key, const void *buf, size_t len);
};
void stack_tls_set_persist(const struct tls_persist *p);
/* DER of the current certificate (valid until the next reissue). */
const uint8_t *stack_tls_cert(size_t *len);
/* Reissues the certificate for the current addresses (same key). */
int stack_tls_reissue(void);
/* The server configuration lwIP's altcp_tls uses (NULL before identity). */
struct altcp_tls_config *stack_tls_server_config(void);
/* Random bytes from the DRBG (seeded from the rng). */
int stack_random(void *buf, size_t len);

/* stack/httpd.c */
struct http_route;
/* Serves (routes) over HTTPS on port 443 with at most (max_conns) open
 * connections (more get a 503), and a redirect to HTTPS on port 80. Needs
 * the TLS identity first. (routes) must live forever. */
int stack_httpd_start(const struct http_route *routes, size_t nroutes, size_t max_conns);
/* Listens again with the current TLS configuration (after a reissue). */
int stack_httpd_retls(void);
/* Whether Host header value (host) names this device: hearth.local, its
 * current IPv4/IPv6 addresses, localhost, 127.0.0.1, [::1], or a name from
 * hearth.hosts=, with any port. Every HTTPS request with another Host gets
 * 421 (DNS rebinding). */
int stack_httpd_host_ok(const char *host);
/* The peer address of (req)'s HTTPS connection as text: 0, -ENOENT. */
struct http_req;
int stack_httpd_peer(const struct http_req *req, char *buf, size_t len);
struct httpd_stats {
	uint64_t accepted, refused;
	unsigned int open, max;
};
void stack_httpd_stats(struct httpd_stats *st);

#endif
