//! `hotline/stats/v1`: a month of one channel, every count backed by
//! disclosed leaves of both logs.
//!
//! ```text
//! {"bundle": "hotline/stats/v1",
//!  "channel": {"from": "us/fbi", "to": "ru/fsb"},
//!  "month": "2021-07",
//!  "agreement": <EntryProof>, "agreement_signature": <EntryProof>,
//!  "sender": <range>,     // the sender's log, bracketing the month
//!  "receiver": <range>}   // the receiver's log, from the month's start to a later cosigned checkpoint
//! ```
//!
//! Both ranges are [`RangeJson`] (start, end, frontier, leaves), checked by
//! the same code as the absence bundle. The sender range's start is cosigned
//! at or before the month's first second and its end at or after the next
//! month's, so the inquiries on the channel dated in the month (writer's
//! clock) that became visible meanwhile are all there: **sent**. In the
//! receiver range (start cosigned at or before the month's start, end at
//! the *horizon*, the earliest pinned cosignature on it): receipts
//! referencing them (**delivered**, or refused), the addressed office's acks
//! and answers. **Acknowledged in time** / **answered in time**: the first
//! ack or answer / the first answer came within the agreement's limits
//! (writers' clocks). **Overdue**: a deadline fell before the horizon and
//! was not met. Inquiries naming another agreement are counted as sent but
//! not assessed against this one's deadlines.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::delivery::ReceiptStatus;
use super::range::{ProvedRange, RangeJson, check_range, clocks, end_from, start_by};
use super::{
    Deadline, EntryProof, EntryProofJson, LogRange, STATS_V1, between, check_agreement,
    describe_agreement, fmt_cosign, fmt_duration, from_slice, malformed, mismatch, to_json,
};
use crate::agreement::Agreement;
use crate::b64;
use crate::bundle::{BundleError, Keyring};
use crate::checkpoint::Cosignature;
use crate::entry::Kind;
use crate::name::Office;

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
    agreement: EntryProofJson,
    agreement_signature: EntryProofJson,
    sender: RangeJson,
    receiver: RangeJson,
}

