/* polrecctl audit: verifying, exporting and checkpointing the audit trail. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "conf.h"
#include "db.h"
#include "keyfile.h"
#include "polrecctl.h"
#include "trail.h"
#include "xmalloc.h"

#define AUDIT_SCHEMA_VERSION	2	/* schema/002_audit.sql */
#define CHECKPOINT_FILE_MAX	65536

char *
polrecctl_conf_audit(const char *conffile, const char *directive)
{
	struct conf	*c;
	char		*errs = NULL, *v;

	if (conf_load(conffile, &c, &errs) == -1) {
		fprintf(stderr, "%s", errs != NULL ? errs : "");
		if (errs == NULL || errs[0] == '\0' ||
		    errs[strlen(errs) - 1] != '\n')
			fprintf(stderr, "\n");
		fprintf(stderr, "polrecctl: cannot load %s for [audit] %s; "
		    "give it with -d\n", conffile, directive);
		free(errs);
		return NULL;
	}
	v = xstrdup(strcmp(directive, "database") == 0 ? c->audit_database :
	    c->audit_key_dir);
	conf_free(c);
	return v;
}

int
polrecctl_subcommand(const char *family, const char *word,
    const char *const names[], int n)
{
	int	 i, found = -1, nmatch = 0;

	for (i = 0; i < n; i++)
		if (strncmp(names[i], word, strlen(word)) == 0) {
			if (strcmp(names[i], word) == 0)
				return i;
			found = i;
			nmatch++;
		}
	if (nmatch == 1 && word[0] != '\0')
		return found;
	fprintf(stderr, "polrecctl: %s %s: %s command; valid commands:\n",
	    family, word, nmatch > 1 ? "ambiguous" : "unknown");
	for (i = 0; i < n; i++)
		fprintf(stderr, "  %s %s\n", family, names[i]);
	return -1;
}

static int
audit_usage(const char *cmd)
{
	if (cmd == NULL || strcmp(cmd, "verify") == 0)
		fprintf(stderr, "usage: polrecctl audit verify [-d database] "
		    "[-c exported_checkpoint.json]\n"
		    "                              [-k signing_public_key_file]"
		    "\n");
	if (cmd == NULL || strcmp(cmd, "export") == 0)
		fprintf(stderr, "usage: polrecctl audit export [-d database] "
		    "[-s since] [-u until] [-c call_id]\n"
		    "                              [-K auditor_secret_key_file]"
		    "\n");
	if (cmd == NULL || strcmp(cmd, "checkpoint") == 0)
		fprintf(stderr, "usage: polrecctl audit checkpoint "
		    "[-d database]\n");
	return CTL_EXIT_USAGE;
}

/* A getopt error: say which, then the usage. */
static int
opt_error(const char *cmd, int ch, char *argv[])
{
	if (ch == ':')
		fprintf(stderr, "polrecctl: audit %s: %s needs an argument\n",
		    cmd, argv[optind - 1]);
	else if (optopt != 0)
		fprintf(stderr, "polrecctl: audit %s: unknown option -%c\n",
		    cmd, optopt);
	else
		fprintf(stderr, "polrecctl: audit %s: unknown option %s\n",
		    cmd, argv[optind - 1]);
	return audit_usage(cmd);
}

static sqlite3 *
open_trail_db(const char *path)
{
	sqlite3	*db;
	char	 err[PATH_MAX + 256];

	if (db_open_readonly(path, AUDIT_SCHEMA_VERSION, &db, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "polrecctl: %s\n", err);
		return NULL;
	}
	return db;
}

/* An exported checkpoint file, as `audit checkpoint` printed it. */
static int
read_checkpoint(const char *path, struct audit_checkpoint *cp,
    unsigned char pk[AUDIT_SIGN_PUBBYTES])
{
	FILE	*fp;
	char	*buf, err[256];
	size_t	 n;
	int	 rv = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "polrecctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = xmalloc(CHECKPOINT_FILE_MAX + 1);
	n = fread(buf, 1, CHECKPOINT_FILE_MAX + 1, fp);
	if (ferror(fp))
		fprintf(stderr, "polrecctl: %s: %s\n", path, strerror(errno));
	else if (n > CHECKPOINT_FILE_MAX)
		fprintf(stderr, "polrecctl: %s: too large for a checkpoint\n",
		    path);
	else if (audit_checkpoint_from_json(buf, n, cp, pk, err,
	    sizeof(err)) == -1)
		fprintf(stderr, "polrecctl: %s: %s\n", path, err);
	else
		rv = 0;
	free(buf);
	fclose(fp);
	return rv;
}

