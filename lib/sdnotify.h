/* The service manager's notification protocol (sd_notify), by hand. */
#ifndef POLREC_SDNOTIFY_H
#define POLREC_SDNOTIFY_H

#include <stdint.h>

/*
 * Send msg ("READY=1", "STATUS=...", lines joined by '\n') as one
 * datagram to $NOTIFY_SOCKET: a path, or an abstract name starting with
 * '@'.  1 sent, 0 no socket to send to, -1 failed (errno set).
 */
int		 sdnotify_send(const char *msg);

/* Whether $NOTIFY_SOCKET names a socket this protocol can reach. */
int		 sdnotify_enabled(void);

/*
 * The watchdog period asked of this process, in µs: $WATCHDOG_USEC when
 * $WATCHDOG_PID is unset or is this process; 0 when none.
 */
uint64_t	 sdnotify_watchdog_usec(void);

#endif
