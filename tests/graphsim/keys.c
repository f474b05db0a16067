/* RSA key files for the simulator's token signing keys. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "graphsim.h"
#include "log.h"

#define KEY_BITS	2048

static int	create_key(const char *, EVP_PKEY **);

/*
 * Load the RSA private key in PEM file path.  When it does not exist and
 * create is set, generate one and write it with mode 0600; an existing
 * file is never overwritten.
 */
int
keys_load(const char *path, int create, EVP_PKEY **out)
{
	FILE		*fp;
	EVP_PKEY	*key;

	*out = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && create)
			return create_key(path, out);
		log_warn("%s", path);
		return -1;
	}
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (key == NULL) {
		log_warnx("%s: not a PEM private key", path);
		return -1;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		log_warnx("%s: not an RSA key", path);
		EVP_PKEY_free(key);
		return -1;
	}
	*out = key;
	return 0;
}

static int
create_key(const char *path, EVP_PKEY **out)
{
	EVP_PKEY	*key = NULL;
	FILE		*fp = NULL;
	int		 fd, rv = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		log_warn("%s", path);
		close(fd);
		goto done;
	}
	if ((key = keys_generate()) == NULL)
		goto done;
	if (PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) != 1) {
		log_warnx("%s: cannot write key", path);
		goto done;
	}
	if (fclose(fp) == EOF) {
		fp = NULL;
		log_warn("%s", path);
		goto done;
	}
	fp = NULL;
	log_info("created %d-bit RSA key %s", KEY_BITS, path);
	*out = key;
	key = NULL;
	rv = 0;
 done:
	if (fp != NULL)
		fclose(fp);
	if (rv == -1)
		unlink(path);
	EVP_PKEY_free(key);
	return rv;
}

EVP_PKEY *
keys_generate(void)
{
	EVP_PKEY	*key;

	if ((key = EVP_RSA_gen(KEY_BITS)) == NULL)
		log_warnx("cannot generate a %d-bit RSA key", KEY_BITS);
	return key;
}
