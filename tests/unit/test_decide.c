/* Unit tests for the invitation decision (lib/decide.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decide.h"
#include "notif.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define T1	"932899f8-2ea1-4604-8413-27bd2892079f"
#define T1_UC	"932899F8-2EA1-4604-8413-27BD2892079F"
#define T2	"72f988bf-86f1-41af-91ab-2d7cd011db47"
#define T3	"00000000-0000-0000-0000-000000000003"
#define P1	"Test Policy"
#define P2	"tag:Compliance"

/* Lists as config gives them: NULL-terminated, "*" for any. */
static char *any[] = { "*", NULL };
static char *t1[] = { T1, NULL };
static char *t1_uc[] = { T1_UC, NULL };
static char *t12[] = { T2, T1, NULL };
static char *t2_any[] = { T2, "*", NULL };
static char *p1[] = { P1, NULL };
static char *p12[] = { "other", P2, P1, NULL };
static char *p1_lc[] = { "test policy", NULL };
static char *empty[] = { NULL };
static char *star_prefix[] = { "*x", "x*", NULL };

struct dcase {
	const char	*name;
	/* the invitation */
	const char	*tenant;		/* call.tenantId */
	const char	*holder_tenant;	/* policyHolderTenantId */
	const char	*user_tenant;	/* botData.user.tenantId */
	const char	*policy;		/* botData.policyIdentifier */
	/* the configuration and load */
	char		**tenants;
	char		**policies;
	long long	 max_calls;
	int		 draining;
	size_t		 live;
	/* the answer */
	enum decision	 want;
	const char	*reason;
};

static const struct dcase cases[] = {
	{ "allowed", T1, NULL, NULL, P1, t1, p1, 10, 0, 0,
	    DECIDE_ANSWER, "allowed" },
	{ "allowed by any", T3, NULL, NULL, "whatever", any, any, 10, 0, 9,
	    DECIDE_ANSWER, "allowed" },
	{ "tenant in a longer list", T1, NULL, NULL, P2, t12, p12, 10, 0, 0,
	    DECIDE_ANSWER, "allowed" },
	{ "tenant case differs", T1_UC, NULL, NULL, P1, t1, p1, 10, 0, 0,
	    DECIDE_ANSWER, "allowed" },
	{ "list case differs", T1, NULL, NULL, P1, t1_uc, p1, 10, 0, 0,
	    DECIDE_ANSWER, "allowed" },
	{ "policy case differs", T1, NULL, NULL, P1, t1, p1_lc, 10, 0, 0,
	    DECIDE_ANSWER, "allowed" },
	{ "star after a name", T3, NULL, NULL, P1, t2_any, p1, 10, 0, 0,
	    DECIDE_ANSWER, "allowed" },

	/* Where the tenant comes from. */
	{ "policy holder tenant", NULL, T1, T2, P1, t1, p1, 10, 0, 0,
	    DECIDE_ANSWER, "allowed" },
	{ "user tenant", NULL, NULL, T1, P1, t1, p1, 10, 0, 0,
	    DECIDE_ANSWER, "allowed" },
	{ "call tenant first", T2, T1, T1, P1, t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },
	{ "holder before user", NULL, T2, T1, P1, t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },
	{ "empty call tenant skipped", "", NULL, T1, P1, t1, p1, 10, 0, 0,
	    DECIDE_ANSWER, "allowed" },

	/* Tenant refusals. */
	{ "tenant not allowed", T2, NULL, NULL, P1, t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },
	{ "tenant unknown", NULL, NULL, NULL, P1, t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "tenant_unknown" },
	{ "tenant empty", "", "", "", P1, t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "tenant_unknown" },
	{ "unknown tenant, any allowed", NULL, NULL, NULL, P1, any, p1, 10, 0,
	    0, DECIDE_ANSWER, "allowed" },
	{ "empty tenant list", T1, NULL, NULL, P1, empty, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },
	{ "NULL tenant list", T1, NULL, NULL, P1, NULL, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },
	{ "star is not a glob", T1, NULL, NULL, P1, star_prefix, p1, 10, 0,
	    0, DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },
	{ "tenant prefix", T1 "0", NULL, NULL, P1, t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },

	/* Policy refusals. */
	{ "policy not allowed", T1, NULL, NULL, P2, t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "policy_not_allowed" },
	{ "policy unknown", T1, NULL, NULL, NULL, t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "policy_unknown" },
	{ "policy empty", T1, NULL, NULL, "", t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "policy_unknown" },
	{ "unknown policy, any allowed", T1, NULL, NULL, NULL, t1, any, 10, 0,
	    0, DECIDE_ANSWER, "allowed" },
	{ "empty policy list", T1, NULL, NULL, P1, t1, empty, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "policy_not_allowed" },

	/* Load. */
	{ "draining", T1, NULL, NULL, P1, t1, p1, 10, 1, 0,
	    DECIDE_REJECT_BUSY, "draining" },
	{ "at max_calls", T1, NULL, NULL, P1, t1, p1, 10, 0, 10,
	    DECIDE_REJECT_BUSY, "max_calls" },
	{ "over max_calls", T1, NULL, NULL, P1, t1, p1, 10, 0, 5000,
	    DECIDE_REJECT_BUSY, "max_calls" },
	{ "one below max_calls", T1, NULL, NULL, P1, t1, p1, 10, 0, 9,
	    DECIDE_ANSWER, "allowed" },
	{ "max_calls 1, idle", T1, NULL, NULL, P1, t1, p1, 1, 0, 0,
	    DECIDE_ANSWER, "allowed" },
	{ "max_calls 1, busy", T1, NULL, NULL, P1, t1, p1, 1, 0, 1,
	    DECIDE_REJECT_BUSY, "max_calls" },
	{ "max_calls 0", T1, NULL, NULL, P1, t1, p1, 0, 0, 0,
	    DECIDE_REJECT_BUSY, "max_calls" },
	{ "max_calls negative", T1, NULL, NULL, P1, t1, p1, -1, 0, 0,
	    DECIDE_REJECT_BUSY, "max_calls" },

	/* Precedence: forbidden before busy, tenant before policy. */
	{ "draining and full", T1, NULL, NULL, P1, t1, p1, 10, 1, 10,
	    DECIDE_REJECT_BUSY, "draining" },
	{ "bad tenant while draining", T2, NULL, NULL, P1, t1, p1, 10, 1, 10,
	    DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },
	{ "bad policy while full", T1, NULL, NULL, P2, t1, p1, 10, 0, 10,
	    DECIDE_REJECT_FORBIDDEN, "policy_not_allowed" },
	{ "bad tenant and policy", T2, NULL, NULL, P2, t1, p1, 10, 0, 0,
	    DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },
	{ "unknown tenant, bad policy", NULL, NULL, NULL, P2, t1, p1, 10, 0,
	    0, DECIDE_REJECT_FORBIDDEN, "tenant_unknown" },
	{ "unknown policy while draining", T1, NULL, NULL, NULL, t1, p1, 10,
	    1, 0, DECIDE_REJECT_FORBIDDEN, "policy_unknown" },
	{ "any, any, draining", NULL, NULL, NULL, NULL, any, any, 10, 1, 0,
	    DECIDE_REJECT_BUSY, "draining" },
};

