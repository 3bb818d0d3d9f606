/*
 * hub.h: the hub layer's interface (the application). For now: the test
 * hooks the end-to-end tests start from the kernel command line.
 */
#ifndef HUB_H
#define HUB_H

#include <stddef.h>

/* hub/testhooks.c: runs the scenario named by hearth.test= or hearth.crash=
 * in (bootargs), if any. Returns 1 when a scenario took over the loop. */
int hub_testhooks_start(const char *bootargs);

/* hub/net.c: brings the network up and, once the device has an address,
 * its TLS identity and the HTTPS and redirect servers. */
void hub_net_start(const char *bootargs);

/* hub/api.c: starts serving the REST API (HTTPS) and the redirect. */
int hub_api_start(void);

#endif
