#!/bin/bash
# Outbound requests bounded by [graph] max_connections, here one: an
# answer that has to wait for the connection still goes out inside its
# budget; an answer goes before keepAlives that waited longer; an answer
# whose budget runs out while it waits is never sent, and the leg is
# missed, not taken for an answer Graph may have had.
set -eu
. tests/integration/lib.sh

answered() { grep -q "call $1: answered in" "$T/polrecd.log"; }
stat_ge() { [ "$(stat_of "$1")" -ge "$2" ]; }
# The requests Graph saw, in the order it answered them: "action call".
seen_order() { jq -r '"\(.action) \(.call_id) \(.fault // "-")"' "$T/graph-requests.jsonl"; }

start_sim
write_conf "[graph]
max_connections = 1
[recording]
keepalive_interval = 1"
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
check "outbound counters are in show stats" \
    test "$(stat_of outbound_queued)/$(stat_of outbound_queue_expired)" = 0/0

# 1. Two invitations at once, the first answer held 1 s at Graph: the
# second waits for the one connection and is answered in its budget.
A1=c0750001-0000-4000-8000-000000000001
A2=c0750002-0000-4000-8000-000000000002
sim_ctl POST /_sim/faults '{"action":"answer","delay_ms":1000,"count":1}' >/dev/null
play_files "$(invitation $A1)" "$(invitation $A2)"
check "one connection: both invitations answered" \
    wait_for 8 sh -c "grep -q 'call $A1: answered in' $T/polrecd.log &&
        grep -q 'call $A2: answered in' $T/polrecd.log"
check "one connection: an answer waited for it" stat_ge outbound_waited 1
check "... and nothing ran out of time" test "$(stat_of outbound_queue_expired)" = 0
check "... none missed" test "$(stat_of answers_missed)" = 0
sim_ctl DELETE /_sim/faults >/dev/null

# 2. A keepAlive held 2 s at Graph, the other leg's keepAlive waiting
# behind it, then an invitation: its answer goes first.
wait_for 5 stat_ge keepalives_ok 2
B1=c0750003-0000-4000-8000-000000000003
sim_ctl POST /_sim/faults '{"action":"keepAlive","delay_ms":2000,"count":1}' >/dev/null
check "held keepAlive: another request waits" wait_for 5 stat_ge outbound_queued 1
play_files "$(invitation $B1)"
check "answer behind a held keepAlive: answered" wait_for 6 answered $B1
next=$(seen_order | grep -A1 '^keepAlive .* delay$' | sed -n 2p)
echo "# after the held keepAlive, Graph saw: $next"
check "the answer went before the keepAlive that waited longer" \
    test "$next" = "answer $B1 -"
sim_ctl DELETE /_sim/faults >/dev/null

# 3. A keepAlive held 6 s, past the 2.5 s budget: the answer waiting
# for the connection runs out of time there, is never sent, and the leg
# is missed (no confirmation asked of Graph: nothing went out).
C1=c0750004-0000-4000-8000-000000000004
wait_for 5 out_cmp = 0 stat_of outbound_queued
sim_ctl POST /_sim/faults '{"action":"keepAlive","delay_ms":6000,"count":1}' >/dev/null
check "long-held keepAlive: another request waits" wait_for 5 stat_ge outbound_queued 1
play_files "$(invitation $C1)"
check "answer out of time in the queue: missed" \
    wait_for 6 log_has "call $C1: MISSED"
check "... counted as run out in the queue" stat_ge outbound_queue_expired 1
check "... no outcome check asked of Graph" \
    sh -c "! grep -q 'call $C1: answer cut off' $T/polrecd.log"
check "... the held keepAlive done, nothing waits" wait_for 8 out_cmp = 0 stat_of outbound_queued
sleep 0.3
check "... and never sent, even once the connection was free" \
    test "$(count_requests answer $C1)" = 0
check "polrecd stops cleanly" stop_polrecd
exit $FAILED
