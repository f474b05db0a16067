/* The audit trail in SQLite: append, checkpoints, retention, verify, export. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "trail.h"
#include "xmalloc.h"

/* audit_event's columns in AUDIT_COLUMNS order (the hash order). */
#define EVENT_COLUMNS	"seq, utc_us, mono_us, clock_synced, " \
	"clock_maxerror_us, clock_esterror_us, kind, outcome, reason, " \
	"call_id, chain_id, tenant, policy, paired_recorders, " \
	"other_recorders, msg_id, http_status, graph_code, request_id, " \
	"latency_us, attempts, detail, key_id, sealed"
#define COL_HASH	AUDIT_NCOLUMNS	/* after them in a SELECT */

#define SQL_INSERT_EVENT	"INSERT INTO audit_event (" EVENT_COLUMNS \
	", hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
#define SQL_INSERT_KEY		"INSERT OR IGNORE INTO audit_key " \
	"(key_id, kind, public_key, created_utc_us) VALUES (?,?,?,?)"
#define SQL_INSERT_DATAKEY	"INSERT INTO audit_datakey (key_id, " \
	"auditor_key_id, sealed_key, created_utc_us) VALUES (?,?,?,?)"
#define SQL_INSERT_CHECKPOINT	"INSERT INTO audit_checkpoint " \
	"(seq, utc_us, head, key_id, sig) VALUES (?,?,?,?,?)"

#define DETAIL_MAX	256
#define DK_CACHE	8	/* data keys export keeps open */

enum { K_SIGNING, K_AUDITOR, K_NKEYS };
static const char *const key_kinds[K_NKEYS] = { "signing", "auditor" };

/* What the trail knows of the database, as committed or as pending. */
struct trail_state {
	int64_t		 seq;			/* last event */
	unsigned char	 head[AUDIT_HASHBYTES];	/* its hash */
	int64_t		 nunsigned;		/* events since a checkpoint */
	int		 key_stored[K_NKEYS];	/* audit_key row */
	int		 key_logged[K_NKEYS];	/* and its `key` event */
	int		 datakey_stored;	/* row and `key` event */
};

struct trail_secrets {
	unsigned char	 sign_sk[AUDIT_SIGN_SECRETBYTES];
	unsigned char	 dk[AUDIT_DATAKEYBYTES];
};

struct trail {
	sqlite3			*db;
	sqlite3_stmt		*st_event;
	sqlite3_stmt		*st_key;
	sqlite3_stmt		*st_datakey;
	sqlite3_stmt		*st_checkpoint;
	struct trail_secrets	*sec;		/* sodium_malloc'd */
	unsigned char		 pk[K_NKEYS][AUDIT_SIGN_PUBBYTES];
	char			 key_id[K_NKEYS][AUDIT_KEYID_LEN + 1];
	int			 dk_valid;
	unsigned char		 dk_sealed[AUDIT_SEALED_DATAKEY_BYTES];
	char			 dk_id[AUDIT_KEYID_LEN + 1];
	struct trail_state	 committed, pending;
};

static const unsigned char zero_hash[AUDIT_HASHBYTES];
static const unsigned char empty[1];

static int
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err,
    size_t errlen)
{
	*st = NULL;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(db));
		sqlite3_finalize(*st);
		*st = NULL;
		return -1;
	}
	return 0;
}

