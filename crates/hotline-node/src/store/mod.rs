//! Storage: one interface, several engines.
//!
//! The log is the source of truth; everything a node shows is derived from
//! the entries, their tree hashes and the signed checkpoints. The interface is
//! synchronous and called from a blocking thread: SQLite is synchronous by
//! nature, and the sequencer is a single writer that gains nothing from async.

use hotline_proto::Hash;
use hotline_proto::index::KeyState;

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
    store: &dyn Store,
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
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        pending.extend(new);
    }
    let o = Overlay {
        store,
        log,
        base,
        pending: &pending,
    };
    let root = hotline_proto::tree::root(&o, size + leaf_hashes.len() as u64)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
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

    /// The highest index below `below` of `ref_log` that the own log holds
    /// a receipt for. (A receipt refusing a backdated entry that was never
    /// mirrored can lie beyond the mirror; bounded by the mirror's size,
    /// it does not make the entries before it look receipted.)
    fn receipt_cursor(&self, own: LogId, ref_log: &str, below: u64) -> Result<Option<u64>>;
    /// Entries of `log` after `after` addressed to offices of `party`.
    fn addressed_to(
        &self,
        log: LogId,
        party: &str,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<StoredLeaf>>;
    /// The newest `limit` entries of `log` between offices `a` and `b`, in
    /// either direction, returned in log order: one channel's side of a
    /// timeline.
    fn between(&self, log: LogId, a: &str, b: &str, limit: u64) -> Result<Vec<StoredLeaf>>;
    /// How many entries of `log` from `from` to `to` (receipts aside) lie
    /// after index `after`: what an operator has not yet seen.
    fn count_from_to(&self, log: LogId, from: &str, to: &str, after: Option<u64>) -> Result<u64>;
    /// The console's read mark: the highest mirror index `operator` has seen
    /// on `channel`.
    fn seen_mark(&self, operator: &str, channel: &str) -> Result<Option<u64>>;
    /// Moves the read mark forward (never back).
    fn set_seen_mark(&self, operator: &str, channel: &str, index: u64) -> Result<()>;
    /// Witness: atomically checks a new checkpoint against the last one
    /// cosigned for `origin` and, if `accept` agrees, records it.
    fn witness_advance(
        &self,
        origin: &str,
        req: &WitnessRequest<'_>,
        accept: &dyn Fn(&WitnessState) -> bool,
    ) -> Result<Advance>;
    /// Witness: when the last checkpoint for `origin` was cosigned (Unix seconds).
    fn witness_updated(&self, origin: &str) -> Result<Option<i64>>;
    /// Witness: the last checkpoint cosigned for `origin`.
    fn witness_state(&self, origin: &str) -> Result<Option<WitnessState>>;
    /// Log: records a cosignature and, in the same transaction, replaces
    /// the stored checkpoint note by `merge(current note)`.
    fn add_cosignature(
        &self,
        log: LogId,
        size: u64,
        witness: &str,
        time: u64,
        line: &str,
        merge: &dyn Fn(&[u8]) -> Vec<u8>,
    ) -> Result<()>;
    /// Witness: keeps a cosignature it gave for a mirrored log, with the note it covers.
    fn record_cosignature(
        &self,
        log: LogId,
        size: u64,
        witness: &str,
        time: u64,
        line: &str,
        note: &[u8],
    ) -> Result<()>;
    /// The newest cosignature of `log` at or before `time` (`before`), or the
    /// oldest at or after it.
    fn cosignature_near(
        &self,
        log: LogId,
        time: u64,
        before: bool,
    ) -> Result<Option<CosignatureRecord>>;
    /// Log: the newest cosignature by `witness`: (size, time).
    fn last_cosignature(&self, log: LogId, witness: &str) -> Result<Option<(u64, u64)>>;
    /// Keeps evidence of equivocation.
    fn add_equivocation(&self, origin: &str, now: i64, bundle: &[u8]) -> Result<i64>;
    /// Evidence kept so far, oldest first.
    fn equivocations(&self) -> Result<Vec<Evidence>>;
    /// Every `key` entry of `log`, in order.
    fn key_leaves(&self, log: LogId) -> Result<Vec<StoredLeaf>> {
        self.leaves_of_kind(log, "key")
    }
    /// Entries of `log` whose first reference is `ref_log:ref_index`, in order.
    fn referencing(&self, log: LogId, ref_log: &str, ref_index: u64) -> Result<Vec<StoredLeaf>>;
    /// Every entry of `kind` in `log`, in order.
    fn leaves_of_kind(&self, log: LogId, kind: &str) -> Result<Vec<StoredLeaf>>;
    /// The checkpoint of `log` at exactly `size`, if kept.
    fn checkpoint_at(&self, log: LogId, size: u64) -> Result<Option<Vec<u8>>>;
    /// The newest checkpoint of `log` whose size is in `(above, at_most]`.
    fn checkpoint_within(
        &self,
        log: LogId,
        above: u64,
        at_most: u64,
    ) -> Result<Option<(u64, Vec<u8>)>>;

    // --- The index each checkpoint commits to (see `crate::indexes`) ---

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

    // --- Console operators and their sessions (see `crate::operators`) ---

    /// Adds an operator; `false` if one of that name exists (nothing changed).
    fn add_operator(&self, op: &OperatorRow) -> Result<bool>;
    /// Every operator, by name.
    fn operators(&self) -> Result<Vec<OperatorRow>>;
    /// One operator.
    fn operator(&self, name: &str) -> Result<Option<OperatorRow>>;
    /// Replaces an operator's password hash and, in the same transaction,
    /// ends its sessions; `false` if there is no such operator.
    fn set_operator_password(&self, name: &str, password_hash: &str) -> Result<bool>;
    /// Removes an operator with its sessions; `false` if there is none.
    fn remove_operator(&self, name: &str) -> Result<bool>;
    /// Clears an operator's failure count and lock; `false` if there is none.
    fn unlock_operator(&self, name: &str) -> Result<bool>;
    /// Counts one failed login in a single atomic update. Returns the new
    /// count, or `None` if there is no such operator.
    fn operator_login_failed(&self, name: &str) -> Result<Option<u32>>;
    /// A successful login, atomically: only if the operator still has
    /// `password_hash`, resets its failures (and an old lock), deletes
    /// sessions idle since `idle_before` or created before `created_before`,
    /// and stores `session`. `false` if the operator
    /// changed meanwhile (nothing stored).
    fn operator_login_succeeded(
        &self,
        password_hash: &str,
        session: &SessionRow,
        idle_before: i64,
        created_before: i64,
    ) -> Result<bool>;
    /// A session by the SHA-256 of its token, with its operator.
    fn operator_session(&self, token_hash: &[u8; 32]) -> Result<Option<(SessionRow, OperatorRow)>>;
    /// Moves a session's `last_seen` forward to `now` (never back).
    fn touch_operator_session(&self, token_hash: &[u8; 32], now: i64) -> Result<()>;
    /// Ends one session (unknown tokens are not an error).
    fn end_operator_session(&self, token_hash: &[u8; 32]) -> Result<()>;
}

