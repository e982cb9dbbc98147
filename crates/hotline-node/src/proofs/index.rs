//! What the claims read from a log's index: a key's state, its entries and
//! the proof of its state, at any size the log has signed a checkpoint for.
//!
//! The current index of each log is loaded once and kept ([`IndexCache`]);
//! at an earlier size the index is rebuilt from the stored per-entry rows
//! (every key's state after the last of its entries below that size). The
//! store finds a key's rows by its id, which the current index maps.

use std::collections::HashMap;
use std::sync::Mutex;

use hotline_proto::Hash;
use hotline_proto::index::{IndexProof, KeyState};

use super::ProofError;
use crate::error::{NodeError, Result};
use crate::indexes::LogIndex;
use crate::store::{LogId, Store};

/// The current index of each log read so far, with how many entries of it
/// the stored rows cover.
#[derive(Default)]
pub struct IndexCache {
    current: Mutex<HashMap<LogId, (u64, LogIndex)>>,
    /// The last index rebuilt at an earlier size: a bundle asks for several
    /// keys under one checkpoint, and a rebuild reads every key's state.
    earlier: Mutex<Option<(LogId, u64, LogIndex)>>,
}

impl IndexCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on `log`'s current index (loaded, or reloaded if the log
    /// has grown past `at_least`), with the size its stored rows cover.
    fn with<R>(
        &self,
        store: &dyn Store,
        log: LogId,
        at_least: u64,
        f: impl FnOnce(u64, &mut LogIndex) -> R,
    ) -> Result<R> {
        let mut map = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let stale = map.get(&log).is_none_or(|(_, ix)| ix.size() < at_least);
        if stale {
            // Read-only: entries not indexed yet are indexed in memory.
            let (stored, ix) = LogIndex::load_read_only_stored(store, log)?;
            map.insert(log, (stored, ix));
        }
        let (stored, ix) = map.get_mut(&log).ok_or(ProofError::CacheLost("log"))?;
        Ok(f(*stored, ix))
    }

    /// Refuses a size beyond the log or beyond its stored index rows.
    fn rows_cover(store: &dyn Store, log: LogId, stored: u64, size: u64) -> Result<()> {
        let have = store.size(log)?;
        if size > have {
            return Err(NodeError::NotFound(format!(
                "the log holds {have} entries here, fewer than {size}"
            )));
        }
        if size > stored {
            return Err(NodeError::Conflict(format!(
                "the index of this log is stored for its first {stored} entries only (it was written before the index existed); start the node once so that it indexes the rest, then prove again"
            )));
        }
        Ok(())
    }

    /// The state of `key` after the entries below `size`.
    pub fn key_state_at(
        &self,
        store: &dyn Store,
        log: LogId,
        key: &str,
        size: u64,
    ) -> Result<KeyState> {
        let (stored, current, id) = self.with(store, log, size, |stored, ix| {
            let current = (ix.size() == size).then(|| ix.index().state(key));
            (stored, current, ix.key_id(key))
        })?;
        if let Some(st) = current {
            return Ok(st);
        }
        Self::rows_cover(store, log, stored, size)?;
        // A key the current index lacks has no entry below any smaller size.
        match id {
            Some(id) => Ok(store.key_state_at(log, id, size)?),
            None => Ok(KeyState::default()),
        }
    }

    /// The entries of `key` below `size`, from its `from_count`-th on
    /// (counting from 0): (index, leaf), in log order.
    pub fn key_entries(
        &self,
        store: &dyn Store,
        log: LogId,
        key: &str,
        size: u64,
        from_count: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let (stored, id) = self.with(store, log, size, |stored, ix| (stored, ix.key_id(key)))?;
        Self::rows_cover(store, log, stored, size)?;
        match id {
            Some(id) => Ok(store.key_entries(log, id, size, from_count)?),
            None => Ok(Vec::new()),
        }
    }

    /// The proof of `key`'s state against the index at `size` (the root a
    /// checkpoint at `size` commits to), with that state.
    pub fn index_proof_at(
        &self,
        store: &dyn Store,
        log: LogId,
        key: &str,
        size: u64,
    ) -> Result<(KeyState, IndexProof)> {
        let (stored, current) = self.with(store, log, size, |stored, ix| {
            let current =
                (ix.size() == size).then(|| (ix.index().state(key), ix.index().prove(key)));
            (stored, current)
        })?;
        if let Some(p) = current {
            return Ok(p);
        }
        Self::rows_cover(store, log, stored, size)?;
        let mut earlier = self.earlier.lock().unwrap_or_else(|e| e.into_inner());
        if !earlier
            .as_ref()
            .is_some_and(|(l, n, _)| *l == log && *n == size)
        {
            *earlier = Some((log, size, LogIndex::at(store, log, size)?));
        }
        let (_, _, at) = earlier.as_mut().ok_or(ProofError::CacheLost("size"))?;
        let st = at.index().state(key);
        Ok((st, at.index().prove(key)))
    }

    /// The index root at `size`.
    pub fn root_at(&self, store: &dyn Store, log: LogId, size: u64) -> Result<Hash> {
        let (stored, current) = self.with(store, log, size, |stored, ix| {
            (stored, (ix.size() == size).then(|| ix.root()))
        })?;
        if let Some(r) = current {
            return Ok(r);
        }
        Self::rows_cover(store, log, stored, size)?;
        Ok(LogIndex::at(store, log, size)?.root())
    }
}

