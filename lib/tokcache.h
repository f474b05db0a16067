/*
 * Notification tokens already verified: Graph sends the same bearer token
 * with many notifications until it expires, and an RS256 verification
 * costs far more than a hash.  A bounded cache keyed by the token's
 * BLAKE2b-256 hash; a hit is good only while the token's time claims
 * still hold and the key that verified it is still in the key set, so a
 * key removed from the JWKS takes its tokens with it.  Only successful
 * verifications are kept; the issuer and audience rules are the
 * caller's, who clears the cache when they change (reload).
 */
#ifndef TOKCACHE_H
#define TOKCACHE_H

#include <stddef.h>

#include "jwt.h"

struct tokcache;

/* Room for about `entries` tokens (rounded up; 0: a default). */
struct tokcache	*tokcache_new(size_t entries);
void		 tokcache_free(struct tokcache *);

/*
 * 1 and the claims the token was verified with, when it was verified
 * before and, at p->now with p->skew, is neither expired nor not yet
 * valid, and set still holds its key; else 0 (a stale entry is dropped).
 */
int		 tokcache_get(struct tokcache *, const char *token, size_t len,
		    const struct jwks *set, const struct jwt_policy *p,
		    struct jwt_claims *out);

/* The token verified JWT_OK with these claims. */
void		 tokcache_put(struct tokcache *, const char *token, size_t len,
		    const struct jwt_claims *);

/* Forget every token (the issuer or audience rules changed). */
void		 tokcache_clear(struct tokcache *);

size_t		 tokcache_count(const struct tokcache *);

#endif
