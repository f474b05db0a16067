/*
 * libFuzzer harness for the recorder group (lib/group.c): programs,
 * imports, and stored bytes (group and roster) unpacked.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "group.h"
#include "leg.h"

#define IDS		256		/* participants a program names */
#define URI		"https://bot02.contoso.com/api/calling"

/*
 * The input is a program: a capacity byte, a flags byte, then two-byte
 * instructions (opcode and arguments, participant).  Every decision is
 * checked against a plain model of group.h's rules.  The same bytes are
 * also taken as a stored member array, which group_import must refuse
 * or load into a group that holds together; and, after two bytes of
 * capacity (big-endian, so 0 and too big come up too), as a database
 * row's packed members for group_unpack and roster_unpack, which must
 * refuse exactly the damaged ones and pack the others back to the very
 * same bytes.
 */
enum { OP_JOIN, OP_JOIN2, OP_RETRANSMIT, OP_LEAVE, OP_ROUNDTRIP,
    OP_NOID, OP_JOIN3, OP_JOIN4 };

/* Flags byte. */
#define F_FIRST		0x01	/* the group has a first participant */
#define F_NO_TENANT	0x02	/* the group's tenant is unknown */
#define F_NO_POLICY	0x04
#define F_LIST_TENANTS	0x08	/* tenants listed, not "*" */
#define F_LIST_POLICIES	0x10
#define F_BIG		0x20	/* capacity near GROUP_MAX_CAPACITY */

/* Join arguments, in the opcode byte's high bits. */
#define A_DRAINING	0x08
#define A_DEAD		0x10
#define A_NO_URI	0x20
#define A_WHO(b)	(((b) >> 6) & 3)

#define PACKED		9	/* bytes per stored member */

struct model {
	uint32_t	 capacity, used;
	uint32_t	 anon;		/* unidentified members, in used */
	uint8_t		 kind[IDS];
	const char	*tenant, *policy;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const unsigned char key[GROUP_KEYBYTES] = "polrec fuzz key";
static char *const any[] = { "*", NULL };
static char *const tenants[] = { "contoso", "fabrikam", NULL };
static char *const policies[] = { "RecordAll", "RecordSome", NULL };
/* Who a join says it is: the group's, its own in other case, another's. */
static const char *const join_tenants[] = {
	"contoso", "CONTOSO", "fabrikam", NULL,
};
static const char *const join_policies[] = {
	"RecordAll", "recordall", "RecordSome", NULL,
};

static int	 holds(uint8_t);
static int	 listed(char *const *, const char *);
static int	 differs(const char *, const char *);
static void	 model_join(struct model *, const struct group_policy *, int,
		    const char *, const char *, int, struct join_decision *);
static void	 same_decision(const struct join_decision *,
		    const struct join_decision *);
static void	 check_group(const struct recorder_group *);
static struct recorder_group *roundtrip(struct recorder_group *);
static void	 run_program(const uint8_t *, size_t);
static void	 run_import(const uint8_t *, size_t);
static uint64_t	 packed_hash(const uint8_t *);
static void	 repack_group(const struct recorder_group *, const uint8_t *,
		    size_t);
static void	 run_unpack_group(const uint8_t *, size_t);
static void	 run_unpack_roster(const uint8_t *, size_t);

/* The kinds that take a slot. */
static int
holds(uint8_t kind)
{
	return kind == MEMBER_ACCEPTED || kind == MEMBER_UNIDENTIFIED;
}

static int
listed(char *const *list, const char *s)
{
	size_t	 i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], "*") == 0 ||
		    (s != NULL && strcasecmp(list[i], s) == 0))
			return 1;
	return 0;
}

static int
differs(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) != 0;
}

static void
model_join(struct model *mo, const struct group_policy *pol, int k,
    const char *tenant, const char *policy, int live,
    struct join_decision *d)
{
	uint8_t	*kind = &mo->kind[k];
	int	 uri = pol->invite_uri != NULL;