static void	 invitation(struct notification *, const struct dcase *);

static void
invitation(struct notification *n, const struct dcase *c)
{
	memset(n, 0, sizeof(*n));
	n->change = NOTIF_CHANGE_CREATED;
	n->kind = NOTIF_KIND_CALL;
	n->call.state = CALL_STATE_INCOMING;
	n->call.tenant_id = c->tenant;
	n->call.bot.present = 1;
	n->call.bot.policy_identifier = c->policy;
	n->call.bot.user.policy_holder_tenant_id = c->holder_tenant;
	n->call.bot.user.tenant_id = c->user_tenant;
}

static void
test_table(void **state)
{
	struct notification	 n;
	struct decide_policy	 pol;
	const struct dcase	*c;
	const char		*reason;
	enum decision		 d;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		c = &cases[i];
		invitation(&n, c);
		memset(&pol, 0, sizeof(pol));
		pol.tenants = c->tenants;
		pol.policies = c->policies;
		pol.max_calls = c->max_calls;
		pol.draining = c->draining;
		reason = NULL;
		d = decide_invitation(&pol, &n, c->live, &reason);
		if (d != c->want || reason == NULL ||
		    strcmp(reason, c->reason) != 0)
			fail_msg("%s: got %s (%s), want %s (%s)", c->name,
			    decision_name(d), reason ? reason : "(null)",
			    decision_name(c->want), c->reason);
	}
}

