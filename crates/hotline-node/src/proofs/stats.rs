//! `hotline/stats/v2`: a month of one channel — the channel's keyed run of
//! inquiries from the last one before the month, and per inquiry of the
//! month the receiver's complete run of replies and the sender's complete
//! runs of receipts of them.

use hotline_proto::claims::stats::{Channel, StatsRuns, month_bounds, stats_bundle};
use hotline_proto::entry::Kind;
use hotline_proto::index::{channel_key, ref_key};
use hotline_proto::party::Office;

use super::ProofSource;
use super::checkpoints::Want;
use super::evidence::{last_before, parse_all};
use crate::error::{NodeError, Result};

impl ProofSource {
    /// `hotline/stats/v2` for one channel and month (`YYYY-MM`).
    pub fn stats(&self, from: &Office, to: &Office, month: &str) -> Result<String> {
        let (start, end) = month_bounds(month)
            .ok_or_else(|| NodeError::BadInput(format!("{month:?} is not a month (YYYY-MM)")))?;
        if end > crate::clock::now() {
            return Err(NodeError::BadInput(format!(
                "{month} is not over yet: figures cover whole months (try the previous month)"
            )));
        }
        let a = self
            .held_agreement(|a| a.terms.allows(from, to, Kind::Inquiry))?
            .ok_or_else(|| {
                NodeError::NotFound(format!(
                    "no agreement held here opens {from} → {to} for inquiries"
                ))
            })?;
        let (sp, rp) = (from.party(), to.party());
        let key = channel_key(Kind::Inquiry, from.as_str(), Some(to.as_str()));
        // S's tree must hold the month's inquiries and S's receipts of
        // their replies (met rests on them): found in what is held now.
        let slog = self.log(&sp)?;
        let s_held = self.store.size(slog.id)?;
        let rlog = self.log(&rp)?;
        let held = self.store.size(rlog.id)?;
        let mut s_need = a.need(&sp);
        for (i, e) in parse_all(&self.key_entries(&sp, &key, s_held, 0)?)? {
            let t = e.header().time;
            if t < start || t >= end {
                continue;
            }
            s_need = s_need.max(i + 1);
            for (j, _) in self.key_entries(&rp, &ref_key(sp.as_str(), i), held, 0)? {
                for (k, _) in self.key_entries(&sp, &ref_key(rp.as_str(), j), s_held, 0)? {
                    s_need = s_need.max(k + 1);
                }
            }
        }
        let s = self.checkpoint_for(&sp, s_need, Want::DatedAfter(end))?;
        let all = self.run_entries(&s, &key)?;
        let parsed = parse_all(&all)?;
        let first = last_before(&parsed, start);
        let month_of: Vec<u64> = parsed
            .iter()
            .filter(|(_, e)| {
                let t = e.header().time;
                t >= start && t < end
            })
            .map(|(i, _)| *i)
            .collect();
        // R's tree must hold every reply to the month's inquiries it holds.
        let mut r_need = a.need(&rp);
        for i in &month_of {
            for (j, _) in self.key_entries(&rp, &ref_key(sp.as_str(), *i), held, 0)? {
                r_need = r_need.max(j + 1);
            }
        }
        let r = self.checkpoint_for(&rp, r_need, Want::DatedAfter(end))?;
        let mut replies = Vec::new();
        let mut responses = Vec::new();
        let mut seen = Vec::new();
        let limit = [
            a.agreement.terms.ack_within_secs,
            a.agreement.terms.answer_within_secs,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        for i in &month_of {
            let rk = ref_key(sp.as_str(), *i);
            let run = self.keyed_run(&r, &rk, 0)?;
            let entries = parse_all(&run.leaves)?;
            let target = parsed
                .iter()
                .find(|(k, _)| k == i)
                .map(|(k, e)| hotline_proto::claims::reference(e, *k))
                .ok_or(super::ProofError::InquiryMissing)?;
            let mine = Self::responses(&entries, to, &target);
            let sent = parsed
                .iter()
                .find(|(k, _)| k == i)
                .map_or(end, |(_, e)| e.header().time);
            seen.extend(self.seen_proofs(
                &r,
                &entries,
                &mine,
                super::answered::plus(sent, limit),
            )?);
            responses.extend(mine);
            replies.push(run);
        }
        let runs = StatsRuns {
            inquiries: self.keyed_run_of(&s, &key, &all, first)?,
            replies,
            receipts: self.receipts_runs(&s, &rp, &responses)?,
            seen,
        };
        self.checked(stats_bundle(
            &Channel {
                from: from.clone(),
                to: to.clone(),
            },
            month,
            &self.log_evidence(&s)?,
            &self.log_evidence(&r)?,
            &self.agreement_proofs(&a, &s, &r)?,
            &runs,
        ))
    }
}
