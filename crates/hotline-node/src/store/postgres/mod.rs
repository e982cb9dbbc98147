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
use std::time::Duration;

use hotline_proto::Hash;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use super::{Result, StoreError};

/// Connections that serve reads alongside the writer.
const READERS: usize = 4;

/// PostgreSQL storage: one writer connection (appends and other writes, one
/// transaction at a time) and a few reader connections.
pub struct PostgresStore {
    writer: Mutex<Client>,
    readers: Vec<Client>,
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
        Self::open_with(url, migrate::migrate)
    }

    /// Connects to the database at `url` to read it beside the node that
    /// writes it: nothing is migrated, and a schema newer than this build's
    /// is refused.
    pub fn open_read_only(url: &str) -> Result<Self> {
        Self::open_with(url, migrate::check)
    }

    fn open_with(url: &str, schema: fn(&mut Client) -> Result<()>) -> Result<Self> {
        let config: Config = url.parse().map_err(|source| StoreError::Connect {
            target: "the configured PostgreSQL URL".into(),
            source,
        })?;
        let target = redacted(&config);
        let mut writer = connect(&config, &target)?;
        schema(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| connect(&config, &target))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            writer: Mutex::new(writer),
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

    fn reader(&self) -> &Client {
        &self.readers[self.next.fetch_add(1, Ordering::Relaxed) % self.readers.len()]
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, Client>> {
        self.writer
            .lock()
            .map_err(|_| StoreError::Poisoned("writer"))
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
            Ok(source) => StoreError::Connect {
                target: target.to_owned(),
                source: *source,
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
