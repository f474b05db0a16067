/*
 * A flood of unauthenticated webhook requests, for the flood test: N
 * requests over C keep-alive connections from S loopback networks
 * (127.0.X.1, X = 0..S-1), in turn without a token, with a garbage
 * bearer token, and with a garbage token and a malformed body.  Prints
 * what came back.  Test tool only; never installed.
 *
 *	flood HOST:PORT PATH BODY_FILE N C S
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xmalloc.h"

#define MAX_CONNS	256
#define BUF_MAX		(64 * 1024)

struct conn {
	int	 fd;
	int	 net;
	char	 in[BUF_MAX];
	size_t	 inlen;
	int	 waiting;	/* a request is out */
};

static struct sockaddr_in	 dst;
static char			*body;
static size_t			 bodylen;
static const char		*host, *path;
static long			 sent, answered, status_count[600], failed;

static int
conn_open(struct conn *c)
{
	struct sockaddr_in	 src;

	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000001 | ((uint32_t)c->net << 8));
	if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->inlen = 0;
	c->waiting = 0;
	return 0;
}

static int
send_one(struct conn *c, long i)
{
	char		 head[1024], *req;
	const char	*auth, *b = body;
	size_t		 blen = bodylen;
	int		 n;

	switch (i % 3) {
	case 0:
		auth = "";
		break;
	case 1:
		auth = "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln\r\n";
		break;
	default:
		auth = "Authorization: Bearer garbage\r\n";
		b = "{\"value\": [";
		blen = strlen(b);
		break;
	}
	n = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\n%s"
	    "X-Microsoft-Skype-Message-ID: flood-%ld\r\n"
	    "Content-Length: %zu\r\n\r\n", path, host, auth, i, blen);
	/* One write: two would wait on Nagle and a delayed ACK. */
	req = xmalloc((size_t)n + blen);
	memcpy(req, head, (size_t)n);
	memcpy(req + n, b, blen);
	if (write(c->fd, req, (size_t)n + blen) != (ssize_t)((size_t)n + blen)) {
		free(req);
		return -1;
	}
	free(req);
	c->waiting = 1;
	sent++;
	return 0;
}

/* A whole response in c->in: its status, and it is consumed.  0 if
 * more is needed, -1 if it cannot be read. */
static int
take_response(struct conn *c)
{
	char	*end, *cl;
	size_t	 hlen, clen = 0;
	int	 status;

	c->in[c->inlen] = '\0';
	if ((end = strstr(c->in, "\r\n\r\n")) == NULL)
		return 0;
	hlen = (size_t)(end - c->in) + 4;
	if (sscanf(c->in, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	if ((cl = strcasestr(c->in, "\r\nContent-Length:")) != NULL &&
	    cl < end)
		clen = strtoul(cl + 17, NULL, 10);
	if (c->inlen < hlen + clen)
		return 0;
	if (status > 0 && status < 600)
		status_count[status]++;
	answered++;
	memmove(c->in, c->in + hlen + clen, c->inlen - hlen - clen);
	c->inlen -= hlen + clen;
	c->waiting = 0;
	return 1;
}

int
main(int argc, char *argv[])
{
	struct conn	*conns;
	struct pollfd	 pfd[MAX_CONNS];
	struct timespec	 t0, t1;
	FILE		*fp;
	char		 hostbuf[64], *colon;
	long		 n, nconn, nnet, i;
	double		 secs;
	ssize_t		 r;
	int		 k, rc;

	signal(SIGPIPE, SIG_IGN);
	if (argc != 7) {
		fprintf(stderr, "usage: flood HOST:PORT PATH BODY_FILE N C S\n");
		return 2;
	}
	snprintf(hostbuf, sizeof(hostbuf), "%s", argv[1]);
	if ((colon = strrchr(hostbuf, ':')) == NULL)
		return 2;
	*colon = '\0';
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, hostbuf, &dst.sin_addr) != 1)
		return 2;
	host = argv[1];
	path = argv[2];
	if ((fp = fopen(argv[3], "r")) == NULL)
		return 2;
	body = xmalloc(BUF_MAX);
	bodylen = fread(body, 1, BUF_MAX, fp);
	fclose(fp);
	n = atol(argv[4]);
	nconn = atol(argv[5]);
	nnet = atol(argv[6]);
	if (n < 1 || nconn < 1 || nconn > MAX_CONNS || nnet < 1 || nnet > 255)
		return 2;
	conns = xcalloc((size_t)nconn, sizeof(*conns));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < nconn; k++) {
		conns[k].net = k % nnet;
		if (conn_open(&conns[k]) == -1)
			failed++;
	}
	i = 0;
	while (answered + failed < n) {
		for (k = 0; k < nconn; k++) {
			if (conns[k].fd == -1 && i < n &&
			    conn_open(&conns[k]) == -1) {
				failed++;
				i++;
				continue;
			}
			if (conns[k].fd != -1 && !conns[k].waiting && i < n &&
			    send_one(&conns[k], i++) == -1) {
				close(conns[k].fd);
				conns[k].fd = -1;
				failed++;
			}
			pfd[k].fd = conns[k].fd;
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
		}
		if (i >= n && answered + failed >= n)
			break;
		if (poll(pfd, (nfds_t)nconn, 5000) <= 0)
			break;
		for (k = 0; k < nconn; k++) {
			if (pfd[k].fd == -1 || !(pfd[k].revents &
			    (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(conns[k].fd, conns[k].in + conns[k].inlen,
			    BUF_MAX - 1 - conns[k].inlen);
			if (r > 0) {
				conns[k].inlen += (size_t)r;
				while ((rc = take_response(&conns[k])) == 1)
					;
				if (rc == 0)
					continue;
			}
			/* Closed or unreadable: what was out is lost. */
			if (conns[k].waiting)
				failed++;
			close(conns[k].fd);
			conns[k].fd = -1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("sent %ld answered %ld failed %ld in %.2f s (%.0f/s)",
	    sent, answered, failed, secs, secs > 0 ? answered / secs : 0);
	for (k = 100; k < 600; k++)
		if (status_count[k] > 0)
			printf(" %d:%ld", k, status_count[k]);
	printf("\n");
	for (k = 0; k < nconn; k++)
		if (conns[k].fd != -1)
			close(conns[k].fd);
	free(conns);
	free(body);
	return failed > 0 ? 1 : 0;
}
