#!/bin/bash
# Control-socket abuse under load: clients that connect and never send,
# clients that send requests and never read, clients that send garbage.
# polrecctl show status must still answer, polrecd's memory stay bounded,
# and the trail reconcile.
set -u
. tests/faults/lib.sh

IDLE=${IDLE:-64} NOREAD=${NOREAD:-4} GARBAGE=${GARBAGE:-8}
RSS_MAX_KB=${RSS_MAX_KB:-262144}
start_sim
faults_conf
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
start_load "$RATE" "$FAULT_SECONDS"
tests/faults/ctl-abuse "$T/ctl.sock" $(( FAULT_SECONDS - 2 )) \
    "$IDLE" "$NOREAD" "$GARBAGE" >"$T/abuse.out" 2>&1 &
ABUSE=$!
sleep 2
worst=0 answered=0 tries=0
while kill -0 "$ABUSE" 2>/dev/null; do
	tries=$((tries + 1))
	if timeout 5 build/polrecctl -s "$T/ctl.sock" show status >/dev/null 2>&1; then
		answered=$((answered + 1))
	fi
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$POLRECD_PID/status" 2>/dev/null || echo 0)
	[ "${rss:-0}" -gt "$worst" ] && worst=$rss
	sleep 1
done
wait "$ABUSE"
cat "$T/abuse.out"
echo "# show status answered $answered of $tries times during the abuse; worst RSS $worst kB"
check "show status answers during the abuse ($answered of $tries)" test "$answered" -eq "$tries"
# A sanitizer's quarantine keeps freed memory: the bound is for the plain build.
if ldd "$POLRECD" 2>/dev/null | grep -q libasan; then
	ok "# SKIP RSS bound under ASan (worst $worst kB)"
else
	check "polrecd's RSS stays under $RSS_MAX_KB kB ($worst)" test "$worst" -lt "$RSS_MAX_KB"
fi
check "show status answers after the abuse" sh -c "timeout 5 build/polrecctl -s '$T/ctl.sock' show status >/dev/null"
check "the load ran" wait_load
sleep 2
stop_clean
reconcile_check "control socket abuse"
check "the trail verifies" verify_trail
exit $FAILED
