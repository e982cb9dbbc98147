-- TAXII 2.1 (the console's /taxii2/ routes): tokens for scripts, and the
-- status resources that answer each POST of objects.

-- Tokens made by `hotline operator token NAME`: only the SHA-256 of the
-- token is kept (it is 32 random bytes, so no slow hash is needed), and
-- removing the operator removes its tokens.
CREATE TABLE taxii_tokens (
    token_hash  BLOB    PRIMARY KEY,         -- SHA-256 of the token
    operator    TEXT    NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
    created     INTEGER NOT NULL             -- Unix seconds
) WITHOUT ROWID;
CREATE INDEX taxii_tokens_by_operator ON taxii_tokens (operator);

-- One status resource per accepted POST, readable by the operator who sent
-- it: the TAXII status JSON, as answered.
CREATE TABLE taxii_status (
    id        TEXT    PRIMARY KEY,           -- UUID
    operator  TEXT    NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
    root      TEXT    NOT NULL,              -- the API root's name
    body      TEXT    NOT NULL,              -- the status resource, JSON
    created   INTEGER NOT NULL               -- Unix seconds
);
