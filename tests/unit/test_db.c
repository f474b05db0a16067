/* Unit tests for opening and migrating the SQLite database (lib/db.c). */
#include <sys/stat.h>

#include <errno.h>
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
#include <sqlite3.h>

#include "db.h"
#include "trail.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A fresh directory per test; the database file in it. */
struct fixture {
	char	 dir[64];
	char	 path[128];
	char	 err[512];
};

static struct fixture	 fx;

static const char *const sidecars[] = { "", "-wal", "-shm", "-journal" };

static int	 setup(void **);
static int	 teardown(void **);
static int	 q_int(sqlite3 *, const char *);
static void	 q_text(sqlite3 *, const char *, char *, size_t);
static int	 has_table(sqlite3 *, const char *);
static sqlite3	*raw_open(const char *);
static void	 raw_exec(sqlite3 *, const char *);
static void	 write_file(const char *, const unsigned char *, size_t);
static unsigned char *read_file(const char *, size_t *);
static uint32_t	 lcg(uint32_t *);

static int
setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_db.XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(fx.path, sizeof(fx.path), "%s/polrec.db", fx.dir);
	return 0;
}

static int
teardown(void **state)
{
	char	 p[160];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(sidecars); i++) {
		snprintf(p, sizeof(p), "%s%s", fx.path, sidecars[i]);
		unlink(p);
	}
	return rmdir(fx.dir);
}

static int
q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	int		 v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
q_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt		*st;
	const unsigned char	*t;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	t = sqlite3_column_text(st, 0);
	snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
	sqlite3_finalize(st);
}

static int
has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt	*st;
	int		 rv;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM "
	    "sqlite_master WHERE type = 'table' AND name = ?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	rv = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rv;
}

/* Plain SQLite, to set up or inspect a file behind db.c's back. */
static sqlite3 *
raw_open(const char *path)
{
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg != NULL ? msg : "?");
}

static void
write_file(const char *path, const unsigned char *b, size_t len)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static unsigned char *
read_file(const char *path, size_t *len)
{
	struct stat	 sb;
	unsigned char	*b;
	int		 fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	b = malloc((size_t)sb.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)sb.st_size), sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return b;
}

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* The embedded migrations are numbered, in order, and not empty. */
static void
test_migrations(void **state)
{
	size_t	 i;

	(void)state;
	assert_true(db_nmigrations > 0);
	for (i = 0; i < db_nmigrations; i++) {
		assert_true(db_migrations[i].version > 0);
		if (i > 0)
			assert_true(db_migrations[i - 1].version <
			    db_migrations[i].version);
		assert_non_null(db_migrations[i].name);
		assert_non_null(db_migrations[i].sql);
		assert_true(strlen(db_migrations[i].sql) > 0);
	}
	assert_int_equal(db_schema_version(),
	    db_migrations[db_nmigrations - 1].version);
}

