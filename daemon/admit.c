/*
 * Admission control for webhook connections: caps on open connections in
 * all and per client address, so that a flood or a crowd of slow clients
 * cannot take the descriptors and the loop that real invitations need.
 *
 * libevent 2.1's evhttp accepts by itself and offers no hook with the
 * peer's address, only evhttp_set_bevcb, called for every connection to
 * make its bufferevent.  So: the bufferevent is made here (plain or TLS),
 * with one extra reference we hold; a zero-delay check then sees its
 * socket (set by evhttp right after) and refuses a connection past a cap
 * with a 503 and a shutdown, which evhttp sees as the peer leaving.  When
 * evhttp frees the connection it clears the callbacks; the sweep sees
 * that, drops our reference (closing the socket) and the counts.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "admit.h"
#include "log.h"
#include "xmalloc.h"

#define ADMIT_BUCKETS	1024
#define ADMIT_ADDR_MAX	INET6_ADDRSTRLEN

struct admit_addr {
	LIST_ENTRY(admit_addr)	 aa_bucket;
	char			 aa_addr[ADMIT_ADDR_MAX];
	long long		 aa_count;
};

struct admit_conn {
	TAILQ_ENTRY(admit_conn)	 ac_entry;
	struct admit		*ac_admit;
	struct bufferevent	*ac_bev;
	struct admit_addr	*ac_addr;	/* NULL until checked */
	int			 ac_checked;
};

LIST_HEAD(admit_bucket, admit_addr);
TAILQ_HEAD(admit_conns, admit_conn);

struct admit {
	struct event_base	*a_base;
	SSL_CTX			*a_tls;		/* NULL: plain HTTP */
	long long		 a_max;
	long long		 a_max_per_addr;
	long long		 a_open;
	unsigned long long	 a_refused;
	struct admit_conns	 a_conns;
	struct admit_bucket	 a_buckets[ADMIT_BUCKETS];
	struct event		*a_sweep;
};

static size_t
addr_hash(const char *s)
{
	size_t	 h = 5381;

	for (; *s != '\0'; s++)
		h = h * 33 + (unsigned char)*s;
	return h % ADMIT_BUCKETS;
}

static struct admit_addr *
addr_get(struct admit *a, const char *addr)
{
	struct admit_bucket	*b = &a->a_buckets[addr_hash(addr)];
	struct admit_addr	*aa;

	LIST_FOREACH(aa, b, aa_bucket)
		if (strcmp(aa->aa_addr, addr) == 0)
			return aa;
	aa = xcalloc(1, sizeof(*aa));
	snprintf(aa->aa_addr, sizeof(aa->aa_addr), "%s", addr);
	LIST_INSERT_HEAD(b, aa, aa_bucket);
	return aa;
}

static void
conn_release(struct admit_conn *c)
{
	struct admit	*a = c->ac_admit;

	TAILQ_REMOVE(&a->a_conns, c, ac_entry);
	a->a_open--;
	if (c->ac_addr != NULL && --c->ac_addr->aa_count == 0) {
		LIST_REMOVE(c->ac_addr, aa_bucket);
		free(c->ac_addr);
	}
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

static void
sweep(struct admit *a)
{
	struct admit_conn	*c, *next;

	for (c = TAILQ_FIRST(&a->a_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, ac_entry);
		if (conn_finished(c))
			conn_release(c);
	}
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sweep(arg);
}

static void
refuse(struct admit *a, struct admit_conn *c, evutil_socket_t fd,
    const char *why)
{
	static const char body[] = "{\"error\":{\"code\":"
	    "\"serviceUnavailable\",\"message\":\"too many connections\"}}";
	char		 busy[256];
	ssize_t		 n;
	int		 len;

	a->a_refused++;
	if ((a->a_refused & (a->a_refused - 1)) == 0)	/* 1, 2, 4, ... */
		log_warnx("connection from %s refused: %s (%llu refused so "
		    "far)", c->ac_addr != NULL ? c->ac_addr->aa_addr : "?",
		    why, a->a_refused);
	/* Plain HTTP gets a 503; TLS is not yet spoken, so just close. */
	if (a->a_tls == NULL) {
		len = snprintf(busy, sizeof(busy), "HTTP/1.1 503 Service "
		    "Unavailable\r\nRetry-After: 1\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\nConnection: "
		    "close\r\n\r\n%s", sizeof(body) - 1, body);
		n = write(fd, busy, (size_t)len);
		(void)n;
	}
	shutdown(fd, SHUT_RDWR);
}

static void
on_check(evutil_socket_t unused, short what, void *arg)
{
	struct admit_conn	*c = arg;
	struct admit		*a = c->ac_admit;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 host[ADMIT_ADDR_MAX] = "?";
	evutil_socket_t		 fd;

	(void)unused;
	(void)what;
	c->ac_checked = 1;
	if ((fd = bufferevent_getfd(c->ac_bev)) == -1)
		return;		/* evhttp gave up on it already */
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
			    sizeof(host));
		else if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET,
			    &((struct sockaddr_in *)&ss)->sin_addr, host,
			    sizeof(host));
	}
	c->ac_addr = addr_get(a, host);
	c->ac_addr->aa_count++;
	if (a->a_open > a->a_max)
		refuse(a, c, fd, "max_connections reached");
	else if (c->ac_addr->aa_count > a->a_max_per_addr)
		refuse(a, c, fd, "max_connections_per_address reached");
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

	sweep(a);
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
	c = xcalloc(1, sizeof(*c));
	c->ac_admit = a;
	c->ac_bev = bev;
	bufferevent_incref(bev);
	TAILQ_INSERT_TAIL(&a->a_conns, c, ac_entry);
	a->a_open++;
	if (event_base_once(base, -1, EV_TIMEOUT, on_check, c, &now) == -1)
		c->ac_checked = 1;
	return bev;
}

struct admit *
admit_new(struct event_base *base, long long max, long long max_per_addr)
{
	struct admit	*a;
	struct timeval	 tv = { 1, 0 };
	size_t		 i;

	a = xcalloc(1, sizeof(*a));
	a->a_base = base;
	TAILQ_INIT(&a->a_conns);
	for (i = 0; i < ADMIT_BUCKETS; i++)
		LIST_INIT(&a->a_buckets[i]);
	admit_set_limits(a, max, max_per_addr);
	if ((a->a_sweep = event_new(base, -1, EV_PERSIST, on_sweep, a)) ==
	    NULL || event_add(a->a_sweep, &tv) == -1) {
		admit_free(a);
		return NULL;
	}
	return a;
}

void
admit_set_limits(struct admit *a, long long max, long long max_per_addr)
{
	a->a_max = max;
	a->a_max_per_addr = max_per_addr;
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

unsigned long long
admit_refused(const struct admit *a)
{
	return a->a_refused;
}

/* After evhttp_free: every connection it had is freed, so release all. */
void
admit_free(struct admit *a)
{
	if (a == NULL)
		return;
	while (!TAILQ_EMPTY(&a->a_conns))
		conn_release(TAILQ_FIRST(&a->a_conns));
	if (a->a_sweep != NULL)
		event_free(a->a_sweep);
	SSL_CTX_free(a->a_tls);
	free(a);
}
