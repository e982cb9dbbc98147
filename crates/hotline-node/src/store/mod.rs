//! Storage: one interface, several engines.
//!
//! The log is the source of truth; everything a node shows is derived from
//! the entries, their tree hashes and the signed checkpoints. The interface is
//! synchronous and called from a blocking thread: SQLite is synchronous by
//! nature, and the sequencer is a single writer that gains nothing from async.

use hotline_proto::Hash;

pub mod sqlite;

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database engine reported an error.
    #[error("database: {0}")]
    Db(String),
    /// The database holds something this code cannot read.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The database was written by a newer hotline.
    #[error(
        "database schema version {found} is newer than this build supports ({supported}); upgrade hotline"
    )]
    TooNew {
        /// Version found.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
}

/// Storage results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A log known to this node: its own, or a mirror of a peer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LogId(pub i64);

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
    /// The signed checkpoint for the new size.
    pub checkpoint: &'a [u8],
    /// Unix time of the checkpoint.
    pub now: i64,
}

/// The storage interface every engine implements.
pub trait Store: Send + Sync + 'static {
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
    /// The newest checkpoint: (size, signed note).
    fn latest_checkpoint(&self, log: LogId) -> Result<Option<(u64, Vec<u8>)>>;
    /// The last entry of `kind` from `from` to `to`, for the `prev` chain.
    fn last_on_channel(
        &self,
        log: LogId,
        kind: &str,
        from: &str,
        to: Option<&str>,
    ) -> Result<Option<u64>>;
    /// The newest key entry about `office` before index `before`.
    fn key_entry_before(&self, log: LogId, office: &str, before: u64) -> Result<Option<u64>>;
    /// The header time of the last leaf, to keep entry times non-decreasing.
    fn last_time(&self, log: LogId) -> Result<Option<String>>;
}

/// Adapts a store to the tree code's hash reader.
pub struct HashesOf<'a> {
    /// The store.
    pub store: &'a dyn Store,
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
