//! The index each checkpoint commits to (see `crate::indexes`): per-key
//! states after each entry, written with the entries or caught up later.

use hotline_proto::Hash;
use hotline_proto::index::KeyState;

use super::{LogId, Result, StoreError};

/// Index rows and key states: kept by the sequencer and the index
/// catch-up, read by proofs of a key's state at a size.
pub trait IndexStore: Send + Sync {
    /// How many entries of `log` the stored index covers, and every key's
    /// state there, in the order of the keys' ids (a key's id is its
    /// position).
    fn index_states(&self, log: LogId) -> Result<(u64, Vec<(Hash, KeyState)>)>;
    /// Every key's state after the entries below `size` (read from the
    /// per-entry rows), in the order of their ids: the keys of those
    /// entries are exactly the first ones, so a key's id is its position.
    fn index_states_at(&self, log: LogId, size: u64) -> Result<Vec<(Hash, KeyState)>>;
    /// The state of the key with id `key` after the entries below `size`.
    fn key_state_at(&self, log: LogId, key: u64, size: u64) -> Result<KeyState>;
    /// The entries of the key with id `key` below `size` from its
    /// `from_count`-th on (counting from 0), in order: (index, leaf).
    fn key_entries(
        &self,
        log: LogId,
        key: u64,
        size: u64,
        from_count: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>>;
    /// Indexes entries `[first, end)` of `log`, already stored, in one
    /// transaction: the index must cover exactly `first` entries so far.
    fn add_index(&self, log: LogId, first: u64, end: u64, rows: &[IndexRow]) -> Result<()>;
}

/// One key of one entry, with the key's state after that entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IndexRow {
    /// The entry's index in its log.
    pub index: u64,
    /// The key's id in its log: keys are numbered from 0 in order of first
    /// appearance, so that the store writes each new key (and its rows)
    /// after the last one instead of at a random place.
    pub key: u64,
    /// SHA-256 of the key: kept with the key when it first appears, and
    /// checked against it after that.
    pub kh: Hash,
    /// The key's state after the entry.
    pub state: KeyState,
}

// The rules every engine holds an index batch to live here, so that the
// engines refuse the same batches with the same words; only the reading
// and writing of rows stays per engine.

/// The error for a batch whose first entry is not where the stored index
/// ends (`indexed` entries).
pub(crate) fn not_following(log: LogId, indexed: u64, first: u64) -> StoreError {
    StoreError::Corrupt(format!(
        "the index of log {} covers {indexed} entries, not {first}: its rows cannot follow",
        log.0
    ))
}

/// Checks that row `r` of a batch of entries `first..end` lies in the batch
/// and names a known key or the next one (`keys` are known): true if it is
/// that next, new key.
pub(crate) fn row_is_new_key(
    log: LogId,
    r: &IndexRow,
    first: u64,
    end: u64,
    keys: u64,
) -> Result<bool> {
    if r.index < first || r.index >= end {
        return Err(StoreError::Corrupt(format!(
            "an index row for entry {} in a batch of entries {first}..{end}",
            r.index
        )));
    }
    if r.key > keys {
        return Err(StoreError::Corrupt(format!(
            "an index row of entry {} for key {} of log {}, which has {keys} keys: a new key takes the next id",
            r.index, r.key, log.0
        )));
    }
    Ok(r.key == keys)
}

/// The error for a row that names a known key's id with another key's hash.
pub(crate) fn another_key(log: LogId, r: &IndexRow) -> StoreError {
    StoreError::Corrupt(format!(
        "an index row of entry {} for key {} of log {} with the hash of another key",
        r.index, r.key, log.0
    ))
}
