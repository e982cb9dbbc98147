//! Building equivocation evidence from what a node holds: two checkpoints
//! of one log that disagree (`hotline/equivocation/v1`), or a checkpoint
//! whose index line is not the index of its entries
//! (`hotline/index-refused/v1`).

use hotline_proto::bundle::{self, RootClaim};
use hotline_proto::tree::{self, HashReader};
use hotline_proto::{Hash, b64};

use crate::store::{HashesOf, LogId, Store, StoreError};

/// A claim "checkpoint `note` commits to `root` at `size`", with the
/// consistency proof from `size` to the checkpoint, read from `hashes`.
pub fn claim(
    hashes: &impl HashReader,
    note: &[u8],
    cp_size: u64,
    size: u64,
) -> Result<RootClaim, StoreError> {
    let err = |e: tree::TreeError| StoreError::Corrupt(e.to_string());
    let root = tree::root(hashes, size).map_err(err)?;
    let proof = tree::prove_consistency(hashes, size, cp_size).map_err(err)?;
    Ok(RootClaim {
        checkpoint: String::from_utf8_lossy(note).into_owned(),
        size,
        root: b64::encode(root.0),
        consistency: proof.iter().map(|h| b64::encode(h.0)).collect(),
    })
}

/// The mirror's own claim at `size`, under the newest checkpoint it stored.
pub fn mirror_claim(
    store: &dyn Store,
    log: LogId,
    size: u64,
) -> Result<Option<RootClaim>, StoreError> {
    let Some((cp_size, note)) = store.latest_checkpoint(log)? else {
        return Ok(None);
    };
    if cp_size < size || store.size(log)? < cp_size {
        return Ok(None);
    }
    claim(&HashesOf { store, log }, &note, cp_size, size).map(Some)
}

/// A checkpoint's own claim at its size (no proof needed).
pub fn direct_claim(note: &[u8], size: u64, root: Hash) -> RootClaim {
    RootClaim {
        checkpoint: String::from_utf8_lossy(note).into_owned(),
        size,
        root: b64::encode(root.0),
        consistency: vec![],
    }
}

/// Writes and keeps the bundle; returns its id.
pub fn keep(
    store: &dyn Store,
    origin: &str,
    a: RootClaim,
    b: RootClaim,
) -> Result<i64, StoreError> {
    let text = bundle::equivocation_bundle(origin, a, b);
    let id = store.add_equivocation(origin, crate::clock::now().as_second(), text.as_bytes())?;
    tracing::error!(
        origin,
        id,
        "EQUIVOCATION: log {origin} signed two checkpoints that disagree; evidence kept as #{id}"
    );
    Ok(id)
}

/// The kind of the record a mirror or witness keeps of a checkpoint whose
/// `hotline-index` line is missing or is not the index of its entries.
///
/// Not a bundle `hotline verify` checks alone: what makes the line wrong is
/// every entry of the log up to that size, which the record does not carry.
/// Anyone holding those entries (every witness of the log) recomputes the
/// root. Once the log hands out a keyed run under such a checkpoint that
/// leaves an entry out, `hotline/index-mismatch/v1` proves it to anyone.
pub const INDEX_MISMATCH: &str = "hotline/index-refused/v1";

/// Keeps the evidence of a checkpoint (`note`, at `size`) whose index line
/// (`claimed`, `None` when missing) is not `ours`, the index this node
/// rebuilt from the log's verified entries; returns its id.
///
/// The bundle shows what was signed and what the entries make: anyone
/// holding the log's entries up to `size` recomputes `recomputed`.
pub fn keep_index_mismatch(
    store: &dyn Store,
    origin: &str,
    note: &[u8],
    size: u64,
    claimed: Option<Hash>,
    ours: Hash,
) -> Result<i64, StoreError> {
    let j = serde_json::json!({
        "bundle": INDEX_MISMATCH,
        "origin": origin,
        "checkpoint": String::from_utf8_lossy(note),
        "size": size,
        "index": claimed.map(|h| b64::encode(h.0)),
        "recomputed": b64::encode(ours.0),
    });
    let text = serde_json::to_string_pretty(&j).unwrap_or_default() + "\n";
    let id = store.add_equivocation(origin, crate::clock::now().as_second(), text.as_bytes())?;
    tracing::error!(
        origin,
        id,
        size,
        "INDEX MISMATCH: log {origin} signed a checkpoint for size {size} whose index line is {} the index of its entries; evidence kept as #{id}",
        if claimed.is_some() {
            "not"
        } else {
            "missing, not"
        }
    );
    Ok(id)
}

/// Whether kept evidence is of a wrong index line (else of two histories).
pub fn is_index_mismatch(bundle: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bundle).is_ok_and(|v| v["bundle"] == INDEX_MISMATCH)
}
