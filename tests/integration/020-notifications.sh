# Notifications in: the simulator posts signed Example 3, P2P and
# app-hosted scenarios to the real polrecd; malformed requests get 4xx
# with a JSON error body, and polrecd keeps serving.
. tests/integration/lib.sh

N=tests/scenarios/notifications
start_sim
write_conf
start_polrecd

# Example 3: the policy-based recording invitation.
if "$SIM" play -u "$WEBHOOK" tests/scenarios/example3.json >"$T/play.out" 2>&1
then ok "example3 scenario: every step got its expected status"
else not_ok "example3 scenario"; cat "$T/play.out"; fi
check "example3 answered 202" grep -q ' 202' "$T/play.out"
check "log names the Example 3 call id" \
    log_has 'call e71f0300-9c1f-4d99-b5f4-2722e877d497: invitation .*: decided answer'
check "log names policyIdentifier \"Test Policy\"" \
    log_has 'policy "Test Policy"'
check "log names the paired recorder" \
    log_has 'paired 471f0300-5c1f-4d99-b5f4-2722e877d490'
# Participant ids are logged as a keyed hash (without -v): lines about
# one person match without naming them.
check "log names the observed participant by a keyed hash" \
    grep -qE 'observed #[0-9a-f]{16} ' "$T/polrecd.log"
check "... never by the id itself" \
    sh -c "! grep -q '30fad2ce-8989-41a1-8a66-f6636e629a2a' '$T/polrecd.log'"
check "no personal identity in the log" \
    sh -c "! grep -q '8A34A46B-3D17-4ADC-8DCE-DC4E7D572698' '$T/polrecd.log'"

for s in p2p app-hosted; do
	if "$SIM" play -u "$WEBHOOK" "tests/scenarios/$s.json" \
	    >"$T/play-$s.out" 2>&1
	then ok "$s scenario: every step got its expected status"
	else not_ok "$s scenario"; cat "$T/play-$s.out"; fi
done
check "establishing and established logged for the P2P call" sh -c \
    "grep -q 'call 57DAB8B1894C409AB240BD8BEAE78896: call updated state establishing' '$T/polrecd.log' &&
     grep -q 'call 57DAB8B1894C409AB240BD8BEAE78896: call updated state established' '$T/polrecd.log'"

# Bad requests, each with a valid token, so only the body is wrong.
cat >"$T/bad.json" <<SCEN
{"name":"bad","steps":[
 {"file":"$PWD/$N/example3-invitation.json","content_type":"text/plain","expect_status":415},
 {"body":"this is not json","expect_status":400},
 {"body":"{\\"value\\":[{\\"changeType\\":\\"created\\"}]}","expect_status":400},
 {"body":"[1,2,3]","expect_status":400},
 {"body":"","expect_status":400},
 {"file":"$PWD/$N/example3-invitation.json","content_type":"application/json; charset=utf-8","expect_status":202},
 {"file":"$PWD/$N/batch.json","expect_status":202}]}
SCEN
"$SIM" play -u "$WEBHOOK" "$T/bad.json" >"$T/bad.out" 2>&1
check "bad bodies: 415, 400 x4; charset 202; batch 202" test $? -eq 0
check "415 body is a JSON error" grep -q '"code":"unsupportedMediaType"' "$T/bad.out"
check "400 body is a JSON error" grep -q '"code":"badRequest"' "$T/bad.out"
check "the batch's notifications each logged" \
    test "$(grep -c 'msg ' "$T/polrecd.log")" -ge 12
head -c 1100000 /dev/zero | tr '\0' 'a' >"$T/big"
r=$(post "$T/big")
check "body over 1 MiB: 413 ($r)" test "${r%% *}" = 413
code=$(curl -s -o /dev/null -w '%{http_code}' "$WEBHOOK")
check "GET on the webhook: 405" test "$code" = 405
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d '{}' \
    "http://$POLRECD_ADDR/api/other")
check "other path: 404" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$WEBHOOK")
check "DELETE on the webhook: 405" test "$code" = 405

# Still serving after all of that.
check "still serving afterwards: 202" \
    "$SIM" play -u "$WEBHOOK" tests/scenarios/example3.json
check "polrecd still running" kill -0 "$POLRECD_PID"
check "SIGTERM: clean exit 0" stop_polrecd
check "stop logged" log_has 'polrecd stopped'
exit $FAILED
