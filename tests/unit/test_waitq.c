/* Unit tests for the queue of parked callbacks (lib/waitq.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "waitq.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define NW		6

/*
 * A waiter with what it does when called: each call is logged by
 * index, then the waiter may park itself or another again, or take
 * another off.
 */
enum { NOTHING, PARK_SELF, PARK_OTHER, REMOVE_OTHER, FREE_SELF };

struct parked {
	struct waiter	 w;
	int		 idx;
	int		 action;
	int		 other;		/* PARK_OTHER, REMOVE_OTHER */
	int		 calls;
};

static struct waitq	 q;
static struct parked	 ws[NW];
static int		 order[64];
static size_t		 norder;

static void	 called(void *);
static void	 reset(void);
static void	 park(int);
static void	 want_order(const int *, size_t);

static void
called(void *arg)
{
	struct parked	*p = arg;

	assert_int_equal(p->w.w_queued, 0);
	assert_true(norder < NELEM(order));
	order[norder++] = p->idx;
	p->calls++;
	switch (p->action) {
	case PARK_SELF:
		waitq_add(&q, &p->w, called, p);
		break;
	case PARK_OTHER:
		park(p->other);
		break;
	case REMOVE_OTHER:
		waitq_remove(&q, &ws[p->other].w);
		break;
	case FREE_SELF:
		/* Its memory is gone: wake must not touch it again. */
		free(p);
		break;
	default:
		break;
	}
}

static void
reset(void)
{
	int	 i;

	TAILQ_INIT(&q);
	memset(ws, 0, sizeof(ws));
	for (i = 0; i < NW; i++)
		ws[i].idx = i;
	norder = 0;
}

static void
park(int i)
{
	waitq_add(&q, &ws[i].w, called, &ws[i]);
}

/* The callbacks since the last check, in this order. */
static void
want_order(const int *want, size_t n)
{
	size_t	 i;

	if (norder != n)
		fail_msg("%zu calls, want %zu", norder, n);
	for (i = 0; i < n; i++)
		if (order[i] != want[i])
			fail_msg("call %zu was %d, want %d", i, order[i],
			    want[i]);
	norder = 0;
}

/* Called in the order parked, each once, and the queue left empty. */
static void
test_wake(void **state)
{
	int	 i;

	(void)state;
	reset();
	waitq_wake(&q);
	want_order(NULL, 0);
	assert_true(TAILQ_EMPTY(&q));

	for (i = 0; i < 4; i++)
		park(i);
	waitq_wake(&q);
	want_order((const int[]){ 0, 1, 2, 3 }, 4);
	assert_true(TAILQ_EMPTY(&q));
	for (i = 0; i < 4; i++)
		assert_int_equal(ws[i].w.w_queued, 0);
	/* Each once: a second wake has no one to call. */
	waitq_wake(&q);
	want_order(NULL, 0);
}

/* Parking again moves a waiter to the end; removing takes it off. */
static void
test_add_remove(void **state)
{
	(void)state;
	reset();
	park(0);
	park(1);
	park(2);
	park(0);
	waitq_remove(&q, &ws[1].w);
	assert_int_equal(ws[1].w.w_queued, 0);
	/* Removing one not parked is nothing. */
	waitq_remove(&q, &ws[1].w);
	waitq_remove(&q, &ws[3].w);
	waitq_wake(&q);
	want_order((const int[]){ 2, 0 }, 2);
	assert_true(TAILQ_EMPTY(&q));
}

/* A callback that parks itself again is called by the next wake only. */
static void
test_park_self(void **state)
{
	(void)state;
	reset();
	ws[1].action = PARK_SELF;
	park(0);
	park(1);
	park(2);
	waitq_wake(&q);
	want_order((const int[]){ 0, 1, 2 }, 3);
	assert_int_equal(ws[1].w.w_queued, 1);
	assert_int_equal(ws[1].calls, 1);

	waitq_wake(&q);
	want_order((const int[]){ 1 }, 1);
	ws[1].action = NOTHING;
	waitq_wake(&q);
	want_order((const int[]){ 1 }, 1);
	waitq_wake(&q);
	want_order(NULL, 0);

	/* Parking itself forever ends each wake all the same. */
	ws[0].action = ws[1].action = PARK_SELF;
	park(0);
	park(1);
	waitq_wake(&q);
	want_order((const int[]){ 0, 1 }, 2);
	waitq_wake(&q);
	want_order((const int[]){ 0, 1 }, 2);
}

