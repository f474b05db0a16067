/*
 * The app tokens for Graph, one per tenant served: client credentials (a
 * secret, or a certificate and a signed client assertion) against the
 * tenant's token endpoint ([graph] token_url, {tenant} replaced).  Each
 * fetched at start-up and refreshed at 80% of its life, so that no
 * invitation ever waits for one; failures are retried with backoff, and
 * whoever needs a token meanwhile waits in that tenant's queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "conf.h"
#include "fetch.h"
#include "graph.h"
#include "graphmsg.h"
#include "jwt.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define TOKEN_SCOPE		"https://graph.microsoft.com/.default"
#define TOKEN_ASSERTION_TYPE	\
	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define TOKEN_ASSERTION_LIFE	600	/* seconds */
#define TOKEN_MARGIN_SEC	30	/* a token this close to expiry is stale */
#define TOKEN_BACKOFF_MIN_MS	250
#define TOKEN_BACKOFF_MAX_MS	30000
#define TOKEN_TIMEOUT_MS	10000
#define TOKEN_SECRET_MAX	1024
#define TOKEN_PEM_MAX		(64 * 1024)	/* a certificate or key file */

enum cred_kind {
	CRED_NONE,
	CRED_SECRET,
	CRED_CERT,
};

/* One tenant's token. */
struct token {
	TAILQ_ENTRY(token)	 tk_entry;
	struct tokens		*tk_set;
	char			*tk_tenant;	/* lower case GUID */
	char			*tk_url;	/* its token endpoint */
	/* BLAKE2b of every input of this tenant's token request, to tell
	 * a reload that changed them from one that did not. */
	unsigned char		 tk_hash[crypto_generichash_BYTES];
	char			*tk_token;	/* sodium_malloc'd, or NULL */
	uint64_t		 tk_expires_us;	/* monotonic */
	struct fetch_xfer	*tk_xfer;
	struct event		*tk_timer;	/* refresh or retry */
	unsigned int		 tk_backoff_ms;
	struct waitq		 tk_waiters;
	uint64_t		 tk_fetches;
	uint64_t		 tk_failures;
	char			 tk_error[200];	/* the last failure, or "" */
};

/* The app's credentials, shared by the tenants' tokens. */
struct tokens {
	struct polrecd		*ts_sc;
	enum cred_kind		 ts_kind;
	char			*ts_secret;	/* sodium_malloc'd */
	EVP_PKEY		*ts_key;
	X509			*ts_cert;
	/* BLAKE2b of the credentials (never a copy of a secret). */
	unsigned char		 ts_cred_hash[crypto_generichash_BYTES];
	TAILQ_HEAD(, token)	 ts_tokens;
};

static void	 token_fetch(struct token *);

static const char *
kind_name(enum cred_kind k)
{
	return k == CRED_CERT ? "certificate" : k == CRED_SECRET ? "secret" :
	    "none";
}

static void
drop_token(struct token *tk)
{
	if (tk->tk_token != NULL)
		sodium_free(tk->tk_token);
	tk->tk_token = NULL;
	tk->tk_expires_us = 0;
}

static void
drop_credentials(struct tokens *ts)
{
	if (ts->ts_secret != NULL)
		sodium_free(ts->ts_secret);
	ts->ts_secret = NULL;
	EVP_PKEY_free(ts->ts_key);
	ts->ts_key = NULL;
	X509_free(ts->ts_cert);
	ts->ts_cert = NULL;
	ts->ts_kind = CRED_NONE;
}

/* A field of the credential hash: its length first, so none runs into
 * the next; NULL differs from "". */
static void
hash_field(crypto_generichash_state *st, const void *p, size_t len)
{
	unsigned char	 n[9];
	size_t		 i;

	n[0] = p != NULL;
	for (i = 0; i < 8; i++)
		n[1 + i] = (unsigned char)((uint64_t)len >> (8 * i));
	crypto_generichash_update(st, n, sizeof(n));
	if (p != NULL)
		crypto_generichash_update(st, p, len);
}

static void
hash_string(crypto_generichash_state *st, const char *s)
{
	hash_field(st, s, s != NULL ? strlen(s) : 0);
}

/*
 * A PEM file read once into guarded memory: parsed (into *cert if cert
 * is not NULL, else into *pkey) and hashed from the same bytes, wiped.
 */
