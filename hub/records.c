/*
 * records.c: the hub's data endpoints under /api/v1 (the rest of the API is
 * in api.c and the release side's files):
 *   POST   /records               ingestion, device token (model.h)
 *   DELETE /records?category=&device=&from=&to=   owner: delete (audited)
 *   GET    /categories, POST /categories           owner
 *   GET    /devices, POST /devices, DELETE /devices/{id}   owner
 *   GET    /records/summary       owner: counts and time spans per category
 *   GET    /export                owner: everything as one JSON document,
 *                                 streamed (audited)
 *   GET    /audit, GET /audit/verify               owner
 *   GET    /metrics               owner: Prometheus text
 * Every error is {"error":{"code","message"}} (reply.h); docs/api.yaml is
 * the contract.
 * Assumes: hub_auth_init() ran after store_open().
 * Leaves out: paging of /devices and /categories (they are small).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "../stack/http.h"
#include "../stack/stack.h"
#include "audit.h"
#include "auth.h"
#include "hub.h"
#include "model.h"
#include "reply.h"
#include "store/model_store.h"
#include "store/rdb.h"
#include "store/store.h"

static int reply_model(struct http_resp *resp, struct model_reply *r)
{
	if (r->json)
		return hub_reply_json_owned(resp, r->status, r->json);
	return hub_reply_error(resp, r->status, r->code, "%s", r->message);
}

static int store_error(struct http_resp *resp, int err)
{
	if (err == -ENODEV || err == -EROFS)
		return hub_reply_error(resp, 503, "storage_unavailable", "the store is %s",
				       err == -EROFS ? "read-only" : "unavailable");
	return hub_reply_error(resp, 500, "storage_error", "the store failed (%d)", err);
}

/* ---- request bodies larger than the core's buffer ---- */

static char busy_marker;

/* Collects the body into a pool buffer in req->user (up to HUB_BODY_MAX;
 * beyond that it is dropped and the handler says 413). Device routes check
 * the token first and keep nothing from an unauthenticated client. */
int hub_body_collect(struct http_req *req, const uint8_t *data, size_t len, void *arg)
{
	struct hub_buf *b = req->user;
	if ((void *)b == &busy_marker)
		return 0;
	if (!b) {
		int64_t dev;
		b = hub_buf_get(HUB_BODY_MAX);
		req->user = b ? (void *)b : (void *)&busy_marker;
		if (!b)
			return 0;
		if (arg && hub_auth_device_check(req, &dev))
			b->stage = -1; /* not allowed: drop everything */
	}
	hub_buf_touch(b);
	if (b->stage == 0 && hub_buf_append(b, data, len))
		b->stage = -2; /* too large */
	return 0;
}

/* Takes the collected body: 0 with (*b) (may be NULL: empty body), or an
 * answered error (> 0 means answered). */
static int take_body(struct http_req *req, struct http_resp *resp, struct hub_buf **b)
{
	*b = NULL;
	if (req->user == &busy_marker) {
		req->user = NULL;
		return hub_reply_error(resp, 503, "busy", "too many requests in flight; retry"), 1;
	}
	*b = req->user;
	req->user = NULL;
	if (*b && (*b)->stage == -2) {
		hub_buf_put(*b);
		return hub_reply_error(resp, 413, "body_too_large", "the body is larger than %d bytes",
				       HUB_BODY_MAX), 1;
	}
	return 0;
}

static int owner_body(struct http_req *req, struct http_resp *resp, struct hub_buf **b)
{
	if (take_body(req, resp, b))
		return 1;
	if (hub_auth_owner(req, resp)) {
		hub_buf_put(*b);
		return 1;
	}
	return 0;
}

/* ---- ingestion ---- */

int hub_records_post(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	struct hub_buf *b;
	struct model_reply r;
	int64_t dev;
	if (take_body(req, resp, &b))
		return 0;
	if (hub_auth_device(req, resp, &dev)) {
		hub_buf_put(b);
		return 0;
	}
	hub_model_ingest(dev, b ? b->data : NULL, b ? b->len : 0, &r);
	hub_buf_put(b);
	return reply_model(resp, &r);
}

