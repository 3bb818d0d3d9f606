/*
 * release.c: the release pipeline. A pull (POST /api/v1/share with a
 * service credential) or a push (a scheduled or owner-triggered delivery to
 * the service's HTTPS endpoint) goes through one path, release_run():
 *   Cedar request (principal Hearth::Service, action Hearth::Action::"share",
 *   resource Hearth::Category, context purpose/now/time/consent/budget_left)
 *   -> decide over the ACTIVE policies -> compose the determining permits'
 *   obligations -> @ask: park as a pending approval unless approved ->
 *   budget/rate check, transform (policy_release_run) -> persist the budget
 *   state (and, for a push, the delivery) -> audit -> answer or send.
 * Any error on the way releases nothing (fail closed) and is audited.
 * Also here: approvals (list/approve/deny), budgets (list), the push
 * scheduler with retry and backoff, subscriptions (a manifest request's
 * "push_every": scheduled pushes down the same path), and the small HTTP helpers of release.h.
 *
 * Assumes: the store is open (else 503); the wall clock is set (SNTP or
 * RTC) for windows and generalization; records are the JSON objects of
 * records.c, each extended with its "time" when it has none.
 * Leaves out: the Cedar `record` context (the request's records are not
 * described to the policy), delivery batching, per-category budgets (a
 * budget is per service).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "../stack/http.h"
#include "../stack/https_client.h"
#include "audit.h"
#include "auth.h"
#include "reply.h"
#include "budget.h"
#include "cJSON.h"
#include "obligations.h"
#include "policy.h"
#include "release.h"
#include "store/rdb.h"
#include "store/store.h"
#include "transform.h"

/* ---- HTTP helpers -------------------------------------------------------- */

int rel_error(struct http_resp *resp, int status, const char *code, const char *msg)
{
	return hub_reply_error(resp, status, code, "%s", msg);
}

int rel_send(struct http_resp *resp, int status, char *json)
{
	return hub_reply_json_owned(resp, status, json);
}

int rel_send_cjson(struct http_resp *resp, int status, cJSON *j)
{
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	if (!s)
		return rel_error(resp, 500, "internal", "out of memory");
	return rel_send(resp, status, s);
}

static bool store_up(void)
{
	struct store_status st;
	return !store_status(&st) && st.state == STORE_OK;
}

bool rel_owner(struct http_req *req, struct http_resp *resp)
{
	return hub_auth_owner(req, resp) == 0;
}

cJSON *rel_body_json(struct http_req *req, struct http_resp *resp)
{
	cJSON *j = req->body && req->body_len ? cJSON_ParseWithLength((const char *)req->body, req->body_len)
					      : NULL;
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		rel_error(resp, 400, "bad_json", "the body must be a JSON object");
		return NULL;
	}
	return j;
}

bool rel_name_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n >= max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool rel_path_id(const char *path, const char *prefix, char *out, size_t len)
{
	size_t p = strlen(prefix);
	if (strncmp(path, prefix, p))
		return false;
	const char *s = path + p, *e = strchr(s, '/');
	size_t n = e ? (size_t)(e - s) : strlen(s);
	if (!n || n >= len)
		return false;
	memcpy(out, s, n);
	out[n] = 0;
	return true;
}

int64_t rel_now(void)
{
	return time_wall_ns() / 1000000000;
}

static void *grow(size_t n)
{
	return malloc(n);
}

/* ---- budgets (store_kv "release.budgets") --------------------------------- */

static int budget_load(struct policy_budget_state *st)
{
	policy_budget_init(st);
	char *txt = NULL;
	int err = rdb_text(&txt, "SELECT CAST(value AS TEXT) FROM store_kv WHERE key = 'release.budgets'", NULL);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	cJSON *j = cJSON_Parse(txt);
	free(txt);
	err = j ? policy_budget_from_json(st, j) : -EINVAL;
	cJSON_Delete(j);
	return err;
}

static int budget_save(const struct policy_budget_state *st)
{
	cJSON *j = NULL;
	int err = policy_budget_to_json(st, &j);
	if (err)
		return err;
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s)
		return -ENOMEM;
	size_t n = strlen(s);
	err = store_kv_put("release.budgets", s, &n);
	free(s);
	return err;
}

/* ---- the pseudonym key and the rng for obligations ------------------------ */

static int rng_fn(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	return rng_read(buf, len);
}

static int master_key(uint8_t key[32])
{
	size_t n = 32;
	int err = store_kv_get("release.pseudonym_master", key, &n);
	if (!err && n == 32)
		return 0;
	if (err != -ENOENT && err)
		return err;
	if ((err = rng_read(key, 32)))
		return err;
	n = 32;
	return store_kv_put("release.pseudonym_master", key, &n);
}

/* ---- records ---------------------------------------------------------------- */

/* The records of (category) and its sub-categories since (since) as a cJSON
 * array of objects: the payload, with "time" (ISO-8601) added when absent;
 * and their seqs, in the same order, as a cJSON array of numbers (*seqs). */
static int load_records(const char *category, int64_t since, cJSON **out, cJSON **seqs)
{
	char *txt = NULL;
	*out = *seqs = NULL;
	int err = rdb_text(&txt,
			   "SELECT json_group_array(seq) FROM (SELECT seq FROM records WHERE (category = ?1 "
			   "OR substr(category, 1, length(?1) + 1) = ?1 || '.') AND time_s >= ?2 "
			   "ORDER BY time_s, seq)",
			   "ti", category, since);
	if (err)
		return err;
	*seqs = cJSON_Parse(txt);
	free(txt);
	txt = NULL;
	if (!cJSON_IsArray(*seqs)) {
		cJSON_Delete(*seqs);
		*seqs = NULL;
		return -EINVAL;
	}
	err = rdb_text(&txt,
			   "SELECT json_group_array(json(json_patch(json_object('time', "
			   "strftime('%Y-%m-%dT%H:%M:%SZ', time_s, 'unixepoch')), payload))) FROM "
			   "(SELECT time_s, payload FROM records WHERE (category = ?1 OR "
			   "substr(category, 1, length(?1) + 1) = ?1 || '.') AND time_s >= ?2 "
			   "ORDER BY time_s, seq)",
			   "ti", category, since);
	if (err)
		return err;
	cJSON *arr = cJSON_Parse(txt);
	free(txt);
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		return -EINVAL;
	}
	*out = arr;
	return 0;
}

/* ---- entities and the request ------------------------------------------------ */

