/*
 * test_audit.c: host unit tests (ASan + UBSan) of the hash-chained audit log
 * (hub/audit.c) on a real store (hub/store + SQLite) in a temporary file:
 * the canonical serialization and its hash against a known answer, append
 * (ids, links, defaults, refused input, fields without a NUL), an empty
 * log, verify after tampering with each stored field, with the order, a
 * removed entry, a cut tail, a damaged head, a rehashed (forged) last
 * entry and stored values the entry cannot hold (longer, a NUL inside);
 * that a later append keeps each break visible; the append-only triggers,
 * references that go with deleted records, and a reopen ("reboot") that
 * keeps the chain and continues it; read-only and absent stores.
 * Tampering uses raw SQL (store_exec) with the triggers dropped, as someone
 * with the disk in hand could.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "check.h"
#include "filedev.h"
#include "store/model_store.h"
#include "store/store.h"

static struct filedev disk;
static int have_disk;

static const char zeros[65] = "0000000000000000000000000000000000000000000000000000000000000000";

/* A fresh, empty store on a new temporary file. */
static void fresh(void)
{
	store_close();
	if (have_disk)
		filedev_remove(&disk);
	have_disk = filedev_create(&disk, 8u << 20, true) == 0;
	if (!have_disk || store_open_dev(&disk.bd)) {
		fprintf(stderr, "test_audit: cannot make a store on a temporary file\n");
		exit(2);
	}
}

static void entry(struct audit_entry *e, const char *service, const char *decision, int64_t records)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->service, sizeof(e->service), "%s", service);
	snprintf(e->category, sizeof(e->category), "viewing.history");
	snprintf(e->purpose, sizeof(e->purpose), "recommendations");
	snprintf(e->decision, sizeof(e->decision), "%s", decision);
	snprintf(e->policies, sizeof(e->policies), "[\"p1\"]");
	snprintf(e->obligations, sizeof(e->obligations), "[\"drop(title)\"]");
	snprintf(e->budget_spent, sizeof(e->budget_spent), "0.25");
	e->records = records;
	e->bytes = records * 100;
}

/* Appends (n) entries; ids 1..n when the log was empty. */
static void append_n(int n)
{
	struct audit_entry e;
	for (int i = 0; i < n; i++) {
		int64_t id = -1;
		entry(&e, i % 2 ? "acme-recs" : "owner", i % 3 == 2 ? "deny" : "allow", i);
		int err = hub_audit_append(&e, &id);
		CHECK(err == 0 && id > 0, "append %d: %d", i, err);
	}
}

static struct audit_verify verify(void)
{
	struct audit_verify v;
	int err = hub_audit_verify(&v);
	CHECK(err == 0, "verify: %d", err);
	return v;
}

static int run_sql(const char *sql)
{
	return store_exec(sql);
}

