/*
 * The daemon's side of the audit trail: events made during a turn of the
 * loop are held here and appended to the trail (lib/trail.c) in that
 * turn's commit, together with the legs' rows; a reply that depends on
 * them leaves only after that commit.  Each event gets the wall clock,
 * the monotonic clock and the kernel's word on clock synchronisation
 * (adjtimex) when it is made.  Checkpoints are signed every
 * checkpoint_events events or checkpoint_interval seconds.
 */
#include <sys/timex.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <sodium.h>
#include <sqlite3.h>

#include "conf.h"
#include "graph.h"
#include "keyfile.h"
#include "legs.h"
#include "log.h"
#include "polrecd.h"
#include "text.h"
#include "trail.h"
#include "xmalloc.h"

#define DATAKEY_ROTATE_SEC	3600	/* a new data key every hour */
#define ALARM_REMIND_SEC	600	/* the integrity alarm, in the log */
/* The start-up check hashes at most this many events after the last
 * checkpoint (checkpoints come every checkpoint_events events). */
#define CHECK_MIN_EVENTS	100000
#define TRAIL_SEAL_SCHEMA	3	/* audit_head exists from here on */

struct held_event {
	TAILQ_ENTRY(held_event)	 he_entry;
	struct trail_event	 he_ev;
	char			*he_strings;	/* one block, wiped */
	size_t			 he_size;
	uint64_t		 he_request;	/* made for it; 0: none */
};
TAILQ_HEAD(held_eventq, held_event);

/*
 * A batch: what the writer thread appends in one commit.  The loop fills
 * it at journal_take() and reads it back at journal_done(); in between
 * only the writer touches it (and the trail).
 */
struct journal_batch {
	struct held_eventq	 b_events;
	size_t			 b_nevents;
	size_t			 b_real;	/* j_real_unsigned at take */
	int			 b_sign_now;
	int			 b_interval_due;
	size_t			 b_cp_events;	/* audit_checkpoint_events */
	int64_t			 b_ts_seq;
	int64_t			 b_ts_gen_utc_us;
	unsigned char		*b_ts_token;
	size_t			 b_ts_len;
	int			 b_signed;	/* a checkpoint was made */
};

struct journal {
	struct polrecd		*j_sc;
	struct trail		*j_trail;	/* the writer's while it runs */
	struct held_eventq	 j_held;
	size_t			 j_nheld;	/* held and in the batch */
	struct journal_batch	 j_batch;
	/* The last checkpoint committed, for the loop to read any time. */
	int			 j_have_cp;
	struct audit_checkpoint	 j_cp;
	unsigned char		 j_cp_pk[AUDIT_SIGN_PUBBYTES];
	uint64_t		 j_request;	/* events made now are its */
	uint64_t		 j_next_request;
	uint64_t		 j_signed_at;	/* monotonic, last checkpoint */
	struct event		*j_sign_timer;	/* checkpoint_interval */
	/* Unsigned events other than the records of checkpoints leaving
	 * the host: only these make a checkpoint due with time, or an idle
	 * appliance would sign, witness and stamp their receipts for ever. */
	size_t			 j_real_unsigned;
	uint64_t		 j_datakey_at;
	int			 j_sign_now;	/* checkpoint at next flush */
	int64_t			 j_cp_announced;	/* last checkpoint sent */
	/* A time stamp to store with the next commit (one at a time). */
	int64_t			 j_ts_seq;
	int64_t			 j_ts_gen_utc_us;
	unsigned char		*j_ts_token;
	size_t			 j_ts_len;
	journal_checkpoint_cb	 j_on_checkpoint;
	void			*j_on_checkpoint_arg;
	journal_event_cb	 j_on_event;
	void			*j_on_event_arg;
	/* The integrity alarm: an integrity event not acknowledged. */
	int			 j_alarm_reload;	/* after the commit */
	int64_t			 j_alarm_seq;
	int64_t			 j_alarm_first_bad;
	char			 j_alarm_problem[256];
	uint64_t		 j_alarm_logged;
};

static int	check_trail(struct journal *);
static int	alarm_load(struct journal *);
static void	arm_sign_timer(struct journal *);
static void	on_sign_timer(evutil_socket_t, short, void *);

/* The kernel's view of the clock's quality (-1 errors: unknown). */
void
journal_clock(int *synced, int64_t *maxerror_us, int64_t *esterror_us)
{
	struct timex	 tx;
	int		 st;

	memset(&tx, 0, sizeof(tx));
	st = adjtimex(&tx);
	*synced = st != -1 && st != TIME_ERROR &&
	    (tx.status & STA_UNSYNC) == 0;
	*maxerror_us = st != -1 ? tx.maxerror : -1;
	*esterror_us = st != -1 ? tx.esterror : -1;
}

