/*
 * session.c: the owner password (PBKDF2-HMAC-SHA256), browser sessions
 * with CSRF tokens, the login/claim rate limiter, the claim code and the
 * factory reset (session.h, docs/security.md).
 * Assumes: store_open() ran, the rng works, one thread. Sessions live in
 * RAM (a reboot logs everyone out); at most NSESS at once, the least
 * recently used one goes when a new one needs room.
 * Leaves out: several users, remembering sessions across boots.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "../stack/http.h"
#include "../stack/stack.h"
#include "auth.h"
#include "cJSON.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"
#include "reply.h"
#include "session.h"
#include "store/store.h"

/* PBKDF2 iterations for new hashes (docs/security.md has the timings);
 * stored with each hash, so raising it later keeps old hashes valid. */
#define PW_ITER 60000u
#define PW_MIN 12
#define PW_MAX 128
#define SALT_LEN 16
#define NSESS 8

static uint64_t idle_ms = 12ull * 3600 * 1000;    /* hearth.session_idle_s= */
static uint64_t max_ms = 7ull * 24 * 3600 * 1000; /* hearth.session_max_s= */

/* ---- PBKDF2-HMAC-SHA256 (RFC 8018), one 32-byte block ---- */

struct hmac {
	mbedtls_sha256_context in, out; /* after the ipad / opad block */
};

static void hmac_init(struct hmac *h, const uint8_t *key, size_t klen)
{
	uint8_t k[64], pad[64];
	memset(k, 0, sizeof(k));
	if (klen > 64)
		mbedtls_sha256_ret(key, klen, k, 0);
	else
		memcpy(k, key, klen);
	mbedtls_sha256_init(&h->in);
	mbedtls_sha256_init(&h->out);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	mbedtls_sha256_starts_ret(&h->in, 0);
	mbedtls_sha256_update_ret(&h->in, pad, 64);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	mbedtls_sha256_starts_ret(&h->out, 0);
	mbedtls_sha256_update_ret(&h->out, pad, 64);
	mbedtls_platform_zeroize(k, sizeof(k));
	mbedtls_platform_zeroize(pad, sizeof(pad));
}

/* HMAC of (a)|(b) with the prepared key. */
static void hmac_run(const struct hmac *h, const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen, uint8_t out[32])
{
	mbedtls_sha256_context c;
	uint8_t inner[32];
	mbedtls_sha256_init(&c);
	mbedtls_sha256_clone(&c, &h->in);
	mbedtls_sha256_update_ret(&c, a, alen);
	if (blen)
		mbedtls_sha256_update_ret(&c, b, blen);
	mbedtls_sha256_finish_ret(&c, inner);
	mbedtls_sha256_clone(&c, &h->out);
	mbedtls_sha256_update_ret(&c, inner, 32);
	mbedtls_sha256_finish_ret(&c, out);
	mbedtls_sha256_free(&c);
	mbedtls_platform_zeroize(inner, sizeof(inner));
}

static void pbkdf2(const char *pw, const uint8_t *salt, size_t slen, uint32_t iter,
		   uint8_t out[32])
{
	struct hmac h;
	uint8_t u[32];
	static const uint8_t one[4] = {0, 0, 0, 1};
	hmac_init(&h, (const uint8_t *)pw, strlen(pw));
	hmac_run(&h, salt, slen, one, 4, u);
	memcpy(out, u, 32);
	for (uint32_t i = 1; i < iter; i++) {
		hmac_run(&h, u, 32, NULL, 0, u);
		for (int j = 0; j < 32; j++)
			out[j] ^= u[j];
	}
	mbedtls_platform_zeroize(u, sizeof(u));
	mbedtls_platform_zeroize(&h, sizeof(h));
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return s[2 * n] == 0 || s[2 * n] == '$' ? 0 : -EINVAL;
}

/* ---- the stored password ---- */

static bool claimed;
static char claim_code[20]; /* "XXXX-XXXX-XXXX-XXXX", "" when claimed */

bool hub_session_claimed(void)
{
	return claimed;
}

const char *hub_password_weak(const char *pw)
{
	size_t n = strlen(pw);
	int lower = 0, upper = 0, digit = 0, other = 0, same = 1;
	if (n < PW_MIN)
		return "the password needs at least 12 characters";
	if (n > PW_MAX)
		return "the password may have at most 128 bytes";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pw[i];
		lower |= c >= 'a' && c <= 'z';
		upper |= c >= 'A' && c <= 'Z';
		digit |= c >= '0' && c <= '9';
		other |= !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9');
		same &= pw[i] == pw[0];
	}
	if (same || lower + upper + digit + other < 2)
		return "the password needs characters of at least two kinds (lower case, upper "
		       "case, digits, others) and not one character repeated";
	return NULL;
}

