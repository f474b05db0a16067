/* Unit tests for JWT verification and JWKS parsing (lib/jwks.c, lib/jwt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "jwt.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define NOW		1700000000LL
#define SKEW		300
#define APPID		"0efc74f7-41c3-47a4-8775-7259bfef4241"
#define TENANT		"72f988bf-86f1-41af-91ab-2d7cd011db47"
#define TENANT_UC	"72F988BF-86F1-41AF-91AB-2D7CD011DB47"
#define TENANT2		"00000000-0000-0000-0000-000000000002"
#define ISS1		"https://api.botframework.com"
#define ISS2		"https://graph.microsoft.com"

/* Header and claims as JSON text; times relative to NOW and SKEW. */
#define HDR	"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"key1\"}"
#define C_ISS		"\"iss\":\"" ISS1 "\""
#define C_AUD		"\"aud\":\"" APPID "\""
#define C_TID		"\"tid\":\"" TENANT "\""
#define C_EXP		"\"exp\":1700003600"	/* NOW + 3600 */
#define C_NBF		"\"nbf\":1699999940"	/* NOW - 60 */
#define C_IAT		"\"iat\":1699999940"
#define C_TIMES		C_EXP "," C_NBF "," C_IAT
#define CLAIMS		"{" C_ISS "," C_AUD "," C_TIMES "," C_TID "}"
#define BUT_ISS(x)	"{" x "," C_AUD "," C_TIMES "," C_TID "}"
#define BUT_AUD(x)	"{" C_ISS "," x "," C_TIMES "," C_TID "}"
#define BUT_TIMES(x)	"{" C_ISS "," C_AUD "," x "," C_TID "}"
#define BUT_TID(x)	"{" C_ISS "," C_AUD "," C_TIMES x "}"

enum signer {
	S_KEY1 = 0,	/* RS256 with key1 (kid key1) */
	S_KEY2,
	S_KEY3,		/* published by x5c/x5t only */
	S_OTHER,	/* a key not in the set */
	S_KEY1_SHA512,
	S_EMPTY,	/* no signature at all */
	S_JUNK,		/* a few bytes */
	S_HS256_PEM,	/* HMAC keyed with key1's public PEM */
	S_HS256_DER	/* ... and with its DER */
};

enum mutation {
	M_NONE = 0,
	M_DROP2,	/* drop the last two base64url chars: 255 bytes */
	M_DROP1,	/* drop one: not base64url any more */
	M_FLIP,		/* one signature bit */
	M_EXTRA		/* a fourth segment */
};

struct vcase {
	const char	*name;
	const char	*header;
	const char	*payload;
	enum signer	 signer;
	enum mutation	 mut;
	enum jwt_result	 want;
};

static struct {
	EVP_PKEY	*key1, *key2, *key3, *other, *weak;
	char		*x5c3, *x5t3;	/* key3's self-signed cert */
	struct jwks	*set;		/* key1, key2, key3 (by x5c) */
	struct jwt_policy policy;
} fx;

static char	*b64u(const void *, size_t);
static X509	*make_cert(EVP_PKEY *, const char *);
static int	 self_signed(EVP_PKEY *, char **, char **);
static cJSON	*jwk(EVP_PKEY *, const char *);
static char	*keyset(cJSON *);
static void	 rs_sign(EVP_PKEY *, const EVP_MD *, const char *,
		    unsigned char **, size_t *);
static void	 hs_sign(int, const char *, unsigned char **, size_t *);
static char	*token_make(const char *, const char *, enum signer,
		    enum mutation);
static char	*token_make_raw(const void *, size_t, const void *, size_t,
		    enum signer);
static size_t	 parse_count(const char *, size_t, struct jwks **);
static char	*x5t_of(X509 *);
static cJSON	*segment_json(const char *, size_t);
static void	 members_exact(const cJSON *, const char *const *, size_t,
		    size_t);
static int	 rs256_verifies(X509 *, const char *, size_t,
		    const unsigned char *, size_t);

static char *
b64u(const void *bin, size_t len)
{
	char	*out;

	assert_int_equal(jwt_base64url_encode(bin, len, &out), 0);
	return out;
}

/* A self-signed certificate for key. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn)
{
	X509		*x;
	X509_NAME	*name;

	x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* A self-signed certificate for key: base64 DER (x5c) and its x5t. */
