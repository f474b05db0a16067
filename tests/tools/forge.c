/*
 * The attacker of the integrity tests, with write access to the database
 * file and a signing key (their own, or the appliance's if they stole
 * it): after rows were edited with sqlite3, re-chain every event from
 * FROM_SEQ on, re-sign the checkpoints from there in place (and one at
 * the head), add their key to audit_key and re-sign the head seal.
 * Test tool only; never installed.
 *
 *	forge DATABASE SIGNING_KEY FROM_SEQ
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "keyfile.h"
#include "trail_int.h"
#include "xmalloc.h"

static sqlite3	*db;

static void
die(const char *what)
{
	fprintf(stderr, "forge: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static void
exec(const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(sql);
}

static void
row_values(sqlite3_stmt *st, struct audit_value cols[])
{
	int	 i;

	for (i = 0; i < AUDIT_NCOLUMNS; i++)
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			trail_val_int(&cols[i], sqlite3_column_int64(st, i));
			break;
		case SQLITE_NULL:
			trail_val_null(&cols[i]);
			break;
		default:
			trail_val_bytes(&cols[i], sqlite3_column_type(st, i) ==
			    SQLITE_TEXT ? AUDIT_TEXT : AUDIT_BLOB,
			    sqlite3_column_blob(st, i),
			    (size_t)sqlite3_column_bytes(st, i));
		}
}

/* A checkpoint at seq, if there is one, re-signed over the new head in
 * place: same seq and time, so the trail keeps its shape. */
