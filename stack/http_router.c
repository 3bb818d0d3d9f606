/*
 * http_router.c: matching requests to handlers (method + exact or prefix
 * path, HEAD served by GET routes, 404/405 with Allow) and the static-file
 * handler (in-memory table, gzip variants, ETag / If-None-Match -> 304,
 * Cache-Control).
 *
 * Assumes: the route and file tables are static for the server's life; paths
 * are compared raw (no percent-decoding, no dot-segment removal: a table
 * path either matches byte for byte or not, so "/../" reaches nothing).
 * Leaves out: path parameters ("/api/:id": a prefix route and the handler
 * splits req->path), Range requests, Last-Modified.
 */
#include <errno.h>
#include <string.h>

#include "http.h"

static int path_match(const struct http_route *r, const char *path)
{
	if (r->flags & HTTP_ROUTE_PREFIX)
		return !strncmp(path, r->path, strlen(r->path));
	return !strcmp(path, r->path);
}

/* Appends method (m) to the Allow list unless it is there already. */
static void allow_add(char *allow, size_t len, const char *m)
{
	size_t have = strlen(allow), ml = strlen(m);
	const char *s = allow;

	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == ml && !memcmp(s, m, n))
			return;
		s += n;
		while (*s == ',' || *s == ' ')
			s++;
	}
	if (have + (have ? 2 : 0) + ml + 1 > len)
		return;
	if (have) {
		memcpy(allow + have, ", ", 2);
		have += 2;
	}
	memcpy(allow + have, m, ml + 1);
}

int http_route_find(const struct http_route *routes, size_t n, const struct http_req *req,
		    const struct http_route **route, char *allow, size_t allow_len)
{
	const struct http_route *get = NULL;
	int hit = 0;
	size_t i;

	if (allow_len)
		allow[0] = '\0';
	*route = NULL;
	for (i = 0; i < n; i++) {
		const struct http_route *r = &routes[i];

		if (!path_match(r, req->path))
			continue;
		hit = 1;
		if (!r->method || !strcmp(r->method, req->method_str)) {
			*route = r;
			return 0;
		}
		if (!strcmp(r->method, "GET")) {
			if (req->method == HTTP_HEAD && !get)
				get = r;
			if (allow_len)
				allow_add(allow, allow_len, "GET");
			if (allow_len)
				allow_add(allow, allow_len, "HEAD");
		} else if (allow_len) {
			allow_add(allow, allow_len, r->method);
		}
	}
	if (get) {
		*route = get;
		return 0;
	}
	if (!hit)
		return 404;
	if (allow_len)
		allow_add(allow, allow_len, "OPTIONS");
	return 405;
}

/* ------------------------------------------------------------------------
 * Static files
 */

/* Whether entity-tag list (list) matches (etag) (weak comparison, RFC 9110
 * 13.1.2): W/ prefixes are ignored, "*" matches anything. */
static int etag_match(const char *list, const char *etag)
{
	size_t elen;

	if (etag[0] == 'W' && etag[1] == '/')
		etag += 2;
	elen = strlen(etag);
	while (*list) {
		const char *s;

		while (*list == ' ' || *list == '\t' || *list == ',')
			list++;
		if (*list == '*')
			return 1;
		if (list[0] == 'W' && list[1] == '/')
			list += 2;
		if (*list != '"') {
			while (*list && *list != ',')
				list++;
			continue;
		}
		s = list;
		list = strchr(list + 1, '"');
		if (!list)
			return 0;
		list++;
		if ((size_t)(list - s) == elen && !memcmp(s, etag, elen))
			return 1;
	}
	return 0;
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

/* Whether any If-None-Match line matches (etag). */
static int inm_match(const struct http_req *req, const char *etag)
{
	const char *name, *value;
	unsigned i;

	for (i = 0; !http_req_header_at(req, i, &name, &value); i++)
		if (ieq(name, "if-none-match") && etag_match(value, etag))
			return 1;
	return 0;
}

int http_static_handler(struct http_req *req, struct http_resp *resp, void *arg)
{
	const struct http_static_table *tab = arg;
	const struct http_static_file *f = NULL;
	char etag[96];
	int gz, err = 0;
	size_t k;

	for (k = 0; k < tab->n; k++)
		if (!strcmp(tab->files[k].path, req->path)) {
			f = &tab->files[k];
			break;
		}
	if (!f) {
		http_resp_status(resp, 404);
		http_resp_type(resp, "text/plain");
		return http_resp_body_copy(resp, "404 Not Found\n", 14);
	}
	gz = f->gz && http_req_has_token(req, "accept-encoding", "gzip");
	etag[0] = '\0';
	if (f->etag) {
		size_t n = strlen(f->etag);

		/* Each variant has its own strong tag: "abc" and "abc-gz". */
		if (n >= 2 && n + 4 <= sizeof(etag) && f->etag[n - 1] == '"') {
			memcpy(etag, f->etag, n - 1);
			strcpy(etag + n - 1, gz ? "-gz\"" : "\"");
		}
	}
	if (f->gz)
		err |= http_resp_header(resp, "Vary", "Accept-Encoding");
	if (etag[0])
		err |= http_resp_header(resp, "ETag", etag);
	err |= http_resp_header(resp, "Cache-Control",
				tab->cache_control ? tab->cache_control : "no-cache");
	if (err)
		return -ENOSPC;
	if (etag[0] && inm_match(req, etag)) {
		http_resp_status(resp, 304);
		return 0;
	}
	if (gz)
		err |= http_resp_header(resp, "Content-Encoding", "gzip");
	if (err)
		return -ENOSPC;
	http_resp_type(resp, f->content_type ? f->content_type : "application/octet-stream");
	if (gz)
		http_resp_body(resp, f->gz, f->gz_len);
	else
		http_resp_body(resp, f->data, f->len);
	return 0;
}
