/* Unit tests for the commsNotifications parser (lib/notif.c, lib/jsonx.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>

#include "jsonx.h"
#include "notif.h"

#define SCENARIOS	"tests/scenarios/notifications/"
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The table row being run, named in parse_err's failure messages. */
static const char *current_case = "";

/* A growable string for generated bodies. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void	 sb_add(struct sbuf *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 sb_rep(struct sbuf *, const char *, size_t);
static char	*slurp(const char *, size_t *);
static struct notif_batch *parse_ok(const char *, size_t);
static void	 parse_err(const char *, size_t, const char *);
static struct notif_batch *load(const char *);
static struct notif_batch *one(const char *);

static void
sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(sb->p == NULL ? NULL : sb->p + sb->len,
		    sb->p == NULL ? 0 : sb->cap - sb->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (sb->p != NULL && sb->len + n < sb->cap)
			break;
		sb->cap = (sb->cap + n + 1) * 2;
		sb->p = realloc(sb->p, sb->cap);
		assert_non_null(sb->p);
	}
	sb->len += n;
}

static void
sb_rep(struct sbuf *sb, const char *s, size_t times)
{
	while (times-- > 0)
		sb_add(sb, "%s", s);
}

static char *
slurp(const char *name, size_t *len)
{
	char	 path[512];
	FILE	*f;
	long	 sz;
	char	*buf;

	snprintf(path, sizeof(path), SCENARIOS "%s", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repo root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz > 0);
	rewind(f);
	buf = malloc(sz + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, sz, f), (size_t)sz);
	fclose(f);
	buf[sz] = '\0';
	*len = sz;
	return buf;
}

static struct notif_batch *
parse_ok(const char *body, size_t len)
{
	struct notif_batch	*b = NULL;
	char			 err[128];
	int			 rc;

	rc = notif_parse(body, len, &b, err, sizeof(err));
	if (rc != 0)
		fail_msg("unexpected parse error: %s", err);
	assert_non_null(b);
	assert_true(b->n > 0);
	return b;
}

static void
parse_err(const char *body, size_t len, const char *want)
{
	struct notif_batch	*b = (struct notif_batch *)1;
	char			 err[128];

	memset(err, 'X', sizeof(err));
	if (notif_parse(body, len, &b, err, sizeof(err)) == 0) {
		notif_batch_free(b);
		fail_msg("%s: parsed, wanted error \"%s\"", current_case,
		    want);
	}
	assert_null(b);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	if (strstr(err, want) == NULL)
		fail_msg("%s: error \"%s\", wanted \"%s\"", current_case,
		    err, want);
}

static struct notif_batch *
load(const char *name)
{
	struct notif_batch	*b;
	char			*body;
	size_t			 len;

	body = slurp(name, &len);
	b = parse_ok(body, len);
	/* The batch points into its own tree, never into the body. */
	memset(body, 0, len);
	free(body);
	return b;
}

/* One notification wrapped in an envelope. */
static struct notif_batch *
one(const char *notification)
{
	struct notif_batch	*b;
	struct sbuf		 sb = { NULL, 0, 0 };

	sb_add(&sb, "{\"value\":[%s]}", notification);
	b = parse_ok(sb.p, sb.len);
	free(sb.p);
	assert_int_equal(b->n, 1);
	return b;
}

/* --- the documented and observed examples --- */

static void
test_p2p_incoming(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;

	(void)state;
	b = load("p2p-incoming.json");
	assert_int_equal(b->n, 1);
	n = &b->v[0];
	assert_int_equal(n->change, NOTIF_CHANGE_CREATED);
	assert_string_equal(n->change_text, "created");
	assert_string_equal(n->call_id, "57DAB8B1894C409AB240BD8BEAE78896");
	assert_int_equal(n->sub, NOTIF_SUB_NONE);
	assert_string_equal(n->sub_id, "");
	assert_int_equal(n->kind, NOTIF_KIND_CALL);
	assert_string_equal(n->odata_type, "#microsoft.graph.call");
	assert_int_equal(n->call.state, CALL_STATE_INCOMING);
	assert_string_equal(n->call.direction, "incoming");
	assert_string_equal(n->call.source.identity.kind, "user");
	assert_string_equal(n->call.source.identity.id,
	    "8A34A46B-3D17-4ADC-8DCE-DC4E7D572698");
	assert_string_equal(n->call.source.identity.display_name, "Test User");
	assert_string_equal(n->call.source.region, "westus");
	assert_null(n->call.source.participant_id);
	assert_int_equal(n->call.n_targets, 1);
	assert_string_equal(n->call.targets[0].identity.kind, "application");
	assert_string_equal(n->call.targets[0].identity.display_name,
	    "Test BOT");
	assert_int_equal(n->call.n_requested_modalities, 1);
	assert_string_equal(n->call.requested_modalities[0], "audio");
	assert_false(n->call.bot.present);
	assert_false(n->call.incoming.present);
	assert_false(n->call.result.present);
	assert_int_equal(n->call.result.code, -1);
	assert_false(notif_is_invitation(n));
	notif_batch_free(b);
}

static void
test_state_updates(void **state)
{
	static const struct {
		const char	*file;
		enum call_state	 state;
	} cases[] = {
		{ "p2p-establishing.json",	CALL_STATE_ESTABLISHING },
		{ "p2p-established.json",	CALL_STATE_ESTABLISHED },
		{ "apphosted-establishing.json", CALL_STATE_ESTABLISHING },
		{ "apphosted-established.json",	CALL_STATE_ESTABLISHED },
	};
	struct notif_batch	*b;
	struct notification	*n;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		b = load(cases[i].file);
		n = &b->v[0];
		assert_int_equal(n->change, NOTIF_CHANGE_UPDATED);
		assert_int_equal(n->kind, NOTIF_KIND_CALL);
		assert_string_equal(n->call_id,
		    "57DAB8B1894C409AB240BD8BEAE78896");
		assert_int_equal(n->call.state, cases[i].state);
		assert_false(notif_is_invitation(n));
		notif_batch_free(b);
	}
}

static void
test_apphosted_incoming(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;

	(void)state;
	b = load("apphosted-incoming.json");
	n = &b->v[0];
	assert_int_equal(n->kind, NOTIF_KIND_CALL);
	assert_int_equal(n->call.state, CALL_STATE_INCOMING);
	assert_int_equal(n->call.n_targets, 1);
	assert_string_equal(n->call.targets[0].region, "westus");
	assert_false(notif_is_invitation(n));
	notif_batch_free(b);
}

static void
test_content_sharing(void **state)
{
	static const struct {
		const char		*file;
		enum notif_change	 change;
	} cases[] = {
		{ "contentsharing-started.json", NOTIF_CHANGE_CREATED },
		{ "contentsharing-ended.json",	NOTIF_CHANGE_DELETED },
	};
	struct notif_batch	*b;
	struct notification	*n;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		b = load(cases[i].file);
		n = &b->v[0];
		assert_int_equal(n->change, cases[i].change);
		assert_int_equal(n->kind, NOTIF_KIND_OTHER);
		assert_null(n->odata_type);
		assert_int_equal(n->sub, NOTIF_SUB_CONTENTSHARING);
		assert_string_equal(n->call_id,
		    "421f4c00-4436-4c3a-9d9a-c4924cf98e67");
		assert_string_equal(n->sub_id,
		    "2765eb15-01f8-47c6-b12b-c32111a4a86f");
		assert_false(notif_is_invitation(n));
		notif_batch_free(b);
	}
}

