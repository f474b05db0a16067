/* HTTP client: libcurl multi on the libevent loop (curl's hiperfifo pattern). */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "fetch.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define FETCH_MAX_RESPONSE_DEFAULT	(1024 * 1024)
#define FETCH_MAX_RESPONSE_HEADERS	64
#define FETCH_MAX_HEADER_LINE		8192

#define FETCH_PRIORITIES	2

struct fetch_xfer;
LIST_HEAD(fetch_xfers, fetch_xfer);
TAILQ_HEAD(fetch_queue, fetch_xfer);

struct fetch {
	struct event_base	*f_base;
	struct fetch_xfers	 f_xfers;
	CURLM			*f_multi;
	struct event		*f_timer;
	int			 f_running;
	/* Waiting for a slot, by priority (FETCH_URGENT first). */
	struct fetch_queue	 f_queue[FETCH_PRIORITIES];
	size_t			 f_nqueued;
	size_t			 f_nactive;	/* handed to curl */
	size_t			 f_queued_max;
	unsigned long long	 f_expired;
	unsigned long long	 f_waited;
	long			 f_max_conns;
	long			 f_streams;	/* 1, or FETCH_STREAMS once
						   HTTP/2 was seen */
};

enum xfer_state {
	XFER_NEW = 0,		/* neither queued nor handed to curl */
	XFER_QUEUED,
	XFER_ACTIVE,
};

/* One per socket curl asks us to watch; freed on CURL_POLL_REMOVE. */
struct fetch_sock {
	struct fetch		*fs_fetch;
	curl_socket_t		 fs_fd;
	struct event		*fs_ev;
};

struct fetch_xfer {
	LIST_ENTRY(fetch_xfer)	 fx_entry;
	struct fetch		*fx_fetch;
	CURL			*fx_easy;
	struct curl_slist	*fx_headers;
	char			*fx_body;	/* request body copy */
	size_t			 fx_body_len;
	char			*fx_resp;	/* response body */
	size_t			 fx_resp_len;
	size_t			 fx_resp_max;
	int			 fx_too_big;
	char			*fx_hdr[FETCH_MAX_RESPONSE_HEADERS];
	int			 fx_nhdr;
	fetch_cb		 fx_cb;
	void			*fx_arg;
	char			 fx_error[CURL_ERROR_SIZE];
	enum xfer_state		 fx_state;
	enum fetch_priority	 fx_prio;
	TAILQ_ENTRY(fetch_xfer)	 fx_qentry;
	uint64_t		 fx_since_ms;	/* fetch_start, monotonic */
	long			 fx_timeout_ms;	/* from fx_since_ms */
	long			 fx_connect_ms;
	/* While queued: fires at the timeout, or at once to report a
	 * transfer that could not be handed to curl. */
	struct event		*fx_expire;
	const char		*fx_why;	/* static: why it failed */
};

static void	 check_multi_info(struct fetch *);
static void	 drain(struct fetch *);

static uint64_t
now_ms(void)
{
	return polrecd_now_us() / 1000;
}

/* Out of the queue, neither waiting nor handed to curl. */
static void
unqueue(struct fetch_xfer *x)
{
	TAILQ_REMOVE(&x->fx_fetch->f_queue[x->fx_prio], x, fx_qentry);
	x->fx_fetch->f_nqueued--;
	x->fx_state = XFER_NEW;
}

static size_t
cap(const struct fetch *f)
{
	return (size_t)f->f_max_conns * (size_t)f->f_streams;
}