static bool sensitive_category(const char *c)
{
	static const char *const s[] = {"health", "location", "contacts"};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		size_t n = strlen(s[i]);
		if (!strncmp(c, s[i], n) && (c[n] == 0 || c[n] == '.'))
			return true;
	}
	return false;
}

static cJSON *uid(const char *type, const char *id)
{
	cJSON *u = cJSON_CreateObject();
	cJSON_AddStringToObject(u, "type", type);
	cJSON_AddStringToObject(u, "id", id);
	return u;
}

/* Entities: the service and the category with its ancestors. */
static cJSON *entities_json(const cJSON *svc, const char *category, const cJSON *records)
{
	cJSON *arr = cJSON_CreateArray(), *e = cJSON_CreateObject(), *a;
	cJSON_AddItemToObject(e, "uid", uid("Hearth::Service", cJSON_GetStringValue(cJSON_GetObjectItem(svc, "id"))));
	a = cJSON_AddObjectToObject(e, "attrs");
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(svc, "name"));
	const char *jur = cJSON_GetStringValue(cJSON_GetObjectItem(svc, "jurisdiction"));
	cJSON_AddStringToObject(a, "name", name ? name : "");
	cJSON_AddBoolToObject(a, "trusted", cJSON_IsTrue(cJSON_GetObjectItem(svc, "trusted")));
	cJSON_AddStringToObject(a, "jurisdiction", jur ? jur : "");
	const cJSON *p = cJSON_GetObjectItem(svc, "purposes");
	cJSON_AddItemToObject(a, "purposes", cJSON_IsArray(p) ? cJSON_Duplicate(p, 1) : cJSON_CreateArray());
	cJSON_AddArrayToObject(e, "parents");
	cJSON_AddItemToArray(arr, e);

	/* Field names present in the records, for Category.fields. */
	cJSON *fields = cJSON_CreateArray();
	const cJSON *r, *f;
	cJSON_ArrayForEach(r, records) {
		cJSON_ArrayForEach(f, r) {
			bool seen = false;
			const cJSON *g;
			cJSON_ArrayForEach(g, fields) if (!strcmp(g->valuestring, f->string)) seen = true;
			if (!seen && cJSON_GetArraySize(fields) < 64)
				cJSON_AddItemToArray(fields, cJSON_CreateString(f->string));
		}
	}
	char c[CATEGORY_MAX];
	snprintf(c, sizeof(c), "%s", category);
	for (;;) {
		char *dot = strrchr(c, '.');
		e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "uid", uid("Hearth::Category", c));
		a = cJSON_AddObjectToObject(e, "attrs");
		cJSON_AddBoolToObject(a, "sensitive", sensitive_category(c));
		cJSON_AddItemToObject(a, "fields", cJSON_Duplicate(fields, 1));
		cJSON *par = cJSON_AddArrayToObject(e, "parents");
		if (dot) {
			*dot = 0;
			cJSON_AddItemToArray(par, uid("Hearth::Category", c));
		}
		cJSON_AddItemToArray(arr, e);
		if (!dot)
			break;
	}
	cJSON_Delete(fields);
	return arr;
}

static void set_uid(struct policy_uid *u, const char *type, const char *id)
{
	u->type = type;
	u->tlen = (uint32_t)strlen(type);
	u->id = id;
	u->ilen = (uint32_t)strlen(id);
	policy_uid_hash(u);
}

/* The epsilon the service may still spend: the smallest over the @budget
 * obligations of every permit in the set (1e6 when there is none). */
static double budget_left(const struct loaded_set *ls, const struct policy_budget_state *st,
			  const char *service, int64_t now)
{
	double left = 1e6;
	for (uint32_t i = 0; i < ls->set->count; i++) {
		const struct policy *p = ls->set->policies[i];
		double l;
		if (p->obligations && p->obligations->nbudget &&
		    !policy_budget_remaining(st, service, p->obligations, now, &l) && l < left)
			left = l;
	}
	return left < 0 ? 0 : left;
}

/* ---- approvals ------------------------------------------------------------- */

/* 1 when the request may go ahead under @ask (ask: 1 once, 2 always),
 * 0 when it must wait (*id = the pending approval), negative on error. */
static int ask_check(const struct rel_request *r, int ask, int64_t *id)
{
	int64_t v;
	const char *kind = r->mode == REL_PUSH ? "push" : "pull";
	if (r->approval) {
		int err = rdb_i64(&v,
				  "SELECT id FROM approvals WHERE id = ? AND service_id = ? AND category = ? "
				  "AND state = 'approved' AND (used_ns IS NULL OR ? = 1)",
				  "itti", r->approval, r->service, r->category, (int64_t)(ask == 1));
		if (!err)
			return 1;
		if (err != -ENOENT)
			return err;
	}
	if (ask == 1 && !rdb_i64(&v,
				 "SELECT id FROM approvals WHERE service_id = ? AND category = ? AND "
				 "state = 'approved' LIMIT 1",
				 "tt", r->service, r->category))
		return 1;
	if (r->mode == REL_SIMULATE) {
		*id = 0;
		return 0;
	}
	if (!rdb_i64(id,
		     "SELECT id FROM approvals WHERE service_id = ? AND category = ? AND purpose = ? "
		     "AND json_extract(request, '$.kind') = ? AND state = 'pending'",
		     "tttt", r->service, r->category, r->purpose, kind))
		return 0;
	char req[160];
	snprintf(req, sizeof(req), "{\"kind\":\"%s\",\"since\":%" PRId64 "}", kind, r->since);
	int err = rdb_exec("INSERT INTO approvals(service_id, category, purpose, request, state, created_ns) "
			   "VALUES (?, ?, ?, ?, 'pending', ?)",
			   "tttti", r->service, r->category, r->purpose, req,
			   time_wall_ns());
	if (err)
		return err;
	err = rdb_i64(id, "SELECT max(id) FROM approvals", NULL);
	return err ? err : 0;
}

/* ---- audit ------------------------------------------------------------------ */

static int audit_id(const struct rel_request *r, const char *decision, const cJSON *reasons,
		    const char *obligations, long records, size_t bytes, double epsilon,
		    const char *sha, const char *detail, int64_t *id_out);

/* Appends the audit entry of one decision (decision: allow, deny or ask;
 * an error is a deny whose obligations say why). */
static int audit(const struct rel_request *r, const char *decision, const cJSON *reasons,
		 const char *obligations, long records, size_t bytes, double epsilon, const char *sha,
		 const char *detail)
{
	return audit_id(r, decision, reasons, obligations, records, bytes, epsilon, sha, detail, NULL);
}

