/*
 * eval.c: the evaluator of Cedar expressions, with Cedar's error rules
 * (a type error, a missing attribute or entity, an overflow or a bad
 * extension literal makes the whole condition an error).
 * Assumes trees from parser.c (height bounded there; depth re-checked here)
 * and a request whose entity store has transitive ancestors computed.
 * Leaves out: partial evaluation (unknowns).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define EVAL_MAX_DEPTH 256
#define DAY_MS 86400000LL

const char *policy_eval_strerror(int err)
{
	switch (err) {
	case EV_TYPE: return "type error";
	case EV_NOATTR: return "attribute does not exist";
	case EV_NOENTITY: return "entity does not exist";
	case EV_OVERFLOW: return "integer overflow";
	case EV_EXT: return "extension function error";
	case EV_NOMEM: return "out of evaluation memory";
	case EV_NOTAG: return "tag does not exist";
	case EV_DEPTH: return "expression nested too deeply";
	}
	return "error";
}

bool policy_entity_in(const struct policy_entities *es, const struct policy_uid *a,
		      const struct policy_uid *b)
{
	const struct policy_entity *e;
	uint32_t i;

	if (policy_uid_eq(a, b))
		return true;
	if (!es || !(e = policy_entities_find(es, a)))
		return false;
	for (i = 0; i < e->nancestors; i++)
		if (policy_uid_eq(e->ancestors[i], b))
			return true;
	return false;
}

bool policy_scope_match(const struct policy_scope *s, const struct policy_uid *u,
			const struct policy_entities *es)
{
	uint32_t i;

	switch (s->op) {
	case SCOPE_ANY:
		return true;
	case SCOPE_EQ:
		return policy_uid_eq(u, &s->uid);
	case SCOPE_IN:
		return policy_entity_in(es, u, &s->uid);
	case SCOPE_IS:
		return u->tlen == s->tlen && !memcmp(u->type, s->type, s->tlen);
	case SCOPE_IS_IN:
		return u->tlen == s->tlen && !memcmp(u->type, s->type, s->tlen) &&
		       policy_entity_in(es, u, &s->uid);
	case SCOPE_IN_LIST:
		for (i = 0; i < s->nlist; i++)
			if (policy_entity_in(es, u, &s->list[i]))
				return true;
		return false;
	}
	return false;
}

bool policy_like(const uint8_t *s, uint32_t n, const struct pattern *p)
{
	uint32_t si = 0, pi = 0, star_p = UINT32_MAX, star_s = 0;

	while (si < n) {
		if (pi < p->n && !p->wild[pi] && p->c[pi] == s[si]) {
			si++;
			pi++;
		} else if (pi < p->n && p->wild[pi]) {
			star_p = pi++;
			star_s = si;
		} else if (star_p != UINT32_MAX) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < p->n && p->wild[pi])
		pi++;
	return pi == p->n;
}

static void mkbool(struct policy_value *v, bool b)
{
	v->type = PV_BOOL;
	v->n = 0;
	v->u.b = b;
}

static void mklong(struct policy_value *v, uint8_t type, int64_t l)
{
	v->type = type;
	v->n = 0;
	v->u.l = l;
}

static int eval_bool(struct eval_ctx *c, const struct expr *e, bool *b)
{
	struct policy_value v;
	int r = policy_eval(c, e, &v);

	if (r)
		return r;
	if (v.type != PV_BOOL)
		return EV_TYPE;
	*b = v.u.b;
	return 0;
}

static bool set_contains(const struct policy_value *set, const struct policy_value *v)
{
	uint32_t i;

	for (i = 0; i < set->n; i++)
		if (policy_value_eq(&set->u.set[i], v))
			return true;
	return false;
}

static void ip_range(const struct policy_value *v, uint8_t lo[16], uint8_t hi[16])
{
	int bits = v->u.ip.v6 ? 128 : 32, i;

	for (i = 0; i < 16; i++) {
		int start = i * 8, keep;
		uint8_t mask;

		if (start >= bits) {
			lo[i] = hi[i] = 0;
			continue;
		}
		keep = v->u.ip.prefix - start;
		if (keep >= 8)
			mask = 0xff;
		else if (keep <= 0)
			mask = 0;
		else
			mask = (uint8_t)(0xff << (8 - keep));
		lo[i] = v->u.ip.addr[i] & mask;
		hi[i] = (uint8_t)(lo[i] | (uint8_t)~mask);
	}
}

/* Is range a within range b (same family)? */
static bool ip_in_range(const struct policy_value *a, const struct policy_value *b)
{
	uint8_t alo[16], ahi[16], blo[16], bhi[16];

	if (a->u.ip.v6 != b->u.ip.v6)
		return false;
	ip_range(a, alo, ahi);
	ip_range(b, blo, bhi);
	return memcmp(blo, alo, 16) <= 0 && memcmp(ahi, bhi, 16) <= 0;
}

