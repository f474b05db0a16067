/*
 * A load of Teams notifications at a rate (POST /_sim/load), for the
 * fault suite: policy-recording invitations with fresh call ids, state
 * updates and participantJoining notifications for calls it invited, a
 * unique message id each, re-sent with the same id after a 5xx or no
 * reply as Teams does, and every attempt and final status in a log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sodium.h>

#include "graphsim.h"
#include "jsonx.h"
#include "log.h"
#include "xmalloc.h"

#define LOAD_TICK_MS		10
#define LOAD_MAX_INFLIGHT	2000	/* posts; past it the load falls behind */
#define LOAD_TOKEN_MS		1000	/* one token this long, then a new one */
#define LOAD_BACKOFF_MS		250	/* doubled per re-send */
#define LOAD_AGE_MS		3000	/* a call this old gets updates */

enum load_kind {
	LK_INVITATION,
	LK_ESTABLISHED,
	LK_TERMINATED,
	LK_JOINING,
	LK_MAX
};

static const char *const kind_names[LK_MAX] = {
	"invitation", "established", "terminated", "joining"
};

struct load_call {
	char		 id[SIM_UUID_LEN + 1];
	long long	 invited_ms;
	int		 terminated;
};

struct load_msg {
	TAILQ_ENTRY(load_msg)	 entry;
	struct load	*ld;
	char		 id[SIM_UUID_LEN + 1];
	char		 call[SIM_UUID_LEN + 1];
	enum load_kind	 kind;
	char		*body;
	int		 attempt;
	struct notify	*inflight;
	struct event	*retry;
};

struct load {
	TAILQ_ENTRY(load)	 entry;
	struct sim		*sim;
	struct evhttp_request	*req;
	char			*target;
	char			*logpath;
	FILE			*log;
	long long		 rate;
	long long		 seconds;
	int			 retries;
	int			 timeout;
	long long		 age_ms;	/* before updates to a call */
	int			 mix[LK_MAX];	/* weights */
	cJSON			*tmpl[LK_MAX];
	struct event		*tick;
	TAILQ_HEAD(, load_msg)	 msgs;		/* not final yet */
	long long		 start_ms;
	uint64_t		 due;		/* messages started */
	size_t			 live;		/* not final yet */
	size_t			 inflight;
	struct load_call	*calls;
	size_t			 ncalls, callsz;
	char			*authz;
	long long		 authz_ms;
	uint64_t		 n_msgs, n_acked, n_failed, n_attempts;
	uint64_t		 n_resent, n_kind[LK_MAX], n_behind;
};

static int	load_parse(struct load *, const cJSON *, const char **);
static void	tick_cb(evutil_socket_t, short, void *);
static void	msg_new(struct load *, long long);
static void	msg_send(struct load_msg *);
static void	msg_done(const struct notify_result *, void *);
static void	retry_cb(evutil_socket_t, short, void *);
static void	msg_final(struct load_msg *, int);
static void	load_finish(struct load *);
static void	load_free(struct load *);
static struct load_call *pick_call(struct load *, long long, int);
static void	set_string(cJSON *, const char *, const char *);

void
load_start(struct sim *sim, struct evhttp_request *req)
{
	struct load	*ld;
	struct timeval	 tv = { 0, LOAD_TICK_MS * 1000 };
	cJSON		*json = NULL;
	const char	*errstr;
	char		*body;
	size_t		 len;

	ld = xcalloc(1, sizeof(*ld));
	ld->sim = sim;
	TAILQ_INIT(&ld->msgs);
	if ((body = sim_read_body(req, &len)) == NULL ||
	    (json = cJSON_ParseWithLength(body, len)) == NULL) {
		sim_reply_error(req, HTTP_BADREQUEST, "the body must be JSON");
		goto bad;
	}
	if (load_parse(ld, json, &errstr) == -1) {
		sim_reply_error(req, HTTP_BADREQUEST, errstr);
		goto bad;
	}
	if ((ld->log = fopen(ld->logpath, "a")) == NULL) {
		log_warn("load: %s", ld->logpath);
		sim_reply_error(req, HTTP_BADREQUEST, "cannot open the log");
		goto bad;
	}
	setvbuf(ld->log, NULL, _IOLBF, 0);
	if ((ld->tick = event_new(sim->base, -1, EV_PERSIST, tick_cb,
	    ld)) == NULL || event_add(ld->tick, &tv) == -1)
		fatalx("event_new");
	ld->req = req;
	ld->start_ms = sim_monotonic_ms();
	TAILQ_INSERT_TAIL(&sim->loads, ld, entry);
	log_info("load: %lld/s for %lld s to %s, log %s", ld->rate,
	    ld->seconds, ld->target, ld->logpath);
	cJSON_Delete(json);
	free(body);
	return;
 bad:
	cJSON_Delete(json);
	free(body);
	load_free(ld);
}

