//! Federation: two (or more) parties' nodes on the line.
//!
//! - [`link`]: the handles federation runs on: what it reads, appends, signs with.
//! - [`wire`]: what nodes send each other.
//! - [`addresses`]: a peer's addresses (its replicas), tried in turn.
//! - [`mirror`]: receiving a peer's log; every entry verified before it is kept.
//! - [`receipts`]: the receiver's signed receipts, exactly once per entry.
//! - [`witness`]: C2SP tlog-witness `add-checkpoint`, both sides.
//! - [`outbox`]: pushing the own log and asking for cosignatures, with backfill.
//! - [`budget`]: how many receipts one peer may make this node owe per window.
//! - [`evidence`]: equivocation bundles from what a node holds.
//! - [`own_time`]: the own witness key's cosignature of the own checkpoint.
//! - [`signal`]: call signalling between two consoles, over the peer link.
//! - [`status`]: what `hotline status` shows per peer, and its gauges.
//! - [`routes`]: the peer-facing HTTP routes.
//!
//! Each pinned peer both mirrors this party's log and witnesses it; a third
//! party (an ally, an international body) is pinned the same way by both
//! sides and becomes a witness of both logs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use hotline_proto::checkpoint::CheckpointError;
use hotline_proto::entry::EntryError;
use hotline_proto::keylog::{KeyLog, KeyRefusal};
use hotline_proto::keys::{KeyError, NoteVerifier, PartyIdentity};
use hotline_proto::party::{NameError, Office, Party};
use hotline_proto::tree::TreeError;
use jiff::Timestamp;
use serde::Serialize;

use crate::sequencer::AppendError;
use crate::store::{LogId, StoreError};
pub mod addresses;
pub mod budget;
pub mod evidence;
pub mod link;
pub mod mirror;
pub mod outbox;
pub mod own_time;
pub mod receipts;
pub mod routes;
pub mod signal;
pub mod status;
pub mod wire;
pub mod witness;

pub use link::Link;

