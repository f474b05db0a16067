/* Unit tests for Graph request bodies and reply parsers (lib/graphmsg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>
#include <sodium.h>

#include "graphmsg.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* 2015-10-21 07:28:00 UTC, RFC 9110's example date. */
#define DATE_T		1445412480LL
#define DATE_IMF	"Wed, 21 Oct 2015 07:28:00 GMT"

/* The JSON type a member must have. */
enum jtype {
	J_STRING = 1,
	J_NUMBER,
	J_BOOL,
	J_OBJECT,
	J_ARRAY,
	J_NULL,
};

struct member {
	const char	*name;
	enum jtype	 type;
};

/* The table row being run, named in failure messages. */
static const char *current_case = "";

static void	 expect_str(const char *, const char *, const char *);
static void	 expect_int(const char *, long long, long long);
static int	 jtype_is(const cJSON *, enum jtype);
static cJSON	*parse_out(char *);
static void	 check_members(const cJSON *, const struct member *, size_t);
static const char *str_of(const cJSON *, const char *);
static char	*repeat(char, size_t);
static char	*wrap(const char *, const char *, const char *);

static void
expect_str(const char *what, const char *got, const char *want)
{
	if (got == NULL || want == NULL || strcmp(got, want) != 0)
		fail_msg("%s: %s is \"%s\", want \"%s\"", current_case, what,
		    got != NULL ? got : "(null)",
		    want != NULL ? want : "(null)");
}

static void
expect_int(const char *what, long long got, long long want)
{
	if (got != want)
		fail_msg("%s: %s is %lld, want %lld", current_case, what, got,
		    want);
}

static int
jtype_is(const cJSON *item, enum jtype t)
{
	switch (t) {
	case J_STRING:
		return cJSON_IsString(item);
	case J_NUMBER:
		return cJSON_IsNumber(item);
	case J_BOOL:
		return cJSON_IsBool(item);
	case J_OBJECT:
		return cJSON_IsObject(item);
	case J_ARRAY:
		return cJSON_IsArray(item);
	case J_NULL:
		return cJSON_IsNull(item);
	}
	return 0;
}

/* Parse a builder's output (and free it): it must be one JSON object. */
static cJSON *
parse_out(char *text)
{
	cJSON	*o;

	if (text == NULL)
		fail_msg("%s: builder returned NULL", current_case);
	o = cJSON_Parse(text);
	if (!cJSON_IsObject(o))
		fail_msg("%s: not a JSON object: %s", current_case, text);
	free(text);
	return o;
}

/* Exactly these members, each once, each of its type, no others. */
static void
check_members(const cJSON *o, const struct member *want, size_t n)
{
	const cJSON	*item;
	size_t		 i, seen;

	for (item = o->child; item != NULL; item = item->next) {
		for (i = 0; i < n; i++)
			if (strcmp(item->string, want[i].name) == 0)
				break;
		if (i == n)
			fail_msg("%s: unexpected member \"%s\"", current_case,
			    item->string);
		if (!jtype_is(item, want[i].type))
			fail_msg("%s: member \"%s\" has the wrong type",
			    current_case, item->string);
	}
	for (i = 0; i < n; i++) {
		seen = 0;
		for (item = o->child; item != NULL; item = item->next)
			if (strcmp(item->string, want[i].name) == 0)
				seen++;
		if (seen != 1)
			fail_msg("%s: member \"%s\" appears %zu times",
			    current_case, want[i].name, seen);
	}
}

static const char *
str_of(const cJSON *o, const char *name)
{
	const cJSON	*item;

	item = cJSON_GetObjectItemCaseSensitive(o, name);
	assert_true(cJSON_IsString(item));
	return item->valuestring;
}

static char *
repeat(char c, size_t n)
{
	char	*s;

	s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static char *
wrap(const char *a, const char *b, const char *c)
{
	char	*s;

	assert_true(asprintf(&s, "%s%s%s", a, b, c) > 0);
	return s;
}

static void
test_answer_service(void **state)
{
	static const char *const mods[] = { "audio", NULL };
	static const struct member top[] = {
		{ "callbackUri", J_STRING },
		{ "acceptedModalities", J_ARRAY },
		{ "mediaConfig", J_OBJECT },
		{ "callOptions", J_OBJECT },
	};
	static const struct member mc[] = { { "@odata.type", J_STRING } };
	static const struct member co[] = {
		{ "@odata.type", J_STRING },
		{ "isDeltaRosterEnabled", J_BOOL },
	};
	struct answer_spec	 spec;
	cJSON			*o;
	const cJSON		*m;

	(void)state;
	current_case = "answer service-hosted";
	memset(&spec, 0, sizeof(spec));
	spec.callback_uri = "https://rec.example.com/api/calls";
	spec.modalities = mods;
	spec.media = MEDIA_SERVICE;
	spec.blob = "ignored";
	spec.participant_capacity = 1;
	o = parse_out(graphmsg_answer(&spec));
	check_members(o, top, NELEM(top));
	expect_str("callbackUri", str_of(o, "callbackUri"),
	    "https://rec.example.com/api/calls");
	m = cJSON_GetObjectItemCaseSensitive(o, "acceptedModalities");
	assert_int_equal(cJSON_GetArraySize(m), 1);
	expect_str("modality", cJSON_GetArrayItem(m, 0)->valuestring, "audio");
	m = cJSON_GetObjectItemCaseSensitive(o, "mediaConfig");
	check_members(m, mc, NELEM(mc));
	expect_str("mediaConfig type", str_of(m, "@odata.type"),
	    "#microsoft.graph.serviceHostedMediaConfig");
	m = cJSON_GetObjectItemCaseSensitive(o, "callOptions");
	check_members(m, co, NELEM(co));
	expect_str("callOptions type", str_of(m, "@odata.type"),
	    "#microsoft.graph.incomingCallOptions");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m,
	    "isDeltaRosterEnabled")));
	cJSON_Delete(o);
}

