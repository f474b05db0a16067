/* libFuzzer harness: compact JWS into jwt_verify(), JWKS into jwks_parse(). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "jwt.h"

#define FUZZ_MAX_CLAIMS	4096

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * A key made at start-up signs fuzz inputs (never committed: no key in
 * the tree).  Seeds signed by another key still exercise everything up
 * to the signature; objects the harness signs itself reach the claims.
 */
static EVP_PKEY		*fuzz_key;
static char		*fuzz_kid;
static struct jwks	*fuzz_keys;

static const struct jwt_policy fuzz_policy = {
	.issuers = { "https://api.botframework.com",
	    "https://graph.microsoft.com", NULL },
	.audience = "0efc74f7-41c3-47a4-8775-7259bfef4241",
	.tenants = { "72f988bf-86f1-41af-91ab-2d7cd011db47", NULL },
	.now = 1800000000,
	.skew = 300,
};

/* A self-signed certificate for the key, base64 DER as in x5c. */
static char *
self_signed_b64(EVP_PKEY *key)
{
	X509		*x;
	unsigned char	*der = NULL;
	char		*b64;
	size_t		 b64len;
	int		 len;

	if ((x = X509_new()) == NULL ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"fuzz", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    X509_sign(x, key, EVP_sha256()) <= 0 ||
	    (len = i2d_X509(x, &der)) <= 0)
		abort();
	b64len = sodium_base64_ENCODED_LEN((size_t)len,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(b64len)) == NULL)
		abort();
	sodium_bin2base64(b64, b64len, der, (size_t)len,
	    sodium_base64_VARIANT_ORIGINAL);
	OPENSSL_free(der);
	X509_free(x);
	return b64;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cJSON	*doc, *keys, *jwk, *x5c;
	char	*text, *cert_b64, err[64];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	if ((fuzz_key = EVP_RSA_gen(2048)) == NULL ||
	    (cert_b64 = self_signed_b64(fuzz_key)) == NULL)
		abort();
	if (jwt_key_id(fuzz_key, &fuzz_kid) == -1 ||
	    jwt_export_jwk(fuzz_key, fuzz_kid, &jwk) == -1)
		abort();
	if ((x5c = cJSON_CreateArray()) == NULL ||
	    !cJSON_AddItemToArray(x5c, cJSON_CreateString(cert_b64)) ||
	    !cJSON_AddItemToObject(jwk, "x5c", x5c))
		abort();
	if ((doc = cJSON_CreateObject()) == NULL ||
	    (keys = cJSON_AddArrayToObject(doc, "keys")) == NULL ||
	    !cJSON_AddItemToArray(keys, jwk) ||
	    (text = cJSON_PrintUnformatted(doc)) == NULL)
		abort();
	if ((fuzz_keys = jwks_parse(text, strlen(text), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_jwt: key set: %s\n", err);
		abort();
	}
	cJSON_free(text);
	cJSON_Delete(doc);
	free(cert_b64);
	return 0;
}

static void
check_claims(const struct jwt_claims *cl)
{
	if (memchr(cl->kid, '\0', sizeof(cl->kid)) == NULL ||
	    memchr(cl->iss, '\0', sizeof(cl->iss)) == NULL ||
	    memchr(cl->tid, '\0', sizeof(cl->tid)) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwt_claims	 cl;
	struct jwks		*set;
	enum jwt_result		 r;
	cJSON			*claims;
	char			*text, *tok, err[64];

	/* The input as a token. */
	r = jwt_verify((const char *)data, size, fuzz_keys, &fuzz_policy, &cl);
	if (jwt_result_name(r) == NULL || strcmp(jwt_result_name(r),
	    "unknown") == 0)
		abort();
	check_claims(&cl);

	/* The input as a key set. */
	if ((set = jwks_parse((const char *)data, size, err,
	    sizeof(err))) != NULL) {
		(void)jwks_has(set, fuzz_kid);
		jwks_free(set);
	} else if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
		abort();

	/*
	 * The input as claims: mutated tokens never get past the signature,
	 * so sign what parses as a JSON object to reach the claim checks.
	 * A token we signed must never fail on key or signature.
	 */
	if (size > FUZZ_MAX_CLAIMS || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if ((claims = cJSON_Parse(text)) != NULL && cJSON_IsObject(claims) &&
	    jwt_sign_rs256(fuzz_key, fuzz_kid, claims, &tok) == 0) {
		r = jwt_verify(tok, strlen(tok), fuzz_keys, &fuzz_policy, &cl);
		if (r == JWT_BAD_ALG || r == JWT_BAD_HEADER ||
		    r == JWT_UNKNOWN_KID || r == JWT_BAD_SIGNATURE)
			abort();
		check_claims(&cl);
		free(tok);
	}
	cJSON_Delete(claims);
	free(text);
	return 0;
}
