/*
 * schema.c: parser of Cedar's human-readable schema format (.cedarschema):
 * namespaces, entity types (with `in`, attributes, optional attributes,
 * tags, enumerated ids), actions (`in` groups, appliesTo principal /
 * resource / context), common types (`type T = ...`) and annotations, with
 * Cedar's name resolution (common type, then entity type in the namespace,
 * then built-ins, then the empty namespace).
 * Assumes schemas of modest size (lookups are linear scans at load time).
 * Leaves out: the JSON schema format, action attributes (parsed, ignored).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define SMAX 1024 /* declarations of each kind */

enum { K_EOF, K_ID, K_STR, K_PUNCT, K_BAD };

struct slex {
	const char *src;
	size_t len, pos;
	int line, col;
	int kind;
	const char *s;
	uint32_t n;
	int tline, tcol;
	char punct;
	struct policy_arena *a;
	struct policy_error *err;
	bool failed;
};

struct common {
	const char *name; /* full */
	uint32_t nlen;
	struct ty *ty;
	int resolving;
};

struct sbuild {
	struct slex l;
	struct policy_schema *s;
	struct common commons[SMAX];
	uint32_t ncommons;
	const char *ns;
	uint32_t nslen;
	/* unresolved action parents: stored as uid with type possibly empty */
};

static bool sfail(struct slex *l, const char *fmt, const char *arg)
{
	if (!l->failed) {
		l->failed = true;
		if (l->err) {
			l->err->line = l->tline;
			l->err->col = l->tcol;
			snprintf(l->err->msg, sizeof(l->err->msg), fmt, arg ? arg : "");
		}
	}
	return false;
}

static void sadv(struct slex *l)
{
	if (l->src[l->pos] == '\n') {
		l->line++;
		l->col = 1;
	} else if (((uint8_t)l->src[l->pos] & 0xc0) != 0x80) {
		l->col++;
	}
	l->pos++;
}

static void snext(struct slex *l)
{
	for (;;) {
		while (l->pos < l->len && (l->src[l->pos] == ' ' || l->src[l->pos] == '\t' ||
					   l->src[l->pos] == '\n' || l->src[l->pos] == '\r'))
			sadv(l);
		if (l->pos + 1 < l->len && l->src[l->pos] == '/' && l->src[l->pos + 1] == '/') {
			while (l->pos < l->len && l->src[l->pos] != '\n')
				sadv(l);
			continue;
		}
		break;
	}
	l->tline = l->line;
	l->tcol = l->col;
	l->s = l->src + l->pos;
	l->n = 0;
	if (l->pos >= l->len) {
		l->kind = K_EOF;
		return;
	}
	{
		char c = l->src[l->pos];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
			while (l->pos < l->len) {
				c = l->src[l->pos];
				if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
				      (c >= '0' && c <= '9')))
					break;
				sadv(l);
				l->n++;
			}
			l->kind = K_ID;
			return;
		}
		if (c == '"') {
			sadv(l);
			l->s++;
			while (l->pos < l->len && l->src[l->pos] != '"') {
				if (l->src[l->pos] == '\\' && l->pos + 1 < l->len) {
					sadv(l);
					l->n++;
				}
				sadv(l);
				l->n++;
			}
			if (l->pos >= l->len) {
				l->kind = K_BAD;
				sfail(l, "unterminated string", NULL);
				return;
			}
			sadv(l);
			l->kind = K_STR;
			return;
		}
		if (c == ':' && l->pos + 1 < l->len && l->src[l->pos + 1] == ':') {
			sadv(l);
			sadv(l);
			l->kind = K_PUNCT;
			l->punct = 'D'; /* :: */
			l->n = 2;
			return;
		}
		if (strchr("{}[]<>(),;:=?@", c)) {
			sadv(l);
			l->kind = K_PUNCT;
			l->punct = c;
			l->n = 1;
			return;
		}
		l->kind = K_BAD;
		sfail(l, "unexpected character", NULL);
	}
}

static bool isp(struct slex *l, char c)
{
	return l->kind == K_PUNCT && l->punct == c;
}

