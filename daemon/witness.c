/*
 * Checkpoints leave the host as they are made: each one is POSTed to a
 * witness ([audit] witness_url), and time-stamped by an RFC 3161 time
 * stamping authority ([audit] tsa_url).  What they answered is recorded
 * in the trail (and the time stamp token stored beside the checkpoint),
 * so truncation or rewriting is caught later by someone who was never
 * on this host.  One request at a time per peer: a newer checkpoint
 * replaces one still waiting (it covers the chain before it); failures
 * are retried with backoff, counted and logged; nothing here blocks the
 * loop or holds a reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "audit.h"
#include "conf.h"
#include "fetch.h"
#include "log.h"
#include "polrecd.h"
#include "trail.h"
#include "tsa.h"
#include "xmalloc.h"

#define PEER_TIMEOUT_MS		10000
#define PEER_MAX_REPLY		(64 * 1024)
#define PEER_BACKOFF_MAX_S	60
/* A checkpoint this old is not worth a time stamp: ask for a new one,
 * so the trusted time stays close to the events it vouches for. */
#define TSA_FRESH_US		(300LL * 1000000)
#define RECEIPT_MAX		512

enum peer_kind { PEER_WITNESS, PEER_TSA, PEER_N };
static const char *const peer_names[PEER_N] = { "witness", "timestamp" };

struct peer {
	struct witness		*p_w;
	enum peer_kind		 p_kind;
	struct fetch_xfer	*p_xfer;	/* in flight */
	struct event		*p_retry;
	int			 p_backoff;	/* seconds */
	int			 p_failed_logged;	/* for this checkpoint */
	int			 p_have;	/* p_cp to send or in flight */
	struct audit_checkpoint	 p_cp;
	int			 p_have_next;	/* came meanwhile */
	struct audit_checkpoint	 p_next;
	uint64_t		 p_nonce;	/* of the request in flight */
	unsigned char		 p_digest[TSA_DIGESTBYTES];
	time_t			 p_last_warn;
	uint64_t		 p_failing_us;	/* since the first failure */
	char			 p_why[128];	/* the last failure */
	int64_t			 p_ok_utc_us;	/* last success, or 0 */
	int64_t			 p_ok_seq;	/* its checkpoint */
	uint64_t		 p_failures;	/* attempts failed */
};

struct witness {
	struct polrecd		*w_sc;
	unsigned char		 w_pk[AUDIT_SIGN_PUBBYTES];
	struct peer		 w_peer[PEER_N];
};

static void	peer_send(struct peer *);

static const char *
peer_url(const struct peer *p)
{
	const struct conf	*c = p->p_w->w_sc->sc_conf;

	return p->p_kind == PEER_WITNESS ? c->audit_witness_url :
	    c->audit_tsa_url;
}

/* What the peer said, as a `witness` or `timestamp` audit event. */
static void
peer_record(struct peer *p, const char *outcome, const char *reason,
    long status, const char *receipt, int64_t gen_utc_us)
{
	struct trail_event	 ev;
	cJSON			*d;
	char			*detail, gen[24];

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "seq", (double)p->p_cp.seq);
	cJSON_AddStringToObject(d, "url", peer_url(p));
	if (receipt != NULL)
		cJSON_AddStringToObject(d, "receipt", receipt);
	if (gen_utc_us > 0) {
		/* A double would print µs since the epoch rounded. */
		snprintf(gen, sizeof(gen), "%lld", (long long)gen_utc_us);
		cJSON_AddRawToObject(d, "gen_utc_us", gen);
	}
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	journal_event_init(&ev, peer_names[p->p_kind]);
	ev.outcome = outcome;
	ev.reason = reason;
	ev.detail = detail;
	if (status > 0)
		ev.http_status = status;
	journal_add(p->p_w->w_sc, &ev);
	free(detail);
}

static void
peer_next(struct peer *p)
{
	p->p_have = 0;
	p->p_failed_logged = 0;
	if (p->p_have_next) {
		p->p_cp = p->p_next;
		p->p_have = 1;
		p->p_have_next = 0;
		peer_send(p);
	}
}

