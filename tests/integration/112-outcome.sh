#!/bin/bash
# One true outcome per invitation across kill -9: an answer in flight at
# the kill that Graph took is learnt from Graph after the restart (GET)
# and the leg taken over fully (group, keep-alive); one Graph never took
# is answered anew when Teams sends the invitation again, or recorded
# missed when it does not.  A re-sent invitation after a live miss is
# answered.  No leg ends pending; each answer is recorded once.
set -eu
. tests/integration/lib.sh

A=a1000000-0000-4000-8000-00000000000a	# Graph takes it, late
B=b1000000-0000-4000-8000-00000000000b	# never reaches Graph; sent again
C=c1000000-0000-4000-8000-00000000000c	# never reaches Graph; not again
D=d1000000-0000-4000-8000-00000000000d	# missed live, then sent again
kill9() {
	kill -9 "$POLRECD_PID"
	wait "$POLRECD_PID" 2>/dev/null || true
	POLRECD_PID=
}
q() { sqlite3 "$T/audit.db" "$1"; }
outcomes_of() { q "SELECT group_concat(kind || ':' || outcome, ' ') FROM
    (SELECT kind, outcome FROM audit_event WHERE call_id = '$1' AND
    kind IN ('answer', 'reject', 'missed') ORDER BY seq)"; }

start_sim
AUTH_MODE=none write_conf "[recording]
participant_capacity = 3
keepalive_interval = 60"
start_polrecd
wait_for 10 log_has 'graph token: acquired'

# A: held 3 s at Graph, then taken.  B, C: held, then dropped untaken.
sim_ctl POST /_sim/faults '{"action":"answer","delay_ms":3000,"count":1}' >/dev/null
play_files "$(invitation $A)"
wait_for 5 log_has "call $A: invitation .*: decided answer"
sim_ctl POST /_sim/faults '{"action":"answer","delay_ms":3000,"drop":true,"count":2}' >/dev/null
play_files "$(invitation $B)" "$(invitation $C)"
wait_for 5 log_has "call $C: invitation .*: decided answer"
sleep 0.5	# the three answers are held at Graph
kill9
ok "polrecd killed with SIGKILL while three answers were in flight"
check "the legs were stored undecided before the answers went out" \
    test "$(q "SELECT group_concat(outcome) FROM leg_state WHERE call_id IN ('$A', '$B', '$C')")" = pending,pending,pending

start_polrecd
check "after the restart, Graph is asked what became of them" \
    wait_for 5 log_has "call $A: not settled before the restart: no clear word on the answer; asking Graph"
check "A: Graph took the late answer; the leg is taken over" \
    wait_for 10 log_has "call $A: answered, as Graph says; taking the leg over"
g=$(ctl -j show calls | jq -r --arg c $A '.calls[] | select(.id == $c) | "\(.outcome) \(.group_used)/\(.group_capacity)"')
check "A: its recorder group exists, with the capacity answered ($g)" test "$g" = "answered 1/3"
r=$(post "$(join p2 $A)")
check "A: a join is accepted (not refused as leg_not_answered)" test "$(verdict "$r")" = "$ACCEPT"
kept_alive() { [ "$(count_requests keepAlive $A)" -ge 1 ]; }
check "A: kept alive at once" wait_for 5 kept_alive

# Teams sends B again, inside its window: answered anew.
play_files "$(invitation $B)"
check "B: the re-sent invitation is answered anew, not dropped" \
    wait_for 5 log_has "call $B: invitation again .* answering it anew"
check "B: answered" wait_for 5 log_has "call $B: answered in"
check "C: never sent again: missed once Graph shows it still ringing past the window" \
    wait_for 25 log_has "call $C: MISSED: Graph says the answer did not take"

# Acknowledged just before a kill -9 (Teams may never have seen the 202):
# sent again after the restart, it is answered as before, not recorded
# as received twice.
s=$(play_one "$(invitation e1000000-0000-4000-8000-00000000000e)" acked-then-killed)
check "an invitation is acknowledged ($s)" test "$s" = 202
kill9
start_polrecd
check "the acknowledged message ids are restored" log_has 'replays: .* acknowledged before the restart'
s=$(play_one "$(invitation e1000000-0000-4000-8000-00000000000e)" acked-then-killed)
check "sent again after the restart: answered as before ($s)" test "$s" = 202
check "... as a replay, not acted on again" log_has 'msg acked-then-killed: replayed; answered as before'

# A join acknowledged just before a kill -9, sent again: the same decision
# back, as a replay, not decided or recorded a second time.
jpost() { curl -s -o "$T/jresp" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "X-Microsoft-Skype-Message-ID: $2" --data-binary "@$1" "$WEBHOOK"; echo " $(cat "$T/jresp")"; }
r1=$(jpost "$(join p8 $A)" join-then-killed)
check "a join is accepted ($r1)" test "$(verdict "$r1")" = "$ACCEPT"
kill9
start_polrecd
r2=$(jpost "$(join p8 $A)" join-then-killed)
check "sent again after the restart: the same decision back" test "$r2" = "$r1"
check "... as a replay" log_has 'msg join-then-killed: replayed; answered as before (200)'

# D: Graph refuses (503) until the budget is gone: missed; Teams sends it
# again and it is answered.
stop_polrecd
AUTH_MODE=none write_conf "[recording]
participant_capacity = 3
keepalive_interval = 60
answer_budget_ms = 700"
start_polrecd
sim_ctl POST /_sim/faults '{"action":"answer","status":503,"count":1000}' >/dev/null
play_files "$(invitation $D)"
check "D: missed in the budget" wait_for 5 log_has "call $D: MISSED"
sim_ctl DELETE /_sim/faults >/dev/null
play_files "$(invitation $D)"
check "D: sent again after the miss: answered" wait_for 5 log_has "call $D: answered in"
check "the re-sent invitations are counted" test "$(stat_of invitations_reopened)" -ge 1
stop_polrecd

check "A: one outcome in the trail, answer ok" test "$(outcomes_of $A)" = "answer:ok"
check "B: one outcome in the trail, answer ok" test "$(outcomes_of $B)" = "answer:ok"
check "C: one outcome in the trail, missed" test "$(outcomes_of $C)" = "missed:missed"
check "D: missed, then answered on the re-sent invitation" \
    test "$(outcomes_of $D)" = "missed:missed answer:ok"
check "each call answered once at Graph" test "$(jq -r 'select(.action == "answer" and .status == 202) | .call_id' "$T/graph-requests.jsonl" | sort | uniq -d)" = ""
check "the message acknowledged before the kill is recorded accepted once" \
    test "$(q "SELECT group_concat(outcome) FROM audit_event WHERE kind = 'notification' AND msg_id = 'acked-then-killed'")" = accepted,replayed
check "the join acknowledged before the kill is recorded accepted once" \
    test "$(q "SELECT group_concat(outcome) FROM audit_event WHERE kind = 'notification' AND msg_id = 'join-then-killed'")" = accepted,replayed
check "no leg ends pending" test "$(q "SELECT count(*) FROM leg_state WHERE outcome = 'pending'")" = 0
check "the trail verifies" sh -c "build/polrecctl -f $T/polrecd.conf audit verify >$T/verify.out 2>&1"
exit $FAILED