static void
test_answer_app(void **state)
{
	static const char *const mods[] = {
		"audio", "video", "videoBasedScreenSharing", NULL,
	};
	static const struct member top[] = {
		{ "callbackUri", J_STRING },
		{ "acceptedModalities", J_ARRAY },
		{ "mediaConfig", J_OBJECT },
		{ "callOptions", J_OBJECT },
		{ "participantCapacity", J_NUMBER },
	};
	static const struct member mc[] = {
		{ "@odata.type", J_STRING },
		{ "blob", J_STRING },
	};
	static const char blob[] = "{\"mpUri\":\"net.tcp://a\\b\",\n\"x\":1}";
	struct answer_spec	 spec;
	cJSON			*o;
	const cJSON		*m;
	size_t			 i;

	(void)state;
	current_case = "answer app-hosted";
	memset(&spec, 0, sizeof(spec));
	spec.callback_uri = "https://rec.example.com/api/calls";
	spec.modalities = mods;
	spec.media = MEDIA_APP;
	spec.blob = blob;
	spec.participant_capacity = 200;
	spec.delta_roster = 7;
	o = parse_out(graphmsg_answer(&spec));
	check_members(o, top, NELEM(top));
	m = cJSON_GetObjectItemCaseSensitive(o, "acceptedModalities");
	assert_int_equal(cJSON_GetArraySize(m), 3);
	for (i = 0; i < 3; i++)
		expect_str("modality", cJSON_GetArrayItem(m, i)->valuestring,
		    mods[i]);
	m = cJSON_GetObjectItemCaseSensitive(o, "mediaConfig");
	check_members(m, mc, NELEM(mc));
	expect_str("mediaConfig type", str_of(m, "@odata.type"),
	    "#microsoft.graph.appHostedMediaConfig");
	/* The blob is opaque: it comes back byte for byte. */
	expect_str("blob", str_of(m, "blob"), blob);
	m = cJSON_GetObjectItemCaseSensitive(o, "callOptions");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m,
	    "isDeltaRosterEnabled")));
	assert_true(cJSON_GetObjectItemCaseSensitive(o,
	    "participantCapacity")->valuedouble == 200);
	cJSON_Delete(o);
}

static void
test_answer_capacity(void **state)
{
	static const char *const mods[] = { "audio", NULL };
	static const struct {
		long long	 capacity;
		int		 sent;
	} cases[] = {
		{ -5, 0 }, { 0, 0 }, { 1, 0 }, { 2, 1 }, { 10000, 1 },
		{ 2147483647LL, 1 },
	};
	struct answer_spec	 spec;
	const cJSON		*pc;
	cJSON			*o;
	size_t			 i;

	(void)state;
	memset(&spec, 0, sizeof(spec));
	spec.callback_uri = "https://a/b";
	spec.modalities = mods;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = "participantCapacity";
		spec.participant_capacity = cases[i].capacity;
		o = parse_out(graphmsg_answer(&spec));
		pc = cJSON_GetObjectItemCaseSensitive(o, "participantCapacity");
		expect_int("capacity sent", pc != NULL, cases[i].sent);
		if (pc != NULL)
			expect_int("capacity", (long long)pc->valuedouble,
			    cases[i].capacity);
		cJSON_Delete(o);
	}
	/* An Int32 in Graph's schema. */
	spec.participant_capacity = 2147483648LL;
	assert_null(graphmsg_answer(&spec));
}

static void
test_answer_bad(void **state)
{
	static const char *const mods[] = { "audio", NULL };
	static const char *const none[] = { NULL };
	static const char *const empty[] = { "audio", "", NULL };
	struct answer_spec	 good, spec;
	char			*text;

	(void)state;
	assert_null(graphmsg_answer(NULL));
	memset(&good, 0, sizeof(good));
	good.callback_uri = "https://a/b";
	good.modalities = mods;
	good.media = MEDIA_APP;
	good.blob = "b";
	text = graphmsg_answer(&good);
	assert_non_null(text);
	free(text);

	spec = good;
	spec.callback_uri = NULL;
	assert_null(graphmsg_answer(&spec));
	spec = good;
	spec.callback_uri = "";
	assert_null(graphmsg_answer(&spec));
	spec = good;
	spec.modalities = NULL;
	assert_null(graphmsg_answer(&spec));
	spec = good;
	spec.modalities = none;
	assert_null(graphmsg_answer(&spec));
	spec = good;
	spec.modalities = empty;
	assert_null(graphmsg_answer(&spec));
	spec = good;
	spec.blob = NULL;
	assert_null(graphmsg_answer(&spec));
	spec = good;
	spec.blob = "";
	assert_null(graphmsg_answer(&spec));
	spec = good;
	spec.media = (enum media_mode)7;
	assert_null(graphmsg_answer(&spec));
	/* Service media needs no blob. */
	spec = good;
	spec.media = MEDIA_SERVICE;
	spec.blob = NULL;
	text = graphmsg_answer(&spec);
	assert_non_null(text);
	free(text);
}

static void
test_reject(void **state)
{
	static const struct {
		const char	*reason;
		const char	*callback;
		const char	*want;	/* reason sent; NULL: refused */
	} cases[] = {
		{ "none", NULL, "none" },
		{ "busy", "https://a/b", "busy" },
		{ "forbidden", "https://a/b", "forbidden" },
		{ "BUSY", NULL, "busy" },
		{ "Forbidden", "", "forbidden" },
		{ "answer", "https://a/b", NULL },
		{ "busy ", NULL, NULL },
		{ "", NULL, NULL },
		{ NULL, "https://a/b", NULL },
		{ "unknownFutureValue", NULL, NULL },
	};
	static const struct member with[] = {
		{ "reason", J_STRING }, { "callbackUri", J_STRING },
	};
	static const struct member without[] = { { "reason", J_STRING } };
	cJSON	*o;
	char	*text;
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].reason != NULL ? cases[i].reason :
		    "(null)";
		text = graphmsg_reject(cases[i].reason, cases[i].callback);
		if (cases[i].want == NULL) {
			if (text != NULL)
				fail_msg("%s: accepted", current_case);
			continue;
		}
		o = parse_out(text);
		if (cases[i].callback != NULL && cases[i].callback[0] != '\0') {
			check_members(o, with, NELEM(with));
			expect_str("callbackUri", str_of(o, "callbackUri"),
			    cases[i].callback);
		} else
			check_members(o, without, NELEM(without));
		expect_str("reason", str_of(o, "reason"), cases[i].want);
		cJSON_Delete(o);
	}
}

