//! What the claims read from a log's index: a key's state, its entries and
//! the proof of its state, at any size the log has signed a checkpoint for.
//!
//! The current index of each log is loaded once and kept ([`IndexCache`]);
//! at an earlier size the index is rebuilt from the stored per-entry rows
//! (every key's state after the last of its entries below that size).

use std::collections::HashMap;
use std::sync::Mutex;

use hotline_proto::Hash;
use hotline_proto::index::{self, IndexProof, KeyState};

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
            let stored = store.index_states(log)?.0;
            // Read-only: entries not indexed yet are indexed in memory.
            let ix = LogIndex::load_read_only(store, log)?;
            map.insert(log, (stored, ix));
        }
        let (stored, ix) = map
            .get_mut(&log)
            .ok_or_else(|| NodeError::Internal("the index cache lost a log".into()))?;
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
        let (stored, current) = self.with(store, log, size, |stored, ix| {
            (stored, (ix.size() == size).then(|| ix.index().state(key)))
        })?;
        if let Some(st) = current {
            return Ok(st);
        }
        Self::rows_cover(store, log, stored, size)?;
        Ok(store.key_state_at(log, &index::key_hash(key), size)?)
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
        let stored = self.with(store, log, size, |stored, _| stored)?;
        Self::rows_cover(store, log, stored, size)?;
        Ok(store.key_entries(log, &index::key_hash(key), size, from_count)?)
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
        let (_, _, at) = earlier
            .as_mut()
            .ok_or_else(|| NodeError::Internal("the index cache lost a size".into()))?;
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
