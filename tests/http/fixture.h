/*
 * fixture.h: what the HTTP unit tests and the fuzz target share: a fake
 * transport that records output and can be throttled, a route table with
 * handlers of every kind (buffered, streamed body, producer, chunked,
 * deferred, static files), and a parser for the responses that come out.
 *
 * Assumes: host build (malloc is fine here); one test at a time.
 * Leaves out: real sockets (the lead's glue has its own tests).
 */
#ifndef HEARTH_TEST_HTTP_FIXTURE_H
#define HEARTH_TEST_HTTP_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct fake_io {
	uint8_t *out; /* everything send() accepted, in order */
	size_t out_len, out_cap;
	size_t space;	/* what send() takes before it is "full"; SIZE_MAX: no limit */
	int fail_send;	/* send() returns -ECONNRESET */
	int closed;	/* close() calls */
	int sends_after_close;
	int flushes;
};

/* One connection and everything it needs. */
struct tconn {
	struct http_conn c;
	struct fake_io io;
	void *buf;
};

/* The upload handler's tally (POST /upload, streamed). */
struct upload_tally {
	uint64_t bytes;
	uint64_t hash; /* FNV-1a 64 over the body */
	unsigned calls;
};
extern struct upload_tally fx_upload;
/* The last deferred request (GET /defer), NULL when none is pending. */
extern struct http_req *fx_deferred;
extern int fx_cancelled;
/* GET /cbig (the /big body): calls of its route's cancel callback. */
extern int fx_prod_cancelled;
/* GET /slow's producer says -EAGAIN until this is set. */
extern int fx_slow_ready;

#define BIG_LEN (1024u * 1024u)
#define CHUNKED_LEN (100u * 1024u + 17u)

/* Byte (i) of the /big and /chunked bodies. */
uint8_t fx_pattern(uint64_t i);
uint64_t fx_fnv(uint64_t h, const uint8_t *p, size_t n);
#define FNV_INIT 0xcbf29ce484222325ULL

/* The test server: small limits so that every limit is easy to hit. */
void fx_server(struct http_server *srv);
/* Sets up (t) on (srv) with unlimited send space. Owns t->buf until
 * fx_conn_free. */
void fx_conn(struct tconn *t, const struct http_server *srv, uint64_t now);
void fx_conn_free(struct tconn *t);
/* Feeds all of (data), calling writable and refeeding when the conn stops
 * consuming; with limited space it lets (drain) bytes through each round.
 * Returns 0, or -1 if the conn stalled (neither consumed nor produced). */
int fx_feed_all(struct tconn *t, const void *data, size_t len, size_t drain);

/* A parsed response. */
struct fx_resp {
	int status;
	const char *head; /* points into the output, not NUL-terminated */
	size_t head_len;
	const uint8_t *body; /* de-chunked into a malloc'd buffer when chunked */
	size_t body_len;
	int chunked;
	void *owned;
};
/* Parses one response at (p), (len) bytes; (head_only): a HEAD response.
 * Returns its length in bytes, 0 if incomplete, -1 if malformed. */
long fx_parse_resp(const uint8_t *p, size_t len, int head_only, struct fx_resp *r);
void fx_resp_free(struct fx_resp *r);
/* Value of header (name) in (r), copied to (out); 0 or -1 if absent. */
int fx_header(const struct fx_resp *r, const char *name, char *out, size_t out_len);

#endif
