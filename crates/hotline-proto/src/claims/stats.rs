//! `hotline/stats/v2`: a month of one channel's inquiries, and how each
//! deadline of each stands, every count complete.
//!
//! ```text
//! {"bundle": "hotline/stats/v2",
//!  "channel": {"from": "us/fbi", "to": "ru/fsb"}, "month": "2021-07",
//!  "sender": <log>, "receiver": <log>,
//!  "agreement": "<tlog-proof>", "agreement_signature": "<tlog-proof>",
//!  "inquiries": <keyed run of kind/inquiry/<from>/<to> at the sender's checkpoint>,
//!  "replies": [<keyed run of ref/<S>/<i> in R's log, base absent>, …],   // one per inquiry of the month
//!  "receipts": [<keyed run of ref/<R>/<j> in S's log, base absent>, …],  // per ack or answer
//!  "seen": ["<tlog-proof>", …]}                                          // optional, as in answered
//! ```
//!
//! The inquiries run works as an absence bundle's run: its base is the
//! state before the last inquiry dated before the month (S's clock), and the
//! sender's tree must cover the month's end on S's own signatures or a
//! neutral witness's. Each inquiry of the month is assessed as an answered
//! bundle assesses one ([`super::deadline`]): met on S's observation,
//! missed on R's own signatures — R's deadline runs from R's receipt, so
//! inquiries written today but dated last month are not counted missed
//! (attack e) — otherwise undetermined. Inquiries naming another agreement
//! are counted as sent, not assessed.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::answered::{
    AgreementProofs, Thread, agreement, apply_seen, by_key, gather, judge, no_leftovers,
};
use super::deadline::{Deadline, Verdict};
use super::delivery::ReceiptStatus;
use super::history::{LogEvidence, LogJson, check_log};
use super::roles::{Role, cosigners, index_basis};
use super::{
    STATS_V2, between, describe_agreement, fmt_duration, from_slice, malformed, mismatch, to_json,
};
use crate::agreement::Agreement;
use crate::bundle::{BundleError, Keyring, TlogProof};
use crate::entry::Kind;
use crate::index::{self, KeyedRun, KeyedRunJson};
use crate::party::Office;

/// A channel: one direction between two offices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The sending office.
    pub from: Office,
    /// The addressed office.
    pub to: Office,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsJson {
    bundle: String,
    channel: Channel,
    month: String,
    sender: LogJson,
    receiver: LogJson,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    agreement: String,
    #[serde(deserialize_with = "crate::limits::tlog_proof_text")]
    agreement_signature: String,
    inquiries: KeyedRunJson,
    #[serde(default)]
    replies: Vec<KeyedRunJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    receipts: Vec<KeyedRunJson>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::limits::tlog_proof_texts"
    )]
    seen: Vec<String>,
}

/// The runs of a statistics bundle, as the node supplies them.
#[derive(Clone, Debug)]
pub struct StatsRuns {
    /// `kind/inquiry/<from>/<to>` at the sender's checkpoint.
    pub inquiries: KeyedRun,
    /// `ref/<S>/<i>` in R's log, one per inquiry of the month.
    pub replies: Vec<KeyedRun>,
    /// `ref/<R>/<j>` in S's log, per ack or answer.
    pub receipts: Vec<KeyedRun>,
    /// Optional: responses under earlier trees of R's log.
    pub seen: Vec<TlogProof>,
}

/// Writes a statistics bundle for `channel` in `month` (`YYYY-MM`, UTC).
pub fn stats_bundle(
    channel: &Channel,
    month: &str,
    sender: &LogEvidence,
    receiver: &LogEvidence,
    agreement: &AgreementProofs,
    runs: &StatsRuns,
) -> String {
    to_json(&StatsJson {
        bundle: STATS_V2.into(),
        channel: channel.clone(),
        month: month.into(),
        sender: sender.into(),
        receiver: receiver.into(),
        agreement: agreement.proposal.to_text(),
        agreement_signature: agreement.signature.to_text(),
        inquiries: (&runs.inquiries).into(),
        replies: runs.replies.iter().map(Into::into).collect(),
        receipts: runs.receipts.iter().map(Into::into).collect(),
        seen: runs.seen.iter().map(TlogProof::to_text).collect(),
    })
}

