/*
 * start.c: Hearth as a Linux process. Copies the built-in DTB (with the
 * command line's arguments as bootargs) and calls hearth_main like the
 * firmware does. Fatal signals print a crash report in the firmware's
 * words (signal, address, a backtrace) and exit with 70.
 * Leaves out: an MMU, interrupts (signals stand in where needed).
 */
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfdt.h>

#include <arch/cpu.h>
#include <board.h>

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
	int rc = hearth_main(fdt);
	fflush(stdout);
	free(fdt);
	return rc;
}
