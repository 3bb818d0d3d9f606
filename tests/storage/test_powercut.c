/*
 * test_powercut.c: power cuts at random points under the real store (disk
 * layout, VFS, SQLite, store.c) on the fault-injecting RAM device.
 *
 * Each iteration formats a blank device and runs a deterministic workload
 * of transactions (rows with checkable payloads, a summary row, deletions of
 * older transactions, some large transactions), cutting the power after a
 * random number of device operations; the surviving image (a random subset
 * of unflushed writes, some torn between sectors) is booted again and
 * checked: the store opens read-write, PRAGMA integrity_check is ok, every
 * transaction whose COMMIT returned is there, the one in flight is there
 * wholly or not at all, nothing is half applied (summary == rows, payloads
 * byte-exact). Then the workload continues on that disk and is cut again.
 *
 * usage: test_powercut [ITERATIONS [SEED]]   (env POWERCUT_SEED, POWERCUT_ITERS)
 * A quarter of the devices have 4096-byte sectors. Two cuts per iteration; the seed is printed and any failure names the
 * iteration's seed, which reproduces it: test_powercut 1 SEED.
 * Leaves out: bit rot inside a sector, a device that lies about flushes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../hub/store/store.h"
#include "faultdev.h"

#define DISK_BYTES (2u * 1024 * 1024)
/* A quarter of the iterations run on a device with 4096-byte sectors. */
#define SECTOR_SIZE (cur_seed % 4 == 1 ? 4096u : 512u)
#define PHASE_TXNS 24

static uint64_t cur_seed;
static int cur_iter, cur_phase;
static uint64_t cuts, cuts_mid_txn, fresh_formats, stat_rollbacks;

#define FAIL(...)                                                                        \
	do {                                                                             \
		fprintf(stderr, "FAIL (iteration %d, phase %d, seed %" PRIu64 "): ", cur_iter, \
			cur_phase, cur_seed);                                            \
		fprintf(stderr, __VA_ARGS__);                                            \
		fprintf(stderr, "\nreproduce: %s 1 %" PRIu64 "\n", prog, cur_seed);     \
		exit(1);                                                                 \
	} while (0)

static const char *prog;

static int64_t rows_of(int64_t t)
{
	if (t % 10 == 0)
		return 40; /* a big one: the journal spans many blocks */
	return (int64_t)(((uint64_t)t * 2654435761u + cur_seed) % 8) + 1;
}

/* Does transaction (d) delete an older one? Then which. */
static int64_t deletes(int64_t d)
{
	return d % 4 == 0 && d > 3 ? d - 3 : 0;
}

#define PAYLOAD "printf('%d:%.*c', ?1 * 1000 + value, (?1 * 7919 + value * 104729 + ?2) % 3000 + 10, " \
		"char(65 + (?1 + value) % 26))"

/* One workload transaction; 0 when its COMMIT returned. */
static int run_txn(int64_t t)
{
	int64_t args[3] = {t, (int64_t)(cur_seed % 100000), rows_of(t)};
	int err = store_exec("BEGIN");
	if (err)
		return err;
	/* generate_series is not built in: a recursive CTE gives 0..rows-1 */
	err = store_exec_i64("INSERT INTO t(txn, k, payload) WITH RECURSIVE s(value) AS "
			     "(SELECT 0 UNION ALL SELECT value + 1 FROM s WHERE value + 1 < ?3) "
			     "SELECT ?1, value, " PAYLOAD " FROM s",
			     args, 3);
	if (!err) {
		int64_t a[2] = {rows_of(t), 0};
		err = store_exec_i64("UPDATE summary SET txns = txns + 1, rows = rows + ?1", a, 1);
	}
	if (!err && deletes(t)) {
		int64_t a[1] = {deletes(t)};
		err = store_exec_i64("UPDATE summary SET rows = rows - (SELECT count(*) FROM t "
				     "WHERE txn = ?1)",
				     a, 1);
		if (!err)
			err = store_exec_i64("DELETE FROM t WHERE txn = ?1", a, 1);
	}
	if (!err)
		err = store_exec("COMMIT");
	if (err)
		store_exec("ROLLBACK");
	return err;
}

