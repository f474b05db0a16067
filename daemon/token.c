/*
 * The app token for Graph: client credentials (a secret, or a certificate
 * and a signed client assertion) against [graph] token_url.  Fetched at
 * start-up and refreshed at 80% of its life, so that no invitation ever
 * waits for one; failures are retried with backoff, and whoever needs a
 * token meanwhile waits in a queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

enum cred_kind {
	CRED_NONE,
	CRED_SECRET,
	CRED_CERT,
};

struct token {
	struct polrecd		*tk_sc;
	enum cred_kind		 tk_kind;
	char			*tk_secret;	/* sodium_malloc'd */
	EVP_PKEY		*tk_key;
	X509			*tk_cert;
	char			*tk_url;	/* token endpoint */
	char			*tk_token;	/* sodium_malloc'd, or NULL */
	uint64_t		 tk_expires_us;	/* monotonic */
	struct fetch_xfer	*tk_xfer;
	struct event		*tk_timer;	/* refresh or retry */
	unsigned int		 tk_backoff_ms;
	struct waitq		 tk_waiters;
};

static void	 token_fetch(struct token *);

static void
drop_token(struct token *tk)
{
	if (tk->tk_token != NULL)
		sodium_free(tk->tk_token);
	tk->tk_token = NULL;
	tk->tk_expires_us = 0;
}

static void
drop_credentials(struct token *tk)
{
	if (tk->tk_secret != NULL)
		sodium_free(tk->tk_secret);
	tk->tk_secret = NULL;
	EVP_PKEY_free(tk->tk_key);
	tk->tk_key = NULL;
	X509_free(tk->tk_cert);
	tk->tk_cert = NULL;
	tk->tk_kind = CRED_NONE;
}

/* The certificate and its key; they must belong together. */
static int
load_cert(struct token *tk, const struct conf *c)
{
	FILE	*f;

	if ((f = fopen(c->graph_client_cert_file, "r")) == NULL) {
		log_warn("graph: %s", c->graph_client_cert_file);
		return -1;
	}
	tk->tk_cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if ((f = fopen(c->graph_client_key_file, "r")) == NULL) {
		log_warn("graph: %s", c->graph_client_key_file);
		return -1;
	}
	tk->tk_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (tk->tk_cert == NULL || tk->tk_key == NULL) {
		log_warnx("graph: cannot read the client certificate %s or "
		    "its key %s (PEM expected)", c->graph_client_cert_file,
		    c->graph_client_key_file);
		return -1;
	}
	if (X509_check_private_key(tk->tk_cert, tk->tk_key) != 1) {
		log_warnx("graph: %s is not the key of certificate %s",
		    c->graph_client_key_file, c->graph_client_cert_file);
		return -1;
	}
	return 0;
}

