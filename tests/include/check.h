/*
 * check.h: the CHECK macro the host unit tests share. CHECK(cond, fmt, ...)
 * counts a check and, when (cond) is false, counts a failure and prints where
 * and why; the test's main returns failures != 0. Include once per test
 * program (it defines the counters).
 */
#ifndef HEARTH_TEST_CHECK_H
#define HEARTH_TEST_CHECK_H

#include <stdio.h>

static int checks, failures;

#define CHECK(cond, ...)                                                                 \
	do {                                                                             \
		checks++;                                                                \
		if (!(cond)) {                                                           \
			failures++;                                                      \
			fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
		}                                                                        \
	} while (0)

#endif
