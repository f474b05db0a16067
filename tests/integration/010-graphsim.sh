#!/bin/bash
# The Graph simulator on its own: OpenID document and JWKS, the Entra token
# endpoint, the calls API (auth, per-call state, request record), the
# control API and ctl, key rotation, identity endpoints down or slow, the
# fault table, every notification token kind, replays, scenario errors,
# keygen, and a clean exit on SIGTERM.
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

# --- Control API conveniences, key rotation, IdP faults, fault table, token
# kinds, replays.  Counters start afresh here.
# set -e is on: a failing setup command must not end the script unseen.
CTL() { "$SIM" ctl "$@" 2>/dev/null || true; }
CTLQ() { "$SIM" ctl "$@" >/dev/null 2>&1; }
not() { ! "$@"; }
jget() { printf '%s' "$1" | jq -r "$2"; }
b64u_bin() {
	local s
	s=$(printf '%s' "$1" | tr '_-' '/+')
	while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
	printf '%s' "$s" | base64 -d 2>/dev/null
}
kid_of() {
	openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -binary |
	    head -c 16 | base64 | tr '+/' '-_' | tr -d '='
}
# jwk_pem KID OUT: the simulator's published key KID, rebuilt as a PEM.
jwk_pem() {
	local j n e
	j=$(CTL GET /v1/keys | jq -c --arg k "$1" '.keys[] | select(.kid == $k)')
	[ -n "$j" ] || return 1
	n=$(b64u_bin "$(jget "$j" .n)" | od -An -v -tx1 | tr -d ' \n')
	e=$(b64u_bin "$(jget "$j" .e)" | od -An -v -tx1 | tr -d ' \n')
	printf 'asn1=SEQUENCE:k\n[k]\nn=INTEGER:0x%s\ne=INTEGER:0x%s\n' \
	    "$n" "$e" >"$T/jwk.cnf"
	openssl asn1parse -genconf "$T/jwk.cnf" -noout -out "$T/jwk.der" &&
	    openssl rsa -RSAPublicKey_in -inform DER -in "$T/jwk.der" \
	    -pubout -out "$2" 2>/dev/null
}
# rs256_ok JWT PUBPEM: the signature verifies.
rs256_ok() {
	printf '%s' "${1%.*}" >"$T/jws.in"
	b64u_bin "${1##*.}" >"$T/jws.sig"
	openssl dgst -sha256 -verify "$2" -signature "$T/jws.sig" "$T/jws.in" \
	    >/dev/null 2>&1
}

check "ctl POST /_sim/reset: exit 0" sh -c "'$SIM' ctl POST reset >/dev/null"
if CTLQ GET nothing; then rc=0; else rc=$?; fi
check "ctl on an unknown resource: exit 1" test "$rc" = 1
if "$SIM" ctl PUT stats >/dev/null 2>&1; then rc=0; else rc=$?; fi
check "ctl with an unknown method: usage, exit 2" test "$rc" = 2

# Keys: rotation and retirement.
K1=$(kid_of "$T/sim-key.pem")
K2=$(kid_of "$T/sim-key2.pem")
BODY=$(CTL GET keys)
check "keys: the first -k key signs" test "$(jget "$BODY" .signing)" = "$K1"
check "keys: both -k keys published" \
    test "$(jget "$BODY" '.published | join(",")')" = "$K1,$K2"

