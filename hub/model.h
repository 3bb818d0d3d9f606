/*
 * model.h: the hub's data model above the store: category names and their
 * hierarchy, devices and their tokens, and ingestion of record batches with
 * every limit checked before anything is written.
 *
 * A batch (POST /api/v1/records) is
 *   {"records":[{"id":"tv-1","category":"viewing.history","time":1700000000,
 *                "payload":{...}}, ...]}
 * id: the device's own id for the record (1..128 printable ASCII), unique
 * per device: sending it again is reported as "duplicate" and stores
 * nothing. time: Unix seconds (optional: now). payload: a JSON object of at
 * most HUB_PAYLOAD_MAX bytes (compact). The batch is all or nothing: one bad
 * record rejects it with that record's error and stores nothing. Every
 * body (batch, category, device) is one JSON value with nothing but
 * whitespace after it, and no NUL character (raw or \u0000): 400
 * malformed_json.
 * Assumes: the store; cJSON (Debian's) for request parsing.
 * Leaves out: schemas per category (payloads are any JSON object).
 */
#ifndef HUB_MODEL_H
#define HUB_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define HUB_PAYLOAD_MAX 8192	     /* bytes of one record's payload, compact JSON */
#define HUB_BATCH_MAX 500	     /* records in one batch */
#define HUB_BODY_MAX (1024 * 1024) /* bytes of one ingestion request */
#define HUB_ID_MAX 128		     /* bytes of a client-supplied record id */
#define HUB_CATEGORY_MAX 64	     /* bytes of a category name */

/* Whether (name) is a category name: lowercase [a-z0-9_] labels joined by
 * dots, 1..HUB_CATEGORY_MAX bytes. */
int hub_model_category_name_ok(const char *name);

/* The result of a request in the model: an HTTP status and a malloc'd JSON
 * body (the caller frees it), or an error code + message. */
struct model_reply {
	int status;
	char *json;	    /* success body, or NULL */
	const char *code;   /* error code when json == NULL */
	char message[200];
};

/* Ingests batch (body, len) for (device). */
void hub_model_ingest(int64_t device, const char *body, size_t len, struct model_reply *out);
/* {"name":..., "description":...}: adds a category (201). */
void hub_model_category_add(const char *body, size_t len, struct model_reply *out);
/* {"name":...}: adds a device and returns its token, once (201). */
void hub_model_device_add(const char *body, size_t len, struct model_reply *out);

#endif
