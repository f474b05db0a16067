#!/bin/bash
# The harness itself: a mixed load with no fault at all must reconcile
# to zeros, and a hand-made loss, duplicate, disagreement and pending leg
# in copies of the database must each be caught.
set -u
. tests/faults/lib.sh

start_sim
faults_conf
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
start_load "$RATE" "$FAULT_SECONDS"
check "the load ran" wait_load
stop_clean
check "some invitations were acknowledged" test "$(acked)" -gt 0
reconcile_check "happy path"
check "the trail verifies" verify_trail

# The harness must catch what it is there to catch: each change below,
# on a copy with the append-only triggers dropped, must fail reconcile
# with its counter up.
mutate() {	# NAME FIELD SQL [REQUESTS]: reconcile must report FIELD > 0
	local name=$1 field=$2 sql=$3 reqs=${4:-$T/graph-requests.jsonl}
	local c="$T/mut-$name.db" rc=0 line n
	cp "$T/audit.db" "$c"
	sqlite3 "$c" "DROP TRIGGER IF EXISTS audit_event_no_update;
	    DROP TRIGGER IF EXISTS audit_event_no_delete; $sql" || return 1
	"$RECONCILE" -l "$T/load.jsonl" -r "$reqs" -d "$c" >"$T/mut-$name.out" 2>&1 || rc=$?
	line=$(head -n 1 "$T/mut-$name.out")
	echo "# $name: $line"
	grep '^# [A-Z]' "$T/mut-$name.out" | head -n 2
	n=$(printf '%s' "$line" | sed -n "s/.* $field=\([0-9]*\).*/\1/p")
	[ "$rc" -eq 1 ] && [ "${n:-0}" -gt 0 ]
}
MSG=$(jq -r 'select(.ev == "final" and .kind == "invitation" and .status == 202) | .msg' \
    "$T/load.jsonl" | head -n 1)
CALL=$(jq -r --arg m "$MSG" 'select(.ev == "final" and .msg == $m) | .call' "$T/load.jsonl")
check "a deleted notification event is lost" mutate lost lost \
    "DELETE FROM audit_event WHERE kind = 'notification' AND msg_id = '$MSG'"
check "a notification recorded twice is duplicated" mutate dupmsg duplicated \
    "INSERT INTO audit_event SELECT (SELECT max(seq) + 1 FROM audit_event), utc_us, mono_us,
     clock_synced, clock_maxerror_us, clock_esterror_us, kind, outcome, reason, call_id,
     chain_id, tenant, policy, paired_recorders, other_recorders, msg_id, http_status,
     graph_code, request_id, latency_us, attempts, detail, key_id, sealed, hash
     FROM audit_event WHERE kind = 'notification' AND msg_id = '$MSG'"
check "a second outcome for a call is duplicated" mutate dupoutcome duplicated \
    "INSERT INTO audit_event (seq, utc_us, mono_us, clock_synced, kind, outcome, call_id, hash)
     VALUES ((SELECT max(seq) + 1 FROM audit_event), 1, 1, 1, 'missed', 'missed', '$CALL', zeroblob(32))"
check "an answer Graph took, recorded failed, disagrees" mutate disagree disagree \
    "UPDATE audit_event SET outcome = 'failed' WHERE kind = 'answer' AND call_id = '$CALL'"
check "a wrong status on a notification disagrees" mutate status disagree \
    "UPDATE audit_event SET http_status = 503 WHERE kind = 'notification' AND msg_id = '$MSG'"
check "an invitation without an outcome is pending" mutate nooutcome pending \
    "DELETE FROM audit_event WHERE kind = 'answer' AND call_id = '$CALL'"
check "a leg row left pending is pending" mutate legpending pending \
    "UPDATE leg_state SET outcome = 'pending' WHERE call_id = '$CALL'"
{ cat "$T/graph-requests.jsonl"; requests_of answer "$CALL"; } >"$T/mut-requests.jsonl"
check "a call answered twice at Graph is duplicated" mutate graphtwice duplicated "" \
    "$T/mut-requests.jsonl"
grep -v "\"call_id\":\"$CALL\"" "$T/graph-requests.jsonl" >"$T/mut-requests2.jsonl"
check "an answer Graph never took, recorded ok, disagrees" mutate graphnever disagree "" \
    "$T/mut-requests2.jsonl"
check "the untouched trail still reconciles" "$RECONCILE" -l "$T/load.jsonl" \
    -r "$T/graph-requests.jsonl" -d "$T/audit.db"
exit $FAILED