# Token kinds, while the first key signs: a tiny receiver records heads.
cat >"$T/recv.sh" <<'RECV'
#!/bin/bash
# One HTTP request on stdin: its head is appended to $1, the answer is 202.
len=0
while IFS= read -r line; do
	line=${line%$'\r'}
	[ -z "$line" ] && break
	printf '%s\n' "$line" >>"$1"
	case ${line,,} in
	content-length:*) len=${line#*:}; len=${len//[!0-9]/} ;;
	esac
done
[ "${len:-0}" -gt 0 ] && head -c "$len" >/dev/null
printf 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
RECV
# lib.sh's cleanup waits for children: the receiver and the second
# simulator must be gone by then, whatever ends the script.
EXTRA_PIDS=
trap 'rc=$?; set +e; [ -z "$EXTRA_PIDS" ] || kill $EXTRA_PIDS 2>/dev/null
    (exit $rc); cleanup' EXIT
RECV_PID=
for try in 1 2 3 4 5 6 7 8; do
	RPORT=$(( 20000 + RANDOM % 20000 ))
	socat TCP-LISTEN:$RPORT,bind=127.0.0.1,reuseaddr,fork \
	    EXEC:"bash $T/recv.sh $T/recv.txt" 2>/dev/null &
	RECV_PID=$!
	sleep 0.2
	kill -0 "$RECV_PID" 2>/dev/null && break
	RECV_PID=
done
check "receiver listening" test -n "$RECV_PID"
EXTRA_PIDS=$RECV_PID
RECV_URL=http://127.0.0.1:$RPORT/api/calling
# heads: one line per request received, "AUTHORIZATION|MESSAGE-ID".
heads() {
	awk '/^POST /{ if (n++) print a "|" m; a = "-"; m = "-" }
	    tolower($0) ~ /^authorization: / { a = substr($0, 16) }
	    tolower($0) ~ /^x-microsoft-skype-message-id: / { m = substr($0, 31) }
	    END { if (n) print a "|" m }' "$T/recv.txt"
}

KINDS=$("$SIM" tokens | awk '{ print $1 }')
check "tokens lists 19 kinds" test "$(printf '%s\n' "$KINDS" | wc -l)" = 19
steps=
for k in $KINDS; do
	steps="$steps${steps:+,}{\"token\":\"$k\",\"body\":{\"value\":[]}}"
done
printf '{"name":"kinds","target":"%s","steps":[%s]}' "$RECV_URL" "$steps" \
    >"$T/kinds.json"
: >"$T/recv.txt"
check "every token kind posted: 202s" \
    sh -c "'$SIM' play '$T/kinds.json' >'$T/kinds.out' 2>&1"
heads | cut -d'|' -f1 >"$T/authz"
check "19 notifications received" test "$(wc -l <"$T/authz")" = 19
paste -d' ' <(printf '%s\n' $KINDS) "$T/authz" >"$T/kinds.authz"
authz() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$T/kinds.authz"; }
jwt() { authz "$1" | sed 's/^Bearer //'; }
hdr() { b64u_bin "$(jwt "$1" | cut -d. -f1)"; }
pay() { b64u_bin "$(jwt "$1" | cut -d. -f2)"; }
check "the token kinds give 19 different Authorization headers" \
    test "$(sort -u "$T/authz" | wc -l)" = 19
check "none: no Authorization header" test "$(authz none)" = "-"
check "not-bearer: Basic dXNlcjpwYXNz" test "$(authz not-bearer)" = "Basic dXNlcjpwYXNz"
check "garbage: Bearer base64url without dots" \
    sh -c "printf '%s' '$(jwt garbage)' | grep -qE '^[A-Za-z0-9_-]{40,}$'"
openssl pkey -in "$T/sim-key.pem" -pubout -out "$T/pub1.pem"
openssl pkey -in "$T/sim-key2.pem" -pubout -out "$T/pub2.pem"
now=$(date +%s)
check "valid: RS256 with the first key's kid" \
    test "$(hdr valid)" = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"$K1\"}"
check "valid: iss, aud, tid right" test "$(pay valid | jq -r '[.iss,.aud,.tid] | join(" ")')" = \
    "https://api.botframework.com $APP_ID $TENANT_ID"
check "valid: signature verifies with the first key" rs256_ok "$(jwt valid)" "$T/pub1.pem"
TOKEN_VALID=$(jwt valid)
check "expired: exp an hour ago" test "$(pay expired | jq ".exp - $now + 3600 | fabs < 5")" = true
check "not-yet-valid: nbf in an hour" \
    test "$(pay not-yet-valid | jq ".nbf - $now - 3600 | fabs < 5")" = true
check "wrong-aud: another audience" \
    test "$(pay wrong-aud | jq -r '.aud | type == "string" and . != "'$APP_ID'"')" = true
check "aud-array: [other, app id]" \
    test "$(pay aud-array | jq -c '.aud | length == 2 and .[1] == "'$APP_ID'"')" = true
check "wrong-iss: evil issuer" test "$(pay wrong-iss | jq -r .iss)" = https://evil.example.com
check "graph-iss: Graph issuer" test "$(pay graph-iss | jq -r .iss)" = https://graph.microsoft.com
check "no-tid: no tid" test "$(pay no-tid | jq 'has("tid")')" = false
check "wrong-tid: another tenant" \
    test "$(pay wrong-tid | jq -r '.tid != "'$TENANT_ID'"')" = true
check "alg-none: alg none, empty signature" sh -c \
    "test '$(hdr alg-none | jq -r .alg)' = none && printf '%s' '$(jwt alg-none)' | grep -q '\\.\$'"
check "hs256-pubkey: HS256 keyed with the public key's PEM" test \
    "$(printf '%s' "$(jwt hs256-pubkey | cut -d. -f1,2)" |
    openssl dgst -sha256 -mac HMAC -macopt hexkey:$(od -An -v -tx1 "$T/pub1.pem" | tr -d ' \n') -binary |
    base64 | tr '+/' '-_' | tr -d '=')" = "$(jwt hs256-pubkey | cut -d. -f3)"
