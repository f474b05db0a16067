/*
 * The text of /metrics (Prometheus exposition format 0.0.4): struct
 * stats regrouped into families by label, the histograms and bounded
 * label sets of struct metrics, gauges read now, and the alarms.  Every
 * family is listed in polrecd(8) METRICS; never rename one.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "fetch.h"
#include "graph.h"
#include "group.h"
#include "legs.h"
#include "metric.h"
#include "polrecd.h"

static const double latency_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
static const double commit_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5
};
static const double batch_bounds[] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024
};
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The buckets; the answer budget (at start-up) is one of them. */
void
metrics_init(struct polrecd *sc)
{
	struct metrics	*m = &sc->sc_metrics;

	memset(m, 0, sizeof(*m));
	histogram_init(&m->m_answer_latency, latency_bounds,
	    NELEM(latency_bounds),
	    (double)sc->sc_conf->recording_answer_budget_ms / 1000);
	histogram_init(&m->m_commit_latency, commit_bounds,
	    NELEM(commit_bounds), 0);
	histogram_init(&m->m_commit_batch, batch_bounds, NELEM(batch_bounds),
	    0);
}

static void
counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	metric_head(f, name, "counter", help);
	metric_u64(f, name, NULL, v);
}

static void
gauge(FILE *f, const char *name, const char *help, double v)
{
	metric_head(f, name, "gauge", help);
	metric_double(f, name, NULL, v);
}

/* One sample of a family by one label. */
static void
by(FILE *f, const char *name, const char *label, const char *value,
    uint64_t v)
{
	char	 lab[128];

	snprintf(lab, sizeof(lab), "%s=\"%s\"", label, value);
	metric_u64(f, name, lab, v);
}

static void
write_legs(const struct polrecd *sc, FILE *f)
{
	const struct call_legq	*q = legs_all(sc);
	const struct call_leg	*leg;
	uint64_t		 groups = 0, used = 0, cap = 0;

	gauge(f, "polrec_live_legs", "Call legs being recorded now.",
	    (double)legs_live(sc));
	gauge(f, "polrec_max_calls", "[recording] max_calls.",
	    (double)sc->sc_conf->recording_max_calls);
	TAILQ_FOREACH(leg, q, cl_entry) {
		if (leg->cl_group == NULL)
			continue;
		groups++;
		used += group_used(leg->cl_group);
		cap += group_capacity(leg->cl_group);
	}
	gauge(f, "polrec_recorder_groups", "Recorder groups of live legs.",
	    (double)groups);
	metric_head(f, "polrec_group_seats", "gauge",
	    "Seats of the live recorder groups, used and in all.");
	by(f, "polrec_group_seats", "state", "used", used);
	by(f, "polrec_group_seats", "state", "capacity", cap);
}

static void
write_tokens(const struct polrecd *sc, FILE *f)
{
	struct token_state	 st;
	char			 lab[128];
	size_t			 i;

	metric_head(f, "polrec_token_refreshes_total", "counter",
	    "Graph token requests by tenant and outcome.");
	for (i = 0; tokens_state(sc->sc_tokens, i, &st) == 0; i++) {
		snprintf(lab, sizeof(lab), "tenant=\"%s\",outcome=\"ok\"",
		    st.tenant);
		metric_u64(f, "polrec_token_refreshes_total", lab, st.fetches);
		snprintf(lab, sizeof(lab), "tenant=\"%s\",outcome=\"failed\"",
		    st.tenant);
		metric_u64(f, "polrec_token_refreshes_total", lab,
		    st.failures);
	}
	metric_head(f, "polrec_token_expiry_seconds", "gauge",
	    "Seconds left on each tenant's Graph token; 0: none valid.");
	for (i = 0; tokens_state(sc->sc_tokens, i, &st) == 0; i++) {
		snprintf(lab, sizeof(lab), "tenant=\"%s\"", st.tenant);
		metric_u64(f, "polrec_token_expiry_seconds", lab,
		    st.valid && st.expires_in > 0 ? (uint64_t)st.expires_in :
		    0);
	}
}

