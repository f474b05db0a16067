/* Notification signing keys: OpenID configuration and JWKS, kept fresh. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "conf.h"
#include "fetch.h"
#include "jwt.h"
#include "keys.h"
#include "kidrate.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define KEYS_KID_INTERVAL_SEC	10	/* a kid asks for a refetch once */
#define KEYS_REFETCH_FLOOR_MS	1000	/* between fetch starts, for kids */
#define KEYS_BACKOFF_MIN		1
#define KEYS_BACKOFF_MAX		60
#define KEYS_FETCH_TIMEOUT_MS		5000
#define KEYS_MAX_DOCUMENT		(1024 * 1024)


struct keys {
	struct polrecd		*k_sc;
	struct jwks		*k_jwks;
	struct fetch_xfer	*k_xfer;	/* the fetch under way */
	struct event		*k_timer;	/* next refresh or retry */
	struct event		*k_soon;	/* a refetch a kid asked for */
	struct waitq		 k_waiters;
	struct kidrate		 k_kids;	/* kids that asked, recently */
	uint64_t		 k_started_us;	/* the last fetch's start */
	uint64_t		 k_set_us;	/* start of the fetch of k_jwks */
	uint64_t		 k_ok_us;	/* the last good fetch's end */
	int			 k_backoff;
	int			 k_fetching;
};

static void	 keys_start(struct keys *);
static void	 keys_schedule(struct keys *, int);
static int	 get_document(struct keys *, const char *, fetch_cb);

static void
fetch_done(struct keys *k, int ok)
{
	struct stats	*st = &k->k_sc->sc_stats;

	k->k_xfer = NULL;
	k->k_fetching = 0;
	if (ok) {
		st->key_fetches++;
		k->k_ok_us = polrecd_now_us();
		k->k_backoff = 0;
		keys_schedule(k, (int)k->k_sc->sc_conf->auth_key_refresh);
	} else {
		st->key_fetch_failures++;
		k->k_backoff = k->k_backoff == 0 ? KEYS_BACKOFF_MIN :
		    k->k_backoff * 2;
		if (k->k_backoff > KEYS_BACKOFF_MAX)
			k->k_backoff = KEYS_BACKOFF_MAX;
		log_warnx("signing keys: fetch failed; %s, retrying in %d s",
		    k->k_jwks != NULL ? "keeping the cached keys" :
		    "no keys yet, notifications get 503", k->k_backoff);
		keys_schedule(k, k->k_backoff);
	}
	waitq_wake(&k->k_waiters);
}

static void
on_jwks(const struct fetch_response *r, void *arg)
{
	struct keys	*k = arg;
	struct jwks	*set;
	char		 err[128];

	if (!r->ok || r->status != 200) {
		log_warnx("signing keys: JWKS: %s",
		    r->ok ? "unexpected HTTP status" : r->error);
		fetch_done(k, 0);
		return;
	}
	if ((set = jwks_parse(r->body, r->body_len, err, sizeof(err))) ==
	    NULL) {
		log_warnx("signing keys: JWKS not usable: %s", err);
		fetch_done(k, 0);
		return;
	}
	if (k->k_jwks == NULL || jwks_count(k->k_jwks) != jwks_count(set))
		log_info("signing keys: %zu key(s) loaded", jwks_count(set));
	jwks_free(k->k_jwks);
	k->k_jwks = set;
	k->k_set_us = k->k_started_us;
	fetch_done(k, 1);
}

static void
on_openid(const struct fetch_response *r, void *arg)
{
	struct keys		*k = arg;
	cJSON			*doc = NULL;
	const cJSON		*uri;
	char			 shown[256];
	int			 rv;

	if (!r->ok || r->status != 200) {
		log_warnx("signing keys: OpenID configuration: %s (HTTP %ld)",
		    r->ok ? "unexpected HTTP status" : r->error, r->status);
		fetch_done(k, 0);
		return;
	}
	doc = cJSON_ParseWithLength(r->body, r->body_len);
	uri = cJSON_GetObjectItemCaseSensitive(doc, "jwks_uri");
	if (!cJSON_IsString(uri) || uri->valuestring == NULL ||
	    (strncmp(uri->valuestring, "https://", 8) != 0 &&
	    strncmp(uri->valuestring, "http://", 7) != 0)) {
		log_warnx("signing keys: OpenID configuration has no usable "
		    "jwks_uri");
		cJSON_Delete(doc);
		fetch_done(k, 0);
		return;
	}
	/* Keys fetched in the clear could be anyone's: the rule of the
	 * configured URLs holds for the one the document names. */
	if (!conf_url_allowed(k->k_sc->sc_conf, uri->valuestring)) {
		log_warnx("signing keys: refusing the plain http jwks_uri of "
		    "the OpenID configuration (%s); https is required "
		    "unless [graph] allow_plain_http = yes",
		    log_sanitize(shown, sizeof(shown), uri->valuestring));
		cJSON_Delete(doc);
		fetch_done(k, 0);
		return;
	}
	rv = get_document(k, uri->valuestring, on_jwks);
	cJSON_Delete(doc);
	if (rv == -1)
		fetch_done(k, 0);
}

