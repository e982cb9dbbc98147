//! Witness state, cosignatures and equivocation evidence on PostgreSQL:
//! each check-then-write is one transaction holding a row lock (or an
//! advisory lock where the row may not exist yet).

use sha2::Digest as _;

use super::{PostgresStore, col, hash_from, i64_of, pg, u64_of, wait};
use crate::store::{
    Advance, CosignatureRecord, CosignatureStore, Evidence, EvidenceStore, LogId, Result,
    WitnessRequest, WitnessState, WitnessStore, cosignatures, witness,
};

/// The first key of the advisory lock a witness takes per origin.
const WITNESS_LOCK: i32 = 0x7769_746e;

impl WitnessStore for PostgresStore {
    fn witness_advance(
        &self,
        origin: &str,
        req: &WitnessRequest<'_>,
        accept: &dyn Fn(&WitnessState) -> bool,
    ) -> Result<Advance> {
        let mut w = self.writer()?;
        let tx = wait(w.transaction()).map_err(pg)?;
        // The check and the update are one atomic step (C2SP tlog-witness),
        // also against another node on this database: the first checkpoint
        // of an origin has no row to lock yet.
        wait(tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&WITNESS_LOCK, &origin],
        ))
        .map_err(pg)?;
        let row = wait(tx.query_opt(
            "SELECT size, root, note FROM witness_state WHERE origin = $1",
            &[&origin],
        ))
        .map_err(pg)?;
        let current = row.map(|r| witness_state(&r)).transpose()?;
        if let Some(answer) = witness::refusal(current, req, accept) {
            return Ok(answer);
        }
        wait(tx.execute(
            "INSERT INTO witness_state (origin, size, root, note, updated) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (origin) DO UPDATE
             SET size = EXCLUDED.size, root = EXCLUDED.root, note = EXCLUDED.note, updated = EXCLUDED.updated",
            &[&origin, &i64_of(req.size)?, &&req.root.0[..], &req.note, &req.now],
        ))
        .map_err(pg)?;
        wait(tx.commit()).map_err(pg)?;
        Ok(Advance::Advanced)
    }

    fn witness_updated(&self, origin: &str) -> Result<Option<i64>> {
        let row = wait(self.reader().query_opt(
            "SELECT updated FROM witness_state WHERE origin = $1",
            &[&origin],
        ))
        .map_err(pg)?;
        row.map(|r| col(&r, 0)).transpose()
    }

    fn witness_state(&self, origin: &str) -> Result<Option<WitnessState>> {
        let row = wait(self.reader().query_opt(
            "SELECT size, root, note FROM witness_state WHERE origin = $1",
            &[&origin],
        ))
        .map_err(pg)?;
        row.map(|r| witness_state(&r)).transpose()
    }
}

fn witness_state(r: &tokio_postgres::Row) -> Result<WitnessState> {
    Ok(WitnessState {
        size: u64_of(col(r, 0)?),
        root: hash_from(col(r, 1)?)?,
        note: col(r, 2)?,
    })
}

impl CosignatureStore for PostgresStore {
    fn add_cosignature(
        &self,
        log: LogId,
        size: u64,
        witness: &str,
        time: u64,
        line: &str,
        merge: &dyn Fn(&[u8]) -> Vec<u8>,
    ) -> Result<()> {
        let mut w = self.writer()?;
        let tx = wait(w.transaction()).map_err(pg)?;
        // Read-merge-write under the row's lock: two witnesses cosigning the
        // same size at once must both end up in the stored note.
        let row = wait(tx.query_opt(
            "SELECT note FROM checkpoints WHERE log = $1 AND size = $2 FOR UPDATE",
            &[&log.0, &i64_of(size)?],
        ))
        .map_err(pg)?;
        let Some(row) = row else {
            return Err(cosignatures::no_checkpoint(size));
        };
        let current: Vec<u8> = col(&row, 0)?;
        let note_with_line = merge(&current);
        wait(tx.execute(
            "INSERT INTO cosignatures (log, size, witness, time, line) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[&log.0, &i64_of(size)?, &witness, &i64_of(time)?, &line],
        ))
        .map_err(pg)?;
        wait(tx.execute(
            "UPDATE checkpoints SET note = $3 WHERE log = $1 AND size = $2",
            &[&log.0, &i64_of(size)?, &note_with_line],
        ))
        .map_err(pg)?;
        wait(tx.commit()).map_err(pg)
    }

    fn record_cosignature(
        &self,
        log: LogId,
        size: u64,
        witness: &str,
        time: u64,
        line: &str,
        note: &[u8],
    ) -> Result<()> {
        let w = self.writer()?;
        wait(w.execute(
            "INSERT INTO cosignatures (log, size, witness, time, line, note) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT DO NOTHING",
            &[&log.0, &i64_of(size)?, &witness, &i64_of(time)?, &line, &note],
        ))
        .map_err(pg)?;
        Ok(())
    }

    fn cosignature_near(
        &self,
        log: LogId,
        time: u64,
        before: bool,
    ) -> Result<Option<CosignatureRecord>> {
        let sql = if before {
            "SELECT size, witness, time, line, note FROM cosignatures WHERE log = $1 AND time <= $2 ORDER BY time DESC, size DESC LIMIT 1"
        } else {
            "SELECT size, witness, time, line, note FROM cosignatures WHERE log = $1 AND time >= $2 ORDER BY time ASC, size ASC LIMIT 1"
        };
        let row = wait(self.reader().query_opt(sql, &[&log.0, &i64_of(time)?])).map_err(pg)?;
        row.map(|r| {
            Ok(CosignatureRecord {
                size: u64_of(col(&r, 0)?),
                witness: col(&r, 1)?,
                time: u64_of(col(&r, 2)?),
                line: col(&r, 3)?,
                note: col(&r, 4)?,
            })
        })
        .transpose()
    }

    fn last_cosignature(&self, log: LogId, witness: &str) -> Result<Option<(u64, u64)>> {
        let row = wait(self.reader().query_opt(
            "SELECT size, time FROM cosignatures WHERE log = $1 AND witness = $2
             ORDER BY time DESC, size DESC LIMIT 1",
            &[&log.0, &witness],
        ))
        .map_err(pg)?;
        row.map(|r| Ok((u64_of(col(&r, 0)?), u64_of(col(&r, 1)?))))
            .transpose()
    }
}

impl EvidenceStore for PostgresStore {
    fn add_equivocation(&self, origin: &str, now: i64, bundle: &[u8]) -> Result<i64> {
        let digest = sha2::Sha256::digest(bundle).to_vec();
        let w = self.writer()?;
        wait(w.execute(
            "INSERT INTO equivocations (origin, detected, bundle, digest) VALUES ($1, $2, $3, $4)
             ON CONFLICT (digest) DO NOTHING",
            &[&origin, &now, &bundle, &digest],
        ))
        .map_err(pg)?;
        let row = wait(w.query_one("SELECT id FROM equivocations WHERE digest = $1", &[&digest]))
            .map_err(pg)?;
        col(&row, 0)
    }

    fn equivocations(&self) -> Result<Vec<Evidence>> {
        let rows = wait(self.reader().query(
            "SELECT id, origin, detected, bundle FROM equivocations ORDER BY id",
            &[],
        ))
        .map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(Evidence {
                    id: col(r, 0)?,
                    origin: col(r, 1)?,
                    detected: col(r, 2)?,
                    bundle: col(r, 3)?,
                })
            })
            .collect()
    }
}