static void test_canonical_known_answer(void)
{
	struct audit_entry e;
	char out[4096], hex[65];
	memset(&e, 0, sizeof(e));
	e.id = 1;
	e.time_ns = 1700000000123456789;
	strcpy(e.service, "acme-recs");
	strcpy(e.category, "viewing.history");
	strcpy(e.purpose, "recommendations");
	strcpy(e.decision, "allow");
	strcpy(e.policies, "[\"p1\",2]");
	strcpy(e.obligations, "[]");
	e.records = 12;
	e.bytes = 3400;
	strcpy(e.budget_spent, "0.5");
	strcpy(e.prev_hash, zeros);
	const char *want = "hearth-audit-v1\nid=1:1\ntime_ns=19:1700000000123456789\n"
			   "service=9:acme-recs\ncategory=15:viewing.history\n"
			   "purpose=15:recommendations\ndecision=5:allow\npolicies=8:[\"p1\",2]\n"
			   "obligations=2:[]\nrecords=2:12\nbytes=4:3400\nbudget_spent=3:0.5\n"
			   "prev_hash=64:0000000000000000000000000000000000000000000000000000000000000000\n";
	int n = hub_audit_canonical(&e, out, sizeof(out));
	CHECK(n == (int)strlen(want) && !strcmp(out, want), "canonical (%d bytes):\n%s", n, out);
	/* SHA-256 of that text, computed apart from this code */
	CHECK(hub_audit_hash(&e, hex) == 0 &&
		      !strcmp(hex, "b114daaeaf13abf5f5aa79b67d55abeb3f90ffe6083acccbd0c9672f68d8eea9"),
	      "hash %s", hex);
	/* a value that looks like the next field cannot fake one: lengths */
	struct audit_entry f = e;
	strcpy(f.service, "acme-recs\ncategory=15:viewing.history");
	strcpy(f.category, "");
	char h2[65];
	CHECK(hub_audit_hash(&f, h2) == 0 && strcmp(h2, hex), "a shifted field hashes the same");
	/* too small a buffer: -ENOSPC, never an overflow */
	CHECK(hub_audit_canonical(&e, out, 10) == -ENOSPC, "tiny buffer");
	CHECK(hub_audit_canonical(&e, out, 100) == -ENOSPC, "short buffer");
	CHECK(hub_audit_canonical(&e, out, (size_t)n) == -ENOSPC, "no room for the NUL");
	CHECK(hub_audit_canonical(&e, out, (size_t)n + 1) == n, "exact buffer");
	/* the largest entry fits the 4 KiB the header promises */
	memset(&f, 'x', sizeof(f));
	f.id = INT64_MAX;
	f.time_ns = INT64_MIN;
	f.records = f.bytes = INT64_MAX;
	f.service[sizeof(f.service) - 1] = f.category[sizeof(f.category) - 1] = 0;
	f.purpose[sizeof(f.purpose) - 1] = f.decision[sizeof(f.decision) - 1] = 0;
	f.policies[sizeof(f.policies) - 1] = f.obligations[sizeof(f.obligations) - 1] = 0;
	f.budget_spent[sizeof(f.budget_spent) - 1] = f.prev_hash[64] = f.hash[64] = 0;
	n = hub_audit_canonical(&f, out, sizeof(out));
	CHECK(n > 3000 && n < 4096, "largest entry: %d", n);
}

static void test_empty_log(void)
{
	fresh();
	struct audit_verify v = verify();
	CHECK(v.ok == 1 && v.entries == 0 && v.first_bad_id == 0 && !strcmp(v.reason, ""),
	      "empty log: ok %d entries %" PRId64 " reason %s", v.ok, v.entries, v.reason);
	CHECK(!strcmp(v.head, zeros), "empty head %s", v.head);
	int64_t id;
	char h[65];
	CHECK(store_audit_last(&id, h) == 0 && id == 0 && !strcmp(h, zeros), "last of empty");
}

static void test_append_chain(void)
{
	fresh();
	struct audit_entry e;
	int64_t id = 0;
	stub_wall_ns = 1234567890000000000;
	entry(&e, "owner", "allow", 3);
	CHECK(hub_audit_append(&e, &id) == 0 && id == 1, "first id %" PRId64, id);
	e.time_ns = 42; /* given: kept */
	strcpy(e.decision, "ask");
	e.policies[0] = e.obligations[0] = 0; /* "" reads as [] */
	CHECK(hub_audit_append(&e, &id) == 0 && id == 2, "second id %" PRId64, id);
	entry(&e, "svc", "deny", 0);
	CHECK(hub_audit_append(&e, NULL) == 0, "id_out may be NULL");
	stub_wall_ns = 0;

	struct audit_verify v = verify();
	CHECK(v.ok && v.entries == 3, "chain of 3: ok %d entries %" PRId64 " %s", v.ok, v.entries,
	      v.reason);
	char got[2][400];
	CHECK(store_query_text("SELECT time_ns || ' ' || policies || ' ' || obligations || ' ' || "
			       "decision FROM audit WHERE id = 1", got[0], sizeof(got[0])) == 0 &&
		      !strcmp(got[0], "1234567890000000000 [\"p1\"] [\"drop(title)\"] allow"),
	      "entry 1: %s", got[0]);
	CHECK(store_query_text("SELECT time_ns || ' ' || policies || ' ' || obligations || ' ' || "
			       "decision FROM audit WHERE id = 2", got[1], sizeof(got[1])) == 0 &&
		      !strcmp(got[1], "42 [] [] ask"),
	      "entry 2: %s", got[1]);
	/* links: the first after 64 zeros, each prev_hash the hash before it */
	char buf[200];
	CHECK(store_query_text("SELECT prev_hash FROM audit WHERE id = 1", buf, sizeof(buf)) == 0 &&
		      !strcmp(buf, zeros),
	      "first prev_hash %s", buf);
	int64_t links = -1;
	CHECK(store_query_i64("SELECT count(*) FROM audit a JOIN audit b ON b.id = a.id + 1 "
			      "WHERE b.prev_hash = a.hash", &links) == 0 && links == 2,
	      "links %" PRId64, links);
	int64_t hid;
	char head[65];
	CHECK(store_audit_head(&hid, head) == 0 && hid == 3 && !strcmp(head, v.head),
	      "head %" PRId64 " %s", hid, head);
	/* every stored hash is the hash of its own entry, 64 lowercase hex */
	CHECK(store_query_i64("SELECT count(*) FROM audit WHERE length(hash) = 64 AND "
			      "hash NOT GLOB '*[^0-9a-f]*'", &links) == 0 && links == 3,
	      "hex hashes %" PRId64, links);
}

