/* Unit tests for lib/coredump.c: no core dumps once it is called. */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "coredump.h"

static void
test_disable(void **state)
{
	struct rlimit	 rl;

	(void)state;
	/* A test runner may start us non-dumpable already: make sure. */
	assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	assert_int_equal(coredump_disabled(), 0);
	assert_int_equal(coredump_disable(), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_true(rl.rlim_cur == 0 && rl.rlim_max == 0);
	assert_int_equal(coredump_disabled(), 1);
	/* Idempotent: a second call (after a lowered hard limit) works. */
	assert_int_equal(coredump_disable(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
