//! The outbox: pushing the own log to each peer, and asking each peer to
//! cosign.
//!
//! The outbox needs no table of its own: the log is durable, and each peer's
//! mirror size (learnt from its answers) is how far delivery got. After a
//! crash, a restart or a cut link, the first push learns the position again
//! and the rest follows in order — backfill without operator action.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use hotline_proto::{b64, checkpoint, tree};

use super::wire::{MAX_PUSH_ENTRIES, Push, PushAck, PushEntry, TLOG_SIZE};
use super::witness::{self, Cosigned};
use super::{FedError, Peer};
use crate::node::Node;
use crate::store::HashesOf;

/// Entries per push.
const BATCH: u64 = 500;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Builds the next push to `peer` from `from` (at most `BATCH` entries).
fn next_push(node: &Node, from: u64) -> Result<Push, FedError> {
    let store = node.store();
    let log = node.log_id();
    let size = store.size(log)?;
    let leaves = store.leaves(
        log,
        from,
        BATCH
            .min(size.saturating_sub(from))
            .min(MAX_PUSH_ENTRIES as u64),
    )?;
    let end = from + leaves.len() as u64;
    // A checkpoint at exactly the run's end: the receiver checks every leaf against it.
    let note = match store.checkpoint_at(log, end)? {
        Some(n) => n,
        None => {
            let root = tree::root(
                &HashesOf {
                    store: &**store,
                    log,
                },
                end,
            )
            .map_err(|e| FedError::Internal(e.to_string()))?;
            checkpoint::sign(&node.log_signer(), end, root)
                .map_err(|e| FedError::Internal(e.to_string()))?
        }
    };
    let mut entries = Vec::with_capacity(leaves.len());
    for l in leaves {
        let sealed = store.body(log, l.index)?.map(b64::encode);
        entries.push(PushEntry {
            index: l.index,
            leaf: b64::encode(&l.leaf),
            sealed,
        });
    }
    Ok(Push {
        origin: node.config().origin.clone(),
        checkpoint: String::from_utf8_lossy(&note).into_owned(),
        entries,
    })
}

/// An empty push: asks how much of the own log the peer's mirror holds.
fn probe(node: &Node) -> Result<Push, FedError> {
    let (_, note) = node
        .reader()
        .checkpoint()
        .map_err(|e| FedError::Internal(e.to_string()))?;
    Ok(Push {
        origin: node.config().origin.clone(),
        checkpoint: String::from_utf8_lossy(&note).into_owned(),
        entries: vec![],
    })
}

/// Sends one push (or, without `from`, a probe); returns the peer's mirror size.
async fn push_once(node: &Node, peer: &Peer, from: Option<u64>) -> Result<u64, FedError> {
    let client = peer
        .client
        .as_ref()
        .ok_or_else(|| FedError::NotFound(format!("no URL for {}", peer.party)))?;
    let n2 = node.clone();
    let push = tokio::task::spawn_blocking(move || match from {
        Some(from) => next_push(&n2, from),
        None => probe(&n2),
    })
    .await
    .map_err(|e| FedError::Internal(e.to_string()))??;
    let body = serde_json::to_vec(&push).map_err(|e| FedError::Internal(e.to_string()))?;
    let (status, _, bytes) = client
        .request(Method::POST, "/fed/v1/push", "application/json", body)
        .await
        .map_err(|e| FedError::Unreachable(e.to_string()))?;
    match status {
        StatusCode::OK | StatusCode::CONFLICT => {
            if let Ok(ack) = serde_json::from_slice::<PushAck>(&bytes) {
                return Ok(ack.mirror_size);
            }
            Err(FedError::Refused(format!(
                "{} refused the push: {}",
                peer.party,
                String::from_utf8_lossy(&bytes)
            )))
        }
        s => Err(FedError::Refused(format!(
            "{} refused the push ({s}): {}",
            peer.party,
            String::from_utf8_lossy(&bytes)
        ))),
    }
}

