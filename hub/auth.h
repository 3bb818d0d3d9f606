/*
 * auth.h: who is calling. Three kinds of bearer token, each a random
 * 256-bit secret shown once and stored only as its SHA-256:
 *   owner    "hto_<64 hex>"                one per hub, made on first boot and
 *                                          printed once on the console
 *   device   "htd_<device id>.<64 hex>"    per ingesting device (POST /devices)
 *   service  "hts_<service id>.<64 hex>"   per third-party service (pulls)
 * A token names its kind and holder, so checking it is one lookup and a
 * constant-time compare of hashes.
 * The helpers answer the request themselves when the caller is not allowed:
 * they return 0 (go on) or a negative value after writing a JSON 401
 * (missing, malformed, wrong or revoked token), 403 (a valid token of the
 * wrong kind) or 503 (no store).
 * Assumes: the store (hub/store), the board's rng, mbedTLS SHA-256.
 * hub_auth_owner also accepts the owner's browser session (session.h):
 * without an Authorization header, a valid hearth_session cookie passes
 * GET/HEAD, and other methods when X-CSRF-Token matches (else 403
 * csrf_required; an expired cookie: 401 session_expired).
 * Leaves out: token rotation for the owner (a
 * reset needs the console), scopes finer than the kind.
 */
#ifndef HUB_AUTH_H
#define HUB_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct http_req;
struct http_resp;

#define HUB_TOKEN_MAX 200 /* longest token we make or accept, NUL included */

/* Boot: loads the owner token's hash from the store, or makes the token,
 * stores its hash and prints "hearth: owner API token <token>" once. */
int hub_auth_init(void);

int hub_auth_owner(struct http_req *req, struct http_resp *resp);
int hub_auth_device(struct http_req *req, struct http_resp *resp, int64_t *device_id);
/* (service_id) of (len) bytes receives the service's id. */
int hub_auth_service(struct http_req *req, struct http_resp *resp, char *service_id, size_t len);
/* Same check as hub_auth_device without answering (body callbacks): 0 or
 * a negative errno. */
int hub_auth_device_check(const struct http_req *req, int64_t *device_id);

/* Makes a token secret: (secret) gets 64 hex digits + NUL. */
int hub_auth_secret(char secret[65]);
/* SHA-256 of a token's secret (the 64 hex digits) into (hash). */
void hub_auth_hash(const char *token, uint8_t hash[32]);
/* Compares (n) bytes in time independent of their contents: 0 equal. */
int hub_auth_ct_compare(const void *a, const void *b, size_t n);

#endif
