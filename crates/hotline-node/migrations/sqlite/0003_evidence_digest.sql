-- A peer that keeps resending a fork must not grow the evidence table: the
-- same bundle is kept once.
ALTER TABLE equivocations ADD COLUMN digest BLOB;
CREATE UNIQUE INDEX equivocations_by_digest ON equivocations (digest);