static void
test_tenant(void **state)
{
	struct notification	 n;
	struct dcase		 c;

	(void)state;
	memset(&c, 0, sizeof(c));
	invitation(&n, &c);
	assert_null(decide_tenant(&n));
	assert_null(decide_tenant(NULL));
	c.user_tenant = T3;
	invitation(&n, &c);
	assert_string_equal(decide_tenant(&n), T3);
	c.holder_tenant = T2;
	invitation(&n, &c);
	assert_string_equal(decide_tenant(&n), T2);
	c.tenant = T1;
	invitation(&n, &c);
	assert_string_equal(decide_tenant(&n), T1);
}

/*
 * With a redirect_url, what would be busy is a redirect, with the same
 * reason; forbidden stays forbidden, room is answered, and no_redirect
 * (a loop, a batch) leaves it busy.
 */
static void
test_redirect(void **state)
{
	static const struct {
		const char	*name;
		int		 draining;
		size_t		 live;
		const char	*url;
		int		 no_redirect;
		char		**tenants;
		enum decision	 want;
		const char	*reason;
	} rc[] = {
		{ "draining", 1, 0, "https://r2/api", 0, t1,
		    DECIDE_REDIRECT, "draining" },
		{ "above max_calls", 0, 10, "https://r2/api", 0, t1,
		    DECIDE_REDIRECT, "max_calls" },
		{ "room: answered", 0, 9, "https://r2/api", 0, t1,
		    DECIDE_ANSWER, "allowed" },
		{ "forbidden stays", 1, 10, "https://r2/api", 0, empty,
		    DECIDE_REJECT_FORBIDDEN, "tenant_not_allowed" },
		{ "loop: busy", 1, 0, "https://r2/api", 1, t1,
		    DECIDE_REJECT_BUSY, "draining" },
		{ "no url: busy", 1, 0, NULL, 0, t1,
		    DECIDE_REJECT_BUSY, "draining" },
		{ "empty url: busy", 0, 10, "", 0, t1,
		    DECIDE_REJECT_BUSY, "max_calls" },
	};
	struct notification	 n;
	struct decide_policy	 pol;
	struct dcase		 c;
	const char		*reason;
	enum decision		 d;
	size_t			 i;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.tenant = T1;
	c.policy = P1;
	invitation(&n, &c);
	for (i = 0; i < NELEM(rc); i++) {
		memset(&pol, 0, sizeof(pol));
		pol.tenants = rc[i].tenants;
		pol.policies = any;
		pol.max_calls = 10;
		pol.draining = rc[i].draining;
		pol.redirect_url = rc[i].url;
		pol.no_redirect = rc[i].no_redirect;
		reason = NULL;
		d = decide_invitation(&pol, &n, rc[i].live, &reason);
		if (d != rc[i].want || reason == NULL ||
		    strcmp(reason, rc[i].reason) != 0)
			fail_msg("%s: got %s (%s), want %s (%s)", rc[i].name,
			    decision_name(d), reason ? reason : "(null)",
			    decision_name(rc[i].want), rc[i].reason);
	}
	assert_string_equal(decision_name(DECIDE_REDIRECT), "redirect");
}

/* A redirect to this host's own webhook would come back. */
static void
test_same_url(void **state)
{
	(void)state;
	assert_true(decide_same_url("https://a.example/api/calling",
	    "https://a.example/api/calling"));
	assert_true(decide_same_url("HTTPS://A.Example:443/api/calling",
	    "https://a.example/api/calling/"));
	assert_true(decide_same_url("http://127.0.0.1:80/x",
	    "http://127.0.0.1/x"));
	assert_true(decide_same_url("http://[::1]:8080/x",
	    "http://[::1]:8080/x"));
	assert_true(decide_same_url("https://a.example", "https://a.example/"));
	assert_false(decide_same_url("https://a.example/api/calling",
	    "https://b.example/api/calling"));
	assert_false(decide_same_url("https://a.example/api/calling",
	    "http://a.example/api/calling"));
	assert_false(decide_same_url("https://a.example:8443/api/calling",
	    "https://a.example/api/calling"));
	assert_false(decide_same_url("https://a.example/api/Calling",
	    "https://a.example/api/calling"));
	assert_false(decide_same_url("http://[::1]:8080/x",
	    "http://[::1]:8081/x"));
	assert_false(decide_same_url("https://a.example:0/x",
	    "https://a.example:0/x"));
	assert_false(decide_same_url("https://a.example:99999/x",
	    "https://a.example:99999/x"));
	assert_false(decide_same_url("https://:443/x", "https://:443/x"));
	assert_false(decide_same_url("ftp://a/x", "ftp://a/x"));
	assert_false(decide_same_url(NULL, "https://a/x"));
	assert_false(decide_same_url("https://a/x", NULL));
}

