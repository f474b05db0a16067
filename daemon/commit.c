/*
 * The database writer: one SQLite connection, one transaction per turn
 * of the event loop.  Whatever changed during a turn (leg state, and the
 * audit events) is written and committed together by an event made
 * active during the turn: it joins the tail of the active queue, after
 * the callbacks of everything epoll returned in that turn.  Replies
 * that depend on those changes wait here and leave only after COMMIT.
 * A failed commit is rolled back, its waiters are told, and what was to
 * be written stays pending and is tried again a moment later.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "conf.h"
#include "db.h"
#include "legs.h"
#include "log.h"
#include "polrecd.h"
#include "waitq.h"
#include "xmalloc.h"

#define COMMIT_RETRY_MS		1000	/* after a failed commit */
#define COMMIT_SLOW_US		100000	/* a commit this slow is logged */

struct commit {
	struct polrecd	*c_sc;
	sqlite3		*c_db;
	int		 c_from_version;	/* the file's, before migrating */
	struct event	*c_ev;		/* active: at the end of the turn */
	struct event	*c_retry;
	struct waitq	 c_waiting;	/* woken by the next commit */
	int		 c_pending;	/* c_ev is active */
	int		 c_ok;		/* the last commit's result */
	int		 c_full;	/* it failed for want of space */
	time_t		 c_last_warn;
};

static void	 on_commit(evutil_socket_t, short, void *);

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	commit_want(arg);
}

/*
 * The group the database files get: [audit] group, else the daemon's
 * own.  0, or -1 when the group does not exist.
 */
