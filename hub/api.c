/*
 * api.c: the hub's REST API under /api/v1 (served by stack/httpd.c). For
 * now: GET /api/v1/health: version, board, uptime, network and storage
 * state, as JSON. Needs no authentication (it reveals nothing personal).
 * Leaves out: everything the hub issue adds (records, services, policies,
 * audit) and authentication for it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <board.h>

#include "../stack/http.h"
#include "../stack/stack.h"
#include "hub.h"
#ifdef CONFIG_STORE
#include "store/store.h"
#endif
#include "auth.h"
#include "release.h"
#include "reply.h"
#include "session.h"

/* hub/ui/: the generated static-file table (build/<board>/hub/ui/assets.c) */
extern const struct http_static_table hub_ui_table;

#ifdef CONFIG_STORE
static int storage_json(char *buf, size_t len)
{
	static const char *const states[] = {"absent", "refused", "failed", "read-only", "ok"};
	struct store_status st;
	if (store_status(&st))
		return snprintf(buf, len, ",\"storage\":{\"state\":\"unknown\"}");
	int n = snprintf(buf, len,
			 ",\"storage\":{\"state\":\"%s\",\"device\":\"%s\",\"format_version\":%" PRIu32
			 ",\"schema_version\":%" PRIu32 ",\"size_bytes\":%" PRIu64
			 ",\"used_bytes\":%" PRIu64 ",\"free_bytes\":%" PRIu64
			 ",\"last_integrity_check\":{\"unix\":%" PRId64 ",\"ok\":%s}}",
			 st.state <= STORE_OK ? states[st.state] : "unknown", st.device ? st.device : "",
			 st.format_version, st.schema_version, st.size_bytes, st.used_bytes,
			 st.free_bytes, st.last_check_ns / 1000000000,
			 st.last_check_ns ? (st.last_check_ok ? "true" : "false") : "null");
	return n < 0 || (size_t)n >= len ? 0 : n;
}
#endif

static int health(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	char json[1700];
	struct net_status ns;
	struct httpd_stats hs;
	stack_net_status(&ns);
	stack_httpd_stats(&hs);
	/* Only the addresses there are (none before SLAAC, one without a router). */
	char v6[2 * sizeof(ns.ipv6[0]) + 8] = "";
	for (int i = 0; i < 2; i++)
		if (ns.ipv6[i][0])
			snprintf(v6 + strlen(v6), sizeof(v6) - strlen(v6), "%s\"%s\"", v6[0] ? "," : "",
				 ns.ipv6[i]);
	size_t n = (size_t)snprintf(
		json, sizeof(json),
		"{\"status\":\"ok\",\"version\":\"%s\",\"git\":\"%s\",\"board\":\"%s\","
		"\"uptime_s\":%" PRIu64 ",\"time\":{\"wall_clock\":%s,\"unix\":%" PRId64
		",\"synced\":%s},"
		"\"network\":{\"interface\":\"%s\",\"mac\":\"%s\",\"up\":%s,\"dhcp\":%s,"
		"\"ipv4\":\"%s\",\"netmask\":\"%s\",\"gateway\":\"%s\",\"ipv6\":[%s]},"
		"\"http\":{\"open\":%u,\"max\":%u,\"accepted\":%" PRIu64 ",\"refused\":%" PRIu64 "}",
		HEARTH_VERSION, HEARTH_GITREV, CONFIG_BOARD_NAME, time_now_ms() / 1000,
		time_wall_valid() ? "true" : "false", time_wall_ns() / 1000000000,
		ns.time_synced ? "true" : "false", ns.ifname, ns.mac, ns.up ? "true" : "false",
		ns.dhcp ? "true" : "false", ns.ipv4, ns.netmask, ns.gateway, v6,
		hs.open, hs.max, hs.accepted, hs.refused);
#ifdef CONFIG_STORE
	n += (size_t)storage_json(json + n, sizeof(json) - n);
#endif
	/* The certificate's identity (public anyway: any client sees it), so the
	 * UI's settings page can show what to compare the browser's view with. */
	char fp[100], pin[64];
	if (n < sizeof(json) && !stack_tls_identity(fp, sizeof(fp), pin, sizeof(pin))) {
		int k = snprintf(json + n, sizeof(json) - n, ",\"tls\":{\"fingerprint\":\"%s\",\"pin\":\"%s\"}",
				 fp, pin);
		if (k > 0)
			n += (size_t)k;
	}
	if (n + 2 >= sizeof(json))
		return http_resp_json(resp, 500, "{\"error\":{\"code\":\"internal\",\"message\":\"health too long\"}}");
	json[n++] = '}';
	json[n] = 0;
	return http_resp_json(resp, 200, json) ? -EIO : 0;
}