#[cfg(test)]
mod tests {
    #[allow(unused_imports)]
    use crate::store::{EntryQueries as _, EvidenceStore as _, IndexStore as _, LogStore as _};
    use hotline_proto::entry::SignedEntry;
    use hotline_proto::index::{self, Index};
    use hotline_proto::keys::{ALG_ED25519, NoteKey, os_rng};

    use super::*;
    use crate::indexes::Staged;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{AppendBatch, NewLeaf, extend_tree};

    fn receipt(key: &NoteKey, refd: u64, i: i64) -> SignedEntry {
        let t = jiff::Timestamp::from_second(1_000_000_000 + i).unwrap();
        crate::indexes::tests::receipt(key, refd, &t.to_string())
    }

    #[test]
    fn states_entries_and_proofs_at_the_current_and_an_earlier_size() {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&tmp.path().join("t.db")).unwrap();
        let log = store.log_id("hotline/us", "us").unwrap();
        let key = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        // Entries 0..6 refer to ru:0, ru:1, ru:0, …
        let es: Vec<SignedEntry> = (0..6).map(|i| receipt(&key, i % 2, i as i64)).collect();
        let mut ix = LogIndex::new();
        for (n, e) in es.iter().enumerate() {
            let n = n as u64;
            let leaf = NewLeaf::from_entry(e, None);
            let (pending, _) = extend_tree(&store, log, n, &[leaf.leaf_hash]).unwrap();
            let mut staged = Staged::default();
            ix.apply_entry(n, e, &mut staged);
            store
                .append(&AppendBatch {
                    log,
                    first: n,
                    leaves: std::slice::from_ref(&leaf),
                    first_hash: hotline_proto::tree::stored_hash_count(n),
                    hashes: &pending,
                    checkpoint: None,
                    now: 0,
                    index: Some(&staged.rows),
                    epoch: None,
                })
                .unwrap();
        }
        let fresh = |n: usize| {
            let mut f = Index::new();
            for (i, e) in es[..n].iter().enumerate() {
                f.apply_entry(i as u64, e);
            }
            f
        };
        let cache = IndexCache::new();
        let k = "ref/ru/0";
        for n in [6u64, 3] {
            let mut want = fresh(n as usize);
            let st = cache.key_state_at(&store, log, k, n).unwrap();
            assert_eq!(st, want.state(k), "state at {n}");
            let (pst, proof) = cache.index_proof_at(&store, log, k, n).unwrap();
            assert_eq!(pst, st);
            index::verify(want.root(), k, st, &proof).unwrap();
            assert_eq!(cache.root_at(&store, log, n).unwrap(), want.root());
        }
        let at = |n, from| -> Vec<u64> {
            cache
                .key_entries(&store, log, k, n, from)
                .unwrap()
                .into_iter()
                .map(|(i, _)| i)
                .collect()
        };
        assert_eq!(at(6, 0), vec![0, 2, 4]);
        assert_eq!(at(6, 1), vec![2, 4]);
        assert_eq!(at(4, 0), vec![0, 2]);
        assert_eq!(at(6, 3), Vec::<u64>::new());
        // A key no entry has: count 0, and a proof of its absence.
        let (st, proof) = cache.index_proof_at(&store, log, "ref/ru/9", 6).unwrap();
        assert_eq!(st.count, 0);
        index::verify(fresh(6).root(), "ref/ru/9", st, &proof).unwrap();
        // Beyond the log: refused.
        assert!(cache.key_state_at(&store, log, k, 7).is_err());
    }
}
