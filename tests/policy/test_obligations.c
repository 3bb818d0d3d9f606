/*
 * test_obligations.c: unit tests of policy/obligations.c: the annotation
 * syntax of every obligation, parse errors and their byte offsets, the
 * composition of several permits' obligations (the stricter wins), the
 * load-time field check, and a bounded seeded fuzz of the parser (random
 * token soups and mutations of valid annotations: no crash, sane errors).
 *
 * Assumes it runs under ASan + UBSan (tests/obligations.mk). Leaves out
 * applying obligations (test_transform.c) and budgets (test_budget.c).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obligations.h"

#include "check.h"

static char err[256];
static size_t eoff;

static int parse(struct policy_obligations *o, const char *key, const char *val)
{
	err[0] = '\0';
	eoff = (size_t)-1;
	return policy_obligation_parse(key, val, o, &eoff, err, sizeof(err));
}

static const struct policy_obl_field *field(const struct policy_obligations *o, const char *name)
{
	for (unsigned i = 0; i < o->nfields; i++)
		if (!strcmp(o->fields[i].f.name, name))
			return &o->fields[i];
	return NULL;
}

/* A fresh set holding one annotation; fails the test if it does not parse. */
static struct policy_obligations one(const char *key, const char *val)
{
	struct policy_obligations o;
	int rc;

	policy_obligations_init(&o);
	rc = parse(&o, key, val);
	CHECK(rc == 0, "@%s(\"%s\") -> %d (%s at %zu)", key, val, rc, err, eoff);
	return o;
}

static void test_transform_syntax(void)
{
	struct policy_obligations o = one("transform", "drop(title); generalize(time, day)");
	const struct policy_obl_field *f;

	CHECK(o.nfields == 2, "%u", o.nfields);
	f = field(&o, "title");
	CHECK(f && f->actions == POLICY_OBL_DROP && f->gen == POLICY_GEN_NONE, "title");
	f = field(&o, "time");
	CHECK(f && f->actions == 0 && f->gen == POLICY_GEN_TIME && f->gen_arg == POLICY_TIME_DAY, "time");
	CHECK(f && f->f.src == POLICY_OBL_SRC_TRANSFORM && f->f.offset == 24, "offset %u",
	      f ? f->f.offset : 0);

	o = one("transform", " keep(a, b,c , lat,age,zip,user) ;redact(c);pseudonymize(user);"
			     "generalize(lat, precision 2); generalize(age, bucket 10);"
			     "generalize(zip, prefix 3); sample(0.25); limit(100);");
	CHECK(o.has_keep, "keep");
	CHECK(o.nfields == 7, "%u", o.nfields);
	f = field(&o, "a");
	CHECK(f && f->actions == POLICY_OBL_KEEP, "a");
	f = field(&o, "c");
	CHECK(f && f->actions == (POLICY_OBL_KEEP | POLICY_OBL_REDACT), "c");
	f = field(&o, "user");
	CHECK(f && f->actions == (POLICY_OBL_KEEP | POLICY_OBL_PSEUDO), "user");
	f = field(&o, "lat");
	CHECK(f && f->gen == POLICY_GEN_PRECISION && f->gen_arg == 2, "lat");
	f = field(&o, "age");
	CHECK(f && f->gen == POLICY_GEN_BUCKET && f->gen_arg == 10, "age");
	f = field(&o, "zip");
	CHECK(f && f->gen == POLICY_GEN_PREFIX && f->gen_arg == 3, "zip");
	CHECK(o.sample == 0.25 && o.limit == 100, "%g %u", o.sample, o.limit);

	/* repeated steps in one annotation: the stricter */
	o = one("transform", "generalize(t, hour); generalize(t, month); generalize(t, day); limit(5); limit(9)");
	f = field(&o, "t");
	CHECK(f && f->gen_arg == POLICY_TIME_MONTH, "t");
	CHECK(o.limit == 5, "%u", o.limit);
	o = one("transform", "generalize(t, week); generalize(u, year); generalize(v, bucket 0.5)");
	CHECK(field(&o, "t")->gen_arg == POLICY_TIME_WEEK && field(&o, "u")->gen_arg == POLICY_TIME_YEAR &&
		      field(&o, "v")->gen_arg == 0.5,
	      "units");
	CHECK(!policy_obligations_empty(&o), "not empty");
}

