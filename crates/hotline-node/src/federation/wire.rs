//! What nodes send each other over the pinned-TLS peer link.
//!
//! `POST /fed/v1/push` carries a contiguous run of the sender's log with a
//! checkpoint the sender signed at exactly the run's end, so the receiver can
//! check every leaf against the tree it rebuilds. Pushing is at least once on
//! the wire and idempotent by index and leaf hash, so exactly once in effect.
//!
//! A receiver bounds the receipts one peer may make it owe per window; a
//! push beyond that is answered 429 with [`PushPaced`], and stores nothing.
//!
//! `POST /fed/v1/witness/add-checkpoint` is C2SP tlog-witness, byte for byte.

use serde::{Deserialize, Serialize};

/// Most entries in one push.
pub const MAX_PUSH_ENTRIES: usize = 1000;
/// Largest push body.
pub const MAX_PUSH_BYTES: usize = 32 * 1024 * 1024;
pub use hotline_proto::witness::MAX_PROOF_LINES;

/// One entry of a push.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushEntry {
    /// Its index in the sender's log.
    pub index: u64,
    /// The exact leaf bytes, base64.
    pub leaf: String,
    /// The sealed body, base64, when the entry has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
}

/// `POST /fed/v1/push`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Push {
    /// The sender's log origin.
    pub origin: String,
    /// A checkpoint signed by the sender at exactly `first index + entries`
    /// (any size when `entries` is empty).
    pub checkpoint: String,
    /// Contiguous entries.
    pub entries: Vec<PushEntry>,
}

/// The answer to a push (200, and 409 when there is a gap).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PushAck {
    /// How much of the sender's log the receiver's mirror now holds.
    pub mirror_size: u64,
}

/// The answer to a push over the receiver's receipts budget (429, with a
/// `Retry-After` header of `retry_after_secs`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PushPaced {
    /// What happened and what to do, in a sentence.
    pub error: String,
    /// 429.
    pub status: u16,
    /// How much of the sender's log the receiver's mirror holds (unchanged).
    pub mirror_size: u64,
    /// Entries addressed to the receiver (each costs a receipt) that a push
    /// may carry now.
    pub receipts_allowed: u64,
    /// The receiver's budget per window.
    pub receipts_per_window: u64,
    /// Seconds until the window ends.
    pub retry_after_secs: u64,
}

/// Content type of the C2SP tlog-witness 409 body.
pub const TLOG_SIZE: &str = "text/x.tlog.size";
