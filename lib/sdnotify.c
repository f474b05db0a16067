/*
 * The service manager's notification protocol: one datagram of
 * "KEY=value" lines to the unix socket $NOTIFY_SOCKET names (systemd's
 * sd_notify(3)), written here so that polrecd needs no libsystemd.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdnotify.h"

/* The address $NOTIFY_SOCKET names, and its length; -1 if none. */
static int
notify_addr(struct sockaddr_un *sun, socklen_t *len)
{
	const char	*e = getenv("NOTIFY_SOCKET");
	size_t		 n;

	if (e == NULL || (e[0] != '/' && e[0] != '@') ||
	    (n = strlen(e)) < 2 || n >= sizeof(sun->sun_path))
		return -1;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, e, n);
	/* Abstract: a leading NUL, and no terminating one counted. */
	if (e[0] == '@') {
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
		    1);
	return 0;
}

int
sdnotify_enabled(void)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;

	return notify_addr(&sun, &len) == 0;
}

int
sdnotify_send(const char *msg)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	ssize_t			 w;
	size_t			 n = strlen(msg);
	int			 fd, saved;

	if (notify_addr(&sun, &len) == -1)
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, len) == -1)
		goto fail;
	while ((w = write(fd, msg, n)) == -1 && errno == EINTR)
		;
	if (w != (ssize_t)n)
		goto fail;
	close(fd);
	return 1;
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* A decimal of at most 19 digits, nothing else; -1 if not. */
static long long
parse_decimal(const char *s)
{
	long long	 v = 0;
	size_t		 i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 18)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

uint64_t
sdnotify_watchdog_usec(void)
{
	const char	*pid = getenv("WATCHDOG_PID");
	long long	 us;

	if (pid != NULL && parse_decimal(pid) != (long long)getpid())
		return 0;
	if ((us = parse_decimal(getenv("WATCHDOG_USEC"))) <= 0)
		return 0;
	return (uint64_t)us;
}
