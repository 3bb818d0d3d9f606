/*
 * https_client.c: the HTTPS client (see https_client.h). A fixed table of
 * request slots; each request is one connection: DNS (or a literal address),
 * altcp_tls over TCP, the certificate checked by us once the handshake is
 * done and before a byte of the request is written, the request (with
 * "Connection: close"), then an incremental response parser that copies the
 * body into the caller's buffer.
 *
 * Certificate checking: lwIP's altcp_tls_mbedtls makes its configurations
 * with MBEDTLS_SSL_VERIFY_OPTIONAL and keeps them private, so the shared
 * client configuration here has no CA at all, and the handshake's own verdict
 * is only used for what it checks beyond the chain (key usage). The real
 * check is mbedtls_x509_crt_verify_with_profile of the peer's chain against
 * the request's trust anchors (the built-in bundle or its own CA) and its
 * host, then the pin. Any failure aborts the connection: nothing is sent.
 *
 * Timeouts: one loop timer per slot. While connecting it ticks every 100 ms
 * to see when TCP is established (the TLS layer only reports the end of the
 * handshake), so the TCP and the TLS phases get their own limits.
 *
 * Assumes NO_SYS lwIP, the event loop, the bundle embedded by
 * stack/cabundle.mk (stack_cabundle, stack_cabundle_end, stack_cabundle_version).
 * Leaves out: a truncation check for read-to-close bodies (lwIP's altcp_tls
 * reports a close_notify and a bare FIN alike), CRL/OCSP.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lwip/altcp.h"
#include "lwip/altcp_tls.h"
#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/tcp.h"
#include "mbedtls/base64.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include <board.h>

#include "https_client.h"
#include "stack.h"

#define TX_MAX 2048       /* request line and headers */
#define RESP_LINE_MAX 2048 /* one response line kept (longer ones: see header_line) */
#define VALS_MAX 1024     /* values of the wanted headers */
#define HOST_MAX 254
#define PATH_MAX_ 1024
#define HEADER_SECTION_MAX (32 * 1024)
#define TICK_MS 100

/* The CA bundle, DER certificates back to back (stack/cabundle.mk). */
extern const uint8_t stack_cabundle[], stack_cabundle_end[];
extern const char stack_cabundle_version[];

enum phase {
	PH_FREE,
	PH_DNS,       /* waiting for the resolver */
	PH_CONNECT,   /* TCP and TLS handshake (see tcp_established) */
	PH_SEND,      /* writing the request */
	PH_RECV,      /* reading the response */
	PH_FINISHED,  /* result ready; done runs from the timer */
};

enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

enum pstate {
	P_STATUS,
	P_HEADERS,
	P_BODY,
	P_CHUNK_SIZE,
	P_CHUNK_DATA,
	P_CHUNK_CRLF,
	P_TRAILERS,
	P_DONE,
};

struct slot {
	enum phase phase;
	int id;
	struct https_request req;
	https_done_fn done;
	void *arg;
	struct loop_timer timer;
	uint64_t deadline_ns; /* of the current phase */
	bool tcp_up;          /* PH_CONNECT: TCP established, TLS under way */
	struct altcp_pcb *pcb;

	/* Target */
	char host[HOST_MAX + 1];
	bool host_is_ip;
	ip_addr_t host_ip;   /* when host_is_ip */
	ip_addr_t addr;      /* where to connect */
	bool have_connect_to;
	uint16_t port;
	char path[PATH_MAX_ + 1];
	bool post;
	unsigned int redirects_left;

	/* Trust */
	mbedtls_x509_crt own_ca; /* when req.ca was given */
	bool have_own_ca;
	uint8_t pin[32];
	bool have_pin;

	/* Request */
	char tx[TX_MAX];
	size_t tx_len, tx_off, body_off;
	char extra[TX_MAX]; /* the caller's extra header lines, kept for redirects */
	size_t extra_len;

	/* Response */
	enum pstate ps;
	char line[RESP_LINE_MAX];
	size_t line_len;
	bool line_over; /* the line was longer than LINE_MAX - 1 */
	size_t header_bytes;
	enum body_mode mode;
	uint64_t remaining; /* BODY_LENGTH / chunk bytes left */
	bool have_length;
	uint64_t length;
	char vals[VALS_MAX];
	size_t vals_len;
	char location[PATH_MAX_ + 1];
	size_t body_len;

	/* Result */
	struct https_response resp;
	int err;
};

static struct slot slots[HTTPS_MAX_REQUESTS];
static int next_id = 1;
static struct altcp_tls_config *client_conf;

static mbedtls_x509_crt bundle;
static bool bundle_tried;
static size_t bundle_loaded, bundle_skipped;

/* ---- small helpers ---- */

static struct slot *timer_slot(struct loop_timer *t)
{
	return (struct slot *)(void *)((char *)t - offsetof(struct slot, timer));
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ieq(const char *a, const char *b, size_t blen)
{
	size_t i;
	for (i = 0; i < blen; i++)
		if (!a[i] || lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return a[i] == 0;
}

static bool has_token(const char *v, const char *tok)
{
	/* A comma-separated list contains (tok), case-insensitively. */
	size_t tl = strlen(tok);
	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		const char *s = v;
		while (*v && *v != ',')
			v++;
		const char *e = v;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == tl && !strncasecmp(s, tok, tl))
			return true;
	}
	return false;
}

