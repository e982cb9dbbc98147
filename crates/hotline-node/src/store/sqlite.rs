//! The embedded default store: SQLite in WAL mode with `synchronous=FULL`, so
//! a commit that returned is on disk. One writer connection (the sequencer's)
//! and a few reader connections, which WAL lets run alongside the writer.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use hotline_proto::Hash;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use hotline_proto::index::KeyState;

use super::{
    Advance, AppendBatch, CosignatureRecord, CosignatureStore, EntryQueries, Evidence,
    EvidenceStore, Holder, IdentityStore, IndexRow, IndexStore, LogId, LogStore, Result,
    StoreError, StoredLeaf, WitnessRequest, WitnessState, WitnessStore, cosignatures, index,
    witness,
};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_logs.sql"),
    include_str!("../../migrations/sqlite/0002_federation.sql"),
    include_str!("../../migrations/sqlite/0003_evidence_digest.sql"),
    include_str!("../../migrations/sqlite/0004_references.sql"),
    include_str!("../../migrations/sqlite/0005_cosignature_notes.sql"),
    include_str!("../../migrations/sqlite/0006_kind_and_reference_order.sql"),
    include_str!("../../migrations/sqlite/0007_operators.sql"),
    include_str!("../../migrations/sqlite/0008_console.sql"),
    include_str!("../../migrations/sqlite/0009_index.sql"),
];
const READERS: usize = 4;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::from(e)
}

fn hash_from(blob: Vec<u8>) -> Result<Hash> {
    blob.try_into()
        .map(Hash)
        .map_err(|_| StoreError::Corrupt("stored hash is not 32 bytes".into()))
}

fn i64_of(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} does not fit SQLite's integer")))
}

/// Statements through the connection's cache, so that each is parsed once
/// per connection: `Connection::execute` and `query_row` parse their SQL on
/// every call, which was a twentieth of a node's CPU under a TAXII load.
/// Parsed once only on a connection set up by [`plan_once`]. The console's
/// own database uses it too.
pub trait Cached {
    /// `execute`, cached.
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize>;
    /// `query_row`, cached.
    fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Room for every statement the store runs, so none is parsed twice.
const STATEMENTS: usize = 128;

mod checkpointer;

/// SQLite storage.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next: AtomicUsize,
    /// Declared after `writer`, so dropped after it: the writer's hook
    /// holds the channel that keeps the thread waiting. `None` when opened
    /// read-only.
    _checkpoints: Option<checkpointer::Checkpointer>,
}

/// Keeps each cached statement's plan for the life of the connection.
///
/// The bundled SQLite is built with STAT4, under which a query such as
/// `SELECT MAX(idx) … WHERE log = ?1` marks its plan as depending on `?1`.
/// rusqlite clears a statement's bindings when it goes back to the cache,
/// and SQLite then re-parses and re-plans it at its next step: every call
/// paid a full prepare (about a tenth of a node's CPU under ingest). With
/// the query planner stability guarantee the plan never depends on a bound
/// value, so a cached statement is parsed once. The store runs no ANALYZE,
/// so no plan is lost.
pub fn plan_once(c: &Connection) -> Result<()> {
    c.set_prepared_statement_cache_capacity(STATEMENTS);
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(db)?;
    Ok(())
}

/// The page size of a new database. A sealed body is tens to hundreds of
/// kilobytes, which SQLite keeps as a chain of overflow pages, each written
/// to the WAL as a frame of its own and later copied back by a checkpoint.
/// At 16 KiB a body of 230 KB is 15 frames instead of 57, and writing it
/// took about a third less CPU than at the default 4 KiB (the WAL's own
/// checkpoint threshold, 1,000 pages, grows with the page).
const PAGE_SIZE: u32 = 16 * 1024;

/// What every connection that writes sets: WAL, every commit durable,
/// foreign keys, a wait for another writer, statements planned once, and
/// for a database not yet written, [`PAGE_SIZE`] (SQLite ignores it for
/// one that exists, which keeps the size it was made with).
pub fn configure(c: &Connection) -> Result<()> {
    plan_once(c)?;
    c.pragma_update(None, "page_size", PAGE_SIZE).map_err(db)?;
    c.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
    c.pragma_update(None, "synchronous", "FULL").map_err(db)?;
    c.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
    c.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db)?;
    Ok(())
}

