/* Unit tests for the call leg state machine and roster (lib/leg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "idhash.h"
#include "leg.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define IDLEN		16

static const unsigned char key[ROSTER_KEYBYTES] = {
	0x70, 0x6f, 0x6c, 0x72, 0x65, 0x63, 0x20, 0x72,
	0x6f, 0x73, 0x74, 0x65, 0x72, 0x20, 0x6b, 0x79,
};

/*
 * Allocation failure injection.  leg.c allocates only with
 * reallocarray(3); this definition takes the place of libc's in this
 * program.  budget < 0: never fail; otherwise that many more succeed.
 */
static long	 alloc_budget = -1;

void *
reallocarray(void *p, size_t n, size_t size)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return realloc(p, n * size);
}

/* A roster notification's participants, with ids stored alongside. */
struct plist {
	struct participant	*p;
	char			(*ids)[IDLEN];
	size_t			 n, cap;
};

/* A copy of a roster, to prove a failed apply left it alone. */
struct snapshot {
	struct roster_member	*m;
	uint32_t		 n, humans;
	long long		 sequence;
	int			 seen;
};

struct scase {
	enum leg_state	 cur;
	enum notif_change change;
	enum call_state	 state;
	enum leg_state	 want;
	int		 moved;
};

static void	 pl_add(struct plist *, const char *, const char *, int,
		    long long);
static void	 pl_reset(struct plist *);
static void	 pl_free(struct plist *);
static int	 apply(struct roster *, struct plist *, enum notif_change,
		    int, long long);
static void	 snap(struct snapshot *, const struct roster *);
static void	 same(const struct snapshot *, const struct roster *);
static void	 check_sorted(const struct roster *);
static uint32_t	 lcg(uint32_t *);
static void	 put_member(unsigned char *, uint64_t, uint8_t);
static void	 on_gone(uint64_t, void *);

static void
pl_add(struct plist *pl, const char *id, const char *kind, int removed,
    long long seq)
{
	struct participant	*p;
	size_t			 i;

	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 8;
		pl->p = realloc(pl->p, pl->cap * sizeof(*pl->p));
		pl->ids = realloc(pl->ids, pl->cap * sizeof(*pl->ids));
		assert_non_null(pl->p);
		assert_non_null(pl->ids);
		/* Moved: point the ids at their new home. */
		for (i = 0; i < pl->n; i++)
			if (pl->p[i].id != NULL)
				pl->p[i].id = pl->ids[i];
	}
	p = &pl->p[pl->n];
	memset(p, 0, sizeof(*p));
	if (id != NULL) {
		assert_true(strlen(id) < IDLEN);
		strcpy(pl->ids[pl->n], id);
		p->id = pl->ids[pl->n];
	}
	p->info.identity.kind = kind;
	p->removed = removed;
	p->roster_sequence = seq;
	pl->n++;
}

static void
pl_reset(struct plist *pl)
{
	pl->n = 0;
}

static void
pl_free(struct plist *pl)
{
	free(pl->p);
	free(pl->ids);
	memset(pl, 0, sizeof(*pl));
}

static int
apply(struct roster *r, struct plist *pl, enum notif_change change,
    int delta, long long seq)
{
	int	 rv;

	rv = roster_apply(r, pl->p, pl->n, change, delta, seq, key);
	pl_reset(pl);
	if (rv == 1)
		check_sorted(r);
	return rv;
}

static void
snap(struct snapshot *s, const struct roster *r)
{
	s->m = malloc((r->n + 1) * sizeof(*s->m));
	assert_non_null(s->m);
	if (r->n > 0)
		memcpy(s->m, r->m, r->n * sizeof(*s->m));
	s->n = r->n;
	s->humans = r->humans;
	s->sequence = r->sequence;
	s->seen = r->seen;
}

static void
same(const struct snapshot *s, const struct roster *r)
{
	uint32_t	 i;

	assert_int_equal(r->n, s->n);
	assert_int_equal(r->humans, s->humans);
	assert_int_equal(r->sequence, s->sequence);
	assert_int_equal(r->seen, s->seen);
	for (i = 0; i < s->n; i++) {
		assert_true(r->m[i].id_hash == s->m[i].id_hash);
		assert_int_equal(r->m[i].recorder, s->m[i].recorder);
	}
	free(s->m);
}

