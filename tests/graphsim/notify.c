/*
 * Posting signed commsNotifications to a webhook, as Teams does; also
 * the simulator's own posts (lifecycle notifications, media events).
 * Named hosts resolve through evdns: nothing here blocks the loop.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "graphsim.h"
#include "jsonx.h"
#include "log.h"
#include "xmalloc.h"

/*
 * What goes in the Authorization header, by the name a scenario step
 * gives as "token".  Each kind but valid, aud-array, graph-iss and (while
 * its key is published) second-key must be refused by the webhook;
 * tokens.c makes them.
 */
struct notify_token {
	const char		*name;
	enum token_claims	 claims;
	enum token_form		 form;
	const char		*description;
};

static const struct notify_token notify_tokens[] = {
	{ "valid", TOK_CLAIMS_VALID, TOK_FORM_RS256,
	    "RS256 by the signing key with its kid; every claim right" },
	{ "none", TOK_CLAIMS_VALID, TOK_FORM_NONE,
	    "no Authorization header" },
	{ "expired", TOK_CLAIMS_EXPIRED, TOK_FORM_RS256,
	    "exp = now - 3600, iat = nbf = now - 7200" },
	{ "not-yet-valid", TOK_CLAIMS_NOT_YET_VALID, TOK_FORM_RS256,
	    "iat = nbf = now + 3600, exp = now + 7200" },
	{ "wrong-aud", TOK_CLAIMS_WRONG_AUD, TOK_FORM_RS256,
	    "aud is another app's GUID" },
	{ "aud-array", TOK_CLAIMS_AUD_ARRAY, TOK_FORM_RS256,
	    "aud = [another GUID, the app id] (valid)" },
	{ "wrong-iss", TOK_CLAIMS_WRONG_ISS, TOK_FORM_RS256,
	    "iss https://evil.example.com" },
	{ "graph-iss", TOK_CLAIMS_GRAPH_ISS, TOK_FORM_RS256,
	    "iss https://graph.microsoft.com (valid)" },
	{ "no-tid", TOK_CLAIMS_NO_TID, TOK_FORM_RS256,
	    "no tid claim" },
	{ "wrong-tid", TOK_CLAIMS_WRONG_TID, TOK_FORM_RS256,
	    "tid is another tenant's GUID" },
	{ "alg-none", TOK_CLAIMS_VALID, TOK_FORM_ALG_NONE,
	    "header alg none, the real kid, an empty signature (h.p.)" },
	{ "hs256-pubkey", TOK_CLAIMS_VALID, TOK_FORM_HS256_PUBKEY,
	    "alg HS256 keyed with the signing key's public key PEM "
	    "(key confusion)" },
	{ "unknown-kid", TOK_CLAIMS_VALID, TOK_FORM_UNKNOWN_KID,
	    "RS256 by the signing key, kid no-such-kid" },
	{ "random-kid", TOK_CLAIMS_VALID, TOK_FORM_RANDOM_KID,
	    "RS256 by the signing key, a new random kid each time" },
	{ "other-key", TOK_CLAIMS_VALID, TOK_FORM_OTHER_KEY,
	    "RS256 by an unpublished key, with the signing key's kid" },
	{ "truncated-sig", TOK_CLAIMS_VALID, TOK_FORM_TRUNCATED_SIG,
	    "a valid token without its last 10 characters" },
	{ "garbage", TOK_CLAIMS_VALID, TOK_FORM_GARBAGE,
	    "Bearer and random base64url without dots" },
	{ "not-bearer", TOK_CLAIMS_VALID, TOK_FORM_BASIC,
	    "Authorization: Basic dXNlcjpwYXNz" },
	{ "duplicate-alg", TOK_CLAIMS_VALID, TOK_FORM_DUPLICATE_ALG,
	    "header {\"alg\":\"RS256\",\"alg\":\"none\",...}, "
	    "properly RS256-signed" },
	{ "second-key", TOK_CLAIMS_VALID, TOK_FORM_SECOND_KEY,
	    "RS256 by the second -k key with its kid (valid while "
	    "published)" },
};

struct notify {
	TAILQ_ENTRY(notify)	 entry;
	struct sim		*sim;
	struct evhttp_connection *evcon;
	struct event		*done_ev;
	long long		 started;
	struct notify_result	 result;
	char			*response;
	char			 error[128];
	int			 teams;		/* a notification */
	notify_done_cb		 cb;
	void			*arg;
};

