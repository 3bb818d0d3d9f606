/*
 * store.c: the store module (store.h): opening or formatting the disk at
 * boot, SQLite's connection and pragmas, schema migrations recorded in the
 * schema_version table, the integrity check, and the small API the hub
 * uses. SQLite result codes become negative errnos here and nowhere else.
 * Assumes the "hearth" VFS (vfs.c) and one connection, used from the loop.
 * Leaves out: prepared-statement caching, backups, data export.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <board.h>

#include "disk.h"
#include "sqlite3.h"
#include "store.h"
#include "vfs.h"
#include "store_internal.h"

/* Migrations: append only; never edit one that has shipped. */
static const struct {
	uint32_t version;
	const char *sql;
} migrations[] = {
	{1, "CREATE TABLE store_kv(key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, "
	    "updated_ns INTEGER NOT NULL) WITHOUT ROWID;"},
	/* The hub's data model (hub/model.c, hub/audit.c, docs/api.yaml). */
	{2, "CREATE TABLE categories(name TEXT PRIMARY KEY NOT NULL, "
	    "parent TEXT REFERENCES categories(name), description TEXT NOT NULL DEFAULT '', "
	    "builtin INTEGER NOT NULL DEFAULT 0, created_ns INTEGER NOT NULL) WITHOUT ROWID;"
	    "INSERT INTO categories(name, parent, description, builtin, created_ns) VALUES "
	    "('viewing',NULL,'what was watched',1,0),"
	    "('viewing.history','viewing','titles watched, when, for how long',1,0),"
	    "('viewing.ratings','viewing','ratings and likes',1,0),"
	    "('listening',NULL,'what was listened to',1,0),"
	    "('listening.history','listening','tracks and podcasts played',1,0),"
	    "('listening.ratings','listening','ratings and likes',1,0),"
	    "('browsing',NULL,'the web',1,0),"
	    "('browsing.history','browsing','pages visited',1,0),"
	    "('browsing.searches','browsing','search queries',1,0),"
	    "('location',NULL,'where the household was',1,0),"
	    "('location.visits','location','places visited',1,0),"
	    "('location.trace','location','raw position samples',1,0),"
	    "('health',NULL,'body and fitness',1,0),"
	    "('health.activity','health','steps, workouts',1,0),"
	    "('health.sleep','health','sleep periods',1,0),"
	    "('health.vitals','health','heart rate, weight, blood pressure',1,0),"
	    "('purchases',NULL,'what was bought',1,0),"
	    "('purchases.orders','purchases','orders and receipts',1,0),"
	    "('purchases.subscriptions','purchases','recurring payments',1,0),"
	    "('contacts',NULL,'people',1,0),"
	    "('contacts.people','contacts','address book entries',1,0),"
	    "('contacts.interactions','contacts','calls and messages (metadata)',1,0);"
	    "CREATE TABLE devices(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
	    "token_hash BLOB NOT NULL, created_ns INTEGER NOT NULL, revoked_ns INTEGER);"
	    "CREATE TABLE records(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
	    "device_id INTEGER NOT NULL REFERENCES devices(id), client_id TEXT NOT NULL, "
	    "category TEXT NOT NULL REFERENCES categories(name), time_s INTEGER NOT NULL, "
	    "payload TEXT NOT NULL CHECK(json_valid(payload) AND json_type(payload) = 'object'), "
	    "created_ns INTEGER NOT NULL, UNIQUE(device_id, client_id));"
	    "CREATE INDEX records_category_time ON records(category, time_s);"
	    "CREATE TABLE audit(id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, "
	    "service TEXT NOT NULL, category TEXT NOT NULL, purpose TEXT NOT NULL, "
	    "decision TEXT NOT NULL CHECK(decision IN ('allow', 'deny', 'ask')), "
	    "policies TEXT NOT NULL, obligations TEXT NOT NULL, records INTEGER NOT NULL, "
	    "bytes INTEGER NOT NULL, budget_spent TEXT NOT NULL, prev_hash TEXT NOT NULL, "
	    "hash TEXT NOT NULL);"
	    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
	    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
	    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	    /* What an audit entry released: references only, outside the hash,
	     * so deleting personal data deletes them and keeps the entry. */
	    "CREATE TABLE audit_refs(audit_id INTEGER NOT NULL REFERENCES audit(id), "
	    "record_seq INTEGER NOT NULL REFERENCES records(seq) ON DELETE CASCADE, "
	    "PRIMARY KEY(audit_id, record_seq)) WITHOUT ROWID;"
	    "CREATE INDEX audit_refs_record ON audit_refs(record_seq);"
	    "CREATE TABLE services(id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, "
	    "endpoint TEXT, ca_pem TEXT, pin TEXT, manifest TEXT CHECK(manifest IS NULL OR "
	    "json_valid(manifest)), credential_hash BLOB, created_ns INTEGER NOT NULL) WITHOUT ROWID;"
	    "CREATE TABLE policies(id TEXT NOT NULL, service_id TEXT REFERENCES services(id), "
	    "version INTEGER NOT NULL, text TEXT NOT NULL, author TEXT NOT NULL, "
	    "created_ns INTEGER NOT NULL, active INTEGER NOT NULL DEFAULT 1, "
	    "PRIMARY KEY(id, version)) WITHOUT ROWID;"
	    "CREATE TABLE budgets(service_id TEXT NOT NULL, category TEXT NOT NULL, "
	    "kind TEXT NOT NULL, window_s INTEGER NOT NULL, limit_value REAL NOT NULL, "
	    "spent REAL NOT NULL DEFAULT 0, window_start_ns INTEGER NOT NULL, "
	    "PRIMARY KEY(service_id, category, kind)) WITHOUT ROWID;"
	    "CREATE TABLE approvals(id INTEGER PRIMARY KEY AUTOINCREMENT, service_id TEXT NOT NULL, "
	    "category TEXT NOT NULL, purpose TEXT NOT NULL, request TEXT NOT NULL "
	    "CHECK(json_valid(request)), state TEXT NOT NULL DEFAULT 'pending' "
	    "CHECK(state IN ('pending', 'approved', 'denied', 'expired')), "
	    "created_ns INTEGER NOT NULL, decided_ns INTEGER);"},
	/* The release pipeline (hub/release.c): push deliveries, persisted
	 * before they are sent (the id is the receiver's idempotency key), and
	 * when an approval was redeemed. */
	{3, "CREATE TABLE deliveries(id TEXT PRIMARY KEY NOT NULL, service_id TEXT NOT NULL, "
	    "category TEXT NOT NULL, purpose TEXT NOT NULL, body TEXT NOT NULL, sha256 TEXT NOT NULL, "
	    "state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN ('pending', 'sent', 'failed')), "
	    "attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0, "
	    "created_ns INTEGER NOT NULL, sent_at INTEGER, last_status INTEGER, last_error TEXT, "
	    "audit_id INTEGER) WITHOUT ROWID;"
	    "CREATE INDEX deliveries_state ON deliveries(state, next_at);"
	    "ALTER TABLE approvals ADD COLUMN used_ns INTEGER;"},
};
#define SCHEMA_LATEST 3u

