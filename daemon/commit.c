/*
 * The database's batches: one SQLite connection, one transaction per
 * batch.  Whatever changed during a turn of the event loop (leg state,
 * and the audit events) is taken as a batch by an event made active
 * during the turn: it joins the tail of the active queue, after the
 * callbacks of everything epoll returned in that turn.  The writer
 * thread (writer.c) writes and commits the batch while the loop goes
 * on; what changes meanwhile waits for the next batch, so under load
 * batches grow and one fsync covers many requests.  Replies that depend
 * on a batch wait here and leave only after its COMMIT.  A failed
 * commit is rolled back, its waiters are told, and what was to be
 * written is held again and tried a moment later.
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
/*
 * SQLite's page cache.  Larger caches save the writer re-reading index
 * pages, but every KiB is RSS, and the budget is 2 KB per live leg at
 * 10,000 legs: make bench measured 32 MiB at 5.4 KB per leg there.
 * The reads it would save are the writer thread's, off the loop.
 */
#define COMMIT_CACHE_KIB	2048
#define COMMIT_CHECKPOINT_PAGES	250

struct commit {
	struct polrecd	*c_sc;
	sqlite3		*c_db;
	int		 c_from_version;	/* the file's, before migrating */
	struct event	*c_ev;		/* active: at the end of the turn */
	struct event	*c_retry;
	struct writer	*c_writer;
	struct waitq	 c_waiting;	/* for the next batch */
	struct waitq	 c_flying;	/* for the batch being written */
	struct legrows	*c_rows;	/* the batch's leg rows */
	size_t		 c_batch;	/* its events */
	uint64_t	 c_t0;		/* when it was taken */
	int		 c_pending;	/* c_ev is active */
	int		 c_ok;		/* the last commit's result */
	/* Written by the writer thread, read when it is done. */
	int		 c_full;	/* it failed for want of space */
	char		 c_err[512];
	time_t		 c_last_warn;
};

static void	 on_commit(evutil_socket_t, short, void *);
static int	 write_batch(void *);
static void	 batch_done(void *, int);

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
	TAILQ_INIT(&c->c_flying);
	if (db_open_from(path, &c->c_db, &c->c_from_version, err,
	    sizeof(err)) == -1 ||
	    db_protect_open(path, gid, err, sizeof(err)) == -1) {
		log_warnx("database: %s", err);
		db_close(c->c_db);
		free(c);
		return NULL;
	}
	snprintf(err, sizeof(err), "PRAGMA cache_size = -%d",
	    COMMIT_CACHE_KIB);
	if (sqlite3_threadsafe() == 0 ||
	    sqlite3_exec(c->c_db, err, NULL, NULL, NULL) != SQLITE_OK)
		log_warnx("database: cannot size the page cache");
	/*
	 * WAL checkpoints run in the writer thread, inside the COMMIT that
	 * crosses the threshold: smaller and more often than SQLite's
	 * 1,000 pages, so no one batch waits long for one.
	 */
	sqlite3_wal_autocheckpoint(c->c_db, COMMIT_CHECKPOINT_PAGES);
	c->c_ev = event_new(sc->sc_base, -1, 0, on_commit, c);
	c->c_retry = evtimer_new(sc->sc_base, on_retry, c);
	if (c->c_ev == NULL || c->c_retry == NULL)
		fatalx("commit: cannot create events");
	c->c_writer = writer_new(sc->sc_base, write_batch, batch_done, c);
	log_info("database %s, schema version %d", sc->sc_conf->audit_database,
	    db_schema_version());
	return c;
}

/*
 * The connection, for the loop's own use (start-up, retention, an
 * acknowledgement): it waits until the writer lets go of it.
 */
sqlite3 *
commit_db(struct commit *c)
{
	writer_settle(c->c_writer);
	return c->c_db;
}

/* A batch is being written: the trail is not the loop's to touch. */
int
commit_busy(const struct commit *c)
{
	return c != NULL && writer_busy(c->c_writer);
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
		waitq_remove(&c->c_waiting, w);	/* or c_flying */
}

int
commit_ok(const struct commit *c)
{
	return c->c_ok;
}

/* Something changed that the database does not hold yet. */
static int
dirty(struct polrecd *sc)
{
	return legstore_dirty(sc) || journal_dirty(sc);
}

