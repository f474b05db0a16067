/*
 * Admission control for webhook connections, so that nobody can hold the
 * door shut: a request must arrive whole (TLS handshake, headers, body)
 * within a deadline however it trickles; when the slots run short the
 * slowest incomplete requests go first, so a new request from Graph
 * always finds one; caps and a new-connection rate per client network
 * (/32 for IPv4, /64 for IPv6); an allow list checked at accept, before
 * TLS; and the accept loop paused, not spinning, when descriptors run
 * out.
 *
 * libevent 2.1's evhttp accepts by itself and offers no hook with the
 * peer's address, only evhttp_set_bevcb, called for every connection to
 * make its bufferevent.  So: the bufferevent is made here (plain or TLS),
 * with one extra reference we hold; a zero-delay check then sees its
 * socket (set by evhttp right after, before any byte is read) and
 * refuses or admits it.  Whether a request is under way is seen on the
 * bufferevent's input buffer (bytes added) and in the request callback
 * (admit_request_read: it arrived whole).  A connection is closed with
 * shutdown(2), which evhttp sees as the peer leaving; when evhttp frees
 * the connection it clears the callbacks, and the sweep drops our
 * reference (closing the socket) and the counts.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "admit.h"
#include "log.h"
#include "netaddr.h"
#include "xmalloc.h"

#define ADMIT_BUCKETS		1024
#define ADMIT_SWEEP_MS		250
#define ADMIT_PAUSE_MS		100	/* accepting, after EMFILE */
#define ADMIT_LOG_SEC		10	/* a kind of refusal, logged */
#define ADMIT_GRACE_MS		250	/* a request arriving longer is slow */

struct admit_net {
	LIST_ENTRY(admit_net)	 an_bucket;
	char			 an_key[NETADDR_TEXT_MAX];
	long long		 an_count;	/* open connections */
	double			 an_tokens;	/* new-connection rate */
	uint64_t		 an_refill_us;
};

enum conn_state {
	CONN_READING,		/* a request (or the handshake) under way */
	CONN_IDLE,		/* between requests, or being answered */
	CONN_CLOSING,		/* shut down by us, evhttp to notice */
};

struct admit_conn {
	TAILQ_ENTRY(admit_conn)	 ac_entry;
	LIST_ENTRY(admit_conn)	 ac_bucket;	/* by bufferevent */
	struct admit		*ac_admit;
	struct bufferevent	*ac_bev;
	struct evbuffer_cb_entry *ac_input_cb;
	struct admit_net	*ac_net;	/* NULL until checked */
	int			 ac_checked;
	int			 ac_answering;	/* requests read, not answered */
	enum conn_state		 ac_state;
	uint64_t		 ac_since_us;	/* of the state */
};

LIST_HEAD(admit_netq, admit_net);
LIST_HEAD(admit_connl, admit_conn);
TAILQ_HEAD(admit_conns, admit_conn);

struct admit {
	struct event_base	*a_base;
	SSL_CTX			*a_tls;		/* NULL: plain HTTP */
	struct admit_limits	 a_lim;
	struct netaddr_cidr	*a_allow;	/* a copy of the list */
	long long		 a_open;	/* sockets we hold */
	long long		 a_live;	/* of them, not closing */
	struct admit_stats	 a_stats;
	struct admit_conns	 a_conns;
	struct admit_netq	 a_nets[ADMIT_BUCKETS];
	struct admit_connl	 a_bybev[ADMIT_BUCKETS];
	struct event		*a_sweep;
	struct evconnlistener	*a_listener;
	struct event		*a_resume;
	time_t			 a_logged[ADMIT_NREFUSALS];
	time_t			 a_emfile_logged;
};

static const char *const refusal_names[ADMIT_NREFUSALS] = {
	"max_connections reached, nothing to evict",
	"max_connections_per_address reached for its network",
	"connection_rate exceeded for its network",
	"not in allow_from",
};

static uint64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static size_t
key_hash(const char *s)
{
	size_t	 h = 5381;

	for (; *s != '\0'; s++)
		h = h * 33 + (unsigned char)*s;
	return h % ADMIT_BUCKETS;
}

static size_t
bev_hash(const struct bufferevent *bev)
{
	return ((uintptr_t)bev >> 4) % ADMIT_BUCKETS;
}

