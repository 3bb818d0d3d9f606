/*
 * validate.c: Cedar's strict validation of a policy set against a schema.
 * For each policy, every request environment its scope admits (action x
 * principal type x resource type from the actions' appliesTo) is type-
 * checked: unknown entity types and actions, missing attributes, optional
 * attributes read without a `has` guard (capabilities flow through &&, if
 * and successive when clauses), operand types of every operator and
 * method, set and if-branch types that do not agree (strict mode), empty
 * set literals and extension constructors over non-literals or bad
 * literals. Each error is reported once with its line and column.
 * Assumes a resolved schema from schema.c; scratch types come from the
 * set's arena (validation runs at load time).
 * Leaves out: warnings (impossible policies, mixed-script strings), level-
 * based validation, request/entity validation (json.c checks conformance).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MAX_CAPS 64
#define MAX_SEEN 64

struct cap {
	const struct expr *base; /* path expression */
	const char *name;	 /* attribute (or tag when tag=1) */
	uint32_t nlen;
	uint8_t tag;
};

struct vstate {
	const struct policy_schema *s;
	const struct policy *p;
	struct policy_arena *a;
	policy_report_fn report;
	void *arg;
	int errors;
	struct { int line, col; } seen[MAX_SEEN];
	int nseen;
	/* environment */
	const char *ptype, *rtype;
	uint32_t ptlen, rtlen;
	const struct schema_action *act;
	/* capabilities currently known */
	struct cap caps[MAX_CAPS];
	int ncaps;
	int depth;
};

static const struct ty ty_bool = { .kind = T_BOOL }, ty_true = { .kind = T_TRUE },
		       ty_false = { .kind = T_FALSE }, ty_long = { .kind = T_LONG },
		       ty_string = { .kind = T_STRING }, ty_error = { .kind = T_ERROR },
		       ty_ip = { .kind = T_EXT, .ext = PV_IP },
		       ty_decimal = { .kind = T_EXT, .ext = PV_DECIMAL },
		       ty_datetime = { .kind = T_EXT, .ext = PV_DATETIME },
		       ty_duration = { .kind = T_EXT, .ext = PV_DURATION };

static const struct ty *verr(struct vstate *v, const struct expr *e, const char *fmt,
			     const char *arg)
{
	char msg[POLICY_ERRLEN];
	int i, line = e ? e->line : v->p->line, col = e ? e->col : v->p->col;

	for (i = 0; i < v->nseen; i++)
		if (v->seen[i].line == line && v->seen[i].col == col)
			return &ty_error;
	if (v->nseen < MAX_SEEN) {
		v->seen[v->nseen].line = line;
		v->seen[v->nseen++].col = col;
	}
	snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
	v->errors++;
	if (v->report)
		v->report(v->arg, v->p, line, col, msg);
	return &ty_error;
}

static bool is_bool(const struct ty *t)
{
	return t->kind == T_BOOL || t->kind == T_TRUE || t->kind == T_FALSE;
}

static struct ty *tnew(struct vstate *v, int kind)
{
	struct ty *t = ANEW(v->a, struct ty);

	if (t)
		t->kind = (uint8_t)kind;
	return t;
}

static const struct ty *entity_ty(struct vstate *v, const char *name, uint32_t n)
{
	struct ty *t = tnew(v, T_ENTITY);

	if (!t)
		return &ty_error;
	t->name = name;
	t->nlen = n;
	return t;
}

