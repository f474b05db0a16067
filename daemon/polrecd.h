/* polrecd's private header: the daemon context and its modules' entry points. */
#ifndef POLRECD_H
#define POLRECD_H

#include <stdint.h>
#include <time.h>

#include "latwin.h"
#include "metric.h"

#define POLREC_VERSION	"0.1.0"
#define STOP_SETTLE_SEC		10	/* a stop waits for outcomes */
#define REPLAY_MAX_ENTRIES	200000	/* message ids remembered */

struct event_base;
struct event;
struct evhttp_request;
struct conf;
struct http;
struct control;
struct fetch;
struct keys;
struct replay;
struct tokens;
struct legs;
struct commit;
struct journal;
struct trail;
struct trail_event;
struct call_leg;
struct resume;
struct waiter;
struct sqlite3;
struct alarms;
struct admin;
struct systemd;

/*
 * Counters, exported flat by name (later `polrecctl show stats` and the
 * metrics endpoint).  Never rename a member; add new ones.
 */
struct stats {
	uint64_t	 http_requests;
	uint64_t	 http_not_found;
	uint64_t	 http_bad_method;
	uint64_t	 http_bad_content_type;
	uint64_t	 http_malformed;
	uint64_t	 notifications_received;
	uint64_t	 invitations_received;
	uint64_t	 auth_ok;
	uint64_t	 auth_cached;	/* of auth_ok: verified before */
	uint64_t	 auth_failed;
	uint64_t	 auth_unavailable;	/* 503: no keys yet */
	uint64_t	 auth_tenant_mismatch;	/* 403: token of another tenant */
	uint64_t	 tenant_not_allowed;	/* 403: a tenant not served */
	uint64_t	 replays;
	uint64_t	 key_fetches;
	uint64_t	 key_fetch_failures;
	uint64_t	 key_refetches;		/* started for unknown kids */
	uint64_t	 auth_key_deferred;	/* 503: kid not judged yet */
	uint64_t	 token_fetches;
	uint64_t	 token_failures;
	uint64_t	 graph_requests;
	uint64_t	 graph_retries;
	uint64_t	 graph_failures;
	uint64_t	 graph_missed;
	uint64_t	 legs_created;
	uint64_t	 legs_ended;
	uint64_t	 duplicate_invitations;
	uint64_t	 answers_sent;
	uint64_t	 answers_ok;
	uint64_t	 answers_missed;
	uint64_t	 answers_confirmed;	/* taken, said by Graph's GET */
	uint64_t	 confirm_started;	/* outcomes asked of Graph */
	uint64_t	 confirm_verdicts;
	uint64_t	 confirm_retries;	/* Graph did not say; asked again */
	uint64_t	 invitations_reopened;	/* re-sent after a miss */
	uint64_t	 answer_failures;
	uint64_t	 rejects_sent;
	uint64_t	 rejects_ok;
	uint64_t	 invitations_redirected;	/* 302 to redirect_url */
	uint64_t	 notifications_legacy;	/* 204: legacy format */
	uint64_t	 answer_latency_max_us;	/* arrival to Graph's 202 */
	uint64_t	 notifications_unknown_call;
	uint64_t	 recording_updates;
	uint64_t	 recording_confirmed;
	uint64_t	 recording_update_failures;
	uint64_t	 recording_refused;	/* 403: the leg's recording failed */
	uint64_t	 recording_no_capture;	/* established, no capture source */
	uint64_t	 keepalives_ok;
	uint64_t	 keepalive_failures;
	uint64_t	 media_agent_failures;
	uint64_t	 media_events;
	uint64_t	 media_events_refused;
	uint64_t	 joins_accepted;
	uint64_t	 joins_rejected;
	uint64_t	 joins_invited;
	uint64_t	 joins_repeated;	/* retransmits, answered as before */
	uint64_t	 joins_slots_freed;	/* by participantLeft or roster */
	uint64_t	 joins_not_answered;	/* not first in their request */
	uint64_t	 joins_taken_back;	/* their request's commit failed */
	uint64_t	 joins_pending_forgotten; /* past GROUP_PENDING_MAX */
	uint64_t	 commits;
	uint64_t	 commit_failures;
	uint64_t	 commit_us_max;
	uint64_t	 replies_refused_storage;	/* 503: not committed */
	uint64_t	 legs_restored;
	uint64_t	 legs_restore_refused;	/* rows that did not load */
	uint64_t	 restore_checks;
	uint64_t	 restore_ended;	/* Graph no longer knew them */
	uint64_t	 audit_events;
	uint64_t	 audit_events_dropped;	/* always 0: nothing is dropped */
	uint64_t	 audit_checkpoints;	/* signed and committed */
	uint64_t	 notifications_refused;	/* aggregated in the trail */
	uint64_t	 notifications_refused_backlog;	/* 503: events pending */
	uint64_t	 witness_accepted;	/* checkpoints a witness took */
	uint64_t	 witness_failures;	/* attempts that failed */
	uint64_t	 timestamps;		/* RFC 3161 tokens received */
	uint64_t	 timestamp_failures;
	uint64_t	 integrity_breaks;	/* found at start-up */
	uint64_t	 disk_reserve_released;
	uint64_t	 http_dropped_refused;	/* read on a refused connection */
	uint64_t	 notifications_refused_disk;
};

