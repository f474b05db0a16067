/*
 * Notification signing keys: the OpenID configuration names the JWKS,
 * both fetched with fetch.c at start-up, cached, refreshed every
 * key_refresh seconds, refetched at once when a token names an unknown
 * kid (each kid at most once in 10 s, fetches at most one a second),
 * and retried with backoff while the endpoint is down.  Cached keys keep
 * working while it is.
 */
#ifndef POLRECD_KEYS_H
#define POLRECD_KEYS_H

#include <stdint.h>

#include "waitq.h"

struct polrecd;
struct jwks;
struct keys;

struct keys	*keys_new(struct polrecd *);
void		 keys_free(struct keys *);

/* The current key set, or NULL before the first successful fetch. */
const struct jwks *keys_get(const struct keys *);

enum keys_verdict {
	KEYS_WAIT,	/* a fetch is under way or due: keys_wait, then ask again */
	KEYS_UNKNOWN,	/* a set fetched after arrival lacks it: refuse (401) */
	KEYS_LIMITED,	/* no fetch may start for it now: retry later (503) */
};

/*
 * A token of a request that arrived at arrival_us (polrecd_now_us)
 * named kid, not in the set ("" asks for a first set while there is
 * none).  Starts or plans a refetch when the kid may have one.
 */
enum keys_verdict keys_unknown_kid(struct keys *, const char *kid,
		    uint64_t arrival_us);

/* Call cb(arg) once, when the fetch under way ends (either way). */
void		 keys_wait(struct keys *, struct waiter *, void (*)(void *),
		    void *);
void		 keys_unwait(struct keys *, struct waiter *);
int		 keys_age(const struct keys *, uint64_t *age_us,
		    int *first_fetch);

#endif