static void test_other_syntax(void)
{
	struct policy_obligations o = one("aggregate", "count by genre; k >= 5");

	CHECK(o.aggregate && o.nagg == 1 && o.agg[0].fn == POLICY_AGG_COUNT, "count");
	CHECK(o.ngroup == 1 && !strcmp(o.group[0].name, "genre") && o.group[0].offset == 9, "by");
	CHECK(o.k == 5, "k %u", o.k);

	o = one("aggregate", "count, sum(duration), mean(rating) by genre, device, k >= 10");
	CHECK(o.nagg == 3 && o.agg[1].fn == POLICY_AGG_SUM && !strcmp(o.agg[1].f.name, "duration") &&
		      o.agg[2].fn == POLICY_AGG_MEAN && !strcmp(o.agg[2].f.name, "rating"),
	      "fns");
	CHECK(o.ngroup == 2 && !strcmp(o.group[1].name, "device") && o.k == 10, "groups %u k %u",
	      o.ngroup, o.k);
	o = one("aggregate", "sum(x)");
	CHECK(o.aggregate && o.k == 1 && o.ngroup == 0, "defaults");

	o = one("noise", "laplace; epsilon = 0.5; sensitivity = 1");
	CHECK(o.noise && o.epsilon == 0.5 && o.sensitivity == 1 && o.nnoise == 0, "noise");
	o = one("noise", "laplace, epsilon = 0.25");
	CHECK(o.noise && o.epsilon == 0.25 && o.sensitivity == 1, "default sensitivity");
	o = one("noise", "laplace; epsilon=1e-1; fields = a, b, sensitivity = 2.5;");
	CHECK(o.epsilon == 0.1 && o.sensitivity == 2.5 && o.nnoise == 2 && !strcmp(o.noise_fields[1].name, "b"),
	      "fields");

	o = one("budget", "epsilon 2 per 30d");
	CHECK(o.nbudget == 1 && o.budget[0].limit == 2 && o.budget[0].window == 30 * 86400, "budget");
	o = one("budget", "epsilon 0.5 per 2 weeks");
	CHECK(o.budget[0].window == 14 * 86400, "weeks");
	o = one("budget", "epsilon 1 per day");
	CHECK(o.budget[0].window == 86400, "day");

	o = one("rate", "1 per day");
	CHECK(o.nrate == 1 && o.rate[0].limit == 1 && o.rate[0].window == 86400, "rate");
	o = one("rate", "10 per 6h");
	CHECK(o.rate[0].limit == 10 && o.rate[0].window == 6 * 3600, "6h");
	o = one("rate", "3 per month");
	CHECK(o.rate[0].window == 30 * 86400, "month");

	o = one("ask", "owner");
	CHECK(o.ask == 2, "ask");
	o = one("ask", "owner once");
	CHECK(o.ask == 1, "once");
	o = one("ask", "owner; always");
	CHECK(o.ask == 2, "always");

	/* not an obligation: 1, untouched */
	{
		struct policy_obligations e, before;

		policy_obligations_init(&e);
		before = e;
		CHECK(parse(&e, "id", "whatever (") == 1, "id");
		CHECK(parse(&e, "doc", "") == 1, "doc");
		CHECK(!memcmp(&e, &before, sizeof(e)), "untouched");
		CHECK(policy_obligations_empty(&e), "empty");
	}
}

