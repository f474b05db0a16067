/* Unit tests for the recorder group and its join decisions (lib/group.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>
#include <sodium.h>

#include "group.h"
#include "idhash.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define IDLEN		24
#define URI		"https://bot02.contoso.com:10100/api/calling"
#define URI2		"https://bot03.contoso.com/api/calling"

static const unsigned char key[GROUP_KEYBYTES] = {
	0x70, 0x6f, 0x6c, 0x72, 0x65, 0x63, 0x20, 0x67,
	0x72, 0x6f, 0x75, 0x70, 0x20, 0x6b, 0x65, 0x79,
};

/*
 * Allocation failure injection.  group.c grows and exports its member
 * array only with reallocarray(3); this definition takes the place of
 * libc's in this program.  budget < 0: never fail; otherwise that many
 * more succeed.
 */
static long	 alloc_budget = -1;

void *
reallocarray(void *p, size_t n, size_t size)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return realloc(p, n * size);
}

static char *const any[] = { "*", NULL };
static char *const tenants[] = { "contoso", "fabrikam", NULL };
static char *const policies[] = { "RecordAll", "RecordSome", NULL };
static char *const none[] = { NULL };

/* The policies a step may be decided under, by index. */
enum { P_OPEN, P_NOURI, P_LIST, P_DRAIN, P_DRAIN_NOURI, P_URI2, P_EMPTY,
    P_NULL, P_EMPTYURI };
static const struct group_policy pols[] = {
	[P_OPEN] = { any, any, 0, URI },
	[P_NOURI] = { any, any, 0, NULL },
	[P_LIST] = { tenants, policies, 0, URI },
	[P_DRAIN] = { any, any, 1, URI },
	[P_DRAIN_NOURI] = { any, any, 1, NULL },
	[P_URI2] = { any, any, 0, URI2 },
	[P_EMPTY] = { none, none, 0, URI },
	[P_NULL] = { NULL, NULL, 0, URI },
	[P_EMPTYURI] = { any, any, 0, "" },
};

enum { END, JOIN, LEAVE };

struct step {
	int			 op;
	const char		*id;
	const char		*tenant;
	const char		*policy;
	int			 pol;
	int			 live;
	int			 rc;		/* join 0/-1, leave 0/1 */
	enum join_verdict	 verdict;
	const char		*reason;
	int			 repeat;
	uint32_t		 used;
};

/* A join from the group's own tenant and policy, on a live leg. */
#define J(id, pol, v, reason, repeat, used) \
	{ JOIN, id, "contoso", "RecordAll", pol, 1, 0, v, reason, repeat, \
	    used }
/* A join with every input given. */
#define JX(id, t, p, pol, live, rc, v, reason, repeat, used) \
	{ JOIN, id, t, p, pol, live, rc, v, reason, repeat, used }
#define L(id, rc, used) \
	{ LEAVE, id, NULL, NULL, 0, 0, rc, 0, NULL, 0, used }
#define E	{ END, NULL, NULL, NULL, 0, 0, 0, 0, NULL, 0, 0 }
#define A	JOIN_ACCEPT
#define BUSY	JOIN_REJECT_BUSY
#define FORB	JOIN_REJECT_FORBIDDEN
#define INV	JOIN_INVITE_NEW_BOT

struct scenario {
	const char		*name;
	uint32_t		 capacity;
	const char		*first;
	const char		*tenant;
	const char		*policy;
	const struct step	*steps;		/* ends with END */
};

/* A reference model: what was decided for each id, by index. */
struct model {
	uint32_t	 capacity, used;
	uint32_t	 anon;		/* unidentified, in used */
	uint8_t		 kind[64];
};

static void	 run_scenario(const struct scenario *);
static void	 check_members(const struct recorder_group *);
static void	 check_roundtrip(const struct recorder_group *);
static cJSON	*body_of(enum join_verdict, const char *);
static uint32_t	 lcg(uint32_t *);
static void	 model_join(struct model *, const struct group_policy *,
		    int, int, int, struct join_decision *);
static void	 put_member(unsigned char *, uint64_t, uint8_t);
static void	 same_packed(const struct recorder_group *,
		    const struct recorder_group *);
static void	 same_join(struct recorder_group *, struct recorder_group *,
		    int, const char *, const char *, int, const char *);

static const struct scenario scenarios[] = {
	{ "capacity 1: no grouping", 1, "u0", "contoso", "RecordAll",
	    (const struct step[]){
		J("u1", P_OPEN, INV, "overflow_invite", 0, 1),
		J("u1", P_OPEN, INV, "overflow_invite", 1, 1),
		J("u2", P_NOURI, BUSY, "capacity_full", 0, 1),
		J("u2", P_NOURI, BUSY, "rejected_before", 1, 1),
		/* Now there would be a URI: still the same answer. */
		J("u2", P_OPEN, BUSY, "rejected_before", 1, 1),
		/* The first participant is a member already. */
		J("u0", P_OPEN, A, "capacity", 1, 1),
		L("u1", 0, 1),
		L("u0", 1, 0),
		/* With its slot free, the next join is taken. */
		J("u3", P_OPEN, A, "capacity", 0, 1),
		J("u1", P_NOURI, BUSY, "capacity_full", 0, 1),
		E,
	} },
	{ "capacity 3", 3, "u0", "contoso", "RecordAll",
	    (const struct step[]){
		J("u1", P_OPEN, A, "capacity", 0, 2),
		J("u1", P_OPEN, A, "capacity", 1, 2),
		J("u2", P_NOURI, A, "capacity", 0, 3),
		J("u1", P_OPEN, A, "capacity", 1, 3),
		J("u3", P_OPEN, INV, "overflow_invite", 0, 3),
		J("u4", P_NOURI, BUSY, "capacity_full", 0, 3),
		J("u4", P_OPEN, BUSY, "rejected_before", 1, 3),
		/* An invited one goes where the policy invites now. */
		J("u3", P_URI2, INV, "overflow_invite", 1, 3),
		J("u3", P_NOURI, BUSY, "capacity_full", 1, 3),
		J("u3", P_EMPTYURI, BUSY, "capacity_full", 1, 3),
		J("u3", P_OPEN, INV, "overflow_invite", 1, 3),
		/* A leave frees a slot for the next join. */
		L("u1", 1, 2),
		L("u1", 0, 2),
		J("u5", P_NOURI, A, "capacity", 0, 3),
		/* Back after leaving: decided afresh, and full now. */
		J("u1", P_NOURI, BUSY, "capacity_full", 0, 3),
		/* An invited one leaving holds no slot, and is forgotten. */
		L("u3", 0, 3),
		J("u3", P_NOURI, BUSY, "capacity_full", 0, 3),
		L("u4", 0, 3),
		L("u0", 1, 2),
		J("u4", P_OPEN, A, "capacity", 0, 3),
		L("nobody", 0, 3),
		E,
	} },
	{ "no first participant", 2, NULL, "contoso", "RecordAll",
	    (const struct step[]){
		J("u1", P_OPEN, A, "capacity", 0, 1),
		J("u2", P_OPEN, A, "capacity", 0, 2),
		J("u3", P_EMPTYURI, BUSY, "capacity_full", 0, 2),
		E,
	} },
	{ "tenant and policy", 10, "u0", "contoso", "RecordAll",
	    (const struct step[]){
		JX("u1", "evil", "RecordAll", P_LIST, 1, 0, FORB,
		    "tenant_not_allowed", 0, 1),
		JX("u1", "contoso", "RecordAll", P_LIST, 1, 0, FORB,
		    "forbidden_before", 1, 1),
		JX("u2", "contoso", "RecordNone", P_LIST, 1, 0, FORB,
		    "policy_not_allowed", 0, 1),
		/* The tenant is looked at first. */
		JX("u3", "evil", "RecordNone", P_LIST, 1, 0, FORB,
		    "tenant_not_allowed", 0, 1),
		/* Allowed, but another group's: sent to a leg of its own. */
		JX("u4", "fabrikam", "RecordAll", P_LIST, 1, 0, INV,
		    "other_group", 0, 1),
		JX("u5", "contoso", "RecordSome", P_LIST, 1, 0, INV,
		    "other_group", 0, 1),
		JX("u5", "contoso", "RecordAll", P_LIST, 1, 0, INV,
		    "overflow_invite", 1, 1),
		JX("u5b", "contoso", "RecordSome", P_NOURI, 1, 0, BUSY,
		    "other_group", 0, 1),
		/* Lists and groups compare without case. */
		JX("u6", "CONTOSO", "recordall", P_LIST, 1, 0, A,
		    "capacity", 0, 2),
		/* Unknown tenant or policy: only "*" lets it in. */
		JX("u7", NULL, "RecordAll", P_LIST, 1, 0, FORB,
		    "tenant_not_allowed", 0, 2),
		JX("u8", "contoso", NULL, P_LIST, 1, 0, FORB,
		    "policy_not_allowed", 0, 2),
		JX("u9", "", "RecordAll", P_LIST, 1, 0, FORB,
		    "tenant_not_allowed", 0, 2),
		JX("u10", NULL, NULL, P_OPEN, 1, 0, A, "capacity", 0, 3),
		JX("u11", "", "", P_OPEN, 1, 0, A, "capacity", 0, 4),
		/* "*" allows any tenant, but not another group. */
		JX("u12", "evil", "RecordAll", P_OPEN, 1, 0, INV,
		    "other_group", 0, 4),
		/* Empty and missing lists allow no one. */
		J("u13", P_EMPTY, FORB, "tenant_not_allowed", 0, 4),
		J("u14", P_NULL, FORB, "tenant_not_allowed", 0, 4),
		/* Another group's comes before draining and the leg's end. */
		JX("u15", "evil", "RecordAll", P_DRAIN, 0, 0, INV,
		    "other_group", 0, 4),
		/* Forbidden comes before all of them. */
		JX("u16", "evil", "RecordAll", P_LIST, 0, 0, FORB,
		    "tenant_not_allowed", 0, 4),
		/* Members stay members, whatever comes later. */
		JX("u6", "evil", "x", P_EMPTY, 0, 0, A, "capacity", 1, 4),
		E,
	} },
	{ "group of unknown tenant and policy", 5, "u0", NULL, NULL,
	    (const struct step[]){
		JX("u1", "anyone", "anything", P_OPEN, 1, 0, A, "capacity",
		    0, 2),
		JX("u2", "fabrikam", "RecordSome", P_LIST, 1, 0, A,
		    "capacity", 0, 3),
		JX("u3", "evil", "RecordSome", P_LIST, 1, 0, FORB,
		    "tenant_not_allowed", 0, 3),
		E,
	} },
	{ "draining and leg ended", 4, "u0", "contoso", "RecordAll",
	    (const struct step[]){
		J("u1", P_OPEN, A, "capacity", 0, 2),
		/* Nowhere to invite to: busy; else invited. */
		J("u2", P_DRAIN_NOURI, BUSY, "draining", 0, 2),
		J("u2", P_OPEN, BUSY, "rejected_before", 1, 2),
		J("u9", P_DRAIN, INV, "draining", 0, 2),
		J("u9", P_OPEN, INV, "overflow_invite", 1, 2),
		J("u1", P_DRAIN, A, "capacity", 1, 2),
		J("u0", P_DRAIN_NOURI, A, "capacity", 1, 2),
		JX("u3", "contoso", "RecordAll", P_NOURI, 0, 0, BUSY,
		    "leg_ended", 0, 2),
		JX("u3", "contoso", "RecordAll", P_OPEN, 1, 0, BUSY,
		    "rejected_before", 1, 2),
		JX("u10", "contoso", "RecordAll", P_OPEN, 0, 0, INV,
		    "leg_ended", 0, 2),
		JX("u1", "contoso", "RecordAll", P_OPEN, 0, 0, A, "capacity",
		    1, 2),
		/* Draining is looked at before the leg. */
		JX("u4", "contoso", "RecordAll", P_DRAIN, 0, 0, INV,
		    "draining", 0, 2),
		/* Unidentified: accepted, and each takes a slot. */
		JX(NULL, "contoso", "RecordAll", P_OPEN, 1, 0, A,
		    "capacity", 0, 3),
		JX("", "contoso", "RecordAll", P_OPEN, 1, 0, A,
		    "capacity", 0, 4),
		/* Full: not remembered, whatever the decision. */
		JX(NULL, "contoso", "RecordAll", P_OPEN, 1, 0, INV,
		    "overflow_invite", 0, 4),
		JX(NULL, "contoso", "RecordAll", P_NOURI, 1, 0, BUSY,
		    "capacity_full", 0, 4),
		JX(NULL, "evil", "RecordAll", P_LIST, 1, 0, FORB,
		    "tenant_not_allowed", 0, 4),
		J("u5", P_OPEN, INV, "overflow_invite", 0, 4),
		J("u6", P_DRAIN_NOURI, BUSY, "draining", 0, 4),
		/* participantLeft of an id not held: an unidentified one. */
		L("nobody", 1, 3),
		J("u7", P_OPEN, A, "capacity", 0, 4),
		L("u7", 1, 3),
		L("nobody", 1, 2),
		/* None left: an unknown id frees nothing. */
		L("nobody", 0, 2),
		L("u9", 0, 2),
		J("u8", P_OPEN, A, "capacity", 0, 3),
		E,
	} },
};

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Sorted, unique, valid kinds, and used counted right. */
static void
check_members(const struct recorder_group *g)
{
	struct group_member	*m;
	size_t			 i, n, accepted = 0;

	assert_int_equal(group_export(g, &m, &n), 0);
	assert_non_null(m);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(m[i - 1].hash < m[i].hash);
		assert_in_range(m[i].kind, MEMBER_ACCEPTED,
		    MEMBER_UNIDENTIFIED);
		accepted += m[i].kind == MEMBER_ACCEPTED ||
		    m[i].kind == MEMBER_UNIDENTIFIED;
	}
	assert_int_equal(accepted, group_used(g));
	assert_true(group_used(g) <= group_capacity(g));
	assert_true(n - accepted <= GROUP_MAX_REMEMBERED);
	free(m);
}

