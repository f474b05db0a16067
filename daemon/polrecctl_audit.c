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
		ctl_warnx("%s", errs != NULL && errs[0] != '\0' ? errs :
		    "configuration not valid");
		ctl_warnx("cannot load %s for [audit] %s; "
		    "give %s\n", conffile, directive,
		    strcmp(directive, "key_dir") == 0 ?
		    "the signing public key with -k" : "it with -d");
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
	ctl_warnx("%s %s: %s command; one of: %s %s%s%s%s%s%s%s", family,
	    word, nmatch > 1 ? "ambiguous" : "unknown", family, names[0],
	    n > 1 ? ", " : "", n > 1 ? names[1] : "", n > 2 ? ", " : "",
	    n > 2 ? names[2] : "", n > 3 ? ", " : "", n > 3 ? names[3] : "");
	return -1;
}

static int
audit_usage(const char *cmd)
{
	if (cmd == NULL || strcmp(cmd, "verify") == 0)
		fprintf(stderr, "usage: polrecctl audit verify [-d database] "
		    "[-k signing.pub] [-c checkpoint]\n"
		    "                              [-T tsa_ca.pem] "
		    "[-L max_lag_seconds]\n");
	if (cmd == NULL || strcmp(cmd, "export") == 0)
		fprintf(stderr, "usage: polrecctl audit export [-d database] "
		    "[-s since] [-u until] [-c call_id]\n"
		    "                              [-K auditor_secret_key_file]"
		    "\n");
	if (cmd == NULL || strcmp(cmd, "checkpoint") == 0)
		fprintf(stderr, "usage: polrecctl audit checkpoint "
		    "[-d database]\n");
	fprintf(stderr, "long options: --database (-d), --key (-k), "
	    "--checkpoint (-c),\n  --tsa-ca (-T), --tsa-lag (-L); export: "
	    "--since (-s), --until (-u),\n  --call (-c), --key (-K); "
	    "new-trail: --reason (-r)\n");
	if (cmd == NULL)
		fprintf(stderr, "usage: polrecctl audit new-trail "
		    "[-d database] [-r reason]\n");
	return CTL_EXIT_USAGE;
}

/* A getopt error: say which, then the usage. */
static int
opt_error(const char *cmd, int ch, char *argv[])
{
	if (ch == ':')
		ctl_warnx("audit %s: %s needs an argument\n",
		    cmd, argv[optind - 1]);
	else if (optopt != 0)
		ctl_warnx("audit %s: unknown option -%c\n",
		    cmd, optopt);
	else
		ctl_warnx("audit %s: unknown option %s\n",
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
		ctl_warnx("%s\n", err);
		return NULL;
	}
	return db;
}

/*
 * A checkpoint that left the host: the JSON `audit checkpoint` prints or
 * a witness keeps, or log lines ("... audit checkpoint {...}", from
 * syslog or the journal), of which the newest that parses is taken.
 */
static int
read_checkpoint(const char *path, struct audit_checkpoint *cp,
    unsigned char pk[AUDIT_SIGN_PUBBYTES])
{
	FILE	*fp;
	char	*buf, *line, *next, *brace, *end, err[256];
	size_t	 n;
	int	 found = 0, rv = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		ctl_warnx("%s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = xmalloc(CHECKPOINT_FILE_MAX + 1);
	n = fread(buf, 1, CHECKPOINT_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		ctl_warnx("%s: %s\n", path, strerror(errno));
		goto done;
	}
	if (n > CHECKPOINT_FILE_MAX) {
		ctl_warnx("%s: over %d bytes; give the lines "
		    "with the checkpoint only\n", path, CHECKPOINT_FILE_MAX);
		goto done;
	}
	buf[n] = '\0';
	if (audit_checkpoint_from_json(buf, n, cp, pk, err, sizeof(err)) == 0) {
		rv = 0;
		goto done;
	}
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((brace = strchr(line, '{')) == NULL)
			continue;
		end = brace + strlen(brace);
		while (end > brace && (end[-1] == '\r' || end[-1] == ' '))
			*--end = '\0';
		if (audit_checkpoint_from_json(brace, (size_t)(end - brace), cp,
		    pk, err, sizeof(err)) == 0)
			found = 1;
	}
	if (found)
		rv = 0;
	else
		ctl_warnx("%s: no checkpoint in it (%s)\n",
		    path, err);
done:
	free(buf);
	fclose(fp);
	return rv;
}