static bool isw(struct slex *l, const char *w)
{
	return l->kind == K_ID && strlen(w) == l->n && !memcmp(l->s, w, l->n);
}

static bool want(struct slex *l, char c)
{
	char what[8];

	if (!isp(l, c)) {
		snprintf(what, sizeof(what), "`%c`", c == 'D' ? ':' : c);
		return sfail(l, "expected %s", what);
	}
	snext(l);
	return true;
}

/* Unescapes the current string token (simple escapes; \u{...} kept literal). */
static char *sstr(struct slex *l, uint32_t *n)
{
	char *o = policy_arena_alloc(l->a, l->n + 1);
	uint32_t i, k = 0;

	if (!o)
		return NULL;
	for (i = 0; i < l->n; i++) {
		char c = l->s[i];

		if (c == '\\' && i + 1 < l->n) {
			c = l->s[++i];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == '0' ? 0 : c;
		}
		o[k++] = c;
	}
	*n = k;
	return o;
}

static char *join(struct policy_arena *a, const char *ns, uint32_t nslen, const char *n,
		  uint32_t nlen, uint32_t *out)
{
	char *s;

	if (!nslen) {
		*out = nlen;
		return policy_strdup(a, n, nlen);
	}
	s = policy_arena_alloc(a, nslen + 2 + nlen + 1);
	if (!s)
		return NULL;
	memcpy(s, ns, nslen);
	memcpy(s + nslen, "::", 2);
	memcpy(s + nslen + 2, n, nlen);
	*out = nslen + 2 + nlen;
	return s;
}

/* Path ::= IDENT {'::' IDENT}; returns a copy (no spaces). */
static char *spath(struct slex *l, uint32_t *n)
{
	char buf[512];
	uint32_t k = 0;

	if (l->kind != K_ID) {
		sfail(l, "expected a name", NULL);
		return NULL;
	}
	for (;;) {
		if (k + l->n + 2 >= sizeof(buf)) {
			sfail(l, "name too long", NULL);
			return NULL;
		}
		memcpy(buf + k, l->s, l->n);
		k += l->n;
		snext(l);
		if (!isp(l, 'D'))
			break;
		/* lookahead: Path '::' STR is an entity ref: stop before the :: */
		{
			struct slex save = *l;

			snext(l);
			if (l->kind != K_ID) {
				*l = save;
				break;
			}
		}
		memcpy(buf + k, "::", 2);
		k += 2;
	}
	*n = k;
	return policy_strdup(l->a, buf, k);
}

static bool annotations(struct slex *l)
{
	while (isp(l, '@')) {
		snext(l);
		if (l->kind != K_ID)
			return sfail(l, "expected an annotation name", NULL);
		snext(l);
		if (isp(l, '(')) {
			snext(l);
			if (l->kind != K_STR)
				return sfail(l, "expected a string", NULL);
			snext(l);
			if (!want(l, ')'))
				return false;
		}
	}
	return true;
}

static struct ty *parse_type(struct sbuild *b, int depth);

static struct ty *parse_rec(struct sbuild *b, int depth)
{
	struct slex *l = &b->l;
	struct ty *t = ANEW(l->a, struct ty);
	struct ty_attr tmp[256];
	uint32_t n = 0, i;