/* ---- categories, devices ---- */

int hub_categories_get(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	char *t;
	if (hub_auth_owner(req, resp))
		return 0;
	int err = rdb_text(&t,
			   "SELECT json_object('categories', json_group_array(json_object('name', name, "
			   "'parent', parent, 'description', description, 'builtin', "
			   "json(CASE WHEN builtin THEN 'true' ELSE 'false' END)))) "
			   "FROM (SELECT * FROM categories ORDER BY name)", NULL);
	return err ? store_error(resp, err) : hub_reply_json_owned(resp, 200, t);
}

int hub_categories_post(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	struct hub_buf *b;
	struct model_reply r;
	if (owner_body(req, resp, &b))
		return 0;
	hub_model_category_add(b ? b->data : NULL, b ? b->len : 0, &r);
	hub_buf_put(b);
	return reply_model(resp, &r);
}

int hub_devices_get(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	char *t;
	if (hub_auth_owner(req, resp))
		return 0;
	int err = rdb_text(&t,
			   "SELECT json_object('devices', json_group_array(json_object('id', id, 'name', "
			   "name, 'created_unix', created_ns / 1000000000, 'revoked', "
			   "json(CASE WHEN revoked_ns IS NULL THEN 'false' ELSE 'true' END), "
			   "'records', (SELECT count(*) FROM records r WHERE r.device_id = d.id)))) "
			   "FROM (SELECT * FROM devices ORDER BY id) d", NULL);
	return err ? store_error(resp, err) : hub_reply_json_owned(resp, 200, t);
}

int hub_devices_post(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	struct hub_buf *b;
	struct model_reply r;
	if (owner_body(req, resp, &b))
		return 0;
	hub_model_device_add(b ? b->data : NULL, b ? b->len : 0, &r);
	hub_buf_put(b);
	return reply_model(resp, &r);
}

int hub_device_delete(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	char *end;
	char json[80];
	if (hub_auth_owner(req, resp))
		return 0;
	const char *s = req->path + strlen("/api/v1/devices/");
	long long id = strtoll(s, &end, 10);
	if (!*s || *end || id <= 0)
		return hub_reply_error(resp, 404, "unknown_device", "no device \"%s\"", s);
	int err = store_device_revoke(id);
	if (err == -ENOENT)
		return hub_reply_error(resp, 404, "unknown_device", "no device %lld", id);
	if (err && err != -EALREADY)
		return store_error(resp, err);
	snprintf(json, sizeof(json), "{\"id\":%lld,\"revoked\":true}", id);
	return http_resp_json(resp, 200, json) ? -EIO : 0;
}

/* ---- data rights: delete, export ---- */

static int owner_audit(const char *purpose, const char *category, int64_t records, int64_t bytes,
		       int64_t *id)
{
	static struct audit_entry e;
	memset(&e, 0, sizeof(e));
	snprintf(e.service, sizeof(e.service), "owner");
	snprintf(e.category, sizeof(e.category), "%s", category);
	snprintf(e.purpose, sizeof(e.purpose), "%s", purpose);
	snprintf(e.decision, sizeof(e.decision), "allow");
	e.records = records;
	e.bytes = bytes;
	return hub_audit_append(&e, id);
}

static int i64_param(const char *query, const char *name, int64_t *v, int *present)
{
	char buf[24], *end;
	int r = hub_query_param(query, name, buf, sizeof(buf));
	*present = r == 1;
	if (r == 0)
		return 0;
	if (r < 0 || !buf[0])
		return -EINVAL;
	long long x = strtoll(buf, &end, 10);
	if (*end)
		return -EINVAL;
	*v = x;
	return 0;
}

