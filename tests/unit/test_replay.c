/* Unit tests for the replay cache (lib/replay.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"

static void
test_remember_and_find(void **state)
{
	struct replay			*r = replay_new(10);
	const struct replay_entry	*e;

	(void)state;
	assert_null(replay_find(r, "m1", 100));
	assert_int_equal(replay_remember(r, "m1", 200, 202, NULL, 0), 0);
	assert_non_null(e = replay_find(r, "m1", 100));
	assert_int_equal(e->status, 202);
	assert_string_equal(e->body, "");
	assert_int_equal(replay_remember(r, "m2", 200, 200,
	    "{\"a\":1}", 7), 0);
	assert_non_null(e = replay_find(r, "m2", 199));
	assert_int_equal(e->status, 200);
	assert_string_equal(e->body, "{\"a\":1}");
	/* Expired at exactly `expires`. */
	assert_null(replay_find(r, "m2", 200));
	assert_int_equal(replay_count(r), 1);
	replay_free(r);
}

static void
test_bounds(void **state)
{
	struct replay	*r = replay_new(3);
	char		 id[300];
	int		 i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "id%d", i);
		assert_int_equal(replay_remember(r, id, 1000, 202, NULL, 0), 0);
	}
	assert_int_equal(replay_count(r), 3);
	assert_null(replay_find(r, "id0", 1));		/* evicted, oldest */
	assert_null(replay_find(r, "id1", 1));
	assert_non_null(replay_find(r, "id4", 1));
	/* Empty, NULL and overlong ids are never kept. */
	assert_int_equal(replay_remember(r, "", 1000, 202, NULL, 0), -1);
	assert_int_equal(replay_remember(r, NULL, 1000, 202, NULL, 0), -1);
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_int_equal(replay_remember(r, id, 1000, 202, NULL, 0), -1);
	assert_null(replay_find(r, id, 1));
	replay_free(r);
}

static void
test_expire(void **state)
{
	struct replay	*r = replay_new(100);

	(void)state;
	replay_remember(r, "a", 10, 202, NULL, 0);
	replay_remember(r, "b", 20, 202, NULL, 0);
	replay_remember(r, "c", 30, 202, NULL, 0);
	assert_int_equal(replay_expire(r, 20), 2);
	assert_int_equal(replay_count(r), 1);
	assert_non_null(replay_find(r, "c", 20));
	/* Remembering an id again replaces it. */
	replay_remember(r, "c", 40, 503, NULL, 0);
	assert_int_equal(replay_count(r), 1);
	assert_int_equal(replay_find(r, "c", 35)->status, 503);
	replay_free(r);
	replay_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remember_and_find),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_expire),
	};

	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
