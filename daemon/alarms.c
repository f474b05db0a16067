/*
 * Alarms: named conditions an operator must hear of (answers missed, a
 * tenant's token, stale signing keys, the audit disk, the clock, the
 * trail's integrity, checkpoints not leaving the host, a silent
 * recorder), evaluated once a second.  Each start and end is one line in
 * the log; the raised ones are in `show status`, /readyz and /metrics.
 */
#include <sys/timex.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "alarm.h"
#include "conf.h"
#include "graph.h"
#include "keys.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define ALARMS_EVAL_SEC		1
/* Signing keys older than this many refresh intervals are stale. */
#define KEYS_STALE_REFRESHES	2
/* A test stands in for adjtimex(2): "MAXERROR_US [unsync]" in a file. */
#define TEST_CLOCK_ENV		"POLREC_TEST_CLOCK"

enum alarm_id {
	AL_MISSED, AL_TOKEN, AL_KEYS, AL_DISK, AL_CLOCK, AL_INTEGRITY,
	AL_CHECKPOINTS, AL_QUIET, AL_N
};

static const struct {
	const char	*name;
	int		 blocking;
} alarm_defs[AL_N] = {
	{ "missed_answers", 0 },
	{ "token", 1 },
	{ "signing_keys", 0 },
	{ "disk", 1 },
	{ "clock", 0 },
	{ "integrity", 0 },
	{ "checkpoints", 0 },
	{ "quiet", 0 },
};

struct alarms {
	struct polrecd	*a_sc;
	struct alarmtab	 a_tab;
	struct event	*a_timer;
	struct window	 a_missed;
	struct window	 a_commit_failed;
	uint64_t	 a_window_us;	/* span of both */
	uint64_t	 a_seen_missed;	/* counters as last seen */
	uint64_t	 a_seen_commit_failed;
	uint64_t	 a_seen_notifications;
	uint64_t	 a_heard_us;	/* last notification, or start */
	const char	*a_test_clock;	/* TEST_CLOCK_ENV, if allowed */
};

static void
on_eval(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	alarms_eval(arg);
}

struct alarms *
alarms_new(struct polrecd *sc)
{
	struct alarms	*a;
	struct timeval	 tv = { ALARMS_EVAL_SEC, 0 };
	const char	*tc;
	int		 i;

	a = xcalloc(1, sizeof(*a));
	a->a_sc = sc;
	alarmtab_init(&a->a_tab);
	for (i = 0; i < AL_N; i++)
		(void)alarmtab_add(&a->a_tab, alarm_defs[i].name,
		    alarm_defs[i].blocking);
	a->a_heard_us = polrecd_now_us();
	a->a_seen_missed = sc->sc_stats.answers_missed;
	a->a_seen_commit_failed = sc->sc_stats.commit_failures;
	a->a_seen_notifications = sc->sc_stats.notifications_received;
	if ((tc = getenv(TEST_CLOCK_ENV)) != NULL && *tc != '\0') {
		/* Only beside another setting fit for tests only. */
		if (sc->sc_conf->graph_allow_plain_http) {
			a->a_test_clock = tc;
			log_warnx("%s=%s: the clock alarm reads the clock's "
			    "state from that file, not the kernel; for tests "
			    "only", TEST_CLOCK_ENV, tc);
		} else
			log_warnx("%s ignored: for tests only (with [graph] "
			    "allow_plain_http = yes)", TEST_CLOCK_ENV);
	}
	a->a_timer = event_new(sc->sc_base, -1, EV_PERSIST, on_eval, sc);
	if (a->a_timer == NULL || event_add(a->a_timer, &tv) == -1) {
		alarms_free(a);
		return NULL;
	}
	return a;
}

void
alarms_free(struct alarms *a)
{
	if (a == NULL)
		return;
	if (a->a_timer != NULL)
		event_free(a->a_timer);
	free(a);
}