/* Sorted, unique, within capacity, and humans counted right. */
static void
check_sorted(const struct roster *r)
{
	uint32_t	 i, humans = 0;

	assert_true(r->n <= r->cap);
	assert_true(r->n <= ROSTER_MAX);
	for (i = 0; i < r->n; i++) {
		if (i > 0)
			assert_true(r->m[i - 1].id_hash < r->m[i].id_hash);
		if (!r->m[i].recorder)
			humans++;
	}
	assert_int_equal(humans, r->humans);
}

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
test_state_table(void **state)
{
	static const struct scase cases[] = {
		/* Forward, one step or several. */
		{ LEG_INCOMING, NOTIF_CHANGE_UPDATED, CALL_STATE_ESTABLISHING,
		    LEG_ESTABLISHING, 1 },
		{ LEG_ANSWERING, NOTIF_CHANGE_UPDATED, CALL_STATE_ESTABLISHING,
		    LEG_ESTABLISHING, 1 },
		{ LEG_ANSWERING, NOTIF_CHANGE_UPDATED, CALL_STATE_ESTABLISHED,
		    LEG_ESTABLISHED, 1 },
		{ LEG_ESTABLISHING, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_ESTABLISHED, LEG_ESTABLISHED, 1 },
		{ LEG_ESTABLISHED, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_TERMINATING, LEG_TERMINATING, 1 },
		{ LEG_TERMINATING, NOTIF_CHANGE_DELETED,
		    CALL_STATE_TERMINATED, LEG_TERMINATED, 1 },
		{ LEG_ANSWERING, NOTIF_CHANGE_CREATED,
		    CALL_STATE_ESTABLISHED, LEG_ESTABLISHED, 1 },

		/* Late establishing after established: ignored. */
		{ LEG_ESTABLISHED, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_ESTABLISHING, LEG_ESTABLISHED, 0 },
		{ LEG_TERMINATING, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_ESTABLISHED, LEG_TERMINATING, 0 },
		{ LEG_TERMINATING, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_ESTABLISHING, LEG_TERMINATING, 0 },
		{ LEG_ESTABLISHED, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_ESTABLISHED, LEG_ESTABLISHED, 0 },

		/* Up, but established only once Graph says so. */
		{ LEG_ESTABLISHING, NOTIF_CHANGE_UPDATED, CALL_STATE_HOLD,
		    LEG_ESTABLISHING, 0 },
		{ LEG_ANSWERING, NOTIF_CHANGE_UPDATED, CALL_STATE_HOLD,
		    LEG_ESTABLISHING, 1 },
		{ LEG_ANSWERING, NOTIF_CHANGE_UPDATED, CALL_STATE_TRANSFERRING,
		    LEG_ESTABLISHING, 1 },
		{ LEG_ANSWERING, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_TRANSFER_ACCEPTED, LEG_ESTABLISHING, 1 },
		{ LEG_ESTABLISHING, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_REDIRECTING, LEG_ESTABLISHING, 0 },
		{ LEG_INCOMING, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_REDIRECTING, LEG_ESTABLISHING, 1 },
		/* Once established, they leave it established. */
		{ LEG_ESTABLISHED, NOTIF_CHANGE_UPDATED, CALL_STATE_HOLD,
		    LEG_ESTABLISHED, 0 },
		{ LEG_ESTABLISHED, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_TRANSFERRING, LEG_ESTABLISHED, 0 },
		{ LEG_ESTABLISHED, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_TRANSFER_ACCEPTED, LEG_ESTABLISHED, 0 },
		{ LEG_ESTABLISHED, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_REDIRECTING, LEG_ESTABLISHED, 0 },
		{ LEG_TERMINATING, NOTIF_CHANGE_UPDATED, CALL_STATE_HOLD,
		    LEG_TERMINATING, 0 },

		/* The end, with or without terminating first. */
		{ LEG_ESTABLISHED, NOTIF_CHANGE_DELETED, CALL_STATE_UNKNOWN,
		    LEG_TERMINATED, 1 },
		{ LEG_ESTABLISHED, NOTIF_CHANGE_DELETED,
		    CALL_STATE_ESTABLISHED, LEG_TERMINATED, 1 },
		{ LEG_ESTABLISHED, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_TERMINATED, LEG_TERMINATED, 1 },
		{ LEG_ANSWERING, NOTIF_CHANGE_DELETED, CALL_STATE_INCOMING,
		    LEG_TERMINATED, 1 },
		{ LEG_INCOMING, NOTIF_CHANGE_DELETED, CALL_STATE_TERMINATED,
		    LEG_TERMINATED, 1 },
		{ LEG_ESTABLISHING, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_TERMINATING, LEG_TERMINATING, 1 },

		/* Nothing moves a terminated leg. */
		{ LEG_TERMINATED, NOTIF_CHANGE_UPDATED,
		    CALL_STATE_ESTABLISHED, LEG_TERMINATED, 0 },
		{ LEG_TERMINATED, NOTIF_CHANGE_DELETED,
		    CALL_STATE_TERMINATED, LEG_TERMINATED, 0 },
		{ LEG_TERMINATED, NOTIF_CHANGE_CREATED, CALL_STATE_INCOMING,
		    LEG_TERMINATED, 0 },

		/* incoming and unknown do not move a leg. */
		{ LEG_INCOMING, NOTIF_CHANGE_CREATED, CALL_STATE_INCOMING,
		    LEG_INCOMING, 0 },
		{ LEG_ANSWERING, NOTIF_CHANGE_UPDATED, CALL_STATE_INCOMING,
		    LEG_ANSWERING, 0 },
		{ LEG_ESTABLISHED, NOTIF_CHANGE_UPDATED, CALL_STATE_INCOMING,
		    LEG_ESTABLISHED, 0 },
		{ LEG_ANSWERING, NOTIF_CHANGE_UPDATED, CALL_STATE_UNKNOWN,
		    LEG_ANSWERING, 0 },
		{ LEG_ESTABLISHING, NOTIF_CHANGE_UNKNOWN, CALL_STATE_UNKNOWN,
		    LEG_ESTABLISHING, 0 },
		{ LEG_ESTABLISHED, NOTIF_CHANGE_CREATED, CALL_STATE_UNKNOWN,
		    LEG_ESTABLISHED, 0 },
	};
	enum leg_state	 got;
	size_t		 i;
	int		 moved;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		moved = -1;
		got = leg_next_state(cases[i].cur, cases[i].change,
		    cases[i].state, &moved);
		if (got != cases[i].want || moved != cases[i].moved)
			fail_msg("case %zu: %s + %s %s gave %s (moved %d), "
			    "want %s (moved %d)", i,
			    leg_state_name(cases[i].cur),
			    notif_change_name(cases[i].change),
			    call_state_name(cases[i].state),
			    leg_state_name(got),
			    moved, leg_state_name(cases[i].want),
			    cases[i].moved);
		/* moved is optional. */
		assert_int_equal(leg_next_state(cases[i].cur, cases[i].change,
		    cases[i].state, NULL), cases[i].want);
	}
}

