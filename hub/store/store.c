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

/* Migrations: append only; never edit one that has shipped. */
static const struct {
	uint32_t version;
	const char *sql;
} migrations[] = {
	{1, "CREATE TABLE store_kv(key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, "
	    "updated_ns INTEGER NOT NULL) WITHOUT ROWID;"},
};
#define SCHEMA_LATEST 1u

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
