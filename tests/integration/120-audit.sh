#!/bin/bash
# The audit trail: the scenario's events are in the trail and verify;
# auditors read the views with sqlite3 -readonly while polrecd runs; no
# identity of the scenario is in clear in the database or its WAL; export
# and the unseal extension open them with the auditor's key; every kind
# of tampering is detected; retention leaves a trail that verifies; and
# after kill -9 under load, every acknowledged notification is there.
set -eu
. tests/integration/lib.sh

CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497
EX3="$PWD/tests/scenarios/notifications/example3-invitation.json"
# Identities in Example 3: the source user, the observed participant,
# the other side's user and on whose behalf, and the meeting token.
SECRETS="8A34A46B-3D17-4ADC-8DCE-DC4E7D572698 30fad2ce-8989-41a1-8a66-f6636e629a2a
971f0300-9c1f-4d99-b5f4-2722e877d490 871f0300-9c1f-4d99-b5f4-2722e877d490"
PCTL=build/polrecctl
DB=$T/audit.db
verify() { "$PCTL" audit verify -k "$T/keys/signing.pub" -d "$@"; }
# While polrecd runs the newest events may not be covered yet (exit 4).
verify_running() {
	local rc=0
	verify "$@" >"$T/verify-running.out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 4 ] || { sed 's/^/#   /' "$T/verify-running.out"; return 1; }
}
q() { sqlite3 -readonly "$DB" "$1"; }
no_secret_in() {
	local f s
	for f in "$@"; do
		[ -f "$f" ] || continue
		for s in $SECRETS "join token"; do
			if grep -q -a -i -- "$s" "$f"; then
				echo "# $s found in ${f##*/}"
				return 1
			fi
		done
	done
}

start_sim
(umask 077; echo sim-media-secret >"$T/media-secret")
# No retention floor: the test prunes events a few seconds old.
write_conf "[recording]
participant_capacity = 2
capture_source = agent
media_agent_secret_file = $T/media-secret
[audit]
checkpoint_events = 5
retention_min = 0s"
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'

play_files "$EX3"
check "answered" wait_for 5 log_has "call $CALL: answered in"
# An external capture source reports capture once the leg is up.
wait_for 5 log_has "call $CALL: established\$"
sim_ctl POST /_sim/media "{\"id\":\"$CALL\",\"event\":\"captureStarted\",\"url\":\"http://$POLRECD_ADDR/api/media\"}" >/dev/null
check "recording confirmed" wait_for 5 log_has "call $CALL: recording status recording confirmed"
play_token expired 401 notifications/p2p-established.json >/dev/null 2>&1 || true
check "a refused notification (expired token) is in the trail" \
    wait_for 5 sh -c "[ \"\$(sqlite3 -readonly '$DB' \"SELECT count(*) FROM events WHERE kind = 'notification' AND outcome = 'refused' AND http_status = 401\")\" -ge 1 ]"

# While polrecd runs: the auditor's views, and verify.
check "invitations view: the call, its policy and decision" \
    test "$(q "SELECT call_id, tenant, policy, decision FROM invitations")" = \
    "$CALL|$TENANT_ID|Test Policy|answer"
check "pairedRecorders and otherRecorders in clear" \
    test "$(q "SELECT paired_recorders || other_recorders FROM invitations")" = \
    '["471f0300-5c1f-4d99-b5f4-2722e877d490"]["671f0300-9c1f-4d99-b5f4-2722e877d490"]'
# Later notifications of the leg carry the leg's recorders as well.
check "the invitation's notification event carries them too" \
    test "$(q "SELECT DISTINCT paired_recorders FROM notifications n JOIN audit_event e USING (seq) WHERE n.call_id = '$CALL' AND e.policy IS NOT NULL")" = \
    '["471f0300-5c1f-4d99-b5f4-2722e877d490"]'
