/*
 * test_model.c: host unit tests (ASan + UBSan) of the hub's data model
 * (hub/model.c) on a real store (hub/store + SQLite) in a temporary file:
 * category names; adding categories (parents, duplicates, descriptions);
 * adding devices (the token shown once, only its hash stored); ingestion:
 * what is stored, duplicates within and across batches, all or nothing,
 * every limit at and past its edge (batch size, id length, payload size,
 * time range), each refused field with its status, code and a message
 * that names the record; malformed bodies; the store read-only, reopened
 * and absent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cJSON.h"
#include "check.h"
#include "filedev.h"
#include "model.h"
#include "store/model_store.h"
#include "store/store.h"

static struct filedev disk;
static int have_disk;
static int64_t dev;

static void fresh(void)
{
	static const uint8_t h[32] = {3};
	store_close();
	if (have_disk)
		filedev_remove(&disk);
	have_disk = filedev_create(&disk, 16u << 20, true) == 0;
	if (!have_disk || store_open_dev(&disk.bd) || store_device_add("tv", h, &dev)) {
		fprintf(stderr, "test_model: cannot make a store on a temporary file\n");
		exit(2);
	}
}

static int64_t count(const char *sql)
{
	int64_t n = -1;
	int err = store_query_i64(sql, &n);
	CHECK(err == 0, "%s: %d", sql, err);
	return n;
}

/* Runs (fn) on (body); checks (status) and, for errors, (code) and that the
 * message holds (in_msg) (NULL: any non-empty one). Returns the success
 * body (caller frees) or NULL. */
static char *expect(void (*fn)(const char *, size_t, struct model_reply *), const char *body,
		    size_t len, int status, const char *code, const char *in_msg)
{
	struct model_reply r;
	memset(&r, 0x5a, sizeof(r));
	fn(body, len, &r);
	CHECK(r.status == status, "%.80s: status %d, want %d (%s: %s)", body, r.status, status,
	      r.json ? "body" : r.code, r.json ? r.json : r.message);
	if (r.json) {
		CHECK(!code, "%.80s: success, want %s", body, code);
		return r.json;
	}
	CHECK(code && r.code && !strcmp(r.code, code), "%.80s: code %s, want %s", body, r.code,
	      code ? code : "success");
	CHECK(r.message[0] && memchr(r.message, 0, sizeof(r.message)), "%.80s: no message", body);
	if (in_msg)
		CHECK(strstr(r.message, in_msg), "%.80s: message \"%s\" lacks \"%s\"", body, r.message,
		      in_msg);
	return NULL;
}

static void ingest_fn(const char *body, size_t len, struct model_reply *r)
{
	hub_model_ingest(dev, body, len, r);
}

static char *ingest(const char *body, int status, const char *code, const char *in_msg)
{
	return expect(ingest_fn, body, strlen(body), status, code, in_msg);
}

static char *cat_add(const char *body, int status, const char *code)
{
	return expect(hub_model_category_add, body, strlen(body), status, code, NULL);
}

static char *dev_add(const char *body, int status, const char *code)
{
	return expect(hub_model_device_add, body, strlen(body), status, code, NULL);
}

