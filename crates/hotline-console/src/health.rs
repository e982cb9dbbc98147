//! Link and witness health: per counterpart, whether the link is up, what
//! is waiting to be delivered, and when each side last cosigned the other's
//! log. Equivocation is shown at the top of every page, not only here.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::Console;
use super::auth::Op;
use super::view::{Chrome, PageError, relative, render_page, when};
use axum::http::StatusCode;
use hotline_node::federation::status::PeerStatus;

pub(crate) struct PeerView {
    pub s: PeerStatus,
    pub since: String,
    pub own_cosigned: String,
    pub peer_cosigned: String,
    pub stale: bool,
    pub oldest: String,
}

#[derive(Template)]
#[template(path = "console/health.html")]
struct Page {
    p: Chrome,
    log_size: u64,
    origin: String,
    peers: Vec<PeerView>,
    evidence: Vec<(i64, String, String)>,
    interval: u64,
}

/// `GET /health`.
pub(crate) async fn page(State(c): State<Console>, op: Op) -> Result<Response, PageError> {
    render_page(&c, StatusCode::OK, move |c2| {
        let now = hotline_node::clock::now();
        let interval = c2.node.config().cosign_interval_secs;
        let mut peers = Vec::new();
        for s in c2.records.links()? {
            let fmt = |x: &Option<hotline_node::federation::status::Cosigned>| match x {
                Some(cs) => format!(
                    "size {} at {} ({}), by {}'s witness ({})",
                    cs.size,
                    when(cs.time),
                    relative(cs.time, now),
                    cs.party,
                    cs.witness
                ),
                None => "never".into(),
            };
            let stale = s.own_log_cosigned.as_ref().is_none_or(|cs| {
                cs.age_seconds > i64::try_from(interval.saturating_mul(3)).unwrap_or(i64::MAX)
            });
            peers.push(PeerView {
                since: when(s.link.since),
                own_cosigned: fmt(&s.own_log_cosigned),
                peer_cosigned: fmt(&s.peer_log_cosigned),
                oldest: s
                    .oldest_undelivered_seconds
                    .map(|x| format!("oldest waiting {x} s"))
                    .unwrap_or_default(),
                stale,
                s,
            });
        }
        let evidence = c2
            .records
            .alarms()?
            .into_iter()
            .map(|e| {
                let t = jiff::Timestamp::from_second(e.detected)
                    .map(when)
                    .unwrap_or_default();
                (e.id, e.origin, t)
            })
            .collect();
        Ok(Page {
            p: Chrome::new(&c2, &op, "health", "Link and witness health"),
            log_size: c2.records.log_size()?,
            origin: c2.node.config().origin.clone(),
            peers,
            evidence,
            interval,
        })
    })
    .await
}
