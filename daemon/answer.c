/*
 * Invitations: decide at once, then answer (after asking the media agent
 * for a blob, with app-hosted media) or reject, inside the answer budget
 * counted from the notification's arrival.  What cannot be sent inside
 * the budget is a recorded `missed`, never a late answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "decide.h"
#include "graph.h"
#include "graphmsg.h"
#include "legs.h"
#include "log.h"
#include "notif.h"
#include "polrecd.h"
#include "trail.h"
#include "xmalloc.h"

/* With app media, the agent must reply this long before the deadline. */
#define ANSWER_RESERVE_US	500000

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

const char *
answer_callback_uri(struct polrecd *sc)
{
	if (sc->sc_conf->http_callback_url != NULL)
		return sc->sc_conf->http_callback_url;
	return http_self_url(sc->sc_http);
}

static uint64_t
deadline_of(const struct polrecd *sc, const struct call_leg *leg)
{
	return leg->cl_arrival_us +
	    (uint64_t)sc->sc_conf->recording_answer_budget_ms * 1000;
}

static unsigned long long
ms_since(uint64_t t)
{
	return (unsigned long long)(polrecd_now_us() - t) / 1000;
}

static void
note_latency(struct polrecd *sc, const struct call_leg *leg)
{
	uint64_t	 us = polrecd_now_us() - leg->cl_arrival_us;

	if (us > sc->sc_stats.answer_latency_max_us)
		sc->sc_stats.answer_latency_max_us = us;
	histogram_observe(&sc->sc_metrics.m_answer_latency, (double)us / 1e6);
	if (sc->sc_latency.lw_slot_us == 0)
		latwin_init(&sc->sc_latency, CONTROL_LATENCY_WINDOW_US);
	latwin_add(&sc->sc_latency, polrecd_now_us(), us);
}

/* The audit event of an answer's or reject's outcome. */
static void
journal_result(struct polrecd *sc, const struct call_leg *leg,
    const char *kind, const char *outcome, const struct graph_result *r)
{
	journal_leg(sc, leg, kind, outcome, leg->cl_decision != DECIDE_ANSWER ?
	    leg->cl_reason : NULL, NULL, r);
}

/* The leg is ours: keep it alive, build its group, report recording. */
static void
take_over(struct polrecd *sc, struct call_leg *leg)
{
	/* A leg stored before its answer went out, restored: as answered. */
	if (leg->cl_capacity == 0)
		leg->cl_capacity =
		    (uint32_t)sc->sc_conf->recording_participant_capacity;
	if (leg->cl_callback == NULL)
		leg->cl_callback = legs_intern(sc, answer_callback_uri(sc));
	legs_touch(sc, leg);
	recording_start_keepalive(sc, leg);
	joins_group_new(sc, leg);
	if (leg->cl_state == LEG_ESTABLISHED)
		recording_update(sc, leg);
}

/* Graph ended the call while the answer was in flight: end it now. */
static int
end_if_wanted(struct polrecd *sc, struct call_leg *leg)
{
	if (leg->cl_end_why == NULL || leg->cl_ended_us != 0)
		return 0;
	legs_end(sc, leg, leg->cl_end_why);
	return 1;
}

static void
missed(struct polrecd *sc, struct call_leg *leg, const char *why,
    const struct graph_result *r)
{
	leg->cl_outcome = OUTCOME_MISSED;
	sc->sc_stats.answers_missed++;
	journal_leg(sc, leg, "missed", "missed", why != NULL ? why :
	    leg->cl_decision != DECIDE_ANSWER ? leg->cl_reason : NULL, NULL, r);
	legs_end(sc, leg, "missed");
}

static void
finish_failed(struct polrecd *sc, struct call_leg *leg,
    const struct graph_result *r, const char *what)
{
	if (r->missed) {
		log_warnx("call %s: MISSED: no %s could be sent within the "
		    "%lld ms budget (%d attempt(s), last %ld%s%s)", leg->cl_id,
		    what, sc->sc_conf->recording_answer_budget_ms, r->attempts,
		    r->status, r->error != NULL ? ", " : "",
		    r->error != NULL ? r->error : "");
		missed(sc, leg, NULL, r);
		return;
	}
	journal_result(sc, leg, what, "failed", r);
	leg->cl_outcome = OUTCOME_FAILED;
	sc->sc_stats.answer_failures++;
	log_warnx("call %s: %s failed: HTTP %ld code %s request-id %s after "
	    "%d attempt(s)", leg->cl_id, what, r->status,
	    r->gerr.code[0] ? r->gerr.code : "-",
	    r->request_id[0] ? r->request_id : "-", r->attempts);
	legs_end(sc, leg, r->status == 404 ? "call not found" :
	    "answer refused");
}

