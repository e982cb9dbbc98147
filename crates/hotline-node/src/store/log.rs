//! The log role: the party's own log and every mirrored peer log, leaf by
//! leaf, with their tree hashes, sealed bodies and signed checkpoints. The
//! sequencer and the mirror append to it; proofs, federation and the API read it.

use hotline_proto::Hash;

use super::{IndexRow, LogId, Result, StoreError};

/// A log's leaves, tree hashes, bodies and checkpoints: what every
/// checkpoint commits to, appended to in atomic batches.
pub trait LogStore: Send + Sync {
    /// Finds or registers a log by origin.
    fn log_id(&self, origin: &str, party: &str) -> Result<LogId>;
    /// Finds a log by origin without registering it.
    fn log_id_existing(&self, origin: &str) -> Result<LogId>;
    /// Number of leaves in a log.
    fn size(&self, log: LogId) -> Result<u64>;
    /// Appends a batch atomically and durably.
    fn append(&self, batch: &AppendBatch<'_>) -> Result<()>;
    /// Reads stored tree hashes by stored-hash index.
    fn read_hashes(&self, log: LogId, ids: &[u64]) -> Result<Vec<Hash>>;
    /// Reads leaves `[start, start+limit)`.
    fn leaves(&self, log: LogId, start: u64, limit: u64) -> Result<Vec<StoredLeaf>>;
    /// The sealed body of an entry, if it has one.
    fn body(&self, log: LogId, index: u64) -> Result<Option<Vec<u8>>>;
    /// The header time of the last leaf, to keep entry times non-decreasing.
    fn last_time(&self, log: LogId) -> Result<Option<String>>;
    /// The newest checkpoint: (size, signed note).
    fn latest_checkpoint(&self, log: LogId) -> Result<Option<(u64, Vec<u8>)>>;
    /// The checkpoint of `log` at exactly `size`, if kept.
    fn checkpoint_at(&self, log: LogId, size: u64) -> Result<Option<Vec<u8>>>;
    /// The newest checkpoint of `log` whose size is in `(above, at_most]`.
    fn checkpoint_within(
        &self,
        log: LogId,
        above: u64,
        at_most: u64,
    ) -> Result<Option<(u64, Vec<u8>)>>;
}

/// One leaf to append, with what is indexed from its header.
#[derive(Clone, Debug)]
pub struct NewLeaf {
    /// The exact leaf bytes.
    pub leaf: Vec<u8>,
    /// Its RFC 9162 leaf hash.
    pub leaf_hash: Hash,
    /// Entry kind.
    pub kind: String,
    /// Signer.
    pub from: String,
    /// Addressee.
    pub to: Option<String>,
    /// For key entries, the office announced.
    pub subject: Option<String>,
    /// Header time, RFC 3339.
    pub time: String,
    /// Sealed body, if any.
    pub sealed: Option<Vec<u8>>,
    /// For receipts: the log and index of the entry acknowledged.
    pub reference: Option<(String, u64)>,
}

impl NewLeaf {
    /// The row for a signed entry: indexed columns copied out of its header.
    pub fn from_entry(entry: &hotline_proto::entry::SignedEntry, sealed: Option<Vec<u8>>) -> Self {
        let h = entry.header();
        // The first reference is indexed: receipts, acks, answers and agreement
        // signatures are found from what they refer to.
        let reference = h.refs.first().map(|r| (r.log.to_string(), r.index));
        Self {
            leaf: entry.leaf().to_vec(),
            leaf_hash: entry.leaf_hash(),
            kind: h.kind.as_str().to_owned(),
            from: h.from.clone(),
            to: h.to.as_ref().map(ToString::to_string),
            subject: h.key.as_ref().map(|k| k.keys.office.to_string()),
            time: h.time.to_string(),
            sealed,
            reference,
        }
    }
}

/// Computes the stored hashes that appending `leaf_hashes` at `size` adds,
/// and the new root.
pub fn extend_tree(
    store: &dyn LogStore,
    log: LogId,
    size: u64,
    leaf_hashes: &[Hash],
) -> Result<(Vec<Hash>, Hash)> {
    let mut pending = Vec::new();
    let base = hotline_proto::tree::stored_hash_count(size);
    for (i, h) in leaf_hashes.iter().enumerate() {
        let o = Overlay {
            store,
            log,
            base,
            pending: &pending,
        };
        let new = hotline_proto::tree::hashes_to_store(&o, size + i as u64, *h)
            .map_err(StoreError::Tree)?;
        pending.extend(new);
    }
    let o = Overlay {
        store,
        log,
        base,
        pending: &pending,
    };
    let root =
        hotline_proto::tree::root(&o, size + leaf_hashes.len() as u64).map_err(StoreError::Tree)?;
    Ok((pending, root))
}

/// A stored leaf.
#[derive(Clone, Debug)]
pub struct StoredLeaf {
    /// Index in its log.
    pub index: u64,
    /// The exact leaf bytes.
    pub leaf: Vec<u8>,
    /// Its leaf hash.
    pub leaf_hash: Hash,
}

/// One atomic append: leaves, their new tree hashes, and the checkpoint that
/// covers them. Either all of it is durable or none of it is.
pub struct AppendBatch<'a> {
    /// The log.
    pub log: LogId,
    /// Index of the first leaf (must equal the log's size).
    pub first: u64,
    /// The leaves.
    pub leaves: &'a [NewLeaf],
    /// Stored-hash index of the first new hash.
    pub first_hash: u64,
    /// New stored hashes, in order.
    pub hashes: &'a [Hash],
    /// A signed checkpoint to keep with the batch: (its size, the note).
    /// The own log signs one for the new size; a mirror keeps the peer's.
    pub checkpoint: Option<(u64, &'a [u8])>,
    /// Unix time of the checkpoint.
    pub now: i64,
    /// The index rows of these leaves (every key of every leaf, with its
    /// state after it), kept in the same transaction; `None` leaves the
    /// leaves unindexed (the node indexes them from the leaves at start).
    pub index: Option<&'a [IndexRow]>,
    /// The sequencer lease epoch the appender holds; an engine several
    /// processes share refuses the batch unless it is the epoch in force
    /// (`LeaseStore`). `None`: no lease claimed (single-process engines,
    /// tests and benchmarks).
    pub epoch: Option<u64>,
}

/// Reads committed hashes from the store and this batch's from memory.
pub struct Overlay<'a> {
    /// The store with the committed hashes.
    pub store: &'a dyn LogStore,
    /// The log.
    pub log: LogId,
    /// Stored-hash index of the first pending hash.
    pub base: u64,
    /// Hashes computed but not yet committed.
    pub pending: &'a [Hash],
}

