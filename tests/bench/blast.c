/*
 * The load of `make bench`: one notification body posted over many
 * keep-alive connections, as Teams does, each post with its own message
 * id and, when asked, its own call id in the body; a bearer token signed
 * once with the simulator's key and sent with every post, as Graph
 * reuses its tokens.  Closed loop (-r 0: each connection posts again as
 * soon as it has its reply, the most the server takes) or open loop at
 * a fixed rate, where each post's latency counts from when it was due,
 * so a server that falls behind is not flattered.  One JSON line out:
 *   {"sent":N,"ok":N,"failed":N,"seconds":S,"rps":R,
 *    "p50_ms":X,"p99_ms":X,"p999_ms":X,"max_ms":X}
 *
 * blast -u URL -b body.json [-i call_id] [-k key.pem -A app_id -T tid]
 *       [-c connections] [-r rate] [-d seconds]
 */
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
#define DRAIN_SEC	5	/* replies awaited after the run */

struct post {
	struct blast	*b;
	uint64_t	 due_us;
};

struct blast {
	struct event_base	*base;
	struct evhttp_connection *conns[MAX_CONNS];
	int			 nconns, next;
	const char		*host, *path;
	int			 port;
	char			*body;
	size_t			 bodylen;
	size_t			 idoff[64];	/* call id places in body */
	int			 nid;
	const char		*id;		/* its form: '-' kept */
	size_t			 idlen;
	char			*authz;
	long long		 rate;		/* 0: closed loop */
	uint64_t		 start_us, end_us;
	uint64_t		 sent, ok, failed, inflight;
	uint32_t		*lat;		/* microseconds */
	size_t			 nlat, latsz;
	struct event		*tick;
	int			 stopping;
};

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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

/* Random hex in place of each character of form but its dashes. */
static void
fresh_id(char *dst, const char *form, size_t len)
{
	static const char	 hexd[] = "0123456789abcdef";
	unsigned char		 r[128];
	size_t			 i;

	randombytes_buf(r, len);
	for (i = 0; i < len; i++)
		dst[i] = form[i] == '-' ? '-' : hexd[r[i] & 15];
}

static void
on_reply(struct evhttp_request *req, void *arg)
{
	struct post	*p = arg;
	struct blast	*b = p->b;
	uint64_t	 t = now_us();
	int		 code = req != NULL ? evhttp_request_get_response_code(req)
			    : 0;

	b->inflight--;
	if (code >= 200 && code < 300)
		b->ok++;
	else
		b->failed++;
	if (b->nlat == b->latsz) {
		b->latsz = b->latsz ? b->latsz * 2 : 65536;
		b->lat = xreallocarray(b->lat, b->latsz, sizeof(*b->lat));
	}
	b->lat[b->nlat++] = t > p->due_us ?
	    (uint32_t)(t - p->due_us < UINT32_MAX ? t - p->due_us :
	    UINT32_MAX) : 0;
	free(p);
	if (b->rate == 0 && t < b->end_us)
		send_one(b, t);
	if (t >= b->end_us && b->inflight == 0)
		event_base_loopexit(b->base, NULL);
}

static void
send_one(struct blast *b, uint64_t due)
{
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	struct post		*p;
	char			 id[37], host[300];
	int			 i;

	p = xcalloc(1, sizeof(*p));
	p->b = b;
	p->due_us = due;
	if ((req = evhttp_request_new(on_reply, p)) == NULL)
		abort();
	/* A fresh call id of the placeholder's form, in every place. */
	if (b->nid > 0) {
		fresh_id(b->body + b->idoff[0], b->id, b->idlen);
		for (i = 1; i < b->nid; i++)
			memcpy(b->body + b->idoff[i], b->body + b->idoff[0],
			    b->idlen);
	}
	uuid(id);
	h = evhttp_request_get_output_headers(req);
	snprintf(host, sizeof(host), "%s:%d", b->host, b->port);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "X-Microsoft-Skype-Message-ID", id);
	if (b->authz != NULL)
		evhttp_add_header(h, "Authorization", b->authz);
	evbuffer_add(evhttp_request_get_output_buffer(req), b->body,
	    b->bodylen);
	b->sent++;
	b->inflight++;
	if (evhttp_make_request(b->conns[b->next], req, EVHTTP_REQ_POST,
	    b->path) == -1) {
		b->inflight--;
		b->failed++;
	}
	b->next = (b->next + 1) % b->nconns;
}