int hub_password_set(const char *pw)
{
	uint8_t salt[SALT_LEN], h[32];
	char rec[160], sh[2 * SALT_LEN + 1], hh[65];
	int err = rng_read(salt, sizeof(salt));
	if (err)
		return err;
	pbkdf2(pw, salt, sizeof(salt), PW_ITER, h);
	hex(salt, sizeof(salt), sh);
	hex(h, sizeof(h), hh);
	snprintf(rec, sizeof(rec), "pbkdf2-sha256$%u$%s$%s", PW_ITER, sh, hh);
	size_t len = strlen(rec);
	err = store_kv_put("auth.password", rec, &len);
	mbedtls_platform_zeroize(h, sizeof(h));
	mbedtls_platform_zeroize(rec, sizeof(rec));
	mbedtls_platform_zeroize(hh, sizeof(hh));
	if (err)
		return err;
	claimed = true;
	mbedtls_platform_zeroize(claim_code, sizeof(claim_code));
	return 0;
}

/* 0 when (pw) is the owner password, -EACCES not, -ENOENT none set, other
 * -errno (store). */
static int password_verify(const char *pw)
{
	char rec[200];
	size_t len = sizeof(rec) - 1;
	uint8_t salt[SALT_LEN], want[32], got[32];
	int err = store_kv_get("auth.password", rec, &len);
	if (err)
		return err;
	rec[len] = 0;
	char *p = rec + strlen("pbkdf2-sha256$"), *end;
	if (strncmp(rec, "pbkdf2-sha256$", 14))
		return -EINVAL;
	unsigned long iter = strtoul(p, &end, 10);
	if (*end != '$' || iter < 1 || iter > 10000000)
		return -EINVAL;
	p = end + 1;
	if (unhex(p, salt, SALT_LEN) || p[2 * SALT_LEN] != '$' ||
	    unhex(p + 2 * SALT_LEN + 1, want, 32))
		return -EINVAL;
	pbkdf2(pw, salt, SALT_LEN, (uint32_t)iter, got);
	err = hub_auth_ct_compare(got, want, 32) ? -EACCES : 0;
	mbedtls_platform_zeroize(got, sizeof(got));
	mbedtls_platform_zeroize(rec, sizeof(rec));
	return err;
}

/* ---- the claim code ---- */

/* 32 symbols without 0/O, 1/I: 5 bits each, no modulo bias. */
static const char code_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

static int make_claim_code(void)
{
	uint8_t r[16];
	int err = rng_read(r, sizeof(r));
	if (err)
		return err;
	size_t k = 0;
	for (int i = 0; i < 16; i++) {
		if (i && i % 4 == 0)
			claim_code[k++] = '-';
		claim_code[k++] = code_alphabet[r[i] & 31];
	}
	claim_code[k] = 0;
	mbedtls_platform_zeroize(r, sizeof(r));
	return 0;
}

int hub_claim_code_check(const char *code)
{
	char a[20];
	size_t n = 0;
	if (claimed)
		return -EALREADY;
	if (!claim_code[0])
		return -EACCES;
	for (const char *s = code; *s; s++) {
		char c = *s;
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (n >= 16)
			return -EACCES;
		a[n++] = c;
	}
	if (n != 16)
		return -EACCES;
	char want[16];
	for (size_t i = 0, k = 0; claim_code[i]; i++)
		if (claim_code[i] != '-')
			want[k++] = claim_code[i];
	return hub_auth_ct_compare(a, want, 16) ? -EACCES : 0;
}

/* ---- sessions ---- */

struct session {
	bool used;
	uint8_t id_hash[32];
	char csrf[65];
	uint64_t created_ms, last_ms;
};

static struct session sessions[NSESS];

static bool expired(const struct session *s, uint64_t now)
{
	return now - s->last_ms > idle_ms || now - s->created_ms > max_ms;
}

/* The value of cookie (name) in (req)'s Cookie headers into (out). */
static int cookie(const struct http_req *req, const char *name, char *out, size_t len)
{
	const char *hn, *v;
	size_t nl = strlen(name);
	for (unsigned i = 0; http_req_header_at(req, i, &hn, &v) == 0; i++) {
		if (strcasecmp(hn, "Cookie"))
			continue;
		for (const char *p = v; *p;) {
			while (*p == ' ' || *p == ';')
				p++;
			size_t k = strcspn(p, ";");
			if (k > nl && !strncmp(p, name, nl) && p[nl] == '=') {
				size_t vl = k - nl - 1;
				if (vl >= len)
					return -EINVAL;
				memcpy(out, p + nl + 1, vl);
				out[vl] = 0;
				return 0;
			}
			p += k;
		}
	}
	return -ENOENT;
}

