/*
 * The load of `make bench`: one notification body posted over many
 * keep-alive connections, as Teams does, each post with its own message
 * id and, when asked, its own ids in the body; a bearer token signed
 * once with the simulator's key and sent with every post, as Graph
 * reuses its tokens.  Closed loop (-r 0: each connection posts again as
 * soon as it has its reply, the most the server takes) or open loop at
 * a fixed rate, where each post's latency counts from when it was due,
 * so a server that falls behind is not flattered.
 *
 * The body is a template: -i names an id put fresh (random, of its
 * form) in every place it occurs, one per post; -l names an id replaced
 * in every place by the next line of the list -L, so that updates and
 * joins reach legs that exist (the run ends when the list is used up).
 * -o writes the fresh id of every post answered 2xx, a list for a later
 * run.  -w waits for a server that is not there yet: it connects until
 * the server listens, a post answered with a failure (a 503 before the
 * signing keys are in) is sent again a millisecond later, and the line
 * says when the first was answered (first_ok_unix_us, the realtime
 * clock), for the time from a restart to the first answer.  One JSON
 * line out:
 *   {"sent":N,"ok":N,"failed":N,"seconds":S,"rps":R,
 *    "p50_ms":X,"p99_ms":X,"p999_ms":X,"max_ms":X,"first_ok_unix_us":N}
 *
 * blast -u URL -b body.json [-i id] [-l id -L list] [-o ids_out]
 *       [-k key.pem -A app_id -T tid | -a secret_file]
 *       [-c connections] [-r rate] [-d seconds] [-n posts] [-w]
 */
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <netdb.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "jwt.h"
#include "xmalloc.h"

#define MAX_CONNS	1024
#define MAX_HOLES	64	/* id places in a body */
#define MAX_ID		128
#define DRAIN_SEC	5	/* replies awaited after the run */

enum hole_kind { HOLE_FRESH, HOLE_LIST };

struct hole {
	size_t		 off, len;
	enum hole_kind	 kind;
};

struct post {
	struct blast	*b;
	uint64_t	 due_us;
	char		 fresh[MAX_ID + 1];
	const char	*listed;	/* a line of the list, or NULL */
};

struct blast {
	struct event_base	*base;
	struct evhttp_connection *conns[MAX_CONNS];
	int			 nconns, next;
	const char		*host, *path;
	int			 port;
	char			*body;
	size_t			 bodylen;
	struct hole		 holes[MAX_HOLES];
	int			 nholes;
	const char		*fresh_form;	/* -i: '-' kept */
	size_t			 fresh_len;
	char			*listbuf;	/* -L, its lines in place */
	char			**list;
	size_t			 nlist, list_next;
	FILE			*ids_out;	/* -o */
	char			*authz;
	long long		 rate;		/* 0: closed loop */
	uint64_t		 limit;		/* posts; 0: no limit */
	int			 wait;		/* -w */
	uint64_t		 start_us, end_us, first_ok_unix_us;
	uint64_t		 sent, ok, failed, inflight;
	uint32_t		*lat;		/* microseconds */
	size_t			 nlat, latsz;
	struct event		*tick;
	int			 tickfd;	/* timerfd: epoll's timeouts
						   are as coarse as the tick */
	int			 ticking;	/* posts still to be due */
};

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
unix_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
uuid(char out[37])
{
	unsigned char	 r[16];
	char		 hex[33];

	randombytes_buf(r, sizeof(r));
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
	    hex + 12, hex + 16, hex + 20);
}

static void	send_one(struct blast *, uint64_t);
static void	issue(struct post *);

/* Random hex in place of each character of form but its dashes. */
static void
fresh_id(char *dst, const char *form, size_t len)
{
	static const char	 hexd[] = "0123456789abcdef";
	unsigned char		 r[MAX_ID];
	size_t			 i;

	randombytes_buf(r, len);
	for (i = 0; i < len; i++)
		dst[i] = form[i] == '-' ? '-' : hexd[r[i] & 15];
	dst[len] = '\0';
}

