/*
 * Room kept for the evidence: a file of [audit] disk_reserve_mb beside
 * the database, allocated at start-up.  When a commit fails for want of
 * space, the file is given back and the commit tried again at once, so
 * that the outcome of an answer already sent still reaches the trail.
 * While the reserve is spent, new invitations are refused with 503 (they
 * would eat the room kept for the legs already answered) and the log and
 * `show status` say so; when the file system has room again the reserve
 * is taken back and invitations are accepted again.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

#define RESERVE_CHECK_SEC	5	/* room again? */
#define RESERVE_REMIND_SEC	60	/* the log, while it is spent */
#define RESERVE_SUFFIX		".reserve"

struct reserve {
	struct polrecd	*r_sc;
	char		*r_path;
	off_t		 r_size;
	int		 r_held;
	char		 r_problem[160];	/* why none is held */
	time_t		 r_released_at;
	time_t		 r_reminded;
	struct event	*r_timer;
};

/* Free bytes for an unprivileged writer on the database's file system. */
static long long
free_bytes(const struct reserve *r)
{
	struct statvfs	 vfs;

	if (statvfs(r->r_path, &vfs) == -1) {
		char	*dir = xstrdup(r->r_path), *slash;

		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
		if (statvfs(slash != NULL && *dir != '\0' ? dir : ".",
		    &vfs) == -1) {
			free(dir);
			return -1;
		}
		free(dir);
	}
	return (long long)vfs.f_bavail * (long long)vfs.f_frsize;
}

static int
take(struct reserve *r)
{
	int	 fd, e;

	fd = open(r->r_path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		snprintf(r->r_problem, sizeof(r->r_problem), "%s: %s",
		    r->r_path, strerror(errno));
		return -1;
	}
	if ((e = posix_fallocate(fd, 0, r->r_size)) != 0) {
		snprintf(r->r_problem, sizeof(r->r_problem),
		    "cannot allocate %lld MiB in %s: %s",
		    (long long)r->r_size >> 20, r->r_path, strerror(e));
		close(fd);
		(void)unlink(r->r_path);
		return -1;
	}
	(void)fsync(fd);
	close(fd);
	r->r_held = 1;
	r->r_problem[0] = '\0';
	r->r_sc->sc_disk_low = 0;
	return 0;
}

static void
on_check(evutil_socket_t fd, short what, void *arg)
{
	struct reserve	*r = arg;
	long long	 avail;
	time_t		 now = time(NULL);

	(void)fd;
	(void)what;
	if (r->r_held || r->r_size == 0)
		return;
	avail = free_bytes(r);
	/* Taken back only with as much again to spare, or it flaps. */
	if (avail >= 2 * (long long)r->r_size && take(r) == 0) {
		log_info("disk: room again on the database's file system; the "
		    "%lld MiB reserve is held again and invitations are "
		    "accepted", (long long)r->r_size >> 20);
		return;
	}
	if (r->r_released_at != 0 && now - r->r_reminded >=
	    RESERVE_REMIND_SEC) {
		r->r_reminded = now;
		log_warnx("disk: the database's file system is still full "
		    "(%lld bytes free); the reserve is spent since %lld s, new "
		    "invitations are refused (503)", avail,
		    (long long)(now - r->r_released_at));
	}
}

struct reserve *
reserve_new(struct polrecd *sc)
{
	struct reserve	*r;
	struct timeval	 tv = { RESERVE_CHECK_SEC, 0 };

	r = xcalloc(1, sizeof(*r));
	r->r_sc = sc;
	xasprintf(&r->r_path, "%s%s", sc->sc_conf->audit_database,
	    RESERVE_SUFFIX);
	r->r_size = (off_t)sc->sc_conf->audit_disk_reserve_mb << 20;
	if (r->r_size == 0) {
		(void)unlink(r->r_path);
		snprintf(r->r_problem, sizeof(r->r_problem), "off");
	} else if (take(r) == -1)
		log_warnx("disk: no reserve for the audit trail: %s; a full "
		    "disk will refuse notifications at once", r->r_problem);
	else
		log_info("disk: %lld MiB reserved for the audit trail in %s",
		    (long long)r->r_size >> 20, r->r_path);
	r->r_timer = event_new(sc->sc_base, -1, EV_PERSIST, on_check, r);
	if (r->r_timer == NULL || event_add(r->r_timer, &tv) == -1)
		fatalx("reserve: cannot start its timer");
	return r;
}

void
reserve_free(struct reserve *r)
{
	if (r == NULL)
		return;
	if (r->r_timer != NULL)
		event_free(r->r_timer);
	free(r->r_path);
	free(r);
}

/*
 * A commit failed: if the file system is full and a reserve is held,
 * give it back.  1: released (try again); 0: nothing to give.
 */
int
reserve_release(struct reserve *r)
{
	if (r == NULL || !r->r_held)
		return 0;
	if (unlink(r->r_path) == -1 && errno != ENOENT) {
		log_warn("disk: cannot release the reserve %s", r->r_path);
		return 0;
	}
	r->r_held = 0;
	r->r_released_at = r->r_reminded = time(NULL);
	r->r_sc->sc_disk_low = 1;
	r->r_sc->sc_stats.disk_reserve_released++;
	snprintf(r->r_problem, sizeof(r->r_problem), "spent");
	log_warnx("disk: the database's file system is FULL; released the "
	    "%lld MiB reserve so that what is under way is recorded; new "
	    "invitations are refused (503) until there is room again",
	    (long long)r->r_size >> 20);
	return 1;
}

/* Is the file system nearly out of room (less than 1 MiB)? */
int
reserve_disk_full(const struct reserve *r)
{
	long long	 avail;

	return r != NULL && (avail = free_bytes(r)) >= 0 && avail < (1 << 20);
}

long long
reserve_free_bytes(const struct reserve *r)
{
	return r != NULL ? free_bytes(r) : -1;
}

long long
reserve_size(const struct reserve *r)
{
	return r != NULL ? (long long)r->r_size : 0;
}

void
reserve_status(const struct reserve *r, cJSON *o)
{
	if (r == NULL)
		return;
	cJSON_AddNumberToObject(o, "disk_free_bytes", (double)free_bytes(r));
	cJSON_AddNumberToObject(o, "disk_reserve_bytes", (double)r->r_size);
	cJSON_AddStringToObject(o, "disk_reserve", r->r_held ? "held" :
	    r->r_problem[0] != '\0' ? r->r_problem : "none");
	cJSON_AddBoolToObject(o, "disk_refusing_invitations",
	    r->r_sc->sc_disk_low);
}
