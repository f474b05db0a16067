/*
 * Requests to Graph's calls API (and, with a shared secret, to the media
 * agent): one logical request with its retries.  Every attempt carries a
 * fresh client-request-id; every failure is logged with Graph's
 * request-id and error code.  An answer has a deadline and is never sent
 * late: when no attempt can finish inside it, the result is `missed`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "conf.h"
#include "fetch.h"
#include "graph.h"
#include "graphmsg.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define GRAPH_ATTEMPTS_DEADLINE	16	/* bounded by the deadline anyway */
#define GRAPH_ATTEMPTS_DEFAULT	6
#define GRAPH_MIN_ATTEMPT_US	50000	/* no point starting with less */
#define GRAPH_TIMEOUT_MS	10000	/* an attempt without a deadline */
#define GRAPH_BACKOFF_FIRST_MS	100	/* with a deadline: 100, 200, 400 */
#define GRAPH_BACKOFF_SLOW_MS	1000	/* without: 1, 2, 4 ... 60 s */
#define GRAPH_BACKOFF_MAX_MS	60000
#define GRAPH_MAX_RESPONSE	(256 * 1024)
#define GRAPH_SECRET_MAX	1024

struct graph_op {
	LIST_ENTRY(graph_op)	 go_entry;
	struct polrecd		*go_sc;
	char			*go_method;
	char			*go_url;
	char			*go_what;
	char			*go_call_id;
	char			*go_tenant;	/* whose token; NULL: unknown */
	struct token		*go_tk;		/* waited for, or NULL */
	char			*go_body;
	enum graph_auth		 go_auth;
	char			*go_secret;
	uint64_t		 go_deadline_us;
	uint64_t		 go_started_us;
	int			 go_max_attempts;
	size_t			 go_max_response;
	int			 go_attempts;
	int			 go_reauthed;	/* retried once after a 401 */
	int			 go_unsure;	/* an attempt had no clear reply */
	char			 go_crid[37];	/* this attempt's */
	struct fetch_xfer	*go_xfer;
	struct event		*go_timer;	/* backoff, or the deadline */
	struct waiter		 go_waiter;
	graph_cb		 go_cb;
	void			*go_arg;
};

static LIST_HEAD(, graph_op) graph_ops = LIST_HEAD_INITIALIZER(graph_ops);
static size_t	 graph_nops;	/* in graph_ops */

static void	 attempt(struct graph_op *);

char *
graph_call_url(const struct polrecd *sc, const char *call_id,
    const char *action)
{
	const char	*base = sc->sc_conf->graph_base_url;
	size_t		 n = strlen(base);
	char		*url;

	while (n > 0 && base[n - 1] == '/')
		n--;
	xasprintf(&url, "%.*s/communications/calls/%s%s%s", (int)n, base,
	    call_id, action != NULL ? "/" : "", action != NULL ? action : "");
	return url;
}

struct graph_op *
graph_call(struct polrecd *sc, const char *tenant, const char *method,
    const char *call_id, const char *action, const char *what, const char *body,
    uint64_t deadline_us, int max_attempts, graph_cb cb, void *arg)
{
	struct graph_req	 req;
	struct graph_op		*op;
	char			*url;

	url = graph_call_url(sc, call_id, action);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.what = what != NULL ? what : action;
	req.call_id = call_id;
	req.tenant = tenant;
	req.body = body;
	req.auth = GRAPH_AUTH_TOKEN;
	req.deadline_us = deadline_us;
	req.max_attempts = max_attempts;
	op = graph_start(sc, &req, cb, arg);
	free(url);
	return op;
}

static void
op_free(struct graph_op *op)
{
	if (op->go_xfer != NULL)
		fetch_cancel(op->go_xfer);
	if (op->go_timer != NULL)
		event_free(op->go_timer);
	token_unwait(op->go_tk, &op->go_waiter);
	if (op->go_secret != NULL) {
		explicit_bzero(op->go_secret, strlen(op->go_secret));
		free(op->go_secret);
	}
	LIST_REMOVE(op, go_entry);
	graph_nops--;
	free(op->go_method);
	free(op->go_url);
	free(op->go_what);
	free(op->go_call_id);
	free(op->go_tenant);
	free(op->go_body);
	free(op);
}

void
graph_cancel(struct graph_op *op)
{
	if (op != NULL)
		op_free(op);
}