/* audit(), and the new entry's id in *id_out (when not NULL). */
static int audit_id(const struct rel_request *r, const char *decision, const cJSON *reasons,
		    const char *obligations, long records, size_t bytes, double epsilon,
		    const char *sha, const char *detail, int64_t *id_out)
{
	static const char *const modes[] = {"pull", "push", "simulate"};
	struct audit_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	snprintf(e->service, sizeof(e->service), "%s", r->service);
	snprintf(e->category, sizeof(e->category), "%s", r->category);
	snprintf(e->purpose, sizeof(e->purpose), "%s", r->purpose);
	snprintf(e->decision, sizeof(e->decision), "%s", decision);
	char *pol = reasons ? cJSON_PrintUnformatted(reasons) : NULL;
	snprintf(e->policies, sizeof(e->policies), "%s", pol && strlen(pol) < sizeof(e->policies) ? pol : "[]");
	free(pol);
	cJSON *o = cJSON_CreateArray();
	char line[600];
	snprintf(line, sizeof(line), "%s", modes[r->mode]);
	cJSON_AddItemToArray(o, cJSON_CreateString(line));
	if (obligations && obligations[0])
		cJSON_AddItemToArray(o, cJSON_CreateString(obligations));
	if (sha) {
		snprintf(line, sizeof(line), "sha256:%s", sha);
		cJSON_AddItemToArray(o, cJSON_CreateString(line));
	}
	if (detail) {
		snprintf(line, sizeof(line), "%s", detail);
		cJSON_AddItemToArray(o, cJSON_CreateString(line));
	}
	char *ot = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	snprintf(e->obligations, sizeof(e->obligations), "%s",
		 ot && strlen(ot) < sizeof(e->obligations) ? ot : "[]");
	free(ot);
	e->records = records;
	e->bytes = (int64_t)bytes;
	if (epsilon > 0)
		snprintf(e->budget_spent, sizeof(e->budget_spent), "%.6g", epsilon);
	int64_t id = 0;
	int err = hub_audit_append(e, &id);
	free(e);
	if (!err && id_out)
		*id_out = id;
	if (err)
		printf("release: audit append failed (%d)\n", err);
	return err;
}

/* The obligation annotations of the determining permits, as text. */
static void obligations_text(const struct loaded_set *ls, const struct policy_decision *d, char *buf,
			     size_t len)
{
	static const char *const keys[] = {"transform", "aggregate", "noise", "budget", "rate", "ask"};
	size_t n = 0;
	buf[0] = 0;
	for (uint32_t i = 0; i < d->nreasons; i++) {
		const struct policy *p = ls->set->policies[d->reasons[i]];
		for (uint32_t k = 0; k < p->nannos; k++)
			for (size_t q = 0; q < sizeof(keys) / sizeof(keys[0]); q++)
				if (!strcmp(p->annos[k].key, keys[q]) && n < len) {
					int w = snprintf(buf + n, len - n, "%s@%s(\"%s\")", n ? " " : "",
							 keys[q], p->annos[k].value);
					n = w < 0 ? len : n + (size_t)w;
				}
	}
	if (n >= len && len)
		buf[len - 1] = 0;
}

/* ---- the pipeline ------------------------------------------------------------ */

static void result(struct rel_result *res, int status, const char *decision, cJSON *out)
{
	res->status = status;
	res->decision = decision;
	res->out = out;
}

static cJSON *answer(const char *decision, const char *code, const char *msg)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "decision", decision);
	if (code) {
		cJSON *e = cJSON_AddObjectToObject(j, "error");
		cJSON_AddStringToObject(e, "code", code);
		cJSON_AddStringToObject(e, "message", msg);
	}
	return j;
}

static int delivery_create(const struct rel_request *r, const char *body, const char *sha, char id[33]);
static void push_kick(void);

