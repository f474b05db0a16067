/* Graph request bodies built with cJSON, and parsers for Graph's replies. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>
#include <sodium.h>

#include "graphmsg.h"
#include "jsonx.h"
#include "xmalloc.h"

#define GRAPHMSG_MAX_BODY	(1024 * 1024)	/* any reply we parse */
#define GRAPHMSG_MAX_DELAY	86400		/* Retry-After cap */
#define TOKEN_MIN_LIFE		60		/* expires_in is clamped */
#define TOKEN_MAX_LIFE		86400
#define GRAPHMSG_MAX_DATE	64		/* longest Retry-After date */
#define NELEM(a)		(sizeof(a) / sizeof((a)[0]))

static const char *const op_names[] = {
	"unknown", "notStarted", "running", "completed", "failed",
};

static const char *const event_names[] = {
	"unknown", "captureStarted", "captureStopped", "captureFailed",
};

static const char *const reject_reasons[] = { "none", "busy", "forbidden" };

static const char *const recording_statuses[] = {
	"notRecording", "recording", "failed",
};

static void	 copy_text(char *, size_t, const char *);
static void	 set_err(char *, size_t, const char *, const char *);
static void	 body_err(char *, size_t, const char *, const char *);
static int	 parse_object(const char *, size_t, int, cJSON **,
		    const char **);
static char	*print_delete(cJSON *);
static int	 add_string_or_null(cJSON *, const char *, const char *);
static int	 add_modalities(cJSON *, const char *, const char *const *,
		    int);
static void	 copy_code(char *, size_t, const cJSON *);
static int	 token_usable(const char *);
static int	 expiry_parse(const cJSON *, long long *);
static long long date_parse(const char *, long long);

/*
 * Keep at most dstlen - 1 bytes, never splitting a UTF-8 sequence, and
 * make control characters harmless: these strings end up in log lines
 * and the audit trail.
 */
static void
copy_text(char *dst, size_t dstlen, const char *src)
{
	unsigned char	 c;
	size_t		 n, i;

	if (dst == NULL || dstlen == 0)
		return;
	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	n = strnlen(src, dstlen);
	if (n == dstlen) {
		n = dstlen - 1;
		for (i = 0; i < 3 && n > 0 &&
		    ((unsigned char)src[n] & 0xc0) == 0x80; i++)
			n--;
	}
	for (i = 0; i < n; i++) {
		c = (unsigned char)src[i];
		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c == 0x7f)
			c = '?';
		dst[i] = (char)c;
	}
	dst[n] = '\0';
}

/* "what" or "what: detail", cut to fit. */
static void
set_err(char *err, size_t errlen, const char *what, const char *detail)
{
	char	*text;

	if (err == NULL || errlen == 0)
		return;
	if (detail == NULL || *detail == '\0') {
		copy_text(err, errlen, what);
		return;
	}
	(void)xasprintf(&text, "%s: %s", what, detail);
	copy_text(err, errlen, text);
	free(text);
}

/* "reply is too large" and the like. */
static void
body_err(char *err, size_t errlen, const char *noun, const char *why)
{
	char	 text[64];

	(void)snprintf(text, sizeof(text), "%s %s", noun, why);
	copy_text(err, errlen, text);
}

/*
 * One JSON object and nothing after it, or -1 and *why.  A NUL byte or
 * a \u0000 escape would make cJSON hand out a silently shortened
 * string, so neither is accepted.  The body is copied so cJSON always
 * sees a terminated buffer; a secret body's copy is wiped.
 */
