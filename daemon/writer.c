/*
 * The one place polrecd crosses threads: the database writer.
 *
 * One thread owns the SQLite work of a commit (the statements, the
 * fsync, the WAL checkpoints SQLite runs inside COMMIT), so the event
 * loop keeps reading requests while a batch is made durable.  The loop
 * hands it one job at a time; the thread runs the job's function and
 * wakes the loop through an eventfd, where the done function runs.
 * Nothing else is shared: while a job runs, the loop leaves alone
 * everything the job touches (commit.c keeps that promise), and the
 * mutex orders the hand-over both ways.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "polrecd.h"
#include "xmalloc.h"

struct writer {
	pthread_t	 w_thread;
	pthread_mutex_t	 w_mu;
	pthread_cond_t	 w_cond;
	int		 w_efd;
	struct event	*w_ev;
	writer_work_fn	 w_work;
	writer_done_fn	 w_done;
	void		*w_arg;
	/* Under w_mu. */
	int		 w_queued;	/* a job waits for the thread */
	int		 w_running;	/* the thread has it */
	int		 w_finished;	/* its result waits for the loop */
	int		 w_stop;
	int		 w_rv;
	/* The loop's: a job submitted and its done not yet run. */
	int		 w_busy;
};

static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	uint64_t	 one = 1;
	int		 rv;

	for (;;) {
		pthread_mutex_lock(&w->w_mu);
		while (!w->w_queued && !w->w_stop)
			pthread_cond_wait(&w->w_cond, &w->w_mu);
		if (!w->w_queued) {
			pthread_mutex_unlock(&w->w_mu);
			break;
		}
		w->w_queued = 0;
		w->w_running = 1;
		pthread_mutex_unlock(&w->w_mu);

		rv = w->w_work(w->w_arg);

		pthread_mutex_lock(&w->w_mu);
		w->w_running = 0;
		w->w_finished = 1;
		w->w_rv = rv;
		pthread_cond_broadcast(&w->w_cond);
		pthread_mutex_unlock(&w->w_mu);
		/* The counter only rises; a failed write leaves it raised. */
		while (write(w->w_efd, &one, sizeof(one)) == -1 &&
		    errno == EINTR)
			;
	}
	return NULL;
}

/* Take a finished job's result; 1 when there was one. */
static int
take_result(struct writer *w, int *rv)
{
	int	 got;

	pthread_mutex_lock(&w->w_mu);
	got = w->w_finished;
	if (got) {
		w->w_finished = 0;
		*rv = w->w_rv;
	}
	pthread_mutex_unlock(&w->w_mu);
	return got;
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct writer	*w = arg;
	uint64_t	 n;
	int		 rv;

	(void)what;
	(void)read(fd, &n, sizeof(n));
	if (!w->w_busy || !take_result(w, &rv))
		return;
	w->w_busy = 0;
	w->w_done(w->w_arg, rv);
}

struct writer *
writer_new(struct event_base *base, writer_work_fn work,
    writer_done_fn done, void *arg)
{
	struct writer	*w;
	sigset_t	 all, old;
	int		 rc;

	w = xcalloc(1, sizeof(*w));
	w->w_work = work;
	w->w_done = done;
	w->w_arg = arg;
	if ((w->w_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("writer: eventfd");
	if ((w->w_ev = event_new(base, w->w_efd, EV_READ | EV_PERSIST,
	    on_wake, w)) == NULL || event_add(w->w_ev, NULL) == -1)
		fatalx("writer: cannot watch its eventfd");
	pthread_mutex_init(&w->w_mu, NULL);
	pthread_cond_init(&w->w_cond, NULL);
	/* Signals are the loop's: the thread is born with them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->w_thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		fatalx("writer: cannot start its thread: %s", strerror(rc));
	return w;
}

int
writer_busy(const struct writer *w)
{
	return w != NULL && w->w_busy;
}

void
writer_submit(struct writer *w)
{
	if (w->w_busy)
		fatalx("writer: a job while one runs");
	w->w_busy = 1;
	pthread_mutex_lock(&w->w_mu);
	w->w_queued = 1;
	pthread_cond_broadcast(&w->w_cond);
	pthread_mutex_unlock(&w->w_mu);
}

/*
 * Block until the thread holds no job: after this the loop may use
 * what the job used (the connection, the trail), until its next submit.
 * The job's done still runs later, from the loop.
 */
void
writer_settle(struct writer *w)
{
	if (w == NULL || !w->w_busy)
		return;
	pthread_mutex_lock(&w->w_mu);
	while (w->w_queued || w->w_running)
		pthread_cond_wait(&w->w_cond, &w->w_mu);
	pthread_mutex_unlock(&w->w_mu);
}

/* Block until no job is left, each done run here (start-up, shutdown). */
void
writer_finish(struct writer *w)
{
	int	 rv;

	while (w != NULL && w->w_busy) {
		writer_settle(w);
		if (take_result(w, &rv)) {
			w->w_busy = 0;
			w->w_done(w->w_arg, rv);
		}
	}
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	writer_finish(w);
	pthread_mutex_lock(&w->w_mu);
	w->w_stop = 1;
	pthread_cond_broadcast(&w->w_cond);
	pthread_mutex_unlock(&w->w_mu);
	pthread_join(w->w_thread, NULL);
	event_free(w->w_ev);
	close(w->w_efd);
	pthread_mutex_destroy(&w->w_mu);
	pthread_cond_destroy(&w->w_cond);
	free(w);
}
