/* The audit trail in SQLite: append, checkpoints, retention. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "trail.h"
#include "trail_int.h"
#include "xmalloc.h"

#define SQL_INSERT_EVENT	"INSERT INTO audit_event (" \
	TRAIL_EVENT_COLUMNS ", hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?," \
	"?,?,?,?,?,?,?,?,?)"
#define SQL_INSERT_KEY		"INSERT OR IGNORE INTO audit_key " \
	"(key_id, kind, public_key, created_utc_us) VALUES (?,?,?,?)"
#define SQL_INSERT_DATAKEY	"INSERT INTO audit_datakey (key_id, " \
	"auditor_key_id, sealed_key, created_utc_us) VALUES (?,?,?,?)"
#define SQL_INSERT_CHECKPOINT	"INSERT INTO audit_checkpoint " \
	"(seq, utc_us, head, key_id, sig) VALUES (?,?,?,?,?)"
#define SQL_SEAL_HEAD		"INSERT OR REPLACE INTO audit_head (id, seq, " \
	"utc_us, head, checkpoints, last_checkpoint_seq, key_id, sig) " \
	"VALUES (1,?,?,?,?,?,?,?)"

#define DETAIL_MAX	256

enum { K_SIGNING, K_AUDITOR, K_NKEYS };
static const char *const key_kinds[K_NKEYS] = { "signing", "auditor" };

/* What the trail knows of the database, as committed or as pending. */
struct trail_state {
	int64_t		 seq;			/* last event */
	unsigned char	 head[AUDIT_HASHBYTES];	/* its hash */
	int64_t		 nunsigned;		/* events since a checkpoint */
	int64_t		 checkpoints;		/* rows in audit_checkpoint */
	int64_t		 last_cp_seq;
	int64_t		 sealed_seq;		/* what audit_head says */
	int64_t		 sealed_cps;
	int		 sealed;		/* audit_head has a row */
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
	sqlite3_stmt		*st_seal;
	struct audit_checkpoint	 last_cp;	/* the newest made here */
	struct trail_secrets	*sec;		/* sodium_malloc'd */
	unsigned char		 pk[K_NKEYS][AUDIT_SIGN_PUBBYTES];
	char			 key_id[K_NKEYS][AUDIT_KEYID_LEN + 1];
	int			 dk_valid;
	unsigned char		 dk_sealed[AUDIT_SEALED_DATAKEY_BYTES];
	char			 dk_id[AUDIT_KEYID_LEN + 1];
	struct trail_state	 committed, pending;
};

static const unsigned char empty[1];

/* The helpers of trail_int.h, shared with trail_verify.c, trail_export.c. */
int
trail_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err,
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

int
trail_query_int(sqlite3 *db, const char *sql, int64_t arg, int64_t *out,
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

void
trail_val_null(struct audit_value *v)
{
	memset(v, 0, sizeof(*v));
	v->type = AUDIT_NULL;
}

void
trail_val_int(struct audit_value *v, int64_t i)
{
	trail_val_null(v);
	v->type = AUDIT_INT;
	v->i = i;
}

void
trail_val_bytes(struct audit_value *v, enum audit_type type, const void *p,
    size_t len)
{
	trail_val_null(v);
	v->type = type;
	v->p = p != NULL ? p : empty;
	v->len = len;
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

int
trail_read_checkpoint(sqlite3_stmt *st, struct audit_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->seq = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
	    sqlite3_column_type(st, 2) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 2) != AUDIT_HASHBYTES ||
	    sqlite3_column_type(st, 3) != SQLITE_TEXT ||
	    !valid_key_id(sqlite3_column_text(st, 3),
	    sqlite3_column_bytes(st, 3)) ||
	    sqlite3_column_type(st, 4) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 4) != AUDIT_SIGBYTES)
		return -1;
	cp->utc_us = sqlite3_column_int64(st, 1);
	memcpy(cp->head, sqlite3_column_blob(st, 2), AUDIT_HASHBYTES);
	memcpy(cp->key_id, sqlite3_column_text(st, 3), AUDIT_KEYID_LEN);
	memcpy(cp->sig, sqlite3_column_blob(st, 4), AUDIT_SIGBYTES);
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