/* Least upper bound in strict mode: NULL when the types do not agree. */
static const struct ty *lub(struct vstate *v, const struct ty *a, const struct ty *b)
{
	uint32_t i;

	if (a->kind == T_ERROR || b->kind == T_NEVER)
		return a;
	if (b->kind == T_ERROR || a->kind == T_NEVER)
		return b;
	if (is_bool(a) && is_bool(b))
		return a->kind == b->kind ? a : &ty_bool;
	if (a->kind != b->kind)
		return NULL;
	switch (a->kind) {
	case T_LONG:
	case T_STRING:
		return a;
	case T_EXT:
		return a->ext == b->ext ? a : NULL;
	case T_ENTITY:
		return !policy_keycmp(a->name, a->nlen, b->name, b->nlen) ? a : NULL;
	case T_SET: {
		const struct ty *e = lub(v, a->elem, b->elem);
		struct ty *t;

		if (!e)
			return NULL;
		t = tnew(v, T_SET);
		if (!t)
			return NULL;
		t->elem = e;
		return t;
	}
	case T_RECORD:
		if (a->nattrs != b->nattrs)
			return NULL;
		for (i = 0; i < a->nattrs; i++) {
			if (policy_keycmp(a->attrs[i].key, a->attrs[i].klen, b->attrs[i].key,
					  b->attrs[i].klen) ||
			    a->attrs[i].required != b->attrs[i].required ||
			    !lub(v, a->attrs[i].ty, b->attrs[i].ty))
				return NULL;
		}
		return a;
	}
	return a;
}

static bool path_eq(const struct expr *a, const struct expr *b)
{
	int guard = 0;

	while (a && b && guard++ < 256) {
		if (a->kind != b->kind)
			return false;
		if (a->kind == E_VAR)
			return a->var == b->var;
		if (a->kind == E_LIT)
			return a->lit.type == PV_ENTITY && b->lit.type == PV_ENTITY &&
			       policy_uid_eq(a->lit.u.uid, b->lit.u.uid);
		if (a->kind != E_ATTR || policy_keycmp(a->name, a->nlen, b->name, b->nlen))
			return false;
		a = a->a;
		b = b->a;
	}
	return false;
}

static bool has_cap(struct vstate *v, const struct expr *base, const char *name, uint32_t n,
		    int tag)
{
	int i;

	for (i = 0; i < v->ncaps; i++)
		if (v->caps[i].tag == tag && !policy_keycmp(v->caps[i].name, v->caps[i].nlen, name, n) &&
		    path_eq(v->caps[i].base, base))
			return true;
	return false;
}

static void add_cap(struct vstate *v, const struct expr *base, const char *name, uint32_t n,
		    int tag)
{
	if (v->ncaps < MAX_CAPS && (base->kind == E_VAR || base->kind == E_ATTR ||
				    (base->kind == E_LIT && base->lit.type == PV_ENTITY))) {
		v->caps[v->ncaps].base = base;
		v->caps[v->ncaps].name = name;
		v->caps[v->ncaps].nlen = n;
		v->caps[v->ncaps++].tag = (uint8_t)tag;
	}
}

/* Capabilities an expression grants when it evaluates to true. */
static void grant(struct vstate *v, const struct expr *e)
{
	uint32_t i;

	if (e->kind == E_HAS)
		add_cap(v, e->a, e->name, e->nlen, 0);
	else if (e->kind == E_AND)
		for (i = 0; i < e->nargs; i++)
			grant(v, e->args[i]);
	else if (e->kind == E_CALL && e->fn == F_HASTAG && e->args[1]->kind == E_LIT &&
		 e->args[1]->lit.type == PV_STRING)
		add_cap(v, e->args[0], e->args[1]->lit.u.s, e->args[1]->lit.n, 1);
}

static const struct ty *tc(struct vstate *v, const struct expr *e);

static const struct ty *expect(struct vstate *v, const struct expr *e, int kind, const char *what)
{
	const struct ty *t = tc(v, e);

	if (t->kind == T_ERROR)
		return t;
	if (kind == T_BOOL ? !is_bool(t) : t->kind != kind)
		return verr(v, e, "type error: expected %s", what);
	return t;
}

static const struct ty *expect_ext(struct vstate *v, const struct expr *e, int ext,
				   const char *what)
{
	const struct ty *t = tc(v, e);

	if (t->kind == T_ERROR)
		return t;
	if (t->kind != T_EXT || t->ext != ext)
		return verr(v, e, "type error: expected %s", what);
	return t;
}

