//! `hotline/answered/v1`: an inquiry, the agreement it was sent under, its
//! acknowledgements and answers, and whether each deadline was met.
//!
//! ```text
//! {"bundle": "hotline/answered/v1",
//!  "inquiry": <EntryProof>,               // in the sender's log
//!  "receipt": <EntryProof>,               // optional, in the receiver's log
//!  "agreement": <EntryProof>,             // the proposal: status "proposed", with terms
//!  "agreement_signature": <EntryProof>,   // status "signed", refs[0] = the proposal, by the counterparty
//!  "acks": [<EntryProof>, …],
//!  "answers": [<EntryProof>, …]}
//! ```
//!
//! The inquiry's `agreement` is the agreement's id (`party:index` of the
//! proposal), which was in force at the inquiry's time and opens the
//! inquiry's channel. Acks and answers reference the inquiry (`refs[0]`) and
//! are written by the addressed office in the receiver's log; a closing ack
//! (`status: "closed"`) is written by the sending office in the sender's log.
//! At least one ack or answer is required.
//!
//! Deadlines are counted on the writers' clocks, from the inquiry's time to
//! the first ack (an answer acknowledges too, so the first of either counts)
//! and to the first answer. The cosignatures on the trees holding them bound,
//! on a witness's clock, when each became visible; the sentence gives both.

use serde::{Deserialize, Serialize};

use super::delivery::{ReceiptStatus, check_receipt};
use super::{
    ANSWERED_V1, Deadline, EntryProof, EntryProofJson, check_agreement, describe,
    describe_agreement, fmt_duration, from_slice, id, mismatch, reference, refers_to, to_json,
    under, visible, witness_of,
};
use crate::agreement::Agreement;
use crate::bundle::{BundleError, Keyring, ProvedEntry};
use crate::entry::Kind;
use crate::name::Office;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnsweredJson {
    bundle: String,
    inquiry: EntryProofJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receipt: Option<EntryProofJson>,
    agreement: EntryProofJson,
    agreement_signature: EntryProofJson,
    acks: Vec<EntryProofJson>,
    answers: Vec<EntryProofJson>,
}

/// Writes an answered bundle.
pub fn answered_bundle(
    inquiry: &EntryProof,
    receipt: Option<&EntryProof>,
    agreement: &EntryProof,
    agreement_signature: &EntryProof,
    acks: &[EntryProof],
    answers: &[EntryProof],
) -> String {
    to_json(&AnsweredJson {
        bundle: ANSWERED_V1.into(),
        inquiry: inquiry.into(),
        receipt: receipt.map(Into::into),
        agreement: agreement.into(),
        agreement_signature: agreement_signature.into(),
        acks: acks.iter().map(Into::into).collect(),
        answers: answers.iter().map(Into::into).collect(),
    })
}

/// An inquiry proved acknowledged and/or answered.
#[derive(Clone, Debug)]
pub struct ProvedAnswered {
    /// The inquiry, in the sender's log.
    pub inquiry: ProvedEntry,
    /// The agreement it was sent under.
    pub agreement: Agreement,
    /// The receiver's receipt, if the bundle has one, and what it says.
    pub receipt: Option<(ProvedEntry, ReceiptStatus)>,
    /// The receiver's acknowledgements.
    pub acks: Vec<ProvedEntry>,
    /// The sender's closing acks.
    pub closed: Vec<ProvedEntry>,
    /// The answers.
    pub answers: Vec<ProvedEntry>,
    /// The acknowledgement deadline (first ack or answer).
    pub ack: Deadline,
    /// The answer deadline (first answer).
    pub answer: Deadline,
}

