#!/bin/bash
# A call leg's life after the answer: establishing and established (in
# order and out of order), recording status following real capture (an
# external capture source with service-hosted media, the media agent with
# app-hosted media), keepAlive (and its 404), rosters, Graph ending the
# call with resultInfo as numbers or strings.  095-recording has the
# cases where nothing captures, Graph refuses the status, or the call is
# on hold before it is established.
set -eu
. tests/integration/lib.sh

CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497
EX3="$PWD/tests/scenarios/notifications/example3-invitation.json"
state_is() { grep -q "call $1: $2\$" "$T/polrecd.log"; }
rec_requests() { requests_of updateRecordingStatus "$1" | jq -r .body.status | paste -sd, -; }
rec_is() { [ "$(rec_requests "$1")" = "$2" ]; }
count_is() { [ "$(count_requests "$1" "$2")" "$3" "$4" ]; }
# An external capture source (service-hosted media) reports capture, as
# the simulator's agent, to polrecd's media events endpoint.
capture() {
	sim_ctl POST /_sim/media "{\"id\":\"$1\",\"event\":\"$2\",\"url\":\"http://$POLRECD_ADDR/api/media\"}" >/dev/null
}

start_sim
(umask 077; echo sim-media-secret >"$T/media-secret")
write_conf "[recording]
keepalive_interval = 1
capture_source = agent
media_agent_secret_file = $T/media-secret"
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'

# The full life of a leg, service-hosted media.
play_files "$EX3"
check "answered" wait_for 5 log_has "call $CALL: answered in"
check "establishing (posted by Graph after the answer)" wait_for 5 state_is $CALL establishing
check "established" wait_for 5 state_is $CALL established
sleep 0.3
check "established, no capture reported yet: no recording status" \
    test "$(count_requests updateRecordingStatus $CALL)" = 0
capture $CALL captureStarted
check "capture source: captureStarted accepted" \
    wait_for 5 log_has "call $CALL: media agent: captureStarted"
check "recording status sent once capture started" \
    wait_for 5 rec_is $CALL recording
ctx=$(requests_of updateRecordingStatus $CALL | jq -r .body.clientContext | head -n 1)
check "updateRecordingStatus carries a clientContext" \
    sh -c "printf '%s' '$ctx' | grep -qE '^[0-9a-f-]{36}$'"
check "recording confirmed by Graph's operation (completed)" \
    wait_for 5 log_has "call $CALL: recording status recording confirmed (200)"
check "keepAlive sent every keepalive_interval" \
    wait_for 5 count_is keepAlive $CALL -ge 2
out=$(ctl show calls)
check "show calls lists the leg established and recording" \
    sh -c "printf '%s\n' '$out' | grep -qE '^$CALL +established +answered +recording'"
sim_ctl POST /_sim/calls/end "{\"id\":\"$CALL\",\"code\":200,\"subcode\":5001,\"message\":\"The conversation has ended.\"}" >/dev/null
check "terminating" wait_for 5 state_is $CALL terminating
check "deleted ends the leg with its resultInfo" \
    wait_for 5 log_has "call $CALL: ended (terminated by Graph); outcome answered, recording recording, result 200/5001"
n=$(count_requests keepAlive $CALL)
sleep 1.5
check "no keepAlive after the leg ended" test "$(count_requests keepAlive $CALL)" = "$n"
check "one recording status in the whole life" test "$(rec_requests $CALL)" = recording
check "the leg is counted ended" test "$(stat_of legs_live)" = 0

# Out of order: established before establishing.
sim_ctl POST /_sim/lifecycle '{"mode":"reversed","delay_ms":20}' >/dev/null
C2=c1000002-0000-4000-8000-000000000002
play_files "$(invitation $C2)"
check "reversed: established" wait_for 5 state_is $C2 established
capture $C2 captureStarted
wait_for 5 rec_is $C2 recording
check "reversed: the late establishing is ignored" \
    wait_for 5 log_has "call $C2: updated establishing ignored: the leg is already established"
