/* JWTs: base64url, RS256 signing, Entra client assertions, JWKs, key ids. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "jwt.h"
#include "log.h"
#include "xmalloc.h"

#define JWT_KID_BYTES	16
#define JWT_SHA1_BYTES	20
#define JWT_MAX_TIME	9007199254740991LL	/* 2^53 - 1 */

static int	sign_compact(EVP_PKEY *, const cJSON *, const cJSON *,
		    char **);
static int	export_bn(EVP_PKEY *, const char *, char **);

int
jwt_base64url_encode(const void *bin, size_t len, char **out)
{
	size_t	 b64len;

	*out = NULL;
	if (len > (SIZE_MAX - 8) / 4 * 3)
		return -1;
	b64len = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*out = xmalloc(b64len);
	sodium_bin2base64(*out, b64len, bin, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

int
jwt_base64url_decode(const char *b64, size_t len, unsigned char **out,
    size_t *outlen)
{
	unsigned char	*bin;
	const char	*end = NULL;
	size_t		 binlen = 0, max;

	*out = NULL;
	*outlen = 0;
	if (len > JWT_MAX_TOKEN)
		return -1;
	max = len / 4 * 3 + 3;
	bin = xmalloc(max + 1);
	/* Without &end libsodium stops quietly at the first bad byte. */
	if (sodium_base642bin(bin, max, b64, len, NULL, &binlen, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != b64 + len) {
		sodium_memzero(bin, max + 1);
		free(bin);
		return -1;
	}
	bin[binlen] = '\0';
	*out = bin;
	*outlen = binlen;
	return 0;
}

int
jwt_key_id(EVP_PKEY *key, char **out)
{
	unsigned char	*der = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 derlen, rv = -1;

	*out = NULL;
	if ((derlen = i2d_PUBKEY(key, &der)) <= 0)
		goto done;
	if (EVP_Digest(der, derlen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < JWT_KID_BYTES)
		goto done;
	rv = jwt_base64url_encode(md, JWT_KID_BYTES, out);
 done:
	OPENSSL_free(der);
	return rv;
}

/*
 * A compact JWS: base64url(header).base64url(claims).signature, the
 * signature RSASSA-PKCS1-v1_5 with SHA-256 over the first two parts.
 */
static int
sign_compact(EVP_PKEY *key, const cJSON *header, const cJSON *claims,
    char **out)
{
	EVP_MD_CTX	*ctx = NULL;
	EVP_PKEY_CTX	*pctx;
	char		*htext = NULL, *ctext = NULL, *h64 = NULL;
	char		*c64 = NULL, *input = NULL, *s64 = NULL;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0;
	int		 inlen, rv = -1;

	*out = NULL;
	if ((htext = cJSON_PrintUnformatted(header)) == NULL ||
	    (ctext = cJSON_PrintUnformatted(claims)) == NULL)
		goto done;
	if (jwt_base64url_encode(htext, strlen(htext), &h64) == -1 ||
	    jwt_base64url_encode(ctext, strlen(ctext), &c64) == -1)
		goto done;
	inlen = xasprintf(&input, "%s.%s", h64, c64);

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)input,
	    inlen) != 1)
		goto done;
	sig = xmalloc(siglen);
	if (EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input,
	    inlen) != 1)
		goto done;
	if (jwt_base64url_encode(sig, siglen, &s64) == -1)
		goto done;
	xasprintf(out, "%s.%s", input, s64);
	rv = 0;
 done:
	/* With the signature, the header and claims make the credential. */
	if (s64 != NULL) {
		sodium_memzero(s64, strlen(s64));
		free(s64);
	}
	if (sig != NULL) {
		sodium_memzero(sig, siglen);
		free(sig);
	}
	EVP_MD_CTX_free(ctx);
	free(input);
	free(c64);
	free(h64);
	cJSON_free(ctext);
	cJSON_free(htext);
	return rv;
}

int
jwt_sign_rs256(EVP_PKEY *key, const char *kid, const struct cJSON *claims,
    char **out)
{
	cJSON	*header = NULL;
	int	 rv = -1;

	*out = NULL;
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || kid == NULL)
		goto done;
	if ((header = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(header, "alg", "RS256") == NULL ||
	    cJSON_AddStringToObject(header, "typ", "JWT") == NULL ||
	    cJSON_AddStringToObject(header, "kid", kid) == NULL)
		goto done;
	rv = sign_compact(key, header, claims, out);
 done:
	if (rv == -1)
		log_warnx("jwt_sign_rs256: cannot sign token");
	cJSON_Delete(header);
	return rv;
}

