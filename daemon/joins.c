/*
 * participantJoining and participantLeft for a leg answered with
 * participantCapacity: the leg's recorder group decides at once, and the
 * decision goes back in the webhook's response body.
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
group_detail(const struct call_leg *leg, const char *why)
{
	cJSON	*d;
	char	*s;

	d = cJSON_CreateObject();
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
    const char *reason, const char *pid, const char *by)
{
	struct trail_event	 ev;
	char			*detail, *personal = NULL;

	detail = group_detail(leg, by);
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
	journal_member(sc, leg, NULL, "leave", "slot_freed", by, pid, by);
}

/* Decide a join; returns the response body (malloc'd). */
char *
joins_decide(struct polrecd *sc, struct call_leg *leg,
    const struct notification *n)
{
	const struct conf		*c = sc->sc_conf;
	const struct call_data		*jc = &n->joining.call;
	struct group_policy		 gp;
	struct join_decision		 d;
	const char			*pid;
	char				*body, who[80];

	pid = jc->incoming.observed_participant_id != NULL ?
	    jc->incoming.observed_participant_id :
	    jc->incoming.source_participant_id;
	memset(&gp, 0, sizeof(gp));
	gp.tenants = c->tenants;
	gp.policies = c->recording_policies;
	gp.draining = sc->sc_draining;
	if (c->recording_overflow == OVERFLOW_INVITE)
		gp.invite_uri = c->recording_invite_url != NULL ?
		    c->recording_invite_url : answer_callback_uri(sc);
	memset(&d, 0, sizeof(d));
	if (leg == NULL || leg->cl_group == NULL ||
	    leg->cl_outcome != OUTCOME_ANSWERED) {
		d.verdict = JOIN_REJECT_BUSY;
		d.reason = leg == NULL ? "leg_unknown" : leg->cl_ended_us != 0 ?
		    "leg_ended" : "leg_not_answered";
	} else if (group_join(leg->cl_group, &gp, pid, decide_call_tenant(jc),
	    jc->bot.policy_identifier, leg->cl_ended_us == 0, &d) == -1)
		log_warnx("call %s: join not decided normally (%s)",
		    leg->cl_id, d.reason);
	count(sc, &d);
	if (leg != NULL && !d.repeat)
		legs_touch(sc, leg);
	/* A retransmit is answered as before, with no second event. */
	if (!d.repeat)
		journal_member(sc, leg, n->call_id[0] != '\0' ? n->call_id :
		    NULL, "join", join_verdict_name(d.verdict), d.reason, pid,
		    NULL);
	log_info("call %s: join of %s: %s (%s)%s; group %u/%u",
	    n->call_id[0] ? n->call_id : "-",
	    log_sanitize(who, sizeof(who), pid), join_verdict_name(d.verdict),
	    d.reason, d.repeat ? ", as before" : "",
	    leg != NULL && leg->cl_group != NULL ? group_used(leg->cl_group) :
	    0, leg != NULL && leg->cl_group != NULL ?
	    group_capacity(leg->cl_group) : 0);
	if ((body = group_response_body(&d)) == NULL)
		fatalx("group_response_body");
	return body;
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
		    log_sanitize(who, sizeof(who), pid),
		    group_used(leg->cl_group), group_capacity(leg->cl_group));
	}
}