static void
on_verdict(struct polrecd *sc, struct call_leg *leg, enum leg_verdict v,
    const char *why, const struct graph_result *r)
{
	char	*detail = NULL;

	switch (v) {
	case LEG_VERDICT_ANSWERED:
		leg->cl_outcome = OUTCOME_ANSWERED;
		sc->sc_stats.answers_confirmed++;
		xasprintf(&detail, "{\"confirmed_by\":\"graph\"}");
		journal_leg(sc, leg, "answer", "ok", why, detail, r);
		log_info("call %s: answered, as Graph says; taking the leg "
		    "over", leg->cl_id);
		if (!end_if_wanted(sc, leg)) {
			/* No keep-alive went out since the answer. */
			recording_keepalive_now(sc, leg);
			take_over(sc, leg);
		}
		break;
	case LEG_VERDICT_ENDED:
		/*
		 * The call is over without the bot, as the reject meant;
		 * whether Graph took the reject, nothing says: recorded so,
		 * never as a reject Graph took.
		 */
		log_info("call %s: over without the bot (%s); whether Graph "
		    "took the reject is unknown", leg->cl_id, why);
		leg->cl_outcome = OUTCOME_REJECTED;
		xasprintf(&detail, "{\"confirmed_by\":\"graph\","
		    "\"graph\":\"call over\",\"reject_taken\":null}");
		journal_leg(sc, leg, "reject", "unconfirmed", leg->cl_reason,
		    detail, r);
		legs_end(sc, leg, "rejected");
		break;
	default:
		log_warnx("call %s: MISSED: Graph says the %s did not take "
		    "(%s)", leg->cl_id, leg->cl_decision == DECIDE_ANSWER ?
		    "answer" : "reject", why);
		missed(sc, leg, why, r);
		break;
	}
	free(detail);
}

/*
 * The leg's own notifications say the call is coming up while polrecd
 * asks Graph about its answer: that is Graph's word already.
 */
void
answer_seen_up(struct polrecd *sc, struct call_leg *leg)
{
	if (leg->cl_outcome != OUTCOME_PENDING || !confirm_active(leg) ||
	    leg->cl_decision != DECIDE_ANSWER)
		return;
	confirm_stop(leg);
	on_verdict(sc, leg, LEG_VERDICT_ANSWERED, leg->cl_confirm_why, NULL);
}

/* Ask Graph what became of the leg's answer or reject. */
void
answer_confirm(struct polrecd *sc, struct call_leg *leg, const char *why)
{
	confirm_start(sc, leg, why, on_verdict);
}

/*
 * Graph ended the call: at once, unless an answer, reject or its check
 * is in flight, whose outcome is recorded first.
 */
void
answer_end_wanted(struct polrecd *sc, struct call_leg *leg, const char *why,
    int sent)
{
	if (leg->cl_op_answer != NULL || confirm_active(leg)) {
		leg->cl_end_why = why;
		return;
	}
	/* Sent before a restart, not settled yet: Graph says how it ended. */
	if (sent && leg->cl_outcome == OUTCOME_PENDING &&
	    leg->cl_op_media == NULL) {
		leg->cl_end_why = why;
		answer_confirm(sc, leg, "ended by Graph before its outcome "
		    "was known");
		return;
	}
	legs_end(sc, leg, why);
}

/* No clear reply: Graph may have taken it.  409: it took an earlier one. */
static int
unsure(const struct graph_result *r)
{
	return r->unsure || r->status == 409;
}

static void
on_answered(const struct graph_result *r, void *arg)
{
	struct call_leg	*leg = arg;
	struct polrecd	*sc = leg->cl_sc;

	leg->cl_op_answer = NULL;
	if (!r->ok && unsure(r)) {
		answer_confirm(sc, leg, r->missed ? "answer cut off at the "
		    "budget" : "answer without a clear reply");
		return;
	}
	if (!r->ok) {
		finish_failed(sc, leg, r, "answer");
		return;
	}
	leg->cl_outcome = OUTCOME_ANSWERED;
	legs_touch(sc, leg);
	journal_result(sc, leg, "answer", "ok", r);
	sc->sc_stats.answers_ok++;
	note_latency(sc, leg);
	log_info("call %s: answered in %llu ms (%d attempt(s), budget %lld "
	    "ms); request-id %s", leg->cl_id, ms_since(leg->cl_arrival_us),
	    r->attempts, sc->sc_conf->recording_answer_budget_ms,
	    r->request_id[0] ? r->request_id : "-");
	if (!end_if_wanted(sc, leg))
		take_over(sc, leg);
}

