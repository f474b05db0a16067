/* polrecd.conf parser: INI sections, typed directives, file:line errors. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "netaddr.h"
#include "xmalloc.h"

#define CONF_MAX_LINE	4096
#define CONF_MAX_ERRORS	32

enum conf_type {
	CT_STRING,	/* any printable text */
	CT_URL,		/* http:// or https:// */
	CT_OUTURL,	/* https://, or http:// with allow_plain_http */
	CT_CIPHERS,	/* an OpenSSL cipher list; see conf_check_ciphers */
	CT_FILE,	/* absolute path */
	CT_URLPATH,	/* /path on this host */
	CT_LISTEN,	/* ADDR:PORT */
	CT_LISTEN_OFF,	/* ADDR:PORT, or off */
	CT_GUID,	/* 8-4-4-4-12 hex */
	CT_UINT,	/* bounded integer */
	CT_ENUM,	/* one of names[] */
	CT_SECRET,	/* absolute path to a file only the owner may read */
	CT_LIST,	/* words separated by spaces or commas */
	CT_CSV,		/* items separated by commas; inner spaces kept */
	CT_DURATION,	/* N[smhdwy], bounded, in seconds */
	CT_MINUTES,	/* a duration, bare digits in minutes; seconds */
	CT_GROUP,	/* a group name (looked up by the daemon) */
};

struct directive {
	const char	*section;
	const char	*key;
	enum conf_type	 type;
	size_t		 off;
	long long	 min, max;
	const char *const *names;
};

static const char *const auth_modes[] = { "jwt", "none", NULL };
static const char *const media_modes[] = { "service", "app", NULL };
static const char *const capture_sources[] = { "none", "agent", NULL };
static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const overflow_modes[] = { "reject", "invite", NULL };
static const char *const modalities[] = {
	"audio", "video", "videoBasedScreenSharing", NULL
};

