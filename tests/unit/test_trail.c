/* Unit tests for the audit trail in SQLite (lib/trail.c), on real files. */
#include <sys/stat.h>

#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "db.h"
#include "trail.h"
#include "trail_int.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define T0		1763892000000000LL	/* 2025-11-23T10:00:00Z */
#define SEC		1000000LL

static char			 dir[] = "/tmp/test_trail.XXXXXX";
static struct trail_keys	 keys, keys2;
static unsigned char		 auditor_sk[AUDIT_BOX_SECRETBYTES];
static unsigned char		 other_sk[AUDIT_BOX_SECRETBYTES];
static unsigned char		 sign_pk[AUDIT_SIGN_PUBBYTES];
static unsigned char		 sign2_pk[AUDIT_SIGN_PUBBYTES];

/* The tampering base: its checkpoints, one of them exported. */
static char			 err_buf[256];
static struct audit_checkpoint	 exported;
static unsigned char		 exported_pk[AUDIT_SIGN_PUBBYTES];

static const char *
path_of(const char *name)
{
	static char	 buf[4][PATH_MAX];
	static int	 n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, name);
	return buf[n];
}

static sqlite3 *
open_db(const char *name)
{
	sqlite3	*db;
	char	 err[256];

	if (db_open(path_of(name), &db, err, sizeof(err)) == -1)
		fail_msg("db_open: %s", err);
	return db;
}

static sqlite3 *
open_ro(const char *name)
{
	sqlite3	*db;
	char	 err[256];

	if (db_open_readonly(path_of(name), db_schema_version(), &db, err,
	    sizeof(err)) == -1)
		fail_msg("db_open_readonly: %s", err);
	return db;
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char	 err[256];

	if (db_exec(db, sql, err, sizeof(err)) == -1)
		fail_msg("%s: %s", sql, err);
}

static int64_t
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static struct trail *
open_trail(sqlite3 *db, const struct trail_keys *k)
{
	struct trail	*t;
	char		 err[256];

	if ((t = trail_open(db, k, err, sizeof(err))) == NULL)
		fail_msg("trail_open: %s", err);
	return t;
}

/* Event number i: personal metadata on even ones when `personal`. */
static void
event_make(struct trail_event *ev, char *buf, size_t len, int i,
    int personal)
{
	static char	 detail[64], call[32];

	memset(ev, 0, sizeof(*ev));
	ev->utc_us = T0 + i * SEC;
	ev->mono_us = 5000 + i;
	ev->clock_synced = 1;
	ev->clock_maxerror_us = 1000;
	ev->clock_esterror_us = -1;
	ev->kind = "invitation";
	ev->outcome = i % 3 == 0 ? "answer" : "busy";
	ev->reason = i % 3 == 0 ? NULL : "group full";
	snprintf(call, sizeof(call), "call-%c", i % 2 ? 'b' : 'a');
	ev->call_id = call;
	ev->chain_id = "chain-1";
	ev->tenant = "contoso";
	ev->policy = "RecordAll";
	ev->paired = "[\"bot1\",\"bot2\"]";
	ev->other = NULL;
	ev->msg_id = "msg";
	ev->http_status = i % 2 ? -1 : 202;
	ev->graph_code = NULL;
	ev->request_id = "req";
	ev->latency_us = 1500 + i;
	ev->attempts = 1;
	snprintf(detail, sizeof(detail), "{\"n\":%d}", i);
	ev->detail = detail;
	if (personal && i % 2 == 0) {
		snprintf(buf, len, "{\"caller\":\"alice-%d\"}", i);
		ev->personal = buf;
		ev->personal_len = strlen(buf);
	}
}

static int64_t
append(struct trail *t, int i, int personal)
{
	struct trail_event	 ev;
	char			 buf[64], err[256];
	int64_t			 seq = -1;

	event_make(&ev, buf, sizeof(buf), i, personal);
	if (trail_append(t, &ev, &seq, err, sizeof(err)) == -1)
		fail_msg("trail_append: %s", err);
	return seq;
}

/* Events from..to-1 in one transaction, then (optionally) a checkpoint. */
static void
batch(sqlite3 *db, struct trail *t, int from, int to, int personal,
    int checkpoint)
{
	char	 err[256];
	int	 i;

	exec_ok(db, "BEGIN IMMEDIATE");
	for (i = from; i < to; i++)
		append(t, i, personal);
	if (checkpoint &&
	    trail_checkpoint(t, T0 + to * SEC, err, sizeof(err)) == -1)
		fail_msg("trail_checkpoint: %s", err);
	if (trail_seal(t, T0 + to * SEC, err, sizeof(err)) == -1)
		fail_msg("trail_seal: %s", err);
	exec_ok(db, "COMMIT");
	trail_committed(t);
}

/* Without a pinned key of its own, a test trusts both signing keys. */
static int
verify_db(sqlite3 *db, const struct trail_verify_opts *o,
    struct trail_report *r)
{
	struct trail_verify_opts	 both;
	unsigned char			 pins[2][AUDIT_SIGN_PUBBYTES];

	if (o != NULL && o->pinned_pk != NULL)
		return trail_verify(db, o, r);
	memset(&both, 0, sizeof(both));
	if (o != NULL)
		both = *o;
	memcpy(pins[0], sign_pk, sizeof(pins[0]));
	memcpy(pins[1], sign2_pk, sizeof(pins[1]));
	both.pinned_pk = pins[0];
	both.npinned = 2;
	return trail_verify(db, &both, r);
}

static int
verify_file(const char *name, const struct trail_verify_opts *o,
    struct trail_report *r)
{
	sqlite3	*db = open_ro(name);
	int	 rc;

	rc = verify_db(db, o, r);
	db_close(db);
	return rc;
}

static void
assert_intact(const char *name)
{
	struct trail_report	 r;

	if (verify_file(name, NULL, &r) != 0)
		fail_msg("%s: not intact: %s (event %lld)", name, r.problem,
		    (long long)r.bad_seq);
	assert_int_equal(r.bad_seq, 0);
	assert_string_equal(r.problem, "");
}