static void
xfer_free(struct fetch_xfer *x)
{
	struct curl_slist	*l;
	int			 i;

	if (x == NULL)
		return;
	LIST_REMOVE(x, fx_entry);
	if (x->fx_state == XFER_QUEUED)
		unqueue(x);
	else if (x->fx_state == XFER_ACTIVE) {
		curl_multi_remove_handle(x->fx_fetch->f_multi, x->fx_easy);
		x->fx_fetch->f_nactive--;
	}
	if (x->fx_expire != NULL)
		event_free(x->fx_expire);
	if (x->fx_easy != NULL)
		curl_easy_cleanup(x->fx_easy);
	/* Request headers can hold credentials (Authorization). */
	for (l = x->fx_headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(x->fx_headers);
	for (i = 0; i < x->fx_nhdr; i++)
		free(x->fx_hdr[i]);
	/* Bodies can hold credentials (the token request). */
	if (x->fx_body != NULL)
		explicit_bzero(x->fx_body, x->fx_body_len);
	free(x->fx_body);
	if (x->fx_resp != NULL)
		explicit_bzero(x->fx_resp, x->fx_resp_len);
	free(x->fx_resp);
	free(x);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_xfer	*x = arg;
	size_t			 n = size * nmemb;

	if (x->fx_resp_len + n > x->fx_resp_max) {
		x->fx_too_big = 1;
		return 0;	/* curl aborts with CURLE_WRITE_ERROR */
	}
	x->fx_resp = xreallocarray(x->fx_resp, x->fx_resp_len + n + 1, 1);
	memcpy(x->fx_resp + x->fx_resp_len, data, n);
	x->fx_resp_len += n;
	x->fx_resp[x->fx_resp_len] = '\0';
	return n;
}

/* Keep response headers (of the last response, after redirects/100s). */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_xfer	*x = arg;
	size_t			 n = size * nmemb, len = n;
	int			 i;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		for (i = 0; i < x->fx_nhdr; i++)
			free(x->fx_hdr[i]);
		x->fx_nhdr = 0;
		return n;
	}
	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	if (len == 0 || len > FETCH_MAX_HEADER_LINE ||
	    x->fx_nhdr >= FETCH_MAX_RESPONSE_HEADERS ||
	    memchr(data, ':', len) == NULL)
		return n;
	x->fx_hdr[x->fx_nhdr++] = xstrndup(data, len);
	return n;
}

const char *
fetch_header(const struct fetch_xfer *x, const char *name)
{
	size_t		 nl = strlen(name);
	const char	*v;
	int		 i;

	for (i = 0; i < x->fx_nhdr; i++)
		if (strncasecmp(x->fx_hdr[i], name, nl) == 0 &&
		    x->fx_hdr[i][nl] == ':') {
			v = x->fx_hdr[i] + nl + 1;
			return v + strspn(v, " \t");
		}
	return NULL;
}

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct fetch	*f = arg;
	int		 action = 0;
	CURLMcode	 rc;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	rc = curl_multi_socket_action(f->f_multi, fd, action, &f->f_running);
	if (rc != CURLM_OK)
		log_warnx("fetch: curl_multi_socket_action: %s",
		    curl_multi_strerror(rc));
	/*
	 * Leave the timer alone: curl may just have asked for a 0 ms
	 * timeout (a retry on a new connection) while reporting nothing
	 * running; it says itself when to drop the timer (-1).
	 */
	check_multi_info(f);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct fetch	*f = arg;
	CURLMcode	 rc;

	(void)fd;
	(void)what;
	rc = curl_multi_socket_action(f->f_multi, CURL_SOCKET_TIMEOUT, 0,
	    &f->f_running);
	if (rc != CURLM_OK)
		log_warnx("fetch: curl_multi_socket_action: %s",
		    curl_multi_strerror(rc));
	check_multi_info(f);
}