#define S(f)	offsetof(struct conf, f)
static const struct directive directives[] = {
	{ "tenants", "ids", CT_LIST, S(tenants_ids), 0, 0, NULL },
	{ "http", "listen", CT_LISTEN, S(http_listen), 0, 0, NULL },
	{ "http", "notification_path", CT_URLPATH, S(http_notification_path),
	    0, 0, NULL },
	{ "http", "callback_url", CT_URL, S(http_callback_url), 0, 0, NULL },
	{ "http", "tls_cert", CT_FILE, S(http_tls_cert), 0, 0, NULL },
	{ "http", "tls_key", CT_SECRET, S(http_tls_key), 0, 0, NULL },
	{ "http", "tls_ciphers", CT_CIPHERS, S(http_tls_ciphers), 0, 0,
	    NULL },
	{ "http", "max_body_size", CT_UINT, S(http_max_body), 1024,
	    64 * 1024 * 1024, NULL },
	{ "http", "max_header_size", CT_UINT, S(http_max_header_size), 1024,
	    1024 * 1024, NULL },
	{ "http", "request_timeout", CT_UINT, S(http_request_timeout), 1,
	    300, NULL },
	{ "http", "max_connections", CT_UINT, S(http_max_connections), 1,
	    1000000, NULL },
	{ "http", "max_connections_per_address", CT_UINT,
	    S(http_max_connections_per_address), 1, 1000000, NULL },
	{ "http", "request_deadline", CT_UINT, S(http_request_deadline), 1,
	    60, NULL },
	{ "http", "connection_rate", CT_UINT, S(http_connection_rate), 1,
	    1000000, NULL },
	{ "http", "allow_from", CT_LIST, S(http_allow_from), 0, 0, NULL },
	{ "graph", "base_url", CT_OUTURL, S(graph_base_url), 0, 0, NULL },
	{ "graph", "token_url", CT_OUTURL, S(graph_token_url), 0, 0, NULL },
	{ "graph", "app_id", CT_GUID, S(graph_app_id), 0, 0, NULL },
	{ "graph", "tenant_id", CT_GUID, S(graph_tenant_id), 0, 0, NULL },
	{ "graph", "client_secret_file", CT_SECRET,
	    S(graph_client_secret_file), 0, 0, NULL },
	{ "graph", "client_cert_file", CT_FILE, S(graph_client_cert_file),
	    0, 0, NULL },
	{ "graph", "client_key_file", CT_SECRET, S(graph_client_key_file),
	    0, 0, NULL },
	{ "graph", "allow_plain_http", CT_ENUM, S(graph_allow_plain_http), 0,
	    0, yes_no },
	{ "graph", "max_connections", CT_UINT, S(graph_max_connections), 1,
	    10000, NULL },
	{ "auth", "mode", CT_ENUM, S(auth_mode), 0, 0, auth_modes },
	{ "auth", "openid_configuration_url", CT_OUTURL,
	    S(auth_openid_configuration_url), 0, 0, NULL },
	{ "auth", "issuers", CT_LIST, S(auth_issuers), 0, 0, NULL },
	{ "auth", "tenants", CT_LIST, S(auth_tenants), 0, 0, NULL },
	{ "auth", "clock_skew", CT_UINT, S(auth_clock_skew), 0, 3600, NULL },
	{ "auth", "key_refresh", CT_UINT, S(auth_key_refresh), 60, 86400,
	    NULL },
	{ "recording", "participant_capacity", CT_UINT,
	    S(recording_participant_capacity), 1, 10000, NULL },
	{ "recording", "media", CT_ENUM, S(recording_media), 0, 0,
	    media_modes },
	{ "recording", "capture_source", CT_ENUM,
	    S(recording_capture_source), 0, 0, capture_sources },
	{ "recording", "tenants", CT_LIST, S(recording_tenants), 0, 0, NULL },
	{ "recording", "policies", CT_CSV, S(recording_policies), 0, 0,
	    NULL },
	{ "recording", "max_calls", CT_UINT, S(recording_max_calls), 1,
	    1000000, NULL },
	{ "recording", "answer_budget_ms", CT_UINT,
	    S(recording_answer_budget_ms), 100, 4500, NULL },
	{ "recording", "accepted_modalities", CT_LIST,
	    S(recording_accepted_modalities), 0, 0, NULL },
	{ "recording", "delta_roster", CT_ENUM, S(recording_delta_roster), 0,
	    0, yes_no },
	{ "recording", "keepalive_interval", CT_UINT,
	    S(recording_keepalive_interval), 1, 2700, NULL },
	{ "recording", "media_agent_url", CT_OUTURL,
	    S(recording_media_agent_url), 0, 0, NULL },
	{ "recording", "media_agent_secret_file", CT_SECRET,
	    S(recording_media_agent_secret_file), 0, 0, NULL },
	{ "recording", "media_events_path", CT_URLPATH,
	    S(recording_media_events_path), 0, 0, NULL },
	{ "recording", "overflow", CT_ENUM, S(recording_overflow), 0, 0,
	    overflow_modes },
	{ "recording", "invite_url", CT_OUTURL, S(recording_invite_url), 0, 0,
	    NULL },
	{ "recording", "redirect_url", CT_OUTURL, S(recording_redirect_url), 0,
	    0, NULL },
	{ "audit", "database", CT_FILE, S(audit_database), 0, 0, NULL },
	{ "audit", "key_dir", CT_FILE, S(audit_key_dir), 0, 0, NULL },
	{ "audit", "checkpoint_events", CT_UINT,
	    S(audit_checkpoint_events), 1, 1000000, NULL },
	{ "audit", "checkpoint_interval", CT_UINT,
	    S(audit_checkpoint_interval), 1, 86400, NULL },
	{ "audit", "max_pending_events", CT_UINT, S(audit_max_pending), 10,
	    10000000, NULL },
	{ "audit", "disk_reserve_mb", CT_UINT, S(audit_disk_reserve_mb), 0,
	    1024 * 1024, NULL },
	{ "audit", "startup_check_seconds", CT_UINT,
	    S(audit_startup_check_sec), 1, 86400, NULL },
	{ "audit", "witness_url", CT_OUTURL, S(audit_witness_url), 0, 0, NULL },
	{ "audit", "tsa_url", CT_URL, S(audit_tsa_url), 0, 0, NULL },
	{ "audit", "retention_min", CT_DURATION, S(audit_retention_min), 0,
	    100 * CONF_YEAR, NULL },
	{ "audit", "group", CT_GROUP, S(audit_group), 0, 0, NULL },
	{ "control", "socket", CT_FILE, S(control_socket), 0, 0, NULL },
	{ "control", "group", CT_GROUP, S(control_group), 0, 0, NULL },
	{ "admin", "listen", CT_LISTEN_OFF, S(admin_listen), 0, 0, NULL },
	{ "admin", "quiet_alarm", CT_MINUTES, S(admin_quiet_alarm), 0,
	    7 * 86400, NULL },
	{ "admin", "alarm_window", CT_DURATION, S(admin_alarm_window), 1,
	    86400, NULL },
	{ "admin", "clock_max_error_ms", CT_UINT, S(admin_clock_max_error_ms),
	    1, 3600000, NULL },
	{ "admin", "token_alarm", CT_DURATION, S(admin_token_alarm), 0,
	    86400, NULL },
	{ "admin", "checkpoint_alarm", CT_DURATION, S(admin_checkpoint_alarm),
	    1, 7 * 86400, NULL },
	{ "admin", "ready_wait", CT_DURATION, S(admin_ready_wait), 0, 3600,
	    NULL },
};
#undef S
#define NDIRECTIVES	(sizeof(directives) / sizeof(directives[0]))

struct parser {
	const char	*name;
	int		 line;
	int		 nerrors;
	char		*errs;		/* accumulated messages */
	size_t		 errslen;
	const struct directive *section_first;	/* NULL: no/bad section */
	char		 section[32];
	int		 seen[NDIRECTIVES];	/* line of each directive */
	char		*warns;		/* accumulated warnings */
	size_t		 warnslen;
};

static void	 perr(struct parser *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

static void
perr(struct parser *p, int line, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512], *full;
	int	 n;

	if (++p->nerrors > CONF_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->nerrors == CONF_MAX_ERRORS)
		strncpy(msg, "too many errors, giving up", sizeof(msg));
	if (line > 0)
		n = xasprintf(&full, "%s:%d: %s\n", p->name, line, msg);
	else
		n = xasprintf(&full, "%s: %s\n", p->name, msg);
	p->errs = xreallocarray(p->errs, p->errslen + n + 1, 1);
	memcpy(p->errs + p->errslen, full, n + 1);
	p->errslen += n;
	free(full);
}

/* A warning: the file is used, but the operator should hear of it. */
static void	 pwarn(struct parser *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

static void
pwarn(struct parser *p, int line, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512], *full;
	int	 n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		n = xasprintf(&full, "%s:%d: %s\n", p->name, line, msg);
	else
		n = xasprintf(&full, "%s: %s\n", p->name, msg);
	p->warns = xreallocarray(p->warns, p->warnslen + n + 1, 1);
	memcpy(p->warns + p->warnslen, full, n + 1);
	p->warnslen += n;
	free(full);
}

