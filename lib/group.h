/*
 * The recorder group of one answered call leg (participantCapacity):
 * who it records, and the decision for each participantJoining
 * notification Teams sends to it.  Pure: no sockets, no clock, no
 * storage; the daemon persists a group through group_export/import and
 * commits it before the decision leaves in the webhook's response.
 *
 * Participants are kept as keyed 64-bit hashes of their participant id
 * (the key is the daemon's, stable across restarts), so a group holds
 * no identity and stays small.
 */
#ifndef POLREC_GROUP_H
#define POLREC_GROUP_H

#include <stddef.h>
#include <stdint.h>

#define GROUP_KEYBYTES		16
#define GROUP_MAX_CAPACITY	10000
#define GROUP_MAX_REMEMBERED	4096	/* rejected/invited ids kept */

enum join_verdict {
	JOIN_ACCEPT = 0,
	JOIN_REJECT_BUSY,
	JOIN_REJECT_FORBIDDEN,
	JOIN_INVITE_NEW_BOT,
};

struct join_decision {
	enum join_verdict	 verdict;
	const char		*reason;	/* static word, for logs/audit */
	int			 repeat;	/* a retransmit: same answer as
						 * before, nothing consumed, no
						 * new audit event */
	const char		*invite_uri;	/* JOIN_INVITE_NEW_BOT */
	int			 unidentified;	/* the join named no one */
	int			 added;		/* a member was put in the
						 * group for it (see
						 * group_pending_note) */
	uint64_t		 member;	/* its hash, when added or
						 * repeat */
};

/* What the configuration allows, and the host's state. */
struct group_policy {
	char *const	*tenants;	/* NULL-terminated; "*" any */
	char *const	*policies;	/* NULL-terminated; "*" any */
	int		 draining;
	const char	*invite_uri;	/* where a join that cannot be
					 * placed here is invited; NULL:
					 * none, it is rejected busy */
};

/* A participant as the group remembers it. */
enum member_kind {
	MEMBER_ACCEPTED = 1,	/* holds a slot */
	MEMBER_REJECTED,	/* rejected busy */
	MEMBER_INVITED,		/* sent to another bot */
	MEMBER_FORBIDDEN,	/* rejected forbidden */
	MEMBER_UNIDENTIFIED,	/* holds a slot; the join named no one */
};

struct group_member {
	uint64_t	 hash;
	uint8_t		 kind;		/* enum member_kind */
};

struct recorder_group;

/*
 * A group for a leg answered with `capacity` (1..GROUP_MAX_CAPACITY;
 * 1 means no grouping: every join is rejected busy, or invited
 * elsewhere).  The observed participant of the original invitation is
 * its first member, when known.  Strings are copied.  NULL on bad input.
 */
struct recorder_group *group_new(const char *tenant, const char *policy,
		    uint32_t capacity, const char *first_participant_id,
		    const unsigned char key[GROUP_KEYBYTES]);
void		 group_free(struct recorder_group *);

/*
 * Decide for a participantJoining notification naming participant_id
 * (the joining call's incomingContext.observedParticipantId) with the
 * joining call's tenant and policy (NULL when absent).  leg_live is 0
 * when the leg is over or unknown to be up.
 *
 * A rejectJoinResponse keeps the person out of the meeting under a
 * strict policy, so it is kept for an explicit policy reason and for
 * when there is nowhere else to send the join.  Order: a participant
 * already decided gets the same decision again (repeat = 1; an accepted
 * one is accepted again and uses no new slot); then tenant/policy not
 * allowed → forbidden ("tenant_not_allowed", "policy_not_allowed");
 * then what this group cannot take: another tenant's or policy's
 * participant ("other_group"), draining ("draining"), the leg over
 * ("leg_ended"), the group full ("capacity_full") → invited to the
 * policy's invite_uri, or busy when it has none; else accept
 * ("capacity").
 *
 * A join that names no one (participant_id NULL or empty; unidentified
 * = 1) is decided the same way but cannot be recognised again: accepted,
 * it holds a slot as a MEMBER_UNIDENTIFIED (freed by a participantLeft
 * naming an id the group does not hold, see group_leave); any other
 * decision is not remembered.
 *
 * Returns 0, or -1 (out: busy "too_many_participants" or "no_memory")
 * when the decision cannot be remembered, without changing the group.
 */
int		 group_join(struct recorder_group *, const struct group_policy *,
		    const char *participant_id, const char *tenant,
		    const char *policy, int leg_live, struct join_decision *);