static const struct ty *lit_ty(struct vstate *v, const struct expr *e, const struct policy_value *x)
{
	switch (x->type) {
	case PV_BOOL:
		return x->u.b ? &ty_true : &ty_false;
	case PV_LONG:
		return &ty_long;
	case PV_STRING:
		return &ty_string;
	case PV_DECIMAL:
		return &ty_decimal;
	case PV_IP:
		return &ty_ip;
	case PV_DATETIME:
		return &ty_datetime;
	case PV_DURATION:
		return &ty_duration;
	case PV_ENTITY: {
		const struct policy_uid *u = x->u.uid;

		if (policy_schema_entity(v->s, u->type, u->tlen))
			return entity_ty(v, u->type, u->tlen);
		if (policy_schema_action(v->s, u))
			return entity_ty(v, u->type, u->tlen);
		if (u->tlen >= 6 && !memcmp(u->type + u->tlen - 6, "Action", 6))
			return verr(v, e, "unrecognized action `%s`", u->id);
		return verr(v, e, "unrecognized entity type `%s`", u->type);
	}
	case PV_SET: {
		const struct ty *el = NULL;
		struct ty *t;
		uint32_t i;

		if (x->n == 0)
			return verr(v, e, "empty set literals are not allowed in strict validation%s", "");
		for (i = 0; i < x->n; i++) {
			const struct ty *et = lit_ty(v, e, &x->u.set[i]);

			if (et->kind == T_ERROR)
				return et;
			el = el ? lub(v, el, et) : et;
			if (!el)
				return verr(v, e, "set elements do not have the same type%s", "");
		}
		t = tnew(v, T_SET);
		if (!t)
			return &ty_error;
		t->elem = el;
		return t;
	}
	case PV_RECORD: {
		struct ty *t = tnew(v, T_RECORD);
		struct ty_attr *at = ANEWN(v->a, struct ty_attr, x->n ? x->n : 1);
		uint32_t i;

		if (!t || !at)
			return &ty_error;
		for (i = 0; i < x->n; i++) {
			at[i].key = x->u.rec[i].key;
			at[i].klen = x->u.rec[i].klen;
			at[i].required = 1;
			at[i].ty = lit_ty(v, e, &x->u.rec[i].v);
			if (at[i].ty->kind == T_ERROR)
				return at[i].ty;
		}
		t->attrs = at;
		t->nattrs = x->n;
		return t;
	}
	}
	return &ty_error;
}

static const struct ty *attr_of(struct vstate *v, const struct expr *e, const struct ty *obj,
				bool has)
{
	const struct ty *rec = NULL;
	const struct ty_attr *at;

	if (obj->kind == T_ERROR)
		return obj;
	if (obj->kind == T_ENTITY) {
		const struct schema_entity *se = policy_schema_entity(v->s, obj->name, obj->nlen);

		if (!se) /* an action: no attributes in this schema model */
			return has ? &ty_false : verr(v, e, "attribute `%s` not found", e->name);
		rec = se->attrs;
	} else if (obj->kind == T_RECORD) {
		rec = obj;
	} else {
		return verr(v, e, has ? "type error: `has` needs an entity or record%s" :
				       "type error: attribute access needs an entity or record%s", "");
	}
	at = policy_ty_attr(rec, e->name, e->nlen);
	if (has) {
		if (!at)
			return rec->open ? &ty_bool : &ty_false;
		return at->required && obj->kind == T_RECORD ? &ty_true : &ty_bool;
	}
	if (!at) {
		if (rec->open)
			return verr(v, e, "attribute `%s` is not known in an open record", e->name);
		return verr(v, e, "attribute `%s` not found", e->name);
	}
	if (!at->required && !has_cap(v, e->a, e->name, e->nlen, 0))
		return verr(v, e, "unsafe access to optional attribute `%s`: guard it with `has`",
			    e->name);
	return at->ty;
}