/* Step a statement that returns no rows, then make it ready for reuse. */
static int
run(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errlen)
{
	int	 rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		snprintf(err, errlen, "audit trail: %s", sqlite3_errmsg(db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * One integer from a query with at most one parameter: 0 with *out, 1
 * when there is no row or it is NULL, -1 on error.
 */
static int
query_int(sqlite3 *db, const char *sql, int64_t arg, int64_t *out,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc, rv = -1;

	*out = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
			*out = sqlite3_column_int64(st, 0);
			rv = 0;
		} else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			rv = 1;
		else
			snprintf(err, errlen, "audit trail: not an integer "
			    "where one is expected");
	} else if (rc == SQLITE_DONE)
		rv = 1;
	else
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rv;
}

static void
val_null(struct audit_value *v)
{
	memset(v, 0, sizeof(*v));
	v->type = AUDIT_NULL;
}

static void
val_int(struct audit_value *v, int64_t i)
{
	val_null(v);
	v->type = AUDIT_INT;
	v->i = i;
}

/* Integers below zero are stored as NULL. */
static void
val_opt_int(struct audit_value *v, int64_t i)
{
	if (i < 0)
		val_null(v);
	else
		val_int(v, i);
}

static void
val_text(struct audit_value *v, const char *s)
{
	val_null(v);
	if (s == NULL)
		return;
	v->type = AUDIT_TEXT;
	v->p = s;
	v->len = strlen(s);
}

static void
val_blob(struct audit_value *v, const void *p, size_t len)
{
	val_null(v);
	v->type = AUDIT_BLOB;
	v->p = p != NULL ? p : empty;
	v->len = len;
}

static int
bind_value(sqlite3_stmt *st, int idx, const struct audit_value *v)
{
	int	 rc;

	if (v->len > INT_MAX)
		return -1;
	switch (v->type) {
	case AUDIT_NULL:
		rc = sqlite3_bind_null(st, idx);
		break;
	case AUDIT_INT:
		rc = sqlite3_bind_int64(st, idx, v->i);
		break;
	case AUDIT_TEXT:
		rc = sqlite3_bind_text(st, idx, v->p != NULL ? v->p :
		    (const void *)empty, (int)v->len, SQLITE_STATIC);
		break;
	case AUDIT_BLOB:
		rc = sqlite3_bind_blob(st, idx, v->p != NULL ? v->p :
		    (const void *)empty, (int)v->len, SQLITE_STATIC);
		break;
	default:
		return -1;
	}
	return rc == SQLITE_OK ? 0 : -1;
}

/* The clear columns of an event, as they are stored. */
static void
event_values(const struct trail_event *ev, struct audit_value cols[])
{
	val_null(&cols[AC_SEQ]);
	val_int(&cols[AC_UTC_US], ev->utc_us);
	val_int(&cols[AC_MONO_US], ev->mono_us);
	val_int(&cols[AC_CLOCK_SYNCED], ev->clock_synced ? 1 : 0);
	val_opt_int(&cols[AC_CLOCK_MAXERROR_US], ev->clock_maxerror_us);
	val_opt_int(&cols[AC_CLOCK_ESTERROR_US], ev->clock_esterror_us);
	val_text(&cols[AC_KIND], ev->kind);
	val_text(&cols[AC_OUTCOME], ev->outcome);
	val_text(&cols[AC_REASON], ev->reason);
	val_text(&cols[AC_CALL_ID], ev->call_id);
	val_text(&cols[AC_CHAIN_ID], ev->chain_id);
	val_text(&cols[AC_TENANT], ev->tenant);
	val_text(&cols[AC_POLICY], ev->policy);
	val_text(&cols[AC_PAIRED], ev->paired);
	val_text(&cols[AC_OTHER], ev->other);
	val_text(&cols[AC_MSG_ID], ev->msg_id);
	val_opt_int(&cols[AC_HTTP_STATUS], ev->http_status);
	val_text(&cols[AC_GRAPH_CODE], ev->graph_code);
	val_text(&cols[AC_REQUEST_ID], ev->request_id);
	val_opt_int(&cols[AC_LATENCY_US], ev->latency_us);
	val_opt_int(&cols[AC_ATTEMPTS], ev->attempts);
	val_text(&cols[AC_DETAIL], ev->detail);
	val_null(&cols[AC_KEY_ID]);
	val_null(&cols[AC_SEALED]);
}

/* Chain and insert the next row; its seq is set here. */
static int
insert_row(struct trail *t, struct audit_value cols[], char *err,
    size_t errlen)
{
	unsigned char	 hash[AUDIT_HASHBYTES];
	int64_t		 seq = t->pending.seq + 1;
	int		 i;

	val_int(&cols[AC_SEQ], seq);
	if (audit_chain_hash(t->pending.head, cols, hash) == -1) {
		snprintf(err, errlen, "event %lld: a value cannot be hashed",
		    (long long)seq);
		return -1;
	}
	for (i = 0; i < AUDIT_NCOLUMNS; i++)
		if (bind_value(t->st_event, i + 1, &cols[i]) == -1) {
			snprintf(err, errlen, "event %lld: cannot bind %s",
			    (long long)seq, audit_column_names[i]);
			sqlite3_clear_bindings(t->st_event);
			return -1;
		}
	if (sqlite3_bind_blob(t->st_event, AUDIT_NCOLUMNS + 1, hash,
	    sizeof(hash), SQLITE_STATIC) != SQLITE_OK ||
	    run(t->db, t->st_event, err, errlen) == -1) {
		sqlite3_clear_bindings(t->st_event);
		return -1;
	}
	t->pending.seq = seq;
	memcpy(t->pending.head, hash, sizeof(hash));
	t->pending.nunsigned++;
	return 0;
}

/* An event of the trail's own (key, retention) with base's clock. */
static int
append_own(struct trail *t, const struct trail_event *base, const char *kind,
    const char *outcome, const char *detail, char *err, size_t errlen)
{
	struct trail_event	 ev;
	struct audit_value	 cols[AUDIT_NCOLUMNS];

	memset(&ev, 0, sizeof(ev));
	ev.utc_us = base->utc_us;
	ev.mono_us = base->mono_us;
	ev.clock_synced = base->clock_synced;
	ev.clock_maxerror_us = base->clock_maxerror_us;
	ev.clock_esterror_us = base->clock_esterror_us;
	ev.kind = kind;
	ev.outcome = outcome;
	ev.detail = detail;
	ev.http_status = ev.latency_us = ev.attempts = -1;
	event_values(&ev, cols);
	return insert_row(t, cols, err, errlen);
}

/* The key's audit_key row, if this trail has not stored it yet. */
static int
store_key(struct trail *t, int which, int64_t utc_us, char *err,
    size_t errlen)
{
	sqlite3_stmt	*st = t->st_key;

	if (t->pending.key_stored[which])
		return 0;
	if (sqlite3_bind_text(st, 1, t->key_id[which], -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 2, key_kinds[which], -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_blob(st, 3, t->pk[which], sizeof(t->pk[which]),
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, utc_us) != SQLITE_OK) {
		snprintf(err, errlen, "audit trail: %s", sqlite3_errmsg(t->db));
		sqlite3_clear_bindings(st);
		return -1;
	}
	if (run(t->db, st, err, errlen) == -1)
		return -1;
	/* Already there (another run stored it): nothing to announce. */
	t->pending.key_logged[which] = sqlite3_changes(t->db) == 0;
	t->pending.key_stored[which] = 1;
	return 0;
}

static int
ensure_keys(struct trail *t, const struct trail_event *ev, char *err,
    size_t errlen)
{
	char	 detail[DETAIL_MAX];
	int	 which;

	for (which = 0; which < K_NKEYS; which++) {
		if (store_key(t, which, ev->utc_us, err, errlen) == -1)
			return -1;
		if (t->pending.key_logged[which])
			continue;
		snprintf(detail, sizeof(detail),
		    "{\"key_id\":\"%s\",\"kind\":\"%s\"}", t->key_id[which],
		    key_kinds[which]);
		if (append_own(t, ev, "key", "added", detail, err,
		    errlen) == -1)
			return -1;
		t->pending.key_logged[which] = 1;
	}
	return 0;
}

static int
new_datakey(struct trail *t)
{
	t->dk_valid = audit_datakey_new(t->pk[K_AUDITOR], t->sec->dk,
	    t->dk_sealed, t->dk_id) == 0;
	if (!t->dk_valid)
		sodium_memzero(t->sec->dk, sizeof(t->sec->dk));
	return t->dk_valid ? 0 : -1;
}

/* The current data key's row and `key` event, before its first use. */
static int
ensure_datakey(struct trail *t, const struct trail_event *ev, char *err,
    size_t errlen)
{
	sqlite3_stmt	*st = t->st_datakey;
	char		 detail[DETAIL_MAX];

	if (t->pending.datakey_stored)
		return 0;
	if (!t->dk_valid && new_datakey(t) == -1) {
		snprintf(err, errlen, "audit trail: cannot make a data key");
		return -1;
	}
	if (sqlite3_bind_text(st, 1, t->dk_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 2, t->key_id[K_AUDITOR], -1,
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 3, t->dk_sealed, sizeof(t->dk_sealed),
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, ev->utc_us) != SQLITE_OK) {
		snprintf(err, errlen, "audit trail: %s", sqlite3_errmsg(t->db));
		sqlite3_clear_bindings(st);
		return -1;
	}
	if (run(t->db, st, err, errlen) == -1)
		return -1;
	snprintf(detail, sizeof(detail),
	    "{\"key_id\":\"%s\",\"auditor_key_id\":\"%s\"}", t->dk_id,
	    t->key_id[K_AUDITOR]);
	if (append_own(t, ev, "key", "datakey", detail, err, errlen) == -1)
		return -1;
	t->pending.datakey_stored = 1;
	return 0;
}

/* Whether the key is in audit_key already: 0/1, -1 on error. */
static int
key_known(struct trail *t, int which, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(t->db, "SELECT 1 FROM audit_key WHERE "
	    "key_id = ?", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(t->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, t->key_id[which], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(t->db));
		return -1;
	}
	return rc == SQLITE_ROW;
}

/* The last event and checkpoint, to continue the chain from. */
static int
read_head(struct trail *t, char *err, size_t errlen)
{
	struct trail_state	*s = &t->committed;
	sqlite3_stmt		*st;
	int64_t			 cp;
	int			 rc, rv = -1;

	if (sqlite3_prepare_v2(t->db, "SELECT seq, hash FROM audit_event "
	    "ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(t->db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->seq = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_BLOB ||
		    sqlite3_column_bytes(st, 1) != AUDIT_HASHBYTES) {
			snprintf(err, errlen, "audit trail: event %lld has a "
			    "damaged hash; run polrecctl audit verify",
			    (long long)s->seq);
			goto done;
		}
		memcpy(s->head, sqlite3_column_blob(st, 1), AUDIT_HASHBYTES);
	} else if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(t->db));
		goto done;
	}
	if ((rc = query_int(t->db, "SELECT max(seq) FROM audit_checkpoint",
	    0, &cp, err, errlen)) == -1)
		goto done;
	if (cp > s->seq) {
		snprintf(err, errlen, "audit trail truncated: checkpoint at "
		    "%lld, last event %lld; run polrecctl audit verify",
		    (long long)cp, (long long)s->seq);
		goto done;
	}
	s->nunsigned = s->seq - cp;
	rv = 0;
done:
	sqlite3_finalize(st);
	return rv;
}