#ifdef CONFIG_TEST_HOOKS
/*
 * Test endpoints, only with CONFIG_TEST_HOOKS and the bootarg hearth.testapi
 * (404 otherwise): GET /api/v1/test/blob?size=N streams N deterministic
 * bytes (byte i = (i * 31 + 7) & 0xff); POST /api/v1/test/sink takes a body
 * of any size up to the limit and answers its length and SHA-256.
 */
#include "mbedtls/sha256.h"

static bool test_api;

struct blob {
	uint64_t off, len;
};

static long blob_produce(void *arg, uint8_t *buf, size_t space)
{
	struct blob *b = arg;
	size_t n = 0;
	while (n < space && b->off < b->len) {
		buf[n++] = (uint8_t)((b->off * 31 + 7) & 0xff);
		b->off++;
	}
	return (long)n;
}

static struct blob blobs[16];

static int test_blob(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	if (!test_api)
		return http_resp_json(resp, 404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such endpoint\"}}") ? -EIO : 0;
	const char *q = strstr(req->query, "size=");
	uint64_t size = q ? strtoull(q + 5, NULL, 10) : 0;
	if (size > (64u << 20))
		return http_resp_json(resp, 400, "{\"error\":{\"code\":\"too_big\",\"message\":\"size above 64 MiB\"}}") ? -EIO : 0;
	/* One generator per connection slot would be exact; a small ring does. */
	static unsigned next;
	struct blob *b = &blobs[next++ % 16];
	b->off = 0;
	b->len = size;
	http_resp_status(resp, 200);
	http_resp_type(resp, "application/octet-stream");
	http_resp_producer(resp, (int64_t)size, blob_produce, b);
	return 0;
}

static int test_sink_body(struct http_req *req, const uint8_t *data, size_t len, void *arg)
{
	(void)arg;
	if (!req->user) {
		mbedtls_sha256_context *c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		mbedtls_sha256_init(c);
		mbedtls_sha256_starts_ret(c, 0);
		req->user = c;
	}
	mbedtls_sha256_update_ret(req->user, data, len);
	return 0;
}

static void test_sink_cancel(struct http_req *req, void *arg)
{
	(void)arg;
	free(req->user);
	req->user = NULL;
}

static int test_sink(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	uint8_t h[32];
	char json[160];
	if (!test_api) {
		test_sink_cancel(req, NULL);
		return http_resp_json(resp, 404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such endpoint\"}}") ? -EIO : 0;
	}
	if (!req->user)
		test_sink_body(req, (const uint8_t *)"", 0, NULL);
	if (!req->user)
		return -ENOMEM;
	mbedtls_sha256_finish_ret(req->user, h);
	test_sink_cancel(req, NULL);
	int n = snprintf(json, sizeof(json), "{\"bytes\":%" PRIu64 ",\"sha256\":\"", req->body_received);
	for (int i = 0; i < 32; i++)
		n += snprintf(json + n, sizeof(json) - (size_t)n, "%02x", h[i]);
	snprintf(json + n, sizeof(json) - (size_t)n, "\"}");
	return http_resp_body_copy(resp, json, strlen(json)) ? -EIO
		: (http_resp_status(resp, 200), http_resp_type(resp, "application/json"), 0);
}
#endif

