/*
 * test_parser.c: policy text: ids policy0.., scopes, annotations kept with
 * the position of their value, parse errors with line:column, templates
 * rejected, and obligations parsed (or rejected with line:column) at load.
 * Assumes obligations.c is linked (HAVE_OBLIGATIONS) for the last part.
 * Leaves out evaluation (test_eval.c).
 */
#include "testutil.h"

static int parse(const char *txt, struct policy_set *set, struct policy_arena *a,
		 struct policy_error *err)
{
	t_arena(a);
	return policy_set_parse(set, a, txt, strlen(txt), err);
}

int main(void)
{
	struct policy_arena a;
	struct policy_set set;
	struct policy_error err;
	const struct policy *p;

	CHECK(!parse("// c\npermit(principal, action, resource);\n"
		     "@id(\"x\") @ask(\"owner\")\n@flag\n"
		     "forbid(principal == User::\"a\", action in [Action::\"v\", NS::Action::\"w\"],"
		     " resource is Photo in Album::\"b\") when { true } unless { false };",
		     &set, &a, &err));
	CHECK(set.count == 2);
	p = set.policies[1];
	CHECK(!strcmp(set.policies[0]->id, "policy0") && !strcmp(p->id, "policy1"));
	CHECK(p->effect == POLICY_FORBID && p->principal.op == SCOPE_EQ);
	CHECK(p->action.op == SCOPE_IN_LIST && p->action.nlist == 2);
	CHECK(p->resource.op == SCOPE_IS_IN && p->resource.tlen == 5);
	CHECK(p->nannos == 3 && !strcmp(p->annos[1].key, "ask") &&
	      !strcmp(p->annos[1].value, "owner") && p->annos[1].line == 3 && p->annos[1].col == 15);
	CHECK(!strcmp(p->annos[2].key, "flag") && p->annos[2].vlen == 0);
	CHECK(p->cond && p->cond->nargs == 2);
	CHECK(!p->obligations); /* forbid: annotations are not obligations */
	policy_arena_release(&a);

	CHECK(parse("permit(principal, action, resource)\nwhen { 1 + };", &set, &a, &err) == -EINVAL);
	CHECK(err.line == 2 && err.col == 12);
	policy_arena_release(&a);
	CHECK(parse("permit(principal, action == User::\"x\", resource);", &set, &a, &err));
	policy_arena_release(&a);
	CHECK(parse("permit(principal == ?principal, action, resource);", &set, &a, &err));
	policy_arena_release(&a);
	CHECK(parse("permit(principal, action, resource) when { a < b < c };", &set, &a, &err));
	policy_arena_release(&a);
	CHECK(parse("@a(\"1\") @a(\"2\") permit(principal, action, resource);", &set, &a, &err));
	policy_arena_release(&a);
	CHECK(parse("permit(principal, action, resource) when { \"unterminated };", &set, &a, &err));
	policy_arena_release(&a);
	CHECK(parse("permit(principal in [User::\"a\"], action, resource);", &set, &a, &err));
	policy_arena_release(&a);
	CHECK(parse("permit(principal, action, resource) when { };", &set, &a, &err));
	policy_arena_release(&a);
	CHECK(!parse("", &set, &a, &err) && set.count == 0);
	policy_arena_release(&a);

#ifdef HAVE_OBLIGATIONS
	CHECK(!parse("@transform(\"drop(title); generalize(time, day)\")\n@ask(\"owner\")\n"
		     "permit(principal, action, resource);", &set, &a, &err));
	CHECK(set.count == 1 && set.policies[0]->obligations);
	policy_arena_release(&a);
	/* a bad obligation: rejected with the line:column inside the value */
	CHECK(parse("permit(principal, action, resource);\n"
		    "@noise(\"laplace; epsilon = zz\")\npermit(principal, action, resource);",
		    &set, &a, &err) == -EINVAL);
	CHECK(err.line == 2 && err.col > 8 && err.col < 32);
	CHECK(strstr(err.msg, "obligation") != NULL);
	policy_arena_release(&a);
	CHECK(parse("@ask(\"nobody\") permit(principal, action, resource);", &set, &a, &err));
	CHECK(err.line == 1 && err.col >= 6);
	policy_arena_release(&a);
#endif
	if (failures)
		fprintf(stderr, "test_parser: %d failures\n", failures);
	return failures != 0;
}
