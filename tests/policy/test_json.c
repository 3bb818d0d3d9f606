/*
 * test_json.c: Cedar's JSON formats: __entity / __extn escapes, implicit
 * uids, duplicates, and schema-based parsing (strings to decimal/ip,
 * {"type","id"} to entities, undeclared or missing attributes rejected).
 * Assumes json.c over cJSON. Leaves out request files (the CLI's part).
 */
#include "testutil.h"

static const char *schema =
	"entity User = { name: String, score?: decimal, addr?: ipaddr, boss?: User,"
	" when?: datetime, tags?: Set<String> };\n"
	"entity Photo;\n"
	"action view appliesTo { principal: User, resource: Photo,"
	" context: { budget_left: decimal, consent: Bool } };\n";

int main(void)
{
	struct world w;

	CHECK(!t_load(&w, NULL, "permit(principal, action, resource) when {"
				 " principal.s.greaterThan(decimal(\"1.0\")) && principal.b == User::\"bob\" };",
		      "[{\"uid\":{\"__entity\":{\"type\":\"User\",\"id\":\"alice\"}},"
		      "\"attrs\":{\"s\":{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"1.5\"}},"
		      "\"b\":{\"__entity\":{\"type\":\"User\",\"id\":\"bob\"}}},\"parents\":[]}]"));
	CHECK(!t_decide(&w, REQ("alice", "view", "p", "{}")) && w.d.allow);
	t_free(&w);
	/* without a schema {"type","id"} in attrs is a record */
	CHECK(!t_load(&w, NULL, "permit(principal, action, resource) when { principal.b.id == \"x\" };",
		      "[{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},"
		      "\"attrs\":{\"b\":{\"type\":\"User\",\"id\":\"x\"}},\"parents\":[]}]"));
	CHECK(!t_decide(&w, REQ("alice", "view", "p", "{}")) && w.d.allow);
	t_free(&w);
	/* duplicates, floats, bad escapes */
	CHECK(t_load(&w, NULL, "", "[{\"uid\":{\"type\":\"U\",\"id\":\"a\"}},{\"uid\":{\"type\":\"U\",\"id\":\"a\"}}]") == -2);
	t_free(&w);
	CHECK(t_load(&w, NULL, "", "[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{\"x\":1.5}}]") == -2);
	t_free(&w);
	CHECK(t_load(&w, NULL, "", "[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{\"x\":{\"__expr\":\"1\"}}}]") == -2);
	t_free(&w);
	CHECK(t_load(&w, NULL, "", "[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{\"x\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"nope\"}}}}]") == -2);
	t_free(&w);
	CHECK(t_load(&w, NULL, "", "{}") == -2);
	t_free(&w);

	/* schema-based parsing */
	CHECK(!t_load(&w, schema,
		      "permit(principal, action, resource) when { principal.score.greaterThan(decimal(\"0.5\"))"
		      " && principal.addr.isLoopback() && principal.boss == User::\"bob\""
		      " && principal.when < datetime(\"2025-01-01\")"
		      " && context.budget_left.greaterThan(decimal(\"0.1\")) && context.consent };",
		      "[{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},\"attrs\":{\"name\":\"A\",\"score\":\"0.75\","
		      "\"addr\":\"127.0.0.1\",\"boss\":{\"type\":\"User\",\"id\":\"bob\"},"
		      "\"when\":\"2024-06-01\"},\"parents\":[]}]"));
	CHECK(!t_decide(&w, REQ("alice", "view", "p", "{\"budget_left\":\"0.25\",\"consent\":true}")));
	CHECK(w.d.allow && w.d.nerrors == 0);
	CHECK(t_decide(&w, REQ("alice", "view", "p", "{\"budget_left\":\"x\",\"consent\":true}")) == -3);
	CHECK(t_decide(&w, REQ("alice", "view", "p", "{\"consent\":true}")) == -3);
	CHECK(t_decide(&w, REQ("alice", "view", "p", "{\"budget_left\":\"1.0\",\"consent\":true,\"z\":1}")) == -3);
	t_free(&w);
	CHECK(t_load(&w, schema, "", "[{\"uid\":{\"type\":\"User\",\"id\":\"a\"},\"attrs\":{}}]") == -2);
	t_free(&w);
	CHECK(t_load(&w, schema, "", "[{\"uid\":{\"type\":\"User\",\"id\":\"a\"},\"attrs\":{\"name\":\"n\",\"zz\":1}}]") == -2);
	t_free(&w);
	CHECK(t_load(&w, schema, "", "[{\"uid\":{\"type\":\"Nope\",\"id\":\"a\"},\"attrs\":{}}]") == -2);
	t_free(&w);
	if (failures)
		fprintf(stderr, "test_json: %d failures\n", failures);
	return failures != 0;
}
