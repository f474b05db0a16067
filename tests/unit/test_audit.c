/* Unit tests for the audit record format (lib/audit.c) and polrec_unseal. */
#include <sys/stat.h>

#include <fcntl.h>
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
#include "keyfile.h"

/*
 * The extension itself, built in: with SQLITE_CORE its API calls are
 * plain sqlite3_* calls, so it runs here under the sanitizers too.
 */
#define SQLITE_CORE	1
#include "../../ext/polrec_unseal.c"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define DKID		"0123456789abcdef"
#define DKID2		"fedcba9876543210"

/* Set by main: the directory of this program, to find polrec_unseal.so. */
static char	 progdir[PATH_MAX];

/*
 * A row's columns.  Text and blob values point into static strings so a
 * row can be copied by value.
 */
static void
base_row(struct audit_value c[AUDIT_NCOLUMNS])
{
	static const unsigned char	 sealed[] = { 0x00, 0xff, 0x10 };
	size_t				 i;

	for (i = 0; i < AUDIT_NCOLUMNS; i++)
		c[i] = (struct audit_value){ AUDIT_NULL, 0, NULL, 0 };
	c[AC_SEQ] = (struct audit_value){ AUDIT_INT, 1, NULL, 0 };
	c[AC_UTC_US] = (struct audit_value){ AUDIT_INT, 1700000000123456LL,
	    NULL, 0 };
	c[AC_MONO_US] = (struct audit_value){ AUDIT_INT, -2, NULL, 0 };
	c[AC_CLOCK_SYNCED] = (struct audit_value){ AUDIT_INT, 1, NULL, 0 };
	c[AC_CLOCK_ESTERROR_US] = (struct audit_value){ AUDIT_INT, 0, NULL, 0 };
	c[AC_KIND] = (struct audit_value){ AUDIT_TEXT, 0, "invitation", 10 };
	c[AC_OUTCOME] = (struct audit_value){ AUDIT_TEXT, 0, "", 0 };
	c[AC_CALL_ID] = (struct audit_value){ AUDIT_TEXT, 0, "c1", 2 };
	c[AC_OTHER] = (struct audit_value){ AUDIT_BLOB, 0, NULL, 0 };
	c[AC_HTTP_STATUS] = (struct audit_value){ AUDIT_INT, 202, NULL, 0 };
	c[AC_ATTEMPTS] = (struct audit_value){ AUDIT_INT, 3, NULL, 0 };
	c[AC_DETAIL] = (struct audit_value){ AUDIT_TEXT, 0, "{}", 2 };
	c[AC_KEY_ID] = (struct audit_value){ AUDIT_TEXT, 0, DKID, 16 };
	c[AC_SEALED] = (struct audit_value){ AUDIT_BLOB, 0, sealed,
	    sizeof(sealed) };
}

/*
 * base_row with prev = 00 01 .. 1f, encoded by hand from audit.h's
 * construction; its BLAKE2b-256 was computed with Python's hashlib.
 */
static const unsigned char kat_bytes[] = {
	'p', 'o', 'l', 'r', 'e', 'c', '-', 'a', 'u', 'd', 'i', 't', '-',
	'v', '1', 0,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	/* seq 1 */
	1, 0, 0, 0, 0, 0, 0, 0, 1,
	/* utc_us 1700000000123456 */
	1, 0x00, 0x06, 0x0a, 0x24, 0x18, 0x20, 0x22, 0x40,
	/* mono_us -2 */
	1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
	/* clock_synced 1, clock_maxerror_us NULL, clock_esterror_us 0 */
	1, 0, 0, 0, 0, 0, 0, 0, 1,
	0,
	1, 0, 0, 0, 0, 0, 0, 0, 0,
	/* kind "invitation", outcome "", reason NULL, call_id "c1" */
	2, 0, 0, 0, 10, 'i', 'n', 'v', 'i', 't', 'a', 't', 'i', 'o', 'n',
	2, 0, 0, 0, 0,
	0,
	2, 0, 0, 0, 2, 'c', '1',
	/* chain_id, tenant, policy, paired_recorders NULL */
	0, 0, 0, 0,
	/* other_recorders: an empty blob; msg_id NULL */
	3, 0, 0, 0, 0,
	0,
	/* http_status 202 */
	1, 0, 0, 0, 0, 0, 0, 0, 0xca,
	/* graph_code, request_id, latency_us NULL; attempts 3 */
	0, 0, 0,
	1, 0, 0, 0, 0, 0, 0, 0, 3,
	/* detail "{}", key_id, sealed 00 ff 10 */
	2, 0, 0, 0, 2, '{', '}',
	2, 0, 0, 0, 16, '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
	'a', 'b', 'c', 'd', 'e', 'f',
	3, 0, 0, 0, 3, 0x00, 0xff, 0x10,
};
#define KAT_HASH \
	"04ede4cd0079fd22f1a9d60fd6928354e16f90fcf7ae54477b7a92ea0800d5df"
/* All columns NULL after 32 zero bytes. */
#define KAT_NULL_HASH \
	"92ce62f396362cc6bd285e9174c74c0f41633d7be986a714bb165693d633c9e3"
/* The key id of 00 01 .. 1f. */
#define KAT_KEY_ID	"cb2f5160fc1f7e05"

static void
hexof(const unsigned char *b, size_t len, char *out, size_t outlen)
{
	sodium_bin2hex(out, outlen, b, len);
}

static void
test_column_names(void **state)
{
	static const char *const want[] = {
		"seq", "utc_us", "mono_us", "clock_synced",
		"clock_maxerror_us", "clock_esterror_us", "kind", "outcome",
		"reason", "call_id", "chain_id", "tenant", "policy",
		"paired_recorders", "other_recorders", "msg_id",
		"http_status", "graph_code", "request_id", "latency_us",
		"attempts", "detail", "key_id", "sealed",
	};
	sqlite3		*db;
	sqlite3_stmt	*stmt;
	FILE		*f;
	char		*sql;
	long		 n;
	size_t		 i;

	(void)state;
	assert_int_equal(NELEM(want), AUDIT_NCOLUMNS);
	for (i = 0; i < AUDIT_NCOLUMNS; i++)
		assert_string_equal(audit_column_names[i], want[i]);

	/* And the schema agrees, column for column (from the repo root). */
	if ((f = fopen("schema/002_audit.sql", "r")) == NULL)
		skip();
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	sql = calloc(1, n + 1);
	assert_non_null(sql);
	assert_int_equal(fread(sql, 1, n, f), (size_t)n);
	fclose(f);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	assert_int_equal(sqlite3_prepare_v2(db,
	    "SELECT name FROM pragma_table_info('audit_event') ORDER BY cid",
	    -1, &stmt, NULL), SQLITE_OK);
	for (i = 0; i < AUDIT_NCOLUMNS; i++) {
		assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(stmt,
		    0), audit_column_names[i]);
	}
	/* hash itself, last and not hashed. */
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0),
	    "hash");
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static void
test_chain_known_answer(void **state)
{
	struct audit_value	 c[AUDIT_NCOLUMNS];
	unsigned char		 prev[AUDIT_HASHBYTES], h[AUDIT_HASHBYTES];
	unsigned char		 h2[AUDIT_HASHBYTES];
	char			 hex[2 * AUDIT_HASHBYTES + 1];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(prev); i++)
		prev[i] = (unsigned char)i;
	base_row(c);
	assert_int_equal(audit_chain_hash(prev, c, h), 0);
	crypto_generichash(h2, sizeof(h2), kat_bytes, sizeof(kat_bytes),
	    NULL, 0);
	assert_memory_equal(h, h2, sizeof(h));
	hexof(h, sizeof(h), hex, sizeof(hex));
	assert_string_equal(hex, KAT_HASH);

	for (i = 0; i < AUDIT_NCOLUMNS; i++)
		c[i] = (struct audit_value){ AUDIT_NULL, 0, NULL, 0 };
	memset(prev, 0, sizeof(prev));
	assert_int_equal(audit_chain_hash(prev, c, h), 0);
	hexof(h, sizeof(h), hex, sizeof(hex));
	assert_string_equal(hex, KAT_NULL_HASH);
	/* NULL prev: the zeros before the first event. */
	assert_int_equal(audit_chain_hash(NULL, c, h2), 0);
	assert_memory_equal(h, h2, sizeof(h));
}

