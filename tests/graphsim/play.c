/* Scenarios: notifications posted in order to the webhook, with a report. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>

#include "graphsim.h"
#include "jsonx.h"
#include "log.h"
#include "xmalloc.h"

#define PLAY_MAX_STEPS		10000
#define PLAY_MAX_DELAY_MS	600000
#define PLAY_MAX_NAME		128
#define PLAY_MAX_HEADER		1024
#define PLAY_MAX_REPEAT		100000
#define PLAY_MAX_POSTS		1000000	/* steps times their repeats */

struct play_step {
	int			 delay_ms;	/* after the last reply */
	const char		*file;		/* for the report */
	int			 expect;	/* 0: any 2xx */
	int			 repeat;	/* posts of this step */
	struct notify_spec	 spec;		/* into the scenario */
};

struct play {
	TAILQ_ENTRY(play)	 entry;
	struct sim		*sim;
	struct evhttp_request	*req;		/* POST /_sim/play */
	cJSON			*scenario;
	const char		*name;
	struct play_step	*steps;
	size_t			 nsteps;
	size_t			 cur;
	int			 attempt;	/* of steps[cur], from 1 */
	struct event		*timer;
	struct notify		*inflight;
	cJSON			*results;
	int			 ok;
};

static int	parse_scenario(struct play *, char *, size_t);
static int	parse_step(struct play *, const cJSON *, size_t, char *,
		    size_t);
static int	get_int(const cJSON *, const char *, int, int, int *);
static int	valid_header(const char *, const char *);
static int	fail(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	schedule(struct play *);
static void	step_cb(evutil_socket_t, short, void *);
static void	step_done(const struct notify_result *, void *);
static void	finish(struct play *);
static void	play_free(struct play *);

static const char *step_keys[] = {
	"delay_ms", "file", "body", "headers", "token", "content_type",
	"expect_status", "message_id", "repeat", "tid", NULL
};
static const char *scenario_keys[] = {
	"name", "description", "target", "steps", NULL
};

/*
 * Parse a self-contained scenario and start playing it; the report goes
 * back on req when the last step has its response.  -1 with a message
 * in err for a bad scenario, in which case req is the caller's.
 */
int
play_start(struct sim *sim, struct evhttp_request *req, const char *body,
    size_t len, char *err, size_t errlen)
{
	struct play	*p;

	p = xcalloc(1, sizeof(*p));
	p->sim = sim;
	p->ok = 1;
	p->attempt = 1;
	if ((p->scenario = cJSON_ParseWithLength(body, len)) == NULL) {
		fail(err, errlen, "scenario is not valid JSON");
		goto bad;
	}
	if (parse_scenario(p, err, errlen) == -1)
		goto bad;
	if ((p->timer = evtimer_new(sim->base, step_cb, p)) == NULL)
		fatalx("evtimer_new");
	if ((p->results = cJSON_CreateArray()) == NULL)
		fatalx("cJSON_CreateArray");
	p->req = req;
	TAILQ_INSERT_TAIL(&sim->plays, p, entry);
	sim->stats.plays++;
	log_info("play %s: %zu steps to %s", p->name, p->nsteps,
	    p->steps[0].spec.target);
	schedule(p);
	return 0;
 bad:
	play_free(p);
	return -1;
}

static int
parse_scenario(struct play *p, char *err, size_t errlen)
{
	const cJSON	*s = p->scenario, *x, *steps, *step;
	const char	*target, *errstr, **k;
	size_t		 i, posts = 0;

	if (!cJSON_IsObject(s))
		return fail(err, errlen, "scenario must be a JSON object");
	cJSON_ArrayForEach(x, s) {
		for (k = scenario_keys; *k != NULL; k++)
			if (strcmp(x->string, *k) == 0)
				break;
		if (*k == NULL)
			return fail(err, errlen,
			    "unknown scenario key \"%.64s\"", x->string);
	}
	x = cJSON_GetObjectItemCaseSensitive(s, "name");
	if (x == NULL)
		p->name = "scenario";
	else if (!cJSON_IsString(x) || x->valuestring[0] == '\0' ||
	    strlen(x->valuestring) > PLAY_MAX_NAME)
		return fail(err, errlen, "name must be a string of 1 to %d "
		    "characters", PLAY_MAX_NAME);
	else
		p->name = x->valuestring;
	x = cJSON_GetObjectItemCaseSensitive(s, "description");
	if (x != NULL && !cJSON_IsString(x))
		return fail(err, errlen, "description must be a string");

	x = cJSON_GetObjectItemCaseSensitive(s, "target");
	if (x != NULL && !cJSON_IsString(x))
		return fail(err, errlen, "target must be a string");
	target = x != NULL ? x->valuestring : p->sim->target_url;
	if (target == NULL)
		return fail(err, errlen, "no target: give the scenario a "
		    "target or start the simulator with -u");
	if (notify_check_target(target, &errstr) == -1)
		return fail(err, errlen, "target %.200s: %s", target, errstr);

	steps = cJSON_GetObjectItemCaseSensitive(s, "steps");
	if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0)
		return fail(err, errlen, "steps must be a non-empty array");
	if (cJSON_GetArraySize(steps) > PLAY_MAX_STEPS)
		return fail(err, errlen, "more than %d steps", PLAY_MAX_STEPS);
	p->nsteps = cJSON_GetArraySize(steps);
	p->steps = xcalloc(p->nsteps, sizeof(*p->steps));
	i = 0;
	cJSON_ArrayForEach(step, steps) {
		p->steps[i].spec.target = target;
		if (parse_step(p, step, i, err, errlen) == -1)
			return -1;
		posts += p->steps[i].repeat;
		i++;
	}
	if (posts > PLAY_MAX_POSTS)
		return fail(err, errlen, "more than %d posts in all",
		    PLAY_MAX_POSTS);
	return 0;
}