static void
copy_file(const char *from, const char *to)
{
	FILE	*in, *out;
	char	 buf[8192], side[PATH_MAX];
	size_t	 n;

	/* A reader may leave its -wal and -shm behind: not for the copy. */
	snprintf(side, sizeof(side), "%s-wal", path_of(to));
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path_of(to));
	unlink(side);
	assert_non_null(in = fopen(path_of(from), "rb"));
	assert_non_null(out = fopen(path_of(to), "wb"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	unsigned char	 pk[AUDIT_BOX_PUBBYTES];

	(void)state;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return -1;
	crypto_sign_keypair(sign_pk, keys.sign_sk);
	crypto_box_keypair(keys.auditor_pk, auditor_sk);
	crypto_sign_keypair(sign2_pk, keys2.sign_sk);
	memcpy(keys2.auditor_pk, keys.auditor_pk, sizeof(keys2.auditor_pk));
	crypto_box_keypair(pk, other_sk);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
test_append_verify(void **state)
{
	struct trail_report	 r;
	struct trail		*t;
	sqlite3			*db;
	char			 err[256];

	(void)state;
	db = open_db("append.db");
	t = open_trail(db, &keys);
	assert_int_equal(trail_last_seq(t), 0);
	batch(db, t, 0, 20, 1, 0);
	/* Two keys, the data key, twenty events. */
	assert_int_equal(trail_last_seq(t), 23);
	assert_int_equal(trail_unsigned(t), 23);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_event WHERE "
	    "kind = 'key'"), 3);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_event WHERE "
	    "sealed IS NOT NULL"), 10);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_event WHERE "
	    "http_status IS NULL AND clock_esterror_us IS NULL"), 13);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_key"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_datakey"), 1);

	/* Zero checkpoints is never intact. */
	assert_int_equal(verify_db(db, NULL, &r), 1);
	assert_int_equal(r.events, 23);
	assert_int_equal(r.checkpoints, 0);
	assert_int_equal(r.last_checkpoint_seq, 0);
	assert_non_null(strstr(r.problem, "no checkpoint"));

	exec_ok(db, "BEGIN");
	assert_int_equal(trail_checkpoint(t, T0 + 100 * SEC, err,
	    sizeof(err)), 0);
	/* Nothing new since: no second checkpoint. */
	assert_int_equal(trail_checkpoint(t, T0 + 101 * SEC, err,
	    sizeof(err)), 0);
	exec_ok(db, "COMMIT");
	trail_committed(t);
	assert_int_equal(trail_unsigned(t), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_checkpoint"),
	    1);
	assert_int_equal(verify_db(db, NULL, &r), 0);
	assert_int_equal(r.checkpoints, 1);
	assert_int_equal(r.first_seq, 1);
	assert_int_equal(r.last_seq, 23);
	assert_int_equal(r.last_checkpoint_seq, 23);

	/* The triggers refuse changes through SQL. */
	assert_int_equal(db_exec(db, "UPDATE audit_event SET outcome = 'x' "
	    "WHERE seq = 5", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot be changed"));
	assert_int_equal(db_exec(db, "DELETE FROM audit_event WHERE seq = 5",
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "only by retention"));
	assert_int_equal(db_exec(db, "DELETE FROM audit_checkpoint", err,
	    sizeof(err)), -1);
	assert_int_equal(db_exec(db, "UPDATE audit_key SET kind = 'auditor'",
	    err, sizeof(err)), -1);
	assert_int_equal(db_exec(db, "DELETE FROM audit_datakey", err,
	    sizeof(err)), -1);
	trail_free(t);
	db_close(db);
	assert_intact("append.db");
}

static void
test_rollback(void **state)
{
	struct trail_event	 ev;
	struct trail		*t;
	sqlite3			*db;
	char			 buf[64], err[256];
	int64_t			 seq;

	(void)state;
	db = open_db("rollback.db");
	t = open_trail(db, &keys);

	/* The keys' events and the data key go with the rollback... */
	exec_ok(db, "BEGIN");
	assert_int_equal(append(t, 0, 1), 4);
	exec_ok(db, "ROLLBACK");
	trail_rolled_back(t);
	assert_int_equal(trail_last_seq(t), 0);
	assert_int_equal(trail_unsigned(t), 0);

	/* ...and are written again. */
	exec_ok(db, "BEGIN");
	assert_int_equal(append(t, 0, 1), 4);
	exec_ok(db, "COMMIT");
	trail_committed(t);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_datakey"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_event WHERE "
	    "kind = 'key'"), 3);

	/* A new data key rolled back is stored by the next append. */
	trail_rotate_datakey(t);
	exec_ok(db, "BEGIN");
	assert_int_equal(append(t, 2, 1), 6);
	exec_ok(db, "ROLLBACK");
	trail_rolled_back(t);
	exec_ok(db, "BEGIN");
	assert_int_equal(append(t, 1, 1), 5);	/* nothing sealed */
	assert_int_equal(append(t, 2, 1), 7);
	exec_ok(db, "COMMIT");
	trail_committed(t);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_datakey"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_event WHERE "
	    "kind = 'key' AND outcome = 'datakey'"), 2);
	assert_int_equal(count(db, "SELECT count(DISTINCT key_id) FROM "
	    "audit_event WHERE sealed IS NOT NULL"), 2);

	/* A failed insert: the caller rolls back, nothing is lost. */
	exec_ok(db, "CREATE TEMP TRIGGER refuse BEFORE INSERT ON audit_event "
	    "WHEN NEW.kind = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); "
	    "END");
	exec_ok(db, "BEGIN");
	assert_int_equal(append(t, 3, 1), 8);
	event_make(&ev, buf, sizeof(buf), 4, 1);
	ev.kind = "boom";
	assert_int_equal(trail_append(t, &ev, &seq, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refused"));
	exec_ok(db, "ROLLBACK");
	trail_rolled_back(t);
	assert_int_equal(trail_last_seq(t), 7);
	exec_ok(db, "BEGIN");
	assert_int_equal(append(t, 3, 1), 8);
	assert_int_equal(trail_checkpoint(t, T0, err, sizeof(err)), 0);
	exec_ok(db, "COMMIT");
	trail_committed(t);

	/* An event without a kind, or too much personal metadata. */
	event_make(&ev, buf, sizeof(buf), 4, 1);
	ev.kind = NULL;
	assert_int_equal(trail_append(t, &ev, &seq, err, sizeof(err)), -1);
	event_make(&ev, buf, sizeof(buf), 4, 1);
	ev.personal_len = AUDIT_SEAL_MAX + 1;
	assert_int_equal(trail_append(t, &ev, &seq, err, sizeof(err)), -1);
	assert_int_equal(trail_last_seq(t), 8);

	assert_int_equal(count(db, "SELECT max(seq) - min(seq) + 1 - count(*) "
	    "FROM audit_event"), 0);
	trail_free(t);
	db_close(db);
	assert_intact("rollback.db");
}

static void
test_reopen(void **state)
{
	struct trail_verify_opts o;
	struct trail_report	 r;
	struct trail		*t;
	sqlite3			*db;
	char			 err[256];

	(void)state;
	db = open_db("reopen.db");
	t = open_trail(db, &keys);
	batch(db, t, 0, 5, 1, 1);
	assert_int_equal(trail_last_seq(t), 8);
	trail_free(t);

	/* Same keys: the chain goes on, no new key events. */
	t = open_trail(db, &keys);
	assert_int_equal(trail_last_seq(t), 8);
	assert_int_equal(trail_unsigned(t), 0);
	batch(db, t, 5, 8, 1, 0);
	assert_int_equal(trail_last_seq(t), 12);	/* a new data key */
	assert_int_equal(count(db, "SELECT count(*) FROM audit_event WHERE "
	    "kind = 'key' AND outcome = 'added'"), 2);
	trail_free(t);
	assert_int_equal(verify_db(db, NULL, &r), 0);

	/* A new signing key: a checkpoint before any event stores it. */
	t = open_trail(db, &keys2);
	assert_int_equal(trail_unsigned(t), 4);
	exec_ok(db, "BEGIN");
	assert_int_equal(trail_checkpoint(t, T0 + 50 * SEC, err,
	    sizeof(err)), 0);
	exec_ok(db, "COMMIT");
	trail_committed(t);
	assert_int_equal(verify_db(db, NULL, &r), 0);
	assert_int_equal(r.last_checkpoint_seq, 12);
	/* Its key event comes with the next append. */
	batch(db, t, 8, 9, 0, 1);
	assert_int_equal(trail_last_seq(t), 14);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_event WHERE "
	    "kind = 'key' AND outcome = 'added' AND "
	    "json_extract(detail, '$.kind') = 'signing'"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_key"), 3);
	trail_free(t);
	assert_int_equal(verify_db(db, NULL, &r), 0);
	assert_int_equal(r.checkpoints, 3);

	/* Pinned to one of the keys, the other's checkpoints fail. */
	memset(&o, 0, sizeof(o));
	o.pinned_pk = sign2_pk;
	assert_int_equal(verify_db(db, &o, &r), 1);
	assert_int_equal(r.bad_seq, 8);
	o.pinned_pk = sign_pk;
	assert_int_equal(verify_db(db, &o, &r), 1);
	assert_int_equal(r.bad_seq, 12);
	db_close(db);
}

/*
 * The tampering base: events 4..35 (1..3 announce the keys and the data
 * key; even seqs carry sealed metadata), checkpoints at 13, 23 (exported)
 * and 33, and an unsigned tail 34..35.
 */
static void
make_base(void)
{
	struct trail	*t;
	sqlite3		*db;
	char		*json, err[256];

	db = open_db("base.db");
	t = open_trail(db, &keys);
	batch(db, t, 0, 10, 1, 1);
	batch(db, t, 10, 20, 1, 1);
	assert_int_equal(trail_latest_checkpoint(db, &exported, exported_pk,
	    err, sizeof(err)), 0);
	assert_int_equal(exported.seq, 23);
	/* Through its JSON form, as the operator keeps it. */
	assert_non_null(json = audit_checkpoint_to_json(&exported,
	    exported_pk));
	assert_int_equal(audit_checkpoint_from_json(json, strlen(json),
	    &exported, exported_pk, err, sizeof(err)), 0);
	free(json);
	batch(db, t, 20, 30, 1, 1);
	batch(db, t, 30, 32, 1, 0);
	assert_int_equal(trail_last_seq(t), 35);
	trail_free(t);
	db_close(db);
}

#define NO_UPD	"DROP TRIGGER audit_event_no_update;"
#define NO_DEL	"DROP TRIGGER audit_event_no_delete;"
#define EV_INS	"INSERT INTO audit_event (seq, utc_us, mono_us, " \
		"clock_synced, kind, detail, hash) VALUES "
#define SWAP(a, b) NO_UPD "CREATE TEMP TABLE s AS SELECT * FROM audit_event " \
	"WHERE seq IN (" #a "," #b "); UPDATE audit_event SET (utc_us, " \
	"mono_us, kind, outcome, reason, http_status, detail, key_id, " \
	"sealed, " \
	"hash) = (SELECT utc_us, mono_us, kind, outcome, reason, " \
	"http_status, detail, key_id, sealed, hash FROM s WHERE s.seq = " \
	#a " + " #b " - audit_event.seq) WHERE seq IN (" #a "," #b ");"

enum { PIN_NONE, PIN_RIGHT, PIN_OTHER };

static const struct tamper {
	const char	*name;
	const char	*sql;
	int		 use_exported;
	int		 pin;
	int		 rc;
	int64_t		 bad_seq;
	const char	*problem;
} tampers[] = {
	{ "intact", "", 0, PIN_NONE, 0, 0, "" },
	{ "intact, exported", "", 1, PIN_NONE, 0, 0, "" },
	{ "intact, pinned", "", 1, PIN_RIGHT, 0, 0, "" },
	{ "edited", NO_UPD "UPDATE audit_event SET outcome = 'refused' "
	    "WHERE seq = 12", 0, PIN_NONE, 1, 12, "hash does not match" },
	{ "edited tail", NO_UPD "UPDATE audit_event SET detail = '{}' "
	    "WHERE seq = 35", 0, PIN_NONE, 1, 35, "hash does not match" },
	{ "edited to NULL", NO_UPD "UPDATE audit_event SET reason = NULL "
	    "WHERE seq = 6", 0, PIN_NONE, 1, 6, "hash does not match" },
	{ "text in an integer column", NO_UPD "UPDATE audit_event SET "
	    "http_status = 'abc' WHERE seq = 7", 0, PIN_NONE, 1, 7,
	    "hash does not match" },
	{ "real in an integer column", NO_UPD "UPDATE audit_event SET "
	    "utc_us = 1.5 WHERE seq = 7", 0, PIN_NONE, 1, 7, "wrong type" },
	{ "short hash", NO_UPD "UPDATE audit_event SET hash = x'0011' "
	    "WHERE seq = 20", 0, PIN_NONE, 1, 20, "hash is damaged" },
	{ "hash as text", NO_UPD "UPDATE audit_event SET hash = "
	    "hex(hash) WHERE seq = 20", 0, PIN_NONE, 1, 20, "damaged" },
	{ "deleted", NO_DEL "DELETE FROM audit_event WHERE seq = 15", 0,
	    PIN_NONE, 1, 15, "events 15..15 missing (deleted)" },
	{ "deleted range", NO_DEL "DELETE FROM audit_event WHERE seq "
	    "BETWEEN 16 AND 18", 0, PIN_NONE, 1, 16, "events 16..18 missing" },
	{ "deleted prefix", NO_DEL "DELETE FROM audit_event WHERE seq <= 3",
	    0, PIN_NONE, 1, 1, "events 1..3 missing (deleted)" },
	{ "deleted prefix, junk retention", NO_DEL "DELETE FROM audit_event "
	    "WHERE seq <= 3;" EV_INS "(36, 1, 1, 1, 'retention', "
	    "'{\"removed_through\":', zeroblob(32)), (37, 1, 1, 1, "
	    "'retention', '[3]', zeroblob(32)), (38, 1, 1, 1, 'retention', "
	    "'{\"removed_through\":3,\"anchor\":\"00\"}', zeroblob(32))", 0,
	    PIN_NONE, 1, 1, "events 1..3 missing" },
	{ "inserted before the first", EV_INS "(0, 1, 1, 1, 'answer', NULL, "
	    "zeroblob(32))", 0, PIN_NONE, 1, 0, "event 0: not a valid seq" },
	{ "inserted at the end", EV_INS "(36, 1, 1, 1, 'answer', NULL, "
	    "zeroblob(32))", 0, PIN_NONE, 1, 36, "hash does not match" },
	{ "inserted with a copied hash", EV_INS "(36, 1, 1, 1, 'answer', "
	    "NULL, (SELECT hash FROM audit_event WHERE seq = 35))", 0,
	    PIN_NONE, 1, 36, "hash does not match" },
	{ "reordered", SWAP(9, 11), 0, PIN_NONE, 1, 9, "hash does not match" },
	{ "reordered, sealed", SWAP(8, 10), 0, PIN_NONE, 1, 8,
	    "sealed metadata belongs to event 10" },
	{ "truncated past the exported checkpoint", NO_DEL
	    "DROP TRIGGER audit_checkpoint_no_delete;"
	    "DELETE FROM audit_event WHERE seq > 20;"
	    "DELETE FROM audit_checkpoint WHERE seq > 20", 1, PIN_NONE, 1, 21,
	    "trail truncated: the signed head is event 35" },
	/* Without the exported checkpoint, the head seal tells. */
	{ "truncated, no exported", NO_DEL
	    "DROP TRIGGER audit_checkpoint_no_delete;"
	    "DELETE FROM audit_event WHERE seq > 20;"
	    "DELETE FROM audit_checkpoint WHERE seq > 20", 0, PIN_NONE, 1, 21,
	    "trail truncated: the signed head is event 35" },
	{ "unsigned tail cut", NO_DEL "DELETE FROM audit_event WHERE seq > 33",
	    0, PIN_NONE, 1, 34, "trail truncated: the signed head is event 35" },
	{ "head seal removed", "DELETE FROM audit_head", 0, PIN_NONE, 1, 35,
	    "no signed head" },
	{ "head seal and tail removed", NO_DEL "DELETE FROM audit_head;"
	    "DELETE FROM audit_event WHERE seq > 33", 0, PIN_NONE, 1, 33,
	    "no signed head" },
	{ "head seal altered", "UPDATE audit_head SET seq = 33", 0, PIN_NONE,
	    1, 35, "the signed head is not signed with the pinned key" },
	{ "every checkpoint deleted", "DROP TRIGGER audit_checkpoint_no_delete;"
	    "DELETE FROM audit_checkpoint", 0, PIN_NONE, 1, 33,
	    "checkpoints removed or added" },
	{ "every checkpoint and the head deleted",
	    "DROP TRIGGER audit_checkpoint_no_delete;"
	    "DELETE FROM audit_checkpoint; DELETE FROM audit_head", 0,
	    PIN_NONE, 1, 35, "no signed head" },
	{ "a checkpoint deleted", "DROP TRIGGER audit_checkpoint_no_delete;"
	    "DELETE FROM audit_checkpoint WHERE seq = 23", 0, PIN_NONE, 1, 33,
	    "checkpoints removed or added" },
	{ "truncated before the exported checkpoint", NO_DEL
	    "DELETE FROM audit_event WHERE seq > 30", 1, PIN_NONE, 1, 31,
	    "trail truncated: checkpoint at 33, last event 30" },
	{ "truncated to nothing", NO_DEL "DELETE FROM audit_event", 0,
	    PIN_NONE, 1, 1, "trail truncated: checkpoint at 13, last event 0" },
	{ "sealed blob moved", NO_UPD "UPDATE audit_event SET sealed = "
	    "(SELECT sealed FROM audit_event WHERE seq = 6) WHERE seq = 8", 0,
	    PIN_NONE, 1, 8, "event 8: sealed metadata belongs to event 6" },
	{ "sealed blob given to a row without", NO_UPD "UPDATE audit_event "
	    "SET sealed = (SELECT sealed FROM audit_event WHERE seq = 6), "
	    "key_id = (SELECT key_id FROM audit_event WHERE seq = 6) "
	    "WHERE seq = 7", 0, PIN_NONE, 1, 7, "belongs to event 6" },
	{ "sealed blob cut", NO_UPD "UPDATE audit_event SET sealed = "
	    "substr(sealed, 1, 5) WHERE seq = 8", 0, PIN_NONE, 1, 8,
	    "sealed metadata is malformed" },
	{ "sealed key id changed", NO_UPD "UPDATE audit_event SET key_id = "
	    "'ffffffffffffffff' WHERE seq = 8", 0, PIN_NONE, 1, 8,
	    "belongs to data key" },
	{ "data key removed", "DROP TRIGGER audit_datakey_no_delete;"
	    "DELETE FROM audit_datakey", 0, PIN_NONE, 1, 4,
	    "not in audit_datakey" },
	{ "checkpoint signature", "DROP TRIGGER audit_checkpoint_no_update;"
	    "UPDATE audit_checkpoint SET sig = zeroblob(64) WHERE seq = 23", 0,
	    PIN_NONE, 1, 23,
	    "checkpoint at 23 is not signed with the pinned key" },
	{ "checkpoint head", "DROP TRIGGER audit_checkpoint_no_update;"
	    "UPDATE audit_checkpoint SET head = zeroblob(32) WHERE seq = 33",
	    0, PIN_NONE, 1, 33, "not signed with the pinned key" },
	{ "checkpoint malformed", "DROP TRIGGER audit_checkpoint_no_update;"
	    "UPDATE audit_checkpoint SET key_id = 'nope' WHERE seq = 13", 0,
	    PIN_NONE, 1, 13, "checkpoint at 13 is malformed" },
	{ "checkpoint forged at the end", "INSERT INTO audit_checkpoint "
	    "SELECT 35, utc_us, head, key_id, sig FROM audit_checkpoint WHERE "
	    "seq = 33", 0, PIN_NONE, 1, 35, "checkpoint at 35 is not signed" },
	/* Keys stored in the file are informative only. */
	{ "signing key removed", "DROP TRIGGER audit_key_no_delete;"
	    "DELETE FROM audit_key WHERE kind = 'signing'", 0, PIN_NONE, 0, 0,
	    "" },
	{ "signing key replaced", "DROP TRIGGER audit_key_no_update;"
	    "UPDATE audit_key SET public_key = zeroblob(32) WHERE "
	    "kind = 'signing'", 0, PIN_NONE, 0, 0, "" },
	{ "pinned to another key", "", 0, PIN_OTHER, 1, 13,
	    "not signed with the pinned key" },
	{ "table dropped", "DROP TABLE audit_checkpoint", 0, PIN_NONE, -1, 0,
	    "no such table" },
	{ "column missing", "DROP VIEW call_chains; DROP VIEW call_ends;"
	    "DROP VIEW call_legs; DROP VIEW join_decisions;"
	    "DROP VIEW recording_status; DROP VIEW answers; DROP VIEW "
	    "invitations; DROP VIEW notifications; DROP VIEW events;"
	    "ALTER TABLE audit_event DROP COLUMN detail", 0, PIN_NONE, -1, 0,
	    "no such column" },
};

static void
test_tamper(void **state)
{
	const struct tamper	*c;
	struct trail_verify_opts o;
	struct trail_report	 r;
	sqlite3			*db;
	char			*msg = NULL;
	size_t			 i;
	int			 rc;

	(void)state;
	make_base();
	for (i = 0; i < NELEM(tampers); i++) {
		c = &tampers[i];
		copy_file("base.db", "x");
		assert_int_equal(sqlite3_open(path_of("x"), &db), SQLITE_OK);
		if (sqlite3_exec(db, c->sql, NULL, NULL, &msg) != SQLITE_OK)
			fail_msg("%s: %s", c->name, msg);
		sqlite3_close(db);

		memset(&o, 0, sizeof(o));
		if (c->use_exported) {
			o.exported = &exported;
			o.exported_pk = exported_pk;
		}
		if (c->pin == PIN_RIGHT)
			o.pinned_pk = sign_pk;
		else if (c->pin == PIN_OTHER)
			o.pinned_pk = sign2_pk;
		rc = verify_file("x", &o, &r);
		if (rc != c->rc || r.bad_seq != c->bad_seq ||
		    strstr(r.problem, c->problem) == NULL ||
		    (c->rc == 0 && r.problem[0] != '\0'))
			fail_msg("%s: rc %d, bad %lld, \"%s\"", c->name, rc,
			    (long long)r.bad_seq, r.problem);
		if (rc == 0 && c->sql[0] == '\0') {
			assert_int_equal(r.events, 35);
			assert_int_equal(r.checkpoints, 3);
			assert_int_equal(r.last_checkpoint_seq, 33);
		}
	}
}

/* Whoever holds the host may delete a prefix and account for it with
 * a retention event of their own; a checkpoint must sign it. */
static void
test_forged_retention(void **state)
{
	struct trail_event	 ev;
	struct trail_verify_opts o;
	struct trail_report	 r;
	struct trail		*t;
	sqlite3			*db;
	char			 detail[256], anchor[65], buf[64], err[256];
	char			*p;
	sqlite3_stmt		*st;

	(void)state;
	copy_file("base.db", "forged.db");
	db = open_db("forged.db");
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT hex(hash) FROM "
	    "audit_event WHERE seq = 10", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(anchor, sizeof(anchor), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	for (p = anchor; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'F')
			*p += 'a' - 'A';
	exec_ok(db, NO_DEL "DELETE FROM audit_event WHERE seq <= 10");
	t = open_trail(db, &keys);
	event_make(&ev, buf, sizeof(buf), 40, 0);
	snprintf(detail, sizeof(detail), "{\"removed_from\":1,"
	    "\"removed_through\":10,\"count\":10,\"anchor\":\"%s\"}", anchor);
	ev.kind = "retention";
	ev.detail = detail;
	assert_int_equal(trail_append(t, &ev, NULL, err, sizeof(err)), 0);
	trail_committed(t);
	trail_free(t);
	db_close(db);

	memset(&o, 0, sizeof(o));
	assert_int_equal(verify_file("forged.db", &o, &r), 1);
	assert_int_equal(r.bad_seq, 36);
	assert_non_null(strstr(r.problem, "added after the signed head"));
}

static void
test_prune(void **state)
{
	struct audit_checkpoint	 cp12, cp22, cp23;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES];
	struct trail_verify_opts o;
	struct trail_event	 base;
	struct trail_report	 r;
	struct trail		*t;
	sqlite3			*db;
	char			 buf[64], err[256];
	int64_t			 removed;

	(void)state;
	db = open_db("prune.db");
	t = open_trail(db, &keys);
	event_make(&base, buf, sizeof(buf), 100, 0);
	exec_ok(db, "BEGIN");
	assert_int_equal(trail_prune(t, T0, &base, &removed, err,
	    sizeof(err)), 0);
	assert_int_equal(removed, 0);
	exec_ok(db, "COMMIT");
	/* Event i at T0 + i s is seq i + 3. */
	batch(db, t, 0, 10, 0, 1);
	assert_int_equal(trail_latest_checkpoint(db, &cp12, pk, err,
	    sizeof(err)), 0);
	assert_int_equal(cp12.seq, 12);
	batch(db, t, 10, 20, 0, 1);
	assert_int_equal(trail_latest_checkpoint(db, &cp22, pk, err,
	    sizeof(err)), 0);
	assert_int_equal(cp22.seq, 22);

	exec_ok(db, "BEGIN");
	assert_int_equal(trail_prune(t, T0 + 15 * SEC, &base, &removed, err,
	    sizeof(err)), 0);
	exec_ok(db, "COMMIT");
	trail_committed(t);
	assert_int_equal(removed, 17);
	assert_int_equal(trail_last_seq(t), 23);
	assert_int_equal(trail_unsigned(t), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM "
	    "audit_retention_permit"), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_event WHERE "
	    "seq = 23 AND kind = 'retention' AND outcome = 'removed' AND "
	    "json_extract(detail, '$.removed_from') = 1 AND "
	    "json_extract(detail, '$.removed_through') = 17 AND "
	    "json_extract(detail, '$.count') = 17 AND "
	    "json_extract(detail, '$.before_utc_us') = " "1763892015000000 "
	    "AND length(json_extract(detail, '$.anchor')) = 64 AND "
	    "utc_us = 1763892100000000 AND call_id IS NULL"), 1);
	assert_int_equal(count(db, "SELECT max(seq) FROM audit_checkpoint"),
	    23);

	memset(&o, 0, sizeof(o));
	assert_int_equal(verify_db(db, &o, &r), 0);
	assert_int_equal(r.first_seq, 18);
	assert_int_equal(r.last_seq, 23);
	assert_int_equal(r.events, 6);
	assert_int_equal(r.checkpoints, 3);
	o.exported = &cp22;
	o.exported_pk = pk;
	assert_int_equal(verify_db(db, &o, &r), 0);
	/* A checkpoint file that is not what it says. */
	o.exported_pk = sign2_pk;
	assert_int_equal(verify_db(db, &o, &r), -1);
	assert_non_null(strstr(r.problem, "does not verify"));
	o.exported_pk = pk;
	o.pinned_pk = sign2_pk;
	assert_int_equal(verify_db(db, &o, &r), -1);
	assert_non_null(strstr(r.problem, "another key"));
	o.pinned_pk = NULL;
	/* Its event is gone: it cannot vouch for anything now. */
	o.exported = &cp12;
	assert_int_equal(verify_db(db, &o, &r), 1);
	assert_non_null(strstr(r.problem, "removed by retention"));
	assert_int_equal(r.bad_seq, 12);

	/* Everything old: only the newest stays. */
	assert_int_equal(trail_latest_checkpoint(db, &cp23, pk, err,
	    sizeof(err)), 0);
	exec_ok(db, "BEGIN");
	assert_int_equal(trail_prune(t, T0 + 1000 * SEC, &base, &removed,
	    err, sizeof(err)), 0);
	exec_ok(db, "COMMIT");
	trail_committed(t);
	assert_int_equal(removed, 5);
	assert_int_equal(count(db, "SELECT min(seq) FROM audit_event"), 23);
	o.exported = &cp23;
	assert_int_equal(verify_db(db, &o, &r), 0);
	assert_int_equal(r.first_seq, 23);
	assert_int_equal(r.events, 2);
	/* The one just before the remaining events: the anchor's. */
	o.exported = &cp22;
	assert_int_equal(verify_db(db, &o, &r), 0);

	/* Retention events grow old too, and go the same way. */
	exec_ok(db, "BEGIN");
	assert_int_equal(trail_prune(t, T0 + 1000 * SEC, &base, &removed,
	    err, sizeof(err)), 0);
	assert_int_equal(removed, 1);	/* the first retention event */
	assert_int_equal(trail_prune(t, T0 + 1000 * SEC, &base, &removed,
	    err, sizeof(err)), 0);
	assert_int_equal(removed, 1);
	exec_ok(db, "ROLLBACK");
	trail_rolled_back(t);
	assert_int_equal(trail_last_seq(t), 24);
	assert_int_equal(trail_prune(t, T0, &base, &removed, err,
	    sizeof(err)), 0);
	assert_int_equal(removed, 0);

	/* And the writer goes on from there. */
	batch(db, t, 200, 202, 1, 1);
	assert_int_equal(trail_last_seq(t), 27);
	trail_free(t);
	db_close(db);
	assert_intact("prune.db");
}

