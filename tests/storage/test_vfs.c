/*
 * test_vfs.c: host unit tests (ASan + UBSan) of the store's disk layout
 * (disk.c), its SQLite VFS (vfs.c) and the store API (store.c), on the RAM
 * device of faultdev.c: format and mount, superblock fallback, every way a
 * disk is refused (and that nothing is written then), file I/O across
 * blocks and sectors with the journal growing down, holes, short reads,
 * a full disk, read-only devices, 4096-byte sectors, key-value records,
 * errors mapped to errnos, schema versions, a damaged database, the clock.
 * Leaves out: power cuts (test_powercut.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../hub/store/disk.h"
#include "../../hub/store/store.h"
#include "faultdev.h"

static int failures, checks;
#define CHECK(c)                                                                   \
	do {                                                                       \
		checks++;                                                          \
		if (!(c)) {                                                        \
			failures++;                                                \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
		}                                                                  \
	} while (0)

#define MiB (1024u * 1024u)

static void new_dev(struct faultdev *f, uint32_t ss, uint64_t bytes)
{
	fdev_init(f, ss, bytes / ss, NULL);
}

static void test_format_mount(void)
{
	struct faultdev f;
	struct store_disk d;
	new_dev(&f, 512, 4 * MiB);
	CHECK(store_disk_mount(&d, &f.bd) == DISK_E_BLANK);
	CHECK(f.bd.stats.writes == 0);
	CHECK(store_disk_format(&d, &f.bd, 123) == 0);
	CHECK(d.seq == 1 && d.area_start == DISK_RESERVED && d.area_end == 4 * MiB);
	CHECK(store_disk_free(&d) == 4 * MiB - DISK_RESERVED);
	uint8_t buf[10000], back[10000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	/* unaligned, across blocks, both files */
	CHECK(store_disk_write(&d, DISK_DB, 1000, buf, sizeof(buf)) == 0);
	CHECK(store_disk_write(&d, DISK_JOURNAL, 4090, buf, sizeof(buf)) == 0);
	CHECK(d.f[DISK_DB].len == 11000 && d.f[DISK_JOURNAL].len == 14090);
	size_t got;
	CHECK(store_disk_read(&d, DISK_DB, 1000, back, sizeof(back), &got) == 0 && got == sizeof(back));
	CHECK(!memcmp(buf, back, sizeof(buf)));
	CHECK(store_disk_read(&d, DISK_JOURNAL, 4090, back, sizeof(back), &got) == 0);
	CHECK(!memcmp(buf, back, sizeof(buf)));
	/* the hole before 1000 reads as zeros */
	CHECK(store_disk_read(&d, DISK_DB, 0, back, 1000, &got) == 0);
	int nonzero = 0;
	for (int i = 0; i < 1000; i++)
		nonzero += back[i] != 0;
	CHECK(nonzero == 0);
	/* short read past the end, zero-filled */
	memset(back, 0xaa, 100);
	CHECK(store_disk_read(&d, DISK_DB, 10950, back, 100, &got) == -ENODATA && got == 50);
	CHECK(back[50] == 0 && back[99] == 0 && back[0] == buf[9950]);
	/* the journal's block 0 is the area's last block */
	uint8_t raw[512];
	CHECK(f.bd.ops->read(&f.bd, (4 * MiB - 4096) / 512 + 7, raw, 1) == 0);
	CHECK(raw[506] == buf[0] && raw[511] == buf[5]); /* offset 4090 = block 0 + 4090 */
	CHECK(store_disk_sync(&d) == 0 && d.seq == 2);
	CHECK(store_disk_sync(&d) == 0 && d.seq == 2); /* no change, no superblock */
	store_disk_release(&d);

	struct store_disk d2;
	CHECK(store_disk_mount(&d2, &f.bd) == 0);
	CHECK(d2.seq == 2 && d2.f[DISK_DB].len == 11000 && d2.f[DISK_JOURNAL].len == 14090);
	CHECK(d2.format_ns == 123 && d2.f[DISK_JOURNAL].exists);
	/* generation 3 goes to copy 1; damage it: mount falls back to 2 */
	CHECK(store_disk_truncate(&d2, DISK_DB, 500) == 0 && store_disk_sync(&d2) == 0 && d2.seq == 3);
	store_disk_release(&d2);
	memset(raw, 0, sizeof(raw));
	CHECK(f.bd.ops->read(&f.bd, 8, raw, 1) == 0);
	raw[70] ^= 1;
	CHECK(f.bd.ops->write(&f.bd, 8, raw, 1) == 0);
	CHECK(store_disk_mount(&d2, &f.bd) == 0 && d2.seq == 2 && d2.f[DISK_DB].len == 11000);
	/* delete is durable at once */
	CHECK(store_disk_delete(&d2, DISK_JOURNAL) == 0 && d2.seq == 3);
	store_disk_release(&d2);
	CHECK(store_disk_mount(&d2, &f.bd) == 0 && !d2.f[DISK_JOURNAL].exists &&
	      d2.f[DISK_JOURNAL].len == 0);
	store_disk_release(&d2);
	fdev_free(&f);
}