/* ---- the CA bundle ---- */

static void bundle_load(void)
{
	if (bundle_tried)
		return;
	bundle_tried = true;
	mbedtls_x509_crt_init(&bundle);
	const uint8_t *p = stack_cabundle, *end = stack_cabundle_end;
	while (p + 4 <= end) {
		/* Each certificate is one DER SEQUENCE: its length says where it ends. */
		size_t len, hdr;
		if (p[0] != 0x30)
			break;
		if (p[1] < 0x80) {
			len = p[1];
			hdr = 2;
		} else if (p[1] == 0x81) {
			len = p[2];
			hdr = 3;
		} else if (p[1] == 0x82) {
			len = (size_t)p[2] << 8 | p[3];
			hdr = 4;
		} else {
			break;
		}
		if (len + hdr > (size_t)(end - p))
			break;
		/* nocopy: the chain points into the image's rodata. */
		if (mbedtls_x509_crt_parse_der_nocopy(&bundle, p, len + hdr) == 0)
			bundle_loaded++;
		else
			bundle_skipped++; /* an algorithm this build leaves out */
		p += len + hdr;
	}
	if (p != end)
		printf("https: the CA bundle is damaged after %zu certificates\n", bundle_loaded);
	printf("https: CA bundle (ca-certificates %s): %zu certificates, %zu skipped\n",
	       stack_cabundle_version, bundle_loaded, bundle_skipped);
}

int https_ca_bundle_info(size_t *loaded, size_t *skipped, const char **version)
{
	bundle_load();
	if (loaded)
		*loaded = bundle_loaded;
	if (skipped)
		*skipped = bundle_skipped;
	if (version)
		*version = stack_cabundle_version;
	return bundle_loaded ? 0 : -ENOENT;
}

/* ---- URL ---- */

static int parse_url(struct slot *s, const char *url)
{
	if (!url || strncasecmp(url, "https://", 8))
		return -EINVAL;
	const char *a = url + 8, *e = a;
	while (*e && *e != '/' && *e != '?' && *e != '#')
		e++;
	const char *hs = a, *he, *portp = NULL;
	if (*a == '[') {
		const char *rb = memchr(a, ']', (size_t)(e - a));
		if (!rb)
			return -EINVAL;
		hs = a + 1;
		he = rb;
		if (rb + 1 < e) {
			if (rb[1] != ':')
				return -EINVAL;
			portp = rb + 2;
		}
	} else {
		he = a;
		while (he < e && *he != ':')
			he++;
		if (he < e)
			portp = he + 1;
	}
	size_t hl = (size_t)(he - hs);
	if (!hl || hl > HOST_MAX || memchr(a, '@', (size_t)(e - a)))
		return -EINVAL;
	for (const char *c = hs; c < he; c++)
		if (*c <= ' ' || *c >= 127 || *c == '%')
			return -EINVAL; /* no zone ids, no escapes, no spaces */
	memcpy(s->host, hs, hl);
	s->host[hl] = 0;
	s->port = 443;
	if (portp) {
		unsigned long v = 0;
		if (portp >= e)
			return -EINVAL;
		for (const char *c = portp; c < e; c++) {
			if (*c < '0' || *c > '9' || (v = v * 10 + (unsigned long)(*c - '0')) > 65535)
				return -EINVAL;
		}
		if (!v)
			return -EINVAL;
		s->port = (uint16_t)v;
	}
	const char *ps = e, *pe = e;
	while (*pe && *pe != '#')
		pe++;
	size_t pl = (size_t)(pe - ps);
	if (pl > PATH_MAX_ - 1)
		return -EINVAL;
	size_t o = 0;
	if (!pl || *ps == '?')
		s->path[o++] = '/';
	for (const char *c = ps; c < pe; c++) {
		if (*c <= ' ' || *c >= 127)
			return -EINVAL;
		s->path[o++] = *c;
	}
	s->path[o] = 0;
	s->host_is_ip = ipaddr_aton(s->host, &s->host_ip) != 0;
	if (*a == '[' && (!s->host_is_ip || !IP_IS_V6(&s->host_ip)))
		return -EINVAL;
	return 0;
}

/* ---- finishing ---- */

static void drop_pcb(struct slot *s)
{
	struct altcp_pcb *pcb = s->pcb;
	if (!pcb)
		return;
	s->pcb = NULL;
	altcp_arg(pcb, NULL);
	altcp_recv(pcb, NULL);
	altcp_sent(pcb, NULL);
	altcp_err(pcb, NULL);
	altcp_poll(pcb, NULL, 0);
	altcp_abort(pcb);
}

static void slot_release(struct slot *s)
{
	loop_timer_cancel(&s->timer);
	if (s->have_own_ca)
		mbedtls_x509_crt_free(&s->own_ca);
	mbedtls_platform_zeroize(s->tx, sizeof(s->tx));
	mbedtls_platform_zeroize(s->extra, sizeof(s->extra));
	s->have_own_ca = false;
	s->phase = PH_FREE;
}

/* Ends the request with (err) (0: the response is complete). The callback
 * runs from the slot's timer, outside lwIP's callbacks. Closes nothing:
 * the caller has dropped the pcb or will return ERR_ABRT after drop_pcb. */