/* Export into memory; returns the lines as parsed objects. */
static int
export_lines(sqlite3 *db, const struct trail_filter *f, cJSON *lines[],
    int max)
{
	FILE	*out;
	char	*buf = NULL, *line, *save = NULL, err[256];
	size_t	 len = 0;
	int	 n = 0;

	assert_non_null(out = open_memstream(&buf, &len));
	if (trail_export(db, f, out, err, sizeof(err)) == -1)
		fail_msg("trail_export: %s", err);
	fclose(out);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_true(n < max);
		assert_non_null(lines[n] = cJSON_Parse(line));
		n++;
	}
	free(buf);
	return n;
}

static void
free_lines(cJSON *lines[], int n)
{
	while (n-- > 0)
		cJSON_Delete(lines[n]);
}

static const char *
str(const cJSON *o, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
test_export(void **state)
{
	struct trail_filter	 f;
	struct trail		*t;
	const cJSON		*p, *v;
	cJSON			*lines[64];
	sqlite3			*db;
	unsigned char		 bin[256];
	size_t			 binlen;
	char			 want[32];
	int			 i, n, nsealed;

	(void)state;
	db = open_db("export.db");
	t = open_trail(db, &keys);
	batch(db, t, 0, 10, 1, 1);
	trail_free(t);
	db_close(db);
	db = open_ro("export.db");

	memset(&f, 0, sizeof(f));
	n = export_lines(db, &f, lines, 64);
	assert_int_equal(n, 13);
	for (i = 0, nsealed = 0; i < n; i++) {
		v = cJSON_GetObjectItemCaseSensitive(lines[i], "seq");
		assert_true(cJSON_IsNumber(v));
		assert_int_equal(v->valueint, i + 1);
		assert_non_null(str(lines[i], "kind"));
		assert_int_equal(strlen(str(lines[i], "hash")), 64);
		assert_non_null(cJSON_GetObjectItemCaseSensitive(lines[i],
		    "paired_recorders"));
		assert_null(cJSON_GetObjectItemCaseSensitive(lines[i],
		    "personal"));
		if (str(lines[i], "sealed") != NULL) {
			nsealed++;
			assert_int_equal(sodium_base642bin(bin, sizeof(bin),
			    str(lines[i], "sealed"),
			    strlen(str(lines[i], "sealed")), NULL, &binlen,
			    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
			assert_int_equal(bin[0], 1);
		} else
			assert_true(cJSON_IsNull(cJSON_GetObjectItem(lines[i],
			    "sealed")));
	}
	assert_int_equal(nsealed, 5);
	/* Event 0 (seq 4): all its columns. */
	assert_string_equal(str(lines[3], "utc"),
	    "2025-11-23T10:00:00.000000Z");
	assert_int_equal(cJSON_GetObjectItem(lines[3], "utc_us")->valuedouble,
	    (double)T0);
	assert_int_equal(cJSON_GetObjectItem(lines[3], "http_status")->valueint,
	    202);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(lines[3],
	    "clock_esterror_us")));
	assert_string_equal(str(lines[3], "detail"), "{\"n\":0}");
	assert_string_equal(str(lines[3], "call_id"), "call-a");
	assert_non_null(str(lines[3], "key_id"));
	free_lines(lines, n);

	f.call_id = "call-b";
	n = export_lines(db, &f, lines, 64);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++)
		assert_string_equal(str(lines[i], "call_id"), "call-b");
	free_lines(lines, n);

	f.call_id = NULL;
	f.since_utc_us = T0 + 3 * SEC;
	f.until_utc_us = T0 + 6 * SEC;
	n = export_lines(db, &f, lines, 64);
	assert_int_equal(n, 3);
	assert_int_equal(cJSON_GetObjectItem(lines[0], "seq")->valueint, 7);
	assert_string_equal(str(lines[2], "utc"),
	    "2025-11-23T10:00:05.000000Z");
	free_lines(lines, n);

	f.call_id = "call-a";
	f.until_utc_us = 0;
	n = export_lines(db, &f, lines, 64);
	assert_int_equal(n, 3);	/* events 4, 6 and 8 */
	free_lines(lines, n);
	f.call_id = "nobody";
	assert_int_equal(export_lines(db, &f, lines, 64), 0);

	/* With the auditor's key the metadata opens. */
	memset(&f, 0, sizeof(f));
	f.auditor_sk = auditor_sk;
	n = export_lines(db, &f, lines, 64);
	assert_int_equal(n, 13);
	for (i = 0, nsealed = 0; i < n; i++) {
		assert_null(str(lines[i], "sealed"));
		assert_null(str(lines[i], "personal_error"));
		if ((p = cJSON_GetObjectItem(lines[i], "personal")) == NULL)
			continue;
		nsealed++;
		assert_true(cJSON_IsObject(p));
		snprintf(want, sizeof(want), "alice-%d", i - 3);
		assert_string_equal(str(p, "caller"), want);
	}
	assert_int_equal(nsealed, 5);
	free_lines(lines, n);

	/* With another key it does not. */
	f.auditor_sk = other_sk;
	n = export_lines(db, &f, lines, 64);
	for (i = 0, nsealed = 0; i < n; i++) {
		assert_null(cJSON_GetObjectItem(lines[i], "personal"));
		if (str(lines[i], "personal_error") != NULL) {
			assert_string_equal(str(lines[i], "personal_error"),
			    "does not open");
			nsealed++;
		}
	}
	assert_int_equal(nsealed, 5);
	free_lines(lines, n);
	db_close(db);

	/* A data key gone, a payload moved: errors, not crashes. */
	copy_file("export.db", "x");
	db = open_db("x");
	exec_ok(db, NO_UPD "DROP TRIGGER audit_datakey_no_delete;"
	    "UPDATE audit_event SET sealed = (SELECT sealed FROM audit_event "
	    "WHERE seq = 4) WHERE seq = 6;"
	    "UPDATE audit_event SET key_id = 'short' WHERE seq = 8;"
	    "UPDATE audit_event SET key_id = NULL WHERE seq = 10;"
	    "UPDATE audit_event SET sealed = x'00' WHERE seq = 12;");
	f.auditor_sk = auditor_sk;
	n = export_lines(db, &f, lines, 64);
	assert_int_equal(n, 13);
	assert_non_null(cJSON_GetObjectItem(lines[3], "personal"));
	assert_string_equal(str(lines[5], "personal_error"), "does not open");
	assert_string_equal(str(lines[7], "personal_error"), "no data key");
	assert_string_equal(str(lines[9], "personal_error"), "no data key");
	assert_string_equal(str(lines[11], "personal_error"), "does not open");
	free_lines(lines, n);
	exec_ok(db, "DELETE FROM audit_datakey");
	n = export_lines(db, &f, lines, 64);
	assert_string_equal(str(lines[3], "personal_error"), "no data key");
	free_lines(lines, n);
	db_close(db);
}