/* CURLMOPT_TIMERFUNCTION: only (re)arm the one timer, never call curl. */
static int
multi_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct fetch	*f = arg;
	struct timeval	 tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(f->f_timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(f->f_timer, &tv);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: one event per socket, (re)assigned. */
static int
multi_sock_cb(CURL *easy, curl_socket_t s, int what, void *arg,
    void *sockp)
{
	struct fetch		*f = arg;
	struct fetch_sock	*fs = sockp;
	short			 kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (fs != NULL) {
			event_free(fs->fs_ev);
			free(fs);
		}
		curl_multi_assign(f->f_multi, s, NULL);
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (fs == NULL) {
		fs = xcalloc(1, sizeof(*fs));
		fs->fs_fetch = f;
		fs->fs_fd = s;
		curl_multi_assign(f->f_multi, s, fs);
	} else
		event_free(fs->fs_ev);
	fs->fs_ev = event_new(f->f_base, s, kind, on_socket_event, f);
	if (fs->fs_ev == NULL || event_add(fs->fs_ev, NULL) == -1) {
		log_warnx("fetch: cannot watch socket %d", (int)s);
		return -1;
	}
	return 0;
}

static void
check_multi_info(struct fetch *f)
{
	struct fetch_response	 r;
	struct fetch_xfer	*x;
	CURLMsg			*msg;
	CURLcode		 result;
	CURL			*easy;
	char			*priv;
	long			 version;
	int			 left;

	while ((msg = curl_multi_info_read(f->f_multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is invalid once the handle is removed: copy first. */
		easy = msg->easy_handle;
		result = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct fetch_xfer *)priv;

		memset(&r, 0, sizeof(r));
		r.xfer = x;
		r.ok = result == CURLE_OK;
		r.error = x->fx_too_big ? "response too large" :
		    (x->fx_error[0] != '\0' ? x->fx_error :
		    curl_easy_strerror(result));
		if (r.ok)
			r.error = NULL;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
		curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &r.seconds);
		r.body = x->fx_resp != NULL ? x->fx_resp : "";
		r.body_len = x->fx_resp_len;
		if (f->f_streams == 1 && curl_easy_getinfo(easy,
		    CURLINFO_HTTP_VERSION, &version) == CURLE_OK &&
		    version >= CURL_HTTP_VERSION_2_0) {
			/* A connection carries many requests now. */
			f->f_streams = FETCH_STREAMS;
			log_info("fetch: HTTP/2 in use; up to %zu requests at "
			    "once", cap(f));
		}
		/* The slot is free before the callback, which may start
		 * another transfer. */
		if (x->fx_state == XFER_ACTIVE) {
			curl_multi_remove_handle(f->f_multi, x->fx_easy);
			x->fx_state = XFER_NEW;
			f->f_nactive--;
		}
		if (x->fx_cb != NULL)
			x->fx_cb(&r, x->fx_arg);
		xfer_free(x);
	}
	drain(f);
}

/*
 * Hand the transfer to curl with what is left of its timeout: the time
 * it waited counts, so a queued answer is never sent after its budget.
 * 1: no time left (left to its expiry event), -1: curl refused it.
 */
static int
xfer_add(struct fetch_xfer *x, uint64_t now)
{
	struct fetch	*f = x->fx_fetch;
	CURLMcode	 mrc;
	long		 left;

	left = x->fx_timeout_ms - (long)(now - x->fx_since_ms);
	if (left < 1)
		return 1;
	curl_easy_setopt(x->fx_easy, CURLOPT_TIMEOUT_MS, left);
	curl_easy_setopt(x->fx_easy, CURLOPT_CONNECTTIMEOUT_MS,
	    x->fx_connect_ms < left ? x->fx_connect_ms : left);
	if ((mrc = curl_multi_add_handle(f->f_multi, x->fx_easy)) !=
	    CURLM_OK) {
		log_warnx("fetch: curl_multi_add_handle: %s",
		    curl_multi_strerror(mrc));
		return -1;
	}
	x->fx_state = XFER_ACTIVE;
	f->f_nactive++;
	return 0;
}

/*
 * A queued transfer's timeout ran out, or it could not be handed to
 * curl: its owner hears so from the loop, never from inside fetch_start
 * or fetch_cancel, where a callback could free what the caller holds.
 */
static void
on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct fetch_xfer	*x = arg;
	struct fetch_response	 r;

	(void)fd;
	(void)what;
	if (x->fx_state == XFER_QUEUED)
		unqueue(x);
	if (x->fx_why == NULL) {
		x->fx_why = "no connection free before the timeout";
		x->fx_fetch->f_expired++;
	}
	memset(&r, 0, sizeof(r));
	r.xfer = x;
	r.unsent = 1;
	r.error = x->fx_why;
	r.body = "";
	r.seconds = (double)(now_ms() - x->fx_since_ms) / 1000.0;
	if (x->fx_cb != NULL)
		x->fx_cb(&r, x->fx_arg);
	xfer_free(x);
}

