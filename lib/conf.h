/*
 * polrecd.conf: `[section]` and `key = value` lines parsed into a fresh
 * struct conf.  conf_parse() does no I/O, so it is unit-tested and fuzzed
 * directly; conf_load() reads the file and checks the secret files it
 * names.  Reload builds a new struct and swaps it in only on success.
 */
#ifndef POLREC_CONF_H
#define POLREC_CONF_H

#include <stddef.h>

#define CONF_DEFAULT_PATH	"/etc/polrecd/polrecd.conf"
#define CONF_MAX_FILE		(1024 * 1024)
#define CONF_MAX_LIST		16	/* items in a list directive */
/* [graph] token_url: {tenant} is each tenant served. */
#define CONF_TOKEN_URL_DEFAULT	\
	"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
/* [admin] listen: metrics and health, on loopback. */
#define CONF_ADMIN_LISTEN_DEFAULT	"127.0.0.1:9464"
/* [http] tls_ciphers: forward secrecy and AEAD only, for TLS 1.2. */
#define CONF_TLS_CIPHERS_DEFAULT	"ECDHE+AESGCM:ECDHE+CHACHA20"

/*
 * A year in durations is 366 days, so that a floor of N years is never
 * shorter than N calendar years, whatever leap days they hold.
 */
#define CONF_YEAR		(366LL * 86400)
/* [audit] retention_min: MiFID II keeps records at least five years. */
#define CONF_RETENTION_MIN_DEFAULT	(5 * CONF_YEAR)

enum auth_mode {
	AUTH_MODE_JWT = 0,
	AUTH_MODE_NONE,
};

enum media_mode {
	MEDIA_SERVICE = 0,
	MEDIA_APP,
};

/*
 * What gives evidence that capture runs, without which `recording` is
 * never reported: nothing, or a media agent posting capture events
 * (always so with media = app; with media = service, an external
 * capture source speaking the agent's contract).
 */
enum capture_source {
	CAPTURE_SOURCE_NONE = 0,
	CAPTURE_SOURCE_AGENT,
};

/* A full recorder group: reject joins busy, or send them to a bot. */
enum overflow_mode {
	OVERFLOW_REJECT = 0,
	OVERFLOW_INVITE,
};

struct netaddr_cidr;

struct conf {
	/* [http] */
	char		*http_listen;		/* ADDR:PORT, [v6]:PORT */
	char		*http_notification_path;
	char		*http_callback_url;
	char		*http_tls_cert;
	char		*http_tls_key;
	char		*http_tls_ciphers;	/* OpenSSL list, TLS 1.2 */
	long long	 http_max_body;		/* bytes */
	long long	 http_max_header_size;	/* bytes */
	long long	 http_request_timeout;	/* seconds: keep-alive idle */
	long long	 http_request_deadline;	/* seconds: a request, whole */
	long long	 http_max_connections;
	long long	 http_max_connections_per_address;	/* a network */
	long long	 http_connection_rate;	/* new a second, a network */
	char		**http_allow_from;	/* CIDR blocks; NULL: any */
	struct netaddr_cidr *http_allow;	/* parsed from it */
	size_t		 http_nallow;

	/* [graph] */
	char		*graph_base_url;
	char		*graph_token_url;
	char		*graph_app_id;
	char		*graph_tenant_id;	/* old: see tenants */
	char		*graph_client_secret_file;
	char		*graph_client_cert_file;
	char		*graph_client_key_file;
	int		 graph_allow_plain_http;	/* 0 no, 1 yes */
	long long	 graph_max_connections;	/* outbound, and requests at
						   once over HTTP/1.1 */

	/* [auth] */
	enum auth_mode	 auth_mode;
	char		*auth_openid_configuration_url;
	char		**auth_issuers;		/* NULL-terminated list */
	char		**auth_tenants;		/* old: see tenants */
	long long	 auth_clock_skew;	/* seconds */
	long long	 auth_key_refresh;	/* seconds between JWKS fetches */

	/* [recording] */
	long long	 recording_participant_capacity;
	enum media_mode	 recording_media;
	enum capture_source recording_capture_source;	/* agent if app */
	char		**recording_tenants;	/* old: see tenants */
	char		**recording_policies;	/* NULL-terminated; "*" = any */
	long long	 recording_max_calls;
	long long	 recording_answer_budget_ms;
	char		**recording_accepted_modalities;
	int		 recording_delta_roster;	/* 0 no, 1 yes */
	long long	 recording_keepalive_interval;	/* seconds */
	char		*recording_media_agent_url;
	char		*recording_media_agent_secret_file;
	char		*recording_media_events_path;
	int		 recording_overflow;	/* OVERFLOW_* */
	char		*recording_invite_url;	/* NULL: callback URI */
	char		*recording_redirect_url;	/* busy invitations: 302 there */

