/*
 * Identity: the Bot Framework OpenID document, JWKS, Entra tokens for a
 * client secret or a certificate's client assertion (certs.c).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "graphsim.h"
#include "jwt.h"
#include "log.h"
#include "xmalloc.h"

#define TOKEN_PATH_SUFFIX	"/oauth2/v2.0/token"
#define TOKEN_BYTES		32

static int	check_client_secret(struct sim *, const char *,
		    struct entra_error *);
static int	check_token_request(struct sim *, const char *,
		    struct evhttp_request *, struct evkeyvalq *,
		    struct entra_error *);
static void	reply_entra_error(struct evhttp_request *,
		    const struct entra_error *);
static void	issue_token(struct sim *, struct evhttp_request *,
		    const char *);
static int	idp_unavailable(struct sim *, struct evhttp_request *,
		    sim_resume_fn);
static void	reply_openid(struct sim *, struct evhttp_request *, void *);
static void	reply_keys(struct sim *, struct evhttp_request *, void *);
static void	answer_token(struct sim *, struct evhttp_request *);
static void	resume_token(struct sim *, struct evhttp_request *, void *);
static int	parse_state(const char *, enum sim_idp_state *);

static const char *const idp_states[] = { "up", "down", "slow" };

void
idp_handle_openid(struct sim *sim, struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		sim_reply_error(req, HTTP_BADMETHOD, "method not allowed");
		return;
	}
	sim->stats.openid_requests++;
	if (!idp_unavailable(sim, req, reply_openid))
		reply_openid(sim, req, NULL);
}

void
idp_handle_keys(struct sim *sim, struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		sim_reply_error(req, HTTP_BADMETHOD, "method not allowed");
		return;
	}
	sim->stats.jwks_requests++;
	if (!idp_unavailable(sim, req, reply_keys))
		reply_keys(sim, req, NULL);
}

/*
 * While the IdP is down its documents answer 503; while it is slow they
 * answer later, from a timer.  1 when req has been taken care of.
 */
static int
idp_unavailable(struct sim *sim, struct evhttp_request *req,
    sim_resume_fn reply)
{
	switch (sim->idp_state) {
	case SIM_IDP_DOWN:
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		sim_reply_error(req, HTTP_SERVUNAVAIL,
		    "identity endpoint down (simulated)");
		return 1;
	case SIM_IDP_SLOW:
		sim_defer(sim, req, SIM_IDP_SLOW_MS, reply, NULL);
		return 1;
	case SIM_IDP_UP:
	default:
		return 0;
	}
}

static void
reply_openid(struct sim *sim, struct evhttp_request *req, void *arg)
{
	cJSON	*o, *a;
	char	*jwks;

	(void)arg;
	xasprintf(&jwks, "%s/v1/keys", sim->self_url);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "issuer", SIM_ISSUER);
	cJSON_AddStringToObject(o, "authorization_endpoint",
	    "https://invalid.botframework.com/");
	cJSON_AddStringToObject(o, "jwks_uri", jwks);
	a = cJSON_AddArrayToObject(o, "id_token_signing_alg_values_supported");
	cJSON_AddItemToArray(a, cJSON_CreateString("RSA256"));
	a = cJSON_AddArrayToObject(o, "token_endpoint_auth_methods_supported");
	cJSON_AddItemToArray(a, cJSON_CreateString("private_key_jwt"));
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
	free(jwks);
}

/* The published keys only: retired ones are gone from the JWKS. */
static void
reply_keys(struct sim *sim, struct evhttp_request *req, void *arg)
{
	cJSON	*o, *keys, *jwk;
	size_t	 i;

	(void)arg;
	o = cJSON_CreateObject();
	keys = cJSON_AddArrayToObject(o, "keys");
	for (i = 0; i < sim->nkeys; i++) {
		if (!sim->keys[i].published)
			continue;
		if (jwt_export_jwk(sim->keys[i].key, sim->keys[i].kid,
		    &jwk) == -1)
			fatalx("cannot export key %s", sim->keys[i].kid);
		cJSON_AddItemToArray(keys, jwk);
	}
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}

/* "/{tenant}/oauth2/v2.0/token" with a non-empty tenant segment. */
int
idp_match_token_path(const char *path)
{
	const char	*slash;

	if (path[0] != '/' || (slash = strchr(path + 1, '/')) == NULL ||
	    slash == path + 1)
		return 0;
	return strcmp(slash, TOKEN_PATH_SUFFIX) == 0;
}

