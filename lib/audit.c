/* The audit record format: chain hashes, signed checkpoints, sealing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit.h"

/*
 * Linked into polrec_unseal.so with keyfile.c alone: no log, no xmalloc.
 * Allocation failures are ordinary -1 returns here.
 */

#define CHAIN_DOMAIN		"polrec-audit-v1"
#define CHECKPOINT_DOMAIN	"polrec-checkpoint-v1"
#define SEAL_DOMAIN		"polrec-seal-v1"
#define SEAL_VERSION		1
#define SEAL_NONCEBYTES		crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_ABYTES		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_ADBYTES		(sizeof(SEAL_DOMAIN) + AUDIT_SEAL_HEADER)
#define LEN_MAX			0x7fffffffU	/* a 4-byte length, < 2^31 */
/* JSON numbers are doubles: integers beyond 2^53 - 1 are not exact. */
#define JSON_INT_MAX		9007199254740991LL
#define CHECKPOINT_JSON_MAX	4096	/* the real thing is ~360 bytes */

_Static_assert(AUDIT_SEALED_DATAKEY_BYTES ==
    AUDIT_DATAKEYBYTES + crypto_box_SEALBYTES, "sealed data key size");
_Static_assert(AUDIT_DATAKEYBYTES ==
    crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "data key size");
_Static_assert(AUDIT_SEAL_OVERHEAD ==
    AUDIT_SEAL_HEADER + SEAL_NONCEBYTES + SEAL_ABYTES, "seal overhead");
_Static_assert(AUDIT_CHECKPOINT_MSGBYTES == sizeof(CHECKPOINT_DOMAIN) + 8 +
    8 + AUDIT_HASHBYTES, "checkpoint message size");
_Static_assert(AUDIT_SIGBYTES == crypto_sign_BYTES, "signature size");
_Static_assert(AUDIT_SIGN_PUBBYTES == crypto_sign_PUBLICKEYBYTES &&
    AUDIT_SIGN_SECRETBYTES == crypto_sign_SECRETKEYBYTES, "Ed25519 keys");
_Static_assert(AUDIT_BOX_PUBBYTES == crypto_box_PUBLICKEYBYTES &&
    AUDIT_BOX_SECRETBYTES == crypto_box_SECRETKEYBYTES, "X25519 keys");

const char *const audit_column_names[AUDIT_NCOLUMNS] = {
	[AC_SEQ] = "seq",
	[AC_UTC_US] = "utc_us",
	[AC_MONO_US] = "mono_us",
	[AC_CLOCK_SYNCED] = "clock_synced",
	[AC_CLOCK_MAXERROR_US] = "clock_maxerror_us",
	[AC_CLOCK_ESTERROR_US] = "clock_esterror_us",
	[AC_KIND] = "kind",
	[AC_OUTCOME] = "outcome",
	[AC_REASON] = "reason",
	[AC_CALL_ID] = "call_id",
	[AC_CHAIN_ID] = "chain_id",
	[AC_TENANT] = "tenant",
	[AC_POLICY] = "policy",
	[AC_PAIRED] = "paired_recorders",
	[AC_OTHER] = "other_recorders",
	[AC_MSG_ID] = "msg_id",
	[AC_HTTP_STATUS] = "http_status",
	[AC_GRAPH_CODE] = "graph_code",
	[AC_REQUEST_ID] = "request_id",
	[AC_LATENCY_US] = "latency_us",
	[AC_ATTEMPTS] = "attempts",
	[AC_DETAIL] = "detail",
	[AC_KEY_ID] = "key_id",
	[AC_SEALED] = "sealed",
};

static void	 put_be64(unsigned char *, int64_t);
static int64_t	 get_be64(const unsigned char *);
static void	 put_be32(unsigned char *, uint32_t);
static int	 valid_key_id(const char *, size_t);
static int	 json_hex(const cJSON *, const char *, unsigned char *,
		    size_t, char *, size_t);
static int	 json_int(const cJSON *, const char *, int64_t *, char *,
		    size_t);
static int	 json_duplicates(const cJSON *, char *, size_t);
static void	 seal_ad(const unsigned char *, unsigned char[SEAL_ADBYTES]);