static void finish(struct slot *s, int err, const char *reason)
{
	if (s->phase == PH_FINISHED || s->phase == PH_FREE)
		return;
	s->phase = PH_FINISHED;
	s->err = err;
	s->resp.reason = reason;
	if (err) {
		s->resp.body = NULL;
		s->resp.body_len = 0;
		for (size_t i = 0; i < HTTPS_MAX_WANT; i++)
			s->resp.values[i] = NULL;
	} else {
		s->resp.body = s->req.buf;
		s->resp.body_len = s->body_len;
	}
	loop_timer_arm(&s->timer, time_now_ns());
}

/* Aborts the connection and ends with (err); for lwIP callbacks, which then
 * return ERR_ABRT when (s->pcb) was the pcb they were called for. */
static void fail(struct slot *s, int err, const char *reason)
{
	drop_pcb(s);
	finish(s, err, reason);
}

/* ---- the request ---- */

#ifdef CONFIG_TEST_HOOKS
/*
 * Test hook, only with CONFIG_TEST_HOOKS and the bootarg hearth.test.txlog:
 * every request this client is about to send (each attempt, each redirect)
 * is printed on the console before TLS encrypts it, for the end-to-end
 * capture test to compare the cleartext with what crossed the wire:
 *   TX-HEAD host=H port=P bytes=N b64=...       the request head
 *   TX-BODY host=H port=P path=... bytes=N sha256=HEX b64=...|-
 * (the body in base64 when it is at most TXLOG_B64_MAX bytes).
 */
#define TXLOG_B64_MAX 3072
static int txlog = -1;

static void txlog_b64(const void *data, size_t len)
{
	static unsigned char out[(TXLOG_B64_MAX + 2) / 3 * 4 + 1];
	size_t olen = 0;
	if (len > TXLOG_B64_MAX ||
	    mbedtls_base64_encode(out, sizeof(out), &olen, (const unsigned char *)data, len)) {
		printf("-");
		return;
	}
	printf("%.*s", (int)olen, (const char *)out);
}

static void txlog_request(const struct slot *s)
{
	if (txlog < 0)
		txlog = board_bootarg(board_dt_bootargs(board_fdt()), "hearth.test.txlog", NULL, 0) >= 0;
	if (!txlog)
		return;
	printf("TX-HEAD host=%s port=%u bytes=%zu b64=", s->host, (unsigned int)s->port, s->tx_len);
	txlog_b64(s->tx, s->tx_len);
	printf("\n");
	if (!s->post)
		return;
	char hex[65];
	https_sha256_hex(s->req.body, s->req.body_len, hex);
	printf("TX-BODY host=%s port=%u path=%s bytes=%zu sha256=%s b64=", s->host,
	       (unsigned int)s->port, s->path, s->req.body_len, hex);
	txlog_b64(s->req.body, s->req.body_len);
	printf("\n");
}
#endif

static int compose(struct slot *s)
{
	int n;
	char hostport[HOST_MAX + 16];
	bool v6 = s->host_is_ip && IP_IS_V6(&s->host_ip);
	if (s->port == 443)
		snprintf(hostport, sizeof(hostport), v6 ? "[%s]" : "%s", s->host);
	else
		snprintf(hostport, sizeof(hostport), v6 ? "[%s]:%u" : "%s:%u", s->host,
			 (unsigned int)s->port);
	n = snprintf(s->tx, sizeof(s->tx),
		     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Hearth/" HEARTH_VERSION
		     "\r\nAccept-Encoding: identity\r\nConnection: close\r\n",
		     s->post ? "POST" : "GET", s->path, hostport);
	if (n < 0 || (size_t)n >= sizeof(s->tx))
		return -EINVAL;
	size_t o = (size_t)n;
	if (s->post) {
		n = snprintf(s->tx + o, sizeof(s->tx) - o, "Content-Type: %s\r\nContent-Length: %zu\r\n",
			     s->req.content_type ? s->req.content_type : "application/json",
			     s->req.body_len);
		if (n < 0 || (size_t)n >= sizeof(s->tx) - o)
			return -EINVAL;
		o += (size_t)n;
	}
	if (o + s->extra_len + 2 >= sizeof(s->tx))
		return -EINVAL;
	memcpy(s->tx + o, s->extra, s->extra_len);
	o += s->extra_len;
	memcpy(s->tx + o, "\r\n", 2);
	s->tx_len = o + 2;
	s->tx_off = 0;
	s->body_off = 0;
#ifdef CONFIG_TEST_HOOKS
	txlog_request(s);
#endif
	return 0;
}

static size_t send_space(struct altcp_pcb *pcb)
{
	if (altcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4)
		return 0;
	/* For altcp_tls this is also at most one record: a write must fit
	 * one record (altcp_mbedtls_write cannot report a partial write). */
	return altcp_sndbuf(pcb);
}