/* GET one of the two JSON documents; the fetch under way is k_xfer. */
static int
get_document(struct keys *k, const char *url, fetch_cb cb)
{
	struct fetch_request	 req;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers[0] = "Accept: application/json";
	req.timeout_ms = KEYS_FETCH_TIMEOUT_MS;
	req.max_response = KEYS_MAX_DOCUMENT;
	/* Notifications, invitations among them, wait for the keys. */
	req.priority = FETCH_URGENT;
	k->k_xfer = fetch_start(k->k_sc->sc_fetch, &req, cb, k);
	return k->k_xfer != NULL ? 0 : -1;
}

static void
keys_start(struct keys *k)
{
	if (k->k_fetching)
		return;
	k->k_fetching = 1;
	k->k_started_us = polrecd_now_us();
	if (get_document(k, k->k_sc->sc_conf->auth_openid_configuration_url,
	    on_openid) == -1)
		fetch_done(k, 0);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	keys_start(arg);
}

static void
keys_schedule(struct keys *k, int seconds)
{
	struct timeval	 tv = { seconds, 0 };

	evtimer_add(k->k_timer, &tv);
}

struct keys *
keys_new(struct polrecd *sc)
{
	struct keys	*k;

	k = xcalloc(1, sizeof(*k));
	k->k_sc = sc;
	TAILQ_INIT(&k->k_waiters);
	kidrate_init(&k->k_kids, KEYS_KID_INTERVAL_SEC * 1000000ULL);
	if ((k->k_timer = evtimer_new(sc->sc_base, on_timer, k)) == NULL ||
	    (k->k_soon = evtimer_new(sc->sc_base, on_timer, k)) == NULL) {
		if (k->k_timer != NULL)
			event_free(k->k_timer);
		free(k);
		return NULL;
	}
	keys_start(k);
	return k;
}

void
keys_free(struct keys *k)
{
	if (k == NULL)
		return;
	if (k->k_xfer != NULL)
		fetch_cancel(k->k_xfer);
	event_free(k->k_timer);
	event_free(k->k_soon);
	jwks_free(k->k_jwks);
	free(k);
}

const struct jwks *
keys_get(const struct keys *k)
{
	return k->k_jwks;
}

/*
 * Teams does not retry a 401, so a kid is judged unknown only by a key
 * set fetched after the request came; until then the request waits for
 * a fetch, bounded by its caller.  Each kid may start one refetch
 * every KEYS_KID_INTERVAL_SEC and fetches start at most once every
 * KEYS_REFETCH_FLOOR_MS (or the backoff while the endpoint fails), one
 * at a time, so that a flood of made-up kids costs the key endpoint at
 * most one request a second; a new kid waits for the next fetch, never
 * for another kid's interval.  Grants are no more frequent than fetches,
 * so the table of kids never forgets one within its interval.
 */
enum keys_verdict
keys_unknown_kid(struct keys *k, const char *kid, uint64_t arrival_us)
{
	struct timeval	 tv;
	uint64_t	 now, at, floor_us;

	if (k->k_jwks != NULL && k->k_set_us >= arrival_us)
		return KEYS_UNKNOWN;
	if (k->k_fetching || evtimer_pending(k->k_soon, NULL))
		return KEYS_WAIT;
	now = polrecd_now_us();
	if (!kidrate_ask(&k->k_kids, kid, now))
		return KEYS_LIMITED;
	k->k_sc->sc_stats.key_refetches++;
	floor_us = k->k_backoff > 0 ? (uint64_t)k->k_backoff * 1000000 :
	    KEYS_REFETCH_FLOOR_MS * 1000ULL;
	at = k->k_started_us + floor_us;
	if (k->k_started_us == 0 || now >= at) {
		log_info("signing keys: unknown key id, refetching");
		evtimer_del(k->k_timer);
		keys_start(k);
		return k->k_fetching ? KEYS_WAIT : KEYS_LIMITED;
	}
	tv.tv_sec = (time_t)((at - now) / 1000000);
	tv.tv_usec = (suseconds_t)((at - now) % 1000000);
	log_info("signing keys: unknown key id, refetching in %lld ms",
	    (long long)((at - now) / 1000));
	if (evtimer_add(k->k_soon, &tv) == -1)
		return KEYS_LIMITED;
	return KEYS_WAIT;
}

void
keys_wait(struct keys *k, struct waiter *w, void (*cb)(void *), void *arg)
{
	waitq_add(&k->k_waiters, w, cb, arg);
}

void
keys_unwait(struct keys *k, struct waiter *w)
{
	waitq_remove(&k->k_waiters, w);
}

/*
 * The signing keys' freshness: 1 and the time since the last successful
 * fetch when a set is held, 0 when none is; *fetching while the first
 * fetch is still under way and none has failed yet.
 */
int
keys_age(const struct keys *k, uint64_t *age_us, int *first_fetch)
{
	*age_us = 0;
	*first_fetch = k != NULL && k->k_jwks == NULL && k->k_fetching &&
	    k->k_backoff == 0;
	if (k == NULL || k->k_jwks == NULL)
		return 0;
	*age_us = polrecd_now_us() - k->k_ok_us;
	return 1;
}