/* A parsed invitation: Graph's documented Example 3. */
static void
test_parsed(void **state)
{
	static char		*policy[] = { P1, NULL };
	struct notif_batch	*b;
	struct decide_policy	 pol;
	const char		*reason;
	char			*body, err[128];
	FILE			*f;
	long			 len;

	(void)state;
	f = fopen("tests/scenarios/notifications/example3-invitation.json",
	    "rb");
	if (f == NULL)
		fail_msg("cannot open example3 (run from the repo root)");
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	body = malloc(len);
	assert_non_null(body);
	assert_int_equal(fread(body, 1, len, f), (size_t)len);
	fclose(f);
	assert_int_equal(notif_parse(body, len, &b, err, sizeof(err)), 0);
	assert_true(notif_is_invitation(&b->v[0]));
	assert_string_equal(decide_tenant(&b->v[0]), T1);

	memset(&pol, 0, sizeof(pol));
	pol.tenants = t1_uc;
	pol.policies = policy;
	pol.max_calls = 1;
	assert_int_equal(decide_invitation(&pol, &b->v[0], 0, &reason),
	    DECIDE_ANSWER);
	assert_string_equal(reason, "allowed");
	pol.policies = p1_lc;
	assert_int_equal(decide_invitation(&pol, &b->v[0], 1, &reason),
	    DECIDE_REJECT_BUSY);
	assert_string_equal(reason, "max_calls");
	pol.tenants = empty;
	assert_int_equal(decide_invitation(&pol, &b->v[0], 0, &reason),
	    DECIDE_REJECT_FORBIDDEN);
	assert_string_equal(reason, "tenant_not_allowed");
	notif_batch_free(b);
	free(body);
}

static void
test_edges(void **state)
{
	struct notification	 n;
	struct dcase		 c;
	const char		*reason;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.tenant = T1;
	c.policy = P1;
	invitation(&n, &c);
	/* No policy at all admits nothing; a NULL reason pointer is fine. */
	assert_int_equal(decide_invitation(NULL, &n, 0, &reason),
	    DECIDE_REJECT_FORBIDDEN);
	assert_string_equal(reason, "tenant_not_allowed");
	assert_int_equal(decide_invitation(NULL, &n, 0, NULL),
	    DECIDE_REJECT_FORBIDDEN);
	assert_string_equal(decision_name(DECIDE_ANSWER), "answer");
	assert_string_equal(decision_name(DECIDE_REJECT_BUSY), "busy");
	assert_string_equal(decision_name(DECIDE_REJECT_FORBIDDEN),
	    "forbidden");
	assert_string_equal(decision_name((enum decision)42), "unknown");
}

/*
 * Tokens bound to their tenant: which tenant a notification's call
 * belongs to, and whether the token's tid is it.
 */
enum tkind { TK_INVITATION, TK_STATE, TK_JOINING, TK_LEFT, TK_ROSTER };

struct tcase {
	const char	*name;
	enum tkind	 kind;
	const char	*named;		/* the tenant the notification names */
	const char	*leg;		/* the leg's tenant; NULL: no leg */
	const char	*tid;		/* the token's */
	char		**allowed;	/* [auth] tenants */
	int		 want;
	const char	*want_tenant;	/* compared with */
};