/*
 * The kernel's view of the clock's quality changes slowly (maxerror
 * grows 500 ppm), so it is read once per turn of the loop that makes
 * events, not once per event: journal_clock_turn() forgets it.
 */
static struct {
	int	 valid, synced;
	int64_t	 maxerror_us, esterror_us;
} clock_now;

void
journal_clock_turn(void)
{
	clock_now.valid = 0;
}

/* Clock fields: the time now, and the kernel's view of its quality. */
void
journal_event_init(struct trail_event *ev, const char *kind)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->utc_us = polrecd_utc_us();
	ev->mono_us = (int64_t)polrecd_now_us();
	if (!clock_now.valid) {
		journal_clock(&clock_now.synced, &clock_now.maxerror_us,
		    &clock_now.esterror_us);
		clock_now.valid = 1;
	}
	ev->clock_synced = clock_now.synced;
	ev->clock_maxerror_us = clock_now.maxerror_us;
	ev->clock_esterror_us = clock_now.esterror_us;
	ev->http_status = ev->latency_us = ev->attempts = -1;
}

/* The leg's clear columns on an event about it. */
void
journal_event_leg(struct trail_event *ev, const struct call_leg *leg)
{
	ev->call_id = leg->cl_id;
	ev->chain_id = leg->cl_chain;
	ev->tenant = leg->cl_tenant;
	ev->policy = leg->cl_policy;
	ev->paired = leg->cl_paired;
	ev->other = leg->cl_other;
}

/*
 * Before polrecd signs anything: the chain from its own last checkpoint
 * to the head, and the head seal.  A problem does not stop it (a blocked
 * trader is the worse failure): it records an `integrity` event naming
 * the first bad event, chains on from the last good point, and raises
 * the alarm until an operator acknowledges it.  -1: unreadable.
 */
static int
check_trail(struct journal *j)
{
	struct polrecd		*sc = j->j_sc;
	struct trail_tail_check	 chk;
	struct trail_event	 ev;
	cJSON			*d;
	char			*detail;
	int64_t			 bound;
	uint64_t		 t0 = polrecd_now_us();
	int			 rc, sealed;

	bound = sc->sc_conf->audit_checkpoint_events * 4;
	if (bound < CHECK_MIN_EVENTS)
		bound = CHECK_MIN_EVENTS;
	sealed = commit_schema_was(sc->sc_commit) >= TRAIL_SEAL_SCHEMA;
	rc = trail_check_tail(commit_db(sc->sc_commit),
	    trail_signing_pk(j->j_trail), bound, sealed, &chk);
	if (rc == -1) {
		log_warnx("audit trail: cannot check it: %s", chk.problem);
		return -1;
	}
	if (rc == 0) {
		log_info("audit trail: intact; %lld event(s) after this "
		    "appliance's checkpoint at %lld checked in %llu ms",
		    (long long)chk.walked, (long long)chk.anchor_seq,
		    (unsigned long long)(polrecd_now_us() - t0) / 1000);
		return 0;
	}
	log_warnx("audit trail: INTEGRITY ALARM: %s (first bad event %lld); "
	    "a new segment starts from event %lld; events after it up to "
	    "%lld are left out of the chain", chk.problem,
	    (long long)chk.bad_seq, (long long)chk.anchor_seq,
	    (long long)chk.last_seq);
	trail_new_segment(j->j_trail, chk.anchor_head);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "first_bad", (double)chk.bad_seq);
	cJSON_AddNumberToObject(d, "anchor_seq", (double)chk.anchor_seq);
	cJSON_AddNumberToObject(d, "found_last_seq", (double)chk.last_seq);
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	journal_event_init(&ev, "integrity");
	ev.outcome = "new_segment";
	ev.reason = chk.problem;
	ev.detail = detail;
	journal_add(sc, &ev);
	free(detail);
	sc->sc_stats.integrity_breaks++;
	j->j_sign_now = 1;
	j->j_alarm_reload = 1;
	j->j_alarm_seq = -1;	/* known once committed */
	j->j_alarm_first_bad = chk.bad_seq;
	snprintf(j->j_alarm_problem, sizeof(j->j_alarm_problem), "%s",
	    chk.problem);
	return 0;
}

