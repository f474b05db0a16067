# TLS on the listener: a test certificate, TLS 1.3 by default, TLS 1.2
# with ECDHE AEAD suites only in the server's order, a key file readable
# by others refused, the certificate and tls_ciphers reloaded on SIGHUP.
# Plain http outbound URLs need [graph] allow_plain_http, which is
# logged; polrecd runs with core dumps off.
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
check "plain HTTP on the TLS port gets nothing" \
    sh -c "! curl -s -m 3 http://$POLRECD_ADDR/api/calling >/dev/null"

# tls [S_CLIENT OPTIONS]: a handshake; succeeds when one completes
# (s_client prints "New, (NONE)" for a failed one; its exit status also
# reflects how the connection closed afterwards).  The transcript is in
# $T/s_client.out.
tls() {
	echo | timeout 10 openssl s_client -connect "$POLRECD_ADDR" "$@" \
	    >"$T/s_client.out" 2>&1
	grep -q '^New, TLSv1' "$T/s_client.out"
}
tls12() { tls -tls1_2 -cipher "$1"; }
tls_cipher() { sed -n 's/^New, TLSv1[.0-9]*, Cipher is //p' "$T/s_client.out"; }
tls_protocol() { sed -n 's/^New, \(TLSv1[.0-9]*\), .*/\1/p' "$T/s_client.out"; }
# The client's own floor is lowered, so that only the server can refuse.
check "TLS 1.1 refused" sh -c "! { echo | timeout 10 openssl s_client \
    -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -connect $POLRECD_ADDR 2>&1 |
    grep -q '^New, TLSv1'; }"
tls
check "TLS 1.3 negotiated by default ($(tls_protocol) $(tls_cipher))" \
    test "$(tls_protocol)" = TLSv1.3
check "TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 accepted" \
    tls12 ECDHE-RSA-AES128-GCM-SHA256
check "TLS 1.2 with ECDHE-RSA-CHACHA20-POLY1305 accepted" \
    tls12 ECDHE-RSA-CHACHA20-POLY1305
for c in AES128-SHA AES256-GCM-SHA384 AES128-SHA256 ECDHE-RSA-AES128-SHA \
    ECDHE-RSA-AES256-SHA384 DHE-RSA-AES128-GCM-SHA256; do
	check "TLS 1.2 with $c (RSA/DHE key exchange or CBC) refused" \
	    sh -c "! { echo | timeout 10 openssl s_client -tls1_2 -cipher $c \
	    -connect $POLRECD_ADDR 2>&1 | grep -q '^New, TLSv1'; }"
done
tls12 ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384
check "the server's order wins (AES256-GCM over the client's AES128: $(tls_cipher))" \
    test "$(tls_cipher)" = ECDHE-RSA-AES256-GCM-SHA384
check "logs its TLS policy" \
    log_has 'TLS 1.3, or TLS 1.2 with ciphers ECDHE+AESGCM:ECDHE+CHACHA20'

# Core dumps are off: the limit is 0, and the process is not dumpable,
# which leaves its /proc files to root (seen for a non-root polrecd
# below, since to root everything is root's).
check "core file size limit 0" \
    grep -Eq '^Max core file size +0 +0 ' "/proc/$POLRECD_PID/limits"

# Reload with the second certificate.
cp "$T/second.crt" "$T/second.crt.good"
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

# A custom tls_ciphers takes effect on reload (the certificate is good
# again); a list with a weak suite is refused and the running one stays.
cp "$T/second.crt.good" "$T/second.crt"
sed -i 's#^tls_key = .*#&\ntls_ciphers = ECDHE+CHACHA20#' "$T/polrecd.conf"
kill -HUP "$POLRECD_PID"
check "reload: tls_ciphers = ECDHE+CHACHA20 logged" wait_for 5 \
    log_has 'TLS 1.3, or TLS 1.2 with ciphers ECDHE+CHACHA20$'
check "after the reload ECDHE-RSA-AES128-GCM-SHA256 is refused" \
    sh -c "! { echo | timeout 10 openssl s_client -tls1_2 \
    -cipher ECDHE-RSA-AES128-GCM-SHA256 -connect $POLRECD_ADDR \
    2>&1 | grep -q '^New, TLSv1'; }"
check "and ECDHE-RSA-CHACHA20-POLY1305 accepted" \
    tls12 ECDHE-RSA-CHACHA20-POLY1305
tls
check "TLS 1.3 still negotiated" test "$(tls_protocol)" = TLSv1.3
sed -i 's#^tls_ciphers = .*#tls_ciphers = ECDHE+CHACHA20:AES128-SHA#' \
    "$T/polrecd.conf"
