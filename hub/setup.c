/*
 * setup.c: first run (docs/security.md). GET /api/v1/setup says whether
 * the device has an owner; POST /api/v1/setup {claim_code, password} sets
 * the owner password once, with the claim code printed on the console,
 * and logs the owner in (a session cookie, like POST /api/v1/session).
 * Assumes: hub_session_init() ran. Leaves out: anything but the password
 * (network, time and the rest are settings pages after claiming).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../stack/http.h"
#include "cJSON.h"
#include "mbedtls/platform_util.h"
#include "reply.h"
#include "session.h"

int hub_setup_get(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	return http_resp_json(resp, 200,
			      hub_session_claimed()
				      ? "{\"claimed\":true}"
				      : "{\"claimed\":false,\"claim_code_on\":\"console\","
					"\"password_rules\":\"at least 12 characters of at least two "
					"kinds (lower case, upper case, digits, others)\"}")
		       ? -EIO
		       : 0;
}

int hub_setup_post(struct http_req *req, struct http_resp *resp, void *arg)
{
	(void)arg;
	char code[40] = "", pw[140] = "", csrf[65];
	int err = 0;
	if (hub_session_claimed())
		return hub_reply_error(resp, 409, "already_claimed",
				       "the device already has an owner; log in (POST /api/v1/session)");
	if (hub_limit_check(req, resp, HUB_LIMIT_CLAIM))
		return 0;
	cJSON *j = req->body_len ? cJSON_ParseWithLength((const char *)req->body, req->body_len)
				 : NULL;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "claim_code");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "password");
	if (!cJSON_IsObject(j) || !cJSON_IsString(c) || !cJSON_IsString(p) ||
	    strlen(c->valuestring) >= sizeof(code) || strlen(p->valuestring) >= sizeof(pw)) {
		err = hub_reply_error(resp, 400, "bad_request",
				      "the body must be {\"claim_code\": \"...\", \"password\": \"...\"}");
		goto out;
	}
	snprintf(code, sizeof(code), "%s", c->valuestring);
	snprintf(pw, sizeof(pw), "%s", p->valuestring);
	if (hub_claim_code_check(code)) {
		hub_limit_result(req, HUB_LIMIT_CLAIM, false);
		err = hub_reply_error(resp, 403, "wrong_claim_code",
				      "the claim code is not the one on the device's console");
		goto out;
	}
	const char *weak = hub_password_weak(pw);
	if (weak) { /* the code stays valid */
		err = hub_reply_error(resp, 422, "weak_password", "%s", weak);
		goto out;
	}
	if (hub_password_set(pw)) {
		err = hub_reply_error(resp, 503, "storage_unavailable",
				      "the password could not be stored; the device stays unclaimed");
		goto out;
	}
	hub_limit_result(req, HUB_LIMIT_CLAIM, true);
	printf("hearth: claimed: the owner password is set\n");
	if (hub_session_start(resp, csrf)) {
		err = hub_reply_error(resp, 503, "no_session", "claimed, but no session: log in");
		goto out;
	}
	char json[160];
	snprintf(json, sizeof(json), "{\"claimed\":true,\"authenticated\":true,\"csrf_token\":\"%s\"}",
		 csrf);
	err = http_resp_json(resp, 201, json) ? -EIO : 0;
	mbedtls_platform_zeroize(json, sizeof(json));
out:
	if (cJSON_IsString(p))
		mbedtls_platform_zeroize(p->valuestring, strlen(p->valuestring));
	cJSON_Delete(j);
	mbedtls_platform_zeroize(pw, sizeof(pw));
	mbedtls_platform_zeroize(code, sizeof(code));
	return err;
}
