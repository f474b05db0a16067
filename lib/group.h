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
};

/* What the configuration allows, and the host's state. */
struct group_policy {
	char *const	*tenants;	/* NULL-terminated; "*" any */
	char *const	*policies;	/* NULL-terminated; "*" any */
	int		 draining;
	const char	*invite_uri;	/* overflow = invite: where; NULL:
					 * overflow rejects busy */
};

/* A participant as the group remembers it. */
enum member_kind {
	MEMBER_ACCEPTED = 1,	/* holds a slot */
	MEMBER_REJECTED,	/* rejected busy */
	MEMBER_INVITED,		/* sent to another bot */
	MEMBER_FORBIDDEN,	/* rejected forbidden */
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
 * when the leg is over or unknown to be up: reject busy, reason
 * "leg_ended".  Order: a participant already decided gets the same
 * decision again (repeat = 1; an accepted one is accepted again and
 * uses no new slot); then tenant/policy not allowed → forbidden
 * ("tenant_not_allowed", "policy_not_allowed"); then draining → busy
 * ("draining"); leg over → busy ("leg_ended"); room → accept
 * ("capacity"); full → invite ("overflow_invite") when the policy has
 * an invite_uri, else busy ("capacity_full").  The tenant and policy
 * must also match the group's own (else forbidden, "other_group").
 * Returns 0, or -1 (out: busy "participant_unknown") when
 * participant_id is NULL or empty, or the remembered set is full
 * ("too_many_participants"), without changing the group.
 */
int		 group_join(struct recorder_group *, const struct group_policy *,
		    const char *participant_id, const char *tenant,
		    const char *policy, int leg_live, struct join_decision *);

/* A participant left (participantLeft, or gone from the roster): its
 * slot is freed.  Returns 1 if it held one.  Whatever was decided for
 * it is forgotten: if it joins again, it is decided afresh. */
int		 group_leave(struct recorder_group *, const char *participant_id);

/* The same by the participant's hash (a roster departure). */
int		 group_leave_hash(struct recorder_group *, uint64_t hash);

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