static void
test_chain_deterministic(void **state)
{
	struct audit_value	 c[AUDIT_NCOLUMNS], d[AUDIT_NCOLUMNS];
	unsigned char		 prev[AUDIT_HASHBYTES] = { 0 };
	unsigned char		 h1[AUDIT_HASHBYTES], h2[AUDIT_HASHBYTES];
	char			 text[] = "invitation";

	(void)state;
	base_row(c);
	assert_int_equal(audit_chain_hash(prev, c, h1), 0);
	assert_int_equal(audit_chain_hash(prev, c, h2), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
	/* The same bytes elsewhere in memory; ignored fields don't count. */
	memcpy(d, c, sizeof(d));
	d[AC_KIND].p = text;
	d[AC_KIND].i = 99;
	d[AC_SEQ].p = text;
	d[AC_SEQ].len = 5;
	d[AC_REASON].i = 7;
	assert_int_equal(audit_chain_hash(prev, d, h2), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
}

static int
same_value(const struct audit_value *a, const struct audit_value *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case AUDIT_NULL:
		return 1;
	case AUDIT_INT:
		return a->i == b->i;
	default:
		return a->len == b->len &&
		    (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
	}
}

/* Every column, changed in value or type, changes the hash. */
static void
test_chain_each_column(void **state)
{
	static const struct audit_value	 alts[] = {
		{ AUDIT_NULL, 0, NULL, 0 },
		{ AUDIT_INT, 0, NULL, 0 },
		{ AUDIT_INT, 1, NULL, 0 },
		{ AUDIT_INT, -1, NULL, 0 },
		{ AUDIT_INT, INT64_MAX, NULL, 0 },
		{ AUDIT_INT, INT64_MIN, NULL, 0 },
		{ AUDIT_TEXT, 0, "", 0 },
		{ AUDIT_TEXT, 0, "x", 1 },
		{ AUDIT_TEXT, 0, "\0", 1 },
		{ AUDIT_BLOB, 0, NULL, 0 },
		{ AUDIT_BLOB, 0, "x", 1 },
		{ AUDIT_BLOB, 0, "\0", 1 },
	};
	struct audit_value	 base[AUDIT_NCOLUMNS], c[AUDIT_NCOLUMNS];
	unsigned char		 prev[AUDIT_HASHBYTES] = { 0 };
	unsigned char		 h0[AUDIT_HASHBYTES], h[AUDIT_HASHBYTES];
	unsigned char		 seen[AUDIT_NCOLUMNS * NELEM(alts) + 1]
				    [AUDIT_HASHBYTES];
	size_t			 i, j, k, n = 0;

	(void)state;
	base_row(base);
	assert_int_equal(audit_chain_hash(prev, base, h0), 0);
	memcpy(seen[n++], h0, sizeof(h0));
	for (i = 0; i < AUDIT_NCOLUMNS; i++) {
		for (j = 0; j < NELEM(alts); j++) {
			memcpy(c, base, sizeof(c));
			c[i] = alts[j];
			assert_int_equal(audit_chain_hash(prev, c, h), 0);
			if (same_value(&alts[j], &base[i])) {
				assert_memory_equal(h, h0, sizeof(h));
				continue;
			}
			/* No two different rows collide. */
			for (k = 0; k < n; k++)
				if (memcmp(seen[k], h, sizeof(h)) == 0)
					fail_msg("column %s alternative %zu "
					    "collides", audit_column_names[i],
					    j);
			memcpy(seen[n++], h, sizeof(h));
		}
	}
}

/* In one column, NULL, empty text, empty blob and 0 all differ. */
static void
test_chain_types(void **state)
{
	struct audit_value	 c[AUDIT_NCOLUMNS];
	unsigned char		 h[4][AUDIT_HASHBYTES];
	size_t			 col, i, j;
	const enum audit_type	 types[] = { AUDIT_NULL, AUDIT_TEXT,
				    AUDIT_BLOB, AUDIT_INT };

	(void)state;
	for (col = 0; col < AUDIT_NCOLUMNS; col++) {
		base_row(c);
		for (i = 0; i < NELEM(types); i++) {
			c[col] = (struct audit_value){ types[i], 0, "", 0 };
			assert_int_equal(audit_chain_hash(NULL, c, h[i]), 0);
		}
		for (i = 0; i < NELEM(types); i++)
			for (j = i + 1; j < NELEM(types); j++)
				assert_memory_not_equal(h[i], h[j],
				    AUDIT_HASHBYTES);
	}
	/* Moving a byte across a length boundary changes the hash. */
	base_row(c);
	c[AC_OUTCOME] = (struct audit_value){ AUDIT_TEXT, 0, "ab", 2 };
	c[AC_REASON] = (struct audit_value){ AUDIT_TEXT, 0, "c", 1 };
	assert_int_equal(audit_chain_hash(NULL, c, h[0]), 0);
	c[AC_OUTCOME] = (struct audit_value){ AUDIT_TEXT, 0, "a", 1 };
	c[AC_REASON] = (struct audit_value){ AUDIT_TEXT, 0, "bc", 2 };
	assert_int_equal(audit_chain_hash(NULL, c, h[1]), 0);
	assert_memory_not_equal(h[0], h[1], AUDIT_HASHBYTES);
}

static void
test_chain_prev(void **state)
{
	struct audit_value	 c[AUDIT_NCOLUMNS];
	unsigned char		 prev[AUDIT_HASHBYTES] = { 0 };
	unsigned char		 h0[AUDIT_HASHBYTES], h[AUDIT_HASHBYTES];
	size_t			 i;

	(void)state;
	base_row(c);
	assert_int_equal(audit_chain_hash(prev, c, h0), 0);
	for (i = 0; i < sizeof(prev); i++) {
		prev[i] ^= 0x80;
		assert_int_equal(audit_chain_hash(prev, c, h), 0);
		assert_memory_not_equal(h, h0, sizeof(h));
		prev[i] ^= 0x80;
	}
	/* A chain: each link depends on the one before. */
	assert_int_equal(audit_chain_hash(h0, c, h), 0);
	assert_memory_not_equal(h, h0, sizeof(h));
}

static void
test_chain_bad_values(void **state)
{
	struct audit_value	 c[AUDIT_NCOLUMNS];
	unsigned char		 h[AUDIT_HASHBYTES], h0[AUDIT_HASHBYTES];
	unsigned char		 saved[AUDIT_HASHBYTES];
	size_t			 col;

	(void)state;
	memset(h, 0x5a, sizeof(h));
	memcpy(saved, h, sizeof(h));
	for (col = 0; col < AUDIT_NCOLUMNS; col++) {
		base_row(c);
		c[col].type = (enum audit_type)4;
		assert_int_equal(audit_chain_hash(NULL, c, h), -1);
		c[col].type = (enum audit_type)-1;
		assert_int_equal(audit_chain_hash(NULL, c, h), -1);
		/* Never read: refused on the length alone. */
		c[col] = (struct audit_value){ AUDIT_TEXT, 0, "x",
		    (size_t)1 << 31 };
		assert_int_equal(audit_chain_hash(NULL, c, h), -1);
		c[col].type = AUDIT_BLOB;
		c[col].len = SIZE_MAX;
		assert_int_equal(audit_chain_hash(NULL, c, h), -1);
		c[col] = (struct audit_value){ AUDIT_TEXT, 0, NULL, 1 };
		assert_int_equal(audit_chain_hash(NULL, c, h), -1);
		assert_memory_equal(h, saved, sizeof(h));
	}
	assert_int_equal(audit_chain_hash(NULL, NULL, h), -1);
	base_row(c);
	assert_int_equal(audit_chain_hash(NULL, c, NULL), -1);
	assert_int_equal(audit_chain_hash(NULL, c, h0), 0);
}

static void
test_key_id(void **state)
{
	unsigned char	 key[32];
	char		 id[AUDIT_KEYID_LEN + 1], id2[AUDIT_KEYID_LEN + 1];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	memset(id, 'X', sizeof(id));
	audit_key_id(key, sizeof(key), id);
	assert_string_equal(id, KAT_KEY_ID);
	audit_key_id(key, sizeof(key) - 1, id2);
	assert_string_not_equal(id, id2);
	assert_int_equal(strlen(id2), AUDIT_KEYID_LEN);
	assert_int_equal(strspn(id2, "0123456789abcdef"), AUDIT_KEYID_LEN);
}

/* A signed checkpoint and its key pair, from a fixed seed. */
static void
signed_checkpoint(struct audit_checkpoint *cp, unsigned char *pk,
    unsigned char *sk)
{
	unsigned char	 seed[crypto_sign_SEEDBYTES];
	size_t		 i;

	memset(seed, 0x42, sizeof(seed));
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
	memset(cp, 0, sizeof(*cp));
	cp->seq = 1234;
	cp->utc_us = 1700000000123456LL;
	for (i = 0; i < AUDIT_HASHBYTES; i++)
		cp->head[i] = (unsigned char)(0xa0 + i);
	assert_int_equal(audit_checkpoint_sign(cp, sk), 0);
}

static void
test_checkpoint_sign_verify(void **state)
{
	struct audit_checkpoint	 cp, x;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES];
	unsigned char		 sk[AUDIT_SIGN_SECRETBYTES];
	unsigned char		 pk2[AUDIT_SIGN_PUBBYTES];
	unsigned char		 sk2[AUDIT_SIGN_SECRETBYTES];
	unsigned char		 msg[21 + 8 + 8 + 32];
	char			 id[AUDIT_KEYID_LEN + 1];
	size_t			 i;

	(void)state;
	signed_checkpoint(&cp, pk, sk);
	audit_key_id(pk, sizeof(pk), id);
	assert_string_equal(cp.key_id, id);
	assert_int_equal(audit_checkpoint_verify(&cp, pk), 0);

	/* The signed message, built by hand from audit.h. */
	memcpy(msg, "polrec-checkpoint-v1", 21);
	memcpy(msg + 21, "\0\0\0\0\0\0\x04\xd2", 8);
	memcpy(msg + 29, "\x00\x06\x0a\x24\x18\x20\x22\x40", 8);
	memcpy(msg + 37, cp.head, 32);
	assert_int_equal(crypto_sign_verify_detached(cp.sig, msg,
	    sizeof(msg), pk), 0);

	/* Another key. */
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(audit_checkpoint_verify(&cp, pk2), -1);
	/* Even with that key's id written in. */
	x = cp;
	audit_key_id(pk2, sizeof(pk2), x.key_id);
	assert_int_equal(audit_checkpoint_verify(&x, pk2), -1);
	/* A key id that isn't pk's, with a good signature. */
	x = cp;
	x.key_id[0] = x.key_id[0] == '0' ? '1' : '0';
	assert_int_equal(audit_checkpoint_verify(&x, pk), -1);
	x = cp;
	x.key_id[AUDIT_KEYID_LEN - 1] = '\0';
	assert_int_equal(audit_checkpoint_verify(&x, pk), -1);

	x = cp;
	x.seq++;
	assert_int_equal(audit_checkpoint_verify(&x, pk), -1);
	x = cp;
	x.seq = -x.seq;
	assert_int_equal(audit_checkpoint_verify(&x, pk), -1);
	x = cp;
	x.utc_us++;
	assert_int_equal(audit_checkpoint_verify(&x, pk), -1);
	for (i = 0; i < AUDIT_HASHBYTES; i++) {
		x = cp;
		x.head[i] ^= 1;
		assert_int_equal(audit_checkpoint_verify(&x, pk), -1);
	}
	for (i = 0; i < AUDIT_SIGBYTES; i++) {
		x = cp;
		x.sig[i] ^= 0x10;
		assert_int_equal(audit_checkpoint_verify(&x, pk), -1);
	}
	assert_int_equal(audit_checkpoint_verify(NULL, pk), -1);
	assert_int_equal(audit_checkpoint_verify(&cp, NULL), -1);
	assert_int_equal(audit_checkpoint_sign(NULL, sk), -1);
	assert_int_equal(audit_checkpoint_sign(&x, NULL), -1);
}

static void
test_checkpoint_json(void **state)
{
	struct audit_checkpoint	 cp, back;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES], pk2[AUDIT_SIGN_PUBBYTES];
	unsigned char		 sk[AUDIT_SIGN_SECRETBYTES];
	char			 err[128], *json, *padded;
	cJSON			*o;

	(void)state;
	signed_checkpoint(&cp, pk, sk);
	json = audit_checkpoint_to_json(&cp, pk);
	assert_non_null(json);
	o = cJSON_Parse(json);
	assert_non_null(o);
	assert_int_equal(cJSON_GetArraySize(o), 6);
	assert_true(cJSON_GetObjectItemCaseSensitive(o, "seq")->valuedouble ==
	    1234);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o,
	    "key_id")->valuestring, cp.key_id);
	cJSON_Delete(o);

	assert_int_equal(audit_checkpoint_from_json(json, strlen(json), &back,
	    pk2, err, sizeof(err)), 0);
	assert_int_equal(back.seq, cp.seq);
	assert_int_equal(back.utc_us, cp.utc_us);
	assert_memory_equal(back.head, cp.head, sizeof(cp.head));
	assert_memory_equal(back.sig, cp.sig, sizeof(cp.sig));
	assert_string_equal(back.key_id, cp.key_id);
	assert_memory_equal(pk2, pk, sizeof(pk));
	assert_int_equal(audit_checkpoint_verify(&back, pk2), 0);

	/* Whitespace around it, and no NUL needed after it. */
	assert_true(asprintf(&padded, " \n%s\t\r\nXX", json) > 0);
	assert_int_equal(audit_checkpoint_from_json(padded,
	    strlen(padded) - 2, &back, pk2, err, sizeof(err)), 0);
	assert_int_equal(audit_checkpoint_verify(&back, pk2), 0);
	free(padded);
	free(json);

	/* The largest exact values go through. */
	cp.seq = 9007199254740991LL;
	cp.utc_us = 9007199254740990LL;
	assert_int_equal(audit_checkpoint_sign(&cp, sk), 0);
	json = audit_checkpoint_to_json(&cp, pk);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"seq\":9007199254740991,"));
	assert_non_null(strstr(json, "\"utc_us\":9007199254740990,"));
	assert_int_equal(audit_checkpoint_from_json(json, strlen(json), &back,
	    pk2, err, sizeof(err)), 0);
	assert_int_equal(back.seq, cp.seq);
	assert_int_equal(back.utc_us, cp.utc_us);
	assert_int_equal(audit_checkpoint_verify(&back, pk2), 0);
	free(json);
	cp.seq = 0;
	cp.utc_us = 0;
	json = audit_checkpoint_to_json(&cp, pk);
	assert_non_null(strstr(json, "{\"seq\":0,\"utc_us\":0,"));
	free(json);

	/* What a JSON number cannot carry exactly is refused. */
	cp.seq = 9007199254740992LL;
	assert_null(audit_checkpoint_to_json(&cp, pk));
	cp.seq = -1;
	assert_null(audit_checkpoint_to_json(&cp, pk));
	cp.seq = 1;
	cp.utc_us = INT64_MIN;
	assert_null(audit_checkpoint_to_json(&cp, pk));
	cp.utc_us = 1;
	cp.key_id[3] = 'G';
	assert_null(audit_checkpoint_to_json(&cp, pk));
	assert_null(audit_checkpoint_to_json(NULL, pk));
}

