/*
 * http.h: Hearth's HTTP/1.1 server core, transport-agnostic: an incremental
 * request parser, a connection object that drives it and streams responses
 * through a small transport interface with back-pressure, a router, static
 * files from an in-memory table and response helpers (JSON, Date).
 *
 * Assumes: pure C11 with standard headers only (picolibc on the target, glibc
 * on the host); single-threaded use (the event loop), one caller per
 * connection at a time. All memory is caller-allocated: a connection uses its
 * struct plus one buffer of http_conn_buf_size(limits) bytes; nothing here
 * calls malloc.
 *
 * Leaves out: sockets and TLS (stack/net*.c, stack/tls*.c feed bytes in and
 * take bytes out through struct http_io), connection-count limits (the
 * transport refuses with http_canned_503 when it has no conn to spare),
 * request trailers beyond validation, content-coding of request bodies,
 * ranges, HTTP/2, CONNECT/TRACE (501).
 *
 * See docs/http.md for limits, statuses and the handler API.
 */
#ifndef HEARTH_HTTP_H
#define HEARTH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_conn;
struct http_req;
struct http_resp;

/* ------------------------------------------------------------------------
 * Limits (per server; every connection of the server uses them)
 */
struct http_limits {
	size_t max_request_line;  /* bytes, CRLF included; longer: 414 (or 400/501) */
	size_t max_header_bytes;  /* header section, CRLFs included; more: 431 */
	unsigned max_headers;	  /* header lines; more: 431 */
	uint64_t max_body;	  /* request body bytes; more: 413 */
	size_t max_trailer_bytes; /* chunked trailer section; more: 431 */
	size_t body_buffer;	  /* bodies up to this are handed over whole */
	size_t out_buffer;	  /* response head + copied bodies + produced chunks */
	size_t resp_header_bytes; /* extra response headers a handler may add */
	uint32_t header_timeout_ms; /* first byte to end of head; then 408 */
	uint32_t body_timeout_ms;   /* no body byte for this long: 408 */
	uint32_t idle_timeout_ms;   /* keep-alive with nothing to do: close */
	uint32_t send_timeout_ms;   /* output blocked for this long: abort */
};

/* The defaults: 8 KB request line, 16 KB / 64 headers, 1 MB + 1 body... see
 * http.md. Fills (lim). */
void http_limits_default(struct http_limits *lim);

/* ------------------------------------------------------------------------
 * Methods, versions, requests
 */
enum http_method {
	HTTP_UNKNOWN = 0,
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_PATCH,
};

struct http_header {
	uint32_t name;	/* offsets of NUL-terminated strings in the head buffer */
	uint32_t value; /* value without leading/trailing whitespace */
};

/*
 * A parsed request as a handler sees it. Every pointer points into the
 * connection's buffer and is valid until the response is complete (for a
 * deferred response: until http_resp_commit's response has been sent).
 */
struct http_req {
	enum http_method method;
	const char *method_str;
	const char *path;   /* target up to '?', not percent-decoded; an
			     * absolute-form target reduced to its path; "*" */
	const char *query;  /* after '?', "" when there is none */
	int version;	    /* 10 or 11 */
	bool chunked;	    /* body in chunked transfer-coding */
	uint64_t content_length; /* when !chunked */
	/* Buffered body (routes without a body callback): all of it. */
	const uint8_t *body;
	size_t body_len;
	uint64_t body_received; /* bytes of body so far (both kinds of route) */
	const struct http_route *route;
	struct http_conn *conn;
	void *user; /* for the handler: per-request state, NULL at start */
	/* private */
	const char *head;
	const struct http_header *hdrs;
	unsigned nhdrs;
};

/* First value of header (name) (case-insensitive), or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);
/* Header line (i): 0 with *name and *value set, -ENOENT past the end. */
int http_req_header_at(const struct http_req *req, unsigned i, const char **name,
		       const char **value);
/* Whether list header (name), over all its lines, holds (token)
 * (case-insensitive; parameters after ';' ignored; a "q=0" parameter makes
 * the token count as absent). */
bool http_req_has_token(const struct http_req *req, const char *name, const char *token);

/* ------------------------------------------------------------------------
 * Incremental request parser (http_parser.c). The connection uses it; it is
 * public for tests and fuzzing. It copies the request line and headers into
 * (buf) and hands body bytes out as pointers into the caller's input.
 */
