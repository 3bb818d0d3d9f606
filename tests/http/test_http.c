/*
 * test_http.c: unit tests for the HTTP/1.1 server core (stack/http_*.c),
 * run on the host under ASan + UBSan (tests/http.mk).
 *
 * Covers: every valid request fed whole, split at every byte and one byte at
 * a time, giving the same output; keep-alive rules; pipelining; chunked
 * bodies (extensions, trailers); each malformed request's status with the
 * connection closed while a second connection keeps working; timeouts via
 * http_conn_tick; back-pressure (1 MB and chunked responses through a tiny
 * transport, input paused meanwhile); 1 MB uploads streamed and hashed;
 * 100-continue; router 404/405/HEAD/OPTIONS/prefix; static gzip/ETag/304;
 * deferred responses; Date formatting; token look-ups.
 * Assumes: tests/http/fixture.c's routes and limits.
 * Leaves out: sockets and TLS (the glue's tests), fuzzing (fuzz_http.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static int checks, failures;

#define CHECK(cond)                                                                       \
	do {                                                                              \
		checks++;                                                                 \
		if (!(cond)) {                                                            \
			failures++;                                                       \
			fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__, \
				__func__, #cond);                                         \
		}                                                                         \
	} while (0)

static struct http_server srv;

/* Runs (req) on a fresh conn fed in pieces: split (0 = whole; otherwise the
 * first piece is split bytes, the rest whole; SIZE_MAX = one byte at a time).
 * Returns the conn (caller frees). */
static void run(struct tconn *t, const char *req, size_t len, size_t split)
{
	fx_conn(t, &srv, 0);
	if (split == SIZE_MAX) {
		size_t i;

		for (i = 0; i < len; i++)
			CHECK(fx_feed_all(t, req + i, 1, 0) == 0);
	} else if (split) {
		CHECK(fx_feed_all(t, req, split, 0) == 0);
		CHECK(fx_feed_all(t, req + split, len - split, 0) == 0);
	} else {
		CHECK(fx_feed_all(t, req, len, 0) == 0);
	}
}

/* Parses every response in t's output into (r) (up to max); (heads) marks
 * the ones answering HEAD. Returns the count, -1 if the output has junk. */
static int responses(struct tconn *t, struct fx_resp *r, int max, const int *heads)
{
	size_t off = 0;
	int n = 0;

	while (off < t->io.out_len && n < max) {
		long len = fx_parse_resp(t->io.out + off, t->io.out_len - off, heads ? heads[n] : 0,
					 &r[n]);

		if (len <= 0)
			return -1;
		off += (size_t)len;
		if (r[n].status == 100)
			continue; /* interim */
		n++;
	}
	return off == t->io.out_len ? n : -1;
}

static void free_resps(struct fx_resp *r, int n)
{
	while (n-- > 0)
		fx_resp_free(&r[n]);
}

static int body_is(const struct fx_resp *r, const char *s)
{
	return r->body_len == strlen(s) && !memcmp(r->body, s, r->body_len);
}

static int header_is(const struct fx_resp *r, const char *name, const char *want)
{
	char v[256];

	return !fx_header(r, name, v, sizeof(v)) && !strcmp(v, want);
}

/* ------------------------------------------------------------------------ */

struct valid_case {
	const char *req;
	int n;		/* responses */
	int status[4];
	const char *body[4];
	int closes;
};

