//! The console's own database, `console.sqlite3` in the node directory:
//! operators, their sessions and their read marks.
//!
//! Kept apart from the node's `hotline.db` so that the console's tables
//! have their own migrations and schema version, and the log's store knows
//! nothing of who clicks what. Older versions kept these tables in
//! `hotline.db`; their rows are copied over once, at the first open, and
//! the old tables are left there untouched (read only, never dropped), so
//! that going back to an older build finds them as it left them.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, Transaction, params};

use hotline_node::dir::NodeDir;
use hotline_node::store::sqlite::{Cached as _, configure};
use hotline_node::store::{Result, StoreError};

/// The file's name in the node directory.
pub const FILE: &str = "console.sqlite3";

/// The console's migrations, in order; their count is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_console.sql"),
    include_str!("../migrations/0002_taxii.sql"),
    include_str!("../migrations/0003_taxii_index.sql"),
];

/// The columns `operator_row` reads, in its order.
const OPERATOR_COLUMNS: &str =
    "name, offices, admin, password_hash, failures, locked_until, created";

/// The tables copied from an older `hotline.db` with the columns copied, in
/// an order that keeps the sessions' foreign key satisfied.
const CARRIED: [(&str, &str); 3] = [
    ("operators", OPERATOR_COLUMNS),
    ("sessions", "token_hash, operator, csrf, created, last_seen"),
    ("console_seen", "operator, channel, idx"),
];

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::from(e)
}

/// A console operator as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorRow {
    /// Login name.
    pub name: String,
    /// Offices it may act for, as written (`us/fbi`).
    pub offices: Vec<String>,
    /// Whether it may manage the console (an admin).
    pub admin: bool,
    /// Argon2id hash, PHC string format.
    pub password_hash: String,
    /// Consecutive failed logins.
    pub failures: u32,
    /// A lock an older version set after failed logins (Unix seconds);
    /// no longer set nor obeyed, cleared at the next successful login.
    pub locked_until: Option<i64>,
    /// When it was added (Unix seconds).
    pub created: i64,
}

/// A console session as stored: never the token itself, only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the session token.
    pub token_hash: [u8; 32],
    /// The operator's name.
    pub operator: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Login time (Unix seconds).
    pub created: i64,
    /// Last request (Unix seconds).
    pub last_seen: i64,
}

/// The console's database. One connection: its writes are few and small (a
/// login, a read mark) and its reads single rows, so requests gain nothing
/// from a pool of readers.
pub struct ConsoleStore {
    conn: Mutex<Connection>,
}

impl ConsoleStore {
    /// Opens the console database of node directory `dir`, creating and
    /// migrating it, and at the first open copying the rows an older version
    /// kept in the directory's `hotline.db`.
    pub fn open(dir: &NodeDir) -> Result<Self> {
        Self::open_at(&dir.root().join(FILE), &dir.db())
    }

