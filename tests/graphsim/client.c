/* Thin clients of a running simulator: the play, requests and ctl commands. */
#include <sys/stat.h>

#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "graphsim.h"
#include "log.h"
#include "xmalloc.h"

#define CLIENT_MAX_FILE	(SIM_MAX_BODY / 2)

/* One request/response on a private event loop. */
struct exchange {
	struct event_base	*base;
	int			 status;
	char			*body;
	char			 error[128];
};

static void	client_usage(const char *) __attribute__((__noreturn__));
static char	*sim_url(const char *);
static int	exchange(const char *, enum evhttp_cmd_type, const char *,
		    const char *, int, struct exchange *);
static void	exchange_cb(struct evhttp_request *, void *);
static void	exchange_error_cb(enum evhttp_request_error, void *);
static char	*read_file(const char *, size_t *);
static cJSON	*parse_file(const char *);
static cJSON	*load_scenario(const char *, const char *, int *);
static int	print_report(const char *, const char *);

static void
client_usage(const char *synopsis)
{
	fprintf(stderr, "usage: polrec-graphsim %s\n", synopsis);
	exit(2);
}

int
client_play(int argc, char **argv)
{
	struct exchange	 x;
	const char	*sim = NULL, *target = NULL;
	const char	*synopsis = "play [-S sim_url] [-u target_url] "
			    "scenario.json ...";
	cJSON		*scenario;
	char		*text, *url;
	int		 ch, i, failed = 0, timeout;

	while ((ch = getopt(argc, argv, "S:u:")) != -1) {
		switch (ch) {
		case 'S':
			sim = optarg;
			break;
		case 'u':
			target = optarg;
			break;
		default:
			client_usage(synopsis);
		}
	}
	if (optind == argc || (url = sim_url(sim)) == NULL)
		client_usage(synopsis);

	for (i = optind; i < argc; i++) {
		if ((scenario = load_scenario(argv[i], target,
		    &timeout)) == NULL) {
			failed = 1;
			continue;
		}
		if ((text = cJSON_PrintUnformatted(scenario)) == NULL)
			fatalx("cJSON_PrintUnformatted");
		cJSON_Delete(scenario);
		if (exchange(url, EVHTTP_REQ_POST, "/_sim/play", text, timeout,
		    &x) == -1) {
			log_warnx("%s: %s: %s", argv[i], url, x.error);
			failed = 1;
		} else if (print_report(argv[i], x.body) == -1 ||
		    x.status != HTTP_OK)
			failed = 1;
		free(x.body);
		cJSON_free(text);
	}
	free(url);
	return failed;
}

int
client_requests(int argc, char **argv)
{
	struct exchange	 x;
	const char	*sim = NULL, *synopsis = "requests [-S sim_url]";
	cJSON		*all = NULL, *r;
	char		*line, *url;
	int		 ch, rv = 1;

	while ((ch = getopt(argc, argv, "S:")) != -1) {
		switch (ch) {
		case 'S':
			sim = optarg;
			break;
		default:
			client_usage(synopsis);
		}
	}
	if (optind != argc || (url = sim_url(sim)) == NULL)
		client_usage(synopsis);
	if (exchange(url, EVHTTP_REQ_GET, "/_sim/requests", NULL, 30,
	    &x) == -1) {
		log_warnx("%s: %s", url, x.error);
		goto done;
	}
	if (x.status != HTTP_OK || (all = cJSON_Parse(x.body)) == NULL ||
	    !cJSON_IsArray(all)) {
		log_warnx("%s: unexpected reply %d", url, x.status);
		goto done;
	}
	cJSON_ArrayForEach(r, all) {
		if ((line = cJSON_PrintUnformatted(r)) == NULL)
			fatalx("cJSON_PrintUnformatted");
		printf("%s\n", line);
		cJSON_free(line);
	}
	if (fflush(stdout) != EOF)
		rv = 0;
 done:
	cJSON_Delete(all);
	free(x.body);
	free(url);
	return rv;
}

/*
 * ctl METHOD PATH [BODY]: one control request (PATH under /_sim/ unless
 * it starts with /), the response body on stdout; exit 0 on 2xx.
 */
