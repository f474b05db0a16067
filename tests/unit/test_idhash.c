/* Unit tests for the stored form of hashed-id arrays (lib/idhash.c). */
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

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define PACKED		9	/* bytes per stored entry */

/* The smallest entry: a hash and its flag, as group and roster have. */
struct small {
	uint64_t	 hash;
	uint8_t		 flag;
};

/* A wider entry: only the hash and the byte after it are stored. */
struct wide {
	uint64_t	 hash;
	uint8_t		 flag;
	uint8_t		 other;
	uint32_t	 more;
	uint64_t	 tail;
};

static uint32_t	 lcg(uint32_t *);
static uint64_t	 lcg64(uint32_t *);
static int	 small_cmp(const void *, const void *);
static void	 put(unsigned char *, uint64_t, uint8_t);

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static uint64_t
lcg64(uint32_t *s)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 3; i++)
		v = v << 24 ^ lcg(s);
	return v;
}

static int
small_cmp(const void *a, const void *b)
{
	const struct small	*x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return 0;
}

/* One stored entry, written out by hand: hash big-endian, then flag. */
static void
put(unsigned char *p, uint64_t hash, uint8_t flag)
{
	int	 k;

	for (k = 0; k < 8; k++)
		p[k] = (unsigned char)(hash >> (56 - 8 * k));
	p[8] = flag;
}