	if (!t)
		return NULL;
	t->kind = T_RECORD;
	if (!want(l, '{'))
		return NULL;
	while (!isp(l, '}')) {
		struct ty_attr *at;

		if (!annotations(l))
			return NULL;
		if (n == 256) {
			sfail(l, "too many attributes", NULL);
			return NULL;
		}
		at = &tmp[n];
		if (l->kind == K_ID) {
			at->key = policy_strdup(l->a, l->s, l->n);
			at->klen = l->n;
		} else if (l->kind == K_STR) {
			at->key = sstr(l, &at->klen);
		} else {
			sfail(l, "expected an attribute name", NULL);
			return NULL;
		}
		for (i = 0; i < n; i++)
			if (!policy_keycmp(tmp[i].key, tmp[i].klen, at->key, at->klen)) {
				sfail(l, "duplicate attribute", NULL);
				return NULL;
			}
		snext(l);
		at->required = 1;
		if (isp(l, '?')) {
			at->required = 0;
			snext(l);
		}
		if (!want(l, ':'))
			return NULL;
		at->ty = parse_type(b, depth + 1);
		if (!at->ty)
			return NULL;
		n++;
		if (isp(l, ','))
			snext(l);
		else if (!isp(l, '}')) {
			sfail(l, "expected `,` or `}`", NULL);
			return NULL;
		}
	}
	snext(l);
	/* keep attributes sorted by key for lookups */
	for (i = 1; i < n; i++) {
		struct ty_attr x = tmp[i];
		uint32_t j;

		for (j = i; j > 0 && policy_keycmp(tmp[j - 1].key, tmp[j - 1].klen, x.key, x.klen) > 0; j--)
			tmp[j] = tmp[j - 1];
		tmp[j] = x;
	}
	t->attrs = ANEWN(l->a, struct ty_attr, n ? n : 1);
	if (!t->attrs)
		return NULL;
	memcpy((void *)t->attrs, tmp, sizeof(*tmp) * n);
	t->nattrs = n;
	return t;
}

static struct ty *parse_type(struct sbuild *b, int depth)
{
	struct slex *l = &b->l;
	struct ty *t;

	if (depth > POLICY_MAX_DEPTH) {
		sfail(l, "type nested too deeply", NULL);
		return NULL;
	}
	if (isp(l, '{'))
		return parse_rec(b, depth);
	if (l->kind != K_ID) {
		sfail(l, "expected a type", NULL);
		return NULL;
	}
	t = ANEW(l->a, struct ty);
	if (!t)
		return NULL;
	if (isw(l, "Set")) {
		struct slex save = *l;

		snext(l);
		if (isp(l, '<')) {
			snext(l);
			t->kind = T_SET;
			t->elem = parse_type(b, depth + 1);
			if (!t->elem || !want(l, '>'))
				return NULL;
			return t;
		}
		*l = save;
	}
	t->kind = T_NAME;
	t->line = l->tline;
	t->col = l->tcol;
	t->ns = b->ns;
	t->nslen = b->nslen;
	t->name = spath(l, &t->nlen);
	return t->name ? t : NULL;
}

/* EntOrTyps ::= Path | '[' [Path {',' Path}] ']' ; names resolved later */
static bool ent_types(struct sbuild *b, const char ***names, uint32_t **lens, uint32_t *n)
{
	struct slex *l = &b->l;
	const char *tmp[256];
	uint32_t tl[256], k = 0;
	bool list = isp(l, '[');

	if (list)
		snext(l);
	while (!(list && isp(l, ']'))) {
		char *p;
		uint32_t pl;

		if (k == 256)
			return sfail(l, "too many types", NULL);
		p = spath(l, &pl);
		if (!p)
			return false;
		/* qualify: resolution against declared entities happens later */
		tmp[k] = p;
		tl[k] = pl;
		k++;
		if (!list)
			break;
		if (isp(l, ','))
			snext(l);
		else if (!isp(l, ']'))
			return sfail(l, "expected `,` or `]`", NULL);
	}
	if (list)
		snext(l);
	*names = ANEWN(l->a, const char *, k ? k : 1);
	*lens = ANEWN(l->a, uint32_t, k ? k : 1);
	if (!*names || !*lens)
		return false;
	memcpy(*names, tmp, sizeof(*tmp) * k);
	memcpy(*lens, tl, sizeof(*tl) * k);
	*n = k;
	return true;
}

static struct schema_entity *find_ent(struct policy_schema *s, const char *n, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < s->nentities; i++)
		if (!policy_keycmp(s->entities[i].name, s->entities[i].nlen, n, len))
			return &s->entities[i];
	return NULL;
}