static const struct ty *tc_call(struct vstate *v, const struct expr *e)
{
	const struct ty *t0, *t1;

	switch (e->fn) {
	case F_IP:
	case F_DECIMAL:
	case F_DATETIME:
	case F_DURATION:
		if (e->args[0]->kind != E_LIT || e->args[0]->lit.type != PV_STRING) {
			tc(v, e->args[0]);
			return verr(v, e, "extension constructor `%s` needs a string literal",
				    policy_fns[e->fn].name);
		}
		/* a literal that parsed was folded to a value by the parser */
		return verr(v, e, "invalid literal for `%s`", policy_fns[e->fn].name);
	case F_CONTAINS:
		t0 = expect(v, e->args[0], T_SET, "a set");
		t1 = tc(v, e->args[1]);
		if (t0->kind == T_SET && t1->kind != T_ERROR && !lub(v, t0->elem, t1))
			return verr(v, e, "type error: `contains` of an element of another type%s", "");
		return t0->kind == T_ERROR || t1->kind == T_ERROR ? &ty_error : &ty_bool;
	case F_CONTAINSALL:
	case F_CONTAINSANY:
		t0 = expect(v, e->args[0], T_SET, "a set");
		t1 = expect(v, e->args[1], T_SET, "a set");
		if (t0->kind == T_SET && t1->kind == T_SET && !lub(v, t0->elem, t1->elem))
			return verr(v, e, "type error: sets of different element types%s", "");
		return t0->kind == T_ERROR || t1->kind == T_ERROR ? &ty_error : &ty_bool;
	case F_ISEMPTY:
		t0 = expect(v, e->args[0], T_SET, "a set");
		return t0->kind == T_ERROR ? t0 : &ty_bool;
	case F_GETTAG:
	case F_HASTAG: {
		const struct schema_entity *se;

		t0 = expect(v, e->args[0], T_ENTITY, "an entity");
		t1 = expect(v, e->args[1], T_STRING, "a string");
		if (t0->kind == T_ERROR || t1->kind == T_ERROR)
			return &ty_error;
		se = policy_schema_entity(v->s, t0->name, t0->nlen);
		if (e->fn == F_HASTAG)
			return se && se->tags ? &ty_bool : &ty_false;
		if (!se || !se->tags)
			return verr(v, e, "entity type `%s` has no tags", t0->name);
		if (e->args[1]->kind != E_LIT ||
		    !has_cap(v, e->args[0], e->args[1]->lit.u.s, e->args[1]->lit.n, 1))
			return verr(v, e, "unsafe tag access: guard it with `hasTag`%s", "");
		return se->tags;
	}
	case F_ISIPV4:
	case F_ISIPV6:
	case F_ISLOOPBACK:
	case F_ISMULTICAST:
		t0 = expect_ext(v, e->args[0], PV_IP, "an ipaddr");
		return t0->kind == T_ERROR ? t0 : &ty_bool;
	case F_ISINRANGE:
		t0 = expect_ext(v, e->args[0], PV_IP, "an ipaddr");
		t1 = expect_ext(v, e->args[1], PV_IP, "an ipaddr");
		return t0->kind == T_ERROR || t1->kind == T_ERROR ? &ty_error : &ty_bool;
	case F_DLT:
	case F_DLE:
	case F_DGT:
	case F_DGE:
		t0 = expect_ext(v, e->args[0], PV_DECIMAL, "a decimal");
		t1 = expect_ext(v, e->args[1], PV_DECIMAL, "a decimal");
		return t0->kind == T_ERROR || t1->kind == T_ERROR ? &ty_error : &ty_bool;
	case F_OFFSET:
		t0 = expect_ext(v, e->args[0], PV_DATETIME, "a datetime");
		t1 = expect_ext(v, e->args[1], PV_DURATION, "a duration");
		return t0->kind == T_ERROR || t1->kind == T_ERROR ? &ty_error : &ty_datetime;
	case F_DURATIONSINCE:
		t0 = expect_ext(v, e->args[0], PV_DATETIME, "a datetime");
		t1 = expect_ext(v, e->args[1], PV_DATETIME, "a datetime");
		return t0->kind == T_ERROR || t1->kind == T_ERROR ? &ty_error : &ty_duration;
	case F_TODATE:
		t0 = expect_ext(v, e->args[0], PV_DATETIME, "a datetime");
		return t0->kind == T_ERROR ? t0 : &ty_datetime;
	case F_TOTIME:
		t0 = expect_ext(v, e->args[0], PV_DATETIME, "a datetime");
		return t0->kind == T_ERROR ? t0 : &ty_duration;
	default:
		t0 = expect_ext(v, e->args[0], PV_DURATION, "a duration");
		return t0->kind == T_ERROR ? t0 : &ty_long;
	}
}

