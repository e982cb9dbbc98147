-- TAXII's index: the metadata of the STIX objects a channel's entries
-- carry (never their content, which stays sealed in the log), so that a
-- page is a query on an index and then the opening of its own entries only.
-- It is a cache of the log: each replica keeps its own, filled as entries
-- are read, and rows deleted are rebuilt from the log at the next read.

-- One row per object version, at its place: the carrying entry's time
-- (microseconds), the log's party, the entry's index, the offset in its
-- bundle. A version carried twice is kept once, at its first place.
CREATE TABLE taxii_objects (
    channel      TEXT    NOT NULL,           -- the collection id
    micros       INTEGER NOT NULL,
    party        TEXT    NOT NULL,
    idx          INTEGER NOT NULL,
    off          INTEGER NOT NULL,
    object_id    TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    version      TEXT    NOT NULL,           -- modified, or created, as written
    vkey         INTEGER,                    -- the version in nanoseconds, if a timestamp
    spec_version TEXT    NOT NULL,
    is_first     INTEGER NOT NULL,           -- the object's first version of those here
    is_last      INTEGER NOT NULL,           -- and its last
    PRIMARY KEY (channel, micros, party, idx, off)
) WITHOUT ROWID;
CREATE UNIQUE INDEX taxii_objects_by_version ON taxii_objects (channel, object_id, version);
CREATE INDEX taxii_objects_by_type ON taxii_objects (channel, type, micros, party, idx, off);
CREATE INDEX taxii_objects_last ON taxii_objects (channel, micros, party, idx, off) WHERE is_last = 1;
CREATE INDEX taxii_objects_first ON taxii_objects (channel, micros, party, idx, off) WHERE is_first = 1;

-- How far the index has read each direction of a channel: the sender's
-- log index of the last entry read (every entry up to it is indexed).
CREATE TABLE taxii_marks (
    channel  TEXT    NOT NULL,
    sender   TEXT    NOT NULL,               -- the sending office
    idx      INTEGER NOT NULL,
    PRIMARY KEY (channel, sender)
) WITHOUT ROWID;
