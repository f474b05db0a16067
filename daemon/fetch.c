/* HTTP client: libcurl multi on the libevent loop (curl's hiperfifo pattern). */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "fetch.h"
#include "log.h"
#include "xmalloc.h"

#define FETCH_MAX_RESPONSE_DEFAULT	(1024 * 1024)
#define FETCH_MAX_RESPONSE_HEADERS	64
#define FETCH_MAX_HEADER_LINE		8192

struct fetch_xfer;
LIST_HEAD(fetch_xfers, fetch_xfer);

struct fetch {
	struct event_base	*f_base;
	struct fetch_xfers	 f_xfers;
	CURLM			*f_multi;
	struct event		*f_timer;
	int			 f_running;
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
};

static void	 check_multi_info(struct fetch *);

static void
xfer_free(struct fetch_xfer *x)
{
	struct curl_slist	*l;
	int			 i;

	if (x == NULL)
		return;
	LIST_REMOVE(x, fx_entry);
	if (x->fx_easy != NULL) {
		curl_multi_remove_handle(x->fx_fetch->f_multi, x->fx_easy);
		curl_easy_cleanup(x->fx_easy);
	}
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
		if (x->fx_cb != NULL)
			x->fx_cb(&r, x->fx_arg);
		xfer_free(x);
	}
}

struct fetch *
fetch_new(struct event_base *base)
{
	struct fetch	*f;

	f = xcalloc(1, sizeof(*f));
	f->f_base = base;
	LIST_INIT(&f->f_xfers);
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
	/* Keep connections to Graph warm and reuse them. */
	curl_multi_setopt(f->f_multi, CURLMOPT_MAXCONNECTS, 32L);
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
	CURLMcode		 mrc;
	int			 i;

	x = xcalloc(1, sizeof(*x));
	x->fx_fetch = f;
	LIST_INSERT_HEAD(&f->f_xfers, x, fx_entry);
	x->fx_cb = cb;
	x->fx_arg = arg;
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
	curl_easy_setopt(x->fx_easy, CURLOPT_TIMEOUT_MS,
	    req->timeout_ms > 0 ? req->timeout_ms : 10000L);
	curl_easy_setopt(x->fx_easy, CURLOPT_CONNECTTIMEOUT_MS,
	    req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 3000L);
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
	if ((mrc = curl_multi_add_handle(f->f_multi, x->fx_easy)) !=
	    CURLM_OK) {
		log_warnx("fetch: curl_multi_add_handle: %s",
		    curl_multi_strerror(mrc));
		goto fail;
	}
	return x;
fail:
	/* Not added to the multi handle: xfer_free's remove is a no-op. */
	xfer_free(x);
	return NULL;
}

void
fetch_cancel(struct fetch_xfer *x)
{
	xfer_free(x);
}
