/*
 * The media agent (app-hosted media): polrecd asks it for the media
 * configuration blob before answering, tells it when a leg ends, and
 * takes its reports of capture starting, stopping or failing, which
 * drive the recording status.  Both directions carry a shared secret as
 * a Bearer token.  With service-hosted media and capture_source = agent,
 * an external capture source posts the same reports under the same
 * secret (no blob, no release).  The contract is in polrecd.conf(5),
 * MEDIA AGENT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "conf.h"
#include "graph.h"
#include "graphmsg.h"
#include "legs.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define MEDIA_SECRET_MAX	1024

/* The agent's URL for one call: {media_agent_url}/calls/{id}. */
static char *
session_url(const struct polrecd *sc, const char *call_id)
{
	const char	*base = sc->sc_conf->recording_media_agent_url;
	size_t		 n = strlen(base);
	char		*url;

	while (n > 0 && base[n - 1] == '/')
		n--;
	xasprintf(&url, "%.*s/calls/%s", (int)n, base, call_id);
	return url;
}

/* Where the agent posts its events: this host, media_events_path. */
static char *
events_url(struct polrecd *sc)
{
	const char	*cb = answer_callback_uri(sc), *p;
	char		*url;
	size_t		 n;

	/* scheme://authority of the callback URI, then our path. */
	p = strstr(cb, "://");
	n = p != NULL ? (size_t)(p + 3 - cb) + strcspn(p + 3, "/") :
	    strlen(cb);
	xasprintf(&url, "%.*s%s", (int)n, cb,
	    sc->sc_conf->recording_media_events_path);
	return url;
}

