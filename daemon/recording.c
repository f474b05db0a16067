/*
 * The recording status a leg reports to Graph follows evidence of
 * capture, never a timer nor the leg's state alone: `recording` only
 * once the leg is established and a capture source (the media agent
 * with app-hosted media; an external source speaking the agent's
 * contract with service-hosted media, capture_source = agent) has
 * reported captureStarted.  With no capture source nothing is reported:
 * the call is answered, so nobody is blocked, and the log, the audit
 * trail and `show calls` say that nothing captures it.
 *
 * Why nothing rather than notRecording: the policy's enforcement flags
 * (Required*) are about the bot's presence in the call, not its status;
 * whether Teams acts on a bot that never reports `recording` is
 * UNCONFIRMED (graph-protocol.md section 8), and `notRecording` without
 * a `recording` before it would only draw a "recording stopped" banner
 * for a recording that never started.
 *
 * One update is in flight per leg; a change meanwhile is sent when it
 * completes.  A refusal (403) ends the leg's updates.  Also the leg's
 * keepAlive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <event2/event.h>

#include "conf.h"
#include "graph.h"
#include "graphmsg.h"
#include "legs.h"
#include "log.h"
#include "notif.h"
#include "polrecd.h"
#include "xmalloc.h"

const char *
recording_status_name(enum rec_status s)
{
	switch (s) {
	case REC_NONE:
		return "none";
	case REC_RECORDING:
		return "recording";
	case REC_NOT_RECORDING:
		return "notRecording";
	case REC_FAILED:
		return "failed";
	case REC_REFUSED:
		return "refused";	/* stored; never sent */
	}
	return "?";
}

static int
has_capture_source(const struct polrecd *sc)
{
	return sc->sc_conf->recording_capture_source == CAPTURE_SOURCE_AGENT;
}

/* The leg's recording as `show calls` and the leg's end say it. */
const char *
recording_shown(const struct polrecd *sc, const struct call_leg *leg)
{
	(void)sc;
	if (leg->cl_rec_confirmed == REC_REFUSED)
		return "failed";
	if (leg->cl_rec_confirmed != REC_NONE)
		return recording_status_name(leg->cl_rec_confirmed);
	if (leg->cl_rec_no_source)
		return "no capture";
	return "none";
}

/* At start-up and reload: what gives evidence of capture, if anything. */
void
recording_note_source(const struct polrecd *sc)
{
	const struct conf	*c = sc->sc_conf;

	if (!has_capture_source(sc))
		log_warnx("no capture source (media = %s, capture_source = "
		    "none): calls are answered, but recording is never "
		    "reported to Graph", conf_media_name(c->recording_media));
	else if (c->recording_media == MEDIA_SERVICE)
		log_info("capture source: an external agent posting capture "
		    "events to %s; recording is reported on captureStarted",
		    c->recording_media_events_path);
	else
		log_info("capture source: the media agent; recording is "
		    "reported on captureStarted");
}

/* What Graph should be told now, from the leg's state and capture. */
static enum rec_status
wanted(const struct polrecd *sc, const struct call_leg *leg)
{
	if (leg->cl_rec_sent == REC_REFUSED)
		return REC_NONE;	/* Graph will not take it */
	if (leg->cl_state != LEG_ESTABLISHED)
		return leg->cl_rec_wanted;
	if (!has_capture_source(sc))
		return REC_NONE;	/* no evidence can come */
	switch (leg->cl_capture) {
	case CAPTURE_RUNNING:
		return REC_RECORDING;
	case CAPTURE_FAILED:
		return REC_FAILED;
	case CAPTURE_STOPPED:
		/* Only a recording that was announced needs stopping. */
		return leg->cl_rec_sent == REC_NONE ? REC_NONE :
		    REC_NOT_RECORDING;
	case CAPTURE_UNKNOWN:
		break;
	}
	return REC_NONE;
}

/* Established with nothing to capture it: said once per leg. */
static void
note_no_source(struct polrecd *sc, struct call_leg *leg)
{
	cJSON	*d;
	char	*detail;

	if (leg->cl_rec_no_source || leg->cl_state != LEG_ESTABLISHED ||
	    has_capture_source(sc))
		return;
	leg->cl_rec_no_source = 1;
	sc->sc_stats.recording_no_capture++;
	legs_touch(sc, leg);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "status", "none");
	cJSON_AddStringToObject(d, "media",
	    conf_media_name(sc->sc_conf->recording_media));
	cJSON_AddStringToObject(d, "capture_source",
	    conf_capture_source_name(sc->sc_conf->recording_capture_source));
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	journal_leg(sc, leg, "recording", "no_capture_source",
	    "nothing captures the call; recording not reported", detail,
	    NULL);
	cJSON_free(detail);
	log_info("call %s: no capture source: answered, recording not "
	    "reported to Graph", leg->cl_id);
}

