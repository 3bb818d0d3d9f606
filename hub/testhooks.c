/*
 * testhooks.c: scenarios for the end-to-end tests, chosen on the kernel
 * command line, that do nothing unless asked for:
 *   hearth.test=sleep:MS   sleep MS milliseconds on a loop timer and print
 *                          the measured time and timer interrupts taken,
 *                          then stop (exit code 0, or 1 when it was early)
 *   hearth.test=exit:N     stop at once with exit code N
 *   hearth.test=store-writer[:N]  write numbered records (1, 2, ...) into the
 *                          store, one transaction each, printing "ACK n" when
 *                          the commit returned; forever, or N then stop
 *   hearth.test=store-check  print "STORE-CHECK integrity=... max=M count=C"
 *                          and stop (exit code 0 when intact, 1 if not)
 *   hearth.test=fetch:URL[,pin=sha256//B64][,ca=test][,max=N][,post=N]
 *                          [,to=IP][,timeout=MS][,redirects=N]
 *                          fetch URL with the HTTPS client (stack/https_client.h)
 *                          once the network is up; print "FETCH-OK status=S
 *                          bytes=B sha256=HEX" (exit 0) or "FETCH-ERR REASON
 *                          err=E" (exit 1). ca=test trusts only the CA in
 *                          hearth.testca=BASE64-DER instead of the built-in
 *                          bundle; max is the size limit (default 65536);
 *                          post=N POSTs N bytes (byte i is i % 251); to= is
 *                          the address to connect to (the name is still
 *                          checked). The URL cannot contain a comma.
 *   hearth.crash=null|undef|stack|panic   a deliberate fault, for the crash
 *                          report: NULL read, undefined instruction, stack
 *                          overflow, panic()
 * Leaves out: anything a product would run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "hub.h"
#ifdef CONFIG_STORE
#include "store/store.h"
#endif
#ifdef CONFIG_NET
#include "../stack/https_client.h"
#include "../stack/stack.h"
#endif

static struct loop_timer sleep_timer;
static uint64_t sleep_start, sleep_ms, sleep_irqs;

static void sleep_done(struct loop_timer *t)
{
	(void)t;
	uint64_t took = time_now_ns() - sleep_start;
	printf("SLEEP-END ms=%" PRIu64 " asked=%" PRIu64 " irqs=%" PRIu64 "\n", took / 1000000u,
	       sleep_ms, board_irq_total() - sleep_irqs);
	loop_stop(took >= sleep_ms * 1000000u ? 0 : 1);
}

static volatile int sink;
/* volatile, so the compiler cannot see the NULL coming. */
static volatile int *volatile null_ptr = (volatile int *)8;

static volatile int depth_limit = 1 << 30;

/* Recursion the compiler cannot prove infinite (depth_limit is volatile). */
static int recurse(int n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	if (n >= depth_limit)
		return pad[0];
	return recurse(n + 1) + pad[0];
}

static void crash(const char *how)
{
	printf("CRASH-NOW %s\n", how);
	if (!strcmp(how, "null"))
		sink = *null_ptr;
	else if (!strcmp(how, "undef"))
#ifdef __aarch64__
		__asm__ volatile("udf #0"); /* permanently undefined */
#else
		__builtin_trap();
#endif
	else if (!strcmp(how, "stack"))
		sink = recurse(0);
	else if (!strcmp(how, "panic"))
		panic("deliberate panic from hearth.crash=panic");
	printf("hearth: unknown hearth.crash=%s (null, undef, stack, panic)\n", how);
}

#ifdef CONFIG_STORE
static struct loop_timer writer_timer;
static int64_t writer_next, writer_last;

static void writer_step(struct loop_timer *t)
{
	/* Payloads of varied size, so records cross pages now and then. */
	int64_t args[2] = {writer_next, 64 + (writer_next * 37) % 1900};
	int err = store_exec_i64("INSERT INTO test_records(n, payload) VALUES (?, randomblob(?))",
				 args, 2);
	if (err) {
		printf("STORE-WRITER error %d at record %lld\n", err, (long long)writer_next);
		loop_stop(1);
		return;
	}
	printf("ACK %lld\n", (long long)writer_next);
	if (writer_last && writer_next >= writer_last) {
		printf("STORE-WRITER done\n");
		loop_stop(0);
		return;
	}
	writer_next++;
	loop_timer_arm(t, time_now_ns());
}