/*
 * Hostile checkpoints.  Each is the valid one with a member replaced
 * (value given) or removed (value NULL), or raw text (name NULL).
 */
struct hostile {
	const char	*name;
	const char	*value;
};

static const struct hostile hostiles[] = {
	{ NULL, "" },
	{ NULL, " " },
	{ NULL, "null" },
	{ NULL, "true" },
	{ NULL, "42" },
	{ NULL, "\"seq\"" },
	{ NULL, "[]" },
	{ NULL, "[{}]" },
	{ NULL, "{}" },
	{ NULL, "{" },
	{ NULL, "}" },
	{ NULL, "{\"seq\":1,}" },
	{ NULL, "not json at all" },
	{ NULL, "\xff\xfe{}" },
	{ NULL, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" },
	{ "seq", NULL },
	{ "utc_us", NULL },
	{ "head", NULL },
	{ "key_id", NULL },
	{ "sig", NULL },
	{ "public_key", NULL },
	{ "seq", "\"1234\"" },
	{ "seq", "null" },
	{ "seq", "true" },
	{ "seq", "[1234]" },
	{ "seq", "-1" },
	{ "seq", "1234.5" },
	{ "seq", "9007199254740992" },
	{ "seq", "18446744073709551616" },
	{ "seq", "1e300" },
	{ "seq", "1e400" },
	{ "seq", "-1e400" },
	{ "utc_us", "-1700000000123456" },
	{ "utc_us", "1e19" },
	{ "utc_us", "{}" },
	{ "head", "42" },
	{ "head", "\"\"" },
	{ "head", "\"a0a1\"" },
	{ "head", "\"zz\"" },
	/* 31 bytes, 33 bytes, a bad digit, odd length, spaces */
	{ "head", "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbe\"" },
	{ "head", "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0\"" },
	{ "head", "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebg\"" },
	{ "head", "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0\"" },
	{ "head", "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbd be\"" },
	{ "head", "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbe\\u0000\"" },
	{ "key_id", "\"\"" },
	{ "key_id", "\"0123456789abcde\"" },
	{ "key_id", "\"0123456789abcdef0\"" },
	{ "key_id", "\"0123456789ABCDEF\"" },
	{ "key_id", "\"0123456789abcdeg\"" },
	{ "key_id", "12345678901234567" },
	{ "sig", "\"00\"" },
	{ "sig", "[]" },
	{ "public_key", "\"\"" },
	{ "public_key", "\"00112233\"" },
	{ "public_key", "false" },
};

static void
expect_refused(const char *text, size_t len)
{
	struct audit_checkpoint	 cp;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES], zero[sizeof(pk)];
	char			 err[128];

	memset(&cp, 0x55, sizeof(cp));
	memset(pk, 0x55, sizeof(pk));
	memset(zero, 0, sizeof(zero));
	err[0] = '\0';
	if (audit_checkpoint_from_json(text, len, &cp, pk, err,
	    sizeof(err)) != -1)
		fail_msg("accepted: %.*s", (int)len, text != NULL ? text : "");
	assert_true(err[0] != '\0');
	assert_memory_equal(pk, zero, sizeof(pk));
	assert_int_equal(cp.seq, 0);
	/* No room for a message is fine too. */
	assert_int_equal(audit_checkpoint_from_json(text, len, &cp, pk, NULL,
	    0), -1);
}

