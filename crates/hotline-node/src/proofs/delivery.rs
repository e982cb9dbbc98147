//! `hotline/delivery/v2`: "R received E by T", on R's signatures — R's
//! receipts of E (the complete run of R's entries referring to E) and R's
//! witness's cosignature of a tree of S holding E.

use hotline_proto::claims::delivery::delivery_bundle;
use hotline_proto::entry::Kind;
use hotline_proto::index::ref_key;

use super::ProofSource;
use super::checkpoints::Want;
use super::evidence::parse_all;
use crate::error::{NodeError, Result};

impl ProofSource {
    /// `hotline/delivery/v2` for the entry `id`.
    pub fn delivery(&self, id: &str) -> Result<String> {
        let (party, index) = Self::parse_id(id)?;
        let (_, e) = self.leaf(&party, index)?;
        let receiver = Self::addressee(&e)?.party();
        let sender = self.checkpoint_for(&party, index + 1, Want::Cosigned)?;
        let key = ref_key(party.as_str(), index);
        // R's first receipt, as far as this node holds R's log.
        let receipt = match self.log(&receiver) {
            Ok(log) => {
                let held = self.store.size(log.id)?;
                parse_all(&self.key_entries(&receiver, &key, held, 0)?)?
                    .into_iter()
                    .find(|(_, r)| r.header().kind == Kind::Receipt)
                    .map(|(j, _)| j)
            }
            Err(_) => None,
        };
        let Some(j) = receipt else {
            return Err(NodeError::NotFound(format!(
                "no receipt for {id} is held here yet ({receiver} writes one when it arrives)"
            )));
        };
        let r = self.checkpoint_for(&receiver, j + 1, Want::Cosigned)?;
        let run = self.keyed_run(&r, &key, 0)?;
        self.checked(delivery_bundle(
            &self.log_evidence(&sender)?,
            &self.tlog_proof(&sender, index)?,
            Some((&self.log_evidence(&r)?, &run)),
        ))
    }
}
