/*
 * fuzz_parser.c: libFuzzer target for the policy parser (policy text from
 * users) and the .cedarschema parser: any input must give a set or a clear
 * error, never a crash, a leak or undefined behaviour; a set that parsed
 * must also validate against a fixed schema without trouble.
 * Assumes arenas grown by malloc. Leaves out evaluation (fuzz_eval.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *grow(size_t n)
{
	return malloc(n);
}

static void noreport(void *arg, const struct policy *p, int line, int col, const char *msg)
{
	(void)arg;
	(void)p;
	(void)line;
	(void)col;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char schema[] =
		"entity User in [Group] = { name: String, age?: Long, tags: Set<String> };\n"
		"entity Group; entity Photo = { owner: User, ip: ipaddr, score: decimal };\n"
		"action view, edit appliesTo { principal: User, resource: Photo,"
		" context: { n: Long, when: datetime } };";
	struct policy_arena a;
	struct policy_set set;
	struct policy_schema *s;
	struct policy_error err;

	policy_arena_init(&a, NULL, 0);
	a.grow = grow;
	a.release = free;
	if (!policy_set_parse(&set, &a, (const char *)data, size, &err) &&
	    !policy_schema_parse(&s, &a, schema, sizeof(schema) - 1, &err))
		policy_set_validate(&set, s, noreport, NULL);
	policy_schema_parse(&s, &a, (const char *)data, size, &err);
	policy_arena_release(&a);
	return 0;
}
