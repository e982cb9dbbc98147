//! The sequencer lease on PostgreSQL: one row (`sequencer_lease`), taken
//! and renewed by the server's clock, its epoch checked inside each append.

use std::time::Duration;

use super::conn::Tx;

use super::{PostgresStore, col, pg, u64_of, wait};
use crate::store::{Lease, LeaseStore, Result, StoreError};

const COLUMNS: &str = "epoch, holder, url, EXTRACT(EPOCH FROM since)::BIGINT, \
     (EXTRACT(EPOCH FROM (expires - now())) * 1000)::BIGINT";

fn lease_of(row: &tokio_postgres::Row) -> Result<Lease> {
    Ok(Lease {
        epoch: u64_of(col(row, 0)?),
        holder: col(row, 1)?,
        url: col(row, 2)?,
        since: col(row, 3)?,
        expires_in_ms: col(row, 4)?,
    })
}

fn millis(ttl: Duration) -> f64 {
    ttl.as_secs_f64() * 1000.0
}

/// Refuses the append in `tx` unless the lease is still at `held`. The
/// share lock makes a takeover wait until this transaction ends.
pub(super) fn check_epoch(tx: &Tx<'_>, held: u64) -> Result<()> {
    let row = wait(tx.query_one(
        "SELECT epoch FROM sequencer_lease WHERE id = 1 FOR SHARE",
        &[],
    ))
    .map_err(pg)?;
    let now = u64_of(col(&row, 0)?);
    if now == held {
        Ok(())
    } else {
        Err(StoreError::LeaseLost { held, now })
    }
}

impl LeaseStore for PostgresStore {
    fn shared(&self) -> bool {
        true
    }

    fn acquire(&self, holder: &str, url: &str, ttl: Duration) -> Result<Option<Lease>> {
        let mut w = self.writer()?;
        let tx = wait(w.transaction()).map_err(pg)?;
        let row = wait(tx.query_one(
            "SELECT holder, expires <= now() OR epoch = 0 FROM sequencer_lease WHERE id = 1 FOR UPDATE",
            &[],
        ))
        .map_err(pg)?;
        let (current, free): (String, bool) = (col(&row, 0)?, col(&row, 1)?);
        let sql = if current == holder {
            format!(
                "UPDATE sequencer_lease SET expires = now() + make_interval(secs => $1::float8 / 1000), url = $2
                 WHERE id = 1 RETURNING {COLUMNS}"
            )
        } else if free {
            format!(
                "UPDATE sequencer_lease SET epoch = epoch + 1, holder = $3, url = $2, since = now(),
                        expires = now() + make_interval(secs => $1::float8 / 1000)
                 WHERE id = 1 RETURNING {COLUMNS}"
            )
        } else {
            return Ok(None);
        };
        let ms = millis(ttl);
        let row = if current == holder {
            wait(tx.inner().query_one(&sql, &[&ms, &url])).map_err(pg)?
        } else {
            wait(tx.inner().query_one(&sql, &[&ms, &url, &holder])).map_err(pg)?
        };
        let lease = lease_of(&row)?;
        wait(tx.commit()).map_err(pg)?;
        Ok(Some(lease))
    }

    fn renew(&self, epoch: u64, ttl: Duration) -> Result<bool> {
        let w = self.writer()?;
        let n = wait(w.execute(
            "UPDATE sequencer_lease SET expires = now() + make_interval(secs => $2::float8 / 1000)
             WHERE id = 1 AND epoch = $1",
            &[&super::i64_of(epoch)?, &millis(ttl)],
        ))
        .map_err(pg)?;
        Ok(n == 1)
    }

    fn lease(&self) -> Result<Option<Lease>> {
        let row = wait(self.reader().client().query_one(
            &format!("SELECT {COLUMNS} FROM sequencer_lease WHERE id = 1"),
            &[],
        ))
        .map_err(pg)?;
        let lease = lease_of(&row)?;
        Ok((lease.epoch > 0).then_some(lease))
    }