struct trail *
trail_open(sqlite3 *db, const struct trail_keys *keys, char *err,
    size_t errlen)
{
	struct trail	*t;
	int		 which, known;

	t = xcalloc(1, sizeof(*t));
	t->db = db;
	if (sodium_init() < 0 ||
	    (t->sec = sodium_malloc(sizeof(*t->sec))) == NULL) {
		snprintf(err, errlen, "audit trail: out of secure memory");
		goto fail;
	}
	memcpy(t->sec->sign_sk, keys->sign_sk, sizeof(t->sec->sign_sk));
	/* libsodium keeps the public key in the secret key's second half. */
	memcpy(t->pk[K_SIGNING], keys->sign_sk + AUDIT_SIGN_SECRETBYTES -
	    AUDIT_SIGN_PUBBYTES, AUDIT_SIGN_PUBBYTES);
	memcpy(t->pk[K_AUDITOR], keys->auditor_pk, AUDIT_BOX_PUBBYTES);
	for (which = 0; which < K_NKEYS; which++)
		audit_key_id(t->pk[which], sizeof(t->pk[which]),
		    t->key_id[which]);

	if (prepare(db, SQL_INSERT_EVENT, &t->st_event, err, errlen) == -1 ||
	    prepare(db, SQL_INSERT_KEY, &t->st_key, err, errlen) == -1 ||
	    prepare(db, SQL_INSERT_DATAKEY, &t->st_datakey, err,
	    errlen) == -1 ||
	    prepare(db, SQL_INSERT_CHECKPOINT, &t->st_checkpoint, err,
	    errlen) == -1)
		goto fail;
	if (read_head(t, err, errlen) == -1)
		goto fail;
	for (which = 0; which < K_NKEYS; which++) {
		if ((known = key_known(t, which, err, errlen)) == -1)
			goto fail;
		t->committed.key_stored[which] = known;
		t->committed.key_logged[which] = known;
	}
	if (new_datakey(t) == -1) {
		snprintf(err, errlen, "audit trail: cannot make a data key");
		goto fail;
	}
	t->pending = t->committed;
	return t;
fail:
	trail_free(t);
	return NULL;
}

