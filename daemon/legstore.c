/*
 * The legs' rows in the database (table leg_state): each leg changed in
 * a turn is written once, in that turn's commit; at start-up every row is
 * read back, so a restart (kill -9 included) forgets no leg and no group.
 * Rows are untrusted on the way back: a row that does not make sense is
 * logged and left out, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "conf.h"
#include "decide.h"
#include "group.h"
#include "legs.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define ROW_TEXT_MAX	1024	/* longest id or name read back */

enum {
	C_CALL_ID = 1, C_TENANT, C_CHAIN_ID, C_POLICY, C_STATE, C_DECISION,
	C_REASON, C_OUTCOME, C_END_REASON, C_CALLBACK, C_ARRIVAL, C_ENDED,
	C_RESULT_CODE, C_RESULT_SUBCODE, C_RESULT_TEXT, C_CAPTURE,
	C_REC_CONFIRMED, C_REC_SENT, C_BLOB_ISSUED, C_GROUP_CAPACITY,
	C_GROUP_MEMBERS, C_ROSTER, C_ROSTER_SEQUENCE, C_ROSTER_SEEN,
	C_UPDATED, C_PAIRED, C_OTHER,
};

#define COLUMNS	"call_id, tenant, chain_id, policy, state, decision, " \
	"reason, outcome, end_reason, callback_uri, arrival_utc_us, " \
	"ended_utc_us, result_code, result_subcode, result_text, capture, " \
	"rec_confirmed, rec_sent, blob_issued, group_capacity, " \
	"group_members, roster, roster_sequence, roster_seen, updated_utc_us, " \
	"paired_recorders, other_recorders"

static sqlite3_stmt	*st_put, *st_forget;

int
legstore_dirty(struct polrecd *sc)
{
	return !TAILQ_EMPTY(legs_dirty(sc)) || legs_forget_before(sc, 0) != 0;
}

