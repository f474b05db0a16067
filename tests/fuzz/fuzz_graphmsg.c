/* libFuzzer harness for the Graph reply parsers (lib/graphmsg.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "graphmsg.h"

#define RETRY_AFTER_MAX	256	/* longest Retry-After tried */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 check_text(const char *, size_t, int);

/*
 * A parser's fixed buffer: terminated inside its size, and (when it
 * says so) free of control characters.
 */
static void
check_text(const char *s, size_t size, int clean)
{
	size_t	 i, len;

	if ((len = strnlen(s, size)) == size)
		abort();
	for (i = 0; clean && i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*body = (const char *)data;
	struct graph_error	 ge;
	struct comms_operation	 op;
	struct media_event	 ev;
	char			 err[128], value[RETRY_AFTER_MAX + 1];
	char			*token = NULL, *blob = NULL;
	long long		 exp = 0, delay;
	size_t			 i, len;

	if (graphmsg_parse_error(body, size, &ge) == 0) {
		check_text(ge.code, sizeof(ge.code), 1);
		check_text(ge.message, sizeof(ge.message), 1);
		check_text(ge.request_id, sizeof(ge.request_id), 1);
		check_text(ge.client_request_id, sizeof(ge.client_request_id),
		    1);
	}

	if (graphmsg_parse_token(body, size, &token, &exp, err,
	    sizeof(err)) == 0) {
		/* It goes into an HTTP header: visible ASCII only. */
		len = strlen(token);
		if (len == 0 || len > GRAPHMSG_MAX_TOKEN)
			abort();
		for (i = 0; i < len; i++)
			if (token[i] < 0x21 || token[i] > 0x7e)
				abort();
		if (exp < 60 || exp > 86400)
			abort();
		sodium_memzero(token, len);
		free(token);
	} else {
		if (token != NULL)
			abort();
		check_text(err, sizeof(err), 1);
	}

	if (graphmsg_parse_operation(body, size, &op) == 0) {
		check_text(op.id, sizeof(op.id), 1);
		check_text(op.client_context, sizeof(op.client_context), 1);
		check_text(op.message, sizeof(op.message), 1);
		if (op.code < -1 || op.subcode < -1)
			abort();
		(void)graphmsg_op_status_name(op.status);
	}

	if (graphmsg_parse_blob(body, size, &blob, err, sizeof(err)) == 0) {
		len = strlen(blob);
		if (len == 0 || len > GRAPHMSG_MAX_BLOB)
			abort();
		free(blob);
	} else {
		if (blob != NULL)
			abort();
		check_text(err, sizeof(err), 1);
	}

	if (graphmsg_parse_media_event(body, size, &ev, err,
	    sizeof(err)) == 0) {
		check_text(ev.call_id, sizeof(ev.call_id), 1);
		check_text(ev.reason, sizeof(ev.reason), 1);
		if (ev.call_id[0] == '\0' ||
		    strcmp(graphmsg_media_event_name(ev.kind), "unknown") == 0)
			abort();
	} else
		check_text(err, sizeof(err), 1);

	len = size < RETRY_AFTER_MAX ? size : RETRY_AFTER_MAX;
	memcpy(value, data, len);
	value[len] = '\0';
	delay = graphmsg_retry_after(value, 1445412480LL);
	if (delay < -1 || delay > 86400)
		abort();
	return 0;
}
