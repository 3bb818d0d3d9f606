/*
 * httpd.c: the HTTP server core (http_server.c) on lwIP's altcp: HTTPS on
 * port 443 through altcp_tls (mbedTLS), and a plain-HTTP server on port 80
 * that only redirects to HTTPS. A fixed table of connection slots, each
 * with its buffer allocated once at start: when all are busy, a new
 * connection gets a canned 503 and is closed. Received data the core did not
 * consume stays queued and unacknowledged (TCP back-pressure) until the core
 * wants input again. Timeouts tick from a loop timer.
 * Assumes NO_SYS lwIP and the event loop. Leaves out: HTTP/2, IPv6-only
 * redirects with zone ids.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "lwip/tcp.h"

#include <board.h>

#include "http.h"
#include "stack.h"

#define TICK_MS 250

struct slot {
	struct altcp_pcb *pcb;
	struct http_conn http;
	uint8_t *buf;
	struct pbuf *pending; /* received, not yet consumed by the core */
	size_t pending_off;   /* consumed bytes of the first pbuf */
	bool in_use, closing, eof, in_core;
	bool lingering;     /* our FIN is sent; reading and dropping until theirs */
	uint64_t linger_until;
	struct httpd *owner;
};

struct httpd {
	const char *name;
	struct http_server srv;
	struct slot *slots;
	size_t nslots;
	struct altcp_pcb *listener;
	uint64_t refused, accepted;
};

static struct httpd https_srv, http_srv;
static struct loop_timer tick_timer;
static uint64_t boot_ms;

static int64_t wall_seconds(void *arg)
{
	(void)arg;
	return time_wall_valid() ? time_wall_ns() / 1000000000 : -1;
}

/* ---- the transport under the core ---- */

static int io_send(void *ctx, const void *buf, size_t len)
{
	struct slot *s = ctx;
	if (!s->pcb)
		return -EPIPE;
	size_t space = altcp_sndbuf(s->pcb);
	if (altcp_sndqueuelen(s->pcb) >= TCP_SND_QUEUELEN - 4)
		space = 0;
	if (len > space)
		len = space;
	if (len > 0xffff)
		len = 0xffff;
	if (!len)
		return 0;
	err_t e = altcp_write(s->pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY);
	if (e == ERR_MEM)
		return 0;
	if (e != ERR_OK)
		return -EPIPE;
	return (int)len;
}

static size_t io_space(void *ctx)
{
	struct slot *s = ctx;
	if (!s->pcb || altcp_sndqueuelen(s->pcb) >= TCP_SND_QUEUELEN - 4)
		return 0;
	return altcp_sndbuf(s->pcb);
}

static void io_flush(void *ctx)
{
	struct slot *s = ctx;
	if (s->pcb)
		altcp_output(s->pcb);
}

static void io_close(void *ctx)
{
	struct slot *s = ctx;
	s->closing = true; /* done after the core returns (see finish) */
}

static void slot_free(struct slot *s)
{
	if (s->pending)
		pbuf_free(s->pending);
	s->pending = NULL;
	s->pending_off = 0;
	s->pcb = NULL;
	s->in_use = false;
	s->closing = false;
	s->eof = false;
	s->lingering = false;
}

static void hard_close(struct slot *s)
{
	struct altcp_pcb *pcb = s->pcb;
	if (pcb) {
		altcp_arg(pcb, NULL);
		altcp_recv(pcb, NULL);
		altcp_sent(pcb, NULL);
		altcp_err(pcb, NULL);
		altcp_poll(pcb, NULL, 0);
		if (altcp_close(pcb) != ERR_OK)
			altcp_abort(pcb);
	}
	slot_free(s);
}

/* Closes once the core said so; called outside core calls. A lingering
 * close: send our FIN after the response, then read and drop what the peer
 * still sends until its FIN (or a second), so the peer is not reset before
 * it read the response (closing with unread data would send RST). */
static void finish(struct slot *s)
{
	if (!s->closing || !s->in_use || s->in_core || s->lingering)
		return;
	if (!s->pcb) {
		slot_free(s);
		return;
	}
	if (s->pending) {
		altcp_recved(s->pcb, (u16_t)(s->pending->tot_len - s->pending_off));
		pbuf_free(s->pending);
		s->pending = NULL;
		s->pending_off = 0;
	}
	if (s->eof || altcp_shutdown(s->pcb, 0, 1) != ERR_OK) {
		hard_close(s);
		return;
	}
	altcp_output(s->pcb);
	s->lingering = true;
	s->linger_until = time_now_ms() + 1000;
}