/*
 * What the metrics endpoint shows beyond struct stats: distributions and
 * counts by a label, each with a bounded set of values.
 */
struct metrics {
	struct histogram m_answer_latency;	/* seconds, arrival to 2xx */
	struct histogram m_commit_latency;	/* seconds */
	struct histogram m_commit_batch;	/* events in a commit */
	struct labelset	 m_notifications;	/* "kind/outcome" */
	struct labelset	 m_auth_failures;	/* reason */
	struct labelset	 m_graph_status;	/* HTTP status, or "error" */
	struct labelset	 m_graph_code;		/* Graph's error code */
};

struct polrecd {
	struct event_base *sc_base;
	struct conf	*sc_conf;
	const char	*sc_conf_path;
	struct http	*sc_http;
	struct control	*sc_control;
	struct fetch	*sc_fetch;
	struct keys	*sc_keys;
	struct tokcache	*sc_verified;	/* tokens verified, by hash */
	struct replay	*sc_replay;
	struct tokens	*sc_tokens;	/* one per tenant served */
	struct legs	*sc_legs;
	struct commit	*sc_commit;
	struct journal	*sc_journal;
	struct resume	*sc_resume;
	struct witness	*sc_witness;
	struct refused	*sc_refused;
	struct reserve	*sc_reserve;
	int		 sc_disk_low;	/* the reserve is spent */
	/* Reload the configuration (polrecctl reload): 0, or -1 with why. */
	int		(*sc_reload)(struct polrecd *, const char *by,
			    char *err, size_t errlen);
	char		*sc_media_secret;	/* sodium_malloc'd */
	int		 sc_draining;
	struct event	*sc_ev_sigterm;
	struct event	*sc_ev_sigint;
	struct event	*sc_ev_sighup;
	struct event	*sc_ev_housekeeping;
	struct event	*sc_ev_stop;	/* stopping: outcomes to settle */
	uint64_t	 sc_stop_by;
	struct stats	 sc_stats;
	struct metrics	 sc_metrics;
	struct alarms	*sc_alarms;
	struct latwin	 sc_latency;	/* answers, last 5 minutes */
#define CONTROL_LATENCY_WINDOW_US	(300ULL * 1000000)
	struct admin	*sc_admin;
	struct systemd	*sc_systemd;	/* NULL: not under systemd */
	struct timespec	 sc_started;
};

/* polrecd.c */
uint64_t	 polrecd_now_us(void);		/* CLOCK_MONOTONIC, µs */
int64_t		 polrecd_utc_us(void);		/* CLOCK_REALTIME, µs */
int64_t		 polrecd_utc_of(uint64_t mono_us);	/* then, as UTC */
uint64_t	 polrecd_mono_of(int64_t utc_us);	/* and back */