static struct session *find_session(const struct http_req *req)
{
	char id[80];
	uint8_t h[32];
	if (cookie(req, "hearth_session", id, sizeof(id)))
		return NULL;
	hub_auth_hash(id, h);
	mbedtls_platform_zeroize(id, sizeof(id));
	uint64_t now = time_now_ms();
	for (int i = 0; i < NSESS; i++) {
		struct session *s = &sessions[i];
		if (!s->used || hub_auth_ct_compare(s->id_hash, h, 32))
			continue;
		if (expired(s, now)) {
			mbedtls_platform_zeroize(s, sizeof(*s));
			return NULL;
		}
		return s;
	}
	return NULL;
}

static bool has_cookie(const struct http_req *req)
{
	char id[80];
	return cookie(req, "hearth_session", id, sizeof(id)) != -ENOENT;
}

int hub_session_check(const struct http_req *req)
{
	if (!has_cookie(req))
		return -ENOENT;
	struct session *s = find_session(req);
	if (!s)
		return -EACCES;
	if (req->method != HTTP_GET && req->method != HTTP_HEAD && req->method != HTTP_OPTIONS) {
		const char *t = http_req_header(req, "X-CSRF-Token");
		if (!t || strlen(t) != 64 || hub_auth_ct_compare(t, s->csrf, 64))
			return -EPERM;
	}
	s->last_ms = time_now_ms();
	return 0;
}

static void drop_all_sessions(void)
{
	mbedtls_platform_zeroize(sessions, sizeof(sessions));
}

int hub_session_start(struct http_resp *resp, char csrf[65])
{
	char id[65], hdr[200];
	uint64_t now = time_now_ms();
	struct session *s = NULL;
	for (int i = 0; i < NSESS; i++) {
		struct session *t = &sessions[i];
		if (t->used && expired(t, now))
			t->used = false;
		if (!t->used) {
			s = t;
			break;
		}
		if (!s || t->last_ms < s->last_ms)
			s = t;
	}
	int err = hub_auth_secret(id);
	if (!err)
		err = hub_auth_secret(s->csrf);
	if (err)
		return err;
	hub_auth_hash(id, s->id_hash);
	s->used = true;
	s->created_ms = s->last_ms = now;
	snprintf(hdr, sizeof(hdr),
		 "hearth_session=%s; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=%" PRIu64,
		 id, max_ms / 1000);
	mbedtls_platform_zeroize(id, sizeof(id));
	err = http_resp_header(resp, "Set-Cookie", hdr);
	mbedtls_platform_zeroize(hdr, sizeof(hdr));
	memcpy(csrf, s->csrf, 65);
	return err;
}

