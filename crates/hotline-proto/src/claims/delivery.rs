//! `hotline/delivery/v2`: "R received E by T", which is against R, so it
//! rests on R's signatures: R's receipt of E in R's own log (R's clock), or
//! R's witness's cosignature of a tree of S's log holding E.
//!
//! ```text
//! {"bundle": "hotline/delivery/v2",
//!  "sender": <log>,                  // S's checkpoint and key history (history.rs)
//!  "entry": "<tlog-proof of E under sender.checkpoint>",
//!  "receiver": <log>,                // optional: R's checkpoint and key history
//!  "receipts": <keyed run>}          // with receiver: ref/<S>/<i> in R's log, base absent
//! ```
//!
//! The run holds every entry of R's log referring to E (receipts, acks,
//! answers), so the earliest receipt shown is R's first. A receipt's
//! `refs[0]` is E (party, index, leaf hash); its `status` is `delivered` or
//! starts with `refused`; it is signed by the addressed office or by party
//! R. S's own witness on S's tree proves nothing here: it is S's word.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::history::{LogEvidence, LogJson, ProvedLog, check_log};
use super::roles::{Role, Seen, cosigners, index_basis};
use super::{DELIVERY_V2, entry_in_tree, from_slice, id, mismatch, reference, refers_to, to_json};
use crate::bundle::{BundleError, Keyring, ProvedEntry, TlogProof};
use crate::entry::{Kind, SignedEntry};
use crate::index::{self, KeyedRun, KeyedRunJson};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryJson {
    bundle: String,
    sender: LogJson,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    entry: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receiver: Option<LogJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receipts: Option<KeyedRunJson>,
}

/// Writes a delivery bundle: E under S's checkpoint and, if R receipted it,
/// R's checkpoint with the complete run of `ref/<S>/<i>` in R's log.
pub fn delivery_bundle(
    sender: &LogEvidence,
    entry: &TlogProof,
    receiver: Option<(&LogEvidence, &KeyedRun)>,
) -> String {
    to_json(&DeliveryJson {
        bundle: DELIVERY_V2.into(),
        sender: sender.into(),
        entry: entry.to_text(),
        receiver: receiver.map(|(l, _)| l.into()),
        receipts: receiver.map(|(_, r)| r.into()),
    })
}

/// What a receipt says about the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptStatus {
    /// Received and accepted.
    Delivered,
    /// Received and refused; the status text says why.
    Refused(String),
}

/// A receipt found in a run.
#[derive(Clone, Debug)]
pub struct Receipt {
    /// `ru:2`.
    pub id: String,
    /// Its writer's date (the receiver's clock).
    pub dated: Timestamp,
    /// Who signed it.
    pub by: String,
    /// What it says.
    pub status: ReceiptStatus,
}

/// Whether `r` (at `index` of its log) is a receipt, by the office `e` is
/// addressed to or by that office's party, of `e` at `e_index`; and what it says.
pub fn receipt_of(e: &SignedEntry, e_index: u64, r: &SignedEntry, index: u64) -> Option<Receipt> {
    let h = e.header();
    let to = h.to.as_ref()?;
    let g = r.header();
    if g.kind != Kind::Receipt
        || g.log != to.party()
        || (g.from != to.as_str() && g.from != g.log.as_str())
        || !refers_to(r, &reference(e, e_index))
    {
        return None;
    }
    let status = match g.status.as_deref() {
        Some("delivered") => ReceiptStatus::Delivered,
        Some(s) if s.starts_with("refused") => ReceiptStatus::Refused(s.to_owned()),
        _ => return None,
    };
    Some(Receipt {
        id: format!("{}:{index}", g.log),
        dated: g.time,
        by: g.from.clone(),
        status,
    })
}