/* A whole call's notifications, out of order as Graph may send them. */
static void
test_state_sequence(void **state)
{
	static const struct {
		enum notif_change	 change;
		enum call_state		 state;
		enum leg_state		 want;
	} seq[] = {
		{ NOTIF_CHANGE_UPDATED, CALL_STATE_ESTABLISHED,
		    LEG_ESTABLISHED },
		{ NOTIF_CHANGE_UPDATED, CALL_STATE_ESTABLISHING,
		    LEG_ESTABLISHED },
		{ NOTIF_CHANGE_UPDATED, CALL_STATE_HOLD, LEG_ESTABLISHED },
		{ NOTIF_CHANGE_UPDATED, CALL_STATE_ESTABLISHED,
		    LEG_ESTABLISHED },
		{ NOTIF_CHANGE_DELETED, CALL_STATE_TERMINATED, LEG_TERMINATED },
		{ NOTIF_CHANGE_UPDATED, CALL_STATE_TERMINATING,
		    LEG_TERMINATED },
	};
	enum leg_state	 s = LEG_ANSWERING;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(seq); i++) {
		s = leg_next_state(s, seq[i].change, seq[i].state, NULL);
		assert_int_equal(s, seq[i].want);
	}
}

/* hold and transfer before established: the leg is not established. */
static void
test_state_hold_first(void **state)
{
	static const struct {
		enum call_state		 state;
		enum leg_state		 want;
	} seq[] = {
		{ CALL_STATE_HOLD, LEG_ESTABLISHING },
		{ CALL_STATE_TRANSFERRING, LEG_ESTABLISHING },
		{ CALL_STATE_TRANSFER_ACCEPTED, LEG_ESTABLISHING },
		{ CALL_STATE_REDIRECTING, LEG_ESTABLISHING },
		{ CALL_STATE_ESTABLISHING, LEG_ESTABLISHING },
		{ CALL_STATE_ESTABLISHED, LEG_ESTABLISHED },
		{ CALL_STATE_HOLD, LEG_ESTABLISHED },
		{ CALL_STATE_TRANSFERRING, LEG_ESTABLISHED },
	};
	enum leg_state	 s = LEG_ANSWERING;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(seq); i++) {
		s = leg_next_state(s, NOTIF_CHANGE_UPDATED, seq[i].state,
		    NULL);
		assert_int_equal(s, seq[i].want);
	}
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(leg_state_name(LEG_INCOMING), "incoming");
	assert_string_equal(leg_state_name(LEG_ANSWERING), "answering");
	assert_string_equal(leg_state_name(LEG_ESTABLISHING), "establishing");
	assert_string_equal(leg_state_name(LEG_ESTABLISHED), "established");
	assert_string_equal(leg_state_name(LEG_TERMINATING), "terminating");
	assert_string_equal(leg_state_name(LEG_TERMINATED), "terminated");
	assert_string_equal(leg_state_name((enum leg_state)6), "unknown");
	assert_string_equal(leg_state_name((enum leg_state)-1), "unknown");
}

static void
test_recorder_kind(void **state)
{
	static const struct {
		const char	*kind;
		int		 recorder;
	} cases[] = {
		{ "application", 1 }, { "applicationInstance", 1 },
		{ "APPLICATION", 1 }, { "applicationinstance", 1 },
		{ "user", 0 }, { "phone", 0 }, { "guest", 0 },
		{ "acsUser", 0 }, { "encrypted", 0 }, { "", 0 }, { NULL, 0 },
		{ "applications", 0 }, { "app", 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (roster_is_recorder_kind(cases[i].kind) != cases[i].recorder)
			fail_msg("%s: want %d", cases[i].kind ? cases[i].kind :
			    "(null)", cases[i].recorder);
}

static void
test_roster_full(void **state)
{
	struct roster	 r;
	struct plist	 pl;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.sequence, -1);
	assert_int_equal(r.seen, 0);

	pl_add(&pl, "alice", "user", 0, -1);
	pl_add(&pl, "bob", "phone", 0, -1);
	pl_add(&pl, "bot", "applicationInstance", 0, -1);
	pl_add(&pl, NULL, "user", 0, -1);		/* skipped */
	pl_add(&pl, "gone", "user", 1, -1);	/* removed: left out */
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.humans, 2);
	assert_int_equal(r.seen, 1);
	assert_int_equal(r.sequence, -1);
	assert_true(roster_has(&r, "alice", key));
	assert_true(roster_has(&r, "bob", key));
	assert_true(roster_has(&r, "bot", key));
	assert_false(roster_has(&r, "gone", key));
	assert_false(roster_has(&r, "carol", key));

	/* A full roster replaces: alice and bob are gone. */
	pl_add(&pl, "bot", "applicationInstance", 0, -1);
	pl_add(&pl, "carol", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.humans, 1);
	assert_false(roster_has(&r, "alice", key));
	assert_true(roster_has(&r, "carol", key));

	/* One id twice: one member, the later entry's kind. */
	pl_add(&pl, "dave", "user", 0, -1);
	pl_add(&pl, "dave", "application", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.humans, 0);

	/* An empty full roster: everyone left. */
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.humans, 0);
	assert_true(roster_only_recorders(&r));

	/* Ids are exact. */
	pl_add(&pl, "Alice", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_CREATED, 0, -1), 1);
	assert_true(roster_has(&r, "Alice", key));
	assert_false(roster_has(&r, "alice", key));

	/* Free, then use again. */
	roster_free(&r);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.seen, 0);
	assert_null(r.m);
	pl_add(&pl, "erin", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_true(roster_has(&r, "erin", key));
	roster_free(&r);
	roster_free(&r);
	roster_free(NULL);
	pl_free(&pl);
}

