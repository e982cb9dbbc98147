//! An in-memory store with failpoints, for unit tests: every role as the
//! SQLite engine does it, plus a hook a test sets to make the Nth append
//! fail before it commits ([`Step::AppendCommit`]) or crash between writing
//! a batch's leaves and its index rows ([`Step::AppendIndex`]). After a
//! crash every write fails until [`MemoryStore::reopen`], as a process that
//! died and was started again over the same data.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use hotline_proto::Hash;
use hotline_proto::index::KeyState;

use super::{
    Advance, AppendBatch, CosignatureRecord, CosignatureStore, EntryQueries, Evidence,
    EvidenceStore, Holder, IdentityStore, IndexRow, IndexStore, LogId, LogStore, NewLeaf, Result,
    StoreError, StoredLeaf, WitnessRequest, WitnessState, WitnessStore, cosignatures, index,
    witness,
};

/// A point in an append where a test can make the store fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The batch's commit fails: nothing of it is visible afterwards.
    AppendCommit,
    /// The process dies after the batch's leaves, hashes and checkpoint are
    /// stored and before its index rows are: the leaves stay, unindexed,
    /// and the store refuses writes until it is reopened.
    AppendIndex,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Self::AppendCommit => "append commit",
            Self::AppendIndex => "append index",
        }
    }
}

#[derive(Clone, Default)]
struct Log {
    origin: String,
    entries: Vec<NewLeaf>,
    hashes: Vec<Hash>,
    /// size → (note, created).
    checkpoints: BTreeMap<u64, Vec<u8>>,
    indexed: u64,
    /// Key id → (key hash, state after the last indexed entry).
    keys: Vec<(Hash, KeyState)>,
    /// Key id → its rows: (entry index, state after it), in index order.
    rows: Vec<Vec<(u64, KeyState)>>,
}

#[derive(Default)]
struct Data {
    logs: Vec<Log>,
    witness: HashMap<String, (WitnessState, i64)>,
    /// (log, record), unique by (log, witness, time, size).
    cosignatures: Vec<(LogId, CosignatureRecord)>,
    evidence: Vec<(Evidence, [u8; 32])>,
    /// The party this store belongs to, once a node claimed it.
    holder: Option<Holder>,
}

impl Data {
    fn log(&self, log: LogId) -> Result<&Log> {
        usize::try_from(log.0 - 1)
            .ok()
            .and_then(|i| self.logs.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("the store has no log {}", log.0)))
    }

    fn log_mut(&mut self, log: LogId) -> Result<&mut Log> {
        usize::try_from(log.0 - 1)
            .ok()
            .and_then(|i| self.logs.get_mut(i))
            .ok_or_else(|| StoreError::Corrupt(format!("the store has no log {}", log.0)))
    }
}

#[derive(Default)]
struct Failpoints {
    /// The step that fails, and how many appends before it succeed.
    armed: Option<(Step, u64)>,
    crashed: bool,
}

/// Storage in memory, with failpoints.
#[derive(Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
    fail: Mutex<Failpoints>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the `n`th append from now (counting from 1) fail at `step`;
    /// the appends before it and after it behave normally.
    pub fn fail_on(&self, step: Step, n: u64) {
        let mut f = self
            .fail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f.armed = Some((step, n.saturating_sub(1)));
    }

    /// Whether a crash failpoint has fired and the store awaits a reopen.
    pub fn crashed(&self) -> bool {
        self.fail.lock().is_ok_and(|f| f.crashed)
    }

    /// Starts again over the same data after a crash, as a restarted process.
    pub fn reopen(&self) {
        let mut f = self
            .fail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f.crashed = false;
    }

    fn data(&self) -> Result<MutexGuard<'_, Data>> {
        self.data.lock().map_err(|_| StoreError::Poisoned("memory"))
    }

    /// The data for a write: refused while crashed.
    fn write(&self) -> Result<MutexGuard<'_, Data>> {
        if self.crashed() {
            return Err(StoreError::Injected("write after a crash"));
        }
        self.data()
    }

    /// The step that fails in this append, if any.
    fn next_failure(&self) -> Option<Step> {
        let mut f = self.fail.lock().ok()?;
        match f.armed {
            Some((step, 0)) => {
                f.armed = None;
                if step == Step::AppendIndex {
                    f.crashed = true;
                }
                Some(step)
            }
            Some((step, n)) => {
                f.armed = Some((step, n - 1));
                None
            }
            None => None,
        }
    }
}

