/* Verified notification tokens, by hash: see tokcache.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tokcache.h"
#include "xmalloc.h"

#define TOKCACHE_WAYS		4	/* entries a token may sit in */
#define TOKCACHE_DEFAULT	4096

struct tok_entry {
	unsigned char		 hash[crypto_generichash_BYTES];
	int			 used;
	struct jwt_claims	 claims;
};

struct tokcache {
	struct tok_entry	*entries;
	size_t			 nsets;		/* a power of two */
	size_t			 count;
	unsigned char		 key[crypto_generichash_KEYBYTES];
};

struct tokcache *
tokcache_new(size_t entries)
{
	struct tokcache	*tc;
	size_t		 nsets = 1;

	if (entries == 0)
		entries = TOKCACHE_DEFAULT;
	while (nsets * TOKCACHE_WAYS < entries)
		nsets <<= 1;
	tc = xcalloc(1, sizeof(*tc));
	tc->nsets = nsets;
	tc->entries = xcalloc(nsets * TOKCACHE_WAYS, sizeof(*tc->entries));
	/* Keyed: nobody can aim tokens at one set to evict another's. */
	randombytes_buf(tc->key, sizeof(tc->key));
	return tc;
}

void
tokcache_free(struct tokcache *tc)
{
	if (tc == NULL)
		return;
	sodium_memzero(tc->entries,
	    tc->nsets * TOKCACHE_WAYS * sizeof(*tc->entries));
	free(tc->entries);
	sodium_memzero(tc->key, sizeof(tc->key));
	free(tc);
}

static struct tok_entry *
set_of(struct tokcache *tc, const char *token, size_t len,
    unsigned char hash[crypto_generichash_BYTES])
{
	uint64_t	 i;

	crypto_generichash(hash, crypto_generichash_BYTES,
	    (const unsigned char *)token, len, tc->key, sizeof(tc->key));
	memcpy(&i, hash, sizeof(i));
	return &tc->entries[(i & (tc->nsets - 1)) * TOKCACHE_WAYS];
}

/* The time claims, as jwt_verify checks them, at p->now. */
static int
still_valid(const struct jwt_claims *c, const struct jwt_policy *p)
{
	if (c->exp < 0 || p->now >= c->exp + p->skew)
		return 0;
	if (c->nbf >= 0 && p->now < c->nbf - p->skew)
		return 0;
	if (c->iat >= 0 && p->now < c->iat - p->skew)
		return 0;
	return 1;
}

static void
drop(struct tokcache *tc, struct tok_entry *e)
{
	sodium_memzero(e, sizeof(*e));
	tc->count--;
}

int
tokcache_get(struct tokcache *tc, const char *token, size_t len,
    const struct jwks *set, const struct jwt_policy *p,
    struct jwt_claims *out)
{
	unsigned char	 hash[crypto_generichash_BYTES];
	struct tok_entry *e;
	int		 w;

	e = set_of(tc, token, len, hash);
	for (w = 0; w < TOKCACHE_WAYS; w++, e++) {
		if (!e->used || sodium_memcmp(e->hash, hash,
		    sizeof(hash)) != 0)
			continue;
		if (!still_valid(&e->claims, p) ||
		    !jwks_has(set, e->claims.kid)) {
			drop(tc, e);
			return 0;
		}
		*out = e->claims;
		return 1;
	}
	return 0;
}

void
tokcache_put(struct tokcache *tc, const char *token, size_t len,
    const struct jwt_claims *claims)
{
	unsigned char	 hash[crypto_generichash_BYTES];
	struct tok_entry *e, *victim = NULL;
	int		 w;

	e = set_of(tc, token, len, hash);
	for (w = 0; w < TOKCACHE_WAYS; w++, e++) {
		if (e->used && sodium_memcmp(e->hash, hash,
		    sizeof(hash)) == 0) {
			e->claims = *claims;	/* the same token again */
			return;
		}
		/* A free way, else the token that expires first. */
		if (!e->used)
			victim = e;
		else if (victim == NULL || (victim->used &&
		    e->claims.exp < victim->claims.exp))
			victim = e;
	}
	if (victim->used)
		tc->count--;
	memcpy(victim->hash, hash, sizeof(hash));
	victim->claims = *claims;
	victim->used = 1;
	tc->count++;
}

void
tokcache_clear(struct tokcache *tc)
{
	sodium_memzero(tc->entries,
	    tc->nsets * TOKCACHE_WAYS * sizeof(*tc->entries));
	tc->count = 0;
}

size_t
tokcache_count(const struct tokcache *tc)
{
	return tc->count;
}