/* Writes what fits of the request; 0, or -1 after fail(). */
static int pump(struct slot *s)
{
	struct altcp_pcb *pcb = s->pcb;
	for (;;) {
		const uint8_t *src;
		size_t left;
		if (s->tx_off < s->tx_len) {
			src = (const uint8_t *)s->tx + s->tx_off;
			left = s->tx_len - s->tx_off;
		} else if (s->post && s->body_off < s->req.body_len) {
			src = (const uint8_t *)s->req.body + s->body_off;
			left = s->req.body_len - s->body_off;
		} else {
			break;
		}
		size_t n = send_space(pcb);
		if (n > left)
			n = left;
		if (!n)
			break;
		err_t e = altcp_write(pcb, src, (u16_t)n, TCP_WRITE_FLAG_COPY);
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK) {
			fail(s, -ECONNRESET, "reset");
			return -1;
		}
		if (s->tx_off < s->tx_len)
			s->tx_off += n;
		else
			s->body_off += n;
	}
	altcp_output(pcb);
	if (s->tx_off == s->tx_len && (!s->post || s->body_off == s->req.body_len) &&
	    s->phase == PH_SEND)
		s->phase = PH_RECV;
	return 0;
}

/* ---- the response ---- */

static void save_value(struct slot *s, size_t i, const char *v)
{
	size_t l = strlen(v);
	if (s->resp.values[i] || s->vals_len + l + 1 > sizeof(s->vals))
		return; /* the first occurrence wins; see header_line for overflow */
	memcpy(s->vals + s->vals_len, v, l + 1);
	s->resp.values[i] = s->vals + s->vals_len;
	s->vals_len += l + 1;
}

static int status_line(struct slot *s)
{
	const char *l = s->line;
	if (s->line_over || strncmp(l, "HTTP/1.", 7) || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
	    l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' ||
	    (l[12] && l[12] != ' '))
		return -EBADMSG;
	s->resp.status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	s->ps = P_HEADERS;
	return 0;
}

static int header_line(struct slot *s)
{
	char *l = s->line;
	char *colon = strchr(l, ':');
	if (!colon || colon == l)
		return -EBADMSG;
	for (char *c = l; c < colon; c++)
		if (*c <= ' ' || *c >= 127)
			return -EBADMSG; /* no space before the colon (RFC 9112 5.1) */
	size_t nl = (size_t)(colon - l);
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	char *ve = v + strlen(v);
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		*--ve = 0;
	bool want = false;
	for (size_t i = 0; s->req.want && i < HTTPS_MAX_WANT && s->req.want[i]; i++)
		if (ieq(s->req.want[i], l, nl))
			want = true;
	bool framing = ieq("content-length", l, nl) || ieq("transfer-encoding", l, nl);
	if (s->line_over) {
		if (want || framing || ieq("location", l, nl))
			return -EBADMSG; /* a header we use, too long to read */
		return 0;
	}
	if (ieq("content-length", l, nl)) {
		uint64_t n = 0;
		if (!*v)
			return -EBADMSG;
		for (const char *c = v; *c; c++) {
			if (*c < '0' || *c > '9' || n > (UINT64_MAX - 9) / 10)
				return -EBADMSG;
			n = n * 10 + (uint64_t)(*c - '0');
		}
		if (s->have_length && s->length != n)
			return -EBADMSG;
		s->have_length = true;
		s->length = n;
	} else if (ieq("transfer-encoding", l, nl)) {
		/* Only "chunked" (alone) is understood; anything else is refused. */
		if (s->mode == BODY_CHUNKED || strcasecmp(v, "chunked"))
			return -EBADMSG;
		s->mode = BODY_CHUNKED;
	} else if (ieq("location", l, nl) && !s->location[0]) {
		if (strlen(v) < sizeof(s->location))
			memcpy(s->location, v, strlen(v) + 1);
	} else if (ieq("connection", l, nl) && has_token(v, "close")) {
		/* expected: we asked for it */
	}
	for (size_t i = 0; want && i < HTTPS_MAX_WANT && s->req.want[i]; i++) {
		if (ieq(s->req.want[i], l, nl)) {
			if (!s->resp.values[i] && s->vals_len + strlen(v) + 1 > sizeof(s->vals))
				return -EMSGSIZE;
			save_value(s, i, v);
		}
	}
	return 0;
}

/* The header section ended: how is the body framed? */
static int headers_done(struct slot *s)
{
	int st = s->resp.status;
	if (st >= 100 && st < 200) {
		/* An interim response (100 Continue, 103 Early Hints): the real
		 * one follows. Forget what it said. */
		s->ps = P_STATUS;
		s->have_length = false;
		s->mode = BODY_NONE;
		s->vals_len = 0;
		s->location[0] = 0;
		memset(s->resp.values, 0, sizeof(s->resp.values));
		return 0;
	}
	if (st == 204 || st == 304)
		s->mode = BODY_NONE;
	else if (s->mode == BODY_CHUNKED)
		; /* chunked wins over Content-Length (RFC 9112 6.3) */
	else if (s->have_length)
		s->mode = BODY_LENGTH;
	else
		s->mode = BODY_CLOSE;
	switch (s->mode) {
	case BODY_NONE:
		s->ps = P_DONE;
		break;
	case BODY_LENGTH:
		if (s->length > s->req.buf_len)
			return -EMSGSIZE;
		s->remaining = s->length;
		s->ps = s->length ? P_BODY : P_DONE;
		break;
	case BODY_CHUNKED:
		s->ps = P_CHUNK_SIZE;
		break;
	case BODY_CLOSE:
		s->ps = P_BODY;
		break;
	}
	return 0;
}