static int
self_signed(EVP_PKEY *key, char **x5c, char **x5t)
{
	X509		*x;
	unsigned char	*der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	size_t		 b64len;
	int		 derlen;

	x = make_cert(key, "polrec test");
	derlen = i2d_X509(x, &der);
	assert_true(derlen > 0);
	b64len = sodium_base64_ENCODED_LEN(derlen,
	    sodium_base64_VARIANT_ORIGINAL);
	*x5c = malloc(b64len);
	assert_non_null(*x5c);
	sodium_bin2base64(*x5c, b64len, der, derlen,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(EVP_Digest(der, derlen, md, &mdlen, EVP_sha1(),
	    NULL), 1);
	*x5t = b64u(md, mdlen);
	OPENSSL_free(der);
	X509_free(x);
	return 0;
}

/* key's JWK; kid NULL leaves it out. */
static cJSON *
jwk(EVP_PKEY *key, const char *kid)
{
	cJSON	*o;

	assert_int_equal(jwt_export_jwk(key, kid != NULL ? kid : "x", &o), 0);
	if (kid == NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(o, "kid");
	return o;
}

/* {"keys": arr} as text; takes arr. */
static char *
keyset(cJSON *arr)
{
	cJSON	*doc;
	char	*text;

	doc = cJSON_CreateObject();
	assert_non_null(doc);
	cJSON_AddItemToObject(doc, "keys", arr);
	text = cJSON_PrintUnformatted(doc);
	assert_non_null(text);
	cJSON_Delete(doc);
	return text;
}

static void
rs_sign(EVP_PKEY *key, const EVP_MD *md, const char *input,
    unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;

	ctx = EVP_MD_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, key), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0);
	assert_int_equal(EVP_DigestSign(ctx, NULL, siglen,
	    (const unsigned char *)input, strlen(input)), 1);
	*sig = malloc(*siglen);
	assert_non_null(*sig);
	assert_int_equal(EVP_DigestSign(ctx, *sig, siglen,
	    (const unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
}

static void
hs_sign(int pem, const char *input, unsigned char **sig, size_t *siglen)
{
	BIO		*bio;
	unsigned char	*secret = NULL;
	char		*mem;
	long		 memlen;
	unsigned int	 maclen = 0;
	int		 len;

	*sig = malloc(EVP_MAX_MD_SIZE);
	assert_non_null(*sig);
	if (pem) {
		bio = BIO_new(BIO_s_mem());
		assert_non_null(bio);
		assert_int_equal(PEM_write_bio_PUBKEY(bio, fx.key1), 1);
		memlen = BIO_get_mem_data(bio, &mem);
		assert_true(memlen > 0);
		assert_non_null(HMAC(EVP_sha256(), mem, (int)memlen,
		    (const unsigned char *)input, strlen(input), *sig,
		    &maclen));
		BIO_free(bio);
	} else {
		len = i2d_PUBKEY(fx.key1, &secret);
		assert_true(len > 0);
		assert_non_null(HMAC(EVP_sha256(), secret, len,
		    (const unsigned char *)input, strlen(input), *sig,
		    &maclen));
		OPENSSL_free(secret);
	}
	*siglen = maclen;
}

/* header and payload bytes, base64url'd, signed as told. */
static char *
token_make_raw(const void *hdr, size_t hlen, const void *pl, size_t plen,
    enum signer s)
{
	char		*h64, *p64, *input, *s64, *tok;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0;

	h64 = b64u(hdr, hlen);
	p64 = b64u(pl, plen);
	assert_true(asprintf(&input, "%s.%s", h64, p64) > 0);
	switch (s) {
	case S_KEY1:
		rs_sign(fx.key1, EVP_sha256(), input, &sig, &siglen);
		break;
	case S_KEY2:
		rs_sign(fx.key2, EVP_sha256(), input, &sig, &siglen);
		break;
	case S_KEY3:
		rs_sign(fx.key3, EVP_sha256(), input, &sig, &siglen);
		break;
	case S_OTHER:
		rs_sign(fx.other, EVP_sha256(), input, &sig, &siglen);
		break;
	case S_KEY1_SHA512:
		rs_sign(fx.key1, EVP_sha512(), input, &sig, &siglen);
		break;
	case S_EMPTY:
		break;
	case S_JUNK:
		sig = (unsigned char *)strdup("junk-bytes");
		siglen = strlen((char *)sig);
		break;
	case S_HS256_PEM:
	case S_HS256_DER:
		hs_sign(s == S_HS256_PEM, input, &sig, &siglen);
		break;
	}
	s64 = b64u(sig != NULL ? sig : (unsigned char *)"", siglen);
	assert_true(asprintf(&tok, "%s.%s", input, s64) > 0);
	free(s64);
	free(sig);
	free(input);
	free(p64);
	free(h64);
	return tok;
}

static char *
token_make(const char *hdr, const char *pl, enum signer s, enum mutation m)
{
	unsigned char	*sig;
	char		*tok, *dot, *s64, *out;
	size_t		 siglen, len;

	tok = token_make_raw(hdr, strlen(hdr), pl, strlen(pl), s);
	len = strlen(tok);
	switch (m) {
	case M_NONE:
		break;
	case M_DROP2:
		assert_true(len > 2);
		tok[len - 2] = '\0';
		break;
	case M_DROP1:
		tok[len - 1] = '\0';
		break;
	case M_FLIP:
		dot = strrchr(tok, '.');
		assert_int_equal(jwt_base64url_decode(dot + 1, strlen(dot + 1),
		    &sig, &siglen), 0);
		assert_true(siglen > 0);
		sig[siglen / 2] ^= 0x01;
		s64 = b64u(sig, siglen);
		*dot = '\0';
		assert_true(asprintf(&out, "%s.%s", tok, s64) > 0);
		free(s64);
		free(sig);
		free(tok);
		tok = out;
		break;
	case M_EXTRA:
		assert_true(asprintf(&out, "%s.AAAA", tok) > 0);
		free(tok);
		tok = out;
		break;
	}
	return tok;
}

static const struct vcase verify_cases[] = {
	/* Good tokens. */
	{ "valid", HDR, CLAIMS, S_KEY1, M_NONE, JWT_OK },
	{ "valid second key",
	    "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"key2\"}", CLAIMS,
	    S_KEY2, M_NONE, JWT_OK },
	{ "valid without typ", "{\"alg\":\"RS256\",\"kid\":\"key1\"}",
	    CLAIMS, S_KEY1, M_NONE, JWT_OK },
	{ "typ in lower case",
	    "{\"alg\":\"RS256\",\"typ\":\"jwt\",\"kid\":\"key1\"}", CLAIMS,
	    S_KEY1, M_NONE, JWT_OK },
	{ "header with white space",
	    " {\"alg\" : \"RS256\",\n\"kid\":\"key1\"}\r\n", CLAIMS, S_KEY1,
	    M_NONE, JWT_OK },
	{ "aud array", HDR, BUT_AUD("\"aud\":[\"other\",\"" APPID "\"]"),
	    S_KEY1, M_NONE, JWT_OK },
	{ "second issuer", HDR, BUT_ISS("\"iss\":\"" ISS2 "\""), S_KEY1,
	    M_NONE, JWT_OK },
	{ "nested duplicates are not top level", HDR,
	    "{" C_ISS "," C_AUD "," C_TIMES "," C_TID
	    ",\"x\":{\"a\":1,\"a\":2}}", S_KEY1, M_NONE, JWT_OK },
	{ "no nbf no iat", HDR, BUT_TIMES(C_EXP), S_KEY1, M_NONE, JWT_OK },

	/* Structure. */
	{ "four segments", HDR, CLAIMS, S_KEY1, M_EXTRA, JWT_MALFORMED },
	{ "header not JSON", "hello", CLAIMS, S_KEY1, M_NONE, JWT_MALFORMED },
	{ "header JSON array", "[{\"alg\":\"RS256\",\"kid\":\"key1\"}]",
	    CLAIMS, S_KEY1, M_NONE, JWT_MALFORMED },
	{ "header JSON number", "1", CLAIMS, S_KEY1, M_NONE, JWT_MALFORMED },
	{ "header trailing garbage", HDR "x", CLAIMS, S_KEY1, M_NONE,
	    JWT_MALFORMED },
	{ "header two objects", HDR "{}", CLAIMS, S_KEY1, M_NONE,
	    JWT_MALFORMED },
	{ "payload JSON array", HDR, "[]", S_KEY1, M_NONE, JWT_MALFORMED },
	{ "payload null", HDR, "null", S_KEY1, M_NONE, JWT_MALFORMED },
	{ "payload truncated", HDR, "{\"iss\":", S_KEY1, M_NONE,
	    JWT_MALFORMED },
	{ "escaped NUL in a claim", HDR,
	    BUT_ISS("\"iss\":\"" ISS1 "\\u0000.evil\""), S_KEY1, M_NONE,
	    JWT_MALFORMED },

	/* Duplicate member names. */
	{ "duplicate alg", "{\"alg\":\"RS256\",\"alg\":\"none\","
	    "\"kid\":\"key1\"}", CLAIMS, S_KEY1, M_NONE,
	    JWT_DUPLICATE_MEMBER },
	{ "duplicate alg none first", "{\"alg\":\"none\",\"alg\":\"RS256\","
	    "\"kid\":\"key1\"}", CLAIMS, S_JUNK, M_NONE,
	    JWT_DUPLICATE_MEMBER },
	{ "duplicate kid", "{\"alg\":\"RS256\",\"kid\":\"key2\","
	    "\"kid\":\"key1\"}", CLAIMS, S_KEY1, M_NONE,
	    JWT_DUPLICATE_MEMBER },
	{ "duplicate claim", HDR, "{" C_ISS "," C_AUD "," C_TIMES "," C_TID
	    ",\"exp\":1}", S_KEY1, M_NONE, JWT_DUPLICATE_MEMBER },
	{ "duplicate tid", HDR, "{" C_ISS "," C_AUD "," C_TIMES "," C_TID
	    ",\"tid\":\"" TENANT2 "\"}", S_KEY1, M_NONE,
	    JWT_DUPLICATE_MEMBER },

	/* Algorithm pinning. */
	{ "alg none empty signature", "{\"alg\":\"none\",\"kid\":\"key1\"}",
	    CLAIMS, S_EMPTY, M_NONE, JWT_MALFORMED },
	{ "alg none with signature", "{\"alg\":\"none\",\"kid\":\"key1\"}",
	    CLAIMS, S_JUNK, M_NONE, JWT_BAD_ALG },
	{ "alg none RS256 signature", "{\"alg\":\"none\",\"kid\":\"key1\"}",
	    CLAIMS, S_KEY1, M_NONE, JWT_BAD_ALG },
	{ "RS256 empty signature", HDR, CLAIMS, S_EMPTY, M_NONE,
	    JWT_MALFORMED },
	{ "HS256 keyed with public PEM",
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"key1\"}", CLAIMS,
	    S_HS256_PEM, M_NONE, JWT_BAD_ALG },
	{ "HS256 keyed with public DER",
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"key1\"}", CLAIMS,
	    S_HS256_DER, M_NONE, JWT_BAD_ALG },
	{ "RS512", "{\"alg\":\"RS512\",\"typ\":\"JWT\",\"kid\":\"key1\"}",
	    CLAIMS, S_KEY1_SHA512, M_NONE, JWT_BAD_ALG },
	{ "RS256 header SHA-512 signature", HDR, CLAIMS, S_KEY1_SHA512,
	    M_NONE, JWT_BAD_SIGNATURE },
	{ "PS256", "{\"alg\":\"PS256\",\"kid\":\"key1\"}", CLAIMS, S_KEY1,
	    M_NONE, JWT_BAD_ALG },
	{ "alg lower case", "{\"alg\":\"rs256\",\"kid\":\"key1\"}", CLAIMS,
	    S_KEY1, M_NONE, JWT_BAD_ALG },
	{ "alg missing", "{\"kid\":\"key1\"}", CLAIMS, S_KEY1, M_NONE,
	    JWT_BAD_ALG },
	{ "alg array", "{\"alg\":[\"RS256\"],\"kid\":\"key1\"}", CLAIMS,
	    S_KEY1, M_NONE, JWT_BAD_ALG },
	{ "empty header", "{}", CLAIMS, S_KEY1, M_NONE, JWT_BAD_ALG },

	/* Header parameters. */
	{ "crit", "{\"alg\":\"RS256\",\"kid\":\"key1\",\"crit\":[\"exp\"],"
	    "\"exp\":1}", CLAIMS, S_KEY1, M_NONE, JWT_BAD_HEADER },
	{ "crit null", "{\"alg\":\"RS256\",\"kid\":\"key1\",\"crit\":null}",
	    CLAIMS, S_KEY1, M_NONE, JWT_BAD_HEADER },
	{ "jku", "{\"alg\":\"RS256\",\"kid\":\"key1\","
	    "\"jku\":\"https://evil.example/keys\"}", CLAIMS, S_KEY1, M_NONE,
	    JWT_BAD_HEADER },
	{ "x5u", "{\"alg\":\"RS256\",\"kid\":\"key1\","
	    "\"x5u\":\"https://evil.example/cert\"}", CLAIMS, S_KEY1, M_NONE,
	    JWT_BAD_HEADER },
	{ "jwk", "{\"alg\":\"RS256\",\"kid\":\"key1\","
	    "\"jwk\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}}", CLAIMS,
	    S_KEY1, M_NONE, JWT_BAD_HEADER },
	{ "typ at+jwt", "{\"alg\":\"RS256\",\"typ\":\"at+jwt\","
	    "\"kid\":\"key1\"}", CLAIMS, S_KEY1, M_NONE, JWT_BAD_HEADER },
	{ "typ number", "{\"alg\":\"RS256\",\"typ\":1,\"kid\":\"key1\"}",
	    CLAIMS, S_KEY1, M_NONE, JWT_BAD_HEADER },

	/* Key lookup. */
	{ "unknown kid", "{\"alg\":\"RS256\",\"kid\":\"nope\"}", CLAIMS,
	    S_KEY1, M_NONE, JWT_UNKNOWN_KID },
	{ "no kid no x5t", "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", CLAIMS,
	    S_KEY1, M_NONE, JWT_UNKNOWN_KID },
	{ "kid number", "{\"alg\":\"RS256\",\"kid\":1}", CLAIMS, S_KEY1,
	    M_NONE, JWT_UNKNOWN_KID },
	{ "kid empty", "{\"alg\":\"RS256\",\"kid\":\"\"}", CLAIMS, S_KEY1,
	    M_NONE, JWT_UNKNOWN_KID },
	{ "kid names a key by its x5t only",
	    "{\"alg\":\"RS256\",\"kid\":\"key3\"}", CLAIMS, S_KEY3, M_NONE,
	    JWT_UNKNOWN_KID },

	/* Signature. */
	{ "signed by another key", HDR, CLAIMS, S_OTHER, M_NONE,
	    JWT_BAD_SIGNATURE },
	{ "kid of key2 signed by key1",
	    "{\"alg\":\"RS256\",\"kid\":\"key2\"}", CLAIMS, S_KEY1, M_NONE,
	    JWT_BAD_SIGNATURE },
	{ "truncated signature", HDR, CLAIMS, S_KEY1, M_DROP2,
	    JWT_BAD_SIGNATURE },
	{ "signature not base64url", HDR, CLAIMS, S_KEY1, M_DROP1,
	    JWT_MALFORMED },
	{ "flipped signature bit", HDR, CLAIMS, S_KEY1, M_FLIP,
	    JWT_BAD_SIGNATURE },
	{ "junk signature", HDR, CLAIMS, S_JUNK, M_NONE, JWT_BAD_SIGNATURE },
	{ "bad signature before expiry", HDR,
	    BUT_TIMES("\"exp\":1"), S_OTHER, M_NONE, JWT_BAD_SIGNATURE },

	/* Issuer and audience. */
	{ "wrong issuer", HDR, BUT_ISS("\"iss\":\"https://evil.example\""),
	    S_KEY1, M_NONE, JWT_BAD_ISSUER },
	{ "issuer with slash", HDR, BUT_ISS("\"iss\":\"" ISS1 "/\""), S_KEY1,
	    M_NONE, JWT_BAD_ISSUER },
	{ "issuer upper case", HDR,
	    BUT_ISS("\"iss\":\"HTTPS://API.BOTFRAMEWORK.COM\""), S_KEY1,
	    M_NONE, JWT_BAD_ISSUER },
	{ "issuer missing", HDR, BUT_ISS("\"x\":1"), S_KEY1, M_NONE,
	    JWT_BAD_ISSUER },
	{ "issuer number", HDR, BUT_ISS("\"iss\":1"), S_KEY1, M_NONE,
	    JWT_BAD_ISSUER },
	{ "issuer before expiry", HDR,
	    "{\"iss\":\"x\"," C_AUD ",\"exp\":1," C_TID "}", S_KEY1, M_NONE,
	    JWT_BAD_ISSUER },
	{ "wrong audience", HDR, BUT_AUD("\"aud\":\"someone-else\""), S_KEY1,
	    M_NONE, JWT_BAD_AUDIENCE },
	{ "audience upper case", HDR,
	    BUT_AUD("\"aud\":\"0EFC74F7-41C3-47A4-8775-7259BFEF4241\""),
	    S_KEY1, M_NONE, JWT_BAD_AUDIENCE },
	{ "audience array without", HDR,
	    BUT_AUD("\"aud\":[\"a\",\"b\",1,null]"), S_KEY1, M_NONE,
	    JWT_BAD_AUDIENCE },
	{ "audience empty array", HDR, BUT_AUD("\"aud\":[]"), S_KEY1, M_NONE,
	    JWT_BAD_AUDIENCE },
	{ "audience nested array", HDR,
	    BUT_AUD("\"aud\":[[\"" APPID "\"]]"), S_KEY1, M_NONE,
	    JWT_BAD_AUDIENCE },
	{ "audience missing", HDR, BUT_AUD("\"x\":1"), S_KEY1, M_NONE,
	    JWT_BAD_AUDIENCE },
	{ "audience number", HDR, BUT_AUD("\"aud\":42"), S_KEY1, M_NONE,
	    JWT_BAD_AUDIENCE },

	/* exp: now >= exp + skew is expired. */
	{ "exp missing", HDR, BUT_TIMES(C_NBF "," C_IAT), S_KEY1, M_NONE,
	    JWT_EXPIRED },
	{ "exp at the skew boundary", HDR, BUT_TIMES("\"exp\":1699999700"),
	    S_KEY1, M_NONE, JWT_EXPIRED },
	{ "exp one second inside skew", HDR,
	    BUT_TIMES("\"exp\":1699999701"), S_KEY1, M_NONE, JWT_OK },
	{ "exp fractional inside", HDR, BUT_TIMES("\"exp\":1699999700.5"),
	    S_KEY1, M_NONE, JWT_OK },
	{ "exp fractional outside", HDR, BUT_TIMES("\"exp\":1699999699.5"),
	    S_KEY1, M_NONE, JWT_EXPIRED },
	{ "exp as a string", HDR, BUT_TIMES("\"exp\":\"1700003600\""),
	    S_KEY1, M_NONE, JWT_EXPIRED },
	{ "exp 1e300", HDR, BUT_TIMES("\"exp\":1e300"), S_KEY1, M_NONE,
	    JWT_EXPIRED },
	{ "exp 1e400", HDR, BUT_TIMES("\"exp\":1e400"), S_KEY1, M_NONE,
	    JWT_EXPIRED },
	{ "exp beyond 2^53", HDR, BUT_TIMES("\"exp\":9007199254740994"),
	    S_KEY1, M_NONE, JWT_EXPIRED },
	{ "exp 2^53", HDR, BUT_TIMES("\"exp\":9007199254740992"), S_KEY1,
	    M_NONE, JWT_OK },
	{ "exp negative", HDR, BUT_TIMES("\"exp\":-1"), S_KEY1, M_NONE,
	    JWT_EXPIRED },
	{ "exp null", HDR, BUT_TIMES("\"exp\":null"), S_KEY1, M_NONE,
	    JWT_EXPIRED },
	{ "exp true", HDR, BUT_TIMES("\"exp\":true"), S_KEY1, M_NONE,
	    JWT_EXPIRED },
	{ "exp array", HDR, BUT_TIMES("\"exp\":[1700003600]"), S_KEY1,
	    M_NONE, JWT_EXPIRED },

	/* nbf: now < nbf - skew is not yet valid. */
	{ "nbf at the skew boundary", HDR,
	    BUT_TIMES(C_EXP ",\"nbf\":1700000300"), S_KEY1, M_NONE, JWT_OK },
	{ "nbf one second beyond skew", HDR,
	    BUT_TIMES(C_EXP ",\"nbf\":1700000301"), S_KEY1, M_NONE,
	    JWT_NOT_YET_VALID },
	{ "nbf fractional beyond", HDR,
	    BUT_TIMES(C_EXP ",\"nbf\":1700000300.5"), S_KEY1, M_NONE,
	    JWT_NOT_YET_VALID },
	{ "nbf as a string", HDR,
	    BUT_TIMES(C_EXP ",\"nbf\":\"1699999940\""), S_KEY1, M_NONE,
	    JWT_NOT_YET_VALID },
	{ "nbf 1e300", HDR, BUT_TIMES(C_EXP ",\"nbf\":1e300"), S_KEY1,
	    M_NONE, JWT_NOT_YET_VALID },
	{ "nbf null", HDR, BUT_TIMES(C_EXP ",\"nbf\":null"), S_KEY1, M_NONE,
	    JWT_NOT_YET_VALID },

	/* iat: iat > now + skew is not yet valid. */
	{ "iat at the skew boundary", HDR,
	    BUT_TIMES(C_EXP ",\"iat\":1700000300"), S_KEY1, M_NONE, JWT_OK },
	{ "iat one second beyond skew", HDR,
	    BUT_TIMES(C_EXP ",\"iat\":1700000301"), S_KEY1, M_NONE,
	    JWT_NOT_YET_VALID },
	{ "iat as a string", HDR, BUT_TIMES(C_EXP ",\"iat\":\"now\""),
	    S_KEY1, M_NONE, JWT_NOT_YET_VALID },
	{ "iat 1e300", HDR, BUT_TIMES(C_EXP ",\"iat\":1e300"), S_KEY1,
	    M_NONE, JWT_NOT_YET_VALID },
	{ "expiry before nbf", HDR,
	    BUT_TIMES("\"exp\":1,\"nbf\":1800000000"), S_KEY1, M_NONE,
	    JWT_EXPIRED },

	/* Tenant. */
	{ "tid missing", HDR, BUT_TID(""), S_KEY1, M_NONE, JWT_NO_TENANT },
	{ "tid empty", HDR, BUT_TID(",\"tid\":\"\""), S_KEY1, M_NONE,
	    JWT_NO_TENANT },
	{ "tid number", HDR, BUT_TID(",\"tid\":42"), S_KEY1, M_NONE,
	    JWT_NO_TENANT },
	{ "tid not listed", HDR,
	    BUT_TID(",\"tid\":\"11111111-1111-1111-1111-111111111111\""),
	    S_KEY1, M_NONE, JWT_BAD_TENANT },
	{ "tid upper case", HDR, BUT_TID(",\"tid\":\"" TENANT_UC "\""),
	    S_KEY1, M_NONE, JWT_OK },
	{ "tid second listed", HDR, BUT_TID(",\"tid\":\"" TENANT2 "\""),
	    S_KEY1, M_NONE, JWT_OK },
	{ "tid prefix", HDR, BUT_TID(",\"tid\":\"72f988bf\""), S_KEY1,
	    M_NONE, JWT_BAD_TENANT },
};

static void
test_verify_table(void **state)
{
	const struct vcase	*c;
	struct jwt_claims	 cl;
	enum jwt_result		 r;
	size_t			 i;
	char			*tok;
	int			 bad = 0;

	(void)state;
	for (i = 0; i < NELEM(verify_cases); i++) {
		c = &verify_cases[i];
		tok = token_make(c->header, c->payload, c->signer, c->mut);
		r = jwt_verify(tok, strlen(tok), fx.set, &fx.policy, &cl);
		if (r != c->want) {
			print_error("case \"%s\": got %s, want %s\n", c->name,
			    jwt_result_name(r), jwt_result_name(c->want));
			bad++;
		}
		free(tok);
	}
	assert_int_equal(bad, 0);
}

struct rcase {
	const char	*name;
	const char	*token;
	size_t		 len;		/* 0: strlen */
	enum jwt_result	 want;
};

static const struct rcase raw_cases[] = {
	{ "empty", "", 0, JWT_MALFORMED },
	{ "garbage", "garbage", 0, JWT_MALFORMED },
	{ "binary", "\xff\xfe\x01.\x80.\x7f", 0, JWT_MALFORMED },
	{ "two segments", "eyJhbGciOiJSUzI1NiJ9.e30", 0, JWT_MALFORMED },
	{ "one dot", ".", 0, JWT_MALFORMED },
	{ "only dots", "..", 0, JWT_MALFORMED },
	{ "four dots", "a.b.c.d.e", 0, JWT_MALFORMED },
	{ "empty header", ".e30.AAAA", 0, JWT_MALFORMED },
	{ "empty payload", "eyJhbGciOiJSUzI1NiJ9..AAAA", 0, JWT_MALFORMED },
	{ "short segment", "eyJ.eyJ.AAAA", 0, JWT_MALFORMED },
	{ "padding", "eyJhbGciOiJSUzI1NiJ9.e30=.AAAA", 0, JWT_MALFORMED },
	{ "standard alphabet", "eyJhbGciOiJSUzI1NiJ9.e30.AA+/", 0,
	    JWT_MALFORMED },
	{ "space inside", "eyJhbGciOiJSUzI1NiJ9. e30.AAAA", 0,
	    JWT_MALFORMED },
	{ "non-canonical bits", "eyJhbGciOiJSUzI1NiJ9.e31.AAAA", 0,
	    JWT_MALFORMED },
	{ "NUL in the middle", "eyJhbGciOiJSUzI1NiJ9\0.e30.AAAA", 25,
	    JWT_MALFORMED },
	/* {"alg":"RS256","kid":"key1"} then a NUL byte, base64url'd. */
	{ "NUL inside header JSON",
	    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleTEifQA.e30.AAAA", 0,
	    JWT_MALFORMED },
};

static void
test_verify_raw(void **state)
{
	const struct rcase	*c;
	enum jwt_result		 r;
	size_t			 i;
	int			 bad = 0;

	(void)state;
	for (i = 0; i < NELEM(raw_cases); i++) {
		c = &raw_cases[i];
		r = jwt_verify(c->token, c->len != 0 ? c->len :
		    strlen(c->token), fx.set, &fx.policy, NULL);
		if (r != c->want) {
			print_error("case \"%s\": got %s, want %s\n", c->name,
			    jwt_result_name(r), jwt_result_name(c->want));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_claims_filled(void **state)
{
	struct jwt_claims	 cl;
	char			*tok;

	(void)state;
	tok = token_make(HDR, "{" C_ISS "," C_AUD ",\"exp\":1700003600.9,"
	    C_NBF "," C_IAT "," C_TID "}", S_KEY1, M_NONE);
	memset(&cl, 'x', sizeof(cl));
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    &cl), JWT_OK);
	assert_string_equal(cl.kid, "key1");
	assert_string_equal(cl.iss, ISS1);
	assert_string_equal(cl.tid, TENANT);
	assert_int_equal(cl.exp, 1700003600);
	assert_int_equal(cl.nbf, 1699999940);
	assert_int_equal(cl.iat, 1699999940);
	free(tok);

	/* Nothing from an unverified payload. */
	tok = token_make(HDR, CLAIMS, S_OTHER, M_NONE);
	memset(&cl, 'x', sizeof(cl));
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    &cl), JWT_BAD_SIGNATURE);
	assert_string_equal(cl.kid, "key1");
	assert_string_equal(cl.iss, "");
	assert_string_equal(cl.tid, "");
	assert_int_equal(cl.exp, -1);
	assert_int_equal(cl.nbf, -1);
	assert_int_equal(cl.iat, -1);
	free(tok);

	/* As far as read: the issuer, for the log. */
	tok = token_make(HDR, BUT_ISS("\"iss\":\"https://evil\\n.example\""),
	    S_KEY1, M_NONE);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    &cl), JWT_BAD_ISSUER);
	assert_string_equal(cl.iss, "https://evil?.example");
	assert_int_equal(cl.exp, -1);
	free(tok);

	tok = token_make(HDR, BUT_TIMES(C_EXP ",\"nbf\":1800000000"), S_KEY1,
	    M_NONE);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    &cl), JWT_NOT_YET_VALID);
	assert_int_equal(cl.exp, 1700003600);
	assert_int_equal(cl.nbf, 1800000000);
	assert_string_equal(cl.tid, "");
	free(tok);

	/* A long kid is cut, not overrun. */
	{
		char	hdr[1024];

		snprintf(hdr, sizeof(hdr),
		    "{\"alg\":\"RS256\",\"kid\":\"%0600d\"}", 7);
		tok = token_make(hdr, CLAIMS, S_KEY1, M_NONE);
		assert_int_equal(jwt_verify(tok, strlen(tok), fx.set,
		    &fx.policy, &cl), JWT_UNKNOWN_KID);
		assert_int_equal(strlen(cl.kid), JWT_MAX_CLAIM - 1);
		free(tok);
	}
}

