//! One entry's inclusion under one checkpoint, as a tlog-proof: the proof
//! every bundle carries for each entry it shows, and what `hotline prove
//! entry` and the API's inclusion bundles carry too.

use hotline_proto::bundle::{self, TlogProof};
use hotline_proto::tree;

use super::ProofError;
use crate::store::{HashesOf, LogId, Store};

/// The tlog-proof that entry `index` of `log`, whose exact bytes are
/// `leaf`, is in the tree of the checkpoint of `size` entries signed as
/// `note`. The caller has checked that `index` is below `size`, and says
/// in its own words when it is not.
pub fn tlog_proof_under(
    store: &dyn Store,
    log: LogId,
    index: u64,
    leaf: &[u8],
    size: u64,
    note: Vec<u8>,
) -> Result<TlogProof, ProofError> {
    let proof = tree::prove_inclusion(&HashesOf { store, log }, size, index)?;
    Ok(bundle::tlog_proof(leaf, index, proof, note))
}