/* confcheck.c: polrecd -n, the files a configuration names; problems */
int		 confcheck_files(const struct conf *);

/* startcheck.c: the database polrecd finds at start-up */
int		 startcheck_database(const struct conf *, int checkonly,
		    char **authz, long long *uid);
void		 startcheck_done(const struct conf *);

/* writer.c: the database writer thread, the one boundary between threads */
struct writer;
typedef int	(*writer_work_fn)(void *);	/* on the thread */
typedef void	(*writer_done_fn)(void *, int);	/* on the loop, after */
struct writer	*writer_new(struct event_base *, writer_work_fn,
		    writer_done_fn, void *);
void		 writer_submit(struct writer *);
int		 writer_busy(const struct writer *);
void		 writer_settle(struct writer *);
void		 writer_finish(struct writer *);
void		 writer_free(struct writer *);

/* commit.c */
struct commit	*commit_new(struct polrecd *);
void		 commit_flush(struct commit *);
void		 commit_free(struct commit *);
struct sqlite3	*commit_db(struct commit *);
int		 commit_busy(const struct commit *);
int		 commit_schema_was(const struct commit *);
void		 commit_want(struct commit *);
void		 commit_wait(struct commit *, struct waiter *,
		    void (*)(void *), void *);
void		 commit_unwait(struct commit *, struct waiter *);
int		 commit_ok(const struct commit *);

/* journal.c: audit events, appended to the trail in the turn's commit */
struct journal	*journal_new(struct polrecd *);
void		 journal_free(struct journal *);
void		 journal_event_init(struct trail_event *, const char *kind);
void		 journal_event_leg(struct trail_event *,
		    const struct call_leg *);
void		 journal_add(struct polrecd *, const struct trail_event *);
int		 journal_dirty(const struct polrecd *);
int		 journal_backlog(const struct polrecd *);
size_t		 journal_held(const struct polrecd *);
void		 journal_clock_turn(void);
void		 journal_take(struct polrecd *);
int		 journal_write(struct journal *, char *err, size_t errlen);
void		 journal_written(struct journal *, int committed);
void		 journal_done(struct polrecd *, int committed);
void		 journal_tick(struct polrecd *);
void		 journal_sign_now(struct polrecd *);
int		 journal_prune(struct polrecd *, int64_t before_utc_us,
		    unsigned int uid, int64_t *removed, char *err,
		    size_t errlen);
int		 journal_acknowledge(struct polrecd *, int64_t seq,
		    unsigned int uid, int64_t *acked, char *err,
		    size_t errlen);
int		 journal_alarm(const struct polrecd *, int64_t *seq,
		    int64_t *first_bad, const char **problem);
void		 journal_add_timestamp(struct polrecd *, int64_t seq,
		    int64_t gen_utc_us, const unsigned char *token,
		    size_t len);
struct audit_checkpoint;
typedef void	(*journal_checkpoint_cb)(struct polrecd *,
		    const struct audit_checkpoint *,
		    const unsigned char *pk, void *);
void		 journal_on_checkpoint(struct polrecd *,
		    journal_checkpoint_cb, void *);
/* Each event as it is added (before it is stored). */
typedef void	(*journal_event_cb)(struct polrecd *,
		    const struct trail_event *, void *);
void		 journal_on_event(struct polrecd *, journal_event_cb, void *);
int		 journal_checkpoint_state(const struct polrecd *, int64_t *seq,
		    int64_t *utc_us);
void		 journal_clock(int *synced, int64_t *maxerror_us,
		    int64_t *esterror_us);
struct trail	*journal_trail(struct polrecd *);
char		*journal_recorders(const void *refs, size_t n);
struct graph_result;
void		 journal_graph_result(struct trail_event *,
		    const struct graph_result *);
