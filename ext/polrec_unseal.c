/* polrec_unseal: the sqlite3 CLI's unseal(sealed[, seq]) for auditors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "audit.h"
#include "keyfile.h"

/*
 *	.load /usr/lib/polrec/polrec_unseal
 *	SELECT seq, unseal(sealed, seq) FROM audit_event;
 *
 * The auditor's X25519 secret key is read, once per connection and on
 * first use, from the key file named by POLREC_AUDITOR_KEY.  A payload
 * that does not open gives NULL, so one damaged row does not abort a
 * query over many; only a missing key or an unreadable audit_datakey
 * table is an error.
 */

#define UNSEAL_KEY_ENV	"POLREC_AUDITOR_KEY"
#define UNSEAL_CACHE	64	/* opened data keys kept per connection */
#define UNSEAL_QUERY	"SELECT sealed_key FROM audit_datakey WHERE key_id = ?"

struct opened_datakey {
	char		 id[AUDIT_KEYID_LEN + 1];	/* "" when free */
	unsigned char	 dk[AUDIT_DATAKEYBYTES];
};

/* One per connection, in sodium_malloc'd memory: sodium_free wipes it. */
struct unseal_state {
	int			 refs;	/* registrations that hold it */
	int			 have_key;
	unsigned char		 pk[AUDIT_BOX_PUBBYTES];
	unsigned char		 sk[AUDIT_BOX_SECRETBYTES];
	unsigned char		 scratch[AUDIT_DATAKEYBYTES];
	struct opened_datakey	 cache[UNSEAL_CACHE];
	size_t			 next;	/* the slot to fill next */
};

int	sqlite3_polrecunseal_init(sqlite3 *, char **,
	    const sqlite3_api_routines *);
int	sqlite3_extension_init(sqlite3 *, char **,
	    const sqlite3_api_routines *);

static int	 load_key(struct unseal_state *, sqlite3_context *);
static int	 find_datakey(struct unseal_state *, sqlite3_context *,
		    const char *, const unsigned char **);
static void	 unseal_func(sqlite3_context *, int, sqlite3_value **);
static void	 unseal_destroy(void *);

static int
load_key(struct unseal_state *st, sqlite3_context *ctx)
{
	const char	*path;
	char		 err[512], msg[768];

	if (st->have_key)
		return 0;
	path = getenv(UNSEAL_KEY_ENV);
	if (path == NULL || path[0] == '\0') {
		sqlite3_result_error(ctx, "unseal: " UNSEAL_KEY_ENV " is not "
		    "set; set it to the auditor's secret key file", -1);
		return -1;
	}
	if (keyfile_read(NULL, path, st->sk, sizeof(st->sk), KEYFILE_SECRET,
	    err, sizeof(err)) == -1) {
		snprintf(msg, sizeof(msg), "unseal: " UNSEAL_KEY_ENV ": %s",
		    err);
		sqlite3_result_error(ctx, msg, -1);
		return -1;
	}
	if (crypto_scalarmult_base(st->pk, st->sk) != 0) {
		sodium_memzero(st->sk, sizeof(st->sk));
		sqlite3_result_error(ctx, "unseal: " UNSEAL_KEY_ENV ": not an "
		    "X25519 secret key", -1);
		return -1;
	}
	st->have_key = 1;
	return 0;
}

/*
 * The data key named id: 0 and *dk, 1 when there is none that opens
 * (not in audit_datakey, damaged, sealed to another auditor), -1 with
 * the error set when the table cannot be read.
 */