static void
on_rejected(const struct graph_result *r, void *arg)
{
	struct call_leg	*leg = arg;
	struct polrecd	*sc = leg->cl_sc;

	leg->cl_op_answer = NULL;
	if (!r->ok && unsure(r)) {
		answer_confirm(sc, leg, r->missed ? "reject cut off at the "
		    "budget" : "reject without a clear reply");
		return;
	}
	if (!r->ok) {
		finish_failed(sc, leg, r, "reject");
		return;
	}
	leg->cl_outcome = OUTCOME_REJECTED;
	legs_touch(sc, leg);
	journal_result(sc, leg, "reject", "ok", r);
	sc->sc_stats.rejects_ok++;
	note_latency(sc, leg);
	log_info("call %s: rejected (%s: %s) in %llu ms", leg->cl_id,
	    decision_name(leg->cl_decision), leg->cl_reason,
	    ms_since(leg->cl_arrival_us));
	legs_end(sc, leg, "rejected");
}

static void
send_to_graph(struct polrecd *sc, struct call_leg *leg, const char *action,
    char *body, graph_cb cb)
{
	leg->cl_op_answer = graph_call(sc, leg->cl_tenant, "POST", leg->cl_id,
	    action, NULL, body, deadline_of(sc, leg), 0, cb, leg);
	if (leg->cl_state < LEG_ANSWERING)
		leg->cl_state = LEG_ANSWERING;
	legs_touch(sc, leg);
	free(body);
}

static void
send_reject(struct polrecd *sc, struct call_leg *leg)
{
	char	*body;

	body = graphmsg_reject(decision_name(leg->cl_decision),
	    answer_callback_uri(sc));
	if (body == NULL)
		fatalx("graphmsg_reject");
	sc->sc_stats.rejects_sent++;
	send_to_graph(sc, leg, "reject", body, on_rejected);
}

static void
send_answer(struct polrecd *sc, struct call_leg *leg, const char *blob)
{
	const struct conf	*c = sc->sc_conf;
	struct answer_spec	 spec;
	char			*body;

	memset(&spec, 0, sizeof(spec));
	spec.callback_uri = answer_callback_uri(sc);
	spec.modalities = (const char *const *)c->recording_accepted_modalities;
	spec.media = c->recording_media;
	spec.blob = blob;
	spec.participant_capacity = c->recording_participant_capacity;
	spec.delta_roster = c->recording_delta_roster;
	/* As answered: the group is built from these. */
	leg->cl_capacity = (uint32_t)spec.participant_capacity;
	leg->cl_callback = legs_intern(sc, spec.callback_uri);
	if ((body = graphmsg_answer(&spec)) == NULL)
		fatalx("graphmsg_answer");
	sc->sc_stats.answers_sent++;
	send_to_graph(sc, leg, "answer", body, on_answered);
}

/* The media agent replied (or did not in time). */
void
answer_on_blob(struct polrecd *sc, struct call_leg *leg, const char *blob,
    const char *why)
{
	leg->cl_op_media = NULL;
	if (blob != NULL) {
		leg->cl_blob_issued = 1;
		send_answer(sc, leg, blob);
		return;
	}
	/* Answering with no media would record nothing: say busy. */
	log_warnx("call %s: no media configuration from the media agent "
	    "(%s); rejecting", leg->cl_id, why);
	leg->cl_decision = DECIDE_REJECT_BUSY;
	leg->cl_reason = "media_agent_unavailable";
	send_reject(sc, leg);
}

static void	 start(void *);

static void
add_identity(cJSON *o, const char *name, const struct identity *id)
{
	cJSON	*i;

	if (id->id == NULL && id->display_name == NULL)
		return;
	i = cJSON_AddObjectToObject(o, name);
	if (id->kind != NULL)
		cJSON_AddStringToObject(i, "kind", id->kind);
	if (id->id != NULL)
		cJSON_AddStringToObject(i, "id", id->id);
	if (id->display_name != NULL)
		cJSON_AddStringToObject(i, "displayName", id->display_name);
	if (id->tenant_id != NULL)
		cJSON_AddStringToObject(i, "tenantId", id->tenant_id);
}

