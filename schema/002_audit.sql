-- The audit trail: one append-only event per notification received and
-- per decision or Graph outcome.  Clear columns are what auditors query;
-- personal metadata is in `sealed`, readable only with the auditor's
-- secret key.  `hash` chains every event to the one before (see
-- lib/audit.h); audit_checkpoint signs the chain head from time to time.
CREATE TABLE audit_event (
    seq                INTEGER PRIMARY KEY NOT NULL,
    utc_us             INTEGER NOT NULL,
    mono_us            INTEGER NOT NULL,
    clock_synced       INTEGER NOT NULL,
    clock_maxerror_us  INTEGER,
    clock_esterror_us  INTEGER,
    kind               TEXT NOT NULL,
    outcome            TEXT,
    reason             TEXT,
    call_id            TEXT,
    chain_id           TEXT,
    tenant             TEXT,
    policy             TEXT,
    paired_recorders   TEXT,
    other_recorders    TEXT,
    msg_id             TEXT,
    http_status        INTEGER,
    graph_code         TEXT,
    request_id         TEXT,
    latency_us         INTEGER,
    attempts           INTEGER,
    detail             TEXT,
    key_id             TEXT,
    sealed             BLOB,
    hash               BLOB NOT NULL
);
CREATE INDEX audit_event_call ON audit_event(call_id) WHERE call_id IS NOT NULL;
CREATE INDEX audit_event_utc ON audit_event(utc_us);

-- Signed chain heads: the hash of event `seq`, signed with the key
-- `key_id` (audit_key).
CREATE TABLE audit_checkpoint (
    seq      INTEGER PRIMARY KEY NOT NULL,
    utc_us   INTEGER NOT NULL,
    head     BLOB NOT NULL,
    key_id   TEXT NOT NULL,
    sig      BLOB NOT NULL
);

-- Public keys: the appliance's signing keys and the auditor keys the
-- data keys were sealed to.
CREATE TABLE audit_key (
    key_id          TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('signing', 'auditor')),
    public_key      BLOB NOT NULL,
    created_utc_us  INTEGER NOT NULL
);

-- Data keys, each sealed to an auditor key; events name theirs in key_id.
CREATE TABLE audit_datakey (
    key_id          TEXT PRIMARY KEY NOT NULL,
    auditor_key_id  TEXT NOT NULL,
    sealed_key      BLOB NOT NULL,
    created_utc_us  INTEGER NOT NULL
);

-- Set only inside the retention command's transaction: events up to
-- upto_seq may be deleted then, and never otherwise.
CREATE TABLE audit_retention_permit (
    upto_seq  INTEGER NOT NULL
);

CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
WHEN NOT EXISTS (SELECT 1 FROM audit_retention_permit WHERE OLD.seq <= upto_seq)
BEGIN SELECT RAISE(ABORT, 'audit events are removed only by retention'); END;
CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'checkpoints cannot be changed'); END;
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'checkpoints cannot be removed'); END;
CREATE TRIGGER audit_key_no_update BEFORE UPDATE ON audit_key
BEGIN SELECT RAISE(ABORT, 'keys cannot be changed'); END;
CREATE TRIGGER audit_key_no_delete BEFORE DELETE ON audit_key
BEGIN SELECT RAISE(ABORT, 'keys cannot be removed'); END;
CREATE TRIGGER audit_datakey_no_update BEFORE UPDATE ON audit_datakey
BEGIN SELECT RAISE(ABORT, 'data keys cannot be changed'); END;
CREATE TRIGGER audit_datakey_no_delete BEFORE DELETE ON audit_datakey
BEGIN SELECT RAISE(ABORT, 'data keys cannot be removed'); END;

-- Auditor views.  Times are UTC, ISO 8601 with microseconds.
CREATE VIEW events AS
SELECT seq, strftime('%Y-%m-%dT%H:%M:%f', utc_us / 1000000.0, 'unixepoch')
         || printf('%03dZ', utc_us % 1000) AS utc,
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

-- One row per call leg: when it was invited, decided, answered, ended.
CREATE VIEW call_legs AS
SELECT call_id,
       min(CASE WHEN kind = 'invitation' THEN utc END) AS invited,
       max(CASE WHEN kind = 'invitation' THEN outcome END) AS decision,
       max(CASE WHEN kind IN ('answer', 'reject', 'missed') THEN kind || ' ' || outcome END) AS answer,
       max(CASE WHEN kind = 'recording' AND outcome = 'confirmed' THEN json_extract(detail, '$.status') END) AS recording,
       max(CASE WHEN kind = 'terminated' THEN utc END) AS ended,
       max(CASE WHEN kind = 'terminated' THEN reason END) AS end_reason,
       max(CASE WHEN kind = 'terminated' THEN json_extract(detail, '$.result') END) AS result,
       max(tenant) AS tenant, max(policy) AS policy
FROM events WHERE call_id IS NOT NULL
GROUP BY call_id;
