/*
 * Notifications in: the webhook request checked, parsed into the model and
 * acknowledged.  Authentication, answering, join decisions and the audit
 * commit that gates the acknowledgement hook in here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "conf.h"
#include "log.h"
#include "notif.h"
#include "polrecd.h"

#define LOG_ID_MAX	80	/* ids and names shown in a log line */

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

/* "id1,id2" for the recorders of an invitation; "-" when none. */
static const char *
format_recorders(char *buf, size_t len, const struct recorder_ref *r,
    size_t n)
{
	char	 one[LOG_ID_MAX];
	size_t	 i, used = 0;
	int	 w;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		log_sanitize(one, sizeof(one), r[i].id);
		w = snprintf(buf + used, len - used, "%s%s", i ? "," : "", one);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return n == 0 ? "-" : buf;
}

static void
log_invitation(const struct notification *n, const char *msgid)
{
	const struct call_data	*c = &n->call;
	const struct bot_data	*b = &c->bot;
	char			 tenant[LOG_ID_MAX], chain[LOG_ID_MAX];
	char			 policy[LOG_ID_MAX], observed[LOG_ID_MAX];
	char			 reason[LOG_ID_MAX], paired[512], other[512];

	log_info("call %s: invitation (%s) tenant %s chain %s policy \"%s\" "
	    "reason %s paired %s other %s observed %s msg %s",
	    n->call_id, notif_change_name(n->change),
	    log_sanitize(tenant, sizeof(tenant), c->tenant_id),
	    log_sanitize(chain, sizeof(chain), c->call_chain_id),
	    log_sanitize(policy, sizeof(policy), b->policy_identifier),
	    log_sanitize(reason, sizeof(reason), b->n_invite_reasons > 0 ?
	    b->invite_reasons[0] : NULL),
	    format_recorders(paired, sizeof(paired), b->paired_recorders,
	    b->n_paired_recorders),
	    format_recorders(other, sizeof(other), b->other_recorders,
	    b->n_other_recorders),
	    log_sanitize(observed, sizeof(observed),
	    c->incoming.observed_participant_id), msgid);
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
		    log_sanitize(a, sizeof(a),
		    n->joining.call.incoming.observed_participant_id));
		break;
	case NOTIF_KIND_LEFT:
		snprintf(extra, sizeof(extra), " participant %s",
		    log_sanitize(a, sizeof(a), n->left.participant_id));
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
	log_info("call %s: %s %s%s msg %s", n->call_id[0] ? n->call_id : "-",
	    notif_kind_name(n->kind), notif_change_name(n->change), extra,
	    msgid);
}

void
ingest_request(struct polrecd *sc, struct evhttp_request *req,
    uint64_t arrival)
{
	struct evkeyvalq	*hdrs = evhttp_request_get_input_headers(req);
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct notif_batch	*batch = NULL;
	const char		*body;
	char			 err[128], msgid[LOG_ID_MAX];
	size_t			 len, i;

	(void)arrival;
	log_sanitize(msgid, sizeof(msgid),
	    evhttp_find_header(hdrs, "X-Microsoft-Skype-Message-ID"));
	if (!is_json_content_type(evhttp_find_header(hdrs, "Content-Type"))) {
		sc->sc_stats.http_bad_content_type++;
		log_warnx("notification rejected: Content-Type is not "
		    "application/json (msg %s)", msgid);
		http_reply_error(req, 415, "unsupportedMediaType",
		    "Content-Type must be application/json");
		return;
	}
	len = evbuffer_get_length(in);
	body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	if (notif_parse(body, len, &batch, err, sizeof(err)) == -1) {
		sc->sc_stats.http_malformed++;
		log_warnx("notification rejected: %s (msg %s, %zu bytes)", err,
		    msgid, len);
		http_reply_error(req, HTTP_BADREQUEST, "badRequest", err);
		return;
	}
	for (i = 0; i < batch->n; i++) {
		sc->sc_stats.notifications_received++;
		if (notif_is_invitation(&batch->v[i])) {
			sc->sc_stats.invitations_received++;
			log_invitation(&batch->v[i], msgid);
		} else
			log_notification(&batch->v[i], msgid);
	}
	notif_batch_free(batch);
	evhttp_send_reply(req, 202, "Accepted", NULL);
}
