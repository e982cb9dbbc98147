//! Storage: one trait per role, several engines.
//!
//! - [`LogStore`] (`log`): leaves, tree hashes, bodies, checkpoints; the sequencer and mirror append, all read.
//! - [`EntryQueries`] (`entries`): entries found by header fields; sequencer, federation, console.
//! - [`IndexStore`] (`index`): per-key index rows and states; sequencer and proofs.
//! - [`WitnessStore`] (`witness`): the witness's last cosigned checkpoint per log; the witness endpoint.
//! - [`CosignatureStore`] (`cosignatures`): cosignatures given and received; federation and proofs.
//! - [`EvidenceStore`] (`evidence`): equivocation bundles; federation and the API.
//! - [`IdentityStore`] (`identity`): which party's log a database holds; the node's start-up.
//! - [`LeaseStore`] (`lease`): the sequencer lease of replicas sharing one database; `replica`.
//! - [`Store`]: every role at once, for callers that open a whole node.
//! - `sqlite`: the embedded engine; `postgres`: PostgreSQL, for a party beyond one machine; `memory`: in memory with failpoints, for tests.
//!
//! The log is the source of truth; everything a node shows is derived from
//! the entries, their tree hashes and the signed checkpoints. The interface is
//! synchronous and called from a blocking thread: SQLite is synchronous by
//! nature, and the sequencer is a single writer that gains nothing from async.

#[cfg(test)]
mod conformance;
mod cosignatures;
mod entries;
mod evidence;
mod identity;
mod index;
mod lease;
mod log;
#[cfg(any(test, feature = "test-store"))]
pub mod memory;
pub mod postgres;
pub mod sqlite;
mod witness;

pub use cosignatures::{CosignatureRecord, CosignatureStore};
pub use entries::EntryQueries;
pub use evidence::{Evidence, EvidenceStore};
pub use identity::{Holder, IdentityStore};
pub use index::{IndexRow, IndexStore};
pub use lease::{Lease, LeaseStore};
pub use log::{
    AppendBatch, HashesOf, LogStore, NewLeaf, Overlay, StoredLeaf, extend_tree, tlog_tiles_reader,
};
pub use witness::{Advance, WitnessRequest, WitnessState, WitnessStore};

/// Why storage failed. Each engine's own error is kept as the source; the
/// variants are what a caller may act on (retry when busy, stop when corrupt).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another connection holds the database: retrying later may succeed.
    #[error("database busy: {0}")]
    Busy(#[source] rusqlite::Error),
    /// The database engine reported an error.
    #[error("database: {0}")]
    Db(#[source] rusqlite::Error),
    /// PostgreSQL reported an error. The message carries the server's own
    /// words (severity, message, SQLSTATE code, detail, hint), so the
    /// client's error is kept but not chained as a source, which would
    /// only add its "db error".
    #[error("PostgreSQL: {}", postgres::said(.0))]
    Postgres(tokio_postgres::Error),
    /// The PostgreSQL server could not be reached or refused the login.
    #[error("connecting to {target}: {}", postgres::said(error))]
    Connect {
        /// The server and database, without the password.
        target: String,
        /// Why, in the server's words when it gave any (as `Postgres`).
        error: tokio_postgres::Error,
    },
    /// The database file could not be created.
    #[error("creating {}: {source}", path.display())]
    Create {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A lock around a connection was poisoned by a thread that panicked.
    #[error("database: {0} lock poisoned")]
    Poisoned(&'static str),
    /// The stored tree hashes do not make a tree.
    #[error("corrupt store: {0}")]
    Tree(#[source] hotline_proto::tree::TreeError),
    /// The database holds something this code cannot read.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// A value could not be encoded for storage.
    #[error("encoding offices: {0}")]
    Encode(#[source] serde_json::Error),
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
    /// The sequencer could not start over the store.
    #[error("database: {0}")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database holds another party's log (see [`IdentityStore`]).
    #[error("{}", identity::refusal(held, here))]
    OtherParty {
        /// The party and keys on record.
        held: Box<Holder>,
        /// The party and keys that tried to open it.
        here: Box<Holder>,
    },
    /// The append carried a lease epoch that is no longer the one in force:
    /// another replica holds the sequencer lease. Nothing was written.
    #[error(
        "this replica's sequencer lease (epoch {held}) was taken over (epoch now {now}); nothing was written, retry through the lease holder"
    )]
    LeaseLost {
        /// The epoch the append carried.
        held: u64,
        /// The epoch in force.
        now: u64,
    },
    /// A failure a test injected (see `memory::Step`).
    #[error("injected failure at {0:?}")]
    Injected(&'static str),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
        match e.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked) => Self::Busy(e),
            _ => Self::Db(e),
        }
    }
}

/// Storage results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A log known to this node: its own, or a mirror of a peer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LogId(pub i64);

/// Every role at once, for the callers that need the whole node's storage
/// (opening a node, the sequencer's start-up); any type implementing every
/// role is one.
pub trait Store:
    LogStore
    + EntryQueries
    + IndexStore
    + WitnessStore
    + CosignatureStore
    + EvidenceStore
    + IdentityStore
    + LeaseStore
    + 'static
{
}

impl<T> Store for T where
    T: LogStore
        + EntryQueries
        + IndexStore
        + WitnessStore
        + CosignatureStore
        + EvidenceStore
        + IdentityStore
        + LeaseStore
        + 'static
{
}

/// Every role's methods in scope at once, for code holding a concrete engine
/// (`use hotline_node::store::prelude::*`): a `dyn Store` needs no import.
pub mod prelude {
    pub use super::{
        CosignatureStore as _, EntryQueries as _, EvidenceStore as _, IdentityStore as _,
        IndexStore as _, LeaseStore as _, LogStore as _, WitnessStore as _,
    };
}