static void test_category_names(void)
{
	static const char *const good[] = {"a", "viewing", "viewing.history", "a.b_c.d9",
					   "0", "x_y.z.w.v"};
	static const char *const bad[] = {"", ".", "a.", ".a", "a..b", "A", "a-b", "a b",
					  "caf\xc3\xa9", "a/b", "a.B", "\t"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(hub_model_category_name_ok(good[i]), "\"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!hub_model_category_name_ok(bad[i]), "\"%s\" accepted", bad[i]);
	char n[HUB_CATEGORY_MAX + 2];
	memset(n, 'a', sizeof(n));
	n[HUB_CATEGORY_MAX] = 0;
	CHECK(hub_model_category_name_ok(n), "%d bytes refused", HUB_CATEGORY_MAX);
	n[HUB_CATEGORY_MAX] = 'a';
	n[HUB_CATEGORY_MAX + 1] = 0;
	CHECK(!hub_model_category_name_ok(n), "%d bytes accepted", HUB_CATEGORY_MAX + 1);
}

static void test_category_add(void)
{
	fresh();
	char *j = cat_add("{\"name\":\"viewing.kids\",\"description\":\"say \\\"hi\\\"\"}", 201, NULL);
	cJSON *o = cJSON_Parse(j ? j : "");
	CHECK(o && !strcmp(cJSON_GetObjectItem(o, "parent")->valuestring, "viewing") &&
		      !strcmp(cJSON_GetObjectItem(o, "description")->valuestring, "say \"hi\"") &&
		      cJSON_IsFalse(cJSON_GetObjectItem(o, "builtin")),
	      "201 body %s", j);
	cJSON_Delete(o);
	free(j);
	CHECK(store_category_exists("viewing.kids") == 1, "stored");
	char buf[100];
	CHECK(store_query_text("SELECT parent || '|' || builtin FROM categories WHERE name = "
			       "'viewing.kids'", buf, sizeof(buf)) == 0 && !strcmp(buf, "viewing|0"),
	      "row %s", buf);
	j = cat_add("{\"name\":\"hobbies\"}", 201, NULL);
	CHECK(j && strstr(j, "\"parent\":null") && strstr(j, "\"description\":\"\""), "top: %s", j);
	free(j);
	free(cat_add("{\"name\":\"viewing.kids\"}", 409, "category_exists"));
	free(cat_add("{\"name\":\"viewing\"}", 409, "category_exists"));
	free(cat_add("{\"name\":\"nowhere.kids\"}", 422, "unknown_parent"));
	free(cat_add("{\"name\":\"Bad\"}", 422, "invalid_category"));
	free(cat_add("{\"name\":7}", 422, "invalid_category"));
	free(cat_add("{}", 422, "invalid_category"));
	free(cat_add("{\"name\":\"x\",\"description\":5}", 422, "invalid_description"));
	char body[400];
	snprintf(body, sizeof(body), "{\"name\":\"d200\",\"description\":\"%0200d\"}", 0);
	free(cat_add(body, 201, NULL));
	snprintf(body, sizeof(body), "{\"name\":\"d201\",\"description\":\"%0201d\"}", 0);
	free(cat_add(body, 422, "invalid_description"));
	/* 200 bytes that each need a 6-byte escape: the answer still holds
	 * them all (it once came back with "description":"") */
	char big[1400], want[201];
	int p = snprintf(big, sizeof(big), "{\"name\":\"ctl\",\"description\":\"");
	for (int i = 0; i < 200; i++)
		p += snprintf(big + p, sizeof(big) - (size_t)p, "\\u%04x", 1 + i % 31);
	snprintf(big + p, sizeof(big) - (size_t)p, "\"}");
	for (int i = 0; i < 200; i++)
		want[i] = (char)(1 + i % 31);
	want[200] = 0;
	j = cat_add(big, 201, NULL);
	o = cJSON_Parse(j ? j : "");
	const cJSON *d = cJSON_GetObjectItem(o, "description");
	CHECK(cJSON_IsString(d) && !strcmp(d->valuestring, want), "escaped description in %.100s",
	      j ? j : "");
	cJSON_Delete(o);
	free(j);
	free(cat_add("[\"name\"]", 400, "malformed_json"));
	free(cat_add("{\"name\":\"a\"", 400, "malformed_json"));
	free(cat_add("{\"name\":\"a\"}x", 400, "malformed_json"));
	free(cat_add("{\"name\":\"viewing.kids\\u0000x\"}", 400, "malformed_json"));
	free(expect(hub_model_category_add, NULL, 0, 400, "malformed_json", NULL));
	CHECK(count("SELECT count(*) FROM categories WHERE NOT builtin") == 4,
	      "only the four good ones stored");
}

static void test_device_add(void)
{
	fresh();
	char *j = dev_add("{\"name\":\"kitchen \\\"tv\\\"\"}", 201, NULL);
	cJSON *o = cJSON_Parse(j ? j : "");
	const cJSON *id = cJSON_GetObjectItem(o, "id"), *tok = cJSON_GetObjectItem(o, "token");
	const cJSON *name = cJSON_GetObjectItem(o, "name");
	CHECK(cJSON_IsNumber(id) && cJSON_IsString(tok) && cJSON_IsString(name) &&
		      !strcmp(name->valuestring, "kitchen \"tv\""),
	      "201 body %s", j);
	if (cJSON_IsNumber(id) && cJSON_IsString(tok)) {
		char want[40];
		snprintf(want, sizeof(want), "htd_%d.", id->valueint);
		const char *t = tok->valuestring;
		CHECK(!strncmp(t, want, strlen(want)) && strlen(t) == strlen(want) + 64 &&
			      strspn(t + strlen(want), "0123456789abcdef") == 64,
		      "token %s", t);
		/* only the hash of the secret is kept */
		uint8_t h[32], stored[32];
		int revoked = -1;
		hub_auth_hash(t + strlen(want), h);
		CHECK(store_device_hash(id->valueint, stored, &revoked) == 0 &&
			      !memcmp(h, stored, 32) && revoked == 0,
		      "stored hash");
		char sql[200];
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM devices WHERE instr(CAST(token_hash AS TEXT), '%s')",
			 t + strlen(want));
		CHECK(count(sql) == 0, "the secret itself is stored");
	}
	cJSON_Delete(o);
	free(j);
	char body[200];
	snprintf(body, sizeof(body), "{\"name\":\"%064d\"}", 0);
	free(dev_add(body, 201, NULL));
	snprintf(body, sizeof(body), "{\"name\":\"%065d\"}", 0);
	free(dev_add(body, 422, "invalid_name"));
	/* 64 bytes that each need a 6-byte escape, with the largest id */
	CHECK(store_exec("UPDATE sqlite_sequence SET seq = 999999999999999998 WHERE name = "
			 "'devices'") == 0,
	      "bump the id");
	char big[500], want[65];
	int p = snprintf(big, sizeof(big), "{\"name\":\"");
	for (int i = 0; i < 64; i++)
		p += snprintf(big + p, sizeof(big) - (size_t)p, "\\u%04x", 1 + i % 31);
	snprintf(big + p, sizeof(big) - (size_t)p, "\"}");
	for (int i = 0; i < 64; i++)
		want[i] = (char)(1 + i % 31);
	want[64] = 0;
	j = dev_add(big, 201, NULL);
	o = cJSON_Parse(j ? j : "");
	name = cJSON_GetObjectItem(o, "name");
	tok = cJSON_GetObjectItem(o, "token");
	CHECK(cJSON_IsString(name) && !strcmp(name->valuestring, want) && cJSON_IsString(tok) &&
		      strlen(tok->valuestring) == 4 + 18 + 1 + 64,
	      "escaped name in %.100s", j ? j : "");
	cJSON_Delete(o);
	free(j);
	free(dev_add("{\"name\":\"\"}", 422, "invalid_name"));
	free(dev_add("{\"name\":1}", 422, "invalid_name"));
	free(dev_add("{\"name\":\"a\\u0000\"}", 400, "malformed_json"));
	free(dev_add("nope", 400, "malformed_json"));
	CHECK(count("SELECT count(*) FROM devices") == 4, "devices stored"); /* + fresh()'s */
}

