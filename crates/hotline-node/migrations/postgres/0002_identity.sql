-- Whose log this database holds: one row, written by the first node that
-- opens the database for writing. A node of another party, or of the same
-- name with other keys, is refused at start (one party per database).

CREATE TABLE holder (
    one          BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    party        TEXT    NOT NULL,
    log_key      TEXT    NOT NULL,  -- the log's verifier key (C2SP vkey)
    witness_key  TEXT    NOT NULL,  -- the witness's verifier key
    recorded     TIMESTAMPTZ NOT NULL DEFAULT now()
);