static const struct ty *tc_inner(struct vstate *v, const struct expr *e)
{
	const struct ty *a, *b, *c;
	uint32_t i;

	switch (e->kind) {
	case E_LIT:
		return lit_ty(v, e, &e->lit);
	case E_VAR:
		switch (e->var) {
		case VAR_PRINCIPAL: return entity_ty(v, v->ptype, v->ptlen);
		case VAR_RESOURCE: return entity_ty(v, v->rtype, v->rtlen);
		case VAR_ACTION: return entity_ty(v, v->act->uid.type, v->act->uid.tlen);
		default: return v->act->context;
		}
	case E_NOT:
		a = expect(v, e->a, T_BOOL, "a boolean");
		return a->kind == T_TRUE ? &ty_false : a->kind == T_FALSE ? &ty_true : a;
	case E_NEG:
		return expect(v, e->a, T_LONG, "a Long");
	case E_AND:
	case E_OR: {
		int saved = v->ncaps;
		bool err = false, all_short = true;
		const struct ty *res = NULL;

		for (i = 0; i < e->nargs; i++) {
			a = expect(v, e->args[i], T_BOOL, "a boolean");
			if (a->kind == T_ERROR) {
				err = true;
				continue;
			}
			if ((e->kind == E_AND && a->kind == T_FALSE) ||
			    (e->kind == E_OR && a->kind == T_TRUE)) {
				res = a;
				break;
			}
			if (a->kind == T_BOOL)
				all_short = false;
			if (e->kind == E_AND)
				grant(v, e->args[i]);
		}
		if (e->kind == E_OR)
			v->ncaps = saved;
		if (err)
			return &ty_error;
		if (res)
			return res;
		return all_short ? (e->kind == E_AND ? &ty_true : &ty_false) : &ty_bool;
	}
	case E_IF: {
		int saved = v->ncaps;

		a = expect(v, e->a, T_BOOL, "a boolean");
		if (a->kind == T_FALSE) {
			v->ncaps = saved;
			return tc(v, e->c);
		}
		grant(v, e->a);
		b = tc(v, e->b);
		v->ncaps = saved;
		if (a->kind == T_TRUE)
			return b;
		c = tc(v, e->c);
		if (a->kind == T_ERROR || b->kind == T_ERROR || c->kind == T_ERROR)
			return &ty_error;
		a = lub(v, b, c);
		return a ? a : verr(v, e, "the branches of `if` have different types%s", "");
	}
	case E_EQ:
	case E_NE:
		a = tc(v, e->a);
		b = tc(v, e->b);
		if (a->kind == T_ERROR || b->kind == T_ERROR)
			return &ty_error;
		if (a->kind == T_ENTITY && b->kind == T_ENTITY)
			return policy_keycmp(a->name, a->nlen, b->name, b->nlen) ?
				       (e->kind == E_EQ ? &ty_false : &ty_true) : &ty_bool;
		if (!lub(v, a, b))
			return verr(v, e, "type error: comparing values of different types%s", "");
		return &ty_bool;
	case E_LT:
	case E_LE:
	case E_GT:
	case E_GE:
		a = tc(v, e->a);
		b = tc(v, e->b);
		if (a->kind == T_ERROR || b->kind == T_ERROR)
			return &ty_error;
		if (a->kind == T_LONG && b->kind == T_LONG)
			return &ty_bool;
		if (a->kind == T_EXT && b->kind == T_EXT && a->ext == b->ext &&
		    (a->ext == PV_DATETIME || a->ext == PV_DURATION))
			return &ty_bool;
		return verr(v, e, "type error: `<` and friends need two Longs, datetimes or durations%s", "");
	case E_ADD:
	case E_SUB:
	case E_MUL:
		a = expect(v, e->a, T_LONG, "a Long");
		b = expect(v, e->b, T_LONG, "a Long");
		return a->kind == T_ERROR || b->kind == T_ERROR ? &ty_error : &ty_long;
	case E_IN:
		a = expect(v, e->a, T_ENTITY, "an entity");
		b = tc(v, e->b);
		if (a->kind == T_ERROR || b->kind == T_ERROR)
			return &ty_error;
		if (b->kind == T_ENTITY)
			return &ty_bool;
		if (b->kind == T_SET && b->elem->kind == T_ENTITY)
			return &ty_bool;
		return verr(v, e->b, "type error: `in` needs an entity or a set of entities%s", "");
	case E_HAS:
		a = tc(v, e->a);
		return attr_of(v, e, a, true);
	case E_ATTR:
		a = tc(v, e->a);
		return attr_of(v, e, a, false);
	case E_LIKE:
		a = expect(v, e->a, T_STRING, "a String");
		return a->kind == T_ERROR ? a : &ty_bool;
	case E_IS:
		a = expect(v, e->a, T_ENTITY, "an entity");
		if (!policy_schema_entity(v->s, e->name, e->nlen)) {
			char nm[128];

			snprintf(nm, sizeof(nm), "%.*s", (int)(e->nlen < 120 ? e->nlen : 120), e->name);
			verr(v, e, "unrecognized entity type `%s`", nm);
			return &ty_error;
		}
		if (e->b) {
			b = tc(v, e->b);
			if (b->kind == T_ERROR)
				return b;
			if (b->kind != T_ENTITY && !(b->kind == T_SET && b->elem->kind == T_ENTITY))
				return verr(v, e->b, "type error: `in` needs an entity or a set of entities%s", "");
		}
		if (a->kind == T_ERROR)
			return a;
		return policy_keycmp(a->name, a->nlen, e->name, e->nlen) ? &ty_false : &ty_bool;
	case E_SET: {
		const struct ty *el = NULL;
		struct ty *t;
		bool err = false;

		if (e->nargs == 0)
			return verr(v, e, "empty set literals are not allowed in strict validation%s", "");
		for (i = 0; i < e->nargs; i++) {
			a = tc(v, e->args[i]);
			if (a->kind == T_ERROR) {
				err = true;
				continue;
			}
			el = el ? lub(v, el, a) : a;
			if (!el)
				return verr(v, e, "set elements do not have the same type%s", "");
		}
		if (err)
			return &ty_error;
		t = tnew(v, T_SET);
		if (!t)
			return &ty_error;
		t->elem = el;
		return t;
	}
	case E_RECORD: {
		struct ty *t = tnew(v, T_RECORD);
		struct ty_attr *at = ANEWN(v->a, struct ty_attr, e->nargs ? e->nargs : 1);
		bool err = false;

		if (!t || !at)
			return &ty_error;
		for (i = 0; i < e->nargs; i++) {
			at[i].key = e->keys[i];
			at[i].klen = e->klens[i];
			at[i].required = 1;
			at[i].ty = tc(v, e->args[i]);
			if (at[i].ty->kind == T_ERROR)
				err = true;
		}
		if (err)
			return &ty_error;
		t->attrs = at;
		t->nattrs = e->nargs;
		return t;
	}
	case E_CALL:
		return tc_call(v, e);
	}
	return &ty_error;
}