static const struct {
	const char *key, *val;
	size_t off;
	const char *msg;
} bad[] = {
	{ "transform", "drop(title); frobnicate(x)", 13, "unknown transform 'frobnicate'" },
	{ "transform", "drop(title", 10, "expected ')'" },
	{ "transform", "", 0, "empty" },
	{ "transform", "   ", 3, "empty" },
	{ "transform", "drop()", 5, "expected a field name" },
	{ "transform", "drop(a,)", 7, "expected a field name" },
	{ "transform", "generalize(time, fortnight)", 17, "unknown granularity" },
	{ "transform", "generalize(time day)", 16, "expected ','" },
	{ "transform", "generalize(lat, precision 9)", 26, "precision" },
	{ "transform", "generalize(lat, precision)", 25, "expected the precision" },
	{ "transform", "generalize(age, bucket 0)", 23, "> 0" },
	{ "transform", "generalize(zip, prefix 2.5)", 23, "integer" },
	{ "transform", "sample(0)", 7, "(0, 1]" },
	{ "transform", "sample(1.5)", 7, "sampling rate" },
	{ "transform", "limit(2.5)", 6, "integer" },
	{ "transform", "limit(0)", 6, "integer" },
	{ "transform", "drop(a) drop(b)", 8, "';'" },
	{ "transform", "drop(a); keep(b); keep(c)", 18, "twice" },
	{ "transform", "drop(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa)", 5, "too long" },
	{ "transform", "drop(a$)", 6, "unexpected character '$'" },
	{ "transform", "drop(\xc3\xa9)", 5, "unexpected byte 0xc3" },
	{ "transform", "drop(a); 5", 9, "expected a transform" },
	{ "transform", "drop(a);; drop(b)", 8, "expected a transform" },
	{ "transform", "limit(1.)", 8, "digit after '.'" },
	{ "aggregate", "count by genre; k >= 0", 21, "k must be an integer" },
	{ "aggregate", "median(x)", 0, "aggregate function" },
	{ "aggregate", "count by genre; j >= 5", 16, "k >= N" },
	{ "aggregate", "sum(x) by", 9, "group by" },
	{ "aggregate", "count, count", 7, "twice" },
	{ "aggregate", "count by a, a", 12, "twice" },
	{ "aggregate", "count by a, b, c, d, e", 21, "too many group fields" },
	{ "aggregate", "count by a; k >= 2; k >= 3", 20, "k given twice" },
	{ "aggregate", "count by a k >= 2", 11, "expected 'by', ';'" },
	{ "noise", "gauss; epsilon = 1", 0, "laplace" },
	{ "noise", "laplace; sensitivity = 1", 24, "needs 'epsilon" },
	{ "noise", "laplace; epsilon = -1", 19, "epsilon must be > 0" },
	{ "noise", "laplace; epsilon = 0", 19, "> 0" },
	{ "noise", "laplace; epsilon = 1000", 19, "epsilon must be in" },
	{ "noise", "laplace; epsilon = 1; epsilon = 2", 22, "twice" },
	{ "noise", "laplace; delta = 1", 9, "expected epsilon" },
	{ "noise", "laplace epsilon = 1", 8, "expected ';'" },
	{ "budget", "epsilon 2 per fortnight", 14, "time unit" },
	{ "budget", "epsilon 2 every 30d", 10, "'per'" },
	{ "budget", "2 per 30d", 0, "epsilon X per" },
	{ "budget", "epsilon 2 per 30d extra", 18, "end of value" },
	{ "budget", "epsilon 0 per day", 8, "> 0" },
	{ "budget", "epsilon 1 per 20y", 14, "10 years" },
	{ "rate", "1.5 per day", 0, "integer" },
	{ "rate", "1 per", 5, "time unit" },
	{ "rate", "per day", 0, "a number of releases" },
	{ "ask", "admin", 0, "owner" },
	{ "ask", "owner twice", 6, "'once'" },
	{ "ask", "", 0, "owner" },
};

static void test_errors(void)
{
	struct policy_obligations o, before;
	char big[POLICY_OBL_VALUE_MAX + 64], many[512];
	int rc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		policy_obligations_init(&o);
		parse(&o, "transform", "drop(x)"); /* prior content must survive */
		before = o;
		rc = parse(&o, bad[i].key, bad[i].val);
		CHECK(rc == -EINVAL, "@%s(\"%s\"): rc %d", bad[i].key, bad[i].val, rc);
		CHECK(eoff == bad[i].off, "@%s(\"%s\"): offset %zu, want %zu (%s)", bad[i].key, bad[i].val,
		      eoff, bad[i].off, err);
		CHECK(strstr(err, bad[i].msg) != NULL, "@%s(\"%s\"): message '%s' lacks '%s'", bad[i].key,
		      bad[i].val, err, bad[i].msg);
		CHECK(!memcmp(&o, &before, sizeof(o)), "@%s(\"%s\"): out changed", bad[i].key, bad[i].val);
	}
	/* bounds */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "drop(", 5);
	policy_obligations_init(&o);
	CHECK(parse(&o, "transform", big) == -EINVAL && eoff == POLICY_OBL_VALUE_MAX &&
		      strstr(err, "longer than"),
	      "long value: %zu %s", eoff, err);
	{
		size_t n = 0, off25 = 0;

		n += (size_t)snprintf(many + n, sizeof(many) - n, "drop(");
		for (int i = 0; i <= POLICY_OBL_MAX_FIELDS; i++) {
			if (i == POLICY_OBL_MAX_FIELDS)
				off25 = n;
			n += (size_t)snprintf(many + n, sizeof(many) - n, "f%d", i);
			if (i < POLICY_OBL_MAX_FIELDS)
				n += (size_t)snprintf(many + n, sizeof(many) - n, ",");
		}
		snprintf(many + n, sizeof(many) - n, ")");
		policy_obligations_init(&o);
		CHECK(parse(&o, "transform", many) == -EINVAL && eoff == off25 && strstr(err, "too many fields"),
		      "many fields: %zu want %zu: %s", eoff, off25, err);
	}
	/* NULL error outputs are allowed */
	policy_obligations_init(&o);
	CHECK(policy_obligation_parse("transform", "drop(", &o, NULL, NULL, 0) == -EINVAL, "null err");
	CHECK(policy_obligation_parse(NULL, "x", &o, NULL, NULL, 0) == -EINVAL, "null key");
}