static bool entity_decl(struct sbuild *b)
{
	struct slex *l = &b->l;
	struct schema_entity tmpl;
	const char *names[64];
	uint32_t lens[64], n = 0, i;

	memset(&tmpl, 0, sizeof(tmpl));
	snext(l); /* entity */
	for (;;) {
		if (l->kind != K_ID)
			return sfail(l, "expected an entity type name", NULL);
		if (n == 64)
			return sfail(l, "too many names in one declaration", NULL);
		names[n] = l->s;
		lens[n++] = l->n;
		snext(l);
		if (!isp(l, ','))
			break;
		snext(l);
	}
	if (isw(l, "enum")) {
		const char *ids[256];
		uint32_t il[256], k = 0;

		snext(l);
		if (!want(l, '['))
			return false;
		while (!isp(l, ']')) {
			if (l->kind != K_STR || k == 256)
				return sfail(l, "expected a string", NULL);
			ids[k] = sstr(l, &il[k]);
			k++;
			snext(l);
			if (isp(l, ','))
				snext(l);
		}
		snext(l);
		tmpl.enums = ANEWN(l->a, const char *, k ? k : 1);
		tmpl.elens = ANEWN(l->a, uint32_t, k ? k : 1);
		if (!tmpl.enums || !tmpl.elens)
			return false;
		memcpy(tmpl.enums, ids, sizeof(*ids) * k);
		memcpy(tmpl.elens, il, sizeof(*il) * k);
		tmpl.nenums = k;
	} else {
		if (isw(l, "in")) {
			snext(l);
			if (!ent_types(b, &tmpl.parents, &tmpl.plens, &tmpl.nparents))
				return false;
		}
		if (isp(l, '='))
			snext(l);
		if (isp(l, '{')) {
			tmpl.attrs = parse_rec(b, 0);
			if (!tmpl.attrs)
				return false;
		}
		if (isw(l, "tags")) {
			snext(l);
			tmpl.tags = parse_type(b, 0);
			if (!tmpl.tags)
				return false;
		}
	}
	if (!want(l, ';'))
		return false;
	if (!tmpl.attrs) {
		struct ty *t = ANEW(l->a, struct ty);

		if (!t)
			return false;
		t->kind = T_RECORD;
		tmpl.attrs = t;
	}
	for (i = 0; i < n; i++) {
		struct schema_entity *e;
		uint32_t fl;
		char *full = join(l->a, b->ns, b->nslen, names[i], lens[i], &fl);

		if (!full)
			return false;
		if (find_ent(b->s, full, fl))
			return sfail(l, "entity type `%s` declared twice", full);
		if (b->s->nentities == SMAX)
			return sfail(l, "too many entity types", NULL);
		e = &b->s->entities[b->s->nentities++];
		*e = tmpl;
		e->name = full;
		e->nlen = fl;
	}
	return true;
}

/* Ref ::= Path '::' STR | Name ; appends to a uid list */
static bool action_ref(struct sbuild *b, struct policy_uid *u)
{
	struct slex *l = &b->l;
	uint32_t n;

	memset(u, 0, sizeof(*u));
	if (l->kind == K_STR) {
		u->id = sstr(l, &u->ilen);
		u->type = NULL; /* "Action" in the current namespace */
		snext(l);
	} else if (l->kind == K_ID) {
		char *p = spath(l, &n);

		if (!p)
			return false;
		if (isp(l, 'D')) {
			snext(l);
			if (l->kind != K_STR)
				return sfail(l, "expected a string", NULL);
			u->type = p;
			u->tlen = n;
			u->id = sstr(l, &u->ilen);
			snext(l);
		} else {
			u->id = p;
			u->ilen = n;
		}
	} else {
		return sfail(l, "expected an action name", NULL);
	}
	if (!u->type) {
		u->type = join(l->a, b->ns, b->nslen, "Action", 6, &u->tlen);
		if (!u->type)
			return false;
	}
	policy_uid_hash(u);
	return true;
}