/* Export, import, export again: the same group. */
static void
check_roundtrip(const struct recorder_group *g)
{
	struct recorder_group	*h;
	struct group_member	*m1, *m2;
	size_t			 n1, n2, i;

	assert_int_equal(group_export(g, &m1, &n1), 0);
	h = group_import(group_tenant(g), group_policy(g), group_capacity(g),
	    m1, n1, key);
	assert_non_null(h);
	assert_int_equal(group_export(h, &m2, &n2), 0);
	assert_int_equal(n1, n2);
	for (i = 0; i < n1; i++) {
		assert_true(m1[i].hash == m2[i].hash);
		assert_int_equal(m1[i].kind, m2[i].kind);
	}
	/* Padding too: the array may be stored as bytes. */
	if (n1 > 0)
		assert_memory_equal(m1, m2, n1 * sizeof(*m1));
	assert_int_equal(group_used(h), group_used(g));
	assert_int_equal(group_capacity(h), group_capacity(g));
	if (group_tenant(g) == NULL)
		assert_null(group_tenant(h));
	else
		assert_string_equal(group_tenant(h), group_tenant(g));
	if (group_policy(g) == NULL)
		assert_null(group_policy(h));
	else
		assert_string_equal(group_policy(h), group_policy(g));
	free(m1);
	free(m2);
	group_free(h);
}

static void
run_scenario(const struct scenario *sc)
{
	struct recorder_group	*g;
	const struct step	*s;
	struct join_decision	 d;
	size_t			 i;
	int			 rc;

	g = group_new(sc->tenant, sc->policy, sc->capacity, sc->first, key);
	assert_non_null(g);
	for (i = 0, s = sc->steps; s->op != END; i++, s++) {
		if (s->op == LEAVE) {
			rc = group_leave(g, s->id);
			if (rc != s->rc || group_used(g) != s->used)
				fail_msg("%s, step %zu: leave %s gave %d used "
				    "%u, want %d used %u", sc->name, i, s->id,
				    rc, group_used(g), s->rc, s->used);
			check_members(g);
			continue;
		}
		memset(&d, 0xa5, sizeof(d));
		rc = group_join(g, &pols[s->pol], s->id, s->tenant, s->policy,
		    s->live, &d);
		if (rc != s->rc || d.verdict != s->verdict ||
		    strcmp(d.reason, s->reason) != 0 ||
		    d.repeat != s->repeat || group_used(g) != s->used)
			fail_msg("%s, step %zu: join %s gave %d %s %s "
			    "repeat %d used %u, want %d %s %s repeat %d "
			    "used %u",
			    sc->name, i, s->id ? s->id : "(null)", rc,
			    join_verdict_name(d.verdict), d.reason, d.repeat,
			    group_used(g), s->rc,
			    join_verdict_name(s->verdict), s->reason,
			    s->repeat, s->used);
		if (d.verdict == JOIN_INVITE_NEW_BOT)
			assert_string_equal(d.invite_uri,
			    pols[s->pol].invite_uri);
		else
			assert_null(d.invite_uri);
		check_members(g);
		check_roundtrip(g);
	}
	group_free(g);
}

static void
test_scenarios(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(scenarios); i++)
		run_scenario(&scenarios[i]);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(join_verdict_name(JOIN_ACCEPT), "accept");
	assert_string_equal(join_verdict_name(JOIN_REJECT_BUSY), "busy");
	assert_string_equal(join_verdict_name(JOIN_REJECT_FORBIDDEN),
	    "forbidden");
	assert_string_equal(join_verdict_name(JOIN_INVITE_NEW_BOT), "invite");
	assert_string_equal(join_verdict_name((enum join_verdict)4),
	    "unknown");
	assert_string_equal(join_verdict_name((enum join_verdict)-1),
	    "unknown");
}

