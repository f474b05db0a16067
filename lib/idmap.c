/* A string-keyed hash table: linear probing, keyed SipHash, doubling. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "idhash.h"
#include "idmap.h"

#define IDMAP_MIN_CAP	16	/* a power of two */

/* An empty slot has id NULL.  The hash is kept so that growing and
 * probing past other ids cost no rehash and few strcmp. */
struct idmap_slot {
	uint64_t	 hash;
	const char	*id;
	void		*val;
};

struct idmap {
	struct idmap_slot *slots;
	size_t		 cap;		/* a power of two */
	size_t		 n;
	unsigned char	 key[IDHASH_KEYBYTES];
};

struct idmap *
idmap_new_keyed(const unsigned char key[IDHASH_KEYBYTES])
{
	struct idmap	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->slots = calloc(IDMAP_MIN_CAP, sizeof(*m->slots))) == NULL) {
		free(m);
		return NULL;
	}
	m->cap = IDMAP_MIN_CAP;
	memcpy(m->key, key, sizeof(m->key));
	return m;
}

struct idmap *
idmap_new(void)
{
	struct idmap	*m;
	unsigned char	 key[IDHASH_KEYBYTES];

	/* sodium_init() is the caller's: main() runs it before anything. */
	randombytes_buf(key, sizeof(key));
	m = idmap_new_keyed(key);
	sodium_memzero(key, sizeof(key));
	return m;
}

void
idmap_free(struct idmap *m)
{
	if (m == NULL)
		return;
	sodium_memzero(m->key, sizeof(m->key));
	free(m->slots);
	free(m);
}

size_t
idmap_count(const struct idmap *m)
{
	return m != NULL ? m->n : 0;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t
probe(const struct idmap *m, const char *id, uint64_t h)
{
	size_t	 mask = m->cap - 1, i = (size_t)h & mask;

	/* Never full (load at most 3/4): an empty slot ends the probe. */
	while (m->slots[i].id != NULL && (m->slots[i].hash != h ||
	    strcmp(m->slots[i].id, id) != 0))
		i = (i + 1) & mask;
	return i;
}

void *
idmap_get(const struct idmap *m, const char *id)
{
	size_t	 i;

	if (m == NULL || id == NULL)
		return NULL;
	i = probe(m, id, idhash(id, m->key));
	return m->slots[i].val;
}

static int
grow(struct idmap *m)
{
	struct idmap_slot	*old = m->slots, *s;
	size_t			 oldcap = m->cap, cap, i, j;

	if (oldcap > SIZE_MAX / 2 / sizeof(*s))
		return -1;
	cap = oldcap * 2;
	if ((s = calloc(cap, sizeof(*s))) == NULL)
		return -1;
	for (i = 0; i < oldcap; i++) {
		if (old[i].id == NULL)
			continue;
		j = (size_t)old[i].hash & (cap - 1);
		while (s[j].id != NULL)
			j = (j + 1) & (cap - 1);
		s[j] = old[i];
	}
	m->slots = s;
	m->cap = cap;
	free(old);
	return 0;
}

int
idmap_put(struct idmap *m, const char *id, void *val)
{
	uint64_t	 h;
	size_t		 i;

	if (m == NULL || id == NULL || val == NULL)
		return -1;
	h = idhash(id, m->key);
	i = probe(m, id, h);
	if (m->slots[i].id != NULL)
		return 1;
	/* Past 3/4 full, probes grow long: double first. */
	if ((m->n + 1) * 4 > m->cap * 3) {
		if (grow(m) == -1)
			return -1;
		i = probe(m, id, h);
	}
	m->slots[i].hash = h;
	m->slots[i].id = id;
	m->slots[i].val = val;
	m->n++;
	return 0;
}

/*
 * Deletion without tombstones (which would pile up as legs come and
 * go): the entries after the hole, up to the next empty slot, move back
 * into it unless their home slot lies between the hole and them.
 */
void *
idmap_del(struct idmap *m, const char *id)
{
	size_t	 mask, i, j, home;
	void	*val;

	if (m == NULL || id == NULL)
		return NULL;
	mask = m->cap - 1;
	i = probe(m, id, idhash(id, m->key));
	if (m->slots[i].id == NULL)
		return NULL;
	val = m->slots[i].val;
	for (j = (i + 1) & mask; m->slots[j].id != NULL; j = (j + 1) & mask) {
		home = (size_t)m->slots[j].hash & mask;
		/* Stays if home is cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) :
		    (i < home || home <= j))
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	memset(&m->slots[i], 0, sizeof(m->slots[i]));
	m->n--;
	return val;
}

int
idmap_next(const struct idmap *m, size_t *pos, const char **id, void **val)
{
	if (m == NULL)
		return 0;
	for (; *pos < m->cap; (*pos)++)
		if (m->slots[*pos].id != NULL) {
			if (id != NULL)
				*id = m->slots[*pos].id;
			if (val != NULL)
				*val = m->slots[*pos].val;
			(*pos)++;
			return 1;
		}
	return 0;
}