check "key files are created mode 0600" \
    test "$(stat -c %a "$T"/keys/* | sort -u)" = 600
check "answers view: 202 with Graph's request-id, latency and attempts" \
    test "$(q "SELECT action, outcome, http_status, length(request_id) > 0, attempts FROM answers")" = "answer|ok|202|1|1"
check "each event carries UTC, monotonic time and the clock's sync state" \
    test "$(q "SELECT count(*) FROM audit_event WHERE utc_us > 1600000000000000 AND mono_us > 0 AND clock_synced IN (0, 1)")" = \
    "$(q "SELECT count(*) FROM audit_event")"
check "recording_status view: confirmed" \
    test "$(q "SELECT status FROM recording_status WHERE outcome = 'confirmed'")" = recording
check "audit verify passes while polrecd runs" verify_running "$DB"
check "no identity in clear in the database or its WAL (daemon running)" \
    no_secret_in "$DB" "$DB-wal"

# Append-only: the triggers refuse changes.
check "UPDATE of an event is refused" \
    sh -c "! sqlite3 '$DB' \"UPDATE audit_event SET reason = 'x' WHERE seq = 1\" 2>/dev/null"
check "DELETE of an event is refused" \
    sh -c "! sqlite3 '$DB' 'DELETE FROM audit_event WHERE seq = 1' 2>/dev/null"

# The auditor's key opens the sealed metadata: export, and the extension.
"$PCTL" audit export -d "$DB" >"$T/export.jsonl"
"$PCTL" audit export -d "$DB" --key "$T/auditor.key" >"$T/export-open.jsonl"
check "export: one line per event" \
    test "$(wc -l <"$T/export.jsonl")" = "$(q 'SELECT count(*) FROM audit_event')"
check "export without the key shows no identity" no_secret_in "$T/export.jsonl"
check "export with the key shows the observed participant" \
    test "$(jq -r 'select(.kind == "invitation") | .personal.observedParticipantId' "$T/export-open.jsonl")" = \
    30fad2ce-8989-41a1-8a66-f6636e629a2a
check "export with the key shows the raw notification (meeting token)" \
    sh -c "jq -r 'select(.kind == \"notification\" and .call_id == \"$CALL\") | .personal.resourceData.meetingInfo.token' '$T/export-open.jsonl' | grep -qx 'join token'"
check "export --call selects one call" \
    test "$("$PCTL" audit export -d "$DB" --call "$CALL" | jq -r .call_id | sort -u)" = "$CALL"
unsealed=$(POLREC_AUDITOR_KEY="$T/auditor.key" sqlite3 -readonly \
    -cmd ".load $PWD/build/polrec_unseal" "$DB" \
    "SELECT json_extract(unseal(sealed, seq), '$.otherSideUserId') FROM audit_event WHERE kind = 'invitation'")
check "unseal() in the sqlite3 CLI opens the invitation's identities" \
    test "$unsealed" = 971f0300-9c1f-4d99-b5f4-2722e877d490

"$PCTL" audit checkpoint -d "$DB" >"$T/checkpoint.json"
check "a signed checkpoint can be exported" jq -e '.seq > 0 and (.sig | length) == 128' "$T/checkpoint.json"

sim_ctl POST /_sim/calls/end "{\"id\":\"$CALL\",\"code\":200,\"subcode\":5001}" >/dev/null
check "the call ends" wait_for 5 log_has "call $CALL: ended"
check "call_legs view: answered, recording, ended with its result" \
    wait_for 5 sh -c "[ \"\$(sqlite3 -readonly '$DB' 'SELECT decision, answer, recording, result FROM call_legs WHERE call_id = \"$CALL\"')\" = 'answer|answer ok|recording|200/5001' ]"
check "polrecd stops cleanly" stop_polrecd
check "the trail verifies after the stop" verify "$DB"
check "and against the exported checkpoint" verify "$DB" -c "$T/checkpoint.json"
check "no identity in clear in the database files after the stop" \
    no_secret_in "$DB" "$DB-wal"

