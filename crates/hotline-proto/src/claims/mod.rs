//! Claims about the channel, as proof bundles a third party checks offline
//! (docs/agreements.md, "Proof bundles").
//!
//! Each bundle is a JSON object whose `bundle` field names its type. Every
//! single entry inside one is an [`EntryProof`], exactly as the inclusion
//! bundle holds it:
//!
//! ```text
//! {"entry": "<C2SP tlog-proof, extra = the leaf>",
//!  "signer_key": "<tlog-proof of the key entry announcing the signing office>"}
//! ```
//!
//! (`signer_key` is absent for entries the party signs with its log key.)
//! Runs of a log disclosed in full use one structure, [`RangeJson`]:
//!
//! ```text
//! {"start": "<checkpoint A: signed note with cosignatures>",
//!  "end": "<checkpoint B>",
//!  "frontier": ["<base64 hash>", …],   // the perfect subtrees of [0, A.size), left to right
//!  "leaves": ["<base64 leaf>", …]}      // every leaf A.size .. B.size, in order
//! ```
//!
//! The verifier folds the frontier to A's root, appends every leaf and must
//! arrive at B's root, so the disclosed leaves are exactly what the log
//! appended between the two checkpoints: nothing left out, nothing added.
//! Leaves are signed headers; contents stay sealed.
//!
//! The bundles:
//!
//! - [`delivery`] `hotline/delivery/v1`: an entry in the sender's log and the
//!   receiver's receipt for it in the receiver's log.
//! - [`answered`] `hotline/answered/v1`: an inquiry, the agreement it was sent
//!   under, its acknowledgements and answers, and whether each deadline was met.
//! - [`absence`] `hotline/absence/v1`: no entry of a kind on a channel became
//!   visible in a log between two cosigned checkpoints.
//! - [`stats`] `hotline/stats/v1`: a month of one channel, every count backed
//!   by disclosed leaves of both logs.
//! - [`opening`] `hotline/opening/v1`: one entry's plaintext, matched against
//!   its logged commitment.
//! - [`statement`] `hotline/statement/v1`: a statement's text, signed by the
//!   proposing office and, when joint, endorsed by its counterpart.
//!
//! Time: entries carry their writer's clock, cosignatures their witness's.
//! Claims about *when something became visible* rest on cosignatures by
//! pinned witnesses, and every sentence names whose clock it is. A party's
//! witness is named `<its log origin>/witness` (`hotline/ru` →
//! `hotline/ru/witness`); a cosignature by the receiving party's witness is
//! what shows that the receiving party was shown a checkpoint.
//!
//! What the bundles cannot show: a withdrawal of an agreement is an entry in
//! either log, and only the proposal and the signature are in an
//! `answered` or `stats` bundle, so "in force" means "signed by both and
//! within its dates"; a withdrawal takes effect only after the agreement's
//! notice, which a reader can weigh.

use std::fmt::Display;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tlog_tiles::Hash;

use crate::agreement::{self, Agreement};
use crate::b64;
use crate::bundle::{
    BundleError, Keyring, ProvedEntry, TlogProof, check_signer, check_tlog_proof,
    describe_signatures,
};
use crate::checkpoint::{Cosignature, VerifiedCheckpoint};
use crate::entry::{Kind, Ref, SignedEntry};

pub mod absence;
pub mod answered;
pub mod delivery;
pub mod opening;
pub mod range;
pub mod statement;
pub mod stats;

pub use range::{LogRange, ProvedRange, RangeJson};

/// The type tag of a delivery bundle.
pub const DELIVERY_V1: &str = "hotline/delivery/v1";
/// The type tag of an answered bundle.
pub const ANSWERED_V1: &str = "hotline/answered/v1";
/// The type tag of an absence bundle.
pub const ABSENCE_V1: &str = "hotline/absence/v1";
/// The type tag of a statistics bundle.
pub const STATS_V1: &str = "hotline/stats/v1";
/// The type tag of an opening bundle.
pub const OPENING_V1: &str = "hotline/opening/v1";
/// The type tag of a statement bundle.
pub const STATEMENT_V1: &str = "hotline/statement/v1";

/// One entry with what proves it: the tlog-proof of the entry (its `extra`
/// line holds the leaf) and, when an office signed it, the tlog-proof of the
/// `key` entry that announced the office's key.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryProof {
    /// The entry's tlog-proof.
    pub entry: TlogProof,
    /// The key entry's tlog-proof; `None` when the party's log key signed.
    pub signer_key: Option<TlogProof>,
}

/// An [`EntryProof`] as a bundle carries it: tlog-proof texts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryProofJson {
    /// The entry's tlog-proof text.
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    pub entry: String,
    /// The key entry's tlog-proof text.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::limits::opt_tlog_proof_text"
    )]
    pub signer_key: Option<String>,
}

impl From<&EntryProof> for EntryProofJson {
    fn from(p: &EntryProof) -> Self {
        Self {
            entry: p.entry.to_text(),
            signer_key: p.signer_key.as_ref().map(TlogProof::to_text),
        }
    }
}