	memset(d, 0, sizeof(*d));
	d->repeat = *kind != 0;
	if (*kind == MEMBER_ACCEPTED) {
		d->verdict = JOIN_ACCEPT;
		d->reason = "capacity";
	} else if (*kind == MEMBER_REJECTED) {
		d->verdict = JOIN_REJECT_BUSY;
		d->reason = "rejected_before";
	} else if (*kind == MEMBER_FORBIDDEN) {
		d->verdict = JOIN_REJECT_FORBIDDEN;
		d->reason = "forbidden_before";
	} else if (*kind == MEMBER_INVITED) {
		d->verdict = uri ? JOIN_INVITE_NEW_BOT : JOIN_REJECT_BUSY;
		d->reason = uri ? "overflow_invite" : "capacity_full";
	} else if (!listed(pol->tenants, tenant)) {
		d->verdict = JOIN_REJECT_FORBIDDEN;
		d->reason = "tenant_not_allowed";
	} else if (!listed(pol->policies, policy)) {
		d->verdict = JOIN_REJECT_FORBIDDEN;
		d->reason = "policy_not_allowed";
	} else if (differs(mo->tenant, tenant) ||
	    differs(mo->policy, policy) || pol->draining || !live) {
		/* Not placed here: invited where there is a place. */
		d->verdict = uri ? JOIN_INVITE_NEW_BOT : JOIN_REJECT_BUSY;
		d->reason = differs(mo->tenant, tenant) ||
		    differs(mo->policy, policy) ? "other_group" :
		    pol->draining ? "draining" : "leg_ended";
	} else if (mo->used < mo->capacity) {
		d->verdict = JOIN_ACCEPT;
		d->reason = "capacity";
	} else {
		d->verdict = uri ? JOIN_INVITE_NEW_BOT : JOIN_REJECT_BUSY;
		d->reason = uri ? "overflow_invite" : "capacity_full";
	}
	if (d->verdict == JOIN_INVITE_NEW_BOT)
		d->invite_uri = pol->invite_uri;
	if (d->repeat)
		return;
	switch (d->verdict) {
	case JOIN_ACCEPT:
		*kind = MEMBER_ACCEPTED;
		mo->used++;
		break;
	case JOIN_REJECT_FORBIDDEN:
		*kind = MEMBER_FORBIDDEN;
		break;
	case JOIN_INVITE_NEW_BOT:
		*kind = MEMBER_INVITED;
		break;
	default:
		*kind = MEMBER_REJECTED;
		break;
	}
}

static void
same_decision(const struct join_decision *d, const struct join_decision *w)
{
	char	*body;

	if (d->verdict != w->verdict || d->repeat != w->repeat ||
	    d->reason == NULL || strcmp(d->reason, w->reason) != 0 ||
	    d->invite_uri != w->invite_uri)
		abort();
	if ((body = group_response_body(d)) == NULL || body[0] != '{')
		abort();
	free(body);
}

/* Sorted, unique, known kinds, used counted right, within bounds. */
static void
check_group(const struct recorder_group *g)
{
	struct group_member	*m;
	size_t			 i, n, accepted = 0;

	if (group_export(g, &m, &n) == -1)
		abort();
	for (i = 0; i < n; i++) {
		if (i > 0 && m[i - 1].hash >= m[i].hash)
			abort();
		if (m[i].kind < MEMBER_ACCEPTED ||
		    m[i].kind > MEMBER_UNIDENTIFIED)
			abort();
		accepted += holds(m[i].kind);
	}
	if (accepted != group_used(g) || group_used(g) > group_capacity(g) ||
	    group_capacity(g) == 0 || group_capacity(g) > GROUP_MAX_CAPACITY ||
	    n - accepted > GROUP_MAX_REMEMBERED)
		abort();
	free(m);
}