static void
test_recording_status(void **state)
{
	static const struct member members[] = {
		{ "clientContext", J_STRING }, { "status", J_STRING },
	};
	static const struct {
		const char	*status;
		size_t		 ctxlen;
		const char	*want;
	} cases[] = {
		{ "recording", 36, "recording" },
		{ "notRecording", 1, "notRecording" },
		{ "failed", 256, "failed" },
		{ "NOTRECORDING", 10, "notRecording" },
		{ "failed", 257, NULL },
		{ "failed", 0, NULL },
		{ "unknown", 10, NULL },
		{ "started", 10, NULL },
		{ "", 10, NULL },
		{ NULL, 10, NULL },
	};
	cJSON	*o;
	char	*ctx, *text;
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].status != NULL ? cases[i].status :
		    "(null)";
		ctx = repeat('c', cases[i].ctxlen);
		text = graphmsg_recording_status(cases[i].status, ctx);
		if (cases[i].want == NULL) {
			if (text != NULL)
				fail_msg("%s/%zu: accepted", current_case,
				    cases[i].ctxlen);
			free(ctx);
			continue;
		}
		o = parse_out(text);
		check_members(o, members, NELEM(members));
		expect_str("status", str_of(o, "status"), cases[i].want);
		expect_str("clientContext", str_of(o, "clientContext"), ctx);
		cJSON_Delete(o);
		free(ctx);
	}
	assert_null(graphmsg_recording_status("recording", NULL));
}

static void
test_media_request(void **state)
{
	static const char *const mods[] = { "audio", "video", NULL };
	static const struct member members[] = {
		{ "callId", J_STRING },
		{ "tenantId", J_STRING },
		{ "callChainId", J_STRING },
		{ "policyIdentifier", J_STRING },
		{ "observedParticipantId", J_STRING },
		{ "modalities", J_ARRAY },
		{ "deadlineMs", J_NUMBER },
		{ "eventsUrl", J_STRING },
	};
	static const struct member nulls[] = {
		{ "callId", J_STRING },
		{ "tenantId", J_NULL },
		{ "callChainId", J_NULL },
		{ "policyIdentifier", J_NULL },
		{ "observedParticipantId", J_NULL },
		{ "modalities", J_ARRAY },
		{ "deadlineMs", J_NUMBER },
		{ "eventsUrl", J_STRING },
	};
	struct media_request	 m, bad;
	const cJSON		*item;
	cJSON			*o;

	(void)state;
	current_case = "media request";
	memset(&m, 0, sizeof(m));
	m.call_id = "e71f0300-9c1f-4d99-b5f4-2722e877d497";
	m.tenant_id = "932899f8-2ea1-4604-8413-27bd2892079f";
	m.call_chain_id = "05f2f70f-3a9c-47c1-80a9-cc79e91d8cec";
	m.policy_identifier = "Test Policy";
	m.observed_participant_id = "30fad2ce-8989-41a1-8a66-f6636e629a2a";
	m.modalities = mods;
	m.deadline_ms = 1900;
	m.events_url = "https://rec.example.com:8443/api/media";
	o = parse_out(graphmsg_media_request(&m));
	check_members(o, members, NELEM(members));
	expect_str("callId", str_of(o, "callId"), m.call_id);
	expect_str("tenantId", str_of(o, "tenantId"), m.tenant_id);
	expect_str("callChainId", str_of(o, "callChainId"), m.call_chain_id);
	expect_str("policyIdentifier", str_of(o, "policyIdentifier"),
	    m.policy_identifier);
	expect_str("observedParticipantId", str_of(o,
	    "observedParticipantId"), m.observed_participant_id);
	expect_str("eventsUrl", str_of(o, "eventsUrl"), m.events_url);
	item = cJSON_GetObjectItemCaseSensitive(o, "modalities");
	assert_int_equal(cJSON_GetArraySize(item), 2);
	expect_str("modality", cJSON_GetArrayItem(item, 1)->valuestring,
	    "video");
	item = cJSON_GetObjectItemCaseSensitive(o, "deadlineMs");
	assert_true(item->valuedouble == 1900);
	cJSON_Delete(o);

	current_case = "media request, nulls";
	memset(&bad, 0, sizeof(bad));
	bad.call_id = m.call_id;
	bad.events_url = m.events_url;
	bad.deadline_ms = -20;
	o = parse_out(graphmsg_media_request(&bad));
	check_members(o, nulls, NELEM(nulls));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "modalities")), 0);
	assert_true(cJSON_GetObjectItemCaseSensitive(o,
	    "deadlineMs")->valuedouble == 0);
	cJSON_Delete(o);

	assert_null(graphmsg_media_request(NULL));
	bad = m;
	bad.call_id = NULL;
	assert_null(graphmsg_media_request(&bad));
	bad = m;
	bad.call_id = "";
	assert_null(graphmsg_media_request(&bad));
	bad = m;
	bad.events_url = NULL;
	assert_null(graphmsg_media_request(&bad));
	bad = m;
	bad.events_url = "";
	assert_null(graphmsg_media_request(&bad));
}