/* Start waiting transfers while there are slots, urgent ones first. */
static void
drain(struct fetch *f)
{
	struct fetch_xfer	*x, *next;
	uint64_t		 now;
	int			 p, rv;

	if (f->f_nqueued == 0)
		return;
	now = now_ms();
	for (p = FETCH_PRIORITIES - 1; p >= 0; p--)
		for (x = TAILQ_FIRST(&f->f_queue[p]); x != NULL &&
		    f->f_nactive < cap(f); x = next) {
			next = TAILQ_NEXT(x, fx_qentry);
			unqueue(x);
			if ((rv = xfer_add(x, now)) == 0) {
				evtimer_del(x->fx_expire);
				continue;
			}
			/* Reported from the loop by its expiry event. */
			if (rv == -1)
				x->fx_why = "cannot start the transfer";
			evtimer_del(x->fx_expire);
			event_active(x->fx_expire, EV_TIMEOUT, 1);
		}
}

static int
enqueue(struct fetch_xfer *x)
{
	struct fetch	*f = x->fx_fetch;
	struct timeval	 tv;

	if ((x->fx_expire = evtimer_new(f->f_base, on_expire, x)) == NULL)
		return -1;
	tv.tv_sec = x->fx_timeout_ms / 1000;
	tv.tv_usec = (x->fx_timeout_ms % 1000) * 1000;
	if (evtimer_add(x->fx_expire, &tv) == -1)
		return -1;
	TAILQ_INSERT_TAIL(&f->f_queue[x->fx_prio], x, fx_qentry);
	x->fx_state = XFER_QUEUED;
	f->f_nqueued++;
	f->f_waited++;
	if (f->f_nqueued > f->f_queued_max)
		f->f_queued_max = f->f_nqueued;
	return 0;
}

void
fetch_set_limits(struct fetch *f, long max_connections)
{
	if (max_connections < 1)
		max_connections = FETCH_MAX_CONNECTIONS_DEFAULT;
	f->f_max_conns = max_connections;
	/*
	 * Bounded: a burst once ran the host out of ephemeral ports.  The
	 * connection cache holds as many, so that none is closed only to
	 * be opened again.
	 */
	curl_multi_setopt(f->f_multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    max_connections);
	curl_multi_setopt(f->f_multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    max_connections);
	curl_multi_setopt(f->f_multi, CURLMOPT_MAXCONNECTS, max_connections);
	drain(f);
}

void
fetch_stats(const struct fetch *f, struct fetch_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (f == NULL)
		return;
	st->queued = f->f_nqueued;
	st->active = f->f_nactive;
	st->queued_max = f->f_queued_max;
	st->expired = f->f_expired;
	st->waited = f->f_waited;
}

