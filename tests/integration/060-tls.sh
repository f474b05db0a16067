# TLS on the listener: a test certificate, TLS 1.2 or newer, a key file
# readable by others refused, the certificate reloaded on SIGHUP.
. tests/integration/lib.sh

mk_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
	    -addext "subjectAltName=IP:127.0.0.1" \
	    -keyout "$T/$1.key" -out "$T/$1.crt" 2>/dev/null
	chmod 600 "$T/$1.key"
}
mk_cert first
mk_cert second
start_sim
write_conf "[http]
tls_cert = $T/first.crt
tls_key = $T/first.key"
start_polrecd
WEBHOOK="https://$POLRECD_ADDR/api/calling"
check "listening with TLS" log_has 'listening on 127.0.0.1:[0-9]* (TLS)'
check "the simulator's signed invitation over TLS: 202" \
    "$SIM" play -u "$WEBHOOK" tests/scenarios/example3.json
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/first.crt" \
    -X POST -H 'Content-Type: application/json' -d '{}' "$WEBHOOK")
check "curl verifies the test certificate (401 without a token: $code)" \
    test "$code" = 401
check "TLS 1.1 refused" sh -c "! echo | openssl s_client -tls1_1 \
    -connect $POLRECD_ADDR >/dev/null 2>&1"
check "TLS 1.2 accepted" sh -c "echo | openssl s_client -tls1_2 \
    -connect $POLRECD_ADDR 2>/dev/null | grep -q 'Protocol *: TLSv1.2'"
check "plain HTTP on the TLS port gets nothing" \
    sh -c "! curl -s -m 3 http://$POLRECD_ADDR/api/calling >/dev/null"

# Reload with the second certificate.
sed -i "s#$T/first#$T/second#g" "$T/polrecd.conf"
kill -HUP "$POLRECD_PID"
check "reload loads the new certificate" \
    wait_for 5 grep -q "TLS certificate $T/second.crt loaded" "$T/polrecd.log"
check "new connections get it" sh -c "echo | openssl s_client \
    -connect $POLRECD_ADDR 2>/dev/null | grep -q 'subject=CN = second'"
# A broken certificate on reload keeps the working one.
: >"$T/second.crt"
kill -HUP "$POLRECD_PID"
check "a broken certificate is refused on reload" \
    wait_for 5 grep -q "not loaded; keeping the previous one" "$T/polrecd.log"
check "still serving TLS" "$SIM" play -u "$WEBHOOK" tests/scenarios/example3.json
check "SIGTERM: clean exit 0" stop_polrecd

chmod 644 "$T/first.key"
sed -i "s#$T/second#$T/first#g" "$T/polrecd.conf"
"$POLRECD" -n -f "$T/polrecd.conf" 2>"$T/n.out"
check "key file readable by others: refused" test $? -eq 1
check "and says why" grep -q 'tls_key .*readable by group or others' "$T/n.out"
exit $FAILED