void
trail_free(struct trail *t)
{
	if (t == NULL)
		return;
	sqlite3_finalize(t->st_event);
	sqlite3_finalize(t->st_key);
	sqlite3_finalize(t->st_datakey);
	sqlite3_finalize(t->st_checkpoint);
	sodium_free(t->sec);
	sodium_memzero(t, sizeof(*t));
	free(t);
}

int
trail_append(struct trail *t, const struct trail_event *ev, int64_t *seq,
    char *err, size_t errlen)
{
	struct audit_value	 cols[AUDIT_NCOLUMNS];
	unsigned char		*sealed = NULL;
	size_t			 sealedlen = 0;
	int			 personal, rv = -1;

	if (ev->kind == NULL) {
		snprintf(err, errlen, "audit event without a kind");
		return -1;
	}
	personal = ev->personal != NULL && ev->personal_len > 0;
	if (personal && ev->personal_len > AUDIT_SEAL_MAX) {
		snprintf(err, errlen, "audit event %s: personal metadata of "
		    "%zu bytes is over the limit", ev->kind, ev->personal_len);
		return -1;
	}
	if (ensure_keys(t, ev, err, errlen) == -1)
		goto done;
	if (personal && ensure_datakey(t, ev, err, errlen) == -1)
		goto done;
	event_values(ev, cols);
	if (personal) {
		if (audit_seal(t->sec->dk, t->dk_id, t->pending.seq + 1,
		    ev->personal, ev->personal_len, &sealed,
		    &sealedlen) == -1) {
			snprintf(err, errlen, "audit event %s: cannot seal "
			    "its personal metadata", ev->kind);
			goto done;
		}
		val_text(&cols[AC_KEY_ID], t->dk_id);
		val_blob(&cols[AC_SEALED], sealed, sealedlen);
	}
	if (insert_row(t, cols, err, errlen) == -1)
		goto done;
	if (seq != NULL)
		*seq = t->pending.seq;
	rv = 0;
done:
	free(sealed);
	return rv;
}

int64_t
trail_unsigned(const struct trail *t)
{
	return t->pending.nunsigned;
}

int64_t
trail_last_seq(const struct trail *t)
{
	return t->committed.seq;
}

