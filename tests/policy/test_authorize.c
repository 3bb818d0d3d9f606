/*
 * test_authorize.c: the authorizer: forbid overrides permit, default deny,
 * reasons are the determining policies, errors the erroring ones (ignored
 * for the decision); the scope index (1,000 policies, few conditions
 * evaluated) and no allocation on the decision path.
 * Assumes schema-less entities. Leaves out expression semantics.
 */
#include "testutil.h"

static const char *ents =
	"[{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},\"attrs\":{\"n\":1},"
	"\"parents\":[{\"type\":\"Group\",\"id\":\"g\"}]},"
	"{\"uid\":{\"type\":\"Action\",\"id\":\"view\"},\"attrs\":{},"
	"\"parents\":[{\"type\":\"Action\",\"id\":\"read\"}]}]";

int main(void)
{
	struct world w;
	char *big;
	size_t n = 0, cap = 1 << 20;
	int i;

	CHECK(!t_load(&w, NULL,
		      "permit(principal, action, resource);\n"
		      "permit(principal in Group::\"g\", action in Action::\"read\", resource) when { principal.n == 1 };\n"
		      "permit(principal, action, resource) when { principal.nope };\n"
		      "forbid(principal, action == Action::\"edit\", resource);\n",
		      ents));
	CHECK(!t_decide(&w, REQ("alice", "view", "p", "{}")));
	CHECK(w.d.allow && w.d.nreasons == 2 && w.d.reasons[0] == 0 && w.d.reasons[1] == 1);
	CHECK(w.d.nerrors == 1 && w.d.errors[0] == 2);
	CHECK(!t_decide(&w, REQ("alice", "edit", "p", "{}")));
	CHECK(!w.d.allow && w.d.nreasons == 1 && w.d.reasons[0] == 3 && w.d.nerrors == 1);
	t_free(&w);

	/* default deny, and errors never allow */
	CHECK(!t_load(&w, NULL, "permit(principal, action, resource) when { 1 };", ents));
	CHECK(!t_decide(&w, REQ("alice", "view", "p", "{}")));
	CHECK(!w.d.allow && w.d.nreasons == 0 && w.d.nerrors == 1);
	t_free(&w);
	/* a forbid that errors does not deny */
	CHECK(!t_load(&w, NULL, "permit(principal, action, resource);"
				 "forbid(principal, action, resource) when { principal.zz };", ents));
	CHECK(!t_decide(&w, REQ("alice", "view", "p", "{}")));
	CHECK(w.d.allow && w.d.nreasons == 1 && w.d.nerrors == 1 && w.d.errors[0] == 1);
	t_free(&w);
	/* cycles in the hierarchy are rejected (differential regression) */
	CHECK(t_load(&w, NULL, "permit(principal, action, resource);",
		     "[{\"uid\":{\"type\":\"G\",\"id\":\"a\"},\"attrs\":{},\"parents\":[{\"type\":\"G\",\"id\":\"b\"}]},"
		     "{\"uid\":{\"type\":\"G\",\"id\":\"b\"},\"attrs\":{},\"parents\":[{\"type\":\"G\",\"id\":\"a\"}]}]") == -2);
	t_free(&w);

	/* 1,000 policies: the index keeps evaluation to the relevant few */
	big = malloc(cap);
	for (i = 0; i < 1000; i++)
		n += (size_t)snprintf(big + n, cap - n,
				      "permit(principal == User::\"u%d\", action, resource) when { context.k == %d };\n",
				      i, i);
	n += (size_t)snprintf(big + n, cap - n, "forbid(principal, action, resource) when { context.k == -1 };\n");
	CHECK(!t_load(&w, NULL, big, "[]"));
	{
		size_t before = w.a.total, scratch;

		CHECK(!t_decide(&w, "{\"principal\":{\"type\":\"User\",\"id\":\"u500\"},"
				    "\"action\":{\"type\":\"Action\",\"id\":\"v\"},"
				    "\"resource\":{\"type\":\"R\",\"id\":\"r\"},\"context\":{\"k\":500}}"));
		CHECK(w.d.allow && w.d.nreasons == 1 && w.d.reasons[0] == 500);
		CHECK(w.d.evaluated == 2);
		/* the decision itself took nothing from the set's arena */
		before = w.a.total;
		scratch = w.d.scratch.total;
		policy_decide(&w.set, &w.req, &w.d);
		CHECK(w.a.total == before && w.d.scratch.total == scratch);
		CHECK(w.d.allow && w.d.evaluated == 2);
	}
	t_free(&w);
	free(big);
	if (failures)
		fprintf(stderr, "test_authorize: %d failures\n", failures);
	return failures != 0;
}
