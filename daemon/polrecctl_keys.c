/* polrecctl keys: making the appliance's keys in key_dir, once. */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "keyfile.h"
#include "polrecctl.h"
#include "xmalloc.h"

#define STATE_KEYBYTES	32

struct new_keys {
	unsigned char	 state[STATE_KEYBYTES];
	unsigned char	 sign_sk[AUDIT_SIGN_SECRETBYTES];
	unsigned char	 sign_pk[AUDIT_SIGN_PUBBYTES];
	unsigned char	 auditor_sk[AUDIT_BOX_SECRETBYTES];
	unsigned char	 auditor_pk[AUDIT_BOX_PUBBYTES];
};

/* A file written by this run, removed again if a later one fails. */
struct written {
	char	 path[PATH_MAX];
};

static int
keys_usage(void)
{
	fprintf(stderr, "usage: polrecctl keys init [-d key_dir] "
	    "[-a auditor_public_key_file] [-o auditor_secret_out]\n"
	    "       long options: --key-dir, --auditor-pub, "
	    "--auditor-key-out\n");
	return CTL_EXIT_USAGE;
}

static int
write_key(struct written *w, int *nw, const char *dir, const char *name,
    const unsigned char *key, size_t len, unsigned int mode)
{
	char	 err[PATH_MAX + 128];

	if (keyfile_write(dir, name, key, len, mode, err, sizeof(err)) == -1) {
		ctl_warnx("%s\n", err);
		return -1;
	}
	if (dir != NULL)
		snprintf(w[*nw].path, sizeof(w[*nw].path), "%s/%s", dir, name);
	else
		snprintf(w[*nw].path, sizeof(w[*nw].path), "%s", name);
	(*nw)++;
	return 0;
}

