/*
 * test_transform.c: unit tests of policy/transform.c and noise.c: HMAC-SHA256
 * against RFC 4231 vectors, pseudonyms (stable per key, different per
 * service), ISO-8601/epoch time generalization (cross-checked with the C
 * library's timegm), every per-field transform, sampling and limit,
 * aggregation with k-suppression, the scale of the Laplace noise over many
 * draws from a seeded rng, fail-closed releases (wrong types, missing key
 * or rng, failing rng, no owner approval, conflicts), and a bounded seeded
 * run of random obligation combinations.
 *
 * Assumes a glibc host (timegm) and ASan + UBSan (tests/obligations.mk).
 * Leaves out budgets (test_budget.c) and the annotation syntax
 * (test_obligations.c) beyond building the sets used here.
 */
#define _DEFAULT_SOURCE /* timegm */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cJSON.h"
#include "obligations.h"
#include "transform.h"

#include "check.h"

/* ---- a seeded rng (splitmix64), and one that fails after n calls ---------- */

struct trng {
	uint64_t s;
	long calls, fail_after; /* fail_after < 0: never */
	int mode;		/* 0 random, 1 all zero bytes, 2 all 0xff */
};

static int test_rng(void *ctx, void *buf, size_t len)
{
	struct trng *r = ctx;
	uint8_t *b = buf;

	if (r->fail_after >= 0 && r->calls >= r->fail_after)
		return -EIO;
	r->calls++;
	for (size_t i = 0; i < len; i++) {
		uint64_t z;

		if (r->mode) {
			b[i] = r->mode == 1 ? 0 : 0xff;
			continue;
		}
		z = (r->s += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		b[i] = (uint8_t)(z ^ (z >> 31));
	}
	return 0;
}

static char err[256];
static struct trng rng = { .s = 42, .fail_after = -1 };
static uint8_t master[32] = "hearth test master secret 0123!";
static uint8_t key_a[32], key_b[32];
static struct policy_release_ctx ctx_a;

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* The composed obligations of several permits, one "key=value" annotation
 * each, e.g. {"transform=drop(a)", "aggregate=count", NULL}. */
static struct policy_obligations obl(const char *const *ann)
{
	struct policy_obligations o, one;

	policy_obligations_init(&o);
	for (; *ann; ann++) {
		char key[16];
		const char *eq = strchr(*ann, '=');
		size_t off = 0;
		int rc;

		snprintf(key, sizeof(key), "%.*s", (int)(eq - *ann), *ann);
		policy_obligations_init(&one);
		rc = policy_obligation_parse(key, eq + 1, &one, &off, err, sizeof(err));
		CHECK(rc == 0, "%s: %d %s at %zu", *ann, rc, err, off);
		rc = policy_obligations_compose(&o, &one);
		CHECK(rc == 0 || rc == -EPERM, "%s: compose %d", *ann, rc);
	}
	return o;
}

/* Applies ann to json under ctx; returns the output (or NULL) and *rc. */
static cJSON *apply(const char *const *ann, const char *json, const struct policy_release_ctx *ctx, int *rc)
{
	struct policy_obligations o = obl(ann);
	cJSON *in = cJSON_Parse(json), *out = (cJSON *)1;

	CHECK(in != NULL, "bad test json %s", json);
	*rc = policy_release_apply(&o, in, ctx, &out, err, sizeof(err));
	CHECK((*rc == 0) == (out != NULL), "rc %d but out %p", *rc, (void *)out);
	cJSON_Delete(in);
	return out;
}

static char *str(const cJSON *j)
{
	static char buf[8192];
	char *p = cJSON_PrintUnformatted(j);

	snprintf(buf, sizeof(buf), "%s", p ? p : "(null)");
	free(p);
	return buf;
}

/* Applies and compares the compact output text. */
static void expect(const char *const *ann, const char *in, const char *want)
{
	int rc;
	cJSON *out = apply(ann, in, &ctx_a, &rc);

	CHECK(rc == 0, "%s: rc %d %s", ann[0], rc, err);
	if (out)
		CHECK(!strcmp(str(out), want), "%s:\n   got %s\n  want %s", ann[0], str(out), want);
	cJSON_Delete(out);
}

/* Applies and expects failure with rc, nothing released. */
static void expect_fail(const char *const *ann, const char *in, int want_rc, const char *msg)
{
	int rc;
	cJSON *out = apply(ann, in, &ctx_a, &rc);

	CHECK(rc == want_rc && !out, "%s on %s: rc %d want %d (%s)", ann[0], in, rc, want_rc, err);
	CHECK(!msg || strstr(err, msg), "message '%s' lacks '%s'", err, msg);
	cJSON_Delete(out);
}

static void test_hmac(void)
{
	uint8_t mac[32], k[131];
	char h[65];

	memset(k, 0x0b, 20);
	CHECK(policy_hmac_sha256(k, 20, "Hi There", 8, mac) == 0, "hmac");
	hex(mac, 32, h);
	CHECK(!strcmp(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"), "%s", h);
	CHECK(policy_hmac_sha256((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, mac) == 0, "hmac");
	hex(mac, 32, h);
	CHECK(!strcmp(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"), "%s", h);
	memset(k, 0xaa, sizeof(k));
	CHECK(policy_hmac_sha256(k, sizeof(k), "Test Using Larger Than Block-Size Key - Hash Key First", 54, mac) == 0,
	      "hmac");
	hex(mac, 32, h);
	CHECK(!strcmp(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"), "%s", h);
	CHECK(policy_hmac_sha256(NULL, 1, "x", 1, mac) == -EINVAL, "null key");
}

static void test_pseudonyms(void)
{
	cJSON *s = cJSON_CreateString("alice@example.org"), *s2 = cJSON_CreateString("bob@example.org");
	cJSON *n5 = cJSON_CreateNumber(5), *n50 = cJSON_CreateNumber(5.0), *s5 = cJSON_CreateString("5");
	cJSON *arr = cJSON_CreateArray();
	char pa[33], pa2[33], pb[33], x[33], y[33];
	uint8_t k2[32];

	CHECK(policy_pseudonymize_value(key_a, 32, s, pa) == 0, "a");
	CHECK(policy_pseudonymize_value(key_a, 32, s, pa2) == 0 && !strcmp(pa, pa2), "stable per key");
	CHECK(strlen(pa) == POLICY_PSEUDONYM_LEN && strspn(pa, "0123456789abcdef") == POLICY_PSEUDONYM_LEN, "%s", pa);
	CHECK(policy_pseudonymize_value(key_b, 32, s, pb) == 0 && strcmp(pa, pb), "differs per service");
	CHECK(policy_pseudonymize_value(key_a, 32, s2, x) == 0 && strcmp(pa, x), "differs per value");
	CHECK(policy_pseudonym_key_derive(master, sizeof(master), "svc-a", k2) == 0 && !memcmp(k2, key_a, 32),
	      "derivation is stable");
	CHECK(policy_pseudonymize_value(key_a, 32, n5, x) == 0 && policy_pseudonymize_value(key_a, 32, n50, y) == 0 &&
		      !strcmp(x, y),
	      "5 == 5.0");
	CHECK(policy_pseudonymize_value(key_a, 32, s5, y) == 0 && strcmp(x, y), "\"5\" != 5");
	CHECK(policy_pseudonymize_value(key_a, 32, arr, x) == -EINVAL, "array");
	CHECK(policy_pseudonymize_value(key_a, 8, s, x) == -EINVAL, "short key");
	CHECK(policy_pseudonym_key_derive(master, 8, "svc", k2) == -EINVAL, "short master");
	CHECK(policy_pseudonym_key_derive(master, 32, "", k2) == -EINVAL, "empty service");
	cJSON_Delete(s);
	cJSON_Delete(s2);
	cJSON_Delete(n5);
	cJSON_Delete(n50);
	cJSON_Delete(s5);
	cJSON_Delete(arr);

	/* in a release: per-service, stable, applied to every record */
	{
		const char *ann[] = { "transform=pseudonymize(user)", NULL };
		const char *in = "[{\"user\":\"alice\"},{\"user\":\"bob\"},{\"user\":\"alice\"},{\"user\":null}]";
		struct policy_release_ctx cb = ctx_a, nokey = ctx_a;
		cJSON *oa, *ob;
		int rc;

		cb.pseudonym_key = key_b;
		oa = apply(ann, in, &ctx_a, &rc);
		ob = apply(ann, in, &cb, &rc);
		if (oa && ob) {
			const char *a0 = cJSON_GetObjectItem(cJSON_GetArrayItem(oa, 0), "user")->valuestring;
			const char *a1 = cJSON_GetObjectItem(cJSON_GetArrayItem(oa, 1), "user")->valuestring;
			const char *a2 = cJSON_GetObjectItem(cJSON_GetArrayItem(oa, 2), "user")->valuestring;
			const char *b0 = cJSON_GetObjectItem(cJSON_GetArrayItem(ob, 0), "user")->valuestring;

			CHECK(!strcmp(a0, a2) && strcmp(a0, a1) && strcmp(a0, b0) && strcmp(a0, "alice"),
			      "%s %s %s %s", a0, a1, a2, b0);
			CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(oa, 3), "user")), "null stays");
			CHECK(!strstr(str(oa), "alice") && !strstr(str(oa), "bob"), "no clear text");
		}
		cJSON_Delete(oa);
		cJSON_Delete(ob);
		nokey.pseudonym_key = NULL;
		oa = apply(ann, in, &nokey, &rc);
		CHECK(rc == -EINVAL && !oa, "no key: rc %d", rc);
	}
}

static void test_times(void)
{
	int64_t t, u;
	char buf[32];
	uint64_t s = 7;

	CHECK(policy_time_parse("2024-03-15T13:45:30Z", &t) == 0 && t == 1710510330, "%lld", (long long)t);
	CHECK(policy_time_parse("2024-03-15 13:45:30.123456z", &t) == 0 && t == 1710510330, "frac");
	CHECK(policy_time_parse("2024-03-15T15:45:30+02:00", &t) == 0 && t == 1710510330, "offset");
	CHECK(policy_time_parse("2024-03-15T08:45:30-0500", &t) == 0 && t == 1710510330, "offset 2");
	CHECK(policy_time_parse("2024-03-15T13:45Z", &t) == 0 && t == 1710510300, "no seconds");
	CHECK(policy_time_parse("2024-03-15", &t) == 0 && t == 1710460800, "date");
	CHECK(policy_time_parse("2024-02-29", &t) == 0 && policy_time_parse("2000-02-29", &t) == 0, "leap");
	static const char *const badt[] = { "2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-03-32",
					    "2024-03-15T24:00Z", "2024-03-15T12:60Z", "2024-03-15T12:00+0",
					    "2024-03-15T12:00+24:00", "yesterday", "2024-03-15Tx", "2024-3-15",
					    "2024-03-15T12:00:00.Z", "2024-03-15T12:00:00Zjunk", "", "20240315" };
	for (size_t i = 0; i < sizeof(badt) / sizeof(badt[0]); i++)
		CHECK(policy_time_parse(badt[i], &t) == -EINVAL, "'%s' accepted", badt[i]);

	/* truncation: 2024-03-15 is a Friday */
	policy_time_parse("2024-03-15T13:45:30Z", &t);
	static const struct {
		int unit;
		const char *want;
	} tr[] = {
		{ POLICY_TIME_HOUR, "2024-03-15T13:00:00Z" }, { POLICY_TIME_DAY, "2024-03-15T00:00:00Z" },
		{ POLICY_TIME_WEEK, "2024-03-11T00:00:00Z" }, { POLICY_TIME_MONTH, "2024-03-01T00:00:00Z" },
		{ POLICY_TIME_YEAR, "2024-01-01T00:00:00Z" },
	};
	for (size_t i = 0; i < sizeof(tr) / sizeof(tr[0]); i++) {
		CHECK(policy_time_truncate(t, tr[i].unit, &u) == 0 && policy_time_format(u, buf, sizeof(buf)) == 0 &&
			      !strcmp(buf, tr[i].want),
		      "unit %d: %s", tr[i].unit, buf);
	}
	/* before 1970, and a week across a year boundary */
	CHECK(policy_time_parse("1969-12-31T12:00:00Z", &t) == 0 && t == -43200 && policy_time_truncate(t, POLICY_TIME_DAY, &u) == 0 &&
		      u == -86400,
	      "1969");
	CHECK(policy_time_parse("2021-01-02T05:00:00Z", &t) == 0 && policy_time_truncate(t, POLICY_TIME_WEEK, &u) == 0 &&
		      policy_time_format(u, buf, sizeof(buf)) == 0 && !strcmp(buf, "2020-12-28T00:00:00Z"),
	      "%s", buf);
	CHECK(policy_time_truncate(t, 99, &u) == -EINVAL, "bad unit");
	CHECK(policy_time_format(t, buf, 10) == -EINVAL, "short buffer");

	/* cross-check with timegm on random date-times, 0001..9998 */
	for (int i = 0; i < 3000; i++) {
		struct tm tm;
		int64_t want, d;

		memset(&tm, 0, sizeof(tm));
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		tm.tm_year = (int)((s >> 33) % 9998 + 1) - 1900;
		tm.tm_mon = (int)((s >> 20) % 12);
		tm.tm_mday = (int)((s >> 10) % 28 + 1);
		tm.tm_hour = (int)((s >> 5) % 24);
		tm.tm_min = (int)((s >> 40) % 60);
		tm.tm_sec = (int)((s >> 50) % 60);
		want = (int64_t)timegm(&tm);
		snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
		CHECK(policy_time_parse(buf, &t) == 0 && t == want, "%s: %lld want %lld", buf, (long long)t, (long long)want);
		{
			char back[32];

			CHECK(policy_time_format(t, back, sizeof(back)) == 0 && !strcmp(back, buf), "%s -> %s", buf, back);
		}
		d = want / 86400 * 86400 - (want % 86400 < 0 ? 86400 : 0);
		CHECK(policy_time_truncate(t, POLICY_TIME_DAY, &u) == 0 && u == d, "day of %s", buf);
		CHECK(policy_time_truncate(t, POLICY_TIME_WEEK, &u) == 0, "week");
		{
			struct tm w;
			time_t tt = (time_t)u;

			gmtime_r(&tt, &w);
			CHECK(w.tm_wday == 1 && w.tm_hour == 0 && u <= t && t - u < 7 * 86400, "week of %s", buf);
		}
		CHECK(policy_time_truncate(t, POLICY_TIME_MONTH, &u) == 0, "month");
		{
			struct tm m;
			time_t tt = (time_t)u;

			gmtime_r(&tt, &m);
			CHECK(m.tm_mday == 1 && m.tm_mon == tm.tm_mon && m.tm_year == tm.tm_year && m.tm_hour == 0,
			      "month of %s", buf);
		}
	}
}

static void test_field_transforms(void)
{
	const char *rec = "[{\"title\":\"Heat\",\"time\":\"2024-03-15T13:45:30Z\",\"genre\":\"crime\",\"extra\":1}]";

	{
		const char *a[] = { "transform=drop(title); redact(genre)", NULL };
		expect(a, rec, "[{\"time\":\"2024-03-15T13:45:30Z\",\"genre\":null,\"extra\":1}]");
	}
	{
		const char *a[] = { "transform=keep(title, time, genre); drop(title); generalize(time, day)", NULL };
		expect(a, rec, "[{\"time\":\"2024-03-15T00:00:00Z\",\"genre\":\"crime\"}]");
	}
	{ /* composed keeps: the intersection */
		const char *a[] = { "transform=keep(title, genre)", "transform=drop(nothing)", NULL };
		struct policy_obligations o = obl(a), p;
		cJSON *in = cJSON_Parse(rec), *out;

		policy_obligations_init(&p);
		CHECK(policy_obligation_parse("transform", "keep(genre, time)", &p, NULL, NULL, 0) == 0, "keep");
		CHECK(policy_obligations_compose(&o, &p) == 0, "compose");
		CHECK(policy_release_apply(&o, in, &ctx_a, &out, err, sizeof(err)) == 0, "%s", err);
		CHECK(out && !strcmp(str(out), "[{\"genre\":\"crime\"}]"), "%s", str(out));
		cJSON_Delete(out);
		cJSON_Delete(in);
	}
	{
		const char *a[] = { "transform=generalize(t, hour); generalize(e, month)", NULL };
		expect(a, "[{\"t\":\"2024-03-15T15:45:30+02:00\",\"e\":1710510330.75},{\"t\":null}]",
		       "[{\"t\":\"2024-03-15T13:00:00Z\",\"e\":1709251200},{\"t\":null}]");
	}
	{
		const char *a[] = { "transform=generalize(lat, precision 2); generalize(loc, precision 1);"
				    "generalize(age, bucket 10); generalize(neg, bucket 10); generalize(zip, prefix 3);"
				    "generalize(name, prefix 3)",
				    NULL };
		expect(a,
		       "[{\"lat\":48.85837,\"loc\":[2.29448,-48.85837],\"age\":37,\"neg\":-3,\"zip\":\"75007\","
		       "\"name\":\"\xc3\x9cn\xc3\xaf" "code\"},{\"zip\":\"75\"}]",
		       "[{\"lat\":48.85,\"loc\":[2.2,-48.9],\"age\":30,\"neg\":-10,\"zip\":\"750\","
		       "\"name\":\"\xc3\x9cn\xc3\xaf\"},{\"zip\":\"75\"}]");
	}
	{ /* generalize then pseudonymize: same day, same pseudonym */
		const char *a[] = { "transform=generalize(t, day); pseudonymize(t)", NULL };
		int rc;
		cJSON *out = apply(a, "[{\"t\":\"2024-03-15T01:00:00Z\"},{\"t\":\"2024-03-15T23:00:00Z\"},"
				      "{\"t\":\"2024-03-16T00:00:00Z\"}]",
				   &ctx_a, &rc);

		CHECK(rc == 0, "%s", err);
		if (out) {
			const char *p0 = cJSON_GetArrayItem(out, 0)->child->valuestring;
			const char *p1 = cJSON_GetArrayItem(out, 1)->child->valuestring;
			const char *p2 = cJSON_GetArrayItem(out, 2)->child->valuestring;

			CHECK(!strcmp(p0, p1) && strcmp(p0, p2) && strlen(p0) == 32, "%s %s %s", p0, p1, p2);
		}
		cJSON_Delete(out);
	}
	{
		const char *a[] = { "transform=limit(2)", NULL };
		expect(a, "[{\"i\":1},{\"i\":2},{\"i\":3}]", "[{\"i\":1},{\"i\":2}]");
		expect(a, "[]", "[]");
	}
}

static void test_fail_closed(void)
{
	const char *time_day[] = { "transform=generalize(t, day)", NULL };
	const char *prefix[] = { "transform=generalize(z, prefix 2)", NULL };
	const char *bucket[] = { "transform=generalize(a, bucket 5)", NULL };
	const char *prec[] = { "transform=generalize(l, precision 2)", NULL };
	const char *pseudo[] = { "transform=pseudonymize(u)", NULL };
	const char *drop[] = { "transform=drop(x)", NULL };
	const char *sum[] = { "aggregate=sum(d) by g", NULL };
	const char *grp[] = { "aggregate=count by g", NULL };
	const char *ask[] = { "ask=owner", "transform=drop(x)", NULL };
	const char *noise[] = { "noise=laplace; epsilon = 1; fields = d", NULL };

	/* a wrong type in the last record still releases nothing */
	expect_fail(time_day, "[{\"t\":\"2024-01-01\"},{\"t\":true}]", -EINVAL, "record 1: field 't' is not a time");
	expect_fail(time_day, "[{\"t\":\"2024-01-01\"},{\"t\":\"soon\"}]", -EINVAL, "ISO-8601");
	expect_fail(time_day, "[{\"t\":1e300}]", -EINVAL, "not a time");
	expect_fail(prefix, "[{\"z\":75007}]", -EINVAL, "not a string");
	expect_fail(bucket, "[{\"a\":\"37\"}]", -EINVAL, "not a number");
	expect_fail(prec, "[{\"l\":[1,\"x\"]}]", -EINVAL, "coordinate");
	expect_fail(prec, "[{\"l\":{}}]", -EINVAL, "coordinate");
	expect_fail(pseudo, "[{\"u\":{\"a\":1}}]", -EINVAL, "cannot be pseudonymized");
	expect_fail(sum, "[{\"g\":1,\"d\":2},{\"g\":1,\"d\":\"3\"}]", -EINVAL, "not a number");
	expect_fail(grp, "[{\"g\":[1]}]", -EINVAL, "not a scalar");
	expect_fail(noise, "[{\"d\":\"x\"}]", -EINVAL, "not a number");
	/* duplicate keys would let a second copy slip past drop() */
	expect_fail(drop, "[{\"x\":1,\"y\":2,\"x\":3}]", -EINVAL, "given twice");
	expect_fail(drop, "[1]", -EINVAL, "not an object");
	expect_fail(drop, "{\"x\":1}", -EINVAL, "not an array");
	expect_fail(ask, "[{\"x\":1}]", -EACCES, "owner");
	{
		struct policy_release_ctx ok = ctx_a;
		int rc;
		cJSON *out;

		ok.owner_approved = true;
		out = apply(ask, "[{\"x\":1,\"y\":2}]", &ok, &rc);
		CHECK(rc == 0 && out && !strcmp(str(out), "[{\"y\":2}]"), "approved: %d", rc);
		cJSON_Delete(out);
	}
	{ /* conflicting aggregates */
		const char *c[] = { "aggregate=sum(d)", "aggregate=mean(d)", NULL };
		expect_fail(c, "[{\"d\":1}]", -EPERM, "conflicting");
	}
	{ /* no rng, a failing rng (at the first and at a later draw) */
		const char *n2[] = { "aggregate=count by g", "noise=laplace; epsilon = 1", NULL };
		const char *smp[] = { "transform=sample(0.5)", NULL };
		struct policy_release_ctx c = ctx_a;
		struct trng bad = { .s = 1, .fail_after = 0 };
		int rc;
		cJSON *out;

		c.rng = NULL;
		out = apply(n2, "[{\"g\":1}]", &c, &rc);
		CHECK(rc == -EINVAL && !out, "no rng %d", rc);
		out = apply(smp, "[{\"g\":1}]", &c, &rc);
		CHECK(rc == -EINVAL && !out, "no rng sample %d", rc);
		c.rng = test_rng;
		c.rng_ctx = &bad;
		out = apply(n2, "[{\"g\":1},{\"g\":2}]", &c, &rc);
		CHECK(rc == -EIO && !out, "rng fails %d", rc);
		bad.calls = 0;
		bad.fail_after = 1; /* the second group's noise */
		out = apply(n2, "[{\"g\":1},{\"g\":2}]", &c, &rc);
		CHECK(rc == -EIO && !out && bad.calls == 1, "rng fails later %d", rc);
		bad.calls = 0;
		bad.fail_after = 3;
		out = apply(smp, "[{},{},{},{},{}]", &c, &rc);
		CHECK(rc == -EIO && !out, "sample rng fails %d", rc);
	}
	{ /* the input is never modified */
		const char *a[] = { "transform=drop(x); generalize(z, prefix 1)", NULL };
		struct policy_obligations o = obl(a);
		cJSON *in = cJSON_Parse("[{\"x\":1,\"z\":\"abc\"}]"), *out;
		char before[64];

		snprintf(before, sizeof(before), "%s", str(in));
		CHECK(policy_release_apply(&o, in, &ctx_a, &out, err, sizeof(err)) == 0, "%s", err);
		CHECK(!strcmp(str(in), before), "input changed: %s", str(in));
		CHECK(!strcmp(str(out), "[{\"z\":\"a\"}]"), "%s", str(out));
		cJSON_Delete(out);
		cJSON_Delete(in);
	}
}

static void test_aggregate(void)
{
	/* drama 5 records, comedy 2, horror 1 (a lone, identifiable viewer) */
	const char *recs = "[{\"genre\":\"drama\",\"d\":10,\"u\":\"a\"},{\"genre\":\"comedy\",\"d\":30,\"u\":\"b\"},"
			   "{\"genre\":\"drama\",\"d\":20,\"u\":\"c\"},{\"genre\":\"horror\",\"d\":99,\"u\":\"zed\"},"
			   "{\"genre\":\"drama\",\"d\":30,\"u\":\"d\"},{\"genre\":\"drama\",\"d\":null,\"u\":\"e\"},"
			   "{\"genre\":\"comedy\",\"d\":50,\"u\":\"f\"},{\"genre\":\"drama\",\"u\":\"g\"}]";

	{
		const char *a[] = { "aggregate=count, sum(d), mean(d) by genre; k >= 3", NULL };
		int rc;
		cJSON *out = apply(a, recs, &ctx_a, &rc);

		CHECK(rc == 0, "%s", err);
		CHECK(out && !strcmp(str(out), "[{\"genre\":\"drama\",\"count\":5,\"sum_d\":60,\"mean_d\":20}]"), "%s",
		      str(out));
		/* suppressed groups leave no trace: not their key, not their values */
		CHECK(out && !strstr(str(out), "horror") && !strstr(str(out), "comedy") && !strstr(str(out), "99") &&
			      !strstr(str(out), "zed"),
		      "%s", str(out));
		cJSON_Delete(out);
	}
	{
		const char *a[] = { "aggregate=count by genre; k >= 2", NULL };
		expect(a, recs, "[{\"genre\":\"comedy\",\"count\":2},{\"genre\":\"drama\",\"count\":5}]");
	}
	{
		const char *a[] = { "aggregate=count, sum(d) by genre, k >= 1", "transform=limit(2)", NULL };
		expect(a, recs, "[{\"genre\":\"comedy\",\"count\":2,\"sum_d\":80},{\"genre\":\"drama\",\"count\":5,\"sum_d\":60}]");
	}
	{ /* two group fields; missing and null group as one null group; scalar ordering */
		const char *a[] = { "aggregate=count by g, h", NULL };
		expect(a, "[{\"g\":1,\"h\":\"x\"},{\"g\":\"1\",\"h\":\"x\"},{\"h\":\"x\"},{\"g\":null,\"h\":\"x\"},"
			  "{\"g\":true,\"h\":\"y\"},{\"g\":1,\"h\":\"x\"},{\"g\":1,\"h\":\"a\"}]",
		       "[{\"g\":null,\"h\":\"x\",\"count\":2},{\"g\":true,\"h\":\"y\",\"count\":1},"
		       "{\"g\":1,\"h\":\"a\",\"count\":1},{\"g\":1,\"h\":\"x\",\"count\":2},"
		       "{\"g\":\"1\",\"h\":\"x\",\"count\":1}]");
		const char *b[] = { "aggregate=count by g, h; k >= 2", NULL };
		expect(b, "[{\"g\":1,\"h\":\"x\"},{\"g\":\"1\",\"h\":\"x\"},{\"h\":\"x\"},{\"g\":null,\"h\":\"x\"},"
			  "{\"g\":true,\"h\":\"y\"},{\"g\":1,\"h\":\"x\"},{\"g\":1,\"h\":\"a\"}]",
		       "[{\"g\":null,\"h\":\"x\",\"count\":2},{\"g\":1,\"h\":\"x\",\"count\":2}]");
	}
	{ /* no group-by: one group, suppressed below k */
		const char *a[] = { "aggregate=count, mean(d); k >= 8", NULL };
		expect(a, recs, "[{\"count\":8,\"mean_d\":39.833333333333336}]");
		const char *b[] = { "aggregate=count; k >= 9", NULL };
		expect(b, recs, "[]");
		expect(b, "[]", "[]");
		const char *c[] = { "aggregate=mean(x)", NULL };
		expect(c, "[{\"y\":1}]", "[{\"mean_x\":null}]");
	}
	{ /* generalize before grouping */
		const char *a[] = { "transform=generalize(t, day)", "aggregate=count by t; k >= 2", NULL };
		expect(a, "[{\"t\":\"2024-03-15T01:00:00Z\"},{\"t\":\"2024-03-15T22:00:00Z\"},{\"t\":\"2024-03-16T01:00:00Z\"}]",
		       "[{\"t\":\"2024-03-15T00:00:00Z\",\"count\":2}]");
	}
	{ /* an output name clashing with a group field fails closed */
		const char *a[] = { "aggregate=count by count", NULL };
		expect_fail(a, "[{\"count\":1}]", -EINVAL, "collides");
	}
}

static void test_noise(void)
{
	struct trng r = { .s = 12345, .fail_after = -1 };
	const int n = 200000;
	static const double scales[] = { 2.0, 0.5, 10.0 };
	double u, x;

	for (size_t si = 0; si < sizeof(scales) / sizeof(scales[0]); si++) {
		double b = scales[si], mad = 0, mean = 0, pos = 0, big = 0;

		for (int i = 0; i < n; i++) {
			CHECK(policy_noise_laplace(test_rng, &r, b, &x) == 0 && isfinite(x), "draw");
			mad += fabs(x);
			mean += x;
			pos += x > 0;
			big += fabs(x) > 3 * b;
		}
		mad /= n;
		mean /= n;
		/* E|X| = b; sd of the estimate ~ b/sqrt(n) = 0.2% of b */
		CHECK(fabs(mad - b) < 0.02 * b, "scale %g: mean |x| %g", b, mad);
		CHECK(fabs(mean) < 0.02 * b, "scale %g: mean %g", b, mean);
		CHECK(fabs(pos / n - 0.5) < 0.01, "scale %g: P(x>0) %g", b, pos / n);
		/* P(|X| > 3b) = e^-3 */
		CHECK(fabs(big / n - exp(-3)) < 0.005, "scale %g: tail %g", b, big / n);
	}
	/* the extreme uniforms: never 0 nor 1, finite noise */
	r.mode = 1; /* all bits 0: the smallest uniform, the most negative noise */
	CHECK(policy_noise_uniform(test_rng, &r, &u) == 0 && u > 0 && u < 1e-15, "u min %g", u);
	CHECK(policy_noise_laplace(test_rng, &r, 1, &x) == 0 && isfinite(x) && x < -36 && x > -37, "x min %g", x);
	r.mode = 2; /* all bits 1: the largest uniform; noise just above 0 */
	CHECK(policy_noise_uniform(test_rng, &r, &u) == 0 && u < 1 && u > 1 - 1e-15, "u max %.17g", u);
	CHECK(policy_noise_laplace(test_rng, &r, 1, &x) == 0 && isfinite(x) && x > 0 && x < 1e-15, "x max %g", x);
	r.mode = 0;
	CHECK(policy_noise_laplace(test_rng, &r, 0, &x) == -EINVAL, "scale 0");
	CHECK(policy_noise_laplace(test_rng, &r, NAN, &x) == -EINVAL, "scale nan");
	CHECK(policy_noise_laplace(NULL, &r, 1, &x) == -EINVAL, "no rng");

	/* through a release: sum_d of one group over many releases has mean
	 * |error| ~ sensitivity / epsilon = 4 / 0.5 = 8; counts stay integers >= 0 */
	{
		const char *a[] = { "aggregate=count, sum(d) by g", "noise=laplace; epsilon = 0.5; sensitivity = 4", NULL };
		struct policy_obligations o = obl(a);
		cJSON *in = cJSON_Parse("[{\"g\":\"x\",\"d\":100},{\"g\":\"x\",\"d\":50},{\"g\":\"x\",\"d\":0}]"), *out;
		double mad = 0;
		int m = 4000, ok = 1;

		for (int i = 0; i < m; i++) {
			if (policy_release_apply(&o, in, &ctx_a, &out, err, sizeof(err)) || !out) {
				ok = 0;
				break;
			}
			cJSON *g = cJSON_GetArrayItem(out, 0);
			double c = cJSON_GetObjectItem(g, "count")->valuedouble;

			mad += fabs(cJSON_GetObjectItem(g, "sum_d")->valuedouble - 150);
			if (c < 0 || c != floor(c))
				ok = 0;
			cJSON_Delete(out);
		}
		CHECK(ok, "release failed or bad count: %s", err);
		mad /= m;
		CHECK(fabs(mad - 8) < 0.05 * 8, "release noise mean |err| %g", mad);
		cJSON_Delete(in);
	}
	{ /* noise on raw records: only the named field moves */
		const char *a[] = { "noise=laplace; epsilon = 1; fields = d", NULL };
		int rc;
		cJSON *out = apply(a, "[{\"d\":5,\"e\":5},{\"d\":null,\"e\":5}]", &ctx_a, &rc);

		CHECK(rc == 0 && out, "%s", err);
		if (out) {
			CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "d")->valuedouble != 5, "d noised");
			CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "e")->valuedouble == 5, "e kept");
			CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 1), "d")), "null kept");
		}
		cJSON_Delete(out);
	}
}