/* Every post the run is to make has been made. */
static int
used_up(const struct blast *b)
{
	return b->limit > 0 && b->sent >= b->limit;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	issue(arg);
}

static void
retry_later(struct post *p)
{
	struct timeval	tv = { 0, 1000 };

	if (event_base_once(p->b->base, -1, EV_TIMEOUT, on_retry, p,
	    &tv) == -1)
		abort();
}

static void
on_reply(struct evhttp_request *req, void *arg)
{
	struct post	*p = arg;
	struct blast	*b = p->b;
	uint64_t	 t = now_us();
	int		 code = req != NULL ? evhttp_request_get_response_code(req)
			    : 0;
	int		 good = code >= 200 && code < 300;

	/* Not there yet, or not ready: the same post again, as Teams
	 * sends a notification again after a 503 or no reply. */
	if (!good && b->wait && t < b->end_us) {
		retry_later(p);
		return;
	}
	b->inflight--;
	if (good) {
		b->ok++;
		if (b->first_ok_unix_us == 0)
			b->first_ok_unix_us = unix_us();
		if (b->ids_out != NULL && p->fresh[0] != '\0')
			fprintf(b->ids_out, "%s\n", p->fresh);
	} else
		b->failed++;
	if (b->nlat == b->latsz) {
		b->latsz = b->latsz ? b->latsz * 2 : 65536;
		b->lat = xreallocarray(b->lat, b->latsz, sizeof(*b->lat));
	}
	b->lat[b->nlat++] = t > p->due_us ?
	    (uint32_t)(t - p->due_us < UINT32_MAX ? t - p->due_us :
	    UINT32_MAX) : 0;
	free(p);
	if (b->rate == 0 && t < b->end_us && !used_up(b))
		send_one(b, t);
	/* Open loop: not before the tick has sent every post due. */
	if ((t >= b->end_us || used_up(b)) && b->inflight == 0 &&
	    !b->ticking)
		event_base_loopexit(b->base, NULL);
}

/* The template with this post's ids in their places. */
static void
fill_body(const struct post *p, struct evbuffer *out)
{
	const struct blast	*b = p->b;
	const struct hole	*h;
	const char		*v;
	size_t			 at = 0;
	int			 i;

	for (i = 0; i < b->nholes; i++) {
		h = &b->holes[i];
		v = h->kind == HOLE_FRESH ? p->fresh : p->listed;
		evbuffer_add(out, b->body + at, h->off - at);
		evbuffer_add(out, v, strlen(v));
		at = h->off + h->len;
	}
	evbuffer_add(out, b->body + at, b->bodylen - at);
}

static void
issue(struct post *p)
{
	struct blast		*b = p->b;
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	char			 id[37], host[300];

	if ((req = evhttp_request_new(on_reply, p)) == NULL)
		abort();
	uuid(id);
	h = evhttp_request_get_output_headers(req);
	snprintf(host, sizeof(host), "%s:%d", b->host, b->port);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "X-Microsoft-Skype-Message-ID", id);
	if (b->authz != NULL)
		evhttp_add_header(h, "Authorization", b->authz);
	fill_body(p, evhttp_request_get_output_buffer(req));
	if (evhttp_make_request(b->conns[b->next], req, EVHTTP_REQ_POST,
	    b->path) == -1) {
		if (b->wait && now_us() < b->end_us)
			retry_later(p);
		else {
			b->inflight--;
			b->failed++;
			free(p);
		}
	}
	b->next = (b->next + 1) % b->nconns;
}

static void
send_one(struct blast *b, uint64_t due)
{
	struct post	*p;

	p = xcalloc(1, sizeof(*p));
	p->b = b;
	p->due_us = due;
	if (b->fresh_len > 0)
		fresh_id(p->fresh, b->fresh_form, b->fresh_len);
	if (b->nlist > 0)
		p->listed = b->list[b->list_next++ % b->nlist];
	b->sent++;
	b->inflight++;
	issue(p);
}