static void
test_latest_checkpoint(void **state)
{
	struct audit_checkpoint	 cp;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES];
	struct trail		*t;
	sqlite3			*db;
	char			 err[256];

	(void)state;
	db = open_db("latest.db");
	assert_int_equal(trail_latest_checkpoint(db, &cp, pk, err,
	    sizeof(err)), 1);
	t = open_trail(db, &keys);
	batch(db, t, 0, 3, 0, 1);
	batch(db, t, 3, 5, 0, 1);
	assert_int_equal(trail_latest_checkpoint(db, &cp, pk, err,
	    sizeof(err)), 0);
	assert_int_equal(cp.seq, 7);
	assert_int_equal(cp.utc_us, T0 + 5 * SEC);
	assert_memory_equal(pk, sign_pk, sizeof(pk));
	assert_int_equal(audit_checkpoint_verify(&cp, pk), 0);
	trail_free(t);
	db_close(db);

	copy_file("latest.db", "x");
	db = open_db("x");
	exec_ok(db, "DROP TRIGGER audit_checkpoint_no_update;"
	    "UPDATE audit_checkpoint SET utc_us = 1 WHERE seq = 7");
	assert_int_equal(trail_latest_checkpoint(db, &cp, pk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "does not verify"));
	exec_ok(db, "UPDATE audit_checkpoint SET sig = 'x' WHERE seq = 7");
	assert_int_equal(trail_latest_checkpoint(db, &cp, pk, err,
	    sizeof(err)), -1);
	db_close(db);
}

