#!/bin/bash
# Retention has a floor: `polrecctl audit prune` refuses a cutoff within
# [audit] retention_min (default five years) or in the future, saying
# which floor and the latest cutoff allowed, and the refusal is in the
# trail with the caller's uid.  Every mutating control command records
# the caller's uid (drain on and off, reload).
set -eu
. tests/integration/lib.sh

DB=$T/audit.db
UID_NOW=$(id -u)
q() { sqlite3 -readonly "$DB" "$1"; }
# refused CUTOFF PATTERN: prune is refused (exit 1) with a message matching PATTERN.
refused() {
	local rc=0
	ctl audit prune "$1" >"$T/prune.out" 2>&1 || rc=$?
	sed 's/^/#   /' "$T/prune.out"
	[ $rc -eq 1 ] && grep -q -- "$2" "$T/prune.out"
}
# recorded OUTCOME N: N control events of that outcome, each with our uid.
recorded() {
	wait_for 5 sh -c "[ \"\$(sqlite3 -readonly '$DB' \"SELECT count(*) FROM audit_event WHERE kind = 'control' AND outcome = '$1' AND reason = 'uid $UID_NOW' AND json_extract(detail, '\$.uid') = $UID_NOW\")\" = $2 ]"
}

start_sim
AUTH_MODE=none write_conf
start_polrecd

# The default floor: five years (of 366 days).
y5=$(date -u -d "@$(( $(date +%s) - 5 * 366 * 86400 + 86400 ))" +%Y-%m-%d)
check "default floor: a cutoff four years ago is refused, naming the floor" \
    refused "$(date -u -d '4 years ago' +%Y-%m-%d)" 'retention floor (\[audit\] retention_min = 5y)'
check "... and the latest cutoff allowed" grep -q 'the latest cutoff allowed now is [0-9-]*T[0-9:.]*Z' "$T/prune.out"
check "default floor: a day short of 5 y is refused" refused "$y5" 'retention_min = 5y'
check "default floor: yesterday is refused" refused "$(date -u -d yesterday +%Y-%m-%d)" 'retention_min = 5y'
check "a cutoff in the future is refused" refused "$(date -u -d tomorrow +%Y-%m-%d)" 'is in the future'
check "a cutoff of seconds since the epoch in the future too" refused "$(( $(date +%s) + 3600 ))" 'is in the future'
check "not a time: refused" refused 'next week' 'not a time'
check "the refusals are audit events with the caller's uid" recorded 'prune refused' 6
check "... naming the argument and the error" \
    test "$(q "SELECT count(*) FROM audit_event WHERE kind = 'control' AND outcome = 'prune refused' AND json_extract(detail, '\$.command') = 'audit prune' AND json_extract(detail, '\$.error') LIKE '%in the future%'")" = 2
check "nothing was removed" test "$(q "SELECT count(*) FROM audit_event WHERE kind = 'retention'")" = 0
check "the refusals are logged" log_has "control: uid $UID_NOW: audit prune prune refused: cutoff"
out=$(ctl -j audit prune 2000-01-01)
check "a cutoff older than the floor is allowed" test "$(printf '%s' "$out" | jq .removed)" = 0
check "... removing nothing, recorded with the caller's uid" recorded 'prune nothing' 1

# drain on and off, each with the caller's uid, even when nothing changes.
ctl drain on >/dev/null
check "drain on: an audit event with the caller's uid" recorded 'drain on' 1
ctl drain on >/dev/null
check "drain on again: recorded too, as no change" recorded 'drain on' 2
check "... changed false" \
    test "$(q "SELECT group_concat(json_extract(detail, '\$.changed')) FROM (SELECT detail FROM audit_event WHERE outcome = 'drain on' ORDER BY seq)")" = 1,0
ctl drain off >/dev/null
check "drain off: an audit event with the caller's uid" recorded 'drain off' 1
# reload through the socket: how it went, and who asked, in the trail.
check "polrecctl reload" ctl reload
check "... recorded with the caller's uid" \
    wait_for 5 sh -c "[ \"\$(sqlite3 -readonly '$DB' \"SELECT json_extract(detail, '\\\$.by') FROM audit_event WHERE kind = 'reload' AND outcome = 'ok'\")\" = 'uid $UID_NOW' ]"
cp "$T/polrecd.conf" "$T/polrecd.conf.good"
echo "frobnicate = 1" >>"$T/polrecd.conf"
rc=0; ctl reload >"$T/reload.out" 2>&1 || rc=$?
check "a broken reload fails (exit 1), saying why" \
    sh -c "[ $rc = 1 ] && grep -q 'unknown directive frobnicate' '$T/reload.out'"
check "... recorded as failed, with the reason and the uid" \
    wait_for 5 sh -c "sqlite3 -readonly '$DB' \"SELECT reason, json_extract(detail, '\\\$.by') FROM audit_event WHERE kind = 'reload' AND outcome = 'failed'\" | grep -q 'frobnicate.*|uid $UID_NOW'"
cp "$T/polrecd.conf.good" "$T/polrecd.conf"
check "... and the caller's pid" \
    test "$(q "SELECT json_extract(detail, '\$.pid') > 0 FROM audit_event WHERE outcome = 'drain off'")" = 1
check "polrecd stops cleanly" stop_polrecd

# A short floor, as a test may configure.
last=$(q "SELECT max(utc_us) / 1000000 + 1 FROM audit_event")
AUTH_MODE=none write_conf "[audit]
retention_min = 2s"
start_polrecd
check "2 s floor: a cutoff a second ago is refused" refused "$(( $(date +%s) - 1 ))" 'retention_min = 2s'
wait_for 5 sh -c "[ \$(date +%s) -ge $((last + 2)) ]"
out=$(ctl -j audit prune "$last")
check "2 s floor: a cutoff 2 s ago is allowed, and removes the older events" \
    test "$(printf '%s' "$out" | jq .removed)" -ge 10
check "the retention event records the caller's uid" \
    test "$(q "SELECT reason FROM audit_event WHERE kind = 'retention'")" = "uid $UID_NOW"
verify_ok() {	# intact: 0, or 4 while the newest events are not yet covered
	local rc=0
	build/polrecctl audit verify -k "$T/keys/signing.pub" -d "$DB" >"$T/verify.out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 4 ] || { sed 's/^/#   /' "$T/verify.out"; return 1; }
}
check "the trail verifies" verify_ok
check "polrecd stops cleanly" stop_polrecd

# Durations take a unit; anything else is a configuration error.
AUTH_MODE=none write_conf "[audit]
retention_min = 5 years"
rc=0
"$POLRECD" -n -f "$T/polrecd.conf" >"$T/n.out" 2>&1 || rc=$?
check "retention_min = 5 years: the configuration is refused" test $rc -eq 1
check "... with file:line and what a duration looks like" \
    grep -q "polrecd.conf:[0-9]*: retention_min: expected a duration such as 5y" "$T/n.out"
exit $FAILED
