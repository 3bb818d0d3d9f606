/*
 * audit.h: the append-only, hash-chained audit log. Every release decision
 * (allow, deny, ask) and every owner action on personal data (export,
 * delete) becomes one entry: who, which category, for what purpose, the
 * decision, the determining policies, the obligations applied, how many
 * records and bytes left, the budget spent, when; and prev_hash, the hash
 * of the entry before it. hash = SHA-256 over the canonical serialization
 * (hub_audit_canonical) of all of it, so editing, removing or reordering an
 * entry breaks the chain at that entry, and the chain head kept beside the
 * log (store key "audit.head") catches a cut tail. An append chains from
 * that head (id after it, its hash as prev_hash), so an edited tail stays
 * visible after later appends.
 * Assumes: the store (hub/store); mbedTLS's SHA-256.
 * Leaves out: signing the head with a device key, export to a remote witness.
 */
#ifndef HUB_AUDIT_H
#define HUB_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct audit_entry {
	int64_t id;		/* set by hub_audit_append (1, 2, ...) */
	int64_t time_ns;	/* wall clock; 0: now (set by append) */
	char service[64];	/* service id, or "owner" for the owner's own actions */
	char category[96];	/* data category ("viewing.history"), or "*" */
	char purpose[128];	/* the purpose asked for ("recommendations", "export") */
	char decision[8];	/* "allow", "deny" or "ask" */
	char policies[1024];	/* determining policies, a JSON array of ids */
	char obligations[2048]; /* obligations applied, a JSON array of strings */
	int64_t records;	/* records released */
	int64_t bytes;		/* bytes released */
	char budget_spent[32];	/* "0.5" (epsilon), "" when none */
	char prev_hash[65];	/* hex; 64 '0's for the first entry */
	char hash[65];		/* hex */
};

/* Appends (e) (time_ns 0: now; id, prev_hash and hash are computed; the
 * string fields must be NUL-terminated and "policies"/"obligations" JSON
 * arrays, "" read as "[]"). Durable when it returns 0. Fills *id_out when
 * not NULL. -EINVAL bad decision or JSON, -ENODEV/-EROFS without a
 * writable store, other negative errnos from the store. */
int hub_audit_append(const struct audit_entry *e, int64_t *id_out);
/* Records that audit entry (audit_id) released record (record_seq): a
 * reference that goes when the record is deleted (the entry stays). */
int hub_audit_ref(int64_t audit_id, int64_t record_seq);

/* The canonical serialization the hash covers (prev_hash included, hash
 * not): "hearth-audit-v1\n" then "name=len:value\n" per field. Returns its
 * length, or -ENOSPC when (len) is too small (4 KiB always suffices). */
int hub_audit_canonical(const struct audit_entry *e, char *out, size_t len);
/* hex SHA-256 of the canonical serialization of (e) into (hex)[65]. */
int hub_audit_hash(const struct audit_entry *e, char hex[65]);

struct audit_verify {
	int ok;			/* 1 intact */
	int64_t entries;	/* entries checked */
	int64_t first_bad_id;	/* 0 when ok */
	const char *reason;	/* "hash", "prev_hash", "head", "order" or "" */
	char head[65];		/* hash of the last entry */
};
/* Walks the whole chain. 0 with (out) filled (intact or not), or a
 * negative errno when the store cannot be read. */
int hub_audit_verify(struct audit_verify *out);

#endif
