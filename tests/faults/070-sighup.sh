#!/bin/bash
# SIGHUP storms and broken reloads under load: hundreds of SIGHUPs cost
# no Graph token each (credentials unchanged), a bad configuration is
# refused and the old one kept, the fixed one is taken; nothing lost.
set -u
. tests/faults/lib.sh

HUPS=${HUPS:-300}
start_sim
faults_conf
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
start_load "$RATE" "$FAULT_SECONDS"
sleep 1
tokens0=$(sim_ctl GET /_sim/stats | jq .tokens_issued)
for i in $(seq 1 "$HUPS"); do
	kill -HUP "$POLRECD_PID" 2>/dev/null || break
	[ $((i % 20)) -eq 0 ] && sleep 0.05
done
check "polrecd survives $HUPS SIGHUPs" kill -0 "$POLRECD_PID"
sleep 2
tokens1=$(sim_ctl GET /_sim/stats | jq .tokens_issued)
echo "# $HUPS SIGHUPs: $((tokens1 - tokens0)) token requests"
check "SIGHUPs with unchanged credentials fetch no token ($((tokens1 - tokens0)))" \
    test $((tokens1 - tokens0)) -le 1
check "show status answers after the storm" sh -c "build/polrecctl -s '$T/ctl.sock' show status >/dev/null"

# A broken configuration: refused, the running one kept.
cp "$T/polrecd.conf" "$T/polrecd.conf.good"
printf '[graph]\nno_such_directive = 1\n' >>"$T/polrecd.conf"
kill -HUP "$POLRECD_PID"
check "a broken reload is refused and logged" wait_for 5 log_has 'reload.*\(fail\|refus\|error\)'
check "polrecd still runs on the old configuration" kill -0 "$POLRECD_PID"
sleep 1
cp "$T/polrecd.conf.good" "$T/polrecd.conf"
echo "# a changed but valid configuration" >>"$T/polrecd.conf"
n=$(grep -c 'configuration reloaded' "$T/polrecd.log")
kill -HUP "$POLRECD_PID"
check "the fixed configuration is taken" wait_for 5 sh -c "[ \$(grep -c 'configuration reloaded' '$T/polrecd.log') -gt $n ]"
check "the load ran" wait_load
sleep 2
check "polrecd stops cleanly after the storm" stop_polrecd
check "broken reload recorded in the trail" \
    test "$(sqlite3 -readonly "$T/audit.db" "SELECT count(*) FROM audit_event WHERE kind = 'reload' AND outcome = 'failed'")" -ge 1
reconcile_check "$HUPS SIGHUPs and a broken reload"
check "the trail verifies" verify_trail
exit $FAILED
