/* Private interfaces of polrec-graphsim, the Graph/Entra/Teams simulator. */
#ifndef GRAPHSIM_H
#define GRAPHSIM_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/types.h>

struct cJSON;
struct event;
struct event_base;
struct evhttp;
struct evhttp_request;

#define SIM_DEFAULT_APP_ID	"11111111-2222-3333-4444-555555555555"
#define SIM_DEFAULT_TENANT	"932899f8-2ea1-4604-8413-27bd2892079f"
#define SIM_DEFAULT_SECRET	"sim-secret"
#define SIM_ISSUER		"https://api.botframework.com"

#define SIM_MAX_BODY		(16 * 1024 * 1024) /* inbound bodies */
#define SIM_MAX_RECORDS		10000	/* calls-API requests */
#define SIM_MAX_CALLS		65536	/* call legs remembered */
#define SIM_MAX_TOKENS		4096	/* access tokens remembered */
#define SIM_TOKEN_LIFETIME	3599	/* seconds, as Entra reports it */
#define SIM_NOTIFY_TIMEOUT	15	/* seconds per notification POST */
#define SIM_RESPONSE_MAX	4096	/* response bytes reported */
#define SIM_UUID_LEN		36
#define SIM_MAX_KEYS		64	/* -k keys plus rotations */
#define SIM_IDP_SLOW_MS		3000	/* an IdP in state slow */
#define SIM_FAULT_MAX_DELAY_MS	600000
#define SIM_MAX_CERTS		8	/* -c certificates */
#define SIM_ASSERTION_SKEW	300	/* seconds allowed on nbf */
#define SIM_LIFECYCLE_DELAY_MS	20	/* the default delay_ms */
#define SIM_MAX_POSTS		10000	/* lifecycle, media posts pending */
#define SIM_MEDIA_SECRET	"sim-media-secret"
#define SIM_MAX_ID		256	/* call ids */
#define SIM_TSA_POLICY		"1.2.3.4.1"	/* as openssl.cnf's example */

/* Status codes event2/http.h (2.1) does not name. */
#ifndef HTTP_ACCEPTED
#define HTTP_ACCEPTED		202
#endif
#ifndef HTTP_UNAUTHORIZED
#define HTTP_UNAUTHORIZED	401
#endif
#ifndef HTTP_CONFLICT
#define HTTP_CONFLICT		409
#endif
#ifndef HTTP_TOOMANYREQUESTS
#define HTTP_TOOMANYREQUESTS	429
#endif

/* The Graph calls-API actions; each has a row in the fault table. */
enum sim_action {
	SIM_ACT_ANSWER,
	SIM_ACT_REJECT,
	SIM_ACT_REDIRECT,
	SIM_ACT_UPDATE_RECORDING_STATUS,
	SIM_ACT_KEEPALIVE,
	SIM_ACT_DELETE,
	SIM_ACT_GET,
	SIM_ACT_UNKNOWN,
	SIM_ACT_MAX
};

/*
 * The fault table has a row per action, one for the token endpoint, one
 * per media agent request (POST and DELETE /media/calls/{id}) and one
 * for the time stamping authority (POST /tsa) and one for the witness
 * (POST /witness).
 */
#define SIM_FAULT_TOKEN		SIM_ACT_MAX
#define SIM_FAULT_MEDIA		(SIM_ACT_MAX + 1)
#define SIM_FAULT_MEDIA_END	(SIM_ACT_MAX + 2)
#define SIM_FAULT_TSA		(SIM_ACT_MAX + 3)
#define SIM_FAULT_WITNESS	(SIM_ACT_MAX + 4)
#define SIM_FAULT_MAX		(SIM_ACT_MAX + 5)

/*
 * A fault armed for one row, consulted before the simulator answers:
 * the next `count` requests wait `delay_ms`, then have their connection
 * dropped without a reply (drop), or get `status` (with Retry-After when
 * set), or, with neither, the simulator's own answer late.
 */
struct sim_fault {
	unsigned int	 count;
	int		 status;	/* 0: the simulator's answer */
	int		 retry_after;	/* seconds; 0: no header */
	int		 delay_ms;
	int		 drop;
};

struct sim_key {
	EVP_PKEY	*key;
	char		*kid;
	int		 published;	/* in the JWKS */
};