/* A new file: the whole schema, WAL, synchronous=FULL. */
static void
test_fresh(void **state)
{
	sqlite3	*db = (sqlite3 *)&fx, *raw;
	char	 mode[16];

	(void)state;
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	assert_non_null(db);
	assert_int_equal(q_int(db, "PRAGMA user_version"),
	    db_schema_version());
	q_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(q_int(db, "PRAGMA synchronous"), 2);
	assert_int_equal(q_int(db, "PRAGMA foreign_keys"), 1);
	assert_true(has_table(db, "leg_state"));
	assert_true(has_table(db, "audit_event"));
	assert_int_equal(db_exec(db, "CREATE TABLE mark (x); INSERT INTO mark "
	    "VALUES (7)", fx.err, sizeof(fx.err)), 0);
	db_close(db);

	/* WAL is the file's own mode, whoever opens it next. */
	raw = raw_open(fx.path);
	q_text(raw, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(q_int(raw, "PRAGMA user_version"),
	    db_schema_version());
	assert_int_equal(q_int(raw, "SELECT x FROM mark"), 7);
	sqlite3_close(raw);
}

/* Opening an up-to-date database changes nothing, even while open. */
static void
test_reopen(void **state)
{
	sqlite3	*db, *db2;
	char	 before[8192], after[8192];

	(void)state;
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(db_exec(db, "CREATE TABLE mark (x); INSERT INTO mark "
	    "VALUES (42)", fx.err, sizeof(fx.err)), 0);
	q_text(db, "SELECT group_concat(name || ':' || sql, ';') FROM "
	    "(SELECT name, sql FROM sqlite_master ORDER BY name)", before,
	    sizeof(before));
	db_close(db);

	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(q_int(db, "PRAGMA user_version"),
	    db_schema_version());
	assert_int_equal(q_int(db, "SELECT x FROM mark"), 42);
	q_text(db, "SELECT group_concat(name || ':' || sql, ';') FROM "
	    "(SELECT name, sql FROM sqlite_master ORDER BY name)", after,
	    sizeof(after));
	assert_string_equal(after, before);

	/* A second writer connection finds nothing to do either. */
	assert_int_equal(db_open(fx.path, &db2, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(q_int(db2, "SELECT x FROM mark"), 42);
	assert_int_equal(q_int(db2, "PRAGMA synchronous"), 2);
	db_close(db2);
	db_close(db);
}

/* A database from a newer polrecd is refused, and left alone. */
static void
test_newer(void **state)
{
	sqlite3	*db, *raw;
	char	 sql[64];
	int	 v = db_schema_version() + 1;

	(void)state;
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	db_close(db);
	raw = raw_open(fx.path);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	raw_exec(raw, sql);
	sqlite3_close(raw);

	db = (sqlite3 *)&fx;
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), -1);
	assert_null(db);
	assert_non_null(strstr(fx.err, fx.path));
	assert_non_null(strstr(fx.err, "newer"));
	raw = raw_open(fx.path);
	assert_int_equal(q_int(raw, "PRAGMA user_version"), v);
	sqlite3_close(raw);

	/* Far newer, and a small error buffer: still a clean refusal. */
	raw = raw_open(fx.path);
	raw_exec(raw, "PRAGMA user_version = 2147483647");
	sqlite3_close(raw);
	assert_int_equal(db_open(fx.path, &db, fx.err, 8), -1);
	assert_null(db);
	assert_int_equal(strlen(fx.err), 7);
}

/* Not a database at all: refused, without a crash, the file untouched. */
/* Another program's SQLite database is not migrated over. */
static void
test_foreign_database(void **state)
{
	sqlite3	*db;
	char	 msg[256];

	(void)state;
	unlink(fx.path);
	assert_int_equal(sqlite3_open(fx.path, &db), SQLITE_OK);
	assert_int_equal(db_exec(db, "CREATE TABLE theirs (x)", msg,
	    sizeof(msg)), 0);
	sqlite3_close(db);
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), -1);
	assert_non_null(strstr(fx.err, "not a polrec database"));

	unlink(fx.path);
	assert_int_equal(sqlite3_open(fx.path, &db), SQLITE_OK);
	assert_int_equal(db_exec(db, "PRAGMA user_version = 1", msg,
	    sizeof(msg)), 0);
	sqlite3_close(db);
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), -1);
	assert_non_null(strstr(fx.err, "application id"));
}

static void
test_garbage(void **state)
{
	/* 1 too: SQLite's unix VFS takes a one-byte file for an empty
	 * one (unixFileSize); db_open refuses files under a page. */
	static const size_t	 sizes[] = { 1, 2, 15, 100, 512, 4096, 65536 };
	unsigned char		*b, *back;
	sqlite3			*db;
	size_t			 i, j, len;
	uint32_t		 seed = 4711;
	int			 hdr;

	(void)state;
	for (i = 0; i < NELEM(sizes); i++) {
		for (hdr = 0; hdr < 2; hdr++) {
			b = malloc(sizes[i]);
			assert_non_null(b);
			for (j = 0; j < sizes[i]; j++)
				b[j] = (unsigned char)lcg(&seed);
			/* SQLite's magic, then garbage. */
			if (hdr && sizes[i] >= 16)
				memcpy(b, "SQLite format 3", 16);
			write_file(fx.path, b, sizes[i]);

			fx.err[0] = '\0';
			db = (sqlite3 *)&fx;
			if (db_open(fx.path, &db, fx.err, sizeof(fx.err)) !=
			    -1)
				fail_msg("%zu bytes%s: opened", sizes[i],
				    hdr ? " with a header" : "");
			assert_null(db);
			assert_true(strlen(fx.err) > 0);
			assert_non_null(strstr(fx.err, fx.path));
			fx.err[0] = '\0';
			assert_int_equal(db_open_readonly(fx.path, 0, &db,
			    fx.err, sizeof(fx.err)), -1);
			assert_null(db);
			assert_true(strlen(fx.err) > 0);

			back = read_file(fx.path, &len);
			assert_int_equal(len, sizes[i]);
			assert_memory_equal(back, b, len);
			free(back);
			free(b);
		}
	}
}