static void test_full(void)
{
	struct faultdev f;
	struct store_disk d;
	new_dev(&f, 512, 1 * MiB);
	CHECK(store_disk_mount(&d, &f.bd) == DISK_E_BLANK);
	CHECK(store_disk_format(&d, &f.bd, 0) == 0);
	uint64_t area = d.area_end - d.area_start;
	static uint8_t blk[4096];
	uint64_t n = area / 4096;
	CHECK(store_disk_write(&d, DISK_DB, 0, blk, 4096) == 0);
	CHECK(store_disk_write(&d, DISK_JOURNAL, (n - 2) * 4096, blk, 4096) == 0);
	CHECK(store_disk_write(&d, DISK_DB, 4096, blk, 1) == -ENOSPC);
	CHECK(store_disk_free(&d) == 0);
	/* shrinking a durable journal frees nothing until that is durable */
	CHECK(store_disk_sync(&d) == 0);
	CHECK(store_disk_truncate(&d, DISK_JOURNAL, 0) == 0);
	CHECK(store_disk_write(&d, DISK_DB, 4096, blk, 1) == -ENOSPC);
	CHECK(store_disk_sync(&d) == 0);
	CHECK(store_disk_write(&d, DISK_DB, 4096, blk, 1) == 0);
	store_disk_release(&d);
	fdev_free(&f);
}

static void refused(struct faultdev *f, int expect, const char *words)
{
	struct store_disk d;
	uint64_t w = f->bd.stats.writes;
	int err = store_disk_mount(&d, &f->bd);
	CHECK(err == expect);
	CHECK(strstr(d.why, words) != NULL);
	if (err == 0)
		store_disk_release(&d);
	/* and through the store: refused, one line, nothing written */
	CHECK(store_open_dev(&f->bd) != 0);
	struct store_status st;
	store_status(&st);
	CHECK(st.state == STORE_REFUSED);
	CHECK(strstr(st.message, words) != NULL);
	CHECK(strstr(st.message, "left untouched") != NULL || expect == DISK_E_SMALL);
	CHECK(f->bd.stats.writes == w);
	store_close();
}