/* Split on spaces and commas into a NULL-terminated list. */
static char **
list_split_sep(const char *v, const char *sep)
{
	char	**list;
	size_t	 n = 0, len;

	list = xcalloc(CONF_MAX_LIST + 1, sizeof(*list));
	for (;;) {
		v += strspn(v, " \t,");
		if (*v == '\0' || n == CONF_MAX_LIST)
			break;
		len = strcspn(v, sep);
		/* Items keep inner spaces, not trailing ones. */
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		list[n++] = xstrndup(v, len);
		v += len;
	}
	return list;
}

static char **
list_split(const char *v)
{
	return list_split_sep(v, " \t,");
}

static void
list_free(char **list)
{
	size_t	 i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

static size_t
list_count(const char *v, const char *sep)
{
	size_t	 n = 0;

	for (;;) {
		v += strspn(v, " \t,");
		if (*v == '\0')
			return n;
		n++;
		v += strcspn(v, sep);
	}
}

static void
conf_defaults(struct conf *c)
{
	c->http_listen = xstrdup("0.0.0.0:8443");
	c->http_notification_path = xstrdup("/api/calling");
	c->http_max_body = 1024 * 1024;
	c->http_max_header_size = 16 * 1024;
	c->http_request_timeout = 10;
	c->http_tls_ciphers = xstrdup(CONF_TLS_CIPHERS_DEFAULT);
	c->http_max_connections = 4096;
	c->http_max_connections_per_address = 256;
	c->http_request_deadline = 5;
	c->http_connection_rate = 1000;
	c->graph_base_url = xstrdup("https://graph.microsoft.com/v1.0");
	c->graph_max_connections = 64;
	c->auth_mode = AUTH_MODE_JWT;
	c->auth_issuers = list_split(
	    "https://api.botframework.com https://graph.microsoft.com");
	c->auth_tenants = list_split("");
	c->auth_clock_skew = 300;
	c->auth_key_refresh = 7200;
	c->auth_openid_configuration_url = xstrdup(
	    "https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration");
	c->recording_participant_capacity = 1;
	/* A join rejected keeps a person out; one invited is answered. */
	c->recording_overflow = OVERFLOW_INVITE;
	c->recording_media = MEDIA_SERVICE;
	c->recording_tenants = list_split("*");
	c->recording_policies = list_split("*");
	c->recording_max_calls = 1000;
	c->recording_answer_budget_ms = 2500;
	c->recording_accepted_modalities = list_split("audio");
	c->recording_delta_roster = 0;
	c->recording_keepalive_interval = 900;
	c->recording_media_events_path = xstrdup("/api/media");
	c->audit_database = xstrdup("/var/lib/polrecd/audit.db");
	c->audit_key_dir = xstrdup("/etc/polrecd/keys");
	c->audit_checkpoint_events = 1000;
	c->audit_checkpoint_interval = 60;
	c->audit_max_pending = 100000;
	c->audit_disk_reserve_mb = 64;
	c->audit_startup_check_sec = 30;
	c->audit_retention_min = CONF_RETENTION_MIN_DEFAULT;
	c->control_socket = xstrdup("/run/polrecd/ctl.sock");
	c->admin_listen = xstrdup(CONF_ADMIN_LISTEN_DEFAULT);
	c->admin_quiet_alarm = 15 * 60;
	c->admin_alarm_window = 300;
	c->admin_clock_max_error_ms = 100;
	c->admin_token_alarm = 300;
	c->admin_checkpoint_alarm = 600;
	c->admin_ready_wait = 30;
}

void
conf_free(struct conf *c)
{
	size_t	 i;
	char	**sp;

	if (c == NULL)
		return;
	for (i = 0; i < NDIRECTIVES; i++) {
		if (directives[i].type == CT_UINT ||
		    directives[i].type == CT_ENUM ||
		    directives[i].type == CT_DURATION ||
		    directives[i].type == CT_MINUTES)
			continue;
		if (directives[i].type == CT_LIST ||
		    directives[i].type == CT_CSV) {
			list_free(*(char ***)((char *)c + directives[i].off));
			continue;
		}
		sp = (char **)((char *)c + directives[i].off);
		free(*sp);
	}
	list_free(c->tenants);
	free(c->warnings);
	free(c->http_allow);
	free(c);
}

int
conf_split_listen(const char *listen, char *addr, size_t addrlen,
    unsigned short *port)
{
	const char	*colon, *host, *errstr;
	size_t		 hostlen;
	long long	 n;

	if (listen[0] == '[') {
		if ((colon = strstr(listen, "]:")) == NULL)
			return -1;
		host = listen + 1;
		hostlen = colon - host;
		colon++;
	} else {
		if ((colon = strrchr(listen, ':')) == NULL ||
		    memchr(listen, ':', colon - listen) != NULL)
			return -1;
		host = listen;
		hostlen = colon - listen;
	}
	if (hostlen == 0 || hostlen >= addrlen)
		return -1;
	n = strtonum(colon + 1, 0, 65535, &errstr);
	if (errstr != NULL)
		return -1;
	memcpy(addr, host, hostlen);
	addr[hostlen] = '\0';
	*port = (unsigned short)n;
	return 0;
}

static int
valid_guid(const char *s)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	size_t	 g;
	int	 i;

	for (g = 0; g < 5; g++) {
		for (i = 0; i < groups[g]; i++, s++)
			if (!isxdigit((unsigned char)*s))
				return 0;
		if (g < 4 && *s++ != '-')
			return 0;
	}
	return *s == '\0';
}

/* As useradd(8) accepts them: [a-z_][a-z0-9_-]*[$]?, some distributions
 * allow upper case and dots too. */
