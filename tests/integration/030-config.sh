# polrecd -n: the sample configuration parses, and checks OK once the
# files it names are there; each missing or unsafe file is one line
# naming it, exit 1; a file with an unknown directive or a group-readable
# secret fails with file:line and exit 1.
. tests/integration/lib.sh

# As shipped, the sample names no credentials and files not there: each
# problem one line naming it, exit 1, no "configuration OK".
out=$("$POLRECD" -n -f etc/polrecd.conf 2>&1)
rc=$?
check "sample etc/polrecd.conf as shipped: exit 1" test $rc -eq 1
check "sample: no syntax error" sh -c "! printf '%s\n' \"\$0\" | grep -q 'etc/polrecd.conf:[0-9]'" "$out"
check "sample: no credentials said" \
    out_says 'neither client_secret_file nor client_cert_file'
check "sample: not OK" sh -c "! printf '%s\n' \"\$0\" | grep -q 'configuration OK'" "$out"
check "sample: the placeholder app id said" \
    out_says "[graph] app_id is the sample's placeholder"
check "sample: the placeholder tenant said" out_says \
    "[tenants] ids: 00000000-0000-0000-0000-000000000000 is the sample's placeholder"

# The sample with its paths in a test directory, credentials and keys:
# configuration OK.
mkdir -p "$T/run" "$T/lib"
(umask 077; echo s3cret >"$T/gsecret")
sed -e "s|/etc/polrecd/keys|$T/keys|" -e "s|/var/lib/polrecd|$T/lib|" \
    -e "s|/run/polrecd|$T/run|" \
    -e "s|^; *client_secret_file = .*|client_secret_file = $T/gsecret|" \
    -e "s|^app_id = .*|app_id = $APP_ID|" -e "s|^ids = .*|ids = $TENANT_ID|" \
    etc/polrecd.conf >"$T/sample.conf"
build/polrecctl -f "$T/sample.conf" keys init -o "$T/auditor.key" \
    >"$T/keys-init.log" 2>&1
out=$("$POLRECD" -n -f "$T/sample.conf" 2>&1)
check "sample with its files: exit 0 ($out)" test $? -eq 0
check "sample with its files: says configuration OK" \
    sh -c "echo '$out' | grep -q 'configuration OK'"

# n_check WHAT PATTERN: polrecd -n on $T/sample.conf exits 1 and says it.
n_check() {
	out=$("$POLRECD" -n -f "$T/sample.conf" 2>&1)
	rc=$?
	check "$1: exit 1" test $rc -eq 1
	check "$1: said ($2)" sh -c "echo \"\$0\" | grep -q -- \"\$1\"" "$out" "$2"
	check "$1: not OK" sh -c "! echo \"\$0\" | grep -q 'configuration OK'" "$out"
}
sed -i "s|^client_secret_file = .*|; client_secret_file = x|" "$T/sample.conf"
n_check "no Graph credentials" \
    '\[graph\] neither client_secret_file nor client_cert_file'
sed -i "s|^; client_secret_file = x|client_secret_file = $T/gsecret|" "$T/sample.conf"
chmod 0644 "$T/gsecret"
n_check "a client secret others may read" "client_secret_file $T/gsecret: readable by group or others"
chmod 0600 "$T/gsecret"
: >"$T/gsecret"
n_check "an empty client secret" "client_secret_file: .*$T/gsecret"
echo s3cret >"$T/gsecret"
mv "$T/keys/state.key" "$T/state.key"
n_check "no state key" "key_dir: $T/keys/state.key"
mv "$T/state.key" "$T/keys/state.key"
chmod 0644 "$T/keys/signing.key"
n_check "a signing key others may read" "$T/keys/signing.key"
chmod 0600 "$T/keys/signing.key"
mv "$T/keys/auditor.pub" "$T/auditor.pub"
n_check "no auditor.pub" "key_dir: $T/keys/auditor.pub"
mv "$T/auditor.pub" "$T/keys/auditor.pub"
if [ "$(id -u)" -ne 0 ]; then
	chmod 0500 "$T/lib"
	n_check "database directory not writable" "database $T/lib/audit.db: directory $T/lib not writable"
	chmod 0700 "$T/lib"
	chmod 0500 "$T/run"
	n_check "control socket directory not writable" "socket $T/run/ctl.sock: directory $T/run not writable"
	chmod 0700 "$T/run"