static void
test_example3_invitation(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;
	struct call_data	*c;
	struct bot_data		*bot;

	(void)state;
	b = load("example3-invitation.json");
	n = &b->v[0];
	c = &n->call;
	bot = &c->bot;
	assert_int_equal(n->change, NOTIF_CHANGE_CREATED);
	assert_string_equal(n->resource_url,
	    "/communications/calls/e71f0300-9c1f-4d99-b5f4-2722e877d497");
	assert_string_equal(n->call_id, "e71f0300-9c1f-4d99-b5f4-2722e877d497");
	assert_int_equal(n->kind, NOTIF_KIND_CALL);
	assert_int_equal(c->state, CALL_STATE_INCOMING);
	assert_string_equal(c->state_text, "incoming");
	assert_string_equal(c->id, "e71f0300-9c1f-4d99-b5f4-2722e877d497");
	assert_string_equal(c->tenant_id,
	    "932899f8-2ea1-4604-8413-27bd2892079f");
	assert_string_equal(c->call_chain_id,
	    "05f2f70f-3a9c-47c1-80a9-cc79e91d8cec");
	assert_string_equal(c->my_participant_id,
	    "1520a1a5-5394-4a41-aa72-9ee6fa18cfc8");
	assert_null(c->callback_uri);
	assert_string_equal(c->source.participant_id,
	    "90fad2ce-8989-41a1-8a66-f6636e629a2a");
	assert_string_equal(c->source.identity.kind, "user");
	assert_string_equal(c->source.endpoint_type, "default");
	assert_string_equal(c->source.region, "amer");
	assert_int_equal(c->n_targets, 1);
	assert_string_equal(c->targets[0].identity.kind, "applicationInstance");
	assert_string_equal(c->targets[0].identity.id,
	    "832899f8-2ea1-4604-8413-27bd2892079f");
	assert_string_equal(c->targets[0].participant_id,
	    "4520a1a5-5394-5a41-aa12-9ee6fa18cfc8");
	assert_null(c->targets[0].region);	/* JSON null */
	assert_string_equal(c->meeting.type,
	    "#microsoft.graph.tokenMeetingInfo");
	assert_string_equal(c->meeting.token, "join token");
	assert_true(c->incoming.present);
	assert_string_equal(c->incoming.source_participant_id,
	    "30fad2ce-8989-41a1-8a66-f6636e629a2a");
	assert_string_equal(c->incoming.observed_participant_id,
	    "30fad2ce-8989-41a1-8a66-f6636e629a2a");
	assert_null(c->incoming.on_behalf_of.kind);

	assert_true(bot->present);
	assert_non_null(bot->raw);
	assert_true(cJSON_IsObject(bot->raw));
	assert_string_equal(bot->media_hosted_region, "USEA");
	assert_string_equal(bot->user.participation_method, "callee");
	assert_string_equal(bot->user.client_location, "US");
	assert_null(bot->user.id);
	assert_string_equal(bot->other_side_user.id,
	    "971f0300-9c1f-4d99-b5f4-2722e877d490");
	assert_string_equal(bot->other_side_user.participant_id,
	    "3520a1a5-5394-4a41-aa72-9ee6fa18cfc8");
	assert_string_equal(bot->other_side_user.tenant_id,
	    "1540a1a5-2394-4a41-aa72-9ee6fa18cfc8");
	assert_string_equal(bot->other_side_user.on_behalf_of_id,
	    "871f0300-9c1f-4d99-b5f4-2722e877d490");
	assert_string_equal(bot->other_side_user.participation_method,
	    "caller");
	assert_string_equal(bot->other_side_user.client_location, "EUNO");
	assert_int_equal(bot->n_invite_reasons, 1);
	assert_string_equal(bot->invite_reasons[0], "PolicyBasedRecording");
	assert_string_equal(bot->policy_identifier, "Test Policy");
	assert_int_equal(bot->n_paired_recorders, 1);
	assert_string_equal(bot->paired_recorders[0].id,
	    "471f0300-5c1f-4d99-b5f4-2722e877d490");
	assert_string_equal(bot->paired_recorders[0].participant_id,
	    "371f0300-2c1f-4d99-b5f4-2722e877d490");
	assert_int_equal(bot->n_other_recorders, 1);
	assert_string_equal(bot->other_recorders[0].participant_id,
	    "a71f0300-ec1f-4d99-b5f4-2722e877d490");
	assert_null(bot->call_id);
	assert_true(notif_is_invitation(n));
	notif_batch_free(b);
}

static void
test_observed_variant(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;
	struct call_data	*c;

	(void)state;
	b = load("observed-compliance-recording.json");
	n = &b->v[0];
	c = &n->call;
	assert_int_equal(n->change, NOTIF_CHANGE_CREATED);
	assert_string_equal(n->change_text, "Created");
	assert_int_equal(n->kind, NOTIF_KIND_CALL);
	assert_int_equal(c->state, CALL_STATE_INCOMING);
	assert_string_equal(c->state_text, "Incoming");
	assert_string_equal(c->direction, "Incoming");
	assert_string_equal(c->callback_uri,
	    "https://bot.contoso.com/api/calling");
	assert_string_equal(c->source.country_code, "CO");
	assert_string_equal(c->source.identity.tenant_id,
	    "ca7c802e-1c5b-4d3c-9a0f-7c1b2d3e4f50");
	assert_string_equal(c->chat.thread_id, "19:meeting_NjA4ZDI1@thread.v2");
	assert_string_equal(c->chat.message_id, "0");
	assert_null(c->chat.reply_chain_message_id);
	assert_null(c->termination_reason);
	assert_true(c->bot.present);
	assert_string_equal(c->bot.call_id,
	    "a590efba-429f-46c8-bc2b-a12134505bcf");
	assert_string_equal(c->bot.call_id, c->call_chain_id);
	assert_string_equal(c->bot.invite_reasons[0], "ComplianceRecording");
	assert_string_equal(c->bot.user.policy_holder_id,
	    "8:orgid:26d332ef-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
	assert_string_equal(c->bot.user.policy_holder_tenant_id,
	    "ca7c802e-1c5b-4d3c-9a0f-7c1b2d3e4f50");
	assert_string_equal(c->bot.other_side_user.id,
	    "8:orgid:b5eb7ada-3f2e-4c1d-9b8a-7e6f5d4c3b2a");
	assert_string_equal(c->bot.user.participation_method, "Callee");
	assert_int_equal(c->bot.n_paired_recorders, 0);
	assert_null(c->bot.paired_recorders);
	assert_int_equal(c->bot.n_other_recorders, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c->bot.raw,
	    "isMultiParty")));
	assert_true(notif_is_invitation(n));
	notif_batch_free(b);
}

static void
test_terminated(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;

	(void)state;
	b = load("terminated-deleted.json");
	n = &b->v[0];
	assert_int_equal(n->change, NOTIF_CHANGE_DELETED);
	assert_int_equal(n->kind, NOTIF_KIND_CALL);
	assert_int_equal(n->call.state, CALL_STATE_TERMINATED);
	assert_true(n->call.result.present);
	assert_int_equal(n->call.result.code, 200);
	assert_int_equal(n->call.result.subcode, 5001);
	assert_string_equal(n->call.result.code_text, "200");
	assert_string_equal(n->call.result.subcode_text, "5001");
	assert_string_equal(n->call.result.message,
	    "The conversation has ended.");
	assert_false(notif_is_invitation(n));
	notif_batch_free(b);
}

static void
test_roster(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;
	struct participant	*p;

	(void)state;
	b = load("roster-participants.json");
	n = &b->v[0];
	assert_int_equal(n->kind, NOTIF_KIND_PARTICIPANTS);
	assert_int_equal(n->sub, NOTIF_SUB_PARTICIPANTS);
	assert_string_equal(n->sub_id, "");
	assert_null(n->odata_type);
	assert_int_equal(n->roster_sequence, -1);
	assert_int_equal(n->n_participants, 3);
	p = &n->participants[0];
	assert_string_equal(p->id, "5e290590-8d2b-4c47-9a52-2f8c4b1e0d33");
	assert_string_equal(p->info.participant_id,
	    "5e290590-8d2b-4c47-9a52-2f8c4b1e0d33");
	assert_string_equal(p->info.identity.kind, "user");
	assert_string_equal(p->info.identity.tenant_id,
	    "ca7c802e-1c5b-4d3c-9a0f-7c1b2d3e4f50");
	assert_string_equal(p->info.country_code, "US");
	assert_false(p->is_muted);
	assert_false(p->is_in_lobby);
	assert_false(p->removed);
	assert_int_equal(p->roster_sequence, 12);
	assert_string_equal(p->recording_status, "recording");
	p = &n->participants[1];
	assert_string_equal(p->info.identity.kind, "applicationInstance");
	assert_true(p->is_muted);
	assert_int_equal(p->roster_sequence, 13);	/* sent as "13" */
	assert_null(p->recording_status);
	p = &n->participants[2];
	assert_string_equal(p->info.identity.kind, "phone");
	assert_string_equal(p->info.identity.id, "+14255550100");
	assert_true(p->is_in_lobby);
	assert_true(p->removed);
	assert_string_equal(p->removed_reason, "left the meeting");
	notif_batch_free(b);
}

static void
test_delta_roster(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;

	(void)state;
	b = load("delta-roster.json");
	n = &b->v[0];
	assert_int_equal(n->kind, NOTIF_KIND_PARTICIPANTS);
	assert_string_equal(n->call_id, "57dab8b1-894c-409a-b240-bd8beae78896");
	assert_int_equal(n->sub, NOTIF_SUB_PARTICIPANTS);
	assert_int_equal(n->roster_sequence, 1042);
	assert_int_equal(n->n_participants, 2);
	assert_true(n->participants[0].is_muted);	/* "true" */
	assert_false(n->participants[0].removed);
	assert_int_equal(n->participants[0].roster_sequence, 1041);
	assert_true(n->participants[1].removed);
	assert_string_equal(n->participants[1].removed_reason, "removed");
	notif_batch_free(b);
}

static void
test_operation(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;

	(void)state;
	b = load("operation-update-recording-status.json");
	n = &b->v[0];
	assert_int_equal(n->change, NOTIF_CHANGE_DELETED);
	assert_int_equal(n->kind, NOTIF_KIND_OPERATION);
	assert_int_equal(n->sub, NOTIF_SUB_OPERATIONS);
	assert_string_equal(n->sub_id, "0fe0623f-d628-42ed-b4bd-8ac290072cc5");
	assert_string_equal(n->operation.type,
	    "#microsoft.graph.updateRecordingStatusOperation");
	assert_string_equal(n->operation.id,
	    "0fe0623f-d628-42ed-b4bd-8ac290072cc5");
	assert_string_equal(n->operation.status, "completed");
	assert_string_equal(n->operation.client_context,
	    "c6a1d1f0-5a1d-4e3c-9c7e-0b1a2c3d4e5f");
	assert_true(n->operation.result.present);
	assert_int_equal(n->operation.result.code, 200);
	assert_int_equal(n->operation.result.subcode, 0);
	/* Sent as a number, so no text form. */
	assert_null(n->operation.result.code_text);
	assert_string_equal(n->operation.result.message, "Action completed.");
	notif_batch_free(b);
}