fn stored(i: usize, l: &NewLeaf) -> StoredLeaf {
    StoredLeaf {
        index: i as u64,
        leaf: l.leaf.clone(),
        leaf_hash: l.leaf_hash,
    }
}

/// The SQLite engine's `write_index`, on a copy of the log.
fn write_index(log: &mut Log, id: LogId, first: u64, end: u64, rows: &[IndexRow]) -> Result<()> {
    if log.indexed != first {
        return Err(index::not_following(id, log.indexed, first));
    }
    for r in rows {
        if index::row_is_new_key(id, r, first, end, log.keys.len() as u64)? {
            log.keys.push((r.kh, r.state));
            log.rows.push(Vec::new());
        }
        let k = usize::try_from(r.key).unwrap_or(usize::MAX);
        if log.keys[k].0 != r.kh {
            return Err(index::another_key(id, r));
        }
        log.keys[k].1 = r.state;
        log.rows[k].push((r.index, r.state));
    }
    log.indexed = end;
    Ok(())
}

impl LogStore for MemoryStore {
    fn log_id(&self, origin: &str, _party: &str) -> Result<LogId> {
        let mut d = self.write()?;
        if let Some(i) = d.logs.iter().position(|l| l.origin == origin) {
            return Ok(LogId(i as i64 + 1));
        }
        d.logs.push(Log {
            origin: origin.to_owned(),
            ..Log::default()
        });
        Ok(LogId(d.logs.len() as i64))
    }

    fn log_id_existing(&self, origin: &str) -> Result<LogId> {
        let d = self.data()?;
        d.logs
            .iter()
            .position(|l| l.origin == origin)
            .map(|i| LogId(i as i64 + 1))
            .ok_or_else(|| StoreError::Corrupt(format!("the store has no log {origin}")))
    }

    fn size(&self, log: LogId) -> Result<u64> {
        Ok(self.data()?.log(log)?.entries.len() as u64)
    }

    fn append(&self, b: &AppendBatch<'_>) -> Result<()> {
        let mut d = self.write()?;
        let failure = self.next_failure();
        if failure == Some(Step::AppendCommit) {
            return Err(StoreError::Injected(Step::AppendCommit.name()));
        }
        // All of the batch is checked on a copy and kept only if it holds.
        let mut log = d.log(b.log)?.clone();
        if b.first != log.entries.len() as u64 || b.first_hash != log.hashes.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "a batch at entry {} (hash {}) of a log of {} entries ({} hashes)",
                b.first,
                b.first_hash,
                log.entries.len(),
                log.hashes.len()
            )));
        }
        for l in b.leaves {
            if log.entries.iter().any(|e| e.leaf_hash == l.leaf_hash) {
                return Err(StoreError::Corrupt("a leaf appended twice".into()));
            }
            log.entries.push(l.clone());
        }
        log.hashes.extend_from_slice(b.hashes);
        if let Some((size, note)) = b.checkpoint {
            log.checkpoints.insert(size, note.to_vec());
        }
        let crash = failure == Some(Step::AppendIndex);
        if let Some(rows) = b.index.filter(|_| !crash) {
            write_index(
                &mut log,
                b.log,
                b.first,
                b.first + b.leaves.len() as u64,
                rows,
            )?;
        }
        *d.log_mut(b.log)? = log;
        if crash {
            return Err(StoreError::Injected(Step::AppendIndex.name()));
        }
        Ok(())
    }

    fn read_hashes(&self, log: LogId, ids: &[u64]) -> Result<Vec<Hash>> {
        let d = self.data()?;
        let l = d.log(log)?;
        ids.iter()
            .map(|&id| {
                usize::try_from(id)
                    .ok()
                    .and_then(|i| l.hashes.get(i).copied())
                    .ok_or_else(|| StoreError::Corrupt(format!("tree hash {id} is missing")))
            })
            .collect()
    }

    fn leaves(&self, log: LogId, start: u64, limit: u64) -> Result<Vec<StoredLeaf>> {
        let d = self.data()?;
        let l = d.log(log)?;
        Ok(l.entries
            .iter()
            .enumerate()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(i, e)| stored(i, e))
            .collect())
    }

    fn body(&self, log: LogId, index: u64) -> Result<Option<Vec<u8>>> {
        let d = self.data()?;
        Ok(usize::try_from(index)
            .ok()
            .and_then(|i| d.log(log).ok()?.entries.get(i)?.sealed.clone()))
    }

    fn last_time(&self, log: LogId) -> Result<Option<String>> {
        Ok(self
            .data()?
            .log(log)?
            .entries
            .last()
            .map(|e| e.time.clone()))
    }

    fn latest_checkpoint(&self, log: LogId) -> Result<Option<(u64, Vec<u8>)>> {
        let d = self.data()?;
        Ok(d.log(log)?
            .checkpoints
            .last_key_value()
            .map(|(s, n)| (*s, n.clone())))
    }

    fn checkpoint_at(&self, log: LogId, size: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.data()?.log(log)?.checkpoints.get(&size).cloned())
    }

    fn checkpoint_within(
        &self,
        log: LogId,
        above: u64,
        at_most: u64,
    ) -> Result<Option<(u64, Vec<u8>)>> {
        if above >= at_most {
            return Ok(None);
        }
        let d = self.data()?;
        Ok(d.log(log)?
            .checkpoints
            .range(above + 1..=at_most)
            .next_back()
            .map(|(s, n)| (*s, n.clone())))
    }
}