int
client_ctl(int argc, char **argv)
{
	static const struct {
		const char		*name;
		enum evhttp_cmd_type	 method;
	} methods[] = {
		{ "GET", EVHTTP_REQ_GET },
		{ "POST", EVHTTP_REQ_POST },
		{ "DELETE", EVHTTP_REQ_DELETE },
	};
	struct exchange		 x;
	const char		*sim = NULL, *synopsis = "ctl [-S sim_url] "
				    "method path [body]";
	char			*url, *path;
	size_t			 i, len;
	int			 ch, rv = 1;

	while ((ch = getopt(argc, argv, "S:")) != -1) {
		switch (ch) {
		case 'S':
			sim = optarg;
			break;
		default:
			client_usage(synopsis);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3)
		client_usage(synopsis);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcasecmp(argv[0], methods[i].name) == 0)
			break;
	if (i == sizeof(methods) / sizeof(methods[0]) ||
	    (url = sim_url(sim)) == NULL)
		client_usage(synopsis);
	if (argv[1][0] == '/')
		path = xstrdup(argv[1]);
	else
		xasprintf(&path, "/_sim/%s", argv[1]);

	if (exchange(url, methods[i].method, path, argc == 3 ? argv[2] : NULL,
	    30, &x) == -1) {
		log_warnx("%s: %s", url, x.error);
		goto done;
	}
	len = strlen(x.body);
	if (fwrite(x.body, 1, len, stdout) != len ||
	    (len > 0 && x.body[len - 1] != '\n' && putchar('\n') == EOF) ||
	    fflush(stdout) == EOF)
		goto done;
	if (x.status >= 200 && x.status <= 299)
		rv = 0;
	else
		log_warnx("%s %s: %d", methods[i].name, path, x.status);
 done:
	free(x.body);
	free(path);
	free(url);
	return rv;
}

/* -S, else $POLREC_SIM_URL; "ADDR:PORT" (a -P portfile) means http. */
static char *
sim_url(const char *url)
{
	char	*full;

	if (url == NULL && (url = getenv("POLREC_SIM_URL")) == NULL) {
		log_warnx("no simulator: use -S or set POLREC_SIM_URL");
		return NULL;
	}
	if (strstr(url, "://") != NULL)
		return xstrdup(url);
	xasprintf(&full, "http://%.*s", (int)strcspn(url, "\n"), url);
	return full;
}

/*
 * One request to base + path, with a JSON body unless body is NULL; -1
 * with x->error when there is no HTTP response at all.
 */
static int
exchange(const char *base_url, enum evhttp_cmd_type method, const char *path,
    const char *body, int timeout, struct exchange *x)
{
	struct evhttp_uri		*uri;
	struct evhttp_connection	*evcon = NULL;
	struct evhttp_request		*req;
	struct evkeyvalq		*h;
	const char			*host, *prefix;
	char				*target = NULL, hostport[300];
	int				 port, rv = -1;

	memset(x, 0, sizeof(*x));
	if ((uri = evhttp_uri_parse(base_url)) == NULL ||
	    (host = evhttp_uri_get_host(uri)) == NULL ||
	    evhttp_uri_get_scheme(uri) == NULL ||
	    strcmp(evhttp_uri_get_scheme(uri), "http") != 0) {
		snprintf(x->error, sizeof(x->error), "not an http URL");
		goto done;
	}
	if ((port = evhttp_uri_get_port(uri)) == -1)
		port = 80;
	if ((prefix = evhttp_uri_get_path(uri)) == NULL)
		prefix = "";
	xasprintf(&target, "%.*s%s", (int)strcspn(prefix, "?") -
	    (prefix[0] != '\0' && prefix[strlen(prefix) - 1] == '/'),
	    prefix, path);
	snprintf(hostport, sizeof(hostport), "%s:%d", host, port);

	if ((x->base = event_base_new()) == NULL ||
	    (evcon = evhttp_connection_base_new(x->base, NULL, host,
	    port)) == NULL)
		fatalx("cannot set up an HTTP client");
	evhttp_connection_set_timeout(evcon, timeout);
	if ((req = evhttp_request_new(exchange_cb, x)) == NULL)
		fatalx("evhttp_request_new");
	evhttp_request_set_error_cb(req, exchange_error_cb);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "Accept", "application/json");
	if (body != NULL) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), body,
		    strlen(body));
	}
	if (evhttp_make_request(evcon, req, method, target) == -1) {
		snprintf(x->error, sizeof(x->error), "cannot send request");
		goto done;
	}
	event_base_dispatch(x->base);
	if (x->status == 0) {
		if (x->error[0] == '\0')
			snprintf(x->error, sizeof(x->error), "no response");
		goto done;
	}
	rv = 0;
 done:
	if (evcon != NULL)
		evhttp_connection_free(evcon);
	if (x->base != NULL)
		event_base_free(x->base);
	x->base = NULL;
	free(target);
	if (uri != NULL)
		evhttp_uri_free(uri);
	return rv;
}

