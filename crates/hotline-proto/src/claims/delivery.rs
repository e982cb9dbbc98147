//! `hotline/delivery/v1`: an entry is in the sender's log, and the receiver
//! acknowledged receiving it with a `receipt` in its own log.
//!
//! ```text
//! {"bundle": "hotline/delivery/v1",
//!  "entry": {"entry": "<tlog-proof>", "signer_key": "<tlog-proof>"},
//!  "receipt": {"entry": "<tlog-proof>", "signer_key": "<tlog-proof>"}}
//! ```
//!
//! The receipt's `refs[0]` is the entry (sender party, index, leaf hash); its
//! `status` is `delivered`, or starts with `refused` (received, and refused,
//! with the reason); it is signed by the addressed office, or by the
//! receiving party itself. Each checkpoint should be cosigned by the other
//! party's witness: the sentence says when it is not, since then this
//! evidence does not show that party was shown the tree.

use serde::{Deserialize, Serialize};

use super::{
    DELIVERY_V1, EntryProof, EntryProofJson, describe, from_slice, id, mismatch, reference,
    refers_to, to_json, under, witness_of,
};
use crate::bundle::{BundleError, Keyring, ProvedEntry, origin_party};
use crate::entry::Kind;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryJson {
    bundle: String,
    entry: EntryProofJson,
    receipt: EntryProofJson,
}

/// Writes a delivery bundle.
pub fn delivery_bundle(entry: &EntryProof, receipt: &EntryProof) -> String {
    to_json(&DeliveryJson {
        bundle: DELIVERY_V1.into(),
        entry: entry.into(),
        receipt: receipt.into(),
    })
}

/// What the receipt says about the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptStatus {
    /// Received and accepted.
    Delivered,
    /// Received and refused; the status text says why.
    Refused(String),
}

/// An entry proved delivered.
#[derive(Clone, Debug)]
pub struct ProvedDelivery {
    /// The entry, in the sender's log.
    pub entry: ProvedEntry,
    /// The receipt, in the receiver's log.
    pub receipt: ProvedEntry,
    /// What the receipt says.
    pub status: ReceiptStatus,
}

/// Checks that `receipt` is the receiver's receipt for `entry`.
pub(crate) fn check_receipt(
    entry: &ProvedEntry,
    receipt: &ProvedEntry,
) -> Result<ReceiptStatus, BundleError> {
    let (eid, rid) = (id(entry), id(receipt));
    let h = entry.entry.header();
    let r = receipt.entry.header();
    let to =
        h.to.as_ref()
            .ok_or_else(|| mismatch(format!("entry {eid} is addressed to no office")))?;
    if r.kind != Kind::Receipt {
        return Err(mismatch(format!(
            "receipt {rid} is {}, not a receipt",
            describe(&receipt.entry)
        )));
    }
    if r.log != to.party() {
        return Err(mismatch(format!(
            "receipt {rid} is in the log of {}, but entry {eid} is addressed to {to}",
            r.log
        )));
    }
    if !refers_to(&receipt.entry, &reference(&entry.entry, entry.index)) {
        return Err(mismatch(format!(
            "receipt {rid} does not reference entry {eid} (its first reference must be {eid} with its leaf hash)"
        )));
    }
    if r.from != to.as_str() && r.from != r.log.as_str() {
        return Err(mismatch(format!(
            "receipt {rid} is signed by {}, not by the addressed office {to} or party {}",
            r.from, r.log
        )));
    }
    match r.status.as_deref() {
        Some("delivered") => Ok(ReceiptStatus::Delivered),
        Some(s) if s.starts_with("refused") => Ok(ReceiptStatus::Refused(s.to_owned())),
        other => Err(mismatch(format!(
            "receipt {rid} has status {:?}; a receipt says \"delivered\" or \"refused: …\"",
            other.unwrap_or("")
        ))),
    }
}

/// Verifies a delivery bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedDelivery, BundleError> {
    let j: DeliveryJson = from_slice(bytes)?;
    let entry = j.entry.check(keys, "entry")?;
    let receipt = j.receipt.check(keys, "receipt")?;
    let status = check_receipt(&entry, &receipt)?;
    Ok(ProvedDelivery {
        entry,
        receipt,
        status,
    })
}

impl ProvedDelivery {
    /// The proved claim in one sentence.
    pub fn sentence(&self) -> String {
        let (e, r) = (&self.entry, &self.receipt);
        let (sender, receiver) = (&e.checkpoint.origin, &r.checkpoint.origin);
        let (sp, rp) = (origin_party(sender), origin_party(receiver));
        let what = match &self.status {
            ReceiptStatus::Delivered => format!("{rp} acknowledged receiving it"),
            ReceiptStatus::Refused(s) => format!(
                "{rp} acknowledged receiving it and refused it (status {})",
                serde_json::to_string(s).unwrap_or_default()
            ),
        };
        format!(
            "Entry {} — {}, dated {} by its writer — is in {sender} ({}), and {what} in its own log, entry {} dated {} by {} ({}).",
            id(e),
            describe(&e.entry),
            e.entry.header().time,
            under(&e.checkpoint, rp, &witness_of(receiver)),
            id(r),
            r.entry.header().time,
            r.entry.header().from,
            under(&r.checkpoint, sp, &witness_of(sender)),
        )
    }
}
