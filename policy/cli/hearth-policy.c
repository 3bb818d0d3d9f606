/*
 * hearth-policy: host CLI of Hearth's policy engine.
 *   check FILE.cedar [--schema FILE]          parse (and validate); errors as
 *                                             FILE:line:col: message
 *   authorize --policies F --entities F --request F [--schema F]
 *                                             decision, reasons, errors as JSON
 *   test --root DIR FILE.json...              Cedar integration-test files
 *   batch [--schema-less]                     differential-test cases on
 *                                             stdin, one JSON result a line
 *   bench --policies F --entities F --requests F [--seconds S]
 *                                             decisions/s, p50/p99 latency
 * Assumes a POSIX host (stdio, clock_gettime); uses malloc for the arenas it
 * hands the engine. Leaves out: templates, JSON policies, JSON schemas.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cJSON.h"
#include "policy.h"
#include "../internal.h"

static void *grow(size_t n)
{
	return malloc(n);
}

static void arena_new(struct policy_arena *a)
{
	policy_arena_init(a, NULL, 0);
	a->grow = grow;
	a->release = free;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536 * 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static char *join_path(const char *root, const char *rel)
{
	size_t n = strlen(root) + strlen(rel) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", root, rel);
	return p;
}

struct loaded {
	struct policy_arena a;
	struct policy_set set;
	struct policy_schema *schema;
	struct policy_entities es;
	bool have_set, have_es;
};

static int load_schema(struct loaded *L, const char *path)
{
	struct policy_error err;
	size_t len;
	char *txt = slurp(path, &len);
	int r;

	if (!txt) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -ENOENT;
	}
	r = policy_schema_parse(&L->schema, &L->a, txt, len, &err);
	if (r)
		fprintf(stderr, "%s:%d:%d: %s\n", path, err.line, err.col, err.msg);
	free(txt);
	return r;
}

static int load_policies(struct loaded *L, const char *path)
{
	struct policy_error err;
	size_t len;
	char *txt = slurp(path, &len);
	int r;

	if (!txt) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -ENOENT;
	}
	r = policy_set_parse(&L->set, &L->a, txt, len, &err);
	if (r)
		fprintf(stderr, "%s:%d:%d: %s\n", path, err.line, err.col, err.msg);
	else
		L->have_set = true;
	/* the set copies what it keeps: the text may go */
	free(txt);
	return r;
}

static int load_entities(struct loaded *L, const char *path)
{
	struct policy_error err;
	size_t len;
	char *txt = slurp(path, &len);
	int r;

	if (!txt) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -ENOENT;
	}
	r = policy_entities_parse_json(&L->es, &L->a, txt, len, L->schema, &err);
	if (r)
		fprintf(stderr, "%s: %s\n", path, err.msg[0] ? err.msg : strerror(-r));
	else
		L->have_es = true;
	free(txt);
	return r;
}

struct vcount {
	const char *file;
	int n;
	bool quiet;
};

static void report(void *arg, const struct policy *p, int line, int col, const char *msg)
{
	struct vcount *vc = arg;

	vc->n++;
	if (!vc->quiet)
		printf("%s:%d:%d: %s: %s\n", vc->file, line, col, p ? p->id : "", msg);
}

static int cmd_check(int argc, char **argv)
{
	const char *file = NULL, *schema = NULL;
	struct loaded L;
	int i, r;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--schema") && i + 1 < argc)
			schema = argv[++i];
		else
			file = argv[i];
	}
	if (!file) {
		fprintf(stderr, "usage: hearth-policy check FILE.cedar [--schema FILE]\n");
		return 2;
	}
	memset(&L, 0, sizeof(L));
	arena_new(&L.a);
	r = load_policies(&L, file);
	if (!r && schema && !(r = load_schema(&L, schema))) {
		struct vcount vc = { file, 0, false };

		r = policy_set_validate(&L.set, L.schema, report, &vc);
		if (r > 0)
			r = -EINVAL;
	}
	if (!r)
		printf("%s: %u policies ok\n", file, L.have_set ? L.set.count : 0);
	policy_arena_release(&L.a);
	return r ? 1 : 0;
}

static int request_of(struct loaded *L, const cJSON *j, struct policy_request *req,
		      struct policy_error *err)
{
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = policy_uid_from_cjson(&req->principal, &L->a,
				       cJSON_GetObjectItemCaseSensitive(j, "principal"), err)) ||
	    (r = policy_uid_from_cjson(&req->action, &L->a,
				       cJSON_GetObjectItemCaseSensitive(j, "action"), err)) ||
	    (r = policy_uid_from_cjson(&req->resource, &L->a,
				       cJSON_GetObjectItemCaseSensitive(j, "resource"), err)) ||
	    (r = policy_context_from_cjson(&req->context, &L->a,
					   cJSON_GetObjectItemCaseSensitive(j, "context"), L->schema,
					   &req->action, err)))
		return r;
	req->entities = &L->es;
	return 0;
}