/* Feeds queued input while the core wants it. */
static void drain(struct slot *s)
{
	s->in_core = true;
	while (s->pending && !s->closing && http_conn_wants_input(&s->http)) {
		struct pbuf *p = s->pending;
		size_t avail = p->len - s->pending_off;
		size_t used = avail ? http_conn_feed(&s->http, (const uint8_t *)p->payload + s->pending_off,
						     avail)
				    : 0;
		if (used && s->pcb)
			altcp_recved(s->pcb, (u16_t)used);
		s->pending_off += used;
		if (s->pending_off >= p->len) {
			s->pending = p->next;
			if (s->pending)
				pbuf_ref(s->pending);
			pbuf_free(p);
			s->pending_off = 0;
		} else if (used < avail) {
			break; /* the core is busy: keep the rest, unacknowledged */
		}
	}
	if (!s->pending && s->eof && !s->closing) {
		s->eof = false;
		http_conn_eof(&s->http);
	}
	s->in_core = false;
	finish(s);
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct slot *s = arg;
	(void)pcb;
	if (!s) {
		if (p) {
			altcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (!p) { /* FIN */
		s->eof = true;
		if (s->lingering)
			hard_close(s);
		else
			drain(s);
		return ERR_OK;
	}
	if (err != ERR_OK || s->closing) {
		altcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	if (s->pending)
		pbuf_cat(s->pending, p);
	else
		s->pending = p;
	drain(s);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
	struct slot *s = arg;
	(void)pcb;
	(void)len;
	if (!s || s->closing)
		return ERR_OK;
	s->in_core = true;
	http_conn_sent(&s->http);
	s->in_core = false;
	drain(s);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	struct slot *s = arg;
	(void)err;
	if (!s)
		return;
	s->pcb = NULL; /* already freed by lwIP */
	if (!s->closing)
		http_conn_gone(&s->http);
	s->closing = true;
	slot_free(s);
}

static err_t on_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
	struct httpd *h = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct slot *s = NULL;
	for (size_t i = 0; i < h->nslots; i++)
		if (!h->slots[i].in_use) {
			s = &h->slots[i];
			break;
		}
	if (!s) {
		/* Refused cleanly: a 503 and a close. */
		h->refused++;
		altcp_arg(pcb, NULL);
		altcp_recv(pcb, on_recv);
		altcp_write(pcb, http_canned_503, (u16_t)strlen(http_canned_503), TCP_WRITE_FLAG_COPY);
		altcp_output(pcb);
		if (altcp_close(pcb) != ERR_OK)
			altcp_abort(pcb);
		return ERR_OK;
	}
	struct http_io io = {io_send, io_space, io_flush, io_close, s};
	if (http_conn_init(&s->http, &h->srv, &io, s->buf, http_conn_buf_size(&h->srv.lim),
			   time_now_ms())) {
		altcp_abort(pcb);
		return ERR_ABRT;
	}
	h->accepted++;
	s->in_use = true;
	s->closing = s->eof = s->in_core = false;
	s->pcb = pcb;
	s->owner = h;
	altcp_arg(pcb, s);
	altcp_recv(pcb, on_recv);
	altcp_sent(pcb, on_sent);
	altcp_err(pcb, on_err);
	altcp_setprio(pcb, TCP_PRIO_MIN);
	return ERR_OK;
}

static void tick(struct loop_timer *t)
{
	uint64_t now = time_now_ms();
	struct httpd *servers[] = {&https_srv, &http_srv};
	for (size_t k = 0; k < 2; k++) {
		struct httpd *h = servers[k];
		for (size_t i = 0; h->slots && i < h->nslots; i++) {
			struct slot *s = &h->slots[i];
			if (s->in_use && s->lingering && now >= s->linger_until) {
				hard_close(s);
				continue;
			}
			if (!s->in_use || s->closing)
				continue;
			s->in_core = true;
			http_conn_tick(&s->http, now);
			s->in_core = false;
			finish(s);
		}
	}
	loop_timer_arm(t, time_now_ns() + TICK_MS * 1000000ull);
}

static int start(struct httpd *h, const char *name, const struct http_server *srv, size_t nslots,
		 u16_t port, struct altcp_tls_config *tls)
{
	h->name = name;
	h->srv = *srv;
	h->nslots = nslots;
	h->slots = calloc(nslots, sizeof(*h->slots));
	if (!h->slots)
		return -ENOMEM;
	size_t bsz = http_conn_buf_size(&h->srv.lim);
	for (size_t i = 0; i < nslots; i++) {
		h->slots[i].buf = aligned_alloc(8, (bsz + 7) & ~(size_t)7);
		if (!h->slots[i].buf)
			return -ENOMEM;
	}
	struct altcp_pcb *pcb = tls ? altcp_tls_new(tls, IPADDR_TYPE_ANY) : altcp_tcp_new_ip_type(IPADDR_TYPE_ANY);
	if (!pcb)
		return -ENOMEM;
	if (altcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		altcp_close(pcb);
		return -EADDRINUSE;
	}
	struct altcp_pcb *l = altcp_listen_with_backlog(pcb, 16);
	if (!l) {
		altcp_close(pcb);
		return -ENOMEM;
	}
	h->listener = l;
	altcp_arg(l, h);
	altcp_accept(l, on_accept);
	return 0;
}

/* ---- web security for every HTTPS request (docs/security.md) ---- */

/* Every HTTPS response carries these unless its handler set the same
 * header (static files set their own Cache-Control). */
static const char security_headers[] =
	"Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
	"form-action 'self'\r\n"
	"X-Content-Type-Options: nosniff\r\n"
	"Referrer-Policy: no-referrer\r\n"
	"X-Frame-Options: DENY\r\n"
	"Cross-Origin-Opener-Policy: same-origin\r\n"
	"Strict-Transport-Security: max-age=31536000\r\n"
	"Cache-Control: no-store\r\n";

/* Extra host names from hearth.hosts= (comma-separated), e.g. a DNS name
 * the owner gave the device. */
static char extra_hosts[128];

static int lower_eq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return 0;
	}
	return 1;
}

