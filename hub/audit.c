/*
 * audit.c: the hash-chained audit log (audit.h). An entry's hash covers its
 * canonical serialization, which includes its id and the previous entry's
 * hash; verify recomputes every hash, checks every link and compares the
 * last entry with the head recorded beside the log.
 * Assumes: the store (hub/store/model_store.h); one thread, so reading the
 * last hash and inserting after it cannot interleave with another append.
 * Leaves out: incremental verification (verify reads the whole log).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <board.h>

#include "audit.h"
#include "mbedtls/sha256.h"
#include "store/model_store.h"

static int field(char *out, size_t len, size_t *pos, const char *name, const char *v)
{
	size_t vl = strlen(v);
	int n = snprintf(out + *pos, len - *pos, "%s=%zu:", name, vl);
	if (n < 0 || (size_t)n + vl + 1 >= len - *pos)
		return -ENOSPC;
	*pos += (size_t)n;
	memcpy(out + *pos, v, vl);
	*pos += vl;
	out[(*pos)++] = '\n';
	out[*pos] = 0;
	return 0;
}

static int ifield(char *out, size_t len, size_t *pos, const char *name, int64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%" PRId64, v);
	return field(out, len, pos, name, num);
}

int hub_audit_canonical(const struct audit_entry *e, char *out, size_t len)
{
	size_t pos = 0;
	if (len < 20)
		return -ENOSPC;
	pos = (size_t)snprintf(out, len, "hearth-audit-v1\n");
	int err = ifield(out, len, &pos, "id", e->id);
	err = err ? err : ifield(out, len, &pos, "time_ns", e->time_ns);
	err = err ? err : field(out, len, &pos, "service", e->service);
	err = err ? err : field(out, len, &pos, "category", e->category);
	err = err ? err : field(out, len, &pos, "purpose", e->purpose);
	err = err ? err : field(out, len, &pos, "decision", e->decision);
	err = err ? err : field(out, len, &pos, "policies", e->policies);
	err = err ? err : field(out, len, &pos, "obligations", e->obligations);
	err = err ? err : ifield(out, len, &pos, "records", e->records);
	err = err ? err : ifield(out, len, &pos, "bytes", e->bytes);
	err = err ? err : field(out, len, &pos, "budget_spent", e->budget_spent);
	err = err ? err : field(out, len, &pos, "prev_hash", e->prev_hash);
	return err ? err : (int)pos;
}

static char canon[4096];

int hub_audit_hash(const struct audit_entry *e, char hex[65])
{
	uint8_t h[32];
	int n = hub_audit_canonical(e, canon, sizeof(canon));
	if (n < 0)
		return n;
	mbedtls_sha256_ret((const unsigned char *)canon, (size_t)n, h, 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	return 0;
}

/* A JSON array, roughly: '[' ... ']' (SQLite's json_valid has the last
 * word on storage; this only keeps obvious garbage out of the log). */
static int arrayish(const char *s)
{
	size_t n = strlen(s);
	return n >= 2 && s[0] == '[' && s[n - 1] == ']';
}

int hub_audit_append(const struct audit_entry *in, int64_t *id_out)
{
	static struct audit_entry e;
	e = *in;
	e.service[sizeof(e.service) - 1] = e.category[sizeof(e.category) - 1] = 0;
	e.purpose[sizeof(e.purpose) - 1] = e.decision[sizeof(e.decision) - 1] = 0;
	e.policies[sizeof(e.policies) - 1] = e.obligations[sizeof(e.obligations) - 1] = 0;
	e.budget_spent[sizeof(e.budget_spent) - 1] = 0;
	if (strcmp(e.decision, "allow") && strcmp(e.decision, "deny") && strcmp(e.decision, "ask"))
		return -EINVAL;
	if (!e.policies[0])
		strcpy(e.policies, "[]");
	if (!e.obligations[0])
		strcpy(e.obligations, "[]");
	if (!arrayish(e.policies) || !arrayish(e.obligations) || e.records < 0 || e.bytes < 0)
		return -EINVAL;
	if (!e.time_ns)
		e.time_ns = time_wall_ns();
	/* The chain goes on from the head recorded beside the log, when there
	 * is one: after a cut tail, a forged last entry or entries slipped in
	 * behind the head, the new entry then shows the break to verify
	 * (order or prev_hash) instead of sealing the edited log with a
	 * fresh head. */
	int64_t last, head_id;
	char head[65];
	int err = store_audit_last(&last, e.prev_hash);
	if (err)
		return err;
	err = store_audit_head(&head_id, head);
	if (err == 0) {
		memcpy(e.prev_hash, head, sizeof(e.prev_hash));
		if (head_id > last)
			last = head_id;
	} else if (err != -ENOENT && err != -EBADMSG) {
		return err;
	}
	e.id = last + 1;
	if ((err = hub_audit_hash(&e, e.hash)) || (err = store_audit_insert(&e)))
		return err;
	if (id_out)
		*id_out = e.id;
	return 0;
}

int hub_audit_ref(int64_t audit_id, int64_t record_seq)
{
	return store_audit_ref(audit_id, record_seq);
}

struct walk {
	struct audit_verify *v;
	char prev[65];
	int64_t last_id;
};

static int check_one(const struct audit_entry *e, void *arg)
{
	struct walk *w = arg;
	char h[65];
	w->v->entries++;
	if (e->id != w->last_id + 1)
		w->v->reason = "order";
	else if (strcmp(e->prev_hash, w->prev))
		w->v->reason = "prev_hash";
	else if (hub_audit_hash(e, h) || strcmp(h, e->hash))
		w->v->reason = "hash";
	else {
		w->last_id = e->id;
		memcpy(w->prev, e->hash, sizeof(w->prev));
		return 0;
	}
	w->v->ok = 0;
	w->v->first_bad_id = e->id;
	return 1;
}

int hub_audit_verify(struct audit_verify *v)
{
	struct walk w = {.v = v, .last_id = 0};
	memset(v, 0, sizeof(*v));
	memset(w.prev, '0', 64);
	w.prev[64] = 0;
	v->ok = 1;
	v->reason = "";
	int err = store_audit_walk(check_one, &w);
	if (err < 0)
		return err;
	memcpy(v->head, w.prev, sizeof(v->head));
	if (!v->ok)
		return 0;
	int64_t head_id;
	char head[65];
	err = store_audit_head(&head_id, head);
	if (err == -ENOENT && w.last_id == 0)
		return 0; /* empty log, never written */
	if (err && err != -ENOENT && err != -EBADMSG)
		return err;
	if (err || head_id != w.last_id || strcmp(head, w.prev)) {
		/* The tail was cut (or the head damaged): the first entry that
		 * should be there and is not, or the last one if it differs. */
		v->ok = 0;
		v->reason = "head";
		v->first_bad_id = !err && head_id > w.last_id ? w.last_id + 1 : w.last_id;
	}
	return 0;
}
