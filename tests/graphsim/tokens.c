/* Notification Authorization headers: valid JWTs and deliberately bad ones. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "graphsim.h"
#include "jwt.h"
#include "log.h"
#include "xmalloc.h"

#define TOKEN_LIFETIME		3600
#define TOKEN_OTHER_AUD		"7a1b2c3d-0000-4000-8000-0000000000a1"
#define TOKEN_OTHER_TENANT	"7a1b2c3d-0000-4000-8000-0000000000b2"
#define TOKEN_EVIL_ISS		"https://evil.example.com"
#define TOKEN_GRAPH_ISS		"https://graph.microsoft.com"
#define TOKEN_UNKNOWN_KID	"no-such-kid"
#define TOKEN_TRUNCATE		10
#define TOKEN_GARBAGE_BYTES	96

static cJSON	*make_claims(struct sim *, enum token_claims, const char *);
static char	*make_header(const char *, const char *);
static char	*signing_input(const char *, const cJSON *);
static int	 sign_rs256(EVP_PKEY *, const char *, char **);
static int	 sign_hs256_pubkey(EVP_PKEY *, const char *, char **);
static int	 compact(EVP_PKEY *, const char *, const cJSON *, char **);

#define TOKEN_REUSE_SEC		300	/* a minted token is sent this long */
#define TOKEN_REUSE_MAX		16

static int	 mint(struct sim *, enum token_claims, enum token_form,
		    const char *, char **, const char **);

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

void
tokens_forget(struct sim *sim)
{
	size_t	 i;

	for (i = 0; i < sim->nminted; i++) {
		free(sim->minted[i].tid);
		free(sim->minted[i].kid);
		free(sim->minted[i].value);
	}
	free(sim->minted);
	sim->minted = NULL;
	sim->nminted = 0;
}

/*
 * The Authorization header value for a token of the given claims and
 * form, in *value (NULL: send no header).  -1 with *errstr when the
 * simulator cannot make it (no second key, a signing failure).  Like
 * Graph, a well-formed token is minted once and sent again with later
 * notifications, for TOKEN_REUSE_SEC; one signed by the second key is
 * the same token until then even after that key leaves the key set.
 */
int
tokens_mint(struct sim *sim, enum token_claims kind, enum token_form form,
    const char *tid, char **value, const char **errstr)
{
	struct sim_minted	*t;
	const char		*kid;
	long long		 now = time(NULL);
	size_t			 i, oldest = 0;

	if (form != TOK_FORM_RS256 && form != TOK_FORM_SECOND_KEY)
		return mint(sim, kind, form, tid, value, errstr);
	if (form == TOK_FORM_SECOND_KEY && sim->ninitial < 2)
		return mint(sim, kind, form, tid, value, errstr);
	kid = form == TOK_FORM_SECOND_KEY ? sim->keys[1].kid :
	    sim->keys[sim->signing].kid;
	for (i = 0; i < sim->nminted; i++) {
		t = &sim->minted[i];
		if (t->kind == (int)kind && t->form == (int)form &&
		    same_str(t->tid, tid) && strcmp(t->kid, kid) == 0 &&
		    now - t->minted < TOKEN_REUSE_SEC && now >= t->minted) {
			*value = xstrdup(t->value);
			return 0;
		}
		if (t->minted < sim->minted[oldest].minted)
			oldest = i;
	}
	if (mint(sim, kind, form, tid, value, errstr) == -1)
		return -1;
	if (sim->nminted < TOKEN_REUSE_MAX) {
		sim->minted = xreallocarray(sim->minted, sim->nminted + 1,
		    sizeof(*sim->minted));
		t = &sim->minted[sim->nminted++];
	} else {
		t = &sim->minted[oldest];
		free(t->tid);
		free(t->kid);
		free(t->value);
	}
	t->kind = kind;
	t->form = form;
	t->tid = tid != NULL ? xstrdup(tid) : NULL;
	t->kid = xstrdup(kid);
	t->value = xstrdup(*value);
	t->minted = now;
	return 0;
}

