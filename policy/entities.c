/*
 * entities.c: the entity store (hash table of entities by uid) and the
 * transitive closure of the hierarchy, computed once at load time so that
 * `in` is a scan of one ancestor list.
 * Assumes entities live in an arena at least as long as the store.
 * Leaves out: removing or updating entities (reload the store instead).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

int policy_entities_init(struct policy_entities *es, struct policy_arena *a, uint32_t n)
{
	uint32_t cap = 16;

	while (cap < n + n / 3 + 1 && cap < (1u << 30))
		cap <<= 1;
	memset(es, 0, sizeof(*es));
	es->tab = ANEWN(a, struct policy_entity *, cap);
	if (!es->tab)
		return -ENOMEM;
	es->cap = cap;
	return 0;
}

int policy_entities_add(struct policy_entities *es, struct policy_entity *e)
{
	uint32_t m = es->cap - 1, i = e->uid.hash & m;

	if ((es->count + 1) * 4 > es->cap * 3)
		return -ENOSPC;
	while (es->tab[i]) {
		if (policy_uid_eq(&es->tab[i]->uid, &e->uid))
			return -EEXIST;
		i = (i + 1) & m;
	}
	es->tab[i] = e;
	es->count++;
	return 0;
}

const struct policy_entity *policy_entities_find(const struct policy_entities *es,
						 const struct policy_uid *uid)
{
	uint32_t m, i;

	if (!es || !es->cap)
		return NULL;
	m = es->cap - 1;
	i = uid->hash & m;
	while (es->tab[i]) {
		if (policy_uid_eq(&es->tab[i]->uid, uid))
			return es->tab[i];
		i = (i + 1) & m;
	}
	return NULL;
}

static bool seen(const struct policy_uid **v, uint32_t n, const struct policy_uid *u)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (policy_uid_eq(v[i], u))
			return true;
	return false;
}

int policy_entities_close(struct policy_entities *es, struct policy_arena *a)
{
	const struct policy_uid **tmp;
	uint64_t total = 1;
	uint32_t i, j, k;

	for (i = 0; i < es->cap; i++)
		if (es->tab[i])
			total += es->tab[i]->nparents;
	if (total > UINT32_MAX / 2)
		return -E2BIG;
	tmp = ANEWN(a, const struct policy_uid *, total);
	if (!tmp)
		return -ENOMEM;
	for (i = 0; i < es->cap; i++) {
		struct policy_entity *e = es->tab[i];
		uint32_t n = 0;

		if (!e)
			continue;
		for (j = 0; j < e->nparents; j++)
			if (!seen(tmp, n, e->parents[j]))
				tmp[n++] = e->parents[j];
		for (j = 0; j < n; j++) {
			const struct policy_entity *p = policy_entities_find(es, tmp[j]);

			if (!p)
				continue;
			for (k = 0; k < p->nparents; k++)
				if (n < total && !seen(tmp, n, p->parents[k]))
					tmp[n++] = p->parents[k];
		}
		if (seen(tmp, n, &e->uid))
			return -ELOOP; /* Cedar rejects cycles in the hierarchy */
		e->ancestors = ANEWN(a, const struct policy_uid *, n ? n : 1);
		if (!e->ancestors)
			return -ENOMEM;
		memcpy(e->ancestors, tmp, sizeof(*tmp) * n);
		e->nancestors = n;
	}
	return 0;
}
