/*
 * The invitation decision: answer a policy-based recording invitation, or
 * reject it as busy or forbidden, and why.  Pure: the caller gives what
 * the configuration allows and how loaded the appliance is.
 */
#ifndef POLREC_DECIDE_H
#define POLREC_DECIDE_H

#include <stddef.h>

struct notification;

enum decision {
	DECIDE_ANSWER = 0,
	DECIDE_REJECT_BUSY,
	DECIDE_REJECT_FORBIDDEN,
	DECIDE_REDIRECT,	/* busy here: 302 Found to redirect_url */
};

struct decide_policy {
	char *const	*tenants;	/* NULL-terminated; "*" allows any */
	char *const	*policies;	/* NULL-terminated; "*" allows any */
	long long	 max_calls;	/* live legs allowed */
	int		 draining;	/* refuse new work */
	const char	*redirect_url;	/* where busy invitations go, or NULL */
	int		 no_redirect;	/* redirecting would loop, or cannot
					   be said in this reply */
};

/*
 * Decide for an invitation (notif_is_invitation) given the number of
 * live legs.  *reason is a static word for logs and the audit trail:
 * "allowed", "draining", "max_calls", "tenant_not_allowed",
 * "tenant_unknown", "policy_not_allowed", "policy_unknown".  Checked in
 * that order of precedence: forbidden before busy, so a caller that
 * could never be served is told so even under load.  What would be busy
 * (draining, max_calls) is DECIDE_REDIRECT instead, with the same
 * reason, when a redirect_url is set and no_redirect is not.
 * The tenant is the call's tenantId, else botData's policy holder tenant
 * or user tenant; the policy is botData.policyIdentifier.  Both compare
 * case-insensitively (GUIDs arrive in either case).
 */
enum decision	 decide_invitation(const struct decide_policy *,
		    const struct notification *, size_t live,
		    const char **reason);
const char	*decision_name(enum decision);	/* answer, busy, forbidden,
						   redirect */

/*
 * Whether two webhook URLs name the same endpoint: scheme and host
 * compared case-insensitively, the port with its scheme's default
 * (80, 443) filled in, the path exactly but for one trailing '/'.  A
 * redirect there would come back here.  NULL or unparsable: 0.
 */
int		 decide_same_url(const char *, const char *);

/* The tenant an invitation is for, or NULL. */
const char	*decide_tenant(const struct notification *);

/* The same for any call resource (e.g. a joining notification's call). */
struct call_data;
const char	*decide_call_tenant(const struct call_data *);

/*
 * Whether a notification token issued for tenant tid may speak of the
 * call n concerns.  The call's tenant is, for an invitation, the tenant
 * it names (decide_call_tenant), else leg_tenant; for any later
 * notification, leg_tenant (the tenant of the leg held for its call
 * id), else the tenant it names itself (a call, joining or left
 * notification's call).  The token's tid must equal that tenant,
 * case-insensitively; when no tenant is known, tid must be in allowed
 * (the [auth] tenants: NULL-terminated, empty or "*" admit any).
 * Returns 1 when it may, 0 when not; *call_tenant is the tenant
 * compared with, or NULL.
 */
int		 decide_token_tenant(const struct notification *,
		    const char *leg_tenant, const char *tid,
		    char *const *allowed, const char **call_tenant);

#endif