/* Re-chain events from..last of an open database, as an attacker with
 * the file but not the key would after editing them. */
static void
rechain(sqlite3 *db, int64_t from)
{
	struct audit_value	 cols[AUDIT_NCOLUMNS];
	unsigned char		 prev[AUDIT_HASHBYTES], hash[AUDIT_HASHBYTES];
	sqlite3_stmt		*st, *up;
	int			 i;

	exec_ok(db, "DROP TRIGGER IF EXISTS audit_event_no_update");
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT hash FROM audit_event "
	    "WHERE seq = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, from - 1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	memcpy(prev, sqlite3_column_blob(st, 0), sizeof(prev));
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT " TRAIL_EVENT_COLUMNS
	    " FROM audit_event WHERE seq >= ? ORDER BY seq", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE audit_event SET "
	    "hash = ? WHERE seq = ?", -1, &up, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, from);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < AUDIT_NCOLUMNS; i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				trail_val_int(&cols[i],
				    sqlite3_column_int64(st, i));
				break;
			case SQLITE_NULL:
				trail_val_null(&cols[i]);
				break;
			default:
				trail_val_bytes(&cols[i],
				    sqlite3_column_type(st, i) == SQLITE_TEXT ?
				    AUDIT_TEXT : AUDIT_BLOB,
				    sqlite3_column_blob(st, i),
				    (size_t)sqlite3_column_bytes(st, i));
			}
		}
		assert_int_equal(audit_chain_hash(prev, cols, hash), 0);
		sqlite3_bind_blob(up, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 2, sqlite3_column_int64(st, 0));
		assert_int_equal(sqlite3_step(up), SQLITE_DONE);
		sqlite3_reset(up);
		memcpy(prev, hash, sizeof(prev));
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
}