static void
peer_failed(struct peer *p, long status, const char *why)
{
	struct polrecd	*sc = p->p_w->w_sc;
	struct timeval	 tv;
	time_t		 now = time(NULL);

	if (p->p_failing_us == 0)
		p->p_failing_us = polrecd_now_us();
	p->p_failures++;
	snprintf(p->p_why, sizeof(p->p_why), "%s%s", why,
	    status > 0 ? " (HTTP status)" : "");
	if (p->p_kind == PEER_WITNESS)
		sc->sc_stats.witness_failures++;
	else
		sc->sc_stats.timestamp_failures++;
	if (now != p->p_last_warn) {
		p->p_last_warn = now;
		log_warnx("audit %s: checkpoint %lld: %s%s; retrying in %d s",
		    peer_names[p->p_kind], (long long)p->p_cp.seq, why,
		    status > 0 ? " (HTTP status)" : "",
		    p->p_backoff > 0 ? p->p_backoff : 1);
	}
	/* Once per checkpoint in the trail, not once per attempt. */
	if (!p->p_failed_logged) {
		peer_record(p, "failed", why, status, NULL, 0);
		p->p_failed_logged = 1;
	}
	p->p_backoff = p->p_backoff == 0 ? 1 : p->p_backoff * 2;
	if (p->p_backoff > PEER_BACKOFF_MAX_S)
		p->p_backoff = PEER_BACKOFF_MAX_S;
	tv.tv_sec = p->p_backoff;
	tv.tv_usec = 0;
	evtimer_add(p->p_retry, &tv);
}

/* A short, printable receipt from the witness's reply. */
static void
receipt_of(const struct fetch_response *r, char *buf, size_t len)
{
	size_t	 i, n = r->body_len < len - 1 ? r->body_len : len - 1;

	for (i = 0; i < n; i++)
		buf[i] = r->body[i] >= 0x20 && r->body[i] < 0x7f ?
		    r->body[i] : '?';
	buf[n] = '\0';
}

static void
on_witness(const struct fetch_response *r, void *arg)
{
	struct peer	*p = arg;
	char		 receipt[RECEIPT_MAX], why[128];

	p->p_xfer = NULL;
	if (!r->ok || r->status < 200 || r->status > 299) {
		snprintf(why, sizeof(why), "%s", r->ok ? "refused" :
		    r->error != NULL ? r->error : "failed");
		peer_failed(p, r->ok ? r->status : 0, why);
		return;
	}
	receipt_of(r, receipt, sizeof(receipt));
	p->p_w->w_sc->sc_stats.witness_accepted++;
	p->p_failing_us = 0;
	p->p_ok_utc_us = polrecd_utc_us();
	p->p_ok_seq = p->p_cp.seq;
	peer_record(p, "accepted", NULL, r->status, receipt, 0);
	p->p_backoff = 0;
	peer_next(p);
}

static void
on_tsa(const struct fetch_response *r, void *arg)
{
	struct peer	*p = arg;
	unsigned char	*token = NULL;
	size_t		 tokenlen = 0;
	int64_t		 gen = 0;
	char		 err[256];

	p->p_xfer = NULL;
	if (!r->ok || r->status < 200 || r->status > 299) {
		snprintf(err, sizeof(err), "%s", r->ok ? "refused" :
		    r->error != NULL ? r->error : "failed");
		peer_failed(p, r->ok ? r->status : 0, err);
		return;
	}
	if (tsa_reply_parse((const unsigned char *)r->body, r->body_len,
	    p->p_digest, p->p_nonce, &token, &tokenlen, &gen, err,
	    sizeof(err)) == -1) {
		peer_failed(p, r->status, err);
		return;
	}
	p->p_w->w_sc->sc_stats.timestamps++;
	journal_add_timestamp(p->p_w->w_sc, p->p_cp.seq, gen, token, tokenlen);
	p->p_failing_us = 0;
	p->p_ok_utc_us = polrecd_utc_us();
	p->p_ok_seq = p->p_cp.seq;
	peer_record(p, "stamped", NULL, r->status, NULL, gen);
	free(token);
	p->p_backoff = 0;
	peer_next(p);
}

