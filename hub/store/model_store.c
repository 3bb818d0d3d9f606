/*
 * model_store.c: the hub's data model over the store's connection
 * (model_store.h). SQLite's codes become negative errnos through
 * store_errno. The audit chain head lives in store_kv ("audit.head":
 * "<id> <hex hash>") and moves in the same transaction as the entry.
 * Assumes: the store is open and writable for writes (store.h says so
 * otherwise); one thread; statements are short and run to completion.
 * Leaves out: statement caching.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <board.h>

#include "../audit.h"
#include "model_store.h"
#include "sqlite3.h"
#include "store.h"
#include "store_internal.h"

static int prep(const char *sql, sqlite3_stmt **st)
{
	sqlite3 *db = store_sqlite();
	*st = NULL;
	if (!db)
		return -ENODEV;
	return store_errno(sqlite3_prepare_v2(db, sql, -1, st, NULL));
}

static int writable(void)
{
	struct store_status s;
	store_status(&s);
	if (s.state == STORE_OK)
		return 0;
	return s.state == STORE_READONLY ? -EROFS : -ENODEV;
}

/* Steps (st) to the end, finalizes it; 0 or errno. */
static int run(sqlite3_stmt *st, int rc)
{
	if (rc == SQLITE_OK)
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
	sqlite3_finalize(st);
	return store_errno(rc);
}

static int text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* ---- categories ---- */

int store_category_exists(const char *name)
{
	sqlite3_stmt *st;
	int err = prep("SELECT 1 FROM categories WHERE name = ?", &st);
	if (err)
		return err;
	int rc = text(st, 1, name);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_errno(rc);
}

int store_category_add(const char *name, const char *parent, const char *description)
{
	int err = writable();
	if (err)
		return err;
	if (parent && (err = store_category_exists(parent)) <= 0)
		return err ? err : -ENOENT;
	if ((err = store_category_exists(name)) != 0)
		return err > 0 ? -EEXIST : err;
	sqlite3_stmt *st;
	if ((err = prep("INSERT INTO categories(name, parent, description, builtin, created_ns) "
			"VALUES (?, ?, ?, 0, ?)", &st)))
		return err;
	int rc = text(st, 1, name);
	if (rc == SQLITE_OK)
		rc = text(st, 2, parent);
	if (rc == SQLITE_OK)
		rc = text(st, 3, description ? description : "");
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, time_wall_ns());
	return run(st, rc);
}

/* ---- devices ---- */

int store_device_add(const char *name, const uint8_t hash[32], int64_t *id)
{
	int err = writable();
	if (err)
		return err;
	sqlite3_stmt *st;
	if ((err = prep("INSERT INTO devices(name, token_hash, created_ns) VALUES (?, ?, ?)", &st)))
		return err;
	int rc = text(st, 1, name);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, time_wall_ns());
	if ((err = run(st, rc)))
		return err;
	*id = sqlite3_last_insert_rowid(store_sqlite());
	return 0;
}

/* Steps a prepared, bound statement whose first column is a 32-byte token
 * hash (and whose second, when (flag) is asked for, an integer); finalizes
 * it. 0, -ENOENT when no such row, or the store's error. */
static int hash_row(sqlite3_stmt *st, int rc, uint8_t hash[32], int *flag)
{
	int err;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
		memcpy(hash, sqlite3_column_blob(st, 0), 32);
		if (flag)
			*flag = sqlite3_column_int(st, 1);
		err = 0;
	} else {
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	sqlite3_finalize(st);
	return err;
}

int store_device_hash(int64_t id, uint8_t hash[32], int *revoked)
{
	sqlite3_stmt *st;
	int err = prep("SELECT token_hash, revoked_ns IS NOT NULL FROM devices WHERE id = ?", &st);
	if (err)
		return err;
	return hash_row(st, sqlite3_bind_int64(st, 1, id), hash, revoked);
}

int store_device_revoke(int64_t id)
{
	int err = writable();
	uint8_t h[32];
	int revoked;
	if (err || (err = store_device_hash(id, h, &revoked)))
		return err;
	if (revoked)
		return -EALREADY;
	sqlite3_stmt *st;
	if ((err = prep("UPDATE devices SET revoked_ns = ? WHERE id = ?", &st)))
		return err;
	int rc = sqlite3_bind_int64(st, 1, time_wall_ns());
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, id);
	return run(st, rc);
}

int store_service_hash(const char *id, uint8_t hash[32])
{
	sqlite3_stmt *st;
	int err = prep("SELECT credential_hash FROM services WHERE id = ?", &st);
	if (err)
		return err;
	return hash_row(st, text(st, 1, id), hash, NULL);
}

/* ---- records ---- */

int store_record_put(int64_t device, const char *client_id, const char *category, int64_t time_s,
		     const char *payload, int64_t *seq)
{
	int err = writable();
	if (err)
		return err;
	if ((err = store_category_exists(category)) <= 0)
		return err ? err : -ENOENT;
	sqlite3_stmt *st;
	if ((err = prep("SELECT seq FROM records WHERE device_id = ? AND client_id = ?", &st)))
		return err;
	int rc = sqlite3_bind_int64(st, 1, device);
	if (rc == SQLITE_OK)
		rc = text(st, 2, client_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_errno(rc);
	if ((err = prep("INSERT INTO records(device_id, client_id, category, time_s, payload, "
			"created_ns) VALUES (?, ?, ?, ?, ?, ?)", &st)))
		return err;
	rc = sqlite3_bind_int64(st, 1, device);
	if (rc == SQLITE_OK)
		rc = text(st, 2, client_id);
	if (rc == SQLITE_OK)
		rc = text(st, 3, category);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, time_s);
	if (rc == SQLITE_OK)
		rc = text(st, 5, payload);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, time_wall_ns());
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT_CHECK)
		return -EINVAL;
	if (rc != SQLITE_DONE)
		return store_errno(rc);
	*seq = sqlite3_last_insert_rowid(store_sqlite());
	return 0;
}

