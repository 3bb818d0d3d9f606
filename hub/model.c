/*
 * model.c: category names, devices and batch ingestion (model.h).
 * Assumes: the store is open; cJSON's default allocator (malloc).
 * Leaves out: per-category payload schemas.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "auth.h"
#include "cJSON.h"
#include "model.h"
#include "reply.h"
#include "store/model_store.h"
#include "store/store.h"

__attribute__((format(printf, 4, 5))) static void fail(struct model_reply *r, int status,
							 const char *code, const char *fmt, ...)
{
	va_list ap;
	r->status = status;
	r->json = NULL;
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

static void store_fail(struct model_reply *r, int err)
{
	if (err == -ENODEV || err == -EROFS)
		fail(r, 503, "storage_unavailable", "the store is %s",
		     err == -EROFS ? "read-only" : "unavailable");
	else if (err == -ENOSPC)
		fail(r, 507, "storage_full", "the store is full");
	else
		fail(r, 500, "storage_error", "the store failed (%d)", err);
}

int hub_model_category_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > HUB_CATEGORY_MAX || name[0] == '.' || name[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (c == '.' && name[i + 1] == '.')
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

static int id_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > HUB_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* Whether (body) holds a NUL: a raw byte, or the escape \u0000 in a string
 * (cJSON keeps it, and every C string after the parse would silently end
 * there: "id":"a\u0000b" would be checked and stored as "a"). Called after
 * a successful parse, so every backslash starts an escape in a string. */
static int has_nul(const char *body, size_t len)
{
	if (memchr(body, 0, len))
		return 1;
	for (size_t i = 0; i + 1 < len; i++) {
		if (body[i] != '\\')
			continue;
		if (len - i >= 6 && !memcmp(body + i + 1, "u0000", 5))
			return 1;
		i++; /* the escaped character */
	}
	return 0;
}

/* A JSON object body, or an error in (r). The whole body must be that one
 * value (cJSON alone stops at its end and ignores what follows). */
static cJSON *parse_object(const char *body, size_t len, struct model_reply *r)
{
	const char *end = NULL;
	cJSON *root = body && len ? cJSON_ParseWithLengthOpts(body, len, &end, 0) : NULL;
	if (!root) {
		fail(r, 400, "malformed_json", "the request body is not valid JSON");
		return NULL;
	}
	while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != body + len) {
		cJSON_Delete(root);
		fail(r, 400, "malformed_json", "the request body has data after its JSON value");
		return NULL;
	}
	if (has_nul(body, len)) {
		cJSON_Delete(root);
		fail(r, 400, "malformed_json", "the request body holds a NUL character (\\u0000)");
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		fail(r, 400, "malformed_json", "the request body must be a JSON object");
		return NULL;
	}
	return root;
}

struct checked {
	const char *id, *category;
	int64_t time_s;
	char *payload; /* malloc'd, compact */
};