void
metrics_write(const struct polrecd *sc, FILE *f)
{
	const struct stats	*st = &sc->sc_stats;
	const struct metrics	*m = &sc->sc_metrics;
	struct fetch_stats	 fs;
	long long		 avail;

	metric_head(f, "polrec_build_info", "gauge", "polrecd's version.");
	by(f, "polrec_build_info", "version", POLREC_VERSION, 1);
	gauge(f, "polrec_start_time_seconds",
	    "When polrecd started, in seconds since the epoch.",
	    (double)sc->sc_started.tv_sec);

	counter(f, "polrec_http_requests_total",
	    "Requests read on the webhook listener.", st->http_requests);
	metric_labelset2(f, "polrec_notifications_total",
	    "Notifications by kind and outcome (requests refused before "
	    "they were read count as kind request).", "kind", "outcome",
	    &m->m_notifications);
	counter(f, "polrec_invitations_total", "Invitations received.",
	    st->invitations_received);
	counter(f, "polrec_auth_ok_total", "Notifications authenticated.",
	    st->auth_ok);
	counter(f, "polrec_auth_cached_total", "Notifications authenticated "
	    "by a token verified before (of auth_ok).", st->auth_cached);
	metric_labelset(f, "polrec_auth_failures_total",
	    "Notifications refused or deferred by authentication, by reason.",
	    "reason", &m->m_auth_failures);

	metric_head(f, "polrec_answers_total", "counter",
	    "Invitations by what became of them.");
	by(f, "polrec_answers_total", "outcome", "answered", st->answers_ok);
	by(f, "polrec_answers_total", "outcome", "rejected", st->rejects_ok);
	by(f, "polrec_answers_total", "outcome", "redirected",
	    st->invitations_redirected);
	by(f, "polrec_answers_total", "outcome", "missed",
	    st->answers_missed);
	by(f, "polrec_answers_total", "outcome", "failed",
	    st->answer_failures);
	metric_head(f, "polrec_answer_latency_seconds", "histogram",
	    "From an invitation's arrival to Graph's acceptance of the "
	    "answer; one bucket is [recording] answer_budget_ms.");
	metric_histogram(f, "polrec_answer_latency_seconds", NULL,
	    &m->m_answer_latency);

	metric_head(f, "polrec_join_decisions_total", "counter",
	    "Join decisions for recorder groups, by verdict.");
	by(f, "polrec_join_decisions_total", "verdict", "accepted",
	    st->joins_accepted);
	by(f, "polrec_join_decisions_total", "verdict", "rejected",
	    st->joins_rejected);
	by(f, "polrec_join_decisions_total", "verdict", "invited",
	    st->joins_invited);
	by(f, "polrec_join_decisions_total", "verdict", "repeated",
	    st->joins_repeated);
	by(f, "polrec_join_decisions_total", "verdict", "not_answered",
	    st->joins_not_answered);
	by(f, "polrec_join_decisions_total", "verdict", "taken_back",
	    st->joins_taken_back);
	write_legs(sc, f);

	counter(f, "polrec_graph_requests_total",
	    "Graph operations started.", st->graph_requests);
	counter(f, "polrec_graph_retries_total", "Graph attempts retried.",
	    st->graph_retries);
	metric_labelset(f, "polrec_graph_responses_total",
	    "Graph attempts by HTTP status (error: no response).", "status",
	    &m->m_graph_status);
	metric_labelset(f, "polrec_graph_errors_total",
	    "Graph error replies by their error code (at most 31 codes, "
	    "then other).", "code", &m->m_graph_code);
	gauge(f, "polrec_graph_in_flight", "Graph operations under way.",
	    (double)graph_in_flight());
	fetch_stats(sc->sc_fetch, &fs);
	gauge(f, "polrec_outbound_queued",
	    "Outbound requests waiting for a connection.", (double)fs.queued);
	gauge(f, "polrec_outbound_active", "Outbound requests under way.",
	    (double)fs.active);
	counter(f, "polrec_outbound_waited_total",
	    "Outbound requests that waited for a connection.", fs.waited);
	counter(f, "polrec_outbound_queue_expired_total",
	    "Outbound requests whose time ran out waiting; never sent.",
	    fs.expired);
	write_tokens(sc, f);
	metric_head(f, "polrec_key_fetches_total", "counter",
	    "Fetches of the notification signing keys, by outcome.");
	by(f, "polrec_key_fetches_total", "outcome", "ok", st->key_fetches);
	by(f, "polrec_key_fetches_total", "outcome", "failed",
	    st->key_fetch_failures);

	counter(f, "polrec_audit_events_total", "Audit events recorded.",
	    st->audit_events);
	counter(f, "polrec_audit_checkpoints_total",
	    "Checkpoints signed and committed.", st->audit_checkpoints);
	metric_head(f, "polrec_audit_commits_total", "counter",
	    "Database commits by outcome.");
	by(f, "polrec_audit_commits_total", "outcome", "ok", st->commits);
	by(f, "polrec_audit_commits_total", "outcome", "failed",
	    st->commit_failures);
	metric_head(f, "polrec_audit_commit_seconds", "histogram",
	    "Duration of a database commit.");
	metric_histogram(f, "polrec_audit_commit_seconds", NULL,
	    &m->m_commit_latency);
	metric_head(f, "polrec_audit_commit_batch_events", "histogram",
	    "Audit events written by a commit.");
	metric_histogram(f, "polrec_audit_commit_batch_events", NULL,
	    &m->m_commit_batch);
	gauge(f, "polrec_audit_events_held",
	    "Audit events waiting for the next commit.",
	    (double)journal_held(sc));
	metric_head(f, "polrec_checkpoint_deliveries_total", "counter",
	    "Checkpoints sent off the host, by peer and outcome.");
	metric_u64(f, "polrec_checkpoint_deliveries_total",
	    "peer=\"witness\",outcome=\"ok\"", st->witness_accepted);
	metric_u64(f, "polrec_checkpoint_deliveries_total",
	    "peer=\"witness\",outcome=\"failed\"", st->witness_failures);
	metric_u64(f, "polrec_checkpoint_deliveries_total",
	    "peer=\"timestamp\",outcome=\"ok\"", st->timestamps);
	metric_u64(f, "polrec_checkpoint_deliveries_total",
	    "peer=\"timestamp\",outcome=\"failed\"", st->timestamp_failures);
	avail = reserve_free_bytes(sc->sc_reserve);
	gauge(f, "polrec_disk_free_bytes",
	    "Free bytes on the database's file system (-1: unknown).",
	    (double)avail);

	gauge(f, "polrec_http_open_connections",
	    "Open connections on the webhook listener.",
	    sc->sc_http != NULL ? (double)http_open_connections(sc->sc_http) :
	    0);
	gauge(f, "polrec_control_clients", "Control socket clients now.",
	    (double)control_clients(sc->sc_control));
	alarms_metrics(sc, f);
}