static int
valid_group(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.' && !(s[i] == '$' && i == n - 1))
			return 0;
	return 1;
}

int
conf_parse_duration(const char *v, long long *secs)
{
	static const struct {
		char		 suffix;
		long long	 unit;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 }, { 'y', CONF_YEAR },
	};
	char		 digits[24];
	const char	*errstr;
	long long	 n, unit = 1;
	size_t		 len, i;

	len = strlen(v);
	if (len == 0 || len >= sizeof(digits))
		return -1;
	if (!isdigit((unsigned char)v[len - 1])) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (v[len - 1] == units[i].suffix)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		unit = units[i].unit;
		len--;
	}
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)v[i]))
			return -1;
	memcpy(digits, v, len);
	digits[len] = '\0';
	n = strtonum(digits, 0, LLONG_MAX / unit, &errstr);
	if (errstr != NULL)
		return -1;
	*secs = n * unit;
	return 0;
}

static int
has_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return 1;
	return 0;
}

/* Returns NULL if value suits the directive, else the reason. */
static const char *
check_value(const struct directive *d, const char *v, long long *num)
{
	char		 host[256];
	unsigned short	 port;
	const char	*errstr;
	size_t		 i;

	switch (d->type) {
	case CT_STRING:
		return NULL;
	case CT_LIST:
	case CT_CSV:
		if (list_count(v, d->type == CT_CSV ? "," : " \t,") >
		    CONF_MAX_LIST)
			return "too many items (at most 16)";
		for (i = 0; v[i] != '\0'; i++)
			if (iscntrl((unsigned char)v[i]))
				return "control character in list";
		return NULL;
	case CT_URL:
	case CT_OUTURL:
		if ((strncmp(v, "https://", 8) != 0 &&
		    strncmp(v, "http://", 7) != 0) || has_space(v) ||
		    strlen(v) > 2048)
			return "expected an http:// or https:// URL";
		return NULL;
	case CT_CIPHERS:
		if (has_space(v) || strlen(v) > 1024)
			return "expected an OpenSSL cipher list such as "
			    CONF_TLS_CIPHERS_DEFAULT;
		return conf_check_ciphers(v);
	case CT_FILE:
	case CT_SECRET:
		if (v[0] != '/' || strlen(v) > 1024)
			return "expected an absolute path";
		return NULL;
	case CT_URLPATH:
		if (v[0] != '/' || has_space(v) || strchr(v, '?') != NULL ||
		    strchr(v, '#') != NULL)
			return "expected a path such as /api/calling";
		return NULL;
	case CT_LISTEN:
		if (conf_split_listen(v, host, sizeof(host), &port) == -1)
			return "expected ADDR:PORT, e.g. 0.0.0.0:8443 or "
			    "[::]:8443";
		return NULL;
	case CT_LISTEN_OFF:
		if (strcmp(v, "off") != 0 &&
		    conf_split_listen(v, host, sizeof(host), &port) == -1)
			return "expected ADDR:PORT, e.g. 127.0.0.1:9464, or "
			    "off";
		return NULL;
	case CT_MINUTES:
		if (v[strspn(v, "0123456789")] == '\0' && strlen(v) < 10) {
			*num = strtonum(v, 0, d->max / 60, &errstr) * 60;
			if (errstr == NULL)
				return NULL;
		} else if (conf_parse_duration(v, num) == 0 &&
		    *num >= d->min && *num <= d->max)
			return NULL;
		return "expected minutes, or a duration such as 90s or 2h, "
		    "up to 7d; 0 is off";
	case CT_GUID:
		if (!valid_guid(v))
			return "expected a GUID such as "
			    "00000000-0000-0000-0000-000000000000";
		return NULL;
	case CT_UINT:
		*num = strtonum(v, d->min, d->max, &errstr);
		if (errstr != NULL)
			return errstr;
		return NULL;
	case CT_DURATION:
		if (conf_parse_duration(v, num) == -1 || *num < d->min ||
		    *num > d->max)
			return "expected a duration such as 5y, 1825d, 12h "
			    "or 30s, from 0s to 100y";
		return NULL;
	case CT_GROUP:
		if (!valid_group(v))
			return "expected a group name";
		return NULL;
	case CT_ENUM:
		for (i = 0; d->names[i] != NULL; i++)
			if (strcmp(v, d->names[i]) == 0) {
				*num = (long long)i;
				return NULL;
			}
		return "not one of the allowed values";
	}
	return "internal error";
}

static void
set_value(struct parser *p, struct conf *c, const struct directive *d,
    const char *v)
{
	const char	*why;
	long long	 num = 0;
	size_t		 idx = d - directives;
	char		**sp;

	if (p->seen[idx]) {
		perr(p, p->line, "%s: already set at line %d", d->key,
		    p->seen[idx]);
		return;
	}
	p->seen[idx] = p->line;
	if ((why = check_value(d, v, &num)) != NULL) {
		if (d->type == CT_UINT)
			perr(p, p->line, "%s: %s (%lld to %lld)", d->key, why,
			    d->min, d->max);
		else
			perr(p, p->line, "%s: %s", d->key, why);
		return;
	}
	switch (d->type) {
	case CT_UINT:
	case CT_DURATION:
	case CT_MINUTES:
		*(long long *)((char *)c + d->off) = num;
		break;
	case CT_ENUM:
		/* Both enums are int-sized and start at 0. */
		*(int *)((char *)c + d->off) = (int)num;
		break;
	case CT_LIST:
	case CT_CSV:
		list_free(*(char ***)((char *)c + d->off));
		*(char ***)((char *)c + d->off) = list_split_sep(v,
		    d->type == CT_CSV ? "," : " \t,");
		break;
	default:
		sp = (char **)((char *)c + d->off);
		free(*sp);
		*sp = xstrdup(v);
		break;
	}
}