static void test_append_refused(void)
{
	fresh();
	struct audit_entry e;
	int64_t id = 77;
	entry(&e, "s", "maybe", 1);
	CHECK(hub_audit_append(&e, &id) == -EINVAL && id == 77, "bad decision");
	entry(&e, "s", "", 1);
	CHECK(hub_audit_append(&e, &id) == -EINVAL, "empty decision");
	entry(&e, "s", "allow", 1);
	strcpy(e.policies, "p1");
	CHECK(hub_audit_append(&e, &id) == -EINVAL, "policies not an array");
	entry(&e, "s", "allow", 1);
	strcpy(e.obligations, "{\"a\":1}");
	CHECK(hub_audit_append(&e, &id) == -EINVAL, "obligations not an array");
	entry(&e, "s", "allow", -1);
	CHECK(hub_audit_append(&e, &id) == -EINVAL, "negative records");
	entry(&e, "s", "allow", 1);
	e.bytes = -5;
	CHECK(hub_audit_append(&e, &id) == -EINVAL, "negative bytes");
	int64_t n = -1;
	CHECK(store_query_i64("SELECT count(*) FROM audit", &n) == 0 && n == 0,
	      "refused entries stored: %" PRId64, n);
	/* fields filled to the last byte (no NUL): cut, never overrun */
	entry(&e, "s", "allow", 1);
	memset(e.service, 'S', sizeof(e.service));
	memset(e.purpose, 'P', sizeof(e.purpose));
	memset(e.budget_spent, '1', sizeof(e.budget_spent));
	CHECK(hub_audit_append(&e, &id) == 0 && id == 1, "full fields");
	CHECK(store_query_i64("SELECT length(service) * 1000 + length(purpose) FROM audit", &n) == 0 &&
		      n == 63 * 1000 + 127,
	      "cut lengths %" PRId64, n);
	CHECK(verify().ok, "chain with cut fields");
}

/* Appends 5 entries, runs (sql) with the triggers dropped, and expects
 * verify to report (reason) at (bad_id). */
static void tamper(const char *what, const char *sql, const char *reason, int64_t bad_id)
{
	fresh();
	append_n(5);
	CHECK(verify().ok, "%s: intact before", what);
	int err = run_sql("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;");
	CHECK(err == 0, "%s: drop triggers: %d", what, err);
	err = run_sql(sql);
	CHECK(err == 0, "%s: %s: %d", what, sql, err);
	struct audit_verify v = verify();
	CHECK(!v.ok && !strcmp(v.reason, reason) && v.first_bad_id == bad_id,
	      "%s: ok %d reason \"%s\" (want %s) first_bad_id %" PRId64 " (want %" PRId64 ")", what,
	      v.ok, v.reason, reason, v.first_bad_id, bad_id);
}