impl MemoryStore {
    /// The entries of `log` that `keep` selects, in log order.
    fn select(&self, log: LogId, keep: impl Fn(u64, &NewLeaf) -> bool) -> Result<Vec<StoredLeaf>> {
        let d = self.data()?;
        Ok(d.log(log)?
            .entries
            .iter()
            .enumerate()
            .filter(|(i, e)| keep(*i as u64, e))
            .map(|(i, e)| stored(i, e))
            .collect())
    }
}

impl EntryQueries for MemoryStore {
    fn last_on_channel(
        &self,
        log: LogId,
        kind: &str,
        from: &str,
        to: Option<&str>,
    ) -> Result<Option<u64>> {
        let found = self.select(log, |_, e| {
            e.kind == kind && e.from == from && e.to.as_deref() == to
        })?;
        Ok(found.last().map(|l| l.index))
    }

    fn key_entry_before(&self, log: LogId, office: &str, before: u64) -> Result<Option<u64>> {
        let found = self.select(log, |i, e| {
            i < before && e.subject.as_deref() == Some(office)
        })?;
        Ok(found.last().map(|l| l.index))
    }

    fn leaves_of_kind(&self, log: LogId, kind: &str) -> Result<Vec<StoredLeaf>> {
        self.select(log, |_, e| e.kind == kind)
    }

    fn last_of_kind(&self, log: LogId, kind: &str) -> Result<Option<u64>> {
        Ok(self.leaves_of_kind(log, kind)?.last().map(|l| l.index))
    }

    fn referencing(&self, log: LogId, ref_log: &str, ref_index: u64) -> Result<Vec<StoredLeaf>> {
        self.select(log, |_, e| {
            e.reference
                .as_ref()
                .is_some_and(|(l, i)| l == ref_log && *i == ref_index)
        })
    }

    fn receipt_cursor(&self, own: LogId, ref_log: &str, below: u64) -> Result<Option<u64>> {
        let d = self.data()?;
        Ok(d.log(own)?
            .entries
            .iter()
            .filter(|e| e.kind == "receipt")
            .filter_map(|e| e.reference.as_ref())
            .filter(|(l, i)| l == ref_log && *i < below)
            .map(|(_, i)| *i)
            .max())
    }