/* Open loop: every post due by now goes out, timed from when it was due. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct blast	*b = arg;
	uint64_t	 t = now_us(), due_n, until;

	uint64_t	 expirations;

	(void)what;
	(void)read(fd, &expirations, sizeof(expirations));
	/* Post k is due at start + k / rate: k = 0 at once. */
	until = t < b->end_us ? t : b->end_us - 1;
	due_n = (until - b->start_us) * (uint64_t)b->rate / 1000000 + 1;
	while (b->sent < due_n && !used_up(b))
		send_one(b, b->start_us + b->sent * 1000000 /
		    (uint64_t)b->rate);
	if (t >= b->end_us || used_up(b)) {
		event_del(b->tick);
		b->ticking = 0;
		if (b->inflight == 0)
			event_base_loopexit(b->base, NULL);
	}
}

/*
 * -w: until the server listens, a plain connect every millisecond, so
 * that no post meets a refused connection (evhttp would report it in
 * the middle of making the request).
 */
static void
wait_listening(const struct blast *b)
{
	struct addrinfo	 hints, *ai;
	struct timespec	 ms = { 0, 1000000 };
	char		 port[16];
	int		 s, up = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", b->port);
	if (getaddrinfo(b->host, port, &hints, &ai) != 0) {
		fprintf(stderr, "blast: cannot resolve %s\n", b->host);
		exit(2);
	}
	while (!up && now_us() < b->end_us) {
		if ((s = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1) {
			perror("socket");
			exit(1);
		}
		up = connect(s, ai->ai_addr, ai->ai_addrlen) == 0;
		close(s);
		if (!up)
			nanosleep(&ms, NULL);
	}
	freeaddrinfo(ai);
}

static void
on_give_up(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_hole(const void *a, const void *b)
{
	const struct hole	*x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static double
quantile_ms(const struct blast *b, double q)
{
	size_t	 i;

	if (b->nlat == 0)
		return 0;
	i = (size_t)(q * (double)(b->nlat - 1) + 0.5);
	return b->lat[i] / 1000.0;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) == -1 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) == -1) {
		perror(path);
		exit(2);
	}
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(2);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The list's non-empty lines, in place. */
static void
read_list(struct blast *b, const char *path)
{
	size_t	 len, cap = 0;
	char	*line, *next;

	b->listbuf = read_file(path, &len);
	for (line = b->listbuf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0')
			continue;
		if (b->nlist == cap) {
			cap = cap ? cap * 2 : 1024;
			b->list = xreallocarray(b->list, cap, sizeof(*b->list));
		}
		b->list[b->nlist++] = line;
	}
	if (b->nlist == 0) {
		fprintf(stderr, "blast: %s: no ids\n", path);
		exit(2);
	}
}

/* Where each id goes in the body, in order; overlaps are not holes. */
static void
find_holes(struct blast *b, const char *id, enum hole_kind kind)
{
	size_t	 len = strlen(id);
	char	*at;

	for (at = b->body; len > 0 && (at = strstr(at, id)) != NULL &&
	    b->nholes < MAX_HOLES; at += len) {
		b->holes[b->nholes].off = (size_t)(at - b->body);
		b->holes[b->nholes].len = len;
		b->holes[b->nholes++].kind = kind;
	}
}

static void
sort_holes(struct blast *b)
{
	int	 i, n = 0;

	qsort(b->holes, (size_t)b->nholes, sizeof(b->holes[0]), cmp_hole);
	for (i = 0; i < b->nholes; i++)
		if (n == 0 || b->holes[i].off >= b->holes[n - 1].off +
		    b->holes[n - 1].len)
			b->holes[n++] = b->holes[i];
	b->nholes = n;
}

/* "Bearer " and an RS256 token good for an hour, as the simulator signs. */
static char *
make_authz(const char *keyfile, const char *app_id, const char *tid)
{
	EVP_PKEY	*key;
	FILE		*f;
	cJSON		*c;
	char		*kid, *jwt, *out;
	long long	 now = time(NULL);

	if ((f = fopen(keyfile, "r")) == NULL ||
	    (key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "blast: cannot read key %s\n", keyfile);
		exit(2);
	}
	fclose(f);
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "iss", "https://api.botframework.com");
	cJSON_AddStringToObject(c, "aud", app_id);
	cJSON_AddStringToObject(c, "tid", tid);
	cJSON_AddNumberToObject(c, "iat", (double)now);
	cJSON_AddNumberToObject(c, "nbf", (double)now);
	cJSON_AddNumberToObject(c, "exp", (double)(now + 3600));
	if (jwt_key_id(key, &kid) == -1 ||
	    jwt_sign_rs256(key, kid, c, &jwt) == -1) {
		fprintf(stderr, "blast: cannot sign a token\n");
		exit(2);
	}
	xasprintf(&out, "Bearer %s", jwt);
	free(kid);
	free(jwt);
	cJSON_Delete(c);
	EVP_PKEY_free(key);
	return out;
}

