//! Claims about the channel, as proof bundles a third party checks offline
//! with nothing but pinned keys (docs/claims.md).
//!
//! The rule every v2 bundle follows: **a claim holds against a party only on
//! that party's own signatures, or a neutral witness's.** A party's own
//! clock, cosignature or omission never proves anything in its favour, so
//! each sentence says whose signatures each of its parts rests on.
//!
//! - Each log a bundle discloses entries of comes with one checkpoint, whose
//!   `hotline-index` line commits to the log's index ([`crate::index`]), and
//!   the log's complete key history at it ([`history`]): every disclosed
//!   entry sits below that checkpoint and is judged against that history.
//! - Negative claims ("not within", "no entry", every count) are complete:
//!   they rest on keyed runs, which fold into the state the index commits
//!   to, so dropping any one disclosed entry makes the bundle fail.
//! - Times are consistent ([`time`]): a log's dates never go backwards, and
//!   a tree its own witness dated cannot hold a later entry.
//! - A cosigner's weight depends on its role ([`roles`]): the log's own
//!   party's witness, the claim's other party's, or a neutral one.
//! - A bundle discloses only what it is about: the entries of one key
//!   (a channel and kind, or the entries referring to one entry) and the
//!   log's key entries, never a header of another channel.
//!
//! The bundles: [`delivery`], [`answered`], [`absence`], [`stats`],
//! [`opening`], [`statement`], [`inclusion`], [`equivocation`] and
//! [`mismatch`] (a log's index contradicted by its own tree). The version-1
//! claim bundles, and inclusion v1 and v2, are refused ([`superseded`]).

use std::fmt::Display;

use jiff::Timestamp;
use serde::Serialize;

use crate::agreement::{self, Agreement};
use crate::b64;
use crate::bundle::{BundleError, ProvedEntry};
use crate::checkpoint::Cosignature;
use crate::entry::{Kind, Ref, SignedEntry};

pub mod absence;
pub mod answered;
pub mod deadline;
pub mod delivery;
pub mod equivocation;
pub mod history;
pub mod inclusion;
pub mod mismatch;
pub mod opening;
pub mod roles;
pub mod statement;
pub mod stats;
pub mod superseded;
pub mod time;

pub use history::{LogEvidence, LogJson, ProvedLog};

/// The type tag of a delivery bundle.
pub const DELIVERY_V2: &str = "hotline/delivery/v2";
/// The type tag of an answered bundle.
pub const ANSWERED_V2: &str = "hotline/answered/v2";
/// The type tag of an absence bundle.
pub const ABSENCE_V2: &str = "hotline/absence/v2";
/// The type tag of a statistics bundle.
pub const STATS_V2: &str = "hotline/stats/v2";
/// The type tag of an opening bundle.
pub const OPENING_V2: &str = "hotline/opening/v2";
/// The type tag of a statement bundle.
pub const STATEMENT_V2: &str = "hotline/statement/v2";
/// The type tag of an inclusion bundle.
pub const INCLUSION_V3: &str = "hotline/inclusion/v3";
/// The type tag of an equivocation bundle (two checkpoints that disagree).
pub const EQUIVOCATION_V2: &str = "hotline/equivocation/v2";
/// The type tag of the first equivocation bundle, which still verifies.
pub const EQUIVOCATION_V1: &str = "hotline/equivocation/v1";
/// The type tag of an index-mismatch bundle.
pub const INDEX_MISMATCH_V1: &str = "hotline/index-mismatch/v1";

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

/// A cosignature time as a timestamp, if it is one.
pub(crate) fn cosign_time(c: &Cosignature) -> Option<Timestamp> {
    i64::try_from(c.time)
        .ok()
        .and_then(|t| Timestamp::from_second(t).ok())
}

/// A time as sentences print it (RFC 3339, UTC).
pub(crate) fn fmt_time(t: Timestamp) -> String {
    t.to_string()
}

/// `t` plus `secs` seconds, saturating.
pub(crate) fn plus(t: Timestamp, secs: u64) -> Timestamp {
    i64::try_from(secs)
        .ok()
        .and_then(|s| t.checked_add(jiff::SignedDuration::from_secs(s)).ok())
        .unwrap_or(Timestamp::MAX)
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

/// "Entry us:3 — an inquiry from us/fbi to ru/fsb, dated T by its writer —
/// is in ORIGIN (tree of size N, checkpoint signed by …)": where a delivery
/// or opening sentence starts; the caller ends it.
pub(crate) fn entry_in_tree(e: &ProvedEntry) -> String {
    format!(
        "Entry {} — {}, dated {} by its writer — is in {} (tree of size {}, {})",
        id(e),
        describe(&e.entry),
        e.entry.header().time,
        e.checkpoint.origin,
        e.checkpoint.size,
        crate::bundle::describe_signatures(&e.checkpoint),
    )
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

/// Refuses the entry `p` a bundle names as its `what` ("inquiry") unless it
/// is of `kind`; `expected` says what it should be ("an inquiry").
pub(crate) fn require_kind(
    p: &ProvedEntry,
    kind: Kind,
    what: &str,
    expected: &str,
) -> Result<(), BundleError> {
    if p.entry.header().kind != kind {
        return Err(mismatch(format!(
            "{what} {} is {}, not {expected}",
            id(p),
            describe(&p.entry)
        )));
    }
    Ok(())
}

/// Checks an agreement's proposal and the counterparty's signature, and
/// folds them into the agreement.
pub(crate) fn check_agreement(
    proposal: &ProvedEntry,
    signature: &ProvedEntry,
) -> Result<Agreement, BundleError> {
    let pid = id(proposal);
    let h = proposal.entry.header();
    require_kind(
        proposal,
        Kind::Agreement,
        "agreement",
        "an agreement proposal",
    )?;
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
