/* Unit tests for the polrecd.conf parser (lib/conf.c). */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

static struct conf *
parse_ok(const char *text)
{
	struct conf	*c = NULL;
	char		*errs = NULL;

	if (conf_parse("t.conf", text, strlen(text), &c, &errs) != 0)
		fail_msg("unexpected errors:\n%s", errs);
	assert_null(errs);
	assert_non_null(c);
	return c;
}

/* Parse must fail, and the first error must contain `want`. */
static void
parse_fails(const char *text, const char *want)
{
	struct conf	*c = NULL;
	char		*errs = NULL;

	assert_int_equal(conf_parse("t.conf", text, strlen(text), &c, &errs),
	    -1);
	assert_null(c);
	assert_non_null(errs);
	if (strstr(errs, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", errs, want);
	free(errs);
}

static void
test_defaults(void **state)
{
	struct conf	*c;

	(void)state;
	c = parse_ok("[graph]\napp_id = 0efc74f7-41c3-47a4-8775-7259bfef4241\n");
	assert_string_equal(c->http_listen, "0.0.0.0:8443");
	assert_string_equal(c->http_notification_path, "/api/calling");
	assert_int_equal(c->http_max_body, 1024 * 1024);
	assert_string_equal(c->graph_base_url,
	    "https://graph.microsoft.com/v1.0");
	assert_int_equal(c->auth_mode, AUTH_MODE_JWT);
	assert_int_equal(c->recording_participant_capacity, 1);
	assert_int_equal(c->recording_media, MEDIA_SERVICE);
	assert_int_equal(c->recording_capture_source, CAPTURE_SOURCE_NONE);
	assert_null(c->http_tls_cert);
	assert_string_equal(c->http_tls_ciphers, CONF_TLS_CIPHERS_DEFAULT);
	assert_int_equal(c->graph_allow_plain_http, 0);
	assert_string_equal(c->auth_issuers[0], "https://api.botframework.com");
	assert_string_equal(c->auth_issuers[1], "https://graph.microsoft.com");
	assert_null(c->auth_issuers[2]);
	assert_null(c->auth_tenants[0]);
	assert_int_equal(c->auth_clock_skew, 300);
	assert_int_equal(c->auth_key_refresh, 7200);
	assert_int_equal(c->http_max_connections, 4096);
	assert_string_equal(c->recording_tenants[0], "*");
	assert_string_equal(c->recording_policies[0], "*");
	assert_int_equal(c->recording_max_calls, 1000);
	assert_int_equal(c->recording_answer_budget_ms, 2500);
	assert_string_equal(c->recording_accepted_modalities[0], "audio");
	assert_null(c->recording_accepted_modalities[1]);
	assert_int_equal(c->recording_delta_roster, 0);
	assert_int_equal(c->recording_keepalive_interval, 900);
	assert_null(c->recording_media_agent_url);
	assert_string_equal(c->recording_media_events_path, "/api/media");
	assert_int_equal(c->recording_overflow, OVERFLOW_INVITE);
	assert_null(c->recording_invite_url);
	conf_free(c);
}

static void
test_every_directive(void **state)
{
	struct conf	*c;

	(void)state;
	c = parse_ok(
	    "# comment\n"
	    "; another\n"
	    "[http]\n"
	    "listen = 127.0.0.1:0\n"
	    "notification_path = /api/calls\n"
	    "callback_url = https://bot.example.com/api/calls ; inline\n"
	    "tls_cert = /etc/c.pem\n"
	    "tls_key = /etc/k.pem\n"
	    "max_body_size = 2048\n"
	    "tls_ciphers = ECDHE+AESGCM\n"
	    "[graph]\n"
	    "allow_plain_http = yes\n"
	    "base_url = http://127.0.0.1:9/v1.0\n"
	    "token_url = http://127.0.0.1:9/t/oauth2/v2.0/token\n"
	    "app_id = 0efc74f7-41c3-47a4-8775-7259bfef4241\n"
	    "tenant_id = 932899F8-2EA1-4604-8413-27BD2892079F\n"
	    "client_cert_file = /etc/cc.pem\n"
	    "client_key_file = /etc/ck.pem\n"
	    "[auth]\n"
	    "mode = none\n"
	    "openid_configuration_url = http://127.0.0.1:9/oidc\n"
	    "issuers = https://a.example, https://b.example\n"
	    "tenants = 932899f8-2ea1-4604-8413-27bd2892079f\n"
	    "clock_skew = 60\n"
	    "[recording]\n"
	    "participant_capacity = 200\n"
	    "media = app\n"
	    "capture_source = agent\n"
	    "tenants = 932899f8-2ea1-4604-8413-27bd2892079f *\n"
	    "policies = Test Policy, TeamsComplianceRecordingPolicy=Tenant:x  ,\n"
	    "max_calls = 50\n"
	    "answer_budget_ms = 1200\n"
	    "accepted_modalities = audio video\n"
	    "delta_roster = yes\n"
	    "keepalive_interval = 600\n"
	    "media_agent_url = http://10.0.0.5:9440/media\n"
	    "media_agent_secret_file = /etc/ma\n"
	    "media_events_path = /api/events\n"
	    "overflow = invite\n"
	    "invite_url = https://bot2.example.com/api/calling\n"
	    "[audit]\n"
	    "database = /tmp/a.db\n"
	    "key_dir = \"/tmp/keys dir\"\n"
	    "retention_min = 7y\n"
	    "group = polrec-audit\n"
	    "[control]\n"
	    "socket = /tmp/ctl.sock\r\n"
	    "group = adm\n");
	assert_string_equal(c->http_listen, "127.0.0.1:0");
	assert_string_equal(c->http_notification_path, "/api/calls");
	assert_string_equal(c->http_callback_url,
	    "https://bot.example.com/api/calls");
	assert_string_equal(c->http_tls_key, "/etc/k.pem");
	assert_int_equal(c->http_max_body, 2048);
	assert_string_equal(c->http_tls_ciphers, "ECDHE+AESGCM");
	assert_int_equal(c->graph_allow_plain_http, 1);
	assert_string_equal(c->graph_app_id,
	    "0efc74f7-41c3-47a4-8775-7259bfef4241");
	assert_string_equal(c->graph_client_key_file, "/etc/ck.pem");
	assert_int_equal(c->auth_mode, AUTH_MODE_NONE);
	assert_string_equal(c->auth_issuers[0], "https://a.example");
	assert_string_equal(c->auth_issuers[1], "https://b.example");
	assert_null(c->auth_issuers[2]);
	assert_string_equal(c->auth_tenants[0],
	    "932899f8-2ea1-4604-8413-27bd2892079f");
	assert_int_equal(c->auth_clock_skew, 60);
	assert_int_equal(c->recording_participant_capacity, 200);
	assert_int_equal(c->recording_media, MEDIA_APP);
	assert_int_equal(c->recording_capture_source, CAPTURE_SOURCE_AGENT);
	assert_string_equal(c->recording_tenants[1], "*");
	/* Policies split on commas only: identifiers may hold spaces. */
	assert_string_equal(c->recording_policies[0], "Test Policy");
	assert_string_equal(c->recording_policies[1],
	    "TeamsComplianceRecordingPolicy=Tenant:x");
	assert_null(c->recording_policies[2]);
	assert_int_equal(c->recording_max_calls, 50);
	assert_int_equal(c->recording_answer_budget_ms, 1200);
	assert_string_equal(c->recording_accepted_modalities[1], "video");
	assert_int_equal(c->recording_delta_roster, 1);
	assert_int_equal(c->recording_keepalive_interval, 600);
	assert_string_equal(c->recording_media_agent_url,
	    "http://10.0.0.5:9440/media");
	assert_string_equal(c->recording_media_agent_secret_file, "/etc/ma");
	assert_string_equal(c->recording_media_events_path, "/api/events");
	assert_int_equal(c->recording_overflow, OVERFLOW_INVITE);
	assert_string_equal(c->recording_invite_url,
	    "https://bot2.example.com/api/calling");
	assert_string_equal(c->audit_key_dir, "/tmp/keys dir");
	assert_string_equal(c->control_socket, "/tmp/ctl.sock");
	assert_true(c->audit_retention_min == 7 * 366 * 86400LL);
	assert_string_equal(c->audit_group, "polrec-audit");
	assert_string_equal(c->control_group, "adm");
	conf_free(c);
}

/*
 * [admin]: the listener on loopback by default, or off; quiet_alarm in
 * minutes unless a unit says otherwise (tests use seconds).
 */
static void
test_admin(void **state)
{
	struct conf	*c;

	(void)state;
	c = parse_ok("[auth]\nmode = none\n");
	assert_string_equal(c->admin_listen, "127.0.0.1:9464");
	assert_int_equal(c->admin_quiet_alarm, 15 * 60);
	assert_int_equal(c->admin_alarm_window, 300);
	assert_int_equal(c->admin_clock_max_error_ms, 100);
	assert_int_equal(c->admin_token_alarm, 300);
	assert_int_equal(c->admin_checkpoint_alarm, 600);
	conf_free(c);
	c = parse_ok("[auth]\nmode = none\n"
	    "[admin]\nlisten = off\nquiet_alarm = 0\n"
	    "alarm_window = 3s\nclock_max_error_ms = 5\n"
	    "token_alarm = 0\ncheckpoint_alarm = 1h\n");
	assert_string_equal(c->admin_listen, "off");
	assert_int_equal(c->admin_quiet_alarm, 0);
	assert_int_equal(c->admin_alarm_window, 3);
	assert_int_equal(c->admin_clock_max_error_ms, 5);
	assert_int_equal(c->admin_checkpoint_alarm, 3600);
	conf_free(c);
	c = parse_ok("[auth]\nmode = none\n"
	    "[admin]\nlisten = [::1]:0\nquiet_alarm = 4s\n");
	assert_int_equal(c->admin_quiet_alarm, 4);
	conf_free(c);
	c = parse_ok("[auth]\nmode = none\n[admin]\nquiet_alarm = 2h\n");
	assert_int_equal(c->admin_quiet_alarm, 7200);
	conf_free(c);
	parse_fails("[admin]\nlisten = 9464\n", "listen: expected ADDR:PORT");
	parse_fails("[admin]\nquiet_alarm = 8d\n", "quiet_alarm: expected");
	parse_fails("[admin]\nquiet_alarm = 20000\n", "quiet_alarm: expected");
	parse_fails("[admin]\nquiet_alarm = -1\n", "quiet_alarm: expected");
	parse_fails("[admin]\nclock_max_error_ms = 0\n",
	    "clock_max_error_ms");
}

/* Durations: a unit suffix or seconds; a year is 366 days. */
#define TA	"932899f8-2ea1-4604-8413-27bd2892079f"
#define TB	"7a1b2c3d-0000-4000-8000-0000000000b2"
#define TC	"0c0c0c0c-0000-4000-8000-00000000000c"

/*
 * The tenants served: one list, [tenants] ids, or folded from the old
 * [graph] tenant_id, [auth] tenants and [recording] tenants, with a
 * warning naming the line to write; old settings that disagree are an
 * error, never a guess.
 */
static void
test_tenants_fold(void **state)
{
	static const struct {
		const char	*text;
		const char	*served;	/* space-separated; NULL: error */
		const char	*msg;		/* in the warnings or errors */
	} cases[] = {
		{ "[tenants]\nids = " TA " " TB "\n", TA " " TB, NULL },
		{ "[tenants]\nids = " TA "\n", TA, NULL },
		/* Upper case GUIDs are the same tenants, kept lower case. */
		{ "[tenants]\nids = 932899F8-2EA1-4604-8413-27BD2892079F, " TB
		    "\n", TA " " TB, NULL },
		{ "[tenants]\nids = " TA ", " TA "\n", NULL, "listed twice" },
		{ "[tenants]\nids = ,\n", NULL, "ids is empty" },
		{ "[tenants]\nids = contoso.com\n", NULL,
		    "is not a tenant id (a GUID)" },
		{ "[tenants]\nids = *\n", NULL, "is not a tenant id" },
		{ "[tenants]\nids = " TA "\n[graph]\ntenant_id = " TA "\n", NULL,
		    "[graph] tenant_id: replaced by [tenants] ids (line 4)" },
		{ "[tenants]\nids = " TA "\n[recording]\ntenants = *\n", NULL,
		    "[recording] tenants: replaced by [tenants] ids" },
		{ "[tenants]\nids = " TA "\n[auth]\ntenants = " TA "\n", NULL,
		    "[auth] tenants: replaced by [tenants] ids" },
		/* The old names still work, with a warning. */
		{ "[graph]\ntenant_id = " TA "\n", TA,
		    "t.conf:4: [graph] tenant_id is an old name: write "
		    "[tenants] ids = " TA },
		{ "[graph]\ntenant_id = " TA "\n[recording]\ntenants = " TA
		    "\n", TA, "[recording] tenants is an old name" },
		{ "[graph]\ntenant_id = " TA "\n[auth]\ntenants = " TA ", " TB
		    "\n", TA " " TB, "write [tenants] ids = " TA " " TB },
		{ "[auth]\ntenants = " TA " " TB "\n[recording]\ntenants = " TB
		    " " TA "\n", TA " " TB, "[auth] tenants is an old name" },
		{ "[graph]\ntenant_id = " TA "\n[recording]\ntenants = *\n", TA,
		    "tenants = * no longer serves any tenant" },
		{ "[graph]\ntenant_id = " TA "\n[auth]\ntenants = *\n", TA,
		    "only " TA " is served" },
		/* Old settings that disagree: refused, with the fix. */
		{ "[graph]\ntenant_id = " TA "\n[auth]\ntenants = " TA " " TB
		    "\n[recording]\ntenants = " TA "\n", NULL,
		    "t.conf:8: [recording] tenants and [auth] tenants (line 6) "
		    "name different tenants; write the tenants served once, "
		    "as [tenants] ids" },
		{ "[graph]\ntenant_id = " TA "\n[recording]\ntenants = " TB
		    "\n", NULL, "tenant_id " TA " is not among the tenants of "
		    "[recording] tenants" },
		{ "[recording]\ntenants = " TA " Contoso\n", NULL,
		    "\"Contoso\" is not a tenant id" },
		/* None: allowed, said. */
		{ "", "", "no tenants are served" },
		{ "[recording]\ntenants = *\n", "", "no tenants are served" },
		/* Several tenants need {tenant} in a token_url. */
		{ "[tenants]\nids = " TA " " TB "\n[graph]\ntoken_url = "
		    "https://login.example/" TA "/token\n", NULL,
		    "token_url has no {tenant} and 2 tenants are served" },
		{ "[tenants]\nids = " TA "\n[graph]\ntoken_url = "
		    "https://login.example/" TA "/token\n", TA, NULL },
		{ "[tenants]\nids = " TA " " TB " " TC "\n[graph]\ntoken_url = "
		    "https://login.example/{tenant}/token\n", TA " " TB " " TC,
		    NULL },
	};
	struct conf	*c;
	char		 text[1024], got[512];
	size_t		 i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[graph]\napp_id = "
		    "0efc74f7-41c3-47a4-8775-7259bfef4241\n%s", cases[i].text);
		if (cases[i].served == NULL) {
			parse_fails(text, cases[i].msg);
			continue;
		}
		c = parse_ok(text);
		got[0] = '\0';
		for (j = 0; c->tenants[j] != NULL; j++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
			    "%s%s", j > 0 ? " " : "", c->tenants[j]);
		if (strcmp(got, cases[i].served) != 0)
			fail_msg("case %zu: served \"%s\", want \"%s\"", i, got,
			    cases[i].served);
		if (cases[i].msg == NULL && c->warnings != NULL)
			fail_msg("case %zu: unexpected warnings: %s", i,
			    c->warnings);
		if (cases[i].msg != NULL && (c->warnings == NULL ||
		    strstr(c->warnings, cases[i].msg) == NULL))
			fail_msg("case %zu: warnings \"%s\" lack \"%s\"", i,
			    c->warnings != NULL ? c->warnings : "",
			    cases[i].msg);
		assert_int_equal(conf_tenant_served(c, cases[i].served[0] ?
		    TA : TB), cases[i].served[0] != '\0');
		conf_free(c);
	}
}

