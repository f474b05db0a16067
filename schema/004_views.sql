-- The auditor views, remade so that they say what the rows say.
--
-- utc is exactly the string `polrecctl audit export` prints for the same
-- event (lib/trail_export.c, trail_format_time): whole seconds by
-- floor division of the integer utc_us, then six digits of microseconds.
-- The views of 002 went through strftime('%f'), which rounds to the
-- millisecond, and so showed times up to 1 ms late and out of order.
--
-- call_legs shows, for each column, the value of the last such event by
-- seq, not max() over strings: a leg whose recording went from
-- recording to notRecording shows notRecording.
DROP VIEW IF EXISTS call_legs;
DROP VIEW IF EXISTS recording_status;
DROP VIEW IF EXISTS join_decisions;
DROP VIEW IF EXISTS answers;
DROP VIEW IF EXISTS invitations;
DROP VIEW IF EXISTS notifications;
DROP VIEW IF EXISTS events;

-- Every event, its time as UTC ISO 8601 with microseconds.
CREATE VIEW events AS
SELECT seq,
       strftime('%Y-%m-%dT%H:%M:%S',
           (utc_us - ((utc_us % 1000000) + 1000000) % 1000000) / 1000000,
           'unixepoch')
         || printf('.%06dZ', ((utc_us % 1000000) + 1000000) % 1000000) AS utc,
       utc_us, clock_synced, clock_maxerror_us, kind, outcome, reason,
       call_id, chain_id, tenant, policy, paired_recorders, other_recorders,
       msg_id, http_status, graph_code, request_id, latency_us, attempts,
       detail, key_id, sealed
FROM audit_event;

-- Every notification received, refused ones too (outcome refused, reason).
CREATE VIEW notifications AS
SELECT seq, utc, outcome, reason, call_id, tenant, msg_id, http_status,
       json_extract(detail, '$.resource') AS resource,
       json_extract(detail, '$.type') AS type,
       json_extract(detail, '$.change') AS change
FROM events WHERE kind = 'notification';

-- Each invitation and what was decided (outcome answer, busy, forbidden).
CREATE VIEW invitations AS
SELECT seq, utc, call_id, chain_id, tenant, policy, paired_recorders,
       other_recorders, msg_id, outcome AS decision, reason
FROM events WHERE kind = 'invitation';

-- What Graph said to each answer or reject, and answers never sent.
CREATE VIEW answers AS
SELECT seq, utc, call_id, tenant, policy, kind AS action, outcome, reason,
       http_status, graph_code, request_id, latency_us / 1000.0 AS latency_ms,
       attempts
FROM events WHERE kind IN ('answer', 'reject', 'missed');

CREATE VIEW join_decisions AS
SELECT seq, utc, call_id, tenant, policy, outcome AS decision, reason,
       json_extract(detail, '$.group_used') AS group_used,
       json_extract(detail, '$.group_capacity') AS group_capacity
FROM events WHERE kind = 'join';

CREATE VIEW recording_status AS
SELECT seq, utc, call_id, outcome, reason, http_status, request_id,
       json_extract(detail, '$.status') AS status
FROM events WHERE kind = 'recording';

-- One row per call leg: when it was first invited, and the last
-- decision, answer, confirmed recording status and end, by seq.
CREATE VIEW call_legs AS
SELECT l.call_id,
       (SELECT e.utc FROM events e WHERE e.call_id = l.call_id
           AND e.kind = 'invitation' ORDER BY e.seq LIMIT 1) AS invited,
       (SELECT e.outcome FROM events e WHERE e.call_id = l.call_id
           AND e.kind = 'invitation' ORDER BY e.seq DESC LIMIT 1) AS decision,
       (SELECT e.kind || ' ' || e.outcome FROM events e
           WHERE e.call_id = l.call_id
           AND e.kind IN ('answer', 'reject', 'missed')
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
