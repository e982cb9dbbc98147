//! The peer-facing HTTP routes, served only over pinned TLS (see
//! [`crate::tls`]); the peer party comes from the client certificate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::wire::{MAX_PUSH_BYTES, Push, PushPaced};
use super::{FedError, Link, Peer, mirror, receipts, witness};
use crate::tls::PeerParty;

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": msg.into(), "status": status.as_u16() })),
    )
        .into_response()
}

impl IntoResponse for FedError {
    fn into_response(self) -> Response {
        let status = match &self {
            FedError::Invalid(_)
            | FedError::BadEntry { .. }
            | FedError::KeyRefused { .. }
            | FedError::AnnouncedKeys { .. }
            | FedError::PinnedKey(_)
            | FedError::Cosignature { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            FedError::Forbidden(_) | FedError::PushCheckpoint(_) | FedError::PeerName(_) => {
                StatusCode::FORBIDDEN
            }
            FedError::NotFound(_) => StatusCode::NOT_FOUND,
            FedError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            FedError::Unreachable(_) | FedError::Refused(_) => StatusCode::BAD_GATEWAY,
            FedError::Internal(_)
            | FedError::Store(_)
            | FedError::HeldEntry { .. }
            | FedError::MirrorTime { .. }
            | FedError::Tree(_)
            | FedError::Checkpoint(_)
            | FedError::Receipt(_)
            | FedError::NoCheckpoint(_)
            | FedError::Json(_)
            | FedError::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error(status, self.to_string())
    }
}

fn pinned(link: &Link, who: &PeerParty) -> Result<Arc<Peer>, FedError> {
    let party = hotline_proto::party::Party::new(&who.0).map_err(FedError::PeerName)?;
    link.reads
        .peers
        .peer(&party)
        .ok_or_else(|| FedError::Forbidden(format!("{} is not a pinned peer", who.0)))
}

async fn push(
    State(link): State<Link>,
    Extension(who): Extension<PeerParty>,
    body: Bytes,
) -> Response {
    let peer = match pinned(&link, &who) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let push: Push = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("malformed push: {e}")),
    };
    let guard = peer.mirror_lock.lock().await;
    let (store, p2, me, own) = (
        link.reads.store.clone(),
        peer.clone(),
        link.reads.party.clone(),
        link.reads.own,
    );
    let settings = &link.settings;
    let skew = settings.max_clock_skew_secs;
    let (max, window) = (
        settings.max_receipts_per_window,
        Duration::from_secs(settings.receipt_window_secs),
    );
    // The window changes only under the mirror lock, so what is allowed
    // here is still what is allowed when the push is stored.
    let allowance = peer
        .receipts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .allowance(Instant::now(), max, window);
    let mut keys = peer.learnt_keys(Clone::clone);
    let outcome = tokio::task::spawn_blocking(move || {
        let intake = mirror::Intake {
            me: &me,
            max_skew_secs: skew,
            receipts_allowed: allowance.receipts,
            own,
        };
        let r = p2.with_index(&*store, |index| {
            mirror::accept(
                &*store,
                p2.mirror,
                &p2.party,
                &p2.log_key,
                &mut keys,
                index,
                &push,
                &intake,
            )
        });
        (r, keys)
    })
    .await;
    let result = match outcome {
        Ok((r, keys)) => {
            if matches!(r, Ok(mirror::Accepted::Ok(..))) {
                peer.set_learnt_keys(keys);
            }
            r
        }
        Err(e) => return FedError::Task(e).into_response(),
    };
    if let Ok(mirror::Accepted::Ok(_, owed)) = &result {
        peer.receipts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .spend(*owed);
    }
    // The refusal is receipted (once), like any other, and before the mirror
    // lock is released: the mirror reads what is refused from the own log,
    // so a push let in before this receipt is written could be mirrored past
    // the refused index, and the receipt cursor (the highest entry
    // receipted) would then skip every entry below it. (Lock order mirror,
    // then receipts, as everywhere.)
    let refusal = match &result {
        Ok(mirror::Accepted::Backdated(b)) => Some(receipts::refuse(&link, &peer, b).await),
        _ => None,
    };
    if let Some(Ok(true)) = refusal {
        peer.receipts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .spend(1);
    }
    drop(guard);
    peer.heard_from();
    match result {
        Ok(mirror::Accepted::Ok(ack, _)) => {
            link.tells.metrics.mirrored(&peer.party, ack.mirror_size);
            link.tells.mirrored();
            let (l, p) = (link.clone(), peer.clone());
            tokio::spawn(async move {
                if let Err(e) = receipts::issue(&l, &p).await {
                    tracing::error!(error = %e, peer = %p.party, "issuing receipts");
                }
            });
            (StatusCode::OK, Json(ack)).into_response()
        }
        Ok(mirror::Accepted::Gap(ack)) => (StatusCode::CONFLICT, Json(ack)).into_response(),
        Ok(mirror::Accepted::OverBudget { owed, allowed, ack }) => {
            link.tells.metrics.throttled(&peer.party);
            let retry = allowance.resets_in.as_secs_f64().ceil().max(1.0) as u64;
            let msg = format!(
                "this push would make {me} owe {owed} receipts to {them}, and only {allowed} more \
                 are allowed in the current window ({max} every {secs} s: limits.max_receipts_per_window \
                 and limits.receipt_window_secs in {me}'s hotline.toml); nothing was stored: push at \
                 most {allowed} entries addressed to {me} now, or retry after {retry} s",
                me = link.reads.party,
                them = peer.party,
                secs = window.as_secs().max(1),
            );
            tracing::info!(peer = %peer.party, owed, allowed, retry, "push over the receipts budget");
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry.to_string())],
                Json(PushPaced {
                    error: msg,
                    status: 429,
                    mirror_size: ack.mirror_size,
                    receipts_allowed: allowed,
                    receipts_per_window: max,
                    retry_after_secs: retry,
                }),
            )
                .into_response()
        }
        Ok(mirror::Accepted::Backdated(b)) => {
            let msg = b.message();
            tracing::warn!(error = %msg, peer = %peer.party, "push refused");
            if let Some(Err(e)) = refusal {
                tracing::error!(error = %e, peer = %peer.party, "receipting a backdated entry");
                return e.into_response();
            }
            error(StatusCode::UNPROCESSABLE_ENTITY, msg)
        }
        Ok(mirror::Accepted::Equivocation(id)) => error(
            StatusCode::CONFLICT,
            format!(
                "equivocation: the push contradicts entries already mirrored; evidence kept as #{id}"
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, peer = %peer.party, "push refused");
            e.into_response()
        }
    }
}

