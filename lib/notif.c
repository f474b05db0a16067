/* Parse commsNotifications webhook bodies into the typed model of notif.h. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "jsonx.h"
#include "log.h"
#include "notif.h"
#include "xmalloc.h"

#define NOTIF_MAX_ARRAY	4096	/* elements of an array copied out */
#define GRAPH_PREFIX	"microsoft.graph."
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct parse_ctx {
	char	*err;
	size_t	 errlen;
	size_t	 idx;		/* value[] index, for messages */
};

static const char *const change_names[] = {
	"unknown", "created", "updated", "deleted",
};

static const char *const state_names[] = {
	"unknown", "incoming", "establishing", "established", "hold",
	"transferring", "transferAccepted", "redirecting", "terminating",
	"terminated",
};

static const char *const kind_names[] = {
	"other", "call", "participants", "joining", "left", "operation",
};

/* identitySet members in order of preference. */
static const char *const identity_kinds[] = {
	"user", "applicationInstance", "application", "phone", "guest",
	"device", "encrypted", "acsUser", "azureCommunicationServicesUser",
	"spoolUser", "onPremises", "acsApplicationInstance",
	"assertedIdentity",
};

static void	 envelope_error(char *, size_t, const char *);
static int	 reject(struct parse_ctx *, const char *);
static const char *odata_name(const char *);
static int	 odata_is(const char *, const char *);
static int	 id_valid(const char *, size_t);
static const char *calls_path(const char *);
static int	 parse_url(struct parse_ctx *, struct notification *,
		    const char *);
static void	 parse_identity(const cJSON *, struct identity *);
static void	 parse_info(const cJSON *, struct participant_info *);
static void	 parse_result(const cJSON *, struct result_info *);
static int	 array_alloc(struct parse_ctx *, const cJSON *, size_t,
		    void **);
static int	 parse_strings(struct parse_ctx *, const cJSON *,
		    const char ***, size_t *);
static int	 parse_recorders(struct parse_ctx *, const cJSON *,
		    struct recorder_ref **, size_t *);
static void	 parse_bot_user(const cJSON *, struct bot_user *);
static int	 parse_bot(struct parse_ctx *, const cJSON *,
		    struct bot_data *);
static void	 call_init(struct call_data *);
static void	 call_free(struct call_data *);
static int	 parse_call(struct parse_ctx *, const cJSON *,
		    struct call_data *);
static void	 parse_participant(const cJSON *, struct participant *);
static int	 parse_roster(struct parse_ctx *, struct notification *,
		    const cJSON *);
static int	 parse_resource(struct parse_ctx *, struct notification *,
		    const cJSON *);
static int	 parse_one(struct parse_ctx *, struct notification *,
		    const cJSON *);

static void
envelope_error(char *err, size_t errlen, const char *why)
{
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "%s", why);
}

/* Errors name the value[] index only: never echo the input. */
static int
reject(struct parse_ctx *pc, const char *why)
{
	if (pc->err != NULL && pc->errlen > 0)
		(void)snprintf(pc->err, pc->errlen, "notification %zu: %s",
		    pc->idx, why);
	return -1;
}

/* "#microsoft.graph.call", "microsoft.graph.call" and "call" are one. */
static const char *
odata_name(const char *type)
{
	if (type == NULL)
		return NULL;
	if (*type == '#')
		type++;
	if (strncasecmp(type, GRAPH_PREFIX, sizeof(GRAPH_PREFIX) - 1) == 0)
		type += sizeof(GRAPH_PREFIX) - 1;
	return type;
}

static int
odata_is(const char *name, const char *want)
{
	return name != NULL && strcasecmp(name, want) == 0;
}

/* Ids go into Graph URLs and log lines: a conservative alphabet. */
static int
id_valid(const char *s, size_t len)
{
	size_t	 i;
	char	 c;

	if (len == 0 || len > NOTIF_MAX_ID)
		return 0;
	/* "." and ".." would walk the Graph URL path. */
	if (s[0] == '.' && (len == 1 || (len == 2 && s[1] == '.')))
		return 0;
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (c == '.' || c == '_' || c == ':' || c == '~' || c == '-')
			continue;
		return 0;
	}
	return 1;
}

