//! `hotline/answered/v2`: an inquiry, the agreement it was sent under, every
//! entry of the receiver's log referring to it, and whether each deadline
//! was met — on whose signatures ([`super::deadline`]).
//!
//! ```text
//! {"bundle": "hotline/answered/v2",
//!  "sender": <log>, "receiver": <log>,       // S's and R's checkpoints and key histories
//!  "inquiry": "<tlog-proof under sender.checkpoint>",
//!  "agreement": "<tlog-proof>", "agreement_signature": "<tlog-proof>",  // under either checkpoint
//!  "replies": <keyed run of ref/<S>/<i> in R's log, base absent>,
//!  "receipts": [<keyed run of ref/<R>/<j> in S's log, base absent>, …],  // per ack or answer R:j
//!  "seen": ["<tlog-proof of an ack or answer under an earlier checkpoint of R>", …]}
//! ```
//!
//! `replies` is complete, so an ack left out of it breaks the run (attack
//! c). Each `receipts` run is complete too: S's receipts of that response,
//! S's clock. `seen` (optional) shows a response in an earlier tree of R's
//! log, cosigned by S's witness or a neutral one: S's observation on that
//! witness's clock.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::deadline::{Deadline, Receiver, Response, assess};
use super::delivery::{Receipt, ReceiptStatus, receipt_of};
use super::history::{LogEvidence, LogJson, ProvedLog, check_log};
use super::roles::{Role, Seen, cosigners, index_basis};
use super::{
    ANSWERED_V2, check_agreement, describe, describe_agreement, from_slice, id, mismatch,
    reference, refers_to, require_kind, to_json, within,
};
use crate::agreement::Agreement;
use crate::bundle::{BundleError, Keyring, ProvedEntry, TlogProof, describe_signatures};
use crate::checkpoint;
use crate::entry::{Kind, SignedEntry};
use crate::index::{self, KeyedRun, KeyedRunJson};
use crate::party::Office;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnsweredJson {
    bundle: String,
    sender: LogJson,
    receiver: LogJson,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    inquiry: String,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    agreement: String,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    agreement_signature: String,
    replies: KeyedRunJson,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    receipts: Vec<KeyedRunJson>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::limits::tlog_proof_texts"
    )]
    seen: Vec<String>,
}

/// What an answered (or stats) bundle needs of the agreement: the proposal
/// and the counterparty's signature, each under the checkpoint of its log.
#[derive(Clone, Debug)]
pub struct AgreementProofs {
    /// The proposal.
    pub proposal: TlogProof,
    /// The signature.
    pub signature: TlogProof,
}

/// Writes an answered bundle.
#[allow(clippy::too_many_arguments)]
pub fn answered_bundle(
    sender: &LogEvidence,
    receiver: &LogEvidence,
    inquiry: &TlogProof,
    agreement: &AgreementProofs,
    replies: &KeyedRun,
    receipts: &[KeyedRun],
    seen: &[TlogProof],
) -> String {
    to_json(&AnsweredJson {
        bundle: ANSWERED_V2.into(),
        sender: sender.into(),
        receiver: receiver.into(),
        inquiry: inquiry.to_text(),
        agreement: agreement.proposal.to_text(),
        agreement_signature: agreement.signature.to_text(),
        replies: replies.into(),
        receipts: receipts.iter().map(Into::into).collect(),
        seen: seen.iter().map(TlogProof::to_text).collect(),
    })
}

/// An inquiry and everything in the bundle that refers to it.
#[derive(Clone, Debug)]
pub struct Thread {
    /// The inquiry's id and date.
    pub id: String,
    /// Its index in S's log.
    pub index: u64,
    /// The inquiry.
    pub entry: SignedEntry,
    /// R's first receipt of it.
    pub receipt: Option<Receipt>,
    /// R's acks, with S's observations.
    pub acks: Vec<Response>,
    /// R's answers, with S's observations.
    pub answers: Vec<Response>,
}

