/* lib/netaddr.c: client networks and CIDR blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netaddr.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_network(void **state)
{
	static const struct {
		const char	*addr;
		int		 b4, b6, rc;
		const char	*net;
	} cases[] = {
		{ "192.0.2.77", 32, 64, 0, "192.0.2.77/32" },
		{ "192.0.2.77", 24, 64, 0, "192.0.2.0/24" },
		{ "192.0.2.77", 0, 64, 0, "0.0.0.0/0" },
		{ "10.255.255.255", 9, 64, 0, "10.128.0.0/9" },
		{ "2001:db8:a:b:c:d:e:f", 32, 64, 0, "2001:db8:a:b::/64" },
		{ "2001:db8:a:b:c:d:e:f", 32, 48, 0, "2001:db8:a::/48" },
		{ "2001:db8:a:b:c:d:e:f", 32, 128, 0, "2001:db8:a:b:c:d:e:f/128" },
		{ "::ffff:192.0.2.9", 32, 64, 0, "192.0.2.9/32" },
		{ "::1", 32, 64, 0, "::/64" },
		{ "fe80::1%eth0", 32, 64, -1, "?" },
		{ "192.0.2", 32, 64, -1, "?" },
		{ "", 32, 64, -1, "?" },
	};
	char	 buf[NETADDR_TEXT_MAX];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		assert_int_equal(netaddr_network(cases[i].addr, cases[i].b4,
		    cases[i].b6, buf, sizeof(buf)), cases[i].rc);
		assert_string_equal(buf, cases[i].net);
	}
}

static void
test_cidr(void **state)
{
	static const struct {
		const char	*cidr, *addr;
		int		 parse, match;
	} cases[] = {
		{ "52.112.0.0/14", "52.113.1.2", 0, 1 },
		{ "52.112.0.0/14", "52.116.0.1", 0, 0 },
		{ "52.112.0.0/14", "2603:1063::1", 0, 0 },
		{ "52.113.1.2", "52.113.1.2", 0, 1 },
		{ "52.113.1.2", "52.113.1.3", 0, 0 },
		{ "52.113.9.9/14", "52.112.0.1", 0, 1 },	/* host bits */
		{ "2603:1063::/38", "2603:1063:1:2::5", 0, 1 },
		{ "2603:1063::/38", "2603:1064::5", 0, 0 },
		{ "0.0.0.0/0", "203.0.113.1", 0, 1 },
		{ "::/0", "::1", 0, 1 },
		{ "127.0.0.0/8", "::ffff:127.0.0.5", 0, 1 },
		{ "10.0.0.0/33", "10.0.0.1", -1, 0 },
		{ "10.0.0.0/-1", "10.0.0.1", -1, 0 },
		{ "10.0.0.0/", "10.0.0.1", -1, 0 },
		{ "2001:db8::/129", "2001:db8::1", -1, 0 },
		{ "::ffff:10.0.0.0/104", "10.0.0.1", -1, 0 },
		{ "example.com/24", "10.0.0.1", -1, 0 },
		{ "/24", "10.0.0.1", -1, 0 },
	};
	struct netaddr_cidr	 c;
	struct netaddr		 a;
	char			 err[128];
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		if (netaddr_cidr_parse(cases[i].cidr, &c, err, sizeof(err)) !=
		    cases[i].parse)
			fail_msg("%s: parse", cases[i].cidr);
		if (cases[i].parse == -1) {
			assert_true(err[0] != '\0');
			continue;
		}
		assert_int_equal(netaddr_parse(cases[i].addr, &a), 0);
		if (netaddr_cidr_match(&c, &a) != cases[i].match)
			fail_msg("%s in %s", cases[i].addr, cases[i].cidr);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
