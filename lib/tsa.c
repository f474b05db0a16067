/* RFC 3161 time stamp requests, replies and tokens for checkpoints. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "audit.h"
#include "tsa.h"

#define STATUS_TEXT_MAX	80	/* of the TSA's free text, in err */

static void	 set_err(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	 der_out(const unsigned char *, int, unsigned char **,
		    size_t *);
static int	 gen_time(const ASN1_GENERALIZEDTIME *, int64_t *);
static int	 tst_check(TS_TST_INFO *,
		    const unsigned char[TSA_DIGESTBYTES],
		    unsigned char[TSA_DIGESTBYTES], int64_t *, char *, size_t);
static void	 status_describe(const TS_STATUS_INFO *, long, char *,
		    size_t);
static PKCS7	*token_decode(const unsigned char *, size_t, char *, size_t);

/*
 * Every failure also clears OpenSSL's error queue: garbage from a peer
 * must not leave errors behind for the next, unrelated, caller.
 */
static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	ERR_clear_error();
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy what i2d_* made (OPENSSL_malloc'd) into malloc'd memory. */
static int
der_out(const unsigned char *der, int n, unsigned char **out, size_t *len)
{
	if (der == NULL || n <= 0 || (*out = malloc((size_t)n)) == NULL)
		return -1;
	memcpy(*out, der, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int
tsa_digest(const struct audit_checkpoint *cp,
    unsigned char out[TSA_DIGESTBYTES])
{
	unsigned char	 msg[AUDIT_CHECKPOINT_MSGBYTES];
	unsigned int	 n = 0;

	if (cp == NULL || out == NULL)
		return -1;
	audit_checkpoint_message(cp, msg);
	if (EVP_Digest(msg, sizeof(msg), out, &n, EVP_sha256(), NULL) != 1 ||
	    n != TSA_DIGESTBYTES) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int
tsa_request_new(const unsigned char digest[TSA_DIGESTBYTES], uint64_t *nonce,
    unsigned char **der, size_t *len, char *err, size_t errlen)
{
	TS_REQ		*req = NULL;
	TS_MSG_IMPRINT	*imprint = NULL;
	X509_ALGOR	*alg = NULL;
	ASN1_INTEGER	*n = NULL;
	unsigned char	*buf = NULL, md[TSA_DIGESTBYTES];
	int		 buflen, rv = -1;

	if (der == NULL || len == NULL || nonce == NULL || digest == NULL) {
		set_err(err, errlen, "time stamp request: no digest or output");
		return -1;
	}
	*der = NULL;
	*len = 0;
	if (RAND_bytes((unsigned char *)nonce, sizeof(*nonce)) != 1) {
		set_err(err, errlen, "time stamp request: no random nonce");
		return -1;
	}
	memcpy(md, digest, sizeof(md));	/* set_msg wants it writable */
	if ((req = TS_REQ_new()) == NULL ||
	    TS_REQ_set_version(req, 1) != 1 ||
	    (alg = X509_ALGOR_new()) == NULL ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL,
	    NULL) != 1 ||
	    (imprint = TS_MSG_IMPRINT_new()) == NULL ||
	    TS_MSG_IMPRINT_set_algo(imprint, alg) != 1 ||
	    TS_MSG_IMPRINT_set_msg(imprint, md, sizeof(md)) != 1 ||
	    TS_REQ_set_msg_imprint(req, imprint) != 1 ||
	    (n = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(n, *nonce) != 1 ||
	    TS_REQ_set_nonce(req, n) != 1 ||
	    TS_REQ_set_cert_req(req, 1) != 1 ||
	    (buflen = i2d_TS_REQ(req, &buf)) <= 0 ||
	    der_out(buf, buflen, der, len) == -1) {
		set_err(err, errlen, "time stamp request: cannot encode "
		    "(out of memory?)");
		goto done;
	}
	rv = 0;
 done:
	OPENSSL_free(buf);
	ASN1_INTEGER_free(n);
	TS_MSG_IMPRINT_free(imprint);
	X509_ALGOR_free(alg);
	TS_REQ_free(req);
	return rv;
}

/*
 * genTime to µs.  ASN1_TIME_to_tm checks the syntax (and skips a
 * fraction of a second, and applies an offset if any); the fraction is
 * read here, its first six digits.
 */
static int
gen_time(const ASN1_GENERALIZEDTIME *t, int64_t *us)
{
	const unsigned char	*s;
	struct tm		 tm;
	time_t			 secs;
	int64_t			 frac = 0;
	int			 i, n, digits = 0;

	/* ASN1_TIME_to_tm(NULL) would be the current time. */
	if (t == NULL || ASN1_STRING_type(t) != V_ASN1_GENERALIZEDTIME)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	s = ASN1_STRING_get0_data(t);
	n = ASN1_STRING_length(t);
	/* YYYYMMDDHHMMSS, then the fraction. */
	if (n > 15 && s[14] == '.')
		for (i = 15; i < n && isdigit(s[i]); i++)
			if (digits < 6) {
				frac = frac * 10 + (s[i] - '0');
				digits++;
			}
	for (; digits < 6; digits++)
		frac *= 10;
	/* Four-digit years: no overflow of a 64-bit time_t or of µs. */
	secs = timegm(&tm);
	*us = (int64_t)secs * 1000000 + frac;
	return 0;
}

/*
 * The TSTInfo's imprint must be SHA-256 (no parameters, or NULL) of 32
 * bytes; equal to want when want is not NULL, copied to got when got is
 * not NULL.  *us gets genTime.
 */
static int
tst_check(TS_TST_INFO *tst, const unsigned char want[TSA_DIGESTBYTES],
    unsigned char got[TSA_DIGESTBYTES], int64_t *us, char *err,
    size_t errlen)
{
	TS_MSG_IMPRINT		*imprint;
	X509_ALGOR		*alg;
	ASN1_OCTET_STRING	*msg;
	const ASN1_OBJECT	*oid;
	const void		*pval;
	int			 ptype;

	if ((imprint = TS_TST_INFO_get_msg_imprint(tst)) ==
	    NULL || (alg = TS_MSG_IMPRINT_get_algo(imprint)) == NULL ||
	    (msg = TS_MSG_IMPRINT_get_msg(imprint)) == NULL) {
		set_err(err, errlen, "time stamp token: no message imprint");
		return -1;
	}
	X509_ALGOR_get0(&oid, &ptype, &pval, alg);
	if (OBJ_obj2nid(oid) != NID_sha256 ||
	    (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)) {
		set_err(err, errlen, "time stamp token: imprint is not "
		    "SHA-256");
		return -1;
	}
	if (ASN1_STRING_length(msg) != TSA_DIGESTBYTES) {
		set_err(err, errlen, "time stamp token: imprint is not %d "
		    "bytes", TSA_DIGESTBYTES);
		return -1;
	}
	if (want != NULL && CRYPTO_memcmp(ASN1_STRING_get0_data(msg), want,
	    TSA_DIGESTBYTES) != 0) {
		set_err(err, errlen, "time stamp token: imprint is not this "
		    "checkpoint's digest");
		return -1;
	}
	if (got != NULL)
		memcpy(got, ASN1_STRING_get0_data(msg), TSA_DIGESTBYTES);
	if (gen_time(TS_TST_INFO_get_time(tst), us) == -1) {
		set_err(err, errlen, "time stamp token: genTime is not a "
		    "valid GeneralizedTime");
		return -1;
	}
	return 0;
}

/*
 * "status 2 (rejection), badAlg: text" from what the TSA said; its text
 * is untrusted, so only printable ASCII of it.
 */
static void
status_describe(const TS_STATUS_INFO *si, long status, char *err,
    size_t errlen)
{
	static const struct {
		int		 bit;
		const char	*name;
	} failures[] = {
		{ TS_INFO_BAD_ALG, "badAlg" },
		{ TS_INFO_BAD_REQUEST, "badRequest" },
		{ TS_INFO_BAD_DATA_FORMAT, "badDataFormat" },
		{ TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable" },
		{ TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy" },
		{ TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension" },
		{ TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable" },
		{ TS_INFO_SYSTEM_FAILURE, "systemFailure" },
	};
	static const char *const names[] = { "granted", "grantedWithMods",
	    "rejection", "waiting", "revocationWarning",
	    "revocationNotification" };
	const ASN1_BIT_STRING		*fi;
	const STACK_OF(ASN1_UTF8STRING)	*texts;
	const ASN1_UTF8STRING		*t;
	const unsigned char		*p;
	char				 fail[64] = "", text[STATUS_TEXT_MAX + 1];
	size_t				 i, j = 0;
	int				 k, n;

	fi = TS_STATUS_INFO_get0_failure_info(si);
	for (i = 0; fi != NULL && i < sizeof(failures) / sizeof(failures[0]);
	    i++)
		if (ASN1_BIT_STRING_get_bit(fi, failures[i].bit)) {
			snprintf(fail, sizeof(fail), ", %s", failures[i].name);
			break;
		}
	text[0] = '\0';
	texts = TS_STATUS_INFO_get0_text(si);
	if (texts != NULL && sk_ASN1_UTF8STRING_num(texts) > 0 &&
	    (t = sk_ASN1_UTF8STRING_value(texts, 0)) != NULL) {
		p = ASN1_STRING_get0_data(t);
		n = ASN1_STRING_length(t);
		for (k = 0; k < n && j < STATUS_TEXT_MAX; k++)
			text[j++] = p[k] >= 0x20 && p[k] < 0x7f ? p[k] : '?';
		text[j] = '\0';
	}
	set_err(err, errlen, "time stamp refused: status %ld (%s)%s%s%s",
	    status, status >= 0 && status < (long)(sizeof(names) /
	    sizeof(names[0])) ? names[status] : "unknown", fail,
	    text[0] != '\0' ? ": " : "", text);
}

int
tsa_reply_parse(const unsigned char *der, size_t len,
    const unsigned char digest[TSA_DIGESTBYTES], uint64_t nonce,
    unsigned char **token, size_t *tokenlen, int64_t *gen_time_us,
    char *err, size_t errlen)
{
	TS_RESP			*resp = NULL;
	TS_STATUS_INFO		*si;
	TS_TST_INFO		*tst;
	PKCS7			*p7;
	const ASN1_INTEGER	*n;
	const unsigned char	*p = der;
	unsigned char		*buf = NULL;
	uint64_t		 got;
	int64_t			 us;
	long			 status;
	int			 buflen, rv = -1;

	if (token == NULL || tokenlen == NULL || gen_time_us == NULL) {
		set_err(err, errlen, "time stamp reply: no output");
		return -1;
	}
	*token = NULL;
	*tokenlen = 0;
	*gen_time_us = 0;
	if (digest == NULL) {
		set_err(err, errlen, "time stamp reply: no digest");
		return -1;
	}
	if (der == NULL || len == 0 || len > TSA_DER_MAX) {
		set_err(err, errlen, "time stamp reply: empty or over %d "
		    "bytes", TSA_DER_MAX);
		return -1;
	}
	if ((resp = d2i_TS_RESP(NULL, &p, (long)len)) == NULL) {
		set_err(err, errlen, "time stamp reply: not a DER "
		    "TimeStampResp");
		goto done;
	}
	if (p != der + len) {
		set_err(err, errlen, "time stamp reply: %zu bytes after the "
		    "TimeStampResp", len - (size_t)(p - der));
		goto done;
	}
	if ((si = TS_RESP_get_status_info(resp)) == NULL ||
	    TS_STATUS_INFO_get0_status(si) == NULL) {
		set_err(err, errlen, "time stamp reply: no status");
		goto done;
	}
	status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	if (status != TS_STATUS_GRANTED &&
	    status != TS_STATUS_GRANTED_WITH_MODS) {
		status_describe(si, status, err, errlen);
		goto done;
	}
	if ((p7 = TS_RESP_get_token(resp)) == NULL ||
	    (tst = TS_RESP_get_tst_info(resp)) == NULL) {
		set_err(err, errlen, "time stamp reply: granted without a "
		    "token");
		goto done;
	}
	if (TS_TST_INFO_get_version(tst) != 1) {
		set_err(err, errlen, "time stamp token: not version 1");
		goto done;
	}
	if (tst_check(tst, digest, NULL, &us, err, errlen) == -1)
		goto done;
	/* A token for another request, or a replay, has another nonce. */
	if ((n = TS_TST_INFO_get_nonce(tst)) == NULL) {
		set_err(err, errlen, "time stamp token: no nonce");
		goto done;
	}
	if (ASN1_INTEGER_get_uint64(&got, n) != 1 || got != nonce) {
		set_err(err, errlen, "time stamp token: nonce is not the "
		    "request's");
		goto done;
	}
	if ((buflen = i2d_PKCS7(p7, &buf)) <= 0 ||
	    der_out(buf, buflen, token, tokenlen) == -1) {
		set_err(err, errlen, "time stamp token: cannot encode");
		goto done;
	}
	*gen_time_us = us;
	rv = 0;
 done:
	OPENSSL_free(buf);
	TS_RESP_free(resp);
	if (rv == -1)
		ERR_clear_error();
	return rv;
}

/* A token: a DER ContentInfo and nothing after it. */
static PKCS7 *
token_decode(const unsigned char *der, size_t len, char *err, size_t errlen)
{
	const unsigned char	*p = der;
	PKCS7			*p7;

	if (der == NULL || len == 0 || len > TSA_DER_MAX) {
		set_err(err, errlen, "time stamp token: empty or over %d "
		    "bytes", TSA_DER_MAX);
		return NULL;
	}
	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL) {
		set_err(err, errlen, "time stamp token: not a DER "
		    "ContentInfo");
		return NULL;
	}
	if (p != der + len) {
		set_err(err, errlen, "time stamp token: bytes after the "
		    "ContentInfo");
		PKCS7_free(p7);
		return NULL;
	}
	return p7;
}

int
tsa_token_parse(const unsigned char *der, size_t len,
    unsigned char digest[TSA_DIGESTBYTES], int64_t *gen_time_us, char *err,
    size_t errlen)
{
	PKCS7		*p7 = NULL;
	TS_TST_INFO	*tst = NULL;
	int		 rv = -1;

	if (digest == NULL || gen_time_us == NULL) {
		set_err(err, errlen, "time stamp token: no output");
		return -1;
	}
	memset(digest, 0, TSA_DIGESTBYTES);
	*gen_time_us = 0;
	if ((p7 = token_decode(der, len, err, errlen)) == NULL)
		goto done;
	if ((tst = PKCS7_to_TS_TST_INFO(p7)) == NULL) {
		set_err(err, errlen, "time stamp token: no TSTInfo in it");
		goto done;
	}
	if (tst_check(tst, NULL, digest, gen_time_us, err, errlen) == -1)
		goto done;
	rv = 0;
 done:
	if (rv == -1) {
		memset(digest, 0, TSA_DIGESTBYTES);
		*gen_time_us = 0;
		ERR_clear_error();
	}
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	return rv;
}

/*
 * OpenSSL 3.0's TS_VERIFY_CTX_set_store and _set_imprint hand their
 * argument to the context (TS_VERIFY_CTX_free frees both); the
 * set0_ names only arrived in 3.4.  So neither is freed here once set.
 */
int
tsa_token_verify(const unsigned char *der, size_t len,
    const unsigned char digest[TSA_DIGESTBYTES], const char *ca_file,
    int64_t *gen_time_us, char *err, size_t errlen)
{
	TS_VERIFY_CTX	*ctx = NULL;
	X509_STORE	*store = NULL;
	PKCS7		*p7 = NULL;
	TS_TST_INFO	*tst = NULL;
	unsigned char	*imprint = NULL;
	const char	*data = NULL, *reason;
	unsigned long	 e;
	int64_t		 us;
	char		 why[160];
	int		 flags = 0;
	int		 rv = -1;

	if (gen_time_us == NULL || digest == NULL || ca_file == NULL) {
		set_err(err, errlen, "time stamp token: no digest, CA file "
		    "or output");
		return -1;
	}
	*gen_time_us = 0;
	if ((p7 = token_decode(der, len, err, errlen)) == NULL)
		goto done;
	if ((tst = PKCS7_to_TS_TST_INFO(p7)) == NULL) {
		set_err(err, errlen, "time stamp token: no TSTInfo in it");
		goto done;
	}
	/* The imprint's algorithm too: TS_VFY_IMPRINT compares bytes. */
	if (tst_check(tst, digest, NULL, &us, err, errlen) == -1)
		goto done;

	if ((store = X509_STORE_new()) == NULL) {
		set_err(err, errlen, "time stamp token: out of memory");
		goto done;
	}
	if (X509_STORE_load_file(store, ca_file) != 1) {
		set_err(err, errlen, "%s: cannot load CA certificates",
		    ca_file);
		goto done;
	}
	/*
	 * The TSA's certificate must have been valid when it stamped, not
	 * necessarily now: auditors check years later.
	 */
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store),
	    (time_t)(us / 1000000));
	if ((ctx = TS_VERIFY_CTX_new()) == NULL ||
	    (imprint = OPENSSL_memdup(digest, TSA_DIGESTBYTES)) == NULL) {
		set_err(err, errlen, "time stamp token: out of memory");
		goto done;
	}
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE |
	    TS_VFY_IMPRINT | TS_VFY_SIGNER);
	TS_VERIFY_CTX_set_store(ctx, store);
	store = NULL;
	TS_VERIFY_CTX_set_imprint(ctx, imprint, TSA_DIGESTBYTES);
	imprint = NULL;
	if (TS_RESP_verify_token(ctx, p7) != 1) {
		/* "certificate verify error" comes with X509's reason. */
		e = ERR_peek_last_error_data(&data, &flags);
		if ((reason = ERR_reason_error_string(e)) == NULL)
			reason = "unknown reason";
		if (data != NULL && *data != '\0' && (flags & ERR_TXT_STRING))
			snprintf(why, sizeof(why), "%s (%s)", reason, data);
		else
			snprintf(why, sizeof(why), "%s", reason);
		set_err(err, errlen, "time stamp token does not verify: %s",
		    why);
		goto done;
	}
	*gen_time_us = us;
	rv = 0;
 done:
	TS_VERIFY_CTX_free(ctx);
	OPENSSL_free(imprint);
	X509_STORE_free(store);
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	if (rv == -1)
		ERR_clear_error();
	return rv;
}