static void store_writer(const char *arg)
{
	int64_t max = 0;
	writer_last = arg ? strtoll(arg, NULL, 10) : 0;
	if (store_exec("CREATE TABLE IF NOT EXISTS test_records(n INTEGER PRIMARY KEY, "
		       "payload BLOB NOT NULL)") ||
	    (store_query_i64("SELECT max(n) FROM test_records", &max) && max != 0)) {
		printf("STORE-WRITER no store\n");
		board_halt(1);
	}
	writer_next = max + 1;
	printf("STORE-WRITER from %lld\n", (long long)writer_next);
	writer_timer.fn = writer_step;
	loop_timer_arm(&writer_timer, time_now_ns());
}

static void store_check_scenario(void)
{
	int64_t max = 0, count = 0, tables = 0;
	int err = store_check();
	struct store_status st;
	store_status(&st);
	if (!store_query_i64("SELECT count(*) FROM sqlite_schema WHERE name = 'test_records'",
			     &tables) && tables) {
		store_query_i64("SELECT coalesce(max(n), 0) FROM test_records", &max);
		store_query_i64("SELECT count(*) FROM test_records", &count);
	}
	printf("STORE-CHECK integrity=%s max=%lld count=%lld\n",
	       err == -ENODEV ? "nostore" : (err ? "FAILED" : "ok"), (long long)max,
	       (long long)count);
	board_halt(err || count != max ? 1 : 0);
}
#endif

#ifdef CONFIG_NET
static struct {
	char arg[1024]; /* the options point into it */
	char ca_pem[4096];
	uint8_t *body, *post;
	struct https_request req;
	struct loop_timer wait;
	uint64_t give_up;
} fetch_t;

static const char *const fetch_want[] = {"Location", "Content-Type", NULL};

static void fetch_done(void *arg, const struct https_response *resp, int err)
{
	(void)arg;
	if (err) {
		printf("FETCH-ERR %s err=%d status=%d flags=0x%x\n", resp->reason, err, resp->status,
		       (unsigned int)resp->verify_flags);
		loop_stop(1);
		return;
	}
	char hex[65];
	https_sha256_hex(resp->body, resp->body_len, hex);
	if (resp->values[0])
		printf("FETCH-HEADER location: %s\n", resp->values[0]);
	printf("FETCH-OK status=%d bytes=%zu sha256=%s\n", resp->status, resp->body_len, hex);
	loop_stop(0);
}

static void fetch_go(struct loop_timer *t)
{
	struct net_status st;
	stack_net_status(&st);
	if (!st.up) {
		if (time_now_ns() > fetch_t.give_up) {
			printf("FETCH-ERR no-network err=%d\n", -ENETDOWN);
			loop_stop(1);
			return;
		}
		loop_timer_arm(t, time_now_ns() + 50000000u);
		return;
	}
	int id = fetch_t.post ? https_post(&fetch_t.req, fetch_done, NULL)
			      : https_get(&fetch_t.req, fetch_done, NULL);
	if (id < 0) {
		printf("FETCH-ERR refused-request err=%d\n", id);
		loop_stop(1);
	}
}

