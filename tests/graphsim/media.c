/*
 * The media agent for app-hosted media, under /media: polrecd asks it for
 * a call's media configuration blob (POST /media/calls/{id}) and releases
 * the session (DELETE); the agent posts capture events to the eventsUrl
 * polrecd gave.  Both directions carry the -m shared secret as a Bearer
 * token.  Requests and events go into the request record.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "graphsim.h"
#include "jsonx.h"
#include "log.h"
#include "xmalloc.h"

#define MEDIA_PREFIX		"/media/calls/"
#define MEDIA_MAX_EVENT		64
#define MEDIA_MAX_REASON	1024

/* One request to the agent while it is answered (it may be deferred). */
struct media_request {
	struct sim		*sim;
	struct evhttp_request	*req;
	int			 method;
	int			 row;		/* in the fault table */
	const char		*action;	/* media or media_end */
	char			*path;
	char			*call_id;
	char			*client_request_id;
	char			 request_id[SIM_UUID_LEN + 1];
	cJSON			*body;
	int			 auth_ok;
	int			 status;	/* 0: dropped */
	struct sim_fault	 fault;
	const char		*fault_kind;
};

/* A capture event due to, or on its way to, polrecd. */
struct media_event {
	TAILQ_ENTRY(media_event) entry;
	struct sim		*sim;
	struct event		*timer;
	struct notify		*inflight;
	char			*call_id;
	char			*url;
	cJSON			*body;
};

static const char *const control_keys[] = {
	"auto", "id", "event", "reason", "url", NULL
};

static int	bearer_ok(struct sim *, const char *);
static void	dispatch(struct media_request *);
static void	resume_fault(struct sim *, struct evhttp_request *, void *);
static void	apply_fault(struct media_request *);
static void	finish(struct media_request *);
static void	do_session(struct media_request *);
static void	do_release(struct media_request *);
static int	optional_string(const cJSON *, const char *);
static void	reply(struct media_request *, int, const cJSON *);
static void	reply_error(struct media_request *, int, const char *);
static int	event_schedule(struct sim *, const char *, const char *,
		    const char *, const char *, int);
static void	event_fire(evutil_socket_t, short, void *);
static void	event_done(const struct notify_result *, void *);
static void	drop_event(struct sim *, struct media_event *);
static void	cancel_events(struct sim *, const char *);

int
media_match_path(const char *path)
{
	return strcmp(path, "/media") == 0 || strncmp(path, "/media/", 7) == 0;
}

void
media_handle(struct sim *sim, struct evhttp_request *req, const char *path)
{
	struct media_request	*mreq;
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	const char		*id, *crid;
	char			*body;
	size_t			 len;
	int			 method = evhttp_request_get_command(req);

	id = path + sizeof(MEDIA_PREFIX) - 1;
	if (strncmp(path, MEDIA_PREFIX, sizeof(MEDIA_PREFIX) - 1) != 0 ||
	    *id == '\0' || strchr(id, '/') != NULL ||
	    strlen(id) > SIM_MAX_ID) {
		sim_reply_error(req, HTTP_NOTFOUND, "no such resource");
		return;
	}
	if (method != EVHTTP_REQ_POST && method != EVHTTP_REQ_DELETE) {
		sim_reply_error(req, HTTP_BADMETHOD, "method not allowed");
		return;
	}
	mreq = xcalloc(1, sizeof(*mreq));
	mreq->sim = sim;
	mreq->req = req;
	mreq->method = method;
	mreq->row = method == EVHTTP_REQ_POST ? SIM_FAULT_MEDIA :
	    SIM_FAULT_MEDIA_END;
	mreq->action = method == EVHTTP_REQ_POST ? "media" : "media_end";
	mreq->path = xstrdup(path);
	mreq->call_id = xstrdup(id);
	if ((crid = evhttp_find_header(in, "client-request-id")) != NULL)
		mreq->client_request_id = xstrdup(crid);
	sim_make_uuid(mreq->request_id);
	if ((body = sim_read_body(req, &len)) != NULL)
		mreq->body = cJSON_ParseWithLength(body, len);
	free(body);
	mreq->auth_ok = bearer_ok(sim, evhttp_find_header(in,
	    "Authorization"));
	sim->stats.media_requests++;

	if (!mreq->auth_ok) {
		sim->stats.media_auth_failures++;
		reply_error(mreq, HTTP_UNAUTHORIZED,
		    "missing or wrong Bearer secret");
	} else if (faults_take(sim, mreq->row, &mreq->fault)) {
		/* Drops always go through a timer: see sim_drop. */
		if (mreq->fault.delay_ms > 0 || mreq->fault.drop) {
			sim_defer(sim, req, mreq->fault.delay_ms,
			    resume_fault, mreq);
			return;
		}
		apply_fault(mreq);
	} else
		dispatch(mreq);
	finish(mreq);
}

