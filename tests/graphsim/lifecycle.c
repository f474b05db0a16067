/* Call lifecycle notifications: what Teams posts after the bot acts. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>

#include "graphsim.h"
#include "jsonx.h"
#include "log.h"
#include "xmalloc.h"

#define NELEM(a)		(sizeof(a) / sizeof((a)[0]))
#define LIFECYCLE_MAX_TEXT	1024	/* resultInfo message */
#define LIFECYCLE_MAX_CODE	64	/* code and subcode given as text */

/*
 * One notification due about a call leg.  It waits for its timer, then
 * for the webhook's answer; a leg created afresh meanwhile (another
 * generation) strands it.
 */
struct lifecycle_post {
	TAILQ_ENTRY(lifecycle_post) entry;
	struct sim		*sim;
	struct event		*timer;
	struct notify		*inflight;
	char			*call_id;
	uint64_t		 generation;
	char			*target;	/* NULL: nowhere to post */
	cJSON			*notification;
	char			 state[16];
};

/* resultInfo's code and subcode go out as given: numbers or strings. */
struct result_info {
	cJSON		*code;
	cJSON		*subcode;
	const char	*message;
};

static const char *const mode_names[] = { "normal", "reversed", "none" };
/* A leg's states in the order it goes through them. */
static const char *const states[] = {
	"incoming", "establishing", "established", "terminating",
	"terminated"
};
static const char *const end_keys[] = {
	"id", "code", "subcode", "message", "terminating", NULL
};

static void	post_pair(struct sim *, struct sim_call *, const char *,
		    const char *, const struct result_info *, int);
static void	schedule(struct sim *, struct sim_call *, const char *,
		    const struct result_info *, int);
static const char *target_of(struct sim *, const struct sim_call *);
static cJSON	*make_notification(const struct sim_call *, const char *,
		    const char *, const struct result_info *);
static void	fire_cb(evutil_socket_t, short, void *);
static void	posted(const struct notify_result *, void *);
static void	cancel_pending(struct sim *, const char *);
static void	post_free(struct sim *, struct lifecycle_post *);
static int	parse_code(const cJSON *, const char *, int, cJSON **,
		    const char **);
static int	check_keys(const cJSON *, const char *const *);
static cJSON	*read_object(struct evhttp_request *);

/* After answer 202: establishing, then established. */
void
lifecycle_answered(struct sim *sim, struct sim_call *call)
{
	if (sim->lifecycle_mode != SIM_LIFECYCLE_NONE)
		post_pair(sim, call, "establishing", "established", NULL,
		    sim->lifecycle_mode == SIM_LIFECYCLE_REVERSED);
}

/* After reject 202: the leg is deleted at once. */
void
lifecycle_rejected(struct sim *sim, struct sim_call *call)
{
	struct result_info	 ri;

	if (sim->lifecycle_mode == SIM_LIFECYCLE_NONE)
		return;
	ri.code = cJSON_CreateNumber(200);
	ri.subcode = cJSON_CreateNumber(0);
	ri.message = "The call was rejected.";
	post_pair(sim, call, NULL, "terminated", &ri, 0);
	cJSON_Delete(ri.code);
	cJSON_Delete(ri.subcode);
}

/* After DELETE 204: terminating, then deleted. */
void
lifecycle_deleted(struct sim *sim, struct sim_call *call)
{
	struct result_info	 ri;

	cancel_pending(sim, call->id);
	if (sim->lifecycle_mode == SIM_LIFECYCLE_NONE)
		return;
	ri.code = cJSON_CreateNumber(200);
	ri.subcode = cJSON_CreateNumber(7000);
	ri.message = "The call was ended by the bot.";
	post_pair(sim, call, "terminating", "terminated", &ri,
	    sim->lifecycle_mode == SIM_LIFECYCLE_REVERSED);
	cJSON_Delete(ri.code);
	cJSON_Delete(ri.subcode);
}

/*
 * first (unless NULL) delay_ms from now and second 2 * delay_ms from
 * now, or the other way round when reversed; a lone second after
 * delay_ms.  Only the second carries the resultInfo.
 */
static void
post_pair(struct sim *sim, struct sim_call *call, const char *first,
    const char *second, const struct result_info *ri, int reversed)
{
	int	 d = sim->lifecycle_delay_ms;

	if (first == NULL) {
		schedule(sim, call, second, ri, d);
		return;
	}
	schedule(sim, call, first, NULL, reversed ? 2 * d : d);
	schedule(sim, call, second, ri, reversed ? d : 2 * d);
}

