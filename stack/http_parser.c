/*
 * http_parser.c: the incremental HTTP/1.1 request parser (RFC 9112) and the
 * request header look-ups of http.h.
 *
 * A byte-at-a-time state machine for the request line, header and trailer
 * sections, so a request split at any byte parses the same as one in one
 * piece; body bytes are handed out in runs as pointers into the caller's
 * input (no copy). The request line and header strings are copied,
 * NUL-terminated, into the caller's buffer; headers are indexed by offset.
 *
 * Assumes: the caller (http_server.c) answers the status in p->status after
 * HTTP_PEV_ERROR and closes the connection; nothing is parsed past an error.
 * Leaves out: obs-fold (rejected, 400), HTTP/0.9, request trailers beyond
 * syntax and size (they are dropped), transfer-codings other than chunked
 * (501), percent-decoding (the router matches raw paths).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

/* Empty lines tolerated before a request line (RFC 9112 2.2). */
#define MAX_EMPTY_LINES 4
/* Longest method we know is 7; anything longer is unknown (501). */
#define MAX_METHOD 16
/* Chunk size digits (64 bits) and chunk-extension bytes per chunk line. */
#define MAX_CHUNK_DIGITS 16
#define MAX_CHUNK_EXT 1024

enum {
	S_START,
	S_START_LF,
	S_METHOD,
	S_TARGET,
	S_VERSION,
	S_RL_LF,
	S_HDR_START,
	S_HDR_NAME,
	S_HDR_OWS,
	S_HDR_VALUE,
	S_HDR_LF,
	S_HEAD_LF,
	S_BODY_CL,
	S_CHUNK_SIZE,
	S_CHUNK_EXT,
	S_CHUNK_SIZE_LF,
	S_CHUNK_DATA,
	S_CHUNK_DATA_CR,
	S_CHUNK_DATA_LF,
	S_MSG_END,
	S_DONE,
	S_ERROR,
};

enum { STEP_OK, STEP_HEAD, STEP_ERR };

static const char *const method_names[] = {
	[HTTP_GET] = "GET",	[HTTP_HEAD] = "HEAD",	  [HTTP_POST] = "POST",
	[HTTP_PUT] = "PUT",	[HTTP_DELETE] = "DELETE", [HTTP_OPTIONS] = "OPTIONS",
	[HTTP_PATCH] = "PATCH",
};

/* RFC 9110 5.6.2 tchar. */
static int is_tchar(unsigned c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL;
}

static int is_ctl(unsigned c)
{
	return c < 0x20 || c == 0x7f;
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

/* Case-insensitive compare of (n) bytes at (a) with the whole of (b). */
static int ieqn(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!b[i] || lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return b[n] == '\0';
}

static int hexval(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)c - '0';
	c = (unsigned)lower((int)c);
	if (c >= 'a' && c <= 'f')
		return (int)c - 'a' + 10;
	return -1;
}

static int fail(struct http_parser *p, int status)
{
	p->status = (uint16_t)status;
	p->state = S_ERROR;
	return STEP_ERR;
}

/* Stores one byte of the head; trailers are not stored. */
static int put(struct http_parser *p, char c)
{
	if (p->trailer)
		return 0;
	if (p->len + 2 > p->buf_size)
		return -ENOSPC;
	p->buf[p->len++] = c;
	return 0;
}

int http_parser_init(struct http_parser *p, const struct http_limits *lim, char *buf,
		     size_t buf_size, struct http_header *hdrs, unsigned max_hdrs)
{
	if (!lim || !buf || !hdrs || buf_size > UINT32_MAX ||
	    buf_size <= lim->max_request_line + lim->max_header_bytes)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->lim = lim;
	p->buf = buf;
	p->buf_size = buf_size;
	p->hdrs = hdrs;
	p->max_hdrs = max_hdrs;
	http_parser_next(p);
	return 0;
}

void http_parser_next(struct http_parser *p)
{
	const struct http_limits *lim = p->lim;
	char *buf = p->buf;
	size_t size = p->buf_size;
	struct http_header *hdrs = p->hdrs;
	unsigned max = p->max_hdrs;

	memset(p, 0, sizeof(*p));
	p->lim = lim;
	p->buf = buf;
	p->buf_size = size;
	p->hdrs = hdrs;
	p->max_hdrs = max;
	p->state = S_START;
}

