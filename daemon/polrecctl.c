/* polrecctl: the operator's tool, talking to polrecd over its unix socket. */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
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
static int	 print_call(const cJSON *);
static int	 print_event(const cJSON *);

enum ctl_where { CTL_DAEMON, CTL_KEYS, CTL_AUDIT, CTL_HELP };

/* Every command, in the order `help` lists them. */
static const struct ctl_command {
	const char	*words;		/* full command words */
	const char	*args;		/* what follows, for help */
	const char	*help;
	int		(*print)(const cJSON *);
	int		 nargs;		/* arguments after the words */
	enum ctl_where	 where;
} commands[] = {
	{ "show status", "", "daemon state, clock, latency, tokens, keys, "
	    "checkpoints, alarms", print_status, 0, CTL_DAEMON },
	{ "show stats", "", "counters since start-up", print_fields, 0,
	    CTL_DAEMON },
	{ "show calls", "", "call legs, live and recently ended",
	    print_calls, 0, CTL_DAEMON },
	{ "show call", "ID", "everything held on one call leg, and its "
	    "events in the trail", print_call, 1, CTL_DAEMON },
	{ "monitor", "", "decisions and outcomes as they happen, one line "
	    "each", print_event, 0, CTL_DAEMON },
	{ "drain on", "", "reject new invitations as busy", print_fields, 0,
	    CTL_DAEMON },
	{ "drain off", "", "answer new invitations again", print_fields, 0,
	    CTL_DAEMON },
	{ "reload", "", "re-read the configuration; says how it went",
	    print_fields, 0, CTL_DAEMON },
	{ "audit prune", "TIME", "remove audit events older than TIME "
	    "(recorded and signed)", print_fields, 1, CTL_DAEMON },
	{ "audit acknowledge", "SEQ", "acknowledge the integrity alarm of "
	    "event SEQ (recorded)", print_fields, 1, CTL_DAEMON },
	{ "audit verify", "[-d database] [-k signing.pub] [-c checkpoint] "
	    "[-T tsa_ca.pem] [-L lag]", "verify the trail's chain and "
	    "signatures (offline)", NULL, 0, CTL_AUDIT },
	{ "audit export", "[-d database] [-s since] [-u until] [-c call_id] "
	    "[-K auditor.key]", "the trail as JSON lines (offline)", NULL, 0,
	    CTL_AUDIT },
	{ "audit checkpoint", "[-d database]", "the latest signed checkpoint "
	    "as JSON (offline)", NULL, 0, CTL_AUDIT },
	{ "audit new-trail", "[-d database] [-r reason]", "authorise a new "
	    "trail where the old one is gone (offline)", NULL, 0, CTL_AUDIT },
	{ "keys init", "[-d key_dir] [-a auditor.pub | -o auditor.key]",
	    "make the appliance's keys (offline)", NULL, 0, CTL_KEYS },
	{ "help", "", "this list", NULL, 0, CTL_HELP },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static int	 json;		/* -j: results and errors as JSON */
int		 ctl_dry_run;	/* -n */
static char	 errmsg[2048];	/* with -j: the errors, for the JSON one */

void
ctl_warnx(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[1024], *p;
	size_t	 n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	while ((n = strlen(msg)) > 0 && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	if (!json) {
		fprintf(stderr, "polrecctl: %s\n", msg);
		return;
	}
	while ((p = strstr(msg, "\npolrecctl: ")) != NULL)
		memmove(p + 2, p + 12, strlen(p + 12) + 1), p[0] = ';',
		    p[1] = ' ';
	for (p = msg; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	n = strlen(errmsg);
	snprintf(errmsg + n, sizeof(errmsg) - n, "%s%s", n > 0 ? "; " : "",
	    msg);
}

/* With -j, the one error object on stdout. */
static int
json_error(int code)
{
	static const char *const generic[] = { "", "command failed",
	    "usage", "polrecd not reachable" };
	cJSON	*o, *e;
	char	*t;

	if (!json || code == 0)
		return code;
	o = cJSON_CreateObject();
	e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", errmsg[0] != '\0' ? errmsg :
	    code < 4 ? generic[code] : "failed");
	if ((t = cJSON_PrintUnformatted(o)) != NULL)
		printf("%s\n", t);
	cJSON_free(t);
	cJSON_Delete(o);
	return code;
}

static void
list_commands(FILE *fp)
{
	char	 syn[160];
	size_t	 i;

	for (i = 0; i < NCOMMANDS; i++) {
		snprintf(syn, sizeof(syn), "%s%s%s", commands[i].words,
		    commands[i].args[0] != '\0' ? " " : "", commands[i].args);
		if (strlen(syn) > 24)
			fprintf(fp, "  %s\n  %-24s %s\n", syn, "",
			    commands[i].help);
		else
			fprintf(fp, "  %-24s %s\n", syn, commands[i].help);
	}
}

static void
usage_text(FILE *fp)
{
	fprintf(fp, "usage: polrecctl [-hjnV] [-f file] [-s socket] command "
	    "[argument ...]\n"
	    "       long options: --help, --json, --dry-run, --version, "
	    "--config file,\n       --socket path\n"
	    "       (accepted after the command too; -s only before audit "
	    "export)\ncommands (any unambiguous prefix of each word):\n");
	list_commands(fp);
}

static int
help(void)
{
	cJSON	*o, *arr, *c;
	char	*t;
	size_t	 i;

	if (!json) {
		usage_text(stdout);
		return CTL_EXIT_OK;
	}
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "commands");
	for (i = 0; i < NCOMMANDS; i++) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "command", commands[i].words);
		cJSON_AddStringToObject(c, "arguments", commands[i].args);
		cJSON_AddStringToObject(c, "description", commands[i].help);
		cJSON_AddBoolToObject(c, "offline",
		    commands[i].where == CTL_KEYS ||
		    commands[i].where == CTL_AUDIT);
		cJSON_AddItemToArray(arr, c);
	}
	if ((t = cJSON_PrintUnformatted(o)) != NULL)
		printf("%s\n", t);
	cJSON_free(t);
	cJSON_Delete(o);
	return CTL_EXIT_OK;
}