/// Writes a statistics bundle for `channel` in `month` (`YYYY-MM`, UTC).
pub fn stats_bundle(
    channel: &Channel,
    month: &str,
    agreement: &EntryProof,
    agreement_signature: &EntryProof,
    sender: &LogRange,
    receiver: &LogRange,
) -> String {
    to_json(&StatsJson {
        bundle: STATS_V1.into(),
        channel: channel.clone(),
        month: month.into(),
        agreement: agreement.into(),
        agreement_signature: agreement_signature.into(),
        sender: sender.into(),
        receiver: receiver.into(),
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

/// How one deadline of one inquiry stands at the horizon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The first response came within the limit (or there is no limit and it came).
    InTime,
    /// The deadline fell before the horizon and was not met.
    Overdue,
    /// No response in time yet, and the deadline had not fallen by the horizon.
    Open,
    /// No limit, and no response.
    NoDeadline,
    /// The inquiry names another agreement: not assessed.
    NotAssessed,
}

/// One inquiry of the month and what became of it.
#[derive(Clone, Debug)]
pub struct InquiryRow {
    /// Its id.
    pub id: String,
    /// Its writer's time.
    pub time: Timestamp,
    /// The receipt in the receiver range, if any.
    pub receipt: Option<(String, ReceiptStatus)>,
    /// The acknowledgement deadline (first ack or answer).
    pub ack: Deadline,
    /// The answer deadline.
    pub answer: Deadline,
    /// The acknowledgement deadline at the horizon.
    pub ack_outcome: Outcome,
    /// The answer deadline at the horizon.
    pub answer_outcome: Outcome,
}

impl InquiryRow {
    /// Whether a deadline was missed by the horizon.
    pub fn overdue(&self) -> bool {
        self.ack_outcome == Outcome::Overdue || self.answer_outcome == Outcome::Overdue
    }
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
    /// The sender's log, disclosed.
    pub sender: ProvedRange,
    /// The receiver's log, disclosed.
    pub receiver: ProvedRange,
    /// Cosignatures bracketing the month on the sender's log.
    pub sender_span: (Cosignature, Cosignature),
    /// Cosignature on the receiver range's start, at or before the month's start.
    pub receiver_start: Cosignature,
    /// The horizon: the earliest pinned cosignature on the receiver range's end.
    pub horizon: Cosignature,
    /// Every inquiry of the month on the channel, in log order.
    pub rows: Vec<InquiryRow>,
}

fn outcome(d: &Deadline, t: Timestamp, horizon: Timestamp) -> Outcome {
    if d.in_time() {
        return Outcome::InTime;
    }
    match d.due(t) {
        Some(due) if due < horizon => Outcome::Overdue,
        Some(_) => Outcome::Open,
        None => Outcome::NoDeadline,
    }
}

/// Verifies a statistics bundle from its JSON bytes (`bundle::verify` has read its type).
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<ProvedStats, BundleError> {
    let j: StatsJson = from_slice(bytes)?;
    let (from, to) = (&j.channel.from, &j.channel.to);
    let (sp, rp) = (from.party(), to.party());
    if sp == rp {
        return Err(malformed(format!(
            "channel {from} → {to} is inside one party"
        )));
    }
    let (m_start, m_end) = month_bounds(&j.month)
        .ok_or_else(|| malformed(format!("month {:?} is not YYYY-MM", j.month)))?;
    let proposal = j.agreement.check(keys, "agreement")?;
    let signature = j.agreement_signature.check(keys, "agreement_signature")?;
    let agreement = check_agreement(&proposal, &signature)?;
    if !between(&agreement, sp.as_str(), rp.as_str()) {
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
    let sender = check_range(j.sender, keys, "sender range")?;
    let receiver = check_range(j.receiver, keys, "receiver range")?;
    if sender.party() != sp.as_str() {
        return Err(mismatch(format!(
            "the sender range is of {}, not of {sp}'s log",
            sender.origin
        )));
    }
    if receiver.party() != rp.as_str() {
        return Err(mismatch(format!(
            "the receiver range is of {}, not of {rp}'s log",
            receiver.origin
        )));
    }
    let sender_span = (
        start_by(&sender, m_start, "sender range start")?,
        end_from(&sender, m_end, "sender range end")?,
    );
    let receiver_start = start_by(&receiver, m_start, "receiver range start")?;
    let horizon = receiver
        .end
        .cosignatures
        .iter()
        .filter(|c| super::cosign_time(c).is_some())
        .min_by_key(|c| c.time)
        .cloned()
        .ok_or_else(|| {
            BundleError::NotBracketed(format!(
                "receiver range end: no pinned witness cosigned the end checkpoint (size {}), so nothing shows when it was current",
                receiver.end.size
            ))
        })?;
    let horizon_t = super::cosign_time(&horizon).unwrap_or(Timestamp::MAX);

    // The inquiries of the month, by leaf hash.
    struct Found {
        row: InquiryRow,
        assessed: bool,
        acks: Vec<(String, Timestamp)>,
        answers: Vec<(String, Timestamp)>,
    }
    let mut found: Vec<Found> = vec![];
    let mut by_ref: HashMap<(u64, String), usize> = HashMap::new();
    for (index, e) in sender.indexed() {
        let h = e.header();
        if !(super::absence::matches(e, Kind::Inquiry, from, to)
            && h.time >= m_start
            && h.time < m_end)
        {
            continue;
        }
        by_ref.insert((index, b64::encode(e.leaf_hash().0)), found.len());
        let assessed = h.agreement.as_deref() == Some(agreement.id.as_str());
        found.push(Found {
            row: InquiryRow {
                id: format!("{sp}:{index}"),
                time: h.time,
                receipt: None,
                ack: Deadline::new(h.time, None, None),
                answer: Deadline::new(h.time, None, None),
                ack_outcome: Outcome::NotAssessed,
                answer_outcome: Outcome::NotAssessed,
            },
            assessed,
            acks: vec![],
            answers: vec![],
        });
    }
    for (index, e) in receiver.indexed() {
        let h = e.header();
        let Some(r) = h.refs.first() else { continue };
        if r.log != sp {
            continue;
        }
        let Some(&at) = by_ref.get(&(r.index, r.leaf_hash.clone())) else {
            continue;
        };
        let f = &mut found[at];
        let rid = format!("{rp}:{index}");
        match h.kind {
            Kind::Receipt if h.from == to.as_str() || h.from == rp.as_str() => {
                let status = match h.status.as_deref() {
                    Some("delivered") => ReceiptStatus::Delivered,
                    Some(s) if s.starts_with("refused") => ReceiptStatus::Refused(s.into()),
                    _ => continue,
                };
                if f.row.receipt.is_none() {
                    f.row.receipt = Some((rid, status));
                }
            }
            Kind::Ack if h.from == to.as_str() && h.status.as_deref() != Some("closed") => {
                f.acks.push((rid, h.time));
            }
            Kind::Answer if h.from == to.as_str() => f.answers.push((rid, h.time)),
            _ => {}
        }
    }
    let first = |l: &[(String, Timestamp)]| l.iter().min_by_key(|(_, t)| *t).cloned();
    let rows = found
        .into_iter()
        .map(|mut f| {
            if f.assessed {
                let t = f.row.time;
                let either: Vec<_> = f.acks.iter().chain(&f.answers).cloned().collect();
                f.row.ack = Deadline::new(t, agreement.terms.ack_within_secs, first(&either));
                f.row.answer =
                    Deadline::new(t, agreement.terms.answer_within_secs, first(&f.answers));
                f.row.ack_outcome = outcome(&f.row.ack, t, horizon_t);
                f.row.answer_outcome = outcome(&f.row.answer, t, horizon_t);
            }
            f.row
        })
        .collect();
    Ok(ProvedStats {
        channel: j.channel,
        month: j.month,
        agreement,
        sender,
        receiver,
        sender_span,
        receiver_start,
        horizon,
        rows,
    })
}

impl ProvedStats {
    /// Inquiries sent on the channel in the month.
    pub fn sent(&self) -> usize {
        self.rows.len()
    }

    /// Inquiries receipted as delivered.
    pub fn delivered(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.receipt, Some((_, ReceiptStatus::Delivered))))
            .count()
    }

    /// Inquiries receipted as refused.
    pub fn refused(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.receipt, Some((_, ReceiptStatus::Refused(_)))))
            .count()
    }

    /// Inquiries acknowledged (by ack or answer) in time.
    pub fn acknowledged_in_time(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.ack_outcome == Outcome::InTime)
            .count()
    }

    /// Inquiries answered in time.
    pub fn answered_in_time(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.answer_outcome == Outcome::InTime)
            .count()
    }

    /// Inquiries with a deadline missed by the horizon.
    pub fn overdue(&self) -> Vec<&InquiryRow> {
        self.rows.iter().filter(|r| r.overdue()).collect()
    }

    /// Inquiries not assessed (they name another agreement).
    pub fn not_assessed(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.ack_outcome == Outcome::NotAssessed)
            .count()
    }

    /// The proved claim in a few sentences.
    pub fn sentence(&self) -> String {
        let (from, to) = (&self.channel.from, &self.channel.to);
        let t = &self.agreement.terms;
        let limit = |w: Option<u64>| {
            w.map_or("none".to_owned(), |w| {
                fmt_duration(i64::try_from(w).unwrap_or(i64::MAX))
            })
        };
        let n = |k: usize, one: &str, many: &str| {
            if k == 1 {
                format!("1 {one}")
            } else {
                format!("{k} {many}")
            }
        };
        let (sa, sb) = &self.sender_span;
        let overdue = self.overdue();
        let overdue_ids = if overdue.is_empty() {
            String::new()
        } else {
            let ids: Vec<&str> = overdue.iter().map(|r| r.id.as_str()).collect();
            format!(" ({})", ids.join(", "))
        };
        let open = self
            .rows
            .iter()
            .filter(|r| {
                !r.overdue()
                    && (r.ack_outcome == Outcome::Open || r.answer_outcome == Outcome::Open)
            })
            .count();
        let refused = match self.refused() {
            0 => String::new(),
            k => format!(", {k} refused"),
        };
        let not_assessed = match self.not_assessed() {
            0 => String::new(),
            k => format!(
                " ({k} of them name another agreement and are not assessed against this one)"
            ),
        };
        format!(
            "Channel {from} → {to}, {} (UTC), under {} (acknowledge within {}, answer within {}): {} sent{not_assessed} — every inquiry on the channel dated in the month (writer's clock) among all {} that log {} appended between {} and {} ({}), disclosed as headers; of them {} delivered{refused}, {} acknowledged in time, {} answered in time, {} overdue by {}{overdue_ids} and {} still open — from all {} that log {} appended between {} and {} ({}), disclosed as headers. Deadlines are counted on the writers' clocks; an answer counts as an acknowledgement.",
            self.month,
            describe_agreement(&self.agreement),
            limit(t.ack_within_secs),
            limit(t.answer_within_secs),
            n(self.sent(), "inquiry", "inquiries"),
            n(self.sender.entries.len(), "entry", "entries"),
            self.sender.origin,
            fmt_cosign(sa),
            fmt_cosign(sb),
            clocks(sa, sb),
            self.delivered(),
            self.acknowledged_in_time(),
            self.answered_in_time(),
            overdue.len(),
            fmt_cosign(&self.horizon),
            open,
            n(self.receiver.entries.len(), "entry", "entries"),
            self.receiver.origin,
            fmt_cosign(&self.receiver_start),
            fmt_cosign(&self.horizon),
            clocks(&self.receiver_start, &self.horizon),
        )
    }
}