/* Whether the name part (h, n bytes, port and brackets removed) of a Host
 * header names this device. */
static int host_allowed(const char *h, size_t n)
{
	struct net_status st;
	if (n && h[n - 1] == '.') /* "hearth.local." */
		n--;
	if (!n)
		return 0;
	if (lower_eq(h, n, CONFIG_NET_HOSTNAME ".local") || lower_eq(h, n, "localhost") ||
	    lower_eq(h, n, "127.0.0.1") || lower_eq(h, n, "::1"))
		return 1;
	stack_net_status(&st);
	if ((st.ipv4[0] && lower_eq(h, n, st.ipv4)) || (st.ipv6[0][0] && lower_eq(h, n, st.ipv6[0])) ||
	    (st.ipv6[1][0] && lower_eq(h, n, st.ipv6[1])))
		return 1;
	for (const char *e = extra_hosts; *e;) {
		size_t k = strcspn(e, ",");
		if (k == n) {
			char one[sizeof(extra_hosts)];
			memcpy(one, e, k);
			one[k] = 0;
			if (lower_eq(h, n, one))
				return 1;
		}
		e += k + (e[k] == ',');
	}
	return 0;
}

int stack_httpd_host_ok(const char *host)
{
	if (!host)
		return 0;
	size_t n = strlen(host);
	if (host[0] == '[') { /* IPv6 literal, optional :port */
		const char *end = strchr(host, ']');
		if (!end || (end[1] && end[1] != ':'))
			return 0;
		return host_allowed(host + 1, (size_t)(end - host - 1));
	}
	const char *colon = strchr(host, ':');
	if (colon) {
		if (strchr(colon + 1, ':'))
			return 0; /* a bare IPv6 address is not a valid Host */
		for (const char *d = colon + 1; *d; d++)
			if (*d < '0' || *d > '9')
				return 0;
		n = (size_t)(colon - host);
	}
	return host_allowed(host, n);
}

/* Refuses requests whose Host does not name this device (DNS rebinding:
 * a foreign page whose name now resolves to the device). */
static int https_check(const struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (stack_httpd_host_ok(http_req_header(req, "Host")))
		return 0;
	http_resp_json(resp, 421,
		       "{\"error\":{\"code\":\"host_not_allowed\",\"message\":\"this device answers "
		       "only to hearth.local, its own addresses and localhost (Host header)\"}}");
	return 421;
}

int stack_httpd_peer(const struct http_req *req, char *buf, size_t len)
{
	struct httpd *h = &https_srv;
	for (size_t i = 0; h->slots && i < h->nslots; i++) {
		struct slot *s = &h->slots[i];
		if (s->in_use && &s->http == req->conn && s->pcb) {
			ip_addr_t *a = altcp_get_ip(s->pcb, 0);
			if (!a || !ipaddr_ntoa_r(a, buf, (int)len))
				return -EINVAL;
			return 0;
		}
	}
	return -ENOENT;
}

/* The HTTPS port clients reach the device on, when a forward changes it
 * (hearth.https_port=, e.g. make run's 8443); 443 otherwise. */
static unsigned int public_https_port = 443;

/* Port 80: every request is sent to the same host and path over HTTPS. */
static int redirect(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	const char *host = http_req_header(req, "Host");
	char h[256], loc[600];
	if (!host || !*host || strlen(host) >= sizeof(h) || strpbrk(host, " \t\r\n/\\@"))
		return http_resp_json(resp, 400, "{\"error\":{\"code\":\"bad_host\","
						 "\"message\":\"a Host header is required\"}}");
	snprintf(h, sizeof(h), "%s", host);
	/* Drop a port (not inside an IPv6 literal). */
	char *colon = strrchr(h, ':');
	if (colon && (!strchr(h, ']') || colon > strchr(h, ']')))
		*colon = 0;
	char port[8] = "";
	if (public_https_port != 443)
		snprintf(port, sizeof(port), ":%u", public_https_port);
	snprintf(loc, sizeof(loc), "https://%s%s%s%s%s", h, port, req->path, req->query[0] ? "?" : "",
		 req->query);
	http_resp_status(resp, 301);
	http_resp_header(resp, "Location", loc);
	return http_resp_json(resp, 301, "{\"redirect\":\"https\"}");
}

