//! The sequencer lease: which replica of a party's node may append.
//!
//! Several `hotline serve` processes of one party may share one PostgreSQL
//! database (replicas). Exactly one at a time holds the lease, and every
//! append carries the epoch it was granted; the engine checks that epoch in
//! the append's own transaction, so a replica that lost its lease (paused,
//! partitioned, or simply slow to notice) can never append, whatever it
//! believes. Expiry is judged by the database server's clock, never a
//! replica's. Engines that one process holds alone (SQLite behind the
//! directory's writer lock, memory) keep the defaults: always held.

use std::time::Duration;

use super::Result;

/// The lease as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Lease {
    /// Grows by one at every change of holder; appends carry it.
    pub epoch: u64,
    /// The replica holding it (name and process, see `replica`).
    pub holder: String,
    /// Where other replicas reach the holder (its peer-link URL).
    pub url: String,
    /// When this holder took it, Unix seconds (the server's clock).
    pub since: i64,
    /// Milliseconds until it lapses unless renewed (the server's clock);
    /// zero or less: lapsed, free to take.
    pub expires_in_ms: i64,
}

/// The sequencer lease, for engines several processes share.
pub trait LeaseStore: Send + Sync {
    /// Whether several processes may share this store, so that appending
    /// needs the lease. `false`: this process holds the store alone.
    fn shared(&self) -> bool {
        false
    }

    /// Takes the lease for `holder` if it is free (never taken, released,
    /// or lapsed by the server's clock), renewing it if `holder` holds it
    /// already. `Some` with the lease when `holder` holds it afterwards;
    /// `None` when another live replica does.
    fn acquire(&self, holder: &str, url: &str, ttl: Duration) -> Result<Option<Lease>> {
        let _ = ttl;
        Ok(Some(Lease {
            epoch: 1,
            holder: holder.to_owned(),
            url: url.to_owned(),
            since: jiff::Timestamp::now().as_second(),
            expires_in_ms: i64::MAX,
        }))
    }

    /// Extends the lease at `epoch` by `ttl`; `false` when the lease is no
    /// longer at `epoch` (another replica took it).
    fn renew(&self, epoch: u64, ttl: Duration) -> Result<bool> {
        let _ = (epoch, ttl);
        Ok(true)
    }

    /// The lease in force, if any replica ever took it.
    fn lease(&self) -> Result<Option<Lease>> {
        Ok(None)
    }

    /// Lets the lease at `epoch` lapse now, so another replica takes it at
    /// once (a clean shutdown); nothing if it moved on already.
    fn release(&self, epoch: u64) -> Result<()> {
        let _ = epoch;
        Ok(())
    }
}