check "unknown-kid: kid no-such-kid, signed by the real key" sh -c \
    "test '$(hdr unknown-kid | jq -r .kid)' = no-such-kid"
check "unknown-kid: verifies with the first key" rs256_ok "$(jwt unknown-kid)" "$T/pub1.pem"
check "other-key: the published kid" test "$(hdr other-key | jq -r .kid)" = "$K1"
check "other-key: does not verify" not rs256_ok "$(jwt other-key)" "$T/pub1.pem"
check "truncated-sig: 10 characters short" \
    test $(( ${#TOKEN_VALID} - $(jwt truncated-sig | wc -c) + 1 )) = 10
check "truncated-sig: does not verify" not rs256_ok "$(jwt truncated-sig)" "$T/pub1.pem"
check "duplicate-alg: both algs in the header bytes" test \
    "$(hdr duplicate-alg)" = "{\"alg\":\"RS256\",\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"$K1\"}"
check "duplicate-alg: RS256 over those bytes verifies" rs256_ok "$(jwt duplicate-alg)" "$T/pub1.pem"
check "second-key: the second key's kid" test "$(hdr second-key | jq -r .kid)" = "$K2"
check "second-key: verifies with the second key" rs256_ok "$(jwt second-key)" "$T/pub2.pem"

# Replays and floods: a fixed message id, repeated.
printf '{"name":"replay","target":"%s","steps":[{"body":{"value":[]},"message_id":"fixed-id","repeat":3},{"body":{"value":[]}}]}' \
    "$RECV_URL" >"$T/replay.json"
: >"$T/recv.txt"
"$SIM" play "$T/replay.json" >"$T/replay.out" 2>&1 || true
check "repeat 3: reported as steps 1.1 to 1.3, then step 2" sh -c \
    "grep -q '^replay step 1.3: 202' '$T/replay.out' && grep -q '^replay step 2: 202' '$T/replay.out' && grep -q '^replay: ok' '$T/replay.out'"
check "message_id: three posts with X-Microsoft-Skype-Message-ID fixed-id" \
    test "$(heads | grep -c '|fixed-id$')" = 3
check "without message_id: a fresh id" test "$(heads | sed -n 4p | cut -d'|' -f2 | wc -c)" = 37

# Rotation: the new key signs and is published next to the old ones.
BODY=$(CTL POST keys/rotate)
K3=$(jget "$BODY" .kid)
check "rotate: a new kid, signing" test -n "$K3" -a "$(jget "$BODY" .signing)" = "$K3"
check "rotate: three keys published" \
    test "$(jget "$BODY" '.published | join(",")')" = "$K1,$K2,$K3"
check "JWKS publishes all three" test "$(CTL GET /v1/keys | jq '.keys | length')" = 3
printf '{"name":"rotated","target":"%s","steps":[{"body":{"value":[]}}]}' \
    "$RECV_URL" >"$T/rotated.json"
: >"$T/recv.txt"
"$SIM" play "$T/rotated.json" >/dev/null 2>&1 || true
TOKEN3=$(heads | cut -d'|' -f1 | sed 's/^Bearer //')
check "valid tokens now carry the new kid" \
    test "$(b64u_bin "${TOKEN3%%.*}" | jq -r .kid)" = "$K3"
check "the JWKS publishes the new key" jwk_pem "$K3" "$T/pub3.pem"
check "valid tokens verify with it" rs256_ok "$TOKEN3" "$T/pub3.pem"
if CTLQ POST "keys/retire?kid=$K3"; then rc=0; else rc=$?; fi
http POST "/_sim/keys/retire?kid=$K3"
check "retire the signing key: 409, ctl exit 1" test "$CODE" = 409 -a "$rc" = 1
http POST "/_sim/keys/retire?kid=no-such-kid"
check "retire an unknown key: 404" test "$CODE" = 404
http POST "/_sim/keys/retire?kid=$K1"
check "retire the first key: 200, two left" \
    test "$CODE" = 200 -a "$(jget "$BODY" '.published | join(",")')" = "$K2,$K3"
check "the JWKS no longer has it" \
    test "$(CTL GET /v1/keys | jq -r '[.keys[].kid] | join(",")')" = "$K2,$K3"

# The identity endpoints: down, slow, up, and counted.
check "counters reset" CTLQ POST reset
check "idp: up to begin with" test "$(CTL GET idp | jq -r .state)" = up
check "idp?state=down" CTLQ POST 'idp?state=down'
http GET /v1/.well-known/OpenIdConfiguration
check "idp down: OpenID configuration 503" test "$CODE" = 503
check "idp down: Retry-After: 1" header_has '^Retry-After: 1$'
http GET /v1/keys
check "idp down: JWKS 503 with Retry-After" \
    test "$CODE" = 503 -a -n "$(header_has '^Retry-After: 1$' && echo y)"
http POST '/_sim/idp?state=sideways'
check "idp: an unknown state is refused" test "$CODE" = 400
check "idp?state=slow" CTLQ POST 'idp?state=slow'
t0=$(date +%s%N)
http GET /v1/keys
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "idp slow: JWKS 200 after about 3 s ($ms ms)" \
    test "$CODE" = 200 -a "$ms" -ge 2900 -a "$ms" -lt 6000
check "idp?state=up" CTLQ POST 'idp?state=up'
http GET /v1/.well-known/OpenIdConfiguration
check "idp up: 200 again" test "$CODE" = 200
BODY=$(CTL GET stats)
check "stats count OpenID (2) and JWKS (2) requests apart" test \
    "$(jget "$BODY" '"\(.openid_requests) \(.jwks_requests)"')" = "2 2"

# Faults on the calls API and the token endpoint.
CALL2=5a7d1f00-0000-4000-8000-00000000c0de
printf '{"name":"announce","target":"%s","steps":[{"body":{"value":[{"changeType":"created","resourceUrl":"/communications/calls/%s","resourceData":{"@odata.type":"#microsoft.graph.call","state":"incoming"}}]}}]}' \
    "$RECV_URL" "$CALL2" >"$T/announce.json"
"$SIM" play "$T/announce.json" >/dev/null 2>&1 || true
http POST "$TOKEN_PATH" -d "$(token_form)"
TOKEN=$(jget "$BODY" .access_token)
AUTH="Authorization: Bearer $TOKEN"
http POST /_sim/faults -d '{"action":"answer","status":503,"count":1,"retry_after":1}'
check "arm answer 503 once: 200, listed" \
    test "$CODE" = 200 -a "$(jget "$BODY" '.faults[0] | "\(.action) \(.status) \(.count)"')" = "answer 503 1"
http POST "$CALLS/$CALL2/answer" -H "$AUTH" -d '{"mediaConfig":{}}'
check "first answer: 503 with Retry-After: 1" \
    test "$CODE" = 503 -a -n "$(header_has '^Retry-After: 1$' && echo y)"
check "the 503 is a Graph error" has '"code":"ServiceNotAvailable"'
http POST "$CALLS/$CALL2/answer" -H "$AUTH" -d '{"mediaConfig":{}}'
check "second answer: 202" test "$CODE" = 202
http POST /_sim/faults -d '{"action":"token","status":429,"retry_after":2}'
http POST "$TOKEN_PATH" -d "$(token_form)"
check "token endpoint fault: 429 with Retry-After: 2" \
    test "$CODE" = 429 -a -n "$(header_has '^Retry-After: 2$' && echo y)"
check "token fault body is an Entra error" has '"error":"too_many_requests"'
http POST "$TOKEN_PATH" -d "$(token_form)"
check "then the token endpoint answers again: 200" test "$CODE" = 200
http POST /_sim/faults -d '{"action":"get","delay_ms":1000}'
t0=$(date +%s%N)
http GET "$CALLS/$CALL2" -H "$AUTH"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "get delayed 1 s, then answered normally ($ms ms)" \
    test "$CODE" = 200 -a "$ms" -ge 950
http POST /_sim/faults -d '{"action":"keepAlive","drop":true,"count":2}'
http POST "$CALLS/$CALL2/keepAlive" -H "$AUTH"
check "keepAlive dropped: no response at all" test "$CODE" = 000
http POST /_sim/faults -d '{"action":"token","drop":true,"delay_ms":300}'
http POST "$TOKEN_PATH" -d "$(token_form)"
check "token endpoint dropped after a delay" test "$CODE" = 000
http GET /_sim/faults
check "faults listed: keepAlive with one left" \
    test "$(jget "$BODY" '[.faults[] | "\(.action):\(.count):\(.drop)"] | join(",")')" = "keepAlive:1:true"
http DELETE /_sim/faults
check "DELETE /_sim/faults clears them" test "$CODE" = 200 -a "$BODY" = '{"faults":[]}'
http POST "$CALLS/$CALL2/keepAlive" -H "$AUTH"
check "keepAlive answered again: 200" test "$CODE" = 200
http POST /_sim/faults -d '{"action":"answer"}'
check "a fault that does nothing: 400" test "$CODE" = 400
http POST /_sim/faults -d '{"action":"unknown","status":500}'
check "a fault on no action: 400" test "$CODE" = 400
http POST /_sim/faults -d '{"action":"get","drop":true,"status":500}'
check "drop with a status: 400" test "$CODE" = 400
"$SIM" requests >"$T/req.jsonl" || true
check "records say which faults applied" test "$(jq -r '.fault // "none"' "$T/req.jsonl" | tr '\n' ' ')" = \
    "status none delay drop none "
check "stats count faults injected (5)" test "$(CTL GET stats | jq .faults_injected)" = 5

# -D: a simulator that starts with its identity endpoints down.
"$SIM" serve -D -l 127.0.0.1:0 -P "$T/sim2.port" 2>"$T/sim2.log" &
SIM2_PID=$!
EXTRA_PIDS="$RECV_PID $SIM2_PID"
if wait_for 10 test -s "$T/sim2.port"; then
	SIM2=http://$(cat "$T/sim2.port")
	check "-D: JWKS 503 from the start" test "$(curl -s -o /dev/null \
	    -w '%{http_code}' "$SIM2/v1/keys")" = 503
	CTLQ -S "$SIM2" POST 'idp?state=up' || true
	check "-D, then up: JWKS 200" test "$(curl -s -o /dev/null \
	    -w '%{http_code}' "$SIM2/v1/keys")" = 200
	printf '{"name":"k2","target":"%s","steps":[{"token":"second-key","body":{}}]}' \
	    "$RECV_URL" >"$T/k2.json"
	if "$SIM" play -S "$SIM2" "$T/k2.json" >"$T/k2.out" 2>&1; then rc=0; else rc=$?; fi
	check "second-key without a second -k: the step fails, saying why" \
	    sh -c "test $rc = 1 && grep -q 'needs two -k keys' '$T/k2.out'"
	# A deferred answer is still given at shutdown.
	CTLQ -S "$SIM2" POST 'idp?state=slow' || true
	curl -s -o /dev/null -w '%{http_code}' "$SIM2/v1/keys" >"$T/slow.code" &
	CURL_PID=$!
	sleep 0.3
	kill -TERM "$SIM2_PID"
	wait "$CURL_PID" || true
	if wait "$SIM2_PID"; then rc=0; else rc=$?; fi
	check "SIGTERM with a slowed request: it is answered, exit 0" \
	    test "$rc" = 0 -a "$(cat "$T/slow.code")" = 200
else
	not_ok "second simulator started"
	kill "$SIM2_PID" 2>/dev/null
fi
kill "$RECV_PID" 2>/dev/null || true
wait "$RECV_PID" 2>/dev/null || true	# 143: killed, as intended
EXTRA_PIDS=

# SIGTERM: exit 0 promptly, port file gone.
kill -TERM "$SIM_PID"
if wait_for 5 sh -c "! kill -0 $SIM_PID 2>/dev/null" && wait "$SIM_PID"
then rc=0; else rc=$?; fi
SIM_PID=
check "SIGTERM: simulator exits 0" test "$rc" = 0
check "SIGTERM: port file removed" test ! -e "$T/sim.port"

[ "$FAILED" -eq 0 ]