enum http_pev {
	HTTP_PEV_MORE,	/* all input consumed, need more */
	HTTP_PEV_HEAD,	/* request line and headers complete */
	HTTP_PEV_BODY,	/* body bytes: *data, *dlen (pointing into the input) */
	HTTP_PEV_END,	/* message complete; http_parser_next() for the next */
	HTTP_PEV_ERROR, /* malformed: p->status says what to answer */
};

struct http_parser {
	const struct http_limits *lim;
	char *buf; /* request line + header strings */
	size_t buf_size;
	struct http_header *hdrs;
	unsigned max_hdrs;
	/* state (private) */
	uint8_t state;
	uint8_t after_hdr; /* the state header lines lead back to */
	bool trailer;
	bool started;
	uint16_t status;
	size_t len;
	size_t count; /* bytes of the current section against its limit */
	unsigned nhdrs;
	unsigned empty_lines;
	uint32_t method_off, target_off, path_off, query_off, version_off;
	uint32_t name_off, value_off, value_end;
	/* results */
	enum http_method method;
	int version;
	bool has_cl, chunked, has_te, has_host, conn_close, conn_keep_alive, expect_continue;
	uint64_t content_length;
	uint64_t body_left; /* CL bytes or current chunk bytes still to come */
	uint64_t body_total;
	unsigned chunk_digits;
	size_t ext_len;
};

/* Borrows (lim), (buf) of (buf_size) bytes and (hdrs) of (max_hdrs) entries
 * for the parser's life. buf_size must exceed max_request_line +
 * max_header_bytes. Returns 0 or -EINVAL. */
int http_parser_init(struct http_parser *p, const struct http_limits *lim, char *buf,
		     size_t buf_size, struct http_header *hdrs, unsigned max_hdrs);
/* Parses from (data), (len) bytes; sets *used to the bytes consumed and
 * returns an enum http_pev. After HEAD, END and ERROR it stops; call again to
 * go on (after END: http_parser_next first; after ERROR it stays in error). */
int http_parser_execute(struct http_parser *p, const uint8_t *data, size_t len, size_t *used,
			const uint8_t **body, size_t *blen);
/* Ready for the next request on the same connection (forgets the last). */
void http_parser_next(struct http_parser *p);
/* After HEAD: fills the request fields of (req) from the parser. */
void http_parser_fill(const struct http_parser *p, struct http_req *req);

/* ------------------------------------------------------------------------
 * Responses (http_server.c)
 */

/*
 * Body producer: writes up to (space) bytes at (buf). Returns the number
 * written (> 0), 0 when the body is complete, -EAGAIN when nothing is ready
 * yet (call http_conn_writable() when it is), another negative errno to
 * abort the connection (the status line is long gone).
 */
typedef long (*http_produce_fn)(void *arg, uint8_t *buf, size_t space);

/* Status line reason for (status), "" for unknown ones. */
const char *http_status_reason(int status);

/* Sets the status (default 200). */
void http_resp_status(struct http_resp *resp, int status);
/* Content-Type; borrows (type): a string literal or one that outlives the
 * response. */
void http_resp_type(struct http_resp *resp, const char *type);
/* Adds a header line; copies both strings. -ENOSPC past resp_header_bytes,
 * -EINVAL for CR/LF in either or a framing header the core owns
 * (Content-Length, Transfer-Encoding, Connection). */
int http_resp_header(struct http_resp *resp, const char *name, const char *value);
/* Body from memory the caller keeps valid until the response is sent (a
 * static table, or freed when http_conn closes). */
void http_resp_body(struct http_resp *resp, const void *data, size_t len);
/* Body copied into the connection's output buffer: -ENOSPC when it does not
 * fit (out_buffer minus the head); use a producer then. */
int http_resp_body_copy(struct http_resp *resp, const void *data, size_t len);
/* Body from a producer; (len) is its exact length, or -1 when unknown
 * (chunked for HTTP/1.1, close-delimited for 1.0). Borrows (arg) until the
 * response is complete or the connection closes. */
void http_resp_producer(struct http_resp *resp, int64_t len, http_produce_fn fn, void *arg);
/* Close the connection after this response. */
void http_resp_close(struct http_resp *resp);
/* JSON body: status, application/json, (json) copied. 0, -ENOSPC. */
int http_resp_json(struct http_resp *resp, int status, const char *json);
/* Deferred responses: a handler that returned HTTP_DEFER fills (resp) later
 * and commits it; the connection reads nothing meanwhile. 0, or -EPIPE when
 * the connection went away (then drop resp: it is no longer valid to use). */