/* An empty file is a database of nothing yet: it gets the schema. */
static void
test_empty_file(void **state)
{
	sqlite3	*db;

	(void)state;
	write_file(fx.path, (const unsigned char *)"", 0);
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(q_int(db, "PRAGMA user_version"),
	    db_schema_version());
	assert_true(has_table(db, "leg_state"));
	db_close(db);
}

/*
 * A migration that fails is rolled back whole: the version stays, and
 * nothing of it is left behind.
 */
static void
test_migration_fails(void **state)
{
	sqlite3		*db, *raw;
	const char	*p, *e;
	char		 sql[160], name[64];
	int		 objects;

	(void)state;
	if (db_nmigrations < 2)
		skip();
	/* The first table the second migration creates, made beforehand. */
	p = strstr(db_migrations[1].sql, "CREATE TABLE ");
	assert_non_null(p);
	p += strlen("CREATE TABLE ");
	for (e = p; *e != ' ' && *e != '(' && *e != '\0'; e++)
		;
	assert_true(e > p && (size_t)(e - p) < sizeof(name));
	memcpy(name, p, (size_t)(e - p));
	name[e - p] = '\0';

	raw = raw_open(fx.path);
	raw_exec(raw, db_migrations[0].sql);
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (x); PRAGMA user_version "
	    "= %d", name, db_migrations[0].version);
	raw_exec(raw, sql);
	objects = q_int(raw, "SELECT count(*) FROM sqlite_master");
	sqlite3_close(raw);

	db = (sqlite3 *)&fx;
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), -1);
	assert_null(db);
	assert_non_null(strstr(fx.err, db_migrations[1].name));
	assert_non_null(strstr(fx.err, name));

	raw = raw_open(fx.path);
	assert_int_equal(q_int(raw, "PRAGMA user_version"),
	    db_migrations[0].version);
	assert_int_equal(q_int(raw, "SELECT count(*) FROM sqlite_master"),
	    objects);
	sqlite3_close(raw);
}

/* Nowhere to create the file. */
static void
test_open_fails(void **state)
{
	sqlite3	*db = (sqlite3 *)&fx;
	char	 path[192];

	(void)state;
	snprintf(path, sizeof(path), "%s/no/such/dir/polrec.db", fx.dir);
	assert_int_equal(db_open(path, &db, fx.err, sizeof(fx.err)), -1);
	assert_null(db);
	assert_non_null(strstr(fx.err, path));
	db_close(NULL);
}

static void
test_exec(void **state)
{
	sqlite3	*db;

	(void)state;
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(db_exec(db, "CREATE TABLE t (x NOT NULL)", fx.err,
	    sizeof(fx.err)), 0);
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES (NULL)", fx.err,
	    sizeof(fx.err)), -1);
	assert_non_null(strstr(fx.err, "NOT NULL"));
	assert_int_equal(db_exec(db, "this is not SQL", fx.err,
	    sizeof(fx.err)), -1);
	assert_non_null(strstr(fx.err, "syntax error"));
	db_close(db);
}

/* Read-only: never creates, never migrates, wants a recent enough file. */
static void
test_readonly(void **state)
{
	sqlite3	*db = (sqlite3 *)&fx, *raw;

	(void)state;
	assert_int_equal(db_open_readonly(fx.path, 0, &db, fx.err,
	    sizeof(fx.err)), -1);
	assert_null(db);
	assert_non_null(strstr(fx.err, fx.path));
	assert_int_equal(access(fx.path, F_OK), -1);
	assert_int_equal(errno, ENOENT);

	/* A database from before the schema: too old to read. */
	raw = raw_open(fx.path);
	raw_exec(raw, "CREATE TABLE other (x); INSERT INTO other VALUES (1)");
	sqlite3_close(raw);
	db = (sqlite3 *)&fx;
	assert_int_equal(db_open_readonly(fx.path, db_schema_version(), &db,
	    fx.err, sizeof(fx.err)), -1);
	assert_null(db);
	assert_non_null(strstr(fx.err, "schema version"));

	/* Asked for no version, it opens, and changes nothing. */
	assert_int_equal(db_open_readonly(fx.path, 0, &db, fx.err,
	    sizeof(fx.err)), 0);
	assert_int_equal(q_int(db, "PRAGMA user_version"), 0);
	assert_false(has_table(db, "leg_state"));
	assert_int_equal(db_exec(db, "INSERT INTO other VALUES (2)", fx.err,
	    sizeof(fx.err)), -1);
	assert_non_null(strstr(fx.err, "readonly"));
	db_close(db);

	/* One version short of what is needed. */
	raw = raw_open(fx.path);
	raw_exec(raw, "PRAGMA user_version = 1");
	sqlite3_close(raw);
	assert_int_equal(db_open_readonly(fx.path, 2, &db, fx.err,
	    sizeof(fx.err)), -1);
	assert_int_equal(db_open_readonly(fx.path, 1, &db, fx.err,
	    sizeof(fx.err)), 0);
	db_close(db);
}