static void
test_parse_error(void **state)
{
	static const struct {
		const char	*name;
		const char	*body;
		int		 rv;
		const char	*code, *message, *rid, *crid;
	} cases[] = {
		{ "documented", "{\"error\":{\"code\":\"itemNotFound\","
		    "\"message\":\"Not found\",\"innerError\":{\"request-id\":"
		    "\"r1\",\"date\":\"2021-05-06T05:26:40\","
		    "\"client-request-id\":\"c1\"}}}",
		    0, "itemNotFound", "Not found", "r1", "c1" },
		{ "innererror lower case", "{\"error\":{\"code\":\"8522\","
		    "\"message\":\"Call not found.\",\"innererror\":"
		    "{\"request-id\":\"r2\",\"client-request-id\":\"c2\"}}}",
		    0, "8522", "Call not found.", "r2", "c2" },
		{ "numeric code", "{\"error\":{\"code\":7504}}", 0, "7504", "",
		    "", "" },
		{ "fractional code", "{\"error\":{\"code\":1.5,"
		    "\"message\":\"m\"}}", 0, "", "m", "", "" },
		{ "empty error", "{\"error\":{}}", 0, "", "", "", "" },
		{ "wrong types", "{\"error\":{\"code\":[],\"message\":{},"
		    "\"innerError\":\"x\"}}", 0, "", "", "", "" },
		{ "inner wrong types", "{\"error\":{\"innerError\":"
		    "{\"request-id\":1,\"client-request-id\":null}}}", 0, "",
		    "", "", "" },
		{ "control characters", "{\"error\":{\"code\":\"a\\u0001b\","
		    "\"message\":\"line1\\r\\nline2\\u007f\"}}", 0, "a?b",
		    "line1  line2?", "", "" },
		{ "white space around", " \r\n{\"error\":{\"code\":\"x\"}}\n ",
		    0, "x", "", "", "" },
		{ "OAuth error", "{\"error\":\"invalid_client\"}", -1, "", "",
		    "", "" },
		{ "no error", "{\"value\":[]}", -1, "", "", "", "" },
		{ "array", "[{\"error\":{}}]", -1, "", "", "", "" },
		{ "null", "null", -1, "", "", "", "" },
		{ "string", "\"error\"", -1, "", "", "", "" },
		{ "not JSON", "<html>502 Bad Gateway</html>", -1, "", "", "",
		    "" },
		{ "trailing data", "{\"error\":{}}x", -1, "", "", "", "" },
		{ "two objects", "{\"error\":{}}{}", -1, "", "", "", "" },
		{ "escaped NUL", "{\"error\":{\"code\":\"a\\u0000b\"}}", -1,
		    "", "", "", "" },
		{ "truncated", "{\"error\":{\"code\":\"a\"", -1, "", "", "",
		    "" },
	};
	struct graph_error	 ge;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].name;
		memset(&ge, 'X', sizeof(ge));
		expect_int("rv", graphmsg_parse_error(cases[i].body,
		    strlen(cases[i].body), &ge), cases[i].rv);
		expect_str("code", ge.code, cases[i].code);
		expect_str("message", ge.message, cases[i].message);
		expect_str("request-id", ge.request_id, cases[i].rid);
		expect_str("client-request-id", ge.client_request_id,
		    cases[i].crid);
	}
	assert_int_equal(graphmsg_parse_error(NULL, 10, &ge), -1);
	assert_int_equal(graphmsg_parse_error("{\"error\":{}}", 0, &ge), -1);
	assert_int_equal(graphmsg_parse_error("{\"error\":{}}", 12, NULL), -1);
	/* A raw NUL inside the length, and a body cut short by len. */
	assert_int_equal(graphmsg_parse_error("{\"error\":{}}\0", 13, &ge), -1);
	assert_int_equal(graphmsg_parse_error("{\"error\":{}}", 11, &ge), -1);
}

static void
test_parse_error_truncation(void **state)
{
	struct graph_error	 ge;
	char			*msg, *body, *big;
	size_t			 i;

	(void)state;
	current_case = "long fields";
	/* 300 bytes of "é" (2 bytes each): cut on a character boundary. */
	msg = malloc(601);
	assert_non_null(msg);
	for (i = 0; i < 300; i++)
		memcpy(msg + 2 * i, "\xc3\xa9", 2);
	msg[600] = '\0';
	big = repeat('r', 500);
	assert_true(asprintf(&body, "{\"error\":{\"code\":\"%s\",\"message\":"
	    "\"%s\",\"innerError\":{\"request-id\":\"%s\","
	    "\"client-request-id\":\"%s\"}}}", big, msg, big, big) > 0);
	assert_int_equal(graphmsg_parse_error(body, strlen(body), &ge), 0);
	assert_int_equal(strlen(ge.code), sizeof(ge.code) - 1);
	assert_int_equal(strlen(ge.request_id), sizeof(ge.request_id) - 1);
	assert_int_equal(strlen(ge.client_request_id),
	    sizeof(ge.client_request_id) - 1);
	/* 255 bytes would split a character: 254 it is. */
	assert_int_equal(strlen(ge.message), 254);
	assert_memory_equal(ge.message, msg, 254);
	free(body);
	free(big);
	free(msg);

	/* Too large a body is not parsed at all. */
	big = repeat(' ', 2 * 1024 * 1024);
	memcpy(big, "{\"error\":{}}", 12);
	assert_int_equal(graphmsg_parse_error(big, strlen(big), &ge), -1);
	assert_int_equal(graphmsg_parse_error(big, 1024 * 1024, &ge), 0);
	free(big);
}