static int
usage_error(void)
{
	usage_text(stderr);
	return CTL_EXIT_USAGE;
}

/* Word number n of words, in buf. */
static const char *
word_at(const char *words, int n, char *buf, size_t len)
{
	const char	*w = words, *end;

	while (n-- > 0) {
		if ((w = strchr(w, ' ')) == NULL)
			return NULL;
		w++;
	}
	if ((end = strchr(w, ' ')) == NULL)
		end = w + strlen(w);
	snprintf(buf, len, "%.*s", (int)(end - w), w);
	return buf;
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

/* The commands still in `alive` as a list: "show stats, show status". */
static void
alive_list(const int alive[NCOMMANDS], char *buf, size_t len)
{
	size_t	 i, n;

	buf[0] = '\0';
	for (i = 0; i < NCOMMANDS; i++) {
		if (!alive[i])
			continue;
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s%s%s", n > 0 ? ", " : "",
		    commands[i].words, commands[i].args[0] != '\0' &&
		    commands[i].where == CTL_DAEMON ? " " : "",
		    commands[i].where == CTL_DAEMON ? commands[i].args : "");
	}
}

/* The first-level words of the commands: "show, monitor, ...". */
static void
first_words(char *buf, size_t len)
{
	char	 w[32];
	size_t	 i, j, n;
	int	 dup;

	buf[0] = '\0';
	for (i = 0; i < NCOMMANDS; i++) {
		word_at(commands[i].words, 0, w, sizeof(w));
		for (dup = 0, j = 0; j < i && !dup; j++)
			dup = strncmp(commands[j].words, w, strlen(w)) == 0 &&
			    (commands[j].words[strlen(w)] == ' ' ||
			    commands[j].words[strlen(w)] == '\0');
		if (dup)
			continue;
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", n > 0 ? ", " : "", w);
	}
}

