#!/bin/bash
# The audit trail against someone who can write its file (issue 11).
# Checkpoints leave the host as they are made: to the log, to the
# simulator as a witness, time-stamped by a local RFC 3161 TSA.  Then,
# on copies, the attacker of the issue: re-chain and re-sign with a key
# of their own, and with the appliance's stolen key; delete every
# checkpoint; cut the unsigned tail after kill -9; rewrite and restart
# polrecd.  Each check says what catches it: the pinned key, the
# witnessed checkpoint, the log's checkpoint line or the time stamps.
set -eu
. tests/integration/lib.sh

PCTL=build/polrecctl
FORGE=build/tools/forge
DB=$T/audit.db
q() { sqlite3 -readonly "$1" "$2"; }

scripts/mk-test-tsa "$T/tsa" >"$T/mk-test-tsa.log" 2>&1 ||
    { not_ok "mk-test-tsa"; cat "$T/mk-test-tsa.log"; exit 1; }
start_sim -t "$T/tsa/tsa.pem" -K "$T/tsa/tsa.key"
write_conf "[audit]
checkpoint_interval = 1
witness_url = $SIM_URL/witness
tsa_url = $SIM_URL/tsa"
start_polrecd
wait_keys

# pinned verify: the appliance's own signing.pub, found through -f.
verify() {	# FILE [ARGS]: exit status of verify, output in $T/v.out
	local db=$1
	shift
	"$PCTL" -f "$T/polrecd.conf" audit verify -d "$db" "$@" >"$T/v.out" 2>&1
}
verify_rc() { local rc=0; verify "$@" || rc=$?; echo "$rc"; }
show() { sed 's/^/#   /' "$T/v.out"; }

for n in 1 2 3; do
	play_files "$(invitation c1400000-0000-4000-8000-00000000000$n)"
done
check "three invitations answered" \
    wait_for 10 sh -c "[ \$(grep -c 'answered in' '$T/polrecd.log') -ge 3 ]"
check "a checkpoint goes to the log as one line" \
    wait_for 10 grep -q 'audit checkpoint {"seq":' "$T/polrecd.log"
# A checkpoint after the invitations, witnessed and time-stamped (the
# housekeeping tick signs an idle tail within 10 s).
LASTINV=$(q "$DB" "SELECT max(seq) FROM audit_event WHERE kind = 'answer'")
check "the witness took a checkpoint covering the invitations" \
    wait_for 20 sh -c "sqlite3 -readonly '$DB' \"SELECT json_extract(detail, '\$.seq') FROM audit_event WHERE kind = 'witness' AND outcome = 'accepted'\" | awk '\$1 > $LASTINV {f=1} END {exit !f}'"
check "checkpoints are time-stamped, tokens stored beside them" \
    wait_for 20 sh -c "[ \$(sqlite3 -readonly '$DB' 'SELECT count(*) FROM audit_timestamp WHERE seq > $LASTINV') -ge 1 ]"
check "the witness's receipt is recorded" \
    test -n "$(q "$DB" "SELECT json_extract(detail, '$.receipt') FROM audit_event WHERE kind = 'witness' AND outcome = 'accepted' LIMIT 1" | grep witness-)"
rc=$(verify_rc "$DB")
check "verify while polrecd runs: intact, 0 or 4 for a tail not yet covered (got $rc)" \
    test "$rc" = 0 -o "$rc" = 4
check "stop" stop_polrecd
sim_ctl GET witness/latest >"$T/witnessed.json"
check "the simulator witnessed checkpoints" test "$(sim_ctl GET witness | jq .count)" -ge 1
cp "$T/polrecd.log" "$T/syslog.txt"

rc=$(verify_rc "$DB" -c "$T/witnessed.json" -c "$T/syslog.txt" -T "$T/tsa/ca.pem")
show
check "the trail verifies with the pinned key, the witness, the log line and the time stamps (exit 0)" test "$rc" = 0
check "... and says what it checked" sh -c "grep -q 'off-host checkpoints: 2 of 2' '$T/v.out' && grep -q 'time stamps: [1-9]' '$T/v.out'"
check "verify without a pinned key refuses to say intact" \
    sh -c "! '$PCTL' -f /nonexistent audit verify -d '$DB' >/dev/null 2>&1"

