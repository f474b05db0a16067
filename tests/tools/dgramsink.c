/*
 * A unix datagram socket standing in for systemd's notification socket
 * or the journal's: each datagram received is printed on one line,
 * stamped like polrecd's log (UTC, milliseconds), its line ends as '|'
 * and other bytes outside printable ASCII as '?'.  Runs until killed.
 * Test tool only; never installed.
 *
 *	dgramsink PATH
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	struct timespec		 ts;
	struct tm		 tm;
	char			 buf[65536], stamp[32];
	ssize_t			 n, i;
	int			 fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: dgramsink PATH\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) == -1) {
			if (errno == EINTR)
				continue;
			perror("recv");
			return 1;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
			else if ((unsigned char)buf[i] < 0x20 ||
			    (unsigned char)buf[i] >= 0x7f)
				buf[i] = '?';
		printf("%s.%03ldZ %.*s\n", stamp, ts.tv_nsec / 1000000,
		    (int)n, buf);
		fflush(stdout);
	}
}