void release_run(const struct rel_request *r, struct rel_result *res)
{
	bool sim = r->mode == REL_SIMULATE;
	struct loaded_set ls = {0};
	struct policy_budget_state *bst = malloc(sizeof(*bst));
	cJSON *svc = NULL, *records = NULL, *seqs = NULL, *ents = NULL, *ctx = NULL;
	cJSON *reasons = cJSON_CreateArray();
	cJSON *released = NULL;
	void *dbuf = NULL;
	char msg[256] = "", obl[1024] = "";
	int64_t now = rel_now();
	struct policy_error perr;
	struct policy_decision d;
	struct policy_request q;
	struct policy_obligations acc;
	struct policy_arena ra;

	policy_arena_init(&ra, NULL, 0);
	ra.grow = grow;
	ra.release = free;
	result(res, 500, "error", NULL);
	if (!bst || !reasons) {
		snprintf(msg, sizeof(msg), "out of memory");
		goto fail;
	}
	if (!(svc = services_get(r->service))) {
		result(res, 403, "deny", answer("deny", "unknown_service", "no such service"));
		if (!sim)
			audit(r, "deny", reasons, NULL, 0, 0, 0, NULL, "unknown service");
		goto out;
	}
	int err = policies_load(&ls, r->policies, msg, sizeof(msg));
	if (!err)
		err = budget_load(bst);
	if (!err)
		err = load_records(r->category, r->since, &records, &seqs);
	if (err) {
		if (!msg[0])
			snprintf(msg, sizeof(msg), "cannot load policies, budgets or records (%d)", err);
		goto fail;
	}

	/* The Cedar request. */
	char nowtxt[32], left[32];
	policy_time_format(now, nowtxt, sizeof(nowtxt));
	snprintf(left, sizeof(left), "%.4f", floor(budget_left(&ls, bst, r->service, now) * 1e4) / 1e4);
	ents = entities_json(svc, r->category, records);
	ctx = cJSON_CreateObject();
	cJSON_AddStringToObject(ctx, "purpose", r->purpose);
	cJSON_AddStringToObject(ctx, "now", nowtxt);
	cJSON_AddNumberToObject(ctx, "time", (double)now);
	cJSON_AddBoolToObject(ctx, "consent", r->approval != 0);
	cJSON_AddStringToObject(ctx, "budget_left", left);
	char *etxt = cJSON_PrintUnformatted(ents);
	struct policy_entities es;
	err = etxt ? policy_entities_parse_json(&es, &ra, etxt, strlen(etxt), ls.schema, &perr) : -ENOMEM;
	free(etxt);
	memset(&q, 0, sizeof(q));
	set_uid(&q.principal, "Hearth::Service", r->service);
	set_uid(&q.action, "Hearth::Action", "share");
	set_uid(&q.resource, "Hearth::Category", r->category);
	q.entities = &es;
	if (!err)
		err = policy_context_from_cjson(&q.context, &ra, ctx, ls.schema, &q.action, &perr);
	if (err) {
		snprintf(msg, sizeof(msg), "request: %s", perr.msg);
		goto fail;
	}
	size_t dlen = 16384 + 32 * (size_t)ls.set->count;
	if (!(dbuf = malloc(dlen)) || policy_decision_init(&d, dbuf, dlen, ls.set->count ? ls.set->count : 1) ||
	    policy_decide(ls.set, &q, &d)) {
		snprintf(msg, sizeof(msg), "decision failed");
		goto fail;
	}
	for (uint32_t i = 0; i < d.nreasons; i++) {
		char o[96];
		policies_origin(&ls, d.reasons[i], o, sizeof(o));
		cJSON_AddItemToArray(reasons, cJSON_CreateString(o));
	}
	cJSON *errs = cJSON_CreateArray();
	for (uint32_t i = 0; i < d.nerrors; i++) {
		char o[96];
		policies_origin(&ls, d.errors[i], o, sizeof(o));
		cJSON_AddItemToArray(errs, cJSON_CreateString(o));
	}
	if (!d.allow) {
		cJSON *a = answer("deny", "denied", d.nreasons ? "a policy forbids this release"
							 : "no policy permits this release");
		cJSON_AddItemToObject(a, "reasons", cJSON_Duplicate(reasons, 1));
		cJSON_AddItemToObject(a, "errors", errs);
		result(res, 403, "deny", a);
		if (!sim)
			audit(r, "deny", reasons, NULL, 0, 0, 0, NULL, NULL);
		goto out;
	}
	cJSON_Delete(errs);

	/* Obligations of every determining permit, composed (stricter wins). */
	policy_obligations_init(&acc);
	obligations_text(&ls, &d, obl, sizeof(obl));
	for (uint32_t i = 0; i < d.nreasons; i++)
		if (d.obligations[i] && (err = policy_obligations_compose(&acc, d.obligations[i]))) {
			snprintf(msg, sizeof(msg), "obligations conflict (%d)", err);
			goto fail;
		}

	bool approved = !acc.ask;
	int64_t approval = 0;
	if (acc.ask) {
		err = ask_check(r, acc.ask, &approval);
		if (err < 0) {
			snprintf(msg, sizeof(msg), "approvals unavailable (%d)", err);
			goto fail;
		}
		approved = err == 1;
		if (!approved && !sim) {
			cJSON *a = answer("ask", NULL, NULL);
			cJSON_AddNumberToObject(a, "approval", (double)approval);
			cJSON_AddStringToObject(a, "message", "waiting for the owner's approval");
			cJSON_AddItemToObject(a, "reasons", cJSON_Duplicate(reasons, 1));
			char detail[48];
			snprintf(detail, sizeof(detail), "approval %" PRId64, approval);
			if (audit(r, "ask", reasons, obl, 0, 0, 0, NULL, detail)) {
				cJSON_Delete(a);
				snprintf(msg, sizeof(msg), "audit failed");
				goto fail;
			}
			result(res, 202, "ask", a);
			goto out;
		}
	}

	/* Transform (and, unless simulating, charge the budget). */
	uint8_t mkey[32], skey[POLICY_PSEUDONYM_KEY_LEN];
	if ((err = master_key(mkey)) ||
	    (err = policy_pseudonym_key_derive(mkey, sizeof(mkey), r->service, skey))) {
		snprintf(msg, sizeof(msg), "no pseudonym key (%d)", err);
		goto fail;
	}
	struct policy_release_ctx rc = {.pseudonym_key = skey, .pseudonym_key_len = sizeof(skey),
					 .rng = rng_fn, .owner_approved = true};
	char terr[160] = "";
	double eps = policy_obligations_epsilon(&acc);
	int budget_err = 0;
	if (sim) {
		budget_err = policy_budget_check(bst, r->service, &acc, now);
		err = policy_release_apply(&acc, records, &rc, &released, terr, sizeof(terr));
	} else {
		err = policy_release_run(&acc, bst, r->service, now, records, &rc, &released, terr,
					 sizeof(terr));
	}
	memset(mkey, 0, sizeof(mkey));
	memset(skey, 0, sizeof(skey));
	if (err == -EDQUOT || err == -EAGAIN) {
		const char *what = err == -EDQUOT ? "privacy budget spent" : "release rate reached";
		cJSON *a = answer("deny", err == -EDQUOT ? "budget_spent" : "rate_limited", what);
		cJSON_AddItemToObject(a, "reasons", cJSON_Duplicate(reasons, 1));
		result(res, err == -EDQUOT ? 403 : 429, "deny", a);
		audit(r, "deny", reasons, obl, 0, 0, 0, NULL, what);
		goto out;
	}
	if (err) {
		snprintf(msg, sizeof(msg), "obligations could not be applied: %s", terr);
		goto fail;
	}

	char *body = cJSON_PrintUnformatted(released);
	if (!body) {
		snprintf(msg, sizeof(msg), "out of memory");
		goto fail;
	}
	char sha[65];
	size_t blen = strlen(body);
	https_sha256_hex(body, blen, sha);
	long nrec = (long)cJSON_GetArraySize(released);
	cJSON *a = answer(sim ? (approved ? "allow" : "ask") : "allow", NULL, NULL);
	cJSON_AddStringToObject(a, "service", r->service);
	cJSON_AddStringToObject(a, "category", r->category);
	cJSON_AddStringToObject(a, "purpose", r->purpose);
	cJSON_AddItemToObject(a, "reasons", cJSON_Duplicate(reasons, 1));
	cJSON_AddStringToObject(a, "obligations", obl);
	cJSON_AddNumberToObject(a, "epsilon", eps);
	cJSON_AddStringToObject(a, "sha256", sha);
	if (sim) {
		cJSON_AddBoolToObject(a, "needs_approval", !approved);
		cJSON_AddStringToObject(a, "budget", budget_err == -EDQUOT ? "spent"
						      : budget_err == -EAGAIN ? "rate_limited"
						      : budget_err ? "error" : "ok");
		cJSON_AddItemToObject(a, "records", released);
		released = NULL;
		free(body);
		result(res, 200, approved ? "allow" : "ask", a);
		goto out;
	}

	/* Persist first (budget, delivery, approval used, audit), then answer. */
	char did[33] = "";
	if ((err = rdb_begin())) {
		free(body);
		cJSON_Delete(a);
		snprintf(msg, sizeof(msg), "store busy (%d)", err);
		goto fail;
	}
	err = budget_save(bst);
	if (!err && r->mode == REL_PUSH)
		err = delivery_create(r, body, sha, did);
	if (!err && r->approval)
		err = rdb_exec("UPDATE approvals SET used_ns = ? WHERE id = ?", "ii", time_wall_ns(), r->approval);
	int64_t aid = 0;
	if (!err)
		err = audit_id(r, "allow", reasons, obl, nrec, blen, eps, sha, did[0] ? did : NULL,
			       &aid);
	/* The records the release was computed from, linked to its entry
	 * (outside the hash: deleting a record drops its link, not the entry). */
	const cJSON *sq;
	cJSON_ArrayForEach(sq, seqs) {
		if (err)
			break;
		err = hub_audit_ref(aid, (int64_t)sq->valuedouble);
	}
	if (!err)
		err = rdb_commit();
	if (err) {
		rdb_rollback();
		free(body);
		cJSON_Delete(a);
		snprintf(msg, sizeof(msg), "could not record the release (%d)", err);
		goto fail;
	}
	free(body);
	if (r->mode == REL_PUSH) {
		cJSON_AddStringToObject(a, "delivery", did);
		cJSON_AddNumberToObject(a, "count", (double)nrec);
		result(res, 202, "allow", a);
		push_kick();
	} else {
		cJSON_AddItemToObject(a, "records", released);
		released = NULL;
		result(res, 200, "allow", a);
	}
	goto out;

fail:
	/* Fail closed: nothing released; the error is audited (not for a
	 * simulation, which writes nothing). */
	result(res, 500, "error", answer("error", "release_failed", msg));
	if (!sim)
		audit(r, "deny", reasons, obl, 0, 0, 0, NULL, msg[0] ? msg : "error");
out:
	cJSON_Delete(released);
	cJSON_Delete(svc);
	cJSON_Delete(records);
	cJSON_Delete(seqs);
	cJSON_Delete(ents);
	cJSON_Delete(ctx);
	cJSON_Delete(reasons);
	free(dbuf);
	free(bst);
	policy_arena_release(&ra);
	policies_unload(&ls);
}