static void
test_x5t_lookup(void **state)
{
	struct jwt_claims	 cl;
	char			 hdr[256];
	char			*tok;

	(void)state;
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"typ\":\"JWT\","
	    "\"x5t\":\"%s\"}", fx.x5t3);
	tok = token_make(hdr, CLAIMS, S_KEY3, M_NONE);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    &cl), JWT_OK);
	assert_string_equal(cl.kid, fx.x5t3);
	free(tok);

	/* kid wins over x5t when both are given. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"key1\","
	    "\"x5t\":\"%s\"}", fx.x5t3);
	tok = token_make(hdr, CLAIMS, S_KEY3, M_NONE);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    &cl), JWT_BAD_SIGNATURE);
	free(tok);

	tok = token_make("{\"alg\":\"RS256\","
	    "\"x5t\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", CLAIMS, S_KEY3, M_NONE);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    &cl), JWT_UNKNOWN_KID);
	free(tok);
}

static void
test_token_length(void **state)
{
	char			*tok, *big, pl[JWT_MAX_TOKEN];
	size_t			 pad, len;

	(void)state;
	/* The longest valid token passes; one byte more is refused. */
	for (pad = JWT_MAX_TOKEN / 4 * 3 - 600; ; pad++) {
		assert_true(pad < sizeof(pl) - 200);
		snprintf(pl, sizeof(pl), "{" C_ISS "," C_AUD "," C_TIMES ","
		    C_TID ",\"x\":\"%0*d\"}", (int)pad, 0);
		tok = token_make(HDR, pl, S_KEY1, M_NONE);
		len = strlen(tok);
		if (len > JWT_MAX_TOKEN - 2)
			break;
		free(tok);
	}
	assert_true(len <= JWT_MAX_TOKEN + 1);
	if (len <= JWT_MAX_TOKEN)
		assert_int_equal(jwt_verify(tok, len, fx.set, &fx.policy,
		    NULL), JWT_OK);
	free(tok);

	big = malloc(JWT_MAX_TOKEN + 1);
	assert_non_null(big);
	memset(big, 'A', JWT_MAX_TOKEN + 1);
	big[100] = big[200] = '.';
	assert_int_equal(jwt_verify(big, JWT_MAX_TOKEN + 1, fx.set,
	    &fx.policy, NULL), JWT_MALFORMED);
	free(big);
}

