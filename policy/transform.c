/*
 * transform.c: Hearth's release pipeline over JSON records: the per-field
 * transforms (keep, drop, redact, generalize, pseudonymize), sampling,
 * aggregation with k-suppression, Laplace noise and limit, applied to a copy
 * of the records, all or nothing (fail closed).
 *
 * Assumes: cJSON (Debian's cjson source) for the records; mbedTLS 2.28's
 * SHA-256 (the HMAC construction is here, RFC 2104); times are UTC and
 * epoch numbers are seconds; years 0000-9999.
 * Leaves out: nested field paths (fields are top-level keys), epoch
 * milliseconds, local-time day boundaries, budgets (budget.c).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"

#include "budget.h"
#include "transform.h"

/* ---- HMAC-SHA256 and pseudonyms ------------------------------------------ */

/* HMAC-SHA256 (RFC 2104) of the message m1 || m2. */
static int hmac2(const uint8_t *key, size_t keylen, const void *m1, size_t l1, const void *m2, size_t l2,
		 uint8_t mac[32])
{
	mbedtls_sha256_context c;
	uint8_t k0[64], pad[64], inner[32];
	int rc = 0;

	memset(k0, 0, sizeof(k0));
	if (keylen > sizeof(k0)) {
		if (mbedtls_sha256_ret(key, keylen, k0, 0))
			return -EIO;
	} else if (keylen) {
		memcpy(k0, key, keylen);
	}
	mbedtls_sha256_init(&c);
	for (int i = 0; i < 64; i++)
		pad[i] = k0[i] ^ 0x36;
	if (mbedtls_sha256_starts_ret(&c, 0) || mbedtls_sha256_update_ret(&c, pad, 64) ||
	    mbedtls_sha256_update_ret(&c, m1, l1) || mbedtls_sha256_update_ret(&c, m2, l2) ||
	    mbedtls_sha256_finish_ret(&c, inner))
		rc = -EIO;
	for (int i = 0; i < 64; i++)
		pad[i] = k0[i] ^ 0x5c;
	if (!rc && (mbedtls_sha256_starts_ret(&c, 0) || mbedtls_sha256_update_ret(&c, pad, 64) ||
		    mbedtls_sha256_update_ret(&c, inner, 32) || mbedtls_sha256_finish_ret(&c, mac)))
		rc = -EIO;
	mbedtls_sha256_free(&c);
	mbedtls_platform_zeroize(k0, sizeof(k0));
	mbedtls_platform_zeroize(pad, sizeof(pad));
	mbedtls_platform_zeroize(inner, sizeof(inner));
	return rc;
}

int policy_hmac_sha256(const uint8_t *key, size_t keylen, const void *msg, size_t msglen,
		       uint8_t mac[32])
{
	if ((!key && keylen) || (!msg && msglen) || !mac)
		return -EINVAL;
	return hmac2(key, keylen, msg, msglen, "", 0, mac);
}

int policy_pseudonym_key_derive(const uint8_t *master, size_t masterlen, const char *service,
				uint8_t key[POLICY_PSEUDONYM_KEY_LEN])
{
	static const char label[] = "hearth pseudonym v1"; /* sizeof includes the NUL separator */
	size_t n;

	if (!master || masterlen < 16 || !service || !key)
		return -EINVAL;
	n = strlen(service);
	if (!n || n > 256)
		return -EINVAL;
	return hmac2(master, masterlen, label, sizeof(label), service, n, key);
}

/* The canonical text of a number: integers without a fraction. */
static void number_text(double x, char *buf, size_t len)
{
	if (x == floor(x) && fabs(x) < 9007199254740992.0)
		snprintf(buf, len, "%lld", (long long)x);
	else
		snprintf(buf, len, "%.17g", x);
}