# Tampering, each on a copy.
n=$(q 'SELECT max(seq) FROM audit_event')
tamper() {	# NAME SQL: apply to a fresh copy; verify must fail
	local name=$1 sql=$2 c="$T/tamper-$1.db"
	cp "$DB" "$c"
	sqlite3 "$c" "DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete;
	    DROP TRIGGER audit_checkpoint_no_delete; $sql" || return 1
	if "$PCTL" audit verify -k "$T/keys/signing.pub" -d "$c" ${3:+-c "$3"} >"$T/verify-$name.out" 2>&1; then
		echo "# $name: verify passed"
		return 1
	fi
	sed 's/^/#   /' "$T/verify-$name.out"
	grep -q 'NOT intact\|cannot\|not a' "$T/verify-$name.out"
}
check "an edited row is detected" tamper edit "UPDATE audit_event SET outcome = 'busy' WHERE kind = 'invitation'"
check "... and named" grep -q "first bad event: $(q "SELECT seq FROM audit_event WHERE kind = 'invitation'")" "$T/verify-edit.out"
check "a deleted row is detected" tamper delete "DELETE FROM audit_event WHERE seq = 5"
check "an inserted row is detected" tamper insert \
    "INSERT INTO audit_event (seq, utc_us, mono_us, clock_synced, kind, hash) VALUES ($((n + 1)), 1, 1, 1, 'answer', zeroblob(32))"
check "reordered rows are detected" tamper reorder \
    "UPDATE audit_event SET seq = -1 WHERE seq = 6; UPDATE audit_event SET seq = 6 WHERE seq = 7; UPDATE audit_event SET seq = 7 WHERE seq = -1"
cpseq=$(jq .seq "$T/checkpoint.json")
check "truncation back past an exported checkpoint is detected" tamper truncate \
    "DELETE FROM audit_event WHERE seq >= $cpseq; DELETE FROM audit_checkpoint WHERE seq >= $cpseq" "$T/checkpoint.json"
check "... as truncation" grep -qi 'truncat' "$T/verify-truncate.out"
check "a ciphertext moved to another row is detected" tamper move \
    "UPDATE audit_event SET sealed = (SELECT sealed FROM audit_event WHERE kind = 'invitation') WHERE seq = (SELECT min(seq) FROM audit_event WHERE kind = 'notification' AND sealed IS NOT NULL)"
moved=$(POLREC_AUDITOR_KEY="$T/auditor.key" sqlite3 -readonly -cmd ".load $PWD/build/polrec_unseal" \
    "$T/tamper-move.db" "SELECT unseal(sealed, seq) IS NULL FROM audit_event WHERE seq = (SELECT min(seq) FROM audit_event WHERE kind = 'notification' AND sealed IS NOT NULL)")
check "... and does not open in its new row" test "$moved" = 1
# Editing bytes of the file: a letter of Graph's request-id in the answer.
rid=$(q "SELECT request_id FROM answers")
cp "$DB" "$T/tamper-bytes.db"
off=$(grep -a -b -o -- "$rid" "$T/tamper-bytes.db" | head -n 1 | cut -d: -f1)
check "the answer's request-id is in the file once" test "$(grep -a -c -- "$rid" "$T/tamper-bytes.db")" = 1
printf 'X' | dd of="$T/tamper-bytes.db" bs=1 seek="$off" conv=notrunc status=none
check "an edited byte in the file is detected" \
    sh -c "! '$PCTL' audit verify -k '$T/keys/signing.pub' -d '$T/tamper-bytes.db' >'$T/verify-bytes.out' 2>&1"
check "the untouched trail still verifies" verify "$DB"