static struct {
	struct store_disk disk;
	bool mounted;
	sqlite3 *db;
	struct store_status st;
} S;

static int errno_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_NOTFOUND:
		return -ENOENT;
	case SQLITE_CANTOPEN:
		return -ENODEV;
	case SQLITE_RANGE:
		return -ERANGE;
	case SQLITE_ERROR: /* SQL error: bad statement, missing table */
	case SQLITE_MISUSE:
	case SQLITE_MISMATCH:
		return -EINVAL;
	case SQLITE_IOERR:
	default:
		return -EIO;
	}
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(S.st.message, sizeof(S.st.message), fmt, ap);
	va_end(ap);
}

static void human(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= 10ull * 1024 * 1024)
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " KiB", bytes >> 10);
}

static void refresh_sizes(void)
{
	if (!S.mounted)
		return;
	S.st.format_version = S.disk.version;
	S.st.size_bytes = S.disk.area_end - S.disk.area_start;
	S.st.used_bytes = store_disk_used(&S.disk);
	S.st.free_bytes = store_disk_free(&S.disk);
}

static int writable(void)
{
	if (S.st.state == STORE_OK)
		return 0;
	return S.st.state == STORE_READONLY ? -EROFS : -ENODEV;
}

/* ---- small statement helpers ---- */

static int prepare(const char *sql, sqlite3_stmt **st)
{
	if (!S.db)
		return -ENODEV;
	return errno_of(sqlite3_prepare_v2(S.db, sql, -1, st, NULL));
}

int store_exec(const char *sql)
{
	if (!S.db)
		return -ENODEV;
	return errno_of(sqlite3_exec(S.db, sql, NULL, NULL, NULL));
}

int store_exec_i64(const char *sql, const int64_t *args, size_t nargs)
{
	sqlite3_stmt *st;
	int err = prepare(sql, &st);
	if (err)
		return err;
	int rc = SQLITE_OK;
	for (size_t i = 0; i < nargs && rc == SQLITE_OK; i++)
		rc = sqlite3_bind_int64(st, (int)i + 1, args[i]);
	if (rc == SQLITE_OK)
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
	sqlite3_finalize(st);
	return errno_of(rc);
}

