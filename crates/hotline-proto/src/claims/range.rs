//! A run of one log disclosed in full, shared by the absence and statistics
//! bundles: two signed checkpoints A and B, the frontier of A, and every leaf
//! from A's size to B's. The verifier folds the frontier to A's root, appends
//! the leaves and must reach B's root; then the leaves are exactly what the
//! log appended between A and B.
//!
//! The leaves' signatures are not checked one by one (that would need every
//! office's key entry): the log's signature on B is the party's word that
//! they are its log, and a claim that none of them is of some kind is only
//! stronger for counting every leaf that says so.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tlog_tiles::Hash;

use super::{cosign_time, encode_hashes, fmt_cosign, within};
use crate::b64;
use crate::bundle::{BundleError, Keyring, describe_cosigner, origin_party};
use crate::checkpoint::{Cosignature, VerifiedCheckpoint};
use crate::entry::SignedEntry;
use crate::tree::{self, Frontier};

/// A disclosed run of a log as a bundle carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeJson {
    /// Checkpoint A, a signed note with its cosignatures.
    pub start: String,
    /// Checkpoint B.
    pub end: String,
    /// The perfect-subtree hashes of `[0, A.size)`, left to right, base64.
    #[serde(deserialize_with = "crate::limits::frontier")]
    pub frontier: Vec<String>,
    /// Every leaf from index A.size to B.size − 1, base64.
    #[serde(deserialize_with = "crate::limits::leaves")]
    pub leaves: Vec<String>,
}

/// The parts of a disclosed run, as the node supplies them to a builder.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogRange {
    /// Checkpoint A, signed note with cosignatures, verbatim.
    pub start: Vec<u8>,
    /// Checkpoint B.
    pub end: Vec<u8>,
    /// [`tree::frontier_hashes`] of A's size.
    pub frontier: Vec<Hash>,
    /// The leaves A.size .. B.size, in order.
    pub leaves: Vec<Vec<u8>>,
}

impl From<&LogRange> for RangeJson {
    fn from(r: &LogRange) -> Self {
        Self {
            start: String::from_utf8_lossy(&r.start).into_owned(),
            end: String::from_utf8_lossy(&r.end).into_owned(),
            frontier: encode_hashes(&r.frontier),
            leaves: r.leaves.iter().map(b64::encode).collect(),
        }
    }
}

/// A run of a log proved complete.
#[derive(Clone, Debug)]
pub struct ProvedRange {
    /// The log.
    pub origin: String,
    /// Checkpoint A.
    pub start: VerifiedCheckpoint,
    /// Checkpoint B.
    pub end: VerifiedCheckpoint,
    /// The entries A.size .. B.size: entry `i` is at index `start.size + i`.
    pub entries: Vec<SignedEntry>,
}

impl ProvedRange {
    /// The entries with their indexes.
    pub fn indexed(&self) -> impl Iterator<Item = (u64, &SignedEntry)> {
        (self.start.size..).zip(&self.entries)
    }

    /// The party whose log this is.
    pub fn party(&self) -> &str {
        origin_party(&self.origin)
    }

    /// "us:12–us:30", or "none" for an empty run.
    pub fn span(&self) -> String {
        let p = self.party();
        match self.entries.len() {
            0 => "none".into(),
            1 => format!("{p}:{}", self.start.size),
            _ => format!("{p}:{}–{p}:{}", self.start.size, self.end.size - 1),
        }
    }
}

fn bad(part: &str, why: String) -> BundleError {
    BundleError::Range {
        part: part.to_owned(),
        why,
    }
}