static const struct http_route redirect_routes[] = {
	{.method = "GET", .path = "/", .flags = HTTP_ROUTE_PREFIX, .handler = redirect},
	{.method = "POST", .path = "/", .flags = HTTP_ROUTE_PREFIX, .handler = redirect},
	{.method = "PUT", .path = "/", .flags = HTTP_ROUTE_PREFIX, .handler = redirect},
	{.method = "DELETE", .path = "/", .flags = HTTP_ROUTE_PREFIX, .handler = redirect},
};

int stack_httpd_start(const struct http_route *routes, size_t nroutes, size_t max_conns)
{
	struct http_server srv;
	memset(&srv, 0, sizeof(srv));
	http_limits_default(&srv.lim);
	srv.wall_clock = wall_seconds;
	srv.server_name = "Hearth";
	boot_ms = time_now_ms();

	/* Limits the bootargs may tighten (tests): hearth.http.idle_ms=,
	 * hearth.http.header_ms=, hearth.http.max_body= */
	char v[24];
	const char *args = board_dt_bootargs(board_fdt());
	if (board_bootarg(args, "hearth.http.idle_ms", v, sizeof(v)) > 0)
		srv.lim.idle_timeout_ms = (uint32_t)strtoul(v, NULL, 10);
	if (board_bootarg(args, "hearth.http.header_ms", v, sizeof(v)) > 0)
		srv.lim.header_timeout_ms = (uint32_t)strtoul(v, NULL, 10);
	if (board_bootarg(args, "hearth.http.max_body", v, sizeof(v)) > 0)
		srv.lim.max_body = strtoull(v, NULL, 10);
	if (board_bootarg(args, "hearth.https_port", v, sizeof(v)) > 0) {
		unsigned long p = strtoul(v, NULL, 10);
		if (p > 0 && p < 65536)
			public_https_port = (unsigned int)p;
	}

	struct altcp_tls_config *tls = stack_tls_server_config();
	if (!tls) {
		printf("httpd: no TLS identity: HTTPS is off\n");
		return -EIO;
	}
	board_bootarg(args, "hearth.hosts", extra_hosts, sizeof(extra_hosts));
	srv.routes = routes;
	srv.nroutes = nroutes;
	srv.default_headers = security_headers;
	srv.check = https_check;
	int err = start(&https_srv, "https", &srv, max_conns, 443, tls);
	if (err) {
		printf("httpd: cannot serve HTTPS on port 443 (%d)\n", err);
		return err;
	}
	srv.default_headers = NULL;
	srv.check = NULL;
	srv.routes = redirect_routes;
	srv.nroutes = sizeof(redirect_routes) / sizeof(redirect_routes[0]);
	srv.lim.max_body = 0;
	err = start(&http_srv, "http", &srv, 4, 80, NULL);
	if (err)
		printf("httpd: cannot serve the HTTP redirect on port 80 (%d)\n", err);
	tick_timer.fn = tick;
	loop_timer_arm(&tick_timer, time_now_ns() + TICK_MS * 1000000ull);
	return 0;
}

/* A new TLS configuration (reissued certificate) for new connections. */
int stack_httpd_retls(void)
{
	/* altcp_tls binds its configuration at listen time: listen again. */
	if (!https_srv.listener)
		return -ENOENT;
	struct altcp_tls_config *tls = stack_tls_server_config();
	struct altcp_pcb *pcb = altcp_tls_new(tls, IPADDR_TYPE_ANY);
	if (!pcb)
		return -ENOMEM;
	altcp_close(https_srv.listener);
	https_srv.listener = NULL;
	if (altcp_bind(pcb, IP_ANY_TYPE, 443) != ERR_OK) {
		altcp_close(pcb);
		return -EADDRINUSE;
	}
	struct altcp_pcb *l = altcp_listen_with_backlog(pcb, 16);
	if (!l) {
		altcp_close(pcb);
		return -ENOMEM;
	}
	https_srv.listener = l;
	altcp_arg(l, &https_srv);
	altcp_accept(l, on_accept);
	return 0;
}

void stack_httpd_stats(struct httpd_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->accepted = https_srv.accepted + http_srv.accepted;
	st->refused = https_srv.refused + http_srv.refused;
	for (size_t i = 0; https_srv.slots && i < https_srv.nslots; i++)
		st->open += https_srv.slots[i].in_use;
	st->max = https_srv.nslots;
}
