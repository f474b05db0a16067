/*
 * Notifications in: the webhook request checked, parsed into the model and
 * acknowledged.  Authentication, answering, join decisions and the audit
 * commit that gates the acknowledgement hook in here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "conf.h"
#include "decide.h"
#include "jwt.h"
#include "keys.h"
#include "legs.h"
#include "log.h"
#include "notif.h"
#include "polrecd.h"
#include "refusal.h"
#include "replay.h"
#include "tokcache.h"
#include "trail.h"
#include "xmalloc.h"

#define KEY_WAIT_SEC		3	/* longest a request waits for keys */
#define AUTH_LOG_PER_SEC	10	/* failure lines logged per second */
#define REPLAY_LIFETIME_NOAUTH	3600	/* seconds, when tokens are off */

/* A notification request on its way in; lives until it is answered. */
struct inbound {
	struct polrecd		*in_sc;
	struct evhttp_request	*in_req;
	uint64_t		 in_arrival;
	struct waiter		 in_waiter;
	struct event		*in_deadline;	/* of the wait for keys */
	char			 in_kid[LOG_ID_MAX];	/* unknown, for logs */
	const char		*in_replay_id;	/* raw message id, or NULL */
	char			 in_msgid[LOG_ID_MAX];	/* for logs */
	char			 in_peer[64];
	char			 in_addr[48];	/* the peer's address alone */
	/* The reply, held until the turn's commit. */
	int			 in_status;
	char			*in_body;
	char			*in_location;	/* with 302 */
	long long		 in_expires;
	uint64_t		 in_request;	/* its events, in the journal */
};

static void	 authenticate(struct inbound *);

/* application/json, with or without parameters such as charset. */
static int
is_json_content_type(const char *ct)
{
	size_t	 n = strlen("application/json");

	if (ct == NULL)
		return 0;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	ct += strspn(ct, " \t");
	return *ct == '\0' || *ct == ';';
}

static void
log_notification(const struct notification *n, const char *msgid)
{
	char	 extra[160] = "";
	char	 a[LOG_ID_MAX], b[LOG_ID_MAX];

	switch (n->kind) {
	case NOTIF_KIND_CALL:
		snprintf(extra, sizeof(extra), " state %s",
		    log_sanitize(a, sizeof(a), n->call.state_text));
		if (n->call.result.present)
			snprintf(extra + strlen(extra),
			    sizeof(extra) - strlen(extra),
			    " result %lld/%lld", n->call.result.code,
			    n->call.result.subcode);
		break;
	case NOTIF_KIND_PARTICIPANTS:
		snprintf(extra, sizeof(extra), " %zu participant(s)",
		    n->n_participants);
		break;
	case NOTIF_KIND_JOINING:
		snprintf(extra, sizeof(extra), " observed %s",
		    log_person(a, sizeof(a),
		    n->joining.call.incoming.observed_participant_id));
		break;
	case NOTIF_KIND_LEFT:
		snprintf(extra, sizeof(extra), " participant %s",
		    log_person(a, sizeof(a), n->left.participant_id));
		break;
	case NOTIF_KIND_OPERATION:
		snprintf(extra, sizeof(extra), " %s status %s",
		    log_sanitize(a, sizeof(a), n->operation.type),
		    log_sanitize(b, sizeof(b), n->operation.status));
		break;
	case NOTIF_KIND_OTHER:
		snprintf(extra, sizeof(extra), " resource %s",
		    log_sanitize(a, sizeof(a), n->resource_url));
		break;
	}
	log_debug("call %s: %s %s%s msg %s", n->call_id[0] ? n->call_id : "-",
	    notif_kind_name(n->kind), notif_change_name(n->change), extra,
	    msgid);
}


static void
inbound_free(struct inbound *in)
{
	if (in->in_sc->sc_keys != NULL)
		keys_unwait(in->in_sc->sc_keys, &in->in_waiter);
	commit_unwait(in->in_sc->sc_commit, &in->in_waiter);
	if (in->in_deadline != NULL)
		event_free(in->in_deadline);
	free(in->in_body);
	free(in->in_location);
	free(in);
}

static long long
now_unix(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec;
}

/*
 * Authentication failures are logged with their precise reason, but a
 * flood must not fill the disk: at most AUTH_LOG_PER_SEC lines a second,
 * then one line saying how many were not logged.
 */