static void
test_checkpoint_json_hostile(void **state)
{
	struct audit_checkpoint	 cp;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES];
	unsigned char		 sk[AUDIT_SIGN_SECRETBYTES];
	char			*json, *text, *big, err[64];
	cJSON			*o, *v;
	size_t			 i, len;

	(void)state;
	signed_checkpoint(&cp, pk, sk);
	json = audit_checkpoint_to_json(&cp, pk);
	assert_non_null(json);
	for (i = 0; i < NELEM(hostiles); i++) {
		if (hostiles[i].name == NULL) {
			expect_refused(hostiles[i].value,
			    strlen(hostiles[i].value));
			continue;
		}
		o = cJSON_Parse(json);
		assert_non_null(o);
		cJSON_DeleteItemFromObjectCaseSensitive(o, hostiles[i].name);
		if (hostiles[i].value != NULL) {
			/* Verbatim: cJSON would print 2^53 as 2^53 - 2. */
			v = cJSON_CreateRaw(hostiles[i].value);
			assert_non_null(v);
			cJSON_AddItemToObject(o, hostiles[i].name, v);
		}
		text = cJSON_PrintUnformatted(o);
		assert_non_null(text);
		expect_refused(text, strlen(text));
		free(text);
		cJSON_Delete(o);
	}

	len = strlen(json);
	/* Truncated anywhere. */
	for (i = 0; i < len; i++)
		expect_refused(json, i);
	/* Followed by more. */
	assert_true(asprintf(&text, "%s{}", json) > 0);
	expect_refused(text, strlen(text));
	free(text);
	/* A NUL inside the length given. */
	text = strdup(json);
	assert_non_null(text);
	text[len - 1] = '\0';
	expect_refused(text, len);
	free(text);
	/* A member given twice, the second one lying. */
	assert_true(asprintf(&text, "{\"seq\":1,%s", json + 1) > 0);
	expect_refused(text, strlen(text));
	free(text);
	/* Case matters in names. */
	text = strdup(json);
	assert_non_null(text);
	memcpy(strstr(text, "\"seq\""), "\"SEQ\"", 5);
	expect_refused(text, len);
	free(text);
	/* Huge inputs, valid or not, are refused on their length. */
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, ' ', 1 << 20);
	memcpy(big, json, len);
	expect_refused(big, 1 << 20);
	memset(big, '[', 1 << 20);
	expect_refused(big, 1 << 20);
	free(big);
	expect_refused(NULL, 10);
	assert_int_equal(audit_checkpoint_from_json(json, len, NULL, pk, err,
	    sizeof(err)), -1);
	assert_int_equal(audit_checkpoint_from_json(json, len, &cp, NULL, err,
	    sizeof(err)), -1);
	/* And the original still passes: the table changed only copies. */
	assert_int_equal(audit_checkpoint_from_json(json, len, &cp, pk, err,
	    sizeof(err)), 0);
	free(json);
}

static void
test_datakey(void **state)
{
	unsigned char	 apk[AUDIT_BOX_PUBBYTES], ask[AUDIT_BOX_SECRETBYTES];
	unsigned char	 apk2[AUDIT_BOX_PUBBYTES], ask2[AUDIT_BOX_SECRETBYTES];
	unsigned char	 dk[AUDIT_DATAKEYBYTES], dk2[AUDIT_DATAKEYBYTES];
	unsigned char	 back[AUDIT_DATAKEYBYTES], zero[AUDIT_DATAKEYBYTES];
	unsigned char	 sealed[AUDIT_SEALED_DATAKEY_BYTES];
	unsigned char	 sealed2[AUDIT_SEALED_DATAKEY_BYTES];
	unsigned char	 longer[AUDIT_SEALED_DATAKEY_BYTES + 1];
	char		 id[AUDIT_KEYID_LEN + 1], id2[AUDIT_KEYID_LEN + 1];
	char		 want[AUDIT_KEYID_LEN + 1];
	size_t		 i;

	(void)state;
	memset(zero, 0, sizeof(zero));
	crypto_box_keypair(apk, ask);
	crypto_box_keypair(apk2, ask2);
	assert_int_equal(audit_datakey_new(apk, dk, sealed, id), 0);
	audit_key_id(sealed, sizeof(sealed), want);
	assert_string_equal(id, want);
	assert_memory_not_equal(dk, zero, sizeof(dk));
	assert_int_equal(audit_datakey_open(sealed, sizeof(sealed), apk, ask,
	    back), 0);
	assert_memory_equal(back, dk, sizeof(dk));

	/* Fresh each time. */
	assert_int_equal(audit_datakey_new(apk, dk2, sealed2, id2), 0);
	assert_memory_not_equal(dk, dk2, sizeof(dk));
	assert_string_not_equal(id, id2);

	/* Another auditor's key, or a mismatched pair. */
	memset(back, 0x77, sizeof(back));
	assert_int_equal(audit_datakey_open(sealed, sizeof(sealed), apk2,
	    ask2, back), -1);
	assert_memory_equal(back, zero, sizeof(back));
	assert_int_equal(audit_datakey_open(sealed, sizeof(sealed), apk,
	    ask2, back), -1);
	assert_int_equal(audit_datakey_open(sealed, sizeof(sealed), apk2,
	    ask, back), -1);
	/* Truncated, longer, altered. */
	for (i = 0; i < sizeof(sealed); i++)
		assert_int_equal(audit_datakey_open(sealed, i, apk, ask,
		    back), -1);
	memcpy(longer, sealed, sizeof(sealed));
	longer[sizeof(sealed)] = 0;
	assert_int_equal(audit_datakey_open(longer, sizeof(longer), apk, ask,
	    back), -1);
	for (i = 0; i < sizeof(sealed); i++) {
		sealed[i] ^= 0x01;
		assert_int_equal(audit_datakey_open(sealed, sizeof(sealed),
		    apk, ask, back), -1);
		sealed[i] ^= 0x01;
	}
	assert_int_equal(audit_datakey_open(NULL, sizeof(sealed), apk, ask,
	    back), -1);
	assert_int_equal(audit_datakey_open(sealed, sizeof(sealed), apk, ask,
	    back), 0);
	assert_memory_equal(back, dk, sizeof(dk));

	/* A public key of small order is refused. */
	memset(apk2, 0, sizeof(apk2));
	assert_int_equal(audit_datakey_new(apk2, dk2, sealed2, id2), -1);
	assert_memory_equal(dk2, zero, sizeof(dk2));
}

