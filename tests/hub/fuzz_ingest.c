/*
 * fuzz_ingest.c: fuzz target for record ingestion: the body of
 * POST /api/v1/records goes to hub_model_ingest (hub/model.c), which parses
 * it (cJSON), checks every record and stores the batch in a real store
 * (hub/store + SQLite on a temporary file, tests/hub/filedev.c). Beyond the
 * sanitizers it checks what the API promises for every input:
 *   - the answer is a success (200 with a JSON body) or an error with a
 *     known status, a code and a non-empty message, never 500;
 *   - all or nothing: an error stores nothing; a success stores exactly
 *     the records it reports "stored", and its body is valid JSON whose
 *     "results" hold one entry per record of the batch, whose counts add up;
 *   - a success only for a body that is one JSON object with "records",
 *     nothing but whitespace after it (a strict parse of a copy), and no
 *     NUL in it, raw or as \u0000 (C strings would cut ids, categories and
 *     payload strings short there).
 * FUZZ_INGEST_VERBOSE=1 prints each answer's status and code or body.
 * The store is emptied of records every 256 inputs so it stays small.
 * Builds as a libFuzzer target (clang) or with fuzz_driver.c (gcc).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cJSON.h"
#include "filedev.h"
#include "model.h"
#include "store/model_store.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct filedev dev;
static int64_t device_id;
static unsigned long runs;
static int verbose;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_ingest: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void setup(void)
{
	static const uint8_t hash[32] = {1};
	verbose = getenv("FUZZ_INGEST_VERBOSE") != NULL;
	if (filedev_create(&dev, 64u << 20, false))
		die("cannot make the temporary disk", NULL);
	unlink(dev.path); /* the open file stays; nothing is left behind */
	if (store_open_dev(&dev.bd))
		die("cannot open the store", NULL);
	if (store_device_add("fuzz", hash, &device_id))
		die("cannot add a device", NULL);
	if (store_category_add("viewing.history.fuzz", "viewing.history", "fuzz"))
		die("cannot add a category", NULL);
}

static int64_t record_count(void)
{
	int64_t n = -1;
	if (store_query_i64("SELECT count(*) FROM records", &n))
		die("cannot count records", NULL);
	return n;
}

/* A raw NUL, or \u0000 (any case of hex digits) as an escape, not as
 * text after an escaped backslash. */
static int nul_escape(const uint8_t *p, size_t n)
{
	int esc = 0;
	for (size_t i = 0; i < n; i++) {
		if (!p[i])
			return 1;
		if (esc && p[i] == 'u' && i + 4 < n && !strncasecmp((const char *)p + i + 1, "0000", 4))
			return 1;
		esc = !esc && p[i] == '\\';
	}
	return 0;
}

static int known_status(int s)
{
	return s == 400 || s == 413 || s == 422;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_reply r;
	if (!runs++)
		setup();
	if (size > HUB_BODY_MAX)
		return 0; /* the HTTP layer answers 413 before the model sees it */
	if (runs % 256 == 0) {
		int64_t n;
		if (store_records_delete(NULL, -1, INT64_MIN, INT64_MAX, &n))
			die("cannot empty the store", NULL);
	}
	int64_t before = record_count();
	memset(&r, 0xa5, sizeof(r));
	hub_model_ingest(device_id, (const char *)data, size, &r);
	int64_t after = record_count();
	if (verbose)
		printf("  %d %s\n", r.status, r.json ? r.json : r.code);
	if (!r.json) {
		if (!known_status(r.status) || !r.code || !r.code[0])
			die("an error without a known status or a code",
			    r.status == 500 || r.status == 507 || r.status == 503 ? r.message : NULL);
		if (!memchr(r.message, 0, sizeof(r.message)) || !r.message[0])
			die("an error without a message", r.code);
		if (after != before)
			die("an error stored records", r.code);
		return 0;
	}
	/* success */
	if (r.status != 200)
		die("a body with a status other than 200", r.json);
	if (nul_escape(data, size))
		die("success for a body with a NUL", r.json);
	char *copy = malloc(size + 1);
	if (!copy)
		die("no memory", NULL);
	memcpy(copy, data, size);
	copy[size] = 0;
	cJSON *strict = cJSON_ParseWithOpts(copy, NULL, 1);
	if (!strict)
		die("success for a body with data after its JSON value", r.json);
	cJSON_Delete(strict);
	free(copy);
	cJSON *in = cJSON_ParseWithLength((const char *)data, size);
	cJSON *out = cJSON_Parse(r.json);
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(in, "records");
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(out, "results");
	const cJSON *stored = cJSON_GetObjectItemCaseSensitive(out, "stored");
	const cJSON *dups = cJSON_GetObjectItemCaseSensitive(out, "duplicates");
	if (!cJSON_IsObject(in) || !cJSON_IsArray(recs))
		die("success for a body that is not {\"records\":[...]}", r.json);
	if (!out || !cJSON_IsArray(res) || !cJSON_IsNumber(stored) || !cJSON_IsNumber(dups))
		die("success with a body that is not the documented JSON", r.json);
	int n = cJSON_GetArraySize(recs);
	if (n < 1 || n > HUB_BATCH_MAX || cJSON_GetArraySize(res) != n)
		die("results do not match the batch", r.json);
	if (stored->valueint + dups->valueint != n || after - before != stored->valueint)
		die("counts do not add up", r.json);
	const cJSON *it;
	int st = 0;
	cJSON_ArrayForEach(it, res)
	{
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(it, "status");
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(it, "seq");
		if (!cJSON_IsString(s) || !cJSON_IsNumber(seq) || seq->valuedouble < 1)
			die("a result without status and seq", r.json);
		st += !strcmp(s->valuestring, "stored");
	}
	if (st != stored->valueint)
		die("\"stored\" differs from the results", r.json);
	cJSON_Delete(in);
	cJSON_Delete(out);
	free(r.json);
	return 0;
}
