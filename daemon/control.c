/*
 * The control socket: a unix stream socket on the event loop, framed
 * requests (lib/ctl.h) from polrecctl, peer credentials checked per
 * command.  Read-only commands are open to whoever may connect (mode
 * 0660: the admin group); mutating ones need root or the daemon's user.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "admit.h"
#include "conf.h"
#include "ctl.h"
#include "decide.h"
#include "fetch.h"
#include "graph.h"
#include "group.h"
#include "keyfile.h"
#include "keys.h"
#include "latwin.h"
#include "legs.h"
#include "log.h"
#include "polrecd.h"
#include "retention.h"
#include "trail.h"
#include "xmalloc.h"

#define CONTROL_MAX_CLIENTS	64
#define CONTROL_ROOT_SLOTS	8	/* of them, kept for root */
#define CONTROL_TIMEOUT_SEC	10	/* silent, or not reading replies */
#define CONTROL_MAX_LISTED	1000	/* legs in one show calls */
/* Replies waiting for a client: past this it is not read from until it
 * reads; one that does not is dropped at the timeout. */
#define CONTROL_MAX_PENDING	(4 * 1024 * 1024)
/* Monitors: how many at once, and the most a slow one may have waiting
 * before it is dropped (it is told why). */
#define CONTROL_MAX_MONITORS	8
#define CONTROL_MONITOR_PENDING	(64 * 1024)
/* Trail events listed by show call: the latest ones. */
#define CONTROL_CALL_EVENTS	200

struct control_client;
TAILQ_HEAD(control_clients, control_client);

struct control {
	struct polrecd		*c_sc;
	struct evconnlistener	*c_listener;
	char			*c_path;
	int			 c_nclients;
	struct control_clients	 c_clients;	/* oldest first */
	unsigned long long	 c_dropped;
	int			 c_nmonitors;
};

struct control_client {
	TAILQ_ENTRY(control_client) cc_entry;
	struct control		*cc_ctl;
	struct bufferevent	*cc_bev;
	uid_t			 cc_uid;
	pid_t			 cc_pid;
	int			 cc_closing;
	int			 cc_held;	/* reading stopped: replies wait */
	int			 cc_monitor;	/* events pushed to it */
};

typedef cJSON	*(*control_fn)(struct control_client *, int, char **,
		    const char **);

static const struct control_cmd {
	const char	*cmd;		/* the full words, space-separated */
	int		 mutating;
	control_fn	 fn;
	int		 nargs;		/* arguments after the words */
} *control_lookup(int, char **);

static void	 client_error(struct control_client *, const char *, int);
static cJSON	*cmd_show_status(struct control_client *, int, char **,
		    const char **);
static cJSON	*cmd_show_stats(struct control_client *, int, char **,
		    const char **);

static cJSON	*cmd_show_calls(struct control_client *, int, char **,
		    const char **);
static cJSON	*cmd_drain_on(struct control_client *, int, char **,
		    const char **);
static cJSON	*cmd_drain_off(struct control_client *, int, char **,
		    const char **);
static cJSON	*cmd_audit_prune(struct control_client *, int, char **,
		    const char **);
static cJSON	*cmd_audit_acknowledge(struct control_client *, int, char **,
		    const char **);
static cJSON	*cmd_reload(struct control_client *, int, char **,
		    const char **);
static cJSON	*cmd_show_call(struct control_client *, int, char **,
		    const char **);
static cJSON	*cmd_monitor(struct control_client *, int, char **,
		    const char **);

static const struct control_cmd control_cmds[] = {
	{ "show status", 0, cmd_show_status, 0 },
	{ "show stats", 0, cmd_show_stats, 0 },
	{ "show calls", 0, cmd_show_calls, 0 },
	{ "show call", 0, cmd_show_call, 1 },
	{ "monitor", 0, cmd_monitor, 0 },
	{ "drain on", 1, cmd_drain_on, 0 },
	{ "drain off", 1, cmd_drain_off, 0 },
	{ "audit prune", 1, cmd_audit_prune, 1 },
	{ "audit acknowledge", 1, cmd_audit_acknowledge, 1 },
	{ "reload", 1, cmd_reload, 0 },
};

static const struct control_cmd *
control_lookup(int argc, char **argv)
{
	char	 line[CTL_MAX_ARGS * (CTL_MAX_ARG_LEN + 1) + 1];
	size_t	 i, used = 0;
	int	 a;

	for (i = 0; i < sizeof(control_cmds) / sizeof(control_cmds[0]); i++) {
		if (argc < control_cmds[i].nargs)
			continue;
		line[0] = '\0';
		used = 0;
		for (a = 0; a < argc - control_cmds[i].nargs; a++)
			used += (size_t)snprintf(line + used,
			    sizeof(line) - used, "%s%s", a ? " " : "",
			    argv[a]);
		if (strcmp(control_cmds[i].cmd, line) == 0)
			return &control_cmds[i];
	}
	return NULL;
}

static void
iso_utc(char *buf, size_t len, time_t t)
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The integrity alarm, until an operator acknowledges it. */
static void
add_integrity(cJSON *o, const struct polrecd *sc)
{
	const char	*problem;
	int64_t		 seq, first_bad;
	char		 line[400];

	if (!journal_alarm(sc, &seq, &first_bad, &problem)) {
		cJSON_AddStringToObject(o, "integrity_alarm", "none");
		return;
	}
	if (seq > 0)
		snprintf(line, sizeof(line), "RAISED: integrity event %lld, "
		    "first bad event %lld: %s; acknowledge with `polrecctl "
		    "audit acknowledge %lld`", (long long)seq,
		    (long long)first_bad, problem, (long long)seq);
	else
		snprintf(line, sizeof(line), "RAISED: first bad event %lld: "
		    "%s (being recorded)", (long long)first_bad, problem);
	cJSON_AddStringToObject(o, "integrity_alarm", line);
}

