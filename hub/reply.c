/*
 * reply.c: JSON errors, escaping, the buffer pool and streamed responses
 * for the hub's REST handlers (reply.h).
 * Assumes: one thread; the HTTP core's producer contract (stack/http.h).
 * Leaves out: per-connection accounting (the pool is small and global).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "../stack/http.h"
#include "reply.h"

#define NBUFS 8

static struct hub_buf pool[NBUFS];

int hub_json_escape(char *out, size_t len, size_t *pos, const char *s)
{
	size_t p = *pos;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[8];
		const char *e = NULL;
		size_t n;
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			tmp[2] = 0;
			e = tmp;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			e = tmp;
		}
		n = e ? strlen(e) : 1;
		if (p + n >= len)
			return -ENOSPC;
		if (e)
			memcpy(out + p, e, n);
		else
			out[p] = (char)c;
		p += n;
	}
	out[p] = 0;
	*pos = p;
	return 0;
}

int hub_reply_error(struct http_resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[300], json[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t pos = (size_t)snprintf(json, sizeof(json), "{\"error\":{\"code\":\"%s\",\"message\":\"",
				      code);
	if (hub_json_escape(json, sizeof(json) - 8, &pos, msg))
		pos = strlen(json);
	snprintf(json + pos, sizeof(json) - pos, "\"}}");
	if (status == 401)
		http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"hearth\"");
	return http_resp_json(resp, status, json) ? -EIO : 0;
}

static void reclaim(void)
{
	uint64_t now = time_now_ms();
	for (int i = 0; i < NBUFS; i++)
		if (pool[i].busy && now - pool[i].touched_ms > HUB_BUF_STALE_MS)
			hub_buf_put(&pool[i]);
}

struct hub_buf *hub_buf_get(size_t cap)
{
	reclaim();
	for (int i = 0; i < NBUFS; i++) {
		struct hub_buf *b = &pool[i];
		if (b->busy)
			continue;
		memset(b, 0, sizeof(*b));
		b->data = malloc(cap + 1);
		if (!b->data)
			return NULL;
		b->cap = cap;
		b->busy = true;
		b->touched_ms = time_now_ms();
		return b;
	}
	return NULL;
}

void hub_buf_put(struct hub_buf *b)
{
	if (!b || !b->busy)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void hub_buf_touch(struct hub_buf *b)
{
	b->touched_ms = time_now_ms();
}

int hub_buf_append(struct hub_buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len)
		return -E2BIG;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

static long produce(void *arg, uint8_t *out, size_t space)
{
	struct hub_buf *b = arg;
	if (!b->busy)
		return -EPIPE; /* reclaimed: the connection must have been gone */
	hub_buf_touch(b);
	while (b->off >= b->len) {
		long n = b->fill ? b->fill(b) : 0;
		if (n <= 0) {
			hub_buf_put(b);
			return n;
		}
		b->off = 0;
		b->len = (size_t)n;
	}
	size_t n = b->len - b->off;
	if (n > space)
		n = space;
	memcpy(out, b->data + b->off, n);
	b->off += n;
	/* A known length: the core never asks again once it has it all, so
	 * the buffer goes back with the last bytes (they are copied). */
	if (!b->fill && b->off >= b->len)
		hub_buf_put(b);
	return (long)n;
}

void hub_reply_cancel(struct http_req *req, void *arg)
{
	(void)arg;
	for (int i = 0; i < NBUFS; i++)
		if (pool[i].busy && pool[i].req == req)
			hub_buf_put(&pool[i]);
}

int hub_reply_stream(struct http_resp *resp, int status, const char *type, struct hub_buf *b)
{
	http_resp_status(resp, status);
	http_resp_type(resp, type);
	b->off = 0;
	b->req = resp->conn ? &resp->conn->req : NULL; /* for hub_reply_cancel */
	if (!b->fill) /* known length */
		http_resp_producer(resp, (int64_t)b->len, produce, b);
	else
		http_resp_producer(resp, -1, produce, b);
	return 0;
}

int hub_reply_json_owned(struct http_resp *resp, int status, char *text)
{
	size_t n = strlen(text);
	if (n <= 2048) {
		int err = http_resp_json(resp, status, text);
		free(text);
		return err ? -EIO : 0;
	}
	struct hub_buf *b = hub_buf_get(0);
	if (!b) {
		free(text);
		return hub_reply_error(resp, 503, "busy", "too many responses in flight; retry");
	}
	free(b->data);
	b->data = text;
	b->len = b->cap = n;
	return hub_reply_stream(resp, status, "application/json", b);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hub_query_param(const char *query, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	const char *p = query;
	while (p && *p) {
		const char *end = strchr(p, '&');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) >= nl && !strncmp(p, name, nl) &&
		    (p[nl] == '=' || p + nl == end)) {
			const char *v = p[nl] == '=' ? p + nl + 1 : end;
			size_t o = 0;
			while (v < end) {
				char c = *v++;
				if (c == '+') {
					c = ' ';
				} else if (c == '%' && end - v >= 2 && hexval(v[0]) >= 0 &&
					   hexval(v[1]) >= 0) {
					c = (char)(hexval(v[0]) * 16 + hexval(v[1]));
					v += 2;
				}
				if (o + 1 >= len)
					return -E2BIG;
				out[o++] = c;
			}
			out[o] = 0;
			return 1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}