static int
load_secret(struct polrecd *sc, char **out)
{
	char	 err[256], *s;

	*out = NULL;
	/* The agent, or an external capture source (media = service). */
	if (sc->sc_conf->recording_capture_source != CAPTURE_SOURCE_AGENT)
		return 0;
	if ((s = sodium_malloc(MEDIA_SECRET_MAX)) == NULL)
		fatalx("sodium_malloc");
	if (conf_read_secret(sc->sc_conf->recording_media_agent_secret_file,
	    s, MEDIA_SECRET_MAX, err, sizeof(err)) == -1) {
		log_warnx("media agent secret: %s", err);
		sodium_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
media_init(struct polrecd *sc)
{
	recording_note_source(sc);
	return load_secret(sc, &sc->sc_media_secret);
}

int
media_reconfigure(struct polrecd *sc)
{
	char	*s;

	if (load_secret(sc, &s) == -1) {
		log_warnx("reload: keeping the previous media agent secret");
		return -1;
	}
	media_shutdown(sc);
	sc->sc_media_secret = s;
	recording_note_source(sc);
	return 0;
}

void
media_shutdown(struct polrecd *sc)
{
	if (sc->sc_media_secret != NULL)
		sodium_free(sc->sc_media_secret);
	sc->sc_media_secret = NULL;
}

static void
on_blob(const struct graph_result *r, void *arg)
{
	struct call_leg	*leg = arg;
	struct polrecd	*sc = leg->cl_sc;
	char		*blob = NULL, err[128], why[192];

	if (r->ok && graphmsg_parse_blob(r->body, r->body_len, &blob, err,
	    sizeof(err)) == 0) {
		answer_on_blob(sc, leg, blob, NULL);
		free(blob);
		return;
	}
	sc->sc_stats.media_agent_failures++;
	if (r->ok)
		snprintf(why, sizeof(why), "unusable reply: %s", err);
	else if (r->missed)
		snprintf(why, sizeof(why), "no reply in time");
	else if (r->status != 0)
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
	else
		snprintf(why, sizeof(why), "%s", r->error != NULL ? r->error :
		    "no reply");
	answer_on_blob(sc, leg, NULL, why);
}

struct graph_op *
media_request_blob(struct polrecd *sc, struct call_leg *leg,
    uint64_t deadline_us)
{
	struct media_request	 m;
	struct graph_req	 req;
	struct graph_op		*op;
	char			*url, *events, *body;
	uint64_t		 now = polrecd_now_us();

	events = events_url(sc);
	memset(&m, 0, sizeof(m));
	m.call_id = leg->cl_id;
	m.tenant_id = leg->cl_tenant;
	m.call_chain_id = leg->cl_chain;
	m.policy_identifier = leg->cl_policy;
	m.observed_participant_id = leg->cl_observed;
	m.modalities = (const char *const *)
	    sc->sc_conf->recording_accepted_modalities;
	m.deadline_ms = deadline_us > now ? (long long)(deadline_us - now) /
	    1000 : 0;
	m.events_url = events;
	if ((body = graphmsg_media_request(&m)) == NULL)
		fatalx("graphmsg_media_request");
	url = session_url(sc, leg->cl_id);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.what = "media session";
	req.call_id = leg->cl_id;
	req.body = body;
	req.auth = GRAPH_AUTH_SECRET;
	req.secret = sc->sc_media_secret;
	req.deadline_us = deadline_us;
	req.max_response = GRAPHMSG_MAX_BLOB + 4096;
	op = graph_start(sc, &req, on_blob, leg);
	free(url);
	free(body);
	free(events);
	return op;
}

static void
on_released(const struct graph_result *r, void *arg)
{
	(void)arg;
	if (!r->ok && r->status != 404)
		log_warnx("media agent: releasing a session failed (%ld)",
		    r->status);
}

/* The leg ended: the agent stops capture and frees the session. */
void
media_release(struct polrecd *sc, struct call_leg *leg)
{
	struct graph_req	 req;
	char			*url;

	if (sc->sc_media_secret == NULL)
		return;
	url = session_url(sc, leg->cl_id);
	memset(&req, 0, sizeof(req));
	req.method = "DELETE";
	req.url = url;
	req.what = "media release";
	req.call_id = leg->cl_id;
	req.auth = GRAPH_AUTH_SECRET;
	req.secret = sc->sc_media_secret;
	req.max_attempts = 3;
	graph_start(sc, &req, on_released, NULL);
	leg->cl_blob_issued = 0;
	free(url);
}

static int
secret_ok(struct polrecd *sc, struct evhttp_request *req)
{
	const char	*v;
	size_t		 n;

	v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (sc->sc_media_secret == NULL || v == NULL ||
	    strncasecmp(v, "Bearer ", 7) != 0)
		return 0;
	v += 7;
	n = strlen(sc->sc_media_secret);
	return strlen(v) == n && sodium_memcmp(v, sc->sc_media_secret, n) == 0;
}

static void
event_reply(struct evhttp_request *req, int status, const char *code,
    const char *msg)
{
	if (status == 202)
		evhttp_send_reply(req, status, "Accepted", NULL);
	else
		http_reply_error(req, status, code, msg);
}

/* POST media_events_path from the media agent. */
void
media_event_request(struct polrecd *sc, struct evhttp_request *req)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct media_event	 ev;
	struct call_leg		*leg;
	const char		*body;
	char			 err[128], reason[160];
	size_t			 len;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		event_reply(req, 405, "methodNotAllowed", "only POST");
		return;
	}
	if (!secret_ok(sc, req)) {
		sc->sc_stats.media_events_refused++;
		log_warnx("media event refused (401): wrong or missing "
		    "shared secret");
		event_reply(req, 401, "unauthorized", "unauthorized");
		return;
	}
	len = evbuffer_get_length(in);
	body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	if (graphmsg_parse_media_event(body, len, &ev, err,
	    sizeof(err)) == -1) {
		sc->sc_stats.media_events_refused++;
		log_warnx("media event refused (400): %s", err);
		event_reply(req, 400, "badRequest", err);
		return;
	}
	if ((leg = legs_find(sc, ev.call_id)) == NULL) {
		log_warnx("media event %s for an unknown call",
		    graphmsg_media_event_name(ev.kind));
		event_reply(req, 404, "notFound", "no such call");
		return;
	}
	if (leg->cl_ended_us != 0) {
		event_reply(req, 409, "conflict", "the call has ended");
		return;
	}
	sc->sc_stats.media_events++;
	log_info("call %s: media agent: %s%s%s", leg->cl_id,
	    graphmsg_media_event_name(ev.kind), ev.reason[0] ? ": " : "",
	    log_sanitize(reason, sizeof(reason), ev.reason[0] ? ev.reason :
	    ""));
	switch (ev.kind) {
	case MEDIA_CAPTURE_STARTED:
		leg->cl_capture = CAPTURE_RUNNING;
		break;
	case MEDIA_CAPTURE_STOPPED:
		leg->cl_capture = CAPTURE_STOPPED;
		break;
	case MEDIA_CAPTURE_FAILED:
		leg->cl_capture = CAPTURE_FAILED;
		break;
	}
	legs_touch(sc, leg);
	journal_leg(sc, leg, "capture", graphmsg_media_event_name(ev.kind),
	    ev.reason[0] ? ev.reason : NULL, NULL, NULL);
	recording_update(sc, leg);
	event_reply(req, 202, NULL, NULL);
}