/* The OpenID document and JWKS endpoints, as POST /_sim/idp sets them. */
enum sim_idp_state {
	SIM_IDP_UP,
	SIM_IDP_DOWN,		/* 503 with Retry-After: 1 */
	SIM_IDP_SLOW		/* answers after SIM_IDP_SLOW_MS */
};

/*
 * What the simulator knows about one call leg it announced.  A leg that
 * is rejected or deleted is gone: the calls API answers 404 8522.
 */
struct sim_call {
	LIST_ENTRY(sim_call)	 hash;
	TAILQ_ENTRY(sim_call)	 age;
	char			*id;
	char			 state[32];
	int			 answered;
	int			 rejected;
	int			 deleted;
	uint64_t		 generation;	/* new per created */
	char			*callback_uri;	/* answer's or reject's */
	char			*tenant_id;	/* as notifications say */
	char			*chain_id;
	char			*media_blob;	/* the media agent's */
	char			*events_url;	/* for its media events */
};

/* A -c certificate whose holder may sign client assertions. */
struct sim_cert {
	X509		*cert;
	char		*x5t;		/* base64url(SHA-1(DER)) */
	char		*x5t256;	/* base64url(SHA-256(DER)) */
};

/* What Teams posts after the bot answers, rejects or hangs up. */
enum sim_lifecycle_mode {
	SIM_LIFECYCLE_NORMAL,	/* in order, delay_ms apart */
	SIM_LIFECYCLE_REVERSED,	/* each pair the wrong way round */
	SIM_LIFECYCLE_NONE	/* nothing */
};

/* Why a token request failed, in Entra's terms. */
struct entra_error {
	int		 status;
	const char	*error;
	int		 code;		/* AADSTS code */
	char		 message[384];
};

struct sim_token {
	TAILQ_ENTRY(sim_token)	 entry;
	char			*token;
	char			*tid;		/* the tenant it is for */
	long long		 expires;	/* CLOCK_REALTIME seconds */
};

/* Counters; exported by GET /_sim/stats.  Never rename a key. */
struct sim_stats {
	uint64_t	witness_requests;
	uint64_t	witness_accepted;
	uint64_t	witness_refused;
	uint64_t	tokens_issued;
	uint64_t	token_errors;
	uint64_t	requests;	/* calls-API requests */
	uint64_t	auth_failures;
	uint64_t	actions[SIM_ACT_MAX];
	uint64_t	notifications_sent;
	uint64_t	notifications_failed;
	uint64_t	plays;
	uint64_t	openid_requests;
	uint64_t	jwks_requests;
	uint64_t	faults_injected;
	uint64_t	lifecycle_sent;		/* answered 2xx */
	uint64_t	lifecycle_failed;	/* no answer, or not 2xx */
	uint64_t	lifecycle_untargeted;	/* nowhere to post */
	uint64_t	calls_ended;		/* POST /_sim/calls/end */
	uint64_t	calls_forgotten;
	uint64_t	assertions_accepted;
	uint64_t	assertions_refused;
	uint64_t	media_requests;		/* /media/calls/{id} */
	uint64_t	media_auth_failures;
	uint64_t	media_blobs_issued;
	uint64_t	media_ends;		/* sessions released */
	uint64_t	media_events_sent;	/* answered 2xx */
	uint64_t	media_events_failed;	/* no answer, or not 2xx */
	uint64_t	tsa_requests;		/* POST /tsa */
	uint64_t	tsa_stamps_issued;	/* granted */
	uint64_t	tsa_refused;		/* answered, not granted */
	uint64_t	tsa_errors;		/* HTTP errors: type, size */
	uint64_t	token_tenant_mismatch;	/* 403: another tenant's */
};

#define SIM_CALL_BUCKETS	4096

struct evdns_base;
struct lifecycle_post;
struct media_event;
struct notify;
struct load;
struct play;
struct sim_deferred;
struct sim_tsa;

/* A token minted once and sent again for a while, as Graph does. */
struct sim_minted {
	int		 kind;		/* enum token_claims */
	int		 form;		/* enum token_form */
	char		*tid;		/* NULL: the default */
	char		*kid;		/* of the key that signed it */
	char		*value;		/* the Authorization header */
	long long	 minted;	/* unix seconds */
};