/* "Bearer <secret>", compared in constant time. */
static int
bearer_ok(struct sim *sim, const char *authz)
{
	size_t	 len = strlen(sim->media_secret);

	if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0)
		return 0;
	authz += 7;
	return strlen(authz) == len &&
	    sodium_memcmp(authz, sim->media_secret, len) == 0;
}

static void
dispatch(struct media_request *mreq)
{
	if (mreq->method == EVHTTP_REQ_POST)
		do_session(mreq);
	else
		do_release(mreq);
}

static void
resume_fault(struct sim *sim, struct evhttp_request *req, void *arg)
{
	struct media_request	*mreq = arg;

	(void)sim;
	(void)req;
	apply_fault(mreq);
	finish(mreq);
}

static void
apply_fault(struct media_request *mreq)
{
	const struct sim_fault	*f = &mreq->fault;
	char			 secs[16];

	if (f->drop) {
		mreq->fault_kind = "drop";
		sim_drop(mreq->req);
		mreq->req = NULL;
		return;
	}
	if (f->status == 0) {
		mreq->fault_kind = "delay";
		dispatch(mreq);
		return;
	}
	mreq->fault_kind = "status";
	if (f->retry_after > 0) {
		snprintf(secs, sizeof(secs), "%d", f->retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(mreq->req),
		    "Retry-After", secs);
	}
	reply_error(mreq, f->status, "fault injected by the simulator");
}

static void
finish(struct media_request *mreq)
{
	struct sim_record	 rec;

	log_debug("%s %s: %s call %s -> %d%s%s",
	    sim_method_name(mreq->method), mreq->path, mreq->action,
	    mreq->call_id, mreq->status, mreq->fault_kind != NULL ?
	    ", fault " : "", mreq->fault_kind != NULL ? mreq->fault_kind : "");
	memset(&rec, 0, sizeof(rec));
	rec.method = mreq->method;
	rec.path = mreq->path;
	rec.action = mreq->action;
	rec.call_id = mreq->call_id;
	rec.client_request_id = mreq->client_request_id;
	rec.request_id = mreq->request_id;
	rec.auth_ok = mreq->auth_ok;
	rec.status = mreq->status;
	rec.body = mreq->body;
	mreq->body = NULL;
	rec.fault = mreq->fault_kind;
	records_add(mreq->sim, &rec);
	free(mreq->client_request_id);
	free(mreq->call_id);
	free(mreq->path);
	free(mreq);
}

/*
 * A session for the call: only callId (that of the path) and eventsUrl
 * are required; the others may be absent or null.  Members the contract
 * does not name are ignored, as a newer polrecd may send more.
 */