static int
find_datakey(struct unseal_state *st, sqlite3_context *ctx, const char *id,
    const unsigned char **dk)
{
	struct opened_datakey	*slot;
	sqlite3			*db = sqlite3_context_db_handle(ctx);
	sqlite3_stmt		*stmt = NULL;
	const unsigned char	*sealed;
	char			 sealed_id[AUDIT_KEYID_LEN + 1], *msg;
	size_t			 i;
	int			 rc, len, rv = -1;

	for (i = 0; i < UNSEAL_CACHE; i++)
		if (strcmp(st->cache[i].id, id) == 0) {
			*dk = st->cache[i].dk;
			return 0;
		}
	if (sqlite3_prepare_v2(db, UNSEAL_QUERY, -1, &stmt, NULL) !=
	    SQLITE_OK || sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) !=
	    SQLITE_OK)
		goto done;
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW && rc != SQLITE_DONE)
		goto done;
	rv = 1;
	if (rc == SQLITE_DONE)
		goto done;
	sealed = sqlite3_column_blob(stmt, 0);
	len = sqlite3_column_bytes(stmt, 0);
	if (sealed == NULL || len != AUDIT_SEALED_DATAKEY_BYTES)
		goto done;
	/* A row that names another key is damaged, whatever it opens to. */
	audit_key_id(sealed, (size_t)len, sealed_id);
	if (strcmp(sealed_id, id) != 0 || audit_datakey_open(sealed,
	    (size_t)len, st->pk, st->sk, st->scratch) == -1)
		goto done;
	/* Round robin: a query runs through keys in the order made. */
	slot = &st->cache[st->next];
	st->next = (st->next + 1) % UNSEAL_CACHE;
	memcpy(slot->dk, st->scratch, sizeof(slot->dk));
	memcpy(slot->id, id, sizeof(slot->id));
	sodium_memzero(st->scratch, sizeof(st->scratch));
	*dk = slot->dk;
	rv = 0;
 done:
	if (rv == -1) {
		msg = sqlite3_mprintf("unseal: cannot read audit_datakey: %s",
		    sqlite3_errmsg(db));
		sqlite3_result_error(ctx, msg != NULL ? msg : "unseal: cannot "
		    "read audit_datakey", -1);
		sqlite3_free(msg);
	}
	sqlite3_finalize(stmt);
	return rv;
}

static void
unseal_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct unseal_state	*st = sqlite3_user_data(ctx);
	const unsigned char	*sealed, *dk;
	char			 id[AUDIT_KEYID_LEN + 1], *plain = NULL;
	size_t			 plainlen = 0;
	int64_t			 seq;
	int			 len;

	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    (argc == 2 && sqlite3_value_type(argv[1]) == SQLITE_NULL))
		return;
	if (load_key(st, ctx) == -1)
		return;
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB)
		return;
	sealed = sqlite3_value_blob(argv[0]);
	len = sqlite3_value_bytes(argv[0]);
	if (sealed == NULL || len < 0 ||
	    audit_sealed_header(sealed, (size_t)len, &seq, id) == -1)
		return;
	/* Moved to another row: it was not sealed for this seq. */
	if (argc == 2 && (sqlite3_value_numeric_type(argv[1]) !=
	    SQLITE_INTEGER || sqlite3_value_int64(argv[1]) != seq))
		return;
	if (find_datakey(st, ctx, id, &dk) != 0)
		return;
	if (audit_unseal(dk, id, seq, sealed, (size_t)len, &plain,
	    &plainlen) == -1)
		return;
	sqlite3_result_text64(ctx, plain, plainlen, SQLITE_TRANSIENT,
	    SQLITE_UTF8);
	sodium_memzero(plain, plainlen);
	free(plain);
}

static void
unseal_destroy(void *arg)
{
	struct unseal_state	*st = arg;

	if (st == NULL || --st->refs > 0)
		return;
	sodium_free(st);
}

/*
 * DIRECTONLY: only top-level SQL typed by whoever holds the key may
 * call unseal(); a view or trigger planted in the database file by
 * someone else cannot make an auditor's query decrypt rows behind
 * their back.  Not DETERMINISTIC: the result depends on the key file
 * and on audit_datakey, so it must not go into an index or a
 * generated column either.
 */
#define UNSEAL_FLAGS	(SQLITE_UTF8 | SQLITE_DIRECTONLY)

int
sqlite3_polrecunseal_init(sqlite3 *db, char **errmsg,
    const sqlite3_api_routines *api)
{
	struct unseal_state	*st;
	int			 rc;

	SQLITE_EXTENSION_INIT2(api);
	if (sodium_init() < 0) {
		if (errmsg != NULL)
			*errmsg = sqlite3_mprintf("polrec_unseal: cannot "
			    "initialise libsodium");
		return SQLITE_ERROR;
	}
	if ((st = sodium_malloc(sizeof(*st))) == NULL)
		return SQLITE_NOMEM;
	memset(st, 0, sizeof(*st));
	/* Both forms share st; each registration's destructor drops one. */
	st->refs = 2;
	rc = sqlite3_create_function_v2(db, "unseal", 2, UNSEAL_FLAGS, st,
	    unseal_func, NULL, NULL, unseal_destroy);
	if (rc != SQLITE_OK) {
		/* SQLite ran the destructor once; drop the other reference. */
		unseal_destroy(st);
		return rc;
	}
	return sqlite3_create_function_v2(db, "unseal", 1, UNSEAL_FLAGS, st,
	    unseal_func, NULL, NULL, unseal_destroy);
}

/* The entry point sqlite3_load_extension tries after the named one. */
int
sqlite3_extension_init(sqlite3 *db, char **errmsg,
    const sqlite3_api_routines *api)
{
	return sqlite3_polrecunseal_init(db, errmsg, api);
}