/* A terminated leg is deleted; every other state is an update. */
static void
schedule(struct sim *sim, struct sim_call *call, const char *state,
    const struct result_info *ri, int ms)
{
	struct lifecycle_post	*lp;
	struct timeval		 tv;
	const char		*target = target_of(sim, call);

	if (sim->nlifecycle_posts >= SIM_MAX_POSTS) {
		log_warnx("call %s: %s not posted: %d posts pending", call->id,
		    state, SIM_MAX_POSTS);
		sim->stats.lifecycle_failed++;
		return;
	}
	lp = xcalloc(1, sizeof(*lp));
	lp->sim = sim;
	lp->call_id = xstrdup(call->id);
	lp->generation = call->generation;
	lp->target = target != NULL ? xstrdup(target) : NULL;
	lp->notification = make_notification(call,
	    strcmp(state, "terminated") == 0 ? "deleted" : "updated", state,
	    ri);
	snprintf(lp->state, sizeof(lp->state), "%s", state);
	if ((lp->timer = evtimer_new(sim->base, fire_cb, lp)) == NULL)
		fatalx("evtimer_new");
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(lp->timer, &tv) == -1)
		fatalx("evtimer_add");
	TAILQ_INSERT_TAIL(&sim->lifecycle_posts, lp, entry);
	sim->nlifecycle_posts++;
}

/* The leg's callbackUri when it is an http(s) URL, else -u, else NULL. */
static const char *
target_of(struct sim *sim, const struct sim_call *call)
{
	const char	*errstr;

	if (call->callback_uri != NULL &&
	    notify_check_target(call->callback_uri, &errstr) == 0)
		return call->callback_uri;
	return sim->target_url;
}

static cJSON *
make_notification(const struct sim_call *call, const char *change,
    const char *state, const struct result_info *ri)
{
	cJSON	*o, *value, *n, *data, *info;
	char	*url;

	xasprintf(&url, "/communications/calls/%s", call->id);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "@odata.type",
	    "#microsoft.graph.commsNotifications");
	value = cJSON_AddArrayToObject(o, "value");
	n = cJSON_CreateObject();
	cJSON_AddItemToArray(value, n);
	cJSON_AddStringToObject(n, "@odata.type",
	    "#microsoft.graph.commsNotification");
	cJSON_AddStringToObject(n, "changeType", change);
	cJSON_AddStringToObject(n, "resourceUrl", url);
	data = cJSON_AddObjectToObject(n, "resourceData");
	cJSON_AddStringToObject(data, "@odata.type", "#microsoft.graph.call");
	cJSON_AddStringToObject(data, "@odata.id", url);
	cJSON_AddStringToObject(data, "id", call->id);
	if (call->tenant_id != NULL)
		cJSON_AddStringToObject(data, "tenantId", call->tenant_id);
	if (call->chain_id != NULL)
		cJSON_AddStringToObject(data, "callChainId", call->chain_id);
	cJSON_AddStringToObject(data, "state", state);
	if (ri != NULL) {
		info = cJSON_AddObjectToObject(data, "resultInfo");
		cJSON_AddStringToObject(info, "@odata.type",
		    "#microsoft.graph.resultInfo");
		cJSON_AddItemToObject(info, "code",
		    cJSON_Duplicate(ri->code, 1));
		cJSON_AddItemToObject(info, "subcode",
		    cJSON_Duplicate(ri->subcode, 1));
		cJSON_AddStringToObject(info, "message", ri->message);
	}
	free(url);
	return o;
}

/*
 * The leg takes the state the notification announces when it is due,
 * whether or not the webhook takes it: Teams does not wait for the bot.
 * Notifications sent out of order do not take it back.
 */
static void
fire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lifecycle_post	*lp = arg;
	struct sim		*sim = lp->sim;
	struct sim_call		*call;
	struct notify_spec	 spec;

	(void)fd;
	(void)what;
	call = calls_find(sim, lp->call_id);
	if (call == NULL || call->generation != lp->generation) {
		log_debug("call %s: %s not posted: the leg is no more",
		    lp->call_id, lp->state);
		post_free(sim, lp);
		return;
	}
	if (jsonx_match(lp->state, states, NELEM(states)) >
	    jsonx_match(call->state, states, NELEM(states)))
		snprintf(call->state, sizeof(call->state), "%s", lp->state);
	if (strcmp(lp->state, "established") == 0)
		media_established(sim, call);
	if (lp->target == NULL) {
		log_info("call %s: %s not posted: no callbackUri and no -u "
		    "target", lp->call_id, lp->state);
		sim->stats.lifecycle_untargeted++;
		post_free(sim, lp);
		return;
	}
	memset(&spec, 0, sizeof(spec));
	spec.target = lp->target;
	spec.json = lp->notification;
	spec.own = 1;
	/* Teams signs for the tenant of the call. */
	spec.tid = call->tenant_id;
	lp->inflight = notify_send(sim, &spec, posted, lp);
}

