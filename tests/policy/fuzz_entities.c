/*
 * fuzz_entities.c: libFuzzer target for the JSON entity parser (through
 * cJSON), with and without a schema, and for contexts.
 * Assumes arenas grown by malloc. Leaves out policies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *grow(size_t n)
{
	return malloc(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char schema[] =
		"entity User in [Group] = { name: String, age?: Long, boss?: User, tags: Set<String> };\n"
		"entity Group; entity Photo = { ip: ipaddr, score: decimal } tags Long;\n"
		"action view appliesTo { principal: User, resource: Photo,"
		" context: { n?: Long, when?: datetime, d?: duration } };";
	struct policy_arena a;
	struct policy_entities es;
	struct policy_schema *s = NULL;
	struct policy_error err;
	struct policy_value v;
	struct policy_uid act = { "Action", "view", 6, 4, 0 };
	cJSON *j;

	policy_arena_init(&a, NULL, 0);
	a.grow = grow;
	a.release = free;
	policy_uid_hash(&act);
	policy_entities_parse_json(&es, &a, (const char *)data, size, NULL, &err);
	if (!policy_schema_parse(&s, &a, schema, sizeof(schema) - 1, &err))
		policy_entities_parse_json(&es, &a, (const char *)data, size, s, &err);
	j = cJSON_ParseWithLength((const char *)data, size);
	if (j) {
		policy_context_from_cjson(&v, &a, j, NULL, NULL, &err);
		if (s)
			policy_context_from_cjson(&v, &a, j, s, &act, &err);
		cJSON_Delete(j);
	}
	policy_arena_release(&a);
	return 0;
}