static void
test_parse_token(void **state)
{
	static const struct {
		const char	*name;
		const char	*body;
		int		 rv;
		long long	 expires;	/* when rv is 0 */
		const char	*err;		/* when rv is -1 */
	} cases[] = {
		{ "documented", "{\"token_type\":\"Bearer\","
		    "\"expires_in\":3599,\"access_token\":"
		    "\"eyJ0eXAi.eyJhdWQi.c2ln\"}", 0, 3599, NULL },
		{ "expires_in string", "{\"token_type\":\"Bearer\","
		    "\"expires_in\":\"3599\",\"ext_expires_in\":\"3599\","
		    "\"access_token\":\"eyJ0eXAi.eyJhdWQi.c2ln\"}", 0, 3599,
		    NULL },
		{ "lower-case bearer", "{\"token_type\":\"bearer\","
		    "\"expires_in\":600,\"access_token\":\"t\"}", 0, 600,
		    NULL },
		{ "no token_type", "{\"expires_in\":600,"
		    "\"access_token\":\"t\"}", 0, 600, NULL },
		{ "short life clamped", "{\"expires_in\":5,"
		    "\"access_token\":\"t\"}", 0, 60, NULL },
		{ "negative life clamped", "{\"expires_in\":\"-5\","
		    "\"access_token\":\"t\"}", 0, 60, NULL },
		{ "long life clamped", "{\"expires_in\":999999,"
		    "\"access_token\":\"t\"}", 0, 86400, NULL },
		{ "huge life clamped", "{\"expires_in\":1e300,"
		    "\"access_token\":\"t\"}", 0, 86400, NULL },
		{ "huge string clamped", "{\"expires_in\":"
		    "\"99999999999999999999999\",\"access_token\":\"t\"}", 0,
		    86400, NULL },
		{ "fractional life", "{\"expires_in\":3599.9,"
		    "\"access_token\":\"t\"}", 0, 3599, NULL },
		{ "Entra error", "{\"error\":\"invalid_client\","
		    "\"error_description\":\"AADSTS7000215: Invalid client "
		    "secret provided.\\r\\nTrace ID: 1\",\"error_codes\":"
		    "[7000215]}", -1, 0, "invalid_client: AADSTS7000215: "
		    "Invalid client secret provided.  Trace ID: 1" },
		{ "error without description", "{\"error\":\"invalid_scope\"}",
		    -1, 0, "invalid_scope" },
		{ "error and token", "{\"error\":\"x\",\"access_token\":\"t\","
		    "\"expires_in\":60}", -1, 0, "x" },
		{ "error not a string", "{\"error\":{\"code\":\"x\"}}", -1, 0,
		    "error reply" },
		{ "MAC token", "{\"token_type\":\"MAC\",\"expires_in\":600,"
		    "\"access_token\":\"t\"}", -1, 0,
		    "token_type is not Bearer" },
		{ "token_type number", "{\"token_type\":1,\"expires_in\":600,"
		    "\"access_token\":\"t\"}", -1, 0,
		    "token_type is not Bearer" },
		{ "no token", "{\"token_type\":\"Bearer\",\"expires_in\":600}",
		    -1, 0, "no access_token" },
		{ "null token", "{\"access_token\":null,\"expires_in\":600}",
		    -1, 0, "no access_token" },
		{ "empty token", "{\"access_token\":\"\",\"expires_in\":600}",
		    -1, 0, "access_token is not a usable token" },
		{ "numeric token", "{\"access_token\":12,\"expires_in\":600}",
		    -1, 0, "access_token is not a usable token" },
		{ "token with CRLF", "{\"access_token\":\"a\\r\\nX-Evil: 1\","
		    "\"expires_in\":600}", -1, 0,
		    "access_token is not a usable token" },
		{ "token with LF", "{\"access_token\":\"a\\nb\","
		    "\"expires_in\":600}", -1, 0,
		    "access_token is not a usable token" },
		{ "token with space", "{\"access_token\":\"a b\","
		    "\"expires_in\":600}", -1, 0,
		    "access_token is not a usable token" },
		{ "token with tab", "{\"access_token\":\"a\\tb\","
		    "\"expires_in\":600}", -1, 0,
		    "access_token is not a usable token" },
		{ "token with DEL", "{\"access_token\":\"a\\u007fb\","
		    "\"expires_in\":600}", -1, 0,
		    "access_token is not a usable token" },
		{ "token not ASCII", "{\"access_token\":\"a\\u00e9b\","
		    "\"expires_in\":600}", -1, 0,
		    "access_token is not a usable token" },
		{ "token with NUL", "{\"access_token\":\"a\\u0000b\","
		    "\"expires_in\":600}", -1, 0,
		    "reply is not a JSON object" },
		{ "no expires_in", "{\"access_token\":\"t\"}", -1, 0,
		    "expires_in missing or not a number" },
		{ "expires_in word", "{\"access_token\":\"t\","
		    "\"expires_in\":\"soon\"}", -1, 0,
		    "expires_in missing or not a number" },
		{ "expires_in bool", "{\"access_token\":\"t\","
		    "\"expires_in\":true}", -1, 0,
		    "expires_in missing or not a number" },
		{ "array", "[{\"access_token\":\"t\",\"expires_in\":60}]",
		    -1, 0, "reply is not a JSON object" },
		{ "HTML", "<html>", -1, 0, "reply is not a JSON object" },
	};
	char		*token, err[128];
	long long	 exp;
	size_t		 i;
	int		 rv;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].name;
		token = (char *)1;
		exp = -7;
		rv = graphmsg_parse_token(cases[i].body, strlen(cases[i].body),
		    &token, &exp, err, sizeof(err));
		expect_int("rv", rv, cases[i].rv);
		if (rv == 0) {
			assert_non_null(token);
			expect_int("expires_in", exp, cases[i].expires);
			free(token);
		} else {
			assert_null(token);
			expect_str("err", err, cases[i].err);
		}
	}
}