# The attacker's key, and the appliance's key as if stolen.
"$PCTL" keys init -d "$T/mallory" -o "$T/mallory-auditor.key" >/dev/null 2>&1
attack() {	# NAME SQL FROM_SEQ KEY: a copy, edited, re-chained, re-signed
	local c="$T/$1.db"
	cp "$DB" "$c"
	[ -z "$2" ] || sqlite3 "$c" "DROP TRIGGER IF EXISTS audit_event_no_update; $2"
	"$FORGE" "$c" "$4" "$3" >/dev/null
	echo "$c"
}
INV=$(q "$DB" "SELECT seq FROM audit_event WHERE kind = 'invitation' ORDER BY seq LIMIT 1")
NOTE=$(q "$DB" "SELECT seq FROM audit_event WHERE kind = 'notification' AND call_id IS NOT NULL ORDER BY seq LIMIT 1")
FLIP="UPDATE audit_event SET outcome = 'forbidden', reason = 'policy' WHERE seq = $INV"
ANON="UPDATE audit_event SET call_id = NULL, tenant = NULL, http_status = 401, outcome = 'refused', reason = 'bad_signature' WHERE seq = $NOTE"

c=$(attack flip-foreign "$FLIP" "$INV" "$T/mallory/signing.key")
rc=$(verify_rc "$c"); show
check "decision flipped, re-chained, re-signed with a foreign key: caught by the pinned key" \
    sh -c "[ $rc = 1 ] && grep -q 'not signed with the pinned key' '$T/v.out'"

c=$(attack anon-stolen "$ANON" "$NOTE" "$T/keys/signing.key")
rc=$(verify_rc "$c"); show
check "call turned into an anonymous 401, re-signed with the stolen key: the pinned key alone cannot tell (exit $rc)" \
    test "$rc" = 0 -o "$rc" = 4
rc=$(verify_rc "$c" -c "$T/witnessed.json"); show
check "... caught by the witnessed checkpoint" \
    sh -c "[ $rc = 1 ] && grep -q 'rewritten before exported checkpoint' '$T/v.out'"
rc=$(verify_rc "$c" -c "$T/syslog.txt"); show
check "... caught by the checkpoint line in the log" test "$rc" = 1
rc=$(verify_rc "$c" -T "$T/tsa/ca.pem"); show
check "... caught by the time stamps (tokens no longer match the re-signed checkpoints)" \
    sh -c "[ $rc = 1 ] && grep -q 'time stamp of checkpoint .* does not verify' '$T/v.out'"
sqlite3 "$c" "DROP TRIGGER IF EXISTS audit_timestamp_no_delete; DELETE FROM audit_timestamp"
rc=$(verify_rc "$c" -T "$T/tsa/ca.pem"); show
check "... and with the time stamps removed too" \
    sh -c "[ $rc = 1 ] && grep -q 'no time-stamped checkpoint' '$T/v.out'"

c="$T/nocp.db"; cp "$DB" "$c"
sqlite3 "$c" "DROP TRIGGER audit_checkpoint_no_delete; DELETE FROM audit_checkpoint"
rc=$(verify_rc "$c"); show
check "every checkpoint deleted: never intact; caught by the pinned key (the signed head counts them)" \
    sh -c "[ $rc = 1 ] && grep -q 'checkpoints removed' '$T/v.out'"
sqlite3 "$c" "DELETE FROM audit_head"
rc=$(verify_rc "$c"); show
check "... and the signed head deleted too: caught" \
    sh -c "[ $rc = 1 ] && grep -q 'no signed head' '$T/v.out'"
c=$(attack nocp-stolen "DROP TRIGGER audit_checkpoint_no_delete; DELETE FROM audit_checkpoint; $FLIP" "$INV" "$T/keys/signing.key")
rc=$(verify_rc "$c"); show
check "every checkpoint deleted, a decision flipped, re-signed with the stolen key: the pinned key cannot tell (exit $rc)" \
    test "$rc" = 0 -o "$rc" = 4
