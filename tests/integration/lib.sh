# Shared helpers for the integration scripts: each script starts the real
# binaries on loopback ephemeral ports in a private temp dir, prints
# "ok - what" or "not ok - what" per check, and cleans up on exit.
set -u

T=$(mktemp -d /tmp/polrec-it.XXXXXX)
SIM_PID=
POLRECD_PID=
FAILED=0
APP_ID=11111111-2222-3333-4444-555555555555
TENANT_ID=932899f8-2ea1-4604-8413-27bd2892079f
SIM=build/polrec-graphsim
POLRECD=build/polrecd

cleanup() {
	local rc=$? f
	[ -n "$POLRECD_PID" ] && kill -9 "$POLRECD_PID" 2>/dev/null
	[ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null
	wait 2>/dev/null
	# Under SANITIZE= builds, any report in a daemon's log fails the script.
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
			not_ok "no sanitizer report in ${f##*/}"
			grep -A 12 -E 'ERROR: |runtime error:' "$f" | sed 's/^/#   /' | head -n 40
			rc=1
		fi
	done
	if [ "$FAILED" -ne 0 ]; then
		echo "# polrecd log:"; sed 's/^/#   /' "$T/polrecd.log" 2>/dev/null | tail -n 40
		echo "# simulator log:"; sed 's/^/#   /' "$T/sim.log" 2>/dev/null | tail -n 20
	fi
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
	local deadline=$(( $(date +%s) + $1 ))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

start_sim() {
	"$SIM" serve -d -l 127.0.0.1:0 -k "$T/sim-key.pem" -a "$APP_ID" \
	    -T "$TENANT_ID" -P "$T/sim.port" -r "$T/graph-requests.jsonl" \
	    "$@" 2>"$T/sim.log" &
	SIM_PID=$!
	if ! wait_for 10 test -s "$T/sim.port"; then
		not_ok "simulator started"
		exit 1
	fi
	SIM_URL="http://$(cat "$T/sim.port")"
	export POLREC_SIM_URL=$SIM_URL
}

# write_conf [EXTRA_LINES]: a polrecd.conf against the simulator.
write_conf() {
	cat >"$T/polrecd.conf" <<CONF
[http]
listen = 127.0.0.1:0
notification_path = /api/calling
callback_url = http://127.0.0.1:9/api/calling
[graph]
base_url = ${SIM_URL:-http://127.0.0.1:9}/v1.0
token_url = ${SIM_URL:-http://127.0.0.1:9}/$TENANT_ID/oauth2/v2.0/token
app_id = $APP_ID
tenant_id = $TENANT_ID
[auth]
mode = ${AUTH_MODE:-jwt}
openid_configuration_url = ${SIM_URL:-http://127.0.0.1:9}/v1/.well-known/OpenIdConfiguration
[audit]
database = $T/audit.db
key_dir = $T/keys
[control]
socket = $T/ctl.sock
${1:-}
CONF
}

# start_polrecd: run it in the foreground mode and learn its port.
start_polrecd() {
	: >"$T/polrecd.log"
	"$POLRECD" -d -f "$T/polrecd.conf" 2>>"$T/polrecd.log" &
	POLRECD_PID=$!
	if ! wait_for 10 grep -q 'listening on' "$T/polrecd.log"; then
		not_ok "polrecd started"
		exit 1
	fi
	POLRECD_ADDR=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' \
	    "$T/polrecd.log" | tail -n 1)
	WEBHOOK="http://$POLRECD_ADDR/api/calling"
}

# stop_polrecd: SIGTERM, and it must exit 0 within 10 s.
stop_polrecd() {
	local rc
	kill -TERM "$POLRECD_PID"
	wait_for 10 sh -c "! kill -0 $POLRECD_PID 2>/dev/null"
	wait "$POLRECD_PID"
	rc=$?
	POLRECD_PID=
	return $rc
}

# post FILE [CONTENT_TYPE] [EXTRA CURL ARGS]: prints "STATUS BODY".
post() {
	local file=$1 ct=${2:-application/json}
	shift 2 2>/dev/null || shift $#
	curl -s -o "$T/resp" -w '%{http_code}' -X POST \
	    -H "Content-Type: $ct" --data-binary "@$file" "$@" "$WEBHOOK"
	echo " $(cat "$T/resp")"
}

log_has() { grep -q -- "$1" "$T/polrecd.log"; }

# play_token KIND EXPECTED_STATUS [FILE]: the simulator posts FILE (default
# Example 3) with a token of KIND; the step must get EXPECTED_STATUS.
play_token() {
	local kind=$1 want=$2 file=${3:-notifications/example3-invitation.json}
	cat >"$T/tok-$kind.json" <<SCEN
{"name":"token-$kind","steps":[{"file":"$PWD/tests/scenarios/$file",
 "token":"$kind","expect_status":$want}]}
SCEN
	"$SIM" play -u "$WEBHOOK" "$T/tok-$kind.json" >"$T/play-$kind.out" 2>&1
}

# graph_requests: how many calls-API requests the simulator received.
graph_requests() {
	"$SIM" requests -S "$SIM_URL" | grep -c . || true
}

wait_keys() { wait_for "${1:-10}" grep -q 'signing keys: .* loaded' "$T/polrecd.log"; }