static int
prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql, char *err,
    size_t errlen)
{
	if (*st != NULL)
		return 0;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void
bind_text(sqlite3_stmt *st, int col, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

static int
put(sqlite3 *db, struct call_leg *leg, int64_t now, char *err,
    size_t errlen)
{
	unsigned char	*members = NULL, *roster = NULL;
	size_t		 nmembers = 0, nroster = 0;
	int		 rv = -1;

	if ((leg->cl_group != NULL && group_pack(leg->cl_group, &members,
	    &nmembers) == -1) || roster_pack(&leg->cl_roster, &roster,
	    &nroster) == -1) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	sqlite3_reset(st_put);
	sqlite3_clear_bindings(st_put);
	bind_text(st_put, C_CALL_ID, leg->cl_id);
	bind_text(st_put, C_TENANT, leg->cl_tenant);
	bind_text(st_put, C_CHAIN_ID, leg->cl_chain);
	bind_text(st_put, C_POLICY, leg->cl_policy);
	bind_text(st_put, C_STATE, leg_state_name(leg->cl_state));
	bind_text(st_put, C_DECISION, decision_name(leg->cl_decision));
	bind_text(st_put, C_REASON, leg->cl_reason);
	bind_text(st_put, C_OUTCOME, legs_outcome_name(leg->cl_outcome));
	bind_text(st_put, C_END_REASON, leg->cl_end_reason);
	bind_text(st_put, C_CALLBACK, leg->cl_callback);
	sqlite3_bind_int64(st_put, C_ARRIVAL,
	    polrecd_utc_of(leg->cl_arrival_us));
	if (leg->cl_ended_us != 0)
		sqlite3_bind_int64(st_put, C_ENDED,
		    polrecd_utc_of(leg->cl_ended_us));
	if (leg->cl_result_code != -1)
		sqlite3_bind_int64(st_put, C_RESULT_CODE, leg->cl_result_code);
	if (leg->cl_result_subcode != -1)
		sqlite3_bind_int64(st_put, C_RESULT_SUBCODE,
		    leg->cl_result_subcode);
	bind_text(st_put, C_RESULT_TEXT, leg->cl_result_text);
	bind_text(st_put, C_CAPTURE, legs_capture_name(leg->cl_capture));
	bind_text(st_put, C_REC_CONFIRMED,
	    recording_status_name(leg->cl_rec_confirmed));
	bind_text(st_put, C_REC_SENT, recording_status_name(leg->cl_rec_sent));
	sqlite3_bind_int(st_put, C_BLOB_ISSUED, leg->cl_blob_issued);
	if (leg->cl_group != NULL) {
		sqlite3_bind_int64(st_put, C_GROUP_CAPACITY,
		    group_capacity(leg->cl_group));
		sqlite3_bind_blob(st_put, C_GROUP_MEMBERS, members,
		    (int)nmembers, SQLITE_STATIC);
	}
	sqlite3_bind_blob(st_put, C_ROSTER, roster, (int)nroster,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st_put, C_ROSTER_SEQUENCE,
	    leg->cl_roster.sequence);
	sqlite3_bind_int(st_put, C_ROSTER_SEEN, leg->cl_roster.seen);
	sqlite3_bind_int64(st_put, C_UPDATED, now);
	bind_text(st_put, C_PAIRED, leg->cl_paired);
	bind_text(st_put, C_OTHER, leg->cl_other);
	if (sqlite3_step(st_put) != SQLITE_DONE) {
		snprintf(err, errlen, "leg %s: %s", leg->cl_id,
		    sqlite3_errmsg(db));
		goto done;
	}
	rv = 0;
done:
	sqlite3_reset(st_put);
	sqlite3_clear_bindings(st_put);
	free(members);
	free(roster);
	return rv;
}

/* Inside the turn's transaction: the changed rows, the forgotten ones. */
int
legstore_flush(struct polrecd *sc, sqlite3 *db, char *err, size_t errlen)
{
	struct call_leg	*leg;
	int64_t		 now = polrecd_utc_us(), before;
	int		 rc;

	if (prepare(db, &st_put, "INSERT OR REPLACE INTO leg_state (" COLUMNS
	    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	    "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, "
	    "?26, ?27)",
	    err, errlen) == -1 ||
	    prepare(db, &st_forget, "DELETE FROM leg_state WHERE "
	    "ended_utc_us IS NOT NULL AND ended_utc_us < ?1", err,
	    errlen) == -1)
		return -1;
	TAILQ_FOREACH(leg, legs_dirty(sc), cl_dirty_entry)
		if (put(db, leg, now, err, errlen) == -1)
			return -1;
	if ((before = legs_forget_before(sc, 0)) != 0) {
		sqlite3_bind_int64(st_forget, 1, before);
		rc = sqlite3_step(st_forget);
		sqlite3_reset(st_forget);
		if (rc != SQLITE_DONE) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
			return -1;
		}
	}
	return 0;
}

/* Committed: the rows are clean.  Rolled back: they stay to be written. */
void
legstore_done(struct polrecd *sc, int committed)
{
	struct call_legq	*q = legs_dirty(sc);
	struct call_leg		*leg;

	if (!committed)
		return;
	while ((leg = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, leg, cl_dirty_entry);
		leg->cl_dirty = 0;
	}
	legs_forget_before(sc, 1);
}

void
legstore_close(void)
{
	sqlite3_finalize(st_put);
	sqlite3_finalize(st_forget);
	st_put = st_forget = NULL;
}

/* Reading back. */

static const char *
col_text(sqlite3_stmt *st, int col)
{
	const unsigned char	*s;

	if (sqlite3_column_type(st, col - 1) != SQLITE_TEXT ||
	    (s = sqlite3_column_text(st, col - 1)) == NULL ||
	    sqlite3_column_bytes(st, col - 1) > ROW_TEXT_MAX ||
	    strlen((const char *)s) !=
	    (size_t)sqlite3_column_bytes(st, col - 1))
		return NULL;
	return (const char *)s;
}

static int
col_is_int(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col - 1) == SQLITE_INTEGER;
}

