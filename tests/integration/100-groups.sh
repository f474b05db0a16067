#!/bin/bash
# Recorder groups (participantCapacity): the join decision is in the
# webhook's response body.  Capacity 3: two joins accepted after the
# invitation's observed participant, the third overflows; a retransmit is
# accepted again with no slot used; a leave frees a slot for the next
# join; a join for an unknown leg, or after the leg ended, is invited to
# the sibling (105-joins has every other decision).
set -eu
. tests/integration/lib.sh
# Participant ids are in the log only with -v (else a keyed hash).
POLRECD_ARGS=-v

CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497

start_sim
AUTH_MODE=none write_conf "[recording]
participant_capacity = 3
overflow = invite
invite_url = https://recorder02.example.com/api/calling"
start_polrecd
wait_for 10 log_has 'graph token: acquired'

check "invitation acknowledged" play_files "$(invitation $CALL)"
check "answered" wait_for 5 log_has "call $CALL: answered in"
check "the answer asks for participantCapacity 3" \
    test "$(requests_of answer $CALL | jq .body.participantCapacity)" = 3

r=$(post "$(join p2)")
check "join 2: 200" test "${r%% *}" = 200
check "join 2: acceptJoinResponse in the body" test "$(verdict "$r")" = "$ACCEPT"
r=$(post "$(join p3)")
check "join 3: accepted (group now 3/3)" test "$(verdict "$r")" = "$ACCEPT"
r=$(post "$(join p4)")
check "join 4: over capacity, inviteNewBotResponse to the sibling" \
    test "$(verdict "$r")" = '{"@odata.type":"#microsoft.graph.inviteNewBotResponse","inviteUri":"https://recorder02.example.com/api/calling"}'
r=$(post "$(join p2)")
check "a retransmitted join is accepted again" test "$(verdict "$r")" = "$ACCEPT"
check "... as before, with no slot used" \
    log_has "call $CALL: join of p2: accept (capacity), as before; group 3/3"
out=$(ctl show calls)
check "show calls shows the group 3/3" \
    sh -c "printf '%s\n' '$out' | grep -qE '^$CALL .* 3/3 '"

r=$(post "$(left p3)")
check "a leave is acknowledged" test "${r%% *}" = 202
check "the leave frees a slot" log_has "call $CALL: p3 left; group 2/3"
r=$(post "$(join p5)")
check "the next join takes the freed slot" test "$(verdict "$r")" = "$ACCEPT"
check "group full again" log_has "call $CALL: join of p5: accept (capacity); group 3/3"

# A participant gone from the roster frees its slot too.
roster() {	# CHANGE SEQUENCE ID...: a participants notification for $CALL
	local change=$1 seq=$2 f="$T/roster-$1-$2.json"
	shift 2
	printf '%s\n' "$@" | jq -R . | jq -s --arg c "$CALL" --arg ch "$change" --argjson s "$seq" '
	  {value: [{changeType: $ch, resourceUrl: "/communications/calls/\($c)/participants",
	    resourceData: [.[] | {"@odata.type": "#microsoft.graph.participant", id: .,
	      info: {identity: {user: {id: .}}}, rosterSequenceNumber: $s}]}]}' >"$f"
	echo "$f"
}
r=$(post "$(roster updated 20 p2 p5)")
check "a roster with p2 and p5 is acknowledged" test "${r%% *}" = 202
r=$(post "$(roster deleted 21 p5)")
check "p5 gone from the roster frees its slot" \
    log_has "call $CALL: 1 left the roster; group 2/3"
r=$(post "$(join p8)")
check "the next join takes that slot" test "$(verdict "$r")" = "$ACCEPT"

INVITE='{"@odata.type":"#microsoft.graph.inviteNewBotResponse","inviteUri":"https://recorder02.example.com/api/calling"}'
r=$(post "$(join p9 c2000000-0000-4000-8000-000000000001)")
check "a join for an unknown leg: invited to the sibling" test "$(verdict "$r")" = "$INVITE"
check "... because the leg is unknown" log_has "join of p9: invite (leg_unknown)"
r=$(post "$(join p6)" application/json -H 'X-Microsoft-Skype-Message-ID: join-msg-1')
r2=$(post "$(join p6)" application/json -H 'X-Microsoft-Skype-Message-ID: join-msg-1')
check "a replayed join message gets the same body" test "$r" = "$r2"
check "counters: 4 accepted, 1 repeat, 2 slots freed" \
    test "$(stat_of joins_accepted) $(stat_of joins_repeated) $(stat_of joins_slots_freed)" = "4 1 2"

# Concurrent joins to a fresh leg: never past capacity.
C3=c3000000-0000-4000-8000-0000000000c3
play_files "$(invitation $C3)" >/dev/null
wait_for 5 log_has "call $C3: answered in"
for i in $(seq 1 20); do join "q$i" $C3 >/dev/null; done
seq 1 20 | xargs -P 10 -I{} sh -c "curl -s -X POST -H 'Content-Type: application/json' \
    --data-binary @$T/join-q{}-$C3.json '$WEBHOOK'; echo" >"$T/concurrent.out"
check "20 concurrent joins at capacity 3: exactly 2 accepted" \
    test "$(grep -o acceptJoinResponse "$T/concurrent.out" | wc -l)" = 2
check "... and the other 18 invited elsewhere" \
    test "$(grep -o inviteNewBotResponse "$T/concurrent.out" | wc -l)" = 18

sim_ctl POST /_sim/calls/end "{\"id\":\"$CALL\"}" >/dev/null
check "the leg ends" wait_for 5 log_has "call $CALL: ended"
r=$(post "$(join p7)")
check "a join after the leg ended: invited to the sibling" test "$(verdict "$r")" = "$INVITE"
check "... because the leg ended" log_has "join of p7: invite (leg_ended)"
check "polrecd stops cleanly" stop_polrecd
exit $FAILED
