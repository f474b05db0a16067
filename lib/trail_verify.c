/*
 * The audit trail's verification: chain, seqs, seals, checkpoints under
 * pinned keys, the head seal, integrity breaks, off-host checkpoints and
 * time stamps.  The same walk serves `polrecctl audit verify` (the whole
 * trail) and polrecd's start-up check (from its last checkpoint on).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "trail.h"
#include "trail_int.h"

static const unsigned char zero_hash[AUDIT_HASHBYTES];

/*
 * Everything read is untrusted: types and lengths are checked before
 * use, and the first problem found is the one reported.
 */
struct verifier {
	sqlite3				*db;
	const struct trail_verify_opts	*opts;
	struct trail_report		*r;
	size_t				 npinned;
	size_t				 nexported;
	int64_t				 from;		/* walk events > from */
	sqlite3_stmt			*st_datakey;
	sqlite3_stmt			*st_cp;
	int				 cp_have;
	struct audit_checkpoint		 cp;
	char				 dk_id[AUDIT_KEYID_LEN + 1];
	unsigned char			 last_hash[AUDIT_HASHBYTES];
	int64_t				 last_seen;	/* last event walked */
	int64_t				 last_cp_verified;
	/* The start-up check's bounds and result. */
	int64_t				 max_events;
	int				 seal_required;
	int				 sound_chain;	/* only the seal */
	struct trail_tail_check		*out;
};

static int	vbad(struct verifier *, int64_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	verror(struct verifier *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));

static int
vbad(struct verifier *v, int64_t seq, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(v->r->problem, sizeof(v->r->problem), fmt, ap);
	va_end(ap);
	v->r->bad_seq = seq;
	return 1;
}

static int
verror(struct verifier *v, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(v->r->problem, sizeof(v->r->problem), fmt, ap);
	va_end(ap);
	return -1;
}

static int
vsqlerr(struct verifier *v)
{
	return verror(v, "cannot read the audit trail: %s",
	    sqlite3_errmsg(v->db));
}

/* The row's columns as stored; 0, or -1 with *why for a real number. */
static int
row_values(sqlite3_stmt *st, struct audit_value cols[], const char **why)
{
	const void	*p;
	int		 i;

	for (i = 0; i < AUDIT_NCOLUMNS; i++) {
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			trail_val_int(&cols[i], sqlite3_column_int64(st, i));
			break;
		case SQLITE_TEXT:
			p = sqlite3_column_text(st, i);
			trail_val_bytes(&cols[i], AUDIT_TEXT, p,
			    (size_t)sqlite3_column_bytes(st, i));
			break;
		case SQLITE_BLOB:
			p = sqlite3_column_blob(st, i);
			trail_val_bytes(&cols[i], AUDIT_BLOB, p,
			    (size_t)sqlite3_column_bytes(st, i));
			break;
		case SQLITE_NULL:
			trail_val_null(&cols[i]);
			break;
		default:
			*why = audit_column_names[i];
			return -1;
		}
	}
	return 0;
}

static const unsigned char *
pinned(const struct verifier *v, size_t i)
{
	return v->opts->pinned_pk + i * AUDIT_SIGN_PUBBYTES;
}

/* Whether a pinned key verifies the checkpoint. */
static int
cp_signed_by_pinned(const struct verifier *v, const struct audit_checkpoint *cp)
{
	size_t	 i;

	for (i = 0; i < v->npinned; i++)
		if (audit_checkpoint_verify(cp, pinned(v, i)) == 0)
			return 1;
	return 0;
}

/* The segment (integrity break) whose quarantine holds seq, or NULL. */
static struct trail_segment *
quarantine_of(struct verifier *v, int64_t seq)
{
	struct trail_segment	*s;
	int			 i;

	for (i = 0; i < v->r->nsegments; i++) {
		s = &v->r->segments[i];
		if (seq > s->anchor_seq && seq < s->seq)
			return s;
	}
	return NULL;
}

static struct trail_segment *
segment_at(struct verifier *v, int64_t seq)
{
	int	 i;

	for (i = 0; i < v->r->nsegments; i++)
		if (v->r->segments[i].seq == seq)
			return &v->r->segments[i];
	return NULL;
}

/* Read the next checkpoint row (not yet its signature).  0 or 1/-1. */
static int
cp_next(struct verifier *v)
{
	sqlite3_stmt	*st = v->st_cp;
	int		 rc;

	v->cp_have = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return vsqlerr(v);
	if (trail_read_checkpoint(st, &v->cp) == -1) {
		if (quarantine_of(v, v->cp.seq) != NULL)
			return cp_next(v);
		return vbad(v, v->cp.seq, "checkpoint at %lld is malformed",
		    (long long)v->cp.seq);
	}
	v->cp_have = 1;
	return 0;
}