/*
 * Each tenant's Graph token: whether it is usable, when it expires, how
 * many were fetched and failed, the last failure.  graph_token_expires_in
 * stays, as the soonest expiry of them all.
 */
static void
add_tokens(cJSON *o, const struct polrecd *sc)
{
	struct token_state	 st;
	cJSON			*arr, *t;
	long long		 soonest = -1;
	size_t			 i;

	arr = cJSON_CreateArray();
	for (i = 0; tokens_state(sc->sc_tokens, i, &st) == 0; i++) {
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "tenant", st.tenant);
		cJSON_AddStringToObject(t, "state", st.valid ? "valid" :
		    st.fetching ? "fetching" : st.failures > 0 ? "failing" :
		    "none");
		cJSON_AddNumberToObject(t, "expires_in", (double)st.expires_in);
		cJSON_AddNumberToObject(t, "fetches", (double)st.fetches);
		cJSON_AddNumberToObject(t, "failures", (double)st.failures);
		cJSON_AddStringToObject(t, "last_error", st.last_error);
		cJSON_AddItemToArray(arr, t);
		if (soonest == -1 || st.expires_in < soonest)
			soonest = st.expires_in;
	}
	cJSON_AddNumberToObject(o, "graph_token_expires_in",
	    (double)(soonest > 0 ? soonest : 0));
	cJSON_AddItemToObject(o, "tenants", arr);
}

/* A number, or null when it is not known. */
static void
add_number_or_null(cJSON *o, const char *name, int known, double v)
{
	if (known)
		cJSON_AddNumberToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

/* The clock every event is stamped with, as the kernel sees it. */
static void
add_clock(cJSON *o)
{
	int64_t		 maxerr, esterr;
	int		 synced;

	journal_clock(&synced, &maxerr, &esterr);
	cJSON_AddBoolToObject(o, "clock_synced", synced);
	add_number_or_null(o, "clock_maxerror_ms", maxerr >= 0,
	    (double)maxerr / 1000);
	add_number_or_null(o, "clock_esterror_ms", esterr >= 0,
	    (double)esterr / 1000);
}

/* Answer latency (arrival to Graph's 2xx), last 5 minutes. */
static void
add_latency(cJSON *o, const struct polrecd *sc)
{
	uint64_t	 now = polrecd_now_us(), p50 = 0, p99 = 0, n = 0;
	int		 have = 0;

	if (sc->sc_latency.lw_slot_us != 0 &&
	    latwin_quantile(&sc->sc_latency, now, 0.5, &p50, &n) == 0 &&
	    latwin_quantile(&sc->sc_latency, now, 0.99, &p99, &n) == 0)
		have = 1;
	cJSON_AddNumberToObject(o, "answers_5min", (double)n);
	add_number_or_null(o, "answer_latency_p50_ms", have,
	    (double)(p50 / 1000));
	add_number_or_null(o, "answer_latency_p99_ms", have,
	    (double)(p99 / 1000));
}

/*
 * The keys' ages: the appliance's audit signing key (its file's mtime
 * in key_dir) and the Graph signing keys (JWKS, last fetched).
 */
static void
add_key_ages(cJSON *o, const struct polrecd *sc)
{
	struct stat	 sb;
	char		 path[1024];
	uint64_t	 age = 0;
	time_t		 now = time(NULL);
	int		 first, known = 0;

	if (sc->sc_conf->auth_mode == AUTH_MODE_JWT)
		known = keys_age(sc->sc_keys, &age, &first);
	add_number_or_null(o, "jwks_age_seconds", known,
	    (double)(age / 1000000));
	known = sc->sc_conf->audit_key_dir != NULL &&
	    (size_t)snprintf(path, sizeof(path), "%s/%s",
	    sc->sc_conf->audit_key_dir, KEYFILE_SIGNING) < sizeof(path) &&
	    stat(path, &sb) == 0;
	add_number_or_null(o, "audit_key_age_days", known, known ?
	    (double)((now - sb.st_mtime) / 86400) : 0);
}

/* The last checkpoint, and whether checkpoints leave the host. */
static void
add_checkpoints(cJSON *o, const struct polrecd *sc)
{
	struct witness_state	 ws;
	int64_t			 seq = 0, utc = 0, now = polrecd_utc_us();
	char			 name[64], when[32];
	int			 i, have;

	have = journal_checkpoint_state(sc, &seq, &utc) == 0;
	add_number_or_null(o, "checkpoint_seq", have, (double)seq);
	add_number_or_null(o, "checkpoint_age_seconds", have,
	    (double)((now - utc) / 1000000));
	for (i = 0; witness_state(sc->sc_witness, i, &ws) == 0; i++) {
		if (ws.url == NULL) {
			cJSON_AddStringToObject(o, ws.name, "not configured");
			continue;
		}
		cJSON_AddStringToObject(o, ws.name, ws.failing_us > 0 ?
		    "failing" : ws.ok_utc_us > 0 ? "ok" : "waiting");
		snprintf(name, sizeof(name), "%s_last_ok", ws.name);
		if (ws.ok_utc_us > 0) {
			iso_utc(when, sizeof(when),
			    (time_t)(ws.ok_utc_us / 1000000));
			cJSON_AddStringToObject(o, name, when);
		} else
			cJSON_AddNullToObject(o, name);
		snprintf(name, sizeof(name), "%s_last_ok_seq", ws.name);
		add_number_or_null(o, name, ws.ok_utc_us > 0,
		    (double)ws.ok_seq);
		snprintf(name, sizeof(name), "%s_failures", ws.name);
		cJSON_AddNumberToObject(o, name, (double)ws.failures);
		if (ws.failing_us > 0) {
			snprintf(name, sizeof(name), "%s_failing_seconds",
			    ws.name);
			cJSON_AddNumberToObject(o, name,
			    (double)(ws.failing_us / 1000000));
			snprintf(name, sizeof(name), "%s_last_error",
			    ws.name);
			cJSON_AddStringToObject(o, name, ws.last_error);
		}
	}
}

static cJSON *
cmd_show_status(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	struct polrecd	*sc = cc->cc_ctl->c_sc;
	struct timespec	 now;
	cJSON		*o;
	char		 started[32];

	(void)argc;
	(void)argv;
	(void)err;
	clock_gettime(CLOCK_REALTIME, &now);
	iso_utc(started, sizeof(started), sc->sc_started.tv_sec);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "version", POLREC_VERSION);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	cJSON_AddStringToObject(o, "started", started);
	cJSON_AddNumberToObject(o, "uptime_seconds",
	    (double)(now.tv_sec - sc->sc_started.tv_sec));
	cJSON_AddStringToObject(o, "config", sc->sc_conf_path);
	cJSON_AddStringToObject(o, "listen", sc->sc_conf->http_listen);
	cJSON_AddStringToObject(o, "notification_path",
	    sc->sc_conf->http_notification_path);
	cJSON_AddStringToObject(o, "auth_mode",
	    conf_auth_mode_name(sc->sc_conf->auth_mode));
	cJSON_AddBoolToObject(o, "authenticated",
	    sc->sc_conf->auth_mode != AUTH_MODE_NONE);
	cJSON_AddStringToObject(o, "media",
	    conf_media_name(sc->sc_conf->recording_media));
	cJSON_AddStringToObject(o, "capture_source",
	    conf_capture_source_name(sc->sc_conf->recording_capture_source));
	cJSON_AddNumberToObject(o, "participant_capacity",
	    (double)sc->sc_conf->recording_participant_capacity);
	cJSON_AddBoolToObject(o, "draining", sc->sc_draining);
	cJSON_AddNumberToObject(o, "live_calls", (double)legs_live(sc));
	cJSON_AddNumberToObject(o, "max_calls",
	    (double)sc->sc_conf->recording_max_calls);
	add_clock(o);
	add_latency(o, sc);
	add_tokens(o, sc);
	add_key_ages(o, sc);
	add_checkpoints(o, sc);
	add_integrity(o, sc);
	alarms_status(sc, o);
	reserve_status(sc->sc_reserve, o);
	return o;
}