static void
test_new(void **state)
{
	struct recorder_group	*g;
	struct join_decision	 d;
	char			 tenant[] = "contoso", policy[] = "RecordAll";

	(void)state;
	assert_null(group_new("t", "p", 0, "u0", key));
	assert_null(group_new("t", "p", GROUP_MAX_CAPACITY + 1, "u0", key));
	assert_null(group_new("t", "p", UINT32_MAX, "u0", key));
	assert_null(group_new("t", "p", 3, "u0", NULL));

	/* Strings are copied, not kept. */
	g = group_new(tenant, policy, GROUP_MAX_CAPACITY, "u0", key);
	assert_non_null(g);
	tenant[0] = policy[0] = 'X';
	assert_string_equal(group_tenant(g), "contoso");
	assert_string_equal(group_policy(g), "RecordAll");
	assert_int_equal(group_capacity(g), GROUP_MAX_CAPACITY);
	assert_int_equal(group_used(g), 1);
	group_free(g);

	g = group_new(NULL, NULL, 1, NULL, key);
	assert_non_null(g);
	assert_null(group_tenant(g));
	assert_null(group_policy(g));
	assert_int_equal(group_used(g), 0);
	group_free(g);
	g = group_new(NULL, NULL, 1, "", key);
	assert_int_equal(group_used(g), 0);
	check_roundtrip(g);

	/* NULL is handled everywhere. */
	group_free(NULL);
	assert_int_equal(group_used(NULL), 0);
	assert_int_equal(group_capacity(NULL), 0);
	assert_null(group_tenant(NULL));
	assert_null(group_policy(NULL));
	assert_int_equal(group_leave(NULL, "u0"), 0);
	assert_int_equal(group_leave(g, NULL), 0);
	assert_int_equal(group_leave(g, ""), 0);
	assert_int_equal(group_join(NULL, &pols[P_OPEN], "u1", NULL, NULL, 1,
	    &d), -1);
	assert_int_equal(d.verdict, JOIN_REJECT_BUSY);
	assert_int_equal(group_join(g, NULL, "u1", NULL, NULL, 1, &d), -1);
	assert_int_equal(d.verdict, JOIN_REJECT_BUSY);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u1", NULL, NULL, 1,
	    NULL), -1);
	assert_int_equal(group_used(g), 0);
	assert_int_equal(group_export(NULL, NULL, NULL), -1);
	group_free(g);
}