/// Verifies an answered bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedAnswered, BundleError> {
    let j: AnsweredJson = from_slice(bytes)?;
    let inquiry = j.inquiry.check(keys, "inquiry")?;
    let iid = id(&inquiry);
    let h = inquiry.entry.header().clone();
    if h.kind != Kind::Inquiry {
        return Err(mismatch(format!(
            "inquiry {iid} is {}, not an inquiry",
            describe(&inquiry.entry)
        )));
    }
    let to =
        h.to.clone()
            .ok_or_else(|| mismatch(format!("inquiry {iid} is addressed to no office")))?;
    let from = Office::new(&h.from)
        .map_err(|_| mismatch(format!("inquiry {iid} is not from an office")))?;
    let (sender, receiver) = (h.log.clone(), to.party());

    let proposal = j.agreement.check(keys, "agreement")?;
    let signature = j.agreement_signature.check(keys, "agreement_signature")?;
    let agreement = check_agreement(&proposal, &signature)?;
    if h.agreement.as_deref() != Some(agreement.id.as_str()) {
        return Err(mismatch(format!(
            "inquiry {iid} names agreement {:?}, not {}",
            h.agreement.as_deref().unwrap_or(""),
            agreement.id
        )));
    }
    if !super::between(&agreement, sender.as_str(), receiver.as_str()) {
        return Err(mismatch(format!(
            "agreement {} is between {} and {}, not {sender} and {receiver}",
            agreement.id, agreement.proposer, agreement.counterparty
        )));
    }
    if !agreement.in_force(h.time) {
        return Err(mismatch(format!(
            "agreement {} was not in force at the inquiry's time {} (it was {:?})",
            agreement.id,
            h.time,
            agreement.state(h.time)
        )));
    }
    if !agreement.terms.allows(&from, &to, Kind::Inquiry) {
        return Err(mismatch(format!(
            "agreement {} does not open {from} ↔ {to} for inquiries",
            agreement.id
        )));
    }

    let receipt = match &j.receipt {
        Some(r) => {
            let r = r.check(keys, "receipt")?;
            let s = check_receipt(&inquiry, &r)?;
            Some((r, s))
        }
        None => None,
    };

    let target = reference(&inquiry.entry, inquiry.index);
    let mut acks = vec![];
    let mut closed = vec![];
    for (i, a) in j.acks.iter().enumerate() {
        let p = a.check(keys, &format!("acks[{i}]"))?;
        let (aid, a) = (id(&p), p.entry.header());
        if a.kind != Kind::Ack || !refers_to(&p.entry, &target) {
            return Err(mismatch(format!(
                "acks[{i}] ({aid}, {}) is not an ack referencing inquiry {iid}",
                describe(&p.entry)
            )));
        }
        if a.status.as_deref() == Some("closed") {
            if a.from != from.as_str() || a.log != sender {
                return Err(mismatch(format!(
                    "closing ack {aid} is by {} in the log of {}, not by the sending office {from}",
                    a.from, a.log
                )));
            }
            closed.push(p);
        } else {
            if a.from != to.as_str() || a.log != receiver {
                return Err(mismatch(format!(
                    "ack {aid} is by {} in the log of {}, not by the addressed office {to}",
                    a.from, a.log
                )));
            }
            acks.push(p);
        }
    }
    let mut answers = vec![];
    for (i, a) in j.answers.iter().enumerate() {
        let p = a.check(keys, &format!("answers[{i}]"))?;
        let (aid, a) = (id(&p), p.entry.header());
        if a.kind != Kind::Answer || !refers_to(&p.entry, &target) {
            return Err(mismatch(format!(
                "answers[{i}] ({aid}, {}) is not an answer referencing inquiry {iid}",
                describe(&p.entry)
            )));
        }
        if a.from != to.as_str() || a.log != receiver {
            return Err(mismatch(format!(
                "answer {aid} is by {} in the log of {}, not by the addressed office {to}",
                a.from, a.log
            )));
        }
        answers.push(p);
    }
    if acks.is_empty() && answers.is_empty() {
        return Err(mismatch(format!(
            "the bundle holds no ack or answer by {to} for inquiry {iid}"
        )));
    }
    let first = |list: &[&ProvedEntry]| {
        list.iter()
            .min_by_key(|p| (p.entry.header().time, p.index))
            .map(|p| (id(p), p.entry.header().time))
    };
    let either: Vec<&ProvedEntry> = acks.iter().chain(&answers).collect();
    let only_answers: Vec<&ProvedEntry> = answers.iter().collect();
    let ack = Deadline::new(h.time, agreement.terms.ack_within_secs, first(&either));
    let answer = Deadline::new(
        h.time,
        agreement.terms.answer_within_secs,
        first(&only_answers),
    );
    Ok(ProvedAnswered {
        inquiry,
        agreement,
        receipt,
        acks,
        closed,
        answers,
        ack,
        answer,
    })
}