static void
put_be64(unsigned char *p, int64_t v)
{
	uint64_t	 u = (uint64_t)v;
	int		 i;

	for (i = 7; i >= 0; i--) {
		p[i] = u & 0xff;
		u >>= 8;
	}
}

static int64_t
get_be64(const unsigned char *p)
{
	uint64_t	 u = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		u = u << 8 | p[i];
	return (int64_t)u;
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16 & 0xff;
	p[2] = v >> 8 & 0xff;
	p[3] = v & 0xff;
}

/* Exactly AUDIT_KEYID_LEN lower-case hex digits in the first len bytes. */
static int
valid_key_id(const char *s, size_t len)
{
	size_t	 i;

	if (s == NULL || len < AUDIT_KEYID_LEN)
		return 0;
	for (i = 0; i < AUDIT_KEYID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* prev NULL stands for the 32 zero bytes before the first event. */
int
audit_chain_hash(const unsigned char prev[AUDIT_HASHBYTES],
    const struct audit_value cols[AUDIT_NCOLUMNS],
    unsigned char hash[AUDIT_HASHBYTES])
{
	static const unsigned char	 zero[AUDIT_HASHBYTES];
	crypto_generichash_state	 st;
	const struct audit_value	*v;
	unsigned char			 buf[1 + 8];
	size_t				 i;

	if (cols == NULL || hash == NULL)
		return -1;
	/* Refuse before hashing anything: no partial state to explain. */
	for (i = 0; i < AUDIT_NCOLUMNS; i++) {
		v = &cols[i];
		switch (v->type) {
		case AUDIT_NULL:
		case AUDIT_INT:
			break;
		case AUDIT_TEXT:
		case AUDIT_BLOB:
			if (v->len > LEN_MAX || (v->p == NULL && v->len > 0))
				return -1;
			break;
		default:
			return -1;
		}
	}

	if (crypto_generichash_init(&st, NULL, 0, AUDIT_HASHBYTES) != 0)
		return -1;
	crypto_generichash_update(&st, (const unsigned char *)CHAIN_DOMAIN,
	    sizeof(CHAIN_DOMAIN));
	crypto_generichash_update(&st, prev != NULL ? prev : zero,
	    AUDIT_HASHBYTES);
	for (i = 0; i < AUDIT_NCOLUMNS; i++) {
		v = &cols[i];
		buf[0] = (unsigned char)v->type;
		switch (v->type) {
		case AUDIT_NULL:
			crypto_generichash_update(&st, buf, 1);
			break;
		case AUDIT_INT:
			put_be64(buf + 1, v->i);
			crypto_generichash_update(&st, buf, 1 + 8);
			break;
		default:
			put_be32(buf + 1, (uint32_t)v->len);
			crypto_generichash_update(&st, buf, 1 + 4);
			if (v->len > 0)
				crypto_generichash_update(&st, v->p, v->len);
			break;
		}
	}
	return crypto_generichash_final(&st, hash, AUDIT_HASHBYTES) == 0 ?
	    0 : -1;
}

void
audit_key_id(const unsigned char *key, size_t len,
    char id[AUDIT_KEYID_LEN + 1])
{
	unsigned char	 h[AUDIT_HASHBYTES];

	crypto_generichash(h, sizeof(h), key, len, NULL, 0);
	sodium_bin2hex(id, AUDIT_KEYID_LEN + 1, h, AUDIT_KEYID_LEN / 2);
}

/* What a checkpoint's signature (and its time stamp, tsa.c) covers. */
void
audit_checkpoint_message(const struct audit_checkpoint *cp,
    unsigned char msg[AUDIT_CHECKPOINT_MSGBYTES])
{
	unsigned char	*p = msg;

	memcpy(p, CHECKPOINT_DOMAIN, sizeof(CHECKPOINT_DOMAIN));
	p += sizeof(CHECKPOINT_DOMAIN);
	put_be64(p, cp->seq);
	p += 8;
	put_be64(p, cp->utc_us);
	p += 8;
	memcpy(p, cp->head, AUDIT_HASHBYTES);
}

/* Ed25519 over msg with sk; key_id names the signing key.  0 or -1. */
static int
sign_message(const unsigned char *msg, size_t len,
    const unsigned char sk[AUDIT_SIGN_SECRETBYTES],
    unsigned char sig[AUDIT_SIGBYTES], char key_id[AUDIT_KEYID_LEN + 1])
{
	if (crypto_sign_detached(sig, NULL, msg, len, sk) != 0)
		return -1;
	audit_key_id(sk + AUDIT_SIGN_SECRETBYTES - AUDIT_SIGN_PUBBYTES,
	    AUDIT_SIGN_PUBBYTES, key_id);
	return 0;
}

/* 0 when sig over msg verifies with pk and key_id is pk's id. */
static int
verify_message(const unsigned char *msg, size_t len,
    const unsigned char sig[AUDIT_SIGBYTES], const char *key_id,
    const unsigned char pk[AUDIT_SIGN_PUBBYTES])
{
	char	 id[AUDIT_KEYID_LEN + 1];

	audit_key_id(pk, AUDIT_SIGN_PUBBYTES, id);
	if (memcmp(id, key_id, sizeof(id)) != 0)
		return -1;
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -1;
}

int
audit_checkpoint_sign(struct audit_checkpoint *cp,
    const unsigned char sk[AUDIT_SIGN_SECRETBYTES])
{
	unsigned char	 msg[AUDIT_CHECKPOINT_MSGBYTES];

	if (cp == NULL || sk == NULL)
		return -1;
	audit_checkpoint_message(cp, msg);
	return sign_message(msg, sizeof(msg), sk, cp->sig, cp->key_id);
}

int
audit_checkpoint_verify(const struct audit_checkpoint *cp,
    const unsigned char pk[AUDIT_SIGN_PUBBYTES])
{
	unsigned char	 msg[AUDIT_CHECKPOINT_MSGBYTES];

	if (cp == NULL || pk == NULL)
		return -1;
	audit_checkpoint_message(cp, msg);
	return verify_message(msg, sizeof(msg), cp->sig, cp->key_id, pk);
}

/* Refuses what JSON numbers cannot carry exactly: < 0 or > 2^53 - 1. */
char *
audit_checkpoint_to_json(const struct audit_checkpoint *cp,
    const unsigned char pk[AUDIT_SIGN_PUBBYTES])
{
	cJSON	*o = NULL;
	char	 head[2 * AUDIT_HASHBYTES + 1], sig[2 * AUDIT_SIGBYTES + 1];
	char	 pub[2 * AUDIT_SIGN_PUBBYTES + 1], seq[24], utc[24];
	char	*out = NULL;

	if (cp == NULL || pk == NULL || cp->seq < 0 || cp->seq > JSON_INT_MAX ||
	    cp->utc_us < 0 || cp->utc_us > JSON_INT_MAX ||
	    !valid_key_id(cp->key_id, sizeof(cp->key_id)) ||
	    cp->key_id[AUDIT_KEYID_LEN] != '\0')
		return NULL;
	sodium_bin2hex(head, sizeof(head), cp->head, AUDIT_HASHBYTES);
	sodium_bin2hex(sig, sizeof(sig), cp->sig, AUDIT_SIGBYTES);
	sodium_bin2hex(pub, sizeof(pub), pk, AUDIT_SIGN_PUBBYTES);
	/*
	 * cJSON prints a double with 15 digits when that reads back within
	 * a relative DBL_EPSILON, which is not exact above 2^52: print the
	 * integers ourselves.
	 */
	snprintf(seq, sizeof(seq), "%lld", (long long)cp->seq);
	snprintf(utc, sizeof(utc), "%lld", (long long)cp->utc_us);
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddRawToObject(o, "seq", seq) == NULL ||
	    cJSON_AddRawToObject(o, "utc_us", utc) == NULL ||
	    cJSON_AddStringToObject(o, "head", head) == NULL ||
	    cJSON_AddStringToObject(o, "key_id", cp->key_id) == NULL ||
	    cJSON_AddStringToObject(o, "sig", sig) == NULL ||
	    cJSON_AddStringToObject(o, "public_key", pub) == NULL)
		goto done;
	out = cJSON_PrintUnformatted(o);
 done:
	cJSON_Delete(o);
	return out;
}

/* A member that is exactly outlen bytes in hex. */
static int
json_hex(const cJSON *o, const char *name, unsigned char *out, size_t outlen,
    char *err, size_t errlen)
{
	const cJSON	*item;
	const char	*s, *end = NULL;
	size_t		 len, got = 0;

	item = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsString(item) || (s = item->valuestring) == NULL) {
		snprintf(err, errlen, "%s: missing or not a string", name);
		return -1;
	}
	len = strlen(s);
	if (len != 2 * outlen || sodium_hex2bin(out, outlen, s, len, NULL,
	    &got, &end) != 0 || got != outlen || end != s + len) {
		snprintf(err, errlen, "%s: not %zu bytes of hex", name, outlen);
		return -1;
	}
	return 0;
}