static void
test_roster_delta(void **state)
{
	struct roster	 r;
	struct plist	 pl;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	pl_add(&pl, "alice", "user", 0, -1);
	pl_add(&pl, "bot", "application", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.humans, 1);

	/* A delta adds without dropping those it does not list. */
	pl_add(&pl, "bob", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_CREATED, 1, -1), 1);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.humans, 2);
	assert_true(roster_has(&r, "alice", key));

	/* An update may change what a member is. */
	pl_add(&pl, "bob", "applicationInstance", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.humans, 1);
	pl_add(&pl, "bob", NULL, 0, -1);	/* no identity: a person */
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_int_equal(r.humans, 2);

	/* removedState removes; so does a deleted notification. */
	pl_add(&pl, "alice", "user", 1, -1);
	pl_add(&pl, "carol", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_int_equal(r.n, 3);
	assert_false(roster_has(&r, "alice", key));
	assert_true(roster_has(&r, "carol", key));
	assert_int_equal(r.humans, 2);
	pl_add(&pl, "carol", "user", 0, -1);
	pl_add(&pl, "nobody", "user", 0, -1);	/* not there: no change */
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_DELETED, 1, -1), 1);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.humans, 1);
	assert_false(roster_has(&r, "nobody", key));

	/* A deleted notification removes even in full-roster mode. */
	pl_add(&pl, "bob", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_DELETED, 0, -1), 1);
	assert_int_equal(r.n, 1);
	assert_true(roster_has(&r, "bot", key));
	assert_int_equal(r.humans, 0);

	/* Removed then re-added in one delta: the later entry wins. */
	pl_add(&pl, "dave", "user", 1, -1);
	pl_add(&pl, "dave", "user", 0, -1);
	pl_add(&pl, "erin", "user", 0, -1);
	pl_add(&pl, "erin", "user", 1, -1);
	pl_add(&pl, NULL, "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_true(roster_has(&r, "dave", key));
	assert_false(roster_has(&r, "erin", key));
	assert_int_equal(r.n, 2);
	assert_int_equal(r.humans, 1);

	/* participantLeft. */
	assert_int_equal(roster_remove(&r, "dave", key), 1);
	assert_int_equal(roster_remove(&r, "dave", key), 0);
	assert_int_equal(roster_remove(&r, NULL, key), 0);
	assert_int_equal(roster_remove(NULL, "bot", key), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.humans, 0);
	assert_false(roster_has(NULL, "bot", key));
	assert_false(roster_has(&r, NULL, key));

	/* An empty delta changes nothing but counts as seen. */
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_int_equal(r.n, 1);

	/* Bad arguments. */
	assert_int_equal(roster_apply(NULL, NULL, 0, NOTIF_CHANGE_UPDATED, 1,
	    -1, key), -1);
	assert_int_equal(roster_apply(&r, NULL, 3, NOTIF_CHANGE_UPDATED, 1,
	    -1, key), -1);
	roster_free(&r);
	pl_free(&pl);
}

static void
test_roster_sequence(void **state)
{
	struct roster	 r;
	struct plist	 pl;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	pl_add(&pl, "alice", "user", 0, 5);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 10), 1);
	/* The batch's number rules over the participants'. */
	assert_int_equal(r.sequence, 10);

	/* Not above the last applied: stale, ignored. */
	pl_add(&pl, "alice", "user", 1, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 10), 0);
	pl_add(&pl, "alice", "user", 1, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 9), 0);
	assert_true(roster_has(&r, "alice", key));
	assert_int_equal(r.sequence, 10);

	/* Without a batch number, the highest rosterSequenceNumber. */
	pl_add(&pl, "bob", "user", 0, 8);
	pl_add(&pl, "carol", "user", 0, 10);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 0);
	assert_false(roster_has(&r, "bob", key));
	pl_add(&pl, "bob", "user", 0, 8);
	pl_add(&pl, "carol", "user", 0, 11);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_true(roster_has(&r, "bob", key));
	assert_int_equal(r.sequence, 11);

	/* No number at all: cannot be judged stale; applied. */
	pl_add(&pl, "dave", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_int_equal(r.sequence, 11);
	assert_int_equal(r.n, 4);

	pl_add(&pl, "erin", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 12), 1);
	assert_int_equal(r.sequence, 12);
	assert_int_equal(r.n, 5);

	/* Out of order: 14 arrives before 13, and 13 is then dropped. */
	pl_add(&pl, "alice", "user", 1, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 14), 1);
	pl_add(&pl, "alice", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 13), 0);
	assert_false(roster_has(&r, "alice", key));

	/* A stale full roster is ignored too. */
	pl_add(&pl, "zed", "user", 0, 3);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 0);
	assert_int_equal(r.n, 4);

	/* A fresh roster starts from nothing: 0 is a real number. */
	roster_free(&r);
	pl_add(&pl, "alice", "user", 0, 0);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 0), 1);
	assert_int_equal(r.sequence, 0);
	pl_add(&pl, "alice", "user", 1, 0);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 0), 0);
	roster_free(&r);
	pl_free(&pl);
}