async fn signal(
    State(link): State<Link>,
    Extension(who): Extension<PeerParty>,
    body: Bytes,
) -> Response {
    let peer = match pinned(&link, &who) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if body.len() > super::signal::MAX_SIGNAL_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "a signal of {} bytes; the limit is {}",
                body.len(),
                super::signal::MAX_SIGNAL_BYTES
            ),
        );
    }
    let s: super::signal::Signal = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("malformed signal: {e}")),
    };
    let l2 = link.clone();
    let r = tokio::task::spawn_blocking(move || super::signal::receive(&l2, s, &peer.party)).await;
    match r {
        Ok(Ok(())) => StatusCode::ACCEPTED.into_response(),
        Ok(Err(e)) => {
            let status = crate::api::status::status_of(&e);
            error(status, e.to_string())
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn add_checkpoint(
    State(link): State<Link>,
    Extension(who): Extension<PeerParty>,
    body: Bytes,
) -> Response {
    let r = witness::add_checkpoint(&link, &who.0, &body).await;
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, r.content_type)], r.body).into_response()
}

async fn checkpoint(State(link): State<Link>) -> Response {
    match link.reads.own_checkpoint() {
        Ok((_, note)) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// The routes a peer may call.
pub fn router(link: Link) -> Router {
    Router::new()
        .route("/fed/v1/push", post(push))
        .route("/fed/v1/witness/add-checkpoint", post(add_checkpoint))
        .route("/fed/v1/checkpoint", get(checkpoint))
        .route("/fed/v1/signal", post(signal))
        .route(
            crate::replica::forward::PATH,
            post(crate::replica::forward::append),
        )
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            link.clone(),
            only_on_the_holder,
        ))
        .with_state(link)
}

/// Federation runs once per party, on the replica holding the sequencer
/// lease: any other answers 503 naming the holder's peer-link URL, so the
/// other party tries its next address for this party.
async fn only_on_the_holder(
    State(link): State<Link>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if link.appends.seq.is_local() || request.uri().path() == crate::replica::forward::PATH {
        return next.run(request).await;
    }
    let store = link.reads.store.clone();
    let holder = tokio::task::spawn_blocking(move || store.lease().ok().flatten())
        .await
        .ok()
        .flatten()
        .map(|l| l.url)
        .filter(|u| !u.is_empty());
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({
            "error": "this replica does not hold the sequencer lease; try this party's other addresses",
            "holder": holder,
            "status": 503,
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use hotline_proto::entry::SignedEntry;

    use super::*;

    fn status(e: FedError) -> StatusCode {
        e.into_response().status()
    }

    #[test]
    fn a_typed_failure_keeps_its_source_its_words_and_its_status() {
        let bad = || SignedEntry::from_leaf(b"not a leaf").unwrap_err();
        let why = bad().to_string();
        let held = FedError::HeldEntry {
            what: "own entry",
            index: 3,
            source: bad(),
        };
        assert_eq!(held.to_string(), format!("own entry 3: {why}"));
        assert!(held.source().is_some(), "the entry error is kept");
        assert_eq!(status(held), StatusCode::INTERNAL_SERVER_ERROR);
        let pushed = FedError::BadEntry {
            index: 4,
            source: bad(),
        };
        assert_eq!(pushed.to_string(), format!("entry 4: {why}"));
        assert_eq!(status(pushed), StatusCode::UNPROCESSABLE_ENTITY);
        let name = hotline_proto::party::Party::new("Not A Party").unwrap_err();
        assert_eq!(
            status(FedError::PeerName(name)),
            StatusCode::FORBIDDEN,
            "a certificate naming no party is refused as before"
        );
    }
}