static void
test_seal_roundtrip(void **state)
{
	const char	 text[] = "{\"caller\":\"alice@contoso.com\"}";
	unsigned char	 dk[AUDIT_DATAKEYBYTES];
	unsigned char	*out, *out2;
	char		*plain, id[AUDIT_KEYID_LEN + 1];
	size_t		 outlen, outlen2, plainlen;
	int64_t		 seq;

	(void)state;
	randombytes_buf(dk, sizeof(dk));
	assert_int_equal(audit_seal(dk, DKID, 42, text, strlen(text), &out,
	    &outlen), 0);
	assert_int_equal(outlen, strlen(text) + AUDIT_SEAL_OVERHEAD);
	/* The header, as audit.h lays it out. */
	assert_int_equal(out[0], 1);
	assert_memory_equal(out + 1, "\0\0\0\0\0\0\0\x2a", 8);
	assert_memory_equal(out + 9, DKID, 16);
	assert_int_equal(audit_sealed_header(out, outlen, &seq, id), 0);
	assert_int_equal(seq, 42);
	assert_string_equal(id, DKID);

	assert_int_equal(audit_unseal(dk, DKID, 42, out, outlen, &plain,
	    &plainlen), 0);
	assert_int_equal(plainlen, strlen(text));
	assert_string_equal(plain, text);
	free(plain);

	/* A random nonce: the same text seals differently. */
	assert_int_equal(audit_seal(dk, DKID, 42, text, strlen(text), &out2,
	    &outlen2), 0);
	assert_int_equal(outlen2, outlen);
	assert_memory_not_equal(out + AUDIT_SEAL_HEADER,
	    out2 + AUDIT_SEAL_HEADER, outlen - AUDIT_SEAL_HEADER);
	free(out2);

	/* Binary plaintext comes back whole, NUL-terminated after it. */
	assert_int_equal(audit_seal(dk, DKID, 43, "a\0b", 3, &out2, &outlen2),
	    0);
	assert_int_equal(audit_unseal(dk, DKID, 43, out2, outlen2, &plain,
	    &plainlen), 0);
	assert_int_equal(plainlen, 3);
	assert_memory_equal(plain, "a\0b", 4);
	free(plain);
	free(out2);
	free(out);
}

static void
test_seal_refused(void **state)
{
	const char	 text[] = "{\"caller\":\"alice@contoso.com\"}";
	unsigned char	 dk[AUDIT_DATAKEYBYTES], dk2[AUDIT_DATAKEYBYTES];
	unsigned char	*out, *copy;
	char		*plain;
	size_t		 outlen, plainlen, i;

	(void)state;
	randombytes_buf(dk, sizeof(dk));
	memcpy(dk2, dk, sizeof(dk));
	dk2[31] ^= 1;
	assert_int_equal(audit_seal(dk, DKID, 42, text, strlen(text), &out,
	    &outlen), 0);

	/* Moved to another row. */
	plain = (char *)1;
	plainlen = 99;
	assert_int_equal(audit_unseal(dk, DKID, 41, out, outlen, &plain,
	    &plainlen), -1);
	assert_null(plain);
	assert_int_equal(plainlen, 0);
	assert_int_equal(audit_unseal(dk, DKID, 43, out, outlen, &plain,
	    &plainlen), -1);
	assert_int_equal(audit_unseal(dk, DKID, -42, out, outlen, &plain,
	    &plainlen), -1);
	/* Moved, with its header rewritten to match the new row. */
	copy = malloc(outlen);
	assert_non_null(copy);
	memcpy(copy, out, outlen);
	copy[8] = 43;
	assert_int_equal(audit_unseal(dk, DKID, 43, copy, outlen, &plain,
	    &plainlen), -1);
	/* Named another data key. */
	assert_int_equal(audit_unseal(dk, DKID2, 42, out, outlen, &plain,
	    &plainlen), -1);
	memcpy(copy, out, outlen);
	memcpy(copy + 9, DKID2, 16);
	assert_int_equal(audit_unseal(dk, DKID2, 42, copy, outlen, &plain,
	    &plainlen), -1);
	/* The wrong key. */
	assert_int_equal(audit_unseal(dk2, DKID, 42, out, outlen, &plain,
	    &plainlen), -1);
	/* Any single bit, any byte. */
	for (i = 0; i < outlen; i++) {
		memcpy(copy, out, outlen);
		copy[i] ^= 0x01;
		if (audit_unseal(dk, DKID, 42, copy, outlen, &plain,
		    &plainlen) != -1)
			fail_msg("opened with byte %zu flipped", i);
		copy[i] ^= 0x81;
		assert_int_equal(audit_unseal(dk, DKID, 42, copy, outlen,
		    &plain, &plainlen), -1);
	}
	/* Truncated anywhere, or longer. */
	for (i = 0; i < outlen; i++)
		assert_int_equal(audit_unseal(dk, DKID, 42, out, i, &plain,
		    &plainlen), -1);
	free(copy);
	copy = malloc(outlen + 1);
	assert_non_null(copy);
	memcpy(copy, out, outlen);
	copy[outlen] = 0;
	assert_int_equal(audit_unseal(dk, DKID, 42, copy, outlen + 1, &plain,
	    &plainlen), -1);
	free(copy);
	assert_int_equal(audit_unseal(dk, DKID, 42, NULL, outlen, &plain,
	    &plainlen), -1);
	assert_int_equal(audit_unseal(dk, NULL, 42, out, outlen, &plain,
	    &plainlen), -1);
	assert_null(plain);
	/* Still fine as it was. */
	assert_int_equal(audit_unseal(dk, DKID, 42, out, outlen, &plain,
	    &plainlen), 0);
	free(plain);
	free(out);
}