/*
 * A join that has no group to go to (the leg is unknown, not answered
 * yet, over, or lost its group; reason says which): forbidden for a
 * tenant or policy not allowed, else invited to the policy's invite_uri,
 * or busy when it has none.  Nothing is remembered.
 */
void		 group_join_unplaced(const struct group_policy *,
		    const char *tenant, const char *policy, const char *reason,
		    struct join_decision *);

/*
 * A participant left (participantLeft): its slot is freed.  Returns 1
 * if it held one.  Whatever was decided for it is forgotten: if it
 * joins again, it is decided afresh.  participantLeft is sent only for
 * participants this leg manages, so an id the group does not hold is
 * taken for one of its unidentified members, and one of them (if any)
 * is freed.
 */
int		 group_leave(struct recorder_group *, const char *participant_id);

/* By the participant's hash (a roster departure, or a decision taken
 * back): exactly that member, never an unidentified one for it. */
int		 group_leave_hash(struct recorder_group *, uint64_t hash);

/*
 * Admissions whose answer has not reached Graph yet.  A join's decision
 * leaves in the webhook's response only once the request's changes are
 * committed; if the commit fails the request is refused (503) and what
 * it put in a group must be taken back, as the journal drops its events.
 * Bounded: past GROUP_PENDING_MAX entries the oldest is forgotten (its
 * admission can no longer be taken back).  Legs are named by id, so an
 * entry outlives its leg harmlessly.
 */
#define GROUP_PENDING_MAX	128
#define GROUP_PENDING_LEGID	257	/* NOTIF_MAX_ID + 1 */

struct group_pending_entry {
	uint64_t	 request;
	uint64_t	 member;
	char		 leg[GROUP_PENDING_LEGID];
};

struct group_pending {
	struct group_pending_entry	 e[GROUP_PENDING_MAX];
	size_t				 n;
	uint64_t			 forgotten;	/* overwritten */
};

void		 group_pending_init(struct group_pending *);
/*
 * Request's decision d on leg: an admission (d->added) is noted; a
 * repeat of an admission still pending is noted as resting on it too.
 * Returns 1 if noted.
 */
int		 group_pending_note(struct group_pending *, uint64_t request,
		    const char *leg, const struct join_decision *d);
/* Request answered: the admissions it rests on are final. */
void		 group_pending_done(struct group_pending *, uint64_t request);
/*
 * Request refused: each admission it made or rested on that no other
 * pending request rests on is handed to undo (which takes it out of its
 * group, group_leave_hash).  Returns how many.
 */
size_t		 group_pending_drop(struct group_pending *, uint64_t request,
		    void (*undo)(const char *leg, uint64_t member, void *),
		    void *arg);

uint32_t	 group_used(const struct recorder_group *);
uint32_t	 group_capacity(const struct recorder_group *);
const char	*group_tenant(const struct recorder_group *);
const char	*group_policy(const struct recorder_group *);

/*
 * The response body for the webhook: {"@odata.type":
 * "#microsoft.graph.acceptJoinResponse"}, rejectJoinResponse with
 * "reason" busy|forbidden, or inviteNewBotResponse with "inviteUri".
 * malloc'd JSON, NULL on a bad decision.
 */
char		*group_response_body(const struct join_decision *);

/*
 * Members for durable storage, and back: export fills a malloc'd array
 * (*n entries, sorted by hash); import rebuilds a group from it (kinds
 * checked, duplicates and overflow of capacity refused: NULL).
 */
int		 group_export(const struct recorder_group *,
		    struct group_member **, size_t *n);
struct recorder_group *group_import(const char *tenant, const char *policy,
		    uint32_t capacity, const struct group_member *, size_t n,
		    const unsigned char key[GROUP_KEYBYTES]);

/*
 * The members as bytes for the database (9 each: hash big-endian, kind),
 * and back: unpack refuses (NULL) anything group_import would, and
 * bytes that are not whole, sorted, unique entries.
 */
int		 group_pack(const struct recorder_group *, unsigned char **,
		    size_t *);
struct recorder_group *group_unpack(const char *tenant, const char *policy,
		    uint32_t capacity, const unsigned char *, size_t,
		    const unsigned char key[GROUP_KEYBYTES]);

const char	*join_verdict_name(enum join_verdict);	/* accept, busy,
							 * forbidden, invite */

#endif