/* Checks record (i); 0, or fills (r). */
static int check_record(const cJSON *it, int i, int64_t now_s, struct checked *c,
			struct model_reply *r)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
	const cJSON *cat = cJSON_GetObjectItemCaseSensitive(it, "category");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "time");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "payload");
	if (!cJSON_IsObject(it)) {
		fail(r, 422, "invalid_record", "record %d is not a JSON object", i);
		return -1;
	}
	if (!cJSON_IsString(id) || !id_ok(id->valuestring)) {
		fail(r, 422, "invalid_id",
		     "record %d: \"id\" must be a string of 1 to %d printable ASCII characters", i,
		     HUB_ID_MAX);
		return -1;
	}
	c->id = id->valuestring;
	if (!cJSON_IsString(cat) || !hub_model_category_name_ok(cat->valuestring)) {
		fail(r, 422, "invalid_category", "record %d (%s): \"category\" must be a category name",
		     i, c->id);
		return -1;
	}
	c->category = cat->valuestring;
	int ex = store_category_exists(c->category);
	if (ex < 0) {
		store_fail(r, ex);
		return -1;
	}
	if (!ex) {
		fail(r, 422, "unknown_category", "record %d (%s): no category \"%s\"", i, c->id,
		     c->category);
		return -1;
	}
	if (t && !cJSON_IsNull(t)) {
		double v = cJSON_IsNumber(t) ? t->valuedouble : -1;
		if (v < 0 || v > 253402300799.0 || v != (double)(int64_t)v) {
			fail(r, 422, "invalid_time",
			     "record %d (%s): \"time\" must be whole Unix seconds (0 to year 9999)", i,
			     c->id);
			return -1;
		}
		c->time_s = (int64_t)v;
	} else {
		c->time_s = now_s;
	}
	if (!cJSON_IsObject(p)) {
		fail(r, 422, "payload_not_object", "record %d (%s): \"payload\" must be a JSON object",
		     i, c->id);
		return -1;
	}
	c->payload = cJSON_PrintUnformatted(p);
	if (!c->payload) {
		fail(r, 500, "no_memory", "out of memory");
		return -1;
	}
	if (strlen(c->payload) > HUB_PAYLOAD_MAX) {
		fail(r, 413, "payload_too_large",
		     "record %d (%s): payload is %zu bytes; the limit is %d", i, c->id,
		     strlen(c->payload), HUB_PAYLOAD_MAX);
		return -1;
	}
	return 0;
}

void hub_model_ingest(int64_t device, const char *body, size_t len, struct model_reply *r)
{
	cJSON *root = parse_object(body, len, r);
	struct checked *c = NULL;
	char *out = NULL;
	int n = 0;
	if (!root)
		return;
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "records");
	if (!cJSON_IsArray(recs)) {
		fail(r, 400, "invalid_batch", "the body must be {\"records\":[...]}");
		goto done;
	}
	n = cJSON_GetArraySize(recs);
	if (n == 0) {
		fail(r, 400, "empty_batch", "the batch holds no records");
		goto done;
	}
	if (n > HUB_BATCH_MAX) {
		fail(r, 413, "batch_too_large", "the batch holds %d records; the limit is %d", n,
		     HUB_BATCH_MAX);
		goto done;
	}
	c = calloc((size_t)n, sizeof(*c));
	/* results: per record {"id":"<escaped>","status":"duplicate","seq":N} */
	size_t cap = (size_t)n * (HUB_ID_MAX * 6 + 64) + 128, pos = 0;
	out = malloc(cap);
	if (!c || !out) {
		fail(r, 500, "no_memory", "out of memory");
		goto done;
	}
	int64_t now_s = time_wall_ns() / 1000000000;
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, recs)
	{
		if (check_record(it, i, now_s, &c[i], r))
			goto done;
		i++;
	}
	int err = store_exec("BEGIN IMMEDIATE");
	if (err) {
		store_fail(r, err);
		goto done;
	}
	int stored = 0, dup = 0;
	pos = (size_t)snprintf(out, cap, "{\"results\":[");
	for (i = 0; i < n; i++) {
		int64_t seq = 0;
		err = store_record_put(device, c[i].id, c[i].category, c[i].time_s, c[i].payload, &seq);
		if (err < 0) {
			store_exec("ROLLBACK");
			if (err == -EINVAL)
				fail(r, 422, "payload_not_object", "record %d (%s): payload refused", i,
				     c[i].id);
			else if (err == -ENOENT)
				fail(r, 422, "unknown_category", "record %d (%s): no category \"%s\"",
				     i, c[i].id, c[i].category);
			else
				store_fail(r, err);
			goto done;
		}
		stored += err == 0;
		dup += err == 1;
		pos += (size_t)snprintf(out + pos, cap - pos, "%s{\"id\":\"", i ? "," : "");
		hub_json_escape(out, cap, &pos, c[i].id);
		pos += (size_t)snprintf(out + pos, cap - pos, "\",\"status\":\"%s\",\"seq\":%" PRId64 "}",
					err ? "duplicate" : "stored", seq);
	}
	if ((err = store_exec("COMMIT"))) {
		store_exec("ROLLBACK");
		store_fail(r, err);
		goto done;
	}
	snprintf(out + pos, cap - pos, "],\"stored\":%d,\"duplicates\":%d}", stored, dup);
	r->status = 200;
	r->json = out;
	out = NULL;
