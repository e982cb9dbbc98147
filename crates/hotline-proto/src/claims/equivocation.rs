//! `hotline/equivocation/v2` (and v1): a log signed two checkpoints that
//! disagree — two roots for one prefix, or (v2) one tree with two index
//! lines. Either is the log's own signature twice, so the sentence rests on
//! nothing but the log's key; v1 still verifies, since its sentence cannot
//! be false.
//!
//! ```text
//! {"bundle": "hotline/equivocation/v2", "origin": "hotline/us",
//!  "a": {"checkpoint": "…", "size": 5, "root": "…", "consistency": ["…"]},
//!  "b": {"checkpoint": "…", "size": 5, "root": "…", "consistency": []}}
//! ```
//!
//! Each claim says "checkpoint X commits to `root` as its first `size`
//! entries" (an RFC 9162 consistency proof). The roots differ; or, in v2,
//! both claims are about whole trees of one size and root whose checkpoints
//! carry different `hotline-index` lines.

use serde::{Deserialize, Serialize};
use tlog_tiles::Hash;

use super::{EQUIVOCATION_V1, EQUIVOCATION_V2, from_slice, to_json};
use crate::b64;
use crate::bundle::{BundleError, Keyring, describe_signatures};
use crate::checkpoint::VerifiedCheckpoint;
use crate::limits;
use crate::tree;

/// "Checkpoint `checkpoint` commits to `root` as the tree of its first `size`
/// entries", shown by an RFC 9162 consistency proof from `size` to the
/// checkpoint's size (empty when they are equal).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootClaim {
    /// A signed checkpoint, verbatim.
    pub checkpoint: String,
    /// The prefix size the claim is about.
    pub size: u64,
    /// The prefix's root hash, base64.
    pub root: String,
    /// Consistency proof from `size` to the checkpoint's size, base64 hashes.
    #[serde(deserialize_with = "limits::consistency")]
    pub consistency: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EquivocationJson {
    bundle: String,
    origin: String,
    a: RootClaim,
    b: RootClaim,
}

/// Writes an equivocation bundle (v2): two claims about the same prefix of
/// one log, from two checkpoints that log signed, that disagree.
pub fn equivocation_bundle(origin: &str, a: RootClaim, b: RootClaim) -> String {
    to_json(&EquivocationJson {
        bundle: EQUIVOCATION_V2.into(),
        origin: origin.into(),
        a,
        b,
    })
}

/// A log proved to have forked.
#[derive(Clone, Debug)]
pub struct ProvedFork {
    /// The log.
    pub origin: String,
    /// The size at which the two views disagree.
    pub size: u64,
    /// The two checkpoints.
    pub a: VerifiedCheckpoint,
    /// The second.
    pub b: VerifiedCheckpoint,
    /// Whether they agree on the tree and disagree on its index only.
    pub index_only: bool,
}

fn check_claim(
    c: &RootClaim,
    keys: &Keyring,
    part: &'static str,
) -> Result<(VerifiedCheckpoint, Hash), BundleError> {
    let cp = keys.checkpoint(c.checkpoint.as_bytes(), part)?;
    let bad = |why: &str| BundleError::Malformed(format!("{part}: {why}"));
    let root = b64::decode_array::<32>(&c.root)
        .map(Hash)
        .ok_or_else(|| bad("root is not a base64 SHA-256 hash"))?;
    let proof = c
        .consistency
        .iter()
        .map(|h| {
            b64::decode_array::<32>(h)
                .map(Hash)
                .ok_or_else(|| bad("consistency line is not a base64 hash"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if c.size == 0 || c.size > cp.size {
        return Err(bad("size must be between 1 and the checkpoint's size"));
    }
    tree::verify_consistency(c.size, cp.size, root, cp.root, &proof)
        .map_err(|source| BundleError::Proof { part, source })?;
    Ok((cp, root))
}

/// Verifies an equivocation bundle of either version.
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedFork, BundleError> {
    let j: EquivocationJson = from_slice(bytes)?;
    let v2 = j.bundle == EQUIVOCATION_V2;
    debug_assert!(v2 || j.bundle == EQUIVOCATION_V1);
    let (a, ra) = check_claim(&j.a, keys, "a")?;
    let (b, rb) = check_claim(&j.b, keys, "b")?;
    if a.origin != j.origin || b.origin != j.origin {
        return Err(BundleError::Malformed(
            "both checkpoints must be of the bundle's origin".into(),
        ));
    }
    if j.a.size != j.b.size {
        return Err(BundleError::Malformed(
            "the two claims must be about the same size".into(),
        ));
    }
    let whole = a.size == j.a.size && b.size == j.b.size;
    // Both must carry an index line: a log that started indexing signs the
    // same tree once without and once with one, honestly.
    let index_only =
        ra == rb && v2 && whole && a.index.is_some() && b.index.is_some() && a.index != b.index;
    if ra == rb && !index_only {
        return Err(BundleError::Malformed(format!(
            "the two checkpoints agree about the first {} entries{}: no equivocation shown",
            j.a.size,
            if v2 { " and their index" } else { "" }
        )));
    }
    Ok(ProvedFork {
        origin: j.origin,
        size: j.a.size,
        a,
        b,
        index_only,
    })
}

impl ProvedFork {
    /// The proved claim in one sentence.
    pub fn sentence(&self) -> String {
        if self.index_only {
            return format!(
                "Log {} equivocated about its index: it signed two checkpoints of the same tree of size {} with different hotline-index lines, so at most one of them is the index of its entries. A: {}. B: {}.",
                self.origin,
                self.size,
                describe_signatures(&self.a),
                describe_signatures(&self.b),
            );
        }
        format!(
            "Log {} equivocated: it signed two checkpoints (sizes {} and {}) that disagree about its first {} entries, so it showed two different histories. A: {}. B: {}.",
            self.origin,
            self.a.size,
            self.b.size,
            self.size,
            describe_signatures(&self.a),
            describe_signatures(&self.b),
        )
    }
}