static const struct ty *tc(struct vstate *v, const struct expr *e)
{
	const struct ty *t;

	if (++v->depth > 300) {
		v->depth--;
		return verr(v, e, "expression nested too deeply%s", "");
	}
	t = tc_inner(v, e);
	v->depth--;
	return t;
}

static bool type_ok(const struct policy_scope *sc, const char *t, uint32_t n)
{
	switch (sc->op) {
	case SCOPE_EQ:
		return !policy_keycmp(sc->uid.type, sc->uid.tlen, t, n);
	case SCOPE_IS:
	case SCOPE_IS_IN:
		return !policy_keycmp(sc->type, sc->tlen, t, n);
	}
	return true;
}

static bool action_ok(const struct policy_schema *s, const struct policy_scope *sc,
		      const struct schema_action *a)
{
	uint32_t i;

	switch (sc->op) {
	case SCOPE_ANY:
		return true;
	case SCOPE_EQ:
		return policy_uid_eq(&a->uid, &sc->uid);
	case SCOPE_IN:
		return policy_schema_action_in(s, &a->uid, &sc->uid);
	case SCOPE_IN_LIST:
		for (i = 0; i < sc->nlist; i++)
			if (policy_schema_action_in(s, &a->uid, &sc->list[i]))
				return true;
		return false;
	}
	return false;
}

