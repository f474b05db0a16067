/* polrecctl: the operator's tool, talking to polrecd over its unix socket. */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "polrecctl.h"
#include "polrecd.h"
#include "xmalloc.h"

#define CTL_DEFAULT_SOCKET	"/run/polrecd/ctl.sock"
#define CTL_TIMEOUT_SEC		30

static int	 print_fields(const cJSON *);
static int	 print_status(const cJSON *);
static const char *field(const cJSON *, const char *);
static int	 print_calls(const cJSON *);

static const struct ctl_command {
	const char	*words;		/* full command words */
	const char	*help;
	int		(*print)(const cJSON *);
	int		 nargs;		/* arguments after the words */
} commands[] = {
	{ "show calls", "call legs, live and recently ended", print_calls, 0 },
	{ "show stats", "counters since start-up", print_fields, 0 },
	{ "show status", "daemon state and main settings", print_status, 0 },
	{ "drain on", "reject new invitations as busy", print_fields, 0 },
	{ "drain off", "answer new invitations again", print_fields, 0 },
	{ "audit prune", "TIME: remove audit events older than TIME "
	    "(retention, recorded and signed)", print_fields, 1 },
	{ "audit acknowledge", "SEQ: acknowledge the integrity alarm of "
	    "event SEQ (recorded)", print_fields, 1 },
	{ "reload", "re-read the configuration; says how it went",
	    print_fields, 0 },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void	 usage(void) __attribute__((__noreturn__));

static void
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: polrecctl [-jV] [-f file] [-s socket] "
	    "command [argument ...]\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(stderr, "  %-24s %s\n", commands[i].words,
		    commands[i].help);
	fprintf(stderr, "offline commands (no polrecd needed):\n"
	    "  keys init [-d key_dir] [-a auditor.pub] [-o auditor.key]\n"
	    "  audit verify [-d database] [-c checkpoint.json] "
	    "[-k signing.pub]\n"
	    "  audit export [-d database] [-s since] [-u until] [-c call_id] "
	    "[-K auditor.key]\n"
	    "  audit checkpoint [-d database]\n"
	    "  audit new-trail [-d database] [-r reason]\n");
	exit(2);
}

/* Is `tok` a prefix of word number `n` of `words`? */
static int
word_matches(const char *words, int n, const char *tok)
{
	const char	*w = words, *end;

	while (n-- > 0) {
		if ((w = strchr(w, ' ')) == NULL)
			return 0;
		w++;
	}
	if ((end = strchr(w, ' ')) == NULL)
		end = w + strlen(w);
	return strlen(tok) <= (size_t)(end - w) &&
	    strncmp(w, tok, strlen(tok)) == 0;
}

static int
word_count(const char *words)
{
	int	 n = 1;

	for (; *words != '\0'; words++)
		if (*words == ' ')
			n++;
	return n;
}

/*
 * Resolve argv to one command, accepting unambiguous prefixes.  On
 * failure list the valid continuations and exit 2.
 */
static const struct ctl_command *
resolve(int argc, char *argv[])
{
	const struct ctl_command *found = NULL;
	size_t	 i;
	int	 a, nmatch = 0, prefix_ok;

	for (i = 0; i < NCOMMANDS; i++) {
		if (word_count(commands[i].words) + commands[i].nargs != argc)
			continue;
		for (a = 0; a < word_count(commands[i].words); a++)
			if (!word_matches(commands[i].words, a, argv[a]))
				break;
		if (a == word_count(commands[i].words)) {
			found = &commands[i];
			nmatch++;
		}
	}
	if (nmatch == 1)
		return found;
	fprintf(stderr, "polrecctl: %s command; valid commands:\n",
	    nmatch > 1 ? "ambiguous" : "unknown");
	for (i = 0; i < NCOMMANDS; i++) {
		prefix_ok = 1;
		for (a = 0; a < argc && a < word_count(commands[i].words); a++)
			if (!word_matches(commands[i].words, a, argv[a]) &&
			    a < argc - 1)
				prefix_ok = 0;
		if (prefix_ok || argc == 0)
			fprintf(stderr, "  %s\n", commands[i].words);
	}
	exit(2);
}

/* The command's full words as an argv for the request. */
static int
full_words(const struct ctl_command *cmd, char *buf, size_t len,
    char *words[CTL_MAX_ARGS])
{
	char	*p, *save = NULL;
	int	 n = 0;

	strncpy(buf, cmd->words, len - 1);
	buf[len - 1] = '\0';
	for (p = strtok_r(buf, " ", &save); p != NULL && n < CTL_MAX_ARGS;
	    p = strtok_r(NULL, " ", &save))
		words[n++] = p;
	return n;
}

