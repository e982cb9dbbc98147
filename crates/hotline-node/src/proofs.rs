//! Building proof bundles (docs/claims.md) from what a node holds: its own
//! log, its verified mirrors, the cosignatures it was given or gave, and the
//! index of each log.
//!
//! Read-only and lock-free, so `hotline prove …` works beside a running node.
//! Either party can prove claims about either log: the sender about its own,
//! the receiver from its mirror and the cosignatures it gave as a witness.
//!
//! Every bundle shows ONE checkpoint per log ([`checkpoints`]) and, under
//! it, that log's complete key history and the keyed runs the claim needs
//! ([`evidence`]), read by key from the stored index rows — never by
//! replaying or scanning the log.

use std::collections::BTreeMap;
use std::sync::Arc;

use hotline_proto::agreement::{self, Agreement};
use hotline_proto::entry::{Kind, SignedEntry};
use hotline_proto::keys::{NoteKey, NoteVerifier, PartyIdentity};
use hotline_proto::name::{Office, Party};

pub mod absence;
pub mod answered;
pub mod checkpoints;
pub mod content;
pub mod delivery;
pub mod evidence;
pub mod inclusion;
pub mod index;
pub mod stats;

use crate::dir::NodeDir;
use crate::error::{NodeError, Result};
use crate::store::sqlite::SqliteStore;
use crate::store::{LogId, Store, StoredLeaf};

/// One log this node holds.
#[derive(Clone, Debug)]
pub(crate) struct HeldLog {
    pub id: LogId,
    pub origin: String,
}

/// The logs a node holds, for building proofs.
pub struct ProofSource {
    store: Arc<dyn Store>,
    dir: NodeDir,
    own: Party,
    logs: BTreeMap<Party, HeldLog>,
    /// Names of the pinned peers' witnesses (who may cosign the own log).
    peer_witnesses: Vec<String>,
    /// This node's witness name.
    witness_name: String,
    indexes: index::IndexCache,
}

pub(crate) fn internal(e: impl std::fmt::Display) -> NodeError {
    NodeError::Internal(e.to_string())
}