struct sim {
	struct event_base	*base;
	struct evhttp		*http;
	char			*self_url;	/* http://ADDR:PORT */

	struct sim_key		*keys;		/* -k keys, then rotated ones */
	size_t			 nkeys;
	size_t			 ninitial;	/* keys given with -k */
	size_t			 signing;	/* index of the signing key */
	EVP_PKEY		*other_key;	/* never published; lazily */
	struct sim_minted	*minted;	/* reused, as Graph does */
	int			 calls_open;	/* unknown ids: new calls */
	size_t			 nminted;
	enum sim_idp_state	 idp_state;
	char			*app_id;
	char			*tenant_id;	/* the first of -T */
	char			**tenants;	/* -T: those with tokens */
	size_t			 ntenants;
	char			*secret;	/* wiped on free */
	char			*target_url;	/* -u, may be NULL */
	FILE			*reqlog;	/* -r, may be NULL */
	SSL_CTX			*tls_client;	/* https targets */
	struct evdns_base	*dns;		/* lazily, for host names */
	struct sim_cert		 certs[SIM_MAX_CERTS];
	size_t			 ncerts;
	char			*media_secret;	/* -m, wiped on free */

	TAILQ_HEAD(sim_tokenq, sim_token) tokens;
	size_t			 ntokens;
	LIST_HEAD(, sim_call)	 calls[SIM_CALL_BUCKETS];
	TAILQ_HEAD(, sim_call)	 calls_by_age;
	size_t			 ncalls;
	uint64_t		 generation;	/* the last one given */
	char			**records;	/* ring of JSON lines */
	size_t			 records_head;
	size_t			 nrecords;
	struct sim_fault	 faults[SIM_FAULT_MAX];

	TAILQ_HEAD(, notify)	 notifies;
	TAILQ_HEAD(, play)	 plays;
	TAILQ_HEAD(, load)	 loads;
	TAILQ_HEAD(, sim_deferred) deferred;
	enum sim_lifecycle_mode	 lifecycle_mode;
	int			 lifecycle_delay_ms;
	TAILQ_HEAD(, lifecycle_post) lifecycle_posts;
	size_t			 nlifecycle_posts;
	int			 media_auto;	/* captureStarted by itself */
	TAILQ_HEAD(, media_event) media_events;
	size_t			 nmedia_events;
	struct sim_tsa		*tsa;		/* -t, -K; may be NULL */
	struct sim_stats	 stats;
	char			**witnessed;	/* checkpoints, as POSTed */
	size_t			 nwitnessed;
};

/*
 * One line of the request record (GET /_sim/requests, -r): calls-API and
 * media agent requests, and media events the simulator posted.
 */
struct sim_record {
	int		 method;	/* EVHTTP_REQ_* */
	const char	*path;		/* or the URL posted to */
	const char	*version;	/* NULL: null */
	const char	*action;
	const char	*call_id;
	const char	*client_request_id;	/* NULL: null */
	const char	*request_id;
	int		 auth_ok;
	const char	*token_tid;	/* the app token's tenant, or NULL */
	int		 status;	/* 0: dropped, or no answer */
	struct cJSON	*body;		/* taken; NULL: null */
	const char	*fault;		/* NULL: no member */
	const char	*error;		/* NULL: no member */
};

/* witness.c: a witness of audit checkpoints */
void		 witness_handle(struct sim *, struct evhttp_request *);
void		 witness_show(struct sim *, struct evhttp_request *);
void		 witness_latest(struct sim *, struct evhttp_request *);
void		 witness_shutdown(struct sim *);

/* sim.c: the server, routing, shared reply helpers, control API. */
typedef void	(*sim_resume_fn)(struct sim *, struct evhttp_request *,
		    void *);

struct sim	*sim_new(struct event_base *);
void		 sim_free(struct sim *);
int		 sim_listen(struct sim *, const char *, char **);
void		 sim_defer(struct sim *, struct evhttp_request *, int,
		    sim_resume_fn, void *);
void		 sim_defer_flush(struct sim *);
void		 sim_drop(struct evhttp_request *);
char		*sim_query_param(struct evhttp_request *, const char *);
void		 sim_reply(struct evhttp_request *, int, const char *,
		    size_t);