fn migrate(c: &mut Connection) -> Result<()> {
    c.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(db)?;
    let have: i64 = c
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if have > supported {
        return Err(StoreError::TooNew {
            found: have,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(have).unwrap_or(0))
    {
        let tx = c.transaction().map_err(db)?;
        tx.execute_batch(sql).map_err(db)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [i64::try_from(i + 1).unwrap_or(0)],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database for writing.
    pub fn open(path: &Path) -> Result<Self> {
        // An empty file is a new database to SQLite. Made here mode 0600
        // whatever the umask; SQLite gives its WAL and shared-memory files
        // the database's mode.
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt as _;
            use std::os::unix::fs::PermissionsExt as _;
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|source| StoreError::Create {
                    path: path.to_owned(),
                    source,
                })?;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|source| StoreError::Create {
                    path: path.to_owned(),
                    source,
                })?;
        }
        let mut w = Connection::open(path).map_err(db)?;
        configure(&w)?;
        migrate(&mut w)?;
        let checkpoints = checkpointer::Checkpointer::start(path, &mut w)?;
        Self::with_writer(path, w, checkpoints)
    }

    /// Opens an existing database for reading only (CLI commands that only read).
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let w = Connection::open_with_flags(path, flags).map_err(db)?;
        w.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        let r = Connection::open_with_flags(path, flags).map_err(db)?;
        r.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        plan_once(&w)?;
        plan_once(&r)?;
        Ok(Self {
            writer: Mutex::new(w),
            readers: vec![Mutex::new(r)],
            next: AtomicUsize::new(0),
            _checkpoints: None,
        })
    }

    fn with_writer(
        path: &Path,
        w: Connection,
        checkpoints: checkpointer::Checkpointer,
    ) -> Result<Self> {
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r =
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(db)?;
            r.busy_timeout(std::time::Duration::from_secs(10))
                .map_err(db)?;
            plan_once(&r)?;
            readers.push(Mutex::new(r));
        }
        Ok(Self {
            writer: Mutex::new(w),
            readers,
            next: AtomicUsize::new(0),
            _checkpoints: Some(checkpoints),
        })
    }

    /// One value of one row, if there is a row.
    fn one<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<T>> {
        self.read(|c| c.row(sql, params, |r| r.get(0)).optional().map_err(db))
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(c) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return f(&c);
            }
        }
        let c = self.readers[start % self.readers.len()]
            .lock()
            .map_err(|_| StoreError::Poisoned("reader"))?;
        f(&c)
    }
}