int hub_records_delete(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	char cat[HUB_CATEGORY_MAX + 2], all[8], json[120];
	int64_t dev = -1, from = INT64_MIN, to = INT64_MAX, n, aid = 0;
	int has_cat, has_dev, has_from, has_to, has_all;
	if (hub_auth_owner(req, resp))
		return 0;
	int r = hub_query_param(req->query, "category", cat, sizeof(cat));
	has_cat = r == 1;
	has_all = hub_query_param(req->query, "all", all, sizeof(all)) == 1 && !strcmp(all, "true");
	if (r < 0 || (has_cat && !hub_model_category_name_ok(cat)))
		return hub_reply_error(resp, 400, "invalid_category", "bad category name");
	if (i64_param(req->query, "device", &dev, &has_dev) ||
	    i64_param(req->query, "from", &from, &has_from) ||
	    i64_param(req->query, "to", &to, &has_to))
		return hub_reply_error(resp, 400, "invalid_parameter",
				       "device, from and to must be integers (from/to: Unix seconds)");
	if (!has_cat && !has_dev && !has_from && !has_to && !has_all)
		return hub_reply_error(resp, 400, "missing_filter",
				       "give category, device, from or to (or all=true to delete "
				       "every record)");
	if (has_cat) {
		int ex = store_category_exists(cat);
		if (ex < 0)
			return store_error(resp, ex);
		if (!ex)
			return hub_reply_error(resp, 422, "unknown_category", "no category \"%s\"", cat);
	}
	int err = store_exec("BEGIN IMMEDIATE");
	if (!err)
		err = store_records_delete(has_cat ? cat : NULL, has_dev ? dev : -1, from, to, &n);
	if (!err)
		err = owner_audit("delete", has_cat ? cat : "*", n, 0, &aid);
	if (!err)
		err = store_exec("COMMIT");
	if (err) {
		store_exec("ROLLBACK");
		return store_error(resp, err);
	}
	snprintf(json, sizeof(json), "{\"deleted\":%" PRId64 ",\"audit_id\":%" PRId64 "}", n, aid);
	return http_resp_json(resp, 200, json) ? -EIO : 0;
}

/* GET /records/summary: per category its count, oldest and newest record
 * time and its records per device; totals over all. One statement: SQLite
 * counts, nothing is read into the hub's memory but the answer. */
int hub_records_summary_get(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	char *t;
	if (hub_auth_owner(req, resp))
		return 0;
	int err = rdb_text(
		&t,
		"SELECT json_object('categories', json((SELECT json_group_array(json(j)) FROM (SELECT "
		"json_object('category', category, 'count', count(*), 'oldest', min(time_s), 'newest', "
		"max(time_s), 'devices', json((SELECT json_group_array(json_object('id', x.dev, 'name', "
		"d.name, 'count', x.n)) FROM (SELECT device_id AS dev, count(*) AS n FROM records r2 "
		"WHERE r2.category = r.category GROUP BY device_id ORDER BY device_id) x LEFT JOIN devices d "
		"ON d.id = x.dev))) AS j FROM records r GROUP BY category ORDER BY category))), "
		"'totals', json((SELECT json_object('records', count(*), 'categories', count(DISTINCT "
		"category), 'devices', count(DISTINCT device_id), 'oldest', min(time_s), 'newest', "
		"max(time_s)) FROM records)))",
		NULL);
	return err ? store_error(resp, err) : hub_reply_json_owned(resp, 200, t);
}

#define EXPORT_BATCH "16"

/* Replaces b->data with (t) (a JSON array from SQLite) without its brackets,
 * comma-joined to what came before; 0 when the array was empty. */
static long export_batch(struct hub_buf *b, char *t, int64_t *cursor, const char *maxsql)
{
	size_t n = strlen(t);
	if (n <= 2) {
		free(t);
		return 0;
	}
	int64_t next;
	if (rdb_i64(&next, maxsql, "i", *cursor)) {
		free(t);
		return -EIO;
	}
	*cursor = next;
	t[n - 1] = 0;
	t[0] = b->count++ ? ',' : ' ';
	free(b->data);
	b->data = t;
	b->cap = n - 1;
	return (long)(n - 1);
}