static int
auth_log_allowed(void)
{
	static time_t	 window;
	static unsigned	 logged, suppressed;
	time_t		 now = time(NULL);

	if (now != window) {
		if (suppressed > 0)
			log_warnx("authentication: %u more failure(s) not "
			    "logged", suppressed);
		window = now;
		logged = suppressed = 0;
	}
	if (logged++ >= AUTH_LOG_PER_SEC) {
		suppressed++;
		return 0;
	}
	return 1;
}

static void
log_auth_failure(struct inbound *in, const char *reason,
    const struct jwt_claims *cl)
{
	char		 kid[LOG_ID_MAX], iss[LOG_ID_MAX], tid[LOG_ID_MAX];

	if (!auth_log_allowed())
		return;
	log_warnx("notification refused (401): %s; peer %s msg %s kid %s "
	    "iss %s tid %s", reason, in->in_peer, in->in_msgid,
	    log_sanitize(kid, sizeof(kid), cl != NULL && cl->kid[0] ?
	    cl->kid : NULL),
	    log_sanitize(iss, sizeof(iss), cl != NULL && cl->iss[0] ?
	    cl->iss : NULL),
	    log_sanitize(tid, sizeof(tid), cl != NULL && cl->tid[0] ?
	    cl->tid : NULL));
}

/* "code/subcode" and the message of a resultInfo, in clear. */
static void
add_result(cJSON *d, const struct result_info *r)
{
	char	 text[72];

	if (!r->present)
		return;
	cJSON_AddStringToObject(d, "result",
	    notif_result_text(r, text, sizeof(text)));
	if (r->message != NULL)
		cJSON_AddStringToObject(d, "result_message", r->message);
}

/*
 * What a notification says in clear: the call's state, chain id and
 * terminationReason, an operation's status, and their resultInfo (a
 * failed transfer's among them).
 */
static void
add_what(cJSON *d, const struct notification *n)
{
	switch (n->kind) {
	case NOTIF_KIND_CALL:
		if (n->call.state_text != NULL)
			cJSON_AddStringToObject(d, "state",
			    call_state_name(n->call.state));
		if (n->call.termination_reason != NULL)
			cJSON_AddStringToObject(d, "termination_reason",
			    n->call.termination_reason);
		add_result(d, &n->call.result);
		break;
	case NOTIF_KIND_OPERATION:
		if (n->operation.status != NULL)
			cJSON_AddStringToObject(d, "operation_status",
			    n->operation.status);
		add_result(d, &n->operation.result);
		break;
	default:
		break;
	}
}

/*
 * The audit event of a notification request: refused ones too, with the
 * reason.  n is the notification, when one was parsed; its whole raw
 * entry is sealed (it names people).  The clear columns are the leg's
 * (tenant, chain, policy, recorders) when polrecd holds one for a
 * notification that is not an invitation, else the notification's own.
 * leg is that leg, as the caller found it (one look-up a notification),
 * or NULL.  tenant, when not NULL, is the call's tenant as polrecd knows
 * it; tid, when not NULL, the token's, for a request refused for it.
 */
