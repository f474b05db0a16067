-- polrecd's live state: one row per call leg it handles, from the
-- invitation until some minutes after the leg ends.  The row is
-- rewritten as the leg changes, in the same transaction as the audit
-- events of that change, before any reply that depends on it leaves.
-- It holds no identity: participants are keyed hashes (key_dir/state.key).
CREATE TABLE leg_state (
    call_id          TEXT PRIMARY KEY NOT NULL,
    tenant           TEXT,
    chain_id         TEXT,
    policy           TEXT,
    paired_recorders TEXT,              -- JSON arrays of recorder ids
    other_recorders  TEXT,
    state            TEXT NOT NULL,     -- incoming ... terminated
    decision         TEXT NOT NULL,     -- answer, busy, forbidden
    reason           TEXT,              -- why decided so
    outcome          TEXT NOT NULL,     -- pending, answered, rejected, missed, failed
    end_reason       TEXT,
    callback_uri     TEXT,              -- as the leg was answered with
    arrival_utc_us   INTEGER NOT NULL,
    ended_utc_us     INTEGER,           -- NULL while live
    result_code      INTEGER,           -- resultInfo at the end
    result_subcode   INTEGER,
    result_text      TEXT,
    capture          TEXT NOT NULL,     -- as the media agent reports it
    rec_confirmed    TEXT NOT NULL,     -- recording status Graph confirmed
    rec_sent         TEXT NOT NULL,     -- last sent (in flight or done)
    blob_issued      INTEGER NOT NULL,  -- the media agent holds a session
    group_capacity   INTEGER,           -- participantCapacity; NULL: no group
    group_members    BLOB,              -- 9 bytes each: hash (8, big-endian), kind
    roster           BLOB,              -- 9 bytes each: hash, recorder (0/1)
    roster_sequence  INTEGER NOT NULL,
    roster_seen      INTEGER NOT NULL,
    updated_utc_us   INTEGER NOT NULL
);
CREATE INDEX leg_state_ended ON leg_state(ended_utc_us) WHERE ended_utc_us IS NOT NULL;
PRAGMA application_id = 1886351986;  -- 'polr': refuse others' databases