int
jwt_x5t(X509 *cert, char **out)
{
	unsigned char	*der = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 derlen, rv = -1;

	*out = NULL;
	if (cert == NULL || (derlen = i2d_X509(cert, &der)) <= 0)
		goto done;
	if (EVP_Digest(der, derlen, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != JWT_SHA1_BYTES)
		goto done;
	rv = jwt_base64url_encode(md, mdlen, out);
 done:
	OPENSSL_free(der);
	return rv;
}

int
jwt_client_assertion(EVP_PKEY *key, X509 *cert, const char *app_id,
    const char *audience, const char *jti, long long now,
    long long lifetime, char **out)
{
	cJSON	*header = NULL, *claims = NULL;
	char	*x5t = NULL;
	int	 rv = -1;

	*out = NULL;
	if (key == NULL || cert == NULL || app_id == NULL ||
	    app_id[0] == '\0' || audience == NULL || audience[0] == '\0' ||
	    jti == NULL || jti[0] == '\0')
		goto done;
	/* JSON numbers are doubles: keep the times exact. */
	if (now < 0 || lifetime <= 0 || now > JWT_MAX_TIME ||
	    lifetime > JWT_MAX_TIME - now)
		goto done;
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
		goto done;
	/*
	 * Entra finds the key by x5t: a key that is not the certificate's
	 * would fail there, later and less clearly.
	 */
	if (X509_check_private_key(cert, key) != 1)
		goto done;
	if (jwt_x5t(cert, &x5t) == -1)
		goto done;
	if ((header = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(header, "alg", "RS256") == NULL ||
	    cJSON_AddStringToObject(header, "typ", "JWT") == NULL ||
	    cJSON_AddStringToObject(header, "x5t", x5t) == NULL)
		goto done;
	if ((claims = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(claims, "aud", audience) == NULL ||
	    cJSON_AddStringToObject(claims, "iss", app_id) == NULL ||
	    cJSON_AddStringToObject(claims, "sub", app_id) == NULL ||
	    cJSON_AddStringToObject(claims, "jti", jti) == NULL ||
	    cJSON_AddNumberToObject(claims, "nbf", (double)now) == NULL ||
	    cJSON_AddNumberToObject(claims, "iat", (double)now) == NULL ||
	    cJSON_AddNumberToObject(claims, "exp",
	    (double)(now + lifetime)) == NULL)
		goto done;
	rv = sign_compact(key, header, claims, out);
 done:
	if (rv == -1) {
		/* Leave no stale error to confuse a later TLS call. */
		ERR_clear_error();
		log_warnx("jwt_client_assertion: cannot make an assertion");
	}
	cJSON_Delete(claims);
	cJSON_Delete(header);
	free(x5t);
	return rv;
}

static int
export_bn(EVP_PKEY *key, const char *param, char **out)
{
	BIGNUM		*bn = NULL;
	unsigned char	*bin = NULL;
	int		 len, rv = -1;

	*out = NULL;
	if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
		goto done;
	if ((len = BN_num_bytes(bn)) <= 0)
		goto done;
	bin = xmalloc(len);
	if (BN_bn2bin(bn, bin) != len)
		goto done;
	rv = jwt_base64url_encode(bin, len, out);
 done:
	free(bin);
	BN_free(bn);
	return rv;
}

int
jwt_export_jwk(EVP_PKEY *key, const char *kid, struct cJSON **out)
{
	cJSON	*jwk = NULL;
	char	*n = NULL, *e = NULL;
	int	 rv = -1;

	*out = NULL;
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || kid == NULL)
		goto done;
	if (export_bn(key, OSSL_PKEY_PARAM_RSA_N, &n) == -1 ||
	    export_bn(key, OSSL_PKEY_PARAM_RSA_E, &e) == -1)
		goto done;
	if ((jwk = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(jwk, "kty", "RSA") == NULL ||
	    cJSON_AddStringToObject(jwk, "use", "sig") == NULL ||
	    cJSON_AddStringToObject(jwk, "alg", "RS256") == NULL ||
	    cJSON_AddStringToObject(jwk, "kid", kid) == NULL ||
	    cJSON_AddStringToObject(jwk, "n", n) == NULL ||
	    cJSON_AddStringToObject(jwk, "e", e) == NULL)
		goto done;
	*out = jwk;
	jwk = NULL;
	rv = 0;
 done:
	cJSON_Delete(jwk);
	free(e);
	free(n);
	return rv;
}