rc=$(verify_rc "$c" -c "$T/witnessed.json"); show
check "... caught by the witnessed checkpoint" test "$rc" = 1
rc=$(verify_rc "$c" -T "$T/tsa/ca.pem"); show
check "... caught by the time stamps (a stamped checkpoint is gone)" \
    sh -c "[ $rc = 1 ] && grep -q 'time-stamped and is gone' '$T/v.out'"

# kill -9, then the unsigned tail cut off.
start_polrecd
wait_keys
for n in 4 5 6 7; do
	play_files "$(invitation c1400000-0000-4000-8000-00000000000$n)"
done
wait_for 10 sh -c "[ \$(grep -c 'answered in' '$T/polrecd.log') -ge 4 ]" || true
kill -9 "$POLRECD_PID"; wait "$POLRECD_PID" 2>/dev/null || true; POLRECD_PID=
LASTCP=$(q "$DB" "SELECT max(seq) FROM audit_checkpoint")
LAST=$(q "$DB" "SELECT max(seq) FROM audit_event")
if [ "$LAST" -le "$LASTCP" ]; then
	# Make an unsigned tail: events polrecd committed and did not sign.
	LASTCP=$((LAST - 3))
fi
echo "# after kill -9: events to $LAST, cut back to $LASTCP"
c="$T/cut.db"; cp "$DB" "$c"; cp "$DB-wal" "$c-wal" 2>/dev/null || true
sqlite3 "$c" "DROP TRIGGER audit_event_no_delete; DELETE FROM audit_event WHERE seq > $LASTCP"
rc=$(verify_rc "$c"); show
check "the unsigned tail cut off after kill -9: caught by the pinned key (the signed head)" \
    sh -c "[ $rc = 1 ] && grep -q 'trail truncated: the signed head is event $LAST' '$T/v.out'"

# Rewrite the file, then restart polrecd on it: it finds out, records
# it, starts a new segment and keeps answering.
sqlite3 "$DB" "DROP TRIGGER audit_event_no_update; $FLIP"
"$FORGE" "$DB" "$T/mallory/signing.key" "$INV" >/dev/null
start_polrecd
wait_keys
check "polrecd finds the rewrite at start-up and raises the alarm" \
    log_has 'INTEGRITY ALARM'
check "it records an integrity event naming the first bad event" \
    wait_for 5 sh -c "sqlite3 -readonly '$DB' \"SELECT json_extract(detail, '\\\$.first_bad') FROM audit_event WHERE kind = 'integrity'\" | grep -q '^[0-9]'"
ISEQ=$(q "$DB" "SELECT seq FROM audit_event WHERE kind = 'integrity'")
play_files "$(invitation c1400000-0000-4000-8000-000000000008)"
check "and keeps answering invitations" wait_for 10 log_has 'call c1400000-0000-4000-8000-000000000008: answered in'
check "show status shows the alarm" \
    sh -c "'$PCTL' -s '$T/ctl.sock' -j show status | jq -r .integrity_alarm | grep -q 'RAISED: integrity event $ISEQ'"
rc=$(verify_rc "$DB"); show
check "verify fails until it is acknowledged, naming the break" \
    sh -c "[ $rc = 1 ] && grep -q 'integrity break at event $ISEQ' '$T/v.out'"
check "acknowledging another event is refused" \
    sh -c "! '$PCTL' -s '$T/ctl.sock' audit acknowledge 1 >/dev/null 2>&1"
check "polrecctl audit acknowledge SEQ" \
    "$PCTL" -s "$T/ctl.sock" audit acknowledge "$ISEQ"
check "... is recorded with the uid" \
    test "$(q "$DB" "SELECT reason FROM audit_event WHERE kind = 'acknowledge'")" = "uid $(id -u)"
check "... and the alarm clears in show status" \
    sh -c "'$PCTL' -s '$T/ctl.sock' -j show status | jq -r .integrity_alarm | grep -qx none"
rc=$(verify_rc "$DB"); show
check "verify then passes, reporting the acknowledged break (exit $rc)" \
    sh -c "[ $rc = 0 -o $rc = 4 ] && grep -q 'acknowledged by uid' '$T/v.out' && grep -q 'left out of the chain' '$T/v.out'"
check "stop" stop_polrecd
rc=$(verify_rc "$DB"); show
check "after the stop: exit 0" test "$rc" = 0
exit $FAILED