static void test_sample(void)
{
	const char *a[] = { "transform=sample(0.3)", NULL };
	struct policy_obligations o = obl(a);
	cJSON *in = cJSON_CreateArray(), *out = NULL;
	const int n = 20000;
	int prev = -1, kept;

	for (int i = 0; i < n; i++) {
		cJSON *r = cJSON_CreateObject();

		cJSON_AddNumberToObject(r, "i", i);
		cJSON_AddItemToArray(in, r);
	}
	CHECK(policy_release_apply(&o, in, &ctx_a, &out, err, sizeof(err)) == 0, "%s", err);
	kept = cJSON_GetArraySize(out);
	CHECK(fabs((double)kept / n - 0.3) < 0.015, "kept %d of %d", kept, n);
	{
		cJSON *r;
		int inorder = 1;

		cJSON_ArrayForEach(r, out) {
			int i = cJSON_GetObjectItem(r, "i")->valueint;

			inorder &= i > prev;
			prev = i;
		}
		CHECK(inorder, "sampled records keep their order");
	}
	cJSON_Delete(out);
	/* sample(1) needs no rng */
	{
		const char *b[] = { "transform=sample(1)", NULL };
		struct policy_release_ctx c = ctx_a;
		int rc;

		c.rng = NULL;
		out = apply(b, "[{\"i\":1}]", &c, &rc);
		CHECK(rc == 0 && cJSON_GetArraySize(out) == 1, "sample(1)");
		cJSON_Delete(out);
	}
	cJSON_Delete(in);
}