/// Checks R's run of entries referring to the inquiry and S's runs of
/// receipts of each response (taken out of `receipts` by key).
pub(crate) fn gather(
    index: u64,
    inquiry: &SignedEntry,
    s: &mut ProvedLog,
    r: &mut ProvedLog,
    replies: &KeyedRunJson,
    receipts: &mut HashMap<String, &KeyedRunJson>,
) -> Result<Thread, BundleError> {
    let iid = s.id(index);
    let h = inquiry.header();
    let to =
        h.to.clone()
            .ok_or_else(|| mismatch(format!("inquiry {iid} is addressed to no office")))?;
    let key = index::ref_key(s.party(), index);
    let run = r.run(replies, &key, true, &format!("replies to {iid}"))?;
    let target = reference(inquiry, index);
    let mut t = Thread {
        id: iid.clone(),
        index,
        entry: inquiry.clone(),
        receipt: None,
        acks: vec![],
        answers: vec![],
    };
    let early = cosigners(&r.checkpoint, s.party());
    for (j, g) in &run.entries {
        if let Some(x) = receipt_of(inquiry, index, g, *j) {
            if t.receipt.as_ref().is_none_or(|y| x.dated < y.dated) {
                t.receipt = Some(x);
            }
            continue;
        }
        let gh = g.header();
        let answer = match gh.kind {
            Kind::Answer => true,
            Kind::Ack if gh.status.as_deref() != Some("closed") => false,
            _ => continue,
        };
        if gh.from != to.as_str() || !refers_to(g, &target) {
            continue;
        }
        let rid = r.id(*j);
        let mut resp = Response {
            id: rid.clone(),
            dated: gh.time,
            answer,
            observed: None,
        };
        observe_trees(&mut resp, &early, r.party(), r.checkpoint.size);
        let rkey = index::ref_key(r.party(), *j);
        // Required even when it is empty: "S shows no receipt of it" is
        // said only on S's complete run, never on one left out.
        let rj = receipts.remove(&rkey).ok_or_else(|| {
            mismatch(format!(
                "the run of {}'s receipts of {rid} ({rkey}) is left out: a bundle carries one for every ack and answer it discloses, so that what {} observed is complete",
                s.party(),
                s.party()
            ))
        })?;
        {
            let run = s.run(rj, &rkey, true, &format!("receipts of {rid}"))?;
            for (k, e) in &run.entries {
                if let Some(x) = receipt_of(g, *j, e, *k) {
                    resp.observe(
                        x.dated,
                        format!("{}'s receipt {} dated {}", s.party(), x.id, x.dated),
                        false,
                    );
                }
            }
        }
        if answer {
            t.answers.push(resp);
        } else {
            t.acks.push(resp);
        }
    }
    Ok(t)
}

/// Takes in, as S's observations of `resp`, the cosignatures `seen` of R's
/// tree of `size` holding it: S's witness's and neutral ones, never R's own
/// witness's (R's word does not observe for S).
fn observe_trees(resp: &mut Response, seen: &[Seen], r_party: &str, size: u64) {
    for c in seen.iter().filter(|c| c.role != Role::Own) {
        resp.observe(
            c.at,
            format!(
                "{} cosigned {r_party}'s tree of size {size} holding it",
                c.describe()
            ),
            c.role == Role::Neutral,
        );
    }
}

/// Takes in `seen` proofs: a response of some thread under an earlier tree
/// of R's log, cosigned by S's witness or a neutral one.
pub(crate) fn apply_seen(
    threads: &mut [Thread],
    seen: &[String],
    s_party: &str,
    r: &mut ProvedLog,
    keys: &Keyring,
) -> Result<(), BundleError> {
    for (n, text) in seen.iter().enumerate() {
        let part = format!("seen[{n}]");
        let (j, cp) = r.seen(text, keys, &part)?;
        let rid = r.id(j);
        let resp = threads
            .iter_mut()
            .flat_map(|t| t.acks.iter_mut().chain(t.answers.iter_mut()))
            .find(|x| x.id == rid)
            .ok_or_else(|| {
                within(
                    &part,
                    mismatch(format!("{rid} is no ack or answer of this bundle")),
                )
            })?;
        observe_trees(resp, &cosigners(&cp, s_party), r.party(), cp.size);
    }
    Ok(())
}

