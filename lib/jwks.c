/* JWT verification: JWKS key sets and RS256 compact JWS under a policy. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "jwt.h"
#include "xmalloc.h"

#define JWKS_MAX_KEYS	64		/* array entries examined */
#define JWKS_MAX_DOC	(1024 * 1024)
#define JWKS_MIN_BITS	2048		/* RFC 7518 section 3.3 */
#define JWKS_MAX_BITS	8192
#define JWKS_MAX_EBITS	64		/* OpenSSL's own exponent cap */
#define JWKS_SHA1_LEN	20
#define JWT_MAX_DATE	9007199254740992.0	/* 2^53 */

struct jwks_key {
	char		 kid[JWT_MAX_CLAIM];	/* "" when absent */
	char		 x5t[JWT_MAX_CLAIM];	/* "" when absent */
	EVP_PKEY	*pkey;
};

struct jwks {
	struct jwks_key	*keys;
	size_t		 nkeys;
};

static void	set_err(char *, size_t, const char *);
static void	copy_claim(char *, const char *);
static int	json_object_parse(const char *, size_t, cJSON **);
static int	name_cmp(const void *, const void *);
static int	has_duplicate(const cJSON *);
static int	string_is(const cJSON *, const char *);
static int	bounded_string(const cJSON *, char *);
static int	rsa_from_jwk(const char *, const char *, EVP_PKEY **);
static int	x5c_check(const cJSON *, struct jwks_key *);
static int	key_parse(const cJSON *, struct jwks_key *);
static const struct jwks_key *key_find(const struct jwks *, const char *,
		    const char *);
static int	numeric_date(const cJSON *, double *);
static enum jwt_result check_header(const cJSON *, struct jwt_claims *);
static enum jwt_result check_signature(EVP_PKEY *, const char *, size_t,
		    const unsigned char *, size_t);
static enum jwt_result check_claims(const cJSON *, const struct jwt_policy *,
		    struct jwt_claims *);

static void
set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/*
 * Claims end up in logs and the audit trail: cut on a UTF-8 character
 * boundary and never carry control characters.
 */
static void
copy_claim(char *dst, const char *src)
{
	size_t	 i, n;

	n = strlen(src);
	if (n > JWT_MAX_CLAIM - 1) {
		n = JWT_MAX_CLAIM - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ?
		    '?' : src[i];
	dst[n] = '\0';
}

/*
 * text[len] must be NUL.  One JSON object and nothing else: no NUL
 * inside (cJSON takes it for white space), and no \u0000 escape, which
 * cJSON would turn into a silently shortened C string.
 */
static int
json_object_parse(const char *text, size_t len, cJSON **out)
{
	const char	*end = NULL;
	size_t		 i;

	*out = NULL;
	if (memchr(text, '\0', len) != NULL ||
	    memmem(text, len, "\\u0000", 6) != NULL)
		return -1;
	for (i = 0; i < len && strchr(" \t\r\n", text[i]) != NULL; i++)
		;
	if (i == len || text[i] != '{')
		return -1;
	if ((*out = cJSON_ParseWithLengthOpts(text, len, &end, 0)) == NULL)
		return -1;
	if (end == NULL || end < text || end > text + len)
		goto bad;
	for (i = end - text; i < len; i++)
		if (strchr(" \t\r\n", text[i]) == NULL)
			goto bad;
	if (cJSON_IsObject(*out))
		return 0;
 bad:
	cJSON_Delete(*out);
	*out = NULL;
	return -1;
}

static int
name_cmp(const void *a, const void *b)
{
	const char *const	*na = a, *const *nb = b;

	return strcmp(*na, *nb);
}

/* cJSON finds the first of two equal names; RFC 7515 5.2 says reject. */
static int
has_duplicate(const cJSON *obj)
{
	const cJSON	*c;
	const char	**names;
	size_t		 i, n = 0;
	int		 dup = 0;

	for (c = obj->child; c != NULL; c = c->next)
		n++;
	if (n < 2)
		return 0;
	names = xreallocarray(NULL, n, sizeof(*names));
	for (i = 0, c = obj->child; c != NULL; c = c->next)
		names[i++] = c->string != NULL ? c->string : "";
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 1; i < n && !dup; i++)
		dup = strcmp(names[i - 1], names[i]) == 0;
	free(names);
	return dup;
}

static int
string_is(const cJSON *item, const char *want)
{
	return cJSON_IsString(item) && item->valuestring != NULL &&
	    strcmp(item->valuestring, want) == 0;
}

