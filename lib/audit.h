/*
 * The audit trail's record format, as pure functions: the hash chain over
 * each event's columns, signed checkpoints of the chain head, and the
 * sealing of personal metadata to the auditor's key.  polrecd writes
 * events with these; `polrecctl audit verify|export` and the sqlite3
 * extension polrec_unseal.so read them back.  No database access here:
 * callers move values between struct audit_value and SQLite.
 *
 * Constructions (all libsodium):
 *  - chain:  hash[n] = BLAKE2b-256 (crypto_generichash, unkeyed) of
 *            "polrec-audit-v1" NUL, hash[n-1] (32 zero bytes before the
 *            first event), then each column of AUDIT_COLUMNS in order as
 *            a type byte (0 NULL, 1 integer, 2 text, 3 blob), then for an
 *            integer 8 bytes big-endian two's complement, for text and
 *            blob a 4-byte big-endian length and the bytes.
 *  - checkpoint: Ed25519 (crypto_sign_detached) over "polrec-checkpoint-
 *            v1" NUL, seq (8 bytes BE), utc_us (8 bytes BE), head (32).
 *  - sealing: a random data key per period (XChaCha20-Poly1305-IETF,
 *            crypto_aead_xchacha20poly1305_ietf), itself sealed to the
 *            auditor's X25519 public key with crypto_box_seal.  A sealed
 *            payload is a header of version byte 1, seq (8 bytes BE) and
 *            data key id (16 ASCII hex), then nonce (24), then the
 *            ciphertext with its tag; the associated data is
 *            "polrec-seal-v1" NUL followed by the header.  It opens only
 *            for the row (seq) it was written for.
 *  - key ids: the first 8 bytes of BLAKE2b-256 of the public key (of the
 *            sealed data key, for a data key), as 16 lower-case hex.
 */
#ifndef POLREC_AUDIT_H
#define POLREC_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_HASHBYTES		32
#define AUDIT_KEYID_LEN		16	/* hex characters, plus NUL */
#define AUDIT_DATAKEYBYTES	32
#define AUDIT_SEALED_DATAKEY_BYTES	(32 + 48)	/* + crypto_box_SEALBYTES */
#define AUDIT_SIGBYTES		64
#define AUDIT_CHECKPOINT_MSGBYTES	(21 + 8 + 8 + 32)	/* signed bytes */
#define AUDIT_SIGN_PUBBYTES	32
#define AUDIT_SIGN_SECRETBYTES	64
#define AUDIT_BOX_PUBBYTES	32
#define AUDIT_BOX_SECRETBYTES	32
#define AUDIT_SEAL_HEADER	(1 + 8 + 16)
#define AUDIT_SEAL_OVERHEAD	(AUDIT_SEAL_HEADER + 24 + 16)	/* + nonce, tag */
#define AUDIT_SEAL_MAX		(1024 * 1024)	/* plaintext bytes */

/*
 * The columns of table audit_event, in hash order: the first is seq, the
 * last two the sealed payload's key id and bytes; `hash` itself is not
 * hashed.  Names are the SQL column names.
 */
enum audit_column {
	AC_SEQ = 0,		/* integer, 1, 2, ... without gaps */
	AC_UTC_US,		/* integer: CLOCK_REALTIME, µs */
	AC_MONO_US,		/* integer: CLOCK_MONOTONIC, µs */
	AC_CLOCK_SYNCED,	/* integer 0/1: adjtimex says synchronised */
	AC_CLOCK_MAXERROR_US,	/* integer: adjtimex maxerror */
	AC_CLOCK_ESTERROR_US,	/* integer: adjtimex esterror */
	AC_KIND,		/* text: notification, invitation, answer... */
	AC_OUTCOME,		/* text or NULL */
	AC_REASON,		/* text or NULL */
	AC_CALL_ID,		/* text or NULL */
	AC_CHAIN_ID,
	AC_TENANT,
	AC_POLICY,		/* policyIdentifier */
	AC_PAIRED,		/* text: JSON array of recorder ids, or NULL */
	AC_OTHER,		/* text: JSON array, or NULL */
	AC_MSG_ID,		/* X-Microsoft-Skype-Message-ID */
	AC_HTTP_STATUS,		/* integer or NULL */
	AC_GRAPH_CODE,		/* text or NULL */
	AC_REQUEST_ID,		/* Graph's request-id */
	AC_LATENCY_US,		/* integer: since the notification arrived */
	AC_ATTEMPTS,		/* integer */
	AC_DETAIL,		/* text: JSON object of other clear facts */
	AC_KEY_ID,		/* text: data key id, NULL when nothing sealed */
	AC_SEALED,		/* blob: sealed personal metadata, or NULL */
	AUDIT_NCOLUMNS
};

extern const char *const audit_column_names[AUDIT_NCOLUMNS];

enum audit_type {
	AUDIT_NULL = 0,
	AUDIT_INT = 1,
	AUDIT_TEXT = 2,
	AUDIT_BLOB = 3,
};

struct audit_value {
	enum audit_type	 type;
	int64_t		 i;	/* AUDIT_INT */
	const void	*p;	/* AUDIT_TEXT (not NUL-terminated needed) */
	size_t		 len;	/*   and AUDIT_BLOB */
};

/* hash = chain step over prev and the row's columns.  0, or -1 on a bad
 * value (unknown type, length over 2^31). */