/// The first and the following month's first second, UTC, of `YYYY-MM`.
pub fn month_bounds(month: &str) -> Option<(Timestamp, Timestamp)> {
    let b = month.as_bytes();
    if b.len() != 7
        || b[4] != b'-'
        || !month[..4]
            .bytes()
            .chain(month[5..].bytes())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let (y, m): (i32, u32) = (month[..4].parse().ok()?, month[5..].parse().ok()?);
    if !(1..=12).contains(&m) {
        return None;
    }
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let start = format!("{y:04}-{m:02}-01T00:00:00Z").parse().ok()?;
    let end = format!("{ny:04}-{nm:02}-01T00:00:00Z").parse().ok()?;
    Some((start, end))
}

/// One inquiry of the month and how its deadlines stand.
#[derive(Clone, Debug)]
pub struct InquiryRow {
    /// The inquiry, its receipt, acks and answers.
    pub thread: Thread,
    /// Whether it names this agreement (else it is not assessed).
    pub assessed: bool,
    /// The acknowledgement deadline (first ack or answer).
    pub ack: Deadline,
    /// The answer deadline.
    pub answer: Deadline,
}

/// Counts of one deadline over the month.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Met, on the sender's observation.
    pub met: usize,
    /// Missed, on the receiver's own signatures.
    pub missed: usize,
    /// Settled by neither side's signatures.
    pub undetermined: usize,
}

/// A month of a channel, proved.
#[derive(Clone, Debug)]
pub struct ProvedStats {
    /// The channel.
    pub channel: Channel,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The agreement whose deadlines apply.
    pub agreement: Agreement,
    /// Every inquiry of the month on the channel, in log order.
    pub rows: Vec<InquiryRow>,
    /// How the sender's tree covers the month's end.
    pub cover: String,
    /// On what the sender's and the receiver's indexes rest.
    pub basis: (String, String),
}

fn tally(rows: &[InquiryRow], pick: impl Fn(&InquiryRow) -> &Deadline) -> Tally {
    let mut t = Tally::default();
    for r in rows.iter().filter(|r| r.assessed) {
        match pick(r).verdict {
            Verdict::Met { .. } => t.met += 1,
            Verdict::Missed { .. } => t.missed += 1,
            Verdict::Undetermined(_) => t.undetermined += 1,
            Verdict::NoLimit => {}
        }
    }
    t
}

impl ProvedStats {
    /// Inquiries sent on the channel in the month.
    pub fn sent(&self) -> usize {
        self.rows.len()
    }

    /// Inquiries the receiver receipted as delivered.
    pub fn delivered(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| {
                matches!(
                    r.thread.receipt.as_ref().map(|x| &x.status),
                    Some(ReceiptStatus::Delivered)
                )
            })
            .count()
    }

    /// The acknowledgement deadline over the month.
    pub fn ack(&self) -> Tally {
        tally(&self.rows, |r| &r.ack)
    }

    /// The answer deadline over the month.
    pub fn answer(&self) -> Tally {
        tally(&self.rows, |r| &r.answer)
    }

    /// Inquiries not assessed (they name another agreement).
    pub fn not_assessed(&self) -> usize {
        self.rows.iter().filter(|r| !r.assessed).count()
    }

    /// The ids of inquiries with a deadline missed.
    pub fn missed(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|r| {
                matches!(r.ack.verdict, Verdict::Missed { .. })
                    || matches!(r.answer.verdict, Verdict::Missed { .. })
            })
            .map(|r| r.thread.id.as_str())
            .collect()
    }

    /// The proved claim in a few sentences.
    pub fn sentence(&self) -> String {
        let (from, to) = (&self.channel.from, &self.channel.to);
        let (sp, rp) = (from.party(), to.party());
        let limit = |w: Option<u64>| {
            w.map_or("none".to_owned(), |w| {
                fmt_duration(i64::try_from(w).unwrap_or(i64::MAX))
            })
        };
        let t = &self.agreement.terms;
        let one = |name: &str, x: Tally| {
            format!(
                "{name}: {} met (on {sp}'s observation), {} missed (on {rp}'s own signatures), {} undetermined",
                x.met, x.missed, x.undetermined
            )
        };
        let missed = self.missed();
        let ids = if missed.is_empty() {
            String::new()
        } else {
            format!(" Missed: {}.", missed.join(", "))
        };
        let na = match self.not_assessed() {
            0 => String::new(),
            k => format!(" ({k} name another agreement and are not assessed)"),
        };
        format!(
            "Channel {from} → {to}, {} (UTC, by {sp}'s clock), under {} (acknowledge within {}, answer within {}): {} inquiries sent{na}, complete by {}; {}; {} receipted by {rp} as delivered, complete by {}. {}. {}.{ids}",
            self.month,
            describe_agreement(&self.agreement),
            limit(t.ack_within_secs),
            limit(t.answer_within_secs),
            self.sent(),
            self.basis.0,
            self.cover,
            self.delivered(),
            self.basis.1,
            one("Acknowledgement", self.ack()),
            one("Answer", self.answer()),
        )
    }
}