/* A non-empty string that fits a claim buffer, copied as is. */
static int
bounded_string(const cJSON *item, char *dst)
{
	size_t	 n;

	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return -1;
	n = strlen(item->valuestring);
	if (n == 0 || n > JWT_MAX_CLAIM - 1)
		return -1;
	memcpy(dst, item->valuestring, n + 1);
	return 0;
}

static int
rsa_from_jwk(const char *n64, const char *e64, EVP_PKEY **out)
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*kctx = NULL;
	EVP_PKEY	*pkey = NULL;
	BIGNUM		*n = NULL, *e = NULL;
	unsigned char	*nbin = NULL, *ebin = NULL;
	size_t		 nlen, elen;
	int		 rv = -1;

	*out = NULL;
	if (jwt_base64url_decode(n64, strlen(n64), &nbin, &nlen) == -1 ||
	    jwt_base64url_decode(e64, strlen(e64), &ebin, &elen) == -1 ||
	    nlen == 0 || elen == 0 || elen > JWKS_MAX_EBITS / 8)
		goto done;
	if ((n = BN_bin2bn(nbin, (int)nlen, NULL)) == NULL ||
	    (e = BN_bin2bn(ebin, (int)elen, NULL)) == NULL)
		goto done;
	if (BN_num_bits(n) < JWKS_MIN_BITS || BN_num_bits(n) > JWKS_MAX_BITS ||
	    !BN_is_odd(n) || !BN_is_odd(e) || BN_num_bits(e) < 2)
		goto done;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto done;
	if ((kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(kctx) != 1 ||
	    EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto done;
	if (EVP_PKEY_get_bits(pkey) < JWKS_MIN_BITS)
		goto done;
	*out = pkey;
	pkey = NULL;
	rv = 0;
 done:
	if (rv == -1)
		ERR_clear_error();
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(kctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	free(ebin);
	free(nbin);
	return rv;
}

/*
 * x5c[0], when given, must hold the same public key as n/e; its SHA-1
 * is the key's x5t, and must equal an x5t given beside it.  The chain
 * is not validated: the key set itself is what is trusted.
 */
static int
x5c_check(const cJSON *x5c, struct jwks_key *k)
{
	const cJSON		*leaf;
	const unsigned char	*p;
	unsigned char		*der = NULL, md[EVP_MAX_MD_SIZE];
	const char		*b64, *end = NULL;
	char			*x5t = NULL;
	X509			*cert = NULL;
	EVP_PKEY		*certkey;
	size_t			 len, derlen = 0;
	unsigned int		 mdlen = 0;
	int			 rv = -1;

	if (!cJSON_IsArray(x5c))
		return -1;
	if ((leaf = cJSON_GetArrayItem(x5c, 0)) == NULL)
		return 0;
	if (!cJSON_IsString(leaf) || leaf->valuestring == NULL)
		return -1;
	b64 = leaf->valuestring;
	len = strlen(b64);
	der = xmalloc(len / 4 * 3 + 3);
	/* Without &end libsodium stops quietly at the first bad byte. */
	if (sodium_base642bin(der, len / 4 * 3 + 3, b64, len, NULL, &derlen,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 || end != b64 + len ||
	    derlen == 0)
		goto done;
	p = der;
	if ((cert = d2i_X509(NULL, &p, (long)derlen)) == NULL ||
	    p != der + derlen)
		goto done;
	if ((certkey = X509_get0_pubkey(cert)) == NULL ||
	    EVP_PKEY_eq(certkey, k->pkey) != 1)
		goto done;
	if (EVP_Digest(der, derlen, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != JWKS_SHA1_LEN ||
	    jwt_base64url_encode(md, mdlen, &x5t) == -1)
		goto done;
	if (k->x5t[0] != '\0' && strcmp(k->x5t, x5t) != 0)
		goto done;
	snprintf(k->x5t, sizeof(k->x5t), "%s", x5t);
	rv = 0;
 done:
	if (rv == -1)
		ERR_clear_error();
	free(x5t);
	X509_free(cert);
	free(der);
	return rv;
}

static int
key_parse(const cJSON *jwk, struct jwks_key *k)
{
	const cJSON	*use, *alg, *kid, *x5t, *x5c, *n, *e;
	unsigned char	*thumb = NULL;
	size_t		 thumblen = 0;
	int		 rv = -1;

	memset(k, 0, sizeof(*k));
	if (!cJSON_IsObject(jwk) || has_duplicate(jwk))
		goto done;
	use = cJSON_GetObjectItemCaseSensitive(jwk, "use");
	alg = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
	kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
	x5t = cJSON_GetObjectItemCaseSensitive(jwk, "x5t");
	n = cJSON_GetObjectItemCaseSensitive(jwk, "n");
	e = cJSON_GetObjectItemCaseSensitive(jwk, "e");
	if (!string_is(cJSON_GetObjectItemCaseSensitive(jwk, "kty"), "RSA") ||
	    (use != NULL && !string_is(use, "sig")) ||
	    (alg != NULL && !string_is(alg, "RS256")))
		goto done;
	if ((kid != NULL && bounded_string(kid, k->kid) == -1) ||
	    (x5t != NULL && bounded_string(x5t, k->x5t) == -1))
		goto done;
	if (x5t != NULL && (jwt_base64url_decode(k->x5t, strlen(k->x5t),
	    &thumb, &thumblen) == -1 || thumblen != JWKS_SHA1_LEN))
		goto done;
	if (!cJSON_IsString(n) || !cJSON_IsString(e) ||
	    rsa_from_jwk(n->valuestring, e->valuestring, &k->pkey) == -1)
		goto done;
	x5c = cJSON_GetObjectItemCaseSensitive(jwk, "x5c");
	if (x5c != NULL && x5c_check(x5c, k) == -1)
		goto done;
	if (k->kid[0] == '\0' && k->x5t[0] == '\0')
		goto done;
	rv = 0;
 done:
	if (rv == -1) {
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
	}
	free(thumb);
	return rv;
}

struct jwks *
jwks_parse(const char *json, size_t len, char *err, size_t errlen)
{
	struct jwks	*set = NULL;
	struct jwks_key	 k;
	cJSON		*doc = NULL;
	const cJSON	*keys, *jwk;
	char		*text = NULL;
	size_t		 seen = 0;

	set_err(err, errlen, "");
	if (json == NULL || len == 0) {
		set_err(err, errlen, "empty document");
		goto done;
	}
	if (len > JWKS_MAX_DOC) {
		set_err(err, errlen, "document too large");
		goto done;
	}
	/* The caller's buffer need not end in NUL; cJSON's had better. */
	text = xmalloc(len + 1);
	memcpy(text, json, len);
	text[len] = '\0';
	if (json_object_parse(text, len, &doc) == -1 || has_duplicate(doc)) {
		set_err(err, errlen, "not a JSON object");
		goto done;
	}
	keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");
	if (!cJSON_IsArray(keys)) {
		set_err(err, errlen, "no keys array");
		goto done;
	}
	set = xcalloc(1, sizeof(*set));
	set->keys = xcalloc(JWKS_MAX_KEYS, sizeof(*set->keys));
	cJSON_ArrayForEach(jwk, keys) {
		if (seen++ == JWKS_MAX_KEYS)
			break;
		if (key_parse(jwk, &k) == -1)
			continue;
		/* An id twice is ambiguous: the first one stands. */
		if ((k.kid[0] != '\0' && key_find(set, k.kid, NULL)) ||
		    (k.x5t[0] != '\0' && key_find(set, NULL, k.x5t))) {
			EVP_PKEY_free(k.pkey);
			continue;
		}
		set->keys[set->nkeys++] = k;
	}
	if (set->nkeys == 0) {
		set_err(err, errlen, "no usable signing key");
		jwks_free(set);
		set = NULL;
	}
 done:
	cJSON_Delete(doc);
	free(text);
	return set;
}

void
jwks_free(struct jwks *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nkeys; i++)
		EVP_PKEY_free(set->keys[i].pkey);
	free(set->keys);
	free(set);
}

size_t
jwks_count(const struct jwks *set)
{
	return set != NULL ? set->nkeys : 0;
}

int
jwks_has(const struct jwks *set, const char *id)
{
	if (id == NULL)
		return 0;
	return key_find(set, id, NULL) != NULL ||
	    key_find(set, NULL, id) != NULL;
}

static const struct jwks_key *
key_find(const struct jwks *set, const char *kid, const char *x5t)
{
	size_t	 i;

	if (set == NULL)
		return NULL;
	for (i = 0; i < set->nkeys; i++) {
		if (kid != NULL && set->keys[i].kid[0] != '\0' &&
		    strcmp(set->keys[i].kid, kid) == 0)
			return &set->keys[i];
		if (x5t != NULL && set->keys[i].x5t[0] != '\0' &&
		    strcmp(set->keys[i].x5t, x5t) == 0)
			return &set->keys[i];
	}
	return NULL;
}

/* A NumericDate: a finite JSON number in [0, 2^53], fractions allowed. */
static int
numeric_date(const cJSON *item, double *out)
{
	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) ||
	    item->valuedouble < 0 || item->valuedouble > JWT_MAX_DATE)
		return -1;
	*out = item->valuedouble;
	return 0;
}

static enum jwt_result
check_header(const cJSON *header, struct jwt_claims *claims)
{
	static const char *const forbidden[] = { "crit", "jku", "x5u", "jwk" };
	const cJSON	*typ, *id;
	size_t		 i;

	/* The key set is RS256 only: never let the token pick. */
	if (!string_is(cJSON_GetObjectItemCaseSensitive(header, "alg"),
	    "RS256"))
		return JWT_BAD_ALG;
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		if (cJSON_GetObjectItemCaseSensitive(header,
		    forbidden[i]) != NULL)
			return JWT_BAD_HEADER;
	typ = cJSON_GetObjectItemCaseSensitive(header, "typ");
	if (typ != NULL && (!cJSON_IsString(typ) || typ->valuestring == NULL ||
	    strcasecmp(typ->valuestring, "JWT") != 0))
		return JWT_BAD_HEADER;
	if ((id = cJSON_GetObjectItemCaseSensitive(header, "kid")) == NULL)
		id = cJSON_GetObjectItemCaseSensitive(header, "x5t");
	if (cJSON_IsString(id) && id->valuestring != NULL)
		copy_claim(claims->kid, id->valuestring);
	return JWT_OK;
}

static enum jwt_result
check_signature(EVP_PKEY *pkey, const char *input, size_t inlen,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*md = NULL;
	EVP_PKEY_CTX	*pctx = NULL;
	enum jwt_result	 r = JWT_BAD_SIGNATURE;
	int		 size;

	if ((size = EVP_PKEY_get_size(pkey)) <= 0 || siglen != (size_t)size)
		goto done;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(md, &pctx, "SHA256", NULL, NULL, pkey,
	    NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)input,
	    inlen) != 1)
		goto done;
	r = JWT_OK;
 done:
	if (r != JWT_OK)
		ERR_clear_error();
	EVP_MD_CTX_free(md);
	return r;
}

