/* The webhook listener: evhttp on the configured address, limits, routing. */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "admit.h"
#include "conf.h"
#include "legs.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

/* Descriptors kept for all but webhook connections. */
#define HTTP_FD_RESERVE		256

struct http {
	struct polrecd	*h_sc;
	struct evhttp	*h_evhttp;
	struct evhttp_bound_socket *h_bound;
	struct admit	*h_admit;
	int		 h_tls;		/* listening with TLS */
	char		 h_origin[128];	/* http(s)://addr:port, as bound */
	char		 h_self[512];	/* origin + notification_path */
};

static void	 http_route(struct evhttp_request *, void *);

/* A short Graph-style JSON error: {"error":{"code":..,"message":..}}. */
void
http_reply_error(struct evhttp_request *req, int status, const char *code,
    const char *message)
{
	struct evbuffer	*buf;
	cJSON		*root, *err;
	char		*text;

	root = cJSON_CreateObject();
	err = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", message);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if ((buf = evbuffer_new()) == NULL || text == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		evbuffer_free(buf);
		cJSON_free(text);
		return;
	}
	evbuffer_add(buf, text, strlen(text));
	cJSON_free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, status, NULL, buf);
	evbuffer_free(buf);
}

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:	return "GET";
	case EVHTTP_REQ_POST:	return "POST";
	case EVHTTP_REQ_HEAD:	return "HEAD";
	case EVHTTP_REQ_PUT:	return "PUT";
	case EVHTTP_REQ_DELETE:	return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE:	return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH:	return "PATCH";
	}
	return "?";
}

static void
http_route(struct evhttp_request *req, void *arg)
{
	struct http		*h = arg;
	struct polrecd		*sc = h->h_sc;
	const struct evhttp_uri	*uri;
	const char		*path;
	uint64_t		 arrival = polrecd_now_us();

	sc->sc_stats.http_requests++;
	/* It arrived whole: no deadline runs on its connection now.  On a
	 * connection already refused it is dropped unread. */
	if (admit_request_read(h->h_admit, req) == -1) {
		sc->sc_stats.http_dropped_refused++;
		evhttp_send_error(req, 503, NULL);
		return;
	}
	uri = evhttp_request_get_evhttp_uri(req);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	/* Capture events: the media agent, or an external capture source. */
	if (path != NULL && sc->sc_conf->recording_capture_source ==
	    CAPTURE_SOURCE_AGENT &&
	    strcmp(path, sc->sc_conf->recording_media_events_path) == 0) {
		media_event_request(sc, req);
		return;
	}
	if (path == NULL ||
	    strcmp(path, sc->sc_conf->http_notification_path) != 0) {
		sc->sc_stats.http_not_found++;
		http_reply_error(req, HTTP_NOTFOUND, "notFound",
		    "no such resource");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		sc->sc_stats.http_bad_method++;
		log_debug("%s %s: method not allowed",
		    method_name(evhttp_request_get_command(req)), path);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		http_reply_error(req, 405, "methodNotAllowed",
		    "only POST is allowed here");
		return;
	}
	ingest_request(sc, req, arrival);
}

/* Log the bound address: with port 0 the kernel picked it. */
static void
log_bound(struct http *h, struct evhttp_bound_socket *bound, int tls)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 host[INET6_ADDRSTRLEN];
	unsigned short		 port;
	evutil_socket_t		 fd = evhttp_bound_socket_get_fd(bound);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("getsockname");
		return;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		log_info("listening on [%s]:%u%s", host, port,
		    tls ? " (TLS)" : "");
		snprintf(h->h_origin, sizeof(h->h_origin), "%s://[%s]:%u",
		    tls ? "https" : "http", host, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		log_info("listening on %s:%u%s", host, port,
		    tls ? " (TLS)" : "");
		snprintf(h->h_origin, sizeof(h->h_origin), "%s://%s:%u",
		    tls ? "https" : "http", host, port);
	}
}

static void
log_tls_errors(const char *what)
{
	unsigned long	 e;
	char		 buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_warnx("%s: %s", what, buf);
	}
}

/*
 * One SSL_CTX per configuration generation.  TLS 1.3 when the client
 * offers it; TLS 1.2 only with the suites of [http] tls_ciphers, which
 * the parser allows only when forward-secret and AEAD; our order wins.
 */
static SSL_CTX *
tls_ctx_new(const struct conf *c)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, 0) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, c->http_tls_ciphers) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, c->http_tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, c->http_tls_key,
	    SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	return ctx;
fail:
	log_tls_errors(c->http_tls_cert != NULL ? c->http_tls_cert : "TLS");
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * Limits and the TLS certificate, which a reload may change.  A
 * certificate that does not load keeps the previous one.
 */
/* The webhook as bound; on reload the path may change, the origin not. */
static void
set_self(struct http *h)
{
	snprintf(h->h_self, sizeof(h->h_self), "%s%s", h->h_origin,
	    h->h_sc->sc_conf->http_notification_path);
}

