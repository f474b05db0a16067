/* polrecd: main, configuration, signals and the one event loop. */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <sodium.h>

#include "conf.h"
#include "coredump.h"
#include "fetch.h"
#include "graph.h"
#include "keys.h"
#include "legs.h"
#include "replay.h"
#include "log.h"
#include "polrecd.h"
#include "retention.h"
#include "tokcache.h"
#include "xmalloc.h"

static void	 usage(void) __attribute__((__noreturn__));
static void	 on_sigterm(evutil_socket_t, short, void *);
static void	 on_sighup(evutil_socket_t, short, void *);
static void	 print_errors(const char *);
static void	 warn_unsafe_conf(const struct conf *);
static void	 on_housekeeping(evutil_socket_t, short, void *);

#define HOUSEKEEPING_SEC	10

static void
usage(void)
{
	fprintf(stderr, "usage: polrecd [-dnvV] [-f file]\n");
	exit(2);
}

uint64_t
polrecd_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t
polrecd_utc_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Monotonic instants as wall-clock time and back, by the clocks' offset
 * now (the database keeps UTC; the monotonic clock restarts at boot). */
int64_t
polrecd_utc_of(uint64_t mono_us)
{
	return polrecd_utc_us() - (int64_t)(polrecd_now_us() - mono_us);
}

uint64_t
polrecd_mono_of(int64_t utc_us)
{
	uint64_t	 now = polrecd_now_us();
	int64_t		 ago = polrecd_utc_us() - utc_us;

	if (ago < 0)
		ago = 0;
	return (uint64_t)ago < now ? now - (uint64_t)ago : 1;
}

/* Configuration errors go to stderr as file:line lines, or to the log. */
static void
print_errors(const char *errs)
{
	const char	*s, *nl;

	for (s = errs; s != NULL && *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		log_warnx("%.*s", (int)(nl - s), s);
		if (*nl == '\0')
			break;
	}
}

/* Settings fit for tests only, said at every start and reload. */
static void
warn_unsafe_conf(const struct conf *c)
{
	char		 floor[32];
	const char	*w, *nl;

	/* The parser's warnings: old names, tenants, one line each. */
	for (w = c->warnings; w != NULL && *w != '\0'; w = nl + 1) {
		if ((nl = strchr(w, '\n')) == NULL)
			nl = w + strlen(w) - 1;
		log_warnx("%.*s", (int)(nl - w), w);
	}
	if (c->auth_mode == AUTH_MODE_NONE)
		log_warnx("[auth] mode = none: notifications are NOT "
		    "authenticated; for local experiments only");
	if (c->graph_allow_plain_http)
		log_warnx("[graph] allow_plain_http = yes: outbound URLs may "
		    "be plain http, tokens and secrets cross the network in "
		    "the clear; for tests and simulators only");
	if (c->audit_retention_min < CONF_RETENTION_MIN_DEFAULT) {
		retention_format_duration(c->audit_retention_min, floor,
		    sizeof(floor));
		log_warnx("[audit] retention_min = %s: shorter than the five "
		    "years MiFID II requires records be kept", floor);
	}
}

/* The one periodic timer: expiry of what is kept for a while. */
static void
on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
	struct polrecd	*sc = arg;
	struct timespec	 now;
	size_t		 n;

	(void)fd;
	(void)what;
	clock_gettime(CLOCK_REALTIME, &now);
	if ((n = replay_expire(sc->sc_replay, (long long)now.tv_sec)) > 0)
		log_debug("housekeeping: %zu replay entries expired", n);
	legs_expire(sc);
	journal_tick(sc);
}

/*
 * Descriptors: the soft limit up to the hard one (systemd's default soft
 * limit is 1024), so that webhook connections have room beside Graph's,
 * SQLite's and the control socket's; http.c keeps max_connections below.
 */
static void
raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("cannot raise the descriptor limit");
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_info("descriptors: up to %llu",
		    (unsigned long long)rl.rlim_cur);
}

/*
 * Stopping waits, at most STOP_SETTLE_SEC, for the outcomes of answers
 * under way (sent, or being asked of Graph), so that a clean stop leaves
 * none undecided; new invitations are refused busy meanwhile.  A second
 * signal stops at once; what is still open is settled at the next start.
 */
