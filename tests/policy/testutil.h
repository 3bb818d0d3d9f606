/*
 * testutil.h: helpers for the policy unit tests: CHECK, an arena backed by
 * malloc, and one-call parse/decide over policy text and JSON.
 * Assumes a host build (stdio, malloc) with cJSON linked in.
 * Leaves out: everything not shared by at least two tests.
 */
#ifndef HEARTH_POLICY_TESTUTIL_H
#define HEARTH_POLICY_TESTUTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "internal.h"
#include "policy.h"

static int failures;

#define CHECK(c)                                                                     \
	do {                                                                         \
		if (!(c)) {                                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
			failures++;                                                  \
		}                                                                    \
	} while (0)

static void *t_grow(size_t n)
{
	return malloc(n);
}

static inline void t_arena(struct policy_arena *a)
{
	policy_arena_init(a, NULL, 0);
	a->grow = t_grow;
	a->release = free;
}

struct world {
	struct policy_arena a;
	struct policy_set set;
	struct policy_entities es;
	struct policy_schema *schema;
	struct policy_request req;
	struct policy_decision d;
	void *dbuf;
	struct policy_error err;
};

/* 0 ok; -1 policies, -2 entities, -3 request, -4 schema failed to load */
static inline int t_load(struct world *w, const char *schema, const char *pol, const char *ents)
{
	memset(w, 0, sizeof(*w));
	t_arena(&w->a);
	if (schema && policy_schema_parse(&w->schema, &w->a, schema, strlen(schema), &w->err))
		return -4;
	if (policy_set_parse(&w->set, &w->a, pol, strlen(pol), &w->err))
		return -1;
	if (policy_entities_parse_json(&w->es, &w->a, ents, strlen(ents), w->schema, &w->err))
		return -2;
	w->dbuf = malloc(1 << 20);
	if (policy_decision_init(&w->d, w->dbuf, 1 << 20, w->set.count + 1))
		return -5;
	return 0;
}

/* req: {"principal":..,"action":..,"resource":..,"context":..} */
static inline int t_decide(struct world *w, const char *req)
{
	cJSON *j = cJSON_Parse(req);
	int r = -3;

	if (!j)
		return -3;
	memset(&w->req, 0, sizeof(w->req));
	if (!policy_uid_from_cjson(&w->req.principal, &w->a, cJSON_GetObjectItem(j, "principal"), &w->err) &&
	    !policy_uid_from_cjson(&w->req.action, &w->a, cJSON_GetObjectItem(j, "action"), &w->err) &&
	    !policy_uid_from_cjson(&w->req.resource, &w->a, cJSON_GetObjectItem(j, "resource"), &w->err) &&
	    !policy_context_from_cjson(&w->req.context, &w->a, cJSON_GetObjectItem(j, "context"),
				       w->schema, &w->req.action, &w->err)) {
		w->req.entities = &w->es;
		r = policy_decide(&w->set, &w->req, &w->d);
	}
	cJSON_Delete(j);
	return r;
}

static inline void t_free(struct world *w)
{
	free(w->dbuf);
	policy_arena_release(&w->a);
}

#define REQ(p, a, r, ctx)                                                          \
	"{\"principal\":{\"type\":\"User\",\"id\":\"" p "\"},"                      \
	"\"action\":{\"type\":\"Action\",\"id\":\"" a "\"},"                       \
	"\"resource\":{\"type\":\"Photo\",\"id\":\"" r "\"},\"context\":" ctx "}"

#endif