int http_resp_commit(struct http_resp *resp);

/* Formats an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into (out), 30
 * bytes at least. Returns the length, or -EINVAL for negative (t) or small
 * (out_len). */
int http_date_format(int64_t unix_seconds, char *out, size_t out_len);

/* ------------------------------------------------------------------------
 * Router and handlers (http_router.c)
 */

/* Handler return values besides 0 (response filled) and negative errno
 * (-> 500, or 400 for -EINVAL, 413 for -EFBIG). */
#define HTTP_DEFER 1 /* will call http_resp_commit later */

/* Called once with the whole request (and body, see below). */
typedef int (*http_handler_fn)(struct http_req *req, struct http_resp *resp, void *arg);
/* Streamed body: called for each piece as it arrives, before the handler.
 * Returns 0 or a negative errno (-> the handler is not called; 500, or 400
 * for -EINVAL, 413 for -EFBIG, and the connection closes). */
typedef int (*http_body_fn)(struct http_req *req, const uint8_t *data, size_t len, void *arg);

/* The handler's hold on a request ends early: a deferred request's
 * connection went away before http_resp_commit, or a producer's body will
 * not be asked for to its end (the connection died or timed out mid-body,
 * the producer returned an error, or the request was HEAD or the length 0
 * so the producer is never called). Called at most once per request, never
 * after a producer returned 0 or produced its whole known length: drop
 * every reference to (req), its resp and the producer's arg, now. */
typedef void (*http_cancel_fn)(struct http_req *req, void *arg);

#define HTTP_ROUTE_PREFIX 0x1 /* path is a prefix ("/static/") */

struct http_route {
	const char *method; /* "GET", ... ; NULL: any method */
	const char *path;
	unsigned flags;
	http_handler_fn handler;
	http_body_fn body; /* NULL: the body is buffered whole (body_buffer) */
	http_cancel_fn cancel; /* for HTTP_DEFER and producers: see http_cancel_fn */
	void *arg;
};

/*
 * Finds the route for (req). Returns 0 with *route set, 404, or 405 with the
 * Allow list in (allow) (always NUL-terminated, cut short if small). GET
 * routes serve HEAD; OPTIONS with no route of its own gets 204 + Allow from
 * the connection. First match in table order wins.
 */
int http_route_find(const struct http_route *routes, size_t n, const struct http_req *req,
		    const struct http_route **route, char *allow, size_t allow_len);

/* Static files: an in-memory table; data, gz and etag are borrowed for
 * good (static const in the image). etag is quoted ("\"abc\""); NULL: none.
 */
struct http_static_file {
	const char *path;
	const char *content_type;
	const uint8_t *data;
	size_t len;
	const uint8_t *gz; /* NULL: no gzip variant */
	size_t gz_len;
	const char *etag;
};

struct http_static_table {
	const struct http_static_file *files;
	size_t n;
	const char *cache_control; /* NULL: "no-cache" (revalidate with ETag) */
};

/* A handler for GET routes: (arg) is a struct http_static_table. Serves the
 * file whose path equals req->path (404 otherwise), gzip when accepted and a
 * variant exists (Vary: Accept-Encoding), 304 on a matching If-None-Match. */
int http_static_handler(struct http_req *req, struct http_resp *resp, void *arg);

/* ------------------------------------------------------------------------
 * Server and connections (http_server.c)
 */
struct http_server {
	struct http_limits lim;
	const struct http_route *routes;
	size_t nroutes;
	/* Wall clock for the Date header: Unix seconds, or negative when not
	 * known yet (no Date then). NULL: no Date header. */
	int64_t (*wall_clock)(void *arg);
	void *clock_arg;
	const char *server_name; /* Server header; NULL: none */
	/* Server-wide default header lines ("Name: value\r\n" ...), borrowed
	 * for good: added to every response, the core's own answers included,
	 * except a line whose name the handler set itself (its value wins).
	 * NULL: none. */
	const char *default_headers;
	/* Called for every request once its head is parsed, before routing:
	 * 0 lets it go on; a status (400..599) refuses it: the core answers
	 * with (resp) as check left it (http_resp_json etc.; the status is
	 * forced), drops any body and closes. NULL: no check. */
	int (*check)(const struct http_req *req, struct http_resp *resp, void *arg);
	void *check_arg;
};