/* ---- POST /api/v1/share (pull, with a service credential) ------------------- */

static bool str_field(const cJSON *j, const char *k, char *out, size_t len, bool required)
{
	const cJSON *v = cJSON_GetObjectItem(j, k);
	if (!v)
		return !required && (out[0] = 0, true);
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= len || !v->valuestring[0])
		return false;
	snprintf(out, len, "%s", v->valuestring);
	return true;
}

int hub_share(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	struct rel_request r = {.mode = REL_PULL};
	if (!store_up())
		return rel_error(resp, 503, "no_storage", "storage unavailable");
	if (hub_auth_service(req, resp, r.service, sizeof(r.service)))
		return 0;
	cJSON *j = rel_body_json(req, resp);
	if (!j)
		return 0;
	const cJSON *since = cJSON_GetObjectItem(j, "since"), *ap = cJSON_GetObjectItem(j, "approval");
	bool ok = str_field(j, "category", r.category, sizeof(r.category), true) &&
		  rel_name_ok(r.category, sizeof(r.category)) &&
		  str_field(j, "purpose", r.purpose, sizeof(r.purpose), true) &&
		  (!since || cJSON_IsNumber(since)) && (!ap || cJSON_IsNumber(ap));
	if (since)
		r.since = (int64_t)since->valuedouble;
	if (ap)
		r.approval = (int64_t)ap->valuedouble;
	cJSON_Delete(j);
	if (!ok)
		return rel_error(resp, 400, "bad_request",
				 "need category (a name) and purpose (a string); since and approval are numbers");
	struct rel_result res;
	release_run(&r, &res);
	return rel_send_cjson(resp, res.status, res.out);
}

/* ---- approvals --------------------------------------------------------------- */

int hub_approvals_list(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	char *txt = NULL;
	int err = rdb_text(&txt,
			   "SELECT json_object('approvals', json_group_array(json_object('id', id, 'service', "
			   "service_id, 'category', category, 'purpose', purpose, 'kind', "
			   "json_extract(request, '$.kind'), 'state', state, 'created_ns', created_ns, "
			   "'decided_ns', decided_ns, 'used_ns', used_ns))) "
			   "FROM (SELECT * FROM approvals ORDER BY id)",
			   NULL);
	if (err)
		return rel_error(resp, 500, "store_error", "cannot list approvals");
	return rel_send(resp, 200, txt);
}

int hub_approval_decide(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	char ids[24];
	if (!rel_path_id(req->path, "/api/v1/approvals/", ids, sizeof(ids)))
		return rel_error(resp, 404, "not_found", "no such approval");
	const char *verb = strrchr(req->path, '/') + 1;
	bool approve = !strcmp(verb, "approve");
	if (!approve && strcmp(verb, "deny"))
		return rel_error(resp, 404, "not_found", "POST /api/v1/approvals/{id}/approve or /deny");
	char *end;
	int64_t id = strtoll(ids, &end, 10);
	char *svc = NULL, *cat = NULL, *pur = NULL, *kind = NULL;
	int err = *end ? -ENOENT : rdb_text(&kind,
		"SELECT json_extract(request, '$.kind') FROM approvals WHERE id = ? AND state = 'pending'",
		"i", id);
	if (err) {
		free(kind);
		return rel_error(resp, 404, "not_found", "no pending approval with this id");
	}
	err = rdb_exec("UPDATE approvals SET state = ?, decided_ns = ? WHERE id = ? AND state = 'pending'",
		       "tii", approve ? "approved" : "denied", time_wall_ns(), id);
	if (err) {
		free(kind);
		return rel_error(resp, 500, "store_error", "cannot record the decision");
	}
	rdb_text(&svc, "SELECT service_id FROM approvals WHERE id = ?", "i", id);
	rdb_text(&cat, "SELECT category FROM approvals WHERE id = ?", "i", id);
	rdb_text(&pur, "SELECT purpose FROM approvals WHERE id = ?", "i", id);
	struct rel_request r = {.mode = !strcmp(kind, "push") ? REL_PUSH : REL_PULL, .approval = id};
	snprintf(r.service, sizeof(r.service), "%s", svc ? svc : "");
	snprintf(r.category, sizeof(r.category), "%s", cat ? cat : "");
	snprintf(r.purpose, sizeof(r.purpose), "%s", pur ? pur : "");
	free(svc);
	free(cat);
	free(pur);
	free(kind);
	cJSON *a = cJSON_CreateObject();
	cJSON_AddNumberToObject(a, "id", (double)id);
	cJSON_AddStringToObject(a, "state", approve ? "approved" : "denied");
	if (approve && r.mode == REL_PUSH) {
		/* An approved push is delivered now; an approved pull is
		 * answered when the service asks again with this approval id. */
		struct rel_result res;
		release_run(&r, &res);
		cJSON_AddStringToObject(a, "release", res.decision);
		if (res.out)
			cJSON_AddItemToObject(a, "result", res.out);
	}
	return rel_send_cjson(resp, 200, a);
}