static int
parse_object(const char *body, size_t len, int secret, cJSON **out,
    const char **why)
{
	const char	*end = NULL;
	char		*text;
	size_t		 i;
	int		 rv = -1;

	*out = NULL;
	*why = "is not a JSON object";
	if (body == NULL || len == 0) {
		*why = "is empty";
		return -1;
	}
	if (len > GRAPHMSG_MAX_BODY) {
		*why = "is too large";
		return -1;
	}
	if (memchr(body, '\0', len) != NULL ||
	    memmem(body, len, "\\u0000", 6) != NULL)
		return -1;
	text = xmalloc(len + 1);
	memcpy(text, body, len);
	text[len] = '\0';
	if ((*out = cJSON_ParseWithLengthOpts(text, len, &end, 0)) == NULL)
		goto done;
	if (end == NULL || end < text || end > text + len)
		goto done;
	for (i = end - text; i < len; i++)
		if (strchr(" \t\r\n", text[i]) == NULL)
			goto done;
	if (cJSON_IsObject(*out))
		rv = 0;
 done:
	if (rv == -1) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	if (secret)
		sodium_memzero(text, len);
	free(text);
	return rv;
}

static char *
print_delete(cJSON *o)
{
	char	*text;

	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static int
add_string_or_null(cJSON *o, const char *name, const char *s)
{
	if (s == NULL)
		return cJSON_AddNullToObject(o, name) == NULL ? -1 : 0;
	return cJSON_AddStringToObject(o, name, s) == NULL ? -1 : 0;
}

/* A NULL-terminated list as a string array; empty strings refused. */
static int
add_modalities(cJSON *o, const char *name, const char *const *list,
    int need_one)
{
	cJSON	*arr, *s;
	size_t	 i;

	if ((arr = cJSON_AddArrayToObject(o, name)) == NULL)
		return -1;
	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (list[i][0] == '\0')
			return -1;
		if ((s = cJSON_CreateString(list[i])) == NULL)
			return -1;
		if (!cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			return -1;
		}
	}
	return need_one && i == 0 ? -1 : 0;
}

char *
graphmsg_answer(const struct answer_spec *spec)
{
	cJSON	*o = NULL, *mc, *co;

	if (spec == NULL || spec->callback_uri == NULL ||
	    spec->callback_uri[0] == '\0' || spec->modalities == NULL ||
	    spec->modalities[0] == NULL)
		return NULL;
	if (spec->media != MEDIA_SERVICE && spec->media != MEDIA_APP)
		return NULL;
	if (spec->media == MEDIA_APP &&
	    (spec->blob == NULL || spec->blob[0] == '\0'))
		return NULL;
	/* participantCapacity is an Int32. */
	if (spec->participant_capacity > INT32_MAX)
		return NULL;

	if ((o = cJSON_CreateObject()) == NULL)
		goto fail;
	if (cJSON_AddStringToObject(o, "callbackUri",
	    spec->callback_uri) == NULL)
		goto fail;
	if (add_modalities(o, "acceptedModalities", spec->modalities, 1) == -1)
		goto fail;
	if ((mc = cJSON_AddObjectToObject(o, "mediaConfig")) == NULL)
		goto fail;
	if (spec->media == MEDIA_APP) {
		if (cJSON_AddStringToObject(mc, "@odata.type",
		    "#microsoft.graph.appHostedMediaConfig") == NULL ||
		    cJSON_AddStringToObject(mc, "blob", spec->blob) == NULL)
			goto fail;
	} else if (cJSON_AddStringToObject(mc, "@odata.type",
	    "#microsoft.graph.serviceHostedMediaConfig") == NULL)
		goto fail;
	if ((co = cJSON_AddObjectToObject(o, "callOptions")) == NULL ||
	    cJSON_AddStringToObject(co, "@odata.type",
	    "#microsoft.graph.incomingCallOptions") == NULL ||
	    cJSON_AddBoolToObject(co, "isDeltaRosterEnabled",
	    spec->delta_roster ? 1 : 0) == NULL)
		goto fail;
	/* 1 is Graph's default: sending it would only add noise. */
	if (spec->participant_capacity > 1 &&
	    cJSON_AddNumberToObject(o, "participantCapacity",
	    (double)spec->participant_capacity) == NULL)
		goto fail;
	return print_delete(o);
 fail:
	cJSON_Delete(o);
	return NULL;
}