static int
check_tail(sqlite3 *db, int seal_required, struct trail_tail_check *c)
{
	return trail_check_tail(db, sign_pk, 1000, seal_required, c);
}

/*
 * polrecd's start-up check: from its own last checkpoint to the head,
 * and the head seal; it says where the chain can safely go on.
 */
static void
test_check_tail(void **state)
{
	struct trail_tail_check	 c;
	struct trail		*t;
	sqlite3			*db;
	char			 other[AUDIT_KEYID_LEN + 1];
	char			 own[AUDIT_KEYID_LEN + 1];

	(void)state;
	copy_file("base.db", "x");
	db = open_db("x");
	assert_int_equal(check_tail(db, 1, &c), 0);
	assert_int_equal(c.anchor_seq, 33);
	assert_int_equal(c.walked, 2);
	assert_int_equal(c.last_seq, 35);

	/* The unsigned tail cut off after a crash: the seal tells; the
	 * chain is sound, so it goes on from the last event. */
	exec_ok(db, NO_DEL "DELETE FROM audit_event WHERE seq > 34");
	assert_int_equal(check_tail(db, 1, &c), 1);
	assert_non_null(strstr(c.problem, "trail truncated: the signed head"));
	assert_int_equal(c.bad_seq, 35);
	assert_int_equal(c.anchor_seq, 34);
	/* Opening is not refused: the daemon decides. */
	assert_non_null(t = open_trail(db, &keys));
	trail_free(t);
	db_close(db);

	/* Edited and re-chained after the last checkpoint: the seal. */
	copy_file("base.db", "x");
	db = open_db("x");
	exec_ok(db, NO_UPD "UPDATE audit_event SET outcome = 'forbidden' "
	    "WHERE seq = 34");
	rechain(db, 34);
	assert_int_equal(check_tail(db, 1, &c), 1);
	assert_non_null(strstr(c.problem, "does not match the signed head"));
	assert_int_equal(c.anchor_seq, 33);
	db_close(db);

	/* Edited and re-chained before it: the checkpoint's head. */
	copy_file("base.db", "x");
	db = open_db("x");
	exec_ok(db, NO_UPD "UPDATE audit_event SET outcome = 'forbidden' "
	    "WHERE seq = 20");
	rechain(db, 20);
	assert_int_equal(check_tail(db, 1, &c), 1);
	assert_int_equal(c.bad_seq, 34);
	assert_int_equal(c.anchor_seq, 33);
	db_close(db);

	/* The head seal gone: required, it is a problem; just migrated
	 * from a schema without it, it is not. */
	copy_file("base.db", "x");
	db = open_db("x");
	exec_ok(db, "DELETE FROM audit_head");
	assert_int_equal(check_tail(db, 1, &c), 1);
	assert_non_null(strstr(c.problem, "no signed head"));
	assert_int_equal(check_tail(db, 0, &c), 0);

	/* A damaged hash in the tail. */
	exec_ok(db, NO_UPD "UPDATE audit_event SET hash = 'x' WHERE seq = 35");
	assert_int_equal(check_tail(db, 0, &c), 1);
	assert_int_equal(c.bad_seq, 35);
	assert_non_null(strstr(c.problem, "damaged"));
	db_close(db);

	/* Checkpoints of another key only: nothing of ours to start from,
	 * and, at start-up, another appliance's trail. */
	copy_file("base.db", "x");
	db = open_db("x");
	assert_int_equal(trail_check_tail(db, sign2_pk, 1000, 0, &c), 1);
	assert_int_equal(c.anchor_seq, 0);
	assert_int_equal(trail_signed_with(db, sign_pk, other, err_buf,
	    sizeof(err_buf)), 1);
	assert_int_equal(trail_signed_with(db, sign2_pk, other, err_buf,
	    sizeof(err_buf)), 0);
	audit_key_id(sign_pk, sizeof(sign_pk), own);
	assert_string_equal(other, own);
	/* Bounded: too far from our last checkpoint is a problem too. */
	assert_int_equal(trail_check_tail(db, sign_pk, 1, 1, &c), 1);
	assert_non_null(strstr(c.problem, "in the last 2 events"));
	db_close(db);

	assert_int_equal(sqlite3_open(path_of("empty.db"), &db), SQLITE_OK);
	assert_null(t = trail_open(db, &keys, err_buf, sizeof(err_buf)));
	assert_non_null(strstr(err_buf, "no such table"));
	sqlite3_close(db);
}

