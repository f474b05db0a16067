/*
 * The floor of `make bench`: the least a webhook can do with a
 * notification on this machine, with the same libraries polrecd uses --
 * an evhttp server that reads the body, parses it with cJSON, checks it
 * holds a "value" array and answers 202.  polrecd's rates are judged as
 * ratios to this one's, measured in the same run.
 *   floor -P portfile      listens on 127.0.0.1, a free port
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 len = evbuffer_get_length(in);
	cJSON		*doc;
	char		*body;
	int		 ok;

	(void)arg;
	body = (char *)evbuffer_pullup(in, (ev_ssize_t)len);
	doc = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
	ok = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "value"));
	cJSON_Delete(doc);
	evhttp_send_reply(req, ok ? 202 : 400, ok ? "Accepted" : "Bad Request",
	    NULL);
}

int
main(int argc, char *argv[])
{
	struct event_base		*base;
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	struct sockaddr_storage		 ss;
	socklen_t			 sl = sizeof(ss);
	const char			*portfile = NULL;
	FILE				*f;
	char				 tmp[1024];
	int				 ch;

	while ((ch = getopt(argc, argv, "P:")) != -1) {
		if (ch != 'P') {
			fprintf(stderr, "usage: floor -P portfile\n");
			return 2;
		}
		portfile = optarg;
	}
	if (portfile == NULL ||
	    (base = event_base_new()) == NULL ||
	    (http = evhttp_new(base)) == NULL ||
	    (bound = evhttp_bind_socket_with_handle(http, "127.0.0.1",
	    0)) == NULL)
		return 1;
	evhttp_set_max_body_size(http, 1 << 20);
	evhttp_set_gencb(http, on_request, NULL);
	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &sl) == -1)
		return 1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
	if ((f = fopen(tmp, "w")) == NULL)
		return 1;
	fprintf(f, "127.0.0.1:%u\n",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	if (fclose(f) != 0 || rename(tmp, portfile) == -1)
		return 1;
	event_base_dispatch(base);
	return 0;
}
