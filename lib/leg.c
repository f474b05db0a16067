/* A call leg's monotonic state machine and its roster of hashed ids. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "idhash.h"
#include "leg.h"

#define ROSTER_MIN_CAP	16
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

_Static_assert(ROSTER_KEYBYTES == crypto_shorthash_KEYBYTES,
    "roster key is a SipHash-2-4 key");
_Static_assert(crypto_shorthash_BYTES == sizeof(uint64_t),
    "roster hashes are 64 bits");

/* One listed participant, reduced to what the roster keeps. */
struct roster_op {
	uint64_t	 hash;
	size_t		 order;		/* index in the batch */
	uint8_t		 recorder;
	uint8_t		 remove;
	uint8_t		 add;		/* an id not there yet */
};

static const char *const state_names[] = {
	"incoming", "answering", "establishing", "established",
	"terminating", "terminated",
};

static int	 find(const struct roster *, uint64_t, size_t *);
static int	 op_cmp(const void *, const void *);
static size_t	 ops_build(struct roster_op *, const struct participant *,
		    size_t, int, int, const unsigned char *);
static int	 reserve(struct roster *, size_t);
static int	 replace(struct roster *, const struct roster_op *, size_t);
static int	 merge(struct roster *, struct roster_op *, size_t);

const char *
leg_state_name(enum leg_state s)
{
	if ((size_t)s >= NELEM(state_names))
		return "unknown";
	return state_names[s];
}

enum leg_state
leg_next_state(enum leg_state cur, enum notif_change change,
    enum call_state cs, int *moved)
{
	enum leg_state	 to;

	if (change == NOTIF_CHANGE_DELETED || cs == CALL_STATE_TERMINATED)
		to = LEG_TERMINATED;
	else {
		switch (cs) {
		case CALL_STATE_ESTABLISHING:
			to = LEG_ESTABLISHING;
			break;
		case CALL_STATE_ESTABLISHED:
			to = LEG_ESTABLISHED;
			break;
		case CALL_STATE_HOLD:
		case CALL_STATE_TRANSFERRING:
		case CALL_STATE_TRANSFER_ACCEPTED:
		case CALL_STATE_REDIRECTING:
			/*
			 * The call is up, but only `established` says the
			 * leg was: before it, these are establishing (and
			 * recording does not start); after it, the leg
			 * stays established.
			 */
			to = LEG_ESTABLISHING;
			break;
		case CALL_STATE_TERMINATING:
			to = LEG_TERMINATING;
			break;
		default:
			to = cur;
			break;
		}
	}
	/* Notifications may arrive out of order: never go back. */
	if (to < cur)
		to = cur;
	if (moved != NULL)
		*moved = to != cur;
	return to;
}

/*
 * answering: the attempt was an answer (else a reject).  seen: how far
 * the leg got on its own notifications.  known: Graph has the call (not
 * a 404).
 */
enum leg_verdict
leg_verdict(int answering, enum leg_state seen, int known,
    enum call_state graph_state, uint64_t waited_us, uint64_t window_us)
{
	enum leg_state	 now;

	if (answering && seen >= LEG_ESTABLISHING && seen < LEG_TERMINATED)
		return LEG_VERDICT_ANSWERED;
	/*
	 * Graph no longer knows the call.  An answer that took would have
	 * shown the call up first: missed.  A reject that went out (the
	 * leg got as far as answering) may have ended it, or the call
	 * ended on its own: over, without the bot, by which is unknown.
	 */
	if (!known)
		return !answering && seen >= LEG_ANSWERING ?
		    LEG_VERDICT_ENDED : LEG_VERDICT_MISSED;
	now = leg_next_state(LEG_INCOMING, NOTIF_CHANGE_UPDATED, graph_state,
	    NULL);
	switch (now) {
	case LEG_ESTABLISHING:
	case LEG_ESTABLISHED:
	case LEG_TERMINATING:
		/* Up: only an answer puts the bot in the call. */
		return answering ? LEG_VERDICT_ANSWERED : LEG_VERDICT_MISSED;
	case LEG_TERMINATED:
		/* Ended before it was up: by the reject, or on its own; an
		 * answer that Graph took would have shown establishing. */
		return answering ? LEG_VERDICT_MISSED : LEG_VERDICT_ENDED;
	default:
		break;
	}
	return waited_us < window_us ? LEG_VERDICT_RECHECK :
	    LEG_VERDICT_MISSED;
}

