//! The index role on PostgreSQL: per-key rows and states, written in the
//! transaction of the entries they index (or caught up later, the same way).

use std::collections::HashMap;

use hotline_proto::Hash;
use hotline_proto::index::KeyState;

use super::conn::Tx;
use super::{PostgresStore, col, hash_from, i64_of, pg, u64_of, wait};
use crate::store::index::{another_key, not_following, row_is_new_key};
use crate::store::{IndexRow, IndexStore, LogId, Result, StoreError};

impl IndexStore for PostgresStore {
    fn index_states(&self, log: LogId) -> Result<(u64, Vec<(Hash, KeyState)>)> {
        // One statement reads one snapshot: the size and the states agree.
        let rows = wait(self.reader().query(
            "SELECT l.indexed, k.id, k.kh, k.count, k.chain FROM logs l
             LEFT JOIN index_keys k ON k.log = l.id WHERE l.id = $1 ORDER BY k.id",
            &[&log.0],
        ))
        .map_err(pg)?;
        let Some(first) = rows.first() else {
            return Ok((0, Vec::new()));
        };
        let indexed = u64_of(col(first, 0)?);
        let keys: Vec<_> = rows
            .iter()
            .filter(|r| matches!(r.try_get::<_, Option<i64>>(1), Ok(Some(_))))
            .collect();
        Ok((indexed, key_states(keys.into_iter(), 1)?))
    }

    fn index_states_at(&self, log: LogId, size: u64) -> Result<Vec<(Hash, KeyState)>> {
        let rows = wait(self.reader().query(
            "SELECT DISTINCT ON (r.id) r.id, k.kh, r.count, r.chain FROM index_rows r
             JOIN index_keys k ON k.log = r.log AND k.id = r.id
             WHERE r.log = $1 AND r.idx < $2 ORDER BY r.id, r.idx DESC",
            &[&log.0, &i64_of(size)?],
        ))
        .map_err(pg)?;
        key_states(rows.iter(), 0)
    }

    fn key_state_at(&self, log: LogId, key: u64, size: u64) -> Result<KeyState> {
        let row = wait(self.reader().query_opt(
            "SELECT count, chain FROM index_rows WHERE log = $1 AND id = $2 AND idx < $3
             ORDER BY idx DESC LIMIT 1",
            &[&log.0, &i64_of(key)?, &i64_of(size)?],
        ))
        .map_err(pg)?;
        match row {
            None => Ok(KeyState::default()),
            Some(r) => Ok(KeyState {
                count: u64_of(col(&r, 0)?),
                chain: hash_from(col(&r, 1)?)?,
            }),
        }
    }

    fn key_entries(
        &self,
        log: LogId,
        key: u64,
        size: u64,
        from_count: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let rows = wait(self.reader().query(
            "SELECT r.idx, e.leaf FROM index_rows r JOIN entries e ON e.log = r.log AND e.idx = r.idx
             WHERE r.log = $1 AND r.id = $2 AND r.idx < $3 AND r.count > $4 ORDER BY r.idx",
            &[&log.0, &i64_of(key)?, &i64_of(size)?, &i64_of(from_count)?],
        ))
        .map_err(pg)?;
        rows.iter()
            .map(|r| Ok((u64_of(col(r, 0)?), col(r, 1)?)))
            .collect()
    }

    fn add_index(&self, log: LogId, first: u64, end: u64, rows: &[IndexRow]) -> Result<()> {
        let mut w = self.writer()?;
        let tx = wait(w.transaction()).map_err(pg)?;
        write_index(&tx, log, first, end, rows)?;
        wait(tx.commit()).map_err(pg)
    }
}

/// Rows whose columns from `at` are `(id, kh, count, chain)`, in id order:
/// the ids must be 0, 1, … (a key's id is its position).
fn key_states<'a>(
    rows: impl Iterator<Item = &'a tokio_postgres::Row>,
    at: usize,
) -> Result<Vec<(Hash, KeyState)>> {
    rows.enumerate()
        .map(|(n, r)| {
            let id: i64 = col(r, at)?;
            if usize::try_from(id).ok() != Some(n) {
                return Err(StoreError::Corrupt(format!(
                    "index key {id} where key {n} was expected: the key ids have a gap"
                )));
            }
            Ok((
                hash_from(col(r, at + 1)?)?,
                KeyState {
                    count: u64_of(col(r, at + 2)?),
                    chain: hash_from(col(r, at + 3)?)?,
                },
            ))
        })
        .collect()
}

