/*
 * libFuzzer harness: a TSA's reply into tsa_reply_parse(), a stored
 * token into tsa_token_parse() and tsa_token_verify().
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "tsa.h"

/* Seeds were made for this nonce and this checkpoint's digest. */
#define FUZZ_NONCE	0x1122334455667788ULL
#define FUZZ_SEQ	7

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * A CA and a TSA made at start-up (no key in the tree): seeds stamped by
 * an earlier run's TSA reach the signature check and fail there.
 */
static unsigned char	 fuzz_digest[TSA_DIGESTBYTES];
static char		 ca_file[PATH_MAX];
static EVP_PKEY		*ca_key, *tsa_key;
static X509		*ca_cert, *tsa_cert;

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1)
		abort();
	X509_EXTENSION_free(ext);
}

static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey)
{
	X509	*x;

	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 2) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ?
	    issuer : x)) != 1)
		abort();
	if (issuer == NULL) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign");
	} else {
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		add_ext(x, issuer, NID_ext_key_usage, "critical,timeStamping");
	}
	if (X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) <= 0)
		abort();
	return x;
}

/* A reply from the in-process TSA to a query for digest and FUZZ_NONCE. */
static unsigned char *
make_reply(const EVP_MD *md, size_t *len)
{
	TS_RESP_CTX		*ctx;
	TS_RESP			*resp;
	TS_REQ			*req;
	ASN1_INTEGER		*n;
	ASN1_OBJECT		*policy;
	BIO			*bio;
	const unsigned char	*p;
	unsigned char		*der, *out = NULL;
	uint64_t		 nonce;
	size_t			 dlen;
	int			 olen;

	if (tsa_request_new(fuzz_digest, &nonce, &der, &dlen, NULL, 0) != 0)
		abort();
	p = der;
	if ((req = d2i_TS_REQ(NULL, &p, (long)dlen)) == NULL ||
	    (n = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(n, FUZZ_NONCE) != 1 ||
	    TS_REQ_set_nonce(req, n) != 1 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    i2d_TS_REQ_bio(bio, req) != 1)
		abort();
	if ((ctx = TS_RESP_CTX_new()) == NULL ||
	    (policy = OBJ_txt2obj("1.2.3.4.1", 1)) == NULL ||
	    TS_RESP_CTX_set_signer_cert(ctx, tsa_cert) != 1 ||
	    TS_RESP_CTX_set_signer_key(ctx, tsa_key) != 1 ||
	    TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_set_def_policy(ctx, policy) != 1 ||
	    TS_RESP_CTX_add_md(ctx, md) != 1 ||
	    TS_RESP_CTX_set_accuracy(ctx, 1, 0, 0) != 1 ||
	    TS_RESP_CTX_set_clock_precision_digits(ctx, 6) != 1)
		abort();
	TS_RESP_CTX_add_flags(ctx, TS_TSA_NAME);
	if ((resp = TS_RESP_create_response(ctx, bio)) == NULL ||
	    (olen = i2d_TS_RESP(resp, &out)) <= 0)
		abort();
	*len = (size_t)olen;
	TS_RESP_free(resp);
	TS_RESP_CTX_free(ctx);
	ASN1_OBJECT_free(policy);
	BIO_free(bio);
	ASN1_INTEGER_free(n);
	TS_REQ_free(req);
	free(der);
	return out;
}

static void
write_seed(const char *dir, const char *name, const unsigned char *p,
    size_t len)
{
	char	 path[PATH_MAX];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(p, 1, len, fp) != len || fclose(fp) != 0)
		abort();
}

/*
 * FUZZ_TSA_SEEDS=DIR: write seeds (granted and rejected replies, a
 * token) for FUZZ_NONCE and the fuzz digest into DIR, once.
 */
static void
make_seeds(const char *dir)
{
	unsigned char	*reply, *token;
	size_t		 len, tlen;
	int64_t		 us;
	char		 err[256];

	reply = make_reply(EVP_sha256(), &len);
	write_seed(dir, "reply-granted", reply, len);
	if (tsa_reply_parse(reply, len, fuzz_digest, FUZZ_NONCE, &token,
	    &tlen, &us, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_tsa: own reply: %s\n", err);
		abort();
	}
	write_seed(dir, "token", token, tlen);
	free(token);
	OPENSSL_free(reply);
	reply = make_reply(EVP_sha512(), &len);
	write_seed(dir, "reply-rejected", reply, len);
	OPENSSL_free(reply);
}

static void
remove_ca_file(void)
{
	unlink(ca_file);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct audit_checkpoint	 cp;
	const char		*seeds;
	FILE			*fp;
	int			 fd;

	(void)argc;
	(void)argv;
	memset(&cp, 0, sizeof(cp));
	cp.seq = FUZZ_SEQ;
	cp.utc_us = 1700000000000000LL;
	memset(cp.head, 0x5a, sizeof(cp.head));
	if (tsa_digest(&cp, fuzz_digest) != 0)
		abort();
	if ((ca_key = EVP_EC_gen("P-256")) == NULL ||
	    (tsa_key = EVP_EC_gen("P-256")) == NULL)
		abort();
	ca_cert = make_cert(ca_key, "fuzz CA", NULL, NULL);
	tsa_cert = make_cert(tsa_key, "fuzz TSA", ca_cert, ca_key);
	snprintf(ca_file, sizeof(ca_file), "/tmp/fuzz_tsa.XXXXXX");
	if ((fd = mkstemp(ca_file)) == -1 || (fp = fdopen(fd, "w")) == NULL ||
	    PEM_write_X509(fp, ca_cert) != 1 || fclose(fp) != 0)
		abort();
	atexit(remove_ca_file);
	if ((seeds = getenv("FUZZ_TSA_SEEDS")) != NULL)
		make_seeds(seeds);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*token = NULL, got[TSA_DIGESTBYTES];
	size_t		 tlen = 0;
	int64_t		 us = 0, us2 = 0;
	char		 err[128];

	/* The input as a reply. */
	err[0] = '\0';
	if (tsa_reply_parse(data, size, fuzz_digest, FUZZ_NONCE, &token,
	    &tlen, &us, err, sizeof(err)) == 0) {
		/* What it returned must read back as the same token. */
		if (token == NULL || tlen == 0 || tsa_token_parse(token, tlen,
		    got, &us2, err, sizeof(err)) != 0 || us2 != us ||
		    memcmp(got, fuzz_digest, sizeof(got)) != 0)
			abort();
		(void)tsa_token_verify(token, tlen, fuzz_digest, ca_file, &us2,
		    err, sizeof(err));
		free(token);
	} else if (token != NULL || tlen != 0 || us != 0 || err[0] == '\0' ||
	    memchr(err, '\0', sizeof(err)) == NULL)
		abort();

	/* The input as a stored token. */
	err[0] = '\0';
	if (tsa_token_parse(data, size, got, &us, err, sizeof(err)) == 0) {
		if (tsa_token_verify(data, size, got, ca_file, &us2, err,
		    sizeof(err)) == 0 && us2 != us)
			abort();
	} else if (err[0] == '\0')
		abort();
	return 0;
}
