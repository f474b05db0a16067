#!/bin/bash
# Damaged and missing databases at start-up: polrecd must refuse to
# start (exit non-zero, never listen) and must not create or alter any
# file; with its own database back it starts.
set -u
. tests/faults/lib.sh

start_sim
faults_conf
start_polrecd
wait_keys
wait_for 10 log_has 'graph token: acquired'
start_load "$RATE" 3
wait_load
stop_clean
reconcile_check "the trail to damage"
cp "$T/audit.db" "$T/good.db"

snapshot() { (cd "$T" && find . -maxdepth 1 -name 'audit.db*' -printf '%f %s\n' | sort;
    sha256sum audit.db* 2>/dev/null) ; }
# refuses WHAT: polrecd must exit non-zero within 15 s without listening,
# and leave audit.db* as they were.
refuses() {
	local what=$1 before after pid rc=0
	before=$(snapshot)
	: >"$T/refuse-$what.log"
	"$POLRECD" -d -f "$T/polrecd.conf" 2>"$T/refuse-$what.log" &
	pid=$!
	wait_for 15 sh -c "! kill -0 $pid 2>/dev/null || grep -q 'listening on' '$T/refuse-$what.log'"
	if kill -0 "$pid" 2>/dev/null; then
		echo "# $what: polrecd started and listens"
		kill -9 "$pid"; wait "$pid" 2>/dev/null
		grep -m 3 -E 'listening|restore' "$T/refuse-$what.log" | sed 's/^/#   /'
		return 1
	fi
	wait "$pid" || rc=$?
	after=$(snapshot)
	echo "# $what: exit $rc: $(grep -v '^$' "$T/refuse-$what.log" | tail -n 1 | cut -c1-160)"
	[ "$rc" -ne 0 ] || return 1
	! grep -q 'listening on' "$T/refuse-$what.log" || return 1
	[ "$before" = "$after" ] || { echo "# $what: files changed:"; diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'; return 1; }
}

size=$(stat -c %s "$T/good.db")
cp "$T/good.db" "$T/audit.db"; rm -f "$T/audit.db-wal" "$T/audit.db-shm"
head -c 8192 /dev/urandom | dd of="$T/audit.db" bs=1 seek=$(( size / 2 )) conv=notrunc status=none
check "8 KiB of random bytes in the middle: refused, nothing altered" refuses random-middle

cp "$T/good.db" "$T/audit.db"
truncate -s $(( size / 2 )) "$T/audit.db"
check "truncated to half: refused, nothing altered" refuses truncated

rm -f "$T"/audit.db*
check "missing (keys kept): refused, no database created" refuses missing
check "... and no audit.db appeared" test ! -e "$T/audit.db"

: >"$T/audit.db"
check "an empty file: refused, nothing altered" refuses empty

printf 'SQLite format 3\0' >"$T/audit.db"; head -c 4080 /dev/zero >>"$T/audit.db"
check "a header and zeros: refused, nothing altered" refuses header-only

sqlite3 "$T/audit.db.other" 'CREATE TABLE t (x); INSERT INTO t VALUES (1);' && mv "$T/audit.db.other" "$T/audit.db"
check "another application's SQLite database: refused, nothing altered" refuses foreign

cp "$T/good.db" "$T/audit.db"
keep_log
start_polrecd
check "its own database: polrecd starts" kill -0 "$POLRECD_PID"
stop_clean
check "the good trail verifies" verify_trail
exit $FAILED