/// A console operator as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorRow {
    /// Login name.
    pub name: String,
    /// Offices it may act for, as written (`us/fbi`).
    pub offices: Vec<String>,
    /// Whether it may manage the console (an admin).
    pub admin: bool,
    /// Argon2id hash, PHC string format.
    pub password_hash: String,
    /// Consecutive failed logins.
    pub failures: u32,
    /// A lock an older version set after failed logins (Unix seconds);
    /// no longer set nor obeyed, cleared at the next successful login.
    pub locked_until: Option<i64>,
    /// When it was added (Unix seconds).
    pub created: i64,
}

/// A console session as stored: never the token itself, only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the session token.
    pub token_hash: [u8; 32],
    /// The operator's name.
    pub operator: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Login time (Unix seconds).
    pub created: i64,
    /// Last request (Unix seconds).
    pub last_seen: i64,
}

/// A cosignature on record.
#[derive(Clone, Debug)]
pub struct CosignatureRecord {
    /// Tree size cosigned.
    pub size: u64,
    /// The cosigner's name.
    pub witness: String,
    /// The witness's time.
    pub time: u64,
    /// The signature line.
    pub line: String,
    /// The checkpoint it covers (witness side); `None` for the own log, whose
    /// checkpoints table holds it.
    pub note: Option<Vec<u8>>,
}

/// Equivocation evidence on record.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// Its id.
    pub id: i64,
    /// The log that equivocated.
    pub origin: String,
    /// When it was detected (Unix seconds).
    pub detected: i64,
    /// The `hotline/equivocation/v1` bundle.
    pub bundle: Vec<u8>,
}

/// A witness's record of the last checkpoint it cosigned for a log.
#[derive(Clone, Debug)]
pub struct WitnessState {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed checkpoint as received.
    pub note: Vec<u8>,
}

/// A checkpoint submitted to the witness.
pub struct WitnessRequest<'a> {
    /// The old size the submitter believes the witness holds.
    pub old: u64,
    /// The new checkpoint's size.
    pub size: u64,
    /// Its root.
    pub root: Hash,
    /// The signed note.
    pub note: &'a [u8],
    /// Unix time now.
    pub now: i64,
}

/// What the witness did with a submitted checkpoint.
#[derive(Clone, Debug)]
pub enum Advance {
    /// Recorded; cosign it.
    Advanced,
    /// The old size does not match what is recorded (C2SP: 409 with the size).
    OldSizeMismatch(u64),
    /// `accept` refused it (consistency or same-size root mismatch); the
    /// recorded state is returned for the evidence.
    Refused(Option<WitnessState>),
}

/// Reads committed hashes from the store and this batch's from memory.
pub struct Overlay<'a> {
    /// The store with the committed hashes.
    pub store: &'a dyn Store,
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
