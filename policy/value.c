/*
 * value.c: Cedar values: uids, equality, records, and the parsers of the
 * extension types decimal, ip, datetime and duration (Cedar 4 rules).
 * Assumes UTF-8 byte strings with explicit lengths (they may hold NULs).
 * Leaves out: printing values (the CLI does that).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

uint32_t policy_hash_bytes(const void *p, size_t n, uint32_t h)
{
	const uint8_t *s = p;

	/* FNV-1a */
	while (n--) {
		h ^= *s++;
		h *= 16777619u;
	}
	return h;
}

void policy_uid_hash(struct policy_uid *u)
{
	uint32_t h = policy_hash_bytes(u->type, u->tlen, 2166136261u);

	h = policy_hash_bytes("\0", 1, h);
	u->hash = policy_hash_bytes(u->id, u->ilen, h);
}

bool policy_uid_eq(const struct policy_uid *a, const struct policy_uid *b)
{
	if (a == b)
		return true;
	return a->hash == b->hash && a->tlen == b->tlen && a->ilen == b->ilen &&
	       memcmp(a->type, b->type, a->tlen) == 0 &&
	       memcmp(a->id, b->id, a->ilen) == 0;
}

int policy_keycmp(const char *a, uint32_t an, const char *b, uint32_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

char *policy_strdup(struct policy_arena *a, const char *s, size_t n)
{
	char *p = policy_arena_alloc(a, n + 1);

	if (p && n)
		memcpy(p, s, n);
	return p;
}

const struct policy_value *policy_record_get(const struct policy_value *rec,
					     const char *key, uint32_t klen)
{
	uint32_t lo = 0, hi = rec->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct policy_field *f = &rec->u.rec[mid];
		int c = policy_keycmp(f->key, f->klen, key, klen);

		if (c == 0)
			return &f->v;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int policy_record_sort(struct policy_field *f, uint32_t n)
{
	uint32_t i, j;

	/* insertion sort: records are small, and this runs at load time */
	for (i = 1; i < n; i++) {
		struct policy_field t = f[i];

		for (j = i; j > 0 && policy_keycmp(f[j - 1].key, f[j - 1].klen,
						   t.key, t.klen) > 0; j--)
			f[j] = f[j - 1];
		f[j] = t;
	}
	for (i = 1; i < n; i++)
		if (!policy_keycmp(f[i - 1].key, f[i - 1].klen, f[i].key, f[i].klen))
			return -EEXIST;
	return 0;
}

static bool set_has(const struct policy_value *set, const struct policy_value *v)
{
	uint32_t i;

	for (i = 0; i < set->n; i++)
		if (policy_value_eq(&set->u.set[i], v))
			return true;
	return false;
}

/* Depth is bounded by the values' own nesting (limited when they are built). */
bool policy_value_eq(const struct policy_value *a, const struct policy_value *b)
{
	uint32_t i;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case PV_BOOL:
		return a->u.b == b->u.b;
	case PV_LONG:
	case PV_DECIMAL:
	case PV_DATETIME:
	case PV_DURATION:
		return a->u.l == b->u.l;
	case PV_STRING:
		return a->n == b->n && !memcmp(a->u.s, b->u.s, a->n);
	case PV_ENTITY:
		return policy_uid_eq(a->u.uid, b->u.uid);
	case PV_IP:
		return a->u.ip.v6 == b->u.ip.v6 && a->u.ip.prefix == b->u.ip.prefix &&
		       !memcmp(a->u.ip.addr, b->u.ip.addr, 16);
	case PV_SET:
		for (i = 0; i < a->n; i++)
			if (!set_has(b, &a->u.set[i]))
				return false;
		for (i = 0; i < b->n; i++)
			if (!set_has(a, &b->u.set[i]))
				return false;
		return true;
	case PV_RECORD:
		if (a->n != b->n)
			return false;
		for (i = 0; i < a->n; i++) {
			const struct policy_field *x = &a->u.rec[i], *y = &b->u.rec[i];

			if (policy_keycmp(x->key, x->klen, y->key, y->klen) ||
			    !policy_value_eq(&x->v, &y->v))
				return false;
		}
		return true;
	}
	return false;
}

static bool isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* decimal: -?digits.digits(1..4), value * 10^4 must fit an int64 */
int policy_decimal_parse(const char *s, size_t n, int64_t *out)
{
	size_t i = 0, fd = 0;
	bool neg = false, any = false;
	int64_t v = 0;

	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	for (; i < n && isdig(s[i]); i++) {
		int d = s[i] - '0';

		any = true;
		if (v > (INT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (!any || i >= n || s[i] != '.')
		return -EINVAL;
	/* work with negative accumulation to reach INT64_MIN */
	v = -v;
	for (i++; i < n && isdig(s[i]); i++, fd++) {
		if (fd >= 4)
			return -EINVAL;
		if (v < (INT64_MIN + (s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 - (s[i] - '0');
	}
	if (fd == 0 || i != n)
		return -EINVAL;
	for (; fd < 4; fd++) {
		if (v < INT64_MIN / 10)
			return -EINVAL;
		v *= 10;
	}
	if (!neg) {
		if (v == INT64_MIN)
			return -EINVAL;
		v = -v;
	}
	*out = v;
	return 0;
}

static int parse_v4(const char *s, size_t n, uint8_t *addr)
{
	size_t i = 0;
	int k;

	for (k = 0; k < 4; k++) {
		size_t st = i;
		int v = 0;

		if (k > 0) {
			if (i >= n || s[i] != '.')
				return -EINVAL;
			st = ++i;
		}
		while (i < n && isdig(s[i]) && i - st < 4)
			v = v * 10 + (s[i++] - '0');
		if (i == st || i - st > 3 || v > 255 || (s[st] == '0' && i - st > 1))
			return -EINVAL;
		addr[k] = (uint8_t)v;
	}
	return i == n ? 0 : -EINVAL;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_v6(const char *s, size_t n, uint8_t *addr)
{
	uint16_t head[8], tail[8];
	int nh = 0, nt = 0, k;
	bool gap = false;
	size_t i = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = true;
		i = 2;
	} else if (n >= 1 && s[0] == ':') {
		return -EINVAL;
	}
	while (i < n) {
		size_t st = i;
		unsigned v = 0;

		while (i < n && hexv(s[i]) >= 0 && i - st < 5)
			v = v * 16 + (unsigned)hexv(s[i++]);
		if (i == st || i - st > 4)
			return -EINVAL;
		if (nh + nt >= 8)
			return -EINVAL;
		if (gap)
			tail[nt++] = (uint16_t)v;
		else
			head[nh++] = (uint16_t)v;
		if (i == n)
			break;
		if (s[i] != ':')
			return -EINVAL; /* includes embedded IPv4 */
		i++;
		if (i < n && s[i] == ':') {
			if (gap)
				return -EINVAL;
			gap = true;
			i++;
		} else if (i == n) {
			return -EINVAL;
		}
	}
	if (gap ? nh + nt > 7 : nh != 8)
		return -EINVAL;
	memset(addr, 0, 16);
	for (k = 0; k < nh; k++) {
		addr[2 * k] = head[k] >> 8;
		addr[2 * k + 1] = head[k] & 0xff;
	}
	for (k = 0; k < nt; k++) {
		addr[16 - 2 * (nt - k)] = tail[k] >> 8;
		addr[16 - 2 * (nt - k) + 1] = tail[k] & 0xff;
	}
	return 0;
}

int policy_ip_parse(const char *s, size_t n, struct policy_value *out)
{
	size_t slash = n, i;
	bool v6 = false;
	int max, prefix;

	for (i = 0; i < n; i++) {
		if (s[i] == '/' && slash == n)
			slash = i;
		if (s[i] == ':')
			v6 = true;
	}
	memset(out, 0, sizeof(*out));
	out->type = PV_IP;
	out->u.ip.v6 = v6;
	if ((v6 ? parse_v6(s, slash, out->u.ip.addr) : parse_v4(s, slash, out->u.ip.addr)))
		return -EINVAL;
	max = v6 ? 128 : 32;
	prefix = max;
	if (slash < n) {
		size_t st = slash + 1;

		if (st == n || n - st > 3)
			return -EINVAL;
		prefix = 0;
		for (i = st; i < n; i++) {
			if (!isdig(s[i]))
				return -EINVAL;
			prefix = prefix * 10 + (s[i] - '0');
		}
		if ((s[st] == '0' && n - st > 1) || prefix > max)
			return -EINVAL;
	}
	out->u.ip.prefix = (uint8_t)prefix;
	return 0;
}

static int digits(const char *s, size_t n, size_t *i, int cnt, int *v)
{
	int k;

	*v = 0;
	for (k = 0; k < cnt; k++, (*i)++) {
		if (*i >= n || !isdig(s[*i]))
			return -EINVAL;
		*v = *v * 10 + (s[*i] - '0');
	}
	return 0;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int mdays(int y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : md[m - 1];
}

int policy_datetime_parse(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	int y, mo, d, h = 0, mi = 0, se = 0, ms = 0, oh = 0, om = 0, sign = 0;
	int64_t t;

	if (digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' ||
	    digits(s, n, &i, 2, &mo) || i >= n || s[i++] != '-' ||
	    digits(s, n, &i, 2, &d))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo))
		return -EINVAL;
	if (i < n) {
		if (s[i++] != 'T' || digits(s, n, &i, 2, &h) || i >= n ||
		    s[i++] != ':' || digits(s, n, &i, 2, &mi) || i >= n ||
		    s[i++] != ':' || digits(s, n, &i, 2, &se))
			return -EINVAL;
		if (h > 23 || mi > 59 || se > 59)
			return -EINVAL;
		if (i < n && s[i] == '.') {
			i++;
			if (digits(s, n, &i, 3, &ms))
				return -EINVAL;
		}
		if (i >= n)
			return -EINVAL;
		if (s[i] == 'Z') {
			i++;
		} else if (s[i] == '+' || s[i] == '-') {
			sign = s[i++] == '+' ? 1 : -1;
			if (digits(s, n, &i, 2, &oh) || digits(s, n, &i, 2, &om))
				return -EINVAL;
			if (oh > 23 || om > 59)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		if (i != n)
			return -EINVAL;
	}
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	t -= sign * (oh * 3600 + om * 60);
	*out = t * 1000 + ms;
	return 0;
}

int policy_duration_parse(const char *s, size_t n, int64_t *out)
{
	static const int64_t unit_ms[] = { 86400000, 3600000, 60000, 1000, 1 };
	size_t i = 0;
	int last = -1, u;
	bool neg = false;
	int64_t total = 0;

	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i == n)
		return -EINVAL;
	while (i < n) {
		int64_t v = 0, part;
		size_t st = i;

		for (; i < n && isdig(s[i]); i++) {
			if (v > (INT64_MAX - (s[i] - '0')) / 10)
				return -EINVAL;
			v = v * 10 + (s[i] - '0');
		}
		if (i == st || i >= n)
			return -EINVAL;
		switch (s[i]) {
		case 'd': u = 0; i++; break;
		case 'h': u = 1; i++; break;
		case 's': u = 3; i++; break;
		case 'm':
			if (i + 1 < n && s[i + 1] == 's') {
				u = 4;
				i += 2;
			} else {
				u = 2;
				i++;
			}
			break;
		default:
			return -EINVAL;
		}
		if (u <= last)
			return -EINVAL;
		last = u;
		if (__builtin_mul_overflow(v, unit_ms[u], &part))
			return -EINVAL;
		if (neg)
			part = -part;
		if (__builtin_add_overflow(total, part, &total))
			return -EINVAL;
	}
	*out = total;
	return 0;
}
