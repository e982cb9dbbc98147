//! Live updates as server-sent events: an `entry` event for every new
//! entry to or from the operator's offices (in the own log or a mirror),
//! a `signal` event for call signalling addressed to them, and an `overdue` event whenever the set of overdue inquiries changes —
//! deadlines pass with no entry at all, so that set is also re-read on a
//! short timer. The page script shows a notice and refreshes what is on
//! screen; nothing in the stream is needed to act, only to see sooner.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use hotline_proto::entry::Kind;
use serde_json::json;

use super::Console;
use super::auth::Op;
use super::view::{entry_url, overdue_for};
use hotline_node::records::{Change, Events};

/// How often deadlines are re-checked when nothing arrives.
const TICK: Duration = Duration::from_secs(2);

struct Live {
    c: Console,
    op: Op,
    events: Events,
    overdue: Option<Vec<String>>,
    queue: VecDeque<Event>,
}

fn describe(kind: Kind, from: &str, incoming: bool) -> String {
    // The feed names agreements and key entries just "entry".
    let what = match kind {
        Kind::Agreement | Kind::Key => "entry",
        k => k.in_words(),
    };
    if incoming {
        format!("New {what} from {from}")
    } else {
        format!("{what} sent by {from}")
    }
}

impl Live {
    /// Reads what is new since the cursors; blocking (store reads). `None`
    /// once the session has ended (signed out, removed, locked, expired):
    /// the stream stops with it.
    fn poll(&mut self) -> Option<Vec<Event>> {
        let now = hotline_node::clock::now();
        if !matches!(self.c.operators.session(&self.op.token, now), Ok(Some(_))) {
            return None;
        }
        let mut out = Vec::new();
        for e in self.events.arrived() {
            let h = e.header();
            let to_me = h.to.as_ref().is_some_and(|t| self.op.acts_for(t));
            let from_me = self.op.acts_for_name(&h.from);
            if !to_me && !from_me {
                continue;
            }
            let id = e.id();
            let incoming = to_me && e.party() != self.c.node.party();
            let data = json!({
                "id": id,
                "kind": h.kind.to_string(),
                "from": h.from,
                "to": h.to.as_ref().map(ToString::to_string),
                "incoming": incoming,
                "notify": incoming && h.kind != Kind::Receipt,
                "summary": describe(h.kind, &h.from, incoming),
                "url": match h.kind {
                    Kind::Inquiry => format!("/inquiries/{id}"),
                    Kind::CallRequest => format!("/calls/{id}"),
                    Kind::CallAccept | Kind::CallDecline | Kind::CallRecord | Kind::Readout => h
                        .refs
                        .first()
                        .map(|r| format!("/calls/{}:{}", r.log, r.index))
                        .unwrap_or_else(|| entry_url(&id)),
                    _ => entry_url(&id),
                },
            });
            out.push(Event::default().event("entry").data(data.to_string()));
        }
        if let Ok(list) = overdue_for(&self.c, &self.op) {
            let ids: Vec<String> = list.iter().map(|(id, _)| id.clone()).collect();
            if self.overdue.as_ref() != Some(&ids) {
                let items: Vec<_> = list
                    .iter()
                    .map(|(id, what)| json!({ "id": id, "what": what, "url": format!("/inquiries/{id}") }))
                    .collect();
                out.push(
                    Event::default()
                        .event("overdue")
                        .data(json!({ "count": ids.len(), "items": items }).to_string()),
                );
                self.overdue = Some(ids);
            }
        }
        Some(out)
    }
}

/// `GET /events`.
pub(crate) async fn stream(
    State(c): State<Console>,
    op: Op,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let live = Live {
        events: c.records.events(),
        c,
        op,
        overdue: None,
        queue: VecDeque::from([Event::default().event("hello").data("{}")]),
    };
    let s = futures_util::stream::unfold(live, |mut live| async move {
        loop {
            if let Some(e) = live.queue.pop_front() {
                return Some((Ok(e), live));
            }
            tokio::select! {
                change = live.events.changed() => match change {
                    None => return None,
                    Some(Change::Logs) => {}
                    // Signals go straight through: a call is being set up.
                    Some(Change::Signal(s)) => {
                        if live.op.acts_for_name(&s.to)
                            && let Ok(data) = serde_json::to_string(&s)
                        {
                            live.queue.push_back(Event::default().event("signal").data(data));
                        }
                        continue;
                    }
                },
                () = tokio::time::sleep(TICK) => {}
            }
            let (events, back) = match tokio::task::spawn_blocking(move || {
                let ev = live.poll();
                (ev, live)
            })
            .await
            {
                Ok((Some(ev), back)) => (ev, back),
                _ => return None,
            };
            live = back;
            live.queue.extend(events);
        }
    });
    Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