/*
 * Resolve argv to one command, word by word, each an unambiguous prefix
 * (an exact word wins; between "call" and "calls" the number of
 * arguments decides).  On failure say what is wrong and which commands
 * would do, and return NULL.
 */
static const struct ctl_command *
resolve(int argc, char *argv[])
{
	int	 alive[NCOMMANDS], keep[NCOMMANDS], exact[NCOMMANDS];
	char	 w[32], list[1024], typed[256] = "";
	size_t	 i, n;
	int	 a, nalive, nexact, done, nargs;

	for (i = 0; i < NCOMMANDS; i++)
		alive[i] = 1;
	for (a = 0; a < argc; a++) {
		nalive = nexact = done = 0;
		for (i = 0; i < NCOMMANDS; i++) {
			keep[i] = exact[i] = 0;
			if (!alive[i])
				continue;
			if (a >= word_count(commands[i].words)) {
				done = 1;
				continue;
			}
			word_at(commands[i].words, a, w, sizeof(w));
			if (argv[a][0] != '\0' &&
			    strncmp(w, argv[a], strlen(argv[a])) == 0) {
				keep[i] = 1;
				nalive++;
				if (strcmp(w, argv[a]) == 0)
					exact[i] = 1, nexact++;
			}
		}
		if (nalive == 0 && done)
			break;		/* the rest are arguments */
		n = strlen(typed);
		snprintf(typed + n, sizeof(typed) - n, "%s%s", a ? " " : "",
		    argv[a]);
		if (nalive == 0) {
			if (a == 0) {
				first_words(list, sizeof(list));
				ctl_warnx("unknown command \"%s\"; commands: "
				    "%s (polrecctl help)", argv[a], list);
			} else {
				alive_list(alive, list, sizeof(list));
				ctl_warnx("unknown command \"%s\"; did you "
				    "mean one of: %s", typed, list);
			}
			return NULL;
		}
		for (i = 0; i < NCOMMANDS; i++)
			alive[i] = nexact > 0 ? exact[i] : keep[i];
	}
	/* Complete commands only; then by their number of arguments. */
	for (nalive = 0, i = 0; i < NCOMMANDS; i++) {
		keep[i] = alive[i] && word_count(commands[i].words) <= a;
		nalive += keep[i];
	}
	if (nalive == 0) {
		alive_list(alive, list, sizeof(list));
		ctl_warnx("incomplete command \"%s\"; one of: %s", typed,
		    list);
		return NULL;
	}
	if (nalive > 1) {
		for (n = 0, i = 0; i < NCOMMANDS; i++)
			if (keep[i] && (commands[i].where != CTL_DAEMON ||
			    commands[i].nargs == argc - a))
				n++;
		if (n == 1)
			for (i = 0; i < NCOMMANDS; i++)
				keep[i] = keep[i] &&
				    (commands[i].where != CTL_DAEMON ||
				    commands[i].nargs == argc - a);
		else {
			alive_list(keep, list, sizeof(list));
			ctl_warnx("ambiguous command \"%s\"; one of: %s",
			    typed, list);
			return NULL;
		}
	}
	for (i = 0; i < NCOMMANDS && !keep[i]; i++)
		;
	if (commands[i].where != CTL_DAEMON)
		return &commands[i];
	nargs = argc - a;
	if (nargs < commands[i].nargs) {
		ctl_warnx("%s needs %s", commands[i].words,
		    strcmp(commands[i].args, "TIME") == 0 ? "a TIME: "
		    "2026-01-31, 2026-01-31T12:00:00Z or seconds since the "
		    "epoch" : commands[i].args);
		return NULL;
	}
	if (nargs > commands[i].nargs) {
		ctl_warnx("%s: unexpected argument \"%s\"",
		    commands[i].words, argv[a + commands[i].nargs]);
		return NULL;
	}
	return &commands[i];
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
		else if (cJSON_IsNull(f))
			printf("%-*s  -\n", width, f->string);
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

/* One call leg's fields, then its events in the trail. */
static int
print_call(const cJSON *o)
{
	cJSON		*copy;
	const cJSON	*events, *e, *seq;

	if ((copy = cJSON_Duplicate(o, 1)) == NULL)
		return -1;
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "events");
	print_fields(copy);
	cJSON_Delete(copy);
	events = cJSON_GetObjectItemCaseSensitive(o, "events");
	if (!cJSON_IsArray(events))
		return 0;
	printf("\n%8s  %-28s  %-14s  %s\n", "SEQ", "TIME", "KIND", "OUTCOME");
	cJSON_ArrayForEach(e, events) {
		seq = cJSON_GetObjectItemCaseSensitive(e, "seq");
		printf("%8.0f  %-28s  %-14s  %s\n", cJSON_IsNumber(seq) ?
		    seq->valuedouble : 0, field(e, "time"), field(e, "kind"),
		    field(e, "outcome"));
	}
	return 0;
}

