//! One channel's entries in one direction, in log order from a position on:
//! what a reader paging through a channel (TAXII's collections) asks for.

use hotline_proto::party::Office;

use super::{Entry, Records};
use crate::error::{Corrupt, NodeError, Result};

impl Records {
    /// Up to `limit` entries from `from` to `to` (receipts aside) after index
    /// `after` of the sender's log (the own log, or the sender's mirror), in
    /// log order. Reads only entries addressed to the receiver's party, so a
    /// page costs what its entries cost, wherever it starts.
    pub fn from_to_after(
        &self,
        from: &Office,
        to: &Office,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<Entry>> {
        let party = from.party();
        let log = self.node.log_of(&party)?;
        let to_party = to.party();
        let mut out = Vec::new();
        let mut cursor = after;
        // Entries to the receiver's other offices are skipped, in batches.
        let batch = limit.clamp(1, 1000);
        while (out.len() as u64) < limit {
            let leaves = self
                .node
                .store()
                .addressed_to(log, to_party.as_str(), cursor, batch)?;
            let Some(last) = leaves.last() else { break };
            cursor = Some(last.index);
            let n = leaves.len() as u64;
            for l in &leaves {
                let e = Entry::from_stored(&party, l).map_err(|source| {
                    NodeError::Corrupt(Corrupt::EntryOf {
                        party: party.clone(),
                        index: l.index,
                        source,
                    })
                })?;
                let h = e.header();
                if h.from == from.as_str() && h.to.as_ref() == Some(to) {
                    out.push(e);
                    if out.len() as u64 == limit {
                        break;
                    }
                }
            }
            if n < batch {
                break;
            }
        }
        Ok(out)
    }
}