static void test_compose(void)
{
	struct policy_obligations a, b, c, before;
	const struct policy_obl_field *f;
	int rc;

	/* transform: union of drops and redactions, coarser generalization */
	a = one("transform", "drop(title); generalize(time, hour); generalize(lat, precision 3);"
			     "generalize(age, bucket 5); generalize(zip, prefix 4); pseudonymize(user)");
	b = one("transform", "redact(genre); generalize(time, day); generalize(lat, precision 1);"
			     "generalize(age, bucket 10); generalize(zip, prefix 2); drop(user)");
	CHECK(policy_obligations_compose(&a, &b) == 0, "compose");
	CHECK(field(&a, "title")->actions == POLICY_OBL_DROP, "title");
	CHECK(field(&a, "genre")->actions == POLICY_OBL_REDACT, "genre");
	CHECK(field(&a, "time")->gen_arg == POLICY_TIME_DAY, "time");
	CHECK(field(&a, "lat")->gen_arg == 1, "lat");
	CHECK(field(&a, "age")->gen_arg == 10, "age");
	CHECK(field(&a, "zip")->gen_arg == 2, "zip");
	CHECK(field(&a, "user")->actions == (POLICY_OBL_PSEUDO | POLICY_OBL_DROP), "user");
	/* order does not matter */
	c = one("transform", "redact(genre); generalize(time, day); generalize(lat, precision 1);"
			     "generalize(age, bucket 10); generalize(zip, prefix 2); drop(user)");
	b = one("transform", "drop(title); generalize(time, hour); generalize(lat, precision 3);"
			     "generalize(age, bucket 5); generalize(zip, prefix 4); pseudonymize(user)");
	CHECK(policy_obligations_compose(&c, &b) == 0, "compose");
	for (unsigned i = 0; i < a.nfields; i++) {
		f = field(&c, a.fields[i].f.name);
		CHECK(f && f->actions == a.fields[i].actions && f->gen == a.fields[i].gen &&
			      f->gen_arg == a.fields[i].gen_arg,
		      "commutes on %s", a.fields[i].f.name);
	}

	/* different generalizations of one field: the field is dropped */
	a = one("transform", "generalize(x, bucket 10)");
	b = one("transform", "generalize(x, prefix 2)");
	CHECK(policy_obligations_compose(&a, &b) == 0 && (field(&a, "x")->actions & POLICY_OBL_DROP), "drop x");

	/* keep lists intersect; a keep on one side only still holds */
	a = one("transform", "keep(a, b, c)");
	b = one("transform", "keep(b, c, d); drop(c)");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.has_keep, "keep");
	CHECK(!(field(&a, "a")->actions & POLICY_OBL_KEEP), "a not kept");
	CHECK(field(&a, "b")->actions == POLICY_OBL_KEEP, "b kept");
	CHECK(field(&a, "c")->actions == (POLICY_OBL_KEEP | POLICY_OBL_DROP), "c kept but dropped");
	CHECK(!(field(&a, "d")->actions & POLICY_OBL_KEEP), "d not kept");
	a = one("transform", "drop(z)");
	b = one("transform", "keep(y)");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.has_keep && !(field(&a, "z")->actions & POLICY_OBL_KEEP) &&
		      (field(&a, "y")->actions & POLICY_OBL_KEEP),
	      "keep on one side");
	b = one("transform", "drop(q)");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.has_keep && !(field(&a, "q")->actions & POLICY_OBL_KEEP),
	      "a later field is not kept");

	/* sample, limit: the smaller */
	a = one("transform", "sample(0.5); limit(10)");
	b = one("transform", "sample(0.2); limit(50)");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.sample == 0.2 && a.limit == 10, "sample/limit");

	/* aggregate: common functions and group fields, larger k */
	a = one("aggregate", "count, sum(d) by genre, device; k >= 5");
	b = one("aggregate", "count, mean(r) by device, genre; k >= 10");
	CHECK(policy_obligations_compose(&a, &b) == 0, "agg");
	CHECK(a.nagg == 1 && a.agg[0].fn == POLICY_AGG_COUNT && a.ngroup == 2 && a.k == 10, "agg %u %u %u",
	      a.nagg, a.ngroup, a.k);
	a = one("aggregate", "count by genre, device; k >= 5");
	b = one("aggregate", "count by genre; k >= 3");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.ngroup == 1 && !strcmp(a.group[0].name, "genre") && a.k == 5,
	      "coarser grouping");
	/* an aggregate beats raw records */
	a = one("transform", "drop(title)");
	b = one("aggregate", "count by genre; k >= 5");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.aggregate && a.k == 5 && field(&a, "title"), "agg wins");
	CHECK(policy_obligations_compose(&b, &a) == 0 && b.aggregate && b.k == 5 && field(&b, "title"), "agg wins 2");
	/* no common function: conflict, nothing can be released */
	a = one("aggregate", "sum(d) by genre");
	b = one("aggregate", "mean(r) by genre");
	rc = policy_obligations_compose(&a, &b);
	CHECK(rc == -EPERM && a.conflict, "conflict rc %d", rc);
	c = one("transform", "drop(x)");
	CHECK(policy_obligations_compose(&c, &a) == -EPERM && c.conflict, "conflict propagates");
	CHECK(policy_obligations_check_fields(&c, NULL, 0, NULL, NULL, NULL, 0) == -EINVAL, "check sees conflict");

	/* noise: smaller epsilon, larger sensitivity, all fields */
	a = one("noise", "laplace; epsilon = 0.5; sensitivity = 1; fields = a");
	b = one("noise", "laplace; epsilon = 1; sensitivity = 3; fields = b, a");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.epsilon == 0.5 && a.sensitivity == 3 && a.nnoise == 2,
	      "noise %g %g %u", a.epsilon, a.sensitivity, a.nnoise);
	c = one("transform", "drop(t)");
	CHECK(policy_obligations_compose(&c, &b) == 0 && c.noise && c.epsilon == 1, "noise into none");

	/* budgets and rates: every window holds; one window: the smaller */
	a = one("budget", "epsilon 2 per 30d");
	b = one("budget", "epsilon 1 per 30 days");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.nbudget == 1 && a.budget[0].limit == 1, "budget min");
	b = one("budget", "epsilon 0.5 per day");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.nbudget == 2, "budget two windows");
	a = one("rate", "5 per day");
	b = one("rate", "2 per 24h");
	c = one("rate", "20 per week");
	CHECK(policy_obligations_compose(&a, &b) == 0 && policy_obligations_compose(&a, &c) == 0 && a.nrate == 2 &&
		      a.rate[0].limit == 2 && a.rate[1].window == 604800,
	      "rate");
	/* ask: every release beats once */
	a = one("ask", "owner once");
	b = one("ask", "owner");
	CHECK(policy_obligations_compose(&a, &b) == 0 && a.ask == 2, "ask");
	policy_obligations_init(&c);
	CHECK(policy_obligations_compose(&c, &a) == 0 && c.ask == 2, "ask into none");

	/* the empty set is the identity */
	a = one("transform", "drop(a); generalize(t, day)");
	policy_obligation_parse("aggregate", "count by g; k >= 2", &a, NULL, NULL, 0);
	before = a;
	policy_obligations_init(&b);
	CHECK(policy_obligations_compose(&a, &b) == 0 && !memcmp(&a, &before, sizeof(a)), "identity");

	/* over a bound: -EINVAL and acc unchanged */
	policy_obligations_init(&a);
	for (int i = 0; i < POLICY_OBL_MAX_FIELDS; i++) {
		char v[32];

		snprintf(v, sizeof(v), "drop(f%d)", i);
		CHECK(parse(&a, "transform", v) == 0, "%s", err);
	}
	before = a;
	b = one("transform", "drop(other)");
	CHECK(policy_obligations_compose(&a, &b) == -EINVAL && !memcmp(&a, &before, sizeof(a)), "bound");
	CHECK(parse(&a, "transform", "redact(f3)") == 0, "existing field still fits");
	CHECK(parse(&a, "transform", "drop(g)") == -EINVAL && strstr(err, "too many"), "%s", err);

	/* parse merges into what is there */
	a = one("transform", "generalize(t, hour)");
	CHECK(parse(&a, "transform", "generalize(t, week)") == 0 && field(&a, "t")->gen_arg == POLICY_TIME_WEEK, "merge");

	/* epsilon of one release */
	a = one("aggregate", "count, sum(x) by g");
	CHECK(parse(&a, "noise", "laplace; epsilon = 0.5") == 0 && fabs(policy_obligations_epsilon(&a) - 1.0) < 1e-12,
	      "eps %g", policy_obligations_epsilon(&a));
	a = one("noise", "laplace; epsilon = 0.25; fields = a, b, c");
	CHECK(fabs(policy_obligations_epsilon(&a) - 0.75) < 1e-12, "eps raw");
	policy_obligations_init(&a);
	CHECK(policy_obligations_epsilon(&a) == 0, "no noise");
}