static void
add_leg(cJSON *arr, const struct call_leg *leg, uint64_t now)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", leg->cl_id);
	cJSON_AddStringToObject(o, "state", leg_state_name(leg->cl_state));
	cJSON_AddStringToObject(o, "outcome",
	    legs_outcome_name(leg->cl_outcome));
	cJSON_AddStringToObject(o, "recording",
	    recording_shown(leg->cl_sc, leg));
	cJSON_AddStringToObject(o, "tenant", leg->cl_tenant != NULL ?
	    leg->cl_tenant : "");
	cJSON_AddStringToObject(o, "policy", leg->cl_policy != NULL ?
	    leg->cl_policy : "");
	cJSON_AddNumberToObject(o, "age_seconds",
	    (double)((now - leg->cl_arrival_us) / 1000000));
	cJSON_AddNumberToObject(o, "participants", leg->cl_roster.n);
	if (leg->cl_group != NULL) {
		cJSON_AddNumberToObject(o, "group_used",
		    group_used(leg->cl_group));
		cJSON_AddNumberToObject(o, "group_capacity",
		    group_capacity(leg->cl_group));
	}
	if (leg->cl_ended_us != 0)
		cJSON_AddStringToObject(o, "ended", leg->cl_end_reason);
	if (leg->cl_result_text != NULL) {
		/* As sent, and as numbers (-1 when not numeric). */
		cJSON_AddStringToObject(o, "result", leg->cl_result_text);
		cJSON_AddNumberToObject(o, "result_code",
		    (double)leg->cl_result_code);
		cJSON_AddNumberToObject(o, "result_subcode",
		    (double)leg->cl_result_subcode);
	}
	cJSON_AddItemToArray(arr, o);
}

/* Live legs, then those ended in the last LEG_KEEP_ENDED_SEC. */
static cJSON *
cmd_show_calls(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	struct polrecd		*sc = cc->cc_ctl->c_sc;
	const struct call_leg	*leg;
	uint64_t		 now = polrecd_now_us();
	cJSON			*o, *arr;
	size_t			 n = 0;

	(void)argc;
	(void)argv;
	(void)err;
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "calls");
	TAILQ_FOREACH(leg, legs_all(sc), cl_entry)
		if (n++ < CONTROL_MAX_LISTED)
			add_leg(arr, leg, now);
	TAILQ_FOREACH(leg, legs_ended(sc), cl_entry)
		if (n++ < CONTROL_MAX_LISTED)
			add_leg(arr, leg, now);
	if (n > CONTROL_MAX_LISTED)
		cJSON_AddNumberToObject(o, "not_listed",
		    (double)(n - CONTROL_MAX_LISTED));
	return o;
}

/*
 * The trail's events about one call, the latest CONTROL_CALL_EVENTS,
 * read from the database through a read-only connection of its own (WAL:
 * the writer is not held).  Events not yet committed are not there yet.
 * -1 with a reason in err.
 */