static int
load_parse(struct load *ld, const cJSON *j, const char **errstr)
{
	const cJSON	*t;
	const char	*s, *mix;
	long long	 v;
	int		 i, total = 0;

	*errstr = "target and log are required strings";
	if ((s = jsonx_string(j, "target")) == NULL)
		return -1;
	if (notify_check_target(s, errstr) == -1)
		return -1;
	ld->target = xstrdup(s);
	if ((s = jsonx_string(j, "log")) == NULL)
		return -1;
	ld->logpath = xstrdup(s);
	*errstr = "rate (1-10000), seconds (1-86400), retries (0-10), "
	    "timeout (1-60) must be integers";
	ld->rate = 100;
	ld->seconds = 10;
	ld->retries = 3;
	ld->timeout = 5;
	ld->age_ms = LOAD_AGE_MS;
	if ((t = jsonx_get(j, "age_ms")) != NULL) {
		if (jsonx_item_integer(t, 0, 600000, &v) == -1)
			return -1;
		ld->age_ms = v;
	}
	if ((t = jsonx_get(j, "rate")) != NULL) {
		if (jsonx_item_integer(t, 1, 10000, &v) == -1)
			return -1;
		ld->rate = v;
	}
	if ((t = jsonx_get(j, "seconds")) != NULL) {
		if (jsonx_item_integer(t, 1, 86400, &v) == -1)
			return -1;
		ld->seconds = v;
	}
	if ((t = jsonx_get(j, "retries")) != NULL) {
		if (jsonx_item_integer(t, 0, 10, &v) == -1)
			return -1;
		ld->retries = v;
	}
	if ((t = jsonx_get(j, "timeout")) != NULL) {
		if (jsonx_item_integer(t, 1, 60, &v) == -1)
			return -1;
		ld->timeout = v;
	}
	/* Most are invitations. */
	ld->mix[LK_INVITATION] = 60;
	ld->mix[LK_ESTABLISHED] = 15;
	ld->mix[LK_TERMINATED] = 10;
	ld->mix[LK_JOINING] = 15;
	if ((mix = jsonx_string(j, "mix")) != NULL &&
	    sscanf(mix, "%d,%d,%d,%d", &ld->mix[0], &ld->mix[1], &ld->mix[2],
	    &ld->mix[3]) != 4) {
		*errstr = "mix must be four weights: inv,est,term,join";
		return -1;
	}
	for (i = 0; i < LK_MAX; i++) {
		if (ld->mix[i] < 0 || ld->mix[i] > 1000) {
			*errstr = "mix weights are 0 to 1000";
			return -1;
		}
		total += ld->mix[i];
	}
	if (ld->mix[LK_INVITATION] == 0 || total == 0) {
		*errstr = "the mix needs invitations";
		return -1;
	}
	for (i = 0; i < LK_MAX; i++) {
		t = jsonx_object(jsonx_object(j, "templates"), kind_names[i]);
		if (t == NULL || jsonx_array(t, "value") == NULL ||
		    !cJSON_IsObject(cJSON_GetArrayItem(jsonx_array(t,
		    "value"), 0))) {
			*errstr = "templates: one notification per kind "
			    "(invitation, established, terminated, joining)";
			return -1;
		}
		ld->tmpl[i] = cJSON_Duplicate(t, 1);
	}
	return 0;
}

/* Start what is due by now; when the time is up, wait for the stragglers. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load	*ld = arg;
	long long	 now = sim_monotonic_ms(), elapsed;
	uint64_t	 target;

	(void)fd;
	(void)what;
	elapsed = now - ld->start_ms;
	if (elapsed >= ld->seconds * 1000) {
		if (ld->tick != NULL) {
			event_free(ld->tick);
			ld->tick = NULL;
		}
		if (ld->live == 0)
			load_finish(ld);
		return;
	}
	target = (uint64_t)(elapsed * ld->rate / 1000);
	if (ld->authz == NULL || now - ld->authz_ms >= LOAD_TOKEN_MS) {
		const char	*errstr;
		char		*a;

		if (tokens_mint(ld->sim, TOK_CLAIMS_VALID, TOK_FORM_RS256,
		    NULL, &a, &errstr) == 0) {
			free(ld->authz);
			ld->authz = a;
			ld->authz_ms = now;
		} else
			log_warnx("load: %s", errstr);
	}
	while (ld->due < target) {
		if (ld->inflight >= LOAD_MAX_INFLIGHT) {
			ld->n_behind++;
			break;
		}
		ld->due++;
		msg_new(ld, now);
	}
}

/* Graph took an answer for the call (not a reject, not ended). */
static int
sim_answered(struct sim *sim, const char *id)
{
	struct sim_call	*call;

	return (call = calls_find(sim, id)) != NULL && call->answered &&
	    !calls_gone(call);
}

