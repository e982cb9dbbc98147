-- Every cosignature, kept with the signed checkpoint it covers: a witness
-- keeps the ones it gives (for the logs it mirrors), a log the ones it gets.
-- Claims about time ("nothing came between T1 and T2") need the checkpoints
-- cosigned at or before T1 and at or after T2, long after newer ones exist.
ALTER TABLE cosignatures ADD COLUMN note BLOB;
CREATE INDEX cosignatures_by_time ON cosignatures (log, time);
