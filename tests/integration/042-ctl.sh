#!/bin/bash
# polrecctl as an operator meets it: every command against a real
# polrecd and the simulator, the exit codes (0 ok, 1 command failed,
# 2 usage, 3 polrecd not reachable), errors as JSON with -j, help, -h,
# -V, options after the command, a failed -f, show status's clock,
# latency, keys and checkpoints, show call, and monitor seeing a
# decision as it is made.
. tests/integration/lib.sh

CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497
PCTL=build/polrecctl
# run CMD...: its exit code in $RC, stdout in $out, stderr in $T/err.
run() { out=$("$@" 2>"$T/err"); RC=$?; }
err_has() { grep -q -- "$1" "$T/err"; }

# Without a daemon: usage, help, version, the config and the socket.
run $PCTL help
check "help: exit 0" test $RC = 0
check "help lists show call" out_has '^  show call ID '
check "help lists monitor" out_has '^  monitor '
run $PCTL -h
check "-h: the same, exit 0" test $RC = 0
run $PCTL --help
check "--help: exit 0" test $RC = 0
check "help -j: JSON with every command" \
    test "$($PCTL -j help | jq '.commands | length')" -ge 15
run $PCTL -V
check "-V: exit 0" test $RC = 0
check "-V prints the version" out_has '^polrecctl [0-9]'
run $PCTL --version
check "--version: exit 0" test $RC = 0
run $PCTL
check "no command: exit 2" test $RC = 2
run $PCTL -Z show status
check "unknown option: exit 2" test $RC = 2
run $PCTL shwo calls
check "shwo calls: exit 2" test $RC = 2
check "shwo calls: the real commands listed" err_has 'commands: show, monitor'
run $PCTL sh stat
check "sh stat: ambiguous, exit 2" test $RC = 2
check "sh stat: names both" err_has 'show status, show stats'
run $PCTL show
check "show: incomplete, exit 2" test $RC = 2
check "show: its continuations" err_has 'one of: show status, show stats, show calls, show call ID'
run $PCTL audit prune
check "audit prune without a time: exit 2" test $RC = 2
check "audit prune without a time: says a TIME is needed" err_has 'audit prune needs a TIME'
run $PCTL show status now
check "show status extra: exit 2" test $RC = 2
check "show status extra: names it" err_has 'unexpected argument "now"'
check "-j usage error: JSON on stdout" \
    test "$($PCTL -j shwo calls | jq -r .error.code)" = 2
check "-j usage error: the message" \
    sh -c "$PCTL -j shwo calls | jq -r .error.message | grep -q 'unknown command'"
run $PCTL -f "$T/nonexistent.conf" show status
check "-f nonexistent: exit 1" test $RC = 1
check "-f nonexistent: the file named, no socket talk" \
    sh -c "grep -q 'cannot use the configuration file $T/nonexistent.conf' '$T/err' && ! grep -q 'cannot connect' '$T/err'"
printf '[bogus\n' >"$T/broken.conf"
run $PCTL --config "$T/broken.conf" show status
check "-f unparsable: exit 1" test $RC = 1
check "-f unparsable: the file named" err_has "configuration file $T/broken.conf"
if [ "$(id -u)" -ne 0 ]; then
	cp "$T/broken.conf" "$T/unreadable.conf"; chmod 000 "$T/unreadable.conf"
	run $PCTL -f "$T/unreadable.conf" show status
check "-f unreadable: exit 1" test $RC = 1
	check "-f unreadable: says so" err_has 'ermission denied'
fi
check "-j -f nonexistent: JSON error code 1" \
    test "$($PCTL -j -f "$T/nonexistent.conf" show status | jq -r .error.code)" = 1
run $PCTL -s "$T/none.sock" show status
check "no daemon: exit 3" test $RC = 3
check "no daemon: says it cannot connect" err_has "cannot connect to polrecd at $T/none.sock"
check "no daemon, -j after the command: JSON code 3" \
    test "$($PCTL show status -j --socket "$T/none.sock" | jq -r .error.code)" = 3
