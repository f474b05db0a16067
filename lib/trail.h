/*
 * The audit trail in its SQLite tables (schema/002_audit.sql): appending
 * events with their chain hash and sealed metadata, signing checkpoints,
 * retention, and, offline, verifying and exporting.  The writer works
 * inside a transaction its caller opens and commits (polrecd commits once
 * per event-loop turn); it tells the trail how that ended.  No sockets,
 * no clock of its own: times come in the events.
 */
#ifndef POLREC_TRAIL_H
#define POLREC_TRAIL_H

#include <stdint.h>
#include <stdio.h>

#include "audit.h"

struct sqlite3;
struct trail;

/* Keys the writer needs (from key_dir); copied by trail_open. */
struct trail_keys {
	unsigned char	 sign_sk[AUDIT_SIGN_SECRETBYTES];
	unsigned char	 auditor_pk[AUDIT_BOX_PUBBYTES];
};

/*
 * One event.  Strings may be NULL (SQL NULL); integers < 0 are NULL,
 * except utc_us and mono_us.  `personal` is the personal metadata as a
 * JSON object text, sealed before it is stored (NULL: none).
 */
struct trail_event {
	int64_t		 utc_us;
	int64_t		 mono_us;
	int		 clock_synced;
	int64_t		 clock_maxerror_us;
	int64_t		 clock_esterror_us;
	const char	*kind;		/* required */
	const char	*outcome;
	const char	*reason;
	const char	*call_id;
	const char	*chain_id;
	const char	*tenant;
	const char	*policy;
	const char	*paired;	/* JSON array text */
	const char	*other;		/* JSON array text */
	const char	*msg_id;
	int64_t		 http_status;
	const char	*graph_code;
	const char	*request_id;
	int64_t		 latency_us;
	int64_t		 attempts;
	const char	*detail;	/* JSON object text */
	const char	*personal;
	size_t		 personal_len;
};

/*
 * The writer over a migrated database: reads the last seq and chain head,
 * and registers the signing and auditor public keys in audit_key (a new
 * key is appended as a `key` event at the next append).  A fresh data
 * key is made for this process, sealed to the auditor key.  NULL with a
 * message in err.
 */
struct trail	*trail_open(struct sqlite3 *, const struct trail_keys *,
		    char *err, size_t errlen);
void		 trail_free(struct trail *);

/*
 * Inside the caller's transaction: append one event (seq assigned, the
 * personal part sealed to the current data key, the row chained).  *seq
 * gets its number.  0, or -1 with a message: the caller rolls back.
 */
int		 trail_append(struct trail *, const struct trail_event *,
		    int64_t *seq, char *err, size_t errlen);

/* Events appended since the last checkpoint (committed or not). */
int64_t		 trail_unsigned(const struct trail *);

/* Inside the transaction: a signed checkpoint of the head, if any event
 * came after the last one, and the head seal with it.  0 or -1. */
int		 trail_checkpoint(struct trail *, int64_t utc_us, char *err,
		    size_t errlen);

/*
 * Inside the transaction, after the turn's appends and checkpoint: the
 * head seal (audit_head) for the trail as it now stands, if it changed.
 * 0 or -1.
 */
int		 trail_seal(struct trail *, int64_t utc_us, char *err,
		    size_t errlen);

/* The newest checkpoint this writer made and saw committed, with the
 * public key that verifies it: 0, or -1 when there is none. */
int		 trail_last_checkpoint(const struct trail *,
		    struct audit_checkpoint *,
		    unsigned char pk[AUDIT_SIGN_PUBBYTES]);

/*
 * After trail_check_tail found a problem: the next event (the integrity
 * event that records it) chains from head, the anchor it named, instead
 * of from the last event.  Seqs go on.
 */
void		 trail_new_segment(struct trail *,
		    const unsigned char head[AUDIT_HASHBYTES]);

