//! The identity role on PostgreSQL: the one-row `holder` table
//! (migration 0002), written once by the first claim.

use super::{PostgresStore, col, pg, wait};
use crate::store::{Holder, IdentityStore, Result};

fn holder_of(row: &tokio_postgres::Row) -> Result<Holder> {
    Ok(Holder {
        party: col(row, 0)?,
        log_key: col(row, 1)?,
        witness_key: col(row, 2)?,
    })
}

impl IdentityStore for PostgresStore {
    fn record_holder(&self, who: &Holder) -> Result<Holder> {
        let w = self.writer()?;
        // Two nodes claiming at once: one row wins, both read it back.
        wait(w.execute(
            "INSERT INTO holder (party, log_key, witness_key) VALUES ($1, $2, $3)
             ON CONFLICT (one) DO NOTHING",
            &[&who.party, &who.log_key, &who.witness_key],
        ))
        .map_err(pg)?;
        let row =
            wait(w.query_one("SELECT party, log_key, witness_key FROM holder", &[])).map_err(pg)?;
        holder_of(&row)
    }

    fn holder(&self) -> Result<Option<Holder>> {
        // A read-only open does not migrate: an older schema has no table yet.
        let row = wait(
            self.reader()
                .query_opt("SELECT to_regclass('holder') IS NOT NULL", &[]),
        )
        .map_err(pg)?;
        if !row
            .map(|r| col::<bool>(&r, 0))
            .transpose()?
            .unwrap_or(false)
        {
            return Ok(None);
        }
        let row = wait(
            self.reader()
                .query_opt("SELECT party, log_key, witness_key FROM holder", &[]),
        )
        .map_err(pg)?;
        row.as_ref().map(holder_of).transpose()
    }
}
