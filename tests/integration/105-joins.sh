#!/bin/bash
# Joins must not block people: a rejectJoinResponse keeps the person out
# of the meeting under a strict policy.  A join with no participant id is
# accepted (recorded as unidentified); a join polrecd cannot place
# (unknown leg, full group, draining) is invited elsewhere when there is
# an invite target, busy only when there is none; forbidden only for a
# tenant or policy not allowed.  Of two joins in one request only the
# first is decided (the other is not_answered and takes no slot), and a
# join whose reply is refused because the commit failed keeps no slot.
set -eu
. tests/integration/lib.sh
# Participant ids are in the log only with -v (else a keyed hash).
POLRECD_ARGS=-v

CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497
UNKNOWN=c2000000-0000-4000-8000-000000000001
SIBLING=https://recorder02.example.com/api/calling
INVITE_SIBLING="{\"@odata.type\":\"#microsoft.graph.inviteNewBotResponse\",\"inviteUri\":\"$SIBLING\"}"
FORBIDDEN='{"@odata.type":"#microsoft.graph.rejectJoinResponse","reason":"forbidden"}'

# conf EXTRA: [recording] with capacity 3 and the allowed tenant/policy.
conf() {
	AUTH_MODE=none write_conf "[recording]
participant_capacity = 3
policies = Test Policy
$1"
}
reload() { ctl reload >/dev/null; }
unidentified() {	# a join with no incomingContext
	local f="$T/join-anon-$1.json"
	jq 'del(.value[0].resourceData.call.incomingContext)' "$(join "$1")" >"$f"
	echo "$f"
}
with() {		# FILE JQ-EXPR: a copy of a join, changed
	local f="$1.$RANDOM.json"
	jq "$2" "$1" >"$f"
	echo "$f"
}
group_is() { ctl show calls | grep -qE "^$CALL .* $1 "; }

start_sim
conf "overflow = reject"
start_polrecd
wait_for 10 log_has 'graph token: acquired'
play_files "$(invitation $CALL)" >/dev/null
check "answered" wait_for 5 log_has "call $CALL: answered in"

# --- overflow = reject: no invite target.
r=$(post "$(unidentified a1)")
check "an unidentified join (no incomingContext) is accepted" \
    test "$(verdict "$r")" = "$ACCEPT"
check "... and takes a slot (group 2/3)" \
    log_has "call $CALL: join of an unidentified participant: accept (capacity); group 2/3"
r=$(post "$(join u1 $UNKNOWN)")
check "unknown leg, no invite target: busy" test "$(verdict "$r")" = "$BUSY"
check "... because the leg is unknown" log_has "join of u1: busy (leg_unknown)"
r=$(post "$(with "$(join u2)" '.value[0].resourceData.call.tenantId = "evil-tenant"')")
check "a tenant not allowed: forbidden" test "$(verdict "$r")" = "$FORBIDDEN"
check "... tenant_not_allowed" log_has "join of u2: forbidden (tenant_not_allowed)"
r=$(post "$(with "$(join u3)" '.value[0].resourceData.call.applicationMetadata.botData.policyIdentifier = "Other"')")
check "a policy not allowed: forbidden" test "$(verdict "$r")" = "$FORBIDDEN"
r=$(post "$(with "$(join u4 $UNKNOWN)" '.value[0].resourceData.call.tenantId = "evil-tenant"')")
check "a tenant not allowed on an unknown leg: forbidden too" \
    test "$(verdict "$r")" = "$FORBIDDEN"
ctl drain on >/dev/null
r=$(post "$(join u5)")
check "draining, no invite target: busy" test "$(verdict "$r")" = "$BUSY"
check "... because draining" log_has "join of u5: busy (draining)"
ctl drain off >/dev/null

# A participantLeft for an id the group does not hold: the unidentified.
r=$(post "$(left anon-a1)")
check "participantLeft of an id not held frees the unidentified slot" \
    wait_for 3 log_has "call $CALL: anon-a1 left; group 1/3"

# Two joins in one request: one decision goes back, one slot is taken.
two="$T/two-joins.json"
jq -s '.[0].value += .[1].value | .[0]' "$(join v1)" "$(join v2)" >"$two"
r=$(post "$two")
check "two joins in one request: the first decision goes back" \
    test "$(verdict "$r")" = "$ACCEPT"