/*
 * Inside the transaction: an RFC 3161 time stamp token (DER, at most
 * TRAIL_TIMESTAMP_MAX bytes) of the checkpoint at seq, as the time
 * stamping authority returned it.  0 or -1.
 */
#define TRAIL_TIMESTAMP_MAX	65536
int		 trail_add_timestamp(struct trail *, int64_t seq,
		    int64_t gen_utc_us, const unsigned char *token,
		    size_t len, char *err, size_t errlen);

/* The appliance's signing public key (32 bytes). */
const unsigned char *trail_signing_pk(const struct trail *);

/* A new data key from the next append on (a `key` event records it). */
void		 trail_rotate_datakey(struct trail *);

/* The caller's transaction committed, or was rolled back: the trail's
 * head and keys follow. */
void		 trail_committed(struct trail *);
void		 trail_rolled_back(struct trail *);

/* The last committed seq, 0 when empty. */
int64_t		 trail_last_seq(const struct trail *);

/*
 * Retention, inside the transaction: remove the events older than
 * before_utc_us, except that the newest event is never removed.  The
 * removal is recorded as a `retention` event (detail: removed_from,
 * removed_through, count, anchor = hex hash of the last removed event,
 * before_utc_us) with base's clock fields and reason (who asked), and a checkpoint is signed
 * after it, so the chain still verifies from the anchor.  *removed
 * gets the count (0: nothing to remove, no event).  0 or -1.
 */
int		 trail_prune(struct trail *, int64_t before_utc_us,
		    const struct trail_event *base, int64_t *removed,
		    char *err, size_t errlen);

/*
 * Offline verification of a whole trail.  Trust comes from outside the
 * file only: the pinned signing public keys (key_dir/signing.pub, or
 * keys given to `polrecctl audit verify -k`) and checkpoints that left
 * the host (syslog, a witness, a time stamping authority).  Keys stored
 * in audit_key are informative.
 */
#define TRAIL_MAX_PINNED	8
#define TRAIL_MAX_EXPORTED	16
#define TRAIL_MAX_SEGMENTS	32

struct trail_verify_opts {
	/* Checkpoints from off the host that the trail must still hold. */
	const struct audit_checkpoint	*exported;	/* nexported of them */
	const unsigned char		*exported_pk;	/* 32 bytes each */
	size_t				 nexported;	/* 0: 1 if exported */
	/* The signing public keys to trust, 32 bytes each; required. */
	const unsigned char		*pinned_pk;
	size_t				 npinned;	/* 0: 1 if pinned_pk */
	/*
	 * RFC 3161 time stamps (audit_timestamp) are checked against the
	 * CA certificates in this PEM file, when set.  A time stamp later
	 * than its checkpointed event by more than tsa_max_lag_us (0:
	 * one hour) means the history was signed long after it claims.
	 */
	const char			*tsa_ca_file;
	int64_t				 tsa_max_lag_us;
};

/* An integrity break polrecd recorded (an `integrity` event). */
struct trail_segment {
	int64_t		 seq;		/* the integrity event */
	int64_t		 anchor_seq;	/* the chain restarts from here */
	int64_t		 first_bad;	/* as polrecd found it */
	int64_t		 ack_seq;	/* its `acknowledge` event, 0: none */
	int64_t		 ack_utc_us;
	char		 ack_by[48];	/* "uid N" */
	int		 anchor_ok;	/* internal: anchor head known */
	unsigned char	 anchor_head[AUDIT_HASHBYTES];
};

struct trail_report {
	int64_t		 events;
	int64_t		 checkpoints;
	int64_t		 first_seq, last_seq;
	int64_t		 last_checkpoint_seq;	/* 0: none */
	int64_t		 bad_seq;	/* first bad event, 0 if none */
	char		 problem[256];	/* the first problem, "" if intact */
	/* Events after the last checkpoint: how many, and their times. */
	int64_t		 uncovered;
	int64_t		 uncovered_from_utc_us, uncovered_to_utc_us;
	/* Events left unverified by an acknowledged integrity break. */
	int64_t		 quarantined;
	struct trail_segment segments[TRAIL_MAX_SEGMENTS];
	int		 nsegments;
	/* Exported checkpoints matched; time stamps checked. */
	int		 exported_matched;
	int64_t		 timestamps, timestamp_last_seq;
	int64_t		 timestamp_last_gen_utc_us;
	/* The head seal: signed head event. */
	int64_t		 head_seq;
};

