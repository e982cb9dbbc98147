//! What `hotline status` shows per peer, derived from the logs and the link.

use std::sync::Arc;
use std::time::Duration;

use hotline_proto::entry::SignedEntry;
use jiff::Timestamp;
use serde::Serialize;

use super::{FedError, Link, LinkState, Peer};
use crate::metrics::PeerLabel;

/// A checkpoint size and the witness time of its cosignature, with the
/// witness that gave it: a cosignature is only worth whose it is.
#[derive(Clone, Debug, Serialize)]
pub struct Cosigned {
    /// Tree size.
    pub size: u64,
    /// Witness time (RFC 3339).
    pub time: Timestamp,
    /// Seconds ago.
    pub age_seconds: i64,
    /// The party whose witness cosigned.
    pub party: String,
    /// Its cosigner key's name (`<its log origin>/witness`).
    pub witness: String,
}

/// One peer's line of `hotline status`.
#[derive(Clone, Debug, Serialize)]
pub struct PeerStatus {
    /// The peer.
    pub peer: String,
    /// Its address in use (the last one that answered), if this node
    /// pushes to it; else the first it is pinned with.
    pub url: Option<String>,
    /// Every address it is pinned with, in the order tried, with which is
    /// in use and what each did last.
    pub addresses: Vec<super::addresses::AddressStatus>,
    /// The link.
    pub link: LinkState,
    /// The last checkpoint of the own log the peer cosigned.
    pub own_log_cosigned: Option<Cosigned>,
    /// The size of this node's verified mirror of the peer's log.
    pub mirror_size: u64,
    /// The last checkpoint of the peer's log this node cosigned.
    pub peer_log_cosigned: Option<Cosigned>,
    /// Own entries the peer has not acknowledged receiving.
    pub outbox_depth: u64,
    /// Age of the oldest of those, seconds.
    pub oldest_undelivered_seconds: Option<i64>,
    /// Things an operator must look at.
    pub alerts: Vec<String>,
}

fn cosigned(size: u64, time: u64, now: Timestamp, party: &str, witness: &str) -> Option<Cosigned> {
    let t = Timestamp::from_second(i64::try_from(time).ok()?).ok()?;
    Some(Cosigned {
        size,
        time: t,
        age_seconds: (now.as_second() - t.as_second()).max(0),
        party: party.to_owned(),
        witness: witness.to_owned(),
    })
}

/// The alert for a witness whose latest cosignature of the own log, dated
/// `time`, is beyond this node's clock (`now`) plus the allowed skew: the
/// sequencer does not date entries by it, so if that witness's clock is
/// right, it refuses this node's entries as backdated.
pub fn clock_ahead(party: &str, time: Timestamp, now: Timestamp, skew_secs: u64) -> Option<String> {
    let ahead = time.as_second().saturating_sub(now.as_second());
    (ahead > i64::try_from(skew_secs).unwrap_or(i64::MAX)).then(|| {
        format!(
            "{party}'s witness clock is ahead of this node's by {ahead} s (its latest cosignature of this node's log is dated {time}; max_clock_skew_secs is {skew_secs}): this node does not date its entries by that cosignature, so {party} may refuse them as backdated; fix the clock that is wrong (check both against NTP)"
        )
    })
}

