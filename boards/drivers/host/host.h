/*
 * host.h: what the host board's drivers share. The host clock idles in
 * ppoll(2); drivers and arch/host that own file descriptors (the user-mode
 * network's sockets, the signal self-pipe) register a source here so that
 * idle also wakes when one of them is ready.
 * Assumes one thread. Leaves out: dispatching the readiness (each source
 * polls its own descriptors from its loop poller after idle returns).
 */
#ifndef HOST_H
#define HOST_H

#include <poll.h>
#include <stddef.h>

/* A set of descriptors to wake on, asked for afresh before every idle. */
struct host_poll {
	/* Writes at most (max) entries to (fds) (fd and events) and returns
	 * how many it wrote. */
	size_t (*fill)(struct host_poll *hp, struct pollfd *fds, size_t max);
	struct host_poll *next;
};

/* host_clock.c: adds (hp) to the sources idle waits on; (hp) must live
 * forever. */
void host_poll_register(struct host_poll *hp);

#endif
