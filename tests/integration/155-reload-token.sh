# A reload (SIGHUP or polrecctl reload) fetches a new Graph app token
# only when what goes into a token request changed: a storm of reloads
# costs Entra nothing; a new client secret costs exactly one request; a
# broken reload keeps the running configuration and its token.
. tests/integration/lib.sh

start_sim
write_conf
start_polrecd
# Token requests the simulator saw, good or refused.
tokens() { sim_ctl GET /_sim/stats | jq -r '.tokens_issued + .token_errors'; }
reloads() { grep -c 'configuration reloaded' "$T/polrecd.log"; }
# reload_once HOW: one reload by SIGHUP or by polrecctl, waited for.
reload_once() {
	local n
	n=$(reloads)
	if [ "$1" = hup ]; then kill -HUP "$POLRECD_PID"; else ctl reload >/dev/null; fi
	wait_for 5 out_cmp -gt "$n" reloads && return 0
	# Seen now and then under load: a SIGHUP with no reload.  Said, and
	# sent once more, so that the token count is what this tests.
	[ "$1" = hup ] || return 1
	echo "# a SIGHUP not acted on within 5 s; sending another"
	kill -HUP "$POLRECD_PID"
	wait_for 5 out_cmp -gt "$n" reloads
}
check "token at start-up" wait_for 5 log_has 'graph token: acquired'
n0=$(tokens)
check "one token request at start-up ($n0)" test "$n0" -eq 1

ok=0
for i in $(seq 1 25); do
	reload_once hup && ok=$((ok + 1)) || echo "# reload $i by SIGHUP not seen"
	reload_once ctl && ok=$((ok + 1)) || echo "# reload $i by polrecctl not seen"
done
check "50 reloads done (25 SIGHUP, 25 polrecctl reload): $ok" test "$ok" -eq 50
sleep 0.3
check "50 unchanged reloads: no token request ($n0 -> $(tokens))" \
    test "$(tokens)" -eq "$n0"
check "token_fetches still 1" test "$(stat_of token_fetches)" -eq 1
echo "# 50 reloads with unchanged credentials: $(( $(tokens) - n0 )) token requests"

# The file rewritten with the same secret (more lines, a new mtime) is
# the same credential.
printf 'sim-secret\nnot read\n' >"$T/client-secret"
reload_once hup
sleep 0.3
check "secret file rewritten, same secret: no token request" \
    test "$(tokens)" -eq "$n0"

# A broken reload keeps the running configuration and token.
cp "$T/polrecd.conf" "$T/polrecd.conf.good"
echo 'frobnicate = 1' >>"$T/polrecd.conf"
kill -HUP "$POLRECD_PID"
check "a bad configuration is refused on reload" \
    wait_for 5 log_has 'reload of .* failed; keeping the running'
cp "$T/polrecd.conf.good" "$T/polrecd.conf"
# A secret file others may read: the credentials are not loaded.
chmod 644 "$T/client-secret"
kill -HUP "$POLRECD_PID"
check "an unsafe secret file is refused on reload" \
    wait_for 5 log_has 'client-secret: readable by group or others'
chmod 600 "$T/client-secret"
sleep 0.3
check "broken reloads: no token request" test "$(tokens)" -eq "$n0"
f=$(invitation 3f1a0c00-0000-4000-8000-000000000155)
play_files "$f"
check "and invitations are still answered with the token kept" \
    wait_for 5 out_cmp -eq 1 count_requests answer 3f1a0c00-0000-4000-8000-000000000155
check "no token request for that either" test "$(tokens)" -eq "$n0"

# The secret rotated in the app registration and in the file: exactly
# one new token, logged without the secret.
sim_ctl POST /_sim/secret 'rotated-secret-155' >/dev/null
(umask 077; echo rotated-secret-155 >"$T/client-secret")
reload_once ctl
check "the new secret: a new token fetched" \
    wait_for 5 out_cmp -eq 2 grep -c 'graph token: acquired' "$T/polrecd.log"
check "the change is logged" \
    log_has 'credentials changed on reload (secret); fetching a new token'
for i in $(seq 1 10); do reload_once hup; done
sleep 0.3
check "exactly one token request for the change ($n0 -> $(tokens))" \
    test "$(tokens)" -eq $((n0 + 1))
check "none refused by Entra" \
    test "$(sim_ctl GET /_sim/stats | jq -r .token_errors)" -eq 0
check "the secret is in no log line" \
    sh -c "! grep -q rotated-secret-155 '$T/polrecd.log'"
check "SIGTERM: clean exit 0" stop_polrecd
exit $FAILED