impl ProvedAnswered {
    fn find(&self, id_: &str) -> Option<&ProvedEntry> {
        self.acks.iter().chain(&self.answers).find(|p| id(p) == id_)
    }

    fn deadline(&self, verb: &str, d: &Deadline) -> String {
        let limit = d
            .within_secs
            .map(|w| fmt_duration(i64::try_from(w).unwrap_or(i64::MAX)));
        let Some((fid, ft)) = &d.first else {
            return match limit {
                Some(l) => format!("It was not {verb} in this evidence (the agreed limit is {l})."),
                None => format!("It was not {verb} in this evidence."),
            };
        };
        let delay = fmt_duration(d.delay_secs.unwrap_or_default());
        let (kept, note) = match (d.met, &limit) {
            (Some(true), Some(l)) => (format!(" within the agreed {l}"), String::new()),
            (Some(false), Some(l)) => (format!(" not within the agreed {l}"), String::new()),
            _ => (
                String::new(),
                " (the agreement sets no deadline for it)".to_owned(),
            ),
        };
        let (what, by, seen) = match self.find(fid) {
            Some(p) => (
                p.entry.header().kind.to_string(),
                format!(" by {}", p.entry.header().from),
                format!("; {}", visible(&p.checkpoint)),
            ),
            None => (String::new(), String::new(), String::new()),
        };
        format!(
            "It was {verb}{kept}{note}: first by {what} {fid} dated {ft}{by}, {delay} after the inquiry{seen}."
        )
    }

    /// The proved claim in a few sentences.
    pub fn sentence(&self) -> String {
        let i = &self.inquiry;
        let h = i.entry.header();
        let sender = &i.checkpoint.origin;
        let receiver_party =
            h.to.as_ref()
                .map(|t| t.party().to_string())
                .unwrap_or_default();
        let receiver_witness = self
            .acks
            .iter()
            .chain(&self.answers)
            .next()
            .map(|p| witness_of(&p.checkpoint.origin))
            .unwrap_or_default();
        let mut s = format!(
            "Inquiry {} — {}, dated {} by its writer — was sent under {}, in force at that time, and is in {sender} ({}).",
            id(i),
            describe(&i.entry),
            h.time,
            describe_agreement(&self.agreement),
            under(&i.checkpoint, &receiver_party, &receiver_witness),
        );
        if let Some((r, status)) = &self.receipt {
            let how = match status {
                ReceiptStatus::Delivered => "as delivered".to_owned(),
                ReceiptStatus::Refused(t) => format!(
                    "and refused it (status {})",
                    serde_json::to_string(t).unwrap_or_default()
                ),
            };
            s += &format!(
                " {receiver_party} receipted it {how} in entry {} dated {}.",
                id(r),
                r.entry.header().time
            );
        }
        s += " ";
        s += &self.deadline("acknowledged", &self.ack);
        s += " ";
        s += &self.deadline("answered", &self.answer);
        if self.answers.len() > 1 {
            s += &format!(" The bundle holds {} answers.", self.answers.len());
        }
        if let Some(c) = self.closed.first() {
            s += &format!(
                " {} closed it in {} dated {}.",
                c.entry.header().from,
                id(c),
                c.entry.header().time
            );
        }
        s += " Deadlines are counted on the writers' clocks; cosignature times, on the named witnesses' clocks, bound when each entry became visible.";
        s
    }
}