/* A member that is an integer in [0, 2^53 - 1]. */
static int
json_int(const cJSON *o, const char *name, int64_t *v, char *err,
    size_t errlen)
{
	const cJSON	*item;
	double		 d;

	item = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsNumber(item)) {
		snprintf(err, errlen, "%s: missing or not a number", name);
		return -1;
	}
	d = item->valuedouble;
	/* Written so that NaN fails too. */
	if (!(d >= 0 && d <= (double)JSON_INT_MAX) ||
	    (double)(int64_t)d != d) {
		snprintf(err, errlen, "%s: not an integer in range", name);
		return -1;
	}
	*v = (int64_t)d;
	return 0;
}

/* cJSON finds the first of two equal names: a statement says one thing. */
static int
json_duplicates(const cJSON *o, char *err, size_t errlen)
{
	const cJSON	*a, *b;

	for (a = o->child; a != NULL; a = a->next) {
		if (a->string == NULL)
			goto bad;
		for (b = a->next; b != NULL; b = b->next)
			if (b->string == NULL || strcmp(a->string,
			    b->string) == 0)
				goto bad;
	}
	return 0;
 bad:
	snprintf(err, errlen, "duplicate or unnamed member");
	return -1;
}

int
audit_checkpoint_from_json(const char *json, size_t len,
    struct audit_checkpoint *cp, unsigned char pk[AUDIT_SIGN_PUBBYTES],
    char *err, size_t errlen)
{
	cJSON		*o = NULL;
	const cJSON	*item;
	const char	*end = NULL;
	char		*text = NULL, dummy[1];
	size_t		 i;
	int		 rv = -1;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (cp == NULL || pk == NULL) {
		snprintf(err, errlen, "no checkpoint");
		return -1;
	}
	memset(cp, 0, sizeof(*cp));
	memset(pk, 0, AUDIT_SIGN_PUBBYTES);
	if (json == NULL || len == 0 || len > CHECKPOINT_JSON_MAX) {
		snprintf(err, errlen, "checkpoint: empty or over %d bytes",
		    CHECKPOINT_JSON_MAX);
		return -1;
	}
	if (memchr(json, '\0', len) != NULL) {
		snprintf(err, errlen, "checkpoint: NUL byte");
		return -1;
	}
	if ((text = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "checkpoint: out of memory");
		return -1;
	}
	memcpy(text, json, len);
	text[len] = '\0';
	o = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (o == NULL || end == NULL || end < text || end > text + len) {
		snprintf(err, errlen, "checkpoint: not JSON");
		goto done;
	}
	for (i = end - text; i < len; i++)
		if (strchr(" \t\r\n", text[i]) == NULL) {
			snprintf(err, errlen, "checkpoint: text after JSON");
			goto done;
		}
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "checkpoint: not a JSON object");
		goto done;
	}
	if (json_duplicates(o, err, errlen) == -1 ||
	    json_int(o, "seq", &cp->seq, err, errlen) == -1 ||
	    json_int(o, "utc_us", &cp->utc_us, err, errlen) == -1 ||
	    json_hex(o, "head", cp->head, AUDIT_HASHBYTES, err, errlen) ==
	    -1 ||
	    json_hex(o, "sig", cp->sig, AUDIT_SIGBYTES, err, errlen) == -1 ||
	    json_hex(o, "public_key", pk, AUDIT_SIGN_PUBBYTES, err,
	    errlen) == -1)
		goto done;
	item = cJSON_GetObjectItemCaseSensitive(o, "key_id");
	if (!cJSON_IsString(item) || item->valuestring == NULL ||
	    strlen(item->valuestring) != AUDIT_KEYID_LEN ||
	    !valid_key_id(item->valuestring, AUDIT_KEYID_LEN)) {
		snprintf(err, errlen, "key_id: not %d lower-case hex digits",
		    AUDIT_KEYID_LEN);
		goto done;
	}
	memcpy(cp->key_id, item->valuestring, AUDIT_KEYID_LEN + 1);
	rv = 0;
 done:
	if (rv == -1) {
		memset(cp, 0, sizeof(*cp));
		memset(pk, 0, AUDIT_SIGN_PUBBYTES);
	}
	cJSON_Delete(o);
	free(text);
	return rv;
}