/* The audit event of a recording-status change or its outcome. */
static void
journal_status(struct polrecd *sc, const struct call_leg *leg,
    const char *outcome, const char *how, const struct graph_result *r)
{
	cJSON	*d;
	char	*detail;

	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "status",
	    recording_status_name(leg->cl_rec_sent));
	cJSON_AddStringToObject(d, "clientContext", leg->cl_rec_context);
	cJSON_AddStringToObject(d, "capture",
	    legs_capture_name(leg->cl_capture));
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	journal_leg(sc, leg, "recording", outcome, how, detail, r);
	cJSON_free(detail);
}

static void
confirmed(struct polrecd *sc, struct call_leg *leg, enum op_status st,
    const char *how, const struct graph_result *r)
{
	legs_touch(sc, leg);
	journal_status(sc, leg, st == OP_STATUS_COMPLETED ? "confirmed" :
	    st == OP_STATUS_FAILED ? "failed" : graphmsg_op_status_name(st),
	    how, r);
	if (st == OP_STATUS_COMPLETED) {
		leg->cl_rec_confirmed = leg->cl_rec_sent;
		sc->sc_stats.recording_confirmed++;
		log_info("call %s: recording status %s confirmed (%s)",
		    leg->cl_id, recording_status_name(leg->cl_rec_sent), how);
	} else if (st == OP_STATUS_FAILED) {
		sc->sc_stats.recording_update_failures++;
		log_warnx("call %s: recording status %s failed (%s)",
		    leg->cl_id, recording_status_name(leg->cl_rec_sent), how);
	} else
		log_info("call %s: recording status %s %s; waiting for the "
		    "operation's outcome", leg->cl_id,
		    recording_status_name(leg->cl_rec_sent),
		    graphmsg_op_status_name(st));
}

/*
 * Graph will not take this leg's status: a 403 (code 8506 "API call not
 * allowed for non-Compliance Recording call" is OBSERVED; which HTTP
 * status carries 8506 is UNCONFIRMED, so the code is looked for too), or
 * another 4xx that is not about the token (401), the call (404, handled
 * apart) or load (408, 429).
 */
static int
refused(const struct graph_result *r)
{
	if (r->status == 403 || strcmp(r->gerr.code, "8506") == 0 ||
	    strstr(r->gerr.message, "8506") != NULL)
		return 1;
	return r->status >= 400 && r->status <= 499 && r->status != 401 &&
	    r->status != 408 && r->status != 429;
}

static void
on_status(const struct graph_result *r, void *arg)
{
	struct call_leg		*leg = arg;
	struct polrecd		*sc = leg->cl_sc;
	struct comms_operation	 op;

	leg->cl_op_rec = NULL;
	if (r->ok) {
		memset(&op, 0, sizeof(op));
		if (r->body_len == 0 || graphmsg_parse_operation(r->body,
		    r->body_len, &op) == -1)
			op.status = OP_STATUS_UNKNOWN;
		else if (op.client_context[0] != '\0' &&
		    strcmp(op.client_context, leg->cl_rec_context) != 0)
			log_warnx("call %s: operation for clientContext %s, "
			    "expected %s", leg->cl_id, op.client_context,
			    leg->cl_rec_context);
		confirmed(sc, leg, op.status, "200", r);
	} else if (r->status == 404) {
		journal_status(sc, leg, "failed", "call not found", r);
		log_warnx("call %s: Graph no longer knows the call "
		    "(updateRecordingStatus 404)", leg->cl_id);
		legs_end(sc, leg, "call not found");
		return;
	} else if (refused(r)) {
		/* Sending again would be refused again: the leg's recording
		 * is failed, and stays so. */
		sc->sc_stats.recording_update_failures++;
		sc->sc_stats.recording_refused++;
		journal_status(sc, leg, "failed", "refused by Graph; not "
		    "retried", r);
		log_warnx("call %s: Graph refused recording status %s (HTTP "
		    "%ld): the leg's recording is failed; no further updates",
		    leg->cl_id, recording_status_name(leg->cl_rec_sent),
		    r->status);
		leg->cl_rec_sent = leg->cl_rec_confirmed = REC_REFUSED;
		leg->cl_rec_wanted = REC_NONE;
		legs_touch(sc, leg);
		return;
	} else {
		/* Transient, after graph.c's retries: sent again only when
		 * what is wanted changes. */
		sc->sc_stats.recording_update_failures++;
		journal_status(sc, leg, "failed", NULL, r);
	}
	if (leg->cl_ended_us == 0)
		recording_update(sc, leg);
}