/* A call invited age_ms ago or more, not ended (unless any). */
static struct load_call *
pick_call(struct load *ld, long long now, int any)
{
	struct load_call	*c;
	size_t			 i, n, tries;

	/* Old enough: the first n of them. */
	for (n = ld->ncalls; n > 0; n--)
		if (now - ld->calls[n - 1].invited_ms >= ld->age_ms)
			break;
	if (n == 0)
		return NULL;
	for (tries = 0; tries < 8; tries++) {
		/* Recent calls are likelier: half from the newest 64. */
		if (randombytes_uniform(2) && n > 64)
			i = n - 1 - randombytes_uniform(64);
		else
			i = randombytes_uniform(n);
		c = &ld->calls[i];
		if (any || !c->terminated)
			return c;
	}
	return NULL;
}

static void
set_string(cJSON *o, const char *key, const char *value)
{
	if (o == NULL || cJSON_GetObjectItemCaseSensitive(o, key) == NULL)
		return;
	cJSON_ReplaceItemInObjectCaseSensitive(o, key,
	    cJSON_CreateString(value));
}

static void
msg_new(struct load *ld, long long now)
{
	struct load_msg		*m;
	struct load_call	*c = NULL;
	cJSON			*n, *v, *rd, *call, *ic;
	char			 url[256], part[SIM_UUID_LEN + 1];
	uint32_t		 r, total = 0, acc = 0;
	int			 i;
	enum load_kind		 k = LK_INVITATION;

	for (i = 0; i < LK_MAX; i++)
		total += ld->mix[i];
	r = randombytes_uniform(total);
	for (i = 0; i < LK_MAX; i++) {
		acc += ld->mix[i];
		if (r < acc) {
			k = i;
			break;
		}
	}
	if (k != LK_INVITATION &&
	    (c = pick_call(ld, now, 0)) == NULL)
		k = LK_INVITATION;
	/* Graph says established only of a call its recorder answered. */
	if (k == LK_ESTABLISHED && !sim_answered(ld->sim, c->id))
		k = LK_INVITATION;

	m = xcalloc(1, sizeof(*m));
	m->ld = ld;
	m->kind = k;
	sim_make_uuid(m->id);
	if (k == LK_INVITATION) {
		if (ld->ncalls == ld->callsz) {
			ld->callsz = ld->callsz ? ld->callsz * 2 : 1024;
			ld->calls = xreallocarray(ld->calls, ld->callsz,
			    sizeof(*ld->calls));
		}
		c = &ld->calls[ld->ncalls++];
		memset(c, 0, sizeof(*c));
		sim_make_uuid(c->id);
		c->invited_ms = now;
	} else if (k == LK_TERMINATED)
		c->terminated = 1;
	snprintf(m->call, sizeof(m->call), "%s", c->id);

	n = cJSON_Duplicate(ld->tmpl[k], 1);
	v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(n, "value"),
	    0);
	rd = cJSON_GetObjectItemCaseSensitive(v, "resourceData");
	snprintf(url, sizeof(url), "/communications/calls/%s%s", m->call,
	    k == LK_JOINING ? "/participantJoiningNotification" : "");
	set_string(v, "resourceUrl", url);
	switch (k) {
	case LK_INVITATION:
		snprintf(url, sizeof(url), "/app/calls/%s", m->call);
		set_string(v, "resource", url);
		set_string(rd, "id", m->call);
		break;
	case LK_ESTABLISHED:
		snprintf(url, sizeof(url), "/communications/calls/%s",
		    m->call);
		set_string(rd, "@odata.id", url);
		break;
	case LK_JOINING:
		sim_make_uuid(part);
		set_string(rd, "id", m->id);
		call = cJSON_GetObjectItemCaseSensitive(rd, "call");
		ic = cJSON_GetObjectItemCaseSensitive(call, "incomingContext");
		set_string(ic, "observedParticipantId", part);
		set_string(ic, "sourceParticipantId", part);
		break;
	default:
		break;
	}
	if ((m->body = cJSON_PrintUnformatted(n)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	cJSON_Delete(n);
	if ((m->retry = evtimer_new(ld->sim->base, retry_cb, m)) == NULL)
		fatalx("evtimer_new");
	TAILQ_INSERT_TAIL(&ld->msgs, m, entry);
	ld->live++;
	ld->n_msgs++;
	ld->n_kind[k]++;
	msg_send(m);
}

static void
msg_send(struct load_msg *m)
{
	struct load		*ld = m->ld;
	struct notify_spec	 spec;

	memset(&spec, 0, sizeof(spec));
	spec.target = ld->target;
	spec.raw = m->body;
	spec.message_id = m->id;
	spec.authorization = ld->authz;
	spec.timeout_s = ld->timeout;
	m->attempt++;
	ld->inflight++;
	ld->n_attempts++;
	m->inflight = notify_send(ld->sim, &spec, msg_done, m);
}

/* Teams re-sends after a 5xx or no reply, with the same message id. */
static void
msg_done(const struct notify_result *r, void *arg)
{
	struct load_msg	*m = arg;
	struct load	*ld = m->ld;
	struct timeval	 tv;
	int		 ms;

	m->inflight = NULL;
	ld->inflight--;
	fprintf(ld->log, "{\"ev\":\"attempt\",\"msg\":\"%s\",\"call\":\"%s\","
	    "\"kind\":\"%s\",\"n\":%d,\"status\":%d,\"ms\":%lld,\"t\":%lld%s%s%s}\n",
	    m->id, m->call, kind_names[m->kind], m->attempt, r->status,
	    r->elapsed_ms, sim_monotonic_ms() - ld->start_ms,
	    r->error != NULL ? ",\"error\":\"" : "",
	    r->error != NULL ? r->error : "", r->error != NULL ? "\"" : "");
	if ((r->status == 0 || r->status >= 500) &&
	    m->attempt <= ld->retries) {
		ld->n_resent++;
		ms = LOAD_BACKOFF_MS << (m->attempt - 1);
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		evtimer_add(m->retry, &tv);
		return;
	}
	msg_final(m, r->status);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	msg_send(arg);
}

static void
msg_final(struct load_msg *m, int status)
{
	struct load	*ld = m->ld;

	fprintf(ld->log, "{\"ev\":\"final\",\"msg\":\"%s\",\"call\":\"%s\","
	    "\"kind\":\"%s\",\"status\":%d,\"attempts\":%d}\n", m->id, m->call,
	    kind_names[m->kind], status, m->attempt);
	if (status >= 200 && status <= 299)
		ld->n_acked++;
	else
		ld->n_failed++;
	TAILQ_REMOVE(&ld->msgs, m, entry);
	event_free(m->retry);
	free(m->body);
	free(m);
	ld->live--;
	if (ld->live == 0 && ld->tick == NULL)
		load_finish(ld);
}

static void
load_finish(struct load *ld)
{
	cJSON	*o, *k;
	int	 i;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "messages", ld->n_msgs);
	cJSON_AddNumberToObject(o, "acknowledged", ld->n_acked);
	cJSON_AddNumberToObject(o, "not_acknowledged", ld->n_failed);
	cJSON_AddNumberToObject(o, "attempts", ld->n_attempts);
	cJSON_AddNumberToObject(o, "resent", ld->n_resent);
	cJSON_AddNumberToObject(o, "behind", ld->n_behind);
	cJSON_AddNumberToObject(o, "calls", ld->ncalls);
	k = cJSON_AddObjectToObject(o, "kinds");
	for (i = 0; i < LK_MAX; i++)
		cJSON_AddNumberToObject(k, kind_names[i], ld->n_kind[i]);
	log_info("load: %llu messages, %llu acknowledged",
	    (unsigned long long)ld->n_msgs, (unsigned long long)ld->n_acked);
	sim_reply_json(ld->req, HTTP_OK, o);
	cJSON_Delete(o);
	TAILQ_REMOVE(&ld->sim->loads, ld, entry);
	load_free(ld);
}

