/*
 * The fault table: errors, latency and dropped connections on demand, for
 * the calls API, the token endpoint and the media agent.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/http.h>

#include "graphsim.h"
#include "jsonx.h"
#include "log.h"
#include "xmalloc.h"

#define FAULT_MAX_COUNT		1000000
#define FAULT_MAX_RETRY_AFTER	86400

static const char *const fault_keys[] = {
	"action", "status", "count", "retry_after", "delay_ms", "drop", NULL
};

static const char	*row_name(int);
static int		 row_find(const char *);
static int		 parse_fault(const cJSON *, int *, struct sim_fault *,
			    const char **);

/*
 * A calls-API action's name, "token" for the token endpoint, "media" and
 * "media_end" for the media agent's POST and DELETE, "tsa" for the time
 * stamping authority.
 */
static const char *
row_name(int row)
{
	switch (row) {
	case SIM_FAULT_TOKEN:
		return "token";
	case SIM_FAULT_MEDIA:
		return "media";
	case SIM_FAULT_MEDIA_END:
		return "media_end";
	case SIM_FAULT_TSA:
		return "tsa";
	case SIM_FAULT_WITNESS:
		return "witness";
	default:
		return sim_action_name(row);
	}
}

static int
row_find(const char *name)
{
	int	 row;

	for (row = 0; row < SIM_FAULT_MAX; row++)
		if (row != SIM_ACT_UNKNOWN && strcmp(name, row_name(row)) == 0)
			return row;
	return -1;
}

/*
 * Consume one armed fault of the row: 1 with a copy in *f, else 0.  The
 * caller applies it; a drop or a delay must go through sim_defer.
 */
int
faults_take(struct sim *sim, int row, struct sim_fault *f)
{
	struct sim_fault	*armed = &sim->faults[row];

	if (armed->count == 0)
		return 0;
	armed->count--;
	*f = *armed;
	sim->stats.faults_injected++;
	log_debug("fault on %s: status %d, delay %d ms%s, %u left",
	    row_name(row), f->status, f->delay_ms, f->drop ? ", drop" : "",
	    armed->count);
	return 1;
}

/*
 * POST /_sim/faults {"action": A, "status": S, "count": N,
 * "retry_after": R, "delay_ms": D, "drop": B}: the next N (default 1)
 * requests of A wait D ms, then are dropped (B) or answered S (with
 * Retry-After: R when R > 0), or, without S, answered normally.  Arming
 * a row replaces what it held.  Calls-API requests without a valid token
 * get their 401 and leave the fault armed.
 */
void
faults_arm(struct sim *sim, struct evhttp_request *req)
{
	struct sim_fault	 f;
	cJSON			*json = NULL;
	const char		*errstr;
	char			*body;
	size_t			 len;
	int			 row;

	if ((body = sim_read_body(req, &len)) == NULL ||
	    (json = cJSON_ParseWithLength(body, len)) == NULL) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "the body must be a JSON fault");
		goto done;
	}
	if (parse_fault(json, &row, &f, &errstr) == -1) {
		sim_reply_error(req, HTTP_BADREQUEST, errstr);
		goto done;
	}
	sim->faults[row] = f;
	log_info("fault armed on %s: %u x status %d, delay %d ms%s",
	    row_name(row), f.count, f.status, f.delay_ms,
	    f.drop ? ", drop" : "");
	faults_show(sim, req);
 done:
	cJSON_Delete(json);
	free(body);
}

/* DELETE /_sim/faults: disarm every row. */
void
faults_clear(struct sim *sim, struct evhttp_request *req)
{
	memset(sim->faults, 0, sizeof(sim->faults));
	faults_show(sim, req);
}

static int
parse_fault(const cJSON *j, int *row, struct sim_fault *f,
    const char **errstr)
{
	const cJSON	*x;
	const char	*const *k;
	long long	 v;

	memset(f, 0, sizeof(*f));
	if (!cJSON_IsObject(j)) {
		*errstr = "the body must be a JSON object";
		return -1;
	}
	cJSON_ArrayForEach(x, j) {
		for (k = fault_keys; *k != NULL; k++)
			if (strcmp(x->string, *k) == 0)
				break;
		if (*k == NULL) {
			*errstr = "unknown key; expected action, status, "
			    "count, retry_after, delay_ms, drop";
			return -1;
		}
	}
	x = cJSON_GetObjectItemCaseSensitive(j, "action");
	if (!cJSON_IsString(x) || (*row = row_find(x->valuestring)) == -1) {
		*errstr = "action must be answer, reject, redirect, "
		    "updateRecordingStatus, keepAlive, delete, get, token, "
		    "media, media_end or tsa";
		return -1;
	}
	f->count = 1;
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "count")) != NULL) {
		if (!cJSON_IsNumber(x) || jsonx_item_integer(x, 1,
		    FAULT_MAX_COUNT, &v) == -1) {
			*errstr = "count must be an integer from 1 to 1000000";
			return -1;
		}
		f->count = v;
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "status")) != NULL) {
		if (!cJSON_IsNumber(x) ||
		    jsonx_item_integer(x, 100, 599, &v) == -1) {
			*errstr = "status must be an HTTP status code";
			return -1;
		}
		f->status = v;
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "retry_after")) != NULL) {
		if (!cJSON_IsNumber(x) || jsonx_item_integer(x, 0,
		    FAULT_MAX_RETRY_AFTER, &v) == -1) {
			*errstr = "retry_after must be seconds, 0 to 86400";
			return -1;
		}
		f->retry_after = v;
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "delay_ms")) != NULL) {
		if (!cJSON_IsNumber(x) || jsonx_item_integer(x, 0,
		    SIM_FAULT_MAX_DELAY_MS, &v) == -1) {
			*errstr = "delay_ms must be an integer from 0 to "
			    "600000";
			return -1;
		}
		f->delay_ms = v;
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "drop")) != NULL) {
		if (!cJSON_IsBool(x)) {
			*errstr = "drop must be true or false";
			return -1;
		}
		f->drop = cJSON_IsTrue(x);
	}
	if (f->drop && f->status != 0) {
		*errstr = "a dropped connection has no status";
		return -1;
	}
	if (f->retry_after > 0 && f->status == 0) {
		*errstr = "retry_after needs a status";
		return -1;
	}
	if (!f->drop && f->status == 0 && f->delay_ms == 0) {
		*errstr = "the fault does nothing: give a status, a delay_ms "
		    "or drop";
		return -1;
	}
	return 0;
}

/* GET /_sim/faults: {"faults": [{"action": ..., "count": ...}, ...]}. */
void
faults_show(struct sim *sim, struct evhttp_request *req)
{
	const struct sim_fault	*f;
	cJSON			*o, *a, *r;
	int			 row;

	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "faults");
	for (row = 0; row < SIM_FAULT_MAX; row++) {
		f = &sim->faults[row];
		if (f->count == 0)
			continue;
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "action", row_name(row));
		cJSON_AddNumberToObject(r, "status", f->status);
		cJSON_AddNumberToObject(r, "count", f->count);
		cJSON_AddNumberToObject(r, "retry_after", f->retry_after);
		cJSON_AddNumberToObject(r, "delay_ms", f->delay_ms);
		cJSON_AddBoolToObject(r, "drop", f->drop);
		cJSON_AddItemToArray(a, r);
	}
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}
