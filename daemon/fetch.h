/*
 * HTTP client on the event loop: libcurl's multi interface driven by
 * libevent, after curl's hiperfifo pattern.  fetch knows nothing of Graph
 * or of what it fetches; the owner gets one completion callback per
 * transfer.
 */
#ifndef POLRECD_FETCH_H
#define POLRECD_FETCH_H

#include <stddef.h>

struct event_base;
struct fetch;
struct fetch_xfer;

#define FETCH_MAX_HEADERS	16
#define FETCH_MAX_CONNECTIONS_DEFAULT	64

/*
 * Transfers beyond the cap wait in fetch's queue, urgent ones first:
 * an invitation's answer or reject has seconds, a keepAlive minutes.
 */
enum fetch_priority {
	FETCH_NORMAL = 0,
	FETCH_URGENT,
};

struct fetch_request {
	const char	*method;		/* GET, POST, DELETE */
	const char	*url;
	const char	*headers[FETCH_MAX_HEADERS];	/* "Name: value", NULL-ended */
	const char	*body;			/* copied; may be NULL */
	size_t		 body_len;
	long		 timeout_ms;		/* whole transfer, from
						   fetch_start: queue too */
	long		 connect_timeout_ms;
	size_t		 max_response;		/* bytes; larger fails */
	enum fetch_priority priority;
};

struct fetch_response {
	int		 ok;		/* the transfer completed (any status) */
	long		 status;	/* HTTP status, 0 if none */
	const char	*error;		/* curl's reason when !ok */
	int		 unsent;	/* !ok: its timeout ran out in the
					   queue; nothing was sent */
	const char	*body;		/* NUL-terminated */
	size_t		 body_len;
	double		 seconds;	/* total time */
	const struct fetch_xfer *xfer;	/* for fetch_header() */
};

typedef void	(*fetch_cb)(const struct fetch_response *, void *);

struct fetch	*fetch_new(struct event_base *);
void		 fetch_free(struct fetch *);

/*
 * At most max_connections open to any one host and in all (curl's
 * caps), and as many transfers handed to curl at once: over HTTP/1.1 a
 * connection carries one request at a time, so the rest wait here in
 * priority order rather than in curl's queue in arrival order.  Once a
 * transfer went over HTTP/2, each connection carries up to
 * FETCH_STREAMS at once and the cap on transfers grows with it.  May
 * be called again (reload).
 */
#define FETCH_STREAMS	100
void		 fetch_set_limits(struct fetch *, long max_connections);

/* Transfers waiting for a slot, transfers handed to curl, and those
 * whose timeout ran out while they waited (a counter). */
struct fetch_stats {
	size_t		 queued;
	size_t		 active;
	size_t		 queued_max;	/* the most ever waiting at once */
	unsigned long long expired;
	unsigned long long waited;	/* transfers that had to wait */
};
void		 fetch_stats(const struct fetch *, struct fetch_stats *);

/* Start a transfer; NULL if it could not be started (already logged). */
struct fetch_xfer *fetch_start(struct fetch *, const struct fetch_request *,
		    fetch_cb, void *);

/* Abandon a transfer: its callback is never called. */
void		 fetch_cancel(struct fetch_xfer *);

/* A response header's value (case-insensitive name), or NULL. */
const char	*fetch_header(const struct fetch_xfer *, const char *);

#endif