static void
on_stop_check(evutil_socket_t fd, short what, void *arg)
{
	struct polrecd	*sc = arg;
	size_t		 n = legs_unsettled(sc);

	(void)fd;
	(void)what;
	if (n == 0 || polrecd_now_us() >= sc->sc_stop_by) {
		if (n > 0)
			log_warnx("stopping with %zu outcome(s) still open; "
			    "they are settled with Graph at the next start", n);
		event_base_loopexit(sc->sc_base, NULL);
	}
}

static void
on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct polrecd	*sc = arg;
	struct timeval	 tv = { 0, 100000 };
	size_t		 n;

	(void)what;
	log_info("received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	systemd_stopping(sc->sc_systemd);
	if (sc->sc_ev_stop != NULL || (n = legs_unsettled(sc)) == 0) {
		event_base_loopexit(sc->sc_base, NULL);
		return;
	}
	log_info("stopping once the outcomes of %zu answer(s) under way are "
	    "known (at most %d s); new invitations are refused busy", n,
	    STOP_SETTLE_SEC);
	sc->sc_draining = 1;
	sc->sc_stop_by = polrecd_now_us() + STOP_SETTLE_SEC * 1000000ULL;
	if ((sc->sc_ev_stop = event_new(sc->sc_base, -1, EV_PERSIST,
	    on_stop_check, sc)) == NULL || event_add(sc->sc_ev_stop, &tv) == -1)
		event_base_loopexit(sc->sc_base, NULL);
}

/*
 * Reload: parse a fresh struct and swap it in only on success.  What is
 * bound at start-up (the listener) keeps its old value until a restart.
 * `by` says who asked (the signal, or a uid), for the trail.  0, or -1
 * with the first error in err.
 */
static int
reload(struct polrecd *sc, const char *by, char *err, size_t errlen)
{
	struct conf	*nc;
	char		*errs, detail[96], *nl;

	snprintf(detail, sizeof(detail), "{\"by\":\"%s\"}", by);
	systemd_reloading(sc->sc_systemd);
	if (conf_load(sc->sc_conf_path, &nc, &errs) == -1) {
		print_errors(errs);
		snprintf(err, errlen, "%s", errs != NULL && errs[0] != '\0' ?
		    errs : "configuration not valid");
		if ((nl = strchr(err, '\n')) != NULL)
			*nl = '\0';
		log_warnx("reload of %s (by %s) failed; keeping the running "
		    "configuration", sc->sc_conf_path, by);
		journal_simple(sc, "reload", "failed", err, detail);
		systemd_reloaded(sc->sc_systemd, err);
		free(errs);
		return -1;
	}
	if (strcmp(nc->http_listen, sc->sc_conf->http_listen) != 0)
		log_warnx("reload: listen %s needs a restart; still on %s",
		    nc->http_listen, sc->sc_conf->http_listen);
	if (strcmp(nc->admin_listen, sc->sc_conf->admin_listen) != 0)
		log_warnx("reload: [admin] listen %s needs a restart; still "
		    "%s", nc->admin_listen, sc->sc_conf->admin_listen);
	conf_free(sc->sc_conf);
	sc->sc_conf = nc;
	http_reconfigure(sc->sc_http);
	tokens_reconfigure(sc->sc_tokens);
	fetch_set_limits(sc->sc_fetch, (long)nc->graph_max_connections);
	/* Issuers and the audience may have changed: verify afresh. */
	tokcache_clear(sc->sc_verified);
	media_reconfigure(sc);
	/* Turning authentication on needs the signing keys. */
	if (nc->auth_mode == AUTH_MODE_JWT && sc->sc_keys == NULL &&
	    (sc->sc_keys = keys_new(sc)) == NULL)
		log_warnx("reload: cannot start fetching signing keys");
	warn_unsafe_conf(nc);
	log_info("configuration reloaded from %s (by %s)", sc->sc_conf_path,
	    by);
	journal_simple(sc, "reload", "ok", NULL, detail);
	systemd_reloaded(sc->sc_systemd, NULL);
	return 0;
}

static void
on_sighup(evutil_socket_t sig, short what, void *arg)
{
	char	 err[256];

	(void)sig;
	(void)what;
	(void)reload(arg, "SIGHUP", err, sizeof(err));
}

