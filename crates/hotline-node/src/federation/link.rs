//! The handles federation runs on: what it reads, what it appends, what it
//! signs with, what it tells the rest of the node, and the settings it obeys.
//!
//! The node builds one [`Link`] when it opens, from its own parts; the loops
//! and the peer routes hold clones of it, never the node, so what federation
//! may touch is written in these types rather than spread over `Node`'s
//! methods. The public functions the API, the console and the CLI call
//! (peer status, call signals) take anything holding a `Link`, the node
//! included.

use std::sync::Arc;

use hotline_proto::agreement::Agreement;
use hotline_proto::entry::{KeyAction, Kind};
use hotline_proto::keys::{NoteKey, NoteVerifier, OfficeKeys};
use hotline_proto::party::{Office, Party};
use jiff::Timestamp;

use super::signal::Signal;
use super::{FedError, Federation};
use crate::error::{NodeError, Result};
use crate::metrics::Metrics;
use crate::offices::{OwnOffices, Signing};
use crate::sequencer::{AppendError, Appended, Draft, Sequencer, Signer};
use crate::store::{LogId, Store};

/// Everything a federation loop or peer route is given, cheap to clone.
#[derive(Clone)]
pub struct Link {
    pub(crate) reads: Holdings,
    pub(crate) appends: Appender,
    pub(crate) signs: Signers,
    pub(crate) tells: Notices,
    pub(crate) settings: Settings,
}

/// The loops call the same public functions as the node's holders do.
impl AsRef<Link> for Link {
    fn as_ref(&self) -> &Link {
        self
    }
}

/// What federation reads: the own log, the pinned peers and their mirrors,
/// and the agreements those logs hold. It writes to the store only what is
/// federation's own (mirrored entries, witness state, cosignatures,
/// evidence), never the own log.
#[derive(Clone)]
pub(crate) struct Holdings {
    pub(crate) store: Arc<dyn Store>,
    /// The own log.
    pub(crate) own: LogId,
    /// The own log's origin.
    pub(crate) origin: String,
    /// This party.
    pub(crate) party: Party,
    /// The own log key, to tell which stored checkpoints are its own.
    pub(crate) log_key: NoteVerifier,
    /// The own log's size as the sequencer moves it.
    pub(crate) sizes: tokio::sync::watch::Receiver<u64>,
    /// The pinned peers (shared with the node, which pins them).
    pub(crate) peers: Arc<Federation>,
    /// The own offices, for which of them the own log revoked.
    pub(crate) offices: OwnOffices,
    /// The agreements as last folded from those logs.
    pub(crate) folded: Arc<crate::agreements::Folded>,
}

impl Holdings {
    /// The own log's latest signed checkpoint.
    pub(crate) fn own_checkpoint(&self) -> Result<(u64, Vec<u8>), FedError> {
        self.store
            .latest_checkpoint(self.own)?
            .ok_or_else(|| FedError::NoCheckpoint(self.origin.clone()))
    }

    /// The add-checkpoint proof of the own log from `old` to `size`: empty
    /// from 0 or to the same size, as C2SP tlog-witness has it.
    pub(crate) fn own_consistency(
        &self,
        old: u64,
        size: u64,
    ) -> Result<Vec<hotline_proto::Hash>, hotline_proto::tree::TreeError> {
        if old == 0 || old == size {
            return Ok(Vec::new());
        }
        hotline_proto::tree::prove_consistency(
            &crate::store::HashesOf {
                store: &*self.store,
                log: self.own,
            },
            old,
            size,
        )
    }

    /// The store id of a party's log: the own log or a pinned peer's mirror.
    pub(crate) fn log_of(&self, party: &Party) -> Result<LogId> {
        if party == &self.party {
            Ok(self.own)
        } else {
            self.peers
                .peer(party)
                .map(|p| p.mirror)
                .ok_or_else(|| NodeError::NotFound(format!("{party} is not a pinned peer")))
        }
    }

