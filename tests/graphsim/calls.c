/* The Graph calls API, the call legs the simulator knows, its request log. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "graphsim.h"
#include "jsonx.h"
#include "log.h"
#include "xmalloc.h"

#define CALLS_PREFIX	"/communications/calls/"
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Enum values as Graph's CSDL spells them; matched ignoring case. */
static const char *const reject_reasons[] = { "none", "busy", "forbidden" };
static const char *const recording_statuses[] = {
	"notRecording", "recording", "failed"
};

/*
 * One calls-API request while it is being answered.  It may outlive its
 * evhttp_request (a dropped connection), so it keeps its own copies.
 */
struct call_request {
	struct sim		*sim;
	struct evhttp_request	*req;
	const struct call_action *ca;
	int			 method_ok;
	enum evhttp_cmd_type	 method;
	char			*path;
	char			 version[8];	/* v1.0 or beta */
	char			*call_id;
	char			*segment;	/* after the id, or NULL */
	enum sim_action		 action;
	char			*client_request_id;
	char			 request_id[SIM_UUID_LEN + 1];
	cJSON			*body;
	int			 body_invalid;
	int			 auth_ok;
	int			 status;	/* 0: dropped */
	struct sim_fault	 fault;
	const char		*fault_kind;	/* for the record, or NULL */
};

typedef void	(*action_fn)(struct call_request *, struct sim_call *);

static void	do_answer(struct call_request *, struct sim_call *);
static void	do_reject(struct call_request *, struct sim_call *);
static void	do_redirect(struct call_request *, struct sim_call *);
static void	do_update_recording(struct call_request *,
		    struct sim_call *);
static void	do_keepalive(struct call_request *, struct sim_call *);
static void	do_delete(struct call_request *, struct sim_call *);
static void	do_get(struct call_request *, struct sim_call *);

static const struct call_action {
	enum sim_action		 action;
	const char		*segment;	/* NULL: the call itself */
	enum evhttp_cmd_type	 method;
	action_fn		 handle;
} call_actions[] = {
	{ SIM_ACT_ANSWER, "answer", EVHTTP_REQ_POST, do_answer },
	{ SIM_ACT_REJECT, "reject", EVHTTP_REQ_POST, do_reject },
	{ SIM_ACT_REDIRECT, "redirect", EVHTTP_REQ_POST, do_redirect },
	{ SIM_ACT_UPDATE_RECORDING_STATUS, "updateRecordingStatus",
	    EVHTTP_REQ_POST, do_update_recording },
	{ SIM_ACT_KEEPALIVE, "keepAlive", EVHTTP_REQ_POST, do_keepalive },
	{ SIM_ACT_DELETE, NULL, EVHTTP_REQ_DELETE, do_delete },
	{ SIM_ACT_GET, NULL, EVHTTP_REQ_GET, do_get },
};

static const struct call_action *classify(struct call_request *, int *);
static void	dispatch(struct call_request *);
static void	resume_fault(struct sim *, struct evhttp_request *, void *);
static void	apply_fault(struct call_request *);
static void	finish(struct call_request *);
static void	reply(struct call_request *, int, const cJSON *);
static void	reply_error(struct call_request *, int, const char *,
		    const char *);
static void	record(struct call_request *);
static struct sim_call *call_find(struct sim *, const char *);
static struct sim_call *call_add(struct sim *, const char *);
static void	call_free(struct sim *, struct sim_call *);
static unsigned int call_bucket(const char *);

/* "/v1.0/communications/calls/..." or "/beta/communications/calls/...". */
int
calls_match_path(const char *path)
{
	return strncmp(path, "/v1.0" CALLS_PREFIX,
	    sizeof("/v1.0" CALLS_PREFIX) - 1) == 0 ||
	    strncmp(path, "/beta" CALLS_PREFIX,
	    sizeof("/beta" CALLS_PREFIX) - 1) == 0;
}

