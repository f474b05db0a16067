/* Replay cache: message ids with their reply, until the token expires. */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "xmalloc.h"

struct replay_node {
	LIST_ENTRY(replay_node)	 rn_bucket;
	TAILQ_ENTRY(replay_node) rn_age;	/* insertion order */
	char			*rn_id;
	long long		 rn_expires;
	struct replay_entry	 rn_entry;
};

LIST_HEAD(replay_bucket, replay_node);
TAILQ_HEAD(replay_ages, replay_node);

struct replay {
	struct replay_bucket	*r_buckets;
	size_t			 r_nbuckets;	/* a power of two */
	struct replay_ages	 r_ages;
	size_t			 r_count;
	size_t			 r_max;
};

/* FNV-1a: ids are untrusted, but only authenticated ones are stored. */
static size_t
hash_id(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

struct replay *
replay_new(size_t max_entries)
{
	struct replay	*r;
	size_t		 i;

	r = xcalloc(1, sizeof(*r));
	r->r_max = max_entries > 0 ? max_entries : 1;
	for (r->r_nbuckets = 64; r->r_nbuckets < r->r_max &&
	    r->r_nbuckets < (1u << 20); r->r_nbuckets <<= 1)
		;
	r->r_buckets = xcalloc(r->r_nbuckets, sizeof(*r->r_buckets));
	for (i = 0; i < r->r_nbuckets; i++)
		LIST_INIT(&r->r_buckets[i]);
	TAILQ_INIT(&r->r_ages);
	return r;
}

static void
node_free(struct replay *r, struct replay_node *n)
{
	LIST_REMOVE(n, rn_bucket);
	TAILQ_REMOVE(&r->r_ages, n, rn_age);
	r->r_count--;
	free(n->rn_id);
	free((char *)(uintptr_t)n->rn_entry.body);
	free(n);
}

void
replay_free(struct replay *r)
{
	if (r == NULL)
		return;
	while (!TAILQ_EMPTY(&r->r_ages))
		node_free(r, TAILQ_FIRST(&r->r_ages));
	free(r->r_buckets);
	free(r);
}

static struct replay_node *
lookup(struct replay *r, const char *id)
{
	struct replay_node	*n;

	LIST_FOREACH(n, &r->r_buckets[hash_id(id) & (r->r_nbuckets - 1)],
	    rn_bucket)
		if (strcmp(n->rn_id, id) == 0)
			return n;
	return NULL;
}

const struct replay_entry *
replay_find(struct replay *r, const char *id, long long now)
{
	struct replay_node	*n;

	if (id == NULL || *id == '\0' || strlen(id) > REPLAY_MAX_ID)
		return NULL;
	if ((n = lookup(r, id)) == NULL)
		return NULL;
	if (n->rn_expires <= now) {
		node_free(r, n);
		return NULL;
	}
	return &n->rn_entry;
}

int
replay_remember(struct replay *r, const char *id, long long expires,
    int status, const char *body, size_t body_len)
{
	struct replay_node	*n;
	char			*copy;

	if (id == NULL || *id == '\0' || strlen(id) > REPLAY_MAX_ID)
		return -1;
	if ((n = lookup(r, id)) != NULL)
		node_free(r, n);
	while (r->r_count >= r->r_max)
		node_free(r, TAILQ_FIRST(&r->r_ages));
	if (body == NULL || body_len > REPLAY_MAX_REPLY)
		body_len = 0;
	copy = xmalloc(body_len + 1);
	if (body_len > 0)
		memcpy(copy, body, body_len);
	copy[body_len] = '\0';

	n = xcalloc(1, sizeof(*n));
	n->rn_id = xstrdup(id);
	n->rn_expires = expires;
	n->rn_entry.status = status;
	n->rn_entry.body = copy;
	n->rn_entry.body_len = body_len;
	LIST_INSERT_HEAD(&r->r_buckets[hash_id(id) & (r->r_nbuckets - 1)], n,
	    rn_bucket);
	TAILQ_INSERT_TAIL(&r->r_ages, n, rn_age);
	r->r_count++;
	return 0;
}

/*
 * Entries sit in insertion order, and tokens live about an hour, so the
 * oldest are nearly always the first to expire: walk from the head and
 * stop at the first live one.  A later-expiring entry ahead of earlier
 * ones only delays their removal, never keeps a replay out.
 */
size_t
replay_expire(struct replay *r, long long now)
{
	struct replay_node	*n;
	size_t			 dropped = 0;

	while ((n = TAILQ_FIRST(&r->r_ages)) != NULL && n->rn_expires <= now) {
		node_free(r, n);
		dropped++;
	}
	return dropped;
}

size_t
replay_count(const struct replay *r)
{
	return r->r_count;
}