/// Verifies a statistics bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedStats, BundleError> {
    let j: StatsJson = from_slice(bytes)?;
    let (from, to) = (&j.channel.from, &j.channel.to);
    let (sp, rp) = (from.party().to_string(), to.party().to_string());
    if sp == rp {
        return Err(malformed(format!(
            "channel {from} → {to} is inside one party"
        )));
    }
    let (m_start, m_end) = month_bounds(&j.month)
        .ok_or_else(|| malformed(format!("month {:?} is not YYYY-MM", j.month)))?;
    let mut s = check_log(&j.sender, keys, "sender")?;
    let mut r = check_log(&j.receiver, keys, "receiver")?;
    if s.party() != sp || r.party() != rp {
        return Err(mismatch(format!(
            "the logs are {} and {}, not {sp}'s and {rp}'s",
            s.origin(),
            r.origin()
        )));
    }
    let agreement = agreement(&j.agreement, &j.agreement_signature, &mut s, &mut r, keys)?;
    if !between(&agreement, &sp, &rp) {
        return Err(mismatch(format!(
            "agreement {} is between {} and {}, not {sp} and {rp}",
            agreement.id, agreement.proposer, agreement.counterparty
        )));
    }
    if !agreement.terms.allows(from, to, Kind::Inquiry) {
        return Err(mismatch(format!(
            "agreement {} does not open {from} ↔ {to} for inquiries",
            agreement.id
        )));
    }
    let key = index::channel_key(Kind::Inquiry, from.as_str(), Some(to.as_str()));
    let run = s.run(&j.inquiries, &key, false, "inquiries")?;
    if run.base_count > 0
        && run
            .entries
            .first()
            .is_none_or(|(_, e)| e.header().time >= m_start)
    {
        return Err(mismatch(format!(
            "the inquiries run has a base but does not begin with the last inquiry dated before {m_start}: inquiries of the month could be left out"
        )));
    }
    let mut replies = by_key(&j.replies)?;
    let mut receipts = by_key(&j.receipts)?;
    let mut threads = vec![];
    for (i, e) in &run.entries {
        let t = e.header().time;
        if t < m_start || t >= m_end {
            continue;
        }
        let rkey = index::ref_key(&sp, *i);
        let rj = replies.remove(&rkey).ok_or_else(|| {
            mismatch(format!(
                "inquiry {} of the month has no replies run ({rkey} in {rp}'s log): every inquiry's receipt, acks and answers must be shown",
                s.id(*i)
            ))
        })?;
        threads.push(gather(*i, e, &mut s, &mut r, rj, &mut receipts)?);
    }
    if let Some(k) = replies.keys().next() {
        return Err(mismatch(format!(
            "the replies run of {k} is about no inquiry of the month"
        )));
    }
    no_leftovers(&receipts)?;
    apply_seen(&mut threads, &j.seen, &sp, &mut r, keys)?;
    s.check_times()?;
    r.check_times()?;
    let seen = cosigners(&s.checkpoint, &rp);
    let own = s
        .covers()
        .filter(|(t, _)| *t >= m_end)
        .map(|(_, how)| format!("on {sp}'s own signatures its tree covers the month's end: {how}"));
    let neutral = seen
        .iter()
        .find(|c| c.role == Role::Neutral && c.at >= m_end)
        .map(|c| {
            format!(
                "a neutral witness covers the month's end: {} cosigned {sp}'s tree",
                c.describe()
            )
        });
    let cover = own.or(neutral).ok_or_else(|| {
        BundleError::NotBracketed(format!(
            "nothing shows that {sp}'s tree of size {} covers the month's end {m_end} on {sp}'s own signatures or a neutral witness's ({rp}'s cosignature alone does not: the counts may favour {rp})",
            s.checkpoint.size
        ))
    })?;
    let covers = r.covers();
    let rows = threads
        .into_iter()
        .map(|t| {
            let assessed = t.entry.header().agreement.as_deref() == Some(agreement.id.as_str());
            let (ack, answer) = judge(&t, &agreement, &sp, &rp, &covers);
            InquiryRow {
                thread: t,
                assessed,
                ack,
                answer,
            }
        })
        .collect();
    Ok(ProvedStats {
        channel: j.channel.clone(),
        month: j.month.clone(),
        basis: (
            index_basis(&s.checkpoint, &rp),
            index_basis(&r.checkpoint, &sp),
        ),
        agreement,
        rows,
        cover,
    })
}
