/*
 * json.c: Cedar's JSON formats for entities, entity uids and context,
 * through cJSON (Debian's cjson source). Without a schema, values follow
 * Cedar's canonical form ({"__entity": {...}}, {"__extn": {"fn", "arg"}});
 * with a schema, attributes are parsed with their declared types (a string
 * becomes a decimal/ip/datetime/duration, {"type","id"} an entity uid) and
 * must conform (no undeclared attribute, every required one present).
 * Assumes cJSON's doubles: integers beyond +-2^53 are rejected, since they
 * cannot be read exactly. Memory comes from the caller's arena; the cJSON
 * tree is freed before returning.
 * Leaves out: the deprecated __expr escape (rejected, as Cedar does).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "internal.h"

struct jctx {
	struct policy_arena *a;
	struct policy_error *err;
	const struct policy_schema *s;
};

static int jfail(struct jctx *c, const char *fmt, const char *arg)
{
	if (c->err && !c->err->msg[0])
		snprintf(c->err->msg, sizeof(c->err->msg), fmt, arg ? arg : "");
	return -EINVAL;
}

static int str_of(struct jctx *c, const cJSON *j, const char **s, uint32_t *n)
{
	size_t len;

	if (!cJSON_IsString(j) || !j->valuestring)
		return jfail(c, "expected a string%s", "");
	len = strlen(j->valuestring);
	*s = policy_strdup(c->a, j->valuestring, len);
	*n = (uint32_t)len;
	return *s ? 0 : -ENOMEM;
}

static int uid_of(struct jctx *c, const cJSON *j, struct policy_uid *u, bool implicit)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "__entity");
	const cJSON *t, *id;
	int r;

	if (!cJSON_IsObject(j))
		return jfail(c, "expected an entity uid object%s", "");
	if (e) {
		if (cJSON_GetArraySize(j) != 1)
			return jfail(c, "unexpected keys next to __entity%s", "");
		j = e;
	} else if (!implicit) {
		return jfail(c, "expected an __entity escape%s", "");
	}
	t = cJSON_GetObjectItemCaseSensitive(j, "type");
	id = cJSON_GetObjectItemCaseSensitive(j, "id");
	if (!cJSON_IsString(t) || !cJSON_IsString(id) || cJSON_GetArraySize(j) != 2)
		return jfail(c, "an entity uid needs exactly \"type\" and \"id\" strings%s", "");
	if ((r = str_of(c, t, &u->type, &u->tlen)) || (r = str_of(c, id, &u->id, &u->ilen)))
		return r;
	if (!u->tlen)
		return jfail(c, "empty entity type%s", "");
	policy_uid_hash(u);
	return 0;
}

static int ext_of(struct jctx *c, const char *fn, const char *arg, int want,
		  struct policy_value *out)
{
	size_t n = strlen(arg);
	int64_t l;

	memset(out, 0, sizeof(*out));
	if (!strcmp(fn, "ip") || !strcmp(fn, "ipaddr")) {
		if (want && want != PV_IP)
			return jfail(c, "extension type mismatch: %s", fn);
		return policy_ip_parse(arg, n, out) ? jfail(c, "bad ip literal \"%s\"", arg) : 0;
	}
	if (!strcmp(fn, "decimal")) {
		if (want && want != PV_DECIMAL)
			return jfail(c, "extension type mismatch: %s", fn);
		if (policy_decimal_parse(arg, n, &l))
			return jfail(c, "bad decimal literal \"%s\"", arg);
		out->type = PV_DECIMAL;
	} else if (!strcmp(fn, "datetime")) {
		if (want && want != PV_DATETIME)
			return jfail(c, "extension type mismatch: %s", fn);
		if (policy_datetime_parse(arg, n, &l))
			return jfail(c, "bad datetime literal \"%s\"", arg);
		out->type = PV_DATETIME;
	} else if (!strcmp(fn, "duration")) {
		if (want && want != PV_DURATION)
			return jfail(c, "extension type mismatch: %s", fn);
		if (policy_duration_parse(arg, n, &l))
			return jfail(c, "bad duration literal \"%s\"", arg);
		out->type = PV_DURATION;
	} else {
		return jfail(c, "unknown extension function \"%s\"", fn);
	}
	out->u.l = l;
	return 0;
}

static int extn_obj(struct jctx *c, const cJSON *j, int want, struct policy_value *out)
{
	const cJSON *fn = cJSON_GetObjectItemCaseSensitive(j, "fn");
	const cJSON *arg = cJSON_GetObjectItemCaseSensitive(j, "arg");

	if (!cJSON_IsString(fn) || !cJSON_IsString(arg))
		return jfail(c, "an __extn needs \"fn\" and \"arg\" strings%s", "");
	return ext_of(c, fn->valuestring, arg->valuestring, want, out);
}

static int val_of(struct jctx *c, const cJSON *j, const struct ty *t, struct policy_value *out,
		  int depth);

static int record_of(struct jctx *c, const cJSON *j, const struct ty *t,
		     struct policy_value *out, int depth)
{
	int n = cJSON_GetArraySize(j), i = 0, r;
	struct policy_field *f = ANEWN(c->a, struct policy_field, n ? n : 1);
	const cJSON *it;
	uint32_t k;

	if (!f)
		return -ENOMEM;
	cJSON_ArrayForEach(it, j) {
		const struct ty *at = NULL;

		f[i].klen = (uint32_t)strlen(it->string);
		f[i].key = policy_strdup(c->a, it->string, f[i].klen);
		if (!f[i].key)
			return -ENOMEM;
		if (t) {
			const struct ty_attr *ta = policy_ty_attr(t, f[i].key, f[i].klen);

			if (!ta && !t->open)
				return jfail(c, "attribute \"%s\" is not declared in the schema", it->string);
			at = ta ? ta->ty : NULL;
		}
		if ((r = val_of(c, it, at, &f[i].v, depth + 1)))
			return r;
		i++;
	}
	if (policy_record_sort(f, (uint32_t)n))
		return jfail(c, "duplicate key in a JSON object%s", "");
	if (t) {
		for (k = 0; k < t->nattrs; k++) {
			const struct ty_attr *ta = &t->attrs[k];
			struct policy_value rec = { .type = PV_RECORD, .n = (uint32_t)n, .u.rec = f };

			if (ta->required && !policy_record_get(&rec, ta->key, ta->klen))
				return jfail(c, "required attribute \"%s\" is missing", ta->key);
		}
	}
	out->type = PV_RECORD;
	out->n = (uint32_t)n;
	out->u.rec = f;
	return 0;
}

static int val_of(struct jctx *c, const cJSON *j, const struct ty *t, struct policy_value *out,
		  int depth)
{
	memset(out, 0, sizeof(*out));
	if (depth > POLICY_MAX_DEPTH)
		return jfail(c, "JSON value nested too deeply%s", "");
	if (t && (t->kind == T_NEVER || t->kind == T_ERROR))
		t = NULL;
	if (t && t->kind == T_EXT) {
		if (cJSON_IsString(j))
			return ext_of(c, t->ext == PV_IP ? "ip" : t->ext == PV_DECIMAL ? "decimal" :
					 t->ext == PV_DATETIME ? "datetime" : "duration",
				      j->valuestring, t->ext, out);
		if (cJSON_IsObject(j)) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "__extn");

			return extn_obj(c, x ? x : j, t->ext, out);
		}
		return jfail(c, "expected an extension value%s", "");
	}
	if (t && (t->kind == T_ENTITY || t->kind == T_ANYENTITY)) {
		struct policy_uid *u = ANEW(c->a, struct policy_uid);
		int r;

		if (!u)
			return -ENOMEM;
		if ((r = uid_of(c, j, u, true)))
			return r;
		if (t->kind == T_ENTITY && policy_keycmp(u->type, u->tlen, t->name, t->nlen))
			return jfail(c, "entity of type \"%s\" where the schema wants another type", u->type);
		out->type = PV_ENTITY;
		out->u.uid = u;
		return 0;
	}
	if (cJSON_IsBool(j)) {
		if (t && t->kind != T_BOOL && t->kind != T_TRUE && t->kind != T_FALSE)
			return jfail(c, "unexpected boolean%s", "");
		out->type = PV_BOOL;
		out->u.b = cJSON_IsTrue(j);
		return 0;
	}
	if (cJSON_IsNumber(j)) {
		double d = j->valuedouble;

		if (t && t->kind != T_LONG)
			return jfail(c, "unexpected number%s", "");
		if (d != (double)(int64_t)d || d > 9007199254740992.0 || d < -9007199254740992.0)
			return jfail(c, "numbers must be integers within +-2^53%s", "");
		out->type = PV_LONG;
		out->u.l = (int64_t)d;
		return 0;
	}
	if (cJSON_IsString(j)) {
		if (t && t->kind != T_STRING)
			return jfail(c, "unexpected string \"%s\"", j->valuestring);
		out->type = PV_STRING;
		return str_of(c, j, &out->u.s, &out->n);
	}
	if (cJSON_IsArray(j)) {
		int n = cJSON_GetArraySize(j), i = 0, r;
		struct policy_value *v = ANEWN(c->a, struct policy_value, n ? n : 1);
		const cJSON *it;

		if (t && t->kind != T_SET)
			return jfail(c, "unexpected array%s", "");
		if (!v)
			return -ENOMEM;
		cJSON_ArrayForEach(it, j) {
			if ((r = val_of(c, it, t ? t->elem : NULL, &v[i++], depth + 1)))
				return r;
		}
		out->type = PV_SET;
		out->n = (uint32_t)n;
		out->u.set = v;
		return 0;
	}
	if (cJSON_IsObject(j)) {
		if (t && t->kind != T_RECORD)
			return jfail(c, "unexpected object%s", "");
		if (!t && cJSON_GetArraySize(j) == 1) {
			const cJSON *x = j->child;

			if (!strcmp(x->string, "__entity")) {
				struct policy_uid *u = ANEW(c->a, struct policy_uid);
				int r;

				if (!u)
					return -ENOMEM;
				if ((r = uid_of(c, j, u, false)))
					return r;
				out->type = PV_ENTITY;
				out->u.uid = u;
				return 0;
			}
			if (!strcmp(x->string, "__extn"))
				return extn_obj(c, x, 0, out);
			if (!strcmp(x->string, "__expr"))
				return jfail(c, "the __expr escape is not supported%s", "");
		}
		return record_of(c, j, t, out, depth);
	}
	return jfail(c, "unexpected JSON value (null?)%s", "");
}

int policy_uid_from_cjson(struct policy_uid *uid, struct policy_arena *a, const void *cjson,
			  struct policy_error *err)
{
	struct jctx c = { a, err, NULL };

	memset(uid, 0, sizeof(*uid));
	return uid_of(&c, cjson, uid, true);
}

int policy_context_from_cjson(struct policy_value *out, struct policy_arena *a,
			      const void *cjson, const struct policy_schema *s,
			      const struct policy_uid *action, struct policy_error *err)
{
	struct jctx c = { a, err, s };
	const struct ty *t = NULL;
	const cJSON *j = cjson;

	if (!j || cJSON_IsNull(j)) {
		memset(out, 0, sizeof(*out));
		out->type = PV_RECORD;
		return 0;
	}
	if (!cJSON_IsObject(j))
		return jfail(&c, "the context must be a JSON object%s", "");
	if (s && action) {
		const struct schema_action *sa = policy_schema_action(s, action);

		if (!sa)
			return jfail(&c, "action \"%s\" is not declared in the schema", action->id);
		t = sa->context;
	}
	return record_of(&c, j, t, out, 0);
}

int policy_entities_parse_json(struct policy_entities *es, struct policy_arena *a,
			       const char *json, size_t len, const struct policy_schema *s,
			       struct policy_error *err)
{
	struct jctx c = { a, err, s };
	cJSON *root = cJSON_ParseWithLength(json, len), *it;
	uint32_t n;
	int r = 0;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!root)
		return jfail(&c, "entities: not valid JSON%s", "");
	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return jfail(&c, "entities: expected a JSON array%s", "");
	}
	n = (uint32_t)cJSON_GetArraySize(root) + (s ? s->nactions : 0);
	if ((r = policy_entities_init(es, a, n)))
		goto out;
	if (s && (r = policy_schema_add_actions(s, es, a)))
		goto out;
	cJSON_ArrayForEach(it, root) {
		struct policy_entity *e = ANEW(a, struct policy_entity);
		const cJSON *uid, *attrs, *parents, *tags, *p;
		const struct schema_entity *se = NULL;
		uint32_t i = 0;

		if (!e) {
			r = -ENOMEM;
			goto out;
		}
		uid = cJSON_GetObjectItemCaseSensitive(it, "uid");
		attrs = cJSON_GetObjectItemCaseSensitive(it, "attrs");
		parents = cJSON_GetObjectItemCaseSensitive(it, "parents");
		tags = cJSON_GetObjectItemCaseSensitive(it, "tags");
		if (!uid || (r = uid_of(&c, uid, &e->uid, true))) {
			r = r ? r : jfail(&c, "entity without \"uid\"%s", "");
			goto out;
		}
		if (s) {
			if (policy_schema_action(s, &e->uid))
				continue; /* the schema defines actions */
			se = policy_schema_entity(s, e->uid.type, e->uid.tlen);
			if (!se) {
				r = jfail(&c, "entity type \"%s\" is not declared in the schema", e->uid.type);
				goto out;
			}
			if (se->enums) {
				uint32_t k;

				for (k = 0; k < se->nenums; k++)
					if (!policy_keycmp(se->enums[k], se->elens[k], e->uid.id, e->uid.ilen))
						break;
				if (k == se->nenums) {
					r = jfail(&c, "\"%s\" is not one of the enumerated ids", e->uid.id);
					goto out;
				}
			}
		}
		if (attrs && !cJSON_IsNull(attrs)) {
			if (!cJSON_IsObject(attrs)) {
				r = jfail(&c, "\"attrs\" must be an object%s", "");
				goto out;
			}
			if ((r = record_of(&c, attrs, se ? se->attrs : NULL, &e->attrs, 1)))
				goto out;
		} else {
			static const struct policy_field nofields[1];
			struct policy_value empty = { .type = PV_RECORD, .u.rec = nofields };

			if (se && se->attrs && (r = record_of(&c, &(cJSON){ .type = cJSON_Object },
							      se->attrs, &e->attrs, 1)))
				goto out;
			if (!se || !se->attrs)
				e->attrs = empty;
		}
		e->tags.type = PV_RECORD;
		if (tags && !cJSON_IsNull(tags)) {
			struct ty rec;

			if (!cJSON_IsObject(tags)) {
				r = jfail(&c, "\"tags\" must be an object%s", "");
				goto out;
			}
			if (s && se && !se->tags && cJSON_GetArraySize(tags) > 0) {
				r = jfail(&c, "entity type \"%s\" has no tags in the schema", e->uid.type);
				goto out;
			}
			memset(&rec, 0, sizeof(rec));
			rec.kind = T_RECORD;
			rec.open = 1;
			if (se && se->tags) {
				/* every tag has the declared type: parse one by one */
				int nt = cJSON_GetArraySize(tags), k = 0;
				struct policy_field *f = ANEWN(a, struct policy_field, nt ? nt : 1);
				const cJSON *tg;

				if (!f) {
					r = -ENOMEM;
					goto out;
				}
				cJSON_ArrayForEach(tg, tags) {
					f[k].klen = (uint32_t)strlen(tg->string);
					f[k].key = policy_strdup(a, tg->string, f[k].klen);
					if (!f[k].key) {
						r = -ENOMEM;
						goto out;
					}
					if ((r = val_of(&c, tg, se->tags, &f[k].v, 1)))
						goto out;
					k++;
				}
				if (policy_record_sort(f, (uint32_t)nt)) {
					r = jfail(&c, "duplicate tag%s", "");
					goto out;
				}
				e->tags.n = (uint32_t)nt;
				e->tags.u.rec = f;
			} else if ((r = record_of(&c, tags, NULL, &e->tags, 1))) {
				goto out;
			}
		}
		if (parents && !cJSON_IsNull(parents)) {
			struct policy_uid *pu;

			if (!cJSON_IsArray(parents)) {
				r = jfail(&c, "\"parents\" must be an array%s", "");
				goto out;
			}
			e->nparents = (uint32_t)cJSON_GetArraySize(parents);
			e->parents = ANEWN(a, const struct policy_uid *, e->nparents ? e->nparents : 1);
			pu = ANEWN(a, struct policy_uid, e->nparents ? e->nparents : 1);
			if (!e->parents || !pu) {
				r = -ENOMEM;
				goto out;
			}
			cJSON_ArrayForEach(p, parents) {
				if ((r = uid_of(&c, p, &pu[i], true)))
					goto out;
				if (se && !policy_schema_descends(s, e->uid.type, e->uid.tlen,
								  pu[i].type, pu[i].tlen)) {
					r = jfail(&c, "entity type \"%s\" cannot have this parent type", e->uid.type);
					goto out;
				}
				e->parents[i] = &pu[i];
				i++;
			}
		}
		r = policy_entities_add(es, e);
		if (r == -EEXIST) {
			r = jfail(&c, "duplicate entity \"%s\"", e->uid.id);
			goto out;
		}
		if (r)
			goto out;
	}
	r = policy_entities_close(es, a);
	if (r == -ELOOP)
		r = jfail(&c, "the entity hierarchy has a cycle%s", "");
out:
	cJSON_Delete(root);
	return r;
}