static void check_scope_entities(struct vstate *v, const struct policy_scope *sc, bool action)
{
	struct expr fake;
	uint32_t i;

	memset(&fake, 0, sizeof(fake));
	fake.line = sc->line;
	fake.col = sc->col;
	if (action) {
		if (sc->op == SCOPE_EQ || sc->op == SCOPE_IN) {
			if (!policy_schema_action(v->s, &sc->uid))
				verr(v, &fake, "unrecognized action `%s`", sc->uid.id);
		} else if (sc->op == SCOPE_IN_LIST) {
			for (i = 0; i < sc->nlist; i++)
				if (!policy_schema_action(v->s, &sc->list[i]))
					verr(v, &fake, "unrecognized action `%s`", sc->list[i].id);
		}
		return;
	}
	if ((sc->op == SCOPE_EQ || sc->op == SCOPE_IN || sc->op == SCOPE_IS_IN) &&
	    !policy_schema_entity(v->s, sc->uid.type, sc->uid.tlen))
		verr(v, &fake, "unrecognized entity type `%s`", sc->uid.type);
	if ((sc->op == SCOPE_IS || sc->op == SCOPE_IS_IN) &&
	    !policy_schema_entity(v->s, sc->type, sc->tlen))
		verr(v, &fake, "unrecognized entity type `%s`", sc->type);
}

static void validate_policy(struct vstate *v, const struct policy *p)
{
	uint32_t ai, pi, ri, k;

	v->p = p;
	v->nseen = 0;
	check_scope_entities(v, &p->principal, false);
	check_scope_entities(v, &p->action, true);
	check_scope_entities(v, &p->resource, false);
	if (v->nseen)
		return;
	for (ai = 0; ai < v->s->nactions; ai++) {
		const struct schema_action *a = &v->s->actions[ai];

		if (!a->applies || !action_ok(v->s, &p->action, a))
			continue;
		for (pi = 0; pi < a->nptypes; pi++) {
			if (!type_ok(&p->principal, a->ptypes[pi], a->ptlens[pi]))
				continue;
			for (ri = 0; ri < a->nrtypes; ri++) {
				if (!type_ok(&p->resource, a->rtypes[ri], a->rtlens[ri]))
					continue;
				v->act = a;
				v->ptype = a->ptypes[pi];
				v->ptlen = a->ptlens[pi];
				v->rtype = a->rtypes[ri];
				v->rtlen = a->rtlens[ri];
				v->ncaps = 0;
				v->depth = 0;
				if (!p->cond)
					continue;
				for (k = 0; k < p->cond->nargs; k++) {
					const struct expr *c = p->cond->args[k];
					const struct ty *t = tc(v, c);

					if (t->kind != T_ERROR && !is_bool(t))
						verr(v, c, "type error: a condition must be a boolean%s", "");
					if (!c->var) /* when: its capabilities hold afterwards */
						grant(v, c);
				}
			}
		}
	}
}

int policy_set_validate(const struct policy_set *set, const struct policy_schema *s,
			policy_report_fn report, void *arg)
{
	struct vstate v;
	uint32_t i;

	if (!set->arena)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	v.s = s;
	v.a = set->arena;
	v.report = report;
	v.arg = arg;
	for (i = 0; i < set->count; i++)
		validate_policy(&v, set->policies[i]);
	return v.errors;
}