void
graph_cancel_all(struct polrecd *sc)
{
	struct graph_op	*op, *next;

	(void)sc;
	for (op = LIST_FIRST(&graph_ops); op != NULL; op = next) {
		next = LIST_NEXT(op, go_entry);
		op_free(op);
	}
}

static uint64_t
remaining_us(const struct graph_op *op)
{
	uint64_t	 now = polrecd_now_us();

	if (op->go_deadline_us == 0)
		return UINT64_MAX;
	return op->go_deadline_us > now ? op->go_deadline_us - now : 0;
}

/* Deliver the outcome and forget the op. */
static void
complete(struct graph_op *op, struct graph_result *res)
{
	graph_cb	 cb = op->go_cb;
	void		*arg = op->go_arg;

	res->attempts = op->go_attempts;
	res->unsure = !res->ok && op->go_unsure;
	res->elapsed_us = polrecd_now_us() - op->go_started_us;
	if (res->request_id == NULL)
		res->request_id = "";
	if (res->client_request_id == NULL)
		res->client_request_id = op->go_crid;
	if (res->body == NULL)
		res->body = "";
	/* The op is gone before the callback, which may start others. */
	op->go_xfer = NULL;
	op_free(op);
	cb(res, arg);
}

static void
give_up_missed(struct graph_op *op, struct graph_result *res)
{
	op->go_sc->sc_stats.graph_missed++;
	res->ok = 0;
	res->missed = 1;
	complete(op, res);
}

static void
on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct graph_op		*op = arg;
	struct graph_result	 res;

	(void)fd;
	(void)what;
	if (op->go_deadline_us != 0 && remaining_us(op) < GRAPH_MIN_ATTEMPT_US) {
		/* Waiting for a token until the deadline passed. */
		memset(&res, 0, sizeof(res));
		res.error = "no Graph token before the deadline";
		give_up_missed(op, &res);
		return;
	}
	attempt(op);
}

static void
on_token_ready(void *arg)
{
	struct graph_op	*op = arg;

	op->go_tk = NULL;
	evtimer_del(op->go_timer);
	attempt(op);
}

/* 0: not transient.  Otherwise the delay before the next attempt. */
static uint64_t
retry_delay_ms(struct graph_op *op, const struct fetch_response *r)
{
	long long	 ra;
	uint64_t	 base, ms;
	int		 shift;

	if (r->ok && r->status != 408 && r->status != 429 &&
	    (r->status < 500 || r->status > 599))
		return 0;
	base = op->go_deadline_us != 0 ? GRAPH_BACKOFF_FIRST_MS :
	    GRAPH_BACKOFF_SLOW_MS;
	shift = op->go_attempts - 1 < 10 ? op->go_attempts - 1 : 10;
	ms = base << shift;
	if (ms > GRAPH_BACKOFF_MAX_MS)
		ms = GRAPH_BACKOFF_MAX_MS;
	if (r->ok && (ra = graphmsg_retry_after(fetch_header(r->xfer,
	    "Retry-After"), (long long)time(NULL))) >= 0)
		ms = ra == 0 ? 1 : (uint64_t)ra * 1000;
	return ms;
}

static void
log_failure(struct graph_op *op, const struct fetch_response *r,
    const struct graph_result *res, const char *then)
{
	char	 call[80], code[80], msg[300], rid[80];

	log_sanitize(call, sizeof(call), op->go_call_id);
	log_sanitize(rid, sizeof(rid), res->request_id);
	if (!r->ok) {
		log_warnx("call %s: %s attempt %d: %s; client-request-id %s%s",
		    call, op->go_what, op->go_attempts, r->error, op->go_crid,
		    then);
		return;
	}
	/* No Graph error object: show the start of whatever came back. */
	if (res->gerr.code[0] == '\0' && res->gerr.message[0] == '\0' &&
	    r->body_len > 0)
		snprintf(msg, sizeof(msg), "%.*s", (int)(r->body_len < 120 ?
		    r->body_len : 120), r->body);
	else
		snprintf(msg, sizeof(msg), "%s", res->gerr.message);
	log_sanitize(msg, sizeof(msg), msg);
	log_warnx("call %s: %s attempt %d: HTTP %ld %s \"%s\"; request-id %s "
	    "client-request-id %s%s", call, op->go_what, op->go_attempts,
	    r->status, log_sanitize(code, sizeof(code), res->gerr.code[0] ?
	    res->gerr.code : NULL), msg, rid, op->go_crid, then);
}

