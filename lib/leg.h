/*
 * A call leg's life as pure logic: the monotonic state machine and the
 * roster.  The daemon keeps one struct per leg and wires the timers and
 * Graph requests around these functions.
 */
#ifndef POLREC_LEG_H
#define POLREC_LEG_H

#include <stddef.h>
#include <stdint.h>

#include "notif.h"

/* Ordered: a leg only ever moves forward. */
enum leg_state {
	LEG_INCOMING = 0,	/* invitation received, deciding */
	LEG_ANSWERING,		/* answer (or reject) sent or in flight */
	LEG_ESTABLISHING,
	LEG_ESTABLISHED,
	LEG_TERMINATING,
	LEG_TERMINATED,
};

const char	*leg_state_name(enum leg_state);

/*
 * The state a call notification moves a leg to.  changeType deleted, or
 * state terminated, is LEG_TERMINATED; terminating, established and
 * establishing map to theirs.  hold, transferring, transferAccepted and
 * redirecting say the call is up but not that this leg was established:
 * they count as establishing, so a leg is LEG_ESTABLISHED (and may
 * report recording) only once Graph said `established`; after that they
 * leave it established.  incoming and unknown states do not move it.  Returns the new state, which is never
 * before cur; *moved says whether it changed.
 */
enum leg_state	 leg_next_state(enum leg_state cur, enum notif_change,
		    enum call_state, int *moved);

/*
 * What became of an answer or reject whose reply polrecd did not see
 * (cut off at the budget, a 5xx, a restart between sending and
 * committing), from what Graph says of the call now: the leg's state,
 * and whether Graph knows the call at all.  A call still ringing
 * (incoming) may yet take a late answer: RECHECK until `waited_us` is
 * past `window_us`, then MISSED.  ENDED: a reject went out and the call
 * is over (ended, or unknown to Graph): the bot is not in it, as the
 * reject meant, but whether Graph took the reject or the call ended on
 * its own, Graph cannot say.
 */
enum leg_verdict {
	LEG_VERDICT_ANSWERED,
	LEG_VERDICT_ENDED,
	LEG_VERDICT_MISSED,
	LEG_VERDICT_RECHECK,
};

enum leg_verdict leg_verdict(int answering, enum leg_state seen,
		    int known, enum call_state graph_state,
		    uint64_t waited_us, uint64_t window_us);
const char	*leg_verdict_name(enum leg_verdict);

/*
 * The participants of a leg, by a keyed 64-bit hash of their id (so a
 * leg holds no identity in memory longer than needed, and stays small).
 * Recorders (application or applicationInstance identities, the bot
 * itself included) are counted apart from people.
 */
struct roster_member {
	uint64_t	 id_hash;
	uint8_t		 recorder;
};

struct roster {
	struct roster_member *m;	/* sorted by id_hash */
	uint32_t	 n, cap;
	uint32_t	 humans;	/* members that are not recorders */
	long long	 sequence;	/* last applied; -1: none yet */
	int		 seen;		/* a roster notification was applied */
};

#define ROSTER_MAX	100000		/* members kept per leg */
#define ROSTER_KEYBYTES	16

void	 roster_init(struct roster *);
void	 roster_free(struct roster *);	/* frees members; reusable after */

/*
 * Apply a participants notification.  A full roster (delta == 0 and no
 * sequence) replaces the list.  A delta adds or updates each listed
 * participant, and removes those with removedState or when changeType
 * is deleted.  A notification whose sequence number (the batch's
 * deltaParticipants.sequenceNumber, or else the highest
 * rosterSequenceNumber it carries) is not above the last applied one is
 * stale and ignored.  Returns 1 if applied, 0 if stale, -1 on
 * allocation failure or when ROSTER_MAX would be exceeded (the roster
 * is left as it was).
 */
int	 roster_apply(struct roster *, const struct participant *, size_t n,
	    enum notif_change, int delta, long long sequence,
	    const unsigned char key[ROSTER_KEYBYTES]);

/* Remove one participant by id (participantLeft); 1 if it was there. */
int	 roster_remove(struct roster *, const char *participant_id,
	    const unsigned char key[ROSTER_KEYBYTES]);

/* Is this participant id a member? */
int	 roster_has(const struct roster *, const char *participant_id,
	    const unsigned char key[ROSTER_KEYBYTES]);

/* A roster was seen and it holds no one but recorders (or no one). */
int	 roster_only_recorders(const struct roster *);

/*
 * The members as bytes for the database (9 each: hash big-endian, then
 * 1 for a recorder), and back.  unpack replaces r's members, taking the
 * sequence and seen flag from the same row; -1 (r unchanged) unless the
 * bytes are whole, sorted, unique entries with flags 0 or 1.
 */
int	 roster_pack(const struct roster *, unsigned char **, size_t *);
int	 roster_unpack(struct roster *, const unsigned char *, size_t,
	    long long sequence, int seen);

/* Call cb for each member of `before` (sorted, n of them) that is no
 * longer in `now`: who left between two rosters. */
void	 roster_gone(const struct roster_member *before, size_t n,
	    const struct roster *now, void (*cb)(uint64_t, void *), void *arg);

/* Whether an identity kind names a bot ("application", ...). */
int	 roster_is_recorder_kind(const char *kind);

#endif
