/* Admission control for webhook connections (see admit.c). */
#ifndef POLRECD_ADMIT_H
#define POLRECD_ADMIT_H

#include <openssl/types.h>

struct admit;
struct bufferevent;
struct event_base;

struct admit	*admit_new(struct event_base *, long long, long long);
void		 admit_free(struct admit *);
void		 admit_set_limits(struct admit *, long long, long long);
void		 admit_set_tls(struct admit *, SSL_CTX *);
struct bufferevent *admit_bevcb(struct event_base *, void *);
unsigned long long admit_refused(const struct admit *);

#endif
