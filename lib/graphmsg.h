/*
 * Graph messages: the request bodies polrecd sends to the calls API, the
 * token endpoint and the media agent, and the parsers for what comes
 * back.  Builders take plain structs and return a malloc'd JSON string;
 * parsers take untrusted bytes, never crash, and copy what they keep
 * into fixed buffers (truncating, always NUL-terminated).  No I/O.
 */
#ifndef POLREC_GRAPHMSG_H
#define POLREC_GRAPHMSG_H

#include <stddef.h>

#include "conf.h"
#include "notif.h"

#define GRAPHMSG_MAX_CONTEXT	256	/* clientContext, as Graph limits it */
#define GRAPHMSG_MAX_BLOB	(256 * 1024)	/* media agent blob */
#define GRAPHMSG_MAX_TOKEN	(16 * 1024)	/* access token */

/* POST /communications/calls/{id}/answer */
struct answer_spec {
	const char		*callback_uri;
	const char *const	*modalities;	/* NULL-terminated, >= 1 */
	enum media_mode		 media;
	const char		*blob;		/* MEDIA_APP: required */
	long long		 participant_capacity;	/* sent when > 1 */
	int			 delta_roster;	/* isDeltaRosterEnabled */
};

/*
 * {"callbackUri", "acceptedModalities", "mediaConfig" (a
 * serviceHostedMediaConfig, or an appHostedMediaConfig carrying the
 * blob), "callOptions" (incomingCallOptions with isDeltaRosterEnabled),
 * "participantCapacity" (only when > 1)}.  NULL on a bad spec.
 */
char	*graphmsg_answer(const struct answer_spec *);

/* POST .../reject: {"reason": "busy"|"forbidden"|"none", "callbackUri"}. */
char	*graphmsg_reject(const char *reason, const char *callback_uri);

/* POST .../updateRecordingStatus: {"clientContext", "status"}. */
char	*graphmsg_recording_status(const char *status,
	    const char *client_context);

/* The media agent's blob request (see polrecd.conf(5), MEDIA AGENT). */
struct media_request {
	const char	*call_id;
	const char	*tenant_id;		/* NULL: sent as null */
	const char	*call_chain_id;
	const char	*policy_identifier;
	const char	*observed_participant_id;
	const char *const *modalities;		/* NULL-terminated */
	long long	 deadline_ms;		/* time left to answer */
	const char	*events_url;
};
char	*graphmsg_media_request(const struct media_request *);

/*
 * Graph's error body {"error":{"code","message","innerError":{
 * "request-id","client-request-id","date"}}}.  Returns 0 when an error
 * object was found (fields it lacks are ""), -1 otherwise.
 */
struct graph_error {
	char	 code[64];
	char	 message[256];
	char	 request_id[64];
	char	 client_request_id[64];
};
int	 graphmsg_parse_error(const char *body, size_t len,
	    struct graph_error *);

/*
 * The token endpoint's reply.  Success: {"access_token", "expires_in"
 * (number or numeric string), "token_type": "Bearer"}: returns 0, sets
 * *token (malloc'd; the caller wipes and frees it) and *expires_in
 * (seconds, clamped to 60..86400).  Otherwise -1 with a reason in err:
 * Entra's "error: error_description" (truncated), or what was wrong.
 */
int	 graphmsg_parse_token(const char *body, size_t len, char **token,
	    long long *expires_in, char *err, size_t errlen);

/*
 * A commsOperation as updateRecordingStatus answers it (200 body) or as
 * an operation notification carries it: {"@odata.type", "id", "status"
 * (notStarted|running|completed|failed, any case), "clientContext",
 * "resultInfo": {code, subcode, message}}.  Returns 0 if the body is an
 * object (missing fields are "" and -1), -1 otherwise.
 */
enum op_status {
	OP_STATUS_UNKNOWN = 0,
	OP_STATUS_NOT_STARTED,
	OP_STATUS_RUNNING,
	OP_STATUS_COMPLETED,
	OP_STATUS_FAILED,
};
struct comms_operation {
	enum op_status	 status;
	char		 id[64];
	char		 client_context[GRAPHMSG_MAX_CONTEXT + 1];
	long long	 code;			/* resultInfo; -1 when absent */
	long long	 subcode;
	char		 message[128];
};
/* A call resource (GET /communications/calls/{id}): its state,
 * CALL_STATE_UNKNOWN when absent or unknown.  0, or -1 when the body is
 * not a JSON object. */
int	 graphmsg_parse_call_state(const char *body, size_t len,
	    enum call_state *);
int	 graphmsg_parse_operation(const char *body, size_t len,
	    struct comms_operation *);
enum op_status graphmsg_op_status(const char *);	/* case-insensitive */
const char *graphmsg_op_status_name(enum op_status);

/* The media agent's reply {"blob": "<non-empty string>"}: 0 and *blob
 * (malloc'd), or -1 with a reason. */
int	 graphmsg_parse_blob(const char *body, size_t len, char **blob,
	    char *err, size_t errlen);

/* A media agent event {"callId", "event", "reason"}. */
enum media_event_kind {
	MEDIA_CAPTURE_STARTED = 1,
	MEDIA_CAPTURE_STOPPED,
	MEDIA_CAPTURE_FAILED,
};
struct media_event {
	enum media_event_kind	 kind;
	char			 call_id[257];
	char			 reason[128];	/* "" when absent */
};
int	 graphmsg_parse_media_event(const char *body, size_t len,
	    struct media_event *, char *err, size_t errlen);
const char *graphmsg_media_event_name(enum media_event_kind);

/*
 * Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3), relative
 * to now (Unix seconds).  Returns seconds (0 for a date in the past,
 * capped at 86400), or -1 when absent or unparseable.
 */
long long graphmsg_retry_after(const char *value, long long now);

/* A random RFC 4122 version 4 UUID, lower case (libsodium's RNG). */
void	 graphmsg_uuid(char out[37]);

#endif