/// An entry proved delivered.
#[derive(Clone, Debug)]
pub struct ProvedDelivery {
    /// The entry, in the sender's log.
    pub entry: ProvedEntry,
    /// The receiver's party.
    pub receiver: String,
    /// The receiver's first receipt, if the bundle has the receiver's log.
    pub receipt: Option<Receipt>,
    /// How the receiver's index line is backed, when its log is in the bundle.
    pub receipts_basis: Option<String>,
    /// The receiver's witness's cosignatures of the sender's tree holding E.
    pub shown: Vec<Seen>,
    /// Neutral witnesses' cosignatures of that tree.
    pub neutral: Vec<Seen>,
}

/// Verifies a delivery bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedDelivery, BundleError> {
    let j: DeliveryJson = from_slice(bytes)?;
    let mut s: ProvedLog = check_log(&j.sender, keys, "sender")?;
    let entry = s.entry(&j.entry, keys, "entry")?;
    let eid = id(&entry);
    let to = entry.entry.header().to.clone().ok_or_else(|| {
        mismatch(format!(
            "entry {eid} is addressed to no office, so no one receives it"
        ))
    })?;
    let rp = to.party().to_string();
    let mut receipt = None;
    let mut receipts_basis = None;
    match (&j.receiver, &j.receipts) {
        (Some(rl), Some(run)) => {
            let mut r = check_log(rl, keys, "receiver")?;
            if r.party() != rp {
                return Err(mismatch(format!(
                    "the receiver's log is {}, but {eid} is addressed to {to}",
                    r.origin()
                )));
            }
            let key = index::ref_key(s.party(), entry.index);
            let run = r.run(run, &key, true, "receipts")?;
            receipt = run
                .entries
                .iter()
                .filter_map(|(i, g)| receipt_of(&entry.entry, entry.index, g, *i))
                .min_by_key(|x| x.dated);
            r.check_times()?;
            receipts_basis = Some(index_basis(&r.checkpoint, s.party()));
        }
        (None, None) => {}
        _ => {
            return Err(mismatch(
                "receiver and receipts come together: the receiver's checkpoint and the run of its entries referring to the entry",
            ));
        }
    }
    s.check_times()?;
    let seen = cosigners(&entry.checkpoint, &rp);
    let shown: Vec<Seen> = seen
        .iter()
        .filter(|c| c.role == Role::Other)
        .cloned()
        .collect();
    let neutral: Vec<Seen> = seen
        .into_iter()
        .filter(|c| c.role == Role::Neutral)
        .collect();
    if receipt.is_none() && shown.is_empty() {
        return Err(mismatch(format!(
            "nothing in this bundle rests on {rp}'s signatures: {rp}'s log shows no receipt of {eid} and {rp}'s witness did not cosign a tree of {} holding it, so it does not show {rp} received it",
            s.party()
        )));
    }
    Ok(ProvedDelivery {
        entry,
        receiver: rp,
        receipt,
        receipts_basis,
        shown,
        neutral,
    })
}

impl ProvedDelivery {
    /// The proved claim in a few sentences.
    pub fn sentence(&self) -> String {
        let e = &self.entry;
        let rp = &self.receiver;
        let mut s = entry_in_tree(e) + ".";
        if let Some(r) = &self.receipt {
            let how = match &r.status {
                ReceiptStatus::Delivered => String::new(),
                ReceiptStatus::Refused(t) => format!(
                    ", and refused it (status {})",
                    serde_json::to_string(t).unwrap_or_default()
                ),
            };
            s += &format!(
                " {rp} received it by {}, on {rp}'s own signature: its receipt {} dated {} by {} ({rp}'s clock){how}; the first of its receipts by {}.",
                r.dated,
                r.id,
                r.dated,
                r.by,
                self.receipts_basis.as_deref().unwrap_or("its index")
            );
        }
        if let Some(first) = self.shown.first() {
            s += &format!(
                " {rp} was shown a tree holding it by {}: {} cosigned it.",
                first.at,
                first.describe()
            );
        }
        if !self.neutral.is_empty() {
            let l: Vec<String> = self.neutral.iter().map(Seen::describe).collect();
            s += &format!(" Neutral witnesses cosigned that tree: {}.", l.join(", "));
        }
        s
    }
}
