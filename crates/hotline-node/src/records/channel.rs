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

#[cfg(test)]
mod tests {
    use hotline_proto::entry::Content;
    use hotline_proto::party::Office;

    use crate::records::Records;

    #[tokio::test]
    async fn one_direction_pages_from_a_position_and_skips_other_channels() {
        let (_tmp, node) = crate::node::fresh_us();
        let o = |s: &str| Office::new(s).unwrap();
        for x in ["us/a", "us/b", "us/c"] {
            node.add_office(o(x)).await.unwrap();
        }
        let mut sent = Vec::new();
        for i in 0..5 {
            let text = Content::text(format!("a to b {i}"), None);
            sent.push(
                node.send_message(&o("us/a"), &o("us/b"), text, None)
                    .await
                    .unwrap()
                    .index,
            );
            let other = Content::text(format!("a to c {i}"), None);
            node.send_message(&o("us/a"), &o("us/c"), other, None)
                .await
                .unwrap();
        }
        node.send_message(&o("us/b"), &o("us/a"), Content::text("b to a", None), None)
            .await
            .unwrap();
        let r = Records::new(node.clone());
        let first = r.from_to_after(&o("us/a"), &o("us/b"), None, 3).unwrap();
        let idx: Vec<u64> = first.iter().map(|e| e.index()).collect();
        assert_eq!(idx, sent[..3]);
        let rest = r
            .from_to_after(&o("us/a"), &o("us/b"), Some(idx[2]), 100)
            .unwrap();
        let idx: Vec<u64> = rest.iter().map(|e| e.index()).collect();
        assert_eq!(idx, sent[3..]);
        assert_eq!(
            r.from_to_after(&o("us/b"), &o("us/a"), None, 100)
                .unwrap()
                .len(),
            1
        );
        assert!(
            r.from_to_after(&o("us/c"), &o("us/a"), None, 100)
                .unwrap()
                .is_empty()
        );
    }
}