static void
resign_checkpoint(int64_t seq, const unsigned char *head,
    const unsigned char *sk)
{
	struct audit_checkpoint	 cp;
	sqlite3_stmt		*st;

	if (sqlite3_prepare_v2(db, "SELECT utc_us FROM audit_checkpoint "
	    "WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		die("prepare");
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return;
	}
	memset(&cp, 0, sizeof(cp));
	cp.seq = seq;
	cp.utc_us = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	memcpy(cp.head, head, AUDIT_HASHBYTES);
	if (audit_checkpoint_sign(&cp, sk) == -1 ||
	    sqlite3_prepare_v2(db, "UPDATE audit_checkpoint SET head = ?, "
	    "key_id = ?, sig = ? WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		die("re-sign");
	sqlite3_bind_blob(st, 1, cp.head, AUDIT_HASHBYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cp.key_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, cp.sig, AUDIT_SIGBYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, seq);
	if (sqlite3_step(st) != SQLITE_DONE)
		die("update checkpoint");
	sqlite3_finalize(st);
}

int
main(int argc, char *argv[])
{
	struct audit_checkpoint	 cp;
	struct audit_head_seal	 hs;
	struct audit_value	 cols[AUDIT_NCOLUMNS];
	unsigned char		 sk[AUDIT_SIGN_SECRETBYTES];
	unsigned char		 prev[AUDIT_HASHBYTES], hash[AUDIT_HASHBYTES];
	sqlite3_stmt		*st, *up;
	const char		*errstr = NULL;
	char			 err[512];
	long long		 from;
	int64_t			 seq = 0, n;

	if (argc != 4) {
		fprintf(stderr, "usage: forge DATABASE SIGNING_KEY FROM_SEQ\n");
		return 2;
	}
	from = strtonum(argv[3], 1, INT64_MAX, &errstr);
	if (errstr != NULL || sodium_init() < 0 ||
	    keyfile_read(NULL, argv[2], sk, sizeof(sk), 0, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "forge: %s\n", errstr != NULL ? errstr : err);
		return 2;
	}
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		die("open");
	exec("BEGIN IMMEDIATE;"
	    "DROP TRIGGER IF EXISTS audit_event_no_update;"
	    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update;"
	    "DROP TRIGGER IF EXISTS audit_timestamp_no_delete");

	memset(prev, 0, sizeof(prev));
	if (sqlite3_prepare_v2(db, "SELECT hash FROM audit_event WHERE "
	    "seq = ?", -1, &st, NULL) != SQLITE_OK)
		die("prepare");
	sqlite3_bind_int64(st, 1, from - 1);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == AUDIT_HASHBYTES)
		memcpy(prev, sqlite3_column_blob(st, 0), sizeof(prev));
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db, "SELECT " TRAIL_EVENT_COLUMNS " FROM "
	    "audit_event WHERE seq >= ? ORDER BY seq", -1, &st,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE audit_event SET hash = ? WHERE "
	    "seq = ?", -1, &up, NULL) != SQLITE_OK)
		die("prepare");
	sqlite3_bind_int64(st, 1, from);
	while (sqlite3_step(st) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		row_values(st, cols);
		if (audit_chain_hash(prev, cols, hash) == -1)
			die("hash");
		sqlite3_bind_blob(up, 1, hash, sizeof(hash), SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, seq);
		if (sqlite3_step(up) != SQLITE_DONE)
			die("update");
		sqlite3_reset(up);
		memcpy(prev, hash, sizeof(prev));
		resign_checkpoint(seq, hash, sk);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);

	/* The head gets a checkpoint of theirs, if none is there. */
	memset(&cp, 0, sizeof(cp));
	cp.seq = seq;
	cp.utc_us = (int64_t)time(NULL) * 1000000;
	memcpy(cp.head, prev, sizeof(cp.head));
	if (seq > 0) {
		if (audit_checkpoint_sign(&cp, sk) == -1 ||
		    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO "
		    "audit_checkpoint (seq, utc_us, head, key_id, sig) VALUES "
		    "(?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
			die("checkpoint");
		sqlite3_bind_int64(st, 1, cp.seq);
		sqlite3_bind_int64(st, 2, cp.utc_us);
		sqlite3_bind_blob(st, 3, cp.head, AUDIT_HASHBYTES,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 4, cp.key_id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, cp.sig, AUDIT_SIGBYTES, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("insert checkpoint");
		sqlite3_finalize(st);
		/* The key, where a trusting verifier would look it up. */
		if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO audit_key "
		    "(key_id, kind, public_key, created_utc_us) VALUES "
		    "(?, 'signing', ?, ?)", -1, &st, NULL) != SQLITE_OK)
			die("prepare");
		sqlite3_bind_text(st, 1, cp.key_id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, sk + 32, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, cp.utc_us);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("insert key");
		sqlite3_finalize(st);
	}

	memset(&hs, 0, sizeof(hs));
	hs.seq = seq;
	hs.utc_us = cp.utc_us;
	memcpy(hs.head, prev, sizeof(hs.head));
	if (sqlite3_prepare_v2(db, "SELECT count(*), coalesce(max(seq), 0) "
	    "FROM audit_checkpoint", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		die("count");
	hs.checkpoints = sqlite3_column_int64(st, 0);
	hs.last_checkpoint_seq = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	if (audit_head_sign(&hs, sk) == -1 ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO audit_head (id, "
	    "seq, utc_us, head, checkpoints, last_checkpoint_seq, key_id, "
	    "sig) VALUES (1,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		die("head");
	sqlite3_bind_int64(st, 1, hs.seq);
	sqlite3_bind_int64(st, 2, hs.utc_us);
	sqlite3_bind_blob(st, 3, hs.head, AUDIT_HASHBYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, hs.checkpoints);
	sqlite3_bind_int64(st, 5, hs.last_checkpoint_seq);
	sqlite3_bind_text(st, 6, hs.key_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, hs.sig, AUDIT_SIGBYTES, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		die("insert head");
	sqlite3_finalize(st);
	exec("COMMIT");
	n = seq >= from ? seq - from + 1 : 0;
	printf("forge: re-chained %lld event(s) from %lld, signed with %s\n",
	    (long long)n, from, cp.key_id);
	sqlite3_close(db);
	sodium_memzero(sk, sizeof(sk));
	return 0;
}