static const struct valid_case valid[] = {
	{"GET /hello HTTP/1.1\r\nHost: h\r\n\r\n", 1, {200}, {"hello world"}, 0},
	{"\r\nGET /hello HTTP/1.1\r\nHost: h\r\nUser-Agent: t  \r\nX-Empty:\r\n\r\n", 1,
	 {200}, {"hello world"}, 0},
	{"GET /hello HTTP/1.1\nHost: h\n\n", 1, {200}, {"hello world"}, 0},
	{"POST /echo?a=1&b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabcde", 1, {200},
	 {"abcde"}, 0},
	{"POST /echo HTTP/1.1\r\nhost: h\r\ncontent-length: 3, 3\r\n\r\nxyz", 1, {200}, {"xyz"},
	 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	 "5;ext=1;x=\"q\"\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n",
	 1, {200}, {"hello world!"}, 0},
	{"PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	 "A\r\n0123456789\r\n0\r\n\r\n",
	 1, {200}, {"0123456789"}, 0},
	{"GET /hello HTTP/1.1\r\nHost: h\r\n\r\nPOST /echo HTTP/1.1\r\nHost: h\r\n"
	 "Content-Length: 2\r\n\r\nokGET /json HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	 3, {200, 200, 200}, {"hello world", "ok", "{\"ok\":true}"}, 1},
	{"GET /hello HTTP/1.0\r\n\r\n", 1, {200}, {"hello world"}, 1},
	{"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /nope HTTP/1.0\r\n\r\n", 2,
	 {200, 404}, {"hello world", "404 Not Found\n"}, 1},
	{"GET http://hearth.local/hello HTTP/1.1\r\nHost: hearth.local\r\n\r\n", 1, {200},
	 {"hello world"}, 0},
	{"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\nGET /fail HTTP/1.1\r\nHost: h\r\n\r\n", 2,
	 {200, 500}, {NULL, "500 Internal Server Error\n"}, 0},
	{"PUT /items/42 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 1, {201},
	 {"/items/42"}, 0},
	{"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 1, {204}, {NULL}, 0},
};

/* Every valid request: the same responses whole, at every split, bytewise. */
static void test_splits(void)
{
	size_t k;

	for (k = 0; k < sizeof(valid) / sizeof(valid[0]); k++) {
		const struct valid_case *v = &valid[k];
		size_t len = strlen(v->req), s;
		struct tconn whole;
		struct fx_resp r[4];
		int n, i;

		run(&whole, v->req, len, 0);
		n = responses(&whole, r, 4, NULL);
		CHECK(n == v->n);
		for (i = 0; i < n && i < v->n; i++) {
			CHECK(r[i].status == v->status[i]);
			if (v->body[i])
				CHECK(body_is(&r[i], v->body[i]));
		}
		if (n != v->n || (n > 0 && r[0].status != v->status[0]))
			fprintf(stderr, "  case %zu: %.*s\n", k, (int)whole.io.out_len,
				whole.io.out);
		free_resps(r, n);
		CHECK(whole.io.closed == v->closes);
		CHECK(whole.io.sends_after_close == 0);

		for (s = 1; s <= len; s++) {
			struct tconn t;

			run(&t, v->req, len, s == len ? SIZE_MAX : s);
			CHECK(t.io.out_len == whole.io.out_len);
			CHECK(!memcmp(t.io.out, whole.io.out, whole.io.out_len));
			CHECK(t.io.closed == v->closes);
			fx_conn_free(&t);
		}
		fx_conn_free(&whole);
	}
}

static void test_keepalive(void)
{
	struct tconn t;
	struct fx_resp r[2];
	const char *a = "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n";
	const char *b = "GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	const char *c = "GET /hello HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";

	run(&t, a, strlen(a), 0);
	CHECK(responses(&t, r, 2, NULL) == 1);
	CHECK(fx_header(&r[0], "Connection", (char[8]){0}, 8) == -1);
	CHECK(!t.io.closed && t.c.state == HTTP_C_READ);
	/* the same connection serves a second request */
	t.io.out_len = 0;
	CHECK(fx_feed_all(&t, b, strlen(b), 0) == 0);
	CHECK(responses(&t, r, 2, NULL) == 1 && r[0].status == 200);
	CHECK(header_is(&r[0], "Connection", "close"));
	CHECK(t.io.closed == 1 && t.c.state == HTTP_C_CLOSED);
	/* input after close is swallowed, nothing more is sent */
	CHECK(http_conn_feed(&t.c, a, strlen(a)) == strlen(a));
	CHECK(t.io.sends_after_close == 0);
	fx_conn_free(&t);

	run(&t, c, strlen(c), 0);
	CHECK(responses(&t, r, 2, NULL) == 1);
	CHECK(header_is(&r[0], "Connection", "keep-alive"));
	CHECK(!t.io.closed);
	/* the peer's FIN between requests closes */
	http_conn_eof(&t.c);
	CHECK(t.io.closed == 1);
	fx_conn_free(&t);
}

struct bad_case {
	const char *req;
	int status;
	size_t len; /* 0: strlen(req) */
};

#define NUL_IN_VALUE "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"

static char long_uri[400], many_headers[1024], big_header[1400], long_method[300],
	big_trailer[400];

static const struct bad_case bad[] = {
	{"GET / HTTP/1.1\r\nHost: h\r\n folded: x\r\n\r\n", 400, 0},
	{"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tcontinued\r\n\r\n", 400, 0},
	{"GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400, 0},
	{"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, 0},
	{"GET / HTTP/1.1\r\n\r\n", 400, 0},
	{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0},
	{"GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400, 0},
	{NUL_IN_VALUE, 400, sizeof(NUL_IN_VALUE) - 1},
	{"GET / HTTP/1.1\r\nHost: h\r\n: novalue\r\n\r\n", 400, 0},
	{"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, 0},
	{"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400, 0},
	{"GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400, 0},
	{"GET relative HTTP/1.1\r\nHost: h\r\n\r\n", 400, 0},
	{"GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400, 0},
	{"GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400, 0},
	{"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400, 0},
	{"GET /\r\n\r\n", 400, 0},
	{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	 "11111111111111111\r\n", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	 "3\r\nabcX\r\n0\r\n\r\n", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400, 0},
	{"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	 "0\r\nbad trailer\r\n\r\n", 400, 0},
	{"POST /reject HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", 400, 0},
	{"GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", 417, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\n\r\n", 411, 0},
	{"PUT /echo HTTP/1.1\r\nHost: h\r\n\r\n", 411, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2097153\r\n\r\n", 413, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	 413, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n", 413, 0},
	{"POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	 "200001\r\n", 413, 0},
	{long_uri, 414, 0},
	{many_headers, 431, 0},
	{big_header, 431, 0},
	{big_trailer, 431, 0},
	{"BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", 501, 0},
	{"TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", 501, 0},
	{"get /hello HTTP/1.1\r\nHost: h\r\n\r\n", 501, 0},
	{long_method, 501, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, 0},
	{"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 501, 0},
	{"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, 0},
	{"GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505, 0},
	{"GET / HTTP/0.9\r\n\r\n", 505, 0},
};

static void make_bad_inputs(void)
{
	size_t n;
	int i;

	n = (size_t)snprintf(long_uri, sizeof(long_uri), "GET /");
	memset(long_uri + n, 'a', 300);
	strcpy(long_uri + n + 300, " HTTP/1.1\r\nHost: h\r\n\r\n");

	n = (size_t)snprintf(many_headers, sizeof(many_headers), "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 0; i < 17; i++)
		n += (size_t)snprintf(many_headers + n, sizeof(many_headers) - n, "X-%d: v\r\n", i);
	strcpy(many_headers + n, "\r\n");

	n = (size_t)snprintf(big_header, sizeof(big_header), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(big_header + n, 'v', 1100);
	strcpy(big_header + n + 1100, "\r\n\r\n");

	memset(long_method, 'A', 280);
	strcpy(long_method + 280, " / HTTP/1.1\r\n\r\n");

	n = (size_t)snprintf(big_trailer, sizeof(big_trailer),
			     "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "0\r\nX: ");
	memset(big_trailer + n, 't', 200);
	strcpy(big_trailer + n + 200, "\r\n\r\n");
}

static size_t bad_len(const struct bad_case *b)
{
	return b->len ? b->len : strlen(b->req);
}

/* Each malformed request: its status, Connection: close, the conn closed;
 * meanwhile another connection, opened before, keeps working. */
static void test_malformed(void)
{
	size_t k;

	make_bad_inputs();
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		const char *ok = "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n";
		size_t len = bad_len(&bad[k]);
		struct tconn other, t;
		struct fx_resp r[2];
		int split, n;

		fx_conn(&other, &srv, 0);
		for (split = 0; split < 2; split++) {
			run(&t, bad[k].req, len, split ? SIZE_MAX : 0);
			n = responses(&t, r, 2, NULL);
			CHECK(n == 1);
			if (n == 1) {
				CHECK(r[0].status == bad[k].status);
				CHECK(header_is(&r[0], "Connection", "close"));
			}
			if (n != 1 || r[0].status != bad[k].status)
				fprintf(stderr, "  bad case %zu (split %d): got %d\n", k, split,
					n == 1 ? r[0].status : -1);
			CHECK(t.io.closed == 1 && t.c.state == HTTP_C_CLOSED);
			CHECK(t.io.sends_after_close == 0);
			free_resps(r, n);
			fx_conn_free(&t);
		}
		CHECK(fx_feed_all(&other, ok, strlen(ok), 0) == 0);
		n = responses(&other, r, 2, NULL);
		CHECK(n == 1 && r[0].status == 200 && !other.io.closed);
		fx_conn_free(&other);
	}
}

static void test_timeouts(void)
{
	struct tconn t;
	struct fx_resp r[2];
	const char *partial = "GET /hello HTTP/1.1\r\nHo";
	const char *post = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc";
	const char *full = "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n";

	/* idle: closed silently, on time */
	fx_conn(&t, &srv, 100);
	CHECK(http_conn_tick(&t.c, 5099) == HTTP_C_READ && !t.io.closed);
	CHECK(http_conn_tick(&t.c, 5100) == HTTP_C_CLOSED && t.io.closed == 1);
	CHECK(t.io.out_len == 0);
	fx_conn_free(&t);

	/* head not complete in time: 408 and close */
	fx_conn(&t, &srv, 0);
	CHECK(http_conn_tick(&t.c, 4000) == HTTP_C_READ);
	CHECK(fx_feed_all(&t, partial, strlen(partial), 0) == 0);
	CHECK(http_conn_tick(&t.c, 4999) == HTTP_C_READ);
	CHECK(http_conn_tick(&t.c, 5000) == HTTP_C_CLOSED);
	CHECK(responses(&t, r, 2, NULL) == 1 && r[0].status == 408);
	CHECK(t.io.closed == 1);
	fx_conn_free(&t);

	/* body stalls: 408 */
	fx_conn(&t, &srv, 0);
	CHECK(fx_feed_all(&t, post, strlen(post), 0) == 0);
	CHECK(http_conn_tick(&t.c, 1999) == HTTP_C_BODY);
	CHECK(http_conn_tick(&t.c, 2000) == HTTP_C_CLOSED);
	CHECK(responses(&t, r, 2, NULL) == 1 && r[0].status == 408);
	fx_conn_free(&t);

	/* after a response the idle clock restarts */
	fx_conn(&t, &srv, 0);
	CHECK(http_conn_tick(&t.c, 4000) == HTTP_C_READ);
	CHECK(fx_feed_all(&t, full, strlen(full), 0) == 0);
	CHECK(http_conn_tick(&t.c, 8999) == HTTP_C_READ && !t.io.closed);
	CHECK(http_conn_tick(&t.c, 9000) == HTTP_C_CLOSED && t.io.closed == 1);
	fx_conn_free(&t);

	/* a reader that never reads: the stalled response is given up */
	fx_conn(&t, &srv, 0);
	t.io.space = 100;
	CHECK(http_conn_feed(&t.c, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n", 30) == 30);
	CHECK(t.c.state == HTTP_C_SEND);
	CHECK(http_conn_tick(&t.c, 2999) == HTTP_C_SEND);
	CHECK(http_conn_tick(&t.c, 3000) == HTTP_C_CLOSED && t.io.closed == 1);
	fx_conn_free(&t);
}

/* Drains (t) through a transport that takes (drain) bytes at a time. */
static void drain_all(struct tconn *t, size_t drain)
{
	int rounds = 0;

	while (t->c.state == HTTP_C_SEND || t->c.state == HTTP_C_CLOSING) {
		t->io.space = drain;
		http_conn_writable(&t->c);
		if (++rounds > 10000000)
			break;
	}
}

static void test_backpressure(void)
{
	const char *reqs = "GET /big HTTP/1.1\r\nHost: h\r\n\r\n"
			   "GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n"
			   "HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n"
			   "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t len = strlen(reqs), first = strlen("GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
	static const int heads[] = {0, 0, 1, 0};
	struct tconn t;
	struct fx_resp r[4];
	size_t n, i, off = 0;
	uint64_t k;
	int ok, rounds = 0;

	fx_conn(&t, &srv, 0);
	t.io.space = 7;
	n = http_conn_feed(&t.c, reqs, len);
	/* the parser stops after the first request while its response waits */
	CHECK(n == first);
	CHECK(t.c.state == HTTP_C_SEND);
	CHECK(!http_conn_wants_input(&t.c));
	CHECK(t.io.out_len == 7);
	off = n;
	/* a transport that drains a few odd bytes at a time */
	while (off < len || t.c.state == HTTP_C_SEND) {
		t.io.space = 1 + (size_t)(rounds++ % 997);
		http_conn_writable(&t.c);
		if (http_conn_wants_input(&t.c) && off < len)
			off += http_conn_feed(&t.c, reqs + off, len - off);
		if (rounds > 100000)
			break;
	}
	CHECK(off == len);
	CHECK(responses(&t, r, 4, heads) == 4);
	CHECK(r[0].status == 200 && r[0].body_len == BIG_LEN);
	for (k = 0, ok = 1; k < r[0].body_len; k++)
		if (r[0].body[k] != fx_pattern(k)) {
			ok = 0;
			break;
		}
	CHECK(ok);
	CHECK(r[1].status == 200 && r[1].chunked && r[1].body_len == CHUNKED_LEN);
	for (k = 0, ok = 1; k < r[1].body_len; k++)
		if (r[1].body[k] != fx_pattern(k)) {
			ok = 0;
			break;
		}
	CHECK(ok);
	CHECK(r[2].status == 200 && header_is(&r[2], "Content-Length", "1048576"));
	CHECK(r[3].status == 200 && body_is(&r[3], "hello world"));
	CHECK(!t.io.closed);
	free_resps(r, 4);
	fx_conn_free(&t);

	/* the same with a transport that takes one byte at a time */
	fx_conn(&t, &srv, 0);
	t.io.space = 0;
	CHECK(http_conn_feed(&t.c, "GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n", 34) == 34);
	CHECK(t.io.out_len == 0 && t.c.state == HTTP_C_SEND);
	CHECK(http_conn_feed(&t.c, "GET", 3) == 0);
	drain_all(&t, 1);
	CHECK(responses(&t, r, 1, NULL) == 1 && r[0].body_len == CHUNKED_LEN);
	free_resps(r, 1);
	fx_conn_free(&t);

	/* HTTP/1.0 and a body of unknown length: close-delimited */
	fx_conn(&t, &srv, 0);
	CHECK(fx_feed_all(&t, "GET /chunked HTTP/1.0\r\n\r\n", 25, 0) == 0);
	CHECK(t.io.closed == 1);
	CHECK(responses(&t, r, 1, NULL) == 1 && !r[0].chunked);
	CHECK(r[0].body_len == CHUNKED_LEN);
	CHECK(header_is(&r[0], "Connection", "close"));
	fx_conn_free(&t);

	/* a producer with nothing ready yet: input waits, nothing is lost */
	{
		const char *two = "GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n";
		size_t l2 = strlen(two), m;

		fx_slow_ready = 0;
		fx_conn(&t, &srv, 0);
		m = http_conn_feed(&t.c, two, l2);
		CHECK(m == 31 && t.c.state == HTTP_C_SEND && !http_conn_wants_input(&t.c));
		http_conn_writable(&t.c);
		CHECK(http_conn_feed(&t.c, two + m, l2 - m) == 0);
		fx_slow_ready = 1;
		http_conn_writable(&t.c);
		CHECK(http_conn_wants_input(&t.c));
		CHECK(http_conn_feed(&t.c, two + m, l2 - m) == l2 - m);
		CHECK(responses(&t, r, 2, NULL) == 2 && r[0].chunked && body_is(&r[0], "slow!"));
		CHECK(r[1].status == 200 && body_is(&r[1], "hello world"));
		free_resps(r, 2);
		fx_conn_free(&t);
	}

	/* the transport dies mid-response */
	fx_conn(&t, &srv, 0);
	t.io.space = 50;
	CHECK(http_conn_feed(&t.c, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n", 30) == 30);
	t.io.fail_send = 1;
	t.io.space = 50;
	http_conn_writable(&t.c);
	CHECK(t.c.state == HTTP_C_CLOSED && t.io.closed == 1);
	fx_conn_free(&t);
	(void)i;
}

static void upload(int chunked, int expect, size_t piece_seed)
{
	uint8_t *body = malloc(BIG_LEN), *req = malloc(BIG_LEN * 2);
	size_t len = 0, off, i;
	uint64_t want;
	struct tconn t;
	struct fx_resp r[2];
	char exp[80];
	unsigned seed = (unsigned)piece_seed;

	for (i = 0; i < BIG_LEN; i++)
		body[i] = (uint8_t)(fx_pattern(i) ^ 0x5a);
	want = fx_fnv(FNV_INIT, body, BIG_LEN);
	len += (size_t)sprintf((char *)req, "POST /upload HTTP/1.1\r\nHost: h\r\n%s",
			       expect ? "Expect: 100-continue\r\n" : "");
	if (!chunked) {
		len += (size_t)sprintf((char *)req + len, "Content-Length: %u\r\n\r\n", BIG_LEN);
		memcpy(req + len, body, BIG_LEN);
		len += BIG_LEN;
	} else {
		len += (size_t)sprintf((char *)req + len, "Transfer-Encoding: chunked\r\n\r\n");
		for (off = 0; off < BIG_LEN;) {
			size_t n = 1 + (off * 31 + 7) % 40000;

			if (n > BIG_LEN - off)
				n = BIG_LEN - off;
			len += (size_t)sprintf((char *)req + len, "%zX;i=%zu\r\n", n, off);
			memcpy(req + len, body + off, n);
			len += n;
			memcpy(req + len, "\r\n", 2);
			len += 2;
			off += n;
		}
		len += (size_t)sprintf((char *)req + len, "0\r\nDigest: x\r\n\r\n");
	}
	fx_server(&srv);
	fx_conn(&t, &srv, 0);
	for (off = 0; off < len;) {
		size_t n = 1 + (seed = seed * 1103515245u + 12345u) % 70000;

		if (n > len - off)
			n = len - off;
		CHECK(fx_feed_all(&t, req + off, n, 0) == 0);
		off += n;
	}
	CHECK(fx_upload.bytes == BIG_LEN && fx_upload.hash == want);
	CHECK(fx_upload.calls >= 2);
	snprintf(exp, sizeof(exp), "{\"bytes\":%u,\"hash\":\"%016llx\"}", BIG_LEN,
		 (unsigned long long)want);
	CHECK(responses(&t, r, 2, NULL) == 1 && r[0].status == 200 && body_is(&r[0], exp));
	CHECK(header_is(&r[0], "Content-Type", "application/json"));
	CHECK(!memcmp(t.io.out, "HTTP/1.1 100 Continue\r\n\r\n", 25) == !!expect);
	free_resps(r, 1);
	fx_conn_free(&t);
	free(body);
	free(req);
}

static void test_upload(void)
{
	upload(0, 0, 1);
	upload(1, 0, 2);
	upload(0, 1, 3);
	upload(1, 1, 4);
}

static void test_router(void)
{
	struct tconn t;
	struct fx_resp r[8];
	static const int heads[] = {0, 0, 1, 0, 0, 0, 1, 0};
	const char *reqs = "GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n"
			   "POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
			   "HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n"
			   "OPTIONS /hello HTTP/1.1\r\nHost: h\r\n\r\n"
			   "DELETE /hello HTTP/1.1\r\nHost: h\r\n\r\n"
			   "PUT /items/x/y?z=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
			   "HEAD /nowhere HTTP/1.1\r\nHost: h\r\n\r\n"
			   "GET /items/x HTTP/1.1\r\nHost: h\r\n\r\n";

	run(&t, reqs, strlen(reqs), 0);
	CHECK(responses(&t, r, 8, heads) == 8);
	CHECK(r[0].status == 404 && body_is(&r[0], "404 Not Found\n"));
	CHECK(r[1].status == 405 && header_is(&r[1], "Allow", "GET, HEAD, DELETE, OPTIONS"));
	CHECK(r[2].status == 200 && header_is(&r[2], "Content-Length", "11"));
	CHECK(r[2].body_len == 0);
	CHECK(r[3].status == 204 && header_is(&r[3], "Allow", "GET, HEAD, DELETE, OPTIONS"));
	CHECK(r[4].status == 204 && fx_header(&r[4], "Content-Length", (char[8]){0}, 8) == -1);
	CHECK(r[5].status == 201 && body_is(&r[5], "/items/x/y"));
	CHECK(r[6].status == 404 && r[6].body_len == 0);
	CHECK(r[7].status == 405 && header_is(&r[7], "Allow", "PUT, OPTIONS"));
	CHECK(!t.io.closed);
	free_resps(r, 8);
	fx_conn_free(&t);
}

static void test_static(void)
{
	struct {
		const char *req;
		int status;
		const char *enc, *etag, *body;
	} c[] = {
		{"GET /ui/app.js HTTP/1.1\r\nHost: h\r\n\r\n", 200, NULL, "\"js1\"",
		 "console.log('hearth');\n"},
		{"GET /ui/app.js HTTP/1.1\r\nHost: h\r\nAccept-Encoding: br, gzip;q=0.8\r\n\r\n", 200,
		 "gzip", "\"js1-gz\"", "\x1f\x8b\x08"},
		{"GET /ui/app.js HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip;q=0\r\n\r\n", 200,
		 NULL, "\"js1\"", "console"},
		{"GET /ui/app.js HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"js1\"\r\n\r\n", 304, NULL,
		 "\"js1\"", NULL},
		{"GET /ui/app.js HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n"
		 "If-None-Match: \"zz\", W/\"js1-gz\"\r\n\r\n", 304, NULL, "\"js1-gz\"", NULL},
		{"GET /ui/app.js HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n"
		 "If-None-Match: \"js1\"\r\n\r\n", 200, "gzip", "\"js1-gz\"", "\x1f\x8b"},
		{"GET /ui/index.html HTTP/1.1\r\nHost: h\r\nIf-None-Match: *\r\n\r\n", 304, NULL,
		 "\"ix7\"", NULL},
		{"GET /ui/index.html HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n", 200,
		 NULL, "\"ix7\"", "<!doctype"},
		{"GET /ui/missing.css HTTP/1.1\r\nHost: h\r\n\r\n", 404, NULL, NULL, "404"},
	};
	size_t k;

	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		struct tconn t;
		struct fx_resp r[2];
		int n;

		run(&t, c[k].req, strlen(c[k].req), 0);
		n = responses(&t, r, 2, NULL);
		CHECK(n == 1);
		if (n != 1)
			continue;
		CHECK(r[0].status == c[k].status);
		if (c[k].enc)
			CHECK(header_is(&r[0], "Content-Encoding", c[k].enc));
		else
			CHECK(fx_header(&r[0], "Content-Encoding", (char[8]){0}, 8) == -1);
		if (c[k].etag) {
			CHECK(header_is(&r[0], "ETag", c[k].etag));
			CHECK(header_is(&r[0], "Cache-Control", "max-age=60"));
		}
		if (strstr(c[k].req, "app.js"))
			CHECK(header_is(&r[0], "Vary", "Accept-Encoding"));
		else
			CHECK(fx_header(&r[0], "Vary", (char[8]){0}, 8) == -1);
		if (c[k].body)
			CHECK(r[0].body_len >= strlen(c[k].body) &&
			      !memcmp(r[0].body, c[k].body, strlen(c[k].body)));
		else
			CHECK(r[0].body_len == 0);
		if (c[k].status == 200 && !c[k].enc && strstr(c[k].req, "index"))
			CHECK(header_is(&r[0], "Content-Type", "text/html; charset=utf-8"));
		free_resps(r, n);
		fx_conn_free(&t);
	}
}

static void test_defer(void)
{
	const char *reqs = "GET /defer HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t len = strlen(reqs), n;
	struct tconn t;
	struct fx_resp r[2];

	fx_deferred = NULL;
	fx_conn(&t, &srv, 0);
	n = http_conn_feed(&t.c, reqs, len);
	CHECK(n == 32 && fx_deferred && t.c.state == HTTP_C_APP);
	CHECK(t.io.out_len == 0);
	CHECK(http_conn_feed(&t.c, reqs + n, len - n) == 0);
	CHECK(!strcmp(fx_deferred->path, "/defer"));
	CHECK(http_resp_json(&t.c.resp, 202, "{\"later\":1}") == 0);
	CHECK(http_resp_commit(&t.c.resp) == 0);
	CHECK(http_resp_commit(&t.c.resp) == -EPIPE);
	CHECK(http_conn_wants_input(&t.c));
	CHECK(http_conn_feed(&t.c, reqs + n, len - n) == len - n);
	CHECK(responses(&t, r, 2, NULL) == 2);
	CHECK(r[0].status == 202 && body_is(&r[0], "{\"later\":1}"));
	CHECK(r[1].status == 200);
	free_resps(r, 2);
	fx_conn_free(&t);

	/* the connection goes away while the handler holds the request */
	fx_cancelled = 0;
	fx_conn(&t, &srv, 0);
	CHECK(http_conn_feed(&t.c, reqs, 32) == 32 && fx_deferred);
	http_conn_gone(&t.c);
	CHECK(fx_cancelled == 1 && fx_deferred == NULL);
	CHECK(t.io.closed == 0);
	fx_conn_free(&t);
}

/* A producer's route hears through cancel when its body will not be asked
 * for to the end, and only then. */
static void test_producer_cancel(void)
{
	const char *get = "GET /cbig HTTP/1.1\r\nHost: h\r\n\r\n";
	const char *head = "HEAD /cbig HTTP/1.1\r\nHost: h\r\n\r\n";
	struct tconn t;
	int rounds = 0;

	/* the whole body goes out: no cancel */
	fx_prod_cancelled = 0;
	fx_conn(&t, &srv, 0);
	CHECK(fx_feed_all(&t, get, strlen(get), 0) == 0);
	CHECK(t.c.state == HTTP_C_READ && fx_prod_cancelled == 0);
	fx_conn_free(&t);

	/* the transport dies mid-body: one cancel, none at close */
	fx_conn(&t, &srv, 0);
	t.io.space = 100;
	CHECK(http_conn_feed(&t.c, get, strlen(get)) == strlen(get));
	CHECK(t.c.state == HTTP_C_SEND && fx_prod_cancelled == 0);
	t.io.fail_send = 1;
	t.io.space = 100;
	http_conn_writable(&t.c);
	CHECK(t.c.state == HTTP_C_CLOSED && fx_prod_cancelled == 1);
	http_conn_gone(&t.c);
	CHECK(fx_prod_cancelled == 1);
	fx_conn_free(&t);

	/* the peer resets mid-body */
	fx_prod_cancelled = 0;
	fx_conn(&t, &srv, 0);
	t.io.space = 100;
	CHECK(http_conn_feed(&t.c, get, strlen(get)) == strlen(get));
	while (t.io.out_len < 5000 && rounds++ < 1000) {
		t.io.space = 100;
		http_conn_writable(&t.c);
	}
	CHECK(t.c.state == HTTP_C_SEND);
	http_conn_gone(&t.c);
	CHECK(fx_prod_cancelled == 1);
	fx_conn_free(&t);

	/* HEAD: the producer is never called */
	fx_prod_cancelled = 0;
	fx_conn(&t, &srv, 0);
	CHECK(fx_feed_all(&t, head, strlen(head), 0) == 0);
	CHECK(fx_prod_cancelled == 1);
	fx_conn_free(&t);
}

static int64_t fixed_clock(void *arg)
{
	(void)arg;
	return 784111777;
}

static void test_helpers(void)
{
	char d[40];
	struct tconn t;
	struct fx_resp r[2];
	struct http_server s2;
	const char *a = "GET /json HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip;q=0, br\r\n"
			"Accept: text/html, application/json;q=0.5\r\n\r\n";

	CHECK(http_date_format(784111777, d, sizeof(d)) == 29);
	CHECK(!strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT"));
	CHECK(http_date_format(0, d, sizeof(d)) == 29 && !strcmp(d, "Thu, 01 Jan 1970 00:00:00 GMT"));
	CHECK(http_date_format(951782400, d, sizeof(d)) == 29 &&
	      !strcmp(d, "Tue, 29 Feb 2000 00:00:00 GMT"));
	CHECK(http_date_format(1735689599, d, sizeof(d)) == 29 &&
	      !strcmp(d, "Tue, 31 Dec 2024 23:59:59 GMT"));
	CHECK(http_date_format(-1, d, sizeof(d)) == -EINVAL);
	CHECK(http_date_format(0, d, 10) == -EINVAL);

	s2 = srv;
	s2.wall_clock = fixed_clock;
	s2.server_name = "hearth";
	run(&t, a, strlen(a), 0);
	CHECK(responses(&t, r, 2, NULL) == 1);
	CHECK(fx_header(&r[0], "Date", d, sizeof(d)) == -1);
	fx_conn_free(&t);

	fx_conn(&t, &s2, 0);
	CHECK(fx_feed_all(&t, a, strlen(a), 0) == 0);
	CHECK(responses(&t, r, 2, NULL) == 1);
	CHECK(header_is(&r[0], "Date", "Sun, 06 Nov 1994 08:49:37 GMT"));
	CHECK(header_is(&r[0], "Server", "hearth"));
	CHECK(header_is(&r[0], "Content-Type", "application/json"));
	CHECK(body_is(&r[0], "{\"ok\":true}"));
	fx_conn_free(&t);

	/* token look-ups on a parsed request */
	{
		struct http_parser p;
		struct http_header h[8];
		char buf[512];
		struct http_req req;
		const uint8_t *b;
		size_t used, bl;

		memset(&req, 0, sizeof(req));
		CHECK(http_parser_init(&p, &srv.lim, buf, sizeof(buf), h, 8) == -EINVAL);
		{
			static char big[2048];

			CHECK(http_parser_init(&p, &srv.lim, big, sizeof(big), h, 8) == 0);
			CHECK(http_parser_execute(&p, (const uint8_t *)a, strlen(a), &used, &b,
						  &bl) == HTTP_PEV_HEAD);
			CHECK(used == strlen(a));
			http_parser_fill(&p, &req);
			CHECK(!http_req_has_token(&req, "Accept-Encoding", "gzip"));
			CHECK(http_req_has_token(&req, "accept-encoding", "BR"));
			CHECK(http_req_has_token(&req, "accept", "application/json"));
			CHECK(!http_req_has_token(&req, "accept", "text/plain"));
			CHECK(!strcmp(http_req_header(&req, "HOST"), "h"));
			CHECK(http_req_header(&req, "missing") == NULL);
			CHECK(http_parser_execute(&p, NULL, 0, &used, &b, &bl) == HTTP_PEV_END);
		}
	}
}

static void test_resp_api(void)
{
	struct tconn t;

	fx_conn(&t, &srv, 0);
	CHECK(http_resp_header(&t.c.resp, "Content-Length", "5") == -EINVAL);
	CHECK(http_resp_header(&t.c.resp, "X-Bad", "a\r\nInjected: 1") == -EINVAL);
	CHECK(http_resp_header(&t.c.resp, "Bad Name", "v") == -EINVAL);
	CHECK(http_resp_header(&t.c.resp, "X-Ok", "v") == 0);
	{
		static char big[600];

		memset(big, 'x', sizeof(big) - 1);
		CHECK(http_resp_header(&t.c.resp, "X-Big", big) == -ENOSPC);
		CHECK(http_resp_body_copy(&t.c.resp, big, sizeof(big)) == -ENOSPC);
	}
	fx_conn_free(&t);
}

/* The server-wide hooks: default headers on every response (a handler's
 * own header of the same name wins) and the per-request check. */
static int refuse_bad_host(const struct http_req *req, struct http_resp *resp, void *arg)
{
	const char *h = http_req_header(req, "Host");

	(void)arg;
	if (h && !strcmp(h, "good"))
		return 0;
	http_resp_json(resp, 421, "{\"error\":\"host\"}");
	return 421;
}

static void test_server_hooks(void)
{
	static const char defs[] = "X-Sec: 1\r\nCache-Control: no-store\r\n";
	struct {
		const char *req;
		int status;
		const char *cache;
	} c[] = {
		{"GET /ui/app.js HTTP/1.1\r\nHost: good\r\n\r\n", 200, "max-age=60"}, /* its own */
		{"GET /nowhere HTTP/1.1\r\nHost: good\r\n\r\n", 404, "no-store"},
		{"GET /ui/app.js HTTP/1.1\r\nHost: evil\r\n\r\n", 421, "no-store"},
		{"POST /upload HTTP/1.1\r\nHost: evil\r\nContent-Length: 5\r\n\r\nhello", 421,
		 "no-store"},
		{"GET / HTTP/1.0\r\n\r\n", 421, "no-store"},
	};
	size_t k;

	srv.default_headers = defs;
	srv.check = refuse_bad_host;
	fx_upload.calls = 0;
	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		struct tconn t;
		struct fx_resp r[2];
		int n;

		run(&t, c[k].req, strlen(c[k].req), 0);
		n = responses(&t, r, 2, NULL);
		CHECK(n == 1);
		if (n != 1) {
			fx_conn_free(&t);
			continue;
		}
		CHECK(r[0].status == c[k].status);
		CHECK(header_is(&r[0], "X-Sec", "1"));
		CHECK(header_is(&r[0], "Cache-Control", c[k].cache));
		if (c[k].status == 421) {
			CHECK(header_is(&r[0], "Connection", "close"));
			CHECK(r[0].body_len == 16 && !memcmp(r[0].body, "{\"error\":\"host\"}", 16));
			CHECK(t.io.closed == 1);
		}
		fx_resp_free(&r[0]);
		fx_conn_free(&t);
	}
	CHECK(fx_upload.calls == 0); /* a refused request reaches no handler */
	srv.default_headers = NULL;
	srv.check = NULL;
}

int main(void)
{
	fx_server(&srv);
	test_splits();
	test_keepalive();
	test_malformed();
	test_timeouts();
	test_backpressure();
	test_router();
	test_static();
	test_defer();
	test_producer_cancel();
	test_helpers();
	test_resp_api();
	test_upload();
	test_server_hooks();
	printf("test_http: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
