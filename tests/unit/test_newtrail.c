/* Unit tests for the new-trail authorisation file (lib/newtrail.c). */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "newtrail.h"

static char	 dir[64], db[128], file[160], err[512];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_newtrail.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db, sizeof(db), "%s/audit.db", dir);
	snprintf(file, sizeof(file), "%s%s", db, NEWTRAIL_SUFFIX);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(file);
	return rmdir(dir);
}

static void
put(const char *text, mode_t mode)
{
	int	 fd;

	unlink(file);
	assert_true((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC,
	    mode)) != -1);
	assert_int_equal(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

static void
test_round_trip(void **state)
{
	struct stat	 st;
	cJSON		*o;
	char		*detail;
	long long	 uid;

	(void)state;
	assert_int_equal(newtrail_read(db, &detail, &uid, err, sizeof(err)),
	    0);
	assert_int_equal(newtrail_write(db, "audit new-trail", "disk lost",
	    (uid_t)-1, (gid_t)-1, err, sizeof(err)), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(newtrail_read(db, &detail, &uid, err, sizeof(err)),
	    1);
	assert_int_equal(uid, (long long)getuid());
	assert_non_null(o = cJSON_Parse(detail));
	assert_string_equal(cJSON_GetObjectItem(o, "reason")->valuestring,
	    "disk lost");
	assert_string_equal(cJSON_GetObjectItem(o, "command")->valuestring,
	    "audit new-trail");
	assert_non_null(cJSON_GetObjectItem(o, "host"));
	assert_non_null(cJSON_GetObjectItem(o, "utc"));
	assert_non_null(cJSON_GetObjectItem(o, "user"));
	cJSON_Delete(o);
	free(detail);

	/* A second one replaces the first. */
	assert_int_equal(newtrail_write(db, "audit new-trail", "again",
	    (uid_t)-1, (gid_t)-1, err, sizeof(err)), 0);
	assert_int_equal(newtrail_read(db, &detail, &uid, err, sizeof(err)),
	    1);
	assert_non_null(strstr(detail, "\"again\""));
	free(detail);

	assert_int_equal(newtrail_remove(db, err, sizeof(err)), 0);
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(newtrail_remove(db, err, sizeof(err)), 0);
}

static void
test_not_an_authorisation(void **state)
{
	static const char *const bad[] = {
		"", "not json", "[]", "{\"reason\":\"x\"}",
		"{\"uid\":-1,\"reason\":\"x\"}", "{\"uid\":0}",
		"{\"uid\":0,\"reason\":7}",
	};
	char		*detail, big[NEWTRAIL_MAX + 64];
	long long	 uid;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(bad[i], 0600);
		assert_int_equal(newtrail_read(db, &detail, &uid, err,
		    sizeof(err)), -1);
		assert_null(detail);
	}
	/* Writable by others: anyone could have authorised it. */
	put("{\"uid\":0,\"reason\":\"x\"}", 0666);
	assert_int_equal(newtrail_read(db, &detail, &uid, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "writable by others"));
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(big, 0600);
	assert_int_equal(newtrail_read(db, &detail, &uid, err, sizeof(err)),
	    -1);
	memset(big, 'x', sizeof(big) - 1);
	assert_int_equal(newtrail_write(db, "audit new-trail", big, (uid_t)-1,
	    (gid_t)-1, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_an_authorisation,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("newtrail", tests, NULL, NULL);
}