static void
test_seal_sizes(void **state)
{
	unsigned char	 dk[AUDIT_DATAKEYBYTES];
	unsigned char	*out, *big;
	char		*plain;
	size_t		 outlen, plainlen;

	(void)state;
	randombytes_buf(dk, sizeof(dk));
	/* Empty plaintext, with or without a pointer. */
	assert_int_equal(audit_seal(dk, DKID, 1, NULL, 0, &out, &outlen), 0);
	assert_int_equal(outlen, AUDIT_SEAL_OVERHEAD);
	assert_int_equal(audit_unseal(dk, DKID, 1, out, outlen, &plain,
	    &plainlen), 0);
	assert_int_equal(plainlen, 0);
	assert_string_equal(plain, "");
	free(plain);
	free(out);
	assert_int_equal(audit_seal(dk, DKID, 1, "", 0, &out, &outlen), 0);
	assert_int_equal(audit_unseal(dk, DKID, 1, out, outlen, &plain,
	    &plainlen), 0);
	assert_int_equal(plainlen, 0);
	free(plain);
	free(out);

	/* At most AUDIT_SEAL_MAX. */
	big = calloc(1, AUDIT_SEAL_MAX + 1);
	assert_non_null(big);
	assert_int_equal(audit_seal(dk, DKID, 2, big, AUDIT_SEAL_MAX, &out,
	    &outlen), 0);
	assert_int_equal(outlen, AUDIT_SEAL_MAX + AUDIT_SEAL_OVERHEAD);
	assert_int_equal(audit_unseal(dk, DKID, 2, out, outlen, &plain,
	    &plainlen), 0);
	assert_int_equal(plainlen, AUDIT_SEAL_MAX);
	free(plain);
	free(out);
	out = (unsigned char *)1;
	outlen = 5;
	assert_int_equal(audit_seal(dk, DKID, 2, big, AUDIT_SEAL_MAX + 1, &out,
	    &outlen), -1);
	assert_null(out);
	assert_int_equal(outlen, 0);
	assert_int_equal(audit_seal(dk, DKID, 2, big, SIZE_MAX, &out,
	    &outlen), -1);
	free(big);

	/* Not a data key id. */
	assert_int_equal(audit_seal(dk, "0123456789abcde", 1, "x", 1, &out,
	    &outlen), -1);
	assert_int_equal(audit_seal(dk, "0123456789abcdef0", 1, "x", 1, &out,
	    &outlen), -1);
	assert_int_equal(audit_seal(dk, "0123456789ABCDEF", 1, "x", 1, &out,
	    &outlen), -1);
	assert_int_equal(audit_seal(dk, NULL, 1, "x", 1, &out, &outlen), -1);
	assert_int_equal(audit_seal(dk, DKID, 1, NULL, 1, &out, &outlen), -1);
	assert_int_equal(audit_seal(NULL, DKID, 1, "x", 1, &out, &outlen), -1);
}

static void
test_sealed_header(void **state)
{
	static const int64_t	 seqs[] = { 0, 1, 255, 256, INT64_MAX,
				    INT64_MIN, -1 };
	unsigned char		 dk[AUDIT_DATAKEYBYTES], *out;
	char			 id[AUDIT_KEYID_LEN + 1], *plain;
	size_t			 outlen, plainlen, i;
	int64_t			 seq;

	(void)state;
	randombytes_buf(dk, sizeof(dk));
	for (i = 0; i < NELEM(seqs); i++) {
		assert_int_equal(audit_seal(dk, DKID2, seqs[i], "{}", 2, &out,
		    &outlen), 0);
		seq = 12345;
		assert_int_equal(audit_sealed_header(out, outlen, &seq, id),
		    0);
		assert_int_equal(seq, seqs[i]);
		assert_string_equal(id, DKID2);
		assert_int_equal(audit_unseal(dk, id, seq, out, outlen,
		    &plain, &plainlen), 0);
		free(plain);
		/* Too short to have been sealed. */
		assert_int_equal(audit_sealed_header(out, AUDIT_SEAL_OVERHEAD -
		    1, &seq, id), -1);
		assert_int_equal(audit_sealed_header(out, AUDIT_SEAL_OVERHEAD,
		    NULL, NULL), 0);
		/* Another version, or an id that isn't one. */
		out[0] = 2;
		assert_int_equal(audit_sealed_header(out, outlen, &seq, id),
		    -1);
		out[0] = 0;
		assert_int_equal(audit_sealed_header(out, outlen, &seq, id),
		    -1);
		out[0] = 1;
		out[9 + 15] = 'G';
		assert_int_equal(audit_sealed_header(out, outlen, &seq, id),
		    -1);
		out[9 + 15] = '\0';
		assert_int_equal(audit_sealed_header(out, outlen, &seq, id),
		    -1);
		out[9 + 15] = 'A';
		assert_int_equal(audit_sealed_header(out, outlen, &seq, id),
		    -1);
		free(out);
	}
	assert_int_equal(audit_sealed_header(NULL, 100, &seq, id), -1);
}

/*
 * The extension.  Each test opens its own connection: the auditor key is
 * read once per connection.
 */
struct ext_fixture {
	char		 dir[64];
	char		 keypath[96];
	unsigned char	 apk[AUDIT_BOX_PUBBYTES];
	unsigned char	 ask[AUDIT_BOX_SECRETBYTES];
	unsigned char	 dk[AUDIT_DATAKEYBYTES];
	unsigned char	 sealed_dk[AUDIT_SEALED_DATAKEY_BYTES];
	char		 dk_id[AUDIT_KEYID_LEN + 1];
};

static struct ext_fixture	 fx;

static const char ext_schema[] =
	"CREATE TABLE audit_datakey (key_id TEXT PRIMARY KEY NOT NULL,"
	" auditor_key_id TEXT NOT NULL, sealed_key BLOB NOT NULL,"
	" created_utc_us INTEGER NOT NULL);"
	"CREATE TABLE audit_event (seq INTEGER PRIMARY KEY NOT NULL,"
	" key_id TEXT, sealed BLOB);";

static int
ext_setup(void **state)
{
	char	 err[256];

	(void)state;
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_audit.XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(fx.keypath, sizeof(fx.keypath), "%s/auditor.key", fx.dir);
	crypto_box_keypair(fx.apk, fx.ask);
	if (keyfile_write(NULL, fx.keypath, fx.ask, sizeof(fx.ask), 0600, err,
	    sizeof(err)) == -1 ||
	    audit_datakey_new(fx.apk, fx.dk, fx.sealed_dk, fx.dk_id) == -1)
		return -1;
	return setenv(UNSEAL_KEY_ENV, fx.keypath, 1);
}

static int
ext_teardown(void **state)
{
	char	 path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.key", fx.dir);
	unlink(path);
	unlink(fx.keypath);
	rmdir(fx.dir);
	unsetenv(UNSEAL_KEY_ENV);
	return 0;
}

static sqlite3 *
ext_open(const char *schema)
{
	sqlite3	*db;
	char	*err = NULL;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	if (schema != NULL)
		assert_int_equal(sqlite3_exec(db, schema, NULL, NULL, NULL),
		    SQLITE_OK);
	assert_int_equal(sqlite3_polrecunseal_init(db, &err, NULL),
	    SQLITE_OK);
	assert_null(err);
	return db;
}

static void
ext_insert_datakey(sqlite3 *db, const char *id, const unsigned char *sealed,
    size_t len)
{
	sqlite3_stmt	*stmt;

	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO audit_datakey "
	    "VALUES (?, 'x', ?, 0)", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 2, sealed, (int)len, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
}

/* Insert row seq holding `sealed` (NULL: SQL NULL). */
static void
ext_insert_event(sqlite3 *db, int64_t seq, const unsigned char *sealed,
    size_t len)
{
	sqlite3_stmt	*stmt;

	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO audit_event "
	    "(seq, sealed) VALUES (?, ?)", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, seq);
	if (sealed != NULL)
		sqlite3_bind_blob(stmt, 2, sealed, (int)len, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
}

static void
ext_insert_sealed(sqlite3 *db, int64_t row, int64_t sealed_for,
    const unsigned char *dk, const char *dk_id, const char *text)
{
	unsigned char	*out;
	size_t		 outlen;

	assert_int_equal(audit_seal(dk, dk_id, sealed_for, text,
	    strlen(text), &out, &outlen), 0);
	ext_insert_event(db, row, out, outlen);
	free(out);
}

/*
 * One value of `sql`: 0 and a malloc'd text (NULL for SQL NULL), or -1
 * and the error message in *out.
 */