static int
parse_step(struct play *p, const cJSON *j, size_t i, char *err,
    size_t errlen)
{
	struct play_step	*st = &p->steps[i];
	const cJSON		*x;
	const char		**k;

	if (!cJSON_IsObject(j))
		return fail(err, errlen, "step %zu: not an object", i + 1);
	cJSON_ArrayForEach(x, j) {
		for (k = step_keys; *k != NULL; k++)
			if (strcmp(x->string, *k) == 0)
				break;
		if (*k == NULL)
			return fail(err, errlen, "step %zu: unknown key "
			    "\"%.64s\"", i + 1, x->string);
	}
	if (get_int(j, "delay_ms", 0, PLAY_MAX_DELAY_MS, &st->delay_ms) == -1)
		return fail(err, errlen, "step %zu: delay_ms must be an "
		    "integer from 0 to %d", i + 1, PLAY_MAX_DELAY_MS);
	if (get_int(j, "expect_status", 100, 599, &st->expect) == -1)
		return fail(err, errlen, "step %zu: expect_status must be an "
		    "HTTP status code", i + 1);
	st->repeat = 1;
	if (get_int(j, "repeat", 1, PLAY_MAX_REPEAT, &st->repeat) == -1)
		return fail(err, errlen, "step %zu: repeat must be an integer "
		    "from 1 to %d", i + 1, PLAY_MAX_REPEAT);
	x = cJSON_GetObjectItemCaseSensitive(j, "message_id");
	if (x != NULL && (!cJSON_IsString(x) || x->valuestring[0] == '\0' ||
	    !valid_header("X-Microsoft-Skype-Message-ID", x->valuestring)))
		return fail(err, errlen, "step %zu: bad message_id", i + 1);
	st->spec.message_id = x != NULL ? x->valuestring : NULL;

	x = cJSON_GetObjectItemCaseSensitive(j, "file");
	if (x != NULL && !cJSON_IsString(x))
		return fail(err, errlen, "step %zu: file must be a string",
		    i + 1);
	st->file = x != NULL ? x->valuestring : NULL;
	x = cJSON_GetObjectItemCaseSensitive(j, "body");
	if (x == NULL && st->file != NULL)
		return fail(err, errlen, "step %zu: file %.200s was not "
		    "inlined (play scenarios with polrec-graphsim play)",
		    i + 1, st->file);
	if (cJSON_IsObject(x))
		st->spec.json = x;
	else if (cJSON_IsString(x))
		st->spec.raw = x->valuestring;
	else
		return fail(err, errlen, "step %zu: body must be an object, "
		    "or a string sent verbatim", i + 1);

	x = cJSON_GetObjectItemCaseSensitive(j, "token");
	if (x != NULL && (!cJSON_IsString(x) ||
	    (st->spec.token = notify_token_find(x->valuestring)) == NULL))
		return fail(err, errlen, "step %zu: unknown token kind",
		    i + 1);
	/* The token's tenant, when not the simulator's first. */
	x = cJSON_GetObjectItemCaseSensitive(j, "tid");
	if (x != NULL && (!cJSON_IsString(x) || x->valuestring[0] == '\0' ||
	    strlen(x->valuestring) > SIM_MAX_ID))
		return fail(err, errlen, "step %zu: bad tid", i + 1);
	st->spec.tid = x != NULL ? x->valuestring : NULL;
	x = cJSON_GetObjectItemCaseSensitive(j, "content_type");
	if (x != NULL && (!cJSON_IsString(x) ||
	    !valid_header("Content-Type", x->valuestring)))
		return fail(err, errlen, "step %zu: bad content_type", i + 1);
	st->spec.content_type = x != NULL ? x->valuestring : NULL;

	x = cJSON_GetObjectItemCaseSensitive(j, "headers");
	if (x != NULL && !cJSON_IsObject(x))
		return fail(err, errlen, "step %zu: headers must be an object",
		    i + 1);
	st->spec.headers = x;
	cJSON_ArrayForEach(x, st->spec.headers) {
		if (!cJSON_IsString(x) ||
		    !valid_header(x->string, x->valuestring))
			return fail(err, errlen, "step %zu: bad header "
			    "\"%.64s\"", i + 1, x->string);
	}
	return 0;
}

