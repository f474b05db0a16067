/*
 * Outbound requests: the app token (token.c) and Graph's calls API and
 * the media agent (graph.c), with retries, deadlines and the logging an
 * operator needs to take a failure up with Microsoft (request-id,
 * client-request-id, the error body).
 */
#ifndef POLRECD_GRAPH_H
#define POLRECD_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "graphmsg.h"
#include "waitq.h"

struct polrecd;
struct token;
struct graph_op;

/* token.c: client credentials, a token per tenant served, kept warm. */
struct tokens;

struct token_state {
	const char	*tenant;
	const char	*url;
	int		 valid;		/* usable now */
	long long	 expires_in;	/* seconds; 0: none */
	int		 fetching;	/* a request under way */
	uint64_t	 fetches;	/* tokens acquired */
	uint64_t	 failures;
	const char	*last_error;	/* "" when the last fetch worked */
};

struct tokens	*tokens_new(struct polrecd *);
void		 tokens_free(struct tokens *);
int		 tokens_reconfigure(struct tokens *);
struct token	*tokens_find(struct tokens *, const char *tenant);
int		 tokens_state(const struct tokens *, size_t,
		    struct token_state *);	/* -1: no such */
const char	*token_get(const struct token *);	/* NULL: none valid */
void		 token_wait(struct token *, struct waiter *, void (*)(void *),
		    void *);
void		 token_unwait(struct token *, struct waiter *);
void		 token_invalidate(struct token *, const char *);
long long	 token_expires_in(const struct token *);	/* seconds */

/* graph.c */
enum graph_auth {
	GRAPH_AUTH_TOKEN,	/* Authorization: Bearer <app token> */
	GRAPH_AUTH_SECRET,	/* Bearer <given shared secret> */
};

struct graph_req {
	const char	*method;		/* POST, GET, DELETE */
	const char	*url;			/* copied */
	const char	*what;			/* "answer", ... for logs */
	const char	*call_id;		/* for logs; copied */
	const char	*tenant;		/* whose token; copied */
	const char	*body;			/* copied; may be NULL */
	enum graph_auth	 auth;
	const char	*secret;		/* GRAPH_AUTH_SECRET; copied */
	uint64_t	 deadline_us;		/* monotonic; 0: none */
	int		 max_attempts;		/* 0: default */
	size_t		 max_response;		/* 0: default */
};

struct graph_result {
	int		 ok;		/* 2xx */
	long		 status;	/* last HTTP status; 0: none */
	int		 missed;	/* deadline passed before success */
	int		 unsure;	/* an attempt may have been taken:
					   no reply, or a 5xx */
	int		 permanent;	/* a failure not worth retrying */
	const char	*error;		/* transport error, or NULL */
	struct graph_error gerr;	/* from the error body, "" if none */
	const char	*request_id;	/* "" when absent */
	const char	*client_request_id;
	const char	*body;		/* NUL-terminated */
	size_t		 body_len;
	int		 attempts;
	uint64_t	 elapsed_us;	/* since graph_start */
};

typedef void	(*graph_cb)(const struct graph_result *, void *);

/*
 * Start a request; the callback runs exactly once, unless the op is
 * cancelled first.  Never NULL.  Transient failures (no response, 408,
 * 429, 5xx) are retried with backoff and Retry-After; with a deadline
 * only while another attempt can still finish in time.  A 401 with a
 * token invalidates it and retries once.
 */
struct graph_op	*graph_start(struct polrecd *, const struct graph_req *,
		    graph_cb, void *);
void		 graph_cancel(struct graph_op *);

/*
 * The calls API with the app token: METHOD {base_url}/communications/
 * calls/{call_id}[/{action}], logged as `action` (or `what`), with
 * the token of the call's tenant (NULL: unknown, the only tenant's).
 */
struct graph_op	*graph_call(struct polrecd *, const char *tenant,
		    const char *method, const char *call_id,
		    const char *action, const char *what,
		    const char *body, uint64_t deadline_us, int max_attempts,
		    graph_cb, void *);

/* {base_url}/communications/calls/{id}[/{action}], malloc'd. */
char		*graph_call_url(const struct polrecd *, const char *call_id,
		    const char *action);

void		 graph_cancel_all(struct polrecd *);
size_t		 graph_in_flight(void);

#endif