static int64_t
col_int(sqlite3_stmt *st, int col, int64_t dflt)
{
	return col_is_int(st, col) ? sqlite3_column_int64(st, col - 1) : dflt;
}

/* The enum value whose name is s, by the module's own name function. */
#define BY_NAME(fn, type, last, s, out) do {				\
	int _i;								\
	(out) = -1;							\
	for (_i = 0; (s) != NULL && _i <= (int)(last); _i++)		\
		if (strcmp(fn((type)_i), (s)) == 0) {			\
			(out) = _i;					\
			break;						\
		}							\
} while (0)

/* A blob column: the pointer first, then its size (SQLite's order). */
static const unsigned char *
col_blob(sqlite3_stmt *st, int col, size_t *len)
{
	const unsigned char	*p = sqlite3_column_blob(st, col - 1);

	*len = p != NULL ? (size_t)sqlite3_column_bytes(st, col - 1) : 0;
	return p;
}

static char *
dup_text(sqlite3_stmt *st, int col)
{
	const char	*s = col_text(st, col);

	return s != NULL ? xstrdup(s) : NULL;
}

/* One row to a leg; -1 (with why) when the row makes no sense. */
static int
restore_row(struct polrecd *sc, sqlite3_stmt *st, int64_t keep_after,
    const char **why)
{
	struct call_leg	*leg;
	const char	*id;
	const unsigned char *blob;
	int64_t		 ended;
	size_t		 len;
	int		 state, decision, outcome, capture, rconf;

	if ((id = col_text(st, C_CALL_ID)) == NULL || *id == '\0') {
		*why = "no call id";
		return -1;
	}
	BY_NAME(leg_state_name, enum leg_state, LEG_TERMINATED,
	    col_text(st, C_STATE), state);
	BY_NAME(decision_name, enum decision, DECIDE_REDIRECT,
	    col_text(st, C_DECISION), decision);
	BY_NAME(legs_outcome_name, enum leg_outcome, OUTCOME_REDIRECTED,
	    col_text(st, C_OUTCOME), outcome);
	BY_NAME(legs_capture_name, enum capture_state, CAPTURE_FAILED,
	    col_text(st, C_CAPTURE), capture);
	BY_NAME(recording_status_name, enum rec_status, REC_REFUSED,
	    col_text(st, C_REC_CONFIRMED), rconf);
	if (state < 0 || decision < 0 || outcome < 0 || capture < 0 ||
	    rconf < 0 || !col_is_int(st, C_ARRIVAL)) {
		*why = "unknown state, decision, outcome or status";
		return -1;
	}
	ended = col_int(st, C_ENDED, 0);
	if (ended != 0 && ended < keep_after)
		return 0;	/* past keeping; deleted at the next expiry */
	if ((leg = legs_restore_one(sc, id, ended != 0 ?
	    polrecd_mono_of(ended) : 0)) == NULL) {
		*why = "duplicate call id";
		return -1;
	}
	leg->cl_tenant = dup_text(st, C_TENANT);
	leg->cl_chain = dup_text(st, C_CHAIN_ID);
	leg->cl_policy = dup_text(st, C_POLICY);
	leg->cl_paired = dup_text(st, C_PAIRED);
	leg->cl_other = dup_text(st, C_OTHER);
	leg->cl_state = (enum leg_state)state;
	leg->cl_decision = (enum decision)decision;
	leg->cl_outcome = (enum leg_outcome)outcome;
	leg->cl_reason = legs_intern(sc, col_text(st, C_REASON));
	leg->cl_end_reason = legs_intern(sc, col_text(st, C_END_REASON));
	leg->cl_callback = legs_intern(sc, col_text(st, C_CALLBACK));
	leg->cl_arrival_us = polrecd_mono_of(col_int(st, C_ARRIVAL, 0));
	leg->cl_result_code = col_int(st, C_RESULT_CODE, -1);
	leg->cl_result_subcode = col_int(st, C_RESULT_SUBCODE, -1);
	leg->cl_result_text = dup_text(st, C_RESULT_TEXT);
	leg->cl_capture = (enum capture_state)capture;
	/* An update in flight at the crash (rec_sent) is sent again if
	 * still due: what counts is what Graph confirmed. */
	leg->cl_rec_confirmed = leg->cl_rec_sent = (enum rec_status)rconf;
	leg->cl_rec_wanted = leg->cl_rec_confirmed;
	/* Said before the restart, if it was established then. */
	leg->cl_rec_no_source = leg->cl_state == LEG_ESTABLISHED &&
	    sc->sc_conf->recording_capture_source == CAPTURE_SOURCE_NONE;
	leg->cl_blob_issued = col_int(st, C_BLOB_ISSUED, 0) != 0;
	blob = col_blob(st, C_ROSTER, &len);
	if (sqlite3_column_type(st, C_ROSTER - 1) == SQLITE_BLOB &&
	    roster_unpack(&leg->cl_roster, blob, len,
	    col_int(st, C_ROSTER_SEQUENCE, -1),
	    (int)col_int(st, C_ROSTER_SEEN, 0)) == -1)
		log_warnx("call %s: stored roster is damaged; starting an "
		    "empty one", id);
	if (col_is_int(st, C_GROUP_CAPACITY) && ended == 0) {
		int64_t cap = col_int(st, C_GROUP_CAPACITY, 0);

		leg->cl_capacity = cap > 0 && cap <= GROUP_MAX_CAPACITY ?
		    (uint32_t)cap : 0;
		blob = col_blob(st, C_GROUP_MEMBERS, &len);
		leg->cl_group = group_unpack(leg->cl_tenant, leg->cl_policy,
		    leg->cl_capacity, blob, len, legs_key(sc));
		if (leg->cl_group == NULL)
			log_warnx("call %s: stored recorder group is damaged; "
			    "its joins will be refused busy", id);
	}
	return 1;
}

