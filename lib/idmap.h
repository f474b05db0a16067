/*
 * A hash table from string ids to pointers: the daemon's index of live
 * call legs, looked up several times per notification.  Open addressing
 * with linear probing, doubling as it fills.  Ids are hashed with a
 * SipHash key drawn at random per table (idhash), so ids chosen by
 * whoever sends notifications cannot be made to pile up in one chain.
 */
#ifndef POLREC_IDMAP_H
#define POLREC_IDMAP_H

#include <stddef.h>

#include "idhash.h"

struct idmap;

/* An empty table with a random key; NULL when memory runs out. */
struct idmap	*idmap_new(void);

/* The same with a given key, so that tests can repeat a layout. */
struct idmap	*idmap_new_keyed(const unsigned char key[IDHASH_KEYBYTES]);

/* Frees the table only: ids and values belong to the caller. */
void		 idmap_free(struct idmap *);

/* The value under id, or NULL. */
void		*idmap_get(const struct idmap *, const char *id);

/*
 * Add id -> val (val not NULL).  The table keeps the id pointer, not a
 * copy: it must stay valid and unchanged until the entry is deleted.
 * 0 when added, 1 when id was there already (nothing changes), -1 when
 * memory runs out (nothing changes).
 */
int		 idmap_put(struct idmap *, const char *id, void *val);

/* Remove id; returns its value, or NULL if it was not there. */
void		*idmap_del(struct idmap *, const char *id);

size_t		 idmap_count(const struct idmap *);

/*
 * Walk the entries in no particular order: *pos starts at 0; 1 and the
 * entry while there is one, then 0.  The table must not change during
 * the walk.
 */
int		 idmap_next(const struct idmap *, size_t *pos,
		    const char **id, void **val);

#endif