/* Graph's answers by status: a bounded set (see labelset_add). */
static void
count_response(struct polrecd *sc, const struct fetch_response *r)
{
	char	 status[16];

	if (r->ok)
		snprintf(status, sizeof(status), "%ld", r->status);
	else
		snprintf(status, sizeof(status), "error");
	labelset_add(&sc->sc_metrics.m_graph_status, status, 1);
}

/* Graph operations under way (waiting for a token, sent, or backing
 * off before a retry). */
size_t
graph_in_flight(void)
{
	return graph_nops;
}

static void
on_response(const struct fetch_response *r, void *arg)
{
	struct graph_op		*op = arg;
	struct graph_result	 res;
	uint64_t		 delay_ms, left;
	char			 then[64];

	op->go_xfer = NULL;
	memset(&res, 0, sizeof(res));
	res.status = r->ok ? r->status : 0;
	res.error = r->ok ? NULL : r->error;
	res.body = r->body;
	res.body_len = r->body_len;
	res.request_id = fetch_header(r->xfer, "request-id");
	res.client_request_id = op->go_crid;
	count_response(op->go_sc, r);
	if (r->ok && r->status >= 200 && r->status <= 299) {
		res.ok = 1;
		complete(op, &res);
		return;
	}
	if (r->ok) {
		graphmsg_parse_error(r->body, r->body_len, &res.gerr);
		labelset_add(&op->go_sc->sc_metrics.m_graph_code,
		    res.gerr.code[0] != '\0' ? res.gerr.code : "none", 1);
	}
	if (res.request_id == NULL && res.gerr.request_id[0] != '\0')
		res.request_id = res.gerr.request_id;
	op->go_sc->sc_stats.graph_failures++;
	/*
	 * Sent, and no word on whether Graph acted on it (503: it did not;
	 * nor when it never left the queue).
	 */
	if ((!r->ok && !r->unsent) || (r->status >= 500 && r->status != 503))
		op->go_unsure = 1;

	if (r->ok && r->status == 401 && op->go_auth == GRAPH_AUTH_TOKEN &&
	    !op->go_reauthed) {
		log_failure(op, r, &res, "; new token, retrying");
		op->go_reauthed = 1;
		token_invalidate(tokens_find(op->go_sc->sc_tokens,
		    op->go_tenant), "401");
		attempt(op);
		return;
	}
	delay_ms = retry_delay_ms(op, r);
	if (delay_ms == 0 || op->go_attempts >= op->go_max_attempts) {
		res.permanent = delay_ms == 0;
		log_failure(op, r, &res, res.permanent ? "; not retried" :
		    "; giving up");
		complete(op, &res);
		return;
	}
	left = remaining_us(op);
	if (op->go_deadline_us != 0 &&
	    delay_ms * 1000 + GRAPH_MIN_ATTEMPT_US > left) {
		log_failure(op, r, &res, "; no time left to retry");
		give_up_missed(op, &res);
		return;
	}
	snprintf(then, sizeof(then), "; retry in %llu ms",
	    (unsigned long long)delay_ms);
	log_failure(op, r, &res, then);
	op->go_sc->sc_stats.graph_retries++;
	{
		struct timeval	 tv = { (time_t)(delay_ms / 1000),
		    (suseconds_t)(delay_ms % 1000) * 1000 };

		evtimer_add(op->go_timer, &tv);
	}
}

