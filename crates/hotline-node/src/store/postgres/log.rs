//! The log role on PostgreSQL: an append is one transaction holding the
//! lock on its log's row, so appenders of one log queue and the size read
//! at its start is still the size at its commit.

use hotline_proto::Hash;

use super::{PostgresStore, col, hash_from, i64_of, index::write_index, pg, stored_leaves, wait};
use crate::store::{AppendBatch, LogId, LogStore, Result, StoreError, StoredLeaf};

impl LogStore for PostgresStore {
    fn log_id(&self, origin: &str, party: &str) -> Result<LogId> {
        if let Some(id) = self.find_log(origin)? {
            return Ok(id);
        }
        let w = self.writer()?;
        wait(w.execute(
            "INSERT INTO logs (origin, party) VALUES ($1, $2) ON CONFLICT (origin) DO NOTHING",
            &[&origin, &party],
        ))
        .map_err(pg)?;
        let row =
            wait(w.query_one("SELECT id FROM logs WHERE origin = $1", &[&origin])).map_err(pg)?;
        Ok(LogId(col(&row, 0)?))
    }

    fn log_id_existing(&self, origin: &str) -> Result<LogId> {
        self.find_log(origin)?
            .ok_or_else(|| StoreError::Corrupt(format!("the store has no log {origin}")))
    }

    fn size(&self, log: LogId) -> Result<u64> {
        let row = wait(self.reader().query_one(
            "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries WHERE log = $1",
            &[&log.0],
        ))
        .map_err(pg)?;
        Ok(super::u64_of(col(&row, 0)?))
    }