/* The exact bytes, for known values at the edges. */
static void
test_pack_bytes(void **state)
{
	static const struct small	 in[] = {
		{ 0, 0 },
		{ 1, 1 },
		{ 0x0102030405060708ULL, 0xab },
		{ 0x8000000000000000ULL, 2 },
		{ UINT64_MAX, 0xff },
	};
	static const unsigned char	 want[] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 1, 1,
		1, 2, 3, 4, 5, 6, 7, 8, 0xab,
		0x80, 0, 0, 0, 0, 0, 0, 0, 2,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	unsigned char			*out = NULL;
	size_t				 len = 0;

	(void)state;
	assert_int_equal(idhash_pack(in, NELEM(in), sizeof(in[0]), &out,
	    &len), 0);
	assert_non_null(out);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	free(out);

	/* Nothing to store: still a buffer, of no bytes. */
	out = NULL;
	len = 99;
	assert_int_equal(idhash_pack(NULL, 0, sizeof(in[0]), &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(len, 0);
	free(out);
}

/* The stride is the entry's size; only the byte after the hash counts. */
static void
test_pack_wide(void **state)
{
	struct wide		 in[3], *back = NULL;
	unsigned char		 want[3 * PACKED], *out;
	size_t			 len, n, i;

	(void)state;
	memset(in, 0x5a, sizeof(in));
	for (i = 0; i < NELEM(in); i++) {
		in[i].hash = 0x1111111111111111ULL * (i + 1);
		in[i].flag = (uint8_t)(0xc0 + i);
		put(want + i * PACKED, in[i].hash, in[i].flag);
	}
	assert_int_equal(idhash_pack(in, NELEM(in), sizeof(in[0]), &out,
	    &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	/* Back into wide entries: the rest of each is zero. */
	assert_int_equal(idhash_unpack(out, len, sizeof(*back), 3, &back, &n),
	    0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_true(back[i].hash == in[i].hash);
		assert_int_equal(back[i].flag, in[i].flag);
		assert_int_equal(back[i].other, 0);
		assert_int_equal(back[i].more, 0);
		assert_true(back[i].tail == 0);
	}
	free(back);
	free(out);
}

/* Whatever is stored comes back the same, and packs to the same bytes. */
static void
test_roundtrip(void **state)
{
	static const size_t	 sizes[] = { 0, 1, 2, 17, 1000 };
	struct small		*a, *b;
	unsigned char		*p1, *p2;
	size_t			 s, i, k, n, len1, len2, pos;
	uint32_t		 seed = 99;

	(void)state;
	for (s = 0; s < NELEM(sizes); s++) {
		a = calloc(sizes[s] + 1, sizeof(*a));
		assert_non_null(a);
		/* Hashes of every size, small ones close together. */
		for (i = 0; i < sizes[s]; i++) {
			a[i].hash = lcg64(&seed) >> (lcg(&seed) % 64);
			a[i].flag = (uint8_t)lcg(&seed);
		}
		qsort(a, sizes[s], sizeof(*a), small_cmp);
		for (i = 0, k = 0; i < sizes[s]; i++)
			if (k == 0 || a[i].hash != a[k - 1].hash)
				a[k++] = a[i];
		assert_int_equal(idhash_pack(a, k, sizeof(*a), &p1, &len1), 0);
		assert_int_equal(len1, k * PACKED);
		b = NULL;
		assert_int_equal(idhash_unpack(p1, len1, sizeof(*b), k, &b,
		    &n), 0);
		assert_non_null(b);
		assert_int_equal(n, k);
		for (i = 0; i < n; i++) {
			assert_true(b[i].hash == a[i].hash);
			assert_int_equal(b[i].flag, a[i].flag);
			/* Sorted as idhash_find wants it. */
			assert_int_equal(idhash_find(b, n, sizeof(*b),
			    a[i].hash, &pos), 1);
			assert_int_equal(pos, i);
		}
		assert_int_equal(idhash_pack(b, n, sizeof(*b), &p2, &len2), 0);
		assert_int_equal(len2, len1);
		if (len1 > 0)
			assert_memory_equal(p1, p2, len1);
		free(p1);
		free(p2);
		free(a);
		free(b);
	}
}

/* Untrusted bytes: every way to be wrong, each refused. */
static void
test_unpack_hostile(void **state)
{
	static const struct {
		const char	*name;
		uint64_t	 hash[4];
		uint8_t		 flag[4];
		size_t		 n;		/* entries written */
		int		 lack;		/* < 0: bytes over */
		size_t		 max;
		int		 ok;
	} cases[] = {
		{ "empty", { 0 }, { 0 }, 0, 0, 0, 1 },
		{ "one", { 7 }, { 3 }, 1, 0, 1, 1 },
		{ "sorted", { 0, 5, UINT64_MAX }, { 1, 2, 3 }, 3, 0, 3, 1 },
		{ "flags are not checked here", { 1, 2 }, { 0xff, 0x80 }, 2,
		    0, 2, 1 },
		{ "at max", { 1, 2, 3 }, { 0 }, 3, 0, 3, 1 },
		{ "over max", { 1, 2, 3 }, { 0 }, 3, 0, 2, 0 },
		{ "max 0", { 1 }, { 0 }, 1, 0, 0, 0 },
		{ "max 0, empty", { 0 }, { 0 }, 0, 0, 0, 1 },
		{ "a byte short", { 1, 2 }, { 0 }, 2, 1, 2, 0 },
		{ "eight short", { 1, 2 }, { 0 }, 2, 8, 2, 0 },
		{ "a byte over", { 1, 2 }, { 0 }, 2, -1, 3, 0 },
		{ "eight over", { 1, 2 }, { 0 }, 2, -8, 3, 0 },
		{ "a byte alone", { 0 }, { 0 }, 0, -1, 1, 0 },
		{ "duplicate", { 4, 4 }, { 0, 1 }, 2, 0, 2, 0 },
		{ "duplicate zero", { 0, 0 }, { 0, 0 }, 2, 0, 2, 0 },
		{ "duplicate at the end", { 1, 2, 9, 9 }, { 0 }, 4, 0, 4, 0 },
		{ "descending", { 9, 3 }, { 0 }, 2, 0, 2, 0 },
		{ "descending at the end", { 1, 2, 9, 3 }, { 0 }, 4, 0, 4, 0 },
		{ "max then zero", { UINT64_MAX, 0 }, { 0 }, 2, 0, 2, 0 },
		/* Ascending read little-endian, descending big-endian. */
		{ "little-endian order", { 0x100, 0x001 }, { 0 }, 2, 0, 2, 0 },
		{ "big-endian order", { 0x001, 0x100 }, { 0 }, 2, 0, 2, 1 },
	};
	static struct small	 dummy;
	unsigned char		 buf[4 * PACKED + 8];
	struct small		*a, *const sentinel = &dummy;
	size_t			 i, j, len, n;
	int			 rv;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(buf, 0xee, sizeof(buf));
		for (j = 0; j < cases[i].n; j++)
			put(buf + j * PACKED, cases[i].hash[j],
			    cases[i].flag[j]);
		len = cases[i].n * PACKED - (size_t)cases[i].lack;
		a = sentinel;
		n = 12345;
		rv = idhash_unpack(buf, len, sizeof(*a), cases[i].max, &a,
		    &n);
		if ((rv == 0) != cases[i].ok)
			fail_msg("%s: unpack %s", cases[i].name,
			    rv == 0 ? "accepted" : "refused");
		if (rv == -1) {
			/* Refused: nothing given back. */
			assert_ptr_equal(a, sentinel);
			assert_int_equal(n, 12345);
			continue;
		}
		assert_int_equal(n, cases[i].n);
		for (j = 0; j < n; j++) {
			assert_true(a[j].hash == cases[i].hash[j]);
			assert_int_equal(a[j].flag, cases[i].flag[j]);
		}
		free(a);
	}

	/* No bytes at all, even without a buffer. */
	a = NULL;
	assert_int_equal(idhash_unpack(NULL, 0, sizeof(*a), 4, &a, &n), 0);
	assert_int_equal(n, 0);
	free(a);

	/* An entry too small to hold what is stored. */
	put(buf, 1, 1);
	a = sentinel;
	assert_int_equal(idhash_unpack(buf, PACKED, sizeof(uint64_t), 4, &a,
	    &n), -1);
	assert_int_equal(idhash_unpack(buf, PACKED, PACKED - 1, 4, &a, &n),
	    -1);
	assert_ptr_equal(a, sentinel);
}

/* Many entries against max, and one unsorted pair anywhere in them. */
static void
test_unpack_many(void **state)
{
	enum { N = 5000 };
	unsigned char	*buf, tmp[PACKED];
	struct small	*a;
	size_t		 i, n, at;
	uint32_t	 seed = 7;

	(void)state;
	buf = malloc(N * PACKED);
	assert_non_null(buf);
	for (i = 0; i < N; i++)
		put(buf + i * PACKED, (uint64_t)i * 0x0003000000000000ULL + i,
		    (uint8_t)i);
	assert_int_equal(idhash_unpack(buf, N * PACKED, sizeof(*a), N, &a,
	    &n), 0);
	assert_int_equal(n, N);
	free(a);
	assert_int_equal(idhash_unpack(buf, N * PACKED, sizeof(*a), N - 1, &a,
	    &n), -1);
	assert_int_equal(idhash_unpack(buf, N * PACKED - 1, sizeof(*a), N, &a,
	    &n), -1);

	/* Two neighbours swapped, or made equal, anywhere: refused. */
	for (i = 0; i < 50; i++) {
		at = lcg(&seed) % (N - 1);
		memcpy(tmp, buf + at * PACKED, PACKED);
		memcpy(buf + at * PACKED, buf + (at + 1) * PACKED, PACKED);
		memcpy(buf + (at + 1) * PACKED, tmp, PACKED);
		assert_int_equal(idhash_unpack(buf, N * PACKED, sizeof(*a), N,
		    &a, &n), -1);
		memcpy(buf + (at + 1) * PACKED, buf + at * PACKED, 8);
		assert_int_equal(idhash_unpack(buf, N * PACKED, sizeof(*a), N,
		    &a, &n), -1);
		put(buf + at * PACKED, (uint64_t)at * 0x0003000000000000ULL +
		    at, (uint8_t)at);
		put(buf + (at + 1) * PACKED, (uint64_t)(at + 1) *
		    0x0003000000000000ULL + at + 1, (uint8_t)(at + 1));
	}
	assert_int_equal(idhash_unpack(buf, N * PACKED, sizeof(*a), N, &a,
	    &n), 0);
	free(a);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_bytes),
		cmocka_unit_test(test_pack_wide),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_unpack_hostile),
		cmocka_unit_test(test_unpack_many),
	};

	return cmocka_run_group_tests_name("idhash", tests, NULL, NULL);
}
