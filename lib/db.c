/*
 * Opening the database: WAL, synchronous=FULL, and the migrations of
 * schema/ applied in order, tracked by PRAGMA user_version.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "log.h"
#include "xmalloc.h"

#define DB_BUSY_TIMEOUT_MS	2000
#define DB_APPLICATION_ID	1886351986	/* "polr", set by 001 */
#define DB_MIN_FILE		512	/* SQLite's smallest page */

int
db_schema_version(void)
{
	return db_nmigrations > 0 ?
	    db_migrations[db_nmigrations - 1].version : 0;
}

int
db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg != NULL ? msg :
		    sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
pragma_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt	*st;
	int		 rv = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rv = 0;
	}
	sqlite3_finalize(st);
	return rv;
}

static int
pragma_text_is(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt		*st;
	const unsigned char	*v;
	int			 rv = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (v = sqlite3_column_text(st, 0)) != NULL)
		rv = strcmp((const char *)v, want) == 0;
	sqlite3_finalize(st);
	return rv;
}

/* SQLite takes a file shorter than a page for an empty database. */
static int
too_short(const char *path, char *err, size_t errlen)
{
	struct stat	 st;

	if (stat(path, &st) == 0 && st.st_size > 0 &&
	    st.st_size < DB_MIN_FILE) {
		snprintf(err, errlen, "%s: not a database (%lld bytes)", path,
		    (long long)st.st_size);
		return 1;
	}
	return 0;
}

/* The connection, with extended codes and a busy timeout; NULL with a
 * message. */
static sqlite3 *
open_file(const char *path, int flags, char *err, size_t errlen)
{
	sqlite3	*db = NULL;

	if (too_short(path, err, errlen))
		return NULL;
	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db != NULL ?
		    sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	return db;
}

