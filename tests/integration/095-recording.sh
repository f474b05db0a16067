#!/bin/bash
# Recording status tells the truth: `recording` goes to Graph only on
# evidence of capture.  Service-hosted media with no capture source: the
# call is answered, no status is sent, and the log, the audit trail and
# show calls say that nothing captures it.  An external capture source
# (capture_source = agent): recording once it posts captureStarted.  A
# 403 (code 8506) on updateRecordingStatus: the leg's recording is
# failed, counted, not sent again.  hold, transferring, transferAccepted
# and redirecting before established start nothing.  App-hosted media:
# recording only after captureStarted, and it follows the agent.
set -eu
. tests/integration/lib.sh

DB="$T/audit.db"
q() { sqlite3 -readonly "$DB" "$1"; }
state_is() { grep -q "call $1: $2\$" "$T/polrecd.log"; }
rec_requests() { requests_of updateRecordingStatus "$1" | jq -r .body.status | paste -sd, -; }
rec_is() { [ "$(rec_requests "$1")" = "$2" ]; }
leg_line() { ctl show calls | grep -E "^$1 " || true; }
shows() { leg_line "$1" | grep -qE "^$1 +$2 +answered +$3 "; }
trail_has() { [ "$(q "SELECT count(*) FROM events WHERE call_id = '$1' AND kind = 'recording' AND $2")" -ge 1 ]; }
capture() {
	sim_ctl POST /_sim/media "{\"id\":\"$1\",\"event\":\"$2\",\"url\":\"http://$POLRECD_ADDR/api/media\"}" >/dev/null
}
# A call notification of CALL in STATE, as Graph posts it.
call_state() {
	local f="$T/state-$1-$2.json"
	jq --arg u "/communications/calls/$1" --arg s "$2" \
	    '.value[0].resourceUrl = $u | .value[0].resourceData["@odata.id"] = $u |
	     .value[0].resourceData.state = $s' \
	    tests/scenarios/notifications/p2p-established.json >"$f"
	echo "$f"
}

start_sim
(umask 077; echo sim-media-secret >"$T/media-secret")

# 1. Service-hosted media, no capture source (the default).
write_conf "[recording]
keepalive_interval = 60"
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
check "start-up says there is no capture source" \
    log_has "no capture source (media = service, capture_source = none): calls are answered, but recording is never reported to Graph"
C1=c0950001-0000-4000-8000-000000000001
play_files "$(invitation $C1)"
check "no capture source: answered" wait_for 5 log_has "call $C1: answered in"
check "no capture source: established" wait_for 5 state_is $C1 established
check "no capture source: the log says so for the leg" \
    wait_for 5 log_has "call $C1: no capture source: answered, recording not reported to Graph"
check "no capture source: the trail has a recording event no_capture_source" \
    wait_for 5 trail_has $C1 "outcome = 'no_capture_source' AND json_extract(detail, '\$.status') = 'none'"
check "no capture source: show calls says no capture" shows $C1 established "no capture"
sleep 0.5
check "no capture source: no updateRecordingStatus sent to Graph" \
    test "$(count_requests updateRecordingStatus $C1)" = 0
check "no capture source: counted" test "$(stat_of recording_no_capture)" = 1
check "no capture source: no status update counted" test "$(stat_of recording_updates)" = 0
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sim-media-secret' \
    -H 'Content-Type: application/json' \
    -d "{\"callId\":\"$C1\",\"event\":\"captureStarted\"}" "http://$POLRECD_ADDR/api/media")
check "no capture source: no media events endpoint (404)" test "$code" = 404
sim_ctl POST /_sim/calls/end "{\"id\":\"$C1\",\"code\":200,\"subcode\":5001}" >/dev/null
check "no capture source: the end says no capture" \
    wait_for 5 log_has "call $C1: ended (terminated by Graph); outcome answered, recording no capture"
check "no capture source: still nothing sent to Graph" \
    test "$(count_requests updateRecordingStatus $C1)" = 0

# 2. hold, transferring, transferAccepted, redirecting before established.
sim_ctl POST /_sim/lifecycle '{"mode":"none"}' >/dev/null
stop_polrecd
write_conf "[recording]
keepalive_interval = 60
capture_source = agent
media_agent_secret_file = $T/media-secret"
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
check "capture source: start-up names it" \
    log_has "capture source: an external agent posting capture events to /api/media"
C2=c0950002-0000-4000-8000-000000000002
play_files "$(invitation $C2)"
check "hold first: answered" wait_for 5 log_has "call $C2: answered in"
capture $C2 captureStarted
check "hold first: capture reported before the leg is up" \
    wait_for 5 log_has "call $C2: media agent: captureStarted"
play_files "$(call_state $C2 hold)" "$(call_state $C2 transferring)" \
    "$(call_state $C2 transferAccepted)" "$(call_state $C2 redirecting)"
check "hold first: the leg is establishing, not established" \
    wait_for 5 state_is $C2 establishing
check "hold first: the later states leave it establishing" \
    wait_for 5 log_has "call $C2: updated redirecting ignored: the leg is already establishing"
check "hold first: never established" sh -c "! grep -q 'call $C2: established\$' '$T/polrecd.log'"
sleep 0.3
check "hold first: no recording status, though capture runs" \
    test "$(count_requests updateRecordingStatus $C2)" = 0