static void
journal_request(struct inbound *in, const struct notification *n,
    const struct call_leg *leg, const char *outcome, const char *reason,
    int status, const char *tenant, const char *tid, const char *reply)
{
	struct trail_event	 ev;
	cJSON			*d, *r;
	char			*detail, *personal = NULL;
	char			*paired = NULL, *other = NULL;

	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "peer", in->in_peer);
	if (tid != NULL)
		cJSON_AddStringToObject(d, "tid", tid);
	if (n != NULL) {
		cJSON_AddStringToObject(d, "type", notif_kind_name(n->kind));
		cJSON_AddStringToObject(d, "change",
		    notif_change_name(n->change));
		if (n->resource_url != NULL)
			cJSON_AddStringToObject(d, "resource", n->resource_url);
		if (n->odata_type != NULL)
			cJSON_AddStringToObject(d, "odata_type", n->odata_type);
		add_what(d, n);
		if (n->raw != NULL)
			personal = cJSON_PrintUnformatted(n->raw);
	}
	/* The body that went back (a join's decision): kept, so that the
	 * same message sent again after a restart gets the same reply. */
	if (reply != NULL && (r = cJSON_Parse(reply)) != NULL)
		cJSON_AddItemToObject(d, "reply", r);
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	journal_event_init(&ev, "notification");
	ev.outcome = outcome;
	ev.reason = reason;
	ev.http_status = status;
	ev.msg_id = in->in_replay_id != NULL ? in->in_replay_id : NULL;
	ev.latency_us = (int64_t)(polrecd_now_us() - in->in_arrival);
	ev.detail = detail;
	if (n == NULL || notif_is_invitation(n))
		leg = NULL;
	if (leg != NULL) {
		journal_event_leg(&ev, leg);
		if (tenant != NULL)
			ev.tenant = tenant;
	} else if (n != NULL) {
		ev.call_id = n->call_id[0] != '\0' ? n->call_id : NULL;
		ev.tenant = tenant != NULL ? tenant : n->call.tenant_id;
		ev.chain_id = notif_chain_id(&n->call,
		    evhttp_find_header(evhttp_request_get_input_headers(
		    in->in_req), "X-Microsoft-Skype-Chain-ID"), NULL);
		ev.policy = n->call.bot.policy_identifier;
		ev.paired = paired = journal_recorders(
		    n->call.bot.paired_recorders, n->call.bot.n_paired_recorders);
		ev.other = other = journal_recorders(
		    n->call.bot.other_recorders, n->call.bot.n_other_recorders);
	}
	ev.personal = personal;
	ev.personal_len = personal != NULL ? strlen(personal) : 0;
	journal_add(in->in_sc, &ev);
	cJSON_free(detail);
	cJSON_free(paired);
	cJSON_free(other);
	if (personal != NULL) {
		sodium_memzero(personal, strlen(personal));
		cJSON_free(personal);
	}
}

/*
 * The call a refused request was about, when its body says: a real
 * invitation refused for a bad token must stay findable by call id.
 * The body is untrusted and unauthenticated; the parser is the one
 * every notification goes through (fuzzed), bounded by max_body_size.
 */
static void
refused_call_id(struct inbound *in, char *buf, size_t len)
{
	struct evbuffer		*inbuf;
	struct notif_batch	*batch = NULL;
	const char		*body;
	char			 err[64];
	size_t			 n;

	buf[0] = '\0';
	inbuf = evhttp_request_get_input_buffer(in->in_req);
	if ((n = evbuffer_get_length(inbuf)) == 0 ||
	    (body = (const char *)evbuffer_pullup(inbuf, -1)) == NULL ||
	    notif_parse(body, n, &batch, err, sizeof(err)) == -1)
		return;
	if (batch->n > 0) {
		/* Cut to fit, as the aggregate stores it. */
		n = strnlen(batch->v[0].call_id, len - 1);
		memcpy(buf, batch->v[0].call_id, n);
		buf[n] = '\0';
	}
	notif_batch_free(batch);
}

/* Notifications by kind and outcome, for the metrics. */
static void
note_outcome(struct polrecd *sc, const char *kind, const char *outcome)
{
	char	 v[LABEL_VALUE_MAX];

	snprintf(v, sizeof(v), "%s/%s", kind, outcome);
	labelset_add(&sc->sc_metrics.m_notifications, v, 1);
}

/* A refusal, for the trail's aggregate of refused requests. */
static void
refuse(struct inbound *in, const char *outcome, const char *reason,
    int status, int with_call)
{
	char	 call[REFUSAL_ID_MAX] = "";

	if (with_call)
		refused_call_id(in, call, sizeof(call));
	refused_note(in->in_sc, outcome, reason, status, in->in_addr, call);
	note_outcome(in->in_sc, "request", outcome);
}

static void
deny(struct inbound *in, const char *reason, const struct jwt_claims *cl)
{
	refuse(in, "refused", reason, 401, 1);
	in->in_sc->sc_stats.auth_failed++;
	labelset_add(&in->in_sc->sc_metrics.m_auth_failures, reason, 1);
	log_auth_failure(in, reason, cl);
	/* No detail for the caller: the reason is in the log only. */
	evhttp_add_header(evhttp_request_get_output_headers(in->in_req),
	    "WWW-Authenticate", "Bearer");
	http_reply_error(in->in_req, 401, "unauthorized", "unauthorized");
	inbound_free(in);
}

static void
unavailable(struct inbound *in)
{
	in->in_sc->sc_stats.auth_unavailable++;
	labelset_add(&in->in_sc->sc_metrics.m_auth_failures,
	    "no_signing_keys", 1);
	refuse(in, "deferred", "no_signing_keys", 503, 1);
	log_warnx("notification deferred (503): no signing keys yet; peer %s "
	    "msg %s", in->in_peer, in->in_msgid);
	evhttp_add_header(evhttp_request_get_output_headers(in->in_req),
	    "Retry-After", "1");
	http_reply_error(in->in_req, 503, "serviceUnavailable",
	    "signing keys not available yet; retry");
	inbound_free(in);
}

