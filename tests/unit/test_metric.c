/* Unit tests for lib/metric.c: buckets, bounded labels, the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metric.h"

static const double secs[] = { 0.005, 0.01, 0.05, 0.1, 1, 5 };

static void
test_buckets(void **state)
{
	struct histogram	 h;

	(void)state;
	histogram_init(&h, secs, 6, 2.5);
	assert_int_equal(h.h_n, 7);
	assert_true(h.h_le[5] == 2.5 && h.h_le[6] == 5);
	/* A budget already a bound is not doubled. */
	histogram_init(&h, secs, 6, 0.1);
	assert_int_equal(h.h_n, 6);
	/* Beyond the last bound, and none. */
	histogram_init(&h, secs, 6, 10);
	assert_true(h.h_n == 7 && h.h_le[6] == 10);
	histogram_init(&h, secs, 6, 0);
	assert_int_equal(h.h_n, 6);
	histogram_observe(&h, 0.001);
	histogram_observe(&h, 0.1);
	histogram_observe(&h, 100);
	assert_int_equal(h.h_count, 3);
	assert_int_equal(h.h_bucket[0], 1);
	assert_int_equal(h.h_bucket[3], 1);
	assert_true(h.h_sum > 100.1 && h.h_sum < 100.102);
}

static void
test_labels(void **state)
{
	struct labelset	*l;
	char		 v[16];
	int		 i;

	(void)state;
	l = calloc(1, sizeof(*l));
	assert_non_null(l);
	labelset_add(l, "TooManyRequests", 1);
	labelset_add(l, "TooManyRequests", 2);
	labelset_add(l, "a\"b\nc", 1);
	labelset_add(l, "", 1);
	assert_int_equal(labelset_get(l, "TooManyRequests"), 3);
	assert_int_equal(labelset_get(l, "a_b_c"), 1);
	assert_int_equal(labelset_get(l, "none"), 1);
	for (i = 0; i < 100; i++) {
		snprintf(v, sizeof(v), "code%d", i);
		labelset_add(l, v, 1);
	}
	assert_int_equal(l->l_n, LABELSET_MAX);
	assert_int_equal(labelset_get(l, "other"), 100 - (LABELSET_MAX - 4));
	labelset_add(l, "TooManyRequests", 1);
	assert_int_equal(labelset_get(l, "TooManyRequests"), 4);
	free(l);
}

static void
test_escape(void **state)
{
	char	 b[16];

	(void)state;
	metric_escape("a\\b\"c\nd", b, sizeof(b));
	assert_string_equal(b, "a\\\\b\\\"c\\nd");
	metric_escape("\"\"\"\"\"\"\"\"\"\"", b, 8);
	assert_string_equal(b, "\\\"\\\"\\\"");
}

static void
test_text(void **state)
{
	struct histogram	 h;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	(void)state;
	histogram_init(&h, secs, 2, 0);
	histogram_observe(&h, 0.001);
	histogram_observe(&h, 0.5);
	assert_non_null(f = open_memstream(&buf, &len));
	metric_head(f, "x_seconds", "histogram", "X.");
	metric_histogram(f, "x_seconds", NULL, &h);
	metric_u64(f, "y_total", "k=\"v\"", 7);
	fclose(f);
	assert_string_equal(buf,
	    "# HELP x_seconds X.\n# TYPE x_seconds histogram\n"
	    "x_seconds_bucket{le=\"0.005\"} 1\n"
	    "x_seconds_bucket{le=\"0.01\"} 1\n"
	    "x_seconds_bucket{le=\"+Inf\"} 2\n"
	    "x_seconds_sum 0.501\nx_seconds_count 2\n"
	    "y_total{k=\"v\"} 7\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