/*
 * Where the call id starts: after the first "communications/calls/" or
 * "app/calls/" that begins the string or follows a '/', so absolute
 * URLs and version prefixes ("/beta/...") work.
 */
static const char *
calls_path(const char *url)
{
	static const char *const prefixes[] = {
		"communications/calls/", "app/calls/",
	};
	const char	*p;
	size_t		 i, len;

	for (p = url; *p != '\0'; p++) {
		if (p != url && p[-1] != '/')
			continue;
		for (i = 0; i < NELEM(prefixes); i++) {
			len = strlen(prefixes[i]);
			if (strncasecmp(p, prefixes[i], len) == 0)
				return p + len;
		}
	}
	return NULL;
}

static int
parse_url(struct parse_ctx *pc, struct notification *n, const char *url)
{
	static const struct {
		const char	*name;
		enum notif_sub	 sub;
	} subs[] = {
		{ "participants",		NOTIF_SUB_PARTICIPANTS },
		{ "operations",			NOTIF_SUB_OPERATIONS },
		{ "contentsharingsessions",	NOTIF_SUB_CONTENTSHARING },
	};
	const char	*p, *e;
	size_t		 i, len;

	if ((p = calls_path(url)) == NULL)
		return reject(pc, "resourceUrl is not a calls URL");
	e = p + strcspn(p, "/");
	if (!id_valid(p, e - p))
		return reject(pc, "resourceUrl has a bad call id");
	memcpy(n->call_id, p, e - p);
	n->call_id[e - p] = '\0';

	n->sub = NOTIF_SUB_NONE;
	if (*e == '\0' || e[1] == '\0')
		return 0;
	p = e + 1;
	e = p + strcspn(p, "/");
	len = e - p;
	n->sub = NOTIF_SUB_OTHER;
	for (i = 0; i < NELEM(subs); i++)
		if (strlen(subs[i].name) == len &&
		    strncasecmp(p, subs[i].name, len) == 0)
			n->sub = subs[i].sub;
	if (n->sub == NOTIF_SUB_OTHER || *e == '\0' || e[1] == '\0')
		return 0;

	p = e + 1;
	e = p + strcspn(p, "/");
	if (!id_valid(p, e - p))
		return reject(pc, "resourceUrl has a bad sub-resource id");
	memcpy(n->sub_id, p, e - p);
	n->sub_id[e - p] = '\0';
	/* Deeper than {sub}/{id}: not something this model describes. */
	if (*e != '\0' && e[1] != '\0') {
		n->sub = NOTIF_SUB_OTHER;
		n->sub_id[0] = '\0';
	}
	return 0;
}

static void
parse_identity(const cJSON *set, struct identity *id)
{
	const cJSON	*o;
	size_t		 i;

	for (i = 0; i < NELEM(identity_kinds); i++) {
		if ((o = jsonx_object(set, identity_kinds[i])) == NULL)
			continue;
		id->kind = identity_kinds[i];
		id->id = jsonx_string(o, "id");
		id->display_name = jsonx_string(o, "displayName");
		id->tenant_id = jsonx_string(o, "tenantId");
		return;
	}
}

static void
parse_info(const cJSON *o, struct participant_info *pi)
{
	if (o == NULL)
		return;
	if ((pi->participant_id = jsonx_string(o, "id")) == NULL)
		pi->participant_id = jsonx_string(o, "participantId");
	parse_identity(jsonx_object(o, "identity"), &pi->identity);
	pi->endpoint_type = jsonx_string(o, "endpointType");
	pi->region = jsonx_string(o, "region");
	pi->country_code = jsonx_string(o, "countryCode");
}

