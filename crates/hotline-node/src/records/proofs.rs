//! Proof bundles of entries held here, built by the same code as
//! `hotline prove` but read from the node's own open store: a page that
//! offers a bundle opens no second database connection for it.

use hotline_proto::party::Party;

use super::Records;
use crate::error::Result;
use crate::proofs::ProofSource;

/// The bundles that can be proved now. Taken per request: the pinned peers,
/// and so the logs that can be proved, may change while the node runs.
pub struct Proofs(ProofSource);

impl Records {
    /// What can be proved from the records as they stand.
    pub fn proofs(&self) -> Result<Proofs> {
        ProofSource::over(
            self.node.dir(),
            self.node.config(),
            self.node.store().clone(),
        )
        .map(Proofs)
    }
}

impl Proofs {
    /// The inclusion bundle of entry `index` of `party`'s log.
    pub fn inclusion(&self, party: &Party, index: u64) -> Result<String> {
        self.0.inclusion(party, index)
    }

    /// The delivery bundle of entry `id` (`party:index`): the other side's
    /// signed receipt for it.
    pub fn delivery(&self, id: &str) -> Result<String> {
        self.0.delivery(id)
    }

    /// The answered bundle of inquiry `id`: acknowledged and answered,
    /// against its agreement's deadlines.
    pub fn answered(&self, id: &str) -> Result<String> {
        self.0.answered(id)
    }

    /// The `hotline/statement/v2` bundle of statement `id`.
    pub fn statement(&self, id: &str) -> Result<String> {
        self.0.statement(id)
    }
}
