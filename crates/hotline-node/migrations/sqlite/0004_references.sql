-- Acks, answers and agreement signatures are found from what they refer to.
CREATE INDEX entries_by_reference ON entries (log, ref_log, ref_index) WHERE ref_log IS NOT NULL;
