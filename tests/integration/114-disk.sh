#!/bin/bash
# A full disk: the database on a small tmpfs, filled up under load.  The
# commit that finds no room releases the reserve file and goes through,
# so the invitation under way is acknowledged and its answer recorded;
# then new invitations get 503 while notifications about the legs already
# answered are still recorded; show status and the log say so.  When the
# reserve is spent too, notifications get 503 and are not written later
# as if acknowledged; sent again once there is room, each is recorded
# once.  Freed space brings the reserve back.  Needs root (mount).
set -eu
. tests/integration/lib.sh

if [ "$(id -u)" -ne 0 ] || ! mkdir -p "$T/disk" ||
    ! mount -t tmpfs -o size=48m tmpfs "$T/disk" 2>/dev/null; then
	ok "# SKIP a full disk needs root and a tmpfs mount"
	exit 0
fi
umount_disk() { umount -l "$T/disk" 2>/dev/null || true; }
trap 'umount_disk; cleanup' EXIT

q() { sqlite3 "$T/disk/audit.db" "$1"; }
fill() { dd if=/dev/zero of="$T/disk/fill$1" bs=64k 2>/dev/null || true; sync; }
status_disk() { ctl -j show status | jq -c '{reserve: .disk_reserve, refusing_invitations: .disk_refusing_invitations}'; }
established() {
	local f="$T/est-$1.json"
	sed "s/57DAB8B1894C409AB240BD8BEAE78896/$1/g" \
	    tests/scenarios/notifications/p2p-established.json >"$f"
	echo "$f"
}

start_sim
AUTH_MODE=none write_conf "[audit]
disk_reserve_mb = 8"
sed -i "s|^database = .*|database = $T/disk/audit.db|" "$T/polrecd.conf"
start_polrecd
wait_for 10 log_has 'graph token: acquired'
check "the reserve is taken at start-up" log_has 'disk: 8 MiB reserved for the audit trail'
check "show status: reserve held" test "$(status_disk | jq -r .reserve)" = held

fill 1
ok "the file system is full ($(df -k "$T/disk" | awk 'NR==2 {print $4}') KiB free)"
# Invitations until a commit finds no room (the WAL may have room left).
first=
for i in $(seq -w 1 400); do
	id=f0000000-0000-4000-8000-000000000$i
	s=$(play_one "$(invitation $id)" "inv-$i")
	if [ "$s" != 202 ]; then first=; break; fi
	if log_has 'released the 8 MiB reserve'; then first=$id; break; fi
done
check "a commit found the disk full and released the reserve" test -n "$first"
check "... and the invitation under way was acknowledged and answered" \
    wait_for 5 log_has "call $first: answered in"
check "show status: the reserve is spent, invitations refused" \
    test "$(status_disk | jq -c '[.reserve, .refusing_invitations]')" = '["spent",true]'
s=$(play_one "$(invitation f1000000-0000-4000-8000-000000000001)" inv-refused)
check "a new invitation gets 503 (got $s)" test "$s" = 503
check "... and is not answered" test "$(count_requests answer f1000000-0000-4000-8000-000000000001)" = 0
s=$(play_one "$(established $first)" est-first)
check "a notification about a leg already answered is still recorded (got $s)" test "$s" = 202

# The reserve spent too: nothing acknowledged, nothing written later.
fill 2
refused=
for i in $(seq 1 400); do
	s=$(play_one "$(established $first)" "late-$i")
	if [ "$s" = 503 ]; then refused=late-$i; break; fi
done
check "with the reserve spent too, a notification gets 503" test -n "$refused"
rm -f "$T/disk"/fill*
check "room again: the reserve is taken back" \
    wait_for 15 log_has 'held again and invitations are accepted'
check "show status: reserve held" test "$(status_disk | jq -c '[.reserve, .refusing_invitations]')" = '["held",false]'
s=$(play_one "$(established $first)" "$refused")
check "the refused notification, sent again, is acknowledged" test "$s" = 202
s=$(play_one "$(invitation f1000000-0000-4000-8000-000000000001)" inv-again)
check "the refused invitation, sent again, is acknowledged" test "$s" = 202
check "... and answered" wait_for 5 log_has "call f1000000-0000-4000-8000-000000000001: answered in"
check "polrecd stops cleanly" stop_polrecd

check "the refused notification is in the trail once, as acknowledged" \
    test "$(q "SELECT group_concat(http_status) FROM audit_event WHERE msg_id = '$refused' AND kind = 'notification'")" = 202
check "no notification is recorded acknowledged that was refused" \
    test "$(q "SELECT count(*) FROM audit_event WHERE msg_id = 'inv-refused' AND kind = 'notification'")" = 0
check "the refusals are recorded (disk_full, storage_failed)" \
    test "$(q "SELECT count(DISTINCT reason) FROM audit_event WHERE kind = 'notification' AND outcome = 'deferred' AND reason IN ('disk_full', 'storage_failed')")" = 2
answered_sim=$(jq -r 'select(.action == "answer" and .status == 202) | .call_id' "$T/graph-requests.jsonl" | sort)
answered_trail=$(q "SELECT call_id FROM audit_event WHERE kind = 'answer' AND outcome = 'ok'" | sort)
check "every answer Graph took is in the trail, once ($(echo "$answered_sim" | grep -c .) answers)" \
    test "$answered_sim" = "$answered_trail"
check "the trail verifies" sh -c "build/polrecctl audit verify -k $T/keys/signing.pub -d $T/disk/audit.db >$T/verify.out 2>&1"
exit $FAILED
