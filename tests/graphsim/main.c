/*
 * polrec-graphsim: a Microsoft Graph, Entra and Teams stand-in for tests,
 * with a media agent for app-hosted media.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "graphsim.h"
#include "jwt.h"
#include "log.h"
#include "xmalloc.h"

#define MAX_KEYS	8
#define MAX_CERTS	SIM_MAX_CERTS

static void	usage(void) __attribute__((__noreturn__));
static int	cmd_serve(int, char **);
static int	cmd_keygen(int, char **);
static int	cmd_tokens(int, char **);
static char	*read_secret(const char *);
static void	write_portfile(const char *, const char *);
static void	signal_cb(evutil_socket_t, short, void *);

static const struct command {
	const char	*name;
	int		(*run)(int, char **);
} commands[] = {
	{ "serve",	cmd_serve },
	{ "play",	client_play },
	{ "requests",	client_requests },
	{ "keygen",	cmd_keygen },
	{ "ctl",	client_ctl },
	{ "load",	client_load },
	{ "tokens",	cmd_tokens },
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: polrec-graphsim serve [-dDv] [-l addr:port] "
	    "[-k keyfile]... [-a app_id]\n"
	    "           [-T tenant_id[,...]] [-s secret_file] [-c cert.pem]... "
	    "[-m media_secret_file]\n"
	    "           [-u target_url] [-r requests.jsonl] "
	    "[-P portfile]\n"
	    "           [-t tsa_cert.pem -K tsa_key.pem [-C tsa_chain.pem]]\n"
	    "       polrec-graphsim play [-S sim_url] [-u target_url] "
	    "scenario.json ...\n"
	    "       polrec-graphsim requests [-S sim_url]\n"
	    "       polrec-graphsim ctl [-S sim_url] method path [body]\n"
	    "       polrec-graphsim load [-S sim_url] -u target_url -o log "
	    "[-R rate] [-d seconds]\n"
	    "           [-x retries] [-t timeout] [-m inv,est,term,join] "
	    "[-D templates_dir]\n"
	    "       polrec-graphsim keygen -k keyfile\n"
	    "       polrec-graphsim tokens\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	size_t	 i;

	log_init(1, 0, "polrec-graphsim");
	if (argc < 2)
		usage();
	if (sodium_init() == -1)
		fatalx("sodium_init");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	usage();
}

static int
cmd_serve(int argc, char **argv)
{
	struct event_base	*base;
	struct event		*ev_term, *ev_int;
	struct sim		*sim;
	const char		*keyfiles[MAX_KEYS], *laddr = "127.0.0.1:0";
	const char		*certfiles[MAX_CERTS], *mediafile = NULL;
	const char		*app_id = SIM_DEFAULT_APP_ID;
	const char		*tenant = SIM_DEFAULT_TENANT;
	const char		*secretfile = NULL, *target = NULL;
	const char		*reqlog = NULL, *portfile = NULL, *errstr;
	const char		*tsa_cert = NULL, *tsa_key = NULL;
	const char		*tsa_chain = NULL;
	char			*bound;
	EVP_PKEY		*key;
	size_t			 nkeyfiles = 0, ncertfiles = 0, i;
	int			 ch, debug = 0, idp_down = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "a:C:c:dDK:k:l:m:P:r:s:T:t:u:v")) != -1) {
		switch (ch) {
		case 'a':
			app_id = optarg;
			break;
		case 'C':
			tsa_chain = optarg;
			break;
		case 'c':
			if (ncertfiles == MAX_CERTS)
				fatalx("at most %d certificates", MAX_CERTS);
			certfiles[ncertfiles++] = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'D':
			idp_down = 1;
			break;
		case 'K':
			tsa_key = optarg;
			break;
		case 'k':
			if (nkeyfiles == MAX_KEYS)
				fatalx("at most %d keys", MAX_KEYS);
			keyfiles[nkeyfiles++] = optarg;
			break;
		case 'l':
			laddr = optarg;
			break;
		case 'm':
			mediafile = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'r':
			reqlog = optarg;
			break;
		case 's':
			secretfile = optarg;
			break;
		case 'T':
			tenant = optarg;
			break;
		case 't':
			tsa_cert = optarg;
			break;
		case 'u':
			target = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (tsa_cert == NULL) != (tsa_key == NULL) ||
	    (tsa_chain != NULL && tsa_cert == NULL))
		usage();
	if (target != NULL && notify_check_target(target, &errstr) == -1)
		fatalx("target %s: %s", target, errstr);
	log_init(debug, verbose, "polrec-graphsim");
	signal(SIGPIPE, SIG_IGN);

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	sim = sim_new(base);
	sim->app_id = xstrdup(app_id);
	/* -T: one tenant, or several separated by commas or spaces. */
	{
		const char	*t = tenant;
		size_t		 len;

		for (;;) {
			t += strspn(t, " ,");
			if (*t == '\0')
				break;
			len = strcspn(t, " ,");
			sim->tenants = xreallocarray(sim->tenants,
			    sim->ntenants + 1, sizeof(*sim->tenants));
			sim->tenants[sim->ntenants++] = xstrndup(t, len);
			t += len;
		}
		if (sim->ntenants == 0)
			fatalx("-T: no tenant");
		sim->tenant_id = xstrdup(sim->tenants[0]);
	}
	sim->secret = secretfile != NULL ? read_secret(secretfile) :
	    xstrdup(SIM_DEFAULT_SECRET);
	sim->media_secret = mediafile != NULL ? read_secret(mediafile) :
	    xstrdup(SIM_MEDIA_SECRET);
	sim->target_url = target != NULL ? xstrdup(target) : NULL;
	for (i = 0; i < ncertfiles; i++)
		if (certs_load(sim, certfiles[i]) == -1)
			fatalx("cannot load certificate %s", certfiles[i]);
	if (tsa_cert != NULL && tsa_load(sim, tsa_cert, tsa_key,
	    tsa_chain) == -1)
		fatalx("cannot set up the time stamping authority");
	if (reqlog != NULL && (sim->reqlog = fopen(reqlog, "a")) == NULL)
		fatal("%s", reqlog);

	/*
	 * Without -k a throwaway key signs; tests that need it use -k.
	 * The first key signs until POST /_sim/keys/rotate.
	 */
	for (i = 0; i < (nkeyfiles > 0 ? nkeyfiles : 1); i++) {
		if (nkeyfiles == 0) {
			if ((key = keys_generate()) == NULL)
				fatalx("no signing key");
		} else if (keys_load(keyfiles[i], 1, &key) == -1)
			fatalx("cannot load key %s", keyfiles[i]);
		if (keys_add(sim, key) == -1)
			fatalx("cannot derive a key id");
		log_debug("key %zu: kid %s%s", i, sim->keys[i].kid,
		    i == 0 ? " (signing)" : "");
	}
	sim->ninitial = sim->nkeys;
	sim->signing = 0;
	if (idp_down) {
		sim->idp_state = SIM_IDP_DOWN;
		log_info("identity endpoints down");
	}

	/* Before the port file: whoever reads it may signal at once. */
	if ((ev_term = evsignal_new(base, SIGTERM, signal_cb, sim)) == NULL ||
	    (ev_int = evsignal_new(base, SIGINT, signal_cb, sim)) == NULL ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1)
		fatalx("cannot set up signals");
	if (sim_listen(sim, laddr, &bound) == -1)
		fatalx("cannot listen on %s", laddr);
	log_info("listening on %s", bound);
	if (portfile != NULL)
		write_portfile(portfile, bound);

	if (event_base_dispatch(base) == -1)
		fatalx("event_base_dispatch");

	log_info("shutting down");
	if (portfile != NULL)
		unlink(portfile);
	event_free(ev_int);
	event_free(ev_term);
	sim_free(sim);
	event_base_free(base);
	free(bound);
	libevent_global_shutdown();
	return 0;
}