/* Every example of docs/policy.md parses. */
static void test_doc_examples(void)
{
	static const char *const ex[][2] = {
		{ "transform", "keep(time, genre, duration, user); generalize(time, day); pseudonymize(user)" },
		{ "aggregate", "count, sum(duration) by genre; k >= 5" },
		{ "noise", "laplace; epsilon = 0.5; sensitivity = 1" },
		{ "budget", "epsilon 2 per 30d" },
		{ "rate", "1 per day" },
		{ "transform", "drop(title); generalize(time, day)" },
		{ "transform", "keep(lat, lon, time); generalize(lat, precision 2); generalize(lon, precision 2)" },
		{ "transform", "generalize(age, bucket 10); generalize(postcode, prefix 3); sample(0.1); limit(500)" },
		{ "aggregate", "count by genre; k >= 5" },
		{ "aggregate", "count, mean(heart_rate) by day, k >= 10" },
		{ "noise", "laplace, epsilon = 0.5" },
		{ "noise", "laplace; epsilon = 1; sensitivity = 60; fields = duration" },
		{ "budget", "epsilon 2 per 30d" },
		{ "rate", "10 per 6h" },
		{ "ask", "owner once" },
		{ "ask", "owner" },
		{ "transform", "generalize(t, hour); generalize(t, day)" },
	};
	struct policy_obligations o;

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		o = one(ex[i][0], ex[i][1]);
		CHECK(!policy_obligations_empty(&o), "%s", ex[i][1]);
	}
	o = one("aggregate", "count, mean(heart_rate) by day, k >= 10");
	CHECK(o.ngroup == 1 && !strcmp(o.group[0].name, "day") && o.k == 10, "by day, k");
	/* a conflict inside one policy is an error and leaves out unchanged */
	{
		struct policy_obligations before;

		o = one("aggregate", "sum(a)");
		before = o;
		CHECK(parse(&o, "aggregate", "mean(b)") == -EINVAL && strstr(err, "conflicts") &&
			      !memcmp(&o, &before, sizeof(o)),
		      "%s", err);
	}
}