static void
attempt(struct graph_op *op)
{
	struct fetch_request	 req;
	struct graph_result	 res;
	struct token		*tk;
	const char		*bearer;
	char			 authz[GRAPHMSG_MAX_TOKEN + 32];
	char			 call[80], tenant[80];
	char			 crid[64];
	uint64_t		 left;
	int			 h = 0;

	memset(&res, 0, sizeof(res));
	left = remaining_us(op);
	if (op->go_deadline_us != 0 && left < GRAPH_MIN_ATTEMPT_US) {
		res.error = "deadline passed";
		give_up_missed(op, &res);
		return;
	}
	if (op->go_auth == GRAPH_AUTH_TOKEN) {
		tk = tokens_find(op->go_sc->sc_tokens, op->go_tenant);
		if ((bearer = token_get(tk)) == NULL) {
			if (tk == NULL) {
				log_warnx("call %s: %s: no Graph token for "
				    "tenant %s: not a tenant served",
				    log_sanitize(call, sizeof(call),
				    op->go_call_id), op->go_what,
				    log_sanitize(tenant, sizeof(tenant),
				    op->go_tenant));
				res.error = "no Graph token for the call's "
				    "tenant";
				res.permanent = 1;
				complete(op, &res);
				return;
			}
			/* Wait for the token, bounded by the deadline. */
			op->go_tk = tk;
			token_wait(tk, &op->go_waiter, on_token_ready, op);
			if (op->go_deadline_us != 0) {
				struct timeval	 tv = { (time_t)(left /
				    1000000), (suseconds_t)(left % 1000000) };

				evtimer_add(op->go_timer, &tv);
			}
			return;
		}
	} else
		bearer = op->go_secret;

	op->go_attempts++;
	op->go_sc->sc_stats.graph_requests++;
	graphmsg_uuid(op->go_crid);
	snprintf(authz, sizeof(authz), "Authorization: Bearer %s", bearer);
	snprintf(crid, sizeof(crid), "client-request-id: %s", op->go_crid);
	memset(&req, 0, sizeof(req));
	req.method = op->go_method;
	req.url = op->go_url;
	req.headers[h++] = authz;
	req.headers[h++] = crid;
	req.headers[h++] = "Accept: application/json";
	req.headers[h++] = "return-client-request-id: true";
	if (op->go_body != NULL)
		req.headers[h++] = "Content-Type: application/json";
	/* curl adds "Expect: 100-continue" to larger POSTs: a round trip. */
	req.headers[h++] = "Expect:";
	req.body = op->go_body;
	req.body_len = op->go_body != NULL ? strlen(op->go_body) : 0;
	req.timeout_ms = op->go_deadline_us != 0 ? (long)(left / 1000) :
	    GRAPH_TIMEOUT_MS;
	if (req.timeout_ms < 1)
		req.timeout_ms = 1;
	req.connect_timeout_ms = req.timeout_ms < 3000 ? req.timeout_ms : 3000;
	req.max_response = op->go_max_response;
	/*
	 * A deadline means an invitation is waiting (the answer or reject,
	 * the media agent's blob for it): ahead of keepAlive and the rest
	 * when the connections are all busy.  The queue's wait comes out
	 * of timeout_ms, so the deadline holds.
	 */
	req.priority = op->go_deadline_us != 0 ? FETCH_URGENT : FETCH_NORMAL;
	op->go_xfer = fetch_start(op->go_sc->sc_fetch, &req, on_response, op);
	explicit_bzero(authz, sizeof(authz));
	if (op->go_xfer == NULL) {
		res.error = "cannot start the request";
		complete(op, &res);
	}
}

struct graph_op *
graph_start(struct polrecd *sc, const struct graph_req *r, graph_cb cb,
    void *arg)
{
	struct graph_op	*op;

	op = xcalloc(1, sizeof(*op));
	op->go_sc = sc;
	LIST_INSERT_HEAD(&graph_ops, op, go_entry);
	graph_nops++;
	op->go_method = xstrdup(r->method);
	op->go_url = xstrdup(r->url);
	op->go_what = xstrdup(r->what);
	op->go_call_id = xstrdup(r->call_id != NULL ? r->call_id : "-");
	op->go_tenant = r->tenant != NULL ? xstrdup(r->tenant) : NULL;
	op->go_body = r->body != NULL ? xstrdup(r->body) : NULL;
	op->go_auth = r->auth;
	op->go_secret = r->secret != NULL ? xstrdup(r->secret) : NULL;
	op->go_deadline_us = r->deadline_us;
	op->go_started_us = polrecd_now_us();
	op->go_max_attempts = r->max_attempts > 0 ? r->max_attempts :
	    r->deadline_us != 0 ? GRAPH_ATTEMPTS_DEADLINE :
	    GRAPH_ATTEMPTS_DEFAULT;
	op->go_max_response = r->max_response > 0 ? r->max_response :
	    GRAPH_MAX_RESPONSE;
	op->go_cb = cb;
	op->go_arg = arg;
	if ((op->go_timer = evtimer_new(sc->sc_base, on_retry_timer, op)) ==
	    NULL)
		fatalx("evtimer_new");
	/*
	 * The first attempt starts from the loop, not from here: the
	 * caller gets its op pointer before any callback can run.
	 */
	{
		struct timeval	 tv = { 0, 0 };

		evtimer_add(op->go_timer, &tv);
	}
	return op;
}
