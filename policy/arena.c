/*
 * arena.c: the bump allocator behind every policy structure.
 * Assumes the caller provides the first buffer; more chunks only through the
 * caller's grow callback (the engine itself never calls malloc).
 * Leaves out: freeing single allocations (arenas are reset or dropped whole).
 */
#include <string.h>

#include "policy.h"

/* The largest single allocation asked of the arena: 1 TiB on 64-bit, half
 * the address space on 32-bit. */
#if SIZE_MAX > 0xffffffffu
#define ARENA_MAX_ALLOC ((size_t)1 << 40)
#else
#define ARENA_MAX_ALLOC (SIZE_MAX / 2)
#endif

struct policy_arena_chunk {
	struct policy_arena_chunk *next;
	size_t len;
};

void policy_arena_init(struct policy_arena *a, void *buf, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->len = buf ? len : 0;
}

void *policy_arena_alloc(struct policy_arena *a, size_t n)
{
	size_t off = (a->used + 7) & ~(size_t)7;
	void *p;

	if (n == 0)
		n = 1;
	if (off > a->len || a->len - off < n) {
		struct policy_arena_chunk *c;
		size_t want;

		if (!a->grow || n > ARENA_MAX_ALLOC)
			return NULL;
		want = n + 64 > (size_t)1 << 20 ? n + 64 : (size_t)1 << 20;
		if (a->len * 2 > want && a->len < ((size_t)1 << 30))
			want = a->len * 2;
		c = a->grow(want);
		if (!c)
			return NULL;
		c->next = a->chunks;
		c->len = want;
		a->chunks = c;
		a->buf = (uint8_t *)c;
		a->len = want;
		off = (sizeof(*c) + 7) & ~(size_t)7;
	}
	p = a->buf + off;
	a->used = off + n;
	a->total += n;
	memset(p, 0, n);
	return p;
}

void policy_arena_reset(struct policy_arena *a)
{
	/* Only valid for arenas without grown chunks (decision scratch). */
	if (!a->chunks)
		a->used = 0;
}

void policy_arena_release(struct policy_arena *a)
{
	struct policy_arena_chunk *c = a->chunks, *n;

	while (c) {
		n = c->next;
		if (a->release)
			a->release(c);
		c = n;
	}
	a->chunks = NULL;
	a->buf = NULL;
	a->len = a->used = 0;
}
