//! Cosignatures: those witnesses gave the own log (merged into its
//! checkpoint notes) and those this node gave as a witness of a peer.

use super::{LogId, Result, StoreError};

/// Cosignatures on record: written by federation, read by proofs.
pub trait CosignatureStore: Send + Sync {
    /// Log: records a cosignature and, in the same transaction, replaces
    /// the stored checkpoint note by `merge(current note)`.
    fn add_cosignature(
        &self,
        log: LogId,
        size: u64,
        witness: &str,
        time: u64,
        line: &str,
        merge: &dyn Fn(&[u8]) -> Vec<u8>,
    ) -> Result<()>;
    /// Witness: keeps a cosignature it gave for a mirrored log, with the note it covers.
    fn record_cosignature(
        &self,
        log: LogId,
        size: u64,
        witness: &str,
        time: u64,
        line: &str,
        note: &[u8],
    ) -> Result<()>;
    /// The newest cosignature of `log` at or before `time` (`before`), or the
    /// oldest at or after it.
    fn cosignature_near(
        &self,
        log: LogId,
        time: u64,
        before: bool,
    ) -> Result<Option<CosignatureRecord>>;
    /// Log: the newest cosignature by `witness`: (size, time).
    fn last_cosignature(&self, log: LogId, witness: &str) -> Result<Option<(u64, u64)>>;
}

/// A cosignature on record.
#[derive(Clone, Debug)]
pub struct CosignatureRecord {
    /// Tree size cosigned.
    pub size: u64,
    /// The cosigner's name.
    pub witness: String,
    /// The witness's time.
    pub time: u64,
    /// The signature line.
    pub line: String,
    /// The checkpoint it covers (witness side); `None` for the own log, whose
    /// checkpoints table holds it.
    pub note: Option<Vec<u8>>,
}

/// The error every engine gives for a cosignature on a checkpoint it does
/// not hold: the checkpoint is stored before it is sent out to be cosigned.
pub(crate) fn no_checkpoint(size: u64) -> StoreError {
    StoreError::Corrupt(format!(
        "no checkpoint of size {size} to add a cosignature to"
    ))
}