/// Keeps `peer`'s mirror of the own log up to date until shutdown.
pub async fn push_loop(
    node: Node,
    peer: Arc<Peer>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut sizes = node.size_watch();
    let mut acked: Option<u64> = None;
    let mut backoff = Duration::from_millis(50);
    loop {
        if *shutdown.borrow() || !node.federation().is_current(&peer) {
            return;
        }
        let own = *sizes.borrow_and_update();
        if acked.is_some_and(|a| a >= own) {
            // Nothing to send: wait for an append, or a while (a peer that
            // restarted from a backup might need resending).
            tokio::select! {
                _ = sizes.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => { acked = None; }
                _ = shutdown.changed() => {}
            }
            continue;
        }
        match push_once(&node, &peer, acked).await {
            Ok(size) => {
                let progressed = acked.is_some_and(|a| a != size);
                let stuck = acked == Some(size);
                acked = Some(size);
                peer.delivered(size);
                backoff = Duration::from_millis(50);
                if stuck {
                    // The peer accepted nothing new: do not spin.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                if progressed {
                    // Deliveries may let the witness cosign a newer checkpoint.
                    peer.cosign_now.notify_one();
                }
            }
            Err(e) => {
                peer.link_down(&e.to_string());
                acked = None;
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Asks `peer` to cosign the own latest checkpoint.
async fn cosign_once(node: &Node, peer: &Peer, old: u64) -> Result<Cosigned, FedError> {
    let client = peer
        .client
        .as_ref()
        .ok_or_else(|| FedError::NotFound(format!("no URL for {}", peer.party)))?;
    let (size, note) = node
        .reader()
        .checkpoint()
        .map_err(|e| FedError::Internal(e.to_string()))?;
    let old = old.min(size);
    let proof = if old == 0 || old == size {
        vec![]
    } else {
        tree::prove_consistency(
            &HashesOf {
                store: &**node.store(),
                log: node.log_id(),
            },
            old,
            size,
        )
        .map_err(|e| FedError::Internal(e.to_string()))?
    };
    let body = witness::request_body(old, &proof, &note);
    let (status, headers, bytes) = client
        .request(
            Method::POST,
            "/fed/v1/witness/add-checkpoint",
            "text/plain",
            body,
        )
        .await
        .map_err(|e| FedError::Unreachable(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match status.as_u16() {
        200 => Ok(Cosigned::Yes(witness::record(
            node, peer, size, &note, &text,
        )?)),
        409 if headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(TLOG_SIZE.as_bytes())) =>
        {
            // Both conflicts carry a size: the witness's last cosigned size
            // (old size mismatch), never beyond its mirror; or its mirror's
            // size when that is beyond the checkpoint asked about.
            text.trim()
                .parse()
                .map(|s| {
                    if s > size {
                        Cosigned::Ahead(s)
                    } else {
                        Cosigned::OldSize(s)
                    }
                })
                .map_err(|_| FedError::Refused(format!("{}: bad 409 body {text:?}", peer.party)))
        }
        425 => Ok(Cosigned::TooEarly),
        s => Err(FedError::Refused(format!(
            "{} would not cosign ({s}): {}",
            peer.party,
            text.trim()
        ))),
    }
}

/// Asks `peer` to cosign at every interval, and sooner when deliveries allow.
pub async fn cosign_loop(
    node: Node,
    peer: Arc<Peer>,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut old = 0;
    loop {
        if *shutdown.borrow() || !node.federation().is_current(&peer) {
            return;
        }
        // Enough for both conflicts in turn (a checkpoint read just before
        // a push, then an old size learnt anew), and no more.
        let mut tries = 0;
        loop {
            tries += 1;
            match cosign_once(&node, &peer, old).await {
                Ok(Cosigned::Yes(c)) => {
                    old = node
                        .store()
                        .last_cosignature(node.log_id(), peer.witness_key.name())
                        .ok()
                        .flatten()
                        .map_or(old, |(s, _)| s);
                    peer.cosigned(c.time);
                    break;
                }
                Ok(Cosigned::OldSize(s)) if tries < 4 => old = s,
                // `cosign_once` reads the latest checkpoint again.
                Ok(Cosigned::Ahead(_)) if tries < 4 => {}
                Ok(Cosigned::OldSize(_) | Cosigned::Ahead(_) | Cosigned::TooEarly) => break,
                Err(e) => {
                    peer.link_down(&e.to_string());
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = peer.cosign_now.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
}