/* The hash is keyed: another key does not know the same people. */
static void
test_keyed(void **state)
{
	static const unsigned char other[GROUP_KEYBYTES] = { 1 };
	struct recorder_group	*g, *h;
	struct group_member	*m;
	struct join_decision	 d;
	size_t			 n;

	(void)state;
	g = group_new(NULL, NULL, 2, "u0", key);
	assert_int_equal(group_export(g, &m, &n), 0);
	h = group_import(NULL, NULL, 2, m, n, other);
	assert_non_null(h);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u0", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.repeat, 1);
	assert_int_equal(group_join(h, &pols[P_OPEN], "u0", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.repeat, 0);
	assert_int_equal(group_used(h), 2);
	free(m);
	group_free(g);
	group_free(h);
}

/* The largest group: every slot taken, then overflow, repeats, leaves. */
static void
test_large(void **state)
{
	struct recorder_group	*g;
	struct join_decision	 d;
	char			 id[IDLEN];
	uint32_t		 i;

	(void)state;
	g = group_new("contoso", "RecordAll", GROUP_MAX_CAPACITY, "p0", key);
	assert_non_null(g);
	for (i = 1; i < GROUP_MAX_CAPACITY; i++) {
		snprintf(id, sizeof(id), "p%u", i);
		assert_int_equal(group_join(g, &pols[P_NOURI], id, "contoso",
		    "RecordAll", 1, &d), 0);
		if (d.verdict != JOIN_ACCEPT || d.repeat != 0)
			fail_msg("join %u: %s %s", i,
			    join_verdict_name(d.verdict), d.reason);
		assert_int_equal(group_used(g), i + 1);
	}
	assert_int_equal(group_used(g), GROUP_MAX_CAPACITY);
	assert_int_equal(group_join(g, &pols[P_NOURI], "late", "contoso",
	    "RecordAll", 1, &d), 0);
	assert_int_equal(d.verdict, JOIN_REJECT_BUSY);
	assert_string_equal(d.reason, "capacity_full");
	assert_int_equal(group_join(g, &pols[P_OPEN], "later", "contoso",
	    "RecordAll", 1, &d), 0);
	assert_int_equal(d.verdict, JOIN_INVITE_NEW_BOT);

	/* A sample of retransmits: accepted again, nothing consumed. */
	for (i = 0; i < GROUP_MAX_CAPACITY; i += 97) {
		snprintf(id, sizeof(id), "p%u", i);
		assert_int_equal(group_join(g, &pols[P_NOURI], id, "contoso",
		    "RecordAll", 1, &d), 0);
		assert_int_equal(d.verdict, JOIN_ACCEPT);
		assert_int_equal(d.repeat, 1);
		assert_int_equal(group_used(g), GROUP_MAX_CAPACITY);
	}
	check_members(g);
	check_roundtrip(g);

	/* Half leave; their slots go to newcomers. */
	for (i = 0; i < GROUP_MAX_CAPACITY; i += 2) {
		snprintf(id, sizeof(id), "p%u", i);
		assert_int_equal(group_leave(g, id), 1);
	}
	assert_int_equal(group_used(g), GROUP_MAX_CAPACITY / 2);
	for (i = 0; i < GROUP_MAX_CAPACITY / 2; i++) {
		snprintf(id, sizeof(id), "n%u", i);
		assert_int_equal(group_join(g, &pols[P_NOURI], id, "contoso",
		    "RecordAll", 1, &d), 0);
		assert_int_equal(d.verdict, JOIN_ACCEPT);
	}
	assert_int_equal(group_used(g), GROUP_MAX_CAPACITY);
	assert_int_equal(group_join(g, &pols[P_NOURI], "p0", "contoso",
	    "RecordAll", 1, &d), 0);
	assert_int_equal(d.verdict, JOIN_REJECT_BUSY);
	assert_int_equal(d.repeat, 0);
	check_members(g);
	group_free(g);
}

/* GROUP_MAX_REMEMBERED rejections, then no more; accepting goes on. */
static void
test_remembered(void **state)
{
	struct recorder_group	*g;
	struct group_member	*m;
	struct join_decision	 d;
	char			 id[IDLEN];
	size_t			 n;
	uint32_t		 i;

	(void)state;
	g = group_new(NULL, NULL, 3, "p0", key);
	assert_non_null(g);
	for (i = 0; i < GROUP_MAX_REMEMBERED; i++) {
		snprintf(id, sizeof(id), "r%u", i);
		assert_int_equal(group_join(g, &pols[i % 2 ? P_DRAIN :
		    P_DRAIN_NOURI], id, NULL, NULL, 1, &d), 0);
		assert_int_equal(d.verdict, i % 2 ? JOIN_INVITE_NEW_BOT :
		    JOIN_REJECT_BUSY);
		assert_string_equal(d.reason, "draining");
	}
	assert_int_equal(group_join(g, &pols[P_DRAIN], "one-too-many", NULL,
	    NULL, 1, &d), -1);
	assert_int_equal(d.verdict, JOIN_REJECT_BUSY);
	assert_string_equal(d.reason, "too_many_participants");
	assert_int_equal(d.repeat, 0);
	assert_int_equal(group_join(g, &pols[P_EMPTY], "forbidden-too", NULL,
	    NULL, 1, &d), -1);
	assert_string_equal(d.reason, "too_many_participants");
	assert_int_equal(group_export(g, &m, &n), 0);
	assert_int_equal(n, GROUP_MAX_REMEMBERED + 1);
	free(m);

	/* Those remembered are still answered, and room is still used. */
	assert_int_equal(group_join(g, &pols[P_OPEN], "r6", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.repeat, 1);
	assert_string_equal(d.reason, "rejected_before");
	assert_int_equal(group_join(g, &pols[P_OPEN], "r7", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.repeat, 1);
	assert_int_equal(d.verdict, JOIN_INVITE_NEW_BOT);
	assert_int_equal(group_join(g, &pols[P_OPEN], "p1", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.verdict, JOIN_ACCEPT);
	assert_int_equal(group_join(g, &pols[P_OPEN], "p2", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.verdict, JOIN_ACCEPT);
	assert_int_equal(group_used(g), 3);
	/* Full now, and an invitation would have to be remembered. */
	assert_int_equal(group_join(g, &pols[P_OPEN], "p3", NULL, NULL, 1,
	    &d), -1);
	assert_string_equal(d.reason, "too_many_participants");
	check_roundtrip(g);

	/* One leaves: there is room to remember one more. */
	assert_int_equal(group_leave(g, "r7"), 0);
	assert_int_equal(group_join(g, &pols[P_OPEN], "p3", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.verdict, JOIN_INVITE_NEW_BOT);
	assert_int_equal(group_join(g, &pols[P_OPEN], "p4", NULL, NULL, 1,
	    &d), -1);
	assert_int_equal(group_used(g), 3);
	check_members(g);
	group_free(g);
}

static cJSON *
body_of(enum join_verdict v, const char *uri)
{
	struct join_decision	 d;
	cJSON			*o;
	char			*text;

	memset(&d, 0, sizeof(d));
	d.verdict = v;
	d.reason = "capacity";
	d.invite_uri = uri;
	text = group_response_body(&d);
	assert_non_null(text);
	o = cJSON_Parse(text);
	assert_non_null(o);
	assert_true(cJSON_IsObject(o));
	free(text);
	return o;
}

static void
test_response_body(void **state)
{
	static const char	*odd = "https://x/\"a\\b\"?q=\u00e9";
	struct join_decision	 d;
	cJSON			*o, *t;

	(void)state;
	o = body_of(JOIN_ACCEPT, NULL);
	assert_int_equal(cJSON_GetArraySize(o), 1);
	t = cJSON_GetObjectItemCaseSensitive(o, "@odata.type");
	assert_true(cJSON_IsString(t));
	assert_string_equal(t->valuestring,
	    "#microsoft.graph.acceptJoinResponse");
	cJSON_Delete(o);

	o = body_of(JOIN_REJECT_BUSY, NULL);
	assert_int_equal(cJSON_GetArraySize(o), 2);
	t = cJSON_GetObjectItemCaseSensitive(o, "@odata.type");
	assert_true(cJSON_IsString(t));
	assert_string_equal(t->valuestring,
	    "#microsoft.graph.rejectJoinResponse");
	t = cJSON_GetObjectItemCaseSensitive(o, "reason");
	assert_true(cJSON_IsString(t));
	assert_string_equal(t->valuestring, "busy");
	cJSON_Delete(o);

	o = body_of(JOIN_REJECT_FORBIDDEN, URI);
	assert_int_equal(cJSON_GetArraySize(o), 2);
	t = cJSON_GetObjectItemCaseSensitive(o, "@odata.type");
	assert_string_equal(t->valuestring,
	    "#microsoft.graph.rejectJoinResponse");
	t = cJSON_GetObjectItemCaseSensitive(o, "reason");
	assert_true(cJSON_IsString(t));
	assert_string_equal(t->valuestring, "forbidden");
	cJSON_Delete(o);

	o = body_of(JOIN_INVITE_NEW_BOT, URI);
	assert_int_equal(cJSON_GetArraySize(o), 2);
	t = cJSON_GetObjectItemCaseSensitive(o, "@odata.type");
	assert_true(cJSON_IsString(t));
	assert_string_equal(t->valuestring,
	    "#microsoft.graph.inviteNewBotResponse");
	t = cJSON_GetObjectItemCaseSensitive(o, "inviteUri");
	assert_true(cJSON_IsString(t));
	assert_string_equal(t->valuestring, URI);
	cJSON_Delete(o);

	/* Quotes and backslashes in a URI are escaped, not injected. */
	o = body_of(JOIN_INVITE_NEW_BOT, odd);
	assert_int_equal(cJSON_GetArraySize(o), 2);
	t = cJSON_GetObjectItemCaseSensitive(o, "inviteUri");
	assert_string_equal(t->valuestring, odd);
	cJSON_Delete(o);

	/* Decisions that cannot be written. */
	assert_null(group_response_body(NULL));
	memset(&d, 0, sizeof(d));
	d.verdict = JOIN_INVITE_NEW_BOT;
	assert_null(group_response_body(&d));
	d.invite_uri = "";
	assert_null(group_response_body(&d));
	d.verdict = (enum join_verdict)7;
	d.invite_uri = URI;
	assert_null(group_response_body(&d));
	d.verdict = (enum join_verdict)-1;
	assert_null(group_response_body(&d));
}

/* A decision from group_join turns into the body its verdict calls for. */
static void
test_response_from_join(void **state)
{
	struct recorder_group	*g;
	struct join_decision	 d;
	char			*text;

	(void)state;
	g = group_new("contoso", "RecordAll", 1, "u0", key);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u1", "contoso",
	    "RecordAll", 1, &d), 0);
	text = group_response_body(&d);
	assert_string_equal(text, "{\"@odata.type\":"
	    "\"#microsoft.graph.inviteNewBotResponse\",\"inviteUri\":\""
	    URI "\"}");
	free(text);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u0", "contoso",
	    "RecordAll", 1, &d), 0);
	text = group_response_body(&d);
	assert_string_equal(text,
	    "{\"@odata.type\":\"#microsoft.graph.acceptJoinResponse\"}");
	free(text);
	assert_int_equal(group_join(g, &pols[P_NOURI], "u2", "contoso",
	    "RecordAll", 1, &d), 0);
	text = group_response_body(&d);
	assert_string_equal(text, "{\"@odata.type\":"
	    "\"#microsoft.graph.rejectJoinResponse\",\"reason\":\"busy\"}");
	free(text);
	assert_int_equal(group_join(g, &pols[P_LIST], "u3", "evil",
	    "RecordAll", 1, &d), 0);
	text = group_response_body(&d);
	assert_string_equal(text, "{\"@odata.type\":"
	    "\"#microsoft.graph.rejectJoinResponse\",\"reason\":"
	    "\"forbidden\"}");
	free(text);
	/* Unidentified, full, nowhere to invite to. */
	assert_int_equal(group_join(g, &pols[P_NOURI], NULL, "contoso",
	    "RecordAll", 1, &d), 0);
	assert_int_equal(d.unidentified, 1);
	text = group_response_body(&d);
	assert_string_equal(text, "{\"@odata.type\":"
	    "\"#microsoft.graph.rejectJoinResponse\",\"reason\":\"busy\"}");
	free(text);
	/* The -1 answer is a body too. */
	assert_int_equal(group_join(NULL, &pols[P_NOURI], "u4", "contoso",
	    "RecordAll", 1, &d), -1);
	text = group_response_body(&d);
	assert_non_null(text);
	free(text);
	group_free(g);
}

static void
test_roundtrip(void **state)
{
	struct recorder_group	*g, *h;
	struct group_member	*m, *rev;
	struct join_decision	 d, e;
	char			 id[IDLEN];
	size_t			 n, i, hn;

	(void)state;
	g = group_new("contoso", "RecordAll", 6, "u0", key);
	for (i = 1; i < 40; i++) {
		snprintf(id, sizeof(id), "u%zu", i);
		assert_int_equal(group_join(g, &pols[i % 3 == 0 ? P_NOURI :
		    i % 7 == 0 ? P_DRAIN : P_OPEN], id,
		    i % 5 == 0 ? "evil" : "contoso", "RecordAll", 1, &d), 0);
	}
	check_roundtrip(g);

	/* Unsorted input is taken, and sorted. */
	assert_int_equal(group_export(g, &m, &n), 0);
	rev = calloc(n, sizeof(*rev));
	assert_non_null(rev);
	for (i = 0; i < n; i++)
		rev[i] = m[n - 1 - i];
	h = group_import("contoso", "RecordAll", 6, rev, n, key);
	assert_non_null(h);
	check_roundtrip(h);
	free(rev);
	assert_int_equal(group_export(h, &rev, &hn), 0);
	assert_int_equal(hn, n);
	assert_memory_equal(rev, m, n * sizeof(*m));
	free(rev);

	/* And answers exactly as the group it came from. */
	for (i = 0; i < 45; i++) {
		snprintf(id, sizeof(id), "u%zu", i);
		assert_int_equal(group_join(g, &pols[P_OPEN], id, "contoso",
		    "RecordAll", 1, &d), 0);
		assert_int_equal(group_join(h, &pols[P_OPEN], id, "contoso",
		    "RecordAll", 1, &e), 0);
		assert_int_equal(d.verdict, e.verdict);
		assert_string_equal(d.reason, e.reason);
		assert_int_equal(d.repeat, e.repeat);
		assert_int_equal(d.repeat, i < 40);
	}
	assert_int_equal(group_used(g), group_used(h));
	free(m);
	group_free(g);
	group_free(h);

	/* An empty group exports an array all the same. */
	g = group_new(NULL, NULL, 4, NULL, key);
	assert_int_equal(group_export(g, &m, &n), 0);
	assert_non_null(m);
	assert_int_equal(n, 0);
	free(m);
	check_roundtrip(g);
	group_free(g);
	h = group_import(NULL, NULL, 4, NULL, 0, key);
	assert_non_null(h);
	assert_int_equal(group_used(h), 0);
	group_free(h);
}

static void
test_import_hostile(void **state)
{
	enum { MANY = GROUP_MAX_REMEMBERED + 2 };
	static struct group_member	 big[MANY];
	static const struct {
		const char		*name;
		uint32_t		 capacity;
		struct group_member	 m[4];
		size_t			 n;
		int			 ok;
	} cases[] = {
		{ "fine", 2, { { 5, 1 }, { 3, 2 }, { 9, 3 }, { 1, 4 } }, 4,
		    1 },
		{ "kind 0", 2, { { 5, 1 }, { 3, 0 } }, 2, 0 },
		{ "kind 6", 2, { { 5, 1 }, { 3, 6 } }, 2, 0 },
		{ "kind 255", 2, { { 5, 255 } }, 1, 0 },
		{ "duplicate", 2, { { 5, 1 }, { 3, 2 }, { 5, 2 } }, 3, 0 },
		{ "duplicate accepted", 4, { { 5, 1 }, { 5, 1 } }, 2, 0 },
		{ "duplicate zero", 4, { { 0, 2 }, { 0, 3 } }, 2, 0 },
		{ "over capacity", 2, { { 5, 1 }, { 3, 1 }, { 9, 1 } }, 3, 0 },
		{ "at capacity", 3, { { 5, 1 }, { 3, 1 }, { 9, 1 } }, 3, 1 },
		{ "capacity 0", 0, { { 5, 2 } }, 1, 0 },
		{ "capacity 0, empty", 0, { { 0, 0 } }, 0, 0 },
		{ "capacity too big", GROUP_MAX_CAPACITY + 1, { { 5, 1 } },
		    1, 0 },
		{ "capacity max", GROUP_MAX_CAPACITY, { { 5, 1 } }, 1, 1 },
		{ "extreme hashes", 1, { { 0, 1 }, { UINT64_MAX, 2 } }, 2,
		    1 },
	};
	struct recorder_group	*g;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		g = group_import("t", "p", cases[i].capacity, cases[i].m,
		    cases[i].n, key);
		if ((g != NULL) != cases[i].ok)
			fail_msg("%s: import %s", cases[i].name,
			    g ? "accepted" : "refused");
		if (g != NULL) {
			check_members(g);
			check_roundtrip(g);
		}
		group_free(g);
	}

	assert_null(group_import("t", "p", 2, NULL, 1, key));
	assert_null(group_import("t", "p", 2, cases[0].m, 4, NULL));
	/* A count no array could have is refused before it is read. */
	assert_null(group_import("t", "p", 2, cases[0].m, SIZE_MAX, key));
	assert_null(group_import("t", "p", GROUP_MAX_CAPACITY, cases[0].m,
	    (size_t)GROUP_MAX_CAPACITY + GROUP_MAX_REMEMBERED + 1, key));

	/* Exactly as many remembered as allowed, then one more. */
	for (i = 0; i < MANY; i++) {
		big[i].hash = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		big[i].kind = (uint8_t)(MEMBER_REJECTED + i % 3);
	}
	big[0].kind = MEMBER_ACCEPTED;
	g = group_import("t", "p", 1, big, GROUP_MAX_REMEMBERED + 1, key);
	assert_non_null(g);
	assert_int_equal(group_used(g), 1);
	check_roundtrip(g);
	group_free(g);
	assert_null(group_import("t", "p", 1, big, MANY, key));
	assert_null(group_import("t", "p", 10, big, MANY, key));
}

/* One stored member, written out by hand: hash big-endian, then kind. */
static void
put_member(unsigned char *p, uint64_t hash, uint8_t kind)
{
	int	 k;

	for (k = 0; k < 8; k++)
		p[k] = (unsigned char)(hash >> (56 - 8 * k));
	p[8] = kind;
}

/* Both groups store the very same bytes. */
static void
same_packed(const struct recorder_group *g, const struct recorder_group *h)
{
	unsigned char	*a, *b;
	size_t		 alen, blen;

	assert_int_equal(group_pack(g, &a, &alen), 0);
	assert_int_equal(group_pack(h, &b, &blen), 0);
	assert_int_equal(alen, blen);
	if (alen > 0)
		assert_memory_equal(a, b, alen);
	assert_int_equal(group_used(g), group_used(h));
	free(a);
	free(b);
}

/* The same join asked of two groups gets the same answer from each. */
static void
same_join(struct recorder_group *g, struct recorder_group *h, int pol,
    const char *id, const char *tenant, int live, const char *what)
{
	struct join_decision	 d, e;
	int			 rd, re;

	memset(&d, 0, sizeof(d));
	memset(&e, 0x5a, sizeof(e));
	rd = group_join(g, &pols[pol], id, tenant, "RecordAll", live, &d);
	re = group_join(h, &pols[pol], id, tenant, "RecordAll", live, &e);
	if (rd != re || d.verdict != e.verdict ||
	    strcmp(d.reason, e.reason) != 0 || d.repeat != e.repeat ||
	    d.invite_uri != e.invite_uri)
		fail_msg("%s: join %s gave %d %s %s repeat %d, and %d %s %s "
		    "repeat %d", what, id, rd, join_verdict_name(d.verdict),
		    d.reason, d.repeat, re, join_verdict_name(e.verdict),
		    e.reason, e.repeat);
	assert_int_equal(group_used(g), group_used(h));
}

/*
 * Packed and unpacked, as the daemon stores a group: exactly the bytes
 * hand-encoded from its members, the same members back, and from then
 * on the same answer as the original to every join and leave.
 */
static void
test_pack(void **state)
{
	static const int	 pick[] = { P_OPEN, P_OPEN, P_NOURI, P_URI2,
				    P_DRAIN, P_EMPTY };
	struct recorder_group	*g, *h;
	struct group_member	*m, *hm;
	struct join_decision	 d;
	unsigned char		*buf, *buf2, want[9];
	char			 id[IDLEN];
	size_t			 n, hn, len, len2, i;
	uint32_t		 seed = 31337, op, r;
	int			 k;

	(void)state;
	g = group_new("contoso", "RecordAll", 5, "u0", key);
	assert_non_null(g);
	for (i = 1; i < 40; i++) {
		snprintf(id, sizeof(id), "u%zu", i);
		assert_int_equal(group_join(g, &pols[i % 3 == 0 ? P_NOURI :
		    i % 7 == 0 ? P_DRAIN : P_OPEN], id,
		    i % 5 == 0 ? "evil" : "contoso", "RecordAll", 1, &d), 0);
	}
	assert_int_equal(group_used(g), 5);

	assert_int_equal(group_export(g, &m, &n), 0);
	assert_int_equal(group_pack(g, &buf, &len), 0);
	assert_int_equal(len, n * 9);
	for (i = 0; i < n; i++) {
		put_member(want, m[i].hash, m[i].kind);
		assert_memory_equal(buf + i * 9, want, 9);
	}

	h = group_unpack("contoso", "RecordAll", 5, buf, len, key);
	assert_non_null(h);
	check_members(h);
	assert_int_equal(group_export(h, &hm, &hn), 0);
	assert_int_equal(hn, n);
	assert_memory_equal(hm, m, n * sizeof(*m));
	assert_int_equal(group_used(h), group_used(g));
	assert_int_equal(group_capacity(h), 5);
	assert_string_equal(group_tenant(h), "contoso");
	assert_string_equal(group_policy(h), "RecordAll");
	assert_int_equal(group_pack(h, &buf2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	free(buf2);
	free(hm);
	free(m);
	free(buf);

	/* Every one known before is answered as before, then anything. */
	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "u%zu", i);
		same_join(g, h, P_NOURI, id, "contoso", 1, "known");
	}
	for (op = 0; op < 3000; op++) {
		r = lcg(&seed) % 100;
		k = (int)(lcg(&seed) % 64);
		snprintf(id, sizeof(id), "u%d", k);
		if (r < 25)
			assert_int_equal(group_leave(g, id),
			    group_leave(h, id));
		else
			same_join(g, h, pick[lcg(&seed) % NELEM(pick)], id,
			    lcg(&seed) % 9 == 0 ? "evil" : "contoso",
			    lcg(&seed) % 8 != 0, "random");
		if (op % 250 == 0)
			same_packed(g, h);
	}
	same_packed(g, h);
	check_members(h);
	group_free(h);
	group_free(g);
}

/* No members: no bytes, and no bytes make a group of no members. */
static void
test_pack_empty(void **state)
{
	static const unsigned char	 one[9] = { [7] = 1, [8] = 1 };
	struct recorder_group		*g, *h;
	unsigned char			*buf;
	size_t				 len = 99;

	(void)state;
	g = group_new(NULL, NULL, 3, NULL, key);
	assert_int_equal(group_pack(g, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	h = group_unpack(NULL, NULL, 3, buf, len, key);
	assert_non_null(h);
	assert_int_equal(group_used(h), 0);
	assert_null(group_tenant(h));
	assert_null(group_policy(h));
	same_packed(g, h);
	group_free(h);
	/* A NULL blob is how SQLite hands back an empty one. */
	h = group_unpack("t", "p", 3, NULL, 0, key);
	assert_non_null(h);
	assert_int_equal(group_used(h), 0);
	same_packed(g, h);
	group_free(h);
	free(buf);
	group_free(g);

	assert_int_equal(group_pack(NULL, &buf, &len), -1);
	assert_null(group_unpack("t", "p", 3, one, sizeof(one), NULL));
}

/* Bytes from a database that may be damaged: each fault refused. */
static void
test_unpack_hostile(void **state)
{
	static const struct {
		const char	*name;
		uint32_t	 capacity;
		uint64_t	 hash[4];
		uint8_t		 kind[4];
		size_t		 n;
		int		 lack;		/* < 0: bytes over */
		int		 ok;
	} cases[] = {
		{ "fine", 2, { 1, 3, 5, 9 }, { 1, 2, 3, 4 }, 4, 0, 1 },
		{ "a byte short", 2, { 1, 3 }, { 1, 2 }, 2, 1, 0 },
		{ "eight short", 2, { 1, 3 }, { 1, 2 }, 2, 8, 0 },
		{ "a byte over", 2, { 1, 3 }, { 1, 2 }, 2, -1, 0 },
		{ "a byte alone", 2, { 0 }, { 0 }, 0, -1, 0 },
		{ "unsorted", 2, { 5, 3 }, { 1, 2 }, 2, 0, 0 },
		{ "unsorted at the end", 4, { 1, 3, 9, 5 }, { 1, 2, 3, 4 }, 4,
		    0, 0 },
		{ "little-endian order", 2, { 0x100, 0x001 }, { 2, 2 }, 2, 0,
		    0 },
		{ "duplicate", 2, { 5, 5 }, { 1, 2 }, 2, 0, 0 },
		{ "duplicate accepted", 4, { 5, 5 }, { 1, 1 }, 2, 0, 0 },
		{ "duplicate zero", 4, { 0, 0 }, { 2, 3 }, 2, 0, 0 },
		{ "kind 0", 2, { 3, 5 }, { 1, 0 }, 2, 0, 0 },
		{ "kind 6", 2, { 3, 5 }, { 1, 6 }, 2, 0, 0 },
		{ "kind 255", 2, { 5 }, { 255 }, 1, 0, 0 },
		{ "over capacity", 2, { 3, 5, 9 }, { 1, 1, 1 }, 3, 0, 0 },
		{ "at capacity", 3, { 3, 5, 9 }, { 1, 1, 1 }, 3, 0, 1 },
		{ "capacity 0", 0, { 5 }, { 2 }, 1, 0, 0 },
		{ "capacity 0, empty", 0, { 0 }, { 0 }, 0, 0, 0 },
		{ "capacity too big", GROUP_MAX_CAPACITY + 1, { 5 }, { 1 }, 1,
		    0, 0 },
		{ "capacity UINT32_MAX", UINT32_MAX, { 5 }, { 1 }, 1, 0, 0 },
		{ "capacity max", GROUP_MAX_CAPACITY, { 5 }, { 1 }, 1, 0, 1 },
		{ "extreme hashes", 1, { 0, UINT64_MAX }, { 1, 2 }, 2, 0, 1 },
	};
	unsigned char		 buf[4 * 9 + 8];
	struct recorder_group	*g;
	unsigned char		*out;
	size_t			 i, j, len, outlen, accepted;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(buf, 1, sizeof(buf));
		accepted = 0;
		for (j = 0; j < cases[i].n; j++) {
			put_member(buf + j * 9, cases[i].hash[j],
			    cases[i].kind[j]);
			accepted += cases[i].kind[j] == MEMBER_ACCEPTED;
		}
		len = cases[i].n * 9 - (size_t)cases[i].lack;
		g = group_unpack("t", "p", cases[i].capacity, buf, len, key);
		if ((g != NULL) != cases[i].ok)
			fail_msg("%s: unpack %s", cases[i].name,
			    g ? "accepted" : "refused");
		if (g == NULL)
			continue;
		check_members(g);
		assert_int_equal(group_used(g), accepted);
		assert_int_equal(group_pack(g, &out, &outlen), 0);
		assert_int_equal(outlen, len);
		assert_memory_equal(out, buf, len);
		free(out);
		group_free(g);
	}
}

/* As many members as a group can hold, and then one more. */
static void
test_unpack_limits(void **state)
{
	enum { MOST = GROUP_MAX_CAPACITY + GROUP_MAX_REMEMBERED };
	struct recorder_group	*g;
	unsigned char		*buf;
	size_t			 i;

	(void)state;
	buf = malloc((MOST + 1) * 9);
	assert_non_null(buf);
	/* Every slot taken, and as many others as are remembered. */
	for (i = 0; i < MOST + 1; i++)
		put_member(buf + i * 9, (uint64_t)i << 40 | i,
		    i < GROUP_MAX_CAPACITY ? MEMBER_ACCEPTED :
		    (uint8_t)(MEMBER_REJECTED + i % 3));
	g = group_unpack("t", "p", GROUP_MAX_CAPACITY, buf, MOST * 9, key);
	assert_non_null(g);
	assert_int_equal(group_used(g), GROUP_MAX_CAPACITY);
	check_members(g);
	group_free(g);
	assert_null(group_unpack("t", "p", GROUP_MAX_CAPACITY, buf,
	    (MOST + 1) * 9, key));

	/* One more remembered than allowed, whatever the capacity. */
	for (i = 0; i < GROUP_MAX_REMEMBERED + 1; i++)
		put_member(buf + i * 9, (uint64_t)i << 40 | i,
		    (uint8_t)(MEMBER_REJECTED + i % 3));
	g = group_unpack("t", "p", 1, buf, GROUP_MAX_REMEMBERED * 9, key);
	assert_non_null(g);
	assert_int_equal(group_used(g), 0);
	group_free(g);
	assert_null(group_unpack("t", "p", 1, buf,
	    (GROUP_MAX_REMEMBERED + 1) * 9, key));
	assert_null(group_unpack("t", "p", GROUP_MAX_CAPACITY, buf,
	    (GROUP_MAX_REMEMBERED + 1) * 9, key));
	free(buf);
}

/*
 * Leaving by hash (a roster departure) is leaving by id: two groups
 * asked the same, one left by id and one by idhash(id, key), stay the
 * same to the byte.
 */
static void
test_leave_hash(void **state)
{
	static const unsigned char	 other[GROUP_KEYBYTES] = { 7 };
	static const int		 pick[] = { P_OPEN, P_NOURI, P_DRAIN,
					    P_EMPTY };
	struct recorder_group		*g, *h;
	struct join_decision		 d;
	char				 id[IDLEN];
	uint32_t			 seed = 2024, op;
	int				 k, rc;

	(void)state;
	g = group_new("contoso", "RecordAll", 4, "u0", key);
	h = group_new("contoso", "RecordAll", 4, "u0", key);
	assert_non_null(g);
	assert_non_null(h);
	for (op = 0; op < 3000; op++) {
		k = (int)(lcg(&seed) % 24);
		snprintf(id, sizeof(id), "u%d", k);
		if (lcg(&seed) % 3 == 0) {
			rc = group_leave(g, id);
			assert_int_equal(group_leave_hash(h, idhash(id, key)),
			    rc);
		} else
			same_join(g, h, pick[lcg(&seed) % NELEM(pick)], id,
			    "contoso", 1, "leave by hash");
		if (op % 100 == 0)
			same_packed(g, h);
	}
	same_packed(g, h);

	/* A slot freed by hash goes to the next join. */
	for (k = 0; k < 24; k++) {
		snprintf(id, sizeof(id), "u%d", k);
		group_leave_hash(h, idhash(id, key));
	}
	assert_int_equal(group_used(h), 0);
	assert_int_equal(group_join(h, &pols[P_NOURI], "u0", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(group_used(h), 1);
	assert_int_equal(group_leave_hash(h, idhash("u0", key)), 1);
	assert_int_equal(group_join(h, &pols[P_NOURI], "u0", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.verdict, JOIN_ACCEPT);
	assert_int_equal(d.repeat, 0);
	check_members(h);

	/* Hashes of no member: nothing changes. */
	group_free(g);
	g = group_new("contoso", "RecordAll", 4, "u0", key);
	assert_int_equal(group_join(g, &pols[P_NOURI], "u1", "evil", NULL, 1,
	    &d), 0);
	assert_int_equal(group_join(h, &pols[P_NOURI], "u1", "evil", NULL, 1,
	    &d), 0);
	same_packed(g, h);
	assert_int_equal(group_leave_hash(h, 0), 0);
	assert_int_equal(group_leave_hash(h, UINT64_MAX), 0);
	assert_int_equal(group_leave_hash(h, idhash("u0", other)), 0);
	assert_int_equal(group_leave_hash(h, idhash("u2", key)), 0);
	assert_int_equal(group_leave_hash(h, idhash("u0", key) + 1), 0);
	same_packed(g, h);
	assert_int_equal(group_leave_hash(NULL, idhash("u0", key)), 0);
	/* A forbidden one leaves by hash too, holding no slot. */
	assert_int_equal(group_leave_hash(h, idhash("u1", key)), 0);
	assert_int_equal(group_join(h, &pols[P_NOURI], "u1", "contoso", NULL,
	    1, &d), 0);
	assert_int_equal(d.verdict, JOIN_ACCEPT);
	assert_int_equal(d.repeat, 0);
	group_free(g);
	group_free(h);
}

static void
test_alloc_failure(void **state)
{
	struct recorder_group	*g;
	struct group_member	*m = NULL;
	struct join_decision	 d;
	char			 id[IDLEN];
	size_t			 n = 0, i;

	(void)state;
	alloc_budget = 0;
	assert_null(group_new("t", "p", 4, "u0", key));
	/* Without a first member there is nothing to allocate yet. */
	g = group_new("t", "p", 4, NULL, key);
	assert_non_null(g);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u1", NULL, NULL, 1,
	    &d), -1);
	assert_int_equal(d.verdict, JOIN_REJECT_BUSY);
	assert_string_equal(d.reason, "no_memory");
	assert_int_equal(group_used(g), 0);
	assert_int_equal(group_export(g, &m, &n), -1);
	alloc_budget = -1;

	/* Fill the first allocation; growing it fails, then works. */
	for (i = 0; i < 16; i++) {
		snprintf(id, sizeof(id), "u%zu", i);
		assert_int_equal(group_join(g, &pols[P_OPEN], id, NULL, NULL,
		    1, &d), 0);
	}
	assert_int_equal(group_used(g), 4);
	alloc_budget = 0;
	assert_int_equal(group_join(g, &pols[P_OPEN], "u16", NULL, NULL, 1,
	    &d), -1);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u3", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.repeat, 1);
	assert_int_equal(group_leave(g, "u3"), 1);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u3", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.verdict, JOIN_ACCEPT);
	assert_null(group_import("t", "p", 4, (const struct group_member[]){
	    { 1, 1 } }, 1, key));
	alloc_budget = -1;
	assert_int_equal(group_join(g, &pols[P_OPEN], "u16", NULL, NULL, 1,
	    &d), 0);
	check_members(g);
	group_free(g);
}

/*
 * The reference model: the rules of group.h written out once more,
 * as plainly as possible, over ids by index.
 */
static void
model_join(struct model *mo, const struct group_policy *pol, int id,
    int tenant_ok, int live, struct join_decision *d)
{
	uint8_t		*k = &mo->kind[id];
	int		 uri = pol->invite_uri != NULL;

	d->repeat = *k != 0;
	d->invite_uri = NULL;
	if (*k == MEMBER_ACCEPTED) {
		d->verdict = JOIN_ACCEPT;
		d->reason = "capacity";
	} else if (*k == MEMBER_REJECTED) {
		d->verdict = JOIN_REJECT_BUSY;
		d->reason = "rejected_before";
	} else if (*k == MEMBER_FORBIDDEN) {
		d->verdict = JOIN_REJECT_FORBIDDEN;
		d->reason = "forbidden_before";
	} else if (*k == MEMBER_INVITED) {
		d->verdict = uri ? JOIN_INVITE_NEW_BOT : JOIN_REJECT_BUSY;
		d->reason = uri ? "overflow_invite" : "capacity_full";
	} else if (!tenant_ok || pol->draining || !live) {
		d->verdict = uri ? JOIN_INVITE_NEW_BOT : JOIN_REJECT_BUSY;
		d->reason = !tenant_ok ? "other_group" : pol->draining ?
		    "draining" : "leg_ended";
		*k = uri ? MEMBER_INVITED : MEMBER_REJECTED;
	} else if (mo->used < mo->capacity) {
		d->verdict = JOIN_ACCEPT;
		d->reason = "capacity";
		*k = MEMBER_ACCEPTED;
		mo->used++;
	} else {
		d->verdict = uri ? JOIN_INVITE_NEW_BOT : JOIN_REJECT_BUSY;
		d->reason = uri ? "overflow_invite" : "capacity_full";
		*k = uri ? MEMBER_INVITED : MEMBER_REJECTED;
	}
	if (d->verdict == JOIN_INVITE_NEW_BOT)
		d->invite_uri = pol->invite_uri;
}

/*
 * However joins, retransmits and leaves interleave, the group never
 * takes more than its capacity and answers as the model does; now and
 * then it is stored and loaded again, as across a restart.
 */
static void
test_model(void **state)
{
	static const uint32_t	 caps[] = { 1, 2, 3, 5, 8, 40 };
	static const int	 pick[] = { P_OPEN, P_OPEN, P_OPEN, P_NOURI,
				    P_NOURI, P_URI2, P_DRAIN,
				    P_DRAIN_NOURI };
	struct recorder_group	*g, *h;
	struct group_member	*m;
	struct model		 mo;
	struct join_decision	 d, want;
	char			 id[IDLEN];
	uint32_t		 seed = 4242, r, c, op;
	size_t			 n;
	int			 k, last = -1, pol = P_OPEN, live = 1, ok = 1;
	int			 held;

	(void)state;
	for (c = 0; c < NELEM(caps); c++) {
		memset(&mo, 0, sizeof(mo));
		mo.capacity = caps[c];
		mo.kind[0] = MEMBER_ACCEPTED;
		mo.used = 1;
		g = group_new("contoso", "RecordAll", caps[c], "m0", key);
		assert_non_null(g);
		for (op = 0; op < 4000; op++) {
			r = lcg(&seed) % 100;
			if (r >= 15 && r < 30) {
				k = (int)(lcg(&seed) % NELEM(mo.kind));
				snprintf(id, sizeof(id), "m%d", k);
				/* Not held: one unidentified is freed. */
				held = mo.kind[k] == MEMBER_ACCEPTED ||
				    (mo.kind[k] == 0 && mo.anon > 0);
				assert_int_equal(group_leave(g, id), held);
				if (mo.kind[k] == 0 && held)
					mo.anon--;
				mo.used -= held;
				mo.kind[k] = 0;
			} else if (r >= 30 && r < 36) {
				/* Unidentified: never remembered but taken. */
				pol = pick[lcg(&seed) % NELEM(pick)];
				live = lcg(&seed) % 10 != 0;
				ok = lcg(&seed) % 12 != 0;
				memset(&d, 0, sizeof(d));
				assert_int_equal(group_join(g, &pols[pol],
				    NULL, ok ? "contoso" : "fabrikam",
				    "RecordAll", live, &d), 0);
				want.verdict = ok && live &&
				    !pols[pol].draining &&
				    mo.used < mo.capacity ? JOIN_ACCEPT :
				    pols[pol].invite_uri != NULL ?
				    JOIN_INVITE_NEW_BOT : JOIN_REJECT_BUSY;
				assert_int_equal(d.verdict, want.verdict);
				assert_int_equal(d.repeat, 0);
				assert_int_equal(d.added,
				    want.verdict == JOIN_ACCEPT);
				if (want.verdict == JOIN_ACCEPT) {
					mo.used++;
					mo.anon++;
				}
				last = -1;
			} else {
				/* A retransmit: the last join, as sent. */
				if (r >= 15 || last < 0) {
					last = (int)(lcg(&seed) %
					    NELEM(mo.kind));
					pol = pick[lcg(&seed) % NELEM(pick)];
					live = lcg(&seed) % 10 != 0;
					ok = lcg(&seed) % 12 != 0;
				}
				snprintf(id, sizeof(id), "m%d", last);
				memset(&d, 0, sizeof(d));
				assert_int_equal(group_join(g, &pols[pol], id,
				    ok ? "Contoso" : "fabrikam", "recordALL",
				    live, &d), 0);
				model_join(&mo, &pols[pol], last, ok, live,
				    &want);
				if (d.verdict != want.verdict ||
				    strcmp(d.reason, want.reason) != 0 ||
				    d.repeat != want.repeat ||
				    d.invite_uri != want.invite_uri)
					fail_msg("capacity %u, op %u, m%d: %s "
					    "%s repeat %d, want %s %s repeat "
					    "%d", caps[c], op, last,
					    join_verdict_name(d.verdict),
					    d.reason, d.repeat,
					    join_verdict_name(want.verdict),
					    want.reason, want.repeat);
			}
			assert_int_equal(group_used(g), mo.used);
			assert_true(group_used(g) <= caps[c]);
			if (op % 500 == 499) {
				check_members(g);
				assert_int_equal(group_export(g, &m, &n), 0);
				h = group_import("contoso", "RecordAll",
				    caps[c], m, n, key);
				assert_non_null(h);
				free(m);
				group_free(g);
				g = h;
			}
		}
		group_free(g);
		last = -1;
	}
}

/* Joins that name no one: a slot each, kept across a restart, freed
 * only by a participantLeft the group cannot place. */
static void
test_unidentified(void **state)
{
	struct recorder_group	*g, *h;
	struct join_decision	 d;
	unsigned char		*buf;
	size_t			 len;
	uint64_t		 a, b;

	(void)state;
	g = group_new("contoso", "RecordAll", 4, "u0", key);
	assert_int_equal(group_join(g, &pols[P_OPEN], NULL, "contoso",
	    "RecordAll", 1, &d), 0);
	assert_int_equal(d.verdict, JOIN_ACCEPT);
	assert_int_equal(d.unidentified, 1);
	assert_int_equal(d.added, 1);
	assert_int_equal(d.repeat, 0);
	a = d.member;
	/* The same join again cannot be told from a new one. */
	assert_int_equal(group_join(g, &pols[P_OPEN], NULL, "contoso",
	    "RecordAll", 1, &d), 0);
	assert_int_equal(d.verdict, JOIN_ACCEPT);
	assert_int_equal(d.repeat, 0);
	b = d.member;
	assert_true(a != b);
	assert_true(a != idhash("", key));
	assert_int_equal(group_used(g), 3);
	check_members(g);
	check_roundtrip(g);

	/* Stored as bytes and loaded: still two unidentified slots. */
	assert_int_equal(group_pack(g, &buf, &len), 0);
	h = group_unpack("contoso", "RecordAll", 4, buf, len, key);
	free(buf);
	assert_non_null(h);
	assert_int_equal(group_used(h), 3);
	group_free(g);
	g = h;

	/* A roster departure names a hash: never an unidentified one. */
	assert_int_equal(group_leave_hash(g, idhash("stranger", key)), 0);
	assert_int_equal(group_used(g), 3);
	/* A decision taken back names its own member exactly. */
	assert_int_equal(group_leave_hash(g, b), 1);
	assert_int_equal(group_used(g), 2);
	/* A new one after a leave gets a member of its own. */
	assert_int_equal(group_join(g, &pols[P_OPEN], "", NULL, NULL, 1, &d),
	    0);
	assert_int_equal(d.verdict, JOIN_ACCEPT);
	assert_true(d.member != a);
	assert_int_equal(group_used(g), 3);
	/* participantLeft of an id the group does not hold. */
	assert_int_equal(group_leave(g, "p-unknown"), 1);
	assert_int_equal(group_leave(g, "p-unknown"), 1);
	assert_int_equal(group_leave(g, "p-unknown"), 0);
	assert_int_equal(group_used(g), 1);
	/* A known one is freed by its own id, never for another. */
	assert_int_equal(group_leave(g, "u0"), 1);
	assert_int_equal(group_used(g), 0);
	check_members(g);
	group_free(g);
}

/* No group to go to: only a policy reason rejects, if there is a target. */
static void
test_unplaced(void **state)
{
	struct join_decision	 d;

	(void)state;
	memset(&d, 0xa5, sizeof(d));
	group_join_unplaced(&pols[P_OPEN], "contoso", "RecordAll",
	    "leg_unknown", &d);
	assert_int_equal(d.verdict, JOIN_INVITE_NEW_BOT);
	assert_string_equal(d.reason, "leg_unknown");
	assert_string_equal(d.invite_uri, URI);
	assert_int_equal(d.added, 0);
	assert_int_equal(d.repeat, 0);
	group_join_unplaced(&pols[P_NOURI], "contoso", "RecordAll",
	    "leg_not_answered", &d);
	assert_int_equal(d.verdict, JOIN_REJECT_BUSY);
	assert_string_equal(d.reason, "leg_not_answered");
	assert_null(d.invite_uri);
	group_join_unplaced(&pols[P_EMPTYURI], NULL, NULL, "leg_ended", &d);
	assert_int_equal(d.verdict, JOIN_REJECT_BUSY);
	group_join_unplaced(&pols[P_DRAIN], NULL, NULL, "leg_unknown", &d);
	assert_int_equal(d.verdict, JOIN_INVITE_NEW_BOT);
	group_join_unplaced(&pols[P_LIST], "evil", "RecordAll",
	    "leg_unknown", &d);
	assert_int_equal(d.verdict, JOIN_REJECT_FORBIDDEN);
	assert_string_equal(d.reason, "tenant_not_allowed");
	group_join_unplaced(&pols[P_LIST], "fabrikam", "RecordNone",
	    "leg_unknown", &d);
	assert_int_equal(d.verdict, JOIN_REJECT_FORBIDDEN);
	assert_string_equal(d.reason, "policy_not_allowed");
	group_join_unplaced(NULL, NULL, NULL, "leg_unknown", &d);
	assert_int_equal(d.verdict, JOIN_REJECT_BUSY);
	group_join_unplaced(&pols[P_OPEN], NULL, NULL, "x", NULL);
}

static size_t	 undone;
static uint64_t	 undone_member;

static void
undo_cb(const char *leg, uint64_t member, void *arg)
{
	struct recorder_group	*g = arg;

	assert_string_equal(leg, "leg-1");
	undone++;
	undone_member = member;
	if (g != NULL)
		group_leave_hash(g, member);
}

/*
 * What a request refused for a failed commit admitted is taken back,
 * unless a later request's answer rests on it too; what a request
 * answered admitted stays.
 */
static void
test_pending(void **state)
{
	static struct group_pending	 p;
	struct recorder_group		*g;
	struct join_decision		 d, r;
	char				 long_leg[GROUP_PENDING_LEGID + 1];
	size_t				 i;

	(void)state;
	group_pending_init(&p);
	g = group_new("contoso", "RecordAll", 4, "u0", key);

	/* Request 1 admits u1; refused: u1 is out again. */
	assert_int_equal(group_join(g, &pols[P_OPEN], "u1", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(group_pending_note(&p, 1, "leg-1", &d), 1);
	assert_int_equal(group_used(g), 2);
	undone = 0;
	assert_int_equal(group_pending_drop(&p, 1, undo_cb, g), 1);
	assert_int_equal(undone, 1);
	assert_int_equal(group_used(g), 1);
	assert_int_equal(p.n, 0);
	/* Sent again and answered: it stays. */
	assert_int_equal(group_join(g, &pols[P_OPEN], "u1", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(d.repeat, 0);
	assert_int_equal(group_pending_note(&p, 2, "leg-1", &d), 1);
	group_pending_done(&p, 2);
	assert_int_equal(group_pending_drop(&p, 2, undo_cb, g), 0);
	assert_int_equal(group_used(g), 2);
	assert_int_equal(p.n, 0);

	/* A repeat of an answered admission: nothing to note. */
	assert_int_equal(group_join(g, &pols[P_OPEN], "u1", NULL, NULL, 1,
	    &r), 0);
	assert_int_equal(r.repeat, 1);
	assert_int_equal(group_pending_note(&p, 3, "leg-1", &r), 0);

	/*
	 * Request 4 admits u2, request 5 repeats it (a retransmit before
	 * the commit): 4 refused, 5 answered: u2 stays.
	 */
	assert_int_equal(group_join(g, &pols[P_OPEN], "u2", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(group_pending_note(&p, 4, "leg-1", &d), 1);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u2", NULL, NULL, 1,
	    &r), 0);
	assert_int_equal(r.repeat, 1);
	assert_int_equal(group_pending_note(&p, 5, "leg-1", &r), 1);
	undone = 0;
	assert_int_equal(group_pending_drop(&p, 4, undo_cb, g), 0);
	assert_int_equal(undone, 0);
	group_pending_done(&p, 5);
	assert_int_equal(p.n, 0);
	assert_int_equal(group_used(g), 3);
	/* Both refused: out. */
	assert_int_equal(group_join(g, &pols[P_OPEN], "u3", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(group_pending_note(&p, 6, "leg-1", &d), 1);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u3", NULL, NULL, 1,
	    &r), 0);
	assert_int_equal(group_pending_note(&p, 7, "leg-1", &r), 1);
	assert_int_equal(group_pending_drop(&p, 6, undo_cb, g), 0);
	assert_int_equal(group_pending_drop(&p, 7, undo_cb, g), 1);
	assert_true(undone_member == d.member);
	assert_int_equal(group_used(g), 3);
	/* 4 answered, then the retransmit 5 refused: it stays. */
	assert_int_equal(group_join(g, &pols[P_OPEN], "u3", NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(group_pending_note(&p, 8, "leg-1", &d), 1);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u3", NULL, NULL, 1,
	    &r), 0);
	assert_int_equal(group_pending_note(&p, 9, "leg-1", &r), 1);
	group_pending_done(&p, 8);
	assert_int_equal(group_pending_drop(&p, 9, undo_cb, g), 0);
	assert_int_equal(group_used(g), 4);

	/* An unidentified admission, and an invitation, refused: out. */
	assert_int_equal(group_leave(g, "u3"), 1);
	assert_int_equal(group_join(g, &pols[P_OPEN], NULL, NULL, NULL, 1,
	    &d), 0);
	assert_int_equal(group_pending_note(&p, 10, "leg-1", &d), 1);
	assert_int_equal(group_join(g, &pols[P_OPEN], "u9", NULL, NULL, 1,
	    &r), 0);
	assert_int_equal(r.verdict, JOIN_INVITE_NEW_BOT);
	assert_int_equal(group_pending_note(&p, 10, "leg-1", &r), 1);
	undone = 0;
	assert_int_equal(group_pending_drop(&p, 10, undo_cb, g), 2);
	assert_int_equal(group_used(g), 3);
	/* u9 is decided afresh: room now. */
	assert_int_equal(group_join(g, &pols[P_OPEN], "u9", NULL, NULL, 1,
	    &r), 0);
	assert_int_equal(r.verdict, JOIN_ACCEPT);
	assert_int_equal(r.repeat, 0);

	/* Nothing noted without a request, a leg, or a decision added. */
	assert_int_equal(group_pending_note(&p, 0, "leg-1", &d), 0);
	assert_int_equal(group_pending_note(&p, 11, NULL, &d), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(group_pending_note(&p, 11, "leg-1", &r), 0);
	memset(long_leg, 'l', sizeof(long_leg) - 1);
	long_leg[sizeof(long_leg) - 1] = '\0';
	assert_int_equal(group_pending_note(&p, 11, long_leg, &d), 0);
	assert_int_equal(p.n, 0);

	/* Bounded: past the limit the oldest is forgotten. */
	d.added = 1;
	for (i = 0; i < GROUP_PENDING_MAX + 3; i++) {
		d.member = i + 1;
		assert_int_equal(group_pending_note(&p, 100 + i, "leg-1", &d),
		    1);
	}
	assert_int_equal(p.n, GROUP_PENDING_MAX);
	assert_int_equal(p.forgotten, 3);
	undone = 0;
	assert_int_equal(group_pending_drop(&p, 100, undo_cb, NULL), 0);
	assert_int_equal(group_pending_drop(&p, 103, undo_cb, NULL), 1);
	assert_true(undone_member == 4);
	group_pending_drop(NULL, 1, undo_cb, NULL);
	group_pending_done(NULL, 1);
	group_free(g);
}

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_remembered),
		cmocka_unit_test(test_response_body),
		cmocka_unit_test(test_response_from_join),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_import_hostile),
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_pack_empty),
		cmocka_unit_test(test_unpack_hostile),
		cmocka_unit_test(test_unpack_limits),
		cmocka_unit_test(test_leave_hash),
		cmocka_unit_test(test_alloc_failure),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_unidentified),
		cmocka_unit_test(test_unplaced),
		cmocka_unit_test(test_pending),
	};

	return cmocka_run_group_tests_name("group", tests, setup, NULL);
}
