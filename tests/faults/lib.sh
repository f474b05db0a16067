# Shared helpers for the fault scenarios (tests/faults/NNN-*.sh), on top of
# tests/integration/lib.sh: polrecd on a fixed loopback port (so that the
# load finds it again after a restart), the load driver, kill -9 and
# restarts that keep every log, and reconcile at the end.
. tests/integration/lib.sh

# How long each scenario's load runs; make faults keeps it short.
FAULT_SECONDS=${FAULT_SECONDS:-15}
RATE=${RATE:-100}
RECONCILE=tests/faults/reconcile
LOAD_PID=
RESTARTS=0

# A free loopback port for polrecd's listener.
pick_port() {
	local p
	while :; do
		p=$(( 20000 + RANDOM % 30000 ))
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

# The log of every run of polrecd, in order.
keep_log() {
	[ -f "$T/polrecd.log" ] && cat "$T/polrecd.log" >>"$T/polrecd-runs.log"
	: >"$T/polrecd.log"
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
# background, logging to $T/load.jsonl; wait_load waits for its summary.
start_load() {
	local rate=$1 secs=$2
	shift 2
	"$SIM" load -S "$SIM_URL" -u "http://127.0.0.1:$PORT/api/calling" \
	    -o "$T/load.jsonl" -R "$rate" -d "$secs" "$@" \
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
acked() { grep -c '"ev":"final".*"status":2' "$T/load.jsonl" 2>/dev/null || true; }

# reconcile_check WHAT: polrecd must be stopped; runs reconcile, prints
# its line and the offending ids, and fails the check unless it is clean.
reconcile_check() {
	local rc=0
	"$RECONCILE" -v -l "$T/load.jsonl" -r "$T/graph-requests.jsonl" \
	    -d "$T/audit.db" >"$T/reconcile.out" 2>&1 || rc=$?
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
	build/polrecctl audit verify -k "$T/keys/signing.pub" -d "$T/audit.db" \
	    >"$T/verify.out" 2>&1 || { sed 's/^/#   /' "$T/verify.out" | tail -n 10; return 1; }
}

# stop_clean: polrecd stops on SIGTERM, exit 0 (a check).
stop_clean() {
	if stop_polrecd; then ok "polrecd stops cleanly"; else not_ok "polrecd stops cleanly"; fi
	keep_log
}

# Where the logs are when something failed: keep them for a developer.
fault_cleanup_hint() {
	if [ "$FAILED" -ne 0 ] && [ -n "${KEEP_T:-}" ]; then
		echo "# kept: $T"
	fi
}
