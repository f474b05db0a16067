# The control socket: polrecctl show status / show stats against the real
# daemon, prefix matching, -j, usage errors, mode 0660, and a second
# daemon refused while the first answers.
. tests/integration/lib.sh

CTL="build/polrecctl -s $T/ctl.sock"
AUTH_MODE=none write_conf
start_polrecd

check "mode none: warning logged at start-up" \
    log_has 'mode = none: notifications are NOT authenticated'
out=$($CTL show status)
check "show status: exit 0" test $? -eq 0
check "show status: auth_mode none" out_has '^auth_mode  *none$'
check "show status: authenticated no" out_has '^authenticated  *no$'
check "show status: version" out_has '^version  *0\.'
out=$($CTL -j sh statu)
check "prefix 'sh statu' with -j: JSON" out_has '"auth_mode":"none"'

r=$(post tests/scenarios/notifications/example3-invitation.json)
check "an invitation posted: 202" test "${r%% *}" = 202
out=$($CTL -j show stats)
check "show stats counts it" out_has '"invitations_received":1'

$CTL sh st >/dev/null 2>"$T/err"
check "ambiguous prefix: exit 2" test $? -eq 2
check "ambiguous prefix: lists the commands" grep -q 'show status' "$T/err"
$CTL frobnicate >/dev/null 2>&1
check "unknown command: exit 2" test $? -eq 2
build/polrecctl -s "$T/none.sock" show status >/dev/null 2>&1
check "no daemon: exit 3" test $? -eq 3
check "socket is mode 0660" test "$(stat -c %a "$T/ctl.sock")" = 660

# A second daemon on the same socket is refused.
"$POLRECD" -d -f "$T/polrecd.conf" 2>"$T/second.log"
check "second daemon refused: exit 1" test $? -eq 1
check "second daemon says why" grep -q 'another polrecd answers on it' "$T/second.log"
check "first daemon still answers" sh -c "$CTL show status >/dev/null"

# Garbage on the socket: an error frame back, the connection closed, and
# the daemon keeps serving.
printf 'GARBAGEGARBAGEGARBAGE' |
    timeout 5 socat -t 2 - "UNIX-CONNECT:$T/ctl.sock" >"$T/garbage.out" 2>&1
check "garbage: closed by the daemon, not by the timeout" test $? -eq 0
check "garbage: an error frame naming the problem" \
    grep -q 'protocol version mismatch' "$T/garbage.out"
# A header announcing a huge payload, then silence: refused at once.
printf '\0\0\0\001\377\377\377\377\0\001\0\0' |
    timeout 5 socat -t 2 - "UNIX-CONNECT:$T/ctl.sock" >"$T/huge.out" 2>&1
check "oversized frame refused" grep -q 'message too long' "$T/huge.out"
check "still answers after garbage" sh -c "$CTL show status >/dev/null"

# A client that sends requests and never reads its replies: replies wait
# up to a cap, its requests are then not read, and it is dropped.
payload='{"argv":["show","stats"]}'
frame=$(printf '\\000\\000\\000\\001\\000\\000\\000\\%03o\\000\\001\\000\\000%s' "${#payload}" "$payload")
for i in $(seq 1 1000); do printf "$frame"; done >"$T/frames1k"
for i in $(seq 1 100); do cat "$T/frames1k"; done >"$T/frames"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$POLRECD_PID/status"; }
rss0=$(rss)
(cat "$T/frames"; sleep 14) | timeout 20 socat -u - "UNIX-CONNECT:$T/ctl.sock" 2>/dev/null &
reader=$!
sleep 3
rss1=$(rss)
echo "# a client not reading 100,000 replies (150 MB): polrecd RSS ${rss0} kB before, ${rss1} kB after 3 s"
# A sanitizer's quarantine keeps freed memory: the bound is for the
# plain build.
if ldd "$POLRECD" | grep -q libasan; then
	ok "its replies are bounded: # SKIP under AddressSanitizer ($(( (rss1 - rss0) / 1024 )) MB)"
else
	check "its replies are bounded: RSS grew by less than 32 MB ($(( (rss1 - rss0) / 1024 )) MB)" \
	    test $((rss1 - rss0)) -lt 32768
fi
check "polrecctl still answers meanwhile" sh -c "$CTL show status >/dev/null"
check "it is dropped for not reading" wait_for 15 log_has 'did not read its replies'
wait $reader 2>/dev/null || true

# 70 idle clients cannot lock the operator out.
idle=
for i in $(seq 1 70); do
	sleep 20 | socat -u - "UNIX-CONNECT:$T/ctl.sock" 2>/dev/null &
	idle="$idle $!"
done
sleep 1
check "with 70 idle clients connected, polrecctl still answers" \
    sh -c "$CTL show status >/dev/null"
check "... the idle longest made room" log_has 'the one idle longest'
kill $idle 2>/dev/null || true
wait $idle 2>/dev/null || true
check "SIGTERM: clean exit 0" stop_polrecd
check "socket removed on exit" test ! -e "$T/ctl.sock"
exit $FAILED