play_files "$(call_state $C2 established)"
check "then established: recording" wait_for 5 rec_is $C2 recording
check "then established: confirmed" \
    wait_for 5 log_has "call $C2: recording status recording confirmed (200)"
check "show calls: recording" shows $C2 established recording
play_files "$(call_state $C2 hold)"
sleep 0.3
check "hold after established: recording goes on" test "$(rec_requests $C2)" = recording
check "hold after established: still established" shows $C2 established recording

# 3. An external capture source with service-hosted media.
C3=c0950003-0000-4000-8000-000000000003
play_files "$(invitation $C3)" "$(call_state $C3 established)"
check "external source: established" wait_for 5 state_is $C3 established
sleep 0.3
check "external source: nothing reported before captureStarted" \
    test "$(count_requests updateRecordingStatus $C3)" = 0
check "external source: show calls says none yet" shows $C3 established none
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' \
    -H 'Content-Type: application/json' \
    -d "{\"callId\":\"$C3\",\"event\":\"captureStarted\"}" "http://$POLRECD_ADDR/api/media")
check "external source: a wrong secret is refused (401)" test "$code" = 401
sleep 0.2
check "external source: ... and changes nothing" \
    test "$(count_requests updateRecordingStatus $C3)" = 0
capture $C3 captureStarted
check "external source: captureStarted: recording" wait_for 5 rec_is $C3 recording
check "external source: the trail has the capture and the status" \
    wait_for 5 trail_has $C3 "outcome = 'confirmed' AND json_extract(detail, '\$.status') = 'recording'"
capture $C3 captureStopped
check "external source: captureStopped: notRecording" \
    wait_for 5 rec_is $C3 recording,notRecording

# 4. Graph refuses the status (403, code 8506): failed, not retried.
C4=c0950004-0000-4000-8000-000000000004
sim_ctl POST /_sim/faults '{"action":"updateRecordingStatus","status":403,"count":100}' >/dev/null
play_files "$(invitation $C4)" "$(call_state $C4 established)"
check "403: established" wait_for 5 state_is $C4 established
capture $C4 captureStarted
check "403: the refusal is logged" \
    wait_for 5 log_has "call $C4: Graph refused recording status recording (HTTP 403)"
check "403: show calls says failed" wait_for 5 shows $C4 established failed
check "403: in the trail, failed with Graph's 403" \
    wait_for 5 trail_has $C4 "outcome = 'failed' AND http_status = 403"
check "403: counted refused" test "$(stat_of recording_refused)" = 1
check "403: counted a failure" test "$(stat_of recording_update_failures)" -ge 1
capture $C4 captureFailed
capture $C4 captureStarted
capture $C4 captureStopped
check "403: later capture events are taken" \
    wait_for 5 log_has "call $C4: media agent: captureStopped"
sleep 0.5
check "403: sent once, never again (graph.c does not retry a 403 either)" \
    test "$(count_requests updateRecordingStatus $C4)" = 1
sim_ctl DELETE /_sim/faults >/dev/null
# The refusal survives a restart: the restored leg sends nothing more.
stop_polrecd
start_polrecd
check "403, after a restart: the leg is restored" \
    wait_for 10 sh -c "build/polrecctl -s '$T/ctl.sock' show calls | grep -qE '^$C4 +established +answered +failed '"
capture $C4 captureStarted
check "403, after a restart: capture events are taken" \
    wait_for 5 sh -c "[ \"\$(grep -c 'call $C4: media agent: captureStarted' '$T/polrecd.log')\" -ge 1 ]"
sleep 0.5
check "403, after a restart: still no second updateRecordingStatus" \
    test "$(count_requests updateRecordingStatus $C4)" = 1
sim_ctl POST /_sim/lifecycle '{"mode":"normal"}' >/dev/null
stop_polrecd

# 5. App-hosted media: the agent's captureStarted, not established, starts it.
write_conf "[recording]
media = app
media_agent_url = $SIM_URL/media
media_agent_secret_file = $T/media-secret
keepalive_interval = 60"
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
sim_ctl POST /_sim/media '{"auto":false}' >/dev/null
C5=c0950005-0000-4000-8000-000000000005
play_files "$(invitation $C5)"
check "app media: established" wait_for 5 state_is $C5 established
sleep 0.3
check "app media: no recording before captureStarted" \
    test "$(count_requests updateRecordingStatus $C5)" = 0
check "app media: show calls says none yet" shows $C5 established none
sim_ctl POST /_sim/media "{\"id\":\"$C5\",\"event\":\"captureStarted\"}" >/dev/null
check "app media: captureStarted: recording" wait_for 5 rec_is $C5 recording
sim_ctl POST /_sim/media "{\"id\":\"$C5\",\"event\":\"captureStopped\"}" >/dev/null
check "app media: captureStopped: notRecording" \
    wait_for 5 rec_is $C5 recording,notRecording
sim_ctl POST /_sim/media "{\"id\":\"$C5\",\"event\":\"captureStarted\"}" >/dev/null
wait_for 5 rec_is $C5 recording,notRecording,recording
sim_ctl POST /_sim/media "{\"id\":\"$C5\",\"event\":\"captureFailed\",\"reason\":\"disk full\"}" >/dev/null
check "app media: captureFailed: failed" \
    wait_for 5 rec_is $C5 recording,notRecording,recording,failed
check "app media: show calls says failed" wait_for 5 shows $C5 established failed
check "polrecd stops cleanly" stop_polrecd
exit $FAILED
