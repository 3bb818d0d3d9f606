/*
 * authorize.c: Cedar's authorizer. A policy is satisfied when its scope
 * matches and every when/unless condition holds; forbid overrides permit;
 * no satisfied permit means deny. Reasons are the determining policies
 * (the satisfied forbids on a deny by forbid, else the satisfied permits),
 * errors the policies whose conditions failed to evaluate (ignored for the
 * decision, as Cedar does).
 * Assumes a set indexed by policy_set_parse; memory only from the decision.
 * Leaves out: error messages (policy_eval_strerror has the kind only).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

int policy_decision_init(struct policy_decision *d, void *buf, size_t len, uint32_t maxpolicies)
{
	size_t need = (size_t)maxpolicies * (4 + 4 + 4 + sizeof(void *)) + 64;
	uint8_t *p = buf;
	uintptr_t al;

	memset(d, 0, sizeof(*d));
	if (len < need + 1024)
		return -ENOMEM;
	al = (uintptr_t)p & 7;
	if (al) {
		p += 8 - al;
		len -= 8 - al;
	}
	d->obligations = (const struct policy_obligations **)(void *)p;
	p += sizeof(void *) * maxpolicies;
	d->reasons = (uint32_t *)(void *)p;
	p += 4 * (size_t)maxpolicies;
	d->errors = (uint32_t *)(void *)p;
	p += 4 * (size_t)maxpolicies;
	d->mark = (uint32_t *)(void *)p;
	p += 4 * (size_t)maxpolicies;
	memset(d->mark, 0, 4 * (size_t)maxpolicies);
	al = (uintptr_t)p & 7;
	if (al)
		p += 8 - al;
	d->cap = d->markcap = maxpolicies;
	policy_arena_init(&d->scratch, p, len - (size_t)(p - (uint8_t *)buf));
	return 0;
}

struct run {
	const struct policy_request *req;
	struct policy_decision *d;
	struct eval_ctx ctx;
	uint32_t npermit, nforbid;
	uint32_t *forbids; /* satisfied forbids go to errors' tail, see below */
};

static void sort_u32(uint32_t *v, uint32_t n)
{
	uint32_t i, j;

	for (i = 1; i < n; i++) {
		uint32_t t = v[i];

		for (j = i; j > 0 && v[j - 1] > t; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/*
 * Satisfied permits are collected at the front of reasons[], satisfied
 * forbids at its back (growing down): a policy is one or the other, so
 * they fit in cap entries together.
 */
static void consider(const struct policy *p, void *arg)
{
	struct run *r = arg;
	struct policy_decision *d = r->d;
	const struct policy_request *req = r->req;
	struct policy_value v;
	int err;

	if (!policy_scope_match(&p->principal, &req->principal, req->entities) ||
	    !policy_scope_match(&p->action, &req->action, req->entities) ||
	    !policy_scope_match(&p->resource, &req->resource, req->entities))
		return;
	if (p->cond) {
		d->evaluated++;
		policy_arena_reset(&d->scratch);
		r->ctx.depth = 0;
		err = policy_eval(&r->ctx, p->cond, &v);
		if (err) {
			d->errors[d->nerrors++] = p->index;
			return;
		}
		if (v.type != PV_BOOL || !v.u.b)
			return;
	}
	if (p->effect == POLICY_FORBID)
		d->reasons[d->cap - ++r->nforbid] = p->index;
	else
		d->reasons[r->npermit++] = p->index;
}

int policy_decide(const struct policy_set *set, const struct policy_request *req,
		  struct policy_decision *out)
{
	struct run r;
	uint32_t i;

	if (set->count > out->cap)
		return -ENOSPC;
	memset(&r, 0, sizeof(r));
	r.req = req;
	r.d = out;
	r.ctx.req = req;
	r.ctx.scratch = &out->scratch;
	r.ctx.pv.type = r.ctx.av.type = r.ctx.rv.type = PV_ENTITY;
	r.ctx.pv.u.uid = &req->principal;
	r.ctx.av.u.uid = &req->action;
	r.ctx.rv.u.uid = &req->resource;
	out->allow = false;
	out->nreasons = out->nerrors = 0;
	out->evaluated = 0;
	policy_index_candidates(set, req, out, consider, &r);
	if (r.nforbid) {
		memmove(out->reasons, out->reasons + out->cap - r.nforbid,
			sizeof(*out->reasons) * r.nforbid);
		out->nreasons = r.nforbid;
	} else if (r.npermit) {
		out->allow = true;
		out->nreasons = r.npermit;
	}
	sort_u32(out->reasons, out->nreasons);
	sort_u32(out->errors, out->nerrors);
	for (i = 0; i < out->nreasons; i++)
		out->obligations[i] = out->allow ? set->policies[out->reasons[i]]->obligations : NULL;
	return 0;
}