static int
audit_verify(int argc, char *argv[], const char *conffile)
{
	struct trail_verify_opts o;
	struct trail_report	 r;
	struct audit_checkpoint	 exported, last;
	unsigned char		 exported_pk[AUDIT_SIGN_PUBBYTES];
	unsigned char		 pinned[AUDIT_SIGN_PUBBYTES];
	unsigned char		 last_pk[AUDIT_SIGN_PUBBYTES];
	const char		*cflag = NULL, *kflag = NULL;
	char			*path = NULL, err[PATH_MAX + 256], when[48];
	sqlite3			*db = NULL;
	int			 ch, rc, rv = CTL_EXIT_FAIL;

	optind = 0;
	opterr = 0;
	while ((ch = getopt(argc, argv, ":c:d:k:")) != -1) {
		switch (ch) {
		case 'c':
			cflag = optarg;
			break;
		case 'd':
			free(path);
			path = xstrdup(optarg);
			break;
		case 'k':
			kflag = optarg;
			break;
		default:
			free(path);
			return opt_error("verify", ch, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "polrecctl: audit verify: unexpected argument "
		    "%s\n", argv[optind]);
		free(path);
		return audit_usage("verify");
	}
	if (path == NULL &&
	    (path = polrecctl_conf_audit(conffile, "database")) == NULL)
		return CTL_EXIT_FAIL;

	memset(&o, 0, sizeof(o));
	if (cflag != NULL) {
		if (read_checkpoint(cflag, &exported, exported_pk) == -1)
			goto done;
		o.exported = &exported;
		o.exported_pk = exported_pk;
	}
	if (kflag != NULL) {
		if (keyfile_read(NULL, kflag, pinned, sizeof(pinned), 0, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "polrecctl: %s\n", err);
			goto done;
		}
		o.pinned_pk = pinned;
	}
	if ((db = open_trail_db(path)) == NULL)
		goto done;

	/* One snapshot for the verdict and the last checkpoint's time. */
	if (db_exec(db, "BEGIN", err, sizeof(err)) == -1) {
		fprintf(stderr, "polrecctl: audit verify: %s\n", err);
		goto done;
	}
	rc = trail_verify(db, &o, &r);
	if (rc == -1) {
		fprintf(stderr, "polrecctl: audit verify: %s\n", r.problem);
		goto done;
	}
	if (rc == 1) {
		printf("audit trail NOT intact: %s\n", r.problem);
		if (r.bad_seq != 0)
			printf("first bad event: %lld\n", (long long)r.bad_seq);
		goto done;
	}
	if (r.events == 0)
		printf("audit trail intact: no events, %lld checkpoints\n",
		    (long long)r.checkpoints);
	else
		printf("audit trail intact: %lld events (first %lld, last "
		    "%lld), %lld checkpoints", (long long)r.events,
		    (long long)r.first_seq, (long long)r.last_seq,
		    (long long)r.checkpoints);
	if (r.events > 0 && r.last_checkpoint_seq == 0)
		printf("; none signs the events yet\n");
	else if (r.events > 0) {
		printf(", last signed at event %lld",
		    (long long)r.last_checkpoint_seq);
		if (trail_latest_checkpoint(db, &last, last_pk, err,
		    sizeof(err)) == 0 && last.seq == r.last_checkpoint_seq) {
			trail_format_time(last.utc_us, when, sizeof(when));
			printf(" (%s)", when);
		}
		if (r.last_seq > r.last_checkpoint_seq)
			printf("; %lld events after it not signed yet",
			    (long long)(r.last_seq - r.last_checkpoint_seq));
		printf("\n");
	}
	if (o.exported != NULL)
		printf("exported checkpoint at event %lld: matches\n",
		    (long long)exported.seq);
	if (o.pinned_pk != NULL)
		printf("checkpoints signed with the pinned key only\n");
	rv = CTL_EXIT_OK;
done:
	db_close(db);
	free(path);
	return rv;
}

static int
audit_export(int argc, char *argv[], const char *conffile)
{
	static const struct option longopts[] = {
		{ "database",	required_argument,	NULL,	'd' },
		{ "since",	required_argument,	NULL,	's' },
		{ "until",	required_argument,	NULL,	'u' },
		{ "call",	required_argument,	NULL,	'c' },
		{ "key",	required_argument,	NULL,	'K' },
		{ NULL,		0,			NULL,	0 },
	};
	struct trail_filter	 f;
	unsigned char		 sk[AUDIT_BOX_SECRETBYTES];
	const char		*kflag = NULL;
	char			*path = NULL, err[PATH_MAX + 256];
	sqlite3			*db = NULL;
	int			 ch, rv = CTL_EXIT_FAIL;

	memset(&f, 0, sizeof(f));
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:d:K:s:u:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			f.call_id = optarg;
			break;
		case 'd':
			free(path);
			path = xstrdup(optarg);
			break;
		case 'K':
			kflag = optarg;
			break;
		case 's':
		case 'u':
			if (trail_parse_time(optarg, ch == 's' ?
			    &f.since_utc_us : &f.until_utc_us) == -1) {
				fprintf(stderr, "polrecctl: audit export: "
				    "%s: not a time (2026-11-23, "
				    "2026-11-23T10:00:00Z, or seconds since "
				    "the epoch)\n", optarg);
				free(path);
				return audit_usage("export");
			}
			break;
		default:
			free(path);
			return opt_error("export", ch, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "polrecctl: audit export: unexpected argument "
		    "%s\n", argv[optind]);
		free(path);
		return audit_usage("export");
	}
	if (f.since_utc_us != 0 && f.until_utc_us != 0 &&
	    f.until_utc_us <= f.since_utc_us) {
		fprintf(stderr, "polrecctl: audit export: until must be after "
		    "since\n");
		free(path);
		return audit_usage("export");
	}
	if (path == NULL &&
	    (path = polrecctl_conf_audit(conffile, "database")) == NULL)
		return CTL_EXIT_FAIL;
	if (kflag != NULL) {
		if (keyfile_read(NULL, kflag, sk, sizeof(sk), KEYFILE_SECRET,
		    err, sizeof(err)) == -1) {
			fprintf(stderr, "polrecctl: %s\n", err);
			goto done;
		}
		f.auditor_sk = sk;
	}
	if ((db = open_trail_db(path)) == NULL)
		goto done;
	if (trail_export(db, &f, stdout, err, sizeof(err)) == -1) {
		fprintf(stderr, "polrecctl: audit export: %s\n", err);
		goto done;
	}
	rv = CTL_EXIT_OK;
done:
	sodium_memzero(sk, sizeof(sk));
	db_close(db);
	free(path);
	return rv;
}

