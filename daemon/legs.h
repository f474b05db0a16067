/*
 * The call legs this host handles: one struct per leg, from the
 * invitation to some minutes after its end (kept that long so that a
 * duplicate or late notification is recognised, then freed).  legs.c
 * keeps the table and applies notifications; answer.c decides and
 * answers invitations; recording.c reports the recording status and
 * keeps the leg alive; media.c talks to the media agent.
 */
#ifndef POLRECD_LEGS_H
#define POLRECD_LEGS_H

#include <sys/queue.h>

#include <stdint.h>

#include "decide.h"
#include "graphmsg.h"
#include "leg.h"
#include "waitq.h"

struct polrecd;
struct notification;
struct recorder_group;
struct graph_op;
struct event;
struct evhttp_request;
struct sqlite3;
struct graph_result;

#define LEG_KEEP_ENDED_SEC	300	/* ended legs remembered */

/* What became of the invitation. */
enum leg_outcome {
	OUTCOME_PENDING = 0,
	OUTCOME_ANSWERED,	/* answer accepted by Graph (202) */
	OUTCOME_REJECTED,	/* reject accepted by Graph */
	OUTCOME_MISSED,		/* no answer could be sent in the budget */
	OUTCOME_FAILED,		/* Graph refused the answer or reject */
	OUTCOME_REDIRECTED,	/* 302 Found to [recording] redirect_url */
};

/*
 * One webhook request as the notifications of its batch see it, and
 * what they ask of its HTTP reply beyond the default (202, or 200 and a
 * join decision): an invitation redirected elsewhere is answered 302
 * Found with a Location, which Teams follows with the same request.
 */
struct notify_req {
	const char	*nr_msgid;	/* for logs */
	const char	*nr_chain;	/* X-Microsoft-Skype-Chain-ID, or NULL */
	int		 nr_may_redirect;	/* the batch's only notification */
	const char	*nr_redirected;	/* the X-Plat-Redirect-* header the
					   request carries, or NULL */
	int		 nr_status;	/* out: 0, or 302 */
	char		*nr_location;	/* out: with 302, malloc'd */
};

/* Capture as the media agent reports it (app-hosted media). */
enum capture_state {
	CAPTURE_UNKNOWN = 0,
	CAPTURE_RUNNING,
	CAPTURE_STOPPED,
	CAPTURE_FAILED,
};

/*
 * The recording status reported to Graph; REC_NONE: never reported.
 * REC_REFUSED is never sent: Graph refused updateRecordingStatus for the
 * leg (403, code 8506 and the like), so the leg's recording is failed
 * and no further update is sent.
 */
enum rec_status {
	REC_NONE = 0,
	REC_RECORDING,
	REC_NOT_RECORDING,
	REC_FAILED,
	REC_REFUSED,
};

struct call_leg {
	TAILQ_ENTRY(call_leg)	 cl_entry;	/* live, or ended by end time */
	TAILQ_ENTRY(call_leg)	 cl_dirty_entry;	/* to be written */
	struct polrecd		*cl_sc;
	char			*cl_id;
	char			*cl_tenant;
	char			*cl_chain;
	char			*cl_policy;
	char			*cl_observed;
	char			*cl_paired;	/* JSON arrays of recorder ids */
	char			*cl_other;
	enum leg_state		 cl_state;
	enum leg_outcome	 cl_outcome;
	enum decision		 cl_decision;
	const char		*cl_reason;	/* static: why decided/ended */
	const char		*cl_end_reason;	/* static */
	uint64_t		 cl_arrival_us;	/* invitation arrived */
	uint64_t		 cl_ended_us;
	long long		 cl_result_code;	/* resultInfo, -1 */
	long long		 cl_result_subcode;
	char			*cl_result_text;	/* "code/subcode" as sent */
	char			*cl_termination;	/* terminationReason */

	struct roster		 cl_roster;

	/* Recording status: wanted vs reported, one update in flight. */
	enum capture_state	 cl_capture;
	enum rec_status		 cl_rec_wanted;
	enum rec_status		 cl_rec_sent;	/* in flight or done */
	enum rec_status		 cl_rec_confirmed;
	char			 cl_rec_context[37];
	struct graph_op		*cl_op_rec;
	unsigned int		 cl_rec_no_source:1;	/* said: no capture
							   source */

	struct graph_op		*cl_op_answer;	/* answer, reject, or the
						   GET that confirms them */
	struct event		*cl_ev_confirm;	/* ask Graph again */
	const char		*cl_confirm_why;	/* static */
	uint64_t		 cl_confirm_since;
	int			 cl_confirm_tries;
	const char		*cl_end_why;	/* static: ended by Graph while
						   the answer was in flight */
	struct graph_op		*cl_op_media;	/* blob request */
	struct graph_op		*cl_op_keepalive;
	struct event		*cl_ev_keepalive;
	int			 cl_blob_issued;	/* agent holds a session */
	struct recorder_group	*cl_group;	/* from the answer on */
	const char		*cl_callback;	/* interned: answered with */
	uint32_t		 cl_capacity;	/* participantCapacity */
	unsigned int		 cl_dirty:1;	/* row to be written */
	unsigned int		 cl_restored:1;	/* from the database */
	struct waiter		 cl_commit;	/* answer after the commit */
};