run $PCTL -s "$T/none.sock" drain on
check "no daemon: drain on exit 3" test $RC = 3
run $PCTL -s "$T/none.sock" reload
check "no daemon: reload exit 3" test $RC = 3
run $PCTL -s "$T/none.sock" monitor
check "no daemon: monitor exit 3" test $RC = 3
run $PCTL audit verify --database "$T/none.db" --key "$T/none.pub"
check "offline: audit verify of a missing database exit 1" test $RC = 1
check "offline -j: JSON error" \
    test "$($PCTL -j audit checkpoint --database "$T/none.db" | jq -r .error.code)" = 1
run $PCTL audit export --bogus
check "offline: unknown option exit 2" test $RC = 2

start_sim
write_conf "[recording]
keepalive_interval = 60"
start_polrecd
wait_keys
CTL="$PCTL -s $T/ctl.sock"

# monitor: subscribed before the invitation, one line per decision.
$CTL monitor >"$T/monitor.out" 2>"$T/monitor.err" &
MON=$!
$CTL -j monitor >"$T/monitor.json" 2>&1 &
MONJ=$!
wait_for 5 sh -c "$CTL -j show stats | jq -e '.control_clients >= 3' >/dev/null"

run $CTL show status
check "show status: exit 0" test $RC = 0
check "show status: clock_synced" out_has '^clock_synced  *\(yes\|no\)$'
check "show status: clock_maxerror_ms" out_has '^clock_maxerror_ms  *[0-9-]'
check "show status: answer latency p50, p99" \
    sh -c "printf '%s\n' \"\$1\" | grep -q '^answer_latency_p50_ms' && printf '%s\n' \"\$1\" | grep -q '^answer_latency_p99_ms'" _ "$out"
check "show status: JWKS age" out_has '^jwks_age_seconds  *[0-9]'
check "show status: audit key age" out_has '^audit_key_age_days  *0$'
check "show status: checkpoint seq" out_has '^checkpoint_seq  *[0-9]'
check "show status: witness not configured" out_has '^witness  *not configured$'
check "show status: tenants table kept" out_has '^TENANT '
check "show status: alarms kept" sh -c "printf '%s\n' \"\$1\" | grep -q '^alarms\|^ALARM'" _ "$out"
check "show status -j after the command: JSON" \
    test "$($CTL show status -j | jq -r .clock_synced)" != null
check "show stats -j: JSON (options after the command)" \
    test "$($PCTL show stats -j -s "$T/ctl.sock" | jq -r .invitations_received)" = 0
run $PCTL --socket="$T/ctl.sock" show stats
check "--socket=PATH form" test $RC = 0
run $PCTL --config "$T/polrecd.conf" show stats
check "--config PATH: socket from the file" test $RC = 0

play_files "$PWD/tests/scenarios/notifications/example3-invitation.json"
check "the invitation is answered" \
    wait_for 5 log_has "call $CALL: answered in"
check "monitor: a line for the decision" \
    wait_for 5 grep -q "$CALL  invitation answer" "$T/monitor.out"
check "monitor: a line for the answer's outcome" \
    wait_for 5 grep -q "$CALL  answer " "$T/monitor.out"
check "monitor -j: JSON lines" \
    wait_for 5 sh -c "jq -r 'select(.kind == \"invitation\") | .outcome' '$T/monitor.json' | grep -q answer"
check "monitor: no personal data (no participant ids)" \
    sh -c "! grep -q -i 'participant\|userId\|8d6b2a4b' '$T/monitor.out' '$T/monitor.json'"
sed 's/^/# monitor: /' "$T/monitor.out" | head -n 5

check "show status: latency counted" \
    test "$($CTL -j show status | jq -r .answers_5min)" -ge 1
check "show status: p99 a number" \
    test "$($CTL -j show status | jq -r '.answer_latency_p99_ms | type')" = number
echo "# answer latency: p50 $($CTL -j show status | jq .answer_latency_p50_ms) ms, p99 $($CTL -j show status | jq .answer_latency_p99_ms) ms"

run $CTL show call $CALL
check "show call: exit 0" test $RC = 0
check "show call: state" out_has '^state  *established\|^state  *'
check "show call: decision answer" out_has '^decision  *answer$'
check "show call: tenant" out_has "^tenant  *$TENANT_ID$"
check "show call: group" out_has '^group_capacity  *[0-9]'
check "show call: keep-alive" out_has '^keepalive_in_seconds  *[0-9]'
check "show call: trail events (invitation)" \
    wait_for 5 sh -c "$CTL show call $CALL | grep -q '^ *[0-9][0-9]*  .*  invitation  *answer$'"