static bool ip_in_const(const struct policy_value *a, bool v6, const char *cidr)
{
	struct policy_value r;

	if (a->u.ip.v6 != v6 || policy_ip_parse(cidr, strlen(cidr), &r))
		return false;
	return ip_in_range(a, &r);
}

static int call_ext_ctor(int fn, const struct policy_value *arg, struct policy_value *out)
{
	int64_t l;

	if (arg->type != PV_STRING)
		return EV_TYPE;
	switch (fn) {
	case F_IP:
		return policy_ip_parse(arg->u.s, arg->n, out) ? EV_EXT : 0;
	case F_DECIMAL:
		if (policy_decimal_parse(arg->u.s, arg->n, &l))
			return EV_EXT;
		mklong(out, PV_DECIMAL, l);
		return 0;
	case F_DATETIME:
		if (policy_datetime_parse(arg->u.s, arg->n, &l))
			return EV_EXT;
		mklong(out, PV_DATETIME, l);
		return 0;
	case F_DURATION:
		if (policy_duration_parse(arg->u.s, arg->n, &l))
			return EV_EXT;
		mklong(out, PV_DURATION, l);
		return 0;
	}
	return EV_TYPE;
}

static int eval_call(struct eval_ctx *c, const struct expr *e, struct policy_value *out)
{
	struct policy_value v[2];
	const struct policy_entity *ent;
	const struct policy_value *x;
	uint32_t i;
	int r, fn = e->fn;
	int64_t l;

	for (i = 0; i < e->nargs && i < 2; i++)
		if ((r = policy_eval(c, e->args[i], &v[i])))
			return r;
	if (fn <= F_DURATION && fn >= F_IP)
		return call_ext_ctor(fn, &v[0], out);
	switch (fn) {
	case F_CONTAINS:
		if (v[0].type != PV_SET)
			return EV_TYPE;
		mkbool(out, set_contains(&v[0], &v[1]));
		return 0;
	case F_CONTAINSALL:
	case F_CONTAINSANY:
		if (v[0].type != PV_SET || v[1].type != PV_SET)
			return EV_TYPE;
		for (i = 0; i < v[1].n; i++) {
			bool in = set_contains(&v[0], &v[1].u.set[i]);

			if (fn == F_CONTAINSALL && !in) {
				mkbool(out, false);
				return 0;
			}
			if (fn == F_CONTAINSANY && in) {
				mkbool(out, true);
				return 0;
			}
		}
		mkbool(out, fn == F_CONTAINSALL);
		return 0;
	case F_ISEMPTY:
		if (v[0].type != PV_SET)
			return EV_TYPE;
		mkbool(out, v[0].n == 0);
		return 0;
	case F_GETTAG:
	case F_HASTAG:
		if (v[0].type != PV_ENTITY || v[1].type != PV_STRING)
			return EV_TYPE;
		ent = c->req ? policy_entities_find(c->req->entities, v[0].u.uid) : NULL;
		if (!ent) {
			if (fn == F_HASTAG) {
				mkbool(out, false);
				return 0;
			}
			return EV_NOENTITY;
		}
		x = ent->tags.type == PV_RECORD ? policy_record_get(&ent->tags, v[1].u.s, v[1].n) : NULL;
		if (fn == F_HASTAG) {
			mkbool(out, x != NULL);
			return 0;
		}
		if (!x)
			return EV_NOTAG;
		*out = *x;
		return 0;
	case F_ISIPV4:
	case F_ISIPV6:
	case F_ISLOOPBACK:
	case F_ISMULTICAST:
		if (v[0].type != PV_IP)
			return EV_TYPE;
		if (fn == F_ISIPV4)
			mkbool(out, !v[0].u.ip.v6);
		else if (fn == F_ISIPV6)
			mkbool(out, v[0].u.ip.v6);
		else if (fn == F_ISLOOPBACK)
			mkbool(out, ip_in_const(&v[0], false, "127.0.0.0/8") ||
					    ip_in_const(&v[0], true, "::1/128"));
		else
			mkbool(out, ip_in_const(&v[0], false, "224.0.0.0/4") ||
					    ip_in_const(&v[0], true, "ff00::/8"));
		return 0;
	case F_ISINRANGE:
		if (v[0].type != PV_IP || v[1].type != PV_IP)
			return EV_TYPE;
		mkbool(out, ip_in_range(&v[0], &v[1]));
		return 0;
	case F_DLT:
	case F_DLE:
	case F_DGT:
	case F_DGE:
		if (v[0].type != PV_DECIMAL || v[1].type != PV_DECIMAL)
			return EV_TYPE;
		mkbool(out, fn == F_DLT ? v[0].u.l < v[1].u.l :
			    fn == F_DLE ? v[0].u.l <= v[1].u.l :
			    fn == F_DGT ? v[0].u.l > v[1].u.l : v[0].u.l >= v[1].u.l);
		return 0;
	case F_OFFSET:
		if (v[0].type != PV_DATETIME || v[1].type != PV_DURATION)
			return EV_TYPE;
		if (__builtin_add_overflow(v[0].u.l, v[1].u.l, &l))
			return EV_OVERFLOW;
		mklong(out, PV_DATETIME, l);
		return 0;
	case F_DURATIONSINCE:
		if (v[0].type != PV_DATETIME || v[1].type != PV_DATETIME)
			return EV_TYPE;
		if (__builtin_sub_overflow(v[0].u.l, v[1].u.l, &l))
			return EV_OVERFLOW;
		mklong(out, PV_DURATION, l);
		return 0;
	case F_TODATE:
		if (v[0].type != PV_DATETIME)
			return EV_TYPE;
		l = v[0].u.l;
		if (l >= 0 || l % DAY_MS == 0) {
			l -= l % DAY_MS;
		} else {
			l -= l % DAY_MS;
			if (__builtin_sub_overflow(l, DAY_MS, &l))
				return EV_OVERFLOW;
		}
		mklong(out, PV_DATETIME, l);
		return 0;
	case F_TOTIME:
		if (v[0].type != PV_DATETIME)
			return EV_TYPE;
		l = v[0].u.l % DAY_MS;
		if (l < 0)
			l += DAY_MS;
		mklong(out, PV_DURATION, l);
		return 0;
	case F_TOMS:
	case F_TOSEC:
	case F_TOMIN:
	case F_TOHOURS:
	case F_TODAYS: {
		static const int64_t div[] = { 1, 1000, 60000, 3600000, DAY_MS };

		if (v[0].type != PV_DURATION)
			return EV_TYPE;
		mklong(out, PV_LONG, v[0].u.l / div[fn - F_TOMS]);
		return 0;
	}
	}
	return EV_TYPE;
}