/* Stored and loaded again: exactly the same group, which replaces g. */
static struct recorder_group *
roundtrip(struct recorder_group *g)
{
	struct recorder_group	*h;
	struct group_member	*m1, *m2;
	size_t			 n1, n2;

	if (group_export(g, &m1, &n1) == -1)
		abort();
	h = group_import(group_tenant(g), group_policy(g), group_capacity(g),
	    m1, n1, key);
	if (h == NULL || group_export(h, &m2, &n2) == -1 || n1 != n2 ||
	    (n1 > 0 && memcmp(m1, m2, n1 * sizeof(*m1)) != 0) ||
	    group_used(h) != group_used(g) ||
	    group_capacity(h) != group_capacity(g))
		abort();
	if ((group_tenant(g) == NULL) != (group_tenant(h) == NULL) ||
	    (group_tenant(g) != NULL &&
	    strcmp(group_tenant(g), group_tenant(h)) != 0))
		abort();
	if ((group_policy(g) == NULL) != (group_policy(h) == NULL) ||
	    (group_policy(g) != NULL &&
	    strcmp(group_policy(g), group_policy(h)) != 0))
		abort();
	free(m1);
	free(m2);
	group_free(g);
	return h;
}

static void
run_program(const uint8_t *data, size_t size)
{
	struct recorder_group	*g;
	struct group_policy	 pol;
	struct model		 mo;
	struct join_decision	 d, want, last;
	const char		*tenant = NULL, *policy = NULL;
	char			 id[16];
	size_t			 i;
	uint32_t		 used;
	uint8_t			 flags, op, k, lk = 0;
	int			 live = 1, have_last = 0, known, rc;

	if (size < 2)
		return;
	flags = data[1];
	memset(&mo, 0, sizeof(mo));
	mo.capacity = flags & F_BIG ? GROUP_MAX_CAPACITY - data[0] % 4 :
	    1 + data[0] % 12;
	mo.tenant = flags & F_NO_TENANT ? NULL : "contoso";
	mo.policy = flags & F_NO_POLICY ? NULL : "RecordAll";
	g = group_new(mo.tenant, mo.policy, mo.capacity,
	    flags & F_FIRST ? "p0" : NULL, key);
	if (g == NULL)
		abort();
	if (flags & F_FIRST) {
		mo.kind[0] = MEMBER_ACCEPTED;
		mo.used = 1;
	}
	memset(&pol, 0, sizeof(pol));
	pol.tenants = flags & F_LIST_TENANTS ? tenants : any;
	pol.policies = flags & F_LIST_POLICIES ? policies : any;
	memset(&last, 0, sizeof(last));

	for (i = 2; i + 1 < size; i += 2) {
		op = data[i];
		k = data[i + 1];
		switch (op & 7) {
		case OP_RETRANSMIT:
			/* The last join again, exactly as sent. */
			if (!have_last)
				break;
			used = group_used(g);
			known = mo.kind[lk] != 0;
			snprintf(id, sizeof(id), "p%u", lk);
			if (group_join(g, &pol, id, tenant, policy, live,
			    &d) == -1)
				abort();
			model_join(&mo, &pol, lk, tenant, policy, live, &want);
			same_decision(&d, &want);
			/* Unless it left meanwhile: then it is new again. */
			if (known && (!d.repeat || d.verdict != last.verdict ||
			    d.invite_uri != last.invite_uri ||
			    group_used(g) != used))
				abort();
			last = d;
			break;
		case OP_LEAVE:
			snprintf(id, sizeof(id), "p%u", k);
			rc = group_leave(g, id);
			/* An id not held frees an unidentified member. */
			if (rc != (mo.kind[k] == MEMBER_ACCEPTED ||
			    (mo.kind[k] == 0 && mo.anon > 0)))
				abort();
			if (mo.kind[k] == 0 && rc)
				mo.anon--;
			mo.used -= (uint32_t)rc;
			mo.kind[k] = 0;
			break;
		case OP_ROUNDTRIP:
			g = roundtrip(g);
			break;
		case OP_NOID:
			/* Decided as anyone, accepted into a slot of its own,
			 * otherwise not remembered. */
			used = group_used(g);
			if (group_join(g, &pol, k & 1 ? "" : NULL, NULL, NULL,
			    1, &d) != 0 || !d.unidentified || d.repeat)
				abort();
			if (!listed(pol.tenants, NULL) ||
			    !listed(pol.policies, NULL))
				want.verdict = JOIN_REJECT_FORBIDDEN;
			else if (!pol.draining && mo.used < mo.capacity)
				want.verdict = JOIN_ACCEPT;
			else
				want.verdict = pol.invite_uri != NULL ?
				    JOIN_INVITE_NEW_BOT : JOIN_REJECT_BUSY;
			if (d.verdict != want.verdict ||
			    d.added != (want.verdict == JOIN_ACCEPT) ||
			    group_used(g) != used + (uint32_t)d.added)
				abort();
			mo.used += (uint32_t)d.added;
			mo.anon += (uint32_t)d.added;
			break;
		default:
			pol.draining = (op & A_DRAINING) != 0;
			pol.invite_uri = op & A_NO_URI ? NULL : URI;
			live = (op & A_DEAD) == 0;
			tenant = join_tenants[A_WHO(op)];
			policy = join_policies[(k >> 6) ^ (op >> 6 & 1)];
			snprintf(id, sizeof(id), "p%u", k);
			if (group_join(g, &pol, id, tenant, policy, live,
			    &d) == -1)
				abort();
			model_join(&mo, &pol, k, tenant, policy, live, &want);
			same_decision(&d, &want);
			last = d;
			lk = k;
			have_last = 1;
			break;
		}
		if (group_used(g) != mo.used || mo.used > mo.capacity)
			abort();
	}
	check_group(g);
	g = roundtrip(g);
	group_free(g);
}

