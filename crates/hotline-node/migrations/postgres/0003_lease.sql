-- The sequencer lease: one row for the whole database (one party's node).
-- Every append of a replica checks, in its own transaction and under a
-- share lock on this row, that `epoch` is still the one it was granted;
-- taking the lease locks the row for update, so a takeover waits for
-- appends in flight and every later append of the old holder is refused.
-- Times are the server's (now()), never a replica's clock.
CREATE TABLE sequencer_lease (
    id       INT         PRIMARY KEY CHECK (id = 1),
    epoch    BIGINT      NOT NULL,
    holder   TEXT        NOT NULL,
    url      TEXT        NOT NULL,
    since    TIMESTAMPTZ NOT NULL,
    expires  TIMESTAMPTZ NOT NULL
);
INSERT INTO sequencer_lease VALUES (1, 0, '', '', now(), now());