static long export_fill(struct hub_buf *b)
{
	char *t = NULL;
	long n;
	int err;
	for (;;) {
		switch (b->stage) {
		case 0:
			err = rdb_text(&t,
				       "SELECT '{\"format\":\"hearth-export-v1\",\"exported_unix\":' || ? || "
				       "',\"categories\":' || (SELECT json_group_array(json_object('name', "
				       "name, 'parent', parent, 'description', description)) FROM (SELECT * "
				       "FROM categories ORDER BY name)) || ',\"devices\":' || (SELECT "
				       "json_group_array(json_object('id', id, 'name', name, 'created_ns', "
				       "created_ns, 'revoked_ns', revoked_ns)) FROM (SELECT * FROM devices "
				       "ORDER BY id)) || ',\"records\":['",
				       "i", time_wall_ns() / 1000000000);
			if (err)
				return err;
			free(b->data);
			b->data = t;
			b->stage = 1;
			b->cursor = 0;
			b->count = 0;
			return (long)strlen(t);
		case 1:
			err = rdb_text(&t,
				       "SELECT json_group_array(json(j)) FROM (SELECT json_object('seq', seq, "
				       "'device', device_id, 'id', client_id, 'category', category, 'time', "
				       "time_s, 'payload', json(payload), 'created_ns', created_ns) AS j "
				       "FROM records WHERE seq > ? ORDER BY seq LIMIT " EXPORT_BATCH ")",
				       "i", b->cursor);
			if (err)
				return err;
			n = export_batch(b, t, &b->cursor,
					 "SELECT max(seq) FROM (SELECT seq FROM records WHERE seq > ? "
					 "ORDER BY seq LIMIT " EXPORT_BATCH ")");
			if (n)
				return n;
			b->stage = 2;
			b->cursor = 0;
			b->count = 0;
			free(b->data);
			b->data = strdup("],\"audit\":[");
			b->cap = b->data ? strlen(b->data) : 0;
			return b->data ? (long)b->cap : -ENOMEM;
		case 2:
			err = rdb_text(&t,
				       "SELECT json_group_array(json(j)) FROM (SELECT json_object('id', id, "
				       "'time_ns', time_ns, 'service', service, 'category', category, "
				       "'purpose', purpose, 'decision', decision, 'policies', json(policies), "
				       "'obligations', json(obligations), 'records', records, 'bytes', bytes, "
				       "'budget_spent', budget_spent, 'prev_hash', prev_hash, 'hash', hash) "
				       "AS j FROM audit WHERE id > ? ORDER BY id LIMIT " EXPORT_BATCH ")",
				       "i", b->cursor);
			if (err)
				return err;
			n = export_batch(b, t, &b->cursor,
					 "SELECT max(id) FROM (SELECT id FROM audit WHERE id > ? "
					 "ORDER BY id LIMIT " EXPORT_BATCH ")");
			if (n)
				return n;
			b->stage = 3;
			free(b->data);
			b->data = strdup("]}");
			b->cap = b->data ? 2 : 0;
			return b->data ? 2 : -ENOMEM;
		default:
			return 0;
		}
	}
}

int hub_export_get(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	int64_t n = 0;
	if (hub_auth_owner(req, resp))
		return 0;
	int err = rdb_i64(&n, "SELECT count(*) FROM records", NULL);
	if (!err)
		err = owner_audit("export", "*", n, 0, NULL);
	if (err)
		return store_error(resp, err);
	struct hub_buf *b = hub_buf_get(16);
	if (!b)
		return hub_reply_error(resp, 503, "busy", "too many responses in flight; retry");
	b->fill = export_fill;
	b->len = 0;
	http_resp_header(resp, "Content-Disposition", "attachment; filename=\"hearth-export.json\"");
	return hub_reply_stream(resp, 200, "application/json", b);
}

/* ---- audit ---- */

