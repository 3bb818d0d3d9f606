/*
 * seed_rng.c: the rng of last resort: a ChaCha20 generator keyed from the
 * DT's /chosen/rng-seed, for machines whose only entropy is what the loader
 * hands over (a Xen domU: the toolstack writes 128 bytes from dom0's
 * kernel pool; QEMU's virt writes 32). Used only when no rng device bound.
 * The seed is compressed into a 256-bit key by ChaCha20 itself (each 32-byte
 * chunk is mixed into the key, which is then replaced by a block of output);
 * every read rekeys from the stream afterwards (fast key erasure), so an
 * attacker who reads memory later cannot reconstruct past output.
 * Assumes the loader's seed is secret and fresh per boot. Leaves out:
 * reseeding (nothing else feeds it), seeds shorter than 32 bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include <board.h>

#include "core.h"

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QR(a, b, c, d)                                                    \
	(a += b, d ^= a, d = ROTL(d, 16), c += d, b ^= c, b = ROTL(b, 12), \
	 a += b, d ^= a, d = ROTL(d, 8), c += d, b ^= c, b = ROTL(b, 7))

static uint32_t key[8];
static uint64_t counter;

static void block(uint8_t out[64])
{
	uint32_t s[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
	memcpy(&s[4], key, 32);
	s[12] = (uint32_t)counter;
	s[13] = (uint32_t)(counter >> 32);
	s[14] = s[15] = 0;
	counter++;
	uint32_t x[16];
	memcpy(x, s, sizeof(x));
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t v = x[i] + s[i];
		out[4 * i] = (uint8_t)v;
		out[4 * i + 1] = (uint8_t)(v >> 8);
		out[4 * i + 2] = (uint8_t)(v >> 16);
		out[4 * i + 3] = (uint8_t)(v >> 24);
	}
	memset(x, 0, sizeof(x));
	memset(s, 0, sizeof(s));
}

static void rekey(void)
{
	uint8_t b[64];
	block(b);
	memcpy(key, b, 32);
	memset(b, 0, sizeof(b));
}

static int seed_read(struct device *dev, void *buf, size_t len)
{
	(void)dev;
	uint8_t *p = buf, b[64];
	while (len) {
		block(b);
		size_t n = len < 64 ? len : 64;
		memcpy(p, b, n);
		p += n;
		len -= n;
	}
	memset(b, 0, sizeof(b));
	rekey();
	return 0;
}

static const struct rng_ops seed_ops = {.read = seed_read};
static struct device seed_dev;

int board_seed_rng(const void *fdt)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	int len = 0;
	const uint8_t *seed = chosen >= 0 ? fdt_getprop(fdt, chosen, "rng-seed", &len) : NULL;
	if (!seed || len < 32)
		return -ENOENT;
	for (int off = 0; off < len; off += 32) {
		uint8_t k[32] = {0};
		memcpy(k, seed + off, (size_t)(len - off < 32 ? len - off : 32));
		for (int i = 0; i < 8; i++)
			key[i] ^= (uint32_t)k[4 * i] | (uint32_t)k[4 * i + 1] << 8 |
				  (uint32_t)k[4 * i + 2] << 16 | (uint32_t)k[4 * i + 3] << 24;
		rekey();
	}
	seed_dev.fdt = fdt;
	seed_dev.node = chosen;
	int err = rng_register(&seed_dev, &seed_ops);
	if (!err)
		printf("rng: no rng device; seeded from /chosen/rng-seed (%d bytes)\n", len);
	return err;
}
