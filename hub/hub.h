/*
 * hub.h: the hub layer's interface (the application). For now: the test
 * hooks the end-to-end tests start from the kernel command line.
 */
#ifndef HUB_H
#define HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* hub/testhooks.c: runs the scenario named by hearth.test= or hearth.crash=
 * in (bootargs), if any. Returns 1 when a scenario took over the loop. */
int hub_testhooks_start(const char *bootargs);

/* hub/net.c: brings the network up and, once the device has an address,
 * its TLS identity and the HTTPS and redirect servers. */
void hub_net_start(const char *bootargs);

/* hub/api.c: starts serving the REST API (HTTPS) and the redirect. */
int hub_api_start(void);
/* Whether the test endpoints are on (CONFIG_TEST_HOOKS and hearth.testapi). */
bool hub_test_api(void);

/* hub/records.c: the data endpoints (handlers for api.c's route table; see
 * docs/api.yaml). hub_body_collect is the body callback of every route
 * with a JSON body: the body lands in a pool buffer (reply.h) in req->user;
 * a non-NULL route arg means "device token required" (checked first). */
struct http_req;
struct http_resp;
int hub_body_collect(struct http_req *req, const uint8_t *data, size_t len, void *arg);
int hub_records_post(struct http_req *req, struct http_resp *resp, void *arg);
int hub_records_delete(struct http_req *req, struct http_resp *resp, void *arg);
int hub_categories_get(struct http_req *req, struct http_resp *resp, void *arg);
int hub_categories_post(struct http_req *req, struct http_resp *resp, void *arg);
int hub_devices_get(struct http_req *req, struct http_resp *resp, void *arg);
int hub_devices_post(struct http_req *req, struct http_resp *resp, void *arg);
int hub_device_delete(struct http_req *req, struct http_resp *resp, void *arg);
int hub_records_summary_get(struct http_req *req, struct http_resp *resp, void *arg);
int hub_export_get(struct http_req *req, struct http_resp *resp, void *arg);
int hub_audit_get(struct http_req *req, struct http_resp *resp, void *arg);
int hub_audit_verify_get(struct http_req *req, struct http_resp *resp, void *arg);
int hub_metrics_get(struct http_req *req, struct http_resp *resp, void *arg);
int hub_test_audit(struct http_req *req, struct http_resp *resp, void *arg);

#endif