impl EntryProofJson {
    /// Checks the proof: checkpoint signatures, Merkle inclusion, the leaf,
    /// and the entry's signature (under the log key or the announced office
    /// key). Errors say which `part` of the bundle failed.
    pub fn check(&self, keys: &Keyring, part: &str) -> Result<ProvedEntry, BundleError> {
        let inner = || {
            let p = TlogProof::parse(&self.entry, "entry")?;
            let signer = self
                .signer_key
                .as_deref()
                .map(|t| TlogProof::parse(t, "signer_key"))
                .transpose()?;
            let (entry, checkpoint) = check_tlog_proof(&p, keys, "entry")?;
            let key_index = check_signer(&entry, p.index, &checkpoint, signer.as_ref(), keys)?;
            Ok(ProvedEntry {
                entry,
                index: p.index,
                checkpoint,
                key_index,
                key_through: None,
            })
        };
        inner().map_err(|e| within(part, e))
    }
}

/// Wraps an error with the part of the bundle it happened in.
pub(crate) fn within(part: &str, e: BundleError) -> BundleError {
    BundleError::In {
        part: part.to_owned(),
        source: Box::new(e),
    }
}

pub(crate) fn malformed(e: impl Display) -> BundleError {
    BundleError::Malformed(e.to_string())
}

pub(crate) fn mismatch(why: impl Into<String>) -> BundleError {
    BundleError::Mismatch(why.into())
}

pub(crate) use crate::bundle::from_slice;

pub(crate) fn to_json(v: &impl Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// The cosigner name of a party's witness: `<origin>/witness`. Fixed by the
/// party's identity (nodes refuse to open or pin any other), so that a
/// cosignature can be told to be that party's by its name alone.
pub fn witness_of(origin: &str) -> String {
    format!("{origin}/witness")
}

/// An entry's id, `party:index`.
pub fn entry_id(e: &SignedEntry, index: u64) -> String {
    format!("{}:{index}", e.header().log)
}

/// The id of a proved entry.
pub fn id(p: &ProvedEntry) -> String {
    entry_id(&p.entry, p.index)
}

/// The reference another entry makes to this one (log, index, leaf hash).
pub fn reference(e: &SignedEntry, index: u64) -> Ref {
    Ref {
        log: e.header().log.clone(),
        index,
        leaf_hash: b64::encode(e.leaf_hash().0),
    }
}

/// Whether `e`'s first reference is exactly `r`.
pub(crate) fn refers_to(e: &SignedEntry, r: &Ref) -> bool {
    e.header().refs.first() == Some(r)
}

/// The earliest cosignature by `name` on a checkpoint.
pub(crate) fn cosigned_by<'a>(cp: &'a VerifiedCheckpoint, name: &str) -> Option<&'a Cosignature> {
    cp.cosignatures
        .iter()
        .filter(|c| c.name == name)
        .min_by_key(|c| c.time)
}

/// A cosignature time as a timestamp, if it is one.
pub(crate) fn cosign_time(c: &Cosignature) -> Option<Timestamp> {
    i64::try_from(c.time)
        .ok()
        .and_then(|t| Timestamp::from_second(t).ok())
}

/// A cosignature time in RFC 3339.
pub(crate) fn fmt_cosign(c: &Cosignature) -> String {
    if c.name == range::BEGINNING {
        return range::BEGINNING.to_owned();
    }
    cosign_time(c).map_or_else(|| c.time.to_string(), |t| t.to_string())
}

/// `3d 2h 5m 1s`, or `0s`.
pub fn fmt_duration(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let mut s = secs.unsigned_abs();
    let mut parts = vec![];
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s >= n {
            parts.push(format!("{}{unit}", s / n));
            s %= n;
        }
    }
    if parts.is_empty() {
        return "0s".into();
    }
    format!("{sign}{}", parts.join(" "))
}

/// "an inquiry from us/fbi to ru/fsb".
pub(crate) fn describe(e: &SignedEntry) -> String {
    let h = e.header();
    let kind = h.kind.as_str();
    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    let to =
        h.to.as_ref()
            .map(|t| format!(" to {t}"))
            .unwrap_or_default();
    format!("{article} {kind} from {}{to}", h.from)
}

/// "tree of size 18, checkpoint signed by hotline/us; cosigned by …", plus,
/// when `witness` (of `party`) did not cosign it, a plain statement that
/// this evidence does not show `party` was shown that tree.
pub(crate) fn under(cp: &VerifiedCheckpoint, party: &str, witness: &str) -> String {
    let mut s = format!("tree of size {}, {}", cp.size, describe_signatures(cp));
    if cosigned_by(cp, witness).is_none() {
        s += &format!(
            "; not cosigned by {party}'s witness {witness}, so this evidence does not show that {party} was shown it"
        );
    }
    s
}

/// When the tree holding an entry is first shown cosigned: "a tree holding
/// it was cosigned by X at T" — or that no pinned witness did.
pub(crate) fn visible(cp: &VerifiedCheckpoint) -> String {
    match cp.cosignatures.iter().min_by_key(|c| c.time) {
        Some(c) => format!(
            "a tree holding it was cosigned by {} at {}",
            crate::bundle::describe_cosigner(&c.name),
            fmt_cosign(c)
        ),
        None => "no pinned witness cosigned a tree holding it".into(),
    }
}