/* key_dir, made if missing; it must be a directory. */
static int
key_dir_ready(const char *dir)
{
	struct stat	 st;

	if (mkdir(dir, 0700) == 0) {
		ctl_warnx("created %s\n", dir);
		return 0;
	}
	if (errno != EEXIST) {
		ctl_warnx("%s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		ctl_warnx("%s: not a directory\n", dir);
		return -1;
	}
	return 0;
}

static int
keys_init(int argc, char *argv[], const char *conffile)
{
	static const char *const must_not_exist[] = { KEYFILE_STATE,
	    KEYFILE_SIGNING, KEYFILE_SIGNING_PUB, KEYFILE_AUDITOR_PUB };
	struct new_keys	 k;
	struct written	 w[5];
	unsigned char	 dk[AUDIT_DATAKEYBYTES];
	unsigned char	 sealed[AUDIT_SEALED_DATAKEY_BYTES];
	const char	*aflag = NULL, *oflag = NULL, *secret_dir, *secret_name;
	char		*dir = NULL, err[PATH_MAX + 128];
	char		 sign_id[AUDIT_KEYID_LEN + 1];
	char		 auditor_id[AUDIT_KEYID_LEN + 1];
	size_t		 i;
	int		 ch, nw = 0, exists = 0, rv = CTL_EXIT_FAIL;

	static const struct option longopts[] = {
		{ "auditor-pub",	required_argument,	NULL,	'a' },
		{ "key-dir",		required_argument,	NULL,	'd' },
		{ "auditor-key-out",	required_argument,	NULL,	'o' },
		{ NULL,			0,			NULL,	0 }
	};

	memset(&k, 0, sizeof(k));
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":a:d:o:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			aflag = optarg;
			break;
		case 'd':
			free(dir);
			dir = xstrdup(optarg);
			break;
		case 'o':
			oflag = optarg;
			break;
		case ':':
			ctl_warnx("keys init: %s needs an argument",
			    argv[optind - 1]);
			free(dir);
			return keys_usage();
		default:
			ctl_warnx("keys init: unknown option %s",
			    argv[optind - 1]);
			free(dir);
			return keys_usage();
		}
	}
	if (optind != argc || (aflag != NULL && oflag != NULL)) {
		if (optind != argc)
			ctl_warnx("keys init: unexpected "
			    "argument %s\n", argv[optind]);
		else
			ctl_warnx("keys init: -a imports "
			    "the auditor's public key; there is no secret "
			    "for -o\n");
		free(dir);
		return keys_usage();
	}
	if (ctl_dry_run) {
		free(dir);
		return CTL_EXIT_OK;
	}
	if (dir == NULL &&
	    (dir = polrecctl_conf_audit(conffile, "key_dir")) == NULL)
		return CTL_EXIT_FAIL;

	if (aflag != NULL && keyfile_read(NULL, aflag, k.auditor_pk,
	    sizeof(k.auditor_pk), 0, err, sizeof(err)) == -1) {
		ctl_warnx("%s\n", err);
		goto done;
	}
	/* A key nothing can be sealed to (small order) is no key. */
	if (aflag != NULL && audit_datakey_new(k.auditor_pk, dk, sealed,
	    auditor_id) == -1) {
		ctl_warnx("%s: not a usable X25519 public "
		    "key\n", aflag);
		goto done;
	}
	if (key_dir_ready(dir) == -1)
		goto done;
	/* All or nothing: look before writing anything. */
	for (i = 0; i < sizeof(must_not_exist) / sizeof(must_not_exist[0]);
	    i++)
		if (keyfile_exists(dir, must_not_exist[i])) {
			ctl_warnx("%s/%s exists\n", dir,
			    must_not_exist[i]);
			exists = 1;
		}
	secret_dir = oflag != NULL ? NULL : dir;
	secret_name = oflag != NULL ? oflag : KEYFILE_AUDITOR_SECRET;
	if (aflag == NULL && keyfile_exists(secret_dir, secret_name)) {
		ctl_warnx("%s%s%s exists\n",
		    secret_dir != NULL ? secret_dir : "",
		    secret_dir != NULL ? "/" : "", secret_name);
		exists = 1;
	}
	if (exists) {
		ctl_warnx("keys init: keys are made once and "
		    "never overwritten; nothing written\n");
		goto done;
	}

	randombytes_buf(k.state, sizeof(k.state));
	if (crypto_sign_keypair(k.sign_pk, k.sign_sk) != 0 ||
	    (aflag == NULL &&
	    crypto_box_keypair(k.auditor_pk, k.auditor_sk) != 0)) {
		ctl_warnx("cannot make keys\n");
		goto done;
	}
	if (write_key(w, &nw, dir, KEYFILE_STATE, k.state, sizeof(k.state),
	    0600) == -1 ||
	    write_key(w, &nw, dir, KEYFILE_SIGNING, k.sign_sk,
	    sizeof(k.sign_sk), 0600) == -1 ||
	    write_key(w, &nw, dir, KEYFILE_SIGNING_PUB, k.sign_pk,
	    sizeof(k.sign_pk), 0600) == -1 ||
	    (aflag == NULL && write_key(w, &nw, secret_dir, secret_name,
	    k.auditor_sk, sizeof(k.auditor_sk), 0600) == -1) ||
	    write_key(w, &nw, dir, KEYFILE_AUDITOR_PUB, k.auditor_pk,
	    sizeof(k.auditor_pk), 0600) == -1) {
		while (nw-- > 0)
			unlink(w[nw].path);
		ctl_warnx("keys init: nothing kept\n");
		goto done;
	}

	audit_key_id(k.sign_pk, sizeof(k.sign_pk), sign_id);
	audit_key_id(k.auditor_pk, sizeof(k.auditor_pk), auditor_id);
	printf("signing key %s  %s/%s\n", sign_id, dir, KEYFILE_SIGNING_PUB);
	printf("auditor key %s  %s/%s\n", auditor_id, dir,
	    KEYFILE_AUDITOR_PUB);
	if (aflag == NULL)
		ctl_warnx("the auditor's secret key is in "
		    "%s%s%s.\nMove it off this host now and keep it safe: "
		    "it opens the sealed personal\nmetadata of the audit "
		    "trail, and polrecd never needs it.\n",
		    secret_dir != NULL ? secret_dir : "",
		    secret_dir != NULL ? "/" : "", secret_name);
	/* Provisioning the keys is the explicit act for the first trail. */
	polrecctl_first_trail(conffile, dir);
	rv = CTL_EXIT_OK;
done:
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(dk, sizeof(dk));
	free(dir);
	return rv;
}

int
polrecctl_keys(int argc, char *argv[], const char *conffile)
{
	static const char *const names[] = { "init" };

	if (sodium_init() < 0) {
		ctl_warnx("cannot initialise libsodium\n");
		return CTL_EXIT_FAIL;
	}
	if (argc < 2)
		return keys_usage();
	switch (polrecctl_subcommand("keys", argv[1], names, 1)) {
	case 0:
		return keys_init(argc - 1, argv + 1, conffile);
	default:
		return CTL_EXIT_USAGE;
	}
}
