//! A channel's timeline: both logs' entries between two offices, merged in
//! time order, each with what happened to it — delivered or refused by the
//! other side's receipt, acknowledged and answered within the agreement's
//! deadlines or not — and the texts in every language the writer gave.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use hotline_proto::entry::Kind;
use hotline_proto::party::{Office, Party};
use jiff::Timestamp;
use serde::Deserialize;

use super::Console;
use super::auth::Op;
use super::channels::{Channel, LinkView, channels_for, link_view};
use super::view::{
    AttachmentView, Chrome, PageError, attachment_views, entry_url, relative, render_page, texts,
    when,
};
use axum::http::StatusCode;
use hotline_node::error::NodeError;
use hotline_node::records::Entry;

/// The most entries one timeline page shows.
const MAX_LIMIT: u64 = 5000;
/// A duty officer needs the latest day or two, not the channel's whole
/// history, on first sight; `?limit=` and the "earlier" link give more.
const DEFAULT_LIMIT: u64 = 200;

/// One row of a timeline.
pub(crate) struct Item {
    pub id: String,
    pub evidence: String,
    pub kind: String,
    pub outgoing: bool,
    pub from: String,
    pub to: String,
    pub time: String,
    pub time_iso: String,
    pub title: String,
    pub texts: Vec<(String, String)>,
    pub attachments: Vec<AttachmentView>,
    pub stix: Option<String>,
    /// What became of it, in words, and a class for its colour.
    pub state: String,
    pub state_class: &'static str,
    pub deadline: Option<String>,
    pub overdue: bool,
    /// The entry it refers to (acks, answers, receipts).
    pub refers: Option<(String, String)>,
    /// The inquiry page, for inquiries.
    pub inquiry_url: Option<String>,
    /// Whether the content is sealed to offices this operator does not act for.
    pub unreadable: bool,
    /// `refused: …` when the content was refused (and is not shown).
    pub refused: Option<String>,
    sort: (Timestamp, u8, u64),
}

/// What an entry is, in words: every kind by its own name, so that a
/// timeline never shows a bare "Entry".
fn kind_title(kind: Kind) -> &'static str {
    match kind {
        Kind::Message => "Message",
        Kind::Inquiry => "Inquiry",
        Kind::Ack => "Acknowledgement",
        Kind::Answer => "Answer",
        Kind::Receipt => "Receipt",
        Kind::CallRequest => "Call request",
        Kind::CallAccept => "Call accepted",
        Kind::CallDecline => "Call declined",
        Kind::CallRecord => "Call record",
        Kind::Readout => "Readout",
        Kind::Statement => "Statement",
        Kind::Endorsement => "Endorsement",
        Kind::Agreement => "Agreement",
        Kind::Key => "Key announcement",
    }
}

/// The receipt each entry got, from the receipts in view or the store.
struct Receipts(HashMap<(String, u64), (String, Timestamp)>);

impl Receipts {
    fn of(&self, c: &Console, party: &Party, index: u64) -> Option<(String, Timestamp)> {
        if let Some(r) = self.0.get(&(party.to_string(), index)) {
            return Some(r.clone());
        }
        // Older than the page: ask the records (the receipt is in the other log).
        c.records.receipt(party, index).map(|r| (r.status, r.time))
    }
}

