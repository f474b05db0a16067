/* Per key id limit on refetches of the signing keys. */
#include <string.h>

#include <sodium.h>

#include "kidrate.h"

void
kidrate_init(struct kidrate *kr, uint64_t interval_us)
{
	memset(kr, 0, sizeof(*kr));
	kr->interval_us = interval_us;
}

static int
recent(const struct kidrate *kr, const struct kidrate_slot *s,
    uint64_t now_us)
{
	return s->used && now_us >= s->granted_us &&
	    now_us - s->granted_us < kr->interval_us;
}

int
kidrate_ask(struct kidrate *kr, const char *kid, uint64_t now_us)
{
	unsigned char		 h[KIDRATE_HASHBYTES];
	struct kidrate_slot	*s, *slot = NULL, *oldest = NULL;
	size_t			 i;

	crypto_generichash(h, sizeof(h), (const unsigned char *)kid,
	    strlen(kid), NULL, 0);
	for (i = 0; i < KIDRATE_SLOTS; i++) {
		s = &kr->slots[i];
		if (!s->used) {
			if (slot == NULL)
				slot = s;
			continue;
		}
		if (sodium_memcmp(s->hash, h, sizeof(h)) == 0) {
			if (recent(kr, s, now_us))
				return 0;
			slot = s;
			break;
		}
		if (oldest == NULL || s->granted_us < oldest->granted_us)
			oldest = s;
	}
	if (slot == NULL)
		slot = oldest;
	memcpy(slot->hash, h, sizeof(h));
	slot->granted_us = now_us;
	slot->used = 1;
	return 1;
}

size_t
kidrate_count(const struct kidrate *kr, uint64_t now_us)
{
	size_t	 i, n = 0;

	for (i = 0; i < KIDRATE_SLOTS; i++)
		if (recent(kr, &kr->slots[i], now_us))
			n++;
	return n;
}
