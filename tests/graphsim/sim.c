/*
 * The simulator's HTTP server: routing (Graph, Entra, the media agent),
 * reply helpers and the control API.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "graphsim.h"
#include "log.h"
#include "xmalloc.h"

static void	route(struct evhttp_request *, void *);
static void	control_handle(struct sim *, struct evhttp_request *,
		    const char *);
static void	control_stats(struct sim *, struct evhttp_request *);
static void	control_reset(struct sim *, struct evhttp_request *);
static void	control_play(struct sim *, struct evhttp_request *);
static void	deferred_cb(evutil_socket_t, short, void *);
static void	deferred_run(struct sim_deferred *);

/*
 * The control API under /_sim/, for tests and `polrec-graphsim ctl`:
 *   GET    requests, stats	what the simulator saw and counted
 *   POST   reset		forget requests, counters and media
 *				sessions; lifecycle normal/20, media auto
 *   POST   play		play a scenario, answer with its report
 *   POST   load		a mixed load at a rate; answer when done (load.c)
 *   GET    keys		{"signing": kid, "published": [kids]}
 *   POST   keys/rotate		a new in-memory RSA-2048 key signs from now
 *   POST   keys/retire?kid=K	K leaves the JWKS (409 for the signer)
 *   GET    idp			{"state": "up" | "down" | "slow"}
 *   POST   idp?state=S		OpenID document and JWKS up, down or slow
 *   POST   secret		the body's first line: the client secret
 *   GET    faults		the armed faults (faults.c)
 *   POST   faults		arm one
 *   DELETE faults		disarm all
 *   GET    lifecycle		{"mode": M, "delay_ms": N} (lifecycle.c)
 *   POST   lifecycle		set them
 *   POST   calls/end		Teams ends a call
 *   POST   calls/forget?id=ID	Graph forgets a call, silently
 *   POST   calls/open		a call id never seen is a new incoming
 *				call, as when another client (the bench's
 *				load) posts the invitations
 *   GET    media		auto-report and sessions (media.c)
 *   POST   media		auto-report on or off; post a capture event
 *   GET    witness		the checkpoints witnessed (witness.c)
 *   GET    witness/latest	the newest, as polrecd POSTed it
 *   GET    tsa			the time stamps issued (tsa.c)
 *   POST   tsa?reject=N	the TSA refuses the next N requests
 */
static const struct control_route {
	const char		*name;
	enum evhttp_cmd_type	 method;
	void			(*handle)(struct sim *,
				    struct evhttp_request *);
} control_routes[] = {
	{ "requests",	EVHTTP_REQ_GET,	   records_write },
	{ "stats",	EVHTTP_REQ_GET,	   control_stats },
	{ "reset",	EVHTTP_REQ_POST,   control_reset },
	{ "play",	EVHTTP_REQ_POST,   control_play },
	{ "load",	EVHTTP_REQ_POST,   load_start },
	{ "keys",	EVHTTP_REQ_GET,	   keys_show },
	{ "keys/rotate", EVHTTP_REQ_POST,  keys_rotate },
	{ "keys/retire", EVHTTP_REQ_POST,  keys_retire },
	{ "idp",	EVHTTP_REQ_GET,	   idp_show_state },
	{ "idp",	EVHTTP_REQ_POST,   idp_set_state },
	{ "secret",	EVHTTP_REQ_POST,   idp_set_secret },
	{ "faults",	EVHTTP_REQ_GET,	   faults_show },
	{ "faults",	EVHTTP_REQ_POST,   faults_arm },
	{ "faults",	EVHTTP_REQ_DELETE, faults_clear },
	{ "lifecycle",	EVHTTP_REQ_GET,	   lifecycle_show },
	{ "lifecycle",	EVHTTP_REQ_POST,   lifecycle_set },
	{ "calls/end",	EVHTTP_REQ_POST,   lifecycle_end_call },
	{ "calls/forget", EVHTTP_REQ_POST, lifecycle_forget_call },
	{ "calls/open",	EVHTTP_REQ_POST,   calls_open },
	{ "media",	EVHTTP_REQ_GET,	   media_show },
	{ "witness",	EVHTTP_REQ_GET,	   witness_show },
	{ "witness/latest", EVHTTP_REQ_GET, witness_latest },
	{ "media",	EVHTTP_REQ_POST,   media_control },
	{ "tsa",	EVHTTP_REQ_GET,	   tsa_show },
	{ "tsa",	EVHTTP_REQ_POST,   tsa_control },
};

