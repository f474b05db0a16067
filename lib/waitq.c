/* Parked callbacks, woken together. */
#include <stddef.h>
#include <string.h>

#include "waitq.h"

void
waitq_add(struct waitq *q, struct waiter *w, void (*cb)(void *), void *arg)
{
	if (cb == NULL)
		return;		/* a callback-less waiter is a wake's mark */
	waitq_remove(q, w);
	w->w_cb = cb;
	w->w_arg = arg;
	w->w_queued = 1;
	w->w_q = q;
	TAILQ_INSERT_TAIL(q, w, w_entry);
}

void
waitq_remove(struct waitq *q, struct waiter *w)
{
	if (!w->w_queued)
		return;
	(void)q;
	TAILQ_REMOVE(w->w_q, w, w_entry);
	w->w_queued = 0;
	w->w_q = NULL;
}

void
waitq_move(struct waitq *to, struct waitq *from)
{
	struct waiter	*w;

	while ((w = TAILQ_FIRST(from)) != NULL) {
		TAILQ_REMOVE(from, w, w_entry);
		w->w_q = to;
		TAILQ_INSERT_TAIL(to, w, w_entry);
	}
}

void
waitq_wake(struct waitq *q)
{
	struct waiter	*w, mark;

	/*
	 * Each is taken off before its callback, which may remove others
	 * or park again: a mark (a waiter without a callback) at the tail
	 * ends this round, so whoever parks during it waits for the next
	 * wake.  A wake from inside a callback stops at the outer round's
	 * mark: it calls no one the outer round would not.
	 */
	memset(&mark, 0, sizeof(mark));
	mark.w_queued = 1;
	mark.w_q = q;
	TAILQ_INSERT_TAIL(q, &mark, w_entry);
	while ((w = TAILQ_FIRST(q)) != NULL && w->w_cb != NULL) {
		TAILQ_REMOVE(q, w, w_entry);
		w->w_queued = 0;
		w->w_q = NULL;
		w->w_cb(w->w_arg);
	}
	TAILQ_REMOVE(q, &mark, w_entry);
}
