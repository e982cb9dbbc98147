//! `hotline/answered/v2`: one inquiry, the agreement it was sent under, the
//! complete run of the receiver's entries referring to it, and the sender's
//! complete runs of receipts of each ack and answer.

use hotline_proto::agreement::Agreement;
use hotline_proto::claims::answered::{AgreementProofs, answered_bundle};
use hotline_proto::entry::{Kind, SignedEntry};
use hotline_proto::index::{KeyedRun, ref_key};
use hotline_proto::party::{Office, Party};

use super::ProofSource;
use super::checkpoints::{Chosen, Want};
use super::evidence::parse_all;
use crate::error::{NodeError, Result};

/// `t` plus `secs` seconds, saturating.
pub(crate) fn plus(t: jiff::Timestamp, secs: u64) -> jiff::Timestamp {
    i64::try_from(secs)
        .ok()
        .and_then(|s| t.checked_add(jiff::SignedDuration::from_secs(s)).ok())
        .unwrap_or(jiff::Timestamp::MAX)
}

/// An agreement held here: the folded agreement, its proposal `party:index`
/// and the index of the counterparty's signature in its own log.
pub(crate) struct HeldAgreement {
    pub agreement: Agreement,
    pub proposer: Party,
    pub proposal: u64,
    pub signature: u64,
}

impl HeldAgreement {
    /// How many entries of `party`'s log a checkpoint must hold for both
    /// agreement entries of that log.
    pub fn need(&self, party: &Party) -> u64 {
        let mut n = 0;
        if *party == self.proposer {
            n = n.max(self.proposal + 1);
        }
        if *party == self.agreement.counterparty {
            n = n.max(self.signature + 1);
        }
        n
    }
}

impl ProofSource {
    /// The agreement `id`, held here and signed by its counterparty.
    pub(crate) fn held_agreement(
        &self,
        f: impl Fn(&Agreement) -> bool,
    ) -> Result<Option<HeldAgreement>> {
        for (a, p, i) in self.agreements()? {
            if f(&a) {
                let signature = self.agreement_signature(&a, &p, i)?;
                return Ok(Some(HeldAgreement {
                    agreement: a,
                    proposer: p,
                    proposal: i,
                    signature,
                }));
            }
        }
        Ok(None)
    }

    /// The proposal and the signature, each under its log's chosen checkpoint.
    pub(crate) fn agreement_proofs(
        &self,
        a: &HeldAgreement,
        x: &Chosen,
        y: &Chosen,
    ) -> Result<AgreementProofs> {
        let under = |party: &Party| {
            if *party == x.party {
                Ok(x)
            } else if *party == y.party {
                Ok(y)
            } else {
                Err(NodeError::BadInput(format!(
                    "agreement {} is not between {} and {}",
                    a.agreement.id, x.party, y.party
                )))
            }
        };
        Ok(AgreementProofs {
            proposal: self.tlog_proof(under(&a.proposer)?, a.proposal)?,
            signature: self.tlog_proof(under(&a.agreement.counterparty)?, a.signature)?,
        })
    }

    /// The acks and answers of the receiver office among `replies` (entries
    /// of R's log referring to the inquiry).
    pub(crate) fn responses(
        replies: &[(u64, SignedEntry)],
        to: &Office,
        target: &hotline_proto::entry::Ref,
    ) -> Vec<u64> {
        replies
            .iter()
            .filter(|(_, r)| {
                let h = r.header();
                h.from == to.as_str()
                    && h.refs.first() == Some(target)
                    && (h.kind == Kind::Answer
                        || (h.kind == Kind::Ack && h.status.as_deref() != Some("closed")))
            })
            .map(|(j, _)| *j)
            .collect()
    }

    /// S's complete runs of receipts of each response `R:j`, under C_S.
    pub(crate) fn receipts_runs(
        &self,
        s: &Chosen,
        r_party: &Party,
        responses: &[u64],
    ) -> Result<Vec<KeyedRun>> {
        responses
            .iter()
            .map(|j| self.keyed_run(s, &ref_key(r_party.as_str(), *j), 0))
            .collect()
    }