# Auditor key rotation: a new auditor public key in key_dir and a
# restart; new rows are sealed to it, old rows stay readable with theirs.
"$PCTL" keys init -d "$T/newkeys" -o "$T/auditor2.key" >/dev/null 2>&1
cp "$T/newkeys/auditor.pub" "$T/keys/auditor.pub"
start_polrecd
wait_keys
C2=c2000000-0000-4000-8000-0000000000c2
play_files "$(invitation $C2)"
check "after the rotation: answered" wait_for 5 log_has "call $C2: answered in"
check "the new auditor key is recorded as a key event" \
    test "$(q "SELECT count(*) FROM audit_key WHERE kind = 'auditor'")" = 2
personal_of() {	# KEY CALL: the invitation's observed participant, opened
	"$PCTL" audit export -d "$DB" --key "$1" --call "$2" |
	    jq -r 'select(.kind == "invitation") | .personal.observedParticipantId // .personal_error'
}
check "the old key still opens the old rows" \
    test "$(personal_of "$T/auditor.key" $CALL)" = 30fad2ce-8989-41a1-8a66-f6636e629a2a
check "the old key does not open the new rows" \
    test "$(personal_of "$T/auditor.key" $C2)" != 30fad2ce-8989-41a1-8a66-f6636e629a2a
check "the new key opens the new rows" \
    test "$(personal_of "$T/auditor2.key" $C2)" = 30fad2ce-8989-41a1-8a66-f6636e629a2a
check "the trail verifies across the rotation" verify_running "$DB"

# Retention: the only way to remove events, leaving a signed record.
cut=$(q "SELECT utc_us / 1000000 + 1 FROM audit_event WHERE seq = 10")
# A cutoff in the future is refused: wait until it is not.
wait_for 3 sh -c "[ \$(date +%s) -ge $cut ]"
out=$(ctl -j audit prune "$cut")
check "audit prune removes the old events" test "$(printf '%s' "$out" | jq .removed)" -ge 10
check "a retention event records the removal" \
    test "$(q "SELECT json_extract(detail, '$.removed_from') FROM audit_event WHERE kind = 'retention'")" = 1
check "... and who asked for it" \
    test "$(q "SELECT reason FROM audit_event WHERE kind = 'retention'")" = "uid $(id -u)"
check "the pruned trail still verifies" verify_running "$DB"

# kill -9 under load: every acknowledged notification is in the trail.
check "polrecd stops for the load test" stop_polrecd
AUTH_MODE=none write_conf
start_polrecd
seq 1 3000 | xargs -P 8 -I{} sh -c '
	code=$(curl -s -o /dev/null -w "%{http_code}" -X POST -H "Content-Type: application/json" \
	    -H "X-Microsoft-Skype-Message-ID: load-{}" \
	    --data-binary @tests/scenarios/notifications/p2p-established.json \
	    "'"$WEBHOOK"'" 2>/dev/null)
	echo "{} $code"' >"$T/load.out" 2>/dev/null &
LOAD=$!
wait_for 10 sh -c "[ \$(grep -c ' 202' '$T/load.out') -ge 300 ]" || true
kill -9 "$POLRECD_PID"; wait "$POLRECD_PID" 2>/dev/null || true; POLRECD_PID=
wait $LOAD || true
awk '$2 ~ /^2/ {print "load-" $1}' "$T/load.out" | sort >"$T/acked"
q "SELECT msg_id FROM audit_event WHERE msg_id LIKE 'load-%'" | sort -u >"$T/stored"
echo "# $(wc -l <"$T/acked") of 3000 acknowledged before kill -9; $(wc -l <"$T/stored") in the trail"
check "some notifications were acknowledged before the kill" test "$(wc -l <"$T/acked")" -ge 300
check "every acknowledged notification is in the trail after kill -9" \
    test -z "$(comm -23 "$T/acked" "$T/stored")"
start_polrecd
check "the trail verifies after kill -9 and a restart" verify_running "$DB"
check "polrecd stops cleanly" stop_polrecd
exit $FAILED
