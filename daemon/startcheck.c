/*
 * Before polrecd opens its database for writing: is it the one it
 * wrote?  A missing or empty database while the appliance's keys exist
 * needs an authorisation (polrecctl audit new-trail); a file that fails
 * SQLite's quick_check, is no database, or holds another appliance's
 * trail is refused.  Each refusal is one log line saying what is wrong
 * and what to do.  Read-only: nothing is created or changed, except a
 * stale authorisation next to a trail, which is removed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "audit.h"
#include "conf.h"
#include "db.h"
#include "keyfile.h"
#include "log.h"
#include "newtrail.h"
#include "polrecd.h"
#include "trail.h"
#include "xmalloc.h"

#define SEE_MANUAL	"(see polrecd(8), DATABASE AT START-UP)"

enum found {
	FOUND_NONE,		/* no file */
	FOUND_EMPTY,		/* a file without a trail */
	FOUND_TRAIL
};

/* A zero-length file, with no WAL that could hold its pages. */
static int
has_wal(const char *path)
{
	struct stat	 st;
	char		*wal;
	int		 rv;

	/* An empty -wal (left by a clean close) holds no pages. */
	xasprintf(&wal, "%s-wal", path);
	rv = stat(wal, &st) == 0 && st.st_size > 0;
	free(wal);
	return rv;
}

static int
zero_length(const char *path, const struct stat *st)
{
	struct stat	 wst;
	char		 wal[PATH_MAX];

	if (st->st_size != 0)
		return 0;
	if (snprintf(wal, sizeof(wal), "%s-wal", path) >= (int)sizeof(wal))
		return 0;
	return stat(wal, &wst) == -1 || wst.st_size == 0;
}

/* Whose trail it is, by the signing key of key_dir.  0 ours (or no
 * key to tell), -1 refused. */
static int
check_signer(const struct conf *c, sqlite3 *db)
{
	unsigned char	 pk[AUDIT_SIGN_PUBBYTES];
	char		 other[AUDIT_KEYID_LEN + 1], own[AUDIT_KEYID_LEN + 1];
	char		 err[512];
	int		 rc;

	if (keyfile_read(c->audit_key_dir, KEYFILE_SIGNING_PUB, pk,
	    sizeof(pk), 0, err, sizeof(err)) == -1) {
		log_debug("database: whose trail is not checked: %s", err);
		return 0;
	}
	if ((rc = trail_signed_with(db, pk, other, err, sizeof(err))) == -1) {
		log_warnx("database %s cannot be read (%s): refusing to start "
		    "on it; restore it from a backup, or move it aside and "
		    "authorise a new trail with `polrecctl audit new-trail` "
		    SEE_MANUAL, c->audit_database, err);
		return -1;
	}
	if (rc == 0) {
		audit_key_id(pk, sizeof(pk), own);
		log_warnx("database %s is not this appliance's trail: it is "
		    "signed with key %s, this appliance's key is %s: refusing "
		    "to start on it; put back this host's database, or move "
		    "it aside and authorise a new trail with `polrecctl audit "
		    "new-trail` " SEE_MANUAL, c->audit_database, other, own);
		return -1;
	}
	return 0;
}