/* A request whose answer waits for a timer (latency, slow IdP, drops). */
struct sim_deferred {
	TAILQ_ENTRY(sim_deferred) entry;
	struct sim		*sim;
	struct event		*timer;
	struct evhttp_request	*req;
	sim_resume_fn		 resume;
	void			*arg;
};

static const char *action_names[SIM_ACT_MAX] = {
	"answer", "reject", "redirect", "updateRecordingStatus",
	"keepAlive", "delete", "get", "unknown"
};

struct sim *
sim_new(struct event_base *base)
{
	struct sim	*sim;
	size_t		 i;

	sim = xcalloc(1, sizeof(*sim));
	sim->base = base;
	TAILQ_INIT(&sim->tokens);
	for (i = 0; i < SIM_CALL_BUCKETS; i++)
		LIST_INIT(&sim->calls[i]);
	TAILQ_INIT(&sim->calls_by_age);
	sim->records = xcalloc(SIM_MAX_RECORDS, sizeof(*sim->records));
	TAILQ_INIT(&sim->notifies);
	TAILQ_INIT(&sim->plays);
	TAILQ_INIT(&sim->loads);
	TAILQ_INIT(&sim->deferred);
	TAILQ_INIT(&sim->lifecycle_posts);
	TAILQ_INIT(&sim->media_events);
	sim->media_auto = 1;
	lifecycle_reset(sim);

	if ((sim->http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new");
	evhttp_set_allowed_methods(sim->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE);
	evhttp_set_max_headers_size(sim->http, 64 * 1024);
	evhttp_set_max_body_size(sim->http, SIM_MAX_BODY);
	/* A /_sim/play request stays open until its scenario ends. */
	evhttp_set_timeout(sim->http, 3600);
	/* sim_reply labels bodies; empty 202/204 replies carry no type. */
	evhttp_set_default_content_type(sim->http, NULL);
	evhttp_set_gencb(sim->http, route, sim);
	return sim;
}

void
sim_free(struct sim *sim)
{
	size_t	 i;

	if (sim == NULL)
		return;
	/*
	 * Plays and deferred requests answer before the server goes; what
	 * they set off is then cancelled with every other post.
	 */
	play_abort_all(sim);
	load_abort_all(sim);
	sim_defer_flush(sim);
	lifecycle_cancel_all(sim);
	media_cancel_all(sim);
	notify_cancel_all(sim);
	if (sim->dns != NULL)
		evdns_base_free(sim->dns, 0);
	if (sim->http != NULL)
		evhttp_free(sim->http);
	idp_clear_tokens(sim);
	witness_shutdown(sim);
	calls_clear(sim);
	records_clear(sim);
	free(sim->records);
	keys_clear(sim);
	certs_clear(sim);
	tsa_unload(sim);
	SSL_CTX_free(sim->tls_client);
	if (sim->media_secret != NULL) {
		sodium_memzero(sim->media_secret, strlen(sim->media_secret));
		free(sim->media_secret);
	}
	if (sim->reqlog != NULL)
		fclose(sim->reqlog);
	if (sim->secret != NULL) {
		sodium_memzero(sim->secret, strlen(sim->secret));
		free(sim->secret);
	}
	free(sim->target_url);
	free(sim->tenant_id);
	for (i = 0; i < sim->ntenants; i++)
		free(sim->tenants[i]);
	free(sim->tenants);
	free(sim->app_id);
	free(sim->self_url);
	free(sim);
}

/*
 * Bind ADDR:PORT (port 0: ephemeral) and return the address actually
 * bound as "ADDR:PORT" in *bound.
 */
int
sim_listen(struct sim *sim, const char *spec, char **bound)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			*addr, *colon, host[INET6_ADDRSTRLEN];
	const char		*errstr;
	int			 port, rv = -1, v6;

	*bound = NULL;
	addr = xstrdup(spec);
	if ((colon = strrchr(addr, ':')) == NULL) {
		log_warnx("listen address %s: expected ADDR:PORT", spec);
		goto done;
	}
	*colon = '\0';
	port = strtonum(colon + 1, 0, 65535, &errstr);
	if (errstr != NULL) {
		log_warnx("listen address %s: port is %s", spec, errstr);
		goto done;
	}
	if (addr[0] == '[' && colon > addr + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(addr, addr + 1, strlen(addr + 1) + 1);
	}
	if ((bs = evhttp_bind_socket_with_handle(sim->http, addr,
	    port)) == NULL) {
		log_warnx("cannot listen on %s", spec);
		goto done;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&ss, &sslen) == -1) {
		log_warn("getsockname");
		goto done;
	}
	v6 = ss.ss_family == AF_INET6;
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			snprintf(host, sizeof(host), "::1");
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
			snprintf(host, sizeof(host), "127.0.0.1");
	}
	xasprintf(bound, v6 ? "[%s]:%d" : "%s:%d", host, port);
	free(sim->self_url);
	xasprintf(&sim->self_url, "http://%s", *bound);
	rv = 0;
 done:
	free(addr);
	return rv;
}

