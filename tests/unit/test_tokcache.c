/* lib/tokcache.c: verified tokens by hash, bounded, dropped when stale. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "jwt.h"
#include "tokcache.h"

static EVP_PKEY	*rsa;

/* A key set holding the one RSA key under each kid given. */
static struct jwks *
keyset(const char *kid1, const char *kid2)
{
	cJSON		*doc, *keys, *k;
	struct jwks	*set;
	char		*json, err[256];

	doc = cJSON_CreateObject();
	keys = cJSON_AddArrayToObject(doc, "keys");
	assert_int_equal(jwt_export_jwk(rsa, kid1, &k), 0);
	cJSON_AddItemToArray(keys, k);
	if (kid2 != NULL) {
		assert_int_equal(jwt_export_jwk(rsa, kid2, &k), 0);
		cJSON_AddItemToArray(keys, k);
	}
	json = cJSON_PrintUnformatted(doc);
	set = jwks_parse(json, strlen(json), err, sizeof(err));
	assert_non_null(set);
	free(json);
	cJSON_Delete(doc);
	return set;
}

static void
claims_of(struct jwt_claims *c, const char *kid, long long exp)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->kid, sizeof(c->kid), "%s", kid);
	snprintf(c->tid, sizeof(c->tid), "tenant-%s", kid);
	snprintf(c->iss, sizeof(c->iss), "https://api.botframework.com");
	c->exp = exp;
	c->nbf = 1000;
	c->iat = 1000;
}

static void
policy_at(struct jwt_policy *p, long long now)
{
	memset(p, 0, sizeof(*p));
	p->now = now;
	p->skew = 300;
}

static void
test_hit_until_expiry(void **state)
{
	struct tokcache		*tc = tokcache_new(16);
	struct jwks		*set = keyset("k1", NULL);
	struct jwt_claims	 c, out;
	struct jwt_policy	 p;
	const char		*tok = "aaa.bbb.ccc";

	(void)state;
	claims_of(&c, "k1", 5000);
	policy_at(&p, 2000);
	assert_int_equal(tokcache_get(tc, tok, strlen(tok), set, &p, &out), 0);
	tokcache_put(tc, tok, strlen(tok), &c);
	assert_int_equal(tokcache_count(tc), 1);
	assert_int_equal(tokcache_get(tc, tok, strlen(tok), set, &p, &out), 1);
	assert_string_equal(out.tid, "tenant-k1");
	assert_int_equal(out.exp, 5000);
	/* Another token (one byte off) is not it. */
	assert_int_equal(tokcache_get(tc, "aaa.bbb.ccd", 11, set, &p, &out),
	    0);
	/* Within the skew after exp: still good; at exp + skew: gone. */
	policy_at(&p, 5299);
	assert_int_equal(tokcache_get(tc, tok, strlen(tok), set, &p, &out), 1);
	policy_at(&p, 5300);
	assert_int_equal(tokcache_get(tc, tok, strlen(tok), set, &p, &out), 0);
	assert_int_equal(tokcache_count(tc), 0);
	/* The clock set back before nbf - skew: not valid yet. */
	tokcache_put(tc, tok, strlen(tok), &c);
	policy_at(&p, 600);
	assert_int_equal(tokcache_get(tc, tok, strlen(tok), set, &p, &out), 0);
	jwks_free(set);
	tokcache_free(tc);
}

static void
test_key_removed_evicts(void **state)
{
	struct tokcache		*tc = tokcache_new(16);
	struct jwks		*both = keyset("k1", "k2"), *only2;
	struct jwt_claims	 c, out;
	struct jwt_policy	 p;

	(void)state;
	only2 = keyset("k2", NULL);
	policy_at(&p, 2000);
	claims_of(&c, "k1", 5000);
	tokcache_put(tc, "t1", 2, &c);
	claims_of(&c, "k2", 5000);
	tokcache_put(tc, "t2", 2, &c);
	assert_int_equal(tokcache_get(tc, "t1", 2, both, &p, &out), 1);
	/* The JWKS no longer holds k1: what k1 verified is gone. */
	assert_int_equal(tokcache_get(tc, "t1", 2, only2, &p, &out), 0);
	assert_int_equal(tokcache_get(tc, "t1", 2, both, &p, &out), 0);
	assert_int_equal(tokcache_get(tc, "t2", 2, only2, &p, &out), 1);
	tokcache_clear(tc);
	assert_int_equal(tokcache_count(tc), 0);
	assert_int_equal(tokcache_get(tc, "t2", 2, only2, &p, &out), 0);
	jwks_free(both);
	jwks_free(only2);
	tokcache_free(tc);
}

static void
test_bounded(void **state)
{
	struct tokcache		*tc = tokcache_new(64);
	struct jwks		*set = keyset("k1", NULL);
	struct jwt_claims	 c, out;
	struct jwt_policy	 p;
	char			 tok[32];
	int			 i, hits = 0;

	(void)state;
	policy_at(&p, 2000);
	for (i = 0; i < 10000; i++) {
		snprintf(tok, sizeof(tok), "token-%d", i);
		claims_of(&c, "k1", 3000 + i);
		tokcache_put(tc, tok, strlen(tok), &c);
		assert_true(tokcache_count(tc) <= 64);
	}
	assert_int_equal(tokcache_count(tc), 64);
	/* What stayed are later tokens: the first to expire went first. */
	for (i = 0; i < 10000; i++) {
		snprintf(tok, sizeof(tok), "token-%d", i);
		if (tokcache_get(tc, tok, strlen(tok), set, &p, &out)) {
			hits++;
			assert_int_equal(out.exp, 3000 + i);
		}
	}
	assert_int_equal(hits, 64);
	/* The same token again replaces itself, not another. */
	claims_of(&c, "k1", 99999);
	tokcache_put(tc, "token-9999", 10, &c);
	tokcache_put(tc, "token-9999", 10, &c);
	assert_true(tokcache_count(tc) <= 64);
	jwks_free(set);
	tokcache_free(tc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_until_expiry),
		cmocka_unit_test(test_key_removed_evicts),
		cmocka_unit_test(test_bounded),
	};
	int	 rv;

	if (sodium_init() < 0)
		return 1;
	if ((rsa = EVP_RSA_gen(2048)) == NULL)
		return 1;
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	EVP_PKEY_free(rsa);
	return rv;
}