static bool action_decl(struct sbuild *b)
{
	struct slex *l = &b->l;
	struct schema_action tmpl;
	struct policy_uid names[64], parents[64];
	uint32_t n = 0, np = 0, i;
	bool list;

	memset(&tmpl, 0, sizeof(tmpl));
	snext(l); /* action */
	for (;;) {
		if (n == 64)
			return sfail(l, "too many names in one declaration", NULL);
		memset(&names[n], 0, sizeof(names[n]));
		if (l->kind == K_STR)
			names[n].id = sstr(l, &names[n].ilen);
		else if (l->kind == K_ID)
			names[n].id = policy_strdup(l->a, l->s, l->n), names[n].ilen = l->n;
		else
			return sfail(l, "expected an action name", NULL);
		names[n].type = join(l->a, b->ns, b->nslen, "Action", 6, &names[n].tlen);
		policy_uid_hash(&names[n]);
		n++;
		snext(l);
		if (!isp(l, ','))
			break;
		snext(l);
	}
	if (isw(l, "in")) {
		snext(l);
		list = isp(l, '[');
		if (list)
			snext(l);
		while (!(list && isp(l, ']'))) {
			if (np == 64)
				return sfail(l, "too many parents", NULL);
			if (!action_ref(b, &parents[np++]))
				return false;
			if (!list)
				break;
			if (isp(l, ','))
				snext(l);
			else if (!isp(l, ']'))
				return sfail(l, "expected `,` or `]`", NULL);
		}
		if (list)
			snext(l);
	}
	if (isw(l, "appliesTo")) {
		tmpl.applies = true;
		snext(l);
		if (!want(l, '{'))
			return false;
		while (!isp(l, '}')) {
			if (isw(l, "principal") || isw(l, "resource")) {
				bool pr = isw(l, "principal");

				snext(l);
				if (!want(l, ':'))
					return false;
				if (!(pr ? ent_types(b, &tmpl.ptypes, &tmpl.ptlens, &tmpl.nptypes) :
					   ent_types(b, &tmpl.rtypes, &tmpl.rtlens, &tmpl.nrtypes)))
					return false;
			} else if (isw(l, "context")) {
				snext(l);
				if (!want(l, ':'))
					return false;
				tmpl.context = parse_type(b, 0);
				if (!tmpl.context)
					return false;
			} else {
				return sfail(l, "expected principal, resource or context", NULL);
			}
			if (isp(l, ','))
				snext(l);
			else if (!isp(l, '}'))
				return sfail(l, "expected `,` or `}`", NULL);
		}
		snext(l);
	}
	if (isw(l, "attributes")) {
		snext(l);
		if (!parse_rec(b, 0))
			return false;
	}
	if (!want(l, ';'))
		return false;
	if (!tmpl.context) {
		struct ty *t = ANEW(l->a, struct ty);

		if (!t)
			return false;
		t->kind = T_RECORD;
		tmpl.context = t;
	}
	if (np) {
		tmpl.parents = ANEWN(l->a, struct policy_uid, np);
		if (!tmpl.parents)
			return false;
		memcpy(tmpl.parents, parents, sizeof(*parents) * np);
		tmpl.nparents = np;
	}
	for (i = 0; i < n; i++) {
		if (policy_schema_action(b->s, &names[i]))
			return sfail(l, "action `%s` declared twice", names[i].id);
		if (b->s->nactions == SMAX)
			return sfail(l, "too many actions", NULL);
		b->s->actions[b->s->nactions] = tmpl;
		b->s->actions[b->s->nactions++].uid = names[i];
	}
	return true;
}

static bool type_decl(struct sbuild *b)
{
	struct slex *l = &b->l;
	struct common *c;

	snext(l); /* type */
	if (l->kind != K_ID)
		return sfail(l, "expected a type name", NULL);
	if (b->ncommons == SMAX)
		return sfail(l, "too many common types", NULL);
	c = &b->commons[b->ncommons];
	c->name = join(l->a, b->ns, b->nslen, l->s, l->n, &c->nlen);
	snext(l);
	if (!want(l, '='))
		return false;
	c->ty = parse_type(b, 0);
	if (!c->ty || !want(l, ';'))
		return false;
	b->ncommons++;
	return true;
}

