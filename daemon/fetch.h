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

struct fetch_request {
	const char	*method;		/* GET, POST, DELETE */
	const char	*url;
	const char	*headers[FETCH_MAX_HEADERS];	/* "Name: value", NULL-ended */
	const char	*body;			/* copied; may be NULL */
	size_t		 body_len;
	long		 timeout_ms;		/* whole transfer */
	long		 connect_timeout_ms;
	size_t		 max_response;		/* bytes; larger fails */
};

struct fetch_response {
	int		 ok;		/* the transfer completed (any status) */
	long		 status;	/* HTTP status, 0 if none */
	const char	*error;		/* curl's reason when !ok */
	const char	*body;		/* NUL-terminated */
	size_t		 body_len;
	double		 seconds;	/* total time */
	const struct fetch_xfer *xfer;	/* for fetch_header() */
};

typedef void	(*fetch_cb)(const struct fetch_response *, void *);

struct fetch	*fetch_new(struct event_base *);
void		 fetch_free(struct fetch *);

/* Start a transfer; NULL if it could not be started (already logged). */
struct fetch_xfer *fetch_start(struct fetch *, const struct fetch_request *,
		    fetch_cb, void *);

/* Abandon a transfer: its callback is never called. */
void		 fetch_cancel(struct fetch_xfer *);

/* A response header's value (case-insensitive name), or NULL. */
const char	*fetch_header(const struct fetch_xfer *, const char *);

#endif