static void
parse_section(struct parser *p, char *s)
{
	char	*end;
	size_t	 i;

	p->section_first = NULL;
	p->section[0] = '\0';
	if ((end = strchr(s, ']')) == NULL) {
		perr(p, p->line, "missing ] after section name");
		return;
	}
	*end++ = '\0';
	end += strspn(end, " \t");
	if (*end != '\0' && *end != ';' && *end != '#') {
		perr(p, p->line, "text after [%s]", s + 1);
		return;
	}
	for (i = 0; i < NDIRECTIVES; i++)
		if (strcmp(directives[i].section, s + 1) == 0) {
			p->section_first = &directives[i];
			strncpy(p->section, s + 1, sizeof(p->section) - 1);
			return;
		}
	perr(p, p->line, "unknown section [%.64s]", s + 1);
	/* Mark so keys below are not each reported as outside a section. */
	strncpy(p->section, "?", sizeof(p->section));
}

/* Value: a "quoted string", or text up to an inline ; or # comment. */
static const char *
parse_value(struct parser *p, char *v)
{
	char	*q, *end;

	v += strspn(v, " \t");
	if (*v == '"') {
		if ((q = strchr(v + 1, '"')) == NULL) {
			perr(p, p->line, "unterminated quoted value");
			return NULL;
		}
		*q++ = '\0';
		q += strspn(q, " \t");
		if (*q != '\0' && *q != ';' && *q != '#') {
			perr(p, p->line, "text after quoted value");
			return NULL;
		}
		return v + 1;
	}
	for (q = v; *q != '\0'; q++)
		if ((*q == ';' || *q == '#') && q > v &&
		    (q[-1] == ' ' || q[-1] == '\t')) {
			*q = '\0';
			break;
		}
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return v;
}

static void
parse_line(struct parser *p, struct conf *c, char *s)
{
	char		*eq, *key, *k;
	const char	*v;
	size_t		 i;

	s += strspn(s, " \t");
	if (*s == '\0' || *s == ';' || *s == '#')
		return;
	if (*s == '[') {
		parse_section(p, s);
		return;
	}
	if ((eq = strchr(s, '=')) == NULL) {
		perr(p, p->line, "expected key = value");
		return;
	}
	*eq = '\0';
	key = s;
	for (k = eq; k > key && (k[-1] == ' ' || k[-1] == '\t'); )
		*--k = '\0';
	for (k = key; *k != '\0'; k++)
		if (!islower((unsigned char)*k) && *k != '_' &&
		    !isdigit((unsigned char)*k)) {
			perr(p, p->line, "bad directive name");
			return;
		}
	if (*key == '\0') {
		perr(p, p->line, "missing directive name");
		return;
	}
	if (p->section[0] == '\0') {
		perr(p, p->line, "%.64s: directive outside a [section]", key);
		return;
	}
	if (p->section_first == NULL)
		return;		/* unknown section, already reported */
	if ((v = parse_value(p, eq + 1)) == NULL)
		return;
	for (i = 0; i < NDIRECTIVES; i++)
		if (strcmp(directives[i].section, p->section) == 0 &&
		    strcmp(directives[i].key, key) == 0) {
			if (*v == '\0') {
				perr(p, p->line, "%s: missing value", key);
				return;
			}
			set_value(p, c, &directives[i], v);
			return;
		}
	perr(p, p->line, "unknown directive %.64s in [%s]", key, p->section);
}

static int
line_of(const struct parser *p, size_t off)
{
	size_t	 i;

	for (i = 0; i < NDIRECTIVES; i++)
		if (directives[i].off == off)
			return p->seen[i];
	return 0;
}

static int
in_names(const char *v, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcmp(v, *names) == 0)
			return 1;
	return 0;
}

static void
check_recording(struct parser *p, struct conf *c)
{
	char *const	*m;
	int		 l;

	l = line_of(p, offsetof(struct conf, recording_accepted_modalities));
	if (c->recording_accepted_modalities[0] == NULL)
		perr(p, l, "accepted_modalities needs at least one modality");
	for (m = c->recording_accepted_modalities; *m != NULL; m++)
		if (!in_names(*m, modalities))
			perr(p, l, "accepted_modalities: unknown modality "
			    "\"%.64s\" (audio, video, videoBasedScreenSharing)",
			    *m);
	if (c->auth_tenants[0] == NULL && line_of(p, offsetof(struct conf,
	    auth_tenants)))
		perr(p, line_of(p, offsetof(struct conf, auth_tenants)),
		    "tenants is empty; use * to allow any tenant");
	if (c->recording_tenants[0] == NULL)
		perr(p, line_of(p, offsetof(struct conf, recording_tenants)),
		    "tenants is empty; use * to allow any tenant");
	if (c->recording_policies[0] == NULL)
		perr(p, line_of(p, offsetof(struct conf, recording_policies)),
		    "policies is empty; use * to allow any policy");
	if (c->recording_media == MEDIA_APP &&
	    (c->recording_media_agent_url == NULL ||
	    c->recording_media_agent_secret_file == NULL))
		perr(p, line_of(p, offsetof(struct conf, recording_media)),
		    "media = app needs media_agent_url and "
		    "media_agent_secret_file");
	/* App-hosted media: the agent captures, and says so. */
	if (c->recording_media == MEDIA_APP) {
		if (c->recording_capture_source == CAPTURE_SOURCE_NONE &&
		    line_of(p, offsetof(struct conf, recording_capture_source)))
			perr(p, line_of(p, offsetof(struct conf,
			    recording_capture_source)), "media = app: the "
			    "media agent is the capture source; capture_source "
			    "must be agent");
		c->recording_capture_source = CAPTURE_SOURCE_AGENT;
	} else if (c->recording_capture_source == CAPTURE_SOURCE_AGENT &&
	    c->recording_media_agent_secret_file == NULL)
		perr(p, line_of(p, offsetof(struct conf,
		    recording_capture_source)), "capture_source = agent needs "
		    "media_agent_secret_file");
	if (c->http_notification_path != NULL &&
	    strcmp(c->http_notification_path,
	    c->recording_media_events_path) == 0)
		perr(p, line_of(p, offsetof(struct conf,
		    recording_media_events_path)), "media_events_path must "
		    "differ from notification_path");
}