/*
 * Check every event's link, seq continuity (gaps only where a retention
 * event accounts for them), each sealed payload's header against its row,
 * every checkpoint's signature with a pinned key and its head, the head
 * seal (audit_head), the exported checkpoints and time stamps; integrity
 * breaks recorded by polrecd count against the trail until acknowledged.
 * Returns 0 intact (report->uncovered > 0: the tail is not covered by a
 * checkpoint yet), 1 not intact (report names the first bad event), -1
 * when the database cannot be read or no key is pinned (report says why).
 */
int		 trail_verify(struct sqlite3 *, const struct trail_verify_opts *,
		    struct trail_report *);

/*
 * polrecd at start-up, before it signs anything: the chain from the
 * last checkpoint signed with pk to the head, and the head seal (when
 * seal_required).  Work is bounded: more than max_events after that
 * checkpoint is itself a problem.  0 intact, 1 a problem (check says
 * what, and where the chain can safely restart), -1 unreadable.
 */
struct trail_tail_check {
	int64_t		 anchor_seq;	/* the new segment's anchor */
	unsigned char	 anchor_head[AUDIT_HASHBYTES];
	int64_t		 bad_seq;
	int64_t		 last_seq;
	int64_t		 walked;	/* events hashed */
	char		 problem[256];
};
int		 trail_check_tail(struct sqlite3 *,
		    const unsigned char pk[AUDIT_SIGN_PUBBYTES],
		    int64_t max_events, int seal_required,
		    struct trail_tail_check *);

/*
 * Whether this appliance signed the trail: 1 when a checkpoint or the
 * head seal names pk's key id, or nothing is signed yet; 0 when every
 * one names another key (the first in `other`): another appliance's
 * trail.  -1 with a message.
 */
int		 trail_signed_with(struct sqlite3 *,
		    const unsigned char pk[AUDIT_SIGN_PUBBYTES],
		    char other[AUDIT_KEYID_LEN + 1], char *err,
		    size_t errlen);

/* What to export; zero values mean no bound. */
struct trail_filter {
	int64_t			 since_utc_us;	/* utc_us >= since */
	int64_t			 until_utc_us;	/* utc_us < until */
	const char		*call_id;
	/* The auditor's secret key: open the sealed metadata.  NULL: it
	 * stays sealed (base64). */
	const unsigned char	*auditor_sk;
};

/*
 * JSON Lines to out, one event per line in seq order: every clear column
 * by its SQL name, "utc" (ISO 8601), "hash" (hex), and either "sealed"
 * (base64) or, with the key, "personal" (the opened object) or
 * "personal_error" when it does not open.  0, or -1 with a message.
 */
int		 trail_export(struct sqlite3 *, const struct trail_filter *,
		    FILE *out, char *err, size_t errlen);

/* The newest checkpoint and its signing public key.  0, 1 when there is
 * none, -1 on error. */
int		 trail_latest_checkpoint(struct sqlite3 *,
		    struct audit_checkpoint *,
		    unsigned char pk[AUDIT_SIGN_PUBBYTES], char *err,
		    size_t errlen);

/* utc_us as "2026-11-23T10:00:00.000000Z" ("?" if out of range). */
void		 trail_format_time(int64_t utc_us, char *buf, size_t len);

/* "2026-11-23T10:00:00Z", "2026-11-23T10:00:00.5Z", "2026-11-23", or
 * seconds since the epoch, to µs.  0 or -1. */
int		 trail_parse_time(const char *, int64_t *utc_us);

#endif
