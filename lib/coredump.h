/* No core dumps: a core of polrecd would hold tokens, secrets and keys. */
#ifndef POLREC_COREDUMP_H
#define POLREC_COREDUMP_H

/*
 * Make this process non-dumpable (PR_SET_DUMPABLE 0: no core, and its
 * /proc files and ptrace closed to other non-root users of its uid) and
 * set RLIMIT_CORE to 0.  0, or -1 with errno set.
 */
int	 coredump_disable(void);

/* 1 when both hold for this process, 0 when not. */
int	 coredump_disabled(void);

#endif
