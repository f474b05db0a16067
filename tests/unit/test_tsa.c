/* Unit tests for RFC 3161 time stamps of checkpoints (lib/tsa.c). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include <sqlite3.h>

#include "audit.h"
#include "db.h"
#include "tsa.h"
#include "trail.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define POLICY		"1.3.6.1.4.1.55555.1.1"
/* The TSA's clock, and its certificate's life around it (in the past). */
#define STAMP_SEC	1700000000L
#define STAMP_USEC	123456L
#define CERT_FROM	(STAMP_SEC - 86400 * 30)
#define CERT_UNTIL	(STAMP_SEC + 86400 * 30)

/*
 * A CA, a TSA certificate it issued and another CA, made at start-up
 * (no key in the tree); their PEM files in a temporary directory.
 */
static EVP_PKEY	*ca_key, *tsa_key, *other_key;
static X509	*ca_cert, *tsa_cert, *other_cert;
static char	 dir[] = "/tmp/test_tsa.XXXXXX";
static char	 ca_file[PATH_MAX], other_file[PATH_MAX], junk_file[PATH_MAX];

struct responder {
	const EVP_MD	*md;		/* NULL: SHA-256 */
	long		 sec, usec;	/* 0: STAMP_SEC, STAMP_USEC */
	int		 digits;	/* clock precision, -1: none */
	int		 no_nonce;	/* strip the nonce from the request */
};

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value));
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* issuer NULL: self-signed CA. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    long serial, long from, long until)
{
	X509	*x;

	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial),
	    1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), from));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), until));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x),
	    "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(
	    issuer != NULL ? issuer : x)), 1);
	add_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier,
	    "hash");
	if (issuer == NULL) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_authority_key_identifier, "keyid");
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		add_ext(x, issuer, NID_ext_key_usage, "critical,timeStamping");
	}
	assert_true(X509_sign(x, issuer != NULL ? ikey : key,
	    EVP_sha256()) > 0);
	return x;
}

static void
write_pem(const char *path, X509 *x)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_X509(fp, x), 1);
	assert_int_equal(fclose(fp), 0);
}