static void test_ingest_stores(void)
{
	fresh();
	stub_wall_ns = 1700000123000000000;
	char *j = ingest("{\"records\":[{\"id\":\"tv-1\",\"category\":\"viewing.history\","
			 "\"time\":1700000000,\"payload\":{ \"title\" : \"Film\", \"n\": [1, 2] }},"
			 "{\"id\":\"q\\\"\\\\\",\"category\":\"health.sleep\",\"payload\":{}},"
			 "{\"id\":\"t0\",\"category\":\"health.sleep\",\"time\":null,\"payload\":{}}]}",
			 200, NULL, NULL);
	stub_wall_ns = 0;
	cJSON *o = cJSON_Parse(j ? j : "");
	CHECK(o && cJSON_GetObjectItem(o, "stored")->valueint == 3 &&
		      cJSON_GetObjectItem(o, "duplicates")->valueint == 0 &&
		      cJSON_GetArraySize(cJSON_GetObjectItem(o, "results")) == 3,
	      "body %s", j);
	const cJSON *r1 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "results"), 1);
	CHECK(r1 && !strcmp(cJSON_GetObjectItem(r1, "id")->valuestring, "q\"\\") &&
		      !strcmp(cJSON_GetObjectItem(r1, "status")->valuestring, "stored"),
	      "escaped id in %s", j);
	cJSON_Delete(o);
	free(j);
	char row[300];
	CHECK(store_query_text("SELECT client_id || '|' || category || '|' || time_s || '|' || "
			       "payload || '|' || device_id FROM records WHERE client_id = 'tv-1'",
			       row, sizeof(row)) == 0,
	      "row");
	char want[300];
	snprintf(want, sizeof(want), "tv-1|viewing.history|1700000000|{\"title\":\"Film\",\"n\":[1,2]}|%" PRId64, dev);
	CHECK(!strcmp(row, want), "stored %s, want %s (compact payload)", row, want);
	CHECK(count("SELECT count(*) FROM records WHERE client_id IN ('q\"\\', 't0') AND time_s = "
		    "1700000123") == 2,
	      "missing and null time: now");

	/* the same ids again: duplicates, nothing written, the stored seq */
	int64_t seq1 = count("SELECT seq FROM records WHERE client_id = 'tv-1'");
	j = ingest("{\"records\":[{\"id\":\"tv-1\",\"category\":\"viewing.history\","
		   "\"payload\":{\"other\":1}},{\"id\":\"new\",\"category\":\"viewing\",\"payload\":{}},"
		   "{\"id\":\"new\",\"category\":\"viewing\",\"payload\":{\"again\":1}}]}",
		   200, NULL, NULL);
	o = cJSON_Parse(j ? j : "");
	const cJSON *res = cJSON_GetObjectItem(o, "results");
	CHECK(o && cJSON_GetObjectItem(o, "stored")->valueint == 1 &&
		      cJSON_GetObjectItem(o, "duplicates")->valueint == 2 &&
		      !strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "status")->valuestring,
			      "duplicate") &&
		      cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "seq")->valuedouble == (double)seq1 &&
		      !strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 2), "status")->valuestring,
			      "duplicate"),
	      "duplicates: %s", j);
	cJSON_Delete(o);
	free(j);
	CHECK(count("SELECT count(*) FROM records") == 4, "4 records");
	CHECK(count("SELECT count(*) FROM records WHERE payload LIKE '%other%' OR payload LIKE "
		    "'%again%'") == 0,
	      "a duplicate overwrote the stored record");
}

