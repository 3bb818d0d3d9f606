/*
 * fixture.c: the shared HTTP test fixture (see fixture.h): fake transport,
 * route table and handlers, response parser.
 *
 * Assumes: host libc; aborts on allocation failure.
 * Leaves out: anything the core does itself (it is what is under test).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fixture.h"

struct upload_tally fx_upload;
struct http_req *fx_deferred;
int fx_cancelled;

uint8_t fx_pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) + (i >> 16));
}

uint64_t fx_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* ---- transport ---- */

static int io_send(void *ctx, const void *buf, size_t len)
{
	struct fake_io *io = ctx;
	size_t n = len < io->space ? len : io->space;

	if (io->closed)
		io->sends_after_close++;
	if (io->fail_send)
		return -ECONNRESET;
	if (io->out_len + n > io->out_cap) {
		io->out_cap = (io->out_len + n) * 2 + 4096;
		io->out = realloc(io->out, io->out_cap);
		if (!io->out)
			abort();
	}
	if (n)
		memcpy(io->out + io->out_len, buf, n);
	io->out_len += n;
	if (io->space != SIZE_MAX)
		io->space -= n;
	return (int)n;
}

static size_t io_space(void *ctx)
{
	struct fake_io *io = ctx;

	return io->space;
}

static void io_flush(void *ctx)
{
	struct fake_io *io = ctx;

	io->flushes++;
}

static void io_close(void *ctx)
{
	struct fake_io *io = ctx;

	io->closed++;
}

/* ---- handlers ---- */

static int h_hello(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	http_resp_type(resp, "text/plain");
	return http_resp_body_copy(resp, "hello world", 11);
}

static int h_echo(struct http_req *req, struct http_resp *resp, void *arg)
{
	const char *q = req->query;

	(void)arg;
	http_resp_type(resp, "application/octet-stream");
	if (*q && http_resp_header(resp, "X-Query", q))
		return -ENOSPC;
	return http_resp_body_copy(resp, req->body, req->body_len);
}

static int b_upload(struct http_req *req, const uint8_t *data, size_t len, void *arg)
{
	(void)req;
	(void)arg;
	fx_upload.bytes += len;
	fx_upload.hash = fx_fnv(fx_upload.hash, data, len);
	fx_upload.calls++;
	return 0;
}

static int h_upload(struct http_req *req, struct http_resp *resp, void *arg)
{
	char json[96];

	(void)arg;
	snprintf(json, sizeof(json), "{\"bytes\":%llu,\"hash\":\"%016llx\"}",
		 (unsigned long long)req->body_received, (unsigned long long)fx_upload.hash);
	return http_resp_json(resp, 200, json);
}

static int b_reject(struct http_req *req, const uint8_t *data, size_t len, void *arg)
{
	(void)req;
	(void)data;
	(void)arg;
	return len ? -EINVAL : 0;
}

struct prod {
	uint64_t pos, len;
};
static struct prod prod_big, prod_chunked;

static long produce(void *arg, uint8_t *buf, size_t space)
{
	struct prod *p = arg;
	size_t n = 0;

	while (n < space && p->pos < p->len)
		buf[n++] = fx_pattern(p->pos++);
	return (long)n;
}

static int h_big(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	prod_big = (struct prod){0, BIG_LEN};
	http_resp_type(resp, "application/octet-stream");
	http_resp_producer(resp, BIG_LEN, produce, &prod_big);
	return 0;
}

static int h_chunked(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	prod_chunked = (struct prod){0, CHUNKED_LEN};
	http_resp_type(resp, "application/octet-stream");
	http_resp_producer(resp, -1, produce, &prod_chunked);
	return 0;
}

int fx_slow_ready;
static int slow_done;

/* Not ready until the test says so (-EAGAIN), then "slow!" in one go. */
static long produce_slow(void *arg, uint8_t *buf, size_t space)
{
	(void)arg;
	if (!fx_slow_ready)
		return -EAGAIN;
	if (slow_done || space < 5)
		return 0;
	memcpy(buf, "slow!", 5);
	slow_done = 1;
	return 5;
}

static int h_slow(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	slow_done = 0;
	http_resp_type(resp, "text/plain");
	http_resp_producer(resp, -1, produce_slow, NULL);
	return 0;
}