check "... the second is not answered" \
    log_has "join of v2 not answered: more than one join"
check "... and takes no slot (group 2/3)" \
    log_has "call $CALL: join of v1: accept (capacity); group 2/3"
check "counter joins_not_answered 1" test "$(stat_of joins_not_answered)" = 1
r=$(post "$(join v2)")
check "v2 sent alone is decided afresh" test "$(verdict "$r")" = "$ACCEPT"
check "... and takes the last slot" \
    log_has "call $CALL: join of v2: accept (capacity); group 3/3"

# A failed commit: the join's reply is refused, its slot taken back.
r=$(post "$(left v2)")
check "v2 leaves (group 2/3)" log_has "call $CALL: v2 left; group 2/3"
(echo "BEGIN IMMEDIATE;"; sleep 4; echo "COMMIT;") | sqlite3 "$T/audit.db" &
LOCKER=$!
sleep 0.5
r=$(post "$(join w1)")
check "a join whose commit fails is refused (503)" test "${r%% *}" = 503
check "... and its slot is taken back" \
    log_has "call $CALL: a join not acknowledged is taken back; group 2/3"
wait "$LOCKER"
check "counter joins_taken_back 1" test "$(stat_of joins_taken_back)" = 1
r=$(post "$(join w1)")
check "w1 sent again: accepted, not as before" test "$(verdict "$r")" = "$ACCEPT"
check "... one slot for it (group 3/3)" \
    log_has "call $CALL: join of w1: accept (capacity); group 3/3"
check "show calls: 3/3" group_is 3/3

# --- invite_url: everything not placed is invited to the sibling.
conf "invite_url = $SIBLING"
reload
r=$(post "$(join x1)")
check "full, invite_url: invited to the sibling" \
    test "$(verdict "$r")" = "$INVITE_SIBLING"
r=$(post "$(join x2 $UNKNOWN)")
check "unknown leg, invite_url: invited to the sibling" \
    test "$(verdict "$r")" = "$INVITE_SIBLING"
ctl drain on >/dev/null
r=$(post "$(join x3)")
check "draining, invite_url: invited to the sibling" \
    test "$(verdict "$r")" = "$INVITE_SIBLING"
check "... because draining" log_has "join of x3: invite (draining)"
r=$(post "$(with "$(join x4)" '.value[0].resourceData.call.tenantId = "evil-tenant"')")
check "a tenant not allowed is still forbidden" test "$(verdict "$r")" = "$FORBIDDEN"
ctl drain off >/dev/null

# --- the default: this host's own webhook, where a fresh invitation is
# answered normally; none while draining.
conf ""
reload
cb=$(requests_of answer $CALL | jq -r .body.callbackUri | head -n 1)
r=$(post "$(join y1 $UNKNOWN)")
check "unknown leg, by default: invited to this host's callback URI" \
    test "$(verdict "$r")" = "{\"@odata.type\":\"#microsoft.graph.inviteNewBotResponse\",\"inviteUri\":\"$cb\"}"
ctl drain on >/dev/null
r=$(post "$(join y2 $UNKNOWN)")
check "draining with no invite_url: busy (this host takes no new call)" \
    test "$(verdict "$r")" = "$BUSY"
ctl drain off >/dev/null

check "counters: accepted, rejected, invited" \
    test "$(stat_of joins_accepted) $(stat_of joins_invited)" = "5 4"
check "the audit trail says unidentified" \
    test "$(sqlite3 "$T/audit.db" "SELECT count(*) FROM audit_event WHERE kind = 'join' AND detail LIKE '%\"participant\":\"unidentified\"%'")" = 1
check "the audit trail has the not_answered join" \
    test "$(sqlite3 "$T/audit.db" "SELECT count(*) FROM audit_event WHERE kind = 'join' AND outcome = 'not_answered'")" = 1
check "the refused join is not in the trail as accepted" \
    test "$(sqlite3 "$T/audit.db" "SELECT count(*) FROM audit_event WHERE kind = 'join' AND outcome = 'accept'")" = 4
check "polrecd stops cleanly" stop_polrecd
exit $FAILED