static void
exchange_cb(struct evhttp_request *req, void *arg)
{
	struct exchange	*x = arg;
	struct evbuffer	*in;
	size_t		 len;

	if (req != NULL && (x->status =
	    evhttp_request_get_response_code(req)) != 0) {
		in = evhttp_request_get_input_buffer(req);
		len = evbuffer_get_length(in);
		x->body = xmalloc(len + 1);
		evbuffer_copyout(in, x->body, len);
		x->body[len] = '\0';
	}
	/* The idle keep-alive connection would hold the loop open. */
	event_base_loopexit(x->base, NULL);
}

static void
exchange_error_cb(enum evhttp_request_error err, void *arg)
{
	struct exchange	*x = arg;

	snprintf(x->error, sizeof(x->error), "%s",
	    err == EVREQ_HTTP_TIMEOUT ? "timed out" :
	    err == EVREQ_HTTP_EOF ? "connection closed" : "connection failed");
}

static char *
read_file(const char *path, size_t *lenp)
{
	FILE		*fp;
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len;

	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1) {
		log_warn("%s", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CLIENT_MAX_FILE) {
		log_warnx("%s: not a regular file of at most %d bytes", path,
		    CLIENT_MAX_FILE);
		goto done;
	}
	len = st.st_size;
	buf = xmalloc(len + 1);
	if (fread(buf, 1, len, fp) != len || ferror(fp)) {
		log_warnx("%s: short read", path);
		free(buf);
		buf = NULL;
		goto done;
	}
	buf[len] = '\0';
	*lenp = len;
 done:
	fclose(fp);
	return buf;
}

static cJSON *
parse_file(const char *path)
{
	cJSON	*json;
	char	*text;
	size_t	 len;

	if ((text = read_file(path, &len)) == NULL)
		return NULL;
	if ((json = cJSON_ParseWithLength(text, len)) == NULL)
		log_warnx("%s: not valid JSON (near byte %td)", path,
		    cJSON_GetErrorPtr() != NULL ?
		    cJSON_GetErrorPtr() - text : (ptrdiff_t)0);
	free(text);
	return json;
}

/*
 * Make a scenario self-contained: each step's "file" (relative to the
 * scenario's directory) becomes its "body".  *timeout is how long the
 * simulator may take to play it.
 */