static void
test_embedded_nul(void **state)
{
	char	*tok, *copy, *dot;
	size_t	 len;

	(void)state;
	tok = token_make(HDR, CLAIMS, S_KEY1, M_NONE);
	len = strlen(tok);
	assert_int_equal(jwt_verify(tok, len, fx.set, &fx.policy, NULL),
	    JWT_OK);

	/* A NUL after the token, inside the length. */
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, tok, len + 1);
	assert_int_equal(jwt_verify(copy, len + 1, fx.set, &fx.policy,
	    NULL), JWT_MALFORMED);

	/* A NUL in the payload segment. */
	dot = strchr(copy, '.');
	dot[5] = '\0';
	assert_int_equal(jwt_verify(copy, len, fx.set, &fx.policy, NULL),
	    JWT_MALFORMED);
	free(copy);
	free(tok);

	/* A NUL byte inside the decoded payload JSON, validly signed. */
	tok = token_make_raw(HDR, strlen(HDR), CLAIMS "\0",
	    sizeof(CLAIMS), S_KEY1);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    NULL), JWT_MALFORMED);
	free(tok);
}

static void
test_policy_edges(void **state)
{
	struct jwt_policy	 p;
	char			*tok, *empty_aud;
	char			 pl[512];

	(void)state;
	tok = token_make(HDR, BUT_TID(",\"tid\":\"any-tenant\""), S_KEY1,
	    M_NONE);

	/* No tenants listed: any tenant. */
	p = fx.policy;
	p.tenants[0] = NULL;
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &p, NULL),
	    JWT_OK);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    NULL), JWT_BAD_TENANT);

	/* Nothing configured: nothing passes. */
	assert_int_equal(jwt_verify(tok, strlen(tok), NULL, &p, NULL),
	    JWT_UNKNOWN_KID);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, NULL, NULL),
	    JWT_BAD_ISSUER);
	assert_int_equal(jwt_verify(NULL, 10, fx.set, &p, NULL),
	    JWT_MALFORMED);
	p.issuers[0] = NULL;
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &p, NULL),
	    JWT_BAD_ISSUER);
	free(tok);

	/* An unset audience never matches an empty aud. */
	empty_aud = token_make(HDR, BUT_AUD("\"aud\":\"\""), S_KEY1, M_NONE);
	p = fx.policy;
	p.audience = "";
	assert_int_equal(jwt_verify(empty_aud, strlen(empty_aud), fx.set, &p,
	    NULL), JWT_BAD_AUDIENCE);
	p.audience = NULL;
	assert_int_equal(jwt_verify(empty_aud, strlen(empty_aud), fx.set, &p,
	    NULL), JWT_BAD_AUDIENCE);
	free(empty_aud);

	/* An empty issuer is never an issuer. */
	tok = token_make(HDR, BUT_ISS("\"iss\":\"\""), S_KEY1, M_NONE);
	p = fx.policy;
	p.issuers[0] = "";
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &p, NULL),
	    JWT_BAD_ISSUER);
	free(tok);

	/* Zero skew moves the boundaries onto now itself. */
	p = fx.policy;
	p.skew = 0;
	snprintf(pl, sizeof(pl), BUT_TIMES("\"exp\":%lld,\"nbf\":%lld"), NOW,
	    NOW);
	tok = token_make(HDR, pl, S_KEY1, M_NONE);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &p, NULL),
	    JWT_EXPIRED);
	free(tok);
	snprintf(pl, sizeof(pl), BUT_TIMES("\"exp\":%lld,\"nbf\":%lld"),
	    NOW + 1, NOW);
	tok = token_make(HDR, pl, S_KEY1, M_NONE);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &p, NULL),
	    JWT_OK);
	free(tok);

	/* A tid one byte too long for the claims buffer. */
	snprintf(pl, sizeof(pl), BUT_TID(",\"tid\":\"%0*d\""),
	    JWT_MAX_CLAIM, 0);
	tok = token_make(HDR, pl, S_KEY1, M_NONE);
	assert_int_equal(jwt_verify(tok, strlen(tok), fx.set, &fx.policy,
	    NULL), JWT_NO_TENANT);
	free(tok);
}