/* Content-Length value: a list of identical decimal numbers (RFC 9110
 * 8.6). Too large to count is valid but too big: saturates (-> 413). */
static int parse_cl(struct http_parser *p, const char *v)
{
	int seen = 0;

	for (;;) {
		uint64_t n = 0;
		int digits = 0;

		while (*v == ' ' || *v == '\t')
			v++;
		while (*v >= '0' && *v <= '9') {
			unsigned d = (unsigned)(*v++ - '0');

			n = (n > (UINT64_MAX - d) / 10) ? UINT64_MAX : n * 10 + d;
			digits++;
		}
		while (*v == ' ' || *v == '\t')
			v++;
		if (!digits || (*v && *v != ','))
			return fail(p, 400);
		if ((p->has_cl || seen) && n != p->content_length)
			return fail(p, 400);
		p->content_length = n;
		p->has_cl = true;
		seen = 1;
		if (!*v)
			return STEP_OK;
		v++;
	}
}

/* Transfer-Encoding: only "chunked", once (a list may span lines). */
static int parse_te(struct http_parser *p, const char *v)
{
	int any = 0;

	p->has_te = true;
	while (*v) {
		const char *s;
		size_t n;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		s = v;
		while (*v && *v != ',')
			v++;
		n = (size_t)(v - s);
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (!n)
			continue;
		any = 1;
		if (!ieqn(s, n, "chunked"))
			return fail(p, 501); /* a coding we do not decode, or params */
		if (p->chunked)
			return fail(p, 400); /* chunked twice */
		p->chunked = true;
	}
	if (!any && !p->chunked)
		return fail(p, 400);
	return STEP_OK;
}

static void parse_connection(struct http_parser *p, const char *v)
{
	while (*v) {
		const char *s;
		size_t n;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		s = v;
		while (*v && *v != ',' && *v != ' ' && *v != '\t')
			v++;
		n = (size_t)(v - s);
		if (ieqn(s, n, "close"))
			p->conn_close = true;
		else if (ieqn(s, n, "keep-alive"))
			p->conn_keep_alive = true;
	}
}

static int header_done(struct http_parser *p)
{
	const char *name = p->buf + p->name_off, *value;
	struct http_header *h;

	p->buf[p->value_end] = '\0';
	p->len = p->value_end + 1;
	value = p->buf + p->value_off;
	if (p->nhdrs >= p->max_hdrs || p->nhdrs >= p->lim->max_headers)
		return fail(p, 431);
	h = &p->hdrs[p->nhdrs++];
	h->name = p->name_off;
	h->value = p->value_off;

	if (ieq(name, "content-length"))
		return parse_cl(p, value);
	if (ieq(name, "transfer-encoding"))
		return parse_te(p, value);
	if (ieq(name, "connection")) {
		parse_connection(p, value);
	} else if (ieq(name, "host")) {
		if (p->has_host)
			return fail(p, 400);
		p->has_host = true;
	} else if (ieq(name, "expect")) {
		if (!ieq(value, "100-continue"))
			return fail(p, 417);
		p->expect_continue = true;
	}
	return STEP_OK;
}

/* End of the header section: decide how the body is framed (RFC 9112 6.3). */
static int head_done(struct http_parser *p)
{
	if (p->trailer) {
		p->state = S_MSG_END;
		return STEP_OK;
	}
	if (p->version == 11 && !p->has_host)
		return fail(p, 400);
	if (p->has_te && (p->has_cl || p->version == 10))
		return fail(p, 400);
	if (p->chunked) {
		p->state = S_CHUNK_SIZE;
	} else if (p->has_cl) {
		if (p->content_length > p->lim->max_body)
			return fail(p, 413);
		p->body_left = p->content_length;
		p->state = p->body_left ? S_BODY_CL : S_MSG_END;
	} else {
		if (p->method == HTTP_POST || p->method == HTTP_PUT || p->method == HTTP_PATCH)
			return fail(p, 411);
		p->state = S_MSG_END;
	}
	return STEP_HEAD;
}

/* The target is complete (stored at target_off, '?' already split off):
 * origin-form, asterisk-form (OPTIONS only) or absolute-form. */
