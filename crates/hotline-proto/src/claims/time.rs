//! Time consistency: a log's own signed statements about time must agree.
//!
//! A log dates its entries (its writer's clock), and a cosignature by its
//! own party's witness dates a tree of it on the same party's word. Two
//! rules follow, and a bundle whose disclosed entries break either is
//! refused, since any sentence built on them could be false:
//!
//! - the dates of one log never go backwards in index order (every
//!   hotline witness refuses a backdated entry, and the sequencer never
//!   writes one);
//! - a tree cannot be dated before an entry it holds: for every cosignature
//!   of a checkpoint by the log's own witness at `T`, every disclosed entry
//!   of that tree is dated at most `T` + [`CLOCK_TOLERANCE_SECS`].
//!
//! Other parties' and neutral witnesses' times are their own clocks; a log
//! dating entries after another party's cosignature says something about
//! its clock, which the sentences report, not a contradiction of its word.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::fmt_time;
use super::roles::{Role, cosigners};
use crate::bundle::{BundleError, origin_party};
use crate::checkpoint::VerifiedCheckpoint;
use crate::entry::SignedEntry;

/// How far a log's own cosignature may be behind an entry it holds (clock
/// skew between a node's sequencer and its witness), in seconds.
pub const CLOCK_TOLERANCE_SECS: i64 = 300;

fn inconsistent(why: String) -> BundleError {
    BundleError::Time(why)
}

/// Checks the disclosed entries of one log (by index) against each other
/// and against the log's own cosignatures on `checkpoints`.
pub fn check(
    disclosed: &BTreeMap<u64, SignedEntry>,
    checkpoints: &[&VerifiedCheckpoint],
) -> Result<(), BundleError> {
    let mut last: Option<(u64, Timestamp)> = None;
    for (i, e) in disclosed {
        let t = e.header().time;
        if let Some((pi, pt)) = last
            && t < pt
        {
            let p = e.header().log.as_str();
            return Err(inconsistent(format!(
                "entry {p}:{i} is dated {t}, before {p}:{pi} dated {pt}: a log's dates never go backwards"
            )));
        }
        last = Some((*i, t));
    }
    for cp in checkpoints {
        let party = origin_party(&cp.origin);
        // Dates are in index order, so the last entry below the size is the latest.
        let Some((i, e)) = disclosed.range(..cp.size).next_back() else {
            continue;
        };
        let t = e.header().time;
        for s in cosigners(cp, "")
            .into_iter()
            .filter(|s| s.role == Role::Own)
        {
            let limit =
                s.at.checked_add(SignedDuration::from_secs(CLOCK_TOLERANCE_SECS))
                    .unwrap_or(Timestamp::MAX);
            if t > limit {
                return Err(inconsistent(format!(
                    "{party}'s own witness {} cosigned its tree of size {} at {}, but that tree holds {party}:{i} dated {t}: a tree cannot be dated before an entry it holds (tolerance {CLOCK_TOLERANCE_SECS} s)",
                    s.name,
                    cp.size,
                    fmt_time(s.at)
                )));
            }
        }
    }
    Ok(())
}