static void
add_string(cJSON *o, const char *name, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, name, v);
}

/*
 * The invitation's audit event: the decision in clear, and whom it is
 * about sealed (who is observed, the source, the users of botData, on
 * whose behalf); the whole notification is sealed in its own event.
 */
static void
journal_invitation(struct polrecd *sc, const struct call_leg *leg,
    const struct notification *n, const char *msgid, const char *outcome,
    const char *detail)
{
	const struct call_data	*c = &n->call;
	struct trail_event	 ev;
	cJSON			*p;
	char			*personal;

	p = cJSON_CreateObject();
	add_string(p, "observedParticipantId",
	    c->incoming.observed_participant_id);
	add_string(p, "sourceParticipantId", c->incoming.source_participant_id);
	add_identity(p, "source", &c->source.identity);
	add_identity(p, "onBehalfOf", &c->incoming.on_behalf_of);
	add_string(p, "userId", c->bot.user.id);
	add_string(p, "userParticipantId", c->bot.user.participant_id);
	add_string(p, "otherSideUserId", c->bot.other_side_user.id);
	add_string(p, "otherSideUserParticipantId",
	    c->bot.other_side_user.participant_id);
	add_string(p, "onBehalfOfId", c->bot.user.on_behalf_of_id);
	add_identity(p, "transferor", &c->incoming.transferor);
	personal = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	journal_event_init(&ev, "invitation");
	journal_event_leg(&ev, leg);
	ev.outcome = outcome;
	ev.reason = leg->cl_reason;
	ev.msg_id = msgid;
	ev.detail = detail;
	ev.personal = personal;
	ev.personal_len = personal != NULL ? strlen(personal) : 0;
	ev.latency_us = (int64_t)(polrecd_now_us() - leg->cl_arrival_us);
	journal_add(sc, &ev);
	cJSON_free(personal);
}

static void
replace(char **p, const char *s)
{
	free(*p);
	*p = dup_or_null(s);
}

/*
 * An invitation for a leg already known is acted on again only when the
 * first came to nothing here: missed or refused, or stored undecided
 * before a restart and not yet settled with Graph (a second answer that
 * Graph refuses as already answered is settled by asking it).
 */
static int
resent(const struct call_leg *leg)
{
	/* Redirected, and here again: decided anew, never redirected. */
	if (leg->cl_ended_us != 0)
		return leg->cl_outcome == OUTCOME_MISSED ||
		    leg->cl_outcome == OUTCOME_FAILED ||
		    leg->cl_outcome == OUTCOME_REDIRECTED;
	if (leg->cl_outcome != OUTCOME_PENDING)
		return 0;
	return confirm_active(leg) || (leg->cl_restored &&
	    leg->cl_op_answer == NULL && leg->cl_op_media == NULL);
}

/*
 * Why an invitation may not be redirected, or NULL when it may.  A
 * redirect must not loop: not when the request says it was redirected
 * already (an X-Plat-Redirect-* header; UNCONFIRMED: the header names
 * are the Graph SDK's constants, what the platform puts in them is not
 * documented), not when this host redirected the same call before (it
 * came back), not to this host's own webhook.  And the 302 answers the
 * whole request: with other notifications in the batch, they would be
 * acted on here and again where Teams re-sends them.
 */
static const char *
redirect_refusal(struct polrecd *sc, const struct notify_req *req,
    int bounced)
{
	const char	*url = sc->sc_conf->recording_redirect_url;

	if (req->nr_redirected != NULL)
		return "already_redirected";
	if (bounced)
		return "redirected_before";
	if (decide_same_url(url, answer_callback_uri(sc)) ||
	    decide_same_url(url, http_self_url(sc->sc_http)))
		return "redirect_url_is_self";
	if (!req->nr_may_redirect)
		return "batch";
	return NULL;
}

/*
 * The invitation's outcome is the webhook reply itself: 302 Found and
 * the Location, sent once this turn is committed.  Nothing goes to
 * Graph; the leg ends here, redirected.
 */
