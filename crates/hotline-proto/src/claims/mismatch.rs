//! `hotline/index-mismatch/v1`: a log signed a checkpoint whose index
//! contradicts its own tree — the log's signature twice, so it rests on the
//! log's key alone.
//!
//! ```text
//! {"bundle": "hotline/index-mismatch/v1",
//!  "checkpoint": "<signed note with a hotline-index line>",
//!  "run": <keyed run of a key K at that checkpoint, base absent>,
//!  "entry": "<tlog-proof of an entry under a checkpoint of the same tree>"}
//! ```
//!
//! The run is what the index commits to for K: its count and the chain
//! over its entries, whose preimage (the leaves) the bundle discloses. The
//! entry is what the tree holds at an index below the size: either it has
//! key K and the run leaves it out, or the run names another leaf at its
//! index. Both cannot be the log's honest index.

use serde::{Deserialize, Serialize};

use super::{INDEX_MISMATCH_V1, from_slice, mismatch, to_json};
use crate::bundle::{
    BundleError, Keyring, TlogProof, check_tlog_proof, describe_signatures, origin_party,
};
use crate::checkpoint::VerifiedCheckpoint;
use crate::index::{self, KeyedRun, KeyedRunJson};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MismatchJson {
    bundle: String,
    checkpoint: String,
    run: KeyedRunJson,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    entry: String,
}

/// Writes an index-mismatch bundle.
pub fn index_mismatch_bundle(checkpoint: &[u8], run: &KeyedRun, entry: &TlogProof) -> String {
    to_json(&MismatchJson {
        bundle: INDEX_MISMATCH_V1.into(),
        checkpoint: String::from_utf8_lossy(checkpoint).into_owned(),
        run: run.into(),
        entry: entry.to_text(),
    })
}

/// A log's index proved wrong.
#[derive(Clone, Debug)]
pub struct ProvedIndexMismatch {
    /// The checkpoint whose index is wrong.
    pub checkpoint: VerifiedCheckpoint,
    /// The key.
    pub key: String,
    /// How many entries the index says the key has.
    pub count: u64,
    /// The entry's index.
    pub index: u64,
    /// How they disagree.
    pub why: String,
}

/// Verifies an index-mismatch bundle.
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedIndexMismatch, BundleError> {
    let j: MismatchJson = from_slice(bytes)?;
    let cp = keys.checkpoint(j.checkpoint.as_bytes(), "checkpoint")?;
    let root = cp.index.ok_or_else(|| {
        mismatch(format!(
            "checkpoint of {} at size {} commits to no index",
            cp.origin, cp.size
        ))
    })?;
    if j.run.base.is_some() {
        return Err(mismatch(
            "the run must disclose every entry of its key (no base)",
        ));
    }
    let party = origin_party(&cp.origin).to_owned();
    let run =
        index::check_run(&j.run, &party, cp.size, root).map_err(|source| BundleError::Run {
            part: "run".into(),
            source,
        })?;
    let p = TlogProof::parse(&j.entry, "entry")?;
    let (entry, ecp) = check_tlog_proof(&p, keys, "entry")?;
    if ecp.origin != cp.origin || ecp.size != cp.size || ecp.root != cp.root {
        return Err(mismatch(
            "the entry's proof must be under a checkpoint of the same tree (origin, size and root)",
        ));
    }
    let id = format!("{party}:{}", p.index);
    let why = match run.entries.iter().find(|(i, _)| *i == p.index) {
        Some((_, e)) if e.leaf() == entry.leaf() => {
            return Err(mismatch(format!(
                "the index's run of {} holds {id} as the tree does: no mismatch shown",
                run.key
            )));
        }
        Some(_) => format!(
            "its index's run of {} names a leaf at {id} that is not the leaf its tree holds there",
            run.key
        ),
        None if index::keys_of(&entry).contains(&run.key) => format!(
            "its tree holds {id}, which has the key {}, but its index's run of that key ({} entries, all disclosed) leaves it out",
            run.key, run.state.count
        ),
        None => {
            return Err(mismatch(format!(
                "{id} does not have the key {} and the run does not name it: no mismatch shown",
                run.key
            )));
        }
    };
    Ok(ProvedIndexMismatch {
        key: run.key,
        count: run.state.count,
        index: p.index,
        why,
        checkpoint: cp,
    })
}

impl ProvedIndexMismatch {
    /// The proved claim in one sentence.
    pub fn sentence(&self) -> String {
        format!(
            "Log {} signed a wrong index: in its checkpoint of size {} ({}), {}. The log's own signature shows both, so any claim resting on that index is void; a witness that cosigned it did not check it.",
            self.checkpoint.origin,
            self.checkpoint.size,
            describe_signatures(&self.checkpoint),
            self.why
        )
    }
}