/* The fault table's "token" row comes first, as for the calls API. */
void
idp_handle_token(struct sim *sim, struct evhttp_request *req,
    const char *path)
{
	struct sim_fault	 f, *copy;

	(void)path;
	if (!faults_take(sim, SIM_FAULT_TOKEN, &f)) {
		answer_token(sim, req);
		return;
	}
	log_info("token request: fault injected");
	copy = xmalloc(sizeof(*copy));
	*copy = f;
	/* Drops always go through a timer: see sim_drop. */
	if (f.delay_ms > 0 || f.drop)
		sim_defer(sim, req, f.delay_ms, resume_token, copy);
	else
		resume_token(sim, req, copy);
}

static void
resume_token(struct sim *sim, struct evhttp_request *req, void *arg)
{
	struct sim_fault	*f = arg;
	struct entra_error	 err;
	char			 secs[16];

	if (f->drop)
		sim_drop(req);
	else if (f->status != 0) {
		if (f->retry_after > 0) {
			snprintf(secs, sizeof(secs), "%d", f->retry_after);
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Retry-After", secs);
		}
		idp_set_error(&err, f->status,
		    f->status == HTTP_TOOMANYREQUESTS ? "too_many_requests" :
		    "temporarily_unavailable", 90033,
		    "A transient error has occurred (fault injected by the "
		    "simulator). Please try again.");
		reply_entra_error(req, &err);
	} else
		answer_token(sim, req);
	free(f);
}

static void
answer_token(struct sim *sim, struct evhttp_request *req)
{
	struct evkeyvalq	 form;
	struct entra_error	 err;
	const char		*path;
	char			*tenant;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&form);
	tenant = xstrndup(path + 1, strcspn(path + 1, "/"));
	if (check_token_request(sim, tenant, req, &form, &err) == -1) {
		sim->stats.token_errors++;
		log_info("token request refused: %s", err.message);
		reply_entra_error(req, &err);
	} else
		issue_token(sim, req, tenant);
	evhttp_clear_headers(&form);
	free(tenant);
}

static int
check_token_request(struct sim *sim, const char *tenant,
    struct evhttp_request *req, struct evkeyvalq *form,
    struct entra_error *err)
{
	const char	*ctype, *v;
	char		*body;
	size_t		 len;
	int		 rv = -1;

	body = NULL;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		idp_set_error(err, HTTP_BADMETHOD, "invalid_request", 900561,
		    "The endpoint only accepts POST requests.");
		goto done;
	}
	if (!idp_tenant_known(sim, tenant)) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_request", 90002,
		    "Tenant '%.64s' not found.", tenant);
		goto done;
	}
	ctype = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (ctype == NULL || strncasecmp(ctype,
	    "application/x-www-form-urlencoded", 33) != 0) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_request", 900144,
		    "The request body must contain the following parameter: "
		    "'grant_type'.");
		goto done;
	}
	body = sim_read_body(req, &len);
	if (body == NULL || strlen(body) != len ||
	    evhttp_parse_query_str(body, form) == -1) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_request", 900144,
		    "The request body must contain the following parameter: "
		    "'grant_type'.");
		goto done;
	}
	if ((v = evhttp_find_header(form, "grant_type")) == NULL) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_request", 900144,
		    "The request body must contain the following parameter: "
		    "'grant_type'.");
		goto done;
	}
	if (strcmp(v, "client_credentials") != 0) {
		idp_set_error(err, HTTP_BADREQUEST, "unsupported_grant_type",
		    70003, "The app requested an unsupported grant type "
		    "'%.64s'.", v);
		goto done;
	}
	if ((v = evhttp_find_header(form, "client_id")) == NULL) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_request", 900144,
		    "The request body must contain the following parameter: "
		    "'client_id'.");
		goto done;
	}
	if (strcasecmp(v, sim->app_id) != 0) {
		idp_set_error(err, HTTP_BADREQUEST, "unauthorized_client",
		    700016,
		    "Application with identifier '%.64s' was not found in "
		    "the directory '%s'.", v, sim->tenant_id);
		goto done;
	}
	if ((v = evhttp_find_header(form, "scope")) == NULL) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_request", 900144,
		    "The request body must contain the following parameter: "
		    "'scope'.");
		goto done;
	}
	len = strlen(v);
	if (len < 9 || strcmp(v + len - 9, "/.default") != 0) {
		idp_set_error(err, HTTP_BADREQUEST, "invalid_scope", 1002012,
		    "The provided value for scope %.64s is not valid. Client "
		    "credential flows must have a scope value with /.default "
		    "suffixed to the resource identifier.", v);
		goto done;
	}
	/* The credential: a secret, or a certificate-signed assertion. */
	if ((v = evhttp_find_header(form, "client_assertion")) != NULL)
		rv = certs_check_assertion(sim, req, tenant, form, err);
	else if ((v = evhttp_find_header(form, "client_secret")) != NULL)
		rv = check_client_secret(sim, v, err);
	else
		idp_set_error(err, HTTP_BADREQUEST, "invalid_client", 7000216,
		    "'client_assertion', 'client_secret' or 'request' is "
		    "required for the 'client_credentials' grant type.");
 done:
	free(body);
	return rv;
}

