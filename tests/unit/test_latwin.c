/* Unit tests for lib/latwin.c: quantiles, bounds, the window sliding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "latwin.h"

#define SPAN	(300ULL * 1000000)	/* 5 minutes, 10 s a slot */

static void
test_empty(void **state)
{
	struct latwin	 w;
	uint64_t	 v, n;

	(void)state;
	latwin_init(&w, SPAN);
	assert_int_equal(latwin_quantile(&w, 1000000, 0.5, &v, &n), -1);
	assert_int_equal(n, 0);
}

static void
test_quantiles(void **state)
{
	struct latwin	 w;
	uint64_t	 v, n, now = 1000ULL * 1000000, i;

	(void)state;
	latwin_init(&w, SPAN);
	/* 1..1000 ms, one each. */
	for (i = 1; i <= 1000; i++)
		latwin_add(&w, now, i * 1000);
	assert_int_equal(latwin_quantile(&w, now, 0.5, &v, &n), 0);
	assert_int_equal(n, 1000);
	/* Within a bucket above the true value (19%). */
	assert_true(v >= 500000 && v <= 500000 * 119 / 100);
	assert_int_equal(latwin_quantile(&w, now, 0.99, &v, &n), 0);
	assert_true(v >= 990000 && v <= 1000000);
	/* Never above the largest seen. */
	assert_int_equal(latwin_quantile(&w, now, 1.0, &v, &n), 0);
	assert_int_equal(v, 1000000);
}

static void
test_tiny_and_huge(void **state)
{
	struct latwin	 w;
	uint64_t	 v, n;

	(void)state;
	latwin_init(&w, SPAN);
	latwin_add(&w, 5, 0);
	latwin_add(&w, 5, 10);
	assert_int_equal(latwin_quantile(&w, 5, 0.99, &v, &n), 0);
	assert_int_equal(v, 10);
	/* Past the last bucket: counted, and the max is kept. */
	latwin_add(&w, 5, UINT64_MAX / 2);
	assert_int_equal(latwin_quantile(&w, 5, 1.0, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_true(v > 0);
}

static void
test_slides(void **state)
{
	struct latwin	 w;
	uint64_t	 v, n, t0 = 7ULL * 1000000;

	(void)state;
	latwin_init(&w, SPAN);
	latwin_add(&w, t0, 900000);
	latwin_add(&w, t0 + 200ULL * 1000000, 1000);
	assert_int_equal(latwin_quantile(&w, t0 + 200ULL * 1000000, 1.0, &v,
	    &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v, 900000);
	/* Five minutes later the first is gone, the second stays. */
	assert_int_equal(latwin_quantile(&w, t0 + 310ULL * 1000000, 1.0, &v,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_true(v <= 1000);
	/* A slot reused after a full turn starts empty. */
	latwin_add(&w, t0 + 600ULL * 1000000, 2000);
	assert_int_equal(latwin_quantile(&w, t0 + 600ULL * 1000000, 1.0, &v,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v, 2000);
	/* Long after: empty. */
	assert_int_equal(latwin_quantile(&w, t0 + 3600ULL * 1000000, 0.5,
	    &v, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_tiny_and_huge),
		cmocka_unit_test(test_slides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