uint64_t	 journal_request_begin(struct polrecd *);
void		 journal_request_end(struct polrecd *);
size_t		 journal_request_drop(struct polrecd *, uint64_t);
uint64_t	 journal_request_current(const struct polrecd *);
void		 journal_leg(struct polrecd *, const struct call_leg *,
		    const char *kind, const char *outcome, const char *reason,
		    const char *detail, const struct graph_result *);
void		 journal_simple(struct polrecd *, const char *kind,
		    const char *outcome, const char *reason, const char *detail);

/* refused.c: refused requests, aggregated into the trail once a second */
/* replays.c: acknowledged message ids, back after a restart */
void		 replays_restore(struct polrecd *);

/* reserve.c: room on the database's file system for the evidence */
struct reserve	*reserve_new(struct polrecd *);
void		 reserve_free(struct reserve *);
int		 reserve_release(struct reserve *);
int		 reserve_disk_full(const struct reserve *);
long long	 reserve_free_bytes(const struct reserve *);
long long	 reserve_size(const struct reserve *);
struct cJSON;
void		 reserve_status(const struct reserve *, struct cJSON *);

struct refused	*refused_new(struct polrecd *);
void		 refused_free(struct refused *);
void		 refused_note(struct polrecd *, const char *outcome,
		    const char *reason, int status, const char *addr,
		    const char *call_id);

/* witness.c: checkpoints to the witness and the time stamping authority */
struct witness	*witness_new(struct polrecd *);
void		 witness_free(struct witness *);
/* The longest a peer has failed, from its first failure on; 0: none. */
uint64_t	 witness_failing_us(const struct witness *, char *why,
		    size_t whylen);
struct witness_state {
	const char	*name;		/* "witness", "timestamp" */
	const char	*url;		/* NULL: not configured */
	int64_t		 ok_utc_us;	/* last success, 0: none yet */
	int64_t		 ok_seq;	/* the checkpoint it took */
	uint64_t	 failures;	/* attempts failed since start-up */
	uint64_t	 failing_us;	/* failing for, 0: not failing */
	const char	*last_error;	/* while failing */
};
int		 witness_state(const struct witness *, int,
		    struct witness_state *);

/* alarms.c: named conditions, evaluated every second, edges logged */
struct alarms	*alarms_new(struct polrecd *);
void		 alarms_free(struct alarms *);
void		 alarms_eval(struct polrecd *);
void		 alarms_status(const struct polrecd *, struct cJSON *);
/* Why the recorder cannot answer now, one reason a line; "" if ready. */
int		 alarms_readiness(const struct polrecd *, FILE *);
void		 alarms_report(const struct polrecd *, FILE *);
void		 alarms_metrics(const struct polrecd *, FILE *);


/* systemd.c: sd_notify, READY, STATUS, RELOADING, STOPPING, WATCHDOG */
struct systemd	*systemd_new(struct polrecd *);
void		 systemd_free(struct systemd *);
void		 systemd_reloading(struct systemd *);
void		 systemd_reloaded(struct systemd *, const char *failed);
void		 systemd_stopping(struct systemd *);

/* admin.c: the admin listener (metrics, health) */
struct admin	*admin_new(struct polrecd *);
void		 admin_free(struct admin *);
int		 admin_listening(const struct admin *);

/* metrics.c: the Prometheus text of /metrics */
void		 metrics_init(struct polrecd *);
void		 metrics_write(const struct polrecd *, FILE *);

/* http.c */
struct http	*http_new(struct polrecd *);
void		 http_free(struct http *);
int		 http_reconfigure(struct http *);
unsigned long long http_refused(const struct http *);
struct admit_stats;
const struct admit_stats *http_admit_stats(const struct http *);
long long	 http_open_connections(const struct http *);
const char	*http_self_url(const struct http *);
void		 http_reply_error(struct evhttp_request *, int, const char *,
		    const char *);

/* control.c */
struct control	*control_new(struct polrecd *);
void		 control_free(struct control *);
int		 control_clients(const struct control *);

/* ingest.c */
void		 ingest_request(struct polrecd *, struct evhttp_request *,
		    uint64_t);

#endif
