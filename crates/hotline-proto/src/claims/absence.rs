//! `hotline/absence/v1`: no entry of a kind on a channel became visible in a
//! log between two cosigned checkpoints that bracket a window.
//!
//! ```text
//! {"bundle": "hotline/absence/v1",
//!  "origin": "hotline/us", "kind": "inquiry", "from": "us/fbi", "to": "ru/fsb",
//!  "since": "2021-07-01T00:00:00Z", "until": "2021-08-01T00:00:00Z",
//!  "start": "<checkpoint A>", "end": "<checkpoint B>",
//!  "frontier": ["<base64 hash>", …], "leaves": ["<base64 leaf>", …]}
//! ```
//!
//! A pinned witness cosigned A at or before `since` and B at or after
//! `until`; the leaves are exactly those between A and B (see
//! [`super::range`]); none of them is of `kind` from `from` to `to`. Every
//! leaf whose header says it is one refutes the claim, whatever its date:
//! the header is what the log committed to.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::range::{ProvedRange, RangeJson, check_range, clocks, end_from, start_by};
use super::{ABSENCE_V1, LogRange, fmt_cosign, from_slice, malformed, mismatch, to_json};
use crate::bundle::{BundleError, Keyring, origin_party};
use crate::checkpoint::Cosignature;
use crate::entry::{Kind, SignedEntry};
use crate::name::Office;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AbsenceJson {
    bundle: String,
    origin: String,
    kind: Kind,
    from: Office,
    to: Office,
    since: Timestamp,
    until: Timestamp,
    start: String,
    end: String,
    #[serde(deserialize_with = "crate::limits::frontier")]
    frontier: Vec<String>,
    #[serde(deserialize_with = "crate::limits::leaves")]
    leaves: Vec<String>,
}

/// What an absence bundle claims: no `kind` from `from` to `to` in the log
/// `origin` between `since` and `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbsenceClaim {
    /// The log (checkpoint origin), the log of `from`'s party.
    pub origin: String,
    /// The kind of entry claimed absent.
    pub kind: Kind,
    /// The sending office.
    pub from: Office,
    /// The addressed office.
    pub to: Office,
    /// The window's start.
    pub since: Timestamp,
    /// The window's end.
    pub until: Timestamp,
}

/// Writes an absence bundle: the claim, and the run of the log from a
/// checkpoint cosigned at or before `since` to one cosigned at or after
/// `until`.
pub fn absence_bundle(claim: &AbsenceClaim, range: &LogRange) -> String {
    let r = RangeJson::from(range);
    to_json(&AbsenceJson {
        bundle: ABSENCE_V1.into(),
        origin: claim.origin.clone(),
        kind: claim.kind,
        from: claim.from.clone(),
        to: claim.to.clone(),
        since: claim.since,
        until: claim.until,
        start: r.start,
        end: r.end,
        frontier: r.frontier,
        leaves: r.leaves,
    })
}

/// An absence proved.
#[derive(Clone, Debug)]
pub struct ProvedAbsence {
    /// The claim.
    pub claim: AbsenceClaim,
    /// The disclosed run of the log.
    pub range: ProvedRange,
    /// The cosignature on the start checkpoint at or before `since`.
    pub start_cosignature: Cosignature,
    /// The cosignature on the end checkpoint at or after `until`.
    pub end_cosignature: Cosignature,
}

/// Whether `e` is of `kind` from `from` to `to`.
pub(crate) fn matches(e: &SignedEntry, kind: Kind, from: &Office, to: &Office) -> bool {
    let h = e.header();
    h.kind == kind && h.from == from.as_str() && h.to.as_ref() == Some(to)
}

/// Checks the claim against a proved run: brackets and every leaf.
pub(crate) fn check(claim: AbsenceClaim, range: ProvedRange) -> Result<ProvedAbsence, BundleError> {
    if range.origin != claim.origin {
        return Err(mismatch(format!(
            "the checkpoints are of {}, not of the claimed log {}",
            range.origin, claim.origin
        )));
    }
    let start_cosignature = start_by(&range, claim.since, "start")?;
    let end_cosignature = end_from(&range, claim.until, "end")?;
    for (index, e) in range.indexed() {
        if matches(e, claim.kind, &claim.from, &claim.to) {
            return Err(BundleError::Contradicted {
                entry: format!("{}:{index}", range.party()),
                why: format!(
                    "it is {} {} from {} to {}, dated {} by its writer",
                    if claim.kind.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    },
                    claim.kind,
                    claim.from,
                    claim.to,
                    e.header().time
                ),
            });
        }
    }
    Ok(ProvedAbsence {
        claim,
        range,
        start_cosignature,
        end_cosignature,
    })
}

/// Verifies an absence bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedAbsence, BundleError> {
    let j: AbsenceJson = from_slice(bytes)?;
    if j.from.party().as_str() != origin_party(&j.origin) {
        return Err(malformed(format!(
            "an entry from {} can only be in the log of {}, not in {}",
            j.from,
            j.from.party(),
            j.origin
        )));
    }
    if j.since > j.until {
        return Err(malformed(format!(
            "since ({}) is after until ({})",
            j.since, j.until
        )));
    }
    let claim = AbsenceClaim {
        origin: j.origin,
        kind: j.kind,
        from: j.from,
        to: j.to,
        since: j.since,
        until: j.until,
    };
    let r = RangeJson {
        start: j.start,
        end: j.end,
        frontier: j.frontier,
        leaves: j.leaves,
    };
    let range = check_range(r, keys, "disclosed range")?;
    check(claim, range)
}

impl ProvedAbsence {
    /// The proved claim in one sentence.
    pub fn sentence(&self) -> String {
        let c = &self.claim;
        let (a, b) = (&self.start_cosignature, &self.end_cosignature);
        let n = self.range.entries.len();
        let disclosed = match n {
            0 => format!(
                "the log appended nothing in that span (it stayed at size {})",
                self.range.start.size
            ),
            1 => format!(
                "the one entry appended in that span ({}) is disclosed (header only, content sealed) and is not one",
                self.range.span()
            ),
            _ => format!(
                "all {n} entries appended in that span ({}) are disclosed (headers only, contents sealed) and none is one",
                self.range.span()
            ),
        };
        format!(
            "No {} from {} to {} became visible in log {} between {} and {} ({}), a span that covers {} – {}: {disclosed}. The times rest on the cosigners' clocks, not on the log's.",
            c.kind,
            c.from,
            c.to,
            c.origin,
            fmt_cosign(a),
            fmt_cosign(b),
            clocks(a, b),
            c.since,
            c.until,
        )
    }
}
