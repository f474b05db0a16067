#!/bin/bash
# The auditor views say what the rows say: every view's utc is the string
# `polrecctl audit export` prints for the same event, to the microsecond;
# call_legs shows a leg's last confirmed recording status (recording,
# then notRecording: notRecording).  Text from the network is stored
# without control characters (a message id with an escape sequence).
set -eu
. tests/integration/lib.sh

PCTL=build/polrecctl
DB=$T/audit.db
q() { sqlite3 -readonly "$DB" "$1"; }
confirmed() { [ "$(q "SELECT count(*) FROM recording_status WHERE call_id = '$1' AND outcome = 'confirmed' AND status = '$2'")" -ge 1 ]; }

start_sim
(umask 077; echo sim-media-secret >"$T/media-secret")
# Tokens are not checked: the notification with control characters in
# its message id must be accepted, to be stored one by one (refused ones
# are aggregated, without their message ids).
AUTH_MODE=none write_conf "[recording]
media = app
media_agent_url = $SIM_URL/media
media_agent_secret_file = $T/media-secret
keepalive_interval = 60"
start_polrecd
wait_for 10 log_has 'graph token: acquired'

# A leg recording, then not recording while it lives.
C=c1220000-0000-4000-8000-000000000122
play_files "$(invitation $C)"
check "answered" wait_for 5 log_has "call $C: answered in"
check "recording confirmed" wait_for 5 confirmed $C recording
check "call_legs: recording" \
    test "$(q "SELECT recording FROM call_legs WHERE call_id = '$C'")" = recording
sim_ctl POST /_sim/media "{\"id\":\"$C\",\"event\":\"captureStopped\"}" >/dev/null
check "notRecording confirmed" wait_for 5 confirmed $C notRecording
check "call_legs: the last confirmed status, notRecording" \
    test "$(q "SELECT recording FROM call_legs WHERE call_id = '$C'")" = notRecording
sim_ctl POST /_sim/calls/end "{\"id\":\"$C\",\"code\":200,\"subcode\":5001}" >/dev/null
check "the leg ends" wait_for 5 log_has "call $C: ended"
check "call_legs: answered and ended, its result" \
    wait_for 5 sh -c "[ \"\$(sqlite3 -readonly '$DB' \"SELECT decision, answer, recording, result FROM call_legs WHERE call_id = '$C'\")\" = 'answer|answer ok|notRecording|200/5001' ]"

# A message id with an escape sequence, C0, DEL and C1 (UTF-8) bytes.
MSGID=$'pol\x1b[31m\x01\x7fx\xc2\x85y\xc2\x9bz\tw'
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -H "X-Microsoft-Skype-Message-ID: $MSGID" \
    --data-binary @tests/scenarios/notifications/p2p-established.json "$WEBHOOK")
check "a notification with control characters in its message id: accepted" test "$code" = 202
check "... and recorded" \
    wait_for 5 sh -c "[ \"\$(sqlite3 -readonly '$DB' \"SELECT count(*) FROM audit_event WHERE msg_id LIKE 'pol%'\")\" = 1 ]"
check "its stored msg_id has each control character replaced by ?" \
    test "$(q "SELECT msg_id FROM audit_event WHERE msg_id LIKE 'pol%'")" = 'pol?[31m??x?y?z?w'
check "no stored clear text has a C0, DEL or C1 character" \
    test "$(q "SELECT count(*) FROM audit_event WHERE
        (coalesce(msg_id, '') || coalesce(reason, '') || coalesce(detail, '') ||
         coalesce(call_id, '') || coalesce(outcome, '') || coalesce(graph_code, '') ||
         coalesce(request_id, '') || coalesce(tenant, '') || coalesce(policy, ''))
        GLOB '*[' || char(1) || '-' || char(31) || char(127) || char(128) || '-' || char(159) || ']*'")" = 0

check "polrecd stops cleanly" stop_polrecd

# Every view's utc, for every row, against the export's for the same seq.
"$PCTL" audit export -d "$DB" | jq -r '"\(.seq) \(.utc)"' | sort >"$T/export-utc"
check "export has every event" \
    test "$(wc -l <"$T/export-utc")" = "$(q 'SELECT count(*) FROM audit_event')"
q "SELECT seq || ' ' || utc FROM events" | sort >"$T/events-utc"
check "events: every row's utc is the export's" cmp -s "$T/export-utc" "$T/events-utc"
for v in notifications invitations answers join_decisions recording_status; do
	q "SELECT seq || ' ' || utc FROM $v" | sort >"$T/$v-utc"
	check "$v: $(wc -l <"$T/$v-utc") row(s), each utc the export's" \
	    test -z "$(comm -23 "$T/$v-utc" "$T/export-utc")"
done
check "the views are not empty" \
    test -s "$T/notifications-utc" -a -s "$T/invitations-utc" -a -s "$T/answers-utc" -a -s "$T/recording_status-utc"
"$PCTL" audit export -d "$DB" | jq -r --arg c "$C" \
    'select(.call_id == $c and .kind == "invitation") | .utc' | head -n 1 >"$T/want-invited"
"$PCTL" audit export -d "$DB" | jq -r --arg c "$C" \
    'select(.call_id == $c and .kind == "terminated") | .utc' | tail -n 1 >"$T/want-ended"
check "call_legs: invited is the export's utc of the invitation" \
    test "$(q "SELECT invited FROM call_legs WHERE call_id = '$C'")" = "$(cat "$T/want-invited")"
check "call_legs: ended is the export's utc of the termination" \
    test "$(q "SELECT ended FROM call_legs WHERE call_id = '$C'")" = "$(cat "$T/want-ended")"
check "utc has microseconds, and they are not all zero" \
    test "$(q "SELECT count(*) FROM events WHERE utc GLOB '*.[0-9][0-9][0-9][0-9][0-9][0-9]Z' AND utc_us % 1000 != 0")" -ge 1
exit $FAILED
