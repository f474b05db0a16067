/* Unit tests for lib/alarm.c: edges, reasons, the sliding window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alarm.h"

static void
test_edges(void **state)
{
	struct alarmtab		 t;
	const struct alarm	*a;
	int			 i, j;

	(void)state;
	alarmtab_init(&t);
	i = alarmtab_add(&t, "disk", 1);
	j = alarmtab_add(&t, "quiet", 0);
	assert_int_equal(i, 0);
	assert_int_equal(j, 1);
	assert_int_equal(alarmtab_find(&t, "quiet"), 1);
	assert_int_equal(alarmtab_find(&t, "nope"), -1);
	/* Clear stays clear without an edge. */
	assert_int_equal(alarmtab_set(&t, i, 0, NULL, 5), ALARM_STEADY);
	assert_int_equal(alarmtab_set(&t, i, 1, "full", 10), ALARM_RAISED);
	a = alarmtab_get(&t, i);
	assert_int_equal(a->a_since, 10);
	assert_string_equal(a->a_reason, "full");
	/* Still raised: the reason follows, the start does not move. */
	assert_int_equal(alarmtab_set(&t, i, 1, "fuller", 20), ALARM_STEADY);
	assert_int_equal(a->a_since, 10);
	assert_string_equal(a->a_reason, "fuller");
	assert_int_equal(alarmtab_raised(&t, 0), 1);
	assert_int_equal(alarmtab_raised(&t, 1), 1);
	assert_int_equal(alarmtab_set(&t, j, 1, NULL, 21), ALARM_RAISED);
	assert_string_equal(alarmtab_get(&t, j)->a_reason, "quiet");
	assert_int_equal(alarmtab_raised(&t, 0), 2);
	assert_int_equal(alarmtab_raised(&t, 1), 1);
	assert_int_equal(alarmtab_set(&t, i, 0, NULL, 30), ALARM_CLEARED);
	assert_int_equal(a->a_since, 30);
	assert_string_equal(a->a_reason, "");
	assert_string_equal(a->a_last, "fuller");
	assert_int_equal(alarmtab_set(&t, i, 0, NULL, 31), ALARM_STEADY);
	assert_int_equal(alarmtab_set(&t, 99, 1, "x", 31), ALARM_STEADY);
	assert_null(alarmtab_get(&t, 99));
}

static void
test_full(void **state)
{
	struct alarmtab	 t;
	int		 i;

	(void)state;
	alarmtab_init(&t);
	for (i = 0; i < ALARM_MAX; i++)
		assert_int_equal(alarmtab_add(&t, "a", 0), i);
	assert_int_equal(alarmtab_add(&t, "b", 0), -1);
	assert_int_equal(alarmtab_add(&t, NULL, 0), -1);
}

static void
test_window(void **state)
{
	struct window	 w;
	uint64_t	 s = 1000000;	/* 1 s in µs */

	(void)state;
	window_init(&w, 300 * s);	/* 5 s slots */
	assert_int_equal(window_sum(&w, 1000 * s), 0);
	window_add(&w, 1000 * s, 2);
	window_add(&w, 1001 * s, 1);
	window_add(&w, 1100 * s, 4);
	assert_int_equal(window_sum(&w, 1100 * s), 7);
	assert_int_equal(window_sum(&w, 1299 * s), 7);
	/* The first two leave once five minutes have passed. */
	assert_int_equal(window_sum(&w, 1305 * s), 4);
	assert_int_equal(window_sum(&w, 1399 * s), 4);
	assert_int_equal(window_sum(&w, 1405 * s), 0);
	/* A slot reused after a lap starts from zero. */
	window_add(&w, 1600 * s, 1);
	assert_int_equal(window_sum(&w, 1600 * s), 1);
	/* A tiny span still works. */
	window_init(&w, 10);
	window_add(&w, 5, 3);
	assert_int_equal(window_sum(&w, 5), 3);
	assert_int_equal(window_sum(&w, 500), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