static int
call_events(const struct polrecd *sc, const char *id, cJSON *arr,
    char *err, size_t errlen)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	cJSON		*e;
	char		 utc[40];
	const char	*t;
	int		 rc, rv = -1;

	if (sqlite3_open_v2(sc->sc_conf->audit_database, &db,
	    SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sc->sc_conf->audit_database,
		    db != NULL ? sqlite3_errmsg(db) : "cannot open");
		goto done;
	}
	sqlite3_busy_timeout(db, 100);
	if (sqlite3_prepare_v2(db, "SELECT seq, kind, outcome, utc_us FROM "
	    "(SELECT seq, kind, outcome, utc_us FROM audit_event WHERE "
	    "call_id = ?1 ORDER BY seq DESC LIMIT ?2) ORDER BY seq", -1, &st,
	    NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, CONTROL_CALL_EVENTS) != SQLITE_OK) {
		snprintf(err, errlen, "the trail: %s", sqlite3_errmsg(db));
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "seq",
		    (double)sqlite3_column_int64(st, 0));
		t = (const char *)sqlite3_column_text(st, 1);
		cJSON_AddStringToObject(e, "kind", t != NULL ? t : "");
		t = (const char *)sqlite3_column_text(st, 2);
		cJSON_AddStringToObject(e, "outcome", t != NULL ? t : "");
		trail_format_time(sqlite3_column_int64(st, 3), utc,
		    sizeof(utc));
		cJSON_AddStringToObject(e, "time", utc);
		cJSON_AddItemToArray(arr, e);
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "the trail: %s", sqlite3_errmsg(db));
		goto done;
	}
	rv = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rv;
}

/* Everything held on one call leg, and the trail's events about it. */
static cJSON *
cmd_show_call(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	struct polrecd		*sc = cc->cc_ctl->c_sc;
	const struct call_leg	*leg;
	const char		*id = argv[argc - 1];
	static char		 msg[300];
	uint64_t		 now = polrecd_now_us();
	struct timeval		 tv;
	cJSON			*o, *arr;
	char			 why[256];
	int			 nev;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	if ((leg = legs_find(sc, id)) != NULL) {
		cJSON_AddStringToObject(o, "state",
		    leg_state_name(leg->cl_state));
		cJSON_AddStringToObject(o, "outcome",
		    legs_outcome_name(leg->cl_outcome));
		cJSON_AddStringToObject(o, "decision",
		    decision_name(leg->cl_decision));
		cJSON_AddStringToObject(o, "reason", leg->cl_reason != NULL ?
		    leg->cl_reason : "");
		cJSON_AddStringToObject(o, "tenant", leg->cl_tenant != NULL ?
		    leg->cl_tenant : "");
		cJSON_AddStringToObject(o, "chain", leg->cl_chain != NULL ?
		    leg->cl_chain : "");
		cJSON_AddStringToObject(o, "policy", leg->cl_policy != NULL ?
		    leg->cl_policy : "");
		cJSON_AddStringToObject(o, "recording",
		    recording_shown(sc, leg));
		cJSON_AddStringToObject(o, "recording_wanted",
		    recording_status_name(leg->cl_rec_wanted));
		cJSON_AddStringToObject(o, "recording_confirmed",
		    recording_status_name(leg->cl_rec_confirmed));
		cJSON_AddStringToObject(o, "capture",
		    legs_capture_name(leg->cl_capture));
		if (leg->cl_group != NULL) {
			cJSON_AddNumberToObject(o, "group_used",
			    group_used(leg->cl_group));
			cJSON_AddNumberToObject(o, "group_capacity",
			    group_capacity(leg->cl_group));
		}
		cJSON_AddNumberToObject(o, "participants", leg->cl_roster.n);
		cJSON_AddNumberToObject(o, "age_seconds",
		    (double)((now - leg->cl_arrival_us) / 1000000));
		if (leg->cl_ended_us != 0) {
			cJSON_AddStringToObject(o, "ended", leg->cl_end_reason);
			cJSON_AddNumberToObject(o, "ended_seconds_ago",
			    (double)((now - leg->cl_ended_us) / 1000000));
		}
		if (leg->cl_ev_keepalive != NULL &&
		    evtimer_pending(leg->cl_ev_keepalive, &tv)) {
			struct timeval	 tnow;

			event_base_gettimeofday_cached(sc->sc_base, &tnow);
			cJSON_AddNumberToObject(o, "keepalive_in_seconds",
			    (double)(tv.tv_sec > tnow.tv_sec ?
			    tv.tv_sec - tnow.tv_sec : 0));
		} else
			cJSON_AddNullToObject(o, "keepalive_in_seconds");
		cJSON_AddBoolToObject(o, "restored", leg->cl_restored);
		if (leg->cl_result_text != NULL)
			cJSON_AddStringToObject(o, "result",
			    leg->cl_result_text);
		if (leg->cl_termination != NULL)
			cJSON_AddStringToObject(o, "termination",
			    leg->cl_termination);
	} else
		cJSON_AddStringToObject(o, "state", "not held");
	arr = cJSON_AddArrayToObject(o, "events");
	if (call_events(sc, id, arr, why, sizeof(why)) == -1)
		cJSON_AddStringToObject(o, "events_error", why);
	nev = cJSON_GetArraySize(arr);
	if (leg == NULL && nev == 0) {
		cJSON_Delete(o);
		snprintf(msg, sizeof(msg), "no call %.200s: not held by polrecd "
		    "and not in the trail", id);
		*err = msg;
		return NULL;
	}
	return o;
}

/*
 * The trail's events about calls (not the notifications merely
 * accepted), their clear columns only, to the monitors.  A monitor with
 * more than CONTROL_MONITOR_PENDING waiting is dropped, told why.
 */
