#!/bin/bash
# The Graph simulator on its own: OpenID document and JWKS, the Entra token
# endpoint, the calls API (auth, per-call state, request record), the
# control API, scenario errors, keygen, and a clean exit on SIGTERM.
set -eu
. tests/integration/lib.sh

CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497
printf 'it-secret\n' >"$T/secret"
start_sim -k "$T/sim-key2.pem" -s "$T/secret"

# http METHOD PATH [CURL ARGS...]: sets CODE, BODY and HEADERS.
http() {
	local m=$1 p=$2
	shift 2
	CODE=$(curl -s -D "$T/headers" -o "$T/body" -w '%{http_code}' \
	    -X "$m" "$@" "$SIM_URL$p" || true)
	BODY=$(cat "$T/body")
	HEADERS=$(tr -d '\r' <"$T/headers")
}
has() { case $BODY in *"$1"*) return 0 ;; esac; return 1; }
header_has() { printf '%s\n' "$HEADERS" | grep -qi -- "$1"; }
count() { printf '%s' "$BODY" | grep -o -- "$1" | wc -l; }

token_form() {
	echo "grant_type=client_credentials&client_id=${1:-$APP_ID}&client_secret=${2:-it-secret}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
}

# Identity documents.
http GET /v1/.well-known/OpenIdConfiguration
check "OpenID configuration: 200" test "$CODE" = 200
check "OpenID configuration names this simulator's JWKS" \
    has "\"jwks_uri\":\"$SIM_URL/v1/keys\""
check "OpenID configuration issuer is Bot Framework" \
    has '"issuer":"https://api.botframework.com"'
http GET /.well-known/openid-configuration
check "lower-case OpenID path: 200" test "$CODE" = 200
http GET /v1/keys
check "JWKS: 200 with both keys" test "$CODE" = 200 -a "$(count '"kty":"RSA"')" = 2
kid=$(openssl pkey -in "$T/sim-key.pem" -pubout -outform DER |
    openssl dgst -sha256 -binary | head -c 16 | base64 | tr '+/' '-_' | tr -d '=')
check "first JWK kid is base64url(SHA-256(DER)[0:16]) of -k's key" \
    has "\"kid\":\"$kid\""
check "JWK says RS256 and sig" has '"use":"sig","alg":"RS256"'
check "created key file has mode 600" \
    test "$(stat -c %a "$T/sim-key2.pem")" = 600