static int
audit_gid(const struct conf *conf, gid_t *gid)
{
	struct group	*gr;

	*gid = getegid();
	if (conf->audit_group == NULL)
		return 0;
	if ((gr = getgrnam(conf->audit_group)) == NULL) {
		log_warnx("database: [audit] group %s: no such group",
		    conf->audit_group);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

struct commit *
commit_new(struct polrecd *sc)
{
	struct commit	*c;
	const char	*path = sc->sc_conf->audit_database;
	char		 err[512];
	gid_t		 gid;

	if (audit_gid(sc->sc_conf, &gid) == -1)
		return NULL;
	/*
	 * Mode 0640 and the audit group before SQLite opens the files, and
	 * again after: SQLite gives a new -wal or -shm the database's mode
	 * but its group only when running as root.
	 */
	if (db_protect(path, gid, err, sizeof(err)) == -1) {
		log_warnx("database: %s", err);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->c_sc = sc;
	c->c_ok = 1;
	TAILQ_INIT(&c->c_waiting);
	if (db_open_from(path, &c->c_db, &c->c_from_version, err,
	    sizeof(err)) == -1 ||
	    db_protect_open(path, gid, err, sizeof(err)) == -1) {
		log_warnx("database: %s", err);
		db_close(c->c_db);
		free(c);
		return NULL;
	}
	c->c_ev = event_new(sc->sc_base, -1, 0, on_commit, c);
	c->c_retry = evtimer_new(sc->sc_base, on_retry, c);
	if (c->c_ev == NULL || c->c_retry == NULL)
		fatalx("commit: cannot create events");
	log_info("database %s, schema version %d", sc->sc_conf->audit_database,
	    db_schema_version());
	return c;
}

sqlite3 *
commit_db(const struct commit *c)
{
	return c->c_db;
}

int
commit_schema_was(const struct commit *c)
{
	return c->c_from_version;
}

void
commit_want(struct commit *c)
{
	if (c == NULL || c->c_pending)
		return;
	c->c_pending = 1;
	event_active(c->c_ev, EV_TIMEOUT, 0);
}

void
commit_wait(struct commit *c, struct waiter *w, void (*cb)(void *),
    void *arg)
{
	waitq_add(&c->c_waiting, w, cb, arg);
	commit_want(c);
}

void
commit_unwait(struct commit *c, struct waiter *w)
{
	if (c != NULL)
		waitq_remove(&c->c_waiting, w);
}

int
commit_ok(const struct commit *c)
{
	return c->c_ok;
}

/* Write everything pending and commit; 0, or -1 rolled back. */
static int
write_all(struct commit *c, char *err, size_t errlen)
{
	struct polrecd	*sc = c->c_sc;
	int		 code;

	c->c_full = 0;
	if (db_exec(c->c_db, "BEGIN IMMEDIATE", err, errlen) == -1) {
		code = sqlite3_extended_errcode(c->c_db) & 0xff;
		c->c_full = code == SQLITE_FULL;
		return -1;
	}
	if (legstore_flush(sc, c->c_db, err, errlen) == -1 ||
	    journal_flush(sc, c->c_db, err, errlen) == -1 ||
	    db_exec(c->c_db, "COMMIT", err, errlen) == -1) {
		code = sqlite3_extended_errcode(c->c_db) & 0xff;
		c->c_full = code == SQLITE_FULL;
		if (!sqlite3_get_autocommit(c->c_db))
			sqlite3_exec(c->c_db, "ROLLBACK", NULL, NULL, NULL);
		legstore_done(sc, 0);
		journal_done(sc, 0);
		return -1;
	}
	legstore_done(sc, 1);
	journal_done(sc, 1);
	return 0;
}

static void
on_commit(evutil_socket_t fd, short what, void *arg)
{
	struct commit	*c = arg;
	struct polrecd	*sc = c->c_sc;
	char		 err[512];
	uint64_t	 t0 = polrecd_now_us(), us;
	size_t		 batch;
	time_t		 now;

	(void)fd;
	(void)what;
	c->c_pending = 0;
	batch = journal_held(sc);
	c->c_ok = !(legstore_dirty(sc) || journal_dirty(sc)) ||
	    write_all(c, err, sizeof(err)) == 0;
	/* Out of room: the reserve is for this; at once, before any reply. */
	if (!c->c_ok && (c->c_full || reserve_disk_full(sc->sc_reserve)) &&
	    reserve_release(sc->sc_reserve))
		c->c_ok = write_all(c, err, sizeof(err)) == 0;
	us = polrecd_now_us() - t0;
	if (c->c_ok) {
		sc->sc_stats.commits++;
		histogram_observe(&sc->sc_metrics.m_commit_latency,
		    (double)us / 1e6);
		histogram_observe(&sc->sc_metrics.m_commit_batch,
		    (double)batch);
		if (us > sc->sc_stats.commit_us_max)
			sc->sc_stats.commit_us_max = us;
		if (us > COMMIT_SLOW_US)
			log_warnx("database: commit took %llu ms",
			    (unsigned long long)us / 1000);
	} else {
		sc->sc_stats.commit_failures++;
		now = time(NULL);
		if (now != c->c_last_warn) {
			c->c_last_warn = now;
			log_warnx("database: commit failed: %s; replies that "
			    "depend on it are refused, retrying", err);
		}
		if (!evtimer_pending(c->c_retry, NULL)) {
			struct timeval tv = { 0, COMMIT_RETRY_MS * 1000 };

			evtimer_add(c->c_retry, &tv);
		}
	}
	/* Those parked from here on wait for the next commit. */
	waitq_wake(&c->c_waiting);
}

/* At shutdown: write what is pending, synchronously, and release the
 * replies that wait for it. */
void
commit_flush(struct commit *c)
{
	char	 err[512];

	if (c == NULL)
		return;
	c->c_ok = 1;
	if ((legstore_dirty(c->c_sc) || journal_dirty(c->c_sc)) &&
	    write_all(c, err, sizeof(err)) == -1) {
		c->c_ok = 0;
		log_warnx("database: last commit failed: %s", err);
	}
	waitq_wake(&c->c_waiting);
}

void
commit_free(struct commit *c)
{
	if (c == NULL)
		return;
	event_free(c->c_ev);
	event_free(c->c_retry);
	legstore_close();
	db_close(c->c_db);
	free(c);
}