int hub_audit_get(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	char service[64], category[HUB_CATEGORY_MAX + 2], decision[8];
	int64_t since = 0, limit = 100, after = 0;
	int has, r1, r2, r3;
	char *t;
	if (hub_auth_owner(req, resp))
		return 0;
	r1 = hub_query_param(req->query, "service", service, sizeof(service));
	r2 = hub_query_param(req->query, "category", category, sizeof(category));
	r3 = hub_query_param(req->query, "decision", decision, sizeof(decision));
	if (r1 < 0 || r2 < 0 || r3 < 0 ||
	    (r3 == 1 && strcmp(decision, "allow") && strcmp(decision, "deny") &&
	     strcmp(decision, "ask")))
		return hub_reply_error(resp, 400, "invalid_parameter",
				       "service, category: names; decision: allow, deny or ask");
	if (i64_param(req->query, "since", &since, &has) ||
	    i64_param(req->query, "limit", &limit, &has) ||
	    i64_param(req->query, "after", &after, &has) || limit < 1 || limit > 1000)
		return hub_reply_error(resp, 400, "invalid_parameter",
				       "since (Unix seconds), after (entry id) and limit (1..1000) "
				       "must be integers");
	int err = rdb_text(
		&t,
		"SELECT json_object('entries', json_group_array(json(j))) FROM (SELECT "
		"json_object('id', id, 'time_unix', time_ns / 1000000000, 'time_ns', time_ns, "
		"'service', service, 'category', category, 'purpose', purpose, 'decision', decision, "
		"'policies', json(policies), 'obligations', json(obligations), 'records', records, "
		"'bytes', bytes, 'budget_spent', budget_spent, 'prev_hash', prev_hash, 'hash', hash, "
		"'record_refs', (SELECT json_group_array(record_seq) FROM audit_refs WHERE audit_id "
		"= a.id)) AS j FROM audit a WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR "
		"category = ?2 OR substr(category, 1, length(?2) + 1) = ?2 || '.') AND (?3 IS NULL "
		"OR decision = ?3) AND time_ns >= ?4 * 1000000000 AND id > ?5 ORDER BY id LIMIT ?6)",
		"tttiii", r1 == 1 ? service : NULL, r2 == 1 ? category : NULL,
		r3 == 1 ? decision : NULL, since, after, limit);
	return err ? store_error(resp, err) : hub_reply_json_owned(resp, 200, t);
}

int hub_audit_verify_get(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	struct audit_verify v;
	char json[300];
	if (hub_auth_owner(req, resp))
		return 0;
	int err = hub_audit_verify(&v);
	if (err)
		return store_error(resp, err);
	if (v.ok)
		snprintf(json, sizeof(json), "{\"ok\":true,\"entries\":%" PRId64 ",\"head\":\"%s\"}",
			 v.entries, v.head);
	else
		snprintf(json, sizeof(json),
			 "{\"ok\":false,\"entries_checked\":%" PRId64 ",\"first_bad_id\":%" PRId64
			 ",\"reason\":\"%s\"}",
			 v.entries, v.first_bad_id, v.reason);
	return http_resp_json(resp, 200, json) ? -EIO : 0;
}

/* ---- metrics ---- */