static void
test_joining(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;
	struct call_data	*c;

	(void)state;
	b = load("participant-joining.json");
	n = &b->v[0];
	c = &n->joining.call;
	assert_int_equal(n->kind, NOTIF_KIND_JOINING);
	assert_string_equal(n->call_id, "e71f0300-9c1f-4d99-b5f4-2722e877d497");
	assert_int_equal(n->sub, NOTIF_SUB_OTHER);
	assert_string_equal(n->joining.id,
	    "6f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f");
	assert_int_equal(c->state, CALL_STATE_INCOMING);
	assert_string_equal(c->incoming.observed_participant_id,
	    "40fad2ce-8989-41a1-8a66-f6636e629a2b");
	assert_string_equal(c->source.participant_id,
	    "40fad2ce-8989-41a1-8a66-f6636e629a2b");
	assert_true(c->bot.present);
	assert_string_equal(c->bot.invite_reasons[0], "PolicyBasedRecording");
	/* Not an incoming-call invitation: it is a join into this leg. */
	assert_false(notif_is_invitation(n));
	notif_batch_free(b);
}

static void
test_left(void **state)
{
	struct notif_batch	*b;
	struct notification	*n;

	(void)state;
	b = load("participant-left.json");
	n = &b->v[0];
	assert_int_equal(n->kind, NOTIF_KIND_LEFT);
	assert_string_equal(n->left.id, "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d");
	assert_string_equal(n->left.participant_id,
	    "40fad2ce-8989-41a1-8a66-f6636e629a2b");
	assert_int_equal(n->left.call.state, CALL_STATE_ESTABLISHED);
	assert_int_equal(n->left.call.result.code, 200);
	assert_int_equal(n->left.call.result.subcode, 5002);
	assert_null(n->left.call.result.code_text);
	assert_string_equal(n->left.call.result.subcode_text, "5002");
	notif_batch_free(b);
}

static void
test_batch(void **state)
{
	struct notif_batch	*b;

	(void)state;
	b = load("batch.json");
	assert_int_equal(b->n, 5);
	assert_int_equal(b->v[0].kind, NOTIF_KIND_CALL);
	assert_int_equal(b->v[0].call.state, CALL_STATE_ESTABLISHED);
	assert_int_equal(b->v[1].kind, NOTIF_KIND_PARTICIPANTS);
	assert_int_equal(b->v[1].n_participants, 1);
	assert_int_equal(b->v[2].kind, NOTIF_KIND_OPERATION);
	assert_string_equal(b->v[2].operation.status, "completed");
	assert_int_equal(b->v[3].kind, NOTIF_KIND_OTHER);
	assert_int_equal(b->v[3].sub, NOTIF_SUB_CONTENTSHARING);
	assert_string_equal(b->v[3].call_id,
	    "421f4c00-4436-4c3a-9d9a-c4924cf98e67");
	assert_int_equal(b->v[4].change, NOTIF_CHANGE_DELETED);
	assert_int_equal(b->v[4].call.state, CALL_STATE_TERMINATED);
	assert_int_equal(b->v[4].call.result.subcode, 5001);
	notif_batch_free(b);
}

/* --- table-driven malformed input --- */

static void
test_malformed(void **state)
{
	static const struct {
		const char	*name;
		const char	*body;
		const char	*err;
	} cases[] = {
		{ "not JSON", "hello", "body is not JSON" },
		{ "bare brace", "{", "body is not JSON" },
		{ "whitespace only", " \n\t ", "body is not JSON" },
		{ "JSON array", "[{\"value\":[]}]", "not a JSON object" },
		{ "JSON string", "\"value\"", "not a JSON object" },
		{ "JSON null", "null", "not a JSON object" },
		{ "missing value", "{}", "value missing" },
		{ "value null", "{\"value\":null}", "value missing" },
		{ "value object", "{\"value\":{}}", "value is not an array" },
		{ "value string", "{\"value\":\"[]\"}",
		    "value is not an array" },
		{ "empty value", "{\"value\":[]}", "value is empty" },
		{ "element number", "{\"value\":[1]}",
		    "notification 0: not an object" },
		{ "element null", "{\"value\":[null]}",
		    "notification 0: not an object" },
		{ "second element array", "{\"value\":[{\"changeType\":"
		    "\"updated\",\"resourceUrl\":\"/communications/calls/a\"},"
		    "[]]}", "notification 1: not an object" },
		{ "changeType missing", "{\"value\":[{\"resourceUrl\":"
		    "\"/communications/calls/a\"}]}",
		    "notification 0: changeType missing" },
		{ "changeType null", "{\"value\":[{\"changeType\":null,"
		    "\"resourceUrl\":\"/communications/calls/a\"}]}",
		    "changeType missing" },
		{ "changeType number", "{\"value\":[{\"changeType\":1,"
		    "\"resourceUrl\":\"/communications/calls/a\"}]}",
		    "changeType is not a string" },
		{ "changeType unknown", "{\"value\":[{\"changeType\":"
		    "\"modified\",\"resourceUrl\":"
		    "\"/communications/calls/a\"}]}",
		    "changeType unknown" },
		{ "changeType 'unknown'", "{\"value\":[{\"changeType\":"
		    "\"unknown\",\"resourceUrl\":"
		    "\"/communications/calls/a\"}]}",
		    "changeType unknown" },
		{ "changeType empty", "{\"value\":[{\"changeType\":\"\","
		    "\"resourceUrl\":\"/communications/calls/a\"}]}",
		    "changeType unknown" },
		{ "resourceUrl missing", "{\"value\":[{\"changeType\":"
		    "\"updated\"}]}", "resourceUrl missing" },
		{ "resourceUrl number", "{\"value\":[{\"changeType\":"
		    "\"updated\",\"resourceUrl\":7}]}", "resourceUrl missing" },
		{ "resourceUrl not calls", "{\"value\":[{\"changeType\":"
		    "\"updated\",\"resourceUrl\":\"/communications/"
		    "onlineMeetings/a\"}]}", "not a calls URL" },
		{ "bad odata.type", "{\"@odata.type\":\"#microsoft.graph."
		    "call\",\"value\":[]}", "not commsNotifications" },
		{ "odata.type number", "{\"@odata.type\":1,\"value\":[]}",
		    "not commsNotifications" },
		{ "trailing garbage", "{\"value\":[]} x",
		    "data after the JSON value" },
		{ "two objects", "{\"value\":[]}{}",
		    "data after the JSON value" },
		{ "unterminated string", "{\"value\":[{\"changeType\":\"upd",
		    "body is not JSON" },
		{ "bad escape", "{\"value\":[\"\\x\"]}", "body is not JSON" },
		{ "bad array count", "{\"value\":[{\"changeType\":\"updated\","
		    "\"resourceUrl\":\"/communications/calls/a\","
		    "\"resourceData\":{\"@odata.type\":\"call\","
		    "\"targets\":[1,}]}",
		    "body is not JSON" },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].name;
		parse_err(cases[i].body, strlen(cases[i].body), cases[i].err);
	}
	current_case = "";
}

/* resourceUrl forms: accepted with their call id and sub, or rejected. */
static void
test_resource_urls(void **state)
{
	static const struct {
		const char	*url;		/* JSON-escaped */
		const char	*call_id;	/* NULL: rejected */
		enum notif_sub	 sub;
		const char	*sub_id;
	} cases[] = {
		{ "/communications/calls/abc", "abc", NOTIF_SUB_NONE, "" },
		{ "/app/calls/abc", "abc", NOTIF_SUB_NONE, "" },
		{ "communications/calls/abc", "abc", NOTIF_SUB_NONE, "" },
		{ "https://graph.microsoft.com/v1.0/communications/calls/abc",
		    "abc", NOTIF_SUB_NONE, "" },
		{ "/beta/communications/calls/abc/", "abc",
		    NOTIF_SUB_NONE, "" },
		{ "/Communications/CALLS/ABC/Participants", "ABC",
		    NOTIF_SUB_PARTICIPANTS, "" },
		{ "/communications/calls/abc/participants/p-1",
		    "abc", NOTIF_SUB_PARTICIPANTS, "p-1" },
		{ "/communications/calls/abc/participants/p-1/",
		    "abc", NOTIF_SUB_PARTICIPANTS, "p-1" },
		{ "/communications/calls/abc/operations/op1",
		    "abc", NOTIF_SUB_OPERATIONS, "op1" },
		{ "/app/calls/abc/OPERATIONS/op1",
		    "abc", NOTIF_SUB_OPERATIONS, "op1" },
		{ "/communications/calls/abc/contentSharingSessions/s1",
		    "abc", NOTIF_SUB_CONTENTSHARING, "s1" },
		{ "/communications/calls/abc/audioRoutingGroups/g1",
		    "abc", NOTIF_SUB_OTHER, "" },
		{ "/communications/calls/abc/participants/p1/mute",
		    "abc", NOTIF_SUB_OTHER, "" },
		{ "/communications/calls/abc/../def",
		    "abc", NOTIF_SUB_OTHER, "" },
		{ "/communications/calls/8:orgid:a.b_c~d-E9",
		    "8:orgid:a.b_c~d-E9", NOTIF_SUB_NONE, "" },
		{ "/communications/calls/a/communications/calls/b",
		    "a", NOTIF_SUB_OTHER, "" },
		{ "", NULL, 0, NULL },
		{ "/communications/calls", NULL, 0, NULL },
		{ "/communications/calls/", NULL, 0, NULL },
		{ "/communications/calls//participants", NULL, 0, NULL },
		{ "/xcommunications/calls/abc", NULL, 0, NULL },
		{ "/communications/callsabc", NULL, 0, NULL },
		{ "/communications/calls/a b", NULL, 0, NULL },
		{ "/communications/calls/a\\tb", NULL, 0, NULL },
		{ "/communications/calls/a\\u0001b", NULL, 0, NULL },
		{ "/communications/calls/a\\u007f", NULL, 0, NULL },
		{ "/communications/calls/a%2Fb", NULL, 0, NULL },
		{ "/communications/calls/a?x=1", NULL, 0, NULL },
		{ "/communications/calls/a\\\"b", NULL, 0, NULL },
		{ "/communications/calls/a\\\\b", NULL, 0, NULL },
		{ "/communications/calls/\\u00e9t\\u00e9", NULL, 0, NULL },
		{ "/communications/calls/.", NULL, 0, NULL },
		{ "/communications/calls/../answer", NULL, 0, NULL },
		{ "/communications/calls/abc/participants/bad id",
		    NULL, 0, NULL },
		{ "/communications/calls/abc/operations/..", NULL, 0, NULL },
		{ "/communications/calls/abc/participants//x", NULL, 0, NULL },
	};
	struct notif_batch	*b;
	struct sbuf		 sb;
	char			 err[128];
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(&sb, 0, sizeof(sb));
		sb_add(&sb, "{\"value\":[{\"changeType\":\"updated\","
		    "\"resourceUrl\":\"%s\"}]}", cases[i].url);
		b = NULL;
		rc = notif_parse(sb.p, sb.len, &b, err, sizeof(err));
		free(sb.p);
		if (cases[i].call_id == NULL) {
			if (rc == 0)
				fail_msg("accepted resourceUrl \"%s\"",
				    cases[i].url);
			assert_null(b);
			assert_non_null(strstr(err, "resourceUrl"));
			continue;
		}
		if (rc != 0)
			fail_msg("rejected \"%s\": %s", cases[i].url, err);
		assert_string_equal(b->v[0].call_id, cases[i].call_id);
		assert_int_equal(b->v[0].sub, cases[i].sub);
		assert_string_equal(b->v[0].sub_id, cases[i].sub_id);
		notif_batch_free(b);
	}
}

