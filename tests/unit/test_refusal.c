/* lib/refusal.c: refused requests aggregated per reason and network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "refusal.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct refusal	 got[64];
static size_t		 ngot;

static void
collect(const struct refusal *r, void *arg)
{
	(void)arg;
	if (ngot < NELEM(got))
		got[ngot++] = *r;
}

static void
flush(struct refusals *r)
{
	ngot = 0;
	refusals_flush(r, collect, NULL);
}

static void
test_network(void **state)
{
	static const struct {
		const char	*addr, *net;
		int		 rc;
	} cases[] = {
		{ "203.0.113.77", "203.0.113.0/24", 0 },
		{ "127.0.0.1", "127.0.0.0/24", 0 },
		{ "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", 0 },
		{ "::1", "::/64", 0 },
		{ "::ffff:198.51.100.9", "198.51.100.0/24", 0 },
		{ "fe80::1%eth0", "?", -1 },
		{ "not an address", "?", -1 },
		{ "", "?", -1 },
		{ NULL, "?", -1 },
	};
	char	 buf[REFUSAL_NET_MAX];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		assert_int_equal(refusal_network(cases[i].addr, buf,
		    sizeof(buf)), cases[i].rc);
		assert_string_equal(buf, cases[i].net);
	}
}

/* One row per (outcome, reason, status, network), counted. */
static void
test_aggregate(void **state)
{
	struct refusals	*r;
	int		 i;

	(void)state;
	r = refusals_new(16);
	for (i = 0; i < 1000; i++)
		refusals_note(r, "refused", "no_token", 401,
		    i % 2 ? "10.1.2.3" : "10.1.2.200", NULL, 1000 + i);
	refusals_note(r, "refused", "no_token", 401, "10.1.3.1", NULL, 5000);
	refusals_note(r, "refused", "bad_signature", 401, "10.1.2.3", NULL,
	    5001);
	refusals_note(r, "deferred", "no_signing_keys", 503, "10.1.2.3", NULL,
	    5002);
	/* The same /64, other hosts. */
	refusals_note(r, "refused", "no_token", 401, "2001:db8::1", NULL, 1);
	refusals_note(r, "refused", "no_token", 401, "2001:db8::ffff:1", NULL,
	    2);
	assert_int_equal(refusals_rows(r), 5);
	assert_int_equal(refusals_pending(r), 1005);
	flush(r);
	assert_int_equal(ngot, 5);
	assert_string_equal(got[0].network, "10.1.2.0/24");
	assert_int_equal(got[0].count, 1000);
	assert_int_equal(got[0].first_utc_us, 1000);
	assert_int_equal(got[0].last_utc_us, 1999);
	assert_string_equal(got[1].network, "10.1.3.0/24");
	assert_string_equal(got[2].reason, "bad_signature");
	assert_string_equal(got[3].outcome, "deferred");
	assert_int_equal(got[3].status, 503);
	assert_string_equal(got[4].network, "2001:db8::/64");
	assert_int_equal(got[4].count, 2);
	/* Flushed: a new window. */
	assert_int_equal(refusals_rows(r), 0);
	assert_int_equal(refusals_pending(r), 0);
	flush(r);
	assert_int_equal(ngot, 0);
	refusals_free(r);
}

/* The first call id in the clear, then a few distinct ones, counted. */
static void
test_calls(void **state)
{
	struct refusals	*r;
	char		 id[32];
	int		 i;

	(void)state;
	r = refusals_new(4);
	refusals_note(r, "refused", "expired", 401, "10.0.0.1", NULL, 1);
	refusals_note(r, "refused", "expired", 401, "10.0.0.1", "call-0", 2);
	refusals_note(r, "refused", "expired", 401, "10.0.0.1", "call-0", 3);
	for (i = 1; i <= 20; i++) {
		snprintf(id, sizeof(id), "call-%d", i);
		refusals_note(r, "refused", "expired", 401, "10.0.0.1", id,
		    3 + i);
		refusals_note(r, "refused", "expired", 401, "10.0.0.1", id,
		    3 + i);
	}
	flush(r);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].count, 43);
	assert_string_equal(got[0].call_id, "call-0");
	assert_int_equal(got[0].nmore, REFUSAL_CALLS);
	assert_string_equal(got[0].more_calls[0], "call-1");
	assert_string_equal(got[0].more_calls[REFUSAL_CALLS - 1], "call-8");
	/* Past those, ids are counted, not compared. */
	assert_int_equal(got[0].calls_not_kept, 2 * (20 - REFUSAL_CALLS));
	refusals_free(r);
}

/* Full: everything without a row goes to the last one, "other". */
static void
test_full(void **state)
{
	struct refusals	*r;
	char		 addr[32];
	uint64_t	 total = 0;
	size_t		 i;
	int		 n;

	(void)state;
	r = refusals_new(4);
	for (n = 0; n < 100; n++) {
		snprintf(addr, sizeof(addr), "10.0.%d.1", n);
		refusals_note(r, "refused", "no_token", 401, addr, NULL, n);
	}
	assert_int_equal(refusals_rows(r), 4);
	assert_int_equal(refusals_pending(r), 100);
	refusals_note(r, "refused", "garbage", 400, "10.9.9.9", "c1", 200);
	flush(r);
	assert_int_equal(ngot, 4);
	for (i = 0; i < ngot; i++)
		total += got[i].count;
	assert_int_equal(total, 101);
	assert_string_equal(got[3].network, "other");
	assert_int_equal(got[3].count, 98);
	/* Two reasons met there. */
	assert_string_equal(got[3].reason, "several reasons");
	assert_string_equal(got[3].call_id, "c1");
	/* A new window after the flush starts clean. */
	refusals_note(r, "refused", "no_token", 401, "10.0.0.1", NULL, 300);
	flush(r);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].network, "10.0.0.0/24");
	refusals_free(r);
}

/* Long strings are cut as stored, and still find their row. */
static void
test_long(void **state)
{
	struct refusals	*r;
	char		 reason[200], id[200];

	(void)state;
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	r = refusals_new(0);
	refusals_note(r, NULL, reason, 400, "10.0.0.1", id, 1);
	refusals_note(r, NULL, reason, 400, "10.0.0.1", id, 2);
	flush(r);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].count, 2);
	assert_string_equal(got[0].outcome, "refused");
	assert_int_equal(strlen(got[0].reason), REFUSAL_REASON_MAX - 1);
	assert_int_equal(strlen(got[0].call_id), REFUSAL_ID_MAX - 1);
	assert_int_equal(got[0].nmore, 0);
	refusals_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_aggregate),
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