static int
load_pem(const char *path, crypto_generichash_state *st, X509 **cert,
    EVP_PKEY **pkey)
{
	FILE		*f;
	BIO		*bio = NULL;
	char		*buf;
	size_t		 n;
	int		 rv = -1;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("graph: %s", path);
		return -1;
	}
	if ((buf = sodium_malloc(TOKEN_PEM_MAX)) == NULL)
		fatalx("sodium_malloc");
	n = fread(buf, 1, TOKEN_PEM_MAX, f);
	if (ferror(f) || n == TOKEN_PEM_MAX) {
		log_warnx("graph: %s: %s", path, ferror(f) ? "read error" :
		    "larger than 64 KiB");
		goto done;
	}
	hash_field(st, buf, n);
	if ((bio = BIO_new_mem_buf(buf, (int)n)) == NULL)
		goto done;
	if (cert != NULL)
		*cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	else
		*pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	rv = 0;
 done:
	BIO_free(bio);
	sodium_free(buf);
	fclose(f);
	return rv;
}

/* The certificate and its key; they must belong together. */
static int
load_cert(struct tokens *ts, const struct conf *c,
    crypto_generichash_state *st)
{
	if (load_pem(c->graph_client_cert_file, st, &ts->ts_cert, NULL) ==
	    -1 || load_pem(c->graph_client_key_file, st, NULL,
	    &ts->ts_key) == -1)
		return -1;
	if (ts->ts_cert == NULL || ts->ts_key == NULL) {
		log_warnx("graph: cannot read the client certificate %s or "
		    "its key %s (PEM expected)", c->graph_client_cert_file,
		    c->graph_client_key_file);
		return -1;
	}
	if (X509_check_private_key(ts->ts_cert, ts->ts_key) != 1) {
		log_warnx("graph: %s is not the key of certificate %s",
		    c->graph_client_key_file, c->graph_client_cert_file);
		return -1;
	}
	return 0;
}

/* The credentials, and the hash of them and the app (ts_cred_hash). */
static int
load_credentials(struct tokens *ts, const struct conf *c)
{
	crypto_generichash_state st;
	char			 err[256];
	unsigned char		 kind;
	int			 rv = -1;

	drop_credentials(ts);
	crypto_generichash_init(&st, NULL, 0, sizeof(ts->ts_cred_hash));
	if (c->graph_client_secret_file != NULL) {
		if ((ts->ts_secret = sodium_malloc(TOKEN_SECRET_MAX)) == NULL)
			fatalx("sodium_malloc");
		if (conf_read_secret(c->graph_client_secret_file,
		    ts->ts_secret, TOKEN_SECRET_MAX, err, sizeof(err)) == -1) {
			log_warnx("graph: client secret: %s", err);
			goto done;
		}
		ts->ts_kind = CRED_SECRET;
		hash_string(&st, ts->ts_secret);
	} else if (c->graph_client_cert_file != NULL) {
		if (load_cert(ts, c, &st) == -1)
			goto done;
		ts->ts_kind = CRED_CERT;
	}
	kind = (unsigned char)ts->ts_kind;
	hash_field(&st, &kind, 1);
	hash_string(&st, c->graph_app_id);
	rv = 0;
 done:
	crypto_generichash_final(&st, ts->ts_cred_hash,
	    sizeof(ts->ts_cred_hash));
	sodium_memzero(&st, sizeof(st));
	if (rv == -1)
		drop_credentials(ts);
	return rv;
}

/* A tenant's endpoint and the hash of all that goes into its request. */
static void
token_inputs(struct token *tk, const struct conf *c)
{
	crypto_generichash_state st;

	free(tk->tk_url);
	tk->tk_url = conf_token_url(c, tk->tk_tenant);
	crypto_generichash_init(&st, NULL, 0, sizeof(tk->tk_hash));
	hash_field(&st, tk->tk_set->ts_cred_hash,
	    sizeof(tk->tk_set->ts_cred_hash));
	hash_string(&st, tk->tk_url);
	hash_string(&st, tk->tk_tenant);
	crypto_generichash_final(&st, tk->tk_hash, sizeof(tk->tk_hash));
	sodium_memzero(&st, sizeof(st));
}

/* name=escaped(value), appended with '&' as needed. */
static int
form_add(char **form, const char *name, const char *value)
{
	char	*esc, *n;

	if ((esc = curl_easy_escape(NULL, value, 0)) == NULL)
		return -1;
	xasprintf(&n, "%s%s%s=%s", *form != NULL ? *form : "",
	    *form != NULL ? "&" : "", name, esc);
	sodium_memzero(esc, strlen(esc));
	curl_free(esc);
	if (*form != NULL) {
		sodium_memzero(*form, strlen(*form));
		free(*form);
	}
	*form = n;
	return 0;
}