/* The token endpoint of each tenant. */
static void
test_token_url(void **state)
{
	struct conf	*c;
	char		*u;

	(void)state;
#define APP	"[graph]\napp_id = 0efc74f7-41c3-47a4-8775-7259bfef4241\n"
	c = parse_ok(APP "[tenants]\nids = " TA " " TB "\n");
	u = conf_token_url(c, TB);
	assert_string_equal(u, "https://login.microsoftonline.com/" TB
	    "/oauth2/v2.0/token");
	free(u);
	assert_true(conf_tenant_served(c,
	    "7A1B2C3D-0000-4000-8000-0000000000B2"));
	assert_false(conf_tenant_served(c, TC));
	assert_false(conf_tenant_served(c, NULL));
	conf_free(c);

	c = parse_ok(APP "[tenants]\nids = " TA "\n[graph]\ntoken_url = "
	    "https://l.example/{tenant}/x/{tenant}\n");
	u = conf_token_url(c, TA);
	assert_string_equal(u, "https://l.example/" TA "/x/" TA);
	free(u);
	conf_free(c);

	/* No placeholder: as written, for the one tenant. */
	c = parse_ok(APP "[tenants]\nids = " TA "\n[graph]\ntoken_url = "
	    "https://l.example/fixed/token\n");
	u = conf_token_url(c, TA);
	assert_string_equal(u, "https://l.example/fixed/token");
	free(u);
	conf_free(c);
}

