/*
 * After a restart, the restored live legs are asked about: GET
 * /communications/calls/{id} for each, a few at a time so that 100,000
 * legs do not flood Graph.  A 404 ends the leg here; a known call takes
 * the state Graph reports, is kept alive at once and then on its timer.
 * A leg stored before its answer's outcome was is settled by asking
 * Graph what became of it (answer.c, confirm.c): taken over, or missed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "graph.h"
#include "graphmsg.h"
#include "legs.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define RESUME_INFLIGHT	16	/* GETs at a time */

struct resume {
	struct polrecd	*r_sc;
	char		**r_ids;	/* restored live legs, by id */
	size_t		 r_n, r_next, r_inflight;
	size_t		 r_ended, r_known;
	uint64_t	 r_started;
};

static void	 next_checks(struct resume *);

static void
on_checked(const struct graph_result *r, void *arg)
{
	struct call_leg	*leg = arg;
	struct polrecd	*sc = leg->cl_sc;
	struct resume	*rs = sc->sc_resume;
	enum call_state	 cs = CALL_STATE_UNKNOWN;
	enum leg_state	 next;
	int		 moved;

	leg->cl_op_keepalive = NULL;
	rs->r_inflight--;
	if (r->status == 404) {
		rs->r_ended++;
		sc->sc_stats.restore_ended++;
		log_info("call %s: Graph no longer knows the call (404 after "
		    "the restart); ending it here", leg->cl_id);
		legs_end(sc, leg, "unknown to Graph after restart");
		goto next;
	}
	if (!r->ok) {
		log_warnx("call %s: cannot ask Graph about the restored leg "
		    "(HTTP %ld%s%s); keeping it alive", leg->cl_id, r->status,
		    r->error != NULL ? ", " : "", r->error != NULL ? r->error :
		    "");
	} else {
		rs->r_known++;
		(void)graphmsg_parse_call_state(r->body, r->body_len, &cs);
		next = leg_next_state(leg->cl_state, NOTIF_CHANGE_UPDATED, cs,
		    &moved);
		if (moved) {
			log_info("call %s: Graph says %s after the restart",
			    leg->cl_id, call_state_name(cs));
			leg->cl_state = next;
			legs_touch(sc, leg);
		}
		if (leg->cl_state == LEG_TERMINATED) {
			legs_end(sc, leg, "terminated by Graph");
			goto next;
		}
		if (leg->cl_state == LEG_ESTABLISHED)
			recording_update(sc, leg);
	}
	if (leg->cl_ended_us == 0 && leg->cl_outcome == OUTCOME_ANSWERED) {
		recording_keepalive_now(sc, leg);
		recording_start_keepalive(sc, leg);
	}
next:
	next_checks(rs);
}

static void
next_checks(struct resume *rs)
{
	struct polrecd	*sc = rs->r_sc;
	struct call_leg	*leg;

	while (rs->r_inflight < RESUME_INFLIGHT && rs->r_next < rs->r_n) {
		leg = legs_find(sc, rs->r_ids[rs->r_next]);
		free(rs->r_ids[rs->r_next]);
		rs->r_ids[rs->r_next++] = NULL;
		if (leg == NULL || leg->cl_ended_us != 0 ||
		    leg->cl_op_keepalive != NULL)
			continue;
		/*
		 * Stored before its answer or reject went out, or before
		 * Graph's reply was: what became of it is Graph's to say.
		 */
		if (leg->cl_outcome == OUTCOME_PENDING) {
			if (!confirm_active(leg) && leg->cl_op_answer == NULL)
				answer_confirm(sc, leg, "not settled before "
				    "the restart");
			continue;
		}
		sc->sc_stats.restore_checks++;
		rs->r_inflight++;
		leg->cl_op_keepalive = graph_call(sc, leg->cl_tenant, "GET",
		    leg->cl_id, NULL, "restore check", NULL, 0, 3, on_checked,
		    leg);
	}
	if (rs->r_inflight == 0 && rs->r_next == rs->r_n && rs->r_n > 0) {
		log_info("restore checked %zu leg(s) with Graph in %llu ms: "
		    "%zu known, %zu ended", rs->r_n,
		    (unsigned long long)(polrecd_now_us() - rs->r_started) /
		    1000, rs->r_known, rs->r_ended);
		free(rs->r_ids);
		rs->r_ids = NULL;
		rs->r_n = rs->r_next = 0;
	}
}

/* Once the legs are restored and the token can be fetched. */
void
resume_start(struct polrecd *sc)
{
	struct resume	*rs;
	struct call_leg	*leg;
	size_t		 n = 0;

	rs = xcalloc(1, sizeof(*rs));
	rs->r_sc = sc;
	rs->r_started = polrecd_now_us();
	sc->sc_resume = rs;
	TAILQ_FOREACH(leg, legs_all(sc), cl_entry)
		if (leg->cl_restored)
			n++;
	if (n == 0)
		return;
	rs->r_ids = xreallocarray(NULL, n, sizeof(*rs->r_ids));
	TAILQ_FOREACH(leg, legs_all(sc), cl_entry)
		if (leg->cl_restored && rs->r_n < n)
			rs->r_ids[rs->r_n++] = xstrdup(leg->cl_id);
	log_info("asking Graph about %zu restored call leg(s)", rs->r_n);
	next_checks(rs);
}

void
resume_shutdown(struct polrecd *sc)
{
	struct resume	*rs = sc->sc_resume;
	size_t		 i;

	if (rs == NULL)
		return;
	for (i = rs->r_next; i < rs->r_n; i++)
		free(rs->r_ids[i]);
	free(rs->r_ids);
	free(rs);
	sc->sc_resume = NULL;
}