static enum jwt_result
check_claims(const cJSON *payload, const struct jwt_policy *policy,
    struct jwt_claims *claims)
{
	const cJSON	*iss, *aud, *tid, *item, *a;
	double		 exp, nbf, iat, now, skew;
	size_t		 i;
	int		 ok;

	iss = cJSON_GetObjectItemCaseSensitive(payload, "iss");
	if (!cJSON_IsString(iss) || iss->valuestring == NULL)
		return JWT_BAD_ISSUER;
	copy_claim(claims->iss, iss->valuestring);
	if (policy == NULL || iss->valuestring[0] == '\0')
		return JWT_BAD_ISSUER;
	for (i = 0, ok = 0; i < JWT_MAX_LIST && policy->issuers[i] != NULL &&
	    !ok; i++)
		ok = strcmp(iss->valuestring, policy->issuers[i]) == 0;
	if (!ok)
		return JWT_BAD_ISSUER;

	aud = cJSON_GetObjectItemCaseSensitive(payload, "aud");
	if (policy->audience == NULL || policy->audience[0] == '\0')
		return JWT_BAD_AUDIENCE;
	ok = string_is(aud, policy->audience);
	if (cJSON_IsArray(aud))
		cJSON_ArrayForEach(a, aud)
			ok = ok || string_is(a, policy->audience);
	if (!ok)
		return JWT_BAD_AUDIENCE;

