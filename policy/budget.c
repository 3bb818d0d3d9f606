/*
 * budget.c: per-service privacy-budget (epsilon) and release-rate accounts
 * over tumbling windows, and their JSON form for the hub to persist.
 *
 * Assumes: times are Unix seconds >= 0; a state is small (POLICY_BUDGET_MAX
 * accounts), so lookups are linear. No I/O; no allocation except cJSON's in
 * the JSON functions.
 * Leaves out: storage, locking (one release at a time), sliding windows.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "cJSON.h"

#include "budget.h"

#define EPS_SLACK 1e-9 /* rounding of repeated additions of epsilon */
#define WINDOW_MAX (10 * 31536000LL)

void policy_budget_init(struct policy_budget_state *st)
{
	memset(st, 0, sizeof(*st));
}

static int find(const struct policy_budget_state *st, const char *service, int kind, int64_t window)
{
	for (uint32_t i = 0; i < st->n; i++)
		if (st->e[i].kind == kind && st->e[i].window == window && !strcmp(st->e[i].service, service))
			return (int)i;
	return -1;
}

static int ended(const struct policy_budget_entry *e, int64_t now)
{
	return now >= e->start + e->window;
}

static double spent_now(const struct policy_budget_state *st, int i, int64_t now)
{
	if (i < 0 || ended(&st->e[i], now))
		return 0;
	return st->e[i].spent; /* also when the clock went back: no refund */
}

static int args_ok(const struct policy_budget_state *st, const char *service,
		   const struct policy_obligations *o, int64_t now)
{
	size_t n;

	if (!st || !service || !o || now < 0 || st->n > POLICY_BUDGET_MAX)
		return 0;
	n = strlen(service);
	return n > 0 && n < POLICY_BUDGET_SERVICE_MAX;
}

int policy_budget_check(const struct policy_budget_state *st, const char *service,
			const struct policy_obligations *o, int64_t now)
{
	double cost;
	uint32_t missing = 0, stale = 0;

	if (!args_ok(st, service, o, now))
		return -EINVAL;
	cost = policy_obligations_epsilon(o);
	if (o->nbudget && !(cost > 0))
		return -EINVAL; /* a budget with nothing noised: refuse */
	for (unsigned i = 0; i < o->nbudget; i++) {
		int k = find(st, service, POLICY_BUDGET_EPSILON, o->budget[i].window);

		if (k < 0)
			missing++;
		if (spent_now(st, k, now) + cost > o->budget[i].limit + EPS_SLACK)
			return -EDQUOT;
	}
	for (unsigned i = 0; i < o->nrate; i++) {
		int k = find(st, service, POLICY_BUDGET_RATE, o->rate[i].window);

		if (k < 0)
			missing++;
		if (spent_now(st, k, now) + 1 > o->rate[i].limit)
			return -EAGAIN;
	}
	for (uint32_t i = 0; i < st->n; i++)
		stale += ended(&st->e[i], now);
	if (missing > POLICY_BUDGET_MAX - st->n + stale)
		return -ENOSPC;
	return 0;
}

/* Forgets accounts whose window has ended (they hold nothing). */
static void evict(struct policy_budget_state *st, int64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->n; i++)
		if (!ended(&st->e[i], now))
			st->e[n++] = st->e[i];
	st->n = n;
}

static void spend(struct policy_budget_state *st, const char *service, int kind, int64_t window,
		  double amount, int64_t now)
{
	int k = find(st, service, kind, window);
	struct policy_budget_entry *e;

	if (k < 0) {
		if (st->n >= POLICY_BUDGET_MAX)
			evict(st, now);
		e = &st->e[st->n++]; /* room checked by policy_budget_check */
		memset(e, 0, sizeof(*e));
		strcpy(e->service, service);
		e->kind = (uint8_t)kind;
		e->window = window;
		e->start = now - now % window;
	} else {
		e = &st->e[k];
		if (ended(e, now)) {
			e->start = now - now % window;
			e->spent = 0;
		}
	}
	e->spent += amount;
}

int policy_budget_charge(struct policy_budget_state *st, const char *service,
			 const struct policy_obligations *o, int64_t now)
{
	double cost;
	int rc = policy_budget_check(st, service, o, now);

	if (rc)
		return rc;
	cost = policy_obligations_epsilon(o);
	for (unsigned i = 0; i < o->nbudget; i++)
		spend(st, service, POLICY_BUDGET_EPSILON, o->budget[i].window, cost, now);
	for (unsigned i = 0; i < o->nrate; i++)
		spend(st, service, POLICY_BUDGET_RATE, o->rate[i].window, 1, now);
	return 0;
}