/* "Bearer " and a shared secret, as the media agent sends its events. */
static char *
secret_authz(const char *file)
{
	size_t	 len;
	char	*s, *out;

	s = read_file(file, &len);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
	    s[len - 1] == ' '))
		s[--len] = '\0';
	xasprintf(&out, "Bearer %s", s);
	sodium_memzero(s, len);
	free(s);
	return out;
}

static void
usage(void)
{
	fprintf(stderr, "usage: blast -u URL -b body.json [-i id] "
	    "[-l id -L list] [-o ids_out]\n"
	    "             [-k key.pem -A app_id -T tid | -a secret_file]\n"
	    "             [-c connections] [-r rate] [-d seconds] [-n posts] "
	    "[-w]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct blast		 b;
	struct evhttp_uri	*uri;
	struct timeval		 tv = { 0, 1000 };
	struct event		*give_up;
	const char		*url = NULL, *bodyfile = NULL, *listfile = NULL;
	const char		*keyfile = NULL, *app = NULL, *tid = NULL;
	const char		*listed = NULL, *outfile = NULL;
	const char		*secretfile = NULL;
	double			 secs = 5, took;
	int			 ch, i;

	memset(&b, 0, sizeof(b));
	b.nconns = 32;
	while ((ch = getopt(argc, argv, "A:a:b:c:d:i:k:L:l:n:o:r:T:u:w")) !=
	    -1) {
		switch (ch) {
		case 'A': app = optarg; break;
		case 'a': secretfile = optarg; break;
		case 'b': bodyfile = optarg; break;
		case 'c': b.nconns = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'i': b.fresh_form = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'L': listfile = optarg; break;
		case 'l': listed = optarg; break;
		case 'n': b.limit = strtoull(optarg, NULL, 10); break;
		case 'o': outfile = optarg; break;
		case 'r': b.rate = atoll(optarg); break;
		case 'T': tid = optarg; break;
		case 'u': url = optarg; break;
		case 'w': b.wait = 1; break;
		default: usage();
		}
	}
	if (url == NULL || bodyfile == NULL || b.nconns < 1 ||
	    b.nconns > MAX_CONNS || b.rate < 0 || secs <= 0 ||
	    (keyfile != NULL && (app == NULL || tid == NULL)) ||
	    (keyfile != NULL && secretfile != NULL) ||
	    ((listed == NULL) != (listfile == NULL)) ||
	    (outfile != NULL && b.fresh_form == NULL))
		usage();
	b.fresh_len = b.fresh_form != NULL ? strlen(b.fresh_form) : 0;
	if (b.fresh_len > MAX_ID)
		usage();
	if (sodium_init() < 0)
		return 1;
	if ((uri = evhttp_uri_parse(url)) == NULL ||
	    evhttp_uri_get_host(uri) == NULL)
		usage();
	b.host = evhttp_uri_get_host(uri);
	b.port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
	b.path = evhttp_uri_get_path(uri) != NULL ? evhttp_uri_get_path(uri) :
	    "/";
	b.body = read_file(bodyfile, &b.bodylen);
	if (b.fresh_form != NULL)
		find_holes(&b, b.fresh_form, HOLE_FRESH);
	if (listfile != NULL) {
		read_list(&b, listfile);
		find_holes(&b, listed, HOLE_LIST);
		/* Each listed id once: the run ends with the list. */
		if (b.limit == 0 || b.limit > b.nlist)
			b.limit = b.nlist;
	}
	sort_holes(&b);
	if (outfile != NULL && (b.ids_out = fopen(outfile, "w")) == NULL) {
		perror(outfile);
		return 2;
	}
	if (keyfile != NULL)
		b.authz = make_authz(keyfile, app, tid);
	else if (secretfile != NULL)
		b.authz = secret_authz(secretfile);
	if ((b.base = event_base_new()) == NULL)
		return 1;
	for (i = 0; i < b.nconns; i++) {
		if ((b.conns[i] = evhttp_connection_base_new(b.base, NULL,
		    b.host, (unsigned short)b.port)) == NULL)
			return 1;
		evhttp_connection_set_timeout(b.conns[i], 30);
	}
	b.start_us = now_us();
	b.end_us = b.start_us + (uint64_t)(secs * 1e6);
	if (b.wait)
		wait_listening(&b);
	if (b.rate == 0) {
		for (i = 0; i < b.nconns && !used_up(&b); i++)
			send_one(&b, b.start_us);
	} else {
		/*
		 * Every 100 us from a timerfd (an hrtimer): epoll's own
		 * timeouts are whole milliseconds, jiffies on some kernels,
		 * and posts sent late by the load would count against the
		 * server.
		 */
		struct itimerspec	 its;

		memset(&its, 0, sizeof(its));
		its.it_value.tv_nsec = its.it_interval.tv_nsec = 100000;
		if ((b.tickfd = timerfd_create(CLOCK_MONOTONIC,
		    TFD_NONBLOCK | TFD_CLOEXEC)) == -1 ||
		    timerfd_settime(b.tickfd, 0, &its, NULL) == -1) {
			perror("timerfd");
			return 1;
		}
		b.tick = event_new(b.base, b.tickfd, EV_READ | EV_PERSIST,
		    on_tick, &b);
		event_add(b.tick, NULL);
		b.ticking = 1;
	}
	give_up = evtimer_new(b.base, on_give_up, b.base);
	tv.tv_sec = (time_t)secs + DRAIN_SEC;
	tv.tv_usec = 0;
	evtimer_add(give_up, &tv);
	event_base_dispatch(b.base);
	took = (now_us() - b.start_us) / 1e6;
	if (took > secs)
		took = secs;
	b.failed += b.inflight;	/* no reply by the end */
	qsort(b.lat, b.nlat, sizeof(*b.lat), cmp_u32);
	printf("{\"sent\":%llu,\"ok\":%llu,\"failed\":%llu,\"seconds\":%.2f,"
	    "\"rps\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"p999_ms\":%.2f,"
	    "\"max_ms\":%.2f,\"first_ok_unix_us\":%llu}\n",
	    (unsigned long long)b.sent, (unsigned long long)b.ok,
	    (unsigned long long)b.failed, took, b.ok / took,
	    quantile_ms(&b, 0.5), quantile_ms(&b, 0.99),
	    quantile_ms(&b, 0.999), b.nlat ? b.lat[b.nlat - 1] / 1000.0 : 0,
	    (unsigned long long)b.first_ok_unix_us);
	/* Out before any exit handler (a sanitizer's) can end the process. */
	fflush(stdout);
	if (b.ids_out != NULL && fclose(b.ids_out) == EOF) {
		perror(outfile);
		return 1;
	}
	for (i = 0; i < b.nconns; i++)
		evhttp_connection_free(b.conns[i]);
	if (b.tick != NULL) {
		event_free(b.tick);
		close(b.tickfd);
	}
	event_free(give_up);
	event_base_free(b.base);
	evhttp_uri_free(uri);
	free(b.lat);
	free(b.body);
	free(b.list);
	free(b.listbuf);
	free(b.authz);
	return 0;
}
