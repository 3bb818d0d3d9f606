/*
 * store.h: the hub's persistent store, the only module that touches SQLite.
 * At boot store_open() finds the first block device, formats it when it is
 * all zero, refuses (and never writes) a disk that holds something else or a
 * newer format, opens the database (read-only on a read-only disk), applies
 * schema migrations and runs an integrity check. Every function returns 0 or
 * a negative errno; SQLite's codes never leave this module.
 * Assumes one thread (the event loop); calls are synchronous.
 * Leaves out: several databases, encryption at rest, online backup.
 */
#ifndef HUB_STORE_H
#define HUB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blkdev;

enum store_state {
	STORE_ABSENT,   /* no block device: storage unavailable */
	STORE_REFUSED,  /* the disk holds something we must not touch */
	STORE_FAILED,   /* I/O or database error while opening */
	STORE_READONLY, /* open, reads only (read-only disk, damage, newer schema) */
	STORE_OK,       /* open for reads and writes */
};

struct store_status {
	enum store_state state;
	const char *device;        /* "vda", or "" */
	uint32_t format_version;   /* of the on-disk layout, 0 if none */
	uint32_t schema_version;   /* of the database (migrations applied) */
	uint64_t size_bytes;       /* the store's data area */
	uint64_t used_bytes;       /* database + journal */
	uint64_t free_bytes;
	bool formatted_now;        /* this boot formatted an empty disk */
	int64_t last_check_ns;     /* wall clock of the last integrity check, 0 never */
	bool last_check_ok;
	char message[200];         /* the boot line, without "store: " */
};

/* Boot: opens the store on the first block device and prints one line
 * saying what happened. 0 when the store is usable (perhaps read-only). */
int store_open(void);
/* Same on a given device, without printing (tests, tools). */
int store_open_dev(struct blkdev *bd);
/* Closes the database and releases the disk (tests; shutdown). */
void store_close(void);
/* A snapshot of the store's state for the health endpoint. */
int store_status(struct store_status *out);
/* Runs PRAGMA integrity_check and records its time and result.
 * 0 when ok, -EBADMSG when damaged, -ENODEV without a store. */
int store_check(void);

/* Key-value records (table store_kv). The device key and certificate live
 * here. get: (*len) is the capacity of (buf) on entry and the value's length
 * on return; -ENOENT when absent, -ENOSPC (with *len set to the length
 * needed) when buf is too small. put: stores (*len) bytes of (buf), in one
 * transaction, durable when it returns. */
int store_kv_get(const char *key, void *buf, size_t *len);
int store_kv_put(const char *key, const void *buf, size_t *len);
int store_kv_delete(const char *key);

/* Runs SQL statements that return no rows (schema, inserts, updates).
 * Each call is its own transaction unless the SQL says BEGIN ... COMMIT;
 * when it returns 0, the changes are durable. */
int store_exec(const char *sql);
/* One statement with its '?' parameters bound, in order, to (args). */
int store_exec_i64(const char *sql, const int64_t *args, size_t nargs);
/* The first column of the first row of a one-statement query as an
 * integer; -ENOENT when there is no row or it is NULL. */
int store_query_i64(const char *sql, int64_t *out);
/* The same as text into (buf) (truncated to len-1 bytes, NUL-ended). */
int store_query_text(const char *sql, char *buf, size_t len);

#endif
