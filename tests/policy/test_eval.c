/*
 * test_eval.c: expression semantics, one condition at a time, including
 * every mismatch the differential test against cedar-wasm has found.
 * Assumes the schema-less entity store below. Leaves out scope matching
 * and decisions over several policies (test_authorize.c).
 */
#include "testutil.h"

static const char *ents =
	"[{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},\"attrs\":{\"age\":30,"
	"\"name\":\"Alice\",\"tags\":[\"a\",\"b\"],\"rec\":{\"x\":1},"
	"\"boss\":{\"__entity\":{\"type\":\"User\",\"id\":\"bob\"}},"
	"\"ip\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.1.2.3\"}}},"
	"\"parents\":[{\"type\":\"Group\",\"id\":\"g\"}],\"tags\":{\"t\":\"v\"}},"
	"{\"uid\":{\"type\":\"Group\",\"id\":\"g\"},\"attrs\":{},"
	"\"parents\":[{\"type\":\"Group\",\"id\":\"top\"}]}]";

/* 1 true, 0 false, -1 evaluation error, -2 parse error */
static int ev(const char *cond)
{
	struct world w;
	char pol[8192];
	int r;

	snprintf(pol, sizeof(pol), "permit(principal, action, resource) when { %s };", cond);
	r = t_load(&w, NULL, pol, ents);
	if (r == -1) {
		t_free(&w);
		return -2;
	}
	if (r || t_decide(&w, REQ("alice", "view", "p", "{\"n\":5}"))) {
		t_free(&w);
		return -3;
	}
	r = w.d.nerrors ? -1 : w.d.allow;
	t_free(&w);
	return r;
}