static int
ext_query(sqlite3 *db, const char *sql, char **out)
{
	sqlite3_stmt	*stmt;
	const char	*t;
	int		 rc;

	*out = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
	    SQLITE_OK);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		*out = strdup(sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return -1;
	}
	if (sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
		t = (const char *)sqlite3_column_text(stmt, 0);
		*out = strdup(t);
	}
	sqlite3_finalize(stmt);
	return 0;
}

static void
expect_text(sqlite3 *db, const char *sql, const char *want)
{
	char	*got;

	if (ext_query(db, sql, &got) == -1)
		fail_msg("%s: error %s", sql, got);
	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s: got \"%s\", want NULL", sql, got);
	} else {
		if (got == NULL)
			fail_msg("%s: got NULL, want \"%s\"", sql, want);
		assert_string_equal(got, want);
	}
	free(got);
}

static void
test_ext_unseal(void **state)
{
	const char	*text = "{\"caller\":\"alice@contoso.com\"}";
	unsigned char	 other_pk[AUDIT_BOX_PUBBYTES];
	unsigned char	 other_sk[AUDIT_BOX_SECRETBYTES];
	unsigned char	 dk2[AUDIT_DATAKEYBYTES], *out;
	unsigned char	 sealed2[AUDIT_SEALED_DATAKEY_BYTES];
	char		 id2[AUDIT_KEYID_LEN + 1];
	size_t		 outlen;
	sqlite3		*db;

	(void)state;
	db = ext_open(ext_schema);
	ext_insert_datakey(db, fx.dk_id, fx.sealed_dk, sizeof(fx.sealed_dk));
	ext_insert_sealed(db, 1, 1, fx.dk, fx.dk_id, text);
	ext_insert_sealed(db, 2, 2, fx.dk, fx.dk_id, "{\"n\":2}");
	/* Sealed for row 7, stored in row 3. */
	ext_insert_sealed(db, 3, 7, fx.dk, fx.dk_id, "{\"n\":3}");
	ext_insert_event(db, 4, NULL, 0);

	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event "
	    "WHERE seq = 1", text);
	expect_text(db, "SELECT unseal(sealed) FROM audit_event "
	    "WHERE seq = 2", "{\"n\":2}");
	expect_text(db, "SELECT typeof(unseal(sealed, seq)) FROM audit_event "
	    "WHERE seq = 2", "text");
	/* Moved: the two-argument form refuses, the header's seq opens. */
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event "
	    "WHERE seq = 3", NULL);
	expect_text(db, "SELECT unseal(sealed) FROM audit_event "
	    "WHERE seq = 3", "{\"n\":3}");
	expect_text(db, "SELECT unseal(sealed, 7) FROM audit_event "
	    "WHERE seq = 3", "{\"n\":3}");
	expect_text(db, "SELECT unseal(sealed, '7') FROM audit_event "
	    "WHERE seq = 3", "{\"n\":3}");
	expect_text(db, "SELECT unseal(sealed, 7.5) FROM audit_event "
	    "WHERE seq = 3", NULL);
	expect_text(db, "SELECT unseal(sealed, 'x') FROM audit_event "
	    "WHERE seq = 3", NULL);
	expect_text(db, "SELECT unseal(sealed, NULL) FROM audit_event "
	    "WHERE seq = 1", NULL);
	/* NULL and junk give NULL. */
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event "
	    "WHERE seq = 4", NULL);
	expect_text(db, "SELECT unseal(NULL)", NULL);
	expect_text(db, "SELECT unseal(x'')", NULL);
	expect_text(db, "SELECT unseal(x'00', 1)", NULL);
	expect_text(db, "SELECT unseal(42)", NULL);
	expect_text(db, "SELECT unseal('some text', 1)", NULL);
	expect_text(db, "SELECT unseal(zeroblob(1000))", NULL);

	/* Altered in place. */
	/* (|| makes text: CAST back to the same bytes as a blob.) */
	expect_text(db, "SELECT unseal(CAST(substr(sealed, 1, 1) || "
	    "substr(sealed, 2) AS BLOB)) FROM audit_event WHERE seq = 1",
	    text);
	expect_text(db, "SELECT unseal(substr(sealed, 1, length(sealed) - 1))"
	    " FROM audit_event WHERE seq = 1", NULL);
	expect_text(db, "SELECT unseal(CAST(sealed || x'00' AS BLOB)) FROM "
	    "audit_event WHERE seq = 1", NULL);
	expect_text(db, "SELECT unseal(CAST(substr(sealed, 1, 1) || x'01' || "
	    "substr(sealed, 3) AS BLOB)) FROM audit_event WHERE seq = 1",
	    NULL);

	/* A data key that is not in the table. */
	randombytes_buf(dk2, sizeof(dk2));
	ext_insert_sealed(db, 5, 5, dk2, DKID2, "{}");
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event "
	    "WHERE seq = 5", NULL);
	/* One sealed to another auditor. */
	crypto_box_keypair(other_pk, other_sk);
	assert_int_equal(audit_datakey_new(other_pk, dk2, sealed2, id2), 0);
	ext_insert_datakey(db, id2, sealed2, sizeof(sealed2));
	ext_insert_sealed(db, 6, 6, dk2, id2, "{}");
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event "
	    "WHERE seq = 6", NULL);
	/* A row under one id holding another's sealed key. */
	assert_int_equal(audit_datakey_new(fx.apk, dk2, sealed2, id2), 0);
	ext_insert_datakey(db, DKID2, sealed2, sizeof(sealed2));
	assert_int_equal(audit_seal(dk2, DKID2, 8, "{}", 2, &out, &outlen),
	    0);
	ext_insert_event(db, 8, out, outlen);
	free(out);
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event "
	    "WHERE seq = 8", NULL);
	/* A second good data key, found and cached beside the first. */
	ext_insert_datakey(db, id2, sealed2, sizeof(sealed2));
	ext_insert_sealed(db, 9, 9, dk2, id2, "{\"n\":9}");
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event "
	    "WHERE seq = 9", "{\"n\":9}");

	/* Over all rows, the bad ones don't abort the query. */
	expect_text(db, "SELECT count(*) FROM audit_event", "8");
	expect_text(db, "SELECT group_concat(seq) FROM audit_event "
	    "WHERE unseal(sealed, seq) IS NOT NULL", "1,2,9");
	expect_text(db, "SELECT group_concat(json_extract(unseal(sealed), "
	    "'$.n')) FROM audit_event", "2,3,9");
	sqlite3_close(db);
}

/*
 * unseal() is DIRECTONLY: a view, trigger or index planted in the
 * database cannot call it on an auditor's behalf; the auditor's own
 * top-level query can.
 */