int store_records_delete(const char *category, int64_t device, int64_t from, int64_t to,
			 int64_t *n)
{
	int err = writable();
	if (err)
		return err;
	sqlite3_stmt *st;
	if ((err = prep("DELETE FROM records WHERE (?1 IS NULL OR category = ?1 OR "
			"substr(category, 1, length(?1) + 1) = ?1 || '.') AND (?2 < 0 OR device_id = ?2) "
			"AND time_s >= ?3 AND time_s < ?4", &st)))
		return err;
	int rc = text(st, 1, category);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, device);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, from);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, to);
	if ((err = run(st, rc)))
		return err;
	*n = sqlite3_changes(store_sqlite());
	return 0;
}

/* ---- audit ---- */

static const char zero_hash[65] =
	"0000000000000000000000000000000000000000000000000000000000000000";

int store_audit_last(int64_t *id, char hash[65])
{
	sqlite3_stmt *st;
	int err = prep("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &st);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 1));
		err = 0;
	} else if (rc == SQLITE_DONE) {
		*id = 0;
		memcpy(hash, zero_hash, 65);
		err = 0;
	} else {
		err = store_errno(rc);
	}
	sqlite3_finalize(st);
	return err;
}

int store_audit_insert(const struct audit_entry *e)
{
	int err = writable();
	if (err)
		return err;
	sqlite3_stmt *st;
	if ((err = store_exec("SAVEPOINT audit_insert")))
		return err;
	if ((err = prep("INSERT INTO audit(id, time_ns, service, category, purpose, decision, "
			"policies, obligations, records, bytes, budget_spent, prev_hash, hash) "
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)))
		goto out;
	int rc = sqlite3_bind_int64(st, 1, e->id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, e->time_ns);
	const char *t[] = {e->service, e->category, e->purpose, e->decision, e->policies,
			   e->obligations};
	for (int i = 0; i < 6 && rc == SQLITE_OK; i++)
		rc = text(st, 3 + i, t[i]);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 9, e->records);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 10, e->bytes);
	if (rc == SQLITE_OK)
		rc = text(st, 11, e->budget_spent);
	if (rc == SQLITE_OK)
		rc = text(st, 12, e->prev_hash);
	if (rc == SQLITE_OK)
		rc = text(st, 13, e->hash);
	if ((err = run(st, rc)))
		goto out;
	char head[100];
	size_t len = (size_t)snprintf(head, sizeof(head), "%" PRId64 " %s", e->id, e->hash);
	err = store_kv_put("audit.head", head, &len);
out:
	if (err) {
		store_exec("ROLLBACK TO audit_insert; RELEASE audit_insert");
		return err;
	}
	return store_exec("RELEASE audit_insert");
}

/* Column (i) as text into (out); 0 when it is exactly what append could
 * have written: not NULL, shorter than (len), no NUL inside. */
static int col(sqlite3_stmt *st, int i, char *out, size_t len)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	snprintf(out, len, "%s", s ? (const char *)s : "");
	return !s || n < 0 || (size_t)n >= len || strlen(out) != (size_t)n;
}

int store_audit_walk(int (*fn)(const struct audit_entry *e, void *arg), void *arg)
{
	static struct audit_entry e; /* 3.5 KiB: not on the stack */
	sqlite3_stmt *st;
	int err = prep("SELECT id, time_ns, service, category, purpose, decision, policies, "
		       "obligations, records, bytes, budget_spent, prev_hash, hash FROM audit "
		       "ORDER BY id", &st);
	if (err)
		return err;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e.id = sqlite3_column_int64(st, 0);
		e.time_ns = sqlite3_column_int64(st, 1);
		int odd = col(st, 2, e.service, sizeof(e.service));
		odd |= col(st, 3, e.category, sizeof(e.category));
		odd |= col(st, 4, e.purpose, sizeof(e.purpose));
		odd |= col(st, 5, e.decision, sizeof(e.decision));
		odd |= col(st, 6, e.policies, sizeof(e.policies));
		odd |= col(st, 7, e.obligations, sizeof(e.obligations));
		e.records = sqlite3_column_int64(st, 8);
		e.bytes = sqlite3_column_int64(st, 9);
		odd |= col(st, 10, e.budget_spent, sizeof(e.budget_spent));
		odd |= col(st, 11, e.prev_hash, sizeof(e.prev_hash));
		odd |= col(st, 12, e.hash, sizeof(e.hash));
		/* cut short, the value would read as one that hashes right */
		if (odd)
			e.hash[0] = 0;
		if ((err = fn(&e, arg)))
			break;
	}
	sqlite3_finalize(st);
	return err ? err : store_errno(rc);
}

int store_audit_head(int64_t *id, char hash[65])
{
	char buf[100];
	size_t len = sizeof(buf) - 1;
	int err = store_kv_get("audit.head", buf, &len);
	if (err)
		return err;
	buf[len] = 0;
	long long v;
	if (sscanf(buf, "%lld %64s", &v, hash) != 2)
		return -EBADMSG;
	*id = v;
	return 0;
}

int store_audit_ref(int64_t audit_id, int64_t record_seq)
{
	int64_t args[2] = {audit_id, record_seq};
	int err = writable();
	return err ? err
		   : store_exec_i64("INSERT OR IGNORE INTO audit_refs(audit_id, record_seq) "
				    "VALUES (?, ?)", args, 2);
}