static void
route(struct evhttp_request *req, void *arg)
{
	struct sim		*sim = arg;
	const char		*path;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL || *path == '\0')
		path = "/";
	log_debug("%s %s",
	    sim_method_name(evhttp_request_get_command(req)), path);

	if (strncmp(path, "/_sim/", 6) == 0)
		control_handle(sim, req, path + 6);
	else if (strcmp(path, "/v1/.well-known/OpenIdConfiguration") == 0 ||
	    strcmp(path, "/.well-known/openid-configuration") == 0)
		idp_handle_openid(sim, req);
	else if (strcmp(path, "/v1/keys") == 0)
		idp_handle_keys(sim, req);
	else if (calls_match_path(path))
		calls_handle(sim, req, path);
	else if (media_match_path(path))
		media_handle(sim, req, path);
	else if (strcmp(path, "/tsa") == 0)
		tsa_handle(sim, req);
	else if (idp_match_token_path(path))
		idp_handle_token(sim, req, path);
	else if (strcmp(path, "/witness") == 0)
		witness_handle(sim, req);
	else
		sim_reply_error(req, HTTP_NOTFOUND, "no such resource");
}

/* A resource may have a row per method. */
static void
control_handle(struct sim *sim, struct evhttp_request *req, const char *what)
{
	const struct control_route	*r;
	size_t				 i;
	int				 found = 0;

	for (i = 0; i < sizeof(control_routes) / sizeof(control_routes[0]);
	    i++) {
		r = &control_routes[i];
		if (strcmp(what, r->name) != 0)
			continue;
		found = 1;
		if (evhttp_request_get_command(req) == r->method) {
			r->handle(sim, req);
			return;
		}
	}
	if (found)
		sim_reply_error(req, HTTP_BADMETHOD, "method not allowed");
	else
		sim_reply_error(req, HTTP_NOTFOUND,
		    "no such control resource");
}

/*
 * Calls and tokens stay: a running polrecd still uses them.  So do
 * lifecycle notifications already due.
 */
static void
control_reset(struct sim *sim, struct evhttp_request *req)
{
	records_clear(sim);
	lifecycle_reset(sim);
	media_reset(sim);
	tsa_reset(sim);
	memset(&sim->stats, 0, sizeof(sim->stats));
	sim_reply_json(req, HTTP_OK, NULL);
}

