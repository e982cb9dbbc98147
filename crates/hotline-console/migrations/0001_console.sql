-- The console's own database (console.sqlite3 in the node directory): who
-- may sign in to this node's web console, their sessions and what they have
-- read. None of it is part of the log, and nothing here is signed: who may
-- click what on this party's own machine is this party's business.

-- Operators: people who log in to act for some of this party's offices.
CREATE TABLE operators (
    name           TEXT    PRIMARY KEY,      -- [a-z0-9._-], 1-64 characters
    offices        TEXT    NOT NULL,         -- JSON array of office names, e.g. ["us/fbi"]
    admin          INTEGER NOT NULL DEFAULT 0,
    password_hash  TEXT    NOT NULL,         -- Argon2id, PHC string format
    failures       INTEGER NOT NULL DEFAULT 0,  -- consecutive failed logins
    locked_until   INTEGER,                  -- Unix seconds; set by old versions only
    created        INTEGER NOT NULL          -- Unix seconds
);

-- Logged-in sessions. Only the SHA-256 of the session token is kept, so a
-- copy of the database does not let anyone act as an operator. The CSRF
-- token is no secret on its own (it only works beside the session cookie).
-- Expiry follows from the console policy: min(last_seen + idle, created + max).
CREATE TABLE sessions (
    token_hash  BLOB    PRIMARY KEY,         -- SHA-256 of the session token
    operator    TEXT    NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
    csrf        TEXT    NOT NULL,
    created     INTEGER NOT NULL,            -- Unix seconds
    last_seen   INTEGER NOT NULL             -- Unix seconds
) WITHOUT ROWID;
CREATE INDEX sessions_by_operator ON sessions (operator);

-- Each operator's read mark per channel ("us/fbi ru/fsb"): the highest index
-- of the peer's mirror they have seen there.
CREATE TABLE console_seen (
    operator  TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    idx       INTEGER NOT NULL,
    PRIMARY KEY (operator, channel)
);

-- Set once, when the rows an older version kept in hotline.db were copied
-- here (or found absent), so that the copy never runs twice.
CREATE TABLE carried_over (
    at          INTEGER NOT NULL,            -- Unix seconds
    operators   INTEGER NOT NULL,            -- rows copied, per table
    sessions    INTEGER NOT NULL,
    seen_marks  INTEGER NOT NULL
);
