/* libFuzzer harness for the commsNotifications parser (notif_parse). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notif.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t	 touch(const char *);
static size_t	 touch_identity(const struct identity *);
static size_t	 touch_info(const struct participant_info *);
static size_t	 touch_call(const struct call_data *);
static void	 check_id(const char *);

/* Read every string the parser hands out, so ASan sees stale pointers. */
static size_t
touch(const char *s)
{
	return s == NULL ? 0 : strlen(s);
}

static size_t
touch_identity(const struct identity *id)
{
	return touch(id->kind) + touch(id->id) + touch(id->display_name) +
	    touch(id->tenant_id);
}

static size_t
touch_info(const struct participant_info *pi)
{
	return touch(pi->participant_id) + touch_identity(&pi->identity) +
	    touch(pi->endpoint_type) + touch(pi->region) +
	    touch(pi->country_code);
}

static size_t
touch_call(const struct call_data *c)
{
	size_t	 i, n;

	n = touch(c->state_text) + touch(c->direction) + touch(c->id) +
	    touch(c->tenant_id) + touch(c->call_chain_id) +
	    touch(c->my_participant_id) + touch(c->callback_uri) +
	    touch_info(&c->source) + touch(c->termination_reason);
	for (i = 0; i < c->n_targets; i++)
		n += touch_info(&c->targets[i]);
	for (i = 0; i < c->n_requested_modalities; i++)
		n += touch(c->requested_modalities[i]);
	n += touch(c->incoming.source_participant_id) +
	    touch(c->incoming.observed_participant_id) +
	    touch_identity(&c->incoming.on_behalf_of) +
	    touch_identity(&c->incoming.transferor);
	n += touch(c->meeting.type) + touch(c->meeting.token) +
	    touch(c->meeting.join_url) + touch(c->meeting.organizer_id);
	n += touch(c->chat.thread_id) + touch(c->chat.message_id) +
	    touch(c->chat.reply_chain_message_id);
	for (i = 0; i < c->bot.n_invite_reasons; i++)
		n += touch(c->bot.invite_reasons[i]);
	for (i = 0; i < c->bot.n_paired_recorders; i++)
		n += touch(c->bot.paired_recorders[i].id) +
		    touch(c->bot.paired_recorders[i].participant_id);
	for (i = 0; i < c->bot.n_other_recorders; i++)
		n += touch(c->bot.other_recorders[i].id) +
		    touch(c->bot.other_recorders[i].participant_id);
	n += touch(c->bot.policy_identifier) +
	    touch(c->bot.media_hosted_region) +
	    touch(c->bot.call_id) + touch(c->bot.user.id) +
	    touch(c->bot.user.on_behalf_of_id) +
	    touch(c->bot.other_side_user.policy_holder_id);
	n += touch(c->result.code_text) + touch(c->result.subcode_text) +
	    touch(c->result.message);
	return n;
}

/* Ids end up in Graph URLs: the parser promises a safe alphabet. */
static void
check_id(const char *id)
{
	size_t	 len;

	len = strlen(id);
	if (len > NOTIF_MAX_ID ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:~-") != len || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notif_batch	*b = NULL;
	struct notification	*n;
	char			 err[128];
	size_t			 i, j, sum = 0;

	if (notif_parse((const char *)data, size, &b, err, sizeof(err)) == -1) {
		if (b != NULL || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		/* What ingest asks of a body the parser refused. */
		(void)notif_is_legacy((const char *)data, size);
		return 0;
	}
	for (i = 0; i < b->n; i++) {
		n = &b->v[i];
		if (n->call_id[0] == '\0')
			abort();
		check_id(n->call_id);
		if (n->sub_id[0] != '\0')
			check_id(n->sub_id);
		sum += touch(n->change_text) + touch(n->resource_url) +
		    touch(n->odata_type) + touch(notif_kind_name(n->kind)) +
		    touch(notif_change_name(n->change)) +
		    touch(call_state_name(n->call.state));
		sum += touch_call(&n->call) + touch_call(&n->joining.call) +
		    touch_call(&n->left.call);
		for (j = 0; j < n->n_participants; j++)
			sum += touch(n->participants[j].id) +
			    touch_info(&n->participants[j].info) +
			    touch(n->participants[j].removed_reason) +
			    touch(n->participants[j].recording_status);
		sum += touch(n->joining.id) + touch(n->left.id) +
		    touch(n->left.participant_id) + touch(n->operation.type) +
		    touch(n->operation.id) + touch(n->operation.status) +
		    touch(n->operation.client_context) +
		    touch(n->operation.result.message);
		sum += (size_t)notif_is_invitation(n);
		sum += touch(notif_chain_id(&n->call, NULL, NULL));
	}
	notif_batch_free(b);
	/* Keep the reads from being optimised away. */
	if (sum == (size_t)-1)
		abort();
	return 0;
}
