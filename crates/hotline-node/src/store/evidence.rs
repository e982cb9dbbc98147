//! Evidence: equivocation bundles kept when a peer signed two different
//! trees for one size.

use super::Result;

/// Equivocation evidence: kept by federation, served by the API.
pub trait EvidenceStore: Send + Sync {
    /// Keeps evidence of equivocation.
    fn add_equivocation(&self, origin: &str, now: i64, bundle: &[u8]) -> Result<i64>;
    /// Evidence kept so far, oldest first.
    fn equivocations(&self) -> Result<Vec<Evidence>>;
}

/// Equivocation evidence on record.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// Its id.
    pub id: i64,
    /// The log that equivocated.
    pub origin: String,
    /// When it was detected (Unix seconds).
    pub detected: i64,
    /// The `hotline/equivocation/v1` bundle.
    pub bundle: Vec<u8>,
}
