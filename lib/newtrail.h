/*
 * The authorisation of a new audit trail: a file next to the database,
 * <database>.new-trail, written by `polrecctl audit new-trail` (or by
 * `polrecctl keys init` on a host with no keys yet) while polrecd is
 * stopped.  polrecd starts a trail on a missing or empty database only
 * when it finds one, records it as the trail's first event (kind
 * `new_trail`) and removes it.  A JSON object of one line:
 *
 *   {"command":"audit new-trail","uid":0,"user":"root",
 *    "utc":"2026-12-04T16:00:00Z","host":"rec1","reason":"..."}
 */
#ifndef POLREC_NEWTRAIL_H
#define POLREC_NEWTRAIL_H

#include <sys/types.h>

#include <stddef.h>

#define NEWTRAIL_SUFFIX		".new-trail"
#define NEWTRAIL_MAX		4096	/* bytes of the file */
#define NEWTRAIL_REASON_MAX	512

/* <database>.new-trail into buf; 0, or -1 when it does not fit. */
int	 newtrail_path(const char *database, char *buf, size_t len);

/*
 * Write the authorisation for `database`: who runs this (uid, user
 * name), when, on which host, by which command and why.  Mode 0600,
 * given to owner/group when they are not -1 (root writes it for the
 * daemon's user); synced and renamed into place, replacing an older
 * one.  0, or -1 with a message.
 */
int	 newtrail_write(const char *database, const char *command,
	    const char *reason, uid_t owner, gid_t group, char *err,
	    size_t errlen);

/*
 * Read it: 1 with the object, as compact JSON, in *detail (malloc'd)
 * and its uid in *uid; 0 when there is none; -1 when it is there but
 * not an authorisation (err says why).
 */
int	 newtrail_read(const char *database, char **detail, long long *uid,
	    char *err, size_t errlen);

/* Remove it (none is fine).  0, or -1 with a message. */
int	 newtrail_remove(const char *database, char *err, size_t errlen);

#endif
