/*
 * The commsNotifications model: a webhook body parsed into typed structs.
 *
 * A batch owns the cJSON tree it was parsed from; every `const char *` in
 * it points into that tree and lives as long as the batch.  Nothing here
 * does I/O.  Parsing is liberal where real traffic differs from the docs
 * (enum case, numbers sent as strings, MRI ids, unknown properties) and
 * strict about the envelope.
 */
#ifndef POLREC_NOTIF_H
#define POLREC_NOTIF_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define NOTIF_MAX_BODY		(1024 * 1024)	/* default body limit */
#define NOTIF_MAX_BATCH		256		/* value[] elements per POST */
#define NOTIF_MAX_ID		256		/* call / participant id length */

enum notif_change {
	NOTIF_CHANGE_UNKNOWN = 0,
	NOTIF_CHANGE_CREATED,
	NOTIF_CHANGE_UPDATED,
	NOTIF_CHANGE_DELETED,
};

/* What the resourceUrl names below /communications/calls/{id}. */
enum notif_sub {
	NOTIF_SUB_NONE = 0,		/* the call itself */
	NOTIF_SUB_PARTICIPANTS,		/* .../participants[/{id}] */
	NOTIF_SUB_OPERATIONS,		/* .../operations/{id} */
	NOTIF_SUB_CONTENTSHARING,	/* .../contentsharingsessions/{id} */
	NOTIF_SUB_OTHER,		/* anything else below the call */
};

/* The resourceData kind, from its @odata.type (or its shape). */
enum notif_kind {
	NOTIF_KIND_OTHER = 0,		/* unknown or absent resourceData */
	NOTIF_KIND_CALL,		/* #microsoft.graph.call */
	NOTIF_KIND_PARTICIPANTS,	/* array of #microsoft.graph.participant */
	NOTIF_KIND_JOINING,		/* #microsoft.graph.participantJoiningNotification */
	NOTIF_KIND_LEFT,		/* #microsoft.graph.participantLeftNotification */
	NOTIF_KIND_OPERATION,		/* #microsoft.graph.*Operation */
};

/* CSDL callState, plus UNKNOWN for absent or unrecognised values. */
enum call_state {
	CALL_STATE_UNKNOWN = 0,
	CALL_STATE_INCOMING,
	CALL_STATE_ESTABLISHING,
	CALL_STATE_ESTABLISHED,
	CALL_STATE_HOLD,
	CALL_STATE_TRANSFERRING,
	CALL_STATE_TRANSFER_ACCEPTED,
	CALL_STATE_REDIRECTING,
	CALL_STATE_TERMINATING,
	CALL_STATE_TERMINATED,
};

/* One identity out of an identitySet: the first of user, application,
 * applicationInstance, phone, guest, ... that is present. */
struct identity {
	const char	*kind;		/* "user", "applicationInstance", ... */
	const char	*id;
	const char	*display_name;
	const char	*tenant_id;
};

struct participant_info {
	const char	*participant_id;	/* participantInfo.id / participantId */
	struct identity	 identity;
	const char	*endpoint_type;
	const char	*region;
	const char	*country_code;
};

struct recorder_ref {			/* botData.pairedRecorders[] entries */
	const char	*id;
	const char	*participant_id;
};

struct bot_user {			/* botData.user / otherSideUser */
	const char	*id;
	const char	*participant_id;
	const char	*tenant_id;
	const char	*on_behalf_of_id;
	const char	*participation_method;
	const char	*client_location;
	const char	*policy_holder_id;
	const char	*policy_holder_tenant_id;
};

struct bot_data {
	int		 present;
	const char	**invite_reasons;
	size_t		 n_invite_reasons;
	const char	*policy_identifier;
	struct recorder_ref *paired_recorders;
	size_t		 n_paired_recorders;
	struct recorder_ref *other_recorders;
	size_t		 n_other_recorders;
	struct bot_user	 user;
	struct bot_user	 other_side_user;
	const char	*media_hosted_region;
	const char	*call_id;		/* observed: == callChainId */
	const struct cJSON *raw;		/* the whole botData object */
};

struct incoming_context {
	int		 present;
	const char	*source_participant_id;
	const char	*observed_participant_id;
	struct identity	 on_behalf_of;
	struct identity	 transferor;
};

/* resultInfo codes arrive as numbers or strings; both forms are kept. */
struct result_info {
	int		 present;
	long long	 code;			/* -1 when absent or not numeric */
	long long	 subcode;
	const char	*code_text;		/* as sent, when sent as a string */
	const char	*subcode_text;
	const char	*message;
};

/*
 * A resultInfo as "code/subcode", each as sent (a string, cleaned for
 * logs) or as its number; "" when absent.  Returns buf.
 */
char	*notif_result_text(const struct result_info *, char *buf, size_t len);