sleep 0.2
check "reversed: recording sent once" test "$(rec_requests $C2)" = recording
# An operation notification settles an update, matched by clientContext.
ctx2=$(requests_of updateRecordingStatus $C2 | jq -r .body.clientContext | head -n 1)
op() {
	jq --arg u "/communications/calls/$C2/operations/0fe0623f-d628-42ed-b4bd-8ac290072cc5" \
	    --arg c "$1" '.value[0].resourceUrl = $u | .value[0].resourceData.clientContext = $c' \
	    tests/scenarios/notifications/operation-update-recording-status.json
}
op "$ctx2" >"$T/op-match.json"
op "c6a1d1f0-5a1d-4e3c-9c7e-0b1a2c3d4e5f" >"$T/op-other.json"
play_files "$T/op-match.json" "$T/op-other.json"
check "operation notification matched by clientContext" \
    wait_for 5 log_has "call $C2: recording status recording confirmed (notification)"
check "operation for another clientContext is only noted" \
    wait_for 5 log_has "call $C2: operation for clientContext c6a1d1f0-5a1d-4e3c-9c7e-0b1a2c3d4e5f: not the latest update"
# resultInfo as strings; deleted without terminating.
sim_ctl POST /_sim/calls/end "{\"id\":\"$C2\",\"code\":\"200\",\"subcode\":\"5002\",\"terminating\":false}" >/dev/null
check "deleted without terminating, resultInfo as strings, ends the leg" \
    wait_for 5 log_has "call $C2: ended (terminated by Graph); .*result 200/5002"
check "no terminating state was seen" sh -c "! grep -q 'call $C2: terminating' $T/polrecd.log"
sim_ctl POST /_sim/lifecycle '{"mode":"normal","delay_ms":20}' >/dev/null

# keepAlive 404: Graph forgot the call; the leg ends here.
C3=c1000003-0000-4000-8000-000000000003
play_files "$(invitation $C3)"
check "keepAlive 404 case: established" wait_for 5 state_is $C3 established
capture $C3 captureStarted
# Forgotten only once its recording status is settled: else that update
# meets the 404 first, and ends the leg for its own reason.
wait_for 5 log_has "call $C3: recording status recording confirmed"
sim_ctl POST "/_sim/calls/forget?id=$C3" >/dev/null
check "keepAlive 404 ends the leg, with that reason" \
    wait_for 5 log_has "call $C3: ended (keepAlive: call not found)"

# Rosters: a person present keeps the leg; only recorders ends it.
C4=c1000004-0000-4000-8000-000000000004
play_files "$(invitation $C4)"
check "roster case: established" wait_for 5 state_is $C4 established
roster() {
	jq --arg u "/communications/calls/$C4/participants" --argjson people "$1" '
	  .value[0].resourceUrl = $u | .value[0].changeType = "updated" |
	  .value[0].resourceData = ([{"@odata.type":"#microsoft.graph.participant",
	    "id":"bot-participant","info":{"identity":{"applicationInstance":{"id":"832899f8-2ea1-4604-8413-27bd2892079f"}}}}]
	    + (if $people then [{"@odata.type":"#microsoft.graph.participant",
	    "id":"30fad2ce-8989-41a1-8a66-f6636e629a2a","info":{"identity":{"user":{"id":"8A34A46B-3D17-4ADC-8DCE-DC4E7D572698"}}}}] else [] end))' \
	    tests/scenarios/notifications/roster-participants.json
}
roster true >"$T/roster-people.json"
roster false >"$T/roster-bots.json"
play_files "$T/roster-people.json"
check "roster with a person applied" \
    wait_for 5 log_has "call $C4: roster 2 member(s), 1 of them people"
check "a person present: no hang-up" test "$(count_requests delete $C4)" = 0
play_files "$T/roster-bots.json"
check "only recorders left: the leg hangs up" \
    wait_for 5 log_has "call $C4: ended (only recorders left)"