int store_query_i64(const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int err = prepare(sql, &st);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(st, 0);
		err = 0;
	} else {
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
	}
	sqlite3_finalize(st);
	return err;
}

int store_query_text(const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;
	if (!len)
		return -EINVAL;
	int err = prepare(sql, &st);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	const unsigned char *t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (t) {
		snprintf(buf, len, "%s", (const char *)t);
		err = 0;
	} else {
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
	}
	sqlite3_finalize(st);
	return err;
}

/* ---- key-value ---- */

int store_kv_get(const char *key, void *buf, size_t *len)
{
	sqlite3_stmt *st;
	int err = prepare("SELECT value FROM store_kv WHERE key = ?", &st);
	if (err)
		return err;
	int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *v = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (n > *len) {
			err = -ENOSPC;
		} else {
			if (n)
				memcpy(buf, v, n);
			err = 0;
		}
		*len = n;
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
	}
	sqlite3_finalize(st);
	return err;
}

int store_kv_put(const char *key, const void *buf, size_t *len)
{
	int err = writable();
	if (err)
		return err;
	if (*len > 1024u * 1024u)
		return -E2BIG;
	sqlite3_stmt *st;
	if ((err = prepare("INSERT OR REPLACE INTO store_kv(key, value, updated_ns) VALUES (?, ?, ?)",
			   &st)))
		return err;
	int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 2, *len ? buf : "", (int)*len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, time_wall_ns());
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	refresh_sizes();
	return errno_of(rc);
}

int store_kv_delete(const char *key)
{
	int err = writable();
	if (err)
		return err;
	sqlite3_stmt *st;
	if ((err = prepare("DELETE FROM store_kv WHERE key = ?", &st)))
		return err;
	int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int changed = sqlite3_changes(S.db);
	sqlite3_finalize(st);
	err = errno_of(rc);
	return err ? err : (changed ? 0 : -ENOENT);
}

/* ---- integrity, migrations ---- */

int store_check(void)
{
	char res[160];
	if (!S.db)
		return -ENODEV;
	int err = store_query_text("PRAGMA integrity_check(20)", res, sizeof(res));
	S.st.last_check_ns = time_wall_ns();
	S.st.last_check_ok = err == 0 && !strcmp(res, "ok");
	if (err)
		return err;
	return S.st.last_check_ok ? 0 : -EBADMSG;
}

static int schema_version(int64_t *v)
{
	int err = store_query_i64("SELECT max(version) FROM schema_version", v);
	if (err == -ENOENT) {
		*v = 0; /* an empty table */
		return 0;
	}
	return err;
}

static int migrate(void)
{
	int64_t v = 0;
	int err;
	if (S.st.state != STORE_OK) {
		/* Read-only: report what is there, change nothing. */
		int64_t n;
		if (store_query_i64("SELECT count(*) FROM sqlite_schema WHERE name = 'schema_version'",
				    &n) == 0 && n)
			schema_version(&v);
		S.st.schema_version = (uint32_t)v;
		return 0;
	}
	if ((err = store_exec("BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS schema_version("
			      "version INTEGER PRIMARY KEY, applied_ns INTEGER NOT NULL);")))
		return err;
	if ((err = schema_version(&v)))
		goto rollback;
	if (v > SCHEMA_LATEST) {
		store_exec("ROLLBACK");
		S.st.schema_version = (uint32_t)v;
		S.st.state = STORE_READONLY;
		return -EPROTONOSUPPORT;
	}
	for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		if (migrations[i].version <= v)
			continue;
		int64_t args[2] = {migrations[i].version, time_wall_ns()};
		if ((err = store_exec(migrations[i].sql)) ||
		    (err = store_exec_i64("INSERT INTO schema_version VALUES (?, ?)", args, 2)))
			goto rollback;
		v = migrations[i].version;
	}
	if ((err = store_exec("COMMIT")))
		goto rollback;
	S.st.schema_version = (uint32_t)v;
	return 0;
rollback:
	store_exec("ROLLBACK");
	return err;
}

/* ---- open and close ---- */

static int open_db(bool ro)
{
	int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	store_vfs_attach(&S.disk);
	int rc = sqlite3_initialize();
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2(STORE_DB_PATH, &S.db, flags, STORE_VFS_NAME);
	if (rc != SQLITE_OK)
		return errno_of(rc);
	sqlite3_extended_result_codes(S.db, 1);
	/* One connection, no other process: keep the lock, keep the journal
	 * (zeroing its header commits; no length change to record), and sync
	 * at every commit so a returned COMMIT is on stable storage. */
	const char *pragmas = ro ? "PRAGMA query_only = 1; PRAGMA cache_size = -1024;"
				 : "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = PERSIST;"
				   "PRAGMA journal_size_limit = 1048576; PRAGMA synchronous = FULL;"
				   "PRAGMA cache_size = -1024; PRAGMA foreign_keys = ON;";
	return errno_of(sqlite3_exec(S.db, pragmas, NULL, NULL, NULL));
}