	now = (double)policy->now;
	skew = (double)policy->skew;
	item = cJSON_GetObjectItemCaseSensitive(payload, "exp");
	if (numeric_date(item, &exp) == -1)
		return JWT_EXPIRED;
	claims->exp = (long long)exp;
	if (now >= exp + skew)
		return JWT_EXPIRED;
	if ((item = cJSON_GetObjectItemCaseSensitive(payload, "nbf")) != NULL) {
		if (numeric_date(item, &nbf) == -1)
			return JWT_NOT_YET_VALID;
		claims->nbf = (long long)nbf;
		if (now < nbf - skew)
			return JWT_NOT_YET_VALID;
	}
	if ((item = cJSON_GetObjectItemCaseSensitive(payload, "iat")) != NULL) {
		if (numeric_date(item, &iat) == -1)
			return JWT_NOT_YET_VALID;
		claims->iat = (long long)iat;
		if (iat > now + skew)
			return JWT_NOT_YET_VALID;
	}

	tid = cJSON_GetObjectItemCaseSensitive(payload, "tid");
	if (bounded_string(tid, claims->tid) == -1)
		return JWT_NO_TENANT;
	copy_claim(claims->tid, tid->valuestring);
	if (policy->tenants[0] == NULL)
		return JWT_OK;
	for (i = 0; i < JWT_MAX_LIST && policy->tenants[i] != NULL; i++)
		if (strcasecmp(tid->valuestring, policy->tenants[i]) == 0)
			return JWT_OK;
	return JWT_BAD_TENANT;
}