static void
test_durations(void **state)
{
	static const struct {
		const char	*v;
		int		 ok;
		long long	 secs;
	} cases[] = {
		{ "0", 1, 0 }, { "0s", 1, 0 }, { "1s", 1, 1 }, { "90", 1, 90 },
		{ "2m", 1, 120 }, { "3h", 1, 10800 }, { "1825d", 1, 157680000 },
		{ "2w", 1, 1209600 }, { "5y", 1, 5 * 366 * 86400LL },
		{ "7y", 1, 7 * 366 * 86400LL }, { "", 0, 0 }, { "y", 0, 0 },
		{ "-1d", 0, 0 }, { "+1d", 0, 0 }, { "1.5y", 0, 0 },
		{ "1 d", 0, 0 }, { "1d ", 0, 0 }, { "5Y", 0, 0 }, { "1x", 0, 0 },
		{ "1dd", 0, 0 }, { "99999999999999999999s", 0, 0 },
		{ "9223372036854775807y", 0, 0 },
	};
	long long	 secs;
	size_t		 i;
	struct conf	*c;
	char		*errs, text[128];

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		secs = -7;
		if ((conf_parse_duration(cases[i].v, &secs) == 0) !=
		    cases[i].ok)
			fail_msg("\"%s\": ok should be %d", cases[i].v,
			    cases[i].ok);
		if (cases[i].ok && secs != cases[i].secs)
			fail_msg("\"%s\": %lld", cases[i].v, secs);
	}

	/* The default is five years; at most 100 years. */
	c = parse_ok("[auth]\nmode = none\n");
	assert_true(c->audit_retention_min == 5 * 366 * 86400LL);
	assert_null(c->audit_group);
	assert_null(c->control_group);
	conf_free(c);
	c = parse_ok("[auth]\nmode = none\n[audit]\nretention_min = 1s\n");
	assert_true(c->audit_retention_min == 1);
	conf_free(c);
	snprintf(text, sizeof(text), "[auth]\nmode = none\n[audit]\n"
	    "retention_min = 101y\n");
	assert_int_equal(conf_parse("t.conf", text, strlen(text), &c, &errs),
	    -1);
	assert_non_null(strstr(errs, "t.conf:4: retention_min: expected a "
	    "duration"));
	free(errs);
	snprintf(text, sizeof(text), "[auth]\nmode = none\n[audit]\n"
	    "group = bad group\n[control]\ngroup = -x\n");
	assert_int_equal(conf_parse("t.conf", text, strlen(text), &c, &errs),
	    -1);
	assert_non_null(strstr(errs, "t.conf:4: group: expected a group"));
	assert_non_null(strstr(errs, "t.conf:6: group: expected a group"));
	free(errs);
}

