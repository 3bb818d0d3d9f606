/*
 * reply.h: what every REST handler of the hub shares: JSON error bodies with
 * stable codes ({"error":{"code":"...","message":"..."}}), JSON string
 * escaping, and a small pool of buffers for request bodies larger than the
 * HTTP core buffers and for responses streamed through a producer.
 * Assumes: one thread (the event loop). A streamed answer's buffer goes
 * back when its producer is done, or through hub_reply_cancel (the routes'
 * cancel callback) when the HTTP core will not ask for all of it (client
 * gone mid-stream, HEAD); the HTTP core has no "connection gone" callback
 * for body callbacks, so a buffer left untouched for HUB_BUF_STALE_MS
 * (longer than every HTTP timeout) is taken back as well.
 * Leaves out: content negotiation (everything is JSON, metrics are text).
 */
#ifndef HUB_REPLY_H
#define HUB_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_req;
struct http_resp;

#define HUB_BUF_STALE_MS 60000u

/* Writes {"error":{"code":(code),"message":(printf)}} with (status); a 401
 * also gets WWW-Authenticate: Bearer. Returns 0, or -EIO when the body did
 * not fit (never: messages are short). */
__attribute__((format(printf, 4, 5))) int hub_reply_error(struct http_resp *resp, int status,
							 const char *code, const char *fmt, ...);
/* Appends (s) JSON-escaped (without quotes) at (out)+*pos, up to (len);
 * returns -ENOSPC when it does not fit. */
int hub_json_escape(char *out, size_t len, size_t *pos, const char *s);

/* A buffer from the pool. (data) is malloc'd and owned by the buffer; a
 * stream refills it through (fill): return the bytes now in data[0..len),
 * 0 when the body is complete, or a negative errno (aborts the connection). */
struct hub_buf {
	bool busy;
	uint64_t touched_ms;
	char *data;
	size_t len, cap, off;
	long (*fill)(struct hub_buf *b);
	const struct http_req *req; /* the request it answers, once streaming */
	/* for (fill) */
	int stage;
	int64_t cursor, count;
	char arg[160];
};

/* A free buffer with (cap) bytes of data, or NULL (pool busy, no memory). */
struct hub_buf *hub_buf_get(size_t cap);
/* Gives (b) back (frees its data). */
void hub_buf_put(struct hub_buf *b);
/* Marks (b) as in use now (body callbacks call it on every piece). */
void hub_buf_touch(struct hub_buf *b);
/* Appends (n) bytes to b->data; -E2BIG past b->cap. */
int hub_buf_append(struct hub_buf *b, const void *p, size_t n);

/* Sends (b): first its data[0..len), then whatever fill() makes, as the
 * body of a (status) response of (type); takes (b) (given back when done). */
int hub_reply_stream(struct http_resp *resp, int status, const char *type, struct hub_buf *b);
/* The cancel callback (struct http_route) of every route that answers
 * through hub_reply_stream or hub_reply_json_owned: gives back the buffer
 * of (req)'s answer when the core will not stream all of it. */
void hub_reply_cancel(struct http_req *req, void *arg);
/* Sends (text) (malloc'd; taken in every case) as the JSON body of a
 * (status) response, copied when small, streamed otherwise. */
int hub_reply_json_owned(struct http_resp *resp, int status, char *text);

/* Query-string parameter (name) of (query), percent-decoded into (out);
 * 1 found, 0 absent, -E2BIG too long. */
int hub_query_param(const char *query, const char *name, char *out, size_t len);

#endif