static void test_check_fields(void)
{
	static const char *const fields[] = { "title", "time", "genre", "duration", "rating", "user" };
	const size_t n = sizeof(fields) / sizeof(fields[0]);
	struct policy_obligations o;
	size_t off;
	int src, rc;

	o = one("transform", "drop(title); generalize(tme, day)");
	rc = policy_obligations_check_fields(&o, fields, n, &src, &off, err, sizeof(err));
	CHECK(rc == -EINVAL && src == POLICY_OBL_SRC_TRANSFORM && off == 24 && strstr(err, "unknown field 'tme'"),
	      "rc %d src %d off %zu %s", rc, src, off, err);
	CHECK(!strcmp(policy_obligation_src_name(src), "transform"), "src name");

	o = one("transform", "drop(title)");
	CHECK(parse(&o, "aggregate", "count, mean(rating) by genr; k >= 3") == 0, "%s", err);
	rc = policy_obligations_check_fields(&o, fields, n, &src, &off, err, sizeof(err));
	CHECK(rc == -EINVAL && src == POLICY_OBL_SRC_AGGREGATE && off == 23, "rc %d src %d off %zu %s", rc, src, off, err);

	o = one("aggregate", "sum(durration)");
	rc = policy_obligations_check_fields(&o, fields, n, &src, &off, err, sizeof(err));
	CHECK(rc == -EINVAL && src == POLICY_OBL_SRC_AGGREGATE && off == 4, "rc %d off %zu", rc, off);

	o = one("noise", "laplace; epsilon = 1; fields = duration, ratin");
	rc = policy_obligations_check_fields(&o, fields, n, &src, &off, err, sizeof(err));
	CHECK(rc == -EINVAL && src == POLICY_OBL_SRC_NOISE && off == 41, "rc %d off %zu", rc, off);

	o = one("noise", "laplace; epsilon = 1");
	rc = policy_obligations_check_fields(&o, fields, n, &src, &off, err, sizeof(err));
	CHECK(rc == -EINVAL && src == POLICY_OBL_SRC_NOISE && off == 0 && strstr(err, "fields"), "%s", err);

	o = one("budget", "epsilon 1 per day");
	rc = policy_obligations_check_fields(&o, fields, n, &src, &off, err, sizeof(err));
	CHECK(rc == -EINVAL && src == POLICY_OBL_SRC_BUDGET && strstr(err, "without @noise"), "%s", err);

	o = one("transform", "drop(title); generalize(time, day); pseudonymize(user)");
	CHECK(parse(&o, "aggregate", "count, sum(duration) by genre, user; k >= 5") == 0, "%s", err);
	CHECK(parse(&o, "noise", "laplace; epsilon = 0.5") == 0, "%s", err);
	CHECK(parse(&o, "budget", "epsilon 2 per 30d") == 0, "%s", err);
	CHECK(parse(&o, "rate", "1 per day") == 0, "%s", err);
	CHECK(parse(&o, "ask", "owner") == 0, "%s", err);
	CHECK(policy_obligations_check_fields(&o, fields, n, &src, &off, err, sizeof(err)) == 0, "%s", err);
	/* no schema: names are not checked */
	o = one("transform", "drop(nosuch)");
	CHECK(policy_obligations_check_fields(&o, NULL, 0, NULL, NULL, NULL, 0) == 0, "no schema");
	CHECK(policy_obligations_check_fields(&o, fields, 0, NULL, NULL, NULL, 0) == -EINVAL, "empty schema");
}