/// Computes one peer's status. Takes anything holding the [`Link`] (the
/// API, the console and the CLI hold the node).
pub fn peer_status(holder: &impl AsRef<Link>, peer: &Peer) -> Result<PeerStatus, FedError> {
    let fed = holder.as_ref();
    let store = &fed.reads.store;
    let now = crate::clock::now();
    let link = peer.link();
    let own_size = store.size(fed.reads.own)?;
    let delivered = link.delivered.unwrap_or(0).min(own_size);
    let outbox_depth = if peer.client.is_some() {
        own_size - delivered
    } else {
        0
    };
    let oldest_undelivered_seconds = if outbox_depth > 0 {
        store
            .leaves(fed.reads.own, delivered, 1)?
            .first()
            .and_then(|l| SignedEntry::from_leaf(&l.leaf).ok())
            .map(|e| (now.as_second() - e.header().time.as_second()).max(0))
    } else {
        None
    };
    let own_log_cosigned = store
        .last_cosignature(fed.reads.own, peer.witness_key.name())?
        .and_then(|(s, t)| cosigned(s, t, now, peer.party.as_str(), peer.witness_key.name()));
    let witnessed = store.witness_state(peer.log_key.name())?;
    let peer_log_cosigned = match &witnessed {
        Some(w) => {
            let t = store.witness_updated(peer.log_key.name())?.unwrap_or(0);
            cosigned(
                w.size,
                u64::try_from(t).unwrap_or(0),
                now,
                fed.reads.party.as_str(),
                fed.signs.witness.name(),
            )
        }
        None => None,
    };
    let mut alerts: Vec<String> = store
        .equivocations()?
        .into_iter()
        .filter(|e| e.origin == peer.log_key.name())
        .map(|e| {
            let (id, origin) = (e.id, &e.origin);
            if super::evidence::is_index_mismatch(&e.bundle) {
                format!("EQUIVOCATION: {origin} signed a checkpoint whose index is not the index of its entries (its keyed proofs could leave entries out); evidence #{id} (`hotline prove equivocation {id}`)")
            } else {
                format!("EQUIVOCATION: {origin} showed two different histories; evidence #{id} (`hotline prove equivocation {id}`)")
            }
        })
        .collect();
    if let Some(c) = &own_log_cosigned
        && let Some(why) = clock_ahead(
            peer.party.as_str(),
            c.time,
            now,
            fed.settings.max_clock_skew_secs,
        )
    {
        alerts.push(why);
    }
    if let Some(until) = peer.paced_until() {
        alerts.push(format!(
            "{} paces this node's pushes until {until}: they would make it owe more receipts than its limits.max_receipts_per_window allows; the outbox resumes then, nothing is lost",
            peer.party
        ));
    }
    if !link.up {
        alerts.push(format!(
            "link down since {}: {}",
            link.since,
            link.last_error
                .clone()
                .unwrap_or_else(|| "not contacted yet".into())
        ));
    }
    Ok(PeerStatus {
        peer: peer.party.to_string(),
        url: match &peer.client {
            Some(c) => Some(c.in_use().to_owned()),
            None => peer.identity.addresses().first().map(|u| (*u).to_owned()),
        },
        addresses: match &peer.client {
            Some(c) => c.status(),
            None => peer
                .identity
                .addresses()
                .into_iter()
                .map(|u| super::addresses::AddressStatus {
                    url: u.to_owned(),
                    in_use: false,
                    last_ok: None,
                    last_error: None,
                    last_error_at: None,
                })
                .collect(),
        },
        link,
        own_log_cosigned,
        mirror_size: store.size(peer.mirror)?,
        peer_log_cosigned,
        outbox_depth,
        oldest_undelivered_seconds,
        alerts,
    })
}

/// Keeps the per-peer gauges in `/metrics` current.
pub async fn metrics_loop(
    link: Link,
    peer: Arc<Peer>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let label = PeerLabel {
        peer: peer.party.to_string(),
    };
    loop {
        if !link.reads.peers.is_current(&peer) {
            return;
        }
        let (l, p) = (link.clone(), peer.clone());
        if let Ok(Ok(s)) = tokio::task::spawn_blocking(move || peer_status(&l, &p)).await {
            let m = &link.tells.metrics;
            m.link_up.get_or_create(&label).set(i64::from(s.link.up));
            m.outbox_depth
                .get_or_create(&label)
                .set(i64::try_from(s.outbox_depth).unwrap_or(i64::MAX));
            m.outbox_oldest_seconds
                .get_or_create(&label)
                .set(s.oldest_undelivered_seconds.unwrap_or(0));
            m.mirror_size
                .get_or_create(&label)
                .set(i64::try_from(s.mirror_size).unwrap_or(i64::MAX));
            if let Ok(Ok(n)) = tokio::task::spawn_blocking({
                let store = link.reads.store.clone();
                move || store.equivocations().map(|e| e.len())
            })
            .await
            {
                m.equivocations.set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            if let Some(c) = &s.own_log_cosigned {
                m.cosignature_age_seconds
                    .get_or_create(&label)
                    .set(c.age_seconds);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => { if *shutdown.borrow() { return; } }
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;

    #[test]
    fn a_witness_clock_ahead_by_more_than_the_skew_is_an_alert_naming_its_party() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let at = |s| now + SignedDuration::from_secs(s);
        assert_eq!(clock_ahead("ru", at(300), now, 300), None);
        assert_eq!(clock_ahead("ru", at(-50), now, 300), None);
        let a = clock_ahead("ru", at(3600), now, 300).unwrap();
        assert!(
            a.starts_with("ru's witness clock is ahead of this node's by 3600 s"),
            "{a}"
        );
        assert!(a.contains("max_clock_skew_secs is 300"), "{a}");
        assert!(
            a.ends_with("fix the clock that is wrong (check both against NTP)"),
            "{a}"
        );
    }
}