static char *
token_form(struct token *tk)
{
	struct tokens		*ts = tk->tk_set;
	const struct conf	*c = ts->ts_sc->sc_conf;
	char			*form = NULL, *assertion = NULL;
	char			 jti[37];
	int			 rv = 0;

	rv |= form_add(&form, "client_id", c->graph_app_id);
	rv |= form_add(&form, "scope", TOKEN_SCOPE);
	rv |= form_add(&form, "grant_type", "client_credentials");
	if (ts->ts_kind == CRED_SECRET)
		rv |= form_add(&form, "client_secret", ts->ts_secret);
	else {
		graphmsg_uuid(jti);
		if (jwt_client_assertion(ts->ts_key, ts->ts_cert,
		    c->graph_app_id, tk->tk_url, jti, (long long)time(NULL),
		    TOKEN_ASSERTION_LIFE, &assertion) == -1) {
			log_warnx("graph token for tenant %s: cannot sign a "
			    "client assertion", tk->tk_tenant);
			rv = -1;
		} else {
			rv |= form_add(&form, "client_assertion_type",
			    TOKEN_ASSERTION_TYPE);
			rv |= form_add(&form, "client_assertion", assertion);
			sodium_memzero(assertion, strlen(assertion));
			free(assertion);
		}
	}
	if (rv != 0) {
		if (form != NULL) {
			sodium_memzero(form, strlen(form));
			free(form);
		}
		return NULL;
	}
	return form;
}

static void
schedule(struct token *tk, uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(tk->tk_timer, &tv);
}

static void
retry_later(struct token *tk, const char *why)
{
	tk->tk_set->ts_sc->sc_stats.token_failures++;
	tk->tk_failures++;
	snprintf(tk->tk_error, sizeof(tk->tk_error), "%s", why);
	log_info("graph token for tenant %s: next attempt in %u ms",
	    tk->tk_tenant, tk->tk_backoff_ms);
	schedule(tk, tk->tk_backoff_ms);
	tk->tk_backoff_ms = tk->tk_backoff_ms * 2 > TOKEN_BACKOFF_MAX_MS ?
	    TOKEN_BACKOFF_MAX_MS : tk->tk_backoff_ms * 2;
}

static void
on_token(const struct fetch_response *r, void *arg)
{
	struct token	*tk = arg;
	char		*value = NULL, err[320], rid[80];
	long long	 expires_in;
	size_t		 len;
	int		 parsed;

	tk->tk_xfer = NULL;
	log_sanitize(rid, sizeof(rid), fetch_header(r->xfer, "x-ms-request-id"));
	if (!r->ok) {
		log_warnx("graph token: %s: %s", tk->tk_url, r->error);
		retry_later(tk, r->error);
		return;
	}
	/* On a failure, the parser's reason is Entra's error text. */
	parsed = graphmsg_parse_token(r->body, r->body_len, &value,
	    &expires_in, err, sizeof(err));
	if (r->status != 200 || parsed == -1) {
		if (parsed == 0) {
			sodium_memzero(value, strlen(value));
			free(value);
			snprintf(err, sizeof(err), "no error body");
		}
		log_warnx("graph token: HTTP %ld from %s: %s (request %s)",
		    r->status, tk->tk_url, err, rid);
		log_sanitize(err, sizeof(err), err);
		snprintf(rid, sizeof(rid), "HTTP %ld: %.60s", r->status, err);
		retry_later(tk, rid);
		return;
	}
	drop_token(tk);
	len = strlen(value) + 1;
	if ((tk->tk_token = sodium_malloc(len)) == NULL)
		fatalx("sodium_malloc");
	memcpy(tk->tk_token, value, len);
	sodium_memzero(value, len);
	free(value);
	tk->tk_expires_us = polrecd_now_us() + (uint64_t)expires_in * 1000000;
	tk->tk_backoff_ms = TOKEN_BACKOFF_MIN_MS;
	tk->tk_set->ts_sc->sc_stats.token_fetches++;
	tk->tk_fetches++;
	tk->tk_error[0] = '\0';
	log_info("graph token: acquired (%s) for tenant %s, valid %lld s, "
	    "refreshed in %lld s", kind_name(tk->tk_set->ts_kind),
	    tk->tk_tenant, expires_in, expires_in * 8 / 10);
	schedule(tk, (uint64_t)expires_in * 800);
	waitq_wake(&tk->tk_waiters);
}