void
calls_handle(struct sim *sim, struct evhttp_request *req, const char *path)
{
	struct call_request		*creq;
	struct evkeyvalq		*in;
	const char			*rest, *crid;
	char				*body;
	size_t				 len;

	in = evhttp_request_get_input_headers(req);
	creq = xcalloc(1, sizeof(*creq));
	creq->sim = sim;
	creq->req = req;
	creq->method = evhttp_request_get_command(req);
	creq->path = xstrdup(path);
	snprintf(creq->version, sizeof(creq->version), "%.*s",
	    (int)strcspn(path + 1, "/"), path + 1);
	rest = path + 1 + strlen(creq->version) + sizeof(CALLS_PREFIX) - 1;
	creq->call_id = xstrndup(rest, strcspn(rest, "/"));
	rest += strlen(creq->call_id);
	if (*rest == '/' && rest[1] != '\0')
		creq->segment = xstrdup(rest + 1);
	if ((crid = evhttp_find_header(in, "client-request-id")) != NULL)
		creq->client_request_id = xstrdup(crid);
	sim_make_uuid(creq->request_id);
	creq->ca = classify(creq, &creq->method_ok);
	creq->action = creq->ca != NULL ? creq->ca->action : SIM_ACT_UNKNOWN;

	if ((body = sim_read_body(req, &len)) != NULL) {
		creq->body = cJSON_ParseWithLength(body, len);
		creq->body_invalid = creq->body == NULL;
		free(body);
	}
	creq->auth_ok = idp_check_bearer(sim,
	    evhttp_find_header(in, "Authorization")) == 0;
	sim->stats.requests++;
	sim->stats.actions[creq->action]++;

	if (!creq->auth_ok) {
		sim->stats.auth_failures++;
		reply_error(creq, HTTP_UNAUTHORIZED,
		    "InvalidAuthenticationToken",
		    "Access token is empty, invalid or expired.");
	} else if (creq->action != SIM_ACT_UNKNOWN &&
	    faults_take(sim, creq->action, &creq->fault)) {
		/* Drops always go through a timer: see sim_drop. */
		if (creq->fault.delay_ms > 0 || creq->fault.drop) {
			sim_defer(sim, req, creq->fault.delay_ms,
			    resume_fault, creq);
			return;
		}
		apply_fault(creq);
	} else
		dispatch(creq);
	finish(creq);
}

/* What the simulator answers when no fault intervenes. */
static void
dispatch(struct call_request *creq)
{
	const struct call_action	*ca = creq->ca;
	struct sim_call			*call;

	if (ca == NULL && !creq->method_ok)
		reply_error(creq, HTTP_BADMETHOD, "MethodNotAllowed",
		    "The HTTP method is not allowed for this resource.");
	else if (ca == NULL || creq->call_id[0] == '\0')
		reply_error(creq, HTTP_BADREQUEST, "BadRequest",
		    "Resource not found for the segment.");
	else if (creq->body_invalid)
		reply_error(creq, HTTP_BADREQUEST, "BadRequest",
		    "The request body is not valid JSON.");
	else if ((call = call_find(creq->sim, creq->call_id)) == NULL ||
	    call->deleted || call->rejected)
		reply_error(creq, HTTP_NOTFOUND, "8522", "Call not found.");
	else
		ca->handle(creq, call);
}

static void
resume_fault(struct sim *sim, struct evhttp_request *req, void *arg)
{
	struct call_request	*creq = arg;

	(void)sim;
	(void)req;
	apply_fault(creq);
	finish(creq);
}

/* Drop the connection, answer the fault's status, or answer late as usual. */
static void
apply_fault(struct call_request *creq)
{
	const struct sim_fault	*f = &creq->fault;
	char			 secs[16];

	if (f->drop) {
		creq->fault_kind = "drop";
		sim_drop(creq->req);
		creq->req = NULL;
		return;
	}
	if (f->status == 0) {
		creq->fault_kind = "delay";
		dispatch(creq);
		return;
	}
	creq->fault_kind = "status";
	if (f->retry_after > 0) {
		snprintf(secs, sizeof(secs), "%d", f->retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(creq->req),
		    "Retry-After", secs);
	}
	reply_error(creq, f->status, f->status == HTTP_TOOMANYREQUESTS ?
	    "TooManyRequests" : "ServiceNotAvailable",
	    "Fault injected by the simulator.");
}

static void
finish(struct call_request *creq)
{
	log_debug("%s %s: %s call %s -> %d%s%s", sim_method_name(
	    creq->method), creq->path, sim_action_name(creq->action),
	    creq->call_id, creq->status, creq->fault_kind != NULL ?
	    ", fault " : "", creq->fault_kind != NULL ? creq->fault_kind :
	    "");
	record(creq);
	cJSON_Delete(creq->body);
	free(creq->client_request_id);
	free(creq->segment);
	free(creq->call_id);
	free(creq->path);
	free(creq);
}

