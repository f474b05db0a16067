/*
 * The table of call legs and what notifications do to them: state
 * changes (monotonic), rosters, participants leaving, operation results.
 * Ended legs stay a few minutes as tombstones, so that a duplicate
 * invitation or a late notification is recognised, then are freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <sodium.h>

#include "conf.h"
#include "graph.h"
#include "group.h"
#include "idmap.h"
#include "keyfile.h"
#include "legs.h"
#include "log.h"
#include "notif.h"
#include "polrecd.h"
#include "xmalloc.h"

#define INTERN_MAX	256	/* distinct interned strings */
#define INTERN_MAXLEN	256
#define TERMINATION_MAX	256	/* bytes of terminationReason kept */

struct legs {
	struct idmap		*byid;		/* every leg, live or ended */
	struct call_legq	 live;
	struct call_legq	 ended;		/* oldest end first */
	struct call_legq	 dirty;		/* rows to write */
	size_t			 nlive;
	int64_t			 forget_before;	/* delete ended rows older */
	struct idmap		*interned;	/* each string its own value */
	/* Roster and group hashes: from key_dir/state.key, so the hashes
	 * in the database mean the same after a restart. */
	unsigned char		 key[ROSTER_KEYBYTES];
};

static void	 journal_ended(struct polrecd *, const struct call_leg *,
		    const char *);

_Static_assert(ROSTER_KEYBYTES == GROUP_KEYBYTES,
    "rosters and groups hash participants alike");

int
legs_init(struct polrecd *sc)
{
	struct legs	*l;
	unsigned char	 master[32];
	char		 err[512];

	if (keyfile_read(sc->sc_conf->audit_key_dir, KEYFILE_STATE, master,
	    sizeof(master), KEYFILE_SECRET, err, sizeof(err)) == -1) {
		log_warnx("state key: %s (create the keys with `polrecctl "
		    "keys init`)", err);
		return -1;
	}
	l = xcalloc(1, sizeof(*l));
	if ((l->byid = idmap_new()) == NULL ||
	    (l->interned = idmap_new()) == NULL)
		fatalx("legs: out of memory");
	TAILQ_INIT(&l->live);
	TAILQ_INIT(&l->ended);
	TAILQ_INIT(&l->dirty);
	crypto_kdf_derive_from_key(l->key, sizeof(l->key), 1, "polrlegs",
	    master);
	sodium_memzero(master, sizeof(master));
	sc->sc_legs = l;
	return 0;
}

/*
 * Strings shared by many legs (the callback URI, reasons read back from
 * the database) are kept once.  Bounded: past INTERN_MAX distinct ones,
 * or too long, the answer is "other".
 */
const char *
legs_intern(struct polrecd *sc, const char *s)
{
	struct legs	*l = sc->sc_legs;
	const char	*p;
	char		*copy;

	if (s == NULL)
		return NULL;
	if ((p = idmap_get(l->interned, s)) != NULL)
		return p;
	if (idmap_count(l->interned) >= INTERN_MAX ||
	    strlen(s) > INTERN_MAXLEN)
		return "other";
	copy = xstrdup(s);
	if (idmap_put(l->interned, copy, copy) != 0)
		fatalx("legs_intern: out of memory");
	return copy;
}

/* The leg's row is to be written in this turn's commit. */
void
legs_touch(struct polrecd *sc, struct call_leg *leg)
{
	if (!leg->cl_dirty) {
		leg->cl_dirty = 1;
		TAILQ_INSERT_TAIL(&sc->sc_legs->dirty, leg, cl_dirty_entry);
	}
	commit_want(sc->sc_commit);
}

struct call_legq *
legs_dirty(struct polrecd *sc)
{
	return &sc->sc_legs->dirty;
}

int64_t
legs_forget_before(struct polrecd *sc, int clear)
{
	int64_t	 t = sc->sc_legs->forget_before;

	if (clear)
		sc->sc_legs->forget_before = 0;
	return t;
}

/* A batch that forgot ended rows was rolled back: forget them again. */
void
legs_forget_again(struct polrecd *sc, int64_t before)
{
	if (before > sc->sc_legs->forget_before)
		sc->sc_legs->forget_before = before;
}