/// Writes the index rows of entries `[first, end)` of `log` and the keys'
/// new states inside `tx`, under the lock on the log's row: the index must
/// cover exactly `first` entries, and a key new to it takes the next id.
pub(super) fn write_index(
    tx: &Tx<'_>,
    log: LogId,
    first: u64,
    end: u64,
    rows: &[IndexRow],
) -> Result<()> {
    let row = wait(tx.query_opt(
        "SELECT indexed FROM logs WHERE id = $1 FOR UPDATE",
        &[&log.0],
    ))
    .map_err(pg)?
    .ok_or_else(|| StoreError::Corrupt(format!("the store has no log {}", log.0)))?;
    let indexed: i64 = col(&row, 0)?;
    if indexed != i64_of(first)? {
        return Err(not_following(log, u64_of(indexed), first));
    }
    let row = wait(tx.query_one(
        "SELECT COALESCE(MAX(id) + 1, 0) FROM index_keys WHERE log = $1",
        &[&log.0],
    ))
    .map_err(pg)?;
    let mut next: i64 = col(&row, 0)?;
    // Each key's last row of the batch gives its new state; a key new in
    // the batch is inserted with the state of its first row.
    let mut last: HashMap<i64, (usize, &IndexRow)> = HashMap::new();
    let mut inserted: HashMap<i64, usize> = HashMap::new();
    let mut new_keys: Vec<&IndexRow> = Vec::new();
    let (mut ids, mut idxs, mut counts, mut chains) = (vec![], vec![], vec![], vec![]);
    for (n, r) in rows.iter().enumerate() {
        let is_new = row_is_new_key(log, r, first, end, u64_of(next))?;
        let id = i64_of(r.key)?;
        if is_new {
            new_keys.push(r);
            inserted.insert(id, n);
            next += 1;
        }
        if let Some((_, seen)) = last.get(&id)
            && seen.kh.0 != r.kh.0
        {
            return Err(another_key(log, r));
        }
        last.insert(id, (n, r));
        ids.push(id);
        idxs.push(i64_of(r.index)?);
        counts.push(i64_of(r.state.count)?);
        chains.push(&r.state.chain.0[..]);
    }
    if !new_keys.is_empty() {
        let id = new_keys
            .iter()
            .map(|r| i64_of(r.key))
            .collect::<Result<Vec<_>>>()?;
        let kh: Vec<&[u8]> = new_keys.iter().map(|r| &r.kh.0[..]).collect();
        let count = new_keys
            .iter()
            .map(|r| i64_of(r.state.count))
            .collect::<Result<Vec<_>>>()?;
        let chain: Vec<&[u8]> = new_keys.iter().map(|r| &r.state.chain.0[..]).collect();
        wait(tx.execute(
            "INSERT INTO index_keys (log, id, kh, count, chain)
             SELECT $1, * FROM UNNEST($2::bigint[], $3::bytea[], $4::bigint[], $5::bytea[])",
            &[&log.0, &id, &kh, &count, &chain],
        ))
        .map_err(pg)?;
    }
    if !ids.is_empty() {
        wait(tx.execute(
            "INSERT INTO index_rows (log, id, idx, count, chain)
             SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[], $5::bytea[])",
            &[&log.0, &ids, &idxs, &counts, &chains],
        ))
        .map_err(pg)?;
    }
    // A key inserted by its last row of the batch holds that state already;
    // any other is matched by its hash too, so that a row naming a key by
    // the id of another changes nothing and is refused.
    let mut updates: Vec<(i64, &IndexRow)> = last
        .into_iter()
        .filter(|(id, (n, _))| inserted.get(id) != Some(n))
        .map(|(id, (_, r))| (id, r))
        .collect();
    updates.sort_unstable_by_key(|(id, _)| *id);
    if !updates.is_empty() {
        let id: Vec<i64> = updates.iter().map(|(id, _)| *id).collect();
        let kh: Vec<&[u8]> = updates.iter().map(|(_, r)| &r.kh.0[..]).collect();
        let count = updates
            .iter()
            .map(|(_, r)| i64_of(r.state.count))
            .collect::<Result<Vec<_>>>()?;
        let chain: Vec<&[u8]> = updates.iter().map(|(_, r)| &r.state.chain.0[..]).collect();
        let changed = wait(tx.query(
            "UPDATE index_keys k SET count = u.count, chain = u.chain
             FROM UNNEST($2::bigint[], $3::bytea[], $4::bigint[], $5::bytea[]) AS u(id, kh, count, chain)
             WHERE k.log = $1 AND k.id = u.id AND k.kh = u.kh RETURNING k.id",
            &[&log.0, &id, &kh, &count, &chain],
        ))
        .map_err(pg)?;
        if changed.len() != updates.len() {
            let done = changed
                .iter()
                .map(|r| col::<i64>(r, 0))
                .collect::<Result<std::collections::HashSet<_>>>()?;
            let (_, r) = updates
                .iter()
                .find(|(id, _)| !done.contains(id))
                .copied()
                .unwrap_or(updates[0]);
            return Err(another_key(log, r));
        }
    }
    wait(tx.execute(
        "UPDATE logs SET indexed = $2 WHERE id = $1",
        &[&log.0, &i64_of(end)?],
    ))
    .map_err(pg)?;
    Ok(())
}