/* The bytes as a stored member array, which may be anything. */
static void
run_import(const uint8_t *data, size_t size)
{
	static const uint32_t	 caps[] = { 1, 3, GROUP_MAX_CAPACITY };
	struct recorder_group	*g;
	struct group_member	*m;
	size_t			 i, j, n, accepted;
	int			 dup;

	n = size / sizeof(*m);
	/* Aligned, as a database row's blob would be copied out. */
	if ((m = malloc(n > 0 ? n * sizeof(*m) : 1)) == NULL)
		return;
	memcpy(m, data, n * sizeof(*m));
	for (i = 0, accepted = 0, dup = 0; i < n; i++) {
		accepted += holds(m[i].kind);
		for (j = 0; j < i && !dup; j++)
			dup = m[i].hash == m[j].hash;
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		g = group_import(i == 1 ? NULL : "contoso", "RecordAll",
		    caps[i], m, n, key);
		if (g == NULL)
			continue;
		if (dup || accepted > caps[i] || group_used(g) != accepted)
			abort();
		check_group(g);
		g = roundtrip(g);
		group_free(g);
	}
	free(m);
}

static uint64_t
packed_hash(const uint8_t *p)
{
	uint64_t	 h = 0;
	int		 k;

	for (k = 0; k < 8; k++)
		h = h << 8 | p[k];
	return h;
}

/* Packed again: the very bytes it came from. */
static void
repack_group(const struct recorder_group *g, const uint8_t *buf, size_t len)
{
	unsigned char	*out;
	size_t		 outlen;

	if (group_pack(g, &out, &outlen) == -1)
		abort();
	if (outlen != len || (len > 0 && memcmp(out, buf, len) != 0))
		abort();
	free(out);
}

/*
 * Two bytes of capacity, then a group_members column.  Whether it may
 * load is worked out here by hand, from group.h's limits.
 */