/* ---- fuzz ----------------------------------------------------------------- */

static uint64_t rs = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static const char *const keys[] = { "transform", "aggregate", "noise", "budget", "ask", "rate" };
static const char *const corpus[] = {
	"drop(title); generalize(time, day)",
	"keep(a, b); redact(c); pseudonymize(user); generalize(lat, precision 2); sample(0.5); limit(3)",
	"generalize(age, bucket 10); generalize(zip, prefix 3)",
	"count by genre; k >= 5",
	"count, sum(duration), mean(rating) by genre, device, k >= 10",
	"laplace; epsilon = 0.5; sensitivity = 1",
	"laplace, epsilon = 1e-2, fields = a, b, sensitivity = 3",
	"epsilon 2 per 30d",
	"owner once",
	"1 per day",
	"10 per 6 hours",
};
static const char *const toks[] = {
	"drop", "keep", "redact", "pseudonymize", "generalize", "sample", "limit", "count", "sum", "mean",
	"by", "k", "laplace", "epsilon", "sensitivity", "fields", "per", "owner", "once", "day", "hour",
	"week", "month", "year", "precision", "bucket", "prefix", "d", "h", "30d", "(", ")", ",", ";",
	"=", ">=", ">", "-", ".", "0", "1", "0.5", "1e308", "1e999", "-1", "99999999999999999999", " ",
	"\t", "a", "title", "\"", "\\", "\xff", "\xc3\xa9", "e", "1e", "1e+", ".5", "5.",
};

static long fuzz_ok, fuzz_bad;