/*
 * Plays still running answer their /_sim/play request now; the loop runs
 * a moment longer so that those answers reach the clients.
 */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sim	*sim = arg;
	struct timeval	 grace = { 0, 200000 };

	(void)what;
	log_debug("signal %d", (int)sig);
	play_abort_all(sim);
	load_abort_all(sim);
	sim_defer_flush(sim);
	event_base_loopexit(sim->base, &grace);
}

/* The first line of path, without its newline. */
static char *
read_secret(const char *path)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 size = 0;
	ssize_t	 len;

	if ((fp = fopen(path, "r")) == NULL)
		fatal("%s", path);
	if ((len = getline(&line, &size, fp)) == -1)
		fatalx("%s: empty secret file", path);
	fclose(fp);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (len == 0)
		fatalx("%s: empty secret", path);
	return line;
}

/* Readers poll for the file: they must never see half of it. */
static void
write_portfile(const char *path, const char *bound)
{
	FILE	*fp;
	char	*tmp;

	xasprintf(&tmp, "%s.%ld.tmp", path, (long)getpid());
	if ((fp = fopen(tmp, "w")) == NULL)
		fatal("%s", tmp);
	if (fprintf(fp, "%s\n", bound) < 0 || fclose(fp) == EOF)
		fatal("%s", tmp);
	if (rename(tmp, path) == -1)
		fatal("rename %s", path);
	free(tmp);
}

static int
cmd_keygen(int argc, char **argv)
{
	EVP_PKEY	*key;
	const char	*path = NULL;
	char		*kid;
	int		 ch;

	while ((ch = getopt(argc, argv, "k:")) != -1) {
		switch (ch) {
		case 'k':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();
	if (access(path, F_OK) == 0) {
		log_warnx("%s exists; not overwriting it", path);
		return 1;
	}
	if (keys_load(path, 1, &key) == -1)
		return 1;
	if (jwt_key_id(key, &kid) == -1)
		fatalx("cannot derive a key id");
	printf("%s kid %s\n", path, kid);
	free(kid);
	EVP_PKEY_free(key);
	return 0;
}

/* The notification token kinds scenario steps may name. */
static int
cmd_tokens(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		usage();
	notify_token_list(stdout);
	return fflush(stdout) == EOF;
}