    /// The entry of `office`'s own log that revoked it, if it was revoked:
    /// this party's log for its own offices, the verified mirror for a
    /// peer's.
    pub(crate) fn office_revoked(&self, office: &Office) -> Option<u64> {
        if office.party() == self.party {
            return self.offices.revoked(office);
        }
        self.peers.peer(&office.party())?.learnt_keys(|k| {
            k.latest(office)
                .filter(|e| e.action == KeyAction::Revoke)
                .map(|e| e.index)
        })
    }

    /// Every agreement the own log and the mirrors hold.
    pub(crate) fn agreements(&self) -> Result<Vec<Agreement>> {
        crate::agreements::held(&*self.store, self.own, &self.peers, &self.folded)
    }

    /// The agreement in force at `time` that allows a peer's `from → to`
    /// for `kind`, as the node's policy has it. Only incoming entries are
    /// judged here, whose sender the mirror checked is an office of the
    /// peer, so the revocation check of outgoing traffic does not apply.
    pub(crate) fn require_agreement(
        &self,
        from: &Office,
        to: &Office,
        kind: Kind,
        time: Timestamp,
    ) -> Result<Option<String>> {
        crate::agreements::in_force(from, to, kind, time, || self.agreements())
    }
}

/// What federation appends to the own log: receipts, through the sequencer
/// (the own log's single writer), which checks and signs them.
#[derive(Clone)]
pub(crate) struct Appender {
    pub(crate) seq: Sequencer,
}

impl Appender {
    /// Submits `drafts` as a chain (see [`Sequencer::submit_chain`]).
    pub(crate) fn chain(
        &self,
        drafts: Vec<Draft>,
    ) -> Vec<tokio::sync::oneshot::Receiver<Result<Appended, AppendError>>> {
        self.seq.submit_chain(drafts)
    }
}

/// What federation signs with: the log key for checkpoints, the witness key
/// for cosignatures, and the party's and its offices' keys for receipts
/// (with the retired keys that still open bodies sealed to an office).
#[derive(Clone)]
pub(crate) struct Signers {
    pub(crate) log: Arc<NoteKey>,
    pub(crate) witness: Arc<NoteKey>,
    pub(crate) party: Party,
    pub(crate) offices: OwnOffices,
}

impl Signers {
    /// The party as a signer (receipts for entries to offices it lacks).
    pub(crate) fn party_signer(&self) -> Signer {
        Signer::Party(self.log.clone(), self.party.clone())
    }

    /// An own office's current keys, if this node holds them and the
    /// office is not revoked.
    pub(crate) fn office(&self, office: &Office) -> Option<Arc<OfficeKeys>> {
        match self.offices.signing(office, None) {
            Signing::Key(k) => Some(k),
            _ => None,
        }
    }

    /// Every secret key that may open a body sealed to `office`.
    pub(crate) fn openers(&self, office: &Office) -> Vec<Arc<OfficeKeys>> {
        self.offices.openers(office)
    }
}

/// What federation tells the rest of the node: metrics, arrivals in the
/// mirrors (for live views), call signals (for the consoles).
#[derive(Clone)]
pub(crate) struct Notices {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) mirrored: tokio::sync::watch::Sender<u64>,
    pub(crate) signals: tokio::sync::broadcast::Sender<Signal>,
}

impl Notices {
    /// Tells live views that a mirror took new entries.
    pub(crate) fn mirrored(&self) {
        self.mirrored.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// The settings of `hotline.toml` federation obeys, copied when the node
/// opens (the configuration does not change while it runs).
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) cosign_interval_secs: u64,
    /// `[federation] push_gap_ms`.
    pub(crate) push_gap: std::time::Duration,
    /// `[federation] cosign_gap_ms`.
    pub(crate) cosign_gap: std::time::Duration,
    pub(crate) max_clock_skew_secs: u64,
    pub(crate) max_receipts_per_window: u64,
    pub(crate) receipt_window_secs: u64,
}