static void
peer_send(struct peer *p)
{
	struct fetch_request	 req;
	unsigned char		*der = NULL;
	size_t			 derlen = 0;
	char			*json = NULL, err[256];

	if (!p->p_have || p->p_xfer != NULL ||
	    evtimer_pending(p->p_retry, NULL))
		return;
	if (p->p_kind == PEER_TSA &&
	    polrecd_utc_us() - p->p_cp.utc_us > TSA_FRESH_US) {
		/* Stamp a fresh checkpoint instead: it comes through
		 * witness_checkpoint as the next one. */
		peer_record(p, "stale", "checkpoint too old to time-stamp; "
		    "a new one is signed", 0, NULL, 0);
		p->p_have = 0;
		journal_sign_now(p->p_w->w_sc);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = peer_url(p);
	req.timeout_ms = PEER_TIMEOUT_MS;
	req.connect_timeout_ms = PEER_TIMEOUT_MS;
	req.max_response = PEER_MAX_REPLY;
	if (p->p_kind == PEER_WITNESS) {
		if ((json = audit_checkpoint_to_json(&p->p_cp,
		    p->p_w->w_pk)) == NULL) {
			peer_failed(p, 0, "cannot write the checkpoint");
			return;
		}
		req.headers[0] = "Content-Type: application/json";
		req.body = json;
		req.body_len = strlen(json);
		p->p_xfer = fetch_start(p->p_w->w_sc->sc_fetch, &req,
		    on_witness, p);
	} else {
		if (tsa_digest(&p->p_cp, p->p_digest) == -1 ||
		    tsa_request_new(p->p_digest, &p->p_nonce, &der, &derlen,
		    err, sizeof(err)) == -1) {
			peer_failed(p, 0, "cannot make the request");
			return;
		}
		req.headers[0] = "Content-Type: application/timestamp-query";
		req.headers[1] = "Accept: application/timestamp-reply";
		req.body = (const char *)der;
		req.body_len = derlen;
		p->p_xfer = fetch_start(p->p_w->w_sc->sc_fetch, &req, on_tsa,
		    p);
	}
	free(json);
	free(der);
	if (p->p_xfer == NULL)
		peer_failed(p, 0, "cannot start the request");
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct peer	*p = arg;

	(void)fd;
	(void)what;
	/* The newest checkpoint covers the older one. */
	if (p->p_have_next) {
		p->p_cp = p->p_next;
		p->p_have_next = 0;
		p->p_failed_logged = 0;
	}
	peer_send(p);
}

/* From the journal, when a checkpoint is committed. */
static void
witness_checkpoint(struct polrecd *sc, const struct audit_checkpoint *cp,
    const unsigned char *pk, void *arg)
{
	struct witness	*w = arg;
	struct peer	*p;
	int		 i;

	(void)sc;
	memcpy(w->w_pk, pk, sizeof(w->w_pk));
	for (i = 0; i < PEER_N; i++) {
		p = &w->w_peer[i];
		if (peer_url(p) == NULL)
			continue;
		if (p->p_have) {
			p->p_next = *cp;
			p->p_have_next = 1;
			continue;
		}
		p->p_cp = *cp;
		p->p_have = 1;
		p->p_failed_logged = 0;
		peer_send(p);
	}
}

struct witness *
witness_new(struct polrecd *sc)
{
	struct witness	*w;
	int		 i;

	w = xcalloc(1, sizeof(*w));
	w->w_sc = sc;
	for (i = 0; i < PEER_N; i++) {
		w->w_peer[i].p_w = w;
		w->w_peer[i].p_kind = i;
		if ((w->w_peer[i].p_retry = evtimer_new(sc->sc_base, on_retry,
		    &w->w_peer[i])) == NULL)
			fatalx("witness: cannot create a timer");
		if (peer_url(&w->w_peer[i]) != NULL)
			log_info("audit %s: checkpoints go to %s",
			    peer_names[i], peer_url(&w->w_peer[i]));
	}
	journal_on_checkpoint(sc, witness_checkpoint, w);
	return w;
}

void
witness_free(struct witness *w)
{
	int	 i;

	if (w == NULL)
		return;
	journal_on_checkpoint(w->w_sc, NULL, NULL);
	for (i = 0; i < PEER_N; i++) {
		fetch_cancel(w->w_peer[i].p_xfer);
		event_free(w->w_peer[i].p_retry);
	}
	free(w);
}

/*
 * How long checkpoints have not left the host: the longest a peer has
 * been failing (since its first failure after its last success), with
 * its last failure in why; 0 when none is failing.
 */
uint64_t
witness_failing_us(const struct witness *w, char *why, size_t whylen)
{
	uint64_t	 now = polrecd_now_us(), worst = 0;
	int		 i;

	if (whylen > 0)
		why[0] = '\0';
	for (i = 0; w != NULL && i < PEER_N; i++) {
		if (w->w_peer[i].p_failing_us == 0 ||
		    now - w->w_peer[i].p_failing_us <= worst)
			continue;
		worst = now - w->w_peer[i].p_failing_us;
		snprintf(why, whylen, "%s: %s", peer_names[i],
		    w->w_peer[i].p_why);
	}
	return worst;
}

/* One peer's state for `show status`: -1 past the last peer. */
int
witness_state(const struct witness *w, int i, struct witness_state *st)
{
	const struct peer	*p;

	if (w == NULL || i < 0 || i >= PEER_N)
		return -1;
	p = &w->w_peer[i];
	memset(st, 0, sizeof(*st));
	st->name = peer_names[i];
	st->url = peer_url(p);
	st->ok_utc_us = p->p_ok_utc_us;
	st->ok_seq = p->p_ok_seq;
	st->failures = p->p_failures;
	st->failing_us = p->p_failing_us != 0 ?
	    polrecd_now_us() - p->p_failing_us : 0;
	st->last_error = p->p_failing_us != 0 ? p->p_why : NULL;
	return 0;
}
