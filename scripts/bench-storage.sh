#!/bin/sh
# bench-storage.sh: inserts per second through Hearth's VFS on a file-backed
# blkdev against SQLite's unix VFS, same machine, same file system, same
# pragmas; prints both and the ratio (never gates anything on a time).
# Builds build/storage/bench/bench_store (-O2, no sanitizers) from the same
# SQLite amalgamation, compiled here with the unix VFS (not SQLITE_OS_OTHER).
# Environment: BENCH_DIR (where the files go; default build/storage/bench;
# put it on the file system you care about), BENCH_SINGLE, BENCH_BATCH.
set -e
cd "$(dirname "$0")/.."
B=build/storage/bench
dir=${BENCH_DIR:-$B}
make -s -f tests/storage.mk build/third_party/sqlite3-amalg/.stamp
mkdir -p "$B" "$dir"
A=build/third_party/sqlite3-amalg
opts="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_TEMP_STORE=3 \
-DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_DQS=0 -DSQLITE_MAX_MMAP_SIZE=0"
if [ ! -f $B/sqlite3.o ] || [ $A/sqlite3.c -nt $B/sqlite3.o ]; then
	echo "  HOSTCC  $A/sqlite3.c (unix VFS, -O2)"
	gcc -O2 -w $opts -c $A/sqlite3.c -o $B/sqlite3.o
fi
echo "  HOSTLD  $B/bench_store"
gcc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE $opts -Iboards/include -Iarch/include -I$A \
	tests/storage/bench_store.c hub/store/disk.c hub/store/vfs.c tests/storage/faultdev.c \
	$B/sqlite3.o -lm -o $B/bench_store
$B/bench_store "$dir" "${BENCH_SINGLE:-300}" "${BENCH_BATCH:-20000}"