static void test_ingest_all_or_nothing(void)
{
	fresh();
	free(ingest("{\"records\":[{\"id\":\"ok1\",\"category\":\"viewing\",\"payload\":{}},"
		    "{\"id\":\"ok2\",\"category\":\"viewing\",\"payload\":{}},"
		    "{\"id\":\"bad\",\"category\":\"viewing\",\"payload\":[]}]}",
		    422, "payload_not_object", "record 2 (bad)"));
	free(ingest("{\"records\":[{\"id\":\"ok1\",\"category\":\"viewing\",\"payload\":{}},"
		    "{\"id\":\"bad\",\"category\":\"no.such\",\"payload\":{}}]}",
		    422, "unknown_category", "no.such"));
	CHECK(count("SELECT count(*) FROM records") == 0, "a refused batch stored records");
}

static void test_ingest_refusals(void)
{
	fresh();
	static const struct {
		const char *body;
		int status;
		const char *code, *msg;
	} cases[] = {
		{"", 400, "malformed_json", NULL},
		{"{", 400, "malformed_json", NULL},
		{"[]", 400, "malformed_json", "object"},
		{"null", 400, "malformed_json", NULL},
		{"{\"records\":[]} {}", 400, "malformed_json", "after"},
		{"{\"records\":[{\"id\":\"a\\u0000\",\"category\":\"viewing\",\"payload\":{}}]}", 400,
		 "malformed_json", "NUL"},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\\u0000.x\",\"payload\":{}}]}",
		 400, "malformed_json", "NUL"},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"payload\":{\"s\":\"\\u0000\"}}]}",
		 400, "malformed_json", "NUL"},
		{"{}", 400, "invalid_batch", NULL},
		{"{\"records\":{}}", 400, "invalid_batch", NULL},
		{"{\"records\":[]}", 400, "empty_batch", NULL},
		{"{\"records\":[\"x\"]}", 422, "invalid_record", "record 0"},
		{"{\"records\":[{\"category\":\"viewing\",\"payload\":{}}]}", 422, "invalid_id",
		 "record 0"},
		{"{\"records\":[{\"id\":5,\"category\":\"viewing\",\"payload\":{}}]}", 422,
		 "invalid_id", NULL},
		{"{\"records\":[{\"id\":\"\",\"category\":\"viewing\",\"payload\":{}}]}", 422,
		 "invalid_id", NULL},
		{"{\"records\":[{\"id\":\"a\\tb\",\"category\":\"viewing\",\"payload\":{}}]}", 422,
		 "invalid_id", NULL},
		{"{\"records\":[{\"id\":\"caf\xc3\xa9\",\"category\":\"viewing\",\"payload\":{}}]}",
		 422, "invalid_id", NULL},
		{"{\"records\":[{\"id\":\"a\",\"payload\":{}}]}", 422, "invalid_category", "record 0 (a)"},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"Viewing\",\"payload\":{}}]}", 422,
		 "invalid_category", NULL},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing.nope\",\"payload\":{}}]}", 422,
		 "unknown_category", "viewing.nope"},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"time\":-1,\"payload\":{}}]}",
		 422, "invalid_time", NULL},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"time\":1.5,\"payload\":{}}]}",
		 422, "invalid_time", NULL},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"time\":\"1\",\"payload\":{}}]}",
		 422, "invalid_time", NULL},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"time\":253402300800,"
		 "\"payload\":{}}]}",
		 422, "invalid_time", NULL},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"time\":1e300,\"payload\":{}}]}",
		 422, "invalid_time", NULL},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\"}]}", 422, "payload_not_object",
		 NULL},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"payload\":\"{}\"}]}", 422,
		 "payload_not_object", NULL},
		{"{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"payload\":null}]}", 422,
		 "payload_not_object", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		free(ingest(cases[i].body, cases[i].status, cases[i].code, cases[i].msg));
	free(expect(ingest_fn, NULL, 0, 400, "malformed_json", NULL));
	CHECK(count("SELECT count(*) FROM records") == 0, "refused records stored");
	/* accepted edges */
	free(ingest("{\"records\":[{\"id\":\"t0\",\"category\":\"viewing\",\"time\":0,\"payload\":{}},"
		    "{\"id\":\"t9999\",\"category\":\"viewing\",\"time\":253402300799,\"payload\":{}},"
		    "{\"id\":\"lit\\\\u0000\",\"category\":\"viewing\",\"payload\":{}}]}\r\n \t",
		    200, NULL, NULL));
	CHECK(count("SELECT count(*) FROM records WHERE client_id = 'lit\\u0000'") == 1,
	      "an escaped backslash before u0000 is text");
}

