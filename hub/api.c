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
#include <string.h>

#include <board.h>

#include "../stack/http.h"
#include "../stack/stack.h"
#include "hub.h"
#ifdef CONFIG_STORE
#include "store/store.h"
#endif

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
	char json[1400];
	struct net_status ns;
	struct httpd_stats hs;
	stack_net_status(&ns);
	stack_httpd_stats(&hs);
	size_t n = (size_t)snprintf(
		json, sizeof(json),
		"{\"status\":\"ok\",\"version\":\"%s\",\"git\":\"%s\",\"board\":\"%s\","
		"\"uptime_s\":%" PRIu64 ",\"time\":{\"wall_clock\":%s,\"unix\":%" PRId64
		",\"synced\":%s},"
		"\"network\":{\"interface\":\"%s\",\"mac\":\"%s\",\"up\":%s,\"dhcp\":%s,"
		"\"ipv4\":\"%s\",\"netmask\":\"%s\",\"gateway\":\"%s\",\"ipv6\":[\"%s\",\"%s\"]},"
		"\"http\":{\"open\":%u,\"max\":%u,\"accepted\":%" PRIu64 ",\"refused\":%" PRIu64 "}",
		HEARTH_VERSION, HEARTH_GITREV, CONFIG_BOARD_NAME, time_now_ms() / 1000,
		time_wall_valid() ? "true" : "false", time_wall_ns() / 1000000000,
		ns.time_synced ? "true" : "false", ns.ifname, ns.mac, ns.up ? "true" : "false",
		ns.dhcp ? "true" : "false", ns.ipv4, ns.netmask, ns.gateway, ns.ipv6[0], ns.ipv6[1],
		hs.open, hs.max, hs.accepted, hs.refused);
#ifdef CONFIG_STORE
	n += (size_t)storage_json(json + n, sizeof(json) - n);
#endif
	if (n + 2 >= sizeof(json))
		return http_resp_json(resp, 500, "{\"error\":{\"code\":\"internal\",\"message\":\"health too long\"}}");
	json[n++] = '}';
	json[n] = 0;
	return http_resp_json(resp, 200, json) ? -EIO : 0;
}

static const struct http_route routes[] = {
	{.method = "GET", .path = "/api/v1/health", .handler = health},
};

int hub_api_start(void)
{
	return stack_httpd_start(routes, sizeof(routes) / sizeof(routes[0]), 16);
}