/// Builds the rows of a channel, newest `limit` of each log.
pub(crate) fn items(
    c: &Console,
    op: &Op,
    ch: &Channel,
    limit: u64,
) -> Result<(Vec<Item>, bool, Option<u64>), NodeError> {
    let now = hotline_node::clock::now();
    let own = c.node.party().clone();
    let theirs = ch.theirs.party();
    let mut raw: Vec<Entry> = Vec::new();
    let mut more = false;
    let mut max_mirror = None;
    for party in [own.clone(), theirs.clone()] {
        let entries = c.records.between(&party, &ch.ours, &ch.theirs, limit + 1)?;
        if entries.len() as u64 > limit {
            more = true;
        }
        let skip = entries
            .len()
            .saturating_sub(usize::try_from(limit).unwrap_or(usize::MAX));
        for e in entries.into_iter().skip(skip) {
            if party == theirs {
                max_mirror = max_mirror.max(Some(e.index()));
            }
            raw.push(e);
        }
    }
    let mut receipts = Receipts(HashMap::new());
    for e in &raw {
        let h = e.header();
        if h.kind == Kind::Receipt
            && let Some(r) = h.refs.first()
        {
            receipts.0.insert(
                (r.log.to_string(), r.index),
                (h.status.clone().unwrap_or_default(), h.time),
            );
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    for e in &raw {
        out.push(item(c, op, &mut receipts, e, now));
    }
    for a in c.node.agreements()? {
        let covers = a
            .terms
            .channels
            .iter()
            .any(|x| x.offices.contains(&ch.ours) && x.offices.contains(&ch.theirs));
        if !covers {
            continue;
        }
        let state = format!("{:?}", a.state(now)).to_lowercase();
        let mut words = format!("proposed by {}", a.proposer);
        if let Some(t) = a.signed_at {
            words += &format!("; signed by {} at {}", a.counterparty, when(t));
        }
        if let Some((p, t)) = &a.withdrawn {
            words += &format!("; withdrawn by {p}, effective {}", when(*t));
        }
        out.push(Item {
            id: a.id.clone(),
            evidence: entry_url(&a.id),
            kind: "agreement".into(),
            outgoing: a.proposer == own,
            from: a.proposer.to_string(),
            to: a.counterparty.to_string(),
            time: when(a.proposed_at),
            time_iso: a.proposed_at.to_string(),
            title: a.terms.title.clone(),
            texts: vec![(String::new(), words)],
            attachments: vec![],
            stix: None,
            state: state.replace("inforce", "in force"),
            state_class: if a.in_force(now) { "ok" } else { "muted" },
            deadline: None,
            overdue: false,
            refers: None,
            inquiry_url: None,
            unreadable: false,
            refused: None,
            sort: (a.proposed_at, 0, 0),
        });
    }
    out.sort_by_key(|a| a.sort);
    // Each log gave its newest `limit`; together they are the newest
    // `limit` of the channel only after the merge.
    let keep = usize::try_from(limit).unwrap_or(usize::MAX);
    if out.len() > keep {
        out.drain(..out.len() - keep);
        more = true;
    }
    Ok((out, more, max_mirror))
}

fn item(c: &Console, op: &Op, receipts: &mut Receipts, e: &Entry, now: Timestamp) -> Item {
    let (party, index) = (e.party(), e.index());
    let h = e.header();
    let id = e.id();
    let outgoing = party == c.node.party();
    let shown = c.records.open_for(e, &|o| op.acts_for(o));
    let content = shown.content();
    let refers = h.refs.first().map(|r| {
        (
            format!("{}:{}", r.log, r.index),
            entry_url(&format!("{}:{}", r.log, r.index)),
        )
    });
    let mut it = Item {
        evidence: entry_url(&id),
        kind: h.kind.to_string(),
        outgoing,
        from: h.from.clone(),
        to: h.to.as_ref().map(ToString::to_string).unwrap_or_default(),
        time: when(h.time),
        time_iso: h.time.to_string(),
        title: kind_title(h.kind).into(),
        texts: vec![],
        attachments: vec![],
        stix: None,
        state: String::new(),
        state_class: "muted",
        deadline: None,
        overdue: false,
        refers,
        inquiry_url: None,
        unreadable: h.body.is_some() && content.is_none() && shown.refusal().is_none(),
        refused: shown.refusal(),
        sort: (h.time, if outgoing { 1 } else { 2 }, index),
        id,
    };
    if let Some(content) = content {
        if let Some(s) = &content.subject {
            it.title = format!("{}: {s}", kind_title(h.kind));
        }
        it.texts = texts(content);
        it.attachments = attachment_views(content, &it.evidence);
        it.stix = content.stix.as_ref().map(stix_summary);
    }
    match h.kind {
        Kind::Receipt => {
            let status = h.status.clone().unwrap_or_default();
            it.state_class = if status.starts_with("refused") {
                "bad"
            } else {
                "ok"
            };
            it.state = status;
        }
        Kind::Message | Kind::Inquiry | Kind::Ack | Kind::Answer => {
            match receipts.of(c, party, index) {
                Some((status, t)) if status.starts_with("refused") => {
                    it.state = format!("{status} (at {})", when(t));
                    it.state_class = "bad";
                }
                Some((_, t)) => {
                    it.state = format!("delivered {}", when(t));
                    it.state_class = "ok";
                }
                None => {
                    it.state = if outgoing {
                        "sent; no receipt yet".into()
                    } else {
                        "received; receipt pending".into()
                    };
                    it.state_class = "pending";
                }
            }
        }
        _ => {}
    }
    if h.kind == Kind::Inquiry
        && let Ok(q) = c.node.inquiry(&it.id)
    {
        it.inquiry_url = Some(format!("/inquiries/{}", q.id));
        let (deadline, overdue) = deadline_words(&q, now);
        it.deadline = deadline;
        it.overdue = overdue;
        // The receipt already says sent/delivered/refused; add only what
        // came after it.
        if !matches!(q.status.as_str(), "sent" | "delivered" | "refused") {
            it.state = format!("{}; {}", q.status, it.state);
        }
        if overdue {
            it.state_class = "bad";
        }
    }
    it
}

/// What an inquiry's deadlines say now.
pub(crate) fn deadline_words(
    q: &hotline_node::inquiries::Inquiry,
    now: Timestamp,
) -> (Option<String>, bool) {
    if q.closed.is_some() {
        return (Some("closed".into()), false);
    }
    if let Some((_, t)) = q.answers.first() {
        let in_time = q.answer_due.is_none_or(|d| *t <= d);
        return (
            Some(format!(
                "answered {}{}",
                when(*t),
                if in_time { ", in time" } else { ", LATE" }
            )),
            false,
        );
    }
    let due = |what: &str, d: Timestamp| {
        let late = if now > d { "was due" } else { "due" };
        let words = format!("{what} {late} {} ({})", when(d), relative(d, now));
        (Some(words), q.overdue)
    };
    if q.acknowledged.is_none()
        && let Some(d) = q.ack_due
    {
        return due("acknowledgement", d);
    }
    match q.answer_due {
        Some(d) => due("answer", d),
        None => (None, q.overdue),
    }
}

/// One line about a STIX bundle: how many objects of which types.
pub(crate) fn stix_summary(v: &serde_json::Value) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for o in v["objects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let t = o["type"].as_str().unwrap_or("?").to_owned();
        match counts.iter_mut().find(|(k, _)| *k == t) {
            Some((_, n)) => *n += 1,
            None => counts.push((t, 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(t, n)| format!("{n} {t}")).collect();
    format!("STIX 2.1 bundle: {}", parts.join(", "))
}

#[derive(Template)]
#[template(path = "console/timeline.html")]
struct Page {
    p: Chrome,
    ch: Channel,
    link: LinkView,
    items: Vec<Item>,
    more: bool,
    earlier: String,
    can_message: bool,
    can_inquire: bool,
}

#[derive(Deserialize)]
pub(crate) struct TimelineQuery {
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    done: Option<String>,
}

/// `GET /channels/{our}/{office}/{their}/{office}`.
pub(crate) async fn page(
    State(c): State<Console>,
    op: Op,
    Path((op1, oo1, tp, to)): Path<(String, String, String, String)>,
    Query(q): Query<TimelineQuery>,
) -> Result<Response, PageError> {
    let ours = Office::new(&format!("{op1}/{oo1}"))
        .map_err(|e| PageError::not_found(format!("no such channel: {e}")))?;
    let theirs = Office::new(&format!("{tp}/{to}"))
        .map_err(|e| PageError::not_found(format!("no such channel: {e}")))?;
    op.must_act_for(&ours, "This channel")?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    render_page(&c, StatusCode::OK, move |c2| {
        let ch = channels_for(&c2, &op)?
            .into_iter()
            .find(|x| x.ours == ours && x.theirs == theirs)
            .ok_or_else(|| {
                NodeError::NotFound(format!(
                    "no agreement in force opens a channel between {ours} and {theirs}; see Agreements"
                ))
            })?;
        let (items, more, max_mirror) = items(&c2, &op, &ch, limit)?;
        if let Some(m) = max_mirror {
            c2.operators.set_seen_mark(&op.operator.name, &ch.key(), m)?;
        }
        let title = format!("{} ↔ {}", ch.ours, ch.theirs);
        Ok(Page {
            p: Chrome::new(&c2, &op, "channels", title).flash(q.done),
            link: link_view(&c2, &ch.theirs.party()),
            can_message: ch.allows(Kind::Message),
            can_inquire: ch.allows(Kind::Inquiry),
            earlier: format!("{}?limit={}", ch.url(), (limit * 2).min(MAX_LIMIT)),
            ch,
            items,
            more: more && limit < MAX_LIMIT,
        })
    })
    .await
}
