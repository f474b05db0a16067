/* polrecctl audit new-trail: authorising polrecd to start a new trail. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "conf.h"
#include "db.h"
#include "keyfile.h"
#include "newtrail.h"
#include "polrecctl.h"
#include "xmalloc.h"

static int
new_trail_usage(void)
{
	fprintf(stderr, "usage: polrecctl audit new-trail [-d database] "
	    "[-r reason]\n"
	    "       long options: --database, --reason\n");
	return CTL_EXIT_USAGE;
}

/*
 * Whether a trail is there: 0 none (no file, an empty one, or no event
 * in it), 1 a trail, -1 a file that is no database (err says why).
 */
static int
trail_at(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	sqlite3		*db;
	char		 wal[PATH_MAX];
	int		 has;

	/* A WAL left without its database would be read into the new
	 * one: old pages in a new trail. */
	if (snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal) &&
	    stat(wal, &st) == 0 && st.st_size > 0 && stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: a WAL without its database", wal);
		return -1;
	}
	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_size == 0)
		return 0;
	if (db_open_readonly(path, 0, &db, err, errlen) == -1)
		return -1;
	if (db_has_trail(db, &has, err, errlen) == -1) {
		db_close(db);
		return -1;
	}
	db_close(db);
	return has;
}

/*
 * The authorisation for `database`, refused over a trail.  Root writes
 * it for the owner of the signing key, who runs polrecd.
 */
static int
authorise(const char *database, const char *key_dir, const char *command,
    const char *reason)
{
	struct stat	 st;
	char		 err[PATH_MAX + 256], path[PATH_MAX];
	uid_t		 owner = (uid_t)-1;
	gid_t		 group = (gid_t)-1;
	int		 rc;

	if ((rc = trail_at(database, err, sizeof(err))) == -1) {
		ctl_warnx("%s\npolrecctl: move the file aside "
		    "(keep it as evidence), then authorise the new trail\n",
		    err);
		return CTL_EXIT_FAIL;
	}
	if (rc == 1) {
		ctl_warnx("%s holds an audit trail: a new "
		    "one is not needed; move it aside first if it must be "
		    "replaced\n", database);
		return CTL_EXIT_FAIL;
	}
	if (geteuid() == 0 && key_dir != NULL &&
	    snprintf(path, sizeof(path), "%s/%s", key_dir,
	    KEYFILE_SIGNING) < (int)sizeof(path) && stat(path, &st) == 0) {
		owner = st.st_uid;
		group = st.st_gid;
	}
	if (newtrail_write(database, command, reason, owner, group, err,
	    sizeof(err)) == -1) {
		ctl_warnx("%s\n", err);
		return CTL_EXIT_FAIL;
	}
	newtrail_path(database, path, sizeof(path));
	ctl_warnx("%s: polrecd may start a new audit trail "
	    "in %s; it records this authorisation as the trail's first "
	    "event\n", path, database);
	return CTL_EXIT_OK;
}

int
polrecctl_new_trail(int argc, char *argv[], const char *conffile)
{
	struct conf	*c = NULL;
	const char	*reason = "none given";
	char		*database = NULL, *errs = NULL;
	int		 ch, rv;
	static const struct option longopts[] = {
		{ "database",	required_argument,	NULL,	'd' },
		{ "reason",	required_argument,	NULL,	'r' },
		{ NULL,		0,			NULL,	0 }
	};

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":d:r:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			free(database);
			database = xstrdup(optarg);
			break;
		case 'r':
			reason = optarg;
			break;
		case ':':
			ctl_warnx("audit new-trail: %s needs an argument",
			    argv[optind - 1]);
			free(database);
			return new_trail_usage();
		default:
			ctl_warnx("audit new-trail: unknown option %s",
			    argv[optind - 1]);
			free(database);
			return new_trail_usage();
		}
	}
	if (optind != argc) {
		ctl_warnx("audit new-trail: unexpected "
		    "argument %s\n", argv[optind]);
		free(database);
		return new_trail_usage();
	}
	if (ctl_dry_run) {
		free(database);
		return CTL_EXIT_OK;
	}
	/* The key_dir too, when the file loads: whose the file is. */
	if (conf_load(conffile, &c, &errs) == -1) {
		c = NULL;
		if (database == NULL) {
			/* Says why the file does not load. */
			free(polrecctl_conf_audit(conffile, "database"));
			free(errs);
			return CTL_EXIT_FAIL;
		}
	}
	free(errs);
	if (database == NULL)
		database = xstrdup(c->audit_database);
	rv = authorise(database, c != NULL ? c->audit_key_dir : NULL,
	    "audit new-trail", reason);
	conf_free(c);
	free(database);
	return rv;
}

void
polrecctl_first_trail(const char *conffile, const char *key_dir)
{
	struct conf	*c;
	char		*errs = NULL, a[PATH_MAX], b[PATH_MAX];
	char		 err[PATH_MAX + 256];

	/* Only for the keys polrecd will use, and only on a fresh host. */
	if (conf_load(conffile, &c, &errs) == -1) {
		free(errs);
		return;
	}
	if (realpath(key_dir, a) != NULL &&
	    realpath(c->audit_key_dir, b) != NULL && strcmp(a, b) == 0 &&
	    trail_at(c->audit_database, err, sizeof(err)) == 0)
		(void)authorise(c->audit_database, key_dir, "keys init",
		    "first trail of new keys");
	conf_free(c);
}
