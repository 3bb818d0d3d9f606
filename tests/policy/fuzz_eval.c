/*
 * fuzz_eval.c: libFuzzer target for the evaluator: the input is a policy
 * set, decided against fixed entities and a few requests; any outcome is
 * fine, but no crash, no undefined behaviour, and the same decision twice
 * (decisions are deterministic).
 * Assumes arenas grown by malloc. Leaves out entity parsing (fuzz_entities).
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ents[] =
		"[{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},\"attrs\":{\"age\":30,\"name\":\"A\","
		"\"tags\":[\"a\",1],\"rec\":{\"x\":{\"y\":true}},\"ip\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.0.0.1\"}},"
		"\"boss\":{\"__entity\":{\"type\":\"User\",\"id\":\"bob\"}}},"
		"\"parents\":[{\"type\":\"Group\",\"id\":\"g\"}],\"tags\":{\"t\":\"v\"}},"
		"{\"uid\":{\"type\":\"Group\",\"id\":\"g\"},\"attrs\":{},\"parents\":[{\"type\":\"Group\",\"id\":\"top\"}]},"
		"{\"uid\":{\"type\":\"Action\",\"id\":\"view\"},\"attrs\":{},\"parents\":[{\"type\":\"Action\",\"id\":\"read\"}]}]";
	static uint8_t dbuf[1 << 18];
	struct policy_arena a;
	struct policy_set set;
	struct policy_entities es;
	struct policy_error err;
	struct policy_request req;
	struct policy_decision d;
	static const struct policy_field nofields[1];
	int i;

	policy_arena_init(&a, NULL, 0);
	a.grow = grow;
	a.release = free;
	if (policy_set_parse(&set, &a, (const char *)data, size, &err) ||
	    policy_entities_parse_json(&es, &a, ents, sizeof(ents) - 1, NULL, &err) ||
	    policy_decision_init(&d, dbuf, sizeof(dbuf), set.count + 1)) {
		policy_arena_release(&a);
		return 0;
	}
	memset(&req, 0, sizeof(req));
	req.principal = (struct policy_uid){ "User", "alice", 4, 5, 0 };
	req.action = (struct policy_uid){ "Action", "view", 6, 4, 0 };
	req.resource = (struct policy_uid){ "Group", "g", 5, 1, 0 };
	policy_uid_hash(&req.principal);
	policy_uid_hash(&req.action);
	policy_uid_hash(&req.resource);
	req.context.type = PV_RECORD;
	req.context.u.rec = nofields;
	req.entities = &es;
	for (i = 0; i < 2; i++) {
		bool allow;
		uint32_t nr, ne;

		policy_decide(&set, &req, &d);
		allow = d.allow;
		nr = d.nreasons;
		ne = d.nerrors;
		policy_decide(&set, &req, &d);
		if (allow != d.allow || nr != d.nreasons || ne != d.nerrors)
			abort();
		req.principal = req.resource;
	}
	policy_arena_release(&a);
	return 0;
}