static const struct {
	const char	*text;
	const char	*error;
} bad[] = {
	{ "[http]\nlisten = 1.2.3.4:8443\nbogus = 1\n",
	    "t.conf:3: unknown directive bogus in [http]" },
	{ "listen = 1.2.3.4:1\n", "t.conf:1: listen: directive outside" },
	{ "[nosuch]\nx = 1\n", "t.conf:1: unknown section [nosuch]" },
	{ "[http\n", "t.conf:1: missing ]" },
	{ "[http] junk\n", "text after [http]" },
	{ "[http]\nlisten\n", "t.conf:2: expected key = value" },
	{ "[http]\n= 3\n", "missing directive name" },
	{ "[http]\nListen = 1.2.3.4:1\n", "bad directive name" },
	{ "[http]\nlisten =\n", "listen: missing value" },
	{ "[http]\nlisten = 8443\n", "listen: expected ADDR:PORT" },
	{ "[http]\nlisten = 1.2.3.4:70000\n", "listen: expected ADDR:PORT" },
	{ "[http]\nlisten = ::1:80\n", "listen: expected ADDR:PORT" },
	{ "[http]\nlisten = 1.1.1.1:1\nlisten = 1.1.1.1:2\n",
	    "t.conf:3: listen: already set at line 2" },
	{ "[http]\nnotification_path = api\n", "notification_path: expected" },
	{ "[http]\ncallback_url = ftp://x\n", "callback_url: expected an http" },
	{ "[http]\ncallback_url = \"https://x\" y\n", "text after quoted" },
	{ "[http]\ncallback_url = \"https://x\n", "unterminated quoted" },
	{ "[http]\nmax_body_size = 10\n", "max_body_size: too small" },
	{ "[http]\nmax_body_size = 1e6\n", "max_body_size: invalid" },
	{ "[http]\nmax_body_size = 99999999999999999999\n",
	    "max_body_size: too large" },
	{ "[http]\ntls_cert = /a\n", "tls_cert and tls_key go together" },
	{ "[http]\ntls_key = /a\n", "tls_cert and tls_key go together" },
	{ "[http]\ntls_key = relative.pem\n", "expected an absolute path" },
	{ "[graph]\napp_id = not-a-guid\n", "app_id: expected a GUID" },
	{ "[graph]\napp_id = 0efc74f7-41c3-47a4-8775-7259bfef42411\n",
	    "app_id: expected a GUID" },
	{ "[graph]\nclient_cert_file = /a\n", "go together" },
	{ "[graph]\nclient_secret_file = /s\nclient_cert_file = /a\n"
	    "client_key_file = /b\n", "t.conf:2: use either" },
	{ "[auth]\nmode = maybe\n", "mode: not one of the allowed values" },
	{ "[recording]\nparticipant_capacity = 0\n", "too small" },
	{ "[recording]\nparticipant_capacity = -5\n", "too small" },
	{ "[recording]\nmedia = both\n", "media: not one of" },
	{ "[auth]\nmode = jwt\n", "mode = jwt needs [graph] app_id" },
	{ "[auth]\nclock_skew = 4000\n", "clock_skew: too large" },
	{ "[auth]\nkey_refresh = 5\n", "key_refresh: too small" },
	{ "[auth]\nissuers = a b c d e f g h i j k l m n o p q\n",
	    "too many items" },
	{ "[http]\nrequest_timeout = 0\n", "request_timeout: too small" },
	{ "[recording]\nmedia = app\n", "media = app needs media_agent_url" },
	{ "[recording]\naccepted_modalities = audio data\n",
	    "unknown modality \"data\"" },
	{ "[recording]\naccepted_modalities = ,\n",
	    "accepted_modalities needs at least one" },
	{ "[recording]\ntenants = ,\n", "tenants is empty" },
	{ "[recording]\npolicies = , ,\n", "policies is empty" },
	{ "[recording]\nanswer_budget_ms = 5000\n",
	    "answer_budget_ms: too large" },
	{ "[recording]\nkeepalive_interval = 2701\n",
	    "keepalive_interval: too large" },
	{ "[recording]\nmax_calls = 0\n", "max_calls: too small" },
	{ "[recording]\noverflow = drop\n", "overflow: not one of" },
	{ "[recording]\ndelta_roster = maybe\n", "delta_roster: not one of" },
	{ "[recording]\nmedia_events_path = /api/calling\n",
	    "media_events_path must differ" },
};