static void
test_parse_token_edges(void **state)
{
	const char	*text;
	char		*tok, *body, *token, err[16];
	long long	 exp;

	(void)state;
	current_case = "token length";
	tok = repeat('A', GRAPHMSG_MAX_TOKEN);
	body = wrap("{\"expires_in\":3600,\"access_token\":\"", tok, "\"}");
	assert_int_equal(graphmsg_parse_token(body, strlen(body), &token, &exp,
	    err, sizeof(err)), 0);
	assert_string_equal(token, tok);
	free(token);
	free(body);
	free(tok);
	tok = repeat('A', GRAPHMSG_MAX_TOKEN + 1);
	body = wrap("{\"expires_in\":3600,\"access_token\":\"", tok, "\"}");
	assert_int_equal(graphmsg_parse_token(body, strlen(body), &token, &exp,
	    NULL, 0), -1);
	assert_null(token);
	free(body);
	free(tok);

	/* A short error buffer is cut and terminated. */
	text = "{\"error\":\"invalid_client\",\"error_description\":\"long\"}";
	assert_int_equal(graphmsg_parse_token(text, strlen(text), &token, &exp,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "invalid_client:");
	assert_int_equal(graphmsg_parse_token(text, strlen(text), NULL, &exp,
	    err, sizeof(err)), -1);
	assert_int_equal(graphmsg_parse_token(text, strlen(text), &token, NULL,
	    NULL, 0), -1);
	assert_int_equal(graphmsg_parse_token(NULL, 0, &token, &exp, err,
	    sizeof(err)), -1);
	assert_null(token);
	assert_string_equal(err, "reply is empty");
}

static void
test_op_status(void **state)
{
	static const struct {
		const char	*text;
		enum op_status	 want;
	} cases[] = {
		{ "notStarted", OP_STATUS_NOT_STARTED },
		{ "NotStarted", OP_STATUS_NOT_STARTED },
		{ "notstarted", OP_STATUS_NOT_STARTED },
		{ "running", OP_STATUS_RUNNING },
		{ "Running", OP_STATUS_RUNNING },
		{ "completed", OP_STATUS_COMPLETED },
		{ "COMPLETED", OP_STATUS_COMPLETED },
		{ "failed", OP_STATUS_FAILED },
		{ "Failed", OP_STATUS_FAILED },
		{ "unknownFutureValue", OP_STATUS_UNKNOWN },
		{ "complete", OP_STATUS_UNKNOWN },
		{ "", OP_STATUS_UNKNOWN },
		{ NULL, OP_STATUS_UNKNOWN },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].text != NULL ? cases[i].text : "(null)";
		expect_int("status", graphmsg_op_status(cases[i].text),
		    cases[i].want);
	}
	assert_string_equal(graphmsg_op_status_name(OP_STATUS_UNKNOWN),
	    "unknown");
	assert_string_equal(graphmsg_op_status_name(OP_STATUS_NOT_STARTED),
	    "notStarted");
	assert_string_equal(graphmsg_op_status_name(OP_STATUS_RUNNING),
	    "running");
	assert_string_equal(graphmsg_op_status_name(OP_STATUS_COMPLETED),
	    "completed");
	assert_string_equal(graphmsg_op_status_name(OP_STATUS_FAILED),
	    "failed");
	assert_string_equal(graphmsg_op_status_name((enum op_status)99),
	    "unknown");
	assert_string_equal(graphmsg_op_status_name((enum op_status)-1),
	    "unknown");
}

static void
test_parse_operation(void **state)
{
	static const struct {
		const char	*name;
		const char	*body;
		int		 rv;
		enum op_status	 status;
		const char	*id, *ctx;
		long long	 code, subcode;
		const char	*message;
	} cases[] = {
		{ "documented", "{\"@odata.type\":"
		    "\"#microsoft.graph.updateRecordingStatusOperation\","
		    "\"clientContext\":\"clientContext-value\",\"id\":"
		    "\"0fe0623f-d628-42ed-b4bd-8ac290072cc5\",\"resultInfo\":"
		    "null,\"status\":\"completed\"}", 0, OP_STATUS_COMPLETED,
		    "0fe0623f-d628-42ed-b4bd-8ac290072cc5",
		    "clientContext-value", -1, -1, "" },
		{ "failed with result", "{\"status\":\"Failed\",\"id\":\"o1\","
		    "\"resultInfo\":{\"code\":\"400\",\"subcode\":\"8506\","
		    "\"message\":\"API call not allowed\"}}", 0,
		    OP_STATUS_FAILED, "o1", "", 400, 8506,
		    "API call not allowed" },
		{ "numeric result", "{\"status\":\"running\",\"resultInfo\":"
		    "{\"code\":200,\"subcode\":0}}", 0, OP_STATUS_RUNNING, "",
		    "", 200, 0, "" },
		{ "bad result codes", "{\"resultInfo\":{\"code\":-3,"
		    "\"subcode\":2.5,\"message\":7}}", 0, OP_STATUS_UNKNOWN, "",
		    "", -1, -1, "" },
		{ "word codes", "{\"resultInfo\":{\"code\":\"ok\","
		    "\"subcode\":\"\"}}", 0, OP_STATUS_UNKNOWN, "", "", -1, -1,
		    "" },
		{ "unknown status", "{\"status\":\"paused\"}", 0,
		    OP_STATUS_UNKNOWN, "", "", -1, -1, "" },
		{ "status not a string", "{\"status\":3,\"id\":[]}", 0,
		    OP_STATUS_UNKNOWN, "", "", -1, -1, "" },
		{ "empty object", "{}", 0, OP_STATUS_UNKNOWN, "", "", -1, -1,
		    "" },
		{ "array", "[]", -1, OP_STATUS_UNKNOWN, "", "", -1, -1, "" },
		{ "number", "200", -1, OP_STATUS_UNKNOWN, "", "", -1, -1, "" },
		{ "empty", "", -1, OP_STATUS_UNKNOWN, "", "", -1, -1, "" },
	};
	struct comms_operation	 op;
	char			*ctx, *body;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].name;
		memset(&op, 'X', sizeof(op));
		expect_int("rv", graphmsg_parse_operation(cases[i].body,
		    strlen(cases[i].body), &op), cases[i].rv);
		expect_int("status", op.status, cases[i].status);
		expect_str("id", op.id, cases[i].id);
		expect_str("clientContext", op.client_context, cases[i].ctx);
		expect_int("code", op.code, cases[i].code);
		expect_int("subcode", op.subcode, cases[i].subcode);
		expect_str("message", op.message, cases[i].message);
	}

	/* A context longer than Graph allows is cut, not overrun. */
	current_case = "long clientContext";
	ctx = repeat('z', 300);
	body = wrap("{\"clientContext\":\"", ctx, "\"}");
	assert_int_equal(graphmsg_parse_operation(body, strlen(body), &op), 0);
	assert_int_equal(strlen(op.client_context), GRAPHMSG_MAX_CONTEXT);
	free(body);
	free(ctx);
	assert_int_equal(graphmsg_parse_operation("{}", 2, NULL), -1);
}