int
audit_datakey_new(const unsigned char auditor_pk[AUDIT_BOX_PUBBYTES],
    unsigned char dk[AUDIT_DATAKEYBYTES],
    unsigned char sealed[AUDIT_SEALED_DATAKEY_BYTES],
    char id[AUDIT_KEYID_LEN + 1])
{
	if (auditor_pk == NULL || dk == NULL || sealed == NULL || id == NULL)
		return -1;
	randombytes_buf(dk, AUDIT_DATAKEYBYTES);
	/* Fails for a public key of small order, among others. */
	if (crypto_box_seal(sealed, dk, AUDIT_DATAKEYBYTES, auditor_pk) != 0) {
		sodium_memzero(dk, AUDIT_DATAKEYBYTES);
		return -1;
	}
	audit_key_id(sealed, AUDIT_SEALED_DATAKEY_BYTES, id);
	return 0;
}

int
audit_datakey_open(const unsigned char *sealed, size_t len,
    const unsigned char auditor_pk[AUDIT_BOX_PUBBYTES],
    const unsigned char auditor_sk[AUDIT_BOX_SECRETBYTES],
    unsigned char dk[AUDIT_DATAKEYBYTES])
{
	if (dk == NULL)
		return -1;
	if (sealed == NULL || len != AUDIT_SEALED_DATAKEY_BYTES ||
	    auditor_pk == NULL || auditor_sk == NULL ||
	    crypto_box_seal_open(dk, sealed, len, auditor_pk,
	    auditor_sk) != 0) {
		sodium_memzero(dk, AUDIT_DATAKEYBYTES);
		return -1;
	}
	return 0;
}

