/*
 * index.c: the scope index of a policy set. Each policy is filed under one
 * key taken from its scope (the most selective of: principal ==/in uid,
 * resource ==/in uid, action ==/in uid(s), principal/resource is Type), or
 * in the unindexed list when its scope is unconstrained. A decision probes
 * the request's principal, action and resource (and their ancestors, for
 * `in`) and evaluates only the policies found.
 * Assumes the set's policies no longer change once indexed.
 * Leaves out: indexing on conditions (only scopes are indexed).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

enum { SL_P, SL_A, SL_R, SL_PT, SL_RT, SL_N };

struct ientry {
	uint8_t slot;
	const struct policy_uid *uid; /* for type slots: uid with the type only */
	uint32_t policy;
};

struct ibucket {
	uint8_t slot;
	const struct policy_uid *uid;
	uint32_t start, count; /* in policies[] */
};

struct policy_index {
	struct ibucket *tab; /* open addressing */
	uint32_t cap;
	uint32_t *policies;
	uint32_t *unindexed;
	uint32_t nunindexed;
	uint8_t used[SL_N]; /* which slots have entries */
};

static uint32_t khash(uint8_t slot, const struct policy_uid *u)
{
	return (u->hash ^ (slot * 0x9e3779b9u)) * 2654435761u;
}

static int ecmp(const struct ientry *a, const struct ientry *b)
{
	int c;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	if (a->uid->hash != b->uid->hash)
		return a->uid->hash < b->uid->hash ? -1 : 1;
	c = policy_keycmp(a->uid->type, a->uid->tlen, b->uid->type, b->uid->tlen);
	if (!c)
		c = policy_keycmp(a->uid->id, a->uid->ilen, b->uid->id, b->uid->ilen);
	if (!c && a->policy != b->policy)
		c = a->policy < b->policy ? -1 : 1;
	return c;
}

/* heap sort: load time only, no recursion */
static void sift(struct ientry *v, size_t i, size_t n)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct ientry t;

		if (l < n && ecmp(&v[l], &v[m]) > 0)
			m = l;
		if (l + 1 < n && ecmp(&v[l + 1], &v[m]) > 0)
			m = l + 1;
		if (m == i)
			return;
		t = v[i];
		v[i] = v[m];
		v[m] = t;
		i = m;
	}
}

static void esort(struct ientry *v, size_t n)
{
	size_t i;

	for (i = n / 2; i-- > 0;)
		sift(v, i, n);
	for (i = n; i-- > 1;) {
		struct ientry t = v[0];

		v[0] = v[i];
		v[i] = t;
		sift(v, 0, i);
	}
}

static const struct policy_uid *type_key(struct policy_arena *a, const char *t, uint32_t n)
{
	struct policy_uid *u = ANEW(a, struct policy_uid);

	if (!u)
		return NULL;
	u->type = t;
	u->tlen = n;
	u->id = "";
	policy_uid_hash(u);
	return u;
}