/*
 * Outbound URLs carry the app token, client secrets and the audit trail's
 * checkpoints: https only, unless a test or simulator asks otherwise.
 */
static void
check_plain_http(struct parser *p, const struct conf *c)
{
	const char	*v;
	size_t		 i;

	if (c->graph_allow_plain_http)
		return;
	for (i = 0; i < NDIRECTIVES; i++) {
		if (directives[i].type != CT_OUTURL)
			continue;
		v = *(char *const *)((const char *)c + directives[i].off);
		if (v != NULL && !conf_url_allowed(c, v))
			perr(p, p->seen[i], "%s: plain http:// URL refused; "
			    "use https://, or set [graph] allow_plain_http = "
			    "yes (tests and simulators only)", directives[i].key);
	}
}

/* [http] allow_from: each a CIDR block, parsed for admission. */
static void
check_allow_from(struct parser *p, struct conf *c)
{
	char	 err[128];
	size_t	 n;

	for (n = 0; c->http_allow_from != NULL &&
	    c->http_allow_from[n] != NULL; n++)
		;
	if (n == 0)
		return;
	c->http_allow = xreallocarray(NULL, n, sizeof(*c->http_allow));
	for (c->http_nallow = 0; c->http_nallow < n; c->http_nallow++)
		if (netaddr_cidr_parse(c->http_allow_from[c->http_nallow],
		    &c->http_allow[c->http_nallow], err, sizeof(err)) == -1) {
			perr(p, line_of(p, offsetof(struct conf,
			    http_allow_from)), "allow_from: %s", err);
			return;
		}
}

static void
check_combinations(struct parser *p, struct conf *c)
{
	int	 l;

	check_plain_http(p, c);

	if ((c->http_tls_cert == NULL) != (c->http_tls_key == NULL)) {
		l = line_of(p, c->http_tls_cert != NULL ?
		    offsetof(struct conf, http_tls_cert) :
		    offsetof(struct conf, http_tls_key));
		perr(p, l, "tls_cert and tls_key go together");
	}
	if ((c->graph_client_cert_file == NULL) !=
	    (c->graph_client_key_file == NULL)) {
		l = line_of(p, c->graph_client_cert_file != NULL ?
		    offsetof(struct conf, graph_client_cert_file) :
		    offsetof(struct conf, graph_client_key_file));
		perr(p, l, "client_cert_file and client_key_file go together");
	}
	if (c->auth_mode == AUTH_MODE_JWT && c->graph_app_id == NULL)
		perr(p, line_of(p, offsetof(struct conf, auth_mode)),
		    "[auth] mode = jwt needs [graph] app_id, the audience "
		    "of notification tokens");
	if (c->graph_client_secret_file != NULL &&
	    c->graph_client_cert_file != NULL)
		perr(p, line_of(p, offsetof(struct conf,
		    graph_client_secret_file)), "use either client_secret_file "
		    "or client_cert_file and client_key_file, not both");
	check_recording(p, c);
	check_allow_from(p, c);
}

static int
list_has(char *const *list, const char *s)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcasecmp(*list, s) == 0)
			return 1;
	return 0;
}

/* An old tenant list as a set: NULL when unset or when it holds "*". */
static char *const *
named_tenants(const struct parser *p, char *const *list, size_t off)
{
	if (!line_of(p, off) || list_has(list, "*"))
		return NULL;
	return list;
}

static int
same_tenants(char *const *a, char *const *b)
{
	char *const	*x;

	for (x = a; *x != NULL; x++)
		if (!list_has(b, *x))
			return 0;
	for (x = b; *x != NULL; x++)
		if (!list_has(a, *x))
			return 0;
	return 1;
}

/*
 * The one list of tenants served (c->tenants).  [tenants] ids says it;
 * without it the old settings are folded: [auth] tenants and
 * [recording] tenants, when both name tenants, must name the same ones,
 * and [graph] tenant_id must be among them; "*" names none.  Settings
 * that disagree are an error, not a guess: whichever way polrecd
 * guessed, some tenant's users would be recorded, or blocked, against
 * the operator's intent.  The old names are warned about, with the line
 * to write instead.
 */