static void test_tamper(void)
{
	static const struct {
		const char *what, *sql, *reason;
		int64_t bad;
	} cases[] = {
		{"time_ns", "UPDATE audit SET time_ns = time_ns + 1 WHERE id = 3", "hash", 3},
		{"service", "UPDATE audit SET service = 'evil' WHERE id = 2", "hash", 2},
		{"category", "UPDATE audit SET category = 'health' WHERE id = 4", "hash", 4},
		{"purpose", "UPDATE audit SET purpose = 'ads' WHERE id = 1", "hash", 1},
		{"decision", "UPDATE audit SET decision = 'allow' WHERE id = 3", "hash", 3},
		{"policies", "UPDATE audit SET policies = '[]' WHERE id = 5", "hash", 5},
		{"obligations", "UPDATE audit SET obligations = '[]' WHERE id = 2", "hash", 2},
		{"records", "UPDATE audit SET records = 0 WHERE id = 4", "hash", 4},
		{"bytes", "UPDATE audit SET bytes = bytes + 1 WHERE id = 2", "hash", 2},
		{"budget_spent", "UPDATE audit SET budget_spent = '' WHERE id = 1", "hash", 1},
		{"hash", "UPDATE audit SET hash = replace(hash, substr(hash, 1, 1), "
			 "CASE substr(hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE id = 3",
		 "hash", 3},
		/* a rehashed entry is consistent in itself: its successor's link breaks */
		{"prev_hash", "UPDATE audit SET prev_hash = (SELECT hash FROM audit WHERE id = 1) "
			      "WHERE id = 3", "prev_hash", 3},
		{"id", "UPDATE audit SET id = 9 WHERE id = 5", "order", 9},
		{"removed entry", "DELETE FROM audit WHERE id = 2", "order", 3},
		{"first entry removed", "DELETE FROM audit WHERE id = 1", "order", 2},
		{"swapped entries", "UPDATE audit SET id = -id WHERE id IN (2, 3); "
				    "UPDATE audit SET id = 3 WHERE id = -2; "
				    "UPDATE audit SET id = 2 WHERE id = -3", "prev_hash", 2},
		{"cut tail", "DELETE FROM audit WHERE id >= 4", "head", 4},
		{"head moved back", "UPDATE store_kv SET value = CAST('4 ' || (SELECT hash FROM "
				    "audit WHERE id = 4) AS BLOB) WHERE key = 'audit.head'", "head", 5},
		/* values the entry cannot hold: a longer hash, a NUL inside */
		{"hash suffix", "UPDATE audit SET hash = hash || 'ff' WHERE id = 3", "hash", 3},
		{"prev_hash suffix", "UPDATE audit SET prev_hash = prev_hash || '0' WHERE id = 2",
		 "hash", 2},
		{"NUL in service", "UPDATE audit SET service = service || char(0) || 'evil' "
				   "WHERE id = 2", "hash", 2},
		{"NUL in policies", "UPDATE audit SET policies = policies || char(0) || ',\"p9\"]' "
				    "WHERE id = 4", "hash", 4},
		{"head hash wrong", "UPDATE store_kv SET value = CAST('5 ' || (SELECT hash FROM "
				    "audit WHERE id = 4) AS BLOB) WHERE key = 'audit.head'", "head", 5},
		{"head garbage", "UPDATE store_kv SET value = CAST('garbage' AS BLOB) "
				 "WHERE key = 'audit.head'", "head", 5},
		{"head removed", "DELETE FROM store_kv WHERE key = 'audit.head'", "head", 5},
		{"every entry removed", "DELETE FROM audit", "head", 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tamper(cases[i].what, cases[i].sql, cases[i].reason, cases[i].bad);
}

static int grab_last(const struct audit_entry *e, void *arg)
{
	*(struct audit_entry *)arg = *e;
	return 0;
}

/* A forger who rewrites the last entry and computes its hash again keeps
 * the chain consistent; the head recorded beside the log still tells. */
static void test_forged_tail(void)
{
	static struct audit_entry last;
	char sql[300], h[65];
	fresh();
	append_n(5);
	CHECK(store_audit_walk(grab_last, &last) == 0 && last.id == 5, "walk");
	strcpy(last.service, "forged");
	CHECK(hub_audit_hash(&last, h) == 0, "rehash");
	snprintf(sql, sizeof(sql),
		 "DROP TRIGGER audit_no_update; UPDATE audit SET service = 'forged', hash = '%s' "
		 "WHERE id = 5",
		 h);
	CHECK(run_sql(sql) == 0, "forge");
	struct audit_verify v = verify();
	CHECK(!v.ok && !strcmp(v.reason, "head") && v.first_bad_id == 5,
	      "forged tail: ok %d reason %s at %" PRId64, v.ok, v.reason, v.first_bad_id);
}

/* Tampering followed by a normal append: the append must not seal the
 * edited log with a fresh head. */
static void tamper_then_append(const char *what, const char *sql, const char *reason,
			       int64_t bad_id)
{
	struct audit_entry e;
	int64_t id = 0;
	tamper(what, sql, reason, bad_id < 0 ? -bad_id : bad_id);
	entry(&e, "owner", "allow", 1);
	CHECK(hub_audit_append(&e, &id) == 0, "%s: append after", what);
	struct audit_verify v = verify();
	CHECK(!v.ok, "%s: an append after it hid the tampering (entries %" PRId64 ")", what,
	      v.entries);
	if (bad_id > 0)
		CHECK(!strcmp(v.reason, reason) && v.first_bad_id == bad_id,
		      "%s + append: reason %s at %" PRId64, what, v.reason, v.first_bad_id);
}

static void test_tamper_then_append(void)
{
	/* the hole stays: the new entry is 6, after the head, not 4 */
	tamper_then_append("cut tail", "DELETE FROM audit WHERE id >= 4", "head", -4);
	struct audit_verify v = verify();
	CHECK(!strcmp(v.reason, "order") && v.first_bad_id == 6, "cut tail + append: %s at %" PRId64,
	      v.reason, v.first_bad_id);
	/* an intact log goes on as before */
	fresh();
	append_n(3);
	append_n(2);
	v = verify();
	CHECK(v.ok && v.entries == 5, "plain appends");
}

/* A rehashed last entry, then an append: it links to the hash the head
 * kept, not to the forgery. */
static void test_forged_tail_then_append(void)
{
	static struct audit_entry last;
	char sql[300], h[65];
	int64_t id;
	fresh();
	append_n(5);
	CHECK(store_audit_walk(grab_last, &last) == 0, "walk");
	strcpy(last.purpose, "forged");
	CHECK(hub_audit_hash(&last, h) == 0, "rehash");
	snprintf(sql, sizeof(sql),
		 "DROP TRIGGER audit_no_update; UPDATE audit SET purpose = 'forged', hash = '%s' "
		 "WHERE id = 5",
		 h);
	CHECK(run_sql(sql) == 0, "forge");
	append_n(1);
	struct audit_verify v = verify();
	CHECK(!v.ok && !strcmp(v.reason, "prev_hash") && v.first_bad_id == 6,
	      "forged + append: ok %d %s at %" PRId64, v.ok, v.reason, v.first_bad_id);

	/* an entry slipped in behind the head (hashed right, head untouched) */
	fresh();
	append_n(3);
	CHECK(store_audit_walk(grab_last, &last) == 0, "walk");
	last.id = 4;
	memcpy(last.prev_hash, last.hash, sizeof(last.prev_hash));
	strcpy(last.service, "slipped-in");
	CHECK(hub_audit_hash(&last, h) == 0, "hash");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO audit SELECT 4, time_ns, 'slipped-in', category, purpose, decision, "
		 "policies, obligations, records, bytes, budget_spent, '%s', '%s' FROM audit "
		 "WHERE id = 3",
		 last.prev_hash, h);
	CHECK(run_sql(sql) == 0, "insert");
	v = verify();
	CHECK(!v.ok && !strcmp(v.reason, "head"), "slipped in: %s", v.reason);
	CHECK(hub_audit_append(&last, &id) == 0 && id == 5, "append after: %" PRId64, id);
	v = verify();
	CHECK(!v.ok && !strcmp(v.reason, "prev_hash") && v.first_bad_id == 5,
	      "slipped in + append: ok %d %s at %" PRId64, v.ok, v.reason, v.first_bad_id);
}

static void test_append_only(void)
{
	fresh();
	append_n(2);
	CHECK(run_sql("UPDATE audit SET service = 'x' WHERE id = 1") < 0, "update allowed");
	CHECK(run_sql("DELETE FROM audit WHERE id = 2") < 0, "delete allowed");
	struct audit_verify v = verify();
	CHECK(v.ok && v.entries == 2, "after refused edits: ok %d", v.ok);
}

static void test_refs(void)
{
	fresh();
	static const uint8_t h[32] = {7};
	int64_t dev, s1, s2, aid, n = -1;
	CHECK(store_device_add("tv", h, &dev) == 0, "device");
	CHECK(store_record_put(dev, "r1", "viewing.history", 1, "{}", &s1) == 0, "record 1");
	CHECK(store_record_put(dev, "r2", "health.sleep", 1, "{}", &s2) == 0, "record 2");
	append_n(1);
	CHECK(store_audit_last(&aid, (char[65]){0}) == 0 && aid == 1, "last id");
	CHECK(hub_audit_ref(aid, s1) == 0 && hub_audit_ref(aid, s2) == 0, "refs");
	CHECK(hub_audit_ref(aid, s1) == 0, "a second identical ref is ignored");
	CHECK(hub_audit_ref(aid, 999) < 0, "a ref to no record");
	CHECK(store_query_i64("SELECT count(*) FROM audit_refs", &n) == 0 && n == 2, "refs %" PRId64,
	      n);
	CHECK(store_records_delete("viewing", -1, INT64_MIN, INT64_MAX, &n) == 0 && n == 1,
	      "delete viewing: %" PRId64, n);
	CHECK(store_query_i64("SELECT count(*) FROM audit_refs", &n) == 0 && n == 1,
	      "refs after delete %" PRId64, n);
	CHECK(verify().ok, "the entry stays intact when its records go");
}

static void test_reopen(void)
{
	fresh();
	append_n(4);
	struct audit_verify before = verify();
	store_close();
	filedev_close(&disk);
	CHECK(filedev_reopen(&disk) == 0, "reopen the file");
	CHECK(store_open_dev(&disk.bd) == 0, "reopen the store");
	struct audit_verify v = verify();
	CHECK(v.ok && v.entries == 4 && !strcmp(v.head, before.head), "after reopen: ok %d %" PRId64,
	      v.ok, v.entries);
	int64_t id = 0;
	struct audit_entry e;
	entry(&e, "owner", "allow", 1);
	CHECK(hub_audit_append(&e, &id) == 0 && id == 5, "continues at %" PRId64, id);
	char prev[100];
	CHECK(store_query_text("SELECT prev_hash FROM audit WHERE id = 5", prev, sizeof(prev)) == 0 &&
		      !strcmp(prev, before.head),
	      "links to the head before the reboot");
	v = verify();
	CHECK(v.ok && v.entries == 5, "chain of 5 after reboot");

	/* the same disk read-only: verify works, append is refused */
	store_close();
	disk.bd.read_only = true;
	CHECK(store_open_dev(&disk.bd) == 0, "open read-only");
	v = verify();
	CHECK(v.ok && v.entries == 5, "read-only verify");
	CHECK(hub_audit_append(&e, &id) == -EROFS, "read-only append");
	disk.bd.read_only = false;

	/* no store at all */
	store_close();
	CHECK(hub_audit_append(&e, &id) == -ENODEV, "append without a store");
	CHECK(hub_audit_verify(&v) == -ENODEV, "verify without a store");
}

int main(void)
{
	test_canonical_known_answer();
	test_empty_log();
	test_append_chain();
	test_append_refused();
	test_tamper();
	test_forged_tail();
	test_tamper_then_append();
	test_forged_tail_then_append();
	test_append_only();
	test_refs();
	test_reopen();
	store_close();
	if (have_disk)
		filedev_remove(&disk);
	printf("  test_audit: %d checks, %d failures\n", checks, failures);
	return failures != 0;
}