static void
test_result_names(void **state)
{
	static const char *const want[] = {
		"ok", "malformed", "duplicate_member", "bad_alg", "bad_header",
		"unknown_kid", "bad_signature", "bad_issuer", "bad_audience",
		"expired", "not_yet_valid", "no_tenant", "bad_tenant"
	};
	size_t	 i;

	(void)state;
	assert_int_equal(NELEM(want), JWT_RESULT_MAX);
	for (i = 0; i < NELEM(want); i++)
		assert_string_equal(jwt_result_name((enum jwt_result)i),
		    want[i]);
	assert_string_equal(jwt_result_name(JWT_RESULT_MAX), "unknown");
	assert_string_equal(jwt_result_name((enum jwt_result)-1), "unknown");
}

/* Number of keys jwks_parse keeps; 0 (with an error text) for none. */
static size_t
parse_count(const char *json, size_t len, struct jwks **keep)
{
	struct jwks	*set;
	char		 err[64];
	size_t		 n;

	memset(err, 'x', sizeof(err));
	set = jwks_parse(json, len, err, sizeof(err));
	if (set == NULL) {
		assert_true(err[0] != '\0' && err[0] != 'x');
		assert_non_null(memchr(err, '\0', sizeof(err)));
	} else
		assert_string_equal(err, "");
	n = jwks_count(set);
	if (keep != NULL)
		*keep = set;
	else
		jwks_free(set);
	return n;
}