static int
group_setup(void **state)
{
	FILE	*fp;

	(void)state;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return -1;
	if ((ca_key = EVP_EC_gen("P-256")) == NULL ||
	    (tsa_key = EVP_EC_gen("P-256")) == NULL ||
	    (other_key = EVP_EC_gen("P-256")) == NULL)
		return -1;
	ca_cert = make_cert(ca_key, "polrec test CA", NULL, NULL, 1,
	    CERT_FROM - 86400, STAMP_SEC + 86400L * 3650);
	tsa_cert = make_cert(tsa_key, "polrec test TSA", ca_cert, ca_key, 2,
	    CERT_FROM, CERT_UNTIL);
	/* The same name: only the key tells them apart. */
	other_cert = make_cert(other_key, "polrec test CA", NULL, NULL, 1,
	    CERT_FROM - 86400, STAMP_SEC + 86400L * 3650);
	snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", dir);
	snprintf(other_file, sizeof(other_file), "%s/other.pem", dir);
	snprintf(junk_file, sizeof(junk_file), "%s/junk.pem", dir);
	write_pem(ca_file, ca_cert);
	write_pem(other_file, other_cert);
	if ((fp = fopen(junk_file, "w")) == NULL)
		return -1;
	fputs("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    fp);
	fclose(fp);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	unlink(ca_file);
	unlink(other_file);
	unlink(junk_file);
	rmdir(dir);
	X509_free(ca_cert);
	X509_free(tsa_cert);
	X509_free(other_cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(tsa_key);
	EVP_PKEY_free(other_key);
	return 0;
}

static int
fixed_time(TS_RESP_CTX *ctx, void *arg, long *sec, long *usec)
{
	const struct responder	*r = arg;

	(void)ctx;
	*sec = r->sec != 0 ? r->sec : STAMP_SEC;
	*usec = r->sec != 0 ? r->usec : STAMP_USEC;
	return 1;
}

/* An in-process TSA, as OpenSSL's `ts -reply` would answer. */
static void
respond(const struct responder *r, const unsigned char *req, size_t reqlen,
    unsigned char **out, size_t *outlen)
{
	TS_RESP_CTX	*ctx;
	TS_RESP		*resp;
	TS_REQ		*tq, *bare;
	ASN1_OBJECT	*policy;
	BIO		*bio;
	const unsigned char *p = req;
	unsigned char	*der = NULL;
	int		 n;

	if (r->no_nonce) {
		/* The same request without its nonce. */
		assert_non_null(tq = d2i_TS_REQ(NULL, &p, (long)reqlen));
		assert_non_null(bare = TS_REQ_new());
		assert_int_equal(TS_REQ_set_version(bare, 1), 1);
		assert_int_equal(TS_REQ_set_msg_imprint(bare,
		    TS_REQ_get_msg_imprint(tq)), 1);
		assert_int_equal(TS_REQ_set_cert_req(bare, 1), 1);
		assert_non_null(bio = BIO_new(BIO_s_mem()));
		assert_int_equal(i2d_TS_REQ_bio(bio, bare), 1);
		TS_REQ_free(bare);
		TS_REQ_free(tq);
	} else
		assert_non_null(bio = BIO_new_mem_buf(req, (int)reqlen));
	assert_non_null(ctx = TS_RESP_CTX_new());
	assert_int_equal(TS_RESP_CTX_set_signer_cert(ctx, tsa_cert), 1);
	assert_int_equal(TS_RESP_CTX_set_signer_key(ctx, tsa_key), 1);
	assert_int_equal(TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()), 1);
	assert_int_equal(TS_RESP_CTX_set_ess_cert_id_digest(ctx,
	    EVP_sha256()), 1);
	assert_non_null(policy = OBJ_txt2obj(POLICY, 1));
	assert_int_equal(TS_RESP_CTX_set_def_policy(ctx, policy), 1);
	ASN1_OBJECT_free(policy);
	assert_int_equal(TS_RESP_CTX_add_md(ctx, r->md != NULL ? r->md :
	    EVP_sha256()), 1);
	assert_int_equal(TS_RESP_CTX_set_accuracy(ctx, 1, 0, 0), 1);
	if (r->digits >= 0)
		assert_int_equal(TS_RESP_CTX_set_clock_precision_digits(ctx,
		    r->digits != 0 ? r->digits : 6), 1);
	TS_RESP_CTX_set_time_cb(ctx, fixed_time, (void *)(uintptr_t)r);
	TS_RESP_CTX_add_flags(ctx, TS_TSA_NAME);
	assert_non_null(resp = TS_RESP_create_response(ctx, bio));
	assert_true((n = i2d_TS_RESP(resp, &der)) > 0);
	assert_non_null(*out = malloc((size_t)n));
	memcpy(*out, der, (size_t)n);
	*outlen = (size_t)n;
	OPENSSL_free(der);
	TS_RESP_free(resp);
	TS_RESP_CTX_free(ctx);
	BIO_free(bio);
}

static void
some_digest(unsigned char d[TSA_DIGESTBYTES], int64_t seq)
{
	struct audit_checkpoint	 cp;

	memset(&cp, 0, sizeof(cp));
	cp.seq = seq;
	cp.utc_us = 1700000000000000LL + seq;
	memset(cp.head, 0xab, sizeof(cp.head));
	assert_int_equal(tsa_digest(&cp, d), 0);
}

/* A granted reply for digest: its nonce in *nonce. */
static void
granted(const struct responder *r, const unsigned char *digest,
    uint64_t *nonce, unsigned char **reply, size_t *replylen)
{
	unsigned char	*req;
	size_t		 reqlen;
	char		 err[256];

	assert_int_equal(tsa_request_new(digest, nonce, &req, &reqlen, err,
	    sizeof(err)), 0);
	respond(r, req, reqlen, reply, replylen);
	free(req);
}

/* A reply for digest, parsed: the token. */
static void
stamp(const unsigned char *digest, unsigned char **token, size_t *len)
{
	struct responder r = { 0 };
	unsigned char	*reply;
	size_t		 replylen;
	uint64_t	 nonce;
	int64_t		 us;
	char		 err[256];

	granted(&r, digest, &nonce, &reply, &replylen);
	if (tsa_reply_parse(reply, replylen, digest, nonce, token, len, &us,
	    err, sizeof(err)) != 0)
		fail_msg("%s", err);
	free(reply);
}

static void
test_digest(void **state)
{
	struct audit_checkpoint	 cp;
	unsigned char		 msg[AUDIT_CHECKPOINT_MSGBYTES];
	unsigned char		 d[TSA_DIGESTBYTES], want[TSA_DIGESTBYTES];
	unsigned int		 n;

	(void)state;
	memset(&cp, 0, sizeof(cp));
	cp.seq = 42;
	cp.utc_us = 1700000000123456LL;
	memset(cp.head, 7, sizeof(cp.head));
	audit_checkpoint_message(&cp, msg);
	assert_memory_equal(msg, "polrec-checkpoint-v1", 21);
	assert_int_equal(msg[21 + 7], 42);
	assert_int_equal(EVP_Digest(msg, sizeof(msg), want, &n, EVP_sha256(),
	    NULL), 1);
	assert_int_equal(tsa_digest(&cp, d), 0);
	assert_memory_equal(d, want, sizeof(d));
	/* The signature fields are not part of it; seq is. */
	memset(cp.sig, 1, sizeof(cp.sig));
	assert_int_equal(tsa_digest(&cp, d), 0);
	assert_memory_equal(d, want, sizeof(d));
	cp.seq = 43;
	assert_int_equal(tsa_digest(&cp, d), 0);
	assert_memory_not_equal(d, want, sizeof(d));
	assert_int_equal(tsa_digest(NULL, d), -1);
}

static void
test_request(void **state)
{
	unsigned char		 d[TSA_DIGESTBYTES], *der, *der2;
	const unsigned char	*p;
	size_t			 len, len2;
	uint64_t		 nonce, nonce2, got;
	TS_REQ			*req;
	TS_MSG_IMPRINT		*mi;
	X509_ALGOR		*alg;
	const ASN1_OBJECT	*oid;
	char			 err[256];

	(void)state;
	some_digest(d, 1);
	assert_int_equal(tsa_request_new(d, &nonce, &der, &len, err,
	    sizeof(err)), 0);
	p = der;
	assert_non_null(req = d2i_TS_REQ(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	assert_int_equal(TS_REQ_get_version(req), 1);
	assert_int_equal(TS_REQ_get_cert_req(req), 1);
	assert_int_equal(ASN1_INTEGER_get_uint64(&got, TS_REQ_get_nonce(req)),
	    1);
	assert_true(got == nonce);
	mi = TS_REQ_get_msg_imprint(req);
	alg = TS_MSG_IMPRINT_get_algo(mi);
	X509_ALGOR_get0(&oid, NULL, NULL, alg);
	assert_int_equal(OBJ_obj2nid(oid), NID_sha256);
	assert_int_equal(ASN1_STRING_length(TS_MSG_IMPRINT_get_msg(mi)), 32);
	assert_memory_equal(ASN1_STRING_get0_data(TS_MSG_IMPRINT_get_msg(mi)),
	    d, 32);
	assert_null(TS_REQ_get_policy_id(req));
	TS_REQ_free(req);

	/* A fresh nonce each time. */
	assert_int_equal(tsa_request_new(d, &nonce2, &der2, &len2, err,
	    sizeof(err)), 0);
	assert_true(nonce != nonce2);
	free(der2);
	free(der);
	assert_int_equal(tsa_request_new(NULL, &nonce, &der, &len, err,
	    sizeof(err)), -1);
}

static void
test_round_trip(void **state)
{
	struct responder r = { 0 };
	unsigned char	 d[TSA_DIGESTBYTES], got[TSA_DIGESTBYTES];
	unsigned char	*reply, *token;
	size_t		 replylen, tokenlen;
	uint64_t	 nonce;
	int64_t		 us, us2, us3;
	char		 err[256];

	(void)state;
	some_digest(d, 2);
	granted(&r, d, &nonce, &reply, &replylen);
	if (tsa_reply_parse(reply, replylen, d, nonce, &token, &tokenlen,
	    &us, err, sizeof(err)) != 0)
		fail_msg("reply: %s", err);
	assert_true(us == STAMP_SEC * 1000000LL + STAMP_USEC);
	assert_true(tokenlen > 0 && tokenlen < replylen);

	assert_int_equal(tsa_token_parse(token, tokenlen, got, &us2, err,
	    sizeof(err)), 0);
	assert_memory_equal(got, d, sizeof(d));
	assert_true(us2 == us);

	/* Valid at genTime, though the TSA's certificate expired since. */
	if (tsa_token_verify(token, tokenlen, d, ca_file, &us3, err,
	    sizeof(err)) != 0)
		fail_msg("verify: %s", err);
	assert_true(us3 == us);
	free(token);
	free(reply);
}

/* genTime with no fraction, with three digits, and a leap year's day. */
static void
test_gen_time(void **state)
{
	static const struct {
		long	 sec, usec;
		int	 digits;
		int64_t	 want;
	} cases[] = {
		{ 1700000000L, 999999L, -1, 1700000000000000LL },
		{ 1700000000L, 654321L, 3, 1700000000654000LL },
		{ 1709208000L, 1L, 6, 1709208000000001LL },	/* 2024-02-29 */
		{ 1700000000L, 500000L, 1, 1700000000500000LL },
	};
	struct responder r = { 0 };
	unsigned char	 d[TSA_DIGESTBYTES], *reply, *token;
	size_t		 i, replylen, tokenlen;
	uint64_t	 nonce;
	int64_t		 us;
	char		 err[256];

	(void)state;
	some_digest(d, 3);
	for (i = 0; i < NELEM(cases); i++) {
		r.sec = cases[i].sec;
		r.usec = cases[i].usec;
		r.digits = cases[i].digits;
		granted(&r, d, &nonce, &reply, &replylen);
		if (tsa_reply_parse(reply, replylen, d, nonce, &token,
		    &tokenlen, &us, err, sizeof(err)) != 0)
			fail_msg("case %zu: %s", i, err);
		if (us != cases[i].want)
			fail_msg("case %zu: %lld, want %lld", i, (long long)us,
			    (long long)cases[i].want);
		free(token);
		free(reply);
	}
}

static void
test_wrong_digest_nonce(void **state)
{
	struct responder r = { 0 };
	unsigned char	 d[TSA_DIGESTBYTES], d2[TSA_DIGESTBYTES];
	unsigned char	*reply, *token = (unsigned char *)"x";
	size_t		 replylen, tokenlen = 1;
	uint64_t	 nonce;
	int64_t		 us = 1;
	char		 err[256];

	(void)state;
	some_digest(d, 4);
	some_digest(d2, 5);
	granted(&r, d, &nonce, &reply, &replylen);
	assert_int_equal(tsa_reply_parse(reply, replylen, d2, nonce, &token,
	    &tokenlen, &us, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "imprint"));
	assert_null(token);
	assert_int_equal(tokenlen, 0);
	assert_true(us == 0);
	assert_int_equal(tsa_reply_parse(reply, replylen, d, nonce + 1,
	    &token, &tokenlen, &us, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nonce"));
	assert_null(token);
	free(reply);

	/* A TSA that leaves the nonce out is refused too. */
	r.no_nonce = 1;
	granted(&r, d, &nonce, &reply, &replylen);
	assert_int_equal(tsa_reply_parse(reply, replylen, d, nonce, &token,
	    &tokenlen, &us, err, sizeof(err)), -1);
	assert_string_equal(err, "time stamp token: no nonce");
	free(reply);
}

/* A TSA without SHA-256 answers rejection, badAlg. */
static void
test_rejection(void **state)
{
	struct responder r = { .md = NULL };
	unsigned char	 d[TSA_DIGESTBYTES], *reply, *token, *der = NULL;
	size_t		 replylen, tokenlen;
	uint64_t	 nonce;
	int64_t		 us;
	TS_RESP		*resp;
	TS_STATUS_INFO	*si;
	char		 err[256];
	int		 n;

	(void)state;
	r.md = EVP_sha512();
	some_digest(d, 6);
	granted(&r, d, &nonce, &reply, &replylen);
	assert_int_equal(tsa_reply_parse(reply, replylen, d, nonce, &token,
	    &tokenlen, &us, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "status 2 (rejection), badAlg"));
	assert_null(token);
	free(reply);

	/* waiting, and a status no RFC names */
	assert_non_null(resp = TS_RESP_new());
	assert_non_null(si = TS_STATUS_INFO_new());
	assert_int_equal(TS_STATUS_INFO_set_status(si, TS_STATUS_WAITING), 1);
	assert_int_equal(TS_RESP_set_status_info(resp, si), 1);
	assert_true((n = i2d_TS_RESP(resp, &der)) > 0);
	assert_int_equal(tsa_reply_parse(der, (size_t)n, d, nonce, &token,
	    &tokenlen, &us, err, sizeof(err)), -1);
	assert_string_equal(err, "time stamp refused: status 3 (waiting)");
	OPENSSL_free(der);
	der = NULL;
	assert_int_equal(TS_STATUS_INFO_set_status(si, 77), 1);
	assert_int_equal(TS_RESP_set_status_info(resp, si), 1);
	assert_true((n = i2d_TS_RESP(resp, &der)) > 0);
	assert_int_equal(tsa_reply_parse(der, (size_t)n, d, nonce, &token,
	    &tokenlen, &us, err, sizeof(err)), -1);
	assert_string_equal(err, "time stamp refused: status 77 (unknown)");
	OPENSSL_free(der);
	TS_STATUS_INFO_free(si);
	TS_RESP_free(resp);
}

/* grantedWithMods is a grant; the token must still match. */
static void
test_granted_with_mods(void **state)
{
	struct responder r = { 0 };
	unsigned char	 d[TSA_DIGESTBYTES], *reply, *token, *der = NULL;
	const unsigned char *p;
	size_t		 replylen, tokenlen;
	uint64_t	 nonce;
	int64_t		 us;
	TS_RESP		*resp;
	char		 err[256];
	int		 n;

	(void)state;
	some_digest(d, 12);
	granted(&r, d, &nonce, &reply, &replylen);
	p = reply;
	assert_non_null(resp = d2i_TS_RESP(NULL, &p, (long)replylen));
	assert_int_equal(TS_STATUS_INFO_set_status(TS_RESP_get_status_info(
	    resp), TS_STATUS_GRANTED_WITH_MODS), 1);
	assert_true((n = i2d_TS_RESP(resp, &der)) > 0);
	if (tsa_reply_parse(der, (size_t)n, d, nonce, &token, &tokenlen, &us,
	    err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(tsa_token_verify(token, tokenlen, d, ca_file, &us,
	    err, sizeof(err)), 0);
	free(token);
	OPENSSL_free(der);
	TS_RESP_free(resp);
	free(reply);
}

static void
test_garbage_reply(void **state)
{
	struct responder r = { 0 };
	unsigned char	 d[TSA_DIGESTBYTES], *reply, *token, *longer, junk[512];
	unsigned char	*req;
	size_t		 replylen, tokenlen, reqlen, i;
	uint64_t	 nonce;
	int64_t		 us;
	char		 err[256];

	(void)state;
	some_digest(d, 7);
	granted(&r, d, &nonce, &reply, &replylen);
	/* Every truncation. */
	for (i = 0; i < replylen; i++) {
		err[0] = '\0';
		assert_int_equal(tsa_reply_parse(reply, i, d, nonce, &token,
		    &tokenlen, &us, err, sizeof(err)), -1);
		assert_null(token);
		assert_true(err[0] != '\0');
	}
	/* Bytes after it. */
	assert_non_null(longer = malloc(replylen + 1));
	memcpy(longer, reply, replylen);
	longer[replylen] = 0;
	assert_int_equal(tsa_reply_parse(longer, replylen + 1, d, nonce,
	    &token, &tokenlen, &us, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "after"));
	free(longer);
	/* Random bytes, and a SEQUENCE of them. */
	randombytes_buf(junk, sizeof(junk));
	assert_int_equal(tsa_reply_parse(junk, sizeof(junk), d, nonce,
	    &token, &tokenlen, &us, err, sizeof(err)), -1);
	junk[0] = 0x30;
	junk[1] = 0x82;
	junk[2] = 0x01;
	junk[3] = 0xfc;
	assert_int_equal(tsa_reply_parse(junk, sizeof(junk), d, nonce,
	    &token, &tokenlen, &us, err, sizeof(err)), -1);
	/* A request is not a reply; nor is nothing, or too much. */
	assert_int_equal(tsa_request_new(d, &nonce, &req, &reqlen, err,
	    sizeof(err)), 0);
	assert_int_equal(tsa_reply_parse(req, reqlen, d, nonce, &token,
	    &tokenlen, &us, err, sizeof(err)), -1);
	free(req);
	assert_int_equal(tsa_reply_parse(NULL, 0, d, nonce, &token,
	    &tokenlen, &us, err, sizeof(err)), -1);
	assert_int_equal(tsa_reply_parse(reply, TSA_DER_MAX + 1, d, nonce,
	    &token, &tokenlen, &us, err, sizeof(err)), -1);
	/* No err buffer is fine. */
	assert_int_equal(tsa_reply_parse(reply, 10, d, nonce, &token,
	    &tokenlen, &us, NULL, 0), -1);
	free(reply);
}

static void
test_verify(void **state)
{
	unsigned char	 d[TSA_DIGESTBYTES], d2[TSA_DIGESTBYTES], *token;
	unsigned char	 got[TSA_DIGESTBYTES], *p;
	size_t		 tokenlen, i;
	int64_t		 us = 1;
	char		 err[256];

	(void)state;
	some_digest(d, 8);
	some_digest(d2, 9);
	stamp(d, &token, &tokenlen);
	assert_int_equal(tsa_token_verify(token, tokenlen, d, ca_file, &us,
	    err, sizeof(err)), 0);

	/* Another CA, even of the same name. */
	assert_int_equal(tsa_token_verify(token, tokenlen, d, other_file, &us,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not verify"));
	assert_true(us == 0);
	/* Another digest. */
	assert_int_equal(tsa_token_verify(token, tokenlen, d2, ca_file, &us,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "imprint"));
	/* No CA file, or a broken one. */
	assert_int_equal(tsa_token_verify(token, tokenlen, d, "/nonexistent",
	    &us, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot load"));
	assert_int_equal(tsa_token_verify(token, tokenlen, d, junk_file, &us,
	    err, sizeof(err)), -1);
	/* Every truncation, and a flipped bit in every byte. */
	for (i = 0; i < tokenlen; i++) {
		assert_int_equal(tsa_token_verify(token, i, d, ca_file, &us,
		    err, sizeof(err)), -1);
		assert_int_equal(tsa_token_parse(token, i, got, &us, err,
		    sizeof(err)), -1);
	}
	/*
	 * What the signature covers: genTime's digits, the signature itself
	 * (the last bytes).  CMS leaves some fields unsigned (versions,
	 * algorithm identifiers OpenSSL ignores), so not every byte.
	 */
	assert_non_null(p = memmem(token, tokenlen, "20231114", 8));
	for (i = 0; i < 14 + 7; i++) {
		p[i] ^= 0x01;
		if (tsa_token_verify(token, tokenlen, d, ca_file, &us, err,
		    sizeof(err)) == 0)
			fail_msg("genTime byte %zu flipped: verifies", i);
		p[i] ^= 0x01;
	}
	for (i = tokenlen - 8; i < tokenlen; i++) {
		token[i] ^= 0x01;
		assert_int_equal(tsa_token_verify(token, tokenlen, d, ca_file,
		    &us, err, sizeof(err)), -1);
		token[i] ^= 0x01;
	}
	assert_int_equal(tsa_token_verify(token, tokenlen, d, ca_file, &us,
	    err, sizeof(err)), 0);
	free(token);
}

/* A genTime outside the TSA certificate's life does not verify. */
static void
test_verify_expired(void **state)
{
	struct responder r = { 0 };
	unsigned char	 d[TSA_DIGESTBYTES], *reply, *token;
	size_t		 replylen, tokenlen;
	uint64_t	 nonce;
	int64_t		 us;
	char		 err[256];

	(void)state;
	some_digest(d, 10);
	r.sec = CERT_UNTIL + 60;
	granted(&r, d, &nonce, &reply, &replylen);
	assert_int_equal(tsa_reply_parse(reply, replylen, d, nonce, &token,
	    &tokenlen, &us, err, sizeof(err)), 0);
	assert_int_equal(tsa_token_verify(token, tokenlen, d, ca_file, &us,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expired"));
	free(token);
	free(reply);
}

static int
write_file(const char *path, const unsigned char *p, size_t len)
{
	FILE	*fp;

	if ((fp = fopen(path, "wb")) == NULL)
		return -1;
	if (fwrite(p, 1, len, fp) != len) {
		fclose(fp);
		return -1;
	}
	return fclose(fp) == 0 ? 0 : -1;
}

static unsigned char *
read_file(const char *path, size_t *len)
{
	FILE		*fp;
	unsigned char	*buf;

	assert_non_null(fp = fopen(path, "rb"));
	assert_non_null(buf = malloc(TSA_DER_MAX));
	*len = fread(buf, 1, TSA_DER_MAX, fp);
	fclose(fp);
	return buf;
}

/*
 * Against an independent implementation: the openssl CLI, as a TSA set
 * up by scripts/mk-test-tsa, answers our request; `openssl ts -verify`
 * accepts that reply for our query, and lib/tsa.c reads and verifies it.
 * Skipped when run from elsewhere than the top of the tree.
 */
static void
test_openssl_cli(void **state)
{
	unsigned char	 d[TSA_DIGESTBYTES], *req, *reply, *token;
	size_t		 reqlen, replylen, tokenlen;
	uint64_t	 nonce;
	int64_t		 us, us2;
	char		 cli[PATH_MAX], cmd[4 * PATH_MAX], err[256];

	(void)state;
	if (access("scripts/mk-test-tsa", X_OK) != 0)
		skip();
	snprintf(cli, sizeof(cli), "%s/cli", dir);
	snprintf(cmd, sizeof(cmd), "scripts/mk-test-tsa %s >/dev/null 2>&1",
	    cli);
	assert_int_equal(system(cmd), 0);
	some_digest(d, 11);
	assert_int_equal(tsa_request_new(d, &nonce, &req, &reqlen, err,
	    sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd), "%s/q.tsq", cli);
	assert_int_equal(write_file(cmd, req, reqlen), 0);
	snprintf(cmd, sizeof(cmd), "cd %s && openssl ts -reply -config "
	    "tsa.cnf -queryfile q.tsq -out r.tsr >/dev/null 2>&1 && "
	    "openssl ts -verify -in r.tsr -queryfile q.tsq -CAfile ca.pem "
	    ">/dev/null 2>&1", cli);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/r.tsr", cli);
	reply = read_file(cmd, &replylen);
	if (tsa_reply_parse(reply, replylen, d, nonce, &token, &tokenlen,
	    &us, err, sizeof(err)) != 0)
		fail_msg("reply: %s", err);
	snprintf(cmd, sizeof(cmd), "%s/ca.pem", cli);
	if (tsa_token_verify(token, tokenlen, d, cmd, &us2, err,
	    sizeof(err)) != 0)
		fail_msg("verify: %s", err);
	assert_true(us2 == us);
	/* Not with the in-process CA. */
	assert_int_equal(tsa_token_verify(token, tokenlen, d, ca_file, &us2,
	    err, sizeof(err)), -1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", cli);
	assert_int_equal(system(cmd), 0);
	free(token);
	free(reply);
	free(req);
}


/*
 * The trail's trusted time (lib/trail_tsa.c): tokens stored beside
 * checkpoints, verified by trail_verify against the CA.  Events are at
 * the TSA's clock; a stamp dated hours after its events is what a
 * history re-signed later would get.
 */
#define HOUR_US		(3600LL * 1000000)

struct stamped_trail {
	sqlite3			*db;
	struct trail		*t;
	struct trail_keys	 keys;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES];
	char			 path[PATH_MAX];
};

/* Ten events at `at`, a checkpoint, and a stamp dated `stamp_at` (0: none). */
static void
ten_and_stamp(struct stamped_trail *st, int64_t at, int64_t stamp_at)
{
	struct trail_event	 ev;
	struct audit_checkpoint	 cp;
	struct responder	 r = { 0 };
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES], digest[TSA_DIGESTBYTES];
	unsigned char		*reply, *token;
	size_t			 replylen, tokenlen;
	uint64_t		 nonce;
	int64_t			 gen;
	char			 err[256];
	int			 i;

	assert_int_equal(sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL), 0);
	for (i = 0; i < 10; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.utc_us = at + i;
		ev.kind = "invitation";
		ev.http_status = ev.latency_us = ev.attempts = -1;
		assert_int_equal(trail_append(st->t, &ev, NULL, err,
		    sizeof(err)), 0);
	}
	assert_int_equal(trail_checkpoint(st->t, at + 10, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL), 0);
	trail_committed(st->t);
	if (stamp_at == 0)
		return;
	assert_int_equal(trail_last_checkpoint(st->t, &cp, pk), 0);
	assert_int_equal(tsa_digest(&cp, digest), 0);
	r.sec = (long)(stamp_at / 1000000);
	r.usec = (long)(stamp_at % 1000000);
	granted(&r, digest, &nonce, &reply, &replylen);
	assert_int_equal(tsa_reply_parse(reply, replylen, digest, nonce,
	    &token, &tokenlen, &gen, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL), 0);
	assert_int_equal(trail_add_timestamp(st->t, cp.seq, gen, token,
	    tokenlen, err, sizeof(err)), 0);
	assert_int_equal(trail_seal(st->t, gen, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL), 0);
	trail_committed(st->t);
	free(reply);
	free(token);
}

static void
stamped_open(struct stamped_trail *st, const char *name)
{
	char	 err[256];

	memset(st, 0, sizeof(*st));
	snprintf(st->path, sizeof(st->path), "%s/%s", dir, name);
	assert_int_equal(db_open(st->path, &st->db, err, sizeof(err)), 0);
	crypto_sign_keypair(st->pk, st->keys.sign_sk);
	randombytes_buf(st->keys.auditor_pk, sizeof(st->keys.auditor_pk));
	assert_non_null(st->t = trail_open(st->db, &st->keys, err,
	    sizeof(err)));
}

static int
stamped_verify(struct stamped_trail *st, struct trail_report *r)
{
	struct trail_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.pinned_pk = st->pk;
	o.tsa_ca_file = ca_file;
	return trail_verify(st->db, &o, r);
}

static void
stamped_close(struct stamped_trail *st)
{
	char	 side[PATH_MAX + 8];

	trail_free(st->t);
	db_close(st->db);
	unlink(st->path);
	snprintf(side, sizeof(side), "%s-wal", st->path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", st->path);
	unlink(side);
}

static void
test_trail_time_stamps(void **state)
{
	struct stamped_trail	 st;
	struct trail_report	 r;
	const int64_t		 t0 = STAMP_SEC * 1000000LL;

	(void)state;
	/* Stamped within a second of the events: the trusted time. */
	stamped_open(&st, "good.db");
	ten_and_stamp(&st, t0, t0 + 1000000);
	ten_and_stamp(&st, t0 + 2000000, t0 + 3000000);
	if (stamped_verify(&st, &r) != 0)
		fail_msg("%s", r.problem);
	assert_int_equal(r.timestamps, 2);
	assert_int_equal(r.timestamp_last_gen_utc_us, t0 + 3000000);
	/* Removed, all of them: no trusted time at all. */
	assert_int_equal(sqlite3_exec(st.db, "DROP TRIGGER "
	    "audit_timestamp_no_delete; DELETE FROM audit_timestamp", NULL,
	    NULL, NULL), 0);
	assert_int_equal(stamped_verify(&st, &r), 1);
	assert_non_null(strstr(r.problem, "no time-stamped checkpoint"));
	stamped_close(&st);

	/* A stamp from hours after its events: history signed later. */
	stamped_open(&st, "late.db");
	ten_and_stamp(&st, t0, t0 + 1000000);
	ten_and_stamp(&st, t0 + 2000000, t0 + 2 * HOUR_US);
	assert_int_equal(stamped_verify(&st, &r), 1);
	assert_non_null(strstr(r.problem, "signed later"));
	stamped_close(&st);

	/* A checkpoint in the middle without a stamp near it. */
	stamped_open(&st, "gap.db");
	ten_and_stamp(&st, t0, t0 + 1000000);
	ten_and_stamp(&st, t0 + 3 * HOUR_US, 0);
	ten_and_stamp(&st, t0 + 6 * HOUR_US, t0 + 6 * HOUR_US + 1000000);
	assert_int_equal(stamped_verify(&st, &r), 1);
	assert_non_null(strstr(r.problem, "no time stamp within 3600 s"));
	stamped_close(&st);

	/* A checkpoint after the last stamp, hours later: not vouched. */
	stamped_open(&st, "tail.db");
	ten_and_stamp(&st, t0, t0 + 1000000);
	ten_and_stamp(&st, t0 + 3 * HOUR_US, 0);
	assert_int_equal(stamped_verify(&st, &r), 1);
	assert_non_null(strstr(r.problem, "no time stamp within"));
	stamped_close(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_gen_time),
		cmocka_unit_test(test_wrong_digest_nonce),
		cmocka_unit_test(test_rejection),
		cmocka_unit_test(test_granted_with_mods),
		cmocka_unit_test(test_garbage_reply),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_verify_expired),
		cmocka_unit_test(test_openssl_cli),
		cmocka_unit_test(test_trail_time_stamps),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