static void
control_event(struct polrecd *sc, const struct trail_event *ev, void *arg)
{
	struct control		*c = arg;
	struct control_client	*cc;
	unsigned char		*frame;
	size_t			 len;
	cJSON			*o;
	char			 utc[40];

	(void)sc;
	if (c->c_nmonitors == 0 || ev->call_id == NULL)
		return;
	/* Decisions and outcomes: not every notification taken. */
	if (strcmp(ev->kind, "notification") == 0 && ev->outcome != NULL &&
	    strcmp(ev->outcome, "accepted") == 0)
		return;
	o = cJSON_CreateObject();
	trail_format_time(ev->utc_us, utc, sizeof(utc));
	cJSON_AddStringToObject(o, "time", utc);
	cJSON_AddStringToObject(o, "call", ev->call_id);
	cJSON_AddStringToObject(o, "kind", ev->kind);
	cJSON_AddStringToObject(o, "outcome", ev->outcome != NULL ?
	    ev->outcome : "");
	cJSON_AddStringToObject(o, "reason", ev->reason != NULL ?
	    ev->reason : "");
	cJSON_AddStringToObject(o, "tenant", ev->tenant != NULL ?
	    ev->tenant : "");
	if (ev->latency_us >= 0)
		cJSON_AddNumberToObject(o, "latency_ms",
		    (double)(ev->latency_us / 1000));
	if (ev->http_status > 0)
		cJSON_AddNumberToObject(o, "http_status",
		    (double)ev->http_status);
	frame = ctl_frame_json(CTL_RECORD, o, &len);
	cJSON_Delete(o);
	if (frame == NULL)
		return;
	TAILQ_FOREACH(cc, &c->c_clients, cc_entry) {
		if (!cc->cc_monitor || cc->cc_closing)
			continue;
		if (evbuffer_get_length(bufferevent_get_output(cc->cc_bev)) >
		    CONTROL_MONITOR_PENDING) {
			log_warnx("control: monitor uid %u pid %d does not "
			    "keep up; dropped", (unsigned int)cc->cc_uid,
			    (int)cc->cc_pid);
			c->c_dropped++;
			client_error(cc, "dropped: the monitor did not keep "
			    "up", 1);
			continue;
		}
		bufferevent_write(cc->cc_bev, frame, len);
	}
	free(frame);
}

/* From now on the trail's events about calls are pushed as RECORDs. */
static cJSON *
cmd_monitor(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	struct timeval	 tv = { CONTROL_TIMEOUT_SEC, 0 };
	cJSON		*o;

	(void)argc;
	(void)argv;
	if (cc->cc_monitor) {
		*err = "already a monitor";
		return NULL;
	}
	if (cc->cc_ctl->c_nmonitors >= CONTROL_MAX_MONITORS) {
		*err = "too many monitors";
		return NULL;
	}
	cc->cc_monitor = 1;
	cc->cc_ctl->c_nmonitors++;
	/* Silent from now on; still dropped when it stops reading. */
	bufferevent_set_timeouts(cc->cc_bev, NULL, &tv);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "monitor", 1);
	return o;
}

/*
 * A control event in the audit trail: who (uid and pid from
 * SO_PEERCRED, the uid also as the reason, like retention's) ran which
 * command, and what came of it.  Takes d, the detail, and frees it.
 */
static void
control_record(struct control_client *cc, const char *command,
    const char *outcome, cJSON *d)
{
	char	 by[32], *detail;

	snprintf(by, sizeof(by), "uid %u", (unsigned int)cc->cc_uid);
	if (d == NULL)
		d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "command", command);
	cJSON_AddNumberToObject(d, "uid", (double)cc->cc_uid);
	cJSON_AddNumberToObject(d, "pid", (double)cc->cc_pid);
	if ((detail = cJSON_PrintUnformatted(d)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	journal_simple(cc->cc_ctl->c_sc, "control", outcome, by, detail);
	free(detail);
	cJSON_Delete(d);
}

static cJSON *
set_draining(struct control_client *cc, int on)
{
	struct polrecd	*sc = cc->cc_ctl->c_sc;
	cJSON		*o, *d;

	if (sc->sc_draining != on)
		log_info("draining %s (by uid %u): new invitations are %s",
		    on ? "on" : "off", (unsigned int)cc->cc_uid,
		    on ? "rejected as busy" : "answered again");
	/* Recorded even when it changes nothing: who asked is the point. */
	d = cJSON_CreateObject();
	cJSON_AddBoolToObject(d, "changed", sc->sc_draining != on);
	control_record(cc, on ? "drain on" : "drain off",
	    on ? "drain on" : "drain off", d);
	sc->sc_draining = on;
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "draining", on);
	cJSON_AddNumberToObject(o, "live_calls", (double)legs_live(sc));
	return o;
}

static cJSON *
cmd_drain_on(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	(void)argc;
	(void)argv;
	(void)err;
	return set_draining(cc, 1);
}

static cJSON *
cmd_drain_off(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	(void)argc;
	(void)argv;
	(void)err;
	return set_draining(cc, 0);
}

/* A refused or failed prune, in the log and the trail. */
static void
prune_refused(struct control_client *cc, const char *outcome,
    const char *arg, const char *why)
{
	cJSON	*d;

	log_warnx("control: uid %u: audit prune %s: %s",
	    (unsigned int)cc->cc_uid, outcome, why);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "argument", arg);
	cJSON_AddStringToObject(d, "error", why);
	control_record(cc, "audit prune", outcome, d);
}

/*
 * Retention: remove the audit events older than the argument, never
 * younger than [audit] retention_min, never a cutoff in the future.
 */
static cJSON *
cmd_audit_prune(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	struct polrecd	*sc = cc->cc_ctl->c_sc;
	static char	 msg[512];
	int64_t		 before, removed;
	cJSON		*o;

	if (trail_parse_time(argv[argc - 1], &before) == -1) {
		*err = "not a time: give 2026-01-31, 2026-01-31T12:00:00Z "
		    "or seconds since the epoch";
		prune_refused(cc, "prune refused", argv[argc - 1], *err);
		return NULL;
	}
	if (retention_check(polrecd_utc_us(), before,
	    sc->sc_conf->audit_retention_min, msg, sizeof(msg)) == -1) {
		prune_refused(cc, "prune refused", argv[argc - 1], msg);
		*err = msg;
		return NULL;
	}
	if (journal_prune(sc, before, cc->cc_uid, &removed, msg,
	    sizeof(msg)) == -1) {
		prune_refused(cc, "prune failed", argv[argc - 1], msg);
		*err = msg;
		return NULL;
	}
	/* Removing nothing leaves no retention event: say who asked. */
	if (removed == 0) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "argument", argv[argc - 1]);
		control_record(cc, "audit prune", "prune nothing", o);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "removed", (double)removed);
	iso_utc(msg, sizeof(msg), (time_t)(before / 1000000));
	cJSON_AddStringToObject(o, "before", msg);
	return o;
}