/* Open loop: every post due by now goes out, timed from when it was due. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct blast	*b = arg;
	uint64_t	 t = now_us(), due_n, until;

	(void)fd;
	(void)what;
	until = t < b->end_us ? t : b->end_us;
	due_n = (until - b->start_us) * (uint64_t)b->rate / 1000000;
	while (b->sent < due_n)
		send_one(b, b->start_us + b->sent * 1000000 /
		    (uint64_t)b->rate);
	if (t >= b->end_us) {
		event_del(b->tick);
		if (b->inflight == 0)
			event_base_loopexit(b->base, NULL);
	}
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

static void
usage(void)
{
	fprintf(stderr, "usage: blast -u URL -b body.json [-i call_id] "
	    "[-k key.pem -A app_id -T tid]\n"
	    "             [-c connections] [-r rate] [-d seconds]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct blast		 b;
	struct evhttp_uri	*uri;
	struct timeval		 tv = { 0, 1000 };
	struct event		*give_up;
	const char		*url = NULL, *bodyfile = NULL, *id = NULL;
	const char		*keyfile = NULL, *app = NULL, *tid = NULL;
	char			*at;
	double			 secs = 5, took;
	int			 ch, i;

	memset(&b, 0, sizeof(b));
	b.nconns = 32;
	while ((ch = getopt(argc, argv, "A:b:c:d:i:k:r:T:u:")) != -1) {
		switch (ch) {
		case 'A': app = optarg; break;
		case 'b': bodyfile = optarg; break;
		case 'c': b.nconns = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'i': id = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'r': b.rate = atoll(optarg); break;
		case 'T': tid = optarg; break;
		case 'u': url = optarg; break;
		default: usage();
		}
	}
	if (url == NULL || bodyfile == NULL || b.nconns < 1 ||
	    b.nconns > MAX_CONNS || b.rate < 0 || secs <= 0 ||
	    (keyfile != NULL && (app == NULL || tid == NULL)))
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
	b.id = id;
	b.idlen = id != NULL ? strlen(id) : 0;
	if (b.idlen > 128)
		usage();
	for (at = b.body; b.idlen > 0 && (at = strstr(at, id)) != NULL &&
	    b.nid < 64; at += b.idlen)
		b.idoff[b.nid++] = (size_t)(at - b.body);
	if (keyfile != NULL)
		b.authz = make_authz(keyfile, app, tid);
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
	if (b.rate == 0) {
		for (i = 0; i < b.nconns; i++)
			send_one(&b, b.start_us);
	} else {
		b.tick = event_new(b.base, -1, EV_PERSIST, on_tick, &b);
		event_add(b.tick, &tv);
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
	    "\"max_ms\":%.2f}\n", (unsigned long long)b.sent,
	    (unsigned long long)b.ok, (unsigned long long)b.failed, took,
	    b.ok / took, quantile_ms(&b, 0.5), quantile_ms(&b, 0.99),
	    quantile_ms(&b, 0.999), b.nlat ? b.lat[b.nlat - 1] / 1000.0 : 0);
	/* Out before any exit handler (a sanitizer's) can end the process. */
	fflush(stdout);
	for (i = 0; i < b.nconns; i++)
		evhttp_connection_free(b.conns[i]);
	if (b.tick != NULL)
		event_free(b.tick);
	event_free(give_up);
	event_base_free(b.base);
	evhttp_uri_free(uri);
	free(b.lat);
	free(b.body);
	free(b.authz);
	return 0;
}