/* Builds {"records":[ n records ]} with ids of (idlen) bytes and payloads
 * {"s":"xxx"} of (plen) bytes compact. */
static char *batch(int n, size_t idlen, size_t plen)
{
	size_t cap = (size_t)n * (idlen + plen + 80) + 32, pos = 0;
	char *b = malloc(cap);
	if (!b)
		abort();
	pos += (size_t)snprintf(b, cap, "{\"records\":[");
	for (int i = 0; i < n; i++) {
		pos += (size_t)snprintf(b + pos, cap - pos, "%s{\"id\":\"%0*d\",\"category\":\"viewing\","
					"\"payload\":{\"s\":\"", i ? "," : "", (int)idlen, i);
		memset(b + pos, 'x', plen - 8);
		pos += plen - 8;
		pos += (size_t)snprintf(b + pos, cap - pos, "\"}}");
	}
	snprintf(b + pos, cap - pos, "]}");
	return b;
}

static void test_ingest_limits(void)
{
	fresh();
	char *b = batch(HUB_BATCH_MAX + 1, 8, 10);
	free(ingest(b, 413, "batch_too_large", NULL));
	free(b);
	CHECK(count("SELECT count(*) FROM records") == 0, "too large a batch stored records");
	b = batch(HUB_BATCH_MAX, 8, 10);
	char *j = ingest(b, 200, NULL, NULL);
	CHECK(j && strstr(j, "\"stored\":500,"), "500 records: %.60s", j ? j : "");
	free(j);
	free(b);
	CHECK(count("SELECT count(*) FROM records") == HUB_BATCH_MAX, "500 stored");

	fresh();
	b = batch(1, HUB_ID_MAX, 10);
	free(ingest(b, 200, NULL, NULL));
	free(b);
	b = batch(1, HUB_ID_MAX + 1, 10);
	free(ingest(b, 422, "invalid_id", NULL));
	free(b);
	b = batch(1, 4, HUB_PAYLOAD_MAX);
	free(ingest(b, 200, NULL, NULL));
	free(b);
	b = batch(1, 5, HUB_PAYLOAD_MAX + 1);
	free(ingest(b, 413, "payload_too_large", "8193"));
	free(b);
	/* the limit counts the compact form: spaces around it do not count */
	size_t n = HUB_PAYLOAD_MAX + 200;
	b = malloc(n + 200);
	int p = snprintf(b, n + 200, "{\"records\":[{\"id\":\"sp\",\"category\":\"viewing\","
			 "\"payload\":{\"s\"   :   \"");
	memset(b + p, 'y', HUB_PAYLOAD_MAX - 8);
	snprintf(b + p + HUB_PAYLOAD_MAX - 8, 200, "\"            }}]}");
	free(ingest(b, 200, NULL, NULL));
	free(b);
	CHECK(count("SELECT count(*) FROM records") == 3, "edge records stored");
}

