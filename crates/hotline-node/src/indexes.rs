//! The index of each log this node holds leaves of (its own, and every
//! mirror), as every checkpoint of that log commits to it (its
//! `hotline-index` line, see [`hotline_proto::index`]).
//!
//! The store keeps, per log, every key's current state and one row per
//! (entry, key) with the key's state after that entry; a [`LogIndex`] is the
//! in-memory tree over the current states, loaded once and then moved
//! forward entry by entry. Entries applied for a batch that is not committed
//! are undone, so the tree always matches what the store holds.

use hotline_proto::Hash;
use hotline_proto::entry::SignedEntry;
use hotline_proto::index::{self, Index, KeyState};

use crate::store::{IndexRow, LogId, Store, StoreError};

/// Leaves read at a time when indexing a log written before the index.
const CATCH_UP: u64 = 10_000;

/// The index of one log at its current size.
#[derive(Clone, Debug, Default)]
pub struct LogIndex {
    size: u64,
    index: Index,
}

/// What applying a batch of entries changed: the rows to store with them,
/// and how to undo it if they are not stored.
#[derive(Debug, Default)]
pub struct Staged {
    /// Every key of every entry applied, with its state after the entry.
    pub rows: Vec<IndexRow>,
    undo: Vec<(Hash, KeyState)>,
    size: Option<u64>,
}

impl LogIndex {
    /// The index of an empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads the index of `log` from the store; entries the stored index
    /// does not cover yet (a log written before the index existed) are
    /// indexed from their leaves now, and those rows stored.
    pub fn load(store: &dyn Store, log: LogId) -> Result<Self, StoreError> {
        Self::load_with(store, log, true)
    }

    /// [`LogIndex::load`] for a store opened read-only: entries not indexed
    /// yet are indexed in memory only.
    pub fn load_read_only(store: &dyn Store, log: LogId) -> Result<Self, StoreError> {
        Self::load_with(store, log, false)
    }

    fn load_with(store: &dyn Store, log: LogId, write: bool) -> Result<Self, StoreError> {
        let (indexed, states) = store.index_states(log)?;
        let mut me = Self::from_states(indexed, states);
        let size = store.size(log)?;
        if indexed < size {
            tracing::info!(
                log = log.0,
                from = indexed,
                to = size,
                "indexing entries written before the index existed"
            );
        }
        while me.size < size {
            let first = me.size;
            let leaves = store.leaves(log, first, CATCH_UP.min(size - first))?;
            if leaves.is_empty() {
                return Err(StoreError::Corrupt(format!(
                    "log {} has {size} entries but none at {first}",
                    log.0
                )));
            }
            let mut staged = Staged::default();
            for l in &leaves {
                if l.index != me.size {
                    return Err(StoreError::Corrupt(format!(
                        "log {}: entry {} where {} was expected",
                        log.0, l.index, me.size
                    )));
                }
                let e = SignedEntry::from_leaf(&l.leaf).map_err(|e| {
                    StoreError::Corrupt(format!("log {} entry {}: {e}", log.0, l.index))
                })?;
                me.apply_entry(l.index, &e, &mut staged);
            }
            if write {
                store.add_index(log, first, me.size, &staged.rows)?;
            }
        }
        Ok(me)
    }

    /// The index made of `states`, covering `size` entries.
    pub fn from_states(size: u64, states: Vec<(Hash, KeyState)>) -> Self {
        let mut index = Index::new();
        for (kh, st) in states {
            index.set(kh, st);
        }
        Self { size, index }
    }

    /// The index of `log` after its first `size` entries, rebuilt from the
    /// stored rows (for a size that is not the current one).
    pub fn at(store: &dyn Store, log: LogId, size: u64) -> Result<Self, StoreError> {
        Ok(Self::from_states(size, store.index_states_at(log, size)?))
    }

    /// How many entries it covers.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Its root, as a checkpoint at [`LogIndex::size`] must commit to it.
    pub fn root(&mut self) -> Hash {
        self.index.root()
    }

    /// The tree itself (states, proofs).
    pub fn index(&mut self) -> &mut Index {
        &mut self.index
    }

    /// Applies entry `at` (the next one) with its keys; what changed goes
    /// into `staged`.
    pub fn apply(&mut self, at: u64, leaf_hash: Hash, keys: &[String], staged: &mut Staged) {
        debug_assert_eq!(at, self.size, "entries are indexed in order");
        staged.size.get_or_insert(self.size);
        for k in keys {
            let kh = index::key_hash(k);
            let before = self.index.state(k);
            let after = before.push(at, leaf_hash);
            self.index.set(kh, after);
            staged.undo.push((kh, before));
            staged.rows.push(IndexRow {
                index: at,
                kh,
                state: after,
            });
        }
        self.size = at + 1;
    }

    /// [`LogIndex::apply`] for a signed entry.
    pub fn apply_entry(&mut self, at: u64, e: &SignedEntry, staged: &mut Staged) {
        self.apply(at, e.leaf_hash(), &index::keys_of(e), staged);
    }

    /// Undoes what `staged` applied: back to the index before it.
    pub fn undo(&mut self, staged: Staged) {
        for (kh, before) in staged.undo.into_iter().rev() {
            self.index.set(kh, before);
        }
        if let Some(size) = staged.size {
            self.size = size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u8) -> Hash {
        Hash([i; 32])
    }

    #[test]
    fn undo_returns_to_the_same_root_even_for_keys_new_in_the_batch() {
        let mut ix = LogIndex::new();
        let mut s = Staged::default();
        ix.apply(0, h(1), &["kind/message/us/fbi/ru/fsb".into()], &mut s);
        ix.apply(1, h(2), &["kind/key/us/-".into()], &mut s);
        let before = ix.root();
        let mut b = Staged::default();
        ix.apply(
            2,
            h(3),
            &["kind/message/us/fbi/ru/fsb".into(), "ref/ru/4".into()],
            &mut b,
        );
        assert_eq!(b.rows.len(), 2);
        assert_ne!(ix.root(), before);
        ix.undo(b);
        assert_eq!(ix.size(), 2);
        assert_eq!(ix.root(), before);
        // The same as an index that never saw entry 2.
        let mut fresh = Index::new();
        fresh.apply(0, h(1), &["kind/message/us/fbi/ru/fsb".into()]);
        fresh.apply(1, h(2), &["kind/key/us/-".into()]);
        assert_eq!(fresh.root(), before);
    }

    #[test]
    fn rows_carry_the_state_after_each_entry() {
        let mut ix = LogIndex::new();
        let mut s = Staged::default();
        let k = "ref/us/3".to_owned();
        ix.apply(0, h(1), std::slice::from_ref(&k), &mut s);
        ix.apply(1, h(2), std::slice::from_ref(&k), &mut s);
        let st = KeyState::default().push(0, h(1)).push(1, h(2));
        assert_eq!(s.rows[1].state, st);
        assert_eq!(s.rows[1].kh, index::key_hash(&k));
        assert_eq!(ix.index().state(&k), st);
        let re = LogIndex::from_states(2, vec![(index::key_hash(&k), st)]);
        assert_eq!(re.clone().root(), ix.root());
    }
}
