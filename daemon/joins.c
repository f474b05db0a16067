/*
 * participantJoining and participantLeft for a leg answered with
 * participantCapacity: the leg's recorder group decides at once, and the
 * decision goes back in the webhook's response body.  A decision counts
 * only once Graph has it: one join per request is decided, and what a
 * request refused for a failed commit put in a group is taken back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "decide.h"
#include "group.h"
#include "legs.h"
#include "log.h"
#include "notif.h"
#include "polrecd.h"
#include "trail.h"
#include "xmalloc.h"

/* Admissions of requests not answered yet (see group_pending_note). */
static struct group_pending	 pending;

/* The leg's group, kept from the decision to answer (so that it is
 * stored before the answer goes out) and used from the answer on; the
 * first member is the observed participant of the invitation. */
void
joins_group_new(struct polrecd *sc, struct call_leg *leg)
{
	if (leg->cl_group != NULL)
		return;
	if (leg->cl_capacity == 0)
		leg->cl_capacity = 1;
	leg->cl_group = group_new(leg->cl_tenant, leg->cl_policy,
	    leg->cl_capacity, leg->cl_observed, legs_key(sc));
	legs_touch(sc, leg);
	if (leg->cl_group == NULL)
		log_warnx("call %s: cannot keep a recorder group", leg->cl_id);
}

static void
count(struct polrecd *sc, const struct join_decision *d)
{
	if (d->repeat)
		sc->sc_stats.joins_repeated++;
	else if (d->verdict == JOIN_ACCEPT)
		sc->sc_stats.joins_accepted++;
	else if (d->verdict == JOIN_INVITE_NEW_BOT)
		sc->sc_stats.joins_invited++;
	else
		sc->sc_stats.joins_rejected++;
}

static char *
personal_of(const char *pid)
{
	cJSON	*p;
	char	*s;

	p = cJSON_CreateObject();
	if (pid != NULL)
		cJSON_AddStringToObject(p, "participantId", pid);
	s = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	return s;
}

static char *
group_detail(const struct call_leg *leg, const char *why, int unidentified)
{
	cJSON	*d;
	char	*s;

	d = cJSON_CreateObject();
	if (unidentified)
		cJSON_AddStringToObject(d, "participant", "unidentified");
	if (leg != NULL && leg->cl_group != NULL) {
		cJSON_AddNumberToObject(d, "group_used",
		    group_used(leg->cl_group));
		cJSON_AddNumberToObject(d, "group_capacity",
		    group_capacity(leg->cl_group));
	}
	if (why != NULL)
		cJSON_AddStringToObject(d, "by", why);
	s = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return s;
}

/* A join decided, or a slot freed: the participant is sealed. */
static void
journal_member(struct polrecd *sc, const struct call_leg *leg,
    const char *call_id, const char *kind, const char *outcome,
    const char *reason, const char *pid, const char *by, int unidentified)
{
	struct trail_event	 ev;
	char			*detail, *personal = NULL;

	detail = group_detail(leg, by, unidentified);
	if (pid != NULL)
		personal = personal_of(pid);
	journal_event_init(&ev, kind);
	if (leg != NULL)
		journal_event_leg(&ev, leg);
	else
		ev.call_id = call_id;
	ev.outcome = outcome;
	ev.reason = reason;
	ev.detail = detail;
	ev.personal = personal;
	ev.personal_len = personal != NULL ? strlen(personal) : 0;
	journal_add(sc, &ev);
	cJSON_free(detail);
	cJSON_free(personal);
}

/* A slot freed, by participantLeft (pid known) or the roster. */
void
joins_journal_leave(struct polrecd *sc, const struct call_leg *leg,
    const char *pid, const char *by)
{
	journal_member(sc, leg, NULL, "leave", "slot_freed", by, pid, by, 0);
}

/*
 * Where a join this host cannot place is invited: a fresh invitation
 * there is answered normally (a leg of its own).  invite_url when set
 * (a sibling); else this host's own callback URI, except while
 * draining, when this host answers no fresh invitation.  None with
 * overflow = reject: such joins are rejected busy.
 */
static const char *
invite_target(struct polrecd *sc)
{
	const struct conf	*c = sc->sc_conf;

	if (c->recording_overflow == OVERFLOW_REJECT)
		return NULL;
	if (c->recording_invite_url != NULL)
		return c->recording_invite_url;
	if (sc->sc_draining)
		return NULL;
	return answer_callback_uri(sc);
}

static void
policy_of(struct polrecd *sc, struct group_policy *gp)
{
	memset(gp, 0, sizeof(*gp));
	gp->tenants = sc->sc_conf->tenants;
	gp->policies = sc->sc_conf->recording_policies;
	gp->draining = sc->sc_draining;
	gp->invite_uri = invite_target(sc);
}

/* The joining participant: observed, else source; NULL: unidentified. */
static const char *
participant_of(const struct call_data *jc)
{
	const struct incoming_context	*ic = &jc->incoming;

	if (ic->observed_participant_id != NULL &&
	    ic->observed_participant_id[0] != '\0')
		return ic->observed_participant_id;
	if (ic->source_participant_id != NULL &&
	    ic->source_participant_id[0] != '\0')
		return ic->source_participant_id;
	return NULL;
}

