/*
 * rdb.c: rdb.h over the store's connection (store_internal.h). SQLite's
 * codes become negative errnos through store_errno, as everywhere in the
 * store.
 * Assumes: the store is open; statements are short and run to completion.
 * Leaves out: statement caching (each call prepares its statement).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rdb.h"
#include "sqlite3.h"
#include "store_internal.h"

static int bind(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK;
	for (int i = 0; fmt && fmt[i] && rc == SQLITE_OK; i++) {
		switch (fmt[i]) {
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'd':
			rc = sqlite3_bind_double(st, i + 1, va_arg(ap, double));
			break;
		case 't': {
			const char *s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, i + 1);
			break;
		}
		default:
			return SQLITE_MISUSE;
		}
	}
	return rc;
}

static int prep(sqlite3_stmt **st, const char *sql, const char *fmt, va_list ap)
{
	sqlite3 *db = store_sqlite();
	if (!db)
		return -ENODEV;
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	if (rc == SQLITE_OK)
		rc = bind(*st, fmt, ap);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return store_errno(rc);
	}
	return 0;
}

static int64_t changes;

int rdb_exec(const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	va_start(ap, fmt);
	int err = prep(&st, sql, fmt, ap);
	va_end(ap);
	if (err)
		return err;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	changes = sqlite3_changes(store_sqlite());
	sqlite3_finalize(st);
	return store_errno(rc);
}

int64_t rdb_changes(void)
{
	return changes;
}

int rdb_i64(int64_t *out, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	va_start(ap, fmt);
	int err = prep(&st, sql, fmt, ap);
	va_end(ap);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(st, 0);
		err = 0;
	} else {
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	sqlite3_finalize(st);
	return err;
}

int rdb_text(char **out, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	*out = NULL;
	va_start(ap, fmt);
	int err = prep(&st, sql, fmt, ap);
	va_end(ap);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	const unsigned char *t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (t) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		*out = malloc(n + 1);
		if (*out) {
			memcpy(*out, t, n);
			(*out)[n] = 0;
		}
		err = *out ? 0 : -ENOMEM;
	} else {
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	sqlite3_finalize(st);
	return err;
}

int rdb_begin(void)
{
	return rdb_exec("BEGIN IMMEDIATE", NULL);
}

int rdb_commit(void)
{
	return rdb_exec("COMMIT", NULL);
}

void rdb_rollback(void)
{
	rdb_exec("ROLLBACK", NULL);
}