/* The legacy "resource" stands in for resourceUrl, which wins if both. */
static void
test_resource_fallback(void **state)
{
	struct notif_batch	*b;

	(void)state;
	b = one("{\"changeType\":\"updated\",\"resource\":\"/app/calls/old\"}");
	assert_string_equal(b->v[0].call_id, "old");
	assert_string_equal(b->v[0].resource_url, "/app/calls/old");
	notif_batch_free(b);
	b = one("{\"changeType\":\"updated\",\"resource\":\"/app/calls/old\","
	    "\"resourceUrl\":\"/communications/calls/new\"}");
	assert_string_equal(b->v[0].call_id, "new");
	notif_batch_free(b);
	b = one("{\"changeType\":\"updated\",\"resource\":\"/app/calls/old\","
	    "\"resourceUrl\":null}");
	assert_string_equal(b->v[0].call_id, "old");
	notif_batch_free(b);
}

/*
 * Legacy (pre-Graph) bodies are recognised, conservatively, only once
 * notif_parse refused them: the legacy calling API's Conversation,
 * ConversationResult and callStateChange shapes.  UNCONFIRMED shapes;
 * anything else stays a parse error (400).
 */
static void
test_legacy(void **state)
{
	static const char *const files[] = {
		"legacy-conversation.json", "legacy-conversation-result.json",
	};
	static const char *const yes[] = {
		"{\"id\":\"a\",\"type\":\"callStateChange\","
		    "\"currentState\":\"terminated\"}",
		"{\"id\":\"a\",\"callState\":\"incoming\","
		    "\"participants\":[]}",
		"{\"id\":\"a\",\"callState\":\"Incoming\","
		    "\"presentedModalityTypes\":[\"audio\"]}",
		"{\"id\":\"a\",\"callState\":\"established\","
		    "\"operationOutcome\":{}}",
	};
	static const char *const no[] = {
		"", "{}", "[]", "null", "this is not json",
		"{\"id\":\"a\"}",
		"{\"callState\":\"incoming\",\"participants\":[]}",
		"{\"id\":1,\"callState\":\"incoming\",\"participants\":[]}",
		"{\"id\":\"a\",\"callState\":1,\"participants\":[]}",
		"{\"id\":\"a\",\"callState\":\"incoming\"}",
		"{\"id\":\"a\",\"callState\":\"incoming\","
		    "\"participants\":{}}",
		"{\"id\":\"a\",\"type\":\"callStateChange\"}",
		"{\"id\":\"a\",\"callState\":\"incoming\","
		    "\"participants\":[],\"value\":1}",
		"{\"id\":\"a\",\"callState\":\"incoming\","
		    "\"participants\":[],\"@odata.type\":\"x\"}",
		"{\"value\":[{\"changeType\":\"created\"}]}",
		"{\"id\":\"a\",\"callState\":\"incoming\","
		    "\"participants\":[]} trailing",
	};
	struct notif_batch	*b = NULL;
	char			*body, err[128];
	size_t			 len, i;

	(void)state;
	for (i = 0; i < NELEM(files); i++) {
		body = slurp(files[i], &len);
		assert_int_equal(notif_parse(body, len, &b, err, sizeof(err)),
		    -1);
		if (!notif_is_legacy(body, len))
			fail_msg("%s: not recognised as legacy", files[i]);
		free(body);
	}
	for (i = 0; i < NELEM(yes); i++)
		if (!notif_is_legacy(yes[i], strlen(yes[i])))
			fail_msg("yes[%zu]: not recognised as legacy", i);
	for (i = 0; i < NELEM(no); i++)
		if (notif_is_legacy(no[i], strlen(no[i])))
			fail_msg("no[%zu]: taken for legacy", i);
	assert_false(notif_is_legacy(NULL, 0));
	assert_false(notif_is_legacy("{\"id\":\"a\",\"type\":\"t\","
	    "\"currentState\":\"x\"}\0", 41));
	/* Graph bodies are never legacy. */
	body = slurp("example3-invitation.json", &len);
	assert_false(notif_is_legacy(body, len));
	free(body);
}

/* callChainId, else the X-Microsoft-Skype-Chain-ID header, else
 * botData.callId; a value outside the id alphabet is passed over. */
static void
test_chain_id(void **state)
{
	struct notif_batch	*b;
	const struct call_data	*c;
	const char		*src;
	char			 longid[NOTIF_MAX_ID + 2];

	(void)state;
	b = load("example3-invitation.json");
	c = &b->v[0].call;
	assert_string_equal(notif_chain_id(c, "h-1", &src),
	    "05f2f70f-3a9c-47c1-80a9-cc79e91d8cec");
	assert_string_equal(src, "callChainId");
	notif_batch_free(b);

	b = load("invitation-botdata-callid.json");
	c = &b->v[0].call;
	assert_null(c->call_chain_id);
	assert_true(notif_is_invitation(&b->v[0]));
	assert_string_equal(notif_chain_id(c, "09021b10-38c7-4f7c-91ba-"
	    "3b7a60aa9d54", &src), "09021b10-38c7-4f7c-91ba-3b7a60aa9d54");
	assert_string_equal(src, "header");
	assert_string_equal(notif_chain_id(c, NULL, &src),
	    "a590efba-429f-46c8-bc2b-a12134505bcf");
	assert_string_equal(src, "botData.callId");
	assert_string_equal(notif_chain_id(c, "", &src),
	    "a590efba-429f-46c8-bc2b-a12134505bcf");
	assert_string_equal(notif_chain_id(c, "a b", &src),
	    "a590efba-429f-46c8-bc2b-a12134505bcf");
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_string_equal(notif_chain_id(c, longid, &src),
	    "a590efba-429f-46c8-bc2b-a12134505bcf");
	notif_batch_free(b);

	b = one("{\"changeType\":\"updated\",\"resourceUrl\":"
	    "\"/communications/calls/a\",\"resourceData\":{\"state\":"
	    "\"established\"}}");
	src = "x";
	assert_null(notif_chain_id(&b->v[0].call, NULL, &src));
	assert_null(src);
	assert_null(notif_chain_id(NULL, NULL, NULL));
	assert_string_equal(notif_chain_id(NULL, "h", NULL), "h");
	notif_batch_free(b);
}

/* A transfer's shapes: the transferor, a new chain id, a failed
 * transfer's operation, terminationReason. */
static void
test_transfer_shapes(void **state)
{
	struct notif_batch	*b;
	const struct notification *n;

	(void)state;
	b = load("invitation-transferred.json");
	n = &b->v[0];
	assert_true(notif_is_invitation(n));
	assert_string_equal(n->call.incoming.transferor.kind, "user");
	assert_string_equal(n->call.incoming.transferor.id,
	    "b5eb7ada-0000-4000-8000-0000000000aa");
	assert_string_equal(n->call.incoming.transferor.tenant_id,
	    "932899f8-2ea1-4604-8413-27bd2892079f");
	assert_string_equal(notif_chain_id(&n->call, NULL, NULL),
	    "7c0ffee0-0000-4000-8000-0000000000c2");
	notif_batch_free(b);

	b = load("transfer-accepted-chain.json");
	n = &b->v[0];
	assert_false(notif_is_invitation(n));
	assert_int_equal(n->call.state, CALL_STATE_TRANSFER_ACCEPTED);
	assert_string_equal(n->call.call_chain_id,
	    "7c0ffee0-0000-4000-8000-0000000000c3");
	assert_string_equal(n->call.incoming.transferor.id,
	    "8a34a46b-3d17-4adc-8dce-dc4e7d572698");
	notif_batch_free(b);

	b = load("transfer-failed-operation.json");
	n = &b->v[0];
	assert_int_equal(n->kind, NOTIF_KIND_OPERATION);
	assert_int_equal(n->sub, NOTIF_SUB_OPERATIONS);
	assert_string_equal(n->operation.status, "failed");
	assert_int_equal(n->operation.result.code, 500);
	assert_int_equal(n->operation.result.subcode, 7700);
	assert_string_equal(n->operation.result.message,
	    "Call transfer failed.");
	notif_batch_free(b);

	b = load("terminated-transfer.json");
	n = &b->v[0];
	assert_int_equal(n->call.state, CALL_STATE_TERMINATED);
	assert_string_equal(n->call.termination_reason, "TransferCompleted");
	assert_int_equal(n->call.result.subcode, 7015);
	notif_batch_free(b);
}