static int setup(void)
{
	return store_exec("BEGIN; CREATE TABLE t(txn INTEGER NOT NULL, k INTEGER NOT NULL, "
			  "payload TEXT NOT NULL, PRIMARY KEY (txn, k));"
			  "CREATE TABLE summary(id INTEGER PRIMARY KEY, txns INTEGER, rows INTEGER);"
			  "INSERT INTO summary VALUES (1, 0, 0); COMMIT;");
}

/* Checks the store after a boot; returns the number of transactions in it.
 * (lo..hi): the range the count must lie in. -1 for "no schema yet". */
static int64_t verify(int64_t lo, int64_t hi)
{
	struct store_status st;
	store_status(&st);
	if (st.state != STORE_OK)
		FAIL("store not open read-write after the cut: %s", st.message);
	if (store_check())
		FAIL("integrity_check failed after the cut");
	int64_t have = 0;
	if (store_query_i64("SELECT count(*) FROM sqlite_schema WHERE name = 'summary'", &have))
		FAIL("cannot read the schema");
	if (!have) {
		if (lo >= 0)
			FAIL("the committed schema is gone");
		return -1;
	}
	int64_t txns, rows, count, bad;
	if (store_query_i64("SELECT txns FROM summary", &txns) ||
	    store_query_i64("SELECT rows FROM summary", &rows) ||
	    store_query_i64("SELECT count(*) FROM t", &count))
		FAIL("cannot read the summary");
	if (txns < (lo < 0 ? 0 : lo) || txns > hi)
		FAIL("%" PRId64 " transactions in the store, expected %" PRId64 "..%" PRId64, txns,
		     lo, hi);
	if (rows != count)
		FAIL("summary says %" PRId64 " rows, table has %" PRId64 ": half applied", rows,
		     count);
	int64_t expect = 0;
	for (int64_t t = 1; t <= txns; t++) {
		bool gone = t + 3 <= txns && deletes(t + 3) == t;
		int64_t n;
		char q[96];
		snprintf(q, sizeof(q), "SELECT count(*) FROM t WHERE txn = %" PRId64, t);
		if (store_query_i64(q, &n))
			FAIL("query failed");
		if (n != (gone ? 0 : rows_of(t)))
			FAIL("transaction %" PRId64 " has %" PRId64 " rows, expected %" PRId64, t, n,
			     gone ? 0 : rows_of(t));
		expect += n;
	}
	if (expect != count)
		FAIL("rows of transactions beyond %" PRId64 " are present", txns);
	char q[256];
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM t WHERE payload != printf('%%d:%%.*c', txn * 1000 + k, "
		 "(txn * 7919 + k * 104729 + %" PRIu64 ") %% 3000 + 10, char(65 + (txn + k) %% 26))",
		 cur_seed % 100000);
	if (store_query_i64(q, &bad) || bad)
		FAIL("%" PRId64 " payloads are damaged", bad);
	return txns;
}

/* Runs the workload from (base) transactions until the cut; returns how far
 * commits got: *committed (returned 0) and *attempted. */
static void workload(struct faultdev *fd, int64_t base, bool need_setup, int64_t *committed,
		     int64_t *attempted)
{
	/* -1: not even the schema is committed yet */
	*committed = *attempted = need_setup ? -1 : base;
	if (store_open_dev(&fd->bd))
		return;
	struct store_status st;
	store_status(&st);
	if (st.formatted_now)
		fresh_formats++;
	if (need_setup) {
		*attempted = 0;
		if (setup())
			return;
		*committed = 0;
	}
	for (int64_t t = base + 1; t <= base + PHASE_TXNS; t++) {
		*attempted = t;
		if (run_txn(t))
			return;
		*committed = t;
	}
}

/* One phase: run from (image), cut after (ops) operations, boot the
 * survivor and verify. Returns the new image and the transactions in it. */
