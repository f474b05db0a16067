/* The audit trail's offline verification: chain, seqs, seals, checkpoints. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "trail.h"
#include "trail_int.h"

static const unsigned char zero_hash[AUDIT_HASHBYTES];

/*
 * Verification.  Everything read is untrusted: types and lengths are
 * checked before use, and the first problem found is the one reported.
 */
struct verifier {
	sqlite3				*db;
	const struct trail_verify_opts	*opts;
	struct trail_report		*r;
	sqlite3_stmt			*st_key;
	sqlite3_stmt			*st_datakey;
	sqlite3_stmt			*st_cp;
	int				 cp_have;
	struct audit_checkpoint		 cp;
	char				 pk_id[AUDIT_KEYID_LEN + 1];
	unsigned char			 pk[AUDIT_SIGN_PUBBYTES];
	char				 dk_id[AUDIT_KEYID_LEN + 1];
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

/* The signing public key a checkpoint names: 0, 1 unknown, -1 error. */
static int
signing_key(struct verifier *v, const char *key_id)
{
	int	 rc;

	if (v->opts->pinned_pk != NULL) {
		memcpy(v->pk, v->opts->pinned_pk, sizeof(v->pk));
		return 0;
	}
	if (strcmp(v->pk_id, key_id) == 0)
		return 0;
	sqlite3_reset(v->st_key);
	sqlite3_bind_text(v->st_key, 1, key_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(v->st_key);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return vsqlerr(v);
	if (sqlite3_column_type(v->st_key, 0) != SQLITE_BLOB ||
	    sqlite3_column_bytes(v->st_key, 0) != AUDIT_SIGN_PUBBYTES)
		return 1;
	memcpy(v->pk, sqlite3_column_blob(v->st_key, 0), sizeof(v->pk));
	snprintf(v->pk_id, sizeof(v->pk_id), "%s", key_id);
	return 0;
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
	if (trail_read_checkpoint(st, &v->cp) == -1)
		return vbad(v, v->cp.seq, "checkpoint at %lld is malformed",
		    (long long)v->cp.seq);
	v->cp_have = 1;
	return 0;
}

/* The current checkpoint's signature.  0 or 1/-1. */
static int
cp_check(struct verifier *v)
{
	int	 rc;

	if ((rc = signing_key(v, v->cp.key_id)) == -1)
		return -1;
	if (rc == 1)
		return vbad(v, v->cp.seq, "checkpoint at %lld: signing key "
		    "%s is not in audit_key", (long long)v->cp.seq,
		    v->cp.key_id);
	if (audit_checkpoint_verify(&v->cp, v->pk) == -1)
		return vbad(v, v->cp.seq, "checkpoint at %lld: the signature "
		    "does not verify%s", (long long)v->cp.seq,
		    v->opts->pinned_pk != NULL ? " with the pinned key" : "");
	v->r->last_checkpoint_seq = v->cp.seq;
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
	const cJSON	*through, *hex;
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
		if (sqlite3_column_type(st, 1) != SQLITE_TEXT)
			continue;
		detail = cJSON_ParseWithLength(
		    (const char *)sqlite3_column_text(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1));
		through = cJSON_GetObjectItemCaseSensitive(detail,
		    "removed_through");
		hex = cJSON_GetObjectItemCaseSensitive(detail, "anchor");
		if (cJSON_IsNumber(through) &&
		    through->valuedouble == (double)(first - 1) &&
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

/* The walk over the events in seq order.  0 intact, 1, -1. */
static int
walk(struct verifier *v, sqlite3_stmt *st, int64_t first,
    const unsigned char *anchor, int *exported_seen)
{
	const struct audit_checkpoint *ex = v->opts->exported;
	struct audit_value	 cols[AUDIT_NCOLUMNS];
	unsigned char		 prev[AUDIT_HASHBYTES], hash[AUDIT_HASHBYTES];
	const char		*why = NULL;
	int64_t			 seq, expect = first;
	int			 rc, seen = 0;

	memcpy(prev, first == 1 ? zero_hash : anchor, sizeof(prev));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		/* Checkpoints of removed events: only their signatures. */
		while (v->cp_have && v->cp.seq < seq) {
			if (seen)
				return vbad(v, v->cp.seq, "checkpoint at %lld "
				    "names a missing event",
				    (long long)v->cp.seq);
			if ((rc = cp_check(v)) != 0 || (rc = cp_next(v)) != 0)
				return rc;
		}
		if (seq != expect)
			return vbad(v, expect, "events %lld..%lld missing "
			    "(deleted)", (long long)expect,
			    (long long)seq - 1);
		if (row_values(st, cols, &why) == -1)
			return vbad(v, seq, "event %lld: column %s holds a "
			    "value of the wrong type", (long long)seq, why);
		if (sqlite3_column_type(st, TRAIL_COL_HASH) != SQLITE_BLOB ||
		    sqlite3_column_bytes(st, TRAIL_COL_HASH) != AUDIT_HASHBYTES)
			return vbad(v, seq, "event %lld: the stored hash is "
			    "damaged", (long long)seq);
		if ((rc = check_sealed(v, seq, cols)) != 0)
			return rc;
		if (audit_chain_hash(prev, cols, hash) == -1 ||
		    sodium_memcmp(hash, sqlite3_column_blob(st, TRAIL_COL_HASH),
		    AUDIT_HASHBYTES) != 0)
			return vbad(v, seq, "event %lld: hash does not match "
			    "its contents (edited, inserted or reordered)",
			    (long long)seq);
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
		if (ex != NULL && ex->seq == seq) {
			if (sodium_memcmp(ex->head, hash, AUDIT_HASHBYTES) != 0)
				return vbad(v, seq, "trail truncated or "
				    "rewritten before exported checkpoint %lld",
				    (long long)ex->seq);
			*exported_seen = 1;
		}
		memcpy(prev, hash, sizeof(prev));
		expect = seq + 1;
		seen = 1;
	}
	if (rc != SQLITE_DONE)
		return vsqlerr(v);
	return 0;
}

static int
verify(struct verifier *v)
{
	const struct trail_verify_opts *o = v->opts;
	struct trail_report	*r = v->r;
	sqlite3_stmt		*st = NULL;
	unsigned char		 anchor[AUDIT_HASHBYTES];
	char			 err[sizeof(r->problem)];
	int64_t			 n, anchor_seq = 0;
	int			 rc, exported_seen = 0;

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

	if (o->exported != NULL) {
		if (o->exported_pk == NULL ||
		    audit_checkpoint_verify(o->exported, o->exported_pk) == -1)
			return verror(v, "the exported checkpoint's signature "
			    "does not verify");
		if (o->pinned_pk != NULL && sodium_memcmp(o->pinned_pk,
		    o->exported_pk, AUDIT_SIGN_PUBBYTES) != 0)
			return verror(v, "the exported checkpoint is signed "
			    "with another key than the pinned one");
	}

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

	if (sqlite3_prepare_v2(v->db, "SELECT public_key FROM audit_key "
	    "WHERE key_id = ? AND kind = 'signing'", -1, &v->st_key,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(v->db, "SELECT 1 FROM audit_datakey WHERE "
	    "key_id = ?", -1, &v->st_datakey, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(v->db, "SELECT seq, utc_us, head, key_id, sig "
	    "FROM audit_checkpoint ORDER BY seq", -1, &v->st_cp,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(v->db, "SELECT " TRAIL_EVENT_COLUMNS ", hash "
	    "FROM audit_event ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		rc = vsqlerr(v);
		goto done;
	}
	if ((rc = cp_next(v)) != 0 ||
	    (rc = walk(v, st, r->events > 0 ? r->first_seq : 1, anchor,
	    &exported_seen)) != 0)
		goto done;
	if (v->cp_have) {
		/* Past the last event: its signature, then the verdict. */
		if ((rc = cp_check(v)) == 0)
			rc = vbad(v, r->last_seq + 1, "trail truncated: "
			    "checkpoint at %lld, last event %lld",
			    (long long)v->cp.seq, (long long)r->last_seq);
		goto done;
	}
	if (anchor_seq > r->last_checkpoint_seq) {
		rc = vbad(v, anchor_seq, "events 1..%lld removed by retention "
		    "event %lld, which no checkpoint signs",
		    (long long)r->first_seq - 1, (long long)anchor_seq);
		goto done;
	}
	if (o->exported != NULL && !exported_seen) {
		n = o->exported->seq;
		if (anchor_seq > 0 && n == r->first_seq - 1 &&
		    sodium_memcmp(o->exported->head, anchor,
		    AUDIT_HASHBYTES) == 0)
			rc = 0;
		else if (r->events > 0 && n < r->first_seq)
			rc = vbad(v, n, "exported checkpoint %lld: its event "
			    "was removed by retention, it cannot be checked",
			    (long long)n);
		else
			rc = vbad(v, r->last_seq + 1, "trail truncated or "
			    "rewritten before exported checkpoint %lld",
			    (long long)n);
	}
done:
	sqlite3_finalize(st);
	return rc;
}

int
trail_verify(sqlite3 *db, const struct trail_verify_opts *opts,
    struct trail_report *r)
{
	static const struct trail_verify_opts none;
	struct verifier	 v;
	int		 began = 0, rc;

	memset(r, 0, sizeof(*r));
	memset(&v, 0, sizeof(v));
	v.db = db;
	v.opts = opts != NULL ? opts : &none;
	v.r = r;
	/* One snapshot, while polrecd may be writing. */
	if (sqlite3_get_autocommit(db)) {
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return vsqlerr(&v);
		began = 1;
	}
	rc = verify(&v);
	sqlite3_finalize(v.st_key);
	sqlite3_finalize(v.st_datakey);
	sqlite3_finalize(v.st_cp);
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (rc == 0)
		r->bad_seq = 0;
	return rc;
}
