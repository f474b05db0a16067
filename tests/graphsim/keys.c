/* The simulator's RSA signing keys: key files, the published set, rotation. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "graphsim.h"
#include "jwt.h"
#include "log.h"
#include "xmalloc.h"

#define KEY_BITS	2048

static int	create_key(const char *, EVP_PKEY **);
static void	reply_keys(struct sim *, struct evhttp_request *, int,
		    const char *);

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

/*
 * Take key into the set, published; it does not sign until made the
 * signing key.  The index of the new key, or -1 (key is then freed).
 */
int
keys_add(struct sim *sim, EVP_PKEY *key)
{
	struct sim_key	*k;
	char		*kid;

	if (sim->nkeys >= SIM_MAX_KEYS || jwt_key_id(key, &kid) == -1) {
		EVP_PKEY_free(key);
		return -1;
	}
	sim->keys = xreallocarray(sim->keys, sim->nkeys + 1,
	    sizeof(*sim->keys));
	k = &sim->keys[sim->nkeys];
	k->key = key;
	k->kid = kid;
	k->published = 1;
	return sim->nkeys++;
}

void
keys_clear(struct sim *sim)
{
	size_t	 i;

	for (i = 0; i < sim->nkeys; i++) {
		EVP_PKEY_free(sim->keys[i].key);
		free(sim->keys[i].kid);
	}
	free(sim->keys);
	sim->keys = NULL;
	sim->nkeys = sim->ninitial = sim->signing = 0;
	EVP_PKEY_free(sim->other_key);
	sim->other_key = NULL;
	tokens_forget(sim);
}

/* GET /_sim/keys: {"signing": kid, "published": [kids]}. */
void
keys_show(struct sim *sim, struct evhttp_request *req)
{
	reply_keys(sim, req, HTTP_OK, NULL);
}

/*
 * POST /_sim/keys/rotate: a new RSA-2048 key, kept in memory only, is
 * published and signs "valid" tokens from now on; the old keys stay
 * published until retired.
 */
void
keys_rotate(struct sim *sim, struct evhttp_request *req)
{
	EVP_PKEY	*key;
	int		 i;

	if (sim->nkeys >= SIM_MAX_KEYS) {
		sim_reply_error(req, HTTP_CONFLICT, "too many keys");
		return;
	}
	if ((key = keys_generate()) == NULL || (i = keys_add(sim,
	    key)) == -1) {
		sim_reply_error(req, HTTP_INTERNAL, "cannot make a key");
		return;
	}
	sim->signing = i;
	log_info("rotated: kid %s signs", sim->keys[i].kid);
	reply_keys(sim, req, HTTP_OK, sim->keys[i].kid);
}

/* POST /_sim/keys/retire?kid=K: K leaves the JWKS; never the signer. */
void
keys_retire(struct sim *sim, struct evhttp_request *req)
{
	char	*kid;
	size_t	 i;

	if ((kid = sim_query_param(req, "kid")) == NULL) {
		sim_reply_error(req, HTTP_BADREQUEST, "kid is required");
		return;
	}
	for (i = 0; i < sim->nkeys; i++)
		if (sim->keys[i].published &&
		    strcmp(sim->keys[i].kid, kid) == 0)
			break;
	if (i == sim->nkeys)
		sim_reply_error(req, HTTP_NOTFOUND, "no such published key");
	else if (i == sim->signing)
		sim_reply_error(req, HTTP_CONFLICT,
		    "the signing key cannot be retired; rotate first");
	else {
		sim->keys[i].published = 0;
		log_info("retired kid %s", kid);
		reply_keys(sim, req, HTTP_OK, NULL);
	}
	free(kid);
}

/* {"kid": new (when given), "signing": kid, "published": [kids]}. */
static void
reply_keys(struct sim *sim, struct evhttp_request *req, int status,
    const char *kid)
{
	cJSON	*o, *a;
	size_t	 i;

	o = cJSON_CreateObject();
	if (kid != NULL)
		cJSON_AddStringToObject(o, "kid", kid);
	cJSON_AddStringToObject(o, "signing", sim->keys[sim->signing].kid);
	a = cJSON_AddArrayToObject(o, "published");
	for (i = 0; i < sim->nkeys; i++)
		if (sim->keys[i].published)
			cJSON_AddItemToArray(a,
			    cJSON_CreateString(sim->keys[i].kid));
	sim_reply_json(req, status, o);
	cJSON_Delete(o);
}