static void test_store_states(void)
{
	fresh();
	free(ingest("{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"payload\":{\"k\":1}}]}",
		    200, NULL, NULL));
	/* reboot: the record and its duplicate check survive */
	store_close();
	filedev_close(&disk);
	CHECK(filedev_reopen(&disk) == 0 && store_open_dev(&disk.bd) == 0, "reopen");
	free(ingest("{\"records\":[{\"id\":\"a\",\"category\":\"viewing\",\"payload\":{}}]}", 200,
		    NULL, NULL));
	CHECK(count("SELECT count(*) FROM records WHERE payload = '{\"k\":1}'") == 1,
	      "after reopen");
	/* read-only */
	store_close();
	disk.bd.read_only = true;
	CHECK(store_open_dev(&disk.bd) == 0, "open read-only");
	free(ingest("{\"records\":[{\"id\":\"b\",\"category\":\"viewing\",\"payload\":{}}]}", 503,
		    "storage_unavailable", "read-only"));
	free(cat_add("{\"name\":\"ro\"}", 503, "storage_unavailable"));
	free(dev_add("{\"name\":\"x\"}", 503, "storage_unavailable"));
	disk.bd.read_only = false;
	/* absent */
	store_close();
	free(ingest("{\"records\":[{\"id\":\"b\",\"category\":\"viewing\",\"payload\":{}}]}", 503,
		    "storage_unavailable", NULL));
	free(cat_add("{\"name\":\"gone\"}", 503, "storage_unavailable"));
}

int main(void)
{
	test_category_names();
	test_category_add();
	test_device_add();
	test_ingest_stores();
	test_ingest_all_or_nothing();
	test_ingest_refusals();
	test_ingest_limits();
	test_store_states();
	store_close();
	if (have_disk)
		filedev_remove(&disk);
	printf("  test_model: %d checks, %d failures\n", checks, failures);
	return failures != 0;
}
