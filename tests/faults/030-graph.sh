#!/bin/bash
# Graph refusing (403), failing (503), slow (2 s per answer) and slower
# than the budget (3 s: attempts cut at the budget while Graph still
# takes them) and throttling (429 with
# Retry-After), each for a phase of a mixed load.  Each phase has its own
# load log and its own reconcile: every invitation's outcome in the trail
# must be what Graph saw.
set -u
. tests/faults/lib.sh

PHASE=$(( FAULT_SECONDS / 5 > 3 ? FAULT_SECONDS / 5 : 3 ))
start_sim
faults_conf
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'

phase() {	# NAME FAULT_JSON
	LOADLOG=$T/load-$1.jsonl
	sim_ctl POST /_sim/faults "$2" >/dev/null || not_ok "fault $1 armed"
	start_load "$RATE" "$PHASE" -m 80,5,5,10
	wait_load || not_ok "load $1 ran"
	sim_ctl DELETE /_sim/faults >/dev/null
	# Past the answer budget: no attempt of this phase meets the next.
	sleep 4
	echo "# $1: $(acked) acknowledged; not: $(finals_not_2xx)"
}
phase refusing '{"action":"answer","status":403,"count":1000000}'
phase failing '{"action":"answer","status":503,"count":1000000}'
phase slow '{"action":"answer","delay_ms":2000,"count":1000000}'
phase past-budget '{"action":"answer","delay_ms":3000,"count":1000000}'
phase throttling '{"action":"answer","status":429,"retry_after":1,"count":1000000}'
stop_clean
for p in refusing failing slow past-budget throttling; do
	LOADLOG=$T/load-$p.jsonl
	reconcile_check "Graph $p"
done
echo "# answer statuses at Graph (whole run): $(jq -r 'select(.action == "answer") | .status' \
    "$T/graph-requests.jsonl" | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')"
check "the trail verifies" verify_trail
exit $FAILED
