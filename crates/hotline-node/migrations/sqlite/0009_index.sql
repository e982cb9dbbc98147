-- The index every checkpoint commits to (its `hotline-index` line), per log
-- this node holds leaves of: its own, and every mirror. Derived from the
-- entries and written in the same transaction as they are.

-- How many entries of the log the index covers: an older log (written
-- before the index existed) is indexed from its leaves once, at start.
ALTER TABLE logs ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;

-- The current state of each key, by the key's id: keys are numbered per log
-- in order of first appearance, so a new key goes at the end of the table
-- and a batch's writes land on a few pages, where a key's SHA-256 would
-- scatter them over the whole table. `kh` (the SHA-256 of the key) is not
-- indexed: whoever needs a key's id loads every key anyway (the in-memory
-- index) and maps it there.
CREATE TABLE index_keys (
    log    INTEGER NOT NULL,
    id     INTEGER NOT NULL,
    kh     BLOB    NOT NULL,
    count  INTEGER NOT NULL,
    chain  BLOB    NOT NULL,
    PRIMARY KEY (log, id)
) WITHOUT ROWID;

-- One row per (entry, key of the entry): the key's state after the entry.
-- A key's entries below a size, and the index at any earlier size, are
-- read from these.
CREATE TABLE index_rows (
    log    INTEGER NOT NULL,
    id     INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    count  INTEGER NOT NULL,
    chain  BLOB    NOT NULL,
    PRIMARY KEY (log, id, idx)
) WITHOUT ROWID;
