# Shared helpers for the fault scenarios (tests/faults/NNN-*.sh), on top of
# tests/integration/lib.sh: polrecd on a fixed loopback port (so that the
# load finds it again after a restart), the load driver, kill -9 and
# restarts that keep every log, and reconcile at the end.
. tests/integration/lib.sh

# How long each scenario's load runs; make faults keeps it short.
FAULT_SECONDS=${FAULT_SECONDS:-15}
RATE=${RATE:-100}
RECONCILE=tests/faults/reconcile
DB=$T/audit.db
LOAD_PID=
RESTARTS=0

# A free loopback port for polrecd's listener.
pick_port() {
	local p
	while :; do
		p=$(( 10000 + RANDOM % 20000 ))
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || break
	done
	echo "$p"
}
PORT=$(pick_port)

# faults_conf [EXTRA]: write_conf, listening on $PORT.
faults_conf() {
	write_conf "${1:-}"
	sed -i "s/^listen = 127.0.0.1:0$/listen = 127.0.0.1:$PORT/" "$T/polrecd.conf"
}

# The logs of the runs before this one, in order (start_polrecd empties
# polrecd.log).
keep_log() {
	[ -f "$T/polrecd.log" ] && cat "$T/polrecd.log" >>"$T/polrecd-runs.log"
}

# restart: start polrecd again on the same database (and port).
restart() {
	keep_log
	RESTARTS=$((RESTARTS + 1))
	start_polrecd
}

# kill9: kill -9 polrecd now.
kill9() {
	[ -n "$POLRECD_PID" ] || return 0
	kill -9 "$POLRECD_PID" 2>/dev/null
	wait "$POLRECD_PID" 2>/dev/null
	POLRECD_PID=
}

# start_load RATE SECONDS [LOAD OPTIONS]: the simulator's load, in the
# background, logging to $LOADLOG (default $T/load.jsonl); wait_load
# waits for its summary.
LOADLOG=$T/load.jsonl
start_load() {
	local rate=$1 secs=$2
	shift 2
	"$SIM" load -S "$SIM_URL" -u "http://127.0.0.1:$PORT/api/calling" \
	    -o "$LOADLOG" -R "$rate" -d "$secs" "$@" \
	    >>"$T/load.out" 2>>"$T/load.err" &
	LOAD_PID=$!
}
wait_load() {
	local rc=0
	[ -n "$LOAD_PID" ] || return 0
	wait "$LOAD_PID" || rc=$?
	LOAD_PID=
	tail -n 1 "$T/load.out" | sed 's/^/# load: /'
	return $rc
}

# sleep_random MIN_MS MAX_MS
sleep_random() {
	local ms=$(( $1 + RANDOM % ($2 - $1 + 1) ))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# acked: how many messages the load has had acknowledged so far.
acked() { grep -c '"ev":"final".*"status":2' "$LOADLOG" 2>/dev/null || true; }
# finals_not_2xx: final statuses other than 2xx, as "status count" lines.
finals_not_2xx() {
	jq -r 'select(.ev == "final" and (.status < 200 or .status > 299)) | .status' \
	    "$LOADLOG" 2>/dev/null | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' '
}

# reconcile_check WHAT: polrecd must be stopped; runs reconcile, prints
# its line and the offending ids, and fails the check unless it is clean.
reconcile_check() {
	local rc=0
	"$RECONCILE" -v -l "$LOADLOG" -r "$T/graph-requests.jsonl" \
	    -d "$DB" >"$T/reconcile.out" 2>&1 || rc=$?
	sed 's/^/# /' "$T/reconcile.out" | head -n 60
	if [ "$rc" -eq 0 ]; then
		ok "reconcile: ${1:-trail, client and Graph agree}"
	else
		not_ok "reconcile: ${1:-trail, client and Graph agree} ($(head -n 1 "$T/reconcile.out"))"
	fi
	return 0
}

# verify_trail: polrecctl audit verify on the stopped database.
verify_trail() {
	build/polrecctl audit verify -k "$T/keys/signing.pub" -d "$DB" \
	    >"$T/verify.out" 2>&1 || { sed 's/^/#   /' "$T/verify.out" | tail -n 10; return 1; }
}

# outcomes_settled: no live leg's outcome is open.  A leg restored
# undecided after a kill -9 is asked of Graph until it says, up to 15 s
# after its invitation (confirm.c) while Graph shows the call ringing.
outcomes_settled() {
	[ "$(ctl -j show calls | jq '[.. | objects |
	    select(.outcome? == "pending")] | length')" = 0 ]
}

# stop_clean: polrecd stops on SIGTERM, exit 0 (a check).
stop_clean() {
	if stop_polrecd; then ok "polrecd stops cleanly"; else not_ok "polrecd stops cleanly"; fi
}

[ -n "${KEEP_T:-}" ] && echo "# files in $T (KEEP_T)"
