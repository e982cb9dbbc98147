//! Receipts: the receiver's signed statement, in its own log, that an entry
//! addressed to one of its offices arrived.
//!
//! The cursor is derived from the log itself — the highest index of the
//! peer's log that the own log holds a receipt for — and receipts are
//! appended in order by one task per peer, so every entry gets exactly one
//! receipt across crashes and redeliveries. Receipts themselves are not
//! receipted (that would never end).

use hotline_proto::entry::{Kind, Ref, SignedEntry};
use hotline_proto::name::Office;

use super::{FedError, Peer};
use crate::node::Node;
use crate::sequencer::{Draft, Signer};

/// Most receipts issued per round.
const ROUND: u64 = 1000;

/// Issues every receipt still owed to `peer`; returns how many were written.
pub async fn issue(node: &Node, peer: &Peer) -> Result<u64, FedError> {
    let _one_at_a_time = peer.receipt_lock.lock().await;
    let mut written = 0;
    loop {
        let store = node.store().clone();
        let (own, mirror, party, me) = (
            node.log_id(),
            peer.mirror,
            peer.party.to_string(),
            node.party().to_string(),
        );
        let owed = tokio::task::spawn_blocking(move || -> Result<_, FedError> {
            let cursor = store.receipt_cursor(own, &party)?;
            Ok(store.addressed_to(mirror, &me, cursor, ROUND)?)
        })
        .await
        .map_err(|e| FedError::Internal(e.to_string()))??;
        if owed.is_empty() {
            return Ok(written);
        }
        let mut pending = Vec::with_capacity(owed.len());
        for l in &owed {
            let e = SignedEntry::from_leaf(&l.leaf)
                .map_err(|e| FedError::Internal(format!("mirror entry {}: {e}", l.index)))?;
            let h = e.header();
            let to = h
                .to
                .clone()
                .ok_or_else(|| FedError::Internal("addressed entry without an addressee".into()))?;
            // The addressed office signs; if this party has no such office, the party itself does.
            let from = Office::new(&h.from).ok();
            let revoked = node
                .office_revoked(&to)
                .filter(|_| to.party() == *node.party());
            let (signer, status) = match node.office_signer(&to).filter(|_| revoked.is_none()) {
                Some(k) => {
                    // Policy is checked as of the entry's own time, against
                    // the agreements both logs hold; a refusal is receipted too.
                    let allowed = match &from {
                        Some(f) => node.require_agreement(f, &to, h.kind, h.time).map(|_| ()),
                        None => Err(crate::error::NodeError::Forbidden(format!(
                            "{} is not an office",
                            h.from
                        ))),
                    };
                    match allowed {
                        Ok(()) => (Signer::Office(k), "delivered".to_owned()),
                        Err(e) => (
                            Signer::Office(k),
                            format!("refused: {}", refusal(&e.to_string())),
                        ),
                    }
                }
                None => (
                    node.party_signer(),
                    match revoked {
                        // The office cannot sign; the party says why it took nothing.
                        Some(at) => format!(
                            "refused: {to} was revoked in entry {at} of {}'s log and receives nothing any more",
                            node.party()
                        ),
                        None => format!("refused: {to} is not an office of this party"),
                    },
                ),
            };
            let draft = Draft {
                kind: Kind::Receipt,
                signer,
                to: from,
                agreement: h.agreement.clone(),
                refs: vec![Ref {
                    log: peer.party.clone(),
                    index: l.index,
                    leaf_hash: hotline_proto::b64::encode(l.leaf_hash.0),
                }],
                body: None,
                key: None,
                status: Some(status),
                terms: None,
                time: None,
                digest: None,
            };
            // Submitted in order on one channel, so appended in order.
            pending.push(node.sequencer().submit(draft));
        }
        for p in pending {
            p.await
                .map_err(|_| FedError::Internal("the sequencer stopped".into()))?
                .map_err(|e| FedError::Internal(e.to_string()))?;
            written += 1;
        }
    }
}

/// The first sentence of a policy error: what a receipt's status carries.
fn refusal(msg: &str) -> &str {
    msg.split("; in force:").next().unwrap_or(msg)
}

/// Whether an entry of this kind is receipted.
pub fn receipted(kind: Kind) -> bool {
    kind != Kind::Receipt
}