/* "polrec-seal-v1" NUL, then the payload's header. */
static void
seal_ad(const unsigned char *header, unsigned char ad[SEAL_ADBYTES])
{
	memcpy(ad, SEAL_DOMAIN, sizeof(SEAL_DOMAIN));
	memcpy(ad + sizeof(SEAL_DOMAIN), header, AUDIT_SEAL_HEADER);
}

int
audit_seal(const unsigned char dk[AUDIT_DATAKEYBYTES], const char *dk_id,
    int64_t seq, const void *plain, size_t len, unsigned char **out,
    size_t *outlen)
{
	unsigned char		 ad[SEAL_ADBYTES], *buf, *nonce;
	unsigned long long	 clen = 0;

	if (out == NULL || outlen == NULL)
		return -1;
	*out = NULL;
	*outlen = 0;
	if (dk == NULL || dk_id == NULL || strlen(dk_id) != AUDIT_KEYID_LEN ||
	    !valid_key_id(dk_id, AUDIT_KEYID_LEN) || len > AUDIT_SEAL_MAX ||
	    (plain == NULL && len > 0))
		return -1;
	if ((buf = malloc(len + AUDIT_SEAL_OVERHEAD)) == NULL)
		return -1;
	buf[0] = SEAL_VERSION;
	put_be64(buf + 1, seq);
	memcpy(buf + 1 + 8, dk_id, AUDIT_KEYID_LEN);
	nonce = buf + AUDIT_SEAL_HEADER;
	randombytes_buf(nonce, SEAL_NONCEBYTES);
	seal_ad(buf, ad);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(
	    nonce + SEAL_NONCEBYTES, &clen, plain, len, ad, sizeof(ad), NULL,
	    nonce, dk) != 0 || clen != len + SEAL_ABYTES) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = len + AUDIT_SEAL_OVERHEAD;
	return 0;
}