static void
test_only_recorders(void **state)
{
	struct roster	 r;
	struct plist	 pl;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	/* Nothing seen yet: not "only recorders". */
	assert_false(roster_only_recorders(&r));
	assert_false(roster_only_recorders(NULL));

	/* The bot alone. */
	pl_add(&pl, "bot", "applicationInstance", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_true(roster_only_recorders(&r));

	/* The bot and its paired recorder. */
	pl_add(&pl, "bot", "applicationInstance", 0, -1);
	pl_add(&pl, "paired", "application", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_true(roster_only_recorders(&r));

	/* A person joins; then a phone, and the person leaves. */
	pl_add(&pl, "alice", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_CREATED, 1, -1), 1);
	assert_false(roster_only_recorders(&r));
	pl_add(&pl, "pstn", "phone", 0, -1);
	pl_add(&pl, "alice", "user", 1, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_false(roster_only_recorders(&r));
	assert_int_equal(roster_remove(&r, "pstn", key), 1);
	assert_true(roster_only_recorders(&r));

	/* Someone whose identity is unknown counts as a person. */
	pl_add(&pl, "mystery", NULL, 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_false(roster_only_recorders(&r));

	/* No one at all. */
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_true(roster_only_recorders(&r));
	roster_free(&r);
	assert_false(roster_only_recorders(&r));
	pl_free(&pl);
}

static void
test_roster_max(void **state)
{
	struct roster	 r;
	struct plist	 pl;
	struct snapshot	 s;
	char		 id[IDLEN];
	size_t		 i;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	pl_add(&pl, "alice", "user", 0, -1);
	pl_add(&pl, "bot", "application", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, 1), 1);

	/* One too many in a full roster: refused, the old one kept. */
	for (i = 0; i <= ROSTER_MAX; i++) {
		snprintf(id, sizeof(id), "u%zu", i);
		pl_add(&pl, id, "user", 0, -1);
	}
	snap(&s, &r);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), -1);
	same(&s, &r);
	/* ... and in a delta. */
	for (i = 0; i < ROSTER_MAX - 1; i++) {
		snprintf(id, sizeof(id), "u%zu", i);
		pl_add(&pl, id, "user", 0, -1);
	}
	snap(&s, &r);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 2), -1);
	same(&s, &r);

	/* Exactly ROSTER_MAX is fine, in either mode. */
	for (i = 0; i < ROSTER_MAX - 2; i++) {
		snprintf(id, sizeof(id), "u%zu", i);
		pl_add(&pl, id, "user", 0, -1);
	}
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 2), 1);
	assert_int_equal(r.n, ROSTER_MAX);
	assert_int_equal(r.humans, ROSTER_MAX - 1);
	assert_true(r.cap <= ROSTER_MAX);

	/* Full: one more is refused, one in one out is not. */
	pl_add(&pl, "one more", "user", 0, -1);
	snap(&s, &r);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 3), -1);
	same(&s, &r);
	pl_add(&pl, "one more", "user", 0, -1);
	pl_add(&pl, "u0", "user", 1, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 3), 1);
	assert_int_equal(r.n, ROSTER_MAX);
	assert_true(roster_has(&r, "one more", key));
	assert_false(roster_has(&r, "u0", key));

	for (i = 0; i < ROSTER_MAX; i++) {
		snprintf(id, sizeof(id), "v%zu", i);
		pl_add(&pl, id, "application", 0, -1);
	}
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_int_equal(r.n, ROSTER_MAX);
	assert_int_equal(r.humans, 0);
	assert_true(roster_only_recorders(&r));
	roster_free(&r);
	pl_free(&pl);
}

static void
test_roster_alloc_failure(void **state)
{
	struct roster	 r;
	struct plist	 pl;
	struct snapshot	 s;
	char		 id[IDLEN];
	size_t		 i;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	for (i = 0; i < 16; i++) {
		snprintf(id, sizeof(id), "p%zu", i);
		pl_add(&pl, id, i == 0 ? "application" : "user", 0, -1);
	}
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_int_equal(r.cap, 16);

	/* Full roster: the work list, then the new array. */
	for (i = 0; i < 2; i++) {
		pl_add(&pl, "q", "user", 0, -1);
		snap(&s, &r);
		alloc_budget = (long)i;
		assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1),
		    -1);
		alloc_budget = -1;
		same(&s, &r);
	}

	/* A delta that must grow the array, with an update and a removal
	 * that must not happen either. */
	for (i = 0; i < 2; i++) {
		pl_add(&pl, "p0", "user", 0, -1);
		pl_add(&pl, "p1", "user", 1, -1);
		pl_add(&pl, "q", "user", 0, -1);
		pl_add(&pl, "r", "user", 0, -1);
		snap(&s, &r);
		alloc_budget = (long)i;
		assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 7),
		    -1);
		alloc_budget = -1;
		same(&s, &r);
	}

	/* Within capacity a delta needs only its work list. */
	pl_add(&pl, "p0", "user", 0, -1);
	pl_add(&pl, "p1", "user", 1, -1);
	alloc_budget = 1;
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 7), 1);
	alloc_budget = -1;
	assert_int_equal(r.n, 15);
	assert_int_equal(r.humans, 15);
	assert_int_equal(r.sequence, 7);

	/* And works once memory is back. */
	pl_add(&pl, "q", "user", 0, -1);
	pl_add(&pl, "r", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 8), 1);
	assert_int_equal(r.n, 17);
	assert_int_equal(r.cap, 32);
	roster_free(&r);
	pl_free(&pl);
}

/*
 * 10,000 members, then random deltas checked against a plain model:
 * who is present and whether a recorder, by index.
 */
static void
test_roster_large(void **state)
{
	enum { N = 10000, POOL = 12000, ROUNDS = 400 };
	static uint8_t	 present[POOL], recorder[POOL];
	struct roster	 r;
	struct plist	 pl;
	char		 id[IDLEN];
	uint32_t	 seed = 12345, n, humans, k, j, x, op;
	size_t		 i;
	long long	 seq = 0;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	memset(present, 0, sizeof(present));
	memset(recorder, 0, sizeof(recorder));
	roster_init(&r);
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "m%zu", i);
		present[i] = 1;
		recorder[i] = i % 97 == 0;
		pl_add(&pl, id, recorder[i] ? "applicationInstance" : "user", 0,
		    -1);
	}
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_int_equal(r.n, N);

	for (k = 0; k < ROUNDS; k++) {
		/* Mostly small deltas, now and then a big one. */
		n = k % 50 == 0 ? 3000 : 1 + lcg(&seed) % 40;
		for (j = 0; j < n; j++) {
			x = lcg(&seed) % POOL;
			op = lcg(&seed) % 3;
			snprintf(id, sizeof(id), "m%u", x);
			if (op == 0) {
				pl_add(&pl, id, "user", 1, -1);
				present[x] = 0;
			} else {
				recorder[x] = op == 2;
				pl_add(&pl, id, recorder[x] ? "application" :
				    "user", 0, -1);
				present[x] = 1;
			}
		}
		assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, ++seq),
		    1);
		if (k % 40 != 0 && k != ROUNDS - 1)
			continue;
		for (i = 0, n = 0, humans = 0; i < POOL; i++) {
			snprintf(id, sizeof(id), "m%zu", i);
			if (roster_has(&r, id, key) != present[i])
				fail_msg("round %u: m%zu present %d, want %d",
				    k, i, !present[i], present[i]);
			n += present[i];
			humans += present[i] && !recorder[i];
		}
		assert_int_equal(r.n, n);
		assert_int_equal(r.humans, humans);
	}
	/* Everyone leaves, one by one. */
	for (i = 0; i < POOL; i++) {
		snprintf(id, sizeof(id), "m%zu", i);
		assert_int_equal(roster_remove(&r, id, key), present[i]);
	}
	assert_int_equal(r.n, 0);
	assert_int_equal(r.humans, 0);
	roster_free(&r);
	pl_free(&pl);
}