fi
# TLS: a key that is not the certificate's.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/tls.key" -out "$T/tls.crt" -subj /CN=a -days 1 2>/dev/null
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 \
    -out "$T/other.key" 2>/dev/null
chmod 0600 "$T/tls.key" "$T/other.key"
printf '[http]\ntls_cert = %s\ntls_key = %s\n' "$T/tls.crt" "$T/other.key" >>"$T/sample.conf"
n_check "TLS key not the certificate's" "$T/other.key is not the key of certificate $T/tls.crt"
sed -i "s|^tls_key = .*|tls_key = $T/tls.key|" "$T/sample.conf"
out=$("$POLRECD" -n -f "$T/sample.conf" 2>&1)
check "TLS certificate and its key: OK ($out)" test $? -eq 0

printf '[http]\nlisten = 127.0.0.1:0\n[graph]\nfrobnicate = yes\n' >"$T/bad.conf"
out=$("$POLRECD" -n -f "$T/bad.conf" 2>&1)
rc=$?
check "unknown directive: exit 1" test $rc -eq 1
check "unknown directive: reported as file:line" \
    sh -c "echo '$out' | grep -q '$T/bad.conf:4: unknown directive frobnicate in \[graph\]'"

printf 's3cret' >"$T/secret"
chmod 0640 "$T/secret"
printf '[graph]\napp_id = %s\nclient_secret_file = %s\n' "$APP_ID" "$T/secret" >"$T/secret.conf"
out=$("$POLRECD" -n -f "$T/secret.conf" 2>&1)
rc=$?
check "group-readable secret: exit 1" test $rc -eq 1
check "group-readable secret: reason given" \
    sh -c "echo '$out' | grep -q 'readable by group or others (mode 0640)'"
chmod 0600 "$T/secret"
out=$("$POLRECD" -n -f "$T/secret.conf" 2>&1)
check "secret at 0600: not refused for its mode" \
    sh -c "! echo '$out' | grep -q 'readable by group or others'"

out=$("$POLRECD" -n -f "$T/nonexistent.conf" 2>&1)
check "missing file: exit 1" test $? -eq 1
out=$("$POLRECD" -x 2>&1)
check "bad option: exit 2" test $? -eq 2

# Every directive of the parser, and no other, is in the sample file
# (set, or commented out with ';') and in polrecd.conf(5), in its section.
sed -n 's/^[[:space:]]*{ "\([a-z]*\)", "\([a-z_]*\)", CT_.*/\1 \2/p' lib/conf.c |
    sort >"$T/parser.txt"
awk '/^\[[a-z]+\]/ { sec = substr($0, 2, length($0) - 2); next }
    /^(; )?[a-z_]+ =/ { k = $0; sub(/^; /, "", k); sub(/ =.*/, "", k); print sec " " k }' \
    etc/polrecd.conf | sort >"$T/sample.txt"
awk '/^\.Ss \[[a-z]+\]/ { sec = substr($2, 2, length($2) - 2); next }
    /^\.S[hs]/ { sec = "" }
    sec != "" && /^\.It Ic [a-z_]+/ { print sec " " $3 }' \
    man/polrecd.conf.5 | sort >"$T/man.txt"
check "the parser has directives" test "$(wc -l <"$T/parser.txt")" -ge 40
check "etc/polrecd.conf has every directive, and no other" \
    diff "$T/parser.txt" "$T/sample.txt"
check "polrecd.conf(5) has every directive, and no other" \
    diff "$T/parser.txt" "$T/man.txt"
exit $FAILED