static void finish_message(void)
{
	char size[24], used[24], freeb[24];
	refresh_sizes();
	human(size, sizeof(size), S.st.size_bytes);
	human(used, sizeof(used), S.st.used_bytes);
	human(freeb, sizeof(freeb), S.st.free_bytes);
	say("%s: %s%s store, format %u, schema %u, %s used, %s free, integrity %s%s", S.st.device,
	    S.st.formatted_now ? "formatted an empty disk: " : "", size,
	    (unsigned int)S.st.format_version, (unsigned int)S.st.schema_version, used, freeb,
	    S.st.last_check_ok ? "ok" : "FAILED", S.st.state == STORE_READONLY ? " (read-only)" : "");
}

int store_open_dev(struct blkdev *bd)
{
	store_close();
	memset(&S.st, 0, sizeof(S.st));
	S.st.device = "";
	if (!bd) {
		S.st.state = STORE_ABSENT;
		say("no disk (no block device): storage unavailable");
		return -ENODEV;
	}
	S.st.device = bd->name ? bd->name : "disk";
	int err = store_disk_mount(&S.disk, bd);
	if (err == DISK_E_BLANK && bd->read_only) {
		S.st.state = STORE_REFUSED;
		say("%s: read-only disk holds no store and cannot be formatted: "
		    "storage unavailable", S.st.device);
		return -EROFS;
	}
	if (err == DISK_E_BLANK) {
		err = store_disk_format(&S.disk, bd, time_wall_ns());
		if (err) {
			S.st.state = STORE_FAILED;
			say("%s: cannot format the empty disk (%s): storage unavailable", S.st.device,
			    strerror(-err));
			return err;
		}
		S.st.formatted_now = true;
	} else if (err == -EIO || err == -ENOMEM) {
		S.st.state = STORE_FAILED;
		say("%s: %s: storage unavailable", S.st.device, S.disk.why);
		return err;
	} else if (err) {
		S.st.state = STORE_REFUSED;
		say("%s: %s: left untouched; storage unavailable", S.st.device, S.disk.why);
		return err;
	}
	S.mounted = true;
	S.st.state = S.disk.read_only ? STORE_READONLY : STORE_OK;
	refresh_sizes();

	err = open_db(S.disk.read_only);
	if (!err)
		err = store_check();
	if (err && err != -EBADMSG) {
		const char *why = S.db ? sqlite3_errmsg(S.db) : strerror(-err);
		snprintf(S.st.message, sizeof(S.st.message),
			 "%s: the database cannot be opened (%s)%s: storage unavailable", S.st.device,
			 why, S.disk.read_only ? " on a read-only disk" : "");
		store_close();
		S.st.state = STORE_FAILED;
		return err;
	}
	if (err == -EBADMSG && S.st.state == STORE_OK) {
		/* Damaged: keep what is there for export, write nothing more. */
		S.st.state = STORE_READONLY;
		sqlite3_exec(S.db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	}
	int merr = migrate();
	if (merr && merr != -EPROTONOSUPPORT) {
		snprintf(S.st.message, sizeof(S.st.message),
			 "%s: schema migration failed (%s): storage unavailable", S.st.device,
			 sqlite3_errmsg(S.db));
		store_close();
		S.st.state = STORE_FAILED;
		return merr;
	}
	finish_message();
	if (merr == -EPROTONOSUPPORT) {
		size_t n = strlen(S.st.message);
		snprintf(S.st.message + n, sizeof(S.st.message) - n,
			 "; schema is newer than this firmware's (%u): read-only", SCHEMA_LATEST);
	}
	return 0;
}

int store_open(void)
{
	struct blkdev *bd = blkdev_count() ? blkdev_get(0) : NULL;
	int err = store_open_dev(bd);
	printf("store: %s\n", S.st.message);
	return err;
}

void store_close(void)
{
	if (S.db) {
		sqlite3_close_v2(S.db);
		S.db = NULL;
	}
	sqlite3_shutdown();
	store_vfs_attach(NULL);
	if (S.mounted) {
		store_disk_release(&S.disk);
		S.mounted = false;
	}
}

int store_status(struct store_status *out)
{
	refresh_sizes();
	*out = S.st;
	return 0;
}

/* ---- for the rest of hub/store (store_internal.h) ---- */

struct sqlite3 *store_sqlite(void)
{
	return S.db;
}

int store_errno(int rc)
{
	return errno_of(rc);
}
