/*
 * test_budget.c: unit tests of policy/budget.c and of policy_release_run:
 * epsilon budgets stop releases when spent and come back when the window
 * rolls over, rates, several windows at once (all or nothing), separate
 * services, a clock going back, a full state, the JSON form (round trip and
 * strict rejection), and whole releases that are refused without charging.
 *
 * Assumes ASan + UBSan (tests/obligations.mk). Leaves out the transforms
 * themselves (test_transform.c).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "cJSON.h"
#include "obligations.h"
#include "transform.h"

#include "check.h"

#define DAY 86400LL
#define T0 (1710460800LL + 3600) /* 2024-03-15T01:00Z: inside a 30-day window */

static struct policy_obligations obl(const char *transform, const char *aggregate, const char *noise,
				     const char *budget, const char *rate)
{
	struct policy_obligations o;
	char err[128];

	policy_obligations_init(&o);
	if (transform)
		CHECK(policy_obligation_parse("transform", transform, &o, NULL, err, sizeof(err)) == 0, "%s", err);
	if (aggregate)
		CHECK(policy_obligation_parse("aggregate", aggregate, &o, NULL, err, sizeof(err)) == 0, "%s", err);
	if (noise)
		CHECK(policy_obligation_parse("noise", noise, &o, NULL, err, sizeof(err)) == 0, "%s", err);
	if (budget)
		CHECK(policy_obligation_parse("budget", budget, &o, NULL, err, sizeof(err)) == 0, "%s", err);
	if (rate)
		CHECK(policy_obligation_parse("rate", rate, &o, NULL, err, sizeof(err)) == 0, "%s", err);
	return o;
}

static void test_epsilon(void)
{
	/* one function at epsilon 0.5 a release: 4 releases per 30 days */
	struct policy_obligations o = obl(NULL, "count by g", "laplace; epsilon = 0.5", "epsilon 2 per 30d", NULL);
	struct policy_budget_state st, before;
	int64_t win = 30 * DAY, start = T0 - T0 % win;
	double left;
	int rc;

	policy_budget_init(&st);
	CHECK(policy_budget_remaining(&st, "acme", &o, T0, &left) == 0 && left == 2, "left %g", left);
	for (int i = 0; i < 4; i++)
		CHECK((rc = policy_budget_charge(&st, "acme", &o, T0 + i)) == 0, "charge %d: %d", i, rc);
	CHECK(policy_budget_remaining(&st, "acme", &o, T0, &left) == 0 && fabs(left) < 1e-12, "left %g", left);
	before = st;
	CHECK(policy_budget_check(&st, "acme", &o, T0 + 10) == -EDQUOT, "check spent");
	CHECK(policy_budget_charge(&st, "acme", &o, T0 + 10) == -EDQUOT, "charge spent");
	CHECK(!memcmp(&st, &before, sizeof(st)), "unchanged when refused");
	/* the last second of the window, then the first of the next */
	CHECK(policy_budget_charge(&st, "acme", &o, start + win - 1) == -EDQUOT, "still spent");
	CHECK(policy_budget_charge(&st, "acme", &o, start + win) == 0, "rolled over");
	CHECK(st.n == 1 && st.e[0].start == start + win && st.e[0].spent == 0.5, "new window %lld %g",
	      (long long)st.e[0].start, st.e[0].spent);
	/* a clock that went back keeps the current window: no refund */
	for (int i = 0; i < 3; i++)
		CHECK(policy_budget_charge(&st, "acme", &o, start + win + 5) == 0, "fill");
	CHECK(policy_budget_charge(&st, "acme", &o, start + 5) == -EDQUOT, "clock back: no refund");
	/* another service has its own budget */
	CHECK(policy_budget_charge(&st, "other", &o, start + win + 5) == 0, "other service");
	/* cost scales with the noised outputs: two functions cost 2 x 0.5 */
	{
		struct policy_obligations two =
			obl(NULL, "count, sum(x) by g", "laplace; epsilon = 0.5", "epsilon 2 per 30d", NULL);
		struct policy_budget_state s2;

		policy_budget_init(&s2);
		CHECK(policy_budget_charge(&s2, "a", &two, T0) == 0 && policy_budget_charge(&s2, "a", &two, T0) == 0 &&
			      policy_budget_charge(&s2, "a", &two, T0) == -EDQUOT,
		      "two functions");
	}
	/* fractional epsilons add up without rounding trouble: 10 x 0.1 == 1 */
	{
		struct policy_obligations t = obl(NULL, "count", "laplace; epsilon = 0.1", "epsilon 1 per day", NULL);
		struct policy_budget_state s3;
		int ok = 0;

		policy_budget_init(&s3);
		while (policy_budget_charge(&s3, "a", &t, T0) == 0 && ok < 100)
			ok++;
		CHECK(ok == 10, "%d releases of 0.1 in 1", ok);
	}
	/* a budget with nothing noised is refused */
	{
		struct policy_obligations t = obl("drop(x)", NULL, NULL, "epsilon 1 per day", NULL);

		CHECK(policy_budget_check(&st, "acme", &t, T0) == -EINVAL, "no noise");
	}
	CHECK(policy_budget_check(&st, "", &o, T0) == -EINVAL && policy_budget_check(&st, "a", &o, -1) == -EINVAL,
	      "bad args");
	{
		struct policy_obligations none = obl("drop(x)", NULL, NULL, NULL, NULL);

		CHECK(policy_budget_remaining(&st, "acme", &none, T0, &left) == -ENOENT, "no budget");
		CHECK(policy_budget_charge(&st, "acme", &none, T0) == 0, "nothing to charge");
	}
}