static struct admit_net *
net_get(struct admit *a, const char *key)
{
	struct admit_netq	*b = &a->a_nets[key_hash(key)];
	struct admit_net	*an;

	LIST_FOREACH(an, b, an_bucket)
		if (strcmp(an->an_key, key) == 0)
			return an;
	an = xcalloc(1, sizeof(*an));
	snprintf(an->an_key, sizeof(an->an_key), "%s", key);
	an->an_tokens = (double)a->a_lim.rate * 2;
	an->an_refill_us = now_us();
	LIST_INSERT_HEAD(b, an, an_bucket);
	return an;
}

static void
net_forget(struct admit_net *an)
{
	LIST_REMOVE(an, an_bucket);
	free(an);
}

/* A network with no connection whose bucket has refilled is forgotten. */
static void
nets_expire(struct admit *a, uint64_t now)
{
	struct admit_net	*an, *next;
	size_t			 i;

	for (i = 0; i < ADMIT_BUCKETS; i++)
		for (an = LIST_FIRST(&a->a_nets[i]); an != NULL; an = next) {
			next = LIST_NEXT(an, an_bucket);
			if (an->an_count == 0 &&
			    now - an->an_refill_us >= 2000000)
				net_forget(an);
		}
}

/* One token of the network's new-connection rate: 0, or -1 if none. */
static int
net_take(struct admit *a, struct admit_net *an, uint64_t now)
{
	double	 burst = (double)a->a_lim.rate * 2;

	an->an_tokens += (double)(now - an->an_refill_us) *
	    (double)a->a_lim.rate / 1e6;
	if (an->an_tokens > burst)
		an->an_tokens = burst;
	an->an_refill_us = now;
	if (an->an_tokens < 1.0)
		return -1;
	an->an_tokens -= 1.0;
	return 0;
}

static void
conn_release(struct admit_conn *c)
{
	struct admit	*a = c->ac_admit;

	TAILQ_REMOVE(&a->a_conns, c, ac_entry);
	LIST_REMOVE(c, ac_bucket);
	a->a_open--;
	if (c->ac_state != CONN_CLOSING)
		a->a_live--;
	if (c->ac_net != NULL)
		c->ac_net->an_count--;
	if (c->ac_input_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->ac_bev),
		    c->ac_input_cb);
	bufferevent_decref(c->ac_bev);	/* the last one: closes the socket */
	free(c);
}

/* evhttp clears a bufferevent's callbacks when it frees it. */
static int
conn_finished(const struct admit_conn *c)
{
	bufferevent_data_cb	 r, w;
	bufferevent_event_cb	 e;
	void			*arg;

	bufferevent_getcb(c->ac_bev, &r, &w, &e, &arg);
	return c->ac_checked && r == NULL && w == NULL && e == NULL;
}

/* Close it: evhttp sees the peer leave and frees the connection. */
static void
conn_close(struct admit_conn *c)
{
	evutil_socket_t	 fd;

	if (c->ac_state == CONN_CLOSING)
		return;
	c->ac_state = CONN_CLOSING;
	c->ac_admit->a_live--;
	if ((fd = bufferevent_getfd(c->ac_bev)) != -1)
		shutdown(fd, SHUT_RDWR);
}

/* What evhttp let go of no longer counts. */
static void
release_finished(struct admit *a)
{
	struct admit_conn	*c, *next;

	for (c = TAILQ_FIRST(&a->a_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, ac_entry);
		if (conn_finished(c))
			conn_release(c);
	}
}

/* Every ADMIT_SWEEP_MS: requests past their deadline go. */
static void
sweep(struct admit *a)
{
	struct admit_conn	*c;
	uint64_t		 now = now_us();
	uint64_t		 deadline = (uint64_t)a->a_lim.deadline_ms * 1000;

	release_finished(a);
	TAILQ_FOREACH(c, &a->a_conns, ac_entry)
		if (c->ac_state == CONN_READING &&
		    now - c->ac_since_us > deadline) {
			a->a_stats.deadline_closed++;
			conn_close(c);
		}
	nets_expire(a, now);
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sweep(arg);
}

