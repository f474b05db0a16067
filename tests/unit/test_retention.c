/* Unit tests for the retention floor (lib/retention.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "retention.h"

#define NOW	1764806400000000LL	/* 2025-12-04T00:00:00Z */
#define SEC	1000000LL

static void
test_check(void **state)
{
	static const struct {
		int64_t		 cutoff;
		long long	 floor;
		int		 ok;
		const char	*msg;
	} cases[] = {
		/* The default floor: five years of 366 days. */
		{ NOW - 5 * CONF_YEAR * SEC, CONF_RETENTION_MIN_DEFAULT, 1,
		    NULL },
		{ NOW - 5 * CONF_YEAR * SEC - 1, CONF_RETENTION_MIN_DEFAULT, 1,
		    NULL },
		{ NOW - 5 * CONF_YEAR * SEC + 1, CONF_RETENTION_MIN_DEFAULT, 0,
		    "cutoff 2020-11-30T00:00:00.000001Z is within the "
		    "retention floor ([audit] retention_min = 5y): the latest "
		    "cutoff allowed now is 2020-11-30T00:00:00.000000Z" },
		{ NOW - 1825LL * 86400 * SEC, CONF_RETENTION_MIN_DEFAULT, 0,
		    NULL },
		{ NOW - SEC, CONF_RETENTION_MIN_DEFAULT, 0, NULL },
		{ 0, CONF_RETENTION_MIN_DEFAULT, 1, NULL },
		{ -1, CONF_RETENTION_MIN_DEFAULT, 1, NULL },
		/* A short floor, as tests configure. */
		{ NOW - SEC, 1, 1, NULL },
		{ NOW - SEC + 1, 1, 0, "retention_min = 1s" },
		{ NOW - 1825LL * 86400 * SEC, 1825LL * 86400, 1, NULL },
		{ NOW - 1, 1825LL * 86400, 0, "retention_min = 1825d" },
		/* No floor: anything up to now, nothing later. */
		{ NOW, 0, 1, NULL },
		{ NOW + 1, 0, 0, "cutoff 2025-12-04T00:00:00.000001Z is in the "
		    "future" },
		{ NOW + 86400 * SEC, CONF_RETENTION_MIN_DEFAULT, 0,
		    "in the future" },
		/* Absurd values do not overflow. */
		{ INT64_MAX, 0, 0, "in the future" },
		{ INT64_MIN / 2, 100 * CONF_YEAR, 1, NULL },
		{ 0, 100 * CONF_YEAR, 0, "1925-09-20T00:00:00.000000Z" },
		{ NOW - 1, 100 * CONF_YEAR, 0, "retention_min = 100y" },
	};
	char	 err[256];
	size_t	 i;
	int	 rv;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		rv = retention_check(NOW, cases[i].cutoff, cases[i].floor, err,
		    sizeof(err));
		if ((rv == 0) != cases[i].ok)
			fail_msg("case %zu: %d (%s)", i, rv, err);
		if (cases[i].msg != NULL && strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: \"%s\"", i, err);
	}
}

static void
test_format(void **state)
{
	static const struct {
		long long	 secs;
		const char	*want;
	} cases[] = {
		{ 0, "0s" }, { 1, "1s" }, { 60, "1m" }, { 90, "90s" },
		{ 7200, "2h" }, { 86400, "1d" }, { 1825LL * 86400, "1825d" },
		{ 14 * 86400, "2w" }, { CONF_RETENTION_MIN_DEFAULT, "5y" },
		{ 7 * CONF_YEAR, "7y" },
	};
	char	 buf[32];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		retention_format_duration(cases[i].secs, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("retention", tests, NULL, NULL);
}