static void
leg_free(struct call_leg *leg)
{
	struct polrecd	*sc = leg->cl_sc;

	if (leg->cl_dirty)
		TAILQ_REMOVE(&sc->sc_legs->dirty, leg, cl_dirty_entry);
	commit_unwait(sc->sc_commit, &leg->cl_commit);
	if (leg->cl_ev_keepalive != NULL)
		event_free(leg->cl_ev_keepalive);
	if (leg->cl_ev_confirm != NULL)
		event_free(leg->cl_ev_confirm);
	graph_cancel(leg->cl_op_answer);
	graph_cancel(leg->cl_op_media);
	graph_cancel(leg->cl_op_keepalive);
	graph_cancel(leg->cl_op_rec);
	roster_free(&leg->cl_roster);
	group_free(leg->cl_group);
	free(leg->cl_id);
	free(leg->cl_tenant);
	free(leg->cl_chain);
	free(leg->cl_policy);
	free(leg->cl_observed);
	free(leg->cl_paired);
	free(leg->cl_other);
	free(leg->cl_result_text);
	free(leg->cl_termination);
	free(leg);
}

void
legs_shutdown(struct polrecd *sc)
{
	struct legs	*l = sc->sc_legs;
	struct call_leg	*leg;
	void		*s;
	size_t		 pos;

	if (l == NULL)
		return;
	if (l->nlive > 0)
		log_info("stopping with %zu live call leg(s)", l->nlive);
	while ((leg = TAILQ_FIRST(&l->live)) != NULL) {
		TAILQ_REMOVE(&l->live, leg, cl_entry);
		idmap_del(l->byid, leg->cl_id);
		leg_free(leg);
	}
	while ((leg = TAILQ_FIRST(&l->ended)) != NULL) {
		TAILQ_REMOVE(&l->ended, leg, cl_entry);
		idmap_del(l->byid, leg->cl_id);
		leg_free(leg);
	}
	sodium_memzero(l->key, sizeof(l->key));
	idmap_free(l->byid);
	pos = 0;
	while (idmap_next(l->interned, &pos, NULL, &s))
		free(s);
	idmap_free(l->interned);
	free(l);
	sc->sc_legs = NULL;
}

struct call_leg *
legs_find(struct polrecd *sc, const char *id)
{
	return idmap_get(sc->sc_legs->byid, id);
}

struct call_leg *
legs_create(struct polrecd *sc, const char *id)
{
	struct legs	*l = sc->sc_legs;
	struct call_leg	*leg;

	leg = xcalloc(1, sizeof(*leg));
	leg->cl_sc = sc;
	leg->cl_id = xstrdup(id);
	leg->cl_state = LEG_INCOMING;
	leg->cl_result_code = leg->cl_result_subcode = -1;
	roster_init(&leg->cl_roster);
	/* The index borrows cl_id, freed only after the leg leaves it. */
	if (idmap_put(l->byid, leg->cl_id, leg) != 0)
		fatalx("legs: cannot index call %s", leg->cl_id);
	TAILQ_INSERT_TAIL(&l->live, leg, cl_entry);
	l->nlive++;
	sc->sc_stats.legs_created++;
	legs_touch(sc, leg);
	return leg;
}

/*
 * A new invitation for a leg that came to nothing (missed, refused, or
 * undecided since a restart): live again, from the start.
 */
void
legs_reopen(struct polrecd *sc, struct call_leg *leg)
{
	struct legs	*l = sc->sc_legs;

	if (leg->cl_ended_us != 0) {
		TAILQ_REMOVE(&l->ended, leg, cl_entry);
		TAILQ_INSERT_TAIL(&l->live, leg, cl_entry);
		l->nlive++;
		leg->cl_ended_us = 0;
	}
	graph_cancel(leg->cl_op_answer);
	leg->cl_op_answer = NULL;
	leg->cl_state = LEG_INCOMING;
	leg->cl_outcome = OUTCOME_PENDING;
	leg->cl_end_reason = leg->cl_end_why = NULL;
	leg->cl_restored = 0;
	if (leg->cl_group == NULL) {
		/* Ended: nothing of the first attempt carries over. */
		leg->cl_capture = CAPTURE_UNKNOWN;
		leg->cl_rec_wanted = leg->cl_rec_sent = REC_NONE;
		leg->cl_rec_confirmed = REC_NONE;
		leg->cl_rec_no_source = 0;
		leg->cl_result_code = leg->cl_result_subcode = -1;
		free(leg->cl_result_text);
		leg->cl_result_text = NULL;
		free(leg->cl_termination);
		leg->cl_termination = NULL;
		leg->cl_blob_issued = 0;
	}
	legs_touch(sc, leg);
}