static void
test_parse_blob(void **state)
{
	static const struct {
		const char	*name;
		const char	*body;
		const char	*blob;		/* NULL: refused */
		const char	*err;
	} cases[] = {
		{ "plain", "{\"blob\":\"abc\"}", "abc", NULL },
		{ "escapes", "{\"blob\":\"a\\\"b\\\\c\\u00e9\"}",
		    "a\"b\\c\xc3\xa9", NULL },
		{ "extra members", "{\"v\":1,\"blob\":\"x\",\"ttl\":5}", "x",
		    NULL },
		{ "empty blob", "{\"blob\":\"\"}", NULL, "blob is empty" },
		{ "null blob", "{\"blob\":null}", NULL, "no blob" },
		{ "no blob", "{\"error\":\"busy\"}", NULL, "no blob" },
		{ "numeric blob", "{\"blob\":5}", NULL,
		    "blob is not a string" },
		{ "object blob", "{\"blob\":{}}", NULL,
		    "blob is not a string" },
		{ "array", "[\"blob\"]", NULL, "reply is not a JSON object" },
		{ "not JSON", "blob", NULL, "reply is not a JSON object" },
	};
	char	*blob, *big, *body, err[64];
	size_t	 i;
	int	 rv;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].name;
		blob = (char *)1;
		rv = graphmsg_parse_blob(cases[i].body, strlen(cases[i].body),
		    &blob, err, sizeof(err));
		expect_int("rv", rv, cases[i].blob != NULL ? 0 : -1);
		if (rv == 0) {
			expect_str("blob", blob, cases[i].blob);
			free(blob);
		} else {
			assert_null(blob);
			expect_str("err", err, cases[i].err);
		}
	}

	current_case = "blob size";
	big = repeat('b', GRAPHMSG_MAX_BLOB);
	body = wrap("{\"blob\":\"", big, "\"}");
	assert_int_equal(graphmsg_parse_blob(body, strlen(body), &blob, err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(blob), GRAPHMSG_MAX_BLOB);
	free(blob);
	free(body);
	free(big);
	big = repeat('b', GRAPHMSG_MAX_BLOB + 1);
	body = wrap("{\"blob\":\"", big, "\"}");
	assert_int_equal(graphmsg_parse_blob(body, strlen(body), &blob, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "blob too large");
	assert_null(blob);
	free(body);
	free(big);
	/* Past what any reply may be, whatever it holds. */
	big = repeat(' ', 1024 * 1024 + 1);
	assert_int_equal(graphmsg_parse_blob(big, strlen(big), &blob, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "reply is too large");
	free(big);
	assert_int_equal(graphmsg_parse_blob("{}", 2, NULL, NULL, 0), -1);
}

static void
test_parse_media_event(void **state)
{
	static const struct {
		const char		*name;
		const char		*body;
		enum media_event_kind	 kind;	/* 0: refused */
		const char		*call_id;
		const char		*reason;
		const char		*err;
	} cases[] = {
		{ "started", "{\"callId\":\"c1\",\"event\":\"captureStarted\"}",
		    MEDIA_CAPTURE_STARTED, "c1", "", NULL },
		{ "stopped any case", "{\"callId\":\"c1\",\"event\":"
		    "\"CAPTURESTOPPED\",\"reason\":\"agent shutdown\"}",
		    MEDIA_CAPTURE_STOPPED, "c1", "agent shutdown", NULL },
		{ "failed", "{\"event\":\"capturefailed\",\"callId\":"
		    "\"e71f0300-9c1f-4d99-b5f4-2722e877d497\",\"reason\":"
		    "\"socket\\nclosed\"}", MEDIA_CAPTURE_FAILED,
		    "e71f0300-9c1f-4d99-b5f4-2722e877d497", "socket closed",
		    NULL },
		{ "reason not a string", "{\"callId\":\"c\",\"event\":"
		    "\"captureStarted\",\"reason\":42}", MEDIA_CAPTURE_STARTED,
		    "c", "", NULL },
		{ "call id with space", "{\"callId\":\"a b\",\"event\":"
		    "\"captureStarted\"}", MEDIA_CAPTURE_STARTED, "a b", "",
		    NULL },
		{ "unknown event", "{\"callId\":\"c1\",\"event\":"
		    "\"captureStarting\"}", 0, "", "", "unknown event" },
		{ "no event", "{\"callId\":\"c1\"}", 0, "", "", "no event" },
		{ "event number", "{\"callId\":\"c1\",\"event\":1}", 0, "", "",
		    "no event" },
		{ "no call id", "{\"event\":\"captureStarted\"}", 0, "", "",
		    "no callId" },
		{ "empty call id", "{\"callId\":\"\",\"event\":"
		    "\"captureStarted\"}", 0, "", "",
		    "callId is not a valid call id" },
		{ "call id with LF", "{\"callId\":\"a\\nb\",\"event\":"
		    "\"captureStarted\"}", 0, "", "",
		    "callId is not a valid call id" },
		{ "call id not ASCII", "{\"callId\":\"a\\u00e9\",\"event\":"
		    "\"captureStarted\"}", 0, "", "",
		    "callId is not a valid call id" },
		{ "array", "[]", 0, "", "", "body is not a JSON object" },
	};
	struct media_event	 ev;
	char			 err[64], *id, *body;
	size_t			 i;
	int			 rv;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].name;
		memset(&ev, 'X', sizeof(ev));
		rv = graphmsg_parse_media_event(cases[i].body,
		    strlen(cases[i].body), &ev, err, sizeof(err));
		expect_int("rv", rv, cases[i].kind != 0 ? 0 : -1);
		expect_int("kind", ev.kind, cases[i].kind);
		expect_str("callId", ev.call_id, cases[i].call_id);
		expect_str("reason", ev.reason, cases[i].reason);
		if (rv == -1)
			expect_str("err", err, cases[i].err);
	}

	current_case = "call id length";
	id = repeat('i', 256);
	body = wrap("{\"event\":\"captureStopped\",\"callId\":\"", id, "\"}");
	assert_int_equal(graphmsg_parse_media_event(body, strlen(body), &ev,
	    err, sizeof(err)), 0);
	assert_string_equal(ev.call_id, id);
	free(body);
	free(id);
	id = repeat('i', 257);
	body = wrap("{\"event\":\"captureStopped\",\"callId\":\"", id, "\"}");
	assert_int_equal(graphmsg_parse_media_event(body, strlen(body), &ev,
	    err, sizeof(err)), -1);
	free(body);
	free(id);

	current_case = "long reason";
	id = repeat('r', 1000);
	body = wrap("{\"event\":\"captureFailed\",\"callId\":\"c\","
	    "\"reason\":\"", id, "\"}");
	assert_int_equal(graphmsg_parse_media_event(body, strlen(body), &ev,
	    NULL, 0), 0);
	assert_int_equal(strlen(ev.reason), sizeof(ev.reason) - 1);
	free(body);
	free(id);
	assert_int_equal(graphmsg_parse_media_event("{}", 2, NULL, err,
	    sizeof(err)), -1);

	assert_string_equal(graphmsg_media_event_name(MEDIA_CAPTURE_STARTED),
	    "captureStarted");
	assert_string_equal(graphmsg_media_event_name(MEDIA_CAPTURE_STOPPED),
	    "captureStopped");
	assert_string_equal(graphmsg_media_event_name(MEDIA_CAPTURE_FAILED),
	    "captureFailed");
	assert_string_equal(graphmsg_media_event_name(
	    (enum media_event_kind)0), "unknown");
	assert_string_equal(graphmsg_media_event_name(
	    (enum media_event_kind)17), "unknown");
}