/// Checks an agreement's proposal and the counterparty's signature, and
/// folds them into the agreement.
pub(crate) fn check_agreement(
    proposal: &ProvedEntry,
    signature: &ProvedEntry,
) -> Result<Agreement, BundleError> {
    let pid = id(proposal);
    let h = proposal.entry.header();
    if h.kind != Kind::Agreement {
        return Err(mismatch(format!(
            "agreement {pid} is {}, not an agreement proposal",
            describe(&proposal.entry)
        )));
    }
    if h.status.as_deref() != Some(agreement::status::PROPOSED) {
        return Err(mismatch(format!(
            "agreement {pid} has status {:?}, not \"proposed\"",
            h.status.as_deref().unwrap_or("")
        )));
    }
    let terms = h
        .terms
        .as_ref()
        .ok_or_else(|| mismatch(format!("agreement {pid} carries no terms")))?;
    terms
        .validate()
        .map_err(|e| mismatch(format!("agreement {pid}: {e}")))?;
    if h.from != h.log.as_str() {
        return Err(mismatch(format!(
            "agreement {pid} is written by {}, not by party {}",
            h.from, h.log
        )));
    }
    let sid = id(signature);
    let g = signature.entry.header();
    if g.kind != Kind::Agreement || g.status.as_deref() != Some(agreement::status::SIGNED) {
        return Err(mismatch(format!(
            "agreement_signature {sid} is not an agreement entry with status \"signed\""
        )));
    }
    if !refers_to(
        &signature.entry,
        &reference(&proposal.entry, proposal.index),
    ) {
        return Err(mismatch(format!(
            "agreement_signature {sid} does not reference the proposal {pid} (by index and leaf hash)"
        )));
    }
    let folded = agreement::fold([
        (proposal.index, &proposal.entry),
        (signature.index, &signature.entry),
    ]);
    let a = folded
        .into_iter()
        .find(|a| a.id == pid)
        .ok_or_else(|| mismatch(format!("agreement {pid} is not a valid proposal")))?;
    if a.signed_at.is_none() {
        return Err(mismatch(format!(
            "agreement_signature {sid} is not the signature of {pid}'s counterparty {} in its own log",
            a.counterparty
        )));
    }
    Ok(a)
}

/// Whether the agreement is between these two parties.
pub(crate) fn between(a: &Agreement, x: &str, y: &str) -> bool {
    let (p, c) = (a.proposer.as_str(), a.counterparty.as_str());
    (p == x && c == y) || (p == y && c == x)
}

/// "agreement us:3 ("Title", proposed by us, signed by ru)".
pub(crate) fn describe_agreement(a: &Agreement) -> String {
    let title = serde_json::to_string(&a.terms.title).unwrap_or_default();
    format!(
        "agreement {} ({title}, proposed by {} and signed by {})",
        a.id, a.proposer, a.counterparty
    )
}

/// A deadline of an inquiry and how it was kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// The agreed limit in seconds, counted from the inquiry's time; `None`
    /// when the agreement sets none.
    pub within_secs: Option<u64>,
    /// The first response that counts (id and writer time), if any.
    pub first: Option<(String, Timestamp)>,
    /// Seconds from the inquiry's time to the first response's (writer clocks).
    pub delay_secs: Option<i64>,
    /// Whether the first response came within the limit (`None` without a
    /// limit or without a response).
    pub met: Option<bool>,
}

impl Deadline {
    pub(crate) fn new(
        inquiry_time: Timestamp,
        within_secs: Option<u64>,
        first: Option<(String, Timestamp)>,
    ) -> Self {
        let delay_secs = first
            .as_ref()
            .map(|(_, t)| t.as_second() - inquiry_time.as_second());
        let met = match (within_secs, delay_secs) {
            (Some(w), Some(d)) => Some(d <= i64::try_from(w).unwrap_or(i64::MAX)),
            _ => None,
        };
        Self {
            within_secs,
            first,
            delay_secs,
            met,
        }
    }

    /// When the deadline falls, if there is one.
    pub fn due(&self, inquiry_time: Timestamp) -> Option<Timestamp> {
        let w = i64::try_from(self.within_secs?).ok()?;
        inquiry_time
            .checked_add(jiff::SignedDuration::from_secs(w))
            .ok()
    }

    /// Whether the first response came in time (a deadline-free agreement
    /// counts any response as in time).
    pub fn in_time(&self) -> bool {
        self.first.is_some() && self.met != Some(false)
    }
}

/// Hashes as a bundle carries them.
pub(crate) fn encode_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| b64::encode(h.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_plainly() {
        assert_eq!(fmt_duration(0), "0s");
        assert_eq!(fmt_duration(59), "59s");
        assert_eq!(fmt_duration(3600), "1h");
        assert_eq!(fmt_duration(86_400 + 7_384), "1d 2h 3m 4s");
        assert_eq!(fmt_duration(-61), "-1m 1s");
    }
}