/*
 * The transport under a connection. send() copies what it accepts; it
 * returns the number of bytes taken (0..len; fewer when full) or a negative
 * errno when the connection is dead. send_space() says how many bytes send()
 * would take now. flush() (optional) pushes what was queued (tcp_output).
 * close() is called exactly once, when the server is done with the
 * connection (after the last response bytes went to send()); the transport
 * then finishes sending and closes; the conn must not be fed afterwards.
 */
struct http_io {
	int (*send)(void *ctx, const void *buf, size_t len);
	size_t (*send_space)(void *ctx);
	void (*flush)(void *ctx);
	void (*close)(void *ctx);
	void *ctx;
};

enum http_conn_state {
	HTTP_C_READ,	/* reading a request head (or idle between requests) */
	HTTP_C_BODY,	/* reading a request body */
	HTTP_C_APP,	/* handler deferred its response */
	HTTP_C_SEND,	/* sending a response; input paused */
	HTTP_C_CLOSING, /* sending a last response, then close; input discarded */
	HTTP_C_CLOSED,
};

struct http_resp {
	struct http_conn *conn;
	int status;
	const char *content_type;
	size_t hdr_len; /* extra header bytes in conn->rhdr */
	const uint8_t *body;
	size_t body_len;
	bool body_copied;
	bool close;
	bool committed;
	http_produce_fn produce;
	void *produce_arg;
	int64_t produce_len;
};

struct http_conn {
	const struct http_server *srv;
	struct http_io io;
	struct http_parser p;
	struct http_req req;
	struct http_resp resp;
	enum http_conn_state state;
	/* buffer layout */
	uint8_t *bodybuf;
	uint8_t *out;
	char *rhdr;
	/* output */
	size_t out_off, out_len;
	const uint8_t *bsrc; /* borrowed body still to send */
	size_t bsrc_left;
	uint64_t prod_left; /* known-length producer bytes still due */
	bool prod_active, prod_chunked, prod_eof_close;
	bool head_only;
	bool keep_alive;
	bool discard_body; /* 404/405 etc.: read the body, drop it */
	int pending_status; /* answer once the body has been read */
	char allow[64];
	/* time (ms, from http_conn_tick) */
	uint64_t now;
	uint64_t stamp; /* start of the phase the current timeout measures */
	uint32_t requests;
};

/* Bytes of buffer a connection needs under (lim). */
size_t http_conn_buf_size(const struct http_limits *lim);

/* Sets up (c) on (srv) (borrowed for the conn's life) with transport (io)
 * (copied) and (buf) of (len) >= http_conn_buf_size() bytes, borrowed until
 * close. (now_ms): the current time, the start of the idle timeout.
 * Returns 0, or -EINVAL (small buffer, missing send/close). */
int http_conn_init(struct http_conn *c, const struct http_server *srv, const struct http_io *io,
		   void *buf, size_t len, uint64_t now_ms);
/*
 * Feeds received bytes. Returns how many it consumed (<= len; never
 * negative). Fewer than (len): the connection is waiting for output room or
 * a deferred handler; keep the rest and feed it again after
 * http_conn_writable()/http_resp_commit() (http_conn_wants_input() says
 * when). Bytes arriving after an error response are consumed and dropped.
 */
size_t http_conn_feed(struct http_conn *c, const void *data, size_t len);
/* The transport has room again (TCP sent callback), or a producer that said
 * -EAGAIN has data: push output. */
void http_conn_writable(struct http_conn *c);
/* Same as http_conn_writable, named for the TCP sent callback. */
void http_conn_sent(struct http_conn *c);
/* Whether feed() would consume input now. */
bool http_conn_wants_input(const struct http_conn *c);
/* The peer closed its side (FIN): a connection between requests closes; one
 * in the middle of a request closes too (the request cannot complete). */
void http_conn_eof(struct http_conn *c);
/* The transport died (RST, error): forget everything, no io calls. */
void http_conn_gone(struct http_conn *c);
/*
 * Timeouts. Call periodically with the monotonic time; timestamps are the
 * last tick's, so timeouts are accurate to one tick period. Head not complete
 * within header_timeout_ms or body stalled: 408 and close; idle keep-alive:
 * close silently; output stalled send_timeout_ms: close. Returns the
 * connection state after the tick.
 */
enum http_conn_state http_conn_tick(struct http_conn *c, uint64_t now_ms);

/* A complete 503 response with Connection: close, for a transport with no
 * free connection (send it, then close). */
extern const char http_canned_503[];

#endif /* HEARTH_HTTP_H */
