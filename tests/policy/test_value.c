/*
 * test_value.c: the extension-type parsers (decimal, ip, datetime,
 * duration) and value equality.
 * Assumes value.c's Cedar 4 rules. Leaves out evaluation (test_eval.c).
 */
#include "testutil.h"

static int dec(const char *s, int64_t *v)
{
	return policy_decimal_parse(s, strlen(s), v);
}

static int dt(const char *s, int64_t *v)
{
	return policy_datetime_parse(s, strlen(s), v);
}

static int du(const char *s, int64_t *v)
{
	return policy_duration_parse(s, strlen(s), v);
}

static int ip(const char *s, struct policy_value *v)
{
	return policy_ip_parse(s, strlen(s), v);
}

int main(void)
{
	int64_t v;
	struct policy_value a, b;

	CHECK(!dec("1.5", &v) && v == 15000);
	CHECK(!dec("-0.0001", &v) && v == -1);
	CHECK(!dec("922337203685477.5807", &v) && v == INT64_MAX);
	CHECK(!dec("-922337203685477.5808", &v) && v == INT64_MIN);
	CHECK(dec("922337203685477.5808", &v));
	CHECK(dec("1.", &v) && dec(".5", &v) && dec("1.23456", &v) && dec("1", &v));
	CHECK(dec("+1.0", &v) && dec("1.0 ", &v));

	CHECK(!dt("1970-01-01", &v) && v == 0);
	CHECK(!dt("2024-02-29T12:00:00Z", &v) && v == 1709208000000LL);
	CHECK(!dt("1970-01-01T00:00:00.001+0100", &v) && v == -3599999);
	CHECK(!dt("1969-12-31T23:59:59.999Z", &v) && v == -1);
	CHECK(dt("2023-02-29", &v) && dt("2024-13-01", &v) && dt("2024-01-01T24:00:00Z", &v));
	CHECK(dt("2024-01-01T00:00:00", &v) && dt("2024-01-01T00:00:00.1Z", &v));

	CHECK(!du("1d2h3m4s5ms", &v) && v == 93784005);
	CHECK(!du("-90m", &v) && v == -5400000);
	CHECK(du("1h1d", &v) && du("5", &v) && du("", &v) && du("-", &v) && du("1h1h", &v));
	CHECK(du("9223372036854775807d", &v));

	CHECK(!ip("10.0.0.1", &a) && !a.u.ip.v6 && a.u.ip.prefix == 32);
	CHECK(!ip("10.0.0.1/32", &b) && policy_value_eq(&a, &b));
	CHECK(!ip("10.0.0.0/24", &b) && !policy_value_eq(&a, &b));
	CHECK(!ip("::1", &a) && a.u.ip.v6 && a.u.ip.addr[15] == 1 && a.u.ip.prefix == 128);
	CHECK(!ip("ff02::1/16", &a) && a.u.ip.addr[0] == 0xff && a.u.ip.prefix == 16);
	CHECK(!ip("1:2:3:4:5:6:7:8", &a));
	/* regressions from the differential test: Cedar rejects these */
	CHECK(ip("01.2.3.4", &a) && ip("::ffff:1.2.3.4", &a) && ip("1.2.3.4/33", &a));
	CHECK(ip("1:2:3:4:5:6:7:8:9", &a) && ip(":::1", &a) && ip("1::2::3", &a) && ip("bad", &a));

	if (failures)
		fprintf(stderr, "test_value: %d failures\n", failures);
	return failures != 0;
}