/* The current checkpoint's signature, under a pinned key.  0 or 1/-1. */
static int
cp_check(struct verifier *v)
{
	struct trail_segment	*s;
	int			 i;

	if (!cp_signed_by_pinned(v, &v->cp))
		return vbad(v, v->cp.seq, "checkpoint at %lld is not signed "
		    "with the pinned key (key %s)", (long long)v->cp.seq,
		    v->cp.key_id);
	v->r->last_checkpoint_seq = v->cp.seq;
	v->last_cp_verified = v->cp.seq;
	for (i = 0; i < v->r->nsegments; i++) {
		s = &v->r->segments[i];
		if (s->anchor_seq == v->cp.seq) {
			memcpy(s->anchor_head, v->cp.head, AUDIT_HASHBYTES);
			s->anchor_ok = 1;
		}
	}
	return 0;
}

/* A sealed payload's header against its row.  0 or 1/-1. */
static int
check_sealed(struct verifier *v, int64_t seq, const struct audit_value *cols)
{
	const struct audit_value *k = &cols[AC_KEY_ID], *s = &cols[AC_SEALED];
	char		 id[AUDIT_KEYID_LEN + 1];
	int64_t		 hseq;
	int		 rc;

	if (s->type == AUDIT_NULL)
		return 0;
	if (s->type != AUDIT_BLOB ||
	    audit_sealed_header(s->p, s->len, &hseq, id) == -1)
		return vbad(v, seq, "event %lld: sealed metadata is malformed",
		    (long long)seq);
	if (hseq != seq)
		return vbad(v, seq, "event %lld: sealed metadata belongs to "
		    "event %lld", (long long)seq, (long long)hseq);
	if (k->type != AUDIT_TEXT || k->len != strlen(id) ||
	    memcmp(k->p, id, k->len) != 0)
		return vbad(v, seq, "event %lld: sealed metadata belongs to "
		    "data key %s, not the row's", (long long)seq, id);
	if (strcmp(v->dk_id, id) == 0)
		return 0;
	sqlite3_reset(v->st_datakey);
	sqlite3_bind_text(v->st_datakey, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(v->st_datakey);
	if (rc == SQLITE_DONE)
		return vbad(v, seq, "event %lld: data key %s is not in "
		    "audit_datakey", (long long)seq, id);
	if (rc != SQLITE_ROW)
		return vsqlerr(v);
	memcpy(v->dk_id, id, sizeof(v->dk_id));
	return 0;
}

/* An integer member of a detail object, or -1. */
static int64_t
detail_int(const cJSON *o, const char *name)
{
	const cJSON	*n = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(n) || n->valuedouble < 0 ||
	    n->valuedouble > 9007199254740991.0)
		return -1;
	return (int64_t)n->valuedouble;
}

static cJSON *
column_json(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) != SQLITE_TEXT)
		return NULL;
	return cJSON_ParseWithLength((const char *)sqlite3_column_text(st,
	    col), (size_t)sqlite3_column_bytes(st, col));
}

/*
 * The integrity breaks polrecd recorded after `from`, as the rows say;
 * the walk then checks each one is really part of the signed chain.
 */
