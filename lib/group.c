/* The recorder group of a call leg: who it records, and each join's answer. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
	uint32_t		 used;		/* slot holders in m */
	uint32_t		 unidentified;	/* MEMBER_UNIDENTIFIED in m */
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
static int	 holds(uint8_t);
static void	 decide(struct join_decision *, enum join_verdict,
		    const char *, int, const char *);
static void	 unplaced(struct join_decision *, const struct group_policy *,
		    const char *);
static int	 unidentified_hash(const struct recorder_group *, uint64_t *,
		    size_t *);
static void	 decide_again(const struct group_policy *, uint8_t,
		    struct join_decision *);
static void	 decide_new(const struct recorder_group *,
		    const struct group_policy *, const char *, const char *,
		    int, struct join_decision *);
static void	 insert(struct recorder_group *, size_t, uint64_t, uint8_t);
static struct recorder_group *group_alloc(const char *, const char *,
		    uint32_t, const unsigned char *);
static int	 member_cmp(const void *, const void *);
static int	 same_member(const struct group_pending_entry *,
		    const struct group_pending_entry *);
static void	 pending_remove(struct group_pending *, size_t);

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

/* The members that take a slot of the group. */
static int
holds(uint8_t kind)
{
	return kind == MEMBER_ACCEPTED || kind == MEMBER_UNIDENTIFIED;
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
 * A join this group cannot take: a rejection would keep the person out
 * of the meeting, so it is sent where a fresh invitation is answered
 * (inviteNewBotResponse; UNCONFIRMED beyond the documentation's one
 * sentence, graph-protocol.md 7.1), and rejected busy only when there
 * is no such place.
 */
static void
unplaced(struct join_decision *d, const struct group_policy *pol,
    const char *reason)
{
	if (known(pol->invite_uri))
		decide(d, JOIN_INVITE_NEW_BOT, reason, 0, pol->invite_uri);
	else
		decide(d, JOIN_REJECT_BUSY, reason, 0, NULL);
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
	case MEMBER_UNIDENTIFIED:	/* a hash collision, no more */
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
	/*
	 * Allowed, but not this group's: a fresh invitation gets a leg of
	 * its own tenant and policy.
	 */
	else if (differs(g->tenant, tenant) || differs(g->policy, policy))
		unplaced(d, pol, "other_group");
	else if (pol->draining)
		unplaced(d, pol, "draining");
	else if (!leg_live)
		unplaced(d, pol, "leg_ended");
	else if (g->used < g->capacity)
		decide(d, JOIN_ACCEPT, "capacity", 0, NULL);
	else
		unplaced(d, pol, known(pol->invite_uri) ? "overflow_invite" :
		    "capacity_full");
}

/*
 * A member for a join that named no one: a hash no participant id has
 * in practice (ids are printable, this one starts with a control
 * character), unique in the group.  0 if none could be found.
 */
static int
unidentified_hash(const struct recorder_group *g, uint64_t *hash,
    size_t *pos)
{
	char		 name[48];
	uint32_t	 i;

	for (i = 0; i <= GROUP_MAX_MEMBERS; i++) {
		snprintf(name, sizeof(name), "\001unidentified %u",
		    g->unidentified + i);
		*hash = idhash(name, g->key);
		if (!find(g, *hash, pos))
			return 1;
	}
	return 0;
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
	if (holds(kind))
		g->used++;
	if (kind == MEMBER_UNIDENTIFIED)
		g->unidentified++;
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
	uint64_t	 hash = 0;
	size_t		 pos;
	uint8_t		 kind;
	int		 anon;

	if (d == NULL)
		return -1;
	memset(d, 0, sizeof(*d));
	if (g == NULL || pol == NULL) {
		decide(d, JOIN_REJECT_BUSY, "no_group", 0, NULL);
		return -1;
	}
	anon = !known(participant_id);
	d->unidentified = anon;
	if (!anon) {
		hash = idhash(participant_id, g->key);
		if (find(g, hash, &pos)) {
			decide_again(pol, g->m[pos].kind, d);
			d->member = hash;
			return 0;
		}
	}

	decide_new(g, pol, tenant, policy, leg_live, d);
	switch (d->verdict) {
	case JOIN_ACCEPT:
		kind = anon ? MEMBER_UNIDENTIFIED : MEMBER_ACCEPTED;
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
	/* No one to recognise on a retransmit: nothing to remember. */
	if (anon && kind != MEMBER_UNIDENTIFIED)
		return 0;
	/*
	 * An answer not remembered would change on retransmit, so a join
	 * that cannot be remembered is refused instead of answered.
	 */
	if (!holds(kind) && g->n - g->used >= GROUP_MAX_REMEMBERED) {
		decide(d, JOIN_REJECT_BUSY, "too_many_participants", 0, NULL);
		return -1;
	}
	if ((anon && !unidentified_hash(g, &hash, &pos)) ||
	    reserve(g, g->n + 1) == -1) {
		decide(d, JOIN_REJECT_BUSY, "no_memory", 0, NULL);
		return -1;
	}
	insert(g, pos, hash, kind);
	d->added = 1;
	d->member = hash;
	return 0;
}

void
group_join_unplaced(const struct group_policy *pol, const char *tenant,
    const char *policy, const char *reason, struct join_decision *d)
{
	if (d == NULL)
		return;
	memset(d, 0, sizeof(*d));
	if (pol == NULL)
		decide(d, JOIN_REJECT_BUSY, reason, 0, NULL);
	else if (!allowed(pol->tenants, tenant))
		decide(d, JOIN_REJECT_FORBIDDEN, "tenant_not_allowed", 0, NULL);
	else if (!allowed(pol->policies, policy))
		decide(d, JOIN_REJECT_FORBIDDEN, "policy_not_allowed", 0, NULL);
	else
		unplaced(d, pol, reason);
}

/*
 * Every decision is forgotten, not only a slot freed: a participant who
 * left and comes back is a new join (there may be room now), and the
 * remembered set does not fill with people long gone.
 */
int
group_leave(struct recorder_group *g, const char *participant_id)
{
	size_t	 pos, i;

	if (g == NULL || !known(participant_id))
		return 0;
	if (find(g, idhash(participant_id, g->key), &pos) ||
	    g->unidentified == 0)
		return group_leave_hash(g, idhash(participant_id, g->key));
	/* One of those who joined unnamed: any one, they are alike. */
	for (i = 0; i < g->n; i++)
		if (g->m[i].kind == MEMBER_UNIDENTIFIED)
			return group_leave_hash(g, g->m[i].hash);
	return 0;
}

int
group_leave_hash(struct recorder_group *g, uint64_t hash)
{
	size_t	 pos;
	int	 held;

	if (g == NULL || !find(g, hash, &pos))
		return 0;
	held = holds(g->m[pos].kind);
	if (held)
		g->used--;
	if (g->m[pos].kind == MEMBER_UNIDENTIFIED)
		g->unidentified--;
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
	size_t			 i, accepted = 0, anon = 0;

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
		if (m[i].kind < MEMBER_ACCEPTED ||
		    m[i].kind > MEMBER_UNIDENTIFIED)
			goto fail;
		if (holds(m[i].kind))
			accepted++;
		if (m[i].kind == MEMBER_UNIDENTIFIED)
			anon++;
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
	g->unidentified = (uint32_t)anon;
	return g;
 fail:
	group_free(g);
	return NULL;
}

void
group_pending_init(struct group_pending *p)
{
	if (p != NULL)
		memset(p, 0, sizeof(*p));
}

static int
same_member(const struct group_pending_entry *a,
    const struct group_pending_entry *b)
{
	return a->member == b->member && strcmp(a->leg, b->leg) == 0;
}

static void
pending_remove(struct group_pending *p, size_t i)
{
	memmove(&p->e[i], &p->e[i + 1], (p->n - i - 1) * sizeof(p->e[0]));
	p->n--;
}

int
group_pending_note(struct group_pending *p, uint64_t request,
    const char *leg, const struct join_decision *d)
{
	struct group_pending_entry	*e;
	size_t				 i;
	int				 pending = 0;

	if (p == NULL || leg == NULL || d == NULL || request == 0 ||
	    strlen(leg) >= sizeof(p->e[0].leg))
		return 0;
	if (!d->added && !d->repeat)
		return 0;
	for (i = 0; i < p->n && !pending; i++)
		pending = p->e[i].member == d->member &&
		    strcmp(p->e[i].leg, leg) == 0;
	/* A repeat of an admission already answered: nothing to undo. */
	if (!d->added && !pending)
		return 0;
	if (p->n == GROUP_PENDING_MAX) {
		pending_remove(p, 0);
		p->forgotten++;
	}
	e = &p->e[p->n++];
	memset(e, 0, sizeof(*e));
	e->request = request;
	e->member = d->member;
	memcpy(e->leg, leg, strlen(leg) + 1);
	return 1;
}

/* Answered once is answered: every note of those admissions goes. */
void
group_pending_done(struct group_pending *p, uint64_t request)
{
	struct group_pending_entry	 done;
	size_t				 i, j;

	if (p == NULL || request == 0)
		return;
	for (i = 0; i < p->n; ) {
		if (p->e[i].request != request) {
			i++;
			continue;
		}
		done = p->e[i];
		for (j = p->n; j-- > 0; )
			if (same_member(&p->e[j], &done))
				pending_remove(p, j);
		i = 0;
	}
}

size_t
group_pending_drop(struct group_pending *p, uint64_t request,
    void (*undo)(const char *, uint64_t, void *), void *arg)
{
	struct group_pending_entry	 gone;
	size_t				 i, j, n = 0;
	int				 other;

	if (p == NULL || request == 0)
		return 0;
	for (i = 0; i < p->n; ) {
		if (p->e[i].request != request) {
			i++;
			continue;
		}
		gone = p->e[i];
		pending_remove(p, i);
		for (j = 0, other = 0; j < p->n && !other; j++)
			other = same_member(&p->e[j], &gone);
		if (other)
			continue;
		n++;
		if (undo != NULL)
			undo(gone.leg, gone.member, arg);
	}
	return n;
}