/*
 * The token names a key id the cached set lacks and no set fetched since
 * the request came says whether it exists: the signature cannot be
 * judged.  A 401 would lose a real invitation signed with a new key
 * (Teams does not retry it); a 503 is retried.
 */
static void
key_deferred(struct inbound *in)
{
	in->in_sc->sc_stats.auth_key_deferred++;
	labelset_add(&in->in_sc->sc_metrics.m_auth_failures, "key_refetch",
	    1);
	refuse(in, "deferred", "key_refetch", 503, 1);
	if (auth_log_allowed())
		log_warnx("notification deferred (503): key_refetch; key id %s "
		    "not in the signing keys and not fetched since; peer %s "
		    "msg %s", in->in_kid, in->in_peer, in->in_msgid);
	evhttp_add_header(evhttp_request_get_output_headers(in->in_req),
	    "Retry-After", "1");
	http_reply_error(in->in_req, 503, "serviceUnavailable",
	    "signing key not known yet; retry");
	inbound_free(in);
}

/*
 * A retryable refusal before any work is done for the request: 503 and
 * Retry-After, noted for the trail, said in the log at most every 10 s.
 */
static void
defer(struct inbound *in, const char *reason, int with_call,
    unsigned long long count, time_t *warned, const char *what,
    const char *message)
{
	time_t	 now = time(NULL);

	refuse(in, "deferred", reason, 503, with_call);
	if (now - *warned >= 10) {
		*warned = now;
		log_warnx("%s refused (503): %llu so far; %s", what, count,
		    message);
	}
	evhttp_add_header(evhttp_request_get_output_headers(in->in_req),
	    "Retry-After", "1");
	http_reply_error(in->in_req, 503, "serviceUnavailable", message);
	inbound_free(in);
}

/*
 * Events wait for the disk: refuse before doing anything, so that no
 * event is ever dropped; Graph sends the notification again.
 */
static void
backlogged(struct inbound *in)
{
	static time_t	 warned;

	defer(in, "audit_backlog", 0,
	    ++in->in_sc->sc_stats.notifications_refused_backlog, &warned,
	    "notifications", "audit events are waiting for the database; "
	    "retry");
}

static int
has_invitation(const struct notif_batch *batch)
{
	size_t	 i;

	for (i = 0; i < batch->n; i++)
		if (notif_is_invitation(&batch->v[i]))
			return 1;
	return 0;
}

/*
 * The reserve kept for the legs already answered is being spent: a new
 * invitation would take from it.  Teams sends it again, or to the paired
 * recorder.
 */
static void
disk_full(struct inbound *in)
{
	static time_t	 warned;

	defer(in, "disk_full", 1,
	    ++in->in_sc->sc_stats.notifications_refused_disk, &warned,
	    "invitations", "the audit trail's disk is full; retry");
}

/* Answer with status and an optional JSON body, then forget the request. */
static void
send_reply(struct inbound *in, int status, const char *body, size_t len)
{
	struct evbuffer	*buf = NULL;

	if (status == 302 && in->in_location != NULL) {
		/* A redirect says where, and nothing else. */
		evhttp_add_header(evhttp_request_get_output_headers(
		    in->in_req), "Location", in->in_location);
		len = 0;
	}
	if (len > 0 && (buf = evbuffer_new()) != NULL) {
		evbuffer_add(buf, body, len);
		evhttp_add_header(evhttp_request_get_output_headers(
		    in->in_req), "Content-Type", "application/json");
	}
	evhttp_send_reply(in->in_req, status, NULL, buf);
	if (buf != NULL)
		evbuffer_free(buf);
	inbound_free(in);
}

/*
 * The turn's commit is over: acknowledge, and remember the reply for a
 * replay of the same message.  If what the notification changed could
 * not be stored, it is not acknowledged: Graph will send it again.
 */