/* A leg whose invitation could not be stored: as if never seen. */
void
legs_discard(struct polrecd *sc, struct call_leg *leg)
{
	struct legs	*l = sc->sc_legs;

	if (leg->cl_ended_us != 0)
		TAILQ_REMOVE(&l->ended, leg, cl_entry);
	else {
		TAILQ_REMOVE(&l->live, leg, cl_entry);
		l->nlive--;
	}
	idmap_del(l->byid, leg->cl_id);
	leg_free(leg);
}

/* A leg read back from the database: live, or ended at ended_us. */
struct call_leg *
legs_restore_one(struct polrecd *sc, const char *id, uint64_t ended_us)
{
	struct legs	*l = sc->sc_legs;
	struct call_leg	*leg;

	if (legs_find(sc, id) != NULL)
		return NULL;
	leg = xcalloc(1, sizeof(*leg));
	leg->cl_sc = sc;
	leg->cl_id = xstrdup(id);
	leg->cl_restored = 1;
	leg->cl_result_code = leg->cl_result_subcode = -1;
	roster_init(&leg->cl_roster);
	/* The index borrows cl_id, freed only after the leg leaves it. */
	if (idmap_put(l->byid, leg->cl_id, leg) != 0)
		fatalx("legs: cannot index call %s", leg->cl_id);
	leg->cl_ended_us = ended_us;
	if (ended_us != 0)
		TAILQ_INSERT_TAIL(&l->ended, leg, cl_entry);
	else {
		TAILQ_INSERT_TAIL(&l->live, leg, cl_entry);
		l->nlive++;
	}
	return leg;
}

const char *
legs_capture_name(enum capture_state c)
{
	switch (c) {
	case CAPTURE_UNKNOWN:
		return "unknown";
	case CAPTURE_RUNNING:
		return "running";
	case CAPTURE_STOPPED:
		return "stopped";
	case CAPTURE_FAILED:
		return "failed";
	}
	return "?";
}

const unsigned char *
legs_key(const struct polrecd *sc)
{
	return sc->sc_legs->key;
}

size_t
legs_live(const struct polrecd *sc)
{
	return sc->sc_legs->nlive;
}

const struct call_legq *
legs_all(const struct polrecd *sc)
{
	return &sc->sc_legs->live;
}

const struct call_legq *
legs_ended(const struct polrecd *sc)
{
	return &sc->sc_legs->ended;
}

/* Live legs whose answer or reject is under way, or being confirmed. */
size_t
legs_unsettled(const struct polrecd *sc)
{
	const struct call_leg	*leg;
	size_t			 n = 0;

	TAILQ_FOREACH(leg, &sc->sc_legs->live, cl_entry)
		if (leg->cl_outcome == OUTCOME_PENDING &&
		    (leg->cl_op_answer != NULL || leg->cl_op_media != NULL ||
		    confirm_active(leg)))
			n++;
	return n;
}

const char *
legs_outcome_name(enum leg_outcome o)
{
	switch (o) {
	case OUTCOME_PENDING:
		return "pending";
	case OUTCOME_ANSWERED:
		return "answered";
	case OUTCOME_REJECTED:
		return "rejected";
	case OUTCOME_MISSED:
		return "missed";
	case OUTCOME_FAILED:
		return "failed";
	case OUTCOME_REDIRECTED:
		return "redirected";
	}
	return "?";
}

/*
 * End a leg here: stop its timers and requests, release the media
 * session, free its roster.  It stays as a tombstone for a while.
 */