done:
	if (c)
		for (i = 0; i < n; i++)
			free(c[i].payload);
	free(c);
	free(out);
	cJSON_Delete(root);
}

void hub_model_category_add(const char *body, size_t len, struct model_reply *r)
{
	cJSON *root = parse_object(body, len, r);
	if (!root)
		return;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
	char parent[HUB_CATEGORY_MAX + 1];
	if (!cJSON_IsString(name) || !hub_model_category_name_ok(name->valuestring)) {
		fail(r, 422, "invalid_category",
		     "\"name\" must be lowercase labels [a-z0-9_] joined by dots, at most %d bytes",
		     HUB_CATEGORY_MAX);
		goto out;
	}
	if (desc && (!cJSON_IsString(desc) || strlen(desc->valuestring) > 200)) {
		fail(r, 422, "invalid_description", "\"description\" must be a string of at most 200 bytes");
		goto out;
	}
	snprintf(parent, sizeof(parent), "%s", name->valuestring);
	char *dot = strrchr(parent, '.');
	if (dot)
		*dot = 0;
	int err = store_category_add(name->valuestring, dot ? parent : NULL,
				     desc ? desc->valuestring : "");
	if (err == -EEXIST) {
		fail(r, 409, "category_exists", "category \"%s\" exists", name->valuestring);
	} else if (err == -ENOENT) {
		fail(r, 422, "unknown_parent", "no parent category \"%s\"", parent);
	} else if (err) {
		store_fail(r, err);
	} else {
		/* name and parent need no escaping (category names); each byte
		 * of the description takes at most 6 ("\u001f") */
		size_t cap = 3 * HUB_CATEGORY_MAX + 100 + 6 * (desc ? strlen(desc->valuestring) : 0);
		size_t pos;
		char *out = malloc(cap);
		if (!out) {
			fail(r, 500, "no_memory", "out of memory");
			goto out;
		}
		pos = (size_t)snprintf(out, cap, "{\"name\":\"%s\",\"parent\":", name->valuestring);
		pos += (size_t)snprintf(out + pos, cap - pos, dot ? "\"%s\"" : "null", parent);
		pos += (size_t)snprintf(out + pos, cap - pos, ",\"description\":\"");
		hub_json_escape(out, cap, &pos, desc ? desc->valuestring : "");
		snprintf(out + pos, cap - pos, "\",\"builtin\":false}");
		r->status = 201;
		r->json = out;
	}
out:
	cJSON_Delete(root);
}

void hub_model_device_add(const char *body, size_t len, struct model_reply *r)
{
	cJSON *root = parse_object(body, len, r);
	if (!root)
		return;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
	char secret[65];
	uint8_t hash[32];
	int64_t id;
	if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) > 64) {
		fail(r, 422, "invalid_name", "\"name\" must be a string of 1 to 64 bytes");
		goto out;
	}
	int err = hub_auth_secret(secret);
	if (err) {
		fail(r, 503, "no_entropy", "no random numbers: cannot make a token");
		goto out;
	}
	hub_auth_hash(secret, hash);
	if ((err = store_device_add(name->valuestring, hash, &id))) {
		store_fail(r, err);
		goto wipe;
	}
	size_t cap = 600, pos;
	char *o = malloc(cap);
	if (!o) {
		fail(r, 500, "no_memory", "out of memory");
		goto wipe;
	}
	pos = (size_t)snprintf(o, cap, "{\"id\":%" PRId64 ",\"name\":\"", id);
	hub_json_escape(o, cap, &pos, name->valuestring);
	snprintf(o + pos, cap - pos, "\",\"token\":\"htd_%" PRId64 ".%s\",\"revoked\":false}", id,
		 secret);
	r->status = 201;
	r->json = o;
wipe:
	memset(secret, 0, sizeof(secret));
out:
	cJSON_Delete(root);
}
