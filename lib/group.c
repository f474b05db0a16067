/* The recorder group of a call leg: who it records, and each join's answer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <sodium.h>

#include "group.h"
#include "idhash.h"

#define GROUP_MIN_ALLOC	16
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* Accepted members never pass capacity, the others never pass this. */
#define GROUP_MAX_MEMBERS	(GROUP_MAX_CAPACITY + GROUP_MAX_REMEMBERED)

_Static_assert(GROUP_KEYBYTES == crypto_shorthash_KEYBYTES,
    "group key is a SipHash-2-4 key");
_Static_assert(crypto_shorthash_BYTES == sizeof(uint64_t),
    "group hashes are 64 bits");

struct recorder_group {
	char			*tenant;	/* NULL: unknown */
	char			*policy;
	struct group_member	*m;		/* sorted by hash, unique */
	size_t			 n, alloc;
	uint32_t		 capacity;
	uint32_t		 used;		/* MEMBER_ACCEPTED in m */
	unsigned char		 key[GROUP_KEYBYTES];
};

static const char *const verdict_names[] = {
	"accept", "busy", "forbidden", "invite",
};

static int	 find(const struct recorder_group *, uint64_t, size_t *);
static int	 reserve(struct recorder_group *, size_t);
static int	 known(const char *);
static int	 allowed(char *const *, const char *);
static int	 differs(const char *, const char *);
static void	 decide(struct join_decision *, enum join_verdict,
		    const char *, int, const char *);
static void	 decide_again(const struct group_policy *, uint8_t,
		    struct join_decision *);
static void	 decide_new(const struct recorder_group *,
		    const struct group_policy *, const char *, const char *,
		    int, struct join_decision *);
static void	 insert(struct recorder_group *, size_t, uint64_t, uint8_t);
static struct recorder_group *group_alloc(const char *, const char *,
		    uint32_t, const unsigned char *);
static int	 member_cmp(const void *, const void *);

const char *
join_verdict_name(enum join_verdict v)
{
	if ((size_t)v >= NELEM(verdict_names))
		return "unknown";
	return verdict_names[v];
}

/* 1 and its index if hash is a member, else 0 and where it would go. */
static int
find(const struct recorder_group *g, uint64_t hash, size_t *pos)
{
	return idhash_find(g->m, g->n, sizeof(*g->m), hash, pos);
}

/* Room for want members, doubling; the group is unchanged on failure. */
static int
reserve(struct recorder_group *g, size_t want)
{
	return idhash_grow(&g->m, &g->alloc, sizeof(*g->m), want,
	    GROUP_MIN_ALLOC, GROUP_MAX_MEMBERS);
}

/* An empty string says no more than a missing one. */
static int
known(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* A NULL list allows nothing: recording is opt-in by configuration. */
static int
allowed(char *const *list, const char *s)
{
	size_t	 i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (strcmp(list[i], "*") == 0)
			return 1;
		if (known(s) && strcasecmp(list[i], s) == 0)
			return 1;
	}
	return 0;
}

/* Only two known values can prove the joiner belongs elsewhere. */
static int
differs(const char *ours, const char *theirs)
{
	return known(ours) && known(theirs) && strcasecmp(ours, theirs) != 0;
}

static void
decide(struct join_decision *d, enum join_verdict v, const char *reason,
    int repeat, const char *invite_uri)
{
	d->verdict = v;
	d->reason = reason;
	d->repeat = repeat;
	d->invite_uri = invite_uri;
}

/*
 * A retransmit, or the same participant asked about twice: the answer
 * it had.  A rejection's first reason is not kept, so a repeated one
 * says only that it was rejected before.  An invitation goes to where
 * the policy invites now; with nowhere left to send it, busy.
 */