static int chunk_size_line(struct slot *s)
{
	uint64_t n = 0;
	const char *c = s->line;
	int digits = 0;
	for (;; c++) {
		int d = *c >= '0' && *c <= '9' ? *c - '0'
			: lower(*c) >= 'a' && lower(*c) <= 'f' ? lower(*c) - 'a' + 10 : -1;
		if (d < 0)
			break;
		if (n > (UINT64_MAX >> 4))
			return -EBADMSG;
		n = n << 4 | (uint64_t)d;
		digits++;
	}
	while (*c == ' ' || *c == '\t')
		c++;
	if (!digits || (*c && *c != ';'))
		return -EBADMSG;
	if (n > s->req.buf_len - s->body_len)
		return -EMSGSIZE;
	s->remaining = n;
	s->ps = n ? P_CHUNK_DATA : P_TRAILERS;
	return 0;
}

/* A complete line is in s->line (CR LF stripped). */
static int feed_line(struct slot *s)
{
	int err = 0;
	switch (s->ps) {
	case P_STATUS:
		err = status_line(s);
		break;
	case P_HEADERS:
		if (!s->line_len && !s->line_over)
			err = headers_done(s);
		else
			err = header_line(s);
		break;
	case P_CHUNK_SIZE:
		err = chunk_size_line(s);
		break;
	case P_CHUNK_CRLF:
		err = s->line_len || s->line_over ? -EBADMSG : 0;
		s->ps = P_CHUNK_SIZE;
		break;
	case P_TRAILERS:
		if (!s->line_len && !s->line_over)
			s->ps = P_DONE; /* trailers are read and dropped */
		break;
	default:
		err = -EBADMSG;
	}
	s->line_len = 0;
	s->line_over = false;
	return err;
}

static bool line_state(enum pstate ps)
{
	return ps == P_STATUS || ps == P_HEADERS || ps == P_CHUNK_SIZE || ps == P_CHUNK_CRLF ||
	       ps == P_TRAILERS;
}

/* Feeds response bytes. 0: more wanted; 1: the response is complete;
 * -errno: refused. */
static int feed(struct slot *s, const uint8_t *p, size_t n)
{
	while (n) {
		if (s->ps == P_DONE)
			return 1; /* bytes after the response: ignored (we close) */
		if (line_state(s->ps)) {
			uint8_t c = *p++;
			n--;
			if (s->ps == P_STATUS || s->ps == P_HEADERS || s->ps == P_TRAILERS) {
				if (++s->header_bytes > HEADER_SECTION_MAX)
					return -EBADMSG;
			}
			if (c == '\n') {
				if (s->line_len && s->line[s->line_len - 1] == '\r')
					s->line_len--;
				s->line[s->line_len] = 0;
				int err = feed_line(s);
				if (err)
					return err;
				continue;
			}
			if (c == 0)
				return -EBADMSG;
			if (s->line_len < sizeof(s->line) - 1)
				s->line[s->line_len++] = (char)c;
			else
				s->line_over = true;
			continue;
		}
		/* Body bytes: P_BODY (length or to-close) or P_CHUNK_DATA. */
		size_t take = n;
		if ((s->ps == P_BODY && s->mode == BODY_LENGTH) || s->ps == P_CHUNK_DATA)
			if (take > s->remaining)
				take = (size_t)s->remaining;
		if (take > s->req.buf_len - s->body_len)
			return -EMSGSIZE;
		memcpy(s->req.buf + s->body_len, p, take);
		s->body_len += take;
		p += take;
		n -= take;
		if (s->ps == P_CHUNK_DATA || s->mode == BODY_LENGTH) {
			s->remaining -= take;
			if (!s->remaining)
				s->ps = s->ps == P_CHUNK_DATA ? P_CHUNK_CRLF : P_DONE;
		}
	}
	return s->ps == P_DONE;
}

/* ---- connection ---- */

static int start_dns_or_connect(struct slot *s);