/* Decide a join; returns the response body (malloc'd). */
char *
joins_decide(struct polrecd *sc, struct call_leg *leg,
    const struct notification *n)
{
	const struct call_data		*jc = &n->joining.call;
	struct group_policy		 gp;
	struct join_decision		 d;
	const char			*pid, *tenant, *policy;
	char				*body, who[80];

	pid = participant_of(jc);
	tenant = decide_call_tenant(jc);
	policy = jc->bot.policy_identifier;
	policy_of(sc, &gp);
	if (leg == NULL)
		group_join_unplaced(&gp, tenant, policy, "leg_unknown", &d);
	else if (leg->cl_ended_us != 0 && (leg->cl_group == NULL ||
	    leg->cl_outcome != OUTCOME_ANSWERED))
		group_join_unplaced(&gp, tenant, policy, "leg_ended", &d);
	else if (leg->cl_outcome != OUTCOME_ANSWERED)
		group_join_unplaced(&gp, tenant, policy, "leg_not_answered",
		    &d);
	else if (leg->cl_group == NULL)
		group_join_unplaced(&gp, tenant, policy, "no_group", &d);
	else if (group_join(leg->cl_group, &gp, pid, tenant, policy,
	    leg->cl_ended_us == 0, &d) == -1)
		log_warnx("call %s: join not decided normally (%s)",
		    leg->cl_id, d.reason);
	d.unidentified = pid == NULL;
	if (leg != NULL)
		group_pending_note(&pending, journal_request_current(sc),
		    leg->cl_id, &d);
	if (pending.forgotten != sc->sc_stats.joins_pending_forgotten) {
		sc->sc_stats.joins_pending_forgotten = pending.forgotten;
		log_warnx("call %s: more than %d joins wait for a commit; the "
		    "oldest can no longer be taken back", n->call_id,
		    GROUP_PENDING_MAX);
	}
	count(sc, &d);
	if (leg != NULL && !d.repeat)
		legs_touch(sc, leg);
	/* A retransmit is answered as before, with no second event. */
	if (!d.repeat)
		journal_member(sc, leg, n->call_id[0] != '\0' ? n->call_id :
		    NULL, "join", join_verdict_name(d.verdict), d.reason, pid,
		    NULL, d.unidentified);
	if (pid != NULL)
		log_person(who, sizeof(who), pid);
	else
		snprintf(who, sizeof(who), "an unidentified participant");
	log_info("call %s: join of %s: %s (%s)%s; group %u/%u",
	    n->call_id[0] ? n->call_id : "-", who, join_verdict_name(d.verdict),
	    d.reason, d.repeat ? ", as before" : "",
	    leg != NULL && leg->cl_group != NULL ? group_used(leg->cl_group) :
	    0, leg != NULL && leg->cl_group != NULL ?
	    group_capacity(leg->cl_group) : 0);
	if ((body = group_response_body(&d)) == NULL)
		fatalx("group_response_body");
	return body;
}

/*
 * A join after the first in one request: the response body carries one
 * decision, so Graph gets none for it.  It takes no slot and is recorded
 * as not answered; Graph, having no answer, is expected to send it again
 * (UNCONFIRMED, graph-protocol.md 7.2 and 11.4), and it is decided then.
 * Refusing the whole request (503) instead would hold back the first
 * join too, and a request Graph always sends the same way would never
 * get through.
 */
void
joins_not_answered(struct polrecd *sc, const struct call_leg *leg,
    const struct notification *n, const char *msgid)
{
	const char		*pid;
	char			 who[80];

	pid = participant_of(&n->joining.call);
	sc->sc_stats.joins_not_answered++;
	journal_member(sc, leg, n->call_id[0] != '\0' ? n->call_id : NULL,
	    "join", "not_answered", "more_than_one_join", pid, NULL,
	    pid == NULL);
	log_warnx("call %s: join of %s not answered: more than one join in "
	    "msg %s, the response carries the first decision only",
	    n->call_id[0] ? n->call_id : "-",
	    pid != NULL ? log_person(who, sizeof(who), pid) :
	    "an unidentified participant", msgid);
}

/* A decision Graph will not get: out of its group again. */
static void
take_back(const char *leg_id, uint64_t member, void *arg)
{
	struct polrecd	*sc = arg;
	struct call_leg	*leg;

	if ((leg = legs_find(sc, leg_id)) == NULL || leg->cl_group == NULL)
		return;
	group_leave_hash(leg->cl_group, member);
	legs_touch(sc, leg);
	sc->sc_stats.joins_taken_back++;
	log_info("call %s: a join not acknowledged is taken back; group "
	    "%u/%u", leg->cl_id, group_used(leg->cl_group),
	    group_capacity(leg->cl_group));
}

/* The request's reply went out: its admissions are final. */
void
joins_request_done(struct polrecd *sc, uint64_t request)
{
	(void)sc;
	group_pending_done(&pending, request);
}

/* The request was refused (503): what it admitted is taken back. */
void
joins_request_drop(struct polrecd *sc, uint64_t request)
{
	group_pending_drop(&pending, request, take_back, sc);
}

/* A participant left: its slot is free for the next join. */
void
joins_left(struct polrecd *sc, struct call_leg *leg, const char *pid)
{
	char	 who[80];

	if (leg->cl_group == NULL || pid == NULL)
		return;
	if (group_leave(leg->cl_group, pid)) {
		sc->sc_stats.joins_slots_freed++;
		joins_journal_leave(sc, leg, pid, "participantLeft");
		log_info("call %s: %s left; group %u/%u", leg->cl_id,
		    log_person(who, sizeof(who), pid),
		    group_used(leg->cl_group), group_capacity(leg->cl_group));
	}
}