impl LogStore for SqliteStore {
    fn log_id(&self, origin: &str, party: &str) -> Result<LogId> {
        let found = self.read(|c| {
            c.row("SELECT id FROM logs WHERE origin = ?1", [origin], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map_err(db)
        })?;
        if let Some(id) = found {
            return Ok(LogId(id));
        }
        let w = writer(self)?;
        w.run(
            "INSERT OR IGNORE INTO logs (origin, party) VALUES (?1, ?2)",
            [origin, party],
        )
        .map_err(db)?;
        let id = w
            .row("SELECT id FROM logs WHERE origin = ?1", [origin], |r| {
                r.get(0)
            })
            .map_err(db)?;
        Ok(LogId(id))
    }

    fn log_id_existing(&self, origin: &str) -> Result<LogId> {
        self.read(|c| {
            c.row("SELECT id FROM logs WHERE origin = ?1", [origin], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map_err(db)?
            .map(LogId)
            .ok_or_else(|| StoreError::Corrupt(format!("the store has no log {origin}")))
        })
    }

    fn size(&self, log: LogId) -> Result<u64> {
        self.read(|c| {
            let n: Option<i64> = c
                .row(
                    "SELECT MAX(idx) FROM entries WHERE log = ?1",
                    [log.0],
                    |r| r.get(0),
                )
                .map_err(db)?;
            Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0) + 1))
        })
    }

    fn append(&self, b: &AppendBatch<'_>) -> Result<()> {
        let mut w = writer(self)?;
        let tx = w.transaction().map_err(db)?;
        // A batch must continue the log exactly (`AppendBatch::first`): an
        // overlap trips the primary key, but a gap would not.
        let (size, hashes): (i64, i64) = tx
            .row(
                "SELECT (SELECT COALESCE(MAX(idx) + 1, 0) FROM entries WHERE log = ?1),
                        (SELECT COALESCE(MAX(id) + 1, 0) FROM hashes WHERE log = ?1)",
                [b.log.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db)?;
        if size != i64_of(b.first)? || hashes != i64_of(b.first_hash)? {
            return Err(StoreError::Corrupt(format!(
                "a batch at entry {} (hash {}) of a log of {size} entries ({hashes} hashes)",
                b.first, b.first_hash
            )));
        }
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO entries (log, idx, leaf, leaf_hash, kind, from_name, to_name, subject, time, ref_log, ref_index)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(db)?;
            let mut body = tx
                .prepare_cached("INSERT INTO bodies (log, idx, sealed) VALUES (?1, ?2, ?3)")
                .map_err(db)?;
            for (i, l) in b.leaves.iter().enumerate() {
                let idx = i64_of(b.first + i as u64)?;
                ins.execute(params![
                    b.log.0,
                    idx,
                    l.leaf,
                    &l.leaf_hash.0[..],
                    l.kind,
                    l.from,
                    l.to,
                    l.subject,
                    l.time,
                    l.reference.as_ref().map(|r| r.0.as_str()),
                    l.reference.as_ref().map(|r| i64_of(r.1)).transpose()?
                ])
                .map_err(db)?;
                if let Some(s) = &l.sealed {
                    body.execute(params![b.log.0, idx, s]).map_err(db)?;
                }
            }
            let mut h = tx
                .prepare_cached("INSERT INTO hashes (log, id, hash) VALUES (?1, ?2, ?3)")
                .map_err(db)?;
            for (i, hash) in b.hashes.iter().enumerate() {
                h.execute(params![
                    b.log.0,
                    i64_of(b.first_hash + i as u64)?,
                    &hash.0[..]
                ])
                .map_err(db)?;
            }
            if let Some((size, note)) = b.checkpoint {
                tx.run(
                    "INSERT OR REPLACE INTO checkpoints (log, size, note, created) VALUES (?1, ?2, ?3, ?4)",
                    params![b.log.0, i64_of(size)?, note, b.now],
                )
                .map_err(db)?;
            }
            if let Some(rows) = b.index {
                write_index(&tx, b.log, b.first, b.first + b.leaves.len() as u64, rows)?;
            }
        }
        tx.commit().map_err(db)
    }

    fn read_hashes(&self, log: LogId, ids: &[u64]) -> Result<Vec<Hash>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT hash FROM hashes WHERE log = ?1 AND id = ?2")
                .map_err(db)?;
            ids.iter()
                .map(|&id| {
                    let blob: Option<Vec<u8>> = st
                        .query_row(params![log.0, i64_of(id)?], |r| r.get(0))
                        .optional()
                        .map_err(db)?;
                    hash_from(
                        blob.ok_or_else(|| {
                            StoreError::Corrupt(format!("tree hash {id} is missing"))
                        })?,
                    )
                })
                .collect()
        })
    }

    fn leaves(&self, log: LogId, start: u64, limit: u64) -> Result<Vec<StoredLeaf>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT idx, leaf, leaf_hash FROM entries WHERE log = ?1 AND idx >= ?2 ORDER BY idx LIMIT ?3")
                .map_err(db)?;
            stored_leaves(&mut st, params![log.0, i64_of(start)?, i64_of(limit)?])
        })
    }

    fn body(&self, log: LogId, index: u64) -> Result<Option<Vec<u8>>> {
        self.one(
            "SELECT sealed FROM bodies WHERE log = ?1 AND idx = ?2",
            params![log.0, i64_of(index)?],
        )
    }

    fn last_time(&self, log: LogId) -> Result<Option<String>> {
        self.one(
            "SELECT time FROM entries WHERE log = ?1 ORDER BY idx DESC LIMIT 1",
            [log.0],
        )
    }

    fn latest_checkpoint(&self, log: LogId) -> Result<Option<(u64, Vec<u8>)>> {
        self.read(|c| {
            c.row(
                "SELECT size, note FROM checkpoints WHERE log = ?1 ORDER BY size DESC LIMIT 1",
                [log.0],
                |r| Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), r.get(1)?)),
            )
            .optional()
            .map_err(db)
        })
    }

    fn checkpoint_at(&self, log: LogId, size: u64) -> Result<Option<Vec<u8>>> {
        self.one(
            "SELECT note FROM checkpoints WHERE log = ?1 AND size = ?2",
            params![log.0, i64_of(size)?],
        )
    }

    fn checkpoint_within(
        &self,
        log: LogId,
        above: u64,
        at_most: u64,
    ) -> Result<Option<(u64, Vec<u8>)>> {
        self.read(|c| {
            c.row(
                "SELECT size, note FROM checkpoints WHERE log = ?1 AND size > ?2 AND size <= ?3 ORDER BY size DESC LIMIT 1",
                params![log.0, i64_of(above)?, i64_of(at_most)?],
                |r| Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), r.get(1)?)),
            )
            .optional()
            .map_err(db)
        })
    }
}