static void
on_committed(void *arg)
{
	struct inbound	*in = arg;
	struct polrecd	*sc = in->in_sc;
	size_t		 len = in->in_body != NULL ? strlen(in->in_body) : 0;

	if (!commit_ok(sc->sc_commit)) {
		/* Not acknowledged: not recorded, nor admitted, as if it were. */
		journal_request_drop(sc, in->in_request);
		joins_request_drop(sc, in->in_request);
		refuse(in, "deferred", "storage_failed", 503, 0);
		sc->sc_stats.replies_refused_storage++;
		log_warnx("msg %s: not acknowledged (503): the database "
		    "failed", in->in_msgid);
		evhttp_add_header(evhttp_request_get_output_headers(
		    in->in_req), "Retry-After", "1");
		http_reply_error(in->in_req, 503, "serviceUnavailable",
		    "the notification could not be stored; retry");
		inbound_free(in);
		return;
	}
	/*
	 * A refusal changed nothing: the same message, properly signed,
	 * must still be acted on.  A redirect is remembered with its
	 * Location for its body.
	 */
	if (in->in_replay_id != NULL && in->in_status == 302)
		replay_remember(sc->sc_replay, in->in_replay_id,
		    in->in_expires, in->in_status, in->in_location,
		    strlen(in->in_location));
	else if (in->in_replay_id != NULL && in->in_status < 400)
		replay_remember(sc->sc_replay, in->in_replay_id,
		    in->in_expires, in->in_status, in->in_body, len);
	joins_request_done(sc, in->in_request);
	send_reply(in, in->in_status, in->in_body, len);
}

/* Reply once this turn's changes are committed; body is taken over. */
static void
reply(struct inbound *in, int status, char *body, long long expires)
{
	in->in_status = status;
	in->in_body = body;
	in->in_expires = expires;
	commit_wait(in->in_sc->sc_commit, &in->in_waiter, on_committed, in);
}

/*
 * Only the tenants served ([tenants] ids) are heard: a notification token
 * of another tenant, or (without tokens) an invitation naming one, is
 * refused 403 forbidden: polrecd holds no Graph token for that tenant,
 * so it could neither answer nor reject the call through Graph.  And
 * tokens are bound to their tenant: a token for one tenant speaks only
 * of that tenant's calls.  Every notification of the batch is checked
 * before any is acted on; one refused refuses the whole request (403),
 * each such notification recorded.  Returns the number refused;
 * *not_served counts those of a tenant not served.
 */
static size_t
check_tenants(struct inbound *in, const struct notif_batch *batch,
    const char *tid, size_t *not_served)
{
	struct polrecd		*sc = in->in_sc;
	const struct conf	*c = sc->sc_conf;
	const struct notification *n;
	const struct call_leg	*leg;
	const char		*tenant, *why;
	char			 a[LOG_ID_MAX], b[LOG_ID_MAX], d[LOG_ID_MAX];
	size_t			 i, refused = 0;
	int			 same;

	*not_served = 0;
	for (i = 0; i < batch->n; i++) {
		n = &batch->v[i];
		leg = n->call_id[0] != '\0' ? legs_find(sc, n->call_id) : NULL;
		same = decide_token_tenant(n, leg != NULL ? leg->cl_tenant :
		    NULL, tid, c->tenants, &tenant);
		if ((tid != NULL && !conf_tenant_served(c, tid)) ||
		    (tid == NULL && notif_is_invitation(n) &&
		    tenant != NULL && !conf_tenant_served(c, tenant))) {
			why = "tenant_not_allowed";
			(*not_served)++;
		} else if (tid != NULL && !same)
			why = "tenant_mismatch";
		else
			continue;
		refused++;
		journal_request(in, n, leg, "refused", why, 403, tenant, tid,
		    NULL);
		if (auth_log_allowed())
			log_warnx("call %s: notification refused (403): "
			    "%s; call tenant %s token tid %s; peer %s msg %s",
			    log_sanitize(a, sizeof(a), n->call_id[0] ?
			    n->call_id : NULL), why,
			    log_sanitize(b, sizeof(b), tenant),
			    log_sanitize(d, sizeof(d), tid),
			    in->in_peer, in->in_msgid);
	}
	return refused;
}

/*
 * An authenticated request (or any, with mode none): act on it once.
 * tid is the verified token's tenant, NULL without tokens.
 */
