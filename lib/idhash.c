/* Keyed hashes of participant ids, and the sorted arrays that hold them. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "idhash.h"

_Static_assert(IDHASH_KEYBYTES == crypto_shorthash_KEYBYTES,
    "the key is SipHash-2-4's");
_Static_assert(crypto_shorthash_BYTES == sizeof(uint64_t),
    "a hash fits a uint64_t");

uint64_t
idhash(const char *id, const unsigned char key[IDHASH_KEYBYTES])
{
	unsigned char	 h[crypto_shorthash_BYTES];
	uint64_t	 v = 0;
	size_t		 i;

	(void)crypto_shorthash(h, (const unsigned char *)id, strlen(id), key);
	for (i = 0; i < sizeof(h); i++)
		v |= (uint64_t)h[i] << (8 * i);
	return v;
}

static uint64_t
hash_at(const void *base, size_t size, size_t i)
{
	uint64_t	 h;

	memcpy(&h, (const char *)base + i * size, sizeof(h));
	return h;
}

int
idhash_find(const void *base, size_t n, size_t size, uint64_t hash,
    size_t *pos)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (hash_at(base, size, mid) < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return lo < n && hash_at(base, size, lo) == hash;
}

int
idhash_grow(void *arrayp, size_t *cap, size_t size, size_t want,
    size_t min, size_t max)
{
	void	*base, *m;
	size_t	 c;

	if (want <= *cap)
		return 0;
	if (want > max)
		return -1;
	c = *cap < min ? min : *cap;
	while (c < want)
		c *= 2;
	if (c > max)
		c = max;
	/* The caller's pointer has its own type: copy it, do not pun it. */
	memcpy(&base, arrayp, sizeof(base));
	if ((m = reallocarray(base, c, size)) == NULL)
		return -1;
	memcpy(arrayp, &m, sizeof(m));
	*cap = c;
	return 0;
}

/* Entries are {uint64_t hash; uint8_t flag; ...}: 9 bytes each stored. */
#define PACKED	(sizeof(uint64_t) + 1)

int
idhash_pack(const void *base, size_t n, size_t size, unsigned char **out,
    size_t *outlen)
{
	unsigned char	*b, *p;
	uint64_t	 h;
	size_t		 i;
	int		 k;

	if ((b = malloc(n > 0 ? n * PACKED : 1)) == NULL)
		return -1;
	for (i = 0, p = b; i < n; i++, p += PACKED) {
		h = hash_at(base, size, i);
		for (k = 0; k < 8; k++)
			p[k] = (unsigned char)(h >> (56 - 8 * k));
		p[8] = ((const unsigned char *)base)[i * size +
		    sizeof(uint64_t)];
	}
	*out = b;
	*outlen = n * PACKED;
	return 0;
}

int
idhash_unpack(const unsigned char *buf, size_t len, size_t size,
    size_t max, void *arrayp, size_t *n)
{
	unsigned char	*a;
	uint64_t	 h, prev = 0;
	size_t		 i, count;
	int		 k;

	if ((buf == NULL && len > 0) || len % PACKED != 0 ||
	    (count = len / PACKED) > max || size < PACKED)
		return -1;
	if ((a = calloc(count > 0 ? count : 1, size)) == NULL)
		return -1;
	for (i = 0; i < count; i++, buf += PACKED) {
		for (h = 0, k = 0; k < 8; k++)
			h = h << 8 | buf[k];
		if (i > 0 && h <= prev) {	/* sorted, unique */
			free(a);
			return -1;
		}
		prev = h;
		memcpy(a + i * size, &h, sizeof(h));
		a[i * size + sizeof(uint64_t)] = buf[8];
	}
	memcpy(arrayp, &a, sizeof(a));
	*n = count;
	return 0;
}
