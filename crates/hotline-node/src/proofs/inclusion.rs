//! `hotline/inclusion/v3`: one entry, under the log's chosen checkpoint,
//! with the log's complete key history.

use hotline_proto::claims::inclusion::inclusion_bundle;
use hotline_proto::name::Party;

use super::ProofSource;
use super::checkpoints::Want;
use crate::error::Result;

impl ProofSource {
    /// A `hotline/inclusion/v3` bundle of entry `party:index` (own log or a
    /// mirror). An entry signed with a key its log had rotated away or
    /// revoked is refused here: no bundle could prove it.
    pub fn inclusion(&self, party: &Party, index: u64) -> Result<String> {
        let (_, e) = self.leaf(party, index)?;
        let log = self.log(party)?;
        crate::reader::key_history(&self.store.key_leaves(log.id)?, &e, index, &log.origin)?;
        let cp = self.checkpoint_for(party, index + 1, Want::Cosigned)?;
        self.checked(inclusion_bundle(
            &self.log_evidence(&cp)?,
            &self.tlog_proof(&cp, index)?,
        ))
    }
}