char *
graphmsg_reject(const char *reason, const char *callback_uri)
{
	cJSON	*o;
	int	 i;

	if ((i = jsonx_match(reason, reject_reasons,
	    NELEM(reject_reasons))) < 0)
		return NULL;
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "reason", reject_reasons[i]) == NULL)
		goto fail;
	if (callback_uri != NULL && callback_uri[0] != '\0' &&
	    cJSON_AddStringToObject(o, "callbackUri", callback_uri) == NULL)
		goto fail;
	return print_delete(o);
 fail:
	cJSON_Delete(o);
	return NULL;
}

char *
graphmsg_recording_status(const char *status, const char *client_context)
{
	cJSON	*o;
	size_t	 len;
	int	 i;

	if ((i = jsonx_match(status, recording_statuses,
	    NELEM(recording_statuses))) < 0)
		return NULL;
	if (client_context == NULL)
		return NULL;
	len = strnlen(client_context, GRAPHMSG_MAX_CONTEXT + 1);
	if (len == 0 || len > GRAPHMSG_MAX_CONTEXT)
		return NULL;
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "clientContext",
	    client_context) == NULL ||
	    cJSON_AddStringToObject(o, "status",
	    recording_statuses[i]) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_delete(o);
}

char *
graphmsg_media_request(const struct media_request *m)
{
	cJSON		*o;
	long long	 deadline;

	if (m == NULL || m->call_id == NULL || m->call_id[0] == '\0' ||
	    m->events_url == NULL || m->events_url[0] == '\0')
		return NULL;
	/* Late is late: the agent sees 0, not a negative budget. */
	deadline = m->deadline_ms < 0 ? 0 : m->deadline_ms;
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "callId", m->call_id) == NULL ||
	    add_string_or_null(o, "tenantId", m->tenant_id) == -1 ||
	    add_string_or_null(o, "callChainId", m->call_chain_id) == -1 ||
	    add_string_or_null(o, "policyIdentifier",
	    m->policy_identifier) == -1 ||
	    add_string_or_null(o, "observedParticipantId",
	    m->observed_participant_id) == -1 ||
	    add_modalities(o, "modalities", m->modalities, 0) == -1 ||
	    cJSON_AddNumberToObject(o, "deadlineMs",
	    (double)deadline) == NULL ||
	    cJSON_AddStringToObject(o, "eventsUrl", m->events_url) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_delete(o);
}

/* Error codes are strings, but calling's are numeric and may be numbers. */
static void
copy_code(char *dst, size_t dstlen, const cJSON *item)
{
	long long	 v;

	if (cJSON_IsString(item))
		copy_text(dst, dstlen, item->valuestring);
	else if (jsonx_item_integer(item, -LLONG_MAX, LLONG_MAX, &v) == 0)
		(void)snprintf(dst, dstlen, "%lld", v);
	else
		copy_text(dst, dstlen, "");
}

int
graphmsg_parse_error(const char *body, size_t len, struct graph_error *ge)
{
	cJSON		*root;
	const cJSON	*e, *inner;
	const char	*why;

	if (ge == NULL)
		return -1;
	memset(ge, 0, sizeof(*ge));
	if (parse_object(body, len, 0, &root, &why) == -1)
		return -1;
	if ((e = jsonx_object(root, "error")) == NULL) {
		cJSON_Delete(root);
		return -1;
	}
	copy_code(ge->code, sizeof(ge->code), jsonx_get(e, "code"));
	copy_text(ge->message, sizeof(ge->message),
	    jsonx_string(e, "message"));
	/* jsonx matches names case-insensitively: innererror too. */
	inner = jsonx_object(e, "innerError");
	copy_text(ge->request_id, sizeof(ge->request_id),
	    jsonx_string(inner, "request-id"));
	copy_text(ge->client_request_id, sizeof(ge->client_request_id),
	    jsonx_string(inner, "client-request-id"));
	cJSON_Delete(root);
	return 0;
}