/* Integers below zero are stored as NULL. */
static void
val_opt_int(struct audit_value *v, int64_t i)
{
	if (i < 0)
		trail_val_null(v);
	else
		trail_val_int(v, i);
}

static void
val_text(struct audit_value *v, const char *s)
{
	if (s == NULL)
		trail_val_null(v);
	else
		trail_val_bytes(v, AUDIT_TEXT, s, strlen(s));
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
	trail_val_null(&cols[AC_SEQ]);
	trail_val_int(&cols[AC_UTC_US], ev->utc_us);
	trail_val_int(&cols[AC_MONO_US], ev->mono_us);
	trail_val_int(&cols[AC_CLOCK_SYNCED], ev->clock_synced ? 1 : 0);
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
	trail_val_null(&cols[AC_KEY_ID]);
	trail_val_null(&cols[AC_SEALED]);
}

/* Chain and insert the next row; its seq is set here. */
static int
insert_row(struct trail *t, struct audit_value cols[], char *err,
    size_t errlen)
{
	unsigned char	 hash[AUDIT_HASHBYTES];
	int64_t		 seq = t->pending.seq + 1;
	int		 i;

	trail_val_int(&cols[AC_SEQ], seq);
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
    const char *outcome, const char *reason, const char *detail, char *err,
    size_t errlen)
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
	ev.reason = reason;
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
		if (append_own(t, ev, "key", "added", NULL, detail, err,
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
	if (append_own(t, ev, "key", "datakey", NULL, detail, err,
	    errlen) == -1)
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

/*
 * The last event, the checkpoints and the head seal, to continue from.
 * Whether they can be trusted is trail_check_tail's to say: a damaged
 * head hash is read as zeros here, and the check finds it.
 */
static int
read_head(struct trail *t, char *err, size_t errlen)
{
	struct trail_state	*s = &t->committed;
	sqlite3_stmt		*st;
	int			 rc;

	if (sqlite3_prepare_v2(t->db, "SELECT seq, hash FROM audit_event "
	    "ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(t->db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->seq = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) == SQLITE_BLOB &&
		    sqlite3_column_bytes(st, 1) == AUDIT_HASHBYTES)
			memcpy(s->head, sqlite3_column_blob(st, 1),
			    AUDIT_HASHBYTES);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(t->db));
		return -1;
	}
	if (trail_query_int(t->db, "SELECT count(*) FROM audit_checkpoint", 0,
	    &s->checkpoints, err, errlen) == -1 ||
	    trail_query_int(t->db, "SELECT max(seq) FROM audit_checkpoint", 0,
	    &s->last_cp_seq, err, errlen) == -1 ||
	    (rc = trail_query_int(t->db, "SELECT seq FROM audit_head WHERE "
	    "id = 1", 0, &s->sealed_seq, err, errlen)) == -1)
		return -1;
	s->sealed = rc == 0;
	s->sealed_cps = s->sealed ? s->checkpoints : -1;
	s->nunsigned = s->seq > s->last_cp_seq ? s->seq - s->last_cp_seq : 0;
	return 0;
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

	if (trail_prepare(db, SQL_INSERT_EVENT, &t->st_event, err,
	    errlen) == -1 ||
	    trail_prepare(db, SQL_INSERT_KEY, &t->st_key, err, errlen) == -1 ||
	    trail_prepare(db, SQL_INSERT_DATAKEY, &t->st_datakey, err,
	    errlen) == -1 ||
	    trail_prepare(db, SQL_INSERT_CHECKPOINT, &t->st_checkpoint, err,
	    errlen) == -1 ||
	    trail_prepare(db, SQL_SEAL_HEAD, &t->st_seal, err, errlen) == -1)
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
	sqlite3_finalize(t->st_seal);
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
	int			 personal, first, rv = -1;

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
	/* A new trail's first event (new_trail: who authorised it) comes
	 * before the records of its keys. */
	first = t->pending.seq == 0 && !personal;
	if (!first && ensure_keys(t, ev, err, errlen) == -1)
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
		trail_val_bytes(&cols[AC_SEALED], AUDIT_BLOB, sealed,
		    sealedlen);
	}
	if (insert_row(t, cols, err, errlen) == -1)
		goto done;
	if (seq != NULL)
		*seq = t->pending.seq;
	if (first && ensure_keys(t, ev, err, errlen) == -1)
		goto done;
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
	t->pending.checkpoints++;
	t->pending.last_cp_seq = cp.seq;
	t->last_cp = cp;
	return trail_seal(t, utc_us, err, errlen);
}