const char *
leg_verdict_name(enum leg_verdict v)
{
	switch (v) {
	case LEG_VERDICT_ANSWERED:
		return "answered";
	case LEG_VERDICT_ENDED:
		return "ended";
	case LEG_VERDICT_MISSED:
		return "missed";
	case LEG_VERDICT_RECHECK:
		return "recheck";
	}
	return "unknown";
}

void
roster_init(struct roster *r)
{
	memset(r, 0, sizeof(*r));
	r->sequence = -1;
}

void
roster_free(struct roster *r)
{
	if (r == NULL)
		return;
	free(r->m);
	roster_init(r);
}

int
roster_is_recorder_kind(const char *kind)
{
	return kind != NULL && (strcasecmp(kind, "application") == 0 ||
	    strcasecmp(kind, "applicationInstance") == 0);
}

/* 1 and its index if hash is a member, else 0 and where it would go. */
static int
find(const struct roster *r, uint64_t hash, size_t *pos)
{
	return idhash_find(r->m, r->n, sizeof(*r->m), hash, pos);
}

static int
op_cmp(const void *a, const void *b)
{
	const struct roster_op	*x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return 0;
}

/*
 * The participants as sorted operations, one per id: when an id is
 * listed twice the later entry wins, as it would applied in order.
 */
static size_t
ops_build(struct roster_op *ops, const struct participant *p, size_t n,
    int full, int deleted, const unsigned char *key)
{
	size_t	 i, k = 0, w;

	for (i = 0; i < n; i++) {
		if (p[i].id == NULL)
			continue;
		/* A full roster simply leaves out whoever was removed. */
		if (full && p[i].removed)
			continue;
		ops[k].hash = idhash(p[i].id, key);
		ops[k].order = i;
		ops[k].recorder = (uint8_t)roster_is_recorder_kind(
		    p[i].info.identity.kind);
		ops[k].remove = deleted || p[i].removed;
		ops[k].add = 0;
		k++;
	}
	if (k == 0)
		return 0;
	qsort(ops, k, sizeof(*ops), op_cmp);
	for (i = 1, w = 0; i < k; i++) {
		if (ops[i].hash != ops[w].hash)
			w++;
		ops[w] = ops[i];
	}
	return w + 1;
}

/* Room for want members, doubling; the roster is unchanged on failure. */
static int
reserve(struct roster *r, size_t want)
{
	size_t	 cap = r->cap;

	if (idhash_grow(&r->m, &cap, sizeof(*r->m), want, ROSTER_MIN_CAP,
	    ROSTER_MAX) == -1)
		return -1;
	r->cap = (uint32_t)cap;
	return 0;
}

/* A full roster: built aside and swapped in, so failure changes nothing. */
static int
replace(struct roster *r, const struct roster_op *ops, size_t k)
{
	struct roster	 nr;
	size_t		 i;

	if (k > ROSTER_MAX)
		return -1;
	roster_init(&nr);
	if (reserve(&nr, k) == -1)
		return -1;
	for (i = 0; i < k; i++) {
		nr.m[i].id_hash = ops[i].hash;
		nr.m[i].recorder = ops[i].recorder;
		if (!ops[i].recorder)
			nr.humans++;
	}
	free(r->m);
	r->m = nr.m;
	r->n = (uint32_t)k;
	r->cap = nr.cap;
	r->humans = nr.humans;
	return 0;
}

/*
 * A delta.  Everything that can fail (the size limit, growing the
 * array) is settled before the first member changes.  Then one forward
 * pass updates and removes in place and one backward pass merges the
 * new ids in: linear in the roster, however many ids the delta lists.
 */
static int
merge(struct roster *r, struct roster_op *ops, size_t k)
{
	size_t	 i, j, w, pos, adds = 0, dels = 0, src, dst, final;
	int	 present;

	for (j = 0; j < k; j++) {
		present = find(r, ops[j].hash, &pos);
		if (ops[j].remove)
			dels += present;
		else if (!present) {
			ops[j].add = 1;
			adds++;
		}
	}
	final = r->n - dels + adds;
	if (final > ROSTER_MAX || reserve(r, final) == -1)
		return -1;

	for (i = 0, j = 0, w = 0; i < r->n; i++) {
		while (j < k && ops[j].hash < r->m[i].id_hash)
			j++;
		if (j < k && ops[j].hash == r->m[i].id_hash) {
			if (!r->m[i].recorder)
				r->humans--;
			if (ops[j].remove)
				continue;
			r->m[i].recorder = ops[j].recorder;
			if (!r->m[i].recorder)
				r->humans++;
		}
		r->m[w++] = r->m[i];
	}
	r->n = (uint32_t)w;

	src = r->n;
	dst = r->n + adds;
	for (j = k; j > 0; j--) {
		if (!ops[j - 1].add)
			continue;
		while (src > 0 && r->m[src - 1].id_hash > ops[j - 1].hash)
			r->m[--dst] = r->m[--src];
		dst--;
		r->m[dst].id_hash = ops[j - 1].hash;
		r->m[dst].recorder = ops[j - 1].recorder;
		if (!ops[j - 1].recorder)
			r->humans++;
	}
	r->n = (uint32_t)final;
	return 0;
}