static void
parse_result(const cJSON *o, struct result_info *r)
{
	const cJSON	*item;

	r->code = r->subcode = -1;
	if (o == NULL)
		return;
	r->present = 1;
	if ((item = jsonx_get(o, "code")) != NULL) {
		if (cJSON_IsString(item))
			r->code_text = item->valuestring;
		(void)jsonx_item_integer(item, 0, LLONG_MAX, &r->code);
	}
	if ((item = jsonx_get(o, "subcode")) != NULL) {
		if (cJSON_IsString(item))
			r->subcode_text = item->valuestring;
		(void)jsonx_item_integer(item, 0, LLONG_MAX, &r->subcode);
	}
	r->message = jsonx_string(o, "message");
}

/* A zeroed array as long as arr, NULL when arr is empty; bounded. */
static int
array_alloc(struct parse_ctx *pc, const cJSON *arr, size_t size, void **out)
{
	size_t	 count;

	*out = NULL;
	count = jsonx_count(arr, NOTIF_MAX_ARRAY);
	if (count > NOTIF_MAX_ARRAY)
		return reject(pc, "array too long");
	if (count > 0)
		*out = xcalloc(count, size);
	return 0;
}

static int
parse_strings(struct parse_ctx *pc, const cJSON *arr, const char ***out,
    size_t *n)
{
	const cJSON	 *item;
	void		 *mem;
	const char	**v;

	*n = 0;
	if (array_alloc(pc, arr, sizeof(*v), &mem) == -1)
		return -1;
	if ((v = mem) == NULL)
		return 0;
	for (item = arr->child; item != NULL; item = item->next)
		if (cJSON_IsString(item) && item->valuestring != NULL)
			v[(*n)++] = item->valuestring;
	if (*n == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	return 0;
}

static int
parse_recorders(struct parse_ctx *pc, const cJSON *arr,
    struct recorder_ref **out, size_t *n)
{
	const cJSON		*item;
	struct recorder_ref	*v;
	void			*mem;

	*n = 0;
	if (array_alloc(pc, arr, sizeof(*v), &mem) == -1)
		return -1;
	if ((v = mem) == NULL)
		return 0;
	for (item = arr->child; item != NULL; item = item->next) {
		if (!cJSON_IsObject(item))
			continue;
		v[*n].id = jsonx_string(item, "id");
		v[*n].participant_id = jsonx_string(item, "participantId");
		(*n)++;
	}
	if (*n == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	return 0;
}

static void
parse_bot_user(const cJSON *o, struct bot_user *u)
{
	if (o == NULL)
		return;
	u->id = jsonx_string(o, "id");
	u->participant_id = jsonx_string(o, "participantId");
	u->tenant_id = jsonx_string(o, "tenantId");
	if ((u->on_behalf_of_id = jsonx_string(o, "onBehalfOf")) == NULL)
		u->on_behalf_of_id = jsonx_string(jsonx_object(o,
		    "onBehalfOf"), "id");
	u->participation_method = jsonx_string(o, "participationMethod");
	u->client_location = jsonx_string(o, "clientLocation");
	u->policy_holder_id = jsonx_string(o, "policyHolderId");
	u->policy_holder_tenant_id = jsonx_string(o, "policyHolderTenantId");
}

static int
parse_bot(struct parse_ctx *pc, const cJSON *call, struct bot_data *b)
{
	const cJSON	*bd;

	bd = jsonx_object(jsonx_object(call, "applicationMetadata"), "botData");
	if (bd == NULL)
		bd = jsonx_object(call, "botData");
	if (bd == NULL)
		return 0;
	b->present = 1;
	b->raw = bd;
	if (parse_strings(pc, jsonx_array(bd, "inviteReasons"),
	    &b->invite_reasons, &b->n_invite_reasons) == -1)
		return -1;
	if (parse_recorders(pc, jsonx_array(bd, "pairedRecorders"),
	    &b->paired_recorders, &b->n_paired_recorders) == -1)
		return -1;
	if (parse_recorders(pc, jsonx_array(bd, "otherRecorders"),
	    &b->other_recorders, &b->n_other_recorders) == -1)
		return -1;
	b->policy_identifier = jsonx_string(bd, "policyIdentifier");
	parse_bot_user(jsonx_object(bd, "user"), &b->user);
	parse_bot_user(jsonx_object(bd, "otherSideUser"), &b->other_side_user);
	b->media_hosted_region = jsonx_string(bd, "mediaHostedRegion");
	b->call_id = jsonx_string(bd, "callId");
	return 0;
}

static void
call_init(struct call_data *c)
{
	c->result.code = c->result.subcode = -1;
}

static void
call_free(struct call_data *c)
{
	free(c->targets);
	free(c->requested_modalities);
	free(c->bot.invite_reasons);
	free(c->bot.paired_recorders);
	free(c->bot.other_recorders);
}

static int
parse_call(struct parse_ctx *pc, const cJSON *o, struct call_data *c)
{
	const cJSON	*item, *ic, *mi, *ci;
	void		*mem;
	struct identity	 organizer;
	int		 i;

	call_init(c);
	if (o == NULL)
		return 0;
	c->state_text = jsonx_string(o, "state");
	if ((i = jsonx_match(c->state_text, state_names + 1,
	    NELEM(state_names) - 1)) >= 0)
		c->state = (enum call_state)(i + 1);
	c->direction = jsonx_string(o, "direction");
	c->id = jsonx_string(o, "id");
	c->tenant_id = jsonx_string(o, "tenantId");
	c->call_chain_id = jsonx_string(o, "callChainId");
	c->my_participant_id = jsonx_string(o, "myParticipantId");
	c->callback_uri = jsonx_string(o, "callbackUri");
	parse_info(jsonx_object(o, "source"), &c->source);

	item = jsonx_array(o, "targets");
	if (array_alloc(pc, item, sizeof(*c->targets), &mem) == -1)
		return -1;
	if ((c->targets = mem) != NULL) {
		for (item = item->child; item != NULL; item = item->next)
			if (cJSON_IsObject(item))
				parse_info(item, &c->targets[c->n_targets++]);
	}
	if (parse_strings(pc, jsonx_array(o, "requestedModalities"),
	    &c->requested_modalities, &c->n_requested_modalities) == -1)
		return -1;

	if ((ic = jsonx_object(o, "incomingContext")) != NULL) {
		c->incoming.present = 1;
		c->incoming.source_participant_id = jsonx_string(ic,
		    "sourceParticipantId");
		c->incoming.observed_participant_id = jsonx_string(ic,
		    "observedParticipantId");
		parse_identity(jsonx_object(ic, "onBehalfOf"),
		    &c->incoming.on_behalf_of);
		parse_identity(jsonx_object(ic, "transferor"),
		    &c->incoming.transferor);
	}
	if ((mi = jsonx_object(o, "meetingInfo")) != NULL) {
		c->meeting.type = jsonx_string(mi, "@odata.type");
		c->meeting.token = jsonx_string(mi, "token");
		if ((c->meeting.join_url = jsonx_string(mi, "joinUrl")) == NULL)
			c->meeting.join_url = jsonx_string(mi, "joinWebUrl");
		memset(&organizer, 0, sizeof(organizer));
		parse_identity(jsonx_object(mi, "organizer"), &organizer);
		if ((c->meeting.organizer_id = organizer.id) == NULL)
			c->meeting.organizer_id = jsonx_string(mi,
			    "organizerId");
	}
	if ((ci = jsonx_object(o, "chatInfo")) != NULL) {
		c->chat.thread_id = jsonx_string(ci, "threadId");
		c->chat.message_id = jsonx_string(ci, "messageId");
		c->chat.reply_chain_message_id = jsonx_string(ci,
		    "replyChainMessageId");
	}
	if (parse_bot(pc, o, &c->bot) == -1)
		return -1;
	parse_result(jsonx_object(o, "resultInfo"), &c->result);
	c->termination_reason = jsonx_string(o, "terminationReason");
	return 0;
}

static void
parse_participant(const cJSON *o, struct participant *p)
{
	const cJSON	*rs;

	p->id = jsonx_string(o, "id");
	parse_info(jsonx_object(o, "info"), &p->info);
	p->is_in_lobby = jsonx_bool(o, "isInLobby", 0);
	p->is_muted = jsonx_bool(o, "isMuted", 0);
	if ((rs = jsonx_object(o, "removedState")) != NULL) {
		p->removed = 1;
		p->removed_reason = jsonx_string(rs, "reason");
	}
	p->roster_sequence = -1;
	(void)jsonx_integer(o, "rosterSequenceNumber", 0, LLONG_MAX,
	    &p->roster_sequence);
	p->recording_status = jsonx_string(jsonx_object(o, "recordingInfo"),
	    "recordingStatus");
}

/* A roster: an array of participants, or one participant object. */
static int
parse_roster(struct parse_ctx *pc, struct notification *n, const cJSON *rd)
{
	const cJSON	*item;
	void		*mem;

	n->kind = NOTIF_KIND_PARTICIPANTS;
	if (cJSON_IsObject(rd)) {
		n->participants = xcalloc(1, sizeof(*n->participants));
		parse_participant(rd, &n->participants[0]);
		n->n_participants = 1;
		return 0;
	}
	if (array_alloc(pc, rd, sizeof(*n->participants), &mem) == -1)
		return -1;
	if ((n->participants = mem) == NULL)
		return 0;
	for (item = rd->child; item != NULL; item = item->next)
		if (cJSON_IsObject(item))
			parse_participant(item,
			    &n->participants[n->n_participants++]);
	return 0;
}

static int
parse_resource(struct parse_ctx *pc, struct notification *n,
    const cJSON *rd)
{
	const char	*t;
	const cJSON	*delta;
	size_t		 len;

	n->kind = NOTIF_KIND_OTHER;
	if (rd == NULL)
		return 0;
	if (cJSON_IsArray(rd))
		return parse_roster(pc, n, rd);
	if (!cJSON_IsObject(rd))
		return 0;

	n->odata_type = jsonx_string(rd, "@odata.type");
	t = odata_name(n->odata_type);
	if (odata_is(t, "call") || (t == NULL && jsonx_get(rd, "state"))) {
		n->kind = NOTIF_KIND_CALL;
		return parse_call(pc, rd, &n->call);
	}
	if (odata_is(t, "participant"))
		return parse_roster(pc, n, rd);
	delta = jsonx_array(rd, "participants");
	if (odata_is(t, "deltaParticipants") || (t == NULL && delta)) {
		(void)jsonx_integer(rd, "sequenceNumber", 0, LLONG_MAX,
		    &n->roster_sequence);
		if (delta == NULL) {
			n->kind = NOTIF_KIND_PARTICIPANTS;
			return 0;
		}
		return parse_roster(pc, n, delta);
	}
	if (odata_is(t, "participantJoiningNotification")) {
		n->kind = NOTIF_KIND_JOINING;
		n->joining.id = jsonx_string(rd, "id");
		return parse_call(pc, jsonx_object(rd, "call"),
		    &n->joining.call);
	}
	if (odata_is(t, "participantLeftNotification")) {
		n->kind = NOTIF_KIND_LEFT;
		n->left.id = jsonx_string(rd, "id");
		n->left.participant_id = jsonx_string(rd, "participantId");
		return parse_call(pc, jsonx_object(rd, "call"), &n->left.call);
	}
	len = t != NULL ? strlen(t) : 0;
	if ((len > 9 && strcasecmp(t + len - 9, "Operation") == 0) ||
	    n->sub == NOTIF_SUB_OPERATIONS) {
		n->kind = NOTIF_KIND_OPERATION;
		n->operation.type = n->odata_type;
		n->operation.id = jsonx_string(rd, "id");
		n->operation.status = jsonx_string(rd, "status");
		n->operation.client_context = jsonx_string(rd, "clientContext");
		parse_result(jsonx_object(rd, "resultInfo"),
		    &n->operation.result);
		return 0;
	}
	return 0;
}

static int
parse_one(struct parse_ctx *pc, struct notification *n, const cJSON *o)
{
	const cJSON	*item;
	const char	*url;
	int		 i;

	n->roster_sequence = -1;
	call_init(&n->call);
	call_init(&n->joining.call);
	call_init(&n->left.call);
	n->operation.result.code = n->operation.result.subcode = -1;

	if (!cJSON_IsObject(o))
		return reject(pc, "not an object");
	if ((item = jsonx_get(o, "changeType")) == NULL)
		return reject(pc, "changeType missing");
	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return reject(pc, "changeType is not a string");
	n->change_text = item->valuestring;
	if ((i = jsonx_match(n->change_text, change_names + 1,
	    NELEM(change_names) - 1)) < 0)
		return reject(pc, "changeType unknown");
	n->change = (enum notif_change)(i + 1);

	if ((url = jsonx_string(o, "resourceUrl")) == NULL &&
	    (url = jsonx_string(o, "resource")) == NULL)
		return reject(pc, "resourceUrl missing");
	n->resource_url = url;
	if (parse_url(pc, n, url) == -1)
		return -1;
	return parse_resource(pc, n, jsonx_get(o, "resourceData"));
}

int
notif_parse(const char *body, size_t len, struct notif_batch **out,
    char *err, size_t errlen)
{
	struct parse_ctx	 pc;
	struct notif_batch	*b = NULL;
	cJSON			*root = NULL;
	const cJSON		*value, *item;
	const char		*end = NULL, *p;
	size_t			 n, i;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL) {
		envelope_error(err, errlen, "no result pointer");
		return -1;
	}
	*out = NULL;
	if (body == NULL || len == 0) {
		envelope_error(err, errlen, "body is empty");
		return -1;
	}
	if (len > NOTIF_MAX_BODY) {
		envelope_error(err, errlen, "body too large");
		return -1;
	}
	/* cJSON would cut a string at a NUL; JSON text never holds one. */
	if (memchr(body, '\0', len) != NULL) {
		envelope_error(err, errlen, "body contains a NUL byte");
		return -1;
	}
	if ((root = cJSON_ParseWithLengthOpts(body, len, &end, 0)) == NULL) {
		envelope_error(err, errlen, "body is not JSON");
		return -1;
	}
	for (p = end; p != NULL && p < body + len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
			envelope_error(err, errlen,
			    "body has data after the JSON value");
			goto fail;
		}
	}
	if (!cJSON_IsObject(root)) {
		envelope_error(err, errlen, "body is not a JSON object");
		goto fail;
	}
	if ((item = jsonx_get(root, "@odata.type")) != NULL &&
	    (!cJSON_IsString(item) || item->valuestring == NULL ||
	    !odata_is(odata_name(item->valuestring), "commsNotifications"))) {
		envelope_error(err, errlen, "body is not commsNotifications");
		goto fail;
	}
	if ((value = jsonx_get(root, "value")) == NULL) {
		envelope_error(err, errlen, "value missing");
		goto fail;
	}
	if (!cJSON_IsArray(value)) {
		envelope_error(err, errlen, "value is not an array");
		goto fail;
	}
	if ((n = jsonx_count(value, NOTIF_MAX_BATCH)) == 0) {
		envelope_error(err, errlen, "value is empty");
		goto fail;
	}
	if (n > NOTIF_MAX_BATCH) {
		envelope_error(err, errlen, "too many notifications");
		goto fail;
	}

	b = xcalloc(1, sizeof(*b));
	b->root = root;
	root = NULL;
	b->v = xcalloc(n, sizeof(*b->v));
	pc.err = err;
	pc.errlen = errlen;
	for (i = 0, item = value->child; item != NULL && i < n;
	    i++, item = item->next) {
		/* Counted first, so a failure frees what was filled. */
		b->n = i + 1;
		pc.idx = i;
		if (parse_one(&pc, &b->v[i], item) == -1)
			goto fail;
		b->v[i].raw = item;
	}
	*out = b;
	return 0;

 fail:
	notif_batch_free(b);
	cJSON_Delete(root);
	return -1;
}

