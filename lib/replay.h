/*
 * Replay protection: X-Microsoft-Skype-Message-ID values of
 * authenticated notifications, remembered until their token expires,
 * with the reply that was given, so a replayed message is answered as
 * before and not acted on twice.  Bounded: past the limit the oldest
 * entries go first.
 */
#ifndef POLREC_REPLAY_H
#define POLREC_REPLAY_H

#include <stddef.h>

#define REPLAY_MAX_ID		128	/* longer message ids are not kept */
#define REPLAY_MAX_REPLY	4096	/* reply bodies kept for a replay */

struct replay;

struct replay_entry {
	int		 status;	/* the HTTP status answered */
	const char	*body;		/* the reply body, "" if none */
	size_t		 body_len;
};

struct replay	*replay_new(size_t max_entries);
void		 replay_free(struct replay *);

/* The entry for id if remembered and not expired at now, else NULL. */
const struct replay_entry *replay_find(struct replay *, const char *id,
		    long long now);

/*
 * Remember id until `expires` (unix seconds) with the reply given.
 * Returns 0, or -1 if id is empty or too long (nothing kept).
 */
int		 replay_remember(struct replay *, const char *id,
		    long long expires, int status, const char *body,
		    size_t body_len);

/* Drop what expired before now; returns how many were dropped. */
size_t		 replay_expire(struct replay *, long long now);
size_t		 replay_count(const struct replay *);

#endif
