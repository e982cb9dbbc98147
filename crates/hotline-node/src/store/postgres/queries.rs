//! Entry queries on PostgreSQL: the same lookups as SQLite's, served by
//! the same indexes on `entries`.

use super::{PostgresStore, col, i64_of, pg, stored_leaves, u64_of, wait};
use crate::store::{EntryQueries, LogId, Result, StoredLeaf};

fn limit_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PostgresStore {
    /// The one nullable bigint a query returns, as an index.
    fn max_index(
        &self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<u64>> {
        let row = wait(self.reader().query_one(sql, params)).map_err(pg)?;
        let n: Option<i64> = col(&row, 0)?;
        Ok(n.and_then(|n| u64::try_from(n).ok()))
    }

    fn leaves_where(
        &self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<StoredLeaf>> {
        let rows = wait(self.reader().query(sql, params)).map_err(pg)?;
        stored_leaves(&rows)
    }
}

impl EntryQueries for PostgresStore {
    fn last_on_channel(
        &self,
        log: LogId,
        kind: &str,
        from: &str,
        to: Option<&str>,
    ) -> Result<Option<u64>> {
        self.max_index(
            "SELECT MAX(idx) FROM entries
             WHERE log = $1 AND kind = $2 AND from_name = $3 AND to_name IS NOT DISTINCT FROM $4",
            &[&log.0, &kind, &from, &to],
        )
    }

    fn key_entry_before(&self, log: LogId, office: &str, before: u64) -> Result<Option<u64>> {
        self.max_index(
            "SELECT MAX(idx) FROM entries WHERE log = $1 AND subject = $2 AND idx < $3",
            &[&log.0, &office, &limit_of(before)],
        )
    }

    fn leaves_of_kind(&self, log: LogId, kind: &str) -> Result<Vec<StoredLeaf>> {
        self.leaves_where(
            "SELECT idx, leaf, leaf_hash FROM entries WHERE log = $1 AND kind = $2 ORDER BY idx",
            &[&log.0, &kind],
        )
    }

    fn last_of_kind(&self, log: LogId, kind: &str) -> Result<Option<u64>> {
        self.max_index(
            "SELECT MAX(idx) FROM entries WHERE log = $1 AND kind = $2",
            &[&log.0, &kind],
        )
    }

    fn referencing(&self, log: LogId, ref_log: &str, ref_index: u64) -> Result<Vec<StoredLeaf>> {
        self.leaves_where(
            "SELECT idx, leaf, leaf_hash FROM entries
             WHERE log = $1 AND ref_log = $2 AND ref_index = $3 ORDER BY idx",
            &[&log.0, &ref_log, &i64_of(ref_index)?],
        )
    }

    fn receipt_cursor(&self, own: LogId, ref_log: &str, below: u64) -> Result<Option<u64>> {
        self.max_index(
            "SELECT MAX(ref_index) FROM entries
             WHERE log = $1 AND kind = 'receipt' AND ref_log = $2 AND ref_index < $3",
            &[&own.0, &ref_log, &limit_of(below)],
        )
    }

    fn addressed_to(
        &self,
        log: LogId,
        party: &str,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<StoredLeaf>> {
        let after = after.map(i64_of).transpose()?.unwrap_or(-1);
        // Offices of `party` are exactly the names in [party/, party0): '0'
        // follows '/'. (`to_name` is COLLATE "C": bytes compare, as in SQLite.)
        self.leaves_where(
            r#"SELECT idx, leaf, leaf_hash FROM entries
               WHERE log = $1 AND idx > $2 AND to_name >= $3 AND to_name < $4
                 AND kind != 'receipt'
               ORDER BY idx LIMIT $5"#,
            &[
                &log.0,
                &after,
                &format!("{party}/"),
                &format!("{party}0"),
                &limit_of(limit),
            ],
        )
    }

    fn between(&self, log: LogId, a: &str, b: &str, limit: u64) -> Result<Vec<StoredLeaf>> {
        let mut rows = self.leaves_where(
            "SELECT idx, leaf, leaf_hash FROM entries
             WHERE log = $1 AND ((from_name = $2 AND to_name = $3) OR (from_name = $3 AND to_name = $2))
             ORDER BY idx DESC LIMIT $4",
            &[&log.0, &a, &b, &limit_of(limit)],
        )?;
        rows.reverse();
        Ok(rows)
    }

    fn count_from_to(&self, log: LogId, from: &str, to: &str, after: Option<u64>) -> Result<u64> {
        let after = after.map(i64_of).transpose()?.unwrap_or(-1);
        let row = wait(self.reader().query_one(
            "SELECT COUNT(*) FROM entries
             WHERE log = $1 AND from_name = $2 AND to_name = $3 AND idx > $4 AND kind != 'receipt'",
            &[&log.0, &from, &to, &after],
        ))
        .map_err(pg)?;
        Ok(u64_of(col(&row, 0)?))
    }
}
