/*
 * budget.h: privacy-budget and release-rate accounting for Hearth's @budget
 * and @rate obligations: epsilon spent (and releases made) per service per
 * tumbling window, as pure functions over a fixed-size state the hub
 * persists (to and from JSON).
 *
 * Assumes: the caller passes the current time in Unix seconds (>= 0) and
 * persists the state after every successful charge, before releasing.
 * Windows are aligned to multiples of their length since the Unix epoch.
 * Leaves out: where the state is stored (hub/store), sliding windows, and
 * budgets shared across services (the service string is the accounting key;
 * the hub may pass "service/category" for a finer key).
 */
#ifndef HEARTH_POLICY_BUDGET_H
#define HEARTH_POLICY_BUDGET_H

#include <stdint.h>

#include "obligations.h"

struct cJSON;

#define POLICY_BUDGET_MAX 64	      /* accounts (service, kind, window) */
#define POLICY_BUDGET_SERVICE_MAX 128 /* a service key, with its NUL */

enum policy_budget_kind {
	POLICY_BUDGET_EPSILON = 1, /* @budget: epsilon spent */
	POLICY_BUDGET_RATE,	   /* @rate: releases made */
};

struct policy_budget_entry {
	char service[POLICY_BUDGET_SERVICE_MAX];
	uint8_t kind;	/* enum policy_budget_kind */
	int64_t window; /* seconds */
	int64_t start;	/* start of the window spent refers to */
	double spent;
};

struct policy_budget_state {
	uint32_t n;
	struct policy_budget_entry e[POLICY_BUDGET_MAX];
};

/* ---- budget.c ------------------------------------------------------------- */

void policy_budget_init(struct policy_budget_state *st);

/*
 * May service make one release under o at time now? Checks every @budget
 * (spent + policy_obligations_epsilon(o) <= limit) and every @rate of o in
 * its current window. 0 yes; -EDQUOT a budget is spent; -EAGAIN a rate is
 * reached; -ENOSPC the state is full; -EINVAL bad arguments.
 */
int policy_budget_check(const struct policy_budget_state *st, const char *service,
			const struct policy_obligations *o, int64_t now);

/* Checks as policy_budget_check and, on 0, records the release in st; on
 * error st is unchanged. A window that has ended starts again from 0; a
 * clock that went back keeps the current window (never refunds). */
int policy_budget_charge(struct policy_budget_state *st, const char *service,
			 const struct policy_obligations *o, int64_t now);

/* Epsilon service may still spend now under o (the smallest over its
 * budgets), for the decision context. 0, or -ENOENT if o has no @budget. */
int policy_budget_remaining(const struct policy_budget_state *st, const char *service,
			    const struct policy_obligations *o, int64_t now, double *left);

/* The state as {"version":1,"entries":[{"service","kind":"epsilon"|"rate",
 * "window","start","spent"}...]}; *out is new (cJSON_Delete). 0 or -ENOMEM. */
int policy_budget_to_json(const struct policy_budget_state *st, struct cJSON **out);
/* Parses that form strictly into st (all or nothing: st unchanged on error).
 * 0 or -EINVAL. */
int policy_budget_from_json(struct policy_budget_state *st, const struct cJSON *in);

#endif /* HEARTH_POLICY_BUDGET_H */
