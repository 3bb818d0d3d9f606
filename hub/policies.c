/*
 * policies.c: the owner's Cedar policies (REST, owner auth) and the loading
 * of the active set for the release pipeline.
 *   POST   /api/v1/policies            {id, text, service?, active?}: a new
 *          version, validated (syntax, Hearth's schema, obligations) first;
 *          active unless "active": false
 *   GET    /api/v1/policies            every version
 *   POST   /api/v1/policies/{id}/accept  activates the latest version (a
 *          proposal from a manifest, or an inactive version)
 *   DELETE /api/v1/policies/{id}       every version of it
 *   POST   /api/v1/policies/validate   {text}: errors with line:column
 *   POST   /api/v1/policies/simulate   {service, category, purpose, since?,
 *          text?}: what the service would receive now; writes nothing
 * Assumes: the schema is policy/hearth.cedarschema, embedded by
 * cedarschema.S; policies are the table policies (store migration 2).
 * Leaves out: diffs between versions, per-policy authorship beyond "owner"
 * and "manifest".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "../stack/http.h"
#include "auth.h"
#include "cJSON.h"
#include "obligations.h"
#include "policy.h"
#include "release.h"
#include "store/rdb.h"

#define POLICY_TEXT_MAX 16384

static void *grow(size_t n)
{
	return malloc(n);
}

static struct policy_arena *arena_new(void)
{
	struct policy_arena *a = malloc(sizeof(*a));
	if (a) {
		policy_arena_init(a, NULL, 0);
		a->grow = grow;
		a->release = free;
	}
	return a;
}

static void arena_free(struct policy_arena *a)
{
	if (a) {
		policy_arena_release(a);
		free(a);
	}
}

static int lines_of(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

int policies_load(struct loaded_set *ls, const char *text, char *msg, size_t msglen)
{
	struct policy_error perr;
	char *rows = NULL;
	cJSON *arr = NULL;
	int err;
	memset(ls, 0, sizeof(*ls));
	if (!(ls->arena = arena_new()) || !(ls->set = calloc(1, sizeof(*ls->set))))
		return -ENOMEM;
	err = policy_schema_parse(&ls->schema, ls->arena, hearth_cedarschema, strlen(hearth_cedarschema),
				  &perr);
	if (err) {
		snprintf(msg, msglen, "schema %d:%d: %s", perr.line, perr.col, perr.msg);
		return err;
	}
	if (text) {
		ls->text = strdup(text);
		ls->src = calloc(1, sizeof(*ls->src));
		if (!ls->text || !ls->src)
			return -ENOMEM;
		ls->nsrc = 1;
		snprintf(ls->src[0].id, sizeof(ls->src[0].id), "(simulated)");
		ls->src[0].first_line = 1;
		ls->src[0].last_line = lines_of(text) + 1;
	} else {
		err = rdb_text(&rows,
			       "SELECT json_group_array(json_object('id', id, 'version', version, 'text', text)) "
			       "FROM (SELECT * FROM policies WHERE active = 1 ORDER BY id, version)",
			       NULL);
		if (err)
			return err;
		arr = cJSON_Parse(rows);
		free(rows);
		if (!cJSON_IsArray(arr)) {
			cJSON_Delete(arr);
			return -EINVAL;
		}
		size_t total = 1;
		int n = cJSON_GetArraySize(arr);
		const cJSON *it;
		cJSON_ArrayForEach(it, arr) total += strlen(cJSON_GetStringValue(cJSON_GetObjectItem(it, "text"))) + 1;
		ls->text = malloc(total);
		ls->src = calloc((size_t)(n ? n : 1), sizeof(*ls->src));
		if (!ls->text || !ls->src) {
			cJSON_Delete(arr);
			return -ENOMEM;
		}
		size_t off = 0;
		int line = 1;
		cJSON_ArrayForEach(it, arr) {
			const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(it, "text"));
			size_t k = strlen(t);
			snprintf(ls->src[ls->nsrc].id, sizeof(ls->src[0].id), "%s",
				 cJSON_GetStringValue(cJSON_GetObjectItem(it, "id")));
			ls->src[ls->nsrc].version = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "version"));
			ls->src[ls->nsrc].first_line = line;
			memcpy(ls->text + off, t, k);
			off += k;
			ls->text[off++] = '\n';
			line += lines_of(t) + 1;
			ls->src[ls->nsrc].last_line = line - 1;
			ls->nsrc++;
		}
		ls->text[off] = 0;
		cJSON_Delete(arr);
	}
	err = policy_set_parse(ls->set, ls->arena, ls->text, strlen(ls->text), &perr);
	if (err) {
		snprintf(msg, msglen, "policies do not parse: %d:%d: %s", perr.line, perr.col, perr.msg);
		return err;
	}
	return 0;
}

void policies_unload(struct loaded_set *ls)
{
	arena_free(ls->arena);
	free(ls->set);
	free(ls->text);
	free(ls->src);
	memset(ls, 0, sizeof(*ls));
}

void policies_origin(const struct loaded_set *ls, uint32_t index, char *out, size_t len)
{
	const struct policy *p = ls->set->policies[index];
	for (uint32_t i = 0; i < ls->nsrc; i++)
		if (p->line >= ls->src[i].first_line && p->line <= ls->src[i].last_line) {
			if (ls->src[i].version)
				snprintf(out, len, "%s@%" PRId64, ls->src[i].id, ls->src[i].version);
			else
				snprintf(out, len, "%s", ls->src[i].id);
			return;
		}
	snprintf(out, len, "%s", p->id);
}

/* ---- validation --------------------------------------------------------- */