    fn addressed_to(
        &self,
        log: LogId,
        party: &str,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<StoredLeaf>> {
        let prefix = format!("{party}/");
        let mut found = self.select(log, |i, e| {
            after.is_none_or(|a| i > a)
                && e.kind != "receipt"
                && e.to.as_deref().is_some_and(|t| t.starts_with(&prefix))
        })?;
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    fn between(&self, log: LogId, a: &str, b: &str, limit: u64) -> Result<Vec<StoredLeaf>> {
        let mut found = self.select(log, |_, e| {
            let to = e.to.as_deref();
            (e.from == a && to == Some(b)) || (e.from == b && to == Some(a))
        })?;
        let keep = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(found.split_off(found.len().saturating_sub(keep)))
    }

    fn count_from_to(&self, log: LogId, from: &str, to: &str, after: Option<u64>) -> Result<u64> {
        let found = self.select(log, |i, e| {
            after.is_none_or(|a| i > a)
                && e.kind != "receipt"
                && e.from == from
                && e.to.as_deref() == Some(to)
        })?;
        Ok(found.len() as u64)
    }
}

impl IndexStore for MemoryStore {
    fn index_states(&self, log: LogId) -> Result<(u64, Vec<(Hash, KeyState)>)> {
        let d = self.data()?;
        let l = d.log(log)?;
        Ok((l.indexed, l.keys.clone()))
    }

    fn index_states_at(&self, log: LogId, size: u64) -> Result<Vec<(Hash, KeyState)>> {
        let d = self.data()?;
        let l = d.log(log)?;
        let mut out = Vec::new();
        let mut gap = false;
        for (k, rows) in l.keys.iter().zip(&l.rows) {
            match rows.iter().rev().find(|(i, _)| *i < size) {
                Some((_, s)) if !gap => out.push((k.0, *s)),
                Some(_) => {
                    return Err(StoreError::Corrupt(format!(
                        "index key {} where key {} was expected: the key ids have a gap",
                        out.len() + 1,
                        out.len()
                    )));
                }
                None => gap = true,
            }
        }
        Ok(out)
    }

    fn key_state_at(&self, log: LogId, key: u64, size: u64) -> Result<KeyState> {
        let d = self.data()?;
        let l = d.log(log)?;
        Ok(usize::try_from(key)
            .ok()
            .and_then(|k| l.rows.get(k))
            .and_then(|rows| rows.iter().rev().find(|(i, _)| *i < size))
            .map(|(_, s)| *s)
            .unwrap_or_default())
    }

    fn key_entries(
        &self,
        log: LogId,
        key: u64,
        size: u64,
        from_count: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let d = self.data()?;
        let l = d.log(log)?;
        let Some(rows) = usize::try_from(key).ok().and_then(|k| l.rows.get(k)) else {
            return Ok(Vec::new());
        };
        rows.iter()
            .filter(|(i, s)| *i < size && s.count > from_count)
            .map(|(i, _)| {
                let leaf = usize::try_from(*i)
                    .ok()
                    .and_then(|at| l.entries.get(at))
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("index row of missing entry {i}"))
                    })?;
                Ok((*i, leaf.leaf.clone()))
            })
            .collect()
    }

    fn add_index(&self, log: LogId, first: u64, end: u64, rows: &[IndexRow]) -> Result<()> {
        let mut d = self.write()?;
        let mut copy = d.log(log)?.clone();
        if end > copy.entries.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "indexing entries up to {end} of a log of {}",
                copy.entries.len()
            )));
        }
        write_index(&mut copy, log, first, end, rows)?;
        *d.log_mut(log)? = copy;
        Ok(())
    }
}

impl WitnessStore for MemoryStore {
    fn witness_advance(
        &self,
        origin: &str,
        req: &WitnessRequest<'_>,
        accept: &dyn Fn(&WitnessState) -> bool,
    ) -> Result<Advance> {
        let mut d = self.write()?;
        let current = d.witness.get(origin).map(|(s, _)| s.clone());
        if let Some(answer) = witness::refusal(current, req, accept) {
            return Ok(answer);
        }
        let state = WitnessState {
            size: req.size,
            root: req.root,
            note: req.note.to_vec(),
        };
        d.witness.insert(origin.to_owned(), (state, req.now));
        Ok(Advance::Advanced)
    }

    fn witness_updated(&self, origin: &str) -> Result<Option<i64>> {
        Ok(self.data()?.witness.get(origin).map(|(_, t)| *t))
    }