static int
load_segments(struct verifier *v)
{
	struct trail_report	*r = v->r;
	struct trail_segment	*s;
	sqlite3_stmt		*st;
	cJSON			*d;
	int			 rc;

	if (sqlite3_prepare_v2(v->db, "SELECT seq, detail FROM audit_event "
	    "WHERE kind = 'integrity' AND outcome = 'new_segment' AND "
	    "seq > ? ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return vsqlerr(v);
	sqlite3_bind_int64(st, 1, v->from);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (r->nsegments == TRAIL_MAX_SEGMENTS) {
			sqlite3_finalize(st);
			return vbad(v, sqlite3_column_int64(st, 0), "more than "
			    "%d integrity breaks", TRAIL_MAX_SEGMENTS);
		}
		s = &r->segments[r->nsegments];
		memset(s, 0, sizeof(*s));
		s->seq = sqlite3_column_int64(st, 0);
		d = column_json(st, 1);
		s->anchor_seq = detail_int(d, "anchor_seq");
		s->first_bad = detail_int(d, "first_bad");
		cJSON_Delete(d);
		if (s->anchor_seq < 0 || s->anchor_seq >= s->seq ||
		    s->first_bad < 0) {
			sqlite3_finalize(st);
			return vbad(v, s->seq, "event %lld: an integrity event "
			    "without a valid anchor", (long long)s->seq);
		}
		if (s->anchor_seq == 0) {
			memcpy(s->anchor_head, zero_hash, AUDIT_HASHBYTES);
			s->anchor_ok = 1;
		}
		r->nsegments++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : vsqlerr(v);
}

/* An `acknowledge` event, walked and verified: mark its segment. */
static void
note_ack(struct verifier *v, sqlite3_stmt *st, int64_t seq)
{
	struct trail_segment	*s;
	const unsigned char	*reason;
	cJSON			*d;
	int64_t			 which;

	d = column_json(st, AC_DETAIL);
	which = detail_int(d, "integrity_seq");
	cJSON_Delete(d);
	if ((s = segment_at(v, which)) == NULL || which >= seq ||
	    s->ack_seq != 0)
		return;
	s->ack_seq = seq;
	s->ack_utc_us = sqlite3_column_int64(st, AC_UTC_US);
	reason = sqlite3_column_text(st, AC_REASON);
	snprintf(s->ack_by, sizeof(s->ack_by), "%s",
	    reason != NULL ? (const char *)reason : "?");
}

static int
column_is(sqlite3_stmt *st, int col, const char *want)
{
	const unsigned char	*p = sqlite3_column_text(st, col);

	return p != NULL && strcmp((const char *)p, want) == 0;
}

/* An exported checkpoint at seq: its head must be the event's. */
static int
check_exported(struct verifier *v, int64_t seq, const unsigned char *hash)
{
	const struct audit_checkpoint	*ex;
	size_t				 i;

	for (i = 0; i < v->nexported; i++) {
		ex = &v->opts->exported[i];
		if (ex->seq != seq)
			continue;
		if (sodium_memcmp(ex->head, hash, AUDIT_HASHBYTES) != 0)
			return vbad(v, seq, "trail truncated or rewritten "
			    "before exported checkpoint %lld",
			    (long long)ex->seq);
		v->r->exported_matched++;
	}
	return 0;
}

/* The walk over the events > v->from in seq order.  0 intact, 1, -1. */
static int
walk(struct verifier *v, sqlite3_stmt *st, int64_t first,
    const unsigned char *start)
{
	struct trail_report	*r = v->r;
	struct audit_value	 cols[AUDIT_NCOLUMNS];
	struct trail_segment	*seg;
	unsigned char		 prev[AUDIT_HASHBYTES], hash[AUDIT_HASHBYTES];
	const char		*why = NULL;
	int64_t			 seq, expect = first;
	int			 rc, seen = 0;

	memcpy(prev, start, sizeof(prev));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		/* Checkpoints of removed events: only their signatures. */
		while (v->cp_have && v->cp.seq < seq) {
			if (quarantine_of(v, v->cp.seq) == NULL) {
				if (seen)
					return vbad(v, v->cp.seq, "checkpoint "
					    "at %lld names a missing event",
					    (long long)v->cp.seq);
				if ((rc = cp_check(v)) != 0)
					return rc;
			}
			if ((rc = cp_next(v)) != 0)
				return rc;
		}
		if (seq != expect)
			return vbad(v, expect, "events %lld..%lld missing "
			    "(deleted)", (long long)expect,
			    (long long)seq - 1);
		expect = seq + 1;
		seen = 1;
		v->last_seen = seq;
		if (quarantine_of(v, seq) != NULL) {
			/* Found bad by polrecd; not part of any chain. */
			r->quarantined++;
			if (v->cp_have && v->cp.seq == seq &&
			    (rc = cp_next(v)) != 0)
				return rc;
			continue;
		}
		if (row_values(st, cols, &why) == -1)
			return vbad(v, seq, "event %lld: column %s holds a "
			    "value of the wrong type", (long long)seq, why);
		if (sqlite3_column_type(st, TRAIL_COL_HASH) != SQLITE_BLOB ||
		    sqlite3_column_bytes(st, TRAIL_COL_HASH) != AUDIT_HASHBYTES)
			return vbad(v, seq, "event %lld: the stored hash is "
			    "damaged", (long long)seq);
		if ((rc = check_sealed(v, seq, cols)) != 0)
			return rc;
		if (audit_chain_hash(prev, cols, hash) == -1)
			return vbad(v, seq, "event %lld: a value cannot be "
			    "hashed", (long long)seq);
		/* A new segment restarts the chain from its anchor. */
		if (sodium_memcmp(hash, sqlite3_column_blob(st,
		    TRAIL_COL_HASH), AUDIT_HASHBYTES) != 0 &&
		    (seg = segment_at(v, seq)) != NULL) {
			if (!seg->anchor_ok)
				return vbad(v, seq, "integrity event %lld "
				    "restarts the chain at %lld, which is "
				    "not a verified checkpoint",
				    (long long)seq, (long long)seg->anchor_seq);
			if (audit_chain_hash(seg->anchor_head, cols,
			    hash) == -1)
				return vbad(v, seq, "event %lld: a value "
				    "cannot be hashed", (long long)seq);
		}
		if (sodium_memcmp(hash, sqlite3_column_blob(st,
		    TRAIL_COL_HASH), AUDIT_HASHBYTES) != 0)
			return vbad(v, seq, "event %lld: hash does not match "
			    "its contents (edited, inserted or reordered)",
			    (long long)seq);
		if (column_is(st, AC_KIND, "acknowledge"))
			note_ack(v, st, seq);
		if (v->cp_have && v->cp.seq == seq) {
			if ((rc = cp_check(v)) != 0)
				return rc;
			if (sodium_memcmp(v->cp.head, hash,
			    AUDIT_HASHBYTES) != 0)
				return vbad(v, seq, "checkpoint at %lld does "
				    "not match event %lld (trail rewritten)",
				    (long long)seq, (long long)seq);
			if ((rc = cp_next(v)) != 0)
				return rc;
		}
		if ((rc = check_exported(v, seq, hash)) != 0)
			return rc;
		if (seq > v->last_cp_verified) {
			if (r->uncovered == 0)
				r->uncovered_from_utc_us =
				    sqlite3_column_int64(st, AC_UTC_US);
			r->uncovered++;
			r->uncovered_to_utc_us =
			    sqlite3_column_int64(st, AC_UTC_US);
		} else
			r->uncovered = 0;
		memcpy(prev, hash, sizeof(prev));
	}
	if (rc != SQLITE_DONE)
		return vsqlerr(v);
	memcpy(v->last_hash, prev, sizeof(prev));
	return 0;
}

/* Events covered by a checkpoint that came after them are not a tail. */
static void
recount_uncovered(struct verifier *v)
{
	if (v->r->last_checkpoint_seq >= v->last_seen)
		v->r->uncovered = 0;
}

/*
 * The hash before the first remaining event `first` > 1: the anchor of
 * the retention event that removed 1..first-1.  0 with anchor and the
 * retention event's seq, 1 when none accounts for them, -1.
 */
static int
find_anchor(struct verifier *v, int64_t first,
    unsigned char anchor[AUDIT_HASHBYTES], int64_t *anchor_seq)
{
	sqlite3_stmt	*st;
	const cJSON	*hex;
	cJSON		*detail;
	size_t		 got;
	const char	*end;
	int		 rc = SQLITE_DONE, rv = 1;

	if (sqlite3_prepare_v2(v->db, "SELECT seq, detail FROM audit_event "
	    "WHERE kind = 'retention' AND seq > ? ORDER BY seq", -1, &st,
	    NULL) != SQLITE_OK)
		return vsqlerr(v);
	sqlite3_bind_int64(st, 1, first);
	while (rv == 1 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		detail = column_json(st, 1);
		hex = cJSON_GetObjectItemCaseSensitive(detail, "anchor");
		if (detail_int(detail, "removed_through") == first - 1 &&
		    cJSON_IsString(hex) &&
		    strlen(hex->valuestring) == 2 * AUDIT_HASHBYTES &&
		    sodium_hex2bin(anchor, AUDIT_HASHBYTES, hex->valuestring,
		    2 * AUDIT_HASHBYTES, NULL, &got, &end) == 0 &&
		    got == AUDIT_HASHBYTES && *end == '\0') {
			*anchor_seq = sqlite3_column_int64(st, 0);
			rv = 0;
		}
		cJSON_Delete(detail);
	}
	if (rv == 1 && rc != SQLITE_DONE)
		rv = vsqlerr(v);
	sqlite3_finalize(st);
	return rv;
}

/*
 * The head seal: signed by a pinned key, naming the last event with the
 * hash the walk computed, and the checkpoints as they are.  0, 1, -1.
 */
static int
check_head(struct verifier *v, int required)
{
	struct trail_report	*r = v->r;
	struct audit_head_seal	 hs;
	sqlite3_stmt		*st;
	int64_t			 ncp = 0, lastcp = 0;
	char			 err[256];
	size_t			 i;
	int			 rc, ok = 0;

	if (sqlite3_prepare_v2(v->db, "SELECT seq, utc_us, head, "
	    "checkpoints, last_checkpoint_seq, key_id, sig FROM audit_head "
	    "WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
		return vsqlerr(v);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		if (!required || r->last_seq == 0)
			return 0;
		return vbad(v, r->last_seq, "the trail has no signed head: "
		    "its last events are not attested by polrecd");
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return vsqlerr(v);
	}
	memset(&hs, 0, sizeof(hs));
	if (sqlite3_column_type(st, 2) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, 2) == AUDIT_HASHBYTES &&
	    sqlite3_column_type(st, 5) == SQLITE_TEXT &&
	    sqlite3_column_bytes(st, 5) == AUDIT_KEYID_LEN &&
	    sqlite3_column_type(st, 6) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, 6) == AUDIT_SIGBYTES) {
		hs.seq = sqlite3_column_int64(st, 0);
		hs.utc_us = sqlite3_column_int64(st, 1);
		memcpy(hs.head, sqlite3_column_blob(st, 2), AUDIT_HASHBYTES);
		hs.checkpoints = sqlite3_column_int64(st, 3);
		hs.last_checkpoint_seq = sqlite3_column_int64(st, 4);
		memcpy(hs.key_id, sqlite3_column_text(st, 5), AUDIT_KEYID_LEN);
		memcpy(hs.sig, sqlite3_column_blob(st, 6), AUDIT_SIGBYTES);
		for (i = 0; i < v->npinned && !ok; i++)
			ok = audit_head_verify(&hs, pinned(v, i)) == 0;
	}
	sqlite3_finalize(st);
	if (!ok)
		return vbad(v, r->last_seq, "the signed head is not signed "
		    "with the pinned key");
	r->head_seq = hs.seq;
	if (trail_query_int(v->db, "SELECT count(*) FROM audit_checkpoint",
	    0, &ncp, err, sizeof(err)) == -1 ||
	    trail_query_int(v->db, "SELECT max(seq) FROM audit_checkpoint",
	    0, &lastcp, err, sizeof(err)) == -1)
		return verror(v, "%s", err);
	if (hs.seq > r->last_seq) {
		v->sound_chain = 1;
		return vbad(v, r->last_seq + 1, "trail truncated: the signed "
		    "head is event %lld, the last event is %lld",
		    (long long)hs.seq, (long long)r->last_seq);
	}
	if (hs.seq < r->last_seq)
		return vbad(v, hs.seq + 1, "events %lld..%lld were added after "
		    "the signed head (not written by polrecd)",
		    (long long)hs.seq + 1, (long long)r->last_seq);
	if (r->last_seq > 0 && sodium_memcmp(hs.head, v->last_hash,
	    AUDIT_HASHBYTES) != 0)
		return vbad(v, r->last_seq, "event %lld does not match the "
		    "signed head (trail rewritten)", (long long)r->last_seq);
	v->sound_chain = 1;
	if (hs.checkpoints != ncp || hs.last_checkpoint_seq != lastcp)
		return vbad(v, hs.last_checkpoint_seq > lastcp ?
		    hs.last_checkpoint_seq : lastcp, "checkpoints removed or "
		    "added: the signed head counts %lld up to event %lld, the "
		    "file has %lld up to %lld", (long long)hs.checkpoints,
		    (long long)hs.last_checkpoint_seq, (long long)ncp,
		    (long long)lastcp);
	v->sound_chain = 0;
	return 0;
}

