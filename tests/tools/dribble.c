/*
 * The slow attacker of the ingress tests: CONNS connections from NETS
 * loopback addresses (127.1.0.1, 127.1.0.2, ...), each sending one byte
 * a second of a request that never ends (header), of a body that never
 * ends (body), of a TLS ClientHello (tls), or nothing at all (idle).  A
 * connection the server closes is opened again, so as many are held as
 * the server allows.  After SECONDS it prints what it saw.  Test tool
 * only; never installed.
 *
 *	dribble HOST:PORT MODE CONNS NETS SECONDS
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

#define MAX_CONNS	4096

enum mode { M_HEADER, M_BODY, M_TLS, M_IDLE };

struct conn {
	int		 fd;
	int		 net;
	size_t		 sent;
	double		 opened;
};

static struct sockaddr_in	 dst;
static enum mode		 mode;
static long			 opened, closed_by_server, failed;
static double			 longest;

static const char header_head[] = "POST /api/calling HTTP/1.1\r\n"
    "Host: polrecd\r\nContent-Type: application/json\r\n";
static const char body_head[] = "POST /api/calling HTTP/1.1\r\n"
    "Host: polrecd\r\nContent-Type: application/json\r\n"
    "Authorization: Bearer x\r\nContent-Length: 100000\r\n\r\n";
/* A TLS handshake record that announces 512 bytes, then a ClientHello. */
static const unsigned char tls_head[] = {
	0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03
};

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
conn_open(struct conn *c)
{
	struct sockaddr_in	 src;
	int			 fl;
	struct timeval		 tv = { 0, 50000 };

	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	/* A server not accepting must not hang us: connect gives up. */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f010001 + (uint32_t)c->net);
	if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	fl = fcntl(c->fd, F_GETFL);
	fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
	c->sent = 0;
	c->opened = now();
	opened++;
	/* The body mode sends its headers whole, then trickles. */
	if (mode == M_BODY && write(c->fd, body_head, sizeof(body_head) - 1) ==
	    (ssize_t)sizeof(body_head) - 1)
		c->sent = 0;
	return 0;
}

static void
conn_lost(struct conn *c, int by_server)
{
	double	 life = now() - c->opened;

	if (by_server) {
		closed_by_server++;
		if (life > longest)
			longest = life;
	}
	close(c->fd);
	c->fd = -1;
}

/* The next byte of what the connection trickles; -1 for nothing. */
static int
next_byte(struct conn *c)
{
	switch (mode) {
	case M_HEADER:
		if (c->sent < sizeof(header_head) - 1)
			return header_head[c->sent];
		/* Then header lines for ever: "X: x\r\n". */
		return "X: x\r\n"[(c->sent - (sizeof(header_head) - 1)) % 6];
	case M_BODY:
		return '{';
	case M_TLS:
		return c->sent < sizeof(tls_head) ? tls_head[c->sent] : 0;
	default:
		return -1;
	}
}

int
main(int argc, char *argv[])
{
	struct conn	*conns;
	struct pollfd	*pfd;
	char		 host[64], *colon, buf[4096];
	double		 end, tick;
	long		 n, nets, secs, i, still = 0;
	unsigned char	 b;
	int		 k;

	/* The server closes connections under us: not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	if (argc != 6) {
		fprintf(stderr, "usage: dribble HOST:PORT header|body|tls|idle "
		    "CONNS NETS SECONDS\n");
		return 2;
	}
	snprintf(host, sizeof(host), "%s", argv[1]);
	if ((colon = strrchr(host, ':')) == NULL)
		return 2;
	*colon = '\0';
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1)
		return 2;
	if (strcmp(argv[2], "header") == 0)
		mode = M_HEADER;
	else if (strcmp(argv[2], "body") == 0)
		mode = M_BODY;
	else if (strcmp(argv[2], "tls") == 0)
		mode = M_TLS;
	else if (strcmp(argv[2], "idle") == 0)
		mode = M_IDLE;
	else
		return 2;
	n = atol(argv[3]);
	nets = atol(argv[4]);
	secs = atol(argv[5]);
	if (n < 1 || n > MAX_CONNS || nets < 1 || nets > 250 || secs < 1)
		return 2;
	conns = xcalloc((size_t)n, sizeof(*conns));
	pfd = xcalloc((size_t)n, sizeof(*pfd));
	for (i = 0; i < n; i++) {
		conns[i].net = (int)(i % nets);
		if (conn_open(&conns[i]) == -1)
			failed++;
	}
	end = now() + (double)secs;
	tick = now() + 1.0;
	while (now() < end) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = conns[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, 100) == -1 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			if (conns[i].fd == -1 || !(pfd[i].revents &
			    (POLLIN | POLLHUP | POLLERR)))
				continue;
			/* A reply (503) or the end: either way, gone. */
			while (read(conns[i].fd, buf, sizeof(buf)) > 0)
				;
			conn_lost(&conns[i], 1);
		}
		if (now() < tick)
			continue;
		tick += 1.0;
		/* Once a second: a byte on each, and reopen the lost (for
		 * half a second at most: a server not accepting makes each
		 * connect wait). */
		for (i = 0; i < n; i++) {
			if (conns[i].fd == -1 && (now() > tick - 0.5 ||
			    now() > end || conn_open(&conns[i]) == -1)) {
				failed++;
				continue;
			}
			if ((k = next_byte(&conns[i])) < 0)
				continue;
			b = (unsigned char)k;
			if (write(conns[i].fd, &b, 1) == 1)
				conns[i].sent++;
			else if (errno != EAGAIN)
				conn_lost(&conns[i], 1);
		}
	}
	for (i = 0; i < n; i++)
		if (conns[i].fd != -1) {
			still++;
			if (now() - conns[i].opened > longest)
				longest = now() - conns[i].opened;
			close(conns[i].fd);
		}
	printf("dribble %s: opened %ld closed_by_server %ld open_at_end %ld "
	    "failed %ld longest %.1f s\n", argv[2], opened, closed_by_server,
	    still, failed, longest);
	free(conns);
	free(pfd);
	return 0;
}
