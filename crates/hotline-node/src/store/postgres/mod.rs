//! The PostgreSQL engine: every store role on a PostgreSQL database, for a
//! party that outgrows one machine. Same semantics as `sqlite`: an append
//! and its index rows are one transaction, gaps and overlaps are refused,
//! and a commit that returned is durable (`synchronous_commit` stays on).
//!
//! - `log`: [`LogStore`](super::LogStore), appends and reads of leaves, hashes, checkpoints.
//! - `queries`: [`EntryQueries`](super::EntryQueries), entries by header fields.
//! - `index`: [`IndexStore`](super::IndexStore), index rows and key states.
//! - `lease`: [`LeaseStore`](super::LeaseStore), the sequencer lease of replicas.
//! - `records`: witness state, cosignatures and equivocation evidence.
//! - `conn`: a connection and the statements prepared on it.
//! - `identity`: [`IdentityStore`](super::IdentityStore), the party whose log the database holds.
//! - `migrate`: the SQL migrations and the schema version.
//! - `testing` (tests only): one throwaway server per test process, a database per test.
//!
//! The store's traits are synchronous and called from async handlers as
//! well as blocking threads. `tokio-postgres` is used because its client's
//! futures only talk to the connection over channels: each connection's I/O
//! runs on a thread of its own (with its own small runtime), and a call
//! waits on the client's future with [`wait`], which parks the calling
//! thread and never enters a runtime — so it cannot panic inside one, as
//! the synchronous `postgres` crate's `block_on` does.
//!
//! A connection the server dropped (a restart, a lost primary, a backend
//! terminated) is replaced on its next use: `reconnect` retries for up
//! to 10 s (`RECONNECT_FOR`) with the same parsed URL, so a multi-host URL with
//! `target_session_attrs=read-write` finds whichever server is now the
//! primary. A transaction that was in flight when its connection died
//! fails and is never reported durable; the next call starts afresh.

mod conn;
mod identity;
mod index;
mod lease;
mod log;
mod migrate;
mod queries;
mod records;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use hotline_proto::Hash;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use conn::Conn;

use super::{Result, StoreError};

/// Connections that serve reads alongside the writer, in a node.
const READERS: usize = 4;

/// How long a dropped connection is retried before the call fails: long
/// enough for a standby to be promoted.
const RECONNECT_FOR: Duration = Duration::from_secs(10);

/// PostgreSQL storage: one writer connection (appends and other writes, one
/// transaction at a time) and a few reader connections, each replaced when
/// the server has dropped it.
pub struct PostgresStore {
    config: Config,
    writer: Mutex<Conn>,
    readers: Vec<Mutex<Arc<Conn>>>,
    next: AtomicUsize,
    target: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgresql://` URL or libpq
    /// `key=value` string) and migrates it to this build's schema.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, migrate::migrate, READERS)
    }

    /// Connects to the database at `url` to read it beside the node that
    /// writes it: nothing is migrated, and a schema newer than this build's
    /// is refused. One command's reads need one reader connection.
    pub fn open_read_only(url: &str) -> Result<Self> {
        Self::open_with(url, migrate::check, 1)
    }

    fn open_with(url: &str, schema: fn(&mut Client) -> Result<()>, readers: usize) -> Result<Self> {
        let config: Config = url.parse().map_err(|error| StoreError::Connect {
            target: "the configured PostgreSQL URL".into(),
            error,
        })?;
        let target = redacted(&config);
        let mut writer = connect(&config, &target)?;
        schema(&mut writer)?;
        let readers = (0..readers)
            .map(|_| connect(&config, &target).map(|c| Mutex::new(Arc::new(Conn::new(c)))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            config,
            writer: Mutex::new(Conn::new(writer)),
            readers,
            next: AtomicUsize::new(0),
            target,
        })
    }

    /// The server and database, without the password: what logs and
    /// errors may show.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The next reader connection, reconnected first if the server dropped
    /// it. When it cannot be, the dead one is returned, and the call fails
    /// with "connection closed" (the reason is logged).
    fn reader(&self) -> Arc<Conn> {
        let slot = &self.readers[self.next.fetch_add(1, Ordering::Relaxed) % self.readers.len()];
        // A panic elsewhere leaves the client as good as it was.
        let mut client = slot.lock().unwrap_or_else(|e| e.into_inner());
        if client.is_closed() {
            match reconnect(&self.config, &self.target) {
                Ok(c) => *client = Arc::new(Conn::new(c)),
                Err(e) => tracing::warn!(target = %self.target, "reconnecting a reader: {e}"),
            }
        }
        Arc::clone(&client)
    }

    /// The writer connection, reconnected first if the server dropped it.
    fn writer(&self) -> Result<std::sync::MutexGuard<'_, Conn>> {
        let mut w = self
            .writer
            .lock()
            .map_err(|_| StoreError::Poisoned("writer"))?;
        if w.is_closed() {
            *w = Conn::new(reconnect(&self.config, &self.target)?);
        }
        Ok(w)
    }
}

