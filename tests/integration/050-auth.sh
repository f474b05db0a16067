# Only Teams gets in: every notification needs a valid RS256 token from
# the configured issuer, for this app and tenant, signed by a published
# key.  Each kind of bad token gets 401, the reason is logged, and nothing
# reaches Graph.  Keys rotate; the key endpoint may be down at start-up;
# a replayed message is answered as before but acted on once.
. tests/integration/lib.sh

start_sim -k "$T/sim-key2.pem"
write_conf
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
for kind in none expired not-yet-valid wrong-aud wrong-iss no-tid \
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
    no_tenant bad_alg bad_signature malformed duplicate_member; do
	check "reason $reason logged" log_has "refused (401): $reason"
done
# Well signed, for a tenant not served: not a bad token, a forbidden one.
if play_token wrong-tid 403; then ok "token wrong-tid (a tenant not served): 403"
else not_ok "token wrong-tid (a tenant not served): 403"; cat "$T/play-wrong-tid.out"; fi
check "reason tenant_not_allowed logged" log_has "refused (403): tenant_not_allowed"
check "no Graph request made for any of them" \
    test "$(count_requests answer)" -eq "$before"
check "only the accepted invitations were logged" \
    test "$(grep -cE ': (duplicate )?invitation' "$T/polrecd.log")" -eq 4

# Rotation: new signing keys with kids polrecd has not seen.  Teams does
# not retry a 401, so a new kid must never get one: it is refetched at
# once, per kid, and the notification waits for the fetch.
jwks() { "$SIM" ctl GET /_sim/stats | jq -r .jwks_requests; }
n0=$(jwks)
"$SIM" ctl POST /_sim/keys/rotate >"$T/rotate.out"
check "rotated in the simulator" grep -q '"kid"' "$T/rotate.out"
if play_token valid 202; then ok "new kid picked up: 202"
else not_ok "new kid picked up"; cat "$T/play-valid.out"; fi
check "unknown kid triggered a refetch" \
    log_has 'unknown key id, refetching'
# A second new kid right behind the first, its refetch just made: it
# waits for the next fetch (at most a second later), not for a minute.
"$SIM" ctl POST /_sim/keys/rotate >"$T/rotate2.out"
check "rotated again" test "$(jq -r .kid "$T/rotate.out")" != \
    "$(jq -r .kid "$T/rotate2.out")"
if play_token valid 202; then ok "second new kid right after: 202, not 401"
else not_ok "second new kid right after"; cat "$T/play-valid.out"; fi
n1=$(jwks)
check "one refetch per new kid ($n0 -> $n1)" test $((n1 - n0)) -eq 2
if play_token second-key 202; then ok "old key still accepted while published"
else not_ok "old key still accepted"; fi
check "known kids fetch nothing ($n1 -> $(jwks))" test "$(jwks)" -eq "$n1"
# A kid the key set still lacks after a fetch made since the request
# came is unknown: 401.  Asked again within its interval, it starts no
# fetch and cannot be judged: 503, retryable, never accepted.
if play_token unknown-kid 401; then ok "kid absent from a fresh key set: 401"
else not_ok "kid absent from a fresh key set: 401"; cat "$T/play-unknown-kid.out"; fi
check "reason unknown_kid logged" log_has 'refused (401): unknown_kid'
n2=$(jwks)
if play_token unknown-kid 503; then ok "the same kid again at once: 503"
else not_ok "the same kid again at once: 503"; cat "$T/play-unknown-kid.out"; fi
check "with Retry-After, reason key_refetch logged" \
    log_has 'deferred (503): key_refetch'
check "the same kid again starts no fetch ($n2 -> $(jwks))" \
    test "$(jwks)" -eq "$n2"
# A flood of made-up kids, 4 senders at once: never accepted, and the
# key endpoint sees at most about one fetch a second.
cat >"$T/random-kid.json" <<SCEN
{"name":"random-kid","steps":[{"file":"$PWD/tests/scenarios/notifications/example3-invitation.json",
 "token":"random-kid","repeat":10}]}