    /// [`ConsoleStore::open`] for a database at `path`, carrying over from
    /// the node database at `node_db` (absent: nothing to carry).
    pub fn open_at(path: &Path, node_db: &Path) -> Result<Self> {
        create_private(path)?;
        let mut c = Connection::open(path).map_err(db)?;
        configure(&c)?;
        migrate(&mut c)?;
        carry_over(&mut c, node_db)?;
        Ok(Self {
            conn: Mutex::new(c),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Poisoned("console database"))
    }

    /// The console's read mark: the highest mirror index `operator` has seen
    /// on `channel`.
    pub fn seen_mark(&self, operator: &str, channel: &str) -> Result<Option<u64>> {
        let n: Option<i64> = self
            .conn()?
            .row(
                "SELECT idx FROM console_seen WHERE operator = ?1 AND channel = ?2",
                params![operator, channel],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        Ok(n.and_then(|n| u64::try_from(n).ok()))
    }

    /// Moves the read mark forward (never back).
    pub fn set_seen_mark(&self, operator: &str, channel: &str, index: u64) -> Result<()> {
        let index = i64::try_from(index)
            .map_err(|_| StoreError::Corrupt(format!("{index} does not fit SQLite's integer")))?;
        self.conn()?
            .run(
                "INSERT INTO console_seen (operator, channel, idx) VALUES (?1, ?2, ?3)
                 ON CONFLICT (operator, channel) DO UPDATE SET idx = MAX(idx, excluded.idx)",
                params![operator, channel, index],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Adds an operator; `false` if one of that name exists (nothing changed).
    pub fn add_operator(&self, op: &OperatorRow) -> Result<bool> {
        let offices = serde_json::to_string(&op.offices).map_err(StoreError::Encode)?;
        let n = self
            .conn()?
            .run(
                "INSERT INTO operators (name, offices, admin, password_hash, failures, locked_until, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO NOTHING",
                params![
                    op.name,
                    offices,
                    op.admin,
                    op.password_hash,
                    op.failures,
                    op.locked_until,
                    op.created
                ],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// Every operator, by name.
    pub fn operators(&self) -> Result<Vec<OperatorRow>> {
        let c = self.conn()?;
        let mut st = c
            .prepare_cached(&format!(
                "SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY name"
            ))
            .map_err(db)?;
        let rows = st.query_map([], operator_row).map_err(db)?;
        rows.map(|r| r.map_err(db)?).collect()
    }

    /// One operator.
    pub fn operator(&self, name: &str) -> Result<Option<OperatorRow>> {
        self.conn()?
            .row(
                &format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE name = ?1"),
                [name],
                operator_row,
            )
            .optional()
            .map_err(db)?
            .transpose()
    }

    /// Replaces an operator's password hash and, in the same transaction,
    /// ends its sessions; `false` if there is no such operator.
    pub fn set_operator_password(&self, name: &str, password_hash: &str) -> Result<bool> {
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let n = tx
            .run(
                "UPDATE operators SET password_hash = ?2 WHERE name = ?1",
                params![name, password_hash],
            )
            .map_err(db)?;
        tx.run("DELETE FROM sessions WHERE operator = ?1", [name])
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(n == 1)
    }

    /// Removes an operator with its sessions; `false` if there is none.
    pub fn remove_operator(&self, name: &str) -> Result<bool> {
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        // Explicit, so the sessions go even on a connection without foreign keys.
        tx.run("DELETE FROM sessions WHERE operator = ?1", [name])
            .map_err(db)?;
        let n = tx
            .run("DELETE FROM operators WHERE name = ?1", [name])
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(n == 1)
    }

    /// Clears an operator's failure count and lock; `false` if there is none.
    pub fn unlock_operator(&self, name: &str) -> Result<bool> {
        let n = self
            .conn()?
            .run(
                "UPDATE operators SET failures = 0, locked_until = NULL WHERE name = ?1",
                [name],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// Counts one failed login in a single atomic update. Returns the new
    /// count, or `None` if there is no such operator.
    pub fn operator_login_failed(&self, name: &str) -> Result<Option<u32>> {
        // One statement, so that concurrent failures are each counted.
        self.conn()?
            .row(
                "UPDATE operators SET failures = failures + 1 WHERE name = ?1 RETURNING failures",
                [name],
                |r| r.get::<_, u32>(0),
            )
            .optional()
            .map_err(db)
    }

    /// A successful login, atomically: only if the operator still has
    /// `password_hash`, resets its failures (and an old lock), deletes
    /// sessions idle since `idle_before` or created before `created_before`,
    /// and stores `session`. `false` if the operator changed meanwhile
    /// (nothing stored).
    pub fn operator_login_succeeded(
        &self,
        password_hash: &str,
        session: &SessionRow,
        idle_before: i64,
        created_before: i64,
    ) -> Result<bool> {
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        // Only the operator whose password was just checked (not one given
        // a new password meanwhile). A lock an older version set is lifted:
        // failures no longer lock.
        let n = tx
            .run(
                "UPDATE operators SET failures = 0, locked_until = NULL
                 WHERE name = ?1 AND password_hash = ?2",
                params![session.operator, password_hash],
            )
            .map_err(db)?;
        if n != 1 {
            return Ok(false);
        }
        tx.run(
            "DELETE FROM sessions WHERE last_seen <= ?1 OR created <= ?2",
            params![idle_before, created_before],
        )
        .map_err(db)?;
        tx.run(
            "INSERT INTO sessions (token_hash, operator, csrf, created, last_seen) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                &session.token_hash[..],
                session.operator,
                session.csrf,
                session.created,
                session.last_seen
            ],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    /// A session by the SHA-256 of its token, with its operator.
    pub fn operator_session(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(SessionRow, OperatorRow)>> {
        let cols = OPERATOR_COLUMNS
            .split(", ")
            .map(|c| format!("o.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.conn()?
            .row(
                &format!(
                    "SELECT s.csrf, s.created, s.last_seen, {cols}
                     FROM sessions s JOIN operators o ON o.name = s.operator
                     WHERE s.token_hash = ?1"
                ),
                [&token_hash[..]],
                |r| {
                    let (csrf, created, last_seen) = (r.get(0)?, r.get(1)?, r.get(2)?);
                    Ok(operator_row_at(r, 3)?.map(|op| {
                        let session = SessionRow {
                            token_hash: *token_hash,
                            operator: op.name.clone(),
                            csrf,
                            created,
                            last_seen,
                        };
                        (session, op)
                    }))
                },
            )
            .optional()
            .map_err(db)?
            .transpose()
    }

    /// Moves a session's `last_seen` forward to `now` (never back).
    pub fn touch_operator_session(&self, token_hash: &[u8; 32], now: i64) -> Result<()> {
        self.conn()?
            .run(
                "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1 AND last_seen < ?2",
                params![&token_hash[..], now],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Ends one session (unknown tokens are not an error).
    pub fn end_operator_session(&self, token_hash: &[u8; 32]) -> Result<()> {
        self.conn()?
            .run(
                "DELETE FROM sessions WHERE token_hash = ?1",
                [&token_hash[..]],
            )
            .map_err(db)?;
        Ok(())
    }
    /// Keeps a TAXII token's hash for `operator`; `false` if there is no
    /// such operator.
    pub fn add_taxii_token(&self, token_hash: &[u8; 32], operator: &str, now: i64) -> Result<bool> {
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let exists: Option<i64> = tx
            .row("SELECT 1 FROM operators WHERE name = ?1", [operator], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?;
        if exists.is_none() {
            return Ok(false);
        }
        tx.run(
            "INSERT INTO taxii_tokens (token_hash, operator, created) VALUES (?1, ?2, ?3)",
            params![&token_hash[..], operator, now],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    /// The operator a TAXII token (by its SHA-256) belongs to.
    pub fn taxii_token_operator(&self, token_hash: &[u8; 32]) -> Result<Option<OperatorRow>> {
        let cols = OPERATOR_COLUMNS
            .split(", ")
            .map(|c| format!("o.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.conn()?
            .row(
                &format!(
                    "SELECT {cols} FROM taxii_tokens t JOIN operators o ON o.name = t.operator
                     WHERE t.token_hash = ?1"
                ),
                [&token_hash[..]],
                operator_row,
            )
            .optional()
            .map_err(db)?
            .transpose()
    }

    /// Keeps a TAXII status resource (JSON) answered to `operator`.
    ///
    /// Committed without waiting for the disk (`synchronous = NORMAL` for
    /// this one write; the database's next full commit syncs it too). The
    /// objects it reports are already durable in the log entry that carries
    /// them, and the POST's answer is the status itself, complete, so a
    /// status lost to a power cut costs only a later `GET` of it, never an
    /// object. The fsync it saves (about 0.3 ms on the test machines) was on
    /// the way to every POST's answer.
    pub fn add_taxii_status(
        &self,
        id: &str,
        operator: &str,
        root: &str,
        body: &str,
        now: i64,
    ) -> Result<()> {
        let c = self.conn()?;
        c.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
        let written = c.run(
            "INSERT INTO taxii_status (id, operator, root, body, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, operator, root, body, now],
        );
        c.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        written.map_err(db)?;
        Ok(())
    }

    /// A TAXII status resource, only for the operator it was answered to.
    pub fn taxii_status(&self, id: &str, operator: &str, root: &str) -> Result<Option<String>> {
        self.conn()?
            .row(
                "SELECT body FROM taxii_status WHERE id = ?1 AND operator = ?2 AND root = ?3",
                params![id, operator, root],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)
    }
}

impl ConsoleStore {
    /// Runs `f` on the connection (TAXII's index reads).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        f(&*self.conn()?).map_err(db)
    }

    /// Runs `f` in one immediate transaction, committed if it returns
    /// `Ok` (TAXII's index catching up).
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut c = self.conn()?;
        let tx = immediate(&mut c)?;
        let out = f(&tx).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }
}

fn immediate(c: &mut Connection) -> Result<Transaction<'_>> {
    c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db)
}

/// Creates `path` empty with mode 0600 whatever the umask (SQLite gives its
/// WAL and shared-memory files the database's mode).
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    use std::os::unix::fs::PermissionsExt as _;
    let failed = |source| StoreError::Create {
        path: path.to_owned(),
        source,
    };
    let made = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match made {
        Ok(f) => f
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(failed),
        // There already, or made meanwhile by another process.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(failed(e)),
    }
}

/// Brings the schema to this build's version. Each step runs in an
/// immediate transaction, so two processes opening the console at once
/// (`hotline serve` and `hotline operator`) migrate it once.
fn migrate(c: &mut Connection) -> Result<()> {
    c.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(db)?;
    let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    loop {
        let tx = immediate(c)?;
        let have: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if have > supported {
            return Err(StoreError::TooNew {
                found: have,
                supported,
            });
        }
        let Some(sql) = MIGRATIONS.get(usize::try_from(have).unwrap_or(usize::MAX)) else {
            return Ok(());
        };
        tx.execute_batch(sql).map_err(db)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [have + 1],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
    }
}

/// Copies, once, the operators, sessions and read marks an older version
/// kept in the node database `node_db`, which is opened read-only. The copy
/// and its record in `carried_over` commit together, so it runs exactly once
/// even when interrupted or raced by another process.
fn carry_over(c: &mut Connection, node_db: &Path) -> Result<()> {
    let tx = immediate(c)?;
    let done: i64 = tx
        .query_row("SELECT COUNT(*) FROM carried_over", [], |r| r.get(0))
        .map_err(db)?;
    if done > 0 {
        return Ok(());
    }
    let mut copied = [0i64; 3];
    if node_db.exists() {
        let old =
            Connection::open_with_flags(node_db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(db)?;
        old.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        for ((table, cols), n) in CARRIED.iter().zip(&mut copied) {
            *n = copy_table(&old, &tx, table, cols)?;
        }
    }
    tx.execute(
        "INSERT INTO carried_over (at, operators, sessions, seen_marks) VALUES (?1, ?2, ?3, ?4)",
        params![
            hotline_node::clock::now().as_second(),
            copied[0],
            copied[1],
            copied[2]
        ],
    )
    .map_err(db)?;
    tx.commit().map_err(db)
}

/// Copies the rows of `table` (columns `cols`) from `old` into `tx`, if
/// `old` has that table; returns how many were copied.
fn copy_table(old: &Connection, tx: &Transaction<'_>, table: &str, cols: &str) -> Result<i64> {
    let present: i64 = old
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .map_err(db)?;
    if present == 0 {
        return Ok(0);
    }
    let width = cols.split(", ").count();
    let marks = (1..=width)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut read = old
        .prepare(&format!("SELECT {cols} FROM {table}"))
        .map_err(db)?;
    let mut write = tx
        .prepare(&format!(
            "INSERT OR IGNORE INTO {table} ({cols}) VALUES ({marks})"
        ))
        .map_err(db)?;
    let mut rows = read.query([]).map_err(db)?;
    let mut n = 0;
    while let Some(r) = rows.next().map_err(db)? {
        let values = (0..width)
            .map(|i| r.get::<_, rusqlite::types::Value>(i))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?;
        n += i64::try_from(
            write
                .execute(rusqlite::params_from_iter(values))
                .map_err(db)?,
        )
        .unwrap_or(0);
    }
    Ok(n)
}

fn operator_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<OperatorRow>> {
    operator_row_at(r, 0)
}

/// An operator from `OPERATOR_COLUMNS` starting at column `at`; the inner
/// error is a stored offices list that is not a JSON array of strings.
fn operator_row_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Result<OperatorRow>> {
    let name: String = r.get(at)?;
    let offices: String = r.get(at + 1)?;
    let row = OperatorRow {
        offices: Vec::new(),
        admin: r.get(at + 2)?,
        password_hash: r.get(at + 3)?,
        failures: r.get(at + 4)?,
        locked_until: r.get(at + 5)?,
        created: r.get(at + 6)?,
        name,
    };
    Ok(match serde_json::from_str::<Vec<String>>(&offices) {
        Ok(offices) => Ok(OperatorRow { offices, ..row }),
        Err(e) => Err(StoreError::Corrupt(format!(
            "operator {}: offices {offices:?} are not a JSON list: {e}",
            row.name
        ))),
    })
}

#[cfg(test)]
mod tests;