/* Auditors read while polrecd writes: committed rows only, no waiting. */
static void
test_readonly_with_writer(void **state)
{
	sqlite3	*w, *r;

	(void)state;
	assert_int_equal(db_open(fx.path, &w, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(db_exec(w, "CREATE TABLE mark (x); INSERT INTO mark "
	    "VALUES (1)", fx.err, sizeof(fx.err)), 0);
	/* The writer is in the middle of a transaction. */
	assert_int_equal(db_exec(w, "BEGIN IMMEDIATE; INSERT INTO mark "
	    "VALUES (2)", fx.err, sizeof(fx.err)), 0);

	assert_int_equal(db_open_readonly(fx.path, db_schema_version(), &r,
	    fx.err, sizeof(fx.err)), 0);
	assert_int_equal(q_int(r, "SELECT count(*) FROM mark"), 1);
	assert_int_equal(q_int(r, "SELECT count(*) FROM leg_state"), 0);
	assert_int_equal(db_exec(w, "COMMIT", fx.err, sizeof(fx.err)), 0);
	assert_int_equal(q_int(r, "SELECT count(*) FROM mark"), 2);

	/* A reader's open transaction does not hold the writer up. */
	assert_int_equal(db_exec(r, "BEGIN; SELECT count(*) FROM mark", fx.err,
	    sizeof(fx.err)), 0);
	assert_int_equal(q_int(r, "SELECT count(*) FROM mark"), 2);
	assert_int_equal(db_exec(w, "INSERT INTO mark VALUES (3)", fx.err,
	    sizeof(fx.err)), 0);
	assert_int_equal(q_int(r, "SELECT count(*) FROM mark"), 2);
	assert_int_equal(db_exec(r, "COMMIT", fx.err, sizeof(fx.err)), 0);
	assert_int_equal(q_int(r, "SELECT count(*) FROM mark"), 3);
	db_close(r);
	db_close(w);

	/* And with the writer gone. */
	assert_int_equal(db_open_readonly(fx.path, db_schema_version(), &r,
	    fx.err, sizeof(fx.err)), 0);
	assert_int_equal(q_int(r, "SELECT count(*) FROM mark"), 3);
	db_close(r);
}

static void
put_event(sqlite3 *db, long long seq, long long utc_us, const char *kind,
    const char *outcome, const char *detail)
{
	sqlite3_stmt	*st;

	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO audit_event "
	    "(seq, utc_us, mono_us, clock_synced, kind, outcome, call_id, "
	    "detail, hash) VALUES (?, ?, 0, 1, ?, ?, 'leg-1', ?, x'00')", -1,
	    &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, utc_us);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/*
 * Every view's utc is the string `audit export` prints (trail_format_time),
 * to the microsecond: no rounding to the millisecond, before the epoch too.
 */
static void
test_views_utc(void **state)
{
	static const long long	 times[] = {
		0, 1, -1, 999, 999999, 1000000, -1000000, -1000001,
		1764806400000500LL, 1764806400000999LL, 1764806400999500LL,
		1764806400999999LL, 1767225599999999LL, 4102444800123456LL,
	};
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 want[64];
	size_t		 i;

	(void)state;
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	for (i = 0; i < NELEM(times); i++)
		put_event(db, (long long)i + 1, times[i], "invitation", "answer",
		    NULL);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT e.utc_us, e.utc, "
	    "n.utc, l.invited FROM events e LEFT JOIN invitations n USING "
	    "(seq) LEFT JOIN call_legs l ON l.call_id = e.call_id AND "
	    "e.seq = 1 ORDER BY e.seq", -1, &st, NULL), SQLITE_OK);
	for (i = 0; i < NELEM(times); i++) {
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_true(sqlite3_column_int64(st, 0) == times[i]);
		trail_format_time(times[i], want, sizeof(want));
		assert_string_equal((const char *)sqlite3_column_text(st, 1),
		    want);
		assert_string_equal((const char *)sqlite3_column_text(st, 2),
		    want);
		if (i == 0)
			assert_string_equal(
			    (const char *)sqlite3_column_text(st, 3), want);
	}
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	db_close(db);
}

