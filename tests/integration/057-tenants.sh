#!/bin/bash
# Many tenants: [tenants] ids is the one list.  A Graph app token per
# tenant, each fetched once at start-up; every call's Graph requests carry
# the token of the call's tenant (the simulator records each token's tid
# and refuses another tenant's); a tenant not served is refused 403 and
# recorded; a reload fetches only what changed; `show status` lists each
# token; the old settings still work, with a warning, and refuse to start
# when they disagree.
set -eu
. tests/integration/lib.sh

A=$TENANT_ID
B=7a1b2c3d-0000-4000-8000-0000000000b2
C=0c0c0c0c-0000-4000-8000-00000000000c
D=0d0d0d0d-0000-4000-8000-00000000000d	# never served
DB="$T/audit.db"
q() { sqlite3 -readonly "$DB" "$1"; }
tokens() { sim_ctl GET /_sim/stats | jq -r '.tokens_issued + .token_errors'; }
reloads() { grep -c 'configuration reloaded' "$T/polrecd.log" || true; }
reload_once() {
	local n
	n=$(reloads)
	ctl reload >/dev/null
	wait_for 5 out_cmp -gt "$n" reloads
}
# play_tid TID STATUS FILE: FILE posted with a valid token for tenant TID.
play_tid() {
	local scen="$T/tid-$$-$RANDOM.json"
	printf '{"name":"tid","steps":[{"file":"%s","tid":"%s","expect_status":%s}]}\n' \
	    "$3" "$1" "$2" >"$scen"
	"$SIM" play -u "$WEBHOOK" "$scen" >"$T/play-tid.out" 2>&1
}
# token_tids ID: the tenants of the app tokens of every request for ID.
token_tids() { requests_of "$1" "$2" | jq -r .token_tid | sort -u | tr '\n' ' '; }
all_tids() { jq -r --arg c "$1" 'select(.call_id == $c) | .token_tid' \
    "$T/graph-requests.jsonl" | sort -u | tr '\n' ' '; }
token_state() { ctl -j show status | jq -r --arg t "$1" \
    '.tenants[] | select(.tenant == $t) | "\(.state) \(.fetches) \(.failures)"'; }

TENANTS="$A $B $C" start_sim
TENANTS="$A,$B,$C" write_conf
start_polrecd
wait_keys
check "a token per tenant at start-up" wait_for 10 \
    test "$(grep -c 'graph token: acquired (secret) for tenant' "$T/polrecd.log")" -eq 3
n0=$(tokens)
check "exactly one token request per tenant ($n0)" test "$n0" -eq 3
for t in $A $B $C; do
	check "token for $t acquired" log_has "graph token: acquired (secret) for tenant $t"
	check "show status: $t valid, 1 fetch, no failure" \
	    test "$(token_state $t)" = "valid 1 0"
done
check "show status: three tenants" \
    test "$(ctl -j show status | jq '.tenants | length')" = 3
check "show status: the soonest expiry kept as graph_token_expires_in" \
    test "$(ctl -j show status | jq '.graph_token_expires_in > 3000')" = true
check "show status: human table" sh -c \
    "build/polrecctl -s '$T/ctl.sock' show status | grep -qE '^$B +valid +[0-9]+s +1 +0  -$'"
check "no warning about the tenants" sh -c "! grep -q 'old name' '$T/polrecd.log'"

# An invitation of A, one of B: each answered with its own tenant's token.
CA=5700000a-0000-4000-8000-00000000000a
CB=5700000b-0000-4000-8000-00000000000b
check "invitation of tenant A, A's token: 202" play_tid $A 202 "$(invitation $CA $A)"
check "invitation of tenant B, B's token: 202" play_tid $B 202 "$(invitation $CB $B)"
check "A's call answered" wait_for 5 log_has "call $CA: answered in"
check "B's call answered" wait_for 5 log_has "call $CB: answered in"
# Service media with no capture source: answered, no recording claimed.
check "A: answered, no recording claimed (no capture source)" \
    wait_for 5 log_has "call $CA: .*no capture source"
check "B: answered, no recording claimed (no capture source)" \
    wait_for 5 log_has "call $CB: .*no capture source"
check "A's answer carried A's token" test "$(token_tids answer $CA)" = "$A "
check "B's answer carried B's token" test "$(token_tids answer $CB)" = "$B "
check "every Graph request for A's call: A's token" test "$(all_tids $CA)" = "$A "
check "every Graph request for B's call: B's token" test "$(all_tids $CB)" = "$B "
check "the simulator saw no token of another tenant" \
    test "$(sim_ctl GET /_sim/stats | jq -r .token_tenant_mismatch)" = 0