/* Reload the configuration now, and say how it went. */
static cJSON *
cmd_reload(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	struct polrecd	*sc = cc->cc_ctl->c_sc;
	static char	 msg[256];
	char		 by[32];
	cJSON		*o;

	(void)argc;
	(void)argv;
	snprintf(by, sizeof(by), "uid %u", (unsigned int)cc->cc_uid);
	if (sc->sc_reload == NULL ||
	    sc->sc_reload(sc, by, msg, sizeof(msg)) == -1) {
		*err = sc->sc_reload == NULL ? "reload is not available" : msg;
		return NULL;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reloaded", sc->sc_conf_path);
	return o;
}

/* An operator has seen the integrity alarm: recorded with the uid. */
static cJSON *
cmd_audit_acknowledge(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	struct polrecd	*sc = cc->cc_ctl->c_sc;
	static char	 msg[256];
	const char	*errstr = NULL;
	long long	 seq;
	int64_t		 acked;
	cJSON		*o;

	seq = strtonum(argv[argc - 1], 1, INT64_MAX, &errstr);
	if (errstr != NULL) {
		*err = "give the integrity event's seq (show status says it)";
		return NULL;
	}
	if (journal_acknowledge(sc, seq, cc->cc_uid, &acked, msg,
	    sizeof(msg)) == -1) {
		*err = msg;
		return NULL;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "acknowledged", (double)acked);
	cJSON_AddNumberToObject(o, "by_uid", (double)cc->cc_uid);
	return o;
}

static void
add_admission(cJSON *o, const struct admit_stats *a)
{
	cJSON_AddNumberToObject(o, "http_refused_full",
	    (double)a->refused[ADMIT_FULL]);
	cJSON_AddNumberToObject(o, "http_refused_network",
	    (double)a->refused[ADMIT_NETWORK_FULL]);
	cJSON_AddNumberToObject(o, "http_refused_rate",
	    (double)a->refused[ADMIT_RATE]);
	cJSON_AddNumberToObject(o, "http_refused_not_allowed",
	    (double)a->refused[ADMIT_NOT_ALLOWED]);
	cJSON_AddNumberToObject(o, "http_deadline_closed",
	    (double)a->deadline_closed);
	cJSON_AddNumberToObject(o, "http_evicted", (double)a->evicted);
	cJSON_AddNumberToObject(o, "http_accept_paused",
	    (double)a->accept_paused);
}

static cJSON *
cmd_show_stats(struct control_client *cc, int argc, char **argv,
    const char **err)
{
	const struct stats	*st = &cc->cc_ctl->c_sc->sc_stats;
	struct fetch_stats	 fs;
	cJSON			*o;

	(void)argc;
	(void)argv;
	(void)err;
	o = cJSON_CreateObject();
#define STAT(name)	cJSON_AddNumberToObject(o, #name, (double)st->name)
	STAT(http_requests);
	STAT(http_not_found);
	STAT(http_bad_method);
	STAT(http_bad_content_type);
	STAT(http_malformed);
	STAT(notifications_received);
	STAT(invitations_received);
	STAT(auth_ok);
	STAT(auth_cached);
	STAT(auth_failed);
	STAT(auth_unavailable);
	STAT(auth_tenant_mismatch);
	STAT(tenant_not_allowed);
	STAT(replays);
	STAT(key_fetches);
	STAT(key_fetch_failures);
	STAT(key_refetches);
	STAT(auth_key_deferred);
	STAT(token_fetches);
	STAT(token_failures);
	STAT(graph_requests);
	STAT(graph_retries);
	STAT(graph_failures);
	STAT(graph_missed);
	STAT(legs_created);
	STAT(legs_ended);
	STAT(duplicate_invitations);
	STAT(answers_sent);
	STAT(answers_ok);
	STAT(answers_missed);
	STAT(answers_confirmed);
	STAT(confirm_started);
	STAT(confirm_verdicts);
	STAT(confirm_retries);
	STAT(invitations_reopened);
	STAT(disk_reserve_released);
	STAT(http_dropped_refused);
	STAT(notifications_refused_disk);
	STAT(answer_failures);
	STAT(rejects_sent);
	STAT(rejects_ok);
	STAT(invitations_redirected);
	STAT(notifications_legacy);
	STAT(answer_latency_max_us);
	STAT(notifications_unknown_call);
	STAT(recording_updates);
	STAT(recording_confirmed);
	STAT(recording_update_failures);
	STAT(recording_refused);
	STAT(recording_no_capture);
	STAT(keepalives_ok);
	STAT(keepalive_failures);
	STAT(media_agent_failures);
	STAT(media_events);
	STAT(media_events_refused);
	STAT(joins_accepted);
	STAT(joins_rejected);
	STAT(joins_invited);
	STAT(joins_repeated);
	STAT(joins_slots_freed);
	STAT(joins_not_answered);
	STAT(joins_taken_back);
	STAT(joins_pending_forgotten);
	STAT(commits);
	STAT(commit_failures);
	STAT(commit_us_max);
	STAT(replies_refused_storage);
	STAT(legs_restored);
	STAT(legs_restore_refused);
	STAT(restore_checks);
	STAT(restore_ended);
	STAT(audit_events);
	STAT(audit_events_dropped);
	STAT(audit_checkpoints);
	STAT(notifications_refused);
	STAT(notifications_refused_backlog);
	STAT(integrity_breaks);
	STAT(witness_accepted);
	STAT(witness_failures);
	STAT(timestamps);
	STAT(timestamp_failures);
#undef STAT
	cJSON_AddNumberToObject(o, "legs_live",
	    (double)legs_live(cc->cc_ctl->c_sc));
	/* Connections refused with 503 by the connection caps. */
	cJSON_AddNumberToObject(o, "http_refused_busy",
	    (double)http_refused(cc->cc_ctl->c_sc->sc_http));
	add_admission(o, http_admit_stats(cc->cc_ctl->c_sc->sc_http));
	cJSON_AddNumberToObject(o, "control_clients",
	    (double)cc->cc_ctl->c_nclients);
	cJSON_AddNumberToObject(o, "control_clients_dropped",
	    (double)cc->cc_ctl->c_dropped);
	cJSON_AddNumberToObject(o, "http_connections_open",
	    (double)http_open_connections(cc->cc_ctl->c_sc->sc_http));
	/* Outbound requests waiting for a connection ([graph]
	 * max_connections), under way, and run out of time waiting. */
	fetch_stats(cc->cc_ctl->c_sc->sc_fetch, &fs);
	cJSON_AddNumberToObject(o, "outbound_queued", (double)fs.queued);
	cJSON_AddNumberToObject(o, "outbound_queued_max",
	    (double)fs.queued_max);
	cJSON_AddNumberToObject(o, "outbound_active", (double)fs.active);
	cJSON_AddNumberToObject(o, "outbound_waited", (double)fs.waited);
	cJSON_AddNumberToObject(o, "outbound_queue_expired",
	    (double)fs.expired);
	return o;
}

static void
client_free(struct control_client *cc)
{
	cc->cc_ctl->c_nclients--;
	if (cc->cc_monitor)
		cc->cc_ctl->c_nmonitors--;
	TAILQ_REMOVE(&cc->cc_ctl->c_clients, cc, cc_entry);
	bufferevent_free(cc->cc_bev);
	free(cc);
}

/* Nothing half-read, nothing to send: it waits for nobody. */
static int
client_idle(struct control_client *cc)
{
	return !cc->cc_closing && !cc->cc_monitor &&
	    evbuffer_get_length(bufferevent_get_input(cc->cc_bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(cc->cc_bev)) == 0;
}

static void
client_send(struct control_client *cc, enum ctl_type type, const cJSON *o)
{
	unsigned char	*frame;
	size_t		 len;

	if ((frame = ctl_frame_json(type, o, &len)) == NULL) {
		cc->cc_closing = 1;
		return;
	}
	bufferevent_write(cc->cc_bev, frame, len);
	free(frame);
}

static void
client_error(struct control_client *cc, const char *reason, int fatal_err)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", reason);
	client_send(cc, CTL_ERROR, o);
	cJSON_Delete(o);
	if (fatal_err)
		cc->cc_closing = 1;
}

static void
client_request(struct control_client *cc, const char *payload, size_t len)
{
	const struct control_cmd *cmd;
	const char		*errstr = NULL;
	char			**argv = NULL;
	cJSON			*reply;
	int			 argc;

	if ((argc = ctl_request_parse(payload, len, &argv, &errstr)) == -1) {
		client_error(cc, errstr, 1);
		return;
	}
	if ((cmd = control_lookup(argc, argv)) == NULL) {
		client_error(cc, "unknown command (polrecctl help lists "
		    "them)", 0);
		goto done;
	}
	if (cmd->mutating && cc->cc_uid != 0 && cc->cc_uid != geteuid()) {
		log_warnx("control: uid %u may not run \"%s\"",
		    (unsigned int)cc->cc_uid, cmd->cmd);
		control_record(cc, cmd->cmd, "denied", NULL);
		client_error(cc, "permission denied", 0);
		goto done;
	}
	log_debug("control: uid %u pid %d: %s", (unsigned int)cc->cc_uid,
	    (int)cc->cc_pid, cmd->cmd);
	if ((reply = cmd->fn(cc, argc, argv, &errstr)) == NULL) {
		client_error(cc, errstr != NULL ? errstr : "command failed", 0);
		goto done;
	}
	client_send(cc, CTL_OK, reply);
	cJSON_Delete(reply);
done:
	ctl_argv_free(argv, argc);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct control_client	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	unsigned char		 hdrbuf[CTL_HDR_LEN];
	struct ctl_hdr		 h;
	const char		*errstr;
	char			*payload;

	while (!cc->cc_closing && evbuffer_get_length(in) >= CTL_HDR_LEN) {
		/* Replies pile up: read no more until it reads them. */
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    CONTROL_MAX_PENDING) {
			cc->cc_held = 1;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		evbuffer_copyout(in, hdrbuf, CTL_HDR_LEN);
		if (ctl_hdr_decode(hdrbuf, &h, &errstr) == -1) {
			log_warnx("control: uid %u: %s",
			    (unsigned int)cc->cc_uid, errstr);
			client_error(cc, errstr, 1);
			break;
		}
		if (h.type != CTL_REQUEST) {
			client_error(cc, "expected a request", 1);
			break;
		}
		if (evbuffer_get_length(in) < CTL_HDR_LEN + (size_t)h.len)
			break;
		evbuffer_drain(in, CTL_HDR_LEN);
		payload = xmalloc((size_t)h.len + 1);
		evbuffer_remove(in, payload, h.len);
		payload[h.len] = '\0';
		client_request(cc, payload, h.len);
		free(payload);
	}
	if (cc->cc_closing) {
		bufferevent_disable(bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			client_free(cc);
	}
}

static void
client_write(struct bufferevent *bev, void *arg)
{
	struct control_client	*cc = arg;

	if (cc->cc_closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		client_free(cc);
		return;
	}
	/* It read its replies: its requests are read again. */
	if (cc->cc_held && evbuffer_get_length(bufferevent_get_output(bev)) <
	    CONTROL_MAX_PENDING / 2) {
		cc->cc_held = 0;
		bufferevent_enable(bev, EV_READ);
		client_read(bev, cc);
	}
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_client	*cc = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		cc->cc_ctl->c_dropped++;
		log_warnx("control: uid %u pid %d %s for %d s; dropped",
		    (unsigned int)cc->cc_uid, (int)cc->cc_pid,
		    (what & BEV_EVENT_WRITING) ? "did not read its replies" :
		    "was silent", CONTROL_TIMEOUT_SEC);
	}
	client_free(cc);
}

/*
 * Room for one more: under the cap (root keeps CONTROL_ROOT_SLOTS of
 * it), else the client idle longest makes room, so idle clients cannot
 * lock the operator out.  0, or -1 when there is none.
 */
static int
make_room(struct control *c, uid_t uid)
{
	struct control_client	*cc;
	int			 cap = uid == 0 ? CONTROL_MAX_CLIENTS :
	    CONTROL_MAX_CLIENTS - CONTROL_ROOT_SLOTS;

	if (c->c_nclients < cap)
		return 0;
	TAILQ_FOREACH(cc, &c->c_clients, cc_entry)
		if (client_idle(cc) && (uid == 0 || cc->cc_uid != 0)) {
			log_info("control: %d clients; the one idle longest "
			    "(uid %u pid %d) makes room", c->c_nclients,
			    (unsigned int)cc->cc_uid, (int)cc->cc_pid);
			c->c_dropped++;
			client_free(cc);
			return 0;
		}
	return -1;
}

static void
control_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control		*c = arg;
	struct control_client	*cc;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	struct timeval		 tv = { CONTROL_TIMEOUT_SEC, 0 };

	(void)l;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if (make_room(c, cred.uid) == -1) {
		log_warnx("control: too many clients, refusing uid %u",
		    (unsigned int)cred.uid);
		close(fd);
		return;
	}
	cc = xcalloc(1, sizeof(*cc));
	cc->cc_ctl = c;
	cc->cc_uid = cred.uid;
	cc->cc_pid = cred.pid;
	cc->cc_bev = bufferevent_socket_new(c->c_sc->sc_base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (cc->cc_bev == NULL) {
		close(fd);
		free(cc);
		return;
	}
	c->c_nclients++;
	TAILQ_INSERT_TAIL(&c->c_clients, cc, cc_entry);
	bufferevent_setcb(cc->cc_bev, client_read, client_write,
	    client_event, cc);
	bufferevent_set_timeouts(cc->cc_bev, &tv, &tv);
	/* A request bigger than the largest frame is not read. */
	bufferevent_setwatermark(cc->cc_bev, EV_READ, 0,
	    CTL_HDR_LEN + CTL_MAX_PAYLOAD);
	bufferevent_enable(cc->cc_bev, EV_READ | EV_WRITE);
}

struct control *
control_new(struct polrecd *sc)
{
	struct control		*c;
	struct sockaddr_un	 sun;
	struct group		*gr;
	mode_t			 old;
	int			 fd = -1;

	c = xcalloc(1, sizeof(*c));
	c->c_sc = sc;
	TAILQ_INIT(&c->c_clients);
	c->c_path = xstrdup(sc->sc_conf->control_socket);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->c_path) >= sizeof(sun.sun_path)) {
		log_warnx("control socket path %s is too long", c->c_path);
		goto fail;
	}
	strncpy(sun.sun_path, c->c_path, sizeof(sun.sun_path) - 1);

	/* Refuse to take the socket from a daemon that still answers. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("control: socket");
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_warnx("control socket %s: another polrecd answers on it",
		    c->c_path);
		goto fail;
	}
	if (errno == ECONNREFUSED)
		unlink(c->c_path);
	close(fd);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		log_warn("control: socket");
		goto fail;
	}
	old = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("control: bind %s", c->c_path);
		umask(old);
		goto fail;
	}
	umask(old);
	if (chmod(c->c_path, 0660) == -1) {
		log_warn("control: chmod %s", c->c_path);
		goto fail;
	}
	if (sc->sc_conf->control_group != NULL) {
		if ((gr = getgrnam(sc->sc_conf->control_group)) == NULL) {
			log_warnx("control: [control] group %s: no such group",
			    sc->sc_conf->control_group);
			goto fail;
		}
		if (chown(c->c_path, (uid_t)-1, gr->gr_gid) == -1) {
			log_warn("control: chown %s to group %s", c->c_path,
			    gr->gr_name);
			goto fail;
		}
	}
	c->c_listener = evconnlistener_new(sc->sc_base, control_accept, c,
	    LEV_OPT_CLOSE_ON_FREE, 16, fd);
	if (c->c_listener == NULL) {
		log_warnx("control: cannot listen on %s", c->c_path);
		goto fail;
	}
	journal_on_event(sc, control_event, c);
	log_info("control socket %s", c->c_path);
	return c;
fail:
	if (fd != -1)
		close(fd);
	free(c->c_path);
	free(c);
	return NULL;
}

int
control_clients(const struct control *c)
{
	return c != NULL ? c->c_nclients : 0;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	journal_on_event(c->c_sc, NULL, NULL);
	evconnlistener_free(c->c_listener);
	while (!TAILQ_EMPTY(&c->c_clients))
		client_free(TAILQ_FIRST(&c->c_clients));
	unlink(c->c_path);
	free(c->c_path);
	free(c);
}