/// Why a federation step failed.
///
/// The first variants are messages written where the refusal is decided;
/// the others keep the error behind them as their source, in the same
/// words as the message they replace. [`routes`] chooses the HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FedError {
    /// The request is well-formed but wrong (bad signature, wrong position, …): 422.
    #[error("{0}")]
    Invalid(String),
    /// The request is not from or about a party this node pins: 403.
    #[error("{0}")]
    Forbidden(String),
    /// Unknown log or peer: 404.
    #[error("{0}")]
    NotFound(String),
    /// Over a stated limit: 413.
    #[error("{0}")]
    TooLarge(String),
    /// The peer answered with a refusal.
    #[error("{0}")]
    Refused(String),
    /// An internal failure with no error of its own behind it: 500.
    #[error("{0}")]
    Internal(String),
    /// A pushed entry is not an entry, or its signature does not verify: 422.
    #[error("entry {index}: {source}")]
    BadEntry {
        /// Its index in the pushed log.
        index: u64,
        /// Why.
        #[source]
        source: EntryError,
    },
    /// A pushed entry is signed by a key its log's key history does not
    /// let stand: 422.
    #[error("entry {index}: {source}")]
    KeyRefused {
        /// Its index in the pushed log.
        index: u64,
        /// Why.
        #[source]
        source: KeyRefusal,
    },
    /// A pushed `key` entry announces keys nobody can verify with or seal
    /// to: 422.
    #[error("entry {index}: the keys it announces for {office}: {source}")]
    AnnouncedKeys {
        /// Its index in the pushed log.
        index: u64,
        /// The office it announces keys for.
        office: Office,
        /// Why they are unusable.
        #[source]
        source: KeyError,
    },
    /// A pinned identity's log or cosigner key is not a usable key: 422.
    #[error("{0}")]
    PinnedKey(#[source] KeyError),
    /// A witness's cosignature does not verify: 422.
    #[error("cosignature from {who}: {source}")]
    Cosignature {
        /// The witness: a peer party, or a C2SP witness's key name.
        who: String,
        /// Why.
        #[source]
        source: CheckpointError,
    },
    /// A push's checkpoint is not signed by the pinned log key: 403.
    #[error("push checkpoint: {0}")]
    PushCheckpoint(#[source] CheckpointError),
    /// The peer's certificate names no valid party: 403.
    #[error("{0}")]
    PeerName(#[source] NameError),
    /// The peer could not be reached.
    #[error("peer unreachable: {0}")]
    Unreachable(#[source] addresses::Unreached),
    /// Storage failed: 500. Nothing was half-written.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// An entry this node holds (own or mirrored) does not read back: 500.
    #[error("{what} {index}: {source}")]
    HeldEntry {
        /// Whose ("own entry", "mirror entry").
        what: &'static str,
        /// Its index in its log.
        index: u64,
        /// Why it does not parse.
        #[source]
        source: EntryError,
    },
    /// The mirror's stored time of its last entry does not parse: 500.
    #[error("the mirror's last entry time {time:?}: {source}")]
    MirrorTime {
        /// The stored text.
        time: String,
        /// Why.
        #[source]
        source: jiff::Error,
    },
    /// The tree of a held log cannot be read: 500.
    #[error("{0}")]
    Tree(#[from] TreeError),
    /// Signing or editing a checkpoint note failed: 500.
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    /// The sequencer did not write a receipt: 500.
    #[error("writing a receipt: {0}")]
    Receipt(#[source] AppendError),
    /// The own log has no signed checkpoint yet: 500.
    #[error("log {0} has no checkpoint yet")]
    NoCheckpoint(String),
    /// Encoding a push as JSON failed: 500.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// A blocking task panicked or was cancelled: 500.
    #[error("{0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The state of the link to one peer, as `hotline status` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct LinkState {
    /// Whether the last exchange with the peer worked.
    pub up: bool,
    /// Since when it has been in that state.
    pub since: Timestamp,
    /// The last error, while down.
    pub last_error: Option<String>,
    /// How much of the own log the peer's mirror holds, as last heard.
    pub delivered: Option<u64>,
    /// The witness time of the peer's last cosignature of the own log.
    pub last_cosigned: Option<u64>,
}

/// A pinned peer and what this node keeps about it.
pub struct Peer {
    /// The party.
    pub party: Party,
    /// Its pinned identity.
    pub identity: PartyIdentity,
    /// Its log key.
    pub log_key: NoteVerifier,
    /// Its cosigner key.
    pub witness_key: NoteVerifier,
    /// This node's mirror of its log.
    pub mirror: LogId,
    /// Serialises changes to the mirror. Shared with the record it replaces
    /// when a peer is re-pinned.
    pub mirror_lock: Arc<tokio::sync::Mutex<()>>,
    /// The office keys its log announced, rotated and revoked, as far as the
    /// verified mirror holds it: what this node verifies its entries with,
    /// seals to its offices with, and checks policy against. Loaded from the
    /// mirror when the peer is pinned or the node starts, replaced under
    /// `mirror_lock` as pushes are accepted; shared like `mirror_lock`.
    pub keys: Arc<std::sync::RwLock<KeyLog>>,
    /// The index of its log as the verified mirror holds it: loaded at the
    /// first push or cosignature request, then moved forward as pushes are
    /// stored (under `mirror_lock`); shared like `mirror_lock`.
    pub index: Arc<Mutex<Option<(LogId, crate::indexes::LogIndex)>>>,
    /// Serialises receipt issuing (shared like `mirror_lock`).
    pub receipt_lock: Arc<tokio::sync::Mutex<()>>,
    /// Wakes the cosign loop early.
    pub cosign_now: tokio::sync::Notify,
    /// Its node's addresses and their clients, when it has a URL (and a
    /// TLS pin): every request to it goes through them.
    pub client: Option<addresses::Addresses>,
    /// The receipts it made this node owe in the current window (changed
    /// only with `mirror_lock` held).
    pub receipts: Mutex<budget::ReceiptWindow>,
    link: Mutex<LinkState>,
    /// Until when it asked this node to hold back pushes (429), if it did.
    paced_until: Mutex<Option<Timestamp>>,
}

/// The entry of leaf `l`, which this node holds: one that does not read
/// back is [`FedError::HeldEntry`], named `what` ("own entry", "mirror entry").
pub(crate) fn held_entry(
    l: &crate::store::StoredLeaf,
    what: &'static str,
) -> Result<hotline_proto::entry::SignedEntry, FedError> {
    hotline_proto::entry::SignedEntry::from_leaf(&l.leaf).map_err(|source| FedError::HeldEntry {
        what,
        index: l.index,
        source,
    })
}

impl Peer {
    /// Builds the record of a pinned peer.
    pub fn new(
        identity: PartyIdentity,
        mirror: LogId,
        client: Option<addresses::Addresses>,
        replaces: Option<&Peer>,
    ) -> Result<Self, FedError> {
        let log_key = NoteVerifier::from_vkey(&identity.log_key).map_err(FedError::PinnedKey)?;
        let witness_key =
            NoteVerifier::from_vkey(&identity.witness_key).map_err(FedError::PinnedKey)?;
        Ok(Self {
            party: identity.party.clone(),
            identity,
            log_key,
            witness_key,
            mirror,
            mirror_lock: replaces.map_or_else(
                || Arc::new(tokio::sync::Mutex::new(())),
                |p| p.mirror_lock.clone(),
            ),
            keys: replaces.map_or_else(
                || Arc::new(std::sync::RwLock::new(KeyLog::new())),
                |p| p.keys.clone(),
            ),
            index: replaces.map_or_else(|| Arc::new(Mutex::new(None)), |p| p.index.clone()),
            receipt_lock: replaces.map_or_else(
                || Arc::new(tokio::sync::Mutex::new(())),
                |p| p.receipt_lock.clone(),
            ),
            cosign_now: tokio::sync::Notify::new(),
            client,
            receipts: Mutex::new(budget::ReceiptWindow::default()),
            paced_until: Mutex::new(None),
            link: Mutex::new(LinkState {
                up: false,
                since: crate::clock::now(),
                last_error: None,
                delivered: None,
                last_cosigned: None,
            }),
        })
    }

    /// Reads the office keys learnt from its log.
    pub fn learnt_keys<R>(&self, f: impl FnOnce(&KeyLog) -> R) -> R {
        f(&self.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the learnt office keys (under `mirror_lock`, once the
    /// entries that changed them are committed).
    pub fn set_learnt_keys(&self, keys: KeyLog) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }

    /// Runs `f` on the index of its mirror (`store`'s `mirror`), loading it
    /// first if needed. Call under `mirror_lock`, from a blocking thread.
    pub fn with_index<R>(
        &self,
        store: &dyn crate::store::Store,
        f: impl FnOnce(&mut crate::indexes::LogIndex) -> Result<R, FedError>,
    ) -> Result<R, FedError> {
        let mut slot = self.index.lock().unwrap_or_else(|e| e.into_inner());
        // A re-pinned peer shares the slot; its mirror may be another log.
        if slot.as_ref().is_none_or(|(log, _)| *log != self.mirror) {
            *slot = Some((
                self.mirror,
                crate::indexes::LogIndex::load(store, self.mirror)?,
            ));
        }
        match slot.as_mut() {
            Some((_, ix)) => f(ix),
            None => Err(FedError::Internal(
                "the mirror's index is not loaded".into(),
            )),
        }
    }

    /// The link state.
    pub fn link(&self) -> LinkState {
        self.link
            .lock()
            .map(|l| l.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    fn update(&self, f: impl FnOnce(&mut LinkState)) {
        let mut l = self.link.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut l);
    }

    fn up(l: &mut LinkState) {
        if !l.up {
            l.up = true;
            l.since = crate::clock::now();
        }
        l.last_error = None;
    }

    /// Records a successful push.
    pub fn delivered(&self, size: u64) {
        self.update(|l| {
            Self::up(l);
            l.delivered = Some(size);
        });
    }

    /// Records that the peer reached this node (a push it made was answered).
    pub fn heard_from(&self) {
        self.update(Self::up);
    }

    /// Records a cosignature.
    pub fn cosigned(&self, time: u64) {
        self.update(|l| {
            Self::up(l);
            l.last_cosigned = Some(time);
        });
    }

    /// Records that the peer asked this node to wait before pushing more
    /// (its receipts budget): the link is up, nothing is lost.
    pub fn paced(&self, until: Timestamp) {
        self.update(Self::up);
        *self.paced_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(until);
    }

    /// Until when the peer asked this node to hold back, while it still does.
    pub fn paced_until(&self) -> Option<Timestamp> {
        let until = *self.paced_until.lock().unwrap_or_else(|e| e.into_inner());
        until.filter(|t| *t > crate::clock::now())
    }

    /// Records a failure.
    pub fn link_down(&self, why: &str) {
        self.update(|l| {
            if l.up || l.last_error.is_none() {
                tracing::warn!(error = why, "link down");
            }
            if l.up {
                l.up = false;
                l.since = crate::clock::now();
            }
            l.last_error = Some(why.to_owned());
        });
    }
}

/// Every pinned peer.
#[derive(Default)]
pub struct Federation {
    peers: RwLock<BTreeMap<Party, Arc<Peer>>>,
}

impl Federation {
    /// Adds or replaces a peer.
    pub fn insert(&self, peer: Arc<Peer>) {
        if let Ok(mut p) = self.peers.write() {
            p.insert(peer.party.clone(), peer);
        }
    }

    /// A peer by party.
    pub fn peer(&self, party: &Party) -> Option<Arc<Peer>> {
        self.peers.read().ok()?.get(party).cloned()
    }

    /// The peer whose log has this origin.
    pub fn peer_by_origin(&self, origin: &str) -> Option<Arc<Peer>> {
        self.peers
            .read()
            .ok()?
            .values()
            .find(|p| p.log_key.name() == origin)
            .cloned()
    }

    /// Whether `peer` is still the current record of its party (a re-pinned
    /// peer's old loops stop when it is not).
    pub fn is_current(&self, peer: &Arc<Peer>) -> bool {
        self.peer(&peer.party)
            .is_some_and(|p| Arc::ptr_eq(&p, peer))
    }

    /// Every peer.
    pub fn all(&self) -> Vec<Arc<Peer>> {
        self.peers
            .read()
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// Starts the loops for one peer: push and cosign (when it has a URL), a first
/// round of receipts (catching up after a restart), and the status gauges.
pub fn start_peer(link: &Link, peer: Arc<Peer>, shutdown: tokio::sync::watch::Receiver<bool>) {
    if peer.client.is_some() {
        tokio::spawn(outbox::push_loop(
            link.clone(),
            peer.clone(),
            shutdown.clone(),
        ));
        let every = std::time::Duration::from_secs(link.settings.cosign_interval_secs.max(1));
        tokio::spawn(outbox::cosign_loop(
            link.clone(),
            peer.clone(),
            every,
            shutdown.clone(),
        ));
    }
    let (l, p) = (link.clone(), peer.clone());
    tokio::spawn(async move {
        if let Err(e) = receipts::issue(&l, &p).await {
            tracing::error!(error = %e, peer = %p.party, "issuing receipts");
        }
    });
    tokio::spawn(status::metrics_loop(link.clone(), peer, shutdown));
}