/*
 * When slots run short, who makes room:
 * 1. the incomplete request that has taken longest, if it has taken
 *    ADMIT_GRACE_MS at least (Graph sends a request in milliseconds:
 *    one still arriving after that is slow);
 * 2. else, from the client network holding the most connections, its
 *    oldest incomplete request, then its longest idle connection: a
 *    burst of new connections makes room from its own networks and
 *    cannot cut short a request in flight from elsewhere.
 * NULL: none.
 */
static struct admit_conn *
victim(struct admit *a, const struct admit_conn *self)
{
	struct admit_conn	*c, *best = NULL;
	uint64_t		 now = now_us();
	long long		 most = 0;
	int			 pass, want;

	TAILQ_FOREACH(c, &a->a_conns, ac_entry)
		if (c != self && c->ac_checked && c->ac_state == CONN_READING &&
		    now - c->ac_since_us >= ADMIT_GRACE_MS * 1000 &&
		    (best == NULL || c->ac_since_us < best->ac_since_us))
			best = c;
	for (pass = 0; pass < 2 && best == NULL; pass++) {
		want = pass == 0 ? CONN_READING : CONN_IDLE;
		most = 0;
		TAILQ_FOREACH(c, &a->a_conns, ac_entry)
			if (c != self && c->ac_checked && c->ac_net != NULL &&
			    (int)c->ac_state == want && c->ac_answering == 0 &&
			    c->ac_net->an_count > most)
				most = c->ac_net->an_count;
		TAILQ_FOREACH(c, &a->a_conns, ac_entry)
			if (c != self && c->ac_checked && c->ac_net != NULL &&
			    (int)c->ac_state == want && c->ac_answering == 0 &&
			    c->ac_net->an_count == most &&
			    (best == NULL || c->ac_since_us < best->ac_since_us))
				best = c;
	}
	return best;
}

static void
refuse(struct admit *a, struct admit_conn *c, evutil_socket_t fd,
    enum admit_refusal why)
{
	static const char body[] = "{\"error\":{\"code\":"
	    "\"serviceUnavailable\",\"message\":\"too many connections\"}}";
	char		 busy[256];
	time_t		 now = time(NULL);
	ssize_t		 n;
	int		 len;

	a->a_stats.refused[why]++;
	if (now - a->a_logged[why] >= ADMIT_LOG_SEC) {
		a->a_logged[why] = now;
		log_warnx("connection from %s refused: %s (%llu so far)",
		    c->ac_net != NULL ? c->ac_net->an_key : "?",
		    refusal_names[why], a->a_stats.refused[why]);
	}
	/* Plain HTTP gets a 503; TLS is not yet spoken, so just close.
	 * Those not allowed get nothing. */
	if (a->a_tls == NULL && why != ADMIT_NOT_ALLOWED) {
		len = snprintf(busy, sizeof(busy), "HTTP/1.1 503 Service "
		    "Unavailable\r\nRetry-After: 1\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\nConnection: "
		    "close\r\n\r\n%s", sizeof(body) - 1, body);
		n = write(fd, busy, (size_t)len);
		(void)n;
	}
	conn_close(c);
}

static int
allowed(const struct admit *a, const struct netaddr *addr)
{
	size_t	 i;

	if (a->a_lim.nallow == 0)
		return 1;
	for (i = 0; i < a->a_lim.nallow; i++)
		if (netaddr_cidr_match(&a->a_allow[i], addr))
			return 1;
	return 0;
}

static void
peer_of(evutil_socket_t fd, char *host, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);

	snprintf(host, len, "?");
	if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1)
		return;
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    host, (socklen_t)len);
	else if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    host, (socklen_t)len);
}