static int
mint(struct sim *sim, enum token_claims kind, enum token_form form,
    const char *tid, char **value, const char **errstr)
{
	const struct sim_key	*signer = &sim->keys[sim->signing];
	cJSON			*claims = NULL;
	char			*jwt = NULL, *header = NULL, *input = NULL;
	char			*sig = NULL;
	unsigned char		 raw[TOKEN_GARBAGE_BYTES];
	int			 rv = -1;

	*value = NULL;
	*errstr = "cannot sign the token";
	if (form == TOK_FORM_NONE)
		return 0;
	if (form == TOK_FORM_BASIC) {
		*value = xstrdup("Basic dXNlcjpwYXNz");	/* user:pass */
		return 0;
	}
	if (form == TOK_FORM_GARBAGE) {
		randombytes_buf(raw, sizeof(raw));
		if (jwt_base64url_encode(raw, sizeof(raw), &jwt) == -1)
			goto done;
		goto bearer;
	}

	claims = make_claims(sim, kind, tid);
	switch (form) {
	case TOK_FORM_RS256:
	case TOK_FORM_TRUNCATED_SIG:
		if (jwt_sign_rs256(signer->key, signer->kid, claims,
		    &jwt) == -1)
			goto done;
		if (form == TOK_FORM_TRUNCATED_SIG)
			jwt[strlen(jwt) - TOKEN_TRUNCATE] = '\0';
		break;
	case TOK_FORM_SECOND_KEY:
		if (sim->ninitial < 2) {
			*errstr = "token second-key needs two -k keys";
			goto done;
		}
		if (jwt_sign_rs256(sim->keys[1].key, sim->keys[1].kid, claims,
		    &jwt) == -1)
			goto done;
		break;
	case TOK_FORM_UNKNOWN_KID:
		if (jwt_sign_rs256(signer->key, TOKEN_UNKNOWN_KID, claims,
		    &jwt) == -1)
			goto done;
		break;
	case TOK_FORM_RANDOM_KID:
		randombytes_buf(raw, 16);
		if (jwt_base64url_encode(raw, 16, &header) == -1 ||
		    jwt_sign_rs256(signer->key, header, claims, &jwt) == -1)
			goto done;
		break;
	case TOK_FORM_OTHER_KEY:
		/* One unpublished key per run: RSA key generation is slow. */
		if (sim->other_key == NULL &&
		    (sim->other_key = keys_generate()) == NULL)
			goto done;
		if (jwt_sign_rs256(sim->other_key, signer->kid, claims,
		    &jwt) == -1)
			goto done;
		break;
	case TOK_FORM_ALG_NONE:
		header = make_header("\"alg\":\"none\"", signer->kid);
		input = signing_input(header, claims);
		xasprintf(&jwt, "%s.", input);
		break;
	case TOK_FORM_HS256_PUBKEY:
		header = make_header("\"alg\":\"HS256\"", signer->kid);
		input = signing_input(header, claims);
		if (sign_hs256_pubkey(signer->key, input, &sig) == -1)
			goto done;
		xasprintf(&jwt, "%s.%s", input, sig);
		break;
	case TOK_FORM_DUPLICATE_ALG:
		/* The RS256 signature covers exactly these header bytes. */
		header = make_header("\"alg\":\"RS256\",\"alg\":\"none\"",
		    signer->kid);
		if (compact(signer->key, header, claims, &jwt) == -1)
			goto done;
		break;
	case TOK_FORM_NONE:
	case TOK_FORM_BASIC:
	case TOK_FORM_GARBAGE:
	default:
		goto done;
	}
 bearer:
	xasprintf(value, "Bearer %s", jwt);
	rv = 0;
 done:
	free(sig);
	free(input);
	free(header);
	free(jwt);
	cJSON_Delete(claims);
	return rv;
}

/*
 * The claims Teams' webhook tokens carry (graph-protocol.md section 3),
 * for tenant tid (NULL: the first -T tenant).
 */