impl EntryQueries for SqliteStore {
    fn last_on_channel(
        &self,
        log: LogId,
        kind: &str,
        from: &str,
        to: Option<&str>,
    ) -> Result<Option<u64>> {
        self.read(|c| {
            let n: Option<i64> = c
                .row(
                    "SELECT MAX(idx) FROM entries WHERE log = ?1 AND kind = ?2 AND from_name = ?3 AND to_name IS ?4",
                    params![log.0, kind, from, to],
                    |r| r.get(0),
                )
                .map_err(db)?;
            Ok(n.and_then(|n| u64::try_from(n).ok()))
        })
    }

    fn key_entry_before(&self, log: LogId, office: &str, before: u64) -> Result<Option<u64>> {
        self.read(|c| {
            let n: Option<i64> = c
                .row(
                    "SELECT MAX(idx) FROM entries WHERE log = ?1 AND subject = ?2 AND idx < ?3",
                    params![log.0, office, i64_of(before)?],
                    |r| r.get(0),
                )
                .map_err(db)?;
            Ok(n.and_then(|n| u64::try_from(n).ok()))
        })
    }

    fn leaves_of_kind(&self, log: LogId, kind: &str) -> Result<Vec<StoredLeaf>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT idx, leaf, leaf_hash FROM entries WHERE log = ?1 AND kind = ?2 ORDER BY idx")
                .map_err(db)?;
            stored_leaves(&mut st, params![log.0, kind])
        })
    }

    fn last_of_kind(&self, log: LogId, kind: &str) -> Result<Option<u64>> {
        self.read(|c| {
            let n: Option<i64> = c
                .row(
                    "SELECT MAX(idx) FROM entries WHERE log = ?1 AND kind = ?2",
                    params![log.0, kind],
                    |r| r.get(0),
                )
                .map_err(db)?;
            Ok(n.and_then(|n| u64::try_from(n).ok()))
        })
    }

    fn referencing(&self, log: LogId, ref_log: &str, ref_index: u64) -> Result<Vec<StoredLeaf>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT idx, leaf, leaf_hash FROM entries WHERE log = ?1 AND ref_log = ?2 AND ref_index = ?3 ORDER BY idx",
                )
                .map_err(db)?;
            stored_leaves(&mut st, params![log.0, ref_log, i64_of(ref_index)?])
        })
    }

    fn receipt_cursor(&self, own: LogId, ref_log: &str, below: u64) -> Result<Option<u64>> {
        let below = i64::try_from(below).unwrap_or(i64::MAX);
        self.read(|c| {
            let n: Option<i64> = c
                .row(
                    "SELECT MAX(ref_index) FROM entries WHERE log = ?1 AND kind = 'receipt' AND ref_log = ?2 AND ref_index < ?3",
                    params![own.0, ref_log, below],
                    |r| r.get(0),
                )
                .map_err(db)?;
            Ok(n.and_then(|n| u64::try_from(n).ok()))
        })
    }

    fn addressed_to(
        &self,
        log: LogId,
        party: &str,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<StoredLeaf>> {
        let after = after.map(i64_of).transpose()?.unwrap_or(-1);
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT idx, leaf, leaf_hash FROM entries
                     WHERE log = ?1 AND idx > ?2 AND to_name >= ?3 AND to_name < ?4 AND kind != 'receipt'
                     ORDER BY idx LIMIT ?5",
                )
                .map_err(db)?;
            // Offices of `party` are exactly the names in [party/, party0): '0' follows '/'.
            stored_leaves(&mut st, params![log.0, after, format!("{party}/"), format!("{party}0"), i64_of(limit)?])
        })
    }

    fn between(&self, log: LogId, a: &str, b: &str, limit: u64) -> Result<Vec<StoredLeaf>> {
        let mut rows = self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT idx, leaf, leaf_hash FROM entries
                     WHERE log = ?1 AND ((from_name = ?2 AND to_name = ?3) OR (from_name = ?3 AND to_name = ?2))
                     ORDER BY idx DESC LIMIT ?4",
                )
                .map_err(db)?;
            stored_leaves(&mut st, params![log.0, a, b, i64_of(limit)?])
        })?;
        rows.reverse();
        Ok(rows)
    }

    fn count_from_to(&self, log: LogId, from: &str, to: &str, after: Option<u64>) -> Result<u64> {
        let after = after.map(i64_of).transpose()?.unwrap_or(-1);
        let n: Option<i64> = self.one(
            "SELECT COUNT(*) FROM entries
             WHERE log = ?1 AND from_name = ?2 AND to_name = ?3 AND idx > ?4 AND kind != 'receipt'",
            params![log.0, from, to, after],
        )?;
        Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
    }
}