/* It goes into an Authorization header: visible ASCII, nothing else. */
static int
token_usable(const char *t)
{
	size_t	 i;

	for (i = 0; t[i] != '\0'; i++) {
		if (i >= GRAPHMSG_MAX_TOKEN)
			return 0;
		if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e)
			return 0;
	}
	return i > 0;
}

/* expires_in as a number or a numeric string, clamped to 60..86400. */
static int
expiry_parse(const cJSON *item, long long *out)
{
	const char	*errstr;
	double		 d;
	long long	 v;

	if (cJSON_IsNumber(item)) {
		d = item->valuedouble;
		if (!isfinite(d))
			return -1;
		v = d < TOKEN_MIN_LIFE ? TOKEN_MIN_LIFE :
		    d > TOKEN_MAX_LIFE ? TOKEN_MAX_LIFE : (long long)d;
	} else if (cJSON_IsString(item) && item->valuestring != NULL) {
		v = strtonum(item->valuestring, LLONG_MIN, LLONG_MAX, &errstr);
		if (errstr != NULL) {
			if (strcmp(errstr, "too small") == 0)
				v = TOKEN_MIN_LIFE;
			else if (strcmp(errstr, "too large") == 0)
				v = TOKEN_MAX_LIFE;
			else
				return -1;
		}
		v = v < TOKEN_MIN_LIFE ? TOKEN_MIN_LIFE :
		    v > TOKEN_MAX_LIFE ? TOKEN_MAX_LIFE : v;
	} else
		return -1;
	*out = v;
	return 0;
}

int
graphmsg_parse_token(const char *body, size_t len, char **token,
    long long *expires_in, char *err, size_t errlen)
{
	cJSON		*root = NULL;
	const cJSON	*at = NULL, *tt;
	const char	*e, *why;
	long long	 exp;
	int		 rv = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (token != NULL)
		*token = NULL;
	if (token == NULL || expires_in == NULL) {
		set_err(err, errlen, "no result pointer", NULL);
		return -1;
	}
	if (parse_object(body, len, 1, &root, &why) == -1) {
		body_err(err, errlen, "reply", why);
		return -1;
	}
	/* Found first so that it is wiped whatever else the reply holds. */
	at = jsonx_get(root, "access_token");
	if ((e = jsonx_string(root, "error")) != NULL) {
		set_err(err, errlen, e[0] != '\0' ? e : "error",
		    jsonx_string(root, "error_description"));
		goto done;
	}
	if (jsonx_get(root, "error") != NULL) {
		set_err(err, errlen, "error reply", NULL);
		goto done;
	}
	if (at == NULL) {
		set_err(err, errlen, "no access_token", NULL);
		goto done;
	}
	if (!cJSON_IsString(at) || at->valuestring == NULL ||
	    !token_usable(at->valuestring)) {
		set_err(err, errlen, "access_token is not a usable token",
		    NULL);
		goto done;
	}
	if ((tt = jsonx_get(root, "token_type")) != NULL &&
	    (!cJSON_IsString(tt) || tt->valuestring == NULL ||
	    strcasecmp(tt->valuestring, "Bearer") != 0)) {
		set_err(err, errlen, "token_type is not Bearer", NULL);
		goto done;
	}
	if (expiry_parse(jsonx_get(root, "expires_in"), &exp) == -1) {
		set_err(err, errlen, "expires_in missing or not a number",
		    NULL);
		goto done;
	}
	*token = xstrdup(at->valuestring);
	*expires_in = exp;
	rv = 0;
 done:
	if (cJSON_IsString(at) && at->valuestring != NULL)
		sodium_memzero(at->valuestring, strlen(at->valuestring));
	cJSON_Delete(root);
	return rv;
}