    fn append(&self, b: &AppendBatch<'_>) -> Result<()> {
        let mut w = self.writer()?;
        let tx = wait(w.transaction()).map_err(pg)?;
        if wait(tx.query_opt("SELECT id FROM logs WHERE id = $1 FOR UPDATE", &[&b.log.0]))
            .map_err(pg)?
            .is_none()
        {
            return Err(StoreError::Corrupt(format!(
                "the store has no log {}",
                b.log.0
            )));
        }
        if let Some(held) = b.epoch {
            super::lease::check_epoch(&tx, held)?;
        }
        // A batch must continue the log exactly: an overlap trips the
        // primary key, but a gap would not.
        let row = wait(tx.query_one(
            "SELECT (SELECT COALESCE(MAX(idx) + 1, 0) FROM entries WHERE log = $1),
                    (SELECT COALESCE(MAX(id) + 1, 0) FROM hashes WHERE log = $1)",
            &[&b.log.0],
        ))
        .map_err(pg)?;
        let (size, hashes): (i64, i64) = (col(&row, 0)?, col(&row, 1)?);
        if size != i64_of(b.first)? || hashes != i64_of(b.first_hash)? {
            return Err(StoreError::Corrupt(format!(
                "a batch at entry {} (hash {}) of a log of {size} entries ({hashes} hashes)",
                b.first, b.first_hash
            )));
        }
        let idx = (0..b.leaves.len())
            .map(|i| i64_of(b.first + i as u64))
            .collect::<Result<Vec<_>>>()?;
        let leaf: Vec<&[u8]> = b.leaves.iter().map(|l| &l.leaf[..]).collect();
        let leaf_hash: Vec<&[u8]> = b.leaves.iter().map(|l| &l.leaf_hash.0[..]).collect();
        let kind: Vec<&str> = b.leaves.iter().map(|l| l.kind.as_str()).collect();
        let from: Vec<&str> = b.leaves.iter().map(|l| l.from.as_str()).collect();
        let to: Vec<Option<&str>> = b.leaves.iter().map(|l| l.to.as_deref()).collect();
        let subject: Vec<Option<&str>> = b.leaves.iter().map(|l| l.subject.as_deref()).collect();
        let time: Vec<&str> = b.leaves.iter().map(|l| l.time.as_str()).collect();
        let ref_log: Vec<Option<&str>> = b
            .leaves
            .iter()
            .map(|l| l.reference.as_ref().map(|r| r.0.as_str()))
            .collect();
        let ref_index = b
            .leaves
            .iter()
            .map(|l| l.reference.as_ref().map(|r| i64_of(r.1)).transpose())
            .collect::<Result<Vec<_>>>()?;
        wait(tx.execute(
            "INSERT INTO entries (log, idx, leaf, leaf_hash, kind, from_name, to_name, subject, time, ref_log, ref_index)
             SELECT $1, * FROM UNNEST($2::bigint[], $3::bytea[], $4::bytea[], $5::text[], $6::text[],
                                      $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])",
            &[&b.log.0, &idx, &leaf, &leaf_hash, &kind, &from, &to, &subject, &time, &ref_log, &ref_index],
        ))
        .map_err(pg)?;
        let (body_idx, sealed): (Vec<i64>, Vec<&[u8]>) = idx
            .iter()
            .zip(b.leaves)
            .filter_map(|(i, l)| l.sealed.as_deref().map(|s| (*i, s)))
            .unzip();
        if !sealed.is_empty() {
            wait(tx.execute(
                "INSERT INTO bodies (log, idx, sealed) SELECT $1, * FROM UNNEST($2::bigint[], $3::bytea[])",
                &[&b.log.0, &body_idx, &sealed],
            ))
            .map_err(pg)?;
        }
        let hash_id = (0..b.hashes.len())
            .map(|i| i64_of(b.first_hash + i as u64))
            .collect::<Result<Vec<_>>>()?;
        let hash: Vec<&[u8]> = b.hashes.iter().map(|h| &h.0[..]).collect();
        wait(tx.execute(
            "INSERT INTO hashes (log, id, hash) SELECT $1, * FROM UNNEST($2::bigint[], $3::bytea[])",
            &[&b.log.0, &hash_id, &hash],
        ))
        .map_err(pg)?;
        if let Some((size, note)) = b.checkpoint {
            wait(tx.execute(
                "INSERT INTO checkpoints (log, size, note, created) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (log, size) DO UPDATE SET note = EXCLUDED.note, created = EXCLUDED.created",
                &[&b.log.0, &i64_of(size)?, &note, &b.now],
            ))
            .map_err(pg)?;
        }
        if let Some(rows) = b.index {
            write_index(&tx, b.log, b.first, b.first + b.leaves.len() as u64, rows)?;
        }
        wait(tx.commit()).map_err(pg)
    }

    fn read_hashes(&self, log: LogId, ids: &[u64]) -> Result<Vec<Hash>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = ids.iter().map(|&i| i64_of(i)).collect::<Result<Vec<_>>>()?;
        let rows = wait(self.reader().query(
            "SELECT id, hash FROM hashes WHERE log = $1 AND id = ANY($2)",
            &[&log.0, &wanted],
        ))
        .map_err(pg)?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for r in &rows {
            found.insert(col::<i64>(r, 0)?, col::<Vec<u8>>(r, 1)?);
        }
        wanted
            .iter()
            .map(|id| {
                let blob = found
                    .get(id)
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt(format!("tree hash {id} is missing")))?;
                hash_from(blob)
            })
            .collect()
    }

    fn leaves(&self, log: LogId, start: u64, limit: u64) -> Result<Vec<StoredLeaf>> {
        let rows = wait(self.reader().query(
            "SELECT idx, leaf, leaf_hash FROM entries WHERE log = $1 AND idx >= $2 ORDER BY idx LIMIT $3",
            &[&log.0, &i64_of(start)?, &i64::try_from(limit).unwrap_or(i64::MAX)],
        ))
        .map_err(pg)?;
        stored_leaves(&rows)
    }

    fn body(&self, log: LogId, index: u64) -> Result<Option<Vec<u8>>> {
        let row = wait(self.reader().query_opt(
            "SELECT sealed FROM bodies WHERE log = $1 AND idx = $2",
            &[&log.0, &i64_of(index)?],
        ))
        .map_err(pg)?;
        row.map(|r| col(&r, 0)).transpose()
    }

    fn last_time(&self, log: LogId) -> Result<Option<String>> {
        let row = wait(self.reader().query_opt(
            "SELECT time FROM entries WHERE log = $1 ORDER BY idx DESC LIMIT 1",
            &[&log.0],
        ))
        .map_err(pg)?;
        row.map(|r| col(&r, 0)).transpose()
    }

    fn latest_checkpoint(&self, log: LogId) -> Result<Option<(u64, Vec<u8>)>> {
        let row = wait(self.reader().query_opt(
            "SELECT size, note FROM checkpoints WHERE log = $1 ORDER BY size DESC LIMIT 1",
            &[&log.0],
        ))
        .map_err(pg)?;
        row.map(|r| Ok((super::u64_of(col(&r, 0)?), col(&r, 1)?)))
            .transpose()
    }

    fn checkpoint_at(&self, log: LogId, size: u64) -> Result<Option<Vec<u8>>> {
        let row = wait(self.reader().query_opt(
            "SELECT note FROM checkpoints WHERE log = $1 AND size = $2",
            &[&log.0, &i64_of(size)?],
        ))
        .map_err(pg)?;
        row.map(|r| col(&r, 0)).transpose()
    }

    fn checkpoint_within(
        &self,
        log: LogId,
        above: u64,
        at_most: u64,
    ) -> Result<Option<(u64, Vec<u8>)>> {
        let row = wait(self.reader().query_opt(
            "SELECT size, note FROM checkpoints WHERE log = $1 AND size > $2 AND size <= $3
             ORDER BY size DESC LIMIT 1",
            &[&log.0, &i64_of(above)?, &i64_of(at_most)?],
        ))
        .map_err(pg)?;
        row.map(|r| Ok((super::u64_of(col(&r, 0)?), col(&r, 1)?)))
            .transpose()
    }
}

impl PostgresStore {
    fn find_log(&self, origin: &str) -> Result<Option<LogId>> {
        let row = wait(
            self.reader()
                .query_opt("SELECT id FROM logs WHERE origin = $1", &[&origin]),
        )
        .map_err(pg)?;
        row.map(|r| col(&r, 0).map(LogId)).transpose()
    }
}