static void test_refusals(void)
{
	struct faultdev f;
	uint64_t rng = 42;
	/* garbage */
	new_dev(&f, 512, 2 * MiB);
	for (size_t i = 0; i < fdev_bytes(&f); i++)
		f.view[i] = (uint8_t)prng_next(&rng);
	refused(&f, DISK_E_FOREIGN, "not a Hearth store");
	fdev_free(&f);
	/* zero but for one sector far from the edges */
	new_dev(&f, 512, 8 * MiB);
	f.view[3 * MiB + 512 * 5] = 1;
	f.view[4 * MiB + 17] = 1;
	refused(&f, DISK_E_FOREIGN, "not a Hearth store");
	fdev_free(&f);
	/* too small to format */
	new_dev(&f, 512, 256 * 1024);
	CHECK(store_open_dev(&f.bd) != 0);
	CHECK(f.bd.stats.writes == 0);
	store_close();
	fdev_free(&f);

	/* a formatted store, then: newer, damaged, truncated */
	new_dev(&f, 512, 2 * MiB);
	CHECK(store_open_dev(&f.bd) == 0);
	CHECK(store_exec("CREATE TABLE x(a); INSERT INTO x VALUES (1)") == 0);
	store_close();
	uint8_t *good = malloc(fdev_bytes(&f));
	memcpy(good, f.view, fdev_bytes(&f));

	f.view[8] = 2; /* version 2 in copy 0 only */
	refused(&f, DISK_E_NEWER, "store format 2 is newer");
	memcpy(f.view, good, fdev_bytes(&f));
	f.view[64] ^= 0xff;
	f.view[4096 + 64] ^= 0xff;
	refused(&f, DISK_E_DAMAGED, "both superblocks are damaged");
	memcpy(f.view, good, fdev_bytes(&f));
	fdev_free(&f);
	fdev_init(&f, 512, 3000, good); /* 1.5 MiB of the 2 */
	refused(&f, DISK_E_TRUNCATED, "truncated");
	fdev_free(&f);
	/* and the untouched image still opens */
	fdev_init(&f, 512, 2 * MiB / 512, good);
	int64_t v = 0;
	CHECK(store_open_dev(&f.bd) == 0 && store_query_i64("SELECT a FROM x", &v) == 0 && v == 1);
	store_close();
	fdev_free(&f);
	free(good);
}

static void test_readonly(void)
{
	struct faultdev f;
	new_dev(&f, 512, 2 * MiB);
	f.bd.read_only = true;
	CHECK(store_open_dev(&f.bd) == -EROFS);
	struct store_status st;
	store_status(&st);
	CHECK(st.state == STORE_REFUSED && strstr(st.message, "cannot be formatted"));
	store_close();
	f.bd.read_only = false;
	CHECK(store_open_dev(&f.bd) == 0);
	size_t len = 5;
	CHECK(store_kv_put("k", "hello", &len) == 0);
	store_close();
	f.bd.read_only = true;
	uint64_t w = f.bd.stats.writes;
	CHECK(store_open_dev(&f.bd) == 0);
	store_status(&st);
	CHECK(st.state == STORE_READONLY && strstr(st.message, "(read-only)"));
	char buf[16];
	len = sizeof(buf);
	CHECK(store_kv_get("k", buf, &len) == 0 && len == 5 && !memcmp(buf, "hello", 5));
	len = 3;
	CHECK(store_kv_put("k", "bye", &len) == -EROFS);
	CHECK(store_exec("CREATE TABLE y(a)") == -EROFS);
	CHECK(f.bd.stats.writes == w);
	store_close();
	fdev_free(&f);
}

