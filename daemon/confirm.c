/*
 * What became of an answer or reject whose reply polrecd did not see: an
 * attempt cut off at the budget while Graph may still have taken it, a
 * 5xx, a 409 to a second attempt, or a restart between sending and
 * committing.  polrecd never guesses: it asks Graph (GET
 * /communications/calls/{id}) until Graph says, and hands the verdict
 * (lib/leg.c leg_verdict) to its caller.  A call still ringing is asked
 * about again until CONFIRM_WINDOW_SEC after the invitation, since a late
 * answer may yet land;
 * a Graph that does not reply is asked again with backoff for as long
 * as it takes, the leg staying undecided (and stored so) meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "graph.h"
#include "graphmsg.h"
#include "legs.h"
#include "log.h"
#include "polrecd.h"

#define CONFIRM_WINDOW_SEC	15	/* after the invitation, a ringing
					   call may still take it */
#define CONFIRM_RECHECK_MS	1000
#define CONFIRM_BACKOFF_MAX_MS	60000

static void	 ask(struct call_leg *);

static confirm_cb	 leg_cb;	/* its one caller, answer.c, says where */

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ask(arg);
}

static void
again(struct call_leg *leg, uint64_t ms)
{
	struct timeval	 tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	if (leg->cl_ev_confirm == NULL &&
	    (leg->cl_ev_confirm = evtimer_new(leg->cl_sc->sc_base, on_timer,
	    leg)) == NULL)
		fatalx("confirm: evtimer_new");
	evtimer_add(leg->cl_ev_confirm, &tv);
}

static void
on_state(const struct graph_result *r, void *arg)
{
	struct call_leg		*leg = arg;
	struct polrecd		*sc = leg->cl_sc;
	enum call_state		 cs = CALL_STATE_UNKNOWN;
	enum leg_verdict	 v;
	uint64_t		 ms, waited;

	leg->cl_op_answer = NULL;
	if (!r->ok && r->status != 404) {
		ms = (uint64_t)CONFIRM_RECHECK_MS << (leg->cl_confirm_tries < 7 ?
		    leg->cl_confirm_tries - 1 : 6);
		if (ms > CONFIRM_BACKOFF_MAX_MS)
			ms = CONFIRM_BACKOFF_MAX_MS;
		sc->sc_stats.confirm_retries++;
		log_warnx("call %s: cannot learn from Graph what became of the "
		    "%s (HTTP %ld%s%s); the outcome stays open, asking again "
		    "in %llu ms", leg->cl_id, leg->cl_decision ==
		    DECIDE_ANSWER ? "answer" : "reject", r->status,
		    r->error != NULL ? ", " : "", r->error != NULL ?
		    r->error : "", (unsigned long long)ms);
		again(leg, ms);
		return;
	}
	if (r->ok)
		(void)graphmsg_parse_call_state(r->body, r->body_len, &cs);
	/* Counted from the invitation: a call still ringing that long
	 * after it will not take this answer. */
	waited = polrecd_now_us() - (leg->cl_arrival_us != 0 &&
	    leg->cl_arrival_us < leg->cl_confirm_since ? leg->cl_arrival_us :
	    leg->cl_confirm_since);
	v = leg_verdict(leg->cl_decision == DECIDE_ANSWER, leg->cl_state,
	    r->ok, cs, waited, CONFIRM_WINDOW_SEC * 1000000ULL);
	if (v == LEG_VERDICT_RECHECK) {
		log_debug("call %s: Graph still shows it %s; asking again",
		    leg->cl_id, call_state_name(cs));
		again(leg, CONFIRM_RECHECK_MS);
		return;
	}
	log_info("call %s: Graph says %s (%s): %s", leg->cl_id,
	    r->ok ? call_state_name(cs) : "not found", leg->cl_confirm_why,
	    leg_verdict_name(v));
	sc->sc_stats.confirm_verdicts++;
	leg->cl_confirm_tries = 0;
	leg_cb(sc, leg, v, leg->cl_confirm_why, r);
}

static void
ask(struct call_leg *leg)
{
	leg->cl_confirm_tries++;
	leg->cl_op_answer = graph_call(leg->cl_sc, leg->cl_tenant, "GET",
	    leg->cl_id, NULL, "outcome check", NULL, 0, 1, on_state, leg);
}

void
confirm_start(struct polrecd *sc, struct call_leg *leg, const char *why,
    confirm_cb cb)
{
	leg_cb = cb;
	confirm_stop(leg);
	leg->cl_confirm_why = why;
	leg->cl_confirm_since = polrecd_now_us();
	leg->cl_confirm_tries = 0;
	sc->sc_stats.confirm_started++;
	log_warnx("call %s: %s: no clear word on the %s; asking Graph",
	    leg->cl_id, why, leg->cl_decision == DECIDE_ANSWER ? "answer" :
	    "reject");
	legs_touch(sc, leg);
	ask(leg);
}

/* Stop asking (the leg ends, or a new invitation supersedes it). */
void
confirm_stop(struct call_leg *leg)
{
	if (leg->cl_ev_confirm != NULL) {
		event_free(leg->cl_ev_confirm);
		leg->cl_ev_confirm = NULL;
	}
	if (leg->cl_confirm_tries > 0 && leg->cl_op_answer != NULL) {
		graph_cancel(leg->cl_op_answer);
		leg->cl_op_answer = NULL;
	}
	leg->cl_confirm_tries = 0;
}

int
confirm_active(const struct call_leg *leg)
{
	return leg->cl_confirm_tries > 0;
}