impl tlog_tiles_reader::HashReader for Overlay<'_> {
    fn read_hashes(&self, ids: &[u64]) -> Result<Vec<Hash>, tlog_tiles_reader::Error> {
        let old: Vec<u64> = ids.iter().copied().filter(|&i| i < self.base).collect();
        let mut old = self
            .store
            .read_hashes(self.log, &old)
            .map_err(|e| tlog_tiles_reader::Error::InvalidInput(e.to_string()))?
            .into_iter();
        ids.iter()
            .map(|&i| {
                if i < self.base {
                    old.next().ok_or(tlog_tiles_reader::Error::IndexesNotInTree)
                } else {
                    usize::try_from(i - self.base)
                        .ok()
                        .and_then(|j| self.pending.get(j).copied())
                        .ok_or(tlog_tiles_reader::Error::IndexesNotInTree)
                }
            })
            .collect()
    }
}

/// Adapts a store to the tree code's hash reader.
pub struct HashesOf<'a> {
    /// The store.
    pub store: &'a dyn LogStore,
    /// The log.
    pub log: LogId,
}

impl tlog_tiles_reader::HashReader for HashesOf<'_> {
    fn read_hashes(
        &self,
        indexes: &[u64],
    ) -> std::result::Result<Vec<Hash>, tlog_tiles_reader::Error> {
        self.store
            .read_hashes(self.log, indexes)
            .map_err(|e| tlog_tiles_reader::Error::InvalidInput(e.to_string()))
    }
}

/// Re-export of the tree crate's reader trait, so engines need not depend on it.
pub mod tlog_tiles_reader {
    pub use hotline_proto::tree::{HashReader, TlogError as Error};
}
