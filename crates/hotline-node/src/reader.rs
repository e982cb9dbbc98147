//! Read-only access to a node's log: listing, checkpoints, proofs. Needs no
//! secrets and no lock, so the CLI can use it while `hotline serve` runs.

use std::sync::Arc;

use hotline_proto::bundle::{self, TlogProof};
use hotline_proto::entry::SignedEntry;
use hotline_proto::{b64, tree};
use serde::Serialize;

use crate::dir::{Config, NodeDir};
use crate::error::{NodeError, Result};
use crate::store::sqlite::SqliteStore;
use crate::store::{HashesOf, LogId, Store};

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
        let config = dir
            .read_config()
            .map_err(|e| NodeError::NotFound(e.to_string()))?;
        let store = SqliteStore::open_read_only(&dir.db())
            .map_err(|e| NodeError::Internal(format!("opening {}: {e}", dir.db().display())))?;
        let store: Arc<dyn Store> = Arc::new(store);
        let log = store.log_id_existing(&config.origin)?;
        let origin = config.origin.clone();
        Ok((config, Self { store, log, origin }))
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
        let id: hotline_proto::keys::PartyIdentity = serde_json::from_str(&text)
            .map_err(|e| NodeError::Internal(format!("{}: {e}", path.display())))?;
        let origin = hotline_proto::keys::NoteVerifier::from_vkey(&id.log_key)
            .map_err(|e| NodeError::Internal(e.to_string()))?
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
                let e = SignedEntry::from_leaf(&l.leaf).map_err(|e| {
                    NodeError::Internal(format!(
                        "entry {} in the store is unreadable: {e}",
                        l.index
                    ))
                })?;
                Ok(LogLine {
                    index: l.index,
                    leaf: b64::encode(&l.leaf),
                    leaf_hash: b64::encode(l.leaf_hash.0),
                    header: serde_json::to_value(e.header())
                        .map_err(|e| NodeError::Internal(e.to_string()))?,
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
        if index >= size {
            return Err(NodeError::NotFound(format!(
                "log {} has {size} entries in its latest checkpoint; there is no entry {index}",
                self.origin
            )));
        }
        let leaf = self.leaf(index)?;
        let proof = tree::prove_inclusion(
            &HashesOf {
                store: &*self.store,
                log: self.log,
            },
            size,
            index,
        )
        .map_err(|e| NodeError::Internal(e.to_string()))?;
        Ok(bundle::tlog_proof(&leaf, index, proof, note))
    }

    /// An inclusion bundle for the entry at `index`, with the proof of the
    /// key entry that announced its signer.
    pub fn prove_entry(&self, index: u64) -> Result<String> {
        let p = self.tlog_proof(index)?;
        let entry = SignedEntry::from_leaf(p.extra.as_deref().unwrap_or_default())
            .map_err(|e| NodeError::Internal(e.to_string()))?;
        let h = entry.header();
        let signer = if h.from == h.log.as_str() {
            None
        } else {
            let k = self
                .store
                .key_entry_before(self.log, &h.from, index)?
                .ok_or_else(|| {
                    NodeError::Internal(format!("no key entry for {} before entry {index}", h.from))
                })?;
            Some(self.tlog_proof(k)?)
        };
        Ok(bundle::inclusion_bundle(&p, signer.as_ref()))
    }
}