static void add_error(cJSON *errors, int line, int col, const char *msg)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "line", line);
	cJSON_AddNumberToObject(e, "column", col);
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddItemToArray(errors, e);
}

static void report(void *arg, const struct policy *p, int line, int col, const char *msg)
{
	(void)p;
	add_error(arg, line, col, msg);
}

int policies_validate(const char *text, cJSON *errors)
{
	struct loaded_set ls;
	char msg[300] = "";
	int err = policies_load(&ls, text, msg, sizeof(msg));
	if (err == -EINVAL && ls.schema) {
		/* A parse error: policies_load put line:col in msg; redo for the
		 * structured form. */
		struct policy_error perr;
		struct policy_set set;
		memset(&set, 0, sizeof(set));
		policy_set_parse(&set, ls.arena, text, strlen(text), &perr);
		add_error(errors, perr.line, perr.col, perr.msg);
		policies_unload(&ls);
		return 1;
	}
	if (err) {
		policies_unload(&ls);
		return err;
	}
	int n = policy_set_validate(ls.set, ls.schema, report, errors);
	if (n >= 0) {
		/* Obligations must be consistent on their own (@budget needs
		 * @noise, no conflicting aggregates). */
		for (uint32_t i = 0; i < ls.set->count; i++) {
			const struct policy *p = ls.set->policies[i];
			int src = 0;
			size_t off = 0;
			char e[160];
			if (p->obligations &&
			    policy_obligations_check_fields(p->obligations, NULL, 0, &src, &off, e, sizeof(e))) {
				char m[240];
				snprintf(m, sizeof(m), "@%s: %s (at offset %zu)", policy_obligation_src_name(src), e,
					 off);
				add_error(errors, p->line, p->col, m);
				n++;
			}
		}
	}
	policies_unload(&ls);
	return n;
}

static int store_version(const char *id, const char *service, const char *text, const char *author,
			 bool active, int64_t *version)
{
	int64_t v = 0;
	int err = rdb_i64(&v, "SELECT max(version) FROM policies WHERE id = ?", "t", id);
	if (err && err != -ENOENT)
		return err;
	*version = v + 1;
	if ((err = rdb_begin()))
		return err;
	if (active)
		err = rdb_exec("UPDATE policies SET active = 0 WHERE id = ?", "t", id);
	if (!err)
		err = rdb_exec("INSERT INTO policies(id, service_id, version, text, author, created_ns, active) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?)",
			       "ttittii", id, service, *version, text, author, time_wall_ns(),
			       (int64_t)active);
	if (!err)
		err = rdb_commit();
	if (err)
		rdb_rollback();
	return err;
}

int policies_propose(const char *id, const char *service, const char *text)
{
	int64_t v;
	return store_version(id, service, text, "manifest", false, &v);
}

/* ---- handlers ------------------------------------------------------------- */

static const char *text_of(const cJSON *j)
{
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "text"));
	return t && strlen(t) < POLICY_TEXT_MAX ? t : NULL;
}

int hub_policies_validate(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	cJSON *j = rel_body_json(req, resp);
	if (!j)
		return 0;
	const char *t = text_of(j);
	if (!t) {
		cJSON_Delete(j);
		return rel_error(resp, 400, "bad_request", "need text (Cedar policies, under 16 KiB)");
	}
	cJSON *a = cJSON_CreateObject(), *errors = cJSON_CreateArray();
	int n = policies_validate(t, errors);
	cJSON_Delete(j);
	if (n < 0) {
		cJSON_Delete(a);
		cJSON_Delete(errors);
		return rel_error(resp, 500, "internal", "validation could not run");
	}
	cJSON_AddBoolToObject(a, "valid", n == 0);
	cJSON_AddItemToObject(a, "errors", errors);
	return rel_send_cjson(resp, 200, a);
}

