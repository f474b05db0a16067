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

/* The public half of an RSA key as a JWK object (kty, use, alg, kid, n, e). */
int	jwt_export_jwk(EVP_PKEY *, const char *, struct cJSON **);

#endif