/* The oldest integrity event no `acknowledge` event answers.  0 or -1. */
static int
alarm_load(struct journal *j)
{
	sqlite3		*db = commit_db(j->j_sc->sc_commit);
	sqlite3_stmt	*st;
	const char	*why;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT e.seq, e.reason, "
	    "json_extract(e.detail, '$.first_bad') FROM audit_event e "
	    "WHERE e.kind = 'integrity' AND NOT EXISTS (SELECT 1 FROM "
	    "audit_event a WHERE a.kind = 'acknowledge' AND a.seq > e.seq "
	    "AND json_extract(a.detail, '$.integrity_seq') = e.seq) "
	    "ORDER BY e.seq LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		log_warnx("audit trail: %s", sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(st);
	j->j_alarm_seq = 0;
	if (rc == SQLITE_ROW) {
		j->j_alarm_seq = sqlite3_column_int64(st, 0);
		why = (const char *)sqlite3_column_text(st, 1);
		snprintf(j->j_alarm_problem, sizeof(j->j_alarm_problem), "%s",
		    why != NULL ? why : "?");
		j->j_alarm_first_bad = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("audit trail: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (j->j_alarm_seq > 0) {
		log_warnx("audit trail: INTEGRITY ALARM: integrity event %lld "
		    "(%s; first bad event %lld) is not acknowledged; see "
		    "polrecctl audit verify, then polrecctl audit acknowledge",
		    (long long)j->j_alarm_seq, j->j_alarm_problem,
		    (long long)j->j_alarm_first_bad);
		j->j_alarm_logged = polrecd_now_us();
	}
	return 0;
}

int
journal_alarm(const struct polrecd *sc, int64_t *seq, int64_t *first_bad,
    const char **problem)
{
	const struct journal	*j = sc->sc_journal;

	if (j == NULL || j->j_alarm_seq == 0)
		return 0;
	*seq = j->j_alarm_seq;
	*first_bad = j->j_alarm_first_bad;
	*problem = j->j_alarm_problem;
	return 1;
}

void
journal_on_event(struct polrecd *sc, journal_event_cb cb, void *arg)
{
	if (sc->sc_journal != NULL) {
		sc->sc_journal->j_on_event = cb;
		sc->sc_journal->j_on_event_arg = arg;
	}
}

/* The last signed checkpoint: its seq and when it was made. -1: none. */
int
journal_checkpoint_state(const struct polrecd *sc, int64_t *seq,
    int64_t *utc_us)
{
	const struct journal	*j = sc->sc_journal;

	if (j == NULL || !j->j_have_cp)
		return -1;
	*seq = j->j_cp.seq;
	*utc_us = j->j_cp.utc_us;
	return 0;
}

void
journal_on_checkpoint(struct polrecd *sc, journal_checkpoint_cb cb,
    void *arg)
{
	if (sc->sc_journal != NULL) {
		sc->sc_journal->j_on_checkpoint = cb;
		sc->sc_journal->j_on_checkpoint_arg = arg;
	}
}

/*
 * A checkpoint just committed leaves the host: one line in the log
 * (syslog keeps it, and `audit verify -c` reads it back) and, through
 * the callback, to the witness and the time stamping authority.
 */
static void
announce_checkpoint(struct journal *j)
{
	struct audit_checkpoint	 cp;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES];
	char			*json;

	if (trail_last_checkpoint(j->j_trail, &cp, pk) == -1)
		return;
	j->j_have_cp = 1;
	j->j_cp = cp;
	memcpy(j->j_cp_pk, pk, sizeof(j->j_cp_pk));
	if (cp.seq == j->j_cp_announced)
		return;
	j->j_cp_announced = cp.seq;
	if ((json = audit_checkpoint_to_json(&cp, pk)) != NULL)
		log_info("audit checkpoint %s", json);
	free(json);
	j->j_sc->sc_stats.audit_checkpoints++;
	if (j->j_on_checkpoint != NULL)
		j->j_on_checkpoint(j->j_sc, &cp, pk, j->j_on_checkpoint_arg);
}

