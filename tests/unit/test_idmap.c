/* Unit tests for the string-keyed hash table (lib/idmap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "idhash.h"
#include "idmap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MANY		20000
#define SMALL_MASK	15	/* a new table's slots, less one */

static const unsigned char test_key[IDHASH_KEYBYTES] = "0123456789abcde";

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* ids as Graph makes them: a GUID-like string per n. */
static void
make_id(char *buf, size_t len, unsigned int n)
{
	snprintf(buf, len, "%08x-0000-4000-8000-%012x", n * 2654435761u, n);
}

static void
test_basic(void **state)
{
	struct idmap	*m;
	int		 a, b;

	(void)state;
	assert_non_null(m = idmap_new());
	assert_int_equal(idmap_count(m), 0);
	assert_null(idmap_get(m, "x"));
	assert_int_equal(idmap_put(m, "x", &a), 0);
	assert_int_equal(idmap_put(m, "y", &b), 0);
	assert_ptr_equal(idmap_get(m, "x"), &a);
	assert_ptr_equal(idmap_get(m, "y"), &b);
	assert_null(idmap_get(m, "z"));
	assert_null(idmap_get(m, ""));
	assert_int_equal(idmap_count(m), 2);
	/* Present already: kept as it was. */
	assert_int_equal(idmap_put(m, "x", &b), 1);
	assert_ptr_equal(idmap_get(m, "x"), &a);
	assert_int_equal(idmap_count(m), 2);
	/* The empty id is an id like another. */
	assert_int_equal(idmap_put(m, "", &b), 0);
	assert_ptr_equal(idmap_get(m, ""), &b);
	assert_ptr_equal(idmap_del(m, "x"), &a);
	assert_null(idmap_del(m, "x"));
	assert_null(idmap_get(m, "x"));
	assert_ptr_equal(idmap_get(m, "y"), &b);
	assert_int_equal(idmap_count(m), 2);
	idmap_free(m);
}

static void
test_null(void **state)
{
	struct idmap	*m;
	size_t		 pos = 0;
	int		 a;

	(void)state;
	assert_null(idmap_get(NULL, "x"));
	assert_null(idmap_del(NULL, "x"));
	assert_int_equal(idmap_put(NULL, "x", &a), -1);
	assert_int_equal(idmap_count(NULL), 0);
	assert_int_equal(idmap_next(NULL, &pos, NULL, NULL), 0);
	idmap_free(NULL);
	assert_non_null(m = idmap_new());
	/* A NULL value could not be told from absence. */
	assert_int_equal(idmap_put(m, "x", NULL), -1);
	assert_int_equal(idmap_put(m, NULL, &a), -1);
	assert_null(idmap_get(m, NULL));
	assert_null(idmap_del(m, NULL));
	assert_int_equal(idmap_count(m), 0);
	idmap_free(m);
}

/* Found by content, not by the pointer given to put. */
static void
test_by_content(void **state)
{
	struct idmap	*m;
	char		 kept[] = "call-1", asked[] = "call-1";
	int		 a;

	(void)state;
	assert_non_null(m = idmap_new());
	assert_int_equal(idmap_put(m, kept, &a), 0);
	assert_ptr_equal(idmap_get(m, asked), &a);
	assert_int_equal(idmap_put(m, asked, &a), 1);
	assert_ptr_equal(idmap_del(m, asked), &a);
	assert_int_equal(idmap_count(m), 0);
	idmap_free(m);
}

/*
 * Many ids through several doublings, half deleted, then more added:
 * every id found with its own value, absent ones not, and a walk sees
 * each entry exactly once.
 */
static void
test_many(void **state)
{
	struct idmap	*m;
	char		(*ids)[40];
	unsigned char	*seen;
	const char	*id;
	void		*v;
	size_t		 i, pos, n;

	(void)state;
	ids = calloc(MANY, sizeof(*ids));
	seen = calloc(MANY, 1);
	assert_non_null(ids);
	assert_non_null(seen);
	assert_non_null(m = idmap_new());
	for (i = 0; i < MANY; i++) {
		make_id(ids[i], sizeof(ids[i]), (unsigned int)i);
		assert_int_equal(idmap_put(m, ids[i], &ids[i]), 0);
	}
	assert_int_equal(idmap_count(m), MANY);
	for (i = 0; i < MANY; i++)
		assert_ptr_equal(idmap_get(m, ids[i]), &ids[i]);
	for (i = 0; i < MANY; i += 2)
		assert_ptr_equal(idmap_del(m, ids[i]), &ids[i]);
	assert_int_equal(idmap_count(m), MANY / 2);
	for (i = 0; i < MANY; i++) {
		if (i % 2 == 0)
			assert_null(idmap_get(m, ids[i]));
		else
			assert_ptr_equal(idmap_get(m, ids[i]), &ids[i]);
	}
	for (i = 0; i < MANY; i += 4)
		assert_int_equal(idmap_put(m, ids[i], &ids[i]), 0);
	n = 0;
	pos = 0;
	while (idmap_next(m, &pos, &id, &v)) {
		i = (size_t)((char (*)[40])v - ids);
		assert_true(i < MANY);
		assert_string_equal(id, ids[i]);
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
		n++;
	}
	assert_int_equal(n, idmap_count(m));
	assert_int_equal(n, MANY / 2 + MANY / 4);
	idmap_free(m);
	free(seen);
	free(ids);
}