int hub_metrics_get(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	int64_t recs = 0, devs = 0, revoked = 0, audit = 0;
	struct httpd_stats hs;
	struct store_status st;
	if (hub_auth_owner(req, resp))
		return 0;
	rdb_i64(&recs, "SELECT count(*) FROM records", NULL);
	rdb_i64(&devs, "SELECT count(*) FROM devices WHERE revoked_ns IS NULL", NULL);
	rdb_i64(&revoked, "SELECT count(*) FROM devices WHERE revoked_ns IS NOT NULL", NULL);
	rdb_i64(&audit, "SELECT count(*) FROM audit", NULL);
	stack_httpd_stats(&hs);
	store_status(&st);
	struct hub_buf *b = hub_buf_get(8192);
	if (!b)
		return hub_reply_error(resp, 503, "busy", "too many responses in flight; retry");
	int n = snprintf(
		b->data, b->cap,
		"# HELP hearth_records Records stored.\n# TYPE hearth_records gauge\n"
		"hearth_records %" PRId64 "\n"
		"# HELP hearth_devices Ingesting devices.\n# TYPE hearth_devices gauge\n"
		"hearth_devices{state=\"active\"} %" PRId64 "\nhearth_devices{state=\"revoked\"} %" PRId64
		"\n# HELP hearth_audit_entries Entries in the audit log.\n"
		"# TYPE hearth_audit_entries gauge\nhearth_audit_entries %" PRId64 "\n"
		"# HELP hearth_http_connections_open Open HTTPS connections.\n"
		"# TYPE hearth_http_connections_open gauge\nhearth_http_connections_open %u\n"
		"# HELP hearth_http_connections_max Connection limit.\n"
		"# TYPE hearth_http_connections_max gauge\nhearth_http_connections_max %u\n"
		"# HELP hearth_http_connections_accepted_total Connections accepted.\n"
		"# TYPE hearth_http_connections_accepted_total counter\n"
		"hearth_http_connections_accepted_total %" PRIu64 "\n"
		"# HELP hearth_http_connections_refused_total Connections refused (full).\n"
		"# TYPE hearth_http_connections_refused_total counter\n"
		"hearth_http_connections_refused_total %" PRIu64 "\n"
		"# HELP hearth_storage_bytes Store size, used and free bytes.\n"
		"# TYPE hearth_storage_bytes gauge\n"
		"hearth_storage_bytes{kind=\"size\"} %" PRIu64 "\nhearth_storage_bytes{kind=\"used\"} %" PRIu64
		"\nhearth_storage_bytes{kind=\"free\"} %" PRIu64 "\n"
		"# HELP hearth_uptime_seconds Seconds since boot.\n# TYPE hearth_uptime_seconds gauge\n"
		"hearth_uptime_seconds %" PRIu64 "\n",
		recs, devs, revoked, audit, hs.open, hs.max, hs.accepted, hs.refused, st.size_bytes,
		st.used_bytes, st.free_bytes, time_now_ms() / 1000);
	b->len = n > 0 && (size_t)n < b->cap ? (size_t)n : 0;
	/* The drivers' own counters (e.g. Xen grants, rings, buffers). */
	b->len += board_metrics(b->data + b->len, b->cap - b->len);
	return hub_reply_stream(resp, 200, "text/plain; version=0.0.4; charset=utf-8", b);
}

#ifdef CONFIG_TEST_HOOKS
/* Tests only (hearth.testapi): POST /api/v1/test/audit appends the entry
 * in the body ({"service","category","purpose","decision","records",
 * "bytes"}), as the release pipeline would. */
#include "cJSON.h"

int hub_test_audit(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	static struct audit_entry e;
	struct hub_buf *b;
	char json[80];
	int64_t id;
	if (take_body(req, resp, &b))
		return 0;
	if (!hub_test_api()) {
		hub_buf_put(b);
		return hub_reply_error(resp, 404, "not_found", "no such endpoint");
	}
	cJSON *root = b ? cJSON_ParseWithLength(b->data, b->len) : NULL;
	hub_buf_put(b);
	memset(&e, 0, sizeof(e));
	const char *f[] = {"service", "category", "purpose", "decision"};
	char *dst[] = {e.service, e.category, e.purpose, e.decision};
	size_t sz[] = {sizeof(e.service), sizeof(e.category), sizeof(e.purpose), sizeof(e.decision)};
	for (int i = 0; i < 4; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, f[i]);
		if (cJSON_IsString(v))
			snprintf(dst[i], sz[i], "%s", v->valuestring);
	}
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "records");
	e.records = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	cJSON_Delete(root);
	int err = hub_audit_append(&e, &id);
	if (err)
		return hub_reply_error(resp, err == -EINVAL ? 422 : 500, "audit_refused", "append: %d",
				       err);
	snprintf(json, sizeof(json), "{\"id\":%" PRId64 "}", id);
	return http_resp_json(resp, 201, json) ? -EIO : 0;
}
#endif