/* call_legs shows each column's last event by seq, not max() of strings. */
static void
test_views_last_by_seq(void **state)
{
	sqlite3	*db;
	char	 row[256];

	(void)state;
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	put_event(db, 1, 1000, "invitation", "busy", NULL);
	put_event(db, 2, 2000, "invitation", "answer", NULL);
	put_event(db, 3, 3000, "reject", "ok", NULL);
	put_event(db, 4, 4000, "answer", "ok", NULL);
	put_event(db, 5, 5000, "recording", "confirmed",
	    "{\"status\":\"recording\"}");
	put_event(db, 6, 6000, "recording", "failed",
	    "{\"status\":\"failed\"}");
	put_event(db, 7, 7000, "recording", "confirmed",
	    "{\"status\":\"notRecording\"}");
	put_event(db, 8, 8000, "terminated", NULL, "{\"result\":\"500/1\"}");
	put_event(db, 9, 9000, "terminated", NULL, "{\"result\":\"200/5001\"}");
	q_text(db, "SELECT invited || '|' || decision || '|' || answer || '|' "
	    "|| recording || '|' || ended || '|' || result FROM call_legs",
	    row, sizeof(row));
	assert_string_equal(row, "1970-01-01T00:00:00.001000Z|answer|answer ok|"
	    "notRecording|1970-01-01T00:00:00.009000Z|200/5001");
	assert_int_equal(q_int(db, "SELECT count(*) FROM call_legs"), 1);

	/* And the other way round. */
	put_event(db, 10, 10000, "recording", "confirmed",
	    "{\"status\":\"recording\"}");
	q_text(db, "SELECT recording FROM call_legs", row, sizeof(row));
	assert_string_equal(row, "recording");
	db_close(db);
}