static int cmp_op(int kind, const struct policy_value *a, const struct policy_value *b,
		  struct policy_value *out)
{
	if (a->type != b->type ||
	    (a->type != PV_LONG && a->type != PV_DATETIME && a->type != PV_DURATION))
		return EV_TYPE;
	switch (kind) {
	case E_LT: mkbool(out, a->u.l < b->u.l); break;
	case E_LE: mkbool(out, a->u.l <= b->u.l); break;
	case E_GT: mkbool(out, a->u.l > b->u.l); break;
	default: mkbool(out, a->u.l >= b->u.l); break;
	}
	return 0;
}

static int eval_in(struct eval_ctx *c, const struct policy_value *a,
		   const struct policy_value *b, bool *res)
{
	const struct policy_entities *es = c->req ? c->req->entities : NULL;
	uint32_t i;

	if (a->type != PV_ENTITY)
		return EV_TYPE;
	if (b->type == PV_ENTITY) {
		*res = policy_entity_in(es, a->u.uid, b->u.uid);
		return 0;
	}
	if (b->type != PV_SET)
		return EV_TYPE;
	for (i = 0; i < b->n; i++)
		if (b->u.set[i].type != PV_ENTITY)
			return EV_TYPE;
	*res = false;
	for (i = 0; i < b->n; i++)
		if (policy_entity_in(es, a->u.uid, b->u.set[i].u.uid)) {
			*res = true;
			break;
		}
	return 0;
}