int
trail_seal(struct trail *t, int64_t utc_us, char *err, size_t errlen)
{
	struct audit_head_seal	 hs;
	sqlite3_stmt		*st = t->st_seal;

	if (t->pending.sealed && t->pending.sealed_seq == t->pending.seq &&
	    t->pending.sealed_cps == t->pending.checkpoints)
		return 0;
	memset(&hs, 0, sizeof(hs));
	hs.seq = t->pending.seq;
	hs.utc_us = utc_us;
	hs.checkpoints = t->pending.checkpoints;
	hs.last_checkpoint_seq = t->pending.last_cp_seq;
	memcpy(hs.head, t->pending.head, sizeof(hs.head));
	if (audit_head_sign(&hs, t->sec->sign_sk) == -1) {
		snprintf(err, errlen, "audit trail: cannot sign the head");
		return -1;
	}
	if (sqlite3_bind_int64(st, 1, hs.seq) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, hs.utc_us) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 3, hs.head, sizeof(hs.head),
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, hs.checkpoints) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, hs.last_checkpoint_seq) != SQLITE_OK ||
	    sqlite3_bind_text(st, 6, hs.key_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_blob(st, 7, hs.sig, sizeof(hs.sig), SQLITE_STATIC) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "audit trail: %s", sqlite3_errmsg(t->db));
		sqlite3_clear_bindings(st);
		return -1;
	}
	if (run(t->db, st, err, errlen) == -1)
		return -1;
	t->pending.sealed = 1;
	t->pending.sealed_seq = hs.seq;
	t->pending.sealed_cps = hs.checkpoints;
	return 0;
}

int
trail_last_checkpoint(const struct trail *t, struct audit_checkpoint *cp,
    unsigned char pk[AUDIT_SIGN_PUBBYTES])
{
	if (t->last_cp.seq == 0 || t->committed.last_cp_seq != t->last_cp.seq)
		return -1;
	*cp = t->last_cp;
	memcpy(pk, t->pk[K_SIGNING], AUDIT_SIGN_PUBBYTES);
	return 0;
}

void
trail_new_segment(struct trail *t, const unsigned char head[AUDIT_HASHBYTES])
{
	memcpy(t->committed.head, head, AUDIT_HASHBYTES);
	t->pending = t->committed;
}

const unsigned char *
trail_signing_pk(const struct trail *t)
{
	return t->pk[K_SIGNING];
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
	if ((rc = trail_query_int(t->db, "SELECT min(seq) FROM audit_event", 0,
	    &first, err, errlen)) != 0 ||
	    (rc = trail_query_int(t->db, "SELECT max(seq) FROM audit_event", 0,
	    &last, err, errlen)) != 0)
		return rc == 1 ? 0 : -1;
	/* Only a prefix goes, all of it older; the newest event stays. */
	if ((rc = trail_query_int(t->db, "SELECT min(seq) FROM audit_event "
	    "WHERE utc_us >= ?", before_utc_us, &newer, err, errlen)) == -1)
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
	    append_own(t, base, "retention", "removed", base->reason, detail,
	    err, errlen) == -1 ||
	    trail_checkpoint(t, base->utc_us, err, errlen) == -1)
		goto done;
	*removed = n;
	rv = 0;
done:
	sqlite3_finalize(st);
	return rv;
}

int
trail_add_timestamp(struct trail *t, int64_t seq, int64_t gen_utc_us,
    const unsigned char *token, size_t len, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rv;

	if (len == 0 || len > TRAIL_TIMESTAMP_MAX) {
		snprintf(err, errlen, "time stamp of checkpoint %lld: %zu "
		    "bytes", (long long)seq, len);
		return -1;
	}
	if (sqlite3_prepare_v2(t->db, "INSERT OR IGNORE INTO audit_timestamp "
	    "(seq, gen_utc_us, token) VALUES (?,?,?)", -1, &st,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit trail: %s", sqlite3_errmsg(t->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, gen_utc_us);
	sqlite3_bind_blob(st, 3, token, (int)len, SQLITE_STATIC);
	rv = run(t->db, st, err, errlen);
	sqlite3_finalize(st);
	return rv;
}