static uint8_t *phase(const uint8_t *image, int64_t base, long ops, uint64_t *rng, int64_t *txns)
{
	struct faultdev fd;
	fdev_init(&fd, SECTOR_SIZE, DISK_BYTES / SECTOR_SIZE, image);
	fdev_arm(&fd, ops);
	int64_t committed, attempted;
	bool need_setup = base < 0;
	workload(&fd, need_setup ? 0 : base, need_setup, &committed, &attempted);
	if (!fd.dead && committed != (need_setup ? 0 : base) + PHASE_TXNS)
		FAIL("a transaction failed without a power cut");
	bool mid = fd.npending > 0;
	store_close();
	int mode = (int)(prng_next(rng) % 4); /* 0, 3: random subset; 1: none; 2: all */
	uint8_t *surv = fdev_survivor(&fd, rng, mode == 3 ? 0 : mode);
	fdev_free(&fd);
	cuts++;
	cuts_mid_txn += mid;

	struct faultdev fd2;
	fdev_init(&fd2, SECTOR_SIZE, DISK_BYTES / SECTOR_SIZE, surv);
	free(surv);
	if (store_open_dev(&fd2.bd)) {
		struct store_status st;
		store_status(&st);
		FAIL("reopen after the cut failed: %s", st.message);
	}
	/* committed -1: the schema may or may not be there */
	*txns = verify(committed, attempted < 0 ? 0 : attempted);
	if (*txns >= 0 && *txns < attempted)
		stat_rollbacks++;
	store_close();
	uint8_t *out = malloc(fdev_bytes(&fd2));
	if (!out)
		abort();
	memcpy(out, fd2.durable, fdev_bytes(&fd2));
	fdev_free(&fd2);
	return out;
}

/* Operations a full phase takes with this seed (no cut). */
static long measure(void)
{
	struct faultdev fd;
	fdev_init(&fd, SECTOR_SIZE, DISK_BYTES / SECTOR_SIZE, NULL);
	int64_t c, a;
	workload(&fd, 0, true, &c, &a);
	if (c != PHASE_TXNS)
		FAIL("the workload fails without a power cut (%" PRId64 " of %d)", c, PHASE_TXNS);
	store_close();
	long ops = (long)fd.ops;
	fdev_free(&fd);
	return ops;
}

int main(int argc, char **argv)
{
	prog = argv[0];
	int iters = argc > 1 ? atoi(argv[1]) : 500;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0)
				 : (getenv("POWERCUT_SEED") ? strtoull(getenv("POWERCUT_SEED"), NULL, 0)
							    : (uint64_t)time(NULL));
	if (getenv("POWERCUT_ITERS") && argc < 2)
		iters = atoi(getenv("POWERCUT_ITERS"));
	printf("test_powercut: %d iterations, 2 cuts each, seed %" PRIu64 "\n", iters, seed);
	/* Cut points are drawn below (full + 10%): measured with a fixed seed
	 * so that a failing iteration's seed alone reproduces it. */
	cur_seed = 1;
	stub_rng_seed(1);
	long full = measure();
	printf("  a full phase is %ld device operations\n", full);
	for (cur_iter = 0; cur_iter < iters; cur_iter++) {
		cur_seed = iters == 1 ? seed : seed + (uint64_t)cur_iter * 0x9e3779b97f4a7c15ull;
		uint64_t rng = cur_seed;
		stub_rng_seed(cur_seed);
		int64_t txns = -1;
		uint8_t *img = NULL;
		for (cur_phase = 1; cur_phase <= 2; cur_phase++) {
			long ops = (long)(prng_next(&rng) % (uint64_t)(full + full / 10));
			uint8_t *next = phase(img, cur_phase == 1 ? -1 : (txns < 0 ? -1 : txns), ops,
					      &rng, &txns);
			free(img);
			img = next;
		}
		free(img);
	}
	printf("test_powercut: ok: %" PRIu64 " cuts (%" PRIu64
	       " with unflushed writes pending), %" PRIu64 " fresh formats, %" PRIu64
	       " in-flight transactions rolled back\n",
	       cuts, cuts_mid_txn, fresh_formats, stat_rollbacks);
	return 0;
}
