/*
 * http_server.c: HTTP/1.1 connections over any transport: feeding the parser,
 * routing, running handlers, building and streaming responses with
 * back-pressure, keep-alive and pipelining, built-in error responses, and the
 * timeouts of http_conn_tick. Also the response helpers (JSON, Date).
 *
 * Assumes: struct http_io's send() copies what it accepts and never calls
 * back into this file; one request is handled at a time per connection (a
 * pipelined request waits in the transport, unconsumed, until the response
 * before it has been handed to send()); time comes only from the last tick.
 *
 * Leaves out: the socket/TLS glue (stack/net*.c), connection-count limits,
 * per-route body limits, response content-coding beyond static gzip
 * variants, graceful drain of unread input before close (the transport
 * lingers).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)
/* Chunk framing around produced data: "XXXXXXXX\r\n" before, "\r\n" after,
 * and room for the last-chunk "0\r\n\r\n". */
#define CHUNK_PRE 10
#define CHUNK_POST 7

const char http_canned_503[] = "HTTP/1.1 503 Service Unavailable\r\n"
			       "Content-Type: text/plain\r\n"
			       "Content-Length: 20\r\n"
			       "Retry-After: 1\r\n"
			       "Connection: close\r\n"
			       "\r\n"
			       "503 Service Unavailable\n";

void http_limits_default(struct http_limits *lim)
{
	lim->max_request_line = 4096;
	lim->max_header_bytes = 8192;
	lim->max_headers = 48;
	lim->max_body = 4u << 20;
	lim->max_trailer_bytes = 2048;
	lim->body_buffer = 8192;
	lim->out_buffer = 4096;
	lim->resp_header_bytes = 1024;
	lim->header_timeout_ms = 10000;
	lim->body_timeout_ms = 20000;
	lim->idle_timeout_ms = 30000;
	lim->send_timeout_ms = 30000;
}

const char *http_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}

/* ------------------------------------------------------------------------
 * Bounded string building
 */
struct sb {
	char *p;
	size_t len, cap;
	int over;
};

