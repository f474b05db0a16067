-- Following a call: where it was redirected, how it ended, and the
-- chain ids it went by across transfers.  No table changes: what is new
-- is in the clear, hashed `detail` of the events (lib/trail.c chains
-- every column, detail among them), so old events verify as they did.
--
-- notifications gains what a notification said in clear: a call's
-- state and terminationReason, an operation's status, their resultInfo
-- (a failed transfer's too).  answers and call_legs count a redirect
-- (302 Found to [recording] redirect_url) as the invitation's outcome.
DROP VIEW IF EXISTS call_legs;
DROP VIEW IF EXISTS answers;
DROP VIEW IF EXISTS notifications;

CREATE VIEW notifications AS
SELECT seq, utc, outcome, reason, call_id, tenant, msg_id, http_status,
       json_extract(detail, '$.resource') AS resource,
       json_extract(detail, '$.type') AS type,
       json_extract(detail, '$.change') AS change,
       chain_id, policy,
       json_extract(detail, '$.state') AS state,
       json_extract(detail, '$.termination_reason') AS termination_reason,
       json_extract(detail, '$.operation_status') AS operation_status,
       json_extract(detail, '$.result') AS result,
       json_extract(detail, '$.result_message') AS result_message
FROM events WHERE kind = 'notification';

CREATE VIEW answers AS
SELECT seq, utc, call_id, tenant, policy, kind AS action, outcome, reason,
       http_status, graph_code, request_id, latency_us / 1000.0 AS latency_ms,
       attempts, json_extract(detail, '$.location') AS location
FROM events WHERE kind IN ('answer', 'reject', 'missed', 'redirect');

-- Every chain id a call leg went by: the invitation's (and where it came
-- from: callChainId, the X-Microsoft-Skype-Chain-ID header, or
-- botData.callId), and each change after (a transfer), with who
-- transferred when Graph said.  Join on chain_id or previous_chain_id
-- to follow a call from leg to leg.
CREATE VIEW call_chains AS
SELECT seq, utc, call_id, kind, outcome, chain_id,
       json_extract(detail, '$.previous_chain_id') AS previous_chain_id,
       json_extract(detail, '$.chain_source') AS chain_source,
       json_extract(detail, '$.transferor.kind') AS transferor_kind,
       json_extract(detail, '$.transferor.id') AS transferor_id,
       json_extract(detail, '$.transferor.tenantId') AS transferor_tenant
FROM events WHERE kind = 'chain' OR (kind = 'invitation'
    AND outcome != 'duplicate');

-- How each leg ended: Graph's resultInfo and terminationReason.
CREATE VIEW call_ends AS
SELECT seq, utc, call_id, tenant, outcome, reason,
       json_extract(detail, '$.result') AS result,
       json_extract(detail, '$.termination_reason') AS termination_reason,
       json_extract(detail, '$.recording') AS recording
FROM events WHERE kind = 'terminated';

CREATE VIEW call_legs AS
SELECT l.call_id,
       (SELECT e.utc FROM events e WHERE e.call_id = l.call_id
           AND e.kind = 'invitation' ORDER BY e.seq LIMIT 1) AS invited,
       (SELECT e.outcome FROM events e WHERE e.call_id = l.call_id
           AND e.kind = 'invitation' ORDER BY e.seq DESC LIMIT 1) AS decision,
       (SELECT e.kind || ' ' || e.outcome FROM events e
           WHERE e.call_id = l.call_id
           AND e.kind IN ('answer', 'reject', 'missed', 'redirect')
           ORDER BY e.seq DESC LIMIT 1) AS answer,
       (SELECT json_extract(e.detail, '$.status') FROM events e
           WHERE e.call_id = l.call_id AND e.kind = 'recording'
           AND e.outcome = 'confirmed'
           ORDER BY e.seq DESC LIMIT 1) AS recording,
       (SELECT e.utc FROM events e WHERE e.call_id = l.call_id
           AND e.kind = 'terminated' ORDER BY e.seq DESC LIMIT 1) AS ended,
       (SELECT e.reason FROM events e WHERE e.call_id = l.call_id
           AND e.kind = 'terminated' ORDER BY e.seq DESC LIMIT 1) AS end_reason,
       (SELECT json_extract(e.detail, '$.result') FROM events e
           WHERE e.call_id = l.call_id AND e.kind = 'terminated'
           ORDER BY e.seq DESC LIMIT 1) AS result,
       (SELECT e.tenant FROM events e WHERE e.call_id = l.call_id
           AND e.tenant IS NOT NULL ORDER BY e.seq DESC LIMIT 1) AS tenant,
       (SELECT e.policy FROM events e WHERE e.call_id = l.call_id
           AND e.policy IS NOT NULL ORDER BY e.seq DESC LIMIT 1) AS policy
FROM audit_event l WHERE l.call_id IS NOT NULL
GROUP BY l.call_id;