static void
process(struct inbound *in, long long expires, const char *tid)
{
	struct polrecd			*sc = in->in_sc;
	struct evhttp_request		*req = in->in_req;
	struct evkeyvalq		*hdrs = evhttp_request_get_input_headers(req);
	struct evbuffer			*inbuf = evhttp_request_get_input_buffer(req);
	const struct replay_entry	*seen;
	struct notif_batch		*batch = NULL;
	const char			*body;
	char				*r, *resp = NULL;
	char				 err[128];
	struct notify_req		 nreq;
	struct call_leg			*leg;
	size_t				 len, i, refused, not_served;
	int				 unknown;

	seen = in->in_replay_id == NULL ? NULL :
	    replay_find(sc->sc_replay, in->in_replay_id, now_unix());
	if (seen != NULL) {
		sc->sc_stats.replays++;
		journal_request(in, NULL, NULL, "replayed", NULL, seen->status,
		    NULL, NULL, NULL);
		log_info("msg %s: replayed; answered as before (%d), not "
		    "acted on again", in->in_msgid, seen->status);
		if (seen->status == 302)
			in->in_location = xstrndup(seen->body, seen->body_len);
		send_reply(in, seen->status, seen->body, seen->body_len);
		return;
	}
	if (!is_json_content_type(evhttp_find_header(hdrs, "Content-Type"))) {
		sc->sc_stats.http_bad_content_type++;
		refuse(in, "refused", "content_type", 415, 0);
		log_warnx("notification rejected: Content-Type is not "
		    "application/json (msg %s)", in->in_msgid);
		http_reply_error(req, 415, "unsupportedMediaType",
		    "Content-Type must be application/json");
		inbound_free(in);
		return;
	}
	len = evbuffer_get_length(inbuf);
	body = len > 0 ? (const char *)evbuffer_pullup(inbuf, -1) : "";
	if (notif_parse(body, len, &batch, err, sizeof(err)) == -1 &&
	    notif_is_legacy(body, len)) {
		/* Teams sends it again in Graph format (UNCONFIRMED). */
		sc->sc_stats.notifications_legacy++;
		refuse(in, "ignored", "legacy_format", 204, 0);
		log_info("notification in the legacy format: 204, to be sent "
		    "again in Graph format (msg %s, %zu bytes)", in->in_msgid,
		    len);
		send_reply(in, 204, NULL, 0);
		return;
	}
	if (batch == NULL) {
		sc->sc_stats.http_malformed++;
		refuse(in, "refused", err, 400, 0);
		log_warnx("notification rejected: %s (msg %s, %zu bytes)", err,
		    in->in_msgid, len);
		http_reply_error(req, HTTP_BADREQUEST, "badRequest", err);
		inbound_free(in);
		return;
	}
	if (sc->sc_disk_low && has_invitation(batch)) {
		notif_batch_free(batch);
		disk_full(in);
		return;
	}
	in->in_request = journal_request_begin(sc);
	if ((refused = check_tenants(in, batch, tid, &not_served)) > 0) {
		journal_request_end(sc);
		if (not_served > 0) {
			sc->sc_stats.tenant_not_allowed++;
			labelset_add(&sc->sc_metrics.m_auth_failures,
			    "tenant_not_served", 1);
		}
		if (refused > not_served) {
			sc->sc_stats.auth_tenant_mismatch++;
			labelset_add(&sc->sc_metrics.m_auth_failures,
			    "tenant_mismatch", 1);
		}
		notif_batch_free(batch);
		/* Answered once the refusal is on the disk, like the rest. */
		reply(in, 403, xstrdup(not_served > 0 ?
		    "{\"error\":{\"code\":\"forbidden\",\"message\":"
		    "\"the tenant is not served here\"}}" :
		    "{\"error\":{\"code\":\"forbidden\",\"message\":"
		    "\"the token is not for the tenant of the call\"}}"),
		    expires);
		return;
	}
	memset(&nreq, 0, sizeof(nreq));
	nreq.nr_msgid = in->in_msgid;
	nreq.nr_chain = evhttp_find_header(hdrs, "X-Microsoft-Skype-Chain-ID");
	nreq.nr_may_redirect = batch->n == 1;
	if ((nreq.nr_redirected = evhttp_find_header(hdrs,
	    "X-Plat-Redirect-Region")) == NULL)
		nreq.nr_redirected = evhttp_find_header(hdrs,
		    "X-Plat-Redirect-Du");
	for (i = 0; i < batch->n; i++) {
		sc->sc_stats.notifications_received++;
		note_outcome(sc, notif_kind_name(batch->v[i].kind),
		    "accepted");
		/*
		 * The leg, looked up once for all that this notification
		 * does: only an invitation creates or frees a leg, and it
		 * looks up its own.
		 */
		leg = notif_is_invitation(&batch->v[i]) ||
		    batch->v[i].call_id[0] == '\0' ? NULL :
		    legs_find(sc, batch->v[i].call_id);
		unknown = !notif_is_invitation(&batch->v[i]) && leg == NULL;
		if (!notif_is_invitation(&batch->v[i]) &&
		    batch->v[i].kind != NOTIF_KIND_JOINING)
			journal_request(in, &batch->v[i], leg, "accepted",
			    unknown ? "unknown_call" : NULL, 202, NULL, NULL,
			    NULL);
		/*
		 * At the default level one line per decision, made where
		 * it is decided (answer.c, legs.c, joins.c): at 10,000 a
		 * second a line per arrival is the logger's whole budget.
		 */
		if (notif_is_invitation(&batch->v[i]))
			sc->sc_stats.invitations_received++;
		else
			log_notification(&batch->v[i], in->in_msgid);
		/*
		 * The response carries one decision: a join after the first
		 * is not decided (joins_not_answered says why).
		 */
		if (batch->v[i].kind == NOTIF_KIND_JOINING && resp != NULL) {
			journal_request(in, &batch->v[i], leg, "accepted",
			    unknown ? "unknown_call" : NULL, 200, NULL, NULL,
			    NULL);
			joins_not_answered(sc, leg, &batch->v[i],
			    in->in_msgid);
			continue;
		}
		/* Decided now; Graph requests go out from the loop. */
		r = legs_notify(sc, leg, &batch->v[i], in->in_arrival, &nreq);
		/* An invitation's reply is known once it is decided. */
		if (notif_is_invitation(&batch->v[i]))
			journal_request(in, &batch->v[i], NULL, "accepted",
			    NULL, nreq.nr_status != 0 ? nreq.nr_status : 202,
			    NULL, NULL, NULL);
		else if (batch->v[i].kind == NOTIF_KIND_JOINING)
			journal_request(in, &batch->v[i], leg, "accepted",
			    unknown ? "unknown_call" : NULL, 200, NULL, NULL, r);
		if (r != NULL)
			resp = r;
	}
	journal_request_end(sc);
	notif_batch_free(batch);
	if (nreq.nr_status == 302) {
		/* The batch's one notification, an invitation sent on. */
		in->in_location = nreq.nr_location;
		reply(in, 302, resp, expires);
		return;
	}
	/* A join decision goes back in the body (200), or plain 202. */
	reply(in, resp != NULL ? 200 : 202, resp, expires);
}

