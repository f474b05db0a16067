/*
 * Refused webhook requests in the audit trail: noted in an aggregate
 * (lib/refusal.c) and written once a second, one event per reason and
 * source network with its count and the call ids seen, so that a flood
 * cannot fill the disk and every refusal is still accounted for.  The
 * refusal reply does not wait for this: it acknowledges nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "log.h"
#include "polrecd.h"
#include "refusal.h"
#include "trail.h"
#include "xmalloc.h"

#define REFUSED_FLUSH_SEC	1

struct refused {
	struct polrecd	*r_sc;
	struct refusals	*r_table;
	struct event	*r_timer;
};

static void
emit(const struct refusal *rf, void *arg)
{
	struct polrecd		*sc = arg;
	struct trail_event	 ev;
	cJSON			*d, *ids;
	char			*detail, num[24];
	size_t			 i;

	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "network", rf->network);
	cJSON_AddNumberToObject(d, "count", (double)rf->count);
	/* Integers past 2^53 would print rounded as doubles. */
	snprintf(num, sizeof(num), "%lld", (long long)rf->first_utc_us);
	cJSON_AddRawToObject(d, "first_utc_us", num);
	snprintf(num, sizeof(num), "%lld", (long long)rf->last_utc_us);
	cJSON_AddRawToObject(d, "last_utc_us", num);
	if (rf->nmore > 0) {
		ids = cJSON_AddArrayToObject(d, "call_ids");
		for (i = 0; i < rf->nmore; i++)
			cJSON_AddItemToArray(ids,
			    cJSON_CreateString(rf->more_calls[i]));
	}
	if (rf->calls_not_kept > 0)
		cJSON_AddNumberToObject(d, "call_ids_not_kept",
		    (double)rf->calls_not_kept);
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	journal_event_init(&ev, "notification");
	ev.outcome = rf->outcome;
	ev.reason = rf->reason[0] != '\0' ? rf->reason : NULL;
	ev.http_status = rf->status > 0 ? rf->status : -1;
	ev.call_id = rf->call_id[0] != '\0' ? rf->call_id : NULL;
	ev.detail = detail;
	journal_add(sc, &ev);
	free(detail);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct refused	*r = arg;

	(void)fd;
	(void)what;
	/*
	 * While events wait for the disk, the windows stay in the table
	 * and keep counting (it is bounded), rather than adding to what
	 * waits.
	 */
	if (!journal_backlog(r->r_sc))
		refusals_flush(r->r_table, emit, r->r_sc);
}

struct refused *
refused_new(struct polrecd *sc)
{
	struct refused	*r;
	struct timeval	 tv = { REFUSED_FLUSH_SEC, 0 };

	r = xcalloc(1, sizeof(*r));
	r->r_sc = sc;
	r->r_table = refusals_new(REFUSAL_DEFAULT_ROWS);
	if ((r->r_timer = event_new(sc->sc_base, -1, EV_PERSIST, on_flush,
	    r)) == NULL || event_add(r->r_timer, &tv) == -1)
		fatalx("refused: cannot start the timer");
	return r;
}

/* What is noted goes to the journal now (at shutdown, before its last
 * commit). */
void
refused_free(struct refused *r)
{
	if (r == NULL)
		return;
	refusals_flush(r->r_table, emit, r->r_sc);
	event_free(r->r_timer);
	refusals_free(r->r_table);
	free(r);
}

void
refused_note(struct polrecd *sc, const char *outcome, const char *reason,
    int status, const char *addr, const char *call_id)
{
	if (sc->sc_refused == NULL)
		return;
	sc->sc_stats.notifications_refused++;
	refusals_note(sc->sc_refused->r_table, outcome, reason, status, addr,
	    call_id, polrecd_utc_us());
}