void
legs_end(struct polrecd *sc, struct call_leg *leg, const char *why)
{
	struct legs	*l = sc->sc_legs;
	uint64_t	 now = polrecd_now_us();

	if (leg->cl_ended_us != 0)
		return;
	/* Ended before any answer or reject got through: missed. */
	if (leg->cl_outcome == OUTCOME_PENDING) {
		leg->cl_outcome = OUTCOME_MISSED;
		sc->sc_stats.answers_missed++;
		journal_leg(sc, leg, "missed", "missed", why, NULL, NULL);
		log_warnx("call %s: MISSED: %s before an answer got through",
		    leg->cl_id, why);
	}
	confirm_stop(leg);
	leg->cl_end_why = NULL;
	if (leg->cl_ev_keepalive != NULL) {
		event_free(leg->cl_ev_keepalive);
		leg->cl_ev_keepalive = NULL;
	}
	graph_cancel(leg->cl_op_answer);
	graph_cancel(leg->cl_op_media);
	graph_cancel(leg->cl_op_keepalive);
	graph_cancel(leg->cl_op_rec);
	leg->cl_op_answer = leg->cl_op_media = NULL;
	leg->cl_op_keepalive = leg->cl_op_rec = NULL;
	if (leg->cl_blob_issued)
		media_release(sc, leg);
	roster_free(&leg->cl_roster);
	/* Termination frees the whole group. */
	group_free(leg->cl_group);
	leg->cl_group = NULL;
	leg->cl_state = LEG_TERMINATED;
	leg->cl_end_reason = why;
	leg->cl_ended_us = now;
	TAILQ_REMOVE(&l->live, leg, cl_entry);
	TAILQ_INSERT_TAIL(&l->ended, leg, cl_entry);
	l->nlive--;
	sc->sc_stats.legs_ended++;
	legs_touch(sc, leg);
	journal_ended(sc, leg, why);
	log_info("call %s: ended (%s); outcome %s, recording %s, result %s, "
	    "%llu ms after the invitation", leg->cl_id, why,
	    legs_outcome_name(leg->cl_outcome),
	    recording_shown(sc, leg),
	    leg->cl_result_text != NULL ? leg->cl_result_text : "-",
	    (unsigned long long)(now - leg->cl_arrival_us) / 1000);
}

static void
journal_ended(struct polrecd *sc, const struct call_leg *leg,
    const char *why)
{
	cJSON	*d;
	char	*detail;

	d = cJSON_CreateObject();
	if (leg->cl_result_text != NULL)
		cJSON_AddStringToObject(d, "result", leg->cl_result_text);
	if (leg->cl_result_code != -1)
		cJSON_AddNumberToObject(d, "result_code",
		    (double)leg->cl_result_code);
	if (leg->cl_result_subcode != -1)
		cJSON_AddNumberToObject(d, "result_subcode",
		    (double)leg->cl_result_subcode);
	if (leg->cl_termination != NULL)
		cJSON_AddStringToObject(d, "termination_reason",
		    leg->cl_termination);
	cJSON_AddStringToObject(d, "recording",
	    recording_shown(sc, leg));
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	journal_leg(sc, leg, "terminated", legs_outcome_name(leg->cl_outcome),
	    why, detail, NULL);
	cJSON_free(detail);
}

/* Free tombstones older than LEG_KEEP_ENDED_SEC. */
void
legs_expire(struct polrecd *sc)
{
	struct legs	*l = sc->sc_legs;
	struct call_leg	*leg;
	uint64_t	 now = polrecd_now_us();

	while ((leg = TAILQ_FIRST(&l->ended)) != NULL &&
	    leg->cl_ended_us + LEG_KEEP_ENDED_SEC * 1000000ULL <= now) {
		TAILQ_REMOVE(&l->ended, leg, cl_entry);
		idmap_del(l->byid, leg->cl_id);
		leg_free(leg);
		/* Their rows go at the next commit. */
		l->forget_before = polrecd_utc_us() -
		    LEG_KEEP_ENDED_SEC * 1000000LL;
	}
	if (l->forget_before != 0)
		commit_want(sc->sc_commit);
}

static void
keep_result(struct call_leg *leg, const struct result_info *r)
{
	char	 text[72];

	if (!r->present)
		return;
	leg->cl_result_code = r->code;
	leg->cl_result_subcode = r->subcode;
	free(leg->cl_result_text);
	/* As sent: "200/5001", whether they came as numbers or strings. */
	leg->cl_result_text = xstrdup(notif_result_text(r, text,
	    sizeof(text)));
}

/*
 * The call's chain id changed (a transfer), or is learned late: the leg
 * takes the new one, and an event says so in clear, with who
 * transferred when Graph says, so that an auditor can follow the call
 * from chain to chain (the call_chains view).
 */