struct meeting_info {
	const char	*type;			/* @odata.type, e.g. tokenMeetingInfo */
	const char	*token;			/* personal: sealed at rest later */
	const char	*join_url;
	const char	*organizer_id;
};

struct chat_info {
	const char	*thread_id;
	const char	*message_id;
	const char	*reply_chain_message_id;
};

struct call_data {
	enum call_state	 state;
	const char	*state_text;		/* as sent */
	const char	*direction;
	const char	*id;			/* resourceData.id */
	const char	*tenant_id;
	const char	*call_chain_id;
	const char	*my_participant_id;
	const char	*callback_uri;
	struct participant_info source;
	struct participant_info *targets;
	size_t		 n_targets;
	const char	**requested_modalities;
	size_t		 n_requested_modalities;
	struct incoming_context incoming;
	struct meeting_info meeting;
	struct chat_info chat;
	struct bot_data	 bot;
	struct result_info result;
	const char	*termination_reason;
};

struct participant {
	const char	*id;
	struct participant_info info;
	int		 is_in_lobby;
	int		 is_muted;
	int		 removed;		/* removedState present */
	const char	*removed_reason;
	long long	 roster_sequence;	/* -1 when absent */
	const char	*recording_status;	/* recordingInfo.recordingStatus */
};

struct joining_notification {		/* participantJoiningNotification */
	const char	*id;
	struct call_data call;			/* its "call" property */
};

struct left_notification {		/* participantLeftNotification */
	const char	*id;
	const char	*participant_id;
	struct call_data call;
};

struct operation {
	const char	*type;			/* @odata.type, e.g. #...updateRecordingStatusOperation */
	const char	*id;
	const char	*status;		/* notStarted|running|completed|failed */
	const char	*client_context;
	struct result_info result;
};

struct notification {
	enum notif_change change;
	const char	*change_text;
	const char	*resource_url;		/* resourceUrl (or legacy resource) */
	char		 call_id[NOTIF_MAX_ID + 1];	/* from the URL; "" if none */
	enum notif_sub	 sub;
	char		 sub_id[NOTIF_MAX_ID + 1];	/* id below the sub, or "" */
	enum notif_kind	 kind;
	const char	*odata_type;		/* resourceData @odata.type */
	const struct cJSON *raw;		/* the whole value[] entry */

	/* Exactly one of these is filled, according to kind. */
	struct call_data call;			/* NOTIF_KIND_CALL */
	struct participant *participants;	/* NOTIF_KIND_PARTICIPANTS */
	size_t		 n_participants;
	long long	 roster_sequence;	/* deltaParticipants.sequenceNumber, -1 */
	struct joining_notification joining;	/* NOTIF_KIND_JOINING */
	struct left_notification left;		/* NOTIF_KIND_LEFT */
	struct operation operation;		/* NOTIF_KIND_OPERATION */
};

struct notif_batch {
	struct cJSON	*root;			/* owned */
	struct notification *v;
	size_t		 n;
};

/*
 * Parse a webhook body.  Returns 0 and a batch, or -1 with a short
 * reason in err (suitable for a 400 body: no input echoed back).
 */
int	 notif_parse(const char *body, size_t len, struct notif_batch **out,
	    char *err, size_t errlen);
void	 notif_batch_free(struct notif_batch *);

/*
 * Whether a body that notif_parse refused is a notification in the
 * legacy (pre-Graph, Skype Bot Platform for Calling) format, which Teams
 * sends again in Graph format when answered 204 No Content.  UNCONFIRMED:
 * no legacy body sent to a Graph bot was ever published; what is
 * recognised is the legacy calling API's own documented shapes, and only
 * in a JSON object that is no commsNotifications (no "value", no
 * "@odata.type"), has a string "id", and either a string "callState"
 * with a "participants" or "presentedModalityTypes" array or an
 * "operationOutcome" object (Conversation, ConversationResult), or a
 * string "type" with a string "currentState" (a callStateChange
 * notification).  Anything else stays a 400.
 */
int	 notif_is_legacy(const char *body, size_t len);

/*
 * The call chain id of a call resource: its callChainId; else header,
 * the request's X-Microsoft-Skype-Chain-ID (may be NULL); else
 * botData.callId (observed equal to the chain id).  A value that is too
 * long or not in the id alphabet is passed over.  *source, when not
 * NULL, names where it came from: "callChainId", "header",
 * "botData.callId", or NULL with a NULL result.
 */
const char *notif_chain_id(const struct call_data *, const char *header,
	    const char **source);

/*
 * A policy-based recording invitation: a call notification in state
 * incoming with botData or incomingContext.observedParticipantId.
 */
int	 notif_is_invitation(const struct notification *);

const char *notif_kind_name(enum notif_kind);
const char *notif_change_name(enum notif_change);
const char *call_state_name(enum call_state);

#endif
