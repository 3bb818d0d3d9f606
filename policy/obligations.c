/*
 * obligations.c: the parser of Hearth's obligation annotations (@transform,
 * @aggregate, @noise, @budget, @ask, @rate), their composition (the stricter
 * wins) and the load-time check against a category's fields.
 *
 * Assumes: values are NUL-terminated, at most POLICY_OBL_VALUE_MAX bytes,
 * already unescaped from their Cedar string literal; the C locale (strtod).
 * Leaves out: applying the obligations (transform.c, noise.c) and budget
 * accounting (budget.c). No I/O, no allocation; the largest stack use is
 * three struct policy_obligations (about 2 KB each) when parsing.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obligations.h"

/* ---- lexer ---------------------------------------------------------------- */

enum tok { T_END, T_ID, T_NUM, T_LP, T_RP, T_COMMA, T_SEMI, T_EQ, T_GE };

struct lex {
	const char *s;
	size_t len, pos;
	int src;
	/* current token */
	int t;
	size_t off, tlen;
	double num;
	/* error report */
	size_t *eoff;
	char *err;
	size_t errlen;
};

static int fail(struct lex *lx, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct lex *lx, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (lx->eoff)
		*lx->eoff = off;
	if (lx->err && lx->errlen) {
		va_start(ap, fmt);
		vsnprintf(lx->err, lx->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int lex_number(struct lex *lx)
{
	const char *s = lx->s;
	size_t p = lx->pos, start = p;
	char buf[40];

	if (s[p] == '-')
		p++;
	if (!is_digit(s[p]))
		return fail(lx, start, "expected a number");
	while (is_digit(s[p]))
		p++;
	if (s[p] == '.') {
		p++;
		if (!is_digit(s[p]))
			return fail(lx, p, "expected a digit after '.'");
		while (is_digit(s[p]))
			p++;
	}
	if ((s[p] == 'e' || s[p] == 'E') &&
	    (is_digit(s[p + 1]) || ((s[p + 1] == '-' || s[p + 1] == '+') && is_digit(s[p + 2])))) {
		p += 2;
		while (is_digit(s[p]))
			p++;
	}
	if (p - start >= sizeof(buf))
		return fail(lx, start, "number too long");
	memcpy(buf, s + start, p - start);
	buf[p - start] = '\0';
	lx->num = strtod(buf, NULL);
	if (!isfinite(lx->num))
		return fail(lx, start, "number out of range");
	lx->t = T_NUM;
	lx->off = start;
	lx->tlen = p - start;
	lx->pos = p;
	return 0;
}

/* Moves to the next token; 0 or -EINVAL on a character no token starts with. */
static int next(struct lex *lx)
{
	const char *s = lx->s;
	size_t p = lx->pos;

	while (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r')
		p++;
	lx->pos = p;
	lx->off = p;
	lx->tlen = 1;
	if (!s[p]) {
		lx->t = T_END;
		lx->tlen = 0;
		return 0;
	}
	if (is_alpha(s[p])) {
		while (is_alpha(s[p]) || is_digit(s[p]) || s[p] == '-')
			p++;
		lx->t = T_ID;
		lx->tlen = p - lx->pos;
		lx->pos = p;
		return 0;
	}
	if (is_digit(s[p]) || (s[p] == '-' && is_digit(s[p + 1])) || (s[p] == '.' && is_digit(s[p + 1])))
		return s[p] == '.' ? fail(lx, p, "a number starts with a digit") : lex_number(lx);
	lx->pos = p + 1;
	switch (s[p]) {
	case '(':
		lx->t = T_LP;
		return 0;
	case ')':
		lx->t = T_RP;
		return 0;
	case ',':
		lx->t = T_COMMA;
		return 0;
	case ';':
		lx->t = T_SEMI;
		return 0;
	case '=':
		lx->t = T_EQ;
		return 0;
	case '>':
		if (s[p + 1] == '=') {
			lx->pos = p + 2;
			lx->t = T_GE;
			lx->tlen = 2;
			return 0;
		}
		break;
	}
	if ((unsigned char)s[p] < 0x20 || (unsigned char)s[p] >= 0x7f)
		return fail(lx, p, "unexpected byte 0x%02x", (unsigned char)s[p]);
	return fail(lx, p, "unexpected character '%c'", s[p]);
}

static int is_word(const struct lex *lx, const char *w)
{
	size_t n = strlen(w);

	return lx->t == T_ID && lx->tlen == n && !memcmp(lx->s + lx->off, w, n);
}

static const char *tok_name(const struct lex *lx)
{
	switch (lx->t) {
	case T_END:
		return "end of value";
	case T_ID:
		return "a name";
	case T_NUM:
		return "a number";
	case T_LP:
		return "'('";
	case T_RP:
		return "')'";
	case T_COMMA:
		return "','";
	case T_SEMI:
		return "';'";
	case T_EQ:
		return "'='";
	default:
		return "'>='";
	}
}

static int expect(struct lex *lx, int t, const char *what)
{
	if (lx->t != t)
		return fail(lx, lx->off, "expected %s, found %s", what, tok_name(lx));
	return next(lx);
}

/* A copy of lx moved to the next token, reporting no error; 0 or -EINVAL. */
static int lookahead(const struct lex *lx, struct lex *c)
{
	*c = *lx;
	c->eoff = NULL;
	c->err = NULL;
	c->errlen = 0;
	return next(c);
}

/* Peeks at the token after the current one (-1 if none lexes). */
static int peek(const struct lex *lx)
{
	struct lex c;

	if (lookahead(lx, &c))
		return -1;
	return c.t;
}

static int get_name(struct lex *lx, struct policy_obl_name *n, const char *what)
{
	if (lx->t != T_ID)
		return fail(lx, lx->off, "expected %s, found %s", what, tok_name(lx));
	if (lx->tlen >= POLICY_OBL_NAME_MAX)
		return fail(lx, lx->off, "field name too long (max %d bytes)", POLICY_OBL_NAME_MAX - 1);
	memset(n, 0, sizeof(*n));
	memcpy(n->name, lx->s + lx->off, lx->tlen);
	n->src = (uint8_t)lx->src;
	n->offset = (uint16_t)lx->off;
	return next(lx);
}

static int get_num(struct lex *lx, double lo, double hi, bool integer, double *v, const char *what)
{
	if (lx->t != T_NUM)
		return fail(lx, lx->off, "expected %s, found %s", what, tok_name(lx));
	if (lx->num < lo || lx->num > hi || (integer && lx->num != floor(lx->num))) {
		if (integer)
			return fail(lx, lx->off, "%s must be an integer in [%.0f, %.0f]", what, lo, hi);
		return fail(lx, lx->off, "%s must be in [%g, %g]", what, lo, hi);
	}
	*v = lx->num;
	return next(lx);
}

/* ---- merging helpers (shared by the parser and compose) ------------------ */

static struct policy_obl_field *field_find(struct policy_obligations *o, const char *name)
{
	for (unsigned i = 0; i < o->nfields; i++)
		if (!strcmp(o->fields[i].f.name, name))
			return &o->fields[i];
	return NULL;
}

static const struct policy_obl_field *field_cfind(const struct policy_obligations *o,
						   const char *name)
{
	for (unsigned i = 0; i < o->nfields; i++)
		if (!strcmp(o->fields[i].f.name, name))
			return &o->fields[i];
	return NULL;
}

/* Finds or adds the rule of a field; NULL when the table is full. */
static struct policy_obl_field *field_get(struct policy_obligations *o,
					  const struct policy_obl_name *n)
{
	struct policy_obl_field *f = field_find(o, n->name);

	if (f)
		return f;
	if (o->nfields >= POLICY_OBL_MAX_FIELDS)
		return NULL;
	f = &o->fields[o->nfields++];
	memset(f, 0, sizeof(*f));
	f->f = *n;
	return f;
}

/* Two generalizations of one field: the coarser; of different kinds: drop. */
static void merge_gen(struct policy_obl_field *f, uint8_t gen, double arg)
{
	if (gen == POLICY_GEN_NONE)
		return;
	if (f->gen == POLICY_GEN_NONE) {
		f->gen = gen;
		f->gen_arg = arg;
		return;
	}
	if (f->gen != gen) {
		f->actions |= POLICY_OBL_DROP;
		return;
	}
	switch (gen) {
	case POLICY_GEN_TIME:
	case POLICY_GEN_BUCKET:
		if (arg > f->gen_arg)
			f->gen_arg = arg;
		break;
	default: /* precision, prefix: fewer digits or characters */
		if (arg < f->gen_arg)
			f->gen_arg = arg;
		break;
	}
}

static bool name_in(const struct policy_obl_name *v, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return true;
	return false;
}

static int window_add(struct policy_obl_window *w, uint8_t *n, double limit, int64_t window)
{
	for (unsigned i = 0; i < *n; i++) {
		if (w[i].window == window) {
			if (limit < w[i].limit)
				w[i].limit = limit;
			return 0;
		}
	}
	if (*n >= POLICY_OBL_MAX_WINDOWS)
		return -EINVAL;
	w[*n].limit = limit;
	w[*n].window = window;
	(*n)++;
	return 0;
}

/* ---- @transform ----------------------------------------------------------- */

static int parse_fieldlist(struct lex *lx, struct policy_obligations *o, uint8_t bits)
{
	struct policy_obl_name n;
	struct policy_obl_field *f;
	int rc;

	for (;;) {
		size_t off = lx->off;

		rc = get_name(lx, &n, "a field name");
		if (rc)
			return rc;
		f = field_get(o, &n);
		if (!f)
			return fail(lx, off, "too many fields (max %d per policy)", POLICY_OBL_MAX_FIELDS);
		f->actions |= bits;
		if (lx->t != T_COMMA)
			return 0;
		rc = next(lx);
		if (rc)
			return rc;
	}
}

static int parse_generalize(struct lex *lx, struct policy_obligations *o)
{
	static const char *const units[] = { "", "hour", "day", "week", "month", "year" };
	struct policy_obl_name n;
	struct policy_obl_field *f;
	size_t foff = lx->off, off;
	uint8_t gen = POLICY_GEN_NONE;
	double arg = 0;
	int rc;

	rc = get_name(lx, &n, "a field name");
	if (!rc)
		rc = expect(lx, T_COMMA, "',' and a granularity");
	if (rc)
		return rc;
	off = lx->off;
	for (unsigned u = POLICY_TIME_HOUR; u <= POLICY_TIME_YEAR; u++) {
		if (is_word(lx, units[u])) {
			gen = POLICY_GEN_TIME;
			arg = u;
			rc = next(lx);
			break;
		}
	}
	if (gen != POLICY_GEN_NONE) {
		/* a time unit */
	} else if (is_word(lx, "precision")) {
		gen = POLICY_GEN_PRECISION;
		rc = next(lx);
		if (!rc)
			rc = get_num(lx, 0, 8, true, &arg, "the precision (decimal digits)");
	} else if (is_word(lx, "bucket")) {
		gen = POLICY_GEN_BUCKET;
		rc = next(lx);
		if (!rc && lx->t == T_NUM && !(lx->num > 0))
			return fail(lx, lx->off, "the bucket width must be > 0");
		if (!rc)
			rc = get_num(lx, 0, 1e15, false, &arg, "the bucket width");
	} else if (is_word(lx, "prefix")) {
		gen = POLICY_GEN_PREFIX;
		rc = next(lx);
		if (!rc)
			rc = get_num(lx, 0, 256, true, &arg, "the prefix length");
	} else {
		return fail(lx, off,
			    "unknown granularity (expected hour, day, week, month, year, "
			    "precision N, bucket W or prefix N)");
	}
	if (rc)
		return rc;
	f = field_get(o, &n);
	if (!f)
		return fail(lx, foff, "too many fields (max %d per policy)", POLICY_OBL_MAX_FIELDS);
	merge_gen(f, gen, arg);
	return 0;
}

static int parse_transform(struct lex *lx, struct policy_obligations *o)
{
	int rc, steps = 0;

	for (;;) {
		size_t off = lx->off;
		double v;

		if (lx->t == T_END) {
			if (!steps)
				return fail(lx, off, "empty @transform: expected a step such as drop(field)");
			return 0;
		}
		if (lx->t != T_ID)
			return fail(lx, off, "expected a transform, found %s", tok_name(lx));
		if (is_word(lx, "drop") || is_word(lx, "redact") || is_word(lx, "pseudonymize") ||
		    is_word(lx, "keep")) {
			uint8_t bits = is_word(lx, "drop")	   ? POLICY_OBL_DROP
				       : is_word(lx, "redact") ? POLICY_OBL_REDACT
				       : is_word(lx, "keep")   ? POLICY_OBL_KEEP
							       : POLICY_OBL_PSEUDO;

			if (bits == POLICY_OBL_KEEP) {
				if (o->has_keep)
					return fail(lx, off, "keep(...) given twice");
				o->has_keep = true;
			}
			rc = next(lx);
			if (!rc)
				rc = expect(lx, T_LP, "'('");
			if (!rc)
				rc = parse_fieldlist(lx, o, bits);
		} else if (is_word(lx, "generalize")) {
			rc = next(lx);
			if (!rc)
				rc = expect(lx, T_LP, "'('");
			if (!rc)
				rc = parse_generalize(lx, o);
		} else if (is_word(lx, "sample")) {
			rc = next(lx);
			if (!rc)
				rc = expect(lx, T_LP, "'('");
			if (!rc && lx->t == T_NUM && !(lx->num > 0))
				return fail(lx, lx->off, "the sampling rate must be in (0, 1]");
			if (!rc)
				rc = get_num(lx, 0, 1, false, &v, "the sampling rate");
			if (!rc && (o->sample == 0 || v < o->sample)) {
				o->sample = v;
				o->sample_offset = (uint16_t)off;
			}
		} else if (is_word(lx, "limit")) {
			rc = next(lx);
			if (!rc)
				rc = expect(lx, T_LP, "'('");
			if (!rc)
				rc = get_num(lx, 1, POLICY_OBL_MAX_LIMIT, true, &v, "the limit");
			if (!rc && (o->limit == 0 || v < o->limit)) {
				o->limit = (uint32_t)v;
				o->limit_offset = (uint16_t)off;
			}
		} else {
			return fail(lx, off,
				    "unknown transform '%.*s' (expected drop, redact, keep, generalize, "
				    "pseudonymize, sample or limit)",
				    (int)(lx->tlen > 40 ? 40 : lx->tlen), lx->s + lx->off);
		}
		if (!rc)
			rc = expect(lx, T_RP, "')'");
		if (rc)
			return rc;
		steps++;
		if (lx->t == T_END)
			continue;
		rc = expect(lx, T_SEMI, "';' between transforms");
		if (rc)
			return rc;
	}
}

/* ---- @aggregate ----------------------------------------------------------- */

static int parse_aggregate(struct lex *lx, struct policy_obligations *o)
{
	int rc;
	double k = 1;
	bool have_k = false;

	o->aggregate = true;
	for (;;) {
		size_t off = lx->off;
		struct policy_obl_aggfn a;

		memset(&a, 0, sizeof(a));
		if (is_word(lx, "count")) {
			a.fn = POLICY_AGG_COUNT;
			a.f.src = (uint8_t)lx->src;
			a.f.offset = (uint16_t)off;
			rc = next(lx);
		} else if (is_word(lx, "sum") || is_word(lx, "mean")) {
			a.fn = is_word(lx, "sum") ? POLICY_AGG_SUM : POLICY_AGG_MEAN;
			rc = next(lx);
			if (!rc)
				rc = expect(lx, T_LP, "'('");
			if (!rc)
				rc = get_name(lx, &a.f, "a field name");
			if (!rc)
				rc = expect(lx, T_RP, "')'");
		} else {
			return fail(lx, off, "expected an aggregate function (count, sum(field), mean(field))");
		}
		if (rc)
			return rc;
		for (unsigned i = 0; i < o->nagg; i++)
			if (o->agg[i].fn == a.fn && !strcmp(o->agg[i].f.name, a.f.name))
				return fail(lx, off, "aggregate function given twice");
		if (o->nagg >= POLICY_OBL_MAX_AGG)
			return fail(lx, off, "too many aggregate functions (max %d)", POLICY_OBL_MAX_AGG);
		o->agg[o->nagg++] = a;
		if (lx->t != T_COMMA)
			break;
		rc = next(lx);
		if (rc)
			return rc;
	}
	if (is_word(lx, "by")) {
		rc = next(lx);
		if (rc)
			return rc;
		for (;;) {
			size_t off = lx->off;
			struct policy_obl_name n;

			rc = get_name(lx, &n, "a field to group by");
			if (rc)
				return rc;
			if (name_in(o->group, o->ngroup, n.name))
				return fail(lx, off, "group field given twice");
			if (o->ngroup >= POLICY_OBL_MAX_GROUP)
				return fail(lx, off, "too many group fields (max %d)", POLICY_OBL_MAX_GROUP);
			o->group[o->ngroup++] = n;
			if (lx->t != T_COMMA)
				break;
			/* "by genre, k >= 5": a comma may also start the k clause */
			{
				struct lex c;

				if (lookahead(lx, &c) == 0 && is_word(&c, "k") && peek(&c) == T_GE)
					break;
			}
			rc = next(lx);
			if (rc)
				return rc;
		}
	}
	while (lx->t == T_SEMI || lx->t == T_COMMA) {
		rc = next(lx);
		if (rc)
			return rc;
		if (lx->t == T_END)
			break;
		if (!is_word(lx, "k"))
			return fail(lx, lx->off, "expected 'k >= N', found %s", tok_name(lx));
		if (have_k)
			return fail(lx, lx->off, "k given twice");
		have_k = true;
		rc = next(lx);
		if (!rc)
			rc = expect(lx, T_GE, "'>='");
		if (!rc)
			rc = get_num(lx, 1, POLICY_OBL_MAX_LIMIT, true, &k, "k");
		if (rc)
			return rc;
	}
	if (lx->t != T_END)
		return fail(lx, lx->off, "expected 'by', ';' or end of value, found %s", tok_name(lx));
	o->k = (uint32_t)k;
	return 0;
}

/* ---- @noise --------------------------------------------------------------- */

static int parse_noise(struct lex *lx, struct policy_obligations *o)
{
	bool have_eps = false, have_sens = false, have_fields = false;
	double v;
	int rc;

	if (!is_word(lx, "laplace"))
		return fail(lx, lx->off, "expected a mechanism ('laplace')");
	o->noise = true;
	o->sensitivity = 1;
	o->noise_offset = (uint16_t)lx->off;
	rc = next(lx);
	if (rc)
		return rc;
	while (lx->t == T_SEMI || lx->t == T_COMMA) {
		size_t off;

		rc = next(lx);
		if (rc)
			return rc;
		off = lx->off;
		if (lx->t == T_END)
			break;
		if (is_word(lx, "epsilon") || is_word(lx, "sensitivity")) {
			bool eps = is_word(lx, "epsilon");

			if (eps ? have_eps : have_sens)
				return fail(lx, off, "%s given twice", eps ? "epsilon" : "sensitivity");
			rc = next(lx);
			if (!rc)
				rc = expect(lx, T_EQ, "'='");
			if (!rc && lx->t == T_NUM && !(lx->num > 0))
				return fail(lx, lx->off, "%s must be > 0", eps ? "epsilon" : "sensitivity");
			if (!rc)
				rc = get_num(lx, 0, eps ? 100 : 1e12, false, &v, eps ? "epsilon" : "sensitivity");
			if (rc)
				return rc;
			if (eps) {
				o->epsilon = v;
				have_eps = true;
			} else {
				o->sensitivity = v;
				have_sens = true;
			}
		} else if (is_word(lx, "fields")) {
			if (have_fields)
				return fail(lx, off, "fields given twice");
			have_fields = true;
			rc = next(lx);
			if (!rc)
				rc = expect(lx, T_EQ, "'='");
			while (!rc) {
				struct policy_obl_name n;
				size_t noff = lx->off;

				rc = get_name(lx, &n, "a field name");
				if (rc)
					return rc;
				if (name_in(o->noise_fields, o->nnoise, n.name))
					return fail(lx, noff, "field given twice");
				if (o->nnoise >= POLICY_OBL_MAX_NOISE)
					return fail(lx, noff, "too many noised fields (max %d)", POLICY_OBL_MAX_NOISE);
				o->noise_fields[o->nnoise++] = n;
				if (lx->t != T_COMMA)
					break;
				{
					/* "fields = a, b, epsilon = 1": stop before "name =" */
					struct lex c;

					if (lookahead(lx, &c) == 0 && c.t == T_ID && peek(&c) == T_EQ)
						break;
				}
				rc = next(lx);
			}
			if (rc)
				return rc;
		} else {
			return fail(lx, off, "expected epsilon = X, sensitivity = X or fields = a, b");
		}
	}
	if (lx->t != T_END)
		return fail(lx, lx->off, "expected ';' or end of value, found %s", tok_name(lx));
	if (!have_eps)
		return fail(lx, lx->off, "@noise needs 'epsilon = X'");
	return 0;
}

/* ---- @budget, @rate, @ask ------------------------------------------------- */

/* "[N] unit": a window in seconds. */
static int parse_duration(struct lex *lx, int64_t *secs)
{
	static const struct {
		const char *w;
		int64_t s;
	} units[] = {
		{ "s", 1 },	       { "sec", 1 },	      { "second", 1 },	    { "seconds", 1 },
		{ "min", 60 },	       { "minute", 60 },      { "minutes", 60 },    { "h", 3600 },
		{ "hour", 3600 },      { "hours", 3600 },     { "d", 86400 },	    { "day", 86400 },
		{ "days", 86400 },     { "w", 604800 },	      { "week", 604800 },   { "weeks", 604800 },
		{ "month", 2592000 },  { "months", 2592000 }, { "y", 31536000 },    { "year", 31536000 },
		{ "years", 31536000 },
	};
	double n = 1;
	size_t off = lx->off;
	int rc;

	if (lx->t == T_NUM) {
		rc = get_num(lx, 1, 100000, true, &n, "the window length");
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (is_word(lx, units[i].w)) {
			*secs = (int64_t)n * units[i].s;
			if (*secs > 10 * 31536000LL)
				return fail(lx, off, "window longer than 10 years");
			return next(lx);
		}
	}
	return fail(lx, lx->off, "expected a time unit (s, min, h, d, w, month, y or hour, day, ...)");
}

static int parse_budget(struct lex *lx, struct policy_obligations *o)
{
	double eps;
	int64_t win;
	size_t off = lx->off;
	int rc;

	if (!is_word(lx, "epsilon"))
		return fail(lx, lx->off, "expected 'epsilon X per WINDOW'");
	rc = next(lx);
	if (!rc && lx->t == T_NUM && !(lx->num > 0))
		return fail(lx, lx->off, "the budget must be > 0");
	if (!rc)
		rc = get_num(lx, 0, 1000, false, &eps, "the epsilon budget");
	if (!rc && !is_word(lx, "per"))
		return fail(lx, lx->off, "expected 'per' and a window, found %s", tok_name(lx));
	if (!rc)
		rc = next(lx);
	if (!rc)
		rc = parse_duration(lx, &win);
	if (!rc && lx->t == T_SEMI)
		rc = next(lx);
	if (rc)
		return rc;
	if (lx->t != T_END)
		return fail(lx, lx->off, "expected end of value, found %s", tok_name(lx));
	o->budget_offset = (uint16_t)off;
	return window_add(o->budget, &o->nbudget, eps, win);
}

static int parse_rate(struct lex *lx, struct policy_obligations *o)
{
	double n;
	int64_t win;
	int rc;

	rc = get_num(lx, 1, POLICY_OBL_MAX_LIMIT, true, &n, "a number of releases");
	if (!rc && !is_word(lx, "per"))
		return fail(lx, lx->off, "expected 'per' and a window, found %s", tok_name(lx));
	if (!rc)
		rc = next(lx);
	if (!rc)
		rc = parse_duration(lx, &win);
	if (!rc && lx->t == T_SEMI)
		rc = next(lx);
	if (rc)
		return rc;
	if (lx->t != T_END)
		return fail(lx, lx->off, "expected end of value, found %s", tok_name(lx));
	return window_add(o->rate, &o->nrate, n, win);
}

static int parse_ask(struct lex *lx, struct policy_obligations *o)
{
	int rc;

	if (!is_word(lx, "owner"))
		return fail(lx, lx->off, "expected 'owner' (the only one who can be asked)");
	o->ask = 2;
	rc = next(lx);
	if (!rc && (lx->t == T_SEMI || lx->t == T_COMMA))
		rc = next(lx);
	if (rc)
		return rc;
	if (is_word(lx, "once")) {
		o->ask = 1;
		rc = next(lx);
	} else if (is_word(lx, "always")) {
		rc = next(lx);
	}
	if (rc)
		return rc;
	if (lx->t != T_END)
		return fail(lx, lx->off, "expected 'once', 'always' or end of value, found %s",
			    tok_name(lx));
	return 0;
}

/* ---- public --------------------------------------------------------------- */

void policy_obligations_init(struct policy_obligations *o)
{
	memset(o, 0, sizeof(*o));
}

bool policy_obligations_empty(const struct policy_obligations *o)
{
	return !o->conflict && !o->has_keep && !o->nfields && !o->sample && !o->limit &&
	       !o->aggregate && !o->noise && !o->nbudget && !o->nrate && !o->ask;
}

const char *policy_obligation_src_name(int src)
{
	static const char *const names[] = { "", "transform", "aggregate", "noise", "budget", "ask", "rate" };

	if (src < 0 || src > POLICY_OBL_SRC_RATE)
		return "";
	return names[src];
}

int policy_obligation_parse(const char *key, const char *value, struct policy_obligations *out,
			    size_t *err_offset, char *err, size_t errlen)
{
	struct policy_obligations tmp, merged;
	struct lex lx;
	size_t len;
	int src, rc;

	if (!key || !value || !out)
		return -EINVAL;
	for (src = POLICY_OBL_SRC_TRANSFORM; src <= POLICY_OBL_SRC_RATE; src++)
		if (!strcmp(key, policy_obligation_src_name(src)))
			break;
	if (src > POLICY_OBL_SRC_RATE)
		return 1;
	memset(&lx, 0, sizeof(lx));
	lx.s = value;
	lx.src = src;
	lx.eoff = err_offset;
	lx.err = err;
	lx.errlen = errlen;
	for (len = 0; len <= POLICY_OBL_VALUE_MAX && value[len]; len++)
		;
	if (len > POLICY_OBL_VALUE_MAX)
		return fail(&lx, POLICY_OBL_VALUE_MAX, "@%s value longer than %d bytes", key,
			    POLICY_OBL_VALUE_MAX);
	lx.len = len;
	policy_obligations_init(&tmp);
	rc = next(&lx);
	if (rc)
		return rc;
	switch (src) {
	case POLICY_OBL_SRC_TRANSFORM:
		rc = parse_transform(&lx, &tmp);
		break;
	case POLICY_OBL_SRC_AGGREGATE:
		rc = parse_aggregate(&lx, &tmp);
		break;
	case POLICY_OBL_SRC_NOISE:
		rc = parse_noise(&lx, &tmp);
		break;
	case POLICY_OBL_SRC_BUDGET:
		rc = parse_budget(&lx, &tmp);
		break;
	case POLICY_OBL_SRC_ASK:
		rc = parse_ask(&lx, &tmp);
		break;
	default:
		rc = parse_rate(&lx, &tmp);
		break;
	}
	if (rc)
		return rc;
	merged = *out;
	rc = policy_obligations_compose(&merged, &tmp);
	if (rc == -EINVAL)
		return fail(&lx, 0, "@%s: too many obligations on one policy", key);
	if (rc == -EPERM)
		return fail(&lx, 0, "@%s conflicts with another annotation of this policy", key);
	if (rc)
		return rc;
	*out = merged;
	return 0;
}

/* Aggregates of two permits: common functions and group fields, larger k. */
static int compose_aggregate(struct policy_obligations *a, const struct policy_obligations *o)
{
	unsigned n = 0;

	if (!o->aggregate)
		return 0;
	if (!a->aggregate) {
		a->aggregate = true;
		a->k = o->k;
		a->nagg = o->nagg;
		memcpy(a->agg, o->agg, sizeof(a->agg));
		a->ngroup = o->ngroup;
		memcpy(a->group, o->group, sizeof(a->group));
		return 0;
	}
	if (o->k > a->k)
		a->k = o->k;
	for (unsigned i = 0; i < a->nagg; i++) {
		for (unsigned j = 0; j < o->nagg; j++) {
			if (a->agg[i].fn == o->agg[j].fn && !strcmp(a->agg[i].f.name, o->agg[j].f.name)) {
				a->agg[n++] = a->agg[i];
				break;
			}
		}
	}
	a->nagg = (uint8_t)n;
	n = 0;
	for (unsigned i = 0; i < a->ngroup; i++)
		if (name_in(o->group, o->ngroup, a->group[i].name))
			a->group[n++] = a->group[i];
	a->ngroup = (uint8_t)n;
	if (!a->nagg) {
		a->conflict = true;
		return -EPERM;
	}
	return 0;
}

int policy_obligations_compose(struct policy_obligations *acc, const struct policy_obligations *o)
{
	struct policy_obligations t;
	int rc = 0;

	if (!acc || !o)
		return -EINVAL;
	t = *acc;
	/* transform rules, per field */
	for (unsigned i = 0; i < o->nfields; i++) {
		const struct policy_obl_field *src = &o->fields[i];
		struct policy_obl_field *f = field_get(&t, &src->f);

		if (!f)
			return -EINVAL;
		f->actions |= src->actions & ~POLICY_OBL_KEEP;
		merge_gen(f, src->gen, src->gen_arg);
	}
	if (o->has_keep) {
		for (unsigned i = 0; i < t.nfields; i++) {
			const struct policy_obl_field *of = field_cfind(o, t.fields[i].f.name);
			bool keep = of && (of->actions & POLICY_OBL_KEEP);

			if (t.has_keep)
				keep = keep && (t.fields[i].actions & POLICY_OBL_KEEP);
			if (keep)
				t.fields[i].actions |= POLICY_OBL_KEEP;
			else
				t.fields[i].actions &= (uint8_t)~POLICY_OBL_KEEP;
		}
		t.has_keep = true;
	}
	if (o->sample > 0 && (t.sample == 0 || o->sample < t.sample)) {
		t.sample = o->sample;
		t.sample_offset = o->sample_offset;
	}
	if (o->limit && (!t.limit || o->limit < t.limit)) {
		t.limit = o->limit;
		t.limit_offset = o->limit_offset;
	}
	/* noise: smaller epsilon, larger sensitivity, every noised field */
	if (o->noise) {
		if (!t.noise) {
			t.noise = true;
			t.epsilon = o->epsilon;
			t.sensitivity = o->sensitivity;
			t.noise_offset = o->noise_offset;
		} else {
			if (o->epsilon < t.epsilon)
				t.epsilon = o->epsilon;
			if (o->sensitivity > t.sensitivity)
				t.sensitivity = o->sensitivity;
		}
		for (unsigned i = 0; i < o->nnoise; i++) {
			if (name_in(t.noise_fields, t.nnoise, o->noise_fields[i].name))
				continue;
			if (t.nnoise >= POLICY_OBL_MAX_NOISE)
				return -EINVAL;
			t.noise_fields[t.nnoise++] = o->noise_fields[i];
		}
	}
	for (unsigned i = 0; i < o->nbudget; i++)
		if (window_add(t.budget, &t.nbudget, o->budget[i].limit, o->budget[i].window))
			return -EINVAL;
	if (o->nbudget && !acc->nbudget)
		t.budget_offset = o->budget_offset;
	for (unsigned i = 0; i < o->nrate; i++)
		if (window_add(t.rate, &t.nrate, o->rate[i].limit, o->rate[i].window))
			return -EINVAL;
	if (o->ask > t.ask)
		t.ask = o->ask;
	rc = compose_aggregate(&t, o);
	if (o->conflict) {
		t.conflict = true;
		rc = -EPERM;
	}
	*acc = t;
	return rc;
}

static int check_fail(int *srcp, size_t *err_offset, char *err, size_t errlen, int src, size_t off,
		      const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int check_fail(int *srcp, size_t *err_offset, char *err, size_t errlen, int src, size_t off,
		      const char *fmt, ...)
{
	va_list ap;

	if (srcp)
		*srcp = src;
	if (err_offset)
		*err_offset = off;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool known(const char *const *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (fields[i] && !strcmp(fields[i], name))
			return true;
	return false;
}

#define CHECK_NAME(nm)                                                                             \
	do {                                                                                       \
		const struct policy_obl_name *n_ = (nm);                                           \
		if (fields && !known(fields, n, n_->name))                                         \
			return check_fail(src, err_offset, err, errlen, n_->src, n_->offset,       \
					  "unknown field '%s'", n_->name);                         \
	} while (0)

int policy_obligations_check_fields(const struct policy_obligations *o, const char *const *fields,
				    size_t n, int *src, size_t *err_offset, char *err, size_t errlen)
{
	if (!o)
		return -EINVAL;
	for (unsigned i = 0; i < o->nfields; i++)
		CHECK_NAME(&o->fields[i].f);
	for (unsigned i = 0; i < o->nagg; i++)
		if (o->agg[i].fn != POLICY_AGG_COUNT)
			CHECK_NAME(&o->agg[i].f);
	for (unsigned i = 0; i < o->ngroup; i++)
		CHECK_NAME(&o->group[i]);
	for (unsigned i = 0; i < o->nnoise; i++)
		CHECK_NAME(&o->noise_fields[i]);
	if (o->conflict)
		return check_fail(src, err_offset, err, errlen, POLICY_OBL_SRC_AGGREGATE, 0,
				  "conflicting aggregates: no release satisfies them all");
	if (o->noise && !o->aggregate && !o->nnoise)
		return check_fail(src, err_offset, err, errlen, POLICY_OBL_SRC_NOISE, o->noise_offset,
				  "@noise on raw records needs 'fields = ...' (or an @aggregate)");
	if (o->nbudget && !o->noise)
		return check_fail(src, err_offset, err, errlen, POLICY_OBL_SRC_BUDGET, o->budget_offset,
				  "@budget without @noise: nothing would spend epsilon");
	return 0;
}

double policy_obligations_epsilon(const struct policy_obligations *o)
{
	if (!o->noise)
		return 0;
	return o->epsilon * (o->aggregate ? o->nagg : o->nnoise);
}