void
notif_batch_free(struct notif_batch *b)
{
	struct notification	*n;
	size_t			 i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		n = &b->v[i];
		call_free(&n->call);
		free(n->participants);
		call_free(&n->joining.call);
		call_free(&n->left.call);
	}
	free(b->v);
	cJSON_Delete(b->root);
	free(b);
}

int
notif_is_legacy(const char *body, size_t len)
{
	cJSON		*root;
	const cJSON	*state;
	const char	*end = NULL, *p;
	int		 legacy = 0;

	if (body == NULL || len == 0 || len > NOTIF_MAX_BODY ||
	    memchr(body, '\0', len) != NULL)
		return 0;
	if ((root = cJSON_ParseWithLengthOpts(body, len, &end, 0)) == NULL)
		return 0;
	for (p = end; p != NULL && p < body + len; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			goto done;
	if (!cJSON_IsObject(root) || jsonx_get(root, "value") != NULL ||
	    jsonx_get(root, "@odata.type") != NULL ||
	    jsonx_string(root, "id") == NULL)
		goto done;
	/* Conversation and ConversationResult. */
	if ((state = jsonx_get(root, "callState")) != NULL &&
	    cJSON_IsString(state) &&
	    (jsonx_array(root, "participants") != NULL ||
	    jsonx_array(root, "presentedModalityTypes") != NULL ||
	    jsonx_object(root, "operationOutcome") != NULL))
		legacy = 1;
	/* A callStateChange (or other) notification. */
	else if (jsonx_string(root, "type") != NULL &&
	    jsonx_string(root, "currentState") != NULL)
		legacy = 1;
 done:
	cJSON_Delete(root);
	return legacy;
}

static const char *
chain_valid(const char *s)
{
	return s != NULL && id_valid(s, strnlen(s, NOTIF_MAX_ID + 1)) ?
	    s : NULL;
}

const char *
notif_chain_id(const struct call_data *c, const char *header,
    const char **source)
{
	const char	*v, *src = NULL;

	if (c != NULL && (v = chain_valid(c->call_chain_id)) != NULL)
		src = "callChainId";
	else if ((v = chain_valid(header)) != NULL)
		src = "header";
	else if (c != NULL && (v = chain_valid(c->bot.call_id)) != NULL)
		src = "botData.callId";
	if (source != NULL)
		*source = src;
	return v;
}

int
notif_is_invitation(const struct notification *n)
{
	if (n == NULL || n->kind != NOTIF_KIND_CALL)
		return 0;
	if (n->call.state != CALL_STATE_INCOMING)
		return 0;
	return n->call.bot.present ||
	    n->call.incoming.observed_participant_id != NULL;
}

const char *
notif_kind_name(enum notif_kind k)
{
	if ((size_t)k >= NELEM(kind_names))
		return "other";
	return kind_names[k];
}

const char *
notif_change_name(enum notif_change c)
{
	if ((size_t)c >= NELEM(change_names))
		return "unknown";
	return change_names[c];
}

const char *
call_state_name(enum call_state s)
{
	if ((size_t)s >= NELEM(state_names))
		return "unknown";
	return state_names[s];
}

char *
notif_result_text(const struct result_info *r, char *buf, size_t len)
{
	char	 code[32], sub[32];

	if (len > 0)
		buf[0] = '\0';
	if (!r->present)
		return buf;
	if (r->code_text != NULL)
		log_sanitize(code, sizeof(code), r->code_text);
	else
		snprintf(code, sizeof(code), "%lld", r->code);
	if (r->subcode_text != NULL)
		log_sanitize(sub, sizeof(sub), r->subcode_text);
	else
		snprintf(sub, sizeof(sub), "%lld", r->subcode);
	snprintf(buf, len, "%s/%s", code, sub);
	return buf;
}