/* The response is complete: deliver it, or follow a redirect. */
static void complete(struct slot *s)
{
	int st = s->resp.status;
	drop_pcb(s);
	if (st >= 300 && st < 400 && st != 304 && s->redirects_left && s->location[0]) {
		char loc[PATH_MAX_ + 1];
		memcpy(loc, s->location, sizeof(loc));
		s->redirects_left--;
		if (loc[0] == '/' && loc[1] != '/') {
			if (strlen(loc) > PATH_MAX_ - 1) {
				finish(s, -EBADMSG, "bad-redirect");
				return;
			}
			memcpy(s->path, loc, strlen(loc) + 1);
		} else {
			/* Another host: its own DNS; the trust settings stay. */
			s->have_connect_to = false;
			if (parse_url(s, loc)) {
				finish(s, -EBADMSG, "bad-redirect");
				return;
			}
		}
		if (st == 303 || ((st == 301 || st == 302) && s->post))
			s->post = false;
		if (compose(s)) {
			finish(s, -EBADMSG, "bad-redirect");
			return;
		}
		int err = start_dns_or_connect(s);
		if (err)
			finish(s, err, "redirect-failed");
		return;
	}
	finish(s, 0, "ok");
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct slot *s = arg;
	if (!s || s->pcb != pcb) {
		if (p) {
			altcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (!p) {
		/* The server closed. */
		if (s->ps == P_BODY && s->mode == BODY_CLOSE) {
			s->ps = P_DONE;
			complete(s);
		} else if (s->ps == P_DONE) {
			complete(s);
		} else {
			fail(s, -ECONNRESET, s->ps == P_STATUS && !s->header_bytes ? "closed" : "truncated");
		}
		return ERR_ABRT;
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		fail(s, -ECONNRESET, "reset");
		return ERR_ABRT;
	}
	if (s->phase != PH_RECV && s->phase != PH_SEND) {
		/* Data before our request went out: not HTTP. */
		pbuf_free(p);
		fail(s, -EBADMSG, "unexpected-data");
		return ERR_ABRT;
	}
	int r = 0;
	for (struct pbuf *q = p; q && r == 0; q = q->next)
		r = feed(s, q->payload, q->len);
	altcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (r < 0) {
		fail(s, r, r == -EMSGSIZE ? "too-big" : "bad-response");
		return ERR_ABRT;
	}
	if (r == 1) {
		complete(s);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
	struct slot *s = arg;
	(void)len;
	if (!s || s->pcb != pcb || s->phase != PH_SEND)
		return ERR_OK;
	return pump(s) ? ERR_ABRT : ERR_OK;
}

static bool tcp_established(struct altcp_pcb *pcb);

static void on_err(void *arg, err_t err)
{
	struct slot *s = arg;
	if (!s)
		return;
	/* Still readable here: lwIP frees the pcbs after this returns (the
	 * inner one is already marked gone when TCP itself failed). */
	bool up = s->tcp_up || tcp_established(s->pcb);
	s->pcb = NULL;
	if (s->phase != PH_CONNECT)
		finish(s, -ECONNRESET, "reset");
	else if (up)
		finish(s, -EPROTO, "tls-failed"); /* an alert, or the server hung up */
	else if (err == ERR_ABRT || err == ERR_TIMEOUT)
		finish(s, -ETIMEDOUT, "connect-timeout"); /* lwIP gave up on the SYN */
	else
		finish(s, -ECONNREFUSED, "refused");
}

/* SHA-256 of the peer certificate's SubjectPublicKeyInfo. */
static void spki_sha256(const mbedtls_x509_crt *crt, uint8_t out[32])
{
	mbedtls_sha256_ret(crt->pk_raw.p, crt->pk_raw.len, out, 0);
}

/* Does the certificate name the IP address we asked for (iPAddress SAN)? */
static bool san_has_ip(const mbedtls_x509_crt *crt, const ip_addr_t *ip)
{
	const uint8_t *want;
	size_t wl;
	if (IP_IS_V6(ip)) {
		want = (const uint8_t *)ip_2_ip6(ip)->addr;
		wl = 16;
	} else {
		want = (const uint8_t *)&ip_2_ip4(ip)->addr;
		wl = 4;
	}
	for (const mbedtls_x509_sequence *n = &crt->subject_alt_names; n && n->buf.p; n = n->next)
		if (n->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && n->buf.len == wl &&
		    !memcmp(n->buf.p, want, wl))
			return true;
	return false;
}

/* The whole check, before anything is sent. 0 or -EACCES (with reason). */
static int verify_peer(struct slot *s, mbedtls_ssl_context *ssl)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(ssl);
	mbedtls_x509_crt *trust = s->have_own_ca ? &s->own_ca : &bundle;
	uint32_t flags = 0;
	if (!peer) {
		s->resp.verify_flags = MBEDTLS_X509_BADCERT_MISSING;
		s->resp.reason = "untrusted";
		return -EACCES;
	}
	if (!s->have_own_ca && !bundle_loaded) {
		s->resp.verify_flags = MBEDTLS_X509_BADCERT_NOT_TRUSTED;
		s->resp.reason = "untrusted";
		return -EACCES;
	}
	/* mbedTLS takes the chain non-const; verification does not change it. */
	int ret = mbedtls_x509_crt_verify_with_profile((mbedtls_x509_crt *)peer, trust,
						       NULL, &mbedtls_x509_crt_profile_default,
						       s->host_is_ip ? NULL : s->host, &flags,
						       NULL, NULL);
	if (ret && !flags)
		flags = MBEDTLS_X509_BADCERT_OTHER;
	if (s->host_is_ip && !san_has_ip(peer, &s->host_ip))
		flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	/* What the handshake checked beyond the chain: the key may sign for
	 * a TLS server (key usage, extended key usage). */
	flags |= mbedtls_ssl_get_verify_result(ssl) &
		 (MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE |
		  MBEDTLS_X509_BADCERT_NS_CERT_TYPE | MBEDTLS_X509_BADCERT_BAD_KEY);
	s->resp.verify_flags = flags;
	if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_MISSING))
		s->resp.reason = "untrusted";
	else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
		s->resp.reason = "name-mismatch";
	else if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
		s->resp.reason = "expired";
	else if (flags)
		s->resp.reason = "bad-certificate";
	if (flags)
		return -EACCES;
	if (s->have_pin) {
		uint8_t h[32];
		spki_sha256(peer, h);
		/* Not secret, but no reason to leak timing either. */
		unsigned int diff = 0;
		for (size_t i = 0; i < 32; i++)
			diff |= (unsigned int)(h[i] ^ s->pin[i]);
		if (diff) {
			s->resp.reason = "pin-mismatch";
			return -EACCES;
		}
	}
	return 0;
}

