#!/bin/bash
# Smaller shapes of the protocol: legacy-format notifications get 204
# (Teams re-sends them in Graph format), recorded ignored/legacy_format;
# the chain id falls back to X-Microsoft-Skype-Chain-ID, then
# botData.callId; a transferred call's transferor and new chain id are in
# clear in the trail (views call_chains); terminationReason and a failed
# transfer's resultInfo are recorded; later notifications of a leg carry
# the leg's tenant, chain and policy.
set -eu
. tests/integration/lib.sh

AUTH_MODE=none
N=tests/scenarios/notifications
DB=$T/audit.db
CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497
q() { sqlite3 -readonly "$DB" "$1"; }
# send FILE MSGID [CURL ARGS]: prints the status.
send() {
	local f=$1 m=$2
	shift 2
	curl -s -o "$T/resp" -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' \
	    -H "X-Microsoft-Skype-Message-ID: $m" "$@" \
	    --data-binary "@$f" "$WEBHOOK"
}

start_sim
write_conf "[recording]
keepalive_interval = 60"
start_polrecd

# Legacy format: 204, not 400; recorded, counted.
check "legacy Conversation: 204" test "$(send $N/legacy-conversation.json l-1)" = 204
check "legacy ConversationResult: 204" \
    test "$(send $N/legacy-conversation-result.json l-2)" = 204
check "legacy: no body" test ! -s "$T/resp"
check "a body neither Graph nor legacy: still 400" \
    test "$(printf '{"id":"x"}' >"$T/neither.json"; send "$T/neither.json" l-3)" = 400
check "show stats: notifications_legacy 2" test "$(stat_of notifications_legacy)" = 2
check "trail: ignored legacy_format, status 204, count 2" \
    wait_for 5 sh -c "[ \"\$(sqlite3 -readonly '$DB' \"SELECT sum(json_extract(detail, '\\\$.count')) FROM audit_event WHERE outcome = 'ignored' AND reason = 'legacy_format' AND http_status = 204\")\" = 2 ]"
check "log: legacy format" log_has 'notification in the legacy format: 204'

# The chain id: the header when callChainId is absent, then botData.callId.
CB=f1a0c0de-0000-4000-8000-00000000c001
HDR=09021b10-38c7-4f7c-91ba-3b7a60aa9d54
check "invitation without callChainId: 202" \
    test "$(send $N/invitation-botdata-callid.json c-1 -H "X-Microsoft-Skype-Chain-ID: $HDR")" = 202
check "chain id from X-Microsoft-Skype-Chain-ID" \
    test "$(q "SELECT chain_id || ' ' || json_extract(detail, '\$.chain_source') FROM audit_event WHERE kind = 'invitation' AND call_id = '$CB'")" = "$HDR header"
check "the notification event too" \
    test "$(q "SELECT chain_id FROM audit_event WHERE kind = 'notification' AND call_id = '$CB'")" = "$HDR"
sed "s/$CB/f1a0c0de-0000-4000-8000-00000000c011/g" \
    $N/invitation-botdata-callid.json >"$T/inv-nohdr.json"
send "$T/inv-nohdr.json" c-2 >/dev/null
check "no header: chain id from botData.callId" \
    test "$(q "SELECT chain_id || ' ' || chain_source FROM call_chains WHERE call_id = 'f1a0c0de-0000-4000-8000-00000000c011'")" = "a590efba-429f-46c8-bc2b-a12134505bcf botData.callId"

# A transferred call: the transferor in clear, its own chain id.
CT=f1a0c0de-0000-4000-8000-00000000c002
send $N/invitation-transferred.json t-1 >/dev/null
check "transferred invitation: transferor and chain in call_chains" \
    test "$(q "SELECT chain_id || ' ' || transferor_kind || ' ' || transferor_id FROM call_chains WHERE call_id = '$CT'")" = \
    "7c0ffee0-0000-4000-8000-0000000000c2 user b5eb7ada-0000-4000-8000-0000000000aa"
check "the transferor's display name is not in clear" \
    test "$(q "SELECT count(*) FROM audit_event WHERE detail LIKE '%Transferring User%'")" = 0

# Example 3, answered; then the call is transferred (new chain id).
play_files "$PWD/$N/example3-invitation.json"
check "Example 3 answered" wait_for 5 log_has "call $CALL: answered in"
check "Example 3 established" wait_for 5 log_has "call $CALL: established"
check "transferAccepted with a new chain id: 202" \
    test "$(send $N/transfer-accepted-chain.json t-2)" = 202
check "chain event: changed, previous and new chain, transferor" \
    test "$(q "SELECT outcome || ' ' || previous_chain_id || ' ' || chain_id || ' ' || transferor_id FROM call_chains WHERE kind = 'chain' AND call_id = '$CALL'")" = \
    "changed 05f2f70f-3a9c-47c1-80a9-cc79e91d8cec 7c0ffee0-0000-4000-8000-0000000000c3 8a34a46b-3d17-4adc-8dce-dc4e7d572698"
check "an auditor follows the call from chain to chain" \
    test "$(q "SELECT count(*) FROM call_chains a JOIN call_chains b ON b.previous_chain_id = a.chain_id WHERE a.call_id = '$CALL' AND a.kind = 'invitation'")" = 1

# A failed transfer's operation: resultInfo recorded, with the leg's
# tenant, chain and policy (the operation carries none of them).
check "failed transfer operation: 202" \
    test "$(send $N/transfer-failed-operation.json t-3)" = 202
check "operation: status failed, result 500/7700 and message" \
    test "$(q "SELECT operation_status || ' ' || result || ' ' || result_message FROM notifications WHERE msg_id = 't-3'")" = \
    "failed 500/7700 Call transfer failed."
check "operation: the leg's tenant, chain and policy" \
    test "$(q "SELECT tenant || ' ' || chain_id || ' ' || policy FROM notifications WHERE msg_id = 't-3'")" = \
    "$TENANT_ID 7c0ffee0-0000-4000-8000-0000000000c3 Test Policy"
check "operation: the leg's paired recorders" \
    test "$(q "SELECT paired_recorders FROM audit_event WHERE msg_id = 't-3'")" = '["471f0300-5c1f-4d99-b5f4-2722e877d490"]'

# The end: terminationReason and resultInfo.
check "terminated with terminationReason: 202" \
    test "$(send $N/terminated-transfer.json t-4)" = 202
check "the leg ended" wait_for 5 log_has "call $CALL: ended"
check "terminated: termination_reason and result in call_ends" \
    wait_for 5 sh -c "[ \"\$(sqlite3 -readonly '$DB' \"SELECT termination_reason || ' ' || result FROM call_ends WHERE call_id = '$CALL'\")\" = 'TransferCompleted 200/7015' ]"
check "terminated notification: state, reason, result" \
    test "$(q "SELECT state || ' ' || termination_reason || ' ' || result FROM notifications WHERE msg_id = 't-4'")" = \
    "terminated TransferCompleted 200/7015"
check "SIGTERM: clean exit" stop_polrecd
check "the trail verifies, new events and all" sh -c \
    "build/polrecctl audit verify -k '$T/keys/signing.pub' -d '$DB' >'$T/verify.out' 2>&1"
exit $FAILED
