//! The schema: SQL migrations applied in order, each in one transaction
//! with its row in `schema_version`, under an advisory lock so that several
//! nodes opening one database at once apply each migration once.

use tokio_postgres::Client;

use super::{col, pg, wait};
use crate::store::{Result, StoreError};

/// Every migration, in order; the schema version is how many are applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_logs.sql"),
    include_str!("../../../migrations/postgres/0002_identity.sql"),
    include_str!("../../../migrations/postgres/0003_lease.sql"),
];

/// Any fixed number: the advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x0068_6f74_6c69_6e65;

/// The schema version this build writes.
pub(super) fn supported() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Brings the database to this build's schema, or refuses one that a newer
/// build wrote.
pub(super) fn migrate(c: &mut Client) -> Result<()> {
    let supported = supported();
    loop {
        let tx = wait(c.transaction()).map_err(pg)?;
        wait(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])).map_err(pg)?;
        // Not `CREATE TABLE IF NOT EXISTS`, whose notice ("already exists,
        // skipping") would be logged at every open.
        wait(tx.batch_execute(
            "DO $$ BEGIN IF to_regclass('schema_version') IS NULL THEN \
             CREATE TABLE schema_version (version BIGINT PRIMARY KEY); END IF; END $$",
        ))
        .map_err(pg)?;
        let row = wait(tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[]))
            .map_err(pg)?;
        let have: i64 = col(&row, 0)?;
        if have > supported {
            return Err(StoreError::TooNew {
                found: have,
                supported,
            });
        }
        let Some(sql) = usize::try_from(have).ok().and_then(|i| MIGRATIONS.get(i)) else {
            return wait(tx.commit()).map_err(pg);
        };
        wait(tx.batch_execute(sql)).map_err(pg)?;
        wait(tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(have + 1)],
        ))
        .map_err(pg)?;
        wait(tx.commit()).map_err(pg)?;
    }
}

/// Refuses a database that a newer build migrated, without migrating one
/// that is older: for a reader, which must not change the schema under the
/// node that writes.
pub(super) fn check(c: &mut Client) -> Result<()> {
    let row =
        wait(c.query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])).map_err(pg)?;
    if !col::<bool>(&row, 0)? {
        return Ok(());
    }
    let row = wait(c.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[]))
        .map_err(pg)?;
    let (found, supported) = (col::<i64>(&row, 0)?, supported());
    if found > supported {
        return Err(StoreError::TooNew { found, supported });
    }
    Ok(())
}
