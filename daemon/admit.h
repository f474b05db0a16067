/* Admission control for webhook connections (see admit.c). */
#ifndef POLRECD_ADMIT_H
#define POLRECD_ADMIT_H

#include <stddef.h>

#include <openssl/types.h>

struct admit;
struct bufferevent;
struct event_base;
struct evconnlistener;
struct evhttp_request;
struct netaddr_cidr;

struct admit_limits {
	long long			 max;		/* connections in all */
	long long			 max_per_net;	/* per /32 or /64 */
	long long			 rate;	/* new ones a second, a net */
	long long			 deadline_ms;	/* a request, whole */
	const struct netaddr_cidr	*allow;	/* empty: any address */
	size_t				 nallow;
};

enum admit_refusal {
	ADMIT_FULL,		/* max, and nothing to evict */
	ADMIT_NETWORK_FULL,	/* max_per_net */
	ADMIT_RATE,		/* the network's new-connection rate */
	ADMIT_NOT_ALLOWED,	/* not in allow_from */
	ADMIT_NREFUSALS
};

struct admit_stats {
	unsigned long long	 refused[ADMIT_NREFUSALS];
	unsigned long long	 deadline_closed;	/* request too slow */
	unsigned long long	 evicted;	/* slowest, for a new one */
	unsigned long long	 accept_paused;	/* out of descriptors */
};

struct admit	*admit_new(struct event_base *, const struct admit_limits *);
void		 admit_free(struct admit *);
void		 admit_set_limits(struct admit *, const struct admit_limits *);
void		 admit_set_tls(struct admit *, SSL_CTX *);
void		 admit_listener(struct admit *, struct evconnlistener *);
struct bufferevent *admit_bevcb(struct event_base *, void *);
/* The request arrived whole: its connection has no deadline running. */
int		 admit_request_read(struct admit *, struct evhttp_request *);
const struct admit_stats *admit_stats(const struct admit *);
unsigned long long admit_refused(const struct admit *);
long long	 admit_open(const struct admit *);

#endif
