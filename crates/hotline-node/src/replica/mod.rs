//! Replicas: several `hotline serve` processes of one party sharing one
//! PostgreSQL database. Exactly one holds the sequencer lease
//! ([`LeaseStore`]) and appends; the others serve reads from the shared
//! store and forward every draft to the holder over the pinned peer link
//! (`forward`). Federation (pushes, receipts, cosigning) runs on the holder
//! only: a replica's peer link answers 503, naming the holder, until it
//! takes the lease.
//!
//! The lease loop renews the lease every third of its time to live; a
//! replica that sees it lapse (by the database server's clock) takes it
//! with a new epoch, reads the log afresh and carries on. A replica that
//! cannot renew in time steps down at once; and should it still append, its
//! old epoch is refused inside the append's own transaction.

pub mod forward;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::sequencer::Sequencer;
use crate::store::{Lease, Store};

/// The lease's time to live unless `[store] lease_secs` says otherwise.
pub const DEFAULT_LEASE_SECS: f64 = 3.0;

/// This replica's place, as status shows it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Role {
    /// The epoch this replica holds, if it holds the lease.
    pub epoch: Option<u64>,
}

/// One replica's side of the lease.
pub struct Replica {
    store: Arc<dyn Store>,
    seq: Sequencer,
    /// This process as the lease names it: replica name, process id and a
    /// random tag, so a restarted process is a new holder with a new epoch.
    holder: String,
    ttl: Duration,
    role: Mutex<Role>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

/// What `hotline status` says of the lease.
#[derive(Clone, Debug, Serialize)]
pub struct LeaseStatus {
    /// The replica holding it.
    pub holder: String,
    /// Its epoch.
    pub epoch: u64,
    /// Since when it holds it (RFC 3339).
    pub since: String,
    /// Where the other replicas reach it.
    pub url: String,
    /// Milliseconds until it lapses unless renewed.
    pub expires_in_ms: i64,
    /// Whether that is this replica.
    pub this_replica: bool,
}

impl Replica {
    /// The replica of this process over `store`, named `name` (default:
    /// this host's name).
    pub fn new(store: Arc<dyn Store>, seq: Sequencer, name: Option<&str>, ttl: Duration) -> Self {
        let name = name.map_or_else(host_name, str::to_owned);
        let mut tag = [0u8; 3];
        rand_core::RngCore::fill_bytes(&mut hotline_proto::keys::os_rng(), &mut tag);
        let holder = format!(
            "{name} pid {} {}",
            std::process::id(),
            tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        Self {
            store,
            seq,
            holder,
            ttl,
            role: Mutex::default(),
        }
    }

    /// The lease's time to live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// This process as the lease names it.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The epoch this replica holds, if any.
    pub fn epoch(&self) -> Option<u64> {
        self.role.lock().map(|r| r.epoch).unwrap_or(None)
    }

    /// Takes the lease if it is free and starts appending here; `Ok(true)`
    /// if this replica holds it afterwards. `url` is where other replicas
    /// reach this one (empty outside `hotline serve`).
    pub fn try_lead(&self, url: &str) -> crate::store::Result<bool> {
        let Some(lease) = self.store.acquire(&self.holder, url, self.ttl)? else {
            return Ok(false);
        };
        if self.epoch() != Some(lease.epoch) {
            if let Err(e) = self.seq.lead(Some(lease.epoch)) {
                let _ = self.store.release(lease.epoch);
                return Err(e);
            }
            if let Ok(mut r) = self.role.lock() {
                r.epoch = Some(lease.epoch);
            }
            // Worth saying only where replicas share a store: on SQLite every
            // process that opens the directory takes the lease it holds alone.
            if self.store.shared() {
                tracing::info!(epoch = lease.epoch, holder = %self.holder, "took the sequencer lease");
            } else {
                tracing::debug!(epoch = lease.epoch, holder = %self.holder, "took the sequencer lease");
            }
        }
        Ok(true)
    }

    /// Stops appending here: `why` is logged.
    pub fn step_down(&self, why: &str) {
        let was = self.role.lock().ok().and_then(|mut r| r.epoch.take());
        if let Some(epoch) = was {
            tracing::warn!(epoch, why, "gave up the sequencer lease");
        }
        self.seq.follow(None);
    }

    /// The lease as status shows it (`None` for a store one process holds alone).
    pub fn status(&self) -> crate::store::Result<Option<LeaseStatus>> {
        if !self.store.shared() {
            return Ok(None);
        }
        Ok(self.store.lease()?.map(|l: Lease| LeaseStatus {
            this_replica: l.holder == self.holder,
            since: jiff::Timestamp::from_second(l.since)
                .map(|t| t.to_string())
                .unwrap_or_default(),
            holder: l.holder,
            epoch: l.epoch,
            url: l.url,
            expires_in_ms: l.expires_in_ms,
        }))
    }

    /// Lets the lease lapse now, if held, so another replica takes it at once.
    pub fn release(&self) {
        if let Some(epoch) = self.role.lock().ok().and_then(|mut r| r.epoch.take()) {
            self.seq.follow(None);
            if let Err(e) = self.store.release(epoch) {
                tracing::warn!(error = %e, "releasing the sequencer lease");
            }
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.release();
    }
}

/// What the lease loop does when the role changes.
pub trait OnRole: Send + Sync + 'static {
    /// This replica took the lease: start the holder's work.
    fn led(&self);
    /// This replica lost or gave up the lease: stop it.
    fn followed(&self);
    /// This replica follows the holder at `url`: forward drafts there.
    fn forward_to(&self, url: &str);
    /// Once a round while following: catch up with what the holder wrote
    /// (called from a blocking thread).
    fn following(&self);
}

/// Keeps this replica's side of the lease until `stop`: renews it while
/// held, takes it when it lapses, and forwards to the holder otherwise.
/// Releases it on the way out.
pub async fn lease_loop(
    replica: Arc<Replica>,
    url: String,
    on: Arc<dyn OnRole>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let every = (replica.ttl / 3).max(Duration::from_millis(100));
    let mut last_ok = Instant::now();
    let mut following: Option<String> = None;
    let mut leading = replica.epoch().is_some();
    if leading {
        on.led();
    }
    loop {
        let r = replica.clone();
        let u = url.clone();
        let mut ok = last_ok;
        let on2 = on.clone();
        let step = tokio::task::spawn_blocking(move || {
            let was = r.epoch().is_some();
            let held = match r.try_lead(&u) {
                Ok(true) => {
                    ok = Instant::now();
                    true
                }
                Ok(false) => {
                    if was {
                        r.step_down("another replica took the lease");
                    }
                    false
                }
                // Past the lease's time another replica may hold it.
                Err(e) if was && ok.elapsed() < r.ttl => {
                    tracing::warn!(error = %e, "renewing the sequencer lease");
                    true
                }
                Err(e) => {
                    if was {
                        r.step_down(&format!("cannot renew the lease: {e}"));
                    } else {
                        tracing::warn!(error = %e, "taking the sequencer lease");
                    }
                    false
                }
            };
            let holder = if held {
                None
            } else {
                on2.following();
                r.store.lease().ok().flatten().map(|l| l.url)
            };
            (held, holder, ok)
        })
        .await;
        if let Ok((held, holder, ok)) = step {
            last_ok = ok;
            if held && !leading {
                following = None;
                on.led();
            } else if !held && leading {
                on.followed();
            }
            if !held && holder.as_ref() != following.as_ref() {
                if let Some(u) = holder.as_deref().filter(|u| !u.is_empty()) {
                    on.forward_to(u);
                }
                following = holder;
            }
            leading = held;
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    let r = replica.clone();
    let _ = tokio::task::spawn_blocking(move || r.release()).await;
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "replica".to_owned())
}