    fn release(&self, epoch: u64) -> Result<()> {
        let w = self.writer()?;
        wait(w.execute(
            "UPDATE sequencer_lease SET expires = now() WHERE id = 1 AND epoch = $1",
            &[&super::i64_of(epoch)?],
        ))
        .map_err(pg)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hotline_proto::tree;

    use super::super::PostgresStore;
    use super::super::testing::database;
    use crate::store::conformance::leaf;
    use crate::store::prelude::*;
    use crate::store::{AppendBatch, StoreError, extend_tree};

    const LONG: Duration = Duration::from_secs(60);
    const SHORT: Duration = Duration::from_millis(200);

    fn append_at(s: &PostgresStore, epoch: Option<u64>, n: u64) -> crate::store::Result<()> {
        let log = s.log_id("hotline/us", "us")?;
        let size = s.size(log)?;
        let leaves = vec![leaf(n, "message", "us/state", Some("ru/mfa"))];
        let (hashes, _) = extend_tree(s, log, size, &[leaves[0].leaf_hash])?;
        s.append(&AppendBatch {
            log,
            first: size,
            leaves: &leaves,
            first_hash: tree::stored_hash_count(size),
            hashes: &hashes,
            checkpoint: None,
            now: 1_700_000_000,
            index: None,
            epoch,
        })
    }

    #[test]
    fn one_replica_holds_the_lease_until_it_lapses_and_the_next_gets_a_new_epoch() {
        let db = database();
        let a = PostgresStore::open(&db.url).unwrap();
        let b = PostgresStore::open(&db.url).unwrap();
        assert!(a.shared());
        assert_eq!(a.lease().unwrap(), None, "never taken");
        let first = a.acquire("a", "https://a", SHORT).unwrap().expect("free");
        assert_eq!((first.epoch, first.holder.as_str()), (1, "a"));
        assert_eq!(
            b.acquire("b", "https://b", LONG).unwrap(),
            None,
            "a holds it"
        );
        let again = a
            .acquire("a", "https://a", SHORT)
            .unwrap()
            .expect("a renews");
        assert_eq!(again.epoch, 1, "renewing keeps the epoch");
        std::thread::sleep(SHORT * 2);
        let second = b.acquire("b", "https://b", LONG).unwrap().expect("lapsed");
        assert_eq!((second.epoch, second.holder.as_str()), (2, "b"));
        assert!(second.expires_in_ms > 50_000, "{second:?}");
        assert!(!a.renew(1, LONG).unwrap(), "a's epoch is gone");
        assert!(b.renew(2, LONG).unwrap());
        assert_eq!(a.lease().unwrap().unwrap().holder, "b");
        b.release(2).unwrap();
        let third = a
            .acquire("a", "https://a", LONG)
            .unwrap()
            .expect("released");
        assert_eq!(third.epoch, 3);
    }

    #[test]
    fn an_append_under_a_lost_epoch_is_refused_and_writes_nothing() {
        let db = database();
        let old = PostgresStore::open(&db.url).unwrap();
        let new = PostgresStore::open(&db.url).unwrap();
        let e1 = old.acquire("old", "u", SHORT).unwrap().unwrap().epoch;
        append_at(&old, Some(e1), 0).unwrap();
        std::thread::sleep(SHORT * 2);
        let e2 = new.acquire("new", "u", LONG).unwrap().unwrap().epoch;
        // The old holder still believes it holds the lease.
        let e = append_at(&old, Some(e1), 1).unwrap_err();
        assert!(
            matches!(e, StoreError::LeaseLost { held, now } if held == e1 && now == e2),
            "{e:?}"
        );
        assert!(e.to_string().contains("taken over"), "{e}");
        let log = new.log_id_existing("hotline/us").unwrap();
        assert_eq!(new.size(log).unwrap(), 1, "nothing of the refused batch");
        append_at(&new, Some(e2), 1).unwrap();
        assert_eq!(new.size(log).unwrap(), 2);
    }

    #[test]
    fn a_takeover_waits_for_an_append_in_flight() {
        // The holder's append holds the share lock: a replica taking the
        // lapsed lease meanwhile waits, so the append commits under the
        // epoch it checked, and the next one is refused.
        let db = database();
        let old = std::sync::Arc::new(PostgresStore::open(&db.url).unwrap());
        let e1 = old.acquire("old", "u", SHORT).unwrap().unwrap().epoch;
        std::thread::sleep(SHORT * 2);
        let raw = super::super::connect(&db.url.parse().unwrap(), "t").unwrap();
        super::wait(
            raw.batch_execute("BEGIN; SELECT epoch FROM sequencer_lease WHERE id = 1 FOR SHARE"),
        )
        .unwrap();
        let taker = {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let s = PostgresStore::open(&url).unwrap();
                s.acquire("new", "u", LONG).unwrap().unwrap().epoch
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !taker.is_finished(),
            "the takeover waits for the share lock"
        );
        super::wait(raw.batch_execute("COMMIT")).unwrap();
        let e2 = taker.join().unwrap();
        assert_eq!(e2, e1 + 1);
        assert!(matches!(
            append_at(&old, Some(e1), 0),
            Err(StoreError::LeaseLost { .. })
        ));
    }
}