"$POLRECD" -n -f "$T/polrecd.conf" >"$T/n.out" 2>&1
check "polrecd -n: a weak suite in tls_ciphers is an error" test $? -eq 1
check "naming the directive and line" \
    grep -q "polrecd.conf:[0-9]*: tls_ciphers: a suite without ECDHE" "$T/n.out"
sed -i 's#^tls_ciphers = .*#tls_ciphers = NOSUCHCIPHER#' "$T/polrecd.conf"
"$POLRECD" -n -f "$T/polrecd.conf" >"$T/n.out" 2>&1
check "polrecd -n: a list OpenSSL refuses is an error" \
    grep -q "tls_ciphers: OpenSSL accepts no cipher suite" "$T/n.out"
kill -HUP "$POLRECD_PID"
check "reload with it fails" wait_for 5 log_has 'reload of .* failed'
check "and the running list stays" tls12 ECDHE-RSA-CHACHA20-POLY1305
sed -i '/^tls_ciphers = /d' "$T/polrecd.conf"
check "SIGTERM: clean exit 0" stop_polrecd

chmod 644 "$T/first.key"
sed -i "s#$T/second#$T/first#g" "$T/polrecd.conf"
"$POLRECD" -n -f "$T/polrecd.conf" 2>"$T/n.out"
check "key file readable by others: refused" test $? -eq 1
check "and says why" grep -q 'tls_key .*readable by group or others' "$T/n.out"

# Plain http outbound URLs: refused unless allow_plain_http, which is
# logged at start and at every reload.
write_conf
sed -i '/^allow_plain_http = yes$/d' "$T/polrecd.conf"
"$POLRECD" -n -f "$T/polrecd.conf" >"$T/n.out" 2>&1
check "http base_url without allow_plain_http: polrecd -n exit 1" test $? -eq 1
check "naming base_url and allow_plain_http" grep -q \
    "polrecd.conf:[0-9]*: base_url: plain http:// URL refused.*allow_plain_http = yes" \
    "$T/n.out"
check "and token_url and openid_configuration_url" sh -c \
    "grep -q 'token_url: plain http' $T/n.out && grep -q 'openid_configuration_url: plain http' $T/n.out"
write_conf
check "with allow_plain_http = yes: configuration OK" \
    "$POLRECD" -n -f "$T/polrecd.conf"
start_polrecd
check "it starts, and warns" log_has 'allow_plain_http = yes: outbound URLs may be plain http'
kill -HUP "$POLRECD_PID"
check "and warns again on reload" wait_for 5 \
    sh -c "test \$(grep -c 'allow_plain_http = yes: outbound' $T/polrecd.log) -eq 2"
check "SIGTERM: clean exit 0" stop_polrecd

# Not dumpable: a polrecd running as nobody has its /proc files owned
# by root (they would be nobody's if it were dumpable).
if getent passwd nobody >/dev/null && command -v setpriv >/dev/null &&
    [ "$(id -u)" -eq 0 ]; then
	NB=$T/nb
	mkdir -p "$NB"
	(umask 077; echo sim-secret >"$NB/client-secret")
	sed -e "s#$T/#$NB/#g" "$T/polrecd.conf" >"$NB/polrecd.conf"
	build/polrecctl -f "$NB/polrecd.conf" keys init -o "$NB/auditor.key" \
	    >/dev/null 2>&1
	chown -R nobody "$NB"
	chmod 711 "$T"
	: >"$T/nobody.log"
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	    "$POLRECD" -d -f "$NB/polrecd.conf" 2>"$T/nobody.log" &
	NB_PID=$!
	POLRECD_PID=$NB_PID	# killed on exit if a check fails
	wait_for 10 grep -q 'listening on' "$T/nobody.log"
	check "a polrecd running as nobody (uid $(awk '/^Uid:/ { print $2 }' /proc/$NB_PID/status))" \
	    test "$(awk '/^Uid:/ { print $2 }' "/proc/$NB_PID/status")" = \
	    "$(id -u nobody)"
	check "is not dumpable: /proc/PID/environ is root's" \
	    test "$(stat -c %u "/proc/$NB_PID/environ")" = 0
	check "core file size limit 0 there too" \
	    grep -Eq '^Max core file size +0 +0 ' "/proc/$NB_PID/limits"
	check "SIGTERM: clean exit 0" stop_polrecd
else
	ok "# SKIP dumpable check: needs root, setpriv and a nobody user"
fi
exit $FAILED