/* One monitor line: time, call, kind, outcome, then the rest. */
static int
print_event(const cJSON *o)
{
	const cJSON	*lat, *st;
	const char	*reason = field(o, "reason");

	lat = cJSON_GetObjectItemCaseSensitive(o, "latency_ms");
	st = cJSON_GetObjectItemCaseSensitive(o, "http_status");
	printf("%s  %s  %s %s", field(o, "time"), field(o, "call"),
	    field(o, "kind"), field(o, "outcome"));
	if (reason[0] != '\0' && strcmp(reason, "-") != 0)
		printf(" (%s)", reason);
	if (cJSON_IsNumber(st))
		printf(" http %.0f", st->valuedouble);
	if (cJSON_IsNumber(lat))
		printf(" %.0f ms", lat->valuedouble);
	if (field(o, "tenant")[0] != '\0' && strcmp(field(o, "tenant"),
	    "-") != 0)
		printf(" tenant %s", field(o, "tenant"));
	printf("\n");
	fflush(stdout);
	return 0;
}

/*
 * The socket path: -s, else the configuration file's [control] socket.
 * A file given with -f must load; the default one may be missing (or
 * unreadable to this user): the default socket then, and *why says so.
 */
static char *
socket_path(const char *sflag, const char *conffile, int fflag,
    char *why, size_t whylen)
{
	struct conf	*c;
	char		*errs = NULL, *path, *nl;

	why[0] = '\0';
	if (sflag != NULL)
		return xstrdup(sflag);
	if (conf_load(conffile, &c, &errs) == 0) {
		path = xstrdup(c->control_socket);
		conf_free(c);
		return path;
	}
	snprintf(why, whylen, "%s", errs != NULL && errs[0] != '\0' ? errs :
	    "configuration not valid");
	if ((nl = strchr(why, '\n')) != NULL)
		*nl = '\0';
	free(errs);
	if (fflag) {
		ctl_warnx("cannot use the configuration file %s: %s",
		    conffile, why);
		return NULL;
	}
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

/*
 * The replies: OK or ERROR, or RECORDs closed by END; for monitor, OK
 * then RECORDs until polrecd closes.  Returns the exit code.
 */
static int
read_replies(int fd, const struct ctl_command *cmd)
{
	struct ctl_hdr		 h;
	unsigned char		 hdr[CTL_HDR_LEN];
	const char		*errstr;
	char			*payload;
	cJSON			*reply;
	int			 rv = CTL_EXIT_FAIL, monitor, more;

	monitor = strcmp(cmd->words, "monitor") == 0;
	for (;;) {
		if (read_full(fd, hdr, sizeof(hdr)) == -1) {
			ctl_warnx("%s", monitor ? "polrecd closed the "
			    "connection" : errno == EAGAIN ? "no reply from "
			    "polrecd in time" : "no reply from polrecd");
			return CTL_EXIT_UNREACHABLE;
		}
		if (ctl_hdr_decode(hdr, &h, &errstr) == -1) {
			ctl_warnx("bad reply: %s", errstr);
			return CTL_EXIT_FAIL;
		}
		payload = xmalloc((size_t)h.len + 1);
		if (read_full(fd, payload, h.len) == -1) {
			ctl_warnx("short reply");
			free(payload);
			return CTL_EXIT_UNREACHABLE;
		}
		payload[h.len] = '\0';
		reply = cJSON_ParseWithLength(payload, h.len);
		more = h.type == CTL_RECORD || (monitor && h.type == CTL_OK);
		if (h.type == CTL_ERROR) {
			const cJSON *e = cJSON_GetObjectItem(reply, "error");

			ctl_warnx("%s: %s", cmd->words,
			    cJSON_IsString(e) ? e->valuestring : "failed");
			rv = CTL_EXIT_FAIL;
		} else if (reply == NULL) {
			ctl_warnx("reply is not JSON");
			rv = CTL_EXIT_FAIL;
		} else if (monitor && h.type == CTL_OK)
			;		/* subscribed */
		else if (json) {
			printf("%s\n", payload);
			fflush(stdout);
		} else if (h.type == CTL_OK || h.type == CTL_RECORD)
			cmd->print(reply);
		if (h.type == CTL_OK || h.type == CTL_END)
			rv = reply != NULL ? CTL_EXIT_OK : CTL_EXIT_FAIL;
		cJSON_Delete(reply);
		free(payload);
		if (!more)
			break;
	}
	return rv;
}

/*
 * The global options, also after the command: -j, -f, -s, -h and their
 * long forms are taken out of argv wherever they are (up to "--"); -s
 * only before an offline command's words (audit export has its own).
 * Returns the new argc, or -1 after a usage error.
 */
static int
take_options(int argc, char *argv[], int offline, const char **conffile,
    int *fflag, const char **sflag, int *hflag)
{
	const char	*val;
	int		 i, o = 0, takes;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (++i < argc)
				argv[o++] = argv[i];
			break;
		}
		if (strcmp(argv[i], "-j") == 0 ||
		    strcmp(argv[i], "--json") == 0) {
			json = 1;
			continue;
		}
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			*hflag = 1;
			continue;
		}
		takes = 0;
		val = NULL;
		if (strcmp(argv[i], "-f") == 0 ||
		    strcmp(argv[i], "--config") == 0)
			takes = 'f';
		else if (strncmp(argv[i], "--config=", 9) == 0)
			takes = 'f', val = argv[i] + 9;
		else if (!offline && (strcmp(argv[i], "-s") == 0 ||
		    strcmp(argv[i], "--socket") == 0))
			takes = 's';
		else if (!offline && strncmp(argv[i], "--socket=", 9) == 0)
			takes = 's', val = argv[i] + 9;
		if (takes == 0) {
			argv[o++] = argv[i];
			continue;
		}
		if (val == NULL) {
			if (i + 1 >= argc) {
				ctl_warnx("%s needs an argument", argv[i]);
				return -1;
			}
			val = argv[++i];
		}
		if (takes == 'f') {
			*conffile = val;
			*fflag = 1;
		} else
			*sflag = val;
	}
	return o;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL,	'f' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "json",	no_argument,		NULL,	'j' },
		{ "dry-run",	no_argument,		NULL,	'n' },
		{ "socket",	required_argument,	NULL,	's' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 }
	};
	const struct ctl_command *cmd;
	struct sockaddr_un	 sun;
	struct timeval		 tv = { CTL_TIMEOUT_SEC, 0 };
	unsigned char		*frame;
	const char		*sflag = NULL, *conffile = CONF_DEFAULT_PATH;
	char			*path = NULL, *req, wbuf[256], why[512];
	char			*words[CTL_MAX_ARGS];
	size_t			 flen;
	int			 ch, fd = -1, nwords, rv = CTL_EXIT_FAIL, i;
	int			 fflag = 0, hflag = 0, offline;

	log_init(1, 0, "polrecctl");
	/* "+": the words after the options are the command's own. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+f:hjns:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			conffile = optarg;
			fflag = 1;
			break;
		case 'h':
			hflag = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'n':
			ctl_dry_run = 1;
			break;
		case 's':
			sflag = optarg;
			break;
		case 'V':
			printf("polrecctl %s\n", POLREC_VERSION);
			return CTL_EXIT_OK;
		case ':':
			ctl_warnx("%s needs an argument", argv[optind - 1]);
			return json_error(usage_error());
		default:
			ctl_warnx("unknown option %s", argv[optind - 1]);
			return json_error(usage_error());
		}
	}
	argc -= optind;
	argv += optind;
	/* Offline commands keep their own options: -s is audit export's. */
	offline = argc > 0 && argv[0][0] != '\0' &&
	    (strncmp("keys", argv[0], strlen(argv[0])) == 0 ||
	    (strncmp("audit", argv[0], strlen(argv[0])) == 0 && argc > 1 &&
	    argv[1][0] != '\0' &&
	    strncmp("prune", argv[1], strlen(argv[1])) != 0 &&
	    strncmp("acknowledge", argv[1], strlen(argv[1])) != 0));
	if ((argc = take_options(argc, argv, offline, &conffile, &fflag,
	    &sflag, &hflag)) == -1)
		return json_error(usage_error());
	if (hflag)
		return help();
	if (argc < 1) {
		ctl_warnx("no command given");
		return json_error(usage_error());
	}
	if ((cmd = resolve(argc, argv)) == NULL)
		return json_error(CTL_EXIT_USAGE);
	if (ctl_dry_run && cmd->where == CTL_DAEMON) {
		printf("polrecctl: %s: a valid command\n", cmd->words);
		return CTL_EXIT_OK;
	}
	switch (cmd->where) {
	case CTL_HELP:
		return help();
	case CTL_KEYS:
		rv = polrecctl_keys(argc, argv, conffile);
		break;
	case CTL_AUDIT:
		rv = polrecctl_audit(argc, argv, conffile);
		break;
	case CTL_DAEMON:
		break;
	}
	if (cmd->where != CTL_DAEMON) {
		if (ctl_dry_run && rv == CTL_EXIT_OK)
			printf("polrecctl: %s: a valid command\n", cmd->words);
		return json_error(rv);
	}

	if ((path = socket_path(sflag, conffile, fflag, why,
	    sizeof(why))) == NULL)
		return json_error(CTL_EXIT_FAIL);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		ctl_warnx("socket path too long: %s", path);
		rv = CTL_EXIT_FAIL;
		goto done;
	}
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		ctl_warnx("cannot connect to polrecd at %s: %s%s%s%s", path,
		    strerror(errno), why[0] != '\0' ? " (the default socket; "
		    "the configuration was not read: " : "", why,
		    why[0] != '\0' ? ")" : "");
		if (why[0] != '\0')
			ctl_warnx("give the configuration with -f or the "
			    "socket with -s");
		rv = CTL_EXIT_UNREACHABLE;
		goto done;
	}
	/* A monitor waits as long as it takes. */
	if (strcmp(cmd->words, "monitor") != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	nwords = full_words(cmd, wbuf, sizeof(wbuf), words);
	for (i = argc - cmd->nargs; i < argc && nwords < CTL_MAX_ARGS; i++)
		words[nwords++] = argv[i];
	req = ctl_request_build(nwords, words);
	frame = ctl_frame(CTL_REQUEST, req, strlen(req), &flen);
	free(req);
	if (frame == NULL || write_full(fd, frame, flen) == -1) {
		ctl_warnx("cannot send the request to polrecd at %s", path);
		free(frame);
		rv = CTL_EXIT_UNREACHABLE;
		goto done;
	}
	free(frame);
	rv = read_replies(fd, cmd);
done:
	if (fd != -1)
		close(fd);
	free(path);
	return json_error(rv);
}
