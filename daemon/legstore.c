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

/*
 * A leg's row as it was when its turn ended: the writer thread binds
 * these, never the leg, which the loop goes on changing meanwhile.
 * Static and interned strings are shared; the leg's own are copied.
 */
struct legrow {
	char		*lr_id, *lr_tenant, *lr_chain, *lr_policy;
	char		*lr_paired, *lr_other, *lr_result_text;
	const char	*lr_state, *lr_decision, *lr_reason, *lr_outcome;
	const char	*lr_end_reason, *lr_callback, *lr_capture;
	const char	*lr_rec_confirmed, *lr_rec_sent;
	int64_t		 lr_arrival, lr_ended;	/* UTC; ended 0: live */
	long long	 lr_result_code, lr_result_subcode;
	int		 lr_blob_issued;
	int		 lr_has_group;
	uint32_t	 lr_group_capacity;
	unsigned char	*lr_members, *lr_roster;
	size_t		 lr_nmembers, lr_nroster;
	int64_t		 lr_roster_sequence;
	int		 lr_roster_seen;
};

struct legrows {
	struct legrow	*r_v;
	size_t		 r_n;
	int64_t		 r_forget_before;	/* 0: none */
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static int
row_take(struct legrow *r, const struct call_leg *leg)
{
	memset(r, 0, sizeof(*r));
	if ((leg->cl_group != NULL && group_pack(leg->cl_group,
	    &r->lr_members, &r->lr_nmembers) == -1) ||
	    roster_pack(&leg->cl_roster, &r->lr_roster, &r->lr_nroster) == -1)
		return -1;
	r->lr_id = xstrdup(leg->cl_id);
	r->lr_tenant = dup_or_null(leg->cl_tenant);
	r->lr_chain = dup_or_null(leg->cl_chain);
	r->lr_policy = dup_or_null(leg->cl_policy);
	r->lr_paired = dup_or_null(leg->cl_paired);
	r->lr_other = dup_or_null(leg->cl_other);
	r->lr_result_text = dup_or_null(leg->cl_result_text);
	r->lr_state = leg_state_name(leg->cl_state);
	r->lr_decision = decision_name(leg->cl_decision);
	r->lr_reason = leg->cl_reason;
	r->lr_outcome = legs_outcome_name(leg->cl_outcome);
	r->lr_end_reason = leg->cl_end_reason;
	r->lr_callback = leg->cl_callback;
	r->lr_capture = legs_capture_name(leg->cl_capture);
	r->lr_rec_confirmed = recording_status_name(leg->cl_rec_confirmed);
	r->lr_rec_sent = recording_status_name(leg->cl_rec_sent);
	r->lr_arrival = polrecd_utc_of(leg->cl_arrival_us);
	r->lr_ended = leg->cl_ended_us != 0 ?
	    polrecd_utc_of(leg->cl_ended_us) : 0;
	r->lr_result_code = leg->cl_result_code;
	r->lr_result_subcode = leg->cl_result_subcode;
	r->lr_blob_issued = leg->cl_blob_issued;
	if ((r->lr_has_group = leg->cl_group != NULL))
		r->lr_group_capacity = group_capacity(leg->cl_group);
	r->lr_roster_sequence = leg->cl_roster.sequence;
	r->lr_roster_seen = leg->cl_roster.seen;
	return 0;
}

static void
row_free(struct legrow *r)
{
	free(r->lr_id);
	free(r->lr_tenant);
	free(r->lr_chain);
	free(r->lr_policy);
	free(r->lr_paired);
	free(r->lr_other);
	free(r->lr_result_text);
	free(r->lr_members);
	free(r->lr_roster);
}

static int
put(sqlite3 *db, const struct legrow *r, int64_t now, char *err,
    size_t errlen)
{
	int	 rv = -1;

	sqlite3_reset(st_put);
	sqlite3_clear_bindings(st_put);
	bind_text(st_put, C_CALL_ID, r->lr_id);
	bind_text(st_put, C_TENANT, r->lr_tenant);
	bind_text(st_put, C_CHAIN_ID, r->lr_chain);
	bind_text(st_put, C_POLICY, r->lr_policy);
	bind_text(st_put, C_STATE, r->lr_state);
	bind_text(st_put, C_DECISION, r->lr_decision);
	bind_text(st_put, C_REASON, r->lr_reason);
	bind_text(st_put, C_OUTCOME, r->lr_outcome);
	bind_text(st_put, C_END_REASON, r->lr_end_reason);
	bind_text(st_put, C_CALLBACK, r->lr_callback);
	sqlite3_bind_int64(st_put, C_ARRIVAL, r->lr_arrival);
	if (r->lr_ended != 0)
		sqlite3_bind_int64(st_put, C_ENDED, r->lr_ended);
	if (r->lr_result_code != -1)
		sqlite3_bind_int64(st_put, C_RESULT_CODE, r->lr_result_code);
	if (r->lr_result_subcode != -1)
		sqlite3_bind_int64(st_put, C_RESULT_SUBCODE,
		    r->lr_result_subcode);
	bind_text(st_put, C_RESULT_TEXT, r->lr_result_text);
	bind_text(st_put, C_CAPTURE, r->lr_capture);
	bind_text(st_put, C_REC_CONFIRMED, r->lr_rec_confirmed);
	bind_text(st_put, C_REC_SENT, r->lr_rec_sent);
	sqlite3_bind_int(st_put, C_BLOB_ISSUED, r->lr_blob_issued);
	if (r->lr_has_group) {
		sqlite3_bind_int64(st_put, C_GROUP_CAPACITY,
		    r->lr_group_capacity);
		sqlite3_bind_blob(st_put, C_GROUP_MEMBERS, r->lr_members,
		    (int)r->lr_nmembers, SQLITE_STATIC);
	}
	sqlite3_bind_blob(st_put, C_ROSTER, r->lr_roster, (int)r->lr_nroster,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st_put, C_ROSTER_SEQUENCE, r->lr_roster_sequence);
	sqlite3_bind_int(st_put, C_ROSTER_SEEN, r->lr_roster_seen);
	sqlite3_bind_int64(st_put, C_UPDATED, now);
	bind_text(st_put, C_PAIRED, r->lr_paired);
	bind_text(st_put, C_OTHER, r->lr_other);
	if (sqlite3_step(st_put) != SQLITE_DONE) {
		snprintf(err, errlen, "leg %s: %s", r->lr_id,
		    sqlite3_errmsg(db));
		goto done;
	}
	rv = 0;
done:
	sqlite3_reset(st_put);
	sqlite3_clear_bindings(st_put);
	return rv;
}

/*
 * On the loop, at the end of a turn: the rows of the legs changed in it
 * and the forgetting due, taken for the writer; the legs are clean.
 * NULL when there is nothing.  A leg whose row cannot be packed (out of
 * memory) stays dirty, for the next batch.
 */
struct legrows *
legstore_take(struct polrecd *sc)
{
	struct call_legq	*q = legs_dirty(sc);
	struct call_leg		*leg, *next;
	struct legrows		*rows;
	size_t			 n = 0;

	if (!legstore_dirty(sc))
		return NULL;
	TAILQ_FOREACH(leg, q, cl_dirty_entry)
		n++;
	rows = xcalloc(1, sizeof(*rows));
	rows->r_v = xcalloc(n > 0 ? n : 1, sizeof(*rows->r_v));
	for (leg = TAILQ_FIRST(q); leg != NULL; leg = next) {
		next = TAILQ_NEXT(leg, cl_dirty_entry);
		if (row_take(&rows->r_v[rows->r_n], leg) == -1)
			continue;
		rows->r_n++;
		TAILQ_REMOVE(q, leg, cl_dirty_entry);
		leg->cl_dirty = 0;
	}
	rows->r_forget_before = legs_forget_before(sc, 1);
	return rows;
}

/* On the writer thread, inside the batch's transaction. */
int
legstore_write(const struct legrows *rows, sqlite3 *db, char *err,
    size_t errlen)
{
	int64_t		 now = polrecd_utc_us();
	size_t		 i;
	int		 rc;

	if (rows == NULL)
		return 0;
	if (prepare(db, &st_put, "INSERT OR REPLACE INTO leg_state (" COLUMNS
	    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	    "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, "
	    "?26, ?27)",
	    err, errlen) == -1 ||
	    prepare(db, &st_forget, "DELETE FROM leg_state WHERE "
	    "ended_utc_us IS NOT NULL AND ended_utc_us < ?1", err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < rows->r_n; i++)
		if (put(db, &rows->r_v[i], now, err, errlen) == -1)
			return -1;
	if (rows->r_forget_before != 0) {
		sqlite3_bind_int64(st_forget, 1, rows->r_forget_before);
		rc = sqlite3_step(st_forget);
		sqlite3_reset(st_forget);
		if (rc != SQLITE_DONE) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
			return -1;
		}
	}
	return 0;
}

/*
 * On the loop, when the batch is over.  Committed: the rows go.  Rolled
 * back: the legs still in memory are dirty again and the forgetting is
 * due again, so the next batch writes them as they are then.
 */
void
legstore_done(struct polrecd *sc, struct legrows *rows, int committed)
{
	struct call_leg	*leg;
	size_t		 i;

	if (rows == NULL)
		return;
	for (i = 0; i < rows->r_n; i++) {
		if (!committed &&
		    (leg = legs_find(sc, rows->r_v[i].lr_id)) != NULL &&
		    !leg->cl_dirty) {
			leg->cl_dirty = 1;
			TAILQ_INSERT_TAIL(legs_dirty(sc), leg, cl_dirty_entry);
		}
		row_free(&rows->r_v[i]);
	}
	if (!committed && rows->r_forget_before != 0)
		legs_forget_again(sc, rows->r_forget_before);
	free(rows->r_v);
	free(rows);
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