static void
test_id_length(void **state)
{
	struct notif_batch	*b;
	struct sbuf		 sb;
	char			 id[NOTIF_MAX_ID + 2];

	(void)state;
	memset(id, 'a', sizeof(id));
	id[NOTIF_MAX_ID] = '\0';
	memset(&sb, 0, sizeof(sb));
	sb_add(&sb, "{\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
	    "\"/communications/calls/%s/participants/%s\"}]}", id, id);
	b = parse_ok(sb.p, sb.len);
	assert_int_equal(strlen(b->v[0].call_id), NOTIF_MAX_ID);
	assert_string_equal(b->v[0].sub_id, id);
	notif_batch_free(b);
	free(sb.p);

	id[NOTIF_MAX_ID] = 'a';
	id[NOTIF_MAX_ID + 1] = '\0';
	memset(&sb, 0, sizeof(sb));
	sb_add(&sb, "{\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
	    "\"/communications/calls/%s\"}]}", id);
	parse_err(sb.p, sb.len, "bad call id");
	free(sb.p);
	memset(&sb, 0, sizeof(sb));
	sb_add(&sb, "{\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
	    "\"/communications/calls/a/operations/%s\"}]}", id);
	parse_err(sb.p, sb.len, "bad sub-resource id");
	free(sb.p);
}

static void
test_body_limits(void **state)
{
	struct notif_batch	*b = (struct notif_batch *)1;
	char			 err[128];
	char			*big;
	static const char	 nul[] = "{\"value\":[]}\0";
	static const char	 nul_in[] = "{\"value\":[{\"changeType\":"
	    "\"updated\",\"resourceUrl\":\"/communications/calls/a\0b\"}]}";
	static const char	 esc_nul[] = "{\"value\":[{\"changeType\":"
	    "\"created\",\"resourceUrl\":\"/communications/calls/x\\u0000"
	    "y/z\"}]}";
	static const char	 small[] = "{\"value\":[{\"changeType\":"
	    "\"deleted\",\"resourceUrl\":\"/communications/calls/a\"}]}";
	static const char	 padded[] = "{\"value\":[{\"changeType\":"
	    "\"updated\",\"resourceUrl\":\"/communications/calls/a\"}]}"
	    "\r\n\t XXXX";

	(void)state;
	parse_err("", 0, "body is empty");
	parse_err("{\"value\":[]}", 0, "body is empty");
	assert_int_equal(notif_parse(NULL, 10, &b, err, sizeof(err)), -1);
	assert_null(b);
	assert_string_equal(err, "body is empty");

	/* Embedded NUL, after the value and inside a string. */
	parse_err(nul, sizeof(nul) - 1, "NUL");
	parse_err(nul_in, sizeof(nul_in) - 1, "NUL");

	/* An escaped NUL: cJSON ends the string there, nothing worse. */
	b = parse_ok(esc_nul, strlen(esc_nul));
	assert_string_equal(b->v[0].call_id, "x");
	notif_batch_free(b);

	/* Over the limit: refused before parsing. */
	big = malloc(NOTIF_MAX_BODY + 1);
	assert_non_null(big);
	memset(big, ' ', NOTIF_MAX_BODY + 1);
	parse_err(big, NOTIF_MAX_BODY + 1, "body too large");

	/* Exactly the limit, padded with whitespace: fine. */
	memcpy(big, small, strlen(small));
	b = parse_ok(big, NOTIF_MAX_BODY);
	assert_int_equal(b->v[0].change, NOTIF_CHANGE_DELETED);
	notif_batch_free(b);
	free(big);

	/* Trailing whitespace is fine; a body need not be NUL-terminated. */
	b = parse_ok(padded, strlen(padded) - 4);
	notif_batch_free(b);
}

