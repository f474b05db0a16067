/* What to say to a recording invitation: answer, busy or forbidden. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "notif.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const decision_names[] = {
	"answer", "busy", "forbidden", "redirect",
};

static const char	*nonempty(const char *);
static int		 list_allows(char *const *, const char *);

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* "*" admits anything, even an unknown s; a NULL list admits nothing. */
static int
list_allows(char *const *list, const char *s)
{
	size_t	 i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], "*") == 0)
			return 1;
	if (s == NULL)
		return 0;
	for (i = 0; list != NULL && list[i] != NULL; i++)
		if (strcasecmp(list[i], s) == 0)
			return 1;
	return 0;
}

const char *
decide_tenant(const struct notification *n)
{
	return n != NULL ? decide_call_tenant(&n->call) : NULL;
}

const char *
decide_call_tenant(const struct call_data *c)
{
	const char	*t;

	if (c == NULL)
		return NULL;
	if ((t = nonempty(c->tenant_id)) != NULL)
		return t;
	if ((t = nonempty(c->bot.user.policy_holder_tenant_id)) != NULL)
		return t;
	return nonempty(c->bot.user.tenant_id);
}

enum decision
decide_invitation(const struct decide_policy *pol,
    const struct notification *n, size_t live, const char **reason)
{
	static const struct decide_policy	 nothing;
	const char				*why, *tenant, *policy;
	enum decision				 d;

	if (pol == NULL)
		pol = &nothing;
	tenant = decide_tenant(n);
	policy = n != NULL ? nonempty(n->call.bot.policy_identifier) : NULL;

	/* Forbidden first: a caller we could never serve hears so at once. */
	if (!list_allows(pol->tenants, tenant)) {
		d = DECIDE_REJECT_FORBIDDEN;
		why = tenant == NULL ? "tenant_unknown" : "tenant_not_allowed";
	} else if (!list_allows(pol->policies, policy)) {
		d = DECIDE_REJECT_FORBIDDEN;
		why = policy == NULL ? "policy_unknown" : "policy_not_allowed";
	} else if (pol->draining) {
		d = DECIDE_REJECT_BUSY;
		why = "draining";
	} else if (pol->max_calls <= 0 ||
	    (unsigned long long)live >= (unsigned long long)pol->max_calls) {
		d = DECIDE_REJECT_BUSY;
		why = "max_calls";
	} else {
		d = DECIDE_ANSWER;
		why = "allowed";
	}
	/* Busy here need not be busy: a sibling or region may take it. */
	if (d == DECIDE_REJECT_BUSY && nonempty(pol->redirect_url) != NULL &&
	    !pol->no_redirect)
		d = DECIDE_REDIRECT;
	if (reason != NULL)
		*reason = why;
	return d;
}

const char *
decision_name(enum decision d)
{
	if ((size_t)d >= NELEM(decision_names))
		return "unknown";
	return decision_names[d];
}

/* scheme://host[:port]/path split; 0, or -1 when u is no such URL. */
struct url_parts {
	const char	*host;
	size_t		 hostlen;
	long		 port;
	const char	*path;
	size_t		 pathlen;
	int		 https;
};

static int
url_split(const char *u, struct url_parts *p)
{
	const char	*h, *e, *c;
	char		*end;

	memset(p, 0, sizeof(*p));
	if (u == NULL)
		return -1;
	if (strncasecmp(u, "https://", 8) == 0) {
		p->https = 1;
		h = u + 8;
	} else if (strncasecmp(u, "http://", 7) == 0)
		h = u + 7;
	else
		return -1;
	e = h + strcspn(h, "/?#");
	p->path = *e == '/' ? e : "/";
	p->pathlen = *e == '/' ? strcspn(e, "#") : 1;
	/* One trailing '/' does not make another endpoint. */
	if (p->pathlen > 1 && p->path[p->pathlen - 1] == '/')
		p->pathlen--;
	/* A [v6] literal keeps its colons. */
	c = *h == '[' ? memchr(h, ']', (size_t)(e - h)) : h;
	if (c == NULL)
		return -1;
	c = memchr(c, ':', (size_t)(e - c));
	p->host = h;
	p->hostlen = (size_t)((c != NULL ? c : e) - h);
	p->port = p->https ? 443 : 80;
	if (c != NULL) {
		p->port = strtol(c + 1, &end, 10);
		if (end != e || end == c + 1 || p->port <= 0 || p->port > 65535)
			return -1;
	}
	return p->hostlen > 0 ? 0 : -1;
}

int
decide_same_url(const char *a, const char *b)
{
	struct url_parts	 x, y;

	if (url_split(a, &x) == -1 || url_split(b, &y) == -1)
		return 0;
	return x.https == y.https && x.port == y.port &&
	    x.hostlen == y.hostlen &&
	    strncasecmp(x.host, y.host, x.hostlen) == 0 &&
	    x.pathlen == y.pathlen &&
	    memcmp(x.path, y.path, x.pathlen) == 0;
}

/* The tenant a notification names for its call, whatever its kind. */
static const char *
named_tenant(const struct notification *n)
{
	switch (n->kind) {
	case NOTIF_KIND_CALL:
		return decide_call_tenant(&n->call);
	case NOTIF_KIND_JOINING:
		return decide_call_tenant(&n->joining.call);
	case NOTIF_KIND_LEFT:
		return decide_call_tenant(&n->left.call);
	default:
		return NULL;
	}
}

int
decide_token_tenant(const struct notification *n, const char *leg_tenant,
    const char *tid, char *const *allowed, const char **call_tenant)
{
	const char	*named, *t;

	named = n != NULL ? named_tenant(n) : NULL;
	leg_tenant = nonempty(leg_tenant);
	/* An invitation says whose call it is; afterwards the leg does. */
	if (n != NULL && notif_is_invitation(n))
		t = named != NULL ? named : leg_tenant;
	else
		t = leg_tenant != NULL ? leg_tenant : named;
	*call_tenant = t;
	if ((tid = nonempty(tid)) == NULL)
		return 0;
	if (t != NULL)
		return strcasecmp(tid, t) == 0;
	if (allowed == NULL || allowed[0] == NULL)
		return 1;
	return list_allows(allowed, tid);
}
