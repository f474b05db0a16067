# Under systemd: a unix datagram socket stands in for systemd's
# notification socket.  READY=1 comes after the listener, the signing
# keys and the Graph token; STATUS= lines; RELOADING=1 (with
# MONOTONIC_USEC=) then READY=1 around polrecctl reload and SIGHUP;
# STOPPING=1 at SIGTERM; WATCHDOG=1 at half WATCHDOG_USEC, and none from
# a stopped loop.  Without Graph, READY=1 after [admin] ready_wait, with
# STATUS= saying what is missing.  Logs to a stand-in for the journal
# carry the call id as POLREC_CALL_ID=.
. tests/integration/lib.sh

SINK=build/tools/dgramsink
SINK_PIDS=
sink() {
	"$SINK" "$T/$1.sock" >"$T/$1.out" 2>&1 &
	SINK_PIDS="$SINK_PIDS $!"
	wait_for 5 test -S "$T/$1.sock"
}
stop_sinks() { for p in $SINK_PIDS; do kill "$p" 2>/dev/null; done; SINK_PIDS=; }
trap 'stop_sinks; cleanup' EXIT
note() { grep -c -- "$1" "$T/notify.out" || true; }
# note_cmp PATTERN OP N: counted afresh each time wait_for tries.
note_cmp() { test "$(note "$1")" "$2" "$3"; }
# stamp FILE PATTERN: the time stamp of the first line matching.
stamp() { grep -m 1 -- "$2" "$1" | cut -d' ' -f1; }
not_before() { [ ! "$1" \< "$2" ]; }

start_sim
write_conf "[admin]
ready_wait = 20s"
sink notify
export NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000
start_polrecd
check "READY=1 sent" wait_for 10 grep -q 'READY=1' "$T/notify.out"
ready=$(stamp "$T/notify.out" 'READY=1')
check "READY=1 ($ready) after listening on" \
    not_before "$ready" "$(stamp "$T/polrecd.log" 'listening on')"
check "READY=1 after the signing keys" \
    not_before "$ready" "$(stamp "$T/polrecd.log" 'signing keys: .* loaded')"
check "READY=1 after the Graph token" \
    not_before "$ready" "$(stamp "$T/polrecd.log" 'graph token: acquired')"
check "READY=1 once" test "$(note 'READY=1')" -eq 1
check "READY=1 says answering; 0 live calls" \
    grep -q 'READY=1|STATUS=answering; 0 live calls' "$T/notify.out"

# A live call shows in STATUS=.
CALL=5a1e0300-aaaa-4d99-b5f4-2722e877d497
play_files "$(invitation $CALL)"
check "STATUS=answering; 1 live call" \
    wait_for 5 grep -q 'STATUS=answering; 1 live call\(;\|$\)' "$T/notify.out"

# Watchdog: every 200 ms (WATCHDOG_USEC 400 ms).
w0=$(note WATCHDOG=1); sleep 2; w1=$(note WATCHDOG=1)
n=$((w1 - w0))
echo "# $n WATCHDOG=1 in 2 s (expected 10)"
check "WATCHDOG=1 at half WATCHDOG_USEC ($n in 2 s)" \
    test "$n" -ge 8 -a "$n" -le 12

# A stuck loop sends none.
kill -STOP "$POLRECD_PID"
sleep 0.3; w0=$(note WATCHDOG=1); sleep 1; w1=$(note WATCHDOG=1)
check "a stopped loop: no WATCHDOG=1 ($((w1 - w0)))" test "$w1" -eq "$w0"
kill -CONT "$POLRECD_PID"
check "pings again once it runs" wait_for 2 note_cmp WATCHDOG=1 -gt "$w1"

# Reloads: RELOADING=1 with MONOTONIC_USEC=, then READY=1.
ctl reload >/dev/null
check "polrecctl reload: RELOADING=1 with MONOTONIC_USEC=" \
    wait_for 5 grep -q 'RELOADING=1|MONOTONIC_USEC=[0-9][0-9]*|' "$T/notify.out"
check "polrecctl reload: then READY=1" wait_for 5 note_cmp 'READY=1' -eq 2
kill -HUP "$POLRECD_PID"
check "SIGHUP: RELOADING=1" wait_for 5 note_cmp 'RELOADING=1' -eq 2
check "SIGHUP: then READY=1" wait_for 5 note_cmp 'READY=1' -eq 3
grep -E 'RELOADING=1|READY=1' "$T/notify.out" | sed 's/^[^ ]* //' | cut -c1-11 \
    | tr '\n' ' ' >"$T/order"