static void test_rate_and_windows(void)
{
	struct policy_obligations r = obl("drop(x)", NULL, NULL, NULL, "1 per day");
	struct policy_obligations both =
		obl(NULL, "count", "laplace; epsilon = 0.5", "epsilon 1 per day", "3 per week");
	struct policy_budget_state st, before;
	int64_t d0 = T0 - T0 % DAY;

	policy_budget_init(&st);
	CHECK(policy_budget_charge(&st, "acme", &r, d0 + 10) == 0, "first");
	CHECK(policy_budget_charge(&st, "acme", &r, d0 + DAY - 1) == -EAGAIN, "same day");
	CHECK(policy_budget_charge(&st, "acme", &r, d0 + DAY) == 0, "next day");

	/* two windows: the daily budget allows 2, the weekly rate 3 */
	policy_budget_init(&st);
	int64_t w0 = d0 - d0 % (7 * DAY);
	CHECK(policy_budget_charge(&st, "s", &both, w0) == 0 && policy_budget_charge(&st, "s", &both, w0 + 1) == 0,
	      "day 1");
	before = st;
	CHECK(policy_budget_charge(&st, "s", &both, w0 + 2) == -EDQUOT && !memcmp(&st, &before, sizeof(st)),
	      "daily budget spent, weekly rate untouched");
	CHECK(policy_budget_charge(&st, "s", &both, w0 + DAY) == 0, "day 2");
	before = st;
	CHECK(policy_budget_charge(&st, "s", &both, w0 + DAY + 1) == -EAGAIN && !memcmp(&st, &before, sizeof(st)),
	      "weekly rate reached, daily budget untouched");
	CHECK(policy_budget_charge(&st, "s", &both, w0 + 7 * DAY) == 0, "next week");
}

static void test_capacity(void)
{
	struct policy_obligations r = obl("drop(x)", NULL, NULL, NULL, "1 per day");
	struct policy_budget_state st, before;
	char svc[32];

	policy_budget_init(&st);
	for (int i = 0; i < POLICY_BUDGET_MAX; i++) {
		snprintf(svc, sizeof(svc), "svc-%d", i);
		CHECK(policy_budget_charge(&st, svc, &r, T0) == 0, "%s", svc);
	}
	before = st;
	CHECK(policy_budget_charge(&st, "one-more", &r, T0) == -ENOSPC && !memcmp(&st, &before, sizeof(st)), "full");
	/* a day later every account is stale and makes room */
	CHECK(policy_budget_charge(&st, "one-more", &r, T0 + DAY) == 0 && st.n <= POLICY_BUDGET_MAX, "evicted");
	CHECK(policy_budget_charge(&st, "svc-3", &r, T0 + DAY) == 0, "old service fresh window");
	memset(svc, 'x', sizeof(svc));
	{
		char longname[POLICY_BUDGET_SERVICE_MAX + 1];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		CHECK(policy_budget_charge(&st, longname, &r, T0) == -EINVAL, "long service");
	}
}

