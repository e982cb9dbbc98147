-- Receipts point at the entry they acknowledge; indexing that reference lets
-- the receipt cursor be derived from the log itself (exactly once, no
-- separate state to drift).
ALTER TABLE entries ADD COLUMN ref_log TEXT;
ALTER TABLE entries ADD COLUMN ref_index INTEGER;
CREATE INDEX entries_by_ref ON entries (log, kind, ref_log, ref_index) WHERE ref_log IS NOT NULL;

-- As a witness: the latest checkpoint this node cosigned for each log.
-- Checked and advanced in one transaction (C2SP tlog-witness).
CREATE TABLE witness_state (
    origin   TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    root     BLOB    NOT NULL,
    note     BLOB    NOT NULL,
    updated  INTEGER NOT NULL
);

-- As a log: every cosignature a witness returned, with the witness's time.
-- The series of times shows when the link was up.
CREATE TABLE cosignatures (
    log      INTEGER NOT NULL,
    size     INTEGER NOT NULL,
    witness  TEXT    NOT NULL,
    time     INTEGER NOT NULL,
    line     TEXT    NOT NULL,
    PRIMARY KEY (log, witness, time, size)
);

-- Evidence of equivocation: two checkpoints of one log, both validly signed,
-- that cannot both be views of one append-only log.
CREATE TABLE equivocations (
    id        INTEGER PRIMARY KEY,
    origin    TEXT    NOT NULL,
    detected  INTEGER NOT NULL,
    bundle    BLOB    NOT NULL
);
