#!/bin/bash
# polrecd refuses to start on a database it did not write (issue 13):
# a missing or empty database while the keys exist needs a recorded
# `polrecctl audit new-trail`; a damaged file and another appliance's
# trail are refused, each with one log line saying what to do.  A
# normal restart still works.
set -eu
. tests/integration/lib.sh

PCTL=build/polrecctl
DB=$T/audit.db
q() { sqlite3 -readonly "$DB" "$1"; }

# refused WHAT: polrecd exits non-zero by itself, saying WHAT.
refused() {
	local rc=0
	: >"$T/polrecd.log"
	timeout 60 "$POLRECD" -d -f "$T/polrecd.conf" 2>>"$T/polrecd.log" ||
	    rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && log_has "$1"
}
show_log() { sed 's/^/#   /' "$T/polrecd.log" | tail -n 3; }

start_sim
write_conf
start_polrecd
wait_keys
check "keys init authorised the first trail: its first event is new_trail" \
    test "$(q "SELECT kind || ' ' || json_extract(detail, '$.command') FROM audit_event WHERE seq = 1")" = "new_trail keys init"
check "... and the authorisation is used up" test ! -e "$DB.new-trail"
check "stop" stop_polrecd

# (e) A normal restart.
start_polrecd
check "a normal restart works" log_has 'audit trail: intact'
check "stop" stop_polrecd
cp "$DB" "$T/good.db"

# (a) The database removed, the keys kept.
rm -f "$DB" "$DB-wal" "$DB-shm"
check "database removed, keys kept: polrecd refuses to start" \
    refused 'does not exist, but this appliance.s keys exist'
show_log
check "... in one line that says what to do" \
    test "$(grep -c 'polrecctl audit new-trail' "$T/polrecd.log")" = 1
check "... and creates nothing" sh -c "! ls '$DB' '$DB-wal' '$DB-shm' >/dev/null 2>&1"
check "polrecd -n says the same, exit 1" \
    sh -c "! '$POLRECD' -n -f '$T/polrecd.conf' 2>'$T/n.out' &&
	grep -q 'does not exist, but' '$T/n.out'"
check "polrecctl audit new-trail -r test" \
    "$PCTL" -f "$T/polrecd.conf" audit new-trail -r test
check "... writes the authorisation, mode 0600" \
    test "$(stat -c %a "$DB.new-trail")" = 600
start_polrecd
wait_keys
check "polrecd starts a new trail" log_has 'a new audit trail, authorised by uid'
check "its first event is new_trail, with the uid and the reason" \
    test "$(q "SELECT kind, reason, json_extract(detail, '$.uid'), json_extract(detail, '$.reason') FROM audit_event WHERE seq = 1")" = "new_trail|uid $(id -u)|$(id -u)|test"
check "the authorisation is used up" test ! -e "$DB.new-trail"
check "new-trail over a trail is refused" \
    sh -c "! '$PCTL' -f '$T/polrecd.conf' audit new-trail -r again 2>'$T/nt.err'"
check "... saying why" grep -q 'holds an audit trail' "$T/nt.err"
check "stop" stop_polrecd
check "polrecctl audit verify passes" \
    "$PCTL" -f "$T/polrecd.conf" audit verify

# (b) An empty file.
: >"$DB"
rm -f "$DB-wal" "$DB-shm"
check "a zero-length database: refused" refused 'is an empty file, but'
show_log
check "... and left as it was" test ! -s "$DB"

# (c) 8 KiB of random bytes in the middle of a database with events and
# legs: a large trail made with the appliance's keys, then invitations.
rm -f "$DB"
build/tools/mktrail "$DB" "$T/keys" 20000 >/dev/null
start_polrecd
wait_keys
for n in $(seq 10 49); do
	play_files "$(invitation c1600000-0000-4000-8000-0000000000$n)"
done
check "40 invitations answered on the large trail" \
    wait_for 20 sh -c "[ \$(grep -c 'answered in' '$T/polrecd.log') -ge 40 ]"
check "stop" stop_polrecd
check "the large trail verifies" \
    sh -c "'$PCTL' -f '$T/polrecd.conf' audit verify >/dev/null"
size=$(stat -c %s "$DB")
pages=$(( size / 4096 ))
echo "# database: $size bytes; 8 KiB of random bytes at page $(( pages / 2 ))"
dd if=/dev/urandom of="$DB" bs=4096 seek=$(( pages / 2 )) count=2 \
    conv=notrunc status=none
check "8 KiB of random bytes in the middle: refused, naming the integrity check" \
    refused 'fails the integrity check at start-up (quick_check'
show_log
check "... no leg restored, nothing appended" \
    sh -c "! grep -q 'restored' '$T/polrecd.log'"

# (d) Another appliance's trail, copied in.
build/polrecctl keys init -d "$T/other" -o "$T/other-auditor.key" \
    >/dev/null 2>&1
rm -f "$DB"
build/tools/mktrail "$DB" "$T/other" 100 >/dev/null
check "a database signed with another key set: refused" \
    refused 'is not this appliance.s trail: it is signed with key'
show_log

# Back to the appliance's own database: it starts.
cp "$T/good.db" "$DB"
start_polrecd
check "its own database again: polrecd starts" log_has 'audit trail: intact'
check "stop" stop_polrecd
exit $FAILED