/* On the writer thread: the batch, committed; 0, or -1 rolled back. */
static int
write_batch(void *arg)
{
	struct commit	*c = arg;
	struct journal	*j = c->c_sc->sc_journal;
	sqlite3		*db = c->c_db;
	int		 ok;

	c->c_err[0] = '\0';
	ok = db_exec(db, "BEGIN IMMEDIATE", c->c_err, sizeof(c->c_err)) == 0 &&
	    legstore_write(c->c_rows, db, c->c_err, sizeof(c->c_err)) == 0 &&
	    journal_write(j, c->c_err, sizeof(c->c_err)) == 0 &&
	    db_exec(db, "COMMIT", c->c_err, sizeof(c->c_err)) == 0;
	c->c_full = !ok && (sqlite3_extended_errcode(db) & 0xff) == SQLITE_FULL;
	if (!ok && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	journal_written(j, ok);
	return ok ? 0 : -1;
}

/* On the loop: what changed since the last batch, to the writer. */
static void
take_batch(struct commit *c)
{
	struct polrecd	*sc = c->c_sc;

	journal_clock_turn();
	c->c_batch = journal_held(sc);
	c->c_rows = legstore_take(sc);
	journal_take(sc);
	waitq_move(&c->c_flying, &c->c_waiting);
	c->c_t0 = polrecd_now_us();
	writer_submit(c->c_writer);
}

/* On the loop, the writer idle: the batch is over. */
static void
batch_done(void *arg, int rv)
{
	struct commit	*c = arg;
	struct polrecd	*sc = c->c_sc;
	uint64_t	 us = polrecd_now_us() - c->c_t0;
	time_t		 now;

	c->c_ok = rv == 0;
	/* Out of room: the reserve is for this; at once, before any reply. */
	if (!c->c_ok && (c->c_full || reserve_disk_full(sc->sc_reserve)) &&
	    reserve_release(sc->sc_reserve)) {
		writer_submit(c->c_writer);
		return;
	}
	legstore_done(sc, c->c_rows, c->c_ok);
	c->c_rows = NULL;
	journal_done(sc, c->c_ok);
	if (c->c_ok) {
		sc->sc_stats.commits++;
		histogram_observe(&sc->sc_metrics.m_commit_latency,
		    (double)us / 1e6);
		histogram_observe(&sc->sc_metrics.m_commit_batch,
		    (double)c->c_batch);
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
			    "depend on it are refused, retrying", c->c_err);
		}
		if (!evtimer_pending(c->c_retry, NULL)) {
			struct timeval tv = { 0, COMMIT_RETRY_MS * 1000 };

			evtimer_add(c->c_retry, &tv);
		}
	}
	/* Those that parked after the batch was taken wait for the next. */
	waitq_wake(&c->c_flying);
	/*
	 * What came meanwhile goes at the end of this turn.  After a
	 * failure, only for replies waiting (they learn at once); the rest
	 * waits for the retry timer rather than spin on a failing disk.
	 */
	if (!TAILQ_EMPTY(&c->c_waiting) || (c->c_ok && dirty(sc)))
		commit_want(c);
}

static void
on_commit(evutil_socket_t fd, short what, void *arg)
{
	struct commit	*c = arg;
	struct polrecd	*sc = c->c_sc;

	(void)fd;
	(void)what;
	c->c_pending = 0;
	if (writer_busy(c->c_writer))
		return;		/* batch_done asks again */
	if (dirty(sc)) {
		take_batch(c);
		return;
	}
	/* Nothing to write: those waiting have what they wait for. */
	c->c_ok = 1;
	waitq_wake(&c->c_waiting);
}

/* At start-up and shutdown: write what is pending, waiting for it, and
 * release the replies that wait for it. */
void
commit_flush(struct commit *c)
{
	if (c == NULL)
		return;
	writer_finish(c->c_writer);
	if (dirty(c->c_sc)) {
		take_batch(c);
		writer_finish(c->c_writer);
		if (!c->c_ok)
			log_warnx("database: last commit failed: %s",
			    c->c_err);
	} else
		c->c_ok = 1;
	waitq_wake(&c->c_waiting);
}

void
commit_free(struct commit *c)
{
	if (c == NULL)
		return;
	writer_free(c->c_writer);
	event_free(c->c_ev);
	event_free(c->c_retry);
	legstore_close();
	db_close(c->c_db);
	free(c);
}