/* ids whose hash under test_key sends them to one slot of a new table. */
static size_t
same_home(char (*out)[16], size_t want, size_t home)
{
	size_t		 n = 0;
	unsigned int	 i;

	for (i = 0; n < want && i < 1000000; i++) {
		snprintf(out[n], sizeof(out[n]), "c%u", i);
		if ((idhash(out[n], test_key) & SMALL_MASK) == home)
			n++;
	}
	return n;
}

/*
 * Colliding ids share a probe chain; deleting from its head, middle and
 * end must leave the rest reachable.  Home slot 14 makes the chain wrap
 * past the end of the table.  Few enough ids that the table does not
 * grow, so the collisions stay collisions.
 */
static void
test_collisions(void **state)
{
	static const size_t	 homes[] = { 3, 14, 15 };
	static const size_t	 order[][5] = {
		{ 0, 1, 2, 3, 4 }, { 4, 3, 2, 1, 0 }, { 2, 0, 4, 1, 3 },
		{ 1, 3, 0, 4, 2 },
	};
	struct idmap		*m;
	char			 ids[5][16], other[16];
	size_t			 h, o, i, k;
	int			 gone[5];

	(void)state;
	for (h = 0; h < NELEM(homes); h++) {
		assert_int_equal(same_home(ids, 5, homes[h]), 5);
		for (o = 0; o < NELEM(order); o++) {
			assert_non_null(m = idmap_new_keyed(test_key));
			for (i = 0; i < 5; i++)
				assert_int_equal(idmap_put(m, ids[i], ids[i]),
				    0);
			/* A neighbour whose home is inside the chain. */
			for (k = 0; ; k++) {
				snprintf(other, sizeof(other), "n%zu", k);
				if ((idhash(other, test_key) & SMALL_MASK) ==
				    ((homes[h] + 2) & SMALL_MASK))
					break;
			}
			assert_int_equal(idmap_put(m, other, other), 0);
			memset(gone, 0, sizeof(gone));
			for (i = 0; i < 5; i++) {
				assert_ptr_equal(idmap_del(m,
				    ids[order[o][i]]), ids[order[o][i]]);
				gone[order[o][i]] = 1;
				for (k = 0; k < 5; k++) {
					if (gone[k])
						assert_null(idmap_get(m,
						    ids[k]));
					else
						assert_ptr_equal(idmap_get(m,
						    ids[k]), ids[k]);
				}
				assert_ptr_equal(idmap_get(m, other), other);
			}
			assert_int_equal(idmap_count(m), 1);
			idmap_free(m);
		}
	}
}

/* Against a plain array as the reference, random puts and deletes. */
static void
test_random(void **state)
{
	struct idmap	*m;
	char		 ids[300][16];
	int		 in[300];
	uint32_t	 seed = 7;
	size_t		 i, k, n = 0;
	int		 rv;

	(void)state;
	memset(in, 0, sizeof(in));
	for (i = 0; i < NELEM(ids); i++)
		snprintf(ids[i], sizeof(ids[i]), "id%zu", i);
	assert_non_null(m = idmap_new_keyed(test_key));
	for (i = 0; i < 100000; i++) {
		k = lcg(&seed) % NELEM(ids);
		if (lcg(&seed) % 3 != 0) {
			rv = idmap_put(m, ids[k], ids[k]);
			assert_int_equal(rv, in[k] ? 1 : 0);
			if (!in[k])
				n++;
			in[k] = 1;
		} else {
			assert_ptr_equal(idmap_del(m, ids[k]),
			    in[k] ? ids[k] : NULL);
			if (in[k])
				n--;
			in[k] = 0;
		}
		assert_int_equal(idmap_count(m), n);
		if (i % 1000 == 0)
			for (k = 0; k < NELEM(ids); k++)
				assert_ptr_equal(idmap_get(m, ids[k]),
				    in[k] ? ids[k] : NULL);
	}
	idmap_free(m);
}

/* Each table draws its own key: the same ids land in other slots. */
static void
test_keys_differ(void **state)
{
	struct idmap	*a, *b;
	char		 ids[64][8];
	const char	*ia[64], *ib[64];
	size_t		 i, pa = 0, pb = 0, same = 0;
	void		*v;

	(void)state;
	assert_non_null(a = idmap_new());
	assert_non_null(b = idmap_new());
	for (i = 0; i < NELEM(ids); i++) {
		snprintf(ids[i], sizeof(ids[i]), "k%zu", i);
		assert_int_equal(idmap_put(a, ids[i], ids[i]), 0);
		assert_int_equal(idmap_put(b, ids[i], ids[i]), 0);
	}
	for (i = 0; i < NELEM(ids); i++) {
		assert_int_equal(idmap_next(a, &pa, &ia[i], &v), 1);
		assert_int_equal(idmap_next(b, &pb, &ib[i], &v), 1);
		if (ia[i] == ib[i])
			same++;
	}
	assert_int_equal(idmap_next(a, &pa, NULL, NULL), 0);
	/* Equal orders by chance: about 64!^-1. */
	assert_true(same < NELEM(ids));
	idmap_free(a);
	idmap_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_by_content),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_keys_differ),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("idmap", tests, NULL, NULL);
}
