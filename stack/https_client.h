/*
 * https_client.h: the HTTPS client services use to deliver data: one request
 * per connection (GET or POST), asynchronous, driven by the event loop (NO_SYS
 * lwIP callbacks; nothing blocks). DNS or a literal address, TCP, TLS 1.2
 * (altcp_tls on mbedTLS) with the server's certificate chain REQUIRED to
 * verify against the built-in CA bundle (Debian's ca-certificates, embedded at
 * build time) or a per-request CA, the host name checked against the
 * certificate (dNSName; iPAddress for literal addresses) and sent as SNI, an
 * optional SPKI SHA-256 pin, connect/TLS/response timeouts, redirects off
 * unless asked for, Content-Length, chunked and read-to-close bodies, and a
 * hard size limit: the body goes into the caller's buffer and a response that
 * does not fit is an error (nothing partial is delivered).
 *
 * Assumes: the network is up (stack_net_init) and the rng works
 * (stack_tls_init); called from the event loop only.
 * Leaves out: keep-alive and connection reuse, HTTP/2, compressed bodies
 * (Accept-Encoding: identity is sent), proxies, client certificates,
 * revocation (no CRL/OCSP), streaming bodies larger than memory.
 */
#ifndef HEARTH_HTTPS_CLIENT_H
#define HEARTH_HTTPS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPS_MAX_WANT 8       /* response headers one request can ask for */
#define HTTPS_MAX_REQUESTS 4   /* requests in flight at once */

/* Defaults when a timeout is 0 (milliseconds). */
#define HTTPS_CONNECT_TIMEOUT_MS 10000  /* DNS + TCP connect */
#define HTTPS_TLS_TIMEOUT_MS 10000      /* TLS handshake and verification */
#define HTTPS_RESPONSE_TIMEOUT_MS 30000 /* request sent to response complete */

struct https_request {
	/* "https://host[:port]/path[?query]"; host a name, an IPv4 address or
	 * an [IPv6] literal. Used before https_get returns. */
	const char *url;
	/* Optional: a literal IP address to connect to instead of resolving
	 * the URL's host; the certificate is still checked against the host
	 * (curl's --resolve). Used before https_get returns. */
	const char *connect_to;
	/* POST only: the body and its type (default "application/json").
	 * (body) must stay valid until done is called. */
	const void *body;
	size_t body_len;
	const char *content_type;
	/* Optional extra request header lines "Name: value" (no CR/LF),
	 * NULL-terminated. Used before https_get returns. */
	const char *const *headers;
	/* Optional response header names to return (case-insensitive),
	 * NULL-terminated, at most HTTPS_MAX_WANT. Must stay valid until done. */
	const char *const *want;
	/* Optional trust anchors (DER, or PEM with one or more certificates)
	 * used instead of the built-in bundle. Parsed before https_get returns. */
	const uint8_t *ca;
	size_t ca_len;
	/* Optional pin: "sha256//BASE64" (curl's --pinnedpubkey form, what the
	 * device prints for its own key), the SHA-256 of the server
	 * certificate's SubjectPublicKeyInfo; checked in addition to the
	 * chain, never instead of it. Used before https_get returns. */
	const char *pin;
	/* 0: the defaults above. */
	uint32_t connect_timeout_ms, tls_timeout_ms, response_timeout_ms;
	/* Redirects to follow (https only, to an absolute URL or path); 0, the
	 * default, returns a 3xx as it is. */
	unsigned int max_redirects;
	/* Caller's memory for the body; its size is the response size limit.
	 * Must stay valid until done is called. */
	uint8_t *buf;
	size_t buf_len;
};

struct https_response {
	int status;                /* HTTP status; 0 when none was received */
	const uint8_t *body;       /* in req->buf; NULL on error */
	size_t body_len;           /* 0 on error */
	/* values[i] is the value of want[i] (the first occurrence), or NULL. */
	const char *values[HTTPS_MAX_WANT];
	/* On error: a short reason with no spaces ("untrusted", "name-mismatch",
	 * "pin-mismatch", "too-big", "connect-timeout", ...); "ok" on success. */
	const char *reason;
	uint32_t verify_flags;     /* mbedTLS X.509 flags when the certificate was refused */
};

/* Called once per accepted request, from the event loop, never from inside
 * https_get/https_post. (resp) is always non-NULL and valid only during the
 * call. (err) is 0 (any HTTP status, 3xx included) or:
 *   -EHOSTUNREACH  the name did not resolve        ("dns")
 *   -ECONNREFUSED  the server refused the connection ("refused")
 *   -ETIMEDOUT     a timeout ("connect-timeout", "tls-timeout", "response-timeout")
 *   -EPROTO        the TLS handshake failed          ("tls-failed")
 *   -EACCES        the server is not the one asked for: "untrusted" (chain
 *                  does not lead to a trusted CA), "name-mismatch",
 *                  "expired", "bad-certificate", "pin-mismatch"
 *   -EBADMSG       a malformed HTTP response         ("bad-response", ...)
 *   -EMSGSIZE      the body is larger than buf_len   ("too-big")
 *   -ECONNRESET    the connection ended before the response did ("truncated", "reset")
 *   -ENOMEM        out of memory                     ("no-memory") */
typedef void (*https_done_fn)(void *arg, const struct https_response *resp, int err);

/* stack/https_client.c */
/* Starts a GET (https_get) or a POST of req->body (https_post). Returns a
 * request id (> 0) for https_cancel, or -EINVAL (bad URL, header or
 * argument), -EBUSY (HTTPS_MAX_REQUESTS in flight), -ENOMEM, -EIO (no TLS:
 * no entropy), and then done is not called. (req) itself is copied. */
int https_get(const struct https_request *req, https_done_fn done, void *arg);
int https_post(const struct https_request *req, https_done_fn done, void *arg);
/* Drops request (id): the connection is aborted and done is not called.
 * 0, or -ENOENT when it already finished. */
int https_cancel(int id);
/* The SHA-256 of (len) bytes as 64 lowercase hex digits and a NUL, for
 * logs and audit records of what was sent or received. */
void https_sha256_hex(const void *data, size_t len, char hex[65]);
/* The built-in CA bundle: certificates loaded (parsing it on first use) and
 * how many of the bundle's could not be used; the ca-certificates version. */
int https_ca_bundle_info(size_t *loaded, size_t *skipped, const char **version);

#endif
