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

#define JOURNAL_MAX_PENDING	200000	/* events held while the disk fails */
#define DATAKEY_ROTATE_SEC	3600	/* a new data key every hour */

struct held_event {
	TAILQ_ENTRY(held_event)	 he_entry;
	struct trail_event	 he_ev;
	char			*he_strings;	/* one block, wiped */
	size_t			 he_size;
};
TAILQ_HEAD(held_eventq, held_event);

struct journal {
	struct polrecd		*j_sc;
	struct trail		*j_trail;
	struct held_eventq	 j_held;
	size_t			 j_nheld;
	size_t			 j_appended;	/* in the open transaction */
	uint64_t		 j_signed_at;	/* monotonic, last checkpoint */
	uint64_t		 j_datakey_at;
	int			 j_sign_now;	/* checkpoint at next flush */
};

/* Clock fields: the time now, and the kernel's view of its quality. */
void
journal_event_init(struct trail_event *ev, const char *kind)
{
	struct timex	 tx;
	int		 st;

	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->utc_us = polrecd_utc_us();
	ev->mono_us = (int64_t)polrecd_now_us();
	memset(&tx, 0, sizeof(tx));
	st = adjtimex(&tx);
	ev->clock_synced = st != -1 && st != TIME_ERROR &&
	    (tx.status & STA_UNSYNC) == 0;
	ev->clock_maxerror_us = st != -1 ? tx.maxerror : -1;
	ev->clock_esterror_us = st != -1 ? tx.esterror : -1;
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
	j->j_trail = trail_open(commit_db(sc->sc_commit), k, err, sizeof(err));
	sodium_free(k);
	if (j->j_trail == NULL) {
		log_warnx("audit trail: %s", err);
		free(j);
		return NULL;
	}
	j->j_signed_at = j->j_datakey_at = polrecd_now_us();
	log_info("audit trail: %lld event(s) so far",
	    (long long)trail_last_seq(j->j_trail));
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
	if (j->j_nheld >= JOURNAL_MAX_PENDING) {
		sc->sc_stats.audit_events_dropped++;
		return;
	}
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
	TAILQ_INSERT_TAIL(&j->j_held, he, he_entry);
	j->j_nheld++;
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

int
journal_dirty(const struct polrecd *sc)
{
	const struct journal	*j = sc->sc_journal;

	return j != NULL && (j->j_nheld > 0 || j->j_sign_now);
}

/* Inside the turn's transaction. */
int
journal_flush(struct polrecd *sc, sqlite3 *db, char *err, size_t errlen)
{
	struct journal		*j = sc->sc_journal;
	const struct conf	*c = sc->sc_conf;
	struct held_event	*he;
	int64_t			 seq;
	uint64_t		 now = polrecd_now_us();

	(void)db;
	if (j == NULL)
		return 0;
	j->j_appended = 0;
	TAILQ_FOREACH(he, &j->j_held, he_entry) {
		if (trail_append(j->j_trail, &he->he_ev, &seq, err,
		    errlen) == -1)
			return -1;
		j->j_appended++;
	}
	if (trail_unsigned(j->j_trail) > 0 && (j->j_sign_now ||
	    trail_unsigned(j->j_trail) >= c->audit_checkpoint_events ||
	    now - j->j_signed_at >=
	    (uint64_t)c->audit_checkpoint_interval * 1000000)) {
		if (trail_checkpoint(j->j_trail, polrecd_utc_us(), err,
		    errlen) == -1)
			return -1;
		j->j_signed_at = now;
	}
	return 0;
}

void
journal_done(struct polrecd *sc, int committed)
{
	struct journal		*j = sc->sc_journal;
	struct held_event	*he;

	if (j == NULL)
		return;
	if (!committed) {
		trail_rolled_back(j->j_trail);
		return;		/* held: written at the next commit */
	}
	trail_committed(j->j_trail);
	j->j_sign_now = 0;
	while (j->j_appended > 0 && (he = TAILQ_FIRST(&j->j_held)) != NULL) {
		TAILQ_REMOVE(&j->j_held, he, he_entry);
		held_free(he);
		j->j_nheld--;
		j->j_appended--;
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
	if (trail_unsigned(j->j_trail) > 0 && now - j->j_signed_at >=
	    (uint64_t)sc->sc_conf->audit_checkpoint_interval * 1000000) {
		j->j_sign_now = 1;
		commit_want(sc->sc_commit);
	}
	if (now - j->j_datakey_at >= DATAKEY_ROTATE_SEC * 1000000ULL) {
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
	trail_free(j->j_trail);
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
 * Retention (polrecctl audit prune): the events older than before_utc_us
 * are removed in a transaction of their own, the trail's record of the
 * removal and a signed checkpoint with them.  Held events of this turn
 * are not in it: they are appended at the turn's commit, after.
 */
int
journal_prune(struct polrecd *sc, int64_t before_utc_us, unsigned int uid,
    int64_t *removed, char *err, size_t errlen)
{
	struct journal		*j = sc->sc_journal;
	sqlite3			*db = commit_db(sc->sc_commit);
	struct trail_event	 base;
	char			 by[64];

	*removed = 0;
	err[0] = '\0';
	if (j == NULL) {
		snprintf(err, errlen, "no audit trail");
		return -1;
	}
	snprintf(by, sizeof(by), "uid %u", uid);
	journal_event_init(&base, "retention");
	base.reason = by;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	if (trail_prune(j->j_trail, before_utc_us, &base, removed, err,
	    errlen) == -1 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		trail_rolled_back(j->j_trail);
		*removed = 0;
		return -1;
	}
	trail_committed(j->j_trail);
	j->j_signed_at = polrecd_now_us();
	log_info("audit trail: retention by %s removed %lld event(s) older "
	    "than %lld", by, (long long)*removed, (long long)before_utc_us);
	return 0;
}