static void
test_errbuf(void **state)
{
	struct notif_batch	*b = NULL;
	char			 err[8];

	(void)state;
	/* Small or absent error buffers are respected. */
	memset(err, 'X', sizeof(err));
	assert_int_equal(notif_parse("[]", 2, &b, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(notif_parse("[]", 2, &b, NULL, 0), -1);
	assert_int_equal(notif_parse("{\"value\":[1]}", 13, &b, err, 0), -1);
	assert_int_equal(err[0], 'b');
	assert_int_equal(notif_parse("{\"value\":[1]}", 13, NULL, err,
	    sizeof(err)), -1);
	notif_batch_free(NULL);
}

/* Rejections never echo what was sent. */
static void
test_err_no_echo(void **state)
{
	static const char *const bodies[] = {
		"{\"value\":[{\"changeType\":\"EVILTOKEN\","
		    "\"resourceUrl\":\"/communications/calls/a\"}]}",
		"{\"value\":[{\"changeType\":\"created\","
		    "\"resourceUrl\":\"/EVILTOKEN/x\"}]}",
		"{\"value\":[{\"changeType\":\"created\","
		    "\"resourceUrl\":\"/communications/calls/EVILTOKEN%\"}]}",
		"{\"@odata.type\":\"EVILTOKEN\",\"value\":[]}",
		"{\"EVILTOKEN\":1}",
		"EVILTOKEN",
	};
	struct notif_batch	*b;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(bodies); i++) {
		b = NULL;
		assert_int_equal(notif_parse(bodies[i], strlen(bodies[i]), &b,
		    err, sizeof(err)), -1);
		assert_true(strlen(err) > 0);
		assert_null(strstr(err, "EVILTOKEN"));
	}
}

static void
test_batch_size(void **state)
{
	struct notif_batch	*b;
	struct sbuf		 sb;
	size_t			 i;

	(void)state;
	memset(&sb, 0, sizeof(sb));
	sb_add(&sb, "{\"value\":[");
	for (i = 0; i < NOTIF_MAX_BATCH; i++)
		sb_add(&sb, "%s{\"changeType\":\"updated\",\"resourceUrl\":"
		    "\"/communications/calls/c%zu\"}", i ? "," : "", i);
	sb_add(&sb, "]}");
	b = parse_ok(sb.p, sb.len);
	assert_int_equal(b->n, NOTIF_MAX_BATCH);
	assert_string_equal(b->v[NOTIF_MAX_BATCH - 1].call_id, "c255");
	notif_batch_free(b);

	sb.len -= 2;
	sb_add(&sb, ",{\"changeType\":\"updated\",\"resourceUrl\":"
	    "\"/communications/calls/one-too-many\"}]}");
	parse_err(sb.p, sb.len, "too many notifications");

	/* A bad element late in the batch names its index. */
	sb.len = 0;
	sb_add(&sb, "{\"value\":[");
	for (i = 0; i < 5; i++)
		sb_add(&sb, "{\"changeType\":\"updated\",\"resourceUrl\":"
		    "\"/communications/calls/c%zu\"},", i);
	sb_add(&sb, "{\"changeType\":\"updated\"}]}");
	parse_err(sb.p, sb.len, "notification 5: resourceUrl missing");
	free(sb.p);
}

static void
test_deep_nesting(void **state)
{
	struct notif_batch	*b;
	struct sbuf		 sb;

	(void)state;
	/* Under cJSON's nesting limit: parsed, the inner junk ignored. */
	memset(&sb, 0, sizeof(sb));
	sb_add(&sb, "{\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
	    "\"/communications/calls/a\",\"resourceData\":{\"state\":"
	    "\"hold\",\"x\":");
	sb_rep(&sb, "[", 900);
	sb_rep(&sb, "]", 900);
	sb_add(&sb, ",\"targets\":");
	sb_rep(&sb, "[", 900);
	sb_rep(&sb, "]", 900);
	sb_add(&sb, "}}]}");
	b = parse_ok(sb.p, sb.len);
	assert_int_equal(b->v[0].kind, NOTIF_KIND_CALL);
	assert_int_equal(b->v[0].call.state, CALL_STATE_HOLD);
	assert_int_equal(b->v[0].call.n_targets, 0);
	notif_batch_free(b);
	free(sb.p);

	/* Far over it: refused by the JSON parser, no stack overflow. */
	memset(&sb, 0, sizeof(sb));
	sb_add(&sb, "{\"value\":");
	sb_rep(&sb, "[{\"a\":", 50000);
	sb_rep(&sb, "1}]", 50000);
	sb_add(&sb, "}");
	parse_err(sb.p, sb.len, "body is not JSON");
	free(sb.p);
}

static void
test_long_arrays(void **state)
{
	static const char *const wrappers[][2] = {
		{ "\"resourceData\":{\"@odata.type\":\"call\",\"targets\":[",
		    "]}" },
		{ "\"resourceData\":{\"@odata.type\":\"call\","
		    "\"requestedModalities\":[", "]}" },
		{ "\"resourceData\":{\"@odata.type\":\"call\",\"botData\":"
		    "{\"inviteReasons\":[", "]}}" },
		{ "\"resourceData\":{\"@odata.type\":\"call\","
		    "\"applicationMetadata\":{\"botData\":"
		    "{\"pairedRecorders\":[",
		    "]}}}" },
		{ "\"resourceData\":{\"@odata.type\":\"call\",\"botData\":"
		    "{\"otherRecorders\":[", "]}}" },
		{ "\"resourceData\":[", "]" },
		{ "\"resourceData\":{\"@odata.type\":\"deltaParticipants\","
		    "\"participants\":[", "]}" },
		{ "\"resourceData\":{\"@odata.type\":\"participantJoining"
		    "Notification\",\"call\":{\"targets\":[", "]}}" },
	};
	struct notif_batch	*b;
	struct sbuf		 sb;
	size_t			 i, count;

	(void)state;
	for (i = 0; i < NELEM(wrappers); i++) {
		for (count = 4096; count <= 4097; count++) {
			memset(&sb, 0, sizeof(sb));
			sb_add(&sb, "{\"value\":[{\"changeType\":\"updated\","
			    "\"resourceUrl\":\"/communications/calls/a\",%s{}",
			    wrappers[i][0]);
			sb_rep(&sb, ",{}", count - 1);
			sb_add(&sb, "%s}]}", wrappers[i][1]);
			if (count == 4097) {
				parse_err(sb.p, sb.len, "array too long");
			} else {
				b = parse_ok(sb.p, sb.len);
				notif_batch_free(b);
			}
			free(sb.p);
		}
	}
}

static void
test_huge_strings(void **state)
{
	struct notif_batch	*b;
	struct sbuf		 sb;

	(void)state;
	/* A large unknown property and a large known one: kept as sent. */
	memset(&sb, 0, sizeof(sb));
	sb_add(&sb, "{\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
	    "\"/communications/calls/a\",\"junk\":\"");
	sb_rep(&sb, "0123456789abcdef", 16384);
	sb_add(&sb, "\",\"resourceData\":{\"@odata.type\":\"call\","
	    "\"subject\":\"");
	sb_rep(&sb, "\\u00e9", 16384);
	sb_add(&sb, "\",\"state\":\"");
	sb_rep(&sb, "x", 300000);
	sb_add(&sb, "\"}}]}");
	assert_true(sb.len < NOTIF_MAX_BODY);
	b = parse_ok(sb.p, sb.len);
	assert_int_equal(b->v[0].call.state, CALL_STATE_UNKNOWN);
	assert_int_equal(strlen(b->v[0].call.state_text), 300000);
	notif_batch_free(b);
	free(sb.p);

	/* A huge resourceUrl is refused, not copied. */
	memset(&sb, 0, sizeof(sb));
	sb_add(&sb, "{\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
	    "\"/communications/calls/");
	sb_rep(&sb, "a", 500000);
	sb_add(&sb, "\"}]}");
	parse_err(sb.p, sb.len, "bad call id");
	free(sb.p);
}

/* Every strict prefix of a document is rejected cleanly. */
static void
test_truncated(void **state)
{
	static const char *const files[] = {
		"p2p-establishing.json", "example3-invitation.json",
		"roster-participants.json",
	};
	char	*body, *copy, *last;
	size_t	 len, cut, i;

	(void)state;
	for (i = 0; i < NELEM(files); i++) {
		body = slurp(files[i], &len);
		last = strrchr(body, '}');
		assert_non_null(last);
		for (cut = 1; cut <= (size_t)(last - body); cut++) {
			/* An exact-size copy so ASan sees any over-read. */
			copy = malloc(cut);
			assert_non_null(copy);
			memcpy(copy, body, cut);
			parse_err(copy, cut, "body is not JSON");
			free(copy);
		}
		free(body);
	}
}

/* --- liberal parsing of what real traffic sends --- */

static void
test_numbers(void **state)
{
	static const struct {
		const char	*code;		/* JSON text */
		long long	 value;
		const char	*text;
	} cases[] = {
		{ "200", 200, NULL },
		{ "\"200\"", 200, "200" },
		{ "408.0", 408, NULL },
		{ "\" 480\"", 480, " 480" },
		{ "\"abc\"", -1, "abc" },
		{ "\"\"", -1, "" },
		{ "\"200x\"", -1, "200x" },
		{ "200.5", -1, NULL },
		{ "-5", -1, NULL },
		{ "\"-5\"", -1, "-5" },
		{ "1e300", -1, NULL },
		{ "-1e300", -1, NULL },
		{ "9007199254740993", -1, NULL },
		{ "\"9223372036854775807\"", 9223372036854775807LL,
		    "9223372036854775807" },
		{ "\"9223372036854775808\"", -1, "9223372036854775808" },
		{ "true", -1, NULL },
		{ "null", -1, NULL },
		{ "{}", -1, NULL },
		{ "[200]", -1, NULL },
	};
	struct notif_batch	*b;
	struct sbuf		 sb;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(&sb, 0, sizeof(sb));
		sb_add(&sb, "{\"changeType\":\"deleted\",\"resourceUrl\":"
		    "\"/communications/calls/a\",\"resourceData\":{"
		    "\"@odata.type\":\"#microsoft.graph.call\",\"state\":"
		    "\"terminated\",\"resultInfo\":{\"code\":%s,"
		    "\"subcode\":%s}}}", cases[i].code, cases[i].code);
		b = one(sb.p);
		free(sb.p);
		if (b->v[0].call.result.code != cases[i].value)
			fail_msg("code %s read as %lld", cases[i].code,
			    b->v[0].call.result.code);
		assert_true(b->v[0].call.result.present);
		assert_int_equal(b->v[0].call.result.code, cases[i].value);
		assert_int_equal(b->v[0].call.result.subcode, cases[i].value);
		if (cases[i].text == NULL) {
			assert_null(b->v[0].call.result.code_text);
			assert_null(b->v[0].call.result.subcode_text);
		} else {
			assert_string_equal(b->v[0].call.result.code_text,
			    cases[i].text);
			assert_string_equal(b->v[0].call.result.subcode_text,
			    cases[i].text);
		}
		notif_batch_free(b);
	}
}

static void
test_case_insensitive(void **state)
{
	static const struct {
		const char		*change;
		enum notif_change	 c;
		const char		*state;
		enum call_state		 s;
	} cases[] = {
		{ "created", NOTIF_CHANGE_CREATED, "incoming",
		    CALL_STATE_INCOMING },
		{ "Created", NOTIF_CHANGE_CREATED, "Incoming",
		    CALL_STATE_INCOMING },
		{ "UPDATED", NOTIF_CHANGE_UPDATED, "ESTABLISHING",
		    CALL_STATE_ESTABLISHING },
		{ "Updated", NOTIF_CHANGE_UPDATED, "Established",
		    CALL_STATE_ESTABLISHED },
		{ "updated", NOTIF_CHANGE_UPDATED, "hold", CALL_STATE_HOLD },
		{ "updated", NOTIF_CHANGE_UPDATED, "Transferring",
		    CALL_STATE_TRANSFERRING },
		{ "updated", NOTIF_CHANGE_UPDATED, "transferAccepted",
		    CALL_STATE_TRANSFER_ACCEPTED },
		{ "updated", NOTIF_CHANGE_UPDATED, "redirecting",
		    CALL_STATE_REDIRECTING },
		{ "updated", NOTIF_CHANGE_UPDATED, "Terminating",
		    CALL_STATE_TERMINATING },
		{ "Deleted", NOTIF_CHANGE_DELETED, "Terminated",
		    CALL_STATE_TERMINATED },
		{ "deleted", NOTIF_CHANGE_DELETED, "unknownFutureValue",
		    CALL_STATE_UNKNOWN },
		{ "deleted", NOTIF_CHANGE_DELETED, "ringing",
		    CALL_STATE_UNKNOWN },
		{ "deleted", NOTIF_CHANGE_DELETED, "unknown",
		    CALL_STATE_UNKNOWN },
	};
	struct notif_batch	*b;
	struct sbuf		 sb;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(&sb, 0, sizeof(sb));
		/* Member names in odd case too: cJSON matches them so. */
		sb_add(&sb, "{\"ChangeType\":\"%s\",\"resourceurl\":"
		    "\"/communications/calls/a\",\"resourceData\":{"
		    "\"@odata.type\":\"#Microsoft.Graph.Call\","
		    "\"State\":\"%s\"}}", cases[i].change, cases[i].state);
		b = one(sb.p);
		free(sb.p);
		assert_int_equal(b->v[0].change, cases[i].c);
		assert_string_equal(b->v[0].change_text, cases[i].change);
		assert_int_equal(b->v[0].kind, NOTIF_KIND_CALL);
		assert_int_equal(b->v[0].call.state, cases[i].s);
		assert_string_equal(b->v[0].call.state_text, cases[i].state);
		notif_batch_free(b);
	}
}

