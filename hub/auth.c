/*
 * auth.c: bearer tokens for the owner, devices and services (auth.h).
 * The owner token's hash is kept in the store under "auth.owner"; device
 * and service hashes in their tables. Only hashes of secrets are stored;
 * secrets are wiped after use.
 * Assumes: store_open() ran; rng_read works (without an rng no token is
 * made and every authenticated endpoint answers 503).
 * The owner may also come with a browser session (session.h): a valid
 * cookie, plus the CSRF token on state-changing methods.
 * Leaves out: rate limiting of failed token attempts (256-bit secrets).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "../stack/http.h"
#include "auth.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"
#include "reply.h"
#include "session.h"
#include "store/model_store.h"
#include "store/store.h"

static uint8_t owner_hash[32];
static int owner_ready; /* 1: owner_hash is valid */

int hub_auth_ct_compare(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

void hub_auth_hash(const char *secret, uint8_t hash[32])
{
	mbedtls_sha256_ret((const unsigned char *)secret, strlen(secret), hash, 0);
}

int hub_auth_secret(char secret[65])
{
	uint8_t r[32];
	int err = rng_read(r, sizeof(r));
	if (err)
		return err;
	for (int i = 0; i < 32; i++)
		snprintf(secret + 2 * i, 3, "%02x", r[i]);
	mbedtls_platform_zeroize(r, sizeof(r));
	return 0;
}

int hub_auth_init(void)
{
	size_t len = sizeof(owner_hash);
	int err = store_kv_get("auth.owner", owner_hash, &len);
	if (!err && len == sizeof(owner_hash)) {
		owner_ready = 1;
		return 0;
	}
	char secret[65];
	if ((err = hub_auth_secret(secret))) {
		printf("hearth: no rng: no owner API token; the API is closed\n");
		return err;
	}
	hub_auth_hash(secret, owner_hash);
	len = sizeof(owner_hash);
	err = store_kv_put("auth.owner", owner_hash, &len);
	owner_ready = 1;
	printf("hearth: owner API token hto_%s%s\n", secret,
	       err ? " (not stored: no writable store; valid until reboot)" : "");
	printf("hearth: keep it: it is shown only once\n");
	mbedtls_platform_zeroize(secret, sizeof(secret));
	return 0;
}

/* The bearer token of (req) into (tok): 0, -ENOENT none, -EINVAL malformed. */
static int bearer(const struct http_req *req, char *tok, size_t len)
{
	const char *h = http_req_header(req, "Authorization");
	if (!h)
		return -ENOENT;
	if (strncasecmp(h, "Bearer ", 7))
		return -EINVAL;
	h += 7;
	while (*h == ' ')
		h++;
	size_t n = strlen(h);
	if (!n || n >= len)
		return -EINVAL;
	memcpy(tok, h, n + 1);
	return 0;
}

static int is_secret(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == 64;
}

/* Splits "<holder>.<secret>" after the prefix: *secret points after the last
 * dot (which becomes a NUL). 0 or -EINVAL. */
static int split(char *rest, char **secret)
{
	char *dot = strrchr(rest, '.');
	if (!dot || dot == rest || !is_secret(dot + 1))
		return -EINVAL;
	*dot = 0;
	*secret = dot + 1;
	return 0;
}

/* A revoked device token: -ESTALE (picolibc has no EKEYREVOKED). */
enum kind { K_NONE, K_OWNER, K_DEVICE, K_SERVICE };

static enum kind kind_of(const char *tok)
{
	if (!strncmp(tok, "hto_", 4))
		return K_OWNER;
	if (!strncmp(tok, "htd_", 4))
		return K_DEVICE;
	if (!strncmp(tok, "hts_", 4))
		return K_SERVICE;
	return K_NONE;
}

static const char *const kind_name[] = {"unknown", "owner", "device", "service"};

/* Common answer for a failed check; (err) from a checker. */
static int refuse(struct http_resp *resp, int err, enum kind want, enum kind got)
{
	if (err == -ENOENT)
		hub_reply_error(resp, 401, "unauthorized",
				"this endpoint needs the %s's bearer token (Authorization: Bearer ...)",
				kind_name[want]);
	else if (err == -EPERM)
		hub_reply_error(resp, 403, "wrong_token_kind",
				"this endpoint needs a %s token, not a %s token",
				kind_name[want], kind_name[got]);
	else if (err == -ESTALE)
		hub_reply_error(resp, 401, "token_revoked", "this device's token was revoked");
	else if (err == -ENODEV || err == -EROFS || err == -EAGAIN)
		hub_reply_error(resp, 503, "storage_unavailable",
				"the hub has no usable store; nothing can be authenticated");
	else
		hub_reply_error(resp, 401, "invalid_token", "the bearer token is not valid");
	return -EACCES;
}

/* 0, or: -ENOENT no token, -EPERM wrong kind, -EACCES bad token. */
static int check_owner(const struct http_req *req, enum kind *got)
{
	char tok[HUB_TOKEN_MAX];
	uint8_t h[32];
	int err = bearer(req, tok, sizeof(tok));
	*got = K_NONE;
	if (err)
		return err == -ENOENT ? err : -EACCES;
	*got = kind_of(tok);
	if (*got != K_OWNER)
		err = *got == K_NONE ? -EACCES : -EPERM;
	else if (!owner_ready)
		err = -EAGAIN;
	else if (!is_secret(tok + 4))
		err = -EACCES;
	else {
		hub_auth_hash(tok + 4, h);
		err = hub_auth_ct_compare(h, owner_hash, 32) ? -EACCES : 0;
	}
	mbedtls_platform_zeroize(tok, sizeof(tok));
	return err;
}

int hub_auth_owner(struct http_req *req, struct http_resp *resp)
{
	enum kind got;
	/* A bearer token decides when there is one; a browser session
	 * otherwise (CSRF token required on state-changing methods). */
	if (!http_req_header(req, "Authorization")) {
		int s = hub_session_check(req);
		if (!s)
			return 0;
		if (s == -EPERM) {
			hub_reply_error(resp, 403, "csrf_required",
					"a request with a session cookie must carry the session's "
					"X-CSRF-Token header");
			return -EACCES;
		}
		if (s == -EACCES) {
			hub_reply_error(resp, 401, "session_expired",
					"the session is unknown or expired: log in again");
			return -EACCES;
		}
	}
	int err = check_owner(req, &got);
	return err ? refuse(resp, err, K_OWNER, got) : 0;
}

static int check_device(const struct http_req *req, int64_t *device_id, enum kind *got)
{
	char tok[HUB_TOKEN_MAX], *secret, *end;
	uint8_t h[32], want[32];
	int revoked;
	int err = bearer(req, tok, sizeof(tok));
	*got = K_NONE;
	if (err)
		return err == -ENOENT ? err : -EACCES;
	*got = kind_of(tok);
	if (*got != K_DEVICE) {
		err = *got == K_NONE ? -EACCES : -EPERM;
		goto out;
	}
	if ((err = split(tok + 4, &secret)))
		goto bad;
	long long id = strtoll(tok + 4, &end, 10);
	if (*end || id <= 0)
		goto bad;
	err = store_device_hash(id, want, &revoked);
	if (err == -ENOENT)
		goto bad;
	if (err)
		goto out;
	hub_auth_hash(secret, h);
	if (hub_auth_ct_compare(h, want, 32))
		goto bad;
	if (revoked) {
		err = -ESTALE;
		goto out;
	}
	*device_id = id;
	err = 0;
	goto out;
bad:
	err = -EACCES;
out:
	mbedtls_platform_zeroize(tok, sizeof(tok));
	return err;
}

int hub_auth_device_check(const struct http_req *req, int64_t *device_id)
{
	enum kind got;
	return check_device(req, device_id, &got);
}

int hub_auth_device(struct http_req *req, struct http_resp *resp, int64_t *device_id)
{
	enum kind got;
	int err = check_device(req, device_id, &got);
	return err ? refuse(resp, err, K_DEVICE, got) : 0;
}

int hub_auth_service(struct http_req *req, struct http_resp *resp, char *service_id, size_t len)
{
	char tok[HUB_TOKEN_MAX], *secret;
	uint8_t h[32], want[32];
	enum kind got = K_NONE;
	int err = bearer(req, tok, sizeof(tok));
	if (err) {
		err = err == -ENOENT ? err : -EACCES;
		goto out;
	}
	got = kind_of(tok);
	if (got != K_SERVICE) {
		err = got == K_NONE ? -EACCES : -EPERM;
		goto out;
	}
	if (split(tok + 4, &secret) || strlen(tok + 4) >= len) {
		err = -EACCES;
		goto out;
	}
	err = store_service_hash(tok + 4, want);
	if (err == -ENOENT)
		err = -EACCES;
	if (err)
		goto out;
	hub_auth_hash(secret, h);
	if (hub_auth_ct_compare(h, want, 32)) {
		err = -EACCES;
		goto out;
	}
	snprintf(service_id, len, "%s", tok + 4);
out:
	mbedtls_platform_zeroize(tok, sizeof(tok));
	return err ? refuse(resp, err, K_SERVICE, got) : 0;
}
