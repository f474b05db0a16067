/*
 * Key files: one key per file as a line of hex, never overwritten.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"

#define KEY_MAX_BYTES	128

static int
path_of(char *buf, size_t len, const char *dir, const char *name)
{
	int	 n;

	n = dir != NULL ? snprintf(buf, len, "%s/%s", dir, name) :
	    snprintf(buf, len, "%s", name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
keyfile_exists(const char *dir, const char *name)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	if (path_of(path, sizeof(path), dir, name) == -1)
		return 0;
	return lstat(path, &st) == 0;
}

int
keyfile_read(const char *dir, const char *name, unsigned char *key,
    size_t len, int flags, char *err, size_t errlen)
{
	char		 path[PATH_MAX], hex[2 * KEY_MAX_BYTES + 4];
	struct stat	 st;
	size_t		 got = 0, n;
	const char	*end;
	ssize_t		 r;
	int		 fd, rv = -1;

	if (len == 0 || len > KEY_MAX_BYTES ||
	    path_of(path, sizeof(path), dir, name) == -1) {
		snprintf(err, errlen, "%s: bad key file name", name);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	if ((flags & KEYFILE_SECRET) && (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: a secret key must be readable by "
		    "its owner only (mode %03o)", path,
		    (unsigned int)(st.st_mode & 0777));
		goto done;
	}
	r = read(fd, hex, sizeof(hex) - 1);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	hex[r] = '\0';
	n = strcspn(hex, "\r\n");
	if (sodium_hex2bin(key, len, hex, n, NULL, &got, &end) != 0 ||
	    got != len || end != hex + n) {
		snprintf(err, errlen, "%s: not a %zu-byte key in hex", path,
		    len);
		sodium_memzero(key, len);
		goto done;
	}
	rv = 0;
done:
	sodium_memzero(hex, sizeof(hex));
	close(fd);
	return rv;
}

int
keyfile_write(const char *dir, const char *name, const unsigned char *key,
    size_t len, unsigned int mode, char *err, size_t errlen)
{
	char		 path[PATH_MAX], hex[2 * KEY_MAX_BYTES + 2];
	size_t		 n;
	int		 fd, rv = -1;

	if (len == 0 || len > KEY_MAX_BYTES ||
	    path_of(path, sizeof(path), dir, name) == -1) {
		snprintf(err, errlen, "%s: bad key file name", name);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    (mode_t)mode);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == EEXIST ?
		    "exists; refusing to overwrite a key" : strerror(errno));
		return -1;
	}
	sodium_bin2hex(hex, sizeof(hex), key, len);
	n = strlen(hex);
	hex[n++] = '\n';
	if (fchmod(fd, (mode_t)mode) == -1 ||
	    write(fd, hex, n) != (ssize_t)n || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		goto done;
	}
	rv = 0;
done:
	sodium_memzero(hex, sizeof(hex));
	if (close(fd) == -1 && rv == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		rv = -1;
	}
	return rv;
}
