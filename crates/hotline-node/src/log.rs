//! Read-only access to a node's log: listing, checkpoints, proofs. Needs no
//! secrets and no lock, so the CLI can use it while `hotline serve` runs.

use std::path::PathBuf;
use std::sync::Arc;

use hotline_proto::b64;
use hotline_proto::bundle::{self, TlogProof};
use hotline_proto::entry::{EntryError, SignedEntry};
use hotline_proto::keys::KeyError;
use serde::Serialize;

use crate::dir::{Config, Mode, NodeDir};
use crate::error::{NodeError, Result};
use crate::proofs::evidence::whole_run;
use crate::proofs::inclusion::key_history;
use crate::proofs::tlog::tlog_proof_under;
use crate::proofs::{ProofError, index::IndexCache};
use crate::store::{LogId, Store};

/// One line of `hotline log`.
#[derive(Clone, Debug, Serialize)]
pub struct LogLine {
    /// Index in the log.
    pub index: u64,
    /// The exact leaf bytes, base64.
    pub leaf: String,
    /// The leaf hash, base64.
    pub leaf_hash: String,
    /// The decoded header.
    pub header: serde_json::Value,
}

/// Why a log could not be read: what in the store or the pinned peers'
/// files does not read as it should.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// A pinned peer's file is not an identity.
    #[error("{}: {source}", path.display())]
    Pin {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A pinned peer's log key is not a key.
    #[error(transparent)]
    PinnedKey(KeyError),
    /// A stored entry does not decode.
    #[error("entry {index} in the store is unreadable: {source}")]
    Unreadable {
        /// Its index.
        index: u64,
        /// Why.
        #[source]
        source: EntryError,
    },
    /// An entry's header did not turn into JSON.
    #[error(transparent)]
    Header(serde_json::Error),
}

/// Read access to one log in a store.
#[derive(Clone)]
pub struct LogReader {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The log.
    pub log: LogId,
    /// Its origin.
    pub origin: String,
}

impl LogReader {
    /// Opens the node's own log read-only.
    pub fn open(dir: &NodeDir) -> Result<(Config, Self)> {
        let opened = dir.open(Mode::ReadOnly)?;
        let log = opened.own_log()?;
        let origin = opened.config.origin.clone();
        let store = opened.store;
        Ok((opened.config, Self { store, log, origin }))
    }

    /// Opens the mirror of a pinned peer's log read-only.
    pub fn open_peer(dir: &NodeDir, party: &str) -> Result<(Config, Self)> {
        let (config, own) = Self::open(dir)?;
        let path = dir.peers().join(format!("{party}.json"));
        let text = std::fs::read_to_string(&path).map_err(|_| {
            NodeError::NotFound(format!(
                "{party} is not a pinned peer of this node (no {})",
                path.display()
            ))
        })?;
        let id: hotline_proto::keys::PartyIdentity =
            serde_json::from_str(&text).map_err(|source| ReadError::Pin { path, source })?;
        let origin = hotline_proto::keys::NoteVerifier::from_vkey(&id.log_key)
            .map_err(ReadError::PinnedKey)?
            .name()
            .to_owned();
        let log = own
            .store
            .log_id_existing(&origin)
            .map_err(|_| NodeError::NotFound(format!("nothing mirrored from {party} yet")))?;
        Ok((
            config,
            Self {
                store: own.store,
                log,
                origin,
            },
        ))
    }

    /// The log's size.
    pub fn size(&self) -> Result<u64> {
        Ok(self.store.size(self.log)?)
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> Result<(u64, Vec<u8>)> {
        self.store.latest_checkpoint(self.log)?.ok_or_else(|| {
            NodeError::NotFound(format!("log {} has no checkpoint yet", self.origin))
        })
    }

    /// Entries `[start, start+limit)` as log lines.
    pub fn lines(&self, start: u64, limit: u64) -> Result<Vec<LogLine>> {
        self.store
            .leaves(self.log, start, limit)?
            .into_iter()
            .map(|l| {
                let e =
                    SignedEntry::from_leaf(&l.leaf).map_err(|source| ReadError::Unreadable {
                        index: l.index,
                        source,
                    })?;
                Ok(LogLine {
                    index: l.index,
                    leaf: b64::encode(&l.leaf),
                    leaf_hash: b64::encode(l.leaf_hash.0),
                    header: serde_json::to_value(e.header()).map_err(ReadError::Header)?,
                })
            })
            .collect()
    }

    fn leaf(&self, index: u64) -> Result<Vec<u8>> {
        self.store
            .leaves(self.log, index, 1)?
            .into_iter()
            .find(|l| l.index == index)
            .map(|l| l.leaf)
            .ok_or_else(|| NodeError::NotFound(format!("log {} has no entry {index}", self.origin)))
    }

    /// A tlog-proof of the entry at `index` under the latest checkpoint.
    pub fn tlog_proof(&self, index: u64) -> Result<TlogProof> {
        let (size, note) = self.checkpoint()?;
        self.tlog_proof_under(index, size, note)
    }

    fn tlog_proof_under(&self, index: u64, size: u64, note: Vec<u8>) -> Result<TlogProof> {
        if index >= size {
            return Err(NodeError::NotFound(format!(
                "log {} has {size} entries in its latest checkpoint; there is no entry {index}",
                self.origin
            )));
        }
        let leaf = self.leaf(index)?;
        Ok(tlog_proof_under(
            &*self.store,
            self.log,
            index,
            &leaf,
            size,
            note,
        )?)
    }

    /// A `hotline/inclusion/v3` bundle for the entry at `index`, under the
    /// latest checkpoint, with the log's complete key history there. An
    /// entry signed with a key the log had rotated away or revoked is
    /// refused: no bundle could prove it.
    pub fn prove_entry(&self, index: u64) -> Result<String> {
        let (size, note) = self.checkpoint()?;
        let p = self.tlog_proof_under(index, size, note.clone())?;
        let entry = SignedEntry::from_leaf(p.extra.as_deref().unwrap_or_default())
            .map_err(ProofError::from)?;
        key_history(
            &self.store.key_leaves(self.log)?,
            &entry,
            index,
            &self.origin,
        )?;
        let party = bundle::origin_party(&self.origin);
        let key = hotline_proto::claims::history::key_history_key(party);
        let log = hotline_proto::claims::LogEvidence {
            checkpoint: note,
            key_history: whole_run(&IndexCache::new(), &*self.store, self.log, &key, size)?,
        };
        Ok(hotline_proto::claims::inclusion::inclusion_bundle(&log, &p))
    }
}
