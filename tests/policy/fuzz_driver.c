/*
 * fuzz_driver.c: a stand-in for libFuzzer's main, so the fuzz targets also
 * build with gcc + ASan: replays every file of the corpus directories given,
 * then -n N inputs made by mutating them (byte flips, splices, truncation)
 * with a fixed-seed generator. Assumes POSIX dirent. Leaves out coverage
 * guidance (use the clang libFuzzer build for that).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rs = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static uint8_t *seeds[512];
static size_t seedlen[512], nseeds;

static void load_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && nseeds < 512) {
		char path[1024];
		FILE *f;
		long n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		if (n >= 0 && n < 1 << 20) {
			seeds[nseeds] = malloc((size_t)n + 1);
			seedlen[nseeds] = fread(seeds[nseeds], 1, (size_t)n, f);
			LLVMFuzzerTestOneInput(seeds[nseeds], seedlen[nseeds]);
			nseeds++;
		}
		fclose(f);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	long n = 1000, i;
	int k;
	static uint8_t buf[8192];

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "-n") && k + 1 < argc)
			n = atol(argv[++k]);
		else
			load_dir(argv[k]);
	}
	for (i = 0; i < n; i++) {
		size_t len = 0, m, j;

		if (nseeds) {
			size_t s = rnd() % nseeds;

			len = seedlen[s] < sizeof(buf) ? seedlen[s] : sizeof(buf);
			memcpy(buf, seeds[s], len);
		}
		m = 1 + rnd() % 8;
		for (j = 0; j < m; j++) {
			switch (rnd() % 5) {
			case 0: /* flip */
				if (len)
					buf[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1: /* random byte from a useful alphabet */
				if (len)
					buf[rnd() % len] = (uint8_t)"(){}[]\"\\:;,.!-*&|<=>@?0123456789aZ_ \n"[rnd() % 38];
				break;
			case 2: /* truncate */
				if (len)
					len = rnd() % len;
				break;
			case 3: /* splice from another seed */
				if (nseeds) {
					size_t s = rnd() % nseeds, off, cnt;

					if (!seedlen[s])
						break;
					off = rnd() % seedlen[s];
					cnt = rnd() % (seedlen[s] - off + 1);
					if (len + cnt < sizeof(buf)) {
						size_t at = len ? rnd() % len : 0;

						memmove(buf + at + cnt, buf + at, len - at);
						memcpy(buf + at, seeds[s] + off, cnt);
						len += cnt;
					}
				}
				break;
			default: /* duplicate a chunk (deep nesting) */
				if (len && len * 2 < sizeof(buf)) {
					size_t at = rnd() % len;

					memcpy(buf + len, buf + at, len - at);
					len += len - at;
				}
				break;
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	for (i = 0; i < (long)nseeds; i++)
		free(seeds[i]);
	printf("  replayed %zu seeds and %ld mutated inputs\n", nseeds, n);
	return 0;
}