int policy_index_build(struct policy_set *set, struct policy_arena *a)
{
	struct policy_index *ix = ANEW(a, struct policy_index);
	struct ientry *ents;
	uint64_t nent = 0;
	uint32_t i, j, n = 0, nb = 0, un = 0;

	if (!ix)
		return -ENOMEM;
	for (i = 0; i < set->count; i++)
		nent += set->policies[i]->action.nlist + 1;
	if (nent > UINT32_MAX / 4)
		return -E2BIG;
	ents = ANEWN(a, struct ientry, nent + 1);
	ix->unindexed = ANEWN(a, uint32_t, set->count + 1);
	if (!ents || !ix->unindexed)
		return -ENOMEM;
	for (i = 0; i < set->count; i++) {
		const struct policy *p = set->policies[i];
		const struct policy_scope *ps = &p->principal, *as = &p->action, *rs = &p->resource;

		if (ps->op == SCOPE_EQ) {
			ents[n++] = (struct ientry){ SL_P, &ps->uid, i };
		} else if (rs->op == SCOPE_EQ) {
			ents[n++] = (struct ientry){ SL_R, &rs->uid, i };
		} else if (ps->op == SCOPE_IN || ps->op == SCOPE_IS_IN) {
			ents[n++] = (struct ientry){ SL_P, &ps->uid, i };
		} else if (rs->op == SCOPE_IN || rs->op == SCOPE_IS_IN) {
			ents[n++] = (struct ientry){ SL_R, &rs->uid, i };
		} else if (as->op == SCOPE_EQ || as->op == SCOPE_IN) {
			ents[n++] = (struct ientry){ SL_A, &as->uid, i };
		} else if (as->op == SCOPE_IN_LIST) {
			for (j = 0; j < as->nlist; j++)
				ents[n++] = (struct ientry){ SL_A, &as->list[j], i };
			/* an empty list matches nothing: no entry at all */
		} else if (ps->op == SCOPE_IS) {
			const struct policy_uid *u = type_key(a, ps->type, ps->tlen);

			if (!u)
				return -ENOMEM;
			ents[n++] = (struct ientry){ SL_PT, u, i };
		} else if (rs->op == SCOPE_IS) {
			const struct policy_uid *u = type_key(a, rs->type, rs->tlen);

			if (!u)
				return -ENOMEM;
			ents[n++] = (struct ientry){ SL_RT, u, i };
		} else {
			ix->unindexed[un++] = i;
		}
	}
	ix->nunindexed = un;
	esort(ents, n);
	ix->policies = ANEWN(a, uint32_t, n + 1);
	for (i = 0; i < n; i++)
		if (!i || ents[i].slot != ents[i - 1].slot ||
		    !policy_uid_eq(ents[i].uid, ents[i - 1].uid))
			nb++;
	ix->cap = 16;
	while (ix->cap < nb * 2)
		ix->cap <<= 1;
	ix->tab = ANEWN(a, struct ibucket, ix->cap);
	if (!ix->policies || !ix->tab)
		return -ENOMEM;
	for (i = 0; i < n;) {
		uint32_t k = i, h;

		while (k < n && ents[k].slot == ents[i].slot && policy_uid_eq(ents[k].uid, ents[i].uid)) {
			ix->policies[k] = ents[k].policy;
			k++;
		}
		h = khash(ents[i].slot, ents[i].uid) & (ix->cap - 1);
		while (ix->tab[h].uid)
			h = (h + 1) & (ix->cap - 1);
		ix->tab[h] = (struct ibucket){ ents[i].slot, ents[i].uid, i, k - i };
		ix->used[ents[i].slot] = 1;
		i = k;
	}
	set->index = ix;
	return 0;
}

static const struct ibucket *lookup(const struct policy_index *ix, uint8_t slot,
				    const struct policy_uid *u)
{
	uint32_t h = khash(slot, u) & (ix->cap - 1);

	while (ix->tab[h].uid) {
		if (ix->tab[h].slot == slot && policy_uid_eq(ix->tab[h].uid, u))
			return &ix->tab[h];
		h = (h + 1) & (ix->cap - 1);
	}
	return NULL;
}

static void visit_bucket(const struct policy_set *set, const struct ibucket *b,
			 struct policy_decision *d, policy_visit_fn visit, void *arg)
{
	uint32_t i;

	if (!b)
		return;
	for (i = 0; i < b->count; i++) {
		uint32_t pi = set->index->policies[b->start + i];

		if (d->mark[pi] == d->gen)
			continue;
		d->mark[pi] = d->gen;
		visit(set->policies[pi], arg);
	}
}

static void probe(const struct policy_set *set, uint8_t slot, const struct policy_uid *u,
		  const struct policy_entities *es, struct policy_decision *d,
		  policy_visit_fn visit, void *arg)
{
	const struct policy_index *ix = set->index;
	const struct policy_entity *e;
	uint32_t i;

	if (!ix->used[slot])
		return;
	visit_bucket(set, lookup(ix, slot, u), d, visit, arg);
	e = policy_entities_find(es, u);
	if (!e)
		return;
	for (i = 0; i < e->nancestors; i++)
		visit_bucket(set, lookup(ix, slot, e->ancestors[i]), d, visit, arg);
}

static void probe_type(const struct policy_set *set, uint8_t slot, const struct policy_uid *u,
		       struct policy_decision *d, policy_visit_fn visit, void *arg)
{
	struct policy_uid t;

	if (!set->index->used[slot])
		return;
	t.type = u->type;
	t.tlen = u->tlen;
	t.id = "";
	t.ilen = 0;
	policy_uid_hash(&t);
	visit_bucket(set, lookup(set->index, slot, &t), d, visit, arg);
}

void policy_index_candidates(const struct policy_set *set, const struct policy_request *req,
			     struct policy_decision *d, policy_visit_fn visit, void *arg)
{
	const struct policy_index *ix = set->index;
	uint32_t i;

	if (++d->gen == 0) {
		memset(d->mark, 0, sizeof(*d->mark) * d->markcap);
		d->gen = 1;
	}
	probe(set, SL_P, &req->principal, req->entities, d, visit, arg);
	probe(set, SL_R, &req->resource, req->entities, d, visit, arg);
	probe(set, SL_A, &req->action, req->entities, d, visit, arg);
	probe_type(set, SL_PT, &req->principal, d, visit, arg);
	probe_type(set, SL_RT, &req->resource, d, visit, arg);
	for (i = 0; i < ix->nunindexed; i++)
		visit(set->policies[ix->unindexed[i]], arg);
}