/*
 * The action a request names.  The C# SDK uses the namespace-qualified
 * form (microsoft.graph.answer) and both are valid OData.  NULL with
 * *method_ok == 0 when the resource exists but not for this method.
 */
static const struct call_action *
classify(struct call_request *creq, int *method_ok)
{
	const char		*seg = creq->segment;
	enum evhttp_cmd_type	 method;
	size_t			 i;

	method = creq->method;
	*method_ok = 1;
	if (seg != NULL && strncmp(seg, "microsoft.graph.", 16) == 0)
		seg += 16;
	for (i = 0; i < NELEM(call_actions); i++) {
		const struct call_action *ca = &call_actions[i];

		if (ca->segment == NULL ? seg != NULL :
		    seg == NULL || strcmp(seg, ca->segment) != 0)
			continue;
		if (ca->method == method)
			return ca;
		*method_ok = 0;
	}
	return NULL;
}

static void
do_answer(struct call_request *creq, struct sim_call *call)
{
	const char	*cb;

	if (call->answered) {
		reply_error(creq, HTTP_CONFLICT, "Conflict",
		    "Call has already been answered.");
		return;
	}
	if (jsonx_object(creq->body, "mediaConfig") == NULL) {
		reply_error(creq, HTTP_BADREQUEST, "BadRequest",
		    "mediaConfig is required.");
		return;
	}
	call->answered = 1;
	snprintf(call->state, sizeof(call->state), "establishing");
	cb = jsonx_string(creq->body, "callbackUri");
	free(call->callback_uri);
	call->callback_uri = cb != NULL ? xstrdup(cb) : NULL;
	/*
	 * Here the simulator will later post establishing and established
	 * to call->callback_uri (or the default target) via notify_send.
	 */
	reply(creq, HTTP_ACCEPTED, NULL);
}

static void
do_reject(struct call_request *creq, struct sim_call *call)
{
	const cJSON	*reason;

	if (call->answered) {
		reply_error(creq, HTTP_CONFLICT, "Conflict",
		    "Call has already been answered.");
		return;
	}
	if (creq->body != NULL && !cJSON_IsObject(creq->body)) {
		reply_error(creq, HTTP_BADREQUEST, "BadRequest",
		    "The request body must be an object.");
		return;
	}
	reason = jsonx_get(creq->body, "reason");
	if (reason != NULL && jsonx_match(cJSON_GetStringValue(reason),
	    reject_reasons, NELEM(reject_reasons)) == -1) {
		reply_error(creq, HTTP_BADREQUEST, "BadRequest",
		    "reason must be none, busy or forbidden.");
		return;
	}
	call->rejected = 1;
	snprintf(call->state, sizeof(call->state), "terminated");
	reply(creq, HTTP_ACCEPTED, NULL);
}

static void
do_redirect(struct call_request *creq, struct sim_call *call)
{
	const cJSON	*targets;

	if (call->answered) {
		reply_error(creq, HTTP_CONFLICT, "Conflict",
		    "Call has already been answered.");
		return;
	}
	targets = jsonx_array(creq->body, "targets");
	if (jsonx_count(targets, 1) == 0) {
		reply_error(creq, HTTP_BADREQUEST, "BadRequest",
		    "targets is required.");
		return;
	}
	/* The invitation leaves this bot: to it the call is gone. */
	call->rejected = 1;
	snprintf(call->state, sizeof(call->state), "terminated");
	reply(creq, HTTP_ACCEPTED, NULL);
}

static void
do_update_recording(struct call_request *creq, struct sim_call *call)
{
	const cJSON	*status, *ctx;
	cJSON		*op;
	char		 opid[SIM_UUID_LEN + 1], *location;

	status = jsonx_get(creq->body, "status");
	ctx = jsonx_get(creq->body, "clientContext");
	if (jsonx_match(cJSON_GetStringValue(status), recording_statuses,
	    NELEM(recording_statuses)) == -1) {
		reply_error(creq, HTTP_BADREQUEST, "BadRequest",
		    "status must be notRecording, recording or failed.");
		return;
	}
	if (ctx != NULL && (!cJSON_IsString(ctx) ||
	    strlen(ctx->valuestring) > 256)) {
		reply_error(creq, HTTP_BADREQUEST, "BadRequest",
		    "clientContext must be a string of at most 256 "
		    "characters.");
		return;
	}
	sim_make_uuid(opid);
	xasprintf(&location, "%s/%s%s%s/operations/%s", creq->sim->self_url,
	    creq->version, CALLS_PREFIX, call->id, opid);
	evhttp_add_header(evhttp_request_get_output_headers(creq->req),
	    "Location", location);
	op = cJSON_CreateObject();
	cJSON_AddStringToObject(op, "@odata.type",
	    "#microsoft.graph.updateRecordingStatusOperation");
	if (ctx != NULL)
		cJSON_AddStringToObject(op, "clientContext", ctx->valuestring);
	else
		cJSON_AddNullToObject(op, "clientContext");
	cJSON_AddStringToObject(op, "id", opid);
	cJSON_AddNullToObject(op, "resultInfo");
	cJSON_AddStringToObject(op, "status", "completed");
	reply(creq, HTTP_OK, op);
	cJSON_Delete(op);
	free(location);
}

