#!/bin/bash
# Tokens bound to their tenant: a good token Microsoft issued for another
# tenant may not speak of this tenant's calls.  An invitation, or a later
# notification of a live leg, signed for another tenant is refused with
# 403, recorded, counted, and acted on in no way; properly signed, the
# same notifications work.  A tenant not served is refused 403 too.
set -eu
. tests/integration/lib.sh

# The simulator's "wrong-tid" tokens carry this tenant.
OTHER=7a1b2c3d-0000-4000-8000-0000000000b2
CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497
DB="$T/audit.db"
q() { sqlite3 -readonly "$DB" "$1"; }
mismatch_event() {
	q "SELECT outcome, reason, http_status, call_id, tenant,
	    json_extract(detail, '\$.tid') FROM audit_event
	    WHERE kind = 'notification' AND reason = 'tenant_mismatch'
	    AND call_id = '$1'"
}
has_mismatch_event() { [ "$(mismatch_event "$1")" = "$2" ]; }
leg_line() { ctl show calls | grep -E "^$1 " || true; }
end_of() {
	sed -e "s/57dab8b1-894c-409a-b240-bd8beae78896/$1/" \
	    tests/scenarios/notifications/terminated-deleted.json >"$T/end-$1.json"
	echo "$T/end-$1.json"
}

TENANTS="$TENANT_ID $OTHER" start_sim
# Both tenants' tokens pass the signature and tid checks, as for an
# appliance serving two tenants: only the call's tenant decides.
TENANTS="$TENANT_ID $OTHER" write_conf
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired' || true

# An invitation of this tenant, signed for the other one.
inv=$(invitation $CALL)
check "invitation with another tenant's token: 403" \
    play_signed wrong-tid 403 "$inv"
check "the 403 says forbidden, in JSON" grep -q \
    '{"error":{"code":"forbidden","message":"the token is not for the tenant of the call"}}' \
    "$T/play-signed.out"
sleep 0.3
check "no answer or reject sent for it" \
    test "$(count_requests answer $CALL)$(count_requests reject $CALL)" = 00
check "no Graph request at all" test "$(graph_requests)" = 0
check "no leg for it" test -z "$(leg_line $CALL)"
check "the refusal is an audit event with the call, its tenant, the tid" \
    wait_for 5 has_mismatch_event $CALL "refused|tenant_mismatch|403|$CALL|$TENANT_ID|$OTHER"
check "logged with both tenants" log_has \
    "call $CALL: notification refused (403): tenant_mismatch; call tenant $TENANT_ID token tid $OTHER"
check "counted" test "$(stat_of auth_tenant_mismatch)" = 1
check "nothing counted received" test "$(stat_of notifications_received)" = 0

# The same invitation, properly signed: answered.
check "the same invitation with this tenant's token: 202" \
    play_signed valid 202 "$inv"
check "answered" wait_for 5 log_has "call $CALL: answered in"
check "established" wait_for 5 sh -c \
    "build/polrecctl -s '$T/ctl.sock' show calls | grep -qE '^$CALL +established +answered'"
check "no capture source: recording not reported" wait_for 5 log_has \
    "call $CALL: no capture source: answered, recording not reported"
sleep 0.3
before=$(graph_requests)

# The live leg ended by a token of the other tenant: refused, still live.
end=$(end_of $CALL)
check "terminated with another tenant's token: 403" \
    play_signed wrong-tid 403 "$end"
# The notification naming the other tenant does not help: the leg decides.
jq --arg t "$OTHER" '.value[0].resourceData.tenantId = $t' "$end" >"$T/end-named.json"
check "terminated naming the other tenant, its token: 403" \
    play_signed wrong-tid 403 "$T/end-named.json"
sleep 0.3
check "the leg is still live" sh -c \
    "build/polrecctl -s '$T/ctl.sock' show calls | grep -qE '^$CALL +established +answered'"
check "not ended" sh -c "! grep -q 'call $CALL: ended' '$T/polrecd.log'"
check "no Graph request for them" test "$(graph_requests)" = "$before"
check "the refusals recorded with the leg's tenant" \
    test "$(q "SELECT count(*) FROM audit_event WHERE kind = 'notification'
        AND reason = 'tenant_mismatch' AND call_id = '$CALL'
        AND tenant = '$TENANT_ID' AND json_extract(detail, '\$.tid') = '$OTHER'")" = 3
check "counted" test "$(stat_of auth_tenant_mismatch)" = 3

# A batch mixing a good notification with one of this leg: all refused.
C2=c2000002-0000-4000-8000-000000000002
jq -s '.[0].value += .[1].value | .[0]' "$(invitation $C2 $OTHER)" "$end" \
    >"$T/mixed.json"
check "a batch with one notification of another tenant: 403" \
    play_signed wrong-tid 403 "$T/mixed.json"
sleep 0.3
check "nothing of the batch acted on: no leg for the other call" \
    test -z "$(leg_line $C2)"
check "nothing of the batch acted on: no Graph request" \
    test "$(graph_requests)" = "$before"

# Properly signed, the end works.
check "terminated with this tenant's token: 202" play_signed valid 202 "$end"
check "the leg ended" wait_for 5 log_has "call $CALL: ended"

# An invitation of the other tenant with its own token is its business.
C3=c3000003-0000-4000-8000-000000000003
check "the other tenant's invitation with its own token: 202" \
    play_signed wrong-tid 202 "$(invitation $C3 $OTHER)"
check "answered" wait_for 5 log_has "call $C3: answered in"
check "answered with that tenant's Graph token" test \
    "$(requests_of answer $C3 | jq -r .token_tid)" = "$OTHER"
check "SIGTERM: clean exit 0" stop_polrecd

# One tenant served: another tenant's token is 403, recorded.
write_conf
start_polrecd
wait_keys
C4=c4000004-0000-4000-8000-000000000004
check "one tenant: another tenant's token is 403" \
    play_signed wrong-tid 403 "$(invitation $C4 $OTHER)"
check "one tenant: the 403 says the tenant is not served" grep -q \
    '{"error":{"code":"forbidden","message":"the tenant is not served here"}}' \
    "$T/play-signed.out"
check "one tenant: logged tenant_not_allowed" \
    log_has "call $C4: notification refused (403): tenant_not_allowed"
check "one tenant: recorded" wait_for 5 out_cmp = 1 q "SELECT count(*) FROM
    audit_event WHERE kind = 'notification' AND call_id = '$C4' AND
    reason = 'tenant_not_allowed' AND http_status = 403"
check "one tenant: this tenant's token works" \
    play_signed valid 202 "$(invitation c4000005-0000-4000-8000-000000000005)"

# No tokens, no tenant to compare.
check "SIGTERM: clean exit 0" stop_polrecd
AUTH_MODE=none write_conf
start_polrecd
check "mode none: an unsigned invitation of this tenant accepted" \
    play_signed none 202 "$(invitation c4000006-0000-4000-8000-000000000006)"
check "SIGTERM: clean exit 0" stop_polrecd
exit $FAILED