static void test_json(void)
{
	struct policy_obligations o = obl(NULL, "count", "laplace; epsilon = 0.25", "epsilon 2 per 30d", "5 per day");
	struct policy_budget_state st, back, keep;
	cJSON *j = NULL, *p;
	char *text;

	policy_budget_init(&st);
	CHECK(policy_budget_charge(&st, "acme-recs", &o, T0) == 0 && policy_budget_charge(&st, "acme-recs", &o, T0) == 0 &&
		      policy_budget_charge(&st, "social", &o, T0 + 5) == 0,
	      "charges");
	CHECK(policy_budget_to_json(&st, &j) == 0 && j, "to_json");
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	p = cJSON_Parse(text);
	policy_budget_init(&back);
	CHECK(policy_budget_from_json(&back, p) == 0, "from_json %s", text);
	CHECK(back.n == st.n, "n %u %u", back.n, st.n);
	for (uint32_t i = 0; i < st.n && i < back.n; i++)
		CHECK(!strcmp(back.e[i].service, st.e[i].service) && back.e[i].kind == st.e[i].kind &&
			      back.e[i].window == st.e[i].window && back.e[i].start == st.e[i].start &&
			      back.e[i].spent == st.e[i].spent,
		      "entry %u", i);
	/* the restored state keeps accounting where it was */
	CHECK(policy_budget_charge(&back, "acme-recs", &o, T0) == 0 && policy_budget_charge(&back, "acme-recs", &o, T0) == 0 &&
		      policy_budget_charge(&back, "acme-recs", &o, T0) == 0 &&
		      policy_budget_charge(&back, "acme-recs", &o, T0) == -EAGAIN,
	      "restored rate");
	cJSON_Delete(p);
	free(text);

	static const char *const bad[] = {
		"[]",
		"{\"entries\":[]}",
		"{\"version\":2,\"entries\":[]}",
		"{\"version\":1}",
		"{\"version\":1,\"entries\":{}}",
		"{\"version\":1,\"entries\":[1]}",
		"{\"version\":1,\"entries\":[{\"service\":\"a\",\"kind\":\"epsilon\",\"window\":86400,\"start\":0}]}",
		"{\"version\":1,\"entries\":[{\"service\":\"a\",\"kind\":\"gold\",\"window\":86400,\"start\":0,\"spent\":1}]}",
		"{\"version\":1,\"entries\":[{\"service\":\"\",\"kind\":\"rate\",\"window\":86400,\"start\":0,\"spent\":1}]}",
		"{\"version\":1,\"entries\":[{\"service\":\"a\",\"kind\":\"rate\",\"window\":0,\"start\":0,\"spent\":1}]}",
		"{\"version\":1,\"entries\":[{\"service\":\"a\",\"kind\":\"rate\",\"window\":1.5,\"start\":0,\"spent\":1}]}",
		"{\"version\":1,\"entries\":[{\"service\":\"a\",\"kind\":\"rate\",\"window\":60,\"start\":-60,\"spent\":1}]}",
		"{\"version\":1,\"entries\":[{\"service\":\"a\",\"kind\":\"rate\",\"window\":60,\"start\":0,\"spent\":1.5}]}",
		"{\"version\":1,\"entries\":[{\"service\":\"a\",\"kind\":\"epsilon\",\"window\":60,\"start\":0,\"spent\":-1}]}",
		"{\"version\":1,\"entries\":[{\"service\":\"a\",\"kind\":\"epsilon\",\"window\":60,\"start\":0,\"spent\":\"1\"}]}",
		"{\"version\":1,\"entries\":[{\"service\":\"a\",\"kind\":\"rate\",\"window\":60,\"start\":0,\"spent\":1},"
		"{\"service\":\"a\",\"kind\":\"rate\",\"window\":60,\"start\":60,\"spent\":0}]}",
	};
	keep = back;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = cJSON_Parse(bad[i]);
		CHECK(p != NULL, "test json %zu", i);
		CHECK(policy_budget_from_json(&back, p) == -EINVAL && !memcmp(&back, &keep, sizeof(back)), "accepted %s",
		      bad[i]);
		cJSON_Delete(p);
	}
	/* too many entries */
	{
		cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "entries");

		cJSON_AddNumberToObject(root, "version", 1);
		for (int i = 0; i <= POLICY_BUDGET_MAX; i++) {
			cJSON *e = cJSON_CreateObject();
			char s[16];

			snprintf(s, sizeof(s), "s%d", i);
			cJSON_AddStringToObject(e, "service", s);
			cJSON_AddStringToObject(e, "kind", "rate");
			cJSON_AddNumberToObject(e, "window", 60);
			cJSON_AddNumberToObject(e, "start", 0);
			cJSON_AddNumberToObject(e, "spent", 1);
			cJSON_AddItemToArray(arr, e);
		}
		CHECK(policy_budget_from_json(&back, root) == -EINVAL, "too many");
		cJSON_Delete(cJSON_DetachItemFromArray(arr, 0));
		CHECK(policy_budget_from_json(&back, root) == 0 && back.n == POLICY_BUDGET_MAX, "exactly max");
		cJSON_Delete(root);
	}
}