static void
test_ext_directonly(void **state)
{
	const char	*text = "{\"n\":1}";
	sqlite3_stmt	*stmt;
	sqlite3		*db;

	(void)state;
	db = ext_open(ext_schema);
	ext_insert_datakey(db, fx.dk_id, fx.sealed_dk, sizeof(fx.sealed_dk));
	ext_insert_sealed(db, 1, 1, fx.dk, fx.dk_id, text);
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event", text);

	assert_int_equal(sqlite3_exec(db, "CREATE VIEW opened AS SELECT "
	    "unseal(sealed, seq) AS personal FROM audit_event", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_prepare_v2(db, "SELECT personal FROM "
	    "opened", -1, &stmt, NULL), SQLITE_OK);
	assert_null(stmt);
	assert_non_null(strstr(sqlite3_errmsg(db), "unseal"));

	assert_int_equal(sqlite3_exec(db, "CREATE TABLE leak (t TEXT);"
	    "CREATE TRIGGER steal AFTER INSERT ON audit_event BEGIN "
	    "INSERT INTO leak SELECT unseal(sealed, seq) FROM audit_event; "
	    "END", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO audit_event "
	    "(seq) VALUES (2)", NULL, NULL, NULL), SQLITE_OK);
	expect_text(db, "SELECT count(*) FROM leak", "0");

	assert_int_not_equal(sqlite3_exec(db, "CREATE INDEX by_personal ON "
	    "audit_event(unseal(sealed, seq))", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_ext_many_datakeys(void **state)
{
	unsigned char	 dk[AUDIT_DATAKEYBYTES];
	unsigned char	 sealed[AUDIT_SEALED_DATAKEY_BYTES];
	char		 id[AUDIT_KEYID_LEN + 1], text[32], want[64];
	sqlite3		*db;
	int		 i;

	(void)state;
	/* More keys than the cache holds, used twice over. */
	db = ext_open(ext_schema);
	for (i = 1; i <= UNSEAL_CACHE * 2 + 3; i++) {
		assert_int_equal(audit_datakey_new(fx.apk, dk, sealed, id), 0);
		ext_insert_datakey(db, id, sealed, sizeof(sealed));
		snprintf(text, sizeof(text), "%d", i);
		ext_insert_sealed(db, i, i, dk, id, text);
	}
	snprintf(want, sizeof(want), "%d", UNSEAL_CACHE * 2 + 3);
	expect_text(db, "SELECT count(unseal(sealed, seq)) FROM audit_event",
	    want);
	expect_text(db, "SELECT count(*) FROM audit_event WHERE "
	    "unseal(sealed, seq) = CAST(seq AS TEXT)", want);
	expect_text(db, "SELECT count(*) FROM (SELECT seq, unseal(sealed) "
	    "AS p FROM audit_event ORDER BY seq DESC) WHERE "
	    "p = CAST(seq AS TEXT)", want);
	sqlite3_close(db);
}

static void
test_ext_errors(void **state)
{
	char		 path[128], *msg;
	sqlite3		*db;
	int		 fd;

	(void)state;
	/* No variable. */
	unsetenv(UNSEAL_KEY_ENV);
	db = ext_open(ext_schema);
	ext_insert_sealed(db, 1, 1, fx.dk, fx.dk_id, "{}");
	assert_int_equal(ext_query(db, "SELECT unseal(sealed, seq) FROM "
	    "audit_event", &msg), -1);
	assert_non_null(strstr(msg, "POLREC_AUDITOR_KEY"));
	free(msg);
	/* NULL input needs no key. */
	expect_text(db, "SELECT unseal(NULL)", NULL);
	sqlite3_close(db);

	/* A file that is not there. */
	snprintf(path, sizeof(path), "%s/absent.key", fx.dir);
	setenv(UNSEAL_KEY_ENV, path, 1);
	db = ext_open(ext_schema);
	ext_insert_sealed(db, 1, 1, fx.dk, fx.dk_id, "{}");
	assert_int_equal(ext_query(db, "SELECT unseal(sealed) FROM "
	    "audit_event", &msg), -1);
	assert_non_null(strstr(msg, "POLREC_AUDITOR_KEY"));
	assert_non_null(strstr(msg, "absent.key"));
	free(msg);
	sqlite3_close(db);

	/* A key file others can read, and one that isn't a key. */
	snprintf(path, sizeof(path), "%s/bad.key", fx.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "00ff\n", 5), 5);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	setenv(UNSEAL_KEY_ENV, path, 1);
	db = ext_open(ext_schema);
	ext_insert_sealed(db, 1, 1, fx.dk, fx.dk_id, "{}");
	assert_int_equal(ext_query(db, "SELECT unseal(sealed) FROM "
	    "audit_event", &msg), -1);
	assert_non_null(strstr(msg, "POLREC_AUDITOR_KEY"));
	assert_non_null(strstr(msg, "owner only"));
	free(msg);
	sqlite3_close(db);
	assert_int_equal(chmod(path, 0600), 0);
	db = ext_open(ext_schema);
	ext_insert_sealed(db, 1, 1, fx.dk, fx.dk_id, "{}");
	assert_int_equal(ext_query(db, "SELECT unseal(sealed) FROM "
	    "audit_event", &msg), -1);
	assert_non_null(strstr(msg, "not a 32-byte key"));
	free(msg);
	sqlite3_close(db);

	/* No audit_datakey table: not a polrec database. */
	setenv(UNSEAL_KEY_ENV, fx.keypath, 1);
	db = ext_open("CREATE TABLE audit_event (seq INTEGER PRIMARY KEY,"
	    " sealed BLOB)");
	ext_insert_sealed(db, 1, 1, fx.dk, fx.dk_id, "{}");
	assert_int_equal(ext_query(db, "SELECT unseal(sealed) FROM "
	    "audit_event", &msg), -1);
	assert_non_null(strstr(msg, "audit_datakey"));
	free(msg);
	sqlite3_close(db);

	/* Loaded twice on one connection: the first state is let go. */
	db = ext_open(ext_schema);
	assert_int_equal(sqlite3_polrecunseal_init(db, &msg, NULL),
	    SQLITE_OK);
	ext_insert_datakey(db, fx.dk_id, fx.sealed_dk, sizeof(fx.sealed_dk));
	ext_insert_sealed(db, 1, 1, fx.dk, fx.dk_id, "{}");
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event", "{}");
	sqlite3_close(db);
}

/* The built polrec_unseal.so, by its default entry point, if it's there. */
static void
test_ext_shared_object(void **state)
{
	char		 path[PATH_MAX + 32], *err = NULL;
	sqlite3		*db;

	(void)state;
	if (snprintf(path, sizeof(path), "%s/../polrec_unseal.so", progdir) >=
	    (int)sizeof(path) || access(path, R_OK) == -1)
		skip();
	/* As `.load dir/polrec_unseal` does: no suffix, no entry point. */
	path[strlen(path) - 3] = '\0';
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, ext_schema, NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_enable_load_extension(db, 1), SQLITE_OK);
	if (sqlite3_load_extension(db, path, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", path, err);
	ext_insert_datakey(db, fx.dk_id, fx.sealed_dk, sizeof(fx.sealed_dk));
	ext_insert_sealed(db, 1, 1, fx.dk, fx.dk_id, "{\"so\":1}");
	ext_insert_sealed(db, 2, 1, fx.dk, fx.dk_id, "{\"so\":2}");
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event "
	    "WHERE seq = 1", "{\"so\":1}");
	expect_text(db, "SELECT unseal(sealed, seq) FROM audit_event "
	    "WHERE seq = 2", NULL);
	sqlite3_close(db);
}

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_column_names),
		cmocka_unit_test(test_chain_known_answer),
		cmocka_unit_test(test_chain_deterministic),
		cmocka_unit_test(test_chain_each_column),
		cmocka_unit_test(test_chain_types),
		cmocka_unit_test(test_chain_prev),
		cmocka_unit_test(test_chain_bad_values),
		cmocka_unit_test(test_key_id),
		cmocka_unit_test(test_checkpoint_sign_verify),
		cmocka_unit_test(test_checkpoint_json),
		cmocka_unit_test(test_checkpoint_json_hostile),
		cmocka_unit_test(test_datakey),
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_seal_refused),
		cmocka_unit_test(test_seal_sizes),
		cmocka_unit_test(test_sealed_header),
		cmocka_unit_test_setup_teardown(test_ext_unseal, ext_setup,
		    ext_teardown),
		cmocka_unit_test_setup_teardown(test_ext_directonly,
		    ext_setup, ext_teardown),
		cmocka_unit_test_setup_teardown(test_ext_many_datakeys,
		    ext_setup, ext_teardown),
		cmocka_unit_test_setup_teardown(test_ext_errors, ext_setup,
		    ext_teardown),
		cmocka_unit_test_setup_teardown(test_ext_shared_object,
		    ext_setup, ext_teardown),
	};
	const char	*slash;

	if (argc > 0 && (slash = strrchr(argv[0], '/')) != NULL &&
	    (size_t)(slash - argv[0]) < sizeof(progdir))
		memcpy(progdir, argv[0], slash - argv[0]);
	else
		snprintf(progdir, sizeof(progdir), ".");
	return cmocka_run_group_tests_name("audit", tests, setup, NULL);
}