static int
prepare_walk(struct verifier *v, sqlite3_stmt **st)
{
	*st = NULL;
	if (sqlite3_prepare_v2(v->db, "SELECT 1 FROM audit_datakey WHERE "
	    "key_id = ?", -1, &v->st_datakey, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(v->db, "SELECT seq, utc_us, head, key_id, sig "
	    "FROM audit_checkpoint WHERE seq > ? ORDER BY seq", -1, &v->st_cp,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(v->db, "SELECT " TRAIL_EVENT_COLUMNS ", hash "
	    "FROM audit_event WHERE seq > ? ORDER BY seq", -1, st,
	    NULL) != SQLITE_OK)
		return vsqlerr(v);
	sqlite3_bind_int64(v->st_cp, 1, v->from);
	sqlite3_bind_int64(*st, 1, v->from);
	return 0;
}

/* Exported checkpoints: their own signatures, under a pinned key. */
static int
check_exported_sigs(struct verifier *v)
{
	const struct trail_verify_opts	*o = v->opts;
	size_t				 i, k;
	int				 pinned_ok;

	for (i = 0; i < v->nexported; i++) {
		if (audit_checkpoint_verify(&o->exported[i], o->exported_pk +
		    i * AUDIT_SIGN_PUBBYTES) == -1)
			return verror(v, "the exported checkpoint at %lld: "
			    "its signature does not verify",
			    (long long)o->exported[i].seq);
		for (pinned_ok = 0, k = 0; k < v->npinned; k++)
			if (sodium_memcmp(pinned(v, k), o->exported_pk +
			    i * AUDIT_SIGN_PUBBYTES, AUDIT_SIGN_PUBBYTES) == 0)
				pinned_ok = 1;
		if (!pinned_ok)
			return verror(v, "the exported checkpoint at %lld is "
			    "signed with another key than the pinned one",
			    (long long)o->exported[i].seq);
	}
	return 0;
}

/* Exported checkpoints the walk did not meet. */
static int
check_exported_unseen(struct verifier *v, int64_t anchor_seq,
    const unsigned char *anchor)
{
	struct trail_report		*r = v->r;
	const struct audit_checkpoint	*ex;
	size_t				 i;

	for (i = 0; i < v->nexported; i++) {
		ex = &v->opts->exported[i];
		if (ex->seq >= r->first_seq && ex->seq <= r->last_seq &&
		    r->events > 0)
			continue;	/* met, or quarantined */
		if (anchor_seq > 0 && ex->seq == r->first_seq - 1 &&
		    sodium_memcmp(ex->head, anchor, AUDIT_HASHBYTES) == 0) {
			r->exported_matched++;
			continue;
		}
		if (r->events > 0 && ex->seq < r->first_seq)
			return vbad(v, ex->seq, "exported checkpoint %lld: its "
			    "event was removed by retention, it cannot be "
			    "checked", (long long)ex->seq);
		return vbad(v, r->last_seq + 1, "trail truncated or rewritten "
		    "before exported checkpoint %lld", (long long)ex->seq);
	}
	return 0;
}

/* Unacknowledged integrity breaks make the trail not intact. */
static int
check_segments(struct verifier *v)
{
	struct trail_segment	*s;
	int			 i;

	for (i = 0; i < v->r->nsegments; i++) {
		s = &v->r->segments[i];
		if (s->ack_seq == 0)
			return vbad(v, s->first_bad, "polrecd recorded an "
			    "integrity break at event %lld (first bad event "
			    "%lld), not acknowledged", (long long)s->seq,
			    (long long)s->first_bad);
	}
	return 0;
}

static int
verify(struct verifier *v)
{
	struct trail_report	*r = v->r;
	sqlite3_stmt		*st = NULL;
	unsigned char		 anchor[AUDIT_HASHBYTES];
	char			 err[sizeof(r->problem)];
	int64_t			 anchor_seq = 0;
	int			 rc;

	if (trail_query_int(v->db, "SELECT count(*) FROM audit_event", 0,
	    &r->events, err, sizeof(err)) != 0 ||
	    trail_query_int(v->db, "SELECT count(*) FROM audit_checkpoint", 0,
	    &r->checkpoints, err, sizeof(err)) != 0)
		return verror(v, "%s", err);
	if (r->events > 0 &&
	    (trail_query_int(v->db, "SELECT min(seq) FROM audit_event", 0,
	    &r->first_seq, err, sizeof(err)) != 0 ||
	    trail_query_int(v->db, "SELECT max(seq) FROM audit_event", 0,
	    &r->last_seq, err, sizeof(err)) != 0))
		return verror(v, "%s", err);
	if ((rc = check_exported_sigs(v)) != 0)
		return rc;

	memset(anchor, 0, sizeof(anchor));
	if (r->events > 0 && r->first_seq < 1)
		return vbad(v, r->first_seq, "event %lld: not a valid seq "
		    "(inserted)", (long long)r->first_seq);
	if (r->first_seq > 1) {
		if ((rc = find_anchor(v, r->first_seq, anchor,
		    &anchor_seq)) == -1)
			return -1;
		if (rc == 1)
			return vbad(v, 1, "events 1..%lld missing (deleted)",
			    (long long)r->first_seq - 1);
	}
	v->from = 0;
	if ((rc = load_segments(v)) != 0)
		return rc;
	if ((rc = prepare_walk(v, &st)) != 0 ||
	    (rc = cp_next(v)) != 0 ||
	    (rc = walk(v, st, r->events > 0 ? r->first_seq : 1, anchor)) != 0)
		goto done;
	while (v->cp_have) {
		if (quarantine_of(v, v->cp.seq) == NULL) {
			/* Past the last event: its signature, the verdict. */
			if ((rc = cp_check(v)) == 0)
				rc = vbad(v, r->last_seq + 1, "trail "
				    "truncated: checkpoint at %lld, last "
				    "event %lld", (long long)v->cp.seq,
				    (long long)r->last_seq);
			goto done;
		}
		if ((rc = cp_next(v)) != 0)
			goto done;
	}
	recount_uncovered(v);
	if ((rc = check_head(v, 1)) != 0)
		goto done;
	if (anchor_seq > r->last_checkpoint_seq) {
		rc = vbad(v, anchor_seq, "events 1..%lld removed by retention "
		    "event %lld, which no checkpoint signs",
		    (long long)r->first_seq - 1, (long long)anchor_seq);
		goto done;
	}
	if (r->events > 0 && r->last_checkpoint_seq == 0) {
		rc = vbad(v, r->first_seq, "no checkpoint signed with the "
		    "pinned key covers any of the %lld events",
		    (long long)r->events);
		goto done;
	}
	if ((rc = check_exported_unseen(v, anchor_seq, anchor)) != 0 ||
	    (rc = trail_verify_timestamps(v->db, v->opts, r)) != 0 ||
	    (rc = check_segments(v)) != 0)
		goto done;
done:
	sqlite3_finalize(st);
	return rc;
}

static int
verifier_run(struct verifier *v, int (*fn)(struct verifier *))
{
	int	 began = 0, rc;

	/* One snapshot, while polrecd may be writing. */
	if (sqlite3_get_autocommit(v->db)) {
		if (sqlite3_exec(v->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return vsqlerr(v);
		began = 1;
	}
	rc = fn(v);
	sqlite3_finalize(v->st_datakey);
	sqlite3_finalize(v->st_cp);
	if (began)
		sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc == 0)
		v->r->bad_seq = 0;
	return rc;
}

int
trail_verify(sqlite3 *db, const struct trail_verify_opts *opts,
    struct trail_report *r)
{
	struct verifier	 v;

	memset(r, 0, sizeof(*r));
	memset(&v, 0, sizeof(v));
	v.db = db;
	v.opts = opts;
	v.r = r;
	if (opts == NULL || opts->pinned_pk == NULL)
		return verror(&v, "no signing key is pinned: give "
		    "signing.pub (from key_dir) or -k");
	v.npinned = opts->npinned > 0 ? opts->npinned : 1;
	v.nexported = opts->exported == NULL ? 0 :
	    opts->nexported > 0 ? opts->nexported : 1;
	if (v.npinned > TRAIL_MAX_PINNED || v.nexported > TRAIL_MAX_EXPORTED)
		return verror(&v, "too many keys or exported checkpoints");
	return verifier_run(&v, verify);
}

/*
 * The start-up check: the last checkpoint that the appliance's own key
 * signed (a bogus row with its key id is passed over), then the walk
 * from it to the head, then the head seal.
 */
static int
own_anchor(struct verifier *v, struct trail_tail_check *out)
{
	struct audit_checkpoint	 cp;
	sqlite3_stmt		*st;
	int			 rc;

	out->anchor_seq = 0;
	memset(out->anchor_head, 0, sizeof(out->anchor_head));
	if (sqlite3_prepare_v2(v->db, "SELECT seq, utc_us, head, key_id, sig "
	    "FROM audit_checkpoint ORDER BY seq DESC LIMIT 64", -1, &st,
	    NULL) != SQLITE_OK)
		return vsqlerr(v);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (trail_read_checkpoint(st, &cp) == 0 &&
		    cp_signed_by_pinned(v, &cp)) {
			out->anchor_seq = cp.seq;
			memcpy(out->anchor_head, cp.head, AUDIT_HASHBYTES);
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : vsqlerr(v);
}

static int
check_tail(struct verifier *v)
{
	struct trail_tail_check	*out = v->out;
	struct trail_report	*r = v->r;
	sqlite3_stmt		*st = NULL;
	char			 err[256];
	int64_t			 first = 0;
	int			 rc;

	if (trail_query_int(v->db, "SELECT max(seq) FROM audit_event", 0,
	    &r->last_seq, err, sizeof(err)) == -1 ||
	    trail_query_int(v->db, "SELECT min(seq) FROM audit_event", 0,
	    &first, err, sizeof(err)) == -1)
		return verror(v, "%s", err);
	out->last_seq = r->last_seq;
	if ((rc = own_anchor(v, out)) != 0)
		return rc;
	if (out->anchor_seq == 0 && first > 1)
		return vbad(v, first, "no checkpoint signed with this "
		    "appliance's key in the trail");
	if (out->anchor_seq > r->last_seq)
		return vbad(v, r->last_seq + 1, "trail truncated: checkpoint "
		    "at %lld, last event %lld", (long long)out->anchor_seq,
		    (long long)r->last_seq);
	if (r->last_seq - out->anchor_seq > v->max_events)
		return vbad(v, out->anchor_seq + 1, "no checkpoint signed with "
		    "this appliance's key in the last %lld events",
		    (long long)(r->last_seq - out->anchor_seq));
	v->from = out->anchor_seq;
	v->last_cp_verified = out->anchor_seq;
	r->last_checkpoint_seq = out->anchor_seq;
	if ((rc = load_segments(v)) != 0)
		return rc;
	if ((rc = prepare_walk(v, &st)) == 0 && (rc = cp_next(v)) == 0)
		rc = walk(v, st, out->anchor_seq + 1, out->anchor_head);
	sqlite3_finalize(st);
	if (rc != 0)
		return rc;
	out->walked = r->last_seq - out->anchor_seq;
	if (out->anchor_seq == r->last_seq)
		memcpy(v->last_hash, out->anchor_head, AUDIT_HASHBYTES);
	while (v->cp_have) {
		if (quarantine_of(v, v->cp.seq) == NULL)
			return vbad(v, r->last_seq + 1, "trail truncated: "
			    "checkpoint at %lld, last event %lld",
			    (long long)v->cp.seq, (long long)r->last_seq);
		if ((rc = cp_next(v)) != 0)
			return rc;
	}
	return check_head(v, v->seal_required);
}

int
trail_check_tail(sqlite3 *db, const unsigned char pk[AUDIT_SIGN_PUBBYTES],
    int64_t max_events, int seal_required, struct trail_tail_check *out)
{
	struct trail_verify_opts o;
	struct trail_report	*r;
	struct verifier		 v;
	int			 rc;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	memset(&v, 0, sizeof(v));
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(out->problem, sizeof(out->problem), "out of memory");
		return -1;
	}
	o.pinned_pk = pk;
	v.db = db;
	v.opts = &o;
	v.r = r;
	v.npinned = 1;
	v.max_events = max_events;
	v.seal_required = seal_required;
	v.out = out;
	rc = verifier_run(&v, check_tail);
	out->bad_seq = r->bad_seq;
	out->last_seq = r->last_seq;
	snprintf(out->problem, sizeof(out->problem), "%s", r->problem);
	/*
	 * Where the chain can restart: after a bad chain, from the anchor
	 * (events after it are left out); when only the head seal
	 * disagrees, the chain itself is sound up to its last event.
	 */
	if (rc == 1 && v.sound_chain) {
		out->anchor_seq = r->last_seq;
		memcpy(out->anchor_head, v.last_hash, AUDIT_HASHBYTES);
	}
	free(r);
	return rc;
}

/*
 * Whose trail: the key ids of the checkpoints and of the head seal.  A
 * signature that does not verify is trail_check_tail's to find; here
 * only the signer named matters.
 */
int
trail_signed_with(sqlite3 *db, const unsigned char pk[AUDIT_SIGN_PUBBYTES],
    char other[AUDIT_KEYID_LEN + 1], char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	const unsigned char	*id;
	char			 own[AUDIT_KEYID_LEN + 1];
	int64_t			 head = 0;
	int			 rc, ours = 0, theirs = 0;

	other[0] = '\0';
	audit_key_id(pk, AUDIT_SIGN_PUBBYTES, own);
	if (trail_query_int(db, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'table' AND name = 'audit_head'", 0, &head, err,
	    errlen) == -1)
		return -1;
	if (sqlite3_prepare_v2(db, head > 0 ?
	    "SELECT key_id FROM audit_checkpoint UNION ALL "
	    "SELECT key_id FROM audit_head" :
	    "SELECT key_id FROM audit_checkpoint", -1, &st,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !ours) {
		id = sqlite3_column_text(st, 0);
		if (id != NULL && strcmp((const char *)id, own) == 0)
			ours = 1;
		else if (!theirs++)
			snprintf(other, AUDIT_KEYID_LEN + 1, "%s", id != NULL ?
			    (const char *)id : "?");
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return ours || !theirs ? 1 : 0;
}
