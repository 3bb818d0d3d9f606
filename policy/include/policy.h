/*
 * policy.h: Hearth's privacy-policy engine, the Cedar policy language (4.x).
 *
 * Assumes: standard C11 only (stdint/stddef/stdbool); the engine does no I/O
 * and never calls malloc: everything lives in caller-provided arenas (a
 * policy_arena may be given a grow callback by a host caller). JSON inputs
 * (entities, context, requests) go through cJSON, in policy/json.c only.
 * Leaves out: policy templates and template links, partial evaluation, the
 * JSON policy format, JSON schemas (only the .cedarschema text format).
 *
 * Errors: functions return 0 or a negative errno (-EINVAL bad input,
 * -ENOMEM arena full, -E2BIG a limit such as nesting depth exceeded).
 */
#ifndef HEARTH_POLICY_H
#define HEARTH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_DEPTH 64	/* nesting of expressions and JSON values */
#define POLICY_ERRLEN 192

/* ---- arena.c: bump allocator over caller memory ------------------------ */

struct policy_arena_chunk;
/*
 * An arena hands out memory from (buf, len). When full it calls grow (if
 * set) for a new chunk of at least n bytes; grow returns NULL to refuse.
 * The arena never frees chunks; the caller owns buf and whatever grow
 * returned (policy_arena_release hands each grown chunk to release).
 */
struct policy_arena {
	uint8_t *buf;
	size_t len, used;
	void *(*grow)(size_t n);
	void (*release)(void *p);
	struct policy_arena_chunk *chunks; /* grown chunks, newest first */
	size_t total;			   /* bytes handed out */
};

void policy_arena_init(struct policy_arena *a, void *buf, size_t len);
/* Returns 8-byte aligned zeroed memory owned by the arena, or NULL. */
void *policy_arena_alloc(struct policy_arena *a, size_t n);
/* Forgets every allocation (keeps grown chunks linked for release). */
void policy_arena_reset(struct policy_arena *a);
/* Gives every grown chunk back through a->release. */
void policy_arena_release(struct policy_arena *a);

/* ---- value.c: values, entity uids, extension types ---------------------- */

enum policy_vtype {
	PV_NONE = 0,
	PV_BOOL,
	PV_LONG,
	PV_STRING,
	PV_ENTITY,
	PV_SET,
	PV_RECORD,
	PV_DECIMAL,	/* l = value * 10^4 */
	PV_IP,		/* ip.addr, ip.prefix, ip.v6 */
	PV_DATETIME,	/* l = milliseconds since the Unix epoch */
	PV_DURATION,	/* l = milliseconds */
};

/* An entity uid: type (a path like "A::B") and id; bytes, not C strings. */
struct policy_uid {
	const char *type;
	const char *id;
	uint32_t tlen, ilen;
	uint32_t hash;
};

struct policy_field;

struct policy_value {
	uint8_t type; /* enum policy_vtype */
	uint32_t n;   /* string length, set/record element count */
	union {
		bool b;
		int64_t l;
		const char *s;
		const struct policy_uid *uid;
		const struct policy_value *set;
		const struct policy_field *rec; /* sorted by key */
		struct {
			uint8_t addr[16]; /* v4 uses addr[0..3] */
			uint8_t prefix;
			uint8_t v6;
		} ip;
	} u;
};

struct policy_field {
	const char *key;
	uint32_t klen;
	struct policy_value v;
};

/* ---- entities.c: the entity store ---------------------------------------- */

struct policy_entity {
	struct policy_uid uid;
	struct policy_value attrs; /* PV_RECORD */
	struct policy_value tags;  /* PV_RECORD (possibly empty) */
	const struct policy_uid **parents;   /* direct, as given */
	uint32_t nparents;
	const struct policy_uid **ancestors; /* transitive closure */
	uint32_t nancestors;
};

struct policy_entities {
	struct policy_entity **tab; /* open addressing, power of two */
	uint32_t cap, count;
};

/*
 * Starts an empty store with room for at least n entities (the table comes
 * from arena a; entities added later must fit: policy_entities_add returns
 * -ENOSPC past 3/4 of the capacity).
 */
int policy_entities_init(struct policy_entities *es, struct policy_arena *a,
			 uint32_t n);
/* Adds (e), which must live as long as the store. -EEXIST on a duplicate. */
int policy_entities_add(struct policy_entities *es, struct policy_entity *e);
const struct policy_entity *policy_entities_find(const struct policy_entities *es,
						 const struct policy_uid *uid);
/* Computes every entity's transitive ancestors (memory from a); -ELOOP on a cycle. */
int policy_entities_close(struct policy_entities *es, struct policy_arena *a);

/* ---- parser.c: policies ----------------------------------------------------- */

struct policy_error {
	int line, col; /* 1-based; 0 when not about a text position */
	char msg[POLICY_ERRLEN];
};

struct policy_annotation {
	const char *key, *value; /* NUL-terminated copies (value unescaped) */
	uint32_t vlen;
	int line, col;		 /* position of the value's opening quote */
};

struct policy_obligations;
struct expr;

enum policy_scope_op {
	SCOPE_ANY = 0,
	SCOPE_EQ,	/* == uid */
	SCOPE_IN,	/* in uid */
	SCOPE_IS,	/* is type */
	SCOPE_IS_IN,	/* is type in uid */
	SCOPE_IN_LIST,	/* action in [uids] */
};