static void
redirect(struct polrecd *sc, struct call_leg *leg, struct notify_req *req)
{
	const char		*url = sc->sc_conf->recording_redirect_url;
	struct trail_event	 ev;
	cJSON			*d;
	char			*detail;

	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "location", url);
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	leg->cl_outcome = OUTCOME_REDIRECTED;
	journal_event_init(&ev, "redirect");
	journal_event_leg(&ev, leg);
	ev.outcome = "ok";
	ev.reason = leg->cl_reason;
	ev.http_status = 302;
	ev.detail = detail;
	ev.latency_us = (int64_t)(polrecd_now_us() - leg->cl_arrival_us);
	journal_add(sc, &ev);
	cJSON_free(detail);
	sc->sc_stats.invitations_redirected++;
	req->nr_status = 302;
	free(req->nr_location);
	req->nr_location = xstrdup(url);
	log_info("call %s: redirected (%s) to %s", leg->cl_id, leg->cl_reason,
	    url);
	legs_end(sc, leg, "redirected");
}

/* The invitation event's clear detail: where the chain id came from,
 * who transferred the call, what became of a wanted redirect. */
static char *
invitation_detail(const struct call_data *call, const char *chain_source,
    enum decision d, const char *no_redirect, const char *location)
{
	const struct identity	*t = &call->incoming.transferor;
	cJSON			*o, *tr;
	char			*s;