enum jwt_result
jwt_verify(const char *token, size_t len, const struct jwks *set,
    const struct jwt_policy *policy, struct jwt_claims *claims)
{
	struct jwt_claims	 scratch;
	const struct jwks_key	*key;
	const cJSON		*id;
	cJSON			*header = NULL, *payload = NULL;
	unsigned char		*hbin = NULL, *pbin = NULL, *sig = NULL;
	const char		*dot1, *dot2, *end;
	size_t			 hlen, plen, siglen;
	enum jwt_result		 r = JWT_MALFORMED;

	if (claims == NULL)
		claims = &scratch;
	memset(claims, 0, sizeof(*claims));
	claims->exp = claims->nbf = claims->iat = -1;

	/* Exactly three non-empty segments of strict base64url. */
	if (token == NULL || len == 0 || len > JWT_MAX_TOKEN)
		goto done;
	end = token + len;
	if ((dot1 = memchr(token, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', end - dot1 - 1)) == NULL ||
	    memchr(dot2 + 1, '.', end - dot2 - 1) != NULL)
		goto done;
	if (dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == end)
		goto done;
	if (jwt_base64url_decode(token, dot1 - token, &hbin, &hlen) == -1 ||
	    jwt_base64url_decode(dot1 + 1, dot2 - dot1 - 1, &pbin,
	    &plen) == -1 ||
	    jwt_base64url_decode(dot2 + 1, end - dot2 - 1, &sig,
	    &siglen) == -1)
		goto done;
	if (json_object_parse((char *)hbin, hlen, &header) == -1 ||
	    json_object_parse((char *)pbin, plen, &payload) == -1)
		goto done;

	r = JWT_DUPLICATE_MEMBER;
	if (has_duplicate(header) || has_duplicate(payload))
		goto done;
	if ((r = check_header(header, claims)) != JWT_OK)
		goto done;

	r = JWT_UNKNOWN_KID;
	if ((id = cJSON_GetObjectItemCaseSensitive(header, "kid")) != NULL)
		key = cJSON_IsString(id) ?
		    key_find(set, id->valuestring, NULL) : NULL;
	else if ((id = cJSON_GetObjectItemCaseSensitive(header, "x5t")) !=
	    NULL)
		key = cJSON_IsString(id) ?
		    key_find(set, NULL, id->valuestring) : NULL;
	else
		key = NULL;
	if (key == NULL)
		goto done;

	/* The signing input is the received text, not a re-encoding. */
	if ((r = check_signature(key->pkey, token, dot2 - token, sig,
	    siglen)) != JWT_OK)
		goto done;
	r = check_claims(payload, policy, claims);
 done:
	cJSON_Delete(payload);
	cJSON_Delete(header);
	/* Decoded parts of a bearer token: wiped like the token. */
	if (sig != NULL)
		sodium_memzero(sig, siglen);
	if (pbin != NULL)
		sodium_memzero(pbin, plen);
	if (hbin != NULL)
		sodium_memzero(hbin, hlen);
	free(sig);
	free(pbin);
	free(hbin);
	return r;
}

const char *
jwt_result_name(enum jwt_result r)
{
	static const char *const names[JWT_RESULT_MAX] = {
		"ok", "malformed", "duplicate_member", "bad_alg", "bad_header",
		"unknown_kid", "bad_signature", "bad_issuer", "bad_audience",
		"expired", "not_yet_valid", "no_tenant", "bad_tenant"
	};

	if ((int)r < 0 || (int)r >= JWT_RESULT_MAX)
		return "unknown";
	return names[r];
}