int policy_pseudonymize_value(const uint8_t *key, size_t keylen, const cJSON *v,
			      char out[POLICY_PSEUDONYM_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t mac[32];
	char num[40], tag[2] = { 0, ':' };
	const char *body;
	int rc;

	if (!key || keylen < 16 || !v || !out)
		return -EINVAL;
	if (cJSON_IsString(v) && v->valuestring) {
		tag[0] = 's';
		body = v->valuestring;
	} else if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
		tag[0] = 'n';
		number_text(v->valuedouble, num, sizeof(num));
		body = num;
	} else if (cJSON_IsBool(v)) {
		tag[0] = 'b';
		body = cJSON_IsTrue(v) ? "true" : "false";
	} else {
		return -EINVAL;
	}
	/* message: type tag, ':', the value's bytes */
	rc = hmac2(key, keylen, tag, sizeof(tag), body, strlen(body), mac);
	if (rc)
		return rc;
	for (int i = 0; i < POLICY_PSEUDONYM_LEN / 2; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[POLICY_PSEUDONYM_LEN] = '\0';
	mbedtls_platform_zeroize(mac, sizeof(mac));
	return 0;
}

/* ---- times ---------------------------------------------------------------- */

#define T_MIN (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define T_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* n decimal digits at s; -1 if any is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int policy_time_parse(const char *s, int64_t *t)
{
	int y, mo, d, h = 0, mi = 0, se = 0, oh, om, sign;
	int64_t v;

	if (!s || !t)
		return -EINVAL;
	y = digits(s, 4);
	if (y < 0 || s[4] != '-' || (mo = digits(s + 5, 2)) < 0 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 0)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -EINVAL;
	s += 10;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		if ((h = digits(s + 1, 2)) < 0 || s[3] != ':' || (mi = digits(s + 4, 2)) < 0)
			return -EINVAL;
		s += 6;
		if (*s == ':') {
			if ((se = digits(s + 1, 2)) < 0)
				return -EINVAL;
			s += 3;
			if (*s == '.' || *s == ',') {
				s++;
				if (*s < '0' || *s > '9')
					return -EINVAL;
				while (*s >= '0' && *s <= '9')
					s++;
			}
		}
		if (h > 23 || mi > 59 || se > 60)
			return -EINVAL;
		if (se == 60)
			se = 59; /* a leap second stays inside its minute */
		v = 0;
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			sign = *s == '-' ? -1 : 1;
			if ((oh = digits(s + 1, 2)) < 0)
				return -EINVAL;
			s += 3;
			if (*s == ':')
				s++;
			if ((om = digits(s, 2)) < 0 || oh > 23 || om > 59)
				return -EINVAL;
			s += 2;
			v = sign * (oh * 3600 + om * 60);
		}
	} else {
		v = 0;
	}
	if (*s)
		return -EINVAL;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - v;
	return 0;
}

int policy_time_truncate(int64_t t, int unit, int64_t *out)
{
	int64_t days, y;
	int m, d;

	if (!out || t < T_MIN - 86400 || t > T_MAX + 86400)
		return -EINVAL;
	days = floor_div(t, 86400);
	switch (unit) {
	case POLICY_TIME_HOUR:
		*out = floor_div(t, 3600) * 3600;
		return 0;
	case POLICY_TIME_DAY:
		*out = days * 86400;
		return 0;
	case POLICY_TIME_WEEK: /* 1970-01-01 was a Thursday; weeks start on Monday */
		*out = (days - (days + 3 - floor_div(days + 3, 7) * 7)) * 86400;
		return 0;
	case POLICY_TIME_MONTH:
	case POLICY_TIME_YEAR:
		civil_from_days(days, &y, &m, &d);
		*out = days_from_civil(y, unit == POLICY_TIME_YEAR ? 1 : m, 1) * 86400;
		return 0;
	default:
		return -EINVAL;
	}
}

int policy_time_format(int64_t t, char *buf, size_t len)
{
	int64_t days, secs, y;
	int m, d;

	if (!buf || len < 21 || t < T_MIN || t > T_MAX)
		return -EINVAL;
	days = floor_div(t, 86400);
	secs = t - days * 86400;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d, (int)(secs / 3600),
		 (int)(secs / 60 % 60), (int)(secs % 60));
	return 0;
}

/* ---- the pipeline --------------------------------------------------------- */

struct run {
	const struct policy_obligations *o;
	const struct policy_release_ctx *ctx;
	char *err;
	size_t errlen;
};