static void
decide_again(const struct group_policy *pol, uint8_t kind,
    struct join_decision *d)
{
	switch (kind) {
	case MEMBER_ACCEPTED:
		decide(d, JOIN_ACCEPT, "capacity", 1, NULL);
		break;
	case MEMBER_INVITED:
		if (known(pol->invite_uri))
			decide(d, JOIN_INVITE_NEW_BOT, "overflow_invite", 1,
			    pol->invite_uri);
		else
			decide(d, JOIN_REJECT_BUSY, "capacity_full", 1, NULL);
		break;
	case MEMBER_FORBIDDEN:
		decide(d, JOIN_REJECT_FORBIDDEN, "forbidden_before", 1, NULL);
		break;
	case MEMBER_REJECTED:
	default:
		decide(d, JOIN_REJECT_BUSY, "rejected_before", 1, NULL);
		break;
	}
}

static void
decide_new(const struct recorder_group *g, const struct group_policy *pol,
    const char *tenant, const char *policy, int leg_live,
    struct join_decision *d)
{
	if (!allowed(pol->tenants, tenant))
		decide(d, JOIN_REJECT_FORBIDDEN, "tenant_not_allowed", 0, NULL);
	else if (!allowed(pol->policies, policy))
		decide(d, JOIN_REJECT_FORBIDDEN, "policy_not_allowed", 0, NULL);
	else if (differs(g->tenant, tenant) || differs(g->policy, policy))
		decide(d, JOIN_REJECT_FORBIDDEN, "other_group", 0, NULL);
	else if (pol->draining)
		decide(d, JOIN_REJECT_BUSY, "draining", 0, NULL);
	else if (!leg_live)
		decide(d, JOIN_REJECT_BUSY, "leg_ended", 0, NULL);
	else if (g->used < g->capacity)
		decide(d, JOIN_ACCEPT, "capacity", 0, NULL);
	else if (known(pol->invite_uri))
		decide(d, JOIN_INVITE_NEW_BOT, "overflow_invite", 0,
		    pol->invite_uri);
	else
		decide(d, JOIN_REJECT_BUSY, "capacity_full", 0, NULL);
}

/* At pos, with room reserved. */
static void
insert(struct recorder_group *g, size_t pos, uint64_t hash, uint8_t kind)
{
	memmove(&g->m[pos + 1], &g->m[pos], (g->n - pos) * sizeof(g->m[0]));
	/* Whole entries, padding too: export hands them to storage. */
	memset(&g->m[pos], 0, sizeof(g->m[pos]));
	g->m[pos].hash = hash;
	g->m[pos].kind = kind;
	g->n++;
	if (kind == MEMBER_ACCEPTED)
		g->used++;
}

static struct recorder_group *
group_alloc(const char *tenant, const char *policy, uint32_t capacity,
    const unsigned char *key)
{
	struct recorder_group	*g;

	if (capacity == 0 || capacity > GROUP_MAX_CAPACITY || key == NULL)
		return NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((tenant != NULL && (g->tenant = strdup(tenant)) == NULL) ||
	    (policy != NULL && (g->policy = strdup(policy)) == NULL)) {
		group_free(g);
		return NULL;
	}
	g->capacity = capacity;
	memcpy(g->key, key, sizeof(g->key));
	return g;
}

struct recorder_group *
group_new(const char *tenant, const char *policy, uint32_t capacity,
    const char *first_participant_id, const unsigned char key[GROUP_KEYBYTES])
{
	struct recorder_group	*g;

	if ((g = group_alloc(tenant, policy, capacity, key)) == NULL)
		return NULL;
	if (known(first_participant_id)) {
		if (reserve(g, 1) == -1) {
			group_free(g);
			return NULL;
		}
		insert(g, 0, idhash(first_participant_id, g->key),
		    MEMBER_ACCEPTED);
	}
	return g;
}

void
group_free(struct recorder_group *g)
{
	if (g == NULL)
		return;
	sodium_memzero(g->key, sizeof(g->key));
	free(g->tenant);
	free(g->policy);
	free(g->m);
	free(g);
}