/* An optional integer member in [min, max]; absent leaves *out alone. */
static int
get_int(const cJSON *j, const char *key, int min, int max, int *out)
{
	const cJSON	*x = cJSON_GetObjectItemCaseSensitive(j, key);
	long long	 v;

	if (x == NULL)
		return 0;
	if (!cJSON_IsNumber(x) || jsonx_item_integer(x, min, max, &v) == -1)
		return -1;
	*out = v;
	return 0;
}

/* A token for a name (RFC 9110) and a value without control bytes. */
static int
valid_header(const char *name, const char *value)
{
	const char	*c;

	if (name[0] == '\0' || strlen(name) > 128 ||
	    strlen(value) > PLAY_MAX_HEADER ||
	    name[strspn(name, "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")] != '\0')
		return 0;
	for (c = value; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return 0;
	return 1;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The next post: delay_ms counts from the last reply, repeats included. */
static void
schedule(struct play *p)
{
	struct timeval	 tv;
	int		 ms = p->steps[p->cur].delay_ms;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
}

static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct play	*p = arg;

	(void)fd;
	(void)what;
	p->inflight = notify_send(p->sim, &p->steps[p->cur].spec, step_done,
	    p);
}

static void
step_done(const struct notify_result *r, void *arg)
{
	struct play		*p = arg;
	const struct play_step	*st = &p->steps[p->cur];
	cJSON			*o;
	int			 ok;

	p->inflight = NULL;
	if (st->expect != 0)
		ok = r->status == st->expect;
	else
		ok = r->status >= 200 && r->status <= 299;
	if (!ok)
		p->ok = 0;
	log_info("play %s step %zu.%d: status %d in %lld ms%s%s", p->name,
	    p->cur + 1, p->attempt, r->status, r->elapsed_ms,
	    r->error != NULL ? ": " : "", r->error != NULL ? r->error : "");

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "step", p->cur + 1);
	if (st->repeat > 1)
		cJSON_AddNumberToObject(o, "attempt", p->attempt);
	if (st->file != NULL)
		cJSON_AddStringToObject(o, "file", st->file);
	cJSON_AddNumberToObject(o, "status", r->status);
	if (st->expect != 0)
		cJSON_AddNumberToObject(o, "expected", st->expect);
	else
		cJSON_AddNullToObject(o, "expected");
	cJSON_AddBoolToObject(o, "ok", ok);
	cJSON_AddNumberToObject(o, "elapsed_ms", r->elapsed_ms);
	cJSON_AddStringToObject(o, "response",
	    r->response != NULL ? r->response : "");
	if (r->error != NULL)
		cJSON_AddStringToObject(o, "error", r->error);
	cJSON_AddItemToArray(p->results, o);

	if (p->attempt < st->repeat)
		p->attempt++;
	else {
		p->cur++;
		p->attempt = 1;
	}
	if (p->cur < p->nsteps)
		schedule(p);
	else
		finish(p);
}

static void
finish(struct play *p)
{
	cJSON	*report;

	log_info("play %s: %s", p->name, p->ok ? "ok" : "FAILED");
	report = cJSON_CreateObject();
	cJSON_AddStringToObject(report, "name", p->name);
	cJSON_AddBoolToObject(report, "ok", p->ok);
	cJSON_AddItemToObject(report, "steps", p->results);
	p->results = NULL;
	sim_reply_json(p->req, HTTP_OK, report);
	cJSON_Delete(report);
	TAILQ_REMOVE(&p->sim->plays, p, entry);
	play_free(p);
}

/* At shutdown: every waiting control request still gets an answer. */
void
play_abort_all(struct sim *sim)
{
	struct play	*p;

	while ((p = TAILQ_FIRST(&sim->plays)) != NULL) {
		TAILQ_REMOVE(&sim->plays, p, entry);
		notify_cancel(sim, p->inflight);
		sim_reply_error(p->req, HTTP_SERVUNAVAIL,
		    "simulator shutting down");
		play_free(p);
	}
}

static void
play_free(struct play *p)
{
	if (p->timer != NULL)
		event_free(p->timer);
	cJSON_Delete(p->results);
	free(p->steps);
	cJSON_Delete(p->scenario);
	free(p);
}