check "no token fetched for them" test "$(tokens)" -eq "$n0"

# A tenant not served, with its own (valid) token: 403, recorded.
CD=5700000d-0000-4000-8000-00000000000d
before=$(graph_requests)
check "invitation of a tenant not served: 403" play_tid $D 403 "$(invitation $CD $D)"
check "the 403 says the tenant is not served" grep -q \
    '"the tenant is not served here"' "$T/play-tid.out"
check "logged" log_has "call $CD: notification refused (403): tenant_not_allowed; call tenant $D token tid $D"
check "recorded: an audit event with the call, its tenant, the tid" \
    wait_for 5 out_cmp = "refused|tenant_not_allowed|403|$D|$D" q "SELECT
    outcome || '|' || reason || '|' || http_status || '|' || tenant || '|' ||
    json_extract(detail, '\$.tid') FROM audit_event
    WHERE kind = 'notification' AND call_id = '$CD'"
check "counted" test "$(stat_of tenant_not_allowed)" = 1
check "no leg for it" sh -c "! build/polrecctl -s '$T/ctl.sock' show calls | grep -q '^$CD '"
sleep 0.3
check "no Graph request for it" test "$(graph_requests)" = "$before"

# Reloads: unchanged credentials fetch nothing; a tenant removed loses
# its token; one added gets one at once.
for i in 1 2 3 4 5; do reload_once; done
sleep 0.3
check "5 reloads, nothing changed: no token request ($n0 -> $(tokens))" \
    test "$(tokens)" -eq "$n0"
TENANTS="$A $B" write_conf
reload_once
check "tenant C removed: its token dropped" log_has "graph token: tenant $C no longer served"
check "show status: two tenants" \
    test "$(ctl -j show status | jq '.tenants | length')" = 2
check "removing a tenant: no token request" test "$(tokens)" -eq "$n0"
TENANTS="$A $B $C" write_conf
reload_once
check "tenant C added back: one token request" wait_for 5 \
    test "$(tokens)" -eq $((n0 + 1))
check "show status: C valid again" wait_for 5 sh -c \
    "build/polrecctl -s '$T/ctl.sock' -j show status | jq -e '.tenants[] | select(.tenant == \"$C\" and .state == \"valid\")' >/dev/null"
check "A and B kept their tokens" test "$(token_state $A) $(token_state $B)" = "valid 1 0 valid 1 0"
check "SIGTERM: clean exit 0" stop_polrecd

# The old settings: [graph] tenant_id and [recording] tenants, a
# token_url without {tenant}: served, with a warning naming the fix.
rm -f "$T"/audit.db*
OLD_TENANTS=1 write_conf "[recording]
tenants = $A"
new_trail "a new trail for the old settings"
out=$("$POLRECD" -n -f "$T/polrecd.conf" 2>&1) || true
check "old settings: polrecd -n says OK" out_has 'configuration OK'
check "old settings: polrecd -n warns, naming the line to write" \
    out_has "tenant_id is an old name: write \[tenants\] ids = $A"
n1=$(tokens)
start_polrecd
wait_keys
check "old settings: warned at start-up" \
    log_has "\[recording\] tenants is an old name: write \[tenants\] ids = $A"
check "old settings: one token request" wait_for 5 out_cmp -eq $((n1 + 1)) tokens
CO=570000a0-0000-4000-8000-0000000000a0
check "old settings: invitation of A: 202" play_tid $A 202 "$(invitation $CO $A)"
check "old settings: answered with A's token" wait_for 5 \
    test "$(token_tids answer $CO)" = "$A "
check "old settings: B not served: 403" play_tid $B 403 \
    "$(invitation 570000b0-0000-4000-8000-0000000000b0 $B)"
check "SIGTERM: clean exit 0" stop_polrecd

# Old settings that disagree: refused, with the fix said.
OLD_TENANTS=1 write_conf "[recording]
tenants = $A
[auth]
tenants = $A $B"
out=$("$POLRECD" -n -f "$T/polrecd.conf" 2>&1) && rc=0 || rc=$?
check "disagreeing old settings: polrecd -n exits 1" test "$rc" -eq 1
check "disagreeing old settings: the reason" \
    out_has 'name different tenants; write the tenants served once, as \[tenants\] ids'
# [tenants] ids and an old name together: refused.
write_conf "[auth]
tenants = $A"
out=$("$POLRECD" -n -f "$T/polrecd.conf" 2>&1) && rc=0 || rc=$?
check "ids and an old name: refused" test "$rc" -eq 1
check "ids and an old name: the reason" \
    out_has '\[auth\] tenants: replaced by \[tenants\] ids'
exit $FAILED
