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