int main(void)
{
	/* literals, arithmetic, overflow */
	CHECK(ev("1 + 2 * 3 == 7") == 1);
	CHECK(ev("9223372036854775807 + 1 == 0") == -1);
	CHECK(ev("-9223372036854775808 == -9223372036854775807 - 1") == 1);
	CHECK(ev("9223372036854775808 == 0") == -2);
	CHECK(ev("-(-9223372036854775808) == 0") == -1);
	CHECK(ev("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3") == 1);
	CHECK(ev("1 < \"a\"") == -1);
	/* short circuit and errors */
	CHECK(ev("false && (1 + true)") == 0);
	CHECK(ev("true || (1 + true)") == 1);
	CHECK(ev("true && 1") == -1);
	CHECK(ev("if 1 then true else false") == -1);
	CHECK(ev("if false then 1 + true else true") == 1);
	/* unary operators do not mix (differential regression) */
	CHECK(ev("!-1") == -2);
	CHECK(ev("-!true") == -2);
	CHECK(ev("--1 == 1") == 1);
	CHECK(ev("-----1 == -1") == -2);
	CHECK(ev("!!!!!true") == -2);
	/* equality across types is false, never an error */
	CHECK(ev("1 == \"1\"") == 0);
	CHECK(ev("[1, 2] == [2, 1, 1]") == 1);
	CHECK(ev("{a: 1, b: [2]} == {b: [2], a: 1}") == 1);
	/* attributes and has */
	CHECK(ev("principal.age == 30 && principal[\"name\"] == \"Alice\"") == 1);
	CHECK(ev("principal.nope == 1") == -1);
	CHECK(ev("principal has nope") == 0);
	CHECK(ev("principal has rec.x && !(principal has rec.y)") == 1);
	CHECK(ev("principal has age.x") == -1);
	CHECK(ev("User::\"ghost\" has x") == 0);
	CHECK(ev("User::\"ghost\".x == 1") == -1);
	CHECK(ev("principal.boss == User::\"bob\"") == 1);
	CHECK(ev("context.n == 5") == 1);
	CHECK(ev("principal has if") == -2);
	/* in, is */
	CHECK(ev("principal in Group::\"top\"") == 1);
	CHECK(ev("principal in [Group::\"x\", Group::\"g\"]") == 1);
	CHECK(ev("principal in [principal, 1]") == -1);
	CHECK(ev("principal in 1") == -1);
	CHECK(ev("Group::\"g\" in principal") == 0);
	CHECK(ev("principal is User && !(principal is Group)") == 1);
	CHECK(ev("principal is User in Group::\"g\"") == 1);
	CHECK(ev("principal is Group in (1 + true)") == 0);
	/* like */
	CHECK(ev("\"abc\" like \"a*c\" && \"a*c\" like \"a\\*c\" && !(\"abc\" like \"a\\*c\")") == 1);
	CHECK(ev("\"\" like \"*\" && \"xyz\" like \"*y*\" && !(\"xyz\" like \"*y\")") == 1);
	CHECK(ev("1 like \"*\"") == -1);
	/* sets */
	CHECK(ev("principal.tags.contains(\"a\") && principal.tags.containsAll([\"b\"])") == 1);
	CHECK(ev("principal.tags.containsAny([\"z\"]) || [].isEmpty()") == 1);
	CHECK(ev("1.contains(1)") == -2 || ev("1.contains(1)") == -1);
	CHECK(ev("[1].containsAll(1)") == -1);
	/* tags */
	CHECK(ev("principal.hasTag(\"t\") && principal.getTag(\"t\") == \"v\"") == 1);
	CHECK(ev("principal.getTag(\"u\") == \"v\"") == -1);
	CHECK(ev("User::\"ghost\".hasTag(\"t\")") == 0);
	/* extensions */
	CHECK(ev("principal.ip.isInRange(ip(\"10.0.0.0/8\")) && ip(\"127.0.0.1\").isLoopback()") == 1);
	CHECK(ev("ip(\"ff02::1\").isMulticast() && ip(\"::1\").isIpv6() && !ip(\"::1\").isIpv4()") == 1);
	CHECK(ev("ip(\"10.0.0.1\") == ip(\"10.0.0.1/32\")") == 1);
	CHECK(ev("ip(\"10.0.0.1/24\") == ip(\"10.0.0.0/24\")") == 0);
	CHECK(ev("ip(\"bad\") == ip(\"bad\")") == -1);
	CHECK(ev("decimal(\"1.5\").lessThan(decimal(\"1.50001\"))") == -1);
	CHECK(ev("decimal(\"1.5\").lessThan(decimal(\"1.5001\"))") == 1);
	CHECK(ev("decimal(\"1.0\") < decimal(\"2.0\")") == -1);
	CHECK(ev("datetime(\"2024-01-01\") < datetime(\"2024-01-02\")") == 1);
	CHECK(ev("datetime(\"2024-01-01\").offset(duration(\"1d\")) == datetime(\"2024-01-02\")") == 1);
	CHECK(ev("datetime(\"2024-01-02\").durationSince(datetime(\"2024-01-01\")) == duration(\"24h\")") == 1);
	CHECK(ev("datetime(\"1969-12-31T23:00:00Z\").toDate() == datetime(\"1969-12-31\")") == 1);
	CHECK(ev("datetime(\"1969-12-31T23:00:00Z\").toTime() == duration(\"23h\")") == 1);
	CHECK(ev("duration(\"-90m\").toHours() == -1 && duration(\"1d2h\").toDays() == 1") == 1);
	CHECK(ev("duration(\"1h\") < duration(\"2h\")") == 1);
	CHECK(ev("datetime(\"2024-01-01\") < duration(\"2h\")") == -1);
	CHECK(ev("ip(\"1.2.3.4\", \"x\")") == -2);
	CHECK(ev("lessThan(decimal(\"1.0\"), decimal(\"2.0\"))") == -2);
	CHECK(ev("nosuch(1)") == -2);
	/* records and strings */
	CHECK(ev("{a: 1, a: 2} == {}") == -2);
	CHECK(ev("\"\\u{e9}\" == \"é\" && \"a\\nb\" like \"a*b\"") == 1);
	CHECK(ev("\"\\q\" == \"\"") == -2);
	/* depth limits: a clear parse error, never a crash */
	{
		char deep[4096];
		int i, n = 0;

		for (i = 0; i < 300; i++)
			deep[n++] = '(';
		deep[n++] = '1';
		for (i = 0; i < 300; i++)
			deep[n++] = ')';
		deep[n] = 0;
		CHECK(ev(deep) == -2);
		n = 0;
		for (i = 0; i < 500; i++)
			n += snprintf(deep + n, sizeof(deep) - (size_t)n, "1+");
		snprintf(deep + n, sizeof(deep) - (size_t)n, "1 == 1");
		CHECK(ev(deep) == -2);
		n = 0;
		for (i = 0; i < 400; i++)
			n += snprintf(deep + n, sizeof(deep) - (size_t)n, "true&&");
		snprintf(deep + n, sizeof(deep) - (size_t)n, "true");
		CHECK(ev(deep) == 1); /* long && chains are flat */
	}
	if (failures)
		fprintf(stderr, "test_eval: %d failures\n", failures);
	return failures != 0;
}