int
group_join(struct recorder_group *g, const struct group_policy *pol,
    const char *participant_id, const char *tenant, const char *policy,
    int leg_live, struct join_decision *d)
{
	uint64_t	 hash;
	size_t		 pos;
	uint8_t		 kind;

	if (d == NULL)
		return -1;
	if (g == NULL || pol == NULL || !known(participant_id)) {
		decide(d, JOIN_REJECT_BUSY, "participant_unknown", 0, NULL);
		return -1;
	}
	hash = idhash(participant_id, g->key);
	if (find(g, hash, &pos)) {
		decide_again(pol, g->m[pos].kind, d);
		return 0;
	}

	decide_new(g, pol, tenant, policy, leg_live, d);
	switch (d->verdict) {
	case JOIN_ACCEPT:
		kind = MEMBER_ACCEPTED;
		break;
	case JOIN_REJECT_FORBIDDEN:
		kind = MEMBER_FORBIDDEN;
		break;
	case JOIN_INVITE_NEW_BOT:
		kind = MEMBER_INVITED;
		break;
	default:
		kind = MEMBER_REJECTED;
		break;
	}
	/*
	 * An answer not remembered would change on retransmit, so a join
	 * that cannot be remembered is refused instead of answered.
	 */
	if (kind != MEMBER_ACCEPTED && g->n - g->used >= GROUP_MAX_REMEMBERED) {
		decide(d, JOIN_REJECT_BUSY, "too_many_participants", 0, NULL);
		return -1;
	}
	if (reserve(g, g->n + 1) == -1) {
		decide(d, JOIN_REJECT_BUSY, "no_memory", 0, NULL);
		return -1;
	}
	insert(g, pos, hash, kind);
	return 0;
}

/*
 * Every decision is forgotten, not only a slot freed: a participant who
 * left and comes back is a new join (there may be room now), and the
 * remembered set does not fill with people long gone.
 */
int
group_leave(struct recorder_group *g, const char *participant_id)
{
	if (g == NULL || !known(participant_id))
		return 0;
	return group_leave_hash(g, idhash(participant_id, g->key));
}

int
group_leave_hash(struct recorder_group *g, uint64_t hash)
{
	size_t	 pos;
	int	 held;

	if (g == NULL || !find(g, hash, &pos))
		return 0;
	held = g->m[pos].kind == MEMBER_ACCEPTED;
	if (held)
		g->used--;
	memmove(&g->m[pos], &g->m[pos + 1],
	    (g->n - pos - 1) * sizeof(g->m[0]));
	g->n--;
	return held;
}

uint32_t
group_used(const struct recorder_group *g)
{
	return g == NULL ? 0 : g->used;
}

uint32_t
group_capacity(const struct recorder_group *g)
{
	return g == NULL ? 0 : g->capacity;
}

const char *
group_tenant(const struct recorder_group *g)
{
	return g == NULL ? NULL : g->tenant;
}

const char *
group_policy(const struct recorder_group *g)
{
	return g == NULL ? NULL : g->policy;
}

char *
group_response_body(const struct join_decision *d)
{
	cJSON		*o;
	const char	*type;
	char		*text = NULL;

	if (d == NULL)
		return NULL;
	switch (d->verdict) {
	case JOIN_ACCEPT:
		type = "#microsoft.graph.acceptJoinResponse";
		break;
	case JOIN_REJECT_BUSY:
	case JOIN_REJECT_FORBIDDEN:
		type = "#microsoft.graph.rejectJoinResponse";
		break;
	case JOIN_INVITE_NEW_BOT:
		if (!known(d->invite_uri))
			return NULL;
		type = "#microsoft.graph.inviteNewBotResponse";
		break;
	default:
		return NULL;
	}
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "@odata.type", type) == NULL)
		goto done;
	if (d->verdict == JOIN_REJECT_BUSY &&
	    cJSON_AddStringToObject(o, "reason", "busy") == NULL)
		goto done;
	if (d->verdict == JOIN_REJECT_FORBIDDEN &&
	    cJSON_AddStringToObject(o, "reason", "forbidden") == NULL)
		goto done;
	if (d->verdict == JOIN_INVITE_NEW_BOT &&
	    cJSON_AddStringToObject(o, "inviteUri", d->invite_uri) == NULL)
		goto done;
	text = cJSON_PrintUnformatted(o);
 done:
	cJSON_Delete(o);
	return text;
}