int hub_policies_create(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	cJSON *j = rel_body_json(req, resp);
	if (!j)
		return 0;
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(j, "id"));
	const char *svc = cJSON_GetStringValue(cJSON_GetObjectItem(j, "service"));
	const char *t = text_of(j);
	const cJSON *act = cJSON_GetObjectItem(j, "active");
	if (!rel_name_ok(id, SERVICE_ID_MAX) || !t || (svc && !rel_name_ok(svc, SERVICE_ID_MAX)) ||
	    (act && !cJSON_IsBool(act))) {
		cJSON_Delete(j);
		return rel_error(resp, 400, "bad_request",
				 "need id (a name), text (Cedar, under 16 KiB); service a name; active a bool");
	}
	cJSON *errors = cJSON_CreateArray();
	int n = policies_validate(t, errors);
	if (n != 0) {
		cJSON_Delete(j);
		if (n < 0) {
			cJSON_Delete(errors);
			return rel_error(resp, 500, "internal", "validation could not run");
		}
		cJSON *a = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(a, "error");
		cJSON_AddStringToObject(e, "code", "invalid_policy");
		cJSON_AddStringToObject(e, "message", "the policy does not validate");
		cJSON_AddItemToObject(a, "errors", errors);
		return rel_send_cjson(resp, 400, a);
	}
	cJSON_Delete(errors);
	int64_t version;
	int err = store_version(id, svc, t, "owner", !act || cJSON_IsTrue(act), &version);
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "id", id);
	cJSON_AddNumberToObject(a, "version", (double)version);
	cJSON_AddBoolToObject(a, "active", !act || cJSON_IsTrue(act));
	cJSON_Delete(j);
	if (err) {
		cJSON_Delete(a);
		return rel_error(resp, err == -EEXIST ? 409 : 500, err == -EEXIST ? "conflict" : "store_error",
				 err == -EEXIST ? "unknown service or duplicate version" : "cannot store the policy");
	}
	return rel_send_cjson(resp, 201, a);
}

int hub_policies_list(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	return rel_owner_list(
		req, resp,
		"SELECT json_object('policies', json_group_array(json_object('id', id, 'version', "
		"version, 'service', service_id, 'active', json(CASE active WHEN 1 THEN 'true' ELSE "
		"'false' END), 'author', author, 'created_ns', created_ns, 'text', text))) FROM "
		"(SELECT * FROM policies ORDER BY id, version)",
		"policies");
}

int hub_policies_accept(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	char id[SERVICE_ID_MAX];
	const char *tail = strrchr(req->path, '/');
	if (!rel_path_id(req->path, "/api/v1/policies/", id, sizeof(id)) || strcmp(tail, "/accept"))
		return rel_error(resp, 404, "not_found", "POST /api/v1/policies/{id}/accept");
	int64_t v;
	if (rdb_i64(&v, "SELECT max(version) FROM policies WHERE id = ?", "t", id))
		return rel_error(resp, 404, "not_found", "no such policy");
	int err = rdb_begin();
	if (!err)
		err = rdb_exec("UPDATE policies SET active = (version = ?) WHERE id = ?", "it", v, id);
	if (!err)
		err = rdb_commit();
	if (err) {
		rdb_rollback();
		return rel_error(resp, 500, "store_error", "cannot accept the policy");
	}
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "id", id);
	cJSON_AddNumberToObject(a, "version", (double)v);
	cJSON_AddBoolToObject(a, "active", true);
	return rel_send_cjson(resp, 200, a);
}

int hub_policies_delete(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	char id[SERVICE_ID_MAX];
	if (!rel_path_id(req->path, "/api/v1/policies/", id, sizeof(id)) ||
	    strlen(req->path) != strlen("/api/v1/policies/") + strlen(id))
		return rel_error(resp, 404, "not_found", "DELETE /api/v1/policies/{id}");
	int err = rdb_exec("DELETE FROM policies WHERE id = ?", "t", id);
	if (err)
		return rel_error(resp, 500, "store_error", "cannot delete the policy");
	if (!rdb_changes())
		return rel_error(resp, 404, "not_found", "no such policy");
	return rel_send(resp, 200, strdup("{\"deleted\":true}"));
}

int hub_policies_simulate(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	cJSON *j = rel_body_json(req, resp);
	if (!j)
		return 0;
	struct rel_request r = {.mode = REL_SIMULATE};
	const char *svc = cJSON_GetStringValue(cJSON_GetObjectItem(j, "service"));
	const char *cat = cJSON_GetStringValue(cJSON_GetObjectItem(j, "category"));
	const char *pur = cJSON_GetStringValue(cJSON_GetObjectItem(j, "purpose"));
	const cJSON *since = cJSON_GetObjectItem(j, "since"), *text = cJSON_GetObjectItem(j, "text");
	if (!rel_name_ok(svc, sizeof(r.service)) || !rel_name_ok(cat, sizeof(r.category)) || !pur ||
	    !pur[0] || strlen(pur) >= sizeof(r.purpose) || (since && !cJSON_IsNumber(since)) ||
	    (text && !text_of(j))) {
		cJSON_Delete(j);
		return rel_error(resp, 400, "bad_request",
				 "need service, category, purpose; since a number; text Cedar policies");
	}
	snprintf(r.service, sizeof(r.service), "%s", svc);
	snprintf(r.category, sizeof(r.category), "%s", cat);
	snprintf(r.purpose, sizeof(r.purpose), "%s", pur);
	r.since = since ? (int64_t)since->valuedouble : 0;
	r.policies = text ? text_of(j) : NULL;
	struct rel_result res;
	release_run(&r, &res);
	cJSON_Delete(j);
	if (res.out)
		cJSON_AddBoolToObject(res.out, "simulated", true);
	/* A simulation answers 200 whatever the decision: the decision is the
	 * answer. */
	return rel_send_cjson(resp, res.status >= 500 ? res.status : 200, res.out);
}
