/*
 * parser.c: lexer and recursive-descent parser for Cedar policy text
 * (annotations, effect, scope, when/unless, every expression form).
 * Assumes: UTF-8 input of known length; memory from the caller's arena.
 * Nesting is bounded (POLICY_MAX_DEPTH levels of syntax, MAX_HEIGHT levels
 * of tree) so hostile input gets an error, never a deep recursion.
 * Leaves out: templates (?principal / ?resource are rejected), the JSON
 * policy format.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#ifdef HAVE_OBLIGATIONS
#include "obligations.h"
#endif

#define MAX_HEIGHT 200

const struct fn_info policy_fns[F_COUNT] = {
	[F_CONTAINS] = { "contains", 1, 2 },
	[F_CONTAINSALL] = { "containsAll", 1, 2 },
	[F_CONTAINSANY] = { "containsAny", 1, 2 },
	[F_ISEMPTY] = { "isEmpty", 1, 1 },
	[F_GETTAG] = { "getTag", 1, 2 },
	[F_HASTAG] = { "hasTag", 1, 2 },
	[F_IP] = { "ip", 0, 1 },
	[F_DECIMAL] = { "decimal", 0, 1 },
	[F_DATETIME] = { "datetime", 0, 1 },
	[F_DURATION] = { "duration", 0, 1 },
	[F_ISIPV4] = { "isIpv4", 1, 1 },
	[F_ISIPV6] = { "isIpv6", 1, 1 },
	[F_ISLOOPBACK] = { "isLoopback", 1, 1 },
	[F_ISMULTICAST] = { "isMulticast", 1, 1 },
	[F_ISINRANGE] = { "isInRange", 1, 2 },
	[F_DLT] = { "lessThan", 1, 2 },
	[F_DLE] = { "lessThanOrEqual", 1, 2 },
	[F_DGT] = { "greaterThan", 1, 2 },
	[F_DGE] = { "greaterThanOrEqual", 1, 2 },
	[F_OFFSET] = { "offset", 1, 2 },
	[F_DURATIONSINCE] = { "durationSince", 1, 2 },
	[F_TODATE] = { "toDate", 1, 1 },
	[F_TOTIME] = { "toTime", 1, 1 },
	[F_TOMS] = { "toMilliseconds", 1, 1 },
	[F_TOSEC] = { "toSeconds", 1, 1 },
	[F_TOMIN] = { "toMinutes", 1, 1 },
	[F_TOHOURS] = { "toHours", 1, 1 },
	[F_TODAYS] = { "toDays", 1, 1 },
};

enum tok_kind {
	T_EOF, T_IDENT, T_STR, T_INT, T_AT, T_LP, T_RP, T_LB, T_RB, T_LC, T_RC,
	T_COMMA, T_SEMI, T_COLON, T_DCOLON, T_DOT, T_EQ, T_NE, T_LT, T_LE, T_GT,
	T_GE, T_AND, T_OR, T_NOT, T_PLUS, T_MINUS, T_STAR, T_QUESTION, T_ASSIGN,
	T_BAD
};

struct tok {
	uint8_t kind;
	const char *s; /* start in the source */
	uint32_t n;
	int line, col;
	uint64_t ival;
	bool big; /* integer over INT64_MAX */
};

struct parser {
	const char *src;
	size_t len, pos;
	int line, col;
	struct tok t, peek;
	bool havepeek;
	struct policy_arena *a;
	struct policy_error *err;
	int depth;
	bool failed;
};

static bool fail(struct parser *p, int line, int col, const char *fmt, const char *arg)
{
	if (!p->failed) {
		p->failed = true;
		if (p->err) {
			p->err->line = line;
			p->err->col = col;
			snprintf(p->err->msg, sizeof(p->err->msg), fmt, arg ? arg : "");
		}
	}
	return false;
}

#define FAILT(p, fmt, arg) fail((p), (p)->t.line, (p)->t.col, (fmt), (arg))

/* ---- lexer --------------------------------------------------------------- */

