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
use hotline_proto::entry::{Kind, SignedEntry};
use hotline_proto::name::Party;
use serde_json::json;

use super::Console;
use super::auth::Op;
use super::view::{entry_url, overdue_for};
use hotline_node::store::LogId;

/// How often deadlines are re-checked when nothing arrives.
const TICK: Duration = Duration::from_secs(2);

struct Live {
    c: Console,
    op: Op,
    /// (party, log, size seen)
    cursors: Vec<(Party, LogId, u64)>,
    own: tokio::sync::watch::Receiver<u64>,
    mirrored: tokio::sync::watch::Receiver<u64>,
    signals: tokio::sync::broadcast::Receiver<hotline_node::federation::signal::Signal>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
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
        let node = &self.c.node;
        for (party, log, seen) in &mut self.cursors {
            let size = node.log_size(*log).unwrap_or(*seen);
            while *seen < size {
                let Ok(leaves) = node.leaves(*log, *seen, 500) else {
                    break;
                };
                if leaves.is_empty() {
                    break;
                }
                for l in &leaves {
                    *seen = l.index + 1;
                    let Ok(e) = SignedEntry::from_leaf(&l.leaf) else {
                        continue;
                    };
                    let h = e.header();
                    let to_me = h.to.as_ref().is_some_and(|t| self.op.acts_for(t));
                    let from_me = self.op.acts_for_name(&h.from);
                    if !to_me && !from_me {
                        continue;
                    }
                    let id = format!("{party}:{}", l.index);
                    let incoming = to_me && party != self.c.node.party();
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
            }
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
    let mut cursors = vec![(
        c.node.party().clone(),
        c.node.log_id(),
        c.node.log_size(c.node.log_id()).unwrap_or(0),
    )];
    for p in c.node.federation().all() {
        cursors.push((
            p.party.clone(),
            p.mirror,
            c.node.log_size(p.mirror).unwrap_or(0),
        ));
    }
    let live = Live {
        own: c.node.size_watch(),
        mirrored: c.node.mirrored_watch(),
        signals: c.node.signals().subscribe(),
        stop: c.node.stopping(),
        c,
        op,
        cursors,
        overdue: None,
        queue: VecDeque::from([Event::default().event("hello").data("{}")]),
    };
    let s = futures_util::stream::unfold(live, |mut live| async move {
        loop {
            if let Some(e) = live.queue.pop_front() {
                return Some((Ok(e), live));
            }
            let stopping = async {
                match live.stop.as_mut() {
                    Some(rx) => {
                        while !*rx.borrow() {
                            if rx.changed().await.is_err() {
                                return;
                            }
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = stopping => return None,
                r = live.own.changed() => { if r.is_err() { return None; } }
                r = live.mirrored.changed() => { if r.is_err() { return None; } }
                s = live.signals.recv() => {
                    // Signals go straight through: a call is being set up.
                    match s {
                        Ok(s) if live.op.acts_for_name(&s.to) => {
                            if let Ok(data) = serde_json::to_string(&s) {
                                live.queue.push_back(Event::default().event("signal").data(data));
                            }
                            continue;
                        }
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return None,
                    }
                }
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