check "each RELOADING=1 followed by READY=1 ($(cat "$T/order"))" \
    test "$(cat "$T/order")" = "READY=1|STA RELOADING=1 READY=1|STA RELOADING=1 READY=1|STA "
cp "$T/polrecd.conf" "$T/polrecd.conf.good"
echo 'frobnicate = 1' >>"$T/polrecd.conf"
ctl reload >/dev/null 2>&1
check "a failed reload: READY=1 and STATUS= says so" \
    wait_for 5 grep -q 'READY=1|STATUS=answering.*reload failed' "$T/notify.out"
cp "$T/polrecd.conf.good" "$T/polrecd.conf"

check "SIGTERM: exit 0" stop_polrecd
check "STOPPING=1 at SIGTERM" grep -q 'STOPPING=1|STATUS=stopping' "$T/notify.out"
check "no WATCHDOG=1 after STOPPING=1" \
    sh -c "! sed -n '/STOPPING=1/,\$p' '$T/notify.out' | grep -q 'RELOADING\|READY'"

# Logs to the journal: stderr is the journal's stream (JOURNAL_STREAM),
# the native socket a stand-in.  Without NOTIFY_SOCKET nothing notifies.
unset NOTIFY_SOCKET WATCHDOG_USEC
sink journal
: >"$T/j-stderr.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/j-stderr.log") \
POLREC_JOURNAL_SOCKET="$T/journal.sock" \
    "$POLRECD" -d -f "$T/polrecd.conf" 2>>"$T/j-stderr.log" &
POLRECD_PID=$!
check "journal: listening on, as a journal entry" \
    wait_for 10 grep -q 'MESSAGE=.*listening on' "$T/journal.out"
POLRECD_ADDR=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' \
    "$T/journal.out" | tail -n 1)
WEBHOOK="http://$POLRECD_ADDR/api/calling"
wait_for 10 grep -q 'signing keys: .* loaded' "$T/journal.out"
CALL2=5a1e0300-bbbb-4d99-b5f4-2722e877d497
play_files "$(invitation $CALL2)"
check "journal: PRIORITY=, SYSLOG_IDENTIFIER=polrecd" \
    grep -q '^[^ ]* PRIORITY=6|SYSLOG_FACILITY=3|SYSLOG_IDENTIFIER=polrecd|' "$T/journal.out"
check "journal: a line about a call has POLREC_CALL_ID=" \
    wait_for 5 grep -q "POLREC_CALL_ID=$CALL2|MESSAGE=call $CALL2: " "$T/journal.out"
check "journal: a line about no call has none" \
    sh -c "! grep 'listening on' '$T/journal.out' | grep -q POLREC_CALL_ID"
check "journal: nothing on stderr" test ! -s "$T/j-stderr.log"
check "journal: no participant id at the default level" \
    sh -c "! grep -q 'observed [0-9a-f-]\{36\}' '$T/journal.out'"
kill -TERM "$POLRECD_PID"; wait "$POLRECD_PID"; POLRECD_PID=

# No Graph: READY=1 after ready_wait, STATUS= says what is missing.
kill -TERM "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
sed -i 's/^ready_wait = .*/ready_wait = 2s/' "$T/polrecd.conf"
sink notify2
export NOTIFY_SOCKET="$T/notify2.sock"
start_polrecd
t0=$(date +%s.%N)
check "no Graph: STATUS=starting says what is missing" \
    wait_for 3 grep -q 'STATUS=starting: .*no signing keys yet.*no Graph token' "$T/notify2.out"
check "no Graph: READY=1 after ready_wait" wait_for 5 grep -q 'READY=1' "$T/notify2.out"
t1=$(date +%s.%N)
echo "# READY=1 without Graph after $(echo "$t1 - $t0" | bc) s (ready_wait 2 s)"
check "no Graph: READY=1 with STATUS=not answering" \
    grep -q 'READY=1|STATUS=not answering: .*tenant .*: no Graph token' "$T/notify2.out"
check "no Graph: said in the log" log_has 'systemd: ready after 2 s without answering'
check "no Graph: SIGTERM exit 0" stop_polrecd
exit $FAILED
