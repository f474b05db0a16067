/*
 * Participant ids as keyed 64-bit hashes (SipHash-2-4, libsodium's
 * crypto_shorthash), kept in sorted arrays: the roster of a leg and the
 * members of a recorder group hold no identity and stay small.  The
 * arrays' entries are structs that begin with their uint64_t hash.
 */
#ifndef POLREC_IDHASH_H
#define POLREC_IDHASH_H

#include <stddef.h>
#include <stdint.h>

#define IDHASH_KEYBYTES	16

/* The id's hash, read little-endian so stored values mean the same on
 * any host. */
uint64_t idhash(const char *id, const unsigned char key[IDHASH_KEYBYTES]);

/*
 * Binary search of n entries of `size` bytes sorted by their leading
 * hash: 1 and the index when present, else 0 and where it would go.
 */
int	 idhash_find(const void *base, size_t n, size_t size, uint64_t hash,
	    size_t *pos);

/*
 * Room for `want` entries in the array whose pointer is at arrayp,
 * doubling from `min`, never past `max`; updates the pointer and *cap.
 * -1 when want exceeds max or memory runs out: nothing changes then.
 */
int	 idhash_grow(void *arrayp, size_t *cap, size_t size, size_t want,
	    size_t min, size_t max);

/*
 * For storage: n entries (hash, then a one-byte flag right after it)
 * as 9 bytes each, the hash big-endian; *out malloc'd.  0 or -1.
 */
int	 idhash_pack(const void *base, size_t n, size_t size,
	    unsigned char **out, size_t *outlen);

/*
 * Back: a calloc'd array of `size`-byte entries at *arrayp, *n of them.
 * Untrusted bytes: -1 unless the length is a whole number of entries, at
 * most max, with hashes strictly ascending.
 */
int	 idhash_unpack(const unsigned char *buf, size_t len, size_t size,
	    size_t max, void *arrayp, size_t *n);

#endif
