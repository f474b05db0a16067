/*
 * Message ids acknowledged before a restart, back in the replay cache:
 * a notification acknowledged just before a kill -9, whose 202 Teams
 * never got, is answered as before when it comes again rather than
 * acted on and recorded a second time.  Read from the trail's own
 * `notification` events (outcome accepted, 202) of the last token
 * lifetime, with the body a join's reply carried (its decision, kept in
 * the event's detail as `reply`).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "polrecd.h"
#include "replay.h"

/* A token lives at most an hour; with some skew to spare. */
#define REPLAYS_LIFETIME_SEC	(3600 + 600)

void
replays_restore(struct polrecd *sc)
{
	sqlite3		*db = commit_db(sc->sc_commit);
	sqlite3_stmt	*st = NULL;
	const char	*id, *body;
	long long	 now = (long long)time(NULL), at;
	size_t		 n = 0;
	int		 rc, status;

	if (sqlite3_prepare_v2(db, "SELECT msg_id, max(utc_us), "
	    "max(http_status), max(json_extract(detail, '$.reply')) FROM "
	    "audit_event WHERE utc_us >= ? AND kind = 'notification' AND "
	    "outcome = 'accepted' AND http_status IN (200, 202) AND msg_id "
	    "IS NOT NULL GROUP BY msg_id LIMIT ?", -1, &st, NULL) !=
	    SQLITE_OK) {
		log_warnx("replays: cannot read the trail: %s",
		    sqlite3_errmsg(db));
		return;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(now - REPLAYS_LIFETIME_SEC) *
	    1000000);
	sqlite3_bind_int64(st, 2, REPLAY_MAX_ENTRIES);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		at = (long long)(sqlite3_column_int64(st, 1) / 1000000);
		status = sqlite3_column_int(st, 2);
		body = (const char *)sqlite3_column_text(st, 3);
		/* A 200 without the body it carried cannot be given again. */
		if (status == 200 && body == NULL)
			continue;
		if (id != NULL && replay_remember(sc->sc_replay, id,
		    at + REPLAYS_LIFETIME_SEC, status, body != NULL ? body : "",
		    body != NULL ? strlen(body) : 0) == 0)
			n++;
	}
	if (rc != SQLITE_DONE)
		log_warnx("replays: reading the trail: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (n > 0)
		log_info("replays: %zu message id(s) acknowledged before the "
		    "restart are answered as before if sent again", n);
}