static err_t on_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
	struct slot *s = arg;
	if (!s || s->pcb != pcb)
		return ERR_OK;
	if (err != ERR_OK) {
		fail(s, -ECONNREFUSED, "refused");
		return ERR_ABRT;
	}
	/* altcp_tls calls this once the handshake is done. */
	mbedtls_ssl_context *ssl = altcp_tls_context(pcb);
	int v = ssl ? verify_peer(s, ssl) : -EACCES;
	if (v) {
		fail(s, v, s->resp.reason ? s->resp.reason : "untrusted");
		return ERR_ABRT;
	}
	s->phase = PH_SEND;
	uint32_t t = s->req.response_timeout_ms ? s->req.response_timeout_ms : HTTPS_RESPONSE_TIMEOUT_MS;
	s->deadline_ns = time_now_ns() + (uint64_t)t * 1000000u;
	loop_timer_arm(&s->timer, s->deadline_ns);
	return pump(s) ? ERR_ABRT : ERR_OK;
}

static int connect_now(struct slot *s)
{
	if (!client_conf) {
		client_conf = altcp_tls_create_config_client(NULL, 0);
		if (!client_conf)
			return -ENOMEM;
	}
	struct altcp_pcb *pcb = altcp_tls_new(client_conf, IP_GET_TYPE(&s->addr));
	if (!pcb)
		return -ENOMEM;
	mbedtls_ssl_context *ssl = altcp_tls_context(pcb);
	/* SNI and the handshake's name check; not for address literals
	 * (RFC 6066 3: no literal addresses in SNI; checked in verify_peer). */
	if (!ssl || (!s->host_is_ip && mbedtls_ssl_set_hostname(ssl, s->host))) {
		altcp_abort(pcb);
		return -ENOMEM;
	}
	s->pcb = pcb;
	s->tcp_up = false;
	s->phase = PH_CONNECT;
	s->ps = P_STATUS;
	s->line_len = 0;
	s->line_over = false;
	s->header_bytes = 0;
	s->mode = BODY_NONE;
	s->have_length = false;
	s->vals_len = 0;
	s->location[0] = 0;
	s->body_len = 0;
	s->resp.status = 0;
	memset(s->resp.values, 0, sizeof(s->resp.values));
	altcp_arg(pcb, s);
	altcp_recv(pcb, on_recv);
	altcp_sent(pcb, on_sent);
	altcp_err(pcb, on_err);
	uint32_t t = s->req.connect_timeout_ms ? s->req.connect_timeout_ms : HTTPS_CONNECT_TIMEOUT_MS;
	s->deadline_ns = time_now_ns() + (uint64_t)t * 1000000u;
	loop_timer_arm(&s->timer, time_now_ns() + TICK_MS * 1000000ull);
	err_t e = altcp_connect(pcb, &s->addr, s->port, on_connected);
	if (e != ERR_OK) {
		drop_pcb(s);
		return e == ERR_RTE ? -EHOSTUNREACH : -ENOMEM;
	}
	return 0;
}

static void dns_found(const char *name, const ip_addr_t *ip, void *arg)
{
	struct slot *s = arg;
	if (s->phase != PH_DNS || strcmp(name, s->host))
		return; /* timed out or cancelled meanwhile */
	if (!ip) {
		finish(s, -EHOSTUNREACH, "dns");
		return;
	}
	s->addr = *ip;
	int err = connect_now(s);
	if (err)
		finish(s, err, err == -ENOMEM ? "no-memory" : "unreachable");
}

static int start_dns_or_connect(struct slot *s)
{
	if (s->have_connect_to) {
		/* s->addr already holds it */
	} else if (s->host_is_ip) {
		s->addr = s->host_ip;
	} else {
		s->phase = PH_DNS;
		uint32_t t = s->req.connect_timeout_ms ? s->req.connect_timeout_ms : HTTPS_CONNECT_TIMEOUT_MS;
		s->deadline_ns = time_now_ns() + (uint64_t)t * 1000000u;
		loop_timer_arm(&s->timer, s->deadline_ns);
		err_t e = dns_gethostbyname(s->host, &s->addr, dns_found, s);
		if (e == ERR_INPROGRESS)
			return 0;
		if (e != ERR_OK)
			return -EHOSTUNREACH;
	}
	return connect_now(s);
}

/* Is the TCP connection under the TLS layer established? (The TLS layer
 * reports only the end of the handshake.) altcp_tcp keeps its tcp_pcb in
 * (state). */
static bool tcp_established(struct altcp_pcb *pcb)
{
	struct altcp_pcb *inner = pcb ? pcb->inner_conn : NULL;
	struct tcp_pcb *tpcb = inner ? inner->state : NULL;
	return tpcb && tpcb->state == ESTABLISHED;
}

