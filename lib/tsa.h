/*
 * RFC 3161 time stamps of audit checkpoints, as pure functions over DER
 * (OpenSSL's TS API; no sockets).  polrecd POSTs what tsa_request_new
 * makes to the TSA, keeps the token tsa_reply_parse extracts beside the
 * checkpoint, and `polrecctl audit verify` runs tsa_token_verify against
 * the TSA's CA certificate.
 *
 * The imprint is SHA-256 over the checkpoint's signed message
 * (audit_checkpoint_message): a token vouches that the signed statement
 * of the chain head existed at genTime.  Replies and tokens are
 * untrusted: every function refuses garbage with a message in err.
 * Times are µs since the epoch, UTC.  Buffers returned in *der and
 * *token are malloc'd: the caller free()s them.
 */
#ifndef POLREC_TSA_H
#define POLREC_TSA_H

#include <stddef.h>
#include <stdint.h>

struct audit_checkpoint;

#define TSA_DIGESTBYTES		32		/* SHA-256 */
#define TSA_DER_MAX		(256 * 1024)	/* a reply or a token */

/* SHA-256 of the checkpoint's signed message.  0 or -1. */
int	 tsa_digest(const struct audit_checkpoint *,
	    unsigned char out[TSA_DIGESTBYTES]);

/*
 * A DER TimeStampReq: version 1, digest as a SHA-256 imprint, a fresh
 * random 64-bit nonce (in *nonce, for tsa_reply_parse) and certReq TRUE,
 * so that the token carries the TSA's certificate.  0 or -1.
 */
int	 tsa_request_new(const unsigned char digest[TSA_DIGESTBYTES],
	    uint64_t *nonce, unsigned char **der, size_t *len, char *err,
	    size_t errlen);

/*
 * Read a TimeStampResp from the TSA: the status must be granted or
 * grantedWithMods, the token's imprint must be digest (algorithm
 * SHA-256) and its nonce the request's.  *token gets the token (a CMS
 * ContentInfo, DER) and *gen_time_us its genTime.  The signature is not checked here (that
 * needs the CA: tsa_token_verify).  0, or -1 with a reason in err.
 */
int	 tsa_reply_parse(const unsigned char *der, size_t len,
	    const unsigned char digest[TSA_DIGESTBYTES], uint64_t nonce,
	    unsigned char **token, size_t *tokenlen, int64_t *gen_time_us,
	    char *err, size_t errlen);

/*
 * What a token says, unverified: its imprint (SHA-256 only) and genTime.
 * For display and for matching a token to its checkpoint.  0 or -1.
 */
int	 tsa_token_parse(const unsigned char *token, size_t len,
	    unsigned char digest[TSA_DIGESTBYTES], int64_t *gen_time_us,
	    char *err, size_t errlen);

/*
 * The auditor's check: the token is version 1, its signature verifies
 * with a chain to a certificate in ca_file (PEM, one or more), valid at
 * genTime; the signer has the timeStamping extended key usage (critical)
 * and matches the token's ESS signing certificate and TSA name if any;
 * the imprint is digest (algorithm SHA-256).  *gen_time_us gets
 * genTime.  0, or -1 with a reason in err.
 */
int	 tsa_token_verify(const unsigned char *token, size_t len,
	    const unsigned char digest[TSA_DIGESTBYTES], const char *ca_file,
	    int64_t *gen_time_us, char *err, size_t errlen);

#endif
