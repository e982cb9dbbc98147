-- The index every checkpoint commits to (its `hotline-index` line), per log
-- this node holds leaves of: its own, and every mirror. Derived from the
-- entries and written in the same transaction as they are.

-- How many entries of the log the index covers: an older log (written
-- before the index existed) is indexed from its leaves once, at start.
ALTER TABLE logs ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;

-- The current state of each key (by the SHA-256 of the key): what the
-- in-memory index is loaded from.
CREATE TABLE index_keys (
    log    INTEGER NOT NULL,
    kh     BLOB    NOT NULL,
    count  INTEGER NOT NULL,
    chain  BLOB    NOT NULL,
    PRIMARY KEY (log, kh)
) WITHOUT ROWID;

-- One row per (entry, key of the entry): the key's state after the entry.
-- A key's entries below a size, and the index at any earlier size, are
-- read from these.
CREATE TABLE index_rows (
    log    INTEGER NOT NULL,
    kh     BLOB    NOT NULL,
    idx    INTEGER NOT NULL,
    count  INTEGER NOT NULL,
    chain  BLOB    NOT NULL,
    PRIMARY KEY (log, kh, idx)
) WITHOUT ROWID;