static void
on_check(evutil_socket_t unused, short what, void *arg)
{
	struct admit_conn	*c = arg, *v;
	struct admit		*a = c->ac_admit;
	struct netaddr		 addr;
	char			 host[INET6_ADDRSTRLEN], key[NETADDR_TEXT_MAX];
	evutil_socket_t		 fd;
	uint64_t		 now = now_us();

	(void)unused;
	(void)what;
	c->ac_checked = 1;
	if ((fd = bufferevent_getfd(c->ac_bev)) == -1)
		return;		/* evhttp gave up on it already */
	peer_of(fd, host, sizeof(host));
	if (netaddr_parse(host, &addr) == -1)
		snprintf(key, sizeof(key), "?");
	else {
		/* Per client network: one IPv6 /64 is one client. */
		netaddr_mask(&addr, 32, 64);
		netaddr_format(&addr, addr.family == 4 ? 32 : 64, key,
		    sizeof(key));
	}
	c->ac_net = net_get(a, key);
	c->ac_net->an_count++;
	/*
	 * Its first request came in whole before this check ran, and is
	 * being acted on: a 503 now would deny what may be recorded as
	 * acknowledged.  It was let in; it counts from here on.
	 */
	if (c->ac_answering > 0)
		return;
	if (netaddr_parse(host, &addr) == -1 || !allowed(a, &addr)) {
		refuse(a, c, fd, ADMIT_NOT_ALLOWED);
		return;
	}
	if (net_take(a, c->ac_net, now) == -1) {
		refuse(a, c, fd, ADMIT_RATE);
		return;
	}
	if (c->ac_net->an_count > a->a_lim.max_per_net) {
		refuse(a, c, fd, ADMIT_NETWORK_FULL);
		return;
	}
	if (a->a_live > a->a_lim.max) {
		if ((v = victim(a, c)) == NULL) {
			refuse(a, c, fd, ADMIT_FULL);
			return;
		}
		a->a_stats.evicted++;
		conn_close(v);
	}
}

/* Bytes came in: a request is under way, its deadline running. */
static void
on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct admit_conn	*c = arg;

	(void)buf;
	if (info->n_added > 0 && c->ac_state == CONN_IDLE) {
		c->ac_state = CONN_READING;
		c->ac_since_us = now_us();
	}
}

/* evhttp_set_bevcb: a bufferevent for each accepted connection. */
struct bufferevent *
admit_bevcb(struct event_base *base, void *arg)
{
	struct admit		*a = arg;
	struct admit_conn	*c;
	struct bufferevent	*bev;
	struct timeval		 now = { 0, 0 };
	SSL			*ssl;

	if (a->a_tls != NULL) {
		if ((ssl = SSL_new(a->a_tls)) == NULL)
			return NULL;	/* evhttp then fails the connection */
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL)
			SSL_free(ssl);
	} else
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;
	release_finished(a);
	c = xcalloc(1, sizeof(*c));
	c->ac_admit = a;
	c->ac_bev = bev;
	/* From accept: the handshake and the first request. */
	c->ac_state = CONN_READING;
	c->ac_since_us = now_us();
	bufferevent_incref(bev);
	c->ac_input_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input,
	    c);
	TAILQ_INSERT_TAIL(&a->a_conns, c, ac_entry);
	LIST_INSERT_HEAD(&a->a_bybev[bev_hash(bev)], c, ac_bucket);
	a->a_open++;
	a->a_live++;
	if (event_base_once(base, -1, EV_TIMEOUT, on_check, c, &now) == -1)
		c->ac_checked = 1;
	return bev;
}

static struct admit_conn *
conn_of(struct admit *a, struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct admit_conn		*c;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return NULL;
	LIST_FOREACH(c, &a->a_bybev[bev_hash(bev)], ac_bucket)
		if (c->ac_bev == bev)
			return c;
	return NULL;
}

/* The reply went out: the connection may be evicted again. */
static void
on_answered(struct evhttp_request *req, void *arg)
{
	struct admit_conn	*c;

	if ((c = conn_of(arg, req)) != NULL && c->ac_answering > 0)
		c->ac_answering--;
}

/*
 * A request came in whole and is being acted on: until its reply is
 * sent its connection is neither refused nor evicted, or the sender
 * would be told nothing (or 503) about what polrecd records it was told.
 */
int
admit_request_read(struct admit *a, struct evhttp_request *req)
{
	struct admit_conn	*c;

	if ((c = conn_of(a, req)) == NULL)
		return 0;
	/*
	 * Refused or evicted, and already told so (503, or closed), yet a
	 * request it had sent was still read: it must not be acted on.
	 */
	if (c->ac_state == CONN_CLOSING)
		return -1;
	c->ac_answering++;
	evhttp_request_set_on_complete_cb(req, on_answered, a);
	if (c->ac_state == CONN_READING) {
		c->ac_state = CONN_IDLE;
		c->ac_since_us = now_us();
	}
	return 0;
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct admit	*a = arg;

	(void)fd;
	(void)what;
	if (a->a_listener != NULL)
		evconnlistener_enable(a->a_listener);
}

