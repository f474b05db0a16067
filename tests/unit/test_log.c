/*
 * Unit tests for lib/log.c: the journal's native datagram (fields, the
 * call id, the binary form of a value with a line end), a person's id,
 * and lib/sdnotify.c's watchdog period.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "sdnotify.h"

#define CALL	"e71f0300-9c1f-4d99-b5f4-2722e877d497"

static void
test_plain(void **state)
{
	char	 buf[512];
	size_t	 n;

	(void)state;
	n = log_journal_format(buf, sizeof(buf), LOG_INFO, "polrecd",
	    "listening on 127.0.0.1:1");
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "PRIORITY=6\nSYSLOG_FACILITY=3\n"
	    "SYSLOG_IDENTIFIER=polrecd\nMESSAGE=listening on 127.0.0.1:1\n");
}

static void
test_call(void **state)
{
	static const struct {
		const char	*msg;
		const char	*field;	/* NULL: none */
	} t[] = {
		{ "call " CALL ": answered in 3 ms",
		    "POLREC_CALL_ID=" CALL "\n" },
		{ "call " CALL " leg ended", "POLREC_CALL_ID=" CALL "\n" },
		{ "call -: participants", "POLREC_CALL_ID=-\n" },
		{ "call " CALL, NULL },		/* nothing after the id */
		{ "call : x", NULL },
		{ "call a?b: x", NULL },	/* sanitised, not an id */
		{ "calls: 3", NULL },
		{ "recall " CALL ": x", NULL },
	};
	char	 buf[512];
	size_t	 i, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = log_journal_format(buf, sizeof(buf), LOG_ERR, "polrecd",
		    t[i].msg);
		assert_true(n > 0);
		buf[n] = '\0';
		if (t[i].field != NULL)
			assert_non_null(strstr(buf, t[i].field));
		else
			assert_null(strstr(buf, "POLREC_CALL_ID="));
		assert_non_null(strstr(buf, "PRIORITY=3\n"));
	}
}

static void
test_binary(void **state)
{
	const char	*msg = "two\nlines";
	char		 buf[512], *p;
	size_t		 n;

	(void)state;
	n = log_journal_format(buf, sizeof(buf), LOG_WARNING, "x", msg);
	assert_true(n > 0);
	assert_null(memmem(buf, n, "MESSAGE=", 8));
	p = memmem(buf, n, "MESSAGE\n", 8);
	assert_non_null(p);
	p += 8;
	assert_memory_equal(p, "\x09\0\0\0\0\0\0\0", 8);
	assert_memory_equal(p + 8, msg, 9);
	assert_int_equal(p[17], '\n');
	assert_int_equal((size_t)(p + 18 - buf), n);
}

static void
test_too_long(void **state)
{
	char	 buf[64], msg[200];

	(void)state;
	memset(msg, 'a', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	assert_int_equal(log_journal_format(buf, sizeof(buf), LOG_INFO,
	    "polrecd", msg), 0);
}

static void
test_person(void **state)
{
	char	 a[64], b[64], c[64];

	(void)state;
	log_init(1, 0, "test");
	log_person(a, sizeof(a), "30fad2ce-8989-41a1-8a66-f6636e629a2a");
	log_person(b, sizeof(b), "30fad2ce-8989-41a1-8a66-f6636e629a2a");
	log_person(c, sizeof(c), "u2");
	assert_int_equal(strlen(a), 17);
	assert_int_equal(a[0], '#');
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_equal(log_person(a, sizeof(a), NULL), "-");
	log_init(1, 1, "test");
	assert_string_equal(log_person(a, sizeof(a), "u2"), "u2");
}

static void
test_watchdog(void **state)
{
	char	 pid[32];

	(void)state;
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(sdnotify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(sdnotify_watchdog_usec(), 30000000);
	setenv("WATCHDOG_PID", "1", 1);		/* another process's */
	assert_int_equal(sdnotify_watchdog_usec(), 0);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_watchdog_usec(), 30000000);
	setenv("WATCHDOG_USEC", "30s", 1);
	assert_int_equal(sdnotify_watchdog_usec(), 0);
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_enabled(), 0);
	assert_int_equal(sdnotify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sdnotify_enabled(), 0);
	setenv("NOTIFY_SOCKET", "@abstract", 1);
	assert_int_equal(sdnotify_enabled(), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_person),
		cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
