/*
 * internal.h: the policy engine's private structures (expression trees,
 * evaluator, index, schema types) shared by the files under policy/.
 * Assumes policy.h; nothing here is part of the public interface.
 * Leaves out: everything a caller outside policy/ should touch.
 */
#ifndef HEARTH_POLICY_INTERNAL_H
#define HEARTH_POLICY_INTERNAL_H

#include "policy.h"

enum expr_kind {
	E_LIT,		/* lit */
	E_VAR,		/* var */
	E_NOT, E_NEG,	/* a */
	E_AND, E_OR,	/* a, b */
	E_IF,		/* a ? b : c */
	E_EQ, E_NE, E_LT, E_LE, E_GT, E_GE,
	E_ADD, E_SUB, E_MUL,
	E_IN,		/* a in b */
	E_HAS,		/* a has name */
	E_ATTR,		/* a.name, a["name"] */
	E_LIKE,		/* a like pat */
	E_IS,		/* a is name [in b] */
	E_SET,		/* [args] */
	E_RECORD,	/* {keys: args} */
	E_CALL,		/* fn(args); methods get the receiver as args[0] */
};

enum var_kind { VAR_PRINCIPAL, VAR_ACTION, VAR_RESOURCE, VAR_CONTEXT };

enum fn_kind {
	F_CONTAINS, F_CONTAINSALL, F_CONTAINSANY, F_ISEMPTY, F_GETTAG, F_HASTAG,
	F_IP, F_DECIMAL, F_DATETIME, F_DURATION,
	F_ISIPV4, F_ISIPV6, F_ISLOOPBACK, F_ISMULTICAST, F_ISINRANGE,
	F_DLT, F_DLE, F_DGT, F_DGE,
	F_OFFSET, F_DURATIONSINCE, F_TODATE, F_TOTIME,
	F_TOMS, F_TOSEC, F_TOMIN, F_TOHOURS, F_TODAYS,
	F_COUNT
};

struct fn_info {
	const char *name;
	uint8_t method; /* called as receiver.name(...) */
	uint8_t nargs;	/* including the receiver */
};
extern const struct fn_info policy_fns[F_COUNT];

/* Pattern of like: bytes; wild[i] marks a '*' wildcard at position i. */
struct pattern {
	const uint8_t *c;
	const uint8_t *wild;
	uint32_t n;
};

struct expr {
	uint8_t kind, var, fn;
	int line, col;
	struct expr *a, *b, *c;
	const char *name; /* E_HAS/E_ATTR attribute, E_IS type */
	uint32_t nlen;
	struct expr **args;	/* E_SET, E_RECORD, E_CALL */
	const char **keys;	/* E_RECORD, sorted with args */
	uint32_t *klens;
	uint32_t nargs;
	struct pattern pat;
	struct policy_value lit;
};

/* Evaluation errors (negative, distinct from errno values). */
enum eval_err {
	EV_OK = 0,
	EV_TYPE = -1001,
	EV_NOATTR = -1002,
	EV_NOENTITY = -1003,
	EV_OVERFLOW = -1004,
	EV_EXT = -1005,
	EV_NOMEM = -1006,
	EV_NOTAG = -1007,
	EV_DEPTH = -1008,
};
const char *policy_eval_strerror(int err);

struct eval_ctx {
	const struct policy_request *req;
	struct policy_arena *scratch;
	struct policy_value pv, av, rv; /* principal, action, resource values */
	int depth;
};

/* eval.c */
int policy_eval(struct eval_ctx *c, const struct expr *e, struct policy_value *out);
/* Is entity (a) in (b), over the store's transitive ancestors? */
bool policy_entity_in(const struct policy_entities *es, const struct policy_uid *a,
		      const struct policy_uid *b);
bool policy_scope_match(const struct policy_scope *s, const struct policy_uid *u,
			const struct policy_entities *es);
bool policy_like(const uint8_t *s, uint32_t n, const struct pattern *p);

/* value.c */
const struct policy_value *policy_record_get(const struct policy_value *rec,
					     const char *key, uint32_t klen);
/* Sorts fields by key; returns -EEXIST on a duplicate key. */
int policy_record_sort(struct policy_field *f, uint32_t n);
uint32_t policy_hash_bytes(const void *p, size_t n, uint32_t h);
int policy_keycmp(const char *a, uint32_t an, const char *b, uint32_t bn);
char *policy_strdup(struct policy_arena *a, const char *s, size_t n);

/* arena helpers */
#define ANEW(a, T) ((T *)policy_arena_alloc((a), sizeof(T)))
#define ANEWN(a, T, n) ((T *)policy_arena_alloc((a), sizeof(T) * (size_t)(n)))

/* index.c */
int policy_index_build(struct policy_set *set, struct policy_arena *a);
/*
 * Calls visit for every policy that may apply to req (each at most once,
 * using d's marks); the others cannot match their scope.
 */
typedef void (*policy_visit_fn)(const struct policy *p, void *arg);
void policy_index_candidates(const struct policy_set *set,
			     const struct policy_request *req,
			     struct policy_decision *d, policy_visit_fn visit,
			     void *arg);

/* schema.c: types */
enum ty_kind {
	T_NEVER, T_BOOL, T_TRUE, T_FALSE, T_LONG, T_STRING, T_SET, T_RECORD,
	T_ENTITY, T_EXT, T_ANYENTITY, T_ERROR,
	T_NAME /* unresolved name while parsing a schema */
};

struct ty_attr;

struct ty {
	uint8_t kind;
	uint8_t ext;  /* enum policy_vtype for T_EXT */
	uint8_t open; /* record may have more attributes */
	const struct ty *elem;	    /* T_SET */
	const struct ty_attr *attrs; /* T_RECORD */
	uint32_t nattrs;
	const char *name; /* T_ENTITY: entity type (full path); T_NAME: as written */
	uint32_t nlen;
	const char *ns;	  /* T_NAME: the namespace it was written in */
	uint32_t nslen;
	int line, col;	  /* T_NAME: where */
};

struct ty_attr {
	const char *key;
	uint32_t klen;
	uint8_t required;
	const struct ty *ty;
};

struct schema_entity {
	const char *name; /* full path */
	uint32_t nlen;
	const char **parents; /* entity type names (full) */
	uint32_t *plens;
	uint32_t nparents;
	const struct ty *attrs; /* T_RECORD */
	const struct ty *tags;	/* NULL if none */
	const char **enums;	/* enumerated ids, NULL if not an enum */
	uint32_t *elens;
	uint32_t nenums;
};

struct schema_action {
	struct policy_uid uid; /* type "NS::Action" */
	struct policy_uid *parents;
	uint32_t nparents;
	const char **ptypes, **rtypes;
	uint32_t *ptlens, *rtlens;
	uint32_t nptypes, nrtypes;
	const struct ty *context; /* T_RECORD */
	bool applies;		  /* has an appliesTo */
};

struct policy_schema {
	struct schema_entity *entities;
	uint32_t nentities;
	struct schema_action *actions;
	uint32_t nactions;
};

const struct schema_entity *policy_schema_entity(const struct policy_schema *s,
						 const char *name, uint32_t n);
const struct schema_action *policy_schema_action(const struct policy_schema *s,
						 const struct policy_uid *uid);
bool policy_schema_descends(const struct policy_schema *s, const char *child,
			    uint32_t cn, const char *anc, uint32_t an);
bool policy_schema_action_in(const struct policy_schema *s,
			     const struct policy_uid *a, const struct policy_uid *b);
const struct ty_attr *policy_ty_attr(const struct ty *rec, const char *key,
				     uint32_t klen);

#endif
