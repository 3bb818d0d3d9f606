/*
 * model_store.h: the hub's data model in the store (tables of migration 2
 * in store.c): categories, devices, records, the audit log and its record
 * references. Everything returns 0 or a negative errno; SQLite stays in
 * hub/store. Simple listings are built as JSON inside SQLite (rdb.h).
 * Assumes: the store is open (store.h); one thread.
 * Leaves out: services, policies, budgets and approvals (the release side).
 */
#ifndef HUB_STORE_MODEL_H
#define HUB_STORE_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct audit_entry;

/* ---- categories ---- */
/* 1 when category (name) exists, 0 when not, or a negative errno. */
int store_category_exists(const char *name);
/* Adds (name) under (parent) (NULL: top level). -EEXIST, -ENOENT (no such
 * parent). */
int store_category_add(const char *name, const char *parent, const char *description);

/* ---- devices ---- */
/* A new device with the SHA-256 of its token; *id set. */
int store_device_add(const char *name, const uint8_t hash[32], int64_t *id);
/* The token hash of device (id) and whether it is revoked. -ENOENT. */
int store_device_hash(int64_t id, uint8_t hash[32], int *revoked);
/* Revokes device (id) (its token stops working; its records stay).
 * -ENOENT unknown, -EALREADY revoked before. */
int store_device_revoke(int64_t id);

/* ---- services (credential lookups for hub/auth.c) ---- */
/* The SHA-256 of service (id)'s credential: -ENOENT unknown or none. */
int store_service_hash(const char *id, uint8_t hash[32]);

/* ---- records ---- */
/* Inserts one record. 0 stored (*seq set), 1 a duplicate of
 * (device, client_id) (nothing written, *seq of the stored one), -ENOENT
 * unknown category, -EINVAL payload not a JSON object. Call between
 * store_exec("BEGIN IMMEDIATE") and COMMIT to make a batch atomic. */
int store_record_put(int64_t device, const char *client_id, const char *category, int64_t time_s,
		     const char *payload, int64_t *seq);
/* Deletes records matching every given filter: (category) and its
 * sub-categories (NULL: any), (device) (< 0: any), time_s in [from, to)
 * (INT64_MIN / INT64_MAX: open). Their audit references go with them.
 * *n: records deleted. */
int store_records_delete(const char *category, int64_t device, int64_t from, int64_t to,
			 int64_t *n);

/* ---- audit ---- */
/* The last entry's id and hash (0 and 64 '0's when the log is empty). */
int store_audit_last(int64_t *id, char hash[65]);
/* Inserts (e) as it is (id, prev_hash, hash set by the caller) and moves
 * the chain head (store key "audit.head") to it, in one transaction. */
int store_audit_insert(const struct audit_entry *e);
/* Calls fn for every entry in id order (a nonzero return stops the walk and
 * is returned). An entry holding a text no append could have written (NULL,
 * longer than its field, a NUL inside) comes with an empty hash, so that
 * verification flags it rather than read a shortened value that hashes
 * right. */
int store_audit_walk(int (*fn)(const struct audit_entry *e, void *arg), void *arg);
/* The chain head as recorded beside the log: id and hash, -ENOENT none. */
int store_audit_head(int64_t *id, char hash[65]);
/* References audit entry (audit_id) -> record (record_seq) (audit_refs). */
int store_audit_ref(int64_t audit_id, int64_t record_seq);

#endif