static void
fold_tenants(struct parser *p, struct conf *c)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} old[] = {
		{ "[graph] tenant_id", offsetof(struct conf, graph_tenant_id) },
		{ "[auth] tenants", offsetof(struct conf, auth_tenants) },
		{ "[recording] tenants",
		    offsetof(struct conf, recording_tenants) },
	};
	char *const	*auth = NULL, *const *rec = NULL, *const *from;
	char		*one[2] = { NULL, NULL }, **ids, *line = NULL, *n;
	size_t		 i, k, nids = 0;
	int		 lnew, lold = 0, lurl;

	lnew = line_of(p, offsetof(struct conf, tenants_ids));
	for (i = 0; i < sizeof(old) / sizeof(old[0]); i++)
		if (line_of(p, old[i].off) && lnew) {
			perr(p, line_of(p, old[i].off), "%s: replaced by "
			    "[tenants] ids (line %d); remove it", old[i].name,
			    lnew);
			return;
		}
	if (lnew)
		from = c->tenants_ids;
	else {
		auth = named_tenants(p, c->auth_tenants,
		    offsetof(struct conf, auth_tenants));
		rec = named_tenants(p, c->recording_tenants,
		    offsetof(struct conf, recording_tenants));
		if (auth != NULL && rec != NULL && !same_tenants(auth, rec)) {
			perr(p, line_of(p, offsetof(struct conf,
			    recording_tenants)), "[recording] tenants and "
			    "[auth] tenants (line %d) name different tenants; "
			    "write the tenants served once, as [tenants] ids",
			    line_of(p, offsetof(struct conf, auth_tenants)));
			return;
		}
		from = auth != NULL ? auth : rec;
		if (from != NULL && c->graph_tenant_id != NULL &&
		    !list_has(from, c->graph_tenant_id)) {
			perr(p, line_of(p, offsetof(struct conf,
			    graph_tenant_id)), "tenant_id %s is not among "
			    "the tenants of [%s] tenants; write the tenants "
			    "served once, as [tenants] ids", c->graph_tenant_id,
			    auth != NULL ? "auth" : "recording");
			return;
		}
		if (from == NULL && c->graph_tenant_id != NULL) {
			one[0] = c->graph_tenant_id;
			from = one;
		}
	}

	ids = xcalloc(CONF_MAX_LIST + 1, sizeof(*ids));
	for (i = 0; from != NULL && from[i] != NULL; i++) {
		if (!valid_guid(from[i])) {
			perr(p, lnew ? lnew : line_of(p, auth != NULL ?
			    offsetof(struct conf, auth_tenants) :
			    offsetof(struct conf, recording_tenants)),
			    "tenant \"%.64s\" is not a tenant id (a GUID)",
			    from[i]);
			break;
		}
		if (list_has(ids, from[i])) {
			if (lnew)
				perr(p, lnew, "ids: %s listed twice", from[i]);
			continue;
		}
		ids[nids] = xstrdup(from[i]);
		for (k = 0; ids[nids][k] != '\0'; k++)
			ids[nids][k] = tolower((unsigned char)ids[nids][k]);
		xasprintf(&n, "%s%s%s", line != NULL ? line : "",
		    line != NULL ? " " : "", ids[nids]);
		free(line);
		line = n;
		nids++;
	}
	c->tenants = ids;
	if (lnew && nids == 0 && p->nerrors == 0)
		perr(p, lnew, "ids is empty: name the tenants served, as "
		    "GUIDs");
	if (p->nerrors > 0)
		goto done;

	for (i = 0; !lnew && i < sizeof(old) / sizeof(old[0]); i++) {
		if (!line_of(p, old[i].off))
			continue;
		lold = line_of(p, old[i].off);
		pwarn(p, lold, "%s is an old name: write [tenants] ids = %s",
		    old[i].name, line != NULL ? line : "GUID ...");
	}
	if (!lnew && ((line_of(p, offsetof(struct conf, auth_tenants)) &&
	    list_has(c->auth_tenants, "*")) || (line_of(p,
	    offsetof(struct conf, recording_tenants)) &&
	    list_has(c->recording_tenants, "*"))))
		pwarn(p, lold, "tenants = * no longer serves any tenant: "
		    "a token is fetched for each tenant served, and only %s "
		    "%s served", line != NULL ? line : "none",
		    nids == 1 ? "is" : "are");
	if (nids == 0)
		pwarn(p, 0, "no tenants are served ([tenants] ids): no Graph "
		    "token is fetched and every invitation is refused");
	lurl = line_of(p, offsetof(struct conf, graph_token_url));
	if (nids > 1 && c->graph_token_url != NULL &&
	    strstr(c->graph_token_url, "{tenant}") == NULL)
		perr(p, lurl, "token_url has no {tenant} and %zu tenants are "
		    "served: each tenant's token comes from its own endpoint",
		    nids);
 done:
	free(line);
}

int
conf_parse(const char *name, const char *text, size_t len,
    struct conf **out, char **errs)
{
	struct parser	 p;
	struct conf	*c;
	char		 buf[CONF_MAX_LINE + 1];
	const char	*s = text, *end = text + len, *nl;
	size_t		 n;

	*out = NULL;
	*errs = NULL;
	memset(&p, 0, sizeof(p));
	p.name = name;
	c = xcalloc(1, sizeof(*c));
	conf_defaults(c);

	while (s < end) {
		p.line++;
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		n = nl - s;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > CONF_MAX_LINE)
			perr(&p, p.line, "line longer than %d bytes",
			    CONF_MAX_LINE);
		else if (memchr(s, '\0', n) != NULL)
			perr(&p, p.line, "NUL byte in line");
		else {
			memcpy(buf, s, n);
			buf[n] = '\0';
			parse_line(&p, c, buf);
		}
		s = nl + 1;
	}
	if (p.nerrors == 0)
		check_combinations(&p, c);
	if (p.nerrors == 0)
		fold_tenants(&p, c);
	if (p.nerrors > 0) {
		conf_free(c);
		free(p.warns);
		*errs = p.errs;
		return -1;
	}
	c->warnings = p.warns;
	*out = c;
	return 0;
}