/*
 * Outbound URLs are https:// unless [graph] allow_plain_http = yes (the
 * error names the directive); the inbound callback_url and the TSA (its
 * tokens are signed) may be http.  TLS 1.2 suites: ECDHE and AEAD only.
 */
static void
test_transport(void **state)
{
	static const char *const outbound[] = {
		"[graph]\nbase_url = http://g/v1.0\n",
		"[graph]\ntoken_url = http://g/t\n",
		"[auth]\nopenid_configuration_url = http://o/c\n",
		"[recording]\nmedia_agent_url = http://m/\n",
		"[recording]\ninvite_url = http://i/\n",
		"[audit]\nwitness_url = http://w/\n",
	};
	static const struct {
		const char	*list;
		int		 ok;
	} ciphers[] = {
		{ CONF_TLS_CIPHERS_DEFAULT, 1 },
		{ "ECDHE-RSA-AES128-GCM-SHA256", 1 },
		{ "ECDHE+CHACHA20", 1 },
		{ "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384",
		    1 },
		{ "AES128-SHA", 0 },			/* RSA kx, CBC, SHA-1 */
		{ "AES256-GCM-SHA384", 0 },		/* RSA kx */
		{ "ECDHE-RSA-AES128-SHA", 0 },		/* CBC, SHA-1 */
		{ "ECDHE-RSA-AES128-SHA256", 0 },	/* CBC */
		{ "DHE-RSA-AES128-GCM-SHA256", 0 },	/* not ECDHE */
		{ "ECDHE+AESGCM:AES128-SHA", 0 },	/* one bad is enough */
		{ "HIGH", 0 },
		{ "DEFAULT", 0 },
		{ "NOSUCHCIPHER", 0 },
		{ "eNULL", 0 },
		{ "!ALL", 0 },
	};
	const char	*base = "[graph]\napp_id = "
	    "0efc74f7-41c3-47a4-8775-7259bfef4241\n";
	char		 text[512], *errs;
	struct conf	*c;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(outbound) / sizeof(outbound[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", base, outbound[i]);
		parse_fails(text, "plain http:// URL refused");
		parse_fails(text, "allow_plain_http = yes");
		snprintf(text, sizeof(text), "%sallow_plain_http = yes\n%s",
		    base, outbound[i]);
		conf_free(parse_ok(text));
	}
	parse_fails("[graph]\napp_id = 0efc74f7-41c3-47a4-8775-7259bfef4241\n"
	    "base_url = http://g/v1.0\n", "t.conf:3: base_url: plain http");
	snprintf(text, sizeof(text), "%s[http]\ncallback_url = http://h/c\n"
	    "[audit]\ntsa_url = http://t/tsr\n", base);
	conf_free(parse_ok(text));
	parse_fails("[graph]\nallow_plain_http = maybe\n",
	    "allow_plain_http: not one of");

	/* The jwks_uri an OpenID document names follows the same rule. */
	c = parse_ok(base);
	assert_int_equal(conf_url_allowed(c, "https://k/keys"), 1);
	assert_int_equal(conf_url_allowed(c, "http://k/keys"), 0);
	assert_int_equal(conf_url_allowed(c, "ftp://k/keys"), 0);
	assert_int_equal(conf_url_allowed(c, ""), 0);
	c->graph_allow_plain_http = 1;
	assert_int_equal(conf_url_allowed(c, "http://k/keys"), 1);
	assert_int_equal(conf_url_allowed(c, "ftp://k/keys"), 0);
	conf_free(c);

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		if (ciphers[i].ok != (conf_check_ciphers(ciphers[i].list) ==
		    NULL))
			fail_msg("%s: expected %s, got %s", ciphers[i].list,
			    ciphers[i].ok ? "accepted" : "refused",
			    conf_check_ciphers(ciphers[i].list));
		snprintf(text, sizeof(text), "%s[http]\ntls_ciphers = %s\n",
		    base, ciphers[i].list);
		c = NULL;
		errs = NULL;
		assert_int_equal(conf_parse("t.conf", text, strlen(text), &c,
		    &errs), ciphers[i].ok ? 0 : -1);
		if (!ciphers[i].ok)
			assert_non_null(strstr(errs, "t.conf:4: tls_ciphers: "));
		free(errs);
		conf_free(c);
	}
}

