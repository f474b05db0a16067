#!/bin/bash
# Redirects for region affinity: with [recording] redirect_url, an
# invitation that would be rejected busy (draining, or at max_calls) gets
# 302 Found with Location = redirect_url as the webhook's reply; nothing
# goes to Graph; the trail records the decision redirect and one outcome
# (redirect ok, the Location in detail); the leg ends redirected; show
# calls and show stats count it.  No loop: a request marked as redirected
# already, a call that comes back, a batch, or a redirect_url that is
# this host's own webhook are rejected busy.  Without redirect_url: busy.
set -eu
. tests/integration/lib.sh

AUTH_MODE=none
REDIR=https://recorder02.example.com:8443/api/calling
DB=$T/audit.db
q() { sqlite3 -readonly "$DB" "$1"; }
# post_inv FILE MSGID [CURL ARGS]: prints the status; headers in $T/hdrs.
post_inv() {
	local f=$1 m=$2
	shift 2
	curl -s -D "$T/hdrs" -o "$T/resp" -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' \
	    -H "X-Microsoft-Skype-Message-ID: $m" "$@" \
	    --data-binary "@$f" "$WEBHOOK"
}
location() { sed -n 's/^[Ll]ocation: *\(.*\)\r$/\1/p' "$T/hdrs"; }
leg_outcome() { ctl -j show calls | jq -r --arg c "$1" '.calls[] | select(.id == $c) | .outcome'; }
outcomes_of() {
	q "SELECT count(*) FROM audit_event WHERE call_id = '$1' AND kind IN ('answer', 'reject', 'missed', 'redirect')"
}

start_sim
write_conf "[recording]
max_calls = 2
keepalive_interval = 60
redirect_url = $REDIR"
start_polrecd

# Draining: 302 to redirect_url, nothing to Graph.
ctl drain on >/dev/null
C1=c0000085-0000-4000-8000-000000000001
st=$(post_inv "$(invitation $C1)" m-85-1)
check "draining: the invitation gets 302 ($st)" test "$st" = 302
check "draining: Location is redirect_url" test "$(location)" = "$REDIR"
check "draining: the 302 has no body" test ! -s "$T/resp"
sleep 0.3
check "draining: no answer or reject sent to Graph" \
    test "$(count_requests answer $C1)$(count_requests reject $C1)" = 00
check "trail: the invitation's decision is redirect (draining)" \
    test "$(q "SELECT outcome || ' ' || reason FROM audit_event WHERE kind = 'invitation' AND call_id = '$C1'")" = "redirect draining"
check "trail: one outcome, redirect ok, 302, Location in detail" \
    test "$(q "SELECT outcome || ' ' || http_status || ' ' || json_extract(detail, '\$.location') FROM audit_event WHERE kind = 'redirect' AND call_id = '$C1'")" = "ok 302 $REDIR"
check "trail: exactly one outcome for the invitation" test "$(outcomes_of $C1)" = 1
check "trail: the leg ended redirected" \
    test "$(q "SELECT outcome FROM audit_event WHERE kind = 'terminated' AND call_id = '$C1'")" = redirected
check "trail: the notification event says 302" \
    test "$(q "SELECT http_status FROM audit_event WHERE kind = 'notification' AND call_id = '$C1'")" = 302
check "view answers: the redirect with its location" \
    test "$(q "SELECT action || ' ' || location FROM answers WHERE call_id = '$C1'")" = "redirect $REDIR"
check "show calls: the leg is redirected" test "$(leg_outcome $C1)" = redirected
check "show stats: invitations_redirected 1" test "$(stat_of invitations_redirected)" = 1
check "log: redirected" log_has "call $C1: redirected (draining) to $REDIR"

# The same message again: a replay, the same 302 and Location.
st=$(post_inv "$(invitation $C1)" m-85-1)
check "replay: 302 again ($st)" test "$st" = 302
check "replay: the same Location" test "$(location)" = "$REDIR"
check "replay: still one outcome" test "$(outcomes_of $C1)" = 1

# The call comes back (a new message): no second redirect, busy.
st=$(post_inv "$(invitation $C1)" m-85-2)
check "came back: 202, not redirected ($st)" test "$st" = 202
check "came back: decided busy" \
    wait_for 5 log_has "call $C1: invitation .*: decided busy (draining"
check "came back: redirect_refused redirected_before" \
    test "$(q "SELECT json_extract(detail, '\$.redirect_refused') FROM audit_event WHERE kind = 'invitation' AND call_id = '$C1' ORDER BY seq DESC LIMIT 1")" = redirected_before

