#!/bin/bash
# The Graph simulator on its own: OpenID document and JWKS, the Entra token
# endpoint (secrets and certificate assertions), the calls API (auth,
# per-call state, request record), the control API and ctl, key rotation,
# identity endpoints down or slow, the fault table, every notification
# token kind, replays, scenario errors, keygen, lifecycle notifications,
# calls ended or forgotten by Graph, the media agent and its capture
# events, and a clean exit on SIGTERM.
set -eu
. tests/integration/lib.sh

CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497
printf 'it-secret\n' >"$T/secret"
printf 'it-media-secret\n' >"$T/media-secret"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/cert-key.pem" \
    -out "$T/cert.pem" -subj /CN=polrec-test -days 2 2>/dev/null
start_sim -k "$T/sim-key2.pem" -s "$T/secret" -c "$T/cert.pem" \
    -m "$T/media-secret"

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
check "access token is shaped as a JWT, a random 43-character third part" \
    sh -c "printf '%s' '$TOKEN' | grep -qE '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$'"
check "access token's tid is the tenant of the token URL" test \
    "$(printf '%s' "$TOKEN" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .tid)" = "$TENANT_ID"
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
# Lifecycle notifications would move the call on from establishing.
http POST /_sim/lifecycle -d '{"mode":"none"}'
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
check "tokens lists 20 kinds" test "$(printf '%s\n' "$KINDS" | wc -l)" = 20
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
check "20 notifications received" test "$(wc -l <"$T/authz")" = 20
paste -d' ' <(printf '%s\n' $KINDS) "$T/authz" >"$T/kinds.authz"
authz() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$T/kinds.authz"; }
jwt() { authz "$1" | sed 's/^Bearer //'; }
hdr() { b64u_bin "$(jwt "$1" | cut -d. -f1)"; }
pay() { b64u_bin "$(jwt "$1" | cut -d. -f2)"; }
check "the token kinds give 20 different Authorization headers" \
    test "$(sort -u "$T/authz" | wc -l)" = 20
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
check "random-kid: a 22-character random kid" sh -c \
    "hdr_kid='$(hdr random-kid | jq -r .kid)'; [ \${#hdr_kid} = 22 ] && [ \$hdr_kid != '$K1' ]"
check "random-kid: verifies with the first key" rs256_ok "$(jwt random-kid)" "$T/pub1.pem"
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