static cJSON *
load_scenario(const char *path, const char *target, int *timeout)
{
	cJSON		*s, *steps, *step, *file, *delay, *body, *repeat;
	char		*copy, *dir, *name, *fpath;
	long long	 total_ms = 0, posts = 0, n;

	if ((s = parse_file(path)) == NULL)
		return NULL;
	steps = cJSON_GetObjectItemCaseSensitive(s, "steps");
	if (!cJSON_IsObject(s) || !cJSON_IsArray(steps)) {
		log_warnx("%s: not a scenario (no steps array)", path);
		cJSON_Delete(s);
		return NULL;
	}
	copy = xstrdup(path);
	dir = dirname(copy);
	cJSON_ArrayForEach(step, steps) {
		file = cJSON_GetObjectItemCaseSensitive(step, "file");
		delay = cJSON_GetObjectItemCaseSensitive(step, "delay_ms");
		repeat = cJSON_GetObjectItemCaseSensitive(step, "repeat");
		n = cJSON_IsNumber(repeat) && repeat->valuedouble >= 1 &&
		    repeat->valuedouble < 1e7 ? (long long)repeat->valuedouble :
		    1;
		posts += n;
		if (cJSON_IsNumber(delay) && delay->valuedouble > 0 &&
		    delay->valuedouble < 1e9)
			total_ms += n * (long long)delay->valuedouble;
		if (!cJSON_IsString(file) ||
		    cJSON_GetObjectItemCaseSensitive(step, "body") != NULL)
			continue;
		if (file->valuestring[0] == '/')
			fpath = xstrdup(file->valuestring);
		else
			xasprintf(&fpath, "%s/%s", dir, file->valuestring);
		body = parse_file(fpath);
		free(fpath);
		if (body == NULL) {
			log_warnx("%s: cannot inline %s", path,
			    file->valuestring);
			free(copy);
			cJSON_Delete(s);
			return NULL;
		}
		cJSON_AddItemToObject(step, "body", body);
	}
	free(copy);

	if (cJSON_GetObjectItemCaseSensitive(s, "name") == NULL) {
		copy = xstrdup(path);
		name = basename(copy);
		name[strcspn(name, ".")] = '\0';
		cJSON_AddStringToObject(s, "name", name);
		free(copy);
	}
	if (target != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(s, "target");
		cJSON_AddStringToObject(s, "target", target);
	}
	n = 30 + total_ms / 1000 + posts * (SIM_NOTIFY_TIMEOUT + 1);
	*timeout = n > INT_MAX ? INT_MAX : n;
	return s;
}

/*
 * "example3 step 1: 202 (expected 202) 3 ms" ("step 1.2" for a step's
 * second repeat), then ok or FAILED.
 */
static int
print_report(const char *path, const char *text)
{
	const cJSON	*steps, *st, *name, *ok, *err;
	cJSON		*r;
	char		 expected[16];
	double		 status, exp, ms, attempt;
	const char	*resp, *n;
	int		 passed;

	if ((r = cJSON_Parse(text)) == NULL) {
		log_warnx("%s: the simulator's reply is not JSON", path);
		return -1;
	}
	err = cJSON_GetObjectItemCaseSensitive(r, "error");
	name = cJSON_GetObjectItemCaseSensitive(r, "name");
	ok = cJSON_GetObjectItemCaseSensitive(r, "ok");
	steps = cJSON_GetObjectItemCaseSensitive(r, "steps");
	if (cJSON_IsString(err) || !cJSON_IsString(name) ||
	    !cJSON_IsBool(ok) || !cJSON_IsArray(steps)) {
		log_warnx("%s: %s", path, cJSON_IsString(err) ?
		    err->valuestring : "malformed report");
		cJSON_Delete(r);
		return -1;
	}
	n = name->valuestring;
	cJSON_ArrayForEach(st, steps) {
		status = cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(st, "status"));
		exp = cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(st, "expected"));
		ms = cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(st, "elapsed_ms"));
		resp = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(st, "response"));
		if (!isnan(exp))
			snprintf(expected, sizeof(expected), "%.0f", exp);
		else
			snprintf(expected, sizeof(expected), "2xx");
		printf("%s step %.0f", n, cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(st, "step")));
		attempt = cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(st, "attempt"));
		if (!isnan(attempt))
			printf(".%.0f", attempt);
		printf(": %.0f (expected %s) %.0f ms", status, expected, ms);
		if ((err = cJSON_GetObjectItemCaseSensitive(st, "error")) !=
		    NULL && cJSON_IsString(err))
			printf(": %s", err->valuestring);
		printf("\n");
		if (resp != NULL && resp[0] != '\0')
			printf("  %s\n", resp);
	}
	passed = cJSON_IsTrue(ok);
	printf("%s: %s\n", n, passed ? "ok" : "FAILED");
	fflush(stdout);
	cJSON_Delete(r);
	return passed ? 0 : -1;
}

/*
 * load [-S sim_url] -u target -o log [-R rate] [-d seconds] [-x retries]
 * [-t timeout] [-m inv,est,term,join] [-a age_ms] [-D dir]: the
 * simulator posts a
 * mixed load (load.c; updates go to calls invited age_ms or more
 * ago) and answers with a summary when it is over; the
 * templates are the notifications in dir, inlined here.
 */
