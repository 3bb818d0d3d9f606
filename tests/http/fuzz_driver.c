/*
 * fuzz_driver.c: a small stand-in for libFuzzer when clang is missing: runs
 * LLVMFuzzerTestOneInput (fuzz_http.c) on seed requests, random bytes and
 * mutations of the seeds (bit flips, byte edits, HTTP tokens, splices) for a
 * bounded time, under gcc's ASan + UBSan. Also replays files and writes the
 * seeds as a corpus for libFuzzer.
 *
 *   fuzz_http_gcc [-t SECONDS] [-o CRASHFILE] [-s SEED]   fuzz
 *   fuzz_http_gcc -w DIR                                 write the seed corpus
 *   fuzz_http_gcc FILE...                                replay inputs
 *
 * Assumes: a Linux host (clock_gettime, the sanitizers' death callback,
 * which saves the input that failed to CRASHFILE).
 * Leaves out: coverage feedback (libFuzzer's job when clang is there).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sanitizer/common_interface_defs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 8192

static const char *const seeds[] = {
	"GET /hello HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /json HTTP/1.0\r\n\r\n",
	"POST /echo?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	"5;e=1\r\nhello\r\n0\r\nT: x\r\n\r\n",
	"POST /upload HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd",
	"POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
	"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /defer HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n",
	"OPTIONS /hello HTTP/1.1\r\nHost: h\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /ui/app.js HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nIf-None-Match: \"js1-gz\"\r\n\r\n",
	"PUT /items/1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	"GET http://h/hello HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /fail HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"POST /reject HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx",
	"GET /big HTTP/1.1\r\nHost: h\r\n\r\n",
};

static const char *const tokens[] = {
	"\r\n", "\r\n\r\n", "\n", "\r", " ", "\t", ":", ";", ",", "?", "0", "1", "9", "F",
	"HTTP/1.1", "HTTP/1.0", "GET ", "POST ", "HEAD ", "Host: h\r\n", "Content-Length: ",
	"Transfer-Encoding: chunked\r\n", "chunked", "Connection: close\r\n",
	"Connection: keep-alive\r\n", "Expect: 100-continue\r\n", "ffffffffffffffff",
	"18446744073709551616", "\r\n0\r\n\r\n", "%00", "\x00", "\xff", "W/\"", "*",
};

static uint8_t cur[MAX_INPUT + 2];
static size_t cur_len;
static const char *crash_file = "build/http/fuzz-crash";
static uint64_t rs = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void save(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return;
	fwrite(p, 1, n, f);
	fclose(f);
}

static void on_death(void)
{
	save(crash_file, cur, cur_len);
	fprintf(stderr, "fuzz_http: failing input (%zu bytes) saved to %s\n", cur_len,
		crash_file);
}

/* abort(): a broken invariant in the target. */
static void on_abort(int sig)
{
	on_death();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void insert(const void *s, size_t n, size_t at)
{
	if (cur_len + n > sizeof(cur))
		return;
	memmove(cur + at + n, cur + at, cur_len - at);
	memcpy(cur + at, s, n);
	cur_len += n;
}

static void mutate(void)
{
	size_t at = cur_len > 2 ? 2 + rnd() % (cur_len - 1) : cur_len, n;
	const char *t;

	switch (rnd() % 9) {
	case 0:
		if (at < cur_len)
			cur[at] ^= (uint8_t)(1u << (rnd() % 8));
		break;
	case 1:
		if (at < cur_len)
			cur[at] = (uint8_t)rnd();
		break;
	case 2: {
		uint8_t b = (uint8_t)rnd();

		insert(&b, 1, at);
		break;
	}
	case 3:
		n = 1 + rnd() % 16;
		if (at < cur_len) {
			if (n > cur_len - at)
				n = cur_len - at;
			memmove(cur + at, cur + at + n, cur_len - at - n);
			cur_len -= n;
		}
		break;
	case 4:
	case 5:
		t = tokens[rnd() % (sizeof(tokens) / sizeof(tokens[0]))];
		insert(t, *t ? strlen(t) : 1, at);
		break;
	case 6: /* duplicate a range */
		if (at < cur_len) {
			uint8_t tmp[256];

			n = 1 + rnd() % 256;
			if (n > cur_len - at)
				n = cur_len - at;
			memcpy(tmp, cur + at, n);
			insert(tmp, n, at);
		}
		break;
	case 7: /* splice another seed in */
		t = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
		insert(t, strlen(t), at);
		break;
	default:
		if (at < cur_len)
			cur_len = at;
		break;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void load_seed(size_t i)
{
	const char *s = seeds[i % (sizeof(seeds) / sizeof(seeds[0]))];

	cur[0] = (uint8_t)rnd();
	cur[1] = (uint8_t)rnd();
	cur_len = 2 + strlen(s);
	memcpy(cur + 2, s, strlen(s));
}

int main(int argc, char **argv)
{
	double secs = 20, start, end;
	unsigned long runs = 0;
	size_t i;
	int a;

	__sanitizer_set_death_callback(on_death);
	signal(SIGABRT, on_abort);
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-t") && a + 1 < argc) {
			secs = atof(argv[++a]);
		} else if (!strcmp(argv[a], "-o") && a + 1 < argc) {
			crash_file = argv[++a];
		} else if (!strcmp(argv[a], "-s") && a + 1 < argc) {
			rs = strtoull(argv[++a], NULL, 0) | 1;
		} else if (!strcmp(argv[a], "-w") && a + 1 < argc) {
			char path[4096];

			a++;
			for (i = 0; i < 2 * sizeof(seeds) / sizeof(seeds[0]); i++) {
				load_seed(i / 2);
				cur[0] = (uint8_t)(i & 1);
				snprintf(path, sizeof(path), "%s/seed-%02zu", argv[a], i);
				save(path, cur, cur_len);
			}
			return 0;
		} else {
			FILE *f = fopen(argv[a], "rb");

			if (!f) {
				perror(argv[a]);
				return 2;
			}
			cur_len = fread(cur, 1, sizeof(cur), f);
			fclose(f);
			LLVMFuzzerTestOneInput(cur, cur_len);
			printf("fuzz_http: %s ok\n", argv[a]);
			secs = -1;
		}
	}
	if (secs < 0)
		return 0;

	/* every seed, both modes, then random and mutated inputs */
	for (i = 0; i < 2 * sizeof(seeds) / sizeof(seeds[0]); i++) {
		load_seed(i / 2);
		cur[0] = (uint8_t)(i & 1);
		LLVMFuzzerTestOneInput(cur, cur_len);
		runs++;
	}
	start = now_s();
	end = start + secs;
	while (now_s() < end) {
		int k;

		for (k = 0; k < 64; k++, runs++) {
			if (rnd() % 16 == 0) {
				cur_len = 2 + rnd() % 512;
				for (i = 0; i < cur_len; i++)
					cur[i] = (uint8_t)rnd();
			} else {
				int m = 1 + (int)(rnd() % 8);

				load_seed((size_t)rnd());
				while (m--)
					mutate();
			}
			LLVMFuzzerTestOneInput(cur, cur_len);
		}
	}
	printf("fuzz_http: %lu inputs in %.1f s, no findings\n", runs, now_s() - start);
	return 0;
}