static int clear_cookie(struct http_resp *resp)
{
	return http_resp_header(resp, "Set-Cookie",
				"hearth_session=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
}

/* ---- the rate limiter ---- */

#define NPEERS 16
#define PEER_FREE 3    /* failures per source before delays start */
#define GLOBAL_FREE 10 /* failures over all sources */
#define MAX_DELAY_MS 60000u
#define FORGET_MS (15u * 60 * 1000) /* a quiet source starts over */

struct limit {
	char peer[48];
	unsigned fails;
	uint64_t until_ms, last_ms;
};

static struct limit peers[2][NPEERS], global_lim[2];

static uint64_t delay_ms(unsigned fails, unsigned free)
{
	if (fails < free)
		return 0;
	unsigned k = fails - free;
	return k >= 6 ? MAX_DELAY_MS : (1000u << k) < MAX_DELAY_MS ? (1000u << k) : MAX_DELAY_MS;
}

static struct limit *peer_entry(const struct http_req *req, enum hub_limit_kind k, bool make)
{
	char a[48];
	if (stack_httpd_peer(req, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	struct limit *oldest = &peers[k][0];
	for (int i = 0; i < NPEERS; i++) {
		struct limit *l = &peers[k][i];
		if (l->peer[0] && !strcmp(l->peer, a))
			return l;
		if (l->last_ms < oldest->last_ms || !l->peer[0])
			oldest = l;
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->peer, sizeof(oldest->peer), "%s", a);
	return oldest;
}

static void forget_old(struct limit *l, uint64_t now)
{
	if (l && l->fails && now - l->last_ms > FORGET_MS && now >= l->until_ms)
		l->fails = 0;
}

int hub_limit_check(const struct http_req *req, struct http_resp *resp, enum hub_limit_kind k)
{
	uint64_t now = time_now_ms(), until = 0;
	struct limit *p = peer_entry(req, k, false);
	forget_old(p, now);
	forget_old(&global_lim[k], now);
	if (p && p->until_ms > now)
		until = p->until_ms;
	if (global_lim[k].until_ms > now && global_lim[k].until_ms > until)
		until = global_lim[k].until_ms;
	if (!until)
		return 0;
	char ra[16];
	unsigned s = (unsigned)((until - now + 999) / 1000);
	snprintf(ra, sizeof(ra), "%u", s);
	http_resp_header(resp, "Retry-After", ra);
	hub_reply_error(resp, 429, "too_many_attempts",
			"too many failed attempts: wait %u s before trying again", s);
	return -EBUSY;
}

void hub_limit_result(const struct http_req *req, enum hub_limit_kind k, bool ok)
{
	uint64_t now = time_now_ms();
	struct limit *p = peer_entry(req, k, !ok);
	if (ok) {
		if (p)
			memset(p, 0, sizeof(*p));
		memset(&global_lim[k], 0, sizeof(global_lim[k]));
		return;
	}
	p->fails++;
	p->last_ms = now;
	p->until_ms = now + delay_ms(p->fails, PEER_FREE);
	global_lim[k].fails++;
	global_lim[k].last_ms = now;
	global_lim[k].until_ms = now + delay_ms(global_lim[k].fails, GLOBAL_FREE);
}

/* ---- handlers ---- */

/* The string member (name) of JSON body (req) into (out): 0, or answers
 * 400 and returns -EINVAL. */
static int body_string(const struct http_req *req, struct http_resp *resp, const char *name,
		       char *out, size_t len)
{
	cJSON *j = req->body_len ? cJSON_ParseWithLength((const char *)req->body, req->body_len)
				 : NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	int err = 0;
	if (!j || !cJSON_IsObject(j)) {
		hub_reply_error(resp, 400, "bad_json", "the body must be a JSON object");
		err = -EINVAL;
	} else if (!cJSON_IsString(v) || strlen(v->valuestring) >= len) {
		hub_reply_error(resp, 400, "bad_request",
				"\"%s\" must be a string of at most %zu bytes", name, len - 1);
		err = -EINVAL;
	} else
		snprintf(out, len, "%s", v->valuestring);
	if (v && cJSON_IsString(v))
		mbedtls_platform_zeroize(v->valuestring, strlen(v->valuestring));
	cJSON_Delete(j);
	return err;
}

static int session_json(struct http_resp *resp, int status, const char *csrf)
{
	char json[200];
	snprintf(json, sizeof(json),
		 "{\"authenticated\":true,\"user\":\"owner\",\"csrf_token\":\"%s\","
		 "\"idle_timeout_s\":%" PRIu64 ",\"max_age_s\":%" PRIu64 "}",
		 csrf, idle_ms / 1000, max_ms / 1000);
	return http_resp_json(resp, status, json) ? -EIO : 0;
}

int hub_session_get(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	struct session *s = find_session(req);
	if (!s) {
		char json[120];
		snprintf(json, sizeof(json), "{\"authenticated\":false,\"claimed\":%s}",
			 claimed ? "true" : "false");
		return http_resp_json(resp, 200, json) ? -EIO : 0;
	}
	s->last_ms = time_now_ms();
	return session_json(resp, 200, s->csrf);
}

int hub_session_post(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	char pw[PW_MAX + 2], csrf[65];
	if (!claimed)
		return hub_reply_error(resp, 409, "not_claimed",
				       "the device has no owner yet: claim it first (POST /api/v1/setup)");
	if (hub_limit_check(req, resp, HUB_LIMIT_LOGIN))
		return 0;
	if (body_string(req, resp, "password", pw, sizeof(pw)))
		return 0;
	int err = password_verify(pw);
	mbedtls_platform_zeroize(pw, sizeof(pw));
	if (err == -EACCES) {
		hub_limit_result(req, HUB_LIMIT_LOGIN, false);
		return hub_reply_error(resp, 401, "wrong_password", "the password is not right");
	}
	if (err)
		return hub_reply_error(resp, 503, "storage_unavailable",
				       "the password cannot be read from the store");
	hub_limit_result(req, HUB_LIMIT_LOGIN, true);
	if (hub_session_start(resp, csrf))
		return hub_reply_error(resp, 503, "no_session", "no session could be made (rng)");
	return session_json(resp, 201, csrf);
}

int hub_session_delete(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	/* Logging out needs the CSRF token too (else any page could do it). */
	int err = hub_session_check(req);
	if (err == -EPERM)
		return hub_reply_error(resp, 403, "csrf_required",
				       "a request with a session cookie must carry its X-CSRF-Token");
	struct session *s = err ? NULL : find_session(req);
	if (s)
		mbedtls_platform_zeroize(s, sizeof(*s));
	clear_cookie(resp);
	return http_resp_json(resp, 200, "{\"authenticated\":false}") ? -EIO : 0;
}

int hub_password_post(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	char cur[PW_MAX + 2], next[PW_MAX + 2], csrf[65];
	if (hub_auth_owner(req, resp))
		return 0;
	if (hub_limit_check(req, resp, HUB_LIMIT_LOGIN))
		return 0;
	if (body_string(req, resp, "current_password", cur, sizeof(cur)))
		return 0;
	if (body_string(req, resp, "new_password", next, sizeof(next))) {
		mbedtls_platform_zeroize(cur, sizeof(cur));
		return 0;
	}
	int err = password_verify(cur);
	mbedtls_platform_zeroize(cur, sizeof(cur));
	const char *weak = err ? NULL : hub_password_weak(next);
	if (err == -EACCES) {
		hub_limit_result(req, HUB_LIMIT_LOGIN, false);
		err = hub_reply_error(resp, 403, "wrong_password", "the current password is not right");
	} else if (err) {
		err = hub_reply_error(resp, 503, "storage_unavailable", "the password store failed");
	} else if (weak) {
		err = hub_reply_error(resp, 422, "weak_password", "%s", weak);
	} else if (hub_password_set(next)) {
		err = hub_reply_error(resp, 503, "storage_unavailable", "the password was not stored");
	} else {
		/* Every session ends; this client gets a new one. */
		drop_all_sessions();
		hub_limit_result(req, HUB_LIMIT_LOGIN, true);
		err = hub_session_start(resp, csrf) ? -EIO : session_json(resp, 200, csrf);
	}
	mbedtls_platform_zeroize(next, sizeof(next));
	return err;
}

/* ---- boot ---- */

static void factory_reset(void)
{
	static const char wipe[] =
		"BEGIN;"
		"DELETE FROM approvals; DELETE FROM deliveries; DELETE FROM budgets;"
		"DELETE FROM audit_refs;"
		/* the audit log is append-only for everyone but a factory reset */
		"DROP TRIGGER audit_no_delete; DELETE FROM audit;"
		"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
		"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
		"DELETE FROM records;"
		"DELETE FROM policies; DELETE FROM services; DELETE FROM devices;"
		/* the log's head goes with it: appends chain from it (audit.h) */
		"DELETE FROM store_kv WHERE key LIKE 'auth.%' OR key = 'audit.head';"
		"COMMIT;";
	int err = store_exec(wipe);
	if (err)
		store_exec("ROLLBACK;");
	else
		err = store_exec("VACUUM;");
	printf("hearth: factory reset: %s\n",
	       err ? "FAILED (the store is not writable); nothing was erased"
		   : "owner password, owner token, devices, services, policies, records and "
		     "audit log erased");
}

int hub_session_init(const char *bootargs)
{
	char v[32];
	if (bootargs && board_bootarg(bootargs, "hearth.session_idle_s", v, sizeof(v)) > 0)
		idle_ms = strtoull(v, NULL, 10) * 1000;
	if (bootargs && board_bootarg(bootargs, "hearth.session_max_s", v, sizeof(v)) > 0)
		max_ms = strtoull(v, NULL, 10) * 1000;
	if (bootargs && board_bootarg(bootargs, "hearth.factory_reset", v, sizeof(v)) >= 0) {
		if (!strcmp(v, "YES-ERASE-EVERYTHING"))
			factory_reset();
		else
			printf("hearth: factory reset ignored: it needs "
			       "hearth.factory_reset=YES-ERASE-EVERYTHING\n");
	}
	char rec[200];
	size_t len = sizeof(rec);
	int err = store_kv_get("auth.password", rec, &len);
	mbedtls_platform_zeroize(rec, sizeof(rec));
	claimed = err == 0 || err == -ENOSPC;
	if (claimed)
		return 0;
	if ((err = make_claim_code())) {
		printf("hearth: no rng: no claim code; the device cannot be claimed\n");
		return err;
	}
	printf("hearth: claim code %s (open https://" CONFIG_NET_HOSTNAME ".local/setup)\n",
	       claim_code);
	return 0;
}
