/* Unit tests for the per key id limit on key refetches (lib/kidrate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "kidrate.h"

#define SEC		1000000ULL
#define INTERVAL	(60 * SEC)

static struct kidrate	 kr;

/* A kid asks once an interval; another kid is not held up by it. */
static void
test_per_kid(void **state)
{
	(void)state;
	kidrate_init(&kr, INTERVAL);
	assert_int_equal(kidrate_ask(&kr, "kid-a", 100 * SEC), 1);
	assert_int_equal(kidrate_ask(&kr, "kid-a", 100 * SEC), 0);
	assert_int_equal(kidrate_ask(&kr, "kid-a", 159 * SEC), 0);
	/* A new kid right after: granted at once. */
	assert_int_equal(kidrate_ask(&kr, "kid-b", 100 * SEC + 1), 1);
	assert_int_equal(kidrate_ask(&kr, "kid-b", 101 * SEC), 0);
	assert_int_equal(kidrate_count(&kr, 101 * SEC), 2);
	/* The interval over: again, and the grant is noted anew. */
	assert_int_equal(kidrate_ask(&kr, "kid-a", 160 * SEC), 1);
	assert_int_equal(kidrate_ask(&kr, "kid-a", 161 * SEC), 0);
	assert_int_equal(kidrate_count(&kr, 161 * SEC), 1);
	assert_int_equal(kidrate_count(&kr, 300 * SEC), 0);
}

/* Kids that differ only at the end, or by case, are different kids. */
static void
test_distinct(void **state)
{
	(void)state;
	kidrate_init(&kr, INTERVAL);
	assert_int_equal(kidrate_ask(&kr, "", SEC), 1);
	assert_int_equal(kidrate_ask(&kr, "", SEC), 0);
	assert_int_equal(kidrate_ask(&kr, "Kid", SEC), 1);
	assert_int_equal(kidrate_ask(&kr, "kid", SEC), 1);
	assert_int_equal(kidrate_ask(&kr, "kid ", SEC), 1);
	assert_int_equal(kidrate_ask(&kr, "kid", SEC), 0);
	assert_int_equal(kidrate_count(&kr, SEC), 4);
}

/*
 * A full table forgets the kid granted longest ago, and only that one:
 * the bound is the table's size, whatever the number of kids.
 */
static void
test_full_table(void **state)
{
	char	 kid[32];
	int	 i;

	(void)state;
	kidrate_init(&kr, INTERVAL);
	for (i = 0; i < KIDRATE_SLOTS; i++) {
		snprintf(kid, sizeof(kid), "kid-%d", i);
		assert_int_equal(kidrate_ask(&kr, kid, SEC + (uint64_t)i), 1);
	}
	assert_int_equal(kidrate_count(&kr, 2 * SEC), KIDRATE_SLOTS);
	/* Each still limited. */
	for (i = 0; i < KIDRATE_SLOTS; i++) {
		snprintf(kid, sizeof(kid), "kid-%d", i);
		assert_int_equal(kidrate_ask(&kr, kid, 2 * SEC), 0);
	}
	/* One more pushes out kid-0, the oldest grant, alone. */
	assert_int_equal(kidrate_ask(&kr, "kid-new", 3 * SEC), 1);
	assert_int_equal(kidrate_count(&kr, 3 * SEC), KIDRATE_SLOTS);
	assert_int_equal(kidrate_ask(&kr, "kid-1", 3 * SEC), 0);
	assert_int_equal(kidrate_ask(&kr, "kid-new", 3 * SEC), 0);
	assert_int_equal(kidrate_ask(&kr, "kid-0", 4 * SEC), 1);
	/* ... which pushed out kid-1 in turn. */
	assert_int_equal(kidrate_ask(&kr, "kid-1", 5 * SEC), 1);
	assert_int_equal(kidrate_ask(&kr, "kid-2", 5 * SEC), 1);
	assert_int_equal(kidrate_count(&kr, 5 * SEC), KIDRATE_SLOTS);
	/* A flood of new kids never grows the table. */
	for (i = 0; i < 10000; i++) {
		snprintf(kid, sizeof(kid), "flood-%d", i);
		assert_int_equal(kidrate_ask(&kr, kid, 6 * SEC), 1);
	}
	assert_int_equal(kidrate_count(&kr, 6 * SEC), KIDRATE_SLOTS);
	assert_int_equal(kidrate_ask(&kr, "flood-9999", 6 * SEC), 0);
}

/* A clock that went back (it must not) grants rather than sticks. */
static void
test_clock_back(void **state)
{
	(void)state;
	kidrate_init(&kr, INTERVAL);
	assert_int_equal(kidrate_ask(&kr, "kid-a", 100 * SEC), 1);
	assert_int_equal(kidrate_ask(&kr, "kid-a", 50 * SEC), 1);
	assert_int_equal(kidrate_ask(&kr, "kid-a", 51 * SEC), 0);
}

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_kid),
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_clock_back),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