struct journal *
journal_new(struct polrecd *sc)
{
	struct journal		*j;
	struct trail_keys	*k;
	const char		*dir = sc->sc_conf->audit_key_dir;
	char			 err[512];

	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		fatalx("sodium_malloc");
	if (keyfile_read(dir, KEYFILE_SIGNING, k->sign_sk,
	    sizeof(k->sign_sk), KEYFILE_SECRET, err, sizeof(err)) == -1 ||
	    keyfile_read(dir, KEYFILE_AUDITOR_PUB, k->auditor_pk,
	    sizeof(k->auditor_pk), 0, err, sizeof(err)) == -1) {
		log_warnx("audit keys: %s (create them with `polrecctl keys "
		    "init`)", err);
		sodium_free(k);
		return NULL;
	}
	if (keyfile_exists(dir, KEYFILE_AUDITOR_SECRET))
		log_warnx("audit keys: %s/%s is the auditor's secret key: "
		    "move it off this host", dir, KEYFILE_AUDITOR_SECRET);
	j = xcalloc(1, sizeof(*j));
	j->j_sc = sc;
	TAILQ_INIT(&j->j_held);
	TAILQ_INIT(&j->j_batch.b_events);
	j->j_trail = trail_open(commit_db(sc->sc_commit), k, err, sizeof(err));
	sodium_free(k);
	if (j->j_trail == NULL) {
		log_warnx("audit trail: %s", err);
		free(j);
		return NULL;
	}
	j->j_signed_at = j->j_datakey_at = polrecd_now_us();
	if ((j->j_sign_timer = evtimer_new(sc->sc_base, on_sign_timer,
	    j)) == NULL)
		fatalx("journal: cannot create a timer");
	/* A checkpoint at start-up: a new trail is covered at once, and the
	 * first one to leave the host vouches for all before it. */
	j->j_sign_now = 1;
	log_info("audit trail: %lld event(s) so far",
	    (long long)trail_last_seq(j->j_trail));
	{
		unsigned char	 pk[AUDIT_SIGN_PUBBYTES];

		if (trail_last_checkpoint(j->j_trail, &j->j_cp, pk) == 0) {
			j->j_have_cp = 1;
			memcpy(j->j_cp_pk, pk, sizeof(j->j_cp_pk));
		}
	}
	/* Its integrity event, if any, is the first thing it holds. */
	sc->sc_journal = j;
	if (check_trail(j) == -1 || alarm_load(j) == -1) {
		sc->sc_journal = NULL;
		journal_free(j);
		return NULL;
	}
	return j;
}