static int
check_client_secret(struct sim *sim, const char *secret,
    struct entra_error *err)
{
	size_t	 len = strlen(secret);

	if (len == strlen(sim->secret) &&
	    sodium_memcmp(secret, sim->secret, len) == 0)
		return 0;
	idp_set_error(err, HTTP_UNAUTHORIZED, "invalid_client", 7000215,
	    "Invalid client secret provided. Ensure the secret being sent in "
	    "the request is the client secret value, not the client secret "
	    "ID, for a secret added to app '%s'.", sim->app_id);
	return -1;
}

void
idp_set_error(struct entra_error *err, int status, const char *error, int code,
    const char *fmt, ...)
{
	va_list	 ap;

	err->status = status;
	err->error = error;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

static void
reply_entra_error(struct evhttp_request *req, const struct entra_error *err)
{
	cJSON	*o, *codes;
	char	*desc, stamp[32], trace[SIM_UUID_LEN + 1];
	char	 corr[SIM_UUID_LEN + 1];

	sim_make_uuid(trace);
	sim_make_uuid(corr);
	sim_format_time(stamp, sizeof(stamp), 0);
	xasprintf(&desc, "AADSTS%d: %s", err->code, err->message);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", err->error);
	cJSON_AddStringToObject(o, "error_description", desc);
	codes = cJSON_AddArrayToObject(o, "error_codes");
	cJSON_AddItemToArray(codes, cJSON_CreateNumber(err->code));
	cJSON_AddStringToObject(o, "timestamp", stamp);
	cJSON_AddStringToObject(o, "trace_id", trace);
	cJSON_AddStringToObject(o, "correlation_id", corr);
	sim_reply_json(req, err->status, o);
	cJSON_Delete(o);
	free(desc);
}

/* One of the -T tenants, case-insensitively: 1, else 0. */
int
idp_tenant_known(const struct sim *sim, const char *tenant)
{
	size_t	 i;

	for (i = 0; tenant != NULL && i < sim->ntenants; i++)
		if (strcasecmp(tenant, sim->tenants[i]) == 0)
			return 1;
	return 0;
}

/*
 * Entra's access tokens are JWTs whose tid is the tenant they were
 * issued for; the simulator's are shaped alike, unsigned, with a random
 * third part, and it remembers each one's tenant.
 */
static void
issue_token(struct sim *sim, struct evhttp_request *req, const char *tenant)
{
	struct sim_token	*t;
	struct evkeyvalq	*out;
	unsigned char		 raw[TOKEN_BYTES];
	long long		 now = time(NULL);
	cJSON			*o, *claims;
	char			*hdr, *pay, *sig, *text;
	size_t			 i;

	/* Lifetimes are equal, so the oldest token expires first. */
	while ((t = TAILQ_FIRST(&sim->tokens)) != NULL &&
	    (t->expires <= now || sim->ntokens >= SIM_MAX_TOKENS)) {
		TAILQ_REMOVE(&sim->tokens, t, entry);
		sim->ntokens--;
		free(t->token);
		free(t->tid);
		free(t);
	}
	t = xcalloc(1, sizeof(*t));
	t->tid = xstrdup(tenant);
	for (i = 0; t->tid[i] != '\0'; i++)
		t->tid[i] = tolower((unsigned char)t->tid[i]);
	claims = cJSON_CreateObject();
	cJSON_AddStringToObject(claims, "aud", "https://graph.microsoft.com");
	cJSON_AddStringToObject(claims, "iss", "https://sts.windows.net/");
	cJSON_AddStringToObject(claims, "tid", t->tid);
	cJSON_AddStringToObject(claims, "appid", sim->app_id);
	cJSON_AddNumberToObject(claims, "exp", (double)(now +
	    SIM_TOKEN_LIFETIME));
	if ((text = cJSON_PrintUnformatted(claims)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	cJSON_Delete(claims);
	randombytes_buf(raw, sizeof(raw));
	if (jwt_base64url_encode((const unsigned char *)"{\"alg\":\"none\","
	    "\"typ\":\"JWT\"}", 27, &hdr) == -1 ||
	    jwt_base64url_encode((const unsigned char *)text, strlen(text),
	    &pay) == -1 || jwt_base64url_encode(raw, sizeof(raw), &sig) == -1)
		fatalx("cannot encode token");
	xasprintf(&t->token, "%s.%s.%s", hdr, pay, sig);
	cJSON_free(text);
	free(hdr);
	free(pay);
	free(sig);
	t->expires = now + SIM_TOKEN_LIFETIME;
	TAILQ_INSERT_TAIL(&sim->tokens, t, entry);
	sim->ntokens++;
	sim->stats.tokens_issued++;
	log_debug("issued token %zu for tenant %s, expires in %d s",
	    sim->ntokens, t->tid, SIM_TOKEN_LIFETIME);

	out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Cache-Control", "no-store, no-cache");
	evhttp_add_header(out, "Pragma", "no-cache");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "token_type", "Bearer");
	cJSON_AddNumberToObject(o, "expires_in", SIM_TOKEN_LIFETIME);
	cJSON_AddNumberToObject(o, "ext_expires_in", SIM_TOKEN_LIFETIME);
	cJSON_AddStringToObject(o, "access_token", t->token);
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}

/*
 * An Authorization header value naming a token this simulator issued
 * and that has not expired: 0 and its tenant in *tid (NULL for none),
 * else -1.
 */
int
idp_check_bearer(struct sim *sim, const char *authz, const char **tid)
{
	struct sim_token	*t;
	long long		 now = time(NULL);

	if (tid != NULL)
		*tid = NULL;
	if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0)
		return -1;
	authz += 7;
	TAILQ_FOREACH_REVERSE(t, &sim->tokens, sim_tokenq, entry) {
		if (strcmp(t->token, authz) != 0)
			continue;
		if (t->expires <= now)
			return -1;
		if (tid != NULL)
			*tid = t->tid;
		return 0;
	}
	return -1;
}

void
idp_clear_tokens(struct sim *sim)
{
	struct sim_token	*t;

	while ((t = TAILQ_FIRST(&sim->tokens)) != NULL) {
		TAILQ_REMOVE(&sim->tokens, t, entry);
		free(t->token);
		free(t->tid);
		free(t);
	}
	sim->ntokens = 0;
}

/* GET /_sim/idp: {"state": "up" | "down" | "slow"}. */
void
idp_show_state(struct sim *sim, struct evhttp_request *req)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state", idp_states[sim->idp_state]);
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}

