//! The index of each log this node holds leaves of (its own, and every
//! mirror), as every checkpoint of that log commits to it (its
//! `hotline-index` line, see [`hotline_proto::index`]).
//!
//! The store keeps, per log, every key's current state and one row per
//! (entry, key) with the key's state after that entry; a [`LogIndex`] is the
//! in-memory tree over the current states, loaded once and then moved
//! forward entry by entry. Entries applied for a batch that is not committed
//! are undone, so the tree always matches what the store holds.
//!
//! The store knows a key by its id, its rank in order of first appearance in
//! the log, so that its writes follow each other; the map from a key to its
//! id lives here, built as the index is loaded. The ids are a function of
//! the log's entries alone: every node that indexes the same log gives the
//! same key the same id.

use std::collections::HashMap;

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
    /// Each key's id, by the bytes of its hash: the ids are 0..len.
    ids: HashMap<[u8; 32], u64>,
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
        Self::load_with(store, log, true).map(|(_, me)| me)
    }

    /// [`LogIndex::load`] for a store opened read-only: entries not indexed
    /// yet are indexed in memory only.
    pub fn load_read_only(store: &dyn Store, log: LogId) -> Result<Self, StoreError> {
        Self::load_with(store, log, false).map(|(_, me)| me)
    }

    /// [`LogIndex::load_read_only`], with how many entries the stored rows
    /// cover (read in the same pass: at a million keys, reading the states
    /// twice costs a third of a second).
    pub fn load_read_only_stored(store: &dyn Store, log: LogId) -> Result<(u64, Self), StoreError> {
        Self::load_with(store, log, false)
    }

    fn load_with(store: &dyn Store, log: LogId, write: bool) -> Result<(u64, Self), StoreError> {
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
        Ok((indexed, me))
    }

    /// The index made of `states`, covering `size` entries, in the order of
    /// the keys' ids (as the store gives them).
    pub fn from_states(size: u64, states: Vec<(Hash, KeyState)>) -> Self {
        let mut index = Index::new();
        let mut ids = HashMap::with_capacity(states.len());
        for (id, (kh, st)) in (0u64..).zip(states) {
            index.set(kh, st);
            ids.insert(kh.0, id);
        }
        Self { size, index, ids }
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

    /// The id the store knows `key` by; `None` if no entry has it.
    pub fn key_id(&self, key: &str) -> Option<u64> {
        self.ids.get(&index::key_hash(key).0).copied()
    }

    /// Applies entry `at` (the next one) with its keys; what changed goes
    /// into `staged`.
    pub fn apply(&mut self, at: u64, leaf_hash: Hash, keys: &[String], staged: &mut Staged) {
        debug_assert_eq!(at, self.size, "entries are indexed in order");
        staged.size.get_or_insert(self.size);
        for k in keys {
            let kh = index::key_hash(k);
            let next = self.ids.len() as u64;
            let key = *self.ids.entry(kh.0).or_insert(next);
            let before = self.index.state(k);
            let after = before.push(at, leaf_hash);
            self.index.set(kh, after);
            staged.undo.push((kh, before));
            staged.rows.push(IndexRow {
                index: at,
                key,
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
            if before.count == 0 {
                // New in the batch: its id was the last one given.
                self.index.remove(kh);
                self.ids.remove(&kh.0);
            } else {
                self.index.set(kh, before);
            }
        }
        if let Some(size) = staged.size {
            self.size = size;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #[allow(unused_imports)]
    use crate::store::{EntryQueries as _, EvidenceStore as _, IndexStore as _, LogStore as _};
    use hotline_proto::entry::{Header, Kind};
    use hotline_proto::keys::{ALG_ED25519, NoteKey, os_rng};
    use hotline_proto::party::Party;

    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{AppendBatch, NewLeaf, extend_tree};

    /// A receipt of `us`'s log referring to `ru:refd`, signed by the party
    /// (the test entry of the index, proofs and mirror tests).
    pub(crate) fn receipt(key: &NoteKey, refd: u64, time: &str) -> SignedEntry {
        let mut h = Header::new(
            Party::new("us").unwrap(),
            Kind::Receipt,
            "us",
            None,
            time.parse().unwrap(),
        );
        h.refs = vec![hotline_proto::entry::Ref {
            log: Party::new("ru").unwrap(),
            index: refd,
            leaf_hash: hotline_proto::b64::encode([9u8; 32]),
        }];
        h.status = Some("delivered".into());
        SignedEntry::sign(h, |m| key.sign_raw(m)).unwrap()
    }

    fn store() -> (tempfile::TempDir, SqliteStore, LogId, NoteKey) {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&tmp.path().join("t.db")).unwrap();
        let log = store.log_id("hotline/us", "us").unwrap();
        let key = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        (tmp, store, log, key)
    }

    /// Appends `entries` at `size` with exactly `rows` as their index rows
    /// (none, as an older node wrote them, when `rows` is `None`).
    fn append_rows(
        store: &SqliteStore,
        log: LogId,
        size: u64,
        entries: &[SignedEntry],
        rows: Option<&[IndexRow]>,
    ) -> crate::store::Result<()> {
        let leaves: Vec<NewLeaf> = entries
            .iter()
            .map(|e| NewLeaf::from_entry(e, None))
            .collect();
        let hashes: Vec<Hash> = leaves.iter().map(|l| l.leaf_hash).collect();
        let (pending, _) = extend_tree(store, log, size, &hashes)?;
        store.append(&AppendBatch {
            log,
            first: size,
            leaves: &leaves,
            first_hash: hotline_proto::tree::stored_hash_count(size),
            hashes: &pending,
            checkpoint: None,
            now: 0,
            index: rows,
            epoch: None,
        })
    }

    /// Appends `entries` at the log's end, with their index rows from `ix`
    /// (or unindexed, as an older node wrote them, when `ix` is `None`).
    fn append(
        store: &SqliteStore,
        log: LogId,
        entries: &[SignedEntry],
        ix: Option<&mut LogIndex>,
    ) -> crate::store::Result<Staged> {
        let size = store.size(log)?;
        let mut staged = Staged::default();
        let rows = ix.map(|ix| {
            for (i, e) in entries.iter().enumerate() {
                ix.apply_entry(size + i as u64, e, &mut staged);
            }
            staged.rows.clone()
        });
        append_rows(store, log, size, entries, rows.as_deref())?;
        Ok(staged)
    }

    fn fresh(entries: &[SignedEntry]) -> Hash {
        let mut ix = Index::new();
        for (i, e) in entries.iter().enumerate() {
            ix.apply_entry(i as u64, e);
        }
        ix.root()
    }

    #[test]
    fn stored_rows_give_each_key_its_state_and_entries_at_any_size() {
        let (_t, store, log, key) = store();
        let es: Vec<SignedEntry> = [3, 4, 3]
            .iter()
            .enumerate()
            .map(|(i, r)| receipt(&key, *r, &format!("2026-01-01T00:00:0{i}Z")))
            .collect();
        let mut ix = LogIndex::new();
        append(&store, log, &es[..2], Some(&mut ix)).unwrap();
        append(&store, log, &es[2..], Some(&mut ix)).unwrap();
        // Ids in order of first appearance: the receipt channel, ru:3, ru:4.
        assert_eq!(ix.key_id("kind/receipt/us/-"), Some(0));
        assert_eq!(ix.key_id("ref/ru/4"), Some(2));
        let k3 = ix.key_id("ref/ru/3").unwrap();
        assert_eq!(k3, 1);
        let st = KeyState::default()
            .push(0, es[0].leaf_hash())
            .push(2, es[2].leaf_hash());
        assert_eq!(store.key_state_at(log, k3, 3).unwrap(), st);
        assert_eq!(store.key_state_at(log, k3, 2).unwrap().count, 1);
        assert_eq!(store.key_state_at(log, k3, 0).unwrap(), KeyState::default());
        let all = store.key_entries(log, k3, 3, 0).unwrap();
        assert_eq!(all.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(all[1].1, es[2].leaf());
        let later = store.key_entries(log, k3, 3, 1).unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].0, 2);
        // The loaded index and the one rebuilt at each size are the index
        // of exactly those entries.
        let mut loaded = LogIndex::load(&store, log).unwrap();
        assert_eq!(loaded.size(), 3);
        for k in ["kind/receipt/us/-", "ref/ru/3", "ref/ru/4"] {
            assert_eq!(loaded.key_id(k), ix.key_id(k), "{k} keeps its id");
        }
        assert_eq!(loaded.root(), fresh(&es));
        for n in 0..=3 {
            assert_eq!(
                LogIndex::at(&store, log, n).unwrap().root(),
                fresh(&es[..n as usize]),
                "at {n}"
            );
        }
    }

    #[test]
    fn a_batch_that_fails_leaves_no_index_rows() {
        let (_t, store, log, key) = store();
        let a = receipt(&key, 1, "2026-01-01T00:00:00Z");
        let mut ix = LogIndex::new();
        append(&store, log, std::slice::from_ref(&a), Some(&mut ix)).unwrap();
        let before = store.index_states(log).unwrap();
        // A batch whose last index row is refused (it names an entry
        // outside the batch): its leaf and its first rows were written in
        // the transaction before that.
        let b = receipt(&key, 2, "2026-01-01T00:00:01Z");
        let new_id;
        let staged = {
            let mut staged = Staged::default();
            ix.apply_entry(1, &b, &mut staged);
            new_id = ix.key_id("ref/ru/2").unwrap();
            let mut rows = staged.rows.clone();
            rows.push(IndexRow {
                index: 7,
                ..rows[0]
            });
            let err = append_rows(&store, log, 1, std::slice::from_ref(&b), Some(&rows));
            let err = err.expect_err("a row outside the batch must be refused");
            assert!(err.to_string().contains("entry 7"), "{err}");
            staged
        };
        ix.undo(staged);
        assert_eq!(store.size(log).unwrap(), 1);
        let after = store.index_states(log).unwrap();
        assert_eq!(after.0, 1, "the index still covers one entry");
        assert_eq!(after.1, before.1, "no key state changed");
        assert!(
            store.key_entries(log, new_id, 3, 0).unwrap().is_empty(),
            "no row of the failed batch"
        );
        assert_eq!(ix.key_id("ref/ru/2"), None, "its new key has no id left");
        assert_eq!(ix.size(), 1);
        assert_eq!(ix.root(), fresh(std::slice::from_ref(&a)));
    }

    #[test]
    fn rows_must_follow_the_entries_already_indexed() {
        let (_t, store, log, key) = store();
        let es = [
            receipt(&key, 1, "2026-01-01T00:00:00Z"),
            receipt(&key, 2, "2026-01-01T00:00:01Z"),
        ];
        // Written unindexed (an older node), then a batch with rows.
        append(&store, log, &es[..1], None).unwrap();
        let mut ix = LogIndex::new();
        ix.apply_entry(0, &es[0], &mut Staged::default());
        let err = append(&store, log, &es[1..], Some(&mut ix)).unwrap_err();
        assert!(err.to_string().contains("covers 0 entries, not 1"), "{err}");
        assert_eq!(store.size(log).unwrap(), 1, "nothing of the batch stored");
    }

    #[test]
    fn rows_must_name_each_key_by_the_id_the_store_gave_it() {
        let (_t, store, log, key) = store();
        let a = receipt(&key, 1, "2026-01-01T00:00:00Z");
        let mut ix = LogIndex::new();
        append(&store, log, std::slice::from_ref(&a), Some(&mut ix)).unwrap();
        let before = store.index_states(log).unwrap();
        assert_eq!(before.1.len(), 2, "the receipt channel and ru:1");
        let b = receipt(&key, 2, "2026-01-01T00:00:01Z");
        let mut staged = Staged::default();
        ix.apply_entry(1, &b, &mut staged);
        let rows = staged.rows.clone();
        ix.undo(staged);
        assert_eq!(rows[1].key, 2, "ru:2 is the next key");
        // A new key that skips an id, and a key under the id of another.
        let skips = [rows[0], IndexRow { key: 3, ..rows[1] }];
        let err = append_rows(&store, log, 1, std::slice::from_ref(&b), Some(&skips)).unwrap_err();
        assert!(
            err.to_string().contains("a new key takes the next id"),
            "{err}"
        );
        let borrows = [IndexRow { key: 1, ..rows[0] }, rows[1]];
        let err =
            append_rows(&store, log, 1, std::slice::from_ref(&b), Some(&borrows)).unwrap_err();
        assert!(err.to_string().contains("the hash of another key"), "{err}");
        assert_eq!(store.size(log).unwrap(), 1, "nothing of either stored");
        assert_eq!(store.index_states(log).unwrap(), before);
        // The rows the index made are accepted.
        append_rows(&store, log, 1, std::slice::from_ref(&b), Some(&rows)).unwrap();
        let mut loaded = LogIndex::load(&store, log).unwrap();
        assert_eq!(loaded.key_id("ref/ru/2"), Some(2));
        assert_eq!(loaded.root(), fresh(&[a, b]));
    }

    #[test]
    fn a_log_written_before_the_index_is_indexed_from_its_leaves_once() {
        let (_t, store, log, key) = store();
        let es: Vec<SignedEntry> = (0..5)
            .map(|i| receipt(&key, i % 2, &format!("2026-01-01T00:00:0{i}Z")))
            .collect();
        append(&store, log, &es, None).unwrap();
        assert_eq!(store.index_states(log).unwrap().0, 0);
        let mut ix = LogIndex::load(&store, log).unwrap();
        assert_eq!(ix.size(), 5);
        assert_eq!(ix.root(), fresh(&es));
        let (indexed, states) = store.index_states(log).unwrap();
        assert_eq!(indexed, 5, "the rows are stored");
        assert_eq!(states.len(), ix.index().len());
        let k1 = ix.key_id("ref/ru/1").unwrap();
        assert_eq!(store.key_entries(log, k1, 5, 0).unwrap().len(), 2);
        // Read-only, the same index without writing.
        let mut again = LogIndex::load_read_only(&store, log).unwrap();
        assert_eq!(again.root(), fresh(&es));
    }

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