	o = cJSON_CreateObject();
	if (chain_source != NULL)
		cJSON_AddStringToObject(o, "chain_source", chain_source);
	if (t->id != NULL) {
		tr = cJSON_AddObjectToObject(o, "transferor");
		if (t->kind != NULL)
			cJSON_AddStringToObject(tr, "kind", t->kind);
		cJSON_AddStringToObject(tr, "id", t->id);
		if (t->tenant_id != NULL)
			cJSON_AddStringToObject(tr, "tenantId", t->tenant_id);
	}
	if (d == DECIDE_REDIRECT)
		cJSON_AddStringToObject(o, "location", location);
	else if (d == DECIDE_REJECT_BUSY && no_redirect != NULL)
		cJSON_AddStringToObject(o, "redirect_refused", no_redirect);
	s = cJSON_GetArraySize(o) > 0 ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

/* "id1,id2" for the recorders of an invitation; "-" when none. */
static const char *
format_recorders(char *buf, size_t len, const struct recorder_ref *r,
    size_t n)
{
	char	 one[LOG_ID_MAX];
	size_t	 i, used = 0;
	int	 w;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		log_sanitize(one, sizeof(one), r[i].id);
		w = snprintf(buf + used, len - used, "%s%s", i ? "," : "", one);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return n == 0 ? "-" : buf;
}

/* The invitation and what was decided, in the one line it gets. */
static void
log_decision(const struct notification *n, const char *msgid,
    enum decision d, const char *why, const char *no_redirect,
    uint64_t us)
{
	const struct call_data	*c = &n->call;
	const struct bot_data	*b = &c->bot;
	char			 tenant[LOG_ID_MAX], chain[LOG_ID_MAX];
	char			 policy[LOG_ID_MAX], observed[LOG_ID_MAX];
	char			 reason[LOG_ID_MAX], paired[512], other[512];

	log_info("call %s: invitation (%s) tenant %s chain %s policy \"%s\" "
	    "reason %s paired %s other %s observed %s msg %s: decided %s "
	    "(%s%s%s) in %llu us", n->call_id, notif_change_name(n->change),
	    log_sanitize(tenant, sizeof(tenant), c->tenant_id),
	    log_sanitize(chain, sizeof(chain), c->call_chain_id),
	    log_sanitize(policy, sizeof(policy), b->policy_identifier),
	    log_sanitize(reason, sizeof(reason), b->n_invite_reasons > 0 ?
	    b->invite_reasons[0] : NULL),
	    format_recorders(paired, sizeof(paired), b->paired_recorders,
	    b->n_paired_recorders),
	    format_recorders(other, sizeof(other), b->other_recorders,
	    b->n_other_recorders),
	    log_person(observed, sizeof(observed),
	    c->incoming.observed_participant_id), msgid, decision_name(d),
	    why, no_redirect != NULL ? "; not redirected: " : "",
	    no_redirect != NULL ? no_redirect : "", (unsigned long long)us);
}

void
answer_invitation(struct polrecd *sc, const struct notification *n,
    uint64_t arrival_us, struct notify_req *req)
{
	const struct conf	*c = sc->sc_conf;
	const struct call_data	*call = &n->call;
	const char		*msgid = req->nr_msgid;
	struct decide_policy	 pol;
	struct call_leg		*leg;
	enum decision		 d;
	const char		*reason, *chain_source, *no_redirect = NULL;
	char			*detail;
	int			 bounced = 0;

	if ((leg = legs_find(sc, n->call_id)) != NULL && resent(leg)) {
		bounced = leg->cl_ended_us != 0 &&
		    leg->cl_outcome == OUTCOME_REDIRECTED;
		/* Teams asks again: the first went unanswered. */
		sc->sc_stats.invitations_reopened++;
		log_info("call %s: invitation again (msg %s) after %s; "
		    "answering it anew", leg->cl_id, msgid,
		    leg->cl_ended_us != 0 ? legs_outcome_name(leg->cl_outcome) :
		    "an answer not yet confirmed");
		confirm_stop(leg);
		legs_reopen(sc, leg);
	} else if (leg != NULL) {
		journal_invitation(sc, leg, n, msgid, "duplicate", NULL);
		sc->sc_stats.duplicate_invitations++;
		log_info("call %s: duplicate invitation (msg %s); already %s "
		    "(%s), not acted on again", leg->cl_id, msgid,
		    leg_state_name(leg->cl_state),
		    legs_outcome_name(leg->cl_outcome));
		return;
	}
	memset(&pol, 0, sizeof(pol));
	pol.tenants = c->tenants;
	pol.policies = c->recording_policies;
	pol.max_calls = c->recording_max_calls;
	pol.draining = sc->sc_draining;
	if ((pol.redirect_url = c->recording_redirect_url) != NULL) {
		no_redirect = redirect_refusal(sc, req, bounced);
		pol.no_redirect = no_redirect != NULL;
	}
	d = decide_invitation(&pol, n, legs_live(sc), &reason);

	if (leg == NULL)
		leg = legs_create(sc, n->call_id);
	leg->cl_arrival_us = arrival_us;
	replace(&leg->cl_tenant, decide_tenant(n));
	replace(&leg->cl_chain, notif_chain_id(call, req->nr_chain,
	    &chain_source));
	replace(&leg->cl_policy, call->bot.policy_identifier);
	replace(&leg->cl_observed, call->incoming.observed_participant_id);
	free(leg->cl_paired);
	free(leg->cl_other);
	leg->cl_paired = journal_recorders(call->bot.paired_recorders,
	    call->bot.n_paired_recorders);
	leg->cl_other = journal_recorders(call->bot.other_recorders,
	    call->bot.n_other_recorders);
	leg->cl_decision = d;
	leg->cl_reason = reason;
	if (d == DECIDE_ANSWER) {
		/* Stored with the leg: a restart before Graph's reply
		 * still knows whom the group holds. */
		leg->cl_capacity = (uint32_t)c->recording_participant_capacity;
		leg->cl_callback = legs_intern(sc, answer_callback_uri(sc));
		joins_group_new(sc, leg);
	}
	detail = invitation_detail(call, chain_source, d, no_redirect,
	    c->recording_redirect_url);
	journal_invitation(sc, leg, n, msgid, decision_name(d), detail);
	cJSON_free(detail);
	log_decision(n, msgid, d, reason, d == DECIDE_REJECT_BUSY ?
	    no_redirect : NULL, polrecd_now_us() - arrival_us);
	if (d == DECIDE_REDIRECT)
		redirect(sc, leg, req);
	/* Nothing goes to Graph before the leg is stored. */
	commit_wait(sc->sc_commit, &leg->cl_commit, start, leg);
}

/* The leg is committed (or the database failed): answer or reject. */
static void
start(void *arg)
{
	struct call_leg		*leg = arg;
	struct polrecd		*sc = leg->cl_sc;
	const struct conf	*c = sc->sc_conf;
	uint64_t		 deadline, arrival_us = leg->cl_arrival_us;

	if (!commit_ok(sc->sc_commit)) {
		/*
		 * Nothing goes out that the trail cannot show: the
		 * notification gets 503, Teams sends it again (or turns to
		 * the paired recorder), and the leg is forgotten here.
		 */
		log_warnx("call %s: the invitation could not be stored; not "
		    "answered, the notification is refused for a re-send",
		    leg->cl_id);
		legs_discard(sc, leg);
		return;
	}
	if (leg->cl_ended_us != 0)
		return;
	if (leg->cl_decision != DECIDE_ANSWER) {
		send_reject(sc, leg);
		return;
	}
	if (c->recording_media == MEDIA_APP) {
		deadline = deadline_of(sc, leg);
		deadline = deadline > arrival_us + 2 * ANSWER_RESERVE_US ?
		    deadline - ANSWER_RESERVE_US : (deadline + arrival_us) / 2;
		leg->cl_op_media = media_request_blob(sc, leg, deadline);
		return;
	}
	send_answer(sc, leg, NULL);
}