static void
follow_chain(struct polrecd *sc, struct call_leg *leg,
    const struct call_data *c)
{
	const struct identity	*t = &c->incoming.transferor;
	const char		*chain;
	cJSON			*d, *o;
	char			*detail;
	int			 learned;

	chain = notif_chain_id(c, NULL, NULL);
	if (chain == NULL || (leg->cl_chain != NULL &&
	    strcasecmp(chain, leg->cl_chain) == 0))
		return;
	/*
	 * UNCONFIRMED when Graph gives a leg a new chain id; taken from a
	 * transfer (its states, or a transferor named) only, so that a late
	 * notification still carrying the old one does not switch back.
	 */
	if (leg->cl_chain != NULL && t->id == NULL &&
	    c->state != CALL_STATE_TRANSFERRING &&
	    c->state != CALL_STATE_TRANSFER_ACCEPTED) {
		log_debug("call %s: chain id %s ignored outside a transfer",
		    leg->cl_id, chain);
		return;
	}
	d = cJSON_CreateObject();
	if (leg->cl_chain != NULL)
		cJSON_AddStringToObject(d, "previous_chain_id", leg->cl_chain);
	cJSON_AddStringToObject(d, "chain_id", chain);
	if (t->id != NULL) {
		o = cJSON_AddObjectToObject(d, "transferor");
		if (t->kind != NULL)
			cJSON_AddStringToObject(o, "kind", t->kind);
		cJSON_AddStringToObject(o, "id", t->id);
		if (t->tenant_id != NULL)
			cJSON_AddStringToObject(o, "tenantId", t->tenant_id);
	}
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	log_info("call %s: chain id %s (was %s)%s", leg->cl_id, chain,
	    leg->cl_chain != NULL ? leg->cl_chain : "unknown",
	    t->id != NULL ? ", transferred" : "");
	learned = leg->cl_chain == NULL;
	/* The event's chain_id column is the new one. */
	free(leg->cl_chain);
	leg->cl_chain = xstrdup(chain);
	journal_leg(sc, leg, "chain", learned ? "learned" : "changed",
	    c->state_text != NULL ? call_state_name(c->state) : NULL, detail,
	    NULL);
	cJSON_free(detail);
	legs_touch(sc, leg);
}

static void
apply_call(struct polrecd *sc, struct call_leg *leg,
    const struct notification *n)
{
	enum leg_state	 next;
	int		 moved, sent;

	keep_result(leg, &n->call.result);
	if (n->call.termination_reason != NULL) {
		free(leg->cl_termination);
		/* Untrusted text, kept in the clear: bounded. */
		leg->cl_termination = xstrndup(n->call.termination_reason,
		    TERMINATION_MAX);
	}
	follow_chain(sc, leg, &n->call);
	next = leg_next_state(leg->cl_state, n->change, n->call.state, &moved);
	if (!moved) {
		if (n->call.state != CALL_STATE_UNKNOWN)
			log_info("call %s: %s %s ignored: the leg is already "
			    "%s", leg->cl_id, notif_change_name(n->change),
			    call_state_name(n->call.state),
			    leg_state_name(leg->cl_state));
		return;
	}
	sent = leg->cl_state >= LEG_ANSWERING;
	leg->cl_state = next;
	log_info("call %s: %s", leg->cl_id, leg_state_name(next));
	if (next == LEG_ESTABLISHING || next == LEG_ESTABLISHED)
		answer_seen_up(sc, leg);
	if (next == LEG_ESTABLISHED)
		recording_update(sc, leg);
	else if (next == LEG_TERMINATED)
		answer_end_wanted(sc, leg, "terminated by Graph", sent);
}

/* Our own leg: hang up (best effort), then end it here. */
static void
on_hangup(const struct graph_result *r, void *arg)
{
	(void)arg;
	if (!r->ok && r->status != 404)
		log_debug("hang-up failed (%ld)", r->status);
}

static void
hang_up(struct polrecd *sc, struct call_leg *leg, const char *why)
{
	graph_call(sc, leg->cl_tenant, "DELETE", leg->cl_id, NULL, "hang-up",
	    NULL, 0, 3, on_hangup, NULL);
	legs_end(sc, leg, why);
}

/* Someone left the roster: a slot of the group is free again. */
static void
on_gone(uint64_t hash, void *arg)
{
	struct call_leg	*leg = arg;

	if (group_leave_hash(leg->cl_group, hash))
		leg->cl_sc->sc_stats.joins_slots_freed++;
}

