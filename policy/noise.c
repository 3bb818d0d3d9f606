/*
 * noise.c: Laplace noise for Hearth's @noise obligation, sampled by the
 * inverse CDF from a uniform built of 53 bits of a caller-supplied
 * cryptographic rng, and the uniform that sampling uses.
 *
 * Assumes: IEEE-754 doubles (53-bit significands) and libm's log().
 * Leaves out: the Gaussian mechanism and the snapping mechanism against
 * floating-point attacks on the low bits of Laplace samples (Mironov 2012):
 * outputs are doubles, so the very last bits are not protected.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "transform.h"

#define TWO52 4503599627370496.0

static int draw(policy_rng_fn rng, void *ctx, uint64_t *v)
{
	uint8_t b[8];
	int rc;

	if (!rng)
		return -EINVAL;
	rc = rng(ctx, b, sizeof(b));
	if (rc)
		return rc < 0 ? rc : -EIO;
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v = *v << 8 | b[i];
	return 0;
}

/* (m + 1/2) / 2^52 for 52-bit m: exact in a double, in (0, 1) open. */
static double open_uniform(uint64_t m)
{
	return ((double)m + 0.5) / TWO52;
}

int policy_noise_uniform(policy_rng_fn rng, void *ctx, double *u)
{
	uint64_t v;
	int rc;

	if (!u)
		return -EINVAL;
	rc = draw(rng, ctx, &v);
	if (rc)
		return rc;
	*u = open_uniform(v >> 12);
	return 0;
}

int policy_noise_laplace(policy_rng_fn rng, void *ctx, double scale, double *x)
{
	uint64_t v;
	double u;
	int rc;

	if (!x || !(scale > 0) || !isfinite(scale))
		return -EINVAL;
	rc = draw(rng, ctx, &v);
	if (rc)
		return rc;
	/*
	 * U = (s ? 1 - u/2 : u/2) is uniform in (0, 1) from 53 bits: the sign
	 * bit s picks the half, u = (m + 1/2)/2^52 the point inside it. The
	 * inverse CDF, b ln(2U) below 1/2 and -b ln(2(1 - U)) above, is then
	 * b ln(u) or -b ln(u): computed from u directly, so U is never rounded
	 * to 1 and log never sees 0 (u >= 2^-53).
	 */
	u = open_uniform((v >> 11) & ((1ULL << 52) - 1));
	*x = scale * log(u);
	if (v >> 63)
		*x = -*x;
	return 0;
}
