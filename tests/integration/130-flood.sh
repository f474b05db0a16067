#!/bin/bash
# A flood cannot fill the disk or silently drop evidence (issue 11):
# 100,000 unauthenticated requests from 16 loopback networks while the
# simulator posts signed invitations.  Refusals are aggregated (one
# event per reason and network per second, with counts and call ids),
# the database grows by less than 1 MB, and every invitation is answered
# within the budget.  Then, with the database locked, notifications past
# [audit] max_pending_events get 503 and Retry-After instead of events
# being dropped, and everything acknowledged is in the trail.
set -eu
. tests/integration/lib.sh

FLOOD=build/tools/flood
DB=$T/audit.db
N=${FLOOD_REQUESTS:-100000}
q() { sqlite3 -readonly "$DB" "$1"; }
db_bytes() { echo $(( $(q 'PRAGMA page_count') * $(q 'PRAGMA page_size') )); }

start_sim
write_conf
start_polrecd
wait_keys
play_files "$(invitation c1300000-0000-4000-8000-000000000000)"
wait_for 10 log_has 'call c1300000-0000-4000-8000-000000000000: answered in'
sleep 1.5
before=$(db_bytes)

"$FLOOD" "$POLRECD_ADDR" /api/calling tests/scenarios/notifications/example3-invitation.json \
    "$N" 32 16 >"$T/flood.out" 2>&1 &
FPID=$!
# Signed invitations, one after another, while the flood runs.
i=0
while kill -0 $FPID 2>/dev/null && [ $i -lt 40 ]; do
	i=$((i + 1))
	play_files "$(invitation "$(printf 'c1300000-0000-4000-8000-%012d' $i)")" || true
done
sent_inv=$i
wait $FPID || true
echo "# flood: $(cat "$T/flood.out")"
check "the flood ran: $N requests answered" \
    sh -c "grep -q 'answered $N failed 0' '$T/flood.out'"
check "every flood request was refused 401" \
    sh -c "grep -q ' 401:$N\$' '$T/flood.out'"
check "invitations were posted during the flood ($sent_inv)" test "$sent_inv" -ge 3
sleep 1.5	# the aggregate is written once a second
after=$(db_bytes)
growth=$((after - before))
echo "# database grew by $growth bytes for $N refused requests"
check "the database grew by less than 1 MB ($growth bytes)" test "$growth" -lt 1048576
counted=$(q "SELECT coalesce(sum(json_extract(detail, '\$.count')), 0) FROM audit_event WHERE kind = 'notification' AND outcome = 'refused' AND json_extract(detail, '\$.network') IS NOT NULL")
rows=$(q "SELECT count(*) FROM audit_event WHERE kind = 'notification' AND outcome = 'refused' AND json_extract(detail, '\$.network') IS NOT NULL")
echo "# $rows aggregated refusal events stand for $counted refusals"
check "every refusal is accounted for in the trail ($counted of $N)" test "$counted" = "$N"
check "one event per reason and network per second, not per request ($rows)" test "$rows" -lt 2000
check "refusals are grouped by /24" \
    test "$(q "SELECT count(DISTINCT json_extract(detail, '\$.network')) FROM audit_event WHERE kind = 'notification' AND outcome = 'refused' AND json_extract(detail, '\$.network') LIKE '127.0.%.0/24'")" = 16
check "a refused invitation stays findable by its call id" \
    test "$(q "SELECT count(*) FROM audit_event WHERE kind = 'notification' AND outcome = 'refused' AND call_id = 'e71f0300-9c1f-4d99-b5f4-2722e877d497'")" -ge 1
answered=$(q "SELECT count(*) FROM answers WHERE call_id LIKE 'c1300000-%' AND call_id != 'c1300000-0000-4000-8000-000000000000' AND outcome = 'ok'")
worst=$(q "SELECT max(latency_ms) FROM answers WHERE call_id LIKE 'c1300000-%' AND call_id != 'c1300000-0000-4000-8000-000000000000'")
echo "# $answered of $sent_inv signed invitations answered during the flood; worst arrival-to-answer ${worst} ms"
check "every signed invitation posted during the flood was answered" test "$answered" = "$sent_inv"
check "... within the answer budget (worst ${worst} ms)" \
    awk -v w="$worst" 'BEGIN { exit !(w != "" && w < 2500) }'
check "polrecd is still up" kill -0 "$POLRECD_PID"
check "stats count the refusals" \
    sh -c "build/polrecctl -s '$T/ctl.sock' -j show stats | jq -e '.notifications_refused >= $N' >/dev/null"
check "polrecd stops cleanly" stop_polrecd

# Backlog: the database locked by another writer, a small bound.
AUTH_MODE=none write_conf "[audit]
max_pending_events = 10"
start_polrecd
( echo 'BEGIN EXCLUSIVE;'; sleep 8; echo 'COMMIT;' ) | sqlite3 "$DB" &
LOCK=$!
sleep 0.5
seq 1 100 | xargs -P 32 -I{} sh -c '
	curl -s -o /dev/null -D - -X POST -H "Content-Type: application/json" \
	    -H "X-Microsoft-Skype-Message-ID: backlog-{}" \
	    --data-binary @tests/scenarios/notifications/p2p-established.json \
	    "'"$WEBHOOK"'" 2>/dev/null | tr -d "\r" |
	    awk -v id={} "/^HTTP/ {s = \$2} /^Retry-After/ {r = \$2} END {print id, s, r}"' >"$T/backlog.out"
wait $LOCK
sleep 2
echo "# backlog: $(awk '{print $2}' "$T/backlog.out" | sort | uniq -c | tr '\n' ' ')"
check "past the bound, notifications get 503 with Retry-After" \
    sh -c "awk '\$2 == 503 && \$3 != \"\"' '$T/backlog.out' | grep -q ."
check "... counted" \
    sh -c "build/polrecctl -s '$T/ctl.sock' -j show stats | jq -e '.notifications_refused_backlog >= 1' >/dev/null"
check "... logged" log_has 'notifications refused (503)'
check "... and aggregated in the trail" \
    wait_for 5 sh -c "[ \$(sqlite3 -readonly '$DB' \"SELECT count(*) FROM audit_event WHERE reason = 'audit_backlog'\") -ge 1 ]"
awk '$2 ~ /^2/ {print "backlog-" $1}' "$T/backlog.out" | sort >"$T/acked"
q "SELECT msg_id FROM audit_event WHERE msg_id LIKE 'backlog-%'" | sort -u >"$T/stored"
echo "# $(wc -l <"$T/acked") acknowledged, $(wc -l <"$T/stored") in the trail"
comm -23 "$T/acked" "$T/stored" | head -n 5 | sed 's/^/# missing: /'
check "every acknowledged notification is in the trail" \
    test -z "$(comm -23 "$T/acked" "$T/stored")"
check "no event was dropped" \
    sh -c "build/polrecctl -s '$T/ctl.sock' -j show stats | jq -e '.audit_events_dropped == 0' >/dev/null"
check "polrecd stops cleanly" stop_polrecd
exit $FAILED