static void test_store_api(uint32_t ss)
{
	struct faultdev f;
	new_dev(&f, ss, 4 * MiB);
	CHECK(store_open_dev(&f.bd) == 0);
	struct store_status st;
	store_status(&st);
	CHECK(st.state == STORE_OK && st.formatted_now && st.format_version == 1);
	CHECK(st.schema_version >= 1 && st.last_check_ok && st.last_check_ns > 0);
	CHECK(st.size_bytes == 4 * MiB - DISK_RESERVED && st.free_bytes + st.used_bytes == st.size_bytes);
	CHECK(strstr(st.message, "formatted an empty disk") && strstr(st.message, "integrity ok"));

	uint8_t key[300], back[400];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	size_t len = sizeof(key);
	CHECK(store_kv_put("tls.key", key, &len) == 0);
	len = sizeof(back);
	CHECK(store_kv_get("tls.key", back, &len) == 0 && len == sizeof(key) && !memcmp(key, back, len));
	len = 10;
	CHECK(store_kv_get("tls.key", back, &len) == -ENOSPC && len == sizeof(key));
	len = sizeof(back);
	CHECK(store_kv_get("nope", back, &len) == -ENOENT);
	len = 0;
	CHECK(store_kv_put("empty", NULL, &len) == 0);
	len = sizeof(back);
	CHECK(store_kv_get("empty", back, &len) == 0 && len == 0);
	CHECK(store_kv_delete("empty") == 0 && store_kv_delete("empty") == -ENOENT);

	CHECK(store_exec("this is not sql") == -EINVAL);
	CHECK(store_exec("CREATE TABLE u(a PRIMARY KEY); INSERT INTO u VALUES (1)") == 0);
	CHECK(store_exec("INSERT INTO u VALUES (1)") == -EEXIST);
	int64_t v;
	CHECK(store_query_i64("SELECT a FROM u WHERE a = 2", &v) == -ENOENT);
	/* the JSON functions are there */
	char txt[64];
	CHECK(store_query_text("SELECT json_extract('{\"a\":[1,2,42]}', '$.a[2]')", txt, sizeof(txt)) == 0 &&
	      !strcmp(txt, "42"));
	/* the wall clock reaches SQLite */
	CHECK(store_query_i64("SELECT CAST(strftime('%s','now') AS INTEGER)", &v) == 0);
	CHECK(v > time(NULL) - 5 && v < time(NULL) + 5);
	/* a big transaction: the journal spans many blocks */
	CHECK(store_exec("CREATE TABLE big(b); WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i+1 "
			 "FROM s WHERE i < 300) INSERT INTO big SELECT randomblob(3000) FROM s") == 0);
	CHECK(store_exec("UPDATE big SET b = randomblob(2000)") == 0);
	CHECK(store_check() == 0);
	store_close();

	/* reopen: data there, schema not migrated again, not formatted again */
	CHECK(store_open_dev(&f.bd) == 0);
	store_status(&st);
	CHECK(!st.formatted_now && st.schema_version >= 1);
	len = sizeof(back);
	CHECK(store_kv_get("tls.key", back, &len) == 0 && len == sizeof(key));
	CHECK(store_query_i64("SELECT count(*) FROM big", &v) == 0 && v == 301);
	CHECK(store_query_i64("SELECT count(*) FROM schema_version", &v) == 0 && v == (int64_t)st.schema_version);
	/* a schema from the future: read-only */
	CHECK(store_exec("INSERT INTO schema_version VALUES (99, 0)") == 0);
	store_close();
	CHECK(store_open_dev(&f.bd) == 0);
	store_status(&st);
	CHECK(st.state == STORE_READONLY && st.schema_version == 99 && strstr(st.message, "newer"));
	len = 1;
	CHECK(store_kv_put("x", "y", &len) == -EROFS);
	store_close();
	fdev_free(&f);
}

static void test_damaged_db(void)
{
	struct faultdev f;
	new_dev(&f, 512, 2 * MiB);
	CHECK(store_open_dev(&f.bd) == 0);
	CHECK(store_exec("CREATE TABLE d(a); WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i+1 "
			 "FROM s WHERE i < 200) INSERT INTO d SELECT randomblob(500) FROM s;"
			 "CREATE INDEX di ON d(a)") == 0);
	store_close();
	/* scribble over a page in the middle of table d (past the pages of
	 * the hub's schema, which the migrations create first) */
	memset(f.view + DISK_RESERVED + 40 * 4096 + 100, 0x5a, 2000);
	uint64_t w = f.bd.stats.writes;
	int err = store_open_dev(&f.bd);
	struct store_status st;
	store_status(&st);
	CHECK(err == 0 || st.state == STORE_FAILED);
	CHECK(st.state != STORE_OK);
	CHECK(!st.last_check_ok || st.state == STORE_FAILED);
	CHECK(f.bd.stats.writes == w);
	store_close();
	fdev_free(&f);
}

static void test_no_device(void)
{
	CHECK(store_open_dev(NULL) == -ENODEV);
	struct store_status st;
	store_status(&st);
	CHECK(st.state == STORE_ABSENT && strstr(st.message, "no disk"));
	size_t len = 1;
	char c;
	CHECK(store_kv_get("a", &c, &len) == -ENODEV);
	CHECK(store_kv_put("a", "b", &len) == -ENODEV);
	CHECK(store_exec("SELECT 1") == -ENODEV);
	store_close();
}

int main(void)
{
	stub_rng_seed(7);
	test_format_mount();
	test_full();
	test_refusals();
	test_readonly();
	test_store_api(512);
	test_store_api(4096);
	test_damaged_db();
	test_no_device();
	if (failures) {
		fprintf(stderr, "test_vfs: %d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("test_vfs: all %d checks passed\n", checks);
	return 0;
}