static size_t
parse_keys(cJSON *arr, struct jwks **keep)
{
	char	*text;
	size_t	 n;

	text = keyset(arr);
	n = parse_count(text, strlen(text), keep);
	free(text);
	return n;
}

static cJSON *
jwk_set(cJSON *o, const char *name, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	if (value != NULL)
		assert_non_null(cJSON_AddStringToObject(o, name, value));
	return o;
}

static cJSON *
arr_of(cJSON *a, cJSON *b)
{
	cJSON	*arr;

	arr = cJSON_CreateArray();
	assert_non_null(arr);
	if (a != NULL)
		cJSON_AddItemToArray(arr, a);
	if (b != NULL)
		cJSON_AddItemToArray(arr, b);
	return arr;
}

static void
test_jwks_valid(void **state)
{
	(void)state;
	assert_int_equal(jwks_count(fx.set), 3);
	assert_true(jwks_has(fx.set, "key1"));
	assert_true(jwks_has(fx.set, "key2"));
	assert_true(jwks_has(fx.set, fx.x5t3));
	assert_false(jwks_has(fx.set, "key3"));
	assert_false(jwks_has(fx.set, ""));
	assert_false(jwks_has(fx.set, NULL));
	assert_false(jwks_has(NULL, "key1"));
	assert_int_equal(jwks_count(NULL), 0);
	jwks_free(NULL);
}

static void
test_jwks_skipped(void **state)
{
	struct jwks	*set;
	cJSON		*k;

	(void)state;
	assert_int_equal(parse_keys(arr_of(NULL, NULL), NULL), 0);

	/* A weak key is skipped; alone, it is no key set. */
	assert_int_equal(parse_keys(arr_of(jwk(fx.weak, "weak"),
	    jwk(fx.key1, "key1")), &set), 1);
	assert_true(jwks_has(set, "key1"));
	assert_false(jwks_has(set, "weak"));
	jwks_free(set);
	assert_int_equal(parse_keys(arr_of(jwk(fx.weak, "weak"), NULL), NULL),
	    0);

	/* Other key types, uses and algorithms. */
	k = cJSON_Parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ec\","
	    "\"x\":\"AAAA\",\"y\":\"AAAA\"}");
	assert_int_equal(parse_keys(arr_of(k, jwk(fx.key1, "key1")), &set),
	    1);
	assert_false(jwks_has(set, "ec"));
	jwks_free(set);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "kty",
	    "EC"), NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "kty",
	    NULL), NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "kty",
	    "rsa"), NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "use",
	    "enc"), NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "use",
	    NULL), NULL), NULL), 1);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "alg",
	    "RS512"), NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "alg",
	    NULL), NULL), NULL), 1);

	/* No kid and no x5t: nothing to find it by. */
	assert_int_equal(parse_keys(arr_of(jwk(fx.key1, NULL),
	    jwk(fx.key2, "key2")), &set), 1);
	assert_true(jwks_has(set, "key2"));
	jwks_free(set);
	k = jwk(fx.key1, "k");
	cJSON_DeleteItemFromObjectCaseSensitive(k, "kid");
	assert_non_null(cJSON_AddNumberToObject(k, "kid", 1));
	assert_int_equal(parse_keys(arr_of(k, NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "kid",
	    ""), NULL), NULL), 0);

	/* Bad n and e. */
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "n",
	    "AQAB=="), jwk(fx.key2, "key2")), NULL), 1);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "n",
	    "!!!!"), NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "n",
	    ""), NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "n",
	    NULL), NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "e",
	    "AQ"), NULL), NULL), 0);		/* e = 1 */
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "e",
	    "AAEAAA"), NULL), NULL), 0);	/* even */
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "e",
	    "AQABAQABAQABAQAB"), NULL), NULL), 0);	/* 12 bytes */
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key1, "k"), "e",
	    NULL), NULL), NULL), 0);

	/* A kid given twice in the set: the first stands. */
	assert_int_equal(parse_keys(arr_of(jwk(fx.key1, "k"),
	    jwk(fx.key2, "k")), NULL), 1);

	/* Duplicate members inside a key. */
	k = jwk(fx.key1, "k");
	cJSON_AddItemToObject(k, "kid", cJSON_CreateString("k2"));
	assert_int_equal(parse_keys(arr_of(k, NULL), NULL), 0);
}

static void
test_jwks_kid_length(void **state)
{
	char	 kid[JWT_MAX_CLAIM + 1];

	(void)state;
	memset(kid, 'k', sizeof(kid));
	kid[JWT_MAX_CLAIM - 1] = '\0';
	assert_int_equal(parse_keys(arr_of(jwk(fx.key1, kid), NULL), NULL),
	    1);
	kid[JWT_MAX_CLAIM - 1] = 'k';
	kid[JWT_MAX_CLAIM] = '\0';
	assert_int_equal(parse_keys(arr_of(jwk(fx.key1, kid), NULL), NULL),
	    0);
}

