#!/bin/bash
# The admin listener and the alarms (issue 15).  /healthz, /readyz and
# /metrics on a second listener, GET only; /metrics passes a strict
# parser of the Prometheus text format (tests/tools/promcheck) and
# counts what happened.  Each alarm is raised for real where it can be
# (the simulator's faults, its key endpoint down, a full tmpfs, a
# rewritten trail, a silent webhook) and through POLREC_TEST_CLOCK for
# the clock, then cleared; each start and end is seen in show status,
# /readyz, /metrics and the log.
set -eu
. tests/integration/lib.sh

PROMCHECK=build/tools/promcheck
echo 1000 >"$T/clock"		# µs of error, synchronised
export POLREC_TEST_CLOCK=$T/clock

# GET PATH [CURL ARGS]: prints the status; the body is in $T/admin.out.
get() {
	local path=$1
	shift
	curl -s -o "$T/admin.out" -w '%{http_code}' "$@" "http://$ADMIN$path"
}
# metric 'NAME{LABELS}': its value now ("" if absent).
metric() {
	curl -s "http://$ADMIN/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
in_status() { ctl -j show status | jq -e --arg n "$1" 'any(.alarms[]; .name == $n)' >/dev/null; }
in_readyz() { get /readyz >/dev/null; grep -q "^alarm $1: " "$T/admin.out"; }
raised() {	# NAME: raised everywhere
	wait_for "${2:-15}" in_status "$1" &&
	    in_readyz "$1" &&
	    test "$(metric "polrec_alarm{name=\"$1\"}")" = 1 &&
	    log_has "alarm $1 raised: "
}
cleared() {	# NAME: cleared everywhere
	wait_for "${2:-15}" sh -c "! build/polrecctl -s '$T/ctl.sock' -j show status | jq -e 'any(.alarms[]; .name == \"$1\")' >/dev/null" &&
	    ! in_readyz "$1" &&
	    test "$(metric "polrec_alarm{name=\"$1\"}")" = 0 &&
	    log_has "alarm $1 cleared after "
}
reason() { ctl -j show status | jq -r --arg n "$1" '.alarms[] | select(.name == $n) | .reason'; }

DISK=
if [ "$(id -u)" -eq 0 ] && mkdir -p "$T/disk" &&
    mount -t tmpfs -o size=48m tmpfs "$T/disk" 2>/dev/null; then
	DISK=$T/disk
	trap 'umount -l "$T/disk" 2>/dev/null || true; cleanup' EXIT
fi

start_sim
sim_ctl POST '/_sim/idp?state=down' >/dev/null
write_conf "[admin]
quiet_alarm = 4s
alarm_window = 4s
checkpoint_alarm = 2s
[audit]
checkpoint_interval = 1
disk_reserve_mb = 8
witness_url = $SIM_URL/witness"
[ -n "$DISK" ] && sed -i "s|^database = .*|database = $DISK/audit.db|" "$T/polrecd.conf"
start_polrecd
ADMIN=$(admin_addr)
check "the admin listener is up, on loopback ($ADMIN)" \
    sh -c "echo '$ADMIN' | grep -q '^127\.0\.0\.1:[0-9][0-9]*$'"

# Signing keys: none while the key endpoint is down.
check "alarm signing_keys: raised while the key endpoint is down" raised signing_keys
check "/readyz: 503, no signing keys" \
    sh -c "[ \"\$(curl -s -o '$T/r.out' -w '%{http_code}' http://$ADMIN/readyz)\" = 503 ] &&
    head -n 1 '$T/r.out' | grep -qx 'not ready' && grep -qx 'no signing keys yet' '$T/r.out'"
check "/healthz: 200 all the same" test "$(get /healthz)" = 200
sim_ctl POST '/_sim/idp?state=up' >/dev/null
wait_keys 20
check "alarm signing_keys: cleared once keys are fetched" cleared signing_keys
wait_for 10 log_has 'graph token: acquired' || true
check "/readyz: 200 ready" sh -c "[ \"\$(curl -s -o '$T/r.out' -w '%{http_code}' http://$ADMIN/readyz)\" = 200 ] && head -n 1 '$T/r.out' | grep -qx ready"

# Nothing on it changes state: GET only.
for m in POST PUT DELETE; do
	s=$(get /metrics -X "$m" -D "$T/h.out" -d x)
	check "$m /metrics: 405 (got $s)" test "$s" = 405
done
check "... with Allow: GET" grep -qi '^Allow: GET' "$T/h.out"
check "an unknown path: 404" test "$(get /nothing)" = 404

# Some invitations, then the metrics.
for n in 1 2 3; do
	play_files "$(invitation c1700000-0000-4000-8000-00000000000$n)"
done
check "three invitations answered" \
    wait_for 10 sh -c "[ \$(grep -c 'call c1700000-.*: answered in' '$T/polrecd.log') = 3 ]"
check "/metrics: 200, text format 0.0.4" \
    sh -c "[ \"\$(curl -s -o '$T/m.txt' -D '$T/mh.txt' -w '%{http_code}' http://$ADMIN/metrics)\" = 200 ] &&
    grep -qi '^Content-Type: text/plain; version=0.0.4' '$T/mh.txt'"
if "$PROMCHECK" -l <"$T/m.txt" >"$T/families.txt" 2>"$T/promcheck.err"; then
	ok "/metrics passes the strict parser ($(wc -l <"$T/families.txt") families, $(grep -vc '^#' "$T/m.txt") samples)"
else
	not_ok "/metrics passes the strict parser: $(cat "$T/promcheck.err")"
fi
# The parser is strict: what it must refuse.
refuses() { ! printf "$1" | "$PROMCHECK" 2>/dev/null; }
H='# HELP a_total A.\n# TYPE a_total counter\n'
G='# HELP h H.\n# TYPE h histogram\n'
check "promcheck refuses a sample twice" refuses "${H}a_total 1\na_total 2\n"
check "promcheck refuses a counter without _total" refuses '# HELP a A.\n# TYPE a counter\na 1\n'
check "promcheck refuses a family split in two" \
    refuses "${H}a_total{x=\"1\"} 1\n# HELP b B.\n# TYPE b gauge\nb 1\na_total{x=\"2\"} 1\n"
check "promcheck refuses buckets not cumulative" \
    refuses "${G}h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
check "promcheck refuses +Inf not equal to _count" \
    refuses "${G}h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n"
check "promcheck refuses a bad escape" refuses "${H}a_total{x=\"\\\\q\"} 1\n"
check "promcheck refuses no final newline" refuses "${H}a_total 1"
check "promcheck takes a good histogram" \
    sh -c "printf '${G}h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n' | $PROMCHECK"
for f in polrec_notifications_total polrec_auth_failures_total \
    polrec_answers_total polrec_answer_latency_seconds \
    polrec_join_decisions_total polrec_live_legs polrec_group_seats \
    polrec_graph_responses_total polrec_graph_errors_total \
    polrec_graph_in_flight polrec_token_refreshes_total \
    polrec_audit_commit_seconds polrec_audit_commit_batch_events \
    polrec_audit_events_held polrec_control_clients polrec_alarm; do
	check "family $f" grep -q "^$f " "$T/families.txt"
done
check "answers: 3 answered" test "$(metric 'polrec_answers_total{outcome="answered"}')" = 3
check "answer latency: 3 observed, a bucket at the 2.5 s budget" \
    sh -c "[ \"\$(awk '\$1 == \"polrec_answer_latency_seconds_count\" {print \$2}' '$T/m.txt')\" = 3 ] &&
    grep -q '^polrec_answer_latency_seconds_bucket{le=\"2.5\"} 3\$' '$T/m.txt'"
check "notifications by kind and outcome" \
    test "$(metric 'polrec_notifications_total{kind="call",outcome="accepted"}')" -ge 3
post "$(invitation c1700000-0000-4000-8000-000000000009)" >/dev/null
check "auth failures by reason: an unsigned post" \
    test "$(metric 'polrec_auth_failures_total{reason="missing_token"}')" = 1
check "... and notifications refused: kind request" \
    test "$(metric 'polrec_notifications_total{kind="request",outcome="refused"}')" = 1
check "Graph responses by status" test "$(metric 'polrec_graph_responses_total{status="202"}')" -ge 3
check "live legs: 3" test "$(metric polrec_live_legs)" = 3
check "token refreshes of the tenant" \
    test "$(metric "polrec_token_refreshes_total{tenant=\"$TENANT_ID\",outcome=\"ok\"}")" -ge 1
check "commits counted" test "$(awk '$1 == "polrec_audit_commit_seconds_count" {print $2}' "$T/m.txt")" -ge 1
check "no alarm raised now (but perhaps quiet)" \
    sh -c "! grep -v 'name=\"quiet\"' '$T/m.txt' | grep -q '^polrec_alarm{.*} 1\$'"

# Missed answers: Graph refuses every answer until the budget is gone.
sim_ctl POST /_sim/faults '{"action":"answer","status":503,"count":1000}' >/dev/null
play_files "$(invitation c1700000-0000-4000-8000-000000000004)"
check "alarm missed_answers: raised after a miss" raised missed_answers
check "... the reason counts it" sh -c "build/polrecctl -s '$T/ctl.sock' -j show status | jq -r '.alarms[] | select(.name == \"missed_answers\") | .reason' | grep -q '^1 answer missed in the last 4 s'"
check "... answers by outcome: missed 1" test "$(metric 'polrec_answers_total{outcome="missed"}')" = 1
sim_ctl DELETE /_sim/faults >/dev/null
check "alarm missed_answers: cleared when the window has passed" cleared missed_answers

# A tenant's token: Graph says 401, and the token endpoint fails.
sim_ctl POST /_sim/faults '{"action":"token","status":503,"count":1000}' >/dev/null
sim_ctl POST /_sim/faults '{"action":"answer","status":401,"count":1}' >/dev/null
play_files "$(invitation c1700000-0000-4000-8000-000000000005)"
check "alarm token: raised with no token" raised token
check "... the reason names the tenant" sh -c "build/polrecctl -s '$T/ctl.sock' -j show status | jq -r '.alarms[] | select(.name == \"token\") | .reason' | grep -q '^tenant $TENANT_ID: no Graph token'"
check "/readyz: 503 naming the tenant" \
    sh -c "[ \"\$(curl -s -o '$T/r.out' -w '%{http_code}' http://$ADMIN/readyz)\" = 503 ] && grep -qx 'tenant $TENANT_ID: no Graph token' '$T/r.out'"
check "Graph errors by code: 401 seen" test "$(metric 'polrec_graph_responses_total{status="401"}')" = 1
sim_ctl DELETE /_sim/faults >/dev/null
check "alarm token: cleared with a new token" cleared token 40
check "/readyz: 200 again" test "$(get /readyz)" = 200

# The clock: not synchronised, then an error above the bound.
echo "16000000 unsync" >"$T/clock"
check "alarm clock: raised when not synchronised" raised clock
check "... the reason says so" sh -c "build/polrecctl -s '$T/ctl.sock' -j show status | jq -r '.alarms[] | select(.name == \"clock\") | .reason' | grep -q 'not synchronised (error up to 16000 ms)'"
echo 1000 >"$T/clock"
check "alarm clock: cleared when synchronised" cleared clock
echo 250000 >"$T/clock"
check "alarm clock: raised when the error is above clock_max_error_ms" \
    wait_for 10 sh -c "build/polrecctl -s '$T/ctl.sock' -j show status | jq -r '.alarms[] | select(.name == \"clock\") | .reason' | grep -q '250 ms, more than clock_max_error_ms 100'"
echo 1000 >"$T/clock"
check "alarm clock: cleared again" cleared clock

# Checkpoints: the witness refuses them for longer than checkpoint_alarm.
sim_ctl POST /_sim/faults '{"action":"witness","status":503,"count":100000}' >/dev/null
play_files "$(invitation c1700000-0000-4000-8000-000000000006)"
check "alarm checkpoints: raised while the witness refuses" raised checkpoints
sim_ctl DELETE /_sim/faults >/dev/null
check "alarm checkpoints: cleared when the witness takes them" cleared checkpoints 70

# A silent recorder: no notification for quiet_alarm (4 s).
check "alarm quiet: raised after 4 s without a notification" raised quiet
play_files "$(invitation c1700000-0000-4000-8000-000000000007)"
check "alarm quiet: cleared by a notification" cleared quiet 3

# The audit disk nearly full (a 48 MiB tmpfs, 8 MiB reserve).
if [ -n "$DISK" ]; then
	dd if=/dev/zero of="$DISK/fill" bs=1M count=$(( $(df -m "$DISK" | awk 'NR==2 {print $4}') - 4 )) 2>/dev/null || true
	check "alarm disk: raised with less free than the reserve" raised disk
	rm -f "$DISK/fill"
	check "alarm disk: cleared with room again" cleared disk
else
	ok "# SKIP the disk alarm needs root and a tmpfs mount"
fi

# Integrity: the trail rewritten while polrecd was down.
check "SIGTERM: clean exit 0" stop_polrecd
DB=$(sed -n 's/^database = //p' "$T/polrecd.conf")
# Re-chained and re-signed with another key, as 140-integrity.sh does.
build/polrecctl keys init -d "$T/mallory" -o "$T/mallory-auditor.key" >/dev/null 2>&1
INV=$(sqlite3 "$DB" "SELECT seq FROM audit_event WHERE kind = 'invitation' ORDER BY seq LIMIT 1")
sqlite3 "$DB" "DROP TRIGGER audit_event_no_update; UPDATE audit_event SET outcome = 'forbidden', reason = 'policy' WHERE seq = $INV"
build/tools/forge "$DB" "$T/mallory/signing.key" "$INV" >/dev/null
cp "$T/polrecd.log" "$T/polrecd-first.log"
start_polrecd
ADMIN=$(admin_addr)
check "alarm integrity: raised for a rewritten trail" raised integrity
ISEQ=$(ctl -j show status | jq -r .integrity_alarm | sed -n 's/^RAISED: integrity event \([0-9]*\).*/\1/p')
check "... the integrity_alarm field still says it" test -n "$ISEQ"
ctl audit acknowledge "$ISEQ" >/dev/null
check "alarm integrity: cleared once acknowledged" cleared integrity
check "SIGTERM: clean exit 0" stop_polrecd
exit $FAILED
