//! Errors of node operations, each with what to do about it.
//!
//! The first variants are messages for the caller, written where the refusal
//! is decided. The others are the node's own failures; each keeps the error
//! that caused it as its source, with the same words as before it was typed.
//! Which HTTP status says which variant is decided at the HTTP edge
//! ([`crate::api::status`]), not here.

use std::path::PathBuf;

use hotline_proto::agreement::TermsError;
use hotline_proto::entry::EntryError;
use hotline_proto::keys::KeyError;
use hotline_proto::party::NameError;
use hotline_proto::seal::SealError;

use crate::dir::OpenError;
use crate::federation::FedError;
use crate::log::ReadError;
use crate::offices::OfficeError;
use crate::proofs::ProofError;
use crate::sequencer::AppendError;
use crate::store::StoreError;
use crate::terms_file::TermsFileError;
use crate::tls::TlsError;

/// Why a node operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The request is malformed or names something invalid (400).
    #[error("{0}")]
    BadInput(String),
    /// The request names something this node does not know (404).
    #[error("{0}")]
    NotFound(String),
    /// No agreement in force allows it, or the caller may not do it (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with what exists (409).
    #[error("{0}")]
    Conflict(String),
    /// The request is over a stated limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// Another process holds the node directory (503 / CLI hint).
    #[error("{0}")]
    Busy(String),
    /// Something the caller gave is invalid, in the words of the check that
    /// refused it (400).
    #[error(transparent)]
    Input(#[from] InputError),
    /// An internal failure with no error of its own behind it (500).
    #[error("{0}")]
    Internal(String),
    /// Storage failed (500); nothing was half-written.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The node's database could not be opened (500).
    #[error("opening {}: {source}", path.display())]
    OpenStore {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The node directory could not be opened or locked (500).
    #[error("{}", .0.message())]
    Open(#[source] OpenError),
    /// A log held here could not be read back (500).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A proof could not be assembled from what is held here (500).
    #[error(transparent)]
    Proof(ProofError),
    /// The sequencer could not append (500); nothing was written.
    #[error("append failed, nothing written: {0}")]
    Append(#[source] AppendError),
    /// The sequencer refused the entry as drafted (400); nothing was
    /// written. Its refusals in words are [`NodeError::BadInput`].
    #[error("{0}")]
    Refused(#[source] AppendError),
    /// A file or directory of the node directory could not be read or
    /// written (500).
    #[error("{what}: {source}")]
    File {
        /// What the node was doing ("writing the log key").
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Something this node keeps does not read back (500).
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
    /// An own office's key files could not be kept in order (500).
    #[error(transparent)]
    Office(#[from] OfficeError),
    /// The node's own TLS key could not be read or made (500).
    #[error("the node's TLS key: {0}")]
    Tls(#[source] TlsError),
    /// A federation step failed (500).
    #[error("{0}")]
    Federation(#[from] FedError),
    /// Sealing a body failed (500).
    #[error("{0}")]
    Seal(#[from] SealError),
    /// Encoding a reply or a file as JSON failed (500).
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// Encoding the configuration as TOML failed (500).
    #[error("{0}")]
    Toml(#[from] toml::ser::Error),
    /// A blocking task of the node panicked or was cancelled (500).
    #[error("{0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Why something the caller gave (a name, a key, agreement terms, a peer's
/// identity) is refused: the error of the check that refused it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Not a valid party or office name.
    #[error("{0}")]
    Name(#[source] NameError),
    /// Not a usable key (or key name).
    #[error("{0}")]
    Key(#[source] KeyError),
    /// Agreement terms that do not make sense.
    #[error("{0}")]
    Terms(#[source] TermsError),
    /// A terms file that does not read as terms.
    #[error("{0}")]
    TermsFile(#[source] TermsFileError),
    /// A peer's identity the federation cannot link to.
    #[error("{0}")]
    Peer(#[source] FedError),
}

/// Something this node wrote itself (a log entry, a name in one, a key, a
/// pinned peer's file) does not read back: the store or a file of the node
/// directory was damaged, or written by another version.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Corrupt {
    /// A stored entry does not parse.
    #[error("{0}")]
    Entry(#[source] EntryError),
    /// A stored entry does not parse, said with its place in the log.
    #[error("{what} {index}: {source}")]
    EntryAt {
        /// Which entry ("agreement entry", "own key entry").
        what: &'static str,
        /// Its index in its log.
        index: u64,
        /// Why it does not parse.
        #[source]
        source: EntryError,
    },
    /// An entry of a party's log does not parse, said with its id.
    #[error("{party}:{index}: {source}")]
    EntryOf {
        /// The party whose log holds it.
        party: hotline_proto::party::Party,
        /// Its index in that log.
        index: u64,
        /// Why it does not parse.
        #[source]
        source: EntryError,
    },
    /// A name in a stored entry is not a valid name.
    #[error("{0}")]
    Name(#[source] NameError),
    /// A stored public key is not a usable key.
    #[error("{0}")]
    Key(#[source] KeyError),
    /// A key file does not hold a usable key.
    #[error("{}: {source}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// A pinned party's keys do not parse.
    #[error("the pinned keys of {party}: {source}")]
    PinnedKeys {
        /// The party.
        party: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// A pinned party's file does not parse.
    #[error("{}: {source}", path.display())]
    PeerFile {
        /// The file under `peers/`.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

impl From<AppendError> for NodeError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Invalid(s) => NodeError::BadInput(s),
            e @ (AppendError::Entry(_) | AppendError::Checkpoint(_)) => NodeError::Refused(e),
            e @ (AppendError::NoHolder | AppendError::Forward(_)) => NodeError::Busy(e.to_string()),
            AppendError::Store(s) if matches!(*s, crate::store::StoreError::LeaseLost { .. }) => {
                NodeError::Busy(s.to_string())
            }
            AppendError::Stopped => NodeError::Busy(
                "the node is shutting down; nothing was written, try again once it is back".into(),
            ),
            other => NodeError::Append(other),
        }
    }
}

/// Node results.
pub type Result<T, E = NodeError> = std::result::Result<T, E>;