/* ---- budgets ----------------------------------------------------------------- */

/* Whether permit (p)'s principal scope names (service) (or any service). */
static bool names_service(const struct policy *p, const char *service)
{
	const struct policy_scope *s = &p->principal;
	if (s->op == SCOPE_ANY || s->op == SCOPE_IS)
		return true;
	return s->uid.id && s->uid.ilen == strlen(service) && !memcmp(s->uid.id, service, s->uid.ilen);
}

/* The limit the active set puts on (service, kind, window): the smallest
 * @budget (kind epsilon) or @rate of the permits that name the service, as
 * parsed with the set (the obligations the pipeline enforces); -1 if none. */
static double limit_of(const struct loaded_set *ls, const char *service, bool rate, int64_t window)
{
	double lim = -1;
	for (uint32_t i = 0; i < ls->set->count; i++) {
		const struct policy *p = ls->set->policies[i];
		const struct policy_obligations *o = p->obligations;
		if (p->effect != POLICY_PERMIT || !o || !names_service(p, service))
			continue;
		for (unsigned k = 0; k < (rate ? o->nrate : o->nbudget); k++) {
			const struct policy_obl_window *w = rate ? &o->rate[k] : &o->budget[k];
			if (w->window == window && (lim < 0 || w->limit < lim))
				lim = w->limit;
		}
	}
	return lim;
}

/* GET /api/v1/budgets: every account (service, kind, window), with the
 * limit and window the active policies set and what is left of it now
 * (limit and remaining null when no active policy sets it any more), and
 * an unspent account for every limit of a permit bound to one service. */
int hub_budgets_list(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	struct policy_budget_state *st = malloc(sizeof(*st));
	struct loaded_set ls = {0};
	char msg[160];
	int64_t now = rel_now();
	if (st && !budget_load(st) && !policies_load(&ls, NULL, msg, sizeof(msg))) {
		/* Accounts for the limits nothing was spent against yet. */
		for (uint32_t i = 0; i < ls.set->count; i++) {
			const struct policy *p = ls.set->policies[i];
			const struct policy_obligations *o = p->obligations;
			if (p->effect != POLICY_PERMIT || !o || p->principal.op != SCOPE_EQ ||
			    p->principal.uid.ilen >= POLICY_BUDGET_SERVICE_MAX)
				continue;
			for (unsigned k = 0; k < (unsigned)o->nbudget + o->nrate; k++) {
				int kind = k < o->nbudget ? POLICY_BUDGET_EPSILON : POLICY_BUDGET_RATE;
				int64_t w = k < o->nbudget ? o->budget[k].window : o->rate[k - o->nbudget].window;
				uint32_t j = 0;
				while (j < st->n && (st->e[j].kind != kind || st->e[j].window != w ||
						     strlen(st->e[j].service) != p->principal.uid.ilen ||
						     memcmp(st->e[j].service, p->principal.uid.id, p->principal.uid.ilen)))
					j++;
				if (j == st->n && st->n < POLICY_BUDGET_MAX) {
					struct policy_budget_entry *e = &st->e[st->n++];
					memset(e, 0, sizeof(*e));
					memcpy(e->service, p->principal.uid.id, p->principal.uid.ilen);
					e->kind = (uint8_t)kind;
					e->window = w;
					e->start = now - now % w;
				}
			}
		}
		cJSON *j = NULL, *it;
		if (!policy_budget_to_json(st, &j)) {
			uint32_t i = 0;
			cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "entries")) {
				const struct policy_budget_entry *e = &st->e[i++];
				double lim = limit_of(&ls, e->service, e->kind == POLICY_BUDGET_RATE, e->window);
				double spent = now >= e->start + e->window ? 0 : e->spent;
				cJSON_AddNumberToObject(it, "window_s", (double)e->window);
				cJSON_AddItemToObject(it, "limit", lim < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(lim));
				cJSON_AddItemToObject(it, "remaining", lim < 0 ? cJSON_CreateNull()
					: cJSON_CreateNumber(spent < lim ? lim - spent : 0));
			}
			free(st);
			policies_unload(&ls);
			cJSON_AddNumberToObject(j, "now", (double)now);
			return rel_send_cjson(resp, 200, j);
		}
	}
	free(st);
	policies_unload(&ls);
	return rel_error(resp, 500, "store_error", "cannot read budgets or policies");
}

/* ---- push: deliveries --------------------------------------------------------- */

#define PUSH_MAX_ATTEMPTS 12
#define PUSH_BACKOFF_MAX 300