/* One woken parks another: that one waits for the next wake. */
static void
test_park_other(void **state)
{
	(void)state;
	reset();
	/* An earlier one, already called in this wake. */
	ws[2].action = PARK_OTHER;
	ws[2].other = 0;
	/* One never parked before. */
	ws[3].action = PARK_OTHER;
	ws[3].other = 5;
	park(0);
	park(1);
	park(2);
	park(3);
	waitq_wake(&q);
	want_order((const int[]){ 0, 1, 2, 3 }, 4);
	assert_int_equal(ws[0].w.w_queued, 1);
	assert_int_equal(ws[5].w.w_queued, 1);
	ws[2].action = ws[3].action = NOTHING;
	waitq_wake(&q);
	want_order((const int[]){ 0, 5 }, 2);
	assert_true(TAILQ_EMPTY(&q));

	/*
	 * One parked when the wake began, parked again by another's
	 * callback before its own turn: it goes to the end, past this
	 * wake, and is called once, by the next.
	 */
	reset();
	ws[0].action = PARK_OTHER;
	ws[0].other = 2;
	park(0);
	park(1);
	park(2);
	waitq_wake(&q);
	want_order((const int[]){ 0, 1 }, 2);
	assert_int_equal(ws[2].w.w_queued, 1);
	ws[0].action = NOTHING;
	waitq_wake(&q);
	want_order((const int[]){ 2 }, 1);
	assert_int_equal(ws[2].calls, 1);
}

/* One woken takes a later one off: that one is not called, now or later. */
static void
test_remove_other(void **state)
{
	(void)state;
	reset();
	ws[1].action = REMOVE_OTHER;
	ws[1].other = 3;
	park(0);
	park(1);
	park(2);
	park(3);
	park(4);
	waitq_wake(&q);
	want_order((const int[]){ 0, 1, 2, 4 }, 4);
	assert_int_equal(ws[3].calls, 0);
	assert_int_equal(ws[3].w.w_queued, 0);
	waitq_wake(&q);
	want_order(NULL, 0);

	/* The last one, and an earlier one already called: both fine. */
	reset();
	ws[0].action = REMOVE_OTHER;
	ws[0].other = 2;
	ws[1].action = REMOVE_OTHER;
	ws[1].other = 0;
	park(0);
	park(1);
	park(2);
	waitq_wake(&q);
	want_order((const int[]){ 0, 1 }, 2);
	assert_true(TAILQ_EMPTY(&q));

	/* Removing itself, already off, is nothing. */
	reset();
	ws[0].action = REMOVE_OTHER;
	ws[0].other = 0;
	park(0);
	park(1);
	waitq_wake(&q);
	want_order((const int[]){ 0, 1 }, 2);
}

/* A callback may free the waiter it was called through. */
static void
test_free_self(void **state)
{
	struct parked	*p;
	int		 i;

	(void)state;
	reset();
	park(0);
	for (i = 0; i < 3; i++) {
		p = calloc(1, sizeof(*p));
		assert_non_null(p);
		p->idx = 10 + i;
		p->action = FREE_SELF;
		waitq_add(&q, &p->w, called, p);
	}
	park(1);
	waitq_wake(&q);
	want_order((const int[]){ 0, 10, 11, 12, 1 }, 5);
	assert_true(TAILQ_EMPTY(&q));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wake),
		cmocka_unit_test(test_add_remove),
		cmocka_unit_test(test_park_self),
		cmocka_unit_test(test_park_other),
		cmocka_unit_test(test_remove_other),
		cmocka_unit_test(test_free_self),
	};

	return cmocka_run_group_tests_name("waitq", tests, NULL, NULL);
}
