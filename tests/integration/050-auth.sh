# Only Teams gets in: every notification needs a valid RS256 token from
# the configured issuer, for this app and tenant, signed by a published
# key.  Each kind of bad token gets 401, the reason is logged, and nothing
# reaches Graph.  Keys rotate; the key endpoint may be down at start-up;
# a replayed message is answered as before but acted on once.
. tests/integration/lib.sh

start_sim -k "$T/sim-key2.pem"
write_conf "[auth]
tenants = $TENANT_ID"
start_polrecd
check "signing keys fetched at start-up" wait_keys

for kind in valid aud-array graph-iss second-key; do
	if play_token "$kind" 202; then ok "token $kind: 202"
	else not_ok "token $kind: 202"; cat "$T/play-$kind.out"; fi
done
# The four carry the same invitation: answered once.
wait_for 5 log_has 'answered in'
sleep 0.2
before=$(count_requests answer)
check "the accepted invitation is answered once" \
    test "$(count_requests answer)" -eq 1
for kind in none expired not-yet-valid wrong-aud wrong-iss no-tid wrong-tid \
    alg-none hs256-pubkey other-key truncated-sig garbage \
    not-bearer duplicate-alg; do
	if play_token "$kind" 401; then ok "token $kind: 401"
	else not_ok "token $kind: 401"; cat "$T/play-$kind.out"; fi
	sleep 0.12	# under the 10-a-second cap on failure log lines
done
for kind in expired wrong-aud other-key; do
	check "401 for $kind carries no detail for the caller" grep -qx \
	    '  {"error":{"code":"unauthorized","message":"unauthorized"}}' \
	    "$T/play-$kind.out"
done
for reason in missing_token expired not_yet_valid bad_audience bad_issuer \
    no_tenant bad_tenant bad_alg bad_signature malformed duplicate_member; do
	check "reason $reason logged" log_has "refused (401): $reason"
done
check "no Graph request made for any of them" \
    test "$(count_requests answer)" -eq "$before"
check "only the accepted invitations were logged" \
    test "$(grep -c ': invitation' "$T/polrecd.log")" -eq 4

# Rotation: a new signing key with a kid polrecd has not seen.
"$SIM" ctl POST /_sim/keys/rotate >"$T/rotate.out"
check "rotated in the simulator" grep -q '"kid"' "$T/rotate.out"
if play_token valid 202; then ok "new kid picked up: 202"
else not_ok "new kid picked up"; cat "$T/play-valid.out"; fi
check "unknown kid triggered one refetch" \
    log_has 'unknown key id, refetching'
if play_token second-key 202; then ok "old key still accepted while published"
else not_ok "old key still accepted"; fi
# A second unknown kid within the minute does not refetch again.
n=$("$SIM" ctl GET /_sim/stats | sed -n 's/.*"jwks_requests":\([0-9]*\).*/\1/p')
if play_token unknown-kid 401; then ok "token unknown-kid: 401"
else not_ok "token unknown-kid: 401"; cat "$T/play-unknown-kid.out"; fi
check "reason unknown_kid logged" log_has 'refused (401): unknown_kid'
n2=$("$SIM" ctl GET /_sim/stats | sed -n 's/.*"jwks_requests":\([0-9]*\).*/\1/p')
check "unknown kids refetch at most once a minute ($n -> $n2)" test "$n" = "$n2"

# Replay: the same message id twice is answered twice, acted on once.
cat >"$T/replay.json" <<SCEN
{"name":"replay","steps":[{"file":"$PWD/tests/scenarios/notifications/p2p-establishing.json",
 "message_id":"replayed-message-0001","repeat":2,"expect_status":202}]}
SCEN
check "replayed message answered 202 both times" \
    "$SIM" play -u "$WEBHOOK" "$T/replay.json"
check "replay logged" log_has 'msg replayed-message-0001: replayed; answered as before (202)'
check "acted on once" \
    test "$(grep -c 'state establishing msg replayed-message-0001' "$T/polrecd.log")" -eq 1
check "SIGTERM: clean exit 0" stop_polrecd

# The key endpoint down at start-up, then up.
kill -TERM "$SIM_PID"; wait "$SIM_PID"; SIM_PID=
rm -f "$T/sim.port"
start_sim -D
write_conf
start_polrecd
if play_token valid 503; then ok "no keys yet: 503 with Retry-After"
else not_ok "no keys yet: 503"; cat "$T/play-valid.out"; fi
check "fetch failure logged" log_has 'signing keys: fetch failed'
"$SIM" ctl POST '/_sim/idp?state=up' >/dev/null
check "keys fetched once the endpoint is up" wait_keys 20
if play_token valid 202; then ok "then accepted: 202"
else not_ok "then accepted"; cat "$T/play-valid.out"; fi
# Down again: the cached keys keep working.
"$SIM" ctl POST '/_sim/idp?state=down' >/dev/null
if play_token valid 202; then ok "cached keys work while the endpoint is down"
else not_ok "cached keys work while down"; fi
check "SIGTERM: clean exit 0" stop_polrecd

# Reload from mode none to jwt: authentication starts without a restart.
"$SIM" ctl POST '/_sim/idp?state=up' >/dev/null
AUTH_MODE=none write_conf
start_polrecd
check "mode none: an unsigned post accepted" play_token none 202
sed -i 's/^mode = none$/mode = jwt/' "$T/polrecd.conf"
kill -HUP "$POLRECD_PID"
check "reloaded into mode jwt: keys fetched" wait_keys
check "now an unsigned post is refused" play_token none 401
check "and a signed one accepted" play_token valid 202
check "SIGTERM: clean exit 0" stop_polrecd
exit $FAILED