impl IndexStore for SqliteStore {
    fn index_states(&self, log: LogId) -> Result<(u64, Vec<(Hash, KeyState)>)> {
        self.read(|c| {
            // One read transaction: the size and the states agree.
            c.execute_batch("BEGIN").map_err(db)?;
            let r = (|| {
                let indexed: i64 = c
                    .row("SELECT indexed FROM logs WHERE id = ?1", [log.0], |r| {
                        r.get(0)
                    })
                    .optional()
                    .map_err(db)?
                    .unwrap_or(0);
                let mut st = c
                    .prepare_cached(
                        "SELECT id, kh, count, chain FROM index_keys WHERE log = ?1 ORDER BY id",
                    )
                    .map_err(db)?;
                let states = key_states(&mut st, params![log.0])?;
                Ok((u64::try_from(indexed).unwrap_or(0), states))
            })();
            c.execute_batch("COMMIT").map_err(db)?;
            r
        })
    }

    fn index_states_at(&self, log: LogId, size: u64) -> Result<Vec<(Hash, KeyState)>> {
        self.read(|c| {
            // SQLite takes the bare columns from the row of MAX(idx).
            let mut st = c
                .prepare_cached(
                    "SELECT r.id, k.kh, r.count, r.chain, MAX(r.idx) FROM index_rows r
                     JOIN index_keys k ON k.log = r.log AND k.id = r.id
                     WHERE r.log = ?1 AND r.idx < ?2 GROUP BY r.id ORDER BY r.id",
                )
                .map_err(db)?;
            key_states(&mut st, params![log.0, i64_of(size)?])
        })
    }

    fn key_state_at(&self, log: LogId, key: u64, size: u64) -> Result<KeyState> {
        let row: Option<(i64, Vec<u8>)> = self.read(|c| {
            c.row(
                "SELECT count, chain FROM index_rows WHERE log = ?1 AND id = ?2 AND idx < ?3 ORDER BY idx DESC LIMIT 1",
                params![log.0, i64_of(key)?, i64_of(size)?],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)
        })?;
        match row {
            None => Ok(KeyState::default()),
            Some((count, chain)) => Ok(KeyState {
                count: u64::try_from(count).unwrap_or(0),
                chain: hash_from(chain)?,
            }),
        }
    }

    fn key_entries(
        &self,
        log: LogId,
        key: u64,
        size: u64,
        from_count: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT r.idx, e.leaf FROM index_rows r JOIN entries e ON e.log = r.log AND e.idx = r.idx
                     WHERE r.log = ?1 AND r.id = ?2 AND r.idx < ?3 AND r.count > ?4 ORDER BY r.idx",
                )
                .map_err(db)?;
            let rows = st
                .query_map(
                    params![log.0, i64_of(key)?, i64_of(size)?, i64_of(from_count)?],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
                )
                .map_err(db)?;
            rows.map(|r| {
                let (i, leaf) = r.map_err(db)?;
                Ok((u64::try_from(i).unwrap_or(0), leaf))
            })
            .collect()
        })
    }

    fn add_index(&self, log: LogId, first: u64, end: u64, rows: &[IndexRow]) -> Result<()> {
        let mut w = writer(self)?;
        let tx = w
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)?;
        write_index(&tx, log, first, end, rows)?;
        tx.commit().map_err(db)
    }
}

impl WitnessStore for SqliteStore {
    fn witness_advance(
        &self,
        origin: &str,
        req: &WitnessRequest<'_>,
        accept: &dyn Fn(&WitnessState) -> bool,
    ) -> Result<Advance> {
        let mut w = writer(self)?;
        // IMMEDIATE: the check and the update are one atomic step (C2SP tlog-witness).
        let tx = w
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)?;
        let current = read_witness(&tx, origin)?;
        if let Some(answer) = witness::refusal(current, req, accept) {
            return Ok(answer);
        }
        tx.run(
            "INSERT INTO witness_state (origin, size, root, note, updated) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (origin) DO UPDATE SET size = ?2, root = ?3, note = ?4, updated = ?5",
            params![origin, i64_of(req.size)?, &req.root.0[..], req.note, req.now],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Advance::Advanced)
    }

    fn witness_updated(&self, origin: &str) -> Result<Option<i64>> {
        self.one(
            "SELECT updated FROM witness_state WHERE origin = ?1",
            [origin],
        )
    }

    fn witness_state(&self, origin: &str) -> Result<Option<WitnessState>> {
        self.read(|c| read_witness(c, origin))
    }
}