# Entra token endpoint.
TOKEN_PATH=/$TENANT_ID/oauth2/v2.0/token
http POST "$TOKEN_PATH" -d "$(token_form)"
check "token with the right secret: 200" test "$CODE" = 200
check "token is a Bearer for 3599 s" has '"token_type":"Bearer","expires_in":3599'
TOKEN=$(printf '%s' "$BODY" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
check "access token is 43 base64url characters" \
    sh -c "printf '%s' '$TOKEN' | grep -qE '^[A-Za-z0-9_-]{43}$'"
http POST "$TOKEN_PATH" -d "$(token_form "$APP_ID" wrong)"
check "wrong secret: 401" test "$CODE" = 401
check "wrong secret: invalid_client AADSTS7000215" \
    has '"error":"invalid_client","error_description":"AADSTS7000215:'
check "wrong secret: error_codes [7000215]" has '"error_codes":[7000215]'
http POST "$TOKEN_PATH" -d "$(token_form 00000000-0000-0000-0000-000000000000)"
check "unknown client_id: 400 unauthorized_client" \
    test "$CODE" = 400 -a -n "$(has '"unauthorized_client"' && echo y)"
http POST "$TOKEN_PATH" -d "grant_type=client_credentials&client_id=$APP_ID&client_secret=it-secret"
check "no scope: 400 invalid_request" \
    test "$CODE" = 400 -a -n "$(has '"invalid_request"' && echo y)"
http POST "$TOKEN_PATH" -d "grant_type=password&client_id=$APP_ID&client_secret=it-secret&scope=x/.default"
check "password grant: 400 unsupported_grant_type" \
    test "$CODE" = 400 -a -n "$(has unsupported_grant_type && echo y)"
http POST "/common/oauth2/v2.0/token" -d "$(token_form)"
check "other tenant: 400" test "$CODE" = 400

# Calls API: authorisation first, then the call must be known.
CALLS=/v1.0/communications/calls
http POST "$CALLS/$CALL/answer" -H 'client-request-id: it-1' -d '{}'
check "answer without a token: 401" test "$CODE" = 401
check "401 is a Graph InvalidAuthenticationToken error" \
    has '{"error":{"code":"InvalidAuthenticationToken"'
check "401 echoes client-request-id in innerError" \
    has '"client-request-id":"it-1"'
check "401 carries a request-id header" header_has '^request-id: '
http POST "$CALLS/$CALL/answer" -H "Authorization: Bearer not-issued" -d '{}'
check "answer with a token the simulator did not issue: 401" test "$CODE" = 401
AUTH="Authorization: Bearer $TOKEN"
http POST "$CALLS/$CALL/answer" -H "$AUTH" -d '{"mediaConfig":{}}'
check "answer an unannounced call: 404 8522 Call not found." \
    test "$CODE" = 404 -a -n "$(has '"code":"8522","message":"Call not found."' && echo y)"

# Announcing the call: the webhook is down, but the call becomes known.
if "$SIM" play -u http://127.0.0.1:9/api/calling \
    tests/scenarios/example3.json >"$T/play.out" 2>&1
then rc=0; else rc=$?; fi
check "play against a closed port exits 1" test "$rc" = 1
check "play reports status 0 and FAILED" sh -c \
    "grep -q '^example3 step 1: 0 (expected 202)' '$T/play.out' &&
     grep -q '^example3: FAILED' '$T/play.out'"

CB='"callbackUri":"https://bot.example/api/calling"'
http POST "$CALLS/$CALL/answer" -H "$AUTH" -H 'client-request-id: it-2' \
    -H 'Content-Type: application/json' \
    -d "{$CB,\"mediaConfig\":{\"@odata.type\":\"#microsoft.graph.serviceHostedMediaConfig\"},\"acceptedModalities\":[\"audio\"]}"
check "answer the announced call: 202" test "$CODE" = 202
check "202 has an empty body" test -z "$BODY"
check "202 echoes client-request-id" header_has '^client-request-id: it-2$'
http POST "$CALLS/$CALL/microsoft.graph.answer" -H "$AUTH" -d '{"mediaConfig":{}}'
check "answer twice (namespace-qualified): 409" test "$CODE" = 409
http POST "$CALLS/$CALL/updateRecordingStatus" -H "$AUTH" \
    -d '{"clientContext":"ctx-42","status":"recording"}'
check "updateRecordingStatus: 200" test "$CODE" = 200
check "updateRecordingStatus operation completed, clientContext echoed" \
    has '"clientContext":"ctx-42","id":'
check "updateRecordingStatus status completed" has '"status":"completed"'
check "updateRecordingStatus Location names the operation" \
    header_has "^Location: $SIM_URL$CALLS/$CALL/operations/"
http POST "$CALLS/$CALL/updateRecordingStatus" -H "$AUTH" -d '{"status":"paused"}'
check "updateRecordingStatus with a bad status: 400" test "$CODE" = 400
http POST "/beta/communications/calls/$CALL/microsoft.graph.keepAlive" -H "$AUTH"
check "keepAlive (beta, namespace-qualified): 200" test "$CODE" = 200
http GET "$CALLS/$CALL" -H "$AUTH"
check "GET call: 200 #microsoft.graph.call" \
    test "$CODE" = 200 -a -n "$(has '"@odata.type":"#microsoft.graph.call"' && echo y)"
check "GET call: state establishing after answer" has '"state":"establishing"'
http DELETE "$CALLS/$CALL" -H "$AUTH"
check "DELETE call: 204" test "$CODE" = 204
http POST "$CALLS/$CALL/keepAlive" -H "$AUTH"
check "keepAlive after DELETE: 404" test "$CODE" = 404
http GET /no/such/thing
check "unknown path: 404" test "$CODE" = 404

# What the simulator recorded.
http GET /_sim/requests
n=$(count '"method":')
check "requests recorded: 11 ($n)" test "$n" = 11
check "the recorded answer names its call and client-request-id" \
    has '"action":"answer","call_id":"'$CALL'","client_request_id":"it-2"'
check "the recorded answer carries its parsed body" \
    has '"status":202,"body":{"callbackUri":"https://bot.example/api/calling"'
check "unauthorised requests are recorded as such" has '"auth_ok":false,"status":401'
check "requests subcommand prints one line per request" \
    test "$("$SIM" requests | grep -c '"method":')" = 11
check "-r file has one line per request" \
    test "$(wc -l <"$T/graph-requests.jsonl")" = 11
http GET /_sim/stats
check "stats: one token issued, 5 refused, 11 requests" \
    has '"tokens_issued":1,"token_errors":5,"requests":11,"auth_failures":2'
http POST /_sim/reset
check "reset: 200" test "$CODE" = 200
http GET /_sim/requests
check "reset clears the recorded requests" test "$BODY" = "[]"

# Scenario errors are reported, not played.
printf '{"name":"typo","steps":[{"body":{},"expect_staus":202}]}' >"$T/typo.json"
if "$SIM" play -u http://127.0.0.1:9/ "$T/typo.json" >"$T/typo.out" 2>&1
then rc=0; else rc=$?; fi
check "scenario with an unknown key: exit 1 naming it" sh -c \
    "test $rc = 1 && grep -q 'unknown key \"expect_staus\"' '$T/typo.out'"
http POST /_sim/play -d '{"steps":[{"file":"x.json"}]}'
check "POST /_sim/play with a file not inlined: 400" test "$CODE" = 400
if "$SIM" play >/dev/null 2>&1; then rc=0; else rc=$?; fi
check "play without a scenario: usage, exit 2" test "$rc" = 2

# keygen refuses to overwrite.
check "keygen creates a key" sh -c "'$SIM' keygen -k '$T/new.pem' >/dev/null 2>&1"
if "$SIM" keygen -k "$T/new.pem" 2>/dev/null; then rc=0; else rc=$?; fi
check "keygen refuses an existing file" test "$rc" = 1

# SIGTERM: exit 0 promptly, port file gone.
kill -TERM "$SIM_PID"
if wait_for 5 sh -c "! kill -0 $SIM_PID 2>/dev/null" && wait "$SIM_PID"
then rc=0; else rc=$?; fi
SIM_PID=
check "SIGTERM: simulator exits 0" test "$rc" = 0
check "SIGTERM: port file removed" test ! -e "$T/sim.port"

[ "$FAILED" -eq 0 ]
