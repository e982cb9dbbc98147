-- The log is the source of truth. Everything else is a projection of it.
CREATE TABLE logs (
    id      INTEGER PRIMARY KEY,
    origin  TEXT NOT NULL UNIQUE,
    party   TEXT NOT NULL
);

-- One row per leaf. Columns after leaf_hash are copied out of the signed
-- header for indexing only; the leaf bytes are authoritative.
CREATE TABLE entries (
    log        INTEGER NOT NULL REFERENCES logs(id),
    idx        INTEGER NOT NULL,
    leaf       BLOB    NOT NULL,
    leaf_hash  BLOB    NOT NULL,
    kind       TEXT    NOT NULL,
    from_name  TEXT    NOT NULL,
    to_name    TEXT,
    subject    TEXT,             -- for key entries: the office announced
    time       TEXT    NOT NULL,
    PRIMARY KEY (log, idx)
);
CREATE UNIQUE INDEX entries_by_hash ON entries (log, leaf_hash);
CREATE INDEX entries_by_channel ON entries (log, kind, from_name, to_name, idx);
CREATE INDEX entries_by_subject ON entries (log, subject, idx) WHERE subject IS NOT NULL;

-- Sealed bodies, as delivered (ciphertext only).
CREATE TABLE bodies (
    log     INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    sealed  BLOB    NOT NULL,
    PRIMARY KEY (log, idx)
);

-- Every complete subtree hash, numbered by tlog stored-hash index, so a proof
-- reads O(log n) rows and never rebuilds the tree.
CREATE TABLE hashes (
    log   INTEGER NOT NULL,
    id    INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    PRIMARY KEY (log, id)
) WITHOUT ROWID;

-- Signed checkpoints (signed notes), newest last; cosignatures are added to
-- the note text as they arrive.
CREATE TABLE checkpoints (
    log      INTEGER NOT NULL,
    size     INTEGER NOT NULL,
    note     BLOB    NOT NULL,
    created  INTEGER NOT NULL,
    PRIMARY KEY (log, size)
);
