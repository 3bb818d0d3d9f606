/*
 * test_schema.c: the .cedarschema parser (namespaces, common types, action
 * groups, optional attributes, tags, enums) and strict validation with
 * line:column errors, including Hearth's own policy/hearth.cedarschema.
 * Assumes the tests run from the repository root (for hearth.cedarschema).
 * Leaves out JSON schemas (not supported).
 */
#include "testutil.h"

struct errs {
	int n;
	int line[16], col[16];
	char msg[16][POLICY_ERRLEN];
};

static void rep(void *arg, const struct policy *p, int line, int col, const char *msg)
{
	struct errs *e = arg;

	(void)p;
	if (e->n < 16) {
		e->line[e->n] = line;
		e->col[e->n] = col;
		snprintf(e->msg[e->n], POLICY_ERRLEN, "%s", msg);
	}
	e->n++;
}

static const char *schema =
	"namespace App {\n"
	"  type Addr = { city: String, zip?: String };\n"
	"  entity Group;\n"
	"  entity User in [Group] = { name: String, addr: Addr, age?: Long } tags String;\n"
	"  entity Color enum [\"red\", \"green\"];\n"
	"  entity Doc = { owner: User, readers: Set<User>, level: Long };\n"
	"  action read, write in [\"all\"] appliesTo { principal: User, resource: Doc,\n"
	"    context: { ip: ipaddr, when: datetime } };\n"
	"  action all;\n"
	"}\n";

static int check(const char *pol, struct errs *e)
{
	struct world w;
	int r;

	memset(e, 0, sizeof(*e));
	memset(&w, 0, sizeof(w));
	t_arena(&w.a);
	if (policy_schema_parse(&w.schema, &w.a, schema, strlen(schema), &w.err)) {
		fprintf(stderr, "schema: %d:%d: %s\n", w.err.line, w.err.col, w.err.msg);
		policy_arena_release(&w.a);
		return -100;
	}
	if (policy_set_parse(&w.set, &w.a, pol, strlen(pol), &w.err)) {
		policy_arena_release(&w.a);
		return -200;
	}
	r = policy_set_validate(&w.set, w.schema, rep, e);
	policy_arena_release(&w.a);
	return r;
}

int main(void)
{
	struct errs e;
	struct policy_arena a;
	struct policy_schema *s;
	struct policy_error err;
	char *txt;
	long len;
	FILE *f;

	CHECK(check("permit(principal, action == App::Action::\"read\", resource)\n"
		    "when { principal.name == \"x\" && principal.addr.city like \"B*\" &&\n"
		    " resource.readers.contains(principal) && principal in App::Group::\"g\" &&\n"
		    " context.ip.isInRange(ip(\"10.0.0.0/8\")) && resource.level + 1 > 2 };",
		    &e) == 0);
	CHECK(check("permit(principal, action in App::Action::\"all\", resource) when {\n"
		    "  principal has age && principal.age > 1 && (if principal.addr has zip then principal.addr.zip == \"1\" else true)\n"
		    "  && principal.hasTag(\"t\") && principal.getTag(\"t\") == \"v\" };", &e) == 0);
	/* errors with line:column */
	CHECK(check("permit(principal, action, resource)\nwhen { principal.nope == 1 };", &e) == 1);
	CHECK(e.line[0] == 2 && e.col[0] == 18 && strstr(e.msg[0], "nope"));
	CHECK(check("permit(principal, action, resource)\nwhen { principal.age > 1 };", &e) == 1);
	CHECK(e.line[0] == 2 && strstr(e.msg[0], "optional"));
	CHECK(check("permit(principal, action, resource) when { principal.name + 1 == 2 };", &e) == 1);
	CHECK(check("permit(principal, action, resource) when { [1, \"a\"].isEmpty() };", &e) == 1);
	CHECK(check("permit(principal, action, resource) when { 1 == \"a\" };", &e) == 1);
	CHECK(check("permit(principal == App::Nope::\"x\", action, resource);", &e) == 1);
	CHECK(check("permit(principal, action == App::Action::\"fly\", resource);", &e) == 1);
	CHECK(check("permit(principal, action, resource) when { context.ip > 1 };", &e) == 1);
	CHECK(check("permit(principal, action, resource) when { principal.getTag(\"t\") == \"v\" };", &e) == 1);
	CHECK(check("permit(principal, action, resource) when { 1 };", &e) == 1);
	CHECK(check("permit(principal, action, resource) when { ip(\"bad\").isIpv4() };", &e) == 1);
	CHECK(check("permit(principal, action, resource) when { (if true then 1 else \"a\") == 1 };", &e) == 0);
	CHECK(check("permit(principal, action, resource) when { (if context.ip.isIpv4() then 1 else \"a\") == 1 };", &e) == 1);

	/* schema syntax errors come with line:column */
	t_arena(&a);
	CHECK(policy_schema_parse(&s, &a, "entity A;\nentity B = { x: Nope };", 33, &err) == -EINVAL);
	CHECK(err.line == 2 && err.col == 17);
	CHECK(policy_schema_parse(&s, &a, "entity A\nentity B;", 18, &err) == -EINVAL && err.line == 2);
	CHECK(policy_schema_parse(&s, &a, "type T = T; entity A = { t: T };", 32, &err) == -EINVAL);
	policy_arena_release(&a);

	/* Hearth's own schema parses, and a typical Hearth policy validates */
	f = fopen("policy/hearth.cedarschema", "rb");
	CHECK(f != NULL);
	if (f) {
		struct policy_set set;
		const char *pol =
			"@transform(\"drop(title); generalize(time, day)\")\n"
			"permit(principal == Hearth::Service::\"acme-recs\", action == Hearth::Action::\"share\",\n"
			"  resource in Hearth::Category::\"viewing\")\n"
			"when { context.purpose == \"recommendation\" && context.consent &&\n"
			"  context.budget_left.greaterThan(decimal(\"0.5\")) &&\n"
			"  context.now.toTime() < duration(\"22h\") };\n"
			"forbid(principal, action, resource in Hearth::Category::\"health\")\n"
			"unless { principal.trusted };\n";

		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		txt = malloc((size_t)len + 1);
		CHECK(fread(txt, 1, (size_t)len, f) == (size_t)len);
		fclose(f);
		t_arena(&a);
		CHECK(!policy_schema_parse(&s, &a, txt, (size_t)len, &err));
		if (err.msg[0])
			fprintf(stderr, "hearth.cedarschema:%d:%d: %s\n", err.line, err.col, err.msg);
		CHECK(!policy_set_parse(&set, &a, pol, strlen(pol), &err));
		memset(&e, 0, sizeof(e));
		CHECK(policy_set_validate(&set, s, rep, &e) == 0);
		if (e.n)
			fprintf(stderr, "%d:%d: %s\n", e.line[0], e.col[0], e.msg[0]);
		policy_arena_release(&a);
		free(txt);
	}
	if (failures)
		fprintf(stderr, "test_schema: %d failures\n", failures);
	return failures != 0;
}