static void
test_jwks_x5c(void **state)
{
	struct jwks	*set;
	cJSON		*k, *x5c;

	(void)state;
	/* x5c and the x5t derived from it; x5t given and agreeing. */
	k = jwk(fx.key3, NULL);
	x5c = cJSON_CreateStringArray((const char *const []){ fx.x5c3 }, 1);
	cJSON_AddItemToObject(k, "x5c", x5c);
	jwk_set(k, "x5t", fx.x5t3);
	assert_int_equal(parse_keys(arr_of(k, NULL), &set), 1);
	assert_true(jwks_has(set, fx.x5t3));
	jwks_free(set);

	/* A certificate for another key: skipped. */
	k = jwk(fx.key1, "key1");
	x5c = cJSON_CreateStringArray((const char *const []){ fx.x5c3 }, 1);
	cJSON_AddItemToObject(k, "x5c", x5c);
	assert_int_equal(parse_keys(arr_of(k, NULL), NULL), 0);

	/* An x5t that is not the certificate's. */
	k = jwk(fx.key3, "key3");
	x5c = cJSON_CreateStringArray((const char *const []){ fx.x5c3 }, 1);
	cJSON_AddItemToObject(k, "x5c", x5c);
	jwk_set(k, "x5t", "AAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(parse_keys(arr_of(k, NULL), NULL), 0);

	/* An x5t alone names the key. */
	k = jwk_set(jwk(fx.key3, NULL), "x5t", fx.x5t3);
	assert_int_equal(parse_keys(arr_of(k, NULL), &set), 1);
	assert_true(jwks_has(set, fx.x5t3));
	jwks_free(set);

	/* Malformed x5t and x5c. */
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key3, NULL),
	    "x5t", "AAAA"), NULL), NULL), 0);
	assert_int_equal(parse_keys(arr_of(jwk_set(jwk(fx.key3, "k"),
	    "x5c", fx.x5c3), NULL), NULL), 0);		/* not an array */
	k = jwk(fx.key3, "k");
	x5c = cJSON_CreateStringArray((const char *const []){ "AAAA!" }, 1);
	cJSON_AddItemToObject(k, "x5c", x5c);
	assert_int_equal(parse_keys(arr_of(k, NULL), NULL), 0);
	k = jwk(fx.key3, "k");
	x5c = cJSON_CreateStringArray((const char *const []){ "AAAA" }, 1);
	cJSON_AddItemToObject(k, "x5c", x5c);
	assert_int_equal(parse_keys(arr_of(k, NULL), NULL), 0);
	k = jwk(fx.key3, "k");
	cJSON_AddItemToObject(k, "x5c", cJSON_CreateArray());
	assert_int_equal(parse_keys(arr_of(k, NULL), NULL), 1);
}

static void
test_jwks_bounds(void **state)
{
	struct jwks	*set;
	cJSON		*arr;
	char		 kid[16], *big;
	int		 i;

	(void)state;
	arr = cJSON_CreateArray();
	assert_non_null(arr);
	for (i = 0; i < 70; i++) {
		snprintf(kid, sizeof(kid), "k%d", i);
		cJSON_AddItemToArray(arr, jwk(fx.key1, kid));
	}
	assert_int_equal(parse_keys(arr, &set), 64);
	assert_true(jwks_has(set, "k0"));
	assert_true(jwks_has(set, "k63"));
	assert_false(jwks_has(set, "k64"));
	jwks_free(set);

	big = malloc(1024 * 1024 + 1);
	assert_non_null(big);
	memset(big, ' ', 1024 * 1024 + 1);
	memcpy(big, "{\"keys\":[]}", 11);
	assert_int_equal(parse_count(big, 1024 * 1024 + 1, NULL), 0);
	assert_int_equal(parse_count(big, 1024 * 1024, NULL), 0);
	free(big);
}

static void
test_jwks_not_jwks(void **state)
{
	static const char *const docs[] = {
		"", "nope", "null", "[]", "{}", "{\"keys\":{}}",
		"{\"keys\":null}", "{\"Keys\":[]}", "{\"keys\":[1,\"a\",[]]}",
		"{\"keys\":[]}x", "{\"keys\":[],\"keys\":[]}", "{\"keys\":[",
	};
	struct jwks	*set;
	char		 err[8], *text, *nul;
	size_t		 i, len;

	(void)state;
	for (i = 0; i < NELEM(docs); i++)
		assert_int_equal(parse_count(docs[i], strlen(docs[i]), NULL),
		    0);
	assert_null(jwks_parse(NULL, 10, NULL, 0));

	/* A short error buffer is cut, and NUL-terminated. */
	assert_null(jwks_parse("{}", 2, err, sizeof(err)));
	assert_int_equal(strlen(err), sizeof(err) - 1);

	/* A valid key set with a NUL inside, or after, its length. */
	text = keyset(arr_of(jwk(fx.key1, "key1"), NULL));
	len = strlen(text);
	assert_int_equal(parse_count(text, len, NULL), 1);
	assert_int_equal(parse_count(text, len + 1, NULL), 0);
	nul = strchr(text, ',');
	*nul = '\0';
	assert_int_equal(parse_count(text, len, NULL), 0);
	free(text);

	/* Not NUL-terminated at all: an exact-size copy. */
	text = keyset(arr_of(jwk(fx.key1, "key1"), NULL));
	len = strlen(text);
	nul = malloc(len);
	assert_non_null(nul);
	memcpy(nul, text, len);
	set = jwks_parse(nul, len, NULL, 0);
	assert_int_equal(jwks_count(set), 1);
	jwks_free(set);
	free(nul);
	free(text);
}

/* x5t computed here without jwt.c: SHA-1 of the DER, base64url. */
static char *
x5t_of(X509 *x)
{
	unsigned char	*der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		*out;
	size_t		 len;
	int		 derlen;

	derlen = i2d_X509(x, &der);
	assert_true(derlen > 0);
	assert_int_equal(EVP_Digest(der, derlen, md, &mdlen, EVP_sha1(),
	    NULL), 1);
	assert_int_equal(mdlen, 20);
	len = sodium_base64_ENCODED_LEN(mdlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	out = malloc(len);
	assert_non_null(out);
	sodium_bin2base64(out, len, md, mdlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	OPENSSL_free(der);
	return out;
}

/* One segment of a compact JWS, base64url-decoded and parsed. */
static cJSON *
segment_json(const char *seg, size_t len)
{
	unsigned char	*bin;
	size_t		 binlen;
	cJSON		*o;

	assert_int_equal(jwt_base64url_decode(seg, len, &bin, &binlen), 0);
	o = cJSON_ParseWithLength((const char *)bin, binlen);
	assert_true(cJSON_IsObject(o));
	free(bin);
	return o;
}

/* o has exactly n members, and each named one is a string or number. */
static void
members_exact(const cJSON *o, const char *const *names, size_t n,
    size_t nstrings)
{
	const cJSON	*item;
	size_t		 i;

	assert_int_equal(cJSON_GetArraySize(o), n);
	for (i = 0; i < n; i++) {
		item = cJSON_GetObjectItemCaseSensitive(o, names[i]);
		if (item == NULL)
			fail_msg("member %s missing", names[i]);
		if (i < nstrings ? !cJSON_IsString(item) :
		    !cJSON_IsNumber(item))
			fail_msg("member %s has the wrong type", names[i]);
	}
}

static int
rs256_verifies(X509 *cert, const char *input, size_t inlen,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;
	int		 ok;

	ctx = EVP_MD_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL,
	    X509_get0_pubkey(cert)), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0);
	ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)input,
	    inlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void
