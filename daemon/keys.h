/*
 * Notification signing keys: the OpenID configuration names the JWKS,
 * both fetched with fetch.c at start-up, cached, refreshed every
 * key_refresh seconds, refetched at most once a minute when a token
 * names an unknown kid, and retried with backoff while the endpoint is
 * down.  Cached keys keep working while it is.
 */
#ifndef POLRECD_KEYS_H
#define POLRECD_KEYS_H

#include "waitq.h"

struct polrecd;
struct jwks;
struct keys;

struct keys	*keys_new(struct polrecd *);
void		 keys_free(struct keys *);

/* The current key set, or NULL before the first successful fetch. */
const struct jwks *keys_get(const struct keys *);

/*
 * A token named a kid not in the set.  Starts a refetch unless one ran
 * in the last minute.  Returns 1 if a fetch is under way (wait for it
 * with keys_wait), 0 if the caller should fail now.
 */
int		 keys_refresh_for_unknown(struct keys *);

/* 1 while a fetch is under way. */
int		 keys_fetching(const struct keys *);

/* Call cb(arg) once, when the fetch under way ends (either way). */
void		 keys_wait(struct keys *, struct waiter *, void (*)(void *),
		    void *);
void		 keys_unwait(struct keys *, struct waiter *);

#endif