check "show call -j: events with seq, kind, outcome, time" \
    test "$($CTL -j show call $CALL | jq -r '.events[0] | has("seq") and has("kind") and has("outcome") and has("time")')" = true
run $CTL sh cal $CALL
check "show cal ID: prefix resolves to show call" test $RC = 0
run $CTL show call no-such-call
check "show call unknown: exit 1" test $RC = 1
check "show call unknown: says so" err_has 'no call no-such-call'
check "show call unknown -j: JSON code 1" \
    test "$($CTL -j show call no-such-call | jq -r .error.code)" = 1
run $CTL show calls
check "show calls: exit 0" test $RC = 0
check "show calls: the call" out_has "^$CALL "

run $CTL drain on
check "drain on: exit 0" test $RC = 0
check "drain on: draining yes" out_has '^draining  *yes$'
check "monitor: control events not pushed (no call)" \
    sh -c "! grep -q 'drain' '$T/monitor.out'"
run $CTL drain off
check "drain off: exit 0" test $RC = 0

run $CTL reload
check "reload: exit 0" test $RC = 0
check "reload: names the file" out_has "^reloaded  *$T/polrecd.conf$"
cp "$T/polrecd.conf" "$T/polrecd.conf.good"
printf '[http]\nbogus_directive = 1\n' >>"$T/polrecd.conf"
run $CTL reload
check "reload of a bad file: exit 1" test $RC = 1
check "reload of a bad file: says why" err_has 'bogus_directive'
check "reload of a bad file -j: JSON with why" \
    sh -c "$CTL -j reload | jq -r .error.message | grep -q bogus_directive"
cp "$T/polrecd.conf.good" "$T/polrecd.conf"
run $CTL show status
check "still answers after the failed reload" test $RC = 0

run $CTL audit prune 2099-01-01
check "audit prune of the future: exit 1 (refused)" test $RC = 1
run $CTL audit prune yesterday
check "audit prune of a non-time: exit 1" test $RC = 1
run $CTL audit prune 2000-01-01
check "audit prune 2000-01-01: exit 0" test $RC = 0
check "audit prune: removed and before" \
    sh -c "printf '%s\n' \"\$1\" | grep -q '^removed  *0$' && printf '%s\n' \"\$1\" | grep -q '^before  *2000-01-01T00:00:00Z$'" _ "$out"
run $CTL audit acknowledge 1
check "audit acknowledge without an alarm: exit 1" test $RC = 1
check "audit acknowledge -j: JSON error" \
    test "$($CTL -j audit acknowledge 1 | jq -r .error.code)" = 1

# A monitor that never reads is dropped, the others are not.
payload='{"argv":["monitor"]}'
frame=$(printf '\\000\\000\\000\\001\\000\\000\\000\\%03o\\000\\001\\000\\000%s' "${#payload}" "$payload")
(printf "$frame"; sleep 30) | timeout 40 socat -u - "UNIX-CONNECT:$T/ctl.sock" 2>/dev/null &
SLOW=$!
sleep 0.5
# Many decisions: busy rejects while draining, each a monitor line.
$CTL drain on >/dev/null
files=
for i in $(seq 1 600); do files="$files $(invitation $(printf 'aaaaaaaa-0000-0000-0000-%012d' $i))"; done
play_files $files
check "a monitor not reading is dropped" \
    wait_for 20 log_has 'monitor uid .* does not keep up; dropped'
check "the reading monitor is still there" kill -0 $MON
check "... and saw the rejects" \
    wait_for 10 sh -c "grep -c 'invitation busy' '$T/monitor.out' | grep -q '^[0-9]\{2,\}'"
kill $SLOW 2>/dev/null; wait $SLOW 2>/dev/null
$CTL drain off >/dev/null

check "SIGTERM: clean exit 0" stop_polrecd
wait $MON
check "monitor: exit 3 when polrecd goes away" test $? -eq 3
wait $MONJ 2>/dev/null
run $CTL show status
check "after stop: show status exit 3" test $RC = 3
exit $FAILED