static int h_json(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	return http_resp_json(resp, 200, "{\"ok\":true}");
}

static int h_fail(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)req;
	(void)resp;
	(void)arg;
	return -EIO;
}

static int h_defer(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)resp;
	(void)arg;
	fx_deferred = req;
	return HTTP_DEFER;
}

static void c_defer(struct http_req *req, void *arg)
{
	(void)arg;
	if (req == fx_deferred)
		fx_deferred = NULL;
	fx_cancelled++;
}

int fx_prod_cancelled;

/* GET /cbig: /big with a cancel callback (what a producer's owner hears). */
static void c_big(struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	fx_prod_cancelled++;
}

static int h_item(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	http_resp_status(resp, 201);
	http_resp_type(resp, "text/plain");
	return http_resp_body_copy(resp, req->path, strlen(req->path));
}

static int h_delete(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	http_resp_status(resp, 204);
	return 0;
}

static const uint8_t app_js[] = "console.log('hearth');\n";
static const uint8_t app_js_gz[] = {0x1f, 0x8b, 0x08, 0x00, 'g', 'z', 'i', 'p', 'p', 'e', 'd'};
static const uint8_t index_html[] = "<!doctype html><title>Hearth</title>\n";
static const struct http_static_file files[] = {
	{"/ui/app.js", "text/javascript", app_js, sizeof(app_js) - 1, app_js_gz,
	 sizeof(app_js_gz), "\"js1\""},
	{"/ui/index.html", "text/html; charset=utf-8", index_html, sizeof(index_html) - 1, NULL,
	 0, "\"ix7\""},
};
static const struct http_static_table table = {files, 2, "max-age=60"};

static const struct http_route routes[] = {
	{"GET", "/hello", 0, h_hello, NULL, NULL, NULL},
	{"DELETE", "/hello", 0, h_delete, NULL, NULL, NULL},
	{"POST", "/echo", 0, h_echo, NULL, NULL, NULL},
	{"PUT", "/echo", 0, h_echo, NULL, NULL, NULL},
	{"POST", "/upload", 0, h_upload, b_upload, NULL, NULL},
	{"POST", "/reject", 0, h_upload, b_reject, NULL, NULL},
	{"GET", "/big", 0, h_big, NULL, NULL, NULL},
	{"GET", "/cbig", 0, h_big, NULL, c_big, NULL},
	{"GET", "/chunked", 0, h_chunked, NULL, NULL, NULL},
	{"GET", "/json", 0, h_json, NULL, NULL, NULL},
	{"GET", "/slow", 0, h_slow, NULL, NULL, NULL},
	{"GET", "/fail", 0, h_fail, NULL, NULL, NULL},
	{"GET", "/defer", 0, h_defer, NULL, c_defer, NULL},
	{"PUT", "/items/", HTTP_ROUTE_PREFIX, h_item, NULL, NULL, NULL},
	{"GET", "/ui/", HTTP_ROUTE_PREFIX, http_static_handler, NULL, NULL, (void *)&table},
};

void fx_server(struct http_server *srv)
{
	memset(srv, 0, sizeof(*srv));
	http_limits_default(&srv->lim);
	srv->lim.max_request_line = 256;
	srv->lim.max_header_bytes = 1024;
	srv->lim.max_headers = 16;
	srv->lim.max_body = 2u << 20;
	srv->lim.max_trailer_bytes = 128;
	srv->lim.body_buffer = 1024;
	srv->lim.out_buffer = 512;
	srv->lim.resp_header_bytes = 256;
	srv->lim.header_timeout_ms = 1000;
	srv->lim.body_timeout_ms = 2000;
	srv->lim.idle_timeout_ms = 5000;
	srv->lim.send_timeout_ms = 3000;
	srv->routes = routes;
	srv->nroutes = sizeof(routes) / sizeof(routes[0]);
	fx_upload = (struct upload_tally){0, FNV_INIT, 0};
}

void fx_conn(struct tconn *t, const struct http_server *srv, uint64_t now)
{
	struct http_io io = {io_send, io_space, io_flush, io_close, NULL};
	size_t n = http_conn_buf_size(&srv->lim);

	memset(t, 0, sizeof(*t));
	t->io.space = SIZE_MAX;
	io.ctx = &t->io;
	t->buf = malloc(n);
	if (!t->buf || http_conn_init(&t->c, srv, &io, t->buf, n, now))
		abort();
}