/* The bearer token of the request, or NULL. */
static const char *
bearer_token(struct evhttp_request *req)
{
	const char	*v;

	v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return NULL;
	v += 7;
	v += strspn(v, " ");
	return *v != '\0' ? v : NULL;
}

/*
 * Once the token is judged nothing needs it: wipe it where evhttp keeps
 * it (the request's own copy of the header) rather than leave it to be
 * freed, and read, from the heap later.
 */
static void
wipe_bearer(struct evhttp_request *req)
{
	struct evkeyval	*kv;

	TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next)
		if (strcasecmp(kv->key, "Authorization") == 0)
			sodium_memzero(kv->value, strlen(kv->value));
}

static void
policy_from_conf(const struct conf *c, struct jwt_policy *p)
{
	size_t	 i;

	memset(p, 0, sizeof(*p));
	for (i = 0; c->auth_issuers[i] != NULL && i < JWT_MAX_LIST - 1; i++)
		p->issuers[i] = c->auth_issuers[i];
	/* Any tenant's token passes here: check_tenants refuses those of
	 * tenants not served with 403 forbidden, recorded. */
	p->tenants[0] = NULL;
	p->audience = c->graph_app_id != NULL ? c->graph_app_id : "";
	p->now = now_unix();
	p->skew = c->auth_clock_skew;
}

static void
on_keys_ready(void *arg)
{
	authenticate(arg);
}

static void
on_key_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct inbound		*in = arg;

	(void)fd;
	(void)what;
	keys_unwait(in->in_sc->sc_keys, &in->in_waiter);
	wipe_bearer(in->in_req);
	if (keys_get(in->in_sc->sc_keys) == NULL)
		unavailable(in);
	else
		key_deferred(in);
}

/*
 * Hold the request until the key fetch under way or planned ends; all
 * waits of a request together last at most KEY_WAIT_SEC.
 */