# Marked as redirected already (X-Plat-Redirect-*; UNCONFIRMED): busy.
C2=c0000085-0000-4000-8000-000000000002
st=$(post_inv "$(invitation $C2)" m-85-3 -H 'X-Plat-Redirect-Region: emea')
check "X-Plat-Redirect-Region: 202, not redirected ($st)" test "$st" = 202
check "X-Plat-Redirect-Region: decided busy" \
    wait_for 5 log_has "call $C2: invitation .*: decided busy (draining"
check "X-Plat-Redirect-Region: redirect_refused already_redirected" \
    test "$(q "SELECT json_extract(detail, '\$.redirect_refused') FROM audit_event WHERE kind = 'invitation' AND call_id = '$C2'")" = already_redirected

# A batch: the 302 would answer the other notification too: busy.
C3=c0000085-0000-4000-8000-000000000003
jq -s '{value: [.[0].value[0], .[1].value[0]]}' "$(invitation $C3)" \
    tests/scenarios/notifications/p2p-established.json >"$T/batch.json"
st=$(post_inv "$T/batch.json" m-85-4)
check "batch: 202, not redirected ($st)" test "$st" = 202
check "batch: decided busy" wait_for 5 log_has "call $C3: invitation .*: decided busy (draining"
check "batch: redirect_refused batch" \
    test "$(q "SELECT json_extract(detail, '\$.redirect_refused') FROM audit_event WHERE kind = 'invitation' AND call_id = '$C3'")" = batch

# At max_calls: 302.
ctl drain off >/dev/null
for i in 5 6; do
	play_files "$(invitation c0000085-0000-4000-8000-00000000000$i)"
	wait_for 5 log_has "call c0000085-0000-4000-8000-00000000000$i: answered in"
done
C7=c0000085-0000-4000-8000-000000000007
st=$(post_inv "$(invitation $C7)" m-85-7)
check "at max_calls: 302 ($st)" test "$st" = 302
check "at max_calls: Location is redirect_url" test "$(location)" = "$REDIR"
check "at max_calls: decision redirect (max_calls)" \
    test "$(q "SELECT outcome || ' ' || reason FROM audit_event WHERE kind = 'invitation' AND call_id = '$C7'")" = "redirect max_calls"
sleep 0.3
check "at max_calls: nothing to Graph" \
    test "$(count_requests answer $C7)$(count_requests reject $C7)" = 00
check "show stats: invitations_redirected 2" test "$(stat_of invitations_redirected)" = 2
check "SIGTERM: clean exit" stop_polrecd

# redirect_url is this host's own webhook: busy, never a loop.
SELF=http://127.0.0.1:9/api/calling
write_conf "[recording]
keepalive_interval = 60
redirect_url = $SELF
[http]
callback_url = $SELF"
start_polrecd
ctl drain on >/dev/null
C8=c0000085-0000-4000-8000-000000000008
st=$(post_inv "$(invitation $C8)" m-85-8)
check "redirect_url is this host: 202 ($st)" test "$st" = 202
check "redirect_url is this host: decided busy" \
    wait_for 5 log_has "call $C8: invitation .*: decided busy (draining"
check "redirect_url is this host: redirect_refused redirect_url_is_self" \
    test "$(q "SELECT json_extract(detail, '\$.redirect_refused') FROM audit_event WHERE kind = 'invitation' AND call_id = '$C8'")" = redirect_url_is_self
check "SIGTERM: clean exit" stop_polrecd

# Without redirect_url: busy, as before.
write_conf "[recording]
keepalive_interval = 60"
start_polrecd
ctl drain on >/dev/null
C9=c0000085-0000-4000-8000-000000000009
st=$(post_inv "$(invitation $C9)" m-85-9)
check "no redirect_url: 202 ($st)" test "$st" = 202
check "no redirect_url: decided busy" \
    wait_for 5 log_has "call $C9: invitation .*: decided busy (draining"
check "no redirect_url: no redirect_refused" \
    test "$(q "SELECT json_extract(detail, '\$.redirect_refused') IS NULL FROM audit_event WHERE kind = 'invitation' AND call_id = '$C9'")" = 1
check "show stats: invitations_redirected 0" test "$(stat_of invitations_redirected)" = 0
check "SIGTERM: clean exit" stop_polrecd
exit $FAILED