void fx_conn_free(struct tconn *t)
{
	free(t->buf);
	free(t->io.out);
	t->buf = NULL;
	t->io.out = NULL;
}

int fx_feed_all(struct tconn *t, const void *data, size_t len, size_t drain)
{
	const uint8_t *p = data;
	int stalls = 0;

	while (len) {
		size_t before = t->io.out_len;
		size_t n = http_conn_feed(&t->c, p, len);

		p += n;
		len -= n;
		if (!len)
			break;
		if (t->io.space != SIZE_MAX)
			t->io.space = drain;
		http_conn_writable(&t->c);
		if (!n && t->io.out_len == before && ++stalls > 2)
			return -1;
		if (n || t->io.out_len != before)
			stalls = 0;
	}
	return 0;
}

/* ---- responses ---- */

static const char *find_crlf2(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 3 < len; i++)
		if (!memcmp(p + i, "\r\n\r\n", 4))
			return (const char *)p + i;
	return NULL;
}

int fx_header(const struct fx_resp *r, const char *name, char *out, size_t out_len)
{
	const char *s = r->head, *end = r->head + r->head_len;
	size_t nl = strlen(name);

	while (s < end) {
		const char *e = memchr(s, '\n', (size_t)(end - s));

		if (!e)
			e = end;
		if ((size_t)(e - s) > nl && !strncasecmp(s, name, nl) && s[nl] == ':') {
			const char *v = s + nl + 1;
			size_t n;

			while (*v == ' ')
				v++;
			n = (size_t)(e - v);
			if (n && v[n - 1] == '\r')
				n--;
			if (n >= out_len)
				n = out_len - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		s = e + 1;
	}
	return -1;
}

long fx_parse_resp(const uint8_t *p, size_t len, int head_only, struct fx_resp *r)
{
	const char *e = find_crlf2(p, len);
	char v[64];
	size_t off;

	memset(r, 0, sizeof(*r));
	if (!e)
		return 0;
	if (len < 12 || memcmp(p, "HTTP/1.1 ", 9))
		return -1;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	r->head = (const char *)p;
	r->head_len = (size_t)(e - (const char *)p) + 2;
	off = r->head_len + 2;
	if (head_only || r->status < 200 || r->status == 204 || r->status == 304)
		return (long)off;
	if (!fx_header(r, "Content-Length", v, sizeof(v))) {
		size_t n = strtoul(v, NULL, 10);

		if (len - off < n)
			return 0;
		r->body = p + off;
		r->body_len = n;
		return (long)(off + n);
	}
	if (!fx_header(r, "Transfer-Encoding", v, sizeof(v))) {
		uint8_t *b = NULL;
		size_t bl = 0;

		if (strcmp(v, "chunked"))
			return -1;
		for (;;) {
			size_t n = 0, d = 0;

			while (off + d < len && isxdigit(p[off + d])) {
				int c = p[off + d++];

				n = n * 16 + (size_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
				if (d > 8)
					goto bad;
			}
			if (off + d + 2 > len)
				goto incomplete;
			if (!d || p[off + d] != '\r' || p[off + d + 1] != '\n')
				goto bad;
			off += d + 2;
			if (len - off < n + 2)
				goto incomplete;
			if (n == 0) {
				if (memcmp(p + off, "\r\n", 2))
					goto bad;
				off += 2;
				break;
			}
			b = realloc(b, bl + n);
			if (!b)
				abort();
			memcpy(b + bl, p + off, n);
			bl += n;
			off += n;
			if (memcmp(p + off, "\r\n", 2))
				goto bad;
			off += 2;
		}
		r->body = b;
		r->owned = b;
		r->body_len = bl;
		r->chunked = 1;
		return (long)off;
incomplete:
		free(b);
		return 0;
bad:
		free(b);
		return -1;
	}
	/* close-delimited: the rest */
	r->body = p + off;
	r->body_len = len - off;
	return (long)len;
}

void fx_resp_free(struct fx_resp *r)
{
	free(r->owned);
	r->owned = NULL;
}