static void
test_retry_after(void **state)
{
	static const struct {
		const char	*value;
		long long	 now;
		long long	 want;
	} cases[] = {
		{ "120", 0, 120 },
		{ "0", 0, 0 },
		{ "007", 0, 7 },
		{ " 5\t", 0, 5 },
		{ "86400", 0, 86400 },
		{ "86401", 0, 86400 },
		{ "99999999999999999999999999999", 0, 86400 },
		{ "-1", 0, -1 },
		{ "+5", 0, -1 },
		{ "1.5", 0, -1 },
		{ "5s", 0, -1 },
		{ "1 2", 0, -1 },
		{ "", 0, -1 },
		{ "   ", 0, -1 },
		{ "soon", 0, -1 },
		{ "0x10", 0, -1 },
		{ DATE_IMF, DATE_T - 120, 120 },
		{ DATE_IMF, DATE_T, 0 },
		{ DATE_IMF, DATE_T + 3600, 0 },
		{ DATE_IMF, DATE_T - 86400, 86400 },
		{ DATE_IMF, DATE_T - 100000, 86400 },
		{ DATE_IMF, -9223372036854775807LL, 86400 },
		{ DATE_IMF, 9223372036854775807LL, 0 },
		{ " " DATE_IMF " ", DATE_T - 1, 1 },
		{ "Wednesday, 21-Oct-15 07:28:00 GMT", DATE_T - 60, 60 },
		{ "Wed Oct 21 07:28:00 2015", DATE_T - 30, 30 },
		{ "Wed, 31 Feb 2015 07:28:00 GMT", 0, -1 },
		{ "Wed, 21 Oct 2015 25:28:00 GMT", 0, -1 },
		{ "Wed, 21 Oct 2015 07:28:00 PST", 0, -1 },
		{ "Wed, 21 Oct 2015 07:28:00", 0, -1 },
		{ "Wed, 21 Oct 2015 07:28:00 GMT junk", 0, -1 },
		{ "Wed, 21 Foo 2015 07:28:00 GMT", 0, -1 },
		{ "2015-10-21T07:28:00Z", 0, -1 },
		{ "Wed, 21 Oct 2015 07:28:00 GMT                          "
		    "                                             ", 0, -1 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		current_case = cases[i].value;
		expect_int("delay", graphmsg_retry_after(cases[i].value,
		    cases[i].now), cases[i].want);
	}
	assert_int_equal(graphmsg_retry_after(NULL, 0), -1);
}

static void
test_uuid(void **state)
{
	char	 u[37], prev[37];
	size_t	 i, j;

	(void)state;
	prev[0] = '\0';
	for (i = 0; i < 1000; i++) {
		memset(u, 'X', sizeof(u));
		graphmsg_uuid(u);
		assert_int_equal(strlen(u), 36);
		for (j = 0; j < 36; j++) {
			if (j == 8 || j == 13 || j == 18 || j == 23)
				assert_int_equal(u[j], '-');
			else
				assert_non_null(strchr("0123456789abcdef",
				    u[j]));
		}
		assert_int_equal(u[14], '4');
		assert_non_null(strchr("89ab", u[19]));
		assert_string_not_equal(u, prev);
		memcpy(prev, u, sizeof(u));
	}
}

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_service),
		cmocka_unit_test(test_answer_app),
		cmocka_unit_test(test_answer_capacity),
		cmocka_unit_test(test_answer_bad),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_recording_status),
		cmocka_unit_test(test_media_request),
		cmocka_unit_test(test_parse_error),
		cmocka_unit_test(test_parse_error_truncation),
		cmocka_unit_test(test_parse_token),
		cmocka_unit_test(test_parse_token_edges),
		cmocka_unit_test(test_op_status),
		cmocka_unit_test(test_parse_operation),
		cmocka_unit_test(test_parse_blob),
		cmocka_unit_test(test_parse_media_event),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_uuid),
	};

	return cmocka_run_group_tests_name("graphmsg", tests, setup, NULL);
}