static int
load_credentials(struct token *tk, const struct conf *c)
{
	char	 err[256];

	drop_credentials(tk);
	if (c->graph_client_secret_file != NULL) {
		if ((tk->tk_secret = sodium_malloc(TOKEN_SECRET_MAX)) == NULL)
			fatalx("sodium_malloc");
		if (conf_read_secret(c->graph_client_secret_file,
		    tk->tk_secret, TOKEN_SECRET_MAX, err, sizeof(err)) == -1) {
			log_warnx("graph: client secret: %s", err);
			drop_credentials(tk);
			return -1;
		}
		tk->tk_kind = CRED_SECRET;
	} else if (c->graph_client_cert_file != NULL) {
		if (load_cert(tk, c) == -1) {
			drop_credentials(tk);
			return -1;
		}
		tk->tk_kind = CRED_CERT;
	}
	free(tk->tk_url);
	if (c->graph_token_url != NULL)
		tk->tk_url = xstrdup(c->graph_token_url);
	else
		xasprintf(&tk->tk_url,
		    "https://login.microsoftonline.com/%s/oauth2/v2.0/token",
		    c->graph_tenant_id != NULL ? c->graph_tenant_id :
		    "organizations");
	return 0;
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
	const struct conf	*c = tk->tk_sc->sc_conf;
	char			*form = NULL, *assertion = NULL;
	char			 jti[37];
	int			 rv = 0;

	rv |= form_add(&form, "client_id", c->graph_app_id);
	rv |= form_add(&form, "scope", TOKEN_SCOPE);
	rv |= form_add(&form, "grant_type", "client_credentials");
	if (tk->tk_kind == CRED_SECRET)
		rv |= form_add(&form, "client_secret", tk->tk_secret);
	else {
		graphmsg_uuid(jti);
		if (jwt_client_assertion(tk->tk_key, tk->tk_cert,
		    c->graph_app_id, tk->tk_url, jti, (long long)time(NULL),
		    TOKEN_ASSERTION_LIFE, &assertion) == -1) {
			log_warnx("graph: cannot sign a client assertion");
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
retry_later(struct token *tk)
{
	tk->tk_sc->sc_stats.token_failures++;
	log_info("graph token: next attempt in %u ms", tk->tk_backoff_ms);
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
		retry_later(tk);
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
		retry_later(tk);
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
	tk->tk_sc->sc_stats.token_fetches++;
	log_info("graph token: acquired (%s), valid %lld s, refreshed in "
	    "%lld s", tk->tk_kind == CRED_CERT ? "certificate" : "secret",
	    expires_in, expires_in * 8 / 10);
	schedule(tk, (uint64_t)expires_in * 800);
	waitq_wake(&tk->tk_waiters);
}

static void
token_fetch(struct token *tk)
{
	struct fetch_request	 req;
	char			*form;

	if (tk->tk_xfer != NULL || tk->tk_kind == CRED_NONE)
		return;
	evtimer_del(tk->tk_timer);
	if ((form = token_form(tk)) == NULL) {
		retry_later(tk);
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
	tk->tk_xfer = fetch_start(tk->tk_sc->sc_fetch, &req, on_token, tk);
	sodium_memzero(form, req.body_len);
	free(form);
	if (tk->tk_xfer == NULL)
		retry_later(tk);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	token_fetch(arg);
}

struct token *
token_new(struct polrecd *sc)
{
	struct token	*tk;

	tk = xcalloc(1, sizeof(*tk));
	tk->tk_sc = sc;
	TAILQ_INIT(&tk->tk_waiters);
	tk->tk_backoff_ms = TOKEN_BACKOFF_MIN_MS;
	if ((tk->tk_timer = evtimer_new(sc->sc_base, on_timer, tk)) == NULL)
		fatalx("evtimer_new");
	if (load_credentials(tk, sc->sc_conf) == -1) {
		token_free(tk);
		return NULL;
	}
	if (tk->tk_kind == CRED_NONE)
		log_warnx("graph: no client_secret_file or client_cert_file: "
		    "invitations cannot be answered");
	token_fetch(tk);
	return tk;
}

void
token_free(struct token *tk)
{
	if (tk == NULL)
		return;
	if (tk->tk_xfer != NULL)
		fetch_cancel(tk->tk_xfer);
	if (tk->tk_timer != NULL)
		event_free(tk->tk_timer);
	drop_token(tk);
	drop_credentials(tk);
	free(tk->tk_url);
	free(tk);
}

/* After a reload the credentials may differ: fetch a token with them now. */
int
token_reconfigure(struct token *tk)
{
	struct token	 old;

	old = *tk;
	tk->tk_secret = NULL;
	tk->tk_key = NULL;
	tk->tk_cert = NULL;
	tk->tk_url = NULL;
	if (load_credentials(tk, tk->tk_sc->sc_conf) == -1) {
		drop_credentials(tk);
		free(tk->tk_url);
		tk->tk_kind = old.tk_kind;
		tk->tk_secret = old.tk_secret;
		tk->tk_key = old.tk_key;
		tk->tk_cert = old.tk_cert;
		tk->tk_url = old.tk_url;
		log_warnx("graph: reload keeps the previous credentials");
		return -1;
	}
	if (old.tk_secret != NULL)
		sodium_free(old.tk_secret);
	EVP_PKEY_free(old.tk_key);
	X509_free(old.tk_cert);
	free(old.tk_url);
	if (tk->tk_xfer != NULL) {
		fetch_cancel(tk->tk_xfer);
		tk->tk_xfer = NULL;
	}
	/* Keep serving the current token until the new one arrives. */
	tk->tk_backoff_ms = TOKEN_BACKOFF_MIN_MS;
	token_fetch(tk);
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
	if (tk->tk_token == NULL)
		return;
	log_warnx("graph token: refused by Graph (%s); fetching a new one",
	    why);
	drop_token(tk);
	token_fetch(tk);
}