static void
run_unpack_group(const uint8_t *data, size_t size)
{
	struct recorder_group	*g;
	const uint8_t		*buf;
	size_t			 len, n, i, accepted = 0;
	uint32_t		 capacity;
	int			 valid;

	if (size < 2)
		return;
	capacity = (uint32_t)(data[0] << 8 | data[1]) %
	    (GROUP_MAX_CAPACITY + 2);
	buf = data + 2;
	len = size - 2;
	n = len / PACKED;
	valid = len % PACKED == 0 && capacity >= 1 &&
	    capacity <= GROUP_MAX_CAPACITY;
	for (i = 0; valid && i < n; i++) {
		if (i > 0 && packed_hash(buf + i * PACKED) <=
		    packed_hash(buf + (i - 1) * PACKED))
			valid = 0;
		if (buf[i * PACKED + 8] < MEMBER_ACCEPTED ||
		    buf[i * PACKED + 8] > MEMBER_UNIDENTIFIED)
			valid = 0;
		accepted += holds(buf[i * PACKED + 8]);
	}
	if (valid && (accepted > capacity ||
	    n - accepted > GROUP_MAX_REMEMBERED))
		valid = 0;

	g = group_unpack(data[0] & 1 ? NULL : "contoso", "RecordAll",
	    capacity, buf, len, key);
	if ((g != NULL) != valid)
		abort();
	if (g == NULL)
		return;
	if (group_used(g) != accepted || group_capacity(g) != capacity)
		abort();
	check_group(g);
	repack_group(g, buf, len);
	/* Exported and imported too, and still the same bytes. */
	g = roundtrip(g);
	repack_group(g, buf, len);
	group_free(g);
}

/* The same bytes as a roster column; the roster it replaces, kept on
 * refusal. */
static void
run_unpack_roster(const uint8_t *data, size_t size)
{
	static const unsigned char	 rkey[ROSTER_KEYBYTES] =
					    "roster fuzz key";
	struct roster			 r;
	struct participant		 p;
	const uint8_t			*buf;
	unsigned char			*out;
	size_t				 len, n, i, outlen, humans = 0;
	long long			 seq;
	int				 valid;

	if (size < 2)
		return;
	buf = data + 2;
	len = size - 2;
	n = len / PACKED;
	seq = (long long)(int8_t)data[0];
	valid = len % PACKED == 0 && n <= ROSTER_MAX;
	for (i = 0; valid && i < n; i++) {
		if (i > 0 && packed_hash(buf + i * PACKED) <=
		    packed_hash(buf + (i - 1) * PACKED))
			valid = 0;
		if (buf[i * PACKED + 8] > 1)
			valid = 0;
		humans += buf[i * PACKED + 8] == 0;
	}

	/* Something there before, to be replaced or kept. */
	roster_init(&r);
	memset(&p, 0, sizeof(p));
	p.id = "before";
	p.roster_sequence = -1;
	if (roster_apply(&r, &p, 1, NOTIF_CHANGE_UPDATED, 0, 77, rkey) != 1)
		abort();
	if (roster_unpack(&r, buf, len, seq, data[1] & 1) == -1) {
		if (valid || r.n != 1 || r.humans != 1 || r.sequence != 77 ||
		    !r.seen || !roster_has(&r, "before", rkey))
			abort();
		roster_free(&r);
		return;
	}
	if (!valid || r.n != n || r.humans != humans || r.n > r.cap ||
	    r.sequence != (seq < -1 ? -1 : seq) || r.seen != (data[1] & 1))
		abort();
	if (roster_pack(&r, &out, &outlen) == -1)
		abort();
	if (outlen != len || (len > 0 && memcmp(out, buf, len) != 0))
		abort();
	free(out);
	/* The array goes on growing from what was unpacked. */
	p.id = "after";
	if (n < ROSTER_MAX && (roster_apply(&r, &p, 1, NOTIF_CHANGE_UPDATED,
	    1, -1, rkey) != 1 || !roster_has(&r, "after", rkey) ||
	    r.n > r.cap))
		abort();
	roster_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 ready;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	run_program(data, size);
	run_import(data, size);
	run_unpack_group(data, size);
	run_unpack_roster(data, size);
	return 0;
}