static int delivery_create(const struct rel_request *r, const char *body, const char *sha, char id[33])
{
	uint8_t raw[16];
	int err = rng_read(raw, sizeof(raw));
	if (err)
		return err;
	for (int i = 0; i < 16; i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	return rdb_exec("INSERT INTO deliveries(id, service_id, category, purpose, body, sha256, state, "
			"attempts, next_at, created_ns) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, 0, ?)",
			"tttttti", id, r->service, r->category, r->purpose, body, sha, time_wall_ns());
}

static struct {
	struct loop_timer timer;
	bool busy;
	char id[33];
	char *body;
	uint8_t *buf;
	char *ca;
	char hdr[2][80];
	bool started;
} P;

static void push_arm(uint64_t ms)
{
	loop_timer_arm(&P.timer, time_now_ns() + ms * 1000000ull);
}

static void push_kick(void)
{
	if (P.started && !P.busy)
		push_arm(10);
}

static void push_finish(bool ok, int status, const char *reason)
{
	int64_t attempts = 0;
	rdb_i64(&attempts, "SELECT attempts FROM deliveries WHERE id = ?", "t", P.id);
	attempts++;
	if (ok) {
		rdb_exec("UPDATE deliveries SET state = 'sent', attempts = ?, sent_at = ?, last_status = ? "
			 "WHERE id = ?",
			 "iiit", attempts, rel_now(), (int64_t)status, P.id);
		printf("release: delivery %s sent (HTTP %d)\n", P.id, status);
	} else {
		int64_t back = attempts >= 9 ? PUSH_BACKOFF_MAX : (int64_t)1 << attempts;
		if (back > PUSH_BACKOFF_MAX)
			back = PUSH_BACKOFF_MAX;
		const char *state = attempts >= PUSH_MAX_ATTEMPTS ? "failed" : "pending";
		rdb_exec("UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, last_status = ?, "
			 "last_error = ? WHERE id = ?",
			 "tiiitt", state, attempts, rel_now() + back, (int64_t)status, reason, P.id);
		printf("release: delivery %s attempt %" PRId64 " failed (%s, HTTP %d): %s\n", P.id, attempts,
		       reason, status, state);
	}
	free(P.body);
	free(P.buf);
	free(P.ca);
	P.body = NULL;
	P.buf = NULL;
	P.ca = NULL;
	P.busy = false;
	push_arm(ok ? 10 : 1000);
}

static void push_done(void *arg, const struct https_response *resp, int err)
{
	(void)arg;
	bool ok = !err && resp->status >= 200 && resp->status < 300;
	push_finish(ok, resp->status, err ? resp->reason : ok ? "ok" : "status");
}

static void push_tick(struct loop_timer *t)
{
	(void)t;
	if (P.busy || !store_up())
		return;
	char *id = NULL;
	if (rdb_text(&id,
		     "SELECT id FROM deliveries WHERE state = 'pending' AND next_at <= ? "
		     "ORDER BY created_ns, id LIMIT 1",
		     "i", rel_now())) {
		push_arm(2000);
		return;
	}
	snprintf(P.id, sizeof(P.id), "%s", id);
	free(id);
	char *svc = NULL, *url = NULL, *pin = NULL;
	rdb_text(&P.body, "SELECT body FROM deliveries WHERE id = ?", "t", P.id);
	rdb_text(&svc, "SELECT service_id FROM deliveries WHERE id = ?", "t", P.id);
	if (svc) {
		rdb_text(&url, "SELECT endpoint FROM services WHERE id = ?", "t", svc);
		rdb_text(&P.ca, "SELECT ca_pem FROM services WHERE id = ?", "t", svc);
		rdb_text(&pin, "SELECT pin FROM services WHERE id = ?", "t", svc);
	}
	P.busy = true;
	if (!P.body || !url || strncmp(url, "https://", 8)) {
		free(svc);
		free(url);
		free(pin);
		push_finish(false, 0, "no-https-endpoint");
		return;
	}
	snprintf(P.hdr[0], sizeof(P.hdr[0]), "Idempotency-Key: %s", P.id);
	snprintf(P.hdr[1], sizeof(P.hdr[1]), "X-Hearth-Service: %s", svc);
	const char *headers[] = {P.hdr[0], P.hdr[1], NULL};
	P.buf = malloc(4096);
	struct https_request hr = {
		.url = url,
		.body = P.body,
		.body_len = strlen(P.body),
		.content_type = "application/json",
		.headers = headers,
		.ca = (const uint8_t *)P.ca,
		.ca_len = P.ca && P.ca[0] ? strlen(P.ca) + 1 : 0,
		.pin = pin && pin[0] ? pin : NULL,
		.buf = P.buf,
		.buf_len = 4096,
	};
	if (!hr.ca_len)
		hr.ca = NULL;
	int rc = P.buf ? https_post(&hr, push_done, NULL) : -ENOMEM;
	free(svc);
	free(url);
	free(pin);
	if (rc < 0)
		push_finish(false, 0, rc == -EBUSY ? "busy" : "cannot-start");
}

/* ---- subscriptions: scheduled pushes ---------------------------------------- */

/* A manifest request with "push_every" is a subscription: every period the
 * hub pushes (service, category, purpose) down the same path as the owner's
 * POST /api/v1/deliveries (release_run, REL_PUSH), so the decision, the
 * obligations, budgets, rate limits and the audit all apply, and an error
 * sends nothing. A subscription is looked at only while an active policy
 * bound to the service names its category (or an ancestor); whether anything
 * leaves is still the decision's. When it is due comes from the deliveries
 * table (the last delivery for (service, category), whoever started it), so
 * a reboot does not push again inside the period. */

#define SUB_TICK_MAX_NS (30 * 1000000000ll) /* look at least this often */
#define SUB_TICK_MIN_NS (500 * 1000000ll)
#define SUB_LIST_MAX 64 /* subscriptions looked at per tick */
#define SUB_RUN_MAX 4	/* releases run per tick */
#define SUB_MEMO 32
#define SUB_PERIOD_MAX (366 * 86400ll)
#define NS_PER_S 1000000000ll

int64_t release_period_parse(const char *s)
{
	if (!s || *s < '1' || *s > '9')
		return -EINVAL;
	int64_t n = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((n = n * 10 + (*s - '0')) > SUB_PERIOD_MAX)
			return -EINVAL;
	int64_t unit = *s == 's' ? 1 : *s == 'm' ? 60 : *s == 'h' ? 3600 : *s == 'd' ? 86400 : 0;
	if (!unit || s[1] || n * unit > SUB_PERIOD_MAX)
		return -EINVAL;
	return n * unit;
}

/* Scheduled attempts that made no delivery (denied, waiting for approval,
 * failed), in memory, so a subscription the policy refuses is tried (and
 * audited) once a period, not every tick. Not persisted: after a reboot it
 * may be tried once more, which sends nothing. */
static struct sub_memo {
	char service[SERVICE_ID_MAX];
	char category[CATEGORY_MAX];
	int64_t at_ns;
} SM[SUB_MEMO];

static struct sub_memo *memo_find(const char *svc, const char *cat, bool make)
{
	struct sub_memo *old = &SM[0];
	for (int i = 0; i < SUB_MEMO; i++) {
		if (SM[i].at_ns && !strcmp(SM[i].service, svc) && !strcmp(SM[i].category, cat))
			return &SM[i];
		if (SM[i].at_ns < old->at_ns)
			old = &SM[i];
	}
	if (!make)
		return NULL;
	snprintf(old->service, sizeof(old->service), "%s", svc);
	snprintf(old->category, sizeof(old->category), "%s", cat);
	old->at_ns = 0;
	return old;
}

/* An active policy bound to (svc) is its manifest proposal for (cat), or
 * names (cat) or one of its ancestors as a Category. */
static bool sub_has_policy(const char *svc, const char *cat)
{
	char c[CATEGORY_MAX], pat[CATEGORY_MAX + 16], pid[SERVICE_ID_MAX + CATEGORY_MAX + 2];
	snprintf(c, sizeof(c), "%s", cat);
	snprintf(pid, sizeof(pid), "%s.%s", svc, cat);
	for (;;) {
		int64_t n = 0;
		snprintf(pat, sizeof(pat), "Category::\"%s\"", c);
		if (!rdb_i64(&n,
			     "SELECT count(*) FROM policies WHERE service_id = ? AND active = 1 AND "
			     "(id = ? OR instr(text, ?) > 0)",
			     "ttt", svc, pid, pat) &&
		    n)
			return true;
		char *dot = strrchr(c, '.');
		if (!dot)
			return false;
		*dot = 0;
	}
}

static struct {
	struct loop_timer timer;
	int64_t offset; /* into the list of subscriptions, when there are many */
} SUB;

static void sub_tick(struct loop_timer *t)
{
	(void)t;
	int64_t next = SUB_TICK_MAX_NS, now = time_wall_ns();
	char *txt = NULL;
	cJSON *subs = NULL;
	/* Without storage or a wall clock nothing is due (fail closed). */
	if (!store_up() || now < 1000000000ll * NS_PER_S ||
	    rdb_text(&txt,
		     "SELECT json_group_array(json_array(id, c, p, e)) FROM (SELECT s.id AS id, "
		     "json_extract(r.value, '$.category') AS c, json_extract(r.value, '$.purpose') AS p, "
		     "json_extract(r.value, '$.push_every') AS e FROM services s, "
		     "json_each(s.manifest, '$.requests') r WHERE s.manifest IS NOT NULL AND "
		     "json_type(r.value, '$.push_every') = 'text' ORDER BY s.id, r.key LIMIT ? OFFSET ?)",
		     "ii", (int64_t)SUB_LIST_MAX, SUB.offset) ||
	    !cJSON_IsArray(subs = cJSON_Parse(txt))) {
		free(txt);
		cJSON_Delete(subs);
		SUB.offset = 0;
		loop_timer_arm(&SUB.timer, time_now_ns() + (uint64_t)next);
		return;
	}
	free(txt);
	int n = cJSON_GetArraySize(subs), ran = 0;
	bool more = false;
	const cJSON *it;
	cJSON_ArrayForEach(it, subs) {
		const char *svc = cJSON_GetStringValue(cJSON_GetArrayItem(it, 0));
		const char *cat = cJSON_GetStringValue(cJSON_GetArrayItem(it, 1));
		const char *pur = cJSON_GetStringValue(cJSON_GetArrayItem(it, 2));
		int64_t period = release_period_parse(cJSON_GetStringValue(cJSON_GetArrayItem(it, 3)));
		if (!svc || strlen(svc) >= SERVICE_ID_MAX || !rel_name_ok(cat, CATEGORY_MAX) || !pur ||
		    !pur[0] || strlen(pur) >= PURPOSE_MAX || period <= 0)
			continue;
		period *= NS_PER_S;
		if (period < next)
			next = period;
		if (!sub_has_policy(svc, cat))
			continue;
		int64_t last = 0;
		if (rdb_i64(&last, "SELECT max(created_ns) FROM deliveries WHERE service_id = ? AND category = ?",
			    "tt", svc, cat) == -ENOENT)
			last = 0;
		const struct sub_memo *m = memo_find(svc, cat, false);
		if (m && m->at_ns > last)
			last = m->at_ns;
		if (last && now - last < period) {
			if (last + period - now < next)
				next = last + period - now;
			continue;
		}
		if (ran >= SUB_RUN_MAX) {
			more = true;
			continue;
		}
		ran++;
		struct rel_request r = {.mode = REL_PUSH};
		snprintf(r.service, sizeof(r.service), "%s", svc);
		snprintf(r.category, sizeof(r.category), "%s", cat);
		snprintf(r.purpose, sizeof(r.purpose), "%s", pur);
		struct rel_result res;
		release_run(&r, &res);
		bool delivered = res.status == 202 && !strcmp(res.decision, "allow");
		printf("release: scheduled push %s %s: %s\n", svc, cat, res.decision);
		cJSON_Delete(res.out);
		if (!delivered) {
			struct sub_memo *w = memo_find(svc, cat, true);
			w->at_ns = time_wall_ns();
		}
	}
	cJSON_Delete(subs);
	/* Past a full page, the next tick looks at the next page. */
	SUB.offset = n == SUB_LIST_MAX ? SUB.offset + SUB_LIST_MAX : 0;
	if (more || SUB.offset)
		next = SUB_TICK_MIN_NS;
	if (next < SUB_TICK_MIN_NS)
		next = SUB_TICK_MIN_NS;
	loop_timer_arm(&SUB.timer, time_now_ns() + (uint64_t)next);
}

void release_push_start(void)
{
	if (P.started)
		return;
	P.started = true;
	P.timer.fn = push_tick;
	push_arm(500);
	SUB.timer.fn = sub_tick;
	loop_timer_arm(&SUB.timer, time_now_ns() + 1000 * 1000000ull);
}

/* POST /api/v1/deliveries {service, category, purpose}: the owner starts a
 * push now (what the scheduler does when a subscription is due). */
int hub_delivery_now(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!rel_owner(req, resp))
		return 0;
	cJSON *j = rel_body_json(req, resp);
	if (!j)
		return 0;
	struct rel_request r = {.mode = REL_PUSH};
	bool ok = str_field(j, "service", r.service, sizeof(r.service), true) &&
		  str_field(j, "category", r.category, sizeof(r.category), true) &&
		  rel_name_ok(r.category, sizeof(r.category)) &&
		  str_field(j, "purpose", r.purpose, sizeof(r.purpose), true);
	cJSON_Delete(j);
	if (!ok)
		return rel_error(resp, 400, "bad_request", "need service, category and purpose");
	struct rel_result res;
	release_run(&r, &res);
	return rel_send_cjson(resp, res.status, res.out);
}

int rel_owner_list(struct http_req *req, struct http_resp *resp, const char *sql, const char *what)
{
	char msg[64];
	char *txt = NULL;
	if (!rel_owner(req, resp))
		return 0;
	if (rdb_text(&txt, sql, NULL)) {
		snprintf(msg, sizeof(msg), "cannot list %s", what);
		return rel_error(resp, 500, "store_error", msg);
	}
	return rel_send(resp, 200, txt);
}

int hub_deliveries_list(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	return rel_owner_list(
		req, resp,
		"SELECT json_object('deliveries', json_group_array(json_object('id', id, 'service', "
		"service_id, 'category', category, 'purpose', purpose, 'sha256', sha256, 'state', state, "
		"'attempts', attempts, 'next_at', next_at, 'sent_at', sent_at, 'last_status', "
		"last_status, 'last_error', last_error))) FROM (SELECT * FROM deliveries ORDER BY "
		"created_ns, id)",
		"deliveries");
}