/* A database of schema 2 gets the views of 004 when opened. */
static void
test_views_upgrade(void **state)
{
	sqlite3	*raw, *db;
	char	 utc[64], want[64];
	size_t	 i;

	(void)state;
	raw = raw_open(fx.path);
	for (i = 0; i < db_nmigrations && db_migrations[i].version <= 2; i++)
		raw_exec(raw, db_migrations[i].sql);
	raw_exec(raw, "PRAGMA user_version = 2");
	put_event(raw, 1, 1764806400999999LL, "invitation", "answer", NULL);
	q_text(raw, "SELECT utc FROM events", utc, sizeof(utc));
	sqlite3_close(raw);
	trail_format_time(1764806400999999LL, want, sizeof(want));
	assert_string_not_equal(utc, want);	/* 002's rounding */

	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(q_int(db, "PRAGMA user_version"),
	    db_schema_version());
	q_text(db, "SELECT utc FROM events", utc, sizeof(utc));
	assert_string_equal(utc, want);
	q_text(db, "SELECT invited FROM call_legs", utc, sizeof(utc));
	assert_string_equal(utc, want);
	/* 004's seven, and 005's call_chains and call_ends. */
	assert_int_equal(q_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'view'"), 9);
	db_close(db);
}

static unsigned int
mode_of(const char *path)
{
	struct stat	 st;

	assert_int_equal(lstat(path, &st), 0);
	return (unsigned int)(st.st_mode & 07777);
}

/*
 * db_protect makes the database 0640 before SQLite sees it; SQLite
 * gives -wal and -shm the database's mode whatever the umask; wider
 * files found are narrowed; links and non-files are refused.
 */
static void
test_protect(void **state)
{
	sqlite3		*db;
	char		 wal[160], shm[160], link[160];
	mode_t		 old;
	int		 fd;

	(void)state;
	snprintf(wal, sizeof(wal), "%s-wal", fx.path);
	snprintf(shm, sizeof(shm), "%s-shm", fx.path);
	old = umask(0);
	assert_int_equal(db_protect(fx.path, getegid(), fx.err,
	    sizeof(fx.err)), 0);
	assert_int_equal(mode_of(fx.path), 0640);
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(db_exec(db, "CREATE TABLE mark (x); INSERT INTO mark "
	    "VALUES (1)", fx.err, sizeof(fx.err)), 0);
	assert_int_equal(mode_of(wal), 0640);
	assert_int_equal(mode_of(shm), 0640);
	db_close(db);

	/* Found wider: narrowed, sidecars too; the data is untouched. */
	assert_int_equal(chmod(fx.path, 0644), 0);
	fd = open(wal, O_WRONLY | O_CREAT, 0666);
	assert_true(fd != -1);
	close(fd);
	assert_int_equal(chmod(wal, 0666), 0);
	assert_int_equal(db_protect(fx.path, getegid(), fx.err,
	    sizeof(fx.err)), 0);
	assert_int_equal(mode_of(fx.path), 0640);
	assert_int_equal(mode_of(wal), 0640);
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(q_int(db, "SELECT x FROM mark"), 1);
	db_close(db);
	umask(old);

	/* A symbolic link or a directory is not the database. */
	snprintf(link, sizeof(link), "%s/link.db", fx.dir);
	assert_int_equal(symlink(fx.path, link), 0);
	assert_int_equal(db_protect(link, getegid(), fx.err,
	    sizeof(fx.err)), -1);
	assert_non_null(strstr(fx.err, link));
	unlink(link);
	assert_int_equal(db_protect(fx.dir, getegid(), fx.err,
	    sizeof(fx.err)), -1);
	assert_non_null(strstr(fx.err, "not a regular file"));
}

/*
 * What polrecd checks at start-up: whether a trail is there, and SQLite's
 * quick_check, sound, damaged and cut off by its bound.
 */
static void
test_startup_checks(void **state)
{
	sqlite3		*db;
	unsigned char	 junk[8192];
	uint32_t	 seed = 13;
	size_t		 i;
	int		 fd, has = -1;

	(void)state;
	assert_int_equal(db_open(fx.path, &db, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(db_has_trail(db, &has, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(has, 0);
	raw_exec(db, "INSERT INTO audit_event (seq, utc_us, mono_us, "
	    "clock_synced, kind, hash) VALUES (1, 1, 1, 0, 'new_trail', "
	    "x'00')");
	raw_exec(db, "CREATE TABLE filler (n INTEGER, pad TEXT); "
	    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
	    "WHERE n < 20000) INSERT INTO filler SELECT n, "
	    "hex(randomblob(40)) FROM c");
	assert_int_equal(db_has_trail(db, &has, fx.err, sizeof(fx.err)), 0);
	assert_int_equal(has, 1);
	assert_int_equal(db_quick_check(db, 30, fx.err, sizeof(fx.err)), 0);
	/* A bound already passed stops it at the first look. */
	assert_int_equal(db_quick_check(db, 0, fx.err, sizeof(fx.err)), 2);
	assert_non_null(strstr(fx.err, "not finished"));
	assert_int_equal(db_quick_check(db, 30, fx.err, sizeof(fx.err)), 0);
	db_close(db);

	/* 8 KiB of noise over two pages in the middle. */
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)lcg(&seed);
	assert_true((fd = open(fx.path, O_WRONLY)) != -1);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 40 * 4096),
	    (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(db_open_readonly(fx.path, 0, &db, fx.err,
	    sizeof(fx.err)), 0);
	assert_int_equal(db_quick_check(db, 30, fx.err, sizeof(fx.err)), 1);
	assert_null(strchr(fx.err, '\n'));
	db_close(db);

	/* Tables of another program: not a database polrecd wrote. */
	unlink(fx.path);
	db = raw_open(fx.path);
	raw_exec(db, "CREATE TABLE t (x)");
	assert_int_equal(db_has_trail(db, &has, fx.err, sizeof(fx.err)), -1);
	assert_non_null(strstr(fx.err, "tables of its own"));
	sqlite3_close(db);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations),
		T(test_fresh),
		T(test_reopen),
		T(test_newer),
		T(test_garbage),
		T(test_foreign_database),
		T(test_empty_file),
		T(test_migration_fails),
		T(test_open_fails),
		T(test_exec),
		T(test_readonly),
		T(test_readonly_with_writer),
		T(test_views_utc),
		T(test_views_last_by_seq),
		T(test_views_upgrade),
		T(test_protect),
		T(test_startup_checks),
	};

	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