static void fuzz_one(const char *key, const char *val, struct policy_obligations *acc)
{
	struct policy_obligations o, before;
	size_t len = strlen(val);
	int rc;

	policy_obligations_init(&o);
	before = o;
	rc = parse(&o, key, val);
	CHECK(rc == 0 || rc == -EINVAL, "@%s(\"%s\"): rc %d", key, val, rc);
	if (rc == -EINVAL) {
		fuzz_bad++;
		CHECK(eoff <= len && err[0], "@%s(\"%s\"): offset %zu of %zu, '%s'", key, val, eoff, len, err);
		CHECK(!memcmp(&o, &before, sizeof(o)), "@%s(\"%s\"): changed on error", key, val);
		return;
	}
	fuzz_ok++;
	/* every recorded offset lies inside the value */
	for (unsigned i = 0; i < o.nfields; i++)
		CHECK(o.fields[i].f.offset < len && o.fields[i].f.name[0], "offset %u", o.fields[i].f.offset);
	policy_obligations_check_fields(&o, keys, 3, NULL, NULL, err, sizeof(err));
	rc = policy_obligations_compose(acc, &o);
	CHECK(rc == 0 || rc == -EPERM || rc == -EINVAL, "compose %d", rc);
	if (rc == -EINVAL || acc->conflict)
		policy_obligations_init(acc);
}

static void test_fuzz(void)
{
	struct policy_obligations acc;
	char buf[600];
	int iters = 300000;

	policy_obligations_init(&acc);
	for (int it = 0; it < iters; it++) {
		const char *key = keys[rnd() % 6];
		size_t n = 0;

		if (it & 1) {
			/* a soup of grammar tokens */
			int nt = (int)(rnd() % 24);

			for (int i = 0; i < nt && n < sizeof(buf) - 40; i++) {
				const char *t = toks[rnd() % (sizeof(toks) / sizeof(toks[0]))];

				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", t, rnd() % 3 ? "" : " ");
			}
			buf[n] = '\0';
		} else {
			/* a valid annotation, mutated */
			const char *c = corpus[rnd() % (sizeof(corpus) / sizeof(corpus[0]))];
			int muts = (int)(rnd() % 4);

			n = strlen(c);
			memcpy(buf, c, n + 1);
			for (int m = 0; m < muts && n > 0; m++) {
				size_t p = rnd() % n;

				switch (rnd() % 4) {
				case 0: /* flip a byte */
					buf[p] = (char)(rnd() % 255 + 1);
					break;
				case 1: /* delete a span */
				{
					size_t l = rnd() % 5 + 1;

					if (p + l > n)
						l = n - p;
					memmove(buf + p, buf + p + l, n - p - l + 1);
					n -= l;
					break;
				}
				case 2: /* insert a token */
				{
					const char *t = toks[rnd() % (sizeof(toks) / sizeof(toks[0]))];
					size_t l = strlen(t);

					if (n + l < sizeof(buf) - 1) {
						memmove(buf + p + l, buf + p, n - p + 1);
						memcpy(buf + p, t, l);
						n += l;
					}
					break;
				}
				default: /* truncate */
					buf[p] = '\0';
					n = p;
					break;
				}
			}
			/* mostly use the annotation's own key so parsing goes deep */
			if (rnd() % 4) {
				if (!strncmp(c, "count", 5))
					key = "aggregate";
				else if (!strncmp(c, "laplace", 7))
					key = "noise";
				else if (!strncmp(c, "epsilon", 7))
					key = "budget";
				else if (!strncmp(c, "owner", 5))
					key = "ask";
				else if (c[0] >= '0' && c[0] <= '9')
					key = "rate";
				else
					key = "transform";
			}
		}
		fuzz_one(key, buf, &acc);
	}
	/* the fuzz reaches both outcomes in quantity (else it tests little) */
	CHECK(fuzz_ok > iters / 20 && fuzz_bad > iters / 4, "%ld parsed, %ld rejected", fuzz_ok, fuzz_bad);
	printf("fuzz: %d inputs, %ld parsed, %ld rejected\n", iters, fuzz_ok, fuzz_bad);
}

int main(void)
{
	test_transform_syntax();
	test_other_syntax();
	test_errors();
	test_compose();
	test_check_fields();
	test_doc_examples();
	test_fuzz();
	printf("test_obligations: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
