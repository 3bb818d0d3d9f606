/*
 * rdb.h: small parameterized queries over the store's SQLite connection,
 * for the hub's release side (services, policies, approvals, deliveries).
 * Arguments are described by a format string, one letter each: 'i' an
 * int64_t, 't' a const char * (NULL binds SQL NULL), 'd' a double. Rows
 * come back as one JSON text built inside SQLite (json_group_array /
 * json_object), so callers never see a statement.
 * Assumes: the store is open (store.h); one thread.
 * Leaves out: blobs, statement caching.
 */
#ifndef HUB_STORE_RDB_H
#define HUB_STORE_RDB_H

#include <stdint.h>

/* Runs one statement that returns no rows. 0 or a negative errno
 * (-EEXIST on a constraint, -ENODEV without a store, -EROFS read-only). */
int rdb_exec(const char *sql, const char *fmt, ...);
/* Rows the last rdb_exec changed. */
int64_t rdb_changes(void);
/* First column of the first row as an integer; -ENOENT no row / NULL. */
int rdb_i64(int64_t *out, const char *sql, const char *fmt, ...);
/* First column of the first row as text in *out (malloc'd, caller frees);
 * -ENOENT no row / NULL, -ENOMEM. */
int rdb_text(char **out, const char *sql, const char *fmt, ...);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int rdb_begin(void);
int rdb_commit(void);
void rdb_rollback(void);

#endif