static bool decls(struct sbuild *b, bool inner)
{
	struct slex *l = &b->l;

	while (l->kind != K_EOF && !l->failed) {
		if (inner && isp(l, '}'))
			return true;
		if (!annotations(l))
			return false;
		if (isw(l, "entity")) {
			if (!entity_decl(b))
				return false;
		} else if (isw(l, "action")) {
			if (!action_decl(b))
				return false;
		} else if (isw(l, "type")) {
			if (!type_decl(b))
				return false;
		} else if (isw(l, "namespace") && !inner) {
			snext(l);
			b->ns = spath(l, &b->nslen);
			if (!b->ns || !want(l, '{') || !decls(b, true) || !want(l, '}'))
				return false;
			b->ns = "";
			b->nslen = 0;
		} else {
			return sfail(l, "expected `entity`, `action`, `type` or `namespace`", NULL);
		}
	}
	if (inner)
		return sfail(l, "expected `}`", NULL);
	return !l->failed;
}

/* ---- resolution -------------------------------------------------------------- */

static const struct {
	const char *name;
	uint8_t kind, ext;
} builtins[] = {
	{ "String", T_STRING, 0 }, { "Long", T_LONG, 0 }, { "Bool", T_BOOL, 0 },
	{ "ipaddr", T_EXT, PV_IP }, { "decimal", T_EXT, PV_DECIMAL },
	{ "datetime", T_EXT, PV_DATETIME }, { "duration", T_EXT, PV_DURATION },
};

static struct common *find_common(struct sbuild *b, const char *n, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < b->ncommons; i++)
		if (!policy_keycmp(b->commons[i].name, b->commons[i].nlen, n, len))
			return &b->commons[i];
	return NULL;
}

static bool resolve(struct sbuild *b, struct ty *t, int depth);

static bool resolve_name(struct sbuild *b, struct ty *t, int depth)
{
	struct slex *l = &b->l;
	char buf[1100];
	uint32_t fl, i;
	const char *name = t->name;
	uint32_t nlen = t->nlen;
	struct common *c = NULL;
	struct schema_entity *e = NULL;
	bool qualified = memchr(name, ':', nlen) != NULL;

	if (nlen > 512 || t->nslen > 512)
		return sfail(l, "name too long", NULL);
	if (nlen > 9 && !memcmp(name, "__cedar::", 9)) {
		name += 9;
		nlen -= 9;
		goto builtin;
	}
	if (t->nslen && !qualified) {
		memcpy(buf, t->ns, t->nslen);
		memcpy(buf + t->nslen, "::", 2);
		memcpy(buf + t->nslen + 2, name, nlen);
		fl = t->nslen + 2 + nlen;
		c = find_common(b, buf, fl);
		if (!c)
			e = find_ent(b->s, buf, fl);
	}
	if (!c && !e) {
		for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
			if (!qualified && strlen(builtins[i].name) == nlen &&
			    !memcmp(builtins[i].name, name, nlen) && !find_common(b, name, nlen) &&
			    !find_ent(b->s, name, nlen))
				goto builtin;
		c = find_common(b, name, nlen);
		if (!c)
			e = find_ent(b->s, name, nlen);
	}
	if (c) {
		if (c->resolving || depth > POLICY_MAX_DEPTH) {
			l->tline = t->line;
			l->tcol = t->col;
			return sfail(l, "common type `%s` refers to itself", c->name);
		}
		c->resolving = 1;
		if (!resolve(b, c->ty, depth + 1))
			return false;
		c->resolving = 0;
		*t = *c->ty;
		return true;
	}
	if (e) {
		t->kind = T_ENTITY;
		t->name = e->name;
		t->nlen = e->nlen;
		return true;
	}
	l->tline = t->line;
	l->tcol = t->col;
	{
		char nm[128];

		snprintf(nm, sizeof(nm), "%.*s", (int)(nlen < 120 ? nlen : 120), name);
		return sfail(l, "unknown type `%s`", nm);
	}
builtin:
	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strlen(builtins[i].name) == nlen && !memcmp(builtins[i].name, name, nlen)) {
			t->kind = builtins[i].kind;
			t->ext = builtins[i].ext;
			return true;
		}
	l->tline = t->line;
	l->tcol = t->col;
	return sfail(l, "unknown built-in type", NULL);
}