/* At start-up: every stored leg back in memory. */
int
legstore_restore(struct polrecd *sc)
{
	sqlite3		*db = commit_db(sc->sc_commit);
	sqlite3_stmt	*st = NULL;
	const char	*why;
	char		 idbuf[80];
	uint64_t	 t0 = polrecd_now_us();
	int64_t		 keep_after;
	size_t		 live = 0, ended = 0, refused = 0;
	int		 rc, r;

	keep_after = polrecd_utc_us() - LEG_KEEP_ENDED_SEC * 1000000LL;
	if (sqlite3_prepare_v2(db, "SELECT " COLUMNS " FROM leg_state", -1,
	    &st, NULL) != SQLITE_OK) {
		log_warnx("database: cannot read leg_state: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		why = NULL;
		if ((r = restore_row(sc, st, keep_after, &why)) == -1) {
			refused++;
			log_warnx("database: leg_state row %s left out: %s",
			    log_sanitize(idbuf, sizeof(idbuf),
			    col_text(st, C_CALL_ID)), why);
		} else if (r == 1 && col_is_int(st, C_ENDED))
			ended++;
		else if (r == 1)
			live++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("database: reading leg_state: %s",
		    sqlite3_errstr(rc));
		return -1;
	}
	{
		char	 detail[128];

		snprintf(detail, sizeof(detail), "{\"live\":%zu,\"ended\":%zu,"
		    "\"refused\":%zu,\"ms\":%llu}", live, ended, refused,
		    (unsigned long long)(polrecd_now_us() - t0) / 1000);
		journal_simple(sc, "restore", refused > 0 ? "partial" : "ok",
		    NULL, detail);
	}
	sc->sc_stats.legs_restored += live;
	sc->sc_stats.legs_restore_refused += refused;
	if (live + ended + refused > 0)
		log_info("restored %zu live call leg(s) and %zu ended from the "
		    "database in %llu ms%s", live, ended,
		    (unsigned long long)(polrecd_now_us() - t0) / 1000,
		    refused > 0 ? "; some rows left out" : "");
	return 0;
}