static void
do_session(struct media_request *mreq)
{
	struct sim		*sim = mreq->sim;
	struct sim_call		*call;
	const cJSON		*b = mreq->body, *x, *m;
	const char		*ctype, *events, *errstr, *v;
	char			 uuid[SIM_UUID_LEN + 1], *blob;
	cJSON			*o;

	ctype = evhttp_find_header(evhttp_request_get_input_headers(
	    mreq->req), "Content-Type");
	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0 ||
	    (ctype[16] != '\0' && ctype[16] != ';')) {
		reply_error(mreq, HTTP_BADREQUEST,
		    "Content-Type must be application/json");
		return;
	}
	if (!cJSON_IsObject(b)) {
		reply_error(mreq, HTTP_BADREQUEST,
		    "the body must be a JSON object");
		return;
	}
	x = cJSON_GetObjectItemCaseSensitive(b, "callId");
	if (!cJSON_IsString(x) || strcmp(x->valuestring, mreq->call_id) != 0) {
		reply_error(mreq, HTTP_BADREQUEST,
		    "callId must be the call id of the path");
		return;
	}
	x = cJSON_GetObjectItemCaseSensitive(b, "eventsUrl");
	if (!cJSON_IsString(x) ||
	    notify_check_target(x->valuestring, &errstr) == -1) {
		reply_error(mreq, HTTP_BADREQUEST,
		    "eventsUrl must be an http or https URL");
		return;
	}
	events = x->valuestring;
	if (!optional_string(b, "tenantId") ||
	    !optional_string(b, "callChainId") ||
	    !optional_string(b, "policyIdentifier") ||
	    !optional_string(b, "observedParticipantId")) {
		reply_error(mreq, HTTP_BADREQUEST, "tenantId, callChainId, "
		    "policyIdentifier and observedParticipantId must be "
		    "strings or null");
		return;
	}
	x = cJSON_GetObjectItemCaseSensitive(b, "modalities");
	if (x != NULL && !cJSON_IsNull(x)) {
		if (!cJSON_IsArray(x)) {
			reply_error(mreq, HTTP_BADREQUEST,
			    "modalities must be an array of strings or null");
			return;
		}
		cJSON_ArrayForEach(m, x) {
			if (!cJSON_IsString(m)) {
				reply_error(mreq, HTTP_BADREQUEST, "modalities "
				    "must be an array of strings or null");
				return;
			}
		}
	}
	x = cJSON_GetObjectItemCaseSensitive(b, "deadlineMs");
	if (x != NULL && !cJSON_IsNull(x) && !cJSON_IsNumber(x)) {
		reply_error(mreq, HTTP_BADREQUEST,
		    "deadlineMs must be a number or null");
		return;
	}

	if ((call = calls_find(sim, mreq->call_id)) == NULL)
		call = calls_add(sim, mreq->call_id);
	if (call->tenant_id == NULL &&
	    (v = jsonx_string(b, "tenantId")) != NULL &&
	    strlen(v) <= SIM_MAX_ID)
		call->tenant_id = xstrdup(v);
	if (call->chain_id == NULL &&
	    (v = jsonx_string(b, "callChainId")) != NULL &&
	    strlen(v) <= SIM_MAX_ID)
		call->chain_id = xstrdup(v);
	sim_make_uuid(uuid);
	xasprintf(&blob, "sim-blob-%s", uuid);
	free(call->media_blob);
	call->media_blob = blob;
	free(call->events_url);
	call->events_url = xstrdup(events);
	sim->stats.media_blobs_issued++;
	log_info("call %s: media session, events to %s", call->id, events);

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "blob", blob);
	reply(mreq, HTTP_OK, o);
	cJSON_Delete(o);
}

/* Absent, null or a string: 1. */
static int
optional_string(const cJSON *j, const char *key)
{
	const cJSON	*x = cJSON_GetObjectItemCaseSensitive(j, key);

	return x == NULL || cJSON_IsNull(x) || cJSON_IsString(x);
}

/* Capture stops; events not yet posted for the call are not posted. */
static void
do_release(struct media_request *mreq)
{
	struct sim	*sim = mreq->sim;
	struct sim_call	*call;

	call = calls_find(sim, mreq->call_id);
	if (call == NULL || call->media_blob == NULL) {
		reply_error(mreq, HTTP_NOTFOUND, "no media session for the "
		    "call");
		return;
	}
	free(call->media_blob);
	call->media_blob = NULL;
	free(call->events_url);
	call->events_url = NULL;
	cancel_events(sim, call->id);
	sim->stats.media_ends++;
	log_info("call %s: media session released", call->id);
	reply(mreq, HTTP_NOCONTENT, NULL);
}

static void
reply(struct media_request *mreq, int status, const cJSON *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(mreq->req),
	    "request-id", mreq->request_id);
	mreq->status = status;
	if (body != NULL)
		sim_reply_json(mreq->req, status, body);
	else
		sim_reply(mreq->req, status, NULL, 0);
}

static void
reply_error(struct media_request *mreq, int status, const char *msg)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", msg);
	reply(mreq, status, o);
	cJSON_Delete(o);
}

/* The agent starts capture once the call is established, delay_ms later. */
void
media_established(struct sim *sim, struct sim_call *call)
{
	if (!sim->media_auto || call->media_blob == NULL ||
	    call->events_url == NULL)
		return;
	event_schedule(sim, call->id, call->events_url, "captureStarted",
	    NULL, sim->lifecycle_delay_ms);
}

