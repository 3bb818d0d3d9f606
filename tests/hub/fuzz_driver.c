/*
 * fuzz_driver.c: runs LLVMFuzzerTestOneInput without libFuzzer (gcc builds):
 * replays files, or for -t SECONDS mutates them (bit flips, byte edits,
 * JSON tokens, deletions, repeats, splices) under ASan + UBSan. The input
 * that kills the process is saved to the -o file (default
 * build/hub-tests/fuzz-crash) through the sanitizers' death callback, or
 * on SIGABRT when the target's own checks fail.
 *
 *   fuzz_ingest_gcc FILE...                          replay each file once
 *   fuzz_ingest_gcc -t SECONDS [-o CRASH] [-s SEED] FILE...   mutate them
 *
 * Assumes: a Linux host. Leaves out: coverage feedback (libFuzzer's job).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 16384
#define MAX_SEEDS 256

static const char *const tokens[] = {
	"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "\\\"", "null", "true",
	"false", "0", "-1", "1e308", "1.5", "253402300799", "253402300800", "1700000000",
	"\"records\"", "\"id\"", "\"category\"", "\"time\"", "\"payload\"", "\"viewing.history\"",
	"\"viewing.history.fuzz\"", "\"viewing\"", "\"a..b\"", "{\"k\":1}", "[]", "{}",
	"\"name\"", "\"description\"", "\\u001f",
	"\xff", "\xc3\xa9", " ", "\n",
};

static uint8_t cur[MAX_INPUT + 64];
static size_t cur_len;
static const char *crash_file = "build/hub-tests/fuzz-crash";
static uint64_t rs = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void on_death(void)
{
	static const char msg[] = "fuzz_driver: the failing input is in the -o file\n";
	int fd = open(crash_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, cur, cur_len) < 0 || write(2, msg, sizeof(msg) - 1) < 0)
			(void)0;
		close(fd);
	}
}

/* The target's own checks abort(): save the input then as well. */
static void on_abort(int sig)
{
	on_death();
	signal(sig, SIG_DFL);
	raise(sig);
}

struct seed {
	uint8_t *p;
	size_t n;
};

static int load(const char *path, struct seed *s)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	s->p = malloc(MAX_INPUT);
	s->n = s->p ? fread(s->p, 1, MAX_INPUT, f) : 0;
	fclose(f);
	return s->p ? 0 : -1;
}

static void insert(const void *p, size_t n, size_t at)
{
	if (cur_len + n > MAX_INPUT)
		return;
	memmove(cur + at + n, cur + at, cur_len - at);
	memcpy(cur + at, p, n);
	cur_len += n;
}

static void mutate(const struct seed *seeds, size_t nseeds)
{
	int edits = 1 + (int)(rnd() % 4);
	while (edits--) {
		size_t at = cur_len ? rnd() % (cur_len + 1) : 0;
		switch (rnd() % 7) {
		case 0: /* bit flip */
			if (at < cur_len)
				cur[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: /* random byte */
			if (at < cur_len)
				cur[at] = (uint8_t)rnd();
			break;
		case 2: { /* token */
			const char *t = tokens[rnd() % (sizeof(tokens) / sizeof(tokens[0]))];
			insert(t, strlen(t), at);
			break;
		}
		case 3: { /* delete a range */
			size_t n = at < cur_len ? 1 + rnd() % (cur_len - at) % 16 : 0;
			memmove(cur + at, cur + at + n, cur_len - at - n);
			cur_len -= n;
			break;
		}
		case 4: { /* repeat a range */
			if (at < cur_len) {
				size_t n = 1 + rnd() % (cur_len - at) % 64;
				uint8_t tmp[64];
				memcpy(tmp, cur + at, n);
				for (int k = (int)(rnd() % 8); k >= 0; k--)
					insert(tmp, n, at);
			}
			break;
		}
		case 5: { /* splice another seed's tail */
			const struct seed *o = &seeds[rnd() % nseeds];
			size_t from = o->n ? rnd() % o->n : 0;
			size_t n = o->n - from;
			if (at + n > MAX_INPUT)
				n = MAX_INPUT - at;
			memcpy(cur + at, o->p + from, n);
			cur_len = at + n;
			break;
		}
		default: /* truncate */
			cur_len = at;
			break;
		}
	}
}

int main(int argc, char **argv)
{
	static struct seed seeds[MAX_SEEDS];
	size_t nseeds = 0;
	double seconds = 0;
	int opt;
	while ((opt = getopt(argc, argv, "t:o:s:")) != -1) {
		if (opt == 't')
			seconds = atof(optarg);
		else if (opt == 'o')
			crash_file = optarg;
		else if (opt == 's')
			rs = strtoull(optarg, NULL, 0) | 1;
		else
			return 2;
	}
	for (int i = optind; i < argc && nseeds < MAX_SEEDS; i++)
		if (load(argv[i], &seeds[nseeds++]))
			return 2;
	if (!nseeds) {
		fprintf(stderr, "usage: %s [-t SECONDS] [-o CRASHFILE] [-s SEED] FILE...\n", argv[0]);
		return 2;
	}
	__sanitizer_set_death_callback(on_death);
	signal(SIGABRT, on_abort);
	for (size_t i = 0; i < nseeds; i++) {
		memcpy(cur, seeds[i].p, seeds[i].n);
		cur_len = seeds[i].n;
		LLVMFuzzerTestOneInput(cur, cur_len);
	}
	unsigned long runs = nseeds;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double el = 0;
	while (el < seconds) {
		const struct seed *s = &seeds[rnd() % nseeds];
		memcpy(cur, s->p, s->n);
		cur_len = s->n;
		mutate(seeds, nseeds);
		LLVMFuzzerTestOneInput(cur, cur_len);
		runs++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
	}
	if (seconds > 0)
		printf("  fuzz_driver: %lu inputs in %.1f s (%.0f/s), no failure\n", runs, el,
		       (double)runs / el);
	else
		printf("  fuzz_driver: %lu inputs replayed, no failure\n", runs);
	for (size_t i = 0; i < nseeds; i++)
		free(seeds[i].p);
	return 0;
}
