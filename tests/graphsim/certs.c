/*
 * Certificate credentials: the -c certificates, and the client
 * assertions (RFC 7523 JWTs) their holders sign for the token endpoint,
 * checked as Entra checks them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "graphsim.h"
#include "jwt.h"
#include "log.h"
#include "xmalloc.h"

#define ASSERTION_TYPE \
	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define ENTRA_TOKEN_URL \
	"https://login.microsoftonline.com/%s/oauth2/v2.0/token"
#define MAX_AUDIENCES	4

/* An assertion taken apart; the caller frees the members. */
struct assertion {
	cJSON		*header;
	cJSON		*claims;
	char		*input;		/* header.payload */
	unsigned char	*sig;
	size_t		 siglen;
};

static int	thumbprint(X509 *, const EVP_MD *, char **);
static int	parse(const char *, struct assertion *);
static const struct sim_cert *find_cert(struct sim *, const cJSON *,
		    char *, size_t);
static int	verify(const struct sim_cert *, const struct assertion *);
static int	check_claims(const cJSON *, const char *, char *const *,
		    struct entra_error *);
static void	audiences(struct sim *, struct evhttp_request *,
		    const char *, char **);
static const char *string_claim(const cJSON *, const char *);

/* A PEM certificate with an RSA key; only at start-up. */
int
certs_load(struct sim *sim, const char *path)
{
	struct sim_cert	*c;
	FILE		*fp;
	X509		*cert;
	EVP_PKEY	*key;

	if (sim->ncerts == SIM_MAX_CERTS) {
		log_warnx("%s: at most %d certificates", path, SIM_MAX_CERTS);
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	cert = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (cert == NULL) {
		log_warnx("%s: not a PEM certificate", path);
		return -1;
	}
	if ((key = X509_get0_pubkey(cert)) == NULL ||
	    EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		log_warnx("%s: not an RSA certificate", path);
		X509_free(cert);
		return -1;
	}
	c = &sim->certs[sim->ncerts];
	if (thumbprint(cert, EVP_sha1(), &c->x5t) == -1 ||
	    thumbprint(cert, EVP_sha256(), &c->x5t256) == -1) {
		log_warnx("%s: cannot take its thumbprint", path);
		free(c->x5t);
		c->x5t = NULL;
		X509_free(cert);
		return -1;
	}
	c->cert = cert;
	sim->ncerts++;
	log_debug("certificate %s: x5t %s", path, c->x5t);
	return 0;
}

void
certs_clear(struct sim *sim)
{
	size_t	 i;

	for (i = 0; i < sim->ncerts; i++) {
		X509_free(sim->certs[i].cert);
		free(sim->certs[i].x5t);
		free(sim->certs[i].x5t256);
	}
	sim->ncerts = 0;
}

/* base64url of the digest of the certificate's DER. */
static int
thumbprint(X509 *cert, const EVP_MD *md, char **out)
{
	unsigned char	*der = NULL, digest[EVP_MAX_MD_SIZE];
	unsigned int	 dlen;
	int		 len, rv = -1;

	if ((len = i2d_X509(cert, &der)) <= 0)
		return -1;
	if (EVP_Digest(der, len, digest, &dlen, md, NULL) == 1 &&
	    jwt_base64url_encode(digest, dlen, out) == 0)
		rv = 0;
	OPENSSL_free(der);
	return rv;
}

/*
 * The client_assertion of a token request: 0 when it holds, else -1 with
 * the error Entra would give.  The codes, as Entra's documentation
 * lists them (the first two are the simulator's choice where Entra
 * documents none precisely):
 *   400 invalid_request  9002313  both a secret and an assertion; a
 *                                 client_assertion_type other than
 *                                 jwt-bearer
 *   400 invalid_request  900144   no client_assertion_type
 *   401 invalid_client   50027    not a JWT, alg not RS256, no x5t, no jti
 *   401 invalid_client   700027   x5t names no -c certificate ("The key
 *                                 was not found"), or the signature does
 *                                 not verify
 *   401 invalid_client   700021   iss or sub is not the client_id
 *   401 invalid_client   700023   aud is not this token endpoint
 *   401 invalid_client   700024   expired, or nbf in the future
 */
int
certs_check_assertion(struct sim *sim, struct evhttp_request *req,
    const char *tenant, struct evkeyvalq *form, struct entra_error *err)
{
	struct assertion	 a;
	const struct sim_cert	*cert;
	const char		*type, *jwt;
	char			*auds[MAX_AUDIENCES + 1], named[128];
	size_t			 i;
	int			 rv = -1;

	memset(&a, 0, sizeof(a));
	memset(auds, 0, sizeof(auds));
	jwt = evhttp_find_header(form, "client_assertion");
	type = evhttp_find_header(form, "client_assertion_type");
	if (evhttp_find_header(form, "client_secret") != NULL) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_request", 9002313,
		    "Invalid request. Request is malformed or invalid: give "
		    "client_secret or client_assertion, not both.");
		goto done;
	}
	if (type == NULL) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_request", 900144,
		    "The request body must contain the following parameter: "
		    "'client_assertion_type'.");
		goto done;
	}
	if (strcmp(type, ASSERTION_TYPE) != 0) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_request", 9002313,
		    "Invalid request. Request is malformed or invalid: "
		    "client_assertion_type must be '%s'.", ASSERTION_TYPE);
		goto done;
	}
	if (parse(jwt, &a) == -1) {
		idp_set_error(err, HTTP_UNAUTHORIZED, "invalid_client", 50027,
		    "JWT token is invalid or malformed: the client assertion "
		    "must be a compact RS256 JWT with an x5t header.");
		goto done;
	}
	if ((cert = find_cert(sim, a.header, named, sizeof(named))) == NULL) {
		idp_set_error(err, HTTP_UNAUTHORIZED, "invalid_client", 700027,
		    "The certificate with identifier used to sign the client "
		    "assertion is not registered on application. [Reason - "
		    "The key was not found., Thumbprint of key used by "
		    "client: '%s']", named);
		goto done;
	}
	if (verify(cert, &a) == -1) {
		idp_set_error(err, HTTP_UNAUTHORIZED, "invalid_client", 700027,
		    "Client assertion contains an invalid signature. [Reason "
		    "- The provided signature value did not match the "
		    "expected signature value., Thumbprint of key used by "
		    "client: '%s']", named);
		goto done;
	}
	audiences(sim, req, tenant, auds);
	rv = check_claims(a.claims, evhttp_find_header(form,
	    "client_id"), auds, err);
 done:
	for (i = 0; auds[i] != NULL; i++)
		free(auds[i]);
	cJSON_Delete(a.header);
	cJSON_Delete(a.claims);
	free(a.input);
	free(a.sig);
	if (rv == 0)
		sim->stats.assertions_accepted++;
	else
		sim->stats.assertions_refused++;
	return rv;
}

