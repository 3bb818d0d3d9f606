/*
 * release.h: the hub's release side, shared by services.c (third parties and
 * their manifests), policies.c (Cedar policies, validation, simulation) and
 * release.c (the pipeline: pull, push, approvals, budgets).
 * Assumes: the store is open (release endpoints answer 503 otherwise); one
 * thread (the event loop).
 * Leaves out: the web UI; rate limits on the API itself.
 */
#ifndef HUB_RELEASE_H
#define HUB_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_req;
struct http_resp;
struct cJSON;

#define SERVICE_ID_MAX 64
#define CATEGORY_MAX 64
#define PURPOSE_MAX 64

/* ---- common helpers (release.c) ------------------------------------------ */

/* A JSON error answer {"error":{"code","message"}}; returns 0 (for handlers). */
int rel_error(struct http_resp *resp, int status, const char *code, const char *msg);
/* Sends (json) (taken: freed here, after it is sent) with (status). */
int rel_send(struct http_resp *resp, int status, char *json);
/* Sends a cJSON tree (deleted here). */
int rel_send_cjson(struct http_resp *resp, int status, struct cJSON *j);
/* The owner's bearer token is present and right; otherwise answers 401 and
 * returns false. Also answers 503 without a store. */
bool rel_owner(struct http_req *req, struct http_resp *resp);
/* An owner-only listing: runs (sql), one statement whose single row is the
 * whole JSON answer, and sends it (500 "cannot list (what)" on error). */
int rel_owner_list(struct http_req *req, struct http_resp *resp, const char *sql, const char *what);
/* The request body as a cJSON object (caller deletes), or NULL after
 * answering 400. */
struct cJSON *rel_body_json(struct http_req *req, struct http_resp *resp);
/* A name of [A-Za-z0-9._-], 1..max-1 bytes. */
bool rel_name_ok(const char *s, size_t max);
/* Path component after (prefix), up to the next '/' (or end), into out. */
bool rel_path_id(const char *path, const char *prefix, char *out, size_t len);
/* Unix seconds now (wall clock; 0 before any time source). */
int64_t rel_now(void);

/* ---- services.c ---------------------------------------------------------- */

/* A service's row as cJSON {id,name,endpoint,ca,pin,trusted,jurisdiction,
 * purposes:[...]} (caller deletes); NULL when unknown. */
struct cJSON *services_get(const char *id);

/* ---- policies.c ---------------------------------------------------------- */

struct policy_set;
struct policy_arena;
struct policy_schema;

/* The embedded Hearth schema text (policy/hearth.cedarschema), NUL-ended. */
extern const char hearth_cedarschema[];

/* One loaded policy set: every active stored policy (or an explicit text),
 * parsed into one Cedar set, with where each Cedar policy came from. */
struct loaded_set {
	struct policy_arena *arena;
	struct policy_set *set;
	struct policy_schema *schema;
	char *text;		 /* the concatenated text */
	uint32_t nsrc;
	struct {
		char id[SERVICE_ID_MAX]; /* stored policy id */
		int64_t version;
		int first_line, last_line;
	} *src;
};
/* Loads the active policies (text == NULL) or (text) as one set, with the
 * schema. 0, or -EINVAL with msg (line:col) when the stored text does not
 * parse (the caller fails closed), -ENOMEM, or a store error. */
int policies_load(struct loaded_set *ls, const char *text, char *msg, size_t msglen);
void policies_unload(struct loaded_set *ls);
/* "id@version" of the stored policy a Cedar policy (index) came from. */
void policies_origin(const struct loaded_set *ls, uint32_t index, char *out, size_t len);
/* Validates (text) against the schema and the obligations' syntax: the
 * number of errors, each appended to errors (a cJSON array) as
 * {"line","column","message"}; negative errno on failure to run. */
int policies_validate(const char *text, struct cJSON *errors);
/* Stores a new proposed (inactive) policy for service (from a manifest). */
int policies_propose(const char *id, const char *service, const char *text);

/* ---- release.c ----------------------------------------------------------- */

enum rel_mode {
	REL_PULL,     /* answer the request */
	REL_PUSH,     /* make a delivery */
	REL_SIMULATE, /* decide and transform, write nothing */
};

struct rel_request {
	char service[SERVICE_ID_MAX];
	char category[CATEGORY_MAX];
	char purpose[PURPOSE_MAX];
	enum rel_mode mode;
	int64_t since;	      /* records at or after (Unix seconds), 0 all */
	int64_t approval;     /* an approved approval this request redeems, 0 none */
	const char *policies; /* simulate: this text instead of the active set */
};

/* The outcome of a release: decision, reasons, obligations, records. */
struct rel_result {
	int status;	      /* HTTP status to answer */
	const char *decision; /* "allow", "deny", "ask", "error" */
	struct cJSON *out;    /* the answer body (caller deletes) */
};

/* Runs the pipeline for r; fills res. Never releases on an error. */
void release_run(const struct rel_request *r, struct rel_result *res);
/* Starts the push scheduler (after the store is open and the network is up)
 * and the subscription scheduler (manifest requests with "push_every"). */
void release_push_start(void);
/* A manifest's "push_every": "<N>s|<N>m|<N>h|<N>d", N >= 1, at most 366 days,
 * in seconds; -EINVAL otherwise. */
int64_t release_period_parse(const char *s);

/* ---- handlers (routes in api.c) ------------------------------------------ */

/* release.c */
int hub_share(struct http_req *req, struct http_resp *resp, void *arg);
int hub_approvals_list(struct http_req *req, struct http_resp *resp, void *arg);
int hub_approval_decide(struct http_req *req, struct http_resp *resp, void *arg);
int hub_budgets_list(struct http_req *req, struct http_resp *resp, void *arg);
int hub_delivery_now(struct http_req *req, struct http_resp *resp, void *arg);
int hub_deliveries_list(struct http_req *req, struct http_resp *resp, void *arg);
/* services.c */
int hub_services_create(struct http_req *req, struct http_resp *resp, void *arg);
int hub_services_list(struct http_req *req, struct http_resp *resp, void *arg);
int hub_services_delete(struct http_req *req, struct http_resp *resp, void *arg);
int hub_services_import(struct http_req *req, struct http_resp *resp, void *arg);
/* policies.c */
int hub_policies_create(struct http_req *req, struct http_resp *resp, void *arg);
int hub_policies_list(struct http_req *req, struct http_resp *resp, void *arg);
int hub_policies_accept(struct http_req *req, struct http_resp *resp, void *arg);
int hub_policies_delete(struct http_req *req, struct http_resp *resp, void *arg);
int hub_policies_validate(struct http_req *req, struct http_resp *resp, void *arg);
int hub_policies_simulate(struct http_req *req, struct http_resp *resp, void *arg);

#endif
