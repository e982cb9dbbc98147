//! The index each checkpoint commits to (see `crate::indexes`): per-key
//! states after each entry, written with the entries or caught up later.

use hotline_proto::Hash;
use hotline_proto::index::KeyState;

use super::{LogId, Result};

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