static int
print_fields(const cJSON *o)
{
	const cJSON	*f;
	int		 width = 0;

	cJSON_ArrayForEach(f, o)
		if ((int)strlen(f->string) > width)
			width = (int)strlen(f->string);
	cJSON_ArrayForEach(f, o) {
		if (cJSON_IsString(f))
			printf("%-*s  %s\n", width, f->string, f->valuestring);
		else if (cJSON_IsBool(f))
			printf("%-*s  %s\n", width, f->string,
			    cJSON_IsTrue(f) ? "yes" : "no");
		else if (cJSON_IsNumber(f))
			printf("%-*s  %.0f\n", width, f->string,
			    f->valuedouble);
		else {
			char *t = cJSON_PrintUnformatted(f);

			printf("%-*s  %s\n", width, f->string,
			    t != NULL ? t : "?");
			cJSON_free(t);
		}
	}
	return 0;
}

/* The alarms raised, one line each, or "alarms  none". */
static void
print_alarms(const cJSON *o)
{
	const cJSON	*alarms, *a;

	alarms = cJSON_GetObjectItemCaseSensitive(o, "alarms");
	if (!cJSON_IsArray(alarms))
		return;
	if (cJSON_GetArraySize(alarms) == 0) {
		printf("\nalarms: none\n");
		return;
	}
	printf("\n%-14s  %-20s  %s\n", "ALARM", "SINCE", "REASON");
	cJSON_ArrayForEach(a, alarms)
		printf("%-14s  %-20s  %s\n", field(a, "name"),
		    field(a, "since"), field(a, "reason"));
}

/* The fields, then a table of the tenants' Graph tokens. */
static int
print_status(const cJSON *o)
{
	cJSON		*copy;
	const cJSON	*tenants, *t, *f;

	if ((copy = cJSON_Duplicate(o, 1)) == NULL)
		return -1;
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "tenants");
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "alarms");
	print_fields(copy);
	cJSON_Delete(copy);
	print_alarms(o);
	tenants = cJSON_GetObjectItemCaseSensitive(o, "tenants");
	if (!cJSON_IsArray(tenants))
		return 0;
	printf("\n%-36s  %-8s  %7s  %7s  %8s  %s\n", "TENANT", "TOKEN",
	    "EXPIRES", "FETCHES", "FAILURES", "LAST ERROR");
	cJSON_ArrayForEach(t, tenants) {
		printf("%-36s  %-8s", field(t, "tenant"), field(t, "state"));
		f = cJSON_GetObjectItemCaseSensitive(t, "expires_in");
		printf("  %6.0fs", cJSON_IsNumber(f) ? f->valuedouble : 0);
		f = cJSON_GetObjectItemCaseSensitive(t, "fetches");
		printf("  %7.0f", cJSON_IsNumber(f) ? f->valuedouble : 0);
		f = cJSON_GetObjectItemCaseSensitive(t, "failures");
		printf("  %8.0f", cJSON_IsNumber(f) ? f->valuedouble : 0);
		printf("  %s\n", field(t, "last_error")[0] != '\0' ?
		    field(t, "last_error") : "-");
	}
	return 0;
}

static const char *
field(const cJSON *o, const char *name)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(f) ? f->valuestring : "-";
}

static int
print_calls(const cJSON *o)
{
	const cJSON	*calls, *c, *nl;

	calls = cJSON_GetObjectItemCaseSensitive(o, "calls");
	printf("%-36s  %-12s  %-9s  %-12s  %6s  %5s  %9s  %s\n", "CALL",
	    "STATE", "OUTCOME", "RECORDING", "AGE", "PEOPLE", "GROUP",
	    "POLICY / END");
	cJSON_ArrayForEach(c, calls) {
		const cJSON *age = cJSON_GetObjectItem(c, "age_seconds");
		const cJSON *np = cJSON_GetObjectItem(c, "participants");
		const cJSON *gu = cJSON_GetObjectItem(c, "group_used");
		const cJSON *gc = cJSON_GetObjectItem(c, "group_capacity");
		const char *ended = field(c, "ended");
		char group[32] = "-";

		if (cJSON_IsNumber(gu) && cJSON_IsNumber(gc))
			snprintf(group, sizeof(group), "%.0f/%.0f",
			    gu->valuedouble, gc->valuedouble);
		printf("%-36s  %-12s  %-9s  %-12s  %5.0fs  %5.0f  %9s  %s%s%s\n",
		    field(c, "id"), field(c, "state"), field(c, "outcome"),
		    field(c, "recording"), cJSON_IsNumber(age) ?
		    age->valuedouble : 0, cJSON_IsNumber(np) ?
		    np->valuedouble : 0, group, field(c, "policy"),
		    strcmp(ended, "-") != 0 ? " / " : "",
		    strcmp(ended, "-") != 0 ? ended : "");
	}
	if ((nl = cJSON_GetObjectItem(o, "not_listed")) != NULL &&
	    cJSON_IsNumber(nl))
		printf("(%.0f more not listed)\n", nl->valuedouble);
	return 0;
}