static void
test_kinds(void **state)
{
	static const struct {
		const char	*url;
		const char	*data;	/* resourceData, or NULL */
		enum notif_kind	 kind;
	} cases[] = {
		{ "/communications/calls/a", NULL, NOTIF_KIND_OTHER },
		{ "/communications/calls/a", "null", NOTIF_KIND_OTHER },
		{ "/communications/calls/a", "\"call\"", NOTIF_KIND_OTHER },
		{ "/communications/calls/a", "42", NOTIF_KIND_OTHER },
		{ "/communications/calls/a", "{}", NOTIF_KIND_OTHER },
		{ "/communications/calls/a", "{\"@odata.type\":\"call\"}",
		    NOTIF_KIND_CALL },
		{ "/communications/calls/a", "{\"@odata.type\":"
		    "\"microsoft.graph.call\"}", NOTIF_KIND_CALL },
		{ "/communications/calls/a", "{\"@odata.type\":"
		    "\"#MICROSOFT.GRAPH.CALL\"}", NOTIF_KIND_CALL },
		{ "/communications/calls/a", "{\"state\":\"established\"}",
		    NOTIF_KIND_CALL },
		{ "/communications/calls/a", "{\"@odata.type\":"
		    "\"#microsoft.graph.callRecord\",\"state\":\"x\"}",
		    NOTIF_KIND_OTHER },
		{ "/communications/calls/a", "{\"@odata.type\":7,"
		    "\"state\":\"hold\"}", NOTIF_KIND_CALL },
		{ "/communications/calls/a/participants", "[]",
		    NOTIF_KIND_PARTICIPANTS },
		{ "/communications/calls/a/participants", "[1,\"x\",null]",
		    NOTIF_KIND_PARTICIPANTS },
		{ "/communications/calls/a/participants/p", "{\"@odata.type\":"
		    "\"#microsoft.graph.participant\",\"id\":\"p\"}",
		    NOTIF_KIND_PARTICIPANTS },
		{ "/communications/calls/a/participants", "{\"@odata.type\":"
		    "\"#microsoft.graph.deltaParticipants\"}",
		    NOTIF_KIND_PARTICIPANTS },
		{ "/communications/calls/a/participants",
		    "{\"sequenceNumber\":3,\"participants\":[{}]}",
		    NOTIF_KIND_PARTICIPANTS },
		{ "/communications/calls/a", "{\"@odata.type\":"
		    "\"participantJoiningNotification\"}", NOTIF_KIND_JOINING },
		{ "/communications/calls/a", "{\"@odata.type\":"
		    "\"participantJoiningNotification\",\"call\":[]}",
		    NOTIF_KIND_JOINING },
		{ "/communications/calls/a", "{\"@odata.type\":"
		    "\"#microsoft.graph.participantLeftNotification\","
		    "\"call\":\"x\"}", NOTIF_KIND_LEFT },
		{ "/communications/calls/a/operations/o", "{\"@odata.type\":"
		    "\"#microsoft.graph.commsOperation\"}",
		    NOTIF_KIND_OPERATION },
		{ "/communications/calls/a", "{\"@odata.type\":"
		    "\"#microsoft.graph.playPromptOperation\"}",
		    NOTIF_KIND_OPERATION },
		{ "/communications/calls/a", "{\"@odata.type\":"
		    "\"operation\"}", NOTIF_KIND_OTHER },
		{ "/communications/calls/a/operations/o", "{\"status\":"
		    "\"failed\"}", NOTIF_KIND_OPERATION },
		{ "/communications/calls/a/operations/o", "{\"@odata.type\":"
		    "\"#microsoft.graph.somethingNew\"}",
		    NOTIF_KIND_OPERATION },
	};
	struct notif_batch	*b;
	struct sbuf		 sb;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(&sb, 0, sizeof(sb));
		sb_add(&sb, "{\"changeType\":\"updated\","
		    "\"resourceUrl\":\"%s\"", cases[i].url);
		if (cases[i].data != NULL)
			sb_add(&sb, ",\"resourceData\":%s", cases[i].data);
		sb_add(&sb, "}");
		b = one(sb.p);
		free(sb.p);
		if (b->v[0].kind != cases[i].kind)
			fail_msg("%s: kind %s, want %s", cases[i].data,
			    notif_kind_name(b->v[0].kind),
			    notif_kind_name(cases[i].kind));
		notif_batch_free(b);
	}
}

/* Optional fields of the wrong JSON type read as absent. */
static void
test_wrong_types(void **state)
{
	struct notif_batch	*b;
	struct call_data	*c;
	struct participant	*p;

	(void)state;
	b = one("{\"changeType\":\"created\",\"resourceUrl\":"
	    "\"/communications/calls/a\",\"resourceData\":{"
	    "\"@odata.type\":\"call\",\"state\":1,\"direction\":[],"
	    "\"id\":{},\"tenantId\":true,\"source\":\"x\",\"targets\":{},"
	    "\"requestedModalities\":[1,\"audio\",null,{}],"
	    "\"incomingContext\":[],\"meetingInfo\":\"t\",\"chatInfo\":1,"
	    "\"applicationMetadata\":{\"botData\":\"x\"},"
	    "\"resultInfo\":[],\"terminationReason\":5}}");
	c = &b->v[0].call;
	assert_int_equal(c->state, CALL_STATE_UNKNOWN);
	assert_null(c->state_text);
	assert_null(c->direction);
	assert_null(c->id);
	assert_null(c->tenant_id);
	assert_null(c->source.participant_id);
	assert_int_equal(c->n_targets, 0);
	assert_int_equal(c->n_requested_modalities, 1);
	assert_string_equal(c->requested_modalities[0], "audio");
	assert_false(c->incoming.present);
	assert_null(c->meeting.type);
	assert_null(c->chat.thread_id);
	assert_false(c->bot.present);
	assert_false(c->result.present);
	assert_null(c->termination_reason);
	notif_batch_free(b);

	b = one("{\"changeType\":\"created\",\"resourceUrl\":"
	    "\"/communications/calls/a\",\"resourceData\":{"
	    "\"@odata.type\":\"call\",\"state\":\"incoming\","
	    "\"source\":{\"identity\":{\"user\":null,\"guest\":\"g\","
	    "\"phone\":{\"id\":5}}},"
	    "\"targets\":[1,{\"identity\":[]},\"x\",{\"id\":\"t2\"}],"
	    "\"botData\":{\"inviteReasons\":\"PolicyBasedRecording\","
	    "\"pairedRecorders\":[1,{\"id\":2,\"participantId\":\"p\"}],"
	    "\"otherRecorders\":{},\"user\":[],\"otherSideUser\":{"
	    "\"onBehalfOf\":\"obo\"},\"callId\":1}}}");
	c = &b->v[0].call;
	assert_string_equal(c->source.identity.kind, "phone");
	assert_null(c->source.identity.id);
	assert_int_equal(c->n_targets, 2);
	assert_null(c->targets[0].identity.kind);
	assert_string_equal(c->targets[1].participant_id, "t2");
	assert_true(c->bot.present);	/* botData directly on the call */
	assert_int_equal(c->bot.n_invite_reasons, 0);
	assert_int_equal(c->bot.n_paired_recorders, 1);
	assert_null(c->bot.paired_recorders[0].id);
	assert_string_equal(c->bot.paired_recorders[0].participant_id, "p");
	assert_int_equal(c->bot.n_other_recorders, 0);
	assert_null(c->bot.user.participation_method);
	assert_string_equal(c->bot.other_side_user.on_behalf_of_id, "obo");
	assert_null(c->bot.call_id);
	assert_true(notif_is_invitation(&b->v[0]));
	notif_batch_free(b);

	b = one("{\"changeType\":\"updated\",\"resourceUrl\":"
	    "\"/communications/calls/a/participants\",\"resourceData\":[{"
	    "\"id\":1,\"info\":\"x\",\"isMuted\":\"yes\",\"isInLobby\":1,"
	    "\"removedState\":\"gone\",\"rosterSequenceNumber\":\"x\","
	    "\"recordingInfo\":{\"recordingStatus\":true}}]}");
	p = &b->v[0].participants[0];
	assert_null(p->id);
	assert_null(p->info.identity.kind);
	assert_false(p->is_muted);
	assert_false(p->is_in_lobby);
	assert_false(p->removed);
	assert_int_equal(p->roster_sequence, -1);
	assert_null(p->recording_status);
	notif_batch_free(b);
}

static void
test_meeting_and_context(void **state)
{
	struct notif_batch	*b;
	struct call_data	*c;

	(void)state;
	b = one("{\"changeType\":\"created\",\"resourceUrl\":"
	    "\"/communications/calls/a\",\"resourceData\":{"
	    "\"@odata.type\":\"#microsoft.graph.call\",\"state\":\"incoming\","
	    "\"meetingInfo\":{\"@odata.type\":"
	    "\"#microsoft.graph.organizerMeetingInfo\",\"organizer\":{"
	    "\"user\":{\"id\":\"org-1\"}},\"joinWebUrl\":\"https://j\"},"
	    "\"incomingContext\":{\"onBehalfOf\":{\"application\":{\"id\":"
	    "\"app-1\",\"displayName\":\"Delegate\"}},\"transferor\":{"
	    "\"guest\":{\"id\":\"g-1\"}}}}}");
	c = &b->v[0].call;
	assert_string_equal(c->meeting.organizer_id, "org-1");
	assert_string_equal(c->meeting.join_url, "https://j");
	assert_true(c->incoming.present);
	assert_null(c->incoming.observed_participant_id);
	assert_string_equal(c->incoming.on_behalf_of.kind, "application");
	assert_string_equal(c->incoming.on_behalf_of.display_name, "Delegate");
	assert_string_equal(c->incoming.transferor.kind, "guest");
	assert_string_equal(c->incoming.transferor.id, "g-1");
	assert_false(notif_is_invitation(&b->v[0]));
	notif_batch_free(b);
}

