/*
 * The Graph calls API and the call legs the simulator knows.  Answering,
 * rejecting and hanging up set off lifecycle notifications (lifecycle.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
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
	char			*token_tid;	/* the app token's tenant */
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
static void	set_string(char **, const char *);
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
	const char			*rest, *crid, *tid;
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
	    evhttp_find_header(in, "Authorization"), &tid) == 0;
	creq->token_tid = tid != NULL ? xstrdup(tid) : NULL;
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
	else if (((call = calls_find(creq->sim, creq->call_id)) == NULL &&
	    !(creq->sim->calls_open && strlen(creq->call_id) <= SIM_MAX_ID &&
	    (call = calls_add(creq->sim, creq->call_id)) != NULL)) ||
	    calls_gone(call))
		reply_error(creq, HTTP_NOTFOUND, "8522", "Call not found.");
	else if (call->tenant_id != NULL && creq->token_tid != NULL &&
	    strcasecmp(call->tenant_id, creq->token_tid) != 0) {
		/* An app token acts only in the tenant it was issued for. */
		creq->sim->stats.token_tenant_mismatch++;
		reply_error(creq, 403, "Forbidden", "The application token "
		    "is not for the tenant of this call.");
	} else
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
	/*
	 * A 403 as the one observed for updateRecordingStatus on a call
	 * that is not a compliance recording call (code 8506); which HTTP
	 * status carries 8506 is UNCONFIRMED.
	 */
	if (f->status == 403)
		reply_error(creq, f->status, "Forbidden", "Code: 8506 API "
		    "call not allowed for non-Compliance Recording call. "
		    "(Fault injected by the simulator.)");
	else
		reply_error(creq, f->status, f->status ==
		    HTTP_TOOMANYREQUESTS ? "TooManyRequests" :
		    "ServiceNotAvailable", "Fault injected by the simulator.");
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
	free(creq->token_tid);
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
	set_string(&call->callback_uri, cb);
	reply(creq, HTTP_ACCEPTED, NULL);
	lifecycle_answered(creq->sim, call);
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
	set_string(&call->callback_uri, jsonx_string(creq->body,
	    "callbackUri"));
	reply(creq, HTTP_ACCEPTED, NULL);
	lifecycle_rejected(creq->sim, call);
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
	lifecycle_deleted(creq->sim, call);
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

/* Into the request record, with the body taken. */
static void
record(struct call_request *creq)
{
	struct sim_record	 rec;

	memset(&rec, 0, sizeof(rec));
	rec.method = creq->method;
	rec.path = creq->path;
	rec.version = creq->version;
	rec.action = sim_action_name(creq->action);
	rec.call_id = creq->call_id;
	rec.client_request_id = creq->client_request_id;
	rec.request_id = creq->request_id;
	rec.auth_ok = creq->auth_ok;
	rec.token_tid = creq->token_tid;
	rec.status = creq->status;
	rec.body = creq->body;
	creq->body = NULL;
	rec.fault = creq->fault_kind;
	records_add(creq->sim, &rec);
}

static void
set_string(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

/*
 * Learn the call legs a notification about to be posted names, with
 * their tenant and call chain for the lifecycle notifications.  A
 * created call starts afresh (scenarios replay the same ids) in a new
 * generation, which strands whatever was pending for the old one; a
 * deleted call is gone, as it is for Graph once the leg has ended.
 */
void
calls_register(struct sim *sim, const cJSON *notification)
{
	const cJSON	*v, *data;
	struct sim_call	*call;
	const char	*url, *id, *change, *state, *tenant, *chain;
	char		*cid;
	size_t		 idlen;

	cJSON_ArrayForEach(v, jsonx_array(notification, "value")) {
		url = jsonx_string(v, "resourceUrl");
		if (url == NULL || strncmp(url, CALLS_PREFIX,
		    sizeof(CALLS_PREFIX) - 1) != 0)
			continue;
		id = url + sizeof(CALLS_PREFIX) - 1;
		if ((idlen = strcspn(id, "/")) == 0 || idlen > SIM_MAX_ID)
			continue;
		cid = xstrndup(id, idlen);
		if ((call = calls_find(sim, cid)) == NULL)
			call = calls_add(sim, cid);
		free(cid);
		if (id[idlen] != '\0')
			continue;	/* participants, operations, ... */

		change = jsonx_string(v, "changeType");
		data = jsonx_object(v, "resourceData");
		state = jsonx_string(data, "state");
		if (change != NULL && strcasecmp(change, "created") == 0) {
			call->answered = call->rejected = call->deleted = 0;
			call->generation = ++sim->generation;
			set_string(&call->callback_uri, NULL);
			set_string(&call->tenant_id, NULL);
			set_string(&call->chain_id, NULL);
			set_string(&call->media_blob, NULL);
			set_string(&call->events_url, NULL);
		} else if (change != NULL && strcasecmp(change, "deleted") == 0)
			call->deleted = 1;
		if (state != NULL)
			snprintf(call->state, sizeof(call->state), "%s", state);
		if ((tenant = jsonx_string(data, "tenantId")) != NULL &&
		    strlen(tenant) <= SIM_MAX_ID)
			set_string(&call->tenant_id, tenant);
		if ((chain = jsonx_string(data, "callChainId")) != NULL &&
		    strlen(chain) <= SIM_MAX_ID)
			set_string(&call->chain_id, chain);
	}
}

/* POST /_sim/calls/open: calls the simulator did not post are known. */
void
calls_open(struct sim *sim, struct evhttp_request *req)
{
	sim->calls_open = 1;
	log_info("calls: ids never seen are new incoming calls");
	sim_reply_json(req, HTTP_OK, NULL);
}

/* Rejected, redirected, deleted or ended: Graph no longer knows it. */
int
calls_gone(const struct sim_call *call)
{
	return call->deleted || call->rejected;
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

struct sim_call *
calls_find(struct sim *sim, const char *id)
{
	struct sim_call	*call;

	LIST_FOREACH(call, &sim->calls[call_bucket(id)], hash)
		if (strcmp(call->id, id) == 0)
			return call;
	return NULL;
}

/* A new leg, in a new generation; the oldest goes when the table is full. */
struct sim_call *
calls_add(struct sim *sim, const char *id)
{
	struct sim_call	*call;

	if (sim->ncalls >= SIM_MAX_CALLS)
		call_free(sim, TAILQ_FIRST(&sim->calls_by_age));
	call = xcalloc(1, sizeof(*call));
	call->id = xstrdup(id);
	call->generation = ++sim->generation;
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
	free(call->tenant_id);
	free(call->chain_id);
	free(call->media_blob);
	free(call->events_url);
	free(call->id);
	free(call);
}