static int eval_inner(struct eval_ctx *c, const struct expr *e, struct policy_value *out)
{
	struct policy_value a, b;
	const struct policy_entity *ent;
	const struct policy_value *x;
	uint32_t i;
	int r;
	bool t;
	int64_t l;

	switch (e->kind) {
	case E_LIT:
		*out = e->lit;
		return 0;
	case E_VAR:
		if (!c->req)
			return EV_TYPE;
		switch (e->var) {
		case VAR_PRINCIPAL: *out = c->pv; break;
		case VAR_ACTION: *out = c->av; break;
		case VAR_RESOURCE: *out = c->rv; break;
		default: *out = c->req->context; break;
		}
		return 0;
	case E_NOT:
		if ((r = eval_bool(c, e->a, &t)))
			return r;
		mkbool(out, !t);
		return 0;
	case E_NEG:
		if ((r = policy_eval(c, e->a, &a)))
			return r;
		if (a.type != PV_LONG)
			return EV_TYPE;
		if (a.u.l == INT64_MIN)
			return EV_OVERFLOW;
		mklong(out, PV_LONG, -a.u.l);
		return 0;
	case E_AND:
	case E_OR:
		for (i = 0; i < e->nargs; i++) {
			if ((r = eval_bool(c, e->args[i], &t)))
				return r;
			if (t == (e->kind == E_OR)) {
				mkbool(out, t);
				return 0;
			}
		}
		mkbool(out, e->kind == E_AND);
		return 0;
	case E_IF:
		if ((r = eval_bool(c, e->a, &t)))
			return r;
		return policy_eval(c, t ? e->b : e->c, out);
	default:
		break;
	}
	switch (e->kind) {
	case E_EQ: case E_NE: case E_LT: case E_LE: case E_GT: case E_GE:
	case E_ADD: case E_SUB: case E_MUL: case E_IN:
		if ((r = policy_eval(c, e->a, &a)) || (r = policy_eval(c, e->b, &b)))
			return r;
		break;
	}
	switch (e->kind) {
	case E_EQ:
	case E_NE:
		mkbool(out, policy_value_eq(&a, &b) == (e->kind == E_EQ));
		return 0;
	case E_LT:
	case E_LE:
	case E_GT:
	case E_GE:
		return cmp_op(e->kind, &a, &b, out);
	case E_ADD:
	case E_SUB:
	case E_MUL:
		if (a.type != PV_LONG || b.type != PV_LONG)
			return EV_TYPE;
		if (e->kind == E_ADD ? __builtin_add_overflow(a.u.l, b.u.l, &l) :
		    e->kind == E_SUB ? __builtin_sub_overflow(a.u.l, b.u.l, &l) :
				       __builtin_mul_overflow(a.u.l, b.u.l, &l))
			return EV_OVERFLOW;
		mklong(out, PV_LONG, l);
		return 0;
	case E_IN:
		if ((r = eval_in(c, &a, &b, &t)))
			return r;
		mkbool(out, t);
		return 0;
	case E_HAS:
	case E_ATTR:
		if ((r = policy_eval(c, e->a, &a)))
			return r;
		if (a.type == PV_ENTITY) {
			ent = c->req ? policy_entities_find(c->req->entities, a.u.uid) : NULL;
			if (!ent) {
				if (e->kind == E_HAS) {
					mkbool(out, false);
					return 0;
				}
				return EV_NOENTITY;
			}
			x = policy_record_get(&ent->attrs, e->name, e->nlen);
		} else if (a.type == PV_RECORD) {
			x = policy_record_get(&a, e->name, e->nlen);
		} else {
			return EV_TYPE;
		}
		if (e->kind == E_HAS) {
			mkbool(out, x != NULL);
			return 0;
		}
		if (!x)
			return EV_NOATTR;
		*out = *x;
		return 0;
	case E_LIKE:
		if ((r = policy_eval(c, e->a, &a)))
			return r;
		if (a.type != PV_STRING)
			return EV_TYPE;
		mkbool(out, policy_like((const uint8_t *)a.u.s, a.n, &e->pat));
		return 0;
	case E_IS:
		if ((r = policy_eval(c, e->a, &a)))
			return r;
		if (a.type != PV_ENTITY)
			return EV_TYPE;
		t = a.u.uid->tlen == e->nlen && !memcmp(a.u.uid->type, e->name, e->nlen);
		if (t && e->b) {
			if ((r = policy_eval(c, e->b, &b)) || (r = eval_in(c, &a, &b, &t)))
				return r;
		}
		mkbool(out, t);
		return 0;
	case E_SET: {
		struct policy_value *v = ANEWN(c->scratch, struct policy_value, e->nargs);

		if (!v)
			return EV_NOMEM;
		for (i = 0; i < e->nargs; i++)
			if ((r = policy_eval(c, e->args[i], &v[i])))
				return r;
		out->type = PV_SET;
		out->n = e->nargs;
		out->u.set = v;
		return 0;
	}
	case E_RECORD: {
		struct policy_field *f = ANEWN(c->scratch, struct policy_field, e->nargs);

		if (!f)
			return EV_NOMEM;
		for (i = 0; i < e->nargs; i++) {
			f[i].key = e->keys[i];
			f[i].klen = e->klens[i];
			if ((r = policy_eval(c, e->args[i], &f[i].v)))
				return r;
		}
		out->type = PV_RECORD;
		out->n = e->nargs;
		out->u.rec = f;
		return 0;
	}
	case E_CALL:
		return eval_call(c, e, out);
	}
	return EV_TYPE;
}

int policy_eval(struct eval_ctx *c, const struct expr *e, struct policy_value *out)
{
	int r;

	if (e->kind == E_LIT) {
		*out = e->lit;
		return 0;
	}
	if (++c->depth > EVAL_MAX_DEPTH) {
		c->depth--;
		return EV_DEPTH;
	}
	r = eval_inner(c, e, out);
	c->depth--;
	return r;
}