static void
posted(const struct notify_result *r, void *arg)
{
	struct lifecycle_post	*lp = arg;
	struct sim		*sim = lp->sim;

	lp->inflight = NULL;
	if (r->status >= 200 && r->status <= 299) {
		sim->stats.lifecycle_sent++;
		log_info("call %s: %s posted to %s: %d", lp->call_id,
		    lp->state, lp->target, r->status);
	} else {
		sim->stats.lifecycle_failed++;
		log_warnx("call %s: %s posted to %s: %d%s%s", lp->call_id,
		    lp->state, lp->target, r->status, r->error != NULL ?
		    ", " : "", r->error != NULL ? r->error : "");
	}
	post_free(sim, lp);
}

/* What was still to come about the leg will not come (those in flight do). */
static void
cancel_pending(struct sim *sim, const char *call_id)
{
	struct lifecycle_post	*lp, *next;

	for (lp = TAILQ_FIRST(&sim->lifecycle_posts); lp != NULL; lp = next) {
		next = TAILQ_NEXT(lp, entry);
		if (lp->inflight == NULL && strcmp(lp->call_id, call_id) == 0)
			post_free(sim, lp);
	}
}

void
lifecycle_cancel_all(struct sim *sim)
{
	struct lifecycle_post	*lp;

	while ((lp = TAILQ_FIRST(&sim->lifecycle_posts)) != NULL) {
		notify_cancel(sim, lp->inflight);
		post_free(sim, lp);
	}
}

static void
post_free(struct sim *sim, struct lifecycle_post *lp)
{
	TAILQ_REMOVE(&sim->lifecycle_posts, lp, entry);
	sim->nlifecycle_posts--;
	event_free(lp->timer);
	cJSON_Delete(lp->notification);
	free(lp->target);
	free(lp->call_id);
	free(lp);
}

/* Posts already pending keep their timing. */
void
lifecycle_reset(struct sim *sim)
{
	sim->lifecycle_mode = SIM_LIFECYCLE_NORMAL;
	sim->lifecycle_delay_ms = SIM_LIFECYCLE_DELAY_MS;
}

/* GET /_sim/lifecycle: {"mode": "normal", "delay_ms": 20}. */
void
lifecycle_show(struct sim *sim, struct evhttp_request *req)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", mode_names[sim->lifecycle_mode]);
	cJSON_AddNumberToObject(o, "delay_ms", sim->lifecycle_delay_ms);
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}

/* POST /_sim/lifecycle {"mode": M, "delay_ms": N}; either may be left out. */
void
lifecycle_set(struct sim *sim, struct evhttp_request *req)
{
	static const char *const keys[] = { "mode", "delay_ms", NULL };
	const cJSON	*x;
	cJSON		*j;
	long long	 ms = sim->lifecycle_delay_ms;
	int		 mode = sim->lifecycle_mode;

	if ((j = read_object(req)) == NULL || check_keys(j, keys) == -1) {
		sim_reply_error(req, HTTP_BADREQUEST, "expected a JSON object "
		    "with mode and delay_ms");
		goto done;
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "mode")) != NULL &&
	    (!cJSON_IsString(x) || (mode = jsonx_match(x->valuestring,
	    mode_names, NELEM(mode_names))) == -1)) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "mode must be normal, reversed or none");
		goto done;
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "delay_ms")) != NULL &&
	    (!cJSON_IsNumber(x) || jsonx_item_integer(x, 0,
	    SIM_FAULT_MAX_DELAY_MS, &ms) == -1)) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "delay_ms must be an integer from 0 to 600000");
		goto done;
	}
	sim->lifecycle_mode = mode;
	sim->lifecycle_delay_ms = ms;
	log_info("lifecycle notifications %s, %lld ms apart",
	    mode_names[mode], ms);
	lifecycle_show(sim, req);
 done:
	cJSON_Delete(j);
}

/*
 * POST /_sim/calls/end {"id": ID, "code": C, "subcode": S, "message": M,
 * "terminating": B}: Teams ends the leg.  It is gone for the calls API
 * at once; terminating (unless B is false) and deleted with that
 * resultInfo follow as after a DELETE, whatever the mode (none posts in
 * the normal order).
 */