static int rfail(struct run *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int rfail(struct run *r, int rc, const char *fmt, ...)
{
	va_list ap;

	if (r->err && r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int replace(struct run *r, cJSON *rec, const char *name, cJSON *nv)
{
	if (!nv)
		return rfail(r, -ENOMEM, "out of memory");
	if (!cJSON_ReplaceItemInObjectCaseSensitive(rec, name, nv)) {
		cJSON_Delete(nv);
		return rfail(r, -ENOMEM, "cannot replace field '%s'", name);
	}
	return 0;
}

static const struct policy_obl_field *rule_of(const struct policy_obligations *o, const char *name)
{
	for (unsigned i = 0; i < o->nfields; i++)
		if (!strcmp(o->fields[i].f.name, name))
			return &o->fields[i];
	return NULL;
}

static int generalize(struct run *r, size_t idx, cJSON *rec, const struct policy_obl_field *f,
		      cJSON *v)
{
	const char *name = f->f.name;
	int64_t t, tt;
	double x, scale;
	char buf[32];

	switch (f->gen) {
	case POLICY_GEN_TIME:
		if (cJSON_IsString(v)) {
			if (policy_time_parse(v->valuestring, &t) ||
			    policy_time_truncate(t, (int)f->gen_arg, &tt) ||
			    policy_time_format(tt, buf, sizeof(buf)))
				return rfail(r, -EINVAL, "record %zu: field '%s' is not an ISO-8601 time", idx,
					     name);
			return replace(r, rec, name, cJSON_CreateString(buf));
		}
		if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= (double)T_MIN &&
		    v->valuedouble <= (double)T_MAX) {
			if (policy_time_truncate((int64_t)floor(v->valuedouble), (int)f->gen_arg, &tt))
				return rfail(r, -EINVAL, "record %zu: field '%s': time out of range", idx, name);
			cJSON_SetNumberValue(v, (double)tt);
			return 0;
		}
		return rfail(r, -EINVAL, "record %zu: field '%s' is not a time (ISO-8601 string or epoch seconds)",
			     idx, name);
	case POLICY_GEN_PRECISION:
		scale = pow(10.0, f->gen_arg);
		if (cJSON_IsNumber(v)) {
			x = floor(v->valuedouble * scale) / scale;
			if (!isfinite(x))
				return rfail(r, -EINVAL, "record %zu: field '%s' out of range", idx, name);
			cJSON_SetNumberValue(v, x);
			return 0;
		}
		if (cJSON_IsArray(v) && v->child) {
			cJSON *e;

			cJSON_ArrayForEach(e, v)
				if (!cJSON_IsNumber(e) || !isfinite(floor(e->valuedouble * scale)))
					return rfail(r, -EINVAL,
						     "record %zu: field '%s' is not a coordinate (number or array of numbers)",
						     idx, name);
			cJSON_ArrayForEach(e, v)
				cJSON_SetNumberValue(e, floor(e->valuedouble * scale) / scale);
			return 0;
		}
		return rfail(r, -EINVAL, "record %zu: field '%s' is not a coordinate (number or array of numbers)",
			     idx, name);
	case POLICY_GEN_BUCKET:
		if (!cJSON_IsNumber(v))
			return rfail(r, -EINVAL, "record %zu: field '%s' is not a number", idx, name);
		x = floor(v->valuedouble / f->gen_arg) * f->gen_arg;
		if (!isfinite(x))
			return rfail(r, -EINVAL, "record %zu: field '%s' out of range", idx, name);
		cJSON_SetNumberValue(v, x);
		return 0;
	case POLICY_GEN_PREFIX: {
		size_t cps = 0, i;
		char *s;

		if (!cJSON_IsString(v) || !v->valuestring)
			return rfail(r, -EINVAL, "record %zu: field '%s' is not a string", idx, name);
		s = v->valuestring;
		/* cut before the (N+1)th code point: count bytes that start one */
		for (i = 0; s[i]; i++)
			if (((unsigned char)s[i] & 0xc0) != 0x80 && cps++ == (size_t)f->gen_arg)
				break;
		s[i] = '\0'; /* shortens the string cJSON owns, in place */
		return 0;
	}
	default:
		return 0;
	}
}

static int transform_record(struct run *r, size_t idx, cJSON *rec)
{
	const struct policy_obligations *o = r->o;
	cJSON *c, *nxt;
	int rc;

	if (!cJSON_IsObject(rec))
		return rfail(r, -EINVAL, "record %zu is not an object", idx);
	for (c = rec->child; c; c = c->next) {
		if (!c->string)
			return rfail(r, -EINVAL, "record %zu: a field without a name", idx);
		for (cJSON *d = c->next; d; d = d->next)
			if (d->string && !strcmp(c->string, d->string))
				return rfail(r, -EINVAL, "record %zu: field '%s' given twice", idx, c->string);
	}
	if (o->has_keep) {
		for (c = rec->child; c; c = nxt) {
			const struct policy_obl_field *f = rule_of(o, c->string);

			nxt = c->next;
			if (!f || !(f->actions & POLICY_OBL_KEEP))
				cJSON_Delete(cJSON_DetachItemViaPointer(rec, c));
		}
	}
	for (unsigned i = 0; i < o->nfields; i++) {
		const struct policy_obl_field *f = &o->fields[i];
		cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, f->f.name);

		if (!v)
			continue;
		if (f->actions & POLICY_OBL_DROP) {
			cJSON_Delete(cJSON_DetachItemViaPointer(rec, v));
			continue;
		}
		if (f->actions & POLICY_OBL_REDACT) {
			rc = replace(r, rec, f->f.name, cJSON_CreateNull());
			if (rc)
				return rc;
			continue;
		}
		if (cJSON_IsNull(v))
			continue;
		rc = generalize(r, idx, rec, f, v);
		if (rc)
			return rc;
		if (f->actions & POLICY_OBL_PSEUDO) {
			char p[POLICY_PSEUDONYM_LEN + 1];

			v = cJSON_GetObjectItemCaseSensitive(rec, f->f.name);
			if (!r->ctx->pseudonym_key || r->ctx->pseudonym_key_len < 16)
				return rfail(r, -EINVAL, "pseudonymize(%s) needs the service's key", f->f.name);
			rc = policy_pseudonymize_value(r->ctx->pseudonym_key, r->ctx->pseudonym_key_len, v, p);
			if (rc == -EINVAL)
				return rfail(r, rc, "record %zu: field '%s' cannot be pseudonymized (not a string, number or bool)",
					     idx, f->f.name);
			if (rc)
				return rfail(r, rc, "pseudonymize failed");
			rc = replace(r, rec, f->f.name, cJSON_CreateString(p));
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int noise_value(struct run *r, cJSON *v, bool count)
{
	double x;
	int rc;

	rc = policy_noise_laplace(r->ctx->rng, r->ctx->rng_ctx, r->o->sensitivity / r->o->epsilon, &x);
	if (rc)
		return rfail(r, rc, "the rng failed (%d)", rc);
	x += v->valuedouble;
	if (count) {
		x = round(x);
		if (x < 0)
			x = 0;
	}
	cJSON_SetNumberValue(v, x);
	return 0;
}

/* ---- aggregation ---------------------------------------------------------- */

struct row {
	const cJSON *key[POLICY_OBL_MAX_GROUP];
	const cJSON *rec;
	size_t idx;
};

/* null (or missing) < false < true < numbers < strings */
static int vrank(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsFalse(v))
		return 1;
	if (cJSON_IsTrue(v))
		return 2;
	if (cJSON_IsNumber(v))
		return 3;
	return 4;
}

static int vcmp(const cJSON *a, const cJSON *b)
{
	int ra = vrank(a), rb = vrank(b);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra == 3)
		return a->valuedouble < b->valuedouble ? -1 : a->valuedouble > b->valuedouble;
	if (ra == 4)
		return strcmp(a->valuestring, b->valuestring);
	return 0;
}

static int keycmp(const struct row *a, const struct row *b)
{
	for (int i = 0; i < POLICY_OBL_MAX_GROUP; i++) {
		int c = vcmp(a->key[i], b->key[i]);

		if (c)
			return c;
	}
	return 0;
}

static int rowcmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int c = keycmp(a, b);

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int agg_name(const struct policy_obl_aggfn *a, char *buf, size_t len)
{
	int n;

	if (a->fn == POLICY_AGG_COUNT)
		n = snprintf(buf, len, "count");
	else
		n = snprintf(buf, len, "%s_%s", a->fn == POLICY_AGG_SUM ? "sum" : "mean", a->f.name);
	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

static int add_item(struct run *r, cJSON *obj, const char *name, cJSON *v)
{
	if (!v)
		return rfail(r, -ENOMEM, "out of memory");
	if (cJSON_GetObjectItemCaseSensitive(obj, name)) {
		cJSON_Delete(v);
		return rfail(r, -EINVAL, "aggregate output '%s' collides with a group field", name);
	}
	if (!cJSON_AddItemToObject(obj, name, v)) {
		cJSON_Delete(v);
		return rfail(r, -ENOMEM, "out of memory");
	}
	return 0;
}

/* One group's output object (count >= k already checked). */
static int emit_group(struct run *r, const struct row *rows, size_t n, cJSON *out)
{
	const struct policy_obligations *o = r->o;
	cJSON *g = cJSON_CreateObject();
	char name[POLICY_OBL_NAME_MAX + 8];
	int rc = 0;

	if (!g || !cJSON_AddItemToArray(out, g)) {
		cJSON_Delete(g);
		return rfail(r, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < o->ngroup && !rc; i++) {
		const cJSON *v = rows[0].key[i];

		rc = add_item(r, g, o->group[i].name, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
	}
	for (unsigned j = 0; j < o->nagg && !rc; j++) {
		const struct policy_obl_aggfn *a = &o->agg[j];
		double sum = 0;
		size_t cnt = 0;
		cJSON *v;

		if (agg_name(a, name, sizeof(name)))
			return rfail(r, -EINVAL, "aggregate name too long");
		if (a->fn == POLICY_AGG_COUNT) {
			v = cJSON_CreateNumber((double)n);
		} else {
			for (size_t i = 0; i < n; i++) {
				const cJSON *x = cJSON_GetObjectItemCaseSensitive(rows[i].rec, a->f.name);

				if (x && cJSON_IsNumber(x)) {
					sum += x->valuedouble;
					cnt++;
				}
			}
			if (a->fn == POLICY_AGG_SUM)
				v = cJSON_CreateNumber(sum);
			else
				v = cnt ? cJSON_CreateNumber(sum / (double)cnt) : cJSON_CreateNull();
		}
		rc = add_item(r, g, name, v);
		if (!rc && o->noise && cJSON_IsNumber(v))
			rc = noise_value(r, v, a->fn == POLICY_AGG_COUNT);
	}
	return rc;
}

/* Replaces *arr with its groups; groups under k records are left out. */
static int aggregate(struct run *r, cJSON **arr)
{
	const struct policy_obligations *o = r->o;
	size_t n = (size_t)cJSON_GetArraySize(*arr), i = 0, s, e;
	struct row *rows = NULL;
	cJSON *out, *rec;
	int rc = 0;

	out = cJSON_CreateArray();
	if (!out)
		return rfail(r, -ENOMEM, "out of memory");
	if (n) {
		rows = calloc(n, sizeof(*rows));
		if (!rows) {
			cJSON_Delete(out);
			return rfail(r, -ENOMEM, "out of memory");
		}
	}
	cJSON_ArrayForEach(rec, *arr) {
		rows[i].rec = rec;
		rows[i].idx = i;
		for (unsigned g = 0; g < o->ngroup && !rc; g++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, o->group[g].name);

			if (v && (cJSON_IsObject(v) || cJSON_IsArray(v) || cJSON_IsRaw(v)))
				rc = rfail(r, -EINVAL, "record %zu: group field '%s' is not a scalar", i,
					   o->group[g].name);
			rows[i].key[g] = v;
		}
		for (unsigned j = 0; j < o->nagg && !rc; j++) {
			const cJSON *v;

			if (o->agg[j].fn == POLICY_AGG_COUNT)
				continue;
			v = cJSON_GetObjectItemCaseSensitive(rec, o->agg[j].f.name);
			if (v && !cJSON_IsNull(v) && !(cJSON_IsNumber(v) && isfinite(v->valuedouble)))
				rc = rfail(r, -EINVAL, "record %zu: field '%s' is not a number", i,
					   o->agg[j].f.name);
		}
		if (rc)
			break;
		i++;
	}
	if (!rc && n)
		qsort(rows, n, sizeof(*rows), rowcmp);
	for (s = 0; !rc && s < n; s = e) {
		for (e = s + 1; e < n && !keycmp(&rows[s], &rows[e]); e++)
			;
		if (e - s >= o->k)
			rc = emit_group(r, rows + s, e - s, out);
	}
	free(rows);
	if (rc) {
		cJSON_Delete(out);
		return rc;
	}
	cJSON_Delete(*arr);
	*arr = out;
	return 0;
}

/* ---- public --------------------------------------------------------------- */

int policy_release_apply(const struct policy_obligations *o, const cJSON *records_in,
			 const struct policy_release_ctx *ctx, cJSON **out, char *err, size_t errlen)
{
	struct run r = { .o = o, .ctx = ctx, .err = err, .errlen = errlen };
	cJSON *arr, *rec, *nxt;
	size_t n, i = 0;
	int rc = 0;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!o || !ctx)
		return rfail(&r, -EINVAL, "no obligations or context");
	if (!cJSON_IsArray(records_in))
		return rfail(&r, -EINVAL, "the records are not an array");
	if (o->conflict)
		return rfail(&r, -EPERM, "conflicting obligations: nothing can be released");
	if (o->ask && !ctx->owner_approved)
		return rfail(&r, -EACCES, "the owner has not approved this release");
	if ((o->noise || (o->sample > 0 && o->sample < 1)) && !ctx->rng)
		return rfail(&r, -EINVAL, "sampling and noise need an rng");
	if (o->noise && (!(o->epsilon > 0) || !(o->sensitivity > 0)))
		return rfail(&r, -EINVAL, "bad noise parameters");
	if (o->noise && !o->aggregate && !o->nnoise)
		return rfail(&r, -EINVAL, "@noise on raw records names no field");
	if (o->aggregate && !o->nagg)
		return rfail(&r, -EPERM, "an aggregate without functions");
	n = (size_t)cJSON_GetArraySize(records_in);
	if (n > POLICY_RELEASE_MAX_RECORDS)
		return rfail(&r, -E2BIG, "too many records (max %u)", POLICY_RELEASE_MAX_RECORDS);
	arr = cJSON_Duplicate(records_in, 1);
	if (!arr)
		return rfail(&r, -ENOMEM, "out of memory");

	/* 1. per-field transforms, on every record (so type errors always show) */
	cJSON_ArrayForEach(rec, arr) {
		rc = transform_record(&r, i++, rec);
		if (rc)
			goto fail;
	}
	/* 2. sampling */
	if (o->sample > 0 && o->sample < 1) {
		for (rec = arr->child; rec; rec = nxt) {
			double u;

			nxt = rec->next;
			rc = policy_noise_uniform(ctx->rng, ctx->rng_ctx, &u);
			if (rc) {
				rfail(&r, rc, "the rng failed (%d)", rc);
				goto fail;
			}
			if (!(u < o->sample))
				cJSON_Delete(cJSON_DetachItemViaPointer(arr, rec));
		}
	}
	/* 3. aggregation (with noise on its outputs), or noise on records */
	if (o->aggregate) {
		rc = aggregate(&r, &arr);
		if (rc)
			goto fail;
	} else if (o->noise) {
		i = 0;
		cJSON_ArrayForEach(rec, arr) {
			for (unsigned j = 0; j < o->nnoise; j++) {
				cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, o->noise_fields[j].name);

				if (!v || cJSON_IsNull(v))
					continue;
				if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
					rc = rfail(&r, -EINVAL, "record %zu: noised field '%s' is not a number", i,
						   o->noise_fields[j].name);
					goto fail;
				}
				rc = noise_value(&r, v, false);
				if (rc)
					goto fail;
			}
			i++;
		}
	}
	/* 4. limit */
	if (o->limit) {
		n = (size_t)cJSON_GetArraySize(arr);
		for (; n > o->limit; n--) /* from the tail: arr->child->prev is the last */
			cJSON_Delete(cJSON_DetachItemViaPointer(arr, arr->child->prev));
	}
	*out = arr;
	return 0;
fail:
	cJSON_Delete(arr);
	return rc;
}

int policy_release_run(const struct policy_obligations *o, struct policy_budget_state *st,
		       const char *service, int64_t now, const cJSON *records_in,
		       const struct policy_release_ctx *ctx, cJSON **out, char *err, size_t errlen)
{
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!o || !st || !service) {
		if (err && errlen)
			snprintf(err, errlen, "no obligations, budget state or service");
		return -EINVAL;
	}
	rc = policy_budget_check(st, service, o, now);
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "%s", rc == -EDQUOT  ? "privacy budget spent"
						    : rc == -EAGAIN ? "release rate reached"
								    : "budget state cannot record this release");
		return rc;
	}
	rc = policy_release_apply(o, records_in, ctx, out, err, errlen);
	if (rc)
		return rc;
	rc = policy_budget_charge(st, service, o, now);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
		if (err && errlen)
			snprintf(err, errlen, "budget charge failed (%d)", rc);
	}
	return rc;
}