/*
 * The limits of the configuration, with max_connections kept well below
 * the descriptors this process may open: Graph's connections, SQLite,
 * the control socket and the log need theirs.
 */
static void
limits_of(const struct conf *c, struct admit_limits *lim)
{
	struct rlimit	 rl;
	long long	 budget;

	memset(lim, 0, sizeof(*lim));
	lim->max = c->http_max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		budget = (long long)rl.rlim_cur - HTTP_FD_RESERVE;
		if (budget < 16)
			budget = 16;
		if (lim->max > budget) {
			log_warnx("max_connections %lld is more than the %llu "
			    "descriptors allow; using %lld", lim->max,
			    (unsigned long long)rl.rlim_cur, budget);
			lim->max = budget;
		}
	}
	lim->max_per_net = c->http_max_connections_per_address;
	lim->rate = c->http_connection_rate;
	lim->deadline_ms = c->http_request_deadline * 1000;
	lim->allow = c->http_allow;
	lim->nallow = c->http_nallow;
}

int
http_reconfigure(struct http *h)
{
	const struct conf	*c = h->h_sc->sc_conf;
	struct admit_limits	 lim;
	SSL_CTX			*ctx;

	evhttp_set_max_body_size(h->h_evhttp, (ev_ssize_t)c->http_max_body);
	evhttp_set_max_headers_size(h->h_evhttp,
	    (ev_ssize_t)c->http_max_header_size);
	/* The keep-alive idle timeout; requests have their deadline. */
	evhttp_set_timeout(h->h_evhttp, (int)c->http_request_timeout);
	limits_of(c, &lim);
	admit_set_limits(h->h_admit, &lim);
	set_self(h);
	if (!h->h_tls)
		return 0;
	if (c->http_tls_cert == NULL) {
		log_warnx("reload: TLS cannot be turned off without a restart");
		return -1;
	}
	if ((ctx = tls_ctx_new(c)) == NULL) {
		log_warnx("TLS certificate %s not loaded; keeping the previous "
		    "one", c->http_tls_cert);
		return -1;
	}
	admit_set_tls(h->h_admit, ctx);
	SSL_CTX_free(ctx);		/* admit holds its own reference */
	log_info("TLS certificate %s loaded", c->http_tls_cert);
	log_info("TLS 1.3, or TLS 1.2 with ciphers %s", c->http_tls_ciphers);
	return 0;
}

struct http *
http_new(struct polrecd *sc)
{
	struct http		*h;
	struct admit_limits	 lim;
	char			 addr[256];
	unsigned short		 port;

	h = xcalloc(1, sizeof(*h));
	h->h_sc = sc;
	h->h_tls = sc->sc_conf->http_tls_cert != NULL;
	limits_of(sc->sc_conf, &lim);
	if ((h->h_evhttp = evhttp_new(sc->sc_base)) == NULL ||
	    (h->h_admit = admit_new(sc->sc_base, &lim)) == NULL) {
		log_warnx("cannot set up the HTTP listener");
		goto fail;
	}
	evhttp_set_bevcb(h->h_evhttp, admit_bevcb, h->h_admit);
	/* Every method reaches http_route, which answers 405 itself. */
	evhttp_set_allowed_methods(h->h_evhttp, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	/* Read and drop an oversized body so the client sees the 413. */
	evhttp_set_flags(h->h_evhttp, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_default_content_type(h->h_evhttp, "application/json");
	evhttp_set_gencb(h->h_evhttp, http_route, h);
	if (http_reconfigure(h) == -1)
		goto fail;

	if (conf_split_listen(sc->sc_conf->http_listen, addr, sizeof(addr),
	    &port) == -1) {
		log_warnx("bad listen address %s", sc->sc_conf->http_listen);
		goto fail;
	}
	if ((h->h_bound = evhttp_bind_socket_with_handle(h->h_evhttp, addr,
	    port)) == NULL) {
		log_warn("cannot listen on %s", sc->sc_conf->http_listen);
		goto fail;
	}
	admit_listener(h->h_admit, evhttp_bound_socket_get_listener(
	    h->h_bound));
	log_bound(h, h->h_bound, h->h_tls);
	set_self(h);
	return h;
fail:
	http_free(h);
	return NULL;
}

/*
 * This host's webhook as bound: the callbackUri when callback_url is not
 * configured (fine on one host or in tests; behind NAT or a balancer,
 * configure it).
 */
const char *
http_self_url(const struct http *h)
{
	return h->h_self;
}

/* Connections refused by the caps so far (kept by admit.c). */
unsigned long long
http_refused(const struct http *h)
{
	return admit_refused(h->h_admit);
}

const struct admit_stats *
http_admit_stats(const struct http *h)
{
	return admit_stats(h->h_admit);
}

long long
http_open_connections(const struct http *h)
{
	return admit_open(h->h_admit);
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->h_evhttp != NULL)
		evhttp_free(h->h_evhttp);
	admit_free(h->h_admit);
	free(h);
}