static void
set(struct alarms *a, enum alarm_id id, int on, const char *reason)
{
	const struct alarm	*al = alarmtab_get(&a->a_tab, id);
	int64_t			 now = polrecd_utc_us(), since = al->a_since;
	char			 last[ALARM_REASON_MAX];

	memcpy(last, al->a_last, sizeof(last));
	switch (alarmtab_set(&a->a_tab, id, on, reason, now)) {
	case ALARM_RAISED:
		log_warnx("alarm %s raised: %s", al->a_name, al->a_reason);
		break;
	case ALARM_CLEARED:
		log_info("alarm %s cleared after %lld s (was: %s)",
		    al->a_name, (long long)((now - since) / 1000000), last);
		break;
	case ALARM_STEADY:
		break;
	}
}

/* Reasons joined by "; " in a fixed buffer. */
static void
append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static void
append(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 n = strlen(buf);

	if (n > 0 && n + 2 < len) {
		memcpy(buf + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* Rebuild the windows when [admin] alarm_window changed. */
static void
windows_fit(struct alarms *a)
{
	uint64_t	 span = (uint64_t)a->a_sc->sc_conf->admin_alarm_window *
			    1000000;

	if (span == a->a_window_us)
		return;
	a->a_window_us = span;
	window_init(&a->a_missed, span);
	window_init(&a->a_commit_failed, span);
}

static void
eval_missed(struct alarms *a, uint64_t now)
{
	const struct polrecd	*sc = a->a_sc;
	char			 why[ALARM_REASON_MAX];
	uint64_t		 n;

	window_add(&a->a_missed, now, sc->sc_stats.answers_missed -
	    a->a_seen_missed);
	a->a_seen_missed = sc->sc_stats.answers_missed;
	n = window_sum(&a->a_missed, now);
	snprintf(why, sizeof(why), "%llu answer%s missed in the last %lld s",
	    (unsigned long long)n, n == 1 ? "" : "s",
	    sc->sc_conf->admin_alarm_window);
	set(a, AL_MISSED, n > 0, why);
}

static void
eval_tokens(struct alarms *a)
{
	const struct polrecd	*sc = a->a_sc;
	struct token_state	 st;
	char			 why[ALARM_REASON_MAX] = "";
	size_t			 i;

	for (i = 0; tokens_state(sc->sc_tokens, i, &st) == 0; i++) {
		if (!st.valid) {
			/* The first fetch, still under way, is no news. */
			if (st.fetching && st.failures == 0 &&
			    st.fetches == 0)
				continue;
			append(why, sizeof(why), "tenant %s: no Graph "
			    "token (%llu failed request%s)", st.tenant,
			    (unsigned long long)st.failures,
			    st.failures == 1 ? "" : "s");
		} else if (st.expires_in < sc->sc_conf->admin_token_alarm)
			append(why, sizeof(why), "tenant %s: Graph token "
			    "expires in %lld s", st.tenant, st.expires_in);
	}
	set(a, AL_TOKEN, why[0] != '\0', why);
}

static void
eval_keys(struct alarms *a)
{
	const struct polrecd	*sc = a->a_sc;
	char			 why[ALARM_REASON_MAX] = "";
	uint64_t		 age;
	long long		 limit;
	int			 first;

	if (sc->sc_conf->auth_mode == AUTH_MODE_JWT) {
		limit = KEYS_STALE_REFRESHES * sc->sc_conf->auth_key_refresh;
		if (!keys_age(sc->sc_keys, &age, &first)) {
			if (!first)
				snprintf(why, sizeof(why), "no signing keys: "
				    "notifications cannot be authenticated");
		} else if (age / 1000000 > (uint64_t)limit)
			snprintf(why, sizeof(why), "signing keys last "
			    "fetched %llu s ago (more than %lld s)",
			    (unsigned long long)(age / 1000000), limit);
	}
	set(a, AL_KEYS, why[0] != '\0', why);
}

static void
eval_disk(struct alarms *a, uint64_t now)
{
	const struct polrecd	*sc = a->a_sc;
	char			 why[ALARM_REASON_MAX] = "";
	long long		 avail, want;
	uint64_t		 n;

	window_add(&a->a_commit_failed, now, sc->sc_stats.commit_failures -
	    a->a_seen_commit_failed);
	a->a_seen_commit_failed = sc->sc_stats.commit_failures;
	if (sc->sc_disk_low)
		append(why, sizeof(why), "the disk reserve is spent: new "
		    "invitations are refused");
	avail = reserve_free_bytes(sc->sc_reserve);
	want = reserve_size(sc->sc_reserve);
	if (want < (1 << 20))
		want = 1 << 20;
	if (avail >= 0 && avail < want)
		append(why, sizeof(why), "%lld KiB free for the database "
		    "(less than %lld KiB)", avail >> 10,
		    want >> 10);
	if ((n = window_sum(&a->a_commit_failed, now)) > 0)
		append(why, sizeof(why), "%llu commit%s failed in the last "
		    "%lld s", (unsigned long long)n, n == 1 ? "" : "s",
		    sc->sc_conf->admin_alarm_window);
	else if (sc->sc_commit != NULL && !commit_ok(sc->sc_commit))
		append(why, sizeof(why), "the last commit failed");
	set(a, AL_DISK, why[0] != '\0', why);
}

/* The kernel's word on the clock, or the test's file in its place. */
static int
clock_state(const struct alarms *a, int *synced, long long *maxerror_us)
{
	struct timex	 tx;
	FILE		*f;
	char		 word[16] = "";
	int		 st;

	if (a->a_test_clock != NULL) {
		if ((f = fopen(a->a_test_clock, "r")) == NULL)
			return -1;
		st = fscanf(f, "%lld %15s", maxerror_us, word);
		fclose(f);
		if (st < 1)
			return -1;
		*synced = strcmp(word, "unsync") != 0;
		return 0;
	}
	memset(&tx, 0, sizeof(tx));
	if ((st = adjtimex(&tx)) == -1)
		return -1;
	*synced = st != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
	*maxerror_us = tx.maxerror;
	return 0;
}

static void
eval_clock(struct alarms *a)
{
	const struct polrecd	*sc = a->a_sc;
	char			 why[ALARM_REASON_MAX] = "";
	long long		 maxerr, bound;
	int			 synced;

	bound = sc->sc_conf->admin_clock_max_error_ms;

	if (clock_state(a, &synced, &maxerr) == -1)
		snprintf(why, sizeof(why), "the state of the clock cannot be "
		    "read");
	else if (!synced)
		snprintf(why, sizeof(why), "the clock is not synchronised "
		    "(error up to %lld ms): events are stamped with it",
		    maxerr / 1000);
	else if (maxerr > bound * 1000)
		snprintf(why, sizeof(why), "the clock error may be %lld ms, "
		    "more than clock_max_error_ms %lld", maxerr / 1000, bound);
	set(a, AL_CLOCK, why[0] != '\0', why);
}

static void
eval_integrity(struct alarms *a)
{
	const char	*problem;
	int64_t		 seq, first_bad;
	char		 why[ALARM_REASON_MAX] = "";

	if (journal_alarm(a->a_sc, &seq, &first_bad, &problem))
		snprintf(why, sizeof(why), "first bad event %lld: %s%s",
		    (long long)first_bad, problem, seq > 0 ?
		    "; acknowledge with `polrecctl audit acknowledge`" : "");
	set(a, AL_INTEGRITY, why[0] != '\0', why);
}

static void
eval_checkpoints(struct alarms *a)
{
	const struct polrecd	*sc = a->a_sc;
	char			 why[ALARM_REASON_MAX] = "", last[128];
	uint64_t		 us;

	us = witness_failing_us(sc->sc_witness, last, sizeof(last));
	if (us / 1000000 >= (uint64_t)sc->sc_conf->admin_checkpoint_alarm)
		snprintf(why, sizeof(why), "checkpoints not leaving the host "
		    "for %llu s (%s)", (unsigned long long)(us / 1000000),
		    last);
	set(a, AL_CHECKPOINTS, why[0] != '\0', why);
}

static void
eval_quiet(struct alarms *a, uint64_t now)
{
	const struct polrecd	*sc = a->a_sc;
	char			 why[ALARM_REASON_MAX] = "";
	long long		 quiet = sc->sc_conf->admin_quiet_alarm;
	uint64_t		 silent;

	if (sc->sc_stats.notifications_received != a->a_seen_notifications) {
		a->a_seen_notifications = sc->sc_stats.notifications_received;
		a->a_heard_us = now;
	}
	silent = (now - a->a_heard_us) / 1000000;
	if (quiet > 0 && silent >= (uint64_t)quiet)
		snprintf(why, sizeof(why), "no notification for %llu s "
		    "(quiet_alarm %lld s): is Teams still sending here?",
		    (unsigned long long)silent, quiet);
	set(a, AL_QUIET, why[0] != '\0', why);
}

void
alarms_eval(struct polrecd *sc)
{
	struct alarms	*a = sc->sc_alarms;
	uint64_t	 now = polrecd_now_us();

	if (a == NULL)
		return;
	windows_fit(a);
	eval_missed(a, now);
	eval_tokens(a);
	eval_keys(a);
	eval_disk(a, now);
	eval_clock(a);
	eval_integrity(a);
	eval_checkpoints(a);
	eval_quiet(a, now);
}

/* `show status`: the alarms raised, each with its start and reason. */
void
alarms_status(const struct polrecd *sc, cJSON *o)
{
	const struct alarm	*al;
	cJSON			*arr, *e;
	struct tm		 tm;
	time_t			 t;
	char			 since[32];
	size_t			 i;

	arr = cJSON_AddArrayToObject(o, "alarms");
	for (i = 0; sc->sc_alarms != NULL &&
	    (al = alarmtab_get(&sc->sc_alarms->a_tab, i)) != NULL; i++) {
		if (!al->a_raised)
			continue;
		t = (time_t)(al->a_since / 1000000);
		gmtime_r(&t, &tm);
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", al->a_name);
		cJSON_AddStringToObject(e, "since", since);
		cJSON_AddStringToObject(e, "reason", al->a_reason);
		cJSON_AddItemToArray(arr, e);
	}
}

/*
 * Why the recorder could not answer an invitation now, one reason a
 * line: the listener, the signing keys, a tenant's token, the disk,
 * draining.  The number of reasons; 0 is ready.
 */
int
alarms_readiness(const struct polrecd *sc, FILE *f)
{
	struct token_state	 st;
	uint64_t		 age;
	size_t			 i;
	int			 n = 0, first;

	if (sc->sc_http == NULL) {
		fprintf(f, "the webhook listener is not up\n");
		n++;
	}
	if (sc->sc_conf->auth_mode == AUTH_MODE_JWT &&
	    !keys_age(sc->sc_keys, &age, &first)) {
		fprintf(f, "no signing keys yet\n");
		n++;
	}
	for (i = 0; tokens_state(sc->sc_tokens, i, &st) == 0; i++)
		if (!st.valid) {
			fprintf(f, "tenant %s: no Graph token\n", st.tenant);
			n++;
		}
	if (sc->sc_disk_low) {
		fprintf(f, "the disk reserve is spent: invitations are "
		    "refused\n");
		n++;
	}
	if (sc->sc_commit != NULL && !commit_ok(sc->sc_commit)) {
		fprintf(f, "the last commit of the audit trail failed\n");
		n++;
	}
	if (sc->sc_draining) {
		fprintf(f, "draining: new calls are refused\n");
		n++;
	}
	return n;
}

/* The alarms raised, one line each: "alarm NAME: REASON". */
void
alarms_report(const struct polrecd *sc, FILE *f)
{
	const struct alarm	*al;
	size_t			 i;

	for (i = 0; sc->sc_alarms != NULL &&
	    (al = alarmtab_get(&sc->sc_alarms->a_tab, i)) != NULL; i++)
		if (al->a_raised)
			fprintf(f, "alarm %s: %s\n", al->a_name, al->a_reason);
}

void
alarms_metrics(const struct polrecd *sc, FILE *f)
{
	const struct alarm	*al;
	char			 lab[64];
	size_t			 i;

	metric_head(f, "polrec_alarm", "gauge",
	    "1 while the named alarm is raised (see polrecd(8) ALARMS).");
	for (i = 0; i < AL_N; i++) {
		al = sc->sc_alarms != NULL ?
		    alarmtab_get(&sc->sc_alarms->a_tab, i) : NULL;
		snprintf(lab, sizeof(lab), "name=\"%s\"", alarm_defs[i].name);
		metric_u64(f, "polrec_alarm", lab, al != NULL && al->a_raised);
	}
}
