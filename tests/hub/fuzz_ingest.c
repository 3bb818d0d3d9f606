/*
 * fuzz_ingest.c: fuzz target for the JSON bodies of the data model
 * (hub/model.c), first of all record ingestion: each input goes, as the
 * body of POST /api/v1/records, to hub_model_ingest, which parses it
 * (cJSON), checks every record and stores the batch in a real store
 * (hub/store + SQLite on a temporary file, tests/hub/filedev.c); then, as
 * the body of POST /categories and POST /devices, to
 * hub_model_category_add and hub_model_device_add. Beyond the sanitizers it
 * checks what the API promises for every input:
 *   - the answer is a success (200/201 with a JSON body) or an error with a
 *     known status, a code and a non-empty message, never 500;
 *   - all or nothing: an error stores nothing; a batch stores exactly the
 *     records it reports "stored", and its body is valid JSON whose
 *     "results" hold one entry per record of the batch, whose counts add up;
 *     a category or device success adds exactly one row;
 *   - a success echoes what was sent: the category's name and description,
 *     the device's name, a token "htd_<id>.<64 hex>" whose hash is stored;
 *   - a success only for a body that is one JSON object, nothing but
 *     whitespace after it (a strict parse of a copy), and no NUL in it, raw
 *     or as \u0000 (C strings would cut ids, names and payload strings
 *     short there).
 * FUZZ_INGEST_VERBOSE=1 prints each answer's status and code or body.
 * Records, devices and categories made by the inputs are deleted every 256
 * inputs so the store stays small.
 * Builds as a libFuzzer target (clang) or with fuzz_driver.c (gcc).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
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

static int64_t count(const char *table)
{
	char sql[80];
	int64_t n = -1;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if (store_query_i64(sql, &n))
		die("cannot count", table);
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
	return s == 400 || s == 409 || s == 413 || s == 422;
}

/* Checks an error answer; 1 when it was one. */
static int error_ok(const struct model_reply *r, int64_t before, int64_t after, const char *what)
{
	if (verbose)
		printf("  %s: %d %s\n", what, r->status, r->json ? r->json : r->code);
	if (r->json)
		return 0;
	if (!known_status(r->status) || !r->code || !r->code[0])
		die("an error without a known status or a code",
		    r->status == 500 || r->status == 507 || r->status == 503 ? r->message : what);
	if (!memchr(r->message, 0, sizeof(r->message)) || !r->message[0])
		die("an error without a message", r->code);
	if (after != before)
		die("an error stored something", what);
	return 1;
}

/* What every success needs of its body: one JSON object, strict, no NUL;
 * returns it parsed (caller deletes). */
static cJSON *strict_body(const uint8_t *data, size_t size, const char *json)
{
	if (nul_escape(data, size))
		die("success for a body with a NUL", json);
	char *copy = malloc(size + 1);
	if (!copy)
		die("no memory", NULL);
	memcpy(copy, data, size);
	copy[size] = 0;
	cJSON *in = cJSON_ParseWithOpts(copy, NULL, 1);
	free(copy);
	if (!cJSON_IsObject(in))
		die("success for a body that is not one JSON object", json);
	return in;
}

static void ingest(const uint8_t *data, size_t size)
{
	struct model_reply r;
	int64_t before = count("records");
	memset(&r, 0xa5, sizeof(r));
	hub_model_ingest(device_id, (const char *)data, size, &r);
	int64_t after = count("records");
	if (error_ok(&r, before, after, "records"))
		return;
	if (r.status != 200)
		die("a batch answered with a status other than 200", r.json);
	cJSON *in = strict_body(data, size, r.json);
	cJSON *out = cJSON_Parse(r.json);
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(in, "records");
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(out, "results");
	const cJSON *stored = cJSON_GetObjectItemCaseSensitive(out, "stored");
	const cJSON *dups = cJSON_GetObjectItemCaseSensitive(out, "duplicates");
	if (!cJSON_IsArray(recs))
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
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void category_add(const uint8_t *data, size_t size)
{
	struct model_reply r;
	int64_t before = count("categories");
	memset(&r, 0xa5, sizeof(r));
	hub_model_category_add((const char *)data, size, &r);
	int64_t after = count("categories");
	if (error_ok(&r, before, after, "categories"))
		return;
	cJSON *in = strict_body(data, size, r.json);
	cJSON *out = cJSON_Parse(r.json);
	const char *name = str(in, "name"), *desc = str(in, "description");
	if (r.status != 201 || after != before + 1 || !name)
		die("a category success that added no category", r.json);
	if (!str(out, "name") || strcmp(str(out, "name"), name) || store_category_exists(name) != 1)
		die("the answer names another category", r.json);
	if (!str(out, "description") || strcmp(str(out, "description"), desc ? desc : ""))
		die("the answer's description differs from the one sent", r.json);
	cJSON_Delete(in);
	cJSON_Delete(out);
	free(r.json);
}

static void device_add(const uint8_t *data, size_t size)
{
	struct model_reply r;
	int64_t before = count("devices");
	memset(&r, 0xa5, sizeof(r));
	hub_model_device_add((const char *)data, size, &r);
	int64_t after = count("devices");
	if (error_ok(&r, before, after, "devices"))
		return;
	cJSON *in = strict_body(data, size, r.json);
	cJSON *out = cJSON_Parse(r.json);
	const char *name = str(in, "name"), *tok = str(out, "token");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(out, "id");
	if (r.status != 201 || after != before + 1 || !name || !cJSON_IsNumber(id) || !tok)
		die("a device success that added no device", r.json);
	if (!str(out, "name") || strcmp(str(out, "name"), name))
		die("the answer's device name differs from the one sent", r.json);
	char want[40];
	uint8_t h[32], stored[32];
	int revoked;
	snprintf(want, sizeof(want), "htd_%.0f.", id->valuedouble);
	size_t wl = strlen(want);
	if (strncmp(tok, want, wl) || strlen(tok) != wl + 64 ||
	    strspn(tok + wl, "0123456789abcdef") != 64)
		die("a token not shaped htd_<id>.<64 hex>", tok);
	hub_auth_hash(tok + wl, h);
	if (store_device_hash((int64_t)id->valuedouble, stored, &revoked) || memcmp(h, stored, 32))
		die("the stored hash is not the token's", tok);
	cJSON_Delete(in);
	cJSON_Delete(out);
	free(r.json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!runs++)
		setup();
	if (size > HUB_BODY_MAX)
		return 0; /* the HTTP layer answers 413 before the model sees it */
	if (runs % 256 == 0) {
		char sql[200];
		int64_t n;
		snprintf(sql, sizeof(sql),
			 "DELETE FROM devices WHERE id <> %lld; DELETE FROM categories WHERE NOT "
			 "builtin AND name <> 'viewing.history.fuzz'",
			 (long long)device_id);
		if (store_records_delete(NULL, -1, INT64_MIN, INT64_MAX, &n) || store_exec(sql))
			die("cannot empty the store", NULL);
	}
	ingest(data, size);
	category_add(data, size);
	device_add(data, size);
	return 0;
}
