# polrecd -n: the sample configuration checks OK; a file with an unknown
# directive or a group-readable secret fails with file:line and exit 1.
. tests/integration/lib.sh

out=$("$POLRECD" -n -f etc/polrecd.conf 2>&1)
check "sample etc/polrecd.conf: exit 0" test $? -eq 0
check "sample: says configuration OK ($out)" \
    sh -c "echo '$out' | grep -q 'configuration OK'"

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
check "secret at 0600: accepted" "$POLRECD" -n -f "$T/secret.conf"

out=$("$POLRECD" -n -f "$T/nonexistent.conf" 2>&1)
check "missing file: exit 1" test $? -eq 1
out=$("$POLRECD" -x 2>&1)
check "bad option: exit 2" test $? -eq 2
exit $FAILED