static size_t
slen(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

static const char *
put(char **p, const char *s)
{
	char	*at = *p;
	size_t	 n;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	memcpy(at, s, n);
	*p += n;
	return at;
}

/*
 * The clear columns are copied with their control characters replaced
 * (lib/text.h): ids, reasons and codes come from the network, and
 * auditors read them on a terminal.  JSON columns are cleaned string by
 * string, escaped controls included.  The sealed copy keeps the bytes
 * as received: it is the evidence.
 */
static char *
put_clean(char **p, const char *s)
{
	char	*at = *p;

	if (s == NULL)
		return NULL;
	put(p, s);
	text_sanitize(at);
	return at;
}

/* Held for this turn's commit; every string is copied. */
void
journal_add(struct polrecd *sc, const struct trail_event *ev)
{
	struct journal		*j = sc->sc_journal;
	struct held_event	*he;
	struct trail_event	*e;
	const char		*personal = ev->personal;
	const char		*paired, *other, *detail;
	char			*cpaired, *cother, *cdetail;
	size_t			 size, plen = ev->personal_len;
	char			*p;

	if (j == NULL)
		return;
	/* Told as it happens (`polrecctl monitor`): the clear columns. */
	if (j->j_on_event != NULL)
		j->j_on_event(sc, ev, j->j_on_event_arg);
	if (personal != NULL && plen > AUDIT_SEAL_MAX) {
		personal = "{\"truncated\":true}";
		plen = strlen(personal);
	}
	text_sanitize_json_text(ev->paired, &cpaired);
	text_sanitize_json_text(ev->other, &cother);
	text_sanitize_json_text(ev->detail, &cdetail);
	paired = cpaired != NULL ? cpaired : ev->paired;
	other = cother != NULL ? cother : ev->other;
	detail = cdetail != NULL ? cdetail : ev->detail;
	size = slen(ev->kind) + slen(ev->outcome) + slen(ev->reason) +
	    slen(ev->call_id) + slen(ev->chain_id) + slen(ev->tenant) +
	    slen(ev->policy) + slen(paired) + slen(other) +
	    slen(ev->msg_id) + slen(ev->graph_code) + slen(ev->request_id) +
	    slen(detail) + (personal != NULL ? plen + 1 : 0);
	he = xcalloc(1, sizeof(*he));
	he->he_size = size;
	p = he->he_strings = xmalloc(size > 0 ? size : 1);
	e = &he->he_ev;
	*e = *ev;
	e->kind = put_clean(&p, ev->kind);
	e->outcome = put_clean(&p, ev->outcome);
	e->reason = put_clean(&p, ev->reason);
	e->call_id = put_clean(&p, ev->call_id);
	e->chain_id = put_clean(&p, ev->chain_id);
	e->tenant = put_clean(&p, ev->tenant);
	e->policy = put_clean(&p, ev->policy);
	e->paired = put(&p, paired);
	e->other = put(&p, other);
	e->msg_id = put_clean(&p, ev->msg_id);
	e->graph_code = put_clean(&p, ev->graph_code);
	e->request_id = put_clean(&p, ev->request_id);
	e->detail = put(&p, detail);
	free(cpaired);
	free(cother);
	free(cdetail);
	if (personal != NULL) {
		memcpy(p, personal, plen);
		p[plen] = '\0';
		e->personal = p;
		e->personal_len = plen;
	}
	he->he_request = j->j_request;
	TAILQ_INSERT_TAIL(&j->j_held, he, he_entry);
	j->j_nheld++;
	if (strcmp(ev->kind, "witness") != 0 &&
	    strcmp(ev->kind, "timestamp") != 0)
		j->j_real_unsigned++;
	sc->sc_stats.audit_events++;
	commit_want(sc->sc_commit);
}

static void
held_free(struct held_event *he)
{
	sodium_memzero(he->he_strings, he->he_size);
	free(he->he_strings);
	free(he);
}

/*
 * Events made while a request is handled are that request's: if its
 * commit fails it is refused (503), and what it would have recorded is
 * dropped with journal_request_drop() rather than written later under a
 * reply that never went out; the sender sends it again.
 */
uint64_t
journal_request_begin(struct polrecd *sc)
{
	struct journal	*j = sc->sc_journal;

	if (j == NULL)
		return 0;
	j->j_request = ++j->j_next_request;
	return j->j_request;
}

void
journal_request_end(struct polrecd *sc)
{
	if (sc->sc_journal != NULL)
		sc->sc_journal->j_request = 0;
}

/* The request being handled, or 0. */
uint64_t
journal_request_current(const struct polrecd *sc)
{
	return sc->sc_journal != NULL ? sc->sc_journal->j_request : 0;
}

size_t
journal_request_drop(struct polrecd *sc, uint64_t request)
{
	struct journal		*j = sc->sc_journal;
	struct held_event	*he, *next;
	size_t			 n = 0;

	if (j == NULL || request == 0)
		return 0;
	for (he = TAILQ_FIRST(&j->j_held); he != NULL; he = next) {
		next = TAILQ_NEXT(he, he_entry);
		if (he->he_request != request)
			continue;
		TAILQ_REMOVE(&j->j_held, he, he_entry);
		held_free(he);
		j->j_nheld--;
		n++;
	}
	return n;
}

/*
 * Too many events wait for a commit (the disk fails): new notifications
 * are refused with 503 before any work is done for them, so nothing is
 * ever dropped; the appliance's own events are few and always kept.
 */
/* Events held for the next commit. */
size_t
journal_held(const struct polrecd *sc)
{
	return sc->sc_journal != NULL ? sc->sc_journal->j_nheld : 0;
}

int
journal_backlog(const struct polrecd *sc)
{
	const struct journal	*j = sc->sc_journal;

	return j != NULL &&
	    j->j_nheld >= (size_t)sc->sc_conf->audit_max_pending;
}

int
journal_dirty(const struct polrecd *sc)
{
	const struct journal	*j = sc->sc_journal;

	return j != NULL && (j->j_nheld > 0 || j->j_sign_now ||
	    j->j_ts_token != NULL);
}

/* A checkpoint's RFC 3161 token, stored at the next commit. */
void
journal_add_timestamp(struct polrecd *sc, int64_t seq, int64_t gen_utc_us,
    const unsigned char *token, size_t len)
{
	struct journal	*j = sc->sc_journal;

	if (j == NULL || len == 0)
		return;
	free(j->j_ts_token);
	j->j_ts_token = xmalloc(len);
	memcpy(j->j_ts_token, token, len);
	j->j_ts_len = len;
	j->j_ts_seq = seq;
	j->j_ts_gen_utc_us = gen_utc_us;
	commit_want(sc->sc_commit);
}

/*
 * On the loop, at the end of a turn: everything held becomes the batch
 * the writer appends, with what the batch is to sign and stamp.
 */
void
journal_take(struct polrecd *sc)
{
	struct journal		*j = sc->sc_journal;
	struct journal_batch	*b;
	const struct conf	*c = sc->sc_conf;
	uint64_t		 now = polrecd_now_us();

	if (j == NULL)
		return;
	b = &j->j_batch;
	TAILQ_CONCAT(&b->b_events, &j->j_held, he_entry);
	b->b_nevents = j->j_nheld;
	b->b_real = j->j_real_unsigned;
	b->b_sign_now = j->j_sign_now;
	j->j_sign_now = 0;
	b->b_interval_due = j->j_real_unsigned > 0 && now - j->j_signed_at >=
	    (uint64_t)c->audit_checkpoint_interval * 1000000;
	b->b_cp_events = c->audit_checkpoint_events;
	b->b_ts_token = j->j_ts_token;
	b->b_ts_len = j->j_ts_len;
	b->b_ts_seq = j->j_ts_seq;
	b->b_ts_gen_utc_us = j->j_ts_gen_utc_us;
	j->j_ts_token = NULL;
	b->b_signed = 0;
}

/*
 * On the writer thread, inside the batch's transaction: the batch and
 * the trail only.
 */
int
journal_write(struct journal *j, char *err, size_t errlen)
{
	struct journal_batch	*b;
	struct held_event	*he;
	int64_t			 seq;
	size_t			 unsig;

	if (j == NULL)
		return 0;
	b = &j->j_batch;
	b->b_signed = 0;
	if (b->b_ts_token != NULL && trail_add_timestamp(j->j_trail,
	    b->b_ts_seq, b->b_ts_gen_utc_us, b->b_ts_token, b->b_ts_len, err,
	    errlen) == -1)
		return -1;
	TAILQ_FOREACH(he, &b->b_events, he_entry)
		if (trail_append(j->j_trail, &he->he_ev, &seq, err,
		    errlen) == -1)
			return -1;
	unsig = trail_unsigned(j->j_trail);
	if (unsig > 0 && (b->b_sign_now || unsig >= b->b_cp_events ||
	    b->b_interval_due)) {
		if (trail_checkpoint(j->j_trail, polrecd_utc_us(), err,
		    errlen) == -1)
			return -1;
		b->b_signed = 1;
	}
	return trail_seal(j->j_trail, polrecd_utc_us(), err, errlen);
}

/* On the writer thread, right after COMMIT or ROLLBACK. */
void
journal_written(struct journal *j, int committed)
{
	if (j == NULL)
		return;
	if (committed)
		trail_committed(j->j_trail);
	else
		trail_rolled_back(j->j_trail);
}

/*
 * On the loop, the writer idle: the batch is over.  Committed, its
 * events go; rolled back, they are held again, in front of those made
 * since, to be written at the next commit (or dropped with their
 * request, journal_request_drop).
 */
void
journal_done(struct polrecd *sc, int committed)
{
	struct journal		*j = sc->sc_journal;
	struct journal_batch	*b;
	struct held_event	*he;

	if (j == NULL)
		return;
	b = &j->j_batch;
	if (!committed) {
		TAILQ_CONCAT(&b->b_events, &j->j_held, he_entry);
		TAILQ_CONCAT(&j->j_held, &b->b_events, he_entry);
		j->j_sign_now |= b->b_sign_now;
		if (j->j_ts_token == NULL) {
			j->j_ts_token = b->b_ts_token;
			j->j_ts_len = b->b_ts_len;
			j->j_ts_seq = b->b_ts_seq;
			j->j_ts_gen_utc_us = b->b_ts_gen_utc_us;
		} else
			free(b->b_ts_token);
		b->b_ts_token = NULL;
		b->b_nevents = 0;
		return;
	}
	if (b->b_signed)
		j->j_signed_at = polrecd_now_us();
	/* Those made while the batch was written are still unsigned. */
	if (trail_unsigned(j->j_trail) == 0)
		j->j_real_unsigned -= b->b_real < j->j_real_unsigned ?
		    b->b_real : j->j_real_unsigned;
	free(b->b_ts_token);
	b->b_ts_token = NULL;
	while ((he = TAILQ_FIRST(&b->b_events)) != NULL) {
		TAILQ_REMOVE(&b->b_events, he, he_entry);
		held_free(he);
		j->j_nheld--;
	}
	b->b_nevents = 0;
	if (j->j_alarm_reload) {
		j->j_alarm_reload = 0;
		(void)alarm_load(j);
	}
	announce_checkpoint(j);
	arm_sign_timer(j);
}

/*
 * Unsigned events get their checkpoint checkpoint_interval after the
 * last one, not at the next housekeeping tick: that interval is how long
 * events stay unvouched for off the host.
 */
static void
arm_sign_timer(struct journal *j)
{
	struct timeval	 tv;
	uint64_t	 due, now = polrecd_now_us();

	if (trail_unsigned(j->j_trail) == 0 || j->j_real_unsigned == 0 ||
	    evtimer_pending(j->j_sign_timer, NULL))
		return;
	due = j->j_signed_at +
	    (uint64_t)j->j_sc->sc_conf->audit_checkpoint_interval * 1000000;
	due = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(due / 1000000);
	tv.tv_usec = (suseconds_t)(due % 1000000);
	evtimer_add(j->j_sign_timer, &tv);
}

static void
on_sign_timer(evutil_socket_t fd, short what, void *arg)
{
	struct journal	*j = arg;

	(void)fd;
	(void)what;
	/* The trail is the writer's: events not signed are counted here. */
	if (j->j_real_unsigned > 0) {
		j->j_sign_now = 1;
		commit_want(j->j_sc->sc_commit);
	}
}

/* From the housekeeping timer: sign an idle tail, rotate the data key. */
void
journal_tick(struct polrecd *sc)
{
	struct journal	*j = sc->sc_journal;
	uint64_t	 now = polrecd_now_us();

	if (j == NULL)
		return;
	if (j->j_real_unsigned > 0 && now - j->j_signed_at >=
	    (uint64_t)sc->sc_conf->audit_checkpoint_interval * 1000000) {
		j->j_sign_now = 1;
		commit_want(sc->sc_commit);
	}
	if (j->j_alarm_seq > 0 &&
	    now - j->j_alarm_logged >= ALARM_REMIND_SEC * 1000000ULL) {
		log_warnx("audit trail: INTEGRITY ALARM still raised: "
		    "integrity event %lld (%s) is not acknowledged",
		    (long long)j->j_alarm_seq, j->j_alarm_problem);
		j->j_alarm_logged = now;
	}
	if (now - j->j_datakey_at >= DATAKEY_ROTATE_SEC * 1000000ULL &&
	    !commit_busy(sc->sc_commit)) {
		trail_rotate_datakey(j->j_trail);
		j->j_datakey_at = now;
	}
}

/* Sign what is there at the next commit (shutdown, retention). */
void
journal_sign_now(struct polrecd *sc)
{
	if (sc->sc_journal != NULL) {
		sc->sc_journal->j_sign_now = 1;
		commit_want(sc->sc_commit);
	}
}

struct trail *
journal_trail(struct polrecd *sc)
{
	return sc->sc_journal != NULL ? sc->sc_journal->j_trail : NULL;
}

void
journal_free(struct journal *j)
{
	struct held_event	*he;

	if (j == NULL)
		return;
	if (j->j_nheld > 0)
		log_warnx("audit trail: %zu event(s) could not be written",
		    j->j_nheld);
	while ((he = TAILQ_FIRST(&j->j_held)) != NULL) {
		TAILQ_REMOVE(&j->j_held, he, he_entry);
		held_free(he);
	}
	if (j->j_sign_timer != NULL)
		event_free(j->j_sign_timer);
	trail_free(j->j_trail);
	free(j->j_ts_token);
	free(j);
}

/* Recorder references as a JSON array of their ids; NULL when none. */
char *
journal_recorders(const void *refs, size_t n)
{
	const struct recorder_ref	*r = refs;
	cJSON				*a;
	char				*s;
	size_t				 i;

	if (n == 0)
		return NULL;
	a = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, r[i].id != NULL ?
		    cJSON_CreateString(r[i].id) : cJSON_CreateNull());
	s = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return s;
}

