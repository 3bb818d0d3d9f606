/*
 * obligations.h: Hearth's privacy obligations, the conditions a permit policy
 * attaches to a release through its annotations (@transform, @aggregate,
 * @noise, @budget, @ask, @rate), parsed into a flat, fixed-size, composable
 * set. The syntax and the composition rules are in docs/policy.md,
 * "## Privacy obligations".
 *
 * Assumes: C11 with standard headers only; no I/O and no allocation (a set
 * is plain data: copy it with memcpy, keep it in an arena). Field names are
 * the top-level keys of the JSON records of a data category.
 * Leaves out: applying the obligations (transform.h), privacy-budget state
 * (budget.h), nested field paths, noise mechanisms other than Laplace.
 *
 * Errors: 0 or a negative errno. Parse and check errors are -EINVAL with a
 * byte offset inside the annotation's value and a message; a value over a
 * bound (too many fields, a name too long) is also -EINVAL, with its own
 * message naming the bound.
 */
#ifndef HEARTH_POLICY_OBLIGATIONS_H
#define HEARTH_POLICY_OBLIGATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_OBL_NAME_MAX 32	    /* a field name, with its NUL */
#define POLICY_OBL_MAX_FIELDS 24    /* fields named by @transform, per set */
#define POLICY_OBL_MAX_AGG 8	    /* aggregate functions */
#define POLICY_OBL_MAX_GROUP 4	    /* group-by fields */
#define POLICY_OBL_MAX_NOISE 8	    /* noised fields of raw records */
#define POLICY_OBL_MAX_WINDOWS 4    /* @budget (and, separately, @rate) limits */
#define POLICY_OBL_VALUE_MAX 1024   /* bytes of one annotation value */
#define POLICY_OBL_MAX_LIMIT 1000000 /* limit(N), rate N */

/* Which annotation a field reference came from (for error reports). */
enum policy_obl_src {
	POLICY_OBL_SRC_NONE = 0,
	POLICY_OBL_SRC_TRANSFORM,
	POLICY_OBL_SRC_AGGREGATE,
	POLICY_OBL_SRC_NOISE,
	POLICY_OBL_SRC_BUDGET,
	POLICY_OBL_SRC_ASK,
	POLICY_OBL_SRC_RATE,
};

/* Per-field actions of @transform (bits of policy_obl_field.actions). */
#define POLICY_OBL_KEEP 0x01	 /* named by keep(...) */
#define POLICY_OBL_DROP 0x02	 /* key removed */
#define POLICY_OBL_REDACT 0x04	 /* value replaced by null */
#define POLICY_OBL_PSEUDO 0x08	 /* value replaced by its keyed pseudonym */

/* Generalizations, coarsest last within a kind's parameter order. */
enum policy_obl_gen {
	POLICY_GEN_NONE = 0,
	POLICY_GEN_TIME,      /* arg: POLICY_TIME_* unit */
	POLICY_GEN_PRECISION, /* arg: decimal digits kept, 0..8 */
	POLICY_GEN_BUCKET,    /* arg: bucket width, > 0 */
	POLICY_GEN_PREFIX,    /* arg: code points kept, 0..256 */
};

enum policy_time_unit {
	POLICY_TIME_HOUR = 1,
	POLICY_TIME_DAY,
	POLICY_TIME_WEEK,
	POLICY_TIME_MONTH,
	POLICY_TIME_YEAR,
};

enum policy_agg_fn {
	POLICY_AGG_COUNT = 1,
	POLICY_AGG_SUM,
	POLICY_AGG_MEAN,
};

/* A field reference and where it was written (annotation, byte offset). */
struct policy_obl_name {
	char name[POLICY_OBL_NAME_MAX];
	uint8_t src;	 /* enum policy_obl_src */
	uint16_t offset; /* inside that annotation's value */
};

struct policy_obl_field {
	struct policy_obl_name f;
	uint8_t actions; /* POLICY_OBL_* bits */
	uint8_t gen;	 /* enum policy_obl_gen */
	double gen_arg;
};

