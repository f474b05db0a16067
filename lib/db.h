/*
 * The SQLite database of polrecd: its live state and the audit trail, in
 * one file.  Opened in WAL mode with synchronous=FULL, and brought up to
 * date with the numbered migrations of schema/ (embedded at build time),
 * tracked by PRAGMA user_version.  polrecd is its one writer; auditors
 * and polrecctl read it with db_open_readonly, the daemon running or not.
 */
#ifndef POLREC_DB_H
#define POLREC_DB_H

#include <sys/types.h>

#include <stddef.h>

/* The database, its -wal and -shm: the owner writes, the group reads. */
#define DB_FILE_MODE	0640

struct sqlite3;

/* schema/NNN_name.sql, in order; made by scripts/embed-schema. */
struct db_migration {
	int		 version;	/* NNN */
	const char	*name;
	const char	*sql;
};
extern const struct db_migration db_migrations[];
extern const size_t db_nmigrations;

/* The version a fully migrated database has. */
int	 db_schema_version(void);

/*
 * Open (creating) the database for writing, set WAL and synchronous=FULL,
 * and apply the migrations it lacks, each in its own transaction.  A
 * database newer than this program, or not a database, is refused.
 * 0, or -1 with a message in err.
 */
int	 db_open(const char *path, struct sqlite3 **, char *err, size_t errlen);

/* The same, telling the schema version the file had before (0: new). */
int	 db_open_from(const char *path, struct sqlite3 **, int *from,
	    char *err, size_t errlen);

/* Read-only, creating nothing: with immutable, for a file with no -wal
 * (its -wal and -shm are neither read nor made). */
int	 db_open_untouched(const char *path, int min_version, int immutable,
	    struct sqlite3 **, char *err, size_t errlen);
/* Open read-only (never creating, never migrating); the schema must be
 * at least `min_version`.  0 or -1 with a message. */
int	 db_open_readonly(const char *path, int min_version,
	    struct sqlite3 **, char *err, size_t errlen);

/*
 * Before db_open: create the database file if missing, mode DB_FILE_MODE
 * and group gid, so it never exists wider; and bring an existing one and
 * its -wal and -shm to that mode and group, logging what changed.
 * SQLite creates -wal and -shm with the database file's mode and owner.
 * 0, or -1 with a message.
 */
int	 db_protect(const char *path, gid_t gid, char *err, size_t errlen);
/*
 * The same once SQLite has the database open: by path only, never
 * opening a file (closing one would drop the process's POSIX locks on
 * it, and another connection could then delete the -wal in use).
 */
int	 db_protect_open(const char *path, gid_t gid, char *err,
	    size_t errlen);

/* Run SQL without results; 0 or -1 with SQLite's message in err. */
int	 db_exec(struct sqlite3 *, const char *sql, char *err, size_t errlen);

/*
 * Whether the database holds an audit trail: an event or a checkpoint.
 * A database with no tables, or polrec's tables and nothing in the
 * trail, has none.  0 with *has set, or -1 with a message (not a
 * database, or one with tables of another program).
 */
int	 db_has_trail(struct sqlite3 *, int *has, char *err, size_t errlen);

/*
 * PRAGMA quick_check, given at most `seconds`: 0 the file is sound, 1
 * damaged (err: SQLite's first finding), 2 the bound was hit before
 * the end, -1 the check could not run (err says why).
 */
int	 db_quick_check(struct sqlite3 *, int seconds, char *err,
	    size_t errlen);

void	 db_close(struct sqlite3 *);

#endif