/*
 * accept(2) failed.  Out of descriptors, libevent would try again at
 * once, for ever: pause accepting a moment instead (connections wait in
 * the backlog), count it, say so once per interval.
 */
/*
 * The listener's callback argument is evhttp's; libevent passes the same
 * one to the error callback.  There is one webhook listener: its admit.
 */
static struct admit	*listening;

static void
on_accept_error(struct evconnlistener *l, void *unused)
{
	struct admit	*a = listening;
	struct timeval	 tv = { 0, ADMIT_PAUSE_MS * 1000 };
	time_t		 now = time(NULL);
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)unused;
	if (a == NULL)
		return;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		a->a_stats.accept_paused++;
		evconnlistener_disable(l);
		evtimer_add(a->a_resume, &tv);
		release_finished(a);
	}
	if (now - a->a_emfile_logged >= ADMIT_LOG_SEC) {
		a->a_emfile_logged = now;
		log_warnx("accept: %s; paused %d ms (%llu time(s) so far)",
		    evutil_socket_error_to_string(err), ADMIT_PAUSE_MS,
		    a->a_stats.accept_paused);
	}
}

void
admit_listener(struct admit *a, struct evconnlistener *l)
{
	a->a_listener = l;
	listening = a;
	if (l != NULL)
		evconnlistener_set_error_cb(l, on_accept_error);
}

struct admit *
admit_new(struct event_base *base, const struct admit_limits *lim)
{
	struct admit	*a;
	struct timeval	 tv = { 0, ADMIT_SWEEP_MS * 1000 };
	size_t		 i;

	a = xcalloc(1, sizeof(*a));
	a->a_base = base;
	TAILQ_INIT(&a->a_conns);
	for (i = 0; i < ADMIT_BUCKETS; i++) {
		LIST_INIT(&a->a_nets[i]);
		LIST_INIT(&a->a_bybev[i]);
	}
	admit_set_limits(a, lim);
	if ((a->a_sweep = event_new(base, -1, EV_PERSIST, on_sweep, a)) ==
	    NULL || event_add(a->a_sweep, &tv) == -1 ||
	    (a->a_resume = evtimer_new(base, on_resume, a)) == NULL) {
		admit_free(a);
		return NULL;
	}
	return a;
}

void
admit_set_limits(struct admit *a, const struct admit_limits *lim)
{
	free(a->a_allow);
	a->a_allow = NULL;
	a->a_lim = *lim;
	if (lim->nallow > 0) {
		a->a_allow = xreallocarray(NULL, lim->nallow,
		    sizeof(*a->a_allow));
		memcpy(a->a_allow, lim->allow, lim->nallow *
		    sizeof(*a->a_allow));
	}
	a->a_lim.allow = a->a_allow;
}

/* New connections use this context; open ones keep theirs. */
void
admit_set_tls(struct admit *a, SSL_CTX *ctx)
{
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	SSL_CTX_free(a->a_tls);
	a->a_tls = ctx;
}

const struct admit_stats *
admit_stats(const struct admit *a)
{
	return &a->a_stats;
}

unsigned long long
admit_refused(const struct admit *a)
{
	return a->a_stats.refused[ADMIT_FULL] +
	    a->a_stats.refused[ADMIT_NETWORK_FULL];
}

long long
admit_open(const struct admit *a)
{
	return a->a_open;
}

/* After evhttp_free: every connection it had is freed, so release all. */
void
admit_free(struct admit *a)
{
	struct admit_net	*an;
	size_t			 i;

	if (a == NULL)
		return;
	if (listening == a)
		listening = NULL;
	while (!TAILQ_EMPTY(&a->a_conns))
		conn_release(TAILQ_FIRST(&a->a_conns));
	for (i = 0; i < ADMIT_BUCKETS; i++)
		while ((an = LIST_FIRST(&a->a_nets[i])) != NULL)
			net_forget(an);
	if (a->a_sweep != NULL)
		event_free(a->a_sweep);
	if (a->a_resume != NULL)
		event_free(a->a_resume);
	SSL_CTX_free(a->a_tls);
	free(a->a_allow);
	free(a);
}