static int
audit_checkpoint(int argc, char *argv[], const char *conffile)
{
	struct audit_checkpoint	 cp;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES];
	char			*path = NULL, *json = NULL, err[256];
	sqlite3			*db = NULL;
	int			 ch, rc, rv = CTL_EXIT_FAIL;

	optind = 0;
	opterr = 0;
	while ((ch = getopt(argc, argv, ":d:")) != -1) {
		switch (ch) {
		case 'd':
			free(path);
			path = xstrdup(optarg);
			break;
		default:
			free(path);
			return opt_error("checkpoint", ch, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "polrecctl: audit checkpoint: unexpected "
		    "argument %s\n", argv[optind]);
		free(path);
		return audit_usage("checkpoint");
	}
	if (path == NULL &&
	    (path = polrecctl_conf_audit(conffile, "database")) == NULL)
		return CTL_EXIT_FAIL;
	if ((db = open_trail_db(path)) == NULL)
		goto done;
	if ((rc = trail_latest_checkpoint(db, &cp, pk, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "polrecctl: audit checkpoint: %s\n", err);
		goto done;
	}
	if ((json = audit_checkpoint_to_json(&cp, pk)) == NULL) {
		fprintf(stderr, "polrecctl: audit checkpoint: cannot write "
		    "checkpoint %lld as JSON\n", (long long)cp.seq);
		goto done;
	}
	printf("%s\n", json);
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "polrecctl: audit checkpoint: %s\n",
		    strerror(errno));
		goto done;
	}
	rv = CTL_EXIT_OK;
done:
	free(json);
	db_close(db);
	free(path);
	return rv;
}

int
polrecctl_audit(int argc, char *argv[], const char *conffile)
{
	static const char *const names[] = { "verify", "export",
	    "checkpoint" };

	if (sodium_init() < 0) {
		fprintf(stderr, "polrecctl: cannot initialise libsodium\n");
		return CTL_EXIT_FAIL;
	}
	if (argc < 2)
		return audit_usage(NULL);
	switch (polrecctl_subcommand("audit", argv[1], names, 3)) {
	case 0:
		return audit_verify(argc - 1, argv + 1, conffile);
	case 1:
		return audit_export(argc - 1, argv + 1, conffile);
	case 2:
		return audit_checkpoint(argc - 1, argv + 1, conffile);
	default:
		return CTL_EXIT_USAGE;
	}
}