    fn witness_state(&self, origin: &str) -> Result<Option<WitnessState>> {
        Ok(self.data()?.witness.get(origin).map(|(s, _)| s.clone()))
    }
}

/// Inserts a cosignature unless one with its key is on record.
fn insert_cosignature(d: &mut Data, log: LogId, record: CosignatureRecord) {
    let same = |(l, c): &(LogId, CosignatureRecord)| {
        *l == log && c.witness == record.witness && c.time == record.time && c.size == record.size
    };
    if !d.cosignatures.iter().any(same) {
        d.cosignatures.push((log, record));
    }
}

impl CosignatureStore for MemoryStore {
    fn add_cosignature(
        &self,
        log: LogId,
        size: u64,
        witness: &str,
        time: u64,
        line: &str,
        merge: &dyn Fn(&[u8]) -> Vec<u8>,
    ) -> Result<()> {
        let mut d = self.write()?;
        let Some(current) = d.log(log)?.checkpoints.get(&size) else {
            return Err(cosignatures::no_checkpoint(size));
        };
        let merged = merge(current);
        let record = CosignatureRecord {
            size,
            witness: witness.to_owned(),
            time,
            line: line.to_owned(),
            note: None,
        };
        insert_cosignature(&mut d, log, record);
        d.log_mut(log)?.checkpoints.insert(size, merged);
        Ok(())
    }

    fn record_cosignature(
        &self,
        log: LogId,
        size: u64,
        witness: &str,
        time: u64,
        line: &str,
        note: &[u8],
    ) -> Result<()> {
        let record = CosignatureRecord {
            size,
            witness: witness.to_owned(),
            time,
            line: line.to_owned(),
            note: Some(note.to_vec()),
        };
        insert_cosignature(&mut *self.write()?, log, record);
        Ok(())
    }

    fn cosignature_near(
        &self,
        log: LogId,
        time: u64,
        before: bool,
    ) -> Result<Option<CosignatureRecord>> {
        let d = self.data()?;
        let of_log = d
            .cosignatures
            .iter()
            .filter(|(l, _)| *l == log)
            .map(|(_, c)| c);
        let found = if before {
            of_log
                .filter(|c| c.time <= time)
                .max_by_key(|c| (c.time, c.size))
        } else {
            of_log
                .filter(|c| c.time >= time)
                .min_by_key(|c| (c.time, c.size))
        };
        Ok(found.cloned())
    }

    fn last_cosignature(&self, log: LogId, witness: &str) -> Result<Option<(u64, u64)>> {
        let d = self.data()?;
        Ok(d.cosignatures
            .iter()
            .filter(|(l, c)| *l == log && c.witness == witness)
            .map(|(_, c)| (c.time, c.size))
            .max()
            .map(|(time, size)| (size, time)))
    }
}

/// Records its holder as PostgreSQL does, so that the check on it runs in
/// unit tests without a server.
impl IdentityStore for MemoryStore {
    fn record_holder(&self, who: &Holder) -> Result<Holder> {
        Ok(self
            .write()?
            .holder
            .get_or_insert_with(|| who.clone())
            .clone())
    }

    fn holder(&self) -> Result<Option<Holder>> {
        Ok(self.data()?.holder.clone())
    }
}

/// Held by this process alone: the directory's writer lock keeps any other out.
impl crate::store::LeaseStore for MemoryStore {}

impl EvidenceStore for MemoryStore {
    fn add_equivocation(&self, origin: &str, now: i64, bundle: &[u8]) -> Result<i64> {
        use sha2::Digest as _;
        let digest: [u8; 32] = sha2::Sha256::digest(bundle).into();
        let mut d = self.write()?;
        if let Some((e, _)) = d.evidence.iter().find(|(_, h)| *h == digest) {
            return Ok(e.id);
        }
        let id = d.evidence.len() as i64 + 1;
        let e = Evidence {
            id,
            origin: origin.to_owned(),
            detected: now,
            bundle: bundle.to_vec(),
        };
        d.evidence.push((e, digest));
        Ok(id)
    }

    fn equivocations(&self) -> Result<Vec<Evidence>> {
        Ok(self
            .data()?
            .evidence
            .iter()
            .map(|(e, _)| e.clone())
            .collect())
    }
}
