/*
 * Refetches of the notification signing keys asked for by key ids not
 * in the cache: each kid may ask at most once an interval, remembered
 * in a small table of the kids that asked last (least recently granted
 * evicted first).  Kids are kept as 16-byte BLAKE2b hashes: the table
 * holds nothing a sender chose beyond its hash.  No clock is read here:
 * the caller passes monotonic microseconds.
 */
#ifndef POLREC_KIDRATE_H
#define POLREC_KIDRATE_H

#include <stddef.h>
#include <stdint.h>

#define KIDRATE_SLOTS		64
#define KIDRATE_HASHBYTES	16

struct kidrate_slot {
	unsigned char	 hash[KIDRATE_HASHBYTES];
	uint64_t	 granted_us;
	int		 used;
};

struct kidrate {
	struct kidrate_slot	 slots[KIDRATE_SLOTS];
	uint64_t		 interval_us;
};

void	 kidrate_init(struct kidrate *, uint64_t interval_us);

/*
 * May kid ask for a refetch at now_us?  1: yes, and the grant is noted;
 * 0: it was granted one less than the interval ago.  A full table
 * forgets the kid granted longest ago.  libsodium must be initialised.
 */
int	 kidrate_ask(struct kidrate *, const char *kid, uint64_t now_us);

/* Kids granted a refetch less than the interval before now_us. */
size_t	 kidrate_count(const struct kidrate *, uint64_t now_us);

#endif
