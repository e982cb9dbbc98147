//! Witness state: the last checkpoint this node cosigned for each log it
//! witnesses, advanced atomically by the C2SP tlog-witness rules.

use hotline_proto::Hash;

use super::Result;

/// The witness's record per origin: only the witness endpoint advances it.
pub trait WitnessStore: Send + Sync {
    /// Witness: atomically checks a new checkpoint against the last one
    /// cosigned for `origin` and, if `accept` agrees, records it.
    fn witness_advance(
        &self,
        origin: &str,
        req: &WitnessRequest<'_>,
        accept: &dyn Fn(&WitnessState) -> bool,
    ) -> Result<Advance>;
    /// Witness: when the last checkpoint for `origin` was cosigned (Unix seconds).
    fn witness_updated(&self, origin: &str) -> Result<Option<i64>>;
    /// Witness: the last checkpoint cosigned for `origin`.
    fn witness_state(&self, origin: &str) -> Result<Option<WitnessState>>;
}

/// A witness's record of the last checkpoint it cosigned for a log.
#[derive(Clone, Debug)]
pub struct WitnessState {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed checkpoint as received.
    pub note: Vec<u8>,
}

/// A checkpoint submitted to the witness.
pub struct WitnessRequest<'a> {
    /// The old size the submitter believes the witness holds.
    pub old: u64,
    /// The new checkpoint's size.
    pub size: u64,
    /// Its root.
    pub root: Hash,
    /// The signed note.
    pub note: &'a [u8],
    /// Unix time now.
    pub now: i64,
}

/// What the witness did with a submitted checkpoint.
#[derive(Clone, Debug)]
pub enum Advance {
    /// Recorded; cosign it.
    Advanced,
    /// The old size does not match what is recorded (C2SP: 409 with the size).
    OldSizeMismatch(u64),
    /// `accept` refused it (consistency or same-size root mismatch); the
    /// recorded state is returned for the evidence.
    Refused(Option<WitnessState>),
}

/// The C2SP tlog-witness decision on a submitted checkpoint, shared by every
/// engine so that they cannot drift apart: `Some` is the answer to give
/// without recording; `None` means record `req` and cosign it. `current` is
/// what the engine holds for the origin, read inside the transaction that
/// will record.
pub(crate) fn refusal(
    current: Option<WitnessState>,
    req: &WitnessRequest<'_>,
    accept: &dyn Fn(&WitnessState) -> bool,
) -> Option<Advance> {
    let have = current.as_ref().map_or(0, |c| c.size);
    if req.old != have {
        return Some(Advance::OldSizeMismatch(have));
    }
    let empty = WitnessState {
        size: 0,
        root: hotline_proto::tree::empty_root(),
        note: vec![],
    };
    if !accept(current.as_ref().unwrap_or(&empty)) {
        return Some(Advance::Refused(current));
    }
    None
}
