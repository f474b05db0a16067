#!/bin/bash
# Durable legs and groups: kill -9 in the middle of a recorder group, a
# restart, and the next joins are decided as if nothing had happened.
# Restored legs are checked with Graph (GET): one Graph no longer knows
# (404) is ended, the others are kept alive.  A join acknowledged just
# before a kill -9 is not lost.  A damaged row is left out, not fatal.
set -eu
. tests/integration/lib.sh
# Participant ids are in the log only with -v (else a keyed hash).
POLRECD_ARGS=-v

CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497
GONE=e71f0300-9c1f-4d99-b5f4-2722e877d498
kill9() {
	kill -9 "$POLRECD_PID"
	wait "$POLRECD_PID" 2>/dev/null || true
	POLRECD_PID=
}
group_of() { ctl -j show calls | jq -r --arg c "$1" \
    '.calls[] | select(.id == $c) | "\(.group_used)/\(.group_capacity)"'; }

start_sim
AUTH_MODE=none write_conf "[recording]
participant_capacity = 3
overflow = reject
keepalive_interval = 60"
start_polrecd
wait_for 10 log_has 'graph token: acquired'

check "two invitations acknowledged" play_files "$(invitation $CALL)" "$(invitation $GONE)"
check "both answered" wait_for 5 sh -c "grep -q 'call $CALL: answered in' '$T/polrecd.log' &&
    grep -q 'call $GONE: answered in' '$T/polrecd.log'"
check "the first is established" wait_for 5 log_has "call $CALL: established"
r=$(post "$(join p2)")
check "join p2 accepted before the crash" test "$(verdict "$r")" = "$ACCEPT"
check "the group is 2/3" test "$(group_of $CALL)" = 2/3
check "database in WAL mode" test "$(sqlite3 "$T/audit.db" 'PRAGMA journal_mode')" = wal
check "the legs are stored" test "$(sqlite3 "$T/audit.db" 'SELECT count(*) FROM leg_state WHERE ended_utc_us IS NULL')" = 2
# The group's first member: the invitation's observed participant (a
# GUID, long enough not to turn up by chance in hashes or ciphertext).
check "no participant id in clear in the stored state" \
    sh -c "! grep -q -a 30fad2ce-8989-41a1-8a66-f6636e629a2a '$T/audit.db' '$T/audit.db-wal' 2>/dev/null"

kill9
ok "polrecd killed with SIGKILL mid-group"
keepalives_before=$(count_requests keepAlive $CALL)
sim_ctl POST "/_sim/calls/forget?id=$GONE" >/dev/null

start_polrecd
check "restart: both live legs restored" \
    wait_for 5 log_has "restored 2 live call leg(s)"
gets() { [ "$(count_requests get $CALL)" -ge 1 ] && [ "$(count_requests get $GONE)" -ge 1 ]; }
check "restored legs are asked about with GET" wait_for 5 gets
check "the leg Graph no longer knows (404) is ended" \
    wait_for 5 log_has "call $GONE: ended (unknown to Graph after restart)"
more_keepalives() { [ "$(count_requests keepAlive $CALL)" -gt "$keepalives_before" ]; }
check "the other is kept alive at once" wait_for 5 more_keepalives
check "the restore is counted" test "$(stat_of legs_restored) $(stat_of restore_ended)" = "2 1"
check "show calls: the restored group is still 2/3" test "$(group_of $CALL)" = 2/3

r=$(post "$(join p2)")
check "a retransmitted join after the restart: accepted as before" test "$(verdict "$r")" = "$ACCEPT"
check "... with no slot used" log_has "call $CALL: join of p2: accept (capacity), as before; group 2/3"
r=$(post "$(join p3)")
check "the next join takes the last slot" test "$(verdict "$r")" = "$ACCEPT"
r=$(post "$(join p4)")
check "then the group is full: rejected busy" test "$(verdict "$r")" = "$BUSY"
check "... capacity_full" log_has "join of p4: busy (capacity_full)"
r=$(post "$(join p9 $GONE)")
check "a join for the ended leg: busy" test "$(verdict "$r")" = "$BUSY"

# Acknowledged, then killed at once: the decision must survive.
r=$(post "$(left p3)")
check "p3 leaves" test "${r%% *}" = 202
r=$(post "$(join p6)")
check "p6 takes the freed slot" test "$(verdict "$r")" = "$ACCEPT"
kill9
start_polrecd
check "second restart" wait_for 5 log_has "restored 1 live call leg(s)"
r=$(post "$(join p6)")
check "p6, acknowledged just before kill -9, is still in the group" \
    log_has "join of p6: accept (capacity), as before; group 3/3"
r=$(post "$(join p3)")
check "and p3's slot is still taken: busy" test "$(verdict "$r")" = "$BUSY"
check "polrecd stops cleanly" stop_polrecd

# A damaged row is left out and logged; the daemon starts anyway.
sqlite3 "$T/audit.db" "INSERT INTO leg_state (call_id, state, decision, outcome,
    arrival_utc_us, capture, rec_confirmed, rec_sent, blob_issued,
    group_capacity, group_members, roster, roster_sequence, roster_seen,
    updated_utc_us) VALUES ('c3000000-0000-4000-8000-000000000003',
    'established', 'answer', 'answered', 1, 'unknown', 'none', 'none', 0,
    3, x'0102', x'00', -1, 1, 1),
    ('c3000000-0000-4000-8000-000000000004', 'flying', 'answer', 'answered',
    1, 'unknown', 'none', 'none', 0, NULL, NULL, NULL, -1, 0, 1)"
start_polrecd
check "a row with an unknown state is left out" \
    wait_for 5 log_has "row c3000000-0000-4000-8000-000000000004 left out"
check "a damaged group is refused, the leg kept" \
    log_has "call c3000000-0000-4000-8000-000000000003: stored recorder group is damaged"
check "polrecd stops cleanly after that" stop_polrecd
exit $FAILED