int
conf_check_secrets(const struct conf *c, const char *name, char **errs)
{
	struct parser	 p;
	struct stat	 st;
	size_t		 i;
	const char	*path;

	memset(&p, 0, sizeof(p));
	p.name = name;
	*errs = NULL;
	for (i = 0; i < NDIRECTIVES; i++) {
		if (directives[i].type != CT_SECRET)
			continue;
		path = *(char *const *)((const char *)c + directives[i].off);
		if (path == NULL)
			continue;
		if (stat(path, &st) == -1)
			perr(&p, 0, "%s %s: %s", directives[i].key, path,
			    strerror(errno));
		else if (!S_ISREG(st.st_mode))
			perr(&p, 0, "%s %s: not a regular file",
			    directives[i].key, path);
		else if ((st.st_mode & 077) != 0)
			perr(&p, 0, "%s %s: readable by group or others "
			    "(mode %04o); refusing a secret anyone else can "
			    "read, chmod 600 it", directives[i].key, path,
			    (unsigned int)(st.st_mode & 07777));
	}
	if (p.nerrors > 0) {
		*errs = p.errs;
		return -1;
	}
	return 0;
}

int
conf_load(const char *path, struct conf **out, char **errs)
{
	struct stat	 st;
	char		*text = NULL;
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd, rv = -1;

	*out = NULL;
	*errs = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(errs, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONF_MAX_FILE) {
		xasprintf(errs, "%s: not a regular file of at most %d bytes\n",
		    path, CONF_MAX_FILE);
		goto done;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, text + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			xasprintf(errs, "%s: read: %s\n", path,
			    r == 0 ? "short read" : strerror(errno));
			goto done;
		}
		got += (size_t)r;
	}
	if (conf_parse(path, text, got, out, errs) == -1)
		goto done;
	if (conf_check_secrets(*out, path, errs) == -1) {
		conf_free(*out);
		*out = NULL;
		goto done;
	}
	rv = 0;
done:
	free(text);
	close(fd);
	return rv;
}

int
conf_url_allowed(const struct conf *c, const char *url)
{
	if (strncmp(url, "https://", 8) == 0)
		return 1;
	return c->graph_allow_plain_http && strncmp(url, "http://", 7) == 0;
}

const char *
conf_check_ciphers(const char *list)
{
	STACK_OF(SSL_CIPHER)	*sk;
	const SSL_CIPHER	*ci;
	SSL_CTX			*ctx;
	const char		*why = NULL;
	int			 i, n12 = 0;

	if ((ctx = SSL_CTX_new(TLS_method())) == NULL) {
		why = "OpenSSL cannot make a TLS context";
		goto done;
	}
	if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
		why = "OpenSSL accepts no cipher suite in this list";
		goto done;
	}
	sk = SSL_CTX_get_ciphers(ctx);
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		ci = sk_SSL_CIPHER_value(sk, i);
		/* TLS 1.3 suites (tls_ciphers does not set them) are AEAD. */
		if (SSL_CIPHER_get_kx_nid(ci) == NID_kx_any)
			continue;
		if (SSL_CIPHER_get_kx_nid(ci) != NID_kx_ecdhe ||
		    SSL_CIPHER_get_auth_nid(ci) == NID_auth_null ||
		    !SSL_CIPHER_is_aead(ci)) {
			why = "a suite without ECDHE key exchange or AEAD "
			    "encryption (only ECDHE with AES-GCM or "
			    "ChaCha20-Poly1305 are allowed)";
			goto done;
		}
		n12++;
	}
	if (n12 == 0)
		why = "no TLS 1.2 suite left";
done:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return why;
}

int
conf_tenant_served(const struct conf *c, const char *tenant)
{
	return tenant != NULL && list_has(c->tenants, tenant);
}

char *
conf_token_url(const struct conf *c, const char *tenant)
{
	const char	*t, *at;
	char		*url = NULL, *n;

	t = c->graph_token_url != NULL ? c->graph_token_url :
	    CONF_TOKEN_URL_DEFAULT;
	while ((at = strstr(t, "{tenant}")) != NULL) {
		xasprintf(&n, "%s%.*s%s", url != NULL ? url : "",
		    (int)(at - t), t, tenant);
		free(url);
		url = n;
		t = at + 8;
	}
	xasprintf(&n, "%s%s", url != NULL ? url : "", t);
	free(url);
	return n;
}

const char *
conf_auth_mode_name(enum auth_mode m)
{
	return auth_modes[m == AUTH_MODE_NONE ? 1 : 0];
}

const char *
conf_media_name(enum media_mode m)
{
	return media_modes[m == MEDIA_APP ? 1 : 0];
}

const char *
conf_capture_source_name(enum capture_source s)
{
	return capture_sources[s == CAPTURE_SOURCE_AGENT ? 1 : 0];
}

int
conf_read_secret(const char *path, char *buf, size_t len, char *err,
    size_t errlen)
{
	struct stat	 st;
	ssize_t		 r;
	size_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: not a regular file only its owner "
		    "can read", path);
		close(fd);
		return -1;
	}
	r = read(fd, buf, len - 1);
	close(fd);
	if (r <= 0) {
		snprintf(err, errlen, "%s: %s", path, r == 0 ? "empty" :
		    strerror(errno));
		buf[0] = '\0';
		return -1;
	}
	buf[r] = '\0';
	n = strcspn(buf, "\r\n");
	if (n == (size_t)r && (size_t)r == len - 1) {
		snprintf(err, errlen, "%s: first line longer than %zu bytes",
		    path, len - 2);
		explicit_bzero(buf, len);
		return -1;
	}
	explicit_bzero(buf + n, (size_t)r - n);
	if (n == 0) {
		snprintf(err, errlen, "%s: first line is empty", path);
		return -1;
	}
	return 0;
}
