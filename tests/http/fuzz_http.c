/*
 * fuzz_http.c: fuzz target for the HTTP/1.1 parser and connection
 * (LLVMFuzzerTestOneInput), for libFuzzer (clang) or the gcc driver in
 * fuzz_driver.c.
 *
 * Input: two control bytes, then the bytes a client sends. Control byte 0
 * picks the mode:
 *   even: differential: the input fed whole and fed in pseudo-random pieces
 *         (seeded by control byte 1) must give byte-identical output and the
 *         same final state;
 *   odd:  hostile transport: random send space, ticks, writable calls, peer
 *         FIN and deferred commits, interleaved with the feeds.
 * Either way: feed never consumes more than it is given, nothing is sent
 * after close, and the output is a sequence of well-formed responses.
 * A crash, sanitizer report or broken invariant (abort) is a finding.
 *
 * Assumes: the fixture's routes and small limits (tests/http/fixture.c).
 * Leaves out: the transport glue, TLS.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_server srv;

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Whether a response may start at (off) (or the output ends there, or
 * with the start of a status line: a close cut it short). */
static int boundary(const struct tconn *t, size_t off)
{
	size_t n = t->io.out_len - off;

	return !memcmp(t->io.out + off, "HTTP/1.1 ", n < 9 ? n : 9);
}

/* The output must be a sequence of responses. Which ones answer HEAD (no
 * body despite a Content-Length) is not known here: either reading must
 * land on the next response. */
static void check_output(const struct tconn *t)
{
	size_t off = 0;

	if (t->io.sends_after_close)
		abort();
	while (off < t->io.out_len) {
		struct fx_resp r;
		long n = fx_parse_resp(t->io.out + off, t->io.out_len - off, 0, &r);
		int status = r.status;

		fx_resp_free(&r);
		if (n <= 0 || !boundary(t, off + (size_t)n)) {
			long h = fx_parse_resp(t->io.out + off, t->io.out_len - off, 1, &r);

			fx_resp_free(&r);
			if (h > 0 && boundary(t, off + (size_t)h) && off + (size_t)h < t->io.out_len) {
				n = h;
				status = r.status;
			}
			else if (n == 0 || h == 0)
				break; /* cut short by a close or a stalled transport */
			else if (n < 0 || !boundary(t, off + (size_t)n))
				abort();
		}
		if (status < 100 || status > 599)
			abort();
		off += (size_t)n;
	}
}

/* Feeds (len) bytes in pieces from (seed) (0: whole), unlimited space. */
static void feed_pieces(struct tconn *t, const uint8_t *p, size_t len, uint32_t seed)
{
	while (len) {
		size_t want = seed ? 1 + rnd(&seed) % 24 : len, n;

		if (want > len)
			want = len;
		n = http_conn_feed(&t->c, p, want);
		if (n > want)
			abort();
		p += n;
		len -= n;
		if (n < want) {
			if (t->c.state == HTTP_C_APP)
				return; /* a deferred handler: both runs stop here */
			http_conn_writable(&t->c);
			if (!http_conn_wants_input(&t->c))
				abort(); /* unlimited space, yet still blocked */
		}
	}
}

static void differential(const uint8_t *p, size_t len, uint8_t seed)
{
	struct tconn a, b;

	fx_server(&srv);
	fx_conn(&a, &srv, 0);
	feed_pieces(&a, p, len, 0);
	fx_server(&srv);
	fx_conn(&b, &srv, 0);
	feed_pieces(&b, p, len, 0x9e3779b9u * (seed + 1u));
	if (a.io.out_len != b.io.out_len ||
	    (a.io.out_len && memcmp(a.io.out, b.io.out, a.io.out_len)) ||
	    a.io.closed != b.io.closed || a.c.state != b.c.state || a.io.closed > 1)
		abort();
	check_output(&a);
	http_conn_gone(&a.c);
	http_conn_gone(&b.c);
	fx_conn_free(&a);
	fx_conn_free(&b);
}

static void hostile(const uint8_t *p, size_t len, uint8_t seed)
{
	struct tconn t;
	uint32_t s = 0x12345u + seed;
	uint64_t now = 0;
	int rounds = 0;

	fx_server(&srv);
	fx_conn(&t, &srv, 0);
	t.io.space = 64;
	while (t.c.state != HTTP_C_CLOSED && rounds++ < 4096) {
		uint32_t r = rnd(&s);

		switch (r % 8) {
		case 0:
			now += r >> 20;
			http_conn_tick(&t.c, now);
			break;
		case 1:
			if (t.c.state == HTTP_C_APP)
				(void)(http_resp_json(&t.c.resp, 200, "{}") ||
				       http_resp_commit(&t.c.resp));
			break;
		case 2:
			if (!len && rounds > 64)
				http_conn_eof(&t.c);
			break;
		case 3:
		case 4:
			t.io.space = (r >> 8) % 3000;
			http_conn_writable(&t.c);
			break;
		default:
			if (len) {
				size_t want = 1 + (r >> 8) % 64, n;

				if (want > len)
					want = len;
				n = http_conn_feed(&t.c, p, want);
				if (n > want)
					abort();
				p += n;
				len -= n;
			} else if (t.c.state == HTTP_C_READ && !t.c.p.started) {
				http_conn_eof(&t.c);
			}
			break;
		}
	}
	if (t.io.closed > 1)
		abort();
	check_output(&t);
	http_conn_gone(&t.c);
	fx_conn_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] & 1)
		hostile(data + 2, size - 2, data[1]);
	else
		differential(data + 2, size - 2, data[1]);
	return 0;
}
