/*
 * polrecd -n: what can be checked of a configuration without the
 * network, beyond its syntax: the Graph credentials are configured and
 * readable, the keys are in key_dir, the database's and the control
 * socket's directories are writable, the TLS certificate and key are
 * readable and belong together, the media agent secret is there when
 * needed.  One line per problem, naming the file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "conf.h"
#include "keyfile.h"
#include "log.h"
#include "polrecd.h"

#define CHECK_SECRET_MAX	4096

/* A secret file: readable, a first line that fits (modes: conf_load). */
static int
check_secret(const char *what, const char *path)
{
	char	*buf, err[256];
	int	 rv = 0;

	if ((buf = sodium_malloc(CHECK_SECRET_MAX)) == NULL)
		fatalx("sodium_malloc");
	if (conf_read_secret(path, buf, CHECK_SECRET_MAX, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: %s", what, err);
		rv = -1;
	}
	sodium_free(buf);
	return rv;
}

/* A certificate and its private key, PEM, belonging together. */
static int
check_pair(const char *what, const char *cert, const char *key)
{
	FILE		*f;
	X509		*x = NULL;
	EVP_PKEY	*k = NULL;
	int		 rv = -1;

	if ((f = fopen(cert, "r")) == NULL) {
		log_warn("%s: certificate %s", what, cert);
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		log_warnx("%s: %s: no PEM certificate", what, cert);
		return -1;
	}
	if ((f = fopen(key, "r")) == NULL) {
		log_warn("%s: key %s", what, key);
		goto done;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		log_warnx("%s: %s: no PEM private key", what, key);
	else if (X509_check_private_key(x, k) != 1)
		log_warnx("%s: %s is not the key of certificate %s", what, key,
		    cert);
	else
		rv = 0;
 done:
	EVP_PKEY_free(k);
	X509_free(x);
	return rv;
}

/* The directory a file is created in can be written by this user. */
static int
check_dir_of(const char *what, const char *path)
{
	char	 copy[PATH_MAX], *dir;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		log_warnx("%s %s: path too long", what, path);
		return -1;
	}
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK) == -1) {
		log_warn("%s %s: directory %s not writable", what, path, dir);
		return -1;
	}
	return 0;
}

static int
check_key(const char *dir, const char *name, size_t len, int flags)
{
	unsigned char	 key[64];
	char		 err[512];
	int		 rv;

	rv = keyfile_read(dir, name, key, len, flags, err, sizeof(err));
	sodium_memzero(key, sizeof(key));
	if (rv == -1)
		log_warnx("key_dir: %s (create the keys with `polrecctl keys "
		    "init`)", err);
	return rv;
}

#define PLACEHOLDER_ID	"00000000-0000-0000-0000-000000000000"

int
confcheck_files(const struct conf *c)
{
	char	**t;
	int	 n = 0;

	/* The sample file's placeholders: not yet configured. */
	if (c->graph_app_id != NULL &&
	    strcmp(c->graph_app_id, PLACEHOLDER_ID) == 0) {
		log_warnx("[graph] app_id is the sample's placeholder: set "
		    "the bot's application (client) id");
		n++;
	}
	for (t = c->tenants; t != NULL && *t != NULL; t++)
		if (strcmp(*t, PLACEHOLDER_ID) == 0) {
			log_warnx("[tenants] ids: %s is the sample's "
			    "placeholder: set the tenants served", *t);
			n++;
		}

	/* Graph: without credentials no invitation can be answered. */
	if (c->graph_client_secret_file == NULL &&
	    c->graph_client_cert_file == NULL) {
		log_warnx("[graph] neither client_secret_file nor "
		    "client_cert_file: invitations cannot be answered");
		n++;
	} else if (c->graph_client_secret_file != NULL)
		n += check_secret("[graph] client_secret_file",
		    c->graph_client_secret_file) == -1;
	else if (c->graph_client_key_file == NULL) {
		log_warnx("[graph] client_cert_file %s without "
		    "client_key_file", c->graph_client_cert_file);
		n++;
	} else
		n += check_pair("[graph] client_cert_file",
		    c->graph_client_cert_file, c->graph_client_key_file) == -1;

	/* The appliance's keys, as polrecd reads them at start-up. */
	n += check_key(c->audit_key_dir, KEYFILE_SIGNING,
	    crypto_sign_SECRETKEYBYTES, KEYFILE_SECRET) == -1;
	n += check_key(c->audit_key_dir, KEYFILE_STATE, 32,
	    KEYFILE_SECRET) == -1;
	n += check_key(c->audit_key_dir, KEYFILE_AUDITOR_PUB,
	    crypto_box_PUBLICKEYBYTES, 0) == -1;

	/* The database and its WAL; the control socket. */
	if (access(c->audit_database, F_OK) == 0 &&
	    access(c->audit_database, R_OK | W_OK) == -1) {
		log_warn("[audit] database %s", c->audit_database);
		n++;
	}
	n += check_dir_of("[audit] database", c->audit_database) == -1;
	n += check_dir_of("[control] socket", c->control_socket) == -1;

	if (c->http_tls_cert != NULL)
		n += check_pair("[http] tls_cert", c->http_tls_cert,
		    c->http_tls_key != NULL ? c->http_tls_key :
		    c->http_tls_cert) == -1;

	if (c->recording_capture_source == CAPTURE_SOURCE_AGENT) {
		if (c->recording_media_agent_secret_file == NULL) {
			log_warnx("[recording] capture_source = agent needs "
			    "media_agent_secret_file");
			n++;
		} else
			n += check_secret("[recording] media_agent_secret_file",
			    c->recording_media_agent_secret_file) == -1;
	}
	return n;
}