/// Checks a disclosed run of a log. Errors name `part`.
/// It takes the range by value: each disclosed leaf's text is freed as its
/// entry is parsed, so a large range is never held three times over.
pub fn check_range(r: RangeJson, keys: &Keyring, part: &str) -> Result<ProvedRange, BundleError> {
    let end = keys
        .checkpoint(r.end.as_bytes(), "end")
        .map_err(|e| within(part, e))?;
    // An empty start is the log's beginning: the empty tree is the same for
    // every log, so it needs no signature and no witness, and every entry the
    // log ever appended up to the end is disclosed.
    let start = if r.start.is_empty() {
        VerifiedCheckpoint {
            origin: end.origin.clone(),
            size: 0,
            root: tree::empty_root(),
            text: vec![],
            cosignatures: vec![],
            index: None,
        }
    } else {
        keys.checkpoint(r.start.as_bytes(), "start")
            .map_err(|e| within(part, e))?
    };
    if start.origin != end.origin {
        return Err(bad(
            part,
            format!(
                "start is a checkpoint of {} but end of {}",
                start.origin, end.origin
            ),
        ));
    }
    if start.size > end.size {
        return Err(bad(
            part,
            format!(
                "start (size {}) is larger than end (size {})",
                start.size, end.size
            ),
        ));
    }
    let expected = end.size - start.size;
    if r.leaves.len() as u64 != expected {
        return Err(bad(
            part,
            format!(
                "{} leaves are disclosed but the log appended {expected} between sizes {} and {}",
                r.leaves.len(),
                start.size,
                end.size
            ),
        ));
    }
    let hashes = r
        .frontier
        .iter()
        .map(|h| {
            b64::decode_array::<32>(h)
                .map(Hash)
                .ok_or_else(|| bad(part, "a frontier hash is not a base64 SHA-256 hash".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut frontier =
        Frontier::from_hashes(start.size, hashes).map_err(|e| bad(part, e.to_string()))?;
    if frontier.root() != start.root {
        return Err(bad(
            part,
            format!(
                "the frontier does not fold to the root of the start checkpoint (size {})",
                start.size
            ),
        ));
    }
    // Each leaf is decoded twice, to hash it and then to parse it, rather
    // than kept decoded between the two: a large range then costs its
    // bundle text and its parsed entries, not a third copy of its leaves.
    // (The root is checked before any leaf is parsed, so a tampered range
    // is named as such rather than by its first unparsable leaf.)
    let decode = |i: usize, l: &str| {
        b64::decode(l).ok_or_else(|| {
            bad(
                part,
                format!("leaf {} is not base64", start.size + i as u64),
            )
        })
    };
    for (i, l) in r.leaves.iter().enumerate() {
        frontier.push(tree::leaf_hash(&decode(i, l)?));
    }
    if frontier.root() != end.root {
        return Err(bad(
            part,
            format!(
                "the disclosed leaves do not turn the start tree (size {}) into the end checkpoint's tree (size {}): a leaf is missing, extra, altered or out of order",
                start.size, end.size
            ),
        ));
    }
    let party = origin_party(&start.origin).to_owned();
    let entries = r
        .leaves
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            SignedEntry::from_leaf(&decode(i, &l)?).map_err(|e| {
                bad(
                    part,
                    format!(
                        "leaf {party}:{} is not an entry: {e}",
                        start.size + i as u64
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProvedRange {
        origin: start.origin.clone(),
        start,
        end,
        entries,
    })
}

fn list(cp: &VerifiedCheckpoint) -> String {
    if cp.cosignatures.is_empty() {
        return "no pinned witness cosigned it".into();
    }
    let l: Vec<String> = cp
        .cosignatures
        .iter()
        .map(|c| format!("{} at {}", describe_cosigner(&c.name), fmt_cosign(c)))
        .collect();
    format!("cosigned by {}", l.join(", "))
}

/// The latest pinned cosignature on the run's start at or before `t`: a
/// witness saw the start tree by then, so every later entry became visible
/// after it.
pub fn start_by(r: &ProvedRange, t: Timestamp, part: &str) -> Result<Cosignature, BundleError> {
    if r.start.size == 0 && r.start.text.is_empty() {
        return Ok(Cosignature {
            name: BEGINNING.into(),
            time: 0,
        });
    }
    r.start
        .cosignatures
        .iter()
        .filter(|c| cosign_time(c).is_some_and(|ct| ct <= t))
        .max_by_key(|c| c.time)
        .cloned()
        .ok_or_else(|| {
            BundleError::NotBracketed(format!(
                "{part}: no pinned witness cosigned the start checkpoint (size {}) at or before {t} ({})",
                r.start.size,
                list(&r.start)
            ))
        })
}

/// The earliest pinned cosignature on the run's end at or after `t`: a
/// witness saw the end tree only then, so every entry visible before `t`
/// is in it.
pub fn end_from(r: &ProvedRange, t: Timestamp, part: &str) -> Result<Cosignature, BundleError> {
    r.end
        .cosignatures
        .iter()
        .filter(|c| cosign_time(c).is_some_and(|ct| ct >= t))
        .min_by_key(|c| c.time)
        .cloned()
        .ok_or_else(|| {
            BundleError::NotBracketed(format!(
                "{part}: no pinned witness cosigned the end checkpoint (size {}) at or after {t} ({})",
                r.end.size,
                list(&r.end)
            ))
        })
}

/// Stands for the start of a run that begins with the log itself.
pub const BEGINNING: &str = "the log's beginning";

/// "the clock of ru's witness (hotline/ru/witness)" or "the clocks of X and Y".
pub(crate) fn clocks(a: &Cosignature, b: &Cosignature) -> String {
    let (wa, wb) = (describe_cosigner(&a.name), describe_cosigner(&b.name));
    if a.name == BEGINNING {
        return format!("the clock of {wb}; the run starts at the log's beginning");
    }
    if a.name == b.name {
        format!("the clock of {wa}")
    } else {
        format!("the clocks of {wa} and {wb}")
    }
}