static cJSON *
make_claims(struct sim *sim, enum token_claims kind, const char *tid)
{
	cJSON		*c, *aud;
	long long	 now = time(NULL), iat = now, exp;
	const char	*iss = SIM_ISSUER;

	if (tid == NULL)
		tid = sim->tenant_id;
	exp = now + TOKEN_LIFETIME;
	switch (kind) {
	case TOK_CLAIMS_EXPIRED:
		iat = now - 7200;
		exp = now - 3600;
		break;
	case TOK_CLAIMS_NOT_YET_VALID:
		iat = now + 3600;
		exp = now + 7200;
		break;
	case TOK_CLAIMS_WRONG_ISS:
		iss = TOKEN_EVIL_ISS;
		break;
	case TOK_CLAIMS_GRAPH_ISS:
		iss = TOKEN_GRAPH_ISS;
		break;
	case TOK_CLAIMS_NO_TID:
		tid = NULL;
		break;
	case TOK_CLAIMS_WRONG_TID:
		tid = TOKEN_OTHER_TENANT;
		break;
	case TOK_CLAIMS_VALID:
	case TOK_CLAIMS_WRONG_AUD:
	case TOK_CLAIMS_AUD_ARRAY:
	default:
		break;
	}

	if ((c = cJSON_CreateObject()) == NULL)
		fatalx("cJSON_CreateObject");
	cJSON_AddStringToObject(c, "iss", iss);
	if (kind == TOK_CLAIMS_WRONG_AUD)
		cJSON_AddStringToObject(c, "aud", TOKEN_OTHER_AUD);
	else if (kind == TOK_CLAIMS_AUD_ARRAY) {
		aud = cJSON_AddArrayToObject(c, "aud");
		cJSON_AddItemToArray(aud, cJSON_CreateString(TOKEN_OTHER_AUD));
		cJSON_AddItemToArray(aud, cJSON_CreateString(sim->app_id));
	} else
		cJSON_AddStringToObject(c, "aud", sim->app_id);
	if (tid != NULL)
		cJSON_AddStringToObject(c, "tid", tid);
	cJSON_AddNumberToObject(c, "iat", iat);
	cJSON_AddNumberToObject(c, "nbf", iat);
	cJSON_AddNumberToObject(c, "exp", exp);
	return c;
}

/* A header's exact text; kids are base64url or TOKEN_UNKNOWN_KID. */
static char *
make_header(const char *alg_members, const char *kid)
{
	char	*h;

	xasprintf(&h, "{%s,\"typ\":\"JWT\",\"kid\":\"%s\"}", alg_members, kid);
	return h;
}

/* base64url(header) "." base64url(claims). */
static char *
signing_input(const char *header, const cJSON *claims)
{
	char	*ctext, *h64, *c64, *input;

	if ((ctext = cJSON_PrintUnformatted(claims)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	if (jwt_base64url_encode(header, strlen(header), &h64) == -1 ||
	    jwt_base64url_encode(ctext, strlen(ctext), &c64) == -1)
		fatalx("cannot encode a token");
	xasprintf(&input, "%s.%s", h64, c64);
	free(c64);
	free(h64);
	cJSON_free(ctext);
	return input;
}

/* A compact RS256 JWS with a hand-made header. */
static int
compact(EVP_PKEY *key, const char *header, const cJSON *claims, char **out)
{
	char	*input, *sig;

	*out = NULL;
	input = signing_input(header, claims);
	if (sign_rs256(key, input, &sig) == -1) {
		free(input);
		return -1;
	}
	xasprintf(out, "%s.%s", input, sig);
	free(sig);
	free(input);
	return 0;
}

/* RSASSA-PKCS1-v1_5 SHA-256 over input, base64url. */
static int
sign_rs256(EVP_PKEY *key, const char *input, char **sig64)
{
	EVP_MD_CTX	*ctx = NULL;
	EVP_PKEY_CTX	*pctx;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0, len = strlen(input);
	int		 rv = -1;

	*sig64 = NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)input,
	    len) != 1)
		goto done;
	sig = xmalloc(siglen);
	if (EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input,
	    len) != 1)
		goto done;
	rv = jwt_base64url_encode(sig, siglen, sig64);
 done:
	if (rv == -1)
		log_warnx("cannot sign a token with RS256");
	free(sig);
	EVP_MD_CTX_free(ctx);
	return rv;
}

/*
 * The key-confusion attack: HMAC-SHA256 keyed with the PEM text of the
 * RSA public key, as a verifier that trusts the header's alg would do.
 */
static int
sign_hs256_pubkey(EVP_PKEY *key, const char *input, char **sig64)
{
	BIO		*bio;
	char		*pem;
	long		 pemlen;
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	int		 rv = -1;

	*sig64 = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		fatalx("BIO_new");
	if (PEM_write_bio_PUBKEY(bio, key) != 1 ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0)
		goto done;
	if (HMAC(EVP_sha256(), pem, pemlen, (const unsigned char *)input,
	    strlen(input), mac, &maclen) == NULL)
		goto done;
	rv = jwt_base64url_encode(mac, maclen, sig64);
 done:
	if (rv == -1)
		log_warnx("cannot make an HS256 token");
	BIO_free(bio);
	return rv;
}