/// Refuses receipts runs no response asked for.
pub(crate) fn no_leftovers(receipts: &HashMap<String, &KeyedRunJson>) -> Result<(), BundleError> {
    match receipts.keys().next() {
        Some(k) => Err(mismatch(format!(
            "the receipts run of {k} is about no ack or answer in this bundle"
        ))),
        None => Ok(()),
    }
}

/// Both deadlines of a thread.
pub(crate) fn judge(
    t: &Thread,
    a: &Agreement,
    s_party: &str,
    r_party: &str,
    covers: &Option<(jiff::Timestamp, String)>,
) -> (Deadline, Deadline) {
    let rv = Receiver {
        party: r_party,
        receipt: t.receipt.as_ref().map(|x| (x.dated, &x.status)),
        covers: covers.clone(),
    };
    let sent = t.entry.header().time;
    let either: Vec<&Response> = t.acks.iter().chain(&t.answers).collect();
    let answers: Vec<&Response> = t.answers.iter().collect();
    (
        assess(sent, s_party, a.terms.ack_within_secs, &either, &rv),
        assess(sent, s_party, a.terms.answer_within_secs, &answers, &rv),
    )
}

/// Takes the receipts runs by key, refusing two of one key.
pub(crate) fn by_key(runs: &[KeyedRunJson]) -> Result<HashMap<String, &KeyedRunJson>, BundleError> {
    let mut m = HashMap::new();
    for r in runs {
        if m.insert(r.key.clone(), r).is_some() {
            return Err(mismatch(format!("two receipts runs of {}", r.key)));
        }
    }
    Ok(m)
}

/// Checks the agreement's proposal and signature, each in whichever of the
/// two logs its checkpoint names.
pub(crate) fn agreement(
    proposal: &str,
    signature: &str,
    a: &mut ProvedLog,
    b: &mut ProvedLog,
    keys: &Keyring,
) -> Result<Agreement, BundleError> {
    let mut one = |text: &str, part: &str| -> Result<ProvedEntry, BundleError> {
        let p = TlogProof::parse(text, "agreement").map_err(|e| within(part, e))?;
        let (origin, _, _) = checkpoint::peek(&p.checkpoint).map_err(|source| {
            within(
                part,
                BundleError::Checkpoint {
                    part: "agreement",
                    source,
                },
            )
        })?;
        if origin == a.origin() {
            a.entry(text, keys, part)
        } else if origin == b.origin() {
            b.entry(text, keys, part)
        } else {
            Err(within(
                part,
                mismatch(format!(
                    "it is under a checkpoint of {origin}, neither log of the bundle"
                )),
            ))
        }
    };
    let p = one(proposal, "agreement")?;
    let g = one(signature, "agreement_signature")?;
    check_agreement(&p, &g)
}

/// An inquiry proved acknowledged and/or answered, or not.
#[derive(Clone, Debug)]
pub struct ProvedAnswered {
    /// The inquiry, in the sender's log.
    pub inquiry: ProvedEntry,
    /// The agreement it was sent under.
    pub agreement: Agreement,
    /// The receiver's party.
    pub receiver: String,
    /// The receipt, acks and answers.
    pub thread: Thread,
    /// The acknowledgement deadline (first ack or answer).
    pub ack: Deadline,
    /// The answer deadline.
    pub answer: Deadline,
    /// On what the completeness of the replies rests.
    pub replies_basis: String,
}