void
recording_update(struct polrecd *sc, struct call_leg *leg)
{
	char			*body;

	note_no_source(sc, leg);
	leg->cl_rec_wanted = wanted(sc, leg);
	if (leg->cl_rec_wanted == REC_NONE ||
	    leg->cl_rec_wanted == leg->cl_rec_sent || leg->cl_op_rec != NULL ||
	    leg->cl_ended_us != 0)
		return;
	graphmsg_uuid(leg->cl_rec_context);
	body = graphmsg_recording_status(recording_status_name(
	    leg->cl_rec_wanted), leg->cl_rec_context);
	if (body == NULL)
		fatalx("graphmsg_recording_status");
	leg->cl_rec_sent = leg->cl_rec_wanted;
	legs_touch(sc, leg);
	journal_status(sc, leg, "sent", NULL, NULL);
	sc->sc_stats.recording_updates++;
	log_info("call %s: recording status -> %s (clientContext %s)",
	    leg->cl_id, recording_status_name(leg->cl_rec_sent),
	    leg->cl_rec_context);
	leg->cl_op_rec = graph_call(sc, leg->cl_tenant, "POST", leg->cl_id,
	    "updateRecordingStatus", NULL, body, 0, 0, on_status, leg);
	free(body);
}

/* An operation notification: the outcome of an update, by clientContext. */
void
recording_operation(struct polrecd *sc, struct call_leg *leg,
    const struct notification *n)
{
	const struct operation	*op = &n->operation;
	char			 ctx[80];

	if (op->client_context == NULL ||
	    strcmp(op->client_context, leg->cl_rec_context) != 0) {
		log_info("call %s: operation for clientContext %s: not the "
		    "latest update; noted", leg->cl_id, log_sanitize(ctx,
		    sizeof(ctx), op->client_context));
		return;
	}
	confirmed(sc, leg, graphmsg_op_status(op->status), "notification",
	    NULL);
}

static void
on_keepalive_done(const struct graph_result *r, void *arg)
{
	struct call_leg	*leg = arg;
	struct polrecd	*sc = leg->cl_sc;

	leg->cl_op_keepalive = NULL;
	if (r->ok) {
		sc->sc_stats.keepalives_ok++;
		log_debug("call %s: keepAlive ok", leg->cl_id);
		return;
	}
	sc->sc_stats.keepalive_failures++;
	journal_leg(sc, leg, "keepalive", "failed", NULL, NULL, r);
	if (r->status == 404) {
		log_warnx("call %s: keepAlive 404: Graph no longer knows the "
		    "call; ending it here", leg->cl_id);
		legs_end(sc, leg, "keepAlive: call not found");
	}
}

void
recording_keepalive_now(struct polrecd *sc, struct call_leg *leg)
{
	if (leg->cl_op_keepalive != NULL || leg->cl_ended_us != 0)
		return;		/* the previous one is still retrying */
	leg->cl_op_keepalive = graph_call(sc, leg->cl_tenant, "POST",
	    leg->cl_id, "keepAlive", NULL, NULL, 0, 0, on_keepalive_done, leg);
}

static void
on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct call_leg		*leg = arg;

	(void)fd;
	(void)what;
	recording_keepalive_now(leg->cl_sc, leg);
}

/* From the answer on: Graph ends a leg not kept alive within 45 min. */
void
recording_start_keepalive(struct polrecd *sc, struct call_leg *leg)
{
	struct timeval	 tv;

	if (leg->cl_ev_keepalive != NULL || leg->cl_ended_us != 0)
		return;
	leg->cl_ev_keepalive = event_new(sc->sc_base, -1, EV_PERSIST,
	    on_keepalive, leg);
	if (leg->cl_ev_keepalive == NULL)
		fatalx("event_new");
	tv.tv_sec = sc->sc_conf->recording_keepalive_interval;
	tv.tv_usec = 0;
	evtimer_add(leg->cl_ev_keepalive, &tv);
}