impl CosignatureStore for SqliteStore {
    fn add_cosignature(
        &self,
        log: LogId,
        size: u64,
        witness: &str,
        time: u64,
        line: &str,
        merge: &dyn Fn(&[u8]) -> Vec<u8>,
    ) -> Result<()> {
        let mut w = writer(self)?;
        let tx = w.transaction().map_err(db)?;
        // Read-merge-write in one transaction: two witnesses cosigning the
        // same size at once must both end up in the stored note.
        let current: Option<Vec<u8>> = tx
            .row(
                "SELECT note FROM checkpoints WHERE log = ?1 AND size = ?2",
                params![log.0, i64_of(size)?],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        let Some(current) = current else {
            return Err(cosignatures::no_checkpoint(size));
        };
        let note_with_line = merge(&current);
        tx.run(
            "INSERT OR IGNORE INTO cosignatures (log, size, witness, time, line) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![log.0, i64_of(size)?, witness, i64_of(time)?, line],
        )
        .map_err(db)?;
        tx.run(
            "UPDATE checkpoints SET note = ?3 WHERE log = ?1 AND size = ?2",
            params![log.0, i64_of(size)?, note_with_line],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
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
        let w = writer(self)?;
        w.run(
            "INSERT OR IGNORE INTO cosignatures (log, size, witness, time, line, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![log.0, i64_of(size)?, witness, i64_of(time)?, line, note],
        )
        .map_err(db)?;
        Ok(())
    }

    fn cosignature_near(
        &self,
        log: LogId,
        time: u64,
        before: bool,
    ) -> Result<Option<CosignatureRecord>> {
        let sql = if before {
            "SELECT size, witness, time, line, note FROM cosignatures WHERE log = ?1 AND time <= ?2 ORDER BY time DESC, size DESC LIMIT 1"
        } else {
            "SELECT size, witness, time, line, note FROM cosignatures WHERE log = ?1 AND time >= ?2 ORDER BY time ASC, size ASC LIMIT 1"
        };
        self.read(|c| {
            c.row(sql, params![log.0, i64_of(time)?], |r| {
                Ok(CosignatureRecord {
                    size: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    witness: r.get(1)?,
                    time: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    line: r.get(3)?,
                    note: r.get(4)?,
                })
            })
            .optional()
            .map_err(db)
        })
    }

    fn last_cosignature(&self, log: LogId, witness: &str) -> Result<Option<(u64, u64)>> {
        self.read(|c| {
            c.row(
                "SELECT size, time FROM cosignatures WHERE log = ?1 AND witness = ?2 ORDER BY time DESC, size DESC LIMIT 1",
                params![log.0, witness],
                |r| Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0))),
            )
            .optional()
            .map_err(db)
        })
    }
}

/// The file is in the party's own directory: nothing to record, every
/// claim accepted.
impl IdentityStore for SqliteStore {
    fn record_holder(&self, who: &Holder) -> Result<Holder> {
        Ok(who.clone())
    }

    fn holder(&self) -> Result<Option<Holder>> {
        Ok(None)
    }
}

/// Held by this process alone: the directory's writer lock keeps any other out.
impl crate::store::LeaseStore for SqliteStore {}

impl EvidenceStore for SqliteStore {
    fn add_equivocation(&self, origin: &str, now: i64, bundle: &[u8]) -> Result<i64> {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(bundle).to_vec();
        let w = writer(self)?;
        w.run(
            "INSERT OR IGNORE INTO equivocations (origin, detected, bundle, digest) VALUES (?1, ?2, ?3, ?4)",
            params![origin, now, bundle, digest],
        )
        .map_err(db)?;
        w.row(
            "SELECT id FROM equivocations WHERE digest = ?1",
            [digest],
            |r| r.get(0),
        )
        .map_err(db)
    }

    fn equivocations(&self) -> Result<Vec<Evidence>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT id, origin, detected, bundle FROM equivocations ORDER BY id",
                )
                .map_err(db)?;
            let rows = st
                .query_map([], |r| {
                    Ok(Evidence {
                        id: r.get(0)?,
                        origin: r.get(1)?,
                        detected: r.get(2)?,
                        bundle: r.get(3)?,
                    })
                })
                .map_err(db)?;
            rows.map(|r| r.map_err(db)).collect()
        })
    }
}

/// The writer connection, for writes outside the sequencer's appends.
fn writer(s: &SqliteStore) -> Result<std::sync::MutexGuard<'_, Connection>> {
    s.writer.lock().map_err(|_| StoreError::Poisoned("writer"))
}