static bool isid0(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool isid(char c)
{
	return isid0(c) || (c >= '0' && c <= '9');
}

static void adv(struct parser *p, size_t n)
{
	while (n-- && p->pos < p->len) {
		if (p->src[p->pos] == '\n') {
			p->line++;
			p->col = 1;
		} else if (((uint8_t)p->src[p->pos] & 0xc0) != 0x80) {
			p->col++;
		}
		p->pos++;
	}
}

static void lex(struct parser *p, struct tok *t)
{
	const char *s;
	size_t rem;

	for (;;) {
		while (p->pos < p->len && (p->src[p->pos] == ' ' || p->src[p->pos] == '\t' ||
					   p->src[p->pos] == '\n' || p->src[p->pos] == '\r'))
			adv(p, 1);
		if (p->pos + 1 < p->len && p->src[p->pos] == '/' && p->src[p->pos + 1] == '/') {
			while (p->pos < p->len && p->src[p->pos] != '\n')
				adv(p, 1);
			continue;
		}
		break;
	}
	memset(t, 0, sizeof(*t));
	t->line = p->line;
	t->col = p->col;
	t->s = p->src + p->pos;
	if (p->pos >= p->len) {
		t->kind = T_EOF;
		return;
	}
	s = p->src + p->pos;
	rem = p->len - p->pos;
	if (isid0(s[0])) {
		size_t n = 1;

		while (n < rem && isid(s[n]))
			n++;
		t->kind = T_IDENT;
		t->n = (uint32_t)n;
		adv(p, n);
		return;
	}
	if (s[0] >= '0' && s[0] <= '9') {
		size_t n = 0;
		uint64_t v = 0;

		while (n < rem && s[n] >= '0' && s[n] <= '9') {
			unsigned d = (unsigned)(s[n] - '0');

			if (v > (UINT64_MAX - d) / 10)
				t->big = true;
			else
				v = v * 10 + d;
			n++;
		}
		if (v > (uint64_t)INT64_MAX + 1)
			t->big = true;
		t->kind = T_INT;
		t->ival = v;
		t->n = (uint32_t)n;
		adv(p, n);
		return;
	}
	if (s[0] == '"') {
		size_t n = 1;

		while (n < rem && s[n] != '"') {
			if (s[n] == '\\' && n + 1 < rem)
				n++;
			n++;
		}
		if (n >= rem) {
			t->kind = T_BAD;
			t->n = 1;
			fail(p, t->line, t->col, "unterminated string", NULL);
			return;
		}
		t->kind = T_STR;
		t->n = (uint32_t)n + 1;
		adv(p, n + 1);
		return;
	}
#define TWO(a, b, k)                                    \
	if (s[0] == (a) && rem > 1 && s[1] == (b)) {    \
		t->kind = (k);                          \
		t->n = 2;                               \
		adv(p, 2);                              \
		return;                                 \
	}
	TWO('=', '=', T_EQ);
	TWO('!', '=', T_NE);
	TWO('<', '=', T_LE);
	TWO('>', '=', T_GE);
	TWO('&', '&', T_AND);
	TWO('|', '|', T_OR);
	TWO(':', ':', T_DCOLON);
#undef TWO
	t->n = 1;
	switch (s[0]) {
	case '@': t->kind = T_AT; break;
	case '(': t->kind = T_LP; break;
	case ')': t->kind = T_RP; break;
	case '[': t->kind = T_LB; break;
	case ']': t->kind = T_RB; break;
	case '{': t->kind = T_LC; break;
	case '}': t->kind = T_RC; break;
	case ',': t->kind = T_COMMA; break;
	case ';': t->kind = T_SEMI; break;
	case ':': t->kind = T_COLON; break;
	case '.': t->kind = T_DOT; break;
	case '<': t->kind = T_LT; break;
	case '>': t->kind = T_GT; break;
	case '!': t->kind = T_NOT; break;
	case '+': t->kind = T_PLUS; break;
	case '-': t->kind = T_MINUS; break;
	case '*': t->kind = T_STAR; break;
	case '?': t->kind = T_QUESTION; break;
	case '=': t->kind = T_ASSIGN; break;
	default: t->kind = T_BAD; break;
	}
	adv(p, 1);
}

static void next(struct parser *p)
{
	if (p->havepeek) {
		p->t = p->peek;
		p->havepeek = false;
	} else {
		lex(p, &p->t);
	}
}

static const struct tok *peek(struct parser *p)
{
	if (!p->havepeek) {
		lex(p, &p->peek);
		p->havepeek = true;
	}
	return &p->peek;
}

static bool is_word(const struct tok *t, const char *w)
{
	size_t n = strlen(w);

	return t->kind == T_IDENT && t->n == n && !memcmp(t->s, w, n);
}

static bool reserved(const struct tok *t)
{
	static const char *const r[] = { "true", "false", "if", "then", "else",
					 "in", "is", "like", "has", "__cedar" };
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (is_word(t, r[i]))
			return true;
	return false;
}

static bool expect(struct parser *p, int kind, const char *what)
{
	if (p->t.kind != kind)
		return FAILT(p, "expected %s", what);
	next(p);
	return true;
}

static bool expect_word(struct parser *p, const char *w)
{
	if (!is_word(&p->t, w))
		return FAILT(p, "expected `%s`", w);
	next(p);
	return true;
}

/* ---- strings --------------------------------------------------------------- */

static void put_utf8(uint8_t *o, uint32_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		o[(*n)++] = (uint8_t)cp;
	} else if (cp < 0x800) {
		o[(*n)++] = (uint8_t)(0xc0 | (cp >> 6));
		o[(*n)++] = (uint8_t)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		o[(*n)++] = (uint8_t)(0xe0 | (cp >> 12));
		o[(*n)++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[(*n)++] = (uint8_t)(0x80 | (cp & 0x3f));
	} else {
		o[(*n)++] = (uint8_t)(0xf0 | (cp >> 18));
		o[(*n)++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		o[(*n)++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[(*n)++] = (uint8_t)(0x80 | (cp & 0x3f));
	}
}

/*
 * Unescapes the string token t into arena memory; with wild != NULL it is a
 * like pattern: '*' is a wildcard (marked in *wild), "\*" a literal star.
 */
static bool unescape(struct parser *p, const struct tok *t, char **out,
		     uint32_t *olen, uint8_t **wild)
{
	const char *s = t->s + 1;
	uint32_t n = t->n - 2, i, o = 0;
	uint8_t *buf = policy_arena_alloc(p->a, (size_t)n * 2 + 1), *w = NULL;

	if (!buf)
		return fail(p, t->line, t->col, "out of memory", NULL);
	if (wild) {
		w = policy_arena_alloc(p->a, (size_t)n * 2 + 1);
		if (!w)
			return fail(p, t->line, t->col, "out of memory", NULL);
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '*' && w) {
			w[o] = 1;
			buf[o++] = '*';
			continue;
		}
		if (c != '\\') {
			buf[o++] = (uint8_t)c;
			continue;
		}
		if (++i >= n)
			return fail(p, t->line, t->col, "bad escape in string", NULL);
		switch (s[i]) {
		case 'n': buf[o++] = '\n'; break;
		case 'r': buf[o++] = '\r'; break;
		case 't': buf[o++] = '\t'; break;
		case '0': buf[o++] = '\0'; break;
		case '\\': buf[o++] = '\\'; break;
		case '\'': buf[o++] = '\''; break;
		case '"': buf[o++] = '"'; break;
		case '*':
			if (!w)
				return fail(p, t->line, t->col, "`\\*` is only valid in a like pattern", NULL);
			buf[o++] = '*';
			break;
		case 'u': {
			uint32_t cp = 0, k = 0;

			if (i + 1 >= n || s[i + 1] != '{')
				return fail(p, t->line, t->col, "bad \\u escape in string", NULL);
			for (i += 2; i < n && s[i] != '}'; i++, k++) {
				char h = s[i];
				int v = h >= '0' && h <= '9' ? h - '0' :
					h >= 'a' && h <= 'f' ? h - 'a' + 10 :
					h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;

				if (v < 0 || k >= 6)
					return fail(p, t->line, t->col, "bad \\u escape in string", NULL);
				cp = cp * 16 + (uint32_t)v;
			}
			if (i >= n || k == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				return fail(p, t->line, t->col, "bad \\u escape in string", NULL);
			put_utf8(buf, &o, cp);
			break;
		}
		default:
			return fail(p, t->line, t->col, "bad escape in string", NULL);
		}
	}
	*out = (char *)buf;
	*olen = o;
	if (wild)
		*wild = w;
	return true;
}

/* ---- expressions -------------------------------------------------------------- */

static struct expr *node(struct parser *p, int kind, int line, int col)
{
	struct expr *e = ANEW(p->a, struct expr);

	if (!e) {
		fail(p, line, col, "out of memory", NULL);
		return NULL;
	}
	e->kind = (uint8_t)kind;
	e->line = line;
	e->col = col;
	return e;
}

static int h_of(const struct expr *e);

static struct expr *mk2(struct parser *p, int kind, struct expr *a, struct expr *b,
			int line, int col)
{
	struct expr *e;

	if (!a || !b)
		return NULL;
	e = node(p, kind, line, col);
	if (!e)
		return NULL;
	e->a = a;
	e->b = b;
	if (h_of(e) > MAX_HEIGHT) {
		fail(p, line, col, "expression nested too deeply", NULL);
		return NULL;
	}
	return e;
}

/* Height of e's tree, cached in lit.n of non-literal nodes. */
static int h_of(const struct expr *e)
{
	int h = 0, x;
	uint32_t i;

	if (!e)
		return 0;
	if (e->lit.type == PV_NONE && e->lit.n)
		return (int)e->lit.n; /* cached */
	if (e->a && (x = h_of(e->a)) > h)
		h = x;
	if (e->b && (x = h_of(e->b)) > h)
		h = x;
	if (e->c && (x = h_of(e->c)) > h)
		h = x;
	for (i = 0; i < e->nargs; i++)
		if ((x = h_of(e->args[i])) > h)
			h = x;
	if (e->kind != E_LIT)
		((struct expr *)e)->lit.n = (uint32_t)h + 1;
	return h + 1;
}

static struct expr *parse_expr(struct parser *p);

static bool enter(struct parser *p)
{
	if (++p->depth > POLICY_MAX_DEPTH)
		return FAILT(p, "expression nested too deeply (limit %s)", "64");
	return true;
}

static bool parse_path(struct parser *p, const char **name, uint32_t *nlen, bool *is_entity,
		       struct policy_uid *uid)
{
	/* IDENT {:: IDENT} [:: STR] */
	const char *start = p->t.s;
	const char *end;
	struct tok last;

	*is_entity = false;
	if (p->t.kind != T_IDENT)
		return FAILT(p, "expected a name", NULL);
	last = p->t;
	end = p->t.s + p->t.n;
	next(p);
	while (p->t.kind == T_DCOLON) {
		next(p);
		if (p->t.kind == T_STR && uid) {
			char *id;
			uint32_t ilen;

			if (reserved(&last) && !is_word(&last, "__cedar"))
				return fail(p, last.line, last.col, "reserved identifier in a name", NULL);
			if (!unescape(p, &p->t, &id, &ilen, NULL))
				return false;
			uid->type = policy_strdup(p->a, start, (size_t)(end - start));
			uid->tlen = (uint32_t)(end - start);
			uid->id = id;
			uid->ilen = ilen;
			if (!uid->type)
				return FAILT(p, "out of memory", NULL);
			policy_uid_hash(uid);
			*is_entity = true;
			next(p);
			return true;
		}
		if (p->t.kind != T_IDENT)
			return FAILT(p, "expected a name after `::`", NULL);
		if (reserved(&last))
			return fail(p, last.line, last.col, "reserved identifier in a name", NULL);
		last = p->t;
		end = p->t.s + p->t.n;
		next(p);
	}
	{
		/* strip whitespace between segments: rebuild the name */
		size_t n = (size_t)(end - start), i, o = 0;
		char *s = policy_arena_alloc(p->a, n + 1);
		const char *q = start;
		bool incomment = false;

		if (!s)
			return FAILT(p, "out of memory", NULL);
		for (i = 0; i < n; i++) {
			if (incomment) {
				if (q[i] == '\n')
					incomment = false;
				continue;
			}
			if (q[i] == '/' && i + 1 < n && q[i + 1] == '/') {
				incomment = true;
				continue;
			}
			if (q[i] != ' ' && q[i] != '\t' && q[i] != '\n' && q[i] != '\r')
				s[o++] = q[i];
		}
		*name = s;
		*nlen = (uint32_t)o;
	}
	return true;
}

/* Entity uid: strip whitespace in its type name too. */
static void uid_compact(struct parser *p, struct policy_uid *u)
{
	size_t i, o = 0;
	char *s = (char *)u->type;
	bool incomment = false;

	(void)p;
	for (i = 0; i < u->tlen; i++) {
		if (incomment) {
			if (s[i] == '\n')
				incomment = false;
			continue;
		}
		if (s[i] == '/' && i + 1 < u->tlen && s[i + 1] == '/') {
			incomment = true;
			continue;
		}
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			s[o++] = s[i];
	}
	s[o] = 0;
	u->tlen = (uint32_t)o;
	policy_uid_hash(u);
}

static bool parse_entity(struct parser *p, struct policy_uid *uid)
{
	const char *name;
	uint32_t nlen;
	bool ent;
	int line = p->t.line, col = p->t.col;

	if (p->t.kind == T_QUESTION)
		return FAILT(p, "policy templates are not supported", NULL);
	if (!parse_path(p, &name, &nlen, &ent, uid))
		return false;
	if (!ent)
		return fail(p, line, col, "expected an entity uid like Type::\"id\"", NULL);
	uid_compact(p, uid);
	return true;
}

static struct expr **parse_list(struct parser *p, int close, uint32_t *n)
{
	struct expr *tmp[64], **v = NULL, **nv;
	uint32_t cnt = 0, cap = 0, i;

	*n = 0;
	if (p->t.kind == close) {
		next(p);
		return ANEWN(p->a, struct expr *, 1);
	}
	for (;;) {
		struct expr *e = parse_expr(p);

		if (!e)
			return NULL;
		if (cnt < 64 && !v) {
			tmp[cnt++] = e;
		} else {
			if (!v || cnt == cap) {
				cap = cap ? cap * 2 : 128;
				nv = ANEWN(p->a, struct expr *, cap);
				if (!nv) {
					FAILT(p, "out of memory", NULL);
					return NULL;
				}
				for (i = 0; i < cnt; i++)
					nv[i] = v ? v[i] : tmp[i];
				v = nv;
			}
			v[cnt++] = e;
		}
		if (p->t.kind == T_COMMA) {
			next(p);
			continue;
		}
		if (p->t.kind != close) {
			FAILT(p, "expected `,` or a closing bracket", NULL);
			return NULL;
		}
		next(p);
		break;
	}
	if (!v) {
		v = ANEWN(p->a, struct expr *, cnt);
		if (!v) {
			FAILT(p, "out of memory", NULL);
			return NULL;
		}
		for (i = 0; i < cnt; i++)
			v[i] = tmp[i];
	}
	*n = cnt;
	return v;
}

/* Folds a set or record of literals into a literal value. */
static void fold(struct parser *p, struct expr *e)
{
	uint32_t i;

	for (i = 0; i < e->nargs; i++)
		if (e->args[i]->kind != E_LIT)
			return;
	if (e->kind == E_SET) {
		struct policy_value *v = ANEWN(p->a, struct policy_value, e->nargs);

		if (!v)
			return;
		for (i = 0; i < e->nargs; i++)
			v[i] = e->args[i]->lit;
		e->lit.type = PV_SET;
		e->lit.n = e->nargs;
		e->lit.u.set = v;
	} else {
		struct policy_field *f = ANEWN(p->a, struct policy_field, e->nargs);

		if (!f)
			return;
		for (i = 0; i < e->nargs; i++) {
			f[i].key = e->keys[i];
			f[i].klen = e->klens[i];
			f[i].v = e->args[i]->lit;
		}
		e->lit.type = PV_RECORD;
		e->lit.n = e->nargs;
		e->lit.u.rec = f;
	}
	e->kind = E_LIT;
}

static struct expr *parse_record(struct parser *p, int line, int col)
{
	struct expr *e = node(p, E_RECORD, line, col);
	struct policy_field *f;
	uint32_t cap = 16, n = 0, i;

	if (!e)
		return NULL;
	f = ANEWN(p->a, struct policy_field, cap);
	if (!f) {
		FAILT(p, "out of memory", NULL);
		return NULL;
	}
	/* f[i].v.u.set holds the expression temporarily */
	while (p->t.kind != T_RC) {
		char *key;
		uint32_t klen;
		struct expr *v;

		if (p->t.kind == T_STR) {
			if (!unescape(p, &p->t, &key, &klen, NULL))
				return NULL;
		} else if (p->t.kind == T_IDENT && !reserved(&p->t)) {
			key = policy_strdup(p->a, p->t.s, p->t.n);
			klen = p->t.n;
		} else {
			FAILT(p, "expected a record key", NULL);
			return NULL;
		}
		next(p);
		if (!expect(p, T_COLON, "`:`"))
			return NULL;
		v = parse_expr(p);
		if (!v)
			return NULL;
		if (n == cap) {
			struct policy_field *nf = ANEWN(p->a, struct policy_field, cap * 2);

			if (!nf) {
				FAILT(p, "out of memory", NULL);
				return NULL;
			}
			memcpy(nf, f, sizeof(*f) * cap);
			f = nf;
			cap *= 2;
		}
		f[n].key = key;
		f[n].klen = klen;
		f[n].v.u.set = (const struct policy_value *)(const void *)v;
		n++;
		if (p->t.kind == T_COMMA) {
			next(p);
			if (p->t.kind == T_RC)
				break;
			continue;
		}
		if (p->t.kind != T_RC) {
			FAILT(p, "expected `,` or `}`", NULL);
			return NULL;
		}
	}
	next(p);
	if (policy_record_sort(f, n)) {
		fail(p, line, col, "duplicate key in record literal", NULL);
		return NULL;
	}
	e->nargs = n;
	e->args = ANEWN(p->a, struct expr *, n ? n : 1);
	e->keys = ANEWN(p->a, const char *, n ? n : 1);
	e->klens = ANEWN(p->a, uint32_t, n ? n : 1);
	if (!e->args || !e->keys || !e->klens) {
		FAILT(p, "out of memory", NULL);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		e->args[i] = (struct expr *)(void *)(uintptr_t)f[i].v.u.set;
		e->keys[i] = f[i].key;
		e->klens[i] = f[i].klen;
	}
	fold(p, e);
	if (e->kind != E_LIT && h_of(e) > MAX_HEIGHT) {
		fail(p, line, col, "expression nested too deeply", NULL);
		return NULL;
	}
	return e;
}

static int find_fn(const char *s, uint32_t n)
{
	int i;

	for (i = 0; i < F_COUNT; i++)
		if (strlen(policy_fns[i].name) == n && !memcmp(policy_fns[i].name, s, n))
			return i;
	return -1;
}

/* Evaluates an extension constructor over a literal string at parse time. */
static void fold_call(struct parser *p, struct expr *e)
{
	struct eval_ctx c;
	struct policy_value v;

	if (e->fn > F_DURATION || e->args[0]->kind != E_LIT)
		return;
	memset(&c, 0, sizeof(c));
	c.scratch = p->a;
	if (policy_eval(&c, e, &v) == 0) {
		e->kind = E_LIT;
		e->lit = v;
	}
}

static struct expr *parse_primary(struct parser *p)
{
	int line = p->t.line, col = p->t.col;
	struct expr *e;

	switch (p->t.kind) {
	case T_INT:
		if (p->t.big || p->t.ival > (uint64_t)INT64_MAX) {
			FAILT(p, "integer literal out of range", NULL);
			return NULL;
		}
		e = node(p, E_LIT, line, col);
		if (!e)
			return NULL;
		e->lit.type = PV_LONG;
		e->lit.u.l = (int64_t)p->t.ival;
		next(p);
		return e;
	case T_STR: {
		char *s;
		uint32_t n;

		if (!unescape(p, &p->t, &s, &n, NULL))
			return NULL;
		e = node(p, E_LIT, line, col);
		if (!e)
			return NULL;
		e->lit.type = PV_STRING;
		e->lit.u.s = s;
		e->lit.n = n;
		next(p);
		return e;
	}
	case T_LP:
		next(p);
		e = parse_expr(p);
		if (!e || !expect(p, T_RP, "`)`"))
			return NULL;
		return e;
	case T_LB: {
		uint32_t n;

		next(p);
		e = node(p, E_SET, line, col);
		if (!e)
			return NULL;
		e->args = parse_list(p, T_RB, &n);
		if (!e->args)
			return NULL;
		e->nargs = n;
		fold(p, e);
		if (e->kind != E_LIT && h_of(e) > MAX_HEIGHT) {
			fail(p, line, col, "expression nested too deeply", NULL);
			return NULL;
		}
		return e;
	}
	case T_LC:
		next(p);
		return parse_record(p, line, col);
	case T_QUESTION:
		FAILT(p, "policy templates are not supported", NULL);
		return NULL;
	case T_IDENT:
		break;
	default:
		FAILT(p, "expected an expression", NULL);
		return NULL;
	}
	if (is_word(&p->t, "true") || is_word(&p->t, "false")) {
		e = node(p, E_LIT, line, col);
		if (!e)
			return NULL;
		e->lit.type = PV_BOOL;
		e->lit.u.b = is_word(&p->t, "true");
		next(p);
		return e;
	}
	{
		static const char *const vars[] = { "principal", "action", "resource", "context" };
		int i;

		if (peek(p)->kind != T_DCOLON && peek(p)->kind != T_LP) {
			for (i = 0; i < 4; i++)
				if (is_word(&p->t, vars[i])) {
					e = node(p, E_VAR, line, col);
					if (!e)
						return NULL;
					e->var = (uint8_t)i;
					next(p);
					return e;
				}
			if (reserved(&p->t))
				FAILT(p, "this identifier is reserved and cannot be used here", NULL);
			else
				FAILT(p, "unknown variable or name", NULL);
			return NULL;
		}
	}
	{
		const char *name;
		uint32_t nlen, n;
		bool ent;
		struct policy_uid uid;
		int fn;

		memset(&uid, 0, sizeof(uid));
		if (!parse_path(p, &name, &nlen, &ent, &uid))
			return NULL;
		if (ent) {
			struct policy_uid *u = ANEW(p->a, struct policy_uid);

			e = node(p, E_LIT, line, col);
			if (!e || !u)
				return NULL;
			uid_compact(p, &uid);
			*u = uid;
			e->lit.type = PV_ENTITY;
			e->lit.u.uid = u;
			return e;
		}
		if (p->t.kind != T_LP) {
			fail(p, line, col, "unknown variable or name", NULL);
			return NULL;
		}
		fn = find_fn(name, nlen);
		if (fn < 0) {
			fail(p, line, col, "unknown function `%s`", name);
			return NULL;
		}
		if (policy_fns[fn].method) {
			fail(p, line, col, "`%s` is a method, not a function", name);
			return NULL;
		}
		next(p);
		e = node(p, E_CALL, line, col);
		if (!e)
			return NULL;
		e->fn = (uint8_t)fn;
		e->args = parse_list(p, T_RP, &n);
		if (!e->args)
			return NULL;
		e->nargs = n;
		if (n != policy_fns[fn].nargs) {
			fail(p, line, col, "wrong number of arguments to `%s`", name);
			return NULL;
		}
		if (h_of(e) > MAX_HEIGHT) {
			fail(p, line, col, "expression nested too deeply", NULL);
			return NULL;
		}
		fold_call(p, e);
		return e;
	}
}

static struct expr *parse_member(struct parser *p)
{
	struct expr *e = parse_primary(p);

	while (e) {
		int line = p->t.line, col = p->t.col;

		if (p->t.kind == T_DOT) {
			struct tok id;

			next(p);
			id = p->t;
			if (id.kind != T_IDENT) {
				FAILT(p, "expected an attribute or method name", NULL);
				return NULL;
			}
			next(p);
			if (p->t.kind == T_LP) {
				struct expr *c, **args;
				uint32_t n, i;
				int fn = find_fn(id.s, id.n);

				next(p);
				if (fn < 0 || !policy_fns[fn].method) {
					char nm[64];

					snprintf(nm, sizeof(nm), "%.*s", (int)(id.n < 60 ? id.n : 60), id.s);
					fail(p, id.line, id.col, "unknown method `%s`", nm);
					return NULL;
				}
				args = parse_list(p, T_RP, &n);
				if (!args)
					return NULL;
				if (n + 1 != policy_fns[fn].nargs) {
					fail(p, id.line, id.col, "wrong number of arguments to `%s`",
					     policy_fns[fn].name);
					return NULL;
				}
				c = node(p, E_CALL, id.line, id.col);
				if (!c)
					return NULL;
				c->fn = (uint8_t)fn;
				c->nargs = n + 1;
				c->args = ANEWN(p->a, struct expr *, n + 1);
				if (!c->args)
					return NULL;
				c->args[0] = e;
				for (i = 0; i < n; i++)
					c->args[i + 1] = args[i];
				if (h_of(c) > MAX_HEIGHT) {
					fail(p, line, col, "expression nested too deeply", NULL);
					return NULL;
				}
				e = c;
			} else {
				struct expr *a;

				if (reserved(&id)) {
					fail(p, id.line, id.col, "this identifier is reserved and cannot be used here", NULL);
					return NULL;
				}
				a = node(p, E_ATTR, id.line, id.col);
				if (!a)
					return NULL;
				a->a = e;
				a->name = policy_strdup(p->a, id.s, id.n);
				a->nlen = id.n;
				if (h_of(a) > MAX_HEIGHT) {
					fail(p, line, col, "expression nested too deeply", NULL);
					return NULL;
				}
				e = a;
			}
		} else if (p->t.kind == T_LB) {
			struct expr *a;
			char *s;
			uint32_t n;

			next(p);
			if (p->t.kind != T_STR) {
				FAILT(p, "expected a string attribute name in `[...]`", NULL);
				return NULL;
			}
			if (!unescape(p, &p->t, &s, &n, NULL))
				return NULL;
			next(p);
			if (!expect(p, T_RB, "`]`"))
				return NULL;
			a = node(p, E_ATTR, line, col);
			if (!a)
				return NULL;
			a->a = e;
			a->name = s;
			a->nlen = n;
			if (h_of(a) > MAX_HEIGHT) {
				fail(p, line, col, "expression nested too deeply", NULL);
				return NULL;
			}
			e = a;
		} else {
			break;
		}
	}
	return e;
}

static struct expr *parse_unary(struct parser *p)
{
	int ops[4], nops = 0, line = p->t.line, col = p->t.col, i;
	struct expr *e;

	while (p->t.kind == T_NOT || p->t.kind == T_MINUS) {
		if (nops == 4) {
			FAILT(p, "too many unary operators in a row", NULL);
			return NULL;
		}
		if (nops && (int)p->t.kind != ops[0]) {
			FAILT(p, "`!` and `-` cannot be mixed without parentheses", NULL);
			return NULL;
		}
		ops[nops++] = p->t.kind;
		next(p);
	}
	if (nops && ops[nops - 1] == T_MINUS && p->t.kind == T_INT &&
	    peek(p)->kind != T_DOT && peek(p)->kind != T_LB) {
		/* a negative literal, so that -9223372036854775808 is a Long */
		if (p->t.big) {
			FAILT(p, "integer literal out of range", NULL);
			return NULL;
		}
		e = node(p, E_LIT, p->t.line, p->t.col);
		if (!e)
			return NULL;
		e->lit.type = PV_LONG;
		e->lit.u.l = (int64_t)(0 - p->t.ival);
		next(p);
		nops--;
	} else {
		e = parse_member(p);
	}
	for (i = nops - 1; i >= 0 && e; i--) {
		struct expr *u = node(p, ops[i] == T_NOT ? E_NOT : E_NEG, line, col);

		if (!u)
			return NULL;
		u->a = e;
		if (h_of(u) > MAX_HEIGHT) {
			fail(p, line, col, "expression nested too deeply", NULL);
			return NULL;
		}
		e = u;
	}
	return e;
}

static struct expr *parse_mult(struct parser *p)
{
	struct expr *e = parse_unary(p);

	while (e && p->t.kind == T_STAR) {
		int line = p->t.line, col = p->t.col;

		next(p);
		e = mk2(p, E_MUL, e, parse_unary(p), line, col);
	}
	return e;
}

static struct expr *parse_add(struct parser *p)
{
	struct expr *e = parse_mult(p);

	while (e && (p->t.kind == T_PLUS || p->t.kind == T_MINUS)) {
		int k = p->t.kind == T_PLUS ? E_ADD : E_SUB, line = p->t.line, col = p->t.col;

		next(p);
		e = mk2(p, k, e, parse_mult(p), line, col);
	}
	return e;
}

/* e has a.b.c  ==>  e has a && e.a has b && e.a.b has c */
static struct expr *parse_has(struct parser *p, struct expr *e, int line, int col)
{
	struct expr *res = NULL, *obj = e;

	for (;;) {
		struct expr *h;
		char *name;
		uint32_t n;
		bool wasstr = p->t.kind == T_STR;

		if (p->t.kind == T_STR) {
			if (!unescape(p, &p->t, &name, &n, NULL))
				return NULL;
		} else if (p->t.kind == T_IDENT) {
			if (reserved(&p->t)) {
				FAILT(p, "this identifier is reserved and cannot be used: %s", "has");
				return NULL;
			}
			name = policy_strdup(p->a, p->t.s, p->t.n);
			n = p->t.n;
		} else {
			FAILT(p, "expected an attribute name after `has`", NULL);
			return NULL;
		}
		next(p);
		h = node(p, E_HAS, line, col);
		if (!h)
			return NULL;
		h->a = obj;
		h->name = name;
		h->nlen = n;
		if (!res) {
			res = h;
		} else {
			struct expr *and = node(p, E_AND, line, col);

			if (!and)
				return NULL;
			and->nargs = 2;
			and->args = ANEWN(p->a, struct expr *, 2);
			if (!and->args)
				return NULL;
			and->args[0] = res;
			and->args[1] = h;
			res = and;
		}
		if (h_of(res) > MAX_HEIGHT) {
			fail(p, line, col, "expression nested too deeply", NULL);
			return NULL;
		}
		if (p->t.kind != T_DOT || wasstr)
			break;
		next(p);
		if (p->t.kind != T_IDENT) {
			FAILT(p, "expected an attribute name after `.`", NULL);
			return NULL;
		}
		{
			struct expr *a = node(p, E_ATTR, line, col);

			if (!a)
				return NULL;
			a->a = obj;
			a->name = name;
			a->nlen = n;
			obj = a;
		}
	}
	return res;
}

static struct expr *parse_rel(struct parser *p)
{
	struct expr *e = parse_add(p);
	int line = p->t.line, col = p->t.col, k = -1;

	if (!e)
		return NULL;
	switch (p->t.kind) {
	case T_EQ: k = E_EQ; break;
	case T_NE: k = E_NE; break;
	case T_LT: k = E_LT; break;
	case T_LE: k = E_LE; break;
	case T_GT: k = E_GT; break;
	case T_GE: k = E_GE; break;
	case T_ASSIGN:
		FAILT(p, "`=` is not an operator; did you mean `==`?", NULL);
		return NULL;
	case T_IDENT:
		if (is_word(&p->t, "in"))
			k = E_IN;
		break;
	}
	if (k >= 0) {
		next(p);
		e = mk2(p, k, e, parse_add(p), line, col);
	} else if (is_word(&p->t, "has")) {
		next(p);
		e = parse_has(p, e, line, col);
	} else if (is_word(&p->t, "like")) {
		struct expr *l;
		char *s;
		uint32_t n;
		uint8_t *w;

		next(p);
		if (p->t.kind != T_STR) {
			FAILT(p, "expected a pattern string after `like`", NULL);
			return NULL;
		}
		if (!unescape(p, &p->t, &s, &n, &w))
			return NULL;
		next(p);
		l = node(p, E_LIKE, line, col);
		if (!l)
			return NULL;
		l->a = e;
		l->pat.c = (const uint8_t *)s;
		l->pat.wild = w;
		l->pat.n = n;
		if (h_of(l) > MAX_HEIGHT) {
			fail(p, line, col, "expression nested too deeply", NULL);
			return NULL;
		}
		e = l;
	} else if (is_word(&p->t, "is")) {
		struct expr *is;
		const char *name;
		uint32_t nlen;
		bool ent;

		next(p);
		if (!parse_path(p, &name, &nlen, &ent, NULL))
			return NULL;
		is = node(p, E_IS, line, col);
		if (!is)
			return NULL;
		is->a = e;
		is->name = name;
		is->nlen = nlen;
		if (is_word(&p->t, "in")) {
			next(p);
			is->b = parse_add(p);
			if (!is->b)
				return NULL;
		}
		if (h_of(is) > MAX_HEIGHT) {
			fail(p, line, col, "expression nested too deeply", NULL);
			return NULL;
		}
		e = is;
	}
	if (e && (p->t.kind == T_EQ || p->t.kind == T_NE || p->t.kind == T_LT ||
		  p->t.kind == T_LE || p->t.kind == T_GT || p->t.kind == T_GE ||
		  is_word(&p->t, "in") || is_word(&p->t, "has") || is_word(&p->t, "like") ||
		  is_word(&p->t, "is"))) {
		FAILT(p, "comparison operators do not chain; add parentheses", NULL);
		return NULL;
	}
	return e;
}

/* && and || chains become one n-ary node each (evaluated without recursion). */
static struct expr *parse_chain(struct parser *p, int kind)
{
	int tk = kind == E_AND ? T_AND : T_OR;
	struct expr *first = kind == E_AND ? parse_rel(p) : parse_chain(p, E_AND);
	struct expr *e, *tmp[32], **v = tmp;
	uint32_t n = 1, cap = 32, i;
	int line, col;

	if (!first || p->t.kind != tk)
		return first;
	line = p->t.line;
	col = p->t.col;
	tmp[0] = first;
	while (p->t.kind == tk) {
		struct expr *x;

		next(p);
		x = kind == E_AND ? parse_rel(p) : parse_chain(p, E_AND);
		if (!x)
			return NULL;
		if (n == cap) {
			struct expr **nv = ANEWN(p->a, struct expr *, cap * 2);

			if (!nv) {
				FAILT(p, "out of memory", NULL);
				return NULL;
			}
			memcpy(nv, v, sizeof(*v) * n);
			v = nv;
			cap *= 2;
		}
		v[n++] = x;
	}
	e = node(p, kind, line, col);
	if (!e)
		return NULL;
	e->args = ANEWN(p->a, struct expr *, n);
	if (!e->args)
		return NULL;
	for (i = 0; i < n; i++)
		e->args[i] = v[i];
	e->nargs = n;
	e->line = first->line;
	e->col = first->col;
	if (h_of(e) > MAX_HEIGHT) {
		fail(p, line, col, "expression nested too deeply", NULL);
		return NULL;
	}
	return e;
}

static struct expr *parse_expr(struct parser *p)
{
	struct expr *e;
	int line = p->t.line, col = p->t.col;

	if (!enter(p))
		return NULL;
	if (is_word(&p->t, "if")) {
		struct expr *c, *t, *f;

		next(p);
		c = parse_expr(p);
		if (!c || !expect_word(p, "then"))
			return NULL;
		t = parse_expr(p);
		if (!t || !expect_word(p, "else"))
			return NULL;
		f = parse_expr(p);
		if (!f)
			return NULL;
		e = node(p, E_IF, line, col);
		if (!e)
			return NULL;
		e->a = c;
		e->b = t;
		e->c = f;
		if (h_of(e) > MAX_HEIGHT) {
			fail(p, line, col, "expression nested too deeply", NULL);
			return NULL;
		}
	} else {
		e = parse_chain(p, E_OR);
	}
	p->depth--;
	return e;
}

/* ---- policies ---------------------------------------------------------------- */

static bool action_type(const struct policy_uid *u)
{
	return (u->tlen == 6 && !memcmp(u->type, "Action", 6)) ||
	       (u->tlen > 8 && !memcmp(u->type + u->tlen - 8, "::Action", 8));
}

static bool parse_scope(struct parser *p, const char *var, struct policy_scope *s)
{
	s->line = p->t.line;
	s->col = p->t.col;
	if (!expect_word(p, var))
		return false;
	s->op = SCOPE_ANY;
	if (p->t.kind == T_EQ) {
		next(p);
		s->op = SCOPE_EQ;
		if (!parse_entity(p, &s->uid))
			return false;
	} else if (is_word(&p->t, "is")) {
		bool ent;

		if (!strcmp(var, "action"))
			return FAILT(p, "`is` is not allowed in the action scope", NULL);
		next(p);
		s->op = SCOPE_IS;
		if (!parse_path(p, &s->type, &s->tlen, &ent, NULL))
			return false;
		if (is_word(&p->t, "in")) {
			next(p);
			s->op = SCOPE_IS_IN;
			if (!parse_entity(p, &s->uid))
				return false;
		}
	} else if (is_word(&p->t, "in")) {
		next(p);
		s->op = SCOPE_IN;
		if (p->t.kind == T_LB) {
			struct policy_uid tmp[16], *v = tmp;
			uint32_t n = 0, cap = 16;

			if (strcmp(var, "action"))
				return FAILT(p, "a list is only allowed in the action scope", NULL);
			next(p);
			while (p->t.kind != T_RB) {
				if (n == cap) {
					struct policy_uid *nv = ANEWN(p->a, struct policy_uid, cap * 2);

					if (!nv)
						return FAILT(p, "out of memory", NULL);
					memcpy(nv, v, sizeof(*v) * n);
					v = nv;
					cap *= 2;
				}
				if (!parse_entity(p, &v[n]))
					return false;
				if (!action_type(&v[n]))
					return FAILT(p, "expected an Action entity in the action scope", NULL);
				n++;
				if (p->t.kind == T_COMMA)
					next(p);
				else if (p->t.kind != T_RB)
					return FAILT(p, "expected `,` or `]`", NULL);
			}
			next(p);
			s->op = SCOPE_IN_LIST;
			s->list = v;
			if (v == tmp) {
				struct policy_uid *nv = ANEWN(p->a, struct policy_uid, n ? n : 1);

				if (!nv)
					return FAILT(p, "out of memory", NULL);
				memcpy(nv, tmp, sizeof(*v) * n);
				s->list = nv;
			}
			s->nlist = n;
			return true;
		}
		if (!parse_entity(p, &s->uid))
			return false;
	}
	if (!strcmp(var, "action") && (s->op == SCOPE_EQ || s->op == SCOPE_IN) &&
	    !action_type(&s->uid))
		return fail(p, s->line, s->col, "expected an Action entity in the action scope", NULL);
	return true;
}

static bool parse_annotation(struct parser *p, struct policy_annotation *an)
{
	next(p); /* @ */
	if (p->t.kind != T_IDENT)
		return FAILT(p, "expected an annotation name after `@`", NULL);
	an->key = policy_strdup(p->a, p->t.s, p->t.n);
	if (!an->key)
		return FAILT(p, "out of memory", NULL);
	next(p);
	an->line = p->t.line;
	an->col = p->t.col;
	an->value = "";
	an->vlen = 0;
	if (p->t.kind == T_LP) {
		char *v;
		uint32_t n;

		next(p);
		if (p->t.kind != T_STR)
			return FAILT(p, "expected a string annotation value", NULL);
		an->line = p->t.line;
		an->col = p->t.col;
		if (!unescape(p, &p->t, &v, &n, NULL))
			return false;
		an->value = v;
		an->vlen = n;
		next(p);
		if (!expect(p, T_RP, "`)`"))
			return false;
	}
	return true;
}

#ifdef HAVE_OBLIGATIONS
static const char *const obl_keys[] = { "transform", "aggregate", "noise", "budget", "ask", "rate" };

/* Position of byte off inside the annotation value, as line:col in the text. */
static void value_pos(struct parser *p, const struct policy_annotation *an, size_t off,
		      int *line, int *col)
{
	/* walk the raw token from its opening quote, counting unescaped bytes */
	const char *s = p->src;
	size_t i, o = 0;
	int l = an->line, c = an->col;
	size_t start = 0;

	/* find the source offset of the value's opening quote */
	{
		int ll = 1, cc = 1;

		for (i = 0; i < p->len; i++) {
			if (ll == an->line && cc == an->col)
				break;
			if (s[i] == '\n') {
				ll++;
				cc = 1;
			} else if (((uint8_t)s[i] & 0xc0) != 0x80) {
				cc++;
			}
		}
		start = i;
	}
	c++; /* past the quote */
	for (i = start + 1; i < p->len && s[i] != '"' && o < off; i++) {
		if (s[i] == '\\' && i + 1 < p->len) {
			i++;
			c++;
			if (s[i] == 'u')
				while (i + 1 < p->len && s[i] != '}') {
					i++;
					c++;
				}
		}
		if (s[i] == '\n') {
			l++;
			c = 1;
		} else if (((uint8_t)s[i] & 0xc0) != 0x80) {
			c++;
		}
		o++;
	}
	*line = l;
	*col = c;
}

static bool load_obligations(struct parser *p, struct policy *pol)
{
	struct policy_obligations tmp;
	uint32_t i;
	size_t k;
	bool any = false;

	policy_obligations_init(&tmp);
	for (i = 0; i < pol->nannos; i++) {
		const struct policy_annotation *an = &pol->annos[i];
		size_t off = 0;
		char msg[128];
		int line, col;

		for (k = 0; k < sizeof(obl_keys) / sizeof(obl_keys[0]); k++)
			if (!strcmp(an->key, obl_keys[k]))
				break;
		if (k == sizeof(obl_keys) / sizeof(obl_keys[0]))
			continue;
		msg[0] = 0;
		if (policy_obligation_parse(an->key, an->value, &tmp, &off, msg, sizeof(msg)) < 0) {
			value_pos(p, an, off, &line, &col);
			return fail(p, line, col, "bad obligation: %s", msg);
		}
		any = true;
	}
	if (!any)
		return true;
	{
		int src = 0;
		size_t off = 0;
		char msg[128];

		msg[0] = 0;
		if (policy_obligations_check_fields(&tmp, NULL, 0, &src, &off, msg, sizeof(msg)) < 0) {
			const char *key = policy_obligation_src_name(src);

			for (i = 0; i < pol->nannos; i++)
				if (!strcmp(pol->annos[i].key, key)) {
					int line, col;

					value_pos(p, &pol->annos[i], off, &line, &col);
					return fail(p, line, col, "bad obligation: %s", msg);
				}
			return fail(p, pol->line, pol->col, "bad obligation: %s", msg);
		}
	}
	pol->obligations = ANEW(p->a, struct policy_obligations);
	if (!pol->obligations)
		return fail(p, pol->line, pol->col, "out of memory", NULL);
	*pol->obligations = tmp;
	return true;
}
#endif

static struct policy *parse_policy(struct parser *p, uint32_t index)
{
	struct policy *pol = ANEW(p->a, struct policy);
	struct policy_annotation annos[32], *av = annos;
	uint32_t nannos = 0, cap = 32, i;
	struct expr *conds[16], **cv = conds;
	uint32_t nconds = 0, ccap = 16;

	if (!pol) {
		FAILT(p, "out of memory", NULL);
		return NULL;
	}
	pol->index = index;
	snprintf(pol->id, sizeof(pol->id), "policy%u", (unsigned)index);
	pol->line = p->t.line;
	pol->col = p->t.col;
	while (p->t.kind == T_AT) {
		if (nannos == cap) {
			struct policy_annotation *nv = ANEWN(p->a, struct policy_annotation, cap * 2);

			if (!nv) {
				FAILT(p, "out of memory", NULL);
				return NULL;
			}
			memcpy(nv, av, sizeof(*av) * nannos);
			av = nv;
			cap *= 2;
		}
		if (!parse_annotation(p, &av[nannos]))
			return NULL;
		for (i = 0; i < nannos; i++)
			if (!strcmp(av[i].key, av[nannos].key)) {
				fail(p, av[nannos].line, av[nannos].col,
				     "duplicate annotation `@%s`", av[nannos].key);
				return NULL;
			}
		nannos++;
	}
	if (nannos) {
		pol->annos = ANEWN(p->a, struct policy_annotation, nannos);
		if (!pol->annos) {
			FAILT(p, "out of memory", NULL);
			return NULL;
		}
		memcpy(pol->annos, av, sizeof(*av) * nannos);
		pol->nannos = nannos;
	}
	if (is_word(&p->t, "permit")) {
		pol->effect = POLICY_PERMIT;
	} else if (is_word(&p->t, "forbid")) {
		pol->effect = POLICY_FORBID;
	} else {
		FAILT(p, "expected `permit` or `forbid`", NULL);
		return NULL;
	}
	next(p);
	if (!expect(p, T_LP, "`(`") || !parse_scope(p, "principal", &pol->principal) ||
	    !expect(p, T_COMMA, "`,`") || !parse_scope(p, "action", &pol->action) ||
	    !expect(p, T_COMMA, "`,`") || !parse_scope(p, "resource", &pol->resource))
		return NULL;
	if (p->t.kind == T_COMMA && peek(p)->kind == T_RP)
		next(p);
	if (!expect(p, T_RP, "`)`"))
		return NULL;
	while (is_word(&p->t, "when") || is_word(&p->t, "unless")) {
		bool unless = is_word(&p->t, "unless");
		int line = p->t.line, col = p->t.col;
		struct expr *e;

		next(p);
		if (!expect(p, T_LC, "`{`"))
			return NULL;
		if (p->t.kind == T_RC) {
			FAILT(p, "empty condition", NULL);
			return NULL;
		}
		e = parse_expr(p);
		if (!e || !expect(p, T_RC, "`}`"))
			return NULL;
		if (unless) {
			struct expr *n = node(p, E_NOT, line, col);

			if (!n)
				return NULL;
			n->a = e;
			n->var = 1; /* marks an unless clause for the validator */
			e = n;
		}
		if (nconds == ccap) {
			struct expr **nv = ANEWN(p->a, struct expr *, ccap * 2);

			if (!nv) {
				FAILT(p, "out of memory", NULL);
				return NULL;
			}
			memcpy(nv, cv, sizeof(*cv) * nconds);
			cv = nv;
			ccap *= 2;
		}
		cv[nconds++] = e;
	}
	if (!expect(p, T_SEMI, "`;` at the end of the policy"))
		return NULL;
	if (nconds) {
		struct expr *e = node(p, E_AND, pol->line, pol->col);

		if (!e)
			return NULL;
		e->args = ANEWN(p->a, struct expr *, nconds);
		if (!e->args)
			return NULL;
		memcpy(e->args, cv, sizeof(*cv) * nconds);
		e->nargs = nconds;
		pol->cond = e;
	}
#ifdef HAVE_OBLIGATIONS
	if (pol->effect == POLICY_PERMIT && !load_obligations(p, pol))
		return NULL;
#endif
	return pol;
}

int policy_set_parse(struct policy_set *set, struct policy_arena *a, const char *text,
		     size_t len, struct policy_error *err)
{
	struct parser p;
	struct policy *tmp[64], **v = tmp;
	uint32_t n = 0, cap = 64;

	memset(set, 0, sizeof(*set));
	memset(&p, 0, sizeof(p));
	if (err)
		memset(err, 0, sizeof(*err));
	p.src = text;
	p.len = len;
	p.line = p.col = 1;
	p.a = a;
	p.err = err;
	if (len > UINT32_MAX / 2) {
		fail(&p, 0, 0, "policy text too large", NULL);
		return -E2BIG;
	}
	next(&p);
	while (p.t.kind != T_EOF && !p.failed) {
		struct policy *pol;

		if (p.t.kind == T_BAD) {
			FAILT(&p, "unexpected character", NULL);
			break;
		}
		pol = parse_policy(&p, n);
		if (!pol)
			break;
		if (n == cap) {
			struct policy **nv = ANEWN(a, struct policy *, cap * 2);

			if (!nv) {
				FAILT(&p, "out of memory", NULL);
				break;
			}
			memcpy(nv, v, sizeof(*v) * n);
			v = nv;
			cap *= 2;
		}
		v[n++] = pol;
	}
	if (p.failed)
		return -EINVAL;
	set->policies = ANEWN(a, struct policy *, n ? n : 1);
	if (!set->policies)
		return -ENOMEM;
	memcpy(set->policies, v, sizeof(*v) * n);
	set->count = n;
	set->arena = a;
	return policy_index_build(set, a);
}