int
main(int argc, char *argv[])
{
	struct polrecd	 sc;
	char		*errs = NULL, *authz = NULL, by[32];
	long long	 authz_uid;
	int		 ch, foreground = 0, checkonly = 0, verbose = 0;

	memset(&sc, 0, sizeof(sc));
	sc.sc_conf_path = CONF_DEFAULT_PATH;
	while ((ch = getopt(argc, argv, "df:nvV")) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			sc.sc_conf_path = optarg;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("polrecd %s\n", POLREC_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/* Under systemd (Type=notify) stay in front, logging to the journal. */
	if (!foreground && !checkonly && getenv("NOTIFY_SOCKET") == NULL &&
	    getenv("INVOCATION_ID") == NULL) {
		log_init(0, verbose, "polrecd");
		if (daemon(0, 0) == -1)
			fatal("daemon");
	} else
		log_init(foreground || checkonly, verbose, "polrecd");
	/* Before any secret is read: a core would hold them all. */
	if (coredump_disable() == -1)
		fatal("cannot turn core dumps off");

	if (conf_load(sc.sc_conf_path, &sc.sc_conf, &errs) == -1) {
		print_errors(errs);
		free(errs);
		if (checkonly)
			fprintf(stderr, "%s: configuration is not valid\n",
			    sc.sc_conf_path);
		return 1;
	}
	if (checkonly) {
		warn_unsafe_conf(sc.sc_conf);
		if (sodium_init() < 0)
			fatalx("libsodium failed to initialise");
		/* The files it names, then the database polrecd would
		 * refuse, said the same way as at start-up. */
		ch = confcheck_files(sc.sc_conf);
		if (startcheck_database(sc.sc_conf, 1, &authz,
		    &authz_uid) == -1)
			ch++;
		free(authz);
		if (ch == 0)
			fprintf(stderr, "%s: configuration OK\n",
			    sc.sc_conf_path);
		else
			fprintf(stderr, "%s: %d problem%s found\n",
			    sc.sc_conf_path, ch, ch == 1 ? "" : "s");
		conf_free(sc.sc_conf);
		return ch > 0 ? 1 : 0;
	}

	/* Nothing polrecd creates is for others: the database, its WAL. */
	umask(S_IWGRP | S_IRWXO);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		fatalx("libsodium failed to initialise");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("libcurl failed to initialise");
	clock_gettime(CLOCK_REALTIME, &sc.sc_started);
	if ((sc.sc_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	sc.sc_ev_sigterm = evsignal_new(sc.sc_base, SIGTERM, on_sigterm, &sc);
	sc.sc_ev_sigint = evsignal_new(sc.sc_base, SIGINT, on_sigterm, &sc);
	sc.sc_ev_sighup = evsignal_new(sc.sc_base, SIGHUP, on_sighup, &sc);
	if (sc.sc_ev_sigterm == NULL || sc.sc_ev_sigint == NULL ||
	    sc.sc_ev_sighup == NULL ||
	    evsignal_add(sc.sc_ev_sigterm, NULL) == -1 ||
	    evsignal_add(sc.sc_ev_sigint, NULL) == -1 ||
	    evsignal_add(sc.sc_ev_sighup, NULL) == -1)
		fatalx("cannot install signal handlers");

	warn_unsafe_conf(sc.sc_conf);
	metrics_init(&sc);

	if ((sc.sc_fetch = fetch_new(sc.sc_base)) == NULL)
		fatalx("cannot start the HTTP client");
	fetch_set_limits(sc.sc_fetch, (long)sc.sc_conf->graph_max_connections);
	sc.sc_replay = replay_new(REPLAY_MAX_ENTRIES);
	{
		struct timeval	 tv = { HOUSEKEEPING_SEC, 0 };

		sc.sc_ev_housekeeping = event_new(sc.sc_base, -1, EV_PERSIST,
		    on_housekeeping, &sc);
		if (sc.sc_ev_housekeeping == NULL ||
		    event_add(sc.sc_ev_housekeeping, &tv) == -1)
			fatalx("cannot start the housekeeping timer");
	}
	if ((sc.sc_tokens = tokens_new(&sc)) == NULL)
		fatalx("cannot load the Graph client credentials");
	/* Refused: said in one line; nothing was created. */
	if (startcheck_database(sc.sc_conf, 0, &authz, &authz_uid) == -1)
		exit(1);
	sc.sc_reserve = reserve_new(&sc);
	if ((sc.sc_commit = commit_new(&sc)) == NULL)
		fatalx("cannot open the database %s",
		    sc.sc_conf->audit_database);
	if ((sc.sc_journal = journal_new(&sc)) == NULL)
		fatalx("cannot open the audit trail in %s",
		    sc.sc_conf->audit_database);
	sc.sc_reload = reload;
	sc.sc_witness = witness_new(&sc);
	sc.sc_refused = refused_new(&sc);
	if (authz != NULL) {
		/* The new trail's first event. */
		snprintf(by, sizeof(by), "uid %lld", authz_uid);
		journal_simple(&sc, "new_trail", "authorised", by, authz);
	}
	journal_simple(&sc, "restart", "started", NULL,
	    "{\"version\":\"" POLREC_VERSION "\"}");
	if (legs_init(&sc) == -1)
		fatalx("cannot load the state key from %s",
		    sc.sc_conf->audit_key_dir);
	replays_restore(&sc);
	if (legstore_restore(&sc) == -1)
		fatalx("cannot restore the call legs from %s",
		    sc.sc_conf->audit_database);
	if (authz != NULL) {
		/* Committed before the authorisation is used up. */
		commit_flush(sc.sc_commit);
		if (!commit_ok(sc.sc_commit))
			fatalx("cannot record the new trail in %s",
			    sc.sc_conf->audit_database);
		startcheck_done(sc.sc_conf);
		free(authz);
		authz = NULL;
	}
	if (media_init(&sc) == -1)
		fatalx("cannot load the media agent secret");
	if (sc.sc_conf->auth_mode == AUTH_MODE_JWT &&
	    (sc.sc_keys = keys_new(&sc)) == NULL)
		fatalx("cannot start fetching signing keys");
	sc.sc_verified = tokcache_new(0);
	if ((sc.sc_control = control_new(&sc)) == NULL)
		fatalx("cannot open the control socket %s",
		    sc.sc_conf->control_socket);
	raise_nofile();
	if ((sc.sc_http = http_new(&sc)) == NULL)
		fatalx("cannot start the HTTP listener on %s",
		    sc.sc_conf->http_listen);

	/* After the listener: the admin endpoints report on it. */
	sc.sc_admin = admin_new(&sc);
	if ((sc.sc_alarms = alarms_new(&sc)) == NULL)
		fatalx("cannot start the alarms' timer");

	resume_start(&sc);
	/* READY=1 from the loop, once the keys and tokens are there. */
	sc.sc_systemd = systemd_new(&sc);

	log_info("polrecd %s started", POLREC_VERSION);
	if (event_base_dispatch(sc.sc_base) == -1)
		log_warnx("event loop failed");

	systemd_free(sc.sc_systemd);
	sc.sc_systemd = NULL;
	admin_free(sc.sc_admin);
	sc.sc_admin = NULL;
	alarms_free(sc.sc_alarms);
	sc.sc_alarms = NULL;
	/* What is pending is committed, and its replies released, first;
	 * the last checkpoint leaves through the log. */
	witness_free(sc.sc_witness);
	sc.sc_witness = NULL;
	refused_free(sc.sc_refused);
	sc.sc_refused = NULL;
	journal_simple(&sc, "shutdown", "stopped", NULL, NULL);
	journal_sign_now(&sc);
	commit_flush(sc.sc_commit);
	journal_free(sc.sc_journal);
	sc.sc_journal = NULL;
	commit_free(sc.sc_commit);
	sc.sc_commit = NULL;
	reserve_free(sc.sc_reserve);
	sc.sc_reserve = NULL;
	/* Then tear down in reverse order of start-up. */
	resume_shutdown(&sc);
	http_free(sc.sc_http);
	control_free(sc.sc_control);
	keys_free(sc.sc_keys);
	tokcache_free(sc.sc_verified);
	media_shutdown(&sc);
	legs_shutdown(&sc);
	graph_cancel_all(&sc);
	tokens_free(sc.sc_tokens);
	sc.sc_tokens = NULL;
	event_free(sc.sc_ev_housekeeping);
	replay_free(sc.sc_replay);
	fetch_free(sc.sc_fetch);
	curl_global_cleanup();
	if (sc.sc_ev_stop != NULL)
		event_free(sc.sc_ev_stop);
	event_free(sc.sc_ev_sighup);
	event_free(sc.sc_ev_sigint);
	event_free(sc.sc_ev_sigterm);
	event_base_free(sc.sc_base);
	conf_free(sc.sc_conf);
	log_info("polrecd stopped");
	return 0;
}