static bool resolve(struct sbuild *b, struct ty *t, int depth)
{
	uint32_t i;

	if (depth > POLICY_MAX_DEPTH * 2)
		return sfail(&b->l, "type nested too deeply", NULL);
	switch (t->kind) {
	case T_NAME:
		return resolve_name(b, t, depth);
	case T_SET:
		return resolve(b, (struct ty *)t->elem, depth + 1);
	case T_RECORD:
		for (i = 0; i < t->nattrs; i++)
			if (!resolve(b, (struct ty *)t->attrs[i].ty, depth + 1))
				return false;
		return true;
	}
	return true;
}

/* Entity type names in `in` and appliesTo: namespace-qualify them. */
static bool resolve_etypes(struct sbuild *b, const char *ns, uint32_t nslen, const char **names,
			   uint32_t *lens, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct ty t;

		memset(&t, 0, sizeof(t));
		t.kind = T_NAME;
		t.name = names[i];
		t.nlen = lens[i];
		t.ns = ns;
		t.nslen = nslen;
		t.line = b->l.tline;
		t.col = b->l.tcol;
		if (!resolve_name(b, &t, 0))
			return false;
		if (t.kind != T_ENTITY)
			return sfail(&b->l, "`%s` is not an entity type", names[i]);
		names[i] = t.name;
		lens[i] = t.nlen;
	}
	return true;
}

static void ns_of(const char *full, uint32_t n, uint32_t *nslen)
{
	uint32_t i, last = 0;

	for (i = 0; i + 1 < n; i++)
		if (full[i] == ':' && full[i + 1] == ':')
			last = i;
	*nslen = last;
}

int policy_schema_parse(struct policy_schema **out, struct policy_arena *a, const char *text,
			size_t len, struct policy_error *err)
{
	struct sbuild *b;
	struct policy_schema *s;
	uint32_t i;
	struct policy_arena *arena = a;

	/* the builder is large: take it from the arena (it stays there) */
	b = policy_arena_alloc(arena, sizeof(*b));
	s = ANEW(a, struct policy_schema);
	if (!b || !s)
		return -ENOMEM;
	if (err)
		memset(err, 0, sizeof(*err));
	s->entities = ANEWN(a, struct schema_entity, SMAX);
	s->actions = ANEWN(a, struct schema_action, SMAX);
	if (!s->entities || !s->actions)
		return -ENOMEM;
	b->s = s;
	b->ns = "";
	b->l.src = text;
	b->l.len = len;
	b->l.line = b->l.col = 1;
	b->l.a = a;
	b->l.err = err;
	snext(&b->l);
	if (!decls(b, false))
		return -EINVAL;
	for (i = 0; i < s->nentities; i++) {
		struct schema_entity *e = &s->entities[i];
		uint32_t nsl;

		ns_of(e->name, e->nlen, &nsl);
		if (!resolve(b, (struct ty *)e->attrs, 0) ||
		    (e->tags && !resolve(b, (struct ty *)e->tags, 0)) ||
		    !resolve_etypes(b, e->name, nsl, e->parents, e->plens, e->nparents))
			return -EINVAL;
	}
	for (i = 0; i < s->nactions; i++) {
		struct schema_action *ac = &s->actions[i];
		uint32_t nsl;

		ns_of(ac->uid.type, ac->uid.tlen, &nsl);
		if (!resolve(b, (struct ty *)ac->context, 0) ||
		    !resolve_etypes(b, ac->uid.type, nsl, ac->ptypes, ac->ptlens, ac->nptypes) ||
		    !resolve_etypes(b, ac->uid.type, nsl, ac->rtypes, ac->rtlens, ac->nrtypes))
			return -EINVAL;
		if (ac->context->kind != T_RECORD) {
			b->l.tline = b->l.tcol = 0;
			return sfail(&b->l, "the context of action `%s` is not a record", ac->uid.id), -EINVAL;
		}
	}
	for (i = 0; i < s->nactions; i++) {
		uint32_t k;

		for (k = 0; k < s->actions[i].nparents; k++)
			if (!policy_schema_action(s, &s->actions[i].parents[k])) {
				b->l.tline = b->l.tcol = 0;
				sfail(&b->l, "action group `%s` is not declared", s->actions[i].parents[k].id);
				return -EINVAL;
			}
	}
	*out = s;
	return 0;
}

