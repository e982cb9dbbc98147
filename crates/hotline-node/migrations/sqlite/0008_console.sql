-- A channel's timeline reads the entries between two offices in either
-- direction, newest first; unread counts read one direction after a mark.
CREATE INDEX entries_by_pair ON entries (log, from_name, to_name, idx);

-- Version 8 also created the console's read marks (console_seen) here; they
-- now live in the console's own database (console.sqlite3), which copies an
-- older directory's rows once.
