-- Lookups by kind and by reference return rows in log order. Without an
-- index that serves both the filter and the order, SQLite walked the primary
-- key over every entry of the log to avoid a sort — and the agreement check
-- runs that lookup on every send and every receipt, so each one cost
-- O(log size). These indexes make them O(matches).
CREATE INDEX entries_by_kind ON entries (log, kind, idx);
DROP INDEX entries_by_reference;
CREATE INDEX entries_by_reference ON entries (log, ref_log, ref_index, idx);