static void
token_fetch(struct token *tk)
{
	struct fetch_request	 req;
	char			*form;

	if (tk->tk_xfer != NULL || tk->tk_set->ts_kind == CRED_NONE)
		return;
	evtimer_del(tk->tk_timer);
	if ((form = token_form(tk)) == NULL) {
		retry_later(tk, "cannot build the token request");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = tk->tk_url;
	req.headers[0] = "Content-Type: application/x-www-form-urlencoded";
	req.headers[1] = "Accept: application/json";
	req.body = form;
	req.body_len = strlen(form);
	req.timeout_ms = TOKEN_TIMEOUT_MS;
	req.max_response = 64 * 1024;
	/* Answers wait for it. */
	req.priority = FETCH_URGENT;
	tk->tk_xfer = fetch_start(tk->tk_set->ts_sc->sc_fetch, &req, on_token,
	    tk);
	sodium_memzero(form, req.body_len);
	free(form);
	if (tk->tk_xfer == NULL)
		retry_later(tk, "cannot start the request");
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	token_fetch(arg);
}

static struct token *
token_add(struct tokens *ts, const char *tenant)
{
	struct token	*tk;

	tk = xcalloc(1, sizeof(*tk));
	tk->tk_set = ts;
	tk->tk_tenant = xstrdup(tenant);
	TAILQ_INIT(&tk->tk_waiters);
	tk->tk_backoff_ms = TOKEN_BACKOFF_MIN_MS;
	if ((tk->tk_timer = evtimer_new(ts->ts_sc->sc_base, on_timer, tk)) ==
	    NULL)
		fatalx("evtimer_new");
	token_inputs(tk, ts->ts_sc->sc_conf);
	TAILQ_INSERT_TAIL(&ts->ts_tokens, tk, tk_entry);
	return tk;
}

/* Those waiting hear of it: they find no token for the tenant. */
static void
token_remove(struct token *tk)
{
	TAILQ_REMOVE(&tk->tk_set->ts_tokens, tk, tk_entry);
	if (tk->tk_xfer != NULL)
		fetch_cancel(tk->tk_xfer);
	tk->tk_xfer = NULL;
	if (tk->tk_timer != NULL)
		event_free(tk->tk_timer);
	tk->tk_timer = NULL;
	waitq_wake(&tk->tk_waiters);
	drop_token(tk);
	free(tk->tk_tenant);
	free(tk->tk_url);
	free(tk);
}

struct tokens *
tokens_new(struct polrecd *sc)
{
	struct tokens	*ts;
	char *const	*t;

	ts = xcalloc(1, sizeof(*ts));
	ts->ts_sc = sc;
	TAILQ_INIT(&ts->ts_tokens);
	if (load_credentials(ts, sc->sc_conf) == -1) {
		tokens_free(ts);
		return NULL;
	}
	if (ts->ts_kind == CRED_NONE)
		log_warnx("graph: no client_secret_file or client_cert_file: "
		    "invitations cannot be answered");
	for (t = sc->sc_conf->tenants; *t != NULL; t++)
		token_fetch(token_add(ts, *t));
	return ts;
}

void
tokens_free(struct tokens *ts)
{
	struct token	*tk;

	if (ts == NULL)
		return;
	while ((tk = TAILQ_FIRST(&ts->ts_tokens)) != NULL)
		token_remove(tk);
	drop_credentials(ts);
	free(ts);
}

/*
 * After a reload: a new token only for a tenant whose token request
 * changed (the secret or certificate files' contents, token_url, app_id,
 * the tenant).  A reload that changed none of it keeps the tokens, and
 * the fetches or retries under way: SIGHUP storms cost Entra nothing.
 * A tenant no longer served loses its token; a new one gets one now.
 */
int
tokens_reconfigure(struct tokens *ts)
{
	const struct conf	*c = ts->ts_sc->sc_conf;
	struct tokens		 old;
	struct token		*tk, *next;
	unsigned char		 hash[sizeof(tk->tk_hash)];
	char *const		*t;

	old = *ts;
	ts->ts_secret = NULL;
	ts->ts_key = NULL;
	ts->ts_cert = NULL;
	if (load_credentials(ts, c) == -1) {
		drop_credentials(ts);
		ts->ts_kind = old.ts_kind;
		ts->ts_secret = old.ts_secret;
		ts->ts_key = old.ts_key;
		ts->ts_cert = old.ts_cert;
		memcpy(ts->ts_cred_hash, old.ts_cred_hash,
		    sizeof(ts->ts_cred_hash));
		sodium_memzero(&old, sizeof(old));
		log_warnx("graph: reload keeps the previous credentials and "
		    "tokens");
		return -1;
	}
	if (old.ts_secret != NULL)
		sodium_free(old.ts_secret);
	EVP_PKEY_free(old.ts_key);
	X509_free(old.ts_cert);
	sodium_memzero(&old, sizeof(old));

	for (tk = TAILQ_FIRST(&ts->ts_tokens); tk != NULL; tk = next) {
		next = TAILQ_NEXT(tk, tk_entry);
		if (conf_tenant_served(c, tk->tk_tenant))
			continue;
		log_info("graph token: tenant %s no longer served; its token "
		    "dropped", tk->tk_tenant);
		token_remove(tk);
	}
	for (t = c->tenants; *t != NULL; t++) {
		if ((tk = tokens_find(ts, *t)) == NULL) {
			log_info("graph token: tenant %s served; fetching its "
			    "token", *t);
			token_fetch(token_add(ts, *t));
			continue;
		}
		memcpy(hash, tk->tk_hash, sizeof(hash));
		token_inputs(tk, c);
		if (sodium_memcmp(hash, tk->tk_hash, sizeof(hash)) == 0) {
			log_debug("graph: credentials unchanged for tenant "
			    "%s; keeping the token", tk->tk_tenant);
			continue;
		}
		log_info("graph token: credentials changed on reload (%s); "
		    "fetching a new token for tenant %s",
		    kind_name(ts->ts_kind), tk->tk_tenant);
		if (tk->tk_xfer != NULL) {
			fetch_cancel(tk->tk_xfer);
			tk->tk_xfer = NULL;
		}
		/* Keep serving the current token until the new one arrives. */
		tk->tk_backoff_ms = TOKEN_BACKOFF_MIN_MS;
		token_fetch(tk);
	}
	return 0;
}

/*
 * The token of a tenant served.  No tenant (a call whose tenant is not
 * known): the only tenant's, when exactly one is served.
 */
struct token *
tokens_find(struct tokens *ts, const char *tenant)
{
	struct token	*tk;

	if (ts == NULL)
		return NULL;
	if (tenant == NULL || tenant[0] == '\0') {
		tk = TAILQ_FIRST(&ts->ts_tokens);
		return tk != NULL && TAILQ_NEXT(tk, tk_entry) == NULL ? tk :
		    NULL;
	}
	TAILQ_FOREACH(tk, &ts->ts_tokens, tk_entry)
		if (strcasecmp(tk->tk_tenant, tenant) == 0)
			return tk;
	return NULL;
}

int
tokens_state(const struct tokens *ts, size_t i, struct token_state *st)
{
	const struct token	*tk;

	if (ts == NULL)
		return -1;
	TAILQ_FOREACH(tk, &ts->ts_tokens, tk_entry)
		if (i-- == 0)
			break;
	if (tk == NULL)
		return -1;
	st->tenant = tk->tk_tenant;
	st->url = tk->tk_url;
	st->valid = token_get(tk) != NULL;
	st->expires_in = token_expires_in(tk);
	st->fetching = tk->tk_xfer != NULL;
	st->fetches = tk->tk_fetches;
	st->failures = tk->tk_failures;
	st->last_error = tk->tk_error;
	return 0;
}

const char *
token_get(const struct token *tk)
{
	if (tk == NULL || tk->tk_token == NULL ||
	    polrecd_now_us() + TOKEN_MARGIN_SEC * 1000000ULL >=
	    tk->tk_expires_us)
		return NULL;
	return tk->tk_token;
}

long long
token_expires_in(const struct token *tk)
{
	uint64_t	 now = polrecd_now_us();

	if (tk == NULL || tk->tk_token == NULL || tk->tk_expires_us <= now)
		return 0;
	return (long long)((tk->tk_expires_us - now) / 1000000);
}

void
token_wait(struct token *tk, struct waiter *w, void (*cb)(void *), void *arg)
{
	waitq_add(&tk->tk_waiters, w, cb, arg);
	/* An expired token with no fetch planned soon: fetch now. */
	if (tk->tk_xfer == NULL && token_get(tk) == NULL &&
	    tk->tk_backoff_ms == TOKEN_BACKOFF_MIN_MS)
		token_fetch(tk);
}

void
token_unwait(struct token *tk, struct waiter *w)
{
	if (tk != NULL)
		waitq_remove(&tk->tk_waiters, w);
}

/* Graph refused the token (401): drop it and fetch another now. */
void
token_invalidate(struct token *tk, const char *why)
{
	if (tk == NULL || tk->tk_token == NULL)
		return;
	log_warnx("graph token for tenant %s: refused by Graph (%s); "
	    "fetching a new one", tk->tk_tenant, why);
	drop_token(tk);
	token_fetch(tk);
}