static void
test_bad_files(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_fails(bad[i].text, bad[i].error);
}

static void
test_errors_accumulate(void **state)
{
	struct conf	*c;
	char		*errs;
	const char	*text = "[http]\na = 1\nb = 2\n[x]\n";

	(void)state;
	assert_int_equal(conf_parse("t.conf", text, strlen(text), &c, &errs),
	    -1);
	assert_non_null(strstr(errs, "t.conf:2:"));
	assert_non_null(strstr(errs, "t.conf:3:"));
	assert_non_null(strstr(errs, "t.conf:4:"));
	free(errs);
}

static void
test_hostile_lines(void **state)
{
	char	*big;
	char	 nul[] = "[http]\nlisten = 1.2.3.4:1\0junk\n";

	(void)state;
	big = malloc(10000);
	assert_non_null(big);
	memset(big, 'a', 9999);
	big[9999] = '\0';
	parse_fails(big, "line longer than");
	free(big);
	{
		struct conf	*c;
		char		*errs;

		assert_int_equal(conf_parse("t.conf", nul, sizeof(nul) - 1,
		    &c, &errs), -1);
		assert_non_null(strstr(errs, "t.conf:2: NUL byte"));
		free(errs);
	}
}

static void
test_listen_split(void **state)
{
	char		 a[64];
	unsigned short	 p;

	(void)state;
	assert_int_equal(conf_split_listen("[::1]:443", a, sizeof(a), &p), 0);
	assert_string_equal(a, "::1");
	assert_int_equal(p, 443);
	assert_int_equal(conf_split_listen("localhost:0", a, sizeof(a), &p),
	    0);
	assert_int_equal(p, 0);
	assert_int_equal(conf_split_listen(":80", a, sizeof(a), &p), -1);
	assert_int_equal(conf_split_listen("[::1]80", a, sizeof(a), &p), -1);
	assert_int_equal(conf_split_listen("h:", a, sizeof(a), &p), -1);
	assert_int_equal(conf_split_listen("h:-1", a, sizeof(a), &p), -1);
}