int
client_load(int argc, char **argv)
{
	static const struct {
		const char	*kind;
		const char	*file;
	} templates[] = {
		{ "invitation", "example3-invitation.json" },
		{ "established", "p2p-established.json" },
		{ "terminated", "terminated-deleted.json" },
		{ "joining", "participant-joining.json" },
	};
	struct exchange	 x;
	const char	*sim = NULL, *target = NULL, *logpath = NULL;
	const char	*dir = "tests/scenarios/notifications", *mix = NULL;
	const char	*synopsis = "load [-S sim_url] -u target_url -o log "
			    "[-R rate] [-d seconds] [-x retries] [-t timeout] "
			    "[-m inv,est,term,join] [-a age_ms] [-D dir]";
	const char	*errstr;
	cJSON		*req, *tmpl, *t;
	char		*text, *url, *path, abspath[PATH_MAX];
	long long	 rate = 100, seconds = 10, retries = 3, timeout = 5;
	long long	 age = -1;
	size_t		 i;
	int		 ch, rv = 1;

	while ((ch = getopt(argc, argv, "S:u:o:R:d:x:t:m:D:a:")) != -1) {
		switch (ch) {
		case 'S':
			sim = optarg;
			break;
		case 'u':
			target = optarg;
			break;
		case 'o':
			logpath = optarg;
			break;
		case 'R':
			rate = strtonum(optarg, 1, 10000, &errstr);
			if (errstr != NULL)
				client_usage(synopsis);
			break;
		case 'd':
			seconds = strtonum(optarg, 1, 86400, &errstr);
			if (errstr != NULL)
				client_usage(synopsis);
			break;
		case 'x':
			retries = strtonum(optarg, 0, 10, &errstr);
			if (errstr != NULL)
				client_usage(synopsis);
			break;
		case 't':
			timeout = strtonum(optarg, 1, 60, &errstr);
			if (errstr != NULL)
				client_usage(synopsis);
			break;
		case 'm':
			mix = optarg;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'a':
			age = strtonum(optarg, 0, 600000, &errstr);
			if (errstr != NULL)
				client_usage(synopsis);
			break;
		default:
			client_usage(synopsis);
		}
	}
	if (optind != argc || target == NULL || logpath == NULL ||
	    (url = sim_url(sim)) == NULL)
		client_usage(synopsis);
	/* The simulator writes the log: it may run elsewhere. */
	if (logpath[0] != '/' && realpath(".", abspath) != NULL) {
		xasprintf(&path, "%s/%s", abspath, logpath);
	} else
		path = xstrdup(logpath);

	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "target", target);
	cJSON_AddStringToObject(req, "log", path);
	cJSON_AddNumberToObject(req, "rate", rate);
	cJSON_AddNumberToObject(req, "seconds", seconds);
	cJSON_AddNumberToObject(req, "retries", retries);
	cJSON_AddNumberToObject(req, "timeout", timeout);
	if (mix != NULL)
		cJSON_AddStringToObject(req, "mix", mix);
	if (age >= 0)
		cJSON_AddNumberToObject(req, "age_ms", age);
	tmpl = cJSON_AddObjectToObject(req, "templates");
	for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
		char	*f;

		xasprintf(&f, "%s/%s", dir, templates[i].file);
		t = parse_file(f);
		free(f);
		if (t == NULL)
			goto done;
		cJSON_AddItemToObject(tmpl, templates[i].kind, t);
	}
	if ((text = cJSON_PrintUnformatted(req)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	if (exchange(url, EVHTTP_REQ_POST, "/_sim/load", text,
	    (int)(seconds + (retries + 1) * (timeout + 8) + 60), &x) == -1)
		log_warnx("%s: %s", url, x.error);
	else {
		printf("%s\n", x.body);
		if (x.status == HTTP_OK)
			rv = 0;
		else
			log_warnx("load: %d", x.status);
	}
	free(x.body);
	cJSON_free(text);
 done:
	cJSON_Delete(req);
	free(path);
	free(url);
	return rv;
}