check "only recorders left: DELETE sent to Graph" \
    wait_for 5 count_is delete $C4 -eq 1
stop_polrecd

# App-hosted media: the media agent gives the blob and reports capture.
(umask 077; echo sim-media-secret >"$T/media-secret")
write_conf "[recording]
media = app
media_agent_url = $SIM_URL/media
media_agent_secret_file = $T/media-secret
keepalive_interval = 60"
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
C5=c1000005-0000-4000-8000-000000000005
play_files "$(invitation $C5)"
check "app media: answered" wait_for 5 log_has "call $C5: answered in"
m=$(requests_of media $C5 | head -n 1)
check "app media: blob asked from the agent first" test -n "$m"
check "app media: the request names the call and the events URL" \
    test "$(printf '%s' "$m" | jq -r '.body.callId + " " + .body.eventsUrl')" = \
    "$C5 http://$POLRECD_ADDR/api/media"
blob=$(requests_of answer $C5 | jq -r '.body.mediaConfig.blob')
check "app media: the answer carries the agent's blob" \
    test "$(requests_of answer $C5 | jq -r '.body.mediaConfig["@odata.type"]')" = \
    "#microsoft.graph.appHostedMediaConfig"
check "app media: blob is the simulator's" sh -c "case '$blob' in sim-blob-*) true;; *) false;; esac"
check "app media: recording only once capture started" \
    wait_for 5 log_has "call $C5: media agent: captureStarted"
check "app media: then recording status recording" \
    wait_for 5 rec_is $C5 recording
sim_ctl POST /_sim/media "{\"id\":\"$C5\",\"event\":\"captureFailed\",\"reason\":\"disk full\"}" >/dev/null
check "app media: a capture fault reports failed" \
    wait_for 5 rec_is $C5 recording,failed
check "app media: the reason is logged" log_has "call $C5: media agent: captureFailed: disk full"
sim_ctl POST /_sim/media "{\"id\":\"$C5\",\"event\":\"captureStarted\"}" >/dev/null
sleep 0.3
sim_ctl POST /_sim/media "{\"id\":\"$C5\",\"event\":\"captureStopped\"}" >/dev/null
check "app media: capture stopped while the leg lives: notRecording" \
    wait_for 5 rec_is $C5 recording,failed,recording,notRecording
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' \
    -H 'Content-Type: application/json' \
    -d "{\"callId\":\"$C5\",\"event\":\"captureStarted\"}" "http://$POLRECD_ADDR/api/media")
check "media event with a wrong secret: 401" test "$code" = 401
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sim-media-secret' \
    -H 'Content-Type: application/json' \
    -d '{"callId":"nope","event":"captureStarted"}' "http://$POLRECD_ADDR/api/media")
check "media event for an unknown call: 404" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sim-media-secret' \
    -H 'Content-Type: application/json' -d '{"callId":' "http://$POLRECD_ADDR/api/media")
check "malformed media event: 400" test "$code" = 400
sim_ctl POST /_sim/calls/end "{\"id\":\"$C5\",\"code\":200,\"subcode\":5001}" >/dev/null
check "app media: the leg ends" wait_for 5 log_has "call $C5: ended"
check "app media: the agent is told the leg ended" \
    wait_for 5 count_is media_end $C5 -eq 1

# No blob in time: rejected busy, never answered with nothing.
sim_ctl POST /_sim/faults '{"action":"media","status":503,"count":100}' >/dev/null
C6=c1000006-0000-4000-8000-000000000006
play_files "$(invitation $C6)"
check "media agent failing: rejected busy" \
    wait_for 5 log_has "call $C6: rejected (busy: media_agent_unavailable)"
check "media agent failing: no answer sent" test "$(count_requests answer $C6)" = 0
check "polrecd stops cleanly" stop_polrecd
exit $FAILED
