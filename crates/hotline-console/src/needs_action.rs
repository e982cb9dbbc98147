//! What waits for the operator, first thing on the first page, and the
//! link-down banner on every page.
//!
//! A duty officer coming on watch at 3 a.m. should not have to open every
//! channel to learn what is theirs to do: inquiries to acknowledge or answer
//! (with the time left), call requests to answer, statements to endorse,
//! their own entries the other side refused, and messages that wait because
//! the link is down. Each is read from the logs as every other page reads
//! them, so the list empties itself as the work is done.

use hotline_proto::entry::Kind;
use hotline_proto::party::Party;
use jiff::Timestamp;

use super::Console;
use super::auth::Op;
use super::view::{entry_url, span, when};
use hotline_node::error::NodeError;

/// Refusals older than this are history, not work.
const REFUSALS_SHOWN_SECS: i64 = 7 * 24 * 3600;
/// Entries of each channel looked through for refusals.
const REFUSALS_SCANNED: u64 = 500;

/// One thing waiting for the operator.
pub(crate) struct Action {
    /// What kind of work: inquiry, call, statement, refused, queued.
    pub kind: &'static str,
    /// What to do, in words.
    pub what: String,
    /// Where to do it.
    pub url: String,
    /// The time left, or how late it is.
    pub left: Option<String>,
    /// A deadline has passed.
    pub late: bool,
    sort: (u8, i64),
}

/// `in 55 min` / `late by 5 min` for a deadline.
fn left(due: Timestamp, now: Timestamp) -> (String, bool) {
    let secs = due.as_second() - now.as_second();
    if secs >= 0 {
        (format!("{} left", span(secs.unsigned_abs())), false)
    } else {
        (format!("late by {}", span(secs.unsigned_abs())), true)
    }
}

/// Everything waiting for `op`, most urgent first: late work, then by
/// deadline, then the rest.
pub(crate) fn actions(c: &Console, op: &Op) -> Result<Vec<Action>, NodeError> {
    let now = hotline_node::clock::now();
    let mut out = Vec::new();
    for q in c.inquiries()?.iter() {
        if q.closed.is_some() || q.status == "refused" {
            continue;
        }
        if op.acts_for_name(&q.to) {
            let (step, due) = if q.acknowledged.is_none() {
                ("Acknowledge", q.ack_due)
            } else if q.answers.is_empty() {
                ("Answer", q.answer_due)
            } else {
                continue;
            };
            let (words, late) = due.map(|d| left(d, now)).unzip();
            out.push(Action {
                kind: "inquiry",
                what: format!("{step} inquiry {} from {} to {}", q.id, q.from, q.to),
                url: format!("/inquiries/{}", q.id),
                left: words,
                late: late.unwrap_or(false),
                sort: (
                    if late == Some(true) { 0 } else { 1 },
                    due.map_or(i64::MAX, Timestamp::as_second),
                ),
            });
        }
    }
    for call in c.node.calls()? {
        if call.state == "requested" && op.acts_for_name(&call.to) {
            let first = call.times.iter().min().copied();
            out.push(Action {
                kind: "call",
                what: format!(
                    "Answer the call request {} from {} to {}",
                    call.id, call.from, call.to
                ),
                url: format!("/calls/{}", call.id),
                left: first.map(|t| format!("first proposed time {}", when(t))),
                late: false,
                sort: (2, first.map_or(i64::MAX, Timestamp::as_second)),
            });
        }
    }
    for s in c.node.statements()? {
        if s.endorsement.is_none() && op.acts_for_name(&s.to) {
            out.push(Action {
                kind: "statement",
                what: format!("Endorse statement {} from {} to {}", s.id, s.from, s.to),
                url: format!("/statements/{}", s.id),
                left: None,
                late: false,
                sort: (3, s.time.as_second()),
            });
        }
    }
    refusals(c, op, now, &mut out)?;
    for d in links_down(c) {
        if d.waiting > 0 {
            out.push(Action {
                kind: "queued",
                what: format!(
                    "{} waiting for {}: the link has been down since {}",
                    messages(d.waiting),
                    d.party,
                    d.since
                ),
                url: "/health".into(),
                left: None,
                late: false,
                sort: (5, 0),
            });
        }
    }
    out.sort_by_key(|a| a.sort);
    Ok(out)
}

/// The operator's own entries that the other side refused (its receipt
/// says `refused: …`), from the last week of each channel.
fn refusals(c: &Console, op: &Op, now: Timestamp, out: &mut Vec<Action>) -> Result<(), NodeError> {
    let own = c.node.party().to_string();
    for ch in super::channels::channels_for(c, op)? {
        let theirs = ch.theirs.party();
        for e in c
            .records
            .between(&theirs, &ch.theirs, &ch.ours, REFUSALS_SCANNED)?
        {
            let h = e.header();
            let Some(status) = h.status.as_deref() else {
                continue;
            };
            if h.kind != Kind::Receipt
                || !status.starts_with("refused")
                || now.as_second() - h.time.as_second() > REFUSALS_SHOWN_SECS
            {
                continue;
            }
            let Some(r) = h.refs.first().filter(|r| r.log.as_str() == own) else {
                continue;
            };
            let id = format!("{}:{}", r.log, r.index);
            out.push(Action {
                kind: "refused",
                what: format!(
                    "{} refused our entry {id} to {} ({})",
                    ch.theirs.party(),
                    ch.theirs,
                    when(h.time)
                ),
                url: entry_url(&id),
                left: Some(status.to_owned()),
                late: true,
                sort: (4, -h.time.as_second()),
            });
        }
    }
    Ok(())
}

/// `1 message`, `3 messages`.
fn messages(n: u64) -> String {
    if n == 1 {
        "1 message".into()
    } else {
        format!("{n} messages")
    }
}

/// A peer that cannot be reached now.
pub(crate) struct Down {
    pub party: Party,
    /// Since when, as `02:14 UTC` today or with the date otherwise.
    pub since: String,
    /// Own entries it has not acknowledged.
    pub waiting: u64,
    /// What the last attempt said.
    pub reason: Option<String>,
}

impl Down {
    /// The banner's sentence.
    pub fn words(&self) -> String {
        let waiting = match self.waiting {
            0 => "nothing is waiting to be delivered".to_owned(),
            1 => "1 message is waiting; it will be delivered when the link returns".to_owned(),
            n => format!("{n} messages are waiting; they will be delivered when the link returns"),
        };
        format!(
            "{} has not been reachable since {}; {waiting}.",
            self.party, self.since
        )
    }
}

/// The peers whose link is down now.
pub(crate) fn links_down(c: &Console) -> Vec<Down> {
    let now = hotline_node::clock::now();
    let mut out: Vec<Down> = c
        .node
        .federation()
        .all()
        .into_iter()
        .filter_map(|peer| {
            let link = peer.link();
            if link.up {
                return None;
            }
            let same_day = link.since.strftime("%F").to_string() == now.strftime("%F").to_string();
            let since = if same_day {
                link.since.strftime("%H:%M UTC").to_string()
            } else {
                link.since.strftime("%F %H:%M UTC").to_string()
            };
            let waiting = hotline_node::federation::status::peer_status(&c.node, &peer)
                .map(|s| s.outbox_depth)
                .unwrap_or(0);
            Some(Down {
                party: peer.party.clone(),
                since,
                waiting,
                reason: link.last_error,
            })
        })
        .collect();
    out.sort_by(|a, b| a.party.cmp(&b.party));
    out
}