static const struct http_route routes[] = {
	{.method = "GET", .path = "/api/v1/health", .handler = health},
#if defined(CONFIG_STORE) && defined(CONFIG_POLICY)
	/* first run, sessions, password: hub/setup.c, hub/session.c
	 * (docs/security.md) */
	{.method = "GET", .path = "/api/v1/setup", .handler = hub_setup_get},
	{.method = "POST", .path = "/api/v1/setup", .handler = hub_setup_post},
	{.method = "GET", .path = "/api/v1/session", .handler = hub_session_get},
	{.method = "POST", .path = "/api/v1/session", .handler = hub_session_post},
	{.method = "DELETE", .path = "/api/v1/session", .handler = hub_session_delete},
	{.method = "POST", .path = "/api/v1/password", .handler = hub_password_post},
	/* data: hub/records.c (docs/api.yaml) */
	{.method = "POST", .path = "/api/v1/records", .handler = hub_records_post,
	 .body = hub_body_collect, .arg = (void *)1, .cancel = hub_reply_cancel},
	{.method = "DELETE", .path = "/api/v1/records", .handler = hub_records_delete,
	 .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/records/summary", .handler = hub_records_summary_get,
	 .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/categories", .handler = hub_categories_get,
	 .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/categories", .handler = hub_categories_post,
	 .body = hub_body_collect, .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/devices", .handler = hub_devices_get,
	 .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/devices", .handler = hub_devices_post,
	 .body = hub_body_collect, .cancel = hub_reply_cancel},
	{.method = "DELETE", .path = "/api/v1/devices/", .flags = HTTP_ROUTE_PREFIX,
	 .handler = hub_device_delete, .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/export", .handler = hub_export_get, .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/audit", .handler = hub_audit_get, .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/audit/verify", .handler = hub_audit_verify_get,
	 .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/metrics", .handler = hub_metrics_get,
	 .cancel = hub_reply_cancel},
	/* services, policies, the release pipeline: hub/services.c,
	 * hub/policies.c, hub/release.c (docs/api.yaml) */
	{.method = "POST", .path = "/api/v1/services/import", .handler = hub_services_import,
	 .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/services", .handler = hub_services_create,
	 .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/services", .handler = hub_services_list,
	 .cancel = hub_reply_cancel},
	{.method = "DELETE", .path = "/api/v1/services/", .flags = HTTP_ROUTE_PREFIX,
	 .handler = hub_services_delete, .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/policies/validate", .handler = hub_policies_validate,
	 .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/policies/simulate", .handler = hub_policies_simulate,
	 .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/policies", .handler = hub_policies_create,
	 .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/policies", .handler = hub_policies_list,
	 .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/policies/", .flags = HTTP_ROUTE_PREFIX,
	 .handler = hub_policies_accept, .cancel = hub_reply_cancel},
	{.method = "DELETE", .path = "/api/v1/policies/", .flags = HTTP_ROUTE_PREFIX,
	 .handler = hub_policies_delete, .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/share", .handler = hub_share, .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/approvals", .handler = hub_approvals_list,
	 .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/approvals/", .flags = HTTP_ROUTE_PREFIX,
	 .handler = hub_approval_decide, .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/budgets", .handler = hub_budgets_list,
	 .cancel = hub_reply_cancel},
	{.method = "POST", .path = "/api/v1/deliveries", .handler = hub_delivery_now,
	 .cancel = hub_reply_cancel},
	{.method = "GET", .path = "/api/v1/deliveries", .handler = hub_deliveries_list,
	 .cancel = hub_reply_cancel},
#endif
#ifdef CONFIG_TEST_HOOKS
	{.method = "GET", .path = "/api/v1/test/blob", .handler = test_blob},
	{.method = "POST", .path = "/api/v1/test/sink", .handler = test_sink, .body = test_sink_body,
	 .cancel = test_sink_cancel},
#if defined(CONFIG_STORE) && defined(CONFIG_POLICY)
	{.method = "POST", .path = "/api/v1/test/audit", .handler = hub_test_audit,
	 .body = hub_body_collect},
#endif
#endif
	/* The web UI (hub/ui/, embedded by scripts/embed-assets.py): a single
	 * page with hash routing, so "/" is the only page path ("/setup", which
	 * the console names, is the same page). */
	{.method = "GET", .path = "/", .handler = http_static_handler, .arg = (void *)&hub_ui_table},
	{.method = "GET", .path = "/index.html", .handler = http_static_handler,
	 .arg = (void *)&hub_ui_table},
	{.method = "GET", .path = "/setup", .handler = http_static_handler, .arg = (void *)&hub_ui_table},
	{.method = "GET", .path = "/assets/", .flags = HTTP_ROUTE_PREFIX,
	 .handler = http_static_handler, .arg = (void *)&hub_ui_table},
};

bool hub_test_api(void)
{
#ifdef CONFIG_TEST_HOOKS
	return test_api;
#else
	return false;
#endif
}

int hub_api_start(void)
{
#if defined(CONFIG_STORE) && defined(CONFIG_POLICY)
	/* factory reset, the password state, the claim code; then the owner
	 * token (printed on first boot and after a factory reset) */
	hub_session_init(board_dt_bootargs(board_fdt()));
	hub_auth_init();
	release_push_start(); /* pending deliveries go out (again) */
#endif
#ifdef CONFIG_TEST_HOOKS
	char v[8];
	test_api = board_bootarg(board_dt_bootargs(board_fdt()), "hearth.testapi", v, sizeof(v)) >= 0;
#endif
	return stack_httpd_start(routes, sizeof(routes) / sizeof(routes[0]), 16);
}