struct fetch *
fetch_new(struct event_base *base)
{
	struct fetch	*f;

	f = xcalloc(1, sizeof(*f));
	f->f_base = base;
	LIST_INIT(&f->f_xfers);
	TAILQ_INIT(&f->f_queue[FETCH_NORMAL]);
	TAILQ_INIT(&f->f_queue[FETCH_URGENT]);
	f->f_streams = 1;
	if ((f->f_multi = curl_multi_init()) == NULL ||
	    (f->f_timer = evtimer_new(base, on_timer, f)) == NULL) {
		log_warnx("fetch: cannot initialise curl multi");
		fetch_free(f);
		return NULL;
	}
	curl_multi_setopt(f->f_multi, CURLMOPT_SOCKETFUNCTION, multi_sock_cb);
	curl_multi_setopt(f->f_multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->f_multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(f->f_multi, CURLMOPT_TIMERDATA, f);
	/* HTTP/2 where the server offers it: many requests a connection. */
	curl_multi_setopt(f->f_multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(f->f_multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
	    (long)FETCH_STREAMS);
	fetch_set_limits(f, FETCH_MAX_CONNECTIONS_DEFAULT);
	return f;
}

/* Cancel every transfer (no callbacks), then tear curl down. */
void
fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	while (!LIST_EMPTY(&f->f_xfers))
		xfer_free(LIST_FIRST(&f->f_xfers));
	if (f->f_multi != NULL)
		curl_multi_cleanup(f->f_multi);
	if (f->f_timer != NULL)
		event_free(f->f_timer);
	free(f);
}

struct fetch_xfer *
fetch_start(struct fetch *f, const struct fetch_request *req, fetch_cb cb,
    void *arg)
{
	struct fetch_xfer	*x;
	struct curl_slist	*l;
	int			 i;

	x = xcalloc(1, sizeof(*x));
	x->fx_fetch = f;
	LIST_INSERT_HEAD(&f->f_xfers, x, fx_entry);
	x->fx_cb = cb;
	x->fx_arg = arg;
	x->fx_since_ms = now_ms();
	x->fx_prio = req->priority == FETCH_URGENT ? FETCH_URGENT :
	    FETCH_NORMAL;
	x->fx_timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : 10000L;
	x->fx_connect_ms = req->connect_timeout_ms > 0 ?
	    req->connect_timeout_ms : 3000L;
	x->fx_resp_max = req->max_response > 0 ? req->max_response :
	    FETCH_MAX_RESPONSE_DEFAULT;
	if ((x->fx_easy = curl_easy_init()) == NULL) {
		log_warnx("fetch: curl_easy_init failed");
		xfer_free(x);
		return NULL;
	}
	for (i = 0; i < FETCH_MAX_HEADERS && req->headers[i] != NULL; i++) {
		if ((l = curl_slist_append(x->fx_headers, req->headers[i])) ==
		    NULL)
			goto fail;
		x->fx_headers = l;
	}
	curl_easy_setopt(x->fx_easy, CURLOPT_URL, req->url);
	curl_easy_setopt(x->fx_easy, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(x->fx_easy, CURLOPT_ERRORBUFFER, x->fx_error);
	curl_easy_setopt(x->fx_easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->fx_easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->fx_easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->fx_easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->fx_easy, CURLOPT_HTTPHEADER, x->fx_headers);
	curl_easy_setopt(x->fx_easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->fx_easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->fx_easy, CURLOPT_FOLLOWLOCATION, 0L);
	/*
	 * HTTP/2 over TLS when offered (plain http stays HTTP/1.1), and a
	 * new transfer waits to share a connection being set up rather
	 * than open one more: fewer connections, fewer ports.
	 */
	curl_easy_setopt(x->fx_easy, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(x->fx_easy, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(x->fx_easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)x->fx_resp_max);
	curl_easy_setopt(x->fx_easy, CURLOPT_USERAGENT, "polrecd");
	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(x->fx_easy, CURLOPT_HTTPGET, 1L);
	else {
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(x->fx_easy, CURLOPT_CUSTOMREQUEST,
			    req->method);
		if (req->body != NULL || strcmp(req->method, "POST") == 0) {
			x->fx_body = xmalloc(req->body_len + 1);
			if (req->body_len > 0)
				memcpy(x->fx_body, req->body, req->body_len);
			x->fx_body[req->body_len] = '\0';
			x->fx_body_len = req->body_len;
			curl_easy_setopt(x->fx_easy, CURLOPT_POSTFIELDS,
			    x->fx_body);
			curl_easy_setopt(x->fx_easy,
			    CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->body_len);
		}
	}
	/* Straight to curl while there are slots and nobody waits. */
	if (f->f_nqueued == 0 && f->f_nactive < cap(f)) {
		if (xfer_add(x, x->fx_since_ms) != 0)
			goto fail;
	} else if (enqueue(x) == -1) {
		log_warnx("fetch: cannot queue a transfer");
		goto fail;
	}
	return x;
fail:
	xfer_free(x);
	return NULL;
}

void
fetch_cancel(struct fetch_xfer *x)
{
	struct fetch	*f;

	if (x == NULL)
		return;
	f = x->fx_fetch;
	xfer_free(x);
	drain(f);
}