static int
event_schedule(struct sim *sim, const char *call_id, const char *url,
    const char *event, const char *reason, int ms)
{
	struct media_event	*me;
	struct timeval		 tv;

	if (sim->nmedia_events >= SIM_MAX_POSTS) {
		log_warnx("call %s: media event %s not posted: %d pending",
		    call_id, event, SIM_MAX_POSTS);
		sim->stats.media_events_failed++;
		return -1;
	}
	me = xcalloc(1, sizeof(*me));
	me->sim = sim;
	me->call_id = xstrdup(call_id);
	me->url = xstrdup(url);
	me->body = cJSON_CreateObject();
	cJSON_AddStringToObject(me->body, "callId", call_id);
	cJSON_AddStringToObject(me->body, "event", event);
	if (reason != NULL)
		cJSON_AddStringToObject(me->body, "reason", reason);
	if ((me->timer = evtimer_new(sim->base, event_fire, me)) == NULL)
		fatalx("evtimer_new");
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(me->timer, &tv) == -1)
		fatalx("evtimer_add");
	TAILQ_INSERT_TAIL(&sim->media_events, me, entry);
	sim->nmedia_events++;
	return 0;
}

static void
event_fire(evutil_socket_t fd, short what, void *arg)
{
	struct media_event	*me = arg;
	struct notify_spec	 spec;

	(void)fd;
	(void)what;
	memset(&spec, 0, sizeof(spec));
	spec.target = me->url;
	spec.json = me->body;
	spec.own = 1;
	spec.bearer = me->sim->media_secret;
	me->inflight = notify_send(me->sim, &spec, event_done, me);
}

/* Recorded when polrecd's answer (or the failure) is known. */
static void
event_done(const struct notify_result *r, void *arg)
{
	struct media_event	*me = arg;
	struct sim		*sim = me->sim;
	struct sim_record	 rec;
	char			 rid[SIM_UUID_LEN + 1];
	const char		*event = jsonx_string(me->body, "event");

	me->inflight = NULL;
	if (r->status >= 200 && r->status <= 299) {
		sim->stats.media_events_sent++;
		log_info("call %s: media event %s: %d", me->call_id, event,
		    r->status);
	} else {
		sim->stats.media_events_failed++;
		log_warnx("call %s: media event %s to %s: %d%s%s",
		    me->call_id, event, me->url, r->status, r->error != NULL ?
		    ", " : "", r->error != NULL ? r->error : "");
	}
	sim_make_uuid(rid);
	memset(&rec, 0, sizeof(rec));
	rec.method = EVHTTP_REQ_POST;
	rec.path = me->url;
	rec.action = "media_event";
	rec.call_id = me->call_id;
	rec.request_id = rid;
	rec.auth_ok = 1;
	rec.status = r->status;
	rec.body = me->body;
	me->body = NULL;
	rec.error = r->error;
	records_add(sim, &rec);
	drop_event(sim, me);
}

static void
drop_event(struct sim *sim, struct media_event *me)
{
	TAILQ_REMOVE(&sim->media_events, me, entry);
	sim->nmedia_events--;
	event_free(me->timer);
	cJSON_Delete(me->body);
	free(me->url);
	free(me->call_id);
	free(me);
}

/* Events for the call not yet posted (NULL: any call) are not posted. */
static void
cancel_events(struct sim *sim, const char *call_id)
{
	struct media_event	*me, *next;

	for (me = TAILQ_FIRST(&sim->media_events); me != NULL; me = next) {
		next = TAILQ_NEXT(me, entry);
		if (me->inflight == NULL && (call_id == NULL ||
		    strcmp(me->call_id, call_id) == 0))
			drop_event(sim, me);
	}
}

void
media_cancel_all(struct sim *sim)
{
	struct media_event	*me;

	while ((me = TAILQ_FIRST(&sim->media_events)) != NULL) {
		notify_cancel(sim, me->inflight);
		drop_event(sim, me);
	}
}

/* Auto-report on, no sessions, no events pending or in flight. */
void
media_reset(struct sim *sim)
{
	struct sim_call	*call;

	sim->media_auto = 1;
	media_cancel_all(sim);
	TAILQ_FOREACH(call, &sim->calls_by_age, age) {
		free(call->media_blob);
		call->media_blob = NULL;
		free(call->events_url);
		call->events_url = NULL;
	}
}

/*
 * GET /_sim/media: {"auto": true, "sessions": [{"id": ..., "blob": ...,
 * "eventsUrl": ...}, ...]}, oldest call first.
 */
void
media_show(struct sim *sim, struct evhttp_request *req)
{
	struct sim_call	*call;
	cJSON		*o, *a, *s;

	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "auto", sim->media_auto);
	a = cJSON_AddArrayToObject(o, "sessions");
	TAILQ_FOREACH(call, &sim->calls_by_age, age) {
		if (call->media_blob == NULL)
			continue;
		s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "id", call->id);
		cJSON_AddStringToObject(s, "blob", call->media_blob);
		cJSON_AddStringToObject(s, "eventsUrl", call->events_url);
		cJSON_AddItemToArray(a, s);
	}
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}