static void
test_is_invitation(void **state)
{
	static const struct {
		const char	*data;
		int		 want;
	} cases[] = {
		/* Only incomingContext.observedParticipantId. */
		{ "{\"@odata.type\":\"call\",\"state\":\"incoming\","
		    "\"incomingContext\":{\"observedParticipantId\":"
		    "\"p\"}}", 1 },
		/* Only botData, no incomingContext. */
		{ "{\"@odata.type\":\"call\",\"state\":\"Incoming\","
		    "\"applicationMetadata\":{\"botData\":{}}}", 1 },
		{ "{\"@odata.type\":\"call\",\"state\":\"incoming\","
		    "\"incomingContext\":{\"sourceParticipantId\":\"p\"}}", 0 },
		{ "{\"@odata.type\":\"call\",\"state\":\"incoming\","
		    "\"incomingContext\":{\"observedParticipantId\":"
		    "null}}", 0 },
		{ "{\"@odata.type\":\"call\",\"state\":\"establishing\","
		    "\"incomingContext\":{\"observedParticipantId\":\"p\"},"
		    "\"botData\":{}}", 0 },
		{ "{\"@odata.type\":\"call\",\"incomingContext\":"
		    "{\"observedParticipantId\":\"p\"}}", 0 },
		{ "{\"@odata.type\":\"participantJoiningNotification\","
		    "\"call\":{\"state\":\"incoming\",\"botData\":{}}}", 0 },
	};
	struct notif_batch	*b;
	struct sbuf		 sb;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(&sb, 0, sizeof(sb));
		/* changeType is not part of the test. */
		sb_add(&sb, "{\"changeType\":\"updated\",\"resourceUrl\":"
		    "\"/communications/calls/a\",\"resourceData\":%s}",
		    cases[i].data);
		b = one(sb.p);
		free(sb.p);
		assert_int_equal(notif_is_invitation(&b->v[0]), cases[i].want);
		notif_batch_free(b);
	}
	assert_false(notif_is_invitation(NULL));
}

static void
test_envelope_type(void **state)
{
	static const char *const ok[] = {
		"{\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
		    "\"/app/calls/a\"}]}",
		"{\"@odata.type\":\"#microsoft.graph.commsNotifications\","
		    "\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
		    "\"/app/calls/a\"}]}",
		"{\"@odata.type\":\"#Microsoft.Graph.CommsNotifications\","
		    "\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
		    "\"/app/calls/a\"}]}",
		"{\"@odata.type\":null,\"extra\":[1,2,{}],"
		    "\"value\":[{\"changeType\":\"updated\",\"resourceUrl\":"
		    "\"/app/calls/a\",\"@odata.type\":\"whatever\"}]}",
		"\xef\xbb\xbf{\"value\":[{\"changeType\":\"updated\","
		    "\"resourceUrl\":\"/app/calls/a\"}]}",
	};
	static const char	 single[] = "{\"@odata.type\":"
	    "\"#microsoft.graph.commsNotification\",\"value\":[]}";
	struct notif_batch	*b;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(ok); i++) {
		b = parse_ok(ok[i], strlen(ok[i]));
		assert_string_equal(b->v[0].call_id, "a");
		notif_batch_free(b);
	}
	parse_err(single, strlen(single), "not commsNotifications");
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(notif_kind_name(NOTIF_KIND_OTHER), "other");
	assert_string_equal(notif_kind_name(NOTIF_KIND_CALL), "call");
	assert_string_equal(notif_kind_name(NOTIF_KIND_PARTICIPANTS),
	    "participants");
	assert_string_equal(notif_kind_name(NOTIF_KIND_JOINING), "joining");
	assert_string_equal(notif_kind_name(NOTIF_KIND_LEFT), "left");
	assert_string_equal(notif_kind_name(NOTIF_KIND_OPERATION), "operation");
	assert_string_equal(notif_kind_name((enum notif_kind)99), "other");
	assert_string_equal(notif_change_name(NOTIF_CHANGE_UNKNOWN), "unknown");
	assert_string_equal(notif_change_name(NOTIF_CHANGE_CREATED), "created");
	assert_string_equal(notif_change_name(NOTIF_CHANGE_UPDATED), "updated");
	assert_string_equal(notif_change_name(NOTIF_CHANGE_DELETED), "deleted");
	assert_string_equal(notif_change_name((enum notif_change)-1),
	    "unknown");
	assert_string_equal(call_state_name(CALL_STATE_UNKNOWN), "unknown");
	assert_string_equal(call_state_name(CALL_STATE_INCOMING), "incoming");
	assert_string_equal(call_state_name(CALL_STATE_ESTABLISHING),
	    "establishing");
	assert_string_equal(call_state_name(CALL_STATE_ESTABLISHED),
	    "established");
	assert_string_equal(call_state_name(CALL_STATE_HOLD), "hold");
	assert_string_equal(call_state_name(CALL_STATE_TRANSFERRING),
	    "transferring");
	assert_string_equal(call_state_name(CALL_STATE_TRANSFER_ACCEPTED),
	    "transferAccepted");
	assert_string_equal(call_state_name(CALL_STATE_REDIRECTING),
	    "redirecting");
	assert_string_equal(call_state_name(CALL_STATE_TERMINATING),
	    "terminating");
	assert_string_equal(call_state_name(CALL_STATE_TERMINATED),
	    "terminated");
	assert_string_equal(call_state_name((enum call_state)10), "unknown");
}

/* --- jsonx helpers --- */

static void
test_jsonx(void **state)
{
	static const char *const names[] = { "alpha", "Beta" };
	cJSON		*o;
	long long	 v = 7;

	(void)state;
	o = cJSON_Parse("{\"S\":\"x\",\"n\":null,\"b\":\"TRUE\",\"i\":\"12\","
	    "\"o\":{},\"a\":[1,2,3]}");
	assert_non_null(o);
	assert_string_equal(jsonx_string(o, "s"), "x");
	assert_null(jsonx_string(o, "n"));
	assert_null(jsonx_get(o, "n"));
	assert_null(jsonx_string(o, "o"));
	assert_null(jsonx_string(NULL, "s"));
	assert_null(jsonx_string(jsonx_get(o, "a"), "s"));
	assert_non_null(jsonx_object(o, "O"));
	assert_null(jsonx_object(o, "a"));
	assert_non_null(jsonx_array(o, "a"));
	assert_int_equal(jsonx_bool(o, "b", 0), 1);
	assert_int_equal(jsonx_bool(o, "s", -1), -1);
	assert_int_equal(jsonx_bool(o, "missing", 1), 1);
	assert_int_equal(jsonx_integer(o, "i", 0, 100, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(jsonx_integer(o, "i", 0, 10, &v), -1);
	assert_int_equal(v, 12);
	assert_int_equal(jsonx_integer(o, "i", 10, 0, &v), -1);
	assert_int_equal(jsonx_count(jsonx_get(o, "a"), 10), 3);
	assert_int_equal(jsonx_count(jsonx_get(o, "a"), 1), 2);
	assert_int_equal(jsonx_count(jsonx_get(o, "o"), 10), 0);
	assert_int_equal(jsonx_count(NULL, 10), 0);
	assert_int_equal(jsonx_match("BETA", names, NELEM(names)), 1);
	assert_int_equal(jsonx_match("gamma", names, NELEM(names)), -1);
	assert_int_equal(jsonx_match(NULL, names, NELEM(names)), -1);
	cJSON_Delete(o);
}

/* resultInfo as "code/subcode", numbers or strings as sent. */
static void
test_result_text(void **state)
{
	struct result_info	 r;
	char			 buf[72];

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_string_equal(notif_result_text(&r, buf, sizeof(buf)), "");
	r.present = 1;
	r.code = 200;
	r.subcode = 5001;
	assert_string_equal(notif_result_text(&r, buf, sizeof(buf)),
	    "200/5001");
	r.code_text = "500";
	r.subcode_text = "x\ny";
	assert_string_equal(notif_result_text(&r, buf, sizeof(buf)),
	    "500/x?y");
	assert_string_equal(notif_result_text(&r, buf, 4), "500");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p2p_incoming),
		cmocka_unit_test(test_state_updates),
		cmocka_unit_test(test_apphosted_incoming),
		cmocka_unit_test(test_content_sharing),
		cmocka_unit_test(test_example3_invitation),
		cmocka_unit_test(test_observed_variant),
		cmocka_unit_test(test_terminated),
		cmocka_unit_test(test_roster),
		cmocka_unit_test(test_delta_roster),
		cmocka_unit_test(test_operation),
		cmocka_unit_test(test_joining),
		cmocka_unit_test(test_left),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_resource_urls),
		cmocka_unit_test(test_resource_fallback),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_chain_id),
		cmocka_unit_test(test_transfer_shapes),
		cmocka_unit_test(test_id_length),
		cmocka_unit_test(test_body_limits),
		cmocka_unit_test(test_errbuf),
		cmocka_unit_test(test_err_no_echo),
		cmocka_unit_test(test_batch_size),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_long_arrays),
		cmocka_unit_test(test_huge_strings),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_meeting_and_context),
		cmocka_unit_test(test_is_invitation),
		cmocka_unit_test(test_envelope_type),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_jsonx),
		cmocka_unit_test(test_result_text),
	};

	return cmocka_run_group_tests_name("notif", tests, NULL, NULL);
}