/// Writes the index rows of entries `[first, end)` of `log` and the keys'
/// new states, inside `tx`; the index must cover exactly `first` entries,
/// and a key new to it must take the next id.
fn write_index(
    tx: &rusqlite::Transaction<'_>,
    log: LogId,
    first: u64,
    end: u64,
    rows: &[IndexRow],
) -> Result<()> {
    let indexed: i64 = tx
        .row("SELECT indexed FROM logs WHERE id = ?1", [log.0], |r| {
            r.get(0)
        })
        .map_err(db)?;
    if indexed != i64_of(first)? {
        return Err(index::not_following(
            log,
            u64::try_from(indexed).unwrap_or(0),
            first,
        ));
    }
    let mut next: i64 = tx
        .row(
            "SELECT COALESCE(MAX(id) + 1, 0) FROM index_keys WHERE log = ?1",
            [log.0],
            |r| r.get(0),
        )
        .map_err(db)?;
    let mut row = tx
        .prepare_cached(
            "INSERT INTO index_rows (log, id, idx, count, chain) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db)?;
    let mut new_key = tx
        .prepare_cached(
            "INSERT INTO index_keys (log, id, kh, count, chain) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db)?;
    // The hash is part of the match: a row naming a key by the id of
    // another changes nothing and is refused.
    let mut known_key = tx
        .prepare_cached(
            "UPDATE index_keys SET count = ?4, chain = ?5 WHERE log = ?1 AND id = ?2 AND kh = ?3",
        )
        .map_err(db)?;
    // Each key's state is written once per batch, its last: a channel key
    // that fifty entries of a batch share costs one update, not fifty.
    let mut last: std::collections::HashMap<i64, (usize, &IndexRow)> =
        std::collections::HashMap::new();
    // Where each key new in this batch was inserted (with that row's state).
    let mut inserted: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for (n, r) in rows.iter().enumerate() {
        let is_new = index::row_is_new_key(log, r, first, end, u64::try_from(next).unwrap_or(0))?;
        let id = i64_of(r.key)?;
        let count = i64_of(r.state.count)?;
        if is_new {
            let key = params![log.0, id, &r.kh.0[..], count, &r.state.chain.0[..]];
            new_key.execute(key).map_err(db)?;
            inserted.insert(id, n);
            next += 1;
        }
        if let Some((_, seen)) = last.get(&id)
            && seen.kh.0 != r.kh.0
        {
            return Err(index::another_key(log, r));
        }
        last.insert(id, (n, r));
        row.execute(params![
            log.0,
            id,
            i64_of(r.index)?,
            count,
            &r.state.chain.0[..]
        ])
        .map_err(db)?;
    }
    let mut updates: Vec<_> = last.into_iter().collect();
    updates.sort_unstable_by_key(|(id, _)| *id);
    for (id, (n, r)) in updates {
        // A key inserted by its last row of the batch holds that state
        // already. Any other is matched by its hash too, so a row naming a
        // key by the id of another changes nothing and is refused.
        if inserted.get(&id) == Some(&n) {
            continue;
        }
        let key = params![
            log.0,
            id,
            &r.kh.0[..],
            i64_of(r.state.count)?,
            &r.state.chain.0[..]
        ];
        if known_key.execute(key).map_err(db)? == 0 {
            return Err(index::another_key(log, r));
        }
    }
    tx.run(
        "UPDATE logs SET indexed = ?2 WHERE id = ?1",
        params![log.0, i64_of(end)?],
    )
    .map_err(db)?;
    Ok(())
}

/// Runs a query whose first columns are `(id, kh, count, chain)`, in id
/// order: the ids must be 0, 1, … (a key's id is its position).
fn key_states(
    st: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<(Hash, KeyState)>> {
    let rows = st
        .query_map(params, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .map_err(db)?;
    rows.enumerate()
        .map(|(at, r)| {
            let (id, kh, count, chain) = r.map_err(db)?;
            if usize::try_from(id).ok() != Some(at) {
                return Err(StoreError::Corrupt(format!(
                    "index key {id} where key {at} was expected: the key ids have a gap"
                )));
            }
            Ok((
                hash_from(kh)?,
                KeyState {
                    count: u64::try_from(count).unwrap_or(0),
                    chain: hash_from(chain)?,
                },
            ))
        })
        .collect()
}

/// Runs a query whose rows are `(idx, leaf, leaf_hash)`.
fn stored_leaves(
    st: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredLeaf>> {
    let rows = st
        .query_map(params, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .map_err(db)?;
    rows.map(|r| {
        let (i, leaf, h) = r.map_err(db)?;
        Ok(StoredLeaf {
            index: u64::try_from(i).unwrap_or(0),
            leaf,
            leaf_hash: hash_from(h)?,
        })
    })
    .collect()
}

fn read_witness(c: &Connection, origin: &str) -> Result<Option<WitnessState>> {
    let row: Option<(i64, Vec<u8>, Vec<u8>)> = c
        .row(
            "SELECT size, root, note FROM witness_state WHERE origin = ?1",
            [origin],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(db)?;
    row.map(|(size, root, note)| {
        Ok(WitnessState {
            size: u64::try_from(size).unwrap_or(0),
            root: hash_from(root)?,
            note,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_is_checkpointed_beside_the_writer() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("hotline.db");
        let store = SqliteStore::open(&path).unwrap();
        let blob = vec![7u8; 1 << 20];
        {
            let w = store.writer.lock().unwrap();
            w.execute_batch("CREATE TABLE t (b BLOB)").unwrap();
            // 20 commits of 1 MiB, some 65 WAL frames of 16 KiB each: the
            // WAL passes 1,000 pages at the 15th or 16th.
            for _ in 0..20 {
                w.run("INSERT INTO t VALUES (?1)", [&blob]).unwrap();
            }
        }
        let counts = || store._checkpoints.as_ref().unwrap().counts();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while counts().0 == 0 && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(counts().0 >= 1, "the thread ran no checkpoint");
        assert_eq!(counts().1, 0, "a commit checkpointed inline");
        // The database file itself, without its WAL, holds what was
        // committed before the WAL passed the threshold (12 is below
        // either count, whatever the exact frames per commit).
        let copy = tmp.path().join("copy.db");
        let file_rows = || {
            std::fs::copy(&path, &copy).unwrap();
            let n: i64 = Connection::open(&copy)
                .unwrap()
                .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                .unwrap();
            std::fs::remove_file(&copy).unwrap();
            n
        };
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while file_rows() < 12 && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(file_rows() >= 12, "{} rows in the file", file_rows());
        // Dropping the store stops and joins the thread (a hang fails the
        // test by its timeout).
        drop(store);
    }

    #[test]
    fn a_new_database_has_large_pages_and_an_old_one_keeps_its_own() {
        let tmp = tempfile::tempdir().unwrap();
        let page = |path: &Path| -> u32 {
            Connection::open(path)
                .unwrap()
                .pragma_query_value(None, "page_size", |r| r.get(0))
                .unwrap()
        };
        let new = tmp.path().join("new.db");
        let store = SqliteStore::open(&new).unwrap();
        store.log_id("example.org/log", "us").unwrap();
        drop(store);
        assert_eq!(page(&new), PAGE_SIZE);
        // A database an older version made, with SQLite's default pages
        // and already in WAL mode: opened, migrated, written and read.
        let old = tmp.path().join("old.db");
        let c = Connection::open(&old).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        drop(c);
        assert_eq!(page(&old), 4096);
        let store = SqliteStore::open(&old).unwrap();
        let log = store.log_id("example.org/log", "us").unwrap();
        assert_eq!(store.size(log).unwrap(), 0);
        drop(store);
        assert_eq!(page(&old), 4096);
    }

    /// The cache is worth something only if SQLite does not re-plan what it
    /// hands back: a statement whose plan depends on a bound value (STAT4)
    /// is re-parsed at each use unless [`plan_once`] holds.
    #[test]
    fn a_cached_statement_is_parsed_once() {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&tmp.path().join("hotline.db")).unwrap();
        let log = store.log_id("example.org/log", "us").unwrap();
        const SIZE: &str = "SELECT MAX(idx) FROM entries WHERE log = ?1";
        let reprepared = |c: &Connection| {
            c.prepare_cached(SIZE)
                .unwrap()
                .get_status(rusqlite::StatementStatus::RePrepare)
        };
        for _ in 0..(4 * READERS) {
            assert_eq!(store.size(log).unwrap(), 0);
            let w = store.writer.lock().unwrap();
            w.row(SIZE, [log.0], |r| r.get::<_, Option<i64>>(0))
                .unwrap();
        }
        assert_eq!(reprepared(&store.writer.lock().unwrap()), 0, "writer");
        for (i, r) in store.readers.iter().enumerate() {
            assert_eq!(reprepared(&r.lock().unwrap()), 0, "reader {i}");
        }
    }
}
