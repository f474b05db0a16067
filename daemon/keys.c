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
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define KEYS_UNKNOWN_KID_INTERVAL	60	/* seconds between such refetches */
#define KEYS_BACKOFF_MIN		1
#define KEYS_BACKOFF_MAX		60
#define KEYS_FETCH_TIMEOUT_MS		5000
#define KEYS_MAX_DOCUMENT		(1024 * 1024)


struct keys {
	struct polrecd		*k_sc;
	struct jwks		*k_jwks;
	struct fetch_xfer	*k_xfer;	/* the fetch under way */
	struct event		*k_timer;	/* next refresh or retry */
	struct waitq		 k_waiters;
	time_t			 k_last_unknown; /* last refetch for a kid */
	int			 k_backoff;
	int			 k_fetching;
};

static void	 keys_start(struct keys *);
static void	 keys_schedule(struct keys *, int);
static int	 get_document(struct keys *, const char *, fetch_cb);

static time_t
mono_seconds(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
fetch_done(struct keys *k, int ok)
{
	struct stats	*st = &k->k_sc->sc_stats;

	k->k_xfer = NULL;
	k->k_fetching = 0;
	if (ok) {
		st->key_fetches++;
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
	k->k_xfer = fetch_start(k->k_sc->sc_fetch, &req, cb, k);
	return k->k_xfer != NULL ? 0 : -1;
}

static void
keys_start(struct keys *k)
{
	if (k->k_fetching)
		return;
	k->k_fetching = 1;
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
	if ((k->k_timer = evtimer_new(sc->sc_base, on_timer, k)) == NULL) {
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
	jwks_free(k->k_jwks);
	free(k);
}

const struct jwks *
keys_get(const struct keys *k)
{
	return k->k_jwks;
}

int
keys_fetching(const struct keys *k)
{
	return k->k_fetching;
}

int
keys_refresh_for_unknown(struct keys *k)
{
	if (k->k_fetching)
		return 1;
	if (k->k_last_unknown != 0 &&
	    mono_seconds() - k->k_last_unknown < KEYS_UNKNOWN_KID_INTERVAL)
		return 0;
	k->k_last_unknown = mono_seconds();
	log_info("signing keys: unknown key id, refetching");
	evtimer_del(k->k_timer);
	keys_start(k);
	return k->k_fetching;
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