/* Secret files: refused when readable by group or others, or missing. */
static void
test_secret_files(void **state)
{
	char		 dir[] = "/tmp/polrec-conf-XXXXXX", path[128];
	char		 text[512], *errs;
	struct conf	*c;
	FILE		*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("s3cret\n", f);
	fclose(f);
	snprintf(text, sizeof(text), "[auth]\nmode = none\n"
	    "[graph]\nclient_secret_file = %s\n", path);

	assert_int_equal(chmod(path, 0644), 0);
	c = parse_ok(text);
	assert_int_equal(conf_check_secrets(c, "t.conf", &errs), -1);
	assert_non_null(strstr(errs, "readable by group or others"));
	assert_non_null(strstr(errs, "0644"));
	free(errs);

	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(conf_check_secrets(c, "t.conf", &errs), 0);
	assert_null(errs);
	conf_free(c);

	/* Reading one: the first line, without its end; refusals. */
	{
		char	 buf[16], err[256];

		assert_int_equal(conf_read_secret(path, buf, sizeof(buf), err,
		    sizeof(err)), 0);
		assert_string_equal(buf, "s3cret");
		assert_int_equal(conf_read_secret(path, buf, 6, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "longer than"));
		assert_int_equal(chmod(path, 0640), 0);
		assert_int_equal(conf_read_secret(path, buf, sizeof(buf), err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "only its owner"));
		assert_non_null(f = fopen(path, "w"));
		fputs("\nrest\n", f);
		fclose(f);
		assert_int_equal(chmod(path, 0600), 0);
		assert_int_equal(conf_read_secret(path, buf, sizeof(buf), err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "first line is empty"));
	}

	/* conf_load runs the same check on a file. */
	snprintf(path, sizeof(path), "%s/polrecd.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "[auth]\nmode = none\n[graph]\n"
	    "client_secret_file = %s/missing\n", dir);
	fclose(f);
	assert_int_equal(conf_load(path, &c, &errs), -1);
	assert_non_null(strstr(errs, "No such file"));
	free(errs);
	assert_int_equal(conf_load("/nonexistent/x.conf", &c, &errs), -1);
	free(errs);

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

/*
 * capture_source: none by default with service-hosted media; always the
 * agent with app-hosted media; agent with service-hosted media needs the
 * secret the capture source posts with.
 */
static void
test_capture_source(void **state)
{
	struct conf	*c;

	(void)state;
	c = parse_ok("[auth]\nmode = none\n[recording]\nmedia = app\n"
	    "media_agent_url = https://10.0.0.5/media\n"
	    "media_agent_secret_file = /etc/ma\n");
	assert_int_equal(c->recording_capture_source, CAPTURE_SOURCE_AGENT);
	assert_string_equal(conf_capture_source_name(
	    c->recording_capture_source), "agent");
	conf_free(c);
	c = parse_ok("[auth]\nmode = none\n[recording]\ncapture_source = agent\n"
	    "media_agent_secret_file = /etc/ma\n");
	assert_int_equal(c->recording_media, MEDIA_SERVICE);
	assert_int_equal(c->recording_capture_source, CAPTURE_SOURCE_AGENT);
	assert_null(c->recording_media_agent_url);
	conf_free(c);
	c = parse_ok("[auth]\nmode = none\n[recording]\ncapture_source = none\n");
	assert_int_equal(c->recording_capture_source, CAPTURE_SOURCE_NONE);
	assert_string_equal(conf_capture_source_name(
	    c->recording_capture_source), "none");
	conf_free(c);
	parse_fails("[auth]\nmode = none\n[recording]\ncapture_source = agent\n",
	    "capture_source = agent needs media_agent_secret_file");
	parse_fails("[auth]\nmode = none\n[recording]\nmedia = app\ncapture_source = none\n"
	    "media_agent_url = https://10.0.0.5/media\n"
	    "media_agent_secret_file = /etc/ma\n",
	    "capture_source must be agent");
	parse_fails("[auth]\nmode = none\n[recording]\ncapture_source = external\n",
	    "not one of the allowed values");
}

/* The shipped sample must parse. */
static void
test_sample_file(void **state)
{
	struct conf	*c;
	char		*errs = NULL;

	(void)state;
	if (conf_load("etc/polrecd.conf", &c, &errs) != 0)
		fail_msg("etc/polrecd.conf:\n%s", errs);
	assert_int_equal(c->auth_mode, AUTH_MODE_JWT);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_directive),
		cmocka_unit_test(test_tenants_fold),
		cmocka_unit_test(test_token_url),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_errors_accumulate),
		cmocka_unit_test(test_hostile_lines),
		cmocka_unit_test(test_listen_split),
		cmocka_unit_test(test_secret_files),
		cmocka_unit_test(test_capture_source),
		cmocka_unit_test(test_sample_file),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