/* What is there: the file read-only, checked within the bound. */
static int
examine(const struct conf *c, enum found *found, const char **what)
{
	const char	*path = c->audit_database;
	struct stat	 st;
	sqlite3		*db = NULL;
	char		 err[512];
	uint64_t	 t0;
	int		 rc, has, rv = -1;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT) {
			*found = FOUND_NONE;
			*what = "does not exist";
			return 0;
		}
		log_warnx("database %s: %s: refusing to start", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("database %s is not a regular file: refusing to "
		    "start", path);
		return -1;
	}
	if (zero_length(path, &st)) {
		*found = FOUND_EMPTY;
		*what = "is an empty file";
		return 0;
	}
	/* Look, touch nothing: no -wal or -shm made for a refused file. */
	if (db_open_untouched(path, 0, !has_wal(path), &db, err,
	    sizeof(err)) == -1) {
		log_warnx("database %s is not a database polrecd wrote (%s): "
		    "refusing to start on it; restore it from a backup, or "
		    "move it aside and authorise a new trail with `polrecctl "
		    "audit new-trail` " SEE_MANUAL, path, err);
		return -1;
	}
	t0 = polrecd_now_us();
	rc = db_quick_check(db, (int)c->audit_startup_check_sec, err,
	    sizeof(err));
	if (rc == 1 || rc == -1) {
		log_warnx("database %s fails the integrity check at start-up "
		    "(quick_check: %s): refusing to start on a damaged trail; "
		    "keep the file as evidence, restore the database from a "
		    "backup, or move it aside and authorise a new trail with "
		    "`polrecctl audit new-trail` " SEE_MANUAL, path, err);
		goto done;
	}
	if (rc == 0)
		log_info("database %s: integrity check passed in %llu ms", path,
		    (unsigned long long)(polrecd_now_us() - t0) / 1000);
	if (rc == 2)
		log_warnx("database %s: the integrity check at start-up was "
		    "cut off after %lld s ([audit] startup_check_seconds): the "
		    "file is checked only in part; going on", path,
		    c->audit_startup_check_sec);
	if (db_has_trail(db, &has, err, sizeof(err)) == -1) {
		log_warnx("database %s is not a database polrecd wrote (%s): "
		    "refusing to start on it; move it aside, then restore "
		    "this host's database or authorise a new trail with "
		    "`polrecctl audit new-trail` " SEE_MANUAL, path, err);
		goto done;
	}
	*found = has ? FOUND_TRAIL : FOUND_EMPTY;
	*what = "holds no audit trail";
	if (has && check_signer(c, db) == -1)
		goto done;
	rv = 0;
done:
	db_close(db);
	return rv;
}

int
startcheck_database(const struct conf *c, int checkonly, char **authz,
    long long *uid)
{
	const char	*path = c->audit_database, *what = "";
	enum found	 found;
	char		 err[PATH_MAX + 256];
	int		 rc;

	*authz = NULL;
	*uid = -1;
	if (examine(c, &found, &what) == -1)
		return -1;
	if (found == FOUND_TRAIL) {
		/* Left over: it must not authorise a later loss. */
		if ((rc = newtrail_read(path, authz, uid, err,
		    sizeof(err))) != 0 && !checkonly) {
			log_warnx("database %s holds a trail: its new-trail "
			    "authorisation is not needed, removed", path);
			if (newtrail_remove(path, err, sizeof(err)) == -1)
				log_warnx("database: %s", err);
		}
		free(*authz);
		*authz = NULL;
		return 0;
	}
	/* A first start before `keys init`: the trail cannot be opened
	 * anyway, and journal_new says why. */
	if (!keyfile_exists(c->audit_key_dir, KEYFILE_SIGNING))
		return 0;
	if ((rc = newtrail_read(path, authz, uid, err, sizeof(err))) == -1) {
		log_warnx("database %s %s and the new-trail authorisation is "
		    "not valid (%s): refusing to start; write it again with "
		    "`polrecctl audit new-trail -r REASON` " SEE_MANUAL, path,
		    what, err);
		return -1;
	}
	if (rc == 0) {
		log_warnx("database %s %s, but this appliance's keys exist in "
		    "%s: refusing to start a new audit trail unasked; restore "
		    "the database from a backup, or authorise a new trail "
		    "with `polrecctl audit new-trail -r REASON` " SEE_MANUAL,
		    path, what, c->audit_key_dir);
		return -1;
	}
	log_info("database %s %s: a new audit trail, authorised by uid %lld",
	    path, what, *uid);
	return 0;
}

/* The authorisation's event is committed: it is used up. */
void
startcheck_done(const struct conf *c)
{
	char	 err[PATH_MAX + 64];

	if (newtrail_remove(c->audit_database, err, sizeof(err)) == -1)
		log_warnx("database: %s", err);
}
