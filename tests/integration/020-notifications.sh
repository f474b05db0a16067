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
    log_has 'call e71f0300-9c1f-4d99-b5f4-2722e877d497: invitation'
check "log names policyIdentifier \"Test Policy\"" \
    log_has 'policy "Test Policy"'
check "log names the paired recorder" \
    log_has 'paired 471f0300-5c1f-4d99-b5f4-2722e877d490'
check "log names the observed participant" \
    log_has 'observed 30fad2ce-8989-41a1-8a66-f6636e629a2a'
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

# Direct posts with curl: every kind of bad request.
r=$(post "$N/example3-invitation.json" text/plain)
check "wrong content type: 415 ($r)" test "${r%% *}" = 415
check "415 body is a JSON error" sh -c "echo '$r' | grep -q '\"error\":{\"code\":\"unsupportedMediaType\"'"
printf 'this is not json' >"$T/garbage"
r=$(post "$T/garbage")
check "not JSON: 400 ($r)" test "${r%% *}" = 400
check "400 body is a JSON error" sh -c "echo '$r' | grep -q '\"code\":\"badRequest\"'"
printf '{"value":[{"changeType":"created"}]}' >"$T/noresource"
r=$(post "$T/noresource")
check "envelope without resourceUrl: 400 ($r)" test "${r%% *}" = 400
printf '[1,2,3]' >"$T/array"
r=$(post "$T/array")
check "JSON array instead of an envelope: 400" test "${r%% *}" = 400
: >"$T/empty"
r=$(post "$T/empty")
check "empty body: 400" test "${r%% *}" = 400
r=$(post "$N/example3-invitation.json" "application/json; charset=utf-8")
check "charset parameter accepted: 202" test "${r%% *}" = 202
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

# A batch of several notifications in one POST.
r=$(post "$N/batch.json")
check "batch accepted: 202" test "${r%% *}" = 202

# Still serving after all of that.
r=$(post "$N/example3-invitation.json")
check "still serving afterwards: 202" test "${r%% *}" = 202
check "polrecd still running" kill -0 "$POLRECD_PID"
check "SIGTERM: clean exit 0" stop_polrecd
check "stop logged" log_has 'polrecd stopped'
exit $FAILED
