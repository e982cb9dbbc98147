//! The outbox: pushing the own log to each peer, and asking each peer to
//! cosign.
//!
//! The outbox needs no table of its own: the log is durable, and each peer's
//! mirror size (learnt from its answers) is how far delivery got. After a
//! crash, a restart or a cut link, the first push learns the position again
//! and the rest follows in order — backfill without operator action.
//!
//! A sealed body goes only to the peer whose party the entry is addressed
//! to; every other peer (a third witness, the counterparty for traffic with
//! someone else) gets the leaf alone, which is all it needs to verify and
//! cosign. A peer that answers 429 is pacing the receipts this node's
//! entries make it owe: the outbox waits as told (bounded) and cuts its
//! next push at what the peer said fits, so nothing is lost or doubled.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use hotline_proto::{b64, checkpoint, tree};

use super::receipts::receipted;
use super::wire::{
    MAX_PUSH_BYTES, MAX_PUSH_ENTRIES, Push, PushAck, PushEntry, PushPaced, TLOG_SIZE,
};
use super::witness::{self, Cosigned};
use super::{FedError, Link, Peer, held_entry};
use crate::store::HashesOf;

/// Entries per push.
const BATCH: u64 = 500;
/// A push's JSON besides its entries: the origin and a checkpoint (a signed
/// note, at most `MAX_NOTE_BYTES`), with room to spare.
const PUSH_OVERHEAD: usize = hotline_proto::limits::MAX_NOTE_BYTES + 1024;
/// One entry's JSON besides its base64 leaf and body: keys, quotes, index.
const ENTRY_OVERHEAD: usize = 64;
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Longest wait a peer's `Retry-After` can impose before the next try (a
/// peer that is still over budget then says so again).
const MAX_PACE: Duration = Duration::from_secs(60);

/// Builds the next push to `peer` from `from`: at most `BATCH` entries, and
/// at most `cap` of them addressed to `peer` (each costs it a receipt).
fn next_push(link: &Link, peer: &Peer, from: u64, cap: Option<u64>) -> Result<Push, FedError> {
    let store = &link.reads.store;
    let log = link.reads.own;
    let size = store.size(log)?;
    let mut leaves = store.leaves(
        log,
        from,
        BATCH
            .min(size.saturating_sub(from))
            .min(MAX_PUSH_ENTRIES as u64),
    )?;
    let mut addressed = Vec::with_capacity(leaves.len());
    for l in &leaves {
        let e = held_entry(l, "own entry")?;
        let h = e.header();
        let theirs = h.to.as_ref().is_some_and(|t| t.party() == peer.party);
        addressed.push((theirs, theirs && receipted(h.kind)));
    }
    if let Some(cap) = cap {
        let mut owed = 0;
        let cut = addressed
            .iter()
            .position(|(_, r)| {
                owed += u64::from(*r);
                owed > cap
            })
            .unwrap_or(leaves.len());
        leaves.truncate(cut);
    }
    // And within the receiver's body limit: entries and their sealed bodies
    // travel in base64, and a run of large bodies cut by count alone would
    // be refused (413) every time it is sent.
    let mut entries = Vec::with_capacity(leaves.len());
    let mut bytes = PUSH_OVERHEAD;
    for (l, (theirs, _)) in leaves.into_iter().zip(addressed) {
        let sealed = if theirs {
            store.body(log, l.index)?.map(b64::encode)
        } else {
            None
        };
        let leaf = b64::encode(&l.leaf);
        bytes += ENTRY_OVERHEAD + leaf.len() + sealed.as_ref().map_or(0, String::len);
        if bytes > MAX_PUSH_BYTES && !entries.is_empty() {
            break;
        }
        entries.push(PushEntry {
            index: l.index,
            leaf,
            sealed,
        });
    }
    let end = from + entries.len() as u64;
    // A checkpoint at exactly the run's end: the receiver checks every leaf
    // (and the index) against it. The sequencer signed one per batch: end
    // the run at the last of those it holds, so that no index need be
    // rebuilt; only a checkpoint that commits to the index will do (one
    // signed before the index existed does not).
    let indexed = |note: &[u8]| {
        checkpoint::verify(note, &link.reads.log_key, &[]).is_ok_and(|c| c.index.is_some())
    };
    let stored = match store.checkpoint_at(log, end)? {
        Some(n) if indexed(&n) => Some((end, n)),
        _ => store
            .checkpoint_within(log, from, end)?
            .filter(|(_, n)| indexed(n)),
    };
    let note = match stored {
        Some((at, n)) => {
            entries.truncate(usize::try_from(at - from).unwrap_or(entries.len()));
            n
        }
        None => {
            let root = tree::root(
                &HashesOf {
                    store: &**store,
                    log,
                },
                end,
            )?;
            let index_root = crate::indexes::LogIndex::at(&**store, log, end)?.root();
            checkpoint::sign_indexed(&link.signs.log, end, root, index_root)?
        }
    };
    Ok(Push {
        origin: link.reads.origin.clone(),
        checkpoint: String::from_utf8_lossy(&note).into_owned(),
        entries,
    })
}

