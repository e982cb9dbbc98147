//! Why a bundle could not be built from what this node holds: the node's
//! own faults (a stored entry or checkpoint that does not decode, a tree
//! that does not prove, a key file that does not read), and a bundle that
//! would not verify. What the asker got wrong (an id that is not one, an
//! entry not held here) stays a [`NodeError`] in the asker's words.

use std::path::PathBuf;

use hotline_proto::bundle::BundleError;
use hotline_proto::checkpoint::CheckpointError;
use hotline_proto::entry::EntryError;
use hotline_proto::keylog::KeyRefusal;
use hotline_proto::keys::KeyError;
use hotline_proto::party::{NameError, Party};
use hotline_proto::tree::TreeError;

use crate::error::NodeError;

/// A proof the node could not build from its own data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// A stored entry does not decode.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// A stored checkpoint does not parse, or cannot be cosigned.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The stored hashes do not prove the entry.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The configured party name is not one.
    #[error(transparent)]
    Party(#[from] NameError),
    /// A sealed statement's text is not JSON content.
    #[error(transparent)]
    Content(#[from] serde_json::Error),
    /// A key file of the node directory could not be read.
    #[error("reading {}: {source}", path.display())]
    ReadKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The witness key could not be read (proving cosigns with it).
    #[error(
        "reading the witness key {}: {source} (prove runs with the node directory's keys)",
        path.display()
    )]
    ReadWitnessKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key file does not hold a key.
    #[error("{}: {source}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// A `key` entry of the log does not decode.
    #[error("key entry {index}: {source}")]
    KeyEntry {
        /// Its index.
        index: u64,
        /// Why.
        #[source]
        source: EntryError,
    },
    /// The log's `key` entries do not link back by `prev` to the one that
    /// announced the key an entry was signed with.
    #[error(
        "the key entries of {origin} before entry {index} are not linked by prev back to entry {announced}, which announced the signing key"
    )]
    Unlinked {
        /// The log.
        origin: String,
        /// The entry proved.
        index: u64,
        /// The `key` entry that announced its signing key.
        announced: u64,
    },
    /// A checkpoint the store listed is not there.
    #[error("checkpoint {size} of {origin} missing")]
    CheckpointMissing {
        /// Its size.
        size: u64,
        /// The log.
        origin: String,
    },
    /// The index and its rows disagree on how many entries a key has.
    #[error(
        "the index of {party} holds {indexed} entries of {key} at size {size}, the rows {rows}"
    )]
    IndexRows {
        /// The log's party.
        party: Party,
        /// The key.
        key: String,
        /// The checkpoint size.
        size: u64,
        /// Entries the index counts.
        indexed: u64,
        /// Entries the rows hold.
        rows: usize,
    },
    /// A statement's sealed text does not hash to the digest it carries.
    #[error("the sealed text of {id} does not hash to its digest")]
    Digest {
        /// The statement.
        id: String,
    },
    /// An inquiry read for a month's figures went missing while reading.
    #[error("an inquiry of the month went missing")]
    InquiryMissing,
    /// The index cache dropped what it had just loaded.
    #[error("the index cache lost a {0}")]
    CacheLost(&'static str),
    /// The log's key history does not let the entry stand as its signer's,
    /// so `hotline verify` would refuse any bundle of it.
    #[error(
        "entry {index} of {origin} cannot be proved as {from}'s: {why}; `hotline verify` would refuse any bundle of it"
    )]
    Unprovable {
        /// The entry.
        index: u64,
        /// Its log.
        origin: String,
        /// The office that signed it.
        from: String,
        /// What the key history says.
        #[source]
        why: KeyRefusal,
    },
    /// The bundle covers a time no cosignature brackets yet.
    #[error(
        "{0} — no bundle written; wait for the next cosignature (cosign_interval_secs) and try again"
    )]
    NotYetCosigned(#[source] BundleError),
    /// The bundle built would not verify against the keys this node pins.
    #[error("the bundle would not verify, so none was written: {0}")]
    WouldNotVerify(#[source] BundleError),
}

impl From<ProofError> for NodeError {
    fn from(e: ProofError) -> Self {
        match e {
            ProofError::NotYetCosigned(_) => NodeError::NotFound(e.to_string()),
            ProofError::Unprovable { .. } | ProofError::WouldNotVerify(_) => {
                NodeError::Conflict(e.to_string())
            }
            _ => NodeError::Proof(e),
        }
    }
}
