/*
 * services.c: third-party services (REST, owner auth).
 *   POST   /api/v1/services         {id, name, endpoint, ca?, pin?, trusted?,
 *          jurisdiction?, purposes?}: answers the service credential once
 *          (stored only as its SHA-256)
 *   GET    /api/v1/services         the services (never a credential)
 *   DELETE /api/v1/services/{id}    the service, its credential, its
 *          policies; pending approvals expire; the audit log stays
 *   POST   /api/v1/services/import  a manifest (services/<name>/manifest.json):
 *          creates the service if new (credential answered once) and
 *          PROPOSES one inactive Cedar policy per requested category, with
 *          obligations from the manifest; nothing is shared before the owner
 *          accepts one (POST /api/v1/policies/{id}/accept)
 * Manifest: {"id","name","endpoint","pin"?,"ca"?,"jurisdiction"?,
 *   "retention"?, "requests": [{"category","purpose","fields"?:[...],
 *   "granularity"?:{"time":"day"},"aggregate"?:{"count":true,"sum":[...],
 *   "by":[...],"k":N},"frequency"?:"N per day","ask"?:bool}]}
 * Assumes: tables services and policies (store migration 2); hub/auth.c's
 * token format "hts_<id>.<secret>".
 * Leaves out: signed manifests, updating a service's credential (delete
 * and create again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "../stack/http.h"
#include "auth.h"
#include "cJSON.h"
#include "release.h"
#include "store/rdb.h"

#define TEXT_MAX 8192

static bool service_id_ok(const char *s)
{
	/* No '.' (the credential is "hts_<id>.<secret>"). */
	return rel_name_ok(s, SERVICE_ID_MAX) && !strchr(s, '.');
}

cJSON *services_get(const char *id)
{
	char *txt = NULL;
	if (rdb_text(&txt,
		     "SELECT json_object('id', id, 'name', name, 'endpoint', endpoint, 'pin', pin, "
		     "'trusted', json(CASE WHEN json_extract(manifest, '$.trusted') THEN 'true' ELSE "
		     "'false' END), 'jurisdiction', coalesce(json_extract(manifest, '$.jurisdiction'), ''), "
		     "'purposes', json(coalesce(json_extract(manifest, '$.purposes'), '[]'))) "
		     "FROM services WHERE id = ?",
		     "t", id))
		return NULL;
	cJSON *j = cJSON_Parse(txt);
	free(txt);
	return j;
}

/* Stores a new service; *cred gets its credential (caller wipes and frees). */
static int create(const char *id, const char *name, const char *endpoint, const char *ca, const char *pin,
		  const cJSON *manifest, char **cred)
{
	char secret[65];
	uint8_t hash[32];
	char hex[65];
	int err = hub_auth_secret(secret);
	if (err)
		return err;
	size_t n = strlen(id) + 70;
	*cred = malloc(n);
	if (!*cred)
		return -ENOMEM;
	snprintf(*cred, n, "hts_%s.%s", id, secret);
	hub_auth_hash(secret, hash); /* hub/auth.c hashes the secret part */
	memset(secret, 0, sizeof(secret));
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", hash[i]);
	char *m = manifest ? cJSON_PrintUnformatted(manifest) : NULL;
	/* The hash goes in as a blob literal X'..' made of hex digits only
	 * (rdb.h binds no blobs; SQLite 3.40 has no unhex()). */
	char sql[300];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO services(id, name, endpoint, ca_pem, pin, manifest, credential_hash, "
		 "created_ns) VALUES (?, ?, ?, ?, ?, ?, X'%s', ?)",
		 hex);
	err = rdb_exec(sql, "tttttti", id, name, endpoint, ca, pin, m ? m : "{}", time_wall_ns());
	free(m);
	if (err) {
		memset(*cred, 0, strlen(*cred));
		free(*cred);
		*cred = NULL;
	}
	return err;
}

static const char *str(const cJSON *j, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(j, k));
}

static bool endpoint_ok(const char *e)
{
	return !e || (strlen(e) < 512 && !strncmp(e, "https://", 8));
}

