/* Unit tests for the control-socket wire format (lib/ctl.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"

static void
test_roundtrip(void **state)
{
	char		*argv[] = { "show", "status" }, **out;
	unsigned char	*frame;
	struct ctl_hdr	 h;
	const char	*errstr;
	char		*req;
	size_t		 len;
	int		 argc;

	(void)state;
	req = ctl_request_build(2, argv);
	frame = ctl_frame(CTL_REQUEST, req, strlen(req), &len);
	assert_int_equal(len, CTL_HDR_LEN + strlen(req));
	assert_int_equal(ctl_hdr_decode(frame, &h, &errstr), 0);
	assert_int_equal(h.type, CTL_REQUEST);
	assert_int_equal(h.len, strlen(req));
	assert_int_equal(h.version, CTL_VERSION);
	argc = ctl_request_parse((char *)frame + CTL_HDR_LEN, h.len, &out,
	    &errstr);
	assert_int_equal(argc, 2);
	assert_string_equal(out[0], "show");
	assert_string_equal(out[1], "status");
	ctl_argv_free(out, argc);
	free(frame);
	free(req);
}

static void
test_bad_headers(void **state)
{
	struct ctl_hdr	 h = { CTL_REQUEST, 10, CTL_VERSION, 0 }, d;
	unsigned char	 buf[CTL_HDR_LEN];
	const char	*errstr;

	(void)state;
	h.version = CTL_VERSION + 1;
	ctl_hdr_encode(buf, &h);
	assert_int_equal(ctl_hdr_decode(buf, &d, &errstr), -1);
	assert_string_equal(errstr, "protocol version mismatch");
	h.version = CTL_VERSION;
	h.type = 0;
	ctl_hdr_encode(buf, &h);
	assert_int_equal(ctl_hdr_decode(buf, &d, &errstr), -1);
	h.type = CTL_END + 1;
	ctl_hdr_encode(buf, &h);
	assert_int_equal(ctl_hdr_decode(buf, &d, &errstr), -1);
	h.type = CTL_OK;
	h.len = CTL_MAX_PAYLOAD + 1;
	ctl_hdr_encode(buf, &h);
	assert_int_equal(ctl_hdr_decode(buf, &d, &errstr), -1);
	assert_string_equal(errstr, "message too long");
	h.len = 1;
	h.flags = 1;
	ctl_hdr_encode(buf, &h);
	assert_int_equal(ctl_hdr_decode(buf, &d, &errstr), -1);
	{
		size_t	 n;

		assert_null(ctl_frame(CTL_OK, "", CTL_MAX_PAYLOAD + 1, &n));
	}
}

static const char *bad_requests[] = {
	"",
	"null",
	"[]",
	"{}",
	"{\"argv\":\"show\"}",
	"{\"argv\":[]}",
	"{\"argv\":[1]}",
	"{\"argv\":[\"show\",null]}",
	"{\"argv\":[\"a\\nb\"]}",
	"{\"argv\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\","
	    "\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}",
	"{\"argv\":[\"show\"",
};

static void
test_bad_requests(void **state)
{
	char		**argv, big[600];
	const char	*errstr;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		errstr = NULL;
		assert_int_equal(ctl_request_parse(bad_requests[i],
		    strlen(bad_requests[i]), &argv, &errstr), -1);
		assert_non_null(errstr);
		assert_null(argv);
	}
	/* An argument longer than CTL_MAX_ARG_LEN. */
	memcpy(big, "{\"argv\":[\"", 10);
	memset(big + 10, 'a', 300);
	memcpy(big + 310, "\"]}", 4);
	assert_int_equal(ctl_request_parse(big, strlen(big), &argv, &errstr),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_requests),
	};

	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