static void
do_keepalive(struct call_request *creq, struct sim_call *call)
{
	(void)call;
	reply(creq, HTTP_OK, NULL);
}

static void
do_delete(struct call_request *creq, struct sim_call *call)
{
	call->deleted = 1;
	snprintf(call->state, sizeof(call->state), "terminated");
	reply(creq, HTTP_NOCONTENT, NULL);
}

static void
do_get(struct call_request *creq, struct sim_call *call)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "@odata.type", "#microsoft.graph.call");
	cJSON_AddStringToObject(o, "id", call->id);
	cJSON_AddStringToObject(o, "state", call->state);
	if (call->callback_uri != NULL)
		cJSON_AddStringToObject(o, "callbackUri", call->callback_uri);
	reply(creq, HTTP_OK, o);
	cJSON_Delete(o);
}

/* NULL body: no body at all (202, 204, keepAlive's 200). */
static void
reply(struct call_request *creq, int status, const cJSON *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(creq->req),
	    "request-id", creq->request_id);
	creq->status = status;
	if (body != NULL)
		sim_reply_json(creq->req, status, body);
	else
		sim_reply(creq->req, status, NULL, 0);
}

/* Graph's error body, with the request ids in innerError. */
static void
reply_error(struct call_request *creq, int status, const char *code,
    const char *message)
{
	cJSON	*o, *err, *inner;
	char	 date[32];

	sim_format_time(date, sizeof(date), 0);
	o = cJSON_CreateObject();
	err = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", message);
	inner = cJSON_AddObjectToObject(err, "innerError");
	cJSON_AddStringToObject(inner, "request-id", creq->request_id);
	cJSON_AddStringToObject(inner, "date", date);
	cJSON_AddStringToObject(inner, "client-request-id",
	    creq->client_request_id != NULL ? creq->client_request_id : "");
	reply(creq, status, o);
	cJSON_Delete(o);
}

/* Append to the ring (oldest dropped) and the -r file. */
static void
record(struct call_request *creq)
{
	struct sim	*sim = creq->sim;
	cJSON		*r;
	char		 stamp[32], *line;
	size_t		 slot;