static void *decision_new(struct policy_decision *d, uint32_t n)
{
	size_t len = (size_t)n * 32 + (1 << 20);
	void *buf = malloc(len);

	if (!buf || policy_decision_init(d, buf, len, n ? n : 1)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* {"decision": ..., "reasons": [...], "errors": [...]} */
static void print_decision(const struct policy_set *set, const struct policy_decision *d)
{
	uint32_t i;

	printf("{\"decision\":\"%s\",\"reasons\":[", d->allow ? "allow" : "deny");
	for (i = 0; i < d->nreasons; i++)
		printf("%s\"%s\"", i ? "," : "", set->policies[d->reasons[i]]->id);
	printf("],\"errors\":[");
	for (i = 0; i < d->nerrors; i++)
		printf("%s\"%s\"", i ? "," : "", set->policies[d->errors[i]]->id);
	printf("]}\n");
}

static int cmd_authorize(int argc, char **argv)
{
	const char *pf = NULL, *ef = NULL, *rf = NULL, *sf = NULL;
	struct loaded L;
	struct policy_request req;
	struct policy_decision d;
	struct policy_error err;
	cJSON *rj = NULL;
	char *txt = NULL;
	void *dbuf = NULL;
	size_t len;
	int i, r = 1;

	for (i = 0; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--policies"))
			pf = argv[i + 1];
		else if (!strcmp(argv[i], "--entities"))
			ef = argv[i + 1];
		else if (!strcmp(argv[i], "--request"))
			rf = argv[i + 1];
		else if (!strcmp(argv[i], "--schema"))
			sf = argv[i + 1];
	}
	if (!pf || !ef || !rf) {
		fprintf(stderr, "usage: hearth-policy authorize --policies F --entities F --request F [--schema F]\n");
		return 2;
	}
	memset(&L, 0, sizeof(L));
	memset(&err, 0, sizeof(err));
	arena_new(&L.a);
	if ((sf && load_schema(&L, sf)) || load_policies(&L, pf) || load_entities(&L, ef))
		goto out;
	txt = slurp(rf, &len);
	if (!txt || !(rj = cJSON_ParseWithLength(txt, len))) {
		fprintf(stderr, "%s: cannot read the request JSON\n", rf);
		goto out;
	}
	if (request_of(&L, rj, &req, &err)) {
		fprintf(stderr, "%s: %s\n", rf, err.msg);
		goto out;
	}
	dbuf = decision_new(&d, L.set.count);
	if (!dbuf || policy_decide(&L.set, &req, &d))
		goto out;
	print_decision(&L.set, &d);
	r = 0;
out:
	free(dbuf);
	free(txt);
	cJSON_Delete(rj);
	policy_arena_release(&L.a);
	return r;
}

static bool same_ids(const cJSON *want, const struct policy_set *set, const uint32_t *got,
		     uint32_t n)
{
	const cJSON *it;
	uint32_t i, cnt = 0;

	if (!want)
		return n == 0;
	cJSON_ArrayForEach(it, want) {
		const char *id = cJSON_IsString(it) ? it->valuestring : NULL;
		bool found = false;

		if (!id) {
			/* {"policyId": ...} form */
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "policyId");

			id = cJSON_IsString(p) ? p->valuestring : "";
		}
		for (i = 0; i < n; i++)
			if (!strcmp(set->policies[got[i]]->id, id))
				found = true;
		if (!found)
			return false;
		cnt++;
	}
	return cnt == n;
}

static void ids_str(char *buf, size_t len, const struct policy_set *set, const uint32_t *v,
		    uint32_t n)
{
	size_t o = 0;
	uint32_t i;

	buf[0] = 0;
	o += (size_t)snprintf(buf + o, len - o, "[");
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", set->policies[v[i]]->id);
	if (o < len)
		snprintf(buf + o, len - o, "]");
}

static int run_test_file(const char *root, const char *file, int *pass, int *fail)
{
	struct loaded L;
	cJSON *j = NULL;
	const cJSON *reqs, *it, *sv;
	char *txt, *p = NULL;
	size_t len;
	int idx = 0, nreq;
	struct policy_decision d;
	void *dbuf = NULL;
	bool setup_ok = false, valid_ok = true;

	memset(&L, 0, sizeof(L));
	arena_new(&L.a);
	txt = slurp(file, &len);
	if (!txt || !(j = cJSON_ParseWithLength(txt, len))) {
		printf("%s: cannot read the test file\n", file);
		free(txt);
		(*fail)++;
		return -1;
	}
	reqs = cJSON_GetObjectItemCaseSensitive(j, "requests");
	nreq = cJSON_GetArraySize(reqs);
	{
		const cJSON *sc = cJSON_GetObjectItemCaseSensitive(j, "schema");
		const cJSON *pol = cJSON_GetObjectItemCaseSensitive(j, "policies");
		const cJSON *ent = cJSON_GetObjectItemCaseSensitive(j, "entities");

		if (cJSON_IsString(sc)) {
			p = join_path(root, sc->valuestring);
			if (load_schema(&L, p))
				goto done;
			free(p);
			p = NULL;
		}
		if (!cJSON_IsString(pol) || !cJSON_IsString(ent))
			goto done;
		p = join_path(root, pol->valuestring);
		if (load_policies(&L, p))
			goto done;
		free(p);
		p = join_path(root, ent->valuestring);
		if (load_entities(&L, p))
			goto done;
		free(p);
		p = NULL;
	}
	sv = cJSON_GetObjectItemCaseSensitive(j, "shouldValidate");
	if (L.schema && cJSON_IsBool(sv)) {
		struct vcount vc = { file, 0, true };
		int r = policy_set_validate(&L.set, L.schema, report, &vc);
		bool valid = r == 0;

		if (valid != (bool)cJSON_IsTrue(sv)) {
			printf("%s: validation: expected %s, got %s (%d errors)\n", file,
			       cJSON_IsTrue(sv) ? "valid" : "invalid", valid ? "valid" : "invalid", r);
			if (!valid) {
				vc.quiet = false;
				vc.n = 0;
				policy_set_validate(&L.set, L.schema, report, &vc);
			}
			valid_ok = false;
		}
	}
	dbuf = decision_new(&d, L.set.count);
	if (!dbuf)
		goto done;
	setup_ok = true;
	cJSON_ArrayForEach(it, reqs) {
		struct policy_request req;
		struct policy_error err;
		const cJSON *want = cJSON_GetObjectItemCaseSensitive(it, "decision");
		const cJSON *desc = cJSON_GetObjectItemCaseSensitive(it, "description");
		const cJSON *wr = cJSON_GetObjectItemCaseSensitive(it, "reason");
		const cJSON *we = cJSON_GetObjectItemCaseSensitive(it, "errors");
		const char *dn = cJSON_IsString(desc) ? desc->valuestring : "";
		char a[512], b[512];
		bool ok;

		memset(&err, 0, sizeof(err));
		if (request_of(&L, it, &req, &err) || policy_decide(&L.set, &req, &d)) {
			printf("%s: request %d (%s): cannot evaluate: %s\n", file, idx, dn, err.msg);
			(*fail)++;
			idx++;
			continue;
		}
		ok = cJSON_IsString(want) &&
		     !strcmp(want->valuestring, d.allow ? "allow" : "deny") &&
		     same_ids(wr, &L.set, d.reasons, d.nreasons) &&
		     same_ids(we, &L.set, d.errors, d.nerrors) && valid_ok;
		if (ok) {
			(*pass)++;
		} else {
			(*fail)++;
			ids_str(a, sizeof(a), &L.set, d.reasons, d.nreasons);
			ids_str(b, sizeof(b), &L.set, d.errors, d.nerrors);
			printf("%s: request %d (%s): got %s reasons %s errors %s\n", file, idx, dn,
			       d.allow ? "allow" : "deny", a, b);
		}
		idx++;
	}
done:
	if (!setup_ok) {
		printf("%s: cannot load the test's policies, entities or schema\n", file);
		*fail += nreq > 0 ? nreq : 1;
	}
	free(p);
	free(dbuf);
	free(txt);
	cJSON_Delete(j);
	policy_arena_release(&L.a);
	return 0;
}

static int cmd_test(int argc, char **argv)
{
	const char *root = ".";
	int i, pass = 0, fail = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			root = argv[++i];
			continue;
		}
		run_test_file(root, argv[i], &pass, &fail);
	}
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}