/*
 * POST /_sim/media {"auto": B} switches auto-reporting (200); {"id": ID,
 * "event": E, "reason": R, "url": U} posts one event now to U, else to
 * the call's eventsUrl (202).  Both may come in one body.  The event
 * name is not checked, so that polrecd's 400 can be tested.
 */
void
media_control(struct sim *sim, struct evhttp_request *req)
{
	const cJSON		*x, *auto_x, *id, *event, *reason, *url;
	const struct sim_call	*call;
	const char		*errstr, *target;
	const char *const	*k;
	cJSON			*j = NULL, *o;
	char			*body;
	size_t			 len;

	if ((body = sim_read_body(req, &len)) == NULL ||
	    (j = cJSON_ParseWithLength(body, len)) == NULL ||
	    !cJSON_IsObject(j)) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "the body must be a JSON object");
		goto done;
	}
	cJSON_ArrayForEach(x, j) {
		for (k = control_keys; *k != NULL; k++)
			if (strcmp(x->string, *k) == 0)
				break;
		if (*k == NULL) {
			sim_reply_error(req, HTTP_BADREQUEST, "unknown key; "
			    "expected auto, id, event, reason, url");
			goto done;
		}
	}
	auto_x = cJSON_GetObjectItemCaseSensitive(j, "auto");
	id = cJSON_GetObjectItemCaseSensitive(j, "id");
	event = cJSON_GetObjectItemCaseSensitive(j, "event");
	reason = cJSON_GetObjectItemCaseSensitive(j, "reason");
	url = cJSON_GetObjectItemCaseSensitive(j, "url");
	if (auto_x != NULL && !cJSON_IsBool(auto_x)) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "auto must be true or false");
		goto done;
	}
	if (auto_x == NULL && id == NULL) {
		sim_reply_error(req, HTTP_BADREQUEST, "give auto, or an id "
		    "and an event");
		goto done;
	}
	if (id != NULL && (!cJSON_IsString(id) || id->valuestring[0] == '\0' ||
	    strlen(id->valuestring) > SIM_MAX_ID ||
	    !cJSON_IsString(event) || event->valuestring[0] == '\0' ||
	    strlen(event->valuestring) > MEDIA_MAX_EVENT)) {
		sim_reply_error(req, HTTP_BADREQUEST, "id and event must be "
		    "non-empty strings");
		goto done;
	}
	if (reason != NULL && (!cJSON_IsString(reason) ||
	    strlen(reason->valuestring) > MEDIA_MAX_REASON)) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "reason must be a string of at most 1024 bytes");
		goto done;
	}
	if (url != NULL && (!cJSON_IsString(url) ||
	    notify_check_target(url->valuestring, &errstr) == -1)) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "url must be an http or https URL");
		goto done;
	}
	if (id == NULL && (event != NULL || reason != NULL || url != NULL)) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "event, reason and url need an id");
		goto done;
	}

	target = NULL;
	if (id != NULL) {
		call = calls_find(sim, id->valuestring);
		if (url != NULL)
			target = url->valuestring;
		else if (call != NULL)
			target = call->events_url;
		if (target == NULL) {
			sim_reply_error(req, call == NULL ? HTTP_NOTFOUND :
			    HTTP_CONFLICT, "no eventsUrl known for the call: "
			    "give a url");
			goto done;
		}
	}
	if (auto_x != NULL) {
		sim->media_auto = cJSON_IsTrue(auto_x);
		log_info("media: auto-report %s", sim->media_auto ?
		    "on" : "off");
	}
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "auto", sim->media_auto);
	if (id == NULL) {
		sim_reply_json(req, HTTP_OK, o);
		cJSON_Delete(o);
		goto done;
	}
	if (event_schedule(sim, id->valuestring, target, event->valuestring,
	    reason != NULL ? reason->valuestring : NULL, 0) == -1) {
		sim_reply_error(req, HTTP_SERVUNAVAIL, "too many events "
		    "pending");
		cJSON_Delete(o);
		goto done;
	}
	cJSON_AddStringToObject(o, "id", id->valuestring);
	cJSON_AddStringToObject(o, "event", event->valuestring);
	cJSON_AddStringToObject(o, "url", target);
	sim_reply_json(req, HTTP_ACCEPTED, o);
	cJSON_Delete(o);
 done:
	cJSON_Delete(j);
	free(body);
}