/* The socket path: -s, else the config file's [control] socket. */
static char *
socket_path(const char *sflag, const char *conffile)
{
	struct conf	*c;
	char		*errs = NULL, *path;

	if (sflag != NULL)
		return xstrdup(sflag);
	if (conf_load(conffile, &c, &errs) == 0) {
		path = xstrdup(c->control_socket);
		conf_free(c);
		return path;
	}
	free(errs);
	return xstrdup(CTL_DEFAULT_SOCKET);
}

static int
read_full(int fd, void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 r;

	while (len > 0) {
		r = read(fd, p, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* One reply: OK or ERROR, or RECORDs closed by END.  Returns the exit code. */
static int
read_replies(int fd, const struct ctl_command *cmd, int json)
{
	struct ctl_hdr		 h;
	unsigned char		 hdr[CTL_HDR_LEN];
	const char		*errstr;
	char			*payload;
	cJSON			*reply;
	int			 rv = 1;

	for (;;) {
		if (read_full(fd, hdr, sizeof(hdr)) == -1) {
			fprintf(stderr, "polrecctl: no reply from polrecd\n");
			break;
		}
		if (ctl_hdr_decode(hdr, &h, &errstr) == -1) {
			fprintf(stderr, "polrecctl: bad reply: %s\n", errstr);
			break;
		}
		payload = xmalloc((size_t)h.len + 1);
		if (read_full(fd, payload, h.len) == -1) {
			fprintf(stderr, "polrecctl: short reply\n");
			free(payload);
			break;
		}
		payload[h.len] = '\0';
		reply = cJSON_ParseWithLength(payload, h.len);
		if (h.type == CTL_ERROR) {
			const cJSON *e = cJSON_GetObjectItem(reply, "error");

			fprintf(stderr, "polrecctl: %s: %s\n", cmd->words,
			    cJSON_IsString(e) ? e->valuestring : "failed");
		} else if (reply == NULL)
			fprintf(stderr, "polrecctl: reply is not JSON\n");
		else if (json)
			printf("%s\n", payload);
		else if (h.type == CTL_OK || h.type == CTL_RECORD)
			cmd->print(reply);
		if (h.type == CTL_OK || h.type == CTL_END)
			rv = reply != NULL ? 0 : 1;
		cJSON_Delete(reply);
		free(payload);
		if (h.type != CTL_RECORD)
			break;
	}
	return rv;
}

int
main(int argc, char *argv[])
{
	const struct ctl_command *cmd;
	struct sockaddr_un	 sun;
	struct timeval		 tv = { CTL_TIMEOUT_SEC, 0 };
	unsigned char		*frame;
	const char		*sflag = NULL, *conffile = CONF_DEFAULT_PATH;
	char			*path, *req, wbuf[256];
	char			*words[CTL_MAX_ARGS];
	size_t			 flen;
	int			 ch, json = 0, fd = -1, nwords, rv = 1, i;

	log_init(1, 0, "polrecctl");
	/* "+": the offline commands' options are their own. */
	while ((ch = getopt(argc, argv, "+f:js:V")) != -1) {
		switch (ch) {
		case 'f':
			conffile = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			sflag = optarg;
			break;
		case 'V':
			printf("polrecctl %s\n", POLREC_VERSION);
			return 0;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "keys") == 0)
		return polrecctl_keys(argc, argv, conffile);
	/* audit prune and acknowledge go to polrecd, the one writer. */
	if (strcmp(argv[0], "audit") == 0 && !(argc > 1 && *argv[1] != '\0' &&
	    (strncmp("prune", argv[1], strlen(argv[1])) == 0 ||
	    strncmp("acknowledge", argv[1], strlen(argv[1])) == 0)))
		return polrecctl_audit(argc, argv, conffile);
	cmd = resolve(argc, argv);

	path = socket_path(sflag, conffile);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "polrecctl: socket path too long\n");
		goto done;
	}
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "polrecctl: cannot connect to polrecd at %s: "
		    "%s\n", path, strerror(errno));
		goto done;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	nwords = full_words(cmd, wbuf, sizeof(wbuf), words);
	for (i = argc - cmd->nargs; i < argc && nwords < CTL_MAX_ARGS; i++)
		words[nwords++] = argv[i];
	req = ctl_request_build(nwords, words);
	frame = ctl_frame(CTL_REQUEST, req, strlen(req), &flen);
	free(req);
	if (frame == NULL || write_full(fd, frame, flen) == -1) {
		fprintf(stderr, "polrecctl: cannot send the request\n");
		free(frame);
		goto done;
	}
	free(frame);
	rv = read_replies(fd, cmd, json);
done:
	if (fd != -1)
		close(fd);
	free(path);
	return rv;
}