/*
 * batch: reads a JSON array of cases (see scripts/cedar-wasm/reference.cjs)
 * and prints one JSON line per case, in the reference's format.
 */
static int cmd_batch(void)
{
	size_t len;
	char *txt = slurp("/dev/stdin", &len);
	cJSON *root, *c;

	if (!txt || !(root = cJSON_ParseWithLength(txt, len))) {
		fprintf(stderr, "batch: cannot read the cases\n");
		free(txt);
		return 2;
	}
	cJSON_ArrayForEach(c, root) {
		struct loaded L;
		struct policy_error err;
		struct policy_request req;
		struct policy_decision d;
		const cJSON *pol = cJSON_GetObjectItemCaseSensitive(c, "policies");
		const cJSON *ent = cJSON_GetObjectItemCaseSensitive(c, "entities");
		char *etxt = NULL;
		void *dbuf = NULL;

		memset(&L, 0, sizeof(L));
		memset(&err, 0, sizeof(err));
		arena_new(&L.a);
		if (!cJSON_IsString(pol) ||
		    policy_set_parse(&L.set, &L.a, pol->valuestring, strlen(pol->valuestring), &err)) {
			printf("{\"failure\":\"parse: %d:%d: ", err.line, err.col);
			for (const char *q = err.msg; *q; q++)
				if (*q != '"' && *q != '\\')
					putchar(*q);
			printf("\"}\n");
			goto next;
		}
		etxt = ent ? cJSON_PrintUnformatted(ent) : NULL;
		if (policy_entities_parse_json(&L.es, &L.a, etxt ? etxt : "[]",
					       etxt ? strlen(etxt) : 2, NULL, &err)) {
			printf("{\"failure\":\"entities: %s\"}\n", err.msg);
			goto next;
		}
		if (request_of(&L, c, &req, &err)) {
			printf("{\"failure\":\"request: %s\"}\n", err.msg);
			goto next;
		}
		dbuf = decision_new(&d, L.set.count);
		if (!dbuf || policy_decide(&L.set, &req, &d)) {
			printf("{\"failure\":\"decide\"}\n");
			goto next;
		}
		print_decision(&L.set, &d);
next:
		free(etxt);
		free(dbuf);
		policy_arena_release(&L.a);
	}
	cJSON_Delete(root);
	free(txt);
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* bench: loads once, then decides the requests round-robin, timing each. */
static int cmd_bench(int argc, char **argv)
{
	const char *pf = NULL, *ef = NULL, *rf = NULL;
	double seconds = 2, t0, *lat;
	struct loaded L;
	struct policy_request *reqs;
	struct policy_decision d;
	struct policy_error err;
	cJSON *rj;
	char *txt;
	size_t len, n = 0, cap = 1 << 22, nreq, i;
	unsigned long allows = 0, evals = 0;
	void *dbuf;

	for (int k = 0; k + 1 < argc; k += 2) {
		if (!strcmp(argv[k], "--policies"))
			pf = argv[k + 1];
		else if (!strcmp(argv[k], "--entities"))
			ef = argv[k + 1];
		else if (!strcmp(argv[k], "--requests"))
			rf = argv[k + 1];
		else if (!strcmp(argv[k], "--seconds"))
			seconds = atof(argv[k + 1]);
	}
	if (!pf || !ef || !rf) {
		fprintf(stderr, "usage: hearth-policy bench --policies F --entities F --requests F [--seconds S]\n");
		return 2;
	}
	memset(&L, 0, sizeof(L));
	memset(&err, 0, sizeof(err));
	arena_new(&L.a);
	if (load_policies(&L, pf) || load_entities(&L, ef))
		return 1;
	txt = slurp(rf, &len);
	if (!txt || !(rj = cJSON_ParseWithLength(txt, len)))
		return 1;
	nreq = (size_t)cJSON_GetArraySize(rj);
	reqs = calloc(nreq ? nreq : 1, sizeof(*reqs));
	lat = malloc(sizeof(double) * cap);
	if (!reqs || !lat)
		return 1;
	for (i = 0; i < nreq; i++)
		if (request_of(&L, cJSON_GetArrayItem(rj, (int)i), &reqs[i], &err)) {
			fprintf(stderr, "%s: request %zu: %s\n", rf, i, err.msg);
			return 1;
		}
	dbuf = decision_new(&d, L.set.count);
	if (!dbuf || !nreq)
		return 1;
	t0 = now_ns();
	while (n < cap && (n & 1023 || now_ns() - t0 < seconds * 1e9)) {
		double a = now_ns();

		policy_decide(&L.set, &reqs[n % nreq], &d);
		lat[n] = now_ns() - a;
		allows += d.allow;
		evals += d.evaluated;
		n++;
	}
	t0 = now_ns() - t0;
	qsort(lat, n, sizeof(*lat), dcmp);
	printf("{\"policies\":%u,\"decisions\":%zu,\"per_second\":%.0f,\"p50_us\":%.3f,"
	       "\"p99_us\":%.3f,\"allow\":%lu,\"conditions_per_decision\":%.2f}\n",
	       L.set.count, n, n / (t0 / 1e9), lat[n / 2] / 1e3, lat[(size_t)(n * 0.99)] / 1e3,
	       allows, (double)evals / (double)n);
	free(lat);
	free(reqs);
	free(dbuf);
	free(txt);
	cJSON_Delete(rj);
	policy_arena_release(&L.a);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "authorize"))
		return cmd_authorize(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "test"))
		return cmd_test(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "batch"))
		return cmd_batch();
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return cmd_bench(argc - 2, argv + 2);
	fprintf(stderr, "usage: hearth-policy check|authorize|test|batch|bench ...\n");
	return 2;
}