/* Always a malloc'd array on success, even of no members. */
int
group_export(const struct recorder_group *g, struct group_member **out,
    size_t *n)
{
	struct group_member	*m;
	size_t			 i;

	if (g == NULL || out == NULL || n == NULL)
		return -1;
	if ((m = reallocarray(NULL, g->n > 0 ? g->n : 1, sizeof(*m))) == NULL)
		return -1;
	memset(m, 0, (g->n > 0 ? g->n : 1) * sizeof(*m));
	for (i = 0; i < g->n; i++) {
		m[i].hash = g->m[i].hash;
		m[i].kind = g->m[i].kind;
	}
	*out = m;
	*n = g->n;
	return 0;
}

_Static_assert(offsetof(struct group_member, hash) == 0 &&
    offsetof(struct group_member, kind) == sizeof(uint64_t),
    "members pack as hash then kind");

int
group_pack(const struct recorder_group *g, unsigned char **out,
    size_t *len)
{
	if (g == NULL)
		return -1;
	return idhash_pack(g->m, g->n, sizeof(*g->m), out, len);
}

struct recorder_group *
group_unpack(const char *tenant, const char *policy, uint32_t capacity,
    const unsigned char *buf, size_t len,
    const unsigned char key[GROUP_KEYBYTES])
{
	struct recorder_group	*g;
	struct group_member	*m = NULL;
	size_t			 n;

	if (idhash_unpack(buf, len, sizeof(*m), GROUP_MAX_MEMBERS, &m,
	    &n) == -1)
		return NULL;
	g = group_import(tenant, policy, capacity, m, n, key);
	free(m);
	return g;
}

static int
member_cmp(const void *a, const void *b)
{
	const struct group_member	*x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return 0;
}

/*
 * Members come from a database file that may be damaged or altered:
 * every entry is checked, and a group that could not have been built by
 * group_join is refused whole.
 */
struct recorder_group *
group_import(const char *tenant, const char *policy, uint32_t capacity,
    const struct group_member *m, size_t n,
    const unsigned char key[GROUP_KEYBYTES])
{
	struct recorder_group	*g;
	size_t			 i, accepted = 0;

	if (m == NULL && n > 0)
		return NULL;
	if (capacity == 0 || capacity > GROUP_MAX_CAPACITY ||
	    n > (size_t)capacity + GROUP_MAX_REMEMBERED)
		return NULL;
	if ((g = group_alloc(tenant, policy, capacity, key)) == NULL)
		return NULL;
	if (n == 0)
		return g;
	if (reserve(g, n) == -1)
		goto fail;
	memset(g->m, 0, n * sizeof(g->m[0]));
	for (i = 0; i < n; i++) {
		if (m[i].kind < MEMBER_ACCEPTED || m[i].kind > MEMBER_FORBIDDEN)
			goto fail;
		if (m[i].kind == MEMBER_ACCEPTED)
			accepted++;
		g->m[i].hash = m[i].hash;
		g->m[i].kind = m[i].kind;
	}
	if (accepted > capacity || n - accepted > GROUP_MAX_REMEMBERED)
		goto fail;
	qsort(g->m, n, sizeof(g->m[0]), member_cmp);
	for (i = 1; i < n; i++)
		if (g->m[i - 1].hash == g->m[i].hash)
			goto fail;
	g->n = n;
	g->used = (uint32_t)accepted;
	return g;
 fail:
	group_free(g);
	return NULL;
}