enum op_status
graphmsg_op_status(const char *s)
{
	int	 i;

	if ((i = jsonx_match(s, op_names + 1, NELEM(op_names) - 1)) < 0)
		return OP_STATUS_UNKNOWN;
	return (enum op_status)(i + 1);
}

const char *
graphmsg_op_status_name(enum op_status s)
{
	if ((size_t)s >= NELEM(op_names))
		return op_names[0];
	return op_names[s];
}

int
graphmsg_parse_operation(const char *body, size_t len,
    struct comms_operation *op)
{
	cJSON		*root;
	const cJSON	*ri;
	const char	*why;

	if (op == NULL)
		return -1;
	memset(op, 0, sizeof(*op));
	op->code = op->subcode = -1;
	if (parse_object(body, len, 0, &root, &why) == -1)
		return -1;
	op->status = graphmsg_op_status(jsonx_string(root, "status"));
	copy_text(op->id, sizeof(op->id), jsonx_string(root, "id"));
	copy_text(op->client_context, sizeof(op->client_context),
	    jsonx_string(root, "clientContext"));
	if ((ri = jsonx_object(root, "resultInfo")) != NULL) {
		if (jsonx_integer(ri, "code", 0, LLONG_MAX, &op->code) == -1)
			op->code = -1;
		if (jsonx_integer(ri, "subcode", 0, LLONG_MAX,
		    &op->subcode) == -1)
			op->subcode = -1;
		copy_text(op->message, sizeof(op->message),
		    jsonx_string(ri, "message"));
	}
	cJSON_Delete(root);
	return 0;
}

int
graphmsg_parse_blob(const char *body, size_t len, char **blob, char *err,
    size_t errlen)
{
	cJSON		*root;
	const cJSON	*item;
	const char	*why;
	size_t		 n;
	int		 rv = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (blob == NULL) {
		set_err(err, errlen, "no result pointer", NULL);
		return -1;
	}
	*blob = NULL;
	if (parse_object(body, len, 0, &root, &why) == -1) {
		body_err(err, errlen, "reply", why);
		return -1;
	}
	if ((item = jsonx_get(root, "blob")) == NULL) {
		set_err(err, errlen, "no blob", NULL);
		goto done;
	}
	if (!cJSON_IsString(item) || item->valuestring == NULL) {
		set_err(err, errlen, "blob is not a string", NULL);
		goto done;
	}
	n = strnlen(item->valuestring, GRAPHMSG_MAX_BLOB + 1);
	if (n == 0) {
		set_err(err, errlen, "blob is empty", NULL);
		goto done;
	}
	if (n > GRAPHMSG_MAX_BLOB) {
		set_err(err, errlen, "blob too large", NULL);
		goto done;
	}
	*blob = xstrdup(item->valuestring);
	rv = 0;
 done:
	cJSON_Delete(root);
	return rv;
}

int
graphmsg_parse_media_event(const char *body, size_t len,
    struct media_event *ev, char *err, size_t errlen)
{
	cJSON		*root;
	const char	*id, *name, *why;
	size_t		 n, i;
	int		 k, rv = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (ev == NULL) {
		set_err(err, errlen, "no result pointer", NULL);
		return -1;
	}
	memset(ev, 0, sizeof(*ev));
	if (parse_object(body, len, 0, &root, &why) == -1) {
		body_err(err, errlen, "body", why);
		return -1;
	}
	if ((id = jsonx_string(root, "callId")) == NULL) {
		set_err(err, errlen, "no callId", NULL);
		goto done;
	}
	n = strnlen(id, sizeof(ev->call_id));
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || (unsigned char)id[i] > 0x7e)
			break;
	if (n == 0 || n >= sizeof(ev->call_id) || i < n) {
		set_err(err, errlen, "callId is not a valid call id", NULL);
		goto done;
	}
	if ((name = jsonx_string(root, "event")) == NULL) {
		set_err(err, errlen, "no event", NULL);
		goto done;
	}
	if ((k = jsonx_match(name, event_names + 1,
	    NELEM(event_names) - 1)) < 0) {
		set_err(err, errlen, "unknown event", NULL);
		goto done;
	}
	ev->kind = (enum media_event_kind)(k + 1);
	memcpy(ev->call_id, id, n);
	ev->call_id[n] = '\0';
	copy_text(ev->reason, sizeof(ev->reason), jsonx_string(root,
	    "reason"));
	rv = 0;
 done:
	if (rv == -1)
		memset(ev, 0, sizeof(*ev));
	cJSON_Delete(root);
	return rv;
}

