/*
 * vfs.h: SQLite's VFS on the store's disk (hub/store internal). The VFS,
 * named "hearth", knows two files on the disk, STORE_DB_PATH and its
 * rollback journal; any other file (temp files, statement journals) lives
 * in memory. Only one disk is attached at a time.
 * Leaves out: WAL and shared memory (the store uses a rollback journal),
 * several connections, memory-mapped I/O.
 */
#ifndef STORE_VFS_H
#define STORE_VFS_H

#include "disk.h"

#define STORE_VFS_NAME "hearth"
#define STORE_DB_PATH "/hearth.db"

/* Registers the VFS with SQLite (as the default when (make_default)).
 * Returns 0 or -errno. SQLITE_OS_OTHER builds do this in sqlite3_os_init. */
int store_vfs_register(int make_default);
/* The disk the VFS's files live on, or NULL to detach. (d) stays the
 * caller's and must outlive every open file. */
void store_vfs_attach(struct store_disk *d);

#endif