int
roster_apply(struct roster *r, const struct participant *p, size_t n,
    enum notif_change change, int delta, long long sequence,
    const unsigned char key[ROSTER_KEYBYTES])
{
	struct roster_op	*ops = NULL;
	long long		 seq = sequence;
	size_t			 i, k = 0;
	int			 full, deleted, rv;

	if (r == NULL || key == NULL || (p == NULL && n > 0))
		return -1;
	if (seq < 0)
		for (i = 0; i < n; i++)
			if (p[i].roster_sequence > seq)
				seq = p[i].roster_sequence;
	if (seq >= 0 && r->sequence >= 0 && seq <= r->sequence)
		return 0;

	/*
	 * A deleted notification lists who went, in either mode: taken as
	 * a full roster it would install exactly the people who left.
	 */
	deleted = change == NOTIF_CHANGE_DELETED;
	full = !delta && sequence < 0 && !deleted;
	if (n > 0) {
		if ((ops = reallocarray(NULL, n, sizeof(*ops))) == NULL)
			return -1;
		k = ops_build(ops, p, n, full, deleted, key);
	}
	rv = full ? replace(r, ops, k) : merge(r, ops, k);
	free(ops);
	if (rv == -1)
		return -1;
	if (seq > r->sequence)
		r->sequence = seq;
	r->seen = 1;
	return 1;
}

int
roster_remove(struct roster *r, const char *participant_id,
    const unsigned char key[ROSTER_KEYBYTES])
{
	size_t	 pos;

	if (r == NULL || participant_id == NULL || key == NULL ||
	    !find(r, idhash(participant_id, key), &pos))
		return 0;
	if (!r->m[pos].recorder)
		r->humans--;
	memmove(&r->m[pos], &r->m[pos + 1],
	    (r->n - pos - 1) * sizeof(r->m[0]));
	r->n--;
	return 1;
}

int
roster_has(const struct roster *r, const char *participant_id,
    const unsigned char key[ROSTER_KEYBYTES])
{
	size_t	 pos;

	if (r == NULL || participant_id == NULL || key == NULL)
		return 0;
	return find(r, idhash(participant_id, key), &pos);
}

int
roster_only_recorders(const struct roster *r)
{
	return r != NULL && r->seen && r->humans == 0;
}

_Static_assert(offsetof(struct roster_member, id_hash) == 0 &&
    offsetof(struct roster_member, recorder) == sizeof(uint64_t),
    "roster members pack as hash then recorder flag");

int
roster_pack(const struct roster *r, unsigned char **out, size_t *len)
{
	if (r == NULL)
		return -1;
	return idhash_pack(r->m, r->n, sizeof(*r->m), out, len);
}

int
roster_unpack(struct roster *r, const unsigned char *buf, size_t len,
    long long sequence, int seen)
{
	struct roster_member	*m = NULL;
	size_t			 n, i, humans = 0;

	if (r == NULL)
		return -1;
	if (idhash_unpack(buf, len, sizeof(*m), ROSTER_MAX, &m, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (m[i].recorder > 1) {
			free(m);
			return -1;
		}
		humans += !m[i].recorder;
	}
	roster_free(r);
	r->m = m;
	r->n = r->cap = (uint32_t)n;
	r->humans = (uint32_t)humans;
	r->sequence = sequence < -1 ? -1 : sequence;
	r->seen = seen != 0;
	return 0;
}

void
roster_gone(const struct roster_member *before, size_t n,
    const struct roster *now, void (*cb)(uint64_t, void *), void *arg)
{
	size_t	 i, j = 0;

	/* Both sorted by hash: one merge walk. */
	for (i = 0; i < n; i++) {
		while (j < now->n && now->m[j].id_hash < before[i].id_hash)
			j++;
		if (j == now->n || now->m[j].id_hash != before[i].id_hash)
			cb(before[i].id_hash, arg);
	}
}