/*
 * At shutdown the control request gets its answer; messages still in
 * flight are cancelled with every other post (notify_cancel_all), so
 * their final lines are missing from the log.
 */
void
load_abort_all(struct sim *sim)
{
	struct load	*ld;

	struct load_msg	*m;

	while ((ld = TAILQ_FIRST(&sim->loads)) != NULL) {
		TAILQ_REMOVE(&sim->loads, ld, entry);
		sim_reply_error(ld->req, HTTP_SERVUNAVAIL,
		    "simulator shutting down");
		while ((m = TAILQ_FIRST(&ld->msgs)) != NULL) {
			TAILQ_REMOVE(&ld->msgs, m, entry);
			notify_cancel(sim, m->inflight);
			event_free(m->retry);
			free(m->body);
			free(m);
		}
		load_free(ld);
	}
}

static void
load_free(struct load *ld)
{
	int	 i;

	if (ld == NULL)
		return;
	if (ld->tick != NULL)
		event_free(ld->tick);
	if (ld->log != NULL)
		fclose(ld->log);
	for (i = 0; i < LK_MAX; i++)
		cJSON_Delete(ld->tmpl[i]);
	free(ld->calls);
	free(ld->authz);
	free(ld->target);
	free(ld->logpath);
	free(ld);
}