static struct evhttp_connection *connect_target(struct sim *,
		    const struct evhttp_uri *);
static struct evdns_base *resolver(struct sim *);
static const char *chain_id(const cJSON *);
static void	add_headers(struct evhttp_request *,
		    const struct notify_spec *, const struct evhttp_uri *,
		    const char *, const char *);
static void	response_cb(struct evhttp_request *, void *);
static void	error_cb(enum evhttp_request_error, void *);
static void	done_cb(evutil_socket_t, short, void *);
static void	notify_free(struct sim *, struct notify *);

const struct notify_token *
notify_token_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(notify_tokens) / sizeof(notify_tokens[0]); i++)
		if (strcmp(notify_tokens[i].name, name) == 0)
			return &notify_tokens[i];
	return NULL;
}

/* "name  description" per kind, for polrec-graphsim tokens. */
void
notify_token_list(FILE *fp)
{
	size_t	 i;

	for (i = 0; i < sizeof(notify_tokens) / sizeof(notify_tokens[0]); i++)
		fprintf(fp, "%-14s %s\n", notify_tokens[i].name,
		    notify_tokens[i].description);
}

/* An http or https URL with a host: 0, else -1 with *errstr. */
int
notify_check_target(const char *url, const char **errstr)
{
	struct evhttp_uri	*uri;
	const char		*scheme;
	int			 rv = -1;

	if ((uri = evhttp_uri_parse(url)) == NULL) {
		*errstr = "not a URL";
		return -1;
	}
	scheme = evhttp_uri_get_scheme(uri);
	if (scheme == NULL || (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0))
		*errstr = "scheme must be http or https";
	else if (evhttp_uri_get_host(uri) == NULL ||
	    *evhttp_uri_get_host(uri) == '\0')
		*errstr = "no host";
	else
		rv = 0;
	evhttp_uri_free(uri);
	return rv;
}

/*
 * POST one notification.  The call legs it names become known first, so
 * that the webhook's answer finds them (not for the simulator's own
 * posts: those report what it already knows).  done is called exactly
 * once, from the event loop, unless the notify is cancelled.
 */
struct notify *
notify_send(struct sim *sim, const struct notify_spec *spec,
    notify_done_cb done, void *arg)
{
	struct notify		*n;
	struct evhttp_uri	*uri = NULL;
	struct evhttp_request	*req;
	const struct notify_token *tok = spec->token;
	const cJSON		*json = spec->json;
	cJSON			*parsed = NULL;
	char			*text = NULL, *authz = NULL, *target = NULL;
	const char		*body, *path, *query, *errstr;
	struct timeval		 now = { 0, 0 };

	n = xcalloc(1, sizeof(*n));
	n->sim = sim;
	n->cb = done;
	n->arg = arg;
	n->started = sim_monotonic_ms();
	n->teams = spec->bearer == NULL;
	if ((n->done_ev = evtimer_new(sim->base, done_cb, n)) == NULL)
		fatalx("evtimer_new");
	TAILQ_INSERT_TAIL(&sim->notifies, n, entry);

	if (spec->raw != NULL) {
		body = spec->raw;
		json = parsed = cJSON_Parse(body);
	} else {
		if ((text = cJSON_PrintUnformatted(json)) == NULL)
			fatalx("cJSON_PrintUnformatted");
		body = text;
	}
	if (json != NULL && !spec->own)
		calls_register(sim, json);

	if ((uri = evhttp_uri_parse(spec->target)) == NULL ||
	    (n->evcon = connect_target(sim, uri)) == NULL) {
		snprintf(n->error, sizeof(n->error), "cannot connect to %s",
		    spec->target);
		goto fail;
	}
	if (tok == NULL)
		tok = &notify_tokens[0];
	if (spec->bearer != NULL)
		xasprintf(&authz, "Bearer %s", spec->bearer);
	else if (spec->authorization != NULL)
		authz = xstrdup(spec->authorization);
	else if (tokens_mint(sim, tok->claims, tok->form, spec->tid, &authz,
	    &errstr) == -1) {
		snprintf(n->error, sizeof(n->error), "%s", errstr);
		goto fail;
	}
	evhttp_connection_set_timeout(n->evcon, spec->timeout_s > 0 ?
	    spec->timeout_s : SIM_NOTIFY_TIMEOUT);
	if ((req = evhttp_request_new(response_cb, n)) == NULL)
		fatalx("evhttp_request_new");
	evhttp_request_set_error_cb(req, error_cb);
	add_headers(req, spec, uri, authz, n->teams ? chain_id(json) : NULL);
	if (evbuffer_add(evhttp_request_get_output_buffer(req), body,
	    strlen(body)) == -1)
		fatalx("evbuffer_add");

	if ((path = evhttp_uri_get_path(uri)) == NULL || *path == '\0')
		path = "/";
	if ((query = evhttp_uri_get_query(uri)) != NULL)
		xasprintf(&target, "%s?%s", path, query);
	else
		target = xstrdup(path);
	/* On failure libevent has freed req. */
	if (evhttp_make_request(n->evcon, req, EVHTTP_REQ_POST, target) == -1) {
		snprintf(n->error, sizeof(n->error), "cannot send to %s",
		    spec->target);
		goto fail;
	}
	goto done;
 fail:
	log_warnx("notification: %s", n->error);
	evtimer_add(n->done_ev, &now);
 done:
	free(target);
	if (authz != NULL)
		sodium_memzero(authz, strlen(authz));
	free(authz);
	evhttp_uri_free(uri);
	cJSON_Delete(parsed);
	cJSON_free(text);
	return n;
}

