/*
 * session.h: the owner's password, browser sessions, CSRF tokens, the
 * login rate limiter and first-run setup (docs/security.md).
 *   - Until an owner password exists the device is unclaimed: a one-time
 *     claim code (16 characters from an unambiguous alphabet, from the rng)
 *     is printed on the console at every boot; POST /api/v1/setup with it
 *     sets the password once and logs the owner in.
 *   - The password is kept in the store (kv "auth.password") only as
 *     "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>".
 *   - A session is a random 256-bit cookie (hearth_session, Secure,
 *     HttpOnly, SameSite=Strict) kept in RAM only as its SHA-256, with its
 *     own random CSRF token; state-changing requests authenticated by the
 *     cookie must send the token in X-CSRF-Token.
 *   - Failed logins and claim attempts are limited per source address and
 *     globally with an exponential delay capped at 60 s (429 + Retry-After).
 * Assumes: the store, the rng, mbedTLS SHA-256, one thread. Password hashing
 * blocks the event loop for its duration (tens to hundreds of ms).
 * Leaves out: several users, sessions that survive a reboot, 2FA.
 */
#ifndef HUB_SESSION_H
#define HUB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_req;
struct http_resp;

/* Boot: applies hearth.factory_reset=, loads the password state and, when
 * unclaimed, makes and prints the claim code. (bootargs) may be NULL. */
int hub_session_init(const char *bootargs);
/* Whether an owner password exists. */
bool hub_session_claimed(void);

/* The session of (req)'s cookie: 0 valid (and, for POST/PUT/PATCH/DELETE,
 * a matching X-CSRF-Token), -ENOENT no session cookie, -EACCES unknown or
 * expired session, -EPERM valid session but missing or wrong CSRF token.
 * A valid session's idle timer restarts. */
int hub_session_check(const struct http_req *req);

/* Handlers (routes in api.c, docs/api.yaml). */
int hub_session_get(struct http_req *req, struct http_resp *resp, void *arg);
int hub_session_post(struct http_req *req, struct http_resp *resp, void *arg);
int hub_session_delete(struct http_req *req, struct http_resp *resp, void *arg);
int hub_password_post(struct http_req *req, struct http_resp *resp, void *arg);

/* For setup.c. */
/* NULL when (pw) is acceptable, else why not (a sentence). */
const char *hub_password_weak(const char *pw);
/* Hashes and stores (pw) as the owner password: 0 or -errno. */
int hub_password_set(const char *pw);
/* Starts a session for the owner: Set-Cookie on (resp) and its CSRF token
 * into (csrf) (65 bytes). 0 or -errno. */
int hub_session_start(struct http_resp *resp, char csrf[65]);
/* Rate limiting: kinds of attempt. */
enum hub_limit_kind { HUB_LIMIT_LOGIN, HUB_LIMIT_CLAIM };
/* 0 when (req) may try now; otherwise answers 429 with Retry-After and
 * returns -EBUSY. */
int hub_limit_check(const struct http_req *req, struct http_resp *resp, enum hub_limit_kind k);
/* Records the outcome of an attempt (ok: resets its source and the global
 * counter; failed: lengthens the delay). */
void hub_limit_result(const struct http_req *req, enum hub_limit_kind k, bool ok);
/* The claim code check for setup.c: 0 when (code) is this boot's code
 * (case, dashes and spaces ignored), -EACCES otherwise, -EALREADY claimed. */
int hub_claim_code_check(const char *code);

/* setup.c */
int hub_setup_get(struct http_req *req, struct http_resp *resp, void *arg);
int hub_setup_post(struct http_req *req, struct http_resp *resp, void *arg);

#endif
