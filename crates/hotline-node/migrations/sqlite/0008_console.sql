-- A channel's timeline reads the entries between two offices in either
-- direction, newest first; unread counts read one direction after a mark.
CREATE INDEX entries_by_pair ON entries (log, from_name, to_name, idx);

-- Each operator's read mark per channel ("us/fbi ru/fsb"): the highest index
-- of the peer's mirror they have seen there. A projection for the console
-- only; nothing is proved from it.
CREATE TABLE console_seen (
    operator  TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    idx       INTEGER NOT NULL,
    PRIMARY KEY (operator, channel)
);