	/* [audit] */
	char		*audit_database;
	char		*audit_key_dir;
	long long	 audit_checkpoint_events;	/* sign every N events */
	long long	 audit_checkpoint_interval;	/* or T seconds */
	long long	 audit_max_pending;	/* events; then 503 */
	long long	 audit_disk_reserve_mb;	/* kept free for the trail */
	long long	 audit_startup_check_sec;	/* quick_check bound */
	char		*audit_witness_url;	/* checkpoints POSTed there */
	char		*audit_tsa_url;		/* RFC 3161, time-stamps them */
	long long	 audit_retention_min;	/* seconds; prune floor */
	char		*audit_group;		/* NULL: the daemon's group */

	/* [control] */
	char		*control_socket;
	char		*control_group;		/* NULL: the daemon's group */

	/* [admin] */
	char		*admin_listen;		/* ADDR:PORT, or "off" */
	long long	 admin_quiet_alarm;	/* seconds; 0: off */
	long long	 admin_alarm_window;	/* seconds: missed answers */
	long long	 admin_clock_max_error_ms;
	long long	 admin_token_alarm;	/* seconds left on a token */
	long long	 admin_checkpoint_alarm;	/* seconds failing */
	long long	 admin_ready_wait;	/* seconds: READY=1 at the latest */

	/* [tenants] */
	char		**tenants_ids;		/* as written; NULL: unset */

	/*
	 * The tenants served, folded from [tenants] ids or the old
	 * [graph] tenant_id, [auth] tenants and [recording] tenants
	 * (conf_parse): NULL-terminated GUIDs, possibly none.  A token is
	 * fetched for each; notification tokens must carry one; others'
	 * invitations are refused.  No "*".
	 */
	char		**tenants;
	/* "name:line: message" lines worth a warning, or NULL. */
	char		*warnings;
};

/*
 * Parse text named `name` (used in messages).  On success returns 0 and a
 * new conf with defaults filled in.  On failure returns -1 and sets *errs
 * to newline-separated "name:line: message" lines (caller frees).
 */
int	 conf_parse(const char *name, const char *text, size_t len,
	    struct conf **out, char **errs);

/* Read and parse a file, then check the files it names (secrecy). */
int	 conf_load(const char *path, struct conf **out, char **errs);

/* The secret files a conf names are not readable by group or others. */
int	 conf_check_secrets(const struct conf *, const char *name,
	    char **errs);

void	 conf_free(struct conf *);

/*
 * The first line of a secret file (a client secret, a shared secret)
 * into buf, without its line end.  -1 and a reason in err when the file
 * cannot be read, is readable by others, or the line is empty or does
 * not fit.  The caller wipes buf when done.
 */
int	 conf_read_secret(const char *path, char *buf, size_t len,
	    char *err, size_t errlen);

/*
 * A duration: digits with an optional unit s (the default), m, h, d, w
 * or y (CONF_YEAR), e.g. 5y, 1825d, 3600.  0 and *secs, or -1.
 */
int	 conf_parse_duration(const char *v, long long *secs);

/* Split "ADDR:PORT" or "[ADDR]:PORT"; addr buffer gets the host. */
int	 conf_split_listen(const char *listen, char *addr, size_t addrlen,
	    unsigned short *port);

/*
 * An OpenSSL cipher list for TLS 1.2 that leaves at least one suite and
 * only forward-secret AEAD ones (ECDHE key exchange, GCM or
 * ChaCha20-Poly1305).  NULL, or the reason it is refused.
 */
const char *conf_check_ciphers(const char *);

/*
 * 1 when an outbound URL may be used under c: https://, or http:// with
 * [graph] allow_plain_http = yes; 0 otherwise.
 */
int	 conf_url_allowed(const struct conf *c, const char *url);

/* 1 when tenant is one of c->tenants (case-insensitive), else 0. */
int	 conf_tenant_served(const struct conf *c, const char *tenant);

/*
 * The token endpoint of a tenant: [graph] token_url with each
 * {tenant} replaced by it (the default URL has one); malloc'd.
 */
char	*conf_token_url(const struct conf *c, const char *tenant);

const char *conf_auth_mode_name(enum auth_mode);
const char *conf_media_name(enum media_mode);
const char *conf_capture_source_name(enum capture_source);

#endif