int
trail_checkpoint(struct trail *t, int64_t utc_us, char *err, size_t errlen)
{
	struct audit_checkpoint	 cp;
	sqlite3_stmt		*st = t->st_checkpoint;

	if (t->pending.nunsigned == 0 || t->pending.seq == 0)
		return 0;
	/*
	 * Verifiers find the key in audit_key.  Its `key` event, if the
	 * key is new, follows at the next append: it needs an event's clock.
	 */
	if (store_key(t, K_SIGNING, utc_us, err, errlen) == -1)
		return -1;
	memset(&cp, 0, sizeof(cp));
	cp.seq = t->pending.seq;
	cp.utc_us = utc_us;
	memcpy(cp.head, t->pending.head, sizeof(cp.head));
	if (audit_checkpoint_sign(&cp, t->sec->sign_sk) == -1) {
		snprintf(err, errlen, "audit trail: cannot sign a checkpoint");
		return -1;
	}
	if (sqlite3_bind_int64(st, 1, cp.seq) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, cp.utc_us) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 3, cp.head, sizeof(cp.head),
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, cp.key_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_blob(st, 5, cp.sig, sizeof(cp.sig), SQLITE_STATIC) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "audit trail: %s", sqlite3_errmsg(t->db));
		sqlite3_clear_bindings(st);
		return -1;
	}
	if (run(t->db, st, err, errlen) == -1)
		return -1;
	t->pending.nunsigned = 0;
	return 0;
}

void
trail_rotate_datakey(struct trail *t)
{
	sodium_memzero(t->sec->dk, sizeof(t->sec->dk));
	/* On failure the next append that seals tries again. */
	(void)new_datakey(t);
	t->pending.datakey_stored = 0;
	t->committed.datakey_stored = 0;
}

void
trail_committed(struct trail *t)
{
	t->committed = t->pending;
}

void
trail_rolled_back(struct trail *t)
{
	t->pending = t->committed;
}

static int
exec_bound(sqlite3 *db, const char *sql, int64_t arg, int *changes,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rv;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit trail: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	rv = run(db, st, err, errlen);
	if (rv == 0 && changes != NULL)
		*changes = sqlite3_changes(db);
	sqlite3_finalize(st);
	return rv;
}

int
trail_prune(struct trail *t, int64_t before_utc_us,
    const struct trail_event *base, int64_t *removed, char *err,
    size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	char		 detail[DETAIL_MAX], anchor[2 * AUDIT_HASHBYTES + 1];
	int64_t		 first, last, newer, upto;
	int		 rc, n = 0, rv = -1;

	*removed = 0;
	if ((rc = query_int(t->db, "SELECT min(seq) FROM audit_event", 0,
	    &first, err, errlen)) != 0 ||
	    (rc = query_int(t->db, "SELECT max(seq) FROM audit_event", 0,
	    &last, err, errlen)) != 0)
		return rc == 1 ? 0 : -1;
	/* Only a prefix goes, all of it older; the newest event stays. */
	if ((rc = query_int(t->db, "SELECT min(seq) FROM audit_event WHERE "
	    "utc_us >= ?", before_utc_us, &newer, err, errlen)) == -1)
		return -1;
	upto = rc == 1 ? last - 1 : newer - 1;
	if (upto > last - 1)
		upto = last - 1;
	if (upto < first)
		return 0;

	if (sqlite3_prepare_v2(t->db, "SELECT hash FROM audit_event WHERE "
	    "seq = ?", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit trail: %s", sqlite3_errmsg(t->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, upto);
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_type(st, 0) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 0) != AUDIT_HASHBYTES) {
		snprintf(err, errlen, "audit trail: event %lld is missing or "
		    "its hash is damaged", (long long)upto);
		goto done;
	}
	sodium_bin2hex(anchor, sizeof(anchor), sqlite3_column_blob(st, 0),
	    AUDIT_HASHBYTES);

	if (exec_bound(t->db, "INSERT INTO audit_retention_permit (upto_seq) "
	    "VALUES (?)", upto, NULL, err, errlen) == -1 ||
	    exec_bound(t->db, "DELETE FROM audit_event WHERE seq <= ?", upto,
	    &n, err, errlen) == -1 ||
	    exec_bound(t->db, "DELETE FROM audit_retention_permit", 0, NULL,
	    err, errlen) == -1)
		goto done;
	snprintf(detail, sizeof(detail), "{\"removed_from\":%lld,"
	    "\"removed_through\":%lld,\"count\":%d,\"anchor\":\"%s\","
	    "\"before_utc_us\":%lld}", (long long)first, (long long)upto, n,
	    anchor, (long long)before_utc_us);
	if (ensure_keys(t, base, err, errlen) == -1 ||
	    append_own(t, base, "retention", "removed", detail, err,
	    errlen) == -1 ||
	    trail_checkpoint(t, base->utc_us, err, errlen) == -1)
		goto done;
	*removed = n;
	rv = 0;
done:
	sqlite3_finalize(st);
	return rv;
}

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