int policy_budget_remaining(const struct policy_budget_state *st, const char *service,
			    const struct policy_obligations *o, int64_t now, double *left)
{
	double best = INFINITY;

	if (!args_ok(st, service, o, now) || !left)
		return -EINVAL;
	if (!o->nbudget)
		return -ENOENT;
	for (unsigned i = 0; i < o->nbudget; i++) {
		int k = find(st, service, POLICY_BUDGET_EPSILON, o->budget[i].window);
		double l = o->budget[i].limit - spent_now(st, k, now);

		if (l < best)
			best = l;
	}
	*left = best > 0 ? best : 0;
	return 0;
}

int policy_budget_to_json(const struct policy_budget_state *st, cJSON **out)
{
	cJSON *root, *arr;

	if (!st || !out || st->n > POLICY_BUDGET_MAX)
		return -EINVAL;
	*out = NULL;
	root = cJSON_CreateObject();
	if (!root || !cJSON_AddNumberToObject(root, "version", 1) ||
	    !(arr = cJSON_AddArrayToObject(root, "entries")))
		goto nomem;
	for (uint32_t i = 0; i < st->n; i++) {
		const struct policy_budget_entry *e = &st->e[i];
		cJSON *j = cJSON_CreateObject();

		if (!j || !cJSON_AddItemToArray(arr, j)) {
			cJSON_Delete(j);
			goto nomem;
		}
		if (!cJSON_AddStringToObject(j, "service", e->service) ||
		    !cJSON_AddStringToObject(j, "kind", e->kind == POLICY_BUDGET_RATE ? "rate" : "epsilon") ||
		    !cJSON_AddNumberToObject(j, "window", (double)e->window) ||
		    !cJSON_AddNumberToObject(j, "start", (double)e->start) ||
		    !cJSON_AddNumberToObject(j, "spent", e->spent))
			goto nomem;
	}
	*out = root;
	return 0;
nomem:
	cJSON_Delete(root);
	return -ENOMEM;
}

static int get_int(const cJSON *o, const char *name, int64_t lo, int64_t hi, int64_t *v)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble != floor(j->valuedouble) ||
	    j->valuedouble < (double)lo || j->valuedouble > (double)hi)
		return -EINVAL;
	*v = (int64_t)j->valuedouble;
	return 0;
}

int policy_budget_from_json(struct policy_budget_state *st, const cJSON *in)
{
	struct policy_budget_state t;
	const cJSON *arr, *j, *s, *k, *sp;
	int64_t v;

	if (!st || !cJSON_IsObject(in))
		return -EINVAL;
	if (get_int(in, "version", 1, 1, &v))
		return -EINVAL;
	arr = cJSON_GetObjectItemCaseSensitive(in, "entries");
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > POLICY_BUDGET_MAX)
		return -EINVAL;
	policy_budget_init(&t);
	cJSON_ArrayForEach(j, arr) {
		struct policy_budget_entry *e = &t.e[t.n];

		if (!cJSON_IsObject(j))
			return -EINVAL;
		s = cJSON_GetObjectItemCaseSensitive(j, "service");
		k = cJSON_GetObjectItemCaseSensitive(j, "kind");
		sp = cJSON_GetObjectItemCaseSensitive(j, "spent");
		if (!cJSON_IsString(s) || !s->valuestring[0] ||
		    strlen(s->valuestring) >= POLICY_BUDGET_SERVICE_MAX || !cJSON_IsString(k))
			return -EINVAL;
		strcpy(e->service, s->valuestring);
		if (!strcmp(k->valuestring, "epsilon"))
			e->kind = POLICY_BUDGET_EPSILON;
		else if (!strcmp(k->valuestring, "rate"))
			e->kind = POLICY_BUDGET_RATE;
		else
			return -EINVAL;
		if (get_int(j, "window", 1, WINDOW_MAX, &e->window) ||
		    get_int(j, "start", 0, 1LL << 52, &e->start))
			return -EINVAL;
		if (!cJSON_IsNumber(sp) || !isfinite(sp->valuedouble) || sp->valuedouble < 0 ||
		    (e->kind == POLICY_BUDGET_RATE && sp->valuedouble != floor(sp->valuedouble)))
			return -EINVAL;
		e->spent = sp->valuedouble;
		if (find(&t, e->service, e->kind, e->window) >= 0)
			return -EINVAL; /* two accounts for one key */
		t.n++;
	}
	*st = t;
	return 0;
}