/* POST /_sim/idp?state=up|down|slow; requests already slowed keep going. */
void
idp_set_state(struct sim *sim, struct evhttp_request *req)
{
	char			*v;
	enum sim_idp_state	 state;

	v = sim_query_param(req, "state");
	if (v == NULL || parse_state(v, &state) == -1)
		sim_reply_error(req, HTTP_BADREQUEST,
		    "state must be up, down or slow");
	else {
		sim->idp_state = state;
		log_info("identity endpoints %s", idp_states[state]);
		idp_show_state(sim, req);
	}
	free(v);
}

static int
parse_state(const char *name, enum sim_idp_state *state)
{
	size_t	 i;

	for (i = 0; i < sizeof(idp_states) / sizeof(idp_states[0]); i++)
		if (strcmp(name, idp_states[i]) == 0) {
			*state = i;
			return 0;
		}
	return -1;
}

/*
 * POST /_sim/secret: the body's first line becomes the one client secret
 * accepted, as when a secret is rotated in the app registration.
 */
void
idp_set_secret(struct sim *sim, struct evhttp_request *req)
{
	char	*body;
	size_t	 len, n;

	if ((body = sim_read_body(req, &len)) == NULL ||
	    (n = strcspn(body, "\r\n")) == 0) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "the body must be the new secret");
		free(body);
		return;
	}
	sodium_memzero(body + n, len - n);
	sodium_memzero(sim->secret, strlen(sim->secret));
	free(sim->secret);
	sim->secret = body;
	log_info("client secret replaced");
	sim_reply_json(req, HTTP_OK, NULL);
}
