/*
 * The trail's trusted time: RFC 3161 time stamps of checkpoints
 * (audit_timestamp) checked against the time stamping authority's CA.
 * A rewritten history cannot get a time stamp from the past: the old
 * tokens no longer match its checkpoints, and new ones are dated when
 * they were made, long after the events they would vouch for.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "audit.h"
#include "trail.h"
#include "trail_int.h"
#include "tsa.h"

#define TSA_DEFAULT_LAG_US	(3600LL * 1000000)

static int
tbad(struct trail_report *r, int64_t seq, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static int
tbad(struct trail_report *r, int64_t seq, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(r->problem, sizeof(r->problem), fmt, ap);
	va_end(ap);
	r->bad_seq = seq;
	return 1;
}

static int
in_quarantine(const struct trail_report *r, int64_t seq)
{
	int	 i;

	for (i = 0; i < r->nsegments; i++)
		if (seq > r->segments[i].anchor_seq && seq < r->segments[i].seq)
			return 1;
	return 0;
}

/* Whether the last stamp before seq is dated within lag of ev_utc. */
static int
stamped_before_within(sqlite3 *db, int64_t seq, int64_t ev_utc, int64_t lag)
{
	int64_t	 gen;
	char	 err[64];

	if (trail_query_int(db, "SELECT gen_utc_us FROM audit_timestamp "
	    "WHERE seq < ? ORDER BY seq DESC LIMIT 1", seq, &gen, err,
	    sizeof(err)) != 0)
		return 0;
	return ev_utc - gen <= lag;
}

/*
 * Newest checkpoint first.  Each stamp must verify and match its
 * checkpoint as it is now, and be dated within `lag` of its event; a
 * stamp whose checkpoint is gone means it was removed or rewritten.
 * From the first stamped checkpoint on, every checkpoint must be
 * vouched for by a stamp at or after it, dated within `lag` of its
 * event; after the last stamp, checkpoints are accepted while their
 * events are within `lag` of it, or of now (a stamp may be on its way):
 * that short tail is what the time stamps cannot protect.
 */
int
trail_verify_timestamps(sqlite3 *db, const struct trail_verify_opts *o,
    struct trail_report *r)
{
	struct audit_checkpoint	 cp;
	sqlite3_stmt		*st;
	unsigned char		 digest[TSA_DIGESTBYTES];
	char			 err[200];
	int64_t			 lag, ev_utc, gen, now, orphan = 0;
	int64_t			 min_gen = INT64_MAX, first_stamped = 0;
	int			 rc = SQLITE_DONE, rv = 0;

	if (o == NULL || o->tsa_ca_file == NULL)
		return 0;
	lag = o->tsa_max_lag_us > 0 ? o->tsa_max_lag_us : TSA_DEFAULT_LAG_US;
	now = (int64_t)time(NULL) * 1000000;
	if (trail_query_int(db, "SELECT min(seq) FROM audit_timestamp", 0,
	    &first_stamped, err, sizeof(err)) == -1 ||
	    trail_query_int(db, "SELECT min(seq) FROM audit_timestamp WHERE "
	    "seq NOT IN (SELECT seq FROM audit_checkpoint)", 0, &orphan, err,
	    sizeof(err)) == -1) {
		snprintf(r->problem, sizeof(r->problem), "%s", err);
		return -1;
	}
	if (orphan != 0)
		return tbad(r, orphan, "checkpoint %lld was time-stamped and "
		    "is gone (removed or rewritten)", (long long)orphan);
	if (sqlite3_prepare_v2(db, "SELECT c.seq, c.utc_us, c.head, "
	    "c.key_id, c.sig, coalesce(e.utc_us, c.utc_us), t.token, "
	    "t.seq IS NOT NULL FROM audit_checkpoint c LEFT JOIN audit_event "
	    "e ON e.seq = c.seq LEFT JOIN audit_timestamp t ON t.seq = c.seq "
	    "ORDER BY c.seq DESC", -1, &st, NULL) != SQLITE_OK) {
		snprintf(r->problem, sizeof(r->problem), "cannot read the "
		    "time stamps: %s", sqlite3_errmsg(db));
		return -1;
	}
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (trail_read_checkpoint(st, &cp) == -1 ||
		    in_quarantine(r, cp.seq))
			continue;
		ev_utc = sqlite3_column_int64(st, 5);
		if (sqlite3_column_int(st, 7)) {
			if (tsa_digest(&cp, digest) == -1 ||
			    sqlite3_column_type(st, 6) != SQLITE_BLOB ||
			    tsa_token_verify(sqlite3_column_blob(st, 6),
			    (size_t)sqlite3_column_bytes(st, 6), digest,
			    o->tsa_ca_file, &gen, err, sizeof(err)) == -1) {
				rv = tbad(r, cp.seq, "the time stamp of "
				    "checkpoint %lld does not verify: %s",
				    (long long)cp.seq, err);
				break;
			}
			if (gen - ev_utc > lag || ev_utc - gen > lag) {
				rv = tbad(r, cp.seq, "checkpoint %lld was "
				    "time-stamped %lld s from the time of its "
				    "event (history signed later?)",
				    (long long)cp.seq,
				    (long long)((gen - ev_utc) / 1000000));
				break;
			}
			if (r->timestamps == 0) {
				r->timestamp_last_seq = cp.seq;
				r->timestamp_last_gen_utc_us = gen;
			}
			r->timestamps++;
			if (gen < min_gen)
				min_gen = gen;
			continue;
		}
		if (first_stamped == 0 || cp.seq < first_stamped)
			continue;
		if (r->timestamps == 0) {
			/* After the last stamp: the short tail. */
			if (ev_utc >= now - lag)
				continue;
			if (stamped_before_within(db, cp.seq, ev_utc, lag))
				continue;
		} else if (min_gen - ev_utc <= lag)
			continue;
		rv = tbad(r, cp.seq, "checkpoint %lld has no time stamp "
		    "within %lld s of its event (time stamps removed?)",
		    (long long)cp.seq, (long long)(lag / 1000000));
	}
	sqlite3_finalize(st);
	if (rv != 0)
		return rv;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(r->problem, sizeof(r->problem), "cannot read the "
		    "time stamps: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (r->checkpoints > 0 && r->timestamps == 0)
		return tbad(r, r->last_checkpoint_seq, "no time-stamped "
		    "checkpoint in the trail");
	return 0;
}