/// An empty push: asks how much of the own log the peer's mirror holds.
fn probe(link: &Link) -> Result<Push, FedError> {
    let (_, note) = link.reads.own_checkpoint()?;
    Ok(Push {
        origin: link.reads.origin.clone(),
        checkpoint: String::from_utf8_lossy(&note).into_owned(),
        entries: vec![],
    })
}

/// What a peer answered to a push.
enum Pushed {
    /// Its mirror's size.
    Acked(u64),
    /// Over its receipts budget: nothing stored.
    Paced {
        /// Its mirror's size.
        mirror_size: u64,
        /// How many entries addressed to it fit now.
        allowed: u64,
        /// Its budget per window.
        per_window: u64,
        /// How long it asks this node to wait (bounded by `MAX_PACE`).
        wait: Duration,
    },
}

/// Sends one push (or, without `from`, a probe) carrying at most `cap`
/// entries addressed to the peer.
async fn push_once(
    link: &Link,
    peer: &Arc<Peer>,
    from: Option<u64>,
    cap: Option<u64>,
) -> Result<Pushed, FedError> {
    let client = peer
        .client
        .as_ref()
        .ok_or_else(|| FedError::NotFound(format!("no URL for {}", peer.party)))?;
    let (l2, p2) = (link.clone(), peer.clone());
    let push = tokio::task::spawn_blocking(move || match from {
        Some(from) => next_push(&l2, &p2, from, cap),
        None => probe(&l2),
    })
    .await??;
    let body = serde_json::to_vec(&push)?;
    let (status, headers, bytes) = client
        .request(Method::POST, "/fed/v1/push", "application/json", body)
        .await
        .map_err(FedError::Unreachable)?;
    match status {
        StatusCode::OK | StatusCode::CONFLICT => {
            if let Ok(ack) = serde_json::from_slice::<PushAck>(&bytes) {
                return Ok(Pushed::Acked(ack.mirror_size));
            }
            Err(FedError::Refused(format!(
                "{} refused the push: {}",
                peer.party,
                String::from_utf8_lossy(&bytes)
            )))
        }
        StatusCode::TOO_MANY_REQUESTS => {
            let paced = serde_json::from_slice::<PushPaced>(&bytes).map_err(|e| {
                FedError::Refused(format!(
                    "{} answered 429 with a body that is not a paced-push answer ({e}): {}",
                    peer.party,
                    String::from_utf8_lossy(&bytes)
                ))
            })?;
            // Retry-After in seconds (RFC 9110); the body says the same.
            let secs = headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(paced.retry_after_secs);
            Ok(Pushed::Paced {
                mirror_size: paced.mirror_size,
                allowed: paced.receipts_allowed,
                per_window: paced.receipts_per_window,
                wait: Duration::from_secs(secs).min(MAX_PACE),
            })
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
    link: Link,
    peer: Arc<Peer>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut sizes = link.reads.sizes.clone();
    let mut acked: Option<u64> = None;
    // Most entries addressed to the peer per push, once it has paced us.
    let mut cap: Option<u64> = None;
    let mut backoff = Duration::from_millis(50);
    let mut last_push = None;
    loop {
        if *shutdown.borrow() || !link.reads.peers.is_current(&peer) {
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
        // Something new to send (not a probe after a restart or an idle
        // spell): under a stream, entries appended within the gap since the
        // last such push wait and go with the next one.
        let sending = acked.is_some();
        if sending {
            keep_gap(last_push, link.settings.push_gap, &mut shutdown).await;
            if *shutdown.borrow() {
                return;
            }
        }
        let pushed = push_once(&link, &peer, acked, cap).await;
        if sending {
            last_push = Some(Instant::now());
        }
        match pushed {
            Ok(Pushed::Paced {
                mirror_size,
                allowed,
                per_window,
                wait,
            }) => {
                acked = Some(mirror_size);
                peer.delivered(mirror_size);
                backoff = Duration::from_millis(50);
                if allowed > 0 && cap.is_none_or(|c| allowed < c) {
                    // A smaller push fits now: send it at once.
                    cap = Some(allowed);
                    continue;
                }
                // Nothing fits (or that push already was no larger than
                // what fits): wait for the peer's next window.
                let wait = wait.max(Duration::from_millis(100));
                peer.paced(
                    crate::clock::now()
                        .checked_add(wait)
                        .unwrap_or(jiff::Timestamp::MAX),
                );
                tracing::info!(peer = %peer.party, ?wait, "the peer paces receipts; waiting");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
                cap = Some(per_window.max(1));
            }
            Ok(Pushed::Acked(size)) => {
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
                    // The peer took what it was sent: stop cutting pushes
                    // at what it once said fits (it answers 429 again, with
                    // what fits then, if its window is spent).
                    cap = None;
                }
            }
            Err(e) => {
                peer.link_down(&e.to_string());
                acked = None;
                cap = None;
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
async fn cosign_once(link: &Link, peer: &Peer, old: u64) -> Result<Cosigned, FedError> {
    let client = peer
        .client
        .as_ref()
        .ok_or_else(|| FedError::NotFound(format!("no URL for {}", peer.party)))?;
    let (size, note) = link.reads.own_checkpoint()?;
    let old = old.min(size);
    let proof = link.reads.own_consistency(old, size)?;
    let body = witness::request_body(old, &proof, &note);
    let (status, headers, bytes) = client
        .request(
            Method::POST,
            "/fed/v1/witness/add-checkpoint",
            "text/plain",
            body,
        )
        .await
        .map_err(FedError::Unreachable)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match status.as_u16() {
        200 => Ok(Cosigned::Yes(witness::record(
            link, peer, size, &note, &text,
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
    link: Link,
    peer: Arc<Peer>,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut old = 0;
    loop {
        if *shutdown.borrow() || !link.reads.peers.is_current(&peer) {
            return;
        }
        // Enough for both conflicts in turn (a checkpoint read just before
        // a push, then an old size learnt anew), and no more.
        let mut tries = 0;
        if let Err(e) = super::own_time::stamp(&link, interval.as_secs().max(1)) {
            tracing::warn!(error = %e, "cosigning the own checkpoint with the own witness key");
        }
        loop {
            tries += 1;
            match cosign_once(&link, &peer, old).await {
                Ok(Cosigned::Yes(c)) => {
                    old = link
                        .reads
                        .store
                        .last_cosignature(link.reads.own, peer.witness_key.name())
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
        let last_round = Some(Instant::now());
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = peer.cosign_now.notified() => {}
            _ = shutdown.changed() => {}
        }
        // Deliveries ask at each push; under a stream, one request covers them.
        keep_gap(last_round, link.settings.cosign_gap, &mut shutdown).await;
    }
}

/// Waits out what is left of `gap` since `last`: nothing after a quiet
/// spell (or before the first round), so that only work following other
/// work within `gap` is delayed, and it then goes as one round.
async fn keep_gap(
    last: Option<Instant>,
    gap: Duration,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) {
    let left = last.map_or(Duration::ZERO, |l| gap.saturating_sub(l.elapsed()));
    // A shutdown already seen would not wake `changed` again.
    if left.is_zero() || *shutdown.borrow() {
        return;
    }
    tokio::select! {
        _ = tokio::time::sleep(left) => {}
        _ = shutdown.changed() => {}
    }
}
