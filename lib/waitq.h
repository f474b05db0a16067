/*
 * Parked callbacks: requests that wait for something fetched in the
 * background (signing keys, the Graph token) queue here and are called
 * back, each once, when it arrives.  Whoever parks also bounds the wait
 * with its own timer and takes itself off with waitq_remove.
 */
#ifndef POLREC_WAITQ_H
#define POLREC_WAITQ_H

#include <sys/queue.h>

struct waiter {
	TAILQ_ENTRY(waiter)	 w_entry;
	void			(*w_cb)(void *);
	void			*w_arg;
	int			 w_queued;
	struct waitq		*w_q;		/* where it is parked */
};

TAILQ_HEAD(waitq, waiter);

/* Park w (taking it off first if it was parked already). */
void	 waitq_add(struct waitq *, struct waiter *, void (*)(void *), void *);
/* Take w off, if parked (wherever it is parked now). */
void	 waitq_remove(struct waitq *, struct waiter *);
/* Everyone parked in from, parked at the tail of to, in order. */
void	 waitq_move(struct waitq *to, struct waitq *from);
/* Call back everyone parked now, each taken off the queue first; those
 * that park during the callbacks wait for the next wake. */
void	 waitq_wake(struct waitq *);

#endif
