//! `hotline/inclusion/v3`: one entry is in a log, signed by the key its
//! office held at that index by the log's complete key history.
//!
//! ```text
//! {"bundle": "hotline/inclusion/v3",
//!  "log": <log>,                     // checkpoint and complete key history (history.rs)
//!  "entry": "<tlog-proof under log.checkpoint>"}
//! ```
//!
//! The key history is a keyed run without base, folded into the state the
//! checkpoint's index commits to, so no rotation or revocation before the
//! entry can be left out (inclusion v2 could start its chain after one).
//! That completeness rests on the log's index, which every witness of the
//! log recomputes before cosigning: the sentence names them.

use serde::{Deserialize, Serialize};

use super::history::{LogEvidence, LogJson, check_log};
use super::roles::index_basis;
use super::{INCLUSION_V3, describe, from_slice, id, to_json};
use crate::bundle::{BundleError, Keyring, ProvedEntry, TlogProof, describe_signatures};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionJson {
    bundle: String,
    log: LogJson,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    entry: String,
}

/// Writes an inclusion bundle: the entry's tlog-proof under the log's
/// checkpoint, with the log's complete key history at it.
pub fn inclusion_bundle(log: &LogEvidence, entry: &TlogProof) -> String {
    to_json(&InclusionJson {
        bundle: INCLUSION_V3.into(),
        log: log.into(),
        entry: entry.to_text(),
    })
}

/// Verifies an inclusion bundle from its JSON bytes.
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedEntry, BundleError> {
    let j: InclusionJson = from_slice(bytes)?;
    let mut log = check_log(&j.log, keys, "log")?;
    let e = log.entry(&j.entry, keys, "entry")?;
    log.check_times()?;
    Ok(e)
}

/// " Signed by us/fbi with the key announced in us:0, by us's complete key
/// history up to size 9 (…)." — or the party's log key.
pub fn signed_by(e: &ProvedEntry) -> String {
    let h = e.entry.header();
    match e.key_index {
        Some(k) => format!(
            " Signed by {} with the key {}'s log announced in entry {k}, neither rotated nor revoked before it by the log's complete key history up to size {} (complete by {}).",
            h.from,
            h.log,
            e.checkpoint.size,
            index_basis(&e.checkpoint, "")
        ),
        None => format!(" Signed by party {} with its log key.", h.from),
    }
}

/// The sentence of an inclusion bundle.
pub fn sentence(e: &ProvedEntry) -> String {
    format!(
        "Entry {} of log {} — {}, dated {} by its writer — is in that log's tree of size {} ({}).{}",
        id(e),
        e.checkpoint.origin,
        describe(&e.entry),
        e.entry.header().time,
        e.checkpoint.size,
        describe_signatures(&e.checkpoint),
        signed_by(e)
    )
}
