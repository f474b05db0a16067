#!/bin/bash
# Files and permissions: the database, its -wal and -shm are mode 0640,
# group [audit] group (else polrecd's own group), never readable by
# others, whatever the umask polrecd starts with; a database found wider
# is narrowed at start-up, and the change logged.  The control socket is
# 0660, group [control] group.  Group checks need root (groupadd).
set -eu
. tests/integration/lib.sh

DB=$T/audit.db
AGRP=polrec-test-audit
CGRP=polrec-test-ctl
MADE=
mode_group() { stat -c '%a %G' "$@" | sort -u | paste -sd, -; }
del_groups() { local g; for g in $MADE; do groupdel "$g" 2>/dev/null || true; done; }
trap 'rc=$?; del_groups; (exit $rc); cleanup' EXIT

start_sim
AUTH_MODE=none write_conf
# polrecd sets its own umask: start it under the widest.
umask_start() { local old; old=$(umask); umask 000; start_polrecd; umask "$old"; }
umask_start
post tests/scenarios/notifications/p2p-established.json >/dev/null
check "without [audit] group: db, -wal and -shm are 0640, polrecd's group" \
    test "$(mode_group "$DB" "$DB-wal" "$DB-shm")" = "640 $(id -gn)"
check "the control socket is 0660" test "$(stat -c %a "$T/ctl.sock")" = 660
check "polrecd stops cleanly" stop_polrecd

if [ "$(id -u)" -ne 0 ]; then
	echo "ok - # SKIP [audit] group and [control] group: needs root for groupadd"
	exit $FAILED
fi
for g in $AGRP $CGRP; do
	if ! getent group "$g" >/dev/null; then
		groupadd "$g"
		MADE="$MADE $g"
	fi
done

# A database found wider and in another group is fixed at start-up.
chmod 0644 "$DB"
chgrp root "$DB"
AUTH_MODE=none write_conf "[audit]
group = $AGRP
[control]
group = $CGRP"
start_polrecd
post tests/scenarios/notifications/p2p-established.json >/dev/null
check "a 0644 database is made 0640, group $AGRP" \
    test "$(mode_group "$DB")" = "640 $AGRP"
check "... and the change is logged" log_has "$DB: was mode 0644 group 0, now 0640 group $(getent group $AGRP | cut -d: -f3)"
check "-wal and -shm: 0640, group $AGRP" \
    test "$(mode_group "$DB-wal" "$DB-shm")" = "640 $AGRP"
check "no file of the database is readable by others" \
    test -z "$(find "$T" -maxdepth 1 -name 'audit.db*' -perm /o=rwx)"
check "the control socket: 0660, group $CGRP" \
    test "$(mode_group "$T/ctl.sock")" = "660 $CGRP"
check "the daemon's data is still there" \
    test "$(sqlite3 -readonly "$DB" "SELECT count(*) FROM audit_event WHERE kind = 'restart'")" = 2
check "polrecd stops cleanly" stop_polrecd

# A new database, the group set from the start.
rm -f "$DB" "$DB-wal" "$DB-shm"
new_trail "a new database for the file modes"
umask_start
post tests/scenarios/notifications/p2p-established.json >/dev/null
check "a new database under umask 000: db, -wal, -shm 0640, group $AGRP" \
    test "$(mode_group "$DB" "$DB-wal" "$DB-shm")" = "640 $AGRP"
check "no change to log for a new database" sh -c "! grep -q 'was mode' '$T/polrecd.log'"
check "polrecd stops cleanly" stop_polrecd

# A group that does not exist: polrecd does not start.
AUTH_MODE=none write_conf "[audit]
group = polrec-no-such-group"
: >"$T/polrecd.log"
rc=0
timeout 10 "$POLRECD" -d -f "$T/polrecd.conf" 2>>"$T/polrecd.log" || rc=$?
check "[audit] group that does not exist: polrecd exits 1" test $rc -eq 1
check "... saying so" log_has '\[audit\] group polrec-no-such-group: no such group'
exit $FAILED
