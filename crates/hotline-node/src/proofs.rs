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
//! replaying or scanning the log. Each entry it shows carries its
//! tlog-proof from [`tlog`], the one inclusion-proof path of the node.

use std::collections::BTreeMap;
use std::sync::Arc;

use hotline_proto::agreement::{self, Agreement};
use hotline_proto::entry::{Kind, SignedEntry};
use hotline_proto::keys::{NoteKey, NoteVerifier};
use hotline_proto::party::{Office, Party};

pub mod absence;
pub mod answered;
pub mod checkpoints;
pub mod content;
pub mod delivery;
mod error;
pub mod evidence;
pub mod inclusion;
pub mod index;
pub mod stats;
pub mod tlog;

pub use error::ProofError;

use crate::dir::{Mode, NodeDir};
use crate::error::{NodeError, Result};
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

impl ProofSource {
    /// Opens a node directory read-only.
    pub fn open(dir: &NodeDir) -> Result<Self> {
        let opened = dir.open(Mode::ReadOnly)?;
        let store = opened.store;
        Self::over(dir, &opened.config, store)
    }

    /// The proofs of a node directory read through a store already open:
    /// a running node proves from its own store rather than opening a
    /// second connection per request.
    pub(crate) fn over(
        dir: &NodeDir,
        config: &crate::dir::Config,
        store: Arc<dyn Store>,
    ) -> Result<Self> {
        let own = Party::new(&config.party).map_err(ProofError::from)?;
        let mut logs = BTreeMap::new();
        logs.insert(
            own.clone(),
            HeldLog {
                id: store.log_id_existing(&config.origin)?,
                origin: config.origin.clone(),
            },
        );
        for m in crate::dir::mirrors_in(dir, &*store) {
            logs.insert(
                m.party,
                HeldLog {
                    id: m.log,
                    origin: m.origin,
                },
            );
        }
        let peer_witnesses = dir
            .pinned()
            .iter()
            .filter_map(|id| NoteVerifier::from_vkey(&id.witness_key).ok())
            .map(|w| w.name().to_owned())
            .collect();
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
        let e = SignedEntry::from_leaf(&l.leaf).map_err(ProofError::from)?;
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
        let path = self.dir.witness_key();
        let t = std::fs::read_to_string(&path).map_err(|source| ProofError::ReadWitnessKey {
            path: path.clone(),
            source,
        })?;
        Ok(NoteKey::from_skey(t.trim()).map_err(|source| ProofError::Key { path, source })?)
    }

    /// Every agreement held here (from every log), folded, with its proposal's id.
    pub(crate) fn agreements(&self) -> Result<Vec<(Agreement, Party, u64)>> {
        let mut entries = Vec::new();
        for log in self.logs.values() {
            for l in self
                .store
                .leaves_of_kind(log.id, Kind::Agreement.as_str())?
            {
                entries.push((
                    l.index,
                    SignedEntry::from_leaf(&l.leaf).map_err(ProofError::from)?,
                ));
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
            let e = SignedEntry::from_leaf(&leaf).map_err(ProofError::from)?;
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
        let path = self.dir.log_key();
        let t = std::fs::read_to_string(&path).map_err(|source| ProofError::ReadKey {
            path: path.clone(),
            source,
        })?;
        let log_key =
            NoteKey::from_skey(t.trim()).map_err(|source| ProofError::Key { path, source })?;
        keys.push(log_key.verifier());
        keys.push(self.witness_key()?.verifier());
        for id in self.dir.pinned() {
            keys.extend(NoteVerifier::from_vkey(&id.log_key));
            keys.extend(NoteVerifier::from_vkey(&id.witness_key));
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
            Err(e @ BundleError::NotBracketed(_)) => Err(ProofError::NotYetCosigned(e).into()),
            Err(e) => Err(ProofError::WouldNotVerify(e).into()),
        }
    }
}