struct policy_obl_aggfn {
	uint8_t fn;		  /* enum policy_agg_fn */
	struct policy_obl_name f; /* empty name for count */
};

/* A limit per tumbling window: at most `limit` per `window` seconds. */
struct policy_obl_window {
	double limit;
	int64_t window;
};

struct policy_obligations {
	bool conflict;	  /* composition found no release satisfying all */
	bool has_keep;	  /* fields without POLICY_OBL_KEEP are dropped */
	uint8_t nfields;
	struct policy_obl_field fields[POLICY_OBL_MAX_FIELDS];

	double sample;	  /* keep probability in (0, 1]; 0 = no sampling */
	uint32_t limit;	  /* max records (or groups) out; 0 = no limit */
	uint16_t limit_offset, sample_offset;

	bool aggregate;
	uint32_t k;	  /* groups with fewer records are suppressed */
	uint8_t nagg, ngroup;
	struct policy_obl_aggfn agg[POLICY_OBL_MAX_AGG];
	struct policy_obl_name group[POLICY_OBL_MAX_GROUP];

	bool noise;	  /* Laplace noise */
	double epsilon, sensitivity;
	uint8_t nnoise;
	struct policy_obl_name noise_fields[POLICY_OBL_MAX_NOISE];
	uint16_t noise_offset;

	uint8_t nbudget, nrate;
	struct policy_obl_window budget[POLICY_OBL_MAX_WINDOWS]; /* epsilon */
	struct policy_obl_window rate[POLICY_OBL_MAX_WINDOWS];	  /* releases */
	uint16_t budget_offset;

	uint8_t ask; /* 0 none, 1 owner once per service, 2 owner every release */
};

/* ---- obligations.c ------------------------------------------------------ */

/* An empty set: no obligation (a release of the records as they are). */
void policy_obligations_init(struct policy_obligations *o);
bool policy_obligations_empty(const struct policy_obligations *o);

/*
 * Parses the annotation `@key("value")` of a permit policy (value already
 * unescaped, NUL-terminated) and composes it into *out (stricter wins, as
 * policy_obligations_compose). key is one of transform, aggregate, noise,
 * budget, ask, rate; any other key returns 1 ("not an obligation") and
 * touches nothing. Returns 0 on success; -EINVAL with *err_offset = byte
 * offset inside value of the problem and a message in err (errlen may be 0;
 * err_offset may be NULL), *out unchanged.
 */
int policy_obligation_parse(const char *key, const char *value, struct policy_obligations *out,
			    size_t *err_offset, char *err, size_t errlen);

/*
 * Composes the obligations of several determining permits into acc: every
 * constraint of either set holds in the result (the stricter wins: union of
 * drops, coarser generalization, smaller k ... see docs/policy.md).
 * Returns 0; -EPERM when no release can satisfy both (two aggregates with no
 * common function): acc is then marked conflicting and every release under
 * it fails; -EINVAL when a bound (fields, windows) would be exceeded, acc
 * then unchanged (the caller must not release).
 */
int policy_obligations_compose(struct policy_obligations *acc, const struct policy_obligations *o);

/*
 * Load-time check of one policy's set: every field it names must be one of
 * fields[0..n) (the category's record fields; fields == NULL skips this
 * part), and the set must be consistent (@budget needs @noise; @noise on raw
 * records names its fields; no conflict). Returns 0 or -EINVAL with *src =
 * the annotation at fault (enum policy_obl_src), *err_offset inside its
 * value and a message. src and err_offset may be NULL.
 */
int policy_obligations_check_fields(const struct policy_obligations *o, const char *const *fields,
				    size_t n, int *src, size_t *err_offset, char *err,
				    size_t errlen);

/* The annotation key of a policy_obl_src ("transform", ...; "" for none). */
const char *policy_obligation_src_name(int src);

/*
 * The epsilon one release under o spends: epsilon per noised value kind
 * (each aggregate function, or each noised field of raw records); 0 without
 * @noise.
 */
double policy_obligations_epsilon(const struct policy_obligations *o);

#endif /* HEARTH_POLICY_OBLIGATIONS_H */