    /// `seen`: each response `R:j` in an earlier tree of R's log that S's
    /// witness (or a neutral one) cosigned by the deadline `by` — S's
    /// observation on that witness's clock — when C_R itself is not such a tree.
    pub(crate) fn seen_proofs(
        &self,
        r: &Chosen,
        replies: &[(u64, SignedEntry)],
        responses: &[u64],
        by: jiff::Timestamp,
    ) -> Result<Vec<hotline_proto::bundle::TlogProof>> {
        let by = u64::try_from(by.as_second()).unwrap_or(0);
        let mut out = Vec::new();
        for j in responses {
            let Some((_, e)) = replies.iter().find(|(k, _)| k == j) else {
                continue;
            };
            let dated = u64::try_from(e.header().time.as_second()).unwrap_or(0);
            if let Some(cp) = self.observed(&r.party, *j, dated, by)?
                && cp.size < r.size
            {
                out.push(self.tlog_proof(&cp, *j)?);
            }
        }
        Ok(out)
    }

    /// `hotline/answered/v2` for the inquiry `id`.
    pub fn answered(&self, id: &str) -> Result<String> {
        let (party, index) = Self::parse_id(id)?;
        let (_, e) = self.leaf(&party, index)?;
        if e.header().kind != Kind::Inquiry {
            return Err(NodeError::BadInput(format!(
                "{id} is a {}, not an inquiry",
                e.header().kind
            )));
        }
        let to = Self::addressee(&e)?;
        let receiver = to.party();
        let agreement_id = e
            .header()
            .agreement
            .clone()
            .ok_or_else(|| NodeError::BadInput(format!("{id} names no agreement")))?;
        let a = self
            .held_agreement(|a| a.id == agreement_id)?
            .ok_or_else(|| {
                NodeError::NotFound(format!("agreement {agreement_id} is not held here"))
            })?;
        let key = ref_key(party.as_str(), index);
        let rlog = self.log(&receiver)?;
        let held = self.store.size(rlog.id)?;
        let replies = parse_all(&self.key_entries(&receiver, &key, held, 0)?)?;
        let target = hotline_proto::claims::reference(&e, index);
        let responses = Self::responses(&replies, &to, &target);
        if responses.is_empty() {
            return Err(NodeError::NotFound(format!(
                "{id} has no acknowledgement or answer held here yet"
            )));
        }
        let r_need = replies
            .iter()
            .map(|(j, _)| j + 1)
            .max()
            .unwrap_or(0)
            .max(a.need(&receiver));
        // "Missed" rests on R's own signed state at the deadline (R's
        // receipt plus the limit): R's tree should be dated by R at or
        // after the later deadline; "met" on S's observation, which the
        // most widely cosigned tree of R carries.
        let received = replies
            .iter()
            .filter(|(_, r)| r.header().kind == Kind::Receipt)
            .map(|(_, r)| r.header().time)
            .min();
        let limit = [
            a.agreement.terms.ack_within_secs,
            a.agreement.terms.answer_within_secs,
        ]
        .into_iter()
        .flatten()
        .max();
        let want = match (received, limit) {
            (Some(t), Some(l)) => t
                .checked_add(jiff::SignedDuration::from_secs(
                    i64::try_from(l).unwrap_or(i64::MAX),
                ))
                .map_or(Want::Cosigned, Want::DatedAfter),
            _ => Want::Cosigned,
        };
        let r = self.checkpoint_for(&receiver, r_need, want)?;
        // The sender's tree must hold its receipts of the responses too.
        let mut s_need = (index + 1).max(a.need(&party));
        let slog = self.log(&party)?;
        let s_held = self.store.size(slog.id)?;
        for j in &responses {
            for (k, _) in self.key_entries(&party, &ref_key(receiver.as_str(), *j), s_held, 0)? {
                s_need = s_need.max(k + 1);
            }
        }
        let s = self.checkpoint_for(&party, s_need, Want::Cosigned)?;
        let in_r: Vec<u64> = responses.iter().copied().filter(|j| *j < r.size).collect();
        let by = plus(e.header().time, limit.unwrap_or(0));
        let seen = self.seen_proofs(&r, &replies, &in_r, by)?;
        self.checked(answered_bundle(
            &self.log_evidence(&s)?,
            &self.log_evidence(&r)?,
            &self.tlog_proof(&s, index)?,
            &self.agreement_proofs(&a, &s, &r)?,
            &self.keyed_run(&r, &key, 0)?,
            &self.receipts_runs(&s, &receiver, &in_r)?,
            &seen,
        ))
    }
}