/* A key id as stored: 16 lower-case hex characters. */
static int
valid_key_id(const unsigned char *s, int len)
{
	int	 i;

	if (s == NULL || len != AUDIT_KEYID_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
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
			val_int(&cols[i], sqlite3_column_int64(st, i));
			break;
		case SQLITE_TEXT:
			p = sqlite3_column_text(st, i);
			val_null(&cols[i]);
			cols[i].type = AUDIT_TEXT;
			cols[i].p = p != NULL ? p : empty;
			cols[i].len = (size_t)sqlite3_column_bytes(st, i);
			break;
		case SQLITE_BLOB:
			p = sqlite3_column_blob(st, i);
			val_blob(&cols[i], p,
			    (size_t)sqlite3_column_bytes(st, i));
			break;
		case SQLITE_NULL:
			val_null(&cols[i]);
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
	int64_t		 seq;
	int		 rc;

	v->cp_have = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return vsqlerr(v);
	seq = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
	    sqlite3_column_type(st, 2) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 2) != AUDIT_HASHBYTES ||
	    sqlite3_column_type(st, 3) != SQLITE_TEXT ||
	    !valid_key_id(sqlite3_column_text(st, 3),
	    sqlite3_column_bytes(st, 3)) ||
	    sqlite3_column_type(st, 4) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 4) != AUDIT_SIGBYTES)
		return vbad(v, seq, "checkpoint at %lld is malformed",
		    (long long)seq);
	memset(&v->cp, 0, sizeof(v->cp));
	v->cp.seq = seq;
	v->cp.utc_us = sqlite3_column_int64(st, 1);
	memcpy(v->cp.head, sqlite3_column_blob(st, 2), AUDIT_HASHBYTES);
	memcpy(v->cp.key_id, sqlite3_column_text(st, 3), AUDIT_KEYID_LEN);
	memcpy(v->cp.sig, sqlite3_column_blob(st, 4), AUDIT_SIGBYTES);
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
		if (sqlite3_column_type(st, COL_HASH) != SQLITE_BLOB ||
		    sqlite3_column_bytes(st, COL_HASH) != AUDIT_HASHBYTES)
			return vbad(v, seq, "event %lld: the stored hash is "
			    "damaged", (long long)seq);
		if ((rc = check_sealed(v, seq, cols)) != 0)
			return rc;
		if (audit_chain_hash(prev, cols, hash) == -1 ||
		    sodium_memcmp(hash, sqlite3_column_blob(st, COL_HASH),
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

	if (query_int(v->db, "SELECT count(*) FROM audit_event", 0,
	    &r->events, err, sizeof(err)) != 0 ||
	    query_int(v->db, "SELECT count(*) FROM audit_checkpoint", 0,
	    &r->checkpoints, err, sizeof(err)) != 0)
		return verror(v, "%s", err);
	if (r->events > 0 &&
	    (query_int(v->db, "SELECT min(seq) FROM audit_event", 0,
	    &r->first_seq, err, sizeof(err)) != 0 ||
	    query_int(v->db, "SELECT max(seq) FROM audit_event", 0,
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
	    sqlite3_prepare_v2(v->db, "SELECT " EVENT_COLUMNS ", hash FROM "
	    "audit_event ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
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

/* Export. */
struct dkcache {
	sqlite3_stmt	*st;
	unsigned char	 pk[AUDIT_BOX_PUBBYTES];
	const unsigned char *sk;
	unsigned char	*keys;		/* sodium_malloc'd, DK_CACHE keys */
	char		 id[DK_CACHE][AUDIT_KEYID_LEN + 1];
	int		 ok[DK_CACHE];
	int		 next;
};

/* The opened data key `id` in *dk: 0, or -1 with why. */
static int
datakey_get(struct dkcache *c, const char *id, const unsigned char **dk,
    const char **why)
{
	const void	*sealed;
	int		 i, rc;

	if (strlen(id) != AUDIT_KEYID_LEN) {
		*why = "no data key";
		return -1;
	}
	for (i = 0; i < DK_CACHE; i++)
		if (strcmp(c->id[i], id) == 0)
			goto found;
	i = c->next;
	c->next = (c->next + 1) % DK_CACHE;
	snprintf(c->id[i], sizeof(c->id[i]), "%s", id);
	c->ok[i] = 0;
	sodium_memzero(c->keys + i * AUDIT_DATAKEYBYTES, AUDIT_DATAKEYBYTES);
	sqlite3_reset(c->st);
	sqlite3_bind_text(c->st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(c->st);
	if (rc == SQLITE_ROW && sqlite3_column_type(c->st, 0) == SQLITE_BLOB) {
		sealed = sqlite3_column_blob(c->st, 0);
		if (audit_datakey_open(sealed,
		    (size_t)sqlite3_column_bytes(c->st, 0), c->pk, c->sk,
		    c->keys + i * AUDIT_DATAKEYBYTES) == 0)
			c->ok[i] = 1;
		else
			c->ok[i] = -1;
	}
	sqlite3_reset(c->st);
found:
	if (c->ok[i] == 1) {
		*dk = c->keys + i * AUDIT_DATAKEYBYTES;
		return 0;
	}
	*why = c->ok[i] == 0 ? "no data key" : "does not open";
	return -1;
}

static void
iso8601(int64_t us, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 secs;
	int64_t		 frac;
	char		 date[32];

	frac = us % 1000000;
	secs = (time_t)(us / 1000000);
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s.%06lldZ", date, (long long)frac);
}

static char *
base64(const void *p, size_t len)
{
	size_t	 n;
	char	*b;

	n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	b = xmalloc(n);
	sodium_bin2base64(b, n, p, len, sodium_base64_VARIANT_ORIGINAL);
	return b;
}

/* The personal object of a row, or "personal_error". */
static void
add_personal(cJSON *o, struct dkcache *c, sqlite3_stmt *st)
{
	const unsigned char	*dk, *sealed;
	const char		*why = "does not open";
	char			*plain = NULL;
	size_t			 plainlen = 0;
	cJSON			*p = NULL;
	int64_t			 seq = sqlite3_column_int64(st, AC_SEQ);

	if (sqlite3_column_type(st, AC_KEY_ID) != SQLITE_TEXT) {
		why = "no data key";
		goto fail;
	}
	if (datakey_get(c, (const char *)sqlite3_column_text(st, AC_KEY_ID),
	    &dk, &why) == -1)
		goto fail;
	sealed = sqlite3_column_blob(st, AC_SEALED);
	if (audit_unseal(dk, (const char *)sqlite3_column_text(st, AC_KEY_ID),
	    seq, sealed, (size_t)sqlite3_column_bytes(st, AC_SEALED), &plain,
	    &plainlen) == -1)
		goto fail;
	if ((p = cJSON_ParseWithLength(plain, plainlen)) == NULL) {
		why = "not JSON";
		goto fail;
	}
	cJSON_AddItemToObject(o, "personal", p);
	sodium_memzero(plain, plainlen);
	free(plain);
	return;
fail:
	if (plain != NULL) {
		sodium_memzero(plain, plainlen);
		free(plain);
	}
	cJSON_AddStringToObject(o, "personal_error", why);
}

static cJSON *
export_row(sqlite3_stmt *st, struct dkcache *c)
{
	cJSON		*o;
	const char	*name;
	char		 num[32], utc[48], hex[2 * AUDIT_HASHBYTES + 1], *b;
	int		 i, n;

	o = cJSON_CreateObject();
	n = sqlite3_column_count(st);
	for (i = 0; i < n; i++) {
		name = sqlite3_column_name(st, i);
		if (i == COL_HASH &&
		    sqlite3_column_type(st, i) == SQLITE_BLOB &&
		    sqlite3_column_bytes(st, i) == AUDIT_HASHBYTES) {
			sodium_bin2hex(hex, sizeof(hex),
			    sqlite3_column_blob(st, i), AUDIT_HASHBYTES);
			cJSON_AddStringToObject(o, name, hex);
			continue;
		}
		if (i == AC_SEALED && c->sk != NULL &&
		    sqlite3_column_type(st, i) != SQLITE_NULL) {
			add_personal(o, c, st);
			continue;
		}
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			snprintf(num, sizeof(num), "%lld",
			    (long long)sqlite3_column_int64(st, i));
			cJSON_AddRawToObject(o, name, num);
			if (i == AC_UTC_US) {
				iso8601(sqlite3_column_int64(st, i), utc,
				    sizeof(utc));
				cJSON_AddStringToObject(o, "utc", utc);
			}
			break;
		case SQLITE_FLOAT:
			cJSON_AddNumberToObject(o, name,
			    sqlite3_column_double(st, i));
			break;
		case SQLITE_TEXT:
			cJSON_AddStringToObject(o, name,
			    (const char *)sqlite3_column_text(st, i));
			break;
		case SQLITE_BLOB:
			b = base64(sqlite3_column_blob(st, i),
			    (size_t)sqlite3_column_bytes(st, i));
			cJSON_AddStringToObject(o, name, b);
			free(b);
			break;
		default:
			cJSON_AddNullToObject(o, name);
			break;
		}
	}
	return o;
}

int
trail_export(sqlite3 *db, const struct trail_filter *f, FILE *out,
    char *err, size_t errlen)
{
	static const struct trail_filter all;
	struct dkcache	 c;
	sqlite3_stmt	*st = NULL;
	cJSON		*o;
	char		*line;
	int64_t		 since, until;
	int		 rc, rv = -1;

	memset(&c, 0, sizeof(c));
	if (f == NULL)
		f = &all;
	since = f->since_utc_us != 0 ? f->since_utc_us : INT64_MIN;
	until = f->until_utc_us != 0 ? f->until_utc_us - 1 : INT64_MAX;
	if (f->auditor_sk != NULL) {
		if (sodium_init() < 0 || (c.keys = sodium_malloc(DK_CACHE *
		    AUDIT_DATAKEYBYTES)) == NULL) {
			snprintf(err, errlen, "out of secure memory");
			goto done;
		}
		c.sk = f->auditor_sk;
		if (crypto_scalarmult_base(c.pk, c.sk) != 0) {
			snprintf(err, errlen, "not an auditor secret key");
			goto done;
		}
		if (prepare(db, "SELECT sealed_key FROM audit_datakey WHERE "
		    "key_id = ?", &c.st, err, errlen) == -1)
			goto done;
	}
	if (prepare(db, f->call_id != NULL ?
	    "SELECT " EVENT_COLUMNS ", hash FROM audit_event WHERE "
	    "utc_us >= ?1 AND utc_us <= ?2 AND call_id = ?3 ORDER BY seq" :
	    "SELECT " EVENT_COLUMNS ", hash FROM audit_event WHERE "
	    "utc_us >= ?1 AND utc_us <= ?2 ORDER BY seq", &st, err,
	    errlen) == -1)
		goto done;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	if (f->call_id != NULL)
		sqlite3_bind_text(st, 3, f->call_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = export_row(st, &c);
		line = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (line == NULL) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		if (fprintf(out, "%s\n", line) < 0) {
			cJSON_free(line);
			snprintf(err, errlen, "cannot write the export");
			goto done;
		}
		cJSON_free(line);
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(db));
		goto done;
	}
	if (fflush(out) == EOF || ferror(out)) {
		snprintf(err, errlen, "cannot write the export");
		goto done;
	}
	rv = 0;
done:
	sqlite3_finalize(st);
	sqlite3_finalize(c.st);
	sodium_free(c.keys);
	sodium_memzero(c.pk, sizeof(c.pk));
	return rv;
}

int
trail_latest_checkpoint(sqlite3 *db, struct audit_checkpoint *cp,
    unsigned char pk[AUDIT_SIGN_PUBBYTES], char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc, rv = -1;

	memset(cp, 0, sizeof(*cp));
	if (sqlite3_prepare_v2(db, "SELECT c.seq, c.utc_us, c.head, c.key_id, "
	    "c.sig, k.public_key FROM audit_checkpoint c LEFT JOIN audit_key k "
	    "ON k.key_id = c.key_id AND k.kind = 'signing' "
	    "ORDER BY c.seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "no checkpoint in the audit trail");
		rv = 1;
		goto done;
	}
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(db));
		goto done;
	}
	cp->seq = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
	    sqlite3_column_type(st, 2) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 2) != AUDIT_HASHBYTES ||
	    sqlite3_column_type(st, 3) != SQLITE_TEXT ||
	    !valid_key_id(sqlite3_column_text(st, 3),
	    sqlite3_column_bytes(st, 3)) ||
	    sqlite3_column_type(st, 4) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 4) != AUDIT_SIGBYTES) {
		snprintf(err, errlen, "checkpoint at %lld is malformed",
		    (long long)cp->seq);
		goto done;
	}
	if (sqlite3_column_type(st, 5) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 5) != AUDIT_SIGN_PUBBYTES) {
		snprintf(err, errlen, "checkpoint at %lld: its signing key is "
		    "not in audit_key", (long long)cp->seq);
		goto done;
	}
	cp->utc_us = sqlite3_column_int64(st, 1);
	memcpy(cp->head, sqlite3_column_blob(st, 2), AUDIT_HASHBYTES);
	memcpy(cp->key_id, sqlite3_column_text(st, 3), AUDIT_KEYID_LEN);
	memcpy(cp->sig, sqlite3_column_blob(st, 4), AUDIT_SIGBYTES);
	memcpy(pk, sqlite3_column_blob(st, 5), AUDIT_SIGN_PUBBYTES);
	if (audit_checkpoint_verify(cp, pk) == -1) {
		snprintf(err, errlen, "checkpoint at %lld: the signature does "
		    "not verify", (long long)cp->seq);
		goto done;
	}
	rv = 0;
done:
	sqlite3_finalize(st);
	return rv;
}