/* What Graph said to a request. */
void
journal_graph_result(struct trail_event *ev, const struct graph_result *r)
{
	ev->http_status = r->status > 0 ? r->status : -1;
	ev->graph_code = r->gerr.code[0] ? r->gerr.code : NULL;
	ev->request_id = r->request_id != NULL && r->request_id[0] ?
	    r->request_id : NULL;
	ev->attempts = r->attempts;
	if (r->error != NULL && ev->reason == NULL)
		ev->reason = r->error;
}

/*
 * An event about a leg: its clear columns, the time since its invitation,
 * and what Graph said when r is not NULL.
 */
void
journal_leg(struct polrecd *sc, const struct call_leg *leg,
    const char *kind, const char *outcome, const char *reason,
    const char *detail, const struct graph_result *r)
{
	struct trail_event	 ev;

	journal_event_init(&ev, kind);
	journal_event_leg(&ev, leg);
	ev.outcome = outcome;
	ev.reason = reason;
	ev.detail = detail;
	ev.latency_us = (int64_t)(polrecd_now_us() - leg->cl_arrival_us);
	if (r != NULL)
		journal_graph_result(&ev, r);
	journal_add(sc, &ev);
}

/* An event of the appliance itself (restart, reload, control). */
void
journal_simple(struct polrecd *sc, const char *kind, const char *outcome,
    const char *reason, const char *detail)
{
	struct trail_event	 ev;

	journal_event_init(&ev, kind);
	ev.outcome = outcome;
	ev.reason = reason;
	ev.detail = detail;
	journal_add(sc, &ev);
}

