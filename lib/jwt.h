/* JSON Web Tokens: base64url, RS256 signing, JWKs and key ids. */
#ifndef POLREC_JWT_H
#define POLREC_JWT_H

#include <stddef.h>

#include <openssl/types.h>

struct cJSON;

/* The longest base64url text jwt_base64url_decode accepts. */
#define JWT_MAX_TOKEN	(16 * 1024)

/*
 * base64url without padding (RFC 7515 section 2).  Both allocate *out;
 * decode NUL-terminates its output for convenience and rejects anything
 * that is not entirely base64url, or longer than JWT_MAX_TOKEN.  libsodium
 * must have been initialised.
 */
int	jwt_base64url_encode(const void *, size_t, char **);
int	jwt_base64url_decode(const char *, size_t, unsigned char **,
	    size_t *);

/* base64url(first 16 bytes of SHA-256(DER SubjectPublicKeyInfo)). */
int	jwt_key_id(EVP_PKEY *, char **);

/*
 * Compact JWS with header {"alg":"RS256","typ":"JWT","kid":kid} over the
 * unformatted claims, signed with RSASSA-PKCS1-v1_5 SHA-256.
 */
int	jwt_sign_rs256(EVP_PKEY *, const char *, const struct cJSON *,
	    char **);

/*
 * An Entra client assertion (certificate credentials, RFC 7523): header
 * {"alg":"RS256","typ":"JWT","x5t":base64url(SHA-1(cert DER))}, claims
 * {"aud":audience,"iss":app_id,"sub":app_id,"jti":jti,"nbf":now,
 * "iat":now,"exp":now+lifetime}, signed with key (which must be the
 * certificate's).  Returns 0 and *out (malloc'd) or -1.
 */
int	jwt_client_assertion(EVP_PKEY *key, X509 *cert, const char *app_id,
	    const char *audience, const char *jti, long long now,
	    long long lifetime, char **out);

/* base64url(SHA-1(DER)) of a certificate: its x5t thumbprint. */
int	jwt_x5t(X509 *, char **);

/* The public half of an RSA key as a JWK object (kty, use, alg, kid, n, e). */
int	jwt_export_jwk(EVP_PKEY *, const char *, struct cJSON **);

/*
 * Verification (RFC 7515/7519/8725 as profiled for Teams calling
 * notifications).  A key set is parsed from a JWKS document; a token is
 * checked against it under a policy.  Nothing here does I/O or reads the
 * clock: the caller passes `now`, so tests and the fuzzer are exact.
 */
struct jwks;

/*
 * Parse a JWKS ({"keys":[...]}).  Keys that are not usable RSA
 * signature keys (kty != RSA, use != sig, alg present and != RS256,
 * modulus under 2048 bits, bad n/e) are skipped, not fatal; a document
 * that is not a JWKS, or holds no usable key, is an error.  Each key is
 * found by kid, and by x5t (base64url SHA-1 of x5c[0]) when given.
 */
struct jwks	*jwks_parse(const char *json, size_t len, char *err,
		    size_t errlen);
void		 jwks_free(struct jwks *);
size_t		 jwks_count(const struct jwks *);
int		 jwks_has(const struct jwks *, const char *kid_or_x5t);

#define JWT_MAX_LIST	16

struct jwt_policy {
	const char	*issuers[JWT_MAX_LIST];	/* exact match; NULL-ended */
	const char	*audience;		/* the app id; exact match */
	const char	*tenants[JWT_MAX_LIST];	/* NULL-ended; none = any */
	long long	 now;			/* unix seconds */
	long long	 skew;			/* seconds allowed on exp/nbf/iat */
};

#define JWT_MAX_CLAIM	256

struct jwt_claims {
	char		 kid[JWT_MAX_CLAIM];	/* kid, or x5t if no kid */
	char		 iss[JWT_MAX_CLAIM];
	char		 tid[JWT_MAX_CLAIM];
	long long	 exp;			/* -1 when absent */
	long long	 nbf;
	long long	 iat;
};

enum jwt_result {
	JWT_OK = 0,
	JWT_MALFORMED,		/* not three base64url segments of JSON objects */
	JWT_DUPLICATE_MEMBER,	/* a JSON member name twice, header or payload */
	JWT_BAD_ALG,		/* alg is not RS256 (none, HS256, ...) */
	JWT_BAD_HEADER,		/* crit, jku, x5u or jwk present; typ not JWT */
	JWT_UNKNOWN_KID,	/* no kid/x5t, or not in the key set */
	JWT_BAD_SIGNATURE,	/* wrong length or does not verify */
	JWT_BAD_ISSUER,
	JWT_BAD_AUDIENCE,	/* aud (string or array) lacks the app id */
	JWT_EXPIRED,		/* exp missing, or now >= exp + skew */
	JWT_NOT_YET_VALID,	/* now < nbf - skew, or iat in the future */
	JWT_NO_TENANT,		/* tid missing or not a string */
	JWT_BAD_TENANT,		/* tid not in the policy's tenants */
	JWT_RESULT_MAX
};

/*
 * Verify a compact JWS of at most JWT_MAX_TOKEN bytes.  Returns JWT_OK
 * and fills claims, or the first check that failed.  The signature is
 * checked before any claim is trusted; claims are filled as far as they
 * were read, for the log.
 */
enum jwt_result	 jwt_verify(const char *token, size_t len,
		    const struct jwks *, const struct jwt_policy *,
		    struct jwt_claims *);

/* A short stable name for logs, metrics and the audit trail. */
const char	*jwt_result_name(enum jwt_result);

#endif