int	 audit_chain_hash(const unsigned char prev[AUDIT_HASHBYTES],
	    const struct audit_value cols[AUDIT_NCOLUMNS],
	    unsigned char hash[AUDIT_HASHBYTES]);

/* The key id of a public key (or of a sealed data key). */
void	 audit_key_id(const unsigned char *key, size_t len,
	    char id[AUDIT_KEYID_LEN + 1]);

/* A signed statement of the chain head at event seq. */
struct audit_checkpoint {
	int64_t		 seq;
	int64_t		 utc_us;
	unsigned char	 head[AUDIT_HASHBYTES];
	char		 key_id[AUDIT_KEYID_LEN + 1];	/* signing key */
	unsigned char	 sig[AUDIT_SIGBYTES];
};

/*
 * The bytes a checkpoint's signature covers: "polrec-checkpoint-v1" NUL,
 * seq, utc_us (8 bytes BE each), head.  Its time stamp (tsa.h) is over
 * the SHA-256 of the same bytes.
 */
void	 audit_checkpoint_message(const struct audit_checkpoint *,
	    unsigned char msg[AUDIT_CHECKPOINT_MSGBYTES]);

/* Sign (fills key_id and sig from the secret key; the public key is in
 * its second half, as libsodium lays it out).  0 or -1. */
int	 audit_checkpoint_sign(struct audit_checkpoint *,
	    const unsigned char sk[AUDIT_SIGN_SECRETBYTES]);
/* 0 when sig is good for pk (and key_id is pk's id), else -1. */
int	 audit_checkpoint_verify(const struct audit_checkpoint *,
	    const unsigned char pk[AUDIT_SIGN_PUBBYTES]);

/*
 * The head seal: the trail's signed table of contents, rewritten with
 * every commit (table audit_head).  Ed25519 over "polrec-head-v1" NUL,
 * seq, utc_us, checkpoints, last_checkpoint_seq (8 bytes BE each, in
 * that order after utc_us) and head (32).  seq 0 with a zero head is an
 * empty trail.
 */
struct audit_head_seal {
	int64_t		 seq;
	int64_t		 utc_us;
	int64_t		 checkpoints;
	int64_t		 last_checkpoint_seq;
	unsigned char	 head[AUDIT_HASHBYTES];
	char		 key_id[AUDIT_KEYID_LEN + 1];
	unsigned char	 sig[AUDIT_SIGBYTES];
};

int	 audit_head_sign(struct audit_head_seal *,
	    const unsigned char sk[AUDIT_SIGN_SECRETBYTES]);
int	 audit_head_verify(const struct audit_head_seal *,
	    const unsigned char pk[AUDIT_SIGN_PUBBYTES]);

/*
 * The exported form, one JSON object: {"seq":N,"utc_us":N,"head":hex,
 * "key_id":hex16,"sig":hex,"public_key":hex}.  to_json: malloc'd, NULL on
 * failure.  from_json: 0, or -1 with a message in err for anything else
 * (untrusted input); *pk gets public_key.
 */
char	*audit_checkpoint_to_json(const struct audit_checkpoint *,
	    const unsigned char pk[AUDIT_SIGN_PUBBYTES]);
int	 audit_checkpoint_from_json(const char *, size_t,
	    struct audit_checkpoint *, unsigned char pk[AUDIT_SIGN_PUBBYTES],
	    char *err, size_t errlen);

/*
 * A fresh data key, sealed to the auditor's public key; id is the key id
 * of the sealed form.  0 or -1.
 */
int	 audit_datakey_new(const unsigned char auditor_pk[AUDIT_BOX_PUBBYTES],
	    unsigned char dk[AUDIT_DATAKEYBYTES],
	    unsigned char sealed[AUDIT_SEALED_DATAKEY_BYTES],
	    char id[AUDIT_KEYID_LEN + 1]);
/* Open a sealed data key with the auditor's key pair.  0, or -1 when it
 * does not open (wrong key, damaged, wrong length). */
int	 audit_datakey_open(const unsigned char *sealed, size_t len,
	    const unsigned char auditor_pk[AUDIT_BOX_PUBBYTES],
	    const unsigned char auditor_sk[AUDIT_BOX_SECRETBYTES],
	    unsigned char dk[AUDIT_DATAKEYBYTES]);

/*
 * Seal `len` bytes (at most AUDIT_SEAL_MAX) for event seq with the data
 * key dk whose id is dk_id: *out is malloc'd, *outlen = len +
 * AUDIT_SEAL_OVERHEAD.  0 or -1.
 */
int	 audit_seal(const unsigned char dk[AUDIT_DATAKEYBYTES],
	    const char *dk_id, int64_t seq, const void *plain, size_t len,
	    unsigned char **out, size_t *outlen);
/*
 * Open what audit_seal made for this seq and dk_id: *plain is malloc'd
 * and NUL-terminated (not counted in *plainlen).  -1 when it does not
 * open: wrong key, another row's seq or key id (the header must name
 * them), truncated or altered.
 */
int	 audit_unseal(const unsigned char dk[AUDIT_DATAKEYBYTES],
	    const char *dk_id, int64_t seq, const unsigned char *sealed,
	    size_t len, char **plain, size_t *plainlen);

/* Read a sealed payload's header: the seq and data key id it was sealed
 * for.  0, or -1 when it is too short or not version 1. */
int	 audit_sealed_header(const unsigned char *sealed, size_t len,
	    int64_t *seq, char id[AUDIT_KEYID_LEN + 1]);

#endif