/*
 * Work in a transaction of its own, outside the turn's (retention, an
 * acknowledgement): committed before the command is answered, its
 * checkpoint announced; rolled back on failure.  Events held for the
 * turn are not in it: they are appended at the turn's commit, after.
 */
static int
own_transaction(struct journal *j,
    int (*step)(struct journal *, void *, char *, size_t), void *arg,
    char *err, size_t errlen)
{
	sqlite3	*db = commit_db(j->j_sc->sc_commit);

	err[0] = '\0';
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	if (step(j, arg, err, errlen) == -1 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		trail_rolled_back(j->j_trail);
		return -1;
	}
	trail_committed(j->j_trail);
	j->j_signed_at = polrecd_now_us();
	announce_checkpoint(j);
	return 0;
}

struct prune_args {
	int64_t			 before_utc_us;
	const struct trail_event *base;
	int64_t			*removed;
};

static int
prune_step(struct journal *j, void *arg, char *err, size_t errlen)
{
	struct prune_args	*a = arg;

	return trail_prune(j->j_trail, a->before_utc_us, a->base, a->removed,
	    err, errlen);
}

/*
 * Retention (polrecctl audit prune): the events older than before_utc_us
 * are removed, the trail's record of the removal and a signed checkpoint
 * with them.
 */
