/*
 * transform.h: applying privacy obligations to a release of JSON records
 * (drop, redact, keep, generalize, pseudonymize, sample, aggregate with
 * k-suppression, Laplace noise, limit), all or nothing.
 *
 * Assumes: records are a cJSON array of flat objects (one per record; field
 * names are their top-level keys); SHA-256 from mbedTLS 2.28
 * (library/sha256.c + platform_util.c); a cryptographic rng supplied by the
 * caller; libm (floor, log, pow, round).
 * Leaves out: deciding (policy.h), asking the owner (the hub does, then sets
 * owner_approved), persisting budgets (the hub stores budget.h's state).
 *
 * Memory: cJSON allocates the output (and a copy of the input it works on);
 * nothing else allocates except one index array when aggregating.
 */
#ifndef HEARTH_POLICY_TRANSFORM_H
#define HEARTH_POLICY_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "obligations.h"

struct cJSON;
struct policy_budget_state;

#define POLICY_PSEUDONYM_KEY_LEN 32  /* bytes of a derived per-service key */
#define POLICY_PSEUDONYM_LEN 32	     /* hex characters of a pseudonym (128 bits) */
#define POLICY_RELEASE_MAX_RECORDS (1u << 20)

/* Fills buf with len random bytes; 0 or a negative errno. */
typedef int (*policy_rng_fn)(void *ctx, void *buf, size_t len);

struct policy_release_ctx {
	/* Key of this service's pseudonyms (>= 16 bytes; see
	 * policy_pseudonym_key_derive); needed only by pseudonymize. */
	const uint8_t *pseudonym_key;
	size_t pseudonym_key_len;
	/* Cryptographic rng; needed only by sample and noise. */
	policy_rng_fn rng;
	void *rng_ctx;
	/* The owner approved this release (needed when the set has @ask). */
	bool owner_approved;
};

/* ---- transform.c ---------------------------------------------------------- */

/*
 * Applies every obligation of o to records_in (an array of objects; read
 * only, the caller keeps it) in this order: per-field transforms (keep, drop,
 * redact, generalize, pseudonymize), sample, aggregate (k-suppression) or
 * per-record noise, noise on the aggregates, limit. On 0, *out is a new
 * array the caller frees with cJSON_Delete. On error *out is NULL, nothing
 * is released and err says why: -EINVAL a record or value does not fit an
 * obligation (wrong type, bad time, duplicate key) or ctx lacks the key or
 * rng an obligation needs, -EPERM conflicting obligations, -EACCES @ask
 * without owner_approved, -E2BIG too many records, -ENOMEM, or the rng's
 * error.
 * @budget and @rate are not checked here (see policy_release_run).
 */
int policy_release_apply(const struct policy_obligations *o, const struct cJSON *records_in,
			 const struct policy_release_ctx *ctx, struct cJSON **out, char *err,
			 size_t errlen);

/*
 * A whole release: checks the budget and rate of service at time now (Unix
 * seconds), applies o (policy_release_apply), then charges st. On any error
 * *out is NULL and st is unchanged (-EDQUOT budget spent, -EAGAIN rate
 * reached, or an error of policy_release_apply). The hub persists st before
 * sending *out.
 */
int policy_release_run(const struct policy_obligations *o, struct policy_budget_state *st,
		       const char *service, int64_t now, const struct cJSON *records_in,
		       const struct policy_release_ctx *ctx, struct cJSON **out, char *err,
		       size_t errlen);

/* HMAC-SHA256(key, msg) into mac[32]; 0 or -EINVAL. */
int policy_hmac_sha256(const uint8_t *key, size_t keylen, const void *msg, size_t msglen,
		       uint8_t mac[32]);

/*
 * A service's pseudonym key from the hub's master secret: HMAC-SHA256(master,
 * "hearth pseudonym v1" 0x00 service). Two services get unrelated keys, so
 * their pseudonyms of one value cannot be linked. 0 or -EINVAL.
 */
int policy_pseudonym_key_derive(const uint8_t *master, size_t masterlen, const char *service,
				uint8_t key[POLICY_PSEUDONYM_KEY_LEN]);

/*
 * The pseudonym of one JSON value (string, number or bool) under key:
 * POLICY_PSEUDONYM_LEN lowercase hex characters + NUL into out. Numbers are
 * canonical (5 and 5.0 agree). 0 or -EINVAL (other types, short key).
 */
int policy_pseudonymize_value(const uint8_t *key, size_t keylen, const struct cJSON *v,
			      char out[POLICY_PSEUDONYM_LEN + 1]);

/*
 * Time generalization: parses an ISO-8601 date-time (YYYY-MM-DD, optional
 * [T ]hh:mm[:ss[.frac]], optional Z or +hh[:]mm; years 0000-9999) into Unix
 * seconds. 0 or -EINVAL.
 */
int policy_time_parse(const char *s, int64_t *t);
/* Truncates Unix seconds t (UTC) to the start of its hour/day/ISO week
 * (Monday)/month/year (unit: enum policy_time_unit). 0 or -EINVAL. */
int policy_time_truncate(int64_t t, int unit, int64_t *out);
/* Formats Unix seconds as "YYYY-MM-DDThh:mm:ssZ" (buf >= 21 bytes). */
int policy_time_format(int64_t t, char *buf, size_t len);

/* ---- noise.c -------------------------------------------------------------- */

/* A uniform double in the open interval (0, 1): (m + 1/2) / 2^52 from 52
 * random bits m, exact, never 0 nor 1. 0, -EINVAL (no rng) or the rng's
 * error. (m + 1/2) / 2^53 would round to 1 for the largest m.) */
int policy_noise_uniform(policy_rng_fn rng, void *ctx, double *u);
/* A Laplace(0, scale) sample: the inverse CDF of a uniform in (0, 1) built
 * from 53 random bits (one picks the half, 52 the point in it; see
 * noise.c). scale > 0; 0, -EINVAL or the rng's error. */
int policy_noise_laplace(policy_rng_fn rng, void *ctx, double scale, double *x);

#endif /* HEARTH_POLICY_TRANSFORM_H */