static void on_timer(struct loop_timer *t)
{
	struct slot *s = timer_slot(t);
	uint64_t now = time_now_ns();
	switch (s->phase) {
	case PH_FINISHED: {
		https_done_fn done = s->done;
		void *arg = s->arg;
		/* The slot stays taken during the callback: the header values
		 * point into it. (done) may start other requests. */
		done(arg, &s->resp, s->err);
		if (s->phase == PH_FINISHED)
			slot_release(s);
		return;
	}
	case PH_DNS:
		if (now >= s->deadline_ns)
			finish(s, -ETIMEDOUT, "connect-timeout");
		return;
	case PH_CONNECT:
		if (!s->tcp_up && tcp_established(s->pcb)) {
			s->tcp_up = true;
			uint32_t ms = s->req.tls_timeout_ms ? s->req.tls_timeout_ms : HTTPS_TLS_TIMEOUT_MS;
			s->deadline_ns = now + (uint64_t)ms * 1000000u;
		}
		if (now >= s->deadline_ns) {
			fail(s, -ETIMEDOUT, s->tcp_up ? "tls-timeout" : "connect-timeout");
			return;
		}
		loop_timer_arm(t, now + TICK_MS * 1000000ull);
		return;
	case PH_SEND:
	case PH_RECV:
		if (now >= s->deadline_ns)
			fail(s, -ETIMEDOUT, "response-timeout");
		else
			loop_timer_arm(t, s->deadline_ns);
		return;
	default:
		return;
	}
}

/* ---- the API ---- */

static int start(const struct https_request *req, bool post, https_done_fn done, void *arg)
{
	if (!req || !done || !req->buf || (post && req->body_len && !req->body))
		return -EINVAL;
	size_t nwant = 0;
	while (req->want && req->want[nwant])
		if (++nwant > HTTPS_MAX_WANT)
			return -EINVAL;
	struct slot *s = NULL;
	for (size_t i = 0; i < HTTPS_MAX_REQUESTS; i++)
		if (slots[i].phase == PH_FREE) {
			s = &slots[i];
			break;
		}
	if (!s)
		return -EBUSY;
	if (stack_random(NULL, 0) == -EAGAIN)
		return -EIO; /* no DRBG: stack_tls_init refused the rng */

	memset(&s->resp, 0, sizeof(s->resp));
	s->req = *req;
	s->post = post;
	s->redirects_left = req->max_redirects;
	s->have_own_ca = s->have_pin = s->have_connect_to = false;
	int err = parse_url(s, req->url);
	if (err)
		return err;
	if (req->connect_to) {
		if (!ipaddr_aton(req->connect_to, &s->addr))
			return -EINVAL;
		s->have_connect_to = true;
	}
	if (req->content_type && strpbrk(req->content_type, "\r\n"))
		return -EINVAL;
	s->extra_len = 0;
	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		const char *h = req->headers[i];
		size_t l = strlen(h);
		if (!l || strpbrk(h, "\r\n") || !strchr(h, ':') || s->extra_len + l + 2 > sizeof(s->extra))
			return -EINVAL;
		memcpy(s->extra + s->extra_len, h, l);
		memcpy(s->extra + s->extra_len + l, "\r\n", 2);
		s->extra_len += l + 2;
	}
	if (compose(s))
		return -EINVAL;
	if (req->pin) {
		size_t olen = 0;
		const char *b64 = req->pin;
		if (strncmp(b64, "sha256//", 8) ||
		    mbedtls_base64_decode(s->pin, sizeof(s->pin), &olen, (const uint8_t *)b64 + 8,
					  strlen(b64 + 8)) ||
		    olen != 32)
			return -EINVAL;
		s->have_pin = true;
	}
	if (req->ca) {
		mbedtls_x509_crt_init(&s->own_ca);
		s->have_own_ca = true;
		/* mbedtls_x509_crt_parse wants PEM NUL-terminated (len counts it). */
		int r;
		if (req->ca_len && req->ca[0] == '-') {
			char *pem = malloc(req->ca_len + 1);
			if (!pem) {
				slot_release(s);
				return -ENOMEM;
			}
			memcpy(pem, req->ca, req->ca_len);
			pem[req->ca_len] = 0;
			r = mbedtls_x509_crt_parse(&s->own_ca, (const uint8_t *)pem, req->ca_len + 1);
			free(pem);
		} else {
			r = mbedtls_x509_crt_parse_der(&s->own_ca, req->ca, req->ca_len);
		}
		if (r || !s->own_ca.raw.p) {
			slot_release(s);
			return -EINVAL;
		}
	} else {
		bundle_load();
	}
	s->id = next_id++;
	if (next_id <= 0)
		next_id = 1;
	s->done = done;
	s->arg = arg;
	s->timer.fn = on_timer;
	s->pcb = NULL;
	err = start_dns_or_connect(s);
	if (err) {
		/* Accepted, but failed at once: report it through done, as a
		 * failure later would be. */
		s->phase = PH_CONNECT;
		finish(s, err, err == -EHOSTUNREACH ? "dns" : "no-memory");
	}
	return s->id;
}

int https_get(const struct https_request *req, https_done_fn done, void *arg)
{
	return start(req, false, done, arg);
}

int https_post(const struct https_request *req, https_done_fn done, void *arg)
{
	return start(req, true, done, arg);
}

void https_sha256_hex(const void *data, size_t len, char hex[65])
{
	uint8_t h[32];
	mbedtls_sha256_ret(data, len, h, 0);
	for (size_t i = 0; i < 32; i++) {
		hex[2 * i] = "0123456789abcdef"[h[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[h[i] & 15];
	}
	hex[64] = 0;
}

int https_cancel(int id)
{
	for (size_t i = 0; i < HTTPS_MAX_REQUESTS; i++) {
		struct slot *s = &slots[i];
		if (s->phase != PH_FREE && s->id == id) {
			drop_pcb(s);
			slot_release(s);
			return 0;
		}
	}
	return -ENOENT;
}