SCEN
t0=$(date +%s%N)
for i in 1 2 3 4; do
	"$SIM" play -u "$WEBHOOK" "$T/random-kid.json" >"$T/flood-$i.out" 2>&1 &
	pids="${pids:-} $!"
done
wait $pids
secs=$(( ($(date +%s%N) - t0 + 999999999) / 1000000000 ))
n3=$(jwks)
sed -n 's/^random-kid step [0-9.]*: \([0-9]*\) .*/\1/p' "$T"/flood-*.out \
    >"$T/flood.st"
sort "$T/flood.st" | uniq -c >"$T/flood.sum"
check "40 made-up kids answered" test "$(grep -c . "$T/flood.st")" -eq 40
check "none accepted, each 401 or 503" \
    test "$(grep -vc -e '^401$' -e '^503$' "$T/flood.st")" -eq 0
check "refetches bounded: $((n3 - n2)) fetches in ${secs} s" \
    test $((n3 - n2)) -le $((secs + 1))
check "stats: key_refetches counted" test "$(stat_of key_refetches)" -ge 3
echo "# flood of made-up kids: $((n3 - n2)) JWKS fetches in ${secs} s; $(tr -s ' \n' ' ' <"$T/flood.sum")"
# After all that a new genuine kid still gets in at once.
"$SIM" ctl POST /_sim/keys/rotate >"$T/rotate3.out"
if play_token valid 202; then ok "a new kid after the flood: 202"
else not_ok "a new kid after the flood"; cat "$T/play-valid.out"; fi

# Graph sends one token with many notifications (so does the simulator):
# verified once, then known by its hash -- but only while its key is in
# the key set.
c0=$(stat_of auth_cached)
play_token valid 202 && play_token valid 202
check "a token sent again is not verified again ($c0 -> $(stat_of auth_cached))" \
    test "$(stat_of auth_cached)" -ge $((c0 + 1))
if play_token second-key 202 && play_token second-key 202; then
	ok "a second-key token, twice: 202"
else not_ok "a second-key token, twice: 202"; cat "$T/play-second-key.out"; fi
KID2=$("$SIM" ctl GET /_sim/keys | jq -r '.published[1]')
"$SIM" ctl POST "/_sim/keys/retire?kid=$KID2" >/dev/null
"$SIM" ctl POST /_sim/keys/rotate >/dev/null
if play_token valid 202; then ok "a new kid: the key set fetched again without $KID2"
else not_ok "a new kid after the retirement"; cat "$T/play-valid.out"; fi
u0=$(grep -c 'refused (401): unknown_kid' "$T/polrecd.log")
# 401, or 503 while the kid's refetch is rate-limited; never 202.
if play_token second-key 401 || play_token second-key 503; then
	ok "the same token, its key gone from the key set: refused, not remembered"
else not_ok "the same token, its key gone: refused"; cat "$T/play-second-key.out"; fi
check "... as unknown_kid" test "$(grep -c 'refused (401): unknown_kid' \
    "$T/polrecd.log")" -gt "$u0"

# Replay: the same message id twice is answered twice, acted on once.
cat >"$T/replay.json" <<SCEN
{"name":"replay","steps":[{"file":"$PWD/tests/scenarios/notifications/p2p-establishing.json",
 "message_id":"replayed-message-0001","repeat":2,"expect_status":202}]}
SCEN
check "replayed message answered 202 both times" \
    "$SIM" play -u "$WEBHOOK" "$T/replay.json"
check "replay logged" log_has 'msg replayed-message-0001: replayed; answered as before (202)'
check "acted on once: one accepted, one replayed, in the trail" \
    test "$(sqlite3 -readonly "$T/audit.db" "SELECT group_concat(outcome) FROM (SELECT outcome FROM audit_event WHERE msg_id = 'replayed-message-0001' ORDER BY seq)")" = accepted,replayed
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