test_x5t(void **state)
{
	X509	*c1, *c2;
	char	*x5t, *want, *other;
	size_t	 i;

	(void)state;
	c1 = make_cert(fx.key1, "one");
	c2 = make_cert(fx.key2, "two");
	assert_int_equal(jwt_x5t(c1, &x5t), 0);
	want = x5t_of(c1);
	assert_string_equal(x5t, want);
	/* 20 bytes: 27 characters, URL-safe, no padding. */
	assert_int_equal(strlen(x5t), 27);
	for (i = 0; x5t[i] != '\0'; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_", x5t[i]));
	assert_int_equal(jwt_x5t(c2, &other), 0);
	assert_string_not_equal(x5t, other);
	free(other);
	free(want);
	free(x5t);

	/* The x5t jwks.c finds a key by (from x5c) is this one. */
	assert_int_equal(jwks_has(fx.set, fx.x5t3), 1);
	x5t = (char *)1;
	assert_int_equal(jwt_x5t(NULL, &x5t), -1);
	assert_null(x5t);
	X509_free(c2);
	X509_free(c1);
}

static void
test_client_assertion(void **state)
{
	static const char *const hnames[] = { "alg", "typ", "x5t" };
	static const char *const cnames[] = {
		"aud", "iss", "sub", "jti", "nbf", "iat", "exp",
	};
	static const long long nows[] = { NOW, 4102444800LL };
	const char	*aud = "https://login.microsoftonline.com/" TENANT
			    "/oauth2/v2.0/token";
	const char	*jti = "3f7c5d2e-9a1b-4c8d-8e0f-1a2b3c4d5e6f";
	X509		*cert;
	cJSON		*h, *c;
	char		*tok, *want, *d1, *d2, num[32];
	unsigned char	*sig, *raw;
	size_t		 siglen, rawlen, i;

	(void)state;
	cert = make_cert(fx.key1, "polrec client");
	want = x5t_of(cert);
	for (i = 0; i < NELEM(nows); i++) {
		assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, aud,
		    jti, nows[i], 600, &tok), 0);
		d1 = strchr(tok, '.');
		assert_non_null(d1);
		d2 = strchr(d1 + 1, '.');
		assert_non_null(d2);
		assert_null(strchr(d2 + 1, '.'));

		h = segment_json(tok, d1 - tok);
		members_exact(h, hnames, NELEM(hnames), NELEM(hnames));
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(h,
		    "alg")->valuestring, "RS256");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(h,
		    "typ")->valuestring, "JWT");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(h,
		    "x5t")->valuestring, want);

		c = segment_json(d1 + 1, d2 - d1 - 1);
		members_exact(c, cnames, NELEM(cnames), 4);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(c,
		    "aud")->valuestring, aud);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(c,
		    "iss")->valuestring, APPID);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(c,
		    "sub")->valuestring, APPID);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(c,
		    "jti")->valuestring, jti);
		assert_true(cJSON_GetObjectItemCaseSensitive(c,
		    "nbf")->valuedouble == (double)nows[i]);
		assert_true(cJSON_GetObjectItemCaseSensitive(c,
		    "iat")->valuedouble == (double)nows[i]);
		assert_true(cJSON_GetObjectItemCaseSensitive(c,
		    "exp")->valuedouble == (double)(nows[i] + 600));
		/* Times are written as integers, past 2038 too. */
		assert_int_equal(jwt_base64url_decode(d1 + 1, d2 - d1 - 1,
		    &raw, &rawlen), 0);
		snprintf(num, sizeof(num), "\"exp\":%lld}", nows[i] + 600);
		if (strstr((char *)raw, num) == NULL)
			fail_msg("exp not an integer in %s", (char *)raw);
		free(raw);

		/* The signature, checked with the certificate's key. */
		assert_int_equal(jwt_base64url_decode(d2 + 1, strlen(d2 + 1),
		    &sig, &siglen), 0);
		assert_int_equal(siglen, 256);
		assert_true(rs256_verifies(cert, tok, d2 - tok, sig, siglen));
		tok[d1 - tok + 3] ^= 1;
		assert_false(rs256_verifies(cert, tok, d2 - tok, sig, siglen));
		free(sig);
		cJSON_Delete(c);
		cJSON_Delete(h);
		free(tok);
	}
	free(want);
	X509_free(cert);
}

static void
test_client_assertion_bad(void **state)
{
	const char	*aud = "https://login.microsoftonline.com/t/token";
	EVP_PKEY	*ec;
	X509		*cert, *cert2, *eccert;
	char		*tok;

	(void)state;
	cert = make_cert(fx.key1, "one");
	cert2 = make_cert(fx.key2, "two");
	ec = EVP_EC_gen("P-256");
	assert_non_null(ec);
	eccert = make_cert(ec, "ec");

	/* The key must be the certificate's, and RSA. */
	tok = (char *)1;
	assert_int_equal(jwt_client_assertion(fx.key1, cert2, APPID, aud,
	    "j", NOW, 600, &tok), -1);
	assert_null(tok);
	assert_int_equal(jwt_client_assertion(ec, eccert, APPID, aud, "j",
	    NOW, 600, &tok), -1);
	assert_int_equal(jwt_client_assertion(ec, cert, APPID, aud, "j", NOW,
	    600, &tok), -1);

	/* Everything is required. */
	assert_int_equal(jwt_client_assertion(NULL, cert, APPID, aud, "j",
	    NOW, 600, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, NULL, APPID, aud, "j",
	    NOW, 600, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, NULL, aud, "j",
	    NOW, 600, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, "", aud, "j",
	    NOW, 600, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, NULL, "j",
	    NOW, 600, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, "", "j",
	    NOW, 600, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, aud, NULL,
	    NOW, 600, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, aud, "",
	    NOW, 600, &tok), -1);

	/* Times that a JSON number cannot hold exactly, or make no sense. */
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, aud, "j",
	    NOW, 0, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, aud, "j",
	    NOW, -600, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, aud, "j",
	    -1, 600, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, aud, "j",
	    9007199254740991LL, 1, &tok), -1);
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, aud, "j",
	    NOW, 9223372036854775807LL, &tok), -1);
	assert_null(tok);

	/* And with all of it right, it works. */
	assert_int_equal(jwt_client_assertion(fx.key1, cert, APPID, aud, "j",
	    0, 1, &tok), 0);
	free(tok);
	X509_free(eccert);
	EVP_PKEY_free(ec);
	X509_free(cert2);
	X509_free(cert);
}

static int
setup(void **state)
{
	cJSON	*arr, *k3;
	char	*text, err[64];

	(void)state;
	if (sodium_init() < 0)
		return -1;
	if ((fx.key1 = EVP_RSA_gen(2048)) == NULL ||
	    (fx.key2 = EVP_RSA_gen(2048)) == NULL ||
	    (fx.key3 = EVP_RSA_gen(2048)) == NULL ||
	    (fx.other = EVP_RSA_gen(2048)) == NULL ||
	    (fx.weak = EVP_RSA_gen(1024)) == NULL)
		return -1;
	self_signed(fx.key3, &fx.x5c3, &fx.x5t3);
	k3 = jwk(fx.key3, NULL);
	cJSON_AddItemToObject(k3, "x5c",
	    cJSON_CreateStringArray((const char *const []){ fx.x5c3 }, 1));
	arr = arr_of(jwk(fx.key1, "key1"), jwk(fx.key2, "key2"));
	cJSON_AddItemToArray(arr, k3);
	text = keyset(arr);
	fx.set = jwks_parse(text, strlen(text), err, sizeof(err));
	free(text);
	if (fx.set == NULL)
		return -1;

	fx.policy.issuers[0] = ISS1;
	fx.policy.issuers[1] = ISS2;
	fx.policy.audience = APPID;
	fx.policy.tenants[0] = TENANT;
	fx.policy.tenants[1] = TENANT2;
	fx.policy.now = NOW;
	fx.policy.skew = SKEW;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	jwks_free(fx.set);
	free(fx.x5t3);
	free(fx.x5c3);
	EVP_PKEY_free(fx.weak);
	EVP_PKEY_free(fx.other);
	EVP_PKEY_free(fx.key3);
	EVP_PKEY_free(fx.key2);
	EVP_PKEY_free(fx.key1);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_table),
		cmocka_unit_test(test_verify_raw),
		cmocka_unit_test(test_claims_filled),
		cmocka_unit_test(test_x5t_lookup),
		cmocka_unit_test(test_token_length),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_policy_edges),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_jwks_valid),
		cmocka_unit_test(test_jwks_skipped),
		cmocka_unit_test(test_jwks_kid_length),
		cmocka_unit_test(test_jwks_x5c),
		cmocka_unit_test(test_jwks_bounds),
		cmocka_unit_test(test_jwks_not_jwks),
		cmocka_unit_test(test_x5t),
		cmocka_unit_test(test_client_assertion),
		cmocka_unit_test(test_client_assertion_bad),
	};

	return cmocka_run_group_tests_name("jwt", tests, setup, teardown);
}