static void
wait_for_keys(struct inbound *in)
{
	struct timeval	 tv = { KEY_WAIT_SEC, 0 };

	if (in->in_deadline == NULL) {
		if ((in->in_deadline = evtimer_new(in->in_sc->sc_base,
		    on_key_deadline, in)) == NULL ||
		    evtimer_add(in->in_deadline, &tv) == -1) {
			wipe_bearer(in->in_req);
			unavailable(in);
			return;
		}
	}
	keys_wait(in->in_sc->sc_keys, &in->in_waiter, on_keys_ready, in);
}

static void
authenticate(struct inbound *in)
{
	struct polrecd		*sc = in->in_sc;
	const struct jwks	*set;
	struct jwt_policy	 policy;
	struct jwt_claims	 claims;
	enum jwt_result		 r;
	const char		*token;
	size_t			 toklen;

	if ((token = bearer_token(in->in_req)) == NULL) {
		deny(in, "missing_token", NULL);
		return;
	}
	if (sc->sc_keys == NULL) {
		wipe_bearer(in->in_req);
		unavailable(in);
		return;
	}
	if ((set = keys_get(sc->sc_keys)) == NULL) {
		if (keys_unknown_kid(sc->sc_keys, "", in->in_arrival) ==
		    KEYS_WAIT)
			wait_for_keys(in);
		else {
			wipe_bearer(in->in_req);
			unavailable(in);
		}
		return;
	}
	policy_from_conf(sc->sc_conf, &policy);
	memset(&claims, 0, sizeof(claims));
	/* Graph sends one token with many notifications: verified once. */
	toklen = strlen(token);
	if (tokcache_get(sc->sc_verified, token, toklen, set, &policy,
	    &claims)) {
		r = JWT_OK;
		sc->sc_stats.auth_cached++;
	} else if ((r = jwt_verify(token, toklen, set, &policy,
	    &claims)) == JWT_OK)
		tokcache_put(sc->sc_verified, token, toklen, &claims);
	/* A token without a kid names no key a refetch could bring. */
	if (r == JWT_UNKNOWN_KID && claims.kid[0] != '\0') {
		log_sanitize(in->in_kid, sizeof(in->in_kid), claims.kid);
		switch (keys_unknown_kid(sc->sc_keys, claims.kid,
		    in->in_arrival)) {
		case KEYS_WAIT:
			wait_for_keys(in);
			return;
		case KEYS_LIMITED:
			wipe_bearer(in->in_req);
			key_deferred(in);
			return;
		case KEYS_UNKNOWN:
			break;
		}
	}
	if (in->in_deadline != NULL)
		evtimer_del(in->in_deadline);
	wipe_bearer(in->in_req);
	if (r != JWT_OK) {
		deny(in, jwt_result_name(r), &claims);
		return;
	}
	sc->sc_stats.auth_ok++;
	process(in, claims.exp + sc->sc_conf->auth_clock_skew, claims.tid);
}

void
ingest_request(struct polrecd *sc, struct evhttp_request *req,
    uint64_t arrival)
{
	struct inbound	*in;
	const char	*msgid;
	char		*addr = NULL;
	ev_uint16_t	 port = 0;

	in = xcalloc(1, sizeof(*in));
	in->in_sc = sc;
	in->in_req = req;
	in->in_arrival = arrival;
	msgid = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Microsoft-Skype-Message-ID");
	log_sanitize(in->in_msgid, sizeof(in->in_msgid), msgid);
	/*
	 * Replays are keyed on the id as sent, never on its log form, where
	 * two ids could be cut or masked to the same text.  The header lives
	 * as long as the request.
	 */
	if (msgid != NULL && *msgid != '\0' &&
	    strlen(msgid) <= REPLAY_MAX_ID)
		in->in_replay_id = msgid;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr,
	    &port);
	snprintf(in->in_peer, sizeof(in->in_peer), "%s:%u",
	    addr != NULL ? addr : "?", (unsigned int)port);
	snprintf(in->in_addr, sizeof(in->in_addr), "%s",
	    addr != NULL ? addr : "?");
	if (journal_backlog(sc)) {
		backlogged(in);
		return;
	}
	if (sc->sc_conf->auth_mode == AUTH_MODE_NONE)
		process(in, now_unix() + REPLAY_LIFETIME_NOAUTH, NULL);
	else
		authenticate(in);
}