static uint64_t seed = 5;

static int rng(void *ctx, void *buf, size_t len)
{
	uint8_t *b = buf;

	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		b[i] = (uint8_t)(seed >> 56);
	}
	return 0;
}

static void test_release_run(void)
{
	struct policy_obligations o = obl("drop(u)", "count by g", "laplace; epsilon = 1", "epsilon 3 per 30d", NULL);
	struct policy_release_ctx ctx = { .rng = rng };
	struct policy_budget_state st, before;
	cJSON *in = cJSON_Parse("[{\"g\":\"a\",\"u\":\"x\"},{\"g\":\"a\",\"u\":\"y\"}]");
	cJSON *badin = cJSON_Parse("[{\"g\":[1]}]");
	cJSON *out;
	char err[128];
	int rc, released = 0;

	policy_budget_init(&st);
	/* a release that cannot be applied charges nothing */
	out = (cJSON *)1;
	rc = policy_release_run(&o, &st, "acme", T0, badin, &ctx, &out, err, sizeof(err));
	CHECK(rc == -EINVAL && !out && st.n == 0, "bad release: %d %s", rc, err);
	for (int i = 0; i < 10; i++) {
		out = (cJSON *)1;
		rc = policy_release_run(&o, &st, "acme", T0 + i, in, &ctx, &out, err, sizeof(err));
		if (rc == 0) {
			CHECK(out && cJSON_GetArraySize(out) == 1, "one group");
			released++;
			cJSON_Delete(out);
		} else {
			CHECK(rc == -EDQUOT && !out && strstr(err, "budget"), "rc %d %s", rc, err);
		}
	}
	CHECK(released == 3, "released %d times on a budget of 3", released);
	before = st;
	out = (cJSON *)1;
	CHECK(policy_release_run(&o, &st, "acme", T0 + 100, in, &ctx, &out, err, sizeof(err)) == -EDQUOT && !out &&
		      !memcmp(&st, &before, sizeof(st)),
	      "spent");
	out = (cJSON *)1;
	CHECK(policy_release_run(&o, &st, "acme", T0 + 31 * DAY, in, &ctx, &out, err, sizeof(err)) == 0 && out,
	      "next window: %s", err);
	cJSON_Delete(out);
	cJSON_Delete(in);
	cJSON_Delete(badin);
}

int main(void)
{
	test_epsilon();
	test_rate_and_windows();
	test_capacity();
	test_json();
	test_release_run();
	printf("test_budget: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
