/*
 * The admin listener: Prometheus /metrics, /healthz and /readyz on a
 * second evhttp of the one event base, by default on loopback.  Plain
 * HTTP, GET only, small bounded replies; nothing here changes state.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "conf.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define ADMIN_MAX_HEADERS	8192
#define ADMIN_MAX_BODY		1024
#define ADMIN_TIMEOUT_SEC	10
#define ADMIN_MAX_REPLY		(1024 * 1024)	/* far more than /metrics */

struct admin {
	struct polrecd	*ad_sc;
	struct evhttp	*ad_evhttp;
	struct evhttp_bound_socket *ad_bound;
};

static void
reply(struct evhttp_request *req, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evbuffer	*buf;

	if (len > ADMIN_MAX_REPLY || (buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(buf, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", ctype);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evhttp_send_reply(req, status, NULL, buf);
	evbuffer_free(buf);
}

/* A text made by fn into a memory stream, then sent. */
static void
reply_text(struct evhttp_request *req, struct polrecd *sc, const char *ctype,
    int (*fn)(struct polrecd *, FILE *))
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f;
	int	 status;

	if ((f = open_memstream(&text, &len)) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	status = fn(sc, f);
	if (fclose(f) != 0 || text == NULL) {
		free(text);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	reply(req, status, ctype, text, len);
	free(text);
}

static int
do_metrics(struct polrecd *sc, FILE *f)
{
	metrics_write(sc, f);
	return HTTP_OK;
}

static int
do_healthz(struct polrecd *sc, FILE *f)
{
	(void)sc;
	fprintf(f, "ok\n");
	return HTTP_OK;
}

/* 200 when an invitation would be answered now, else 503 and why; the
 * alarms raised follow either way. */
static int
do_readyz(struct polrecd *sc, FILE *f)
{
	char	*why = NULL;
	size_t	 len = 0;
	FILE	*w;
	int	 n;

	if ((w = open_memstream(&why, &len)) == NULL)
		return HTTP_INTERNAL;
	n = alarms_readiness(sc, w);
	fclose(w);
	fprintf(f, "%s\n%s", n == 0 ? "ready" : "not ready",
	    why != NULL ? why : "");
	free(why);
	alarms_report(sc, f);
	return n == 0 ? HTTP_OK : 503;
}

static void
admin_route(struct evhttp_request *req, void *arg)
{
	struct admin		*ad = arg;
	const struct evhttp_uri	*uri;
	const char		*path;

	uri = evhttp_request_get_evhttp_uri(req);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		reply(req, 405, "text/plain; charset=utf-8",
		    "only GET is allowed here\n", 25);
		return;
	}
	if (path != NULL && strcmp(path, "/metrics") == 0)
		reply_text(req, ad->ad_sc,
		    "text/plain; version=0.0.4; charset=utf-8", do_metrics);
	else if (path != NULL && strcmp(path, "/healthz") == 0)
		reply_text(req, ad->ad_sc, "text/plain; charset=utf-8",
		    do_healthz);
	else if (path != NULL && strcmp(path, "/readyz") == 0)
		reply_text(req, ad->ad_sc, "text/plain; charset=utf-8",
		    do_readyz);
	else
		reply(req, HTTP_NOTFOUND, "text/plain; charset=utf-8",
		    "not found: /metrics, /healthz, /readyz\n", 39);
}

static void
log_bound(struct admin *ad)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 host[INET6_ADDRSTRLEN] = "?";
	unsigned short		 port = 0;
	evutil_socket_t		 fd = evhttp_bound_socket_get_fd(ad->ad_bound);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("admin: getsockname");
		return;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		log_info("admin: /metrics, /healthz and /readyz on "
		    "http://[%s]:%u", host, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		log_info("admin: /metrics, /healthz and /readyz on "
		    "http://%s:%u", host, port);
	}
}

/*
 * The listener, or NULL when [admin] listen is off or cannot be bound:
 * metrics are not worth refusing to record for, so the latter is only
 * a warning.
 */
struct admin *
admin_new(struct polrecd *sc)
{
	struct admin	*ad;
	char		 addr[256];
	unsigned short	 port;
	const char	*listen = sc->sc_conf->admin_listen;

	if (strcmp(listen, "off") == 0) {
		log_info("admin: listener off");
		return NULL;
	}
	ad = xcalloc(1, sizeof(*ad));
	ad->ad_sc = sc;
	if ((ad->ad_evhttp = evhttp_new(sc->sc_base)) == NULL) {
		log_warnx("admin: cannot set up the listener");
		goto fail;
	}
	evhttp_set_max_headers_size(ad->ad_evhttp, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(ad->ad_evhttp, ADMIN_MAX_BODY);
	evhttp_set_timeout(ad->ad_evhttp, ADMIN_TIMEOUT_SEC);
	/* Every method reaches admin_route, which answers 405 itself. */
	evhttp_set_allowed_methods(ad->ad_evhttp, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(ad->ad_evhttp, admin_route, ad);
	if (conf_split_listen(listen, addr, sizeof(addr), &port) == -1) {
		log_warnx("admin: bad listen address %s", listen);
		goto fail;
	}
	if ((ad->ad_bound = evhttp_bind_socket_with_handle(ad->ad_evhttp,
	    addr, port)) == NULL) {
		log_warn("admin: cannot listen on %s; no metrics or health "
		    "endpoints", listen);
		goto fail;
	}
	log_bound(ad);
	return ad;
fail:
	admin_free(ad);
	return NULL;
}

int
admin_listening(const struct admin *ad)
{
	return ad != NULL && ad->ad_bound != NULL;
}

void
admin_free(struct admin *ad)
{
	if (ad == NULL)
		return;
	if (ad->ad_evhttp != NULL)
		evhttp_free(ad->ad_evhttp);
	free(ad);
}