	sim_format_time(stamp, sizeof(stamp), 1);
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "time", stamp);
	cJSON_AddStringToObject(r, "method", sim_method_name(creq->method));
	cJSON_AddStringToObject(r, "path", creq->path);
	cJSON_AddStringToObject(r, "version", creq->version);
	cJSON_AddStringToObject(r, "action", sim_action_name(creq->action));
	cJSON_AddStringToObject(r, "call_id", creq->call_id);
	if (creq->client_request_id != NULL)
		cJSON_AddStringToObject(r, "client_request_id",
		    creq->client_request_id);
	else
		cJSON_AddNullToObject(r, "client_request_id");
	cJSON_AddStringToObject(r, "request_id", creq->request_id);
	cJSON_AddBoolToObject(r, "auth_ok", creq->auth_ok);
	cJSON_AddNumberToObject(r, "status", creq->status);
	if (creq->body != NULL) {
		cJSON_AddItemToObject(r, "body", creq->body);
		creq->body = NULL;
	} else
		cJSON_AddNullToObject(r, "body");
	if (creq->fault_kind != NULL)
		cJSON_AddStringToObject(r, "fault", creq->fault_kind);
	if ((line = cJSON_PrintUnformatted(r)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	cJSON_Delete(r);

	if (sim->reqlog != NULL && (fprintf(sim->reqlog, "%s\n", line) < 0 ||
	    fflush(sim->reqlog) == EOF))
		log_warn("request log");
	if (sim->nrecords < SIM_MAX_RECORDS) {
		slot = (sim->records_head + sim->nrecords) % SIM_MAX_RECORDS;
		sim->nrecords++;
	} else {
		slot = sim->records_head;
		sim->records_head = (sim->records_head + 1) % SIM_MAX_RECORDS;
		cJSON_free(sim->records[slot]);
	}
	sim->records[slot] = line;
}

/* GET /_sim/requests: the recorded requests, oldest first. */
void
calls_write_records(struct sim *sim, struct evhttp_request *req)
{
	struct evbuffer	*b;
	size_t		 i;

	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	evbuffer_add(b, "[", 1);
	for (i = 0; i < sim->nrecords; i++) {
		if (i > 0)
			evbuffer_add(b, ",\n", 2);
		evbuffer_add_printf(b, "%s", sim->records[
		    (sim->records_head + i) % SIM_MAX_RECORDS]);
	}
	evbuffer_add(b, "]\n", 2);
	sim_reply(req, HTTP_OK, (const char *)evbuffer_pullup(b, -1),
	    evbuffer_get_length(b));
	evbuffer_free(b);
}

void
calls_clear_records(struct sim *sim)
{
	size_t	 i;

	for (i = 0; i < sim->nrecords; i++)
		cJSON_free(sim->records[(sim->records_head + i) %
		    SIM_MAX_RECORDS]);
	sim->records_head = sim->nrecords = 0;
}

/*
 * Learn the call legs a notification about to be posted names.  A
 * created call starts afresh (scenarios replay the same ids); a deleted
 * call is gone, as it is for Graph once the leg has ended.
 */
void
calls_register(struct sim *sim, const cJSON *notification)
{
	const cJSON	*v;
	struct sim_call	*call;
	const char	*url, *id, *change, *state;
	char		*cid;
	size_t		 idlen;

	cJSON_ArrayForEach(v, jsonx_array(notification, "value")) {
		url = jsonx_string(v, "resourceUrl");
		if (url == NULL || strncmp(url, CALLS_PREFIX,
		    sizeof(CALLS_PREFIX) - 1) != 0)
			continue;
		id = url + sizeof(CALLS_PREFIX) - 1;
		if ((idlen = strcspn(id, "/")) == 0 || idlen > 256)
			continue;
		cid = xstrndup(id, idlen);
		if ((call = call_find(sim, cid)) == NULL)
			call = call_add(sim, cid);
		free(cid);
		if (id[idlen] != '\0')
			continue;	/* participants, operations, ... */

		change = jsonx_string(v, "changeType");
		state = jsonx_string(jsonx_object(v, "resourceData"), "state");
		if (change != NULL && strcasecmp(change, "created") == 0) {
			call->answered = call->rejected = call->deleted = 0;
			free(call->callback_uri);
			call->callback_uri = NULL;
		} else if (change != NULL && strcasecmp(change, "deleted") == 0)
			call->deleted = 1;
		if (state != NULL)
			snprintf(call->state, sizeof(call->state), "%s", state);
	}
}

void
calls_clear(struct sim *sim)
{
	struct sim_call	*call;

	while ((call = TAILQ_FIRST(&sim->calls_by_age)) != NULL)
		call_free(sim, call);
}

static unsigned int
call_bucket(const char *id)
{
	uint32_t	 h = 2166136261u;	/* FNV-1a */

	for (; *id != '\0'; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % SIM_CALL_BUCKETS;
}

static struct sim_call *
call_find(struct sim *sim, const char *id)
{
	struct sim_call	*call;

	LIST_FOREACH(call, &sim->calls[call_bucket(id)], hash)
		if (strcmp(call->id, id) == 0)
			return call;
	return NULL;
}

static struct sim_call *
call_add(struct sim *sim, const char *id)
{
	struct sim_call	*call;

	if (sim->ncalls >= SIM_MAX_CALLS)
		call_free(sim, TAILQ_FIRST(&sim->calls_by_age));
	call = xcalloc(1, sizeof(*call));
	call->id = xstrdup(id);
	snprintf(call->state, sizeof(call->state), "incoming");
	LIST_INSERT_HEAD(&sim->calls[call_bucket(id)], call, hash);
	TAILQ_INSERT_TAIL(&sim->calls_by_age, call, age);
	sim->ncalls++;
	return call;
}

static void
call_free(struct sim *sim, struct sim_call *call)
{
	LIST_REMOVE(call, hash);
	TAILQ_REMOVE(&sim->calls_by_age, call, age);
	sim->ncalls--;
	free(call->callback_uri);
	free(call->id);
	free(call);
}