static int target_done(struct http_parser *p)
{
	const char *t = p->buf + p->target_off, *s;

	p->path_off = p->target_off;
	if (t[0] == '/')
		return STEP_OK;
	if (t[0] == '*')
		return (t[1] || p->method != HTTP_OPTIONS || p->query_off) ? fail(p, 400) : STEP_OK;
	/* absolute-form: scheme "://" authority [path] */
	for (s = t; *s && *s != ':'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.'))
			return fail(p, 400);
	if (s[0] != ':' || s[1] != '/' || s[2] != '/' || !s[3] || s[3] == '/')
		return fail(p, 400);
	s = strchr(s + 3, '/');
	p->path_off = s ? (uint32_t)(s - p->buf) : UINT32_MAX;
	return STEP_OK;
}

static int version_done(struct http_parser *p)
{
	const char *v = p->buf + p->version_off;

	if (put(p, '\0'))
		return fail(p, 400);
	if (strlen(v) != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return fail(p, 400);
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return fail(p, 505);
	p->version = v[7] == '1' ? 11 : 10;
	p->state = S_HDR_START;
	p->count = 0;
	return STEP_OK;
}

static int chunk_size_done(struct http_parser *p)
{
	if (!p->chunk_digits)
		return fail(p, 400);
	if (p->body_left == 0) { /* last-chunk: trailer section follows */
		p->trailer = true;
		p->count = 0;
		p->state = S_HDR_START;
		return STEP_OK;
	}
	if (p->body_left > p->lim->max_body - p->body_total)
		return fail(p, 413);
	p->state = S_CHUNK_DATA;
	return STEP_OK;
}

static int method_done(struct http_parser *p)
{
	const char *m = p->buf + p->method_off;
	unsigned i;

	if (put(p, '\0'))
		return fail(p, 414);
	for (i = 1; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (!strcmp(m, method_names[i]))
			p->method = (enum http_method)i;
	if (p->method == HTTP_UNKNOWN)
		return fail(p, 501);
	p->target_off = (uint32_t)p->len;
	p->state = S_TARGET;
	return STEP_OK;
}

/* One byte of anything but body data. */
static int step(struct http_parser *p, unsigned c)
{
	const struct http_limits *lim = p->lim;

	switch (p->state) {
	case S_METHOD:
	case S_TARGET:
	case S_VERSION:
	case S_RL_LF:
		if (++p->count > lim->max_request_line)
			return fail(p, p->state == S_TARGET ? 414 : p->state == S_METHOD ? 501 : 400);
		break;
	case S_HDR_START:
	case S_HDR_NAME:
	case S_HDR_OWS:
	case S_HDR_VALUE:
	case S_HDR_LF:
	case S_HEAD_LF:
		if (++p->count > (p->trailer ? lim->max_trailer_bytes : lim->max_header_bytes))
			return fail(p, 431);
		break;
	}

	switch (p->state) {
	case S_START:
		p->started = true;
		if (c == '\r') {
			p->state = S_START_LF;
			return STEP_OK;
		}
		if (c == '\n')
			return ++p->empty_lines > MAX_EMPTY_LINES ? fail(p, 400) : STEP_OK;
		if (!is_tchar(c))
			return fail(p, 400);
		p->method_off = (uint32_t)p->len;
		p->state = S_METHOD;
		p->count = 1;
		if (put(p, (char)c))
			return fail(p, 414);
		return STEP_OK;
	case S_START_LF:
		if (c != '\n')
			return fail(p, 400);
		p->state = S_START;
		return ++p->empty_lines > MAX_EMPTY_LINES ? fail(p, 400) : STEP_OK;
	case S_METHOD:
		if (c == ' ')
			return method_done(p);
		if (!is_tchar(c))
			return fail(p, 400);
		if (p->len - p->method_off >= MAX_METHOD)
			return fail(p, 501);
		return put(p, (char)c) ? fail(p, 414) : STEP_OK;
	case S_TARGET:
		if (c == ' ') {
			if (p->len == p->target_off)
				return fail(p, 400);
			if (put(p, '\0'))
				return fail(p, 414);
			p->version_off = (uint32_t)p->len;
			p->state = S_VERSION;
			return target_done(p);
		}
		if (p->len == p->target_off && c != '/' && c != '*' &&
		    !((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
			return fail(p, 400);
		if (c <= 0x20 || c >= 0x7f || c == '#')
			return fail(p, 400);
		if (c == '?' && !p->query_off) {
			if (put(p, '\0'))
				return fail(p, 414);
			p->query_off = (uint32_t)p->len;
			return STEP_OK;
		}
		return put(p, (char)c) ? fail(p, 414) : STEP_OK;
	case S_VERSION:
		if (c == '\r') {
			p->state = S_RL_LF;
			return STEP_OK;
		}
		if (c == '\n')
			return version_done(p);
		if (p->len - p->version_off >= 8 || !strchr("HTP/.0123456789", (int)c) || !c)
			return fail(p, 400);
		return put(p, (char)c) ? fail(p, 400) : STEP_OK;
	case S_RL_LF:
		return c == '\n' ? version_done(p) : fail(p, 400);
	case S_HDR_START:
		if (c == '\r') {
			p->state = S_HEAD_LF;
			return STEP_OK;
		}
		if (c == '\n')
			return head_done(p);
		if (!is_tchar(c)) /* includes SP/HTAB: obs-fold */
			return fail(p, 400);
		p->name_off = (uint32_t)p->len;
		p->state = S_HDR_NAME;
		return put(p, (char)c) ? fail(p, 431) : STEP_OK;
	case S_HDR_NAME:
		if (c == ':') {
			p->state = S_HDR_OWS;
			return put(p, '\0') ? fail(p, 431) : STEP_OK;
		}
		if (!is_tchar(c))
			return fail(p, 400);
		return put(p, (char)c) ? fail(p, 431) : STEP_OK;
	case S_HDR_OWS:
		if (c == ' ' || c == '\t')
			return STEP_OK;
		p->value_off = p->value_end = (uint32_t)p->len;
		if (c == '\r') {
			p->state = S_HDR_LF;
			return STEP_OK;
		}
		if (c == '\n')
			break;
		if (is_ctl(c))
			return fail(p, 400);
		p->state = S_HDR_VALUE;
		if (put(p, (char)c))
			return fail(p, 431);
		p->value_end = (uint32_t)p->len;
		return STEP_OK;
	case S_HDR_VALUE:
		if (c == '\r') {
			p->state = S_HDR_LF;
			return STEP_OK;
		}
		if (c == '\n')
			break;
		if (is_ctl(c) && c != '\t')
			return fail(p, 400);
		if (put(p, (char)c))
			return fail(p, 431);
		if (c != ' ' && c != '\t')
			p->value_end = (uint32_t)p->len;
		return STEP_OK;
	case S_HDR_LF:
		if (c != '\n')
			return fail(p, 400);
		break;
	case S_HEAD_LF:
		return c == '\n' ? head_done(p) : fail(p, 400);
	case S_CHUNK_SIZE: {
		int d = hexval(c);

		if (d >= 0) {
			if (++p->chunk_digits > MAX_CHUNK_DIGITS)
				return fail(p, 400);
			p->body_left = p->body_left << 4 | (unsigned)d;
			return STEP_OK;
		}
		if (c == ';' || c == ' ' || c == '\t') {
			p->state = S_CHUNK_EXT;
			return p->chunk_digits ? STEP_OK : fail(p, 400);
		}
		if (c == '\r') {
			p->state = S_CHUNK_SIZE_LF;
			return STEP_OK;
		}
		if (c == '\n')
			return chunk_size_done(p);
		return fail(p, 400);
	}
	case S_CHUNK_EXT:
		if (c == '\r') {
			p->state = S_CHUNK_SIZE_LF;
			return STEP_OK;
		}
		if (c == '\n')
			return chunk_size_done(p);
		if ((is_ctl(c) && c != '\t') || ++p->ext_len > MAX_CHUNK_EXT)
			return fail(p, 400);
		return STEP_OK;
	case S_CHUNK_SIZE_LF:
		return c == '\n' ? chunk_size_done(p) : fail(p, 400);
	case S_CHUNK_DATA_CR:
		if (c == '\r') {
			p->state = S_CHUNK_DATA_LF;
			return STEP_OK;
		}
		if (c != '\n') /* a bare LF ends the chunk too */
			return fail(p, 400);
		goto chunk_end;
	case S_CHUNK_DATA_LF:
		if (c != '\n')
			return fail(p, 400);
chunk_end:
		p->state = S_CHUNK_SIZE;
		p->chunk_digits = 0;
		p->ext_len = 0;
		p->body_left = 0;
		return STEP_OK;
	default:
		return fail(p, 500);
	}
	/* a header (or trailer) line ended */
	p->state = S_HDR_START;
	return p->trailer ? STEP_OK : header_done(p);
}

int http_parser_execute(struct http_parser *p, const uint8_t *data, size_t len, size_t *used,
			const uint8_t **body, size_t *blen)
{
	size_t i = 0, n;

	*body = NULL;
	*blen = 0;
	for (;;) {
		switch (p->state) {
		case S_ERROR:
			*used = i;
			return HTTP_PEV_ERROR;
		case S_MSG_END:
			p->state = S_DONE;
			/* fall through */
		case S_DONE:
			*used = i;
			return HTTP_PEV_END;
		case S_BODY_CL:
		case S_CHUNK_DATA:
			if (i == len) {
				*used = i;
				return HTTP_PEV_MORE;
			}
			n = len - i;
			if (n > p->body_left)
				n = (size_t)p->body_left;
			*body = data + i;
			*blen = n;
			*used = i + n;
			p->body_left -= n;
			p->body_total += n;
			if (!p->body_left)
				p->state = p->state == S_BODY_CL ? S_MSG_END : S_CHUNK_DATA_CR;
			return HTTP_PEV_BODY;
		default:
			break;
		}
		if (i == len) {
			*used = i;
			return HTTP_PEV_MORE;
		}
		switch (step(p, data[i++])) {
		case STEP_HEAD:
			*used = i;
			return HTTP_PEV_HEAD;
		case STEP_ERR:
			*used = i;
			return HTTP_PEV_ERROR;
		}
	}
}

void http_parser_fill(const struct http_parser *p, struct http_req *req)
{
	req->method = p->method;
	req->method_str = p->buf + p->method_off;
	req->path = p->path_off == UINT32_MAX ? "/" : p->buf + p->path_off;
	req->query = p->query_off ? p->buf + p->query_off : "";
	req->version = p->version;
	req->chunked = p->chunked;
	req->content_length = p->chunked ? 0 : p->content_length;
	req->head = p->buf;
	req->hdrs = p->hdrs;
	req->nhdrs = p->nhdrs;
}

/* ------------------------------------------------------------------------
 * Header look-ups
 */

const char *http_req_header(const struct http_req *req, const char *name)
{
	unsigned i;

	for (i = 0; i < req->nhdrs; i++)
		if (ieq(req->head + req->hdrs[i].name, name))
			return req->head + req->hdrs[i].value;
	return NULL;
}

int http_req_header_at(const struct http_req *req, unsigned i, const char **name,
		       const char **value)
{
	if (i >= req->nhdrs)
		return -ENOENT;
	*name = req->head + req->hdrs[i].name;
	*value = req->head + req->hdrs[i].value;
	return 0;
}

/* Whether the parameters at (s), (n) bytes, hold q=0 (RFC 9110 12.4.2). */
static int q_zero(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && (s[i] == ';' || s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i + 1 < n && lower((unsigned char)s[i]) == 'q' && s[i + 1] == '=') {
			i += 2;
			if (i >= n || s[i] != '0')
				return 0;
			for (i++; i < n && s[i] != ';' && s[i] != ' ' && s[i] != '\t'; i++)
				if (s[i] != '.' && s[i] != '0')
					return 0;
			return 1;
		}
		while (i < n && s[i] != ';')
			i++;
	}
	return 0;
}

bool http_req_has_token(const struct http_req *req, const char *name, const char *token)
{
	unsigned i;

	for (i = 0; i < req->nhdrs; i++) {
		const char *v = req->head + req->hdrs[i].value;

		if (!ieq(req->head + req->hdrs[i].name, name))
			continue;
		while (*v) {
			const char *s, *e, *t;

			while (*v == ' ' || *v == '\t' || *v == ',')
				v++;
			s = v;
			while (*v && *v != ',')
				v++;
			e = v;
			for (t = s; t < e && *t != ';'; t++)
				;
			while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
				t--;
			if (t > s && ieqn(s, (size_t)(t - s), token)) {
				const char *params = memchr(s, ';', (size_t)(e - s));

				if (!params || !q_zero(params, (size_t)(e - params)))
					return true;
			}
		}
	}
	return false;
}