static void
test_garbage(void **state)
{
	struct trail_report	 r;
	struct audit_checkpoint	 cp;
	struct trail_filter	 f;
	unsigned char		 junk[8192], pk[AUDIT_SIGN_PUBBYTES];
	sqlite3			*db;
	FILE			*fp;
	char			 err[256];

	(void)state;
	randombytes_buf(junk, sizeof(junk));
	memcpy(junk, "this is not a database", 22);
	assert_non_null(fp = fopen(path_of("garbage.db"), "wb"));
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	fclose(fp);
	assert_int_equal(db_open_readonly(path_of("garbage.db"), 1, &db, err,
	    sizeof(err)), -1);

	assert_int_equal(sqlite3_open_v2(path_of("garbage.db"), &db,
	    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	/* Nothing is trusted without a pinned key. */
	assert_int_equal(trail_verify(db, NULL, &r), -1);
	assert_non_null(strstr(r.problem, "no signing key is pinned"));
	assert_int_equal(verify_db(db, NULL, &r), -1);
	assert_true(r.problem[0] != '\0');
	memset(&f, 0, sizeof(f));
	assert_int_equal(trail_export(db, &f, stdout, err, sizeof(err)), -1);
	assert_int_equal(trail_latest_checkpoint(db, &cp, pk, err,
	    sizeof(err)), -1);
	sqlite3_close(db);

	/* A database without the tables, and one with other columns. */
	assert_int_equal(sqlite3_open(path_of("other.db"), &db), SQLITE_OK);
	assert_int_equal(verify_db(db, NULL, &r), -1);
	assert_non_null(strstr(r.problem, "no such table"));
	exec_ok(db, "CREATE TABLE audit_event (seq INTEGER PRIMARY KEY, x);"
	    "CREATE TABLE audit_checkpoint (seq INTEGER PRIMARY KEY, y)");
	assert_int_equal(verify_db(db, NULL, &r), -1);
	assert_non_null(strstr(r.problem, "no such"));
	assert_int_equal(trail_export(db, &f, stdout, err, sizeof(err)), -1);
	sqlite3_close(db);
}

static void
test_parse_time(void **state)
{
	static const struct {
		const char	*s;
		int		 rc;
		int64_t		 us;
	} cases[] = {
		{ "2026-11-23T10:00:00Z", 0, 1795428000LL * SEC },
		{ "2026-11-23T10:00:00.5Z", 0, 1795428000LL * SEC + 500000 },
		{ "2026-11-23T10:00:00.000001Z", 0, 1795428000LL * SEC + 1 },
		{ "2026-11-23T10:00:00.123456Z", 0,
		    1795428000LL * SEC + 123456 },
		{ "2026-11-23", 0, 1795392000LL * SEC },
		{ "2024-02-29", 0, 1709164800LL * SEC },
		{ "1970-01-01", 0, 0 },
		{ "1795428000", 0, 1795428000LL * SEC },
		{ "0", 0, 0 },
		{ "", -1, 0 },
		{ "2026-11-23T10:00:00", -1, 0 },
		{ "2026-11-23T10:00:00Zjunk", -1, 0 },
		{ "2026-11-23T10:00Z", -1, 0 },
		{ "2026-11-23T", -1, 0 },
		{ "2026-11-23 ", -1, 0 },
		{ "2026-11-23x", -1, 0 },
		{ "2026-13-01", -1, 0 },
		{ "2026-00-01", -1, 0 },
		{ "2026-02-29", -1, 0 },
		{ "2026-04-31", -1, 0 },
		{ "2026-11-23T24:00:00Z", -1, 0 },
		{ "2026-11-23T10:60:00Z", -1, 0 },
		{ "2026-11-23T10:00:60Z", -1, 0 },
		{ "2026-11-23T10:00:00.Z", -1, 0 },
		{ "2026-11-23T10:00:00.1234567Z", -1, 0 },
		{ "2026-11-23T10:00:00+01:00", -1, 0 },
		{ "26-11-23", -1, 0 },
		{ "2026-1-23", -1, 0 },
		{ "+2026-11-23", -1, 0 },
		{ "-5", -1, 0 },
		{ "12abc", -1, 0 },
		{ " 12", -1, 0 },
		{ "99999999999999999999", -1, 0 },
		{ "253402300800", -1, 0 },
	};
	int64_t	 us;
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		if (trail_parse_time(cases[i].s, &us) != cases[i].rc ||
		    (cases[i].rc == 0 && us != cases[i].us))
			fail_msg("\"%s\": expected %d %lld, got %lld",
			    cases[i].s, cases[i].rc, (long long)cases[i].us,
			    (long long)us);
	}
	assert_int_equal(trail_parse_time(NULL, &us), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_verify),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_forged_retention),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_latest_checkpoint),
		cmocka_unit_test(test_check_tail),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests_name("trail", tests, setup, teardown);
}
