/*
 * libFuzzer harness for reading a trail back (lib/trail_*.c): the audit
 * tables of a database are untrusted.  The input is a list of rows for
 * audit_event, audit_checkpoint, audit_key, audit_datakey, audit_head
 * and audit_timestamp, each value of any SQLite type; the rows go into
 * an in-memory database with the real schema, then trail_verify (with a
 * pinned key), polrecd's start-up check trail_check_tail and
 * trail_export (with and without an auditor key) read it.  Neither may crash, leak or hang, whatever the
 * rows hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "db.h"
#include "trail.h"

#define MAX_ROWS	64

static const struct table {
	const char	*name;
	int		 ncols;
} tables[] = {
	{ "audit_event", AUDIT_NCOLUMNS + 1 },	/* + hash */
	{ "audit_checkpoint", 5 },
	{ "audit_key", 4 },
	{ "audit_datakey", 4 },
	{ "audit_head", 8 },
	{ "audit_timestamp", 3 },
};
#define NTABLES	(sizeof(tables) / sizeof(tables[0]))

static unsigned char	 auditor_sk[32];
static unsigned char	 pinned[AUDIT_SIGN_PUBBYTES];
static FILE		*devnull;

static sqlite3 *
fresh_db(void)
{
	sqlite3	*db;
	size_t	 i;
	char	 sql[64];

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		abort();
	for (i = 0; i < db_nmigrations; i++)
		if (sqlite3_exec(db, db_migrations[i].sql, NULL, NULL,
		    NULL) != SQLITE_OK)
			abort();
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    db_schema_version());
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	return db;
}

/* One value: a type byte, then for int 8 bytes, for text/blob a length
 * byte and the bytes.  Returns bytes used, 0 at the end of input. */
static size_t
bind_one(sqlite3_stmt *st, int col, const uint8_t *p, size_t n)
{
	size_t	 len;
	int64_t	 v = 0;
	int	 i;

	if (n < 1)
		return 0;
	switch (p[0] % 4) {
	case 0:
		sqlite3_bind_null(st, col);
		return 1;
	case 1:
		if (n < 9)
			return 0;
		for (i = 1; i <= 8; i++)
			v = (int64_t)((uint64_t)v << 8 | p[i]);
		/* Small values too, so seq-like numbers come up. */
		if (p[0] & 0x80)
			v &= 0x3f;
		sqlite3_bind_int64(st, col, v);
		return 9;
	default:
		if (n < 2 || (len = p[1]) > n - 2)
			return 0;
		if (p[0] % 4 == 2)
			sqlite3_bind_text(st, col, (const char *)p + 2,
			    (int)len, SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(st, col, p + 2, (int)len,
			    SQLITE_TRANSIENT);
		return 2 + len;
	}
}

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(auditor_sk, 7, sizeof(auditor_sk));
	memset(pinned, 9, sizeof(pinned));
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trail_verify_opts	 opts;
	struct trail_report		 rep;
	struct trail_tail_check		 chk;
	struct trail_filter		 f;
	const struct table		*t;
	sqlite3				*db;
	sqlite3_stmt			*st;
	char				 sql[128], err[256];
	size_t				 off = 0, used;
	int				 rows, c;

	db = fresh_db();
	/* No trigger may stop the rows going in. */
	sqlite3_exec(db, "DROP TRIGGER audit_event_no_update", NULL, NULL, NULL);
	for (rows = 0; rows < MAX_ROWS && off < size; rows++) {
		t = &tables[data[off++] % NTABLES];
		snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (", t->name);
		for (c = 1; c <= t->ncols; c++)
			snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
			    "%s?", c > 1 ? "," : "");
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), ")");
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			abort();
		for (c = 1; c <= t->ncols; c++) {
			if ((used = bind_one(st, c, data + off,
			    size - off)) == 0)
				break;
			off += used;
		}
		(void)sqlite3_step(st);	/* constraints may refuse it */
		sqlite3_finalize(st);
		if (c <= t->ncols)
			break;
	}

	memset(&opts, 0, sizeof(opts));
	opts.pinned_pk = pinned;
	(void)trail_verify(db, &opts, &rep);
	(void)trail_check_tail(db, pinned, 1000, 1, &chk);
	memset(&f, 0, sizeof(f));
	(void)trail_export(db, &f, devnull, err, sizeof(err));
	f.auditor_sk = auditor_sk;
	(void)trail_export(db, &f, devnull, err, sizeof(err));
	sqlite3_close(db);
	return 0;
}
