/*
 * store_internal.h: for code inside hub/store/ only: the open connection and
 * the conversion of SQLite result codes to negative errnos (store.c).
 */
#ifndef HUB_STORE_INTERNAL_H
#define HUB_STORE_INTERNAL_H

struct sqlite3;
/* The open database, or NULL without a store. */
struct sqlite3 *store_sqlite(void);
/* An SQLite result code as 0 or a negative errno. */
int store_errno(int rc);

#endif