static const struct tcase tcases[] = {
	/* Invitations: their own tenantId. */
	{ "invitation, same tenant", TK_INVITATION, T1, NULL, T1, t12, 1, T1 },
	{ "invitation, other tenant", TK_INVITATION, T1, NULL, T2, t12, 0, T1 },
	{ "invitation, GUID case differs", TK_INVITATION, T1, NULL, T1_UC,
	    t1, 1, T1 },
	{ "invitation, no tenant, tid allowed", TK_INVITATION, NULL, NULL, T2,
	    t12, 1, NULL },
	{ "invitation, no tenant, tid not allowed", TK_INVITATION, NULL, NULL,
	    T3, t12, 0, NULL },
	{ "invitation, no tenant, any allowed", TK_INVITATION, NULL, NULL, T3,
	    any, 1, NULL },
	{ "invitation, no tenant, empty list", TK_INVITATION, NULL, NULL, T3,
	    empty, 1, NULL },
	{ "invitation, empty tenant is none", TK_INVITATION, "", NULL, T3,
	    t12, 0, NULL },
	{ "duplicate invitation: its own tenant", TK_INVITATION, T1, T2, T1,
	    t12, 1, T1 },
	{ "invitation without tenant of a known leg", TK_INVITATION, NULL, T2,
	    T2, t12, 1, T2 },

	/* Later notifications: the leg's tenant. */
	{ "established, leg same tenant", TK_STATE, T1, T1, T1, t12, 1, T1 },
	{ "terminated, leg other tenant", TK_STATE, NULL, T1, T2, t12, 0, T1 },
	{ "the leg wins over what it names", TK_STATE, T2, T1, T2, t12, 0,
	    T1 },
	{ "leg, GUID case differs", TK_STATE, NULL, T1_UC, T1, t1, 1, T1_UC },
	{ "roster of a leg, other tenant", TK_ROSTER, NULL, T1, T2, any, 0,
	    T1 },
	{ "joining of a leg, same tenant", TK_JOINING, T1, T1, T1, t1, 1, T1 },
	{ "left of a leg, other tenant", TK_LEFT, NULL, T1, T2, t12, 0, T1 },

	/* Unknown leg: what the notification names, else the list. */
	{ "unknown leg, names same tenant", TK_STATE, T1, NULL, T1, t12, 1,
	    T1 },
	{ "unknown leg, names other tenant", TK_STATE, T1, NULL, T2, t12, 0,
	    T1 },
	{ "unknown leg, joining names other", TK_JOINING, T1, NULL, T2, t12,
	    0, T1 },
	{ "unknown leg, no tenant, tid allowed", TK_STATE, NULL, NULL, T1,
	    t12, 1, NULL },
	{ "unknown leg, no tenant, tid not allowed", TK_ROSTER, NULL, NULL,
	    T3, t12, 0, NULL },
	{ "unknown leg, no tenant, allowed in other case", TK_LEFT, NULL, NULL,
	    T1_UC, t1, 1, NULL },

	/* No tid at all never matches. */
	{ "no tid", TK_STATE, NULL, T1, NULL, any, 0, T1 },
	{ "empty tid, nothing known", TK_STATE, NULL, NULL, "", any, 0, NULL },
};

static void
token_notification(struct notification *n, const struct tcase *c)
{
	memset(n, 0, sizeof(*n));
	n->change = NOTIF_CHANGE_UPDATED;
	switch (c->kind) {
	case TK_INVITATION:
		n->change = NOTIF_CHANGE_CREATED;
		n->kind = NOTIF_KIND_CALL;
		n->call.state = CALL_STATE_INCOMING;
		n->call.bot.present = 1;
		n->call.tenant_id = c->named;
		break;
	case TK_STATE:
		n->kind = NOTIF_KIND_CALL;
		n->call.state = CALL_STATE_ESTABLISHED;
		n->call.tenant_id = c->named;
		break;
	case TK_JOINING:
		n->kind = NOTIF_KIND_JOINING;
		n->joining.call.tenant_id = c->named;
		break;
	case TK_LEFT:
		n->kind = NOTIF_KIND_LEFT;
		n->left.call.tenant_id = c->named;
		break;
	case TK_ROSTER:
		n->kind = NOTIF_KIND_PARTICIPANTS;
		break;
	}
}

static void
test_token_tenant(void **state)
{
	struct notification	 n;
	const struct tcase	*c;
	const char		*t;
	size_t			 i;
	int			 r;

	(void)state;
	for (i = 0; i < NELEM(tcases); i++) {
		c = &tcases[i];
		token_notification(&n, c);
		t = "unset";
		r = decide_token_tenant(&n, c->leg, c->tid, c->allowed, &t);
		if (r != c->want)
			fail_msg("%s: got %d, want %d", c->name, r, c->want);
		if ((t == NULL) != (c->want_tenant == NULL) ||
		    (t != NULL && strcmp(t, c->want_tenant) != 0))
			fail_msg("%s: compared with %s, want %s", c->name,
			    t ? t : "(null)",
			    c->want_tenant ? c->want_tenant : "(null)");
	}
	/* A call notification in state terminated is no invitation. */
	token_notification(&n, &tcases[0]);
	n.change = NOTIF_CHANGE_DELETED;
	n.call.state = CALL_STATE_TERMINATED;
	assert_int_equal(decide_token_tenant(&n, T2, T1, t12, &t), 0);
	assert_string_equal(t, T2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_token_tenant),
		cmocka_unit_test(test_tenant),
		cmocka_unit_test(test_parsed),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_same_url),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}