/* Three base64url segments; the header names RS256. */
static int
parse(const char *jwt, struct assertion *a)
{
	const char	*dot1, *dot2, *alg;
	unsigned char	*raw = NULL;
	size_t		 len;

	if (jwt == NULL || (dot1 = strchr(jwt, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL ||
	    strchr(dot2 + 1, '.') != NULL)
		return -1;
	if (jwt_base64url_decode(jwt, dot1 - jwt, &raw, &len) == -1)
		return -1;
	a->header = cJSON_ParseWithLength((char *)raw, len);
	free(raw);
	if (jwt_base64url_decode(dot1 + 1, dot2 - dot1 - 1, &raw, &len) == -1)
		return -1;
	a->claims = cJSON_ParseWithLength((char *)raw, len);
	free(raw);
	if (!cJSON_IsObject(a->header) || !cJSON_IsObject(a->claims))
		return -1;
	if (jwt_base64url_decode(dot2 + 1, strlen(dot2 + 1), &a->sig,
	    &a->siglen) == -1 || a->siglen == 0)
		return -1;
	alg = string_claim(a->header, "alg");
	if (alg == NULL || strcmp(alg, "RS256") != 0)
		return -1;
	if (string_claim(a->header, "x5t#S256") == NULL &&
	    string_claim(a->header, "x5t") == NULL)
		return -1;
	a->input = xstrndup(jwt, dot2 - jwt);
	return 0;
}

/*
 * The certificate x5t#S256 (preferred) or x5t names; named gets the
 * thumbprint as given, for the messages.
 */
static const struct sim_cert *
find_cert(struct sim *sim, const cJSON *header, char *named, size_t len)
{
	const char	*s256, *x5t;
	size_t		 i;

	s256 = string_claim(header, "x5t#S256");
	x5t = string_claim(header, "x5t");
	snprintf(named, len, "%s", s256 != NULL ? s256 : x5t);
	for (i = 0; i < sim->ncerts; i++) {
		if (s256 != NULL ? strcmp(s256, sim->certs[i].x5t256) == 0 :
		    strcmp(x5t, sim->certs[i].x5t) == 0)
			return &sim->certs[i];
	}
	return NULL;
}

/* RSASSA-PKCS1-v1_5 with SHA-256 over header.payload. */
static int
verify(const struct sim_cert *cert, const struct assertion *a)
{
	EVP_MD_CTX	*ctx;
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
	    X509_get0_pubkey(cert->cert)) == 1 &&
	    EVP_DigestVerify(ctx, a->sig, a->siglen,
	    (const unsigned char *)a->input, strlen(a->input)) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* iss and sub, then aud, then the times, then jti. */
static int
check_claims(const cJSON *claims, const char *client_id, char *const *auds,
    struct entra_error *err)
{
	const char	*iss, *sub, *aud;
	const cJSON	*exp, *nbf;
	long long	 now = time(NULL);
	size_t		 i;

	iss = string_claim(claims, "iss");
	sub = string_claim(claims, "sub");
	if (client_id == NULL || iss == NULL || sub == NULL ||
	    strcasecmp(iss, client_id) != 0 ||
	    strcasecmp(sub, client_id) != 0) {
		idp_set_error(err, HTTP_UNAUTHORIZED, "invalid_client", 700021,
		    "Client assertion application identifier doesn't match "
		    "'client_id' parameter.");
		return -1;
	}
	aud = string_claim(claims, "aud");
	for (i = 0; aud != NULL && auds[i] != NULL; i++)
		if (strcasecmp(aud, auds[i]) == 0)
			break;
	if (aud == NULL || auds[i] == NULL) {
		idp_set_error(err, HTTP_UNAUTHORIZED, "invalid_client", 700023,
		    "Client assertion audience claim does not match Realm "
		    "issuer: expected '%s'.", auds[0]);
		return -1;
	}
	exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
	nbf = cJSON_GetObjectItemCaseSensitive(claims, "nbf");
	if (!cJSON_IsNumber(exp) || exp->valuedouble <= (double)now ||
	    (nbf != NULL && (!cJSON_IsNumber(nbf) || nbf->valuedouble >
	    (double)(now + SIM_ASSERTION_SKEW)))) {
		idp_set_error(err, HTTP_UNAUTHORIZED, "invalid_client", 700024,
		    "Client assertion is not within its valid time range. "
		    "Current time: %lld, expiry time of assertion %.0f.", now,
		    cJSON_IsNumber(exp) ? exp->valuedouble : 0.0);
		return -1;
	}
	if (string_claim(claims, "jti") == NULL) {
		idp_set_error(err, HTTP_UNAUTHORIZED, "invalid_client", 50027,
		    "JWT token is invalid or malformed: the client assertion "
		    "has no jti claim.");
		return -1;
	}
	return 0;
}

/*
 * The token endpoint's URL as the client may know it: this simulator's
 * address, the Host it was reached by, or Entra's own URL for the
 * tenant.  NULL-ended; the caller frees each.
 */
static void
audiences(struct sim *sim, struct evhttp_request *req, const char *tenant,
    char **auds)
{
	const char	*path, *host;
	size_t		 n = 0;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	xasprintf(&auds[n++], "%s%s", sim->self_url, path);
	host = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Host");
	if (host != NULL)
		xasprintf(&auds[n++], "http://%s%s", host, path);
	xasprintf(&auds[n++], ENTRA_TOKEN_URL, tenant);
	xasprintf(&auds[n++], ENTRA_TOKEN_URL, sim->tenant_id);
	auds[n] = NULL;
}

/* A non-empty string member, by its exact name. */
static const char *
string_claim(const cJSON *j, const char *name)
{
	const cJSON	*x = cJSON_GetObjectItemCaseSensitive(j, name);

	if (!cJSON_IsString(x) || x->valuestring[0] == '\0')
		return NULL;
	return x->valuestring;
}