void
lifecycle_end_call(struct sim *sim, struct evhttp_request *req)
{
	struct sim_call		*call;
	struct result_info	 ri = { NULL, NULL, NULL };
	const cJSON		*x;
	const char		*errstr, *target, *id;
	cJSON			*j, *o;
	int			 terminating;

	if ((j = read_object(req)) == NULL || check_keys(j, end_keys) == -1) {
		sim_reply_error(req, HTTP_BADREQUEST, "expected a JSON object "
		    "with id, code, subcode, message and terminating");
		goto done;
	}
	x = cJSON_GetObjectItemCaseSensitive(j, "id");
	if (!cJSON_IsString(x) || x->valuestring[0] == '\0') {
		sim_reply_error(req, HTTP_BADREQUEST, "id must be a call id");
		goto done;
	}
	id = x->valuestring;
	if (parse_code(j, "code", 200, &ri.code, &errstr) == -1 ||
	    parse_code(j, "subcode", 5001, &ri.subcode, &errstr) == -1) {
		sim_reply_error(req, HTTP_BADREQUEST, errstr);
		goto done;
	}
	ri.message = "The conversation has ended.";
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "message")) != NULL) {
		if (!cJSON_IsString(x) ||
		    strlen(x->valuestring) > LIFECYCLE_MAX_TEXT) {
			sim_reply_error(req, HTTP_BADREQUEST,
			    "message must be a string of at most 1024 bytes");
			goto done;
		}
		ri.message = x->valuestring;
	}
	x = cJSON_GetObjectItemCaseSensitive(j, "terminating");
	if (x != NULL && !cJSON_IsBool(x)) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "terminating must be true or false");
		goto done;
	}
	terminating = x == NULL || cJSON_IsTrue(x);
	if ((call = calls_find(sim, id)) == NULL) {
		sim_reply_error(req, HTTP_NOTFOUND, "no such call");
		goto done;
	}
	if (calls_gone(call)) {
		sim_reply_error(req, HTTP_CONFLICT, "the call has already "
		    "ended");
		goto done;
	}
	call->deleted = 1;
	sim->stats.calls_ended++;
	cancel_pending(sim, call->id);
	target = target_of(sim, call);
	post_pair(sim, call, terminating ? "terminating" : NULL, "terminated",
	    &ri, sim->lifecycle_mode == SIM_LIFECYCLE_REVERSED);
	log_info("call %s: ended by Teams%s", call->id,
	    terminating ? "" : " (no terminating)");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", call->id);
	if (target != NULL)
		cJSON_AddStringToObject(o, "target", target);
	else
		cJSON_AddNullToObject(o, "target");
	cJSON_AddNumberToObject(o, "posts", terminating ? 2 : 1);
	sim_reply_json(req, HTTP_ACCEPTED, o);
	cJSON_Delete(o);
 done:
	cJSON_Delete(ri.code);
	cJSON_Delete(ri.subcode);
	cJSON_Delete(j);
}

/* POST /_sim/calls/forget?id=ID: Graph forgets the leg and says nothing. */
void
lifecycle_forget_call(struct sim *sim, struct evhttp_request *req)
{
	struct sim_call	*call;
	char		*id;

	if ((id = sim_query_param(req, "id")) == NULL || id[0] == '\0')
		sim_reply_error(req, HTTP_BADREQUEST, "give ?id=CALL_ID");
	else if ((call = calls_find(sim, id)) == NULL)
		sim_reply_error(req, HTTP_NOTFOUND, "no such call");
	else {
		call->deleted = 1;
		cancel_pending(sim, call->id);
		sim->stats.calls_forgotten++;
		log_info("call %s: forgotten", call->id);
		sim_reply_json(req, HTTP_OK, NULL);
	}
	free(id);
}

/* An integer (0 to 999999) or a short string; absent: def. */
static int
parse_code(const cJSON *j, const char *key, int def, cJSON **out,
    const char **errstr)
{
	const cJSON	*x = cJSON_GetObjectItemCaseSensitive(j, key);
	long long	 v;

	*errstr = strcmp(key, "code") == 0 ?
	    "code must be an integer or a string of up to 64 bytes" :
	    "subcode must be an integer or a string of up to 64 bytes";
	if (x == NULL)
		*out = cJSON_CreateNumber(def);
	else if (cJSON_IsNumber(x) &&
	    jsonx_item_integer(x, 0, 999999, &v) == 0)
		*out = cJSON_CreateNumber(v);
	else if (cJSON_IsString(x) && x->valuestring[0] != '\0' &&
	    strlen(x->valuestring) <= LIFECYCLE_MAX_CODE)
		*out = cJSON_CreateString(x->valuestring);
	else
		return -1;
	return 0;
}

/* Every member's name is one of keys. */
static int
check_keys(const cJSON *j, const char *const *keys)
{
	const cJSON		*x;
	const char *const	*k;

	cJSON_ArrayForEach(x, j) {
		for (k = keys; *k != NULL; k++)
			if (strcmp(x->string, *k) == 0)
				break;
		if (*k == NULL)
			return -1;
	}
	return 0;
}

/* The request body as a JSON object, or NULL. */
static cJSON *
read_object(struct evhttp_request *req)
{
	cJSON	*j = NULL;
	char	*body;
	size_t	 len;

	if ((body = sim_read_body(req, &len)) != NULL)
		j = cJSON_ParseWithLength(body, len);
	free(body);
	if (j != NULL && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = NULL;
	}
	return j;
}