/* ---- queries ------------------------------------------------------------------- */

const struct schema_entity *policy_schema_entity(const struct policy_schema *s, const char *name,
						 uint32_t n)
{
	return find_ent((struct policy_schema *)s, name, n);
}

const struct schema_action *policy_schema_action(const struct policy_schema *s,
						 const struct policy_uid *uid)
{
	uint32_t i;

	for (i = 0; i < s->nactions; i++)
		if (policy_uid_eq(&s->actions[i].uid, uid))
			return &s->actions[i];
	return NULL;
}

const struct ty_attr *policy_ty_attr(const struct ty *rec, const char *key, uint32_t klen)
{
	uint32_t lo = 0, hi = rec->nattrs;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int c = policy_keycmp(rec->attrs[mid].key, rec->attrs[mid].klen, key, klen);

		if (!c)
			return &rec->attrs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* May an entity of type child have an ancestor of type anc (transitively)? */
bool policy_schema_descends(const struct policy_schema *s, const char *child, uint32_t cn,
			    const char *anc, uint32_t an)
{
	const struct schema_entity *q[64];
	uint32_t nq = 0, i, k;
	const struct schema_entity *e = policy_schema_entity(s, child, cn);

	if (!e)
		return false;
	q[nq++] = e;
	for (i = 0; i < nq; i++)
		for (k = 0; k < q[i]->nparents; k++) {
			const struct schema_entity *p;
			uint32_t j;

			if (!policy_keycmp(q[i]->parents[k], q[i]->plens[k], anc, an))
				return true;
			p = policy_schema_entity(s, q[i]->parents[k], q[i]->plens[k]);
			if (!p)
				continue;
			for (j = 0; j < nq && q[j] != p; j++)
				;
			if (j == nq && nq < 64)
				q[nq++] = p;
		}
	return false;
}

bool policy_schema_action_in(const struct policy_schema *s, const struct policy_uid *a,
			     const struct policy_uid *b)
{
	const struct schema_action *q[64];
	uint32_t nq = 0, i, k;
	const struct schema_action *x;

	if (policy_uid_eq(a, b))
		return true;
	x = policy_schema_action(s, a);
	if (!x)
		return false;
	q[nq++] = x;
	for (i = 0; i < nq; i++)
		for (k = 0; k < q[i]->nparents; k++) {
			const struct schema_action *p;
			uint32_t j;

			if (policy_uid_eq(&q[i]->parents[k], b))
				return true;
			p = policy_schema_action(s, &q[i]->parents[k]);
			if (!p)
				continue;
			for (j = 0; j < nq && q[j] != p; j++)
				;
			if (j == nq && nq < 64)
				q[nq++] = p;
		}
	return false;
}

int policy_schema_add_actions(const struct policy_schema *s, struct policy_entities *es,
			      struct policy_arena *a)
{
	uint32_t i, k;
	int r;

	for (i = 0; i < s->nactions; i++) {
		struct policy_entity *e = ANEW(a, struct policy_entity);
		static const struct policy_field none[1];

		if (!e)
			return -ENOMEM;
		e->uid = s->actions[i].uid;
		e->attrs.type = PV_RECORD;
		e->attrs.u.rec = none;
		e->tags.type = PV_RECORD;
		e->tags.u.rec = none;
		e->nparents = s->actions[i].nparents;
		e->parents = ANEWN(a, const struct policy_uid *, e->nparents ? e->nparents : 1);
		if (!e->parents)
			return -ENOMEM;
		for (k = 0; k < e->nparents; k++)
			e->parents[k] = &s->actions[i].parents[k];
		if ((r = policy_entities_add(es, e)))
			return r;
	}
	return 0;
}