void		 sim_reply_json(struct evhttp_request *, int,
		    const struct cJSON *);
void		 sim_reply_error(struct evhttp_request *, int,
		    const char *);
char		*sim_read_body(struct evhttp_request *, size_t *);
const char	*sim_action_name(enum sim_action);
const char	*sim_method_name(int);
void		 sim_make_uuid(char [SIM_UUID_LEN + 1]);
void		 sim_format_time(char *, size_t, int);
long long	 sim_monotonic_ms(void);

/* idp.c: OpenID configuration, JWKS and the Entra token endpoint. */
void		 idp_set_error(struct entra_error *, int, const char *, int,
		    const char *, ...)
		    __attribute__((__format__ (printf, 5, 6)));
void		 idp_handle_openid(struct sim *, struct evhttp_request *);
void		 idp_handle_keys(struct sim *, struct evhttp_request *);
int		 idp_match_token_path(const char *);
void		 idp_handle_token(struct sim *, struct evhttp_request *,
		    const char *);
int		 idp_check_bearer(struct sim *, const char *, const char **);
int		 idp_tenant_known(const struct sim *, const char *);
void		 idp_clear_tokens(struct sim *);
void		 idp_show_state(struct sim *, struct evhttp_request *);
void		 idp_set_state(struct sim *, struct evhttp_request *);
void		 idp_set_secret(struct sim *, struct evhttp_request *);

/* certs.c: -c certificates and Entra client assertions signed by them. */
struct evkeyvalq;

int		 certs_load(struct sim *, const char *);
void		 certs_clear(struct sim *);
int		 certs_check_assertion(struct sim *, struct evhttp_request *,
		    const char *, struct evkeyvalq *, struct entra_error *);

/* calls.c: the Graph calls API and the simulator's view of call legs. */
int		 calls_match_path(const char *);
void		 calls_handle(struct sim *, struct evhttp_request *,
		    const char *);
void		 calls_register(struct sim *, const struct cJSON *);
struct sim_call	*calls_find(struct sim *, const char *);
struct sim_call	*calls_add(struct sim *, const char *);
int		 calls_gone(const struct sim_call *);
void		 calls_open(struct sim *, struct evhttp_request *);
void		 calls_clear(struct sim *);

/* records.c: the request record, in memory and in the -r file. */
void		 records_add(struct sim *, struct sim_record *);
void		 records_write(struct sim *, struct evhttp_request *);
void		 records_clear(struct sim *);

/* lifecycle.c: what Teams posts about a call leg after the bot acts. */
void		 lifecycle_answered(struct sim *, struct sim_call *);
void		 lifecycle_rejected(struct sim *, struct sim_call *);
void		 lifecycle_deleted(struct sim *, struct sim_call *);
void		 lifecycle_show(struct sim *, struct evhttp_request *);
void		 lifecycle_set(struct sim *, struct evhttp_request *);
void		 lifecycle_end_call(struct sim *, struct evhttp_request *);
void		 lifecycle_forget_call(struct sim *,
		    struct evhttp_request *);
void		 lifecycle_reset(struct sim *);
void		 lifecycle_cancel_all(struct sim *);

/* media.c: the media agent (app-hosted media) and its capture events. */
int		 media_match_path(const char *);
void		 media_handle(struct sim *, struct evhttp_request *,
		    const char *);
void		 media_established(struct sim *, struct sim_call *);
void		 media_show(struct sim *, struct evhttp_request *);
void		 media_control(struct sim *, struct evhttp_request *);
void		 media_reset(struct sim *);
void		 media_cancel_all(struct sim *);

/* faults.c: the fault table and its control API. */
int		 faults_take(struct sim *, int, struct sim_fault *);
void		 faults_show(struct sim *, struct evhttp_request *);
void		 faults_arm(struct sim *, struct evhttp_request *);
void		 faults_clear(struct sim *, struct evhttp_request *);

/* tsa.c: an RFC 3161 time stamping authority at POST /tsa. */
int		 tsa_load(struct sim *, const char *, const char *,
		    const char *);
void		 tsa_unload(struct sim *);
void		 tsa_handle(struct sim *, struct evhttp_request *);
void		 tsa_show(struct sim *, struct evhttp_request *);
void		 tsa_control(struct sim *, struct evhttp_request *);
void		 tsa_reset(struct sim *);

