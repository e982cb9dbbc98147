//! Building equivocation evidence from what a node holds.

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