/* hearth.test=fetch:...; 1 when it is this scenario (then it runs). */
static int fetch_scenario(const char *bootargs)
{
	char *a = fetch_t.arg;
	if (board_bootarg(bootargs, "hearth.test", a, sizeof(fetch_t.arg)) <= 0 ||
	    strncmp(a, "fetch:", 6))
		return 0;
	struct https_request *r = &fetch_t.req;
	size_t max = 65536, post = 0;
	char *opt = strchr(a + 6, ',');
	if (opt)
		*opt++ = 0;
	r->url = a + 6;
	while (opt && *opt) {
		char *next = strchr(opt, ',');
		if (next)
			*next++ = 0;
		if (!strncmp(opt, "pin=", 4)) {
			r->pin = opt + 4;
		} else if (!strcmp(opt, "ca=test")) {
			/* The test's CA as PEM, from its base64 DER. */
			int n = snprintf(fetch_t.ca_pem, sizeof(fetch_t.ca_pem),
					 "-----BEGIN CERTIFICATE-----\n");
			int m = board_bootarg(bootargs, "hearth.testca", fetch_t.ca_pem + n,
					      sizeof(fetch_t.ca_pem) - (size_t)n - 32);
			if (m <= 0) {
				printf("FETCH-ERR no-testca err=%d\n", m);
				board_halt(1);
			}
			strcat(fetch_t.ca_pem, "\n-----END CERTIFICATE-----\n");
			r->ca = (const uint8_t *)fetch_t.ca_pem;
			r->ca_len = strlen(fetch_t.ca_pem);
		} else if (!strncmp(opt, "max=", 4)) {
			max = strtoul(opt + 4, NULL, 10);
		} else if (!strncmp(opt, "post=", 5)) {
			post = strtoul(opt + 5, NULL, 10);
		} else if (!strncmp(opt, "to=", 3)) {
			r->connect_to = opt + 3;
		} else if (!strncmp(opt, "timeout=", 8)) {
			uint32_t ms = (uint32_t)strtoul(opt + 8, NULL, 10);
			r->connect_timeout_ms = r->tls_timeout_ms = r->response_timeout_ms = ms;
		} else if (!strncmp(opt, "redirects=", 10)) {
			r->max_redirects = (unsigned int)strtoul(opt + 10, NULL, 10);
		} else {
			printf("FETCH-ERR bad-option err=%d (%s)\n", -EINVAL, opt);
			board_halt(1);
		}
		opt = next;
	}
	fetch_t.body = malloc(max ? max : 1);
	if (post)
		fetch_t.post = malloc(post);
	if (!fetch_t.body || (post && !fetch_t.post)) {
		printf("FETCH-ERR no-memory err=%d\n", -ENOMEM);
		board_halt(1);
	}
	for (size_t i = 0; i < post; i++)
		fetch_t.post[i] = (uint8_t)(i % 251);
	r->buf = fetch_t.body;
	r->buf_len = max;
	r->body = fetch_t.post;
	r->body_len = post;
	r->content_type = "application/octet-stream";
	r->want = fetch_want;
	printf("FETCH-START %s\n", r->url);
	fetch_t.give_up = time_now_ns() + 20000000000ull;
	fetch_t.wait.fn = fetch_go;
	loop_timer_arm(&fetch_t.wait, time_now_ns());
	return 1;
}
#endif

int hub_testhooks_start(const char *bootargs)
{
	char v[64];
	if (board_bootarg(bootargs, "hearth.crash", v, sizeof(v)) > 0)
		crash(v);
#ifdef CONFIG_NET
	if (fetch_scenario(bootargs))
		return 1;
#endif
	if (board_bootarg(bootargs, "hearth.test", v, sizeof(v)) <= 0)
		return 0;
	if (!strncmp(v, "sleep:", 6)) {
		sleep_ms = strtoull(v + 6, NULL, 10);
		sleep_timer.fn = sleep_done;
		printf("SLEEP-START ms=%" PRIu64 "\n", sleep_ms);
		sleep_start = time_now_ns();
		sleep_irqs = board_irq_total();
		loop_timer_arm(&sleep_timer, sleep_start + sleep_ms * 1000000u);
		return 1;
	}
#ifdef CONFIG_STORE
	if (!strcmp(v, "store-writer") || !strncmp(v, "store-writer:", 13)) {
		store_writer(v[12] == ':' ? v + 13 : NULL);
		return 1;
	}
	if (!strcmp(v, "store-check")) {
		store_check_scenario();
		return 1;
	}
#endif
	if (!strncmp(v, "exit:", 5)) {
		int code = atoi(v + 5);
		printf("TEST-EXIT %d\n", code);
		board_halt(code);
	}
	printf("hearth: unknown hearth.test=%s\n", v);
	return 0;
}