static void
apply_roster(struct polrecd *sc, struct call_leg *leg,
    const struct notification *n)
{
	struct roster_member	*before = NULL;
	size_t			 nbefore = 0;
	uint32_t		 used;
	int			 delta, rv;

	delta = sc->sc_conf->recording_delta_roster || n->roster_sequence >= 0;
	if (leg->cl_group != NULL && leg->cl_roster.n > 0) {
		nbefore = leg->cl_roster.n;
		before = xreallocarray(NULL, nbefore, sizeof(*before));
		memcpy(before, leg->cl_roster.m, nbefore * sizeof(*before));
	}
	rv = roster_apply(&leg->cl_roster, n->participants, n->n_participants,
	    n->change, delta, n->roster_sequence, sc->sc_legs->key);
	if (rv == 1 && before != NULL) {
		used = group_used(leg->cl_group);
		roster_gone(before, nbefore, &leg->cl_roster, on_gone, leg);
		if (group_used(leg->cl_group) != used)
			joins_journal_leave(sc, leg, NULL, "roster");
		if (group_used(leg->cl_group) != used)
			log_info("call %s: %u left the roster; group %u/%u",
			    leg->cl_id, used - group_used(leg->cl_group),
			    group_used(leg->cl_group),
			    group_capacity(leg->cl_group));
	}
	free(before);
	if (rv == 0) {
		log_info("call %s: stale roster (sequence %lld) ignored",
		    leg->cl_id, n->roster_sequence);
		return;
	}
	if (rv == -1) {
		log_warnx("call %s: roster of %zu not applied (too large)",
		    leg->cl_id, n->n_participants);
		return;
	}
	log_info("call %s: roster %u member(s), %u of them people",
	    leg->cl_id, leg->cl_roster.n, leg->cl_roster.humans);
	if (roster_only_recorders(&leg->cl_roster) &&
	    leg->cl_state >= LEG_ESTABLISHED) {
		log_info("call %s: no one but recorders left; hanging up",
		    leg->cl_id);
		hang_up(sc, leg, "only recorders left");
	}
}

/*
 * Act on one notification.  leg is its leg as the caller looked it up
 * (legs_find), or NULL; an invitation looks up its own.  A
 * participantJoining gets its decision back as a response body
 * (malloc'd); everything else returns NULL.
 */
char *
legs_notify(struct polrecd *sc, struct call_leg *leg,
    const struct notification *n, uint64_t arrival_us, struct notify_req *req)
{
	const char	*msgid = req->nr_msgid;
	char		 st[LOG_ID_MAX];

	if (notif_is_invitation(n)) {
		answer_invitation(sc, n, arrival_us, req);
		return NULL;
	}
	if (n->kind == NOTIF_KIND_JOINING)
		return joins_decide(sc, leg, n);
	if (leg == NULL) {
		sc->sc_stats.notifications_unknown_call++;
		log_info("call %s: %s %s%s%s for a call this host does not "
		    "know; ignored (msg %s)", n->call_id[0] ? n->call_id : "-",
		    notif_kind_name(n->kind), notif_change_name(n->change),
		    n->kind == NOTIF_KIND_CALL ? " state " : "",
		    n->kind == NOTIF_KIND_CALL ? log_sanitize(st, sizeof(st),
		    n->call.state_text) : "", msgid);
		return NULL;
	}
	if (leg->cl_ended_us != 0) {
		log_debug("call %s: %s after the leg ended; ignored",
		    leg->cl_id, notif_kind_name(n->kind));
		return NULL;
	}
	switch (n->kind) {
	case NOTIF_KIND_CALL:
	case NOTIF_KIND_OTHER:	/* a bare deleted ends the leg too */
		if (n->sub == NOTIF_SUB_NONE)
			apply_call(sc, leg, n);
		break;
	case NOTIF_KIND_PARTICIPANTS:
		apply_roster(sc, leg, n);
		break;
	case NOTIF_KIND_LEFT:
		if (n->left.participant_id != NULL &&
		    roster_remove(&leg->cl_roster, n->left.participant_id,
		    sc->sc_legs->key))
			log_info("call %s: a participant left", leg->cl_id);
		joins_left(sc, leg, n->left.participant_id);
		break;
	case NOTIF_KIND_OPERATION:
		recording_operation(sc, leg, n);
		break;
	case NOTIF_KIND_JOINING:	/* decided above */
		break;
	}
	legs_touch(sc, leg);
	return NULL;
}