# --- Lifecycle notifications, calls ended or forgotten by Graph, certificate
# credentials, the media agent.  A sink records each request it receives
# as "METHOD PATH|AUTHORIZATION|BODY" and answers with the status in
# $T/sink.status (202 when empty).
cat >"$T/sink.sh" <<'SINK'
#!/bin/bash
len=0 authz=- req=
while IFS= read -r line; do
	line=${line%$'\r'}
	[ -z "$line" ] && break
	[ -z "$req" ] && req=${line% HTTP/*}
	case ${line,,} in
	content-length:*) len=${line#*:}; len=${len//[!0-9]/} ;;
	authorization:*) authz=${line#*: } ;;
	esac
done
body=
[ "${len:-0}" -gt 0 ] && body=$(head -c "$len")
printf '%s|%s|%s\n' "$req" "$authz" "$body" >>"$1"
st=$(cat "$2" 2>/dev/null || true)
printf 'HTTP/1.1 %s X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "${st:-202}"
SINK
: >"$T/sink.txt"
: >"$T/sink.status"
SINK_PID=
for try in 1 2 3 4 5 6 7 8; do
	SPORT=$(( 20000 + RANDOM % 20000 ))
	socat TCP-LISTEN:$SPORT,bind=127.0.0.1,reuseaddr,fork \
	    EXEC:"bash $T/sink.sh $T/sink.txt $T/sink.status" 2>/dev/null &
	SINK_PID=$!
	sleep 0.2
	kill -0 "$SINK_PID" 2>/dev/null && break
	SINK_PID=
done
check "sink listening" test -n "$SINK_PID"
EXTRA_PIDS="$RECV_PID $SINK_PID"
SINK_URL=http://127.0.0.1:$SPORT
sink_n() { grep -c . "$T/sink.txt" || true; }
sink_has() { [ "$(sink_n)" -ge "$1" ]; }
# sink_json N FILTER: jq FILTER over the body of the Nth request.
sink_json() { sed -n "${1}p" "$T/sink.txt" | cut -d'|' -f3- | jq -r "$2"; }
sink_field() { sed -n "${1}p" "$T/sink.txt" | cut -d'|' -f"$2"; }
lc_of() { sink_json "$1" '.value[0] | "\(.changeType) \(.resourceData.state)"'; }
stat() { CTL GET stats | jq -r ".$1"; }
# announce ID...: the calls become known, with tenant and call chain.
announce() {
	local id steps=
	for id; do
		steps="$steps${steps:+,}$(printf '{"body":{"value":[{"changeType":"created","resourceUrl":"/communications/calls/%s","resourceData":{"@odata.type":"#microsoft.graph.call","state":"incoming","tenantId":"%s","callChainId":"chain-%s"}}]}}' \
		    "$id" "$TENANT_ID" "$id")"
	done
	printf '{"name":"announce","target":"%s","steps":[%s]}' "$RECV_URL" \
	    "$steps" >"$T/announce.json"
	"$SIM" play "$T/announce.json" >/dev/null 2>&1 || true
}
answer() {
	http POST "$CALLS/$1/answer" -H "$AUTH" \
	    -d "{${2:+\"callbackUri\":\"$2\",}\"mediaConfig\":{}}"
}
CTLQ POST reset || true
check "lifecycle: normal, 20 ms by default" \
    test "$(CTL GET lifecycle)" = '{"mode":"normal","delay_ms":20}'
http POST /_sim/lifecycle -d '{"mode":"sideways"}'
check "lifecycle: an unknown mode is refused" test "$CODE" = 400
http POST /_sim/lifecycle -d '{"mode":"normal","delay_ms":30}'
check "lifecycle: set normal, 30 ms" \
    test "$CODE" = 200 -a "$BODY" = '{"mode":"normal","delay_ms":30}'

L1=1c000001-0000-4000-8000-000000000001
L2=1c000002-0000-4000-8000-000000000002
L3=1c000003-0000-4000-8000-000000000003
L4=1c000004-0000-4000-8000-000000000004
L5=1c000005-0000-4000-8000-000000000005
L6=1c000006-0000-4000-8000-000000000006
L7=1c000007-0000-4000-8000-000000000007
M2=3e000002-0000-4000-8000-000000000002
M3=3e000003-0000-4000-8000-000000000003
announce $L1 $L2 $L3 $L4 $L5 $L6 $L7 $M2 $M3
answer $L1 "$SINK_URL/api/calling"
check "lifecycle: answer 202" test "$CODE" = 202
check "lifecycle: two notifications after the answer" wait_for 5 sink_has 2
check "lifecycle: establishing, then established" \
    test "$(lc_of 1),$(lc_of 2)" = "updated establishing,updated established"
check "lifecycle: posted to the answer's callbackUri" \
    test "$(sink_field 1 1)" = "POST /api/calling"
check "lifecycle: the commsNotifications envelope" test "$(sink_json 1 \
    '"\(."@odata.type") \(.value[0]."@odata.type") \(.value[0].resourceData."@odata.type")"')" = \
    "#microsoft.graph.commsNotifications #microsoft.graph.commsNotification #microsoft.graph.call"
check "lifecycle: resourceUrl, id, tenantId, callChainId of the call" \
    test "$(sink_json 2 '.value[0] | "\(.resourceUrl) \(.resourceData.id) \(.resourceData.tenantId) \(.resourceData.callChainId)"')" = \
    "/communications/calls/$L1 $L1 $TENANT_ID chain-$L1"
check "lifecycle: signed with a valid token" \
    rs256_ok "$(sink_field 2 2 | sed 's/^Bearer //')" "$T/pub3.pem"
http GET "$CALLS/$L1" -H "$AUTH"
check "lifecycle: GET says established" has '"state":"established"'

CTLQ POST lifecycle '{"mode":"reversed"}' || true
: >"$T/sink.txt"
answer $L2 "$SINK_URL/api/calling"
check "reversed: two notifications" wait_for 5 sink_has 2
check "reversed: established, then establishing" \
    test "$(lc_of 1),$(lc_of 2)" = "updated established,updated establishing"
http GET "$CALLS/$L2" -H "$AUTH"
check "reversed: GET still says established" has '"state":"established"'

CTLQ POST lifecycle '{"mode":"none","delay_ms":20}' || true
: >"$T/sink.txt"
answer $L3 "$SINK_URL/api/calling"
sleep 0.1
check "none: nothing posted after the answer" test "$(sink_n)" = 0
CTLQ POST lifecycle '{"mode":"normal"}' || true

http POST "$CALLS/$L4/reject" -H "$AUTH" \
    -d "{\"reason\":\"busy\",\"callbackUri\":\"$SINK_URL/reject\"}"
check "reject: one notification" wait_for 5 sink_has 1
check "reject: deleted, terminated, to the reject's callbackUri" \
    test "$(lc_of 1) $(sink_field 1 1)" = "deleted terminated POST /reject"
check "reject: resultInfo 200/0 The call was rejected." \
    test "$(sink_json 1 '.value[0].resourceData.resultInfo | "\(."@odata.type") \(.code) \(.subcode) \(.message)"')" = \
    "#microsoft.graph.resultInfo 200 0 The call was rejected."

: >"$T/sink.txt"
http DELETE "$CALLS/$L1" -H "$AUTH"
check "DELETE: 204" test "$CODE" = 204
check "DELETE: two notifications" wait_for 5 sink_has 2
check "DELETE: terminating, then deleted terminated" \
    test "$(lc_of 1),$(lc_of 2)" = "updated terminating,deleted terminated"
check "DELETE: resultInfo 200/7000 The call was ended by the bot." \
    test "$(sink_json 2 '.value[0].resourceData.resultInfo | "\(.code)/\(.subcode) \(.message)"')" = \
    "200/7000 The call was ended by the bot."

: >"$T/sink.txt"
http POST /_sim/calls/end -d "{\"id\":\"$L2\",\"code\":\"200\",\"subcode\":\"5002\",\"terminating\":false}"
check "calls/end: 202 naming the target" \
    test "$CODE" = 202 -a "$(jget "$BODY" .target)" = "$SINK_URL/api/calling"
check "calls/end without terminating: one notification" wait_for 5 sink_has 1
check "calls/end: deleted terminated, resultInfo strings kept as strings" \
    test "$(lc_of 1) $(sink_json 1 '.value[0].resourceData.resultInfo | "\(.code|type) \(.code)/\(.subcode) \(.message)"')" = \
    "deleted terminated string 200/5002 The conversation has ended."
http POST "$CALLS/$L2/keepAlive" -H "$AUTH"
check "keepAlive after calls/end: 404 8522" \
    test "$CODE" = 404 -a -n "$(has '"code":"8522"' && echo y)"
http POST /_sim/calls/end -d "{\"id\":\"$L2\"}"
check "calls/end twice: 409" test "$CODE" = 409
http POST /_sim/calls/end -d '{"id":"no-such-call"}'
check "calls/end of an unknown call: 404" test "$CODE" = 404
http POST /_sim/calls/end -d "{\"id\":\"$L3\",\"cause\":1}"
check "calls/end with an unknown key: 400" test "$CODE" = 400
answer $L5 "$SINK_URL/api/calling"
wait_for 5 sink_has 3 || true
: >"$T/sink.txt"
http POST /_sim/calls/end -d "{\"id\":\"$L5\",\"code\":200,\"subcode\":5001,\"message\":\"Bye.\"}"
check "calls/end: terminating, then deleted" wait_for 5 sink_has 2
check "calls/end: resultInfo numbers as numbers" \
    test "$(lc_of 1),$(lc_of 2) $(sink_json 2 '.value[0].resourceData.resultInfo | "\(.code|type) \(.code)/\(.subcode) \(.message)"')" = \
    "updated terminating,deleted terminated number 200/5001 Bye."

: >"$T/sink.txt"
http POST "/_sim/calls/forget?id=$L3"
check "forget: 200" test "$CODE" = 200
http POST "$CALLS/$L3/keepAlive" -H "$AUTH"
check "keepAlive after forget: 404 8522" \
    test "$CODE" = 404 -a -n "$(has '"code":"8522"' && echo y)"
http POST "/_sim/calls/forget?id=no-such-call"
check "forget an unknown call: 404" test "$CODE" = 404

answer $L6 http://127.0.0.1:9/api/calling
answer $L7
check "lifecycle to a closed port: counted failed" \
    wait_for 5 sh -c "[ \"\$('$SIM' ctl GET stats | jq .lifecycle_failed)\" = 2 ]"
check "lifecycle with no callbackUri and no -u: counted, not posted" \
    test "$(stat lifecycle_untargeted)" = 2
check "forget posted nothing" test "$(sink_n)" = 0
BODY=$(CTL GET stats)
check "stats: lifecycle sent 12, calls ended 2, forgotten 1" test \
    "$(jget "$BODY" '"\(.lifecycle_sent) \(.calls_ended) \(.calls_forgotten)"')" = "12 2 1"

# Certificate credentials: client assertions made with openssl.
b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
X5T=$(openssl x509 -in "$T/cert.pem" -outform DER | openssl dgst -sha1 -binary | b64u)
X5T256=$(openssl x509 -in "$T/cert.pem" -outform DER | openssl dgst -sha256 -binary | b64u)
TOKEN_URL=$SIM_URL$TOKEN_PATH
JWT_BEARER=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer
# assertion KEY HEADER CLAIMS: a compact RS256 JWT.
assertion() {
	local h p
	h=$(printf '%s' "$2" | b64u)
	p=$(printf '%s' "$3" | b64u)
	printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" |
	    openssl dgst -sha256 -sign "$1" -binary | b64u)"
}
hdr_x5t() { printf '{"alg":"RS256","typ":"JWT","%s":"%s"}' "${2:-x5t}" "$1"; }
# claims [AUD] [EXP] [ISS]
claims() {
	local now
	now=$(date +%s)
	printf '{"aud":"%s","iss":"%s","sub":"%s","jti":"%s","nbf":%d,"iat":%d,"exp":%d}' \
	    "${1:-$TOKEN_URL}" "${3:-$APP_ID}" "${3:-$APP_ID}" "jti-$RANDOM$RANDOM" \
	    "$now" "$now" "${2:-$((now + 600))}"
}
# assert_token ASSERTION [TYPE] [EXTRA]: POST it to the token endpoint.
assert_token() {
	http POST "$TOKEN_PATH" -d "grant_type=client_credentials&client_id=$APP_ID&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&client_assertion_type=${2:-$JWT_BEARER}&client_assertion=$1${3:-}"
}
refused() { test "$CODE" = "$1" -a -n "$(has "\"error\":\"$2\",\"error_description\":\"AADSTS$3:" && echo y)"; }
GOOD=$(assertion "$T/cert-key.pem" "$(hdr_x5t "$X5T")" "$(claims)")
assert_token "$GOOD"
check "assertion: a token" test "$CODE" = 200 -a -n "$(jget "$BODY" .access_token)"
CTOKEN=$(jget "$BODY" .access_token)
http GET "$CALLS/$L5" -H "Authorization: Bearer $CTOKEN"
check "assertion: its token works on the calls API" test "$CODE" = 404 -o "$CODE" = 200
assert_token "$(assertion "$T/cert-key.pem" "$(hdr_x5t "$X5T256" 'x5t#S256')" \
    "$(claims "https://login.microsoftonline.com/$TENANT_ID/oauth2/v2.0/token")")"
check "assertion: x5t#S256 and Entra's token URL as aud" test "$CODE" = 200
assert_token "$(assertion "$T/sim-key2.pem" "$(hdr_x5t "$X5T")" "$(claims)")"
check "assertion signed with the wrong key: 401 invalid_client AADSTS700027" \
    refused 401 invalid_client 700027
check "wrong key: the signature did not match" has 'did not match the expected signature'
assert_token "$(assertion "$T/cert-key.pem" "$(hdr_x5t "$X5T")" \
    "$(claims "" $(( $(date +%s) - 60 )))")"
check "expired assertion: 401 invalid_client AADSTS700024" refused 401 invalid_client 700024
assert_token "$(assertion "$T/cert-key.pem" "$(hdr_x5t "$X5T")" \
    "$(claims https://evil.example.com/token)")"
check "assertion for another audience: 401 invalid_client AADSTS700023" \
    refused 401 invalid_client 700023
assert_token "$(assertion "$T/cert-key.pem" "$(hdr_x5t "$X5T")" \
    "$(claims "" "" 00000000-0000-0000-0000-000000000001)")"
check "assertion with another iss/sub: 401 invalid_client AADSTS700021" \
    refused 401 invalid_client 700021
assert_token "$(assertion "$T/cert-key.pem" "$(hdr_x5t "$(printf x | openssl dgst -sha1 -binary | b64u)")" "$(claims)")"
check "unknown x5t: 401 invalid_client AADSTS700027" \
    refused 401 invalid_client 700027
check "unknown x5t: the key was not found" has 'The key was not found'

assert_token "$GOOD" "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Asaml2-bearer"
check "a SAML assertion type: 400 invalid_request" test "$CODE" = 400 -a "$(jget "$BODY" .error)" = invalid_request
assert_token "$GOOD" "" "&client_secret=it-secret"
check "a secret and an assertion: 400 invalid_request" test "$CODE" = 400 -a "$(jget "$BODY" .error)" = invalid_request
assert_token "not.a-jwt"
check "a malformed assertion: 401 invalid_client AADSTS50027" refused 401 invalid_client 50027
CTLQ POST faults '{"action":"token","status":503,"retry_after":1}' || true
assert_token "$GOOD"
check "token fault with an assertion: 503 with Retry-After" \
    test "$CODE" = 503 -a -n "$(header_has '^Retry-After: 1$' && echo y)"
CTLQ POST faults '{"action":"token","drop":true}' || true
assert_token "$GOOD"
check "token fault with an assertion: dropped" test "$CODE" = 000
assert_token "$GOOD"
check "then assertions get tokens again" test "$CODE" = 200
check "stats: 3 assertions accepted, 8 refused" test \
    "$(CTL GET stats | jq -r '"\(.assertions_accepted) \(.assertions_refused)"')" = "3 8"

# The media agent.
MEDIA=/media/calls
MAUTH="Authorization: Bearer it-media-secret"
M1=3e000001-0000-4000-8000-000000000001
msession() {
	local id=$1 cid=${2:-$1} events=${3:-$SINK_URL/api/media}
	shift 3 2>/dev/null || shift $#
	http POST "$MEDIA/$id" -H "$MAUTH" -H 'Content-Type: application/json' \
	    -H 'client-request-id: crid-'"$id" "$@" \
	    -d "{\"callId\":\"$cid\",\"tenantId\":\"$TENANT_ID\",\"callChainId\":null,\"policyIdentifier\":\"p\",\"observedParticipantId\":null,\"modalities\":[\"audio\"],\"deadlineMs\":4000,\"eventsUrl\":\"$events\"}"
}
msession $M1
check "media: 200 with a fresh sim-blob" \
    test "$CODE" = 200 -a "$(jget "$BODY" '.blob | startswith("sim-blob-")')" = true
BLOB1=$(jget "$BODY" .blob)
check "media: client-request-id echoed" header_has "^client-request-id: crid-$M1$"
msession $M1
check "media: another blob next time" test "$(jget "$BODY" .blob)" != "$BLOB1"
http POST "$MEDIA/$M1" -H 'Content-Type: application/json' -d "{\"callId\":\"$M1\",\"eventsUrl\":\"$SINK_URL/\"}"
check "media without a bearer: 401" test "$CODE" = 401
http POST "$MEDIA/$M1" -H 'Authorization: Bearer sim-media-secret' \
    -H 'Content-Type: application/json' -d "{\"callId\":\"$M1\",\"eventsUrl\":\"$SINK_URL/\"}"
check "media with the default secret while -m is given: 401" test "$CODE" = 401
msession $M1 other-call
check "media with another callId: 400" test "$CODE" = 400
msession $M1 $M1 ftp://x/
check "media with a non-http eventsUrl: 400" test "$CODE" = 400
http POST "$MEDIA/$M1" -H "$MAUTH" -H 'Content-Type: application/json' -d '{"callId":'
check "media with a body that is not JSON: 400" test "$CODE" = 400
http POST "$MEDIA/$M1" -H "$MAUTH" -H 'Content-Type: application/json' \
    -d "{\"callId\":\"$M1\",\"eventsUrl\":\"$SINK_URL/\",\"modalities\":\"audio\"}"
check "media with modalities not an array: 400" test "$CODE" = 400
http POST "$MEDIA/$M1" -H "$MAUTH" -H 'Content-Type: application/json' \
    -d "{\"callId\":\"$M1\",\"eventsUrl\":\"$SINK_URL/\"}"
check "media with only callId and eventsUrl: 200" test "$CODE" = 200
CTLQ POST faults '{"action":"media","status":503,"retry_after":2}' || true
msession $M1
check "media fault: 503 with Retry-After: 2" \
    test "$CODE" = 503 -a -n "$(header_has '^Retry-After: 2$' && echo y)"
CTLQ POST faults '{"action":"media","drop":true}' || true
msession $M1
check "media fault: dropped" test "$CODE" = 000
CTLQ POST faults '{"action":"media_end","status":500}' || true
http DELETE "$MEDIA/$M1" -H "$MAUTH"
check "media_end fault: 500" test "$CODE" = 500
http DELETE "$MEDIA/$M1"
check "media_end without a bearer: 401" test "$CODE" = 401
http DELETE "$MEDIA/$M1" -H "$MAUTH"
check "media_end: 204" test "$CODE" = 204
http DELETE "$MEDIA/$M1" -H "$MAUTH"
check "media_end again: 404" test "$CODE" = 404
"$SIM" requests | jq -c 'select(.call_id == "'$M1'")' >"$T/media.jsonl" || true
check "media requests recorded with their status" test \
    "$(jq -r '"\(.action):\(.status)"' "$T/media.jsonl" | paste -sd' ')" = \
    "media:200 media:200 media:401 media:401 media:400 media:400 media:400 media:400 media:200 media:503 media:0 media_end:500 media_end:401 media_end:204 media_end:404"
check "media record: body and client-request-id kept" test \
    "$(head -n 1 "$T/media.jsonl" | jq -r '"\(.method) \(.path) \(.client_request_id) \(.body.callId) \(.body.modalities[0])"')" = \
    "POST $MEDIA/$M1 crid-$M1 $M1 audio"

# captureStarted follows established, with the shared secret.
msession $M2
: >"$T/sink.txt"
answer $M2 "$SINK_URL/api/calling"
check "auto: establishing, established, captureStarted" wait_for 5 sink_has 3
check "auto: captureStarted posted to the eventsUrl after established" \
    test "$(lc_of 2),$(sink_field 3 1)" = "updated established,POST /api/media"
check "auto: the event body" \
    test "$(sink_json 3 -c .)" = "{\"callId\":\"$M2\",\"event\":\"captureStarted\"}"
check "auto: Authorization: Bearer <the -m secret>" \
    test "$(sink_field 3 2)" = "Bearer it-media-secret"
check "auto: the event is recorded with polrecd's status" wait_for 5 sh -c \
    "'$SIM' requests | jq -e 'select(.action == \"media_event\" and .call_id == \"$M2\" and .status == 202)' >/dev/null"
http POST /_sim/media -d '{"auto":false}'
check "media auto off: 200" test "$CODE" = 200 -a "$BODY" = '{"auto":false}'
msession $M3
: >"$T/sink.txt"
answer $M3 "$SINK_URL/api/calling"
wait_for 5 sink_has 2 || true
sleep 0.1
check "auto off: established, but no captureStarted" test "$(sink_n)" = 2
CTLQ POST media '{"auto":true}' || true
: >"$T/sink.txt"
echo 409 >"$T/sink.status"
http POST /_sim/media -d "{\"id\":\"$M2\",\"event\":\"captureFailed\",\"reason\":\"disk full\"}"
check "manual event: 202" test "$CODE" = 202
check "manual event: posted with its reason" wait_for 5 sink_has 1
check "manual event: the body" test "$(sink_json 1 -c .)" = \
    "{\"callId\":\"$M2\",\"event\":\"captureFailed\",\"reason\":\"disk full\"}"
check "manual event: recorded with polrecd's 409" wait_for 5 sh -c \
    "'$SIM' requests | jq -e 'select(.action == \"media_event\" and .body.event == \"captureFailed\" and .status == 409)' >/dev/null"
: >"$T/sink.status"
http POST /_sim/media -d "{\"id\":\"no-such-call\",\"event\":\"captureStopped\",\"url\":\"$SINK_URL/other\"}"
check "manual event to a given url" test "$CODE" = 202
check "manual event: posted to that url" wait_for 5 sh -c \
    "sed -n 2p '$T/sink.txt' | grep -q '^POST /other|'"
http POST /_sim/media -d '{"id":"no-such-call","event":"captureStopped"}'
check "manual event for an unknown call, no url: 404" test "$CODE" = 404
http POST /_sim/media -d '{"event":"captureStopped"}'
check "manual event without an id: 400" test "$CODE" = 400
BODY=$(CTL GET stats)
check "stats: media requests, auth failures, blobs, ends, events" test \
    "$(jget "$BODY" '"\(.media_requests) \(.media_auth_failures) \(.media_blobs_issued) \(.media_ends) \(.media_events_sent) \(.media_events_failed)"')" = \
    "17 3 5 1 2 1"
check "media: two sessions open" test "$(CTL GET media | jq '.sessions | length')" = 2
CTLQ POST reset || true
BODY=$(CTL GET media)
check "reset: media auto on, no sessions" test "$BODY" = '{"auto":true,"sessions":[]}'
check "reset: lifecycle normal, 20 ms" \
    test "$(CTL GET lifecycle)" = '{"mode":"normal","delay_ms":20}'
kill "$SINK_PID" 2>/dev/null || true
wait "$SINK_PID" 2>/dev/null || true
EXTRA_PIDS=$RECV_PID

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
	check "without -m the media secret is sim-media-secret" \
	    test "$(curl -s -o /dev/null -w '%{http_code}' \
	    -H 'Authorization: Bearer sim-media-secret' \
	    -H 'Content-Type: application/json' \
	    -d '{"callId":"c1","eventsUrl":"http://127.0.0.1:9/"}' \
	    "$SIM2/media/calls/c1")" = 200
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