struct policy_scope {
	uint8_t op;
	struct policy_uid uid;
	const char *type; /* for is */
	uint32_t tlen;
	const struct policy_uid *list; /* for action in [...] */
	uint32_t nlist;
	int line, col;
};

enum policy_effect { POLICY_PERMIT = 0, POLICY_FORBID = 1 };

struct policy {
	char id[24];	/* "policy<N>" */
	uint32_t index; /* position in the set */
	uint8_t effect;
	struct policy_scope principal, action, resource;
	struct expr *cond; /* NULL when there is no when/unless */
	struct policy_annotation *annos;
	uint32_t nannos;
	struct policy_obligations *obligations; /* NULL unless a permit has any */
	int line, col;
};

struct policy_index;

struct policy_set {
	struct policy **policies;
	uint32_t count;
	struct policy_index *index; /* built by policy_set_parse */
	struct policy_arena *arena;
};

/*
 * Parses every policy in text (len bytes) into set, naming them policy0,
 * policy1, ...; memory comes from arena a, which must outlive the set.
 * Parses obligations from the annotations of permit policies and indexes
 * the set by scope. On error fills err (line:column) and returns -EINVAL.
 */
int policy_set_parse(struct policy_set *set, struct policy_arena *a,
		     const char *text, size_t len, struct policy_error *err);

/* ---- authorize.c: decisions ------------------------------------------------- */

struct policy_request {
	struct policy_uid principal, action, resource;
	struct policy_value context; /* PV_RECORD */
	const struct policy_entities *entities;
};

/*
 * A decision, caller-allocated with policy_decision_init: reasons and
 * errors are indices into the set (ascending); obligations[i] belongs to
 * reasons[i] (NULL if that permit has none; empty for a deny). scratch is
 * the evaluation memory for sets/records built while evaluating.
 */
struct policy_decision {
	bool allow;
	uint32_t *reasons, nreasons;
	uint32_t *errors, nerrors;
	const struct policy_obligations **obligations;
	uint32_t cap; /* capacity of reasons/errors/obligations */
	struct policy_arena scratch;
	uint32_t *mark; /* dedup marks, one per policy */
	uint32_t markcap, gen;
	uint32_t evaluated; /* conditions evaluated for the last decision */
};

/*
 * Gives the decision its memory: buf of len bytes (a few KB plus 16 bytes
 * per policy is plenty). The decision keeps pointers into buf.
 * Returns -ENOMEM if len cannot hold the per-policy arrays for maxpolicies.
 */
int policy_decision_init(struct policy_decision *d, void *buf, size_t len,
			 uint32_t maxpolicies);

/*
 * Decides req against set: forbid overrides permit, default deny. Pure and
 * deterministic; allocates nothing outside out's memory. Returns 0, or
 * -ENOSPC if out was initialised for fewer policies than the set has.
 */
int policy_decide(const struct policy_set *set, const struct policy_request *req,
		  struct policy_decision *out);

/* ---- schema.c / validate.c --------------------------------------------------- */

struct policy_schema;

/* Parses a .cedarschema text; memory from a. -EINVAL with err on error. */
int policy_schema_parse(struct policy_schema **out, struct policy_arena *a,
			const char *text, size_t len, struct policy_error *err);

/*
 * Adds the schema's action entities (with their hierarchy) to es. Call
 * before policy_entities_close.
 */
int policy_schema_add_actions(const struct policy_schema *s,
			      struct policy_entities *es, struct policy_arena *a);

/*
 * Strict validation of set against schema s: calls report once per error
 * (policy, line, column, message); returns the number of errors (0 valid),
 * or a negative errno.
 */
typedef void (*policy_report_fn)(void *arg, const struct policy *p, int line,
				 int col, const char *msg);
int policy_set_validate(const struct policy_set *set,
			const struct policy_schema *s, policy_report_fn report,
			void *arg);

/* ---- json.c: Cedar's JSON formats (via cJSON) ------------------------------- */

/*
 * Parses an entities JSON array into es (initialised here), adding the
 * schema's actions if s is given and parsing attributes with its types.
 * Memory from a; the JSON text is not referenced afterwards.
 */
int policy_entities_parse_json(struct policy_entities *es, struct policy_arena *a,
			       const char *json, size_t len,
			       const struct policy_schema *s,
			       struct policy_error *err);

/*
 * Parses a JSON value (a cJSON item, passed as void * so this header does
 * not need cJSON.h) as a context record, with the schema's context type for
 * action when s is given. Memory from a.
 */
int policy_context_from_cjson(struct policy_value *out, struct policy_arena *a,
			      const void *cjson, const struct policy_schema *s,
			      const struct policy_uid *action,
			      struct policy_error *err);
/* Parses {"type": T, "id": I} or {"__entity": {...}} (cJSON item) into uid. */
int policy_uid_from_cjson(struct policy_uid *uid, struct policy_arena *a,
			  const void *cjson, struct policy_error *err);

/* ---- value.c helpers used by callers -------------------------------------- */

void policy_uid_hash(struct policy_uid *uid);
bool policy_uid_eq(const struct policy_uid *a, const struct policy_uid *b);
bool policy_value_eq(const struct policy_value *a, const struct policy_value *b);
/* Parsers for extension literals; 0 or -EINVAL. */
int policy_decimal_parse(const char *s, size_t n, int64_t *out);
int policy_ip_parse(const char *s, size_t n, struct policy_value *out);
int policy_datetime_parse(const char *s, size_t n, int64_t *out);
int policy_duration_parse(const char *s, size_t n, int64_t *out);

#endif