impl ProofSource {
    /// Opens a node directory read-only.
    pub fn open(dir: &NodeDir) -> Result<Self> {
        let config = dir
            .read_config()
            .map_err(|e| NodeError::NotFound(e.to_string()))?;
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_read_only(&dir.db()).map_err(|e| {
                NodeError::Internal(format!("opening {}: {e}", dir.db().display()))
            })?);
        Self::over(dir, &config, store)
    }

    /// The proofs of a node directory read through a store already open:
    /// a running node proves from its own store rather than opening a
    /// second connection per request.
    pub(crate) fn over(
        dir: &NodeDir,
        config: &crate::dir::Config,
        store: Arc<dyn Store>,
    ) -> Result<Self> {
        let own = Party::new(&config.party).map_err(internal)?;
        let mut logs = BTreeMap::new();
        logs.insert(
            own.clone(),
            HeldLog {
                id: store.log_id_existing(&config.origin)?,
                origin: config.origin.clone(),
            },
        );
        let mut peer_witnesses = Vec::new();
        if let Ok(rd) = std::fs::read_dir(dir.peers()) {
            for e in rd.flatten() {
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                let Ok(id) = serde_json::from_str::<PartyIdentity>(&text) else {
                    continue;
                };
                if let Ok(w) = NoteVerifier::from_vkey(&id.witness_key) {
                    peer_witnesses.push(w.name().to_owned());
                }
                let Ok(v) = NoteVerifier::from_vkey(&id.log_key) else {
                    continue;
                };
                if let Ok(log) = store.log_id_existing(v.name()) {
                    logs.insert(
                        id.party.clone(),
                        HeldLog {
                            id: log,
                            origin: v.name().to_owned(),
                        },
                    );
                }
            }
        }
        Ok(Self {
            store,
            dir: dir.clone(),
            own,
            logs,
            peer_witnesses,
            witness_name: config.witness_name.clone(),
            indexes: index::IndexCache::new(),
        })
    }

    /// The state of `key` in `party`'s log after its first `size` entries.
    pub fn key_state_at(
        &self,
        party: &Party,
        key: &str,
        size: u64,
    ) -> Result<hotline_proto::index::KeyState> {
        let log = self.log(party)?;
        self.indexes.key_state_at(&*self.store, log.id, key, size)
    }

    /// The entries of `key` in `party`'s log below `size`, from the key's
    /// `from_count`-th entry on: (index, leaf).
    pub fn key_entries(
        &self,
        party: &Party,
        key: &str,
        size: u64,
        from_count: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let log = self.log(party)?;
        self.indexes
            .key_entries(&*self.store, log.id, key, size, from_count)
    }

    /// `key`'s state in `party`'s log at `size` and its proof against the
    /// index root a checkpoint at `size` commits to.
    pub fn index_proof_at(
        &self,
        party: &Party,
        key: &str,
        size: u64,
    ) -> Result<(
        hotline_proto::index::KeyState,
        hotline_proto::index::IndexProof,
    )> {
        let log = self.log(party)?;
        self.indexes.index_proof_at(&*self.store, log.id, key, size)
    }

    pub(crate) fn log(&self, party: &Party) -> Result<&HeldLog> {
        self.logs.get(party).ok_or_else(|| {
            NodeError::NotFound(format!(
                "this node holds no log of {party} (pin it and let its node push first)"
            ))
        })
    }

    pub(crate) fn leaf(&self, party: &Party, index: u64) -> Result<(StoredLeaf, SignedEntry)> {
        let log = self.log(party)?;
        let l = self
            .store
            .leaves(log.id, index, 1)?
            .into_iter()
            .find(|l| l.index == index)
            .ok_or_else(|| {
                NodeError::NotFound(format!("entry {party}:{index} is not held here"))
            })?;
        let e = SignedEntry::from_leaf(&l.leaf).map_err(internal)?;
        Ok((l, e))
    }

    pub(crate) fn parse_id(id: &str) -> Result<(Party, u64)> {
        agreement::parse_id(id).ok_or_else(|| {
            NodeError::BadInput(format!(
                "{id:?} is not an entry id (party:index, e.g. us:12)"
            ))
        })
    }

    pub(crate) fn addressee(e: &SignedEntry) -> Result<Office> {
        e.header()
            .to
            .clone()
            .ok_or_else(|| NodeError::BadInput("the entry is addressed to no office".into()))
    }

    /// This node's witness key, for its own statement "at now my tree is
    /// this" on its own latest checkpoint.
    pub(crate) fn witness_key(&self) -> Result<NoteKey> {
        let p = self.dir.witness_key();
        let t = std::fs::read_to_string(&p).map_err(|e| {
            NodeError::Internal(format!(
                "reading the witness key {}: {e} (prove runs with the node directory's keys)",
                p.display()
            ))
        })?;
        NoteKey::from_skey(t.trim()).map_err(|e| internal(format!("{}: {e}", p.display())))
    }

    /// Every agreement held here (from every log), folded, with its proposal's id.
    pub(crate) fn agreements(&self) -> Result<Vec<(Agreement, Party, u64)>> {
        let mut entries = Vec::new();
        for log in self.logs.values() {
            for l in self
                .store
                .leaves_of_kind(log.id, Kind::Agreement.as_str())?
            {
                entries.push((l.index, SignedEntry::from_leaf(&l.leaf).map_err(internal)?));
            }
        }
        let folded = agreement::fold(entries.iter().map(|(i, e)| (*i, e)));
        Ok(folded
            .into_iter()
            .filter_map(|a| {
                let (p, i) = agreement::parse_id(&a.id)?;
                Some((a, p, i))
            })
            .collect())
    }

    /// The index (in the counterparty's log) of its signature of agreement `p:i`.
    pub(crate) fn agreement_signature(&self, a: &Agreement, p: &Party, i: u64) -> Result<u64> {
        let key = hotline_proto::index::ref_key(p.as_str(), i);
        let Ok(log) = self.log(&a.counterparty) else {
            return Err(NodeError::NotFound(format!(
                "{} has not signed {} (as far as this node holds)",
                a.counterparty, a.id
            )));
        };
        let size = self.store.size(log.id)?;
        for (j, leaf) in self.key_entries(&a.counterparty, &key, size, 0)? {
            let e = SignedEntry::from_leaf(&leaf).map_err(internal)?;
            let h = e.header();
            if h.kind == Kind::Agreement && h.status.as_deref() == Some(agreement::status::SIGNED) {
                return Ok(j);
            }
        }
        Err(NodeError::NotFound(format!(
            "{} has not signed {} (as far as this node holds)",
            a.counterparty, a.id
        )))
    }
}

impl ProofSource {
    /// The keys a reader of this node's bundles pins: this party's log and
    /// witness keys, and every pinned peer's.
    pub fn keyring(&self) -> Result<hotline_proto::bundle::Keyring> {
        let mut keys = Vec::new();
        let secret = |p: std::path::PathBuf| -> Result<NoteKey> {
            let t = std::fs::read_to_string(&p)
                .map_err(|e| internal(format!("reading {}: {e}", p.display())))?;
            NoteKey::from_skey(t.trim()).map_err(|e| internal(format!("{}: {e}", p.display())))
        };
        keys.push(secret(self.dir.log_key())?.verifier());
        keys.push(self.witness_key()?.verifier());
        if let Ok(rd) = std::fs::read_dir(self.dir.peers()) {
            for e in rd.flatten() {
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                let Ok(id) = serde_json::from_str::<PartyIdentity>(&text) else {
                    continue;
                };
                keys.extend(NoteVerifier::from_vkey(&id.log_key));
                keys.extend(NoteVerifier::from_vkey(&id.witness_key));
            }
        }
        Ok(hotline_proto::bundle::Keyring::new(keys))
    }

    /// The bundle, if it verifies against the keys this node pins: a bundle
    /// `hotline verify` would refuse is never written. A window or month
    /// whose end no signature covers yet asks to wait.
    pub(crate) fn checked(&self, bundle: String) -> Result<String> {
        use hotline_proto::bundle::BundleError;
        match hotline_proto::bundle::verify(bundle.as_bytes(), &self.keyring()?) {
            Ok(_) => Ok(bundle),
            Err(e @ BundleError::NotBracketed(_)) => Err(NodeError::NotFound(format!(
                "{e} — no bundle written; wait for the next cosignature (cosign_interval_secs) and try again"
            ))),
            Err(e) => Err(NodeError::Conflict(format!(
                "the bundle would not verify, so none was written: {e}"
            ))),
        }
    }
}