int
audit_unseal(const unsigned char dk[AUDIT_DATAKEYBYTES], const char *dk_id,
    int64_t seq, const unsigned char *sealed, size_t len, char **plain,
    size_t *plainlen)
{
	unsigned char		 ad[SEAL_ADBYTES], *buf;
	unsigned long long	 mlen = 0;
	const unsigned char	*nonce;
	char			 id[AUDIT_KEYID_LEN + 1];
	int64_t			 hseq;
	size_t			 max;

	if (plain == NULL || plainlen == NULL)
		return -1;
	*plain = NULL;
	*plainlen = 0;
	if (dk == NULL || dk_id == NULL ||
	    audit_sealed_header(sealed, len, &hseq, id) == -1 ||
	    len - AUDIT_SEAL_OVERHEAD > AUDIT_SEAL_MAX)
		return -1;
	/* The header must name this row and this key (the AD binds it). */
	if (hseq != seq || strcmp(id, dk_id) != 0)
		return -1;
	max = len - AUDIT_SEAL_OVERHEAD;
	if ((buf = malloc(max + 1)) == NULL)
		return -1;
	seal_ad(sealed, ad);
	nonce = sealed + AUDIT_SEAL_HEADER;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, &mlen, NULL,
	    nonce + SEAL_NONCEBYTES, len - AUDIT_SEAL_HEADER - SEAL_NONCEBYTES,
	    ad, sizeof(ad), nonce, dk) != 0 || mlen != max) {
		free(buf);
		return -1;
	}
	buf[max] = '\0';
	*plain = (char *)buf;
	*plainlen = max;
	return 0;
}

int
audit_sealed_header(const unsigned char *sealed, size_t len, int64_t *seq,
    char id[AUDIT_KEYID_LEN + 1])
{
	/* Nothing shorter than header, nonce and tag was ever sealed. */
	if (sealed == NULL || len < AUDIT_SEAL_OVERHEAD ||
	    sealed[0] != SEAL_VERSION ||
	    !valid_key_id((const char *)sealed + 1 + 8, AUDIT_KEYID_LEN))
		return -1;
	if (seq != NULL)
		*seq = get_be64(sealed + 1);
	if (id != NULL) {
		memcpy(id, sealed + 1 + 8, AUDIT_KEYID_LEN);
		id[AUDIT_KEYID_LEN] = '\0';
	}
	return 0;
}

#define HEAD_DOMAIN	"polrec-head-v1"
#define HEAD_MSGBYTES	(sizeof(HEAD_DOMAIN) + 4 * 8 + AUDIT_HASHBYTES)

static void
head_message(const struct audit_head_seal *hs,
    unsigned char msg[HEAD_MSGBYTES])
{
	unsigned char	*p = msg;

	memcpy(p, HEAD_DOMAIN, sizeof(HEAD_DOMAIN));
	p += sizeof(HEAD_DOMAIN);
	put_be64(p, hs->seq);
	put_be64(p + 8, hs->utc_us);
	put_be64(p + 16, hs->checkpoints);
	put_be64(p + 24, hs->last_checkpoint_seq);
	memcpy(p + 32, hs->head, AUDIT_HASHBYTES);
}

int
audit_head_sign(struct audit_head_seal *hs,
    const unsigned char sk[AUDIT_SIGN_SECRETBYTES])
{
	unsigned char	 msg[HEAD_MSGBYTES];

	if (hs == NULL || sk == NULL)
		return -1;
	head_message(hs, msg);
	return sign_message(msg, sizeof(msg), sk, hs->sig, hs->key_id);
}

int
audit_head_verify(const struct audit_head_seal *hs,
    const unsigned char pk[AUDIT_SIGN_PUBBYTES])
{
	unsigned char	 msg[HEAD_MSGBYTES];

	if (hs == NULL || pk == NULL)
		return -1;
	head_message(hs, msg);
	return verify_message(msg, sizeof(msg), hs->sig, hs->key_id, pk);
}
