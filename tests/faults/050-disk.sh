#!/bin/bash
# A full disk under load, combined with kill -9: the database on a small
# tmpfs, filled by a filler file, a kill -9 and a restart while it is
# full, then freed.  Refused notifications must be recorded with the
# status actually sent, nothing recorded twice, no answer lost, and
# show status must say the disk is full.  Needs root (mount).
set -u
. tests/faults/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "ok - skip: the full-disk scenario needs root to mount a tmpfs"
	exit 0
fi
mkdir -p "$T/disk"
if ! mount -t tmpfs -o size=${DISK_MB:-48}m polrec-faults "$T/disk" 2>"$T/mount.err"; then
	echo "ok - skip: cannot mount a tmpfs: $(cat "$T/mount.err")"
	exit 0
fi
# Unmount before the temp dir goes (cleanup kills polrecd first).
trap 'rc=$?; [ -n "$POLRECD_PID" ] && kill -9 "$POLRECD_PID" 2>/dev/null; wait "$POLRECD_PID" 2>/dev/null; POLRECD_PID=; umount -l "$T/disk" 2>/dev/null; (exit $rc); cleanup' EXIT

start_sim
faults_conf
DB=$T/disk/audit.db
sed -i "s|^database = .*|database = $DB|" "$T/polrecd.conf"
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
start_load "$RATE" "$FAULT_SECONDS"
sleep $(( FAULT_SECONDS / 4 ))
dd if=/dev/zero of="$T/disk/filler" bs=64k 2>/dev/null
echo "# disk full: $(df -k "$T/disk" | awk 'NR == 2 {print $4 " kB free"}')"
sleep 2
timeout 5 build/polrecctl -s "$T/ctl.sock" show status >"$T/status-full.out" 2>&1
check "show status says the disk is full" grep -qi 'disk\|space\|reserve\|full' "$T/status-full.out"
kill9
restart_rc=0
keep_log
"$POLRECD" -d -f "$T/polrecd.conf" 2>"$T/polrecd.log" &
POLRECD_PID=$!
if wait_for 10 grep -q 'listening on' "$T/polrecd.log"; then
	echo "# restarted on a full disk"
else
	echo "# did not start on a full disk: $(tail -n 1 "$T/polrecd.log" | cut -c1-160)"
	kill -9 "$POLRECD_PID" 2>/dev/null; wait "$POLRECD_PID" 2>/dev/null; POLRECD_PID=
	restart_rc=1
fi
sleep 2
rm -f "$T/disk/filler"
echo "# disk freed"
[ "$restart_rc" -eq 0 ] || restart
check "the load ran" wait_load
sleep 2
stop_clean
reconcile_check "full disk and kill -9"
check "the trail verifies" verify_trail
exit $FAILED