static void
control_stats(struct sim *sim, struct evhttp_request *req)
{
	const struct sim_stats	*st = &sim->stats;
	cJSON			*o;
	char			 key[64];
	size_t			 i;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "tokens_issued", st->tokens_issued);
	cJSON_AddNumberToObject(o, "token_errors", st->token_errors);
	cJSON_AddNumberToObject(o, "requests", st->requests);
	cJSON_AddNumberToObject(o, "auth_failures", st->auth_failures);
	for (i = 0; i < SIM_ACT_MAX; i++) {
		snprintf(key, sizeof(key), "requests_%s", action_names[i]);
		cJSON_AddNumberToObject(o, key, st->actions[i]);
	}
	cJSON_AddNumberToObject(o, "notifications_sent",
	    st->notifications_sent);
	cJSON_AddNumberToObject(o, "notifications_failed",
	    st->notifications_failed);
	cJSON_AddNumberToObject(o, "plays", st->plays);
	cJSON_AddNumberToObject(o, "calls_known", sim->ncalls);
	cJSON_AddNumberToObject(o, "openid_requests", st->openid_requests);
	cJSON_AddNumberToObject(o, "jwks_requests", st->jwks_requests);
	cJSON_AddNumberToObject(o, "faults_injected", st->faults_injected);
	cJSON_AddNumberToObject(o, "lifecycle_sent", st->lifecycle_sent);
	cJSON_AddNumberToObject(o, "lifecycle_failed", st->lifecycle_failed);
	cJSON_AddNumberToObject(o, "lifecycle_untargeted",
	    st->lifecycle_untargeted);
	cJSON_AddNumberToObject(o, "calls_ended", st->calls_ended);
	cJSON_AddNumberToObject(o, "calls_forgotten", st->calls_forgotten);
	cJSON_AddNumberToObject(o, "assertions_accepted",
	    st->assertions_accepted);
	cJSON_AddNumberToObject(o, "assertions_refused",
	    st->assertions_refused);
	cJSON_AddNumberToObject(o, "media_requests", st->media_requests);
	cJSON_AddNumberToObject(o, "media_auth_failures",
	    st->media_auth_failures);
	cJSON_AddNumberToObject(o, "media_blobs_issued",
	    st->media_blobs_issued);
	cJSON_AddNumberToObject(o, "media_ends", st->media_ends);
	cJSON_AddNumberToObject(o, "media_events_sent", st->media_events_sent);
	cJSON_AddNumberToObject(o, "media_events_failed",
	    st->media_events_failed);
	cJSON_AddNumberToObject(o, "tsa_requests", st->tsa_requests);
	cJSON_AddNumberToObject(o, "tsa_stamps_issued",
	    st->tsa_stamps_issued);
	cJSON_AddNumberToObject(o, "tsa_refused", st->tsa_refused);
	cJSON_AddNumberToObject(o, "tsa_errors", st->tsa_errors);
	cJSON_AddNumberToObject(o, "token_tenant_mismatch",
	    st->token_tenant_mismatch);
	cJSON_AddNumberToObject(o, "witness_requests", st->witness_requests);
	cJSON_AddNumberToObject(o, "witness_accepted", st->witness_accepted);
	cJSON_AddNumberToObject(o, "witness_refused", st->witness_refused);
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}

static void
control_play(struct sim *sim, struct evhttp_request *req)
{
	char	*body, err[256];
	size_t	 len;

	if ((body = sim_read_body(req, &len)) == NULL) {
		sim_reply_error(req, HTTP_BADREQUEST, "empty scenario");
		return;
	}
	if (play_start(sim, req, body, len, err, sizeof(err)) == -1) {
		log_warnx("play: %s", err);
		sim_reply_error(req, HTTP_BADREQUEST, err);
	}
	free(body);
}

const char *
sim_action_name(enum sim_action act)
{
	return action_names[act];
}

/*
 * Resume req after ms from the event loop, never from inside libevent's
 * request callback (sim_drop needs that).  resume owns arg and must
 * answer or drop req.  If the client goes away meanwhile, libevent 2.1
 * detaches req from its connection and keeps it for us: the answer
 * then just frees it.
 */
void
sim_defer(struct sim *sim, struct evhttp_request *req, int ms,
    sim_resume_fn resume, void *arg)
{
	struct sim_deferred	*d;
	struct timeval		 tv;

	d = xcalloc(1, sizeof(*d));
	d->sim = sim;
	d->req = req;
	d->resume = resume;
	d->arg = arg;
	if ((d->timer = evtimer_new(sim->base, deferred_cb, d)) == NULL)
		fatalx("evtimer_new");
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(d->timer, &tv) == -1)
		fatalx("evtimer_add");
	TAILQ_INSERT_TAIL(&sim->deferred, d, entry);
}