/* Random combinations of valid annotations over varied records: the result
 * is all (rc 0, output) or nothing (error, no output), never a crash. */
static void test_random_combos(void)
{
	static const char *const pool[] = {
		"transform=drop(a)", "transform=redact(b)", "transform=keep(a, b, t, g)",
		"transform=generalize(t, week)", "transform=generalize(a, bucket 3)", "transform=generalize(b, prefix 1)",
		"transform=generalize(a, precision 1)", "transform=pseudonymize(b)", "transform=pseudonymize(g)",
		"transform=sample(0.7)", "transform=limit(3)", "aggregate=count by g; k >= 2",
		"aggregate=count, sum(a), mean(a) by g", "aggregate=mean(a)", "noise=laplace; epsilon = 1; fields = a",
		"noise=laplace; epsilon = 0.1; sensitivity = 5", "ask=owner",
	};
	static const char *const recs[] = {
		"[{\"a\":1,\"b\":\"xy\",\"t\":\"2024-01-02T03:04:05Z\",\"g\":\"p\"},{\"a\":2.5,\"b\":\"z\",\"t\":0,\"g\":\"p\"},"
		"{\"a\":-7,\"b\":\"\",\"t\":\"2023-12-31\",\"g\":\"q\"}]",
		"[{\"a\":\"bad\",\"g\":1}]",
		"[{\"t\":\"bad\"}]",
		"[{\"a\":null,\"b\":null,\"t\":null,\"g\":null},{}]",
		"[]",
	};
	uint64_t s = 99;
	struct policy_release_ctx c = ctx_a;

	c.owner_approved = true;
	for (int it = 0; it < 3000; it++) {
		const char *ann[5];
		int k, rc;
		cJSON *out;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		k = (int)((s >> 40) % 5);
		for (int i = 0; i < k; i++)
			ann[i] = pool[(s >> (8 * i + 3)) % (sizeof(pool) / sizeof(pool[0]))];
		ann[k] = NULL;
		{
			struct policy_obligations o = obl(ann);
			cJSON *in = cJSON_Parse(recs[(s >> 50) % (sizeof(recs) / sizeof(recs[0]))]);

			out = (cJSON *)1;
			rc = policy_release_apply(&o, in, &c, &out, err, sizeof(err));
			CHECK((rc == 0 && out) || (rc < 0 && !out && err[0]), "rc %d out %p", rc, (void *)out);
			CHECK(rc == 0 || rc == -EINVAL || rc == -EPERM, "rc %d %s", rc, err);
			cJSON_Delete(out);
			cJSON_Delete(in);
		}
	}
}

int main(void)
{
	policy_pseudonym_key_derive(master, sizeof(master), "svc-a", key_a);
	policy_pseudonym_key_derive(master, sizeof(master), "svc-b", key_b);
	ctx_a.pseudonym_key = key_a;
	ctx_a.pseudonym_key_len = sizeof(key_a);
	ctx_a.rng = test_rng;
	ctx_a.rng_ctx = &rng;
	test_hmac();
	test_pseudonyms();
	test_times();
	test_field_transforms();
	test_fail_closed();
	test_aggregate();
	test_noise();
	test_sample();
	test_random_combos();
	printf("test_transform: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