static struct evhttp_connection *
connect_target(struct sim *sim, const struct evhttp_uri *uri)
{
	struct bufferevent	*bev;
	SSL			*ssl;
	struct in6_addr		 addr;
	char			*sni;
	const char		*host = evhttp_uri_get_host(uri);
	const char		*scheme = evhttp_uri_get_scheme(uri);
	int			 port = evhttp_uri_get_port(uri);
	int			 tls;

	if (host == NULL || scheme == NULL)
		return NULL;
	tls = strcasecmp(scheme, "https") == 0;
	if (!tls && strcasecmp(scheme, "http") != 0)
		return NULL;
	if (port == -1)
		port = tls ? 443 : 80;
	if (!tls)
		return evhttp_connection_base_new(sim->base, resolver(sim),
		    host, port);

	/* The simulator tests webhooks on loopback: no verification. */
	if (sim->tls_client == NULL) {
		sim->tls_client = SSL_CTX_new(TLS_client_method());
		if (sim->tls_client == NULL)
			fatalx("SSL_CTX_new");
		SSL_CTX_set_verify(sim->tls_client, SSL_VERIFY_NONE, NULL);
	}
	if ((ssl = SSL_new(sim->tls_client)) == NULL)
		return NULL;
	/* SNI names hosts, never address literals (RFC 6066). */
	if (inet_pton(AF_INET, host, &addr) != 1 &&
	    inet_pton(AF_INET6, host, &addr) != 1) {
		sni = xstrdup(host);	/* the macro casts away const */
		SSL_set_tlsext_host_name(ssl, sni);
		free(sni);
	}
	if ((bev = bufferevent_openssl_socket_new(sim->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return evhttp_connection_base_bufferevent_new(sim->base,
	    resolver(sim), bev, host, port);
}

/*
 * Without a resolver libevent looks names up with getaddrinfo, blocking
 * the loop; a callbackUri may name any host.  Address literals resolve
 * at once either way.
 */
static struct evdns_base *
resolver(struct sim *sim)
{
	if (sim->dns == NULL && (sim->dns = evdns_base_new(sim->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
		log_warnx("no resolver: host names will block the loop");
	return sim->dns;
}

/* The first callChainId among the notification's resources, if any. */
static const char *
chain_id(const cJSON *json)
{
	const cJSON	*v;
	const char	*id;

	cJSON_ArrayForEach(v, jsonx_array(json, "value")) {
		id = jsonx_string(jsonx_object(v, "resourceData"),
		    "callChainId");
		if (id != NULL)
			return id;
	}
	return NULL;
}

/* The scenario's own headers win over the simulator's defaults. */
static void
add_headers(struct evhttp_request *req,
    const struct notify_spec *spec, const struct evhttp_uri *uri,
    const char *authz, const char *chain)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	const cJSON		*x;
	char			 mid[SIM_UUID_LEN + 1], *v;
	int			 port = evhttp_uri_get_port(uri);

	cJSON_ArrayForEach(x, spec->headers) {
		if (cJSON_IsString(x) &&
		    evhttp_add_header(h, x->string, x->valuestring) == -1)
			log_warnx("notification: header %s dropped", x->string);
	}
	if (evhttp_find_header(h, "Host") == NULL) {
		if (port == -1)
			v = xstrdup(evhttp_uri_get_host(uri));
		else
			xasprintf(&v, "%s:%d", evhttp_uri_get_host(uri), port);
		evhttp_add_header(h, "Host", v);
		free(v);
	}
	if (evhttp_find_header(h, "Content-Type") == NULL)
		evhttp_add_header(h, "Content-Type",
		    spec->content_type != NULL ? spec->content_type :
		    "application/json");
	if (evhttp_find_header(h, "Accept") == NULL)
		evhttp_add_header(h, "Accept", "application/json");
	if (authz != NULL && evhttp_find_header(h, "Authorization") == NULL)
		evhttp_add_header(h, "Authorization", authz);
	if (spec->bearer != NULL)
		return;		/* a media event: no Teams headers */
	if (evhttp_find_header(h, "User-Agent") == NULL)
		evhttp_add_header(h, "User-Agent",
		    "Microsoft-Skype/3.0,(Calling/1.0)");
	if (chain != NULL &&
	    evhttp_find_header(h, "X-Microsoft-Skype-Chain-ID") == NULL)
		evhttp_add_header(h, "X-Microsoft-Skype-Chain-ID", chain);
	if (evhttp_find_header(h, "X-Microsoft-Skype-Message-ID") == NULL) {
		if (spec->message_id == NULL)
			sim_make_uuid(mid);
		evhttp_add_header(h, "X-Microsoft-Skype-Message-ID",
		    spec->message_id != NULL ? spec->message_id : mid);
	}
}

static void
error_cb(enum evhttp_request_error err, void *arg)
{
	struct notify	*n = arg;
	const char	*why;

	switch (err) {
	case EVREQ_HTTP_TIMEOUT:
		why = "timed out";
		break;
	case EVREQ_HTTP_EOF:
		why = "connection closed";
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		why = "invalid response";
		break;
	case EVREQ_HTTP_BUFFER_ERROR:
		why = "connection failed";
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		why = "response too long";
		break;
	default:
		why = "request failed";
		break;
	}
	snprintf(n->error, sizeof(n->error), "%s", why);
}

/*
 * libevent still owns the connection while this runs: keep the result
 * and finish from the event loop, where the connection can be freed.
 */
static void
response_cb(struct evhttp_request *req, void *arg)
{
	struct notify	*n = arg;
	struct evbuffer	*in;
	struct timeval	 now = { 0, 0 };
	size_t		 len;

	n->result.elapsed_ms = sim_monotonic_ms() - n->started;
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		if (n->error[0] == '\0')
			snprintf(n->error, sizeof(n->error),
			    "connection failed");
	} else {
		n->result.status = evhttp_request_get_response_code(req);
		in = evhttp_request_get_input_buffer(req);
		len = evbuffer_get_length(in);
		if (len > SIM_RESPONSE_MAX)
			len = SIM_RESPONSE_MAX;
		n->response = xmalloc(len + 1);
		evbuffer_copyout(in, n->response, len);
		n->response[len] = '\0';
		n->result.response = n->response;
		n->result.response_len = len;
	}
	evtimer_add(n->done_ev, &now);
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify	*n = arg;
	struct sim	*sim = n->sim;

	(void)fd;
	(void)what;
	if (n->result.status == 0) {
		if (n->result.elapsed_ms == 0)
			n->result.elapsed_ms = sim_monotonic_ms() - n->started;
		n->result.error = n->error;
		if (n->teams)
			sim->stats.notifications_failed++;
	} else if (n->teams)
		sim->stats.notifications_sent++;
	if (n->cb != NULL)
		n->cb(&n->result, n->arg);
	notify_free(sim, n);
}

/* Forget a notification without calling its done function. */
void
notify_cancel(struct sim *sim, struct notify *n)
{
	if (n != NULL)
		notify_free(sim, n);
}

void
notify_cancel_all(struct sim *sim)
{
	struct notify	*n;

	while ((n = TAILQ_FIRST(&sim->notifies)) != NULL)
		notify_free(sim, n);
}

static void
notify_free(struct sim *sim, struct notify *n)
{
	TAILQ_REMOVE(&sim->notifies, n, entry);
	if (n->evcon != NULL)
		evhttp_connection_free(n->evcon);
	event_free(n->done_ev);
	free(n->response);
	free(n);
}