int hub_services_create(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	cJSON *j = rel_body_json(req, resp);
	if (!j)
		return 0;
	const char *id = str(j, "id"), *name = str(j, "name"), *ep = str(j, "endpoint");
	const char *ca = str(j, "ca"), *pin = str(j, "pin");
	if (!service_id_ok(id) || !name || strlen(name) > 200 || !endpoint_ok(ep) ||
	    (ca && strlen(ca) > TEXT_MAX) || (pin && strncmp(pin, "sha256//", 8))) {
		cJSON_Delete(j);
		return rel_error(resp, 400, "bad_request",
				 "need id ([A-Za-z0-9_-]), name; endpoint https://...; ca PEM; pin sha256//...");
	}
	cJSON *m = cJSON_CreateObject();
	const cJSON *v;
	if ((v = cJSON_GetObjectItem(j, "trusted")) && cJSON_IsBool(v))
		cJSON_AddBoolToObject(m, "trusted", cJSON_IsTrue(v));
	if ((v = cJSON_GetObjectItem(j, "jurisdiction")) && cJSON_IsString(v))
		cJSON_AddStringToObject(m, "jurisdiction", v->valuestring);
	if ((v = cJSON_GetObjectItem(j, "purposes")) && cJSON_IsArray(v))
		cJSON_AddItemToObject(m, "purposes", cJSON_Duplicate(v, 1));
	char *cred = NULL;
	int err = create(id, name, ep, ca, pin, m, &cred);
	cJSON_Delete(m);
	if (err) {
		cJSON_Delete(j);
		return rel_error(resp, err == -EEXIST ? 409 : 500, err == -EEXIST ? "exists" : "store_error",
				 err == -EEXIST ? "a service with this id exists" : "cannot store the service");
	}
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "id", id);
	cJSON_AddStringToObject(a, "credential", cred);
	memset(cred, 0, strlen(cred));
	free(cred);
	cJSON_Delete(j);
	return rel_send_cjson(resp, 201, a);
}

int hub_services_list(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	return rel_owner_list(
		req, resp,
		"SELECT json_object('services', json_group_array(json_object('id', id, 'name', name, "
		"'endpoint', endpoint, 'pin', pin, 'has_ca', ca_pem IS NOT NULL, 'manifest', "
		"json(manifest), 'created_ns', created_ns))) FROM (SELECT * FROM services ORDER BY id)",
		"services");
}

int hub_services_delete(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	char id[SERVICE_ID_MAX];
	if (!rel_path_id(req->path, "/api/v1/services/", id, sizeof(id)) ||
	    strlen(req->path) != strlen("/api/v1/services/") + strlen(id))
		return rel_error(resp, 404, "not_found", "DELETE /api/v1/services/{id}");
	int err = rdb_begin();
	if (!err)
		err = rdb_exec("DELETE FROM policies WHERE service_id = ?", "t", id);
	if (!err)
		err = rdb_exec("UPDATE approvals SET state = 'expired' WHERE service_id = ? AND state = 'pending'",
			       "t", id);
	if (!err)
		err = rdb_exec("UPDATE deliveries SET state = 'failed', last_error = 'service deleted' "
			       "WHERE service_id = ? AND state = 'pending'",
			       "t", id);
	int64_t n = 0;
	if (!err) {
		err = rdb_exec("DELETE FROM services WHERE id = ?", "t", id);
		n = rdb_changes();
	}
	if (!err && n)
		err = rdb_commit();
	if (err || !n) {
		rdb_rollback();
		return err ? rel_error(resp, 500, "store_error", "cannot delete the service")
			   : rel_error(resp, 404, "not_found", "no such service");
	}
	return rel_send(resp, 200, strdup("{\"deleted\":true}"));
}

/* ---- manifests ------------------------------------------------------------- */

static bool name_list(const cJSON *a, char *out, size_t len)
{
	size_t n = 0;
	const cJSON *it;
	out[0] = 0;
	cJSON_ArrayForEach(it, a) {
		if (!cJSON_IsString(it) || !rel_name_ok(it->valuestring, 32))
			return false;
		int w = snprintf(out + n, len - n, "%s%s", n ? ", " : "", it->valuestring);
		if (w < 0 || (size_t)w >= len - n)
			return false;
		n += (size_t)w;
	}
	return n > 0;
}