const char *
graphmsg_media_event_name(enum media_event_kind k)
{
	if ((size_t)k >= NELEM(event_names))
		return event_names[0];
	return event_names[k];
}

/*
 * An HTTP-date in any of the three forms RFC 9110 5.6.7 has recipients
 * accept, as seconds from now; -1 if it is none of them.
 */
static long long
date_parse(const char *s, long long now)
{
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT",	/* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT",	/* obsolete RFC 850 */
		"%a %b %e %H:%M:%S %Y",		/* asctime() */
	};
	struct tm	 tm, want;
	const char	*end;
	time_t		 t;
	size_t		 i;

	for (i = 0; i < NELEM(formats); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (end == NULL || *end != '\0')
			continue;
		/* timegm() quietly makes 31 Feb into 3 March: refuse it. */
		want = tm;
		if ((t = timegm(&tm)) == (time_t)-1)
			continue;
		if (tm.tm_year != want.tm_year || tm.tm_mon != want.tm_mon ||
		    tm.tm_mday != want.tm_mday || tm.tm_hour != want.tm_hour ||
		    tm.tm_min != want.tm_min || tm.tm_sec != want.tm_sec)
			continue;
		if ((long long)t <= now)
			return 0;
		/* Written so that no subtraction can overflow. */
		if (now < (long long)t - GRAPHMSG_MAX_DELAY)
			return GRAPHMSG_MAX_DELAY;
		return (long long)t - now;
	}
	return -1;
}

long long
graphmsg_retry_after(const char *value, long long now)
{
	char		 buf[GRAPHMSG_MAX_DATE];
	const char	*p;
	size_t		 len, i;
	long long	 v = 0;

	if (value == NULL)
		return -1;
	/* The field value may carry optional white space either side. */
	for (p = value; *p == ' ' || *p == '\t'; p++)
		;
	len = strnlen(p, sizeof(buf));
	if (len == sizeof(buf))
		return -1;
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len == 0)
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';

	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		v = v * 10 + (buf[i] - '0');
		if (v > GRAPHMSG_MAX_DELAY)
			v = GRAPHMSG_MAX_DELAY;
	}
	if (i == len)
		return v;
	/* Every HTTP-date starts with a day name. */
	if (!isalpha((unsigned char)buf[0]))
		return -1;
	return date_parse(buf, now);
}

void
graphmsg_uuid(char out[37])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 b[16];
	size_t			 i, j;

	randombytes_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	for (i = 0, j = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[b[i] >> 4];
		out[j++] = hex[b[i] & 0x0f];
	}
	out[j] = '\0';
}

int
graphmsg_parse_call_state(const char *body, size_t len,
    enum call_state *state)
{
	cJSON		*root;
	const char	*why, *s;
	int		 i;

	*state = CALL_STATE_UNKNOWN;
	if (parse_object(body, len, 0, &root, &why) == -1)
		return -1;
	if ((s = jsonx_string(root, "state")) != NULL)
		for (i = CALL_STATE_INCOMING; i <= CALL_STATE_TERMINATED; i++)
			if (strcmp(s, call_state_name((enum call_state)i)) ==
			    0) {
				*state = (enum call_state)i;
				break;
			}
	cJSON_Delete(root);
	return 0;
}