/// Connects again after the server dropped a connection: tries for up to
/// [`RECONNECT_FOR`], backing off from 50 ms to 1 s between tries, then
/// fails with the last error. Each try goes through every host of the URL.
fn reconnect(config: &Config, target: &str) -> Result<Client> {
    let deadline = Instant::now() + RECONNECT_FOR;
    let mut pause = Duration::from_millis(50);
    loop {
        match connect(config, target) {
            Ok(c) => {
                tracing::info!(target, "reconnected to PostgreSQL");
                return Ok(c);
            }
            Err(e) if Instant::now() + pause < deadline => {
                tracing::debug!(target, "reconnecting to PostgreSQL: {e}");
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            Err(e) => return Err(e),
        }
    }
}

/// `url` as logs and errors may show it: user, hosts, ports and database,
/// never the password.
pub fn redact(url: &str) -> String {
    url.parse::<Config>().map_or_else(
        |_| "an unparsable PostgreSQL URL".to_owned(),
        |c| redacted(&c),
    )
}

fn redacted(c: &Config) -> String {
    let ports = c.get_ports();
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(h) => h.clone(),
                Host::Unix(p) => p.display().to_string(),
            };
            match ports.get(i).or(ports.first()) {
                Some(p) => format!("{host}:{p}"),
                None => host,
            }
        })
        .collect();
    let user = c.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let db = c.get_dbname().unwrap_or("");
    format!("postgresql://{user}{}/{db}", hosts.join(","))
}

/// Opens one connection, whose I/O runs on a thread of its own until the
/// client is dropped.
fn connect(config: &Config, target: &str) -> Result<Client> {
    let mut config = config.clone();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    // A server machine that vanished without closing its sockets fails the
    // call in flight within this, instead of never: its connection is then
    // closed, and the next call reconnects.
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(Duration::from_secs(15));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("hotline-postgres".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>));
                    return;
                }
            };
            rt.block_on(async move {
                match config.connect(NoTls).await {
                    Ok((client, connection)) => {
                        if tx.send(Ok(client)).is_ok() {
                            // Ends when the client is dropped or the server goes away.
                            let _ = connection.await;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(Box::new(e)));
                    }
                }
            });
        })
        .map_err(|e| StoreError::Start(Box::new(e)))?;
    let client = rx
        .recv()
        .map_err(|_| StoreError::Poisoned("connection thread"))?
        .map_err(|e| match e.downcast::<tokio_postgres::Error>() {
            Ok(error) => StoreError::Connect {
                target: target.to_owned(),
                error: *error,
            },
            Err(e) => StoreError::Start(e),
        })?;
    // Durable on commit whatever the server's default says.
    wait(client.batch_execute("SET synchronous_commit = on")).map_err(pg)?;
    Ok(client)
}

/// Waits for a client future on the calling thread. The future needs no
/// runtime (the connection's thread does the I/O), so this is safe from
/// async handlers and blocking threads alike; like SQLite, it blocks the thread.
pub(super) fn wait<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

fn pg(e: tokio_postgres::Error) -> StoreError {
    StoreError::Postgres(e)
}

/// A client error in one line with what the server said: for an error the
/// server reported, its severity, message, SQLSTATE code, detail and hint
/// (`ERROR: relation "x" does not exist (SQLSTATE 42P01)`), not the
/// client's bare "db error"; otherwise the client's words and their cause
/// ("error connecting to server: Connection refused"). Neither holds the
/// password: the server never repeats one, and the client's messages name
/// no connection parameters.
pub(crate) fn said(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut out = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(detail) = db.detail() {
            out.push_str("; detail: ");
            out.push_str(detail);
        }
        if let Some(hint) = db.hint() {
            out.push_str("; hint: ");
            out.push_str(hint);
        }
        return out.replace('\n', " ");
    }
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

fn hash_from(blob: Vec<u8>) -> Result<Hash> {
    blob.try_into()
        .map(Hash)
        .map_err(|_| StoreError::Corrupt("stored hash is not 32 bytes".into()))
}

fn i64_of(n: u64) -> Result<i64> {
    i64::try_from(n)
        .map_err(|_| StoreError::Corrupt(format!("{n} does not fit PostgreSQL's bigint")))
}

fn u64_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// One column of a row, an error (not a panic) when its type is not `T`.
fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    i: usize,
) -> Result<T> {
    row.try_get(i).map_err(pg)
}

/// Rows of `(idx, leaf, leaf_hash)` as stored leaves.
fn stored_leaves(rows: &[tokio_postgres::Row]) -> Result<Vec<super::StoredLeaf>> {
    rows.iter()
        .map(|r| {
            Ok(super::StoredLeaf {
                index: u64_of(col(r, 0)?),
                leaf: col(r, 1)?,
                leaf_hash: hash_from(col(r, 2)?)?,
            })
        })
        .collect()
}