/* `n` decimal digits at s into *v; 0 or -1. */
static int
digits(const char *s, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
trail_parse_time(const char *s, int64_t *utc_us)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	struct tm	 tm;
	const char	*errstr = NULL, *p;
	long long	 secs;
	time_t		 t;
	int		 y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	int		 nfrac, leap;

	*utc_us = 0;
	if (s == NULL || *s == '\0')
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		/* Up to the year 9999. */
		secs = strtonum(s, 0, 253402300799LL, &errstr);
		if (errstr != NULL)
			return -1;
		*utc_us = (int64_t)secs * 1000000;
		return 0;
	}
	if (strlen(s) < 10 || digits(s, 4, &y) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d) == -1)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap))
		return -1;
	p = s + 10;
	if (*p == 'T') {
		if (strlen(p) < 10 || digits(p + 1, 2, &h) == -1 ||
		    p[3] != ':' || digits(p + 4, 2, &mi) == -1 ||
		    p[6] != ':' || digits(p + 7, 2, &sec) == -1 ||
		    h > 23 || mi > 59 || sec > 59)
			return -1;
		p += 9;
		if (*p == '.') {
			p++;
			for (nfrac = 0; nfrac < 6 && *p >= '0' && *p <= '9';
			    nfrac++, p++)
				frac = frac * 10 + (*p - '0');
			if (nfrac == 0 || (*p >= '0' && *p <= '9'))
				return -1;
			for (; nfrac < 6; nfrac++)
				frac *= 10;
		}
		if (*p++ != 'Z')
			return -1;
	}
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*utc_us = (int64_t)t * 1000000 + frac;
	return 0;
}
