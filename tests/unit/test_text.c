/* Unit tests for keeping control characters out of stored text (lib/text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "text.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*in;
	const char	*want;
	size_t		 replaced;
} cases[] = {
	{ "", "", 0 },
	{ "plain-id 42", "plain-id 42", 0 },
	{ "a\x1b[31mred", "a?[31mred", 1 },
	{ "line\r\nfeed", "line??feed", 2 },
	{ "\t\x01\x1f", "???", 3 },
	{ "del\x7f", "del?", 1 },
	{ "~ is kept", "~ is kept", 0 },
	/* C1 as UTF-8: NEL, CSI, the first and the last. */
	{ "a\xc2\x85" "b", "a?b", 1 },
	{ "\xc2\x9b" "31m", "?31m", 1 },
	{ "\xc2\x80\xc2\x9f", "??", 2 },
	/* Just past C1, and other UTF-8: kept. */
	{ "\xc2\xa0\xc3\xa9t\xc3\xa9", "\xc2\xa0\xc3\xa9t\xc3\xa9", 0 },
	{ "\xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x82\xac \xf0\x9f\x98\x80", 0 },
	{ "\xe2\x80\xa8", "\xe2\x80\xa8", 0 },
	/* Not UTF-8: each stray byte replaced, raw C1 bytes among them. */
	{ "x\x9b" "31m", "x?31m", 1 },
	{ "\x85", "?", 1 },
	{ "\xff\xfe", "??", 2 },
	{ "\xc0\xaf", "??", 2 },			/* overlong '/' */
	{ "\xe0\x80\x80", "???", 3 },			/* overlong NUL */
	{ "\xed\xa0\x80", "???", 3 },			/* surrogate */
	{ "\xf4\x90\x80\x80", "????", 4 },		/* > U+10FFFF */
	{ "\xc3", "?", 1 },				/* cut short */
	{ "\xe2\x82", "??", 2 },
	{ "\xc2\x1b", "??", 2 },
};

static void
test_cases(void **state)
{
	char	*s;
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		s = strdup(cases[i].in);
		assert_non_null(s);
		if (text_sanitize(s) != cases[i].replaced)
			fail_msg("case %zu: count", i);
		if (strcmp(s, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\"", i, s);
		/* A second pass finds nothing. */
		assert_int_equal(text_sanitize(s), 0);
		free(s);
	}
	assert_int_equal(text_sanitize(NULL), 0);
}

/* Every byte value, alone and after 0xc2: nothing below 0x20, no DEL,
 * no C1 left, and never longer. */
static void
test_every_byte(void **state)
{
	char		 s[4];
	unsigned char	*p;
	int		 b, lead;

	(void)state;
	for (lead = 0; lead < 2; lead++)
		for (b = 1; b < 256; b++) {
			memset(s, 0, sizeof(s));
			s[0] = lead ? (char)0xc2 : (char)b;
			s[1] = lead ? (char)b : '\0';
			text_sanitize(s);
			assert_true(strlen(s) <= (size_t)(lead ? 2 : 1));
			for (p = (unsigned char *)s; *p != '\0'; p++) {
				assert_true(*p >= 0x20 && *p != 0x7f);
				if (*p == 0xc2)
					assert_true(p[1] >= 0xa0);
			}
		}
}

static void
test_json(void **state)
{
	char	*out;

	(void)state;
	/* Nothing to change: the input is kept. */
	assert_int_equal(text_sanitize_json_text("{\"a\":\"b\",\"n\":[1,2]}",
	    &out), 0);
	assert_null(out);
	assert_int_equal(text_sanitize_json_text(NULL, &out), 0);
	assert_null(out);

	/* Escaped controls, which json_extract() would give back raw. */
	assert_int_equal(text_sanitize_json_text(
	    "{\"resource\":\"/calls/x\\u001b[2J\",\"k\\n\":[\"\\u0085\",3]}",
	    &out), 3);
	assert_string_equal(out, "{\"resource\":\"/calls/x?[2J\","
	    "\"k?\":[\"?\",3]}");
	free(out);

	/* Raw DEL and C1 bytes, which cJSON does not escape. */
	assert_int_equal(text_sanitize_json_text("[\"a\x7f\",\"b\xc2\x9b\"]",
	    &out), 2);
	assert_string_equal(out, "[\"a?\",\"b?\"]");
	free(out);

	/* Not JSON: plain text rules. */
	assert_int_equal(text_sanitize_json_text("oops\x1b{", &out), 1);
	assert_string_equal(out, "oops?{");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