static bool word_ok(const char *s)
{
	/* purposes, frequencies, units: letters, digits, spaces, '.', '-' */
	if (!s || !s[0] || strlen(s) > 60)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == ' ' || *s == '.' || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* The Cedar policy a manifest request proposes, into out. */
static int propose_text(const char *svc, const cJSON *rq, const char *retention, char *out, size_t len,
			const char **why)
{
	const char *cat = str(rq, "category"), *pur = str(rq, "purpose"), *freq = str(rq, "frequency");
	const cJSON *fields = cJSON_GetObjectItem(rq, "fields"), *gran = cJSON_GetObjectItem(rq, "granularity");
	const cJSON *agg = cJSON_GetObjectItem(rq, "aggregate");
	char list[400], tr[600] = "", ag[600] = "";
	size_t n = 0;
	*why = "category (a name) and purpose are required";
	if (!rel_name_ok(cat, CATEGORY_MAX) || !word_ok(pur))
		return -EINVAL;
	*why = "fields: names";
	if (fields && !name_list(fields, list, sizeof(list)))
		return -EINVAL;
	if (fields)
		n += (size_t)snprintf(tr + n, sizeof(tr) - n, "keep(%s)", list);
	*why = "granularity: {field: hour|day|week|month|year}";
	const cJSON *g;
	cJSON_ArrayForEach(g, gran) {
		if (!rel_name_ok(g->string, 32) || !cJSON_IsString(g) || !word_ok(g->valuestring) ||
		    n >= sizeof(tr))
			return -EINVAL;
		n += (size_t)snprintf(tr + n, sizeof(tr) - n, "%sgeneralize(%s, %s)", n ? "; " : "", g->string,
				      g->valuestring);
	}
	if (agg) {
		*why = "aggregate: {count, sum: [fields], by: [fields], k: N}";
		const cJSON *sum = cJSON_GetObjectItem(agg, "sum"), *by = cJSON_GetObjectItem(agg, "by");
		const cJSON *k = cJSON_GetObjectItem(agg, "k");
		size_t m = (size_t)snprintf(ag, sizeof(ag), "count");
		const cJSON *it;
		cJSON_ArrayForEach(it, sum) {
			if (!cJSON_IsString(it) || !rel_name_ok(it->valuestring, 32) || m >= sizeof(ag))
				return -EINVAL;
			m += (size_t)snprintf(ag + m, sizeof(ag) - m, ", sum(%s)", it->valuestring);
		}
		if (by) {
			if (!name_list(by, list, sizeof(list)) || m >= sizeof(ag))
				return -EINVAL;
			m += (size_t)snprintf(ag + m, sizeof(ag) - m, " by %s", list);
		}
		if (k) {
			if (!cJSON_IsNumber(k) || k->valuedouble < 1 || k->valuedouble > 1e6 || m >= sizeof(ag))
				return -EINVAL;
			snprintf(ag + m, sizeof(ag) - m, "; k >= %d", (int)k->valuedouble);
		}
	}
	*why = "frequency: \"N per day\" (or hour, week, 30d ...)";
	if (freq && !word_ok(freq))
		return -EINVAL;
	*why = "push_every: \"<N>s\", \"<N>m\", \"<N>h\" or \"<N>d\" (N >= 1, at most 366 days)";
	const cJSON *every = cJSON_GetObjectItem(rq, "push_every");
	if (every && release_period_parse(cJSON_GetStringValue(every)) <= 0)
		return -EINVAL;
	*why = "retention: a short text";
	if (retention && !word_ok(retention))
		return -EINVAL;
	int w = snprintf(out, len,
			 "// Proposed by %s's manifest: %s for \"%s\"%s%s.\n"
			 "@doc(\"retention: %s\")\n"
			 "%s%s%s"
			 "%s%s%s"
			 "%s%s%s"
			 "%s"
			 "permit (\n"
			 "  principal == Hearth::Service::\"%s\",\n"
			 "  action == Hearth::Action::\"share\",\n"
			 "  resource in Hearth::Category::\"%s\"\n"
			 ")\nwhen { context.purpose == \"%s\" };\n",
			 svc, cat, pur, retention ? ", kept " : "", retention ? retention : "",
			 retention ? retention : "unspecified", tr[0] ? "@transform(\"" : "", tr,
			 tr[0] ? "\")\n" : "", ag[0] ? "@aggregate(\"" : "", ag, ag[0] ? "\")\n" : "",
			 freq ? "@rate(\"" : "", freq ? freq : "", freq ? "\")\n" : "",
			 cJSON_IsTrue(cJSON_GetObjectItem(rq, "ask")) ? "@ask(\"owner\")\n" : "", svc, cat, pur);
	*why = "the proposal is too long";
	return w < 0 || (size_t)w >= len ? -EINVAL : 0;
}

int hub_services_import(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	cJSON *j = rel_body_json(req, resp);
	if (!j)
		return 0;
	const char *id = str(j, "id"), *name = str(j, "name"), *ep = str(j, "endpoint");
	const char *ca = str(j, "ca"), *pin = str(j, "pin"), *ret = str(j, "retention");
	const cJSON *rqs = cJSON_GetObjectItem(j, "requests");
	if (!service_id_ok(id) || !name || strlen(name) > 200 || !endpoint_ok(ep) ||
	    (ca && strlen(ca) > TEXT_MAX) || (pin && strncmp(pin, "sha256//", 8)) || !cJSON_IsArray(rqs) ||
	    !cJSON_GetArraySize(rqs) || cJSON_GetArraySize(rqs) > 16) {
		cJSON_Delete(j);
		return rel_error(resp, 400, "bad_manifest",
				 "need id, name, requests (1..16); endpoint https://...; pin sha256//...");
	}
	/* Every proposal is built (and validated) before anything is stored. */
	int nr = cJSON_GetArraySize(rqs);
	char (*texts)[2048] = calloc((size_t)nr, sizeof(*texts));
	cJSON *errors = cJSON_CreateArray(), *props = cJSON_CreateArray();
	const cJSON *rq;
	int i = 0, bad = 0;
	cJSON_ArrayForEach(rq, rqs) {
		const char *why = "";
		if (!texts || propose_text(id, rq, ret, texts[i], sizeof(texts[i]), &why)) {
			char m[160];
			snprintf(m, sizeof(m), "requests[%d]: %s", i, why);
			cJSON_AddItemToArray(errors, cJSON_CreateString(m));
			bad++;
		} else {
			cJSON *ve = cJSON_CreateArray();
			int n = policies_validate(texts[i], ve);
			if (n) {
				char m[200];
				const cJSON *e0 = cJSON_GetArrayItem(ve, 0);
				snprintf(m, sizeof(m), "requests[%d]: proposal does not validate: %s", i,
					 e0 ? str(e0, "message") : "error");
				cJSON_AddItemToArray(errors, cJSON_CreateString(m));
				bad++;
			}
			cJSON_Delete(ve);
		}
		i++;
	}
	if (bad) {
		free(texts);
		cJSON_Delete(props);
		cJSON_Delete(j);
		cJSON *a = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(a, "error");
		cJSON_AddStringToObject(e, "code", "bad_manifest");
		cJSON_AddStringToObject(e, "message", "the manifest's requests cannot be turned into policies");
		cJSON_AddItemToObject(a, "errors", errors);
		return rel_send_cjson(resp, 400, a);
	}
	cJSON_Delete(errors);

	cJSON *a = cJSON_CreateObject();
	char *cred = NULL;
	int64_t exists = 0;
	int err = rdb_i64(&exists, "SELECT count(*) FROM services WHERE id = ?", "t", id);
	if (!err && !exists) {
		cJSON *m = cJSON_Duplicate(j, 1);
		cJSON_DeleteItemFromObject(m, "ca");
		cJSON_AddItemToObject(m, "purposes", cJSON_CreateArray());
		cJSON_ArrayForEach(rq, rqs) cJSON_AddItemToArray(cJSON_GetObjectItem(m, "purposes"),
								 cJSON_CreateString(str(rq, "purpose")));
		cJSON_DeleteItemFromObject(m, "trusted"); /* the owner decides that, not the service */
		err = create(id, name, ep, ca, pin, m, &cred);
		cJSON_Delete(m);
	}
	i = 0;
	cJSON_ArrayForEach(rq, rqs) {
		if (err)
			break;
		char pid[SERVICE_ID_MAX];
		snprintf(pid, sizeof(pid), "%s.%s", id, str(rq, "category"));
		if (!rel_name_ok(pid, sizeof(pid)))
			snprintf(pid, sizeof(pid), "%s.request%d", id, i);
		err = policies_propose(pid, id, texts[i]);
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "id", pid);
		cJSON_AddStringToObject(p, "text", texts[i]);
		cJSON_AddBoolToObject(p, "active", false);
		cJSON_AddItemToArray(props, p);
		i++;
	}
	free(texts);
	cJSON_AddStringToObject(a, "service", id);
	if (cred) {
		cJSON_AddStringToObject(a, "credential", cred);
		memset(cred, 0, strlen(cred));
		free(cred);
	}
	cJSON_AddItemToObject(a, "proposed", props);
	cJSON_AddStringToObject(a, "note", "nothing is shared until the owner accepts a proposed policy");
	cJSON_Delete(j);
	if (err) {
		cJSON_Delete(a);
		return rel_error(resp, 500, "store_error", "cannot store the service or its proposals");
	}
	return rel_send_cjson(resp, 201, a);
}