static int
migrate(sqlite3 *db, const char *path, int *from, char *err, size_t errlen)
{
	char	 msg[256], sql[64];
	size_t	 i;
	int	 have, app = 0, tables = 0;

	if (pragma_int(db, "PRAGMA user_version", &have) == -1) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	if (from != NULL)
		*from = have;
	if (have > 0 && (pragma_int(db, "PRAGMA application_id", &app) == -1 ||
	    app != DB_APPLICATION_ID)) {
		snprintf(err, errlen, "%s: not a polrec database (application "
		    "id %d)", path, app);
		return -1;
	}
	if (have == 0 && (pragma_int(db, "SELECT count(*) FROM sqlite_schema",
	    &tables) == -1 || tables > 0)) {
		snprintf(err, errlen, "%s: not a polrec database: it has "
		    "tables of its own", path);
		return -1;
	}
	if (have > db_schema_version()) {
		snprintf(err, errlen, "%s: schema version %d is newer than "
		    "this program's %d", path, have, db_schema_version());
		return -1;
	}
	for (i = 0; i < db_nmigrations; i++) {
		if (db_migrations[i].version <= have)
			continue;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    db_migrations[i].version);
		if (db_exec(db, "BEGIN IMMEDIATE", msg, sizeof(msg)) == -1 ||
		    db_exec(db, db_migrations[i].sql, msg, sizeof(msg)) == -1 ||
		    db_exec(db, sql, msg, sizeof(msg)) == -1 ||
		    db_exec(db, "COMMIT", msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s: migration %s: %s", path,
			    db_migrations[i].name, msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

int
db_open(const char *path, sqlite3 **dbp, char *err, size_t errlen)
{
	return db_open_from(path, dbp, NULL, err, errlen);
}

int
db_open_from(const char *path, sqlite3 **dbp, int *from, char *err,
    size_t errlen)
{
	sqlite3	*db = NULL;
	char	 msg[256];
	int	 persist;

	*dbp = NULL;
	if ((db = open_file(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    err, errlen)) == NULL)
		return -1;
	if (!pragma_text_is(db, "PRAGMA journal_mode = WAL", "wal")) {
		snprintf(err, errlen, "%s: cannot use WAL: %s", path,
		    sqlite3_errmsg(db));
		goto fail;
	}
	/*
	 * The -wal and -shm stay when polrecd closes the database: an
	 * auditor, who may read the files but not write their directory,
	 * can open a WAL database read-only only when they exist.  With a
	 * journal_size_limit the -wal left is empty (SQLite truncates it at
	 * close), so a database put back from a backup beside it never
	 * takes frames of another.
	 */
	if (db_exec(db, "PRAGMA journal_size_limit = 67108864", msg,
	    sizeof(msg)) == -1) {
		snprintf(err, errlen, "%s: %s", path, msg);
		goto fail;
	}
	persist = 1;
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL,
	    &persist) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot keep the WAL: %s", path,
		    sqlite3_errmsg(db));
		goto fail;
	}
	if (db_exec(db, "PRAGMA synchronous = FULL", msg, sizeof(msg)) == -1 ||
	    db_exec(db, "PRAGMA foreign_keys = ON", msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%s: %s", path, msg);
		goto fail;
	}
	if (migrate(db, path, from, err, errlen) == -1)
		goto fail;
	*dbp = db;
	return 0;
fail:
	sqlite3_close(db);
	return -1;
}

/*
 * A URI for the file that tells SQLite it will not change while open
 * (immutable=1): no locks, no -wal or -shm created beside it.  Only
 * right when no -wal exists, or its pages would be ignored.
 */
static char *
immutable_uri(const char *path)
{
	char		*uri, *q;
	const char	*p;

	uri = q = xmalloc(strlen("file:?immutable=1") + 3 * strlen(path) + 1);
	q += sprintf(q, "file:");
	for (p = path; *p != '\0'; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			q += sprintf(q, "%%%02x", (unsigned char)*p);
		else
			*q++ = *p;
	}
	strcpy(q, "?immutable=1");
	return uri;
}

int
db_open_readonly(const char *path, int min_version, sqlite3 **dbp,
    char *err, size_t errlen)
{
	return db_open_untouched(path, min_version, 0, dbp, err, errlen);
}

int
db_open_untouched(const char *path, int min_version, int immutable,
    sqlite3 **dbp, char *err, size_t errlen)
{
	sqlite3	*db = NULL;
	char	*uri;
	int	 have;

	*dbp = NULL;
	if (immutable) {
		if (too_short(path, err, errlen))
			return -1;
		uri = immutable_uri(path);
		db = open_file(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
		    err, errlen);
		free(uri);
	} else
		db = open_file(path, SQLITE_OPEN_READONLY, err, errlen);
	if (db == NULL)
		return -1;
	if (pragma_int(db, "PRAGMA user_version", &have) == -1) {
		snprintf(err, errlen, "%s: not a polrec database: %s", path,
		    sqlite3_errmsg(db));
		goto fail;
	}
	if (have < min_version) {
		snprintf(err, errlen, "%s: schema version %d, %d needed", path,
		    have, min_version);
		goto fail;
	}
	*dbp = db;
	return 0;
fail:
	sqlite3_close(db);
	return -1;
}

/*
 * One of the files: mode DB_FILE_MODE and group gid, through its
 * descriptor so a link swapped in cannot redirect the change.  A
 * missing sidecar is fine.
 */
static int
protect_one(const char *path, int create, gid_t gid, char *err,
    size_t errlen)
{
	struct stat	 st;
	int		 fd = -1, created = 0, rv = -1;

	if (create && (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, DB_FILE_MODE)) != -1)
		created = 1;
	if (fd == -1 && (!create || errno == EEXIST))
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (!create && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	if (st.st_gid != gid && fchown(fd, (uid_t)-1, gid) == -1) {
		snprintf(err, errlen, "%s: cannot give it group %u: %s", path,
		    (unsigned int)gid, strerror(errno));
		goto done;
	}
	if ((st.st_mode & 07777) != DB_FILE_MODE &&
	    fchmod(fd, DB_FILE_MODE) == -1) {
		snprintf(err, errlen, "%s: cannot make it mode %04o: %s", path,
		    DB_FILE_MODE, strerror(errno));
		goto done;
	}
	/* A file made just now is no news; one found wider is. */
	if (!created && ((st.st_mode & 07777) != DB_FILE_MODE ||
	    st.st_gid != gid))
		log_info("%s: was mode %04o group %u, now %04o group %u", path,
		    (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_gid,
		    DB_FILE_MODE, (unsigned int)gid);
	rv = 0;
done:
	close(fd);
	return rv;
}

/*
 * While SQLite has the files open, never open and close them here: a
 * close drops every POSIX lock this process holds on the file, and
 * another process would then take itself for the last connection and
 * delete the -wal under polrecd's feet.  By path only, then: lstat, and
 * lchown/chmod of a regular file.
 */
static int
protect_path(const char *path, gid_t gid, char *err, size_t errlen)
{
	struct stat	 st;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_gid != gid && fchownat(AT_FDCWD, path, (uid_t)-1, gid,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		snprintf(err, errlen, "%s: cannot give it group %u: %s", path,
		    (unsigned int)gid, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 07777) != DB_FILE_MODE &&
	    chmod(path, DB_FILE_MODE) == -1) {
		snprintf(err, errlen, "%s: cannot make it mode %04o: %s", path,
		    DB_FILE_MODE, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 07777) != DB_FILE_MODE || st.st_gid != gid)
		log_info("%s: was mode %04o group %u, now %04o group %u", path,
		    (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_gid,
		    DB_FILE_MODE, (unsigned int)gid);
	return 0;
}

static int
protect_sidecars(const char *path, gid_t gid, int opened, char *err,
    size_t errlen)
{
	static const char *const sidecars[] = { "-wal", "-shm" };
	char	 side[4096];
	size_t	 i;

	for (i = 0; i < sizeof(sidecars) / sizeof(sidecars[0]); i++) {
		if ((size_t)snprintf(side, sizeof(side), "%s%s", path,
		    sidecars[i]) >= sizeof(side)) {
			snprintf(err, errlen, "%s: path too long", path);
			return -1;
		}
		if ((opened ? protect_path(side, gid, err, errlen) :
		    protect_one(side, 0, gid, err, errlen)) == -1)
			return -1;
	}
	return 0;
}

int
db_protect(const char *path, gid_t gid, char *err, size_t errlen)
{
	if (protect_one(path, 1, gid, err, errlen) == -1)
		return -1;
	return protect_sidecars(path, gid, 0, err, errlen);
}

int
db_protect_open(const char *path, gid_t gid, char *err, size_t errlen)
{
	if (protect_path(path, gid, err, errlen) == -1)
		return -1;
	return protect_sidecars(path, gid, 1, err, errlen);
}

int
db_has_trail(sqlite3 *db, int *has, char *err, size_t errlen)
{
	int	 version, tables = 0, events = 0;

	*has = 0;
	if (pragma_int(db, "PRAGMA user_version", &version) == -1) {
		snprintf(err, errlen, "not a database: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (version == 0) {
		if (pragma_int(db, "SELECT count(*) FROM sqlite_schema",
		    &tables) == -1 || tables > 0) {
			snprintf(err, errlen, "not a polrec database: it has "
			    "tables of its own");
			return -1;
		}
		return 0;
	}
	if (pragma_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = "
	    "'table' AND name IN ('audit_event', 'audit_checkpoint')",
	    &tables) == -1) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	if (tables < 2)
		return 0;
	if (pragma_int(db, "SELECT EXISTS (SELECT 1 FROM audit_event) OR "
	    "EXISTS (SELECT 1 FROM audit_checkpoint)", &events) == -1) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	*has = events != 0;
	return 0;
}

/* The progress handler: stop once the deadline has passed. */
static int
past_deadline(void *arg)
{
	const struct timespec	*deadline = arg;
	struct timespec		 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	    (now.tv_sec == deadline->tv_sec &&
	    now.tv_nsec >= deadline->tv_nsec);
}

#define QUICK_CHECK_STEPS	10000	/* VM steps between deadline looks */

int
db_quick_check(sqlite3 *db, int seconds, char *err, size_t errlen)
{
	struct timespec		 deadline;
	sqlite3_stmt		*st;
	const unsigned char	*v;
	char			*p;
	int			 rc, rv = -1;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_progress_handler(db, QUICK_CHECK_STEPS, past_deadline,
	    &deadline);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(st, 0);
		if (v != NULL && strcmp((const char *)v, "ok") == 0)
			rv = 0;
		else {
			snprintf(err, errlen, "%s", v != NULL ?
			    (const char *)v : "no answer");
			/* SQLite's report has lines: one log line. */
			for (p = err; (p = strchr(p, '\n')) != NULL; )
				*p = ' ';
			rv = 1;
		}
	} else if (rc == SQLITE_INTERRUPT) {
		snprintf(err, errlen, "not finished in %d s", seconds);
		rv = 2;
	} else if ((rc & 0xff) == SQLITE_CORRUPT ||
	    (rc & 0xff) == SQLITE_NOTADB) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		rv = 1;
	} else
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_progress_handler(db, 0, NULL, NULL);
	return rv;
}

void
db_close(sqlite3 *db)
{
	if (db != NULL && sqlite3_close(db) != SQLITE_OK)
		sqlite3_close_v2(db);
}