static void sb_mem(struct sb *b, const char *s, size_t n)
{
	if (b->over || n > b->cap - b->len) {
		b->over = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sb_str(struct sb *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

static void sb_u64(struct sb *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_mem(b, tmp + i, sizeof(tmp) - i);
}

/* Two decimal digits of (v), v < 100. */
static void sb_2d(struct sb *b, unsigned v)
{
	char d[2] = {(char)('0' + v / 10 % 10), (char)('0' + v % 10)};

	sb_mem(b, d, 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int http_date_format(int64_t t, char *out, size_t out_len)
{
	static const char wd[] = "SunMonTueWedThuFriSat";
	static const char mn[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const uint8_t mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t days, y = 1970;
	unsigned m = 0, sec;
	struct sb b = {out, 0, out_len ? out_len - 1 : 0, 0};

	/* up to 9999-12-31 */
	if (t < 0 || t >= 253402300800LL || out_len < 30)
		return -EINVAL;
	days = t / 86400;
	sec = (unsigned)(t % 86400);
	sb_mem(&b, wd + 3 * ((days + 4) % 7), 3);
	while (days >= 365 + is_leap(y))
		days -= 365 + is_leap(y++);
	while (days >= mdays[m] + (m == 1 && is_leap(y)))
		days -= mdays[m] + (m == 1 && is_leap(y)), m++;
	sb_str(&b, ", ");
	sb_2d(&b, (unsigned)days + 1);
	sb_str(&b, " ");
	sb_mem(&b, mn + 3 * m, 3);
	sb_str(&b, " ");
	sb_u64(&b, (uint64_t)y);
	sb_str(&b, " ");
	sb_2d(&b, sec / 3600);
	sb_str(&b, ":");
	sb_2d(&b, sec / 60 % 60);
	sb_str(&b, ":");
	sb_2d(&b, sec % 60);
	sb_str(&b, " GMT");
	if (b.over)
		return -EINVAL;
	out[b.len] = '\0';
	return (int)b.len;
}

/* ------------------------------------------------------------------------
 * Responses
 */

static void resp_reset(struct http_conn *c)
{
	memset(&c->resp, 0, sizeof(c->resp));
	c->resp.conn = c;
	c->resp.status = 200;
	c->resp.produce_len = -1;
}

void http_resp_status(struct http_resp *resp, int status)
{
	resp->status = status;
}

void http_resp_type(struct http_resp *resp, const char *type)
{
	resp->content_type = type;
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int ieq(const char *a, const char *b)
{
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b))
		a++, b++;
	return *a == *b;
}

int http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
	struct http_conn *c = resp->conn;
	struct sb b = {c->rhdr, resp->hdr_len, c->srv->lim.resp_header_bytes, 0};
	const char *s;

	if (!*name || ieq(name, "content-length") || ieq(name, "transfer-encoding") ||
	    ieq(name, "connection"))
		return -EINVAL;
	for (s = name; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == ':')
			return -EINVAL;
	for (s = value; *s; s++)
		if (*s == '\r' || *s == '\n')
			return -EINVAL;
	sb_str(&b, name);
	sb_str(&b, ": ");
	sb_str(&b, value);
	sb_str(&b, "\r\n");
	if (b.over)
		return -ENOSPC;
	resp->hdr_len = b.len;
	return 0;
}

void http_resp_body(struct http_resp *resp, const void *data, size_t len)
{
	resp->body = data;
	resp->body_len = len;
	resp->body_copied = false;
	resp->produce = NULL;
}

int http_resp_body_copy(struct http_resp *resp, const void *data, size_t len)
{
	struct http_conn *c = resp->conn;
	size_t cap = c->srv->lim.out_buffer;
	uint8_t *dst;

	/* Copied bodies sit at the end of the output buffer; the head is built
	 * in front of them (after any interim 100 still pending). */
	if (len > cap - c->out_len)
		return -ENOSPC;
	dst = c->out + cap - len;
	if (len)
		memmove(dst, data, len);
	resp->body = dst;
	resp->body_len = len;
	resp->body_copied = true;
	resp->produce = NULL;
	return 0;
}

void http_resp_producer(struct http_resp *resp, int64_t len, http_produce_fn fn, void *arg)
{
	resp->body = NULL;
	resp->body_len = 0;
	resp->produce = fn;
	resp->produce_arg = arg;
	resp->produce_len = len < 0 ? -1 : len;
}

void http_resp_close(struct http_resp *resp)
{
	resp->close = true;
}

int http_resp_json(struct http_resp *resp, int status, const char *json)
{
	http_resp_status(resp, status);
	http_resp_type(resp, "application/json");
	return http_resp_body_copy(resp, json, strlen(json));
}

/* ------------------------------------------------------------------------
 * Connections: output
 */

/* The connection ends with the handler still holding something of the
 * request: deferred (no response yet), or a producer that has not come to
 * the end of its body. Tells the route, once. */
static void cancel_app(struct http_conn *c)
{
	bool held = c->state == HTTP_C_APP ||
		    ((c->state == HTTP_C_SEND || c->state == HTTP_C_CLOSING) && c->prod_active);

	c->prod_active = false;
	if (held && c->req.route && c->req.route->cancel)
		c->req.route->cancel(&c->req, c->req.route->arg);
}

static void do_close(struct http_conn *c)
{
	if (c->state == HTTP_C_CLOSED)
		return;
	cancel_app(c);
	c->state = HTTP_C_CLOSED;
	c->io.close(c->io.ctx);
}

static void response_done(struct http_conn *c)
{
	if (c->state == HTTP_C_CLOSING || !c->keep_alive) {
		do_close(c);
		return;
	}
	c->state = HTTP_C_READ;
	c->out_off = c->out_len = 0;
	c->discard_body = false;
	c->pending_status = 0;
	c->stamp = c->now;
	memset(&c->req, 0, sizeof(c->req));
	resp_reset(c);
	http_parser_next(&c->p);
}

/* Hex chunk header ending at out + CHUNK_PRE; returns where it starts. */
static size_t chunk_head(uint8_t *out, size_t n)
{
	size_t i = CHUNK_PRE - 2;

	out[CHUNK_PRE - 2] = '\r';
	out[CHUNK_PRE - 1] = '\n';
	do {
		out[--i] = (uint8_t)"0123456789abcdef"[n & 15];
		n >>= 4;
	} while (n);
	return i;
}

/* Refills the (empty) output buffer from the producer: 1 refilled, 0 waiting
 * (no room or -EAGAIN), negative errno: give up on the connection. */
static int produce_more(struct http_conn *c)
{
	struct http_resp *r = &c->resp;
	size_t cap = c->srv->lim.out_buffer, want;
	long n;

	if (c->io.send_space && c->io.send_space(c->io.ctx) == 0)
		return 0;
	if (c->prod_chunked) {
		n = r->produce(r->produce_arg, c->out + CHUNK_PRE, cap - CHUNK_PRE - CHUNK_POST);
		if (n == -EAGAIN)
			return 0;
		if (n < 0 || (size_t)n > cap - CHUNK_PRE - CHUNK_POST)
			return n < 0 ? (int)n : -EOVERFLOW;
		if (n == 0) {
			memcpy(c->out, "0\r\n\r\n", 5);
			c->out_off = 0;
			c->out_len = 5;
			c->prod_active = false;
			return 1;
		}
		c->out_off = chunk_head(c->out, (size_t)n);
		c->out[CHUNK_PRE + n] = '\r';
		c->out[CHUNK_PRE + n + 1] = '\n';
		c->out_len = CHUNK_PRE + (size_t)n + 2;
		return 1;
	}
	want = cap;
	if (!c->prod_eof_close && c->prod_left < want)
		want = (size_t)c->prod_left;
	n = r->produce(r->produce_arg, c->out, want);
	if (n == -EAGAIN)
		return 0;
	if (n < 0 || (size_t)n > want)
		return n < 0 ? (int)n : -EOVERFLOW;
	if (n == 0) {
		if (!c->prod_eof_close)
			return -EPIPE; /* shorter than its Content-Length */
		c->prod_active = false;
		return 1;
	}
	c->out_off = 0;
	c->out_len = (size_t)n;
	if (!c->prod_eof_close) {
		c->prod_left -= (size_t)n;
		if (!c->prod_left)
			c->prod_active = false;
	}
	return 1;
}

/* Sends (len) bytes at (p): bytes taken, or negative errno. */
static long xsend(struct http_conn *c, const void *p, size_t len)
{
	int n;

	if (len > INT_MAX)
		len = INT_MAX;
	n = c->io.send(c->io.ctx, p, len);
	if (n < 0 || (size_t)n > len)
		return n < 0 ? n : -EOVERFLOW;
	return n;
}

/* Pushes output until done or the transport is full. */
static void pump(struct http_conn *c)
{
	int sent = 0;

	while (c->state != HTTP_C_CLOSED) {
		long n;

		if (c->out_off < c->out_len) {
			n = xsend(c, c->out + c->out_off, c->out_len - c->out_off);
			if (n < 0)
				goto dead;
			sent |= n > 0;
			c->out_off += (size_t)n;
			if (c->out_off < c->out_len)
				break;
			c->out_off = c->out_len = 0;
			continue;
		}
		if (c->state != HTTP_C_SEND && c->state != HTTP_C_CLOSING)
			break; /* only an interim 100 was pending */
		if (c->bsrc_left) {
			n = xsend(c, c->bsrc, c->bsrc_left);
			if (n < 0)
				goto dead;
			sent |= n > 0;
			c->bsrc += n;
			c->bsrc_left -= (size_t)n;
			if (c->bsrc_left)
				break;
			continue;
		}
		if (c->prod_active) {
			int r = produce_more(c);

			if (r < 0)
				goto dead;
			if (r == 0)
				break;
			continue;
		}
		if (sent && c->io.flush)
			c->io.flush(c->io.ctx);
		sent = 0;
		response_done(c);
		return;
	}
	if (sent) {
		c->stamp = c->now;
		if (c->io.flush && c->state != HTTP_C_CLOSED)
			c->io.flush(c->io.ctx);
	}
	return;
dead:
	do_close(c);
}

static int no_body_status(int status)
{
	return status < 200 || status == 204 || status == 304;
}

/* Builds the head in front of a copied body and starts sending. */
/* Whether header block (h) of (n) bytes has a line named (name) of (nlen)
 * bytes (ASCII case-insensitive). */
static bool has_header_line(const char *h, size_t n, const char *name, size_t nlen)
{
	size_t i = 0;

	while (i < n) {
		size_t k = 0;

		while (k < nlen && i + k < n) {
			char a = h[i + k], b = name[k];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a + 32);
			if (b >= 'A' && b <= 'Z')
				b = (char)(b + 32);
			if (a != b)
				break;
			k++;
		}
		if (k == nlen && i + k < n && h[i + k] == ':')
			return true;
		while (i < n && h[i] != '\n')
			i++;
		i++;
	}
	return false;
}

/* The server's default header lines the handler did not set itself. */
static void default_headers(struct sb *b, const char *defs, const char *own, size_t own_len)
{
	while (defs && *defs) {
		const char *colon = strchr(defs, ':'), *eol = strchr(defs, '\n');
		size_t len = eol ? (size_t)(eol - defs) + 1 : strlen(defs);

		if (colon && (!eol || colon < eol) &&
		    !has_header_line(own, own_len, defs, (size_t)(colon - defs)))
			sb_mem(b, defs, len);
		defs += len;
	}
}

static int commit(struct http_conn *c)
{
	struct http_resp *r = &c->resp;
	size_t cap = c->srv->lim.out_buffer;
	size_t room = cap - (r->body_copied ? r->body_len : 0);
	int nobody = no_body_status(r->status);
	int head_only = c->req.method == HTTP_HEAD || nobody;
	int unknown_len = r->produce && r->produce_len < 0;
	struct sb b;
	char date[32];

	if (r->status < 200 || r->status > 599)
		return -EINVAL;
	if (c->out_off) { /* an interim response still pending: to the front */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (r->close || (unknown_len && c->req.version == 10 && !head_only))
		c->keep_alive = false;
	b = (struct sb){(char *)c->out, c->out_len, room, 0};
	sb_str(&b, "HTTP/1.1 ");
	sb_u64(&b, (uint64_t)r->status);
	sb_str(&b, " ");
	sb_str(&b, http_status_reason(r->status));
	sb_str(&b, "\r\n");
	if (c->srv->wall_clock) {
		int64_t now = c->srv->wall_clock(c->srv->clock_arg);

		if (now >= 0 && http_date_format(now, date, sizeof(date)) > 0) {
			sb_str(&b, "Date: ");
			sb_str(&b, date);
			sb_str(&b, "\r\n");
		}
	}
	if (c->srv->server_name) {
		sb_str(&b, "Server: ");
		sb_str(&b, c->srv->server_name);
		sb_str(&b, "\r\n");
	}
	if (r->content_type && !nobody) {
		sb_str(&b, "Content-Type: ");
		sb_str(&b, r->content_type);
		sb_str(&b, "\r\n");
	}
	if (!nobody) {
		if (!unknown_len) {
			sb_str(&b, "Content-Length: ");
			sb_u64(&b, r->produce ? (uint64_t)r->produce_len : r->body_len);
			sb_str(&b, "\r\n");
		} else if (c->req.version == 11 && !head_only) {
			sb_str(&b, "Transfer-Encoding: chunked\r\n");
		}
	}
	if (!c->keep_alive)
		sb_str(&b, "Connection: close\r\n");
	else if (c->req.version == 10)
		sb_str(&b, "Connection: keep-alive\r\n");
	sb_mem(&b, c->rhdr, r->hdr_len);
	default_headers(&b, c->srv->default_headers, c->rhdr, r->hdr_len);
	sb_str(&b, "\r\n");
	if (b.over)
		return -ENOSPC;

	c->out_len = b.len;
	c->bsrc = NULL;
	c->bsrc_left = 0;
	c->prod_active = false;
	if (!head_only) {
		if (r->body_copied) {
			memmove(c->out + c->out_len, r->body, r->body_len);
			c->out_len += r->body_len;
		} else if (r->body) {
			c->bsrc = r->body;
			c->bsrc_left = r->body_len;
		} else if (r->produce && r->produce_len != 0) {
			c->prod_active = true;
			c->prod_chunked = unknown_len && c->req.version == 11;
			c->prod_eof_close = unknown_len && c->req.version == 10;
			c->prod_left = unknown_len ? 0 : (uint64_t)r->produce_len;
		}
	}
	/* A producer that will never be called (HEAD, a zero length): the
	 * route's cancel is how its owner learns that. */
	if (r->produce && !c->prod_active && c->req.route && c->req.route->cancel)
		c->req.route->cancel(&c->req, c->req.route->arg);
	r->committed = true;
	c->state = c->keep_alive ? HTTP_C_SEND : HTTP_C_CLOSING;
	c->stamp = c->now;
	return 0;
}

/* A built-in response: "<status> <reason>\n" as text/plain. */
static void builtin(struct http_conn *c, int status)
{
	char text[48];
	struct sb b = {text, 0, sizeof(text), 0};

	resp_reset(c);
	c->resp.status = status;
	if (c->allow[0] && (status == 405 || status == 204))
		(void)http_resp_header(&c->resp, "Allow", c->allow);
	if (!no_body_status(status)) {
		sb_u64(&b, (uint64_t)status);
		sb_str(&b, " ");
		sb_str(&b, http_status_reason(status));
		sb_str(&b, "\n");
		c->resp.content_type = "text/plain";
		if (http_resp_body_copy(&c->resp, text, b.len))
			c->resp.body_len = 0;
	}
	if (commit(c)) { /* cannot happen with sane limits: give up */
		do_close(c);
		return;
	}
	pump(c);
}

/* An error answer; the connection closes after it. */
static void error_response(struct http_conn *c, int status)
{
	c->keep_alive = false;
	builtin(c, status);
}

static int errno_status(int err)
{
	return err == -EINVAL ? 400 : err == -EFBIG ? 413 : 500;
}

int http_resp_commit(struct http_resp *resp)
{
	struct http_conn *c = resp->conn;

	if (c->state != HTTP_C_APP || resp != &c->resp)
		return -EPIPE;
	if (commit(c)) {
		c->keep_alive = false;
		builtin(c, 500);
		return 0;
	}
	pump(c);
	return 0;
}

/* ------------------------------------------------------------------------
 * Connections: input
 */

size_t http_conn_buf_size(const struct http_limits *lim)
{
	return ALIGN8(lim->max_request_line + lim->max_header_bytes + 8) +
	       ALIGN8((size_t)lim->max_headers * sizeof(struct http_header)) +
	       ALIGN8(lim->body_buffer) + ALIGN8(lim->out_buffer) +
	       ALIGN8(lim->resp_header_bytes);
}

int http_conn_init(struct http_conn *c, const struct http_server *srv, const struct http_io *io,
		   void *buf, size_t len, uint64_t now_ms)
{
	const struct http_limits *lim = &srv->lim;
	uint8_t *p = buf;
	size_t head = ALIGN8(lim->max_request_line + lim->max_header_bytes + 8);
	int err;

	if (!buf || ((uintptr_t)buf & 7) || len < http_conn_buf_size(lim) || !io->send ||
	    !io->close || lim->out_buffer < 256 || lim->max_headers == 0 ||
	    lim->max_body > (uint64_t)INT64_MAX)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->srv = srv;
	c->io = *io;
	err = http_parser_init(&c->p, lim, (char *)p, head, (struct http_header *)(void *)(p + head),
			       lim->max_headers);
	if (err)
		return err;
	p += head + ALIGN8((size_t)lim->max_headers * sizeof(struct http_header));
	c->bodybuf = p;
	p += ALIGN8(lim->body_buffer);
	c->out = p;
	p += ALIGN8(lim->out_buffer);
	c->rhdr = (char *)p;
	c->state = HTTP_C_READ;
	c->keep_alive = true;
	c->now = c->stamp = now_ms;
	resp_reset(c);
	return 0;
}

static void on_head(struct http_conn *c)
{
	struct http_parser *p = &c->p;
	struct http_req *req = &c->req;
	const struct http_route *route = NULL;
	int r, has_body = p->chunked || (p->has_cl && p->content_length);

	memset(req, 0, sizeof(*req));
	http_parser_fill(p, req);
	req->conn = c;
	c->requests++;
	resp_reset(c);
	c->keep_alive = req->version == 11 ? !p->conn_close : (p->conn_keep_alive && !p->conn_close);
	c->allow[0] = '\0';
	c->state = HTTP_C_BODY;
	c->stamp = c->now;

	if (c->srv->check) {
		r = c->srv->check(req, &c->resp, c->srv->check_arg);
		if (r) {
			c->keep_alive = false;
			c->discard_body = true;
			c->resp.status = r >= 400 && r <= 599 ? r : 403;
			if (commit(c))
				builtin(c, c->resp.status);
			else
				pump(c);
			return;
		}
	}
	if (!strcmp(req->path, "*"))
		r = 204;
	else
		r = http_route_find(c->srv->routes, c->srv->nroutes, req, &route, c->allow,
				    sizeof(c->allow));
	if (r == 405 && req->method == HTTP_OPTIONS)
		r = 204;
	if (r) {
		c->pending_status = r;
		c->discard_body = true;
		if (has_body && p->expect_continue) /* no 100: answer now, then close */
			error_response(c, r);
		return;
	}
	req->route = route;
	if (!route->body && p->has_cl && p->content_length > c->srv->lim.body_buffer) {
		error_response(c, 413);
		return;
	}
	if (has_body && p->expect_continue && req->version == 11) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		memcpy(c->out, cont, sizeof(cont) - 1);
		c->out_off = 0;
		c->out_len = sizeof(cont) - 1;
		pump(c);
	}
}

static void on_body(struct http_conn *c, const uint8_t *data, size_t len)
{
	struct http_req *req = &c->req;
	const struct http_route *route = req->route;
	size_t have = (size_t)req->body_received;

	req->body_received += len;
	c->stamp = c->now;
	if (c->discard_body)
		return;
	if (route->body) {
		int err = route->body(req, data, len, route->arg);

		if (err < 0)
			error_response(c, errno_status(err));
		return;
	}
	if (len > c->srv->lim.body_buffer - have) {
		error_response(c, 413);
		return;
	}
	memcpy(c->bodybuf + have, data, len);
}

static void on_end(struct http_conn *c)
{
	struct http_req *req = &c->req;
	const struct http_route *route = req->route;
	int r;

	if (c->pending_status) {
		builtin(c, c->pending_status);
		return;
	}
	if (!route->body) {
		req->body = c->bodybuf;
		req->body_len = (size_t)req->body_received;
	}
	r = route->handler(req, &c->resp, route->arg);
	if (r == HTTP_DEFER) {
		c->state = HTTP_C_APP;
		return;
	}
	if (r < 0) {
		builtin(c, errno_status(r));
		return;
	}
	if (commit(c)) {
		builtin(c, 500);
		return;
	}
	pump(c);
}

size_t http_conn_feed(struct http_conn *c, const void *data, size_t len)
{
	const uint8_t *d = data;
	size_t off = 0;

	for (;;) {
		const uint8_t *body;
		size_t used, blen;
		bool was = c->p.started;
		int ev;

		switch (c->state) {
		case HTTP_C_CLOSING:
		case HTTP_C_CLOSED:
			return len;
		case HTTP_C_APP:
		case HTTP_C_SEND:
			return off;
		default:
			break;
		}
		/* An interim 100 not yet sent: wait rather than buffer. */
		if (c->out_off < c->out_len)
			return off;
		ev = http_parser_execute(&c->p, d + off, len - off, &used, &body, &blen);
		off += used;
		if (!was && c->p.started)
			c->stamp = c->now;
		switch (ev) {
		case HTTP_PEV_MORE:
			return off;
		case HTTP_PEV_HEAD:
			on_head(c);
			break;
		case HTTP_PEV_BODY:
			on_body(c, body, blen);
			break;
		case HTTP_PEV_END:
			on_end(c);
			break;
		default:
			error_response(c, c->p.status ? c->p.status : 400);
			break;
		}
	}
}

void http_conn_writable(struct http_conn *c)
{
	if (c->state != HTTP_C_CLOSED && c->state != HTTP_C_APP)
		pump(c);
}

void http_conn_sent(struct http_conn *c)
{
	http_conn_writable(c);
}

bool http_conn_wants_input(const struct http_conn *c)
{
	return (c->state == HTTP_C_READ || c->state == HTTP_C_BODY) && c->out_off >= c->out_len;
}

void http_conn_eof(struct http_conn *c)
{
	switch (c->state) {
	case HTTP_C_READ:
	case HTTP_C_BODY:
		do_close(c);
		break;
	case HTTP_C_APP:
	case HTTP_C_SEND:
		c->keep_alive = false;
		break;
	default:
		break;
	}
}

void http_conn_gone(struct http_conn *c)
{
	if (c->state != HTTP_C_CLOSED)
		cancel_app(c);
	c->state = HTTP_C_CLOSED;
}

enum http_conn_state http_conn_tick(struct http_conn *c, uint64_t now_ms)
{
	const struct http_limits *lim = &c->srv->lim;
	uint64_t dt;

	c->now = now_ms;
	dt = now_ms >= c->stamp ? now_ms - c->stamp : 0;
	switch (c->state) {
	case HTTP_C_READ:
		if (!c->p.started) {
			if (lim->idle_timeout_ms && dt >= lim->idle_timeout_ms)
				do_close(c);
		} else if (lim->header_timeout_ms && dt >= lim->header_timeout_ms) {
			error_response(c, 408);
		}
		break;
	case HTTP_C_BODY:
		if (lim->body_timeout_ms && dt >= lim->body_timeout_ms)
			error_response(c, 408);
		break;
	case HTTP_C_SEND:
	case HTTP_C_CLOSING:
		if (lim->send_timeout_ms && dt >= lim->send_timeout_ms)
			do_close(c);
		break;
	default:
		break;
	}
	return c->state;
}
