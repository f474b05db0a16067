#!/bin/bash
# The simulator's time stamping authority (POST /tsa), checked with an
# independent tool: what `openssl ts -query` asks, the simulator answers
# and `openssl ts -verify` accepts with the TSA's CA and refuses with
# another; the reply shows the policy and echoes the nonce; bad queries,
# forced refusals and injected faults come back as a TSA would give them.
set -eu
. tests/integration/lib.sh

scripts/mk-test-tsa "$T/tsa" >"$T/mk-test-tsa.log" 2>&1 ||
    { not_ok "mk-test-tsa"; cat "$T/mk-test-tsa.log"; exit 1; }
scripts/mk-test-tsa "$T/other" >/dev/null 2>&1

start_sim -t "$T/tsa/tsa.pem" -K "$T/tsa/tsa.key"

# tsq DATA NAME: a query for DATA's SHA-256 with a nonce and certReq.
tsq() { openssl ts -query -data "$1" -sha256 -cert -out "$T/$2.tsq" 2>/dev/null; }
# stamp NAME [CONTENT_TYPE]: POST NAME.tsq, the reply to NAME.tsr; prints
# the HTTP status and the reply's Content-Type.
stamp() {
	curl -s -o "$T/$1.tsr" -w '%{http_code} %{content_type}' \
	    -H "Content-Type: ${2:-application/timestamp-query}" \
	    --data-binary "@$T/$1.tsq" "$SIM_URL/tsa"
}
ts_verify() {
	openssl ts -verify -in "$T/$1.tsr" -queryfile "$T/$1.tsq" \
	    -CAfile "$2" >"$T/verify-$1.log" 2>&1
}
reply_text() { openssl ts -reply -in "$T/$1.tsr" -text 2>/dev/null; }

printf 'polrec-checkpoint-v1 test data\n' >"$T/data1"
tsq "$T/data1" q1
check "a query is stamped: 200 application/timestamp-reply" \
    test "$(stamp q1)" = "200 application/timestamp-reply"
check "openssl ts -verify accepts it with the TSA's CA" \
    ts_verify q1 "$T/tsa/ca.pem"
check "and refuses it with another CA" \
    eval '! ts_verify q1 "$T/other/ca.pem"'
check "and refuses it for other data" \
    eval '! openssl ts -verify -in "$T/q1.tsr" -data /etc/hostname -CAfile "$T/tsa/ca.pem" >/dev/null 2>&1'

reply_text q1 >"$T/q1.txt"
nonce=$(openssl ts -query -in "$T/q1.tsq" -text 2>/dev/null |
    sed -n 's/^Nonce: //p')
check "the reply is granted" grep -q '^Status: Granted' "$T/q1.txt"
# openssl.cnf names 1.2.3.4.1 tsa_policy1.
check "the reply names the policy 1.2.3.4.1" \
    grep -q -E '^Policy OID: (1\.2\.3\.4\.1|tsa_policy1)$' "$T/q1.txt"
check "the reply echoes the query's nonce" \
    test -n "$nonce" -a "$(sed -n 's/^Nonce: //p' "$T/q1.txt")" = "$nonce"
# Trailing zeros of the fraction are left out.
check "the reply gives genTime in fractions of a second, accuracy 1 s" \
    eval 'grep -q "^Time stamp: .*:[0-9][0-9]\.[0-9]\{1,6\} [0-9]* GMT" "$T/q1.txt" &&
    grep -q "^Accuracy: 0x01 seconds" "$T/q1.txt"'
check "the reply carries the TSA's certificate (certReq)" \
    eval 'openssl ts -reply -in "$T/q1.tsr" -token_out 2>/dev/null |
    openssl pkcs7 -inform DER -print_certs 2>/dev/null | grep -q "polrec test TSA$"'

printf 'second\n' >"$T/data2"
tsq "$T/data2" q2
stamp q2 >/dev/null
check "serial numbers count up" \
    eval 'reply_text q2 | grep -q "^Serial number: 0x02$"'
check "GET /_sim/tsa lists the stamps" \
    test "$(sim_ctl GET /_sim/tsa | jq -c '[.enabled, .issued, .last_serial, (.stamps | length), .stamps[1].serial]')" = \
    '[true,2,2,2,2]'
check "and their imprints" \
    test "$(sim_ctl GET /_sim/tsa | jq -r '.stamps[0].imprint')" = \
    "$(sha256sum "$T/data1" | cut -d' ' -f1)"

# What a TSA refuses, it answers with a TimeStampResp.
openssl ts -query -data "$T/data1" -sha1 -cert -out "$T/sha1.tsq" 2>/dev/null
stamp sha1 >/dev/null
check "a SHA-1 query is refused: rejection, badAlg" \
    eval 'reply_text sha1 | grep -q "^Status: Rejected" &&
    reply_text sha1 | grep -q "unrecognized or unsupported algorithm"'
head -c 100 /dev/urandom >"$T/junk.tsq"
check "garbage is answered 200 with a rejection" \
    test "$(stamp junk)" = "200 application/timestamp-reply"
check "  (rejection, badDataFormat)" \
    eval 'reply_text junk | grep -q "^Status: Rejected"'
check "a query of another Content-Type: 415" \
    test "$(stamp q1 application/octet-stream | cut -d' ' -f1)" = 415
check "GET /tsa: 405" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$SIM_URL/tsa")" = 405

sim_ctl POST '/_sim/tsa?reject=1' >/dev/null
tsq "$T/data1" q3
stamp q3 >/dev/null
check "POST /_sim/tsa?reject=1: the next one is rejected, systemFailure" \
    eval 'reply_text q3 | grep -q "^Status: Rejected" &&
    reply_text q3 | grep -q "system failure"'
stamp q3 >/dev/null
check "and the one after is granted" ts_verify q3 "$T/tsa/ca.pem"

sim_ctl POST /_sim/faults '{"action":"tsa","status":503,"retry_after":2}' >/dev/null
check "a fault on action tsa: 503" \
    test "$(stamp q3 | cut -d' ' -f1)" = 503
sim_ctl POST /_sim/faults '{"action":"tsa","drop":true}' >/dev/null
check "a fault on action tsa: dropped" \
    eval '! curl -s -f -o /dev/null -H "Content-Type: application/timestamp-query" --data-binary "@$T/q3.tsq" "$SIM_URL/tsa"'
sim_ctl POST /_sim/faults '{"action":"tsa","delay_ms":300}' >/dev/null
t0=$(date +%s%N)
stamp q3 >/dev/null
t1=$(date +%s%N)
check "a fault on action tsa: late, then granted" \
    eval '[ $(( (t1 - t0) / 1000000 )) -ge 300 ] && ts_verify q3 "$T/tsa/ca.pem"'

check "stats count requests, stamps, refusals and errors" \
    test "$(sim_ctl GET /_sim/stats | jq -c '[.tsa_requests, .tsa_stamps_issued, .tsa_refused, .tsa_errors]')" = \
    '[10,4,3,1]'

# A simulator without -t has no TSA.
kill -TERM "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=
# Kept for cleanup's sanitizer check.
mv "$T/sim.log" "$T/sim-tsa.log"
rm -f "$T/sim.port"
start_sim
check "without -t, POST /tsa: 404" \
    test "$(stamp q1 | cut -d' ' -f1)" = 404
check "a TSA certificate without timeStamping is refused at start" \
    eval '! "$SIM" serve -d -l 127.0.0.1:0 -t "$T/tsa/ca.pem" -K "$T/tsa/ca.key" 2>"$T/sim-bad.log" &&
    grep -q "not a TSA certificate" "$T/sim-bad.log"'

exit "$FAILED"
