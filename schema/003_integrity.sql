-- The trail's signed table of contents, rewritten in every commit that
-- changes the trail: the last event, its chain hash, and how many
-- checkpoints there are and the last one's seq, signed with the
-- appliance's key (lib/audit.h, "head seal").  Without the key nobody
-- can cut events off the end, append events, or remove checkpoints
-- without `polrecctl audit verify` seeing it.  One row.
CREATE TABLE audit_head (
    id                   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq                  INTEGER NOT NULL,
    utc_us               INTEGER NOT NULL,
    head                 BLOB NOT NULL,
    checkpoints          INTEGER NOT NULL,
    last_checkpoint_seq  INTEGER NOT NULL,
    key_id               TEXT NOT NULL,
    sig                  BLOB NOT NULL
);

-- RFC 3161 time stamps of checkpoints ([audit] tsa_url): the token as
-- the time stamping authority returned it (DER), for the checkpoint at
-- `seq`.  `polrecctl audit verify -T ca.pem` checks them.
CREATE TABLE audit_timestamp (
    seq          INTEGER PRIMARY KEY NOT NULL,
    gen_utc_us   INTEGER NOT NULL,
    token        BLOB NOT NULL
);
CREATE TRIGGER audit_timestamp_no_update BEFORE UPDATE ON audit_timestamp
BEGIN SELECT RAISE(ABORT, 'time stamps cannot be changed'); END;
CREATE TRIGGER audit_timestamp_no_delete BEFORE DELETE ON audit_timestamp
BEGIN SELECT RAISE(ABORT, 'time stamps cannot be removed'); END;

-- polrecd finds integrity alarms not yet acknowledged at start-up.
CREATE INDEX audit_event_integrity ON audit_event(seq) WHERE kind = 'integrity';
CREATE INDEX audit_event_acknowledge ON audit_event(seq) WHERE kind = 'acknowledge';