/* At shutdown: everything deferred is answered now. */
void
sim_defer_flush(struct sim *sim)
{
	struct sim_deferred	*d;

	while ((d = TAILQ_FIRST(&sim->deferred)) != NULL)
		deferred_run(d);
}

static void
deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deferred_run(arg);
}

static void
deferred_run(struct sim_deferred *d)
{
	TAILQ_REMOVE(&d->sim->deferred, d, entry);
	event_free(d->timer);
	d->resume(d->sim, d->req, d->arg);
	free(d);
}

/*
 * Close req's connection without an answer.  Only from a timer (see
 * sim_defer): freeing the connection frees req with it.
 */
void
sim_drop(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;

	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_free(evcon);
	else {
		log_debug("drop: the client had already gone");
		evhttp_request_free(req);
	}
}

/* A decoded query parameter of req's URI, allocated; NULL if absent. */
char *
sim_query_param(struct evhttp_request *req, const char *name)
{
	struct evkeyvalq	 params;
	const char		*query, *v;
	char			*value = NULL;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query == NULL)
		return NULL;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(query, &params) == 0 &&
	    (v = evhttp_find_header(&params, name)) != NULL)
		value = xstrdup(v);
	evhttp_clear_headers(&params);
	return value;
}

/* Only the methods evhttp_set_allowed_methods lets through. */
const char *
sim_method_name(int cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	default:
		return "OTHER";
	}
}

/*
 * Every response carries a request-id (unless the handler set its own)
 * and echoes the client-request-id, as Graph does.
 */
void
sim_reply(struct evhttp_request *req, int status, const char *body,
    size_t len)
{
	struct evkeyvalq	*in, *out;
	struct evbuffer		*buf = NULL;
	const char		*crid;
	char			 rid[SIM_UUID_LEN + 1];

	in = evhttp_request_get_input_headers(req);
	out = evhttp_request_get_output_headers(req);
	if (evhttp_find_header(out, "request-id") == NULL) {
		sim_make_uuid(rid);
		evhttp_add_header(out, "request-id", rid);
	}
	if ((crid = evhttp_find_header(in, "client-request-id")) != NULL &&
	    evhttp_find_header(out, "client-request-id") == NULL)
		evhttp_add_header(out, "client-request-id", crid);
	if (len > 0) {
		if ((buf = evbuffer_new()) == NULL ||
		    evbuffer_add(buf, body, len) == -1)
			fatalx("evbuffer");
		if (evhttp_find_header(out, "Content-Type") == NULL)
			evhttp_add_header(out, "Content-Type",
			    "application/json");
	}
	evhttp_send_reply(req, status, NULL, buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

/* NULL json: an empty JSON object. */
void
sim_reply_json(struct evhttp_request *req, int status, const cJSON *json)
{
	char	*text;

	if (json == NULL) {
		sim_reply(req, status, "{}", 2);
		return;
	}
	if ((text = cJSON_PrintUnformatted(json)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	sim_reply(req, status, text, strlen(text));
	cJSON_free(text);
}

/* The simulator's own errors (control API, unknown paths). */
void
sim_reply_error(struct evhttp_request *req, int status, const char *msg)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", msg);
	sim_reply_json(req, status, o);
	cJSON_Delete(o);
}

/* The request body, NUL-terminated, or NULL when there is none. */
char *
sim_read_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	char		*body;

	*len = evbuffer_get_length(in);
	if (*len == 0)
		return NULL;
	body = xmalloc(*len + 1);
	if (evbuffer_copyout(in, body, *len) != (ev_ssize_t)*len)
		fatalx("evbuffer_copyout");
	body[*len] = '\0';
	return body;
}

void
sim_make_uuid(char out[SIM_UUID_LEN + 1])
{
	unsigned char	 b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, SIM_UUID_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
	    b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* UTC, ISO 8601; with_ms adds milliseconds and a Z. */
void
sim_format_time(char *buf, size_t len, int with_ms)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 stamp[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(buf, len, "%s.%03ldZ", stamp, ts.tv_nsec / 1000000);
	else
		snprintf(buf, len, "%s", stamp);
}

long long
sim_monotonic_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
