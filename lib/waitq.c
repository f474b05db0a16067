/* Parked callbacks, woken together. */
#include <stddef.h>

#include "waitq.h"

void
waitq_add(struct waitq *q, struct waiter *w, void (*cb)(void *), void *arg)
{
	waitq_remove(q, w);
	w->w_cb = cb;
	w->w_arg = arg;
	w->w_queued = 1;
	TAILQ_INSERT_TAIL(q, w, w_entry);
}

void
waitq_remove(struct waitq *q, struct waiter *w)
{
	if (!w->w_queued)
		return;
	TAILQ_REMOVE(q, w, w_entry);
	w->w_queued = 0;
}

void
waitq_wake(struct waitq *q)
{
	struct waiter	*w, mark;

	/*
	 * Each is taken off before its callback, which may remove others
	 * or park again: a mark at the tail ends this round, so whoever
	 * parks during it waits for the next wake.
	 */
	mark.w_queued = 1;
	TAILQ_INSERT_TAIL(q, &mark, w_entry);
	while ((w = TAILQ_FIRST(q)) != &mark) {
		TAILQ_REMOVE(q, w, w_entry);
		w->w_queued = 0;
		w->w_cb(w->w_arg);
	}
	TAILQ_REMOVE(q, &mark, w_entry);
}