int
journal_prune(struct polrecd *sc, int64_t before_utc_us, unsigned int uid,
    int64_t *removed, char *err, size_t errlen)
{
	struct journal		*j = sc->sc_journal;
	struct trail_event	 base;
	struct prune_args	 a;
	char			 by[64];

	*removed = 0;
	if (j == NULL) {
		snprintf(err, errlen, "no audit trail");
		return -1;
	}
	snprintf(by, sizeof(by), "uid %u", uid);
	journal_event_init(&base, "retention");
	base.reason = by;
	a.before_utc_us = before_utc_us;
	a.base = &base;
	a.removed = removed;
	if (own_transaction(j, prune_step, &a, err, errlen) == -1) {
		*removed = 0;
		return -1;
	}
	log_info("audit trail: retention by %s removed %lld event(s) older "
	    "than %lld", by, (long long)*removed, (long long)before_utc_us);
	return 0;
}

static int
acknowledge_step(struct journal *j, void *arg, char *err, size_t errlen)
{
	const struct trail_event	*ev = arg;

	if (trail_append(j->j_trail, ev, NULL, err, errlen) == -1)
		return -1;
	return trail_checkpoint(j->j_trail, ev->utc_us, err, errlen);
}

/*
 * polrecctl audit acknowledge: an operator has seen the integrity alarm
 * of event `seq`.  Recorded with who did it, signed, and committed
 * before the reply; the alarm then clears.
 */
int
journal_acknowledge(struct polrecd *sc, int64_t seq, unsigned int uid,
    int64_t *acked, char *err, size_t errlen)
{
	struct journal		*j = sc->sc_journal;
	struct trail_event	 ev;
	char			 by[32], detail[64];

	*acked = 0;
	if (j == NULL) {
		snprintf(err, errlen, "no audit trail");
		return -1;
	}
	if (j->j_alarm_seq == 0) {
		snprintf(err, errlen, "no integrity alarm is raised");
		return -1;
	}
	if (j->j_alarm_seq < 0) {
		snprintf(err, errlen, "the integrity event is not written "
		    "yet; try again");
		return -1;
	}
	if (seq != j->j_alarm_seq) {
		snprintf(err, errlen, "event %lld is not the integrity event "
		    "to acknowledge (%lld is)", (long long)seq,
		    (long long)j->j_alarm_seq);
		return -1;
	}
	snprintf(by, sizeof(by), "uid %u", uid);
	snprintf(detail, sizeof(detail), "{\"integrity_seq\":%lld}",
	    (long long)seq);
	journal_event_init(&ev, "acknowledge");
	ev.outcome = "integrity";
	ev.reason = by;
	ev.detail = detail;
	if (own_transaction(j, acknowledge_step, &ev, err, errlen) == -1)
		return -1;
	log_info("audit trail: integrity alarm of event %lld acknowledged by "
	    "%s", (long long)seq, by);
	*acked = seq;
	return alarm_load(j);
}