struct verify_args {
	struct audit_checkpoint	 exported[TRAIL_MAX_EXPORTED];
	unsigned char		 exported_pk[TRAIL_MAX_EXPORTED]
				    [AUDIT_SIGN_PUBBYTES];
	unsigned char		 pinned[TRAIL_MAX_PINNED][AUDIT_SIGN_PUBBYTES];
	size_t			 nexported, npinned;
	char			*path;
	const char		*tsa_ca;
	long long		 tsa_lag;
};

static int
verify_options(int argc, char *argv[], struct verify_args *a)
{
	static const struct option longopts[] = {
		{ "database",	required_argument,	NULL,	'd' },
		{ "checkpoint",	required_argument,	NULL,	'c' },
		{ "key",	required_argument,	NULL,	'k' },
		{ "tsa-ca",	required_argument,	NULL,	'T' },
		{ "tsa-lag",	required_argument,	NULL,	'L' },
		{ NULL,		0,			NULL,	0 },
	};
	const char	*errstr;
	char		 err[PATH_MAX + 256];
	int		 ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:d:k:L:T:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (a->nexported == TRAIL_MAX_EXPORTED) {
				ctl_warnx("audit verify: at "
				    "most %d -c\n", TRAIL_MAX_EXPORTED);
				return CTL_EXIT_USAGE;
			}
			if (!ctl_dry_run && read_checkpoint(optarg,
			    &a->exported[a->nexported],
			    a->exported_pk[a->nexported]) == -1)
				return CTL_EXIT_FAIL;
			a->nexported++;
			break;
		case 'd':
			free(a->path);
			a->path = xstrdup(optarg);
			break;
		case 'k':
			if (a->npinned == TRAIL_MAX_PINNED) {
				ctl_warnx("audit verify: at "
				    "most %d -k\n", TRAIL_MAX_PINNED);
				return CTL_EXIT_USAGE;
			}
			if (!ctl_dry_run && keyfile_read(NULL, optarg,
			    a->pinned[a->npinned], AUDIT_SIGN_PUBBYTES, 0, err,
			    sizeof(err)) == -1) {
				ctl_warnx("%s\n", err);
				return CTL_EXIT_FAIL;
			}
			a->npinned++;
			break;
		case 'L':
			a->tsa_lag = strtonum(optarg, 1, 365LL * 86400,
			    &errstr);
			if (errstr != NULL) {
				ctl_warnx("audit verify: -L "
				    "%s: seconds, %s\n", optarg, errstr);
				return audit_usage("verify");
			}
			break;
		case 'T':
			a->tsa_ca = optarg;
			break;
		default:
			return opt_error("verify", ch, argv);
		}
	}
	if (optind != argc) {
		ctl_warnx("audit verify: unexpected argument "
		    "%s\n", argv[optind]);
		return audit_usage("verify");
	}
	return CTL_EXIT_OK;
}

/* Without -k: the appliance's signing.pub, from key_dir of -f's file. */
static int
pin_from_key_dir(struct verify_args *a, const char *conffile)
{
	char	*dir, err[PATH_MAX + 256];
	int	 rv = CTL_EXIT_OK;

	if ((dir = polrecctl_conf_audit(conffile, "key_dir")) == NULL)
		return CTL_EXIT_FAIL;
	if (keyfile_read(dir, KEYFILE_SIGNING_PUB, a->pinned[0],
	    AUDIT_SIGN_PUBBYTES, 0, err, sizeof(err)) == -1) {
		ctl_warnx("%s\npolrecctl: audit verify needs "
		    "the appliance's signing public key: give it with -k\n",
		    err);
		rv = CTL_EXIT_FAIL;
	} else
		a->npinned = 1;
	free(dir);
	return rv;
}

static void
print_time_span(const char *what, int64_t from, int64_t to)
{
	char	 a[48], b[48];

	trail_format_time(from, a, sizeof(a));
	trail_format_time(to, b, sizeof(b));
	printf("%s %s .. %s\n", what, a, b);
}