TAILQ_HEAD(call_legq, call_leg);

/* legs.c */
int		 legs_init(struct polrecd *);
void		 legs_shutdown(struct polrecd *);
struct call_leg	*legs_find(struct polrecd *, const char *id);
struct call_leg	*legs_create(struct polrecd *, const char *id);
void		 legs_end(struct polrecd *, struct call_leg *, const char *why);
void		 legs_reopen(struct polrecd *, struct call_leg *);
void		 legs_discard(struct polrecd *, struct call_leg *);
char		*legs_notify(struct polrecd *, struct call_leg *,
		    const struct notification *, uint64_t arrival_us,
		    struct notify_req *);
const unsigned char *legs_key(const struct polrecd *);
void		 legs_expire(struct polrecd *);
size_t		 legs_live(const struct polrecd *);
size_t		 legs_unsettled(const struct polrecd *);
const char	*legs_outcome_name(enum leg_outcome);
const struct call_legq *legs_all(const struct polrecd *);
const struct call_legq *legs_ended(const struct polrecd *);
void		 legs_touch(struct polrecd *, struct call_leg *);
struct call_legq *legs_dirty(struct polrecd *);
int64_t		 legs_forget_before(struct polrecd *, int clear);
void		 legs_forget_again(struct polrecd *, int64_t before);
struct call_leg	*legs_restore_one(struct polrecd *, const char *id,
		    uint64_t ended_us);
const char	*legs_intern(struct polrecd *, const char *);
const char	*legs_capture_name(enum capture_state);

/* legstore.c: the legs' rows in the database */
int		 legstore_dirty(struct polrecd *);
struct legrows;
struct legrows	*legstore_take(struct polrecd *);
int		 legstore_write(const struct legrows *, struct sqlite3 *,
		    char *err, size_t errlen);
void		 legstore_done(struct polrecd *, struct legrows *,
		    int committed);
int		 legstore_restore(struct polrecd *);
void		 legstore_close(void);

/* resume.c: restored legs checked with Graph, kept alive */
void		 resume_start(struct polrecd *);
void		 resume_shutdown(struct polrecd *);

/* joins.c */
void		 joins_group_new(struct polrecd *, struct call_leg *);
char		*joins_decide(struct polrecd *, struct call_leg *,
		    const struct notification *);
void		 joins_left(struct polrecd *, struct call_leg *, const char *);
void		 joins_not_answered(struct polrecd *, const struct call_leg *,
		    const struct notification *, const char *);
void		 joins_request_done(struct polrecd *, uint64_t);
void		 joins_request_drop(struct polrecd *, uint64_t);
void		 joins_journal_leave(struct polrecd *, const struct call_leg *,
		    const char *pid, const char *by);

/*
 * confirm.c: what became of an answer or reject whose reply polrecd did
 * not see, asked of Graph until it says; cb gets the verdict (never
 * LEG_VERDICT_RECHECK) and Graph's last reply.
 */
typedef void	(*confirm_cb)(struct polrecd *, struct call_leg *,
		    enum leg_verdict, const char *why,
		    const struct graph_result *);
void		 confirm_start(struct polrecd *, struct call_leg *,
		    const char *why, confirm_cb);
void		 confirm_stop(struct call_leg *);
int		 confirm_active(const struct call_leg *);

/* answer.c */
void		 answer_confirm(struct polrecd *, struct call_leg *,
		    const char *why);
void		 answer_seen_up(struct polrecd *, struct call_leg *);
void		 answer_end_wanted(struct polrecd *, struct call_leg *,
		    const char *why, int sent);
void		 answer_invitation(struct polrecd *,
		    const struct notification *, uint64_t arrival_us,
		    struct notify_req *);
const char	*answer_callback_uri(struct polrecd *);
void		 answer_on_blob(struct polrecd *, struct call_leg *,
		    const char *blob, const char *why);

/* recording.c */
void		 recording_update(struct polrecd *, struct call_leg *);
void		 recording_operation(struct polrecd *, struct call_leg *,
		    const struct notification *);
void		 recording_start_keepalive(struct polrecd *, struct call_leg *);
void		 recording_keepalive_now(struct polrecd *, struct call_leg *);
const char	*recording_status_name(enum rec_status);
const char	*recording_shown(const struct polrecd *,
		    const struct call_leg *);
void		 recording_note_source(const struct polrecd *);

/* media.c */
int		 media_init(struct polrecd *);
void		 media_shutdown(struct polrecd *);
int		 media_reconfigure(struct polrecd *);
struct graph_op	*media_request_blob(struct polrecd *, struct call_leg *,
		    uint64_t deadline_us);
void		 media_release(struct polrecd *, struct call_leg *);
void		 media_event_request(struct polrecd *, struct evhttp_request *);

#endif
