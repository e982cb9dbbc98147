-- Operators of the web console: people who log in to this node to act for
-- some of its offices. Not part of the log: who may click what on this
-- party's own machine is this party's business, and nothing here is signed.
CREATE TABLE operators (
    name           TEXT    PRIMARY KEY,      -- [a-z0-9._-], 1-64 characters
    offices        TEXT    NOT NULL,         -- JSON array of office names, e.g. ["us/fbi"]
    admin          INTEGER NOT NULL DEFAULT 0,
    password_hash  TEXT    NOT NULL,         -- Argon2id, PHC string format
    failures       INTEGER NOT NULL DEFAULT 0,  -- consecutive failed logins
    locked_until   INTEGER,                  -- Unix seconds; NULL when not locked
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