static void
print_segments(const struct trail_report *r)
{
	const struct trail_segment	*s;
	char				 when[48];
	int				 i;

	for (i = 0; i < r->nsegments; i++) {
		s = &r->segments[i];
		printf("integrity break recorded at event %lld: first bad "
		    "event %lld, chain restarted from event %lld",
		    (long long)s->seq, (long long)s->first_bad,
		    (long long)s->anchor_seq);
		if (s->ack_seq != 0) {
			trail_format_time(s->ack_utc_us, when, sizeof(when));
			printf("; acknowledged by %s at %s (event %lld)",
			    s->ack_by, when, (long long)s->ack_seq);
		} else
			printf("; NOT acknowledged");
		printf("\n");
	}
	if (r->quarantined > 0)
		printf("%lld event(s) left out of the chain by integrity "
		    "breaks: not verified\n", (long long)r->quarantined);
}

/*
 * Exit 0: intact, and every event is covered by a checkpoint signed with
 * the pinned key.  VERIFY_EXIT_TAIL: intact, the newest events are not
 * covered yet (normal while polrecd runs).  1: not intact, or it could
 * not be checked.
 */
static int
audit_verify(int argc, char *argv[], const char *conffile)
{
	struct verify_args	*a;
	struct trail_verify_opts o;
	struct trail_report	*r;
	struct audit_checkpoint	 last;
	unsigned char		 last_pk[AUDIT_SIGN_PUBBYTES];
	char			 err[PATH_MAX + 256], when[48];
	sqlite3			*db = NULL;
	size_t			 i;
	int			 rc, rv;

	a = xcalloc(1, sizeof(*a));
	r = xcalloc(1, sizeof(*r));
	if ((rv = verify_options(argc, argv, a)) != CTL_EXIT_OK ||
	    ctl_dry_run)
		goto done;
	rv = CTL_EXIT_FAIL;
	if (a->path == NULL &&
	    (a->path = polrecctl_conf_audit(conffile, "database")) == NULL)
		goto done;
	if (a->npinned == 0 && pin_from_key_dir(a, conffile) != CTL_EXIT_OK)
		goto done;

	memset(&o, 0, sizeof(o));
	o.pinned_pk = a->pinned[0];
	o.npinned = a->npinned;
	if (a->nexported > 0) {
		o.exported = a->exported;
		o.exported_pk = a->exported_pk[0];
		o.nexported = a->nexported;
	}
	o.tsa_ca_file = a->tsa_ca;
	o.tsa_max_lag_us = a->tsa_lag * 1000000;
	if ((db = open_trail_db(a->path)) == NULL)
		goto done;

	/* One snapshot for the verdict and the last checkpoint's time. */
	if (db_exec(db, "BEGIN", err, sizeof(err)) == -1) {
		ctl_warnx("audit verify: %s\n", err);
		goto done;
	}
	rc = trail_verify(db, &o, r);
	if (rc == -1) {
		ctl_warnx("audit verify: %s\n", r->problem);
		goto done;
	}
	if (rc == 1) {
		printf("audit trail NOT intact: %s\n", r->problem);
		if (r->bad_seq != 0)
			printf("first bad event: %lld\n", (long long)r->bad_seq);
		print_segments(r);
		goto done;
	}
	if (r->events == 0)
		printf("audit trail intact: no events, %lld checkpoints\n",
		    (long long)r->checkpoints);
	else {
		printf("audit trail intact: %lld events (first %lld, last "
		    "%lld), %lld checkpoints, last at event %lld",
		    (long long)r->events, (long long)r->first_seq,
		    (long long)r->last_seq, (long long)r->checkpoints,
		    (long long)r->last_checkpoint_seq);
		if (trail_latest_checkpoint(db, &last, last_pk, err,
		    sizeof(err)) == 0 && last.seq == r->last_checkpoint_seq) {
			trail_format_time(last.utc_us, when, sizeof(when));
			printf(" (%s)", when);
		}
		printf("\n");
	}
	printf("signed with the pinned key:");
	for (i = 0; i < a->npinned; i++) {
		audit_key_id(a->pinned[i], AUDIT_SIGN_PUBBYTES, err);
		printf(" %s", err);
	}
	printf("\n");
	print_segments(r);
	if (a->nexported > 0)
		printf("off-host checkpoints: %d of %zu found in the trail, "
		    "matching\n", r->exported_matched, a->nexported);
	if (a->tsa_ca != NULL) {
		printf("time stamps: %lld verified", (long long)r->timestamps);
		if (r->timestamps > 0) {
			trail_format_time(r->timestamp_last_gen_utc_us, when,
			    sizeof(when));
			printf("; event %lld existed by %s (trusted time)",
			    (long long)r->timestamp_last_seq, when);
		}
		printf("\n");
	}
	if (r->uncovered > 0) {
		printf("not yet covered by a checkpoint: the last %lld "
		    "event(s)\n", (long long)r->uncovered);
		print_time_span("  spanning", r->uncovered_from_utc_us,
		    r->uncovered_to_utc_us);
		rv = VERIFY_EXIT_TAIL;
	} else
		rv = CTL_EXIT_OK;
done:
	db_close(db);
	free(a->path);
	free(a);
	free(r);
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
				ctl_warnx("audit export: "
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
		ctl_warnx("audit export: unexpected argument "
		    "%s\n", argv[optind]);
		free(path);
		return audit_usage("export");
	}
	if (f.since_utc_us != 0 && f.until_utc_us != 0 &&
	    f.until_utc_us <= f.since_utc_us) {
		ctl_warnx("audit export: until must be after "
		    "since\n");
		free(path);
		return audit_usage("export");
	}
	if (ctl_dry_run) {
		free(path);
		return CTL_EXIT_OK;
	}
	if (path == NULL &&
	    (path = polrecctl_conf_audit(conffile, "database")) == NULL)
		return CTL_EXIT_FAIL;
	if (kflag != NULL) {
		if (keyfile_read(NULL, kflag, sk, sizeof(sk), KEYFILE_SECRET,
		    err, sizeof(err)) == -1) {
			ctl_warnx("%s\n", err);
			goto done;
		}
		f.auditor_sk = sk;
	}
	if ((db = open_trail_db(path)) == NULL)
		goto done;
	if (trail_export(db, &f, stdout, err, sizeof(err)) == -1) {
		ctl_warnx("audit export: %s\n", err);
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
	static const struct option longopts[] = {
		{ "database",	required_argument,	NULL,	'd' },
		{ NULL,		0,			NULL,	0 }
	};

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":d:", longopts, NULL)) != -1) {
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
		ctl_warnx("audit checkpoint: unexpected "
		    "argument %s\n", argv[optind]);
		free(path);
		return audit_usage("checkpoint");
	}
	if (ctl_dry_run) {
		free(path);
		return CTL_EXIT_OK;
	}
	if (path == NULL &&
	    (path = polrecctl_conf_audit(conffile, "database")) == NULL)
		return CTL_EXIT_FAIL;
	if ((db = open_trail_db(path)) == NULL)
		goto done;
	if ((rc = trail_latest_checkpoint(db, &cp, pk, err,
	    sizeof(err))) != 0) {
		ctl_warnx("audit checkpoint: %s\n", err);
		goto done;
	}
	if ((json = audit_checkpoint_to_json(&cp, pk)) == NULL) {
		ctl_warnx("audit checkpoint: cannot write "
		    "checkpoint %lld as JSON\n", (long long)cp.seq);
		goto done;
	}
	printf("%s\n", json);
	if (fflush(stdout) == EOF) {
		ctl_warnx("audit checkpoint: %s\n",
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
	    "checkpoint", "new-trail" };

	if (sodium_init() < 0) {
		ctl_warnx("cannot initialise libsodium\n");
		return CTL_EXIT_FAIL;
	}
	if (argc < 2)
		return audit_usage(NULL);
	switch (polrecctl_subcommand("audit", argv[1], names, 4)) {
	case 0:
		return audit_verify(argc - 1, argv + 1, conffile);
	case 1:
		return audit_export(argc - 1, argv + 1, conffile);
	case 2:
		return audit_checkpoint(argc - 1, argv + 1, conffile);
	case 3:
		return polrecctl_new_trail(argc - 1, argv + 1, conffile);
	default:
		return CTL_EXIT_USAGE;
	}
}
