//! Asking one C2SP witness to cosign the own latest checkpoint, exactly as
//! tlog-witness lays it out: `old` is the size the witness last cosigned
//! (as the store holds it), the proof is the consistency proof from it, and
//! a `409` with `text/x.tlog.size` names the size the witness holds, which
//! the next try starts from. Every other answer is a failure that
//! `hotline status` shows in the witness's words and ours.

use std::sync::Arc;
use std::time::Duration;

use hotline_proto::checkpoint::Cosignature;

use super::{External, Witnesses};
use crate::federation::Link;
use crate::federation::wire::TLOG_SIZE;

/// Tries in one round: enough to learn the witness's size once and ask
/// again from it, twice over (a checkpoint that moved in between).
const TRIES: usize = 3;

/// One round: the size cosigned and the cosignature, or why not.
pub async fn round(
    link: &Link,
    w: &External,
    client: &super::http::WitnessClient,
) -> Result<(u64, Cosignature), String> {
    let mut old = w.cosigned_size();
    let url = format!("{}/add-checkpoint", w.url);
    let name = &w.name;
    for _ in 0..TRIES {
        let (size, note) = link.reads.own_checkpoint().map_err(|e| e.to_string())?;
        let from = old.min(size);
        let proof = link
            .reads
            .own_consistency(from, size)
            .map_err(|e| format!("consistency proof from {from} to {size}: {e}"))?;
        let body = hotline_proto::witness::body(from, &proof, &note);
        let r = client.post(&url, body).await?;
        let said = excerpt(&r.body);
        match r.status.as_u16() {
            200 => {
                let c = crate::federation::witness::fold(
                    link, &w.key, name, size, &note, &r.body, true,
                )
                .map_err(|e| format!("{name}'s answer is refused: {e}"))?;
                return Ok((size, c));
            }
            409 if r
                .content_type
                .as_deref()
                .is_some_and(|t| t.starts_with(TLOG_SIZE)) =>
            {
                let held: u64 = r.body.trim().parse().map_err(|_| {
                    format!("{name} answered 409 with a size that is not a number: {said}")
                })?;
                if held > size {
                    return Err(format!(
                        "{name} last cosigned a tree of size {held} of {origin}, larger than this log's {size}: it holds a checkpoint of this log this node does not (another node signing with this log's key, or a store restored from an older backup); nothing was cosigned",
                        origin = link.reads.origin
                    ));
                }
                if held == from {
                    return Err(format!(
                        "{name} answered 409 naming size {held}, the size asked from: it holds another tree at that size (a split view of this log?)"
                    ));
                }
                old = held;
            }
            409 => return Err(format!("{name} answered 409 without a size ({said})")),
            422 => {
                return Err(format!(
                    "{name} says the consistency proof from size {from} to {size} does not verify: the tree it cosigned at {from} is not this log's (a split view, or this node's store was replaced); its evidence names the checkpoint it holds: {said}"
                ));
            }
            404 => {
                return Err(format!(
                    "{name} does not witness log {origin}: its operator must add it, with origin {origin} and key {vkey} ({said})",
                    origin = link.reads.origin,
                    vkey = link.reads.log_key.to_vkey()
                ));
            }
            403 => {
                return Err(format!(
                    "{name} refused the checkpoint's signature: it pins another key for {origin}; this log's key is {vkey} ({said})",
                    origin = link.reads.origin,
                    vkey = link.reads.log_key.to_vkey()
                ));
            }
            400 => {
                return Err(format!(
                    "{name} refused the request as malformed (400): {said}; hotline's checkpoints carry one extension line (hotline-index), which some witnesses must be told to allow for log {origin}",
                    origin = link.reads.origin
                ));
            }
            s => return Err(format!("{name} answered {s}: {said}")),
        }
    }
    Err(format!(
        "{name} named another size {TRIES} times in a row; trying again at the next round"
    ))
}

/// The first line of a witness's body, bounded, for an error.
fn excerpt(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    let mut s: String = line.chars().take(200).collect();
    if s.is_empty() {
        s = "no body".into();
    } else if line.chars().count() > 200 {
        s.push('…');
    }
    format!("{s:?}")
}

/// Submits at every `interval` and soon after the log grows, backing off
/// (up to the interval) while the witness fails, until `shutdown` or the
/// witness is removed.
pub async fn run(
    link: Link,
    witnesses: Arc<Witnesses>,
    w: Arc<External>,
    interval: Duration,
    metrics: Arc<crate::metrics::Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut sizes = link.reads.sizes.clone();
    let mut backoff = Duration::from_secs(1);
    loop {
        if *shutdown.borrow() || !witnesses.is_current(&w) {
            return;
        }
        let wait = match round(&link, &w, witnesses.client()).await {
            Ok((size, c)) => {
                w.cosigned(&metrics, size, c.time);
                backoff = Duration::from_secs(1);
                interval
            }
            Err(why) => {
                tracing::warn!(witness = %w.name, "{why}");
                w.failed(&metrics, &why);
                backoff = (backoff * 2).min(interval);
                backoff
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = w.wake.notified() => {}
            // A grown log: ask soon, but not once per append.
            Ok(()) = sizes.changed() => {
                tokio::time::sleep(Duration::from_secs(1).min(wait)).await;
                sizes.borrow_and_update();
            }
            _ = shutdown.changed() => {}
        }
    }
}