/* One stored member, written out by hand: hash big-endian, then flag. */
static void
put_member(unsigned char *p, uint64_t hash, uint8_t flag)
{
	int	 k;

	for (k = 0; k < 8; k++)
		p[k] = (unsigned char)(hash >> (56 - 8 * k));
	p[8] = flag;
}

/*
 * Stored and loaded: the members, humans, sequence and seen flag come
 * back, and the roster goes on working from there.
 */
static void
test_roster_pack(void **state)
{
	struct roster	 r, s;
	struct plist	 pl;
	unsigned char	*buf, *buf2, want[9];
	char		 id[IDLEN];
	size_t		 len, len2, i;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	roster_init(&s);
	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "p%zu", i);
		pl_add(&pl, id, i % 7 == 0 ? "application" : "user", 0, -1);
	}
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, 42), 1);
	assert_int_equal(r.n, 40);
	assert_int_equal(r.humans, 34);

	assert_int_equal(roster_pack(&r, &buf, &len), 0);
	assert_int_equal(len, r.n * 9);
	for (i = 0; i < r.n; i++) {
		put_member(want, r.m[i].id_hash, r.m[i].recorder);
		assert_memory_equal(buf + i * 9, want, 9);
	}

	assert_int_equal(roster_unpack(&s, buf, len, r.sequence, r.seen), 0);
	check_sorted(&s);
	assert_int_equal(s.n, r.n);
	assert_int_equal(s.humans, r.humans);
	assert_int_equal(s.sequence, 42);
	assert_int_equal(s.seen, 1);
	for (i = 0; i < r.n; i++) {
		assert_true(s.m[i].id_hash == r.m[i].id_hash);
		assert_int_equal(s.m[i].recorder, r.m[i].recorder);
	}
	assert_true(roster_has(&s, "p0", key));
	assert_true(roster_has(&s, "p39", key));
	assert_false(roster_has(&s, "p40", key));
	assert_int_equal(roster_pack(&s, &buf2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	free(buf2);

	/* The sequence carries on: an old notification is still stale. */
	pl_add(&pl, "late", "user", 0, -1);
	assert_int_equal(apply(&s, &pl, NOTIF_CHANGE_UPDATED, 1, 42), 0);
	/* And the array grows, shrinks and is replaced as before. */
	for (i = 0; i < 30; i++) {
		snprintf(id, sizeof(id), "q%zu", i);
		pl_add(&pl, id, "user", 0, -1);
	}
	pl_add(&pl, "p1", "user", 1, -1);
	assert_int_equal(apply(&s, &pl, NOTIF_CHANGE_UPDATED, 1, 43), 1);
	assert_int_equal(s.n, 69);
	assert_int_equal(s.humans, 63);
	assert_int_equal(roster_remove(&s, "p0", key), 1);
	assert_int_equal(s.humans, 63);
	pl_add(&pl, "only", "user", 0, -1);
	assert_int_equal(apply(&s, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	assert_int_equal(s.n, 1);
	check_sorted(&s);

	/* Unpacking replaces what a roster held, and takes the row's
	 * sequence and seen flag even when they go back. */
	assert_int_equal(roster_unpack(&s, buf, len, -1, 0), 0);
	assert_int_equal(s.n, 40);
	assert_int_equal(s.humans, 34);
	assert_int_equal(s.sequence, -1);
	assert_int_equal(s.seen, 0);
	assert_false(roster_only_recorders(&s));
	assert_false(roster_has(&s, "only", key));
	free(buf);
	roster_free(&s);
	roster_free(&r);
	pl_free(&pl);
}

/* No members stored: an empty roster, seen or not as the row says. */
static void
test_roster_pack_empty(void **state)
{
	struct roster	 r;
	struct plist	 pl;
	unsigned char	*buf;
	size_t		 len = 99;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	assert_int_equal(roster_pack(&r, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(roster_unpack(&r, buf, len, 5, 1), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.humans, 0);
	assert_int_equal(r.sequence, 5);
	assert_true(roster_only_recorders(&r));
	free(buf);
	/* A NULL blob is how SQLite hands back an empty one. */
	assert_int_equal(roster_unpack(&r, NULL, 0, -1, 0), 0);
	assert_int_equal(r.n, 0);
	assert_false(roster_only_recorders(&r));
	/* Grows from nothing. */
	pl_add(&pl, "alice", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	assert_true(roster_has(&r, "alice", key));
	assert_int_equal(r.humans, 1);
	roster_free(&r);
	pl_free(&pl);
}

/* Damaged bytes are refused, and the roster is left as it was. */
static void
test_roster_unpack_hostile(void **state)
{
	static const struct {
		const char	*name;
		uint64_t	 hash[4];
		uint8_t		 flag[4];
		size_t		 n;
		int		 lack;		/* < 0: bytes over */
		int		 ok;
		uint32_t	 humans;
	} cases[] = {
		{ "fine", { 1, 3, 5, 9 }, { 0, 1, 0, 1 }, 4, 0, 1, 2 },
		{ "extreme hashes", { 0, UINT64_MAX }, { 1, 0 }, 2, 0, 1, 1 },
		{ "flag 2", { 1, 3 }, { 0, 2 }, 2, 0, 0, 0 },
		{ "flag 255", { 1 }, { 255 }, 1, 0, 0, 0 },
		{ "flag 0x80", { 1, 3 }, { 0x80, 0 }, 2, 0, 0, 0 },
		{ "unsorted", { 5, 3 }, { 0, 0 }, 2, 0, 0, 0 },
		{ "unsorted at the end", { 1, 3, 9, 5 }, { 0 }, 4, 0, 0, 0 },
		{ "little-endian order", { 0x100, 0x001 }, { 0 }, 2, 0, 0, 0 },
		{ "duplicate", { 5, 5 }, { 0, 1 }, 2, 0, 0, 0 },
		{ "a byte short", { 1, 3 }, { 0 }, 2, 1, 0, 0 },
		{ "eight short", { 1, 3 }, { 0 }, 2, 8, 0, 0 },
		{ "a byte over", { 1, 3 }, { 0 }, 2, -1, 0, 0 },
		{ "a byte alone", { 0 }, { 0 }, 0, -1, 0, 0 },
	};
	struct roster	 r;
	struct plist	 pl;
	struct snapshot	 s;
	unsigned char	 buf[4 * 9 + 8], *big;
	size_t		 i, j, len;
	int		 rv;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	for (i = 0; i < NELEM(cases); i++) {
		/* Something to lose. */
		pl_add(&pl, "alice", "user", 0, -1);
		pl_add(&pl, "bot", "application", 0, -1);
		assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1),
		    1);
		r.sequence = 17;
		memset(buf, 0, sizeof(buf));
		for (j = 0; j < cases[i].n; j++)
			put_member(buf + j * 9, cases[i].hash[j],
			    cases[i].flag[j]);
		len = cases[i].n * 9 - (size_t)cases[i].lack;
		snap(&s, &r);
		rv = roster_unpack(&r, buf, len, 3, 1);
		if ((rv == 0) != cases[i].ok)
			fail_msg("%s: unpack %s", cases[i].name,
			    rv == 0 ? "accepted" : "refused");
		if (rv == -1) {
			same(&s, &r);
			continue;
		}
		free(s.m);
		check_sorted(&r);
		assert_int_equal(r.n, cases[i].n);
		assert_int_equal(r.humans, cases[i].humans);
		assert_int_equal(r.sequence, 3);
		for (j = 0; j < r.n; j++)
			assert_true(r.m[j].id_hash == cases[i].hash[j]);
	}

	/* ROSTER_MAX members, then one more. */
	big = malloc(((size_t)ROSTER_MAX + 1) * 9);
	assert_non_null(big);
	for (i = 0; i < (size_t)ROSTER_MAX + 1; i++)
		put_member(big + i * 9, (uint64_t)i * 0x9e3779b9ULL, i % 2);
	snap(&s, &r);
	assert_int_equal(roster_unpack(&r, big, ((size_t)ROSTER_MAX + 1) * 9,
	    9, 1), -1);
	same(&s, &r);
	assert_int_equal(roster_unpack(&r, big, (size_t)ROSTER_MAX * 9, 9, 1),
	    0);
	assert_int_equal(r.n, ROSTER_MAX);
	assert_int_equal(r.humans, ROSTER_MAX / 2);
	check_sorted(&r);
	free(big);
	roster_free(&r);
	pl_free(&pl);
}

struct gone {
	uint64_t	*h;
	size_t		 n;
};

static void
on_gone(uint64_t hash, void *arg)
{
	struct gone	*g = arg;

	g->h[g->n++] = hash;
}

/*
 * Who left between two rosters, against the plain answer: every member
 * of `before` that `now` lacks, in order, each once.  Sets are drawn
 * from a small pool so they overlap in every way, empty ones included.
 */
static void
test_roster_gone(void **state)
{
	enum { POOL = 48, ROUNDS = 3000 };
	static struct roster_member	 pool[POOL], before[POOL],
					 nowm[POOL];
	struct roster			 now;
	struct gone			 got;
	uint64_t			 want[POOL], seen[POOL];
	uint32_t			 seed = 777, k, pb, pn;
	size_t				 i, j, nb, nn, nw;
	int				 in;

	(void)state;
	/* Sorted, with the extremes. */
	for (i = 0; i < POOL; i++) {
		pool[i].id_hash = i == 0 ? 0 : i == POOL - 1 ? UINT64_MAX :
		    (uint64_t)i << 57 | lcg(&seed);
		pool[i].recorder = i % 5 == 0;
	}
	got.h = seen;
	for (k = 0; k < ROUNDS; k++) {
		/* Every density, from empty to all. */
		pb = k % 11 == 0 ? 0 : lcg(&seed) % 101;
		pn = k % 13 == 0 ? 0 : k % 17 == 0 ? 100 : lcg(&seed) % 101;
		for (i = 0, nb = 0, nn = 0; i < POOL; i++) {
			if (lcg(&seed) % 100 < pb)
				before[nb++] = pool[i];
			if (lcg(&seed) % 100 < pn)
				nowm[nn++] = pool[i];
		}
		for (i = 0, nw = 0; i < nb; i++) {
			for (j = 0, in = 0; j < nn && !in; j++)
				in = nowm[j].id_hash == before[i].id_hash;
			if (!in)
				want[nw++] = before[i].id_hash;
		}
		roster_init(&now);
		now.m = nn > 0 || k % 2 ? nowm : NULL;
		now.n = now.cap = (uint32_t)nn;
		got.n = 0;
		roster_gone(nb > 0 || k % 2 ? before : NULL, nb, &now, on_gone,
		    &got);
		if (got.n != nw)
			fail_msg("round %u: %zu of %zu gone, want %zu", k,
			    got.n, nb, nw);
		for (i = 0; i < nw; i++)
			assert_true(got.h[i] == want[i]);
	}
}

/* As the daemon uses it: a copy of the members, a delta, who left. */
static void
test_roster_gone_apply(void **state)
{
	struct roster		 r;
	struct plist		 pl;
	struct roster_member	*before;
	struct gone		 got;
	uint64_t		 seen[8];
	size_t			 nbefore;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	roster_init(&r);
	pl_add(&pl, "alice", "user", 0, -1);
	pl_add(&pl, "bob", "user", 0, -1);
	pl_add(&pl, "carol", "phone", 0, -1);
	pl_add(&pl, "bot", "application", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);

	nbefore = r.n;
	before = malloc(nbefore * sizeof(*before));
	assert_non_null(before);
	memcpy(before, r.m, nbefore * sizeof(*before));
	/* bob leaves, carol is updated, dave joins, bot is deleted. */
	pl_add(&pl, "bob", "user", 1, -1);
	pl_add(&pl, "carol", "user", 0, -1);
	pl_add(&pl, "dave", "user", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 1, -1), 1);
	pl_add(&pl, "bot", "application", 0, -1);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_DELETED, 1, -1), 1);
	got.h = seen;
	got.n = 0;
	roster_gone(before, nbefore, &r, on_gone, &got);
	assert_int_equal(got.n, 2);
	assert_true((got.h[0] == idhash("bob", key) &&
	    got.h[1] == idhash("bot", key)) ||
	    (got.h[0] == idhash("bot", key) &&
	    got.h[1] == idhash("bob", key)));
	assert_true(got.h[0] < got.h[1]);

	/* Nobody left: no calls.  Everybody left: a call each. */
	got.n = 0;
	roster_gone(r.m, r.n, &r, on_gone, &got);
	assert_int_equal(got.n, 0);
	assert_int_equal(apply(&r, &pl, NOTIF_CHANGE_UPDATED, 0, -1), 1);
	roster_gone(before, nbefore, &r, on_gone, &got);
	assert_int_equal(got.n, nbefore);
	free(before);
	roster_free(&r);
	pl_free(&pl);
}

/* What Graph says of a call whose answer or reject went unconfirmed. */
static void
test_verdict(void **state)
{
	const uint64_t	 w = 15000000;

	(void)state;
	/* Graph took the answer: the call is up, or on its way. */
	assert_int_equal(leg_verdict(1, LEG_ANSWERING, 1,
	    CALL_STATE_ESTABLISHED, 0, w), LEG_VERDICT_ANSWERED);
	assert_int_equal(leg_verdict(1, LEG_ANSWERING, 1,
	    CALL_STATE_ESTABLISHING, 0, w), LEG_VERDICT_ANSWERED);
	assert_int_equal(leg_verdict(1, LEG_ANSWERING, 1, CALL_STATE_HOLD, 0,
	    w), LEG_VERDICT_ANSWERED);
	/* Our own notifications said so already, whatever GET says now. */
	assert_int_equal(leg_verdict(1, LEG_ESTABLISHED, 0,
	    CALL_STATE_UNKNOWN, 0, w), LEG_VERDICT_ANSWERED);
	/* A 404 or a call that ended before it was up: missed. */
	assert_int_equal(leg_verdict(1, LEG_ANSWERING, 0,
	    CALL_STATE_UNKNOWN, 0, w), LEG_VERDICT_MISSED);
	assert_int_equal(leg_verdict(1, LEG_ANSWERING, 1,
	    CALL_STATE_TERMINATED, 0, w), LEG_VERDICT_MISSED);
	/* Still ringing: ask again inside the window, then missed. */
	assert_int_equal(leg_verdict(1, LEG_ANSWERING, 1,
	    CALL_STATE_INCOMING, w - 1, w), LEG_VERDICT_RECHECK);
	assert_int_equal(leg_verdict(1, LEG_ANSWERING, 1,
	    CALL_STATE_INCOMING, w, w), LEG_VERDICT_MISSED);
	assert_int_equal(leg_verdict(1, LEG_INCOMING, 1, CALL_STATE_UNKNOWN,
	    0, w), LEG_VERDICT_RECHECK);
	/* A reject may end the call; it never brings the bot in. */
	assert_int_equal(leg_verdict(0, LEG_ANSWERING, 1,
	    CALL_STATE_TERMINATED, 0, w), LEG_VERDICT_ENDED);
	assert_int_equal(leg_verdict(0, LEG_ANSWERING, 1,
	    CALL_STATE_ESTABLISHED, 0, w), LEG_VERDICT_MISSED);
	assert_int_equal(leg_verdict(0, LEG_ESTABLISHED, 1,
	    CALL_STATE_ESTABLISHED, 0, w), LEG_VERDICT_MISSED);
	/* Gone after a reject that went out: over, by which unknown; never
	 * sent: missed. */
	assert_int_equal(leg_verdict(0, LEG_ANSWERING, 0,
	    CALL_STATE_UNKNOWN, 0, w), LEG_VERDICT_ENDED);
	assert_string_equal(leg_verdict_name(LEG_VERDICT_ENDED), "ended");
	assert_int_equal(leg_verdict(0, LEG_INCOMING, 0,
	    CALL_STATE_UNKNOWN, 0, w), LEG_VERDICT_MISSED);
	assert_string_equal(leg_verdict_name(LEG_VERDICT_RECHECK), "recheck");
	assert_string_equal(leg_verdict_name((enum leg_verdict)99),
	    "unknown");
}

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_table),
		cmocka_unit_test(test_state_sequence),
		cmocka_unit_test(test_state_hold_first),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_recorder_kind),
		cmocka_unit_test(test_roster_full),
		cmocka_unit_test(test_roster_delta),
		cmocka_unit_test(test_roster_sequence),
		cmocka_unit_test(test_only_recorders),
		cmocka_unit_test(test_roster_max),
		cmocka_unit_test(test_roster_alloc_failure),
		cmocka_unit_test(test_roster_large),
		cmocka_unit_test(test_roster_pack),
		cmocka_unit_test(test_roster_pack_empty),
		cmocka_unit_test(test_roster_unpack_hostile),
		cmocka_unit_test(test_roster_gone),
		cmocka_unit_test(test_roster_gone_apply),
		cmocka_unit_test(test_verdict),
	};

	return cmocka_run_group_tests_name("leg", tests, setup, NULL);
}
