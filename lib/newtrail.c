/* The authorisation file of a new audit trail (see newtrail.h). */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "jsonx.h"
#include "newtrail.h"

int
newtrail_path(const char *database, char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "%s%s", database, NEWTRAIL_SUFFIX);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static char *
authorisation(const char *command, const char *reason)
{
	struct passwd	*pw;
	struct tm	 tm;
	cJSON		*o;
	char		 host[256], utc[32], *s;
	time_t		 now = time(NULL);
	uid_t		 uid = getuid();

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(utc, sizeof(utc), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(utc, sizeof(utc), "%lld", (long long)now);
	pw = getpwuid(uid);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "command", command);
	cJSON_AddNumberToObject(o, "uid", (double)uid);
	cJSON_AddStringToObject(o, "user", pw != NULL ? pw->pw_name : "?");
	cJSON_AddStringToObject(o, "utc", utc);
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddStringToObject(o, "reason", reason);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

int
newtrail_write(const char *database, const char *command,
    const char *reason, uid_t owner, gid_t group, char *err, size_t errlen)
{
	char	 path[PATH_MAX], tmp[PATH_MAX], *json;
	size_t	 n;
	int	 fd, rv = -1;

	if (strlen(reason) > NEWTRAIL_REASON_MAX) {
		snprintf(err, errlen, "the reason is over %d bytes",
		    NEWTRAIL_REASON_MAX);
		return -1;
	}
	if (newtrail_path(database, path, sizeof(path)) == -1 ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", database);
		return -1;
	}
	if ((json = authorisation(command, reason)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = strlen(json);
	json[n++] = '\n';	/* over the NUL: written by length */
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(json);
		return -1;
	}
	if (fchmod(fd, 0600) == -1 ||
	    ((owner != (uid_t)-1 || group != (gid_t)-1) &&
	    fchown(fd, owner, group) == -1) ||
	    write(fd, json, n) != (ssize_t)n || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	if (close(fd) == -1) {
		fd = -1;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	rv = 0;
done:
	if (fd != -1)
		close(fd);
	if (rv == -1)
		unlink(tmp);
	free(json);
	return rv;
}

int
newtrail_read(const char *database, char **detail, long long *uid,
    char *err, size_t errlen)
{
	char		 path[PATH_MAX], buf[NEWTRAIL_MAX + 1];
	struct stat	 st;
	cJSON		*o = NULL;
	ssize_t		 r;
	int		 fd, rv = -1;

	*detail = NULL;
	*uid = -1;
	if (newtrail_path(database, path, sizeof(path)) == -1) {
		snprintf(err, errlen, "%s: path too long", database);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	if ((st.st_mode & 022) != 0) {
		snprintf(err, errlen, "%s: writable by others (mode %03o)",
		    path, (unsigned int)(st.st_mode & 0777));
		goto done;
	}
	if ((r = read(fd, buf, sizeof(buf))) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (r > NEWTRAIL_MAX) {
		snprintf(err, errlen, "%s: over %d bytes", path, NEWTRAIL_MAX);
		goto done;
	}
	buf[r] = '\0';
	if ((o = cJSON_Parse(buf)) == NULL || !cJSON_IsObject(o) ||
	    jsonx_integer(o, "uid", 0, UINT_MAX, uid) == -1 ||
	    jsonx_string(o, "reason") == NULL) {
		snprintf(err, errlen, "%s: not an authorisation written by "
		    "polrecctl audit new-trail", path);
		goto done;
	}
	if ((*detail = cJSON_PrintUnformatted(o)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rv = 1;
done:
	cJSON_Delete(o);
	close(fd);
	return rv;
}

int
newtrail_remove(const char *database, char *err, size_t errlen)
{
	char	 path[PATH_MAX];

	if (newtrail_path(database, path, sizeof(path)) == -1) {
		snprintf(err, errlen, "%s: path too long", database);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