/// Verifies an answered bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedAnswered, BundleError> {
    let j: AnsweredJson = from_slice(bytes)?;
    let mut s = check_log(&j.sender, keys, "sender")?;
    let mut r = check_log(&j.receiver, keys, "receiver")?;
    let inquiry = s.entry(&j.inquiry, keys, "inquiry")?;
    let iid = id(&inquiry);
    let h = inquiry.entry.header().clone();
    require_kind(&inquiry, Kind::Inquiry, "inquiry", "an inquiry")?;
    let to =
        h.to.clone()
            .ok_or_else(|| mismatch(format!("inquiry {iid} is addressed to no office")))?;
    let from = Office::new(&h.from)
        .map_err(|_| mismatch(format!("inquiry {iid} is not from an office")))?;
    if r.party() != to.party().as_str() {
        return Err(mismatch(format!(
            "the receiver's log is {}, but {iid} is addressed to {to}",
            r.origin()
        )));
    }
    let agreement = agreement(&j.agreement, &j.agreement_signature, &mut s, &mut r, keys)?;
    if h.agreement.as_deref() != Some(agreement.id.as_str()) {
        return Err(mismatch(format!(
            "inquiry {iid} names agreement {:?}, not {}",
            h.agreement.as_deref().unwrap_or(""),
            agreement.id
        )));
    }
    if !super::between(&agreement, s.party(), r.party()) {
        return Err(mismatch(format!(
            "agreement {} is between {} and {}, not {} and {}",
            agreement.id,
            agreement.proposer,
            agreement.counterparty,
            s.party(),
            r.party()
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
    let mut receipts = by_key(&j.receipts)?;
    let thread = gather(
        inquiry.index,
        &inquiry.entry,
        &mut s,
        &mut r,
        &j.replies,
        &mut receipts,
    )?;
    no_leftovers(&receipts)?;
    let mut threads = [thread];
    apply_seen(&mut threads, &j.seen, s.party(), &mut r, keys)?;
    let [thread] = threads;
    s.check_times()?;
    r.check_times()?;
    let (ack, answer) = judge(&thread, &agreement, s.party(), r.party(), &r.covers());
    Ok(ProvedAnswered {
        inquiry,
        agreement,
        receiver: r.party().to_owned(),
        thread,
        ack,
        answer,
        replies_basis: index_basis(&r.checkpoint, s.party()),
    })
}

impl ProvedAnswered {
    /// The proved claim in a few sentences.
    pub fn sentence(&self) -> String {
        let i = &self.inquiry;
        let h = i.entry.header();
        let (sp, rp) = (h.log.as_str(), self.receiver.as_str());
        let mut s = format!(
            "Inquiry {} — {}, dated {} by its writer — was sent under {}, in force at that time, and is in {} (tree of size {}, {}).",
            id(i),
            describe(&i.entry),
            h.time,
            describe_agreement(&self.agreement),
            i.checkpoint.origin,
            i.checkpoint.size,
            describe_signatures(&i.checkpoint),
        );
        match &self.thread.receipt {
            Some(r) => {
                let how = match &r.status {
                    ReceiptStatus::Delivered => "as delivered".to_owned(),
                    ReceiptStatus::Refused(t) => format!("and refused it ({t})"),
                };
                s += &format!(
                    " {rp} receipted it {how} in {} dated {} ({rp}'s clock).",
                    r.id, r.dated
                );
            }
            None => s += &format!(" {rp}'s log holds no receipt of it."),
        }
        let (na, nb) = (self.thread.acks.len(), self.thread.answers.len());
        s += &format!(
            " {rp}'s log holds {na} ack(s) and {nb} answer(s) of it, complete by {}.",
            self.replies_basis
        );
        s += " ";
        s += &self.ack.sentence("acknowledged", sp, rp);
        s += " ";
        s += &self.answer.sentence("answered", sp, rp);
        s
    }
}
