/* JSON Web Tokens: base64url, RS256 signing, JWKs and key ids. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "jwt.h"
#include "log.h"
#include "xmalloc.h"

#define JWT_KID_BYTES	16

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

int
jwt_sign_rs256(EVP_PKEY *key, const char *kid, const struct cJSON *claims,
    char **out)
{
	EVP_MD_CTX	*ctx = NULL;
	EVP_PKEY_CTX	*pctx;
	cJSON		*header = NULL;
	char		*htext = NULL, *ctext = NULL, *h64 = NULL;
	char		*c64 = NULL, *input = NULL, *s64 = NULL;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0;
	int		 inlen, rv = -1;

	*out = NULL;
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || kid == NULL)
		goto done;
	if ((header = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(header, "alg", "RS256") == NULL ||
	    cJSON_AddStringToObject(header, "typ", "JWT") == NULL ||
	    cJSON_AddStringToObject(header, "kid", kid) == NULL)
		goto done;
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
	if (rv == -1)
		log_warnx("jwt_sign_rs256: cannot sign token");
	free(s64);
	free(sig);
	EVP_MD_CTX_free(ctx);
	free(input);
	free(c64);
	free(h64);
	cJSON_free(ctext);
	cJSON_free(htext);
	cJSON_Delete(header);
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