/* tokens.c: Authorization header values for notifications. */
enum token_claims {
	TOK_CLAIMS_VALID,
	TOK_CLAIMS_EXPIRED,
	TOK_CLAIMS_NOT_YET_VALID,
	TOK_CLAIMS_WRONG_AUD,
	TOK_CLAIMS_AUD_ARRAY,
	TOK_CLAIMS_WRONG_ISS,
	TOK_CLAIMS_GRAPH_ISS,
	TOK_CLAIMS_NO_TID,
	TOK_CLAIMS_WRONG_TID
};

enum token_form {
	TOK_FORM_NONE,		/* no Authorization header */
	TOK_FORM_RS256,		/* the signing key and its kid */
	TOK_FORM_SECOND_KEY,	/* the second -k key and its kid */
	TOK_FORM_UNKNOWN_KID,
	TOK_FORM_RANDOM_KID,	/* a fresh random kid per token */
	TOK_FORM_OTHER_KEY,
	TOK_FORM_TRUNCATED_SIG,
	TOK_FORM_ALG_NONE,
	TOK_FORM_HS256_PUBKEY,
	TOK_FORM_DUPLICATE_ALG,
	TOK_FORM_GARBAGE,
	TOK_FORM_BASIC
};

void		 tokens_forget(struct sim *);
int		 tokens_mint(struct sim *, enum token_claims,
		    enum token_form, const char *, char **, const char **);

/* notify.c: posting signed notifications to a webhook. */
struct notify_token;

struct notify_result {
	int		 status;	/* 0: no HTTP response */
	long long	 elapsed_ms;
	const char	*response;	/* at most SIM_RESPONSE_MAX bytes */
	size_t		 response_len;
	const char	*error;		/* why status is 0, or NULL */
};

/*
 * A post to a webhook.  Scenario steps are posted as Teams would post
 * them; the simulator's own posts set own (it learns no call legs from
 * them), and media events set bearer (Authorization: Bearer <bearer>
 * instead of a token, and none of Teams' headers).
 */
struct notify_spec {
	const char		*target;	/* URL */
	const struct cJSON	*json;	/* the notification, or */
	const char		*raw;	/* a body sent verbatim */
	const char		*content_type;	/* NULL: JSON */
	const struct notify_token *token;	/* NULL: a valid JWT */
	const struct cJSON	*headers;	/* extra, or NULL */
	const char		*message_id;	/* NULL: a fresh one */
	int			 own;		/* the simulator's */
	const char		*bearer;	/* a shared secret, or NULL */
	const char		*authorization;	/* minted already, or NULL */
	int			 timeout_s;	/* 0: SIM_NOTIFY_TIMEOUT */
	const char		*tid;	/* the token's tenant; NULL: -T's */
};

typedef void	(*notify_done_cb)(const struct notify_result *, void *);

const struct notify_token *notify_token_find(const char *);
void		 notify_token_list(FILE *);
int		 notify_check_target(const char *, const char **);
struct notify	*notify_send(struct sim *, const struct notify_spec *,
		    notify_done_cb, void *);
void		 notify_cancel(struct sim *, struct notify *);
void		 notify_cancel_all(struct sim *);

/* play.c: scenarios played against the target on behalf of /_sim/play. */
int		 play_start(struct sim *, struct evhttp_request *,
		    const char *, size_t, char *, size_t);
void		 play_abort_all(struct sim *);

/* load.c: a mixed load of notifications at a rate, re-sent as Teams does. */
void		 load_start(struct sim *, struct evhttp_request *);
void		 load_abort_all(struct sim *);

/* keys.c: RSA key files and the published key set. */
int		 keys_load(const char *, int, EVP_PKEY **);
EVP_PKEY	*keys_generate(void);
int		 keys_add(struct sim *, EVP_PKEY *);
void		 keys_clear(struct sim *);
void		 keys_show(struct sim *, struct evhttp_request *);
void		 keys_rotate(struct sim *, struct evhttp_request *);
void		 keys_retire(struct sim *, struct evhttp_request *);

/* client.c: the play, requests and ctl subcommands. */
int		 client_play(int, char **);
int		 client_requests(int, char **);
int		 client_ctl(int, char **);
int		 client_load(int, char **);

#endif
