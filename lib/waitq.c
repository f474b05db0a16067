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
	struct waiter	*w;

	/* Each is taken off before its callback, which may remove others. */
	while ((w = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, w, w_entry);
		w->w_queued = 0;
		w->w_cb(w->w_arg);
	}
}
