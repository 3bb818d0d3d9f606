/*
 * start.c: Hearth as a Linux process. Copies the built-in DTB (with the
 * command line's arguments as bootargs) and calls hearth_main like the
 * firmware does. Fatal signals print a crash report in the firmware's
 * words (signal, address, a backtrace) and exit with 70.
 * Leaves out: an MMU, interrupts (signals stand in where needed).
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfdt.h>

#include <arch/cpu.h>
#include <board.h>

#include "../../boards/drivers/host/host.h"

extern const char host_dtb[], host_dtb_end[];

static char altstack[64 * 1024];

static void crash(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "\n*** HEARTH CRASH: signal %d (%s) at address %p ***\n",
			 sig, strsignal(sig), si->si_addr);
	if (write(2, buf, (size_t)n) < 0)
		_exit(70);
	void *frames[32];
	int nf = backtrace(frames, 32);
	backtrace_symbols_fd(frames, nf, 2);
	static const char end[] = "*** end of crash report ***\n";
	if (write(2, end, sizeof(end) - 1) < 0)
		_exit(70);
	_exit(70);
}

static volatile sig_atomic_t stop_signal;
static int stop_pipe[2] = {-1, -1};
static struct loop_poller stop_poller;
static struct host_poll stop_src;

static void on_stop_signal(int sig)
{
	int saved = errno;
	stop_signal = sig;
	if (stop_pipe[1] >= 0 && write(stop_pipe[1], "", 1) < 0) {
		/* full pipe: a wake-up is pending already */
	}
	errno = saved;
}

static void stop_poll(void *arg)
{
	(void)arg;
	if (!stop_signal)
		return;
	char buf[16];
	while (read(stop_pipe[0], buf, sizeof(buf)) > 0)
		;
	printf("hearth: %s: stopping\n", strsignal(stop_signal));
	stop_signal = 0;
	loop_stop(0);
}

static size_t stop_fill(struct host_poll *hp, struct pollfd *fds, size_t max)
{
	(void)hp;
	if (!max || stop_pipe[0] < 0)
		return 0;
	fds[0].fd = stop_pipe[0];
	fds[0].events = POLLIN;
	fds[0].revents = 0;
	return 1;
}

static void stop_signals_init(void)
{
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		stop_pipe[0] = stop_pipe[1] = -1; /* signals still stop, within 1 s */
	} else {
		stop_src.fill = stop_fill;
		host_poll_register(&stop_src);
	}
	stop_poller.fn = stop_poll;
	loop_poller_add(&stop_poller);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESETHAND; /* a second signal is not polite any more */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void arch_host_exit(int code)
{
	fflush(stdout);
	exit(code);
}

int main(int argc, char **argv)
{
	size_t dtb_len = (size_t)(host_dtb_end - host_dtb);
	size_t cap = dtb_len + 4096;
	char args[2048] = "";
	for (int i = 1; i < argc; i++) {
		if (strlen(args) + strlen(argv[i]) + 2 > sizeof(args)) {
			fprintf(stderr, "hearth: command line too long\n");
			return 2;
		}
		if (i > 1)
			strcat(args, " ");
		strcat(args, argv[i]);
	}
	cap += strlen(args);
	void *fdt = malloc(cap);
	if (!fdt || fdt_open_into(host_dtb, fdt, (int)cap) ||
	    fdt_setprop_string(fdt, fdt_path_offset(fdt, "/chosen"), "bootargs", args) ||
	    fdt_pack(fdt)) {
		fprintf(stderr, "hearth: cannot prepare the built-in device tree\n");
		return 2;
	}
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = crash;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	stop_signals_init();
	int rc = hearth_main(fdt);
	fflush(stdout);
	free(fdt);
	return rc;
}
