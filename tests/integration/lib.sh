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
		if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$f"; then
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

# out_has RE: $out matches (it may hold quotes: curl's "Couldn't").
# out_says TEXT: $out holds TEXT, as it is.
out_has() { printf '%s\n' "$out" | grep -q -- "$1"; }
out_says() { printf '%s\n' "$out" | grep -qF -- "$1"; }

# out_cmp OP WANT CMD...: test "$(CMD...)" OP WANT, the command run afresh
# each time; wait_for's arguments are expanded once, so a count to wait
# for goes through this.
out_cmp() {
	local op=$1 want=$2
	shift 2
	test "$("$@")" "$op" "$want"
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
	    -T "${TENANTS:-$TENANT_ID}" -P "$T/sim.port" -r "$T/graph-requests.jsonl" \
	    "$@" 2>"$T/sim.log" &
	SIM_PID=$!
	if ! wait_for 10 test -s "$T/sim.port"; then
		not_ok "simulator started"
		exit 1
	fi
	SIM_URL="http://$(cat "$T/sim.port")"
	export POLREC_SIM_URL=$SIM_URL
}

# write_conf [EXTRA_LINES]: a polrecd.conf against the simulator, serving
# $TENANTS (default $TENANT_ID) as [tenants] ids; with OLD_TENANTS=1, the
# old way: [graph] tenant_id, and a token_url without {tenant}.
write_conf() {
	local tenant_line tenants_section token_url
	[ -f "$T/client-secret" ] || { (umask 077; echo sim-secret >"$T/client-secret"); }
	token_url="${SIM_URL:-http://127.0.0.1:9}/{tenant}/oauth2/v2.0/token"
	tenant_line=
	tenants_section="[tenants]
ids = ${TENANTS:-$TENANT_ID}"
	if [ -n "${OLD_TENANTS:-}" ]; then
		token_url="${SIM_URL:-http://127.0.0.1:9}/$TENANT_ID/oauth2/v2.0/token"
		tenant_line="tenant_id = $TENANT_ID"
		tenants_section=
	fi
	cat >"$T/polrecd.conf" <<CONF
[http]
listen = 127.0.0.1:0
notification_path = /api/calling
[graph]
base_url = ${SIM_URL:-http://127.0.0.1:9}/v1.0
token_url = $token_url
app_id = $APP_ID
$tenant_line
allow_plain_http = yes
${CLIENT_CRED:-client_secret_file = $T/client-secret}
[auth]
mode = ${AUTH_MODE:-jwt}
openid_configuration_url = ${SIM_URL:-http://127.0.0.1:9}/v1/.well-known/OpenIdConfiguration
[audit]
database = $T/audit.db
key_dir = $T/keys
[control]
socket = $T/ctl.sock
[admin]
listen = ${ADMIN_LISTEN:-127.0.0.1:0}
$tenants_section
${1:-}
CONF
}

# make_keys: the appliance's keys in $T/keys, once (polrecctl keys init);
# the auditor's secret key goes to $T/auditor.key.
make_keys() {
	[ -f "$T/keys/state.key" ] && return 0
	if ! build/polrecctl -f "$T/polrecd.conf" keys init \
	    -o "$T/auditor.key" >"$T/keys-init.log" 2>&1; then
		not_ok "polrecctl keys init"
		sed 's/^/#   /' "$T/keys-init.log"
		exit 1
	fi
}

# new_trail [REASON]: after the database was removed, the keys kept,
# authorise polrecd to start a new trail (polrecctl audit new-trail).
new_trail() {
	if ! build/polrecctl -f "$T/polrecd.conf" audit new-trail \
	    -r "${1:-test}" >"$T/new-trail.log" 2>&1; then
		not_ok "polrecctl audit new-trail"
		sed 's/^/#   /' "$T/new-trail.log"
		exit 1
	fi
}

# start_polrecd: run it in the foreground mode and learn its port.
start_polrecd() {
	make_keys
	: >"$T/polrecd.log"
	"$POLRECD" -d ${POLRECD_ARGS:-} -f "$T/polrecd.conf" 2>>"$T/polrecd.log" &
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

# admin_addr: where the admin listener (metrics, health) was bound.
admin_addr() {
	sed -n 's|.*admin: /metrics, /healthz and /readyz on http://\([0-9.]*:[0-9]*\).*|\1|p' \
	    "$T/polrecd.log" | tail -n 1
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

# play_signed KIND EXPECTED_STATUS FILE: the simulator posts FILE (a path)
# with a token of KIND; the step must get EXPECTED_STATUS.  The output,
# with the response body, is in $T/play-signed.out.
play_signed() {
	local scen="$T/signed-$$-$RANDOM.json"
	printf '{"name":"signed-%s","steps":[{"file":"%s","token":"%s","expect_status":%s}]}\n' \
	    "$1" "$3" "$1" "$2" >"$scen"
	"$SIM" play -u "$WEBHOOK" "$scen" >"$T/play-signed.out" 2>&1
}

# graph_requests: how many calls-API requests the simulator received.
graph_requests() {
	"$SIM" requests -S "$SIM_URL" | grep -c . || true
}

wait_keys() { wait_for "${1:-10}" grep -q 'signing keys: .* loaded' "$T/polrecd.log"; }

# invitation ID [TENANT] [POLICY]: Example 3 as an invitation for call ID,
# written to $T/inv-ID.json; prints the path.
invitation() {
	local id=$1 tenant=${2:-$TENANT_ID} policy=${3:-}
	local f="$T/inv-$id.json"
	sed -e "s/e71f0300-9c1f-4d99-b5f4-2722e877d497/$id/g" \
	    -e "s/\"tenantId\":\"932899f8-2ea1-4604-8413-27bd2892079f\"/\"tenantId\":\"$tenant\"/" \
	    tests/scenarios/notifications/example3-invitation.json >"$f"
	if [ -n "$policy" ]; then
		jq --arg p "$policy" '.value[0].resourceData.applicationMetadata.botData.policyIdentifier = $p' \
		    "$f" >"$f.tmp" && mv "$f.tmp" "$f"
	fi
	echo "$f"
}

# play_files FILE...: the simulator posts each file to the webhook, signed,
# in order; every post must get 202.
play_files() {
	local f first=1 scen="$T/scen-$$-$RANDOM.json"
	{
		echo '{"name":"files","steps":['
		for f in "$@"; do
			[ $first -eq 1 ] || echo ','
			first=0
			printf '{"file":"%s","expect_status":202}' "$f"
		done
		echo ']}'
	} >"$scen"
	"$SIM" play -u "$WEBHOOK" "$scen" >>"$T/play.out" 2>&1
}

# play_one FILE MSGID: the simulator posts FILE, signed, as message MSGID;
# prints the HTTP status polrecd answered.
play_one() {
	local scen="$T/one-$$-$RANDOM.json"
	printf '{"name":"one","steps":[{"file":"%s","message_id":"%s","expect_status":202}]}\n' \
	    "$1" "$2" >"$scen"
	"$SIM" play -u "$WEBHOOK" "$scen" >"$T/play-one.out" 2>&1 || true
	sed -n 's/.*step [0-9.]*: \([0-9]*\) (expected.*/\1/p' "$T/play-one.out" | tail -n 1
}

# sim_ctl METHOD PATH [BODY]: the simulator's control API.
sim_ctl() { "$SIM" ctl -S "$SIM_URL" "$@"; }

# requests_of ACTION [CALL]: recorded calls-API requests, one JSON per line.
requests_of() {
	jq -c --arg a "$1" --arg c "${2:-}" \
	    'select(.action == $a and ($c == "" or .call_id == $c))' \
	    "$T/graph-requests.jsonl" 2>/dev/null
}
count_requests() { requests_of "$@" | grep -c . || true; }

# ctl ARGS...: polrecctl against this polrecd.
ctl() { build/polrecctl -s "$T/ctl.sock" "$@"; }

# stat NAME: one counter from polrecctl show stats.
stat_of() { ctl -j show stats | jq -r ".$1"; }

# Recorder groups: join PARTICIPANT [CALL] and left PARTICIPANT write a
# participantJoining / participantLeft notification and print its path
# (CALL defaults to $CALL); verdict "STATUS BODY" prints the body compact.
join() {
	local p=$1 c=${2:-$CALL} f="$T/join-$1-${2:-x}.json"
	jq --arg p "$p" --arg u "/communications/calls/$c/participantJoiningNotification" '
	  .value[0].resourceUrl = $u |
	  .value[0].resourceData.call.incomingContext.observedParticipantId = $p |
	  .value[0].resourceData.call.incomingContext.sourceParticipantId = $p' \
	    tests/scenarios/notifications/participant-joining.json >"$f"
	echo "$f"
}
left() {
	local f="$T/left-$1.json"
	jq --arg p "$1" '.value[0].resourceData.participantId = $p' \
	    tests/scenarios/notifications/participant-left.json >"$f"
	echo "$f"
}
verdict() { printf '%s' "${1#* }" | jq -c '.'; }
ACCEPT='{"@odata.type":"#microsoft.graph.acceptJoinResponse"}'
BUSY='{"@odata.type":"#microsoft.graph.rejectJoinResponse","reason":"busy"}'
